/**
 * Argument checks of ffnet/dgram, with the semantics and messages of Node's internal validators
 * (validatePort, validateUint32, …), the features of the running Node release that change dgram's
 * behaviour, and the argument normalisation that `send()` shares with `sendBatch()`.
 */
import dns from 'node:dns';
import { EventEmitter } from 'node:events';
import { BlockList } from 'node:net';
import {
  ERR_BUFFER_OUT_OF_BOUNDS,
  ERR_INVALID_ARG_TYPE,
  ERR_OUT_OF_RANGE,
  ERR_SOCKET_BAD_PORT,
  ERR_SOCKET_DGRAM_IS_CONNECTED,
} from './errors.js';
import { realDgram, stateSymbolOf } from './kernel-socket.js';

const [major = 0, minor = 0] = process.versions.node.split('.').map(Number);
const atLeast = (maj: number, min: number): boolean => major > maj || (major === maj && minor >= min);

/** Node honours `reusePort` from v22.12 / v23.1 (earlier releases ignore the option). */
export const SUPPORTS_REUSE_PORT = atLeast(24, 0) || (major === 23 && minor >= 1) || (major === 22 && minor >= 12);
/** Node validates and honours `receiveBlockList` / `sendBlockList` from v22.13 / v23.4. */
export const SUPPORTS_BLOCK_LISTS = atLeast(24, 0) || (major === 23 && minor >= 4) || (major === 22 && minor >= 13);

/** `probe`'s answer, asked on first use and kept: the running Node release does not change. */
function askedOnce<T>(probe: () => T): () => T {
  let answer: { value: T } | undefined;
  return () => (answer ??= { value: probe() }).value;
}

/** Whether `fn` throws an error whose `code` is `code`. */
function throwsCode(fn: () => unknown, code: string): boolean {
  try {
    fn();
    return false;
  } catch (err) {
    return (err as { code?: unknown }).code === code;
  }
}

/**
 * Whether the running Node's createSocket() validates `recvBufferSize` and `sendBufferSize` (Node 20's
 * later releases, 22.13+, 23.4+); 22.0 to 22.12 take any value and apply it at bind. Asked once of
 * node:dgram: a bad size together with a bad type fails on the size where sizes are validated and
 * on the type where not, in both cases before a handle exists.
 */
export const nodeValidatesSizeOptions = askedOnce((): boolean => {
  const NodeSocket = realDgram().Socket as unknown as new (options: object) => unknown;
  return throwsCode(() => new NodeSocket({ type: 'none', recvBufferSize: -1 }), 'ERR_OUT_OF_RANGE');
});

/**
 * Whether node:dgram's default lookup answers an IP literal of the socket's family itself (on
 * nextTick) and reads dns.lookup only when it is called (later releases), rather than being
 * dns.lookup as it was when the socket was created. Asked once of node:dgram: with dns.lookup
 * replaced for the length of the probe, a new socket's handle looks up '127.0.0.1', which calls
 * the replacement at once only in earlier releases; the socket is closed unbound.
 */
export const nodeDefaultLookupAnswersLiterals = askedOnce((): boolean => {
  const original = dns.lookup;
  let called = false;
  dns.lookup = ((): void => {
    called = true;
  }) as unknown as typeof dns.lookup;
  const probe = realDgram().createSocket('udp4');
  try {
    const key = stateSymbolOf(probe);
    const state = key ? (probe as unknown as Record<symbol, { handle?: { lookup?: (a: string, cb: () => void) => void } }>)[key] : undefined;
    state?.handle?.lookup?.('127.0.0.1', () => {});
  } finally {
    dns.lookup = original;
    probe.close();
  }
  return !called;
});

/**
 * The event on which bind(…, callback) listens for its own failure, to remove the callback:
 * `errorMonitor` in later releases, so that a bind error with no 'error' listener is thrown;
 * 'error' in earlier ones, where that listener counts as a handler and the error goes unseen.
 * Read once from node:dgram's own bind().
 */
