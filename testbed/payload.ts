/**
 * Datagram payloads of the test bench, shared by both ends of a test: the stack process
 * (stack-host.ts), the kernel-side UDP process (kernel-udp-host.ts) and the suites themselves.
 *
 * A payload is generated from (pattern, size, seq), so a receiver can check what it got without the
 * sender shipping the bytes: compare SHA-1s, or, for the `seq` pattern, read the sequence number and
 * verify every byte after it.
 *
 * Patterns:
 *   - `zero`: all zero bytes;
 *   - `counter`: byte i is i & 255;
 *   - `seq`: bytes 0..3 are seq (big-endian uint32; fewer when size < 4), byte i ≥ 4 is (seq + i) & 255;
 *   - `random`: a deterministic xorshift stream seeded by seq (different for each seq, the same on both ends).
 *
 * Wire encoding of bytes in JSON: `{ "hex": "..." }` or `{ "base64": "..." }`.
 */
import { createHash } from 'node:crypto';

export type PayloadPattern = 'zero' | 'counter' | 'seq' | 'random';

export const PATTERNS: readonly PayloadPattern[] = ['zero', 'counter', 'seq', 'random'];

/** A received datagram as the bench reports it. */
export interface DatagramInfo {
  /** Its length in bytes. */
  length: number;
  /** Source address and port. */
  address: string;
  port: number;
  /** SHA-1 of its bytes, hex. */
  sha1: string;
  /** The bytes themselves, hex, for datagrams of at most `smallBytes` (default 64). */
  hex?: string;
}

/** Bytes as they travel in JSON. */
export type WireBytes = { hex: string } | { base64: string };

/** Whether `v` is a `{hex}` or `{base64}` object (and nothing else). */
export function isWireBytes(v: unknown): v is WireBytes {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return false;
  const keys = Object.keys(v);
  if (keys.length !== 1) return false;
  const o = v as Record<string, unknown>;
  return (keys[0] === 'hex' && typeof o.hex === 'string') || (keys[0] === 'base64' && typeof o.base64 === 'string');
}

/** Decodes `{hex}` / `{base64}`; throws a TypeError on a malformed hex string. */
export function fromWire(v: WireBytes): Uint8Array {
  if ('hex' in v) {
    if (!/^(?:[0-9a-fA-F]{2})*$/.test(v.hex)) throw new TypeError('hex bytes must be an even-length hex string');
    return new Uint8Array(Buffer.from(v.hex, 'hex'));
  }
  return new Uint8Array(Buffer.from(v.base64, 'base64'));
}

/** Encodes bytes for JSON: hex up to 4 KiB (readable in failures), base64 above. */
export function toWire(b: Uint8Array): WireBytes {
  const buf = Buffer.from(b.buffer, b.byteOffset, b.byteLength);
  return b.byteLength <= 4096 ? { hex: buf.toString('hex') } : { base64: buf.toString('base64') };
}

export function sha1Hex(b: Uint8Array): string {
  return createHash('sha1').update(b).digest('hex');
}

/** Fills `out` with pattern bytes for sequence number `seq`. */
export function fillPayload(out: Uint8Array, pattern: PayloadPattern, seq: number): Uint8Array {
  const n = out.length;
  switch (pattern) {
    case 'zero':
      out.fill(0);
      break;
    case 'counter':
      for (let i = 0; i < n; i++) out[i] = i & 255;
      break;
    case 'seq': {
      const s = seq >>> 0;
      const head = [(s >>> 24) & 255, (s >>> 16) & 255, (s >>> 8) & 255, s & 255];
      for (let i = 0; i < n && i < 4; i++) out[i] = head[i] as number;
      for (let i = 4; i < n; i++) out[i] = (s + i) & 255;
      break;
    }
    case 'random': {
      let x = (seq * 2654435761 + 0x9e3779b9) >>> 0 || 1;
      for (let i = 0; i < n; i++) {
        x ^= x << 13;
        x >>>= 0;
        x ^= x >>> 17;
        x ^= x << 5;
        x >>>= 0;
        out[i] = x & 255;
      }
      break;
    }
    default:
      throw new TypeError(`unknown payload pattern ${JSON.stringify(pattern)}`);
  }
  return out;
}

/** A fresh payload of `size` bytes. */
export function payload(pattern: PayloadPattern, size: number, seq = 0): Uint8Array {
  return fillPayload(new Uint8Array(size), pattern, seq);
}

/** Checks a `seq` payload: its sequence number, or -1 when it is shorter than 4 bytes or a byte is wrong. */
export function checkSeqPayload(b: Uint8Array): number {
  if (b.length < 4) return -1;
  const s = (((b[0] as number) << 24) | ((b[1] as number) << 16) | ((b[2] as number) << 8) | (b[3] as number)) >>> 0;
  for (let i = 4; i < b.length; i++) if (b[i] !== ((s + i) & 255)) return -1;
  return s;
}

/** Describes a received datagram. */
export function describeDatagram(data: Uint8Array, address: string, port: number, smallBytes = 64): DatagramInfo {
  const d: DatagramInfo = { length: data.length, address, port, sha1: sha1Hex(data) };
  if (data.length <= smallBytes) d.hex = Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString('hex');
  return d;
}

/** Checks the options of a generated send; returns them with defaults applied. */
export function sendPlan(o: { size?: unknown; count?: unknown; pattern?: unknown; startSeq?: unknown }): {
  size: number;
  count: number;
  pattern: PayloadPattern;
  startSeq: number;
} {
  const size = o.size ?? 64;
  const count = o.count ?? 1;
  const pattern = o.pattern ?? 'seq';
  const startSeq = o.startSeq ?? 0;
  if (typeof size !== 'number' || !Number.isInteger(size) || size < 0 || size > 65535) throw new RangeError('size must be an integer 0..65535');
  if (typeof count !== 'number' || !Number.isInteger(count) || count < 0 || count > 10_000_000) throw new RangeError('count must be an integer 0..10000000');
  if (typeof pattern !== 'string' || !(PATTERNS as readonly string[]).includes(pattern)) throw new TypeError(`pattern must be one of ${PATTERNS.join(', ')}`);
  if (typeof startSeq !== 'number' || !Number.isInteger(startSeq) || startSeq < 0) throw new RangeError('startSeq must be a non-negative integer');
  return { size, count, pattern: pattern as PayloadPattern, startSeq };
}
