/**
 * ffnet/dgram's batch API, beyond node:dgram: the `'messages'` event (many received datagrams per
 * callback, the recvmmsg node:dgram lacks) and `sendBatch()` (many datagrams per call, sendmmsg).
 *
 * Lifetime rules of a received batch:
 * - The `DatagramBatch` object and every view it hands out (`data(i)`, `bytes`) are valid only
 *   during the `'messages'` callback. On the dpdk backend a view is the stack's own packet buffer
 *   (zero-copy), which goes back to the packet pool when the callback returns: a view kept past the
 *   callback shows whatever packet the stack puts in that buffer next — a later datagram of any
 *   socket, or a frame being sent — and changes under the reader at any time; once the stack has
 *   closed it reads as empty (byteLength 0). After the callback the batch reports `count === 0` and
 *   its accessors throw.
 * - Copy what must outlive the callback: `batch.copy(i)` returns a Buffer the caller owns.
 * - `rinfo(i)` returns a fresh object; address strings are shared and immutable, so keep them freely.
 * - On a socket created with `recvPktInfo: true`, `localAddress(i)` is the address datagram i was
 *   sent to (and `rinfo(i).localAddress`); a reply from it goes through `sendBatch` with `from`.
 * The `'message'` event keeps node:dgram's rule: its Buffer is the listener's to keep, unchanged.
 */
import type { RemoteInfo } from 'node:dgram';
import { DGRAM_COPIED } from '../native/index.js';
import { ipv4Number } from '../posix/ipv4.js';
import { isIPv6Literal } from '../posix/ipv6.js';
import { ERR_INVALID_ARG_TYPE, ERR_INVALID_ARG_VALUE } from './errors.js';
import { toChunkList, validatePort, type DatagramPayload } from './validators.js';

/** One datagram for `sendBatch()`: payload, and destination unless the socket is connected. */
export interface BatchMessage {
  msg: DatagramPayload;
  /** Destination port (required on an unconnected socket, not allowed on a connected one). */
  port?: number | string;
  /** Destination IP literal of the socket's family; default 127.0.0.1 (::1 on udp6). Names are not resolved here. */
  address?: string | null;
  /**
   * ffnet extension: the source address, an IP literal of the socket's family (on udp6 a v4-mapped
   * one for an IPv4 destination) that is one of the stack's own — typically `batch.localAddress(i)`
   * of the request answered (IP_PKTINFO). Omitted, null or '': the socket's address or the route's.
   * One that is not the stack's fails the send as Linux does (`send ENETUNREACH` for IPv4, `send
   * EINVAL` for IPv6). Ignored for datagrams the kernel carries (`[dpdk] localhost`).
   */
  from?: string | null;
}

/** `sendBatch()`'s completion: how many datagrams were handed to the network, and the error that stopped the rest. */
export type SendBatchCallback = (error: Error | null, sent: number) => void;

/**
 * A batch of received datagrams, handed to `'messages'` listeners. Valid only during the callback
 * (see the module notes); index `i` runs from 0 to `count - 1`.
 */
export interface DatagramBatch {
  /** Datagrams in this batch (0 once the callback returned). */
  readonly count: number;
  /** Datagram i's payload, a view valid only during the callback. */
  data(i: number): Buffer;
  /** A copy of datagram i's payload that the caller owns. */
  copy(i: number): Buffer;
  /** Datagram i's length in bytes. */
  size(i: number): number;
  /** Datagram i's source address (a shared, immutable string). */
  address(i: number): string;
  /** Datagram i's source port. */
  port(i: number): number;
  /** Datagram i's source as node:dgram's rinfo `{ address, family, port, size }` (a fresh object),
   *  with `localAddress` on a `recvPktInfo` socket. */
  rinfo(i: number): RemoteInfo;
  /** The address datagram i was sent to, on a socket created with `recvPktInfo: true`; else undefined. */
  localAddress(i: number): string | undefined;
}

function outOfRange(i: number, count: number): RangeError {
  return new RangeError(`datagram index ${i} is outside this batch (count ${count}; a batch is valid only during its 'messages' callback)`);
}

