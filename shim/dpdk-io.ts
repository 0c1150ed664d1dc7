/**
 * The process-wide machinery of ffnet/dgram's dpdk backend: the stack it runs on, and the receive
 * path shared by every dpdk socket.
 *
 * Stack: a stack already started in this process (`Stack.start`/`startSync`) is used as it is;
 * otherwise the first dpdk socket starts one synchronously from FFNET_CONFIG and unrefs it, so the
 * sockets alone decide whether the process stays alive (as node:dgram's do).
 *
 * Receive: one FdWatch on posix.wakeFd() serves every socket. On a wake, posix.dgramReady() names
 * the sockets the stack signalled, and each is drained with posix.dgramRecv(), which copies
 * datagrams back to back into one reused scratch buffer with one descriptor per datagram. The
 * socket hands 'messages' listeners views into that buffer (valid during the callback) and copies
 * each datagram out for 'message' listeners. A socket's drain is bounded per turn; what remains is
 * drained on the next setImmediate turn, so one busy socket cannot starve the event loop.
 *
 * Liveness: a keep-alive timer is ref'd while any bound dpdk socket is ref'd; the watch itself is
 * unref'd.
 */
import { constants as osConstants } from 'node:os';
import { Stack } from '../index.js';
import { loadAddon, type NativePosix } from '../native/index.js';

/** The ff_* binding: the hot paths (send, receive) call it directly, skipping FfError. */
export const binding: NativePosix = loadAddon().posix;

const EAGAIN = -osConstants.errno.EAGAIN;
/** Bytes copied per dgramRecv call (batches bounded by bytes rather than count). */
const BATCH_BYTES = 256 * 1024;
/** Datagrams per dgramRecv call. */
const BATCH_MAX = 1024;
/** dgramRecv calls per socket per turn before yielding to the event loop. */
const ROUNDS_PER_TURN = 64;

/** A dpdk socket as the receive path sees it. */
export interface Receiver {
  readonly fd: number;
  /** Whether the socket still receives (false once closed). */
  readonly receiving: boolean;
  /**
   * Handles `count` datagrams described by `desc` (offset within `bytes`, length, address, port).
   * `bytes` is reused by the next drain: whatever outlives the call must be copied out of it.
   */
  deliver(bytes: Uint8Array, desc: Uint32Array, count: number): void;
  /** Reports a pending socket error (negative errno), e.g. ECONNREFUSED from an ICMP port unreachable. */
  fail(errno: number): void;
}

/** Whether the dpdk backend is selected: a stack runs in this process, or FFNET_CONFIG names one. */
export function dpdkConfigured(): boolean {
  return Stack.current() !== undefined || !!process.env.FFNET_CONFIG;
}

/** The stack dpdk sockets run on, started (unref'd) from FFNET_CONFIG if none runs yet. */
export function ensureStack(): Stack {
  const current = Stack.current();
  if (current) return current;
  const stack = Stack.startSync();
  stack.unref();
  return stack;
}

// --- address strings ----------------------------------------------------------------------------

const addressCache = new Map<number, string>();

/** The dotted quad of a host-order IPv4 address, built once per distinct address. */
export function addressString(addr: number): string {
  let s = addressCache.get(addr);
  if (s === undefined) {
    if (addressCache.size >= 65536) addressCache.clear();
    s = `${(addr >>> 24) & 255}.${(addr >>> 16) & 255}.${(addr >>> 8) & 255}.${addr & 255}`;
    addressCache.set(addr, s);
  }
  return s;
}

// --- receive path -------------------------------------------------------------------------------

const receivers = new Map<number, Receiver>();
const readyIds = new Uint32Array(256);
const desc = new Uint32Array(BATCH_MAX * 4);
const scratch = new Uint8Array(BATCH_BYTES);
let watch: { close(): void; unref(): void } | undefined;
const pending = new Set<Receiver>();
let pendingScheduled = false;

function drain(r: Receiver): void {
  for (let round = 0; round < ROUNDS_PER_TURN; round++) {
    if (!r.receiving) return;
    const n = binding.dgramRecv(r.fd, scratch, BATCH_MAX, desc);
    if (n === EAGAIN) return;
    if (n < 0) {
      r.fail(n);
      continue;
    }
    r.deliver(scratch, desc, n);
  }
  // Budget spent: come back on the next turn.
  pending.add(r);
  if (!pendingScheduled) {
    pendingScheduled = true;
    setImmediate(drainPending);
  }
}

function drainPending(): void {
  pendingScheduled = false;
  const list = [...pending];
  pending.clear();
  for (const r of list) if (receivers.get(r.fd) === r) drain(r);
}

function onWake(): void {
  for (;;) {
    const n = binding.dgramReady(readyIds);
    if (n <= 0) return;
    for (let i = 0; i < n; i++) {
      const r = receivers.get(readyIds[i] as number);
      if (r) drain(r);
    }
    if (n < readyIds.length) return;
  }
}

/** Starts delivering a bound socket's datagrams (the watch starts with the first socket). */
export function startReceiving(r: Receiver): void {
  receivers.set(r.fd, r);
  if (!watch) {
    const fd = binding.wakeFd();
    if (fd < 0) throw new Error(`ffnet: the stack's wake fd is unavailable (errno ${-fd})`);
    watch = new binding.FdWatch(fd, onWake);
    watch.unref();
  }
  // Datagrams may have arrived between bind and now.
  pending.add(r);
  if (!pendingScheduled) {
    pendingScheduled = true;
    setImmediate(drainPending);
  }
}

/** Stops delivering a socket's datagrams (on close). */
export function stopReceiving(r: Receiver): void {
  if (receivers.get(r.fd) === r) receivers.delete(r.fd);
  pending.delete(r);
}

// --- liveness -----------------------------------------------------------------------------------

let liveCount = 0;
let keepAlive: NodeJS.Timeout | undefined;

/** Counts a bound, ref'd socket (+1) or forgets one (-1); the process stays alive while any is counted. */
export function holdLoop(delta: 1 | -1): void {
  liveCount += delta;
  if (liveCount > 0 && !keepAlive) {
    keepAlive = setInterval(() => {}, 0x7fffffff);
  } else if (liveCount === 0 && keepAlive) {
    clearInterval(keepAlive);
    keepAlive = undefined;
  }
}
