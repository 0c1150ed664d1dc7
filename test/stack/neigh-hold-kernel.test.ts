/**
 * Packets held for a neighbour being resolved, bounded by bytes as Linux bounds them
 * (net.link.ether.inet.maxhold_bytes, net.inet6.icmp6.nd6_maxqueuelen_bytes; 212992 by default, as
 * unres_qlen_bytes), over net_tap with the Linux kernel as the neighbour, in each lcore mode:
 *
 * - a burst of 2000 small datagrams (64 and 100 bytes), sent as fast as the application can, from
 *   an ff socket to a kernel address the stack has not resolved yet (IPv4: ARP, IPv6: Neighbor Discovery): the kernel
 *   listener receives at least 90 % of them, and what it received plus what the stack and the
 *   kernel counted as dropped accounts for every datagram;
 * - for a neighbour that never answers, `neighbours()` and `ffnet arp -a` / `ndp -a` show what is
 *   held (packets and bytes, the bytes within the bound), the rest is counted in hold_dropped, a bound
 *   lowered at run time (`ffnet sysctl -w`) applies from the next packet, and deleting the entry drops
 *   and counts what it held.
 *
 * For reference, the same burst from a Linux UDP socket to a new neighbour over a veth pair between
 * two namespaces; both results are logged.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KernelUdp } from '../../testbed/kernel-udp.js';
import { Netns, requireRoot } from '../../testbed/netns.js';
import { StackProcess } from '../../testbed/stack-process.js';
import { ffnet } from '../tools/harness.js';
import { IFACE, KERNEL_IP, LCORE_MODES, NETMASK, STACK_IP, bringUp, ctr, delta, peerConfig, quietTx, waitForStats } from './kernel-peer.js';

const STACK_IP6 = '2001:db8:68::2';
const KERNEL_IP6 = '2001:db8:68::1';
const NOBODY_IP = '10.77.0.99';
const NOBODY_IP6 = '2001:db8:68::99';
const BURST = 2000;
/** Payload bytes of the burst's datagrams (statsd metric lines' sizes). */
const PAYLOADS = [64, 100];
/** Payload bytes of the datagrams held for a silent neighbour. */
const PAYLOAD = 64;
/** Linux's unres_qlen_bytes, the default of both byte bounds. */
const DEFAULT_HOLD_BYTES = 212992;
const ETH_HLEN = 14;
const UDP_HLEN = 8;

/** One family's names: addresses, the neighbour counters' prefix, its byte bound and its headers' size. */
interface Family {
  name: 'IPv4' | 'IPv6';
  nobody: string;
  ctr: 'arp' | 'nd6';
  bytesSysctl: string;
  socket: 'udp4' | 'udp6';
  /** The ffnet command listing the family's neighbour cache. */
  tool: 'arp' | 'ndp';
  /** Bytes of a frame's headers: Ethernet, IP and UDP (a held datagram is charged these and its payload). */
  headers: number;
  /** Kernel addresses for the bursts, one per payload size, each a neighbour the stack never met. */
  burstTargets: string[];
}

const FAMILIES: Family[] = [
  { name: 'IPv4', nobody: NOBODY_IP, ctr: 'arp', bytesSysctl: 'net.link.ether.inet.maxhold_bytes', socket: 'udp4', tool: 'arp', headers: ETH_HLEN + 20 + UDP_HLEN, burstTargets: ['10.77.0.11', '10.77.0.12'] },
  { name: 'IPv6', nobody: NOBODY_IP6, ctr: 'nd6', bytesSysctl: 'net.inet6.icmp6.nd6_maxqueuelen_bytes', socket: 'udp6', tool: 'ndp', headers: ETH_HLEN + 40 + UDP_HLEN, burstTargets: ['2001:db8:68::11', '2001:db8:68::12'] },
];
const BURSTS = FAMILIES.flatMap((fam) => PAYLOADS.map((payload, i) => ({ fam, payload, target: fam.burstTargets[i] ?? '' })));

/** The kernel's UDP receive drops in a namespace (RcvbufErrors + InErrors of both families). */
async function kernelUdpDrops(ns: Netns): Promise<number> {
  const snmp = (await ns.exec('cat', ['/proc/net/snmp'])).stdout.split('\n').filter((l) => l.startsWith('Udp:'));
  const names = (snmp[0] ?? '').split(/\s+/);
  const values = (snmp[1] ?? '').split(/\s+/).map(Number);
  const v4 = (n: string): number => values[names.indexOf(n)] ?? 0;
  const snmp6 = (await ns.exec('cat', ['/proc/net/snmp6'])).stdout;
  const v6 = (n: string): number => Number(new RegExp(`^${n}\\s+(\\d+)`, 'm').exec(snmp6)?.[1] ?? 0);
  return v4('RcvbufErrors') + v4('InErrors') + v6('Udp6RcvbufErrors') + v6('Udp6InErrors');
}

