/**
 * What the transport needs from a UDP socket: the part of node:dgram's Socket API it calls. ffnet/dgram's
 * Socket (either backend) and node:dgram's own satisfy it, so a transport runs over the stack, over the
 * kernel, or over a test wrapper that injects faults. Also the transport's clock.
 *
 * When the socket has ffnet's batch API (`sendBatch` and the `'messages'` event) the endpoints use it:
 * one callback per received batch and one call per burst of sent datagrams.
 */
import type { RemoteInfo } from 'node:dgram';

/** A received batch as ffnet/dgram's `'messages'` event hands it over (views valid during the callback). */
export interface ReceivedBatch {
  readonly count: number;
  data(i: number): Uint8Array;
  address(i: number): string;
  port(i: number): number;
}

/** One datagram of a `sendBatch()` call. */
export interface OutgoingDatagram {
  msg: Uint8Array;
  port: number;
  address: string;
}

/** The socket calls the transport makes. */
export interface DatagramSocket {
  bind(options: { port?: number; address?: string; exclusive?: boolean }, callback?: () => void): unknown;
  send(msg: Uint8Array, port: number, address: string, callback?: (error: Error | null, bytes: number) => void): void;
  close(callback?: () => void): unknown;
  address(): { address: string; port: number };
  addMembership(group: string, iface?: string): void;
  setMulticastInterface(iface: string): void;
  setMulticastLoopback(flag: boolean): unknown;
  setMulticastTTL(ttl: number): unknown;
  unref(): unknown;
  ref(): unknown;
  on(event: 'message', listener: (msg: Buffer, rinfo: RemoteInfo) => void): unknown;
  on(event: 'error', listener: (error: Error) => void): unknown;
  on(event: string, listener: (...args: never[]) => void): unknown;
  once(event: 'error', listener: (error: Error) => void): unknown;
  removeListener(event: 'error', listener: (error: Error) => void): unknown;
  /** ffnet/dgram's burst send, when present. */
  sendBatch?(messages: OutgoingDatagram[], callback?: (error: Error | null, sent: number) => void): void;
}

/** Options the transport passes to `createSocket`. */
export interface SocketRequest {
  type: 'udp4' | 'udp6';
  reuseAddr?: boolean;
  recvBufferSize?: number;
  sendBufferSize?: number;
}

/** A module with node:dgram's `createSocket`: node:dgram, ffnet/dgram, or a wrapper around one. */
export interface DatagramModule {
  createSocket(options: SocketRequest): DatagramSocket;
}

/** True when the socket delivers batches through a `'messages'` event (ffnet/dgram). */
export function hasBatchApi(socket: DatagramSocket): boolean {
  return typeof socket.sendBatch === 'function';
}

/** Binds `socket`, rejecting with the socket's 'error' if the bind fails. */
export function bindSocket(socket: DatagramSocket, port: number, address: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (error: Error): void => reject(error);
    socket.once('error', onError);
    socket.bind({ port, address }, () => {
      socket.removeListener('error', onError);
      resolve();
    });
  });
}

const origin = performance.now();

/** Monotonic nanoseconds since the module loaded (µs resolution; exact as a number for 104 days). */
export function nanoTime(): number {
  return Math.round((performance.now() - origin) * 1e6);
}

/**
 * Counts a socket's sends in flight, so closing can wait for them: node:dgram hands a datagram to the
 * kernel on a later tick, and a socket closed before then drops it (an EOS status message, say).
 */
export class PendingSends {
  private count = 0;
  private idle: (() => void) | null = null;
  /** Send callback that also counts send errors into `onError`. */
  readonly done: (error: Error | null) => void;

  constructor(onError: () => void = () => {}) {
    this.done = (error) => {
      if (error) onError();
      if (--this.count === 0 && this.idle) this.idle();
    };
  }

  /** Call before each send that passes `done` as its callback. */
  add(): void {
    this.count++;
  }

  /** Resolves when no send is in flight, or after `timeoutMs`. */
  settled(timeoutMs: number): Promise<void> {
    if (this.count === 0) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, timeoutMs);
      this.idle = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }
}
