/**
 * Small ffnet programs run in a child Node process, for tests of how a program and its stack end:
 * exit codes, signals, what the program printed, and what the stack left behind.
 *
 * An app is ES module source. It imports ffnet through `@FFNET@` (replaced by the file URL of
 * dist/index.js), `@DGRAM@` (dist/shim/dgram.js) and `@POSIX@` (dist/posix/index.js), and reports
 * with `report({...})`, which prints one line `@ {json}` (DPDK's own log lines also go to stdout;
 * everything else there is kept as text). FFNET_CONFIG names a loopback-only ffnet.ini (no [portN])
 * with a fresh EAL file prefix and the `[dpdk]` keys given (an LcoreMode's), so the stack makes no
 * interface and needs no namespace; the app reaches itself over 127.0.0.1. Every run is bounded:
 * the child is killed (SIGKILL) after its timeout.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { REPO, removeEalRuntime } from '../shim/scenarios.js';
import { uniquePrefix } from './kernel-peer.js';

const PRELUDE = `const report = (o) => process.stdout.write('@ ' + JSON.stringify(o) + '\\n');\n`;

/** How a child app ended. */
export interface AppResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** True when the app outlived its timeout and was killed. */
  timedOut: boolean;
  /** The app's `report()` objects, in order. */
  reports: Array<Record<string, unknown>>;
  stdout: string;
  stderr: string;
  /** Whether the EAL runtime directory (/var/run/dpdk/<file_prefix>) still existed after the exit. */
  runtimeDirLeft: boolean;
}

/** Options of {@link runApp}. */
export interface AppOptions {
  /** Kill the child after this long (default 20 000 ms). */
  timeoutMs?: number;
  /** Sends this signal once the app reported `{ ready: true }`. */
  signal?: NodeJS.Signals;
  /** `[dpdk]` keys besides file_prefix (default: inline, lcore_mask 0x1). */
  dpdk?: Record<string, string>;
}

function dist(path: string): string {
  return pathToFileURL(join(REPO, 'dist', path)).href;
}

/** Runs `source` (see the module doc) to its end and reports how it ended. */
export async function runApp(label: string, source: string, opts: AppOptions = {}): Promise<AppResult> {
  const dir = mkdtempSync(join(tmpdir(), 'ffnet-app-'));
  const prefix = uniquePrefix(label);
  const config = join(dir, `${prefix}.ini`);
  const keys = { lcore_mask: '0x1', ...opts.dpdk, file_prefix: prefix };
  writeFileSync(config, `[dpdk]\n${Object.entries(keys).map(([k, v]) => `${k} = ${v}`).join('\n')}\n`);
  const runtimeDir = join('/var/run/dpdk', prefix);
  const file = join(dir, 'app.mjs');
  writeFileSync(file, PRELUDE + source.replaceAll('@FFNET@', dist('index.js')).replaceAll('@DGRAM@', dist('shim/dgram.js'))
    .replaceAll('@POSIX@', dist('posix/index.js')));
  const env: NodeJS.ProcessEnv = { ...process.env, FFNET_CONFIG: config };
  delete env.NODE_OPTIONS;
  const child = spawn(process.execPath, [file], { cwd: dir, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  const reports: Array<Record<string, unknown>> = [];
  let partial = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => {
    if (stdout.length < 1_000_000) stdout += d;
    const lines = (partial + d).split('\n');
    partial = lines.pop() ?? '';
    for (const line of lines) {
      if (!line.startsWith('@ ')) continue;
      const r = JSON.parse(line.slice(2)) as Record<string, unknown>;
      reports.push(r);
      if (r.ready === true && opts.signal) child.kill(opts.signal);
    }
  });
  child.stderr.setEncoding('utf8').on('data', (d: string) => {
    if (stderr.length < 1_000_000) stderr += d;
  });
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    child.kill('SIGKILL');
  }, opts.timeoutMs ?? 20_000);
  const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve) => child.once('close', (c, s) => resolve([c, s])));
  clearTimeout(timer);
  const runtimeDirLeft = existsSync(runtimeDir);
  removeEalRuntime(config);
  rmSync(dir, { recursive: true, force: true });
  return { code, signal, timedOut, reports, stdout, stderr, runtimeDirLeft };
}

/** The app's output for an assertion message. */
export function describeApp(r: AppResult): string {
  const tail = (s: string): string => s.split('\n').slice(-30).join('\n');
  return `code ${r.code}, signal ${r.signal}${r.timedOut ? ' (timed out)' : ''}\n--- stdout ---\n${tail(r.stdout)}\n--- stderr ---\n${tail(r.stderr)}`;
}
