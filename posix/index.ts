/**
 * `ffnet/posix`: the F-Stack-style socket calls from TypeScript — ff_socket, ff_bind, ff_sendto,
 * ff_recvfrom, ff_sendmmsg/ff_recvmmsg, ff_setsockopt, ff_ioctl, ff_fcntl, ff_epoll_*, ff_route_ctl — on the
 * user-space stack running in this process (start it first with `Stack.start()`).
 *
 * Calls keep their C names and constants; addresses are `{ address, port }`: sockaddr_in for an IPv4
 * literal, sockaddr_in6 for an IPv6 one (AF_INET6 sockets; a link-local address names its port as
 * `fe80::1%port0`, scope id = port index + 1). Results carry `family`.
 * Failures throw an `FfError` carrying `code` ('EADDRINUSE'), `errno` (negative, as Node reports
 * it) and `syscall` ('ff_bind'), with the errno Linux gives for the same UDP call. ff_epoll_wait
 * has a non-blocking form and an awaitable one (`ff_epoll_wait_async`) that the stack wakes when a
 * socket may have become ready — no polling timers.
 */
import { isIPv4 } from 'node:net';
import { constants as osConstants } from 'node:os';
import { errnoName } from '../native/errors.js';
import { Stack, type StackAttachment } from '../index.js';
import { posixBinding } from '../native/index.js';
import { ipv4Number, sendQueued } from './send.js';
import { ipv6Bytes, isIPv6Literal } from './ipv6.js';

/** A failed ff_* call; the message is `<syscall> <code>`, then `: <detail>` when there is one. */
export class FfError extends Error {
  readonly code: string;
  readonly errno: number;
  readonly syscall: string;
  constructor(syscall: string, negErrno: number, detail?: string) {
    const code = errnoName(negErrno);
    super(detail ? `${syscall} ${code}: ${detail}` : `${syscall} ${code}`);
    this.name = 'FfError';
    this.code = code;
    this.errno = -Math.abs(negErrno);
    this.syscall = syscall;
  }
}

/** A socket address: IPv4 (sockaddr_in) or IPv6 (sockaddr_in6, `%scope` allowed). */
export interface SockAddrIn {
  address: string;
  port: number;
  /** Set on results: the family of `address`. */
  family?: 'IPv4' | 'IPv6';
}

/** An IPv6 literal, with an optional non-empty `%scope` suffix (a number or a port name `portN`). */
function isIPv6Scoped(address: string): boolean {
  return isIPv6Literal(address) && !address.endsWith('%');
}

/** One readiness report of ff_epoll_wait. */
export interface EpollEvent {
  events: number;
  /** The number given to ff_epoll_ctl (as epoll_event.data). */
  data: number;
}

/** A datagram received by ff_recvmmsg: `data` views the caller's arena (valid until the next call with it). */
export interface ReceivedDatagram {
  data: Uint8Array;
  address: string;
  port: number;
  /** MSG_TRUNC when the datagram was longer than a slot. */
  flags: number;
}

/**
 * Values for ff_setsockopt: ints as numbers, memberships as objects, IP_MULTICAST_IF as an address.
 * IPv6 memberships (IPV6_JOIN_GROUP, MCAST_JOIN_SOURCE_GROUP) give the interface as an index
 * (port index + 1; 0: any).
 */
export type SockOptValue =
  | number
  | boolean
  | string
  | { multiaddr: string; interface?: string | number }
  | { multiaddr: string; sourceaddr: string; interface?: string | number };


const binding = posixBinding();

/** The system's values of the socket constants (AF_INET, SO_REUSEADDR, EPOLLIN, ...). */
export const constants: Readonly<Record<string, number>> = Object.freeze({ ...binding.constants });

function check(syscall: string, rc: number): number {
  if (rc < 0) throw new FfError(syscall, rc);
  return rc;
}

