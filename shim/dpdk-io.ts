/**
 * The machinery of ffnet/dgram's dpdk backend: the stack it runs on, and per stack (a DgramIo
 * attached to it) the sockets on it, the receive path they share and the keep-alive.
 *
 * Stack: this thread's handle on the process's stack (`Stack.start`/`startSync`, `Stack.current()`)
 * is used as it is; otherwise the first dpdk socket gets one synchronously and unrefs it, so the
 * sockets alone decide whether the thread stays alive (as node:dgram's do): in a worker_thread of
 * a process whose stack runs it attaches to that stack (its own sockets, and inline its own lcore),
 * else it starts one from FFNET_CONFIG. A worker's sockets close when it exits.
 * In a node:cluster worker whose FFNET_CONFIG is a multi-process primary's (`proc_type = auto`, or
 * `nb_procs`), the stack it starts is a DPDK secondary serving one queue of the primary's ports
 * (config/index.ts, toNativeConfig); a multi-process stack serves only the thread that started it.
 *
 * Receive: the stack's wake-up (`Stack.onWake`) serves every socket. On a wake, posix.dgramReady()
 * names the sockets the stack signalled, and each is drained in batches. Zero-copy where it can: the
 * packet pool's memory is one external ArrayBuffer for this thread (posix.ZcReceiver), a batch of
 * datagrams is lent in place with one descriptor each (offset into that buffer, length, address,
 * port; a datagram in several segments is copied into a scratch buffer and flagged so), and the
 * batch goes back to the pool in one release right after the socket's listeners return. Where the
 * pool cannot be exposed, posix.dgramRecv() copies the batch back to back into the scratch buffer
 * instead. The socket hands 'messages' listeners views (valid during the callback) and copies each
 * datagram once for 'message' listeners. A socket's drain is bounded per turn; what remains is
 * drained on the next setImmediate turn, so one busy socket cannot starve the event loop.
 *
 * Liveness: a keep-alive timer is ref'd while any bound dpdk socket is ref'd; the wake-up itself
 * never holds the loop.
 *
 * End: when the stack closes, its DgramIo closes every socket on it first (each as node:dgram
 * closes one) and stops listening to the wake-up, while the stack's fds are still open, and detaches
 * the pool's ArrayBuffer: a view kept past the stack's life reads as empty, never freed memory.
 */
import { isIPv6 } from 'node:net';
import { constants as osConstants } from 'node:os';
import { Stack, type StackAttachment } from '../index.js';
import { addonUnavailable, DGRAM_COPIED, DGRAM_V6, loadAddon, posixBinding, type NativePosix, type NativeZcReceiver } from '../native/index.js';
import { ipv6Bytes, ipv6TextCached, isIPv6Literal, withScopeId } from '../posix/ipv6.js';

/** The ff_* binding: the hot paths (send, receive) call it directly, skipping FfError. */
export const binding: NativePosix = posixBinding();

const EAGAIN = -osConstants.errno.EAGAIN;
/** Bytes copied per batch: every datagram with dgramRecv, those in several segments when lent. */
const BATCH_BYTES = 256 * 1024;
/** Datagrams per batch. */
const BATCH_MAX = 1024;
/** Batches per socket per turn before yielding to the event loop. */
const ROUNDS_PER_TURN = 64;

/** A dpdk socket as its stack's DgramIo sees it. */
export interface Receiver {
  readonly fd: number;
  /** Whether the socket still receives (false once closed). */
  readonly receiving: boolean;
  /**
   * Handles `count` datagrams described by `desc` (offset, length, address, port word): each lies
   * in `bytes`, or in `copied` when DGRAM_COPIED is set in its port word (the port is its low 16
   * bits). Both are reused once the call returns (lent packet buffers go back to the pool, the
   * scratch buffer is refilled): whatever outlives the call must be copied out of them.
   */
  deliver(bytes: Uint8Array, desc: Uint32Array, count: number, copied: Uint8Array, info?: Uint32Array): void;
  /** Whether it asked where its datagrams arrived (`recvPktInfo`): deliver then gets `info`, six words
   *  per datagram (IPv4 destination, IPv6 destination in four, interface index). */
  readonly wantsPktInfo: boolean;
  /** Reports a pending socket error (negative errno), e.g. ECONNREFUSED from an ICMP port unreachable. */
  fail(errno: number): void;
  /** The stack is closing: close as node:dgram closes a socket, settling what waits on it. */
  stackClosing(): void;
}

let fallbackWarned = false;

/**
 * Whether the dpdk backend is selected: a stack runs in this process (started by this thread or
 * another), or FFNET_CONFIG names one. Without the native addon the kernel backend serves even when
 * FFNET_CONFIG asks for the stack, and a process warning (FFNET_NO_ADDON) says why, once. An addon
 * that does not load counts as missing, so that kernel sockets still work.
 */
