/**
 * A port's further addresses ([portN] vip_addr) with the Linux kernel as the peer over net_tap, in each
 * lcore mode: the stack at 10.77.0.2/24 with vip_addr = 10.77.0.3;10.78.0.3/24, the kernel's ff0 at
 * 10.77.0.1/24 and 10.78.0.1/24. Each address is announced by a gratuitous ARP at start, answers arping, ping and UDP to
 * a wildcard socket; a socket bound to one exchanges with the kernel both ways; the source of what an
 * unbound socket sends is the port's address on the destination's subnet (the primary first, as
 * Linux's `ip route get` gives on a host with the same addresses), seen by the kernel and by tcpdump,
 * as is the ARP request that resolves the kernel from the second subnet; stack.ports(),
 * Stack#networkInterfaces (os.networkInterfaces() under ffnet/register) and `ffnet ifconfig` list them;
 * `ffnet ifconfig port0 inet ADDR/LEN alias` adds one at run time and `inet ADDR -alias` removes it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KernelUdp } from '../../testbed/kernel-udp.js';
import type { Netns } from '../../testbed/netns.js';
import { StackProcess } from '../../testbed/stack-process.js';
import { ffnet } from '../tools/harness.js';
import { FdScope } from './udp-bench.js';
import {
  IFACE,
  KERNEL_IP,
  LCORE_MODES,
  STACK_IP,
  bringUp,
  parseArping,
  parsePing,
  peerConfig,
  quietNamespace,
  quietTx,
  tcpdumpLines,
  type LineCapture,
} from './kernel-peer.js';

/** A second address on the port's own subnet, and one on a subnet of its own. */
const VIP_SAME = '10.77.0.3';
const VIP_OWN = '10.78.0.3';
const KERNEL_IP2 = '10.78.0.1';
const ADDRESSES = [STACK_IP, VIP_SAME, VIP_OWN];
const esc = (s: string) => s.replace(/\./g, '\\.');