function addrArg(syscall: string, addr: SockAddrIn): void {
  if (typeof addr !== 'object' || addr === null || typeof addr.address !== 'string' || !(isIPv4(addr.address) || isIPv6Scoped(addr.address)) || !Number.isInteger(addr.port) || addr.port < 0 || addr.port > 65535) {
    throw new FfError(syscall, -osConstants.errno.EINVAL);
  }
}

/** A send's destination, checked as addrArg does: IPv4 as the host-order number the native send
 *  takes, IPv6 as its text. */
function destArg(syscall: string, addr: SockAddrIn): number | string {
  const n = typeof addr === 'object' && addr !== null && typeof addr.address === 'string' ? ipv4Number(addr.address) : -1;
  if (n < 0) {
    addrArg(syscall, addr);
    return addr.address;
  }
  if (!Number.isInteger(addr.port) || addr.port < 0 || addr.port > 65535) {
    throw new FfError(syscall, -osConstants.errno.EINVAL);
  }
  return n;
}

/** A send's result; in inline mode what it queued leaves at this callback's microtask checkpoint (posix/send.ts). */
function sent(syscall: string, rc: number): number {
  if (rc > 0 || (rc === 0 && syscall === 'ff_sendto')) sendQueued();
  return check(syscall, rc);
}

export function ff_socket(domain: number, type: number, protocol = 0): number {
  return check('ff_socket', binding.socket(domain, type, protocol));
}

export function ff_bind(fd: number, addr: SockAddrIn): void {
  addrArg('ff_bind', addr);
  check('ff_bind', binding.bind(fd, addr.address, addr.port));
}

/** Connects to a peer, or disconnects with `null` (AF_UNSPEC). */
export function ff_connect(fd: number, addr: SockAddrIn | null): void {
  if (addr === null) {
    check('ff_connect', binding.connect(fd, null, 0));
    return;
  }
  addrArg('ff_connect', addr);
  check('ff_connect', binding.connect(fd, addr.address, addr.port));
}

export function ff_close(fd: number): void {
  check('ff_close', binding.close(fd));
  epollWaits()?.closed(fd);
}

function bytes(data: Uint8Array | string): Uint8Array {
  return typeof data === 'string' ? Buffer.from(data) : data;
}

/** Sends one datagram; `to` may be omitted on a connected socket. Returns the bytes sent. */
export function ff_sendto(fd: number, data: Uint8Array | string, flags = 0, to?: SockAddrIn): number {
  const dest = to ? destArg('ff_sendto', to) : null;
  return sent('ff_sendto', binding.sendto(fd, bytes(data), flags, dest, to ? to.port : 0));
}

export function ff_send(fd: number, data: Uint8Array | string, flags = 0): number {
  return ff_sendto(fd, data, flags);
}

/** Receives one datagram into `into`; returns its length (the datagram's, with MSG_TRUNC) and source. */
export function ff_recvfrom(fd: number, into: Uint8Array, flags = 0): { bytes: number; from: SockAddrIn } {
  const r = binding.recvfrom(fd, into, flags);
  if (typeof r === 'number') throw new FfError('ff_recvfrom', r);
  return { bytes: r[0], from: { address: r[1], port: r[2], family: r[1].includes(':') ? 'IPv6' : 'IPv4' } };
}

/** Sends a batch of datagrams in one call (sendmmsg); returns how many were sent. */
export function ff_sendmmsg(fd: number, msgs: Array<{ data: Uint8Array | string; to?: SockAddrIn }>, flags = 0): number {
  const dests = msgs.map((m) => (m.to ? destArg('ff_sendmmsg', m.to) : null));
  return sent('ff_sendmmsg', binding.sendmmsg(fd, msgs.map((m) => bytes(m.data)), dests, msgs.map((m) => m.to?.port ?? 0), flags));
}

/** A reusable receive arena for ff_recvmmsg: `max` slots of `slotBytes` each. */
export class RecvArena {
  readonly bytes: Uint8Array;
  readonly desc: Int32Array;
  constructor(readonly max: number, readonly slotBytes = 65536) {
    this.bytes = new Uint8Array(max * slotBytes);
    this.desc = new Int32Array(max * 4);
  }
}

