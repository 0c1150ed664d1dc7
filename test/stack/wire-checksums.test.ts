/**
 * The stack's frames as the kernel side of ff0 captures them, in each lcore mode: ARP requests and
 * replies, echo replies to the kernel's pings (payloads of odd and even length up to 1472 bytes) and
 * the stack's own echo requests. tshark (with IP header checksum validation on) must call every IPv4
 * and ICMP checksum good, tcpdump -vv must report no bad checksum, and the checksums recomputed here
 * from the captured bytes must verify.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { checksum, macString, malformedFrames, readPcap, toHex } from '../../testbed/frames.js';
import {
  IFACE,
  KERNEL_IP,
  LCORE_MODES,
  STACK_IP,
  haveInjectFrame,
  injectFramePath,
  kernelPeer,
  parseArping,
  parsePing,
  type KernelPeer,
} from './kernel-peer.js';

const KERNEL_PING_SIZES = [0, 1, 57, 1472];
const STACK_PING_SIZES = [56, 57, 1472];
const MARKER_BEFORE = '10.77.0.250';
const MARKER_AFTER = '10.77.0.251';
const CONTROL_MAC = '02:00:00:00:00:c1';

/** One frame as tshark dissected it. */
interface Dissected {
  src: string;
  arpOp: number | undefined;
  ipSrc: string;
  ipStatus: number | undefined;
  icmpType: number | undefined;
  icmpStatus: number | undefined;
}

