/**
 * The image's term log: rebuilding from out-of-order and duplicated frames, gap detection, whole-message
 * delivery under a fragment limit, read-side term rotation, and an appender → lossy network → reader loop.
 */
import { describe, expect, it } from 'vitest';
import { AppendStatus, TermAppender } from '../../transport/log/term-appender.js';
import { InsertResult, type MessageHeader, TermReader } from '../../transport/log/term-reader.js';
import { FragmentAssembler } from '../../transport/log/fragment-assembler.js';
import { seededRandom as rng } from '../../testbed/random.js';

const TERM = 64 * 1024;
const SESSION = 77;
const STREAM = 10;

interface Datagram { termId: number; termOffset: number; bytes: Uint8Array }

function pair(initialTermId = 3): { log: TermAppender; image: TermReader } {
  const layout = { termLength: TERM, initialTermId, sessionId: SESSION, streamId: STREAM };
  return { log: new TermAppender(layout), image: new TermReader(layout) };
}

function message(length: number, seed: number): Uint8Array {
  return Uint8Array.from({ length }, (_, i) => (i * 13 + seed * 101) & 0xff);
}

function append(log: TermAppender, msg: Uint8Array): number {
  const r = log.append(msg);
  return r === AppendStatus.ADMIN_ACTION ? log.append(msg) : r;
}

/** Every datagram the sender would send from `from` to the log's end, copied off the term buffers. */
function datagrams(log: TermAppender, from = 0, to = log.position): Datagram[] {
  const out: Datagram[] = [];
  for (let p = from; p < to;) {
    const b = log.scanForSend(p, to - p)!;
    out.push({ termId: b.termId, termOffset: b.termOffset, bytes: b.bytes.slice() });
    p = b.position;
  }
  return out;
}

function receive(image: TermReader, d: Datagram): number {
  return image.insert(d.termId, d.termOffset, d.bytes);
}

function drain(image: TermReader, limit = 1000): { messages: Uint8Array[]; headers: MessageHeader[] } {
  const messages: Uint8Array[] = [];
  const headers: MessageHeader[] = [];
  image.poll((m, h) => {
    messages.push(m.slice());
    headers.push({ ...h });
  }, limit);
  return { messages, headers };
}

function heartbeat(termId: number, termOffset: number): Uint8Array {
  const b = new Uint8Array(32);
  const v = new DataView(b.buffer);
  v.setUint8(5, 0xc0);
  v.setInt16(6, 1, true);
  v.setInt32(8, termOffset, true);
  v.setInt32(12, SESSION, true);
  v.setInt32(16, STREAM, true);
  v.setInt32(20, termId, true);
  return b;
}

