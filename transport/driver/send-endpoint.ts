/**
 * A publication channel's socket: it sends the DATA, SETUP and heartbeats of every publication on the channel
 * to the channel's endpoint, and takes the status messages, NAKs, RTT measurements and ERR frames the
 * receivers send back, handing each to its publication by session and stream id.
 *
 * Unicast: the socket binds to the channel's `interface` (or any address) on an ephemeral port; receivers
 * answer to the address the data came from. Multicast (IPv4 or IPv6, one path with the family's wildcard
 * and interface form): the socket binds the channel's port, joins the control group (data group + 1) where
 * receivers send their control frames, and sends to the data group with the channel's TTL (IPv6's hop
 * limit), looping back so receivers on the same host hear it.
 *
 * With ffnet/dgram's batch API, the data datagrams of one sender pass leave in one sendBatch() call.
 */
import type { UdpChannel } from '../wire/channel.js';
import { readInt32 } from '../wire/header.js';
import { FrameType, WireError, decodeError, decodeNak, decodeRttMeasurement, decodeStatusMessage, RttFlags } from '../wire/frames.js';
import type { TransportCounters } from './counters.js';
import type { NetworkPublication } from './network-publication.js';
import { ChannelSocket, anyAddress, joinChannelGroup, socketInterface, openChannelSocket, type SocketSizing } from './channel-socket.js';
import { bindSocket, hasBatchApi, type DatagramModule, type DatagramSocket, type OutgoingDatagram } from './socket.js';

/** A publication channel's socket and the publications on it. */
export class SendEndpoint extends ChannelSocket {
  private readonly publications = new Map<string, NetworkPublication>();
  private readonly batch: OutgoingDatagram[] = [];
  private batchLength = 0;
  private readonly useBatch: boolean;

  private constructor(
    readonly key: string,
    socket: DatagramSocket,
    private readonly destination: { address: string; port: number },
    counters: TransportCounters,
  ) {
    // Control frames carry session and stream ids in their first 16 bytes.
    super(socket, counters, 16);
    this.useBatch = hasBatchApi(socket);
  }

  /** Opens the socket for `channel`; `address` is the endpoint host already resolved to an IP literal. */
  static async open(
    key: string, channel: UdpChannel, address: string, dgram: DatagramModule, sizing: SocketSizing, counters: TransportCounters,
  ): Promise<SendEndpoint> {
    const socket = await openChannelSocket(dgram, channel, sizing, async (s) => {
      if (channel.multicast) {
        await joinChannelGroup(s, channel, channel.controlEndpoint!.host);
        s.setMulticastTTL(channel.ttl);
      } else {
        const local = channel.localInterface;
        await bindSocket(s, local?.port ?? 0, local === undefined ? anyAddress(channel) : socketInterface(channel)!);
      }
    });
    return new SendEndpoint(key, socket, { address, port: channel.endpoint.port }, counters);
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

  /** Queues (batch API) or sends a datagram of data frames to the channel's endpoint. */
  sendData(bytes: Uint8Array): void {
    if (this.closed) return;
    if (this.useBatch) {
      // The entries are reused from burst to burst: sendBatch() reads them during the call only.
      const n = this.batchLength++;
      const entry = this.batch[n];
      if (entry === undefined) this.batch.push({ msg: bytes, port: this.destination.port, address: this.destination.address });
      else entry.msg = bytes;
    } else {
      this.pending.add();
      this.socket.send(bytes, this.destination.port, this.destination.address, this.pending.done);
    }
  }

  /** Sends queued data datagrams. */
  flush(): void {
    const n = this.batchLength;
    if (n === 0 || this.closed) return;
    this.batchLength = 0;
    const batch = this.batch;
    if (batch.length !== n) batch.length = n;
    this.pending.add();
    this.socket.sendBatch!(batch, this.pending.done);
  }

  /** Sends a control frame (SETUP, heartbeat, RTT echo) to the endpoint or to a given receiver. */
  override sendControl(frame: Uint8Array, port = this.destination.port, address = this.destination.address): void {
    this.flush();
    super.sendControl(frame, port, address);
  }

  protected onDatagram(type: number, buf: Uint8Array, address: string, port: number, now: number): void {
    const counters = this.counters;
    if (type !== FrameType.SM && type !== FrameType.NAK && type !== FrameType.RTTM && type !== FrameType.ERR) {
      counters.unexpectedFrames++;
      return;
    }
    const publication = this.publications.get(streamKey(readInt32(buf, 8), readInt32(buf, 12)));
    if (publication === undefined) {
      counters.unknownStreamFrames++;
      return;
    }
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
