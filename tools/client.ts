/**
 * Finding running stacks and talking to their control servers (stack/ctl/ctl.h).
 *
 * Each stack process listens on `<EAL runtime dir>/ffnet.<pid>.sock`; runtime dirs live under
 * /var/run/dpdk (root) or $XDG_RUNTIME_DIR/dpdk, else /tmp/dpdk (other users), one per EAL file
 * prefix, mode 0700. A socket whose process crashed refuses connections: it is skipped. A directory
 * or socket of another user is reported as "permission denied", never waited on.
 *
 * The protocol is one request line `COMMAND key=value ...` and one JSON reply line
 * `{"ok":true,"data":...}` or `{"ok":false,"code":"ERANGE","error":"..."}`.
 */
import { readdirSync, statSync } from 'node:fs';
import { createConnection, type Socket } from 'node:net';
import { join } from 'node:path';
import { addonUnavailable } from '../native/index.js';
import { ToolError } from './command.js';

/** The `info` reply of a stack (stack/ctl/stack_cmds.c). */
export interface StackInfo {
  pid: number;
  program: string;
  argv: string[];
  uid: number;
  started_ms: number;
  uptime_ms: number;
  file_prefix: string;
  runtime_dir: string;
  mode: 'inline' | 'dedicated';
  lcores: Array<{ index: number; lcore_id: number }>;
  ports: Array<{ index: number; port_id: number; name: string }>;
  proc_type: 'primary' | 'secondary';
  proc_queue: number;
  dpdk_version: string;
  ffnet_version: string;
}

/** A control socket found in a runtime dir. */
export interface StackEntry {
  pid: number;
  /** The socket's path. */
  path: string;
  /** The EAL file prefix (the runtime dir's name). */
  filePrefix: string;
  /** The stack's `info`, when it answered. */
  info?: StackInfo;
}

/** What a scan found besides live stacks: places it may not look into. */
export interface StackScan {
  stacks: StackEntry[];
  /** Directories or sockets refused to us, with their owner. */
  denied: Array<{ path: string; uid: number }>;
  /** The base directories looked in. */
  looked: string[];
}

/**
 * "no ffnet stack is running (looked in …)", and when this installation of ffnet cannot use its native
 * addon, why (no program of it can have started a stack).
 */
export function noStackMessage(looked: string[]): string {
  const unavailable = addonUnavailable();
  return `no ffnet stack is running (looked in ${looked.join(', ')})${unavailable ? `; ${unavailable}` : ''}`;
}

/** Default time a request may take. */
export const REQUEST_TIMEOUT_MS = 5_000;

/** The base directories DPDK puts runtime dirs in, for this user (eal_create_runtime_dir's rule). */
export function runtimeBases(): string[] {
  const root = process.getuid?.() === 0;
  if (root) return ['/var/run/dpdk'];
  const own = process.env.XDG_RUNTIME_DIR ? join(process.env.XDG_RUNTIME_DIR, 'dpdk') : '/tmp/dpdk';
  return [own, '/var/run/dpdk'];
}

function ownerOf(path: string): number {
  try {
    return statSync(path).uid;
  } catch {
    return -1;
  }
}

function errCode(err: unknown): string | undefined {
  return (err as NodeJS.ErrnoException | undefined)?.code;
}

/** A denied-path error line. */
export function deniedMessage(d: { path: string; uid: number }): string {
  return `permission denied: ${d.path} belongs to uid ${d.uid} (run as that user or root)`;
}

/** One line naming a stack: "1234 app.js". */
export function describeStack(s: StackEntry): string {
  return `${s.pid} ${s.info?.program ?? s.filePrefix}`;
}

/**
 * Scans the runtime dirs (`bases`: runtimeBases()) for control sockets and asks each for its `info`.
 * Sockets nobody listens on (a crashed stack) are left out; sockets of another user are listed in
 * `denied`.
 */
