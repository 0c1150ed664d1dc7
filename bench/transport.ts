/**
 * `npm run bench:transport`: ffnet's reliable transport (ffnet/transport) over ffnet/dgram's dpdk backend and
 * over node:dgram, side by side in one run, with raw dgram rates for reference.
 *
 * Everything runs inside a private network namespace, one process per CPU (never oversubscribed): the
 * sending side (publisher, ping client, raw sender) on CPU 0, the receiving side (subscriber, pong server,
 * raw receiver) on CPU 1. Two backends:
 *  - dpdk: each process runs its own ffnet stack inline on its JS thread (lcore_mask 0x1), the two joined by
 *    net_memif (10.88.0.2 is the memif server, 10.88.0.1 the client; rings of 4096 descriptors), with static
 *    ARP entries and kern.ipc.maxsockbuf raised to 16 MiB;
 *  - node: the transport takes its sockets from node:dgram (`new Transport({ dgram })`), over the
 *    namespace's loopback.
 *
 * Measured, each `--repeats` times (default 5), min / median / max reported, ratios to node:dgram's median:
 *  1. throughput: messages per second from one Publication to one Subscription, for each of `--sizes`
 *     (default 32 and 1024 bytes). The publisher offers in a loop until BACK_PRESSURED, then yields with
 *     setImmediate; the subscriber drains on 'readable' (`while (sub.poll(handler, 4096) > 0);`) and counts
 *     the messages delivered over `--seconds` (default 3) after `--warmup` seconds (default 1). Every message
 *     carries its sequence number in its first 4 bytes; the subscriber checks every one arrives once and in
 *     order, and the runner checks the subscriber received all the publisher sent (the publisher closes
 *     cleanly, so the stream ends with EOS once everything is consumed): losses and disorder must be 0;
 *  2. latency: ping-pong round-trip time p50/p99 in µs, one message outstanding, for each size: stream A→B
 *     (ping publication → pong subscription) and B→A (pong publication → ping subscription), after 1000
 *     warm-up round trips, up to `--lat-count` (default 20000) round trips or `--lat-seconds` (default 5);
 *  3. raw dgram for reference, 64 B: datagrams/s delivered to a node:dgram 'message' listener by a
 *     node:dgram send() loop, and to an ffnet/dgram dpdk receiver by an ffnet/dgram dpdk sender on a
 *     connected socket (send() into 'message', and sendBatch() into 'messages'), and sendBatch() naming the
 *     destination per datagram on an unconnected socket, as the transport sends ('messages' addressed).
 *     The sender bounds these rates (offered ≈ delivered; the receiver's capacity is bench:dgram's figure);
 *  4. Aeron's C media driver for reference, when `--aeron DIR` (or env AERON_BUILD / AERON_DIR) names a
 *     build of scripts/build-aeron.sh: aeronmd with its C samples streaming_publisher (32 B, CPU 0) →
 *     rate_subscriber (CPU 1) over loopback UDP, as many runs of the same window; "not measured" otherwise;
 *  5. the targets, on the median of the runs and on every run: 32 B over dpdk ≥ 2× Aeron C and
 *     ≥ 8M msg/s (no run < 1× Aeron C), 1 KiB over dpdk ≥ 4× node:dgram (no run < 2×), dpdk round trip
 *     p99 ≤ 100 µs, and no message lost or out of order.
 * A run whose child crashed (a signal), timed out or failed, or whose receiving ffnet process's packet pool
 * was not back at its baseline once it closed its transport or socket, is a failed run: recorded with why,
 * never a figure, and a target with a failed run is not met. The two ends of a memif link leave it in
 * turn, the sending end first going idle (bench/common.ts, "leaving a memif link"): memif unmaps the
 * rings on a disconnect under a data path still polling them, which killed receivers with SIGSEGV.
 * Channels: `aeron:udp?endpoint=HOST:PORT|<--params>`, default params term-length=16m|rcv-wnd=192k, and every
 * channel socket asks for 4 MiB SO_RCVBUF/SO_SNDBUF (`--socket-buffer`; Linux grants twice that up to
 * 2 × net.core.rmem_max, 416 KiB by default, and so does the ffnet stack up to kern.ipc.maxsockbuf). The
 * receiver window must fit the receiving socket's buffer, or a window's burst overflows it and loss recovery
 * takes over: on node:dgram, rcv-wnd=1m loses datagrams at the socket and runs several times slower.
 * Before each measurement the runner waits (bounded) for the machine to be idle and records how busy it was;
 * a measurement during which other processes used more than 10% of the machine is taken again (up to 3
 * attempts; not with `--quiet-wait 0`, which measures at once — for checking the bench on a busy machine).
 * Every child process is bounded in time. Writes bench/results/transport.json and prints the tables.
 *
 * The same file is the child program: `node dist/bench/transport.js --role sub|pub|ping|pong|rawrecv|rawsend …`.
 *   node dist/bench/transport.js [--seconds 3] [--warmup 1] [--repeats 5] [--sizes 32,1024]
 *        [--lat-count 20000] [--lat-seconds 5] [--only tput,lat,raw,aeron] [--backends dpdk,node]
 *        [--params 'term-length=16m|rcv-wnd=192k'] [--socket-buffer 4194304] [--cpu-prof DIR]
 *        [--aeron DIR] [--aeron-params 'term-length=16m'] [--aeron-driver-cpus 0,1] [--quiet-wait 30]
 * `--socket-buffer 0` leaves the sockets' buffers at the system's default; `--cpu-prof DIR` writes V8 CPU
 * profiles of the throughput publishers and subscribers into DIR. The Aeron stage's driver runs with
 * Aeron's defaults (threading mode and idle strategies; its own AERON_* environment variables apply,
 * AERON_DIR excepted: each run gets a fresh aeron directory under /dev/shm) on `--aeron-driver-cpus`.
 */
import { execFileSync } from 'node:child_process';
import type * as NodeDgram from 'node:dgram';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Netns, requireRoot } from '../testbed/netns.js';
import type { DatagramModule, Transport as TransportClass, TransportOptions } from '../transport/index.js';
import {
  attempt, awaitPeerIdle, benchMain, check, checkPool, childCommand, cleanRun, fmtRate, fmtSpread, fmtTarget, fmtX, goneFromLink, judge, leaveLinkFirst, measureWindow, median, memifListening, nowNs, num,
  printJson, round, runnerOptions, settledPoolInUse, spread, why, windowProbe, writeMemifIni, type BenchRun, type RunnerOptions, type Spread, type TargetResult,
  RECV_ADDR, RECV_CPU, RECV_MAC, SEND_ADDR, SEND_CPU, SEND_MAC,
} from './common.js';
import { processCpuSeconds, sleep, waitQuiet, waitsForQuiet } from './machine.js';

const SELF = fileURLToPath(import.meta.url);
const ROOT = resolve(dirname(SELF), '..', '..');
const RESULTS = join(ROOT, 'bench', 'results', 'transport.json');
/** The targets (medians of the runs, and the floor no run may fall below). */
const TARGET = {
  /** 32 B over dpdk: × Aeron's C driver on the same machine, and an absolute rate. */
  aeron32: { x: 2, floor: 1, mps: 8_000_000 },
  /** 1 KiB over dpdk: × the transport over node:dgram. */
  node1k: { x: 4, floor: 2 },
  rttP99Us: 100,
};
const NO_AERON = 'not measured (no Aeron build: see docs/benchmarks.md)';
const DEFAULT_PARAMS = 'term-length=16m|rcv-wnd=192k';
/** SO_RCVBUF/SO_SNDBUF the transport asks for on every channel socket. */
const DEFAULT_SOCKET_BUFFER = 4 * 1024 * 1024;
/**
 * The ffnet stacks' tuning for a windowed stream: memif rings of 4096 descriptors (a window in flight fits
 * the ring), and socket buffers up to 16 MiB (kern.ipc.maxsockbuf), so the 4 MiB asked (8 MiB granted, as
 * Linux doubles) holds a whole window at either end.
 */
const MEMIF_RSIZE = 12;
const STACK_SYSCTL = { 'kern.ipc.maxsockbuf': 16 * 1024 * 1024 };
const TPUT_STREAM = 1001;
const PING_STREAM = 1002;
const PONG_STREAM = 1003;
/** Ports on the dpdk stacks (each process has its own, so they never clash). */
const TPUT_PORT = 40123;
const PING_PORT = 40124;
const PONG_PORT = 40125;
const RAW_PORT = 40126;
const RAW_SIZE = 64;
/** The message size of the Aeron stage (the reference figure for the transport's 32-byte target). */
const AERON_SIZE = 32;
const PING_WARMUP = 1000;
/** Publisher offers per event-loop turn at most, so it checks its clock even if never back-pressured. */
const OFFERS_PER_TURN = 65536;

type Backend = 'dpdk' | 'node';
type DgramModule = typeof NodeDgram;

// --- child roles ------------------------------------------------------------------------------------

