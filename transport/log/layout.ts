/**
 * What both sides of ffnet's term log share beyond the wire layer (transport/wire/, which owns the header
 * layout, flags and position arithmetic): the three-term partitioning, the log's MTU rule, the largest
 * position a log allows, and the header field table as the log reads it.
 *
 * Positions are JS numbers, exact up to 2^53 (wire/position.ts). Term counts are multiplied, never
 * shifted, because JS shifts truncate to 32 bits.
 */
import { MAX_MTU } from '../wire/channel.js';
import { DATA_HEADER_LENGTH, DataField } from '../wire/data.js';
import { FRAME_ALIGNMENT, HeaderField } from '../wire/header.js';
import { MAX_POSITION, align, positionBitsToShift } from '../wire/position.js';

export { DEFAULT_MTU } from '../wire/channel.js';
export { DATA_HEADER_LENGTH as HEADER_LENGTH } from '../wire/data.js';
export { DataFlags as Flags, FrameType } from '../wire/header.js';
export { maxMessageLength } from '../wire/position.js';

/** Terms per log. */
export const PARTITION_COUNT = 3;

/** Byte offsets of every DATA/PAD header field (all little-endian). */
export const Field = { ...HeaderField, ...DataField } as const;

/** Rounds a frame length or term offset up to the 32-byte frame alignment. */
export function alignFrame(length: number): number {
  return align(length, FRAME_ALIGNMENT);
}

/** Throws a RangeError unless `termLength` is a power of two in [64 KiB, 1 GiB]. */
export function checkTermLength(termLength: number): void {
  positionBitsToShift(termLength);
}

/**
 * Throws a RangeError unless `mtu` can carry a header and is frame-aligned: a full fragment is exactly one MTU,
 * so back-to-back fragments stay 32-byte aligned.
 */
export function checkMtu(mtu: number): void {
  if (!Number.isInteger(mtu) || mtu < 2 * DATA_HEADER_LENGTH || mtu > MAX_MTU || mtu % FRAME_ALIGNMENT !== 0) {
    throw new RangeError(`mtu must be a multiple of ${FRAME_ALIGNMENT} in [${2 * DATA_HEADER_LENGTH}, ${MAX_MTU}]: ${mtu}`);
  }
}

/**
 * The end of the last term a log can append to: 2^31 terms (term counts are i32), capped at the largest
 * exact position.
 */
export function maxPossiblePosition(termLength: number): number {
  return Math.min(termLength * 2 ** 31, MAX_POSITION);
}

/**
 * The stream position where a log starts: `termOffset` in term `activeTermId`. Throws a RangeError when the
 * active term precedes the initial one or the offset is not a 32-byte-aligned offset inside the term.
 */
export function startPosition(termLength: number, initialTermId: number, activeTermId: number, termOffset: number): number {
  const count = termCount(activeTermId, initialTermId);
  if (count < 0) throw new RangeError(`active term id ${activeTermId} precedes initial term id ${initialTermId}`);
  if (!Number.isInteger(termOffset) || termOffset < 0 || termOffset >= termLength || termOffset % 32 !== 0) {
    throw new RangeError(`term offset must be 32-byte aligned and inside the term: ${termOffset}`);
  }
  return count * termLength + termOffset;
}

/** Terms from `initialTermId` to `termId`, as a wrapping i32 difference. */
export function termCount(termId: number, initialTermId: number): number {
  return (termId - initialTermId) | 0;
}

/** Which of the three term buffers holds the term `count` terms after the initial one. */
export function partitionIndex(count: number): number {
  return count % PARTITION_COUNT;
}

/**
 * Int32Array views over term buffers, indexed like the buffers: the header's 32-bit words at frame offset / 4
 * (frames are 32-byte aligned). Words are in host order, so they are the wire's little-endian order only on
 * a little-endian host — which every DPDK target ffnet builds for is; the check below makes any other host
 * fail loudly rather than write wrong bytes.
 */
export function termWords(terms: readonly Uint8Array[]): Int32Array[] {
  if (new Uint8Array(new Uint32Array([1]).buffer)[0] !== 1) throw new Error('ffnet/transport needs a little-endian host');
  return terms.map((t) => new Int32Array(t.buffer, t.byteOffset, t.byteLength >> 2));
}

/** Header word 1 (version, flags, type) as an Int32Array element holds it. */
export function typeWord(flags: number, type: number): number {
  return (flags << 8) | (type << 16);
}

/** DataViews over term buffers, indexed like the buffers. */
export function termViews(terms: readonly Uint8Array[]): DataView[] {
  return terms.map((t) => new DataView(t.buffer, t.byteOffset, t.byteLength));
}
