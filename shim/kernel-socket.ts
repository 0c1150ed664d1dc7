/**
 * The kernel backend of ffnet/dgram: node:dgram itself. A `KernelSocket` owns a real node:dgram
 * socket and forwards every call to it unchanged (so validation, errors and timing are Node's own).
 * The real socket has no listeners of its own: its event methods (`on`, `once`, `removeListener`,
 * `emit`, …) act on the ffnet `Socket`, which also shares its hidden state. node:dgram's internal
 * listeners (the queue flush on 'listening', the bind and connect callbacks) therefore sit in the
 * ffnet Socket's listener lists in the order node:dgram registers them, and every event, callback
 * and `this` is observed exactly as with node:dgram. The batch API is emulated: `sendBatch()` loops
 * `send()`, and `'messages'` groups the 'message' events that arrive in one turn of the event loop.
 *
 * The real module is taken with `process.getBuiltinModule` (Node 20.16+), which bypasses module
 * hooks, so `ffnet/register` redirecting 'dgram' never sends ffnet back to itself.
 */
import type * as NodeDgram from 'node:dgram';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import type { LegacyState, SocketBackend, SocketOwner } from './backend.js';
import { ListBatch, prepareBatch, type SendBatchCallback } from './batch.js';

type DgramModule = typeof NodeDgram;

let real: DgramModule | undefined;

/** node:dgram itself, never a module hook's replacement. */
export function realDgram(): DgramModule {
  if (real) return real;
  const getBuiltin = (process as { getBuiltinModule?: (id: string) => unknown }).getBuiltinModule;
  real = (getBuiltin ? getBuiltin('node:dgram') : createRequire(import.meta.url)('node:dgram')) as DgramModule;
  return real;
}

/**
 * node:dgram's Socket.prototype with its deprecated private methods; their DEP0112 warning has
 * already been given by ffnet's accessor (Node warns once per code).
 */
function realProto(): { _healthCheck: () => void; _stopReceiving: () => void } {
  return realDgram().Socket.prototype as unknown as { _healthCheck: () => void; _stopReceiving: () => void };
}

/** The symbol under which node:dgram keeps a socket's hidden state (its handle, queue, bind state). */
function stateSymbolOf(inner: NodeDgram.Socket): symbol | undefined {
  return Object.getOwnPropertySymbols(inner).find((s) => s.description === 'state symbol');
}

/** The EventEmitter methods of the real socket that act on the ffnet Socket instead. */
const DELEGATED = [
  'on', 'addListener', 'once', 'prependListener', 'prependOnceListener', 'off', 'removeListener',
  'removeAllListeners', 'listeners', 'rawListeners', 'listenerCount', 'eventNames',
  'setMaxListeners', 'getMaxListeners',
] as const;

/** One node:dgram socket behind an ffnet `Socket`. */
export class KernelSocket implements SocketBackend {
  readonly kind = 'kernel';
  readonly inner: NodeDgram.Socket;
  readonly #owner: SocketOwner;
  readonly #stateSymbol: symbol | undefined;
  #pending: { msgs: Buffer[]; rinfos: NodeDgram.RemoteInfo[] } | undefined;

  /** Creates the real socket (Node validates `typeOrOptions` and throws its own errors). */
  constructor(owner: SocketOwner, typeOrOptions: unknown) {
    this.#owner = owner;
    this.inner = realDgram().createSocket(typeOrOptions as NodeDgram.SocketOptions);
    const inner = this.inner as unknown as Record<string | symbol, unknown>;
    const target = owner as unknown as Record<string | symbol, (...a: unknown[]) => unknown>;
    // The ffnet Socket holds the real socket's state too: node:dgram's internal listeners (which
    // run with the emitter as `this`) read it through `this`.
    this.#stateSymbol = stateSymbolOf(this.inner);
    if (this.#stateSymbol) {
      Object.defineProperty(owner, this.#stateSymbol, Object.getOwnPropertyDescriptor(inner, this.#stateSymbol)!);
    }
    // Listeners node:dgram registered while creating the socket (createSocket's message listener,
    // the abort signal's close) move to the ffnet Socket, in order.
    const emitter = this.inner as unknown as NodeJS.EventEmitter;
    for (const name of emitter.eventNames()) {
      for (const fn of emitter.rawListeners(name)) {
        const listener = (fn as { listener?: (...a: unknown[]) => void }).listener;
        if (listener) owner.once(name, listener);
        else owner.on(name, fn as (...a: unknown[]) => void);
      }
    }
    emitter.removeAllListeners();
    for (const name of DELEGATED) {
      Object.defineProperty(inner, name, {
        value: (...a: unknown[]): unknown => {
          const ret = target[name]!.apply(owner, a);
          return ret === owner ? inner : ret;
        },
        writable: true,
        configurable: true,
        enumerable: false,
      });
    }
    Object.defineProperty(inner, 'emit', {
      value: (event: string | symbol, ...args: unknown[]): boolean => {
        if (event === 'message' && owner.listenerCount('messages') > 0) this.#collect(args[0] as Buffer, args[1] as NodeDgram.RemoteInfo);
        return owner.emit(event, ...args);
      },
      writable: true,
      configurable: true,
      enumerable: false,
    });
  }

  #collect(msg: Buffer, rinfo: NodeDgram.RemoteInfo): void {
    if (!this.#pending) {
      this.#pending = { msgs: [], rinfos: [] };
      setImmediate(() => {
        const p = this.#pending;
        this.#pending = undefined;
        if (!p || p.msgs.length === 0) return;
        const batch = new ListBatch(p.msgs, p.rinfos);
        try {
          this.#owner.emit('messages', batch);
        } finally {
          batch.invalidate();
        }
      });
    }
    this.#pending.msgs.push(msg);
    this.#pending.rinfos.push(rinfo);
  }

