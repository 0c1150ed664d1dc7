/**
 * Malformed frames against a running stack, in each lcore mode. Every kernel-injectable frame of
 * testbed's malformedFrames() is sent on ff0 with inject-frame, one at a time; each must bump its
 * named drop counter by exactly one (random bytes: exactly one drop counter, the one the frame's
 * Ethernet header decides when it decides), send nothing, and leave the stack answering the
 * kernel's ping. The 10-byte runt cannot cross a tap, so a second stack reads it (with a good echo
 * request after it) from a pcap file through a net_pcap port, inside a namespace, with no peer.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  BROADCAST_MAC,
  ETHERTYPE,
  ICMP_TYPE,
  IPPROTO,
  echoRequestFrame,
  macBytes,
  macString,
  malformedFrames,
  pattern,
  readPcap,
  toHex,
  writePcap,
  type MalformedFrame,
} from '../../testbed/frames.js';
import type { Netns } from '../../testbed/netns.js';
import { StackProcess } from '../../testbed/stack-process.js';
import {
  IFACE,
  KERNEL_IP,
  LCORE_MODES,
  NETMASK,
  STACK_IP,
  ctr,
  delta,
  haveInjectFrame,
  injectFramePath,
  kernelPeer,
  parsePing,
  quietNamespace,
  uniquePrefix,
  waitForStats,
  type KernelPeer,
} from './kernel-peer.js';

/** Every counter that records a received frame being dropped. */
const DROP_COUNTERS = [
  'eth.runt',
  'eth.not_ours',
  'eth.unknown_type',
  'eth.vlan_mismatch',
  'arp.badlen',
  'arp.unsupported',
  'ip.toosmall',
  'ip.badvers',
  'ip.badhlen',
  'ip.badlen',
  'ip.badsum',
  'ip.ttl_zero',
  'ip.martian',
  'ip.not_ours',
  'ip.frag_dropped',
  'ip.noproto',
  'icmp.tooshort',
  'icmp.badsum',
];

/**
 * The counter a frame must bump as far as its Ethernet header decides it, or null when the frame
 * reaches ARP or IPv4 and one of their drop counters must.
 */
function ethernetVerdict(frame: Buffer, ourMac: string): string | null {
  if (frame.length < 14) return 'eth.runt';
  const dst = frame.subarray(0, 6);
  if (!dst.equals(macBytes(ourMac)) && ((dst[0] ?? 0) & 1) === 0) return 'eth.not_ours';
  const type = frame.readUInt16BE(12);
  // A tagged frame on this untagged port (a priority tag, VID 0, counts as untagged: not in the catalogue).
  if (type === ETHERTYPE.VLAN) return 'eth.vlan_mismatch';
  if (type !== ETHERTYPE.IPV4 && type !== ETHERTYPE.ARP) return 'eth.unknown_type';
  return null;
}

function dropsOf(d: Record<string, number>): Record<string, number> {
  return Object.fromEntries(DROP_COUNTERS.map((k) => [k, d[k] ?? 0]).filter(([, v]) => v !== 0));
}

describe.each(LCORE_MODES)('malformed frames from the kernel side ($name)', (mode) => {
  let peer: KernelPeer;
  let catalogue: MalformedFrame[];

  beforeAll(async () => {
    if (!haveInjectFrame()) throw new Error(`${injectFramePath} not found: run npm run build`);
    peer = await kernelPeer('bad-frames', { dpdk: mode.dpdk });
    catalogue = malformedFrames(peer.stackMac, STACK_IP, peer.kernelMac, KERNEL_IP).filter((m) => m.kernelInjectable);
  });
  afterAll(async () => {
    await peer?.close();
  });

  it('has kernel-injectable frames to send', () => {
    expect(catalogue.length).toBeGreaterThanOrEqual(15);
  });

  it.each(
    malformedFrames('02:00:00:00:00:02', STACK_IP, '02:00:00:00:00:01', KERNEL_IP)
      .filter((m) => m.kernelInjectable)
      .map((m, i) => [m.name, i] as const),
  )('drops and counts %s', async (_name, i) => {
    const { ns, stack, stackMac } = peer;
    const m = catalogue[i];
    if (!m) throw new Error(`no catalogue entry ${i}`);
    const before = await stack.stats();
    const portBefore = (await stack.currentPorts())[0];
    await ns.execOk(injectFramePath, [IFACE, toHex(m.frame)]);
    const after = await waitForStats(stack, (s) => ctr(s, 'eth.rx') > ctr(before, 'eth.rx'), `the stack to receive "${m.name}"`, 3_000);
    // A drop is counted in the same turn the frame is received; read once more to be sure nothing follows.
    const settled = await stack.stats();
    const d = delta(before, settled);
    const drops = dropsOf(d);
    expect(d['eth.rx'], `frames received for "${m.name}"`).toBe(1);
    expect(Object.values(drops).reduce((a, b) => a + b, 0), `drop counters for "${m.name}": ${JSON.stringify(drops)}`).toBe(1);
    const expected = m.counter ?? ethernetVerdict(m.frame, stackMac);
    if (expected !== null) expect(drops).toEqual({ [expected]: 1 });
    // Nothing was answered: no echo reply, no ARP reply, no ICMP error.
    expect(d['eth.tx']).toBe(0);
    expect(d['icmp.echo_in']).toBe(0);
    expect(d['arp.replies_out']).toBe(0);
    expect(d['icmp.errors_out']).toBe(0);
    const portAfter = (await stack.currentPorts())[0];
    expect(portAfter?.stats.opackets).toBe(portBefore?.stats.opackets);
    expect(ctr(after, 'eth.rx')).toBeGreaterThan(ctr(before, 'eth.rx'));
  });

  it('sends them all again in one burst and still answers the kernel\'s ping', async () => {
    const { ns, stack } = peer;
    const before = await stack.stats();
    const input = `${catalogue.map((m) => toHex(m.frame)).join('\n')}\n`;
    await ns.execOk(injectFramePath, [IFACE, '-'], { input });
    const after = await waitForStats(stack, (s) => ctr(s, 'eth.rx') - ctr(before, 'eth.rx') >= catalogue.length, 'the burst to arrive', 5_000);
    const d = delta(before, after);
    expect(Object.values(dropsOf(d)).reduce((a, b) => a + b, 0)).toBe(catalogue.length);
    const r = await ns.exec('ping', ['-c', '3', '-i', '0.2', '-W', '2', STACK_IP], { timeoutMs: 10_000 });
    expect(parsePing(r.stdout).received, r.stdout + r.stderr).toBe(3);
    expect(stack.exited).toBe(false);
  });
});