export const bindFailureEventOfNode = askedOnce((): 'error' | typeof EventEmitter.errorMonitor =>
  realDgram().Socket.prototype.bind.toString().includes('errorMonitor') ? EventEmitter.errorMonitor : 'error');

/** `value === (value | 0)`. */
export function isInt32(value: unknown): value is number {
  return value === ((value as number) | 0);
}

export function validateNumber(value: unknown, name: string): asserts value is number {
  if (typeof value !== 'number') throw ERR_INVALID_ARG_TYPE(name, 'number', value);
}

export function validateString(value: unknown, name: string): asserts value is string {
  if (typeof value !== 'string') throw ERR_INVALID_ARG_TYPE(name, 'string', value);
}

/** Node's validateObject without options: a non-null, non-array object. */
export function validateObject(value: unknown, name: string): asserts value is Record<string, unknown> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw ERR_INVALID_ARG_TYPE(name, 'Object', value);
}

export function validateFunction(value: unknown, name: string): asserts value is (...args: never[]) => unknown {
  if (typeof value !== 'function') throw ERR_INVALID_ARG_TYPE(name, 'Function', value);
}

export function validateUint32(value: unknown, name: string, positive = false): asserts value is number {
  if (typeof value !== 'number') throw ERR_INVALID_ARG_TYPE(name, 'number', value);
  if (!Number.isInteger(value)) throw ERR_OUT_OF_RANGE(name, 'an integer', value);
  const min = positive ? 1 : 0;
  if (value < min || value > 4_294_967_295) throw ERR_OUT_OF_RANGE(name, `>= ${min} && <= 4294967295`, value);
}

/**
 * Whether the running Node's validatePort refuses a zero written as a string ('0', '00', ' 0 ') where
 * port 0 is not allowed: later releases test `+port === 0`, earlier ones only the number 0 (and so
 * send('x', '0') went on to fail later, asynchronously). Asked once, of node:dgram itself: its
 * connect() checks the port first, and an address of the wrong type stops every release before it
 * touches the socket.
 */
const nodeRefusesStringZero = askedOnce((): boolean =>
  throwsCode(() => (realDgram().Socket.prototype.connect as (...args: unknown[]) => unknown).call(undefined, '0', 0), 'ERR_SOCKET_BAD_PORT'));

/** Node's validatePort: numbers or numeric strings in 0..65535 (1.. unless allowZero); returns `port | 0`. */
export function validatePort(port: unknown, name = 'Port', allowZero = true): number {
  if ((typeof port !== 'number' && typeof port !== 'string') ||
      (typeof port === 'string' && port.trim().length === 0) ||
      +port !== (+port >>> 0) ||
      (port as number) > 0xffff ||
      (!allowZero && (port === 0 || (+port === 0 && nodeRefusesStringZero())))) {
    throw ERR_SOCKET_BAD_PORT(name, port, allowZero);
  }
  return (port as number) | 0;
}

export function validateAbortSignal(signal: unknown, name: string): asserts signal is AbortSignal {
  if (signal !== undefined && (signal === null || typeof signal !== 'object' || !('aborted' in signal))) {
    throw ERR_INVALID_ARG_TYPE(name, 'AbortSignal', signal);
  }
}

/** `net.BlockList.isBlockList`, for Node releases that lack the static. */
export function isBlockList(value: unknown): value is BlockList {
  const isBL = (BlockList as unknown as { isBlockList?: (v: unknown) => boolean }).isBlockList;
  return isBL ? isBL(value) : value instanceof BlockList;
}

/** The socket types Node accepts. */
export type SocketType = 'udp4' | 'udp6';

/** What `send()` and `sendBatch()` accept as a datagram's payload (a list is gathered into one datagram). */
export type DatagramPayload = string | NodeJS.ArrayBufferView | ReadonlyArray<string | NodeJS.ArrayBufferView>;

