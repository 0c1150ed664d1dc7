/**
 * The Aeron common frame header and what every frame codec in `transport/wire/` shares: frame type
 * and flag constants, the typed decode error, and bounds-checked little-endian field access.
 *
 * Every Aeron frame starts with the same 8 bytes, all fields little-endian:
 * `0 frame_length i32 | 4 version i8 (=0) | 5 flags u8 | 6 type i16`.
 *
 * Contract: decoders take untrusted bytes and either return a representation whose every field was
 * read inside `[offset, offset + length)` or throw a `WireError`; encoders take a representation from
 * ffnet itself and throw `RangeError` when it does not fit the buffer or a field is out of range.
 * This layer owns bytes only; it calls nothing outside `transport/wire/`.
 */

/** Frame type codes (the header's `type` field). 8–10 are encrypted variants ffnet ignores. */
export const FrameType = {
  PAD: 0,
  DATA: 1,
  NAK: 2,
  SM: 3,
  ERR: 4,
  SETUP: 5,
  RTTM: 6,
  RES: 7,
  RSP_SETUP: 11,
  EXT: -1,
} as const;

/** One of the frame type codes in `FrameType`. */
export type FrameTypeCode = (typeof FrameType)[keyof typeof FrameType];

/** Flags of DATA (and PAD) frames. A whole, unfragmented message carries BEGIN | END = 0xC0. */
export const DataFlags = { BEGIN: 0x80, END: 0x40, EOS: 0x20, UNFRAGMENTED: 0xc0 } as const;
/** Flags of status messages. */
export const StatusFlags = { SEND_SETUP: 0x80, EOS: 0x40 } as const;
/** Flags of SETUP frames. */
export const SetupFlags = { SEND_RESPONSE: 0x80, GROUP: 0x40 } as const;
/** Flags of RTT measurement frames. */
export const RttFlags = { REPLY: 0x80 } as const;
/** Flags of ERR frames. */
export const ErrorFlags = { HAS_GROUP_TAG: 0x08 } as const;

/** The only protocol version on the wire. */
export const CURRENT_VERSION = 0;
/** Length of the common header. */
export const HEADER_LENGTH = 8;
/** Frames start at term offsets (and datagram offsets) that are multiples of this. */
export const FRAME_ALIGNMENT = 32;

/** Byte offsets of the common header's fields. */
export const HeaderField = { FRAME_LENGTH: 0, VERSION: 4, FLAGS: 5, TYPE: 6 } as const;

/** Bytes a codec reads or writes: a Uint8Array (a Buffer, say) or a DataView. */
export type Bytes = Uint8Array | DataView;

/** Why a decoder rejected its input. */
export type WireErrorCode =
  /** Fewer bytes than the frame's fixed header, or than its frame_length claims. */
  | 'TRUNCATED'
  /** version is not 0. */
  | 'BAD_VERSION'
  /** type is not the one the decoder handles. */
  | 'BAD_TYPE'
  /** frame_length is impossible for the type. */
  | 'BAD_LENGTH'
  /** A field holds a value the protocol rules out (a misaligned term offset, say). */
  | 'BAD_FIELD';

/** A malformed frame: `code` says why, `offset` where in the buffer the frame starts. */
export class WireError extends Error {
  override readonly name = 'WireError';
  constructor(
    readonly code: WireErrorCode,
    readonly offset: number,
    message: string,
  ) {
    super(message);
  }
}

/** The common header as decoded. */
export interface FrameHeader {
  frameLength: number;
  version: number;
  flags: number;
  type: number;
}

/** A DataView over exactly the bytes of `buf`. */
export function viewOf(buf: Bytes): DataView {
  return buf instanceof DataView ? buf : new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
}

/** The bytes of `buf` as a Uint8Array (no copy). */
export function bytesOf(buf: Bytes): Uint8Array {
  return buf instanceof Uint8Array ? buf : new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
}

/**
 * The little-endian 32-bit signed integer at `offset` of `bytes`, which the caller guarantees readable: for
 * the receive path's per-datagram reads, where a DataView would be an allocation per datagram.
 */
export function readInt32(bytes: Uint8Array, offset: number): number {
  return bytes[offset]! | (bytes[offset + 1]! << 8) | (bytes[offset + 2]! << 16) | (bytes[offset + 3]! << 24);
}

/** The little-endian 16-bit signed integer at `offset` of `bytes`; see {@link readInt32}. */
export function readInt16(bytes: Uint8Array, offset: number): number {
  return ((bytes[offset]! | (bytes[offset + 1]! << 8)) << 16) >> 16;
}

/** The type code of the frame at `offset`; the caller guarantees 8 readable bytes. */
export function frameType(buf: Bytes, offset: number): number {
  return viewOf(buf).getInt16(offset + HeaderField.TYPE, true);
}

