/**
 * A dgram module whose sockets lose, duplicate and reorder what they send, with a seeded generator so a
 * failing run can be repeated: the loss injection of the transport tests over any socket (node:dgram, or
 * ffnet/dgram on either backend).
 *
 * Each `send()` is dropped with probability `loss`; otherwise it may be sent twice (`duplicate`) or held
 * back (`reorder`) and sent after the socket's next datagram, or after `holdMs` if none follows. A held
 * datagram is copied, so the caller may reuse its buffer. The wrapped sockets have no batch API, so the
 * transport uses plain send()/'message' over them.
 */
import type { DatagramModule, DatagramSocket, SocketRequest } from '../transport/driver/socket.js';
import { seededRandom } from './random.js';

/** Fault probabilities (0–1) and the seed. */
export interface Faults {
  loss?: number;
  duplicate?: number;
  reorder?: number;
  seed?: number;
  /** Longest a reordered datagram waits for a successor, in ms (default 2). */
  holdMs?: number;
}

/** What the wrapper did, across its sockets. */
export interface FaultCounts {
  sent: number;
  dropped: number;
  duplicated: number;
  reordered: number;
}

/** A dgram module over `inner` whose sockets inject `faults` into everything they send. */
export function lossyDgram(inner: DatagramModule, faults: Faults): DatagramModule & { counts: FaultCounts } {
  const random = seededRandom(faults.seed ?? 1);
  const counts: FaultCounts = { sent: 0, dropped: 0, duplicated: 0, reordered: 0 };
  return {
    counts,
    createSocket(options: SocketRequest): DatagramSocket {
      return lossySocket(inner.createSocket(options), faults, random, counts);
    },
  };
}

function lossySocket(socket: DatagramSocket, faults: Faults, random: () => number, counts: FaultCounts): DatagramSocket {
  const loss = faults.loss ?? 0;
  const duplicate = faults.duplicate ?? 0;
  const reorder = faults.reorder ?? 0;
  const holdMs = faults.holdMs ?? 2;
  let held: { msg: Buffer; port: number; address: string } | null = null;
  let holdTimer: NodeJS.Timeout | null = null;
  let closed = false;
  const release = (): void => {
    if (holdTimer !== null) clearTimeout(holdTimer);
    holdTimer = null;
    const h = held;
    held = null;
    if (h !== null && !closed) socket.send(h.msg, h.port, h.address);
  };
  const wrapper: DatagramSocket = {
    bind: (o, cb) => socket.bind(o, cb),
    send(msg, port, address, cb) {
      counts.sent++;
      if (random() < loss) {
        counts.dropped++;
        cb?.(null, msg.length);
        return;
      }
      if (held === null && random() < reorder) {
        counts.reordered++;
        held = { msg: Buffer.from(msg), port, address };
        holdTimer = setTimeout(release, holdMs);
        cb?.(null, msg.length);
        return;
      }
      socket.send(msg, port, address, cb);
      if (random() < duplicate) {
        counts.duplicated++;
        socket.send(Buffer.from(msg), port, address);
      }
      if (held !== null) release();
    },
    close(cb) {
      closed = true;
      if (holdTimer !== null) clearTimeout(holdTimer);
      return socket.close(cb);
    },
    address: () => socket.address(),
    addMembership: (g, i) => socket.addMembership(g, i),
    setMulticastInterface: (i) => socket.setMulticastInterface(i),
    setMulticastLoopback: (f) => socket.setMulticastLoopback(f),
    setMulticastTTL: (t) => socket.setMulticastTTL(t),
    unref: () => socket.unref(),
    ref: () => socket.ref(),
    on: ((event: string, listener: (...args: never[]) => void) => {
      socket.on(event, listener);
      return wrapper;
    }) as DatagramSocket['on'],
    once: (event, listener) => socket.once(event, listener),
    removeListener: (event, listener) => socket.removeListener(event, listener),
  };
  return wrapper;
}
