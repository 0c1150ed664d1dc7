/**
 * Receiver-side congestion control of transport/driver: the static window, and CUBIC over MTU-sized
 * segments (initial window, multiplicative decrease on loss, cubic and TCP-friendly growth once per RTT,
 * the cap at the static window, RTT smoothing and when to measure RTT).
 */
import { describe, expect, it } from 'vitest';
import { CubicCongestionControl, StaticCongestionControl, staticWindow } from '../../transport/driver/congestion-control.js';

describe('staticWindow', () => {
  it('is the receiver window, at most half a term', () => {
    expect(staticWindow(131_072, 16_777_216)).toBe(131_072);
    expect(staticWindow(1_048_576, 65_536)).toBe(32_768);
    expect(staticWindow(32_768, 65_536)).toBe(32_768);
  });
});

describe('StaticCongestionControl', () => {
  it('grants a fixed window whatever happens', () => {
    const cc = new StaticCongestionControl(65_536);
    expect(cc.windowLength).toBe(65_536);
    expect(cc.onTrackRebuild(0, true)).toBe(false);
    expect(cc.onTrackRebuild(1_000_000_000, false)).toBe(false);
    cc.onRttMeasurement(0, 5_000_000);
    expect(cc.windowLength).toBe(65_536);
  });

  it('never asks for RTT measurements', () => {
    const cc = new StaticCongestionControl(65_536);
    expect(cc.shouldMeasureRtt(0)).toBe(false);
    expect(cc.shouldMeasureRtt(60_000_000_000)).toBe(false);
    cc.onRttMeasurementSent(0);
    expect(cc.shouldMeasureRtt(60_000_000_000)).toBe(false);
  });
});

