/**
 * `npm run bench:dgram`: ffnet/dgram against node:dgram, side by side in one run.
 *
 * Setups, all inside a private network namespace, one process per CPU (never oversubscribed):
 *  - node: node:dgram receiver and node:dgram sender over the namespace's loopback;
 *  - kernel: build/bin/kernel_recv (one socket drained with recvmmsg, C) fed by the same node:dgram
 *    sender: the kernel path's own best, beside node:dgram (receive table only);
 *  - ffnet-kernel: the same with ffnet/dgram and no FFNET_CONFIG (its kernel backend);
 *  - ffnet-dpdk: an ffnet/dgram receiver (dpdk backend, net_memif server port 10.88.0.2/24, the stack
 *    inline on the JS thread pinned to CPU 1) fed by build/bin/udp_blast (raw memif PMD on CPU 0, no
 *    stack, transmitting as fast as the link takes frames): the receiver's own capacity;
 *  - ffnet-tap, ffnet-af_packet, ffnet-af_xdp: the same ffnet/dgram receiver on a stack whose port is a
 *    kernel interface — net_tap's ff0, or veth end vA through net_af_packet / net_af_xdp with the kernel at
 *    vB in a second namespace — fed by node:dgram's sender on the kernel across it (IPv4 only; round trips
 *    with node:dgram's client on the kernel). Each receive row also shows its ratio to the memif row.
 *
 * Measured, each `--repeats` times (default 5), min / median / max reported, ratios to node:dgram's median:
 *  1. datagrams per second delivered to JS, at 64 and 1400 bytes, through a 'message' listener and
 *     through the batch API ('messages' event; node:dgram has none). The receiver counts what its
 *     listener sees over `--seconds` (default 3) after `--warmup` seconds (default 1) of traffic;
 *  2. ping-pong round-trip time p50/p99, one 64-byte datagram outstanding, `--rtt-count` round trips
 *     (default 20000) or `--rtt-seconds` (default 5), whichever comes first; on dpdk two ffnet/dgram
 *     processes over memif (10.88.0.1 on CPU 0 ⇄ 10.88.0.2 on CPU 1), each stack inline;
 *  3. CPU used by an idle process holding a bound socket, over `--idle-seconds` (default 3), from
 *     /proc/<pid>/stat (utime + stime of all its threads), as % of one core: dpdk inline, dpdk with
 *     one data-path lcore, and node:dgram for reference;
 *  4. the targets, each on the median of the runs and on every run (a floor no run may fall
 *     below): 'message' ≥ 15× node:dgram (no run < 10×), batches ≥ 50× and ≥ 10M/s (no run < 30×),
 *     1400 B batches ≥ 10× (no run < 5×), round trip p50 ≤ 10 µs and p99 ≤ 30 µs, idle ≤ 2% of a core
 *     (on the udp4 cases); and IPv6 within 10% of IPv4 on each ffnet-dpdk case: the ratio of the udp6
 *     case's median to its udp4 twin's, ≥ 0.9 for rates, ≤ 1.1 for round trips.
 * Every case runs for each of `--families` (default udp4,udp6): a udp6 twin is the same case over IPv6 —
 * node:dgram's and the kernel backend's udp6 sockets over the namespace's ::1, kernel_recv on ::1, and on
 * dpdk the same memif link with fd00:88::1 and fd00:88::2 (udp_blast --ipv6, which answers the
 * receiver's neighbor solicitations; the ping-pong's two stacks resolve each other by Neighbor
 * Discovery). Each udp6 row shows its ratio to the udp4 row of the same case (udp6 ÷ udp4, medians);
 * ratios to node:dgram compare with node:dgram of the same family. A case's runs alternate between the
 * families (udp4, udp6, udp4, …), so that a slow spell of the machine falls on both twins alike.
 * A run whose child crashed (a signal), timed out or failed, or whose ffnet receiver's packet pool was not
 * back at its baseline once its sockets were closed, is a failed run: recorded with why, never a figure,
 * and a target with a failed run is not met. Each run records what explains its figure: how busy the
 * machine was before it, the receiver's CPU share and CPU time per datagram, what else ran on its CPU,
 * the steal time during its window, the receiver's context switches, and (dpdk) the receiver stack's
 * counters over the window (frames received and per loop turn, full-socket drops, loop turns and naps)
 * and its port's drops (imissed, rx_nombuf). The two ends of a memif link leave it in turn (bench/common.ts,
 * "leaving a memif link"). Before each measurement the runner waits (bounded, `--quiet-wait`) for the
 * machine to be idle. Every child process is bounded in time. Writes bench/results/dgram.json and prints
 * the tables.
 *
 * The same file is the child program: `node dist/bench/dgram.js --role recv|send|pingsrv|pingcli|idle …`.
 *   node dist/bench/dgram.js [--seconds 3] [--warmup 1] [--repeats 5] [--sizes 64,1400]
 *                            [--rtt-count 20000] [--rtt-seconds 5] [--idle-seconds 3] [--only rx,rtt,idle]
 *                            [--setups node,kernel,ffnet-kernel,ffnet-dpdk,ffnet-tap,ffnet-af_packet,ffnet-af_xdp]
 *                            [--families udp4,udp6] [--quiet-wait 30]
 *                            [--results bench/results/dgram.json]
 */
import type * as NodeDgram from 'node:dgram';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Netns, requireRoot, stopChild } from '../testbed/netns.js';
import { PEER_IFACE, PEER_IP, STACK_IFACE, STACK_IP, afPortDevargs, vethPair } from '../testbed/veth-peer.js';
import {
  attempt, benchMain, judgeFamilies, parseFamilies, LOOPBACK, RECV_ADDR6, SEND_ADDR6, type Family, check, checkPool, childCommand, cleanRun, fmtRate, fmtSpread, fmtTarget, judge, awaitPeerIdle, goneFromLink, leaveLinkFirst, linkFiles, measureWindow, median, memifListening, nowNs, num,
  printJson, round, runnerOptions, settledPoolInUse, spread, why, windowProbe, writeMemifIni, writeStackIni, type BenchRun, type RunnerOptions, type Spread, type TargetResult,
  RECV_ADDR, RECV_CPU, RECV_MAC, SEND_ADDR, SEND_CPU, SEND_MAC,
} from './common.js';
import { sleep, waitQuiet } from './machine.js';

const SELF = fileURLToPath(import.meta.url);
const ROOT = resolve(dirname(SELF), '..', '..');
const BIN = join(ROOT, 'build', 'bin');
const RESULTS = join(ROOT, 'bench', 'results', 'dgram.json');
/** The targets: multiples of node:dgram's delivered rate (median, and the floor no run may fall below), round trip, idle CPU. */
const TARGET = {
  message64: { x: 15, floor: 10 },
  batch64: { x: 50, floor: 30, pps: 10_000_000 },
  batch1400: { x: 10, floor: 5 },
  rttP50Us: 10,
  rttP99Us: 30,
  idlePct: 2,
};
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

