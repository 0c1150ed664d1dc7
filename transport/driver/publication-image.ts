/**
 * The receiving side of one stream: an image of a publication, rebuilt from its DATA frames
 * (transport/log/term-reader.ts), with the control traffic a receiver owes the sender.
 *
 * - Status messages: one when the image is created, one whenever the subscriber has consumed more than a
 *   quarter of the window since the last, one when congestion control changes the window, and a repeat
 *   every 200 ms otherwise.
 * - NAKs: the first gap between the rebuild position and the high-water mark is NAKed after the loss
 *   detector's delay and repeated while it remains (loss-detector.ts).
 * - RTT: measured by RTTM exchanges when congestion control asks (cubic).
 * - The end: the image ends when the subscriber has consumed up to an EOS heartbeat's position (a clean
 *   close; a status message with the EOS flag tells the sender), when the publication has been silent for
 *   the image liveness timeout, when the subscription closes, or when it is left behind: data arrives from
 *   so far ahead (more than a term beyond the rebuild position) that the sender can no longer
 *   resend what the image is missing, as happens to a slow receiver under max flow control.
 */
import type { Gap, MessageHandler } from '../log/term-reader.js';
import { InsertResult, TermReader } from '../log/term-reader.js';
import { ControlLength } from '../wire/control.js';
import { DataFlags, FrameType, StatusFlags, encodeNak, encodeRttMeasurement, encodeStatusMessage, RttFlags, type RttMeasurement } from '../wire/frames.js';
import { computePosition, positionBitsToShift } from '../wire/position.js';
import { CubicCongestionControl, StaticCongestionControl, staticWindow, type CongestionControl } from './congestion-control.js';
import { imageCounters, type ImageCounters } from './counters.js';
import { LossDetector, LossEvent, OptimalMulticastDelayGenerator, StaticDelayGenerator, MULTICAST_NAK_GROUP_SIZE } from './loss-detector.js';
import { nanoTime } from './socket.js';
import type { TransportTimings } from './timings.js';


/** Status intervals the EOS status message repeats for after a clean end (Aeron's AERON_IMAGE_SM_EOS_MULTIPLE). */
export const EOS_SM_INTERVALS = 5;

/** Why an image ended. */
export type ImageEndReason = 'end-of-stream' | 'timeout' | 'left-behind' | 'closed';

/** Where an image sends its control frames. */
export interface ControlSender {
  sendControl(frame: Uint8Array, port: number, address: string): void;
}

/** A stream's geometry and join point, from its SETUP frame. */
export interface ImageParams {
  sessionId: number;
  streamId: number;
  initialTermId: number;
  activeTermId: number;
  termOffset: number;
  termLength: number;
  mtu: number;
  /** Where the sender listens for status messages and NAKs. */
  controlAddress: string;
  controlPort: number;
  /** The data's source, for display. */
  sourceAddress: string;
  sourcePort: number;
  multicast: boolean;
  receiverId: bigint;
  groupTag?: bigint;
  receiverWindow: number;
  congestionControl: 'static' | 'cubic';
}

/** One publication's stream at a subscription. */
export class PublicationImage {
  readonly reader: TermReader;
  readonly counters: ImageCounters = imageCounters();
  readonly sessionId: number;
  readonly streamId: number;
  readonly initialTermId: number;
  readonly termLength: number;
  readonly mtu: number;
  readonly joinPosition: number;
  readonly sourceIdentity: string;
  private readonly bits: number;
  private readonly loss: LossDetector;
  private readonly cc: CongestionControl;
  private readonly params: ImageParams;
  private lastSmPosition = -1;
  private lastSmWindow = 0;
  private lastSmNs = -Infinity;
  private lastFrameNs: number;
  private eosPosition = -1;
  private ended: ImageEndReason | null = null;
  private endedNs = 0;

  constructor(
    params: ImageParams,
    private readonly sender: ControlSender,
    private readonly timings: TransportTimings,
    nowNs: number,
  ) {
    this.params = params;
    this.sessionId = params.sessionId;
    this.streamId = params.streamId;
    this.initialTermId = params.initialTermId;
    this.termLength = params.termLength;
    this.mtu = params.mtu;
    this.bits = positionBitsToShift(params.termLength);
    this.reader = new TermReader({
      termLength: params.termLength, initialTermId: params.initialTermId, sessionId: params.sessionId, streamId: params.streamId,
      activeTermId: params.activeTermId, termOffset: params.termOffset,
    });
    this.joinPosition = this.reader.position;
    this.sourceIdentity = `${params.sourceAddress}:${params.sourcePort}`;
    const window = staticWindow(params.receiverWindow, params.termLength);
    this.cc = params.congestionControl === 'cubic'
      ? new CubicCongestionControl(params.mtu, window, nowNs)
      : new StaticCongestionControl(window);
    this.loss = new LossDetector(params.multicast
      ? new OptimalMulticastDelayGenerator(timings.nakMulticastMaxBackoffNs, MULTICAST_NAK_GROUP_SIZE)
      : new StaticDelayGenerator(timings.nakDelayNs, timings.nakRetryNs));
    this.lastFrameNs = nowNs;
    this.sendStatusMessage(nowNs, 0);
  }

