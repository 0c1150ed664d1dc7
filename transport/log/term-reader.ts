/**
 * The subscriber side of a stream's log: an image's three term buffers rebuilt from received DATA and PAD
 * frames, loss detection for NAKs, and delivery of whole messages in stream order.
 *
 * Three positions move forward: the subscriber position (what `poll` has consumed) ≤ the rebuild position
 * (the end of the contiguous run of complete frames) ≤ the high-water mark (the end of the furthest frame
 * received, or of a heartbeat). Frames are accepted only from the rebuild position up to the subscriber
 * position plus a window (default term_length / 2, the most a sender's flow-control limit lets through), so
 * at most the term being read and the next one are written; the term behind the reader is zeroed as the
 * reader leaves it, which keeps "frame_length 0" meaning "not received" in every buffer that can be written.
 * The data path never throws on bad input: `insert` reports what it did with each datagram.
 */
import { FragmentAssembler } from './fragment-assembler.js';
import {
  Field, Flags, FrameType, HEADER_LENGTH, PARTITION_COUNT, alignFrame, checkTermLength, maxMessageLength, partitionIndex,
  startPosition, termCount, termViews,
} from './layout.js';

/** What {@link TermReader.insert} did with a datagram. */
export const InsertResult = {
  /** At least one new frame was written into the term. */
  INSERTED: 0,
  /** Every frame was already present or already consumed. */
  DUPLICATE: 1,
  /** A heartbeat (frame_length 0): only the high-water mark may move. */
  HEARTBEAT: 2,
  /** The frames lie beyond the window or before the initial term. */
  OUT_OF_WINDOW: 3,
  /** Bounds, lengths, types or header fields are inconsistent; nothing was written. */
  MALFORMED: 4,
} as const;

/** One of {@link InsertResult}'s values. */
export type InsertResultCode = (typeof InsertResult)[keyof typeof InsertResult];

/** How an image's log is laid out and where the subscriber joins it. */
export interface TermReaderOptions {
  /** Power of two in [64 KiB, 1 GiB], from the sender's SETUP. */
  termLength: number;
  initialTermId: number;
  sessionId: number;
  streamId: number;
  /** Term id to join at (SETUP's active_term_id); default `initialTermId`. */
  activeTermId?: number;
  /** Term offset to join at (SETUP's term_offset); default 0. */
  termOffset?: number;
  /** How far beyond the subscriber position frames are accepted; default term_length / 2, at most term_length. */
  windowLength?: number;
}

/** Where a delivered message sits in the stream. The object is reused: copy fields to keep them. */
export interface MessageHeader {
  sessionId: number;
  streamId: number;
  /** Term id of the frame that completed the message (its END fragment). */
  termId: number;
  /** Term offset of the frame that completed the message. */
  termOffset: number;
  /** Stream position just after the message. */
  position: number;
}

/** Receives a whole message; `message` is valid only during the call. */
export type MessageHandler = (message: Uint8Array, header: Readonly<MessageHeader>) => void;

/** A run of missing bytes, as a NAK names it. */
export interface Gap {
  termId: number;
  termOffset: number;
  length: number;
}

/** An image's term log. */
export class TermReader {
  readonly termLength: number;
  readonly initialTermId: number;
  readonly sessionId: number;
  readonly streamId: number;
  readonly windowLength: number;
  /** The three term buffers, indexed by term count mod 3. */
  readonly terms: readonly Uint8Array[];
  /** Reassembly of fragmented messages; its `dropped` counts messages lost to it. */
  readonly assembler: FragmentAssembler;
  /** Whole messages handed to a poll handler, and their bytes. */
  messagesDelivered = 0;
  bytesDelivered = 0;
  private readonly views: DataView[];
  private readonly header: MessageHeader;
  private subscriberPosition: number;
  private rebuild: number;
  private hwm: number;
  /** Term count of the oldest term not yet zeroed behind the reader. */
  private uncleanedTermCount: number;

