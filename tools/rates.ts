/**
 * Counter rates for the tools that refresh (netstat -w, top): the change of the stack's counters
 * between two readings, per second, rounded to one decimal.
 */
import { delta, drops } from './counters.js';

/** The change between two readings of a set of counters, and its rates per second. */
export interface CounterRates {
  /** Each counter's change. */
  delta: Record<string, number>;
  /** A counter's change per second (0 for a counter the readings lack). */
  per(name: string): number;
  /** Every drop counter's change together, per second. */
  drops: number;
}

/** The rates of the counters from `before` to `after`, `seconds` apart. */
export function counterRates(before: Record<string, number>, after: Record<string, number>, seconds: number): CounterRates {
  const d = delta(before, after);
  const per = (n: number) => Math.round((n / seconds) * 10) / 10;
  return { delta: d, per: (name) => per(d[name] ?? 0), drops: per(drops(d)) };
}