  /** What the subscriber has consumed. */
  get position(): number {
    return this.reader.position;
  }

  /** Why the image ended, or null while it is live. */
  get endReason(): ImageEndReason | null {
    return this.ended;
  }

  /** True once the end-of-stream position is known (the publication is closing). */
  get isEndOfStream(): boolean {
    return this.eosPosition >= 0;
  }

  /** True when poll() would deliver something. */
  get hasData(): boolean {
    return this.reader.rebuildPosition > this.reader.position;
  }

  /** True while a gap is tracked or congestion control wants RTT samples: the image needs timely duty. */
  get isBusy(): boolean {
    return this.loss.gap !== null || this.params.congestionControl === 'cubic';
  }

  /** Takes a datagram of DATA/PAD frames or a heartbeat for this image. */
  onData(termId: number, termOffset: number, bytes: Uint8Array, nowNs: number): void {
    if (this.ended !== null) return;
    const counters = this.counters;
    this.lastFrameNs = nowNs;
    const result = this.reader.insert(termId, termOffset, bytes);
    switch (result) {
      case InsertResult.INSERTED:
        counters.dataDatagramsReceived++;
        counters.dataBytesReceived += bytes.length;
        break;
      case InsertResult.DUPLICATE:
        counters.dataDatagramsReceived++;
        counters.duplicateDatagrams++;
        break;
      case InsertResult.HEARTBEAT:
        counters.heartbeatsReceived++;
        if (bytes[5]! & DataFlags.EOS) this.eosPosition = this.positionOf(termId, termOffset);
        break;
      case InsertResult.OUT_OF_WINDOW: {
        counters.outOfWindowDatagrams++;
        const position = this.positionOf(termId, termOffset);
        // The sender resends from at most one term behind its position (see NetworkPublication.onNak).
        if (position > this.reader.rebuildPosition + this.termLength) this.end('left-behind', nowNs);
        break;
      }
      default:
        counters.malformedDatagrams++;
    }
  }

  /**
   * Delivers up to `fragmentLimit` fragments' worth of whole messages; returns the fragments read. Reads in
   * slices of a quarter window's bytes, so that a long poll sends a status message each time a quarter
   * window is consumed rather than at its end, whatever the message size: the sender's next burst is on
   * its way while the rest is read, and the exchange never degrades to one window per round trip.
   */
  poll(handler: MessageHandler, fragmentLimit: number): number {
    if (this.ended !== null && this.ended !== 'end-of-stream') return 0;
    const reader = this.reader;
    let fragments = 0;
    try {
      while (fragments < fragmentLimit) {
        const before = reader.position;
        // At least one frame per slice, so a window too small to quarter still makes progress.
        const stop = Math.max(this.lastSmPosition + this.lastSmWindow / 4, before + 1);
        fragments += reader.poll(handler, fragmentLimit - fragments, stop);
        if (reader.position - this.lastSmPosition >= this.lastSmWindow / 4) this.sendStatusMessage(nanoTime(), 0);
        if (reader.position === before) break;
      }
    } finally {
      this.counters.messagesReceived = reader.messagesDelivered;
      this.counters.bytesReceived = reader.bytesDelivered;
    }
    return fragments;
  }

  /** Takes the echo of an RTT measurement this image sent. */
  onRttMeasurement(rttm: RttMeasurement, nowNs: number): void {
    if (rttm.flags & RttFlags.REPLY || rttm.receiverId !== this.params.receiverId) return;
    const rtt = nowNs - Number(rttm.echoTimestamp) - Number(rttm.receptionDelta);
    this.counters.rttMeasurements++;
    this.counters.lastRttNs = rtt;
    this.cc.onRttMeasurement(nowNs, rtt);
  }

