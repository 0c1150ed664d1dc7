/**
 * Floods from the kernel side of ff0, in each lcore mode, each bounded (a few thousand frames or a
 * few seconds, seeded) and each followed by the same checks: the kernel's pings are answered, a
 * kernel datagram reaches a fresh ff socket, the stack process's resident memory has grown by less
 * than RSS_BOUND_MIB since the stack started, and the packet pool returns to its idle baseline.
 *
 * - a socket that never reads: SO_RCVBUF holds (udp.fullsock counts the rest);
 * - first fragments that never complete: maxfragpackets, then maxfragbytes, bound what reassembly
 *   holds (ip.frag_nomem counts the rest);
 * - ARP requests from thousands of forged senders on the /16: the neighbour table stays within
 *   max_entries (arp.evicted);
 * - random and mutated frames for three seconds: dropped and counted, nothing crashes.
 */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ARP_OP, BROADCAST_MAC, ETHERTYPE, arp, echoRequestFrame, ethernet, ipBytes, pattern, udpFrame } from '../../testbed/frames.js';
import { forgedArpRequests, incompleteFragments, injectFrames, mutatedFrames } from '../../testbed/floods.js';
import { KernelUdp } from '../../testbed/kernel-udp.js';
import { IFACE, KERNEL_IP, LCORE_MODES, STACK_IP, ctr, haveInjectFrame, injectFramePath, kernelPeer, kernelToStack, waitForStats, type KernelPeer } from './kernel-peer.js';
import { datagramGetsThrough, kernelPing, samplePool, stackRssKib } from './survival.js';
import { FdScope, expectPoolAt, steadyInUse } from './udp-bench.js';

/** Growth of the stack process's RSS over the whole suite that still passes (the pool alone is ~19 MiB). */
const RSS_BOUND_MIB = 64;
const MAXFRAGPACKETS = 64;
const RANDOM_FLOOD_MS = 3_000;

