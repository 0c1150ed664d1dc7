/**
 * `npm run bench:dgram`: ffnet/dgram against node:dgram, side by side in one run.
 *
 * Three setups, all inside a private network namespace, one process per CPU (never oversubscribed):
 *  - node: node:dgram receiver and node:dgram sender over the namespace's loopback;
 *  - ffnet-kernel: the same with ffnet/dgram and no FFNET_CONFIG (its kernel backend);
 *  - ffnet-dpdk: an ffnet/dgram receiver (dpdk backend, net_memif server port 10.88.0.2/24, the stack
 *    inline on the JS thread pinned to CPU 1) fed by build/bin/udp_blast (raw memif PMD on CPU 0, no
 *    stack, transmitting as fast as the link takes frames): the receiver's own capacity.
 *
 * Measured, each `--repeats` times (default 3), medians reported with the ratio to node:dgram:
 *  1. datagrams per second delivered to JS, at 64 and 1400 bytes, through a 'message' listener and
 *     through the batch API ('messages' event; node:dgram has none). The receiver counts what its
 *     listener sees over `--seconds` (default 3) after `--warmup` seconds (default 1) of traffic;
 *  2. ping-pong round-trip time p50/p99, one 64-byte datagram outstanding, `--rtt-count` round trips
 *     (default 20000) or `--rtt-seconds` (default 5), whichever comes first; on dpdk two ffnet/dgram
 *     processes over memif (10.88.0.1 on CPU 0 ⇄ 10.88.0.2 on CPU 1), each stack inline;
 *  3. CPU used by an idle process holding a bound socket, over `--idle-seconds` (default 5), from
 *     /proc/<pid>/stat (utime + stime of all its threads), as % of one core: dpdk inline, dpdk with
 *     one data-path lcore, and node:dgram for reference;
 *  4. the spec's targets, met or not.
 * Before each measurement the runner waits (bounded) for the machine to be idle and records how busy
 * it was. Every child process is bounded in time. Writes bench/results/dgram.json and prints a table.
 *
 * The same file is the child program: `node dist/bench/dgram.js --role recv|send|pingsrv|pingcli|idle …`.
 *   node dist/bench/dgram.js [--seconds 3] [--warmup 1] [--repeats 3] [--sizes 64,1400]
 *                            [--rtt-count 20000] [--rtt-seconds 5] [--idle-seconds 5] [--only rx,rtt,idle]
 */
import type * as NodeDgram from 'node:dgram';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Netns, requireRoot, stopChild } from '../testbed/netns.js';
import {
  argMap, benchMain, check, measureWindow, roundTripSummary, childCommand, cleanRun, fmtRate, fmtX, median, nowNs, num, printJson, round, runnerOptions, writeMemifIni, type BenchRun, type RunnerOptions,
  RECV_ADDR, RECV_CPU, RECV_MAC, SEND_ADDR, SEND_CPU, SEND_MAC,
} from './common.js';
import { sleep, waitQuiet } from './machine.js';

const SELF = fileURLToPath(import.meta.url);
const ROOT = resolve(dirname(SELF), '..', '..');
const BIN = join(ROOT, 'build', 'bin');
const RESULTS = join(ROOT, 'bench', 'results', 'dgram.json');
/** Targets from the spec: multiples of node:dgram's delivered rate at 64 B, RTT share, idle CPU. */
const TARGET_MESSAGE_X = 10;
const TARGET_BATCH_X = 30;
const TARGET_RTT_SHARE = 0.5;
const TARGET_IDLE_PCT = 2;
/** udp_blast always sends to this port. */
const BLAST_PORT = 7;
const RX_PORT = 7;
const PING_PORT = 9;

type Impl = 'node' | 'ffnet';
type Api = 'message' | 'messages';
type DgramModule = typeof NodeDgram;

// --- small helpers --------------------------------------------------------------------------------

async function loadDgram(impl: Impl): Promise<DgramModule> {
  if (impl === 'node') return (await import('node:dgram')) as DgramModule;
  return (await import('../shim/dgram.js')).default as unknown as DgramModule;
}

function backendOf(s: NodeDgram.Socket): string {
  return (s as unknown as { backend?: string }).backend ?? 'node:dgram';
}

// --- child roles ------------------------------------------------------------------------------------

