/**
 * The publication's term log: framing and fragmentation, PAD and term rotation, position arithmetic across
 * rotations and term-id wrap, zero-copy claims, and the sender's datagram batching.
 */
import { describe, expect, it } from 'vitest';
import { AppendStatus, type BufferClaim, TermAppender } from '../../transport/log/term-appender.js';
import { computePosition, positionBitsToShift } from '../../transport/wire/position.js';

const TERM = 64 * 1024;
const SESSION = 0x1234_5678;
const STREAM = 1001;
const SHIFT = positionBitsToShift(TERM);

function appender(initialTermId = 7, extra: Partial<ConstructorParameters<typeof TermAppender>[0]> = {}): TermAppender {
  return new TermAppender({ termLength: TERM, initialTermId, sessionId: SESSION, streamId: STREAM, ...extra });
}

interface Frame { frameLength: number; version: number; flags: number; type: number; termOffset: number; sessionId: number; streamId: number; termId: number; payload: Uint8Array }

function frameAt(log: TermAppender, position: number): Frame {
  const count = Math.floor(position / TERM);
  const term = log.terms[count % 3]!;
  const off = position - count * TERM;
  const v = new DataView(term.buffer, term.byteOffset + off, 32);
  const frameLength = v.getInt32(0, true);
  return {
    frameLength, version: v.getInt8(4), flags: v.getUint8(5), type: v.getInt16(6, true), termOffset: v.getInt32(8, true),
    sessionId: v.getInt32(12, true), streamId: v.getInt32(16, true), termId: v.getInt32(20, true),
    payload: term.subarray(off + 32, off + Math.max(32, frameLength)),
  };
}

function message(length: number, seed = 1): Uint8Array {
  return Uint8Array.from({ length }, (_, i) => (i * 7 + seed) & 0xff);
}

const aligned = (n: number): number => Math.ceil(n / 32) * 32;

describe('TermAppender: framing', () => {
  it('copies small payloads exactly from any source offset, aligned or not, and from one buffer after another', () => {
    const log = appender();
    const source = message(200, 3);
    const other = message(100, 9);
    const cases: [Uint8Array, number, number][] = [
      [source, 0, 32], [source, 4, 40], [source, 1, 33], [source, 6, 7], [other, 8, 64], [source.subarray(3), 1, 20],
      [other.subarray(2), 2, 61], [source, 196, 4], [new Uint8Array(source.buffer, 16, 64), 0, 64],
    ];
    let position = 0;
    for (const [src, offset, length] of cases) {
      expect(log.append(src, offset, length)).toBe(position + aligned(32 + length));
      expect(frameAt(log, position).payload.subarray(0, length)).toEqual(src.subarray(offset, offset + length));
      position += aligned(32 + length);
    }
  });

  it('writes a small message as one whole frame with a complete little-endian header', () => {
    const log = appender();
    expect(log.append(message(10))).toBe(64);
    const f = frameAt(log, 0);
    expect(f).toMatchObject({ frameLength: 42, version: 0, flags: 0xc0, type: 1, termOffset: 0, sessionId: SESSION, streamId: STREAM, termId: 7 });
    expect(f.payload).toEqual(message(10));
    expect(log.append(message(0))).toBe(96);
    expect(frameAt(log, 64)).toMatchObject({ frameLength: 32, flags: 0xc0, termOffset: 64 });
  });

  it('appends a sub-range of a buffer', () => {
    const log = appender();
    const src = message(100);
    log.append(src, 20, 30);
    expect(frameAt(log, 0).payload).toEqual(src.subarray(20, 50));
    expect(() => log.append(src, 90, 20)).toThrow(RangeError);
  });

  it('keeps exactly maxPayload in one frame and splits maxPayload + 1 into BEGIN and END', () => {
    const log = appender();
    expect(log.maxPayloadLength).toBe(1376);
    expect(log.append(message(1376))).toBe(1408);
    expect(frameAt(log, 0)).toMatchObject({ frameLength: 1408, flags: 0xc0 });

    const end = log.append(message(1377, 3));
    expect(end).toBe(1408 + 1408 + 64);
    const first = frameAt(log, 1408);
    const second = frameAt(log, 2816);
    expect(first).toMatchObject({ frameLength: 1408, flags: 0x80, termOffset: 1408 });
    expect(second).toMatchObject({ frameLength: 33, flags: 0x40, termOffset: 2816 });
    expect(Uint8Array.from([...first.payload, ...second.payload])).toEqual(message(1377, 3));
  });

  it('fragments the largest message (term_length / 8) and rejects one byte more', () => {
    const log = appender();
    expect(log.maxMessageLength).toBe(8192);
    const msg = message(8192, 9);
    const end = log.append(msg);
    const fragments: Frame[] = [];
    for (let p = 0; p < end; p += aligned(frameAt(log, p).frameLength)) fragments.push(frameAt(log, p));
    expect(fragments.map((f) => f.flags)).toEqual([0x80, 0, 0, 0, 0, 0x40]);
    expect(fragments.map((f) => f.frameLength)).toEqual([1408, 1408, 1408, 1408, 1408, 32 + 8192 - 5 * 1376]);
    expect(Uint8Array.from(fragments.flatMap((f) => [...f.payload]))).toEqual(msg);
    expect(() => log.append(message(8193))).toThrow(RangeError);
  });
});

