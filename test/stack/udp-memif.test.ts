/**
 * Two stacks in two processes over net_memif (shared memory; one memif `role=server`, one
 * `role=client`, one socket file in a temporary directory), both in one private namespace, at
 * 10.88.0.1/24 and 10.88.0.2/24: a million 64-byte sequence-numbered datagrams cross with none lost,
 * duplicated or corrupted, checked by a bitmap of sequence numbers inside the receiving process. The
 * sender is paced by the receiver's progress (at most a window of datagrams outstanding, fewer than
 * the memif ring holds), so a receiver that keeps up loses nothing; the counters agree (udp.tx
 * on one side, udp.delivered on the other, no fullsock or device drops). A shorter exchange runs
 * with a data-path lcore in each process.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { StackProcess, type RawConfig, type UdpCountStatus } from '../../testbed/stack-process.js';
import type { Netns } from '../../testbed/netns.js';
import { LCORE_MODES, delta, quietNamespace, sleep, uniquePrefix, type LcoreMode } from './kernel-peer.js';
import { FdScope } from './udp-bench.js';

const SERVER_IP = '10.88.0.1';
const CLIENT_IP = '10.88.0.2';
const PORT = 9000;
const SIZE = 64;
/** memif ring size: log2 of its descriptors (rsize; DPDK's default is 10). */
const RSIZE = 11;
/**
 * Datagrams outstanding at most (sent and not yet read by the receiving JS): fewer than the memif
 * ring holds, so even a receiver whose stack pauses (inline: its JS thread is busy) loses nothing —
 * a full ring makes the sender drop (eth.tx_dropped), it does not wait.
 */
const WINDOW = (1 << RSIZE) - 256;
/** Datagrams per send call. */
const CHUNK = 256;

interface Pair {
  ns: Netns;
  server: StackProcess;
  client: StackProcess;
  dir: string;
  close(): Promise<void>;
}

function memifConfig(role: 'server' | 'client', socket: string, addr: string, mac: string, mode: LcoreMode): RawConfig {
  return {
    dpdk: {
      vdev: `net_memif0,role=${role},id=0,socket=${socket},socket-abstract=no,rsize=${RSIZE},mac=${mac}`,
      file_prefix: uniquePrefix(`memif-${role}`),
      ...mode.dpdk,
    },
    port0: { addr, netmask: '255.255.255.0' },
  };
}