/**
 * Receiver: counts datagrams seen by a 'message' or 'messages' listener. The window starts `warmup`
 * seconds after the first datagram and lasts `window` seconds; the receiver then drains until the
 * sender has stopped for 300 ms. The first `echo` datagrams are echoed
 * back (a raw generator starts only once it sees an echo).
 */
async function roleRecv(a: Map<string, string>): Promise<void> {
  const impl = a.get('impl') as Impl;
  const api = a.get('api') as Api;
  const port = num(a, 'port', RX_PORT, 1, 65535);
  const warmupMs = num(a, 'warmup', 1, 0, 60) * 1000;
  const windowMs = num(a, 'window', 3, 0.5, 60) * 1000;
  const echo = num(a, 'echo', 0, 0, 1000);
  const maxWaitMs = num(a, 'max-wait', 30, 1, 120) * 1000;
  const dgram = await loadDgram(impl);
  const s = dgram.createSocket('udp4');
  let count = 0;
  let bytes = 0;
  let echoed = 0;
  s.on('error', (err) => {
    console.error(`receiver: ${err.message}`);
  });
  if (api === 'message') {
    s.on('message', (msg, rinfo) => {
      count++;
      bytes += msg.length;
      if (echoed < echo) {
        echoed++;
        s.send(msg, rinfo.port, rinfo.address);
      }
    });
  } else {
    interface Batch { count: number; size(i: number): number; copy(i: number): Buffer; port(i: number): number; address(i: number): string }
    (s as unknown as { on(e: 'messages', l: (b: Batch) => void): void }).on('messages', (b) => {
      const n = b.count;
      count += n;
      for (let i = 0; i < n; i++) bytes += b.size(i);
      for (let i = 0; i < n && echoed < echo; i++) {
        echoed++;
        s.send(b.copy(i), b.port(i), b.address(i));
      }
    });
  }
  await new Promise<void>((res) => s.bind(port, () => res()));
  const w = await measureWindow({ count: () => count, bytes: () => bytes, warmupMs, windowMs, maxWaitMs, what: 'receiver' });
  const result = { backend: backendOf(s), api, ...w };
  printJson(result);
  s.close();
  process.exit(0);
}

/** Kernel sender: a connected socket sending `size`-byte datagrams as fast as the send queue drains, for `seconds`. */
async function roleSend(a: Map<string, string>): Promise<void> {
  const impl = a.get('impl') as Impl;
  const size = num(a, 'size', 64, 1, 1472);
  const port = num(a, 'port', RX_PORT, 1, 65535);
  const seconds = num(a, 'seconds', 5, 1, 120);
  const dgram = await loadDgram(impl);
  const s = dgram.createSocket('udp4');
  const buf = Buffer.alloc(size, 0x61);
  let sent = 0;
  let errors = 0;
  s.on('error', () => {
    errors++; // ECONNREFUSED while the receiver is not bound (yet, or any more)
  });
  await new Promise<void>((res) => s.connect(port, '127.0.0.1', () => res()));
  const t0 = nowNs();
  const end = t0 + seconds * 1e9;
  await new Promise<void>((res) => {
    const burst = (): void => {
      if (nowNs() >= end) {
        res();
        return;
      }
      if (s.getSendQueueCount() < 256) {
        for (let i = 0; i < 64; i++) s.send(buf);
        sent += 64;
      }
      setImmediate(burst);
    };
    burst();
  });
  const secs = (nowNs() - t0) / 1e9;
  printJson({ backend: backendOf(s), sent, errors, pps: round(sent / secs) });
  s.close();
  process.exit(0);
}

/** Ping-pong server: echoes every datagram; exits 1 s after the last one, or after `seconds`. */
async function rolePingServer(a: Map<string, string>): Promise<void> {
  const impl = a.get('impl') as Impl;
  const port = num(a, 'port', PING_PORT, 1, 65535);
  const seconds = num(a, 'seconds', 30, 1, 120);
  const dgram = await loadDgram(impl);
  const s = dgram.createSocket('udp4');
  let last = 0;
  let echoed = 0;
  s.on('error', (err) => console.error(`ping server: ${err.message}`));
  s.on('message', (msg, rinfo) => {
    last = Date.now();
    echoed++;
    s.send(msg, rinfo.port, rinfo.address);
  });
  await new Promise<void>((res) => s.bind(port, () => res()));
  const started = Date.now();
  await new Promise<void>((res) => {
    const t = setInterval(() => {
      const now = Date.now();
      if (now - started > seconds * 1000 || (last !== 0 && now - last > 1000)) {
        clearInterval(t);
        res();
      }
    }, 50);
  });
  printJson({ backend: backendOf(s), echoed });
  s.close();
  process.exit(0);
}