export async function scanStacks(bases: string[] = runtimeBases()): Promise<StackScan> {
  const scan: StackScan = { stacks: [], denied: [], looked: bases };
  const found: Array<{ pid: number; path: string; filePrefix: string }> = [];
  for (const base of scan.looked) {
    let prefixes: string[];
    try {
      prefixes = readdirSync(base);
    } catch (err) {
      if (errCode(err) === 'EACCES') scan.denied.push({ path: base, uid: ownerOf(base) });
      continue;
    }
    for (const prefix of prefixes) {
      const dir = join(base, prefix);
      let names: string[];
      try {
        names = readdirSync(dir);
      } catch (err) {
        if (errCode(err) === 'EACCES') scan.denied.push({ path: dir, uid: ownerOf(dir) });
        continue;
      }
      for (const name of names) {
        const m = /^ffnet\.(\d+)\.sock$/.exec(name);
        if (m) found.push({ pid: Number(m[1]), path: join(dir, name), filePrefix: prefix });
      }
    }
  }
  await Promise.all(
    found.map(async (f) => {
      let client: CtlClient | undefined;
      try {
        client = await CtlClient.connect(f.path);
        const info = await client.request<StackInfo>('info');
        scan.stacks.push({ ...f, info });
      } catch (err) {
        if (err instanceof ToolError && err.code === 'EACCES') scan.denied.push({ path: f.path, uid: ownerOf(f.path) });
        // Anything else (ECONNREFUSED: the process is gone, ENOENT: it just stopped) is no stack.
      } finally {
        client?.close();
      }
    }),
  );
  scan.stacks.sort((a, b) => a.pid - b.pid);
  return scan;
}

/** The running stacks this user can reach (see scanStacks). */
export async function listStacks(): Promise<StackEntry[]> {
  return (await scanStacks()).stacks;
}

/** Whether a stack answers to `target`: its pid, program name or file prefix. */
export function matches(s: StackEntry, target: string): boolean {
  return String(s.pid) === target || s.info?.program === target || s.filePrefix === target;
}

/**
 * Connects to the stack `target` names (pid, program or file prefix), or to the only running stack.
 * Throws a ToolError with one line when there is none, several, or it is another user's.
 */
export async function connectStack(target?: string): Promise<CtlClient> {
  const scan = await scanStacks();
  const candidates = target === undefined ? scan.stacks : scan.stacks.filter((s) => matches(s, target));
  if (candidates.length === 1) return CtlClient.connect(candidates[0]!.path);
  if (candidates.length > 1) {
    throw new ToolError(`several stacks run (${candidates.map(describeStack).join(', ')}): choose one with -p`);
  }
  const denied = scan.denied[0];
  if (scan.stacks.length === 0) {
    if (denied) throw new ToolError(deniedMessage(denied));
    throw new ToolError(noStackMessage(scan.looked));
  }
  throw new ToolError(`no stack matches '${target}' (running: ${scan.stacks.map(describeStack).join(', ')})`);
}

/** A reply line of the control server. */
interface Reply<T> {
  ok: boolean;
  data?: T;
  code?: string;
  error?: string;
}

/** Request arguments: each becomes key=value on the request line. */
export type CtlArgs = Record<string, string | number | boolean | undefined>;

/** One connection to a stack's control server; requests are answered in order. */
export class CtlClient {
  readonly path: string;
  private readonly socket: Socket;
  private buffered: Buffer = Buffer.alloc(0);
  private waiting: Array<(line: string | Error) => void> = [];
  private failure?: Error;
  /** A streaming request was sent: after its reply line, the bytes are the caller's. */
  private streaming = false;

  private constructor(path: string, socket: Socket) {
    this.path = path;
    this.socket = socket;
    socket.on('data', this.onData);
    socket.on('error', (err) => this.fail(err));
    socket.on('close', () => this.fail(new ToolError(`the stack closed the connection (${path})`)));
  }

  /** Connects to the socket at `path`. ToolError codes: EACCES, ECONNREFUSED, ENOENT. */
  static connect(path: string): Promise<CtlClient> {
    return new Promise((resolve, reject) => {
      const socket = createConnection({ path });
      const onError = (err: NodeJS.ErrnoException) => {
        socket.destroy();
        if (err.code === 'EACCES') reject(new ToolError(deniedMessage({ path, uid: ownerOf(path) }), 1, 'EACCES'));
        else if (err.code === 'ECONNREFUSED') reject(new ToolError(`the stack of ${path} is not running (connection refused)`, 1, 'ECONNREFUSED'));
        else reject(new ToolError(`${path}: ${err.message}`, 1, err.code));
      };
      socket.once('error', onError);
      socket.once('connect', () => {
        socket.off('error', onError);
        resolve(new CtlClient(path, socket));
      });
    });
  }