/** Datagrams the kernel socket `sid` received, waiting until none came for 300 ms (5 s at most). */
async function drain(kern: KernelUdp, sid: number, expected: number): Promise<number> {
  let got = 0;
  const until = Date.now() + 5_000;
  while (got < expected && Date.now() < until) {
    const r = await kern.recv(sid, { count: expected - got, timeoutMs: 300 });
    got += r.datagrams.length;
    if (r.datagrams.length === 0) break;
  }
  return got;
}

/**
 * Linux's own result for the burst: a UDP socket in namespace A sends BURST datagrams as fast as Node
 * lets it (sends issued back to back, libuv queueing what the send buffer refuses) to an address in
 * namespace B across a veth pair, B's kernel never contacted before. Returns what B received and the
 * sender's errors.
 */
async function linuxReference(fam: Family, payload: number): Promise<{ delivered: number; errors: number }> {
  const a = await Netns.create(`nhref-a-${fam.socket}`);
  const b = await Netns.create(`nhref-b-${fam.socket}`);
  let kern: KernelUdp | undefined;
  try {
    const [ipA, ipB, plen] = fam.name === 'IPv4' ? ['10.79.0.1', '10.79.0.2', '24'] : ['2001:db8:79::1', '2001:db8:79::2', '64'];
    await a.execOk('ip', ['link', 'add', 'vA', 'type', 'veth', 'peer', 'name', 'vB', 'netns', b.name]);
    for (const [ns, iface, ip] of [[a, 'vA', ipA], [b, 'vB', ipB]] as const) {
      await ns.execOk('ip', ['addr', 'add', `${ip}/${plen}`, 'dev', iface, ...(fam.name === 'IPv6' ? ['nodad'] : [])]);
      await ns.execOk('ip', ['link', 'set', iface, 'up']);
    }
    kern = await KernelUdp.start(b);
    const { sid, port } = await kern.socket({ address: ipB }, { type: fam.socket, recvBufferSize: 8 << 20 });
    const script = `
      const s = require('node:dgram').createSocket(process.argv[1]);
      let done = 0, errors = 0;
      const buf = Buffer.alloc(${payload}, 0x61);
      for (let i = 0; i < ${BURST}; i++) s.send(buf, Number(process.argv[3]), process.argv[2], (e) => {
        if (e) errors++;
        if (++done === ${BURST}) { console.log(JSON.stringify({ errors })); s.close(); }
      });`;
    const out = await a.execOk(process.execPath, ['-e', script, fam.socket, ipB, String(port)], { timeoutMs: 20_000 });
    const { errors } = JSON.parse(out.trim().split('\n').pop() ?? '{}') as { errors: number };
    return { delivered: await drain(kern, sid, BURST), errors };
  } finally {
    kern?.close();
    await Promise.all([a.destroy(), b.destroy()]);
  }
}