export function dpdkConfigured(): boolean {
  if (Stack.current() !== undefined) return true;
  const unavailable = addonUnavailable();
  if (unavailable) {
    if (process.env.FFNET_CONFIG && !fallbackWarned) {
      fallbackWarned = true;
      process.emitWarning(`FFNET_CONFIG names a stack, but ${unavailable}; ffnet/dgram uses the kernel's node:dgram`,
        { code: 'FFNET_NO_ADDON' });
    }
    return false;
  }
  return !!process.env.FFNET_CONFIG || loadAddon().runningConfig() !== null;
}

/**
 * An IPv6 literal as the ff_* calls take it, its `%scope` resolved as libuv resolves an interface
 * name (withScopeId: the stack's ports are the interfaces portN).
 */
export function scoped(ip: string): string {
  return ip.includes('%') ? withScopeId(ip, Stack.current()?.ports().length ?? 0) : ip;
}

const ipv6Texts = new Map<string, boolean>();

/** net.isIPv6 (what Node's dns.lookup takes for a literal), remembered for the last 4096 texts. */
export function isIPv6Text(host: string): boolean {
  let ok = ipv6Texts.get(host);
  if (ok === undefined) {
    if (ipv6Texts.size >= 4096) ipv6Texts.clear();
    ok = isIPv6(host);
    ipv6Texts.set(host, ok);
  }
  return ok;
}

const parsedDestinations = new Map<string, Uint8Array | null>();

/**
 * A udp6 send's destination as the ff_* calls take it, or -1 when it is no IPv6 literal: one without
 * a scope as its 16 bytes, parsed once per text for the last 4096 destinations (a sender sends to
 * few; the addon then builds the sockaddr_in6 without reading text), a scoped one as text (scoped).
 */
export function destination6(ip: string): string | Uint8Array | -1 {
  if (ip.includes('%')) return isIPv6Literal(ip) ? scoped(ip) : -1;
  let bytes = parsedDestinations.get(ip);
  if (bytes === undefined) {
    if (parsedDestinations.size >= 4096) parsedDestinations.clear();
    bytes = ipv6Bytes(ip) ?? null;
    parsedDestinations.set(ip, bytes);
  }
  return bytes ?? -1;
}

/**
 * This thread's handle on the stack dpdk sockets run on: attached or started (unref'd) if it has none
 * yet. Throws what Stack.startSync throws.
 */
export function ensureStack(): Stack {
  const current = Stack.current();
  if (current) return current;
  const stack = Stack.startSync();
  stack.unref();
  return stack;
}

const DGRAM_IO = Symbol('ffnet/dgram');

