/**
 * The parent side of the test bench: starts an ffnet stack in its own process inside a test's
 * namespace and drives it over the JSON-lines protocol of stack-host.ts.
 *
 * Contract: `StackProcess.start()` resolves once the stack reported ready (its ports known), or
 * rejects with the stack's own error message and the tail of its output. Every call has a timeout.
 * The stack process dies with its namespace (`Netns.destroy()`), with this process (its stdin
 * closes), or through `close()`.
 *
 * The host writes protocol lines to fd 3, a pipe of their own, so that nothing else the process prints
 * on stdout (the EAL's usage text after a bad argument, a PMD's printf) can split them; lines on stdout
 * that parse as protocol messages are accepted too, everything else there is kept as text. DPDK's log
 * goes to the sink `[dpdk] log` names, nowhere by default: unless the config names one, the stack
 * process sends it to stderr, so that the output tail a failure reports shows what DPDK said.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ChildProcess } from 'node:child_process';
import type { NetworkInterfaceInfo } from 'node:os';
import type { Readable } from 'node:stream';
import type { Netns } from './netns.js';
import type { NativeNeighbour, NativePortInfo, NativeRoute } from '../native/index.js';
import type {
  HostedPingOptions,
  HostedPingReply,
  HostedStats,
  UdpCountStatus,
  UdpRecvOptions,
  UdpRecvResult,
  UdpSendOptions,
  UdpSendResult,
} from './stack-host.js';
import type { PayloadPattern } from './payload.js';

export type { UdpCountStatus, UdpRecvOptions, UdpRecvResult, UdpSendResult } from './stack-host.js';
export type { DatagramInfo, WireBytes } from './payload.js';

/** Options of {@link StackProcess.udpSend}. */
export type UdpSendOpts = Omit<UdpSendOptions, 'pattern'> & { pattern?: PayloadPattern };

/** An ffnet configuration as plain data, one object per INI section: `{ dpdk: {...}, port0: {...} }`. */
export type RawConfig = Record<string, Record<string, unknown>>;
/** Counters (summed and per lcore) and mempool occupancy, as `Stack.stats()` returns them. */
export type StackStats = HostedStats;
/** Options of a stack-originated ping. */
export type PingOptions = HostedPingOptions;
/** One echo reply; rttUs is -1 when no reply came before the timeout. */
export type PingReply = HostedPingReply;

/** Options of {@link StackProcess.start}. */
export interface StackProcessOptions {
  /** How long the stack may take to report ready. Default 30 000 ms. */
  readyTimeoutMs?: number;
  /** Default timeout of each call. Default 15 000 ms. */
  callTimeoutMs?: number;
  /** Extra environment for the stack process. */
  env?: Record<string, string>;
}

/**
 * An error reported by the stack process, with its code (e.g. 'EADDRINUSE') when it had one, and
 * for a failed ff_* call its errno (negative, as Node reports it) and syscall ('ff_bind').
 */
export class StackProcessError extends Error {
  readonly code: string | undefined;
  readonly errno: number | undefined;
  readonly syscall: string | undefined;
  constructor(message: string, code?: string, errno?: number, syscall?: string) {
    super(message);
    this.name = 'StackProcessError';
    this.code = code;
    this.errno = errno;
    this.syscall = syscall;
  }
}

interface Pending {
  resolve: (v: unknown) => void;
  reject: (e: Error) => void;
  timer: NodeJS.Timeout;
  method: string;
}

const OUTPUT_CAP = 1024 * 1024;
const TAIL_CHARS = 4_000;

/** Locates dist/testbed/stack-host.js from this file, in the source tree or in dist/ (or FFNET_STACK_HOST). */
export function stackHostPath(): string {
  if (process.env.FFNET_STACK_HOST) return process.env.FFNET_STACK_HOST;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 5; i++) {
    const pkg = join(dir, 'package.json');
    if (existsSync(pkg)) {
      try {
        if ((JSON.parse(readFileSync(pkg, 'utf8')) as { name?: string }).name === 'ffnet') {
          return join(dir, 'dist', 'testbed', 'stack-host.js');
        }
      } catch {
        /* not ours; keep climbing */
      }
    }
    dir = resolve(dir, '..');
  }
  throw new Error('cannot find the ffnet package root above testbed/stack-process');
}

