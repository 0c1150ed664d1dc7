/**
 * How the tools read the stack's counters (stack/lcore/counters.h; names `<layer>.<name>`): grouped
 * by layer in the counters' own order, and which of them count dropped or refused packets (the
 * drops `ffnet top` and `ffnet netstat -w` add up).
 */
import { COUNTER_TABLE } from './counters.generated.js';

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
 * Counters that count packets dropped or refused, one per reason, each packet in one of them: those
 * FFS_COUNTERS (stack/lcore/counters.h) marks `drop`, in the header's order. A counter that breaks
 * down another's drops (ip.frag_nomem within ip.frag_dropped) or counts a failure the IP layer counts
 * already (udp.tx_errors) is marked `count`, and left out.
 */
export const DROP_COUNTERS: readonly string[] = Object.freeze(COUNTER_TABLE.filter((c) => c.kind === 'drop').map((c) => c.name));

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
