/**
 * ICMP echo between the stack and the Linux kernel, in each lcore mode: the kernel's ping with 0-,
 * 56- and 1472-byte payloads is answered and counted (icmp.echo_in / icmp.echo_reply_out), a
 * subnet-broadcast ping is ignored and counted (icmp.bmcastecho), the stack's own ping reaches the
 * kernel with every reply (the first held during ARP, not lost), its payloads above one segment (up
 * to 65507 bytes) leave in fragments and their replies are reassembled, and pings to 127.0.0.1 and
 * to the stack's own address are answered inside the stack (ip.loopback) without touching the device.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KERNEL_IP, LCORE_MODES, STACK_IP, SUBNET_BCAST, ctr, delta, kernelPeer, parsePing, waitForStats, type KernelPeer } from './kernel-peer.js';

describe.each(LCORE_MODES)('ICMP echo with the kernel ($name)', (mode) => {
  let peer: KernelPeer;

  beforeAll(async () => {
    peer = await kernelPeer('icmp-echo', { dpdk: mode.dpdk });
  });
  afterAll(async () => {
    await peer?.close();
  });

  it('pings the kernel first and gets every reply, the first included (held during ARP)', async () => {
    const { stack } = peer;
    // Before anything else: the stack has never heard of 10.77.0.1, so the first request waits for ARP.
    expect((await stack.neighbours()).find((n) => n.addr === KERNEL_IP)).toBeUndefined();
    const before = await stack.stats();
    const replies = await stack.ping(KERNEL_IP, { count: 3, intervalMs: 100, timeoutMs: 2_000 });
    expect(replies.map((r) => r.seq)).toEqual([1, 2, 3]);
    for (const r of replies) {
      expect(r.rttUs, `seq ${r.seq}: ${JSON.stringify(r)}`).toBeGreaterThanOrEqual(0);
      expect(r.ttl).toBe(64);
      expect(r.bytes).toBe(56);
    }
    const d = delta(before, await waitForStats(stack, (s) => ctr(s, 'icmp.echo_reply_in') - ctr(before, 'icmp.echo_reply_in') >= 3, 'the replies counted', 3_000));
    expect(d['icmp.echo_out']).toBe(3);
    expect(d['icmp.echo_reply_in']).toBe(3);
    expect(d['arp.requests_out']).toBeGreaterThanOrEqual(1);
    expect(d['arp.hold_dropped']).toBe(0);
    const n = (await stack.neighbours()).find((e) => e.addr === KERNEL_IP);
    expect(n?.state).toBe('reachable');
  });

  it.each([2041, 8000, 65507])('pings the kernel with a %i-byte payload: the request leaves in fragments, the reply is reassembled', async (size) => {
    const { stack } = peer;
    const before = await stack.stats();
    const replies = await stack.ping(KERNEL_IP, { count: 2, size, intervalMs: 100, timeoutMs: 3_000 });
    expect(replies.map((r) => [r.seq, r.bytes, r.ttl])).toEqual([[1, size, 64], [2, size, 64]]);
    for (const r of replies) expect(r.rttUs, JSON.stringify(r)).toBeGreaterThanOrEqual(0);
    // The lcore counts a reply as it hands it on: with a data-path lcore the count may reach the stats
    // a moment after the ping has the reply.
    const d = delta(before, await waitForStats(stack, (s) => ctr(s, 'icmp.echo_reply_in') - ctr(before, 'icmp.echo_reply_in') >= 2, 'both replies counted', 3_000));
    expect(d['icmp.echo_out']).toBe(2);
    expect(d['icmp.echo_reply_in']).toBe(2);
    expect(d['icmp.badsum']).toBe(0);
  });

  it.each(['127.0.0.1', STACK_IP])('answers its own 65507-byte pings to %s inside the stack', async (dst) => {
    const { stack } = peer;
    const replies = await stack.ping(dst, { count: 1, size: 65507, timeoutMs: 2_000 });
    expect(replies.map((r) => [r.seq, r.bytes])).toEqual([[1, 65507]]);
    expect(replies[0]?.rttUs).toBeGreaterThanOrEqual(0);
  });

  it.each([0, 56, 1472])('answers the kernel\'s ping with a %i-byte payload', async (size) => {
    const { ns, stack } = peer;
    const before = await stack.stats();
    const r = await ns.exec('ping', ['-c', '3', '-i', '0.2', '-s', String(size), '-W', '2', STACK_IP], { timeoutMs: 15_000 });
    const p = parsePing(r.stdout);
    expect(p.transmitted, r.stdout).toBe(3);
    expect(p.received, r.stdout).toBe(3);
    expect(r.code).toBe(0);
    expect(p.replySeqs).toEqual([1, 2, 3]);
    expect(p.replyFrom).toEqual([STACK_IP, STACK_IP, STACK_IP]);
    expect(p.replyBytes).toEqual([size + 8, size + 8, size + 8]);
    const after = await waitForStats(stack, (s) => ctr(s, 'icmp.echo_reply_out') - ctr(before, 'icmp.echo_reply_out') >= 3, '3 echo replies counted');
    const d = delta(before, after);
    expect(d['icmp.echo_in']).toBe(3);
    expect(d['icmp.echo_reply_out']).toBe(3);
    expect(d['icmp.badsum']).toBe(0);
    expect(d['ip.badsum']).toBe(0);
  });

  it('ignores a subnet-broadcast ping and counts it in icmp.bmcastecho', async () => {
    const { ns, stack } = peer;
    const before = await stack.stats();
    const r = await ns.exec('ping', ['-b', '-c', '2', '-i', '0.2', '-W', '1', SUBNET_BCAST], { timeoutMs: 15_000 });
    const p = parsePing(r.stdout);
    expect(p.transmitted, r.stdout + r.stderr).toBe(2);
    // The kernel itself may answer its own broadcast (icmp_echo_ignore_broadcasts); the stack must not.
    expect(p.replyFrom.filter((a) => a === STACK_IP), r.stdout).toEqual([]);
    const after = await waitForStats(stack, (s) => ctr(s, 'icmp.bmcastecho') - ctr(before, 'icmp.bmcastecho') >= 2, 'two broadcast echoes counted');
    const d = delta(before, after);
    expect(d['icmp.bmcastecho']).toBe(2);
    expect(d['icmp.echo_in']).toBe(0);
    expect(d['icmp.echo_reply_out']).toBe(0);
  });

  it.each([
    ['127.0.0.1', '127.0.0.1'],
    ['its own address', STACK_IP],
  ])('pings %s inside the stack, never through the device', async (_what, dst) => {
    const { stack } = peer;
    const before = await stack.stats();
    const portBefore = (await stack.currentPorts())[0];
    const replies = await stack.ping(dst, { count: 3, intervalMs: 50, timeoutMs: 1_000 });
    expect(replies.map((r) => r.rttUs >= 0)).toEqual([true, true, true]);
    for (const r of replies) expect(r.bytes).toBe(56);
    const after = await stack.stats();
    const portAfter = (await stack.currentPorts())[0];
    const d = delta(before, after);
    // Each request and each reply goes round the loopback queue.
    expect(d['ip.loopback']).toBeGreaterThanOrEqual(6);
    expect(d['icmp.echo_in']).toBe(3);
    expect(d['icmp.echo_reply_out']).toBe(3);
    expect(d['icmp.echo_reply_in']).toBe(3);
    expect(d['ip.loopback_dropped']).toBe(0);
    // The kernel sends nothing of its own here (IPv6 off, no traffic), so the device must stay silent.
    expect(portAfter?.stats.opackets).toBe(portBefore?.stats.opackets);
    expect(d['eth.tx']).toBe(0);
  });
});