describe.each(LCORE_MODES)('several addresses on a port, with the kernel ($name)', (mode) => {
  let ns: Netns;
  let stack: StackProcess;
  let kern: KernelUdp;
  let fds: FdScope;
  let atStart: LineCapture;
  let nextPort = 42_000;

  beforeAll(async () => {
    ns = await quietNamespace('vip-kernel');
    // ff0 does not exist before the stack starts, and libpcap will not open an interface that is down.
    atStart = await tcpdumpLines(ns, 'any', [], ['arp']);
    stack = await StackProcess.start(ns, peerConfig(ns, { dpdk: mode.dpdk, port0: { vip_addr: `${VIP_SAME};${VIP_OWN}/24` } }));
    await ns.execOk('ip', ['addr', 'add', `${KERNEL_IP}/24`, 'dev', IFACE]);
    await ns.execOk('ip', ['addr', 'add', `${KERNEL_IP2}/24`, 'dev', IFACE]);
    await bringUp(ns, stack);
    await quietTx(stack);
    kern = await KernelUdp.start(ns);
    fds = new FdScope(stack);
  }, 60_000);
  afterAll(async () => {
    await atStart?.stop();
    kern?.close();
    await stack?.close();
    await ns?.destroy();
  });

  it('announces every address with a gratuitous ARP at start', async () => {
    for (const a of ADDRESSES) {
      const line = await atStart.waitForLine(new RegExp(`Request who-has ${esc(a)} tell ${esc(a)}\\b`), 3_000);
      expect(line.toLowerCase()).toContain(stack.ports[0]?.mac ?? 'no mac');
    }
    await atStart.stop();
  });

  it('lists the addresses in stack.ports()', async () => {
    const [port] = await stack.currentPorts();
    expect(port).toMatchObject({ addr: STACK_IP, netmask: '255.255.255.0', broadcast: '10.77.0.255' });
    expect(port?.addrs).toEqual([
      { addr: VIP_SAME, netmask: '255.255.255.0', broadcast: '10.77.0.255' },
      { addr: VIP_OWN, netmask: '255.255.255.0', broadcast: '10.78.0.255' },
    ]);
  });

  it('lists them as further IPv4 entries of the port in os.networkInterfaces()\'s shape', async () => {
    const mac = stack.ports[0]?.mac;
    const v4 = (await stack.networkInterfaces()).port0?.filter((e) => e.family === 'IPv4');
    expect(v4).toEqual([
      { address: STACK_IP, netmask: '255.255.255.0', family: 'IPv4', mac, internal: false, cidr: `${STACK_IP}/24` },
      { address: VIP_SAME, netmask: '255.255.255.0', family: 'IPv4', mac, internal: false, cidr: `${VIP_SAME}/24` },
      { address: VIP_OWN, netmask: '255.255.255.0', family: 'IPv4', mac, internal: false, cidr: `${VIP_OWN}/24` },
    ]);
  });

  it('shows them in ffnet ifconfig as further inet lines', async () => {
    const r = await ffnet(stack.pid!, ['ifconfig', 'port0']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(`\tinet ${STACK_IP} netmask 0xffffff00 broadcast 10.77.0.255\n`
      + `\tinet ${VIP_SAME} netmask 0xffffff00 broadcast 10.77.0.255\n\tinet ${VIP_OWN} netmask 0xffffff00 broadcast 10.78.0.255\n`);
  });

  it('takes a further address at run time with ffnet ifconfig inet ADDR/LEN alias, and lets it go with -alias', async () => {
    const alias = '10.79.0.3';
    await ns.execOk('ip', ['addr', 'add', '10.79.0.1/24', 'dev', IFACE]);
    const added = await ffnet(stack.pid!, ['ifconfig', 'port0', 'inet', `${alias}/24`, 'alias']);
    expect(added.code, added.stderr).toBe(0);
    expect(added.stdout).toContain(`\tinet ${alias} netmask 0xffffff00 broadcast 10.79.0.255\n`);
    expect((await stack.currentPorts())[0]?.addrs.map((a) => a.addr)).toEqual([VIP_SAME, VIP_OWN, alias]);
    const on = parsePing((await ns.exec('ping', ['-c', '2', '-i', '0.2', '-W', '1', alias], { timeoutMs: 15_000 })).stdout);
    expect(on.replyFrom).toEqual([alias, alias]);
    const again = await ffnet(stack.pid!, ['ifconfig', 'port0', 'inet', `${alias}/24`, 'alias']);
    expect([again.code, again.stderr]).toEqual([1, `ffnet ifconfig: ${alias}/24 is already an address of the stack\n`]);
    const removed = await ffnet(stack.pid!, ['ifconfig', 'port0', 'inet', alias, '-alias']);
    expect(removed.code, removed.stderr).toBe(0);
    expect(removed.stdout).not.toContain(alias);
    await ns.execOk('ip', ['neigh', 'flush', 'dev', IFACE]);
    const off = parsePing((await ns.exec('ping', ['-c', '1', '-W', '1', alias], { timeoutMs: 15_000 })).stdout);
    expect(off.received).toBe(0);
    await ns.execOk('ip', ['addr', 'del', '10.79.0.1/24', 'dev', IFACE]);
  });

  it.each([VIP_SAME, VIP_OWN])('answers arping for %s with its MAC', async (vip) => {
    const r = await ns.exec('arping', ['-c', '2', '-W', '0.2', '-i', IFACE, vip], { timeoutMs: 15_000 });
    const a = parseArping(r.stdout);
    expect(a.received, r.stdout + r.stderr).toBe(2);
    for (const rep of a.replies) expect(rep).toEqual({ mac: stack.ports[0]?.mac, ip: vip });
  });

  it.each([VIP_SAME, VIP_OWN])('answers ping to %s from that address', async (vip) => {
    const r = await ns.exec('ping', ['-c', '2', '-i', '0.2', '-W', '1', vip], { timeoutMs: 15_000 });
    const p = parsePing(r.stdout);
    expect(p.received, r.stdout + r.stderr).toBe(2);
    expect(p.replyFrom).toEqual([vip, vip]);
  });

  it('delivers datagrams to every address to a wildcard socket', async () => {
    const port = nextPort++;
    const fd = await fds.udp({ address: '0.0.0.0', port });
    const sent: string[] = [];
    for (const [dst, from] of [[STACK_IP, KERNEL_IP], [VIP_SAME, KERNEL_IP], [VIP_OWN, KERNEL_IP2]] as const) {
      const { sid } = await kern.socket({ address: from });
      const s = await kern.send(sid, { to: { address: dst, port }, size: 40, count: 1, pattern: 'random', startSeq: sent.length });
      expect(s.errors).toEqual([]);
      sent.push(...s.sha1);
      await kern.closeSocket(sid);
    }
    const r = await stack.udpRecv(fd, { count: 3, timeoutMs: 3_000 });
    expect(r.datagrams.map((d) => [d.address, d.sha1])).toEqual([[KERNEL_IP, sent[0]], [KERNEL_IP, sent[1]], [KERNEL_IP2, sent[2]]]);
  });

  it('replies from a wildcard socket by route, not from the address asked, as Linux', async () => {
    const port = nextPort++;
    const fd = await fds.udp({ address: '0.0.0.0', port });
    const { sid, port: kport } = await kern.socket({ address: KERNEL_IP });
    await kern.send(sid, { to: { address: VIP_SAME, port }, size: 16, count: 1 });
    const [asked] = (await stack.udpRecv(fd, { count: 1, timeoutMs: 3_000 })).datagrams;
    expect([asked?.address, asked?.port]).toEqual([KERNEL_IP, kport]);
    await stack.udpSend(fd, { to: { address: KERNEL_IP, port: kport }, size: 16, count: 1 });
    const [reply] = (await kern.recv(sid, { count: 1, timeoutMs: 3_000 })).datagrams;
    // Linux's too (two namespaces, 10.77.0.2/24 and 10.77.0.3/24 on one veth end): the reply leaves from the
    // route's source, 10.77.0.2; IP_PKTINFO is how a program answers from the address asked.
    expect([reply?.address, reply?.port]).toEqual([STACK_IP, port]);
    await kern.closeSocket(sid);
  });

  it('exchanges both ways on a socket bound to an address of its own subnet', async () => {
    const port = nextPort++;
    const fd = await fds.udp({ address: VIP_OWN, port });
    const { sid, port: kport } = await kern.socket({ address: KERNEL_IP2 });
    const inbound = await kern.send(sid, { to: { address: VIP_OWN, port }, size: 100, count: 2, pattern: 'random', startSeq: 7 });
    const r = await stack.udpRecv(fd, { count: 2, timeoutMs: 3_000 });
    expect(r.datagrams.map((d) => [d.address, d.port, d.sha1])).toEqual(inbound.sha1.map((h) => [KERNEL_IP2, kport, h]));
    const outbound = await stack.udpSend(fd, { to: { address: KERNEL_IP2, port: kport }, size: 100, count: 2, pattern: 'random', startSeq: 9 });
    const k = await kern.recv(sid, { count: 2, timeoutMs: 3_000 });
    expect(k.datagrams.map((d) => [d.address, d.port, d.sha1])).toEqual(outbound.sha1!.map((h) => [VIP_OWN, port, h]));
    // A datagram to another of the port's addresses is not for a socket bound to this one.
    const { sid: other } = await kern.socket({ address: KERNEL_IP });
    await kern.send(other, { to: { address: VIP_SAME, port }, size: 10, count: 1 });
    expect((await stack.udpRecv(fd, { count: 1, timeoutMs: 300 })).datagrams).toEqual([]);
    await kern.closeSocket(other);
    await kern.closeSocket(sid);
  });

  it('sends from the address on the destination\'s subnet when unbound, and resolves from it', async () => {
    // Forget the kernel's MAC on the second subnet (learned from its requests above), so that it is resolved again.
    await stack.deleteNeighbour(0, KERNEL_IP2).catch(() => false);
    const cap = await tcpdumpLines(ns, IFACE, [], ['arp', 'or', 'udp']);
    const fd = await fds.udp({ address: '0.0.0.0', port: nextPort++ });
    const got: Array<[string, string]> = [];
    for (const dst of [KERNEL_IP2, KERNEL_IP]) {
      const { sid, port: kport } = await kern.socket({ address: dst });
      await stack.udpSend(fd, { to: { address: dst, port: kport }, size: 20, count: 1 });
      const k = await kern.recv(sid, { count: 1, timeoutMs: 3_000 });
      got.push([dst, k.datagrams[0]?.address ?? 'nothing']);
      await kern.closeSocket(sid);
    }
    // As `ip route get` on Linux with 10.77.0.2/24, 10.77.0.3/24 (secondary) and 10.78.0.3/24; this is also how a
    // wildcard socket's reply to a datagram received on 10.77.0.3 leaves (Linux picks it by route, not by the address asked).
    expect(got).toEqual([[KERNEL_IP2, VIP_OWN], [KERNEL_IP, STACK_IP]]);
    await cap.waitForLine(new RegExp(` ${esc(VIP_OWN)}\\.\\d+ > ${esc(KERNEL_IP2)}\\.\\d+: UDP, length 20`), 2_000);
    await cap.waitForLine(new RegExp(` ${esc(STACK_IP)}\\.\\d+ > ${esc(KERNEL_IP)}\\.\\d+: UDP, length 20`), 2_000);
    const lines = await cap.stop();
    // The stack resolved the kernel's second address from its own address on that subnet.
    const asked = lines.filter((l) => new RegExp(`Request who-has ${esc(KERNEL_IP2)} tell`).test(l));
    expect(asked.length, lines.join('\n')).toBeGreaterThanOrEqual(1);
    for (const l of asked) expect(l).toMatch(new RegExp(`tell ${esc(VIP_OWN)}\\b`));
  });
});
