/**
 * Reception survives a packet pool under pressure, over net_tap with the kernel as peer, in each lcore
 * mode:
 *
 * - unread sockets flooded by the kernel never take the whole pool: the UDP receive bound
 *   (net.inet.udp.recvmbufs) drops what is over it into udp.memdrop, so while the sockets are still
 *   full a kernel ping is answered and a datagram reaches a fresh socket; once everything is read the
 *   pool is back at its idle baseline;
 * - with that bound lifted (net.inet.udp.recvmbufs = the pool's size), sockets may take the whole
 *   pool; once they are read, reception works again (the restart below);
 * - packets held for neighbours that never answer stop at the same bound (arp.hold_dropped), however
 *   many neighbours and maxhold allow;
 * - when the pool does run dry (here: fragments that never complete, with a small pool and reassembly
 *   limits above it) while the kernel floods the port, reception resumes as soon as the
 *   mbufs return — net_tap's queue is read on every burst, so it needs no restart (eth.rx_restarts
 *   stays 0) —, a ping is answered, and the idle stack stops spinning.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { KernelUdp } from '../../testbed/kernel-udp.js';
import { incompleteFragments, injectFrames } from '../../testbed/floods.js';
import { pattern, udpFrame } from '../../testbed/frames.js';
import { IFACE, KERNEL_IP, LCORE_MODES, STACK_IP, ctr, injectFramePath, kernelPeer, kernelToStack, sleep, waitForStats, type KernelPeer, type KernelPeerOptions } from './kernel-peer.js';
import { datagramGetsThrough, kernelPing, samplePool, stackCpuShare } from './survival.js';
import { FdScope, expectPoolAt, steadyInUse } from './udp-bench.js';

describe.each(LCORE_MODES)('receive path under packet pool pressure ($name)', (mode) => {
  let peer: KernelPeer | undefined;
  let kern: KernelUdp | undefined;
  let fds: FdScope | undefined;

  afterEach(async () => {
    await fds?.closeAll();
    kern?.close();
    await peer?.close();
    peer = kern = fds = undefined;
  });

  /** A stack with `opts`, the kernel's UDP endpoint and an FdScope, with the neighbour resolved both ways. */
  async function start(label: string, opts: KernelPeerOptions): Promise<{ peer: KernelPeer; kern: KernelUdp; fds: FdScope; baseline: number }> {
    const p = (peer = await kernelPeer(label, opts));
    const k = (kern = await KernelUdp.start(p.ns));
    const f = (fds = new FdScope(p.stack));
    await p.stack.ping(KERNEL_IP, { count: 1, timeoutMs: 2_000 });
    return { peer: p, kern: k, fds: f, baseline: await steadyInUse(p.stack) };
  }

  /** `sockets` ff sockets on ports 9000.., left unread, each sent `perSocket` 16-byte kernel datagrams. */
  async function floodUnread(p: KernelPeer, k: KernelUdp, f: FdScope, sockets: number, perSocket: number): Promise<number[]> {
    const socks: number[] = [];
    for (let i = 0; i < sockets; i++) socks.push(await f.udp({ address: STACK_IP, port: 9000 + i }));
    const { sid } = await k.socket({ address: KERNEL_IP });
    for (let i = 0; i < sockets; i++) {
      await k.send(sid, { to: { address: STACK_IP, port: 9000 + i }, size: 16, count: perSocket });
    }
    await k.closeSocket(sid);
    await sleep(300);
    return socks;
  }

  it('unread sockets flooded by the kernel leave the receive rings their mbufs', async () => {
    const SOCKETS = 12;
    const PER_SOCKET = 900; // 16-byte datagrams: SO_RCVBUF (212992) admits ~780 each, 12 of them more than the pool
    const { peer, kern, fds, baseline } = await start('rx-pool-udp', { dpdk: mode.dpdk });
    const { stack } = peer;
    const { size } = await stack.mempool();
    const before = await stack.stats();

    const sampler = samplePool(peer);
    const socks = await floodUnread(peer, kern, fds, SOCKETS, PER_SOCKET);
    const maxInUse = await sampler.stop();
    const full = await stack.stats();
    expect(maxInUse, `the pool (${size}) was never full while the sockets filled`).toBeLessThan(size);
    expect(ctr(full, 'udp.memdrop') - ctr(before, 'udp.memdrop'), 'drops over the receive bound are counted').toBeGreaterThan(0);
    expect(ctr(full, 'udp.delivered') - ctr(before, 'udp.delivered')).toBeGreaterThan(0);

    // The sockets are still full: the stack still answers and still delivers.
    const ping = await kernelPing(peer, 3);
    expect(ping.received, ping.out).toBe(3);
    expect(await datagramGetsThrough(peer, kern, fds, 9100)).toBe(1);

    let read = 0;
    for (const fd of socks) read += (await stack.udpRecv(fd, { count: PER_SOCKET, timeoutMs: 300 })).datagrams.length;
    const after = await stack.stats();
    expect(read).toBe(ctr(after, 'udp.delivered') - ctr(before, 'udp.delivered') - 1);
    await expectPoolAt(stack, baseline);
  }, 60_000);

  it('with the bound lifted, sockets that took the whole pool and are then read leave reception working', async () => {
    const SOCKETS = 12;
    const PER_SOCKET = 900;
    const { peer, kern, fds, baseline } = await start('rx-pool-lifted', { dpdk: mode.dpdk, sysctl: { 'net.inet.udp.recvmbufs': 8191 } });
    const { ns, stack } = peer;
    const { size } = await stack.mempool();

    const socks = await floodUnread(peer, kern, fds, SOCKETS, PER_SOCKET);
    expect((await stack.mempool()).inUse, 'the sockets took the pool').toBeGreaterThan(size - 64);
    // More frames than the tap queue holds, at once, while nothing can be received (to a closed port).
    const ends = kernelToStack(peer);
    await injectFrames(ns, injectFramePath, IFACE, Array.from({ length: 3_000 }, () => udpFrame(ends, 5000, 9999, pattern(16))), 1_000);
    for (const fd of socks) await stack.udpRecv(fd, { count: PER_SOCKET, timeoutMs: 300 });
    await expectPoolAt(stack, baseline);

    const ping = await kernelPing(peer, 3);
    expect(ping.received, `${ping.out}\nport: ${JSON.stringify((await stack.currentPorts())[0]?.stats)}`).toBe(3);
    expect(await datagramGetsThrough(peer, kern, fds, 9100)).toBe(1);
    expect(await stackCpuShare(peer, 1_000), 'share of a core the idle stack uses').toBeLessThan(0.5);
  }, 60_000);

  it('packets held for silent neighbours leave the receive rings their mbufs', async () => {
    const HOLD = 1024;
    const { peer, kern, fds, baseline } = await start('rx-pool-hold', { dpdk: mode.dpdk, sysctl: { 'net.link.ether.inet.maxhold': HOLD } });
    const { stack } = peer;
    const { size } = await stack.mempool();
    const before = await stack.stats();

    // Nine neighbours that never answer, each allowed HOLD packets: more than the pool in all.
    const sampler = samplePool(peer);
    const tx = await fds.udp({ address: STACK_IP, port: 9400 });
    for (let i = 0; i < 9; i++) {
      await stack.udpSend(tx, { to: { address: `10.77.0.${200 + i}`, port: 9 }, size: 16, count: HOLD, timeoutMs: 1_000 }).catch(() => undefined);
    }
    // Still resolving (maxtries 5 × rexmit 1 s): the stack answers and delivers meanwhile.
    const ping = await kernelPing(peer, 3);
    expect(ping.received, ping.out).toBe(3);
    expect(await datagramGetsThrough(peer, kern, fds, 9401)).toBe(1);
    expect(await sampler.stop(), `the pool (${size}) was never full`).toBeLessThan(size);
    const after = await stack.stats();
    expect(ctr(after, 'arp.hold_dropped') - ctr(before, 'arp.hold_dropped'), 'packets not held are counted').toBeGreaterThan(0);
    await fds.closeAll();
    await waitForStats(stack, (s) => ctr(s, 'arp.timeouts') - ctr(before, 'arp.timeouts') >= 9, 'the resolutions to fail', 10_000);
    await expectPoolAt(stack, baseline);
  }, 60_000);

  it('reception resumes once mbufs return to a pool that ran dry', async () => {
    const POOL = 2047;
    const { peer, kern, fds, baseline } = await start('rx-pool-dry', {
      dpdk: { ...mode.dpdk, nb_mbuf: POOL },
      // Reassembly allowed to hold more than the pool, for 2 s.
      sysctl: { 'net.inet.ip.maxfragpackets': 4096, 'net.inet.ip.maxfragbytes': 268435456, 'net.inet.ip.fragttl': 2_000 },
    });
    const { ns, stack } = peer;
    const before = await stack.stats();

    // First fragments that never complete take the pool; the rest of them, and a kernel flood after
    // them, pile up in the tap queue.
    const sampler = samplePool(peer);
    const ends = kernelToStack(peer);
    await injectFrames(ns, injectFramePath, IFACE, incompleteFragments(POOL + 500, ends, 0x100), 500);
    const { sid } = await kern.socket({ address: KERNEL_IP });
    const flood = await kern.send(sid, { to: { address: STACK_IP, port: 9201 }, size: 16, count: 3_000 });
    expect(flood.sent).toBe(3_000);
    await kern.closeSocket(sid);
    expect(await sampler.stop(), 'the pool ran dry').toBeGreaterThan(POOL - 64);

    // The partial datagrams expire and their mbufs return: reception resumes.
    await waitForStats(stack, (s) => ctr(s, 'ip.frag_timeout') - ctr(before, 'ip.frag_timeout') >= POOL - 600, 'the partial datagrams to expire', 10_000);
    const ping = await kernelPing(peer, 3);
    expect(ping.received, `${ping.out}\nport: ${JSON.stringify((await stack.currentPorts())[0]?.stats)}`).toBe(3);
    expect(await datagramGetsThrough(peer, kern, fds, 9201)).toBe(1);
    // The device did run dry (rx_nombuf) and reads its queue again without a restart: the stack moves
    // net_tap's receive trigger before every burst (phy/port.c), so no restart is needed (eth.rx_restarts).
    expect((await stack.currentPorts())[0]?.stats.rxNombuf, 'the device ran out of mbufs').toBeGreaterThan(0);
    expect(ctr(await stack.stats(), 'eth.rx_restarts') - ctr(before, 'eth.rx_restarts'), 'no restart was needed').toBe(0);
    // Idle again: the drained queue no longer wakes the loop (a stuck readable tap fd kept it spinning).
    expect(await stackCpuShare(peer, 1_000), 'share of a core the idle stack uses').toBeLessThan(0.5);
    await fds.closeAll();
    await expectPoolAt(stack, baseline);
  }, 60_000);
});
