/**
 * A stack on a kernel interface through a DPDK driver that needs none of its own (net_af_packet,
 * net_af_xdp), facing the Linux kernel over a veth pair that spans two private namespaces:
 *
 *  - namespace A holds the stack's process and veth end vA, on which the stack's port runs. The kernel of
 *    A is configured as a host running ffnet on such an interface must be (docs/deploy.md, "Without a
 *    DPDK driver"): no address on vA, IPv6 off on it, ARP answered for no local address, so that the
 *    kernel — which still sees every frame the interface receives — neither answers for the stack nor
 *    sends anything of its own on the link;
 *  - namespace B holds vB, the kernel peer, at PEER_IP/24 (the stack at STACK_IP/24). vB's transmit
 *    checksum offload is off: a veth hands locally sent frames to its peer with their UDP checksum
 *    still to be completed, which a frame off a real wire never has.
 *
 * `afPortDevargs` builds the `vdev[]` string of each driver; `vethPair` makes the two namespaces and the
 * pair (for two stacks, one on each end, too); `vethPeer` makes them, starts the stack and waits until its
 * port is up. Every wait is bounded; `close()` ends the stack and
 * deletes both namespaces.
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { Netns } from './netns.js';
import { StackProcess, type RawConfig } from './stack-process.js';

export const STACK_IP = '10.78.0.2';
export const PEER_IP = '10.78.0.1';
export const NETMASK = '255.255.255.0';
/** The stack's end of the pair (in namespace A) and the kernel peer's (in namespace B). */
export const STACK_IFACE = 'vA';
export const PEER_IFACE = 'vB';

/** The DPDK drivers that run a port on a kernel interface. */
export type AfPmd = 'net_af_packet' | 'net_af_xdp';

/** The `vdev[]` device string of `pmd` on `iface`, with `queues` queue pairs. */
export function afPortDevargs(pmd: AfPmd, iface: string, queues = 1): string {
  return pmd === 'net_af_packet' ? `net_af_packet0,iface=${iface},qpairs=${queues}` : `net_af_xdp0,iface=${iface},start_queue=0,queue_count=${queues}`;
}

/** The sysctls a host sets on the interface it gives the stack (docs/deploy.md). */
export function stackIfaceSysctls(iface: string): string[] {
  return [`net.ipv6.conf.${iface}.disable_ipv6=1`, `net.ipv4.conf.${iface}.arp_ignore=8`];
}

/** Options of {@link vethPeer}. */
export interface VethPeerOptions {
  /** Queue pairs of the device (af_packet qpairs, af_xdp queue_count); the veth gets as many. Default 1. */
  queues?: number;
  /** Keys merged into `[dpdk]` (lcore mode, ...). */
  dpdk?: Record<string, unknown>;
  /** Keys merged into `[port0]`. */
  port0?: Record<string, unknown>;
  readyTimeoutMs?: number;
  /** Extra `,key=value` device arguments appended to the `vdev[]` string (af_packet framesz, ...). */
  devargs?: string;
  /** Leave vB's transmit checksum offload on (frames reach the stack with UDP checksums to complete). */
  peerTxChecksum?: boolean;
  /** vA's MTU (and vB's), set before the stack starts. */
  linkMtu?: number;
}

/** A stack on vA in namespace A, the kernel at PEER_IP on vB in namespace B. */
export interface VethPeer {
  /** Namespace B: the kernel peer (run ping, ip neigh, KernelUdp here). */
  ns: Netns;
  /** Namespace A: the stack and vA. */
  stackNs: Netns;
  stack: StackProcess;
  /** The stack's MAC on port 0 (vA's own). */
  stackMac: string;
  /** vA's MAC as the kernel reports it. */
  stackIfaceMac: string;
  /** vB's MAC. */
  peerMac: string;
  close(): Promise<void>;
}

/** IPv6 off by default in a namespace, so nothing of the kernel's own reaches the link. */
async function quietNs(label: string): Promise<Netns> {
  const ns = await Netns.create(label);
  try {
    await ns.execOk('sysctl', ['-qw', 'net.ipv6.conf.default.disable_ipv6=1', 'net.ipv6.conf.all.disable_ipv6=1']);
  } catch (err) {
    await ns.destroy();
    throw err;
  }
  return ns;
}

async function macOf(ns: Netns, iface: string): Promise<string> {
  const [link] = JSON.parse(await ns.execOk('ip', ['-j', 'link', 'show', iface])) as Array<{ address?: string }>;
  if (!link?.address) throw new Error(`no MAC for ${iface} in ${ns.name}`);
  return link.address.toLowerCase();
}

