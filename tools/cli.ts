#!/usr/bin/env node
/**
 * `ffnet`: tools that see and steer a running ffnet stack from another process.
 *
 *   ffnet [-p PID|NAME] [--json] COMMAND [options]      ffnet --help      ffnet COMMAND --help
 *
 * Global options and each command's own are parsed together by node:util's parseArgs (strict).
 * Failures print one line, `ffnet <cmd>: <message>`, and exit 2 for usage errors, 1 otherwise.
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { ToolError, type Command, type OptionValues } from './command.js';
import { connectStack, type CtlClient } from './client.js';
import { commands } from './commands/index.js';

const globalOptions: NonNullable<ParseArgsConfig['options']> = {
  pid: { type: 'string', short: 'p' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
};

const globalUsage = `Global options:
  -p, --pid PID|NAME   the stack to talk to: a pid, program name or EAL file prefix
                       (default: the only running stack; see ffnet ps)
      --json           print the data as JSON
  -h, --help           this help`;

function mainHelp(): string {
  const width = Math.max(...commands.map((c) => c.name.length));
  const list = commands.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`).join('\n');
  return `usage: ffnet [-p PID|NAME] [--json] COMMAND [options]

Sees and steers a running ffnet stack (a Node program or a C program on ff_init) from another
process of the same user.

Commands:
${list}

${globalUsage}

ffnet COMMAND --help describes each command.`;
}

function optionHelp(cmd: Command): string {
  const opts = Object.entries(cmd.options ?? {});
  if (opts.length === 0) return '';
  const lines = opts.map(([name, o]) => {
    const flag = `${o.short ? `-${o.short}, ` : '    '}--${name}${o.type === 'string' ? ' VALUE' : ''}`;
    return `  ${flag}`;
  });
  return `\nOptions:\n${lines.join('\n')}\n`;
}

/** The command name: the first argument that is neither an option nor the value of -p. */
function splitCommand(argv: string[]): { name?: string; rest: string[] } {
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '-p' || a === '--pid') {
      i++;
      continue;
    }
    if (a === '--') break;
    if (!a.startsWith('-')) return { name: a, rest: [...argv.slice(0, i), ...argv.slice(i + 1)] };
  }
  return { rest: argv };
}

/**
 * For a passThrough command: `rest` cut at its first positional (or at `--`), which with everything
 * after it is handed over unparsed.
 */
function splitPassThrough(rest: string[], options: NonNullable<ParseArgsConfig['options']>): { own: string[]; passed: string[] } {
  const takesValue = new Set<string>();
  for (const [name, o] of Object.entries(options)) {
    if (o.type !== 'string') continue;
    takesValue.add(`--${name}`);
    if (o.short) takesValue.add(`-${o.short}`);
  }
  for (let i = 0; i < rest.length; i++) {
    const a = rest[i]!;
    if (a === '--') return { own: rest.slice(0, i), passed: rest.slice(i + 1) };
    if (!a.startsWith('-') || a === '-') return { own: rest.slice(0, i), passed: rest.slice(i) };
    if (takesValue.has(a)) i++;
  }
  return { own: rest, passed: [] };
}

function isUsageError(err: unknown): boolean {
  const code = (err as { code?: string }).code;
  return typeof code === 'string' && code.startsWith('ERR_PARSE_ARGS');
}

/** Runs the CLI with argv (without node and the script); resolves to the exit status. */
export async function main(argv: string[], out = (s: string) => process.stdout.write(`${s}\n`), err = (s: string) => process.stderr.write(`${s}\n`)): Promise<number> {
  const { name, rest } = splitCommand(argv);
  if (name === undefined) {
    if (rest.includes('-h') || rest.includes('--help') || rest.length === 0) {
      out(mainHelp());
      return rest.length === 0 ? 2 : 0;
    }
    err('ffnet: no command given (ffnet --help lists them)');
    return 2;
  }
  const cmd = commands.find((c) => c.name === name);
  if (!cmd) {
    err(`ffnet: unknown command '${name}' (commands: ${commands.map((c) => c.name).join(', ')})`);
    return 2;
  }
  let client: CtlClient | undefined;
  try {
    let parsed: { values: OptionValues; positionals: string[] };
    const options = { ...globalOptions, ...cmd.options };
    const { own, passed } = cmd.passThrough ? splitPassThrough(rest, options) : { own: rest, passed: [] };
    // A literal word travels through parseArgs behind a NUL, which no option name starts with.
    const literal = new Set(cmd.literalWords ?? []);
    try {
      parsed = parseArgs({
        args: own.map((a) => (literal.has(a) ? `\0${a}` : a)),
        options,
        allowPositionals: cmd.allowPositionals ?? false,
        strict: true,
      }) as { values: OptionValues; positionals: string[] };
      parsed.positionals = parsed.positionals.map((a) => (a.startsWith('\0') ? a.slice(1) : a));
      parsed.positionals.push(...passed);
    } catch (e) {
      // parseArgs appends advice about '--' to unknown options: the option's name is the news.
      if (isUsageError(e)) throw new ToolError((e as Error).message.split('\n')[0]!.replace(/\. To specify a positional .*$/, ''), 2);
      throw e;
    }
    if (parsed.values.help) {
      out(`usage: ${cmd.usage}\n${optionHelp(cmd)}\n${globalUsage}`);
      return 0;
    }
    const target = typeof parsed.values.pid === 'string' ? parsed.values.pid : undefined;
    return await cmd.run({
      values: parsed.values,
      positionals: parsed.positionals,
      json: parsed.values.json === true,
      ...(target !== undefined ? { target } : {}),
      out,
      connect: async () => {
        client ??= await connectStack(target);
        return client;
      },
    });
  } catch (e) {
    if (e instanceof ToolError) {
      err(`ffnet ${cmd.name}: ${e.message}`);
      return e.exitCode;
    }
    err(`ffnet ${cmd.name}: ${(e as Error).message ?? String(e)}`);
    return 1;
  } finally {
    client?.close();
  }
}

// A reader that went away (`ffnet sysctl -a | head -3`) ends the command quietly, as it ends any Unix tool.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw e;
  });
}
const status = await main(process.argv.slice(2));
process.exitCode = status;
