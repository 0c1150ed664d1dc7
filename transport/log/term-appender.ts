/**
 * The publication side of a stream's log: three term buffers that messages are appended to as DATA frames,
 * and the scan a sender uses to batch complete frames into datagrams.
 *
 * Contract: one appender per publication, used from one thread. Messages up to `maxPayloadLength` go in one
 * frame; longer ones (up to `maxMessageLength`) are fragmented. A message never straddles two terms: when it
 * does not fit in the rest of the active term, that rest is filled with a PAD frame, the log rotates to the
 * next term id, and `append` returns {@link AppendStatus.ADMIN_ACTION} so the caller retries. Positions are
 * stream positions (see layout.ts). The three buffers hold the active term and the two before it; the one
 * rotated into is zeroed first, so a frame_length of 0 always means "not written yet".
 */
import {
  DEFAULT_MTU, Field, Flags, FrameType, HEADER_LENGTH, PARTITION_COUNT, alignFrame, checkMtu, checkTermLength,
  maxMessageLength, maxPossiblePosition, partitionIndex, startPosition, termCount, termViews, termWords, typeWord,
} from './layout.js';

/** Negative results of {@link TermAppender.append} and {@link TermAppender.claim}, numbered as Aeron's. */
export const AppendStatus = {
  /** The message did not fit in the active term: the term was padded and rotated; retry. */
  ADMIN_ACTION: -3,
  /** The log reached the largest position its term length allows. */
  MAX_POSITION_EXCEEDED: -5,
} as const;

/** One of {@link AppendStatus}'s values. */
export type AppendStatusCode = (typeof AppendStatus)[keyof typeof AppendStatus];

/** How a publication's log is laid out and where it starts. */
export interface TermAppenderOptions {
  /** Power of two in [64 KiB, 1 GiB]. */
  termLength: number;
  initialTermId: number;
  sessionId: number;
  streamId: number;
  /** Largest datagram, a multiple of 32; a full fragment is one MTU. Default 1408. */
  mtu?: number;
  /** Term to start appending in; default `initialTermId`. */
  activeTermId?: number;
  /** 32-byte-aligned offset to start at in that term; default 0. */
  termOffset?: number;
}

/** A frame reserved by {@link TermAppender.claim}, to be filled in place and then committed or aborted. */
export interface BufferClaim {
  /** The frame's payload bytes inside the term buffer. */
  readonly payload: Uint8Array;
  /** The stream position just after the frame. */
  readonly position: number;
  /** Publishes the frame (writes its frame_length). */
  commit(): void;
  /** Turns the frame into a PAD frame, which readers skip. */
  abort(): void;
}

/** A run of complete frames from one term that fits one datagram. */
export interface SendBatch {
  readonly termId: number;
  readonly termOffset: number;
  /** The bytes to send: a view into the term buffer, valid until the log rotates past it. */
  readonly bytes: Uint8Array;
  /** The position after the batch, including the part of a PAD frame that is not sent. */
  readonly position: number;
}

/** A publication's term log. */
export class TermAppender {
  readonly termLength: number;
  readonly initialTermId: number;
  readonly sessionId: number;
  readonly streamId: number;
  readonly mtu: number;
  /** Payload bytes that fit one frame: MTU − 32. */
  readonly maxPayloadLength: number;
  /** Largest message: min(term_length / 8, 16 MiB). */
  readonly maxMessageLength: number;
  /** The three term buffers, indexed by term count mod 3. */
  readonly terms: readonly Uint8Array[];
  private readonly views: DataView[];
  /** The same buffers as 32-bit words, for writing headers. */
  private readonly words: Int32Array[];
  private readonly maxPosition: number;
  private termId: number;
  private tail: number;
  /** The active term's buffer, its words, and its start as a stream position (kept in step with termId). */
  private activeTerm!: Uint8Array;
  private activeWords!: Int32Array;
  private termBase = 0;
  /** The last source buffer small messages were copied from by words, and its words (see wordsOf). */
  private sourceBuffer: ArrayBuffer | null = null;
  private sourceWords = new Int32Array(0);

  constructor(options: TermAppenderOptions) {
    const { termLength, initialTermId, sessionId, streamId } = options;
    checkTermLength(termLength);
    const mtu = options.mtu ?? DEFAULT_MTU;
    checkMtu(mtu);
    const termId = options.activeTermId ?? initialTermId;
    const offset = options.termOffset ?? 0;
    startPosition(termLength, initialTermId, termId, offset);
    this.termLength = termLength;
    this.initialTermId = initialTermId | 0;
    this.sessionId = sessionId | 0;
    this.streamId = streamId | 0;
    this.mtu = mtu;
    this.maxPayloadLength = mtu - HEADER_LENGTH;
    this.maxMessageLength = maxMessageLength(termLength);
    this.maxPosition = maxPossiblePosition(termLength);
    this.terms = Array.from({ length: PARTITION_COUNT }, () => new Uint8Array(termLength));
    this.views = termViews(this.terms);
    this.words = termWords(this.terms);
    this.termId = termId | 0;
    this.tail = offset;
    this.activate();
  }

