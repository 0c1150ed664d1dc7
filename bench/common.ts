/**
 * Pieces the Node.js benchmark runners share (bench/dgram.ts, bench/transport.ts, bench/scale.ts): option
 * parsing, medians, the JSON line a child role prints and the runner reads back, the memif link's two ends
 * and the ffnet.ini of one of them.
 * Importing it has no side effects.
 */
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ExecResult, Netns } from '../testbed/netns.js';

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
 * (0.5..10, default 1), --repeats (1..9, default 3), --sizes (a list in sizes.min..sizes.max, default
 * sizes.def) and the runner's own `extra` ones; with those four read.
 */
export function runnerOptions(argv: string[], extra: string[], sizes: { def: string; min: number; max: number }): { a: Map<string, string>; common: RunnerOptions } {
  const a = argMap(argv);
  const known = ['seconds', 'warmup', 'repeats', 'sizes', ...extra];
  for (const k of a.keys()) if (!known.includes(k)) throw new Error(`unknown option --${k} (known: ${known.map((x) => `--${x}`).join(', ')})`);
  return {
    a,
    common: {
      seconds: num(a, 'seconds', 3, 1, 30),
      warmup: num(a, 'warmup', 1, 0.5, 10),
      repeats: Math.round(num(a, 'repeats', 3, 1, 9)),
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
export const SEND_MAC = '02:00:00:00:00:01';
export const RECV_MAC = '02:00:00:00:00:02';
export const SEND_CPU = 0;
export const RECV_CPU = 1;

/** Where one net_memif end sits: its CPU, memif role, address and MAC, and the peer's static ARP entry. */
export interface MemifEnd {
  cpu: number;
  role: 'server' | 'client';
  addr: string;
  mac: string;
  peer?: [string, string];
  /** Adds data-path lcore 1 on the other CPU; inline (the stack on the JS thread) otherwise. */
  dataLcore?: boolean;
  /**
   * `loop = inline` with this many lcores, all mapped to `cpu` (JS thread k turns lcore k); the port
   * then has as many queue pairs. Excludes `dataLcore`.
   */
  inlineLcores?: number;
  /** With `inlineLcores`: the CPU list (taskset syntax, e.g. `1-3`) every lcore is mapped to instead of `cpu`. */
  inlineCpus?: string;
  /** log2 of the memif ring's descriptors (DPDK's default: 10). */
  rsize?: number;
  /** `[sysctl]` entries. */
  sysctl?: Record<string, number>;
  sock: string;
}

/** Writes the ffnet.ini of one memif end into the run's directory; returns its path. */
export function writeMemifIni(run: BenchRun, name: string, o: MemifEnd): string {
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
    `vdev[] = net_memif0,role=${o.role},socket=${o.sock},mac=${o.mac}${o.rsize === undefined ? '' : `,rsize=${o.rsize}`}`,
    'log_level = warning',
    'nb_mbuf = 16383',
    '[port0]',
    `addr = ${o.addr}`,
    'netmask = 255.255.255.0',
    ...(o.peer ? [`arp[] = ${o.peer[0]} ${o.peer[1]}`] : []),
    ...(o.sysctl ? ['[sysctl]', ...Object.entries(o.sysctl).map(([k, v]) => `${k} = ${v}`)] : []),
    '',
  ];
  const path = join(run.dir, `${prefix}.ini`);
  writeFileSync(path, lines.join('\n'));
  return path;
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

