/**
 * Transport timers of transport/driver: the driver defaults, options in ms converted to ns over them, and
 * the RangeError that names a bad option.
 */
import { describe, expect, it } from 'vitest';
import { DEFAULT_TIMINGS, resolveTimings, type TimingOptions } from '../../transport/driver/timings.js';

const DEFAULTS = {
  setupIntervalNs: 100_000_000,
  heartbeatIntervalNs: 100_000_000,
  statusMessageIntervalNs: 200_000_000,
  receiverTimeoutNs: 5_000_000_000,
  imageLivenessNs: 10_000_000_000,
  lingerNs: 5_000_000_000,
  retransmitLingerNs: 10_000_000,
  nakDelayNs: 100_000,
  nakRetryNs: 10_000_000,
  nakMulticastMaxBackoffNs: 10_000_000,
};

const OPTIONS = [
  'setupIntervalMs',
  'heartbeatIntervalMs',
  'statusMessageIntervalMs',
  'receiverTimeoutMs',
  'imageLivenessMs',
  'lingerMs',
  'retransmitLingerMs',
  'nakDelayMs',
  'nakRetryMs',
  'nakMulticastMaxBackoffMs',
] as const;

describe('resolveTimings', () => {
  it('has Aeron’s driver defaults', () => {
    expect(DEFAULT_TIMINGS).toEqual(DEFAULTS);
    expect(resolveTimings()).toEqual(DEFAULTS);
    expect(resolveTimings({})).toEqual(DEFAULTS);
  });

  it('keeps the protocol’s order: heartbeat < receiver timeout < image liveness', () => {
    const t = resolveTimings();
    expect(t.heartbeatIntervalNs).toBeLessThan(t.receiverTimeoutNs);
    expect(t.receiverTimeoutNs).toBeLessThan(t.imageLivenessNs);
  });

  it('returns a fresh object and leaves the frozen defaults alone', () => {
    const t = resolveTimings({ heartbeatIntervalMs: 1 });
    expect(t).not.toBe(DEFAULT_TIMINGS);
    t.lingerNs = 1;
    expect(Object.isFrozen(DEFAULT_TIMINGS)).toBe(true);
    expect(DEFAULT_TIMINGS.lingerNs).toBe(5_000_000_000);
    expect(DEFAULT_TIMINGS.heartbeatIntervalNs).toBe(100_000_000);
  });

  it('converts each option from ms to ns and keeps the other defaults', () => {
    const t = resolveTimings({ heartbeatIntervalMs: 5, receiverTimeoutMs: 250, imageLivenessMs: 1000 });
    expect(t).toEqual({ ...DEFAULTS, heartbeatIntervalNs: 5_000_000, receiverTimeoutNs: 250_000_000, imageLivenessNs: 1_000_000_000 });
  });

  it('maps every option to its own timer', () => {
    const options: TimingOptions = {};
    OPTIONS.forEach((name, i) => {
      options[name] = i + 1;
    });
    expect(resolveTimings(options)).toEqual({
      setupIntervalNs: 1_000_000,
      heartbeatIntervalNs: 2_000_000,
      statusMessageIntervalNs: 3_000_000,
      receiverTimeoutNs: 4_000_000,
      imageLivenessNs: 5_000_000,
      lingerNs: 6_000_000,
      retransmitLingerNs: 7_000_000,
      nakDelayNs: 8_000_000,
      nakRetryNs: 9_000_000,
      nakMulticastMaxBackoffNs: 10_000_000,
    });
  });

  it('takes fractions of a millisecond and the bounds 0 and 3 600 000', () => {
    expect(resolveTimings({ nakDelayMs: 0.001 }).nakDelayNs).toBe(1000);
    expect(resolveTimings({ nakDelayMs: 0.1 }).nakDelayNs).toBe(100_000);
    expect(resolveTimings({ retransmitLingerMs: 2.5 }).retransmitLingerNs).toBe(2_500_000);
    expect(resolveTimings({ nakDelayMs: 0 }).nakDelayNs).toBe(0);
    expect(resolveTimings({ lingerMs: 3_600_000 }).lingerNs).toBe(3_600_000_000_000);
  });

  it('treats an option set to undefined as absent', () => {
    expect(resolveTimings({ heartbeatIntervalMs: undefined }).heartbeatIntervalNs).toBe(100_000_000);
  });

  it('throws a RangeError naming the option for out-of-range or non-numeric values', () => {
    const bad: unknown[] = [-1, -0.001, 3_600_001, Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, '5', null, 5n];
    for (const name of OPTIONS) {
      for (const value of bad) {
        const options = { [name]: value } as TimingOptions;
        expect(() => resolveTimings(options), `${name}=${String(value)}`).toThrow(RangeError);
        expect(() => resolveTimings(options), `${name}=${String(value)}`).toThrow(new RegExp(`^${name} must be a number of milliseconds`));
      }
    }
  });

  it('shows the bad value in the message', () => {
    expect(() => resolveTimings({ heartbeatIntervalMs: -5 })).toThrow('heartbeatIntervalMs must be a number of milliseconds in 0–3600000, got -5');
    expect(() => resolveTimings({ lingerMs: 4_000_000 })).toThrow('got 4000000');
  });

  it('rejects a bad option even when the others are valid', () => {
    expect(() => resolveTimings({ heartbeatIntervalMs: 5, nakRetryMs: -1 })).toThrow(/^nakRetryMs /);
  });
});
