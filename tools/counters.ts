/**
 * How the tools read the stack's counters (stack/lcore/counters.h; names `<layer>.<name>`): grouped
 * by layer in the counters' own order, and which of them count dropped or refused packets (the
 * drops `ffnet top` and `ffnet netstat -w` add up).
 */

/** The `stats` reply (stack/ctl/stack_cmds.c). */
export interface StatsReply {
  /** CLOCK_MONOTONIC at the read, in ns. */
  now_ns: number;
  counters: Record<string, number>;
  lcores: Array<{ index: number; lcore_id: number; counters: Record<string, number> }>;
  /** With docs=1: each counter's description. */
  docs?: Record<string, string>;
}

/**
 * Counters that count packets dropped or refused, one per reason, each packet in one of them: a
 * dropped fragment is in ip.frag_dropped (its reason, counted per datagram in ip.frag_timeout,
 * frag_overlap, frag_toomany, frag_nomem, is not added again), and a datagram the IP layer could not
 * send is in ip.noroute, ip.toolong or ip.cantfrag (udp.tx_errors counts it too, and is left out).
 */
export const DROP_COUNTERS: readonly string[] = [
  'eth.runt', 'eth.not_ours', 'eth.unknown_type', 'eth.tx_dropped', 'eth.dispatch_dropped',
  'fault.dropped',
  'arp.badlen', 'arp.unsupported', 'arp.hold_dropped', 'arp.table_full',
  'ip.toosmall', 'ip.badvers', 'ip.badhlen', 'ip.badlen', 'ip.badsum', 'ip.ttl_zero', 'ip.martian',
  'ip.not_ours', 'ip.frag_dropped', 'ip.cantfrag', 'ip.noproto', 'ip.noroute', 'ip.toolong', 'ip.loopback_dropped',
  'icmp.tooshort', 'icmp.badsum', 'icmp.bmcastecho', 'icmp.echo_unmatched', 'icmp.ratelimited',
  'igmp.tooshort', 'igmp.badsum', 'igmp.unknown',
  'udp.hdrops', 'udp.badlen', 'udp.badsum', 'udp.noport', 'udp.noportbcast', 'udp.fullsock', 'udp.memdrop',
];

/** The sum of the drop counters in `c`. */
export function drops(c: Record<string, number>): number {
  let n = 0;
  for (const k of DROP_COUNTERS) n += c[k] ?? 0;
  return n;
}

/** Counters grouped by layer (the part before the dot), layers and counters in the stack's order. */
export function byLayer(c: Record<string, number>): Map<string, Array<[string, number]>> {
  const groups = new Map<string, Array<[string, number]>>();
  for (const [name, value] of Object.entries(c)) {
    const layer = name.slice(0, name.indexOf('.'));
    let g = groups.get(layer);
    if (!g) groups.set(layer, (g = []));
    g.push([name, value]);
  }
  return groups;
}

/** How much each counter grew from `a` to `b`. */
export function delta(a: Record<string, number>, b: Record<string, number>): Record<string, number> {
  const d: Record<string, number> = {};
  for (const [k, v] of Object.entries(b)) d[k] = v - (a[k] ?? 0);
  return d;
}
