/**
 * The dpdk backend of ffnet/dgram: a node:dgram socket over an ff socket of ffnet's user-space
 * stack. It follows node:dgram's state machine step by step — bind states, the queue of sends and
 * connects waiting for bind, lookups, argument checks, the asynchronous callbacks, the event order —
 * and reports failures as node:dgram does (`bind EADDRINUSE 0.0.0.0:41234`, `send EMSGSIZE …`,
 * `recvmsg ECONNREFUSED`). Socket options and memberships live in ./dpdk-options.ts.
 *
 * Like libuv, the ff socket is created lazily, at bind (or a membership call), so an unbound socket
 * reports EBADF where Node does. A udp6 socket is an AF_INET6 ff socket: `::` without ipv6Only takes
 * IPv4 too (sources as `::ffff:a.b.c.d`), link-local addresses carry `%portN` scopes, and an IPv4
 * literal given to it fails as libuv's uv_ip6_addr does (EINVAL).
 *
 * Loopback traffic follows `[dpdk] localhost` (./localhost.ts): datagrams a stack socket does not
 * hold go through a kernel companion socket, which also hears local kernel processes.
 *
 * A socket belongs to the stack that ran when it was created. When that stack closes, the socket
 * closes as if `close()` had been called (one 'close'; later calls throw ERR_SOCKET_DGRAM_NOT_RUNNING),
 * and the callbacks of sends and connects still waiting for a lookup or for the bind get
 * ERR_SOCKET_DGRAM_NOT_RUNNING rather than never being called.
 */
import type { RemoteInfo } from 'node:dgram';
import dns from 'node:dns';
import { EventEmitter } from 'node:events';
import { isIP, isIPv4, type AddressInfo, type BlockList } from 'node:net';
import { constants as osConstants } from 'node:os';
import { DGRAM_COPIED } from '../native/index.js';
import { ipv4Number, sendQueued } from '../posix/send.js';
import { constants as K, FfError, ff_bind, ff_close, ff_connect, ff_getpeername, ff_getsockname, ff_ioctl, ff_setsockopt, ff_socket } from '../posix/index.js';
import type { LegacyState, PktInfoRemoteInfo, SocketBackend, SocketOptions, SocketOwner } from './backend.js';
import { ListBatch, PackedBatch, prepareBatch, type SendBatchCallback } from './batch.js';
import { binding, destination4, destination6, destination6Text, dgramIo, isIPv6Text, PKTINFO_WORDS, scoped, source4, source6, type DgramIo, type Receiver } from './dpdk-io.js';
import { ipv6Bytes, isIPv6Literal } from '../posix/ipv6.js';
import { DpdkOptions } from './dpdk-options.js';
import { listenAddresses, localhostPolicy, LocalhostCompanion, loopbackDestination, parsedDestination, viaKernel, type CompanionOwner, type LoopbackDestination } from './localhost.js';
import type { LocalhostPolicy } from '../config/index.js';
import {
  ERR_INVALID_ARG_VALUE,
  ERR_IP_BLOCKED,
  ERR_SOCKET_ALREADY_BOUND,
  ERR_SOCKET_DGRAM_IS_CONNECTED,
  ERR_SOCKET_DGRAM_NOT_CONNECTED,
  ERR_SOCKET_DGRAM_NOT_RUNNING,
  errnoException,
  exceptionWithHostPort,
  nullHandleError,
  type SystemCallError,
} from './errors.js';
import { bindFailureEventOfNode, isInt32, nodeDefaultLookupAnswersLiterals, normalizeSendArgs, validateObject, validatePort, validateString, type SocketType } from './validators.js';

const E = osConstants.errno;
const BIND_UNBOUND = 0;
const BIND_BINDING = 1;
const BIND_BOUND = 2;
const CONNECT_DISCONNECTED = 0;
const CONNECT_CONNECTING = 1;
const CONNECT_CONNECTED = 2;

type LookupCallback = (err: Error | null, address: string, family?: number) => void;
type Lookup = (host: string, family: number, cb: LookupCallback) => void;
/** Work waiting for the bind; `cancel` settles its callback if the stack closes first. */
type Queued = { run: () => void; cancel?: (err: Error) => void };

/**
 * Node's own dns.lookup, when it is still the one installed as this module loads (Node marks it with
 * its internal customPromisifyArgs symbol; a replacement does not carry it).
 */
const NODE_LOOKUP = Object.getOwnPropertySymbols(dns.lookup).some((sym) => sym.description === 'customPromisifyArgs')
  ? dns.lookup
  : undefined;

/** The ff_* error of a failed control call as a negative errno. */
function errnoOf(err: unknown): number {
  if (err instanceof FfError) return err.errno;
  throw err;
}