describe('TermAppender: PAD, rotation and positions', () => {
  it('pads the rest of the term, rotates and returns ADMIN_ACTION, then the retry succeeds', () => {
    const log = appender(100);
    const msg = message(1000);
    let position = 0;
    for (;;) {
      const r = log.append(msg);
      if (r < 0) {
        expect(r).toBe(AppendStatus.ADMIN_ACTION);
        break;
      }
      position = r;
    }
    expect(position).toBe(62 * 1056);
    const pad = frameAt(log, position);
    expect(pad).toMatchObject({ type: 0, frameLength: TERM - position, termOffset: position, termId: 100 });
    expect(log.activeTermId).toBe(101);
    expect(log.termOffset).toBe(0);
    expect(log.append(msg)).toBe(TERM + 1056);
    expect(frameAt(log, TERM)).toMatchObject({ termId: 101, termOffset: 0, flags: 0xc0 });
  });

  it('rotates without a PAD when a term is exactly full', () => {
    const log = appender(0);
    for (let i = 1; i <= 46; i++) expect(log.append(message(1376))).toBe(i * 1408);
    // 46 full frames leave 768 bytes: a 736-byte message fills the term exactly.
    expect(log.append(message(736))).toBe(TERM);
    expect(log.append(message(1))).toBe(AppendStatus.ADMIN_ACTION);
    expect(log.append(message(1))).toBe(TERM + 64);
  });

  it('keeps position = term count × term_length + offset as term ids wrap past 0x7fffffff', () => {
    const initial = 0x7ffffffe;
    const log = appender(initial);
    const seen = new Set<number>();
    let rotations = 0;
    for (let i = 0; rotations < 5; i++) {
      const len = (i * 337) % 3000;
      let r = log.append(message(len, i));
      if (r === AppendStatus.ADMIN_ACTION) {
        rotations++;
        r = log.append(message(len, i));
      }
      expect(r).toBeGreaterThan(0);
      expect(r).toBe(computePosition(log.activeTermId, log.termOffset, SHIFT, initial));
      seen.add(log.activeTermId);
    }
    expect([...seen].sort((a, b) => a - b)).toEqual([-0x80000000, -0x7fffffff, -0x7ffffffe, -0x7ffffffd, 0x7ffffffe, 0x7fffffff]);
    expect(log.position).toBeGreaterThan(4 * TERM);
    const f = frameAt(log, 4 * TERM);
    expect(f.termId).toBe(-0x7ffffffe);
  });

  it('returns MAX_POSITION_EXCEEDED when the last possible term is full', () => {
    const log = appender(5, { activeTermId: (5 + 0x7fffffff) | 0, termOffset: TERM - 128 });
    expect(log.position).toBe(2 ** 31 * TERM - 128);
    expect(log.append(message(200))).toBe(AppendStatus.MAX_POSITION_EXCEEDED);
    expect(log.append(message(60))).toBe(2 ** 31 * TERM - 32);
    expect(log.claim(1)).toBe(AppendStatus.MAX_POSITION_EXCEEDED);
  });

  it('rejects bad layouts', () => {
    expect(() => appender(0, { termLength: 3 * 65536 })).toThrow(RangeError);
    expect(() => appender(0, { mtu: 1400 })).toThrow(RangeError);
    expect(() => appender(0, { termOffset: 33 })).toThrow(RangeError);
  });
});

