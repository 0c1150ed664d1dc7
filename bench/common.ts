/**
 * Pieces the Node.js benchmark runners share (bench/dgram.ts, bench/transport.ts, bench/scale.ts): option
 * parsing, medians and min / median / max over runs, targets checked on the median and on every run, a
 * failed run (a crash, a leak) told from a figure, the JSON line a child role prints and the runner reads
 * back, what a receiver records about its window, the memif link's two ends, the ffnet.ini of one of them,
 * and how the two ends leave the link without crashing each other.
 * Importing it has no side effects.
 */
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ExecResult, Netns } from '../testbed/netns.js';
import { cpuTimes, setQuietWait } from './machine.js';

/** `--key value` pairs into a map (keys without the dashes). */
export function argMap(argv: string[]): Map<string, string> {
  const m = new Map<string, string>();
  for (let i = 0; i < argv.length; i += 2) {
    const k = argv[i] as string;
    const v = argv[i + 1];
    if (!k.startsWith('--') || v === undefined) throw new Error(`expected --option value pairs, got ${argv.slice(i).join(' ')}`);
    m.set(k.slice(2), v);
  }
  return m;
}

/** A numeric option in [min, max], or `def` when absent. */
export function num(m: Map<string, string>, key: string, def: number, min: number, max: number): number {
  const v = m.get(key);
  if (v === undefined) return def;
  const n = Number(v);
  if (!Number.isFinite(n) || n < min || n > max) throw new Error(`--${key} takes a number in ${min}..${max}, got ${v}`);
  return n;
}

/** A comma list of integers in [min, max] (`def` when absent), as `--key 64,1400`. */
export function intList(m: Map<string, string>, key: string, def: string, min: number, max: number): number[] {
  const xs = (m.get(key) ?? def).split(',').map(Number);
  if (xs.some((x) => !Number.isInteger(x) || x < min || x > max)) throw new Error(`--${key} takes integers in ${min}..${max}`);
  return xs;
}

/** The options every runner takes: the measured window, its warm-up, the repeats, the datagram sizes. */
export interface RunnerOptions {
  seconds: number;
  warmup: number;
  repeats: number;
  sizes: number[];
}

/**
 * A runner's argv as an option map, refusing any option but --seconds (1..30, default 3), --warmup
 * (0.5..10, default 1), --repeats (1..9, default 5), --sizes (a list in sizes.min..sizes.max, default
 * sizes.def), --quiet-wait (seconds to wait for an idle machine before each run, 0..300, default 30:
 * machine.ts) and the runner's own `extra` ones; with those read.
 */
export function runnerOptions(argv: string[], extra: string[], sizes: { def: string; min: number; max: number }): { a: Map<string, string>; common: RunnerOptions } {
  const a = argMap(argv);
  const known = ['seconds', 'warmup', 'repeats', 'sizes', 'quiet-wait', ...extra];
  for (const k of a.keys()) if (!known.includes(k)) throw new Error(`unknown option --${k} (known: ${known.map((x) => `--${x}`).join(', ')})`);
  setQuietWait(num(a, 'quiet-wait', 30, 0, 300));
  return {
    a,
    common: {
      seconds: num(a, 'seconds', 3, 1, 30),
      warmup: num(a, 'warmup', 1, 0.5, 10),
      repeats: Math.round(num(a, 'repeats', 5, 1, 9)),
      sizes: intList(a, 'sizes', sizes.def, sizes.min, sizes.max),
    },
  };
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length === 0 ? 0 : s.length % 2 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
}

export const nowNs = (): number => Number(process.hrtime.bigint());
export const round = (x: number, d = 0): number => Math.round(x * 10 ** d) / 10 ** d;

/** A child role's result: one JSON object on one line of stdout. */
export function printJson(o: object): void {
  process.stdout.write(`${JSON.stringify(o)}\n`);
}

/** The last JSON line a child printed. */
export function lastJson(out: string, what: string): Record<string, number | string> {
  const line = out.trim().split('\n').reverse().find((l) => l.startsWith('{'));
  if (!line) throw new Error(`${what} printed no JSON:\n${out}`);
  return JSON.parse(line) as Record<string, number | string>;
}

export function why(r: ExecResult): string {
  return r.timedOut ? 'timed out' : r.signal ? `killed by ${r.signal}` : `exit code ${r.code}`;
}

