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
 * Measured, each `--repeats` times (default 3), medians reported with the ratio to node:dgram:
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
 *     node:dgram send() loop, and to an ffnet/dgram dpdk receiver by an ffnet/dgram dpdk sender (send() into
 *     'message', and sendBatch() into 'messages', the calls the transport itself makes on ffnet/dgram);
 *  4. the spec's target: ≥ 2,000,000 32-byte messages/s from one publisher to one subscriber over ffnet (dpdk).
 * Channels: `aeron:udp?endpoint=HOST:PORT|<--params>`, default params term-length=16m|rcv-wnd=192k, and every
 * channel socket asks for 4 MiB SO_RCVBUF/SO_SNDBUF (`--socket-buffer`; Linux grants twice that up to
 * 2 × net.core.rmem_max, 416 KiB by default, and so does the ffnet stack up to kern.ipc.maxsockbuf). The
 * receiver window must fit the receiving socket's buffer, or a window's burst overflows it and loss recovery
 * takes over: on node:dgram, rcv-wnd=1m loses datagrams at the socket and runs several times slower.
 * Before each measurement the runner waits (bounded) for the machine to be idle and records how busy it was;
 * a measurement during which other processes used more than 10% of the machine is taken again (up to 3
 * attempts). Every child process is bounded in time. Writes bench/results/transport.json and prints a table.
 *
 * The same file is the child program: `node dist/bench/transport.js --role sub|pub|ping|pong|rawrecv|rawsend …`.
 *   node dist/bench/transport.js [--seconds 3] [--warmup 1] [--repeats 3] [--sizes 32,1024]
 *        [--lat-count 20000] [--lat-seconds 5] [--only tput,lat,raw] [--backends dpdk,node]
 *        [--params 'term-length=16m|rcv-wnd=192k'] [--socket-buffer 4194304] [--cpu-prof DIR]
 * `--socket-buffer 0` leaves the sockets' buffers at the system's default; `--cpu-prof DIR` writes V8 CPU
 * profiles of the throughput publishers and subscribers into DIR.
 */
import { execFileSync } from 'node:child_process';
import type * as NodeDgram from 'node:dgram';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Netns, requireRoot } from '../testbed/netns.js';
import type { DatagramModule, Transport as TransportClass, TransportOptions } from '../transport/index.js';
import {
  argMap, benchMain, check, measureWindow, roundTripSummary, childCommand, cleanRun, fmtRate, fmtX, median, nowNs, num, printJson, round, runnerOptions, writeMemifIni, type BenchRun, type RunnerOptions,
  RECV_ADDR, RECV_CPU, RECV_MAC, SEND_ADDR, SEND_CPU, SEND_MAC,
} from './common.js';
import { processCpuSeconds, sleep, waitQuiet } from './machine.js';

const SELF = fileURLToPath(import.meta.url);
const ROOT = resolve(dirname(SELF), '..', '..');
const RESULTS = join(ROOT, 'bench', 'results', 'transport.json');
/** The spec's target: 32-byte messages per second, one publisher to one subscriber, over ffnet (dpdk). */
const TARGET_MPS_32B = 2_000_000;
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
        t0 = t;
        c0 = count;
      }
      if (t0 !== 0 && done === undefined && t - t0 >= windowMs * 1e6) {
        const secs = (t - t0) / 1e9;
        done = { delivered: count - c0, seconds: round(secs, 3), mps: round((count - c0) / secs) };
      }
      if (ended !== '' || Date.now() - started > maxWaitMs) {
        clearInterval(tick);
        if (done === undefined) rej(new Error(`subscriber: ${ended ? `image ended (${ended})` : 'timed out'} before the window closed; ${count} messages`));
        else res(done);
      }
    }, 20);
  });
  printJson({
    backend: await backendInUse(a), cpu_s: cpuSeconds(), ...window, total: count, last_seq: expected - 1, lost, disorder, wrong_size: wrongSize,
    polled_by_timer: byTimer, end: ended || 'timeout', image: image?.counters ?? null, transport: t.counters, stack: await stackCounters(a),
  });
  await t.close({ drain: false });
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
  printJson({
    backend: await backendInUse(a), cpu_s: cpuSeconds(), sent: seq, seconds: round(secs, 3), offered_mps: round(seq / secs), turns, not_connected: notConnected,
    close_ms: Date.now() - c0, publication: pub.counters, transport: t.counters, stack: await stackCounters(a),
  });
  await t.close({ drain: false });
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
  printJson({ backend: await backendInUse(a), cpu_s: cpuSeconds(), echoed, retries, end: ended || 'timeout', publication: pub.counters });
  await t.close({ drain: false });
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
  printJson({ backend: await backendInUse(a), cpu_s: cpuSeconds(), ...out, publication: pub.counters });
  await Promise.race([pub.close(), sleep(5000)]);
  await t.close({ drain: false });
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
  const { bytes: _bytes, ...w } = await measureWindow({ count: () => count, warmupMs, windowMs, maxWaitMs, what: 'raw receiver' });
  const result = { api, ...w };
  printJson({ backend: backend === 'node' ? 'node:dgram' : (s as unknown as { backend: string }).backend, cpu_s: cpuSeconds(), ...result, stack: await stackCounters(a) });
  s.close();
  process.exit(0);
}

