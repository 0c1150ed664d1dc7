/**
 * A publication channel's socket: it sends the DATA, SETUP and heartbeats of every publication on the channel
 * to the channel's endpoint, and takes the status messages, NAKs, RTT measurements and ERR frames the
 * receivers send back, handing each to its publication by session and stream id.
 *
 * Unicast: the socket binds to the channel's `interface` (or any address) on an ephemeral port; receivers
 * answer to the address the data came from. Multicast: the socket binds the channel's port, joins the
 * control group (data group + 1) where receivers send their control frames, and sends to the data group with
 * the channel's TTL, looping back so receivers on the same host hear it.
 *
 * With ffnet/dgram's batch API, the data datagrams of one sender pass leave in one sendBatch() call.
 */
import type { RemoteInfo } from 'node:dgram';
import type { UdpChannel } from '../wire/channel.js';
import { FrameType, HeaderField, WireError, decodeError, decodeNak, decodeRttMeasurement, decodeStatusMessage, RttFlags } from '../wire/frames.js';
import type { TransportCounters } from './counters.js';
import type { NetworkPublication } from './network-publication.js';
import { PendingSends, bindSocket, hasBatchApi, nanoTime, type DatagramModule, type DatagramSocket, type OutgoingDatagram, type ReceivedBatch } from './socket.js';

/** The socket options a transport asks for. */
export interface SocketSizing {
  socketBufferSize?: number;
}

/** A publication channel's socket and the publications on it. */
export class SendEndpoint {
  private readonly publications = new Map<string, NetworkPublication>();
  private readonly batch: OutgoingDatagram[] = [];
  private readonly useBatch: boolean;
  private readonly pending = new PendingSends(() => this.counters.sendErrors++);
  private closed = false;

  private constructor(
    readonly key: string,
    private readonly socket: DatagramSocket,
    private readonly destination: { address: string; port: number },
    private readonly counters: TransportCounters,
  ) {
    this.useBatch = hasBatchApi(socket);
    socket.on('error', () => {
      // Send errors are counted per publication through the send callbacks; nothing else is expected here.
    });
    if (this.useBatch) {
      socket.on('messages', (b: ReceivedBatch) => {
        for (let i = 0; i < b.count; i++) this.onDatagram(b.data(i), b.address(i), b.port(i));
      });
    } else {
      socket.on('message', (msg: Buffer, rinfo: RemoteInfo) => this.onDatagram(msg, rinfo.address, rinfo.port));
    }
  }

  /** Opens the socket for `channel`; `address` is the endpoint host already resolved to an IPv4 literal. */
  static async open(
    key: string, channel: UdpChannel, address: string, dgram: DatagramModule, sizing: SocketSizing, counters: TransportCounters,
  ): Promise<SendEndpoint> {
    const socket = dgram.createSocket({
      type: 'udp4', reuseAddr: channel.multicast,
      ...(sizing.socketBufferSize !== undefined && { recvBufferSize: sizing.socketBufferSize, sendBufferSize: sizing.socketBufferSize }),
    });
    const iface = channel.params.interface?.split(/[:/]/);
    const ifaceAddress = iface?.[0];
    try {
      if (channel.multicast) {
        await bindSocket(socket, channel.endpoint.port, '0.0.0.0');
        const control = channel.controlEndpoint!;
        socket.addMembership(control.host, ifaceAddress);
        if (ifaceAddress !== undefined) socket.setMulticastInterface(ifaceAddress);
        socket.setMulticastTTL(channel.ttl);
        socket.setMulticastLoopback(true);
      } else {
        await bindSocket(socket, iface?.[1] !== undefined ? Number(iface[1]) : 0, ifaceAddress ?? '0.0.0.0');
      }
    } catch (e) {
      socket.close();
      throw e;
    }
    return new SendEndpoint(key, socket, { address, port: channel.endpoint.port }, counters);
  }

  /** The socket's local address. */
  get localAddress(): { address: string; port: number } {
    return this.socket.address();
  }

  get publicationCount(): number {
    return this.publications.size;
  }

  add(publication: NetworkPublication): void {
    this.publications.set(streamKey(publication.sessionId, publication.streamId), publication);
  }

  remove(publication: NetworkPublication): void {
    this.publications.delete(streamKey(publication.sessionId, publication.streamId));
  }

  /** True when a publication on this channel already uses the session and stream. */
  has(sessionId: number, streamId: number): boolean {
    return this.publications.has(streamKey(sessionId, streamId));
  }

  now(): number {
    return nanoTime();
  }

  /** Queues (batch API) or sends a datagram of data frames to the channel's endpoint. */
  sendData(bytes: Uint8Array): void {
    if (this.closed) return;
    if (this.useBatch) this.batch.push({ msg: bytes, port: this.destination.port, address: this.destination.address });
    else {
      this.pending.add();
      this.socket.send(bytes, this.destination.port, this.destination.address, this.pending.done);
    }
  }

  /** Sends queued data datagrams. */
  flush(): void {
    if (this.batch.length === 0 || this.closed) return;
    this.pending.add();
    this.socket.sendBatch!(this.batch.splice(0), this.pending.done);
  }

  /** Sends a control frame (SETUP, heartbeat, RTT echo) to the endpoint or to a given receiver. */
  sendControl(frame: Uint8Array, port = this.destination.port, address = this.destination.address): void {
    if (this.closed) return;
    this.flush();
    this.pending.add();
    this.socket.send(frame, port, address, this.pending.done);
  }

  close(): Promise<void> {
    if (this.closed) return Promise.resolve();
    this.closed = true;
    return this.pending.settled(200).then(() => new Promise((resolve) => this.socket.close(() => resolve())));
  }

  private onDatagram(buf: Uint8Array, address: string, port: number): void {
    const counters = this.counters;
    counters.datagramsReceived++;
    if (buf.length < 16) {
      counters.malformedDatagrams++;
      return;
    }
    const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
    const type = view.getInt16(HeaderField.TYPE, true);
    if (view.getInt8(HeaderField.VERSION) !== 0) {
      counters.malformedDatagrams++;
      return;
    }
    if (type !== FrameType.SM && type !== FrameType.NAK && type !== FrameType.RTTM && type !== FrameType.ERR) {
      counters.unexpectedFrames++;
      return;
    }
    const publication = this.publications.get(streamKey(view.getInt32(8, true), view.getInt32(12, true)));
    if (publication === undefined) {
      counters.unknownStreamFrames++;
      return;
    }
    const now = nanoTime();
    try {
      switch (type) {
        case FrameType.SM:
          publication.onStatusMessage(decodeStatusMessage(buf, 0, buf.length), now);
          break;
        case FrameType.NAK:
          publication.onNak(decodeNak(buf, 0, buf.length), now);
          break;
        case FrameType.RTTM: {
          const rttm = decodeRttMeasurement(buf, 0, buf.length);
          if (rttm.flags & RttFlags.REPLY) publication.onRttMeasurement(rttm, address, port);
          break;
        }
        default:
          publication.onError(decodeError(buf, 0, buf.length));
      }
    } catch (e) {
      if (!(e instanceof WireError)) throw e;
      counters.malformedDatagrams++;
    }
  }
}

/** The key of a (session, stream) pair. */
export function streamKey(sessionId: number, streamId: number): string {
  return `${sessionId}:${streamId}`;
}
