/**
 * Shared pieces of the transport's end-to-end tests: checkable messages, a publisher loop that honours
 * back pressure, a subscriber that verifies exactly-once in-order delivery, and bounded waits.
 */
import type { Publication, Subscription } from '../../transport/index.js';
import { PublicationResult } from '../../transport/index.js';
import { seededRandom } from '../../testbed/random.js';

/** A message for sequence number `seq`: [seq u32][length u32][bytes (seq + i) & 0xff]. */
export function makeMessage(seq: number, length: number): Buffer {
  const m = Buffer.alloc(Math.max(8, length));
  m.writeUInt32LE(seq, 0);
  m.writeUInt32LE(m.length, 4);
  for (let i = 8; i < m.length; i++) m[i] = (seq + i) & 0xff;
  return m;
}

/** Checks a received message's framing and pattern; returns its sequence number, or an error string. */
export function checkMessage(m: Uint8Array): number | string {
  if (m.length < 8) return `message of ${m.length} bytes`;
  const v = new DataView(m.buffer, m.byteOffset, m.byteLength);
  const seq = v.getUint32(0, true);
  if (v.getUint32(4, true) !== m.length) return `message ${seq}: length ${m.length}, header says ${v.getUint32(4, true)}`;
  for (let i = 8; i < m.length; i++) if (m[i] !== ((seq + i) & 0xff)) return `message ${seq}: byte ${i} corrupt`;
  return seq;
}

/** Message lengths from a seeded generator: mostly small, some fragmented (up to `max`). */
export function messageLengths(count: number, seed: number, max: number): number[] {
  const random = seededRandom(seed);
  return Array.from({ length: count }, () => {
    const r = random();
    if (r < 0.8) return 8 + Math.floor(random() * 200);
    if (r < 0.97) return 8 + Math.floor(random() * 4000);
    return Math.min(max, 8 + Math.floor(random() * max));
  });
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Polls `cond` every 5 ms until it holds or `ms` pass; returns whether it held. */
export async function waitFor(cond: () => boolean, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) return false;
    await sleep(5);
  }
  return true;
}

/** Offers every message in order, yielding on back pressure; rejects after `ms`. */
export async function publishAll(pub: Publication, messages: readonly Uint8Array[], ms: number): Promise<void> {
  const end = Date.now() + ms;
  let i = 0;
  while (i < messages.length) {
    const r = pub.offer(messages[i]!);
    if (r > 0) {
      i++;
      continue;
    }
    if (r === PublicationResult.ADMIN_ACTION) continue;
    if (r === PublicationResult.CLOSED || r === PublicationResult.MAX_POSITION_EXCEEDED) throw new Error(`offer of message ${i}: ${r}`);
    if (Date.now() > end) throw new Error(`published ${i} of ${messages.length} messages in ${ms} ms (last result ${r})`);
    await new Promise((resolve) => setImmediate(resolve));
  }
}

/** What a {@link collect} subscriber saw. */
export interface Received {
  /** Sequence numbers in delivery order, per session id. */
  bySession: Map<number, number[]>;
  errors: string[];
  total: number;
}

/** Drains `sub` on every 'readable' (and on a 5 ms timer, for safety) and records what arrives. */
export function collect(sub: Subscription, options: { fragmentLimit?: number; slowMs?: number } = {}): Received & { stop(): void } {
  const received: Received = { bySession: new Map(), errors: [], total: 0 };
  const handler = (m: Uint8Array, h: { sessionId: number }): void => {
    const seq = checkMessage(m);
    if (typeof seq === 'string') {
      received.errors.push(seq);
      return;
    }
    let list = received.bySession.get(h.sessionId);
    if (list === undefined) received.bySession.set(h.sessionId, (list = []));
    list.push(seq);
    received.total++;
  };
  const limit = options.fragmentLimit ?? 256;
  const drain = (): void => {
    while (sub.poll(handler, limit) > 0) {
      // keep reading
    }
  };
  let timer: NodeJS.Timeout;
  if (options.slowMs !== undefined) {
    // A slow consumer: one poll of `limit` fragments per tick.
    timer = setInterval(() => sub.poll(handler, limit), options.slowMs);
  } else {
    sub.on('readable', drain);
    timer = setInterval(drain, 5);
  }
  return Object.assign(received, {
    stop: () => {
      clearInterval(timer);
      sub.off('readable', drain);
    },
  });
}

/** Problems with `seqs` as an exactly-once, in-order delivery of 0..count−1 (empty when fine). */
export function sequenceProblems(seqs: readonly number[] | undefined, count: number): string[] {
  const problems: string[] = [];
  if (seqs === undefined) return [`no messages (expected ${count})`];
  if (seqs.length !== count) problems.push(`${seqs.length} messages, expected ${count}`);
  for (let i = 0; i < seqs.length; i++) {
    if (seqs[i] !== i) {
      problems.push(`position ${i} holds message ${seqs[i]}`);
      break;
    }
  }
  return problems;
}
