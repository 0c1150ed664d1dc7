/**
 * NAK timing on the receiving side: when a gap in an image is first NAKed and how often the NAK repeats.
 *
 * The image scans for the first gap between its rebuild position and its high-water mark. A gap not seen
 * before arms a timer with a delay from the delay generator; when the timer expires and the gap is still
 * there, a NAK goes out and the timer re-arms with the retry interval. A gap that is filled, or a new first
 * gap, resets it. Unicast uses a fixed tiny delay and a fixed retry interval; multicast a random delay from
 * a truncated exponential distribution over a maximum backoff (Nonnenmacher & Biersack's timer, as Aeron's
 * driver uses for a group of 10), drawn afresh for each repeat as well (Aeron's multicast generator ignores
 * its retry flag), so that receivers missing the same data do not all NAK, or repeat, at once.
 */
import type { Gap } from '../log/term-reader.js';

/** Produces NAK delays in ns. */
export interface DelayGenerator {
  /** Delay before the first NAK for a new gap. */
  next(): number;
  /** Delay before the next repeat of a NAK while the gap remains. */
  retry(): number;
}

/** Unicast: a fixed delay. */
export class StaticDelayGenerator implements DelayGenerator {
  constructor(
    readonly delayNs: number,
    readonly retryNs: number,
  ) {}

  next(): number {
    return this.delayNs;
  }

  retry(): number {
    return this.retryNs;
  }
}

/**
 * Multicast: delays in [0, maxBackoff) with density rising towards maxBackoff, λ = ln(groupSize) + 1:
 * delay = maxBackoff · ln(1 + u·(e^λ − 1)) / λ for u uniform in [0, 1).
 */
export class OptimalMulticastDelayGenerator implements DelayGenerator {
  private readonly lambda: number;
  private readonly scale: number;

  constructor(
    readonly maxBackoffNs: number,
    groupSize: number,
    private readonly random: () => number = Math.random,
  ) {
    this.lambda = Math.log(groupSize) + 1;
    this.scale = Math.exp(this.lambda) - 1;
  }

  next(): number {
    return (this.maxBackoffNs * Math.log(1 + this.random() * this.scale)) / this.lambda;
  }

  retry(): number {
    return this.next();
  }
}

/** Unicast defaults: first NAK after 100 µs, repeated every 10 ms (100 × the delay). */
export const UNICAST_NAK_DELAY_NS = 100_000;
export const UNICAST_NAK_RETRY_NS = 10_000_000;
/** Multicast defaults: random backoff up to 10 ms for a group of 10, before the first NAK and each repeat. */
export const MULTICAST_NAK_MAX_BACKOFF_NS = 10_000_000;
export const MULTICAST_NAK_GROUP_SIZE = 10;

/** Bits of {@link LossDetector.track}'s result. */
export const LossEvent = {
  /** A gap not tracked before: a loss event for congestion control. */
  NEW_GAP: 1,
  /** A NAK for the tracked gap is due now. */
  SEND_NAK: 2,
} as const;

/** Tracks an image's first gap and says when to NAK it. */
export class LossDetector {
  private active: Gap | null = null;
  private expiryNs = 0;

  constructor(private readonly delays: DelayGenerator) {}

  /** The gap being tracked, if any. */
  get gap(): Readonly<Gap> | null {
    return this.active;
  }

  /** The time the tracked gap's timer expires (meaningless without a gap). */
  get deadlineNs(): number {
    return this.expiryNs;
  }

  /**
   * Takes the image's current first gap (or null) and returns {@link LossEvent} bits: NEW_GAP when the gap
   * was not tracked before, SEND_NAK when a NAK for it is due now (the timer then re-arms with the retry
   * interval); 0 otherwise.
   */
  track(gap: Gap | null, nowNs: number): number {
    if (gap === null) {
      this.active = null;
      return 0;
    }
    const a = this.active;
    let events = 0;
    if (a === null || a.termId !== gap.termId || a.termOffset !== gap.termOffset) {
      this.active = { ...gap };
      this.expiryNs = nowNs + this.delays.next();
      events = LossEvent.NEW_GAP;
    } else {
      a.length = gap.length;
    }
    if (nowNs < this.expiryNs) return events;
    this.expiryNs = nowNs + this.delays.retry();
    return events | LossEvent.SEND_NAK;
  }
}
