/**
 * What the two kinds of channel socket share: the socket itself, created and set up with the channel's
 * options (closed again if setup fails); one receive path whichever API the socket offers (ffnet/dgram's
 * `'messages'` batches or node:dgram's `'message'`), ending each datagram or batch with `afterReceive`;
 * control-frame sends counted in flight; and a close that waits for those sends first.
 */
import type { RemoteInfo } from 'node:dgram';
import type { UdpChannel } from '../wire/channel.js';
import { HeaderField, readInt16 } from '../wire/header.js';
import type { TransportCounters } from './counters.js';
import { PendingSends, hasBatchApi, nanoTime, type DatagramModule, type DatagramSocket, type ReceivedBatch } from './socket.js';

/** The socket options a transport asks for. */
export interface SocketSizing {
  socketBufferSize?: number;
}

/** Creates a socket for `channel` and runs `setup` on it (bind, memberships); closes it if setup throws. */
export async function openChannelSocket(
  dgram: DatagramModule, channel: UdpChannel, sizing: SocketSizing, setup: (socket: DatagramSocket) => Promise<void>,
): Promise<DatagramSocket> {
  const socket = dgram.createSocket({
    type: channel.ipv6 ? 'udp6' : 'udp4', reuseAddr: channel.multicast,
    ...(sizing.socketBufferSize !== undefined && { recvBufferSize: sizing.socketBufferSize, sendBufferSize: sizing.socketBufferSize }),
  });
  try {
    await setup(socket);
  } catch (e) {
    socket.close();
    throw e;
  }
  return socket;
}

/** A channel's socket with its receive loop and counted sends. */
export abstract class ChannelSocket {
  protected readonly pending: PendingSends;
  protected closed = false;

  /**
   * `minDatagram`: the shortest datagram the socket takes (the fixed part of the smallest frame it expects);
   * shorter ones, and any of a version other than 0, are counted as malformed before `onDatagram` sees them.
   */
  protected constructor(
    protected readonly socket: DatagramSocket,
    protected readonly counters: TransportCounters,
    private readonly minDatagram: number,
  ) {
    this.pending = new PendingSends(() => this.counters.sendErrors++);
    // Failed sends are counted through their callbacks and repaired by the protocol's repeats.
    socket.on('error', () => {});
    if (hasBatchApi(socket)) {
      socket.on('messages', (b: ReceivedBatch) => {
        const now = nanoTime();
        for (let i = 0; i < b.count; i++) this.receive(b.data(i), b.address(i), b.port(i), now);
        this.afterReceive();
      });
    } else {
      socket.on('message', (msg: Buffer, rinfo: RemoteInfo) => {
        this.receive(msg, rinfo.address, rinfo.port, nanoTime());
        this.afterReceive();
      });
    }
  }

  /** The socket's local address and port. */
  get localAddress(): { address: string; port: number } {
    return this.socket.address();
  }

  /** Sends a control frame to `address:port`. */
  sendControl(frame: Uint8Array, port: number, address: string): void {
    if (this.closed) return;
    this.pending.add();
    this.socket.send(frame, port, address, this.pending.done);
  }

  /** Closes the socket once its sends in flight have gone (or after 200 ms). */
  close(): Promise<void> {
    if (this.closed) return Promise.resolve();
    this.closed = true;
    return this.pending.settled(200).then(() => new Promise((resolve) => this.socket.close(() => resolve())));
  }

  /** A datagram that passed the checks every frame must pass; `type` is its first frame's type. */
  protected abstract onDatagram(type: number, buf: Uint8Array, address: string, port: number, nowNs: number): void;

  protected afterReceive(): void {}

  private receive(buf: Uint8Array, address: string, port: number, nowNs: number): void {
    this.counters.datagramsReceived++;
    if (buf.length < this.minDatagram || buf[HeaderField.VERSION] !== 0) {
      this.counters.malformedDatagrams++;
      return;
    }
    this.onDatagram(readInt16(buf, HeaderField.TYPE), buf, address, port, nowNs);
  }
}
