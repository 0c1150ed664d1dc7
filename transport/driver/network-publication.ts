/**
 * The sending side of one stream: a publication's term log and everything the sender does with it.
 *
 * offer() appends to the log (transport/log/term-appender.ts) and the sender sends the log in datagrams of
 * up to one MTU as flow control allows: at once when 16 full datagrams are ready, otherwise at the end of
 * the current JS task, so that messages offered together share datagrams and leave in bursts. Around the data it runs the protocol:
 * SETUP every 100 ms until a status message arrives (and again when one asks for it), a heartbeat after
 * 100 ms without data, resends for NAKs (retransmit-handler.ts), RTT echoes, and a receiver timeout.
 *
 * Positions: the publication position (the appender's tail) ≤ the publication limit, beyond which offer()
 * reports back pressure: one receiver window past the flow-control limit, and at most term_length / 2 past
 * the sender position (which bounds what the term buffers must keep); the sender position (what has been sent) ≤
 * the sender limit from flow control (flow-control.ts) — except that a PAD frame, sent as its header only,
 * carries the sender to the next term's start. Resends come from the term buffers; since the appender is at
 * most term_length / 2 plus one message ahead of the sender, the buffers still hold everything from one
 * term behind the sender position, and older NAKs are ignored and counted.
 *
 * Closing drains: offers are refused, the sender sends what is left (as flow control allows), then sends
 * EOS heartbeats at the final position until every receiver has closed its image (status messages with the
 * EOS flag), the receivers are gone, or the linger time runs out.
 */
import { TermAppender, AppendStatus, type BufferClaim } from '../log/term-appender.js';
import type { UdpChannel } from '../wire/channel.js';
import {
  FrameType, StatusFlags, encodeData, encodeRttMeasurement, encodeSetup, heartbeat, type ErrorFrame,
  type NakFrame, type RttMeasurement, type StatusMessage,
} from '../wire/frames.js';
import { ControlLength } from '../wire/control.js';
import { computePosition, positionBitsToShift } from '../wire/position.js';
import { publicationCounters, type PublicationCounters } from './counters.js';
import { FlowControl } from './flow-control.js';
import { MAX_RETRANSMITS, RetransmitHandler } from './retransmit-handler.js';
import type { SendEndpoint } from './send-endpoint.js';
import { nanoTime } from './socket.js';
import type { TransportTimings } from './timings.js';

/** Results of offer() and tryClaim() that are not a position, numbered as Aeron's. */
export const PublicationResult = {
  /** No receiver has connected (or all have gone). */
  NOT_CONNECTED: -1,
  /** The publication limit is reached: the sender has not caught up, or flow control holds it. */
  BACK_PRESSURED: -2,
  /** The log rotated to its next term; offer again. */
  ADMIN_ACTION: AppendStatus.ADMIN_ACTION,
  /** The publication is closed. */
  CLOSED: -4,
  /** The stream reached the largest position its term length allows. */
  MAX_POSITION_EXCEEDED: AppendStatus.MAX_POSITION_EXCEEDED,
} as const;

/** One of {@link PublicationResult}'s values. */
export type PublicationResultCode = (typeof PublicationResult)[keyof typeof PublicationResult];

/** What a publication reports upwards. */
export interface PublicationEvents {
  onConnectionChange(connected: boolean): void;
  onReceiverError(error: ErrorFrame): void;
  onClosed(): void;
}

/** Where and what a publication sends. */
export interface NetworkPublicationParams {
  channel: UdpChannel;
  streamId: number;
  sessionId: number;
  initialTermId: number;
}

type State = 'active' | 'draining' | 'linger' | 'closed';

/** Datagrams sent in one pass before yielding to the event loop. */
const MAX_DATAGRAMS_PER_PASS = 1024;
/** Full datagrams that offers accumulate before they are sent without waiting for the end of the task. */
const BURST_DATAGRAMS = 16;

