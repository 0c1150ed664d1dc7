/**
 * The transport on ffnet/dgram's dpdk backend: a publisher and a subscriber in two processes, each on its
 * own ffnet stack, joined by net_memif, with the stacks' fault injector (dev.fault.* sysctls) dropping,
 * duplicating and reordering received frames in both directions at 1%, 5% and 20% loss. Every message must
 * arrive exactly once and in order and the stream must end cleanly. Both peers use ffnet/dgram's batch API
 * ('messages' and sendBatch), which the transport picks when the socket has it.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Netns, canCreateNamespaces } from '../../testbed/netns.js';
import { Peer } from './peers.js';

const hasNetns = canCreateNamespaces();
const PUB_IP = '10.89.0.1';
const SUB_IP = '10.89.0.2';
const PUB_MAC = '02:00:00:89:00:01';
const SUB_MAC = '02:00:00:89:00:02';
let ns: Netns;
let dir: string;
let serial = 0;

beforeAll(async () => {
  if (!hasNetns) return;
  ns = await Netns.create('tr-dpdk');
  dir = mkdtempSync(join(tmpdir(), 'ffnet-tr-dpdk-'));
}, 30_000);

afterAll(async () => {
  await ns?.destroy();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** ffnet.ini for one end of the memif link, with the fault injector set. */
function ini(role: 'server' | 'client', socket: string, faults: { drop: number; dup: number; reorder: number; seed: number }): string {
  const self = role === 'server' ? [SUB_IP, SUB_MAC] : [PUB_IP, PUB_MAC];
  const peer = role === 'server' ? [PUB_IP, PUB_MAC] : [SUB_IP, SUB_MAC];
  const prefix = `ffnet-tr-${role}-${process.pid}-${serial++}`;
  const path = join(dir, `${prefix}.ini`);
  writeFileSync(path, [
    '[dpdk]',
    'lcore_mask = 0x1',
    `lcores = 0@${role === 'server' ? 1 : 0}`,
    'memory = 256',
    `file_prefix = ${prefix}`,
    `vdev[] = net_memif0,role=${role},socket=${socket},socket-abstract=no,mac=${self[1]}`,
    'log_level = warning',
    '[port0]',
    `addr = ${self[0]}`,
    'netmask = 255.255.255.0',
    `arp[] = ${peer[0]} ${peer[1]}`,
    '[sysctl]',
    `dev.fault.rx_drop_ppm = ${faults.drop}`,
    `dev.fault.rx_dup_ppm = ${faults.dup}`,
    `dev.fault.rx_reorder_ppm = ${faults.reorder}`,
    `dev.fault.seed = ${faults.seed}`,
    '',
  ].join('\n'));
  return path;
}

describe.skipIf(!hasNetns)('reliable delivery on the dpdk backend with the stack fault injector', () => {
  it.each([
    [10_000, 21],
    [50_000, 22],
    [200_000, 23],
  ])('rx drop %i ppm in both stacks, with duplication and reordering', async (drop, seed) => {
    const socket = join(dir, `memif-${seed}.sock`);
    const count = 3000;
    const channel = `aeron:udp?endpoint=${SUB_IP}:40100|term-length=64k`;
    const faults = { drop, dup: 20_000, reorder: 50_000 };
    const sub = Peer.start('sub', ['--role', 'sub', '--impl', 'ffnet', '--channel', channel, '--count', String(count), '--lifetime-ms', '90000'], {
      ns, env: { FFNET_CONFIG: ini('server', socket, { ...faults, seed }) },
    });
    await sub.event('ready', 20_000);
    const pub = Peer.start('pub', ['--role', 'pub', '--impl', 'ffnet', '--channel', channel, '--count', String(count), '--seed', String(seed),
      '--max-length', '3000', '--lifetime-ms', '90000'], { ns, env: { FFNET_CONFIG: ini('client', socket, { ...faults, seed: seed + 1 }) } });
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