/** A child role's `--family` (udp4 by default). */
function familyOf(a: Map<string, string>): Family {
  const f = a.get('family') ?? 'udp4';
  if (f !== 'udp4' && f !== 'udp6') throw new Error(`--family takes udp4 or udp6, got ${f}`);
  return f;
}

function backendOf(s: NodeDgram.Socket): string {
  return (s as unknown as { backend?: string }).backend ?? 'node:dgram';
}

// --- child roles ------------------------------------------------------------------------------------

/**
 * Receiver: counts datagrams seen by a 'message' or 'messages' listener. The window starts `warmup`
 * seconds after the first datagram and lasts `window` seconds; the receiver then drains until the
 * sender has stopped for 300 ms. The first `echo` datagrams are echoed back (a raw generator starts only
 * once it sees an echo). With `--link` (a memif peer), it leaves the link only once the peer no longer
 * polls. Reports what explains the figure (windowProbe) and, on an ffnet stack, the packet pool's mbufs
 * in use once bound and again after closing its socket.
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
  const s = dgram.createSocket(familyOf(a));
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
  const baseline = await settledPoolInUse();
  const probe = await windowProbe();
  const w = await measureWindow({ count: () => count, bytes: () => bytes, warmupMs, windowMs, maxWaitMs, what: 'receiver', mark: probe.mark });
  await awaitPeerIdle(a.get('link'));
  await new Promise<void>((res) => s.close(() => res()));
  const end = await settledPoolInUse();
  printJson({ backend: backendOf(s), api, ...w, ...probe.result(w.delivered), pool: baseline === null ? null : { baseline, end } });
  goneFromLink(a.get('link'));
  process.exit(0);
}

/**
 * Kernel sender: a connected socket sending `size`-byte datagrams as fast as the send queue drains, for
 * `seconds`, to the loopback address or `--dst`.
 */