/** The child's JSON result, or an error with its output unless it exited 0. */
export function check(r: ExecResult, what: string): Record<string, number | string> {
  if (r.code !== 0) throw new Error(`${what} failed (${why(r)}):\n${r.stderr}\n${r.stdout}`);
  return lastJson(r.stdout, what);
}

/** A runner's namespace, scratch directory, and the DPDK file prefixes its children used. */
export interface BenchRun {
  /** Names the DPDK file prefixes (`ffbench-<label>-…`). */
  label: string;
  dir: string;
  ns: Netns;
  serial: number;
  prefixes: string[];
}

/**
 * The benches' memif link: the sending side at 10.88.0.1 (memif client, pinned to CPU 0) and the
 * receiving side at 10.88.0.2 (memif server, CPU 1), each with a fixed MAC that the other side's static
 * ARP entry names.
 */
export const SEND_ADDR = '10.88.0.1';
export const RECV_ADDR = '10.88.0.2';
/** The same two ends' IPv6 addresses (fd00:88::/64, a ULA prefix), as udp_blast --ipv6 has them. */
export const SEND_ADDR6 = 'fd00:88::1';
export const RECV_ADDR6 = 'fd00:88::2';
export const SEND_MAC = '02:00:00:00:00:01';
export const RECV_MAC = '02:00:00:00:00:02';
export const SEND_CPU = 0;
export const RECV_CPU = 1;

/** Where one net_memif end sits: its CPU, memif role, address and MAC, and the peer's static ARP entry. */
/** One stack's port and lcores in a bench ini (writeStackIni): the device is `vdev`. */
export interface StackEnd {
  cpu: number;
  addr: string;
  /** The `vdev[]` device string of port 0. */
  vdev: string;
  peer?: [string, string];
  /** An IPv6 address on the port (`addr6[] = ADDR/64`) beside `addr`. */
  addr6?: string;
  /** Adds data-path lcore 1 on the other CPU; inline (the stack on the JS thread) otherwise. */
  dataLcore?: boolean;
  /**
   * `loop = inline` with this many lcores, all mapped to `cpu` (JS thread k turns lcore k); the port
   * then has as many queue pairs. Excludes `dataLcore`.
   */
  inlineLcores?: number;
  /** With `inlineLcores`: the CPU list (taskset syntax, e.g. `1-3`) every lcore is mapped to instead of `cpu`. */
  inlineCpus?: string;
  /** `[sysctl]` entries. */
  sysctl?: Record<string, number>;
}

/** One end of a memif link: its role, MAC and socket make the device. */
export interface MemifEnd extends Omit<StackEnd, 'vdev'> {
  role: 'server' | 'client';
  mac: string;
  /** log2 of the memif ring's descriptors (DPDK's default: 10). */
  rsize?: number;
  sock: string;
}

/** Writes the ffnet.ini of one stack into the run's directory; returns its path. */
export function writeStackIni(run: BenchRun, name: string, o: StackEnd): string {
  const prefix = `ffbench-${run.label}-${name}-${process.pid}-${run.serial++}`;
  run.prefixes.push(prefix);
  const inline = o.inlineLcores ?? 1;
  const lcores = o.dataLcore ? `0@${o.cpu},1@${1 - o.cpu}` : Array.from({ length: inline }, (_, k) => `${k}@${o.inlineCpus ? `(${o.inlineCpus})` : o.cpu}`).join(',');
  const lines = [
    '[dpdk]',
    `lcore_mask = 0x${(o.dataLcore ? 0x3 : 2 ** inline - 1).toString(16)}`,
    `lcores = ${lcores}`,
    ...(o.inlineLcores === undefined ? [] : ['loop = inline']),
    'memory = 256',
    `file_prefix = ${prefix}`,
    `vdev[] = ${o.vdev}`,
    'log_level = warning',
    'nb_mbuf = 16383',
    '[port0]',
    `addr = ${o.addr}`,
    'netmask = 255.255.255.0',
    ...(o.addr6 ? [`addr6[] = ${o.addr6}/64`] : []),
    ...(o.peer ? [`arp[] = ${o.peer[0]} ${o.peer[1]}`] : []),
    ...(o.sysctl ? ['[sysctl]', ...Object.entries(o.sysctl).map(([k, v]) => `${k} = ${v}`)] : []),
    '',
  ];
  const path = join(run.dir, `${prefix}.ini`);
  writeFileSync(path, lines.join('\n'));
  return path;
}

