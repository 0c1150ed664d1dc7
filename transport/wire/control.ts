/**
 * Control frames: NAK, status message (SM), ERR, SETUP, RTT measurement (RTTM) and response setup
 * (RSP_SETUP). Each has a field-offset table, a representation, and a decode/encode pair.
 *
 * Decoders check the common header (version 0, the expected type, fixed length ≤ frame_length ≤
 * bytes present) plus the few field rules the protocol states; what a field *means* for an image or
 * a publication is decided above this layer.
 */
import {
  type Bytes,
  ErrorFlags,
  FrameType,
  WireError,
  bytesOf,
  encodeHeader,
  expectFrame,
  int32,
  int64,
  writableView,
} from './header.js';

/** Fixed lengths of the control frames. */
export const ControlLength = {
  NAK: 28,
  SM: 36,
  /** An SM carrying the optional group tag. */
  SM_WITH_GROUP_TAG: 44,
  ERR: 40,
  SETUP: 40,
  RTTM: 40,
  RSP_SETUP: 20,
} as const;

/** Longest error text an ERR frame carries, in bytes. */
export const MAX_ERROR_TEXT_LENGTH = 1023;

/** Byte offsets of each control frame's fields. */
export const NakField = { SESSION_ID: 8, STREAM_ID: 12, TERM_ID: 16, TERM_OFFSET: 20, LENGTH: 24 } as const;
/** Byte offsets of the status message's fields. */
export const SmField = {
  SESSION_ID: 8,
  STREAM_ID: 12,
  CONSUMPTION_TERM_ID: 16,
  CONSUMPTION_TERM_OFFSET: 20,
  RECEIVER_WINDOW: 24,
  RECEIVER_ID: 28,
  GROUP_TAG: 36,
} as const;
/** Byte offsets of the ERR frame's fields. */
export const ErrField = {
  SESSION_ID: 8,
  STREAM_ID: 12,
  RECEIVER_ID: 16,
  GROUP_TAG: 24,
  ERROR_CODE: 32,
  ERROR_LENGTH: 36,
  TEXT: 40,
} as const;
/** Byte offsets of the SETUP frame's fields. */
export const SetupField = {
  TERM_OFFSET: 8,
  SESSION_ID: 12,
  STREAM_ID: 16,
  INITIAL_TERM_ID: 20,
  ACTIVE_TERM_ID: 24,
  TERM_LENGTH: 28,
  MTU: 32,
  TTL: 36,
} as const;
/** Byte offsets of the RTTM frame's fields. */
export const RttmField = { SESSION_ID: 8, STREAM_ID: 12, ECHO_TIMESTAMP: 16, RECEPTION_DELTA: 24, RECEIVER_ID: 32 } as const;
/** Byte offsets of the RSP_SETUP frame's fields. */
export const RspSetupField = { SESSION_ID: 8, STREAM_ID: 12, RESPONSE_SESSION_ID: 16 } as const;

/** A NAK: the receiver asks for `length` bytes from `termOffset` of `termId` again. */
export interface NakFrame {
  type: typeof FrameType.NAK;
  sessionId: number;
  streamId: number;
  termId: number;
  termOffset: number;
  length: number;
}

/** A status message: the receiver's window grant (consumption position + receiverWindow). */
export interface StatusMessage {
  type: typeof FrameType.SM;
  /** StatusFlags: SEND_SETUP, EOS. */
  flags: number;
  sessionId: number;
  streamId: number;
  consumptionTermId: number;
  consumptionTermOffset: number;
  receiverWindow: number;
  receiverId: bigint;
  /** Present when the SM is 44 bytes long (tagged flow control). */
  groupTag?: bigint;
}

/** An ERR frame: the receiver rejects an image. */
export interface ErrorFrame {
  type: typeof FrameType.ERR;
  /** ErrorFlags: HAS_GROUP_TAG, which the encoder sets from `groupTag`. */
  flags: number;
  sessionId: number;
  streamId: number;
  receiverId: bigint;
  /** Present when HAS_GROUP_TAG is set. */
  groupTag?: bigint;
  errorCode: number;
  /** The error text, at most 1023 bytes of UTF-8. */
  message: string;
}