/** The transport for a backend: ffnet/dgram (dpdk, FFNET_CONFIG set by the runner) or node:dgram. */
async function makeTransport(a: Map<string, string>): Promise<TransportClass> {
  const backend = a.get('backend') as Backend;
  const { Transport } = await import('../transport/index.js');
  const options: TransportOptions = {};
  if (backend === 'node') options.dgram = (await import('node:dgram')) as unknown as DatagramModule;
  const buffer = num(a, 'socket-buffer', 0, 0, 1 << 30);
  if (buffer > 0) options.socketBufferSize = buffer;
  return new Transport(options);
}

/** 'dpdk' when this process runs an ffnet stack (checked after the transport opened its sockets), else 'node:dgram'. */
async function backendInUse(a: Map<string, string>): Promise<string> {
  if (a.get('backend') === 'node') return 'node:dgram';
  const { Stack } = await import('../index.js');
  return Stack.current() !== undefined ? 'dpdk' : 'kernel';
}

/** Stack counters that show where datagrams went, for dpdk children. */
async function stackCounters(a: Map<string, string>): Promise<Record<string, number> | undefined> {
  if (a.get('backend') === 'node') return undefined;
  const { Stack } = await import('../index.js');
  const c = Stack.current()?.stats().counters;
  if (!c) return undefined;
  const out: Record<string, number> = {};
  for (const k of ['eth.rx', 'eth.tx', 'eth.tx_dropped', 'udp.rx', 'udp.delivered', 'udp.fullsock', 'udp.tx', 'udp.tx_errors', 'loop.turns', 'loop.idle_sleeps']) out[k] = c[k] ?? 0;
  return out;
}

/** CPU seconds this process has used (user + system), reported so the runner can tell what else ran. */
function cpuSeconds(): number {
  const u = process.cpuUsage();
  return round((u.user + u.system) / 1e6, 3);
}

/** The sequence number in a message's first 4 bytes (little-endian). */
function seqOf(m: Uint8Array): number {
  return ((m[0] as number) | ((m[1] as number) << 8) | ((m[2] as number) << 16) | ((m[3] as number) << 24)) >>> 0;
}

function writeSeq(m: Uint8Array, seq: number): void {
  m[0] = seq & 0xff;
  m[1] = (seq >>> 8) & 0xff;
  m[2] = (seq >>> 16) & 0xff;
  m[3] = (seq >>> 24) & 0xff;
}

/**
 * Throughput subscriber: drains on 'readable' and checks every message's sequence number and size. The
 * window starts `warmup` seconds after the first message and lasts `window` seconds; the role ends when the
 * image reaches the end of the stream (the publisher closed) or after `max-wait` seconds.
 */
async function roleSub(a: Map<string, string>): Promise<void> {
  const channel = a.get('channel') as string;
  const size = num(a, 'size', 32, 4, 1 << 20);
  const warmupMs = num(a, 'warmup', 1, 0, 60) * 1000;
  const windowMs = num(a, 'window', 3, 0.5, 60) * 1000;
  const maxWaitMs = num(a, 'max-wait', 60, 5, 300) * 1000;
  const t = await makeTransport(a);
  const sub = await t.addSubscription(channel, TPUT_STREAM);
  const baseline = await settledPoolInUse();
  const probe = await windowProbe();
  let count = 0;
  let expected = 0;
  let lost = 0;
  let disorder = 0;
  let wrongSize = 0;
  let byTimer = 0;
  const handler = (m: Uint8Array): void => {
    count++;
    const seq = seqOf(m);
    if (seq === expected) expected++;
    else if (seq > expected) {
      lost += seq - expected;
      expected = seq + 1;
    } else disorder++;
    if (m.length !== size) wrongSize++;
  };
  sub.on('readable', () => {
    while (sub.poll(handler, 4096) > 0);
  });
  let ended = '';
  let image: { counters: object; sourceIdentity: string } | undefined;
  sub.on('imageAvailable', (img) => (image = img));
  sub.on('imageUnavailable', (img, reason) => {
    image = img;
    ended = reason;
  });
  const started = Date.now();
  const window = await new Promise<Record<string, number | string>>((res, rej) => {
    let firstAt = 0;
    let t0 = 0;
    let c0 = 0;
    let done: Record<string, number | string> | undefined;
    const tick = setInterval(() => {
      // A safety net, counted: anything it finds was readable without a 'readable' event.
      const before = count;
      while (sub.poll(handler, 4096) > 0);
      byTimer += count - before;
      const t = nowNs();
      if (count > 0 && firstAt === 0) firstAt = t;
      if (firstAt !== 0 && t0 === 0 && t - firstAt >= warmupMs * 1e6) {
        probe.mark('start');
        t0 = t;
        c0 = count;
      }
      if (t0 !== 0 && done === undefined && t - t0 >= windowMs * 1e6) {
        probe.mark('end');
        const secs = (t - t0) / 1e9;
        done = { delivered: count - c0, seconds: round(secs, 3), mps: round((count - c0) / secs), ...probe.result(count - c0) };
      }
      if (ended !== '' || Date.now() - started > maxWaitMs) {
        clearInterval(tick);
        if (done === undefined) rej(new Error(`subscriber: ${ended ? `image ended (${ended})` : 'timed out'} before the window closed; ${count} messages`));
        else res(done);
      }
    }, 20);
  });
  const backend = await backendInUse(a);
  const stack = await stackCounters(a);
  await awaitPeerIdle(a.get('link'));
  await t.close({ drain: false });
  const end = await settledPoolInUse();
  printJson({
    backend, cpu_s: cpuSeconds(), ...window, total: count, last_seq: expected - 1, lost, disorder, wrong_size: wrongSize,
    polled_by_timer: byTimer, end: ended || 'timeout', image: image?.counters ?? null, transport: t.counters, stack, pool: baseline === null ? null : { baseline, end },
  });
  goneFromLink(a.get('link'));
  process.exit(0);
}

/**
 * Throughput publisher: once connected, offers `size`-byte messages numbered from 0 until BACK_PRESSURED,
 * yields with setImmediate, and repeats for `seconds`; then closes cleanly (drains, EOS).
 */
async function rolePub(a: Map<string, string>): Promise<void> {
  const channel = a.get('channel') as string;
  const size = num(a, 'size', 32, 4, 1 << 20);
  const seconds = num(a, 'seconds', 5, 1, 120);
  const { PublicationResult } = await import('../transport/index.js');
  const t = await makeTransport(a);
  const pub = await t.addPublication(channel, TPUT_STREAM);
  await pub.whenConnected(20_000);
  const buf = Buffer.alloc(size, 0x5a);
  let seq = 0;
  let turns = 0;
  let notConnected = 0;
  const t0 = nowNs();
  const end = t0 + seconds * 1e9;
  await new Promise<void>((res, rej) => {
    const pump = (): void => {
      turns++;
      for (let i = 0; i < OFFERS_PER_TURN; i++) {
        writeSeq(buf, seq);
        const r = pub.offer(buf);
        if (r > 0) {
          seq++;
          continue;
        }
        if (r === PublicationResult.ADMIN_ACTION) continue;
        if (r === PublicationResult.BACK_PRESSURED) break;
        if (r === PublicationResult.NOT_CONNECTED) {
          notConnected++;
          break;
        }
        rej(new Error(`publisher: offer returned ${r} after ${seq} messages`));
        return;
      }
      if (nowNs() >= end) res();
      else setImmediate(pump);
    };
    pump();
  });
  const secs = (nowNs() - t0) / 1e9;
  const c0 = Date.now();
  await Promise.race([pub.close(), sleep(15_000)]);
  const closeMs = Date.now() - c0;
  const backend = await backendInUse(a);
  const stack = await stackCounters(a);
  await t.close({ drain: false });
  printJson({
    backend, cpu_s: cpuSeconds(), sent: seq, seconds: round(secs, 3), offered_mps: round(seq / secs), turns, not_connected: notConnected,
    close_ms: closeMs, publication: pub.counters, transport: t.counters, stack, pool_end: await settledPoolInUse(),
  });
  leaveLinkFirst(a.get('link'));
  process.exit(0);
}

/** The ping side's two channels: `out` to the pong host, `in` on this host. */
function pingChannels(a: Map<string, string>): { toPong: string; toPing: string } {
  const params = a.get('params') as string;
  return {
    toPong: `aeron:udp?endpoint=${a.get('pong-host') as string}:${a.get('pong-port') as string}|${params}`,
    toPing: `aeron:udp?endpoint=${a.get('ping-host') as string}:${a.get('ping-port') as string}|${params}`,
  };
}

/**
 * Pong: echoes every message of stream A→B on stream B→A. Ends when the ping's stream ends (its publication
 * closed) or after `seconds`.
 */
