/**
 * UDP inside one stack, in each lcore mode: datagrams between ff sockets over 127.0.0.1 and over the
 * stack's own address are delivered inside the stack (ip.loopback) and never touch the device; port
 * sharing (SO_REUSEPORT spreads datagrams from many source ports over the sharing sockets,
 * SO_REUSEADDR delivers unicast to the newest, EADDRINUSE without either); broadcasts (127.255.255.255)
 * and looped-back multicasts of several mbufs each, byte-exact at every socket sharing their port; ephemeral ports from the
 * configured [sysctl] net.inet.ip.portrange.first/last, for bind to port 0 and for implicit binds;
 * epoll readiness from TypeScript (EPOLLIN level- vs edge-triggered, EPOLLOUT, ff_epoll_wait_async
 * honouring its timeout); and FfErrors with Linux's errno for representative bad calls.
 */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { EpollEvent } from '../../posix/index.js';
import { LCORE_MODES, STACK_IP, delta, kernelPeer, type KernelPeer } from './kernel-peer.js';
import { FdScope, expectFfError, expectPoolAt, steadyInUse } from './udp-bench.js';

const PORT_FIRST = 41000;
const PORT_LAST = 41063;

describe.each(LCORE_MODES)('UDP inside one stack ($name)', (mode) => {
  let peer: KernelPeer;
  let K: Readonly<Record<string, number>>;
  let baseline: number;
  let fds: FdScope;
  let port = 6000;
  const nextPort = (): number => port++;

  beforeAll(async () => {
    peer = await kernelPeer('udp-loop', {
      dpdk: mode.dpdk,
      sysctl: { 'net.inet.ip.portrange.first': PORT_FIRST, 'net.inet.ip.portrange.last': PORT_LAST },
    });
    K = await peer.stack.constants();
    baseline = await steadyInUse(peer.stack);
  });
  afterAll(async () => {
    await peer?.close();
  });
  beforeEach(() => {
    fds = new FdScope(peer.stack);
  });
  afterEach(async () => {
    await fds.closeAll();
    await expectPoolAt(peer.stack, baseline);
  });

  it.each([
    ['127.0.0.1', '127.0.0.1'],
    ['the stack\'s own address', STACK_IP],
  ])('delivers between sockets over %s inside the stack, never through the device', async (_what, addr) => {
    const { stack } = peer;
    const pa = nextPort();
    const pb = nextPort();
    const a = await fds.udp({ address: addr, port: pa });
    const b = await fds.udp({ address: addr, port: pb });
    const before = await stack.stats();
    const portBefore = (await stack.currentPorts())[0];
    const sizes = [0, 1, 100, 1472, 8000, 65507];
    const sent: string[] = [];
    for (const [i, size] of sizes.entries()) {
      const s = await stack.udpSend(a, { to: { address: addr, port: pb }, size, count: 1, pattern: 'random', startSeq: i });
      sent.push(...(s.sha1 ?? []));
    }
    const r = await stack.udpRecv(b, { count: sizes.length, timeoutMs: 3_000 });
    expect(r.datagrams.map((d) => d.length)).toEqual(sizes);
    expect(r.datagrams.map((d) => d.sha1)).toEqual(sent);
    for (const d of r.datagrams) expect([d.address, d.port]).toEqual([addr, pa]);
    // And back.
    const back = await stack.udpSend(b, { to: { address: addr, port: pa }, size: 64, count: 10, pattern: 'seq' });
    const rb = await stack.udpRecv(a, { count: 10, timeoutMs: 3_000 });
    expect(rb.datagrams.map((d) => d.sha1)).toEqual(back.sha1);
    const d = delta(before, await stack.stats());
    const portAfter = (await stack.currentPorts())[0];
    expect(d['ip.loopback']).toBeGreaterThanOrEqual(sizes.length + 10);
    expect(d['ip.loopback_dropped']).toBe(0);
    expect(d['udp.delivered']).toBe(sizes.length + 10);
    expect(d['eth.tx']).toBe(0);
    expect(portAfter?.stats.opackets).toBe(portBefore?.stats.opackets);
  });

  it('ff_sendmmsg and ff_recvmmsg move batches; ff_recvfrom reports a truncated datagram\'s full length', async () => {
    const { stack } = peer;
    const p = nextPort();
    const rx = await fds.udp({ address: '127.0.0.1', port: p });
    const tx = await fds.udp({ address: '127.0.0.1', port: nextPort() });
    const to = { address: '127.0.0.1', port: p };
    const msgs = ['01', '0203', '', 'a0a1a2a3a4a5a6a7a8a9'].map((hex) => ({ data: { hex }, to }));
    expect(await stack.posix('ff_sendmmsg', tx, msgs)).toBe(4);
    const ep = await fds.epoll();
    await stack.posix('ff_epoll_ctl', ep, K.EPOLL_CTL_ADD, rx, { events: K.EPOLLIN, data: 1 });
    await stack.posix('ff_epoll_wait_async', ep, 1, 2_000);
    const got: Array<{ data: { hex: string }; address: string; flags: number }> = [];
    for (let i = 0; i < 20 && got.length < 3; i++) {
      try {
        got.push(...(await stack.posix<typeof got>('ff_recvmmsg', rx, { arena: { max: 3, slotBytes: 2048 } }, K.MSG_DONTWAIT)));
      } catch {
        await stack.posix('ff_epoll_wait_async', ep, 1, 200);
      }
    }
    expect(got.map((g) => [g.data.hex, g.address, g.flags])).toEqual([
      ['01', '127.0.0.1', 0],
      ['0203', '127.0.0.1', 0],
      ['', '127.0.0.1', 0],
    ]);
    // The fourth, 10 bytes, into a 4-byte buffer with MSG_TRUNC: the datagram's length, its first bytes.
    await stack.posix('ff_epoll_wait_async', ep, 1, 2_000);
    const r = await stack.posix<{ bytes: number; from: { address: string }; data: { hex: string } }>(
      'ff_recvfrom',
      rx,
      { buffer: 4 },
      (K.MSG_DONTWAIT as number) | (K.MSG_TRUNC as number),
    );
    expect([r.bytes, r.data.hex, r.from.address]).toEqual([10, 'a0a1a2a3', '127.0.0.1']);
  });

  it('SO_REUSEPORT spreads datagrams from many source ports over the sockets sharing a port', async () => {
    const { stack } = peer;
    const p = nextPort();
    const rx: number[] = [];
    for (let i = 0; i < 2; i++) {
      const fd = await fds.udp();
      await stack.posix('ff_setsockopt', fd, K.SOL_SOCKET, K.SO_REUSEPORT, 1);
      await stack.posix('ff_bind', fd, { address: '0.0.0.0', port: p });
      rx.push(fd);
    }
    // Without the option a third socket cannot join them.
    const lone = await fds.udp();
    await expectFfError(stack.posix('ff_bind', lone, { address: '0.0.0.0', port: p }), 'EADDRINUSE', 'ff_bind');
    const SENDERS = 24;
    for (let i = 0; i < SENDERS; i++) {
      const tx = await fds.udp({ address: '127.0.0.1', port: nextPort() });
      await stack.udpSend(tx, { to: { address: '127.0.0.1', port: p }, size: 16, count: 2, pattern: 'seq', startSeq: i * 2 });
    }
    const got = await Promise.all(rx.map((fd) => stack.udpRecv(fd, { count: SENDERS * 2, timeoutMs: 1_000 })));
    const counts = got.map((g) => g.datagrams.length);
    expect(counts[0]! + counts[1]!).toBe(SENDERS * 2);
    expect(counts[0], `spread ${counts}`).toBeGreaterThan(0);
    expect(counts[1], `spread ${counts}`).toBeGreaterThan(0);
    // One flow (source port) always lands on the same socket.
    const owner = new Map<number, number>();
    got.forEach((g, i) => {
      for (const d of g.datagrams) {
        expect(owner.get(d.port) ?? i, `source port ${d.port}`).toBe(i);
        owner.set(d.port, i);
      }
    });
    expect(owner.size).toBe(SENDERS);
  });

  it('SO_REUSEADDR lets two sockets bind a port; unicast goes to the newest', async () => {
    const { stack } = peer;
    const p = nextPort();
    const socks: number[] = [];
    for (let i = 0; i < 2; i++) {
      const fd = await fds.udp();
      await stack.posix('ff_setsockopt', fd, K.SOL_SOCKET, K.SO_REUSEADDR, 1);
      expect(await stack.posix('ff_getsockopt', fd, K.SOL_SOCKET, K.SO_REUSEADDR)).toBe(1);
      await stack.posix('ff_bind', fd, { address: '0.0.0.0', port: p });
      socks.push(fd);
    }
    const tx = await fds.udp();
    await stack.udpSend(tx, { to: { address: '127.0.0.1', port: p }, size: 8, count: 5, pattern: 'seq' });
    const got = await Promise.all(socks.map((fd) => stack.udpRecv(fd, { count: 5, timeoutMs: 500 })));
    expect(got.map((g) => g.datagrams.length)).toEqual([0, 5]);
  });

  describe('a datagram for several sockets reaches each of them whole', () => {
    // Above 2 KiB a datagram spans several mbufs, shared by every receiver: each must read all of it.
    const SHARED_SIZES = [4000, 20000, 65507];
    const COUNT = 3;

    it.each(SHARED_SIZES)('%i-byte datagrams to 127.255.255.255 reach both SO_REUSEADDR sockets byte-exact', async (size) => {
      const { stack } = peer;
      const p = nextPort();
      const rx = await fds.sharingPort(p);
      const tx = await fds.udp({ address: '127.0.0.1', port: nextPort() });
      await stack.posix('ff_setsockopt', tx, K.SOL_SOCKET, K.SO_BROADCAST, 1);
      const s = await stack.udpSend(tx, { to: { address: '127.255.255.255', port: p }, size, count: COUNT, pattern: 'random', startSeq: size });
      expect(s.sent).toBe(COUNT);
      const got = await Promise.all(rx.map((fd) => stack.udpRecv(fd, { count: COUNT, timeoutMs: 3_000 })));
      for (const g of got) expect(g.datagrams.map((d) => [d.length, d.sha1])).toEqual(s.sha1?.map((h) => [size, h]));
    });

    it.each(SHARED_SIZES)('%i-byte datagrams to a group reach both members through IP_MULTICAST_LOOP byte-exact', async (size) => {
      const { stack } = peer;
      const p = nextPort();
      const group = '239.7.7.7';
      const rx = await fds.sharingPort(p);
      for (const fd of rx) await stack.posix('ff_setsockopt', fd, K.IPPROTO_IP, K.IP_ADD_MEMBERSHIP, { multiaddr: group, interface: STACK_IP });
      const tx = await fds.udp({ address: STACK_IP, port: nextPort() });
      expect(await stack.posix('ff_getsockopt', tx, K.IPPROTO_IP, K.IP_MULTICAST_LOOP)).toBe(1);
      const s = await stack.udpSend(tx, { to: { address: group, port: p }, size, count: COUNT, pattern: 'random', startSeq: 2 * size });
      expect(s.sent).toBe(COUNT);
      const got = await Promise.all(rx.map((fd) => stack.udpRecv(fd, { count: COUNT, timeoutMs: 3_000 })));
      for (const g of got) expect(g.datagrams.map((d) => [d.length, d.sha1])).toEqual(s.sha1?.map((h) => [size, h]));
    });
  });

  it('binding a taken port fails with EADDRINUSE unless both sockets share it', async () => {
    const { stack } = peer;
    const p = nextPort();
    await fds.udp({ address: '0.0.0.0', port: p });
    const b = await fds.udp();
    await expectFfError(stack.posix('ff_bind', b, { address: '0.0.0.0', port: p }), 'EADDRINUSE', 'ff_bind');
    await expectFfError(stack.posix('ff_bind', b, { address: '127.0.0.1', port: p }), 'EADDRINUSE', 'ff_bind');
    // Only one side asking for SO_REUSEADDR is not enough.
    await stack.posix('ff_setsockopt', b, K.SOL_SOCKET, K.SO_REUSEADDR, 1);
    await expectFfError(stack.posix('ff_bind', b, { address: '0.0.0.0', port: p }), 'EADDRINUSE', 'ff_bind');
    // Another port is fine.
    await stack.posix('ff_bind', b, { address: '0.0.0.0', port: nextPort() });
  });

  it(`picks ephemeral ports from net.inet.ip.portrange (${PORT_FIRST}-${PORT_LAST}) until the range is used up`, async () => {
    const { stack } = peer;
    expect(await stack.sysctl('net.inet.ip.portrange.first')).toBe(PORT_FIRST);
    expect(await stack.sysctl('net.inet.ip.portrange.last')).toBe(PORT_LAST);
    const ports = new Set<number>();
    // An implicit bind (sendto on an unbound socket) takes one from the range too.
    const implicit = await fds.udp();
    await stack.posix('ff_sendto', implicit, { hex: '00' }, 0, { address: '127.0.0.1', port: nextPort() });
    const ip = (await stack.posix<{ address: string; port: number }>('ff_getsockname', implicit)).port;
    ports.add(ip);
    for (let i = ports.size; i < PORT_LAST - PORT_FIRST + 1; i++) {
      const fd = await fds.udp({ address: '0.0.0.0', port: 0 });
      ports.add((await stack.posix<{ port: number }>('ff_getsockname', fd)).port);
    }
    expect(ports.size).toBe(PORT_LAST - PORT_FIRST + 1);
    for (const p of ports) {
      expect(p).toBeGreaterThanOrEqual(PORT_FIRST);
      expect(p).toBeLessThanOrEqual(PORT_LAST);
    }
    const extra = await fds.udp();
    await expectFfError(stack.posix('ff_bind', extra, { address: '0.0.0.0', port: 0 }), 'EADDRINUSE', 'ff_bind');
  });

  it('EPOLLIN level-triggered reports while data waits; edge-triggered once per new arrival', async () => {
    const { stack } = peer;
    const p = nextPort();
    const fd = await fds.udp({ address: '127.0.0.1', port: p });
    const tx = await fds.udp();
    const lt = await fds.epoll();
    const et = await fds.epoll();
    await stack.posix('ff_epoll_ctl', lt, K.EPOLL_CTL_ADD, fd, { events: K.EPOLLIN, data: 11 });
    await stack.posix('ff_epoll_ctl', et, K.EPOLL_CTL_ADD, fd, { events: (K.EPOLLIN as number) | (K.EPOLLET as number), data: 22 });
    const wait = (ep: number, timeout = 0): Promise<EpollEvent[]> => stack.posix<EpollEvent[]>('ff_epoll_wait', ep, 8, timeout);
    const waitAsync = (ep: number, ms: number): Promise<EpollEvent[]> => stack.posix<EpollEvent[]>('ff_epoll_wait_async', ep, 8, ms);
    expect(await wait(lt)).toEqual([]);
    expect(await wait(et)).toEqual([]);
    await stack.udpSend(tx, { to: { address: '127.0.0.1', port: p }, size: 10, count: 2, pattern: 'seq' });
    const first = await waitAsync(et, 2_000);
    expect(first.map((e) => [e.data, (e.events & (K.EPOLLIN as number)) !== 0])).toEqual([[22, true]]);
    // Edge-triggered: nothing new, nothing reported — though two datagrams wait.
    expect(await wait(et)).toEqual([]);
    // Level-triggered: reported every time while data waits.
    for (let i = 0; i < 3; i++) expect((await wait(lt)).map((e) => e.data)).toEqual([11]);
    await stack.posix('ff_recvfrom', fd, { buffer: 64 }, K.MSG_DONTWAIT);
    expect((await wait(lt)).map((e) => e.data)).toEqual([11]);
    await stack.posix('ff_recvfrom', fd, { buffer: 64 }, K.MSG_DONTWAIT);
    expect(await wait(lt)).toEqual([]);
    // A new arrival is a new edge.
    await stack.udpSend(tx, { to: { address: '127.0.0.1', port: p }, size: 10, count: 1, pattern: 'seq' });
    expect((await waitAsync(et, 2_000)).map((e) => e.data)).toEqual([22]);
    expect(await wait(et)).toEqual([]);
    expect((await waitAsync(lt, 2_000)).map((e) => e.data)).toEqual([11]);
  });

  it('EPOLLOUT reports a socket with send-buffer room', async () => {
    const { stack } = peer;
    const fd = await fds.udp({ address: '127.0.0.1', port: nextPort() });
    const ep = await fds.epoll();
    await stack.posix('ff_epoll_ctl', ep, K.EPOLL_CTL_ADD, fd, { events: (K.EPOLLOUT as number) | (K.EPOLLIN as number), data: 5 });
    const evs = await stack.posix<EpollEvent[]>('ff_epoll_wait', ep, 8, 0);
    expect(evs.map((e) => [e.data, (e.events & (K.EPOLLOUT as number)) !== 0, (e.events & (K.EPOLLIN as number)) !== 0])).toEqual([[5, true, false]]);
  });

  it.each([0, 50, 300])('ff_epoll_wait_async with nothing ready resolves [] after its %i ms timeout', async (ms) => {
    const { stack } = peer;
    const fd = await fds.udp({ address: '127.0.0.1', port: nextPort() });
    const ep = await fds.epoll();
    await stack.posix('ff_epoll_ctl', ep, K.EPOLL_CTL_ADD, fd, { events: K.EPOLLIN, data: 1 });
    const t0 = performance.now();
    const evs = await stack.posix<EpollEvent[]>('ff_epoll_wait_async', ep, 8, ms);
    const took = performance.now() - t0;
    expect(evs).toEqual([]);
    expect(took).toBeGreaterThanOrEqual(ms - 5);
    expect(took).toBeLessThan(ms + 250);
  });

  it('ff_epoll_wait_async resolves as soon as a datagram arrives, well before its timeout', async () => {
    const { stack } = peer;
    const p = nextPort();
    const fd = await fds.udp({ address: '127.0.0.1', port: p });
    const tx = await fds.udp();
    const ep = await fds.epoll();
    await stack.posix('ff_epoll_ctl', ep, K.EPOLL_CTL_ADD, fd, { events: K.EPOLLIN, data: 3 });
    const t0 = performance.now();
    const waiting = stack.posix<EpollEvent[]>('ff_epoll_wait_async', ep, 8, 5_000);
    await stack.posix('ff_sendto', tx, { hex: '0102' }, 0, { address: '127.0.0.1', port: p });
    expect((await waiting).map((e) => e.data)).toEqual([3]);
    expect(performance.now() - t0).toBeLessThan(2_000);
  });

  it('an AF_INET6 socket on :: takes IPv4 as ::ffff:a.b.c.d and sends to v4-mapped peers (ffnet/posix)', async () => {
    const { stack } = peer;
    const p6 = nextPort();
    const p4 = nextPort();
    const s6 = await fds.udp6({ address: '::', port: p6 });
    const s4 = await fds.udp({ address: '127.0.0.1', port: p4 });
    expect(await stack.posix('ff_getsockname', s6)).toEqual({ address: '::', port: p6, family: 'IPv6' });
    await stack.posix('ff_sendto', s4, { hex: 'c0ffee' }, 0, { address: '127.0.0.1', port: p6 });
    const ep = await fds.epoll();
    await stack.posix('ff_epoll_ctl', ep, K.EPOLL_CTL_ADD, s6, { events: K.EPOLLIN, data: 6 });
    await stack.posix('ff_epoll_wait_async', ep, 1, 2_000);
    const r = await stack.posix<{ bytes: number; from: unknown }>('ff_recvfrom', s6, { buffer: 16 }, K.MSG_DONTWAIT);
    expect(r.from).toEqual({ address: '::ffff:127.0.0.1', port: p4, family: 'IPv6' });
    const to = { address: '::ffff:127.0.0.1', port: p4 };
    expect(await stack.posix('ff_sendmmsg', s6, [{ data: { hex: '01' }, to }, { data: { hex: '02' }, to }])).toBe(2);
    const back = await stack.udpRecv(s4, { count: 2, timeoutMs: 3_000 });
    expect(back.datagrams.map((d) => [d.address, d.port])).toEqual([['127.0.0.1', p6], ['127.0.0.1', p6]]);
    await stack.posix('ff_sendto', s4, { hex: '03' }, 0, { address: '127.0.0.1', port: p6 });
    await stack.posix('ff_epoll_wait_async', ep, 1, 2_000);
    const batch = await stack.posix<Array<{ address: string; port: number }>>('ff_recvmmsg', s6, { arena: { max: 4, slotBytes: 64 } }, K.MSG_DONTWAIT);
    expect(batch.map((g) => [g.address, g.port])).toEqual([['::ffff:127.0.0.1', p4]]);
    // The option structs reach the stack as Linux lays them out: a unicast group is EINVAL, no such interface ENODEV.
    await expectFfError(stack.posix('ff_setsockopt', s6, K.IPPROTO_IPV6, K.IPV6_JOIN_GROUP, { multiaddr: '2001:db8::1' }), 'EINVAL', 'ff_setsockopt');
    await expectFfError(stack.posix('ff_setsockopt', s6, K.IPPROTO_IPV6, K.IPV6_JOIN_GROUP, { multiaddr: 'ff05::1:3', interface: 9 }), 'ENODEV', 'ff_setsockopt');
    await stack.posix('ff_setsockopt', s6, K.IPPROTO_IPV6, K.IPV6_JOIN_GROUP, { multiaddr: 'ff05::1:3', interface: 1 });
    await stack.posix('ff_setsockopt', s6, K.IPPROTO_IPV6, K.IPV6_LEAVE_GROUP, { multiaddr: 'ff05::1:3' });
    await stack.posix('ff_setsockopt', s6, K.IPPROTO_IPV6, K.IPV6_UNICAST_HOPS, 9);
    expect(await stack.posix('ff_getsockopt', s6, K.IPPROTO_IPV6, K.IPV6_UNICAST_HOPS)).toBe(9);
  });

  it('bad calls throw FfError with Linux\'s errno', async () => {
    const { stack } = peer;
    const fd = await fds.udp();
    const ep = await fds.epoll();
    await expectFfError(stack.posix('ff_socket', K.AF_UNSPEC, K.SOCK_DGRAM, 0), 'EAFNOSUPPORT', 'ff_socket');
    await expectFfError(stack.posix('ff_bind', 3999, { address: '0.0.0.0', port: 1 }), 'EBADF', 'ff_bind');
    await expectFfError(stack.posix('ff_bind', fd, { address: '10.99.0.1', port: nextPort() }), 'EADDRNOTAVAIL', 'ff_bind');
    await expectFfError(stack.posix('ff_send', fd, { hex: '00' }), 'EDESTADDRREQ', 'ff_sendto');
    await expectFfError(stack.posix('ff_recvfrom', fd, { buffer: 16 }, K.MSG_DONTWAIT), 'EAGAIN', 'ff_recvfrom');
    await expectFfError(
      stack.posix('ff_sendto', fd, { base64: Buffer.alloc(65508).toString('base64') }, 0, { address: '127.0.0.1', port: 9 }),
      'EMSGSIZE',
      'ff_sendto',
    );
    await stack.posix('ff_bind', fd, { address: '127.0.0.1', port: nextPort() });
    await expectFfError(stack.posix('ff_bind', fd, { address: '127.0.0.1', port: nextPort() }), 'EINVAL', 'ff_bind');
    await expectFfError(stack.posix('ff_setsockopt', fd, K.SOL_SOCKET, 9999, 1), 'ENOPROTOOPT', 'ff_setsockopt');
    await stack.posix('ff_epoll_ctl', ep, K.EPOLL_CTL_ADD, fd, { events: K.EPOLLIN, data: 0 });
    await expectFfError(stack.posix('ff_epoll_ctl', ep, K.EPOLL_CTL_ADD, fd, { events: K.EPOLLIN, data: 0 }), 'EEXIST', 'ff_epoll_ctl');
    await stack.posix('ff_close', fd);
    await expectFfError(stack.posix('ff_close', fd), 'EBADF', 'ff_close');
  });
});
