/**
 * The addon's static surface agrees with the TypeScript side: counter names are unique and
 * documented (in the addon and in docs/counters.md), and the stack's tunables are exactly config/'s.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { SYSCTLS } from '../../config/index.js';
import { loadAddon } from '../../native/index.js';

describe('native addon surface', () => {
  const addon = loadAddon();

  it('names every counter once, as <layer>.<name>', () => {
    const names = addon.counterNames();
    expect(names.length).toBeGreaterThan(40);
    expect(new Set(names).size).toBe(names.length);
    for (const n of names) expect(n).toMatch(/^(eth|fault|capture|exception|arp|ip|ip6|icmp|icmp6|igmp|mld|nd6|udp|localhost|lo|ctrl|loop)\.[a-z0-9_]+$/);
  });

  it('documents every counter in the addon and in docs/counters.md', () => {
    const docs = addon.counterDocs();
    const page = readFileSync(new URL('../../docs/counters.md', import.meta.url), 'utf8');
    expect(Object.keys(docs)).toEqual(addon.counterNames());
    for (const [name, doc] of Object.entries(docs)) {
      expect(doc.length).toBeGreaterThan(5);
      expect([`| \`${name}\` | drop | ${doc} |`, `| \`${name}\` | count | ${doc} |`].some((row) => page.includes(row)), name).toBe(true);
    }
  });

  it('knows exactly the tunables config/ validates, with the same defaults and ranges', () => {
    const byName = (a: { name: string }, b: { name: string }) => a.name.localeCompare(b.name);
    const native = [...addon.sysctlTable()].sort(byName);
    const ts = SYSCTLS.map(({ name, default: d, min, max }) => ({ name, default: d, min, max })).sort(byName);
    expect(native).toEqual(ts);
  });
});
