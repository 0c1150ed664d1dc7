/**
 * Runs a short ES module in a child Node process inside a test's namespace, next to the built
 * package (so `ffnet`, `ffnet/posix` and `ffnet/dgram` resolve), and returns what it wrote to
 * `globalThis.report(value)` together with its exit status and everything it printed. The child
 * is killed after `timeoutMs`; the EAL runtime directory of the file prefix it was given is removed
 * afterwards whether or not the child did.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Netns } from '../../testbed/netns.js';
import { REPO } from '../shim/scenarios.js';

export { REPO };

/** What a child run left behind. */
export interface ChildRun<T> {
  /** The last value passed to `report()`, or undefined when there was none. */
  report: T | undefined;
  code: number | null;
  signal: NodeJS.Signals | null;
  timedOut: boolean;
  stdout: string;
  stderr: string;
}

let serial = 0;

/**
 * Runs `body` (the text of an async ES module body; `report(value)` records a JSON value) in a
 * child inside `ns`, with `env` added to the environment. `prefixes` are EAL file prefixes the
 * child may use: their runtime directories are removed after it ends.
 */
export async function runChild<T>(ns: Netns, body: string, opts: { env?: Record<string, string>; timeoutMs?: number; prefixes?: string[] } = {}): Promise<ChildRun<T>> {
  const dir = mkdtempSync(join(tmpdir(), 'ffnet-child-'));
  const out = join(dir, 'report.json');
  // The script lives inside the package so that `import 'ffnet'` resolves through package.json.
  const script = join(REPO, 'test', 'stack', `.child-${process.pid}-${serial++}.mjs`);
  writeFileSync(script, `import { writeFileSync } from 'node:fs';\n`
    + `globalThis.report = (v) => writeFileSync(${JSON.stringify(out)}, JSON.stringify(v));\n${body}\n`);
  const envPrefix = Object.entries(opts.env ?? {}).map(([k, v]) => `${k}=${v}`);
  try {
    const r = await ns.exec('env', ['-u', 'FFNET_CONFIG', '-u', 'NODE_OPTIONS', ...envPrefix, process.execPath, script], { timeoutMs: opts.timeoutMs ?? 30_000 });
    let report: T | undefined;
    try {
      report = JSON.parse(readFileSync(out, 'utf8')) as T;
    } catch {
      report = undefined;
    }
    return { report, code: r.code, signal: r.signal, timedOut: r.timedOut, stdout: r.stdout, stderr: r.stderr };
  } finally {
    rmSync(script, { force: true });
    rmSync(dir, { recursive: true, force: true });
    for (const p of opts.prefixes ?? []) rmSync(join('/var/run/dpdk', p), { recursive: true, force: true });
  }
}
