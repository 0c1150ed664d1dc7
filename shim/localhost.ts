/**
 * Localhost shared with the kernel, for ffnet/dgram's dpdk backend (OpenOnload's model: an
 * accelerated socket is backed by a kernel socket for what the fast path does not carry).
 *
 * On a host whose NIC belongs to DPDK, 127.0.0.0/8 and ::1 are still where agents, resolvers and
 * sidecars live, as kernel processes. `[dpdk] localhost` (config/schema.ts) decides where a dpdk
 * socket's loopback traffic goes:
 * - `stack`: the stack's own loopback only (ffnet before this policy existed);
 * - `both` (default): a datagram to a loopback address and port that a stack socket holds
 *   (binding.localhostHeld, the stack's port namespace) goes over the stack's loopback, any other to
 *   the kernel; a socket bound to a wildcard or loopback address also hears local kernel processes;
 * - `kernel`: every loopback datagram goes through the kernel (stack to stack too), and wildcard or
 *   loopback sockets hear the kernel's localhost.
 *
 * The kernel side of one dpdk socket is a `LocalhostCompanion`: node:dgram sockets (reached as
 * shim/kernel-socket.ts reaches them, never through the register hook), created when first needed —
 * at an explicit bind to a wildcard or loopback address (to hear kernel processes), or at the first
 * datagram for the kernel — and bound on loopback with the dpdk socket's own port, so that a kernel
 * peer's reply comes back to the same application socket: 0.0.0.0 and 127.x as 127.0.0.1 or 127.x;
 * udp6 `::` as ::1 and, unless ipv6Only, 127.0.0.1 too (its sources reported `::ffff:127.0.0.1`, as a
 * dual-stack socket reports them). A port a kernel process holds leaves the companion an ephemeral
 * one: counted (localhost.port_elsewhere) and warned once per process (FFNET_LOCALHOST_PORT).
 *
 * The companion's sockets bind synchronously (their lookup answers literals at once, so node:dgram
 * binds inside `bind()`), never keep the event loop alive (the dpdk socket's own hold decides, as for
 * its stack datagrams), pause with the dpdk socket's receiving and close with it. Everything that
 * crosses is counted in the stack's localhost.* counters: to_kernel, from_kernel, send_errors.
 */
import type * as NodeDgram from 'node:dgram';
import type { LocalhostPolicy } from '../config/index.js';
import { Stack } from '../index.js';
import { LOCALHOST_COUNTER } from '../native/index.js';
import { ipv4Number } from '../posix/ipv4.js';
import { binding, destination6 } from './dpdk-io.js';
import { realDgram, stateSymbolOf } from './kernel-socket.js';
import type { SocketType } from './validators.js';

/** The policy of this thread's stack (`[dpdk] localhost`), `both` when the configuration predates it. */
export function localhostPolicy(): LocalhostPolicy {
  return Stack.current()?.config.localhost ?? 'both';
}

/** A loopback destination the kernel may carry: the family of kernel socket to use and the address it takes. */
export interface LoopbackDestination {
  /** 4: an IPv4 127/8 address (for udp6, written v4-mapped); 6: ::1. */
  family: 4 | 6;
  /** The address as the kernel socket of that family takes it (a v4-mapped one unmapped). */
  kernelAddress: string;
  /** As binding.localhostHeld takes it. */
  key: number | Uint8Array;
}

/** A destination as the addon takes it: an IPv4 one as a number, an IPv6 one as its 16 bytes (or scoped
 *  text); -1 when `ip` is not an address of the socket's family. */
export function parsedDestination(type: SocketType, ip: string): number | string | Uint8Array {
  return type === 'udp4' ? ipv4Number(ip) : destination6(ip);
}

/** `ip` (an address of the socket's family; `parsed`: its parsedDestination, when the caller has it) as a
 *  loopback destination, or undefined for any other. */
export function loopbackDestination(type: SocketType, ip: string, parsed = parsedDestination(type, ip)): LoopbackDestination | undefined {
  if (typeof parsed === 'number') return parsed >= 0 && parsed >>> 24 === 127 ? { family: 4, kernelAddress: ip, key: parsed } : undefined;
  // The 16 bytes destination6 caches per text (no parsing or pattern per send): ::1, or ::ffff:127.x.y.z.
  const bytes = parsed;
  if (!(bytes instanceof Uint8Array)) return undefined;
  for (let i = 0; i < 10; i++) if (bytes[i] !== 0) return undefined;
  if (bytes[10] === 0xff && bytes[11] === 0xff) {
    if (bytes[12] !== 127) return undefined;
    const n = ((bytes[12] << 24) | ((bytes[13] as number) << 16) | ((bytes[14] as number) << 8) | (bytes[15] as number)) >>> 0;
    return { family: 4, kernelAddress: `127.${bytes[13]}.${bytes[14]}.${bytes[15]}`, key: n };
  }
  if (bytes[10] !== 0 || bytes[11] !== 0 || bytes[12] !== 0 || bytes[13] !== 0 || bytes[14] !== 0) return undefined;
  return bytes[15] === 1 ? { family: 6, kernelAddress: '::1', key: bytes } : undefined;
}