/** A publication's sender. */
export class NetworkPublication {
  readonly appender: TermAppender;
  readonly counters: PublicationCounters = publicationCounters();
  readonly sessionId: number;
  readonly streamId: number;
  readonly termLength: number;
  readonly mtu: number;
  /** How far offers may run ahead of the sender: term_length / 2. */
  readonly termWindowLength: number;
  private readonly bits: number;
  private readonly initialTermId: number;
  private readonly fc: FlowControl;
  private readonly retransmit: RetransmitHandler;
  private readonly ttl: number;
  private readonly burstBytes: number;
  private senderPosition: number;
  private senderLimit: number;
  /** The publication limit, recomputed by {@link updateLimit} whenever an input changes. */
  private limit = 0;
  private state: State = 'active';
  private connected = false;
  private shouldSendSetup = true;
  /**
   * A receiver asked for SETUP (SEND_SETUP): sent at the next duty, and not cancelled by the status
   * messages of receivers already connected, which only end the repeats of the initial SETUP.
   */
  private setupRequested = false;
  private lastSetupNs = -Infinity;
  private lastSendNs = -Infinity;
  private lingerDeadlineNs = 0;
  private flushQueued = false;

  constructor(
    private readonly endpoint: SendEndpoint,
    params: NetworkPublicationParams,
    private readonly timings: TransportTimings,
    private readonly events: PublicationEvents,
  ) {
    const { channel } = params;
    this.sessionId = params.sessionId;
    this.streamId = params.streamId;
    this.termLength = channel.termLength;
    this.mtu = channel.mtu;
    // SETUP's ttl is the multicast TTL; a unicast channel has none and says 0, as Aeron's driver does.
    this.ttl = channel.multicast ? channel.ttl : 0;
    this.burstBytes = BURST_DATAGRAMS * this.mtu;
    this.initialTermId = params.initialTermId;
    this.bits = positionBitsToShift(this.termLength);
    this.termWindowLength = this.termLength / 2;
    this.appender = new TermAppender({
      termLength: this.termLength, initialTermId: params.initialTermId, sessionId: params.sessionId, streamId: params.streamId,
      mtu: this.mtu,
    });
    this.senderPosition = 0;
    this.senderLimit = 0;
    const strategy = channel.multicast ? channel.flowControl.strategy : 'unicast';
    this.fc = new FlowControl(strategy, channel.params.fc, timings.receiverTimeoutNs);
    this.retransmit = new RetransmitHandler(
      (termId, termOffset, length) => this.resend(termId, termOffset, length),
      channel.multicast,
      MAX_RETRANSMITS,
      0,
      timings.retransmitLingerNs,
    );
    this.updateLimit();
  }

  /** The position after the last message offered. */
  get position(): number {
    return this.appender.position;
  }

  /** Where offer() starts reporting back pressure. */
  get publicationLimit(): number {
    return this.limit;
  }

  /** The channel socket's local address and port. */
  get localAddress(): { address: string; port: number } {
    return this.endpoint.localAddress;
  }

  /** Receivers heard from recently. */
  get receiverCount(): number {
    return this.fc.receiverCount;
  }

  get isConnected(): boolean {
    return this.connected && this.state === 'active';
  }

  get isClosed(): boolean {
    return this.state !== 'active';
  }

  /** True while there is something to do soon (unsent data, resends, setups, a close in progress). */
  get isBusy(): boolean {
    return this.state === 'draining' || this.state === 'linger' || this.retransmit.activeCount > 0
      || (this.senderPosition < this.appender.position && this.senderPosition < this.senderLimit);
  }

  /** Appends one message; see {@link PublicationResult}. */
  offer(message: Uint8Array, offset: number, length: number): number {
    if (this.state !== 'active' || !this.connected || this.appender.position >= this.limit) return this.refusal();
    const result = this.appender.append(message, offset, length);
    if (result > 0) {
      const counters = this.counters;
      counters.messagesOffered++;
      counters.bytesOffered += length;
      this.afterAppend(result);
    }
    return result;
  }

  /** Reserves one frame of `length` bytes; see {@link PublicationResult}. */
  tryClaim(length: number): BufferClaim | PublicationResultCode {
    const refused = this.refusal();
    if (refused !== 0) return refused as PublicationResultCode;
    const claim = this.appender.claim(length);
    if (typeof claim === 'number') return claim;
    return {
      payload: claim.payload,
      position: claim.position,
      commit: () => {
        claim.commit();
        this.counters.messagesOffered++;
        this.counters.bytesOffered += length;
        this.afterAppend(this.appender.position);
      },
      abort: () => {
        claim.abort();
        this.afterAppend(this.appender.position);
      },
    };
  }

  /** Starts a clean close; `events.onClosed` fires when it has finished. */
  close(nowNs: number): void {
    if (this.state !== 'active') return;
    this.state = 'draining';
    this.lingerDeadlineNs = nowNs + this.timings.lingerNs;
    this.onDuty(nowNs);
  }

