/**
 * Nothing martian leaves the stack, and unreachable destinations report what Linux reports, with the
 * kernel as peer over net_tap (ff0) in a namespace of the test's own (inline lcore mode).
 *
 * - The mDNS case of multicast-dns/bonjour-service: a socket whose multicast interface is 127.0.0.1
 *   sends to 224.0.0.251:5353; tcpdump on ff0 sees no frame with a 127/8 source (nor any of the
 *   datagrams), a stack socket that joined the group receives each one from 127.0.0.1, and a socket
 *   bound to 127.0.0.1 gets Linux's EINVAL sending off the host, its refused datagrams never built.
 *   An AF_INET6 socket bound to ::1 sending to ff02::fb succeeds as on Linux, nothing leaves, and
 *   ip6.tx_martian counts it.
 * - ICMP errors and silent next hops, differentially: the kernel namespace routes (forwarding on)
 *   and answers 10.201/16 with net unreachable (no route), 10.202/16 with host unreachable (an
 *   `unreachable` route) and 10.203/16 with admin prohibited (`prohibit`); 10.77.0.99 never answers
 *   ARP. A connected ff socket (through the gateway 10.77.0.1) and a connected node:dgram socket in
 *   a second namespace routed through the same kernel send to each; what each later sees (an error
 *   or nothing) must be the same; likewise over IPv6 (2001:db8:201::/48 no route, 202 an
 *   `unreachable` route, 203 `prohibit`; 2001:db8:77::99 never answers Neighbor Discovery), with the
 *   namespace's IPv6 turned on for that case. Linux reports only the hard errors without IP_RECVERR.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Netns } from '../../testbed/netns.js';
import { IFACE, KERNEL_IP, STACK_IP, ctr, delta, kernelPeer, sleep, tcpdumpLines, waitForStats, type KernelPeer } from './kernel-peer.js';
import { FdScope, expectFfError, expectPoolAt, steadyInUse } from './udp-bench.js';

const MDNS_GROUP = '224.0.0.251';
const MDNS_PORT = 5353;
/** The client namespace's link to the kernel peer (router) namespace. */
const CLIENT_IP = '10.78.0.2';
const ROUTER_IP = '10.78.0.1';
/** Destinations and what the router does with them (ICMP codes 0, 1 and 13). */
const UNREACHABLE = [
  { dst: '10.201.0.1', what: 'net unreachable (no route)' },
  { dst: '10.202.0.1', what: 'host unreachable (unreachable route)' },
  { dst: '10.203.0.1', what: 'admin prohibited (prohibit route)' },
];
/** IPv6 of the same: the stack's port and ff0, the client's link, and what the router does. */
const STACK_IP6 = '2001:db8:77::2';
const KERNEL_IP6 = '2001:db8:77::1';
const CLIENT_IP6 = '2001:db8:78::2';
const ROUTER_IP6 = '2001:db8:78::1';
const UNREACHABLE6 = [
  { dst: '2001:db8:201::1', what: 'no route (ICMPv6 code 0)' },
  { dst: '2001:db8:202::1', what: 'unreachable route (ICMPv6 code 0)' },
  { dst: '2001:db8:203::1', what: 'administratively prohibited (ICMPv6 code 1)' },
];
/** How long a next hop that never answers ARP takes to be given up (3 probes a second apart) and then some. */
const ARP_GIVE_UP_MS = 4_000;

/** node:dgram in `ns`: connected to each destination, one datagram each, then what the socket saw. */
const CLIENT_SCRIPT = `
import dgram from 'node:dgram';
const [dsts, waitMs] = [JSON.parse(process.argv[1]), Number(process.argv[2])]; // node -e: no script path
const out = {};
await Promise.all(dsts.map(async (dst) => {
  const s = dgram.createSocket(dst.includes(':') ? 'udp6' : 'udp4');
  const seen = [];
  s.on('error', (e) => seen.push('error ' + e.code));
  await new Promise((r) => s.connect(9, dst, r));
  await new Promise((r) => s.send('x', (e) => { seen.push(e ? 'send ' + e.code : 'sent'); r(); }));
  await new Promise((r) => setTimeout(r, waitMs));
  out[dst] = seen;
  s.close();
}));
console.log(JSON.stringify(out));
`;

