/**
 * DATA and PAD frames: the 32-byte data header and the payload that follows it.
 *
 * Layout after the common header: `8 term_offset i32 | 12 session_id i32 | 16 stream_id i32 |
 * 20 term_id i32 | 24 reserved_value i64`. frame_length = 32 + payload (not rounded up); the next
 * frame starts at the next 32-byte boundary. Two header-only shapes exist:
 * - a heartbeat: a DATA header with frame_length 0 (flags 0xC0, or 0xE0 for end of stream) at the
 *   sender's current term offset;
 * - a PAD frame: its frame_length covers the rest of the term, but only its 32-byte header is sent.
 */
import {
  type Bytes,
  DataFlags,
  FRAME_ALIGNMENT,
  FrameType,
  WireError,
  bytesOf,
  checkedView,
  decodeHeader,
  encodeHeader,
  int32,
  int64,
  writableView,
} from './header.js';

/** Length of the DATA / PAD header; also the maximum per-frame overhead. */
export const DATA_HEADER_LENGTH = 32;

/** Byte offsets of the data header's fields after the common header. */
export const DataField = { TERM_OFFSET: 8, SESSION_ID: 12, STREAM_ID: 16, TERM_ID: 20, RESERVED_VALUE: 24 } as const;

/** A DATA or PAD frame (a heartbeat is a DATA frame with frameLength 0). */
export interface DataFrame {
  type: typeof FrameType.DATA | typeof FrameType.PAD;
  /** 32 + payload for DATA; 0 for a heartbeat; the padded length (to the end of the term) for PAD. */
  frameLength: number;
  /** DataFlags: BEGIN, END, EOS. */
  flags: number;
  termOffset: number;
  sessionId: number;
  streamId: number;
  termId: number;
  reservedValue: bigint;
  /** The bytes after the header (a view into the decoded buffer); empty for PAD and heartbeats. */
  payload: Uint8Array;
}

const EMPTY: Uint8Array = new Uint8Array(0);

/** True for a heartbeat: a DATA header with frame_length 0. */
export function isHeartbeat(frame: Pick<DataFrame, 'type' | 'frameLength'>): boolean {
  return frame.type === FrameType.DATA && frame.frameLength === 0;
}

/** A heartbeat at `termOffset` of `termId`; with `eos` it announces the end of the stream (flags 0xE0). */
export function heartbeat(
  f: Pick<DataFrame, 'termOffset' | 'sessionId' | 'streamId' | 'termId'>,
  eos = false,
): DataFrame {
  return {
    type: FrameType.DATA,
    frameLength: 0,
    flags: DataFlags.UNFRAGMENTED | (eos ? DataFlags.EOS : 0),
    reservedValue: 0n,
    payload: EMPTY,
    ...f,
  };
}

/**
 * Decodes the DATA or PAD frame at `offset`, `length` bytes of which are present.
 * The payload is a view of `buf`, not a copy. Throws WireError when the bytes cannot be this frame.
 */
export function decodeData(buf: Bytes, offset: number, length: number): DataFrame {
  const v = checkedView(buf, offset, length, DATA_HEADER_LENGTH, 'data frame');
  const h = decodeHeader(v, offset, length);
  if (h.type !== FrameType.DATA && h.type !== FrameType.PAD) {
    throw new WireError('BAD_TYPE', offset, `data frame: type ${h.type}, expected DATA or PAD`);
  }
  let payload: Uint8Array = EMPTY;
  if (h.type === FrameType.DATA && h.frameLength !== 0) {
    if (h.frameLength < DATA_HEADER_LENGTH) {
      throw new WireError('BAD_LENGTH', offset, `data frame: frame_length ${h.frameLength} < 32`);
    }
    if (h.frameLength > length) {
      throw new WireError('TRUNCATED', offset, `data frame: frame_length ${h.frameLength} > ${length} bytes present`);
    }
    payload = bytesOf(v).subarray(offset + DATA_HEADER_LENGTH, offset + h.frameLength);
  } else if (h.type === FrameType.PAD && h.frameLength < DATA_HEADER_LENGTH) {
    // A PAD frame covers at least its own header; only that header is on the wire, so its
    // frame_length is not bounded by the bytes present.
    throw new WireError('BAD_LENGTH', offset, `pad frame: frame_length ${h.frameLength} < 32`);
  }
  const termOffset = v.getInt32(offset + DataField.TERM_OFFSET, true);
  if (termOffset < 0 || termOffset % FRAME_ALIGNMENT !== 0) {
    throw new WireError('BAD_FIELD', offset, `data frame: term_offset ${termOffset} is not a 32-byte-aligned offset`);
  }
  return {
    type: h.type,
    frameLength: h.frameLength,
    flags: h.flags,
    termOffset,
    sessionId: v.getInt32(offset + DataField.SESSION_ID, true),
    streamId: v.getInt32(offset + DataField.STREAM_ID, true),
    termId: v.getInt32(offset + DataField.TERM_ID, true),
    reservedValue: v.getBigInt64(offset + DataField.RESERVED_VALUE, true),
    payload,
  };
}

/**
 * Writes `frame` at `offset`: the header and, for DATA, the payload. Returns the bytes written:
 * 32 + payload for DATA, 32 for a heartbeat or PAD. Alignment padding is the caller's.
 */
export function encodeData(frame: DataFrame, buf: Bytes, offset: number): number {
  const heartbeatFrame = isHeartbeat(frame);
  if (frame.type === FrameType.DATA && !heartbeatFrame && frame.frameLength !== DATA_HEADER_LENGTH + frame.payload.length) {
    throw new RangeError(`data frame: frameLength ${frame.frameLength} is not 32 + ${frame.payload.length} payload bytes`);
  }
  if ((heartbeatFrame || frame.type === FrameType.PAD) && frame.payload.length !== 0) {
    throw new RangeError('data frame: a heartbeat or PAD frame carries no payload');
  }
  if (frame.type === FrameType.PAD && frame.frameLength < DATA_HEADER_LENGTH) {
    throw new RangeError(`pad frame: frameLength ${frame.frameLength} < 32`);
  }
  const size = DATA_HEADER_LENGTH + frame.payload.length;
  const v = writableView(buf, offset, size, 'data frame');
  encodeHeader(frame, v, offset);
  v.setInt32(offset + DataField.TERM_OFFSET, int32('termOffset', frame.termOffset), true);
  v.setInt32(offset + DataField.SESSION_ID, int32('sessionId', frame.sessionId), true);
  v.setInt32(offset + DataField.STREAM_ID, int32('streamId', frame.streamId), true);
  v.setInt32(offset + DataField.TERM_ID, int32('termId', frame.termId), true);
  v.setBigInt64(offset + DataField.RESERVED_VALUE, int64('reservedValue', frame.reservedValue), true);
  bytesOf(v).set(frame.payload, offset + DATA_HEADER_LENGTH);
  return size;
}
