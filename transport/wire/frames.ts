/**
 * Aeron frames as a whole: the union of every frame representation, a decoder and an encoder that
 * dispatch on the type, and the walk over the frames of one datagram. The per-frame codecs live in
 * `header.ts` (common header), `data.ts` (DATA, PAD, heartbeat) and `control.ts` (the rest); this
 * file re-exports them so `transport/wire/frames.js` is the one import callers need.
 *
 * Datagram layout: one or more frames, each starting at a 32-byte-aligned offset; the frame after
 * one of frame_length L starts at align(L, 32). Aeron's sender sends whole aligned frames, but the
 * last frame of a datagram may end unpadded, so a datagram ends at the earlier of the two.
 */
import {
  decodeError,
  decodeNak,
  decodeResponseSetup,
  decodeRttMeasurement,
  decodeSetup,
  decodeStatusMessage,
  encodeError,
  encodeNak,
  encodeResponseSetup,
  encodeRttMeasurement,
  encodeSetup,
  encodeStatusMessage,
  type ErrorFrame,
  type NakFrame,
  type ResponseSetup,
  type RttMeasurement,
  type SetupFrame,
  type StatusMessage,
} from './control.js';
import { DATA_HEADER_LENGTH, decodeData, encodeData, type DataFrame } from './data.js';
import { type Bytes, FRAME_ALIGNMENT, FrameType, HEADER_LENGTH, WireError, checkedView, decodeHeader } from './header.js';

export * from './control.js';
export * from './data.js';
export * from './header.js';

/** Any frame ffnet decodes, discriminated by `type`. */
export type Frame = DataFrame | NakFrame | StatusMessage | ErrorFrame | SetupFrame | RttMeasurement | ResponseSetup;

/**
 * Decodes the frame at `offset` (`length` bytes present) by its type.
 * Throws WireError for malformed bytes and for types ffnet does not handle (RES, EXT, encrypted).
 */
export function decodeFrame(buf: Bytes, offset: number, length: number): Frame {
  const { type } = decodeHeader(buf, offset, length);
  switch (type) {
    case FrameType.PAD:
    case FrameType.DATA:
      return decodeData(buf, offset, length);
    case FrameType.NAK:
      return decodeNak(buf, offset, length);
    case FrameType.SM:
      return decodeStatusMessage(buf, offset, length);
    case FrameType.ERR:
      return decodeError(buf, offset, length);
    case FrameType.SETUP:
      return decodeSetup(buf, offset, length);
    case FrameType.RTTM:
      return decodeRttMeasurement(buf, offset, length);
    case FrameType.RSP_SETUP:
      return decodeResponseSetup(buf, offset, length);
    default:
      throw new WireError('BAD_TYPE', offset, `frame type ${type} is not handled`);
  }
}

/** Writes `frame` at `offset`; returns the bytes written (not rounded up to the alignment). */
export function encodeFrame(frame: Frame, buf: Bytes, offset: number): number {
  switch (frame.type) {
    case FrameType.PAD:
    case FrameType.DATA:
      return encodeData(frame, buf, offset);
    case FrameType.NAK:
      return encodeNak(frame, buf, offset);
    case FrameType.SM:
      return encodeStatusMessage(frame, buf, offset);
    case FrameType.ERR:
      return encodeError(frame, buf, offset);
    case FrameType.SETUP:
      return encodeSetup(frame, buf, offset);
    case FrameType.RTTM:
      return encodeRttMeasurement(frame, buf, offset);
    case FrameType.RSP_SETUP:
      return encodeResponseSetup(frame, buf, offset);
  }
}

/** One step of a datagram walk: a frame's place, or the error that ends the walk. */
export type FrameSlot =
  | {
      ok: true;
      /** The frame's type code (any value, including ones ffnet does not handle). */
      type: number;
      flags: number;
      /** Where the frame starts in the buffer. */
      offset: number;
      /** Its frame_length as sent (0 for a heartbeat; the padded length for PAD). */
      frameLength: number;
      /** The bytes of it present in the datagram: what to pass to a decoder as `length`. */
      length: number;
    }
  | { ok: false; offset: number; error: WireError };

/**
 * Walks the frames of the datagram `buf[offset, offset + length)`, yielding each frame's slot; a
 * malformed frame yields one `ok: false` slot and ends the walk, so the data path can count the drop
 * without a try/catch. Frames are not decoded: pass a slot's `offset` and `length` to a decoder.
 *
 * Header-only frames end the datagram:
 * - A heartbeat (DATA, frame_length 0) occupies its 32-byte header. Aeron only takes a DATA header
 *   as a heartbeat when the datagram is exactly those 32 bytes, and inside a term a zero
 *   frame_length marks the end of what has been written, so bytes after one are malformed.
 * - A PAD frame fills the rest of its term and only its header is sent, so it is the last frame;
 *   its slot's `length` is 32 whatever its frame_length.
 */
export function* datagramFrames(buf: Bytes, offset: number, length: number): Generator<FrameSlot, void, undefined> {
  const view = checkedView(buf, offset, length, 0, 'datagram');
  const end = offset + length;
  let at = offset;
  const fail = (code: WireError['code'], message: string): FrameSlot => ({
    ok: false,
    offset: at,
    error: new WireError(code, at, message),
  });
  while (at < end) {
    const remaining = end - at;
    if (remaining < HEADER_LENGTH) {
      yield fail('TRUNCATED', `${remaining} bytes left after the last frame, fewer than a header`);
      return;
    }
    let header;
    try {
      header = decodeHeader(view, at, remaining);
    } catch (e) {
      if (!(e instanceof WireError)) throw e;
      yield { ok: false, offset: at, error: e };
      return;
    }
    const { frameLength, flags, type } = header;
    const headerOnly = type === FrameType.PAD || (type === FrameType.DATA && frameLength === 0);
    if (headerOnly) {
      if (remaining < DATA_HEADER_LENGTH) {
        yield fail('TRUNCATED', `${remaining} bytes left for a 32-byte header`);
        return;
      }
      if (type === FrameType.PAD && frameLength < DATA_HEADER_LENGTH) {
        yield fail('BAD_LENGTH', `pad frame_length ${frameLength} < 32`);
        return;
      }
      yield { ok: true, type, flags, offset: at, frameLength, length: DATA_HEADER_LENGTH };
      if (remaining > DATA_HEADER_LENGTH) {
        yield {
          ok: false,
          offset: at + DATA_HEADER_LENGTH,
          error: new WireError('BAD_LENGTH', at + DATA_HEADER_LENGTH, `bytes follow a ${type === FrameType.PAD ? 'PAD frame' : 'heartbeat'}`),
        };
      }
      return;
    }
    if (frameLength < HEADER_LENGTH || (type === FrameType.DATA && frameLength < DATA_HEADER_LENGTH)) {
      yield fail('BAD_LENGTH', `frame_length ${frameLength} is shorter than the header`);
      return;
    }
    if (frameLength > remaining) {
      yield fail('TRUNCATED', `frame_length ${frameLength} > ${remaining} bytes left`);
      return;
    }
    yield { ok: true, type, flags, offset: at, frameLength, length: frameLength };
    at += alignUp(frameLength);
  }
}

function alignUp(n: number): number {
  return (n + FRAME_ALIGNMENT - 1) & ~(FRAME_ALIGNMENT - 1);
}
