/**
 * The errors ffnet/dgram raises, built exactly as Node's own: the `ERR_*` errors of dgram (same
 * class, `code`, message text and stack header, e.g. `RangeError [ERR_SOCKET_BAD_PORT]: Port should
 * be > 0 and < 65536. Received type number (0).`), system errors shaped like Node's
 * ErrnoException / ExceptionWithHostPort (`bind EADDRINUSE 0.0.0.0:41234` with errno, code,
 * syscall, address, port), and the SystemError of ERR_SOCKET_BUFFER_SIZE.
 *
 * Message texts follow the running Node version; the formatting helpers
 * (determineSpecificType, formatList, the numeric separators of ERR_OUT_OF_RANGE) are the same in
 * Node 20 and 22.
 */
import { getSystemErrorMap, getSystemErrorName, inspect } from 'node:util';

type ErrorBase = ErrorConstructor | TypeErrorConstructor | RangeErrorConstructor;

/**
 * Node writes a Node error's stack header as `Name [CODE]: message`. V8 formats `stack` lazily from
 * `name`, so the code is put in the name while the stack is first read, then removed again.
 */
function codeInStack(err: Error, header: string): void {
  Object.defineProperty(err, 'name', { value: header, configurable: true, writable: true, enumerable: false });
  void err.stack;
  delete (err as { name?: string }).name;
}

function defineNodeErrorClass<B extends ErrorBase>(Base: B): new (code: string, message: string) => Error & { code: string } {
  const BaseCtor = Base as unknown as new (message: string) => Error;
  class NodeError extends BaseCtor {
    code: string;
    constructor(code: string, message: string) {
      super(message);
      this.code = code;
      codeInStack(this, `${Base.name} [${code}]`);
    }
    override toString(): string {
      return `${this.name} [${this.code}]: ${this.message}`;
    }
  }
  // `err.constructor === RangeError`, as for Node's own errors.
  Object.defineProperty(NodeError.prototype, 'constructor', { get: () => Base, configurable: true, enumerable: false });
  return NodeError;
}

const NodeTypeError = defineNodeErrorClass(TypeError);
const NodeRangeError = defineNodeErrorClass(RangeError);
const NodePlainError = defineNodeErrorClass(Error);

// --- message formatting, as lib/internal/errors.js ------------------------------------------------

const classRegExp = /^[A-Z][a-zA-Z0-9]*$/;
const kTypes = ['string', 'function', 'number', 'object', 'Function', 'Object', 'boolean', 'bigint', 'symbol'];

/** `a`, `a or b`, `a, b, or c`. */
export function formatList(array: string[], type = 'and'): string {
  switch (array.length) {
    case 0: return '';
    case 1: return `${array[0]}`;
    case 2: return `${array[0]} ${type} ${array[1]}`;
    case 3: return `${array[0]}, ${array[1]}, ${type} ${array[2]}`;
    default: return `${array.slice(0, -1).join(', ')}, ${type} ${array[array.length - 1]}`;
  }
}

/** The "Received …" wording of Node's argument errors. */
export function determineSpecificType(value: unknown): string {
  if (value === null) return 'null';
  if (value === undefined) return 'undefined';
  switch (typeof value) {
    case 'bigint': return `type bigint (${value}n)`;
    case 'number':
      if (value === 0) return 1 / value === -Infinity ? 'type number (-0)' : 'type number (0)';
      if (value !== value) return 'type number (NaN)';
      if (value === Infinity) return 'type number (Infinity)';
      if (value === -Infinity) return 'type number (-Infinity)';
      return `type number (${value})`;
    case 'boolean': return value ? 'type boolean (true)' : 'type boolean (false)';
    case 'symbol': return `type symbol (${String(value)})`;
    case 'function': return `function ${(value as { name: string }).name}`;
    case 'object': {
      const ctor = (value as { constructor?: { name?: string } }).constructor;
      if (ctor && 'name' in ctor) return `an instance of ${ctor.name}`;
      return `${inspect(value, { depth: -1 })}`;
    }
    case 'string': {
      let s = value;
      if (s.length > 28) s = `${s.slice(0, 25)}...`;
      if (!s.includes("'")) return `type string ('${s}')`;
      return `type string (${JSON.stringify(s)})`;
    }
    default: return `type ${typeof value} (${inspect(value)})`;
  }
}

