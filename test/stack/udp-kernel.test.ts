/**
 * UDP between ff sockets and the Linux kernel over net_tap (ff0), in each lcore mode: unicast both
 * ways (0, 1, 100 and 1472 bytes, byte-exact by SHA-1), connected sockets filtering by peer,
 * ECONNREFUSED both ways (the kernel's ICMP port unreachable reaches a connected ff socket; ours,
 * counted in udp.noport, reaches a connected kernel socket), subnet broadcast (EACCES without
 * SO_BROADCAST, delivered with it, and the kernel's broadcast reaching a wildcard ff socket),
 * 65507-byte datagrams fragmented and reassembled both ways, reassembled broadcasts and multicasts
 * byte-exact at both of two sockets sharing their port, multicast both ways with the IGMP
 * reports seen by tshark on ff0, and SO_RCVBUF overflow accounted in udp.fullsock. After each test
 * the packet pool is back at its baseline.
 */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { ChildProcess } from 'node:child_process';
import { KernelUdp } from '../../testbed/kernel-udp.js';
import { payload, sha1Hex } from '../../testbed/payload.js';
import type { StackStats } from '../../testbed/stack-process.js';
import { IFACE, KERNEL_IP, LCORE_MODES, STACK_IP, SUBNET_BCAST, ctr, delta, kernelPeer, sleep, waitForStats, type KernelPeer } from './kernel-peer.js';
import { FdScope, expectFfError, expectPoolAt, steadyInUse } from './udp-bench.js';

const SIZES = [0, 1, 100, 1472];
const GROUP_IN = '239.1.2.3';
const GROUP_OUT = '239.1.2.4';
const GROUP_IGMP = '239.1.2.5';
const GROUP_SHARED = '239.1.2.6';

function sha1sOf(pattern: 'random' | 'seq', size: number, count: number, startSeq = 0): string[] {
  return Array.from({ length: count }, (_, i) => sha1Hex(payload(pattern, size, startSeq + i)));
}

/** The counters that moved. */
function nonZero(d: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.entries(d).filter(([k, v]) => v !== 0 && !k.startsWith('loop.')));
}

/** The kernel's UDP counters in the namespace (RcvbufErrors, InErrors, ...), for failure messages. */
async function kernelUdpSnmp(peer: KernelPeer): Promise<string> {
  const r = await peer.ns.exec('cat', ['/proc/net/snmp']);
  return `kernel ${r.stdout.split('\n').filter((l) => l.startsWith('Udp:')).join(' | ')}`;
}

/** Sums counters over `names`. */
function sum(d: Record<string, number>, ...names: string[]): number {
  return names.reduce((a, n) => a + (d[n] ?? 0), 0);
}

