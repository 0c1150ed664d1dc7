/**
 * When a subscriber's image sends status messages while it is polled: one each time the subscriber has
 * consumed a quarter of its window, also in the middle of one long poll and whatever the message size. A
 * receiver that reported only at the end of a poll that drained a whole window would turn the stream into
 * one window per round trip, which on a machine whose processes wake slowly collapses the throughput of
 * large messages.
 */
import { describe, expect, it } from 'vitest';
import { PublicationImage, type ControlSender } from '../../transport/driver/publication-image.js';
import { DEFAULT_TIMINGS } from '../../transport/driver/timings.js';
import { TermAppender } from '../../transport/log/term-appender.js';
import { decodeStatusMessage } from '../../transport/wire/frames.js';

const TERM = 1 << 20;
const WINDOW = 128 * 1024;
const SESSION = 77;
const STREAM = 1001;

/** An image over a fake control socket that records the consumption position of every status message. */
function image(): { image: PublicationImage; smPositions: number[] } {
  const smPositions: number[] = [];
  const sender: ControlSender = {
    sendControl(frame) {
      const sm = decodeStatusMessage(frame, 0, frame.length);
      smPositions.push((sm.consumptionTermId - 5) * TERM + sm.consumptionTermOffset);
    },
  };
  const img = new PublicationImage({
    sessionId: SESSION, streamId: STREAM, initialTermId: 5, activeTermId: 5, termOffset: 0, termLength: TERM, mtu: 1408,
    controlAddress: '127.0.0.1', controlPort: 1, sourceAddress: '127.0.0.1', sourcePort: 2, multicast: false, receiverId: 9n,
    receiverWindow: WINDOW, congestionControl: 'static',
  }, sender, DEFAULT_TIMINGS, 0);
  return { image: img, smPositions };
}

/** Appends `count` messages of `size` bytes and hands the image every datagram a sender would send. */
function deliver(img: PublicationImage, count: number, size: number): number {
  const log = new TermAppender({ termLength: TERM, initialTermId: 5, sessionId: SESSION, streamId: STREAM, mtu: 1408 });
  const message = new Uint8Array(size).fill(7);
  for (let i = 0; i < count; i++) expect(log.append(message)).toBeGreaterThan(0);
  for (let position = 0; position < log.position;) {
    const batch = log.scanForSend(position, log.position - position)!;
    img.onData(batch.termId, batch.termOffset, batch.bytes, 0);
    position = batch.position;
  }
  return log.position;
}

describe('PublicationImage: status messages while polled', () => {
  it.each([32, 1024, 1300])('a poll draining a whole window of %i-byte messages reports every quarter window', (size) => {
    const { image: img, smPositions } = image();
    expect(smPositions).toEqual([0]);
    // Just under the window: what a sender may have in flight.
    const frame = Math.ceil((32 + size) / 32) * 32;
    const end = deliver(img, Math.floor((WINDOW - 1) / frame), size);
    let delivered = 0;
    expect(img.poll(() => delivered++, 100_000)).toBe(delivered);
    expect(img.position).toBe(end);
    // One report per quarter window consumed, each as soon as the quarter was reached (within one frame).
    expect(smPositions.length).toBe(1 + Math.floor(end / (WINDOW / 4)));
    for (let i = 1; i < smPositions.length; i++) {
      expect(smPositions[i]! - smPositions[i - 1]!).toBeGreaterThanOrEqual(WINDOW / 4);
      expect(smPositions[i]! - smPositions[i - 1]!).toBeLessThan(WINDOW / 4 + frame);
    }
  });

  it('a fragment limit still bounds the poll, and the next poll goes on where it stopped', () => {
    const { image: img } = image();
    deliver(img, 100, 1024);
    let delivered = 0;
    expect(img.poll(() => delivered++, 10)).toBe(10);
    expect(delivered).toBe(10);
    expect(img.poll(() => delivered++, 1000)).toBe(90);
    expect(img.counters.messagesReceived).toBe(100);
    expect(img.counters.bytesReceived).toBe(100 * 1024);
  });
});