/** A SETUP frame: the sender announces a stream's geometry. */
export interface SetupFrame {
  type: typeof FrameType.SETUP;
  /** SetupFlags: SEND_RESPONSE, GROUP. */
  flags: number;
  termOffset: number;
  sessionId: number;
  streamId: number;
  initialTermId: number;
  activeTermId: number;
  termLength: number;
  mtu: number;
  ttl: number;
}

/** An RTT measurement: sent with REPLY by the receiver, echoed by the sender. Times in ns. */
export interface RttMeasurement {
  type: typeof FrameType.RTTM;
  /** RttFlags: REPLY. */
  flags: number;
  sessionId: number;
  streamId: number;
  echoTimestamp: bigint;
  receptionDelta: bigint;
  receiverId: bigint;
}

/** A response setup: the answer to a SETUP that asked for a response. */
export interface ResponseSetup {
  type: typeof FrameType.RSP_SETUP;
  sessionId: number;
  streamId: number;
  responseSessionId: number;
}

/** Decodes the NAK at `offset` (`length` bytes present). */
export function decodeNak(buf: Bytes, offset: number, length: number): NakFrame {
  const { view: v } = expectFrame(buf, offset, length, FrameType.NAK, ControlLength.NAK, 'NAK');
  const termOffset = v.getInt32(offset + NakField.TERM_OFFSET, true);
  const nakLength = v.getInt32(offset + NakField.LENGTH, true);
  if (termOffset < 0 || nakLength < 0) {
    throw new WireError('BAD_FIELD', offset, `NAK: negative term_offset ${termOffset} or length ${nakLength}`);
  }
  return {
    type: FrameType.NAK,
    sessionId: v.getInt32(offset + NakField.SESSION_ID, true),
    streamId: v.getInt32(offset + NakField.STREAM_ID, true),
    termId: v.getInt32(offset + NakField.TERM_ID, true),
    termOffset,
    length: nakLength,
  };
}

/** Writes `nak` at `offset`; returns 28. */
export function encodeNak(nak: NakFrame, buf: Bytes, offset: number): number {
  const v = writableView(buf, offset, ControlLength.NAK, 'NAK');
  encodeHeader({ frameLength: ControlLength.NAK, flags: 0, type: FrameType.NAK }, v, offset);
  v.setInt32(offset + NakField.SESSION_ID, int32('sessionId', nak.sessionId), true);
  v.setInt32(offset + NakField.STREAM_ID, int32('streamId', nak.streamId), true);
  v.setInt32(offset + NakField.TERM_ID, int32('termId', nak.termId), true);
  v.setInt32(offset + NakField.TERM_OFFSET, int32('termOffset', nak.termOffset), true);
  v.setInt32(offset + NakField.LENGTH, int32('length', nak.length), true);
  return ControlLength.NAK;
}

/** Decodes the status message at `offset` (`length` bytes present): 36 bytes, or 44 with a group tag. */
export function decodeStatusMessage(buf: Bytes, offset: number, length: number): StatusMessage {
  const { view: v, header: h } = expectFrame(buf, offset, length, FrameType.SM, ControlLength.SM, 'SM');
  if (h.frameLength > ControlLength.SM && h.frameLength < ControlLength.SM_WITH_GROUP_TAG) {
    throw new WireError('BAD_LENGTH', offset, `SM: frame_length ${h.frameLength} is neither 36 nor ≥ 44`);
  }
  const sm: StatusMessage = {
    type: FrameType.SM,
    flags: h.flags,
    sessionId: v.getInt32(offset + SmField.SESSION_ID, true),
    streamId: v.getInt32(offset + SmField.STREAM_ID, true),
    consumptionTermId: v.getInt32(offset + SmField.CONSUMPTION_TERM_ID, true),
    consumptionTermOffset: v.getInt32(offset + SmField.CONSUMPTION_TERM_OFFSET, true),
    receiverWindow: v.getInt32(offset + SmField.RECEIVER_WINDOW, true),
    receiverId: v.getBigInt64(offset + SmField.RECEIVER_ID, true),
  };
  if (h.frameLength >= ControlLength.SM_WITH_GROUP_TAG) sm.groupTag = v.getBigInt64(offset + SmField.GROUP_TAG, true);
  if (sm.consumptionTermOffset < 0 || sm.receiverWindow < 0) {
    throw new WireError('BAD_FIELD', offset, 'SM: negative consumption_term_offset or receiver_window');
  }
  return sm;
}

