/**
 * The child-process side of the test bench: one ffnet stack per process, driven over JSON lines.
 *
 * DPDK's EAL initialises once per process, and a net_tap vdev creates its kernel interface in the
 * namespace of the process that starts it, so each stack under test runs here, in a process started
 * inside the test's namespace (`node dist/testbed/stack-host.js`, see stack-process.ts).
 *
 * Protocol:
 *   - config: env FFNET_STACK_HOST_CONFIG, a RawConfig object as JSON (`{ dpdk: {...}, port0: {...} }`);
 *   - protocol lines go to the fd named by env FFNET_STACK_HOST_FD (default 1, stdout). DPDK's log
 *     goes to the config's `[dpdk] log` sink, but the EAL and PMDs may still print to stdout (the
 *     EAL's usage text after a bad argument), so a parent should give the host a separate fd (3) and
 *     must in any case ignore lines that are not JSON objects with `event` or `id`;
 *   - first line: `{"event":"ready","ports":[...],"pid":N}`, or `{"event":"error","message":...,"code":...}`
 *     and exit 1;
 *   - then one request per stdin line `{"id":1,"method":"stats","params":[]}`, answered by one line
 *     `{"id":1,"result":...}` or `{"id":1,"error":{"message":...,"code":...}}`. Requests may overlap
 *     (ping is asynchronous); answers carry the request's id;
 *   - `close` closes the stack, answers, and the process exits 0. End of stdin (the parent died),
 *     SIGTERM and SIGINT close the stack and exit too.
 *
 * Sockets (ffnet/posix, loaded on first use):
 *   - `posix(name, ...args)` calls the ffnet/posix export `name` (a non-function export such as
 *     `constants` is returned as is). Arguments are JSON with these objects decoded: `{hex}` and
 *     `{base64}` become Uint8Arrays (payloads), `{buffer: n}` a zeroed n-byte Uint8Array (ff_recvfrom's
 *     `into`), `{arena: {max, slotBytes}}` a RecvArena. Uint8Arrays in results come back as `{hex}`
 *     (≤ 4 KiB) or `{base64}`; ff_recvfrom's result also carries `data`, the bytes received. An FfError
 *     answers with its code ('EACCES'), errno and syscall;
 *   - `udpRecv(fd, {count, timeoutMs, smallBytes})` receives until `count` datagrams arrived or the
 *     timeout passed, sleeping in ff_epoll_wait_async, and answers `{datagrams, timedOut}` (length,
 *     source, SHA-1, and the bytes of datagrams up to smallBytes);
 *   - `udpSend(fd, {to, size, count, pattern, startSeq, batch, timeoutMs})` sends `count` generated
 *     datagrams (testbed/payload.ts) in ff_sendmmsg batches, waiting while the socket's send buffer is
 *     full; answers `{sent, sha1}` (sha1 of each datagram when count ≤ 1024);
 *   - `udpCountStart(fd, {expected, size})` counts `seq` datagrams in the background into a bitmap of
 *     `expected` sequence numbers; `udpCountStatus(fd)` reports progress and `udpCountStop(fd)` ends
 *     it, answering the final counts and the first missing sequence numbers. Millions of datagrams
 *     are checked here without crossing the pipe;
 *   - `sysctl(name, value?)` reads or sets a tunable.
 */
import type { NetworkInterfaceInfo } from 'node:os';
import { writeSync } from 'node:fs';
import { createInterface } from 'node:readline';
import type { NativeNeighbour, NativePortInfo, NativeRoute } from '../native/index.js';
import type * as PosixModule from '../posix/index.js';
import { checkSeqPayload, describeDatagram, fillPayload, fromWire, isWireBytes, sendPlan, sha1Hex, toWire, type DatagramInfo } from './payload.js';

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
  /** The ports as os.networkInterfaces() lists them under ffnet/register. */
  networkInterfaces(): Record<string, NetworkInterfaceInfo[]>;
  neighbours(): NativeNeighbour[];
  addNeighbour(portId: number, addr: string, mac: string): void;
  deleteNeighbour(portId: number, addr: string): boolean;
  routes(): NativeRoute[];
  addRoute(route: { dest: string; via: string; src?: string; metric?: number }): void;
  deleteRoute(dest: string, opts?: { metric?: number }): void;
  ping(dst: string, opts?: HostedPingOptions): Promise<HostedPingReply[]>;
  sysctl(name: string, value?: number): number;
  close(): Promise<void>;
}