  constructor(options: TermReaderOptions) {
    const { termLength, initialTermId, sessionId, streamId } = options;
    checkTermLength(termLength);
    const termId = options.activeTermId ?? initialTermId;
    const offset = options.termOffset ?? 0;
    const windowLength = options.windowLength ?? termLength / 2;
    const joinPosition = startPosition(termLength, initialTermId, termId, offset);
    if (!Number.isInteger(windowLength) || windowLength < HEADER_LENGTH || windowLength > termLength) {
      throw new RangeError(`window length must be in [${HEADER_LENGTH}, ${termLength}]: ${windowLength}`);
    }
    this.termLength = termLength;
    this.initialTermId = initialTermId | 0;
    this.sessionId = sessionId | 0;
    this.streamId = streamId | 0;
    this.windowLength = windowLength;
    this.terms = Array.from({ length: PARTITION_COUNT }, () => new Uint8Array(termLength));
    this.views = termViews(this.terms);
    this.assembler = new FragmentAssembler(maxMessageLength(termLength));
    this.header = { sessionId: this.sessionId, streamId: this.streamId, termId: 0, termOffset: 0, position: 0 };
    this.subscriberPosition = joinPosition;
    this.rebuild = joinPosition;
    this.hwm = joinPosition;
    this.uncleanedTermCount = termCount(termId, initialTermId);
  }

  /** The position `poll` has consumed up to. */
  get position(): number {
    return this.subscriberPosition;
  }

  /** The end of the contiguous run of complete frames. */
  get rebuildPosition(): number {
    return this.rebuild;
  }

  /** The end of the furthest frame or heartbeat received. */
  get highWaterMark(): number {
    return this.hwm;
  }

  /**
   * Writes a received datagram's frames (`bytes`, one or more 32-byte-aligned frames, a PAD frame as its header
   * only) into the term at `termOffset` of `termId`. Frames already present, below the rebuild position or
   * beyond the window are skipped; the rebuild position and high-water mark advance.
   */
  insert(termId: number, termOffset: number, bytes: Uint8Array): InsertResultCode {
    const termLength = this.termLength;
    if (bytes.length < HEADER_LENGTH || !Number.isInteger(termOffset) || termOffset < 0 || termOffset % 32 !== 0
      || termOffset + bytes.length > termLength) {
      return InsertResult.MALFORMED;
    }
    const count = termCount(termId, this.initialTermId);
    const src = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const frames = this.walkFrames(src, termId, termOffset);
    if (frames < 0) return InsertResult.MALFORMED;
    if (count < 0) return InsertResult.OUT_OF_WINDOW;
    const position = count * termLength + termOffset;
    const upper = this.subscriberPosition + this.windowLength;
    if (frames === 0) {
      // A heartbeat: the sender's position, which reveals loss at the tail of the stream. Nothing is written,
      // so it may lie beyond the window: a PAD frame moves the sender to the next term's start, past the
      // window, and a lost PAD would otherwise go unnoticed.
      if (position > this.subscriberPosition + termLength) return InsertResult.OUT_OF_WINDOW;
      if (position > this.hwm) this.hwm = position;
      return InsertResult.HEARTBEAT;
    }
    const index = partitionIndex(count);
    const term = this.terms[index]!;
    if (position === this.rebuild && this.hwm <= position && position + this.lastSentEnd <= upper) {
      // The steady state: the next frames in order, nothing received beyond them, all inside the window.
      term.set(bytes, termOffset);
      this.rebuild = this.hwm = position + this.lastFrameEnd;
      return InsertResult.INSERTED;
    }
    const view = this.views[index]!;
    if (position >= this.rebuild && this.fitsEmpty(view, src, termOffset, frames, position, upper)) {
      // The common case: in order, in the window, nothing of it here yet — one copy for the whole datagram.
      term.set(bytes, termOffset);
      const end = position + this.lastFrameEnd;
      if (end > this.hwm) this.hwm = end;
      this.advanceRebuild();
      return InsertResult.INSERTED;
    }
    let inserted = 0;
    let beyond = false;
    for (let offset = 0, i = 0; i < frames; i++) {
      const frameLength = src.getInt32(offset + Field.FRAME_LENGTH, true);
      const isPad = src.getInt16(offset + Field.TYPE, true) === FrameType.PAD;
      const sentLength = isPad ? HEADER_LENGTH : frameLength;
      const framePosition = position + offset;
      if (framePosition + sentLength > upper) {
        beyond = true;
        break;
      }
      const at = termOffset + offset;
      if (framePosition >= this.rebuild && view.getInt32(at + Field.FRAME_LENGTH, true) === 0) {
        term.set(bytes.subarray(offset + Field.VERSION, offset + sentLength), at + Field.VERSION);
        // frame_length last: a rebuild or gap scan treats 0 as "not received".
        view.setInt32(at + Field.FRAME_LENGTH, frameLength, true);
        inserted++;
        const end = framePosition + alignFrame(frameLength);
        if (end > this.hwm) this.hwm = end;
      }
      offset += alignFrame(frameLength);
    }
    if (inserted === 0) return beyond ? InsertResult.OUT_OF_WINDOW : InsertResult.DUPLICATE;
    this.advanceRebuild();
    return InsertResult.INSERTED;
  }

