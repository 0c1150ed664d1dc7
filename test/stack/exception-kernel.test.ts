/**
 * The exception path end to end: traffic the stack does not consume reaches the host's kernel through
 * the tap interface the stack creates (exception = tap), and what the kernel sends leaves through the
 * stack's port.
 *
 * Topology: namespace S holds the stack, its port on net_af_packet over veth end vA (no address), and
 * the exception interface ffx0 the stack creates there with the port's MAC and 10.77.0.2/24; vB, the
 * other end, is in namespace P (the peer, 10.77.0.1/24). S's kernel must not answer on vA itself:
 * strict reverse-path filtering (the route back to P is via ffx0), arp_ignore=1 and no IPv6 on vA — and
 * the first case checks that without the exception path a TCP connect to S's kernel fails.
 *
 * Then: a TCP echo server in S's kernel answers a client in P; UDP to a stack socket is the stack's,
 * UDP to a port no stack socket holds is the kernel's (exception_udp_unbound), and UDP to a port of
 * exception_udp_port is the kernel's even with a stack socket on it; TCP to a port exception_tcp_port
 * does not list is dropped and counted; P's neighbour entry for 10.77.0.2 keeps the stack's MAC, and
 * each ARP request gets one reply (the kernel's are dropped and counted); the counters of both ways;
 * a flood beyond exception_queue is counted in exception.dropped_full; exception = virtio-user on a
 * kernel without /dev/vhost-net fails with a clear error.
 */
import { existsSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Netns, requireRoot } from '../../testbed/netns.js';
import { StackProcess, type RawConfig } from '../../testbed/stack-process.js';
import { ffnet } from '../tools/harness.js';
import { LCORE_MODES, ctr, delta, sleep, tcpdumpLines, uniquePrefix, waitForStats, type LcoreMode } from './kernel-peer.js';

const STACK_IP = '10.77.0.2';
const PEER_IP = '10.77.0.1';
/** The TCP port exception_tcp_port lists, and one it does not. */
const TCP_LISTED = 2201;
const TCP_UNLISTED = 2202;
/** UDP ports: a stack socket's, one nobody in the stack holds, and one exception_udp_port gives the kernel. */
const UDP_STACK = 5301;
const UDP_UNBOUND = 5302;
const UDP_KERNEL = 5303;
const EXC_IFACE = 'ffx0';
/** IPv6: the port's addr6, the peer's address, and a TCP port of S's kernel. */
const STACK_IP6 = '2001:db8:77::2';
const PEER_IP6 = '2001:db8:77::1';
const TCP6 = 2203;

/** Two namespaces joined by a veth pair: S (vA, the stack's) and P (vB, 10.77.0.1/24). */
interface Topology {
  s: Netns;
  p: Netns;
  close(): Promise<void>;
}

async function topology(): Promise<Topology> {
  requireRoot();
  const s = await Netns.create('exc-s');
  const p = await Netns.create('exc-p');
  const close = async () => {
    await s.destroy();
    await p.destroy();
  };
  try {
    for (const ns of [s, p]) await ns.execOk('sysctl', ['-qw', 'net.ipv6.conf.default.disable_ipv6=1', 'net.ipv6.conf.all.disable_ipv6=1']);
    await s.execOk('ip', ['link', 'add', 'vA', 'type', 'veth', 'peer', 'name', 'vB']);
    await s.execOk('ip', ['link', 'set', 'vB', 'netns', p.name]);
    // Frames cross the veth with complete checksums: af_packet hands the stack what it reads.
    await s.execOk('ethtool', ['-K', 'vA', 'tx', 'off']);
    await p.execOk('ethtool', ['-K', 'vB', 'tx', 'off']);
    await s.execOk('sysctl', ['-qw', 'net.ipv4.conf.all.rp_filter=1', 'net.ipv4.conf.vA.rp_filter=1', 'net.ipv4.conf.vA.arp_ignore=1']);
    await s.execOk('ip', ['link', 'set', 'vA', 'up']);
    await p.execOk('ip', ['addr', 'add', `${PEER_IP}/24`, 'dev', 'vB']);
    await p.execOk('ip', ['link', 'set', 'vB', 'up']);
    return { s, p, close };
  } catch (err) {
    await close();
    throw err;
  }
}