  /** The term id being appended to. */
  get activeTermId(): number {
    return this.termId;
  }

  /** The offset in the active term where the next frame goes. */
  get termOffset(): number {
    return this.tail;
  }

  /** The stream position after the last appended frame. */
  get position(): number {
    return this.termBase + this.tail;
  }

  /**
   * Appends `message[offset, offset + length)` as one frame, or as fragments of at most `maxPayloadLength`
   * (BEGIN on the first, END on the last). Returns the new position, or an {@link AppendStatus} code.
   * Throws a RangeError for a range outside `message` or longer than `maxMessageLength`.
   */
  append(message: Uint8Array, offset = 0, length = message.length - offset): number {
    if (!Number.isInteger(offset) || !Number.isInteger(length) || offset < 0 || length < 0 || offset + length > message.length) {
      throw new RangeError(`range [${offset}, ${offset}+${length}) is outside a message of ${message.length} bytes`);
    }
    if (length > this.maxMessageLength) {
      throw new RangeError(`message of ${length} bytes exceeds the largest message, ${this.maxMessageLength}`);
    }
    const maxPayload = this.maxPayloadLength;
    if (length <= maxPayload) {
      const required = alignFrame(HEADER_LENGTH + length);
      const tail = this.tail;
      // The common case inline: the frame fits the active term (reserve() checks the largest position only
      // on the way there, so a fit below it is final).
      const termOffset = tail + required <= this.termLength && this.termBase + tail + required <= this.maxPosition ? tail : this.reserve(required);
      if (termOffset < 0) return termOffset;
      this.tail = termOffset + required;
      this.writeFrame(termOffset, Flags.UNFRAGMENTED, FrameType.DATA, message, offset, length);
      return this.termBase + this.tail;
    }
    const fullFrames = Math.floor(length / maxPayload);
    const rest = length - fullFrames * maxPayload;
    // A full fragment is exactly one MTU, which checkMtu keeps 32-byte aligned.
    const required = fullFrames * this.mtu + (rest > 0 ? alignFrame(HEADER_LENGTH + rest) : 0);
    let termOffset = this.reserve(required);
    if (termOffset < 0) return termOffset;
    this.tail = termOffset + required;
    for (let done = 0; done < length;) {
      const chunk = Math.min(maxPayload, length - done);
      const flags = (done === 0 ? Flags.BEGIN : 0) | (done + chunk === length ? Flags.END : 0);
      this.writeFrame(termOffset, flags, FrameType.DATA, message, offset + done, chunk);
      termOffset += alignFrame(HEADER_LENGTH + chunk);
      done += chunk;
    }
    return this.position;
  }

  /**
   * Reserves one unfragmented frame of `length` payload bytes for writing in place. Returns the claim, or an
   * {@link AppendStatus} code. Until it is committed or aborted, {@link scanForSend} stops at it.
   */
  claim(length: number): BufferClaim | AppendStatusCode {
    if (!Number.isInteger(length) || length < 0 || length > this.maxPayloadLength) {
      throw new RangeError(`claim of ${length} bytes exceeds the frame payload limit, ${this.maxPayloadLength}`);
    }
    const required = alignFrame(HEADER_LENGTH + length);
    const termOffset = this.reserve(required);
    if (termOffset < 0) return termOffset as AppendStatusCode;
    this.tail = termOffset + required;
    const index = partitionIndex(termCount(this.termId, this.initialTermId));
    const view = this.views[index]!;
    this.writeHeader(this.words[index]!, termOffset, Flags.UNFRAGMENTED, FrameType.DATA);
    const position = this.position;
    const frameLength = HEADER_LENGTH + length;
    let open = true;
    return {
      payload: this.terms[index]!.subarray(termOffset + HEADER_LENGTH, termOffset + frameLength),
      position,
      commit: () => {
        if (!open) return;
        open = false;
        view.setInt32(termOffset + Field.FRAME_LENGTH, frameLength, true);
      },
      abort: () => {
        if (!open) return;
        open = false;
        view.setInt16(termOffset + Field.TYPE, FrameType.PAD, true);
        view.setInt32(termOffset + Field.FRAME_LENGTH, frameLength, true);
      },
    };
  }

