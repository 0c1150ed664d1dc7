/**
 * The child-process side of the test bench: one ffnet stack per process, driven over JSON lines.
 *
 * DPDK's EAL initialises once per process, and a net_tap vdev creates its kernel interface in the
 * namespace of the process that starts it, so each stack under test runs here, in a process started
 * inside the test's namespace (`node dist/testbed/stack-host.js`, see stack-process.ts).
 *
 * Protocol:
 *   - config: env FFNET_STACK_HOST_CONFIG, a RawConfig object as JSON (`{ dpdk: {...}, port0: {...} }`);
 *   - protocol lines go to the fd named by env FFNET_STACK_HOST_FD (default 1, stdout). DPDK writes
 *     its own log lines to stdout, so a parent should give the host a separate fd (3) and must in
 *     any case ignore lines that are not JSON objects with `event` or `id`;
 *   - first line: `{"event":"ready","ports":[...],"pid":N}`, or `{"event":"error","message":...,"code":...}`
 *     and exit 1;
 *   - then one request per stdin line `{"id":1,"method":"stats","params":[]}`, answered by one line
 *     `{"id":1,"result":...}` or `{"id":1,"error":{"message":...,"code":...}}`. Requests may overlap
 *     (ping is asynchronous); answers carry the request's id;
 *   - `close` closes the stack, answers, and the process exits 0. End of stdin (the parent died),
 *     SIGTERM and SIGINT close the stack and exit too.
 */
import { writeSync } from 'node:fs';
import { createInterface } from 'node:readline';
import type { NativeNeighbour, NativePortInfo } from '../native/index.js';

/** Counters, per lcore and summed, and the packet pool's occupancy. */
export interface HostedStats {
  counters: Record<string, number>;
  lcores: Array<{ lcore: number; counters: Record<string, number> }>;
  mempool: { inUse: number; size: number };
}

/** Options of a stack-originated ping. */
export interface HostedPingOptions {
  count?: number;
  size?: number;
  intervalMs?: number;
  timeoutMs?: number;
}

/** One echo reply (rttUs -1: no reply before the timeout). */
export interface HostedPingReply {
  seq: number;
  rttUs: number;
  ttl: number;
  bytes: number;
}

/** The part of ffnet's Stack that the bench drives. */
export interface HostedStack {
  stats(): HostedStats;
  ports(): NativePortInfo[];
  neighbours(): NativeNeighbour[];
  addNeighbour(portId: number, addr: string, mac: string): void;
  deleteNeighbour(portId: number, addr: string): boolean;
  ping(dst: string, opts?: HostedPingOptions): Promise<HostedPingReply[]>;
  close(): Promise<void>;
}

/** A request line from the parent. */
export interface HostRequest {
  id: number;
  method: string;
  params?: unknown[];
}

const CLOSE_TIMEOUT_MS = 10_000;
const outFd = parseFd(process.env.FFNET_STACK_HOST_FD);

function parseFd(v: string | undefined): number {
  if (v === undefined || v === '') return 1;
  const n = Number(v);
  return Number.isInteger(n) && n >= 1 ? n : 1;
}

/** Writes one protocol line in a single write, retrying while a non-blocking pipe is full. */
function emit(msg: object): void {
  // The leading newline ends any partial line a DPDK log write left on a shared stdout.
  const data = Buffer.from(`${outFd === 1 ? '\n' : ''}${JSON.stringify(msg)}\n`);
  let off = 0;
  const deadline = Date.now() + 5_000;
  while (off < data.length) {
    try {
      off += writeSync(outFd, data, off, data.length - off);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EAGAIN' || Date.now() > deadline) throw err;
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 2);
    }
  }
}

function errorBody(err: unknown): { message: string; code?: string } {
  if (err instanceof Error) {
    const code = (err as NodeJS.ErrnoException).code;
    return code === undefined ? { message: err.message } : { message: err.message, code: String(code) };
  }
  return { message: String(err) };
}

function str(v: unknown, what: string): string {
  if (typeof v !== 'string') throw new TypeError(`${what} must be a string`);
  return v;
}

function int(v: unknown, what: string): number {
  if (typeof v !== 'number' || !Number.isInteger(v)) throw new TypeError(`${what} must be an integer`);
  return v;
}