  private readonly onData = (chunk: Buffer) => {
    this.buffered = this.buffered.length ? Buffer.concat([this.buffered, chunk]) : chunk;
    for (let nl = this.buffered.indexOf(0x0a); nl >= 0; nl = this.buffered.indexOf(0x0a)) {
      const line = this.buffered.subarray(0, nl).toString('utf8');
      this.buffered = this.buffered.subarray(nl + 1);
      if (this.streaming) {
        // The rest is the stream: hand the socket over with those bytes put back.
        this.socket.off('data', this.onData);
        this.socket.pause();
        if (this.buffered.length) this.socket.unshift(this.buffered);
        this.buffered = Buffer.alloc(0);
      }
      this.waiting.shift()?.(line);
      if (this.streaming) return;
    }
  };

  private fail(err: Error): void {
    this.failure ??= err;
    for (const w of this.waiting.splice(0)) w(this.failure);
  }

  private static line(cmd: string, args: CtlArgs): string {
    const parts = [cmd];
    for (const [k, v] of Object.entries(args)) {
      if (v === undefined) continue;
      const s = String(v);
      if (/[\s]/.test(s) || /[\s=]/.test(k)) throw new ToolError(`${k}: '${s}' may not contain spaces`, 2);
      parts.push(`${k}=${s}`);
    }
    return `${parts.join(' ')}\n`;
  }

  private nextLine(cmd: string, timeoutMs: number): Promise<string> {
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        const i = this.waiting.indexOf(settle);
        if (i >= 0) this.waiting.splice(i, 1);
        // The reply may still come: this connection can no longer tell which request it answers.
        this.fail(new ToolError(`the stack did not answer '${cmd}' within ${timeoutMs / 1000} s`, 1, 'ETIMEDOUT'));
        reject(this.failure);
      }, timeoutMs);
      const settle = (line: string | Error) => {
        clearTimeout(timer);
        if (line instanceof Error) reject(line);
        else resolve(line);
      };
      this.waiting.push(settle);
    });
  }

  private static parse<T>(cmd: string, line: string): T {
    let reply: Reply<T>;
    try {
      reply = JSON.parse(line) as Reply<T>;
    } catch {
      throw new ToolError(`the stack's reply to '${cmd}' is not JSON: ${line.slice(0, 80)}`);
    }
    if (!reply.ok) throw new ToolError(reply.error ?? 'the stack refused the request', 1, reply.code ?? 'EIO');
    return reply.data as T;
  }

  /**
   * Sends a request and resolves to its reply's data; rejects with a ToolError carrying the stack's
   * message and code (ENOENT, ERANGE, ...) when it refused, or ETIMEDOUT after `timeoutMs`.
   */
  async request<T>(cmd: string, args: CtlArgs = {}, timeoutMs = REQUEST_TIMEOUT_MS): Promise<T> {
    const line = CtlClient.line(cmd, args);
    const reply = this.nextLine(cmd, timeoutMs);
    this.socket.write(line);
    return CtlClient.parse<T>(cmd, await reply);
  }

  /**
   * For a streaming command (capture): sends the request, waits for its reply line, and hands over
   * the socket, positioned at the first byte of the stream (no encoding set; the client no longer
   * reads it). The server closes the connection when the stream ends.
   */
  async stream<T>(cmd: string, args: CtlArgs = {}, timeoutMs = REQUEST_TIMEOUT_MS): Promise<{ reply: T; socket: Socket }> {
    const line = CtlClient.line(cmd, args);
    this.streaming = true;
    const reply = this.nextLine(cmd, timeoutMs);
    this.socket.write(line);
    const data = CtlClient.parse<T>(cmd, await reply);
    this.socket.removeAllListeners('close');
    this.socket.removeAllListeners('error');
    return { reply: data, socket: this.socket };
  }

  /** Closes the connection. */
  close(): void {
    this.socket.destroy();
  }
}