/**
 * Whether a dpdk socket bound to `address` hears the kernel's localhost: a wildcard, or a loopback
 * address. Returns the kernel addresses to bind per family (udp6 `::` takes IPv4 too unless ipv6Only).
 */
export function listenAddresses(type: SocketType, address: string, ipv6Only: boolean): { v4?: string; v6?: string } | undefined {
  if (type === 'udp4') {
    if (address === '0.0.0.0') return { v4: '127.0.0.1' };
    return loopbackDestination(type, address) ? { v4: address } : undefined;
  }
  if (address === '::') return ipv6Only ? { v6: '::1' } : { v4: '127.0.0.1', v6: '::1' };
  const dest = loopbackDestination(type, address);
  if (!dest) return undefined;
  return dest.family === 4 ? { v4: dest.kernelAddress } : { v6: '::1' };
}

/** Decides whether a datagram from local port `sport` to `dest`:`port` goes through the kernel. */
export function viaKernel(policy: LocalhostPolicy, dest: LoopbackDestination | undefined, port: number, sport: number): boolean {
  if (!dest || policy === 'stack') return false;
  if (policy === 'kernel') return true;
  // One lookup per datagram (no memo): it scans only the socket slots ever used, ~0.1 µs for tens of sockets.
  return !binding.localhostHeld(dest.key, port, sport);
}

/** Adds n to a stack's localhost counter. */
export function countLocalhost(which: number, n = 1): void {
  binding.localhostCount(which, n);
}

/** What a companion hands its dpdk socket. */
export interface CompanionOwner {
  readonly type: SocketType;
  /** A datagram a kernel process sent (rinfo as the dpdk socket reports sources). */
  deliverFromKernel(msg: Buffer, rinfo: NodeDgram.RemoteInfo): void;
  /** An error of a kernel socket after its bind (recvmsg ECONNREFUSED on a connected one). */
  kernelError(err: Error): void;
}

let portWarned = false;

/** Answers an IP literal at once, so that node:dgram binds, connects and sends inside the call. */
function literalLookup(address: string, family: unknown, cb: (err: Error | null, address: string, family: number) => void): void {
  cb(null, address, address.includes(':') ? 6 : 4);
}

/** A kernel socket of the companion, per family. */
interface KernelSide {
  socket: NodeDgram.Socket;
  /** Bound to the address the dpdk socket listens on (hears kernel processes), not only for sends. */
  listening: boolean;
}

/** The kernel sockets behind one dpdk socket (see the module notes). */
export class LocalhostCompanion {
  readonly #owner: CompanionOwner;
  readonly #reuseAddr: boolean;
  #v4: KernelSide | undefined;
  #v6: KernelSide | undefined;
  #receiving = true;
  #closed = false;
  /** The kernel peer a connected dpdk socket sends to through the kernel. */
  #connected: { side: KernelSide; port: number; address: string } | undefined;

  constructor(owner: CompanionOwner, reuseAddr: boolean) {
    this.#owner = owner;
    this.#reuseAddr = reuseAddr;
  }