function intToAddr(v: number): string {
  return `${(v >>> 24) & 255}.${(v >>> 16) & 255}.${(v >>> 8) & 255}.${v & 255}`;
}

/** Receives up to arena.max datagrams in one call (recvmmsg); views are valid until the arena is reused. */
export function ff_recvmmsg(fd: number, arena: RecvArena, flags = 0): ReceivedDatagram[] {
  const r = binding.recvmmsg(fd, arena.bytes, arena.slotBytes, arena.max, flags, arena.desc);
  const n = check('ff_recvmmsg', typeof r === 'number' ? r : r[0]);
  const texts = typeof r === 'number' ? undefined : r[1];
  const out: ReceivedDatagram[] = [];
  for (let i = 0; i < n; i++) {
    const len = arena.desc[i * 4] as number;
    const off = i * arena.slotBytes;
    out.push({
      data: arena.bytes.subarray(off, off + Math.min(len, arena.slotBytes)),
      address: texts ? (texts[i] as string) : intToAddr(arena.desc[i * 4 + 1] as number),
      port: arena.desc[i * 4 + 2] as number,
      flags: arena.desc[i * 4 + 3] as number,
    });
  }
  return out;
}

export function ff_getsockname(fd: number): SockAddrIn {
  const r = binding.getsockname(fd);
  if (typeof r === 'number') throw new FfError('ff_getsockname', r);
  return r;
}

export function ff_getpeername(fd: number): SockAddrIn {
  const r = binding.getpeername(fd);
  if (typeof r === 'number') throw new FfError('ff_getpeername', r);
  return r;
}

function ipBytes(addr: string | number | undefined): Uint8Array {
  const a = addr ?? '0.0.0.0';
  if (typeof a !== 'string' || !isIPv4(a)) throw new FfError('ff_setsockopt', -osConstants.errno.EINVAL);
  return Uint8Array.from(a.split('.').map(Number));
}

/** struct sockaddr_in6 in `out` at `at` (within a sockaddr_storage): family, address; port 0. */
function putSin6(out: DataView, at: number, address: string): void {
  out.setUint16(at, constants.AF_INET6 as number, true);
  new Uint8Array(out.buffer, out.byteOffset + at + 8, 16).set(ipv6Option(address));
}

function ipv6Option(address: string): Uint8Array {
  const b = ipv6Bytes(address);
  if (!b) throw new FfError('ff_setsockopt', -osConstants.errno.EINVAL);
  return b;
}

function ifIndex(i: string | number | undefined): number {
  if (i === undefined) return 0;
  if (typeof i === 'number' && Number.isInteger(i) && i >= 0) return i;
  throw new FfError('ff_setsockopt', -osConstants.errno.EINVAL);
}

/** The struct of an IPv6 membership option: ipv6_mreq, or group_source_req for MCAST_*_SOURCE_GROUP. */
function ipv6Membership(name: number, value: { multiaddr: string; sourceaddr?: string; interface?: string | number }): Uint8Array {
  if (name === constants.IPV6_JOIN_GROUP || name === constants.IPV6_LEAVE_GROUP) {
    // struct ipv6_mreq { in6_addr ipv6mr_multiaddr; unsigned ipv6mr_interface; }
    const v = new Uint8Array(20);
    v.set(ipv6Option(value.multiaddr), 0);
    new DataView(v.buffer).setUint32(16, ifIndex(value.interface), true);
    return v;
  }
  // struct group_source_req { uint32 gsr_interface; sockaddr_storage gsr_group, gsr_source; } (8-aligned)
  const v = new Uint8Array(8 + 128 + 128);
  const view = new DataView(v.buffer);
  view.setUint32(0, ifIndex(value.interface), true);
  putSin6(view, 8, value.multiaddr);
  putSin6(view, 136, value.sourceaddr ?? '::');
  return v;
}

