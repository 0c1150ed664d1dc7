/**
 * The transport on ffnet/dgram's dpdk backend: a publisher and a subscriber in two processes, each on its
 * own ffnet stack, joined by net_memif — and again by net_af_packet, and by net_af_xdp, on the two ends of a
 * veth pair, each stack in its own namespace (a stack on a kernel interface, testbed/veth-peer.ts) — with the stacks'
 * fault injector (dev.fault.* sysctls) dropping, duplicating and reordering received frames in both
 * directions at 1%, 5% and 20% loss. Every message must arrive exactly once and in order and the stream
 * must end cleanly. Both peers use ffnet/dgram's batch API
 * ('messages' and sendBatch), which the transport picks when the socket has it.
 *
 * Multicast channels of both families between the same two stacks, without faults: an IPv4 group and an
 * IPv6 one (IPV6_JOIN_GROUP and IPV6_MULTICAST_IF on the `%port0` scope of each stack's address, MLD, hop
 * limit from `ttl=`, the data group and the control group + 1 on 33:33 MACs). Under min flow control every
 * message arrives in order, the publisher hears the subscriber's status messages on the control group,
 * and the stream ends cleanly. (The fault injector touches IPv4 frames only.)
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Netns, canCreateNamespaces } from '../../testbed/netns.js';
import { PEER_IFACE, STACK_IFACE, vethPair, type AfPmd, type VethPair } from '../../testbed/veth-peer.js';
import { STACKS, stackIni, type Faults, type StackLink } from './memif-stack.js';
import { Peer } from './peers.js';

const hasNetns = canCreateNamespaces();
let ns: Netns;
let dir: string;

beforeAll(async () => {
  if (!hasNetns) return;
  ns = await Netns.create('tr-dpdk');
  dir = mkdtempSync(join(tmpdir(), 'ffnet-tr-dpdk-'));
}, 30_000);

afterAll(async () => {
  await ns?.destroy();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** Where each end runs and what joins the two stacks. */
interface Ends {
  ns: { pub: Netns; sub: Netns };
  link: { pub: StackLink; sub: StackLink };
}

/** Both stacks in the module's namespace, joined by the memif socket `socket`. */
function memifEnds(socket: string): Ends {
  const link: StackLink = { kind: 'memif', socket };
  return { ns: { pub: ns, sub: ns }, link: { pub: link, sub: link } };
}

/**
 * Starts a subscriber, then a publisher of `count` messages (up to 3000 bytes) on the other stack, and
 * checks that the subscriber received them all in order; returns the publisher's 'closed' counters.
 */
async function exchange(
  ends: Ends, channel: { pub: string; sub: string }, count: number, faults: { pub: Faults; sub: Faults }, seed: number,
): Promise<{ pub: Peer; sub: Peer; counters: Record<string, number> }> {
  const sub = Peer.start('sub', ['--role', 'sub', '--impl', 'ffnet', '--channel', channel.sub, '--count', String(count), '--lifetime-ms', '90000'], {
    ns: ends.ns.sub, env: { FFNET_CONFIG: stackIni(dir, 'sub', ends.link.sub, faults.sub) },
  });
  await sub.event('ready', 20_000);
  const pub = Peer.start('pub', ['--role', 'pub', '--impl', 'ffnet', '--channel', channel.pub, '--count', String(count), '--seed', String(seed),
    '--max-length', '3000', '--lifetime-ms', '90000'], { ns: ends.ns.pub, env: { FFNET_CONFIG: stackIni(dir, 'pub', ends.link.pub, faults.pub) } });
  const received = await sub.event('received', 80_000);
  expect(received.count).toBe(count);
  expect(received.problems).toEqual([]);
  const closed = await pub.event('closed', 20_000);
  const counters = closed.counters as Record<string, number>;
  expect(counters.messagesOffered).toBe(count);
  return { pub, sub, counters };
}

