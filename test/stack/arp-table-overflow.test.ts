/**
 * The neighbour table under a flood of ARP requests from forged senders on a /16 (the stack at
 * 10.77.0.2/16 over net_tap, the kernel as peer), in each lcore mode: the table never holds more
 * than net.link.ether.inet.max_entries, the overflow is counted (arp.evicted), a neighbour the stack
 * wants to reach right after the flood resolves at once, and a neighbour it uses survives the next
 * flood.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { forgedArpRequests, injectFrames } from '../../testbed/floods.js';
import { IFACE, KERNEL_IP, LCORE_MODES, STACK_IP, ctr, haveInjectFrame, injectFramePath, kernelPeer, waitForStats, type KernelPeer } from './kernel-peer.js';

const SENDERS = 3_000;
const MAX_ENTRIES = 768;

describe.each(LCORE_MODES)('neighbour table flooded by forged ARP requests ($name)', (mode) => {
  let peer: KernelPeer;

  beforeAll(async () => {
    if (!haveInjectFrame()) throw new Error(`${injectFramePath} not found: run npm run build`);
    peer = await kernelPeer('arp-overflow', { dpdk: mode.dpdk, port0: { netmask: '255.255.0.0' } });
  });
  afterAll(async () => {
    await peer?.close();
  });

  /**
   * Injects `count` forged requests and waits until the stack has answered at least `atLeast` of them
   * and stopped answering (a busy tap queue may drop some on the kernel side).
   */
  async function flood(count: number, seed: number, atLeast: number): Promise<void> {
    const before = await peer.stack.stats();
    await injectFrames(peer.ns, injectFramePath, IFACE, forgedArpRequests(count, STACK_IP, '10.77.0.0', seed, [KERNEL_IP, STACK_IP]), 500);
    let last = -1;
    await waitForStats(
      peer.stack,
      (s) => {
        const answered = ctr(s, 'arp.requests_in') - ctr(before, 'arp.requests_in');
        const settled = answered === last;
        last = answered;
        return settled && answered >= atLeast;
      },
      `at least ${atLeast} of ${count} forged requests answered`,
      15_000,
    );
  }

  it('a new neighbour resolves at once after the flood, and the table stays bounded', async () => {
    const { stack } = peer;
    expect((await stack.neighbours()).find((n) => n.addr === KERNEL_IP)).toBeUndefined();
    const before = await stack.stats();
    await flood(SENDERS, 1, 2 * MAX_ENTRIES);
    const table = await stack.neighbours();
    // Per lcore; neighbours() shows lcore 0's table.
    expect(table.length).toBeLessThanOrEqual(MAX_ENTRIES);
    expect(table.length).toBeGreaterThan(MAX_ENTRIES / 2);

    const [reply] = await stack.ping(KERNEL_IP, { count: 1, timeoutMs: 2_000 });
    expect(reply?.rttUs, 'ping to the kernel right after the flood').toBeGreaterThanOrEqual(0);
    const after = await stack.stats();
    expect(ctr(after, 'arp.evicted') - ctr(before, 'arp.evicted'), 'overflow counted').toBeGreaterThan(0);
    expect((await stack.neighbours()).length).toBeLessThanOrEqual(MAX_ENTRIES);
  });

  it('a neighbour in use survives the next flood', async () => {
    const { stack } = peer;
    await stack.ping(KERNEL_IP, { count: 1, timeoutMs: 2_000 });
    await flood(SENDERS, 2, 2 * MAX_ENTRIES);
    const kernel = (await stack.neighbours()).find((n) => n.addr === KERNEL_IP);
    expect(kernel?.state, 'the kernel entry is still there').toBe('reachable');
    const before = await stack.stats();
    const [reply] = await stack.ping(KERNEL_IP, { count: 1, timeoutMs: 2_000 });
    expect(reply?.rttUs).toBeGreaterThanOrEqual(0);
    // Sent straight away: no new resolution was needed.
    expect(ctr(await stack.stats(), 'arp.requests_out') - ctr(before, 'arp.requests_out')).toBe(0);
  });

  it('the maximum is a tunable', async () => {
    const { stack } = peer;
    expect(await stack.sysctl('net.link.ether.inet.max_entries', 64)).toBe(64);
    await flood(500, 3, 200);
    expect((await stack.neighbours()).length).toBeLessThanOrEqual(64);
    const [reply] = await stack.ping(KERNEL_IP, { count: 1, timeoutMs: 2_000 });
    expect(reply?.rttUs).toBeGreaterThanOrEqual(0);
    await stack.sysctl('net.link.ether.inet.max_entries', MAX_ENTRIES);
  });
});
