/**
 * The send path shared by ffnet/posix and ffnet/dgram: destinations parsed once each, and sends
 * gathered per turn of the event loop.
 *
 * A destination's dotted quad becomes a host-order number once and is remembered (a bounded table),
 * so a send passes the number to the native call rather than a string to convert and parse.
 *
 * In inline mode a send leaves its datagram on its lcore's TX ring (a ring holding a full burst is
 * drained at once, native/posix.cc); the first send of a synchronous run queues one microtask that
 * hands the rest to the devices. A run of sends thus leaves in full transmit bursts, and a lone send
 * still leaves before control returns to the event loop — in the same callback's microtask
 * checkpoint, not at the next turn of the stack loop.
 */
import { isIPv4 } from 'node:net';
import { posixBinding } from '../native/index.js';

const binding = posixBinding();

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

let kickQueued = false;

function kick(): void {
  kickQueued = false;
  binding.kickTx();
}

/** After a send that queued datagrams: makes sure they leave at this callback's microtask checkpoint. */
export function sendQueued(): void {
  if (kickQueued) return;
  kickQueued = true;
  queueMicrotask(kick);
}