  get closed(): boolean {
    if (!this.#stateSymbol) return false;
    const state = (this.inner as unknown as Record<symbol, { handle: unknown }>)[this.#stateSymbol];
    return state ? state.handle === null : false;
  }

  legacyGet<K extends keyof LegacyState>(key: K): LegacyState[K] {
    return this.#state()[key] as LegacyState[K];
  }

  legacySet<K extends keyof LegacyState>(key: K, value: LegacyState[K]): void {
    this.#state()[key] = value;
  }

  /** node:dgram's hidden state of the real socket (shared with the ffnet Socket). */
  #state(): Record<string, unknown> {
    return (this.inner as unknown as Record<symbol, Record<string, unknown>>)[this.#stateSymbol as symbol] ?? {};
  }

  healthCheck(): void {
    realProto()._healthCheck.call(this.inner);
  }

  stopReceiving(): void {
    realProto()._stopReceiving.call(this.inner);
  }

  bind(args: unknown[]): void {
    (this.inner.bind as (...a: unknown[]) => unknown)(...args);
  }

  connect(port: unknown, address: unknown, callback: unknown): void {
    (this.inner.connect as (...a: unknown[]) => void)(port, address, callback);
  }

  disconnect(): void {
    this.inner.disconnect();
  }

  send(buffer: unknown, offset: unknown, length: unknown, port: unknown, address: unknown, callback: unknown): void {
    (this.inner.send as (...a: unknown[]) => void)(buffer, offset, length, port, address, callback);
  }

  sendBatch(messages: unknown, callback: unknown): void {
    let connected = true;
    try {
      this.inner.remoteAddress();
    } catch {
      connected = false;
    }
    const type = (this.inner as unknown as { type: 'udp4' | 'udp6' }).type;
    const { payloads, addresses, ports } = prepareBatch(messages, connected, type);
    const cb = typeof callback === 'function' ? (callback as SendBatchCallback) : undefined;
    const n = payloads.length;
    if (n === 0) {
      if (cb) process.nextTick(cb, null, 0);
      return;
    }
    let done = 0;
    let sent = 0;
    let firstError: Error | null = null;
    const each = cb
      ? (err: Error | null): void => {
        if (err) firstError ??= err;
        else sent++;
        if (++done === n) cb(firstError, sent);
      }
      : undefined;
    for (let i = 0; i < n; i++) {
      if (connected) this.inner.send(payloads[i] as Buffer, each);
      else this.inner.send(payloads[i] as Buffer, ports[i] as number, addresses[i] as string, each);
    }
  }

  close(callback: unknown): void {
    (this.inner.close as (cb: unknown) => void)(callback);
  }

  address(): AddressInfo {
    return this.inner.address();
  }

  remoteAddress(): AddressInfo {
    return this.inner.remoteAddress();
  }

  setBroadcast(arg: unknown): void {
    this.inner.setBroadcast(arg as boolean);
  }

  setTTL(ttl: unknown): number {
    return this.inner.setTTL(ttl as number);
  }

  setMulticastTTL(ttl: unknown): number {
    return this.inner.setMulticastTTL(ttl as number);
  }

  setMulticastLoopback(arg: unknown): unknown {
    return this.inner.setMulticastLoopback(arg as boolean);
  }

  setMulticastInterface(interfaceAddress: unknown): void {
    this.inner.setMulticastInterface(interfaceAddress as string);
  }

  addMembership(multicastAddress: unknown, interfaceAddress: unknown): void {
    this.inner.addMembership(multicastAddress as string, interfaceAddress as string);
  }

  dropMembership(multicastAddress: unknown, interfaceAddress: unknown): void {
    this.inner.dropMembership(multicastAddress as string, interfaceAddress as string);
  }

  addSourceSpecificMembership(sourceAddress: unknown, groupAddress: unknown, interfaceAddress: unknown): void {
    this.inner.addSourceSpecificMembership(sourceAddress as string, groupAddress as string, interfaceAddress as string);
  }

  dropSourceSpecificMembership(sourceAddress: unknown, groupAddress: unknown, interfaceAddress: unknown): void {
    this.inner.dropSourceSpecificMembership(sourceAddress as string, groupAddress as string, interfaceAddress as string);
  }

  setRecvBufferSize(size: unknown): void {
    this.inner.setRecvBufferSize(size as number);
  }

  setSendBufferSize(size: unknown): void {
    this.inner.setSendBufferSize(size as number);
  }

  getRecvBufferSize(): number {
    return this.inner.getRecvBufferSize();
  }

  getSendBufferSize(): number {
    return this.inner.getSendBufferSize();
  }

  getSendQueueSize(): number {
    return this.inner.getSendQueueSize();
  }

  getSendQueueCount(): number {
    return this.inner.getSendQueueCount();
  }

  ref(): void {
    this.inner.ref();
  }

  unref(): void {
    this.inner.unref();
  }
}