/** Options of `udpRecv`. */
export interface UdpRecvOptions {
  /** Datagrams to wait for (default 1). */
  count?: number;
  /** How long to wait in all (default 2000 ms). */
  timeoutMs?: number;
  /** Datagrams up to this size come back with their bytes (default 64). */
  smallBytes?: number;
}

/** What `udpRecv` answers. */
export interface UdpRecvResult {
  datagrams: DatagramInfo[];
  /** Fewer than `count` arrived before the timeout. */
  timedOut: boolean;
}

/** Options of `udpSend`. */
export interface UdpSendOptions {
  /** Destination; omitted on a connected socket. */
  to?: { address: string; port: number };
  /** Payload bytes of each datagram (default 64). */
  size?: number;
  /** Datagrams to send (default 1). */
  count?: number;
  /** Payload pattern (default 'seq'), see testbed/payload.ts. */
  pattern?: string;
  /** Sequence number of the first datagram (default 0). */
  startSeq?: number;
  /** Datagrams per ff_sendmmsg call (default 32). */
  batch?: number;
  /** Give up (ETIMEDOUT) when the send buffer stays full this long (default 10 000 ms). */
  timeoutMs?: number;
}

/** What `udpSend` answers. */
export interface UdpSendResult {
  sent: number;
  /** SHA-1 of each datagram, in order, when count ≤ 1024. */
  sha1?: string[];
}

