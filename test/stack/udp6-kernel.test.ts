/**
 * UDP over IPv6 between AF_INET6 ff sockets and the Linux kernel's udp6 sockets over net_tap (ff0),
 * in each lcore mode: datagrams both ways at 0, 1, 1232 and 1452 bytes (1452 + 48 = one 1500-byte
 * packet) and, fragmented and reassembled, 1453, 9000 and 65507 bytes, byte-exact by SHA-1, with the
 * sources each side sees; the kernel's ICMPv6 port unreachable refusing a connected ff socket; and
 * multicast both ways (IPV6_JOIN_GROUP on port0, IPV6_MULTICAST_IF), with Linux's membership errors;
 * datagrams in one frame with their UDP checksum left to the device (udp.tx_csum_offload) or summed by
 * the stack, none of them a checksum error to the kernel; permanent IPv6 neighbours through
 * Stack.addNeighbour and deleteNeighbour.
 * After each test the packet pool is back at its baseline.
 */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { KernelUdp } from '../../testbed/kernel-udp.js';
import { Netns, requireRoot } from '../../testbed/netns.js';
import { StackProcess } from '../../testbed/stack-process.js';
import { IFACE, LCORE_MODES, bringUp, delta, peerConfig } from './kernel-peer.js';
import { FdScope, expectFfError, expectPoolAt, steadyInUse } from './udp-bench.js';

const STACK_IP6 = '2001:db8:66::2';
const KERNEL_IP6 = '2001:db8:66::1';
const SIZES = [0, 1, 1232, 1452, 1453, 9000, 65507];

/** The kernel's Udp6InCsumErrors in the namespace. */
async function kernelUdp6CsumErrors(ns: Netns): Promise<number> {
  const line = (await ns.exec('cat', ['/proc/net/snmp6'])).stdout.split('\n').find((l) => l.startsWith('Udp6InCsumErrors'));
  return Number(line?.split(/\s+/)[1]);
}