function invalidArgTypeMessage(name: string, expected: string | string[], actual: unknown): string {
  const list = Array.isArray(expected) ? expected : [expected];
  let msg = 'The ';
  if (name.endsWith(' argument')) msg += `${name} `;
  else msg += `"${name}" ${name.includes('.') ? 'property' : 'argument'} `;
  msg += 'must be ';
  const types: string[] = [];
  const instances: string[] = [];
  const other: string[] = [];
  for (const value of list) {
    if (kTypes.includes(value)) types.push(value.toLowerCase());
    else if (classRegExp.test(value)) instances.push(value);
    else other.push(value);
  }
  if (instances.length > 0) {
    const pos = types.indexOf('object');
    if (pos !== -1) {
      types.splice(pos, 1);
      instances.push('Object');
    }
  }
  if (types.length > 0) {
    msg += `${types.length > 1 ? 'one of type' : 'of type'} ${formatList(types, 'or')}`;
    if (instances.length > 0 || other.length > 0) msg += ' or ';
  }
  if (instances.length > 0) {
    msg += `an instance of ${formatList(instances, 'or')}`;
    if (other.length > 0) msg += ' or ';
  }
  if (other.length > 0) {
    if (other.length > 1) msg += `one of ${formatList(other, 'or')}`;
    else {
      const first = other[0] as string;
      if (first.toLowerCase() !== first) msg += 'an ';
      msg += first;
    }
  }
  return `${msg}. Received ${determineSpecificType(actual)}`;
}

function addNumericalSeparator(val: string): string {
  let res = '';
  let i = val.length;
  const start = val[0] === '-' ? 1 : 0;
  for (; i >= start + 4; i -= 3) res = `_${val.slice(i - 3, i)}${res}`;
  return `${val.slice(0, i)}${res}`;
}

// --- the ERR_* errors dgram raises ---------------------------------------------------------------

/** A Node-style error with a `code` (class and stack header as Node's). */
export type NodeError = Error & { code: string };

export function ERR_INVALID_ARG_TYPE(name: string, expected: string | string[], actual: unknown): NodeError {
  return new NodeTypeError('ERR_INVALID_ARG_TYPE', invalidArgTypeMessage(name, expected, actual));
}

export function ERR_INVALID_ARG_VALUE(name: string, value: unknown, reason = 'is invalid'): NodeError {
  let inspected = inspect(value);
  if (inspected.length > 128) inspected = `${inspected.slice(0, 128)}...`;
  const type = name.includes('.') ? 'property' : 'argument';
  return new NodeTypeError('ERR_INVALID_ARG_VALUE', `The ${type} '${name}' ${reason}. Received ${inspected}`);
}

export function ERR_OUT_OF_RANGE(str: string, range: string, input: unknown): NodeError {
  let received: string;
  if (Number.isInteger(input) && Math.abs(input as number) > 2 ** 32) {
    received = addNumericalSeparator(String(input));
  } else if (typeof input === 'bigint') {
    received = String(input);
    if (input > 2n ** 32n || input < -(2n ** 32n)) received = addNumericalSeparator(received);
    received += 'n';
  } else {
    received = inspect(input);
  }
  return new NodeRangeError('ERR_OUT_OF_RANGE', `The value of "${str}" is out of range. It must be ${range}. Received ${received}`);
}

export function ERR_MISSING_ARGS(...args: string[]): NodeError {
  const wrapped = args.map((a) => `"${a}"`);
  return new NodeTypeError('ERR_MISSING_ARGS', `The ${formatList(wrapped)} argument${args.length > 1 ? 's' : ''} must be specified`);
}

export function ERR_SOCKET_BAD_PORT(name: string, port: unknown, allowZero = true): NodeError {
  const operator = allowZero ? '>=' : '>';
  return new NodeRangeError('ERR_SOCKET_BAD_PORT', `${name} should be ${operator} 0 and < 65536. Received ${determineSpecificType(port)}.`);
}

export function ERR_SOCKET_BAD_TYPE(): NodeError {
  return new NodeTypeError('ERR_SOCKET_BAD_TYPE', 'Bad socket type specified. Valid types are: udp4, udp6');
}

export function ERR_SOCKET_ALREADY_BOUND(): NodeError {
  return new NodePlainError('ERR_SOCKET_ALREADY_BOUND', 'Socket is already bound');
}

export function ERR_SOCKET_BAD_BUFFER_SIZE(): NodeError {
  return new NodeTypeError('ERR_SOCKET_BAD_BUFFER_SIZE', 'Buffer size must be a positive integer');
}

export function ERR_SOCKET_DGRAM_IS_CONNECTED(): NodeError {
  return new NodePlainError('ERR_SOCKET_DGRAM_IS_CONNECTED', 'Already connected');
}