/** The state a dpdk socket shares with its option setters (ffnet internal). */
export interface DpdkState {
  readonly type: SocketType;
  /** The ff socket, or -1 before it exists. */
  fd: number;
  /** false after close (node:dgram's `handle === null`). */
  open: boolean;
  /** Throws `Not running` after close. */
  healthCheck(): void;
  /** Creates the ff socket if needed; returns a negative errno on failure. */
  ensureFd(): number;
}

/** One socket of node:dgram's API on ffnet's stack. */
export class DpdkSocket implements SocketBackend, Receiver, DpdkState, CompanionOwner {
  readonly kind = 'dpdk';
  readonly type: SocketType;
  fd = -1;
  open = true;
  readonly #owner: SocketOwner;
  /** The socket's lookup; undefined for Node's later default (see #resolve). */
  readonly #lookup: Lookup | undefined;
  /** What the deprecated `_handle` reports: this socket while open, null once closed (or as set). */
  #handle: unknown = this;
  readonly #opts: SocketOptions;
  readonly #receiveBlockList: BlockList | undefined;
  readonly #sendBlockList: BlockList | undefined;
  readonly #options: DpdkOptions;
  readonly #io: DgramIo;
  #bindState = BIND_UNBOUND;
  #connectState = CONNECT_DISCONNECTED;
  #queue: Queued[] | undefined;
  /** Closed by its stack's close rather than by `close()`. */
  #stackClosed = false;
  #receiving = false;
  #refed = true;
  #holding = false;
  #batch: PackedBatch | undefined;
  /** `[dpdk] localhost` of the socket's stack. */
  readonly #localhost: LocalhostPolicy;
  /** The kernel side of its loopback traffic (./localhost.ts), once needed. */
  #companion: LocalhostCompanion | undefined;
  /** The bound port, once bound (the companion takes the same one). */
  #localPort = 0;
  /** The bind under way is the automatic one of a send or connect (the companion then waits for a datagram for the kernel). */
  #autoBind = false;

  /** Options are already validated by `Socket` (in Node's order); this starts the stack if needed. */
  constructor(owner: SocketOwner, type: SocketType, opts: SocketOptions, receiveBlockList?: BlockList, sendBlockList?: BlockList) {
    this.#io = dgramIo();
    this.#owner = owner;
    this.type = type;
    this.#opts = opts;
    // node:dgram's newHandle: the default is whatever dns.lookup is when the socket is created, or in
    // later releases a lookup that reads dns.lookup at each call.
    this.#lookup = (opts.lookup ?? (nodeDefaultLookupAnswersLiterals() ? undefined : dns.lookup)) as Lookup | undefined;
    this.#receiveBlockList = receiveBlockList;
    this.#sendBlockList = sendBlockList;
    this.#options = new DpdkOptions(this);
    this.#io.add(this);
    this.#localhost = localhostPolicy();
  }

