/**
 * IPv6, Neighbor Discovery and ICMPv6 between the stack and the Linux kernel over net_tap, in each
 * lcore mode: the kernel's `ping -6` with 0-, 56- and 1452-byte payloads (1452 + 48 = one 1500-byte
 * packet) is answered and counted; the kernel's neighbour table learns the stack's MAC from ND
 * (`ip -6 neigh`); a multicast echo to ff02::1 is answered from the stack's link-local address; a
 * packet with a Next Header the stack does not handle is answered with a Parameter Problem (code 1)
 * that the kernel receives, and a datagram to an unbound port with a port unreachable; the stack's
 * own pings (ffnet ping) reach the kernel and ffnet ndp -a lists it; tshark decodes every frame the
 * stack sent without an expert warning. With the kernel as a router (forwarding, a 1280-byte link
 * beyond it), its time exceeded is counted and its packet too big lowers the destination's path MTU.
 * And a stack whose address the kernel already holds fails to start, naming the address and the port
 * (Duplicate Address Detection).
 */
import { execFile, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Netns, requireRoot } from '../../testbed/netns.js';
import { StackProcess } from '../../testbed/stack-process.js';
import { IFACE, LCORE_MODES, bringUp, ctr, delta, linkLocalOf, peerConfig, sleep, waitForStats } from './kernel-peer.js';

const CLI = join(resolve(dirname(fileURLToPath(import.meta.url)), '../..'), 'dist/tools/cli.js');
const STACK_IP6 = '2001:db8:77::2';
const KERNEL_IP6 = '2001:db8:77::1';

/** A namespace with IPv6 on (the kernel-peer default turns it off), and a stack with STACK_IP6/64 on ff0. */
async function v6Peer(label: string, dpdk: Record<string, string>, sysctl: Record<string, number> = {}) {
  requireRoot();
  const ns = await Netns.create(label);
  let stack: StackProcess | undefined;
  try {
    stack = await StackProcess.start(ns, peerConfig(ns, { dpdk, port0: { addr6: `${STACK_IP6}/64` }, sysctl }), { readyTimeoutMs: 30_000 });
    await ns.execOk('ip', ['-6', 'addr', 'add', `${KERNEL_IP6}/64`, 'dev', IFACE, 'nodad']);
    await bringUp(ns, stack);
    return { ns, stack };
  } catch (err) {
    await stack?.close().catch(() => undefined);
    await ns.destroy();
    throw err;
  }
}

/** `ffnet -p PID args... --json` against the stack process; its parsed output (20 s at most). */
function ffnetJson<T>(pid: number, args: string[]): Promise<T> {
  return new Promise((res, rej) => {
    execFile(process.execPath, [CLI, '-p', String(pid), ...args, '--json'], { timeout: 20_000, encoding: 'utf8' }, (err, stdout, stderr) => {
      if (err) rej(new Error(`ffnet ${args.join(' ')}: ${err.message}\n${stderr}`));
      else res(JSON.parse(stdout) as T);
    });
  });
}

/** A counter of the kernel's /proc/net/snmp6 in the namespace. */
async function snmp6(ns: Netns, name: string): Promise<number> {
  const text = await ns.execOk('cat', ['/proc/net/snmp6']);
  return Number(new RegExp(`^${name}\\s+(\\d+)`, 'm').exec(text)?.[1] ?? NaN);
}

/** Parses ping -6 output: transmitted, received, and each reply's byte count and source. */
function parsePing6(out: string): { transmitted: number; received: number; bytes: number[]; from: string[] } {
  const m = /(\d+) packets transmitted, (\d+) received/.exec(out);
  if (!m) throw new Error(`no ping summary in:\n${out}`);
  const bytes: number[] = [];
  const from: string[] = [];
  for (const line of out.split('\n')) {
    const r = /^(\d+) bytes from ([0-9a-f:]+)(%\S+)?: icmp_seq=/.exec(line);
    if (r) {
      bytes.push(Number(r[1]));
      from.push(r[2] ?? '');
    }
  }
  return { transmitted: Number(m[1]), received: Number(m[2]), bytes, from };
}

