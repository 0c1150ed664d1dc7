/**
 * IPv6 addresses as text and as the bytes of an in6_addr, for every part of ffnet that converts them
 * (configuration, ffnet/posix's option structs, ffnet/dgram's sources and scopes): RFC 4291 §2.2 text
 * forms (`::` compression, an embedded dotted quad, an optional `%scope`), RFC 5952 text as node:dgram
 * writes it. Plain TypeScript, no native dependency.
 */
import { isIPv6 } from 'node:net';

/** The 16 bytes (network order) of an IPv6 literal (a `%scope` suffix is ignored), or undefined. */
export function ipv6Bytes(text: string): Uint8Array | undefined {
  if (!isIPv6Literal(text)) return undefined;
  const pct = text.indexOf('%');
  const addr = pct < 0 ? text : text.slice(0, pct);
  const out = new Uint8Array(16);
  const [head = '', tail] = addr.split('::') as [string, string | undefined];
  const groups = (part: string): number[] => {
    const words: number[] = [];
    for (const g of part ? part.split(':') : []) {
      if (g.includes('.')) {
        const q = g.split('.').map(Number);
        words.push(((q[0] as number) << 8) | (q[1] as number), ((q[2] as number) << 8) | (q[3] as number));
      } else {
        words.push(parseInt(g, 16));
      }
    }
    return words;
  };
  const front = groups(head);
  const back = tail === undefined ? [] : groups(tail);
  const words = [...front, ...new Array<number>(8 - front.length - back.length).fill(0), ...back];
  words.forEach((w, i) => {
    out[i * 2] = w >> 8;
    out[i * 2 + 1] = w & 0xff;
  });
  return out;
}

/**
 * The text of the IPv6 address in bytes[at .. at + 16) as libuv's uv_inet_ntop (node:dgram's
 * rinfo.address) and RFC 5952 write it: lowercase, the longest run of two or more zero groups as
 * `::` (the first of equals), and a trailing dotted quad for ::ffff:a.b.c.d and ::a.b.c.d (but ::1).
 */
export function ipv6Text(bytes: Uint8Array, at: number): string {
  const g: number[] = [];
  for (let i = 0; i < 8; i++) g.push(((bytes[at + i * 2] as number) << 8) | (bytes[at + i * 2 + 1] as number));
  let best = -1;
  let bestLen = 0;
  for (let i = 0; i < 8; ) {
    if (g[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && g[j] === 0) j++;
    if (j - i > bestLen) {
      best = i;
      bestLen = j - i;
    }
    i = j;
  }
  if (bestLen < 2) best = -1;
  if (best === 0 && (bestLen === 6 || (bestLen === 7 && g[7] !== 1) || (bestLen === 5 && g[5] === 0xffff))) {
    const quad = `${bytes[at + 12]}.${bytes[at + 13]}.${bytes[at + 14]}.${bytes[at + 15]}`;
    return bestLen === 5 ? `::ffff:${quad}` : `::${quad}`;
  }
  const hex = (from: number, to: number): string => g.slice(from, to).map((w) => w.toString(16)).join(':');
  return best < 0 ? hex(0, 8) : `${hex(0, best)}::${hex(best + bestLen, 8)}`;
}

const TEXT_SLOTS = 256;
const textBytes = new Uint8Array(TEXT_SLOTS * 16);
const texts: Array<string | undefined> = new Array<string | undefined>(TEXT_SLOTS);

/**
 * ipv6Text through a direct-mapped cache of the last 256 distinct addresses: a receiver hears the
 * same few sources again and again, and comparing 16 bytes costs far less than writing the text.
 */
export function ipv6TextCached(bytes: Uint8Array, at: number): string {
  const slot = ((bytes[at + 15] as number) ^ ((bytes[at + 14] as number) << 3) ^ ((bytes[at + 13] as number) << 5) ^
    (bytes[at + 7] as number)) & (TEXT_SLOTS - 1);
  const base = slot * 16;
  let text = texts[slot];
  if (text !== undefined) {
    let i = 0;
    while (i < 16 && textBytes[base + i] === bytes[at + i]) i++;
    if (i === 16) return text;
  }
  text = ipv6Text(bytes, at);
  textBytes.set(bytes.subarray(at, at + 16), base);
  texts[slot] = text;
  return text;
}

/** An IPv6 literal with an optional `%scope` (what libuv's uv_ip6_addr parses). */
export function isIPv6Literal(address: string): boolean {
  const pct = address.indexOf('%');
  return isIPv6(pct < 0 ? address : address.slice(0, pct));
}

/**
 * The interface index libuv's uv_ip6_addr gives a `%scope` suffix on a stack of `ports` ports, as
 * its if_nametoindex does: the stack's interfaces are named portN (index N + 1); no suffix, or a name
 * that is none of them (a number included), is 0.
 */
export function scopeIdOf(address: string, ports: number): number {
  const pct = address.indexOf('%');
  if (pct < 0) return 0;
  const m = /^port(0|[1-9]\d*)$/.exec(address.slice(pct + 1));
  const n = m ? Number(m[1]) : ports;
  return n < ports ? n + 1 : 0;
}

/** `address` as ffnet/posix takes it, its scope read as libuv reads it (scopeIdOf): `%<index>`, or none. */
export function withScopeId(address: string, ports: number): string {
  const pct = address.indexOf('%');
  if (pct < 0) return address;
  const id = scopeIdOf(address, ports);
  return id ? `${address.slice(0, pct)}%${id}` : address.slice(0, pct);
}
