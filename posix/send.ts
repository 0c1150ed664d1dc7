/**
 * The send path shared by ffnet/posix and ffnet/dgram: destinations parsed once each, and sends
 * gathered per turn of the event loop.
 *
 * A destination's dotted quad becomes a host-order number once (posix/ipv4.ts), so a send passes the
 * number to the native call rather than a string to convert and parse.
 *
 * In inline mode a send leaves its datagram on its lcore's TX ring (a ring holding a full burst is
 * drained at once, native/posix.cc); the first send of a synchronous run queues one microtask that
 * hands the rest to the devices. A run of sends thus leaves in full transmit bursts, and a lone send
 * still leaves before control returns to the event loop — in the same callback's microtask
 * checkpoint, not at the next turn of the stack loop.
 */
import { posixBinding } from '../native/index.js';

export { ipv4Number } from './ipv4.js';

const binding = posixBinding();

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
