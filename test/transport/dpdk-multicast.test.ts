/**
 * Multicast channels on ffnet/dgram's dpdk backend: a publisher and a subscriber in two processes, each on
 * its own ffnet stack, joined by net_memif, on an IPv4 group and on an IPv6 one (IPV6_JOIN_GROUP and
 * IPV6_MULTICAST_IF on the `%port0` scope of each stack's address, MLD, hop limit from `ttl=`, the data
 * group and the control group + 1 on 33:33 MACs). Under min flow control every message arrives in order,
 * the publisher hears the subscriber's status messages on the control group, and the stream ends cleanly.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Netns, canCreateNamespaces } from '../../testbed/netns.js';
import { STACKS, memifIni } from './memif-stack.js';
import { Peer } from './peers.js';

const hasNetns = canCreateNamespaces();
const NO_FAULTS = { drop: 0, dup: 0, reorder: 0, seed: 0 };
let ns: Netns;
let dir: string;

beforeAll(async () => {
  if (!hasNetns) return;
  ns = await Netns.create('tr-dpdk-mc');
  dir = mkdtempSync(join(tmpdir(), 'ffnet-tr-dpdk-mc-'));
}, 30_000);

afterAll(async () => {
  await ns?.destroy();
  if (dir) rmSync(dir, { recursive: true, force: true });
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
    const socket = join(dir, `memif-${family}.sock`);
    const count = 2000;
    const sub = Peer.start('sub', ['--role', 'sub', '--impl', 'ffnet', '--channel', channel('sub'), '--count', String(count), '--lifetime-ms', '60000'], {
      ns, env: { FFNET_CONFIG: memifIni(dir, 'sub', socket, NO_FAULTS) },
    });
    await sub.event('ready', 20_000);
    const pub = Peer.start('pub', ['--role', 'pub', '--impl', 'ffnet', '--channel', channel('pub'), '--count', String(count), '--seed', '32',
      '--max-length', '3000', '--lifetime-ms', '60000'], { ns, env: { FFNET_CONFIG: memifIni(dir, 'pub', socket, NO_FAULTS) } });
    const received = await sub.event('received', 50_000);
    expect(received.count).toBe(count);
    expect(received.problems).toEqual([]);
    const closed = await pub.event('closed', 20_000);
    const counters = closed.counters as { messagesOffered: number; statusMessagesReceived: number; backPressureEvents: number };
    expect(counters.messagesOffered).toBe(count);
    // Min flow control follows the subscriber's SMs, sent to the control group: ~3 MB through 32 KiB windows.
    expect(counters.statusMessagesReceived).toBeGreaterThan(50);
    expect(counters.backPressureEvents).toBeGreaterThan(0);
    expect((await sub.event('unavailable', 10_000)).reason).toBe('end-of-stream');
    await pub.event('done', 10_000);
    expect(await sub.stop()).toBe(0);
  }, 120_000);
});