describe('TermReader: rebuild', () => {
  it('delivers messages inserted in order, with their headers', () => {
    const { log, image } = pair();
    const msgs = [message(10, 1), message(2000, 2), message(0, 3)];
    for (const m of msgs) append(log, m);
    for (const d of datagrams(log)) expect(receive(image, d)).toBe(InsertResult.INSERTED);
    expect(image.rebuildPosition).toBe(log.position);
    const { messages, headers } = drain(image);
    expect(messages).toEqual(msgs);
    expect(headers[0]).toEqual({ sessionId: SESSION, streamId: STREAM, termId: 3, termOffset: 0, position: 64 });
    expect(headers[1]).toMatchObject({ termOffset: 64 + 1408, position: 64 + 1408 + 672 });
    expect(image.position).toBe(log.position);
  });

  it('rebuilds from datagrams delivered out of order and duplicated', () => {
    const { log, image } = pair();
    const msgs = Array.from({ length: 30 }, (_, i) => message((i * 97) % 1500, i));
    for (const m of msgs) append(log, m);
    const ds = datagrams(log, 0, log.position);
    const random = rng(42);
    const shuffled = [...ds, ...ds.filter(() => random() < 0.3)].sort(() => random() - 0.5);
    const results = shuffled.map((d) => receive(image, d));
    expect(results.filter((r) => r === InsertResult.INSERTED).length).toBe(ds.length);
    expect(results.filter((r) => r === InsertResult.DUPLICATE).length).toBe(shuffled.length - ds.length);
    expect(image.rebuildPosition).toBe(log.position);
    expect(image.highWaterMark).toBe(log.position);
    expect(drain(image).messages).toEqual(msgs);
  });

  it('ignores a retransmission that overlaps frames already present', () => {
    const { log, image } = pair();
    for (let i = 0; i < 4; i++) append(log, message(300, i));
    const [whole] = datagrams(log);
    const tail = { termId: 3, termOffset: 352, bytes: whole!.bytes.slice(352) };
    expect(receive(image, tail)).toBe(InsertResult.INSERTED);
    expect(image.rebuildPosition).toBe(0);
    expect(receive(image, whole!)).toBe(InsertResult.INSERTED);
    expect(image.rebuildPosition).toBe(4 * 352);
    expect(drain(image).messages.length).toBe(4);
  });

  it('rejects malformed and out-of-window datagrams without writing', () => {
    const { log, image } = pair();
    append(log, message(100, 1));
    const [d] = datagrams(log);
    const bytes = d!.bytes;
    expect(image.insert(3, 16, bytes)).toBe(InsertResult.MALFORMED);
    expect(image.insert(3, TERM - 64, bytes)).toBe(InsertResult.MALFORMED);
    expect(image.insert(4, 0, bytes)).toBe(InsertResult.MALFORMED);
    expect(image.insert(3, 0, bytes.subarray(0, 100))).toBe(InsertResult.MALFORMED);
    expect(image.insert(3, 0, bytes.subarray(0, 20))).toBe(InsertResult.MALFORMED);
    const other = bytes.slice();
    new DataView(other.buffer).setInt32(12, SESSION + 1, true);
    expect(image.insert(3, 0, other)).toBe(InsertResult.MALFORMED);
    const far = bytes.slice();
    new DataView(far.buffer).setInt32(8, TERM / 2 + 32, true);
    expect(image.insert(3, TERM / 2 + 32, far)).toBe(InsertResult.OUT_OF_WINDOW);
    const behind = bytes.slice();
    new DataView(behind.buffer).setInt32(20, 2, true);
    expect(image.insert(2, 0, behind)).toBe(InsertResult.OUT_OF_WINDOW);
    expect(image.highWaterMark).toBe(0);
    expect(image.insert(3, 0, bytes)).toBe(InsertResult.INSERTED);
  });
});

describe('TermReader: gaps', () => {
  it('finds the first gap between the rebuild position and the high-water mark', () => {
    const { log, image } = pair();
    for (let i = 0; i < 60; i++) append(log, message(100, i));
    const ds = datagrams(log);
    expect(ds.length).toBeGreaterThan(3);
    expect(image.scanForGap()).toBeNull();
    receive(image, ds[0]!);
    receive(image, ds[2]!);
    receive(image, ds[3]!);
    expect(image.scanForGap()).toEqual({ termId: 3, termOffset: ds[1]!.termOffset, length: ds[1]!.bytes.length });
    receive(image, ds[1]!);
    expect(image.scanForGap()).toBeNull();
    expect(image.rebuildPosition).toBe(ds[3]!.termOffset + ds[3]!.bytes.length);
  });

  it('learns of loss at the tail from a heartbeat', () => {
    const { log, image } = pair();
    for (let i = 0; i < 30; i++) append(log, message(100, i));
    const ds = datagrams(log);
    receive(image, ds[0]!);
    expect(image.scanForGap()).toBeNull();
    expect(image.insert(3, log.position, heartbeat(3, log.position))).toBe(InsertResult.HEARTBEAT);
    expect(image.highWaterMark).toBe(log.position);
    const gap = image.scanForGap()!;
    expect(gap).toEqual({ termId: 3, termOffset: ds[1]!.termOffset, length: log.position - ds[1]!.termOffset });
  });

  it('limits a gap to the rebuild position\'s term', () => {
    const { log, image } = pair();
    while (log.activeTermId === 3) append(log, message(1000, 1));
    const ds = datagrams(log);
    const last = ds[ds.length - 1]!;
    expect(last.termId).toBe(4);
    // Consume past the middle of term 3 so the window reaches into term 4.
    for (const d of ds.filter((d) => d.termId === 3 && d.termOffset < 40_000)) {
      expect(receive(image, d)).toBe(InsertResult.INSERTED);
      drain(image);
    }
    expect(receive(image, last)).toBe(InsertResult.INSERTED);
    const gap = image.scanForGap()!;
    expect(gap.termOffset + gap.length).toBe(TERM);
  });
});

