/**
 * NAK timing of transport/driver: the unicast fixed delay, the multicast truncated-exponential delay
 * (range, determinism with an injected random source, skew towards the maximum backoff), and the loss
 * detector's gap tracking (new gap, NAK when the delay expires, retries, resets, gap length updates).
 */
import { describe, expect, it } from 'vitest';
import {
  LossDetector,
  LossEvent,
  MULTICAST_NAK_GROUP_SIZE,
  MULTICAST_NAK_MAX_BACKOFF_NS,
  OptimalMulticastDelayGenerator,
  StaticDelayGenerator,
  UNICAST_NAK_DELAY_NS,
  UNICAST_NAK_RETRY_NS,
  type DelayGenerator,
} from '../../transport/driver/loss-detector.js';
import { seededRandom as seeded } from '../../testbed/random.js';

describe('delay defaults', () => {
  it('match the driver: 100 µs / 10 ms unicast, 10 ms backoff for a group of 10 multicast', () => {
    expect(UNICAST_NAK_DELAY_NS).toBe(100_000);
    expect(UNICAST_NAK_RETRY_NS).toBe(10_000_000);
    expect(MULTICAST_NAK_MAX_BACKOFF_NS).toBe(10_000_000);
    expect(MULTICAST_NAK_GROUP_SIZE).toBe(10);
    expect(LossEvent.NEW_GAP).toBe(1);
    expect(LossEvent.SEND_NAK).toBe(2);
  });
});

describe('StaticDelayGenerator', () => {
  it('always gives the same delay and exposes the retry interval', () => {
    const g = new StaticDelayGenerator(100_000, 10_000_000);
    expect(g.next()).toBe(100_000);
    expect(g.next()).toBe(100_000);
    expect(g.delayNs).toBe(100_000);
    expect(g.retryNs).toBe(10_000_000);
    expect(g.retry()).toBe(10_000_000);
  });
});

describe('OptimalMulticastDelayGenerator', () => {
  it('maps the random value through max · ln(1 + u(e^λ − 1)) / λ, λ = ln(groupSize) + 1', () => {
    const at = (u: number, groupSize = 10) => new OptimalMulticastDelayGenerator(10_000_000, groupSize, () => u).next();
    expect(at(0)).toBe(0);
    expect(at(0.25)).toBeCloseTo(6_119_383.49, 1);
    expect(at(0.5)).toBeCloseTo(8_010_589.45, 1);
    expect(at(0.75)).toBeCloseTo(9_165_823.15, 1);
    // Group of 1: λ = 1.
    expect(at(0.5, 1)).toBeCloseTo(6_201_145.07, 1);
  });

  it('stays below the maximum backoff as u approaches 1', () => {
    const g = new OptimalMulticastDelayGenerator(10_000_000, 10, () => 0.999_999);
    const d = g.next();
    expect(d).toBeLessThan(10_000_000);
    expect(d).toBeGreaterThan(9_999_990);
  });

  it('increases with the random value', () => {
    let u = 0;
    const g = new OptimalMulticastDelayGenerator(10_000_000, 10, () => u);
    let previous = -1;
    for (let i = 0; i < 100; i++) {
      u = i / 100;
      const d = g.next();
      expect(d).toBeGreaterThan(previous);
      previous = d;
    }
  });

  it('draws one random value per delay and is deterministic for a given source', () => {
    let calls = 0;
    const rand = seeded(42);
    const g1 = new OptimalMulticastDelayGenerator(10_000_000, 10, () => {
      calls++;
      return rand();
    });
    const g2 = new OptimalMulticastDelayGenerator(10_000_000, 10, seeded(42));
    for (let i = 0; i < 20; i++) expect(g1.next()).toBe(g2.next());
    expect(calls).toBe(20);
    expect(g1.maxBackoffNs).toBe(10_000_000);
  });

  it('gives values in [0, maxBackoff) with the default random source', () => {
    const g = new OptimalMulticastDelayGenerator(10_000_000, 10);
    for (let i = 0; i < 2000; i++) {
      const d = g.next();
      expect(d).toBeGreaterThanOrEqual(0);
      expect(d).toBeLessThan(10_000_000);
    }
  });

  it('is skewed towards the maximum backoff for a group of 10 (mean ≈ 0.735 · max)', () => {
    const g = new OptimalMulticastDelayGenerator(10_000_000, 10, seeded(7));
    const n = 20_000;
    let sum = 0;
    let aboveHalf = 0;
    for (let i = 0; i < n; i++) {
      const d = g.next();
      sum += d;
      if (d > 5_000_000) aboveHalf++;
    }
    const mean = sum / n;
    expect(mean).toBeGreaterThan(5_000_000);
    expect(mean).toBeGreaterThan(7_200_000);
    expect(mean).toBeLessThan(7_500_000);
    // P(delay > max/2) = 1 − (e^(λ/2) − 1)/(e^λ − 1) ≈ 0.84.
    expect(aboveHalf / n).toBeGreaterThan(0.82);
    expect(aboveHalf / n).toBeLessThan(0.86);
  });

  it('skews further towards the maximum for a larger group', () => {
    const mean = (groupSize: number) => {
      const g = new OptimalMulticastDelayGenerator(10_000_000, groupSize, seeded(3));
      let sum = 0;
      for (let i = 0; i < 5000; i++) sum += g.next();
      return sum / 5000;
    };
    expect(mean(100)).toBeGreaterThan(mean(10));
    expect(mean(10)).toBeGreaterThan(mean(1));
    // Group of 1 (λ = 1): mean = e/(e − 1) − 1 ≈ 0.58 · max, still above uniform.
    expect(mean(1)).toBeGreaterThan(5_000_000);
  });
});