async function rolePong(a: Map<string, string>): Promise<void> {
  const seconds = num(a, 'seconds', 30, 1, 300);
  const { PublicationResult } = await import('../transport/index.js');
  const { toPong, toPing } = pingChannels(a);
  const t = await makeTransport(a);
  const sub = await t.addSubscription(toPong, PING_STREAM);
  const pub = await t.addPublication(toPing, PONG_STREAM);
  const baseline = await settledPoolInUse();
  let echoed = 0;
  let retries = 0;
  const backlog: Buffer[] = [];
  const flush = (): void => {
    while (backlog.length > 0) {
      const r = pub.offer(backlog[0] as Buffer);
      if (r > 0) backlog.shift();
      else if (r !== PublicationResult.ADMIN_ACTION) {
        retries++;
        setImmediate(flush);
        return;
      }
    }
  };
  const handler = (m: Uint8Array): void => {
    echoed++;
    if (backlog.length === 0) {
      let r = pub.offer(m);
      if (r === PublicationResult.ADMIN_ACTION) r = pub.offer(m);
      if (r > 0) return;
      backlog.push(Buffer.from(m));
      setImmediate(flush);
    } else backlog.push(Buffer.from(m));
  };
  sub.on('readable', () => {
    while (sub.poll(handler, 4096) > 0);
  });
  let ended = '';
  sub.on('imageUnavailable', (_img, reason) => (ended = reason));
  const started = Date.now();
  await new Promise<void>((res) => {
    const tick = setInterval(() => {
      if (ended !== '' || Date.now() - started > seconds * 1000) {
        clearInterval(tick);
        res();
      }
    }, 50);
  });
  const backend = await backendInUse(a);
  await awaitPeerIdle(a.get('link'));
  await t.close({ drain: false });
  const end = await settledPoolInUse();
  printJson({ backend, cpu_s: cpuSeconds(), echoed, retries, end: ended || 'timeout', publication: pub.counters, pool: baseline === null ? null : { baseline, end } });
  goneFromLink(a.get('link'));
  process.exit(0);
}

/** Ping: one message outstanding on A→B, timed until its echo arrives on B→A. */
async function rolePing(a: Map<string, string>): Promise<void> {
  const size = num(a, 'size', 32, 4, 1 << 20);
  const count = num(a, 'count', 20000, 10, 1e6);
  const seconds = num(a, 'seconds', 5, 1, 60);
  const { PublicationResult } = await import('../transport/index.js');
  const { toPong, toPing } = pingChannels(a);
  const t = await makeTransport(a);
  const sub = await t.addSubscription(toPing, PONG_STREAM);
  const pub = await t.addPublication(toPong, PING_STREAM);
  await pub.whenConnected(20_000);
  // The echoes need the pong's publication connected to this subscription too.
  const joinBy = Date.now() + 20_000;
  while (!sub.isConnected) {
    if (Date.now() > joinBy) throw new Error('ping: the pong stream did not join within 20 s');
    await sleep(10);
  }
  const rtts = new Float64Array(count);
  const buf = Buffer.alloc(size, 0x62);
  let n = 0;
  let seq = 0;
  let sentAt = 0;
  let wrong = 0;
  let slow = 0;
  let t0 = 0;
  const out = await new Promise<object>((res, rej) => {
    let finished = false;
    const send = (): void => {
      writeSeq(buf, seq);
      sentAt = nowNs();
      let r = pub.offer(buf);
      while (r === PublicationResult.ADMIN_ACTION) r = pub.offer(buf);
      if (r < 0) {
        finished = true;
        rej(new Error(`ping: offer returned ${r} at round trip ${seq}`));
      }
    };
    const finish = (): void => {
      finished = true;
      clearInterval(watch);
      const xs = Array.from(rtts.subarray(0, n)).sort((x, y) => x - y);
      const pct = (p: number): number => round((xs[Math.min(xs.length - 1, Math.floor(p * xs.length))] ?? 0) / 1000, 1);
      res({
        n, wrong, slow, p50_us: pct(0.5), p99_us: pct(0.99), mean_us: round(xs.reduce((x, y) => x + y, 0) / Math.max(1, n) / 1000, 1),
        seconds: round((nowNs() - t0) / 1e9, 2),
      });
    };
    const handler = (m: Uint8Array): void => {
      if (finished) return;
      const t = nowNs();
      if (seqOf(m) !== seq || m.length !== size) {
        wrong++;
        return;
      }
      if (seq === PING_WARMUP) t0 = t;
      if (seq >= PING_WARMUP) {
        if (t - sentAt > 100e6) slow++;
        rtts[n++] = t - sentAt;
        if (n >= count || t - t0 > seconds * 1e9) {
          finish();
          return;
        }
      }
      seq++;
      send();
    };
    sub.on('readable', () => {
      while (sub.poll(handler, 4096) > 0);
    });
    // A reliable stream loses nothing, so there is no resend here: a round trip over 5 s fails the run.
    const watch = setInterval(() => {
      if (nowNs() - sentAt > 5e9) {
        clearInterval(watch);
        finished = true;
        rej(new Error(`ping: no echo of message ${seq} within 5 s`));
      }
    }, 100);
    send();
  });
  const backend = await backendInUse(a);
  await Promise.race([pub.close(), sleep(5000)]);
  await t.close({ drain: false });
  printJson({ backend, cpu_s: cpuSeconds(), ...out, publication: pub.counters });
  leaveLinkFirst(a.get('link'));
  process.exit(0);
}

/**
 * Raw receiver: counts datagrams seen by a 'message' or 'messages' listener over `window` seconds after
 * `warmup` seconds from the first; drains until the sender has stopped for 300 ms.
 */
async function roleRawRecv(a: Map<string, string>): Promise<void> {
  const backend = a.get('backend') as Backend;
  const api = a.get('api') as 'message' | 'messages';
  const port = num(a, 'port', RAW_PORT, 1, 65535);
  const warmupMs = num(a, 'warmup', 1, 0, 60) * 1000;
  const windowMs = num(a, 'window', 3, 0.5, 60) * 1000;
  const maxWaitMs = num(a, 'max-wait', 30, 1, 120) * 1000;
  const dgram: DgramModule = backend === 'node'
    ? ((await import('node:dgram')) as DgramModule)
    : ((await import('../shim/dgram.js')).default as unknown as DgramModule);
  const s = dgram.createSocket('udp4');
  let count = 0;
  s.on('error', (err) => console.error(`raw receiver: ${err.message}`));
  if (api === 'message') s.on('message', () => void count++);
  else (s as unknown as { on(e: 'messages', l: (b: { count: number }) => void): void }).on('messages', (b) => void (count += b.count));
  await new Promise<void>((res) => s.bind(port, () => res()));
  const baseline = await settledPoolInUse();
  const probe = await windowProbe();
  const { bytes: _bytes, ...w } = await measureWindow({ count: () => count, warmupMs, windowMs, maxWaitMs, what: 'raw receiver', mark: probe.mark });
  const result = { api, ...w, ...probe.result(w.delivered) };
  const stack = await stackCounters(a);
  await awaitPeerIdle(a.get('link'));
  await new Promise<void>((res) => s.close(() => res()));
  const end = await settledPoolInUse();
  printJson({ backend: backend === 'node' ? 'node:dgram' : (s as unknown as { backend: string }).backend, cpu_s: cpuSeconds(), ...result, stack_total: stack, pool: baseline === null ? null : { baseline, end } });
  goneFromLink(a.get('link'));
  process.exit(0);
}

/**
 * Raw sender: `size`-byte datagrams to `dst`:`port` for `seconds` on a connected socket, 64 per event-loop
 * turn: send() (node:dgram only while its send queue is short), or one sendBatch() of 64 (ffnet/dgram).
 * With `--link` (a memif peer), it stops polling first and waits for the receiver to leave.
 */