describe('martians and unreachable destinations with the kernel', () => {
  let peer: KernelPeer;
  let client: Netns;
  let K: Readonly<Record<string, number>>;
  let baseline: number;

  beforeAll(async () => {
    peer = await kernelPeer('tx-martian', { port0: { gateway: KERNEL_IP, addr6: `${STACK_IP6}/64`, gateway6: KERNEL_IP6 },
      sysctl: { 'net.inet6.ip6.dad_count': 0 } });
    const { ns, stack } = peer;
    K = await stack.constants();
    await ns.execOk('sysctl', ['-qw', 'net.ipv4.ip_forward=1', 'net.ipv4.icmp_ratelimit=0']);
    await ns.execOk('ip', ['route', 'add', 'unreachable', '10.202.0.0/16']);
    await ns.execOk('ip', ['route', 'add', 'prohibit', '10.203.0.0/16']);
    client = await Netns.create('tx-martian-cl');
    await ns.execOk('ip', ['link', 'add', 'rt1', 'type', 'veth', 'peer', 'name', 'cl0', 'netns', client.name]);
    await ns.execOk('ip', ['addr', 'add', `${ROUTER_IP}/24`, 'dev', 'rt1']);
    await ns.execOk('ip', ['link', 'set', 'rt1', 'up']);
    await client.execOk('ip', ['addr', 'add', `${CLIENT_IP}/24`, 'dev', 'cl0']);
    await client.execOk('ip', ['link', 'set', 'cl0', 'up']);
    await client.execOk('ip', ['route', 'add', 'default', 'via', ROUTER_IP]);
    await stack.ping(KERNEL_IP, { count: 1, timeoutMs: 2_000 });
    baseline = await steadyInUse(stack);
  }, 60_000);
  afterAll(async () => {
    await client?.destroy();
    await peer?.close();
  });

  it('a multicast interface of 127.0.0.1 reaches local members only; nothing from 127/8 or ::1 leaves', async () => {
    const { ns, stack } = peer;
    const fds = new FdScope(stack);
    const cap = await tcpdumpLines(ns, IFACE, [], ['ip', 'or', 'ip6']);
    try {
      const before = await stack.stats();
      // Two members, as multicast-dns has them: one joined on loopback, one on the port.
      const members: number[] = [];
      for (const iface of ['127.0.0.1', STACK_IP]) {
        const fd = await fds.udp();
        await stack.posix('ff_setsockopt', fd, K.SOL_SOCKET, K.SO_REUSEADDR, 1);
        await stack.posix('ff_bind', fd, { address: '0.0.0.0', port: MDNS_PORT });
        await stack.posix('ff_setsockopt', fd, K.IPPROTO_IP, K.IP_ADD_MEMBERSHIP, { multiaddr: MDNS_GROUP, interface: iface });
        members.push(fd);
      }
      const sender = await fds.udp({ address: '0.0.0.0', port: 0 });
      await stack.posix('ff_setsockopt', sender, K.IPPROTO_IP, K.IP_MULTICAST_IF, '127.0.0.1');
      const sent = await stack.udpSend(sender, { to: { address: MDNS_GROUP, port: MDNS_PORT }, size: 40, count: 5, pattern: 'seq' });
      expect(sent.sent).toBe(5);
      for (const fd of members) {
        const r = await stack.udpRecv(fd, { count: 5, timeoutMs: 2_000 });
        expect(r.datagrams.map((d) => d.address)).toEqual(Array(5).fill('127.0.0.1'));
      }
      // Bound to 127.0.0.1: the group stays on loopback; off the host is Linux's EINVAL.
      const bound = await fds.udp({ address: '127.0.0.1', port: 0 });
      expect(await stack.posix('ff_sendto', bound, { hex: '01' }, 0, { address: MDNS_GROUP, port: MDNS_PORT })).toBe(1);
      await expectFfError(stack.posix('ff_sendto', bound, { hex: '02' }, 0, { address: KERNEL_IP, port: 9 }), 'EINVAL', 'ff_sendto');
      await expectFfError(stack.posix('ff_sendto', bound, { hex: '03' }, 0, { address: '10.201.0.1', port: 9 }), 'EINVAL', 'ff_sendto');
      expect((await stack.udpRecv(members[0]!, { count: 1, timeoutMs: 2_000 })).datagrams.map((d) => d.address)).toEqual(['127.0.0.1']);
      // IPv6: bound to ::1, a group datagram succeeds (as on Linux) and is kept from the port.
      const six = await fds.udp6({ address: '::1', port: 0 });
      expect(await stack.posix('ff_sendto', six, { hex: '04' }, 0, { address: 'ff02::fb', port: MDNS_PORT })).toBe(1);
      const after = await waitForStats(stack, (x) => ctr(x, 'ip6.tx_martian') - ctr(before, 'ip6.tx_martian') >= 1, 'ip6.tx_martian to count the ::1 datagram');
      // The control: the port's own address sends to the group, and that frame is seen.
      await stack.posix('ff_setsockopt', sender, K.IPPROTO_IP, K.IP_MULTICAST_IF, STACK_IP);
      expect(await stack.posix('ff_sendto', sender, { hex: '05' }, 0, { address: MDNS_GROUP, port: MDNS_PORT })).toBe(1);
      await cap.waitForLine(new RegExp(`${STACK_IP.replaceAll('.', '\\.')}\\.\\d+ > 224\\.0\\.0\\.251\\.5353: `), 5_000);
      await sleep(300);
      const lines = await cap.stop();
      // tcpdump -e: "... length N: SRC.PORT > DST.PORT: ...".
      const martian = /length \d+: (127\.\d+\.\d+\.\d+|::1|0\.0\.0\.0)[.: ]|> (127\.\d+\.\d+\.\d+|::1)[.: ]/;
      expect(lines.filter((l) => martian.test(l)), lines.join('\n')).toEqual([]);
      expect(lines.filter((l) => /224\.0\.0\.251\.5353/.test(l)), lines.join('\n')).toHaveLength(1);
      const d = delta(before, after);
      expect(d['ip6.tx_martian']).toBe(1);
      expect(d['ip.tx_martian'] ?? 0).toBe(0); // refused before any datagram was built (EINVAL)
    } finally {
      await cap.stop();
      await fds.closeAll();
    }
    await expectPoolAt(stack, baseline);
  }, 30_000);

  /**
   * Connected sockets to each of `rows` and to a silent on-link host, on the stack and (node:dgram) in
   * the client namespace; returns both tables of what each socket saw.
   */
  async function unreachableTables(family: 4 | 6, rows: Array<{ dst: string; what: string }>, silent: { stack: string; client: string }) {
    const { stack } = peer;
    const kernelRun = client.execOk('node', ['--input-type=module', '-e', CLIENT_SCRIPT,
      JSON.stringify([...rows.map((u) => u.dst), silent.client]), String(ARP_GIVE_UP_MS)], { timeoutMs: 20_000 });
    const fds = new FdScope(stack);
    const ours: Record<string, string[]> = {};
    const counter = family === 4 ? 'icmp.unreach_in' : 'icmp6.unreach_in';
    try {
      const before = await stack.stats();
      const socks = new Map<string, number>();
      for (const dst of [...rows.map((u) => u.dst), silent.stack]) {
        const fd = family === 4 ? await fds.udp({ address: '0.0.0.0', port: 0 }) : await fds.udp6({ address: '::', port: 0 });
        await stack.posix('ff_connect', fd, { address: dst, port: 9 });
        expect(await stack.posix('ff_send', fd, { hex: '78' })).toBe(1);
        socks.set(dst, fd);
        ours[dst] = ['sent'];
      }
      await waitForStats(stack, (x) => ctr(x, counter) - ctr(before, counter) >= rows.length, `the router's ${rows.length} unreachables`);
      await sleep(ARP_GIVE_UP_MS);
      for (const [dst, fd] of socks) {
        try {
          await stack.posix('ff_recvfrom', fd, { buffer: 64 }, K.MSG_DONTWAIT);
          ours[dst]!.push('a datagram');
        } catch (err) {
          const code = (err as { code?: string }).code;
          if (code !== 'EAGAIN') ours[dst]!.push(`error ${code}`);
        }
      }
    } finally {
      await fds.closeAll();
    }
    const theirs = JSON.parse((await kernelRun).trim()) as Record<string, string[]>;
    const table = (r: Record<string, string[]>, silentDst: string): Record<string, string[]> =>
      Object.fromEntries([...rows.map((u) => [u.what, r[u.dst] ?? []]), ['next hop never answers', r[silentDst] ?? []]]);
    return { ours: table(ours, silent.stack), linux: table(theirs, silent.client) };
  }

  it('ICMP unreachables and a silent next hop: a connected socket sees what a kernel socket sees', async () => {
    const { ours, linux } = await unreachableTables(4, UNREACHABLE, { stack: '10.77.0.99', client: '10.78.0.99' });
    // What Linux gives (measured here: soft errors are not reported without IP_RECVERR).
    expect(linux).toEqual({
      'net unreachable (no route)': ['sent'],
      'host unreachable (unreachable route)': ['sent'],
      'admin prohibited (prohibit route)': ['sent', 'error EHOSTUNREACH'],
      'next hop never answers': ['sent'],
    });
    expect(ours).toEqual(linux);
    await expectPoolAt(peer.stack, baseline);
  }, 40_000);

  it('ICMPv6 unreachables and a silent next hop: a connected udp6 socket sees what a kernel socket sees', async () => {
    const { ns } = peer;
    // The namespace's IPv6 (off so far, to keep the capture above quiet), forwarding, and the routes.
    await ns.execOk('sysctl', ['-qw', 'net.ipv6.conf.all.disable_ipv6=0', 'net.ipv6.conf.default.disable_ipv6=0',
      `net.ipv6.conf.${IFACE}.disable_ipv6=0`, 'net.ipv6.conf.rt1.disable_ipv6=0', 'net.ipv6.conf.all.forwarding=1', 'net.ipv6.icmp.ratelimit=0']);
    await ns.execOk('ip', ['-6', 'addr', 'add', `${KERNEL_IP6}/64`, 'dev', IFACE, 'nodad']);
    await ns.execOk('ip', ['-6', 'addr', 'add', `${ROUTER_IP6}/64`, 'dev', 'rt1', 'nodad']);
    await ns.execOk('ip', ['-6', 'route', 'add', 'unreachable', '2001:db8:202::/48']);
    await ns.execOk('ip', ['-6', 'route', 'add', 'prohibit', '2001:db8:203::/48']);
    await client.execOk('ip', ['-6', 'addr', 'add', `${CLIENT_IP6}/64`, 'dev', 'cl0', 'nodad']);
    await client.execOk('ip', ['-6', 'route', 'add', 'default', 'via', ROUTER_IP6]);
    const { ours, linux } = await unreachableTables(6, UNREACHABLE6, { stack: '2001:db8:77::99', client: '2001:db8:78::99' });
    expect(linux).toEqual({
      'no route (ICMPv6 code 0)': ['sent'],
      'unreachable route (ICMPv6 code 0)': ['sent'],
      'administratively prohibited (ICMPv6 code 1)': ['sent', 'error EACCES'],
      'next hop never answers': ['sent'],
    });
    expect(ours).toEqual(linux);
    await expectPoolAt(peer.stack, baseline);
  }, 40_000);
});
