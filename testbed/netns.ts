/**
 * Private network namespaces for the test bench.
 *
 * Owns: creating a uniquely named namespace (`ffnet-<label>-<pid>-<n>`), running bounded kernel-side
 * commands inside it (ping, arping, ip, tshark), starting long-running children inside it, and
 * removing it again. Every interface a test makes and every packet it sends stays inside a namespace
 * made here, so nothing reaches the host's own network.
 *
 * Contract: `destroy()` is idempotent and kills every child started with `spawn()`. Namespaces this
 * process created and did not destroy are deleted synchronously when the process exits (also on
 * SIGINT/SIGTERM when nothing else handles those), so a crashed test leaves nothing behind.
 */
import { execFileSync, spawn as spawnChild } from 'node:child_process';
import type { ChildProcess, SpawnOptions } from 'node:child_process';

/** Outcome of one command run inside a namespace. */
export interface ExecResult {
  /** Exit code, or null when the command was killed by a signal (including on timeout). */
  code: number | null;
  stdout: string;
  stderr: string;
  /** Signal that ended the command, if any. */
  signal: NodeJS.Signals | null;
  /** True when the command was killed because it outlived its timeout. */
  timedOut: boolean;
}

/** Options for {@link Netns.exec}. */
export interface ExecOptions {
  /** Kill the command (SIGKILL) after this many milliseconds. Default 20 000. */
  timeoutMs?: number;
  /** Written to the command's stdin, which is then closed. */
  input?: string;
}

const DEFAULT_EXEC_TIMEOUT_MS = 20_000;
const OUTPUT_CAP = 4 * 1024 * 1024;
const KILL_GRACE_MS = 3_000;
const LABEL_RE = /^[A-Za-z0-9_-]{1,32}$/;

/** Namespaces created by this process and not yet destroyed. */
const live = new Set<string>();
/** Children started inside any namespace of this process and still running. */
const liveChildren = new Set<ChildProcess>();
let serial = 0;
let hooksInstalled = false;

function deleteLeftoversSync(): void {
  for (const child of liveChildren) {
    try {
      child.kill('SIGKILL');
    } catch {
      /* already gone */
    }
  }
  liveChildren.clear();
  for (const name of live) {
    try {
      execFileSync('ip', ['netns', 'del', name], { stdio: 'ignore', timeout: 5_000 });
    } catch {
      /* already deleted, or ip unavailable: nothing more can be done at exit */
    }
  }
  live.clear();
}

function installExitHooks(): void {
  if (hooksInstalled) return;
  hooksInstalled = true;
  process.on('exit', deleteLeftoversSync);
  for (const sig of ['SIGINT', 'SIGTERM'] as const) {
    // A listener replaces the default action (exit), so only take the signal when nobody else
    // handles it, and re-raise it after cleaning up so the process still ends the way it would have.
    if (process.listenerCount(sig) > 0) continue;
    const onSignal = (): void => {
      deleteLeftoversSync();
      process.removeListener(sig, onSignal);
      if (process.listenerCount(sig) === 0) process.kill(process.pid, sig);
    };
    process.on(sig, onSignal);
  }
}

let rootChecked: boolean | undefined;

/**
 * Whether this process can create network namespaces (root, `ip` present, netns supported).
 * Probes once by adding and deleting a throwaway namespace; the result is cached.
 */
export function canCreateNamespaces(): boolean {
  if (rootChecked !== undefined) return rootChecked;
  if (typeof process.getuid === 'function' && process.getuid() !== 0) {
    rootChecked = false;
    return false;
  }
  const probe = `ffnet-probe-${process.pid}`;
  try {
    execFileSync('ip', ['netns', 'add', probe], { stdio: 'ignore', timeout: 5_000 });
    execFileSync('ip', ['netns', 'del', probe], { stdio: 'ignore', timeout: 5_000 });
    rootChecked = true;
  } catch {
    rootChecked = false;
  }
  return rootChecked;
}

/**
 * Throws a clear error unless this process can create network namespaces. Call it first in a
 * bench test (e.g. in `beforeAll`) so a run without root fails with the reason, not with a
 * puzzling `ip` error later.
 */
export function requireRoot(): void {
  if (canCreateNamespaces()) return;
  const uid = typeof process.getuid === 'function' ? process.getuid() : -1;
  throw new Error(
    uid !== 0
      ? `the ffnet test bench needs root to create network namespaces (running as uid ${uid}); run the tests as root`
      : `cannot create network namespaces: 'ip netns add' failed (is iproute2 installed and are namespaces allowed here?)`,
  );
}

/** A network namespace owned by this process. */
export class Netns {
  /** The namespace's name, as `ip netns exec <name>` takes it. */
  readonly name: string;
  readonly #children = new Set<ChildProcess>();
  #destroying: Promise<void> | undefined;

  private constructor(name: string) {
    this.name = name;
  }

  /**
   * Creates `ffnet-<label>-<pid>-<n>` and brings its loopback up.
   * @param label short tag naming the test, letters, digits, '-' and '_' only.
   */
  static async create(label: string): Promise<Netns> {
    if (!LABEL_RE.test(label)) {
      throw new TypeError(`namespace label must match ${LABEL_RE}, got ${JSON.stringify(label)}`);
    }
    installExitHooks();
    const name = `ffnet-${label}-${process.pid}-${serial++}`;
    const add = await run('ip', ['netns', 'add', name], {});
    if (add.code !== 0) {
      throw new Error(`ip netns add ${name} failed (code ${add.code}): ${add.stderr.trim()}`);
    }
    live.add(name);
    const ns = new Netns(name);
    const lo = await ns.exec('ip', ['link', 'set', 'lo', 'up']);
    if (lo.code !== 0) {
      await ns.destroy();
      throw new Error(`bringing lo up in ${name} failed: ${lo.stderr.trim()}`);
    }
    return ns;
  }

