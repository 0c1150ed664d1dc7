/**
 * One stream id on one receive endpoint: the images of the publications sending it, how they come and go,
 * and the polling across them.
 *
 * An image is created from a SETUP frame whose geometry checks out (a term length ffnet takes, an MTU that is
 * a multiple of 32 up to 65504, an aligned join offset); a SETUP that does not is answered with an ERR frame.
 * DATA for a session without an image (this subscription joined a running stream, or the SETUP was lost)
 * is answered with a status message carrying SEND_SETUP, at most once per setup interval per session. A
 * session whose stream ended cleanly stays remembered for the image liveness time: its late frames are
 * ignored and its EOS heartbeats answered with EOS status messages, so it does not come back as a new image;
 * for its first status intervals the EOS status message also repeats on its own (the image's drain).
 */
import type { MessageHandler } from '../log/term-reader.js';
import type { UdpChannel } from '../wire/channel.js';
import { ControlLength, MAX_ERROR_TEXT_LENGTH } from '../wire/control.js';
import { DataFlags, FrameType, StatusFlags, encodeError, encodeStatusMessage, type RttMeasurement, type SetupFrame } from '../wire/frames.js';
import { checkMtu, startPosition } from '../log/layout.js';
import type { TransportCounters } from './counters.js';
import { PublicationImage, type ControlSender, type ImageEndReason } from './publication-image.js';
import type { TransportTimings } from './timings.js';

/** Aeron's error code for an image the receiver will not take. */
export const IMAGE_REJECTED = 13;

/** What a stream receiver reports upwards. */
export interface StreamReceiverEvents {
  onImageAvailable(image: PublicationImage): void;
  onImageUnavailable(image: PublicationImage, reason: ImageEndReason): void;
}

/** How the subscription receives: from its channel and the transport's options. */
export interface StreamReceiverParams {
  channel: UdpChannel;
  streamId: number;
  receiverId: bigint;
  receiverWindow: number;
}

interface Ended {
  image: PublicationImage;
  untilNs: number;
}

/** The images of one stream on one receive endpoint. */
export class StreamReceiver {
  readonly streamId: number;
  private readonly images = new Map<number, PublicationImage>();
  private ordered: PublicationImage[] = [];
  private readonly ended = new Map<number, Ended>();
  private readonly setupRequests = new Map<number, number>();
  private roundRobin = 0;
  private closed = false;

  constructor(
    private readonly params: StreamReceiverParams,
    private readonly sender: ControlSender,
    private readonly timings: TransportTimings,
    private readonly counters: TransportCounters,
    private readonly events: StreamReceiverEvents,
  ) {
    this.streamId = params.streamId;
  }

  /** The live images, in the order they joined. */
  get liveImages(): readonly PublicationImage[] {
    return this.ordered;
  }

  /** True when any image needs timely duty (a gap, RTT measurement). */
  get isBusy(): boolean {
    for (const image of this.ordered) if (image.isBusy) return true;
    return false;
  }

  /** True when poll() would deliver something. */
  get hasData(): boolean {
    for (const image of this.ordered) if (image.hasData) return true;
    return false;
  }

  /** A datagram of DATA/PAD frames or a heartbeat. */
  onData(sessionId: number, termId: number, termOffset: number, bytes: Uint8Array, address: string, port: number, nowNs: number): void {
    if (this.closed) return;
    const image = this.images.get(sessionId);
    if (image !== undefined) {
      image.onData(termId, termOffset, bytes, nowNs);
      if (image.endReason === 'left-behind') this.remove(image, 'left-behind', nowNs);
      return;
    }
    const ended = this.ended.get(sessionId);
    if (ended !== undefined) {
      if (bytes.length === 32 && bytes[5]! & DataFlags.EOS) ended.image.repeatEndOfStream(nowNs);
      return;
    }
    const last = this.setupRequests.get(sessionId);
    if (last !== undefined && nowNs - last < this.timings.setupIntervalNs) return;
    this.setupRequests.set(sessionId, nowNs);
    const control = this.controlAddress(address, port);
    const frame = Buffer.alloc(ControlLength.SM);
    encodeStatusMessage({
      type: FrameType.SM, flags: StatusFlags.SEND_SETUP, sessionId, streamId: this.streamId, consumptionTermId: termId,
      consumptionTermOffset: termOffset, receiverWindow: 0, receiverId: this.params.receiverId,
    }, frame, 0);
    this.sender.sendControl(frame, control.port, control.address);
    this.counters.setupRequestsSent++;
  }

