/**
 * `ffnet/dgram`: a drop-in replacement for `node:dgram`, over ffnet's user-space UDP/IPv4 stack.
 *
 * ```js
 * import dgram from 'ffnet/dgram';            // or: const dgram = require('ffnet/dgram')
 * const s = dgram.createSocket('udp4', (msg, rinfo) => console.log(msg, rinfo));
 * s.bind(41234);
 * ```
 *
 * Exports what node:dgram exports (`createSocket`, `Socket`, the deprecated `_createSocketHandle`)
 * with Node 22's API and the running Node's exact behaviour and error messages. Every `Socket` has
 * one of two backends, shown by `socket.backend`:
 * - `'dpdk'` when a stack is configured: FFNET_CONFIG names an ffnet.ini (the first socket then
 *   starts the stack), or a stack already runs in this process (`Stack.start`); udp6 sockets are the
 *   stack's AF_INET6 sockets (dual stack on `::` unless ipv6Only).
 * - `'kernel'` otherwise: node:dgram itself behind the same class, so programs run anywhere.
 *
 * Beyond node:dgram (see ./batch.ts for the lifetime rules):
 * - `socket.sendBatch(messages, cb)` sends many datagrams in one call (sendmmsg);
 * - the `'messages'` event hands each received batch to one callback (recvmmsg).
 *
 * A 'message' Buffer is the listener's own on both backends, as with node:dgram: exactly sized, at
 * offset 0 of an ArrayBuffer of its own. Differences from node:dgram: `bind({ fd })` cannot adopt a
 * kernel descriptor on the dpdk backend (`open ENOTSUP`); `Socket('udp4')` without `new` throws (a
 * class).
 */
import type { NonSharedBuffer } from 'node:buffer';
import type { BindOptions, RemoteInfo, Socket as NodeDgramSocket } from 'node:dgram';
import diagnostics from 'node:diagnostics_channel';
import { EventEmitter } from 'node:events';
import type { AddressInfo, BlockList } from 'node:net';
import { deprecate } from 'node:util';
import type { LegacyState, SocketBackend, SocketOptions, SocketOwner } from './backend.js';
import type { BatchMessage, DatagramBatch, SendBatchCallback } from './batch.js';
import { dpdkConfigured } from './dpdk-io.js';
import { DpdkSocket } from './dpdk-socket.js';
import { ERR_INVALID_ARG_TYPE, ERR_SOCKET_BAD_TYPE } from './errors.js';
import { KernelSocket, realDgram } from './kernel-socket.js';
// os.networkInterfaces() under ffnet/register: published for the hook when dgram is loaded (see there).
import './network-interfaces.js';
import {
  SUPPORTS_BLOCK_LISTS,
  isBlockList,
  nodeValidatesSizeOptions,
  validateAbortSignal,
  validateFunction,
  validateNumber,
  validateString,
  validateUint32,
  type DatagramPayload,
  type SocketType,
} from './validators.js';

export type { BindOptions, RemoteInfo } from 'node:dgram';
export type { PktInfoRemoteInfo, SocketOptions } from './backend.js';
export type { BatchMessage, DatagramBatch, SendBatchCallback } from './batch.js';
export type { DatagramPayload, SocketType } from './validators.js';

const udpSocketChannel = diagnostics.channel('udp.socket');

/** Node's Symbol.asyncDispose (polyfilled as Symbol.for('nodejs.asyncDispose') in Node 20 and 22). */
const kAsyncDispose: symbol = (Symbol as { asyncDispose?: symbol }).asyncDispose ?? Symbol.for('nodejs.asyncDispose');

/** A 'message' listener, typed as @types/node types node:dgram's. */
type MessageListener = (msg: NonSharedBuffer, rinfo: RemoteInfo) => void;
/** A `send()` callback, typed as @types/node types node:dgram's. */
type SendCallback = (error: Error | null, bytes: number) => void;