/** An ffnet stack running in a child process inside a namespace. */
export class StackProcess {
  /** The stack's ports as reported when it became ready. */
  readonly ports: NativePortInfo[];
  /** The namespace the stack runs in. */
  readonly ns: Netns;
  readonly #child: ChildProcess;
  readonly #pending = new Map<number, Pending>();
  readonly #exited: Promise<number | null>;
  readonly #callTimeoutMs: number;
  #nextId = 1;
  #constants: Promise<Record<string, number>> | undefined;
  #exitCode: number | null | undefined;
  #out: Output;

  private constructor(ns: Netns, child: ChildProcess, ports: NativePortInfo[], out: Output, exited: Promise<number | null>, callTimeoutMs: number) {
    this.ns = ns;
    this.#child = child;
    this.ports = ports;
    this.#out = out;
    this.#exited = exited;
    this.#callTimeoutMs = callTimeoutMs;
    out.onMessage = (msg) => this.#onMessage(msg);
    void exited.then((code) => {
      this.#exitCode = code;
      const why = `stack process exited (code ${code}) with calls pending${this.#tail()}`;
      for (const [id, p] of this.#pending) {
        clearTimeout(p.timer);
        this.#pending.delete(id);
        p.reject(new StackProcessError(`${p.method}: ${why}`, 'ERR_STACK_EXITED'));
      }
    });
  }

  /**
   * Starts `node dist/testbed/stack-host.js` inside `ns` with `config` and waits until the stack is
   * ready. Rejects with the stack's error and output tail if it fails or times out (the child is
   * then killed). Needs the TypeScript build (`npm run build:ts`) and the native addon.
   */
  static async start(ns: Netns, config: RawConfig, opts: StackProcessOptions = {}): Promise<StackProcess> {
    const hostPath = stackHostPath();
    if (!existsSync(hostPath)) {
      throw new Error(`${hostPath} not found: build the TypeScript first (npm run build:ts)`);
    }
    const child = ns.spawn(process.execPath, [hostPath], {
      stdio: ['pipe', 'pipe', 'pipe', 'pipe'],
      env: {
        ...process.env,
        ...opts.env,
        FFNET_STACK_HOST_CONFIG: JSON.stringify(benchConfig(config)),
        FFNET_STACK_HOST_FD: '3',
      },
    });
    const out = new Output(child);
    const exited = new Promise<number | null>((resolve) => {
      child.once('exit', (code, signal) => resolve(code ?? (signal ? -1 : null)));
      child.once('error', (err) => {
        out.stderr += `\nspawn failed: ${err.message}`;
        resolve(null);
      });
    });
    const readyTimeoutMs = opts.readyTimeoutMs ?? 30_000;

    let timer: NodeJS.Timeout | undefined;
    try {
      const ports = await new Promise<NativePortInfo[]>((resolve, reject) => {
        out.onMessage = (msg) => {
          if (msg.event === 'ready') resolve(Array.isArray(msg.ports) ? (msg.ports as NativePortInfo[]) : []);
          else if (msg.event === 'error' || msg.event === 'fatal') {
            reject(new StackProcessError(`stack failed to start: ${String(msg.message)}${tailOf(out)}`, optString(msg.code)));
          }
        };
        void exited.then((code) =>
          reject(new StackProcessError(`stack process exited (code ${code}) before it was ready${tailOf(out)}`, 'ERR_STACK_EXITED')),
        );
        timer = setTimeout(
          () => reject(new StackProcessError(`stack not ready after ${readyTimeoutMs} ms${tailOf(out)}`, 'ETIMEDOUT')),
          readyTimeoutMs,
        );
      });
      return new StackProcess(ns, child, ports, out, exited, opts.callTimeoutMs ?? 15_000);
    } catch (err) {
      child.kill('SIGKILL');
      await exited;
      throw err;
    } finally {
      clearTimeout(timer);
    }
  }