async function roleSend(a: Map<string, string>): Promise<void> {
  const impl = a.get('impl') as Impl;
  const size = num(a, 'size', 64, 1, 1472);
  const port = num(a, 'port', RX_PORT, 1, 65535);
  const seconds = num(a, 'seconds', 5, 1, 120);
  const dgram = await loadDgram(impl);
  const s = dgram.createSocket(familyOf(a));
  const buf = Buffer.alloc(size, 0x61);
  let sent = 0;
  let errors = 0;
  s.on('error', () => {
    errors++; // ECONNREFUSED while the receiver is not bound (yet, or any more)
  });
  await new Promise<void>((res) => s.connect(port, a.get('dst') ?? LOOPBACK[familyOf(a)], () => res()));
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

/**
 * Ping-pong server: echoes every datagram; exits 1 s after the last one, or after `seconds` — with
 * `--link` (a memif peer), once the client no longer polls instead. Reports its packet pool as the receiver does.
 */
async function rolePingServer(a: Map<string, string>): Promise<void> {
  const impl = a.get('impl') as Impl;
  const port = num(a, 'port', PING_PORT, 1, 65535);
  const seconds = num(a, 'seconds', 30, 1, 120);
  const dgram = await loadDgram(impl);
  const s = dgram.createSocket(familyOf(a));
  let last = 0;
  let echoed = 0;
  s.on('error', (err) => console.error(`ping server: ${err.message}`));
  s.on('message', (msg, rinfo) => {
    last = Date.now();
    echoed++;
    s.send(msg, rinfo.port, rinfo.address);
  });
  await new Promise<void>((res) => s.bind(port, () => res()));
  const baseline = await settledPoolInUse();
  const link = a.get('link');
  const started = Date.now();
  await new Promise<void>((res) => {
    const t = setInterval(() => {
      const now = Date.now();
      if (now - started > seconds * 1000 || (link === undefined && last !== 0 && now - last > 1000) || (link !== undefined && existsSync(linkFiles(link).aIdle))) {
        clearInterval(t);
        res();
      }
    }, 50);
  });
  await new Promise<void>((res) => s.close(() => res()));
  const end = await settledPoolInUse();
  printJson({ backend: backendOf(s), echoed, pool: baseline === null ? null : { baseline, end } });
  goneFromLink(link);
  process.exit(0);
}

/**
 * Ping-pong client: one datagram outstanding; resent after 100 ms without reply (counted as a timeout).
 * With `--link` (a memif peer), it stops polling first and waits for the server to leave.
 */
async function rolePingClient(a: Map<string, string>): Promise<void> {
  const impl = a.get('impl') as Impl;
  const dst = a.get('dst') ?? LOOPBACK[familyOf(a)];
  const port = num(a, 'port', PING_PORT, 1, 65535);
  const count = num(a, 'count', 20000, 10, 1e6);
  const seconds = num(a, 'seconds', 5, 1, 60);
  const warm = 1000;
  const dgram = await loadDgram(impl);
  const s = dgram.createSocket(familyOf(a));
  const rtts = new Float64Array(count);
  const buf = Buffer.alloc(64, 0x62);
  let n = 0;
  let warmed = 0;
  let timeouts = 0;
  let stale = 0;
  let seq = 0;
  let sentAt = 0;
  let firstReply = false;
  let baseline: number | null = null;
  s.on('error', (err) => console.error(`ping client: ${err.message}`));
  const out = await new Promise<object>((res, rej) => {
    let t0 = 0;
    const finish = (): void => {
      clearInterval(watch);
      const xs = Array.from(rtts.subarray(0, n)).sort((x, y) => x - y);
      const pct = (p: number): number => round((xs[Math.min(xs.length - 1, Math.floor(p * xs.length))] ?? 0) / 1000, 1);
      res({ backend: backendOf(s), n, timeouts, stale, p50_us: pct(0.5), p99_us: pct(0.99), mean_us: round(xs.reduce((x, y) => x + y, 0) / Math.max(1, n) / 1000, 1), seconds: round((nowNs() - t0) / 1e9, 2) });
    };
    // Each ping carries its number and only the reply to the outstanding one counts: a reply to a
    // start-up probe or to a ping the watchdog resent would otherwise start a second ping in flight,
    // and every later round trip would read short.
    const send = (): void => {
      buf.writeUInt32LE(++seq, 0);
      sentAt = nowNs();
      s.send(buf, port, dst);
    };
    s.on('message', (msg: Buffer) => {
      const t = nowNs();
      if (msg.length < 4 || msg.readUInt32LE(0) !== seq) {
        stale++;
        return;
      }
      if (!firstReply) {
        firstReply = true;
        t0 = t;
      } else if (warmed < warm) {
        // The window of --seconds starts after the warm-up round trips.
        if (++warmed === warm) t0 = t;
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
    s.bind(0, () => void settledPoolInUse().then((b) => {
      baseline = b;
      send();
    }));
  });
  await new Promise<void>((res) => s.close(() => res()));
  const end = await settledPoolInUse();
  printJson({ ...out, pool: baseline === null ? null : { baseline, end } });
  leaveLinkFirst(a.get('link'));
  process.exit(0);
}

/** Idle holder: a bound socket and nothing else; prints "ready" once bound, exits after `seconds`. */
async function roleIdle(a: Map<string, string>): Promise<void> {
  const impl = a.get('impl') as Impl;
  const seconds = num(a, 'seconds', 10, 1, 120);
  const dgram = await loadDgram(impl);
  const s = dgram.createSocket(familyOf(a));
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

/** One receive run: the delivered rate, the sender's, and what explains the figure. */
interface RxSample {
  pps: number;
  offered_pps: number;
  /** What the receiver recorded over its window (context switches, steal, stack counters, port drops), and its pool. */
  receiver: Record<string, unknown>;
}

/** What a receiver's JSON holds besides its figure. */
function receiverNotes(r: Record<string, unknown>): Record<string, unknown> {
  const { backend: _b, api: _a, delivered: _d, bytes: _y, seconds: _s, pps: _p, ...rest } = r;
  return rest;
}

async function rxKernel(run: BenchRun, impl: Impl, api: Api, size: number, o: Options, family: Family): Promise<RxSample> {
  const port = 20000 + (run.serial++ % 20000);
  const [rc, ra] = child(RECV_CPU, null, 'recv', ['--impl', impl, '--family', family, '--api', api, '--port', String(port), '--warmup', String(o.warmup), '--window', String(o.seconds)]);
  const recv = run.ns.exec(rc, ra, { timeoutMs: (o.warmup + o.seconds + 40) * 1000 });
  await sleep(700);
  const [sc, sa] = child(SEND_CPU, null, 'send', ['--impl', impl, '--family', family, '--size', String(size), '--port', String(port), '--seconds', String(Math.ceil(o.warmup + o.seconds) + 1)]);
  const send = await run.ns.exec(sc, sa, { timeoutMs: (o.warmup + o.seconds + 30) * 1000 });
  const r = check(await recv, `${impl} receiver`);
  const s = check(send, `${impl} sender`);
  return { pps: r.pps as number, offered_pps: s.pps as number, receiver: receiverNotes(r) };
}

/** The kernel's own best: build/bin/kernel_recv (recvmmsg) fed by node:dgram's sender, as in node:dgram's stage. */
async function rxRecvmmsg(run: BenchRun, size: number, o: Options, family: Family): Promise<RxSample> {
  const port = 20000 + (run.serial++ % 20000);
  const recv = run.ns.exec('taskset', ['-c', String(RECV_CPU), join(BIN, 'kernel_recv'), '--address', LOOPBACK[family], '--port', String(port), '--warmup', String(o.warmup), '--window', String(o.seconds)],
    { timeoutMs: (o.warmup + o.seconds + 40) * 1000 });
  await sleep(300);
  const [sc, sa] = child(SEND_CPU, null, 'send', ['--impl', 'node', '--family', family, '--size', String(size), '--port', String(port), '--seconds', String(Math.ceil(o.warmup + o.seconds) + 1)]);
  const send = await run.ns.exec(sc, sa, { timeoutMs: (o.warmup + o.seconds + 30) * 1000 });
  const r = check(await recv, 'kernel_recv');
  const s = check(send, 'node sender');
  return { pps: r.pps as number, offered_pps: s.pps as number, receiver: receiverNotes(r) };
}

async function rxDpdk(run: BenchRun, api: Api, size: number, o: Options, family: Family): Promise<RxSample> {
  const sock = join(run.dir, `rx-${run.serial}.sock`);
  const link = join(run.dir, `rx-link-${run.serial}`);
  const v6 = family === 'udp6';
  const ini = writeMemifIni(run, 'rx', { cpu: RECV_CPU, role: 'server', addr: RECV_ADDR, ...(v6 ? { addr6: RECV_ADDR6 } : {}), mac: RECV_MAC, peer: [SEND_ADDR, SEND_MAC], sock });
  const [rc, ra] = child(RECV_CPU, ini, 'recv', ['--impl', 'ffnet', '--family', family, '--api', api, '--port', String(BLAST_PORT), '--warmup', String(o.warmup), '--window', String(o.seconds), '--echo', '8', '--link', link]);
  const recv = run.ns.exec(rc, ra, { timeoutMs: (o.warmup + o.seconds + 90) * 1000 });
  await memifListening(run.ns, sock);
  const blast = await run.ns.exec(
    join(BIN, 'udp_blast'),
    ['--socket', sock, '--cpu', String(SEND_CPU), '--mac', SEND_MAC, '--peer-mac', RECV_MAC, '--size', String(size), '--seconds', String(Math.ceil(o.warmup + o.seconds) + 1),
      '--idle-file', linkFiles(link).aIdle, ...(v6 ? ['--ipv6'] : [])],
    { timeoutMs: (o.warmup + o.seconds + 120) * 1000 },
  );
  const rr = await recv;
  if (rr.code !== 0 && blast.code !== 0) throw new Error(`the ffnet receiver (${why(rr)}) and udp_blast (${why(blast)}) failed:\n${rr.stderr}\n${blast.stderr}`);
  const r = check(rr, 'ffnet dpdk receiver');
  const b = check(blast, 'udp_blast');
  if (r.backend !== 'dpdk') throw new Error(`the dpdk receiver ran on the ${r.backend} backend`);
  checkPool(r, 'ffnet dpdk receiver');
  return { pps: r.pps as number, offered_pps: b.tx_pps as number, receiver: receiverNotes(r) };
}

/** The setups whose stack runs on a kernel interface, with node:dgram on the kernel as its peer. */
type LinkSetup = 'ffnet-tap' | 'ffnet-af_packet' | 'ffnet-af_xdp';
const LINK_SETUPS: LinkSetup[] = ['ffnet-tap', 'ffnet-af_packet', 'ffnet-af_xdp'];
const isLinkSetup = (s: string): s is LinkSetup => (LINK_SETUPS as string[]).includes(s);
/** AF_XDP takes sent mbufs back only when its completion ring is half full: up to a ring of them stay out. */
const AF_XDP_TX_HELD = 2048;

/**
 * A stack's port on a kernel interface and the kernel facing it: net_tap's ff0 in one namespace (the
 * kernel at PEER_IP on ff0 once the stack made it), or af_packet / af_xdp on vA of a veth pair with the
 * kernel at PEER_IP on vB in a second namespace (vB's transmit checksum offload off, as a wire's frames).
 */
interface KernelLink {
  stackNs: Netns;
  peerNs: Netns;
  vdev: string;
  /** What the kernel side needs once the stack started (ff0 exists only then). */
  ready(): Promise<void>;
  destroy(): Promise<void>;
}

async function kernelLink(setup: LinkSetup): Promise<KernelLink> {
  if (setup === 'ffnet-tap') {
    const ns = await Netns.create('bench-tap');
    await ns.execOk('sysctl', ['-qw', 'net.ipv6.conf.default.disable_ipv6=1', 'net.ipv6.conf.all.disable_ipv6=1']);
    return {
      stackNs: ns,
      peerNs: ns,
      vdev: 'net_tap0,iface=ff0',
      ready: async () => {
        await ns.waitFor(async () => (await ns.exec('ip', ['link', 'show', 'ff0'])).code === 0, 'the stack\'s tap ff0', 30_000, 100);
        await ns.execOk('ip', ['addr', 'add', `${PEER_IP}/24`, 'dev', 'ff0']);
        await ns.execOk('ip', ['link', 'set', 'ff0', 'up']);
      },
      destroy: () => ns.destroy(),
    };
  }
  const pair = await vethPair('bench-af');
  try {
    await pair.b.execOk('ethtool', ['-K', PEER_IFACE, 'tx', 'off']);
    await pair.b.execOk('ip', ['addr', 'add', `${PEER_IP}/24`, 'dev', PEER_IFACE]);
  } catch (err) {
    await pair.destroy();
    throw err;
  }
  return { stackNs: pair.a, peerNs: pair.b, vdev: afPortDevargs(setup === 'ffnet-af_packet' ? 'net_af_packet' : 'net_af_xdp', STACK_IFACE), ready: async () => {}, destroy: pair.destroy };
}

/** Mbufs the setup's device may still hold after sending (checkPool's allowance). */
const deviceHolds = (setup: string): number => (setup === 'ffnet-af_xdp' ? AF_XDP_TX_HELD : 0);

/** An ffnet/dgram receiver on a stack on a kernel interface, fed by node:dgram's sender on the kernel across it. */
async function rxLink(run: BenchRun, setup: LinkSetup, api: Api, size: number, o: Options): Promise<RxSample> {
  const link = await kernelLink(setup);
  try {
    const port = 20000 + (run.serial++ % 20000);
    const ini = writeStackIni(run, 'rx', { cpu: RECV_CPU, addr: STACK_IP, vdev: link.vdev });
    const [rc, ra] = child(RECV_CPU, ini, 'recv', ['--impl', 'ffnet', '--family', 'udp4', '--api', api, '--port', String(port), '--warmup', String(o.warmup), '--window', String(o.seconds)]);
    const recv = link.stackNs.exec(rc, ra, { timeoutMs: (o.warmup + o.seconds + 60) * 1000 });
    await link.ready();
    await sleep(1000);
    const [sc, sa] = child(SEND_CPU, null, 'send', ['--impl', 'node', '--size', String(size), '--port', String(port), '--dst', STACK_IP, '--seconds', String(Math.ceil(o.warmup + o.seconds) + 1)]);
    const send = await link.peerNs.exec(sc, sa, { timeoutMs: (o.warmup + o.seconds + 30) * 1000 });
    const r = check(await recv, `${setup} receiver`);
    const s = check(send, 'node sender');
    if (r.backend !== 'dpdk') throw new Error(`the ${setup} receiver ran on the ${r.backend} backend`);
    checkPool(r, `${setup} receiver`, deviceHolds(setup));
    return { pps: r.pps as number, offered_pps: s.pps as number, receiver: receiverNotes(r) };
  } finally {
    await link.destroy();
  }
}

/** Ping-pong: node:dgram's client on the kernel ⇄ an ffnet/dgram server on a stack on a kernel interface. */
async function rttLink(run: BenchRun, setup: LinkSetup, o: Options): Promise<RttSample> {
  const link = await kernelLink(setup);
  try {
    const ini = writeStackIni(run, 'pingsrv', { cpu: RECV_CPU, addr: STACK_IP, vdev: link.vdev });
    const life = o.rttSeconds + 40;
    const [sc, sa] = child(RECV_CPU, ini, 'pingsrv', ['--impl', 'ffnet', '--port', String(PING_PORT), '--seconds', String(life)]);
    const srv = link.stackNs.exec(sc, sa, { timeoutMs: (life + 10) * 1000 });
    await link.ready();
    const [cc, ca] = child(SEND_CPU, null, 'pingcli', ['--impl', 'node', '--dst', STACK_IP, '--port', String(PING_PORT), '--count', String(o.rttCount), '--seconds', String(o.rttSeconds)]);
    const c = check(await link.peerNs.exec(cc, ca, { timeoutMs: (o.rttSeconds + 100) * 1000 }), `${setup} ping client`);
    const g = check(await srv, `${setup} ping server`);
    if (g.backend !== 'dpdk') throw new Error(`the ${setup} ping server ran on the ${g.backend} backend`);
    checkPool(g, `${setup} ping server`, deviceHolds(setup));
    return { p50_us: c.p50_us as number, p99_us: c.p99_us as number, n: c.n as number, timeouts: c.timeouts as number };
  } finally {
    await link.destroy();
  }
}

interface RttSample {
  p50_us: number;
  p99_us: number;
  n: number;
  timeouts: number;
}

async function rtt(run: BenchRun, setup: Setup, o: Options, family: Family): Promise<RttSample> {
  let srvIni: string | null = null;
  let cliIni: string | null = null;
  let dst = LOOPBACK[family];
  const v6 = family === 'udp6';
  let link: string[] = [];
  let sock: string | null = null;
  const port = setup === 'ffnet-dpdk' ? PING_PORT : 40000 + (run.serial++ % 20000);
  if (setup === 'ffnet-dpdk') {
    sock = join(run.dir, `rtt-${run.serial}.sock`);
    link = ['--link', join(run.dir, `rtt-link-${run.serial}`)];
    srvIni = writeMemifIni(run, 'pingsrv', { cpu: RECV_CPU, role: 'server', addr: RECV_ADDR, ...(v6 ? { addr6: RECV_ADDR6 } : {}), mac: RECV_MAC, peer: [SEND_ADDR, SEND_MAC], sock });
    cliIni = writeMemifIni(run, 'pingcli', { cpu: SEND_CPU, role: 'client', addr: SEND_ADDR, ...(v6 ? { addr6: SEND_ADDR6 } : {}), mac: SEND_MAC, peer: [RECV_ADDR, RECV_MAC], sock });
    dst = v6 ? RECV_ADDR6 : RECV_ADDR;
  }
  const impl: Impl = setup === 'node' ? 'node' : 'ffnet';
  const life = o.rttSeconds + 40;
  const [sc, sa] = child(RECV_CPU, srvIni, 'pingsrv', ['--impl', impl, '--family', family, '--port', String(port), '--seconds', String(life), ...link]);
  const srv = run.ns.exec(sc, sa, { timeoutMs: (life + 10) * 1000 });
  await memifListening(run.ns, sock);
  const [cc, ca] = child(SEND_CPU, cliIni, 'pingcli', ['--impl', impl, '--family', family, '--dst', dst, '--port', String(port), '--count', String(o.rttCount), '--seconds', String(o.rttSeconds), ...link]);
  const cli = await run.ns.exec(cc, ca, { timeoutMs: (o.rttSeconds + 100) * 1000 });
  const c = check(cli, `${setup} ping client`);
  const g = check(await srv, `${setup} ping server`);
  if (setup === 'ffnet-dpdk' && c.backend !== 'dpdk') throw new Error(`the dpdk ping client ran on the ${c.backend} backend`);
  checkPool(c, `${setup} ping client`);
  checkPool(g, `${setup} ping server`);
  return { p50_us: c.p50_us as number, p99_us: c.p99_us as number, n: c.n as number, timeouts: c.timeouts as number };
}

type IdleMode = 'node' | 'dpdk-inline' | 'dpdk-lcore';

/** CPU % of one core used by an idle process with a bound socket, over `seconds`. */
async function idleCpu(run: BenchRun, mode: IdleMode, seconds: number, family: Family): Promise<number> {
  let ini: string | null = null;
  if (mode !== 'node') {
    const sock = join(run.dir, `idle-${run.serial}.sock`);
    ini = writeMemifIni(run, 'idle', { cpu: RECV_CPU, role: 'server', addr: RECV_ADDR, ...(family === 'udp6' ? { addr6: RECV_ADDR6 } : {}), mac: RECV_MAC, sock, dataLcore: mode === 'dpdk-lcore' });
  }
  // With a data-path lcore the process spans both CPUs (JS thread on CPU 1, lcore 1 on CPU 0).
  const cpu = mode === 'dpdk-lcore' ? '0,1' : String(RECV_CPU);
  const env = ini ? [`FFNET_CONFIG=${ini}`] : ['-u', 'FFNET_CONFIG'];
  const p = run.ns.spawn('env', [...env, 'taskset', '-c', cpu, process.execPath, SELF, '--role', 'idle', '--impl', mode === 'node' ? 'node' : 'ffnet', '--family', family, '--seconds', String(seconds + 20)]);
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
  setups: Set<RxSetup>;
  families: Family[];
  /** Where the JSON goes (bench/results/dgram.json). */
  results: string;
}

type Setup = 'node' | 'ffnet-kernel' | 'ffnet-dpdk' | LinkSetup;
const SETUPS: Setup[] = ['node', 'ffnet-kernel', 'ffnet-dpdk', ...LINK_SETUPS];
/** The receive table's setups: those above and the kernel's own best (a C recvmmsg receiver). */
type RxSetup = Setup | 'kernel';
const RX_CASES: Array<{ setup: RxSetup; api: Api | 'recvmmsg' }> = [
  { setup: 'node', api: 'message' },
  { setup: 'kernel', api: 'recvmmsg' },
  { setup: 'ffnet-kernel', api: 'message' },
  { setup: 'ffnet-kernel', api: 'messages' },
  { setup: 'ffnet-dpdk', api: 'message' },
  { setup: 'ffnet-dpdk', api: 'messages' },
  ...LINK_SETUPS.flatMap((setup) => (['message', 'messages'] as const).map((api) => ({ setup, api }))),
];
const ALL_SETUPS: RxSetup[] = ['node', 'kernel', 'ffnet-kernel', 'ffnet-dpdk', ...LINK_SETUPS];
/** The families a setup runs: a stack on a kernel interface is measured over IPv4 only. */
const familiesOf = (setup: RxSetup, families: Family[]): Family[] => (isLinkSetup(setup) ? families.filter((f) => f === 'udp4') : families);

function parseOptions(argv: string[]): Options {
  const { a, common } = runnerOptions(argv, ['rtt-count', 'rtt-seconds', 'idle-seconds', 'only', 'setups', 'families', 'results'], { def: '64,1400', min: 18, max: 1472 });
  const families = parseFamilies(a.get('families'));
  if (families.includes('udp6') && common.sizes.some((x) => x > 1452)) throw new Error('--sizes: udp6 takes at most 1452 bytes (1500 − 40 − 8)');
  const setups = new Set((a.get('setups') ?? ALL_SETUPS.join(',')).split(',')) as Set<RxSetup>;
  for (const x of setups) if (!ALL_SETUPS.includes(x)) throw new Error(`--setups takes ${ALL_SETUPS.join(', ')}; got ${x}`);
  const only = new Set((a.get('only') ?? 'rx,rtt,idle').split(','));
  for (const x of only) if (!['rx', 'rtt', 'idle'].includes(x)) throw new Error(`--only takes rx, rtt, idle; got ${x}`);
  return {
    ...common,
    rttCount: Math.round(num(a, 'rtt-count', 20000, 100, 1e6)),
    rttSeconds: num(a, 'rtt-seconds', 5, 1, 30),
    idleSeconds: num(a, 'idle-seconds', 3, 1, 60),
    only,
    setups,
    families,
    results: resolve(a.get('results') ?? RESULTS),
  };
}

/** A receive row: the spread of its runs, its ratio to node:dgram's median, and its runs' own ratios. */
interface RxRow {
  setup: RxSetup;
  api: Api | 'recvmmsg';
  family: Family;
  size: number;
  pps: Spread | null;
  offered_pps: number | null;
  sender: string;
  ratio_to_node: Spread | null;
  /** A udp6 row: its median over its udp4 twin's (same setup, API and size); null otherwise. */
  udp6_to_udp4: number | null;
  /** Its median over the memif row's (ffnet-dpdk, same API, size and family); null for memif itself or without one. */
  ratio_to_memif: number | null;
  failures: string[];
}

async function runner(argv: string[]): Promise<void> {
  const o = parseOptions(argv);
  requireRoot();
  for (const b of ['udp_blast', 'kernel_recv']) readFileSync(join(BIN, b));
  const ns = await Netns.create('bench-dgram');
  const run: BenchRun = { label: 'dgram', dir: mkdtempSync(join(tmpdir(), 'ffnet-bench-dgram-')), ns, serial: 0, prefixes: [] };
  const log = (s: string): void => void process.stderr.write(`${s}\n`);
  const runs: Array<Record<string, unknown>> = [];
  const rx: Array<Omit<RxRow, 'ratio_to_node' | 'udp6_to_udp4' | 'ratio_to_memif'> & { values: number[] }> = [];
  const rtts: Array<{ setup: Setup; family: Family; p50_us: Spread | null; p99_us: Spread | null; p50s: number[]; p99s: number[]; timeouts: number; failures: string[] }> = [];
  const idle: Array<{ mode: IdleMode; family: Family; cpu_pct: Spread | null; values: number[]; failures: string[] }> = [];
  const started = Date.now();
  try {
    if (o.only.has('rx')) {
      for (const size of o.sizes) {
        for (const c of RX_CASES) {
          if (!o.setups.has(c.setup)) continue;
          // The families' runs alternate (udp4, udp6, udp4, …): a slow spell of the machine, which
          // comes and goes over seconds, then falls on both twins alike rather than on one's block.
          const families = familiesOf(c.setup, o.families);
          const acc = new Map(families.map((f) => [f, { values: [] as number[], offered: [] as number[], failures: [] as string[] }]));
          for (let rep = 0; rep < o.repeats; rep++) for (const family of families) {
            const { values, offered, failures } = acc.get(family)!;
            const busy = await waitQuiet();
            const setup = c.setup;
            const r = await attempt(() => (setup === 'ffnet-dpdk' ? rxDpdk(run, c.api as Api, size, o, family)
              : isLinkSetup(setup) ? rxLink(run, setup, c.api as Api, size, o)
              : setup === 'kernel' ? rxRecvmmsg(run, size, o, family)
                : rxKernel(run, c.setup === 'node' ? 'node' : 'ffnet', c.api as Api, size, o, family)));
            if (r.ok) {
              values.push(r.value.pps);
              offered.push(r.value.offered_pps);
              runs.push({ kind: 'rx', setup: c.setup, api: c.api, family, size, rep, busy_before: busy, pps: r.value.pps, offered_pps: r.value.offered_pps, receiver: r.value.receiver });
              log(`rx ${c.setup} ${c.api} ${family} ${size} B run ${rep + 1}/${o.repeats}: ${fmtRate(r.value.pps)}/s delivered (offered ${fmtRate(r.value.offered_pps)}/s, machine ${Math.round(busy * 100)}% busy before${notes(r.value.receiver)})`);
            } else {
              failures.push(r.failed);
              runs.push({ kind: 'rx', setup: c.setup, api: c.api, family, size, rep, busy_before: busy, failed: r.failed, detail: r.detail });
              log(`rx ${c.setup} ${c.api} ${family} ${size} B run ${rep + 1}/${o.repeats}: FAILED: ${r.failed}`);
            }
          }
          for (const [family, { values, offered, failures }] of acc) rx.push({
            setup: c.setup,
            api: c.api,
            family,
            size,
            pps: spread(values, failures.length),
            values,
            offered_pps: offered.length ? Math.round(median(offered)) : null,
            sender: c.setup === 'ffnet-dpdk' ? 'udp_blast (raw memif PMD, CPU 0)'
              : isLinkSetup(c.setup) ? 'node:dgram send() loop (CPU 0) on the kernel across the link'
              : `${c.setup === 'ffnet-kernel' ? 'ffnet/dgram kernel backend' : 'node:dgram'} send() loop (CPU 0)`,
            failures,
          });
        }
      }
    }
    if (o.only.has('rtt')) {
      for (const setup of SETUPS) {
        if (!o.setups.has(setup)) continue;
        // Alternating families, as the receive cases do.
        const families = familiesOf(setup, o.families);
        const acc = new Map(families.map((f) => [f, { samples: [] as RttSample[], failures: [] as string[] }]));
        for (let rep = 0; rep < o.repeats; rep++) for (const family of families) {
          const { samples, failures } = acc.get(family)!;
          const busy = await waitQuiet();
          const r = await attempt(() => (isLinkSetup(setup) ? rttLink(run, setup, o) : rtt(run, setup, o, family)));
          if (r.ok) {
            samples.push(r.value);
            runs.push({ kind: 'rtt', setup, family, rep, busy_before: busy, ...r.value });
            log(`rtt ${setup} ${family} run ${rep + 1}/${o.repeats}: p50 ${r.value.p50_us} µs, p99 ${r.value.p99_us} µs (${r.value.n} round trips, ${r.value.timeouts} timeouts, machine ${Math.round(busy * 100)}% busy before)`);
          } else {
            failures.push(r.failed);
            runs.push({ kind: 'rtt', setup, family, rep, busy_before: busy, failed: r.failed, detail: r.detail });
            log(`rtt ${setup} ${family} run ${rep + 1}/${o.repeats}: FAILED: ${r.failed}`);
          }
        }
        for (const [family, { samples, failures }] of acc) {
          const p50s = samples.map((x) => x.p50_us);
          const p99s = samples.map((x) => x.p99_us);
          rtts.push({ setup, family, p50_us: spread(p50s, failures.length, 1), p99_us: spread(p99s, failures.length, 1), p50s, p99s, timeouts: samples.reduce((x, t) => x + t.timeouts, 0), failures });
        }
      }
    }
    if (o.only.has('idle')) {
      for (const mode of ['node', 'dpdk-inline', 'dpdk-lcore'] as IdleMode[]) for (const family of o.families) {
        if (!o.setups.has(mode === 'node' ? 'node' : 'ffnet-dpdk')) continue;
        const values: number[] = [];
        const failures: string[] = [];
        for (let rep = 0; rep < o.repeats; rep++) {
          const busy = await waitQuiet();
          const r = await attempt(() => idleCpu(run, mode, o.idleSeconds, family));
          if (r.ok) {
            values.push(r.value);
            runs.push({ kind: 'idle', mode, family, rep, busy_before: busy, cpu_pct: r.value });
            log(`idle ${mode} ${family} run ${rep + 1}/${o.repeats}: ${r.value}% of a core (machine ${Math.round(busy * 100)}% busy before)`);
          } else {
            failures.push(r.failed);
            runs.push({ kind: 'idle', mode, family, rep, busy_before: busy, failed: r.failed, detail: r.detail });
            log(`idle ${mode} ${family} run ${rep + 1}/${o.repeats}: FAILED: ${r.failed}`);
          }
        }
        idle.push({ mode, family, cpu_pct: spread(values, failures.length, 2), values, failures });
      }
    }
  } finally {
    await ns.destroy();
    cleanRun(run);
  }

  // Ratios are to node:dgram's median at the same size and family; each run's own ratio is checked against the floors.
  const nodeMedian = (size: number, family: Family): number | null => rx.find((r) => r.setup === 'node' && r.size === size && r.family === family)?.pps?.median ?? null;
  const ratios = (r: (typeof rx)[number]): number[] => {
    const base = nodeMedian(r.size, r.family);
    return base ? r.values.map((v) => round(v / base, 2)) : [];
  };
  const twin = (r: (typeof rx)[number], family: Family): (typeof rx)[number] | undefined => rx.find((x) => x.setup === r.setup && x.api === r.api && x.size === r.size && x.family === family);
  const udp6ToUdp4 = (r: (typeof rx)[number]): number | null => {
    const v4 = r.family === 'udp6' ? twin(r, 'udp4')?.pps?.median : undefined;
    return v4 && r.pps ? round(r.pps.median / v4, 3) : null;
  };
  // Beside memif: a row's median over the ffnet-dpdk (memif) row of the same API, size and family.
  const toMemif = (r: (typeof rx)[number]): number | null => {
    const m = r.setup === 'ffnet-dpdk' ? undefined : rx.find((x) => x.setup === 'ffnet-dpdk' && x.api === r.api && x.size === r.size && x.family === r.family)?.pps?.median;
    return m && r.pps ? round(r.pps.median / m, 3) : null;
  };
  const rxOut: RxRow[] = rx.map(({ values: _v, ...r }) => ({
    ...r, ratio_to_node: spread(ratios({ ...r, values: _v }), r.failures.length, 2), udp6_to_udp4: udp6ToUdp4({ ...r, values: _v }), ratio_to_memif: toMemif({ ...r, values: _v }),
  }));
  const row = (api: Api, size: number, family: Family = 'udp4'): (typeof rx)[number] | undefined => rx.find((r) => r.setup === 'ffnet-dpdk' && r.api === api && r.size === size && r.family === family);
  const ratioTarget = (api: Api, size: number, t: { x: number; floor: number }, extra?: (r: (typeof rx)[number]) => Array<{ ok: boolean; why: string }>): TargetResult => {
    const r = row(api, size);
    const measured = r !== undefined && nodeMedian(size, 'udp4') !== null;
    return judge({
      target: `≥ ${t.x}× node:dgram (no run < ${t.floor}×)`, values: measured ? ratios(r) : [], failed: measured ? r.failures.length : 0,
      atLeast: t.x, noRunBelow: t.floor, extra: measured && extra ? extra(r) : [],
    });
  };
  const dpdkRtt = rtts.find((r) => r.setup === 'ffnet-dpdk' && r.family === 'udp4');
  const dpdkRtt6 = rtts.find((r) => r.setup === 'ffnet-dpdk' && r.family === 'udp6');
  const idleOf = (mode: IdleMode): TargetResult => {
    const i = idle.find((x) => x.mode === mode && x.family === 'udp4');
    return judge({ target: `≤ ${TARGET.idlePct}% of a core`, values: i?.values ?? [], failed: i?.failures.length ?? 0, atMost: TARGET.idlePct });
  };
  const targets: Record<string, TargetResult> = {
    message_64B: ratioTarget('message', 64, TARGET.message64),
    batch_64B: ratioTarget('messages', 64, TARGET.batch64, (r) => [{
      ok: (r.pps?.median ?? 0) >= TARGET.batch64.pps, why: `median ${fmtRate(r.pps?.median ?? 0)}/s < ${fmtRate(TARGET.batch64.pps)}/s`,
    }]),
    batch_1400B: ratioTarget('messages', 1400, TARGET.batch1400),
    rtt_p50_us: judge({ target: `p50 ≤ ${TARGET.rttP50Us} µs`, values: dpdkRtt?.p50s ?? [], failed: dpdkRtt?.failures.length ?? 0, atMost: TARGET.rttP50Us }),
    rtt_p99_us: judge({ target: `p99 ≤ ${TARGET.rttP99Us} µs`, values: dpdkRtt?.p99s ?? [], failed: dpdkRtt?.failures.length ?? 0, atMost: TARGET.rttP99Us }),
    idle_cpu_inline_pct: idleOf('dpdk-inline'),
    idle_cpu_lcore_pct: idleOf('dpdk-lcore'),
  };
  targets.batch_64B!.target = `≥ ${TARGET.batch64.x}× node:dgram and ≥ ${fmtRate(TARGET.batch64.pps)}/s (no run < ${TARGET.batch64.floor}×)`;
  // IPv6 within 10% of IPv4: each ffnet-dpdk case against its udp4 twin (a failed run of either fails it).
  const both = <T extends { failures: string[] }>(a: T | undefined, b: T | undefined): number => (a && b ? a.failures.length + b.failures.length : 0);
  if (o.families.includes('udp6') && o.setups.has('ffnet-dpdk')) {
    if (o.only.has('rx')) {
      for (const size of o.sizes) {
        for (const api of ['message', 'messages'] as Api[]) {
          const r4 = row(api, size, 'udp4');
          const r6 = row(api, size, 'udp6');
          targets[`udp6_${api}_${size}B`] = judgeFamilies({ what: 'rate', udp4: r4?.values ?? [], udp6: r6?.values ?? [], failed: both(r4, r6) });
        }
      }
    }
    if (o.only.has('rtt')) {
      targets.udp6_rtt_p50 = judgeFamilies({ what: 'time', udp4: dpdkRtt?.p50s ?? [], udp6: dpdkRtt6?.p50s ?? [], failed: both(dpdkRtt, dpdkRtt6) });
      targets.udp6_rtt_p99 = judgeFamilies({ what: 'time', udp4: dpdkRtt?.p99s ?? [], udp6: dpdkRtt6?.p99s ?? [], failed: both(dpdkRtt, dpdkRtt6) });
    }
  }
  const c = cpus();
  const doc = {
    bench: 'dgram',
    date: new Date().toISOString(),
    machine: { cpus: c.length, model: c[0]?.model ?? 'unknown', node: process.version },
    total_seconds: round((Date.now() - started) / 1000),
    setup: {
      window_seconds: o.seconds,
      warmup_seconds: o.warmup,
      repeats: o.repeats,
      families: o.families,
      statistic: 'min / median / max over the runs that gave a figure; ratios to node:dgram\'s median at the same size and family; udp6_to_udp4: a udp6 row\'s median over its udp4 twin\'s; targets on the median and on every run (udp6_*: on the ratio of the medians)',
      oversubscribed: false,
      node: 'node:dgram receiver (taskset CPU 1) ← node:dgram sender (CPU 0), connected, send() loop, over the namespace loopback',
      kernel: 'build/bin/kernel_recv (one socket, blocking recvmmsg of up to 64, MSG_WAITFORONE, default SO_RCVBUF; CPU 1) ← the same node:dgram sender: the kernel path\'s own best',
      'ffnet-kernel': 'the same with ffnet/dgram and no FFNET_CONFIG (kernel backend); its batch event groups message events',
      'ffnet-dpdk': 'ffnet/dgram receiver (dpdk backend, net_memif server 10.88.0.2/24, stack inline, lcores = 0@1) ← udp_blast (raw memif PMD, no stack, CPU 0): the receiver capacity',
      'ffnet-tap': 'ffnet/dgram receiver (dpdk backend, net_tap ff0, stack 10.78.0.2/24 inline on CPU 1) ← node:dgram sender on the kernel (10.78.0.1 on ff0, CPU 0), same namespace; IPv4 only. Round trips: node:dgram client on the kernel ⇄ ffnet/dgram server on the stack',
      'ffnet-af_packet': 'the same on net_af_packet (iface=vA, one queue pair) on veth vA in one namespace, the node:dgram sender on the kernel at vB (10.78.0.1, tx checksum offload off) in another; the kernel of vA has no address, IPv6 off, arp_ignore=8',
      'ffnet-af_xdp': 'the same on net_af_xdp (iface=vA, queue_count=1; native XDP on veth, zero-copy between UMEM and mbufs)',
      ratio_to_memif: 'rx rows: the row\'s median over the ffnet-dpdk (memif, udp_blast) row of the same API, size and family — memif\'s sender is a raw PMD, the kernel-interface rows\' a node:dgram sender, whose own rate (offered_pps) caps them',
      udp6: 'each case\'s IPv6 twin: node:dgram and ffnet-kernel udp6 sockets over ::1, kernel_recv on ::1; ffnet-dpdk with addr6 fd00:88::2/64 ← udp_blast --ipv6 from fd00:88::1 (answering neighbor solicitations), the ping-pong between fd00:88::1 and fd00:88::2 (Neighbor Discovery), the idle process holding a udp6 socket',
      rtt: `ping-pong, one 64 B datagram outstanding, after 1000 warm-up round trips, up to ${o.rttCount} round trips or ${o.rttSeconds} s; client CPU 0, server CPU 1; dpdk: two ffnet/dgram processes over memif, each inline`,
      idle: `utime+stime from /proc/<pid>/stat over ${o.idleSeconds} s of a process holding one bound socket; dpdk-lcore adds data-path lcore 1 (lcore_mask 0x3); default idle_sleep`,
      failed_run: 'a child that crashed, timed out or failed, or an ffnet process whose packet pool was not back at its baseline after closing its sockets: recorded in runs[] with why, never a figure; a target with a failed run is not met',
      run_notes: 'per run (runs[].receiver): cpu_pct of the receiver, ns_cpu_per_dgram (its CPU time per datagram delivered), frames_per_turn (dpdk: frames received per loop turn), others_on_cpu_pct (what else ran on its CPU), ctx_switches_voluntary/involuntary of the receiver over its window, steal_pct of the machine over the window (/proc/stat), and for ffnet-dpdk the stack counters (stack.*) and port drops (port.imissed, rx_nombuf) over the window, and pool { baseline, end }',
    },
    targets,
    rx: rxOut,
    rtt: rtts.map(({ p50s: _a, p99s: _b, ...r }) => r),
    idle: idle.map(({ values: _v, ...i }) => i),
    runs,
  };
  mkdirSync(dirname(o.results), { recursive: true });
  writeFileSync(o.results, `${JSON.stringify(doc, null, 2)}\n`);

  const us = (x: number): string => String(x);
  const lines: string[] = [];
  const x6 = (x: number | null | undefined): string => (x === null || x === undefined ? '' : x.toFixed(3));
  lines.push(`delivered datagrams/s, min / median / max of ${o.repeats} runs      size   rate                          × node:dgram (median; runs)    offered     udp6 ÷ udp4  ÷ memif`);
  for (const r of rxOut) {
    lines.push(`  ${`${r.setup} ${r.api} ${r.family}`.padEnd(42)} ${String(r.size).padStart(5)}  ${fmtSpread(r.pps, fmtRate).padEnd(28)}  ${fmtSpread(r.ratio_to_node, (x) => x.toFixed(2)).padEnd(28)}  ${fmtRate(r.offered_pps).padEnd(10)}  ${x6(r.udp6_to_udp4).padEnd(11)}  ${x6(r.ratio_to_memif)}`);
  }
  const rttTwin = (r: (typeof doc.rtt)[number], k: 'p50_us' | 'p99_us'): string => {
    const v4 = r.family === 'udp6' ? doc.rtt.find((x) => x.setup === r.setup && x.family === 'udp4')?.[k]?.median : undefined;
    return v4 && r[k] ? ` (${x6(round(r[k].median / v4, 3))})` : '';
  };
  const rttMemif = (r: (typeof doc.rtt)[number]): string => {
    const m = r.setup === 'ffnet-dpdk' ? undefined : doc.rtt.find((x) => x.setup === 'ffnet-dpdk' && x.family === r.family)?.p50_us?.median;
    return m && r.p50_us ? `  p50 ÷ memif ${x6(round(r.p50_us.median / m, 3))}` : '';
  };
  lines.push('round trip, µs (min / median / max of the runs\' p50 and p99; udp6: (udp6 ÷ udp4) of the medians; p50 ÷ memif: of the medians)');
  for (const r of doc.rtt) lines.push(`  ${`${r.setup} ${r.family}`.padEnd(42)} p50 ${`${fmtSpread(r.p50_us, us)}${rttTwin(r, 'p50_us')}`.padEnd(34)} p99 ${`${fmtSpread(r.p99_us, us)}${rttTwin(r, 'p99_us')}`.padEnd(28)}${rttMemif(r)}`);
  lines.push('idle process, % of one core (min / median / max)');
  for (const i of doc.idle) lines.push(`  ${`${i.mode} ${i.family}`.padEnd(42)} ${fmtSpread(i.cpu_pct, us)}`);
  lines.push('targets (value: min / median / max over the runs)');
  for (const [k, t] of Object.entries(targets)) lines.push(fmtTarget(k, t));
  const failed = runs.filter((r) => r.failed !== undefined);
  if (failed.length) {
    lines.push(`failed runs: ${failed.length}`);
    for (const f of failed) lines.push(`  ${String(f.kind)} ${String(f.setup ?? f.mode)} ${String(f.api ?? '')} ${String(f.family)} ${String(f.size ?? '')} run ${Number(f.rep) + 1}: ${String(f.failed)}`);
  }
  lines.push(`(${doc.total_seconds} s; JSON: ${o.results})`);
  console.log(lines.join('\n'));
}

/** A receive run's notes for the log: context switches, steal, and the ffnet stack's drops. */
function notes(r: Record<string, unknown>): string {
  const out: string[] = [];
  if (typeof r.cpu_pct === 'number') out.push(`CPU ${r.cpu_pct}% (${r.ns_cpu_per_dgram as number} ns/dgram)`);
  if (typeof r.others_on_cpu_pct === 'number') out.push(`others on its CPU ${r.others_on_cpu_pct}%`);
  if (typeof r.ctx_switches_involuntary === 'number') out.push(`${r.ctx_switches_voluntary as number}+${r.ctx_switches_involuntary} ctx switches`);
  if (typeof r.steal_pct === 'number' && r.steal_pct > 0) out.push(`steal ${r.steal_pct}%`);
  const st = r.stack as Record<string, number> | null | undefined;
  if (st) out.push(`fullsock ${st['udp.fullsock'] ?? 0}, ${r.frames_per_turn as number} frames/turn, ${st['loop.idle_sleeps'] ?? 0} naps`);
  const p = r.port as Record<string, number> | null | undefined;
  if (p && (p.imissed || p.rx_nombuf)) out.push(`imissed ${p.imissed}, rx_nombuf ${p.rx_nombuf}`);
  return out.length ? `; ${out.join(', ')}` : '';
}

// --- entry ------------------------------------------------------------------------------------------

benchMain(runner, { recv: roleRecv, send: roleSend, pingsrv: rolePingServer, pingcli: rolePingClient, idle: roleIdle });