/** The stream ended with an EOS the subscriber saw, and both peers exit. */
async function expectCleanEnd(pub: Peer, sub: Peer): Promise<void> {
  expect((await sub.event('unavailable', 10_000)).reason).toBe('end-of-stream');
  await pub.event('done', 10_000);
  expect(await sub.stop()).toBe(0);
}

/** The veth pairs the kernel-interface links made, deleted with their namespaces at the end. */
const pairs: VethPair[] = [];
afterAll(async () => {
  await Promise.all(pairs.map((p) => p.destroy()));
});

/** Two stacks on the two ends of a veth pair through `pmd`, each end carrying its stack's MAC. */
async function vethEnds(pmd: AfPmd): Promise<Ends> {
  pairs.push(await vethPair('tr-veth', { macs: { a: STACKS.pub.mac, b: STACKS.sub.mac }, stackOnBoth: true }));
  const { a, b } = pairs[pairs.length - 1]!;
  return { ns: { pub: a, sub: b }, link: { pub: { kind: 'kernel', pmd, iface: STACK_IFACE }, sub: { kind: 'kernel', pmd, iface: PEER_IFACE } } };
}

/** The links the loss test runs over: memif, and af_packet and af_xdp on a veth pair. */
const LINKS: Array<{ name: string; ends: (seed: number) => Promise<Ends> }> = [
  { name: 'net_memif', ends: async (seed) => memifEnds(join(dir, `memif-${seed}.sock`)) },
  { name: 'net_af_packet on a veth pair', ends: () => vethEnds('net_af_packet') },
  { name: 'net_af_xdp on a veth pair', ends: () => vethEnds('net_af_xdp') },
];

describe.skipIf(!hasNetns).each(LINKS)('reliable delivery on the dpdk backend with the stack fault injector ($name)', ({ ends }) => {
  it.each([
    [10_000, 21],
    [50_000, 22],
    [200_000, 23],
  ])('rx drop %i ppm in both stacks, with duplication and reordering', async (drop, seed) => {
    const channel = `aeron:udp?endpoint=${STACKS.sub.ip}:40100|term-length=64k`;
    const faults = { drop, dup: 20_000, reorder: 50_000 };
    const { pub, sub, counters } = await exchange(await ends(seed), { pub: channel, sub: channel }, 3000,
      { sub: { ...faults, seed }, pub: { ...faults, seed: seed + 1 } }, seed);
    expect(counters.naksReceived).toBeGreaterThan(0);
    expect(counters.retransmits).toBeGreaterThan(0);
    await expectCleanEnd(pub, sub);
  }, 150_000);
});

describe.skipIf(!hasNetns).each(['IPv4', 'IPv6'] as const)('%s multicast on the dpdk backend', (family) => {
  /** Each end's channel: the same group, each stack's own interface (IPv6: its address scoped to %port0). */
  function channel(end: 'pub' | 'sub'): string {
    const where = family === 'IPv4'
      ? `239.89.0.1:40200|interface=${STACKS[end].ip}`
      : `[ff02::89:1]:40200|interface=[${STACKS[end].ip6}%port0]`;
    return `aeron:udp?endpoint=${where}|term-length=64k|fc=min|ttl=2`;
  }

  it('min: every message in order, status messages on the control group, a clean end', async () => {
    const none = { drop: 0, dup: 0, reorder: 0, seed: 0 };
    const { pub, sub, counters } = await exchange(memifEnds(join(dir, `memif-mc-${family}.sock`)), { pub: channel('pub'), sub: channel('sub') }, 2000,
      { pub: none, sub: none }, 32);
    // Min flow control follows the subscriber's SMs, sent to the control group: ~3 MB through 32 KiB windows.
    expect(counters.statusMessagesReceived).toBeGreaterThan(50);
    expect(counters.backPressureEvents).toBeGreaterThan(0);
    await expectCleanEnd(pub, sub);
  }, 120_000);
});
