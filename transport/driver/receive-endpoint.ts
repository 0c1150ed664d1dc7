/**
 * A subscription channel's socket: it takes DATA, PAD, heartbeats, SETUP and RTT echoes for every stream
 * subscribed on the channel, hands each to the stream's receiver by stream id, and sends the receivers'
 * status messages, NAKs, RTT requests and ERR frames.
 *
 * Unicast: the socket binds the channel's endpoint address and port. Multicast (either family): it binds the
 * port (shared with other receivers on the host) and joins the data group on the channel's interface;
 * control frames go to the control group.
 *
 * After each received datagram (or each batch, with ffnet/dgram's batch API) the endpoint tells the
 * transport which streams got data, so subscriptions can signal 'readable' and the transport can run the
 * receivers' duty (NAKs, status messages) promptly.
 */
import type { UdpChannel } from '../wire/channel.js';
import { DataField } from '../wire/data.js';
import { readInt32 } from '../wire/header.js';
import { FrameType, RttFlags, WireError, decodeRttMeasurement, decodeSetup } from '../wire/frames.js';
import type { TransportCounters } from './counters.js';
import { ChannelSocket, joinChannelGroup, openChannelSocket, type SocketSizing } from './channel-socket.js';
import { bindSocket, type DatagramModule, type DatagramSocket } from './socket.js';
import type { StreamReceiver } from './stream-receiver.js';

/** Called after a datagram or batch with the streams that received something. */
export type ReceiveListener = (touched: ReadonlySet<StreamReceiver>) => void;

/** A subscription channel's socket and the streams on it. */
export class ReceiveEndpoint extends ChannelSocket {
  private readonly receivers = new Map<number, StreamReceiver>();
  private readonly touched = new Set<StreamReceiver>();

  private constructor(
    readonly key: string,
    socket: DatagramSocket,
    counters: TransportCounters,
    private readonly listener: ReceiveListener,
  ) {
    // DATA, PAD and heartbeats have a 32-byte header; SETUP and RTTM are longer.
    super(socket, counters, 32);
  }

  /** Opens the socket for `channel`; `address` is the endpoint host resolved to an IP literal. */
  static async open(
    key: string, channel: UdpChannel, address: string, dgram: DatagramModule, sizing: SocketSizing, counters: TransportCounters,
    listener: ReceiveListener,
  ): Promise<ReceiveEndpoint> {
    const socket = await openChannelSocket(dgram, channel, sizing, async (s) => {
      if (channel.multicast) {
        await joinChannelGroup(s, channel, address);
      } else {
        await bindSocket(s, channel.endpoint.port, address);
      }
    });
    return new ReceiveEndpoint(key, socket, counters, listener);
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

  protected override afterReceive(): void {
    if (this.touched.size === 0) return;
    this.listener(this.touched);
    this.touched.clear();
  }

  protected onDatagram(type: number, buf: Uint8Array, address: string, port: number, now: number): void {
    const counters = this.counters;
    if (type === FrameType.DATA || type === FrameType.PAD) {
      const receiver = this.receivers.get(readInt32(buf, DataField.STREAM_ID));
      if (receiver === undefined) {
        counters.unknownStreamFrames++;
        return;
      }
      receiver.onData(
        readInt32(buf, DataField.SESSION_ID), readInt32(buf, DataField.TERM_ID), readInt32(buf, DataField.TERM_OFFSET),
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
    const streamId = readInt32(buf, type === FrameType.SETUP ? 16 : 12);
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
        receiver.rejectSetup(readInt32(buf, 12), e.message, address, port);
      }
    }
  }
}
