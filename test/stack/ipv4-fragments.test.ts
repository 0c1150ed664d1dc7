/**
 * IPv4 fragments between the stack and the Linux kernel, in each lcore mode: the kernel's 8000- and
 * 65507-byte pings reach the stack in fragments, are reassembled (ip.reassembled) and answered in
 * fragments (ip.fragmented, ip.frags_out) that the kernel reassembles in turn; overlapping fragments
 * injected from the kernel side discard their datagram (ip.frag_overlap) unanswered; a lone first
 * fragment expires after net.inet.ip.fragttl and the kernel gets ICMP time exceeded, code 1; and the
 * packet pool comes back to its baseline afterwards.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ETHERTYPE, IPPROTO, ethernet, icmpEcho, ipv4, pattern, toHex } from '../../testbed/frames.js';
import {
  IFACE,
  KERNEL_IP,
  LCORE_MODES,
  STACK_IP,
  ctr,
  delta,
  haveInjectFrame,
  injectFramePath,
  kernelPeer,
  parsePing,
  sleep,
  tcpdumpLines,
  waitForStats,
  type KernelPeer,
} from './kernel-peer.js';

/** Short enough for the expiry case, long enough for a 45-fragment burst on a loaded 2-CPU box. */
const FRAGTTL_MS = 1_000;

/** Fragments of an ICMP echo request from the kernel's side, as Ethernet frames: [offset, length, more]. */
function echoFragments(peer: KernelPeer, id: number, payloadLen: number, cuts: Array<[number, number, boolean]>): Buffer[] {
  const msg = icmpEcho({ id: 0x4242, seq: id, payload: pattern(payloadLen) });
  return cuts.map(([off, len, mf]) =>
    ethernet({
      dst: peer.stackMac,
      src: peer.kernelMac,
      type: ETHERTYPE.IPV4,
      payload: ipv4({ src: KERNEL_IP, dst: STACK_IP, proto: IPPROTO.ICMP, id, mf, fragOffset: off / 8, payload: msg.subarray(off, off + len) }),
    }),
  );
}

async function inject(peer: KernelPeer, frames: Buffer[]): Promise<void> {
  await peer.ns.execOk(injectFramePath, [IFACE, '-'], { input: `${frames.map((f) => toHex(f)).join('\n')}\n` });
}

describe.each(LCORE_MODES)('IPv4 fragments with the kernel ($name)', (mode) => {
  let peer: KernelPeer;
  let baseline = -1;

  beforeAll(async () => {
    if (!haveInjectFrame()) throw new Error(`${injectFramePath} not found: run npm run build`);
    peer = await kernelPeer('ipv4-frag', { dpdk: mode.dpdk, sysctl: { 'net.inet.ip.fragttl': FRAGTTL_MS } });
    // One small ping first: both neighbour caches learn each other, so no fragment waits for ARP.
    await peer.ns.execOk('ping', ['-c', '1', '-W', '2', STACK_IP], { timeoutMs: 10_000 });
    await sleep(200);
    baseline = (await peer.stack.mempool()).inUse;
  });
  afterAll(async () => {
    await peer?.close();
  });

  it.each([
    [8000, 6],
    [65507, 45],
  ])("answers the kernel's ping -s %i (%i fragments each way)", async (size, frags) => {
    const { ns, stack } = peer;
    const count = size > 10_000 ? 2 : 3;
    const before = await stack.stats();
    const r = await ns.exec('ping', ['-c', String(count), '-i', '0.3', '-s', String(size), '-W', '3', STACK_IP], { timeoutMs: 20_000 });
    const p = parsePing(r.stdout);
    expect(p.transmitted, r.stdout + r.stderr).toBe(count);
    expect(p.received, r.stdout + r.stderr).toBe(count);
    expect(p.replyBytes).toEqual(Array(count).fill(size + 8));
    expect(p.replyFrom).toEqual(Array(count).fill(STACK_IP));
    const after = await waitForStats(stack, (s) => ctr(s, 'ip.frags_out') - ctr(before, 'ip.frags_out') >= count * frags, 'every fragment counted');
    const d = delta(before, after);
    expect(d['ip.fragments']).toBe(count * frags);
    expect(d['ip.reassembled']).toBe(count);
    expect(d['ip.frag_dropped']).toBe(0);
    expect(d['icmp.echo_in']).toBe(count);
    expect(d['icmp.badsum']).toBe(0);
    expect(d['icmp.echo_reply_out']).toBe(count);
    expect(d['ip.fragmented']).toBe(count);
    expect(d['ip.frags_out']).toBe(count * frags);
    expect(d['arp.hold_dropped']).toBe(0);
  });

  it('discards a datagram whose fragments overlap, unanswered', async () => {
    const { stack } = peer;
    const before = await stack.stats();
    // Teardrop: the second fragment starts inside the first.
    await inject(peer, echoFragments(peer, 0x7001, 2000, [[0, 1480, true], [1472, 536, false]]));
    const after = await waitForStats(stack, (s) => ctr(s, 'ip.frag_overlap') - ctr(before, 'ip.frag_overlap') >= 1, 'the overlap counted');
    const d = delta(before, after);
    expect(d['ip.frag_overlap']).toBe(1);
    expect(d['ip.frag_dropped']).toBe(2);
    expect(d['ip.reassembled']).toBe(0);
    expect(d['icmp.echo_in']).toBe(0);
  });

  it('expires a lone first fragment and tells the kernel (time exceeded, reassembly)', async () => {
    const { ns, stack } = peer;
    const cap = await tcpdumpLines(ns, IFACE, [], ['icmp']);
    try {
      const before = await stack.stats();
      await inject(peer, echoFragments(peer, 0x7002, 3000, [[0, 1480, true]]));
      const after = await waitForStats(stack, (s) => ctr(s, 'ip.frag_timeout') - ctr(before, 'ip.frag_timeout') >= 1, 'the partial datagram to expire', FRAGTTL_MS + 5_000);
      const d = delta(before, after);
      expect(d['ip.fragments']).toBe(1);
      expect(d['ip.frag_timeout']).toBe(1);
      expect(d['ip.frag_dropped']).toBe(1);
      expect(d['icmp.errors_out']).toBe(1);
      await cap.waitForLine(new RegExp(`${STACK_IP.replace(/\./g, '\\.')} > ${KERNEL_IP.replace(/\./g, '\\.')}: ICMP ip reassembly time exceeded`), 5_000);
    } finally {
      await cap.stop();
    }
  });

  it('gives every mbuf back to the pool once quiet', async () => {
    let inUse = -1;
    const deadline = Date.now() + 5_000;
    while (Date.now() < deadline) {
      inUse = (await peer.stack.mempool()).inUse;
      if (inUse === baseline) break;
      await sleep(100);
    }
    expect(inUse).toBe(baseline);
  });
});