/** Progress of a background sequence count (`udpCountStart`). */
export interface UdpCountStatus {
  /** Datagrams read off the socket. */
  received: number;
  /** Distinct sequence numbers below `expected` seen. */
  unique: number;
  duplicates: number;
  /** Datagrams of the wrong size or whose bytes do not match their sequence number. */
  corrupt: number;
  /** Sequence numbers ≥ expected. */
  outOfRange: number;
  /** Whether the count still runs. */
  running: boolean;
  /** The receive loop's error, if it stopped on one. */
  error?: string;
  /** udpCountStop only: sequence numbers below expected never seen, and the first 20 of them. */
  missing?: number;
  firstMissing?: number[];
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
  // The leading newline ends any partial line something else printed on a shared stdout.
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

function errorBody(err: unknown): { message: string; code?: string; errno?: number; syscall?: string } {
  if (err instanceof Error) {
    const e = err as NodeJS.ErrnoException;
    const body: { message: string; code?: string; errno?: number; syscall?: string } = { message: err.message };
    if (e.code !== undefined) body.code = String(e.code);
    if (typeof e.errno === 'number') body.errno = e.errno;
    if (typeof e.syscall === 'string') body.syscall = e.syscall;
    return body;
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
    case 'networkInterfaces':
      return s.networkInterfaces();
    case 'neighbours':
      return s.neighbours();
    case 'addNeighbour':
      s.addNeighbour(int(p[0], 'portId'), str(p[1], 'addr'), str(p[2], 'mac'));
      return null;
    case 'deleteNeighbour':
      return s.deleteNeighbour(int(p[0], 'portId'), str(p[1], 'addr'));
    case 'routes':
      return s.routes();
    case 'addRoute':
      s.addRoute(p[0] as { dest: string; via: string; src?: string; metric?: number });
      return null;
    case 'deleteRoute':
      s.deleteRoute(str(p[0], 'dest'), (p[1] ?? {}) as { metric?: number });
      return null;
    case 'ping':
      return s.ping(str(p[0], 'dst'), (p[1] ?? {}) as HostedPingOptions);
    case 'mempool':
      return s.stats().mempool;
    case 'sysctl':
      return p[1] === undefined || p[1] === null ? s.sysctl(str(p[0], 'name')) : s.sysctl(str(p[0], 'name'), int(p[1], 'value'));
    case 'posix':
      return callPosix(str(p[0], 'name'), p.slice(1));
    case 'udpRecv':
      return udpRecv(int(p[0], 'fd'), (p[1] ?? {}) as UdpRecvOptions);
    case 'udpSend':
      return udpSend(int(p[0], 'fd'), (p[1] ?? {}) as UdpSendOptions);
    case 'udpCountStart':
      return udpCountStart(int(p[0], 'fd'), (p[1] ?? {}) as { expected?: number; size?: number });
    case 'udpCountStatus':
      return countStatus(counterOf(int(p[0], 'fd')));
    case 'udpCountStop':
      return udpCountStop(int(p[0], 'fd'));
    case 'close':
      await closeStack();
      return null;
    default:
      throw Object.assign(new Error(`unknown method ${JSON.stringify(method)}`), { code: 'ENOSYS' });
  }
}

type Posix = typeof PosixModule;
let posixModule: Posix | undefined;

async function posixApi(): Promise<Posix> {
  posixModule ??= await import('../posix/index.js');
  return posixModule;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && Object.getPrototypeOf(v) === Object.prototype;
}

/** Decodes one JSON argument of `posix` (see the protocol above). */
function decodeArg(P: Posix, v: unknown): unknown {
  if (Array.isArray(v)) return v.map((x) => decodeArg(P, x));
  if (!isPlainObject(v)) return v;
  if (isWireBytes(v)) return fromWire(v);
  const keys = Object.keys(v);
  if (keys.length === 1 && keys[0] === 'buffer') {
    const n = int(v.buffer, 'buffer');
    if (n < 0 || n > 1 << 20) throw new RangeError('buffer must be 0..1 MiB');
    return new Uint8Array(n);
  }
  if (keys.length === 1 && keys[0] === 'arena' && isPlainObject(v.arena)) {
    const max = int(v.arena.max, 'arena.max');
    const slot = v.arena.slotBytes === undefined ? 65536 : int(v.arena.slotBytes, 'arena.slotBytes');
    if (max < 1 || max > 1024 || slot < 1 || slot > 65536 || max * slot > 64 << 20) throw new RangeError('arena: max 1..1024, slotBytes 1..65536, 64 MiB at most');
    return new P.RecvArena(max, slot);
  }
  const out: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(v)) out[k] = decodeArg(P, x);
  return out;
}

/** Encodes a result for JSON: Uint8Arrays as {hex}/{base64}, RecvArenas by their shape. */
function encodeResult(v: unknown): unknown {
  if (v instanceof Uint8Array) return toWire(v);
  if (Array.isArray(v)) return v.map(encodeResult);
  if (typeof v === 'object' && v !== null) {
    if (ArrayBuffer.isView(v)) return Array.from(v as unknown as ArrayLike<number>);
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) out[k] = encodeResult(x);
    return out;
  }
  return v;
}