/**
 * Raw sender: `size`-byte datagrams to `dst`:`port` for `seconds`, 64 per event-loop turn: send() on a
 * connected socket (node:dgram only while its send queue is short), or one sendBatch() of 64 (ffnet/dgram).
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
  const batch = Array.from({ length: burst }, () => ({ msg: buf, port, address: dst }));
  const sendBatch = (s as unknown as { sendBatch?: (m: typeof batch, cb: (e: Error | null, n: number) => void) => void }).sendBatch;
  if (api === 'messages' && sendBatch === undefined) throw new Error('raw sender: this socket has no sendBatch');
  let sent = 0;
  let errors = 0;
  s.on('error', () => void errors++); // ECONNREFUSED while the receiver is not bound (yet, or any more)
  // send() goes through a connected socket; sendBatch() names the destination per datagram, as the transport does.
  if (api === 'message') await new Promise<void>((res) => s.connect(port, dst, () => res()));
  else await new Promise<void>((res) => s.bind(0, () => res()));
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
  printJson({ backend: backend === 'node' ? 'node:dgram' : (s as unknown as { backend: string }).backend, cpu_s: cpuSeconds(), sent, errors, pps: round(sent / secs), stack: await stackCounters(a) });
  s.close();
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
}

function parseOptions(argv: string[]): Options {
  const { a, common } = runnerOptions(argv, ['lat-count', 'lat-seconds', 'only', 'backends', 'params', 'socket-buffer', 'cpu-prof'], { def: '32,1024', min: 4, max: 65536 });
  const only = new Set((a.get('only') ?? 'tput,lat,raw').split(','));
  for (const x of only) if (!['tput', 'lat', 'raw'].includes(x)) throw new Error(`--only takes tput, lat, raw; got ${x}`);
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
  };
}

/** The memif inis of a sending (10.88.0.1, client) and a receiving (10.88.0.2, server) process. */
function memifPair(run: BenchRun, name: string): { send: string; recv: string } {
  const sock = join(run.dir, `${name}-${run.serial}.sock`);
  const tuning = { rsize: MEMIF_RSIZE, sysctl: STACK_SYSCTL };
  return {
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

async function throughput(run: BenchRun, backend: Backend, size: number, o: Options): Promise<TputSample> {
  const inis = backend === 'dpdk' ? memifPair(run, 'tput') : null;
  const host = backend === 'dpdk' ? RECV_ADDR : '127.0.0.1';
  const port = backend === 'dpdk' ? TPUT_PORT : kernelPort(run);
  const channel = `aeron:udp?endpoint=${host}:${port}|${o.params}`;
  const prof = o.cpuProf ? ['--cpu-prof', `--cpu-prof-dir=${o.cpuProf}`, `--cpu-prof-name=tput-${backend}-${size}-${run.serial}-ROLE.cpuprofile`] : [];
  const nodeArgs = (role: string): string[] => prof.map((x) => x.replace('ROLE', role));
  const pubSeconds = Math.ceil(o.warmup + o.seconds) + 1;
  const [sc, sa] = childCommand(SELF, RECV_CPU, inis?.recv ?? null, 'sub', [
    ...commonArgs(backend, o), '--channel', channel, '--size', String(size), '--warmup', String(o.warmup), '--window', String(o.seconds),
    '--max-wait', String(pubSeconds + 60),
  ], nodeArgs('sub'));
  const sub = run.ns.exec(sc, sa, { timeoutMs: (pubSeconds + 90) * 1000 });
  await sleep(500);
  const [pc, pa] = childCommand(SELF, SEND_CPU, inis?.send ?? null, 'pub', [
    ...commonArgs(backend, o), '--channel', channel, '--size', String(size), '--seconds', String(pubSeconds),
  ], nodeArgs('pub'));
  const pubResult = await run.ns.exec(pc, pa, { timeoutMs: (pubSeconds + 60) * 1000 });
  const p = check(pubResult, `${backend} publisher`);
  const s = check(await sub, `${backend} subscriber`);
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
  const hosts = backend === 'dpdk' ? { ping: SEND_ADDR, pong: RECV_ADDR } : { ping: '127.0.0.1', pong: '127.0.0.1' };
  const ports = backend === 'dpdk' ? { ping: PONG_PORT, pong: PING_PORT } : { ping: kernelPort(run), pong: kernelPort(run) };
  const chanArgs = ['--params', o.params, '--ping-host', hosts.ping, '--ping-port', String(ports.ping), '--pong-host', hosts.pong, '--pong-port', String(ports.pong)];
  const life = o.latSeconds + 60;
  const [sc, sa] = childCommand(SELF, RECV_CPU, inis?.recv ?? null, 'pong', [...commonArgs(backend, o), ...chanArgs, '--seconds', String(life)]);
  const pong = run.ns.exec(sc, sa, { timeoutMs: (life + 15) * 1000 });
  await sleep(500);
  const [cc, ca] = childCommand(SELF, SEND_CPU, inis?.send ?? null, 'ping', [
    ...commonArgs(backend, o), ...chanArgs, '--size', String(size), '--count', String(o.latCount), '--seconds', String(o.latSeconds),
  ]);
  const c = check(await run.ns.exec(cc, ca, { timeoutMs: (o.latSeconds + 60) * 1000 }), `${backend} ping`);
  const g = check(await pong, `${backend} pong`);
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
}
const RAW_CASES: RawCase[] = [
  { setup: 'node', api: 'message' },
  { setup: 'ffnet-dpdk', api: 'message' },
  { setup: 'ffnet-dpdk', api: 'messages' },
];

interface RawSample {
  pps: number;
  offered_pps: number;
  send_errors: number;
  child_cpu_s: number;
}

async function raw(run: BenchRun, c: RawCase, o: Options): Promise<RawSample> {
  const backend: Backend = c.setup === 'node' ? 'node' : 'dpdk';
  const inis = backend === 'dpdk' ? memifPair(run, 'raw') : null;
  const port = backend === 'dpdk' ? RAW_PORT : kernelPort(run);
  const [rc, ra] = childCommand(SELF, RECV_CPU, inis?.recv ?? null, 'rawrecv', [
    '--backend', backend, '--api', c.api, '--port', String(port), '--warmup', String(o.warmup), '--window', String(o.seconds),
  ]);
  const recv = run.ns.exec(rc, ra, { timeoutMs: (o.warmup + o.seconds + 60) * 1000 });
  await sleep(backend === 'dpdk' ? 500 : 300);
  const [sc, sa] = childCommand(SELF, SEND_CPU, inis?.send ?? null, 'rawsend', [
    '--backend', backend, '--api', c.api, '--dst', backend === 'dpdk' ? RECV_ADDR : '127.0.0.1', '--port', String(port), '--size', String(RAW_SIZE),
    '--seconds', String(Math.ceil(o.warmup + o.seconds) + 1),
  ]);
  const send = await run.ns.exec(sc, sa, { timeoutMs: (o.warmup + o.seconds + 40) * 1000 });
  const r = check(await recv, `${c.setup} raw receiver`);
  const s = check(send, `${c.setup} raw sender`);
  if (backend === 'dpdk' && (r.backend !== 'dpdk' || s.backend !== 'dpdk')) throw new Error(`the raw dpdk run used the ${String(s.backend)} / ${String(r.backend)} backends`);
  return { pps: r.pps as number, offered_pps: s.pps as number, send_errors: s.errors as number, child_cpu_s: (r.cpu_s as number) + (s.cpu_s as number) };
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

/** Waits (up to 2 minutes) for an idle machine; returns the last busy fraction seen. */
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
  for (let attempt = 1; ; attempt++) {
    const busy = await quiet();
    const machine0 = processCpuSeconds();
    const self0 = process.cpuUsage();
    const t0 = Date.now();
    const sample = await fn();
    const elapsed = (Date.now() - t0) / 1000;
    const self = process.cpuUsage(self0);
    const others = (processCpuSeconds() - machine0 - sample.child_cpu_s - (self.user + self.system) / 1e6) / (elapsed * ncpu);
    const out = { ...sample, busy_before: busy, others_share: round(Math.max(0, others), 3), attempts: attempt };
    if (out.others_share <= DISTURBED_SHARE || attempt >= MAX_ATTEMPTS) return out;
    log(`  (${what}: other processes used ${Math.round(out.others_share * 100)}% of the machine during the run; measuring again)`);
  }
}

/** One throughput line of the results: medians over the repeats, counts summed over them. */
interface TputRow {
  backend: Backend;
  size: number;
  mps: number;
  mbytes_per_s: number;
  samples: number[];
  offered_mps: number;
  lost: number;
  disorder: number;
  messages_checked: number;
  naks: number;
  retransmits: number;
  polled_by_timer: number;
}

interface LatRow {
  backend: Backend;
  size: number;
  p50_us: number;
  p99_us: number;
  samples_p50: number[];
  samples_p99: number[];
  slow: number;
}

interface RawRow extends RawCase {
  size: number;
  pps: number;
  samples: number[];
  offered_pps: number;
  sender: string;
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

async function runner(argv: string[]): Promise<void> {
  const o = parseOptions(argv);
  requireRoot();
  const source = sourceVersion();
  if (o.cpuProf) mkdirSync(o.cpuProf, { recursive: true });
  const ns = await Netns.create('bench-transport');
  const run: BenchRun = { label: 'transport', dir: mkdtempSync(join(tmpdir(), 'ffnet-bench-transport-')), ns, serial: 0, prefixes: [] };
  const log = (s: string): void => void process.stderr.write(`${s}\n`);
  const runs: Array<Record<string, unknown>> = [];
  const tput: TputRow[] = [];
  const lat: LatRow[] = [];
  const rawOut: RawRow[] = [];
  try {
    if (o.only.has('tput')) {
      for (const size of o.sizes) {
        for (const backend of o.backends) {
          const samples: TputSample[] = [];
          for (let rep = 0; rep < o.repeats; rep++) {
            const s = await measured(`throughput ${backend} ${size} B`, log, () => throughput(run, backend, size, o));
            samples.push(s);
            const { sub, pub, ...brief } = s;
            runs.push({ kind: 'throughput', backend, size, rep, ...brief, subscriber: sub, publisher: pub });
            log(`throughput ${backend} ${size} B run ${rep + 1}/${o.repeats}: ${fmtRate(s.mps)} msg/s delivered (offered ${fmtRate(s.offered_mps)}/s; `
              + `${s.received}/${s.sent} received, ${s.lost} lost, ${s.disorder} out of order; ${s.naks} NAKs, ${s.retransmits} resends; ${conditions(s)})`);
          }
          tput.push({
            backend,
            size,
            mps: Math.round(median(samples.map((s) => s.mps))),
            mbytes_per_s: round((median(samples.map((s) => s.mps)) * size) / 1e6, 1),
            samples: samples.map((s) => Math.round(s.mps)),
            offered_mps: Math.round(median(samples.map((s) => s.offered_mps))),
            lost: samples.reduce((x, s) => x + s.lost, 0),
            disorder: samples.reduce((x, s) => x + s.disorder + s.wrong_size, 0),
            messages_checked: samples.reduce((x, s) => x + s.received, 0),
            naks: samples.reduce((x, s) => x + s.naks, 0),
            retransmits: samples.reduce((x, s) => x + s.retransmits, 0),
            polled_by_timer: samples.reduce((x, s) => x + s.polled_by_timer, 0),
          });
        }
      }
    }
    if (o.only.has('lat')) {
      for (const size of o.sizes) {
        for (const backend of o.backends) {
          const samples: LatSample[] = [];
          for (let rep = 0; rep < o.repeats; rep++) {
            const s = await measured(`latency ${backend} ${size} B`, log, () => latency(run, backend, size, o));
            samples.push(s);
            runs.push({ kind: 'latency', backend, size, rep, ...s });
            log(`latency ${backend} ${size} B run ${rep + 1}/${o.repeats}: p50 ${s.p50_us} µs, p99 ${s.p99_us} µs (${s.n} round trips, ${s.slow} over 100 ms; ${conditions(s)})`);
          }
          lat.push({
            backend,
            size,
            ...roundTripSummary(samples),
            slow: samples.reduce((x, s) => x + s.slow, 0),
          });
        }
      }
    }
    if (o.only.has('raw')) {
      for (const c of RAW_CASES) {
        if (!o.backends.includes(c.setup === 'node' ? 'node' : 'dpdk')) continue;
        const samples: RawSample[] = [];
        for (let rep = 0; rep < o.repeats; rep++) {
          const s = await measured(`raw ${c.setup} ${c.api}`, log, () => raw(run, c, o));
          samples.push(s);
          runs.push({ kind: 'raw', ...c, size: RAW_SIZE, rep, ...s });
          log(`raw ${c.setup} ${c.api} ${RAW_SIZE} B run ${rep + 1}/${o.repeats}: ${fmtRate(s.pps)}/s delivered (offered ${fmtRate(s.offered_pps)}/s; ${conditions(s)})`);
        }
        rawOut.push({
          ...c,
          size: RAW_SIZE,
          pps: Math.round(median(samples.map((s) => s.pps))),
          samples: samples.map((s) => Math.round(s.pps)),
          offered_pps: Math.round(median(samples.map((s) => s.offered_pps))),
          sender: c.setup === 'node' ? 'node:dgram send() loop (connected, CPU 0)' : `ffnet/dgram dpdk ${c.api === 'messages' ? 'sendBatch() of 64' : 'send() loop'} (10.88.0.1, CPU 0)`,
        });
      }
    }
  } finally {
    await ns.destroy();
    cleanRun(run);
  }

  const tputOut = tput.map((r) => {
    const base = tput.find((x) => x.backend === 'node' && x.size === r.size)?.mps;
    return { ...r, ratio_to_node: base ? round(r.mps / base, 2) : null };
  });
  const latOut = lat.map((r) => {
    const base = lat.find((x) => x.backend === 'node' && x.size === r.size)?.p50_us;
    return { ...r, p50_ratio_to_node: base ? round(r.p50_us / base, 3) : null };
  });
  const rawBase = rawOut.find((r) => r.setup === 'node')?.pps;
  const rawFinal = rawOut.map((r) => ({ ...r, ratio_to_node: rawBase ? round(r.pps / rawBase, 2) : null }));
  const dpdk32 = tputOut.find((r) => r.backend === 'dpdk' && r.size === 32);
  const verified = tputOut.every((r) => r.lost === 0 && r.disorder === 0);
  const targets = {
    mps_32B_dpdk: {
      target: `≥ ${TARGET_MPS_32B.toLocaleString('en-US')} 32-byte messages/s, one publisher → one subscriber, ffnet (dpdk)`,
      value: dpdk32?.mps ?? null,
      met: dpdk32 === undefined ? null : dpdk32.mps >= TARGET_MPS_32B,
    },
    no_loss_no_disorder: { target: 'every message delivered once, in order', value: tputOut.reduce((x, r) => x + r.lost + r.disorder, 0), met: tputOut.length === 0 ? null : verified },
  };
  const c = cpus();
  const doc = {
    bench: 'transport',
    date: new Date().toISOString(),
    machine: { cpus: c.length, model: c[0]?.model ?? 'unknown', node: process.version },
    source: { ...source, changed_during_run: JSON.stringify(sourceVersion()) !== JSON.stringify(source) },
    setup: {
      window_seconds: o.seconds,
      warmup_seconds: o.warmup,
      repeats: o.repeats,
      statistic: 'median',
      oversubscribed: false,
      channel_params: o.params,
      socket_buffer_requested: o.socketBuffer > 0 ? o.socketBuffer : 'system default',
      socket_buffer_note: 'SO_RCVBUF/SO_SNDBUF asked of every channel socket: Linux grants twice the request up to net.core.rmem_max/wmem_max; the ffnet stack doubles it and caps it at 425984 bytes',
      disturbed_share: `a measurement is taken again (up to ${MAX_ATTEMPTS} attempts) when other processes used more than ${DISTURBED_SHARE * 100}% of the machine during it`,
      dpdk: 'each process its own ffnet stack, inline on its JS thread (lcore_mask 0x1); net_memif between them: receiving side 10.88.0.2 (memif server, CPU 1), sending side 10.88.0.1 (memif client, CPU 0); static ARP entries',
      node: 'the transport over node:dgram sockets (new Transport({ dgram: nodeDgram })), namespace loopback; receiving side CPU 1, sending side CPU 0',
      throughput: 'one Publication (CPU 0) → one Subscription (CPU 1); offer() until BACK_PRESSURED, then setImmediate; subscriber drains on \'readable\' with poll(handler, 4096); sequence numbers checked for every message, and received = sent after the publisher\'s clean close',
      latency: `ping-pong, one message outstanding: ping publication → pong subscription (stream ${PING_STREAM}), pong publication → ping subscription (stream ${PONG_STREAM}); round-trip time after ${PING_WARMUP} warm-up round trips, up to ${o.latCount} round trips or ${o.latSeconds} s; ping CPU 0, pong CPU 1`,
      raw: `${RAW_SIZE} B datagrams, receiver CPU 1 counts what its listener sees; node: node:dgram send() loop → 'message'; ffnet-dpdk: ffnet/dgram dpdk sender → ffnet/dgram dpdk receiver over memif, send() → 'message' and sendBatch() → 'messages'`,
    },
    targets,
    throughput: tputOut,
    latency: latOut,
    raw: rawFinal,
    runs,
  };
  mkdirSync(dirname(RESULTS), { recursive: true });
  writeFileSync(RESULTS, `${JSON.stringify(doc, null, 2)}\n`);

  const lines: string[] = [];
  lines.push(`transport throughput, messages/s delivered (median; channel ${o.params})`);
  lines.push('  backend   size   msg/s    MB/s   × node:dgram   offered   lost  disorder  NAKs');
  for (const r of tputOut) {
    lines.push(`  ${r.backend.padEnd(7)} ${String(r.size).padStart(6)}  ${fmtRate(r.mps).padStart(6)}  ${String(r.mbytes_per_s).padStart(6)}  ${fmtX(r.ratio_to_node).padStart(8)}      ${fmtRate(r.offered_mps).padStart(6)}  ${String(r.lost).padStart(5)}  ${String(r.disorder).padStart(8)}  ${String(r.naks).padStart(4)}`);
  }
  lines.push('transport round trip, µs (median of runs)');
  lines.push('  backend   size     p50      p99   p50 × node:dgram');
  for (const r of latOut) lines.push(`  ${r.backend.padEnd(7)} ${String(r.size).padStart(6)}  ${String(r.p50_us).padStart(6)}  ${String(r.p99_us).padStart(7)}   ${fmtX(r.p50_ratio_to_node)}`);
  lines.push(`raw dgram, ${RAW_SIZE} B datagrams/s delivered (median)`);
  for (const r of rawFinal) lines.push(`  ${`${r.setup} ${r.api}`.padEnd(22)} ${fmtRate(r.pps).padStart(7)}  ${fmtX(r.ratio_to_node).padStart(8)}   offered ${fmtRate(r.offered_pps)}`);
  lines.push('targets');
  for (const [k, t] of Object.entries(targets)) lines.push(`  ${k.padEnd(20)} ${t.target.padEnd(76)} ${String(t.value).padStart(9)}  ${t.met === null ? 'not measured' : t.met ? 'met' : 'NOT met'}`);
  lines.push(`(JSON: ${RESULTS})`);
  console.log(lines.join('\n'));
}

// --- entry ------------------------------------------------------------------------------------------

benchMain(runner, { sub: roleSub, pub: rolePub, pong: rolePong, ping: rolePing, rawrecv: roleRawRecv, rawsend: roleRawSend });

