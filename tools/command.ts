/**
 * The shape of an `ffnet` subcommand, what the CLI hands it, and the error it throws.
 *
 * Each module in tools/commands/ exports one {@link Command}; tools/commands/index.ts lists them and
 * tools/cli.ts parses the global options (-p, --json, --help) and the command's own with
 * node:util's parseArgs before calling {@link Command.run}.
 */
import type { ParseArgsConfig } from 'node:util';
import type { CtlClient } from './client.js';

/** Parsed option values: strings, booleans, or arrays of them for `multiple` options. */
export type OptionValues = Record<string, string | boolean | Array<string | boolean> | undefined>;

/** What a command's run() gets. */
export interface CommandContext {
  /** The command's parsed options (and the global ones: pid, json, help). */
  values: OptionValues;
  /** Positional arguments after the command name. */
  positionals: string[];
  /** --json: print the data as JSON instead of the table for people. */
  json: boolean;
  /** -p/--pid: a pid, program name or EAL file prefix; undefined = the only running stack. */
  target?: string;
  /** Writes one line (a newline is appended) to stdout. */
  out: (s: string) => void;
  /** Connects to the target stack (see connectStack). The CLI closes it after run() returns. */
  connect(): Promise<CtlClient>;
}

/** An `ffnet` subcommand. */
export interface Command {
  /** As typed: `netstat`. */
  name: string;
  /** One line for `ffnet --help`. */
  summary: string;
  /** The synopsis and the explanation printed by `ffnet <name> --help` (without the global options). */
  usage: string;
  /** The command's own options (merged with the global ones). */
  options?: ParseArgsConfig['options'];
  allowPositionals?: boolean;
  /** Words that look like options but are positionals of this command, wherever they stand (FreeBSD
   *  ifconfig's `-alias`). */
  literalWords?: readonly string[];
  /**
   * The first positional ends the command's options: it and everything after it are positionals,
   * unparsed (`ffnet run app.js --port 5` hands `--port 5` to app.js). Implies allowPositionals.
   */
  passThrough?: boolean;
  /** Runs the command; resolves to the exit status. Throws ToolError for a one-line failure. */
  run(ctx: CommandContext): Promise<number>;
}

/**
 * A failure the CLI prints as one line, `ffnet <cmd>: <message>`, exiting with exitCode (2 for
 * usage errors, 1 otherwise). `code` is the stack's error code (ENOENT, ERANGE, ...) when the stack
 * refused a request.
 */
export class ToolError extends Error {
  readonly exitCode: number;
  readonly code?: string;

  constructor(message: string, exitCode = 1, code?: string) {
    super(message);
    this.name = 'ToolError';
    this.exitCode = exitCode;
    if (code !== undefined) this.code = code;
  }
}