describe.each(LCORE_MODES)('neighbour hold queues bounded by bytes ($name)', (mode) => {
  let ns: Netns;
  let stack: StackProcess;
  let kern: KernelUdp;
  let kport = 7700;

  beforeAll(async () => {
    requireRoot();
    ns = await Netns.create(`nhold-${mode.name}`.replace(/[^a-z0-9-]/gi, '').slice(0, 24));
    stack = await StackProcess.start(ns, peerConfig(ns, { dpdk: mode.dpdk, port0: { addr: STACK_IP, netmask: NETMASK, addr6: `${STACK_IP6}/64` } }), { readyTimeoutMs: 30_000 });
    await ns.execOk('ip', ['addr', 'add', `${KERNEL_IP}/24`, 'dev', IFACE]);
    await ns.execOk('ip', ['-6', 'addr', 'add', `${KERNEL_IP6}/64`, 'dev', IFACE, 'nodad']);
    for (const fam of FAMILIES) {
      for (const target of fam.burstTargets) {
        await ns.execOk('ip', [...(fam.name === 'IPv6' ? ['-6'] : []), 'addr', 'add', `${target}/${fam.name === 'IPv6' ? 64 : 24}`, 'dev', IFACE, ...(fam.name === 'IPv6' ? ['nodad'] : [])]);
      }
    }
    await bringUp(ns, stack);
    await quietTx(stack);
    kern = await KernelUdp.start(ns);
  }, 60_000);
  afterAll(async () => {
    kern?.close();
    await stack?.close().catch(() => undefined);
    await ns?.destroy();
  });

  it.each(BURSTS)('holds a burst of 2000 $payload-byte datagrams to a new $fam.name neighbour as Linux does', async ({ fam, payload, target }) => {
    expect((await stack.neighbours()).find((n) => n.addr === target), 'the kernel address is not resolved yet').toBeUndefined();
    expect(await stack.sysctl(fam.bytesSysctl)).toBe(DEFAULT_HOLD_BYTES);
    const K = await stack.constants();
    const { sid, port } = await kern.socket({ address: target, port: kport++ }, { type: fam.socket, recvBufferSize: 8 << 20 });
    const fd = await stack.posix<number>('ff_socket', fam.name === 'IPv4' ? K.AF_INET : K.AF_INET6, K.SOCK_DGRAM, 0);
    const kernelDropsBefore = await kernelUdpDrops(ns);
    const before = await stack.stats();
    const sent = await stack.udpSend(fd, { to: { address: target, port }, size: payload, count: BURST });
    expect(sent.sent).toBe(BURST);
    const after = await waitForStats(stack, (s) => ctr(s, 'udp.tx') - ctr(before, 'udp.tx') >= BURST, 'the burst to leave the socket');
    const delivered = await drain(kern, sid, BURST);
    await stack.posix('ff_close', fd);
    await kern.closeSocket(sid);
    const d = delta(before, await stack.stats());
    const kernelDrops = (await kernelUdpDrops(ns)) - kernelDropsBefore;
    const holdDropped = d[`${fam.ctr}.hold_dropped`] ?? 0;
    const reference = await linuxReference(fam, payload);
    console.log(
      `${fam.name} burst of ${BURST} × ${payload} B (${mode.name}): ffnet delivered ${delivered} ` +
        `(${fam.ctr}.hold_dropped ${holdDropped}, hold_memdrop ${d[`${fam.ctr}.hold_memdrop`]}, kernel receive drops ${kernelDrops}); ` +
        `Linux over veth delivered ${reference.delivered} (send errors ${reference.errors})`,
    );
    expect((await stack.neighbours()).find((n) => n.addr === target)).toMatchObject({ state: 'reachable', held: 0, heldBytes: 0 });
    expect(delivered).toBeGreaterThanOrEqual(BURST * 0.9);
    expect(d[`${fam.ctr}.hold_memdrop`], 'the default pool holds the burst').toBe(0);
    const stackDrops = holdDropped + (d['udp.tx_errors'] ?? 0) + (d['eth.tx_dropped'] ?? 0) + (d['ip.noroute'] ?? 0) + (d['ip6.noroute'] ?? 0);
    expect(delivered + stackDrops + kernelDrops, JSON.stringify({ delivered, stackDrops, kernelDrops })).toBe(BURST);
    expect(ctr(after, 'udp.tx') - ctr(before, 'udp.tx')).toBe(BURST);
  }, 60_000);

  it.each(FAMILIES)('shows what it holds for a silent $name neighbour and drops the oldest past the byte bound', async (fam) => {
    const K = await stack.constants();
    const fd = await stack.posix<number>('ff_socket', fam.name === 'IPv4' ? K.AF_INET : K.AF_INET6, K.SOCK_DGRAM, 0);
    const before = await stack.stats();
    const count = 2500;
    await stack.udpSend(fd, { to: { address: fam.nobody, port: 9 }, size: PAYLOAD, count });
    await waitForStats(stack, (s) => ctr(s, 'udp.tx') - ctr(before, 'udp.tx') >= count, 'the datagrams to leave the socket');
    const frame = fam.headers + PAYLOAD;
    const fits = Math.floor(DEFAULT_HOLD_BYTES / frame);
    const held = (await stack.neighbours()).find((n) => n.addr === fam.nobody);
    expect(held).toMatchObject({ state: 'incomplete', held: fits, heldBytes: fits * frame });
    const pid = stack.pid ?? 0;
    const listed = await ffnet(pid, [fam.tool, '-a']);
    expect(listed.stdout.split('\n').find((l) => l.includes(fam.nobody)), listed.stdout + listed.stderr).toContain(`holding ${fits} packets (${fits * frame} bytes)`);
    let d = delta(before, await stack.stats());
    expect(d[`${fam.ctr}.hold_dropped`]).toBe(count - fits);
    expect(d[`${fam.ctr}.hold_memdrop`]).toBe(0);

    // Lowered at run time, the bound applies from the next packet on: the oldest make room for it.
    const set = await ffnet(pid, ['sysctl', '-w', `${fam.bytesSysctl}=${100 * frame}`]);
    expect(set).toMatchObject({ code: 0, stdout: `${fam.bytesSysctl}: ${DEFAULT_HOLD_BYTES} -> ${100 * frame}\n` });
    await stack.udpSend(fd, { to: { address: fam.nobody, port: 9 }, size: PAYLOAD, count: 1 });
    await waitForStats(stack, (s) => ctr(s, 'udp.tx') - ctr(before, 'udp.tx') >= count + 1, 'one more datagram to leave the socket');
    expect((await stack.neighbours()).find((n) => n.addr === fam.nobody)).toMatchObject({ held: 100, heldBytes: 100 * frame });
    d = delta(before, await stack.stats());
    expect(d[`${fam.ctr}.hold_dropped`]).toBe(count + 1 - 100);

    // Deleting the entry drops (and counts) what it held.
    expect(await stack.deleteNeighbour(0, fam.nobody)).toBe(true);
    d = delta(before, await stack.stats());
    expect(d[`${fam.ctr}.hold_dropped`]).toBe(count + 1);
    await stack.sysctl(fam.bytesSysctl, DEFAULT_HOLD_BYTES);
    await stack.posix('ff_close', fd);
  }, 30_000);
});

