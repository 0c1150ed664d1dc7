/**
 * The sender's NAK handling in transport/driver: immediate and delayed resends, overlapping NAKs ignored
 * while a resend is pending or lingering, a new resend of the same range after the linger, and the limit on
 * concurrent resends.
 */
import { describe, expect, it } from 'vitest';
import { RETRANSMIT_LINGER_NS, RetransmitHandler } from '../../transport/driver/retransmit-handler.js';

type Sent = [termId: number, termOffset: number, length: number];

function handler(maxActions: number, delayNs?: number, lingerNs?: number): { h: RetransmitHandler; sent: Sent[] } {
  const sent: Sent[] = [];
  const h = new RetransmitHandler((termId, termOffset, length) => sent.push([termId, termOffset, length]), maxActions, delayNs, lingerNs);
  return { h, sent };
}

describe('RetransmitHandler', () => {
  it('lingers 10 ms by default', () => {
    expect(RETRANSMIT_LINGER_NS).toBe(10_000_000);
    const { h, sent } = handler(16);
    h.onNak(3, 0, 1408, 0);
    h.onTimer(9_999_999);
    expect(h.activeCount).toBe(1);
    h.onTimer(10_000_000);
    expect(h.activeCount).toBe(0);
    expect(sent).toEqual([[3, 0, 1408]]);
  });

  it('resends at once with a zero delay and then lingers', () => {
    const { h, sent } = handler(1, 0, 10_000);
    expect(h.onNak(3, 4096, 1408, 0)).toBe(true);
    expect(sent).toEqual([[3, 4096, 1408]]);
    expect(h.activeCount).toBe(1);
    // The timer does not resend it again.
    h.onTimer(5000);
    expect(sent).toHaveLength(1);
  });

  it('ignores NAKs overlapping a lingering resend, accepts adjacent ranges and other terms', () => {
    const { h, sent } = handler(16, 0, 10_000);
    expect(h.onNak(3, 4096, 1024, 0)).toBe(true);
    expect(h.onNak(3, 4096, 1024, 10)).toBe(false);
    expect(h.onNak(3, 4000, 100, 20)).toBe(false);
    expect(h.onNak(3, 5119, 64, 30)).toBe(false);
    expect(h.onNak(3, 4200, 32, 40)).toBe(false);
    expect(h.onNak(3, 0, 8192, 50)).toBe(false);
    expect(sent).toEqual([[3, 4096, 1024]]);
    // Touching but not overlapping on either side.
    expect(h.onNak(3, 5120, 64, 60)).toBe(true);
    expect(h.onNak(3, 4000, 96, 70)).toBe(true);
    // The same offsets in another term.
    expect(h.onNak(4, 4096, 1024, 80)).toBe(true);
    expect(sent).toEqual([
      [3, 4096, 1024],
      [3, 5120, 64],
      [3, 4000, 96],
      [4, 4096, 1024],
    ]);
    expect(h.activeCount).toBe(4);
  });

  it('accepts a new resend of the same range once the linger has expired', () => {
    const { h, sent } = handler(1, 0, 10_000);
    h.onNak(3, 0, 1408, 1000);
    h.onTimer(10_999);
    expect(h.onNak(3, 0, 1408, 10_999)).toBe(false);
    h.onTimer(11_000);
    expect(h.activeCount).toBe(0);
    expect(h.onNak(3, 0, 1408, 11_000)).toBe(true);
    expect(sent).toEqual([
      [3, 0, 1408],
      [3, 0, 1408],
    ]);
  });

  it('delays the resend by the resend delay, ignoring repeats meanwhile', () => {
    const { h, sent } = handler(16, 2000, 10_000);
    expect(h.onNak(3, 0, 1408, 1000)).toBe(true);
    expect(sent).toEqual([]);
    expect(h.activeCount).toBe(1);
    expect(h.onNak(3, 0, 1408, 1500)).toBe(false);
    h.onTimer(2999);
    expect(sent).toEqual([]);
    h.onTimer(3000);
    expect(sent).toEqual([[3, 0, 1408]]);
    // Now lingering from the resend time, 3000 + 10 000.
    expect(h.onNak(3, 0, 1408, 12_999)).toBe(false);
    h.onTimer(12_999);
    expect(h.activeCount).toBe(1);
    expect(sent).toHaveLength(1);
    h.onTimer(13_000);
    expect(h.activeCount).toBe(0);
    expect(sent).toHaveLength(1);
  });

  it('runs every due resend in one timer pass and keeps the rest', () => {
    const { h, sent } = handler(16, 1000, 10_000);
    h.onNak(1, 0, 32, 0);
    h.onNak(1, 64, 32, 500);
    h.onNak(1, 128, 32, 2000);
    h.onTimer(1500);
    expect(sent).toEqual([
      [1, 0, 32],
      [1, 64, 32],
    ]);
    h.onTimer(3000);
    expect(sent).toEqual([
      [1, 0, 32],
      [1, 64, 32],
      [1, 128, 32],
    ]);
    // Lingers end at 11 500 for the first two and 13 000 for the third.
    h.onTimer(11_500);
    expect(h.activeCount).toBe(1);
    h.onTimer(13_000);
    expect(h.activeCount).toBe(0);
  });

  it('ignores NAKs beyond the concurrent resend limit, pending or lingering', () => {
    const { h, sent } = handler(2, 0, 10_000);
    expect(h.onNak(1, 0, 32, 0)).toBe(true);
    expect(h.onNak(1, 64, 32, 0)).toBe(true);
    expect(h.onNak(1, 128, 32, 0)).toBe(false);
    expect(h.activeCount).toBe(2);
    expect(sent).toHaveLength(2);
    h.onTimer(10_000);
    expect(h.onNak(1, 128, 32, 10_000)).toBe(true);
    expect(sent).toEqual([
      [1, 0, 32],
      [1, 64, 32],
      [1, 128, 32],
    ]);
  });

  it('allows only one resend at a time for unicast (limit 1), delayed or not', () => {
    const { h, sent } = handler(1, 500, 10_000);
    expect(h.onNak(1, 0, 32, 0)).toBe(true);
    expect(h.onNak(1, 1024, 32, 0)).toBe(false);
    h.onTimer(500);
    expect(h.onNak(1, 1024, 32, 600)).toBe(false);
    h.onTimer(10_500);
    expect(h.onNak(1, 1024, 32, 10_500)).toBe(true);
    h.onTimer(11_000);
    expect(sent).toEqual([
      [1, 0, 32],
      [1, 1024, 32],
    ]);
  });
});