/** Validates createSocket's options in Node's order and builds the dpdk backend. */
function dpdkBackend(owner: Socket, type: unknown, listenerOptions: SocketOptions | undefined): { backend: DpdkSocket; type: SocketType } {
  let receiveBlockList: BlockList | undefined;
  let sendBlockList: BlockList | undefined;
  const options = listenerOptions;
  if (options) {
    if (nodeValidatesSizeOptions()) {
      if (options.recvBufferSize) validateUint32(options.recvBufferSize, 'options.recvBufferSize');
      if (options.sendBufferSize) validateUint32(options.sendBufferSize, 'options.sendBufferSize');
    }
    if (SUPPORTS_BLOCK_LISTS) {
      if (options.receiveBlockList) {
        if (!isBlockList(options.receiveBlockList)) throw ERR_INVALID_ARG_TYPE('options.receiveBlockList', 'net.BlockList', options.receiveBlockList);
        receiveBlockList = options.receiveBlockList;
      }
      if (options.sendBlockList) {
        if (!isBlockList(options.sendBlockList)) throw ERR_INVALID_ARG_TYPE('options.sendBlockList', 'net.BlockList', options.sendBlockList);
        sendBlockList = options.sendBlockList;
      }
    }
    if (options.lookup !== undefined) validateFunction(options.lookup, 'lookup');
  }
  if (type !== 'udp4' && type !== 'udp6') throw ERR_SOCKET_BAD_TYPE();
  return { backend: new DpdkSocket(owner, type, options ?? { type }, receiveBlockList, sendBlockList), type };
}

/** A socket's backend, for the deprecated accessors below the class. */
let backendOf: (socket: Socket) => SocketBackend;

/**
 * A UDP socket with node:dgram's API (create it with `createSocket`). Events: 'listening',
 * 'message' (msg, rinfo), 'messages' (batch), 'connect', 'error', 'close'.
 */
export class Socket extends EventEmitter implements SocketOwner {
  /** 'udp4' or 'udp6'. */
  type: SocketType;
  readonly #impl: SocketBackend;