  /** Whether `destroy()` has been called. */
  get destroyed(): boolean {
    return this.#destroying !== undefined;
  }

  /**
   * Runs `cmd args...` inside the namespace and resolves when it ends (never rejects for a non-zero
   * exit: inspect `code`). Killed with SIGKILL after `timeoutMs` (default 20 s).
   */
  async exec(cmd: string, args: string[] = [], opts: ExecOptions = {}): Promise<ExecResult> {
    this.#assertLive();
    return run('ip', ['netns', 'exec', this.name, cmd, ...args], opts);
  }

  /**
   * Like {@link exec} but rejects unless the command exits 0; resolves to its stdout.
   */
  async execOk(cmd: string, args: string[] = [], opts: ExecOptions = {}): Promise<string> {
    const r = await this.exec(cmd, args, opts);
    if (r.code !== 0) {
      const why = r.timedOut ? 'timed out' : r.signal ? `killed by ${r.signal}` : `exit code ${r.code}`;
      throw new Error(`[${this.name}] ${cmd} ${args.join(' ')}: ${why}\n${r.stderr.trim()}${r.stdout.trim() ? `\n${r.stdout.trim()}` : ''}`);
    }
    return r.stdout;
  }

  /**
   * Starts a long-running child inside the namespace (stdio piped unless `opts.stdio` says
   * otherwise). The child is tracked: `destroy()` and process exit kill it.
   */
  spawn(cmd: string, args: string[] = [], opts: SpawnOptions = {}): ChildProcess {
    this.#assertLive();
    const child = spawnChild('ip', ['netns', 'exec', this.name, cmd, ...args], {
      stdio: 'pipe',
      ...opts,
    });
    this.#children.add(child);
    liveChildren.add(child);
    const forget = (): void => {
      this.#children.delete(child);
      liveChildren.delete(child);
    };
    child.once('exit', forget);
    child.once('error', forget);
    return child;
  }

  /**
   * Polls `check` every `intervalMs` (default 50 ms) until it resolves true; rejects with
   * "timed out after N ms waiting for <what>" otherwise. A check that throws counts as false.
   */
  async waitFor(check: () => Promise<boolean>, what: string, timeoutMs: number, intervalMs = 50): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    let lastError: unknown;
    for (;;) {
      try {
        if (await check()) return;
      } catch (err) {
        lastError = err;
      }
      if (Date.now() >= deadline) {
        const detail = lastError instanceof Error ? ` (last error: ${lastError.message})` : '';
        throw new Error(`[${this.name}] timed out after ${timeoutMs} ms waiting for ${what}${detail}`);
      }
      await sleep(Math.min(intervalMs, Math.max(1, deadline - Date.now())));
    }
  }

  /**
   * Kills the tracked children (SIGTERM, then SIGKILL after a grace period) and deletes the
   * namespace. Idempotent: later calls return the first call's promise.
   */
  destroy(): Promise<void> {
    this.#destroying ??= this.#doDestroy();
    return this.#destroying;
  }

  async #doDestroy(): Promise<void> {
    await Promise.all([...this.#children].map((c) => stopChild(c, KILL_GRACE_MS)));
    if (live.has(this.name)) {
      const del = await run('ip', ['netns', 'del', this.name], { timeoutMs: 10_000 });
      live.delete(this.name);
      if (del.code !== 0 && !/No such file|not found|Invalid/i.test(del.stderr)) {
        throw new Error(`ip netns del ${this.name} failed: ${del.stderr.trim()}`);
      }
    }
  }

  #assertLive(): void {
    if (this.#destroying) throw new Error(`namespace ${this.name} has been destroyed`);
  }
}

/** Sends SIGTERM, waits up to `graceMs`, then SIGKILL; resolves once the child has exited. */
export async function stopChild(child: ChildProcess, graceMs: number): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => {
    child.once('exit', () => resolve());
    child.once('error', () => resolve());
  });
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await exited;
  clearTimeout(timer);
}

function run(cmd: string, args: string[], opts: ExecOptions): Promise<ExecResult> {
  const timeoutMs = opts.timeoutMs ?? DEFAULT_EXEC_TIMEOUT_MS;
  return new Promise((resolve) => {
    const child = spawnChild(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    child.stdout?.setEncoding('utf8').on('data', (d: string) => {
      if (stdout.length < OUTPUT_CAP) stdout += d;
    });
    child.stderr?.setEncoding('utf8').on('data', (d: string) => {
      if (stderr.length < OUTPUT_CAP) stderr += d;
    });
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, timeoutMs);
    child.once('error', (err) => {
      clearTimeout(timer);
      resolve({ code: null, stdout, stderr: `${stderr}${err.message}`, signal: null, timedOut });
    });
    const finish = (code: number | null, signal: NodeJS.Signals | null): void => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr, signal, timedOut });
    };
    child.once('close', finish);
    // A grandchild that inherited stdout can keep 'close' from ever firing; 'exit' bounds the wait.
    child.once('exit', (code, signal) => {
      setTimeout(() => finish(code, signal), 1_000).unref();
    });
    child.stdin?.on('error', () => {
      /* the command may exit without reading its input */
    });
    child.stdin?.end(opts.input ?? '');
  });
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