export function ff_setsockopt(fd: number, level: number, name: number, value: SockOptValue): void {
  let v: number | Uint8Array;
  if (typeof value === 'number' || typeof value === 'boolean') {
    v = Number(value);
  } else if (typeof value === 'object' && value !== null && level === constants.IPPROTO_IPV6) {
    v = ipv6Membership(name, value);
  } else if (typeof value === 'string') {
    v = ipBytes(value); // IP_MULTICAST_IF: struct in_addr
  } else if ('sourceaddr' in value) {
    // struct ip_mreq_source { imr_multiaddr; imr_interface; imr_sourceaddr; }
    v = new Uint8Array(12);
    v.set(ipBytes(value.multiaddr), 0);
    v.set(ipBytes(value.interface), 4);
    v.set(ipBytes(value.sourceaddr), 8);
  } else {
    // struct ip_mreq { imr_multiaddr; imr_interface; }
    v = new Uint8Array(8);
    v.set(ipBytes(value.multiaddr), 0);
    v.set(ipBytes(value.interface), 4);
  }
  check('ff_setsockopt', binding.setsockopt(fd, level, name, v));
}

/** Reads an int option (IP_MULTICAST_IF: the interface address). */
export function ff_getsockopt(fd: number, level: number, name: number): number | string {
  const r = binding.getsockopt(fd, level, name);
  if (typeof r === 'number') throw new FfError('ff_getsockopt', r);
  return typeof r === 'string' ? r : r[0];
}

/** FIONBIO (value: 0/1) or FIONREAD (returns the next datagram's size). */
export function ff_ioctl(fd: number, request: number, value = 0): number {
  const r = binding.ioctl(fd, request, value);
  if (typeof r === 'number') throw new FfError('ff_ioctl', r);
  return r[0];
}

export function ff_fcntl(fd: number, cmd: number, arg = 0): number {
  return check('ff_fcntl', binding.fcntl(fd, cmd, arg));
}

/**
 * F-Stack's ff_route_ctl: FF_ROUTE_ADD, FF_ROUTE_DEL (the route of lowest metric) or FF_ROUTE_CHANGE
 * (its gateway) for the static route to `dst` — a host with FF_RTF_HOST, dst/netmask (null: a host)
 * with FF_RTF_GATEWAY — via `gw` (on a port's connected subnet; null for a delete), metric 0. Throws
 * an FfError: EINVAL, EEXIST, ENETUNREACH, ESRCH, EPERM, ENOSPC (see posix/ff_api.h).
 */
export function ff_route_ctl(req: number, flag: number, dst: string, gw: string | null = null, netmask: string | null = null): void {
  for (const a of [dst, gw, netmask]) {
    if (a !== null && (typeof a !== 'string' || !isIPv4(a))) throw new FfError('ff_route_ctl', -osConstants.errno.EINVAL, `${String(a)} is not an IPv4 address`);
  }
  check('ff_route_ctl', binding.routeCtl(req, flag, dst, gw, netmask));
}

export function ff_epoll_create(size = 1): number {
  return check('ff_epoll_create', binding.epollCreate(size));
}

export function ff_epoll_ctl(epfd: number, op: number, fd: number, event?: EpollEvent): void {
  check('ff_epoll_ctl', binding.epollCtl(epfd, op, fd, event ? event.events : null, event ? event.data : 0));
}

let waitBuffer = new Float64Array(128);

function collect(epfd: number, maxevents: number, timeout: number): EpollEvent[] {
  if (maxevents * 2 > waitBuffer.length) waitBuffer = new Float64Array(maxevents * 2);
  const n = check('ff_epoll_wait', binding.epollWait(epfd, waitBuffer, maxevents, timeout));
  const out: EpollEvent[] = [];
  for (let i = 0; i < n; i++) out.push({ events: waitBuffer[i * 2] as number, data: waitBuffer[i * 2 + 1] as number });
  return out;
}

/**
 * Readiness of the set's sockets. `timeout` 0 (the default) never blocks; a positive or -1 timeout
 * blocks this thread (in inline mode it turns the stack meanwhile) — prefer ff_epoll_wait_async.
 */