  /** Stops at once: no drain, no EOS (as if the process had died). */
  abort(): void {
    if (this.state === 'closed') return;
    this.state = 'closed';
    this.events.onClosed();
  }

  /** Sends what the log holds and flow control allows; returns the datagrams sent. */
  sendPending(nowNs: number): number {
    this.flushQueued = false;
    if (this.state === 'closed') return 0;
    const appender = this.appender;
    const end = Math.min(this.senderLimit, appender.position);
    let sent = 0;
    let position = this.senderPosition;
    while (position < end && sent < MAX_DATAGRAMS_PER_PASS) {
      const batch = appender.scanForSend(position, this.senderLimit - position);
      if (batch === null) break;
      this.endpoint.sendData(batch.bytes);
      this.counters.dataDatagramsSent++;
      this.counters.dataBytesSent += batch.bytes.length;
      position = batch.position;
      sent++;
    }
    if (sent > 0) {
      this.senderPosition = position;
      this.lastSendNs = nowNs;
      this.updateLimit();
      this.endpoint.flush();
    }
    return sent;
  }

  /** The periodic work: setups, data, resends, heartbeats, receiver timeouts, the close. */
  onDuty(nowNs: number): void {
    if (this.state === 'closed') return;
    if (this.setupRequested || (this.shouldSendSetup && nowNs - this.lastSetupNs >= this.timings.setupIntervalNs)) this.sendSetup(nowNs);
    this.sendPending(nowNs);
    this.retransmit.onTimer(nowNs);
    const previousLimit = this.senderLimit;
    this.senderLimit = this.fc.onIdle(nowNs, this.senderLimit);
    this.updateLimit();
    if (this.senderLimit !== previousLimit) this.sendPending(nowNs);
    if (this.state === 'active') {
      const connected = this.fc.hasRequiredReceivers;
      if (connected !== this.connected) this.setConnected(connected);
      if (!connected && !this.shouldSendSetup && this.fc.receiverCount === 0) this.shouldSendSetup = true;
    }
    if (this.state === 'draining' && (this.senderPosition >= this.appender.position || this.fc.receiverCount === 0
      || nowNs >= this.lingerDeadlineNs)) {
      this.state = 'linger';
      this.lastSendNs = -Infinity;
    }
    if (nowNs - this.lastSendNs >= this.timings.heartbeatIntervalNs) this.sendHeartbeat(nowNs, this.state === 'linger');
    if (this.state === 'linger' && (this.fc.receiverCount === 0 || nowNs >= this.lingerDeadlineNs)) {
      this.state = 'closed';
      this.events.onClosed();
    }
  }

  onStatusMessage(sm: StatusMessage, nowNs: number): void {
    this.counters.statusMessagesReceived++;
    if (sm.flags & StatusFlags.SEND_SETUP) {
      if (this.state === 'active') this.setupRequested = true;
      return;
    }
    let position: number;
    try {
      position = computePosition(sm.consumptionTermId, sm.consumptionTermOffset, this.bits, this.initialTermId);
    } catch {
      return;
    }
    if (position < 0 || position > this.appender.position || sm.receiverWindow < 0) return;
    const eos = (sm.flags & StatusFlags.EOS) !== 0;
    if (!eos) this.shouldSendSetup = false;
    const previous = this.senderLimit;
    this.senderLimit = this.fc.onStatusMessage(
      { receiverId: sm.receiverId, position, window: sm.receiverWindow, groupTag: sm.groupTag, eos }, this.senderLimit, nowNs,
    );
    this.updateLimit();
    if (this.state === 'active') {
      const connected = this.fc.hasRequiredReceivers;
      if (connected !== this.connected) this.setConnected(connected);
    }
    if (this.senderLimit > previous) this.sendPending(nowNs);
    if (this.state === 'linger' && this.fc.receiverCount === 0) this.onDuty(nowNs);
  }

  onNak(nak: NakFrame, nowNs: number): void {
    this.counters.naksReceived++;
    let position: number;
    try {
      position = computePosition(nak.termId, nak.termOffset, this.bits, this.initialTermId);
    } catch {
      this.counters.naksIgnored++;
      return;
    }
    if (nak.length <= 0 || position < 0 || position >= this.senderPosition || position < this.senderPosition - this.termLength
      || nak.termOffset + nak.length > this.termLength) {
      this.counters.naksIgnored++;
      return;
    }
    if (!this.retransmit.onNak(nak.termId, nak.termOffset, nak.length, nowNs)) this.counters.naksIgnored++;
  }