/** Writes the ffnet.ini of one memif end into the run's directory; returns its path. */
export function writeMemifIni(run: BenchRun, name: string, o: MemifEnd): string {
  const { role, mac, rsize, sock, ...end } = o;
  return writeStackIni(run, name, { ...end, vdev: `net_memif0,role=${role},socket=${sock},mac=${mac}${rsize === undefined ? '' : `,rsize=${rsize}`}` });
}

/** Removes the run's scratch directory and the DPDK runtime directories its children left. */
export function cleanRun(run: BenchRun): void {
  rmSync(run.dir, { recursive: true, force: true });
  for (const p of run.prefixes) rmSync(join('/var/run/dpdk', p), { recursive: true, force: true });
}

/**
 * The command line of a child role of `program`: pinned to `cpu`, with or without FFNET_CONFIG, run by
 * the node binary `node` (this process's by default).
 */
export function childCommand(program: string, cpu: number | string, config: string | null, role: string, args: string[], nodeArgs: string[] = [], node = process.execPath): [string, string[]] {
  const env = config ? [`FFNET_CONFIG=${config}`] : ['-u', 'FFNET_CONFIG'];
  return ['env', [...env, 'taskset', '-c', String(cpu), node, ...nodeArgs, program, '--role', role, ...args]];
}

export const fmtRate = (x: number | null): string => (x === null ? '—' : x >= 1e6 ? `${(x / 1e6).toFixed(2)}M` : `${(x / 1e3).toFixed(0)}k`);
export const fmtX = (x: number | null): string => (x === null ? '—' : `${x.toFixed(2)}×`);

/** A child role of a bench file: what `--role NAME` runs, given the rest of the options. */
export type BenchRole = (a: Map<string, string>) => Promise<void>;

/**
 * The entry of a bench file, which is both the runner and its children: `--role NAME …` runs that role,
 * anything else the runner. Errors end the process with code 1.
 */
export function benchMain(runner: (argv: string[]) => Promise<void>, roles: Record<string, BenchRole>): void {
  const argv = process.argv.slice(2);
  const run = async (): Promise<void> => {
    if (argv[0] !== '--role') return runner(argv);
    const role = roles[argv[1] ?? ''];
    if (role === undefined) throw new Error(`unknown role ${String(argv[1])} (known: ${Object.keys(roles).join(', ')})`);
    return role(argMap(argv.slice(2)));
  };
  run().catch((err: unknown) => {
    console.error(err instanceof Error ? err.stack ?? err.message : err);
    process.exit(1);
  });
}

/** The median p50 and p99 of repeated round-trip measurements, with the samples behind them. */
export function roundTripSummary(samples: readonly { p50_us: number; p99_us: number }[]): {
  p50_us: number; p99_us: number; samples_p50: number[]; samples_p99: number[];
} {
  return {
    p50_us: median(samples.map((s) => s.p50_us)),
    p99_us: median(samples.map((s) => s.p99_us)),
    samples_p50: samples.map((s) => s.p50_us),
    samples_p99: samples.map((s) => s.p99_us),
  };
}

/** What {@link measureWindow} measured. */
export interface DeliveryWindow {
  delivered: number;
  bytes: number;
  seconds: number;
  pps: number;
}

/**
 * A receiver's measurement window: waits for the first delivery (rejecting after `maxWaitMs` without one),
 * skips `warmupMs`, counts over `windowMs`, then keeps receiving until the sender has stopped (nothing new
 * for 300 ms), so that the sender's own rate is measured against a live receiver. `count()` and `bytes()`
 * read the receiver's running totals; `what` names the receiver in the error.
 */