export function ff_epoll_wait(epfd: number, maxevents: number, timeout = 0): EpollEvent[] {
  return collect(epfd, maxevents, timeout);
}

/** An ff_epoll_wait_async call waiting for its set. */
interface Waiter {
  readonly epfd: number;
  /** Looks at the set again (the stack signalled some socket). */
  retry(): void;
  /** Rejects the wait: its set or its stack went away. */
  abort(err: FfError): void;
}

/** ff_epoll_wait_async's waiters on one stack, woken by the stack's wake-up. */
class EpollWaits implements StackAttachment {
  readonly #stack: Stack;
  readonly #waiters = new Set<Waiter>();
  #unwatch: (() => void) | undefined;
  /** Pending waits keep the event loop alive, as a pending read does. */
  #keepAlive: NodeJS.Timeout | undefined;

  constructor(stack: Stack) {
    this.#stack = stack;
  }

  add(w: Waiter): void {
    this.#waiters.add(w);
    this.#unwatch ??= this.#stack.onWake(() => {
      for (const waiter of [...this.#waiters]) waiter.retry();
    });
    this.#keepAlive ??= setInterval(() => {}, 0x7fffffff);
  }

  delete(w: Waiter): void {
    this.#waiters.delete(w);
    if (this.#waiters.size > 0) return;
    // Nobody looks at the sets now: stop the wake-up rather than let it fire unread.
    this.#unwatch?.();
    this.#unwatch = undefined;
    clearInterval(this.#keepAlive);
    this.#keepAlive = undefined;
  }

  /** `epfd` was closed: its waits reject. */
  closed(epfd: number): void {
    for (const w of [...this.#waiters]) {
      if (w.epfd === epfd) w.abort(new FfError('ff_epoll_wait', -osConstants.errno.EBADF, 'the epoll set was closed while waiting'));
    }
  }

  stackClosing(): void {
    for (const w of [...this.#waiters]) w.abort(new FfError('ff_epoll_wait', -osConstants.errno.EBADF, 'the stack closed while waiting'));
  }
}

const EPOLL_WAITS = Symbol('ffnet/posix epoll waits');

/** The waits on the running stack, or undefined when no stack runs. */
function epollWaits(): EpollWaits | undefined {
  const stack = Stack.current();
  return stack?.attachment(EPOLL_WAITS, () => new EpollWaits(stack));
}

/**
 * Awaitable ff_epoll_wait: resolves with the ready sockets as soon as the stack signals one (or
 * with [] after `timeoutMs`; -1 waits forever). The JS thread stays free meanwhile. Rejects with
 * FfError EBADF when the set is closed (ff_close) or the stack closes during the wait.
 */
export function ff_epoll_wait_async(epfd: number, maxevents: number, timeoutMs = -1): Promise<EpollEvent[]> {
  const now = collect(epfd, maxevents, 0);
  if (now.length || timeoutMs === 0) return Promise.resolve(now);
  const waits = epollWaits();
  // collect() succeeded, so a stack runs.
  if (!waits) throw new FfError('ff_epoll_wait', -osConstants.errno.ENETDOWN);
  return new Promise((resolve, reject) => {
    let timer: NodeJS.Timeout | undefined;
    const settle = (events: EpollEvent[] | undefined, err?: Error): void => {
      waits.delete(waiter);
      if (timer) clearTimeout(timer);
      if (err) reject(err);
      else resolve(events ?? []);
    };
    const look = (final: boolean): void => {
      let evs: EpollEvent[];
      try {
        evs = collect(epfd, maxevents, 0);
      } catch (err) {
        settle(undefined, err as Error);
        return;
      }
      if (evs.length || final) settle(evs);
    };
    const waiter: Waiter = { epfd, retry: () => look(false), abort: (err) => settle(undefined, err) };
    waits.add(waiter);
    if (timeoutMs > 0) timer = setTimeout(() => look(true), timeoutMs);
  });
}