async function callPosix(name: string, rawArgs: unknown[]): Promise<unknown> {
  const P = await posixApi();
  if (!Object.prototype.hasOwnProperty.call(P, name)) {
    throw Object.assign(new Error(`ffnet/posix has no export ${JSON.stringify(name)}`), { code: 'ENOSYS' });
  }
  const member = (P as unknown as Record<string, unknown>)[name];
  if (typeof member !== 'function' || /^class[\s{]/.test(Function.prototype.toString.call(member))) {
    if (typeof member === 'function') throw Object.assign(new Error(`${name} is a class; pass {arena: ...} to build a RecvArena`), { code: 'EINVAL' });
    return encodeResult(member);
  }
  const args = rawArgs.map((a) => decodeArg(P, a));
  const result: unknown = await (member as (...a: unknown[]) => unknown)(...args);
  if (name === 'ff_recvfrom' && args[1] instanceof Uint8Array && isPlainObject(result)) {
    const into = args[1];
    const n = Math.min(Number(result.bytes), into.length);
    return { ...(encodeResult(result) as object), data: toWire(into.subarray(0, n)) };
  }
  return encodeResult(result);
}

/** A yield to the event loop, which in inline mode also turns the stack. */
function turn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

const arenas = new Map<string, PosixModule.RecvArena>();

function arenaOf(P: Posix, max: number, slotBytes: number): PosixModule.RecvArena {
  const key = `${max}/${slotBytes}`;
  let a = arenas.get(key);
  if (!a) {
    a = new P.RecvArena(max, slotBytes);
    arenas.set(key, a);
  }
  return a;
}

/** An epoll set watching `fd` for EPOLLIN, closed by the returned function. */
function watchIn(P: Posix, fd: number): { ep: number; close: () => void } {
  const K = P.constants as Record<string, number>;
  const ep = P.ff_epoll_create();
  try {
    P.ff_epoll_ctl(ep, K.EPOLL_CTL_ADD as number, fd, { events: K.EPOLLIN as number, data: fd });
  } catch (err) {
    P.ff_close(ep);
    throw err;
  }
  return {
    ep,
    close: () => {
      try {
        P.ff_close(ep);
      } catch {
        /* the socket or the stack is gone already */
      }
    },
  };
}

async function udpRecv(fd: number, o: UdpRecvOptions): Promise<UdpRecvResult> {
  const P = await posixApi();
  const K = P.constants as Record<string, number>;
  const count = o.count ?? 1;
  const timeoutMs = o.timeoutMs ?? 2_000;
  const smallBytes = o.smallBytes ?? 64;
  if (!Number.isInteger(count) || count < 0 || count > 100_000) throw new RangeError('count must be 0..100000');
  if (!Number.isInteger(timeoutMs) || timeoutMs < 0 || timeoutMs > 600_000) throw new RangeError('timeoutMs must be 0..600000');
  const w = watchIn(P, fd);
  const datagrams: DatagramInfo[] = [];
  try {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      while (datagrams.length < count) {
        const arena = arenaOf(P, Math.min(64, count - datagrams.length), 65536);
        let batch: PosixModule.ReceivedDatagram[];
        try {
          batch = P.ff_recvmmsg(fd, arena, K.MSG_DONTWAIT as number);
        } catch (err) {
          if ((err as { code?: string }).code === 'EAGAIN') break;
          throw err;
        }
        if (batch.length === 0) break;
        for (const d of batch) datagrams.push(describeDatagram(d.data, d.address, d.port, smallBytes));
      }
      const left = deadline - Date.now();
      if (datagrams.length >= count || left <= 0) break;
      await P.ff_epoll_wait_async(w.ep, 1, left);
    }
  } finally {
    w.close();
  }
  return { datagrams, timedOut: datagrams.length < count };
}

async function udpSend(fd: number, o: UdpSendOptions): Promise<UdpSendResult> {
  const P = await posixApi();
  const plan = sendPlan(o);
  const batch = o.batch ?? 32;
  const timeoutMs = o.timeoutMs ?? 10_000;
  if (!Number.isInteger(batch) || batch < 1 || batch > 1024) throw new RangeError('batch must be 1..1024');
  if (!Number.isInteger(timeoutMs) || timeoutMs < 1 || timeoutMs > 600_000) throw new RangeError('timeoutMs must be 1..600000');
  const to = o.to;
  const hashes: string[] | undefined = plan.count <= 1024 ? [] : undefined;
  const pending: Array<{ data: Uint8Array; to?: PosixModule.SockAddrIn }> = [];
  let made = 0;
  let sent = 0;
  let stalledSince = 0;
  let calls = 0;
  while (sent < plan.count) {
    while (pending.length < batch && made < plan.count) {
      const data = fillPayload(new Uint8Array(plan.size), plan.pattern, plan.startSeq + made);
      hashes?.push(sha1Hex(data));
      pending.push(to ? { data, to } : { data });
      made++;
    }
    let k = 0;
    try {
      k = P.ff_sendmmsg(fd, pending);
    } catch (err) {
      const code = (err as { code?: string }).code;
      if (code !== 'EAGAIN' && code !== 'ENOBUFS') throw err;
    }
    pending.splice(0, k);
    sent += k;
    if (k === 0) {
      // The send buffer is full: let the stack drain it.
      const now = Date.now();
      stalledSince ||= now;
      if (now - stalledSince > timeoutMs) {
        throw Object.assign(new Error(`udpSend: send buffer stayed full for ${timeoutMs} ms after ${sent} datagrams`), { code: 'ETIMEDOUT' });
      }
      if (now - stalledSince > 5) await new Promise((r) => setTimeout(r, 1));
      else await turn();
      continue;
    }
    stalledSince = 0;
    // Keep the event loop (and, inline, the stack) turning during long sends.
    if (++calls % 16 === 0) await turn();
  }
  return hashes ? { sent, sha1: hashes } : { sent };
}

