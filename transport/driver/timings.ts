/**
 * The transport's timers, in ns, with the defaults of Aeron's media driver. Tests shorten them through
 * TransportOptions; the protocol needs only that they keep their order (heartbeat < receiver timeout <
 * image liveness).
 */
import { MULTICAST_NAK_MAX_BACKOFF_NS, UNICAST_NAK_DELAY_NS, UNICAST_NAK_RETRY_NS } from './loss-detector.js';
import { RETRANSMIT_LINGER_NS } from './retransmit-handler.js';

/** Every interval and timeout the protocol uses. */
export interface TransportTimings {
  /** SETUP repeat until a status message arrives. */
  setupIntervalNs: number;
  /** Heartbeat after this long without data. */
  heartbeatIntervalNs: number;
  /** Status message repeat when nothing else triggers one. */
  statusMessageIntervalNs: number;
  /** A receiver silent this long stops counting for flow control (the publication's connection timeout). */
  receiverTimeoutNs: number;
  /** An image whose publication is silent this long ends. */
  imageLivenessNs: number;
  /** The longest a closing publication drains and sends EOS. */
  lingerNs: number;
  /** How long a resend blocks resends of overlapping ranges. */
  retransmitLingerNs: number;
  /** Unicast NAK delay and repeat interval. */
  nakDelayNs: number;
  nakRetryNs: number;
  /** Multicast NAK backoff: random delay up to this before the first NAK and each repeat. */
  nakMulticastMaxBackoffNs: number;
}

/** The same timers in milliseconds, as TransportOptions takes them. */
export type TimingOptions = { [K in keyof TransportTimings as K extends `${infer N}Ns` ? `${N}Ms` : never]?: number };

const MS = 1_000_000;

/** Aeron's driver defaults. */
export const DEFAULT_TIMINGS: Readonly<TransportTimings> = Object.freeze({
  setupIntervalNs: 100 * MS,
  heartbeatIntervalNs: 100 * MS,
  statusMessageIntervalNs: 200 * MS,
  receiverTimeoutNs: 5000 * MS,
  imageLivenessNs: 10_000 * MS,
  lingerNs: 5000 * MS,
  retransmitLingerNs: RETRANSMIT_LINGER_NS,
  nakDelayNs: UNICAST_NAK_DELAY_NS,
  nakRetryNs: UNICAST_NAK_RETRY_NS,
  nakMulticastMaxBackoffNs: MULTICAST_NAK_MAX_BACKOFF_NS,
});

/** Timings from options in ms over the defaults; throws a RangeError naming a bad option. */
export function resolveTimings(options: TimingOptions = {}): TransportTimings {
  const out = { ...DEFAULT_TIMINGS };
  for (const key of Object.keys(DEFAULT_TIMINGS) as (keyof TransportTimings)[]) {
    const option = `${key.slice(0, -2)}Ms` as keyof TimingOptions;
    const value = options[option];
    if (value === undefined) continue;
    if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || value > 3_600_000) {
      throw new RangeError(`${option} must be a number of milliseconds in 0–3600000, got ${String(value)}`);
    }
    out[key] = value * MS;
  }
  return out;
}