/** The source address text of the datagram whose descriptor starts at desc[d] (see PackedBatch). */
export type SourceOf = (desc: Uint32Array, d: number, bytes: Uint8Array, copied: Uint8Array) => string;
/** The destination address text of datagram i, from a batch's `info` words (see PackedBatch). */
export type DestinationOf = (info: Uint32Array, i: number) => string;

/**
 * A batch described by `desc` (per datagram: offset, length, source address as a host-order
 * integer, port word) — the layout posix.dgramRecv and ZcReceiver.recv fill: each datagram lies in
 * `bytes` (the packet pool's memory, or the buffer dgramRecv packed), or in `copied` when
 * DGRAM_COPIED is set in its port word; the source port is the word's low 16 bits.
 */
export class PackedBatch implements DatagramBatch {
  #count = 0;
  #bytes: Uint8Array = new Uint8Array(0);
  #copied: Uint8Array = new Uint8Array(0);
  #desc: Uint32Array = new Uint32Array(0);
  #info: Uint32Array | undefined;
  readonly #family: 'IPv4' | 'IPv6';
  readonly #addressOf: SourceOf;
  readonly #localOf: DestinationOf | undefined;

  constructor(family: 'IPv4' | 'IPv6', addressOf: SourceOf, localOf?: DestinationOf) {
    this.#family = family;
    this.#addressOf = addressOf;
    this.#localOf = localOf;
  }

  /** Points the batch at freshly received datagrams, with where each arrived when `info` is given (ffnet internal). */
  reset(bytes: Uint8Array, desc: Uint32Array, count: number, copied: Uint8Array, info?: Uint32Array): void {
    this.#bytes = bytes;
    this.#copied = copied;
    this.#desc = desc;
    this.#count = count;
    this.#info = info;
  }

  /** Ends the batch's validity (ffnet internal). */
  invalidate(): void {
    this.#count = 0;
    this.#bytes = this.#copied = new Uint8Array(0);
  }

  get count(): number {
    return this.#count;
  }

  /** The memory most views share (valid only during the callback): the packet pool's, when lent. */
  get bytes(): Uint8Array {
    return this.#bytes;
  }