  onSetup(setup: SetupFrame, address: string, port: number, nowNs: number): void {
    if (this.closed || this.images.has(setup.sessionId) || this.ended.has(setup.sessionId)) return;
    const control = this.controlAddress(address, port);
    const problem = checkSetup(setup);
    if (problem !== null) {
      this.rejectSetup(setup.sessionId, problem, address, port);
      return;
    }
    const { channel } = this.params;
    const image = new PublicationImage({
      sessionId: setup.sessionId, streamId: setup.streamId, initialTermId: setup.initialTermId, activeTermId: setup.activeTermId,
      termOffset: setup.termOffset, termLength: setup.termLength, mtu: setup.mtu, controlAddress: control.address,
      controlPort: control.port, sourceAddress: address, sourcePort: port, multicast: channel.multicast,
      receiverId: this.params.receiverId, ...(channel.params.groupTag !== undefined && { groupTag: channel.params.groupTag }),
      receiverWindow: this.params.receiverWindow, congestionControl: channel.congestionControl,
    }, this.sender, this.timings, nowNs);
    this.setupRequests.delete(setup.sessionId);
    this.images.set(setup.sessionId, image);
    this.ordered = [...this.ordered, image];
    this.counters.imagesCreated++;
    this.events.onImageAvailable(image);
  }

  /** Answers a SETUP whose geometry cannot make an image with an ERR frame saying why. */
  rejectSetup(sessionId: number, problem: string, address: string, port: number): void {
    if (this.closed) return;
    this.counters.setupsRejected++;
    const control = this.controlAddress(address, port);
    const text = problem.slice(0, MAX_ERROR_TEXT_LENGTH);
    const frame = Buffer.alloc(ControlLength.ERR + Buffer.byteLength(text));
    encodeError({
      type: FrameType.ERR, flags: 0, sessionId, streamId: this.streamId, receiverId: this.params.receiverId,
      errorCode: IMAGE_REJECTED, message: text,
    }, frame, 0);
    this.sender.sendControl(frame, control.port, control.address);
  }

  onRttMeasurement(rttm: RttMeasurement, nowNs: number): void {
    this.images.get(rttm.sessionId)?.onRttMeasurement(rttm, nowNs);
  }

  /** Polls the images in turn, starting one further each call, up to `fragmentLimit` fragments in all. */
  poll(handler: MessageHandler, fragmentLimit: number): number {
    const images = this.ordered;
    const n = images.length;
    if (n === 0) return 0;
    let start = this.roundRobin++;
    if (start >= n) start = this.roundRobin = 0;
    let fragments = 0;
    for (let i = 0; i < n && fragments < fragmentLimit; i++) {
      fragments += images[(start + i) % n]!.poll(handler, fragmentLimit - fragments);
    }
    return fragments;
  }

  /** Image duty: NAKs, status messages, RTT, ends. */
  onDuty(nowNs: number): void {
    for (const image of this.ordered) {
      const reason = image.onDuty(nowNs);
      if (reason !== null) this.remove(image, reason, nowNs);
    }
    for (const [sessionId, e] of this.ended) {
      if (nowNs >= e.untilNs) this.ended.delete(sessionId);
      else e.image.onDrainDuty(nowNs);
    }
    for (const [sessionId, at] of this.setupRequests) if (nowNs - at > this.timings.imageLivenessNs) this.setupRequests.delete(sessionId);
  }

  /** Ends every image with status messages carrying EOS, so senders stop waiting for this receiver. */
  close(nowNs: number): void {
    if (this.closed) return;
    for (const image of this.ordered) {
      image.end('closed', nowNs);
      this.remove(image, 'closed', nowNs);
    }
    this.closed = true;
  }

  private remove(image: PublicationImage, reason: ImageEndReason, nowNs: number): void {
    if (!this.images.delete(image.sessionId)) return;
    this.ordered = this.ordered.filter((i) => i !== image);
    if (reason === 'end-of-stream') this.ended.set(image.sessionId, { image, untilNs: nowNs + this.timings.imageLivenessNs });
    this.counters.imagesClosed++;
    this.events.onImageUnavailable(image, reason);
  }

  /** Unicast: the sender's socket, where the frame came from. Multicast: the channel's control group. */
  private controlAddress(address: string, port: number): { address: string; port: number } {
    const control = this.params.channel.controlEndpoint;
    return control === undefined ? { address, port } : { address: control.host, port: control.port };
  }
}

/** Why a SETUP's geometry cannot make an image, or null when it can. */
function checkSetup(setup: SetupFrame): string | null {
  // decodeSetup has already checked the term length and that the offset is aligned inside the term.
  try {
    checkMtu(setup.mtu);
    startPosition(setup.termLength, setup.initialTermId, setup.activeTermId, setup.termOffset);
  } catch (e) {
    return (e as Error).message;
  }
  return null;
}
