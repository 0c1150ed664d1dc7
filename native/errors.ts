/**
 * Errors raised by the native stack, shaped like Node's system errors: `code` ('ENETUNREACH'),
 * `errno` (negative, as libuv reports it) and `syscall`. The stack reports negative errno values;
 * this is where they become JS errors.
 */
import { getSystemErrorName } from 'node:util';

/** The symbolic name of a positive or negative errno value ('EAGAIN', as libuv names it), or 'EUNKNOWN'. */
export function errnoName(errno: number): string {
  try {
    return getSystemErrorName(-Math.abs(errno));
  } catch {
    return 'EUNKNOWN';
  }
}

/** A system error from the stack, e.g. `ping ENETUNREACH 192.0.2.1`. */
export class StackSystemError extends Error {
  readonly code: string;
  readonly errno: number;
  readonly syscall: string;
  readonly address?: string;

  constructor(syscall: string, errno: number, address?: string) {
    const code = errnoName(errno);
    super(`${syscall} ${code}${address ? ` ${address}` : ''}`);
    this.name = 'Error';
    this.code = code;
    this.errno = -Math.abs(errno);
    this.syscall = syscall;
    if (address !== undefined) this.address = address;
  }
}
