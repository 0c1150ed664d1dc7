/**
 * UDP transmit checksums against the Linux kernel over net_tap (ff0), in each lcore mode. net_tap
 * offers UDP checksum offload (it sums in software inside the PMD), so a datagram that leaves in one
 * frame has its checksum left to the device (udp.tx_csum_offload) and a fragmented one is summed by
 * the stack; with net.inet.udp.tx_csum_offload = 0 the stack sums them all. Either way every datagram
 * (0, 1, 57, 1472 and 3000 bytes) reaches a kernel socket byte-exact, the kernel counts no checksum
 * error (InCsumErrors in /proc/net/snmp), and tshark, validating UDP checksums, calls each frame's
 * checksum good.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { ChildProcess } from 'node:child_process';
import { KernelUdp } from '../../testbed/kernel-udp.js';
import { IFACE, KERNEL_IP, LCORE_MODES, STACK_IP, delta, kernelPeer, type KernelPeer } from './kernel-peer.js';
import { FdScope, expectPoolAt, steadyInUse } from './udp-bench.js';

/** Payload sizes: odd and even, empty, the largest single frame, and one that leaves in fragments. */
const SIZES = [0, 1, 57, 1472, 3000];
const SINGLE_FRAME = SIZES.filter((s) => s <= 1472).length;
const COUNT = 3;
const MARKER_BEFORE = '10.77.0.250';
const MARKER_AFTER = '10.77.0.251';

/** The kernel's UDP InCsumErrors. */
async function kernelCsumErrors(peer: KernelPeer): Promise<number> {
  const lines = (await peer.ns.exec('cat', ['/proc/net/snmp'])).stdout.split('\n').filter((l) => l.startsWith('Udp:'));
  const names = (lines[0] ?? '').split(/\s+/);
  const values = (lines[1] ?? '').split(/\s+/);
  return Number(values[names.indexOf('InCsumErrors')]);
}

describe.each(LCORE_MODES)('UDP transmit checksums, to the kernel ($name)', (mode) => {
  let peer: KernelPeer;
  let kern: KernelUdp;
  let baseline: number;
  let fds: FdScope;
  let port = 7300;
  let dir: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'ffnet-txcsum-'));
    peer = await kernelPeer('udp-txcsum', { dpdk: mode.dpdk });
    kern = await KernelUdp.start(peer.ns);
    await peer.stack.ping(KERNEL_IP, { count: 1, timeoutMs: 2_000 });
    baseline = await steadyInUse(peer.stack);
  });
  afterAll(async () => {
    kern?.close();
    await peer?.close();
    rmSync(dir, { recursive: true, force: true });
  });
  beforeEach(() => {
    fds = new FdScope(peer.stack);
  });
  afterEach(async () => {
    await peer.stack.sysctl('net.inet.udp.tx_csum_offload', 1);
    await fds.closeAll();
    await expectPoolAt(peer.stack, baseline);
  });

  it('net_tap offers UDP and IPv4 transmit checksum offload, and the port has it on', async () => {
    const [p] = await peer.stack.currentPorts();
    expect(p?.offloads).toMatchObject({ txIpv4Cksum: true, txUdpCksum: true });
  });

  it.each([
    ['left to the device', 1],
    ['summed by the stack (net.inet.udp.tx_csum_offload = 0)', 0],
  ])('datagrams %s arrive byte-exact with good checksums', async (_how, offload) => {
    const { stack, ns } = peer;
    await stack.sysctl('net.inet.udp.tx_csum_offload', offload);
    const p = port++;
    const fd = await fds.udp({ address: STACK_IP, port: p });
    const { sid, port: kport } = await kern.socket({ address: KERNEL_IP });
    // tshark writes the frames to a file and prints each (-P -l); it starts capturing some time after it
    // says so, and libpcap hands frames over in blocks, so an ARP request for an address nobody has is
    // sent until it shows up, before the datagrams and after them.
    const file = join(dir, `txcsum-${p}.pcap`);
    const tshark: ChildProcess = ns.spawn('tshark', ['-i', IFACE, '-n', '-l', '-P', '-F', 'pcap', '-w', file, '-a', 'duration:60']);
    let out = '';
    let err = '';
    tshark.stdout?.setEncoding('utf8').on('data', (b: string) => (out += b));
    tshark.stderr?.setEncoding('utf8').on('data', (b: string) => (err += b));
    const exited = new Promise<void>((res) => tshark.once('exit', () => res()));
    try {
      const bracket = (marker: string): Promise<void> => ns.waitFor(async () => {
        await ns.exec('arping', ['-c', '1', '-w', '0.2', '-i', IFACE, marker], { timeoutMs: 5_000 });
        return out.includes(`Who has ${marker}?`);
      }, `tshark to print the marker ARP request for ${marker} (stdout so far: ${out.slice(-500)}; stderr: ${err})`, 15_000, 0);
      await ns.waitFor(async () => /Capturing on/.test(err), `tshark to capture (stderr: ${err})`, 15_000);
      await bracket(MARKER_BEFORE);
      const errorsBefore = await kernelCsumErrors(peer);
      const before = await stack.stats();
      const sent: string[] = [];
      for (const size of SIZES) {
        const s = await stack.udpSend(fd, { to: { address: KERNEL_IP, port: kport }, size, count: COUNT, pattern: 'random', startSeq: size });
        expect(s.sent).toBe(COUNT);
        sent.push(...(s.sha1 ?? []));
      }
      const r = await kern.recv(sid, { count: SIZES.length * COUNT, timeoutMs: 5_000 });
      expect(r.datagrams.map((d) => d.length)).toEqual(SIZES.flatMap((s) => Array(COUNT).fill(s)));
      expect(r.datagrams.map((d) => d.sha1)).toEqual(sent);
      expect(await kernelCsumErrors(peer)).toBe(errorsBefore);
      const d = delta(before, await stack.stats());
      expect(d['udp.tx']).toBe(SIZES.length * COUNT);
      expect(d['udp.tx_csum_offload'] ?? 0).toBe(offload ? SINGLE_FRAME * COUNT : 0);
      await bracket(MARKER_AFTER);
      tshark.kill('SIGINT');
      await exited;
      const fields = await ns.execOk('tshark', ['-r', file, '-n', '-o', 'udp.check_checksum:TRUE', '-Y', `udp.srcport == ${p}`,
        '-T', 'fields', '-E', 'separator=;', '-e', 'udp.length', '-e', 'udp.checksum.status']);
      const lines = fields.trim().split('\n');
      // One line per datagram (the first fragment of a fragmented one carries the UDP header).
      expect(lines.map((l) => Number(l.split(';')[0]) - 8)).toEqual(SIZES.flatMap((s) => Array(COUNT).fill(s)));
      // udp.checksum.status: 1 good (0 bad, 2 not checked).
      expect(new Set(lines.map((l) => l.split(';')[1]))).toEqual(new Set(['1']));
    } finally {
      tshark.kill('SIGKILL');
      await kern.closeSocket(sid);
    }
  });
});
