/**
 * The dgram scenario runner: runs named scenarios of fixtures/dgram-scenarios.mjs in a child Node
 * process against one dgram implementation and returns their normalised traces.
 *
 * Implementations:
 * - `node`         `node:dgram`, the kernel reference;
 * - `ffnet-dpdk`   `ffnet/dgram` with FFNET_CONFIG naming a loopback-only ffnet.ini (no [portN], a
 *                  unique `[dpdk] file_prefix`), so the stack runs inline in the child and 127.0.0.1
 *                  is the stack's own loopback;
 * - `ffnet-kernel` `ffnet/dgram` without FFNET_CONFIG (its kernel backend).
 *
 * Every child runs inside a network namespace of the caller (testbed's Netns), so kernel sockets
 * see only that namespace's lo. `ffnet/dgram` is imported by the package's own name: the child
 * script lives inside the package, so Node resolves it through package.json "name"/"exports".
 *
 * Normalisation (only what legitimately differs between implementations): port numbers the system
 * picked (anything from 30000 up that the scenario did not fix itself) become `EPHEMERAL#n`,
 * numbered in order of first appearance, in `port` fields, in `address()`-like objects and in
 * messages (`bind EADDRINUSE 127.0.0.1:EPHEMERAL#1`). Timing is not recorded, only order.
 * Everything else — names, codes, messages, errno, syscall, keys, payload bytes, rinfo — is
 * compared as it is.
 *
 * Every wait is bounded: a batch child is killed after its deadline, and a scenario that never
 * finishes is cut off inside the child after 8 s (recorded as { timeout: 'scenario' }).
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ChildProcess } from 'node:child_process';
import { Netns } from '../../testbed/netns.js';

export type Impl = 'node' | 'ffnet-dpdk' | 'ffnet-kernel';
export const IMPLS: readonly Impl[] = ['node', 'ffnet-dpdk', 'ffnet-kernel'];

/** One recorded step (event, callback, call, mark, log, uncaught exception, timeout...). */
export type TraceEntry = Record<string, unknown>;

/** The outcome of one scenario in one implementation. */
export interface ScenarioTrace {
  name: string;
  impl: Impl;
  /** The normalised trace. */
  trace: TraceEntry[];
  /** The trace as recorded, before normalisation. */
  raw: TraceEntry[];
  /** `socket.backend` of each socket the scenario created (null when there is no such property). */
  backends: Array<{ label: string; backend: string | null }>;
  /** For lifetime scenarios: whether the process ended by itself within the grace period. */
  exit?: 'exited' | 'alive';
  /** Set when the child failed before producing this scenario's trace. */
  failure?: string;
}

const here = dirname(fileURLToPath(import.meta.url));
export const REPO = resolve(here, '../..');
export const CHILD = join(here, 'fixtures', 'scenario-child.mjs');

/** Whether ffnet/dgram exists in the build (dist/shim/dgram.js) and is exported as ffnet/dgram. */
export function shimBuilt(): boolean {
  try {
    const pkg = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as { exports?: Record<string, unknown> };
    return pkg.exports?.['./dgram'] !== undefined && existsSync(join(REPO, 'dist', 'shim', 'dgram.js'));
  } catch {
    return false;
  }
}

let prefixSerial = 0;

/** Writes a loopback-only ffnet.ini (plus `extra`: ini text after [dpdk]'s keys) with a fresh EAL file prefix; returns its path. */
export function loopbackConfig(dir: string, label: string, extra = ''): string {
  const prefix = `ffnet-dg-${label}-${process.pid}-${prefixSerial++}`.replace(/[^A-Za-z0-9_-]/g, '-').slice(0, 64);
  const file = join(dir, `${prefix}.ini`);
  writeFileSync(file, `; loopback-only stack for the dgram conformance scenarios\n[dpdk]\nfile_prefix = ${prefix}\nlcore_mask = 0x1\n${extra}`);
  return file;
}

/**
 * Removes the EAL runtime directory (/var/run/dpdk/<file_prefix>) a stack started from
 * {@link loopbackConfig}'s file left behind, once its process has ended.
 */