export function measureWindow(o: {
  count: () => number; bytes?: () => number; warmupMs: number; windowMs: number; maxWaitMs: number; what: string;
  /** Called as the window opens and as it closes (to read other counters over the same window). */
  mark?: (edge: 'start' | 'end') => void;
}): Promise<DeliveryWindow> {
  const bytes = o.bytes ?? ((): number => 0);
  const started = Date.now();
  return new Promise((res, rej) => {
    let firstAt = 0;
    let t0 = 0;
    let c0 = 0;
    let b0 = 0;
    let done: DeliveryWindow | undefined;
    let lastCount = 0;
    let lastSeen = 0;
    const tick = setInterval(() => {
      const count = o.count();
      if (count === 0) {
        if (Date.now() - started > o.maxWaitMs) {
          clearInterval(tick);
          rej(new Error(`${o.what}: no datagram within ${o.maxWaitMs} ms`));
        }
        return;
      }
      const t = nowNs();
      if (firstAt === 0) firstAt = t;
      if (t0 === 0) {
        if (t - firstAt >= o.warmupMs * 1e6) {
          o.mark?.('start');
          t0 = nowNs();
          c0 = o.count();
          b0 = bytes();
        }
        return;
      }
      if (done === undefined && t - t0 >= o.windowMs * 1e6) {
        const t1 = nowNs();
        const c1 = o.count();
        const b1 = bytes();
        o.mark?.('end');
        const secs = (t1 - t0) / 1e9;
        done = { delivered: c1 - c0, bytes: b1 - b0, seconds: round(secs, 3), pps: round((c1 - c0) / secs) };
      }
      if (count !== lastCount) {
        lastCount = count;
        lastSeen = t;
      } else if (done !== undefined && (t - lastSeen > 300e6 || Date.now() - started > o.maxWaitMs + 60_000)) {
        clearInterval(tick);
        res(done);
      }
    }, 20);
  });
}


// --- figures over runs, and targets ---------------------------------------------------------------

/** A figure over repeated runs: min / median / max of the runs that gave one, and how many failed. */
export interface Spread {
  min: number;
  median: number;
  max: number;
  runs: number;
  failed: number;
}

/** The spread of `xs` (runs that gave a figure), with `failed` runs that gave none; null when none gave one. */
export function spread(xs: number[], failed = 0, digits = 0): Spread | null {
  if (xs.length === 0) return null;
  return { min: round(Math.min(...xs), digits), median: round(median(xs), digits), max: round(Math.max(...xs), digits), runs: xs.length, failed };
}

/** `min / median / max` of a spread, each through `f`; "—" for none; failed runs named. */
export function fmtSpread(s: Spread | null, f: (x: number) => string): string {
  if (s === null) return '—';
  return `${f(s.min)} / ${f(s.median)} / ${f(s.max)}${s.failed ? ` (${s.failed} failed)` : ''}`;
}

/** A target checked on the median of the runs, and on every run against a floor. */
export interface TargetResult {
  target: string;
  median: number | null;
  min: number | null;
  max: number | null;
  runs: number;
  failed: number;
  /** null: not measured. */
  met: boolean | null;
  /** Why it is not met, or why it was not measured (empty otherwise). */
  why: string;
}

/**
 * Checks per-run `values` against a target: the median at or above `atLeast` (or at or below `atMost`),
 * no run below `noRunBelow` (or above `noRunAbove`), and no failed run — a run that crashed, leaked or
 * lost gave no figure, so it cannot count as meeting a floor. `extra` adds conditions of its own.
 */
export function judge(o: {
  target: string; values: number[]; failed: number; atLeast?: number; atMost?: number; noRunBelow?: number; noRunAbove?: number;
  extra?: Array<{ ok: boolean; why: string }>;
}): TargetResult {
  const s = spread(o.values, o.failed, 3);
  const base = { target: o.target, median: s?.median ?? null, min: s?.min ?? null, max: s?.max ?? null, runs: o.values.length, failed: o.failed };
  if (s === null && o.failed === 0) return { ...base, met: null, why: '' };
  const why: string[] = [];
  if (o.failed > 0) why.push(`${o.failed} run(s) failed`);
  if (s !== null) {
    if (o.atLeast !== undefined && s.median < o.atLeast) why.push(`median ${s.median} < ${o.atLeast}`);
    if (o.atMost !== undefined && s.median > o.atMost) why.push(`median ${s.median} > ${o.atMost}`);
    if (o.noRunBelow !== undefined && s.min < o.noRunBelow) why.push(`a run at ${s.min} < ${o.noRunBelow}`);
    if (o.noRunAbove !== undefined && s.max > o.noRunAbove) why.push(`a run at ${s.max} > ${o.noRunAbove}`);
  }
  for (const e of o.extra ?? []) if (!e.ok) why.push(e.why);
  return { ...base, met: why.length === 0, why: why.join('; ') };
}