/** The dgram shim's state on the stack dpdk sockets run on (starting that stack if needed). */
export function dgramIo(): DgramIo {
  const stack = ensureStack();
  return stack.attachment(DGRAM_IO, () => new DgramIo(stack));
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

/** Words per datagram of a batch's `info` (struct ff_dgram_info). */
export const PKTINFO_WORDS = 6;

/** Where datagram i of a batch arrived as a udp4 socket reports it (its IPv4 destination). */
export function destination4(info: Uint32Array, i: number): string {
  return addressString(info[i * PKTINFO_WORDS] as number);
}

/** As destination4 for a udp6 socket: the IPv6 destination (an IPv4 one v4-mapped), with `%portN` for a link-local one. */
export function destination6Text(info: Uint32Array, i: number): string {
  const w = i * PKTINFO_WORDS;
  const bytes = new Uint8Array(info.buffer, info.byteOffset + (w + 1) * 4, 16);
  const text = ipv6TextCached(bytes, 0);
  const ifindex = info[w + 5] as number;
  return bytes[0] === 0xfe && ((bytes[1] as number) & 0xc0) === 0x80 && ifindex ? `${text}%port${ifindex - 1}` : text;
}

/** Datagram d's source as a udp4 socket reports it. */
export function source4(desc: Uint32Array, d: number): string {
  return addressString(desc[d + 2] as number);
}

/**
 * Datagram d's source as a udp6 socket reports it: an IPv6 one (DGRAM_V6) read from the 16 bytes
 * before its payload, with `%portN` for a link-local source's scope; an IPv4 one v4-mapped.
 */
export function source6(desc: Uint32Array, d: number, bytes: Uint8Array, copied: Uint8Array): string {
  const word = desc[d + 3] as number;
  if (!(word & DGRAM_V6)) return `::ffff:${addressString(desc[d + 2] as number)}`;
  const text = ipv6TextCached(word & DGRAM_COPIED ? copied : bytes, (desc[d] as number) - (desc[d + 2] as number));
  const scope = word >>> 24;
  return scope ? `${text}%port${scope - 1}` : text;
}

// --- per-stack state ----------------------------------------------------------------------------

/** The sockets on one stack, their receive path and their hold on the event loop. */
export class DgramIo implements StackAttachment {
  readonly #stack: Stack;
  /** Every open dpdk socket on this stack, bound or not. */
  readonly #sockets = new Set<Receiver>();
  /** Bound sockets by fd. */
  readonly #receivers = new Map<number, Receiver>();
  readonly #readyIds = new Uint32Array(256);
  readonly #desc = new Uint32Array(BATCH_MAX * 4);
  readonly #scratch = new Uint8Array(BATCH_BYTES);
  /** Where each datagram of a batch arrived, for sockets that asked (made once one does). */
  #info: Uint32Array | undefined;
  readonly #pending = new Set<Receiver>();
  #pendingScheduled = false;
  #unwatch: (() => void) | undefined;
  #liveCount = 0;
  #keepAlive: NodeJS.Timeout | undefined;
  /** Lends datagrams in place, with the pool's memory as `#pool`; undefined: copy with dgramRecv. */
  #zc: NativeZcReceiver | undefined;
  #pool: Uint8Array = new Uint8Array(0);

  constructor(stack: Stack) {
    this.#stack = stack;
    const zc = new binding.ZcReceiver();
    if (zc.pool) {
      this.#zc = zc;
      this.#pool = new Uint8Array(zc.pool);
    }
  }

  /** Counts a new socket on this stack (closed with it). */
  add(r: Receiver): void {
    this.#sockets.add(r);
  }

  /** Forgets a closed socket (its datagrams are no longer delivered). */
  remove(r: Receiver): void {
    this.#sockets.delete(r);
    if (this.#receivers.get(r.fd) === r) this.#receivers.delete(r.fd);
    this.#pending.delete(r);
  }

  /** Starts delivering a bound socket's datagrams (the wake-up is watched from the first socket on). */
  startReceiving(r: Receiver): void {
    this.#receivers.set(r.fd, r);
    // First: ff_epoll_wait_async's waiters empty the list of signalled sockets this one reads.
    this.#unwatch ??= this.#stack.onWake(() => this.#onWake(), true);
    // Datagrams may have arrived between bind and now.
    this.#schedule(r);
  }

  /** Counts a bound, ref'd socket (+1) or forgets one (-1); the process stays alive while any is counted. */
  holdLoop(delta: 1 | -1): void {
    this.#liveCount += delta;
    if (this.#liveCount > 0 && !this.#keepAlive) {
      this.#keepAlive = setInterval(() => {}, 0x7fffffff);
    } else if (this.#liveCount === 0 && this.#keepAlive) {
      clearInterval(this.#keepAlive);
      this.#keepAlive = undefined;
    }
  }

  stackClosing(): void {
    for (const r of [...this.#sockets]) r.stackClosing();
    this.#sockets.clear();
    this.#receivers.clear();
    this.#pending.clear();
    this.#unwatch?.();
    this.#unwatch = undefined;
    if (this.#keepAlive) clearInterval(this.#keepAlive);
    this.#keepAlive = undefined;
    this.#liveCount = 0;
    // Before the pool is freed: what is lent goes back, and every view of the pool reads as empty.
    this.#zc?.close();
    this.#zc = undefined;
    this.#pool = new Uint8Array(0);
  }

  #drain(r: Receiver): void {
    for (let round = 0; round < ROUNDS_PER_TURN; round++) {
      if (!r.receiving) return;
      const zc = this.#zc;
      const info = r.wantsPktInfo ? (this.#info ??= new Uint32Array(BATCH_MAX * PKTINFO_WORDS)) : undefined;
      const n = zc ? zc.recv(r.fd, BATCH_MAX, this.#desc, this.#scratch, info) : binding.dgramRecv(r.fd, this.#scratch, BATCH_MAX, this.#desc, info);
      if (n === EAGAIN) return;
      if (n < 0) {
        r.fail(n);
        continue;
      }
      if (!zc) {
        r.deliver(this.#scratch, this.#desc, n, this.#scratch, info);
        continue;
      }
      try {
        r.deliver(this.#pool, this.#desc, n, this.#scratch, info);
      } finally {
        // The listeners have returned: the batch goes back to the pool (a no-op once the stack closed).
        zc.release();
      }
    }
    // Budget spent: come back on the next turn.
    this.#schedule(r);
  }

  #schedule(r: Receiver): void {
    this.#pending.add(r);
    if (!this.#pendingScheduled) {
      this.#pendingScheduled = true;
      setImmediate(() => this.#drainPending());
    }
  }

  #drainPending(): void {
    this.#pendingScheduled = false;
    const list = [...this.#pending];
    this.#pending.clear();
    for (const r of list) if (this.#receivers.get(r.fd) === r) this.#drain(r);
  }

  #onWake(): void {
    const ids = this.#readyIds;
    for (;;) {
      const n = binding.dgramReady(ids);
      if (n <= 0) return;
      for (let i = 0; i < n; i++) {
        const r = this.#receivers.get(ids[i] as number);
        if (r) this.#drain(r);
      }
      if (n < ids.length) return;
    }
  }
}