async function roleRawSend(a: Map<string, string>): Promise<void> {
  const backend = a.get('backend') as Backend;
  const api = a.get('api') as 'message' | 'messages';
  const dst = a.get('dst') ?? '127.0.0.1';
  const size = num(a, 'size', RAW_SIZE, 1, 1472);
  const port = num(a, 'port', RAW_PORT, 1, 65535);
  const seconds = num(a, 'seconds', 5, 1, 120);
  const dgram: DgramModule = backend === 'node'
    ? ((await import('node:dgram')) as DgramModule)
    : ((await import('../shim/dgram.js')).default as unknown as DgramModule);
  const s = dgram.createSocket('udp4');
  const buf = Buffer.alloc(size, 0x61);
  const burst = 64;
  // The 'message' and 'messages' stages send on a connected socket, so they differ only in the call;
  // `--addressed` names the destination in every datagram on an unconnected socket (the transport's own
  // use), which costs the sender an address check and parse per datagram. The sender, not the receiver,
  // bounds these rates (offered ≈ delivered).
  const addressed = a.get('addressed') === 'true';
  const batch = Array.from({ length: burst }, () => (addressed ? { msg: buf, port, address: dst } : { msg: buf }));
  const sendBatch = (s as unknown as { sendBatch?: (m: typeof batch, cb: (e: Error | null, n: number) => void) => void }).sendBatch;
  if (api === 'messages' && sendBatch === undefined) throw new Error('raw sender: this socket has no sendBatch');
  let sent = 0;
  let errors = 0;
  s.on('error', () => void errors++); // ECONNREFUSED while the receiver is not bound (yet, or any more)
  if (addressed) await new Promise<void>((res) => s.bind(0, () => res()));
  else await new Promise<void>((res) => s.connect(port, dst, () => res()));
  const onBatch = (e: Error | null, n: number): void => {
    sent += n;
    if (e) errors++;
  };
  const t0 = nowNs();
  const end = t0 + seconds * 1e9;
  await new Promise<void>((res) => {
    const turn = (): void => {
      if (nowNs() >= end) {
        res();
        return;
      }
      if (api === 'messages') {
        sendBatch!.call(s, batch, onBatch);
      } else if (s.getSendQueueCount() < 256) {
        for (let i = 0; i < burst; i++) s.send(buf);
        sent += burst;
      }
      setImmediate(turn);
    };
    turn();
  });
  const secs = (nowNs() - t0) / 1e9;
  const stack = await stackCounters(a);
  await new Promise<void>((res) => s.close(() => res()));
  printJson({ backend: backend === 'node' ? 'node:dgram' : (s as unknown as { backend: string }).backend, cpu_s: cpuSeconds(), sent, errors, pps: round(sent / secs), stack, pool_end: await settledPoolInUse() });
  leaveLinkFirst(a.get('link'));
  process.exit(0);
}

// --- runner -----------------------------------------------------------------------------------------

interface Options extends RunnerOptions {
  latCount: number;
  latSeconds: number;
  only: Set<string>;
  backends: Backend[];
  params: string;
  socketBuffer: number;
  cpuProf: string | null;
  /** An Aeron C build (scripts/build-aeron.sh), or null: the Aeron stage is then not measured. */
  aeron: string | null;
  aeronParams: string;
  aeronDriverCpus: string;
}

function parseOptions(argv: string[]): Options {
  const { a, common } = runnerOptions(argv, ['lat-count', 'lat-seconds', 'only', 'backends', 'params', 'socket-buffer', 'cpu-prof', 'aeron', 'aeron-params', 'aeron-driver-cpus'],
    { def: '32,1024', min: 4, max: 65536 });
  const only = new Set((a.get('only') ?? 'tput,lat,raw,aeron').split(','));
  for (const x of only) if (!['tput', 'lat', 'raw', 'aeron'].includes(x)) throw new Error(`--only takes tput, lat, raw, aeron; got ${x}`);
  const aeronParams = a.get('aeron-params') ?? '';
  if (/endpoint=/.test(aeronParams)) throw new Error('--aeron-params must not set the endpoint');
  const aeronDriverCpus = a.get('aeron-driver-cpus') ?? `${SEND_CPU},${RECV_CPU}`;
  if (!/^\d+([,-]\d+)*$/.test(aeronDriverCpus)) throw new Error(`--aeron-driver-cpus takes a CPU list (taskset syntax), got ${aeronDriverCpus}`);
  const backends = (a.get('backends') ?? 'dpdk,node').split(',') as Backend[];
  for (const b of backends) if (b !== 'dpdk' && b !== 'node') throw new Error(`--backends takes dpdk, node; got ${b}`);
  const params = a.get('params') ?? DEFAULT_PARAMS;
  if (/endpoint=/.test(params)) throw new Error('--params must not set the endpoint');
  const cpuProf = a.get('cpu-prof') ?? null;
  return {
    ...common,
    latCount: Math.round(num(a, 'lat-count', 20000, 100, 1e6)),
    latSeconds: num(a, 'lat-seconds', 5, 1, 30),
    only,
    backends,
    params,
    socketBuffer: Math.round(num(a, 'socket-buffer', DEFAULT_SOCKET_BUFFER, 0, 1 << 30)),
    cpuProf: cpuProf === null ? null : resolve(cpuProf),
    aeron: a.get('aeron') ?? process.env.AERON_BUILD ?? process.env.AERON_DIR ?? null,
    aeronParams,
    aeronDriverCpus,
  };
}

/** The memif inis of a sending (10.88.0.1, client) and a receiving (10.88.0.2, server) process. */
function memifPair(run: BenchRun, name: string): { send: string; recv: string; sock: string } {
  const sock = join(run.dir, `${name}-${run.serial}.sock`);
  const tuning = { rsize: MEMIF_RSIZE, sysctl: STACK_SYSCTL };
  return {
    sock,
    recv: writeMemifIni(run, `${name}-recv`, { cpu: RECV_CPU, role: 'server', addr: RECV_ADDR, mac: RECV_MAC, peer: [SEND_ADDR, SEND_MAC], sock, ...tuning }),
    send: writeMemifIni(run, `${name}-send`, { cpu: SEND_CPU, role: 'client', addr: SEND_ADDR, mac: SEND_MAC, peer: [RECV_ADDR, RECV_MAC], sock, ...tuning }),
  };
}

/** A loopback port for a node:dgram run (fresh each time, so a late straggler never meets the next run). */
function kernelPort(run: BenchRun): number {
  return 20000 + (run.serial++ % 20000);
}

function commonArgs(backend: Backend, o: Options): string[] {
  return ['--backend', backend, ...(o.socketBuffer > 0 ? ['--socket-buffer', String(o.socketBuffer)] : [])];
}

interface TputSample {
  mps: number;
  offered_mps: number;
  sent: number;
  received: number;
  lost: number;
  disorder: number;
  wrong_size: number;
  polled_by_timer: number;
  naks: number;
  retransmits: number;
  back_pressure: number;
  data_datagrams: number;
  child_cpu_s: number;
  sub: Record<string, unknown>;
  pub: Record<string, unknown>;
}

/** The hand-off files of a dpdk pair's memif link (bench/common.ts, "leaving a memif link"), as child options. */
function linkArgs(run: BenchRun, backend: Backend, name: string): string[] {
  return backend === 'dpdk' ? ['--link', join(run.dir, `${name}-link-${run.serial++}`)] : [];
}

async function throughput(run: BenchRun, backend: Backend, size: number, o: Options): Promise<TputSample> {
  const inis = backend === 'dpdk' ? memifPair(run, 'tput') : null;
  const link = linkArgs(run, backend, 'tput');
  const host = backend === 'dpdk' ? RECV_ADDR : '127.0.0.1';
  const port = backend === 'dpdk' ? TPUT_PORT : kernelPort(run);
  const channel = `aeron:udp?endpoint=${host}:${port}|${o.params}`;
  const prof = o.cpuProf ? ['--cpu-prof', `--cpu-prof-dir=${o.cpuProf}`, `--cpu-prof-name=tput-${backend}-${size}-${run.serial}-ROLE.cpuprofile`] : [];
  const nodeArgs = (role: string): string[] => prof.map((x) => x.replace('ROLE', role));
  const pubSeconds = Math.ceil(o.warmup + o.seconds) + 1;
  const [sc, sa] = childCommand(SELF, RECV_CPU, inis?.recv ?? null, 'sub', [
    ...commonArgs(backend, o), '--channel', channel, '--size', String(size), '--warmup', String(o.warmup), '--window', String(o.seconds),
    '--max-wait', String(pubSeconds + 60), ...link,
  ], nodeArgs('sub'));
  const sub = run.ns.exec(sc, sa, { timeoutMs: (pubSeconds + 150) * 1000 });
  await memifListening(run.ns, inis?.sock ?? null, 500);
  const [pc, pa] = childCommand(SELF, SEND_CPU, inis?.send ?? null, 'pub', [
    ...commonArgs(backend, o), '--channel', channel, '--size', String(size), '--seconds', String(pubSeconds), ...link,
  ], nodeArgs('pub'));
  const pubResult = await run.ns.exec(pc, pa, { timeoutMs: (pubSeconds + 150) * 1000 });
  const subResult = await sub;
  if (pubResult.code !== 0 && subResult.code !== 0) throw new Error(`the ${backend} publisher (${why(pubResult)}) and subscriber (${why(subResult)}) failed:\n${pubResult.stderr}\n${subResult.stderr}`);
  const p = check(pubResult, `${backend} publisher`);
  const s = check(subResult, `${backend} subscriber`);
  checkPool(s, `${backend} subscriber`);
  if (p.backend !== (backend === 'dpdk' ? 'dpdk' : 'node:dgram') || s.backend !== p.backend) {
    throw new Error(`the ${backend} run used the ${String(p.backend)} / ${String(s.backend)} backends`);
  }
  const pc0 = p.publication as unknown as Record<string, number>;
  const img = (s.image ?? {}) as unknown as Record<string, number>;
  return {
    mps: s.mps as number,
    offered_mps: p.offered_mps as number,
    sent: p.sent as number,
    received: s.total as number,
    lost: (s.lost as number) + Math.max(0, (p.sent as number) - (s.total as number)),
    disorder: s.disorder as number,
    wrong_size: s.wrong_size as number,
    polled_by_timer: s.polled_by_timer as number,
    naks: img.naksSent ?? 0,
    retransmits: pc0.retransmits ?? 0,
    back_pressure: pc0.backPressureEvents ?? 0,
    data_datagrams: pc0.dataDatagramsSent ?? 0,
    child_cpu_s: (p.cpu_s as number) + (s.cpu_s as number),
    sub: s,
    pub: p,
  };
}