  /**
   * The periodic and after-receive work: loss detection and NAKs, status messages, RTT measurement, the end
   * of stream and liveness. Returns the reason if the image ended now.
   */
  onDuty(nowNs: number): ImageEndReason | null {
    if (this.ended !== null) return null;
    const gap = this.reader.scanForGap();
    const events = this.loss.track(gap, nowNs);
    if (events & LossEvent.NEW_GAP) this.counters.gaps++;
    if (events & LossEvent.SEND_NAK && gap !== null) this.sendNak(gap);
    const forceSm = this.cc.onTrackRebuild(nowNs, (events & LossEvent.NEW_GAP) !== 0);
    if (forceSm || nowNs - this.lastSmNs >= this.timings.statusMessageIntervalNs
      || this.reader.position - this.lastSmPosition >= this.lastSmWindow / 4 || this.cc.windowLength !== this.lastSmWindow) {
      this.sendStatusMessage(nowNs, 0);
    }
    if (this.cc.shouldMeasureRtt(nowNs)) this.sendRttMeasurement(nowNs);
    if (this.eosPosition >= 0 && this.reader.position >= this.eosPosition) return this.end('end-of-stream', nowNs);
    if (nowNs - this.lastFrameNs > this.timings.imageLivenessNs) return this.end('timeout', nowNs);
    return this.ended;
  }

  /** Ends the image: a status message with EOS tells the sender (except when it is the one that went silent). */
  end(reason: ImageEndReason, nowNs: number): ImageEndReason {
    if (this.ended !== null) return this.ended;
    this.ended = reason;
    this.endedNs = nowNs;
    if (reason !== 'timeout') this.sendStatusMessage(nowNs, StatusFlags.EOS);
    return reason;
  }

  /**
   * The drain of a stream that ended cleanly: the EOS status message repeats each status interval for
   * {@link EOS_SM_INTERVALS} intervals after the end, as Aeron's image does while draining, so a sender that
   * lost the first still stops waiting for this receiver.
   */
  onDrainDuty(nowNs: number): void {
    const interval = this.timings.statusMessageIntervalNs;
    if (this.ended !== 'end-of-stream' || nowNs - this.endedNs > EOS_SM_INTERVALS * interval) return;
    if (nowNs - this.lastSmNs >= interval) this.sendStatusMessage(nowNs, StatusFlags.EOS);
  }

  /** Answers an EOS heartbeat of an image that has already ended, so the sender's linger can finish. */
  repeatEndOfStream(nowNs: number): void {
    this.sendStatusMessage(nowNs, StatusFlags.EOS);
  }

  private sendStatusMessage(nowNs: number, flags: number): void {
    const position = this.reader.position;
    const count = Math.floor(position / this.termLength);
    const window = this.cc.windowLength;
    const frame = Buffer.alloc(this.params.groupTag === undefined ? ControlLength.SM : ControlLength.SM_WITH_GROUP_TAG);
    encodeStatusMessage({
      type: FrameType.SM, flags, sessionId: this.sessionId, streamId: this.streamId,
      consumptionTermId: (this.initialTermId + count) | 0, consumptionTermOffset: position - count * this.termLength,
      receiverWindow: window, receiverId: this.params.receiverId,
      ...(this.params.groupTag !== undefined && { groupTag: this.params.groupTag }),
    }, frame, 0);
    this.sender.sendControl(frame, this.params.controlPort, this.params.controlAddress);
    this.lastSmPosition = position;
    this.lastSmWindow = window;
    this.lastSmNs = nowNs;
    this.counters.statusMessagesSent++;
    this.counters.receiverWindow = window;
  }

  private sendNak(gap: Gap): void {
    const frame = Buffer.alloc(ControlLength.NAK);
    encodeNak({ type: FrameType.NAK, sessionId: this.sessionId, streamId: this.streamId, ...gap }, frame, 0);
    this.sender.sendControl(frame, this.params.controlPort, this.params.controlAddress);
    this.counters.naksSent++;
  }

  private sendRttMeasurement(nowNs: number): void {
    const frame = Buffer.alloc(ControlLength.RTTM);
    encodeRttMeasurement({
      type: FrameType.RTTM, flags: RttFlags.REPLY, sessionId: this.sessionId, streamId: this.streamId,
      echoTimestamp: BigInt(nowNs), receptionDelta: 0n, receiverId: this.params.receiverId,
    }, frame, 0);
    this.sender.sendControl(frame, this.params.controlPort, this.params.controlAddress);
    this.cc.onRttMeasurementSent(nowNs);
  }

  private positionOf(termId: number, termOffset: number): number {
    try {
      return computePosition(termId, termOffset, this.bits, this.initialTermId);
    } catch {
      return -1;
    }
  }
}
