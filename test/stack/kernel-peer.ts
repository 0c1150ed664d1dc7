/**
 * The kernel-peer fixture of the stack's end-to-end suites: a private namespace, an ffnet stack on a
 * DPDK net_tap port (kernel interface ff0) at 10.77.0.2/24 running in a StackProcess child, and the
 * kernel side of the tap at 10.77.0.1/24, up.
 *
 * Also: the lcore modes the suites run under, counter deltas, bounded polling of the stack, a
 * line-oriented tcpdump capture, and helpers that parse ping(8) and arping(8) output. Every wait is
 * bounded; the namespace (and with it the stack process and any capture) goes away in `close()`.
 */
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ChildProcess } from 'node:child_process';
import type { LinkEnds } from '../../testbed/frames.js';
import { Netns, requireRoot } from '../../testbed/netns.js';
import { StackProcess, type RawConfig, type StackStats } from '../../testbed/stack-process.js';

export const STACK_IP = '10.77.0.2';
export const KERNEL_IP = '10.77.0.1';
export const SUBNET_BCAST = '10.77.0.255';
export const NETMASK = '255.255.255.0';
export const IFACE = 'ff0';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
/** build/bin/inject-frame (or FFNET_INJECT_FRAME). */
export const injectFramePath = process.env.FFNET_INJECT_FRAME ?? join(repo, 'build/bin/inject-frame');

/** One way of running the stack loop: `dpdk` keys merged into the stack's config. */
export interface LcoreMode {
  name: string;
  dpdk: Record<string, string>;
}

/** Inline on the JS thread, and one floating data-path lcore (2-CPU machines, parallel test files). */
export const LCORE_MODES: LcoreMode[] = [
  { name: 'inline', dpdk: { lcore_mask: '0x1' } },
  { name: 'one data-path lcore', dpdk: { lcore_mask: '0x3', lcores: '0@(0-1),1@(0-1)' } },
];

let prefixSerial = 0;

/** A fresh EAL file prefix for a stack of this process. */
export function uniquePrefix(label: string): string {
  return `ffnet-${label}-${process.pid}-${prefixSerial++}`;
}

/** Options of {@link kernelPeer}. */
export interface KernelPeerOptions {
  /** Keys merged into `[dpdk]` (lcore mode, vdev, ...). */
  dpdk?: Record<string, unknown>;
  /** Keys merged into `[port0]`. */
  port0?: Record<string, unknown>;
  /** `[sysctl]` tunables. */
  sysctl?: Record<string, number>;
  /** Passed through to StackProcess.start. */
  readyTimeoutMs?: number;
}

/** A stack facing the Linux kernel over ff0. */
export interface KernelPeer {
  ns: Netns;
  stack: StackProcess;
  /** The stack's MAC on port 0. */
  stackMac: string;
  /** The kernel interface ff0's MAC. */
  kernelMac: string;
  /** Closes the stack and deletes the namespace. Idempotent. */
  close(): Promise<void>;
}

/** The config a kernel-peer stack starts with (before `opts` are merged in). */
export function peerConfig(ns: Netns, opts: KernelPeerOptions = {}): RawConfig {
  const config: RawConfig = {
    dpdk: { vdev: `net_tap0,iface=${IFACE}`, file_prefix: uniquePrefix(ns.name.replace(/^ffnet-/, '').slice(0, 40)), ...opts.dpdk },
    port0: { addr: STACK_IP, netmask: NETMASK, ...opts.port0 },
  };
  // As quiet as the namespace's kernel (quietNamespace): no router solicitations at start, which would
  // land in the frame counts of tests that look for what the stack answers. A test of them sets it to 1.
  config.sysctl = { 'net.inet6.ip6.accept_rtadv': 0, ...opts.sysctl };
  return config;
}

/** Makes a namespace with IPv6 off (so the kernel sends no router solicitations or MLD of its own). */
export async function quietNamespace(label: string): Promise<Netns> {
  requireRoot();
  const ns = await Netns.create(label);
  try {
    await ns.execOk('sysctl', ['-qw', 'net.ipv6.conf.default.disable_ipv6=1', 'net.ipv6.conf.all.disable_ipv6=1']);
  } catch (err) {
    await ns.destroy();
    throw err;
  }
  return ns;
}

/**
 * Makes the namespace, starts the stack (10.77.0.2/24 on net_tap0 = ff0), gives ff0 10.77.0.1/24 and
 * brings it up, waiting until the stack's port reports link up and then until the stack has been quiet
 * for a moment (quietTx).
 */