const BUFFER_TYPES = ['Buffer', 'TypedArray', 'DataView', 'string'];

/** node:dgram's sliceBuffer: `offset`/`length` in bytes over a string, Buffer, TypedArray or DataView. */
export function sliceBuffer(buffer: unknown, offset: unknown, length: unknown): Buffer {
  let buf: ArrayBufferView;
  if (typeof buffer === 'string') buf = Buffer.from(buffer);
  else if (!ArrayBuffer.isView(buffer)) throw ERR_INVALID_ARG_TYPE('buffer', BUFFER_TYPES, buffer);
  else buf = buffer;
  const off = (offset as number) >>> 0;
  const len = (length as number) >>> 0;
  if (off > buf.byteLength) throw ERR_BUFFER_OUT_OF_BOUNDS('offset');
  if (off + len > buf.byteLength) throw ERR_BUFFER_OUT_OF_BOUNDS('length');
  return Buffer.from(buf.buffer, buf.byteOffset + off, len);
}

function asBuffer(v: ArrayBufferView): Buffer {
  return Buffer.isBuffer(v) ? v : Buffer.from(v.buffer, v.byteOffset, v.byteLength);
}

/** node:dgram's fixBufferList: the chunks of one datagram, or null when an element is not a string or a view. */
export function fixBufferList(list: readonly unknown[]): Buffer[] | null {
  const out = new Array<Buffer>(list.length);
  for (let i = 0; i < list.length; i++) {
    const item = list[i];
    if (typeof item === 'string') out[i] = Buffer.from(item);
    else if (!ArrayBuffer.isView(item)) return null;
    else out[i] = asBuffer(item);
  }
  return out;
}

/** A payload (not sliced) as the list of chunks `send()` gathers; throws node:dgram's errors. */
export function toChunkList(buffer: unknown, listName = 'buffer list arguments', name = 'buffer'): Buffer[] {
  if (!Array.isArray(buffer)) {
    if (typeof buffer === 'string') return [Buffer.from(buffer)];
    if (!ArrayBuffer.isView(buffer)) throw ERR_INVALID_ARG_TYPE(name, BUFFER_TYPES, buffer);
    return [asBuffer(buffer)];
  }
  const list = fixBufferList(buffer);
  if (!list) throw ERR_INVALID_ARG_TYPE(listName, BUFFER_TYPES, buffer);
  return list;
}

/** The normalised arguments of one `send()` call. */
export interface SendArgs {
  list: Buffer[];
  port: unknown;
  address: unknown;
  callback: ((error: Error | null, bytes?: number) => void) | undefined;
}

/**
 * node:dgram's argument shuffling and validation for `send()` (every form: slice, list, connected,
 * callback in any trailing slot), in Node's order: connected-state errors and slicing, payload type,
 * port (unconnected only), address type. The caller runs the health check next.
 */
export function normalizeSendArgs(connected: boolean, buffer: unknown, offset: unknown, length: unknown,
  port: unknown, address: unknown, callback: unknown): SendArgs {
  if (!connected) {
    if (address || (port && typeof port !== 'function')) {
      buffer = sliceBuffer(buffer, offset, length);
    } else {
      callback = port;
      port = offset;
      address = length;
    }
  } else {
    if (typeof length === 'number') {
      buffer = sliceBuffer(buffer, offset, length);
      if (typeof port === 'function') {
        callback = port;
        port = null;
      }
    } else {
      callback = offset;
    }
    if (port || address) throw ERR_SOCKET_DGRAM_IS_CONNECTED();
  }
  const list = toChunkList(buffer);
  if (!connected) port = validatePort(port, 'Port', false);
  if (typeof callback !== 'function') callback = undefined;
  if (typeof address === 'function') {
    callback = address;
    address = undefined;
  } else if (address != null) {
    validateString(address, 'address');
  }
  return { list, port, address, callback: callback as SendArgs['callback'] };
}
