/**
 * IPv6 fragments and MLD between the stack and the Linux kernel over net_tap, in each lcore mode: the
 * kernel's `ping -6 -s 3000` and `-s 65527` (the largest: a 65535-octet payload) reach the stack in
 * fragments, are reassembled (ip6.reassembled) and answered in fragments (ip6.fragmented,
 * ip6.frags_out) that the kernel reassembles in turn; the packet pool comes back to its baseline
 * afterwards; when the link comes up the stack reports its addresses' solicited-node groups in MLDv2
 * reports that tshark decodes on the kernel side (hop limit 1, Router Alert, ff02::16) — and every
 * frame the stack sent without an expert warning.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Netns, requireRoot } from '../../testbed/netns.js';
import { StackProcess } from '../../testbed/stack-process.js';
import { IFACE, LCORE_MODES, bringUp, ctr, delta, peerConfig, sleep, waitForStats } from './kernel-peer.js';

const STACK_IP6 = '2001:db8:78::2';
const KERNEL_IP6 = '2001:db8:78::1';

/** The payload octets one fragment carries on a 1500-octet link: 1500 - 40 - 8, a multiple of 8. */
const PER_FRAGMENT = 1448;

describe.each(LCORE_MODES)('IPv6 fragments and MLD with the kernel ($name)', (mode) => {
  let ns: Netns;
  let stack: StackProcess;
  let stackMac = '';
  let dir = '';
  let pcap = '';
  let tshark: ChildProcess | undefined;
  let tsharkErr = '';
  let baseline = -1;

  beforeAll(async () => {
    requireRoot();
    ns = await Netns.create('ipv6-frag');
    dir = mkdtempSync(join(tmpdir(), 'ffnet-ipv6-frag-'));
    pcap = join(dir, 'ff0.pcap');
    stack = await StackProcess.start(ns, peerConfig(ns, { dpdk: mode.dpdk, port0: { addr6: `${STACK_IP6}/64` } }), { readyTimeoutMs: 30_000 });
    stackMac = (stack.ports[0]?.mac ?? '').toLowerCase();
    // The capture starts before the link comes up: the first reports go out as soon as it does.
    tshark = ns.spawn('tshark', ['-i', IFACE, '-n', '-F', 'pcap', '-w', pcap, '-a', 'duration:120']);
    tshark.stderr?.setEncoding('utf8').on('data', (b: string) => (tsharkErr += b));
    await ns.waitFor(async () => /Capturing on/.test(tsharkErr), `tshark to capture (stderr: ${tsharkErr})`, 15_000);
    await ns.execOk('ip', ['-6', 'addr', 'add', `${KERNEL_IP6}/64`, 'dev', IFACE, 'nodad']);
    await bringUp(ns, stack);
    // One small ping first: both neighbour caches learn each other, so no fragment waits for ND.
    await ns.execOk('ping', ['-6', '-c', '1', '-W', '2', STACK_IP6], { timeoutMs: 10_000 });
    await sleep(200);
    baseline = (await stack.mempool()).inUse;
  });
  afterAll(async () => {
    tshark?.kill('SIGINT');
    await stack?.close();
    await ns?.destroy();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it.each([3000, 65527])("answers the kernel's ping -6 -s %i in fragments", async (size) => {
    const frags = Math.ceil((size + 8) / PER_FRAGMENT);
    const count = size > 10_000 ? 2 : 3;
    const before = await stack.stats();
    const r = await ns.exec('ping', ['-6', '-c', String(count), '-i', '0.3', '-s', String(size), '-W', '3', STACK_IP6], { timeoutMs: 20_000 });
    expect(r.stdout, r.stdout + r.stderr).toContain(`${count} packets transmitted, ${count} received`);
    const replies = r.stdout.split('\n').filter((l) => l.startsWith(`${size + 8} bytes from ${STACK_IP6}: icmp_seq=`));
    expect(replies.length, r.stdout).toBe(count);
    const after = await waitForStats(stack, (s) => ctr(s, 'ip6.frags_out') - ctr(before, 'ip6.frags_out') >= count * frags, 'every fragment counted');
    const d = delta(before, after);
    expect(d['ip6.fragments']).toBe(count * frags);
    expect(d['ip6.reassembled']).toBe(count);
    expect(d['ip6.frag_dropped'] ?? 0).toBe(0);
    expect(d['icmp6.echo_in']).toBe(count);
    expect(d['icmp6.badsum'] ?? 0).toBe(0);
    expect(d['icmp6.echo_reply_out']).toBe(count);
    expect(d['ip6.fragmented']).toBe(count);
    expect(d['ip6.frags_out']).toBe(count * frags);
  });

  it('gives every mbuf back to the pool once quiet', async () => {
    await ns.waitFor(async () => (await stack.mempool()).inUse === baseline, `the pool back to ${baseline} mbufs in use`, 5_000);
  });

  it('sent MLDv2 reports for its solicited-node groups, and only frames tshark decodes without a warning', async () => {
    // What the stack sends before the kernel's side of the tap runs is lost: the reports of the
    // memberships it has are sent again when the link comes up (a down and up here).
    await ns.execOk('ip', ['link', 'set', IFACE, 'down']);
    await ns.waitFor(async () => (await stack.currentPorts())[0]?.linkUp === false, 'port 0 to report link down', 5_000);
    await sleep(600); // the stack looks at its links 4 times a second
    await bringUp(ns, stack);
    const before = await stack.stats();
    await waitForStats(stack, (s) => ctr(s, 'mld.reports_out') - ctr(before, 'mld.reports_out') >= 4, 'the reports and their repetitions', 5_000);
    await sleep(300);
    tshark?.kill('SIGINT');
    await ns.waitFor(async () => tshark?.exitCode !== null, 'tshark to exit', 10_000);
    const mld = await ns.execOk('tshark', ['-r', pcap, '-n', '-Y', `eth.src == ${stackMac} && icmpv6.type == 143`, '-T', 'fields',
      '-e', 'ipv6.dst', '-e', 'ipv6.hlim', '-e', 'ipv6.opt.router_alert', '-e', 'icmpv6.mldr.mar.multicast_address']);
    const lines = mld.trim().split('\n').filter(Boolean);
    expect(lines.length, mld).toBeGreaterThanOrEqual(1);
    const groups = new Set<string>();
    for (const line of lines) {
      const [dst, hlim, routerAlert, addrs] = line.split('\t');
      expect(dst).toBe('ff02::16');
      expect(hlim).toBe('1');
      expect(routerAlert).toBe('0'); // Router Alert, MLD (RFC 2711)
      for (const a of (addrs ?? '').split(',')) groups.add(a);
    }
    // RFC 4861 §7.2.1: the group of the configured address (its low 24 bits) and of the link-local one.
    expect(groups, mld).toContain('ff02::1:ff00:2');
    expect([...groups].filter((g) => g.startsWith('ff02::1:ff')).length, mld).toBeGreaterThanOrEqual(2);
    const fragments = await ns.execOk('tshark', ['-r', pcap, '-n', '-Y', `eth.src == ${stackMac} && ipv6.fraghdr`, '-T', 'fields', '-e', 'frame.number']);
    expect(fragments.trim().split('\n').filter(Boolean).length).toBeGreaterThanOrEqual(3 * 3);
    const expert = await ns.execOk('tshark', ['-r', pcap, '-n', '-Y', `eth.src == ${stackMac} && _ws.expert`, '-T', 'fields',
      '-e', 'frame.number', '-e', '_ws.expert.message']);
    expect(expert.trim(), expert).toBe('');
  });
});