  /**
   * The first gap between the rebuild position and the high-water mark, within the rebuild position's term
   * (a NAK names one term's range); null when there is none.
   */
  scanForGap(): Gap | null {
    if (this.rebuild >= this.hwm) return null;
    const termLength = this.termLength;
    const count = Math.floor(this.rebuild / termLength);
    const termStart = count * termLength;
    const termOffset = this.rebuild - termStart;
    const view = this.views[partitionIndex(count)]!;
    const limit = Math.min(termLength, this.hwm - termStart);
    // Frames start only at 32-byte-aligned offsets, so the gap ends at the first aligned slot holding a frame.
    let end = termOffset + HEADER_LENGTH;
    while (end < limit && view.getInt32(end + Field.FRAME_LENGTH, true) === 0) end += HEADER_LENGTH;
    return { termId: (this.initialTermId + count) | 0, termOffset, length: end - termOffset };
  }

  /**
   * Delivers whole messages from the subscriber position up to the rebuild position, reading at most
   * `fragmentLimit` DATA fragments (PAD frames are skipped and not counted), and stopping at the first frame
   * boundary at or past `stopPosition`. A fragmented message is delivered once its END fragment is read,
   * possibly in a later poll. Returns the number of fragments read.
   */
  poll(handler: MessageHandler, fragmentLimit: number, stopPosition = Infinity): number {
    const termLength = this.termLength;
    const header = this.header;
    const assembler = this.assembler;
    let fragments = 0;
    try {
      while (fragments < fragmentLimit && this.subscriberPosition < this.rebuild && this.subscriberPosition < stopPosition) {
        // One term at a time: its buffer, view and id hold for every frame up to its end.
        let position = this.subscriberPosition;
        const count = Math.floor(position / termLength);
        const termStart = count * termLength;
        const index = partitionIndex(count);
        const term = this.terms[index]!;
        const view = this.views[index]!;
        const end = Math.min(this.rebuild, termStart + termLength, stopPosition);
        header.termId = (this.initialTermId + count) | 0;
        while (position < end && fragments < fragmentLimit) {
          const termOffset = position - termStart;
          const frameLength = view.getInt32(termOffset + Field.FRAME_LENGTH, true);
          position += alignFrame(frameLength);
          this.subscriberPosition = position;
          if (view.getInt16(termOffset + Field.TYPE, true) !== FrameType.DATA) continue;
          fragments++;
          const flags = view.getUint8(termOffset + Field.FLAGS);
          const payload = term.subarray(termOffset + HEADER_LENGTH, termOffset + frameLength);
          const message = (flags & Flags.UNFRAGMENTED) === Flags.UNFRAGMENTED && !assembler.inProgress
            ? payload : assembler.onFragment(payload, flags);
          if (message === null) continue;
          header.termOffset = termOffset;
          header.position = position;
          this.messagesDelivered++;
          this.bytesDelivered += message.length;
          handler(message, header);
        }
      }
    } finally {
      // A throwing handler must not leave a finished term unzeroed for the next insert.
      this.cleanBehind();
    }
    return fragments;
  }