  constructor(type: SocketType | SocketOptions, listener?: MessageListener) {
    super();
    let options: SocketOptions | undefined;
    let sockType: unknown = type;
    if (type !== null && typeof type === 'object') {
      options = type;
      sockType = options.type;
    }
    if (dpdkConfigured()) {
      const { backend, type: t } = dpdkBackend(this, sockType, options);
      this.type = t;
      this.#impl = backend;
    } else {
      const kernel = new KernelSocket(this, type);
      this.type = (kernel.inner as unknown as { type: SocketType }).type;
      this.#impl = kernel;
    }
    if (typeof listener === 'function') this.on('message', listener);
    if (this.#impl.kind === 'dpdk') {
      if (options?.signal !== undefined) {
        const { signal } = options;
        validateAbortSignal(signal, 'options.signal');
        const onAborted = (): void => {
          if (!this.#impl.closed) this.close();
        };
        if (signal.aborted) {
          onAborted();
        } else {
          signal.addEventListener('abort', onAborted, { once: true });
          this.once('close', () => signal.removeEventListener('abort', onAborted));
        }
      }
      if (udpSocketChannel.hasSubscribers) udpSocketChannel.publish({ socket: this });
    }
  }

  /** Where this socket's datagrams go: 'dpdk' (ffnet's user-space stack) or 'kernel' (node:dgram). */
  get backend(): 'dpdk' | 'kernel' {
    return this.#impl.kind;
  }

  /** bind([port][, address][, callback]) or bind(options[, callback]); 'listening' follows. */
  bind(port?: number, address?: string, callback?: () => void): this;
  bind(port?: number, callback?: () => void): this;
  bind(callback?: () => void): this;
  bind(options: BindOptions, callback?: () => void): this;
  bind(port?: unknown, address?: unknown): this {
    // eslint-disable-next-line prefer-rest-params
    this.#impl.bind(Array.prototype.slice.call(arguments));
    return this;
  }

  /**
   * Binds at once to `{ port = 0, address }` (a numeric IP; default all interfaces) and returns
   * address(); 'listening' follows. Present where node:dgram has it (later Node releases).
   */
  bindSync(options: { port?: number; address?: string } = {}): AddressInfo {
    return this.#impl.bindSync(options);
  }

  /**
   * Connects at once to `port` at a numeric IP (default loopback), binding first if unbound;
   * 'connect' follows. Present where node:dgram has it (later Node releases).
   */
  connectSync(port: number, address?: string): void {
    this.#impl.connectSync(port, address);
  }

  /** Associates the socket with one peer (binding it first if needed); 'connect' follows. */
  connect(port: number, address?: string, callback?: () => void): void;
  connect(port: number, callback: () => void): void;
  connect(port: number, address?: unknown, callback?: unknown): void {
    this.#impl.connect(port, address, callback);
  }

  disconnect(): void {
    this.#impl.disconnect();
  }

  /**
   * send(msg[, offset, length][, port][, address][, callback]): one datagram (a list is gathered
   * into one); binds first if needed; the callback always runs asynchronously, `(err, bytes)`.
   */
  send(msg: DatagramPayload | readonly unknown[], port?: number, address?: string, callback?: SendCallback): void;
  send(msg: DatagramPayload | readonly unknown[], port?: number, callback?: SendCallback): void;
  send(msg: DatagramPayload | readonly unknown[], callback?: SendCallback): void;
  send(msg: DatagramPayload, offset: number, length: number, port?: number, address?: string, callback?: SendCallback): void;
  send(msg: DatagramPayload, offset: number, length: number, port?: number, callback?: SendCallback): void;
  send(msg: DatagramPayload, offset: number, length: number, callback?: SendCallback): void;
  send(msg: unknown, offset?: unknown, length?: unknown, port?: unknown, address?: unknown, callback?: unknown): void {
    this.#impl.send(msg, offset, length, port, address, callback);
  }

  /** Legacy: send(buffer, offset, length, port, address, callback) with typed arguments. */
  sendto(buffer: DatagramPayload, offset: number, length: number, port: number, address: string, callback?: SendCallback): void {
    validateNumber(offset, 'offset');
    validateNumber(length, 'length');
    validateNumber(port, 'port');
    validateString(address, 'address');
    this.send(buffer, offset, length, port, address, callback);
  }

  /**
   * Sends many datagrams in one call (ff_sendmmsg on the dpdk backend, a loop of `send()` on the
   * kernel one). Each message names its payload (as `send()` takes), and unless the socket is
   * connected its port and an IPv4 literal address (default 127.0.0.1; names are not resolved).
   * Binds first if needed, like `send()`. The callback runs asynchronously with the first error (a
   * system error shaped like `send()`'s) or null, and how many datagrams went out. Payloads are
   * copied into the stack during the call (after bind), so the caller may reuse them afterwards.
   */
  sendBatch(messages: readonly BatchMessage[], callback?: SendBatchCallback): void {
    this.#impl.sendBatch(messages, callback);
  }

  /** Closes the socket; 'close' follows on the next tick. */
  close(callback?: () => void): this {
    this.#impl.close(callback);
    return this;
  }

  address(): AddressInfo {
    return this.#impl.address();
  }

  remoteAddress(): AddressInfo {
    return this.#impl.remoteAddress();
  }

  setBroadcast(flag: boolean): void {
    this.#impl.setBroadcast(flag);
  }

  setTTL(ttl: number): number {
    return this.#impl.setTTL(ttl);
  }

  setMulticastTTL(ttl: number): number {
    return this.#impl.setMulticastTTL(ttl);
  }

  setMulticastLoopback(flag: boolean): boolean {
    return this.#impl.setMulticastLoopback(flag) as boolean;
  }

  setMulticastInterface(interfaceAddress: string): void {
    this.#impl.setMulticastInterface(interfaceAddress);
  }

  addMembership(multicastAddress: string, interfaceAddress?: string): void {
    this.#impl.addMembership(multicastAddress, interfaceAddress);
  }

  dropMembership(multicastAddress: string, interfaceAddress?: string): void {
    this.#impl.dropMembership(multicastAddress, interfaceAddress);
  }

  addSourceSpecificMembership(sourceAddress: string, groupAddress: string, interfaceAddress?: string): void {
    this.#impl.addSourceSpecificMembership(sourceAddress, groupAddress, interfaceAddress);
  }

  dropSourceSpecificMembership(sourceAddress: string, groupAddress: string, interfaceAddress?: string): void {
    this.#impl.dropSourceSpecificMembership(sourceAddress, groupAddress, interfaceAddress);
  }

  ref(): this {
    this.#impl.ref();
    return this;
  }

  unref(): this {
    this.#impl.unref();
    return this;
  }

  setRecvBufferSize(size: number): void {
    this.#impl.setRecvBufferSize(size);
  }

  setSendBufferSize(size: number): void {
    this.#impl.setSendBufferSize(size);
  }

  getRecvBufferSize(): number {
    return this.#impl.getRecvBufferSize();
  }

  getSendBufferSize(): number {
    return this.#impl.getSendBufferSize();
  }

  /** Payload bytes handed to the network and not yet sent. */
  getSendQueueSize(): number {
    return this.#impl.getSendQueueSize();
  }

  /** Datagrams handed to the network and not yet sent. */
  getSendQueueCount(): number {
    return this.#impl.getSendQueueCount();
  }

  /** Whether close() has released the socket (used by Symbol.asyncDispose). */
  get closed(): boolean {
    return this.#impl.closed;
  }

  static {
    backendOf = (socket) => socket.#impl;
  }
}

// node:dgram's deprecated private accessors (DEP0112), with its messages and code: Node warns once
// per process for the code, whichever of them (or node:dgram's own) is used first.
const LEGACY_STATE: Array<[name: string, key: keyof LegacyState]> = [
  ['_handle', 'handle'], ['_receiving', 'receiving'], ['_bindState', 'bindState'], ['_queue', 'queue'], ['_reuseAddr', 'reuseAddr'],
];
for (const [name, key] of LEGACY_STATE) {
  const message = `Socket.prototype.${name} is deprecated`;
  Object.defineProperty(Socket.prototype, name, {
    get: deprecate(function get(this: Socket) {
      return backendOf(this).legacyGet(key);
    }, message, 'DEP0112'),
    set: deprecate(function set(this: Socket, value: unknown) {
      backendOf(this).legacySet(key, value as never);
    }, message, 'DEP0112'),
  });
}
for (const [name, method] of [['_healthCheck', 'healthCheck'], ['_stopReceiving', 'stopReceiving']] as const) {
  Object.defineProperty(Socket.prototype, name, {
    value: deprecate(function legacy(this: Socket): void {
      backendOf(this)[method]();
    }, `Socket.prototype.${name}() is deprecated`, 'DEP0112'),
    writable: true,
    configurable: true,
    enumerable: true,
  });
}

/* eslint-disable @typescript-eslint/no-explicit-any */
/**
 * Typed events of `Socket`: node:dgram's overloads as @types/node declares them (so a `Socket` is
 * assignable to node:dgram's), plus ffnet's 'messages' (one received batch).
 */
export interface Socket {
  addListener(event: string, listener: (...args: any[]) => void): this;
  addListener(event: 'close', listener: () => void): this;
  addListener(event: 'connect', listener: () => void): this;
  addListener(event: 'error', listener: (err: Error) => void): this;
  addListener(event: 'listening', listener: () => void): this;
  addListener(event: 'message', listener: MessageListener): this;
  addListener(event: 'messages', listener: (batch: DatagramBatch) => void): this;
  emit(event: string | symbol, ...args: any[]): boolean;
  emit(event: 'close'): boolean;
  emit(event: 'connect'): boolean;
  emit(event: 'error', err: Error): boolean;
  emit(event: 'listening'): boolean;
  emit(event: 'message', msg: NonSharedBuffer, rinfo: RemoteInfo): boolean;
  emit(event: 'messages', batch: DatagramBatch): boolean;
  on(event: string, listener: (...args: any[]) => void): this;
  on(event: 'close', listener: () => void): this;
  on(event: 'connect', listener: () => void): this;
  on(event: 'error', listener: (err: Error) => void): this;
  on(event: 'listening', listener: () => void): this;
  on(event: 'message', listener: MessageListener): this;
  on(event: 'messages', listener: (batch: DatagramBatch) => void): this;
  once(event: string, listener: (...args: any[]) => void): this;
  once(event: 'close', listener: () => void): this;
  once(event: 'connect', listener: () => void): this;
  once(event: 'error', listener: (err: Error) => void): this;
  once(event: 'listening', listener: () => void): this;
  once(event: 'message', listener: MessageListener): this;
  once(event: 'messages', listener: (batch: DatagramBatch) => void): this;
  prependListener(event: string, listener: (...args: any[]) => void): this;
  prependListener(event: 'close', listener: () => void): this;
  prependListener(event: 'connect', listener: () => void): this;
  prependListener(event: 'error', listener: (err: Error) => void): this;
  prependListener(event: 'listening', listener: () => void): this;
  prependListener(event: 'message', listener: MessageListener): this;
  prependListener(event: 'messages', listener: (batch: DatagramBatch) => void): this;
  prependOnceListener(event: string, listener: (...args: any[]) => void): this;
  prependOnceListener(event: 'close', listener: () => void): this;
  prependOnceListener(event: 'connect', listener: () => void): this;
  prependOnceListener(event: 'error', listener: (err: Error) => void): this;
  prependOnceListener(event: 'listening', listener: () => void): this;
  prependOnceListener(event: 'message', listener: MessageListener): this;
  prependOnceListener(event: 'messages', listener: (batch: DatagramBatch) => void): this;
  [Symbol.asyncDispose](): Promise<void>;
}
/* eslint-enable @typescript-eslint/no-explicit-any */

// Calls close() and resolves once the socket has closed; resolves at once when already closed.
Object.defineProperty(Socket.prototype, kAsyncDispose, {
  value: async function asyncDispose(this: Socket): Promise<void> {
    if (this.closed) return;
    await new Promise<void>((resolve) => this.close(() => resolve()));
  },
  writable: true,
  configurable: true,
  enumerable: false,
});

// The synchronous bind and connect exist only where node:dgram has them, as the rest of its API does.
for (const name of ['bindSync', 'connectSync'] as const) {
  if (typeof realDgram().Socket.prototype[name as keyof NodeDgramSocket] !== 'function') delete (Socket.prototype as Partial<Socket>)[name];
}

/** Creates a socket: `createSocket('udp4' | 'udp6' | options[, onMessage])`. */
export function createSocket(type: SocketType, callback?: MessageListener): Socket;
export function createSocket(options: SocketOptions, callback?: MessageListener): Socket;
export function createSocket(type: SocketType | SocketOptions, callback?: MessageListener): Socket {
  return new Socket(type, callback);
}

/** Deprecated (DEP0112), as in node:dgram: a kernel UDP handle. */
export const _createSocketHandle = deprecate(
  function _createSocketHandle(address: string, port: number, addressType: number, fd: number, flags: number): unknown {
    const fn = (realDgram() as unknown as { _createSocketHandle: (...a: unknown[]) => unknown })._createSocketHandle;
    return fn(address, port, addressType, fd, flags);
  },
  'dgram._createSocketHandle() is deprecated',
  'DEP0112',
);

type SocketClass = Socket;
type SocketOptionsType = SocketOptions;
type SocketTypeName = SocketType;
const api = { _createSocketHandle, createSocket, Socket };

/**
 * The module as one object, for `import dgram from 'ffnet/dgram'`; a namespace so that, as with
 * node:dgram's default import, `dgram.Socket`, `dgram.RemoteInfo`, ... also name its types.
 */
// eslint-disable-next-line @typescript-eslint/no-namespace
namespace dgram {
  export const { _createSocketHandle, createSocket, Socket } = api;
  export type Socket = SocketClass;
  export type SocketOptions = SocketOptionsType;
  export type SocketType = SocketTypeName;
  export type RemoteInfo = import('node:dgram').RemoteInfo;
  export type BindOptions = import('node:dgram').BindOptions;
  export type BatchMessage = import('./batch.js').BatchMessage;
  export type DatagramBatch = import('./batch.js').DatagramBatch;
  export type SendBatchCallback = import('./batch.js').SendBatchCallback;
  export type PktInfoRemoteInfo = import('./backend.js').PktInfoRemoteInfo;
}
export default dgram;