describe('CubicCongestionControl: window', () => {
  it('starts at 10 MTUs', () => {
    const cc = new CubicCongestionControl(1408, 8_388_608, 0);
    expect(cc.windowLength).toBe(14_080);
    expect(cc.rtt).toBe(100_000);
  });

  it('caps the initial window at the max window, in whole MTUs, and at least one MTU', () => {
    expect(new CubicCongestionControl(1408, 7040, 0).windowLength).toBe(7040);
    expect(new CubicCongestionControl(1408, 7000, 0).windowLength).toBe(5632);
    expect(new CubicCongestionControl(1408, 500, 0).windowLength).toBe(1408);
  });

  it('cuts the window by β = 0.2 (rounded down) on loss and asks for an SM at once', () => {
    const cc = new CubicCongestionControl(1000, 1_000_000, 0);
    expect(cc.onTrackRebuild(1000, true)).toBe(true);
    expect(cc.windowLength).toBe(8000);
    const expected = [6000, 4000, 3000, 2000, 1000, 1000];
    for (const [i, window] of expected.entries()) {
      expect(cc.onTrackRebuild(2000 + i, true)).toBe(true);
      expect(cc.windowLength).toBe(window);
    }
  });

  it('does not change without loss before one RTT has passed', () => {
    const cc = new CubicCongestionControl(1000, 1_000_000, 0);
    expect(cc.onTrackRebuild(50_000, false)).toBe(false);
    expect(cc.onTrackRebuild(99_999, false)).toBe(false);
    expect(cc.windowLength).toBe(10_000);
  });

  it('grows as C(t − K)³ + W_max after a loss, once per RTT', () => {
    // RTT 1 s so that the cubic term dominates the TCP-friendly estimate (8 + t/3 segments).
    const cc = new CubicCongestionControl(1000, 1_000_000, 0);
    cc.onRttMeasurement(0, 1_000_000_000);
    expect(cc.rtt).toBe(1_000_000_000);
    const loss = 2_000_000_000;
    expect(cc.onTrackRebuild(loss, true)).toBe(true);
    expect(cc.windowLength).toBe(8000);
    // W_max = 10, K = ∛(10 · 0.2 / 0.4) ≈ 1.71 s.
    expect(cc.onTrackRebuild(loss + 500_000_000, false)).toBe(false);
    expect(cc.windowLength).toBe(8000);
    // t = 1 s: 0.4 · (−0.71)³ + 10 ≈ 9.86.
    expect(cc.onTrackRebuild(loss + 1_000_000_000, false)).toBe(true);
    expect(cc.windowLength).toBe(9000);
    // t = 2 s: ≈ 10.01 (back at W_max).
    expect(cc.onTrackRebuild(loss + 2_000_000_000, false)).toBe(true);
    expect(cc.windowLength).toBe(10_000);
    // t = 3 s: ≈ 10.86, still 10 whole segments: no change, no SM.
    expect(cc.onTrackRebuild(loss + 3_000_000_000, false)).toBe(false);
    expect(cc.windowLength).toBe(10_000);
    // t = 4 s: ≈ 14.80.
    expect(cc.onTrackRebuild(loss + 4_000_000_000, false)).toBe(true);
    expect(cc.windowLength).toBe(14_000);
    // t = 4.9 s would give ≈ 22.98, but less than one RTT has passed since the last update.
    expect(cc.onTrackRebuild(loss + 4_900_000_000, false)).toBe(false);
    expect(cc.windowLength).toBe(14_000);
    // t = 5 s: ≈ 24.24.
    expect(cc.onTrackRebuild(loss + 5_000_000_000, false)).toBe(true);
    expect(cc.windowLength).toBe(24_000);
  });

  it('computes the cubic curve from the time of the loss, not of the last update', () => {
    const cc = new CubicCongestionControl(1000, 1_000_000, 0);
    cc.onRttMeasurement(0, 1_000_000_000);
    cc.onTrackRebuild(1_000_000_000, true);
    // Jumping straight to t = 5 s gives the same window as stepping there.
    expect(cc.onTrackRebuild(6_000_000_000, false)).toBe(true);
    expect(cc.windowLength).toBe(24_000);
  });

  it('grows from the initial window before any loss (W_max = 10, K = 0)', () => {
    const cc = new CubicCongestionControl(1000, 1_000_000, 0);
    cc.onRttMeasurement(0, 1_000_000_000);
    // t = 1 s: 0.4 + 10 → 10 segments, unchanged.
    expect(cc.onTrackRebuild(1_000_000_000, false)).toBe(false);
    // t = 2 s: 3.2 + 10 → 13.
    expect(cc.onTrackRebuild(2_000_000_000, false)).toBe(true);
    expect(cc.windowLength).toBe(13_000);
  });

  it('never falls below the TCP-friendly estimate', () => {
    // Default RTT 100 µs: after 1 ms Reno would be at 8 + 3·0.2/1.8 · 10 ≈ 11.3 segments; cubic at ≈ 8.
    const cc = new CubicCongestionControl(1000, 1_000_000, 0);
    cc.onTrackRebuild(0, true);
    expect(cc.windowLength).toBe(8000);
    expect(cc.onTrackRebuild(100_000, false)).toBe(false);
    expect(cc.windowLength).toBe(8000);
    expect(cc.onTrackRebuild(1_000_000, false)).toBe(true);
    expect(cc.windowLength).toBe(11_000);
  });

  it('never grows above the max window', () => {
    const cc = new CubicCongestionControl(1000, 12_000, 0);
    cc.onTrackRebuild(0, true);
    expect(cc.windowLength).toBe(8000);
    // After 10 ms the estimate is ≈ 41 segments; the cap is 12.
    expect(cc.onTrackRebuild(10_000_000, false)).toBe(true);
    expect(cc.windowLength).toBe(12_000);
    expect(cc.onTrackRebuild(20_000_000, false)).toBe(false);
    expect(cc.onTrackRebuild(10_000_000_000, false)).toBe(false);
    expect(cc.windowLength).toBe(12_000);
    // Loss at the cap still cuts it.
    expect(cc.onTrackRebuild(10_000_000_001, true)).toBe(true);
    expect(cc.windowLength).toBe(9000);
  });

  it('does not grow when the initial window is already the max window', () => {
    const cc = new CubicCongestionControl(1000, 5000, 0);
    expect(cc.windowLength).toBe(5000);
    expect(cc.onTrackRebuild(10_000_000_000, false)).toBe(false);
    expect(cc.windowLength).toBe(5000);
  });
});