export async function kernelPeer(label: string, opts: KernelPeerOptions = {}): Promise<KernelPeer> {
  const ns = await quietNamespace(label);
  let stack: StackProcess | undefined;
  try {
    stack = await StackProcess.start(ns, peerConfig(ns, opts), { readyTimeoutMs: opts.readyTimeoutMs ?? 30_000 });
    await ns.execOk('ip', ['addr', 'add', `${KERNEL_IP}/24`, 'dev', IFACE]);
    // net_tap's start already sets ff0 up; make sure of it and wait until the stack sees it.
    await bringUp(ns, stack);
    await quietTx(stack);
    const kernelMac = await linkMac(ns, IFACE);
    const stackMac = stack.ports[0]?.mac ?? '';
    const s = stack;
    let closing: Promise<void> | undefined;
    return {
      ns,
      stack: s,
      stackMac,
      kernelMac,
      close: () =>
        (closing ??= (async () => {
          try {
            await s.close();
          } finally {
            await ns.destroy();
          }
        })()),
    };
  } catch (err) {
    await stack?.close().catch(() => undefined);
    await ns.destroy();
    throw err;
  }
}

/** The link ends of a frame the kernel sends the stack over ff0 (for crafted frames). */
export function kernelToStack(peer: KernelPeer): LinkEnds {
  return { srcMac: peer.kernelMac, dstMac: peer.stackMac, srcIp: KERNEL_IP, dstIp: STACK_IP };
}

/** `ip link set ff0 up`, then waits (5 s at most) until the stack's port 0 reports link up. */
export async function bringUp(ns: Netns, stack: StackProcess): Promise<void> {
  await ns.execOk('ip', ['link', 'set', IFACE, 'up']);
  await ns.waitFor(async () => (await stack.currentPorts())[0]?.linkUp === true, 'port 0 to report link up', 5_000);
}

/**
 * Waits until the stack has sent nothing for `quietMs` (at most `maxMs`): what it sends on its own after
 * start and link up (the unsolicited Neighbor Advertisement, the MLD reports and their retransmission
 * within a second) must not land in the frame counts of the tests that follow.
 */
export async function quietTx(stack: StackProcess, quietMs = 1_200, maxMs = 6_000): Promise<void> {
  const started = Date.now();
  let tx = ctr(await stack.stats(), 'eth.tx');
  let since = Date.now();
  while (Date.now() - since < quietMs && Date.now() - started < maxMs) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    const now = ctr(await stack.stats(), 'eth.tx');
    if (now !== tx) {
      tx = now;
      since = Date.now();
    }
  }
}

/** The EUI-64 link-local address of a MAC (RFC 4291 App. A), as ping prints it. */
export function linkLocalOf(mac: string): string {
  const [b0 = 0, b1 = 0, b2 = 0, b3 = 0, b4 = 0, b5 = 0] = mac.split(':').map((h) => parseInt(h, 16));
  const g = [((b0 ^ 2) << 8) | b1, (b2 << 8) | 0xff, (0xfe << 8) | b3, (b4 << 8) | b5];
  return `fe80::${g.map((x) => x.toString(16)).join(':')}`;
}

/** An interface's MAC, from `ip -j link show`. */
export async function linkMac(ns: Netns, iface: string): Promise<string> {
  const out = await ns.execOk('ip', ['-j', 'link', 'show', iface]);
  const [link] = JSON.parse(out) as Array<{ address?: string }>;
  if (!link?.address) throw new Error(`no MAC for ${iface} in: ${out}`);
  return link.address.toLowerCase();
}

/** Counter `name` of `s`, 0 when absent. */
export function ctr(s: StackStats, name: string): number {
  const v = s.counters[name];
  if (v === undefined) throw new Error(`no counter named ${JSON.stringify(name)}`);
  return v;
}

/** How much each counter grew from `before` to `after`. */
export function delta(before: StackStats, after: StackStats): Record<string, number> {
  const d: Record<string, number> = {};
  for (const [k, v] of Object.entries(after.counters)) d[k] = v - (before.counters[k] ?? 0);
  return d;
}

/** Polls stats() until `check` holds (bounded by `timeoutMs`); resolves to the stats that satisfied it. */
export async function waitForStats(stack: StackProcess, check: (s: StackStats) => boolean, what: string, timeoutMs = 5_000): Promise<StackStats> {
  let last: StackStats | undefined;
  await stack.ns.waitFor(
    async () => {
      last = await stack.stats();
      return check(last);
    },
    what,
    timeoutMs,
  );
  if (!last) throw new Error('unreachable: no stats');
  return last;
}