function stackConfig(s: Netns, port0: Record<string, unknown>, mode: LcoreMode = LCORE_MODES[0]!): RawConfig {
  return {
    dpdk: { vdev: 'net_af_packet0,iface=vA', file_prefix: uniquePrefix('exc'), ...mode.dpdk },
    port0: { addr: STACK_IP, netmask: '255.255.255.0', ipv6: 0, ...port0 },
    sysctl: { 'net.inet6.ip6.accept_rtadv': 0 },
  };
}

/** A node program run in a namespace: prints what it has to say, exits within `timeoutMs`. */
async function nodeRun(ns: Netns, program: string, timeoutMs = 8_000): Promise<{ code: number | null; out: string }> {
  const r = await ns.exec(process.execPath, ['-e', program], { timeoutMs });
  return { code: r.code, out: r.stdout + r.stderr };
}

/** A TCP client in `ns`: connects, sends `text`, prints what comes back (or the error). */
function tcpEcho(ns: Netns, port: number, text: string): Promise<{ code: number | null; out: string }> {
  return nodeRun(ns, `
    const s = require('net').connect(${port}, '${STACK_IP}');
    s.setTimeout(3000, () => { console.log('timeout'); process.exit(2); });
    s.on('connect', () => s.write(${JSON.stringify(text)}));
    s.on('data', (d) => { console.log('echo:' + d); s.destroy(); process.exit(0); });
    s.on('error', (e) => { console.log('error:' + e.code); process.exit(1); });
  `);
}

/** Sends `n` UDP datagrams from `ns` to the stack's address. */
async function udpSend(ns: Netns, port: number, text: string, n = 1): Promise<void> {
  const r = await nodeRun(ns, `
    const s = require('dgram').createSocket('udp4');
    let left = ${n};
    const next = () => left-- > 0 ? s.send(${JSON.stringify(text)}, ${port}, '${STACK_IP}', next) : s.close();
    next();
  `);
  expect(r.code, r.out).toBe(0);
}

/** Long-running servers in S's kernel: TCP echo on both TCP ports, UDP listeners printing what they get. */
function kernelServers(ns: Netns): { output(): string; stop(): void } {
  const child = ns.spawn(process.execPath, ['-e', `
    const net = require('net'), dgram = require('dgram');
    for (const p of [${TCP_LISTED}, ${TCP_UNLISTED}]) net.createServer((c) => c.pipe(c)).listen(p, '0.0.0.0');
    for (const p of [${UDP_STACK}, ${UDP_UNBOUND}, ${UDP_KERNEL}]) {
      const u = dgram.createSocket('udp4');
      u.on('message', (m) => console.log('udp' + p + ':' + m));
      u.bind(p, '0.0.0.0');
    }
    console.log('listening');
    setTimeout(() => process.exit(0), 120000);
  `]);
  let out = '';
  child.stdout?.setEncoding('utf8').on('data', (d: string) => (out += d));
  child.stderr?.setEncoding('utf8').on('data', (d: string) => (out += d));
  return { output: () => out, stop: () => child.kill('SIGKILL') };
}

async function peerNeighbourMac(p: Netns): Promise<string> {
  const out = await p.execOk('ip', ['neigh', 'show', STACK_IP, 'dev', 'vB']);
  return /lladdr ([0-9a-f:]+)/.exec(out)?.[1] ?? '';
}