export function ERR_SOCKET_DGRAM_NOT_CONNECTED(): NodeError {
  return new NodePlainError('ERR_SOCKET_DGRAM_NOT_CONNECTED', 'Not connected');
}

export function ERR_SOCKET_DGRAM_NOT_RUNNING(): NodeError {
  return new NodePlainError('ERR_SOCKET_DGRAM_NOT_RUNNING', 'Not running');
}

export function ERR_BUFFER_OUT_OF_BOUNDS(name?: string): NodeError {
  return new NodeRangeError('ERR_BUFFER_OUT_OF_BOUNDS', name ? `"${name}" is outside of buffer bounds` : 'Attempt to access memory outside buffer bounds');
}

export function ERR_IP_BLOCKED(ip: string): NodeError {
  return new NodePlainError('ERR_IP_BLOCKED', `IP(${ip}) is blocked by net.BlockList`);
}

/** What the stack failed at: the context of a SystemError, as Node's CollectUVExceptionInfo fills it. */
export interface SystemErrorContext {
  errno: number;
  code: string;
  message: string;
  syscall: string;
}

/** `SystemError [ERR_SOCKET_BUFFER_SIZE]: Could not get or set buffer size: uv_recv_buffer_size returned EBADF (bad file descriptor)`. */
export function ERR_SOCKET_BUFFER_SIZE(syscall: 'uv_recv_buffer_size' | 'uv_send_buffer_size', errno: number): NodeError {
  const code = getSystemErrorName(errno);
  const context: SystemErrorContext = { errno, code, message: getSystemErrorMap().get(errno)?.[1] ?? 'unknown error', syscall };
  const err = new Error() as NodeError;
  const message = `Could not get or set buffer size: ${context.syscall} returned ${context.code} (${context.message})`;
  err.code = 'ERR_SOCKET_BUFFER_SIZE';
  Object.defineProperty(err, 'message', { value: message, configurable: true, writable: true, enumerable: false });
  codeInStack(err, 'SystemError [ERR_SOCKET_BUFFER_SIZE]');
  delete (err as { message?: string }).message;
  Object.defineProperties(err, {
    name: { value: 'SystemError', enumerable: false, writable: true, configurable: true },
    message: { value: message, enumerable: false, writable: true, configurable: true },
    info: { value: context, enumerable: true, configurable: true, writable: false },
    errno: { get: () => context.errno, set: (v: number) => { context.errno = v; }, enumerable: true, configurable: true },
    syscall: { get: () => context.syscall, set: (v: string) => { context.syscall = v; }, enumerable: true, configurable: true },
  });
  Object.defineProperty(err, 'toString', {
    value(this: NodeError) { return `${this.name} [${this.code}]: ${this.message}`; },
    enumerable: false, configurable: true, writable: true,
  });
  return err;
}

// --- system errors -------------------------------------------------------------------------------

/** A failed system call as Node reports it: errno (negative), code, syscall. */
export interface SystemCallError extends Error {
  errno: number;
  code: string;
  syscall: string;
  address?: string;
  port?: number;
}

/** Node's ErrnoException: `getsockname EBADF` (own keys errno, code, syscall). */
export function errnoException(errno: number, syscall: string, original?: string): SystemCallError {
  const code = getSystemErrorName(errno);
  const err = new Error(original ? `${syscall} ${code} ${original}` : `${syscall} ${code}`) as SystemCallError;
  err.errno = errno;
  err.code = code;
  err.syscall = syscall;
  return err;
}

/**
 * Node's ExceptionWithHostPort: `bind EADDRINUSE 0.0.0.0:41234`; `address` is always an own key
 * (even undefined), `port` only when truthy. `suffix` adds ffnet's own explanation to the message.
 */
export function exceptionWithHostPort(errno: number, syscall: string, address: unknown, port: unknown, suffix?: string): SystemCallError {
  const code = getSystemErrorName(errno);
  let details = '';
  if (port && (port as number) > 0) details = ` ${String(address)}:${String(port)}`;
  else if (address) details = ` ${String(address)}`;
  const err = new Error(`${syscall} ${code}${details}${suffix ?? ''}`) as SystemCallError;
  err.errno = errno;
  err.code = code;
  err.syscall = syscall;
  (err as { address?: unknown }).address = address;
  if (port) (err as { port?: unknown }).port = port;
  return err;
}

/** `TypeError: Cannot read properties of null (reading 'setTTL')`: what Node throws for a closed socket's handle calls. */
export function nullHandleError(method: string): TypeError {
  return new TypeError(`Cannot read properties of null (reading '${method}')`);
}
