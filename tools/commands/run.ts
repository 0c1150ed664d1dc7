/**
 * `ffnet run [--config FILE] app.js [args]`: runs an unmodified node:dgram program on the stack, as
 * `onload app` does for OpenOnload. The program runs in a child node preloading ffnet/register, with
 * FFNET_CONFIG naming the stack's configuration, so its `dgram` / `node:dgram` sockets (ES imports,
 * require, import(), its workers and child processes too) are ffnet/dgram's on the dpdk backend.
 * Arguments after app.js are the program's; its exit code is ffnet run's, and the signals ffnet run
 * receives are passed on to it (a program killed by a signal kills ffnet run with the same signal).
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { constants as osConstants } from 'node:os';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadConfigFile } from '../../config/index.js';
import { addonUnavailable } from '../../native/index.js';
import { withImport } from '../../shim/node-options.js';
import { ToolError, type Command } from '../command.js';

/** ffnet/register, compiled beside this module (dist/tools/commands → dist/shim). */
const registerPath = fileURLToPath(new URL('../../shim/register.js', import.meta.url));

/** Signals passed on to the program (SIGKILL and SIGSTOP cannot be caught; ^Z stops both processes as a group). */
const FORWARDED: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT', 'SIGUSR2', 'SIGWINCH'];
/**
 * The terminal sends ^C and ^\ to its whole foreground process group, the program included: on a
 * terminal these are not sent a second time (a program counting ^C presses would see two), only
 * kept from ending ffnet run before the program — as a shell waiting for a command does.
 */
const FROM_TERMINAL: ReadonlySet<NodeJS.Signals> = new Set(['SIGINT', 'SIGQUIT']);

/** The configuration file: --config, else FFNET_CONFIG, else ./ffnet.ini. */
function configPath(option: string | undefined): string {
  if (option) return resolve(option);
  if (process.env.FFNET_CONFIG) return resolve(process.env.FFNET_CONFIG);
  const local = resolve('ffnet.ini');
  if (existsSync(local)) return local;
  throw new ToolError('no configuration: give --config FILE, set FFNET_CONFIG or put an ffnet.ini here (see ffnet.example.ini)', 2);
}

export const run: Command = {
  name: 'run',
  summary: 'run an unmodified node:dgram program on the stack',
  usage: `ffnet run [--config FILE] app.js [args...]

Runs app.js with node, its dgram sockets on ffnet's stack: ffnet/register is preloaded (through
NODE_OPTIONS, so children and workers inherit it) and FFNET_CONFIG names the configuration: --config
FILE, else $FFNET_CONFIG, else ./ffnet.ini, checked before the program starts. Arguments after app.js
are the program's. The exit status is the program's; signals sent to ffnet run are passed on to it.`,
  options: { config: { type: 'string', short: 'c' } },
  allowPositionals: true,
  passThrough: true,
  async run(ctx) {
    const [app, ...args] = ctx.positionals;
    if (!app) throw new ToolError('no program given (ffnet run [--config FILE] app.js [args...])', 2);
    if (!existsSync(app)) throw new ToolError(`${app}: no such file`, 2);
    const config = configPath(typeof ctx.values.config === 'string' ? ctx.values.config : undefined);
    const unavailable = addonUnavailable();
    if (unavailable) throw new ToolError(unavailable);
    try {
      loadConfigFile(config);
    } catch (err) {
      throw new ToolError((err as Error).message.split('\n')[0]!);
    }
    // Through NODE_OPTIONS rather than argv, so that the program's command line (what `ffnet ps`
    // and ps(1) show) is `node app.js ...`.
    const child = spawn(process.execPath, [app, ...args], {
      stdio: 'inherit',
      env: { ...process.env, FFNET_CONFIG: config, NODE_OPTIONS: withImport(process.env.NODE_OPTIONS, registerPath) },
    });
    const onTerminal = process.stdin.isTTY === true;
    const forward = (signal: NodeJS.Signals): void => {
      if (!(onTerminal && FROM_TERMINAL.has(signal))) child.kill(signal);
    };
    for (const signal of FORWARDED) process.on(signal, forward);
    const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((done, fail) => {
      child.once('error', (err) => fail(new ToolError(`cannot start ${process.execPath}: ${err.message}`)));
      child.once('exit', (c, s) => done([c, s]));
    });
    for (const s of FORWARDED) process.removeListener(s, forward);
    if (signal) {
      // The shell sees what it would have seen running the program itself.
      process.kill(process.pid, signal);
      return 128 + (osConstants.signals[signal] ?? 0);
    }
    return code ?? 1;
  },
};
