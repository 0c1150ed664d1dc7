/**
 * What the stack's UDP suites share: ff sockets opened in a stack process and closed again after
 * each test, the packet pool's steady occupancy, and expectations about FfErrors that crossed the
 * process boundary.
 */
import { expect } from 'vitest';
import { StackProcessError, type StackProcess } from '../../testbed/stack-process.js';

/** ff sockets (and epoll sets) a test opened, closed together. */
export class FdScope {
  readonly #fds: number[] = [];
  constructor(readonly stack: StackProcess) {}

  /** ff_socket(AF_INET, SOCK_DGRAM | extraType), bound when `bindTo` is given. */
  async udp(bindTo?: { address: string; port: number }, extraType = 0): Promise<number> {
    const K = await this.stack.constants();
    const fd = await this.stack.posix<number>('ff_socket', K.AF_INET, (K.SOCK_DGRAM as number) | extraType, 0);
    this.#fds.push(fd);
    if (bindTo) await this.stack.posix('ff_bind', fd, bindTo);
    return fd;
  }

  /** ff_socket(AF_INET6, SOCK_DGRAM), bound when `bindTo` is given. */
  async udp6(bindTo?: { address: string; port: number }): Promise<number> {
    const K = await this.stack.constants();
    const fd = await this.stack.posix<number>('ff_socket', K.AF_INET6, K.SOCK_DGRAM, 0);
    this.#fds.push(fd);
    if (bindTo) await this.stack.posix('ff_bind', fd, bindTo);
    return fd;
  }

  /** `count` ff sockets sharing `port` with SO_REUSEADDR, each bound to the wildcard address. */
  async sharingPort(port: number, count = 2): Promise<number[]> {
    const K = await this.stack.constants();
    const socks: number[] = [];
    for (let i = 0; i < count; i++) {
      const fd = await this.udp();
      await this.stack.posix('ff_setsockopt', fd, K.SOL_SOCKET, K.SO_REUSEADDR, 1);
      await this.stack.posix('ff_bind', fd, { address: '0.0.0.0', port });
      socks.push(fd);
    }
    return socks;
  }

  /** ff_epoll_create, closed with the scope. */
  async epoll(): Promise<number> {
    const ep = await this.stack.posix<number>('ff_epoll_create', 1);
    this.#fds.push(ep);
    return ep;
  }

  /** Closes what is still open (errors of descriptors closed by the test itself are ignored). */
  async closeAll(): Promise<void> {
    for (const fd of this.#fds.splice(0).reverse()) {
      await this.stack.posix('ff_close', fd).catch(() => undefined);
    }
  }
}

/** Polls the pool until two reads `gapMs` apart agree (bounded); resolves to that occupancy. */
export async function steadyInUse(stack: StackProcess, gapMs = 150, timeoutMs = 5_000): Promise<number> {
  let last = -1;
  let value = -1;
  await stack.ns.waitFor(
    async () => {
      const now = (await stack.mempool()).inUse;
      const steady = now === last;
      last = now;
      value = now;
      return steady;
    },
    'the packet pool to settle',
    timeoutMs,
    gapMs,
  );
  return value;
}

/** Waits (bounded) until the pool is back at `baseline` mbufs in use; fails with what it saw. */
export async function expectPoolAt(stack: StackProcess, baseline: number, timeoutMs = 5_000): Promise<void> {
  let now = -1;
  try {
    await stack.ns.waitFor(async () => (now = (await stack.mempool()).inUse) === baseline, `mempool in use back to ${baseline}`, timeoutMs, 100);
  } catch {
    /* the expectation below reports it */
  }
  expect(now, 'mbufs in use after the test (baseline before it)').toBe(baseline);
}

/** Expects `p` to reject with an FfError of `code` from `syscall`. */
export async function expectFfError(p: Promise<unknown>, code: string, syscall?: string): Promise<StackProcessError> {
  let caught: unknown;
  try {
    await p;
  } catch (err) {
    caught = err;
  }
  expect(caught, `expected ${code}`).toBeInstanceOf(StackProcessError);
  const e = caught as StackProcessError;
  expect(e.code, e.message).toBe(code);
  if (syscall) expect(e.syscall).toBe(syscall);
  expect(e.errno).toBeLessThan(0);
  return e;
}
