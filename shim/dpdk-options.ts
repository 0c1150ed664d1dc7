/**
 * Socket options of ffnet/dgram's dpdk backend: TTLs, broadcast, multicast loopback and interface,
 * group memberships (any-source and source-specific), and buffer sizes — each through ff_setsockopt,
 * with node:dgram's checks in node:dgram's order (argument types, then libuv's range checks, then
 * EBADF before bind) and its error shapes (`setTTL EINVAL`, `addMembership EADDRINUSE`,
 * `SystemError [ERR_SOCKET_BUFFER_SIZE]`, the TypeError of a closed socket's handle).
 * On udp6 sockets they take libuv's IPv6 options (IPV6_UNICAST_HOPS, IPV6_MULTICAST_HOPS/LOOP/IF,
 * IPV6_JOIN_GROUP, MCAST_JOIN_SOURCE_GROUP); IPv6 interfaces are `%scope` names (`::%port0`).
 */
import { isIPv4, isIPv6 } from 'node:net';
import { constants as osConstants } from 'node:os';
import { constants as K, FfError, ff_bind, ff_getsockname, ff_getsockopt, ff_setsockopt, type SockOptValue } from '../posix/index.js';
import { Stack } from '../index.js';
import { isIPv6Literal, scopeIdOf } from '../posix/ipv6.js';
import type { DpdkState } from './dpdk-socket.js';
import {
  ERR_MISSING_ARGS,
  ERR_SOCKET_BAD_BUFFER_SIZE,
  ERR_SOCKET_BUFFER_SIZE,
  errnoException,
  nullHandleError,
} from './errors.js';
import { isInt32, validateNumber, validateString } from './validators.js';

const E = osConstants.errno;
const c = (name: string): number => K[name] as number;

type MembershipCall = 'addMembership' | 'dropMembership';
type SourceMembershipCall = 'addSourceSpecificMembership' | 'dropSourceSpecificMembership';

/** The option calls of one dpdk socket. */
export class DpdkOptions {
  readonly #s: DpdkState;

  constructor(state: DpdkState) {
    this.#s = state;
  }

  /** ff_setsockopt, as an ErrnoException named after the dgram method on failure. */
  #set(syscall: string, level: number, name: number, value: SockOptValue): void {
    try {
      ff_setsockopt(this.#s.fd, level, name, value);
    } catch (err) {
      if (err instanceof FfError) throw errnoException(err.errno, syscall);
      throw err;
    }
  }