describe.each(LCORE_MODES)('floods ($name)', (mode) => {
  let peer: KernelPeer;
  let kern: KernelUdp;
  let fds: FdScope;
  let baseline: number;
  let rssStart: number;
  let port = 9300;

  beforeAll(async () => {
    if (!haveInjectFrame()) throw new Error(`${injectFramePath} not found: run npm run build`);
    peer = await kernelPeer('floods', {
      dpdk: mode.dpdk,
      port0: { netmask: '255.255.0.0' },
      sysctl: { 'net.inet.ip.maxfragpackets': MAXFRAGPACKETS, 'net.inet.ip.fragttl': 1_000 },
    });
    kern = await KernelUdp.start(peer.ns);
    await peer.stack.ping(KERNEL_IP, { count: 1, timeoutMs: 2_000 });
    baseline = await steadyInUse(peer.stack);
    rssStart = stackRssKib(peer);
  });
  afterAll(async () => {
    kern?.close();
    await peer?.close();
  });
  beforeEach(() => {
    fds = new FdScope(peer.stack);
  });
  afterEach(async () => {
    await fds.closeAll();
    await expectPoolAt(peer.stack, baseline, 5_000);
  });

  /** The checks after every flood. */
  async function stillServes(): Promise<void> {
    const ping = await kernelPing(peer, 3);
    const kernelEntry = (await peer.stack.neighbours()).find((n) => n.addr === KERNEL_IP);
    expect(ping.received, `${ping.out}\nthe stack's entry for the kernel: ${JSON.stringify(kernelEntry)} (kernel MAC ${peer.kernelMac})`).toBe(3);
    expect(await datagramGetsThrough(peer, kern, fds, port++), 'a kernel datagram reaches a fresh socket').toBe(1);
    const grownMib = (stackRssKib(peer) - rssStart) / 1024;
    expect(grownMib, `stack RSS grew by ${grownMib.toFixed(1)} MiB`).toBeLessThan(RSS_BOUND_MIB);
  }

  it('a socket that never reads holds SO_RCVBUF and counts the rest', async () => {
    const { stack } = peer;
    const K = await stack.constants();
    const p = port++;
    const fd = await fds.udp({ address: STACK_IP, port: p });
    await stack.posix('ff_setsockopt', fd, K.SOL_SOCKET, K.SO_RCVBUF, 65536);
    const rcvbuf = await stack.posix<number>('ff_getsockopt', fd, K.SOL_SOCKET, K.SO_RCVBUF);
    const before = await stack.stats();
    const { sid } = await kern.socket({ address: KERNEL_IP });
    await kern.send(sid, { to: { address: STACK_IP, port: p }, size: 1000, count: 3_000 });
    await kern.closeSocket(sid);
    const after = await waitForStats(stack, (s) => ctr(s, 'udp.rx') - ctr(before, 'udp.rx') >= 2_500, 'the flood received', 10_000);
    const delivered = ctr(after, 'udp.delivered') - ctr(before, 'udp.delivered');
    expect(ctr(after, 'udp.fullsock') - ctr(before, 'udp.fullsock')).toBeGreaterThan(0);
    // What is queued never exceeds the receive buffer (each datagram charged with its overhead).
    expect(delivered * 1000).toBeLessThanOrEqual(rcvbuf);
    await stillServes();
  });

  it('fragments that never complete are bounded by maxfragpackets, then by maxfragbytes', async () => {
    const { stack } = peer;
    const before = await stack.stats();
    const sampler = samplePool(peer);
    await injectFrames(peer.ns, injectFramePath, IFACE, incompleteFragments(2_000, kernelToStack(peer), 0x1000), 500);
    let after = await waitForStats(stack, (s) => ctr(s, 'ip.fragments') - ctr(before, 'ip.fragments') >= 1_500, 'the fragments received', 10_000);
    expect(ctr(after, 'ip.frag_nomem') - ctr(before, 'ip.frag_nomem'), 'over maxfragpackets').toBeGreaterThan(0);
    // Held per lcore: at most maxfragpackets datagrams of one fragment each (2 lcores at most here).
    expect(await sampler.stop()).toBeLessThanOrEqual(baseline + 2 * MAXFRAGPACKETS + 64);
    await stillServes();

    // Many datagrams allowed, few bytes: the byte budget binds (65536 bytes ≈ 44 fragments of 1480).
    await stack.sysctl('net.inet.ip.maxfragpackets', 4096);
    await stack.sysctl('net.inet.ip.maxfragbytes', 65536);
    const mid = await stack.stats();
    const sampler2 = samplePool(peer);
    await injectFrames(peer.ns, injectFramePath, IFACE, incompleteFragments(2_000, kernelToStack(peer), 0x5000), 500);
    after = await waitForStats(stack, (s) => ctr(s, 'ip.fragments') - ctr(mid, 'ip.fragments') >= 1_500, 'the fragments received', 10_000);
    expect(ctr(after, 'ip.frag_nomem') - ctr(mid, 'ip.frag_nomem'), 'over maxfragbytes').toBeGreaterThan(1_000);
    expect(await sampler2.stop()).toBeLessThanOrEqual(baseline + 2 * 45 + 64);
    await stack.sysctl('net.inet.ip.maxfragpackets', MAXFRAGPACKETS);
    await stack.sysctl('net.inet.ip.maxfragbytes', 4194304);
    await stillServes();
  });

  it('ARP requests from thousands of forged senders leave the table bounded', async () => {
    const { stack } = peer;
    const before = await stack.stats();
    await injectFrames(peer.ns, injectFramePath, IFACE, forgedArpRequests(4_000, STACK_IP, '10.77.0.0', 7, [KERNEL_IP, STACK_IP]), 500);
    const after = await waitForStats(stack, (s) => ctr(s, 'arp.requests_in') - ctr(before, 'arp.requests_in') >= 2_000, 'the requests answered', 10_000);
    expect(ctr(after, 'arp.evicted') - ctr(before, 'arp.evicted')).toBeGreaterThan(0);
    expect((await stack.neighbours()).length).toBeLessThanOrEqual(await stack.sysctl('net.link.ether.inet.max_entries'));
    await stillServes();
  });

  /** An ARP frame whose sender protocol address is the kernel's. */
  function claimsKernel(f: Buffer): boolean {
    return f.length >= 42 && f.readUInt16BE(12) === ETHERTYPE.ARP && f.subarray(28, 32).equals(ipBytes(KERNEL_IP));
  }

  it('random and mutated frames for three seconds are dropped and counted', async () => {
    const { stack, stackMac, kernelMac } = peer;
    const templates = [
      echoRequestFrame(kernelToStack(peer), 0x77, 1, pattern(56)),
      udpFrame(kernelToStack(peer), 5000, port, pattern(100)),
      ethernet({ dst: BROADCAST_MAC, src: '02:00:00:00:00:50', type: ETHERTYPE.ARP, payload: arp({ op: ARP_OP.REQUEST, sha: '02:00:00:00:00:50', spa: '10.77.0.50', tpa: STACK_IP }) }),
      ...incompleteFragments(1, kernelToStack(peer), 0x9999),
    ];
    const before = await stack.stats();
    const end = Date.now() + RANDOM_FLOOD_MS;
    let sent = 0;
    for (let seed = 1; Date.now() < end && seed <= 100; seed++) {
      // An ARP packet that names the kernel's address rewrites the stack's entry for it (RFC 826's
      // merge rule): spoofing, which a later ping would rightly fail on, not a malformed frame.
      const frames = mutatedFrames(500, stackMac, kernelMac, templates, seed).filter((f) => !claimsKernel(f));
      await injectFrames(peer.ns, injectFramePath, IFACE, frames, 500);
      sent += frames.length;
    }
    expect(sent).toBeGreaterThan(0);
    const after = await waitForStats(stack, (s) => ctr(s, 'eth.rx') - ctr(before, 'eth.rx') >= sent * 0.5, 'the frames received', 10_000);
    expect(stack.exited).toBe(false);
    const dropped = ['eth.unknown_type', 'ip.badsum', 'ip.badlen', 'ip.badhlen', 'ip.badvers', 'ip.toosmall', 'arp.badlen', 'arp.unsupported', 'udp.badsum', 'icmp.badsum']
      .reduce((a, n) => a + ctr(after, n) - ctr(before, n), 0);
    expect(dropped, 'malformed frames counted as drops').toBeGreaterThan(sent / 10);
    await stillServes();
  });
});