  /** Binds kernel sockets on the loopback `addresses` with the dpdk socket's `port`, to hear kernel processes. */
  listen(addresses: { v4?: string; v6?: string }, port: number): void {
    if (addresses.v4 !== undefined && !this.#v4) this.#v4 = this.#open(4, addresses.v4, port, true);
    if (addresses.v6 !== undefined && !this.#v6) this.#v6 = this.#open(6, addresses.v6, port, true);
  }

  /** The kernel socket of `family`, bound on loopback with `port` (an ephemeral one if it is taken). */
  #side(family: 4 | 6, port: number): KernelSide {
    if (family === 4) return (this.#v4 ??= this.#open(4, '127.0.0.1', port, false));
    return (this.#v6 ??= this.#open(6, '::1', port, false));
  }

  #open(family: 4 | 6, address: string, port: number, listening: boolean): KernelSide {
    const socket = realDgram().createSocket({
      type: family === 4 ? 'udp4' : 'udp6',
      reuseAddr: this.#reuseAddr,
      ipv6Only: family === 6,
      lookup: literalLookup as unknown as NodeDgram.SocketOptions['lookup'],
    });
    const side: KernelSide = { socket, listening };
    let bindError: (NodeJS.ErrnoException & { port?: number }) | undefined;
    const onBindError = (err: Error): void => {
      bindError = err;
    };
    socket.once('error', onBindError);
    socket.bind({ address, port, exclusive: true });
    if (bindError?.code === 'EADDRINUSE' && port !== 0) {
      // A kernel process holds the port: replies and kernel clients find this socket elsewhere.
      bindError = undefined;
      countLocalhost(LOCALHOST_COUNTER.portElsewhere);
      if (!portWarned) {
        portWarned = true;
        process.emitWarning(`ffnet/dgram: a kernel process holds ${address}:${port}; datagrams local kernel processes `
          + `exchange with this socket use an ephemeral loopback port instead ([dpdk] localhost)`, { code: 'FFNET_LOCALHOST_PORT' });
      }
      socket.bind({ address, port: 0, exclusive: true });
    }
    socket.removeListener('error', onBindError);
    socket.unref();
    if (bindError) {
      // Loopback is always there; should a bind still fail, datagrams for the kernel report it at send.
      socket.on('error', () => {});
      return side;
    }
    const mapped = this.#owner.type === 'udp6' && family === 4;
    socket.on('message', (msg: Buffer, rinfo: NodeDgram.RemoteInfo) => {
      countLocalhost(LOCALHOST_COUNTER.fromKernel);
      if (this.#closed) return;
      this.#owner.deliverFromKernel(msg, mapped ? { ...rinfo, address: `::ffff:${rinfo.address}`, family: 'IPv6' } : rinfo);
    });
    socket.on('error', (err: Error) => {
      if (!this.#closed) this.#owner.kernelError(err);
    });
    if (!this.#receiving) this.#recvStop(socket);
    return side;
  }

  /** Sends `data` through the kernel to `dest`:`port`; the callback gets node:dgram's result. */
  send(data: Buffer[], dest: LoopbackDestination, port: number, localPort: number,
    callback: (...args: [Error | null, number?]) => void): void {
    const side = this.#side(dest.family, localPort);
    side.socket.send(data, port, dest.kernelAddress, (...args: [Error | null, number?]) => {
      countLocalhost(args[0] ? LOCALHOST_COUNTER.sendErrors : LOCALHOST_COUNTER.toKernel);
      callback(...args);
    });
  }

  /** Connects the kernel socket of dest's family: a connected dpdk socket's sends go to it from now on. */
  connect(dest: LoopbackDestination, port: number, localPort: number): void {
    const side = this.#side(dest.family, localPort);
    side.socket.connect(port, dest.kernelAddress);
    this.#connected = { side, port, address: dest.kernelAddress };
  }

  /** Whether the dpdk socket's peer is reached through the kernel (connect chose it). */
  get connected(): boolean {
    return this.#connected !== undefined;
  }

  /** Sends to the connected kernel peer. */
  sendConnected(data: Buffer[], callback: (...args: [Error | null, number?]) => void): void {
    const peer = this.#connected;
    if (!peer) throw new Error('ffnet/dgram: the localhost companion is not connected');
    peer.side.socket.send(data, (...args: [Error | null, number?]) => {
      countLocalhost(args[0] ? LOCALHOST_COUNTER.sendErrors : LOCALHOST_COUNTER.toKernel);
      callback(...args);
    });
  }

  /** Forgets the kernel peer (the dpdk socket's disconnect). */
  disconnect(): void {
    const peer = this.#connected;
    this.#connected = undefined;
    if (!peer) return;
    try {
      peer.side.socket.disconnect();
    } catch {
      // node:dgram's connect had not completed: nothing to undo.
    }
  }

  /** The dpdk socket stopped receiving: datagrams stay in the kernel's buffer, as libuv's recvStop leaves them. */
  stopReceiving(): void {
    if (!this.#receiving) return;
    this.#receiving = false;
    for (const side of [this.#v4, this.#v6]) if (side) this.#recvStop(side.socket);
  }

  #recvStop(socket: NodeDgram.Socket): void {
    const sym = stateSymbolOf(socket);
    const state = sym ? (socket as unknown as Record<symbol, { handle?: { recvStop?: () => void } } | undefined>)[sym] : undefined;
    state?.handle?.recvStop?.();
  }

  /** Closes the kernel sockets (with the dpdk socket). */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const side of [this.#v4, this.#v6]) {
      try {
        side?.socket.close();
      } catch {
        // Already closed.
      }
    }
    this.#v4 = this.#v6 = undefined;
    this.#connected = undefined;
  }
}
