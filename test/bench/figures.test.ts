/**
 * How the benches turn runs into figures and verdicts (bench/common.ts): min / median / max over the runs
 * that gave a figure; a target met only when the median reaches it and no run falls below its floor, and
 * never with a failed run; a run whose packet pool did not return to its baseline is a failed run; a run
 * that throws (a child killed by a signal) is recorded with why instead of a figure.
 */
import { describe, expect, it } from 'vitest';
import { attempt, check, checkPool, judge, spread } from '../../bench/common.js';

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
