/**
 * What ffnet/dgram's `Socket` asks of a backend — the kernel one (node:dgram itself) or the dpdk one
 * (ffnet's user-space stack) — and the options both understand. `Socket` forwards every public call
 * here with the caller's raw arguments, so each backend validates exactly as node:dgram does.
 */
import type { SocketOptions as NodeSocketOptions } from 'node:dgram';
import type { EventEmitter } from 'node:events';
import type { AddressInfo, BlockList } from 'node:net';

/**
 * createSocket's options: node:dgram's (Node 22), which ffnet honours on both backends. The members
 * @types/node declares (type, reuseAddr, ipv6Only, buffer sizes, lookup, signal) are its own types,
 * so node:dgram's options are ffnet's.
 */
export interface SocketOptions extends NodeSocketOptions {
  /**
   * Share the port between sockets (SO_REUSEPORT); `bind()` is then exclusive. node:dgram honours it
   * from Node 22.12 / 23.1 (earlier releases ignore it); the dpdk backend on every release.
   */
  reusePort?: boolean | undefined;
  /** Node 22.13+: datagrams from these addresses are dropped before 'message'. */
  receiveBlockList?: BlockList | undefined;
  /** Node 22.13+: sends and connects to these addresses fail with ERR_IP_BLOCKED. */
  sendBlockList?: BlockList | undefined;
  /**
   * ffnet extension (dpdk backend): report where each datagram arrived — `rinfo.localAddress` on
   * 'message', `batch.localAddress(i)` on 'messages' — the address it was sent to (IP_PKTINFO /
   * IPV6_RECVPKTINFO), so a server bound to a wildcard address can answer from it (sendBatch's
   * `from`). Off by default: a socket that does not ask pays nothing. The kernel backend ignores it.
   */
  recvPktInfo?: boolean | undefined;
}

/** node:dgram's rinfo, with the address the datagram was sent to on a `recvPktInfo` socket. */
export interface PktInfoRemoteInfo {
  address: string;
  family: 'IPv4' | 'IPv6';
  port: number;
  size: number;
  /** The datagram's destination address (`%portN` for an IPv6 link-local one); only with `recvPktInfo`. */
  localAddress?: string;
}

/** The `Socket` a backend serves: it emits the backend's events and receives re-dispatched calls. */
export interface SocketOwner extends EventEmitter {
  close(callback?: () => void): unknown;
  send(...args: unknown[]): void;
  sendBatch(messages: unknown, callback?: unknown): void;
}

/**
 * node:dgram's private socket state behind the deprecated (DEP0112) accessors `_handle`,
 * `_receiving`, `_bindState`, `_queue` and `_reuseAddr`.
 */
export interface LegacyState {
  /** The handle (null once closed). */
  handle: unknown;
  receiving: boolean;
  /** 0 unbound, 1 binding, 2 bound. */
  bindState: number;
  /** Sends and connects waiting for the bind to complete, or undefined. */
  queue: unknown;
  reuseAddr: unknown;
}

/** The operations of one socket, with node:dgram's contracts (raw arguments, Node's checks and errors). */
export interface SocketBackend {
  readonly kind: 'dpdk' | 'kernel';
  /** Whether the socket was closed (its handle released). */
  readonly closed: boolean;
  /** Reads node:dgram's private state (the deprecated accessors). */
  legacyGet<K extends keyof LegacyState>(key: K): LegacyState[K];
  /** Writes node:dgram's private state (the deprecated accessors' setters). */
  legacySet<K extends keyof LegacyState>(key: K, value: LegacyState[K]): void;
  /** Throws node:dgram's `Not running` after close. */
  healthCheck(): void;
  /** Stops delivering datagrams ('message' no longer fires) without closing. */
  stopReceiving(): void;
  bind(args: unknown[]): void;
  /** node:dgram's bindSync (later releases): binds now and returns address(); 'listening' follows. */
  bindSync(options: unknown): AddressInfo;
  connect(port: unknown, address: unknown, callback: unknown): void;
  /** node:dgram's connectSync (later releases): connects now (binding first if unbound); 'connect' follows. */
  connectSync(port: unknown, address: unknown): void;
  disconnect(): void;
  send(buffer: unknown, offset: unknown, length: unknown, port: unknown, address: unknown, callback: unknown): void;
  sendBatch(messages: unknown, callback: unknown): void;
  close(callback: unknown): void;
  address(): AddressInfo;
  remoteAddress(): AddressInfo;
  setBroadcast(arg: unknown): void;
  setTTL(ttl: unknown): number;
  setMulticastTTL(ttl: unknown): number;
  setMulticastLoopback(arg: unknown): unknown;
  setMulticastInterface(interfaceAddress: unknown): void;
  addMembership(multicastAddress: unknown, interfaceAddress: unknown): void;
  dropMembership(multicastAddress: unknown, interfaceAddress: unknown): void;
  addSourceSpecificMembership(sourceAddress: unknown, groupAddress: unknown, interfaceAddress: unknown): void;
  dropSourceSpecificMembership(sourceAddress: unknown, groupAddress: unknown, interfaceAddress: unknown): void;
  setRecvBufferSize(size: unknown): void;
  setSendBufferSize(size: unknown): void;
  getRecvBufferSize(): number;
  getSendBufferSize(): number;
  getSendQueueSize(): number;
  getSendQueueCount(): number;
  ref(): void;
  unref(): void;
}