describe('TermAppender: claim', () => {
  it('reserves a frame that is invisible to the sender until committed', () => {
    const log = appender();
    const claim = log.claim(100) as BufferClaim;
    expect(claim.position).toBe(160);
    expect(log.scanForSend(0, 1408)).toBeNull();
    claim.payload.set(message(100, 5));
    claim.commit();
    expect(frameAt(log, 0)).toMatchObject({ frameLength: 132, flags: 0xc0, type: 1 });
    expect(frameAt(log, 0).payload).toEqual(message(100, 5));
    expect(log.scanForSend(0, 1408)!.bytes.length).toBe(160);
    expect(() => log.claim(1377)).toThrow(RangeError);
  });

  it('turns an aborted claim into a PAD frame that is sent as its header', () => {
    const log = appender();
    const claim = log.claim(100) as BufferClaim;
    claim.abort();
    claim.commit();
    expect(frameAt(log, 0)).toMatchObject({ type: 0, frameLength: 132 });
    log.append(message(10));
    const batch = log.scanForSend(0, 1408)!;
    expect(batch.bytes.length).toBe(32);
    expect(batch.position).toBe(160);
  });
});

describe('TermAppender: scanForSend', () => {
  it('batches many small frames into one datagram up to the MTU', () => {
    const log = appender(9);
    for (let i = 0; i < 30; i++) log.append(message(10, i));
    const first = log.scanForSend(0, 1 << 20)!;
    expect(first).toMatchObject({ termId: 9, termOffset: 0, position: 22 * 64 });
    expect(first.bytes.length).toBe(1408);
    const second = log.scanForSend(first.position, 1 << 20)!;
    expect(second.bytes.length).toBe(8 * 64);
    expect(second.position).toBe(30 * 64);
    expect(log.scanForSend(second.position, 1 << 20)).toBeNull();
    expect(log.scanForSend(0, 1 << 20, 256)!.bytes.length).toBe(256);
  });

  it('never splits a frame: stops before one that does not fit the MTU or the window', () => {
    const log = appender();
    for (let i = 0; i < 5; i++) log.append(message(500, i));
    const batch = log.scanForSend(0, 1 << 20)!;
    expect(batch.bytes.length).toBe(2 * 544);
    expect(log.scanForSend(0, 543)).toBeNull();
    expect(log.scanForSend(0, 544)!.bytes.length).toBe(544);
    expect(log.scanForSend(0, 1000)!.bytes.length).toBe(544);
  });

  it('sends a PAD frame as its header only and moves the position to the next term', () => {
    const log = appender(0);
    while (log.append(message(1376)) !== AppendStatus.ADMIN_ACTION);
    log.append(message(10));
    let position = 0;
    let last = log.scanForSend(position, 1 << 20)!;
    while (last.position < TERM) {
      position = last.position;
      last = log.scanForSend(position, 1 << 20)!;
    }
    expect(position).toBe(46 * 1408);
    expect(last.bytes.length).toBe(32);
    expect(new DataView(last.bytes.buffer, last.bytes.byteOffset).getInt16(6, true)).toBe(0);
    expect(last.position).toBe(TERM);
    const next = log.scanForSend(TERM, 1 << 20)!;
    expect(next).toMatchObject({ termId: 1, termOffset: 0, position: TERM + 64 });
  });

  it('returns null for misaligned, future and overwritten positions', () => {
    const log = appender(0);
    const msg = message(4000);
    for (let rotations = 0; rotations < 3;) if (log.append(msg) === AppendStatus.ADMIN_ACTION) rotations++;
    expect(log.activeTermId).toBe(3);
    expect(log.scanForSend(TERM + 16, 1408)).toBeNull();
    expect(log.scanForSend(log.position, 1408)).toBeNull();
    expect(log.scanForSend(-32, 1408)).toBeNull();
    expect(log.scanForSend(0, 1408)).toBeNull();
    expect(log.scanForSend(TERM, 1408)!.termId).toBe(1);
  });
});