/** Writes `sm` at `offset`; returns 36, or 44 when it carries a group tag. */
export function encodeStatusMessage(sm: StatusMessage, buf: Bytes, offset: number): number {
  const size = sm.groupTag === undefined ? ControlLength.SM : ControlLength.SM_WITH_GROUP_TAG;
  const v = writableView(buf, offset, size, 'SM');
  encodeHeader({ frameLength: size, flags: sm.flags, type: FrameType.SM }, v, offset);
  v.setInt32(offset + SmField.SESSION_ID, int32('sessionId', sm.sessionId), true);
  v.setInt32(offset + SmField.STREAM_ID, int32('streamId', sm.streamId), true);
  v.setInt32(offset + SmField.CONSUMPTION_TERM_ID, int32('consumptionTermId', sm.consumptionTermId), true);
  v.setInt32(offset + SmField.CONSUMPTION_TERM_OFFSET, int32('consumptionTermOffset', sm.consumptionTermOffset), true);
  v.setInt32(offset + SmField.RECEIVER_WINDOW, int32('receiverWindow', sm.receiverWindow), true);
  v.setBigInt64(offset + SmField.RECEIVER_ID, int64('receiverId', sm.receiverId), true);
  if (sm.groupTag !== undefined) v.setBigInt64(offset + SmField.GROUP_TAG, int64('groupTag', sm.groupTag), true);
  return size;
}

const utf8Decoder = new TextDecoder('utf-8');
const utf8Encoder = new TextEncoder();

/** Decodes the ERR frame at `offset` (`length` bytes present). Invalid UTF-8 becomes U+FFFD. */
export function decodeError(buf: Bytes, offset: number, length: number): ErrorFrame {
  const { view: v, header: h } = expectFrame(buf, offset, length, FrameType.ERR, ControlLength.ERR, 'ERR');
  const textLength = v.getInt32(offset + ErrField.ERROR_LENGTH, true);
  if (textLength < 0 || textLength > MAX_ERROR_TEXT_LENGTH) {
    throw new WireError('BAD_FIELD', offset, `ERR: error_length ${textLength} is outside 0–${MAX_ERROR_TEXT_LENGTH}`);
  }
  if (ControlLength.ERR + textLength > h.frameLength) {
    throw new WireError('BAD_LENGTH', offset, `ERR: error_length ${textLength} overruns frame_length ${h.frameLength}`);
  }
  const text = bytesOf(v).subarray(offset + ErrField.TEXT, offset + ErrField.TEXT + textLength);
  const err: ErrorFrame = {
    type: FrameType.ERR,
    flags: h.flags,
    sessionId: v.getInt32(offset + ErrField.SESSION_ID, true),
    streamId: v.getInt32(offset + ErrField.STREAM_ID, true),
    receiverId: v.getBigInt64(offset + ErrField.RECEIVER_ID, true),
    errorCode: v.getInt32(offset + ErrField.ERROR_CODE, true),
    message: utf8Decoder.decode(text),
  };
  if (h.flags & ErrorFlags.HAS_GROUP_TAG) err.groupTag = v.getBigInt64(offset + ErrField.GROUP_TAG, true);
  return err;
}