/** What ping(8) reported. */
export interface PingSummary {
  transmitted: number;
  received: number;
  /** icmp_seq of each reply line, in order. */
  replySeqs: number[];
  /** Bytes of each reply line ("64 bytes from ..."). */
  replyBytes: number[];
  /** Reply sources ("from 10.77.0.2"). */
  replyFrom: string[];
}

/** Parses iputils ping output; throws if the summary line is missing. */
export function parsePing(out: string): PingSummary {
  const m = /(\d+) packets transmitted, (\d+) received/.exec(out);
  if (!m) throw new Error(`no ping summary in:\n${out}`);
  const replySeqs: number[] = [];
  const replyBytes: number[] = [];
  const replyFrom: string[] = [];
  for (const line of out.split('\n')) {
    const r = /^(\d+) bytes from ([\d.]+): icmp_seq=(\d+)/.exec(line);
    if (!r) continue;
    replyBytes.push(Number(r[1]));
    replyFrom.push(r[2] ?? '');
    replySeqs.push(Number(r[3]));
  }
  return { transmitted: Number(m[1]), received: Number(m[2]), replySeqs, replyBytes, replyFrom };
}

/** One reply line of arping(8) (Habets): "60 bytes from aa:bb:.. (10.77.0.2): index=0 ...". */
export interface ArpingReply {
  mac: string;
  ip: string;
}

/** Parses arping's reply lines and its "N packets transmitted, M packets received" summary. */
export function parseArping(out: string): { replies: ArpingReply[]; transmitted: number; received: number } {
  const replies: ArpingReply[] = [];
  for (const line of out.split('\n')) {
    const r = /bytes from ([0-9a-fA-F:]{17}) \(([\d.]+)\)/.exec(line);
    if (r) replies.push({ mac: (r[1] ?? '').toLowerCase(), ip: r[2] ?? '' });
  }
  const s = /(\d+) packets transmitted, (\d+) packets received/.exec(out);
  return { replies, transmitted: s ? Number(s[1]) : -1, received: s ? Number(s[2]) : -1 };
}

/** A running line capture (tcpdump -l). */
export interface LineCapture {
  /** Lines printed so far. */
  lines(): string[];
  /** Waits (bounded) until a line matches. */
  waitForLine(re: RegExp, timeoutMs: number): Promise<string>;
  /** Stops the capture (SIGINT, then SIGKILL) and resolves to every line. */
  stop(): Promise<string[]>;
}

/**
 * Starts `tcpdump -i <iface> -nn -l -e <extra...> <filter...>` in `ns` and resolves once it listens.
 * `-e` puts link-level addresses on each line.
 */
export async function tcpdumpLines(ns: Netns, iface: string, extra: string[], filter: string[] = []): Promise<LineCapture> {
  const child: ChildProcess = ns.spawn('tcpdump', ['-Z', 'root', '-i', iface, '-nn', '-l', '-e', ...extra, ...filter]);
  let out = '';
  let err = '';
  child.stdout?.setEncoding('utf8').on('data', (d: string) => (out += d));
  child.stderr?.setEncoding('utf8').on('data', (d: string) => (err += d));
  const exited = new Promise<void>((res) => {
    child.once('exit', () => res());
    child.once('error', () => res());
  });
  await ns.waitFor(async () => err.includes('listening on'), `tcpdump to listen on ${iface} (stderr: ${err.trim()})`, 10_000);
  const lines = (): string[] => out.split('\n').filter((l) => l.trim() !== '');
  return {
    lines,
    async waitForLine(re, timeoutMs) {
      let hit: string | undefined;
      await ns.waitFor(async () => (hit = lines().find((l) => re.test(l))) !== undefined, `a tcpdump line matching ${re}; got:\n${lines().join('\n')}`, timeoutMs);
      return hit ?? '';
    },
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGINT');
        const t = setTimeout(() => child.kill('SIGKILL'), 3_000);
        await exited;
        clearTimeout(t);
      }
      return lines();
    },
  };
}

/** Whether inject-frame was built. */
export function haveInjectFrame(): boolean {
  return existsSync(injectFramePath);
}

/** Resolves after `ms` (for the few places where the absence of an event is the assertion). */
export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