describe('LossDetector', () => {
  const gap = (termId: number, termOffset: number, length: number) => ({ termId, termOffset, length });

  it('reports nothing without a gap', () => {
    const d = new LossDetector(new StaticDelayGenerator(1000, 5000));
    expect(d.track(null, 0)).toBe(0);
    expect(d.gap).toBeNull();
  });

  it('reports a new gap, NAKs when the delay expires, then repeats at the retry interval', () => {
    const d = new LossDetector(new StaticDelayGenerator(1000, 5000));
    expect(d.track(gap(5, 1024, 64), 10_000)).toBe(LossEvent.NEW_GAP);
    expect(d.gap).toEqual({ termId: 5, termOffset: 1024, length: 64 });
    expect(d.deadlineNs).toBe(11_000);
    expect(d.track(gap(5, 1024, 64), 10_999)).toBe(0);
    expect(d.track(gap(5, 1024, 64), 11_000)).toBe(LossEvent.SEND_NAK);
    expect(d.deadlineNs).toBe(16_000);
    expect(d.track(gap(5, 1024, 64), 15_999)).toBe(0);
    expect(d.track(gap(5, 1024, 64), 16_000)).toBe(LossEvent.SEND_NAK);
    expect(d.deadlineNs).toBe(21_000);
  });

  it('re-arms the retry from the time of the NAK when called late', () => {
    const d = new LossDetector(new StaticDelayGenerator(1000, 5000));
    d.track(gap(5, 1024, 64), 0);
    expect(d.track(gap(5, 1024, 64), 30_000)).toBe(LossEvent.SEND_NAK);
    expect(d.deadlineNs).toBe(35_000);
    expect(d.track(gap(5, 1024, 64), 34_999)).toBe(0);
  });

  it('NAKs a new gap at once with a zero delay', () => {
    const d = new LossDetector(new StaticDelayGenerator(0, 5000));
    expect(d.track(gap(1, 0, 32), 7000)).toBe(LossEvent.NEW_GAP | LossEvent.SEND_NAK);
    expect(d.deadlineNs).toBe(12_000);
    expect(d.track(gap(1, 0, 32), 7001)).toBe(0);
  });

  it('updates the length of the tracked gap without resetting its timer', () => {
    const d = new LossDetector(new StaticDelayGenerator(1000, 5000));
    d.track(gap(5, 1024, 64), 0);
    expect(d.track(gap(5, 1024, 32), 500)).toBe(0);
    expect(d.gap).toEqual({ termId: 5, termOffset: 1024, length: 32 });
    expect(d.deadlineNs).toBe(1000);
    expect(d.track(gap(5, 1024, 4096), 1000)).toBe(LossEvent.SEND_NAK);
    expect(d.gap?.length).toBe(4096);
  });

  it('keeps its own copy of the gap', () => {
    const d = new LossDetector(new StaticDelayGenerator(1000, 5000));
    const g = gap(5, 1024, 64);
    d.track(g, 0);
    g.termOffset = 2048;
    g.length = 1;
    expect(d.gap).toEqual({ termId: 5, termOffset: 1024, length: 64 });
  });

  it('resets when the gap is filled: the same gap again is new', () => {
    const d = new LossDetector(new StaticDelayGenerator(1000, 5000));
    d.track(gap(5, 1024, 64), 0);
    d.track(gap(5, 1024, 64), 1000);
    expect(d.track(null, 2000)).toBe(0);
    expect(d.gap).toBeNull();
    expect(d.track(gap(5, 1024, 64), 3000)).toBe(LossEvent.NEW_GAP);
    expect(d.deadlineNs).toBe(4000);
    expect(d.track(gap(5, 1024, 64), 3999)).toBe(0);
  });

  it('resets on a new first gap, with a new delay', () => {
    const d = new LossDetector(new StaticDelayGenerator(1000, 5000));
    d.track(gap(5, 1024, 64), 0);
    // The first gap moved (its head was filled) just before the timer would expire.
    expect(d.track(gap(5, 1056, 32), 999)).toBe(LossEvent.NEW_GAP);
    expect(d.gap).toEqual({ termId: 5, termOffset: 1056, length: 32 });
    expect(d.deadlineNs).toBe(1999);
    expect(d.track(gap(5, 1056, 32), 1000)).toBe(0);
    expect(d.track(gap(5, 1056, 32), 1999)).toBe(LossEvent.SEND_NAK);
  });

  it('treats the same offset in another term as a new gap', () => {
    const d = new LossDetector(new StaticDelayGenerator(1000, 5000));
    d.track(gap(5, 1024, 64), 0);
    expect(d.track(gap(6, 1024, 64), 500)).toBe(LossEvent.NEW_GAP);
    expect(d.gap?.termId).toBe(6);
    expect(d.deadlineNs).toBe(1500);
  });

  it('draws a delay once per new gap, not per call', () => {
    const delays = [300, 700];
    let draws = 0;
    const generator: DelayGenerator = {
      next: () => delays[draws++]!,
      retry: () => 2000,
    };
    const d = new LossDetector(generator);
    d.track(gap(1, 0, 32), 0);
    d.track(gap(1, 0, 32), 100);
    d.track(gap(1, 0, 32), 300);
    d.track(gap(1, 0, 32), 2300);
    expect(draws).toBe(1);
    expect(d.track(gap(1, 64, 32), 2400)).toBe(LossEvent.NEW_GAP);
    expect(draws).toBe(2);
    expect(d.deadlineNs).toBe(3100);
  });

  it('uses the multicast generator’s random delay for the first NAK and for each repeat', () => {
    let u = 0.5;
    const d = new LossDetector(new OptimalMulticastDelayGenerator(10_000_000, 10, () => u));
    expect(d.track(gap(1, 0, 32), 1_000_000)).toBe(LossEvent.NEW_GAP);
    // Delay ≈ 8 010 589.45 ns.
    expect(d.track(gap(1, 0, 32), 9_010_589)).toBe(0);
    u = 0.1;
    expect(d.track(gap(1, 0, 32), 9_010_590)).toBe(LossEvent.SEND_NAK);
    // The repeat backs off afresh, as Aeron's driver does (its multicast generator ignores the retry flag):
    // ≈ 3 893 917.17 ns for u = 0.1, not the unicast retry interval.
    expect(d.deadlineNs).toBeCloseTo(9_010_590 + 3_893_917.17, 1);
  });
});
