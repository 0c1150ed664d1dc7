/**
 * The packet pool does not leak, in each lcore mode: once the stack is up and idle, the mbufs in use
 * (those its RX descriptors hold) are a baseline; after every kind of traffic — kernel pings up to
 * 1472 bytes, arping, a 2000-request ping flood, the stack's own pings to the kernel, to itself and
 * to 127.0.0.1, a resolution that fails and drops what it held, and a burst of malformed frames —
 * occupancy returns to exactly that baseline once the link is quiet.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { malformedFrames, toHex } from '../../testbed/frames.js';
import { steadyInUse } from './udp-bench.js';
import {
  IFACE,
  KERNEL_IP,
  LCORE_MODES,
  STACK_IP,
  ctr,
  haveInjectFrame,
  injectFramePath,
  kernelPeer,
  parseArping,
  parsePing,
  sleep,
  waitForStats,
  type KernelPeer,
} from './kernel-peer.js';

const FLOOD_COUNT = 2000;

describe.each(LCORE_MODES)('packet pool occupancy after traffic ($name)', (mode) => {
  let peer: KernelPeer;

  beforeAll(async () => {
    if (!haveInjectFrame()) throw new Error(`${injectFramePath} not found: run npm run build`);
    peer = await kernelPeer('mempool', {
      dpdk: mode.dpdk,
      sysctl: { 'net.link.ether.inet.maxtries': 2, 'net.link.ether.inet.rexmit_ms': 100 },
    });
  });
  afterAll(async () => {
    await peer?.close();
  });

  it('returns to its idle baseline', async () => {
    const { ns, stack, stackMac, kernelMac } = peer;
    const baseline = await steadyInUse(peer.stack, 200);
    const { size } = await stack.mempool();
    // RX descriptors hold mbufs, so an idle stack uses some, but far from all.
    expect(baseline).toBeGreaterThan(0);
    expect(baseline).toBeLessThan(size / 2);

    for (const s of [0, 56, 1472]) {
      const r = await ns.exec('ping', ['-c', '3', '-i', '0.2', '-W', '2', '-s', String(s), STACK_IP], { timeoutMs: 10_000 });
      expect(parsePing(r.stdout).received, r.stdout).toBe(3);
    }
    const a = await ns.exec('arping', ['-c', '3', '-W', '0.2', '-i', IFACE, STACK_IP], { timeoutMs: 10_000 });
    expect(parseArping(a.stdout).received, a.stdout).toBe(3);

    const flood = await ns.exec('ping', ['-f', '-q', '-c', String(FLOOD_COUNT), '-w', '20', '-s', '1000', STACK_IP], { timeoutMs: 30_000 });
    const f = parsePing(flood.stdout);
    expect(f.transmitted, flood.stdout + flood.stderr).toBe(FLOOD_COUNT);
    expect(f.received, flood.stdout).toBeGreaterThanOrEqual(FLOOD_COUNT * 0.99);

    const toKernel = await stack.ping(KERNEL_IP, { count: 5, size: 1472, intervalMs: 20, timeoutMs: 2_000 });
    expect(toKernel.every((r) => r.rttUs >= 0)).toBe(true);
    for (const dst of ['127.0.0.1', STACK_IP]) {
      const r = await stack.ping(dst, { count: 3, intervalMs: 10, timeoutMs: 1_000 });
      expect(r.every((x) => x.rttUs >= 0)).toBe(true);
    }
    // A resolution that fails: the held echo request is dropped, its mbuf must come back.
    const before = await stack.stats();
    const [lost] = await stack.ping('10.77.0.99', { count: 1, timeoutMs: 500 });
    expect(lost?.rttUs).toBe(-1);
    await waitForStats(stack, (s) => ctr(s, 'arp.timeouts') > ctr(before, 'arp.timeouts'), 'the resolution to fail', 3_000);

    const bad = malformedFrames(stackMac, STACK_IP, kernelMac, KERNEL_IP).filter((m) => m.kernelInjectable);
    await ns.execOk(injectFramePath, [IFACE, '-'], { input: `${bad.map((m) => toHex(m.frame)).join('\n')}\n` });

    // Quiet now; the pool must come back to exactly where it was.
    let inUse = -1;
    const deadline = Date.now() + 5_000;
    while (Date.now() < deadline) {
      inUse = (await stack.mempool()).inUse;
      if (inUse === baseline) break;
      await sleep(100);
    }
    const counters = (await stack.stats()).counters;
    expect(inUse, `mbufs in use: ${inUse}, idle baseline ${baseline}; echo_in ${counters['icmp.echo_in']}, eth.tx_dropped ${counters['eth.tx_dropped']}`).toBe(baseline);
    expect(ctr(await stack.stats(), 'icmp.echo_in')).toBeGreaterThanOrEqual(9 + FLOOD_COUNT * 0.99);
  });
});