describe('TermReader: poll', () => {
  it('counts fragments against fragmentLimit and delivers a fragmented message whole', () => {
    const { log, image } = pair();
    const msgs = [message(5, 1), message(6, 2), message(7, 3), message(3000, 4), message(8, 5)];
    for (const m of msgs) append(log, m);
    for (const d of datagrams(log)) receive(image, d);
    let got = drain(image, 2);
    expect(got.messages).toEqual([msgs[0], msgs[1]]);
    got = drain(image, 2);
    expect(got.messages).toEqual([msgs[2]]);
    got = drain(image, 2);
    expect(got.messages).toEqual([msgs[3]]);
    expect(got.headers[0]!.position).toBe(image.position);
    got = drain(image, 2);
    expect(got.messages).toEqual([msgs[4]]);
    expect(image.poll(() => undefined, 10)).toBe(0);
  });

  it('stops at the rebuild position and resumes when the gap fills', () => {
    const { log, image } = pair();
    const big = message(4000, 9);
    append(log, message(10, 1));
    append(log, big);
    const ds = datagrams(log);
    receive(image, ds[0]!);
    receive(image, ds[2]!);
    expect(drain(image).messages).toEqual([message(10, 1)]);
    receive(image, ds[1]!);
    for (const d of ds.slice(3)) receive(image, d);
    expect(drain(image).messages).toEqual([big]);
  });

  it('rotates across terms and zeroes the term it leaves', () => {
    const { log, image } = pair(0x7fffffff);
    const msgs: Uint8Array[] = [];
    let sent = 0;
    const delivered: Uint8Array[] = [];
    while (log.activeTermId !== -0x7fffffff) {
      const m = message(1500 + msgs.length, msgs.length);
      msgs.push(m);
      append(log, m);
      for (const d of datagrams(log, sent)) expect(receive(image, d)).toBe(InsertResult.INSERTED);
      sent = log.position;
      delivered.push(...drain(image).messages);
    }
    expect(delivered).toEqual(msgs);
    expect(image.position).toBeGreaterThan(2 * TERM);
    expect(image.terms[0]!.every((b) => b === 0)).toBe(true);
    expect(image.terms[1]!.every((b) => b === 0)).toBe(true);
  });

  it('joins mid-stream and drops a message whose first fragment came before the join', () => {
    const layout = { termLength: TERM, initialTermId: 3, sessionId: SESSION, streamId: STREAM };
    const log = new TermAppender(layout);
    append(log, message(3000, 1));
    append(log, message(20, 2));
    const image = new TermReader({ ...layout, activeTermId: 3, termOffset: 1408 });
    for (const d of datagrams(log, 1408)) receive(image, d);
    expect(drain(image).messages).toEqual([message(20, 2)]);
    expect(image.assembler.dropped).toBe(1);
  });
});

describe('FragmentAssembler', () => {
  it('drops a message longer than its bound and recovers at the next BEGIN', () => {
    const a = new FragmentAssembler(100, 16);
    expect(a.onFragment(message(60, 1), 0x80)).toBeNull();
    expect(a.onFragment(message(60, 2), 0x40)).toBeNull();
    expect(a.dropped).toBe(1);
    expect(a.onFragment(message(50, 3), 0x80)).toBeNull();
    expect(a.onFragment(message(50, 4), 0x40)).toEqual(Uint8Array.from([...message(50, 3), ...message(50, 4)]));
  });
});

