/**
 * How the benches turn runs into figures and verdicts (bench/common.ts): min / median / max over the runs
 * that gave a figure; a target met only when the median reaches it and no run falls below its floor, and
 * never with a failed run; a run whose packet pool did not return to its baseline is a failed run; a run
 * that throws (a child killed by a signal) is recorded with why instead of a figure.
 */
import { describe, expect, it } from 'vitest';
import { attempt, check, checkPool, judge, judgeFamilies, parseFamilies, spread } from '../../bench/common.js';

describe('figures over runs', () => {
  it('spread gives min / median / max and counts failed runs; none without a figure', () => {
    expect(spread([3, 1, 2, 10], 1, 1)).toEqual({ min: 1, median: 2.5, max: 10, runs: 4, failed: 1 });
    expect(spread([1_000_000, 1_500_001], 0)?.median).toBe(1_250_001);
    expect(spread([], 2)).toBeNull();
  });

  it('a target needs the median at or above it and every run at or above the floor', () => {
    expect(judge({ target: 't', values: [16, 15, 20], failed: 0, atLeast: 15, noRunBelow: 10 }).met).toBe(true);
    const lowRun = judge({ target: 't', values: [20, 9, 30], failed: 0, atLeast: 15, noRunBelow: 10 });
    expect(lowRun.met).toBe(false);
    expect(lowRun.why).toMatch(/a run at 9 < 10/);
    const lowMedian = judge({ target: 't', values: [14, 12, 30], failed: 0, atLeast: 15, noRunBelow: 10 });
    expect(lowMedian.met).toBe(false);
    expect(lowMedian.why).toMatch(/median 14 < 15/);
  });

  it('a failed run fails the target even when the other runs meet it', () => {
    const t = judge({ target: 't', values: [50, 60], failed: 1, atLeast: 15, noRunBelow: 10 });
    expect(t.met).toBe(false);
    expect(t.why).toMatch(/1 run\(s\) failed/);
  });

  it('an upper bound is checked on the median; nothing measured is not a verdict', () => {
    expect(judge({ target: 'p99', values: [20, 40, 25], failed: 0, atMost: 30 }).met).toBe(true);
    expect(judge({ target: 'p99', values: [31, 40, 25], failed: 0, atMost: 30 }).met).toBe(false);
    expect(judge({ target: 'p99', values: [], failed: 0, atMost: 30 }).met).toBeNull();
  });

  it('extra conditions (an absolute rate) must hold too', () => {
    const t = judge({ target: 't', values: [60], failed: 0, atLeast: 50, extra: [{ ok: false, why: 'median 5M/s < 10M/s' }] });
    expect(t.met).toBe(false);
    expect(t.why).toBe('median 5M/s < 10M/s');
  });
});

describe('failed runs', () => {
  it('a pool above its baseline after the sockets closed fails the run', () => {
    expect(() => checkPool({ pool: { baseline: 12, end: 12 } }, 'receiver')).not.toThrow();
    expect(() => checkPool({ pool: null }, 'receiver')).not.toThrow();
    expect(() => checkPool({ pool: { baseline: 12, end: 40 } }, 'receiver')).toThrow(/did not return to its baseline \(12 .* 40/);
  });

  it('a child killed by a signal is a failed run with why, not a figure', async () => {
    const r = await attempt(async () => check({ code: null, signal: 'SIGSEGV', timedOut: false, stdout: '', stderr: 'Segmentation fault' }, 'ffnet dpdk receiver'));
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.failed).toBe('ffnet dpdk receiver failed (killed by SIGSEGV):');
      expect(r.detail).toMatch(/Segmentation fault/);
    }
  });
});

describe('IPv6 within 10% of IPv4', () => {
  it('a rate: the udp6 median at least 0.9× the udp4 median', () => {
    const met = judgeFamilies({ what: 'rate', udp4: [100, 90, 110], udp6: [95, 91, 80], failed: 0 });
    expect(met.median).toBe(0.91);
    expect(met.met).toBe(true);
    const low = judgeFamilies({ what: 'rate', udp4: [100, 100], udp6: [85, 89], failed: 0 });
    expect(low.met).toBe(false);
    expect(low.why).toBe('median 0.87 < 0.9');
  });

  it('a time: the udp6 median at most 1.1× the udp4 median', () => {
    expect(judgeFamilies({ what: 'time', udp4: [10], udp6: [11], failed: 0 }).met).toBe(true);
    expect(judgeFamilies({ what: 'time', udp4: [10], udp6: [11.2], failed: 0 }).why).toBe('median 1.12 > 1.1');
  });

  it('a failed run of either family fails it; one family unmeasured is no verdict', () => {
    expect(judgeFamilies({ what: 'rate', udp4: [100], udp6: [100], failed: 1 }).met).toBe(false);
    expect(judgeFamilies({ what: 'rate', udp4: [], udp6: [100], failed: 0 }).met).toBeNull();
  });

  it('--families takes udp4 and udp6 only', () => {
    expect(parseFamilies(undefined)).toEqual(['udp4', 'udp6']);
    expect(parseFamilies('udp6')).toEqual(['udp6']);
    expect(() => parseFamilies('udp5')).toThrow(/--families takes udp4, udp6; got udp5/);
  });
});
