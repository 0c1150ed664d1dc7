/**
 * IPv6 literals as the bytes of an in6_addr (RFC 4291 §2.2 text forms: `::` compression and an
 * embedded dotted quad), for the options whose structs carry addresses (ipv6_mreq, group_source_req).
 * Plain TypeScript, no native dependency.
 */
import { isIPv6 } from 'node:net';

/** The 16 bytes (network order) of an IPv6 literal (a `%scope` suffix is ignored), or undefined. */
export function ipv6Bytes(text: string): Uint8Array | undefined {
  const pct = text.indexOf('%');
  const addr = pct < 0 ? text : text.slice(0, pct);
  if (!isIPv6(addr)) return undefined;
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
