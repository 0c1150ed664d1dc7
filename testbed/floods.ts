/**
 * Seeded floods of crafted frames for the test bench: ARP requests from forged senders, fragments
 * that never complete, and random or mutated frames. Each generator returns the frames (bounded by its `count`); inject them from the
 * kernel side with {@link injectFrames}, inside the test's namespace only.
 */
import { ARP_OP, BROADCAST_MAC, ETHERTYPE, IPPROTO, arp, ethernet, ipv4, macString, padTo, pattern, toHex, type Ip4, type LinkEnds, type Mac } from './frames.js';
import type { Netns } from './netns.js';
import { mulberry32 } from './random.js';

/** Shortest Ethernet frame without FCS: what a NIC would pad to. */
const MIN_FRAME = 60;
/** Longest frame a 1500-byte MTU carries (without FCS): the kernel refuses to send longer ones. */
const MAX_FRAME = 1514;

/** A locally administered unicast MAC from two random words. */
function randomMac(next: () => number): string {
  const a = next();
  const b = next();
  const bytes = [((a >>> 24) & 0xfc) | 0x02, (a >>> 16) & 0xff, (a >>> 8) & 0xff, a & 0xff, (b >>> 8) & 0xff, b & 0xff];
  return macString(Uint8Array.from(bytes));
}

/**
 * `count` broadcast ARP requests for `target`, each from a distinct forged sender in `subnet`/16
 * (first two octets of `subnet`) with a random MAC, avoiding the addresses in `avoid`.
 */
export function forgedArpRequests(count: number, target: Ip4, subnet: string, seed: number, avoid: string[] = []): Buffer[] {
  const next = mulberry32(seed);
  const [a, b] = subnet.split('.').map(Number);
  const seen = new Set<string>(avoid);
  const frames: Buffer[] = [];
  if (count > 65_000) throw new RangeError('a /16 has fewer distinct senders');
  while (frames.length < count) {
    const r = next();
    const spa = `${a}.${b}.${(r >>> 8) & 0xff}.${r & 0xff}`;
    if ((r & 0xff) === 0 || (r & 0xff) === 255 || seen.has(spa)) continue;
    seen.add(spa);
    const sha = randomMac(next);
    frames.push(
      padTo(
        Buffer.concat([ethernet({ dst: BROADCAST_MAC, src: sha, type: ETHERTYPE.ARP }), arp({ op: ARP_OP.REQUEST, sha, spa, tpa: target })]),
        MIN_FRAME,
      ),
    );
  }
  return frames;
}

/**
 * `count` first fragments (MF set, offset 0, 1480 bytes of UDP) of datagrams that never complete,
 * with IPv4 identifications from `firstId` up.
 */
export function incompleteFragments(count: number, ends: LinkEnds, firstId: number): Buffer[] {
  const payload = pattern(1480);
  return Array.from({ length: count }, (_, i) =>
    ethernet({
      dst: ends.dstMac,
      src: ends.srcMac,
      type: ETHERTYPE.IPV4,
      payload: ipv4({ src: ends.srcIp, dst: ends.dstIp, proto: IPPROTO.UDP, id: (firstId + i) & 0xffff, mf: true, fragOffset: 0, payload }),
    }),
  );
}

/**
 * `count` frames for `dst`: a third of them random bytes after a valid Ethernet header, the rest a
 * copy of one of `templates` with 1–8 random bytes changed and, sometimes, cut short or extended (up
 * to MAX_FRAME).
 */
export function mutatedFrames(count: number, dst: Mac, src: Mac, templates: Buffer[], seed: number): Buffer[] {
  const next = mulberry32(seed);
  const frames: Buffer[] = [];
  for (let i = 0; i < count; i++) {
    if (i % 3 === 0 || templates.length === 0) {
      const len = 14 + (next() % 1500);
      const f = Buffer.alloc(len);
      for (let j = 0; j < len; j++) f[j] = next() & 0xff;
      const types = [ETHERTYPE.IPV4, ETHERTYPE.ARP, next() & 0xffff];
      ethernet({ dst, src, type: types[next() % types.length] ?? ETHERTYPE.IPV4 }).copy(f, 0);
      frames.push(padTo(f, MIN_FRAME));
      continue;
    }
    const t = templates[next() % templates.length] ?? Buffer.alloc(MIN_FRAME);
    let f = Buffer.from(t);
    const flips = 1 + (next() % 8);
    for (let k = 0; k < flips; k++) {
      // Keep the destination MAC so the stack does not discard the frame at the first check.
      const at = 6 + (next() % Math.max(1, f.length - 6));
      f[at] = next() & 0xff;
    }
    const cut = next() % 4;
    if (cut === 0) f = f.subarray(0, 14 + (next() % Math.max(1, f.length - 14)));
    else if (cut === 1) f = Buffer.concat([f, Buffer.alloc(1 + (next() % 64), next() & 0xff)]).subarray(0, MAX_FRAME);
    frames.push(padTo(f, 14));
  }
  return frames;
}

/** Writes `frames` on `iface` in `ns` through build/bin/inject-frame, in batches of `batch` lines. */
export async function injectFrames(ns: Netns, injectPath: string, iface: string, frames: Buffer[], batch = 2_000): Promise<void> {
  for (let i = 0; i < frames.length; i += batch) {
    const lines = frames.slice(i, i + batch).map((f) => toHex(f));
    await ns.execOk(injectPath, [iface, '-'], { input: `${lines.join('\n')}\n`, timeoutMs: 30_000 });
  }
}