export function removeEalRuntime(configPath: string): void {
  rmSync(join('/var/run/dpdk', basename(configPath, '.ini')), { recursive: true, force: true });
}

/** Options of {@link runScenarios}. */
export interface RunOptions {
  /** `alone`: one scenario, the process is left to end by itself (see lifetime scenarios). */
  mode?: 'batch' | 'alone';
  /** ini text added to the dpdk implementation's configuration after [dpdk]'s keys (a vdev, [portN], [sysctl]). */
  dpdkConfig?: string;
  /** Kill the child after this long. Default: 10 s + 9 s per scenario (batch), 8 s (alone). */
  timeoutMs?: number;
  /** How long an `alone` child gets to exit by itself after writing its trace. Default 2 500 ms. */
  exitGraceMs?: number;
}

interface RawResult {
  name: string;
  trace: TraceEntry[];
  backends: Array<{ label: string; backend: string | null }>;
}

/**
 * Runs `names` in one child (in `ns`) with implementation `impl` and returns one trace per name, in
 * order. A child that dies or times out yields traces with `failure` set for the scenarios it did
 * not finish.
 */
export async function runScenarios(ns: Netns, impl: Impl, names: string[], opts: RunOptions = {}): Promise<ScenarioTrace[]> {
  const mode = opts.mode ?? 'batch';
  const dir = mkdtempSync(join(tmpdir(), 'ffnet-dgram-'));
  const out = join(dir, 'traces.jsonl');
  writeFileSync(out, '');
  const env: NodeJS.ProcessEnv = { ...process.env, SCENARIO_OUT: out };
  delete env.FFNET_CONFIG;
  delete env.NODE_OPTIONS;
  if (impl === 'ffnet-dpdk') env.FFNET_CONFIG = loopbackConfig(dir, mode, opts.dpdkConfig);
  const which = impl === 'node' ? 'node' : 'ffnet';
  const timeoutMs = opts.timeoutMs ?? (mode === 'alone' ? 8_000 : 10_000 + 9_000 * names.length);
  const child = ns.spawn(process.execPath, [CHILD, which, mode, JSON.stringify(names)], { cwd: REPO, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout?.setEncoding('utf8').on('data', (d: string) => {
    if (stdout.length < 200_000) stdout += d;
  });
  child.stderr?.setEncoding('utf8').on('data', (d: string) => {
    if (stderr.length < 200_000) stderr += d;
  });
  let exit: 'exited' | 'alive' | undefined;
  let why = '';
  if (mode === 'alone') {
    // Wait for the trace, then give the process exitGraceMs to end by itself.
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline && !hasExited(child) && readFileSync(out, 'utf8').trim() === '') await sleep(20);
    if (readFileSync(out, 'utf8').trim() === '') why = hasExited(child) ? `child exited (${describeExit(child)}) without a trace` : `no trace within ${timeoutMs} ms`;
    else {
      exit = (await waitExit(child, opts.exitGraceMs ?? 2_500)) ? 'exited' : 'alive';
    }
    await kill(child);
  } else {
    const ended = await waitExit(child, timeoutMs);
    if (!ended) {
      why = `killed after ${timeoutMs} ms`;
      await kill(child);
    } else if (child.exitCode !== 0) why = `child ended with ${describeExit(child)}`;
  }
  const raws = new Map<string, RawResult>();
  let fatal = '';
  for (const line of readFileSync(out, 'utf8').split('\n')) {
    if (!line.trim()) continue;
    const r = JSON.parse(line) as RawResult & { fatal?: string };
    if (r.fatal) fatal = r.fatal;
    else raws.set(r.name, r);
  }
  if (env.FFNET_CONFIG) removeEalRuntime(env.FFNET_CONFIG);
  rmSync(dir, { recursive: true, force: true });
  const tail = (s: string): string => s.split('\n').slice(-25).join('\n');
  return names.map((name) => {
    const r = raws.get(name);
    if (!r) {
      const failure = [why || 'no trace', fatal && `fatal: ${fatal}`, `stderr:\n${tail(stderr)}`, `stdout:\n${tail(stdout)}`].filter(Boolean).join('\n');
      return { name, impl, trace: [], raw: [], backends: [], failure };
    }
    const res: ScenarioTrace = { name, impl, trace: normalise(r.trace), raw: r.trace, backends: r.backends };
    if (exit) res.exit = exit;
    return res;
  });
}

/** Ports below this are fixed by scenarios (20000..29999) or computed (bind coercions). */
const EPHEMERAL_FLOOR = 30_000;

/**
 * Runs `names` with each of `impls`, each in a network namespace of its own named `label-impl` (added to
 * `namespaces`, which the caller destroys after its tests): the kernel implementations once
 * `kernelSetup` gave the namespace its interface, the dpdk one on a stack of `dpdkConfig`. The traces by
 * implementation and scenario name.
 */
export async function runEachImpl(label: string, impls: readonly Impl[], names: string[], kernelSetup: (ns: Netns) => Promise<void>,
  dpdkConfig: string, namespaces: Netns[]): Promise<Map<Impl, Map<string, ScenarioTrace>>> {
  const traces = new Map<Impl, Map<string, ScenarioTrace>>();
  for (const impl of impls) {
    const ns = await Netns.create(`${label}-${impl}`.slice(0, 32));
    namespaces.push(ns);
    if (impl !== 'ffnet-dpdk') await kernelSetup(ns);
    const m = new Map<string, ScenarioTrace>();
    for (const r of await runScenarios(ns, impl, names, impl === 'ffnet-dpdk' ? { dpdkConfig } : {})) m.set(r.name, r);
    traces.set(impl, m);
  }
  return traces;
}

/**
 * Replaces ephemeral ports by `EPHEMERAL#n` (first appearance = 1): numbers under a `port` key, and
 * `:<port>` / ` <port>` inside strings (error messages, stack headers).
 */
export function normalise(trace: TraceEntry[]): TraceEntry[] {
  const names = new Map<number, string>();
  const nameOf = (p: number): string => {
    let n = names.get(p);
    if (!n) {
      n = `EPHEMERAL#${names.size + 1}`;
      names.set(p, n);
    }
    return n;
  };
  const isEphemeral = (p: number): boolean => Number.isInteger(p) && p >= EPHEMERAL_FLOOR && p <= 65_535;
  const walk = (v: unknown, key: string | undefined): unknown => {
    if (typeof v === 'number') return key === 'port' && isEphemeral(v) ? nameOf(v) : v;
    if (typeof v === 'string') return v.replace(/:(\d{5})\b/g, (m, d: string) => (isEphemeral(Number(d)) ? `:${nameOf(Number(d))}` : m));
    if (Array.isArray(v)) return v.map((x) => walk(x, undefined));
    if (v && typeof v === 'object') {
      const o: Record<string, unknown> = {};
      for (const [k, x] of Object.entries(v)) {
        // { call: 'address()...', ret: 45678 } — a bare port returned from `address().port`.
        o[k] = k === 'ret' && typeof x === 'number' && isEphemeral(x) ? nameOf(x) : walk(x, k);
      }
      return o;
    }
    return v;
  };
  return trace.map((e) => walk(e, undefined) as TraceEntry);
}

/** A readable one-entry-per-line rendering of a trace, for failure messages. */
export function render(t: ScenarioTrace): string {
  if (t.failure) return `  (${t.impl}: FAILED ${t.failure})`;
  const lines = t.trace.map((e) => `  ${JSON.stringify(e)}`);
  if (t.exit) lines.push(`  exit: ${t.exit}`);
  return lines.join('\n');
}

function hasExited(c: ChildProcess): boolean {
  return c.exitCode !== null || c.signalCode !== null;
}

function describeExit(c: ChildProcess): string {
  return c.signalCode ? `signal ${c.signalCode}` : `code ${c.exitCode}`;
}

function waitExit(c: ChildProcess, ms: number): Promise<boolean> {
  if (hasExited(c)) return Promise.resolve(true);
  return new Promise((res) => {
    const t = setTimeout(() => res(false), ms);
    c.once('exit', () => {
      clearTimeout(t);
      res(true);
    });
  });
}

async function kill(c: ChildProcess): Promise<void> {
  if (hasExited(c)) return;
  c.kill('SIGKILL');
  await waitExit(c, 5_000);
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