/** The IP families the benches measure side by side. */
export type Family = 'udp4' | 'udp6';
/** Each family's loopback address (the kernel's, and the stack's). */
export const LOOPBACK: Record<Family, string> = { udp4: '127.0.0.1', udp6: '::1' };
/** "IPv6 within 10% of IPv4". */
export const FAMILY_TOLERANCE = 0.1;

/**
 * Parses a `--families` list (udp4, udp6, comma-separated; both by default).
 */
export function parseFamilies(v: string | undefined): Family[] {
  const fs = (v ?? 'udp4,udp6').split(',');
  for (const f of fs) if (f !== 'udp4' && f !== 'udp6') throw new Error(`--families takes udp4, udp6; got ${f}`);
  return [...new Set(fs)] as Family[];
}

/**
 * IPv6 within FAMILY_TOLERANCE of IPv4 on one case: the ratio of the medians of its udp6 and udp4 runs
 * (the value shown), a rate at least (1 − tolerance)× IPv4's, a time at most (1 + tolerance)×. A failed
 * run of either family fails it; nothing measured in either is no verdict.
 */
export function judgeFamilies(o: { what: 'rate' | 'time'; udp4: number[]; udp6: number[]; failed: number }): TargetResult {
  const ratio = o.udp4.length && o.udp6.length && median(o.udp4) > 0 ? round(median(o.udp6) / median(o.udp4), 3) : null;
  const rate = o.what === 'rate';
  const bound = round(rate ? 1 - FAMILY_TOLERANCE : 1 + FAMILY_TOLERANCE, 2);
  return judge({
    target: `udp6 ${rate ? '≥' : '≤'} ${bound}× udp4 (ratio of medians)`, values: ratio === null ? [] : [ratio], failed: o.failed,
    ...(rate ? { atLeast: bound } : { atMost: bound }),
  });
}

/** One line of a targets table. */
export function fmtTarget(name: string, t: TargetResult): string {
  const v = t.median === null ? '—' : `${t.min} / ${t.median} / ${t.max}`;
  const verdict = t.met === null ? (t.why || 'not measured') : t.met ? 'met' : `NOT met (${t.why})`;
  return `  ${name.padEnd(22)} ${t.target.padEnd(52)} ${v.padStart(24)}  ${verdict}`;
}

/** What a failed run left: why, and the end of what the children wrote. */
export interface RunFailure {
  failed: string;
  detail: string;
}

/**
 * Runs one measurement: a child that crashed (a signal), timed out, exited non-zero, or left the packet
 * pool above its baseline is a failed run — recorded, never a figure.
 */
export async function attempt<T>(fn: () => Promise<T>): Promise<{ ok: true; value: T } | ({ ok: false } & RunFailure)> {
  try {
    return { ok: true, value: await fn() };
  } catch (err) {
    const msg = err instanceof Error ? err.message : String(err);
    const [first = '', ...rest] = msg.split('\n');
    return { ok: false, failed: first, detail: rest.join('\n').slice(-2000) };
  }
}

/**
 * Checks a child's packet-pool report (`pool: { baseline, end }`, mbufs in use once its socket was
 * bound and again after it closed its sockets): a run whose pool did not return to its baseline failed. A
 * device that takes sent mbufs back late (AF_XDP: up to its completion ring) may hold `deviceHolds` of them.
 */
export function checkPool(r: Record<string, unknown>, what: string, deviceHolds = 0): void {
  const p = r.pool as { baseline: number; end: number } | null | undefined;
  if (p && p.end > p.baseline + deviceHolds) {
    throw new Error(`${what}: the packet pool did not return to its baseline (${p.baseline} mbufs in use before the traffic, ${p.end} after closing the sockets${deviceHolds ? `, of which the device may hold ${deviceHolds} it sent` : ''})`);
  }
}

// --- what a child records about its run --------------------------------------------------------------

/** The ffnet stack this process runs (dpdk backend), if any. */
async function stackOf(): Promise<import('../index.js').Stack | undefined> {
  const { Stack } = await import('../index.js');
  return Stack.current();
}

/**
 * The packet pool's mbufs in use once it has settled (the same value on two reads 50 ms apart, the
 * event loop turning between them so an inline stack finishes its work), or null without a stack.
 */
export async function settledPoolInUse(maxMs = 3000): Promise<number | null> {
  const st = await stackOf();
  if (!st) return null;
  let last = st.stats().mempool.inUse;
  for (const until = Date.now() + maxMs; Date.now() < until;) {
    await new Promise((r) => setTimeout(r, 50));
    const now = st.stats().mempool.inUse;
    if (now === last) return now;
    last = now;
  }
  return last;
}