describe.each(LCORE_MODES)('exception path (tap) between a stack and the host kernel ($name)', (mode) => {
  let topo: Topology;
  let stack: StackProcess | undefined;
  let servers: ReturnType<typeof kernelServers>;

  beforeAll(async () => {
    topo = await topology();
    servers = kernelServers(topo.s);
    await topo.s.waitFor(async () => servers.output().includes('listening'), 'the kernel servers in S', 10_000);
  }, 60_000);
  afterAll(async () => {
    servers?.stop();
    await stack?.close().catch(() => undefined);
    await topo?.close();
  });

  it('without the exception path, S\'s kernel does not answer TCP on the stack\'s port', async () => {
    const { s, p } = topo;
    // S's kernel has the address on a live interface (as the exception interface will carry it; a veth
    // pair, this kernel has no dummy interfaces), yet vA is the stack's.
    await s.execOk('ip', ['link', 'add', EXC_IFACE, 'type', 'veth', 'peer', 'name', `${EXC_IFACE}p`]);
    await s.execOk('ip', ['addr', 'add', `${STACK_IP}/24`, 'dev', EXC_IFACE]);
    await s.execOk('ip', ['link', 'set', `${EXC_IFACE}p`, 'up']);
    await s.execOk('ip', ['link', 'set', EXC_IFACE, 'up']);
    const plain = await StackProcess.start(s, stackConfig(s, {}, mode));
    try {
      const r = await tcpEcho(p, TCP_LISTED, 'nobody');
      expect(r.code, r.out).not.toBe(0);
      expect(r.out).not.toMatch(/echo:/);
      expect(ctr(await plain.stats(), 'ip.noproto')).toBeGreaterThan(0);
    } finally {
      await plain.close();
      await s.execOk('ip', ['link', 'del', EXC_IFACE]);
    }
  }, 60_000);

  it('starts with the exception interface carrying the port\'s MAC, MTU and addresses', async () => {
    const { s } = topo;
    stack = await StackProcess.start(s, stackConfig(s, {
      vip_addr: '10.79.0.3/24',
      exception: 'tap',
      exception_tcp_port: `${TCP_LISTED}`,
      exception_udp_port: `${UDP_KERNEL}`,
    }, mode));
    const mac = stack.ports[0]?.mac ?? '';
    const link = await s.execOk('ip', ['-o', 'link', 'show', EXC_IFACE]);
    expect(link).toContain(`link/ether ${mac}`);
    expect(link).toMatch(/mtu 1500/);
    expect(link).toMatch(/[<,]UP[,>]/);
    const inet = await s.execOk('ip', ['-o', '-4', 'addr', 'show', EXC_IFACE]);
    expect(inet).toContain(`inet ${STACK_IP}/24 brd 10.77.0.255`);
    expect(inet).toContain('inet 10.79.0.3/24 brd 10.79.0.255'); // its vip_addr too
    expect(stack.ports[0]).toMatchObject({ exception: { kind: 'tap', iface: EXC_IFACE } });
    const text = await ffnet(stack.pid!, ['ifconfig']);
    expect(text.stdout, text.stderr).toContain(`\texception: tap ${EXC_IFACE} `);
    const json = await ffnet(stack.pid!, ['ifconfig', '--json']);
    expect((JSON.parse(json.stdout) as Array<{ exception: unknown }>)[0]?.exception).toEqual({ kind: 'tap', iface: EXC_IFACE });
  }, 60_000);

  it('a TCP client in P reaches the echo server in S\'s kernel, and P keeps the stack\'s MAC', async () => {
    const { p } = topo;
    const st = stack!;
    const mac = st.ports[0]?.mac ?? '';
    const before = await st.stats();
    const r = await tcpEcho(p, TCP_LISTED, 'hello kernel');
    expect(r.out).toContain('echo:hello kernel');
    expect(await peerNeighbourMac(p)).toBe(mac);
    const d = delta(before, await waitForStats(st, (x) => ctr(x, 'exception.from_kernel') > ctr(before, 'exception.from_kernel') + 2, 'kernel frames out'));
    expect(d['exception.to_kernel']).toBeGreaterThanOrEqual(4); // SYN, ACK, data, FIN at least
    expect(d['exception.from_kernel']).toBeGreaterThanOrEqual(3); // SYN-ACK, data, FIN
    expect(d['exception.dropped_full']).toBe(0);
    expect(d['ip.noproto']).toBe(0);
  }, 30_000);

  it('answers each ARP request once (the kernel\'s own replies are dropped and counted)', async () => {
    const { p } = topo;
    const st = stack!;
    const mac = st.ports[0]?.mac ?? '';
    const cap = await tcpdumpLines(p, 'vB', ['-Q', 'in'], ['arp', 'and', 'src', 'host', STACK_IP]);
    const before = await st.stats();
    const a = await p.exec('arping', ['-c', '3', '-W', '0.3', '-I', 'vB', STACK_IP], { timeoutMs: 15_000 });
    expect(a.stdout).toMatch(/Received 3 response|3 packets received|3 received/);
    await sleep(500);
    const lines = (await cap.stop()).filter((l) => /Reply/.test(l));
    expect(lines, lines.join('\n')).toHaveLength(3);
    for (const l of lines) expect(l).toContain(mac);
    const d = delta(before, await st.stats());
    expect(d['arp.replies_out']).toBe(3);
    expect(d['exception.copies']).toBeGreaterThanOrEqual(3);
    expect(d['exception.kernel_dup']).toBeGreaterThanOrEqual(3);
    expect(await peerNeighbourMac(p)).toBe(mac);
  }, 30_000);

  it('drops and counts TCP to a port exception_tcp_port does not list', async () => {
    const st = stack!;
    const before = await st.stats();
    const r = await tcpEcho(topo.p, TCP_UNLISTED, 'filtered');
    expect(r.code, r.out).not.toBe(0);
    expect(r.out).not.toMatch(/echo:/);
    const d = delta(before, await st.stats());
    expect(d['exception.filtered']).toBeGreaterThanOrEqual(1);
  }, 30_000);

  it('UDP: a stack socket\'s port is the stack\'s, unbound and exception_udp_port ports are the kernel\'s', async () => {
    const { p } = topo;
    const st = stack!;
    const fd = await st.udpSocket({ address: STACK_IP, port: UDP_STACK });
    const fd2 = await st.udpSocket({ address: STACK_IP, port: UDP_KERNEL });
    const before = await st.stats();
    await udpSend(p, UDP_STACK, 'to-stack');
    const got = await st.udpRecv(fd, { timeoutMs: 3_000 });
    expect(got.datagrams.map((g) => Buffer.from(g.hex ?? '', 'hex').toString())).toEqual(['to-stack']);
    await udpSend(p, UDP_UNBOUND, 'to-kernel-unbound');
    await udpSend(p, UDP_KERNEL, 'to-kernel-listed');
    await topo.s.waitFor(async () => servers.output().includes('udp5303:to-kernel-listed'), 'the listed UDP port at the kernel', 5_000);
    await topo.s.waitFor(async () => servers.output().includes('udp5302:to-kernel-unbound'), 'the unbound UDP port at the kernel', 5_000);
    expect(servers.output()).not.toContain('udp5301:');
    const d = delta(before, await st.stats());
    expect(d['udp.noport']).toBe(0);
    expect(d['exception.to_kernel']).toBeGreaterThanOrEqual(2);
    void fd2;
  }, 30_000);

  it('counts a flood beyond exception_queue in exception.dropped_full', async () => {
    const { s, p } = topo;
    await stack?.close();
    stack = await StackProcess.start(s, stackConfig(s, { exception: 'tap', exception_queue: 8 }, mode));
    const st = stack;
    const before = await st.stats();
    await udpSend(p, 5399, 'x'.repeat(32), 3000);
    // What the device itself missed (its ring overflowed too) never reached the stack: count from udp.rx.
    let last = -1;
    await s.waitFor(async () => last === (last = ctr(await st.stats(), 'udp.rx')), 'the flood to settle', 10_000, 300);
    const d = delta(before, await st.stats());
    expect(d['udp.rx']).toBeGreaterThan(1000);
    expect(d['udp.noport']).toBe(0);
    expect(d['exception.dropped_full']).toBeGreaterThan(0);
    // Every datagram went to the kernel's queue or was counted as dropped at it (ARP copies add to to_kernel).
    expect(d['exception.to_kernel'] + d['exception.dropped_full']).toBeGreaterThanOrEqual(d['udp.rx']!);
  }, 60_000);

  it('IPv6: a TCP client in P reaches S\'s kernel at the port\'s addr6, and P keeps the stack\'s MAC for it', async () => {
    const { s, p } = topo;
    await p.execOk('sysctl', ['-qw', 'net.ipv6.conf.vB.accept_dad=0', 'net.ipv6.conf.vB.disable_ipv6=0']);
    await p.execOk('ip', ['-6', 'addr', 'add', `${PEER_IP6}/64`, 'dev', 'vB', 'nodad']);
    await stack?.close();
    stack = await StackProcess.start(s, stackConfig(s, { exception: 'tap', ipv6: 1, addr6: [`${STACK_IP6}/64`] }, mode));
    const st = stack;
    const mac = st.ports[0]?.mac ?? '';
    expect(await s.execOk('ip', ['-o', '-6', 'addr', 'show', EXC_IFACE])).toContain(`inet6 ${STACK_IP6}/64`);
    const server = s.spawn(process.execPath, ['-e', `
      require('net').createServer((c) => c.pipe(c)).listen(${TCP6}, '::', () => console.log('listening'));
      setTimeout(() => process.exit(0), 60000);
    `]);
    let out = '';
    server.stdout?.setEncoding('utf8').on('data', (d: string) => (out += d));
    try {
      await s.waitFor(async () => out.includes('listening'), 'the IPv6 server in S', 10_000);
      const before = await st.stats();
      const r = await nodeRun(p, `
        const c = require('net').connect(${TCP6}, '${STACK_IP6}');
        c.setTimeout(4000, () => { console.log('timeout'); process.exit(2); });
        c.on('connect', () => c.write('hello six'));
        c.on('data', (d) => { console.log('echo:' + d); c.destroy(); process.exit(0); });
        c.on('error', (e) => { console.log('error:' + e.code); process.exit(1); });
      `);
      expect(r.out).toContain('echo:hello six');
      const neigh = await p.execOk('ip', ['-6', 'neigh', 'show', STACK_IP6, 'dev', 'vB']);
      expect(neigh).toContain(`lladdr ${mac}`);
      const d = delta(before, await st.stats());
      expect(d['exception.to_kernel']).toBeGreaterThanOrEqual(4);
      expect(d['exception.from_kernel']).toBeGreaterThanOrEqual(3);
      expect(d['ip6.badexthdr']).toBe(0);
    } finally {
      server.kill('SIGKILL');
    }
  }, 60_000);

  it.skipIf(existsSync('/dev/vhost-net'))('exception = virtio-user without /dev/vhost-net fails to start, naming the key and the fix '
    + '(skipped where vhost_net is loaded: the success case below runs instead)', async () => {
    await stack?.close();
    stack = undefined;
    const err = await StackProcess.start(topo.s, stackConfig(topo.s, { exception: 'virtio-user' }, mode)).then(
      () => new Error('started'),
      (e: Error) => e,
    );
    expect(err.message).toContain('[port0] exception = virtio-user: /dev/vhost-net is missing');
    expect(err.message).toContain('modprobe vhost_net');
  }, 60_000);

  it.skipIf(!existsSync('/dev/vhost-net'))('exception = virtio-user carries TCP (needs /dev/vhost-net: this kernel has no vhost_net)', async () => {
    await stack?.close();
    stack = await StackProcess.start(topo.s, stackConfig(topo.s, { exception: 'virtio-user' }, mode));
    const r = await tcpEcho(topo.p, TCP_LISTED, 'virtio');
    expect(r.out).toContain('echo:virtio');
  }, 60_000);
});