/** Ping-pong client: one datagram outstanding; resent after 100 ms without reply (counted as a timeout). */
async function rolePingClient(a: Map<string, string>): Promise<void> {
  const impl = a.get('impl') as Impl;
  const dst = a.get('dst') ?? '127.0.0.1';
  const port = num(a, 'port', PING_PORT, 1, 65535);
  const count = num(a, 'count', 20000, 10, 1e6);
  const seconds = num(a, 'seconds', 5, 1, 60);
  const warm = 1000;
  const dgram = await loadDgram(impl);
  const s = dgram.createSocket('udp4');
  const rtts = new Float64Array(count);
  const buf = Buffer.alloc(64, 0x62);
  let n = 0;
  let warmed = 0;
  let timeouts = 0;
  let sentAt = 0;
  let firstReply = false;
  s.on('error', (err) => console.error(`ping client: ${err.message}`));
  const out = await new Promise<object>((res, rej) => {
    let t0 = 0;
    const finish = (): void => {
      clearInterval(watch);
      const xs = Array.from(rtts.subarray(0, n)).sort((x, y) => x - y);
      const pct = (p: number): number => round((xs[Math.min(xs.length - 1, Math.floor(p * xs.length))] ?? 0) / 1000, 1);
      res({ backend: backendOf(s), n, timeouts, p50_us: pct(0.5), p99_us: pct(0.99), mean_us: round(xs.reduce((x, y) => x + y, 0) / Math.max(1, n) / 1000, 1), seconds: round((nowNs() - t0) / 1e9, 2) });
    };
    const send = (): void => {
      sentAt = nowNs();
      s.send(buf, port, dst);
    };
    s.on('message', () => {
      const t = nowNs();
      if (!firstReply) {
        firstReply = true;
        t0 = t;
      } else if (warmed < warm) {
        warmed++;
      } else {
        rtts[n++] = t - sentAt;
        if (n >= count || t - t0 > seconds * 1e9) {
          finish();
          return;
        }
      }
      send();
    });
    const started = Date.now();
    // Probes until the first reply (the peer may still be starting), then a resend watchdog.
    const watch = setInterval(() => {
      if (!firstReply) {
        if (Date.now() - started > 30_000) {
          clearInterval(watch);
          rej(new Error('ping client: no reply within 30 s'));
          return;
        }
        send();
      } else if (nowNs() - sentAt > 100e6) {
        timeouts++;
        send();
      }
    }, 100);
    s.bind(0, () => send());
  });
  printJson(out);
  s.close();
  process.exit(0);
}

/** Idle holder: a bound socket and nothing else; prints "ready" once bound, exits after `seconds`. */
async function roleIdle(a: Map<string, string>): Promise<void> {
  const impl = a.get('impl') as Impl;
  const seconds = num(a, 'seconds', 10, 1, 120);
  const dgram = await loadDgram(impl);
  const s = dgram.createSocket('udp4');
  await new Promise<void>((res) => s.bind(RX_PORT, () => res()));
  printJson({ ready: true, backend: backendOf(s) });
  setTimeout(() => {
    s.close();
    process.exit(0);
  }, seconds * 1000);
}

// --- runner -----------------------------------------------------------------------------------------

/** utime + stime of a process (all threads), in clock ticks. */
function procTicks(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // Fields after "(comm)": state is field 3, so utime (14) and stime (15) are at indexes 11 and 12.
  return Number(f[11]) + Number(f[12]);
}

/** The command line of a child role of this program: pinned to `cpu`, with or without FFNET_CONFIG. */
function child(cpu: number, config: string | null, role: string, args: string[]): [string, string[]] {
  return childCommand(SELF, cpu, config, role, args);
}

interface RxSample {
  pps: number;
  offered_pps: number;
  busy_before: number;
}

