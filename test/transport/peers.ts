/**
 * Transport peers in child processes (testbed/transport-peer.ts) for the multi-process transport tests:
 * start one, read its JSON-lines events, wait for a given event, kill it.
 */
import type { ChildProcess } from 'node:child_process';
import { spawn } from 'node:child_process';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Netns } from '../../testbed/netns.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const PEER = join(ROOT, 'dist', 'testbed', 'transport-peer.js');

/** One event a peer printed. */
export type PeerEvent = { event: string } & Record<string, unknown>;

/** A running peer process. */
export class Peer {
  readonly events: PeerEvent[] = [];
  stderr = '';
  private readonly waiters = new Set<() => void>();
  readonly exited: Promise<number | null>;

  constructor(readonly name: string, readonly child: ChildProcess) {
    let buffered = '';
    child.stdout!.setEncoding('utf8');
    child.stdout!.on('data', (chunk: string) => {
      buffered += chunk;
      let nl: number;
      while ((nl = buffered.indexOf('\n')) >= 0) {
        const line = buffered.slice(0, nl);
        buffered = buffered.slice(nl + 1);
        try {
          this.events.push(JSON.parse(line) as PeerEvent);
        } catch {
          this.stderr += `${line}\n`;
        }
        for (const w of this.waiters) w();
      }
    });
    child.stderr!.setEncoding('utf8');
    child.stderr!.on('data', (chunk: string) => {
      this.stderr = (this.stderr + chunk).slice(-20_000);
    });
    this.exited = new Promise((resolve) => child.once('exit', (code) => {
      for (const w of this.waiters) w();
      resolve(code);
    }));
  }

  /** Starts `transport-peer.js` with `args`, inside `ns` when given, with extra environment. */
  static start(name: string, args: string[], options: { ns?: Netns; env?: NodeJS.ProcessEnv } = {}): Peer {
    const env = { ...process.env, ...options.env };
    const child = options.ns
      ? options.ns.spawn('env', [...Object.entries(options.env ?? {}).map(([k, v]) => `${k}=${v}`), process.execPath, PEER, ...args], { stdio: ['ignore', 'pipe', 'pipe'] })
      : spawn(process.execPath, [PEER, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    return new Peer(name, child);
  }

  /** Events named `event`. */
  all(event: string): PeerEvent[] {
    return this.events.filter((e) => e.event === event);
  }

  /** Resolves with the first event matching `match`; rejects after `ms` or when the peer exits first. */
  waitFor(match: (e: PeerEvent) => boolean, ms: number, what = 'event'): Promise<PeerEvent> {
    return new Promise((resolve, reject) => {
      const check = (): boolean => {
        const found = this.events.find(match);
        if (found) {
          done();
          resolve(found);
          return true;
        }
        if (this.child.exitCode !== null || this.child.signalCode !== null) {
          done();
          reject(new Error(`${this.name} exited (${this.child.exitCode ?? this.child.signalCode}) before ${what}; events ${JSON.stringify(this.events).slice(0, 2000)}; stderr ${this.stderr.slice(-2000)}`));
          return true;
        }
        return false;
      };
      const timer = setTimeout(() => {
        done();
        reject(new Error(`${this.name}: no ${what} within ${ms} ms; events ${JSON.stringify(this.events).slice(0, 2000)}; stderr ${this.stderr.slice(-2000)}`));
      }, ms);
      const done = (): void => {
        clearTimeout(timer);
        this.waiters.delete(waiter);
      };
      const waiter = (): void => {
        check();
      };
      if (!check()) this.waiters.add(waiter);
    });
  }

  /** Waits for an event by name. */
  event(name: string, ms: number): Promise<PeerEvent> {
    return this.waitFor((e) => e.event === name, ms, `"${name}"`);
  }

  /** Kills the peer at once (no clean close). */
  kill(): Promise<number | null> {
    this.child.kill('SIGKILL');
    return this.exited;
  }

  /**
   * Asks the peer to end (SIGTERM: its transport closes without draining and, on the dpdk backend, its
   * stack releases the EAL and its runtime directory), killing it after `graceMs`.
   */
  async stop(graceMs = 5000): Promise<number | null> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return this.exited;
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), graceMs);
    const code = await this.exited;
    clearTimeout(timer);
    return code;
  }
}
