/**
 * IPv4 destinations as the native send calls take them: a dotted quad parsed into its host-order
 * number once and remembered in a bounded table, shared by every check and send of that address.
 * Plain TypeScript, with no native dependency, so the kernel backend's batch checks use it too.
 */
import { isIPv4 } from 'node:net';

/** Destinations remembered; the table starts afresh when full (a program that sends to ever new addresses). */
const MAX_ADDRESSES = 1024;
const parsed = new Map<string, number>();

/** The host-order number of an IPv4 dotted quad (parsed once per address), or -1 when it is not one. */
export function ipv4Number(address: string): number {
  let n = parsed.get(address);
  if (n !== undefined) return n;
  if (!isIPv4(address)) return -1;
  const q = address.split('.');
  n = ((Number(q[0]) << 24) | (Number(q[1]) << 16) | (Number(q[2]) << 8) | Number(q[3])) >>> 0;
  if (parsed.size >= MAX_ADDRESSES) parsed.clear();
  parsed.set(address, n);
  return n;
}
