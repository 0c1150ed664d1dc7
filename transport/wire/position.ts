/**
 * Stream positions and term geometry.
 *
 * A stream is a log of terms of `term_length` bytes (a power of two, 64 KiB – 1 GiB). A byte's
 * position is `((term_id − initial_term_id) as a wrapping i32) << log2(term_length) + term_offset`:
 * term ids wrap around i32, positions do not.
 *
 * Positions are JS numbers. They are exact up to `MAX_POSITION` = 2^53 − 1, which every position of
 * a stream with term_length ≤ 4 MiB stays under (2^31 terms × 2^22 bytes); with longer terms a stream
 * reaches it after 2^53 bytes (8 PiB), and `computePosition` throws RangeError rather than round.
 * Positions before the initial term (a term id "behind" initial_term_id) are negative.
 */

/** Smallest term length. */
export const TERM_MIN_LENGTH = 64 * 1024;
/** Largest term length. */
export const TERM_MAX_LENGTH = 1024 * 1024 * 1024;
/** Term length when a channel does not set one. */
export const TERM_DEFAULT_LENGTH = 16 * 1024 * 1024;
/** Largest position computed exactly with JS numbers. */
export const MAX_POSITION = Number.MAX_SAFE_INTEGER;
/** Per-frame header: the difference between the MTU and the largest payload. */
const DATA_HEADER_LENGTH = 32;
/** The cap on a message's length whatever the term length. */
const MAX_MESSAGE_CAP = 16 * 1024 * 1024;

/** log2(termLength); throws RangeError unless termLength is a power of two in 64 KiB – 1 GiB. */
export function positionBitsToShift(termLength: number): number {
  if (!Number.isInteger(termLength) || termLength < TERM_MIN_LENGTH || termLength > TERM_MAX_LENGTH || (termLength & (termLength - 1)) !== 0) {
    throw new RangeError(`term length ${termLength} is not a power of two in ${TERM_MIN_LENGTH}–${TERM_MAX_LENGTH}`);
  }
  return 31 - Math.clz32(termLength);
}

/**
 * The position of `termOffset` in term `termId` of a stream that began at `initialTermId`.
 * The term count is `termId − initialTermId` with i32 wrap-around, so a term id that has wrapped
 * past 0x7fffffff to negative values still counts forward. Throws RangeError beyond MAX_POSITION.
 */
export function computePosition(termId: number, termOffset: number, positionBitsToShift: number, initialTermId: number): number {
  const termCount = (termId - initialTermId) | 0;
  const position = termCount * 2 ** positionBitsToShift + termOffset;
  if (position > MAX_POSITION) {
    throw new RangeError(`position of term ${termId} offset ${termOffset} exceeds 2^53 − 1`);
  }
  return position;
}

/** The term id holding `position` (wrapping past i32 as term ids do). */
export function termIdFromPosition(position: number, positionBitsToShift: number, initialTermId: number): number {
  return (Math.floor(position / 2 ** positionBitsToShift) + initialTermId) | 0;
}

/** The offset of `position` within its term (non-negative, also for negative positions). */
export function termOffsetFromPosition(position: number, positionBitsToShift: number): number {
  const termLength = 2 ** positionBitsToShift;
  return ((position % termLength) + termLength) % termLength;
}

/** `value` rounded up to a multiple of `alignment` (a power of two). */
export function align(value: number, alignment: number): number {
  if (!Number.isInteger(alignment) || alignment <= 0 || (alignment & (alignment - 1)) !== 0) {
    throw new RangeError(`alignment ${alignment} is not a power of two`);
  }
  return Math.ceil(value / alignment) * alignment;
}

/** The longest message a stream with `termLength` carries: min(termLength / 8, 16 MiB). */
export function maxMessageLength(termLength: number): number {
  positionBitsToShift(termLength);
  return Math.min(termLength / 8, MAX_MESSAGE_CAP);
}

/** The largest payload one frame carries at `mtu`: mtu − 32 (the data header). */
export function maxPayload(mtu: number): number {
  if (!Number.isInteger(mtu) || mtu <= DATA_HEADER_LENGTH) throw new RangeError(`mtu ${mtu} leaves no room for a payload`);
  return mtu - DATA_HEADER_LENGTH;
}