/** Stack counters a receiver reports over its window: where frames went and how its loop ran. */
const WINDOW_COUNTERS = ['eth.rx', 'eth.tx', 'udp.rx', 'udp.delivered', 'udp.fullsock', 'udp.memdrop', 'udp.tx', 'loop.turns', 'loop.idle_sleeps', 'loop.busy_ns', 'eth.rx_down'];

interface Edge {
  t: number;
  /** This process's CPU seconds, and the busy seconds of the CPUs it may run on. */
  cpu: [number, number];
  ctx: [number, number];
  steal: [number, number];
  counters: Record<string, number> | null;
  port: Record<string, number> | null;
}

/** Voluntary and involuntary context switches of this process's threads so far. */
function contextSwitches(): [number, number] {
  let vol = 0;
  let invol = 0;
  try {
    for (const tid of readdirSync('/proc/self/task')) {
      const s = readFileSync(`/proc/self/task/${tid}/status`, 'utf8');
      vol += Number(/voluntary_ctxt_switches:\s+(\d+)/.exec(s)?.[1] ?? 0);
      invol += Number(/nonvoluntary_ctxt_switches:\s+(\d+)/.exec(s)?.[1] ?? 0);
    }
  } catch {
    /* a thread that ended while being read */
  }
  return [vol, invol];
}

/** The CPUs this process may run on (its taskset), from /proc/self/status. */
function allowedCpus(): number[] {
  const list = /Cpus_allowed_list:\s+(\S+)/.exec(readFileSync('/proc/self/status', 'utf8'))?.[1] ?? '';
  return list.split(',').flatMap((r) => {
    const [a, b] = r.split('-').map(Number);
    return b === undefined ? [a as number] : Array.from({ length: b - (a as number) + 1 }, (_, k) => (a as number) + k);
  });
}

/** Steal and total jiffies of the whole machine (/proc/stat: time the hypervisor ran something else). */
function stealJiffies(): [number, number] {
  const f = (readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '').trim().split(/\s+/).slice(1).map(Number);
  return [f[7] ?? 0, f.reduce((a, b) => a + b, 0)];
}

/**
 * What explains a receiver's figure, taken at the edges of its window: the process's CPU use and what
 * else ran on its CPUs, its context switches, the machine's steal time, and (dpdk) the stack's counters and the port's drops over the window.
 * Pass `mark` to {@link measureWindow}; `result()` gives the deltas.
 */
export async function windowProbe(): Promise<{ mark: (e: 'start' | 'end') => void; result: (delivered?: number) => Record<string, unknown> }> {
  const st = await stackOf();
  const mine = allowedCpus();
  const edges: Partial<Record<'start' | 'end', Edge>> = {};
  const take = (): Edge => {
    let counters: Record<string, number> | null = null;
    let port: Record<string, number> | null = null;
    if (st) {
      const c = st.stats().counters;
      counters = Object.fromEntries(WINDOW_COUNTERS.map((k) => [k, c[k] ?? 0]));
      const p = st.ports()[0]?.stats;
      if (p) port = { ipackets: p.ipackets, imissed: p.imissed, ierrors: p.ierrors, rx_nombuf: p.rxNombuf };
    }
    const u = process.cpuUsage();
    const busy = mine.reduce((x, c) => x + cpuTimes(c)[0], 0) / 100;
    return { t: nowNs(), cpu: [(u.user + u.system) / 1e6, busy], ctx: contextSwitches(), steal: stealJiffies(), counters, port };
  };
  const delta = (a: Record<string, number> | null, b: Record<string, number> | null): Record<string, number> | null =>
    a && b ? Object.fromEntries(Object.keys(b).map((k) => [k, (b[k] ?? 0) - (a[k] ?? 0)])) : null;
  return {
    mark: (e) => void (edges[e] = take()),
    result: (delivered) => {
      const a = edges.start;
      const b = edges.end;
      if (!a || !b) return {};
      const total = b.steal[1] - a.steal[1];
      const secs = (b.t - a.t) / 1e9;
      const own = b.cpu[0] - a.cpu[0];
      const stack = delta(a.counters, b.counters);
      const turns = stack?.['loop.turns'] ?? 0;
      return {
        cpu_pct: round((own / secs) * 100, 1),
        // CPU time per datagram delivered: the receiver's cost, whatever share of its CPU it got.
        ns_cpu_per_dgram: delivered ? round((own * 1e9) / delivered, 1) : null,
        // Frames per loop turn: near a full burst when the receiver bounds the rate, near 1 when it waits for frames.
        frames_per_turn: stack && turns > 0 ? round((stack['eth.rx'] ?? 0) / turns, 2) : null,
        // What else ran on this process's CPUs over the window (other processes, interrupts), % of a CPU.
        others_on_cpu_pct: round((Math.max(0, b.cpu[1] - a.cpu[1] - own) / secs) * 100, 1),
        ctx_switches_voluntary: b.ctx[0] - a.ctx[0],
        ctx_switches_involuntary: b.ctx[1] - a.ctx[1],
        steal_pct: total > 0 ? round(((b.steal[0] - a.steal[0]) / total) * 100, 2) : 0,
        stack,
        port: delta(a.port, b.port),
      };
    },
  };
}