describe('appender → lossy datagrams → reader', () => {
  it('delivers every message exactly once and in order despite loss, reordering and duplication', () => {
    const initialTermId = 0x7ffffffa;
    const layout = { termLength: TERM, initialTermId, sessionId: SESSION, streamId: STREAM };
    const log = new TermAppender(layout);
    const image = new TermReader(layout);
    const random = rng(20240611);
    const count = 1500;
    const lengthOf = (i: number): number => (i % 97 === 0 ? log.maxMessageLength : i % 7 === 0 ? 1377 + (i % 3000) : i % 200);
    const expected = (i: number): Uint8Array => message(lengthOf(i), i);
    const window = TERM / 2;

    let appended = 0;
    let senderPosition = 0;
    let delivered = 0;
    let inFlight: Datagram[] = [];
    let naks = 0;
    let resent = 0;
    const lost = { data: 0, naks: 0 };
    const send = (d: Datagram): void => {
      if (random() < 0.1) {
        lost.data++;
        return;
      }
      inFlight.push(d);
      if (random() < 0.05) inFlight.push(d);
    };

    let iterations = 0;
    for (; delivered < count && iterations < 20_000; iterations++) {
      // The publication may run at most half a term ahead of the sender, which runs within the receiver's window.
      while (appended < count && log.position + lengthOf(appended) + 256 < senderPosition + TERM / 2) {
        const r = log.append(expected(appended));
        if (r === AppendStatus.ADMIN_ACTION) continue;
        expect(r).toBeGreaterThan(0);
        appended++;
      }
      const limit = image.position + window;
      for (let burst = 0; burst < 8; burst++) {
        const b = log.scanForSend(senderPosition, limit - senderPosition);
        if (b === null) break;
        send({ termId: b.termId, termOffset: b.termOffset, bytes: b.bytes.slice() });
        senderPosition = b.position;
      }
      if (senderPosition === log.position) {
        const termId = (initialTermId + Math.floor(senderPosition / TERM)) | 0;
        const termOffset = senderPosition % TERM;
        send({ termId, termOffset, bytes: heartbeat(termId, termOffset) });
      }

      inFlight.sort(() => random() - 0.5);
      const arriving = inFlight.splice(0, Math.ceil(inFlight.length * (0.5 + random() / 2)));
      for (const d of arriving) {
        const r = receive(image, d);
        expect(r === InsertResult.MALFORMED).toBe(false);
      }

      const gap = image.scanForGap();
      if (gap && iterations % 3 === 0) {
        naks++;
        if (random() < 0.1) {
          lost.naks++;
        } else {
          let p = (((gap.termId - initialTermId) | 0) * TERM) + gap.termOffset;
          const end = p + gap.length;
          while (p < end) {
            const b = log.scanForSend(p, end - p);
            if (b === null) break;
            send({ termId: b.termId, termOffset: b.termOffset, bytes: b.bytes.slice() });
            resent++;
            p = b.position;
          }
        }
      }

      image.poll((m, h) => {
        expect(m).toEqual(expected(delivered));
        expect(h.position).toBeLessThanOrEqual(image.rebuildPosition);
        delivered++;
      }, 1 + Math.floor(random() * 20));
    }
    inFlight = [];

    expect(delivered).toBe(count);
    expect(iterations).toBeLessThan(20_000);
    expect(image.position).toBe(log.position);
    expect(log.activeTermId).toBeLessThan(0);
    expect(lost.data).toBeGreaterThan(0);
    expect(naks).toBeGreaterThan(0);
    expect(resent).toBeGreaterThan(0);
    expect(image.assembler.dropped).toBe(0);
  });
});