async function rxKernel(run: BenchRun, impl: Impl, api: Api, size: number, o: Options): Promise<RxSample> {
  const port = 20000 + (run.serial++ % 20000);
  const [rc, ra] = child(RECV_CPU, null, 'recv', ['--impl', impl, '--api', api, '--port', String(port), '--warmup', String(o.warmup), '--window', String(o.seconds)]);
  const recv = run.ns.exec(rc, ra, { timeoutMs: (o.warmup + o.seconds + 40) * 1000 });
  await sleep(700);
  const [sc, sa] = child(SEND_CPU, null, 'send', ['--impl', impl, '--size', String(size), '--port', String(port), '--seconds', String(Math.ceil(o.warmup + o.seconds) + 1)]);
  const send = await run.ns.exec(sc, sa, { timeoutMs: (o.warmup + o.seconds + 30) * 1000 });
  const r = check(await recv, `${impl} receiver`);
  const s = check(send, `${impl} sender`);
  return { pps: r.pps as number, offered_pps: s.pps as number, busy_before: 0 };
}

async function rxDpdk(run: BenchRun, api: Api, size: number, o: Options): Promise<RxSample> {
  const sock = join(run.dir, `rx-${run.serial}.sock`);
  const ini = writeMemifIni(run, 'rx', { cpu: RECV_CPU, role: 'server', addr: RECV_ADDR, mac: RECV_MAC, peer: [SEND_ADDR, SEND_MAC], sock });
  const [rc, ra] = child(RECV_CPU, ini, 'recv', ['--impl', 'ffnet', '--api', api, '--port', String(BLAST_PORT), '--warmup', String(o.warmup), '--window', String(o.seconds), '--echo', '8']);
  const recv = run.ns.exec(rc, ra, { timeoutMs: (o.warmup + o.seconds + 60) * 1000 });
  await sleep(500);
  const blast = await run.ns.exec(
    join(BIN, 'udp_blast'),
    ['--socket', sock, '--cpu', String(SEND_CPU), '--mac', SEND_MAC, '--peer-mac', RECV_MAC, '--size', String(size), '--seconds', String(Math.ceil(o.warmup + o.seconds) + 1)],
    { timeoutMs: (o.warmup + o.seconds + 50) * 1000 },
  );
  const r = check(await recv, 'ffnet dpdk receiver');
  const b = check(blast, 'udp_blast');
  if (r.backend !== 'dpdk') throw new Error(`the dpdk receiver ran on the ${r.backend} backend`);
  return { pps: r.pps as number, offered_pps: b.tx_pps as number, busy_before: 0 };
}

interface RttSample {
  p50_us: number;
  p99_us: number;
  timeouts: number;
  busy_before: number;
}

async function rtt(run: BenchRun, setup: Setup, o: Options): Promise<RttSample> {
  let srvIni: string | null = null;
  let cliIni: string | null = null;
  let dst = '127.0.0.1';
  const port = setup === 'ffnet-dpdk' ? PING_PORT : 40000 + (run.serial++ % 20000);
  if (setup === 'ffnet-dpdk') {
    const sock = join(run.dir, `rtt-${run.serial}.sock`);
    srvIni = writeMemifIni(run, 'pingsrv', { cpu: RECV_CPU, role: 'server', addr: RECV_ADDR, mac: RECV_MAC, peer: [SEND_ADDR, SEND_MAC], sock });
    cliIni = writeMemifIni(run, 'pingcli', { cpu: SEND_CPU, role: 'client', addr: SEND_ADDR, mac: SEND_MAC, peer: [RECV_ADDR, RECV_MAC], sock });
    dst = RECV_ADDR;
  }
  const impl: Impl = setup === 'node' ? 'node' : 'ffnet';
  const life = o.rttSeconds + 40;
  const [sc, sa] = child(RECV_CPU, srvIni, 'pingsrv', ['--impl', impl, '--port', String(port), '--seconds', String(life)]);
  const srv = run.ns.exec(sc, sa, { timeoutMs: (life + 10) * 1000 });
  await sleep(setup === 'ffnet-dpdk' ? 500 : 300);
  const [cc, ca] = child(SEND_CPU, cliIni, 'pingcli', ['--impl', impl, '--dst', dst, '--port', String(port), '--count', String(o.rttCount), '--seconds', String(o.rttSeconds)]);
  const cli = await run.ns.exec(cc, ca, { timeoutMs: (o.rttSeconds + 40) * 1000 });
  const c = check(cli, `${setup} ping client`);
  check(await srv, `${setup} ping server`);
  if (setup === 'ffnet-dpdk' && c.backend !== 'dpdk') throw new Error(`the dpdk ping client ran on the ${c.backend} backend`);
  return { p50_us: c.p50_us as number, p99_us: c.p99_us as number, timeouts: c.timeouts as number, busy_before: 0 };
}

