/**
 * The drops `ffnet top` and `ffnet netstat -w` add up are the counters stack/lcore/counters.h marks
 * as drops (FFS_COUNTERS' kind column), so a drop counter added to the header is counted without
 * touching the tools; and every counter that says it counts dropped packets is marked so.
 */
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { readCounters } from '../../scripts/gen-tables.mjs';
import { DROP_COUNTERS, drops } from '../../tools/counters.js';

const root = resolve(fileURLToPath(new URL('../..', import.meta.url)));
const counters = readCounters(root) as Array<{ name: string; kind?: string; description: string }>;

/**
 * Counters that say "dropped" but are marked count, and why: a counter that breaks down packets
 * another drop counter already holds would count them twice among the drops.
 */
const NOT_DROPS: Record<string, string> = {
  'ip.frag_nomem': 'one reason of ip.frag_dropped, which counts every dropped fragment',
  'ip6.frag_nomem': 'one reason of ip6.frag_dropped, which counts every dropped IPv6 fragment',
  'ip6.frag_badlen': 'one reason of ip6.frag_dropped, which counts every dropped IPv6 fragment',
  'capture.dropped': 'frames a capture missed; the traffic itself is not lost',
  'arp.hold_memdrop': 'one reason of arp.hold_dropped, which counts every packet dropped waiting for ARP',
  'nd6.hold_memdrop': 'one reason of nd6.hold_dropped, which counts every packet dropped waiting for Neighbor Discovery',
};

describe('drop counters', () => {
  it('every counter whose name or description says dropped is a drop, or says why not', () => {
    const saysDropped = counters.filter((c) => /drop/.test(c.name) || /\bdropped\b/.test(c.description)).map((c) => c.name);
    expect(saysDropped.length).toBeGreaterThan(5);
    const missing = saysDropped.filter((n) => !DROP_COUNTERS.includes(n) && !(n in NOT_DROPS));
    expect(missing, 'counters.h says these count dropped packets: mark them drop').toEqual([]);
    for (const n of Object.keys(NOT_DROPS)) expect(DROP_COUNTERS).not.toContain(n);
  });

  it('DROP_COUNTERS are the counters FFS_COUNTERS marks drop, in the header\'s order', () => {
    for (const c of counters) expect(['drop', 'count'], c.name).toContain(c.kind);
    expect([...DROP_COUNTERS]).toEqual(counters.filter((c) => c.kind === 'drop').map((c) => c.name));
  });

  it('drops() adds exactly the drop counters', () => {
    const all = Object.fromEntries(counters.map((c) => [c.name, 1]));
    expect(drops(all)).toBe(counters.filter((c) => c.kind === 'drop').length);
    expect(drops({ 'eth.rx': 5, 'udp.delivered': 7 })).toBe(0);
  });
});