/** The frame_length of the frame at `offset`; the caller guarantees 8 readable bytes. */
export function frameLength(buf: Bytes, offset: number): number {
  return viewOf(buf).getInt32(offset + HeaderField.FRAME_LENGTH, true);
}

/**
 * Decodes the common header of the frame at `offset`, `length` bytes of which are available.
 * Checks only the header itself: 8 bytes present and version 0.
 */
export function decodeHeader(buf: Bytes, offset: number, length: number): FrameHeader {
  const v = checkedView(buf, offset, length, HEADER_LENGTH, 'frame header');
  const version = v.getInt8(offset + HeaderField.VERSION);
  if (version !== CURRENT_VERSION) throw new WireError('BAD_VERSION', offset, `frame version ${version}, expected 0`);
  return {
    frameLength: v.getInt32(offset + HeaderField.FRAME_LENGTH, true),
    version,
    flags: v.getUint8(offset + HeaderField.FLAGS),
    type: v.getInt16(offset + HeaderField.TYPE, true),
  };
}

/** Writes the common header; returns HEADER_LENGTH. */
export function encodeHeader(h: Omit<FrameHeader, 'version'> & { version?: number }, buf: Bytes, offset: number): number {
  const v = writableView(buf, offset, HEADER_LENGTH, 'frame header');
  v.setInt32(offset + HeaderField.FRAME_LENGTH, int32('frameLength', h.frameLength), true);
  v.setInt8(offset + HeaderField.VERSION, h.version ?? CURRENT_VERSION);
  v.setUint8(offset + HeaderField.FLAGS, uint8('flags', h.flags));
  v.setInt16(offset + HeaderField.TYPE, h.type, true);
  return HEADER_LENGTH;
}

/**
 * The view under a frame decoder: checks that `[offset, offset + length)` lies inside `buf` and
 * holds at least `minimum` bytes, so every later fixed-offset read is in bounds.
 */
export function checkedView(buf: Bytes, offset: number, length: number, minimum: number, what: string): DataView {
  const v = viewOf(buf);
  if (!Number.isInteger(offset) || !Number.isInteger(length) || offset < 0 || length < 0 || offset + length > v.byteLength) {
    throw new RangeError(`${what}: range [${offset}, ${offset} + ${length}) is outside a ${v.byteLength}-byte buffer`);
  }
  if (length < minimum) throw new WireError('TRUNCATED', offset, `${what}: ${length} bytes, needs ${minimum}`);
  return v;
}

/**
 * Decodes and checks the header of a frame of one `type` whose fixed part is `fixedLength` bytes:
 * the bytes are present, version is 0, the type matches, and `fixedLength ≤ frame_length ≤ length`.
 */
export function expectFrame(
  buf: Bytes,
  offset: number,
  length: number,
  type: number,
  fixedLength: number,
  what: string,
): { view: DataView; header: FrameHeader } {
  const view = checkedView(buf, offset, length, fixedLength, what);
  const header = decodeHeader(view, offset, length);
  if (header.type !== type) throw new WireError('BAD_TYPE', offset, `${what}: type ${header.type}, expected ${type}`);
  if (header.frameLength < fixedLength) {
    throw new WireError('BAD_LENGTH', offset, `${what}: frame_length ${header.frameLength} < ${fixedLength}`);
  }
  if (header.frameLength > length) {
    throw new WireError('TRUNCATED', offset, `${what}: frame_length ${header.frameLength} > ${length} bytes present`);
  }
  return { view, header };
}

/** The view under a frame encoder: `size` bytes from `offset` must fit in `buf`. */
export function writableView(buf: Bytes, offset: number, size: number, what: string): DataView {
  const v = viewOf(buf);
  if (!Number.isInteger(offset) || offset < 0 || offset + size > v.byteLength) {
    throw new RangeError(`${what}: ${size} bytes at offset ${offset} do not fit a ${v.byteLength}-byte buffer`);
  }
  return v;
}

/** `value`, checked to be an i32 (encoders write i32 fields with it). */
export function int32(name: string, value: number): number {
  if (!Number.isInteger(value) || value < -0x80000000 || value > 0x7fffffff) {
    throw new RangeError(`${name} ${value} is not a 32-bit signed integer`);
  }
  return value;
}

/** `value`, checked to be an i64 (encoders write i64 fields with it). */
export function int64(name: string, value: bigint): bigint {
  if (value < -(1n << 63n) || value >= 1n << 63n) throw new RangeError(`${name} ${value} is not a 64-bit signed integer`);
  return value;
}

function uint8(name: string, value: number): number {
  if (!Number.isInteger(value) || value < 0 || value > 0xff) throw new RangeError(`${name} ${value} is not a byte`);
  return value;
}