let stack: HostedStack | undefined;
let closing: Promise<void> | undefined;

function closeStack(): Promise<void> {
  closing ??= (async () => {
    if (!stack) return;
    const timer = new Promise<never>((_, reject) =>
      setTimeout(() => reject(new Error(`stack.close() took longer than ${CLOSE_TIMEOUT_MS} ms`)), CLOSE_TIMEOUT_MS).unref(),
    );
    await Promise.race([stack.close(), timer]);
  })();
  return closing;
}

async function shutdown(code: number): Promise<never> {
  try {
    await closeStack();
  } catch (err) {
    process.stderr.write(`stack-host: close failed: ${errorBody(err).message}\n`);
    code = code || 1;
  }
  process.exit(code);
}

async function dispatch(s: HostedStack, method: string, p: unknown[]): Promise<unknown> {
  switch (method) {
    case 'stats':
      return s.stats();
    case 'ports':
      return s.ports();
    case 'neighbours':
      return s.neighbours();
    case 'addNeighbour':
      s.addNeighbour(int(p[0], 'portId'), str(p[1], 'addr'), str(p[2], 'mac'));
      return null;
    case 'deleteNeighbour':
      return s.deleteNeighbour(int(p[0], 'portId'), str(p[1], 'addr'));
    case 'ping':
      return s.ping(str(p[0], 'dst'), (p[1] ?? {}) as HostedPingOptions);
    case 'mempool':
      return s.stats().mempool;
    case 'close':
      await closeStack();
      return null;
    default:
      throw Object.assign(new Error(`unknown method ${JSON.stringify(method)}`), { code: 'ENOSYS' });
  }
}

async function serve(s: HostedStack): Promise<void> {
  const rl = createInterface({ input: process.stdin, crlfDelay: Infinity });
  rl.on('line', (line) => {
    if (line.trim() === '') return;
    let req: HostRequest;
    try {
      req = JSON.parse(line) as HostRequest;
      if (typeof req !== 'object' || req === null || typeof req.id !== 'number' || typeof req.method !== 'string') {
        throw new TypeError('a request needs a numeric id and a string method');
      }
    } catch (err) {
      emit({ event: 'bad-request', line: line.slice(0, 200), error: errorBody(err) });
      return;
    }
    const { id, method } = req;
    const params = Array.isArray(req.params) ? req.params : [];
    if (closing && method !== 'close') {
      emit({ id, error: { message: 'stack is closing', code: 'ERR_STACK_CLOSED' } });
      return;
    }
    dispatch(s, method, params).then(
      (result) => {
        emit({ id, result: result ?? null });
        if (method === 'close') process.exit(0);
      },
      (err: unknown) => {
        emit({ id, error: errorBody(err) });
        if (method === 'close') process.exit(1);
      },
    );
  });
  rl.on('close', () => void shutdown(0));
}

async function main(): Promise<void> {
  for (const sig of ['SIGTERM', 'SIGINT'] as const) process.once(sig, () => void shutdown(0));

  const raw = process.env.FFNET_STACK_HOST_CONFIG;
  if (!raw) {
    emit({ event: 'error', message: 'FFNET_STACK_HOST_CONFIG is not set', code: 'ERR_NO_CONFIG' });
    process.exit(1);
  }
  let config: unknown;
  try {
    config = JSON.parse(raw);
  } catch (err) {
    emit({ event: 'error', message: `FFNET_STACK_HOST_CONFIG is not JSON: ${errorBody(err).message}`, code: 'ERR_BAD_CONFIG' });
    process.exit(1);
  }
  let started: HostedStack;
  try {
    const { Stack } = await import('../index.js');
    // The parent sends the config as-is; Stack.start validates it and names any bad key.
    started = await Stack.start({ config: config as never });
  } catch (err) {
    emit({ event: 'error', ...errorBody(err) });
    process.exit(1);
  }
  stack = started;
  emit({ event: 'ready', ports: started.ports(), pid: process.pid });
  await serve(started);
}

process.on('uncaughtException', (err) => {
  process.stderr.write(`stack-host: uncaught: ${err.stack ?? err.message}\n`);
  try {
    emit({ event: 'fatal', ...errorBody(err) });
  } catch {
    /* the parent is gone; exit all the same */
  }
  void shutdown(1);
});

void main();