  #at(i: number): number {
    if (!(i >= 0 && i < this.#count)) throw outOfRange(i, this.#count);
    return i * 4;
  }

  data(i: number): Buffer {
    const d = this.#at(i);
    const b = (this.#desc[d + 3] as number) & DGRAM_COPIED ? this.#copied : this.#bytes;
    return Buffer.from(b.buffer, b.byteOffset + (this.#desc[d] as number), this.#desc[d + 1] as number);
  }

  copy(i: number): Buffer {
    return Buffer.from(this.data(i));
  }

  /** Datagram i's offset within `bytes` (within the copy buffer for one flagged DGRAM_COPIED). */
  offset(i: number): number {
    return this.#desc[this.#at(i)] as number;
  }

  size(i: number): number {
    return this.#desc[this.#at(i) + 1] as number;
  }

  address(i: number): string {
    return this.#addressOf(this.#desc, this.#at(i), this.#bytes, this.#copied);
  }

  port(i: number): number {
    return (this.#desc[this.#at(i) + 3] as number) & 0xffff;
  }

  rinfo(i: number): RemoteInfo {
    const d = this.#at(i);
    const rinfo: RemoteInfo & { localAddress?: string } = { address: this.#addressOf(this.#desc, d, this.#bytes, this.#copied), family: this.#family, port: (this.#desc[d + 3] as number) & 0xffff, size: this.#desc[d + 1] as number };
    if (this.#info && this.#localOf) rinfo.localAddress = this.#localOf(this.#info, i);
    return rinfo;
  }

  localAddress(i: number): string | undefined {
    this.#at(i);
    return this.#info && this.#localOf ? this.#localOf(this.#info, i) : undefined;
  }
}

/** A batch over separate Buffers (the kernel backend groups its 'message' events into these). */
export class ListBatch implements DatagramBatch {
  #msgs: Buffer[];
  #rinfos: RemoteInfo[];

  constructor(msgs: Buffer[], rinfos: RemoteInfo[]) {
    this.#msgs = msgs;
    this.#rinfos = rinfos;
  }

  /** Ends the batch's validity (ffnet internal). */
  invalidate(): void {
    this.#msgs = [];
    this.#rinfos = [];
  }

  get count(): number {
    return this.#msgs.length;
  }

  #at(i: number): number {
    if (!(i >= 0 && i < this.#msgs.length)) throw outOfRange(i, this.#msgs.length);
    return i;
  }

  data(i: number): Buffer {
    return this.#msgs[this.#at(i)] as Buffer;
  }

  copy(i: number): Buffer {
    return Buffer.from(this.data(i));
  }

  size(i: number): number {
    return (this.#msgs[this.#at(i)] as Buffer).length;
  }

  address(i: number): string {
    return (this.#rinfos[this.#at(i)] as RemoteInfo).address;
  }

  port(i: number): number {
    return (this.#rinfos[this.#at(i)] as RemoteInfo).port;
  }

  rinfo(i: number): RemoteInfo {
    return { ...(this.#rinfos[this.#at(i)] as RemoteInfo) };
  }

  localAddress(i: number): string | undefined {
    return (this.#rinfos[this.#at(i)] as RemoteInfo & { localAddress?: string }).localAddress;
  }
}

/** A validated `sendBatch()` request: one payload (chunks gathered), address and port per datagram. */
export interface PreparedBatch {
  payloads: Buffer[];
  addresses: Array<string | null>;
  ports: number[];
  /** Each datagram's chosen source (`from`), or null; undefined when none has one. */
  sources: Array<string | null> | undefined;
}

/** Whether `a` is an IP literal of the socket's family (sendBatch resolves no names). */
function ofFamily(a: string, type: 'udp4' | 'udp6'): boolean {
  return type === 'udp4' ? ipv4Number(a) >= 0 : isIPv6Literal(a);
}

function familyMismatch(name: string, a: string, type: 'udp4' | 'udp6'): Error {
  const family = type === 'udp4' ? 'an IPv4' : 'an IPv6';
  return ERR_INVALID_ARG_VALUE(name, a, `must be ${family} address literal (sendBatch does not resolve names)`);
}

function gather(chunks: Buffer[]): Buffer {
  return chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks);
}

/**
 * Checks `sendBatch()`'s messages (payload types as `send()`, ports as `send()`, addresses must be IP
 * literals of the socket's family or empty) and gathers each payload into one Buffer.
 */
export function prepareBatch(messages: unknown, connected: boolean, type: 'udp4' | 'udp6'): PreparedBatch {
  if (!Array.isArray(messages)) throw ERR_INVALID_ARG_TYPE('messages', 'Array', messages);
  const n = messages.length;
  const out: PreparedBatch = { payloads: new Array<Buffer>(n), addresses: new Array<string | null>(n), ports: new Array<number>(n), sources: undefined };
  const fallback = type === 'udp4' ? '127.0.0.1' : '::1';
  for (let i = 0; i < n; i++) {
    const m = messages[i] as BatchMessage | null | undefined;
    if (m === null || typeof m !== 'object') throw ERR_INVALID_ARG_TYPE(`messages[${i}]`, 'Object', m);
    out.payloads[i] = gather(toChunkList(m.msg, `messages[${i}].msg`, `messages[${i}].msg`));
    const from = m.from;
    if (from !== undefined && from !== null && from !== '') {
      if (typeof from !== 'string') throw ERR_INVALID_ARG_TYPE(`messages[${i}].from`, 'string', from);
      if (!ofFamily(from, type)) throw familyMismatch(`messages[${i}].from`, from, type);
      (out.sources ??= new Array<string | null>(n).fill(null))[i] = from;
    }
    if (connected) {
      if (m.port || m.address) throw ERR_INVALID_ARG_VALUE(`messages[${i}]`, m, 'must not name a destination on a connected socket');
      out.addresses[i] = null;
      out.ports[i] = 0;
      continue;
    }
    out.ports[i] = validatePort(m.port, 'Port', false);
    const a = m.address;
    if (a === undefined || a === null || a === '') {
      out.addresses[i] = fallback;
    } else if (typeof a !== 'string') {
      throw ERR_INVALID_ARG_TYPE(`messages[${i}].address`, 'string', a);
    } else if (!ofFamily(a, type)) {
      throw familyMismatch(`messages[${i}].address`, a, type);
    } else {
      out.addresses[i] = a;
    }
  }
  return out;
}
