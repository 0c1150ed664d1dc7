/**
 * The parent side of the kernel's UDP peer: starts kernel-udp-host.js inside a namespace and drives
 * the Linux kernel's UDP sockets (node:dgram) there, so a test can put the kernel on the other end
 * of an ffnet socket.
 *
 * Contract: `KernelUdp.start(ns)` resolves once the process is ready; every call has a timeout; the
 * process dies with the namespace, with this process (its stdin closes), or through `close()`.
 */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { ChildProcess } from 'node:child_process';
import type { Netns } from './netns.js';
import type { DatagramInfo, PayloadPattern } from './payload.js';
import { StackProcessError, parseProtocolLine, stackHostPath } from './stack-process.js';

/** Options of a generated send (testbed/payload.ts patterns). */
export interface KernelSendOptions {
  to?: { address: string; port: number };
  size?: number;
  count?: number;
  pattern?: PayloadPattern;
  startSeq?: number;
}

interface Pending {
  resolve: (v: unknown) => void;
  reject: (e: Error) => void;
  timer: NodeJS.Timeout;
  method: string;
}

/** kernel-udp-host.js next to stack-host.js. */
export function kernelUdpHostPath(): string {
  return join(dirname(stackHostPath()), 'kernel-udp-host.js');
}

/** A process of kernel UDP sockets inside a namespace. */
export class KernelUdp {
  readonly #child: ChildProcess;
  readonly #pending = new Map<number, Pending>();
  #nextId = 1;
  #stderr = '';
  #exited = false;

  private constructor(child: ChildProcess) {
    this.#child = child;
  }

  /** Starts the process in `ns` and waits (10 s at most) for it to be ready. */
  static async start(ns: Netns): Promise<KernelUdp> {
    const path = kernelUdpHostPath();
    if (!existsSync(path)) throw new Error(`${path} not found: build the TypeScript first (npm run build:ts)`);
    const child = ns.spawn(process.execPath, [path], { stdio: ['pipe', 'pipe', 'pipe'] });
    const k = new KernelUdp(child);
    child.stderr?.setEncoding('utf8').on('data', (d: string) => (k.#stderr = (k.#stderr + d).slice(-8_000)));
    child.stdin?.on('error', () => {});
    let ready: () => void = () => {};
    const readyP = new Promise<void>((resolve) => (ready = resolve));
    let partial = '';
    child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
      const lines = (partial + chunk).split('\n');
      partial = lines.pop() ?? '';
      for (const line of lines) {
        const msg = parseProtocolLine(line);
        if (!msg) continue;
        if (msg.event === 'ready') ready();
        else k.#onMessage(msg);
      }
    });
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    void exited.then(() => {
      k.#exited = true;
      for (const [id, p] of k.#pending) {
        clearTimeout(p.timer);
        k.#pending.delete(id);
        p.reject(new StackProcessError(`${p.method}: kernel UDP process exited\n${k.#stderr}`, 'ERR_PEER_EXITED'));
      }
    });
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        readyP,
        exited.then(() => Promise.reject(new Error(`kernel UDP process exited before it was ready\n${k.#stderr}`))),
        new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`kernel UDP process not ready after 10 s\n${k.#stderr}`)), 10_000))),
      ]);
    } catch (err) {
      child.kill('SIGKILL');
      throw err;
    } finally {
      clearTimeout(timer);
    }
    return k;
  }

  /** Calls `method`; rejects with the peer's error (message and code) or after `timeoutMs`. */
  call<T>(timeoutMs: number, method: string, ...params: unknown[]): Promise<T> {
    if (this.#exited) return Promise.reject(new StackProcessError(`${method}: kernel UDP process has exited`, 'ERR_PEER_EXITED'));
    const id = this.#nextId++;
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(id);
        reject(new StackProcessError(`${method}: no answer from the kernel UDP process within ${timeoutMs} ms`, 'ETIMEDOUT'));
      }, timeoutMs);
      this.#pending.set(id, { resolve: resolve as (v: unknown) => void, reject, timer, method });
      this.#child.stdin?.write(`${JSON.stringify({ id, method, params })}\n`);
    });
  }

  /** A new kernel UDP socket (recording what it receives); resolves to its id. */
  open(opts: { reuseAddr?: boolean; recvBufferSize?: number; smallBytes?: number; type?: 'udp4' | 'udp6' } = {}): Promise<number> {
    return this.call<number>(5_000, 'open', opts);
  }

  bind(sid: number, addr: { address?: string; port?: number } = {}): Promise<{ address: string; port: number }> {
    return this.call(5_000, 'bind', sid, addr);
  }

  /** open + bind; resolves to the socket id and its port. */
  async socket(addr: { address?: string; port?: number } = {}, opts: { reuseAddr?: boolean; recvBufferSize?: number; smallBytes?: number; type?: 'udp4' | 'udp6' } = {}): Promise<{ sid: number; port: number }> {
    const sid = await this.open(opts);
    const a = await this.bind(sid, addr);
    return { sid, port: a.port };
  }

  connect(sid: number, to: { address: string; port: number }): Promise<void> {
    return this.call<null>(5_000, 'connect', sid, to).then(() => undefined);
  }

  /** Calls a setter of the dgram socket: setBroadcast, addMembership, setMulticastInterface, ... */
  set(sid: number, method: string, ...args: unknown[]): Promise<void> {
    return this.call<null>(5_000, method, sid, ...args).then(() => undefined);
  }

  /** Sends generated datagrams one by one; send errors are returned, not thrown. */
  send(sid: number, opts: KernelSendOptions): Promise<{ sent: number; sha1: string[]; errors: string[] }> {
    return this.call(10_000 + (opts.count ?? 1), 'send', sid, opts);
  }

  /** Takes up to `count` received datagrams, waiting up to `timeoutMs` for them. */
  recv(sid: number, opts: { count?: number; timeoutMs?: number } = {}): Promise<{ datagrams: DatagramInfo[]; timedOut: boolean }> {
    return this.call(5_000 + (opts.timeoutMs ?? 2_000), 'recv', sid, opts);
  }

  /** Codes of the socket's error events since the last call. */
  errors(sid: number): Promise<string[]> {
    return this.call(5_000, 'errors', sid);
  }

  closeSocket(sid: number): Promise<void> {
    return this.call<null>(5_000, 'close', sid).then(() => undefined);
  }

  /** Ends the process (closing its stdin). */
  close(): void {
    this.#child.stdin?.end();
  }

  #onMessage(msg: Record<string, unknown>): void {
    if (typeof msg.id !== 'number') return;
    const p = this.#pending.get(msg.id);
    if (!p) return;
    this.#pending.delete(msg.id);
    clearTimeout(p.timer);
    if (msg.error && typeof msg.error === 'object') {
      const e = msg.error as { message?: unknown; code?: unknown };
      p.reject(new StackProcessError(`${p.method}: ${String(e.message)}`, typeof e.code === 'string' ? e.code : undefined));
    } else {
      p.resolve(msg.result);
    }
  }
}