describe.each(LCORE_MODES)('IPv6 and Neighbor Discovery with the kernel ($name)', (mode) => {
  let ns: Netns;
  let stack: StackProcess;
  let stackMac: string;
  let dir: string;
  let tshark: ChildProcess | undefined;
  let tsharkErr = '';
  let pcap: string;

  beforeAll(async () => {
    ({ ns, stack } = await v6Peer('ipv6-nd', mode.dpdk));
    stackMac = stack.ports[0]?.mac ?? '';
    dir = mkdtempSync(join(tmpdir(), 'ffnet-ipv6-nd-'));
    pcap = join(dir, 'ff0.pcap');
    tshark = ns.spawn('tshark', ['-i', IFACE, '-n', '-F', 'pcap', '-w', pcap, '-a', 'duration:120']);
    tshark.stderr?.setEncoding('utf8').on('data', (b: string) => (tsharkErr += b));
    await ns.waitFor(async () => /Capturing on/.test(tsharkErr), `tshark to capture (stderr: ${tsharkErr})`, 15_000);
    await sleep(500); // libpcap's first block
  });
  afterAll(async () => {
    tshark?.kill('SIGINT');
    await stack?.close();
    await ns?.destroy();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it.each([0, 56, 1452])('answers the kernel\'s ping -6 with a %i-byte payload', async (size) => {
    const before = await stack.stats();
    const r = await ns.exec('ping', ['-6', '-c', '3', '-i', '0.2', '-s', String(size), '-W', '2', STACK_IP6], { timeoutMs: 15_000 });
    const p = parsePing6(r.stdout);
    expect(p.transmitted, r.stdout + r.stderr).toBe(3);
    expect(p.received, r.stdout + r.stderr).toBe(3);
    expect(p.from).toEqual([STACK_IP6, STACK_IP6, STACK_IP6]);
    expect(p.bytes).toEqual([size + 8, size + 8, size + 8]);
    const after = await waitForStats(stack, (s) => ctr(s, 'icmp6.echo_reply_out') - ctr(before, 'icmp6.echo_reply_out') >= 3, '3 echo replies');
    const d = delta(before, after);
    expect(d['icmp6.echo_in']).toBe(3);
    expect(d['icmp6.echo_reply_out']).toBe(3);
    expect(d['icmp6.badsum'] ?? 0).toBe(0);
    expect(d['nd6.bad'] ?? 0).toBe(0);
  });

  it('is in the kernel\'s neighbour table with its own MAC, learned through Neighbor Discovery', async () => {
    await ns.execOk('ping', ['-6', '-c', '1', '-W', '2', STACK_IP6]);
    const out = await ns.execOk('ip', ['-6', 'neigh', 'show', 'dev', IFACE]);
    const line = out.split('\n').find((l) => l.startsWith(`${STACK_IP6} `));
    expect(line, out).toBeDefined();
    expect(line).toContain(`lladdr ${stackMac.toLowerCase()}`);
    expect(line).not.toMatch(/FAILED|INCOMPLETE/);
    const s = await stack.stats();
    expect(ctr(s, 'nd6.ns_in')).toBeGreaterThanOrEqual(1);
    expect(ctr(s, 'nd6.na_out')).toBeGreaterThanOrEqual(1);
  });

  it.each([0, 56, 1452])('pings the kernel itself (ffnet ping) with a %i-byte payload, resolving it through ND', async (size) => {
    const before = await stack.stats();
    const r = await ffnetJson<{ received: number; replies: { from: string; bytes: number; ttl: number }[] }>(stack.pid!,
      ['ping', '-c', '3', '-i', '0.1', '-s', String(size), KERNEL_IP6]);
    expect(r.received).toBe(3);
    expect(r.replies.map((x) => [x.from, x.bytes, x.ttl])).toEqual(Array(3).fill([KERNEL_IP6, size, 64]));
    const d = delta(before, await stack.stats());
    expect(d['icmp6.echo_out']).toBe(3);
    expect(d['icmp6.echo_reply_in']).toBe(3);
    expect(d['nd6.hold_dropped'] ?? 0).toBe(0);
  });

  it('lists the kernel in ffnet ndp -a with the MAC Neighbor Discovery gave', async () => {
    const kernelMac = (await ns.execOk('cat', [`/sys/class/net/${IFACE}/address`])).trim();
    const entries = await ffnetJson<{ addr: string; mac: string | null; state: string; port: number }[]>(stack.pid!, ['ndp', '-a']);
    const e = entries.find((x) => x.addr === KERNEL_IP6);
    expect(e, JSON.stringify(entries)).toMatchObject({ mac: kernelMac, state: 'reachable', port: 0 });
  });

  it('answers a ping to all-nodes from its link-local address', async () => {
    const before = await stack.stats();
    const r = await ns.exec('ping', ['-6', '-c', '2', '-i', '0.3', '-W', '2', `ff02::1%${IFACE}`], { timeoutMs: 10_000 });
    // The kernel answers its own ping to ff02::1 too; ping prints the first reply to each request (and
    // counts later ones as duplicates), so the stack's EUI-64 link-local address shows at least once.
    expect(parsePing6(r.stdout).from, r.stdout).toContain(linkLocalOf(stackMac));
    const after = await waitForStats(stack, (s) => ctr(s, 'icmp6.echo_reply_out') - ctr(before, 'icmp6.echo_reply_out') >= 2, '2 replies');
    const d = delta(before, after);
    expect(d['icmp6.mcastecho']).toBe(2);
    expect(d['icmp6.echo_reply_out']).toBe(2);
  });

  it('answers a Next Header it does not handle with a Parameter Problem the kernel receives', async () => {
    const before = await stack.stats();
    // A TCP SYN: the stack has no TCP (RFC 8200 §4: code 1, pointing at the Next Header field).
    await ns.exec('nc', ['-6', '-z', '-w', '1', STACK_IP6, '9'], { timeoutMs: 5_000 });
    const after = await waitForStats(stack, (s) => ctr(s, 'icmp6.errors_out') > ctr(before, 'icmp6.errors_out'), 'a parameter problem sent');
    const d = delta(before, after);
    expect(d['icmp6.errors_out']).toBeGreaterThanOrEqual(1);
    expect(d['ip6.badexthdr']).toBeGreaterThanOrEqual(1);
    expect(await snmp6(ns, 'Icmp6InParmProblems')).toBeGreaterThanOrEqual(1);
  });

  it('answers a datagram to a port nobody bound with a port unreachable the kernel receives', async () => {
    const before = await stack.stats();
    const unreachBefore = await snmp6(ns, 'Icmp6InDestUnreachs');
    await ns.execOk('bash', ['-c', `echo ping > /dev/udp/${STACK_IP6}/9`]);
    const after = await waitForStats(stack, (s) => ctr(s, 'icmp6.errors_out') > ctr(before, 'icmp6.errors_out'), 'a port unreachable sent');
    const d = delta(before, after);
    expect(d['udp.noport']).toBe(1);
    expect(d['icmp6.errors_out']).toBe(1);
    await ns.waitFor(async () => (await snmp6(ns, 'Icmp6InDestUnreachs')) === unreachBefore + 1, 'the kernel to count it', 5_000);
  });

  it('sent only frames tshark decodes without an expert warning', async () => {
    tshark?.kill('SIGINT');
    await ns.waitFor(async () => tshark?.exitCode !== null, 'tshark to exit', 10_000);
    const frames = await ns.execOk('tshark', ['-r', pcap, '-n', '-Y', `eth.src == ${stackMac}`, '-T', 'fields', '-e', 'frame.protocols']);
    const protos = frames.trim().split('\n').filter(Boolean);
    expect(protos.some((p) => p.includes('icmpv6')), frames).toBe(true);
    // Warnings and errors (0x600000 and up); a quoted TCP SYN's "connection establish request" is chat.
    const expert = await ns.execOk('tshark', ['-r', pcap, '-n', '-Y', `eth.src == ${stackMac} && _ws.expert.severity >= 0x600000`, '-T', 'fields',
      '-e', 'frame.number', '-e', '_ws.expert.message']);
    expect(expert.trim(), expert).toBe('');
  });
});

describe('ICMPv6 errors from the kernel as a router', () => {
  const FAR = '2001:db8:99::1';
  let ns: Netns;
  let stack: StackProcess;

  beforeAll(async () => {
    requireRoot();
    ns = await Netns.create('ipv6-router');
    try {
      stack = await StackProcess.start(ns, peerConfig(ns, { dpdk: LCORE_MODES[0]!.dpdk,
        port0: { addr6: `${STACK_IP6}/64`, gateway6: KERNEL_IP6 } }), { readyTimeoutMs: 30_000 });
      // The kernel forwards, and reaches 2001:db8:99::/64 over a link whose MTU is the minimum.
      await ns.execOk('sysctl', ['-qw', 'net.ipv6.conf.all.forwarding=1']);
      await ns.execOk('ip', ['-6', 'addr', 'add', `${KERNEL_IP6}/64`, 'dev', IFACE, 'nodad']);
      await ns.execOk('ip', ['link', 'add', 'far0', 'mtu', '1280', 'type', 'veth', 'peer', 'name', 'far1', 'mtu', '1280']);
      await ns.execOk('ip', ['link', 'set', 'far1', 'up']);
      await ns.execOk('ip', ['link', 'set', 'far0', 'up']);
      await ns.execOk('ip', ['-6', 'route', 'add', '2001:db8:99::/64', 'dev', 'far0']);
      await bringUp(ns, stack);
    } catch (err) {
      await stack?.close().catch(() => undefined);
      await ns.destroy();
      throw err;
    }
  });
  afterAll(async () => {
    await stack?.close();
    await ns?.destroy();
  });

  /** `ffnet ping` that may get no reply: its JSON summary, whatever its exit status. */
  function ffnetPing(args: string[]): Promise<{ received: number }> {
    return new Promise((res, rej) => {
      execFile(process.execPath, [CLI, '-p', String(stack.pid), 'ping', ...args, '--json'], { timeout: 20_000, encoding: 'utf8' }, (_err, stdout, stderr) => {
        try {
          res(JSON.parse(stdout) as { received: number });
        } catch {
          rej(new Error(`ffnet ping ${args.join(' ')}: ${stdout}${stderr}`));
        }
      });
    });
  }

  it('counts the time exceeded the kernel sends for a hop limit of 1', async () => {
    const before = await stack.stats();
    const r = await ffnetPing(['-c', '1', '-t', '1', '-W', '500', FAR]);
    expect(r.received).toBe(0);
    const after = await waitForStats(stack, (s) => ctr(s, 'icmp6.timxceed_in') > ctr(before, 'icmp6.timxceed_in'), 'a time exceeded');
    expect(delta(before, after)['icmp6.timxceed_in']).toBe(1);
  });

  it('lowers the path MTU on the kernel\'s packet too big: the next request leaves in fragments', async () => {
    const before = await stack.stats();
    await ffnetPing(['-c', '1', '-s', '1400', '-W', '500', FAR]);
    const mid = await waitForStats(stack, (s) => ctr(s, 'icmp6.toobig_in') > ctr(before, 'icmp6.toobig_in'), 'a packet too big');
    expect(delta(before, mid)['icmp6.toobig_in']).toBe(1);
    expect(delta(before, mid)['ip6.fragmented'] ?? 0).toBe(0);
    await ffnetPing(['-c', '1', '-s', '1400', '-W', '500', FAR]);
    const after = await stack.stats();
    // 1400 + 8 + 40 > 1280: the second request goes in two fragments, and draws no second packet too big.
    expect(delta(mid, after)['ip6.fragmented']).toBe(1);
    expect(delta(mid, after)['icmp6.toobig_in'] ?? 0).toBe(0);
  });
});

describe('Duplicate Address Detection at start', () => {
  it('refuses to start when the kernel holds the address, naming it and the port', async () => {
    requireRoot();
    const ns = await Netns.create('ipv6-dad');
    try {
      // ff0 appears when the stack's port starts; the kernel takes the address at once (three probes,
      // a second apart, leave it time), and answers the stack's probes for it. The link goes up first:
      // once the address is there the stack may detect it and end, taking ff0 with it.
      const claim = (async () => {
        await ns.waitFor(async () => (await ns.exec('ip', ['link', 'show', IFACE])).code === 0, 'ff0 to appear', 20_000, 20);
        await ns.execOk('ip', ['link', 'set', IFACE, 'up']);
        await ns.execOk('ip', ['-6', 'addr', 'add', `${STACK_IP6}/64`, 'dev', IFACE, 'nodad']);
      })();
      const start = StackProcess.start(ns, peerConfig(ns, { dpdk: LCORE_MODES[0]!.dpdk, port0: { addr6: `${STACK_IP6}/64` },
        sysctl: { 'net.inet6.ip6.dad_count': 3 } }), { readyTimeoutMs: 30_000 });
      await expect(start).rejects.toThrow(/port 0: IPv6 address 2001:db8:77::2 is already in use on the link/);
      await claim;
    } finally {
      await ns.destroy();
    }
  });
});