  /** Node dereferences the closed handle; an unbound one has no descriptor yet (EBADF). */
  #requireFd(method: string, syscall: string): void {
    if (!this.#s.open) throw nullHandleError(method);
    if (this.#s.fd < 0) throw errnoException(-E.EBADF, syscall);
  }

  setBroadcast(arg: unknown): void {
    this.#requireFd('setBroadcast', 'setBroadcast');
    this.#set('setBroadcast', c('SOL_SOCKET'), c('SO_BROADCAST'), arg ? 1 : 0);
  }

  setTTL(ttl: unknown): number {
    validateNumber(ttl, 'ttl');
    if (!this.#s.open) throw nullHandleError('setTTL');
    const v = ttl | 0;
    if (v < 1 || v > 255) throw errnoException(-E.EINVAL, 'setTTL');
    this.#requireFd('setTTL', 'setTTL');
    if (this.#s.type === 'udp6') this.#set('setTTL', c('IPPROTO_IPV6'), c('IPV6_UNICAST_HOPS'), v);
    else this.#set('setTTL', c('IPPROTO_IP'), c('IP_TTL'), v);
    return ttl;
  }

  setMulticastTTL(ttl: unknown): number {
    validateNumber(ttl, 'ttl');
    if (!this.#s.open) throw nullHandleError('setMulticastTTL');
    const v = ttl | 0;
    if (v < 0 || v > 255) throw errnoException(-E.EINVAL, 'setMulticastTTL');
    this.#requireFd('setMulticastTTL', 'setMulticastTTL');
    if (this.#s.type === 'udp6') this.#set('setMulticastTTL', c('IPPROTO_IPV6'), c('IPV6_MULTICAST_HOPS'), v);
    else this.#set('setMulticastTTL', c('IPPROTO_IP'), c('IP_MULTICAST_TTL'), v);
    return ttl;
  }

  setMulticastLoopback(arg: unknown): unknown {
    this.#requireFd('setMulticastLoopback', 'setMulticastLoopback');
    if (this.#s.type === 'udp6') this.#set('setMulticastLoopback', c('IPPROTO_IPV6'), c('IPV6_MULTICAST_LOOP'), arg ? 1 : 0);
    else this.#set('setMulticastLoopback', c('IPPROTO_IP'), c('IP_MULTICAST_LOOP'), arg ? 1 : 0);
    return arg;
  }

  setMulticastInterface(interfaceAddress: unknown): void {
    this.#s.healthCheck();
    validateString(interfaceAddress, 'interfaceAddress');
    const syscall = 'setMulticastInterface';
    const v6 = isIPv6Literal(interfaceAddress);
    if (!isIPv4(interfaceAddress) && !(v6 && this.#s.type === 'udp6')) throw errnoException(v6 ? -E.ENOPROTOOPT : -E.EINVAL, syscall);
    this.#requireFd(syscall, syscall);
    // libuv: an IPv6 interface is its scope id (IPV6_MULTICAST_IF takes an interface index).
    if (v6) this.#set(syscall, c('IPPROTO_IPV6'), c('IPV6_MULTICAST_IF'), scopeIdOf(interfaceAddress, Stack.current()?.ports().length ?? 0));
    else this.#set(syscall, c('IPPROTO_IP'), c('IP_MULTICAST_IF'), interfaceAddress);
  }

  /** libuv binds an unbound socket to 0.0.0.0:0 (`::` on udp6; SO_REUSEADDR) before a membership call. */
  #implicitBind(syscall: string): void {
    const rc = this.#s.ensureFd();
    if (rc < 0) throw errnoException(rc, syscall);
    try {
      if (ff_getsockname(this.#s.fd).port !== 0) return;
      ff_setsockopt(this.#s.fd, c('SOL_SOCKET'), c('SO_REUSEADDR'), 1);
      ff_bind(this.#s.fd, { address: this.#s.type === 'udp6' ? '::' : '0.0.0.0', port: 0 });
    } catch (err) {
      if (err instanceof FfError) throw errnoException(err.errno, syscall);
      throw err;
    }
  }

  /** The interface argument of a membership call: undefined/null lets the stack choose. */
  #iface(interfaceAddress: unknown, syscall: string): string | undefined {
    if (interfaceAddress === undefined || interfaceAddress === null) return undefined;
    const s = String(interfaceAddress);
    if (!isIPv4(s)) throw errnoException(-E.EINVAL, syscall);
    return s;
  }

  /** Whether the group is IPv6 (libuv's membership6 on a udp6 socket); throws where libuv fails. */
  #group(address: string, syscall: string): boolean {
    if (isIPv4(address)) return false;
    if (isIPv6Literal(address) && this.#s.type === 'udp6') return true;
    throw errnoException(isIPv6(address) ? -E.ENOPROTOOPT : -E.EINVAL, syscall);
  }

  /** libuv's uv__udp_set_membership6 / source6: the interface is an IPv6 literal's scope id. */
  #iface6(interfaceAddress: unknown, syscall: string): number {
    if (interfaceAddress === undefined || interfaceAddress === null) return 0;
    const s = String(interfaceAddress);
    if (!isIPv6Literal(s)) throw errnoException(-E.EINVAL, syscall);
    return scopeIdOf(s, Stack.current()?.ports().length ?? 0);
  }

  membership(syscall: MembershipCall, multicastAddress: unknown, interfaceAddress: unknown): void {
    this.#s.healthCheck();
    if (!multicastAddress) throw ERR_MISSING_ARGS('multicastAddress');
    const group = String(multicastAddress);
    if (this.#group(group, syscall)) {
      const index = this.#iface6(interfaceAddress, syscall);
      this.#implicitBind(syscall);
      const name6 = syscall === 'addMembership' ? 'IPV6_JOIN_GROUP' : 'IPV6_LEAVE_GROUP';
      this.#set(syscall, c('IPPROTO_IPV6'), c(name6), { multiaddr: group, interface: index });
      return;
    }
    const iface = this.#iface(interfaceAddress, syscall);
    this.#implicitBind(syscall);
    const name = syscall === 'addMembership' ? 'IP_ADD_MEMBERSHIP' : 'IP_DROP_MEMBERSHIP';
    this.#set(syscall, c('IPPROTO_IP'), c(name), iface === undefined ? { multiaddr: group } : { multiaddr: group, interface: iface });
  }

  sourceMembership(syscall: SourceMembershipCall, sourceAddress: unknown, groupAddress: unknown, interfaceAddress: unknown): void {
    this.#s.healthCheck();
    validateString(sourceAddress, 'sourceAddress');
    validateString(groupAddress, 'groupAddress');
    if (this.#group(groupAddress, syscall)) {
      if (!isIPv6Literal(sourceAddress)) throw errnoException(-E.EINVAL, syscall);
      const index = this.#iface6(interfaceAddress, syscall);
      this.#implicitBind(syscall);
      const name6 = syscall === 'addSourceSpecificMembership' ? 'MCAST_JOIN_SOURCE_GROUP' : 'MCAST_LEAVE_SOURCE_GROUP';
      this.#set(syscall, c('IPPROTO_IPV6'), c(name6), { multiaddr: groupAddress, sourceaddr: sourceAddress, interface: index });
      return;
    }
    if (!isIPv4(sourceAddress)) throw errnoException(-E.EINVAL, syscall);
    const iface = this.#iface(interfaceAddress, syscall);
    this.#implicitBind(syscall);
    const name = syscall === 'addSourceSpecificMembership' ? 'IP_ADD_SOURCE_MEMBERSHIP' : 'IP_DROP_SOURCE_MEMBERSHIP';
    const value = iface === undefined
      ? { multiaddr: groupAddress, sourceaddr: sourceAddress }
      : { multiaddr: groupAddress, sourceaddr: sourceAddress, interface: iface };
    this.#set(syscall, c('IPPROTO_IP'), c(name), value);
  }

  /**
   * node:dgram's bufferSize(): 0 reads the size, anything else sets it; sizes must be uint32
   * (ERR_SOCKET_BAD_BUFFER_SIZE) and int32 (a SystemError EINVAL), and need a descriptor (EBADF).
   */
  bufferSize(size: unknown, recv: boolean): number {
    if ((size as number) >>> 0 !== size) throw ERR_SOCKET_BAD_BUFFER_SIZE();
    if (!this.#s.open) throw nullHandleError('bufferSize');
    const syscall = recv ? 'uv_recv_buffer_size' : 'uv_send_buffer_size';
    if (!isInt32(size)) throw ERR_SOCKET_BUFFER_SIZE(syscall, -E.EINVAL);
    if (this.#s.fd < 0) throw ERR_SOCKET_BUFFER_SIZE(syscall, -E.EBADF);
    const opt = c(recv ? 'SO_RCVBUF' : 'SO_SNDBUF');
    try {
      if (size !== 0) {
        ff_setsockopt(this.#s.fd, c('SOL_SOCKET'), opt, size);
        return 0;
      }
      return Number(ff_getsockopt(this.#s.fd, c('SOL_SOCKET'), opt));
    } catch (err) {
      if (err instanceof FfError) throw ERR_SOCKET_BUFFER_SIZE(syscall, err.errno);
      throw err;
    }
  }
}