async function memifPair(mode: LcoreMode): Promise<Pair> {
  const ns = await quietNamespace('udp-memif');
  const dir = mkdtempSync(join(tmpdir(), 'ffnet-memif-'));
  const socket = join(dir, 'memif.sock');
  let server: StackProcess | undefined;
  let client: StackProcess | undefined;
  try {
    server = await StackProcess.start(ns, memifConfig('server', socket, SERVER_IP, '02:00:00:88:00:01', mode));
    client = await StackProcess.start(ns, memifConfig('client', socket, CLIENT_IP, '02:00:00:88:00:02', mode));
    for (const s of [server, client]) {
      await ns.waitFor(async () => (await s.currentPorts())[0]?.linkUp === true, 'the memif link to come up', 15_000, 100);
    }
    // Resolve each other first: a burst to an unresolved neighbour would overflow the ARP hold queue.
    const replies = await client.ping(SERVER_IP, { count: 1, timeoutMs: 3_000 });
    if (replies[0]?.rttUs === undefined || replies[0].rttUs < 0) throw new Error(`no echo reply from ${SERVER_IP} over memif`);
    await server.ping(CLIENT_IP, { count: 1, timeoutMs: 3_000 });
  } catch (err) {
    await client?.close().catch(() => undefined);
    await server?.close().catch(() => undefined);
    await ns.destroy();
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  const srv = server;
  const cli = client;
  return {
    ns,
    server: srv,
    client: cli,
    dir,
    async close() {
      try {
        await cli.close();
        await srv.close();
      } finally {
        await ns.destroy();
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}

/**
 * Sends `total` seq datagrams from `tx` (client) to the server's `rxFd`, keeping at most WINDOW
 * outstanding, and resolves to the receiver's final count.
 */
async function pacedExchange(pair: Pair, txFd: number, rxFd: number, total: number, deadlineMs: number): Promise<UdpCountStatus> {
  const { server, client } = pair;
  await server.udpCountStart(rxFd, { expected: total, size: SIZE });
  const deadline = Date.now() + deadlineMs;
  let sent = 0;
  let status = await server.udpCountStatus(rxFd);
  while (sent < total) {
    if (Date.now() > deadline) throw new Error(`paced exchange: ${sent} of ${total} sent, receiver at ${JSON.stringify(status)} when the time ran out`);
    if (sent - status.received > WINDOW - CHUNK) {
      status = await server.udpCountStatus(rxFd);
      if (!status.running) throw new Error(`the receiver stopped: ${JSON.stringify(status)}`);
      if (sent - status.received > WINDOW - CHUNK) await sleep(1);
      continue;
    }
    const n = Math.min(CHUNK, total - sent);
    const r = await client.udpSend(txFd, { to: { address: SERVER_IP, port: PORT }, size: SIZE, count: n, pattern: 'seq', startSeq: sent, batch: 32 });
    sent += r.sent;
    status = await server.udpCountStatus(rxFd);
  }
  // Let the tail arrive (bounded), then stop the count.
  await pair.ns
    .waitFor(async () => (status = await server.udpCountStatus(rxFd)).received >= total, 'the last datagrams', 5_000, 20)
    .catch(() => undefined /* the final count says what is missing */);
  return server.udpCountStop(rxFd);
}

const RUNS: Array<{ mode: LcoreMode; total: number; deadlineMs: number }> = [
  { mode: LCORE_MODES[0] as LcoreMode, total: 1_000_000, deadlineMs: 90_000 },
  { mode: LCORE_MODES[1] as LcoreMode, total: 50_000, deadlineMs: 30_000 },
];

describe.each(RUNS)('UDP between two stacks over net_memif ($mode.name)', ({ mode, total, deadlineMs }) => {
  let pair: Pair;

  beforeAll(async () => {
    pair = await memifPair(mode);
  });
  afterAll(async () => {
    await pair?.close();
  });

  it(`delivers ${total} sequence-numbered ${SIZE}-byte datagrams, none lost or duplicated, when the receiver keeps up`, { timeout: deadlineMs + 20_000 }, async () => {
    const { server, client } = pair;
    const rxScope = new FdScope(server);
    const txScope = new FdScope(client);
    const K = await server.constants();
    const rx = await rxScope.udp({ address: '0.0.0.0', port: PORT });
    // Room for the whole window: each datagram is charged its size plus 256 bytes, and SO_RCVBUF is
    // clamped to kern.ipc.maxsockbuf (425984 by default: 1331 such datagrams, fewer than WINDOW).
    await server.sysctl('kern.ipc.maxsockbuf', 4 * 1024 * 1024);
    await server.posix('ff_setsockopt', rx, K.SOL_SOCKET, K.SO_RCVBUF, 2 * 1024 * 1024);
    const tx = await txScope.udp({ address: CLIENT_IP, port: 0 });
    const sBefore = await server.stats();
    const cBefore = await client.stats();
    const t0 = performance.now();
    const final = await pacedExchange(pair, tx, rx, total, deadlineMs);
    const seconds = (performance.now() - t0) / 1000;
    const sD = delta(sBefore, await server.stats());
    const cD = delta(cBefore, await client.stats());
    const summary = JSON.stringify({ final, seconds: seconds.toFixed(1), rate: Math.round(total / seconds), server: pick(sD), client: pick(cD) });
    expect(final.missing, summary).toBe(0);
    expect(final.unique, summary).toBe(total);
    expect(final.received, summary).toBe(total);
    expect([final.duplicates, final.corrupt, final.outOfRange], summary).toEqual([0, 0, 0]);
    expect(cD['udp.tx'], summary).toBe(total);
    expect([cD['udp.tx_errors'], cD['eth.tx_dropped']], summary).toEqual([0, 0]);
    expect(sD['udp.delivered'], summary).toBe(total);
    expect([sD['udp.fullsock'], sD['udp.noport'], sD['udp.badsum']], summary).toEqual([0, 0, 0]);
    await rxScope.closeAll();
    await txScope.closeAll();
  });
});

function pick(d: Record<string, number>): Record<string, number> {
  const keys = ['eth.rx', 'eth.tx', 'eth.tx_dropped', 'udp.tx', 'udp.tx_errors', 'udp.rx', 'udp.delivered', 'udp.fullsock', 'arp.hold_dropped'];
  return Object.fromEntries(keys.map((k) => [k, d[k] ?? 0]));
}