// --- leaving a memif link ----------------------------------------------------------------------------

/*
 * DPDK's memif PMD handles a peer's disconnect on its interrupt thread: it clears the connected flag and
 * unmaps the shared rings and buffers (memif_disconnect → memif_free_regions) while this process's data
 * path may be inside rte_eth_rx_burst / tx_burst on them — a SIGSEGV in the PMD. So neither end of a
 * bench's memif link may leave while the other still polls: the end that finishes first (the sender)
 * stops polling and says so (`<link>.a-idle`), and waits without polling until the other end has gone
 * (`<link>.b-gone`, or its link down); the other end leaves only once it has seen `a-idle`, and writes
 * `b-gone` as it exits. An inline
 * ffnet stack polls only when its JS thread turns the event loop, so a JS thread blocked synchronously
 * does not poll; udp_blast stops polling after its drain (--idle-file).
 */

/** The files of a memif link's hand-off (see above), under a path unique to the run. */
export const linkFiles = (link: string): { aIdle: string; bGone: string } => ({ aIdle: `${link}.a-idle`, bGone: `${link}.b-gone` });

/** The end that finishes first: says it no longer polls, then blocks (no polling) until the other end has gone; bounded. */
export function leaveLinkFirst(link: string | undefined, maxMs = 60_000): void {
  if (!link) return;
  const { aIdle, bGone } = linkFiles(link);
  writeFileSync(aIdle, '');
  const cell = new Int32Array(new SharedArrayBuffer(4));
  for (const until = Date.now() + maxMs; !existsSync(bGone) && Date.now() < until;) Atomics.wait(cell, 0, 0, 20);
}

/**
 * The end that finishes last: keeps its event loop (and stack) turning until the first end no longer
 * polls (bounded). It may then close its sockets; it calls {@link goneFromLink} right before it exits.
 */
export async function awaitPeerIdle(link: string | undefined, maxMs = 60_000): Promise<void> {
  if (!link) return;
  const { aIdle } = linkFiles(link);
  for (const until = Date.now() + maxMs; !existsSync(aIdle) && Date.now() < until;) await new Promise((r) => setTimeout(r, 20));
}

/**
 * The end that finishes last, as it exits: marks itself gone. Call it synchronously before
 * `process.exit`, with no event-loop turn (no polling) in between.
 */
export function goneFromLink(link: string | undefined): void {
  if (link) writeFileSync(linkFiles(link).bGone, '');
}

/**
 * Waits (bounded) until the memif server at `sock` listens in namespace `ns` — its socket is
 * abstract (`@<sock>` in /proc/net/unix), so the client is started only once it can connect; a client
 * started earlier fails to start its port. Waits `fallbackMs` when `sock` is null (no memif server).
 */
export async function memifListening(ns: Netns, sock: string | null, fallbackMs = 300, maxMs = 30_000): Promise<void> {
  if (sock === null) {
    await new Promise((r) => setTimeout(r, fallbackMs));
    return;
  }
  for (const until = Date.now() + maxMs; Date.now() < until;) {
    const r = await ns.exec('cat', ['/proc/net/unix'], { timeoutMs: 5000 });
    if (r.stdout.includes(`@${sock}`)) return;
    await new Promise((res) => setTimeout(res, 50));
  }
  throw new Error(`the memif server at ${sock} did not listen within ${maxMs} ms`);
}