describe('CubicCongestionControl: RTT', () => {
  it('takes the first sample as is, then smooths with 7/8 of the old value', () => {
    const cc = new CubicCongestionControl(1408, 131_072, 0);
    expect(cc.rtt).toBe(100_000);
    cc.onRttMeasurement(0, 2_000_000);
    expect(cc.rtt).toBe(2_000_000);
    cc.onRttMeasurement(0, 1_000_000);
    expect(cc.rtt).toBe(1_875_000);
    cc.onRttMeasurement(0, 3_000_000);
    expect(cc.rtt).toBe(2_015_625);
  });

  it('smooths the second sample even when the first equals the initial 100 µs', () => {
    const cc = new CubicCongestionControl(1408, 131_072, 0);
    cc.onRttMeasurement(0, 100_000);
    cc.onRttMeasurement(0, 900_000);
    expect(cc.rtt).toBe(200_000);
  });

  it('ignores zero and negative samples', () => {
    const cc = new CubicCongestionControl(1408, 131_072, 0);
    cc.onRttMeasurement(0, 0);
    cc.onRttMeasurement(0, -5);
    expect(cc.rtt).toBe(100_000);
    cc.onRttMeasurement(0, 4_000_000);
    cc.onRttMeasurement(0, 0);
    expect(cc.rtt).toBe(4_000_000);
  });

  it('asks for a measurement at once, then not again for 10 ms after one is sent', () => {
    const cc = new CubicCongestionControl(1408, 131_072, 0);
    expect(cc.shouldMeasureRtt(0)).toBe(true);
    cc.onRttMeasurementSent(1_000_000);
    expect(cc.shouldMeasureRtt(1_000_000)).toBe(false);
    expect(cc.shouldMeasureRtt(11_000_000)).toBe(false);
    // No reply: the measurement is given up after 10 ms and another is due.
    expect(cc.shouldMeasureRtt(11_000_001)).toBe(true);
  });

  it('counts the interval from the send, not from the reply', () => {
    const cc = new CubicCongestionControl(1408, 131_072, 0);
    cc.onRttMeasurementSent(1_000_000);
    cc.onRttMeasurement(2_000_000, 1_000_000);
    expect(cc.shouldMeasureRtt(2_000_000)).toBe(false);
    expect(cc.shouldMeasureRtt(11_000_000)).toBe(false);
    expect(cc.shouldMeasureRtt(11_000_001)).toBe(true);
    cc.onRttMeasurementSent(11_000_001);
    expect(cc.shouldMeasureRtt(15_000_000)).toBe(false);
  });

  it('paces growth by the measured RTT', () => {
    const cc = new CubicCongestionControl(1000, 1_000_000, 0);
    cc.onRttMeasurement(0, 2_000_000);
    cc.onTrackRebuild(0, true);
    // With the default 100 µs RTT this would already have grown; with 2 ms it must wait.
    expect(cc.onTrackRebuild(1_999_999, false)).toBe(false);
    expect(cc.windowLength).toBe(8000);
    // t = 2 ms, RTT 2 ms: Reno ≈ 8.33, cubic ≈ 8.00 → 8, still unchanged.
    expect(cc.onTrackRebuild(2_000_000, false)).toBe(false);
    // t = 20 ms: Reno ≈ 8 + 10/3 ≈ 11.3.
    expect(cc.onTrackRebuild(20_000_000, false)).toBe(true);
    expect(cc.windowLength).toBe(11_000);
  });
});
