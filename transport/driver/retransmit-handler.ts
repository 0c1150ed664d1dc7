/**
 * The sender's answer to NAKs: which ranges to resend and when.
 *
 * A NAK names a term id, offset and length. The rule is that of Aeron's media driver
 * (aeron_retransmit_handler.c): a NAK whose start lies within a resend that is pending or lingering (for the
 * linger time, 10 ms, after it was sent) is ignored — it is a repeat of that loss, from this receiver or
 * another, and must not multiply the resend. Any other NAK names data the receiver still lacks:
 * - unicast keeps one resend, and such a NAK replaces it (the receiver NAKs only its first gap, so a NAK
 *   for a new range means the previous one was repaired; holding it back for the linger would stall
 *   every gap behind it for a NAK retry);
 * - multicast (group semantics) keeps up to 16 concurrent resends, one per range; a NAK beyond that is
 *   dropped and counted.
 * The range is resent after the resend delay (0: at once, for multicast too, as receivers already
 * randomise their NAKs). Whether the range is still in the term buffers is the publication's check, made
 * before the NAK reaches here.
 */

/** A resend the handler has accepted. */
interface Action {
  termId: number;
  termOffset: number;
  length: number;
  /** When to resend (pending) or when the linger ends (lingering). */
  deadlineNs: number;
  lingering: boolean;
}

/** Resends a range; the publication's sender. */
export type Resend = (termId: number, termOffset: number, length: number) => void;

/** Default limit on concurrent multicast resends, pending or lingering (Aeron's max-resend default). */
export const MAX_RETRANSMITS = 16;

/** Default linger after a resend. */
export const RETRANSMIT_LINGER_NS = 10_000_000;

/** A publication's retransmit bookkeeping. */
export class RetransmitHandler {
  private readonly actions: Action[] = [];

  constructor(
    private readonly resend: Resend,
    /** Multicast: concurrent resends up to maxActions. Unicast: one, which a new range replaces. */
    private readonly groupSemantics: boolean,
    private readonly maxActions = MAX_RETRANSMITS,
    private readonly delayNs = 0,
    private readonly lingerNs = RETRANSMIT_LINGER_NS,
  ) {}

  /** Resends pending or lingering. */
  get activeCount(): number {
    return this.actions.length;
  }

  /** Takes a NAK; returns false when it was ignored (its start within an active resend, or too many). */
  onNak(termId: number, termOffset: number, length: number, nowNs: number): boolean {
    for (const a of this.actions) {
      if (a.termId === termId && a.termOffset <= termOffset && termOffset < a.termOffset + a.length) return false;
    }
    if (!this.groupSemantics) this.actions.length = 0;
    else if (this.actions.length >= this.maxActions) return false;
    if (this.delayNs <= 0) {
      this.resend(termId, termOffset, length);
      this.actions.push({ termId, termOffset, length, deadlineNs: nowNs + this.lingerNs, lingering: true });
    } else {
      this.actions.push({ termId, termOffset, length, deadlineNs: nowNs + this.delayNs, lingering: false });
    }
    return true;
  }

  /** Runs due resends and ends expired lingers. */
  onTimer(nowNs: number): void {
    for (let i = 0; i < this.actions.length;) {
      const a = this.actions[i]!;
      if (nowNs < a.deadlineNs) {
        i++;
        continue;
      }
      if (a.lingering) {
        this.actions.splice(i, 1);
        continue;
      }
      this.resend(a.termId, a.termOffset, a.length);
      a.lingering = true;
      a.deadlineNs = nowNs + this.lingerNs;
      i++;
    }
  }
}