describe.each(LCORE_MODES)('UDP with the kernel ($name)', (mode) => {
  let peer: KernelPeer;
  let kern: KernelUdp;
  let K: Readonly<Record<string, number>>;
  let baseline: number;
  let fds: FdScope;
  let port = 7000;
  const nextPort = (): number => port++;

  beforeAll(async () => {
    peer = await kernelPeer('udp-kernel', { dpdk: mode.dpdk });
    const { ns, stack } = peer;
    // ICMP errors from the kernel are not rate-limited per peer here, so each refused datagram is answered.
    await ns.execOk('sysctl', ['-qw', 'net.ipv4.icmp_ratelimit=0']);
    await ns.execOk('ip', ['route', 'add', '224.0.0.0/4', 'dev', IFACE]);
    kern = await KernelUdp.start(ns);
    K = await stack.constants();
    // Resolve both ways once, so the baseline is taken with a settled neighbour table.
    await stack.ping(KERNEL_IP, { count: 1, timeoutMs: 2_000 });
    baseline = await steadyInUse(stack);
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
    await expectPoolAt(peer.stack, baseline);
  });

  it.each(SIZES)('the kernel\'s %i-byte datagrams reach an ff socket byte-exact', async (size) => {
    const { stack } = peer;
    const p = nextPort();
    const fd = await fds.udp({ address: '0.0.0.0', port: p });
    const { sid, port: kport } = await kern.socket({ address: KERNEL_IP });
    const before = await stack.stats();
    const s = await kern.send(sid, { to: { address: STACK_IP, port: p }, size, count: 3, pattern: 'random', startSeq: size });
    expect(s.errors).toEqual([]);
    const r = await stack.udpRecv(fd, { count: 3, timeoutMs: 3_000 });
    await kern.closeSocket(sid);
    expect(r.datagrams.map((d) => d.length)).toEqual([size, size, size]);
    expect(r.datagrams.map((d) => d.sha1)).toEqual(s.sha1);
    for (const d of r.datagrams) expect([d.address, d.port]).toEqual([KERNEL_IP, kport]);
    const d = delta(before, await stack.stats());
    expect(d['udp.delivered']).toBe(3);
    expect(sum(d, 'udp.badsum', 'udp.badlen', 'udp.hdrops', 'udp.fullsock', 'udp.noport')).toBe(0);
  });

  it.each(SIZES)('an ff socket\'s %i-byte datagrams reach the kernel byte-exact', async (size) => {
    const { stack } = peer;
    const p = nextPort();
    const fd = await fds.udp({ address: STACK_IP, port: p });
    const { sid, port: kport } = await kern.socket({ address: KERNEL_IP });
    const before = await stack.stats();
    const s = await stack.udpSend(fd, { to: { address: KERNEL_IP, port: kport }, size, count: 3, pattern: 'random', startSeq: 1000 + size });
    expect(s.sent).toBe(3);
    const r = await kern.recv(sid, { count: 3, timeoutMs: 3_000 });
    await kern.closeSocket(sid);
    expect(r.datagrams.map((d) => d.length)).toEqual([size, size, size]);
    expect(r.datagrams.map((d) => d.sha1)).toEqual(s.sha1);
    expect(r.datagrams.map((d) => d.sha1)).toEqual(sha1sOf('random', size, 3, 1000 + size));
    for (const d of r.datagrams) expect([d.address, d.port]).toEqual([STACK_IP, p]);
    const d = delta(before, await waitForStats(stack, (x) => ctr(x, 'udp.tx') - ctr(before, 'udp.tx') >= 3, '3 datagrams sent'));
    expect(d['udp.tx']).toBe(3);
    expect(d['udp.tx_errors']).toBe(0);
  });

  it('a connected ff socket takes datagrams from its peer only, and sends to it without an address', async () => {
    const { stack } = peer;
    const p = nextPort();
    const a = await kern.socket({ address: KERNEL_IP });
    const b = await kern.socket({ address: KERNEL_IP });
    const fd = await fds.udp({ address: '0.0.0.0', port: p });
    await stack.posix('ff_connect', fd, { address: KERNEL_IP, port: a.port });
    expect(await stack.posix('ff_getpeername', fd)).toEqual({ address: KERNEL_IP, port: a.port, family: 'IPv4' });
    const before = await stack.stats();
    const fromB = await kern.send(b.sid, { to: { address: STACK_IP, port: p }, size: 20, count: 2, pattern: 'seq', startSeq: 500 });
    const fromA = await kern.send(a.sid, { to: { address: STACK_IP, port: p }, size: 20, count: 2, pattern: 'seq', startSeq: 100 });
    expect([fromA.errors, fromB.errors]).toEqual([[], []]);
    const r = await stack.udpRecv(fd, { count: 3, timeoutMs: 1_000 });
    expect(r.timedOut).toBe(true);
    expect(r.datagrams.map((d) => [d.port, d.sha1])).toEqual(fromA.sha1.map((h) => [a.port, h]));
    // B's datagrams found no socket: answered with port unreachable, as Linux does.
    const after = await waitForStats(stack, (x) => ctr(x, 'udp.noport') - ctr(before, 'udp.noport') >= 2, 'two datagrams from B refused');
    expect(delta(before, after)['udp.noport']).toBe(2);
    // ff_send without an address goes to the peer.
    await stack.posix('ff_send', fd, { hex: 'c0ffee' });
    const got = await kern.recv(a.sid, { count: 1, timeoutMs: 2_000 });
    expect(got.datagrams.map((d) => d.hex)).toEqual(['c0ffee']);
    expect((await kern.recv(b.sid, { count: 1, timeoutMs: 200 })).datagrams).toEqual([]);
    await kern.closeSocket(a.sid);
    await kern.closeSocket(b.sid);
  });

  it('a connected ff socket gets ECONNREFUSED from the kernel\'s port unreachable (ff_send and ff_recvfrom)', async () => {
    const { stack } = peer;
    // A kernel port nobody listens on: bind one, note it, close it.
    const gone = await kern.socket({ address: KERNEL_IP });
    await kern.closeSocket(gone.sid);
    const fd = await fds.udp();
    await stack.posix('ff_connect', fd, { address: KERNEL_IP, port: gone.port });
    for (const next of ['ff_send', 'ff_recvfrom'] as const) {
      const before = await stack.stats();
      expect(await stack.posix('ff_send', fd, { hex: '01020304' })).toBe(4);
      await waitForStats(stack, (x) => ctr(x, 'udp.icmp_errors') - ctr(before, 'udp.icmp_errors') >= 1, 'the port unreachable delivered to the socket');
      const d = delta(before, await stack.stats());
      expect(d['icmp.unreach_in']).toBe(1);
      if (next === 'ff_send') await expectFfError(stack.posix('ff_send', fd, { hex: '05' }), 'ECONNREFUSED', 'ff_sendto');
      else await expectFfError(stack.posix('ff_recvfrom', fd, { buffer: 64 }, K.MSG_DONTWAIT), 'ECONNREFUSED', 'ff_recvfrom');
      // Reported once: the socket works again afterwards (nothing waiting).
      await expectFfError(stack.posix('ff_recvfrom', fd, { buffer: 64 }, K.MSG_DONTWAIT), 'EAGAIN', 'ff_recvfrom');
    }
  });

  it('a connected kernel socket gets ECONNREFUSED from our port unreachable (udp.noport)', async () => {
    const { stack } = peer;
    const closed = nextPort();
    const { sid } = await kern.socket({ address: KERNEL_IP });
    await kern.connect(sid, { address: STACK_IP, port: closed });
    const before = await stack.stats();
    const first = await kern.send(sid, { size: 8, count: 1 });
    expect(first.errors).toEqual([]);
    const after = await waitForStats(stack, (x) => ctr(x, 'udp.noport') - ctr(before, 'udp.noport') >= 1, 'udp.noport to count the datagram');
    const d = delta(before, after);
    expect(d['udp.noport']).toBe(1);
    expect(d['icmp.errors_out']).toBe(1);
    // The kernel reports the error on its socket (an 'error' event), or on the next send.
    await sleep(200);
    const events = await kern.errors(sid);
    const again = await kern.send(sid, { size: 8, count: 1 });
    expect([...events, ...again.errors]).toContain('ECONNREFUSED');
    await kern.closeSocket(sid);
  });

  it('ff_sendto to the subnet broadcast needs SO_BROADCAST (EACCES), then reaches the kernel', async () => {
    const { stack } = peer;
    const p = nextPort();
    const { sid } = await kern.socket({ address: '0.0.0.0', port: p });
    await kern.set(sid, 'setBroadcast', true);
    const fd = await fds.udp({ address: STACK_IP, port: 0 });
    await expectFfError(stack.posix('ff_sendto', fd, { hex: 'aa' }, 0, { address: SUBNET_BCAST, port: p }), 'EACCES', 'ff_sendto');
    await stack.posix('ff_setsockopt', fd, K.SOL_SOCKET, K.SO_BROADCAST, 1);
    expect(await stack.posix('ff_getsockopt', fd, K.SOL_SOCKET, K.SO_BROADCAST)).toBe(1);
    const s = await stack.udpSend(fd, { to: { address: SUBNET_BCAST, port: p }, size: 32, count: 2, pattern: 'seq' });
    expect(s.sent).toBe(2);
    const r = await kern.recv(sid, { count: 2, timeoutMs: 2_000 });
    expect(r.datagrams.map((d) => [d.address, d.sha1])).toEqual(s.sha1?.map((h) => [STACK_IP, h]));
    await kern.closeSocket(sid);
  });

  it('the kernel\'s subnet broadcast reaches an ff socket bound to 0.0.0.0', async () => {
    const { stack } = peer;
    const p = nextPort();
    const fd = await fds.udp({ address: '0.0.0.0', port: p });
    const { sid, port: kport } = await kern.socket({ address: KERNEL_IP });
    await kern.set(sid, 'setBroadcast', true);
    const s = await kern.send(sid, { to: { address: SUBNET_BCAST, port: p }, size: 48, count: 3, pattern: 'seq', startSeq: 9 });
    expect(s.errors).toEqual([]);
    const r = await stack.udpRecv(fd, { count: 3, timeoutMs: 2_000 });
    expect(r.datagrams.map((d) => [d.address, d.port, d.sha1])).toEqual(s.sha1.map((h) => [KERNEL_IP, kport, h]));
    await kern.closeSocket(sid);
  });

  describe('the kernel\'s reassembled datagrams for several sockets reach each of them whole', () => {
    // Fragmented by the kernel, reassembled into a chain of mbufs that every receiver shares.
    const SHARED_SIZES = [4000, 20000, 65507];
    const COUNT = 3;

    it.each(SHARED_SIZES)('%i-byte subnet broadcasts reach both SO_REUSEADDR sockets byte-exact', async (size) => {
      const { stack } = peer;
      const p = nextPort();
      const rx = await fds.sharingPort(p);
      const { sid, port: kport } = await kern.socket({ address: KERNEL_IP });
      await kern.set(sid, 'setBroadcast', true);
      const s = await kern.send(sid, { to: { address: SUBNET_BCAST, port: p }, size, count: COUNT, pattern: 'random', startSeq: size });
      expect(s.errors).toEqual([]);
      const got = await Promise.all(rx.map((fd) => stack.udpRecv(fd, { count: COUNT, timeoutMs: 5_000 })));
      await kern.closeSocket(sid);
      for (const g of got) expect(g.datagrams.map((d) => [d.address, d.port, d.length, d.sha1])).toEqual(s.sha1.map((h) => [KERNEL_IP, kport, size, h]));
    });

    it.each(SHARED_SIZES)('%i-byte datagrams to a group reach both members byte-exact', async (size) => {
      const { stack } = peer;
      const p = nextPort();
      const rx = await fds.sharingPort(p);
      for (const fd of rx) await stack.posix('ff_setsockopt', fd, K.IPPROTO_IP, K.IP_ADD_MEMBERSHIP, { multiaddr: GROUP_SHARED, interface: STACK_IP });
      const { sid, port: kport } = await kern.socket({ address: KERNEL_IP });
      await kern.set(sid, 'setMulticastInterface', KERNEL_IP);
      const s = await kern.send(sid, { to: { address: GROUP_SHARED, port: p }, size, count: COUNT, pattern: 'random', startSeq: 2 * size });
      expect(s.errors).toEqual([]);
      const got = await Promise.all(rx.map((fd) => stack.udpRecv(fd, { count: COUNT, timeoutMs: 5_000 })));
      await kern.closeSocket(sid);
      for (const g of got) expect(g.datagrams.map((d) => [d.address, d.port, d.length, d.sha1])).toEqual(s.sha1.map((h) => [KERNEL_IP, kport, size, h]));
    });
  });

  it('65507-byte datagrams cross fragmented both ways, byte-exact', async () => {
    const { stack } = peer;
    const p = nextPort();
    const fd = await fds.udp({ address: '0.0.0.0', port: p });
    const { sid, port: kport } = await kern.socket({ address: KERNEL_IP });
    // Kernel → ff: reassembled by the stack.
    let before = await stack.stats();
    const s = await kern.send(sid, { to: { address: STACK_IP, port: p }, size: 65507, count: 3, pattern: 'random', startSeq: 77 });
    expect(s.errors).toEqual([]);
    const r = await stack.udpRecv(fd, { count: 3, timeoutMs: 5_000 });
    expect(r.datagrams.map((d) => d.length), JSON.stringify(nonZero(delta(before, await stack.stats())))).toEqual([65507, 65507, 65507]);
    expect(r.datagrams.map((d) => d.sha1)).toEqual(s.sha1);
    let d = delta(before, await stack.stats());
    expect(d['ip.reassembled']).toBe(3);
    expect(d['ip.fragments']).toBe(3 * 45);
    expect(d['ip.frag_dropped']).toBe(0);
    // ff → kernel: fragmented by the stack (65515 bytes of UDP in 1480-byte pieces: 45 fragments).
    before = await stack.stats();
    // One at a time: the kernel charges each reassembled datagram the truesize of its 45 fragment skbs,
    // so three at once can exceed its default receive buffer (RcvbufErrors in /proc/net/snmp).
    const outSha: string[] = [];
    const gotSha: string[] = [];
    for (let i = 0; i < 3; i++) {
      const out = await stack.udpSend(fd, { to: { address: KERNEL_IP, port: kport }, size: 65507, count: 1, pattern: 'random', startSeq: 88 + i });
      expect(out.sent).toBe(1);
      outSha.push(...(out.sha1 ?? []));
      const k = await kern.recv(sid, { count: 1, timeoutMs: 5_000 });
      expect(k.datagrams.map((x) => x.length), await kernelUdpSnmp(peer)).toEqual([65507]);
      gotSha.push(...k.datagrams.map((x) => x.sha1));
    }
    expect(gotSha).toEqual(outSha);
    d = delta(before, await waitForStats(stack, (x) => ctr(x, 'ip.fragmented') - ctr(before, 'ip.fragmented') >= 3, 'three datagrams fragmented'));
    expect(d['ip.fragmented']).toBe(3);
    expect(d['ip.frags_out']).toBe(3 * 45);
    await kern.closeSocket(sid);
  });

  it('an ff socket that joined 239.1.2.3 receives the kernel\'s datagrams to the group', async () => {
    const { stack } = peer;
    const p = nextPort();
    const fd = await fds.udp({ address: '0.0.0.0', port: p });
    const other = await fds.udp({ address: '0.0.0.0', port: p + 1000 });
    await stack.posix('ff_setsockopt', fd, K.IPPROTO_IP, K.IP_ADD_MEMBERSHIP, { multiaddr: GROUP_IN, interface: STACK_IP });
    const { sid, port: kport } = await kern.socket({ address: KERNEL_IP });
    await kern.set(sid, 'setMulticastInterface', KERNEL_IP);
    const s = await kern.send(sid, { to: { address: GROUP_IN, port: p }, size: 64, count: 3, pattern: 'seq', startSeq: 3 });
    expect(s.errors).toEqual([]);
    const r = await stack.udpRecv(fd, { count: 3, timeoutMs: 2_000 });
    expect(r.datagrams.map((d) => [d.address, d.port, d.sha1])).toEqual(s.sha1.map((h) => [KERNEL_IP, kport, h]));
    // A socket on another port that did not join gets nothing.
    expect((await stack.udpRecv(other, { count: 1, timeoutMs: 200 })).datagrams).toEqual([]);
    // After leaving, the group's datagrams are no longer delivered.
    await stack.posix('ff_setsockopt', fd, K.IPPROTO_IP, K.IP_DROP_MEMBERSHIP, { multiaddr: GROUP_IN, interface: STACK_IP });
    await kern.send(sid, { to: { address: GROUP_IN, port: p }, size: 64, count: 1, pattern: 'seq' });
    expect((await stack.udpRecv(fd, { count: 1, timeoutMs: 300 })).datagrams).toEqual([]);
    await kern.closeSocket(sid);
  });

  it('the kernel, having joined 239.1.2.4, receives an ff socket\'s datagrams to the group', async () => {
    const { stack } = peer;
    const p = nextPort();
    const { sid } = await kern.socket({ address: '0.0.0.0', port: p });
    await kern.set(sid, 'addMembership', GROUP_OUT, KERNEL_IP);
    const fd = await fds.udp({ address: STACK_IP, port: 0 });
    const sport = (await stack.posix<{ port: number }>('ff_getsockname', fd)).port;
    const s = await stack.udpSend(fd, { to: { address: GROUP_OUT, port: p }, size: 100, count: 3, pattern: 'random', startSeq: 5 });
    expect(s.sent).toBe(3);
    const r = await kern.recv(sid, { count: 3, timeoutMs: 2_000 });
    expect(r.datagrams.map((d) => [d.address, d.port, d.sha1])).toEqual(s.sha1?.map((h) => [STACK_IP, sport, h]));
    await kern.closeSocket(sid);
  });

  it('tshark on ff0 sees the stack\'s IGMP reports for a join and a leave', async () => {
    const { ns, stack } = peer;
    const child: ChildProcess = ns.spawn('tshark', ['-i', IFACE, '-l', '-n', '-Y', 'igmp', '-T', 'fields', '-E', 'separator=;', '-e', 'ip.src', '-e', 'ip.dst', '-e', 'igmp.version', '-e', 'igmp.type', '-e', 'igmp.maddr']);
    let out = '';
    let err = '';
    child.stdout?.setEncoding('utf8').on('data', (x: string) => (out += x));
    child.stderr?.setEncoding('utf8').on('data', (x: string) => (err += x));
    try {
      // dumpcap reports 'Capture started.' once it reads the interface.
      await ns.waitFor(async () => /Capture started|Capturing on/.test(err), `tshark to start capturing (stderr: ${err})`, 15_000, 100);
      if (!/Capture started/.test(err)) await sleep(1_000);
      const before = await stack.stats();
      const fd = await fds.udp({ address: '0.0.0.0', port: nextPort() });
      await stack.posix('ff_setsockopt', fd, K.IPPROTO_IP, K.IP_ADD_MEMBERSHIP, { multiaddr: GROUP_IGMP, interface: STACK_IP });
      const ours = (): string[] => out.split('\n').filter((l) => l.startsWith(`${STACK_IP};`) && l.includes(GROUP_IGMP));
      await ns.waitFor(async () => ours().length >= 1, `an IGMP report for ${GROUP_IGMP} from ${STACK_IP}; tshark printed:\n${out}`, 5_000, 100);
      const join = ours()[0] ?? '';
      const [, dst, version, type] = join.split(';');
      // IGMPv3 (the default): a report (0x22) to 224.0.0.22; IGMPv2: a v2 report (0x16) to the group.
      if (version === '3') expect([dst, type]).toEqual(['224.0.0.22', '0x22']);
      else expect([dst, version, type]).toEqual([GROUP_IGMP, '2', '0x16']);
      const joined = ours().length;
      await stack.posix('ff_setsockopt', fd, K.IPPROTO_IP, K.IP_DROP_MEMBERSHIP, { multiaddr: GROUP_IGMP, interface: STACK_IP });
      await ns.waitFor(async () => ours().length > joined, `an IGMP leave for ${GROUP_IGMP}; tshark printed:\n${out}`, 5_000, 100);
      const d = delta(before, await stack.stats());
      expect(sum(d, 'igmp.reports_out', 'igmp.leaves_out')).toBeGreaterThanOrEqual(2);
    } finally {
      child.kill('SIGINT');
      await new Promise<void>((res) => {
        const t = setTimeout(() => {
          child.kill('SIGKILL');
          res();
        }, 3_000);
        child.once('exit', () => {
          clearTimeout(t);
          res();
        });
      });
    }
  });

  it('SO_RCVBUF overflow drops into udp.fullsock and every datagram is accounted for', async () => {
    const { stack } = peer;
    const SENT = 300;
    const p = nextPort();
    const fd = await fds.udp({ address: STACK_IP, port: p });
    await stack.posix('ff_setsockopt', fd, K.SOL_SOCKET, K.SO_RCVBUF, 4096);
    // Linux doubles the request: 8192 bytes, charged per datagram with its overhead.
    expect(await stack.posix('ff_getsockopt', fd, K.SOL_SOCKET, K.SO_RCVBUF)).toBe(8192);
    const { sid } = await kern.socket({ address: KERNEL_IP });
    const before: StackStats = await stack.stats();
    const s = await kern.send(sid, { to: { address: STACK_IP, port: p }, size: 100, count: SENT, pattern: 'seq' });
    expect(s.errors).toEqual([]);
    const after = await waitForStats(
      stack,
      (x) => ctr(x, 'udp.delivered') + ctr(x, 'udp.fullsock') - ctr(before, 'udp.delivered') - ctr(before, 'udp.fullsock') >= SENT,
      `${SENT} datagrams delivered or dropped`,
      10_000,
    );
    const d = delta(before, after);
    expect(d['udp.rx']).toBe(SENT);
    expect(d['udp.fullsock']).toBeGreaterThan(0);
    expect(sum(d, 'udp.delivered', 'udp.fullsock')).toBe(SENT);
    expect(sum(d, 'udp.badsum', 'udp.badlen', 'udp.hdrops', 'udp.noport', 'eth.tx_dropped', 'ip.badsum')).toBe(0);
    // What was queued is exactly what the socket holds: drain it.
    const r = await stack.udpRecv(fd, { count: SENT, timeoutMs: 500 });
    expect(r.datagrams.length).toBe(d['udp.delivered']);
    await kern.closeSocket(sid);
  });
});