  /** The stack process's pid (that of the node process inside the namespace). */
  get pid(): number | undefined {
    return this.#child.pid;
  }

  /** Whether the stack process has exited. */
  get exited(): boolean {
    return this.#exitCode !== undefined;
  }

  /**
   * Calls `method` on the stack with JSON-serialisable `params` and resolves to its result. Rejects
   * with the stack's error (message and code), if the process exits, or after the call timeout.
   */
  call<T>(method: string, ...params: unknown[]): Promise<T> {
    return this.callWithTimeout<T>(this.#callTimeoutMs, method, ...params);
  }

  /** {@link call} with an explicit timeout in milliseconds. */
  callWithTimeout<T>(timeoutMs: number, method: string, ...params: unknown[]): Promise<T> {
    if (this.#exitCode !== undefined) {
      return Promise.reject(new StackProcessError(`${method}: stack process has exited (code ${this.#exitCode})${this.#tail()}`, 'ERR_STACK_EXITED'));
    }
    const id = this.#nextId++;
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(id);
        reject(new StackProcessError(`${method}: no answer from the stack within ${timeoutMs} ms${this.#tail()}`, 'ETIMEDOUT'));
      }, timeoutMs);
      this.#pending.set(id, { resolve: resolve as (v: unknown) => void, reject, timer, method });
      this.#child.stdin?.write(`${JSON.stringify({ id, method, params })}\n`);
    });
  }

  /** Counters summed over lcores and per lcore, and mempool occupancy. */
  stats(): Promise<StackStats> {
    return this.call<StackStats>('stats');
  }

  /** The ports as they are now (link state, device counters). */
  currentPorts(): Promise<NativePortInfo[]> {
    return this.call<NativePortInfo[]>('ports');
  }

  /** The ports as os.networkInterfaces() lists them under ffnet/register (Stack#networkInterfaces). */
  networkInterfaces(): Promise<Record<string, NetworkInterfaceInfo[]>> {
    return this.call<Record<string, NetworkInterfaceInfo[]>>('networkInterfaces');
  }

  /** The neighbour (ARP) table. */
  neighbours(): Promise<NativeNeighbour[]> {
    return this.call<NativeNeighbour[]>('neighbours');
  }

  /** Adds a permanent neighbour entry. */
  addNeighbour(portId: number, addr: string, mac: string): Promise<void> {
    return this.call<null>('addNeighbour', portId, addr, mac).then(() => undefined);
  }

  /** Removes a neighbour entry; resolves to whether one existed. */
  deleteNeighbour(portId: number, addr: string): Promise<boolean> {
    return this.call<boolean>('deleteNeighbour', portId, addr);
  }

  /** The IPv4 routing table (Stack.routes). */
  routes(): Promise<NativeRoute[]> {
    return this.call<NativeRoute[]>('routes');
  }

  /** Adds a static route (Stack.addRoute); rejects with the stack's error code. */
  addRoute(route: { dest: string; via: string; src?: string; metric?: number }): Promise<void> {
    return this.call<null>('addRoute', route).then(() => undefined);
  }

  /** Deletes a static route (Stack.deleteRoute); rejects with the stack's error code. */
  deleteRoute(dest: string, opts: { metric?: number } = {}): Promise<void> {
    return this.call<null>('deleteRoute', dest, opts).then(() => undefined);
  }

  /** Pings `dst` from the stack; the call's timeout covers every request and its reply. */
  ping(dst: string, opts: PingOptions = {}): Promise<PingReply[]> {
    const count = opts.count ?? 1;
    const budget = count * ((opts.intervalMs ?? 1_000) + (opts.timeoutMs ?? 1_000)) + this.#callTimeoutMs;
    return this.callWithTimeout<PingReply[]>(budget, 'ping', dst, opts);
  }

  /** Reads a tunable, or sets it first when `value` is given; resolves to its value. */
  sysctl(name: string, value?: number): Promise<number> {
    return value === undefined ? this.call<number>('sysctl', name) : this.call<number>('sysctl', name, value);
  }

  /**
   * Calls the ffnet/posix export `name` inside the stack process (see stack-host.ts for the argument
   * encoding: `{hex}`/`{base64}` payloads, `{buffer: n}`, `{arena: {max, slotBytes}}`). A failed
   * call rejects with a StackProcessError whose code is the errno name ('EACCES').
   */
  posix<T = unknown>(name: string, ...args: unknown[]): Promise<T> {
    return this.call<T>('posix', name, ...args);
  }

  /** The socket constants of ffnet/posix (AF_INET, EPOLLIN, ...), fetched once. */
  async constants(): Promise<Readonly<Record<string, number>>> {
    this.#constants ??= this.posix<Record<string, number>>('constants');
    return this.#constants;
  }

  /** ff_socket(AF_INET, SOCK_DGRAM | extraType), optionally bound. Resolves to the fd. */
  async udpSocket(bindTo?: { address: string; port: number }, extraType = 0): Promise<number> {
    const K = await this.constants();
    const fd = await this.posix<number>('ff_socket', K.AF_INET, (K.SOCK_DGRAM as number) | extraType, 0);
    if (bindTo) await this.posix('ff_bind', fd, bindTo);
    return fd;
  }

  /** Waits (ff_epoll_wait_async) for `count` datagrams on `fd`, or until `timeoutMs`; see stack-host.ts. */
  udpRecv(fd: number, opts: UdpRecvOptions = {}): Promise<UdpRecvResult> {
    return this.callWithTimeout<UdpRecvResult>((opts.timeoutMs ?? 2_000) + this.#callTimeoutMs, 'udpRecv', fd, opts);
  }

  /** Sends `count` generated datagrams from `fd` in ff_sendmmsg batches; see stack-host.ts. */
  udpSend(fd: number, opts: UdpSendOpts): Promise<UdpSendResult> {
    return this.callWithTimeout<UdpSendResult>((opts.timeoutMs ?? 10_000) + this.#callTimeoutMs + (opts.count ?? 1) / 10, 'udpSend', fd, opts);
  }

  /** Starts counting `seq` datagrams on `fd` in the stack process (a bitmap of `expected` numbers). */
  udpCountStart(fd: number, opts: { expected: number; size?: number }): Promise<UdpCountStatus> {
    return this.call<UdpCountStatus>('udpCountStart', fd, opts);
  }

  /** Progress of the count on `fd`. */
  udpCountStatus(fd: number): Promise<UdpCountStatus> {
    return this.call<UdpCountStatus>('udpCountStatus', fd);
  }

  /** Ends the count on `fd`: final counts, how many sequence numbers are missing and the first of them. */
  udpCountStop(fd: number): Promise<UdpCountStatus> {
    return this.call<UdpCountStatus>('udpCountStop', fd);
  }

  /** mbufs of the packet pool in use, and the pool's size. */
  mempool(): Promise<{ inUse: number; size: number }> {
    return this.call<{ inUse: number; size: number }>('mempool');
  }

  /**
   * Asks the stack to close and waits for the process to exit; kills it (SIGKILL) if it has not
   * exited after `timeoutMs` (default 10 000). Resolves to the exit code (-1 when killed).
   */
  async close(timeoutMs = 10_000): Promise<number | null> {
    if (this.#exitCode !== undefined) return this.#exitCode;
    this.callWithTimeout(timeoutMs, 'close').catch(() => {
      /* the exit below is what counts */
    });
    const killer = setTimeout(() => this.#child.kill('SIGKILL'), timeoutMs);
    try {
      return await this.#exited;
    } finally {
      clearTimeout(killer);
    }
  }

  /** Everything the stack process wrote so far (stdout, and stderr with DPDK's log unless the config sent it elsewhere), for diagnostics. */
  output(): { stdout: string; stderr: string } {
    return { stdout: this.#out.stdout, stderr: this.#out.stderr };
  }

  #tail(): string {
    return tailOf(this.#out);
  }

  #onMessage(msg: Record<string, unknown>): void {
    if (typeof msg.id !== 'number') {
      if (msg.event === 'fatal') this.#out.stderr += `\n[stack fatal] ${String(msg.message)}`;
      return;
    }
    const p = this.#pending.get(msg.id);
    if (!p) return;
    this.#pending.delete(msg.id);
    clearTimeout(p.timer);
    if (msg.error && typeof msg.error === 'object') {
      const e = msg.error as { message?: unknown; code?: unknown; errno?: unknown; syscall?: unknown };
      p.reject(
        new StackProcessError(`${p.method}: ${String(e.message)}`, optString(e.code), typeof e.errno === 'number' ? e.errno : undefined, optString(e.syscall)),
      );
    } else {
      p.resolve(msg.result);
    }
  }
}

/** The child's output streams: text kept for diagnostics, protocol lines handed to `onMessage`. */
class Output {
  stdout = '';
  stderr = '';
  onMessage: (msg: Record<string, unknown>) => void = () => {};

  constructor(child: ChildProcess) {
    const proto = child.stdio[3] as Readable | null | undefined;
    if (proto) this.#lines(proto, () => {});
    if (child.stdout) this.#lines(child.stdout, (chunk) => (this.stdout = capped(this.stdout + chunk)));
    child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (this.stderr = capped(this.stderr + chunk)));
    // The host may exit before its stdin is read; a write then fails with EPIPE, reported through the exit.
    child.stdin?.on('error', () => {});
  }

  #lines(stream: Readable, keep: (chunk: string) => void): void {
    let partial = '';
    stream.setEncoding('utf8').on('data', (chunk: string) => {
      keep(chunk);
      const lines = (partial + chunk).split('\n');
      partial = lines.pop() ?? '';
      if (partial.length > OUTPUT_CAP) partial = '';
      for (const line of lines) {
        const msg = parseProtocolLine(line);
        if (msg) this.onMessage(msg);
      }
    });
  }
}

/**
 * `config` as the test bench starts it: DPDK's log on stderr when it names no sink (`[dpdk] log`), and
 * no Duplicate Address Detection unless the config sets `net.inet6.ip6.dad_count` (the tests of DAD
 * do): a start otherwise waits RFC 4862's RetransTimer, 1 s, for its verdict.
 */
function benchConfig(config: RawConfig): RawConfig {
  const dpdk = config.dpdk?.log === undefined ? { ...config.dpdk, log: 'stderr' } : config.dpdk;
  return { ...config, dpdk, sysctl: { 'net.inet6.ip6.dad_count': 0, ...config.sysctl } };
}

/**
 * A protocol message if `line` is a JSON object with `event` or `id`, else undefined (any other text
 * the process printed).
 */
export function parseProtocolLine(line: string): Record<string, unknown> | undefined {
  const t = line.trim();
  if (!t.startsWith('{"')) return undefined;
  try {
    const v: unknown = JSON.parse(t);
    if (typeof v !== 'object' || v === null || Array.isArray(v)) return undefined;
    const o = v as Record<string, unknown>;
    return typeof o.event === 'string' || typeof o.id === 'number' ? o : undefined;
  } catch {
    return undefined;
  }
}

function tailOf(out: Output): string {
  const err = out.stderr.slice(-TAIL_CHARS).trim();
  const std = out.stdout.slice(-TAIL_CHARS).trim();
  return `${err ? `\n--- stack stderr (tail) ---\n${err}` : ''}${std ? `\n--- stack stdout (tail) ---\n${std}` : ''}`;
}

function capped(s: string): string {
  return s.length > OUTPUT_CAP ? s.slice(-OUTPUT_CAP) : s;
}

function optString(v: unknown): string | undefined {
  return typeof v === 'string' ? v : undefined;
}