describe.each(LCORE_MODES)('checksums of the stack\'s frames on the wire ($name)', (mode) => {
  let peer: KernelPeer;
  let dir: string;
  let file: string;
  let stackFrames: Dissected[];
  let controls: Dissected[];

  /** The catalogue's bad-IP-checksum and bad-ICMP-checksum frames, sent from CONTROL_MAC. */
  const controlFrames = (): Buffer[] =>
    malformedFrames(peer.stackMac, STACK_IP, CONTROL_MAC, KERNEL_IP)
      .filter((m) => m.counter === 'ip.badsum' || m.counter === 'icmp.badsum')
      .map((m) => m.frame);

  beforeAll(async () => {
    if (!haveInjectFrame()) throw new Error(`${injectFramePath} not found: run npm run build`);
    dir = mkdtempSync(join(tmpdir(), 'ffnet-cksum-'));
    file = join(dir, 'ff0.pcap');
    peer = await kernelPeer('wire-cksum', { dpdk: mode.dpdk });
    const { ns, stack } = peer;

    // tshark writes the file and also prints each packet (-P -l), which tells us what it has seen:
    // libpcap delivers packets in blocks, so a marker ARP request (for an address nobody has) is
    // sent until it shows up, before the traffic and after it, to bracket it.
    const tshark: ChildProcess = ns.spawn('tshark', ['-i', IFACE, '-n', '-l', '-P', '-F', 'pcap', '-w', file, '-a', 'duration:60']);
    let out = '';
    let err = '';
    tshark.stdout?.setEncoding('utf8').on('data', (d: string) => (out += d));
    tshark.stderr?.setEncoding('utf8').on('data', (d: string) => (err += d));
    const tsharkExited = new Promise<void>((res) => tshark.once('exit', () => res()));
    await ns.waitFor(async () => /Capturing on/.test(err), `tshark to capture (stderr: ${err})`, 15_000);
    const bracket = async (marker: string): Promise<void> => {
      await ns.waitFor(
        async () => {
          await ns.exec('arping', ['-c', '1', '-w', '0.2', '-i', IFACE, marker], { timeoutMs: 5_000 });
          return out.includes(`Who has ${marker}?`);
        },
        `tshark to print the marker ARP request for ${marker} (stdout so far: ${out.slice(-500)})`,
        10_000,
        0,
      );
    };
    await bracket(MARKER_BEFORE);

    // The stack's own echo requests; the first one makes it ARP for the kernel.
    for (const size of STACK_PING_SIZES) {
      const replies = await stack.ping(KERNEL_IP, { count: 2, size, intervalMs: 50, timeoutMs: 2_000 });
      expect(replies.map((r) => r.rttUs >= 0)).toEqual([true, true]);
    }
    // ARP replies from the stack.
    const a = parseArping((await ns.exec('arping', ['-c', '2', '-W', '0.2', '-i', IFACE, STACK_IP], { timeoutMs: 10_000 })).stdout);
    expect(a.received).toBe(2);
    // Echo replies from the stack.
    for (const size of KERNEL_PING_SIZES) {
      const r = await ns.exec('ping', ['-c', '2', '-i', '0.2', '-W', '2', '-s', String(size), STACK_IP], { timeoutMs: 10_000 });
      expect(parsePing(r.stdout).received, r.stdout).toBe(2);
    }

    // A control: two frames with a bad checksum each, from the kernel's side, which the checkers
    // must flag (so a "good" verdict above means they did look).
    await ns.execOk(injectFramePath, [IFACE, ...controlFrames().map(toHex)]);
    await bracket(MARKER_AFTER);
    tshark.kill('SIGINT');
    const t = setTimeout(() => tshark.kill('SIGKILL'), 5_000);
    await tsharkExited;
    clearTimeout(t);

    const fields = await ns.execOk('tshark', [
      '-r', file, '-n',
      '-o', 'ip.check_checksum:TRUE',
      '-T', 'fields', '-E', 'separator=/t',
      '-e', 'eth.src', '-e', 'arp.opcode', '-e', 'ip.src', '-e', 'ip.checksum.status', '-e', 'icmp.type', '-e', 'icmp.checksum.status',
    ]);
    const num = (s: string | undefined): number | undefined => (s === undefined || s === '' ? undefined : Number(s.split(',')[0]));
    const all = fields
      .split('\n')
      .filter((l) => l.trim() !== '')
      .map((l) => l.split('\t'))
      .map(([src, arpOp, ipSrc, ipStatus, icmpType, icmpStatus]) => ({
        src: (src ?? '').toLowerCase(),
        arpOp: num(arpOp),
        ipSrc: ipSrc ?? '',
        ipStatus: num(ipStatus),
        icmpType: num(icmpType),
        icmpStatus: num(icmpStatus),
      }));
    stackFrames = all.filter((f) => f.src === peer.stackMac);
    controls = all.filter((f) => f.src === CONTROL_MAC);
  });

  afterAll(async () => {
    await peer?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('captured every kind of frame the stack sent', () => {
    const arpRequests = stackFrames.filter((f) => f.arpOp === 1);
    const arpReplies = stackFrames.filter((f) => f.arpOp === 2);
    const echoReplies = stackFrames.filter((f) => f.icmpType === 0);
    const echoRequests = stackFrames.filter((f) => f.icmpType === 8);
    expect(arpRequests.length).toBeGreaterThanOrEqual(1);
    expect(arpReplies.length).toBeGreaterThanOrEqual(2);
    expect(echoReplies).toHaveLength(KERNEL_PING_SIZES.length * 2);
    expect(echoRequests).toHaveLength(STACK_PING_SIZES.length * 2);
  });

  it('has tshark call every IPv4 and ICMP checksum good', () => {
    const ip = stackFrames.filter((f) => f.ipSrc !== '');
    expect(ip.length).toBe((KERNEL_PING_SIZES.length + STACK_PING_SIZES.length) * 2);
    for (const f of ip) {
      expect(f.ipSrc).toBe(STACK_IP);
      expect(f.ipStatus, JSON.stringify(f)).toBe(1); // 0 bad, 1 good, 2 unverified
      expect(f.icmpStatus, JSON.stringify(f)).toBe(1);
    }
  });

  it('has tshark and tcpdump flag the control frames\' bad checksums', async () => {
    expect(controls.map((f) => [f.ipStatus, f.icmpStatus])).toEqual([
      [0, 1],
      [1, 0],
    ]);
    const out = await peer.ns.execOk('tcpdump', ['-r', file, '-nn', '-vv', '-e', 'ether', 'src', CONTROL_MAC]);
    expect(out).toMatch(/bad cksum/);
    expect(out).toMatch(/wrong icmp cksum/);
  });

  it('has tcpdump -vv report no bad checksum', async () => {
    const out = await peer.ns.execOk('tcpdump', ['-r', file, '-nn', '-vv', '-e', 'not', 'ether', 'src', CONTROL_MAC]);
    const lines = out.split('\n');
    expect(lines.filter((l) => /ICMP echo (request|reply)/.test(l)).length).toBeGreaterThanOrEqual((KERNEL_PING_SIZES.length + STACK_PING_SIZES.length) * 4);
    expect(lines.filter((l) => /bad cksum|wrong icmp cksum|bad udp cksum/i.test(l))).toEqual([]);
  });

  it('carries checksums that verify when recomputed from the captured bytes', () => {
    const frames = readPcap(readFileSync(file)).filter((f) => macString(f.subarray(6, 12)) === peer.stackMac);
    let ipFrames = 0;
    for (const f of frames) {
      if (f.readUInt16BE(12) !== 0x0800) continue;
      ipFrames++;
      const ihl = ((f[14] ?? 0) & 0xf) * 4;
      const total = f.readUInt16BE(16);
      expect(checksum(f.subarray(14, 14 + ihl)), 'IPv4 header checksum').toBe(0);
      expect(f[23], 'protocol').toBe(1);
      expect(checksum(f.subarray(14 + ihl, 14 + total)), 'ICMP checksum').toBe(0);
    }
    expect(ipFrames).toBe((KERNEL_PING_SIZES.length + STACK_PING_SIZES.length) * 2);
  });
});