describe.each(LCORE_MODES)('UDP over IPv6 with the kernel ($name)', (mode) => {
  let ns: Netns;
  let stack: StackProcess;
  let kern: KernelUdp;
  let K: Readonly<Record<string, number>>;
  let baseline: number;
  let fds: FdScope;
  let port = 7600;
  const nextPort = (): number => port++;

  beforeAll(async () => {
    requireRoot();
    ns = await Netns.create(`udp6-k-${mode.name}`.replace(/[^a-z0-9-]/gi, '').slice(0, 24));
    stack = await StackProcess.start(ns, peerConfig(ns, { dpdk: mode.dpdk, port0: { addr6: `${STACK_IP6}/64` } }), { readyTimeoutMs: 30_000 });
    await ns.execOk('ip', ['-6', 'addr', 'add', `${KERNEL_IP6}/64`, 'dev', IFACE, 'nodad']);
    await bringUp(ns, stack);
    kern = await KernelUdp.start(ns);
    K = await stack.constants();
    // Resolve both ways once, so the baseline is taken with a settled neighbour table.
    await stack.ping(KERNEL_IP6, { count: 1, timeoutMs: 3_000 }).catch(() => undefined);
    baseline = await steadyInUse(stack);
  }, 60_000);
  afterAll(async () => {
    kern?.close();
    await stack?.close().catch(() => undefined);
    await ns?.destroy();
  });
  beforeEach(() => {
    fds = new FdScope(stack);
  });
  afterEach(async () => {
    await fds.closeAll();
    await expectPoolAt(stack, baseline);
  });

  it.each(SIZES)('the kernel\'s %i-byte datagrams reach an AF_INET6 ff socket byte-exact', async (size) => {
    const p = nextPort();
    const fd = await fds.udp6({ address: '::', port: p });
    const { sid, port: kport } = await kern.socket({ address: KERNEL_IP6 }, { type: 'udp6' });
    const before = await stack.stats();
    const s = await kern.send(sid, { to: { address: STACK_IP6, port: p }, size, count: 3, pattern: 'random', startSeq: size });
    expect(s.errors).toEqual([]);
    const r = await stack.udpRecv(fd, { count: 3, timeoutMs: 5_000 });
    await kern.closeSocket(sid);
    expect(r.datagrams.map((d) => d.length)).toEqual([size, size, size]);
    expect(r.datagrams.map((d) => d.sha1)).toEqual(s.sha1);
    for (const d of r.datagrams) expect([d.address, d.port]).toEqual([KERNEL_IP6, kport]);
    expect(delta(before, await stack.stats())['udp.delivered']).toBe(3);
  });

  it.each(SIZES)('an AF_INET6 ff socket\'s %i-byte datagrams reach the kernel byte-exact', async (size) => {
    const p = nextPort();
    const fd = await fds.udp6({ address: STACK_IP6, port: p });
    const { sid, port: kport } = await kern.socket({ address: '::', port: 0 }, { type: 'udp6' });
    // One at a time: the kernel charges a reassembled datagram the truesize of all its fragments, so
    // three 65507-byte ones at once can exceed its default receive buffer (Udp6RcvbufErrors).
    const sent: string[] = [];
    const got: Array<{ length: number; sha1: string; address: string; port: number }> = [];
    for (let i = 0; i < 3; i++) {
      const s = await stack.udpSend(fd, { to: { address: KERNEL_IP6, port: kport }, size, count: 1, pattern: 'random', startSeq: size + i });
      sent.push(...(s.sha1 ?? []));
      got.push(...(await kern.recv(sid, { count: 1, timeoutMs: 5_000 })).datagrams);
    }
    await kern.closeSocket(sid);
    expect(got.map((d) => d.length)).toEqual([size, size, size]);
    expect(got.map((d) => d.sha1)).toEqual(sent);
    for (const d of got) expect([d.address, d.port]).toEqual([STACK_IP6, p]);
  });

  it.each([
    ['left to the device', 1],
    ['summed by the stack (net.inet.udp.tx_csum_offload = 0)', 0],
  ])('udp6 checksums of datagrams in one frame %s: they arrive byte-exact, the kernel counts no checksum error', async (_how, offload) => {
    // net_tap offers UDP transmit checksum offload for IPv6 as for IPv4 (it sums in the PMD); a
    // datagram in fragments is always summed by the stack.
    const sizes = [0, 1, 57, 1452, 3000];
    const single = sizes.filter((s) => s <= 1452).length;
    await stack.sysctl('net.inet.udp.tx_csum_offload', offload);
    try {
      const p = nextPort();
      const fd = await fds.udp6({ address: STACK_IP6, port: p });
      const { sid, port: kport } = await kern.socket({ address: '::', port: 0 }, { type: 'udp6' });
      const errorsBefore = await kernelUdp6CsumErrors(ns);
      const before = await stack.stats();
      const sent: string[] = [];
      for (const size of sizes) {
        const s = await stack.udpSend(fd, { to: { address: KERNEL_IP6, port: kport }, size, count: 1, pattern: 'random', startSeq: size });
        sent.push(...(s.sha1 ?? []));
      }
      const r = await kern.recv(sid, { count: sizes.length, timeoutMs: 5_000 });
      await kern.closeSocket(sid);
      expect(r.datagrams.map((d) => d.length)).toEqual(sizes);
      expect(r.datagrams.map((d) => d.sha1)).toEqual(sent);
      expect(await kernelUdp6CsumErrors(ns)).toBe(errorsBefore);
      const d = delta(before, await stack.stats());
      expect(d['udp.tx']).toBe(sizes.length);
      expect(d['udp.tx_csum_offload'] ?? 0).toBe(offload ? single : 0);
    } finally {
      await stack.sysctl('net.inet.udp.tx_csum_offload', 1);
    }
  });

  it('multicast both ways: a joined ff socket receives the kernel\'s group datagrams, and the kernel ours', async () => {
    const p = nextPort();
    const fd = await fds.udp6({ address: '::', port: p });
    await expectFfError(stack.posix('ff_setsockopt', fd, K.IPPROTO_IPV6, K.IPV6_JOIN_GROUP, { multiaddr: 'ff15::1:7', interface: 9 }), 'ENODEV', 'ff_setsockopt');
    await stack.posix('ff_setsockopt', fd, K.IPPROTO_IPV6, K.IPV6_JOIN_GROUP, { multiaddr: 'ff15::1:7', interface: 1 });
    await expectFfError(stack.posix('ff_setsockopt', fd, K.IPPROTO_IPV6, K.IPV6_JOIN_GROUP, { multiaddr: 'ff15::1:7', interface: 1 }), 'EADDRINUSE', 'ff_setsockopt');
    const { sid, port: kport } = await kern.socket({ address: '::', port: 0 }, { type: 'udp6' });
    await kern.set(sid, 'setMulticastInterface', `::%${IFACE}`);
    const s = await kern.send(sid, { to: { address: 'ff15::1:7', port: p }, size: 300, count: 2, pattern: 'random', startSeq: 5 });
    expect(s.errors).toEqual([]);
    const r = await stack.udpRecv(fd, { count: 2, timeoutMs: 3_000 });
    expect(r.datagrams.map((d) => d.sha1)).toEqual(s.sha1);
    expect(r.datagrams.every((d) => d.port === kport)).toBe(true);
    // And out: the kernel joins ff15::1:8 on its side of the link; the ff socket sends by port0.
    const rx = await kern.socket({ address: '::', port: p + 1000 }, { type: 'udp6' });
    await kern.set(rx.sid, 'addMembership', 'ff15::1:8', `::%${IFACE}`);
    const tx = await fds.udp6();
    await stack.posix('ff_setsockopt', tx, K.IPPROTO_IPV6, K.IPV6_MULTICAST_IF, 1);
    const out = await stack.udpSend(tx, { to: { address: 'ff15::1:8', port: p + 1000 }, size: 200, count: 2, pattern: 'random', startSeq: 9 });
    const k = await kern.recv(rx.sid, { count: 2, timeoutMs: 3_000 });
    expect(k.datagrams.map((d) => d.sha1)).toEqual(out.sha1);
    await stack.posix('ff_setsockopt', fd, K.IPPROTO_IPV6, K.IPV6_LEAVE_GROUP, { multiaddr: 'ff15::1:7', interface: 1 });
    await expectFfError(stack.posix('ff_setsockopt', fd, K.IPPROTO_IPV6, K.IPV6_LEAVE_GROUP, { multiaddr: 'ff15::1:7', interface: 1 }), 'EADDRNOTAVAIL', 'ff_setsockopt');
    await kern.closeSocket(sid);
    await kern.closeSocket(rx.sid);
  });

  it('the kernel\'s port unreachable refuses a connected AF_INET6 ff socket (ECONNREFUSED)', async () => {
    const fd = await fds.udp6();
    await stack.posix('ff_connect', fd, { address: KERNEL_IP6, port: 9 });
    await stack.posix('ff_send', fd, { hex: '00' });
    let refused = false;
    for (let i = 0; i < 50 && !refused; i++) {
      await new Promise((r) => setTimeout(r, 20));
      refused = Number(await stack.posix('ff_getsockopt', fd, K.SOL_SOCKET, K.SO_ERROR)) !== 0 ||
        (await stack.posix('ff_recvfrom', fd, { buffer: 4 }, K.MSG_DONTWAIT).then(() => false, (e: { code?: string }) => e.code === 'ECONNREFUSED'));
    }
    expect(refused).toBe(true);
    await expectFfError(stack.posix('ff_recvfrom', fd, { buffer: 4 }, K.MSG_DONTWAIT), 'EAGAIN', 'ff_recvfrom');
  });

  it('Stack.addNeighbour and deleteNeighbour take IPv6 neighbours as they take IPv4 ones', async () => {
    const addr = '2001:db8:66::77';
    await stack.addNeighbour(0, addr, '02:00:00:00:00:77');
    const entry = (await stack.neighbours()).find((n) => n.addr === addr);
    expect(entry).toMatchObject({ portId: 0, mac: '02:00:00:00:00:77', state: 'permanent' });
    await expect(stack.addNeighbour(0, '2001:db9::7', '02:00:00:00:00:77')).rejects.toThrow("not a neighbour on port 0's link");
    expect(await stack.deleteNeighbour(0, addr)).toBe(true);
    expect(await stack.deleteNeighbour(0, addr)).toBe(false);
    expect((await stack.neighbours()).some((n) => n.addr === addr)).toBe(false);
  });
});