  /**
   * The run of complete frames starting at `fromPosition` (a frame boundary) that fits in
   * min(`maxBytes`, `mtu`) bytes, for one datagram; null when nothing fits or nothing is there. Frames are never
   * split. A PAD frame ends the run and is sent as its header only. A run never crosses a term end, because a
   * PAD frame or the term's last frame ends each term, so the result is always one contiguous range.
   * Positions older than the two terms before the active one return null: their buffer has been reused.
   */
  scanForSend(fromPosition: number, maxBytes: number, mtu: number = this.mtu): SendBatch | null {
    const termLength = this.termLength;
    const tailPosition = this.position;
    const count = Math.floor(fromPosition / termLength);
    const activeCount = termCount(this.termId, this.initialTermId);
    if (!(fromPosition >= 0 && fromPosition < tailPosition) || fromPosition % 32 !== 0 || count < activeCount - (PARTITION_COUNT - 1)) {
      return null;
    }
    const termOffset = fromPosition - count * termLength;
    const index = partitionIndex(count);
    const words = this.words[index]!;
    const limit = Math.min(maxBytes, mtu, termLength - termOffset, tailPosition - fromPosition);
    let available = 0;
    let padding = 0;
    while (available < limit) {
      const w = (termOffset + available) >> 2;
      const frameLength = words[w]!;
      if (frameLength <= 0) break;
      const isPad = words[w + 1]! >> 16 === FrameType.PAD;
      const sendLength = isPad ? HEADER_LENGTH : alignFrame(frameLength);
      if (available + sendLength > limit) break;
      available += sendLength;
      if (isPad) {
        // Only a PAD frame's header is sent; the receiver skips the rest of the term from its frame_length.
        padding = alignFrame(frameLength) - HEADER_LENGTH;
        break;
      }
    }
    if (available === 0) return null;
    return {
      termId: (this.initialTermId + count) | 0,
      termOffset,
      bytes: this.terms[index]!.subarray(termOffset, termOffset + available),
      position: fromPosition + available + padding,
    };
  }

  /**
   * Returns the offset in the active term where `required` aligned bytes fit (the caller moves the tail
   * past them); or pads the rest of the term, rotates, and returns ADMIN_ACTION; or returns
   * MAX_POSITION_EXCEEDED.
   */
  private reserve(required: number): number {
    const termLength = this.termLength;
    const count = termCount(this.termId, this.initialTermId);
    if (this.tail + required <= termLength) {
      if (count * termLength + this.tail + required > this.maxPosition) return AppendStatus.MAX_POSITION_EXCEEDED;
      return this.tail;
    }
    if ((count + 1) * termLength + required > this.maxPosition) return AppendStatus.MAX_POSITION_EXCEEDED;
    if (this.tail < termLength) {
      // A PAD frame fills the rest of the term so receivers' positions reach the term end.
      const words = this.words[partitionIndex(count)]!;
      this.writeHeader(words, this.tail, Flags.UNFRAGMENTED, FrameType.PAD);
      words[this.tail >> 2] = termLength - this.tail;
    }
    // The next term reuses the buffer of the term three back; zero it so unwritten frames read as length 0.
    this.terms[partitionIndex(count + 1)]!.fill(0);
    this.termId = (this.termId + 1) | 0;
    this.tail = 0;
    this.activate();
    return AppendStatus.ADMIN_ACTION;
  }

  /** Points the active-term fields at the buffer of `termId`. */
  private activate(): void {
    const count = termCount(this.termId, this.initialTermId);
    const index = partitionIndex(count);
    this.activeTerm = this.terms[index]!;
    this.activeWords = this.words[index]!;
    this.termBase = count * this.termLength;
  }

  private writeFrame(termOffset: number, flags: number, type: number, src: Uint8Array, srcOffset: number, length: number): void {
    const term = this.activeTerm;
    const words = this.activeWords;
    this.writeHeader(words, termOffset, flags, type);
    const at = termOffset + HEADER_LENGTH;
    if (length <= 64) {
      // Small payloads: a loop beats creating a subarray view to copy from; by words when the source is
      // 4-byte aligned (the term offset always is).
      let i = 0;
      const from = src.byteOffset + srcOffset;
      if ((from & 3) === 0) {
        const srcWords = this.wordsOf(src.buffer as ArrayBuffer);
        for (const w = at >> 2, f = from >> 2, n = length >> 2; i < n; i++) words[w + i] = srcWords[f + i]!;
        i <<= 2;
      }
      for (; i < length; i++) term[at + i] = src[srcOffset + i]!;
    } else {
      term.set(srcOffset === 0 && length === src.length ? src : src.subarray(srcOffset, srcOffset + length), at);
    }
    words[termOffset >> 2] = HEADER_LENGTH + length;
  }

  /**
   * An Int32Array over `buffer`, kept for the next call: callers offer from the same buffer (or the same
   * Buffer pool slab) message after message, and a view per message would be garbage.
   */
  private wordsOf(buffer: ArrayBuffer): Int32Array {
    if (buffer !== this.sourceBuffer || this.sourceWords.length !== buffer.byteLength >> 2) {
      this.sourceBuffer = buffer;
      this.sourceWords = new Int32Array(buffer, 0, buffer.byteLength >> 2);
    }
    return this.sourceWords;
  }

  /**
   * Writes every header field but frame_length. Frame_length goes last: a scan treats length 0 as "not yet
   * written", so no reader of the term ever sees a frame whose header or payload is incomplete.
   */
  private writeHeader(words: Int32Array, termOffset: number, flags: number, type: number): void {
    const w = termOffset >> 2;
    words[w + 1] = typeWord(flags, type);
    words[w + 2] = termOffset;
    words[w + 3] = this.sessionId;
    words[w + 4] = this.streamId;
    words[w + 5] = this.termId;
    words[w + 6] = 0;
    words[w + 7] = 0;
  }
}
