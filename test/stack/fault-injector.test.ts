/**
 * The fault injector (stack/phy/fault.c, `dev.fault.*` tunables) against the Linux kernel over
 * net_tap, in each lcore mode. The kernel sends numbered datagrams (`seq` payloads) to an ff socket,
 * paced in chunks that the stack absorbs before the next one, so neither the tap queue nor the socket
 * overflows and every datagram is accounted for:
 *
 *   - the [sysctl] settings of the config apply from the start, and are readable and checked at run
 *     time through sysctl();
 *   - rx_drop_ppm = 200000 delivers about four fifths, in order, and fault.dropped is exactly the
 *     shortfall; writing the same settings again replays the same drops, another seed drops others;
 *   - rx_dup_ppm delivers every datagram, the copies right after their originals, as many as
 *     fault.duplicated says;
 *   - rx_reorder_ppm loses nothing, moves no datagram by more than one place, and fault.reordered is
 *     the number of datagrams that came after a later one;
 *   - all three at once account for every datagram;
 *   - ARP is spared: arping and the kernel's own resolution work at rx_drop_ppm = 1000000;
 *   - setting the tunables back to 0 at run time restores clean, in-order delivery.
 *
 * After each test the packet pool is back at its baseline (a frame held for reordering is delivered
 * within 1 ms, never stranded).
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { KernelUdp } from '../../testbed/kernel-udp.js';
import { checkSeqPayload } from '../../testbed/payload.js';
import type { StackProcess } from '../../testbed/stack-process.js';
import { IFACE, KERNEL_IP, LCORE_MODES, STACK_IP, ctr, delta, kernelPeer, parseArping, parsePing, waitForStats, type KernelPeer } from './kernel-peer.js';
import { expectPoolAt, steadyInUse } from './udp-bench.js';

/** Datagrams per run. */
const N = 5000;
/** Datagrams the kernel sends before waiting for the stack to take them (tap queue: 1000 frames). */
const CHUNK = 250;
/** Payload bytes: the sequence number and its check bytes. */
const SIZE = 16;
const SEED = 12345;
const UDP_PORT = 7100;

const DROP = 'dev.fault.rx_drop_ppm';
const DUP = 'dev.fault.rx_dup_ppm';
const REORDER = 'dev.fault.rx_reorder_ppm';
const SEEDKEY = 'dev.fault.seed';

/** What one run delivered: sequence numbers in arrival order, counter deltas, frames the device took. */
interface Run {
  seqs: number[];
  d: Record<string, number>;
  ipackets: number;
}

/** Sequence numbers below `n` that never arrived. */
function missing(seqs: number[], n: number): number[] {
  const seen = new Uint8Array(n);
  for (const s of seqs) seen[s] = 1;
  const out: number[] = [];
  for (let i = 0; i < n; i++) if (!seen[i]) out.push(i);
  return out;
}

/** Places where a datagram arrived after one sent later. */
function descents(seqs: number[]): number {
  let n = 0;
  for (let i = 1; i < seqs.length; i++) if ((seqs[i] as number) < (seqs[i - 1] as number)) n++;
  return n;
}