/** Writes `err` at `offset` (HAS_GROUP_TAG follows `groupTag`); returns 40 + the text's UTF-8 length. */
export function encodeError(err: ErrorFrame, buf: Bytes, offset: number): number {
  const text = utf8Encoder.encode(err.message);
  if (text.length > MAX_ERROR_TEXT_LENGTH) {
    throw new RangeError(`ERR: message is ${text.length} bytes of UTF-8, at most ${MAX_ERROR_TEXT_LENGTH}`);
  }
  const size = ControlLength.ERR + text.length;
  const flags = err.groupTag === undefined ? err.flags & ~ErrorFlags.HAS_GROUP_TAG : err.flags | ErrorFlags.HAS_GROUP_TAG;
  const v = writableView(buf, offset, size, 'ERR');
  encodeHeader({ frameLength: size, flags, type: FrameType.ERR }, v, offset);
  v.setInt32(offset + ErrField.SESSION_ID, int32('sessionId', err.sessionId), true);
  v.setInt32(offset + ErrField.STREAM_ID, int32('streamId', err.streamId), true);
  v.setBigInt64(offset + ErrField.RECEIVER_ID, int64('receiverId', err.receiverId), true);
  v.setBigInt64(offset + ErrField.GROUP_TAG, int64('groupTag', err.groupTag ?? 0n), true);
  v.setInt32(offset + ErrField.ERROR_CODE, int32('errorCode', err.errorCode), true);
  v.setInt32(offset + ErrField.ERROR_LENGTH, text.length, true);
  bytesOf(v).set(text, offset + ErrField.TEXT);
  return size;
}

/** Decodes the SETUP frame at `offset` (`length` bytes present). */
export function decodeSetup(buf: Bytes, offset: number, length: number): SetupFrame {
  const { view: v, header: h } = expectFrame(buf, offset, length, FrameType.SETUP, ControlLength.SETUP, 'SETUP');
  const setup: SetupFrame = {
    type: FrameType.SETUP,
    flags: h.flags,
    termOffset: v.getInt32(offset + SetupField.TERM_OFFSET, true),
    sessionId: v.getInt32(offset + SetupField.SESSION_ID, true),
    streamId: v.getInt32(offset + SetupField.STREAM_ID, true),
    initialTermId: v.getInt32(offset + SetupField.INITIAL_TERM_ID, true),
    activeTermId: v.getInt32(offset + SetupField.ACTIVE_TERM_ID, true),
    termLength: v.getInt32(offset + SetupField.TERM_LENGTH, true),
    mtu: v.getInt32(offset + SetupField.MTU, true),
    ttl: v.getInt32(offset + SetupField.TTL, true),
  };
  // term_length is a power of two in 64 KiB – 1 GiB, and frames start at 32-byte-aligned offsets
  // inside it; an image cannot be built from anything else.
  const tl = setup.termLength;
  if (tl < 0x10000 || tl > 0x40000000 || (tl & (tl - 1)) !== 0) {
    throw new WireError('BAD_FIELD', offset, `SETUP: term_length ${tl} is not a power of two in 64 KiB – 1 GiB`);
  }
  if (setup.termOffset < 0 || setup.termOffset >= tl || setup.termOffset % 32 !== 0) {
    throw new WireError('BAD_FIELD', offset, `SETUP: term_offset ${setup.termOffset} is not an aligned offset in the term`);
  }
  if (setup.mtu <= 32) throw new WireError('BAD_FIELD', offset, `SETUP: mtu ${setup.mtu} leaves no room for a payload`);
  return setup;
}

/** Writes `setup` at `offset`; returns 40. */
export function encodeSetup(setup: SetupFrame, buf: Bytes, offset: number): number {
  const v = writableView(buf, offset, ControlLength.SETUP, 'SETUP');
  encodeHeader({ frameLength: ControlLength.SETUP, flags: setup.flags, type: FrameType.SETUP }, v, offset);
  v.setInt32(offset + SetupField.TERM_OFFSET, int32('termOffset', setup.termOffset), true);
  v.setInt32(offset + SetupField.SESSION_ID, int32('sessionId', setup.sessionId), true);
  v.setInt32(offset + SetupField.STREAM_ID, int32('streamId', setup.streamId), true);
  v.setInt32(offset + SetupField.INITIAL_TERM_ID, int32('initialTermId', setup.initialTermId), true);
  v.setInt32(offset + SetupField.ACTIVE_TERM_ID, int32('activeTermId', setup.activeTermId), true);
  v.setInt32(offset + SetupField.TERM_LENGTH, int32('termLength', setup.termLength), true);
  v.setInt32(offset + SetupField.MTU, int32('mtu', setup.mtu), true);
  v.setInt32(offset + SetupField.TTL, int32('ttl', setup.ttl), true);
  return ControlLength.SETUP;
}

