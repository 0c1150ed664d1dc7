/**
 * Sender flow control: how far a publication may send, from the status messages its receivers send.
 *
 * A status message is a window, not an acknowledgement: a receiver at consumption position P granting window
 * W lets the sender go up to P + W. Every strategy tracks the receivers it has heard from (by receiver id)
 * so that a publication knows whether it is connected and when its linger may end; they differ in whose
 * grant sets the limit:
 * - unicast: the latest grant (one receiver socket sits behind a unicast endpoint);
 * - max (multicast default): the fastest receiver; slower ones recover by NAK or are left behind;
 * - min: the slowest receiver that is still alive; a receiver silent for the receiver timeout (5 s) drops out;
 * - tagged: the slowest of the receivers whose SMs carry the group tag (others are tracked but not
 *   waited for); without a tag in `fc=`, like min.
 * With a minimum group size (`g:/N`, `g:TAG/N`) a publication counts as connected only once N receivers
 * (of the group, for tagged) are present, and the limit does not move before that. An SM with the EOS
 * flag removes its receiver at once. The limit never moves backwards.
 */
import type { FlowControl as FlowControlSpec } from '../wire/channel.js';

/** What a status message tells the sender, with its consumption position already computed. */
export interface WindowGrant {
  receiverId: bigint;
  /** Consumption position of the receiver. */
  position: number;
  /** Receiver window in bytes. */
  window: number;
  groupTag?: bigint;
  /** The receiver is closing its image. */
  eos: boolean;
}

interface Receiver {
  limit: number;
  /** Highest consumption position the receiver has reported. */
  position: number;
  lastSeenNs: number;
  inGroup: boolean;
}

/** A publication's flow control. */
export class FlowControl {
  /** Multiple of the receiver window a single resend may cover: 4 under max, 16 otherwise. */
  readonly retransmitWindowMultiple: number;
  private readonly receivers = new Map<bigint, Receiver>();
  private readonly groupTag: bigint | undefined;
  private readonly groupMinSize: number;
  private readonly receiverTimeoutNs: number;
  /** Largest window any receiver granted; caps resends. */
  private maxWindow = 0;

  constructor(
    readonly strategy: 'unicast' | FlowControlSpec['strategy'],
    spec: FlowControlSpec | undefined,
    receiverTimeoutNs: number,
  ) {
    this.retransmitWindowMultiple = strategy === 'max' ? 4 : 16;
    this.groupTag = strategy === 'tagged' ? spec?.groupTag : undefined;
    this.groupMinSize = spec?.groupMinSize ?? 0;
    this.receiverTimeoutNs = receiverTimeoutNs;
  }

  /** Receivers heard from within the receiver timeout and not closed. */
  get receiverCount(): number {
    return this.receivers.size;
  }

  /** The largest window a receiver has granted (0 before the first SM). */
  get maxReceiverWindow(): number {
    return this.maxWindow;
  }

  /** True when the receivers present satisfy the strategy (at least one, and the minimum group size). */
  get hasRequiredReceivers(): boolean {
    if (this.receivers.size === 0) return false;
    return this.groupSize() >= this.groupMinSize;
  }

  /** Takes a grant and returns the new sender limit (never below `senderLimit`). */
  onStatusMessage(grant: WindowGrant, senderLimit: number, nowNs: number): number {
    if (grant.eos) {
      // The closing receiver no longer bounds the limit under min/tagged: recompute without it.
      if (!this.receivers.delete(grant.receiverId) || this.strategy === 'unicast') return senderLimit;
      return this.computeLimit(senderLimit);
    }
    const limit = grant.position + grant.window;
    if (grant.window > this.maxWindow) this.maxWindow = grant.window;
    const inGroup = this.strategy !== 'tagged' || this.groupTag === undefined || grant.groupTag === this.groupTag;
    const known = this.receivers.get(grant.receiverId);
    if (known) {
      known.limit = Math.max(known.limit, limit);
      known.position = Math.max(known.position, grant.position);
      known.lastSeenNs = nowNs;
      known.inGroup = inGroup;
    } else {
      this.receivers.set(grant.receiverId, { limit, position: grant.position, lastSeenNs: nowNs, inGroup });
    }
    if (this.strategy === 'unicast') return Math.max(senderLimit, limit);
    return this.computeLimit(senderLimit);
  }

  /** Drops receivers silent for the receiver timeout; returns the (possibly unchanged) sender limit. */
  onIdle(nowNs: number, senderLimit: number): number {
    let dropped = false;
    for (const [id, r] of this.receivers) {
      if (nowNs - r.lastSeenNs > this.receiverTimeoutNs) {
        this.receivers.delete(id);
        dropped = true;
      }
    }
    return dropped && this.strategy !== 'unicast' ? this.computeLimit(senderLimit) : senderLimit;
  }

  /** True when every receiver present has granted up to at least `position` (consumed everything before it). */
  allReceiversReached(position: number): boolean {
    // Not limit − window: the limit only grows while the window can shrink, which would overstate the position.
    for (const r of this.receivers.values()) if (r.position < position) return false;
    return true;
  }

  private groupSize(): number {
    if (this.strategy !== 'tagged') return this.receivers.size;
    let n = 0;
    for (const r of this.receivers.values()) if (r.inGroup) n++;
    return n;
  }

  private computeLimit(senderLimit: number): number {
    if (!this.hasRequiredReceivers) return senderLimit;
    let limit = this.strategy === 'max' ? -Infinity : Infinity;
    for (const r of this.receivers.values()) {
      if (this.strategy === 'max') limit = Math.max(limit, r.limit);
      else if (r.inGroup) limit = Math.min(limit, r.limit);
    }
    return Number.isFinite(limit) ? Math.max(senderLimit, limit) : senderLimit;
  }
}