describe.each(LCORE_MODES)('a runt frame from a pcap file ($name)', (mode) => {
  const PCAP_MAC = '02:00:00:00:00:02';
  const PEER_MAC = '02:00:00:00:00:01';
  let ns: Netns;
  let stack: StackProcess;
  let dir: string;
  let txFile: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'ffnet-runt-'));
    const rxFile = join(dir, 'rx.pcap');
    txFile = join(dir, 'tx.pcap');
    const [runt] = malformedFrames(PCAP_MAC, STACK_IP, PEER_MAC, KERNEL_IP).filter((m) => !m.kernelInjectable);
    if (!runt) throw new Error('the catalogue has no runt frame');
    expect(runt.counter).toBe('eth.runt');
    expect(runt.frame.length).toBeLessThan(14);
    // The runt, then a good echo request sent to the broadcast MAC (the pcap port's own MAC is the PMD's).
    const echo = echoRequestFrame({ srcMac: PEER_MAC, dstMac: BROADCAST_MAC, srcIp: KERNEL_IP, dstIp: STACK_IP }, 0x77, 1, pattern(32));
    writeFileSync(rxFile, writePcap([runt.frame, echo]));
    ns = await quietNamespace('bad-runt');
    stack = await StackProcess.start(ns, {
      dpdk: { ...mode.dpdk, vdev: `net_pcap0,rx_pcap=${rxFile},tx_pcap=${txFile}`, file_prefix: uniquePrefix('bad-runt') },
      // The peer is static, so the echo reply goes out without ARP.
      port0: { addr: STACK_IP, netmask: NETMASK, arp: [`${KERNEL_IP} ${PEER_MAC}`] },
    });
  });
  afterAll(async () => {
    await stack?.close();
    await ns?.destroy();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('counts the runt in eth.runt and still answers the good frame after it', async () => {
    expect(stack.ports[0]?.driver).toBe('net_pcap');
    const s = await waitForStats(stack, (x) => ctr(x, 'eth.rx') >= 2 && ctr(x, 'icmp.echo_reply_out') >= 1, 'both frames of the pcap file', 5_000);
    expect(ctr(s, 'eth.rx')).toBe(2);
    expect(ctr(s, 'eth.runt')).toBe(1);
    expect(dropsOf(s.counters)).toEqual({ 'eth.runt': 1 });
    expect(ctr(s, 'icmp.echo_in')).toBe(1);
    expect(ctr(s, 'icmp.echo_reply_out')).toBe(1);
    expect(stack.exited).toBe(false);
    // The reply reached the tx_pcap file: to the static peer, from the stack, echo reply id 0x77 seq 1.
    await ns.waitFor(
      async () => readPcap(readFileSync(txFile)).some((f) => f.readUInt16BE(12) === ETHERTYPE.IPV4),
      'the echo reply in tx.pcap',
      5_000,
    );
    const reply = readPcap(readFileSync(txFile)).find((f) => f.readUInt16BE(12) === ETHERTYPE.IPV4);
    if (!reply) throw new Error('no IPv4 frame in tx.pcap');
    expect(macString(reply.subarray(0, 6))).toBe(PEER_MAC);
    expect(macString(reply.subarray(6, 12))).toBe(stack.ports[0]?.mac);
    expect(reply[23]).toBe(IPPROTO.ICMP);
    expect(reply[34]).toBe(ICMP_TYPE.ECHO_REPLY);
    expect(reply.readUInt16BE(38)).toBe(0x77);
    expect(reply.readUInt16BE(40)).toBe(1);
  });
});