/** Two namespaces joined by a veth pair: vA in `a`, vB in `b`. */
export interface VethPair {
  a: Netns;
  b: Netns;
  /** Deletes both namespaces (and with them the pair and what runs there). */
  destroy(): Promise<void>;
}

/** Options of {@link vethPair}. */
export interface VethPairOptions {
  /** Queues each way on both ends. Default 1. */
  queues?: number;
  /** Both ends' MTU. */
  mtu?: number;
  /** MACs to give vA and vB (a stack on an af_packet port takes its interface's). */
  macs?: { a?: string; b?: string };
  /** Configure vB as a stack's interface too (no address of the kernel's, IPv6 off, no ARP answers). */
  stackOnBoth?: boolean;
}

/**
 * Makes namespaces `<label>-a` and `<label>-b` and the veth pair vA ⇄ vB between them, up, vA configured
 * as the interface a stack runs on (stackIfaceSysctls), vB too with `stackOnBoth`.
 */
export async function vethPair(label: string, opts: VethPairOptions = {}): Promise<VethPair> {
  const a = await quietNs(`${label}-a`);
  let b: Netns | undefined;
  try {
    b = await quietNs(`${label}-b`);
    const q = String(opts.queues ?? 1);
    await a.execOk('ip', ['link', 'add', STACK_IFACE, 'numtxqueues', q, 'numrxqueues', q, 'type', 'veth', 'peer', 'name', PEER_IFACE, 'numtxqueues', q, 'numrxqueues', q]);
    await a.execOk('ip', ['link', 'set', PEER_IFACE, 'netns', b.name]);
    await a.execOk('sysctl', ['-qw', ...stackIfaceSysctls(STACK_IFACE)]);
    if (opts.stackOnBoth) await b.execOk('sysctl', ['-qw', ...stackIfaceSysctls(PEER_IFACE)]);
    for (const [ns, iface, mac] of [[a, STACK_IFACE, opts.macs?.a], [b, PEER_IFACE, opts.macs?.b]] as const) {
      if (mac) await ns.execOk('ip', ['link', 'set', iface, 'address', mac]);
      if (opts.mtu) await ns.execOk('ip', ['link', 'set', iface, 'mtu', String(opts.mtu)]);
      await ns.execOk('ip', ['link', 'set', iface, 'up']);
    }
    const nsB = b;
    return { a, b: nsB, destroy: async () => void (await Promise.all([a.destroy(), nsB.destroy()])) };
  } catch (err) {
    await Promise.all([a.destroy(), b?.destroy()]);
    throw err;
  }
}

/**
 * Makes namespaces A and B and the veth pair between them (`queues` queues each way), configures both
 * kernels, starts the stack on vA with `pmd`, and waits until its port reports link up.
 */
export async function vethPeer(label: string, pmd: AfPmd, file_prefix: string, opts: VethPeerOptions = {}): Promise<VethPeer> {
  const queues = opts.queues ?? 1;
  const pair = await vethPair(label, { queues, mtu: opts.linkMtu });
  const { a, b } = pair;
  let stack: StackProcess | undefined;
  try {
    if (!opts.peerTxChecksum) await b.execOk('ethtool', ['-K', PEER_IFACE, 'tx', 'off']);
    await b.execOk('ip', ['addr', 'add', `${PEER_IP}/24`, 'dev', PEER_IFACE]);
    const config: RawConfig = {
      dpdk: { vdev: afPortDevargs(pmd, STACK_IFACE, queues) + (opts.devargs ?? ''), file_prefix, ...opts.dpdk },
      port0: { addr: STACK_IP, netmask: NETMASK, ...opts.port0 },
      sysctl: { 'net.inet6.ip6.accept_rtadv': 0 },
    };
    stack = await StackProcess.start(a, config, { readyTimeoutMs: opts.readyTimeoutMs ?? 30_000 });
    const s = stack;
    await a.waitFor(async () => (await s.currentPorts())[0]?.linkUp === true, 'port 0 to report link up', 5_000);
    const stackIfaceMac = await macOf(a, STACK_IFACE);
    const peerMac = await macOf(b, PEER_IFACE);
    let closing: Promise<void> | undefined;
    return {
      ns: b,
      stackNs: a,
      stack: s,
      stackMac: s.ports[0]?.mac ?? '',
      stackIfaceMac,
      peerMac,
      close: () =>
        (closing ??= (async () => {
          try {
            await s.close();
          } finally {
            await pair.destroy();
          }
        })()),
    };
  } catch (err) {
    await stack?.close().catch(() => undefined);
    await pair.destroy();
    // A stack that failed to start leaves its EAL runtime directory behind.
    rmSync(join('/var/run/dpdk', file_prefix), { recursive: true, force: true });
    throw err;
  }
}
