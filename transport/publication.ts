/**
 * `Publication`: the sending end of a stream, as applications use it.
 *
 * offer() and tryClaim() never throw for a state of the stream: they return the new stream position (> 0)
 * or a negative {@link PublicationResult}: NOT_CONNECTED (no subscriber yet: wait for 'connected'),
 * BACK_PRESSURED (the sender is term_length / 2 behind: retry after yielding to the event loop),
 * ADMIN_ACTION (the log moved to its next term: retry at once), CLOSED, MAX_POSITION_EXCEEDED. They throw
 * only for bad arguments (a TypeError or RangeError, as node:dgram does), including a message longer than
 * `maxMessageLength` or a claim longer than `maxPayloadLength`.
 *
 * Events: 'connected' and 'disconnected' as receivers come and go, 'receiverError' (an ERR frame from a
 * receiver that rejected the stream), 'closed' when a close has finished draining.
 */
import { EventEmitter } from 'node:events';
import type { BufferClaim } from './log/term-appender.js';
import type { ErrorFrame } from './wire/control.js';
import type { PublicationCounters } from './driver/counters.js';
import { NetworkPublication, PublicationResult, type PublicationResultCode } from './driver/network-publication.js';

export { PublicationResult, type PublicationResultCode };
export type { BufferClaim };

/** Events of a {@link Publication}. */
export interface PublicationEventMap {
  connected: [];
  disconnected: [];
  receiverError: [error: ErrorFrame];
  closed: [];
}

/** What a publication needs from its transport. */
export interface PublicationHost {
  /** Starts the clean close and resolves when the publication has drained and lingered. */
  closePublication(publication: Publication): Promise<void>;
}

/** The sending end of a stream. */
export class Publication extends EventEmitter<PublicationEventMap> {
  /** The channel string it was added with. */
  readonly channel: string;
  readonly streamId: number;
  readonly sessionId: number;
  /** Largest message offer() takes: min(term_length / 8, 16 MiB). */
  readonly maxMessageLength: number;
  /** Largest message that fits one frame (and tryClaim()): MTU − 32. */
  readonly maxPayloadLength: number;
  readonly termLength: number;
  readonly mtu: number;
  readonly initialTermId: number;
  /** @internal The sender. */
  readonly core: NetworkPublication;
  private closing: Promise<void> | null = null;

  /** @internal Publications come from Transport.addPublication(). */
  constructor(channel: string, core: NetworkPublication, private readonly host: PublicationHost) {
    super();
    this.channel = channel;
    this.core = core;
    this.streamId = core.streamId;
    this.sessionId = core.sessionId;
    this.maxMessageLength = core.appender.maxMessageLength;
    this.maxPayloadLength = core.appender.maxPayloadLength;
    this.termLength = core.termLength;
    this.mtu = core.mtu;
    this.initialTermId = core.appender.initialTermId;
  }

  /** True while at least one receiver (the required group, with a minimum group size) is present. */
  get isConnected(): boolean {
    return this.core.isConnected;
  }

  /** True once close() has been called. */
  get isClosed(): boolean {
    return this.core.isClosed;
  }

  /** The stream position after the last message offered. */
  get position(): number {
    return this.core.position;
  }

  /** The position at which offer() reports back pressure. */
  get positionLimit(): number {
    return this.core.publicationLimit;
  }

  /** The local address and port of the channel's socket (where receivers send status messages and NAKs). */
  get localAddress(): { address: string; port: number } {
    return this.core.localAddress;
  }

  /** Counters of this publication (live, read-only). */
  get counters(): Readonly<PublicationCounters> {
    return this.core.counters;
  }

  /**
   * Appends `buffer[offset, offset + length)` as one message (fragmented when longer than
   * `maxPayloadLength`); returns the new position or a negative {@link PublicationResult}.
   */
  offer(buffer: Uint8Array, offset = 0, length?: number): number {
    if (!(buffer instanceof Uint8Array)) {
      throw new TypeError(`The "buffer" argument must be an instance of Buffer or Uint8Array. Received ${describe(buffer)}`);
    }
    checkInteger('offset', offset);
    const len = length ?? buffer.length - offset;
    checkInteger('length', len);
    return this.core.offer(buffer, offset, len);
  }

  /**
   * Reserves one unfragmented message of `length` bytes to be written in place: fill `claim.payload`, then
   * `claim.commit()` (or `claim.abort()`). Returns the claim, or a negative {@link PublicationResult}.
   */
  tryClaim(length: number): BufferClaim | PublicationResultCode {
    checkInteger('length', length);
    return this.core.tryClaim(length);
  }

  /** Resolves once connected; rejects after `timeoutMs` or if the publication closes first. */
  whenConnected(timeoutMs = 10_000): Promise<void> {
    if (this.isConnected) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const done = (error?: Error): void => {
        clearTimeout(timer);
        this.off('connected', onConnected);
        this.off('closed', onClosed);
        if (error) reject(error);
        else resolve();
      };
      const onConnected = (): void => done();
      const onClosed = (): void => done(new Error(`publication ${this.channel} stream ${this.streamId} closed before a subscriber connected`));
      const timer = setTimeout(() => done(new Error(`no subscriber connected to ${this.channel} stream ${this.streamId} within ${timeoutMs} ms`)), timeoutMs);
      this.on('connected', onConnected);
      this.on('closed', onClosed);
    });
  }

  /**
   * Refuses further offers, sends what is left, announces the end of the stream, and resolves when every
   * receiver has closed its image or the linger time has passed. Idempotent.
   */
  close(): Promise<void> {
    this.closing ??= this.host.closePublication(this);
    return this.closing;
  }
}

function checkInteger(name: string, value: unknown): void {
  if (typeof value !== 'number' || !Number.isInteger(value)) {
    throw new TypeError(`The "${name}" argument must be an integer. Received ${describe(value)}`);
  }
  if (value < 0) throw new RangeError(`The value of "${name}" is out of range. It must be >= 0. Received ${value}`);
}

function describe(value: unknown): string {
  if (value === null || value === undefined) return String(value);
  if (typeof value === 'object') return `an instance of ${value.constructor?.name ?? 'Object'}`;
  return `type ${typeof value} (${String(value)})`;
}
