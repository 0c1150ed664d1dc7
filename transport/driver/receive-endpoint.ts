/**
 * A subscription channel's socket: it takes DATA, PAD, heartbeats, SETUP and RTT echoes for every stream
 * subscribed on the channel, hands each to the stream's receiver by stream id, and sends the receivers'
 * status messages, NAKs, RTT requests and ERR frames.
 *
 * Unicast: the socket binds the channel's endpoint address and port. Multicast: it binds the port (shared
 * with other receivers on the host) and joins the data group on the channel's interface; control frames go
 * to the control group.
 *
 * After each received datagram (or each batch, with ffnet/dgram's batch API) the endpoint tells the
 * transport which streams got data, so subscriptions can signal 'readable' and the transport can run the
 * receivers' duty (NAKs, status messages) promptly.
 */
import type { RemoteInfo } from 'node:dgram';
import type { UdpChannel } from '../wire/channel.js';
import { DataField } from '../wire/data.js';
import { FrameType, HeaderField, RttFlags, WireError, decodeRttMeasurement, decodeSetup } from '../wire/frames.js';
import type { TransportCounters } from './counters.js';
import { PendingSends, bindSocket, hasBatchApi, nanoTime, type DatagramModule, type DatagramSocket, type ReceivedBatch } from './socket.js';
import type { SocketSizing } from './send-endpoint.js';
import type { StreamReceiver } from './stream-receiver.js';

/** Called after a datagram or batch with the streams that received something. */
export type ReceiveListener = (touched: ReadonlySet<StreamReceiver>) => void;

/** A subscription channel's socket and the streams on it. */
export class ReceiveEndpoint {
  private readonly receivers = new Map<number, StreamReceiver>();
  private readonly touched = new Set<StreamReceiver>();
  private readonly pending = new PendingSends(() => this.counters.sendErrors++);
  private closed = false;

  private constructor(
    readonly key: string,
    private readonly socket: DatagramSocket,
    private readonly counters: TransportCounters,
    private readonly listener: ReceiveListener,
  ) {
    socket.on('error', () => {
      // Failed sends of control frames are repaired by the protocol's repeats.
    });
    if (hasBatchApi(socket)) {
      socket.on('messages', (b: ReceivedBatch) => {
        const now = nanoTime();
        for (let i = 0; i < b.count; i++) this.onDatagram(b.data(i), b.address(i), b.port(i), now);
        this.afterReceive();
      });
    } else {
      socket.on('message', (msg: Buffer, rinfo: RemoteInfo) => {
        this.onDatagram(msg, rinfo.address, rinfo.port, nanoTime());
        this.afterReceive();
      });
    }
  }

  /** Opens the socket for `channel`; `address` is the endpoint host resolved to an IPv4 literal. */
  static async open(
    key: string, channel: UdpChannel, address: string, dgram: DatagramModule, sizing: SocketSizing, counters: TransportCounters,
    listener: ReceiveListener,
  ): Promise<ReceiveEndpoint> {
    const socket = dgram.createSocket({
      type: 'udp4', reuseAddr: channel.multicast,
      ...(sizing.socketBufferSize !== undefined && { recvBufferSize: sizing.socketBufferSize, sendBufferSize: sizing.socketBufferSize }),
    });
    const ifaceAddress = channel.params.interface?.split(/[:/]/)[0];
    try {
      if (channel.multicast) {
        await bindSocket(socket, channel.endpoint.port, '0.0.0.0');
        socket.addMembership(address, ifaceAddress);
        if (ifaceAddress !== undefined) socket.setMulticastInterface(ifaceAddress);
        socket.setMulticastLoopback(true);
      } else {
        await bindSocket(socket, channel.endpoint.port, address);
      }
    } catch (e) {
      socket.close();
      throw e;
    }
    return new ReceiveEndpoint(key, socket, counters, listener);
  }

  get localAddress(): { address: string; port: number } {
    return this.socket.address();
  }

  get streamCount(): number {
    return this.receivers.size;
  }

  has(streamId: number): boolean {
    return this.receivers.has(streamId);
  }

  add(receiver: StreamReceiver): void {
    this.receivers.set(receiver.streamId, receiver);
  }

  remove(receiver: StreamReceiver): void {
    if (this.receivers.get(receiver.streamId) === receiver) this.receivers.delete(receiver.streamId);
  }

  sendControl(frame: Uint8Array, port: number, address: string): void {
    if (this.closed) return;
    this.pending.add();
    this.socket.send(frame, port, address, this.pending.done);
  }

  close(): Promise<void> {
    if (this.closed) return Promise.resolve();
    this.closed = true;
    return this.pending.settled(200).then(() => new Promise((resolve) => this.socket.close(() => resolve())));
  }

  private afterReceive(): void {
    if (this.touched.size === 0) return;
    this.listener(this.touched);
    this.touched.clear();
  }

  private onDatagram(buf: Uint8Array, address: string, port: number, now: number): void {
    const counters = this.counters;
    counters.datagramsReceived++;
    if (buf.length < 32) {
      counters.malformedDatagrams++;
      return;
    }
    const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
    if (view.getInt8(HeaderField.VERSION) !== 0) {
      counters.malformedDatagrams++;
      return;
    }
    const type = view.getInt16(HeaderField.TYPE, true);
    if (type === FrameType.DATA || type === FrameType.PAD) {
      const receiver = this.receivers.get(view.getInt32(DataField.STREAM_ID, true));
      if (receiver === undefined) {
        counters.unknownStreamFrames++;
        return;
      }
      receiver.onData(
        view.getInt32(DataField.SESSION_ID, true), view.getInt32(DataField.TERM_ID, true), view.getInt32(DataField.TERM_OFFSET, true),
        buf, address, port, now,
      );
      this.touched.add(receiver);
      return;
    }
    if (type !== FrameType.SETUP && type !== FrameType.RTTM) {
      counters.unexpectedFrames++;
      return;
    }
    // SETUP and RTTM: session id at 12 and stream id at 16 for SETUP, 8 and 12 for RTTM.
    const streamId = view.getInt32(type === FrameType.SETUP ? 16 : 12, true);
    const receiver = this.receivers.get(streamId);
    if (receiver === undefined) {
      counters.unknownStreamFrames++;
      return;
    }
    try {
      if (type === FrameType.SETUP) {
        counters.setupsReceived++;
        receiver.onSetup(decodeSetup(buf, 0, buf.length), address, port, now);
        this.touched.add(receiver);
      } else {
        const rttm = decodeRttMeasurement(buf, 0, buf.length);
        if (!(rttm.flags & RttFlags.REPLY)) receiver.onRttMeasurement(rttm, now);
      }
    } catch (e) {
      if (!(e instanceof WireError)) throw e;
      counters.malformedDatagrams++;
      // A well-formed SETUP with a geometry no image can have (a term length that is not a power of two,
      // a misaligned offset): tell the sender why.
      if (type === FrameType.SETUP && e.code === 'BAD_FIELD') {
        counters.setupsReceived++;
        receiver.rejectSetup(view.getInt32(12, true), e.message, address, port);
      }
    }
  }
}