  /** Echoes a receiver's RTT measurement request to where it came from. */
  onRttMeasurement(rttm: RttMeasurement, address: string, port: number): void {
    const frame = Buffer.alloc(ControlLength.RTTM);
    encodeRttMeasurement({ ...rttm, flags: 0, receptionDelta: 0n }, frame, 0);
    this.endpoint.sendControl(frame, port, address);
    this.counters.rttmEchoed++;
  }

  onError(error: ErrorFrame): void {
    this.counters.errorFramesReceived++;
    this.events.onReceiverError(error);
  }

  /** Why an offer or claim is refused now (CLOSED, NOT_CONNECTED, BACK_PRESSURED), or 0 when it is not. */
  private refusal(): number {
    if (this.state !== 'active') return PublicationResult.CLOSED;
    if (!this.connected) {
      this.counters.notConnectedEvents++;
      return PublicationResult.NOT_CONNECTED;
    }
    if (this.appender.position >= this.limit) {
      this.counters.backPressureEvents++;
      return PublicationResult.BACK_PRESSURED;
    }
    return 0;
  }

  /**
   * Offers may run ahead of what flow control lets out by one receiver window, and never more than half a
   * term ahead of the sender. Everything runs on one thread: an offer loop that stops when flow control is
   * the bottleneck yields to the event loop, where status messages arrive and the sender goes on.
   */
  private updateLimit(): void {
    const window = Math.max(this.fc.maxReceiverWindow, this.burstBytes);
    this.limit = Math.min(this.senderPosition + this.termWindowLength, Math.max(this.senderLimit, this.senderPosition) + window);
  }

  /**
   * Sends at once when a burst of full datagrams is ready (one sendBatch() on ffnet/dgram); anything less
   * at the end of the current task, so messages offered together share datagrams and bursts.
   */
  private afterAppend(position: number): void {
    if (Math.min(position, this.senderLimit) - this.senderPosition >= this.burstBytes) {
      this.sendPending(nanoTime());
    } else if (!this.flushQueued) {
      this.flushQueued = true;
      queueMicrotask(this.flushAtEndOfTask);
    }
  }

  private readonly flushAtEndOfTask = (): void => {
    if (this.flushQueued) this.sendPending(nanoTime());
  };

  private setConnected(connected: boolean): void {
    this.connected = connected;
    this.events.onConnectionChange(connected);
  }

  private sendSetup(nowNs: number): void {
    const { termId, termOffset } = this.termOf(this.senderPosition);
    const frame = Buffer.alloc(ControlLength.SETUP);
    encodeSetup({
      type: FrameType.SETUP, flags: 0, termOffset, sessionId: this.sessionId, streamId: this.streamId,
      initialTermId: this.initialTermId, activeTermId: termId, termLength: this.termLength, mtu: this.mtu, ttl: this.ttl,
    }, frame, 0);
    this.endpoint.sendControl(frame);
    this.lastSetupNs = nowNs;
    this.setupRequested = false;
    this.counters.setupsSent++;
  }

  private sendHeartbeat(nowNs: number, eos: boolean): void {
    const { termId, termOffset } = this.termOf(this.senderPosition);
    const frame = Buffer.alloc(32);
    encodeData(heartbeat({ termId, termOffset, sessionId: this.sessionId, streamId: this.streamId }, eos), frame, 0);
    this.endpoint.sendControl(frame);
    this.lastSendNs = nowNs;
    this.counters.heartbeatsSent++;
  }

  /** Resends whole frames from `termOffset` of `termId`, up to `length` bytes and what flow control allows. */
  private resend(termId: number, termOffset: number, length: number): void {
    const from = computePosition(termId, termOffset, this.bits, this.initialTermId);
    const window = this.fc.maxReceiverWindow;
    const cap = window > 0 ? Math.min(length, window * this.fc.retransmitWindowMultiple) : length;
    const end = Math.min(from + cap, this.senderPosition);
    let position = from;
    while (position < end) {
      const batch = this.appender.scanForSend(position, this.senderPosition - position);
      if (batch === null) break;
      this.endpoint.sendData(batch.bytes);
      this.counters.retransmits++;
      this.counters.retransmittedBytes += batch.bytes.length;
      position = batch.position;
    }
    this.endpoint.flush();
  }

  private termOf(position: number): { termId: number; termOffset: number } {
    const count = Math.floor(position / this.termLength);
    return { termId: (this.initialTermId + count) | 0, termOffset: position - count * this.termLength };
  }
}