describe.each(LCORE_MODES)('fault injector ($name)', (mode) => {
  let peer: KernelPeer;
  let kern: KernelUdp;
  let sid: number;
  let fd: number;
  let baseline: number;
  let firstDrops: number[] = [];

  async function ipackets(stack: StackProcess): Promise<number> {
    const [port] = await stack.currentPorts();
    return port?.stats.ipackets ?? -1;
  }

  async function configure(values: Record<string, number>): Promise<void> {
    for (const [name, value] of Object.entries(values)) expect(await peer.stack.sysctl(name, value)).toBe(value);
  }

  /** The kernel sends `n` numbered datagrams, chunk by chunk; collects what the ff socket got. */
  async function run(n: number): Promise<Run> {
    const { stack } = peer;
    const before = await stack.stats();
    const ipBefore = await ipackets(stack);
    const seqs: number[] = [];
    // Through the injector: delivered to UDP (copies excluded) or dropped. A held frame counts once delivered.
    const through = (s: typeof before): number =>
      ctr(s, 'udp.rx') - ctr(before, 'udp.rx') - (ctr(s, 'fault.duplicated') - ctr(before, 'fault.duplicated'))
      + ctr(s, 'fault.dropped') - ctr(before, 'fault.dropped');
    const drain = async (now: typeof before): Promise<void> => {
      const want = ctr(now, 'udp.delivered') - ctr(before, 'udp.delivered') - seqs.length;
      if (want <= 0) return;
      const r = await stack.udpRecv(fd, { count: want, timeoutMs: 2_000, smallBytes: SIZE });
      expect(r.timedOut, `${want} datagrams queued on the socket`).toBe(false);
      for (const g of r.datagrams) {
        const bytes = Buffer.from(g.hex ?? '', 'hex');
        const seq = checkSeqPayload(bytes);
        expect([g.length, g.address, seq >= 0 && seq < n]).toEqual([SIZE, KERNEL_IP, true]);
        seqs.push(seq);
      }
    };
    let sent = 0;
    while (sent < n) {
      const count = Math.min(CHUNK, n - sent);
      const s = await kern.send(sid, { to: { address: STACK_IP, port: UDP_PORT }, size: SIZE, count, pattern: 'seq', startSeq: sent });
      expect(s.errors).toEqual([]);
      sent += count;
      await drain(await waitForStats(stack, (x) => through(x) >= sent, `${sent} datagrams through the injector`, 10_000));
    }
    const after = await stack.stats();
    await drain(after);
    const d = delta(before, after);
    expect(through(after)).toBe(n);
    expect(seqs.length).toBe(d['udp.delivered']);
    expect(d['udp.rx']).toBe(d['udp.delivered']);
    for (const c of ['udp.fullsock', 'udp.noport', 'udp.badsum', 'udp.badlen', 'udp.hdrops', 'ip.badsum', 'eth.not_ours']) expect(d[c], c).toBe(0);
    return { seqs, d, ipackets: (await ipackets(stack)) - ipBefore };
  }

  beforeAll(async () => {
    peer = await kernelPeer('fault', { dpdk: mode.dpdk, sysctl: { [DROP]: 200_000, [SEEDKEY]: SEED } });
    const { ns, stack, stackMac } = peer;
    // A permanent entry: the kernel sends at once, with no ARP of its own in the counts.
    await ns.execOk('ip', ['neigh', 'replace', STACK_IP, 'lladdr', stackMac, 'dev', IFACE, 'nud', 'permanent']);
    kern = await KernelUdp.start(ns);
    ({ sid } = await kern.socket({ address: KERNEL_IP }));
    const K = await stack.constants();
    fd = await stack.posix<number>('ff_socket', K.AF_INET, K.SOCK_DGRAM, 0);
    await stack.posix('ff_bind', fd, { address: STACK_IP, port: UDP_PORT });
    baseline = await steadyInUse(stack);
  });
  afterAll(async () => {
    kern?.close();
    await peer?.close();
  });
  afterEach(async () => {
    await expectPoolAt(peer.stack, baseline);
  });

  it('starts with the [sysctl] settings of its config, and checks writes at run time', async () => {
    const { stack } = peer;
    expect([await stack.sysctl(DROP), await stack.sysctl(DUP), await stack.sysctl(REORDER), await stack.sysctl(SEEDKEY)])
      .toEqual([200_000, 0, 0, SEED]);
    await expect(stack.sysctl(DROP, 1_000_001)).rejects.toThrow(/out of range/);
    await expect(stack.sysctl(SEEDKEY, 2 ** 31)).rejects.toThrow(/out of range/);
    expect(await stack.sysctl(DROP)).toBe(200_000);
  });

  it('drops about a fifth at rx_drop_ppm = 200000, each drop counted, the rest in order', async () => {
    const { seqs, d, ipackets: dev } = await run(N);
    const lost = missing(seqs, N);
    expect(Math.abs(seqs.length / N - 0.8), `${seqs.length} of ${N} delivered`).toBeLessThan(0.03);
    expect(d['fault.dropped']).toBe(N - seqs.length);
    expect(d['fault.dropped']).toBe(lost.length);
    expect([d['fault.duplicated'], d['fault.reordered']]).toEqual([0, 0]);
    expect(descents(seqs)).toBe(0);
    expect(new Set(seqs).size).toBe(seqs.length);
    // Past the injector the stack sees exactly the survivors; the device saw them all.
    expect([d['ip.rx'], d['ip.delivered'], d['udp.rx']]).toEqual([seqs.length, seqs.length, seqs.length]);
    expect(dev).toBe(d['eth.rx'] + d['fault.dropped']);
    expect(dev - d['arp.rx']).toBe(N);
    firstDrops = lost;
  });

  it('replays the same drops when the same settings are written again, and others with another seed', async () => {
    expect(firstDrops.length).toBeGreaterThan(0);
    await configure({ [SEEDKEY]: SEED });
    const again = await run(N);
    expect(missing(again.seqs, N)).toEqual(firstDrops);
    expect(again.d['fault.dropped']).toBe(firstDrops.length);

    await configure({ [SEEDKEY]: SEED + 1 });
    const other = await run(N);
    const lost = missing(other.seqs, N);
    expect(lost).not.toEqual(firstDrops);
    expect(other.d['fault.dropped']).toBe(lost.length);
    expect(Math.abs(other.seqs.length / N - 0.8)).toBeLessThan(0.03);
  });

  it('duplicates at rx_dup_ppm, each copy right after its original', async () => {
    await configure({ [DROP]: 0, [DUP]: 100_000 });
    const { seqs, d } = await run(N);
    expect(missing(seqs, N)).toEqual([]);
    const dups = seqs.length - N;
    expect(d['fault.duplicated']).toBe(dups);
    expect(Math.abs(dups / N - 0.1), `${dups} copies of ${N}`).toBeLessThan(0.02);
    expect([d['fault.dropped'], d['fault.reordered']]).toEqual([0, 0]);
    // In order, each copy next to its original: the sequence only ever repeats or steps by one.
    for (let i = 1; i < seqs.length; i++) expect([0, 1]).toContain((seqs[i] as number) - (seqs[i - 1] as number));
    expect(d['udp.rx']).toBe(N + dups);
  });

  it('reorders at rx_reorder_ppm, losing nothing and moving no datagram by more than one place', async () => {
    await configure({ [DUP]: 0, [REORDER]: 100_000 });
    const { seqs, d } = await run(N);
    expect(seqs.length).toBe(N);
    expect(missing(seqs, N)).toEqual([]);
    expect([d['fault.dropped'], d['fault.duplicated']]).toEqual([0, 0]);
    expect(d['fault.reordered']).toBeGreaterThan(N / 50);
    expect(descents(seqs)).toBe(d['fault.reordered']);
    for (let i = 0; i < N; i++) expect(Math.abs((seqs[i] as number) - i)).toBeLessThanOrEqual(1);
  });

  it('drops, duplicates and reorders together, every datagram accounted for', async () => {
    await configure({ [DROP]: 100_000, [DUP]: 100_000, [REORDER]: 100_000 });
    const n = 2000;
    const { seqs, d } = await run(n);
    const times = new Map<number, number>();
    for (const s of seqs) times.set(s, (times.get(s) ?? 0) + 1);
    for (const t of times.values()) expect(t).toBeLessThanOrEqual(2);
    expect(missing(seqs, n).length).toBe(d['fault.dropped']);
    expect(seqs.length).toBe(n - (d['fault.dropped'] ?? 0) + (d['fault.duplicated'] ?? 0));
    for (const c of ['fault.dropped', 'fault.duplicated', 'fault.reordered']) expect(d[c], c).toBeGreaterThan(0);
  });

  it('spares ARP: arping and the kernel\'s resolution work at rx_drop_ppm = 1000000', async () => {
    const { ns, stack, stackMac } = peer;
    await configure({ [DROP]: 1_000_000, [DUP]: 0, [REORDER]: 0 });
    const before = await stack.stats();
    try {
      const a = await ns.exec('arping', ['-c', '3', '-W', '0.2', '-i', IFACE, STACK_IP], { timeoutMs: 10_000 });
      const ar = parseArping(a.stdout);
      expect(ar.received, a.stdout).toBe(3);
      expect(ar.replies.map((r) => r.mac)).toEqual([stackMac, stackMac, stackMac]);
      // The kernel resolves the stack afresh; its echo requests, IPv4, are all dropped.
      await ns.execOk('ip', ['neigh', 'del', STACK_IP, 'dev', IFACE]);
      const p = await ns.exec('ping', ['-c', '2', '-i', '0.2', '-W', '1', STACK_IP], { timeoutMs: 10_000 });
      expect(parsePing(p.stdout).received, p.stdout).toBe(0);
      const [entry] = JSON.parse(await ns.execOk('ip', ['-j', 'neigh', 'show', STACK_IP, 'dev', IFACE])) as Array<{ lladdr?: string; state?: string[] }>;
      expect(entry?.lladdr, JSON.stringify(entry)).toBe(stackMac);
      const d = delta(before, await waitForStats(stack, (x) => ctr(x, 'fault.dropped') - ctr(before, 'fault.dropped') >= 2, 'the echo requests dropped'));
      expect(d['fault.dropped']).toBe(2);
      expect([d['ip.rx'], d['icmp.echo_in']]).toEqual([0, 0]);
      expect(d['arp.requests_in']).toBeGreaterThanOrEqual(4);
      expect(d['arp.replies_out']).toBe(d['arp.requests_in']);
    } finally {
      await ns.execOk('ip', ['neigh', 'replace', STACK_IP, 'lladdr', stackMac, 'dev', IFACE, 'nud', 'permanent']);
    }
  });

  it('delivers everything in order again once the tunables are set back to 0 at run time', async () => {
    await configure({ [DROP]: 0, [DUP]: 0, [REORDER]: 0 });
    const { seqs, d, ipackets: dev } = await run(N);
    expect(seqs).toEqual(Array.from({ length: N }, (_, i) => i));
    expect([d['fault.dropped'], d['fault.duplicated'], d['fault.reordered']]).toEqual([0, 0, 0]);
    expect(dev).toBe(d['eth.rx']);
  });
});