  /**
   * Checks every frame of a datagram against the term and this image; returns how many frames it holds (0 for
   * a heartbeat) or −1 when it is malformed.
   */
  private walkFrames(src: DataView, termId: number, termOffset: number): number {
    const length = src.byteLength;
    this.lastFrameEnd = 0;
    this.lastSentEnd = 0;
    if (src.getInt32(Field.FRAME_LENGTH, true) === 0) {
      return src.getInt16(Field.TYPE, true) === FrameType.DATA && this.headerMatches(src, 0, termId, termOffset) ? 0 : -1;
    }
    let frames = 0;
    let offset = 0;
    while (offset < length) {
      if (length - offset < HEADER_LENGTH) return -1;
      const frameLength = src.getInt32(offset + Field.FRAME_LENGTH, true);
      const type = src.getInt16(offset + Field.TYPE, true);
      if (frameLength < HEADER_LENGTH || !this.headerMatches(src, offset, termId, termOffset + offset)) return -1;
      frames++;
      if (type === FrameType.PAD) {
        // Only a PAD frame's header travels, and it runs to the term's end or to the next frame of the term.
        this.lastSentEnd = offset + HEADER_LENGTH;
        this.lastFrameEnd = offset + alignFrame(frameLength);
        return termOffset + offset + frameLength <= this.termLength ? frames : -1;
      }
      if (type !== FrameType.DATA || offset + frameLength > length) return -1;
      this.lastSentEnd = offset + frameLength;
      offset += alignFrame(frameLength);
      this.lastFrameEnd = offset;
    }
    return frames;
  }

  /** Of the datagram {@link walkFrames} last checked: the aligned end of its last frame (a PAD frame's padded end). */
  private lastFrameEnd = 0;
  /** Of the same datagram: the end of the bytes its last frame carries (a PAD frame's header only). */
  private lastSentEnd = 0;

  /** True when every frame of the (already validated) datagram lies inside the window and its slot in the term is empty. */
  private fitsEmpty(view: DataView, src: DataView, termOffset: number, frames: number, position: number, upper: number): boolean {
    let offset = 0;
    for (let i = 0; i < frames; i++) {
      const frameLength = src.getInt32(offset + Field.FRAME_LENGTH, true);
      const isPad = src.getInt16(offset + Field.TYPE, true) === FrameType.PAD;
      if (position + offset + (isPad ? HEADER_LENGTH : frameLength) > upper) return false;
      if (view.getInt32(termOffset + offset + Field.FRAME_LENGTH, true) !== 0) return false;
      offset += alignFrame(frameLength);
    }
    return true;
  }

  private headerMatches(src: DataView, offset: number, termId: number, termOffset: number): boolean {
    return src.getInt8(offset + Field.VERSION) === 0
      && src.getInt32(offset + Field.TERM_OFFSET, true) === termOffset
      && src.getInt32(offset + Field.TERM_ID, true) === (termId | 0)
      && src.getInt32(offset + Field.SESSION_ID, true) === this.sessionId
      && src.getInt32(offset + Field.STREAM_ID, true) === this.streamId;
  }

  /** Walks the rebuild position over contiguous complete frames, crossing term ends. */
  private advanceRebuild(): void {
    const termLength = this.termLength;
    let position = this.rebuild;
    for (;;) {
      const count = Math.floor(position / termLength);
      const frameLength = this.views[partitionIndex(count)]!.getInt32(position - count * termLength, true);
      if (frameLength <= 0) break;
      position += alignFrame(frameLength);
    }
    this.rebuild = position;
    if (position > this.hwm) this.hwm = position;
  }

  /**
   * Zeroes the terms the reader has left. Their buffers come back as the term three ahead, which the window
   * keeps out of reach until the reader has moved on by at least one term.
   */
  private cleanBehind(): void {
    const current = Math.floor(this.subscriberPosition / this.termLength);
    let count = Math.max(this.uncleanedTermCount, current - (PARTITION_COUNT - 1));
    for (; count < current; count++) this.terms[partitionIndex(count)]!.fill(0);
    this.uncleanedTermCount = current;
  }
}