/**
 * On a net_tap port, which has RX interrupts: an idle lcore 0 sleeps in epoll, and what the kernel
 * sends on the exception interface must wake it (its queue's fd is in the set) — a TCP exchange with
 * S's kernel goes through while the stack is otherwise idle. The port's tap is moved to P.
 */
describe.each(LCORE_MODES)('exception path on a port with RX interrupts ($name)', (mode) => {
  it('a TCP client in P reaches S\'s kernel after the stack has gone idle', async () => {
    requireRoot();
    const s = await Netns.create('exc-tap-s');
    const p = await Netns.create('exc-tap-p');
    let st: StackProcess | undefined;
    let server: ReturnType<typeof kernelServers> | undefined;
    try {
      for (const ns of [s, p]) await ns.execOk('sysctl', ['-qw', 'net.ipv6.conf.default.disable_ipv6=1', 'net.ipv6.conf.all.disable_ipv6=1']);
      st = await StackProcess.start(s, {
        dpdk: { vdev: 'net_tap0,iface=ffp', file_prefix: uniquePrefix('exc-tap'), ...mode.dpdk },
        port0: { addr: STACK_IP, netmask: '255.255.255.0', ipv6: 0, exception: 'tap' },
        sysctl: { 'net.inet6.ip6.accept_rtadv': 0 },
      });
      // The tap keeps its file descriptor (the stack's) when its interface moves to P.
      await s.execOk('ip', ['link', 'set', 'ffp', 'netns', p.name]);
      await p.execOk('ip', ['addr', 'add', `${PEER_IP}/24`, 'dev', 'ffp']);
      await p.execOk('ip', ['link', 'set', 'ffp', 'up']);
      server = kernelServers(s);
      await s.waitFor(async () => server!.output().includes('listening'), 'the kernel servers in S', 10_000);
      const sleeps = ctr(await st.stats(), 'loop.idle_sleeps');
      await sleep(1_500);
      // A data-path lcore counts its sleeps; inline, the JS thread sleeps on the stack's idle fd (uncounted).
      if (mode.dpdk.lcore_mask !== '0x1') expect(ctr(await st.stats(), 'loop.idle_sleeps')).toBeGreaterThan(sleeps);
      const r = await tcpEcho(p, TCP_LISTED, 'after a sleep');
      expect(r.out).toContain('echo:after a sleep');
      expect(ctr(await st.stats(), 'exception.from_kernel')).toBeGreaterThanOrEqual(3);
    } finally {
      server?.stop();
      await st?.close().catch(() => undefined);
      await s.destroy();
      await p.destroy();
    }
  }, 60_000);
});
