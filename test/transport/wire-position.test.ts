/**
 * Stream position arithmetic of transport/wire: term geometry validation, positions across term-id
 * wrap-around (i32 subtraction), the inverse functions, the 2^53 − 1 bound, alignment and the
 * message/payload limits.
 */
import { describe, expect, it } from 'vitest';
import {
  MAX_POSITION,
  TERM_DEFAULT_LENGTH,
  align,
  computePosition,
  maxMessageLength,
  maxPayload,
  positionBitsToShift,
  termIdFromPosition,
  termOffsetFromPosition,
} from '../../transport/wire/position.js';

const KiB = 1024;
const MiB = 1024 * KiB;

describe('positionBitsToShift', () => {
  it('is log2 of a power-of-two term length in 64 KiB – 1 GiB', () => {
    expect(positionBitsToShift(64 * KiB)).toBe(16);
    expect(positionBitsToShift(TERM_DEFAULT_LENGTH)).toBe(24);
    expect(positionBitsToShift(1024 * MiB)).toBe(30);
  });

  it('refuses other lengths', () => {
    for (const bad of [32 * KiB, 2048 * MiB, 64 * KiB + 32, 3 * MiB, 0, -65536, 65536.5, Number.NaN]) {
      expect(() => positionBitsToShift(bad), String(bad)).toThrow(RangeError);
    }
  });
});

describe('computePosition', () => {
  const shift = positionBitsToShift(64 * KiB);

  it('counts whole terms from the initial term plus the offset', () => {
    expect(computePosition(100, 0, shift, 100)).toBe(0);
    expect(computePosition(100, 4096, shift, 100)).toBe(4096);
    expect(computePosition(103, 32, shift, 100)).toBe(3 * 65536 + 32);
  });

  it('keeps counting when the term id wraps past 0x7fffffff to negative', () => {
    const initial = 0x7fffffff - 1;
    expect(computePosition(0x7fffffff, 0, shift, initial)).toBe(65536);
    expect(computePosition(-0x80000000, 0, shift, initial)).toBe(2 * 65536);
    expect(computePosition(-0x80000000 + 5, 1024, shift, initial)).toBe(7 * 65536 + 1024);
    // The last term count an i32 holds: 2^31 − 1 terms after 0x7ffffffe is term id −3.
    expect(computePosition(-3, 0, shift, initial)).toBe(0x7fffffff * 65536);
  });

  it('is negative for a term id behind the initial one', () => {
    expect(computePosition(9, 65504, shift, 10)).toBe(-32);
  });

  it('reaches exactly 2^53 − 1 and throws beyond it', () => {
    // 4 MiB terms: the last byte of the 2^31 − 1st term after the initial one.
    expect(computePosition(0x7fffffff, 4 * MiB - 1, 22, 0)).toBe(MAX_POSITION);
    // 16 MiB terms reach it after 2^29 terms.
    expect(computePosition(2 ** 29 - 1, 16 * MiB - 1, 24, 0)).toBe(MAX_POSITION);
    expect(() => computePosition(2 ** 29, 0, 24, 0)).toThrow(RangeError);
    expect(() => computePosition(0x7fffffff, 0, 30, 0)).toThrow(RangeError);
  });
});

describe('termIdFromPosition and termOffsetFromPosition', () => {
  it('invert computePosition, across the wrap', () => {
    const initial = 0x7fffffff - 1;
    for (const shift of [16, 24, 30]) {
      for (const [termId, termOffset] of [
        [initial, 0],
        [0x7fffffff, 32],
        [-0x80000000, 96],
        [-0x80000000 + 1000, 2 ** shift - 32],
      ] as const) {
        const position = computePosition(termId, termOffset, shift, initial);
        expect(termIdFromPosition(position, shift, initial)).toBe(termId);
        expect(termOffsetFromPosition(position, shift)).toBe(termOffset);
      }
    }
  });

  it('handle the maximum position', () => {
    expect(termIdFromPosition(MAX_POSITION, 22, 0)).toBe(0x7fffffff);
    expect(termOffsetFromPosition(MAX_POSITION, 22)).toBe(4 * MiB - 1);
    expect(termIdFromPosition(MAX_POSITION, 24, 7)).toBe(2 ** 29 - 1 + 7);
  });

  it('map a negative position into the previous term', () => {
    expect(termIdFromPosition(-32, 16, 10)).toBe(9);
    expect(termOffsetFromPosition(-32, 16)).toBe(65504);
  });
});

describe('align, maxMessageLength, maxPayload', () => {
  it('align rounds up to a power of two', () => {
    expect(align(0, 32)).toBe(0);
    expect(align(1, 32)).toBe(32);
    expect(align(37, 32)).toBe(64);
    expect(align(64, 32)).toBe(64);
    expect(align(2 ** 40 + 1, 32)).toBe(2 ** 40 + 32);
    expect(() => align(10, 24)).toThrow(RangeError);
    expect(() => align(10, 0)).toThrow(RangeError);
  });

  it('maxMessageLength is min(term length / 8, 16 MiB)', () => {
    expect(maxMessageLength(64 * KiB)).toBe(8 * KiB);
    expect(maxMessageLength(16 * MiB)).toBe(2 * MiB);
    expect(maxMessageLength(128 * MiB)).toBe(16 * MiB);
    expect(maxMessageLength(1024 * MiB)).toBe(16 * MiB);
    expect(() => maxMessageLength(100_000)).toThrow(RangeError);
  });

  it('maxPayload is the MTU less the 32-byte data header', () => {
    expect(maxPayload(1408)).toBe(1376);
    expect(maxPayload(65504)).toBe(65472);
    expect(() => maxPayload(32)).toThrow(RangeError);
  });
});