type IdleMode = 'node' | 'dpdk-inline' | 'dpdk-lcore';

/** CPU % of one core used by an idle process with a bound socket, over `seconds`. */
async function idleCpu(run: BenchRun, mode: IdleMode, seconds: number): Promise<number> {
  let ini: string | null = null;
  if (mode !== 'node') {
    const sock = join(run.dir, `idle-${run.serial}.sock`);
    ini = writeMemifIni(run, 'idle', { cpu: RECV_CPU, role: 'server', addr: RECV_ADDR, mac: RECV_MAC, sock, dataLcore: mode === 'dpdk-lcore' });
  }
  // With a data-path lcore the process spans both CPUs (JS thread on CPU 1, lcore 1 on CPU 0).
  const cpu = mode === 'dpdk-lcore' ? '0,1' : String(RECV_CPU);
  const env = ini ? [`FFNET_CONFIG=${ini}`] : ['-u', 'FFNET_CONFIG'];
  const p = run.ns.spawn('env', [...env, 'taskset', '-c', cpu, process.execPath, SELF, '--role', 'idle', '--impl', mode === 'node' ? 'node' : 'ffnet', '--seconds', String(seconds + 20)]);
  let out = '';
  let err = '';
  p.stdout?.setEncoding('utf8').on('data', (d: string) => (out += d));
  p.stderr?.setEncoding('utf8').on('data', (d: string) => (err += d));
  try {
    const deadline = Date.now() + 20_000;
    while (!out.includes('"ready"')) {
      if (Date.now() > deadline || p.exitCode !== null) throw new Error(`idle ${mode} process did not get ready:\n${err}${out}`);
      await sleep(50);
    }
    if (mode !== 'node' && !out.includes('"dpdk"')) throw new Error(`idle ${mode} process ran on another backend: ${out}`);
    const pid = p.pid as number;
    if (readFileSync(`/proc/${pid}/comm`, 'utf8').trim() !== 'node') throw new Error(`pid ${pid} is not the node process`);
    await sleep(1000); // settle after start-up
    const hz = 100; // USER_HZ on Linux
    const t0 = Date.now();
    const c0 = procTicks(pid);
    await sleep(seconds * 1000);
    const c1 = procTicks(pid);
    const secs = (Date.now() - t0) / 1000;
    return round(((c1 - c0) / hz / secs) * 100, 2);
  } finally {
    await stopChild(p, 3000);
  }
}

interface Options extends RunnerOptions {
  rttCount: number;
  rttSeconds: number;
  idleSeconds: number;
  only: Set<string>;
}

type Setup = 'node' | 'ffnet-kernel' | 'ffnet-dpdk';
const SETUPS: Setup[] = ['node', 'ffnet-kernel', 'ffnet-dpdk'];

function parseOptions(argv: string[]): Options {
  const { a, common } = runnerOptions(argv, ['rtt-count', 'rtt-seconds', 'idle-seconds', 'only'], { def: '64,1400', min: 18, max: 1472 });
  return {
    ...common,
    rttCount: Math.round(num(a, 'rtt-count', 20000, 100, 1e6)),
    rttSeconds: num(a, 'rtt-seconds', 5, 1, 30),
    idleSeconds: num(a, 'idle-seconds', 5, 1, 60),
    only: new Set((a.get('only') ?? 'rx,rtt,idle').split(',')),
  };
}