interface LatSample {
  p50_us: number;
  p99_us: number;
  mean_us: number;
  n: number;
  slow: number;
  wrong: number;
  child_cpu_s: number;
}

async function latency(run: BenchRun, backend: Backend, size: number, o: Options): Promise<LatSample> {
  const inis = backend === 'dpdk' ? memifPair(run, 'lat') : null;
  const link = linkArgs(run, backend, 'lat');
  const hosts = backend === 'dpdk' ? { ping: SEND_ADDR, pong: RECV_ADDR } : { ping: '127.0.0.1', pong: '127.0.0.1' };
  const ports = backend === 'dpdk' ? { ping: PONG_PORT, pong: PING_PORT } : { ping: kernelPort(run), pong: kernelPort(run) };
  const chanArgs = ['--params', o.params, '--ping-host', hosts.ping, '--ping-port', String(ports.ping), '--pong-host', hosts.pong, '--pong-port', String(ports.pong)];
  const life = o.latSeconds + 60;
  const [sc, sa] = childCommand(SELF, RECV_CPU, inis?.recv ?? null, 'pong', [...commonArgs(backend, o), ...chanArgs, '--seconds', String(life), ...link]);
  const pong = run.ns.exec(sc, sa, { timeoutMs: (life + 15) * 1000 });
  await memifListening(run.ns, inis?.sock ?? null, 500);
  const [cc, ca] = childCommand(SELF, SEND_CPU, inis?.send ?? null, 'ping', [
    ...commonArgs(backend, o), ...chanArgs, '--size', String(size), '--count', String(o.latCount), '--seconds', String(o.latSeconds), ...link,
  ]);
  const c = check(await run.ns.exec(cc, ca, { timeoutMs: (o.latSeconds + 120) * 1000 }), `${backend} ping`);
  const g = check(await pong, `${backend} pong`);
  checkPool(g, `${backend} pong`);
  if (c.backend !== (backend === 'dpdk' ? 'dpdk' : 'node:dgram')) throw new Error(`the ${backend} ping ran on the ${String(c.backend)} backend`);
  return {
    p50_us: c.p50_us as number, p99_us: c.p99_us as number, mean_us: c.mean_us as number, n: c.n as number, slow: c.slow as number,
    wrong: c.wrong as number, child_cpu_s: (c.cpu_s as number) + (g.cpu_s as number),
  };
}

type RawSetup = 'node' | 'ffnet-dpdk';
interface RawCase {
  setup: RawSetup;
  api: 'message' | 'messages';
  /** The sender names the destination in every datagram of its sendBatch() on an unconnected socket, as the transport does. */
  addressed?: boolean;
}
const RAW_CASES: RawCase[] = [
  { setup: 'node', api: 'message' },
  { setup: 'ffnet-dpdk', api: 'message' },
  { setup: 'ffnet-dpdk', api: 'messages' },
  { setup: 'ffnet-dpdk', api: 'messages', addressed: true },
];

interface RawSample {
  pps: number;
  offered_pps: number;
  send_errors: number;
  child_cpu_s: number;
  /** What the receiver recorded over its window (context switches, steal, stack counters, port drops) and its pool. */
  receiver: Record<string, unknown>;
  /** The sender's stack counters at its end (dpdk). */
  sender_stack: Record<string, number> | null;
}

async function raw(run: BenchRun, c: RawCase, o: Options): Promise<RawSample> {
  const backend: Backend = c.setup === 'node' ? 'node' : 'dpdk';
  const inis = backend === 'dpdk' ? memifPair(run, 'raw') : null;
  const link = linkArgs(run, backend, 'raw');
  const port = backend === 'dpdk' ? RAW_PORT : kernelPort(run);
  const [rc, ra] = childCommand(SELF, RECV_CPU, inis?.recv ?? null, 'rawrecv', [
    '--backend', backend, '--api', c.api, '--port', String(port), '--warmup', String(o.warmup), '--window', String(o.seconds), ...link,
  ]);
  const recv = run.ns.exec(rc, ra, { timeoutMs: (o.warmup + o.seconds + 120) * 1000 });
  await memifListening(run.ns, inis?.sock ?? null);
  const [sc, sa] = childCommand(SELF, SEND_CPU, inis?.send ?? null, 'rawsend', [
    '--backend', backend, '--api', c.api, '--dst', backend === 'dpdk' ? RECV_ADDR : '127.0.0.1', '--port', String(port), '--size', String(RAW_SIZE),
    ...(c.addressed ? ['--addressed', 'true'] : []),
    '--seconds', String(Math.ceil(o.warmup + o.seconds) + 1), ...link,
  ]);
  const send = await run.ns.exec(sc, sa, { timeoutMs: (o.warmup + o.seconds + 120) * 1000 });
  const rr = await recv;
  if (rr.code !== 0 && send.code !== 0) throw new Error(`the ${c.setup} raw receiver (${why(rr)}) and sender (${why(send)}) failed:\n${rr.stderr}\n${send.stderr}`);
  const r = check(rr, `${c.setup} raw receiver`);
  const s = check(send, `${c.setup} raw sender`);
  checkPool(r, `${c.setup} raw receiver`);
  if (backend === 'dpdk' && (r.backend !== 'dpdk' || s.backend !== 'dpdk')) throw new Error(`the raw dpdk run used the ${String(s.backend)} / ${String(r.backend)} backends`);
  const { backend: _b, api: _a, cpu_s: _c, delivered: _d, seconds: _s, pps: _p, ...receiver } = r;
  return {
    pps: r.pps as number, offered_pps: s.pps as number, send_errors: s.errors as number, child_cpu_s: (r.cpu_s as number) + (s.cpu_s as number),
    receiver, sender_stack: (s.stack ?? null) as Record<string, number> | null,
  };
}

/** A measurement taken with other processes using more than this share of the machine is taken again. */
const DISTURBED_SHARE = 0.1;
const MAX_ATTEMPTS = 3;

/** How one measurement went: how busy the machine was before, and what else ran during it. */
interface Conditions {
  busy_before: number;
  /** Share of the machine's CPU used by processes other than this run's children, during the run. */
  others_share: number;
  attempts: number;
}

/** Waits (bounded: four times waitQuiet's bound) for an idle machine; returns the last busy fraction seen. */
async function quiet(): Promise<number> {
  let busy = await waitQuiet();
  for (let i = 0; i < 3 && busy > 0.1; i++) busy = await waitQuiet();
  return busy;
}

/**
 * Takes one measurement on a quiet machine: if other processes used more than DISTURBED_SHARE of it meanwhile
 * (machine CPU time minus this run's own), the measurement is logged as disturbed and taken again, up to
 * MAX_ATTEMPTS times (the last attempt counts whatever happened).
 */
async function measured<T extends { child_cpu_s: number }>(what: string, log: (s: string) => void, fn: () => Promise<T>): Promise<T & Conditions> {
  const ncpu = cpus().length;
  for (let tries = 1; ; tries++) {
    const busy = await quiet();
    const machine0 = processCpuSeconds();
    const self0 = process.cpuUsage();
    const t0 = Date.now();
    const sample = await fn();
    const elapsed = (Date.now() - t0) / 1000;
    const self = process.cpuUsage(self0);
    const others = (processCpuSeconds() - machine0 - sample.child_cpu_s - (self.user + self.system) / 1e6) / (elapsed * ncpu);
    const out = { ...sample, busy_before: busy, others_share: round(Math.max(0, others), 3), attempts: tries };
    if (out.others_share <= DISTURBED_SHARE || tries >= MAX_ATTEMPTS || !waitsForQuiet()) return out;
    log(`  (${what}: other processes used ${Math.round(out.others_share * 100)}% of the machine during the run; measuring again)`);
  }
}

/** One throughput line of the results: min / median / max over the runs, counts summed over them. */
interface TputRow {
  backend: Backend;
  size: number;
  mps: Spread | null;
  mbytes_per_s: number | null;
  offered_mps: number | null;
  lost: number;
  disorder: number;
  messages_checked: number;
  naks: number;
  retransmits: number;
  polled_by_timer: number;
  failures: string[];
  /** The runs' own rates (for the ratios checked against the floors). */
  values: number[];
}

interface LatRow {
  backend: Backend;
  size: number;
  p50_us: Spread | null;
  p99_us: Spread | null;
  slow: number;
  failures: string[];
  p99s: number[];
}

interface RawRow extends RawCase {
  size: number;
  pps: Spread | null;
  offered_pps: number | null;
  sender: string;
  failures: string[];
}

