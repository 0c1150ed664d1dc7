/**
 * The sender's answer to NAKs: which ranges to resend and when.
 *
 * A NAK names a term id, offset and length. The handler ignores one that overlaps a resend that is pending
 * or lingering (for the linger time, 10 ms, after it was sent: the NAKs other receivers sent for the same
 * loss, and repeats already in flight, must not multiply the resend), and one beyond the number of
 * concurrent resends (1 for unicast, 16 for multicast). Otherwise the range is resent after the resend delay
 * (0 for unicast: at once; multicast: the same, as receivers already randomise their NAKs). Whether the range
 * is still in the term buffers is the publication's check, made before the NAK reaches here.
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

/** Default linger after a resend. */
export const RETRANSMIT_LINGER_NS = 10_000_000;

/** A publication's retransmit bookkeeping. */
export class RetransmitHandler {
  private readonly actions: Action[] = [];

  constructor(
    private readonly resend: Resend,
    private readonly maxActions: number,
    private readonly delayNs = 0,
    private readonly lingerNs = RETRANSMIT_LINGER_NS,
  ) {}

  /** Resends pending or lingering. */
  get activeCount(): number {
    return this.actions.length;
  }

  /** Takes a NAK; returns false when it was ignored (overlap or too many resends in progress). */
  onNak(termId: number, termOffset: number, length: number, nowNs: number): boolean {
    for (const a of this.actions) {
      if (a.termId === termId && termOffset < a.termOffset + a.length && a.termOffset < termOffset + length) return false;
    }
    if (this.actions.length >= this.maxActions) return false;
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