  /** Binds automatically before a send or connect (bindSync when `sync`). */
  #bindAutomatically(sync = false): void {
    this.#autoBind = true;
    try {
      if (sync) this.bindSync(undefined);
      else this.bind([{ port: 0, exclusive: true }, null]);
    } finally {
      this.#autoBind = false;
    }
  }

  get closed(): boolean {
    return !this.open;
  }

  get receiving(): boolean {
    return this.#receiving;
  }

  healthCheck(): void {
    if (!this.open) throw ERR_SOCKET_DGRAM_NOT_RUNNING();
  }

  /** `recvPktInfo`: datagrams come with where they arrived (IP_PKTINFO / IPV6_RECVPKTINFO, set on the fd). */
  get wantsPktInfo(): boolean {
    return !!this.#opts.recvPktInfo;
  }

  ensureFd(): number {
    if (this.fd >= 0) return 0;
    try {
      const fd = ff_socket((this.type === 'udp6' ? K.AF_INET6 : K.AF_INET) as number, K.SOCK_DGRAM as number, 0);
      ff_ioctl(fd, K.FIONBIO as number, 1);
      if (this.#opts.recvPktInfo) {
        if (this.type === 'udp6') ff_setsockopt(fd, K.IPPROTO_IPV6 as number, K.IPV6_RECVPKTINFO as number, 1);
        else ff_setsockopt(fd, K.IPPROTO_IP as number, K.IP_PKTINFO as number, 1);
      }
      this.fd = fd;
      return 0;
    } catch (err) {
      return errnoOf(err);
    }
  }

  /**
   * lookup4/lookup6 of node:dgram: every address goes through the lookup, literals included. Node's
   * own dns.lookup answers a literal of the socket's family on nextTick without resolving; that is
   * done here directly, the literal check remembered per text (Node's costs ~0.7 µs per send for
   * IPv4, several for IPv6).
   */
  #resolve(address: unknown, cb: LookupCallback): void {
    const host = (address || (this.type === 'udp4' ? '127.0.0.1' : '::1')) as string;
    const family = this.type === 'udp4' ? 4 : 6;
    const literal = typeof host === 'string' && (family === 4 ? ipv4Number(host) >= 0 : isIPv6Text(host));
    if (this.#lookup === undefined) {
      // Node's later default lookup: a literal of the socket's family answers itself on nextTick.
      if (literal || isIP(host) === family) process.nextTick(cb, null, host, family);
      else (dns.lookup as Lookup)(host, family, cb);
      return;
    }
    if (this.#lookup === NODE_LOOKUP && literal) {
      process.nextTick(cb, null, host, family);
      return;
    }
    this.#lookup(host, family, cb);
  }

  // --- node:dgram's deprecated private state (DEP0112) ----------------------------------------------

  legacyGet<K extends keyof LegacyState>(key: K): LegacyState[K] {
    const state: LegacyState = {
      handle: this.open ? this.#handle : null,
      receiving: this.#receiving,
      bindState: this.#bindState,
      queue: this.#queue,
      reuseAddr: this.#opts.reuseAddr,
    };
    return state[key];
  }

  legacySet<K extends keyof LegacyState>(key: K, value: LegacyState[K]): void {
    if (key === 'handle') this.#handle = value;
    else if (key === 'receiving') this.#receiving = Boolean(value);
    else if (key === 'bindState') this.#bindState = value as number;
    else if (key === 'queue') this.#queue = value as Queued[] | undefined;
    else this.#opts.reuseAddr = value as boolean | undefined;
  }

  /** Datagrams stay in the socket's ring, as in the kernel's buffer after libuv's recvStop. */
  stopReceiving(): void {
    if (!this.#receiving) return;
    this.#receiving = false;
    this.#companion?.stopReceiving();
    this.#updateHold();
  }

  // --- bind ---------------------------------------------------------------------------------------

  bind(args: unknown[]): void {
    const owner = this.#owner;
    let port = args[0];
    this.healthCheck();
    if (this.#bindState !== BIND_UNBOUND) throw ERR_SOCKET_ALREADY_BOUND();
    this.#bindState = BIND_BINDING;
    const automatic = this.#autoBind;
    const cb = args.length > 0 ? args[args.length - 1] : undefined;
    if (typeof cb === 'function') {
      const failure = bindFailureEventOfNode();
      const removeListeners = (): void => {
        owner.removeListener(failure, removeListeners);
        owner.removeListener('listening', onListening);
      };
      const onListening = (): void => {
        removeListeners();
        (cb as () => void).call(owner);
      };
      owner.on(failure, removeListeners);
      owner.on('listening', onListening);
    }
    let address: unknown;
    if (port !== null && typeof port === 'object') {
      const o = port as { port?: unknown; address?: unknown; fd?: unknown };
      if (isInt32(o.fd) && o.fd > 0) {
        // Kernel descriptors cannot be adopted by the user-space stack.
        throw errnoException(-E.ENOTSUP, 'open');
      }
      address = o.address || '';
      port = o.port;
    } else {
      address = typeof args[1] === 'function' ? '' : args[1];
    }
    if (!address) address = this.type === 'udp4' ? '0.0.0.0' : '::';
    this.#resolve(address, (err, ip) => {
      if (!this.open) return;
      if (err) {
        this.#bindState = BIND_UNBOUND;
        owner.emit('error', err);
        return;
      }
      const rc = this.#bindNow(ip, port, automatic);
      if (rc < 0) {
        this.#bindState = BIND_UNBOUND;
        owner.emit('error', exceptionWithHostPort(rc, 'bind', ip, port));
        return;
      }
      this.#startListening();
    });
  }

  /** An address of the socket's family, as libuv's uv_ip4_addr / uv_ip6_addr parse them. */
  #ofFamily(ip: string): boolean {
    return this.type === 'udp4' ? isIPv4(ip) : isIPv6Literal(ip);
  }

  #bindNow(ip: string, port: unknown, automatic: boolean): number {
    const num = (Number(port || 0) >>> 0) & 0xffff;
    let rc = this.ensureFd();
    if (rc < 0) return rc;
    // libuv: UV_UDP_IPV6ONLY on an IPv4 socket, or an address of the other family, is EINVAL.
    if ((this.#opts.ipv6Only && this.type === 'udp4') || !this.#ofFamily(ip)) return -E.EINVAL;
    try {
      if (this.#opts.ipv6Only) ff_setsockopt(this.fd, K.IPPROTO_IPV6 as number, K.IPV6_V6ONLY as number, 1);
      if (this.#opts.reuseAddr) ff_setsockopt(this.fd, K.SOL_SOCKET as number, K.SO_REUSEADDR as number, 1);
      // Any truthy value, as node:dgram reads it, on every Node release (node:dgram before 22.12 ignores
      // the option): a reusePort member per lcore is how worker threads share a port without crossing.
      if (this.#opts.reusePort) ff_setsockopt(this.fd, K.SOL_SOCKET as number, K.SO_REUSEPORT as number, 1);
      ff_bind(this.fd, { address: scoped(ip), port: num });
      this.#localPort = num || ff_getsockname(this.fd).port;
    } catch (err) {
      rc = errnoOf(err);
    }
    if (rc === 0 && !automatic && this.#localhost !== 'stack') {
      // Bound to a wildcard or loopback address: local kernel processes reach it on loopback too.
      const addresses = listenAddresses(this.type, ip, !!this.#opts.ipv6Only);
      if (addresses) this.#kernelSide().listen(addresses, this.#localPort);
    }
    return rc;
  }

  #kernelSide(): LocalhostCompanion {
    return (this.#companion ??= new LocalhostCompanion(this, !!this.#opts.reuseAddr));
  }

  /** Where a datagram to ip:port goes: a loopback destination the kernel carries, or undefined (the stack). */
  #kernelDestination(ip: string, port: number, parsed?: number | string | Uint8Array): LoopbackDestination | undefined {
    if (this.#localhost === 'stack') return undefined;
    const dest = loopbackDestination(this.type, ip, parsed);
    // An IPv6-only socket has no IPv4: a v4-mapped destination stays the stack's, which refuses it as Linux does.
    if (dest?.family === 4 && this.type === 'udp6' && this.#opts.ipv6Only) return undefined;
    return dest && viaKernel(this.#localhost, dest, port, this.#localPort) ? dest : undefined;
  }

  #startReceiving(): void {
    this.#io.startReceiving(this);
    this.#receiving = true;
    this.#bindState = BIND_BOUND;
    this.#updateHold();
    if (this.#opts.recvBufferSize) this.#options.bufferSize(this.#opts.recvBufferSize, true);
    if (this.#opts.sendBufferSize) this.#options.bufferSize(this.#opts.sendBufferSize, false);
  }

  #startListening(): void {
    this.#startReceiving();
    this.#owner.emit('listening');
  }

  /** A numeric IP literal, as bindSync/connectSync require (they do no DNS lookup). */
  static #numericAddress(address: unknown, name: string, method: string): string {
    validateString(address, name);
    if (isIP(address) === 0) throw ERR_INVALID_ARG_VALUE(name, address, `must be a numeric IP address; ${method} does not perform DNS resolution`);
    return address;
  }

  bindSync(options: unknown = {}): AddressInfo {
    this.healthCheck();
    validateObject(options, 'options');
    if (this.#bindState !== BIND_UNBOUND) throw ERR_SOCKET_ALREADY_BOUND();
    const port = validatePort(options.port ?? 0, 'options.port');
    const address = options.address ? DpdkSocket.#numericAddress(options.address, 'options.address', 'bindSync') : this.type === 'udp4' ? '0.0.0.0' : '::';
    this.#bindState = BIND_BINDING;
    const rc = this.#bindNow(address, port, this.#autoBind);
    if (rc < 0) {
      this.#bindState = BIND_UNBOUND;
      throw exceptionWithHostPort(rc, 'bind', address, port);
    }
    this.#startReceiving();
    process.nextTick(() => {
      if (this.open) this.#owner.emit('listening');
    });
    return this.address();
  }

  #enqueue(run: () => void, cancel?: (err: Error) => void): void {
    const owner = this.#owner;
    if (this.#queue === undefined) {
      this.#queue = [];
      const onListenError = (): void => {
        owner.removeListener('listening', onListenSuccess);
        this.#queue = undefined;
      };
      const onListenSuccess = (): void => {
        owner.removeListener(EventEmitter.errorMonitor, onListenError);
        const queue = this.#queue ?? [];
        this.#queue = undefined;
        for (const entry of queue) entry.run();
      };
      owner.once(EventEmitter.errorMonitor, onListenError);
      owner.once('listening', onListenSuccess);
    }
    this.#queue.push({ run, cancel });
  }

  // --- connect ------------------------------------------------------------------------------------

  connect(port: unknown, address: unknown, callback: unknown): void {
    const p = validatePort(port, 'Port', false);
    if (typeof address === 'function') {
      callback = address;
      address = '';
    } else if (address === undefined) {
      address = '';
    }
    validateString(address, 'address');
    if (this.#connectState !== CONNECT_DISCONNECTED) throw ERR_SOCKET_DGRAM_IS_CONNECTED();
    this.#connectState = CONNECT_CONNECTING;
    if (this.#bindState === BIND_UNBOUND) this.#bindAutomatically();
    if (this.#bindState !== BIND_BOUND) {
      this.#enqueue(() => this.#connect(p, address as string, callback),
        typeof callback === 'function' ? (err) => process.nextTick(callback as (err: Error) => void, err) : undefined);
      return;
    }
    this.#connect(p, address, callback);
  }

  #connect(port: number, address: string, callback: unknown): void {
    const owner = this.#owner;
    if (!this.open) throw nullHandleError('lookup');
    const cb = callback as ((err?: Error) => void) | undefined;
    if (cb) owner.once('connect', cb);
    this.#resolve(address, (ex, ip) => {
      if (!this.open) {
        if (cb && this.#stackClosed) {
          owner.removeListener('connect', cb);
          cb(ERR_SOCKET_DGRAM_NOT_RUNNING());
        }
        return;
      }
      let err: Error | null = ex;
      if (!err && this.#sendBlockList?.check(ip, `ipv${isIP(ip)}` as 'ipv4')) err = ERR_IP_BLOCKED(ip);
      if (!err) {
        let rc = 0;
        if (!this.#ofFamily(ip)) rc = -E.EINVAL;
        else {
          try {
            ff_connect(this.fd, { address: scoped(ip), port });
            this.#connectKernel(ip, port);
          } catch (e) {
            rc = errnoOf(e);
          }
        }
        if (rc < 0) err = exceptionWithHostPort(rc, 'connect', address, port);
      }
      if (err) {
        const failure = err;
        this.#connectState = CONNECT_DISCONNECTED;
        process.nextTick(() => {
          if (cb) {
            owner.removeListener('connect', cb);
            cb(failure);
          } else {
            owner.emit('error', failure);
          }
        });
        return;
      }
      this.#connectState = CONNECT_CONNECTED;
      process.nextTick(() => owner.emit('connect'));
    });
  }

  connectSync(port: unknown, address: unknown): void {
    this.healthCheck();
    const p = validatePort(port, 'Port', false);
    if (this.#connectState !== CONNECT_DISCONNECTED) throw ERR_SOCKET_DGRAM_IS_CONNECTED();
    const ip = address == null || address === '' ? (this.type === 'udp4' ? '127.0.0.1' : '::1') : DpdkSocket.#numericAddress(address, 'address', 'connectSync');
    if (this.#bindState === BIND_UNBOUND) this.#bindAutomatically(true);
    else if (this.#bindState !== BIND_BOUND) throw ERR_SOCKET_ALREADY_BOUND();
    this.#connectState = CONNECT_CONNECTING;
    let err: Error | undefined;
    if (this.#sendBlockList?.check(ip, `ipv${isIP(ip)}` as 'ipv4')) err = ERR_IP_BLOCKED(ip);
    else {
      let rc = 0;
      if (!this.#ofFamily(ip)) rc = -E.EINVAL;
      else {
        try {
          ff_connect(this.fd, { address: scoped(ip), port: p });
          this.#connectKernel(ip, p);
        } catch (e) {
          rc = errnoOf(e);
        }
      }
      if (rc < 0) err = exceptionWithHostPort(rc, 'connect', ip, p);
    }
    if (err) {
      this.#connectState = CONNECT_DISCONNECTED;
      throw err;
    }
    this.#connectState = CONNECT_CONNECTED;
    process.nextTick(() => {
      if (this.open) this.#owner.emit('connect');
    });
  }

  /**
   * connect() to a loopback peer follows `[dpdk] localhost`, decided now: the stack socket is
   * connected either way (remoteAddress, its demux), and a peer only the kernel has gets the sends
   * through a connected kernel companion (whose ECONNREFUSED comes back as node:dgram's).
   */
  #connectKernel(ip: string, port: number): void {
    // Port 0 (connect('0')) names no peer the kernel could carry: it stays the stack's, as before.
    const dest = port === 0 ? undefined : this.#kernelDestination(ip, port);
    if (dest) this.#kernelSide().connect(dest, port, this.#localPort);
  }

  disconnect(): void {
    if (this.#connectState !== CONNECT_CONNECTED) throw ERR_SOCKET_DGRAM_NOT_CONNECTED();
    if (!this.open) throw nullHandleError('disconnect');
    try {
      ff_connect(this.fd, null);
    } catch (err) {
      throw errnoException(errnoOf(err), 'connect');
    }
    this.#companion?.disconnect();
    this.#connectState = CONNECT_DISCONNECTED;
  }

  // --- send ---------------------------------------------------------------------------------------

  send(buffer: unknown, offset: unknown, length: unknown, port: unknown, address: unknown, callback: unknown): void {
    const connected = this.#connectState === CONNECT_CONNECTED;
    const a = normalizeSendArgs(connected, buffer, offset, length, port, address, callback);
    this.healthCheck();
    if (this.#bindState === BIND_UNBOUND) this.#bindAutomatically();
    const list = a.list;
    if (list.length === 0) list.push(Buffer.alloc(0));
    if (this.#bindState !== BIND_BOUND) {
      this.#enqueue(() => this.#owner.send(list, a.port, a.address, a.callback),
        a.callback ? (err) => process.nextTick(a.callback as (err: Error) => void, err) : undefined);
      return;
    }
    if (!connected) {
      this.#resolve(a.address, (ex, ip) => this.#doSend(ex, ip, list, a.address, a.port, a.callback));
    } else {
      this.#doSend(null, null, list, a.address, a.port, a.callback);
    }
  }

  #doSend(ex: Error | null, ip: string | null, list: Buffer[], address: unknown, port: unknown,
    callback: ((error: Error | null, bytes?: number) => void) | undefined): void {
    if (ex) {
      if (callback) process.nextTick(callback, ex);
      else process.nextTick(() => this.#owner.emit('error', ex));
      return;
    }
    if (!this.open) {
      if (callback && this.#stackClosed) process.nextTick(callback, ERR_SOCKET_DGRAM_NOT_RUNNING());
      return;
    }
    if (ip && this.#sendBlockList?.check(ip, `ipv${isIP(ip)}` as 'ipv4')) {
      if (callback) process.nextTick(callback, ERR_IP_BLOCKED(ip));
      return;
    }
    const connected = this.#connectState === CONNECT_CONNECTED;
    if (this.#companion?.connected && connected) {
      this.#companion.sendConnected(list, this.#kernelSent(callback));
      return;
    }
    // Parsed once: for the loopback check and for the addon.
    const dest = !connected && ip && port ? parsedDestination(this.type, ip) : -1;
    const kernelDest = dest !== -1 ? this.#kernelDestination(ip as string, (port as number) & 0xffff, dest) : undefined;
    if (kernelDest) {
      this.#kernelSide().send(list, kernelDest, (port as number) & 0xffff, this.#localPort, this.#kernelSent(callback));
      return;
    }
    const data = list.length === 1 ? (list[0] as Buffer) : Buffer.concat(list);
    let rc: number;
    if (port) {
      // libuv: a destination on a connected socket is EISCONN; family mismatches are EINVAL.
      rc = connected ? -E.EISCONN : dest === -1 ? -E.EINVAL : binding.sendto(this.fd, data, 0, dest, (port as number) & 0xffff);
    } else {
      rc = connected ? binding.sendto(this.fd, data, 0, null, 0) : -E.EDESTADDRREQ;
    }
    if (rc >= 0) {
      sendQueued();
      if (callback) process.nextTick(callback, null, rc);
      return;
    }
    // node:dgram: synchronous send errors go to the callback only (never 'error').
    if (callback) process.nextTick(callback, exceptionWithHostPort(rc, 'send', address, port));
  }

  /** A kernel send's completion, handed on with node:dgram's own arguments (its errors to the callback only). */
  #kernelSent(callback: ((error: Error | null, bytes?: number) => void) | undefined): (...args: [Error | null, number?]) => void {
    return (...args) => callback?.(...args);
  }

  /** Many datagrams in one ff_sendmmsg call; see `Socket.sendBatch`. */
  sendBatch(messages: unknown, callback: unknown): void {
    const connected = this.#connectState === CONNECT_CONNECTED;
    const batch = prepareBatch(messages, connected, this.type);
    const cb = typeof callback === 'function' ? (callback as SendBatchCallback) : undefined;
    this.healthCheck();
    if (this.#bindState === BIND_UNBOUND) this.#bindAutomatically();
    if (this.#bindState !== BIND_BOUND) {
      this.#enqueue(() => this.#sendBatchNow(batch.payloads, batch.addresses, batch.ports, cb, batch.sources),
        cb ? (err) => process.nextTick(cb, err, 0) : undefined);
      return;
    }
    this.#sendBatchNow(batch.payloads, batch.addresses, batch.ports, cb, batch.sources);
  }

  #sendBatchNow(payloads: Buffer[], addresses: Array<string | null>, ports: number[], cb: SendBatchCallback | undefined,
    sources?: Array<string | null>): void {
    if (!this.open) return;
    if (this.#localhost !== 'stack' && this.#sendBatchSplit(payloads, addresses, ports, cb, sources)) return;
    this.#sendBatchStack(payloads, addresses, ports, cb, sources);
  }

  /**
   * sendBatch() with loopback datagrams for the kernel (./localhost.ts): those go through the
   * companion, the rest through the stack in one batch; the callback gets the total and the first
   * error. False when every datagram is the stack's.
   */
  #sendBatchSplit(payloads: Buffer[], addresses: Array<string | null>, ports: number[], cb: SendBatchCallback | undefined,
    sources?: Array<string | null>): boolean {
    const connectedKernel = this.#companion?.connected === true && this.#connectState === CONNECT_CONNECTED;
    const kernel: Array<LoopbackDestination | null> = addresses.map((a, i) =>
      connectedKernel ? null : a === null ? null : this.#kernelDestination(a, ports[i] as number) ?? null);
    const toKernel = connectedKernel ? payloads.length : kernel.filter((d) => d !== null).length;
    if (toKernel === 0) return false;
    const stackIdx: number[] = [];
    if (!connectedKernel) for (let i = 0; i < payloads.length; i++) if (kernel[i] === null) stackIdx.push(i);
    let pending = toKernel + (stackIdx.length ? 1 : 0);
    let sent = 0;
    let firstError: Error | null = null;
    const settle = (err: Error | null, n: number): void => {
      sent += n;
      if (err) firstError ??= err;
      if (--pending === 0 && cb) cb(firstError, sent);
    };
    const companion = this.#kernelSide();
    for (let i = 0; i < payloads.length; i++) {
      const dest = kernel[i];
      const done = (err: Error | null): void => settle(err, err ? 0 : 1);
      if (connectedKernel) companion.sendConnected([payloads[i] as Buffer], done);
      else if (dest) companion.send([payloads[i] as Buffer], dest, ports[i] as number, this.#localPort, done);
    }
    if (stackIdx.length) {
      this.#sendBatchStack(stackIdx.map((i) => payloads[i] as Buffer), stackIdx.map((i) => addresses[i] ?? null),
        stackIdx.map((i) => ports[i] as number), (err, n) => settle(err, n), sources && stackIdx.map((i) => sources[i] ?? null));
    }
    return true;
  }

  #sendBatchStack(payloads: Buffer[], addresses: Array<string | null>, ports: number[], cb: SendBatchCallback | undefined,
    sources?: Array<string | null>): void {
    const total = payloads.length;
    let sent = 0;
    let error: Error | null = null;
    // IPv4 destinations as host-order numbers, IPv6 ones as text (prepareBatch checked each literal).
    const dests = addresses.map((a) => (a === null ? null : parsedDestination(this.type, a)));
    // Chosen sources (IP_PKTINFO): IPv4 as host-order numbers, IPv6 as 16 bytes.
    const froms = sources?.map((a) => (a === null ? null : this.type === 'udp4' ? ipv4Number(a) : ipv6Bytes(a) ?? null));
    while (!error && sent < total) {
      const rest = sent === 0 ? undefined : sent;
      const n = binding.sendmmsg(this.fd, rest ? payloads.slice(rest) : payloads, rest ? dests.slice(rest) : dests,
        rest ? ports.slice(rest) : ports, 0, froms && (rest ? froms.slice(rest) : froms));
      if (n <= 0) {
        error = exceptionWithHostPort(n < 0 ? n : -E.EAGAIN, 'send', addresses[sent] ?? undefined, ports[sent]);
        break;
      }
      sent += n;
    }
    if (sent) sendQueued();
    if (cb) process.nextTick(cb, error, sent);
  }

  // --- close, addresses ---------------------------------------------------------------------------

  close(callback: unknown): void {
    const owner = this.#owner;
    if (typeof callback === 'function') owner.on('close', callback as () => void);
    if (this.#queue !== undefined) {
      this.#queue.push({ run: () => owner.close() });
      return;
    }
    this.healthCheck();
    this.#closeNow();
  }

  #closeNow(): void {
    this.#receiving = false;
    this.#io.remove(this);
    this.open = false;
    this.#updateHold();
    this.#companion?.close();
    if (this.fd >= 0) ff_close(this.fd);
    process.nextTick(() => this.#owner.emit('close'));
  }

  stackClosing(): void {
    if (!this.open) return;
    this.#stackClosed = true;
    const queue = this.#queue ?? [];
    this.#queue = undefined;
    this.#closeNow();
    for (const entry of queue) entry.cancel?.(ERR_SOCKET_DGRAM_NOT_RUNNING());
  }

  address(): AddressInfo {
    this.healthCheck();
    if (this.fd < 0) throw errnoException(-E.EBADF, 'getsockname');
    try {
      const a = ff_getsockname(this.fd);
      return { address: a.address, family: a.family ?? 'IPv4', port: a.port };
    } catch (err) {
      throw errnoException(errnoOf(err), 'getsockname');
    }
  }

  remoteAddress(): AddressInfo {
    this.healthCheck();
    if (this.#connectState !== CONNECT_CONNECTED) throw ERR_SOCKET_DGRAM_NOT_CONNECTED();
    try {
      const a = ff_getpeername(this.fd);
      return { address: a.address, family: a.family ?? 'IPv4', port: a.port };
    } catch (err) {
      throw errnoException(errnoOf(err), 'getpeername');
    }
  }

  // --- receive (called by the shared receive path) --------------------------------------------------

  deliver(bytes: Uint8Array, desc: Uint32Array, count: number, copied: Uint8Array, info?: Uint32Array): void {
    const owner = this.#owner;
    const v6 = this.type === 'udp6';
    const sourceOf = v6 ? source6 : source4;
    const localOf = v6 ? destination6Text : destination4;
    const family = v6 ? 'IPv6' : 'IPv4';
    let n = count;
    const blockList = this.#receiveBlockList;
    if (blockList) {
      // Drop blocked sources before any listener sees them (compacting the descriptors).
      let w = 0;
      for (let r = 0; r < n; r++) {
        if (blockList.check(sourceOf(desc, r * 4, bytes, copied).replace(/%.*$/, ''), v6 ? 'ipv6' : 'ipv4')) continue;
        if (w !== r) {
          desc.copyWithin(w * 4, r * 4, r * 4 + 4);
          info?.copyWithin(w * PKTINFO_WORDS, r * PKTINFO_WORDS, (r + 1) * PKTINFO_WORDS);
        }
        w++;
      }
      n = w;
    }
    if (n === 0) return;
    if (owner.listenerCount('messages') > 0) {
      const batch = (this.#batch ??= new PackedBatch(family, sourceOf, localOf));
      batch.reset(bytes, desc, n, copied, info);
      try {
        owner.emit('messages', batch);
      } finally {
        batch.invalidate();
      }
    }
    for (let i = 0; i < n && this.#receiving; i++) {
      if (owner.listenerCount('message') === 0) return;
      const d = i * 4;
      const off = desc[d] as number;
      const len = desc[d + 1] as number;
      const portWord = desc[d + 3] as number;
      // As node:dgram's: a Buffer of its own, exactly sized, at offset 0 of its ArrayBuffer (the one copy).
      const msg = Buffer.allocUnsafeSlow(len);
      msg.set((portWord & DGRAM_COPIED ? copied : bytes).subarray(off, off + len));
      const rinfo: PktInfoRemoteInfo = { address: sourceOf(desc, d, bytes, copied), family, port: portWord & 0xffff, size: len };
      if (info) rinfo.localAddress = localOf(info, i);
      owner.emit('message', msg, rinfo);
    }
  }

  /** A datagram from a local kernel process (./localhost.ts), emitted as the stack's datagrams are. */
  deliverFromKernel(msg: Buffer, rinfo: RemoteInfo): void {
    if (!this.open || !this.#receiving) return;
    const owner = this.#owner;
    if (this.#receiveBlockList?.check(rinfo.address, this.type === 'udp6' ? 'ipv6' : 'ipv4')) return;
    if (owner.listenerCount('messages') > 0) {
      const batch = new ListBatch([msg], [rinfo]);
      try {
        owner.emit('messages', batch);
      } finally {
        batch.invalidate();
      }
    }
    if (this.#receiving && owner.listenerCount('message') > 0) owner.emit('message', msg, rinfo);
  }

  /** An error of the kernel companion (recvmsg ECONNREFUSED after a kernel-connected send), as node:dgram emits it. */
  kernelError(err: Error): void {
    if (this.open) this.#owner.emit('error', err);
  }

  fail(errno: number): void {
    const err: SystemCallError = errnoException(errno, 'recvmsg');
    this.#owner.emit('error', err);
  }

  // --- liveness -----------------------------------------------------------------------------------

  #updateHold(): void {
    const hold = this.open && this.#receiving && this.#refed;
    if (hold !== this.#holding) {
      this.#holding = hold;
      this.#io.holdLoop(hold ? 1 : -1);
    }
  }

  ref(): void {
    this.#refed = true;
    this.#updateHold();
  }

  unref(): void {
    this.#refed = false;
    this.#updateHold();
  }

  // --- options (./dpdk-options.ts) ------------------------------------------------------------------

  setBroadcast(arg: unknown): void { this.#options.setBroadcast(arg); }
  setTTL(ttl: unknown): number { return this.#options.setTTL(ttl); }
  setMulticastTTL(ttl: unknown): number { return this.#options.setMulticastTTL(ttl); }
  setMulticastLoopback(arg: unknown): unknown { return this.#options.setMulticastLoopback(arg); }
  setMulticastInterface(iface: unknown): void { this.#options.setMulticastInterface(iface); }
  addMembership(m: unknown, i: unknown): void { this.#options.membership('addMembership', m, i); }
  dropMembership(m: unknown, i: unknown): void { this.#options.membership('dropMembership', m, i); }
  addSourceSpecificMembership(s: unknown, g: unknown, i: unknown): void { this.#options.sourceMembership('addSourceSpecificMembership', s, g, i); }
  dropSourceSpecificMembership(s: unknown, g: unknown, i: unknown): void { this.#options.sourceMembership('dropSourceSpecificMembership', s, g, i); }
  setRecvBufferSize(size: unknown): void { this.#options.bufferSize(size, true); }
  setSendBufferSize(size: unknown): void { this.#options.bufferSize(size, false); }
  getRecvBufferSize(): number { return this.#options.bufferSize(0, true); }
  getSendBufferSize(): number { return this.#options.bufferSize(0, false); }

  getSendQueueSize(): number {
    if (!this.open) throw nullHandleError('getSendQueueSize');
    if (this.fd < 0) return 0;
    const r = binding.dgramSendQueue(this.fd);
    return typeof r === 'number' ? 0 : r[0];
  }

  getSendQueueCount(): number {
    if (!this.open) throw nullHandleError('getSendQueueCount');
    if (this.fd < 0) return 0;
    const r = binding.dgramSendQueue(this.fd);
    return typeof r === 'number' ? 0 : r[1];
  }
}
