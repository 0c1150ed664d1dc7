/**
 * The sender's NAK handling in transport/driver, Aeron's rule: immediate and delayed resends, a NAK starting
 * within a pending or lingering resend ignored, a new resend of the same range after the linger, the limit
 * on concurrent multicast resends, and the unicast resend that a NAK for another range replaces.
 */
import { describe, expect, it } from 'vitest';
import { MAX_RETRANSMITS, RETRANSMIT_LINGER_NS, RetransmitHandler } from '../../transport/driver/retransmit-handler.js';

type Sent = [termId: number, termOffset: number, length: number];

/** A multicast handler with `maxActions` concurrent resends, or a unicast one. */
function handler(maxActions: number | 'unicast', delayNs?: number, lingerNs?: number): { h: RetransmitHandler; sent: Sent[] } {
  const sent: Sent[] = [];
  const resend = (termId: number, termOffset: number, length: number) => sent.push([termId, termOffset, length]);
  const h = maxActions === 'unicast'
    ? new RetransmitHandler(resend, false, undefined, delayNs, lingerNs)
    : new RetransmitHandler(resend, true, maxActions, delayNs, lingerNs);
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

  it('ignores a NAK starting within a lingering resend, serves one starting elsewhere and other terms', () => {
    const { h, sent } = handler(16, 0, 10_000);
    expect(h.onNak(3, 4096, 1024, 0)).toBe(true);
    // A repeat, a longer gap from the same start, and ones starting inside the range (first and last byte).
    expect(h.onNak(3, 4096, 1024, 10)).toBe(false);
    expect(h.onNak(3, 4096, 8192, 20)).toBe(false);
    expect(h.onNak(3, 4200, 32, 30)).toBe(false);
    expect(h.onNak(3, 5119, 64, 40)).toBe(false);
    expect(sent).toEqual([[3, 4096, 1024]]);
    // Starting just past it, or before it (even overlapping it), or in another term: served.
    expect(h.onNak(3, 5120, 64, 50)).toBe(true);
    expect(h.onNak(3, 0, 8192, 60)).toBe(true);
    expect(h.onNak(4, 4096, 1024, 70)).toBe(true);
    expect(sent).toEqual([
      [3, 4096, 1024],
      [3, 5120, 64],
      [3, 0, 8192],
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

  it('keeps up to 16 multicast resends by default', () => {
    expect(MAX_RETRANSMITS).toBe(16);
    const sent: Sent[] = [];
    const h = new RetransmitHandler((termId, termOffset, length) => sent.push([termId, termOffset, length]), true, undefined, 0, 10_000);
    for (let i = 0; i < 16; i++) expect(h.onNak(1, i * 1024, 32, i)).toBe(true);
    expect(h.onNak(1, 16 * 1024, 32, 20)).toBe(false);
    expect(h.activeCount).toBe(16);
    expect(sent).toHaveLength(16);
  });

  it('unicast: a NAK for another range replaces the lingering resend and is served at once', () => {
    const { h, sent } = handler('unicast', 0, 10_000);
    expect(h.onNak(1, 0, 1024, 0)).toBe(true);
    expect(h.onNak(1, 512, 32, 100)).toBe(false);
    expect(h.onNak(1, 4096, 1024, 200)).toBe(true);
    expect(h.activeCount).toBe(1);
    // The replaced range no longer blocks a NAK for it; the new one does.
    expect(h.onNak(1, 4096, 1024, 300)).toBe(false);
    expect(h.onNak(1, 0, 1024, 400)).toBe(true);
    expect(sent).toEqual([
      [1, 0, 1024],
      [1, 4096, 1024],
      [1, 0, 1024],
    ]);
    h.onTimer(10_400);
    expect(h.activeCount).toBe(0);
  });

  it('unicast: a NAK for another range replaces a delayed resend, which is then never sent', () => {
    const { h, sent } = handler('unicast', 500, 10_000);
    expect(h.onNak(1, 0, 32, 0)).toBe(true);
    expect(h.onNak(1, 1024, 32, 100)).toBe(true);
    h.onTimer(600);
    expect(sent).toEqual([[1, 1024, 32]]);
    expect(h.activeCount).toBe(1);
  });
});
