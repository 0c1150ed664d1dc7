/**
 * Congestion control, on the receiving side as in Aeron: it sets the window an image grants in its status
 * messages.
 * - static (default): a fixed window, min(receiver window, term_length / 2).
 * - cubic: the window is a congestion window of MTU-sized segments following CUBIC (RFC 8312): it starts at
 *   10 MTUs; on loss W_max = cwnd, cwnd ×= (1 − β) and a status message is sent at once; otherwise, once per
 *   RTT, cwnd = C·(t − K)³ + W_max with t the time since the last loss and K = ∛(W_max·β / C), never below
 *   the TCP-friendly estimate, and never above the static window. C = 0.4, β = 0.2. The RTT comes from RTTM
 *   exchanges the image starts (`shouldMeasureRtt`).
 */

/** The window policy of one image. */
export interface CongestionControl {
  /** The window to grant now. */
  readonly windowLength: number;
  /** Whether an RTT measurement should be sent now. */
  shouldMeasureRtt(nowNs: number): boolean;
  /** An RTT measurement was sent at `nowNs`. */
  onRttMeasurementSent(nowNs: number): void;
  /** An RTT measurement came back. */
  onRttMeasurement(nowNs: number, rttNs: number): void;
  /**
   * Called whenever the image tracks its rebuild position; `lossOccurred` is true when a new gap was found.
   * Returns true when a status message should be sent at once (the window changed).
   */
  onTrackRebuild(nowNs: number, lossOccurred: boolean): boolean;
}

/** The largest window an image grants: the receiver window, at most half a term. */
export function staticWindow(receiverWindow: number, termLength: number): number {
  return Math.min(receiverWindow, termLength / 2);
}

/** A fixed window. */
export class StaticCongestionControl implements CongestionControl {
  constructor(readonly windowLength: number) {}

  shouldMeasureRtt(): boolean {
    return false;
  }

  onRttMeasurementSent(): void {}

  onRttMeasurement(): void {}

  onTrackRebuild(): boolean {
    return false;
  }
}

const C = 0.4;
const B = 0.2;
const INITIAL_CWND = 10;
/** RTT assumed before the first measurement, and how often RTT is measured at most. */
const INITIAL_RTT_NS = 100_000;
const RTT_MEASUREMENT_INTERVAL_NS = 10_000_000;
const RTT_MEASUREMENT_TIMEOUT_NS = 10_000_000;

/** CUBIC over a window of MTU-sized segments. */
export class CubicCongestionControl implements CongestionControl {
  private readonly maxCwnd: number;
  private cwnd = INITIAL_CWND;
  private wMax = INITIAL_CWND;
  private k = 0;
  private lastLossNs: number;
  private lastUpdateNs: number;
  private rttNs = INITIAL_RTT_NS;
  private rttMeasured = false;
  private rttInFlight = false;
  private lastRttSentNs = -Infinity;

  constructor(
    private readonly mtu: number,
    maxWindow: number,
    nowNs: number,
  ) {
    this.maxCwnd = Math.max(1, Math.floor(maxWindow / mtu));
    this.cwnd = Math.min(INITIAL_CWND, this.maxCwnd);
    this.lastLossNs = nowNs;
    this.lastUpdateNs = nowNs;
  }

  get windowLength(): number {
    return this.cwnd * this.mtu;
  }

  /** The smoothed RTT in ns. */
  get rtt(): number {
    return this.rttNs;
  }

  shouldMeasureRtt(nowNs: number): boolean {
    if (this.rttInFlight) return nowNs - this.lastRttSentNs > RTT_MEASUREMENT_TIMEOUT_NS;
    return nowNs - this.lastRttSentNs > RTT_MEASUREMENT_INTERVAL_NS;
  }

  onRttMeasurementSent(nowNs: number): void {
    this.rttInFlight = true;
    this.lastRttSentNs = nowNs;
  }

  onRttMeasurement(_nowNs: number, rttNs: number): void {
    this.rttInFlight = false;
    if (rttNs <= 0) return;
    // A flag, not a comparison with INITIAL_RTT_NS, which a smoothed RTT can equal.
    this.rttNs = this.rttMeasured ? (7 * this.rttNs + rttNs) / 8 : rttNs;
    this.rttMeasured = true;
  }

  onTrackRebuild(nowNs: number, lossOccurred: boolean): boolean {
    if (lossOccurred) {
      this.wMax = this.cwnd;
      this.k = Math.cbrt((this.wMax * B) / C);
      this.cwnd = Math.max(1, Math.floor(this.cwnd * (1 - B)));
      this.lastLossNs = nowNs;
      this.lastUpdateNs = nowNs;
      return true;
    }
    if (this.cwnd >= this.maxCwnd || nowNs - this.lastUpdateNs < this.rttNs) return false;
    const t = (nowNs - this.lastLossNs) / 1e9;
    const cubic = C * (t - this.k) ** 3 + this.wMax;
    // TCP-friendly region (RFC 8312 §4.2): the window Reno would have reached since the loss.
    const rttS = this.rttNs / 1e9;
    const reno = this.wMax * (1 - B) + ((3 * B) / (2 - B)) * (t / rttS);
    const next = Math.min(this.maxCwnd, Math.max(1, Math.floor(Math.max(cubic, reno))));
    this.lastUpdateNs = nowNs;
    if (next === this.cwnd) return false;
    this.cwnd = next;
    return true;
  }
}
