/**
 * The transport on ffnet/dgram's dpdk backend: a publisher and a subscriber in two processes, each on its
 * own ffnet stack, joined by net_memif, with the stacks' fault injector (dev.fault.* sysctls) dropping,
 * duplicating and reordering received frames in both directions at 1%, 5% and 20% loss. Every message must
 * arrive exactly once and in order and the stream must end cleanly. Both peers use ffnet/dgram's batch API
 * ('messages' and sendBatch), which the transport picks when the socket has it.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Netns, canCreateNamespaces } from '../../testbed/netns.js';
import { STACKS, memifIni } from './memif-stack.js';
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

describe.skipIf(!hasNetns)('reliable delivery on the dpdk backend with the stack fault injector', () => {
  it.each([
    [10_000, 21],
    [50_000, 22],
    [200_000, 23],
  ])('rx drop %i ppm in both stacks, with duplication and reordering', async (drop, seed) => {
    const socket = join(dir, `memif-${seed}.sock`);
    const count = 3000;
    const channel = `aeron:udp?endpoint=${STACKS.sub.ip}:40100|term-length=64k`;
    const faults = { drop, dup: 20_000, reorder: 50_000 };
    const sub = Peer.start('sub', ['--role', 'sub', '--impl', 'ffnet', '--channel', channel, '--count', String(count), '--lifetime-ms', '90000'], {
      ns, env: { FFNET_CONFIG: memifIni(dir, 'sub', socket, { ...faults, seed }) },
    });
    await sub.event('ready', 20_000);
    const pub = Peer.start('pub', ['--role', 'pub', '--impl', 'ffnet', '--channel', channel, '--count', String(count), '--seed', String(seed),
      '--max-length', '3000', '--lifetime-ms', '90000'], { ns, env: { FFNET_CONFIG: memifIni(dir, 'pub', socket, { ...faults, seed: seed + 1 }) } });
    const received = await sub.event('received', 80_000);
    expect(received.count).toBe(count);
    expect(received.problems).toEqual([]);
    const closed = await pub.event('closed', 20_000);
    const counters = closed.counters as { naksReceived: number; retransmits: number; messagesOffered: number };
    expect(counters.messagesOffered).toBe(count);
    expect(counters.naksReceived).toBeGreaterThan(0);
    expect(counters.retransmits).toBeGreaterThan(0);
    expect((await sub.event('unavailable', 10_000)).reason).toBe('end-of-stream');
    await pub.event('done', 10_000);
    expect(await sub.stop()).toBe(0);
  }, 150_000);
});