/** The commit measured, and whether the working tree differed from it in transport/, shim/, stack/ or native/. */
function sourceVersion(): { commit: string; modified: string[] } {
  try {
    const commit = execFileSync('git', ['-C', ROOT, 'rev-parse', 'HEAD'], { encoding: 'utf8', timeout: 5000, stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    const status = execFileSync('git', ['-C', ROOT, 'status', '--porcelain', '--', 'transport', 'shim', 'stack', 'native', 'posix'], { encoding: 'utf8', timeout: 5000, stdio: ['ignore', 'pipe', 'ignore'] });
    return { commit, modified: status.split('\n').filter((l) => l.trim() !== '').map((l) => l.slice(3)) };
  } catch {
    return { commit: 'unknown', modified: [] };
  }
}

function conditions(c: Conditions): string {
  return `machine ${Math.round(c.busy_before * 100)}% busy before, others ${Math.round(c.others_share * 100)}% during${c.attempts > 1 ? `, attempt ${c.attempts}` : ''}`;
}

// --- Aeron's C media driver, for reference ----------------------------------------------------------

/** The programs of an Aeron C build (scripts/build-aeron.sh): OUT/binaries/{aeronmd,streaming_publisher,rate_subscriber}. */
function aeronPrograms(dir: string): { driver: string; pub: string; sub: string } | string {
  const bin = existsSync(join(dir, 'binaries')) ? join(dir, 'binaries') : dir;
  const p = { driver: join(bin, 'aeronmd'), pub: join(bin, 'streaming_publisher'), sub: join(bin, 'rate_subscriber') };
  const missing = Object.values(p).filter((f) => !existsSync(f));
  return missing.length ? `no ${missing.map((m) => basename(m)).join(', ')} in ${bin} (build them with scripts/build-aeron.sh)` : p;
}

interface AeronSample {
  mps: number;
  reports: number;
  driver_cpus: string;
  child_cpu_s: number;
}

/**
 * The rate rate_subscriber printed over the window: its once-a-second reports ("<ms>ms, <rate> msgs/sec, …,
 * totals <n> messages …"), from `warmup` seconds after the first report with messages, over `seconds`.
 */
function aeronRate(out: string, warmup: number, seconds: number): { mps: number; reports: number } {
  const reports = Array.from(out.matchAll(/^(\d+)ms, [^,]+ msgs\/sec, [^,]+ bytes\/sec, totals (\d+) messages/gm), (m) => ({ ms: Number(m[1]), total: Number(m[2]) }));
  const first = reports.findIndex((r) => r.total > 0);
  if (first < 0) throw new Error(`rate_subscriber reported no message:\n${out.slice(-1500)}`);
  let t = 0;
  let start: { t: number; total: number } | undefined;
  let end: { t: number; total: number } | undefined;
  let n = 0;
  for (const r of reports.slice(first + 1)) {
    t += r.ms / 1000;
    if (start === undefined) {
      if (t >= warmup) start = { t, total: r.total };
    } else if (t - start.t <= seconds + 0.5) {
      end = { t, total: r.total };
      n++;
    }
  }
  if (!start || !end || end.t <= start.t) throw new Error(`rate_subscriber's reports do not cover ${warmup} + ${seconds} s:\n${out.slice(-1500)}`);
  return { mps: round((end.total - start.total) / (end.t - start.t)), reports: n };
}

/**
 * One run of Aeron's own C stack over loopback UDP: aeronmd (one driver, Aeron's threading mode unless
 * AERON_THREADING_MODE says otherwise, on `driverCpus`), streaming_publisher of `size`-byte messages on
 * CPU 0 and rate_subscriber on CPU 1 (ffnet's pinning), for warm-up + window; every program is stopped
 * with SIGINT, the way Aeron's samples end, and one that dies otherwise fails the run.
 */
async function aeronRun(run: BenchRun, progs: { driver: string; pub: string; sub: string }, size: number, o: Options): Promise<AeronSample> {
  const aeronDir = `/dev/shm/ffbench-aeron-${process.pid}-${run.serial++}`;
  const channel = `aeron:udp?endpoint=127.0.0.1:${kernelPort(run)}${o.aeronParams ? `|${o.aeronParams}` : ''}`;
  const env = ['env', `AERON_DIR=${aeronDir}`];
  const spawnLogged = (args: string[]): { p: ReturnType<Netns['spawn']>; out: () => string; exited: Promise<{ code: number | null; signal: string | null }> } => {
    const p = run.ns.spawn(args[0] as string, args.slice(1));
    let out = '';
    p.stdout?.setEncoding('utf8').on('data', (d: string) => (out = (out + d).slice(-200_000)));
    p.stderr?.setEncoding('utf8').on('data', (d: string) => (out = (out + d).slice(-200_000)));
    const exited = new Promise<{ code: number | null; signal: string | null }>((res) => p.once('exit', (code, signal) => res({ code, signal })));
    return { p, out: () => out, exited };
  };
  const stop = async (x: ReturnType<typeof spawnLogged>, what: string): Promise<void> => {
    if (x.p.exitCode === null && x.p.signalCode === null) x.p.kill('SIGINT');
    const kill = setTimeout(() => x.p.kill('SIGKILL'), 10_000);
    const e = await x.exited;
    clearTimeout(kill);
    // Aeron's programs end on SIGINT by themselves (exit 0, or 130 from the shell's convention).
    if (e.signal !== null && e.signal !== 'SIGINT') throw new Error(`${what} died (${e.signal}):\n${x.out().slice(-1500)}`);
  };
  const driver = spawnLogged([...env, 'stdbuf', '-oL', 'taskset', '-c', o.aeronDriverCpus, progs.driver]);
  let sub: ReturnType<typeof spawnLogged> | undefined;
  try {
    await sleep(1000);
    if (driver.p.exitCode !== null) throw new Error(`aeronmd exited (${driver.p.exitCode}):\n${driver.out()}`);
    const cpu0 = processCpuSeconds();
    sub = spawnLogged([...env, 'stdbuf', '-oL', 'taskset', '-c', String(RECV_CPU), progs.sub, '-c', channel, '-s', String(TPUT_STREAM)]);
    await sleep(500);
    const pubSeconds = Math.ceil(o.warmup + o.seconds) + 2;
    // streaming_publisher sends until its count or SIGINT: `timeout -s INT` ends it after the window.
    const pub = await run.ns.exec('env', [`AERON_DIR=${aeronDir}`, 'timeout', '-s', 'INT', '--preserve-status', String(pubSeconds), 'stdbuf', '-oL', 'taskset', '-c', String(SEND_CPU),
      progs.pub, '-c', channel, '-s', String(TPUT_STREAM), '-L', String(size), '-m', '10000000000'], { timeoutMs: (pubSeconds + 30) * 1000 });
    if (pub.signal !== null || (pub.code !== 0 && pub.code !== 130)) throw new Error(`streaming_publisher failed (${why(pub)}):\n${pub.stderr}\n${pub.stdout.slice(-1500)}`);
    await sleep(1200);
    await stop(sub, 'rate_subscriber');
    const rate = aeronRate(sub.out(), o.warmup, o.seconds);
    return { ...rate, driver_cpus: o.aeronDriverCpus, child_cpu_s: processCpuSeconds() - cpu0 };
  } finally {
    if (sub) await stop(sub, 'rate_subscriber').catch(() => undefined);
    await stop(driver, 'aeronmd');
    rmSync(aeronDir, { recursive: true, force: true });
  }
}

async function runner(argv: string[]): Promise<void> {
  const o = parseOptions(argv);
  requireRoot();
  const source = sourceVersion();
  if (o.cpuProf) mkdirSync(o.cpuProf, { recursive: true });
  const aeron = o.aeron === null ? NO_AERON : aeronPrograms(o.aeron);
  const ns = await Netns.create('bench-transport');
  const run: BenchRun = { label: 'transport', dir: mkdtempSync(join(tmpdir(), 'ffnet-bench-transport-')), ns, serial: 0, prefixes: [] };
  const log = (s: string): void => void process.stderr.write(`${s}\n`);
  const runs: Array<Record<string, unknown>> = [];
  const tput: TputRow[] = [];
  const lat: LatRow[] = [];
  const rawOut: RawRow[] = [];
  let aeronRow: { size: number; mps: Spread | null; values: number[]; failures: string[]; driver_cpus: string; params: string } | null = null;
  const started = Date.now();
  /** Runs one measurement; a failed one is logged and recorded in runs[], and gives no figure. */
  const one = async <T extends { child_cpu_s: number }>(what: string, meta: Record<string, unknown>, fn: () => Promise<T>, describe: (x: T & Conditions) => string): Promise<(T & Conditions) | null> => {
    const r = await attempt(() => measured(what, log, fn));
    if (r.ok) {
      log(`${what} run ${Number(meta.rep) + 1}/${o.repeats}: ${describe(r.value)}`);
      return r.value;
    }
    runs.push({ ...meta, failed: r.failed, detail: r.detail });
    log(`${what} run ${Number(meta.rep) + 1}/${o.repeats}: FAILED: ${r.failed}`);
    return null;
  };
  try {
    if (o.only.has('tput')) {
      for (const size of o.sizes) {
        for (const backend of o.backends) {
          const samples: Array<TputSample & Conditions> = [];
          const failures: string[] = [];
          for (let rep = 0; rep < o.repeats; rep++) {
            const meta = { kind: 'throughput', backend, size, rep };
            const s = await one(`throughput ${backend} ${size} B`, meta, () => throughput(run, backend, size, o), (x) => `${fmtRate(x.mps)} msg/s delivered (offered ${fmtRate(x.offered_mps)}/s; `
              + `${x.received}/${x.sent} received, ${x.lost} lost, ${x.disorder} out of order; ${x.naks} NAKs, ${x.retransmits} resends; ${conditions(x)})`);
            if (s === null) {
              failures.push(String(runs[runs.length - 1]?.failed));
              continue;
            }
            samples.push(s);
            const { sub, pub, ...brief } = s;
            runs.push({ ...meta, ...brief, subscriber: sub, publisher: pub });
          }
          const values = samples.map((x) => Math.round(x.mps));
          const m = values.length ? median(values) : null;
          tput.push({
            backend,
            size,
            mps: spread(values, failures.length),
            mbytes_per_s: m === null ? null : round((m * size) / 1e6, 1),
            offered_mps: samples.length ? Math.round(median(samples.map((x) => x.offered_mps))) : null,
            lost: samples.reduce((x, t) => x + t.lost, 0),
            disorder: samples.reduce((x, t) => x + t.disorder + t.wrong_size, 0),
            messages_checked: samples.reduce((x, t) => x + t.received, 0),
            naks: samples.reduce((x, t) => x + t.naks, 0),
            retransmits: samples.reduce((x, t) => x + t.retransmits, 0),
            polled_by_timer: samples.reduce((x, t) => x + t.polled_by_timer, 0),
            failures,
            values,
          });
        }
      }
    }
    if (o.only.has('aeron') && typeof aeron !== 'string') {
      const values: number[] = [];
      const failures: string[] = [];
      for (let rep = 0; rep < o.repeats; rep++) {
        const busy = await quiet();
        const r = await attempt(() => aeronRun(run, aeron, AERON_SIZE, o));
        if (r.ok) {
          values.push(r.value.mps);
          runs.push({ kind: 'aeron', size: AERON_SIZE, rep, busy_before: busy, ...r.value });
          log(`aeron C ${AERON_SIZE} B run ${rep + 1}/${o.repeats}: ${fmtRate(r.value.mps)} msg/s delivered (driver on CPUs ${r.value.driver_cpus}; machine ${Math.round(busy * 100)}% busy before)`);
        } else {
          failures.push(r.failed);
          runs.push({ kind: 'aeron', size: AERON_SIZE, rep, busy_before: busy, failed: r.failed, detail: r.detail });
          log(`aeron C ${AERON_SIZE} B run ${rep + 1}/${o.repeats}: FAILED: ${r.failed}`);
        }
      }
      aeronRow = { size: AERON_SIZE, mps: spread(values, failures.length), values, failures, driver_cpus: o.aeronDriverCpus, params: o.aeronParams || 'Aeron\'s defaults' };
    } else if (o.only.has('aeron')) log(`aeron C: ${aeron}`);
    if (o.only.has('lat')) {
      for (const size of o.sizes) {
        for (const backend of o.backends) {
          const samples: Array<LatSample & Conditions> = [];
          const failures: string[] = [];
          for (let rep = 0; rep < o.repeats; rep++) {
            const meta = { kind: 'latency', backend, size, rep };
            const s = await one(`latency ${backend} ${size} B`, meta, () => latency(run, backend, size, o),
              (x) => `p50 ${x.p50_us} µs, p99 ${x.p99_us} µs (${x.n} round trips, ${x.slow} over 100 ms; ${conditions(x)})`);
            if (s === null) {
              failures.push(String(runs[runs.length - 1]?.failed));
              continue;
            }
            samples.push(s);
            runs.push({ ...meta, ...s });
          }
          const p99s = samples.map((x) => x.p99_us);
          lat.push({
            backend, size, p50_us: spread(samples.map((x) => x.p50_us), failures.length, 1), p99_us: spread(p99s, failures.length, 1),
            slow: samples.reduce((x, t) => x + t.slow, 0), failures, p99s,
          });
        }
      }
    }
    if (o.only.has('raw')) {
      for (const c of RAW_CASES) {
        if (!o.backends.includes(c.setup === 'node' ? 'node' : 'dpdk')) continue;
        const samples: Array<RawSample & Conditions> = [];
        const failures: string[] = [];
        for (let rep = 0; rep < o.repeats; rep++) {
          const meta = { kind: 'raw', ...c, size: RAW_SIZE, rep };
          const s = await one(`raw ${c.setup} ${c.api}${c.addressed ? ' addressed' : ''} ${RAW_SIZE} B`, meta, () => raw(run, c, o),
            (x) => `${fmtRate(x.pps)}/s delivered (offered ${fmtRate(x.offered_pps)}/s${rawNotes(x)}; ${conditions(x)})`);
          if (s === null) {
            failures.push(String(runs[runs.length - 1]?.failed));
            continue;
          }
          samples.push(s);
          runs.push({ ...meta, ...s });
        }
        rawOut.push({
          ...c,
          size: RAW_SIZE,
          pps: spread(samples.map((x) => Math.round(x.pps)), failures.length),
          offered_pps: samples.length ? Math.round(median(samples.map((x) => x.offered_pps))) : null,
          sender: c.setup === 'node' ? 'node:dgram send() loop (connected, CPU 0)'
            : `ffnet/dgram dpdk ${c.api === 'messages' ? `sendBatch() of 64${c.addressed ? ', destination per datagram, unconnected' : ', connected'}` : 'send() loop, connected'} (10.88.0.1, CPU 0)`,
          failures,
        });
      }
    }
  } finally {
    await ns.destroy();
    cleanRun(run);
  }

  const nodeTput = (size: number): number | null => tput.find((x) => x.backend === 'node' && x.size === size)?.mps?.median ?? null;
  const ratiosTo = (values: number[], base: number | null): number[] => (base ? values.map((v) => round(v / base, 2)) : []);
  const tputOut = tput.map(({ values, ...r }) => ({ ...r, ratio_to_node: spread(ratiosTo(values, nodeTput(r.size)), r.failures.length, 2) }));
  const latOut = lat.map(({ p99s: _p, ...r }) => {
    const base = lat.find((x) => x.backend === 'node' && x.size === r.size)?.p50_us?.median;
    return { ...r, p50_ratio_to_node: base && r.p50_us ? round(r.p50_us.median / base, 3) : null };
  });
  const rawBase = rawOut.find((r) => r.setup === 'node')?.pps?.median ?? null;
  const rawFinal = rawOut.map((r) => ({ ...r, ratio_to_node: rawBase && r.pps ? round(r.pps.median / rawBase, 2) : null }));
  const dpdk = (size: number): TputRow | undefined => tput.find((r) => r.backend === 'dpdk' && r.size === size);
  const aeronMedian = aeronRow?.mps?.median ?? null;
  const ratioToAeron = dpdk(AERON_SIZE) && aeronMedian ? spread(ratiosTo(dpdk(AERON_SIZE)!.values, aeronMedian), dpdk(AERON_SIZE)!.failures.length, 2) : null;
  const aeronTarget = (): TargetResult => {
    const t = `≥ ${TARGET.aeron32.x}× Aeron's C driver and ≥ ${fmtRate(TARGET.aeron32.mps)} msg/s (no run < ${TARGET.aeron32.floor}× Aeron C)`;
    const d = dpdk(AERON_SIZE);
    if (aeronRow === null || d === undefined) {
      return { target: t, median: null, min: null, max: null, runs: 0, failed: 0, met: null, why: aeronRow === null ? (typeof aeron === 'string' ? aeron : NO_AERON) : '' };
    }
    if (aeronMedian === null) return { target: t, median: null, min: null, max: null, runs: 0, failed: aeronRow.failures.length, met: false, why: 'every Aeron run failed' };
    return judge({
      target: t, values: ratiosTo(d.values, aeronMedian), failed: d.failures.length + aeronRow.failures.length, atLeast: TARGET.aeron32.x, noRunBelow: TARGET.aeron32.floor,
      extra: [{ ok: (d.values.length ? median(d.values) : 0) >= TARGET.aeron32.mps, why: `median ${fmtRate(d.values.length ? median(d.values) : 0)} msg/s < ${fmtRate(TARGET.aeron32.mps)}` }],
    });
  };
  const d1k = dpdk(1024);
  const p99Target = (size: number): TargetResult => {
    const l = lat.find((x) => x.backend === 'dpdk' && x.size === size);
    return judge({ target: `dpdk round trip p99 ≤ ${TARGET.rttP99Us} µs`, values: l?.p99s ?? [], failed: l?.failures.length ?? 0, atMost: TARGET.rttP99Us });
  };
  const verified = tputOut.every((r) => r.lost === 0 && r.disorder === 0);
  const targets: Record<string, TargetResult> = {
    mps_32B_vs_aeron: aeronTarget(),
    mps_1KiB_vs_node: judge({
      target: `≥ ${TARGET.node1k.x}× node:dgram (no run < ${TARGET.node1k.floor}×)`, values: d1k ? ratiosTo(d1k.values, nodeTput(1024)) : [],
      failed: d1k && nodeTput(1024) !== null ? d1k.failures.length : 0, atLeast: TARGET.node1k.x, noRunBelow: TARGET.node1k.floor,
    }),
    rtt_p99_32B_us: p99Target(32),
    rtt_p99_1KiB_us: p99Target(1024),
    no_loss_no_disorder: {
      target: 'every message delivered once, in order', median: null, min: null, max: null, runs: tputOut.length, failed: 0,
      met: tputOut.length === 0 ? null : verified, why: verified ? '' : `${tputOut.reduce((x, r) => x + r.lost + r.disorder, 0)} lost or out of order`,
    },
  };
  const c = cpus();
  const doc = {
    bench: 'transport',
    date: new Date().toISOString(),
    machine: { cpus: c.length, model: c[0]?.model ?? 'unknown', node: process.version },
    source: { ...source, changed_during_run: JSON.stringify(sourceVersion()) !== JSON.stringify(source) },
    total_seconds: round((Date.now() - started) / 1000),
    setup: {
      window_seconds: o.seconds,
      warmup_seconds: o.warmup,
      repeats: o.repeats,
      statistic: 'min / median / max over the runs that gave a figure; ratios to the reference\'s median; targets on the median and on every run',
      oversubscribed: false,
      channel_params: o.params,
      socket_buffer_requested: o.socketBuffer > 0 ? o.socketBuffer : 'system default',
      socket_buffer_note: 'SO_RCVBUF/SO_SNDBUF asked of every channel socket: Linux grants twice the request up to net.core.rmem_max/wmem_max; the ffnet stack doubles it and caps it at kern.ipc.maxsockbuf',
      disturbed_share: `a measurement is taken again (up to ${MAX_ATTEMPTS} attempts) when other processes used more than ${DISTURBED_SHARE * 100}% of the machine during it`,
      failed_run: 'a child that crashed, timed out or failed, an ffnet receiving process whose packet pool was not back at its baseline after closing its transport, or a lost message: recorded in runs[] with why, never a figure; a target with a failed run is not met',
      dpdk: 'each process its own ffnet stack, inline on its JS thread (lcore_mask 0x1); net_memif between them: receiving side 10.88.0.2 (memif server, CPU 1), sending side 10.88.0.1 (memif client, CPU 0); static ARP entries',
      node: 'the transport over node:dgram sockets (new Transport({ dgram: nodeDgram })), namespace loopback; receiving side CPU 1, sending side CPU 0',
      aeron: aeronRow === null ? (typeof aeron === 'string' ? aeron : NO_AERON)
        : `Aeron's C media driver (one aeronmd, threading mode ${process.env.AERON_THREADING_MODE ?? 'Aeron\'s default'}, on CPUs ${o.aeronDriverCpus}) with its C samples: streaming_publisher (${AERON_SIZE} B, CPU 0) → rate_subscriber (CPU 1), loopback UDP (aeron:udp?endpoint=127.0.0.1:PORT, ${aeronRow.params}); the rate from rate_subscriber's once-a-second reports over the window`,
      throughput: 'one Publication (CPU 0) → one Subscription (CPU 1); offer() until BACK_PRESSURED, then setImmediate; subscriber drains on \'readable\' with poll(handler, 4096); sequence numbers checked for every message, and received = sent after the publisher\'s clean close',
      latency: `ping-pong, one message outstanding: ping publication → pong subscription (stream ${PING_STREAM}), pong publication → ping subscription (stream ${PONG_STREAM}); round-trip time after ${PING_WARMUP} warm-up round trips, up to ${o.latCount} round trips or ${o.latSeconds} s; ping CPU 0, pong CPU 1`,
      raw: `${RAW_SIZE} B datagrams, receiver CPU 1 counts what its listener sees; node: node:dgram send() loop → 'message'; ffnet-dpdk: ffnet/dgram dpdk sender → ffnet/dgram dpdk receiver over memif, send() on a connected socket → 'message', sendBatch() of 64 on a connected socket → 'messages', and sendBatch() of 64 naming the destination per datagram on an unconnected socket (as the transport sends) → 'messages' (addressed)`,
    },
    targets,
    throughput: tputOut,
    aeron: aeronRow === null ? null : { ...aeronRow, ffnet_dpdk_ratio: ratioToAeron },
    latency: latOut,
    raw: rawFinal,
    runs,
  };
  mkdirSync(dirname(RESULTS), { recursive: true });
  writeFileSync(RESULTS, `${JSON.stringify(doc, null, 2)}\n`);

  const x2 = (v: number): string => v.toFixed(2);
  const us = (v: number): string => String(v);
  const lines: string[] = [];
  lines.push(`transport throughput, messages/s delivered, min / median / max of ${o.repeats} runs (channel ${o.params})`);
  lines.push('  backend   size   msg/s                         MB/s    × node:dgram (runs)     offered   lost  disorder  NAKs');
  for (const r of tputOut) {
    lines.push(`  ${r.backend.padEnd(7)} ${String(r.size).padStart(6)}  ${fmtSpread(r.mps, fmtRate).padEnd(28)}  ${String(r.mbytes_per_s ?? '—').padStart(6)}  ${fmtSpread(r.ratio_to_node, x2).padEnd(22)}  ${fmtRate(r.offered_mps).padStart(7)}  ${String(r.lost).padStart(5)}  ${String(r.disorder).padStart(8)}  ${String(r.naks).padStart(4)}`);
  }
  lines.push(`Aeron's C driver, ${AERON_SIZE} B, loopback UDP: ${aeronRow === null ? (typeof aeron === 'string' ? aeron : NO_AERON) : `${fmtSpread(aeronRow.mps, fmtRate)} msg/s; ffnet dpdk ÷ Aeron C (runs): ${fmtSpread(ratioToAeron, x2)}`}`);
  lines.push('transport round trip, µs (min / median / max of the runs\' p50 and p99)');
  for (const r of latOut) lines.push(`  ${r.backend.padEnd(7)} ${String(r.size).padStart(6)}  p50 ${fmtSpread(r.p50_us, us).padEnd(24)} p99 ${fmtSpread(r.p99_us, us)}`);
  lines.push(`raw dgram, ${RAW_SIZE} B datagrams/s delivered (min / median / max)`);
  for (const r of rawFinal) lines.push(`  ${`${r.setup} ${r.api}${r.addressed ? ' addressed' : ''}`.padEnd(30)} ${fmtSpread(r.pps, fmtRate).padEnd(28)} ${fmtX(r.ratio_to_node).padStart(8)}   offered ${fmtRate(r.offered_pps)}`);
  lines.push('targets (value: min / median / max over the runs)');
  for (const [k, t] of Object.entries(targets)) lines.push(fmtTarget(k, t));
  const failed = runs.filter((r) => r.failed !== undefined);
  if (failed.length) {
    lines.push(`failed runs: ${failed.length}`);
    for (const f of failed) lines.push(`  ${String(f.kind)} ${String(f.backend ?? f.setup ?? '')} ${String(f.api ?? '')} ${String(f.size)} B run ${Number(f.rep) + 1}: ${String(f.failed)}`);
  }
  lines.push(`(${doc.total_seconds} s; JSON: ${RESULTS})`);
  console.log(lines.join('\n'));
}

/** A raw run's notes for the log: what the receiving stack did with the frames, and the sender's drops. */
function rawNotes(x: RawSample): string {
  const st = x.receiver.stack as Record<string, number> | null | undefined;
  const out: string[] = [];
  if (typeof x.receiver.ctx_switches_involuntary === 'number') out.push(`receiver ${x.receiver.ctx_switches_voluntary as number}+${x.receiver.ctx_switches_involuntary} ctx switches`);
  if (st) out.push(`receiver window: ${st['eth.rx'] ?? 0} frames, ${st['udp.fullsock'] ?? 0} full-socket drops, ${st['loop.turns'] ?? 0} turns`);
  if (x.sender_stack) out.push(`sender: ${x.sender_stack['eth.tx_dropped'] ?? 0} tx drops, ${x.send_errors} send errors`);
  return out.length ? `; ${out.join(', ')}` : '';
}

// --- entry ------------------------------------------------------------------------------------------

benchMain(runner, { sub: roleSub, pub: rolePub, pong: rolePong, ping: rolePing, rawrecv: roleRawRecv, rawsend: roleRawSend });