interface SeqCounter {
  expected: number;
  size: number | undefined;
  seen: Uint8Array;
  status: UdpCountStatus;
  stop: boolean;
  done: Promise<void>;
}

const counters = new Map<number, SeqCounter>();

function counterOf(fd: number): SeqCounter {
  const c = counters.get(fd);
  if (!c) throw Object.assign(new Error(`no sequence count runs on fd ${fd}`), { code: 'ENOENT' });
  return c;
}

function countStatus(c: SeqCounter): UdpCountStatus {
  return { ...c.status };
}

async function udpCountStart(fd: number, o: { expected?: number; size?: number }): Promise<UdpCountStatus> {
  const P = await posixApi();
  const K = P.constants as Record<string, number>;
  if (counters.has(fd)) throw Object.assign(new Error(`a sequence count already runs on fd ${fd}`), { code: 'EBUSY' });
  const expected = o.expected ?? 0;
  if (!Number.isInteger(expected) || expected < 1 || expected > 100_000_000) throw new RangeError('expected must be 1..100000000');
  const c: SeqCounter = {
    expected,
    size: o.size,
    seen: new Uint8Array(Math.ceil(expected / 8)),
    status: { received: 0, unique: 0, duplicates: 0, corrupt: 0, outOfRange: 0, running: true },
    stop: false,
    done: Promise.resolve(),
  };
  const w = watchIn(P, fd);
  const arena = new P.RecvArena(256, 2048);
  const loop = async (): Promise<void> => {
    const st = c.status;
    while (!c.stop) {
      let batch: PosixModule.ReceivedDatagram[] = [];
      try {
        batch = P.ff_recvmmsg(fd, arena, K.MSG_DONTWAIT as number);
      } catch (err) {
        if ((err as { code?: string }).code !== 'EAGAIN') throw err;
      }
      if (batch.length === 0) {
        await P.ff_epoll_wait_async(w.ep, 1, 100);
        continue;
      }
      for (const d of batch) {
        st.received++;
        const seq = (c.size !== undefined && d.data.length !== c.size) || d.flags !== 0 ? -1 : checkSeqPayload(d.data);
        if (seq < 0) st.corrupt++;
        else if (seq >= expected) st.outOfRange++;
        else {
          const bit = 1 << (seq & 7);
          const i = seq >>> 3;
          if ((c.seen[i] as number) & bit) st.duplicates++;
          else {
            c.seen[i] = (c.seen[i] as number) | bit;
            st.unique++;
          }
        }
      }
      await turn();
    }
  };
  c.done = loop().then(
    () => {
      c.status.running = false;
      w.close();
    },
    (err: unknown) => {
      c.status.running = false;
      c.status.error = errorBody(err).code ?? errorBody(err).message;
      w.close();
    },
  );
  counters.set(fd, c);
  return countStatus(c);
}

async function udpCountStop(fd: number): Promise<UdpCountStatus> {
  const c = counterOf(fd);
  c.stop = true;
  await c.done;
  counters.delete(fd);
  const firstMissing: number[] = [];
  let missing = 0;
  for (let seq = 0; seq < c.expected; seq++) {
    if (((c.seen[seq >>> 3] as number) & (1 << (seq & 7))) === 0) {
      missing++;
      if (firstMissing.length < 20) firstMissing.push(seq);
    }
  }
  return { ...countStatus(c), missing, firstMissing };
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
