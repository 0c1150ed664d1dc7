/**
 * Reassembly of fragmented messages on the subscriber side of ffnet's reliable transport.
 *
 * A message larger than one frame arrives as fragments flagged BEGIN (first), none (middle) and END (last);
 * a whole message in one frame carries both (0xC0). Fragments of one image arrive here in stream order, so
 * one reassembly buffer per image suffices. It grows on demand up to the largest message the log allows
 * (min(term_length / 8, 16 MiB)); a message that would exceed it, or fragments without their BEGIN (an image
 * joined mid-message), are dropped and counted, never thrown.
 */
import { Flags } from './layout.js';

/** Joins fragments into whole messages. */
export class FragmentAssembler {
  /** Upper bound on a reassembled message. */
  readonly maxMessageLength: number;
  /** Messages dropped: over the length bound, or missing their first fragment. */
  dropped = 0;
  private buffer: Uint8Array;
  private length = 0;
  private assembling = false;

  constructor(maxMessageLength: number, initialCapacity = 4096) {
    this.maxMessageLength = maxMessageLength;
    this.buffer = new Uint8Array(Math.min(initialCapacity, maxMessageLength));
  }

  /** True while a message's BEGIN has been seen and its END has not. */
  get inProgress(): boolean {
    return this.assembling;
  }

  /**
   * Takes one fragment's payload and flags. Returns the whole message when this fragment completes one, else
   * null. An unfragmented payload is returned as is; a reassembled one is a view of the reassembly buffer,
   * valid until the next call.
   */
  onFragment(payload: Uint8Array, flags: number): Uint8Array | null {
    const begin = (flags & Flags.BEGIN) !== 0;
    const end = (flags & Flags.END) !== 0;
    if (begin && end) {
      if (this.assembling) this.discard();
      return payload;
    }
    if (begin) {
      if (this.assembling) this.discard();
      this.assembling = true;
      this.length = 0;
    } else if (!this.assembling) {
      if (end) this.dropped++;
      return null;
    }
    if (this.length + payload.length > this.maxMessageLength) {
      this.discard();
      return null;
    }
    this.ensureCapacity(this.length + payload.length);
    this.buffer.set(payload, this.length);
    this.length += payload.length;
    if (!end) return null;
    this.assembling = false;
    return this.buffer.subarray(0, this.length);
  }

  /** Abandons a partly assembled message. */
  reset(): void {
    this.assembling = false;
    this.length = 0;
  }

  private discard(): void {
    this.dropped++;
    this.reset();
  }

  private ensureCapacity(required: number): void {
    if (required <= this.buffer.length) return;
    let capacity = this.buffer.length * 2 || 64;
    while (capacity < required) capacity *= 2;
    const grown = new Uint8Array(Math.min(capacity, this.maxMessageLength));
    grown.set(this.buffer.subarray(0, this.length));
    this.buffer = grown;
  }
}