/** Decodes the RTT measurement at `offset` (`length` bytes present). */
export function decodeRttMeasurement(buf: Bytes, offset: number, length: number): RttMeasurement {
  const { view: v, header: h } = expectFrame(buf, offset, length, FrameType.RTTM, ControlLength.RTTM, 'RTTM');
  return {
    type: FrameType.RTTM,
    flags: h.flags,
    sessionId: v.getInt32(offset + RttmField.SESSION_ID, true),
    streamId: v.getInt32(offset + RttmField.STREAM_ID, true),
    echoTimestamp: v.getBigInt64(offset + RttmField.ECHO_TIMESTAMP, true),
    receptionDelta: v.getBigInt64(offset + RttmField.RECEPTION_DELTA, true),
    receiverId: v.getBigInt64(offset + RttmField.RECEIVER_ID, true),
  };
}

/** Writes `rttm` at `offset`; returns 40. */
export function encodeRttMeasurement(rttm: RttMeasurement, buf: Bytes, offset: number): number {
  const v = writableView(buf, offset, ControlLength.RTTM, 'RTTM');
  encodeHeader({ frameLength: ControlLength.RTTM, flags: rttm.flags, type: FrameType.RTTM }, v, offset);
  v.setInt32(offset + RttmField.SESSION_ID, int32('sessionId', rttm.sessionId), true);
  v.setInt32(offset + RttmField.STREAM_ID, int32('streamId', rttm.streamId), true);
  v.setBigInt64(offset + RttmField.ECHO_TIMESTAMP, int64('echoTimestamp', rttm.echoTimestamp), true);
  v.setBigInt64(offset + RttmField.RECEPTION_DELTA, int64('receptionDelta', rttm.receptionDelta), true);
  v.setBigInt64(offset + RttmField.RECEIVER_ID, int64('receiverId', rttm.receiverId), true);
  return ControlLength.RTTM;
}

/** Decodes the response setup at `offset` (`length` bytes present). */
export function decodeResponseSetup(buf: Bytes, offset: number, length: number): ResponseSetup {
  const { view: v } = expectFrame(buf, offset, length, FrameType.RSP_SETUP, ControlLength.RSP_SETUP, 'RSP_SETUP');
  return {
    type: FrameType.RSP_SETUP,
    sessionId: v.getInt32(offset + RspSetupField.SESSION_ID, true),
    streamId: v.getInt32(offset + RspSetupField.STREAM_ID, true),
    responseSessionId: v.getInt32(offset + RspSetupField.RESPONSE_SESSION_ID, true),
  };
}

/** Writes `rsp` at `offset`; returns 20. */
export function encodeResponseSetup(rsp: ResponseSetup, buf: Bytes, offset: number): number {
  const v = writableView(buf, offset, ControlLength.RSP_SETUP, 'RSP_SETUP');
  encodeHeader({ frameLength: ControlLength.RSP_SETUP, flags: 0, type: FrameType.RSP_SETUP }, v, offset);
  v.setInt32(offset + RspSetupField.SESSION_ID, int32('sessionId', rsp.sessionId), true);
  v.setInt32(offset + RspSetupField.STREAM_ID, int32('streamId', rsp.streamId), true);
  v.setInt32(offset + RspSetupField.RESPONSE_SESSION_ID, int32('responseSessionId', rsp.responseSessionId), true);
  return ControlLength.RSP_SETUP;
}