async function runner(argv: string[]): Promise<void> {
  const o = parseOptions(argv);
  requireRoot();
  readFileSync(join(BIN, 'udp_blast'));
  const ns = await Netns.create('bench-dgram');
  const run: BenchRun = { label: 'dgram', dir: mkdtempSync(join(tmpdir(), 'ffnet-bench-dgram-')), ns, serial: 0, prefixes: [] };
  const log = (s: string): void => void process.stderr.write(`${s}\n`);
  const runs: Array<Record<string, unknown>> = [];
  const rx: Array<{ setup: Setup; api: Api; size: number; pps: number; samples: number[]; offered_pps: number; sender: string }> = [];
  const rtts: Array<{ setup: Setup; p50_us: number; p99_us: number; samples_p50: number[]; samples_p99: number[]; timeouts: number }> = [];
  const idle: Array<{ mode: IdleMode; cpu_pct: number; samples: number[] }> = [];
  try {
    if (o.only.has('rx')) {
      for (const size of o.sizes) {
        for (const setup of SETUPS) {
          for (const api of ['message', 'messages'] as Api[]) {
            if (setup === 'node' && api === 'messages') continue; // node:dgram has no batch event
            const samples: RxSample[] = [];
            for (let rep = 0; rep < o.repeats; rep++) {
              const busy = await waitQuiet();
              const s = setup === 'ffnet-dpdk' ? await rxDpdk(run, api, size, o) : await rxKernel(run, setup === 'node' ? 'node' : 'ffnet', api, size, o);
              s.busy_before = busy;
              samples.push(s);
              runs.push({ kind: 'rx', setup, api, size, rep, busy_before: busy, pps: s.pps, offered_pps: s.offered_pps });
              log(`rx ${setup} ${api} ${size} B run ${rep + 1}/${o.repeats}: ${fmtRate(s.pps)}/s delivered (offered ${fmtRate(s.offered_pps)}/s, machine ${Math.round(busy * 100)}% busy before)`);
            }
            rx.push({
              setup,
              api,
              size,
              pps: Math.round(median(samples.map((s) => s.pps))),
              samples: samples.map((s) => Math.round(s.pps)),
              offered_pps: Math.round(median(samples.map((s) => s.offered_pps))),
              sender: setup === 'ffnet-dpdk' ? 'udp_blast (raw memif PMD, CPU 0)' : `${setup === 'node' ? 'node:dgram' : 'ffnet/dgram kernel backend'} send() loop (CPU 0)`,
            });
          }
        }
      }
    }
    if (o.only.has('rtt')) {
      for (const setup of SETUPS) {
        const samples: RttSample[] = [];
        for (let rep = 0; rep < o.repeats; rep++) {
          const busy = await waitQuiet();
          const s = await rtt(run, setup, o);
          s.busy_before = busy;
          samples.push(s);
          runs.push({ kind: 'rtt', setup, rep, ...s });
          log(`rtt ${setup} run ${rep + 1}/${o.repeats}: p50 ${s.p50_us} µs, p99 ${s.p99_us} µs (${s.timeouts} timeouts, machine ${Math.round(busy * 100)}% busy before)`);
        }
        rtts.push({
          setup,
          ...roundTripSummary(samples),
          timeouts: samples.reduce((x, s) => x + s.timeouts, 0),
        });
      }
    }
    if (o.only.has('idle')) {
      for (const mode of ['node', 'dpdk-inline', 'dpdk-lcore'] as IdleMode[]) {
        const samples: number[] = [];
        for (let rep = 0; rep < o.repeats; rep++) {
          const busy = await waitQuiet();
          const pct = await idleCpu(run, mode, o.idleSeconds);
          samples.push(pct);
          runs.push({ kind: 'idle', mode, rep, busy_before: busy, cpu_pct: pct });
          log(`idle ${mode} run ${rep + 1}/${o.repeats}: ${pct}% of a core (machine ${Math.round(busy * 100)}% busy before)`);
        }
        idle.push({ mode, cpu_pct: median(samples), samples });
      }
    }
  } finally {
    await ns.destroy();
    cleanRun(run);
  }

  const nodeRate = (size: number): number | null => rx.find((r) => r.setup === 'node' && r.size === size)?.pps ?? null;
  const rxOut = rx.map((r) => {
    const base = nodeRate(r.size);
    return { ...r, ratio_to_node: base ? round(r.pps / base, 2) : null };
  });
  const nodeRtt = rtts.find((r) => r.setup === 'node');
  const rttOut = rtts.map((r) => ({ ...r, p50_ratio_to_node: nodeRtt ? round(r.p50_us / nodeRtt.p50_us, 3) : null }));
  const at = (api: Api): number | null => rxOut.find((r) => r.setup === 'ffnet-dpdk' && r.api === api && r.size === 64)?.ratio_to_node ?? null;
  const dpdkRtt = rttOut.find((r) => r.setup === 'ffnet-dpdk');
  const idleInline = idle.find((i) => i.mode === 'dpdk-inline');
  const idleLcore = idle.find((i) => i.mode === 'dpdk-lcore');
  const targets = {
    message_64B: { target: `≥ ${TARGET_MESSAGE_X}× node:dgram`, value: at('message'), met: at('message') === null ? null : (at('message') as number) >= TARGET_MESSAGE_X },
    batch_64B: { target: `≥ ${TARGET_BATCH_X}× node:dgram`, value: at('messages'), met: at('messages') === null ? null : (at('messages') as number) >= TARGET_BATCH_X },
    rtt_p50: { target: `≤ ${TARGET_RTT_SHARE} × node:dgram's p50`, value: dpdkRtt?.p50_ratio_to_node ?? null, met: dpdkRtt?.p50_ratio_to_node == null ? null : dpdkRtt.p50_ratio_to_node <= TARGET_RTT_SHARE },
    idle_cpu_inline: { target: `≤ ${TARGET_IDLE_PCT}% of a core`, value: idleInline?.cpu_pct ?? null, met: idleInline ? idleInline.cpu_pct <= TARGET_IDLE_PCT : null },
    idle_cpu_lcore: { target: `≤ ${TARGET_IDLE_PCT}% of a core`, value: idleLcore?.cpu_pct ?? null, met: idleLcore ? idleLcore.cpu_pct <= TARGET_IDLE_PCT : null },
  };
  const c = cpus();
  const doc = {
    bench: 'dgram',
    date: new Date().toISOString(),
    machine: { cpus: c.length, model: c[0]?.model ?? 'unknown', node: process.version },
    setup: {
      window_seconds: o.seconds,
      warmup_seconds: o.warmup,
      repeats: o.repeats,
      statistic: 'median',
      oversubscribed: false,
      node: 'node:dgram receiver (taskset CPU 1) ← node:dgram sender (CPU 0), connected, send() loop, over the namespace loopback',
      'ffnet-kernel': 'the same with ffnet/dgram and no FFNET_CONFIG (kernel backend); its batch event groups message events',
      'ffnet-dpdk': 'ffnet/dgram receiver (dpdk backend, net_memif server 10.88.0.2/24, stack inline, lcores = 0@1) ← udp_blast (raw memif PMD, no stack, CPU 0): the receiver capacity',
      rtt: `ping-pong, one 64 B datagram outstanding, after 1000 warm-up round trips, up to ${o.rttCount} round trips or ${o.rttSeconds} s; client CPU 0, server CPU 1; dpdk: two ffnet/dgram processes over memif, each inline`,
      idle: `utime+stime from /proc/<pid>/stat over ${o.idleSeconds} s of a process holding one bound socket; dpdk-lcore adds data-path lcore 1 (lcore_mask 0x3); default idle_sleep`,
    },
    targets,
    rx: rxOut,
    rtt: rttOut,
    idle,
    runs,
  };
  mkdirSync(dirname(RESULTS), { recursive: true });
  writeFileSync(RESULTS, `${JSON.stringify(doc, null, 2)}\n`);

  const lines: string[] = [];
  lines.push('delivered datagrams/s (median)       size   rate     × node:dgram   offered');
  for (const r of rxOut) {
    lines.push(`  ${`${r.setup} ${r.api}`.padEnd(34)} ${String(r.size).padStart(5)}  ${fmtRate(r.pps).padStart(7)}  ${fmtX(r.ratio_to_node).padStart(8)}     ${fmtRate(r.offered_pps)}`);
  }
  lines.push('round trip (median of runs)          p50 µs   p99 µs   p50 × node:dgram');
  for (const r of rttOut) lines.push(`  ${r.setup.padEnd(34)} ${String(r.p50_us).padStart(7)}  ${String(r.p99_us).padStart(7)}   ${fmtX(r.p50_ratio_to_node)}`);
  lines.push('idle process, % of one core');
  for (const i of idle) lines.push(`  ${i.mode.padEnd(34)} ${String(i.cpu_pct).padStart(7)}`);
  lines.push('targets');
  for (const [k, t] of Object.entries(targets)) lines.push(`  ${k.padEnd(18)} ${t.target.padEnd(30)} ${String(t.value).padStart(8)}  ${t.met === null ? 'not measured' : t.met ? 'met' : 'NOT met'}`);
  lines.push(`(JSON: ${RESULTS})`);
  console.log(lines.join('\n'));
}

// --- entry ------------------------------------------------------------------------------------------

benchMain(runner, { recv: roleRecv, send: roleSend, pingsrv: rolePingServer, pingcli: rolePingClient, idle: roleIdle });
