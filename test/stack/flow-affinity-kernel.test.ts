/**
 * Flow affinity against the Linux kernel over a net_tap port with two queue pairs, in a private
 * namespace. The stack (build/bin/affinity-echo, from test/stack/affinity_echo.c) runs two
 * data-path lcores and a reusePort group of two sockets homed on lcores 0 and 1 that echo what they
 * receive. The kernel spreads its flows over the tap's queues by its own hash and sends a flow's
 * later packets to the queue it last heard it from, so every flow stays on one lcore: many kernel
 * UDP flows (distinct source ports) reach both members, each member only the flows its lcore
 * received (per-lcore counters), udp.cross_lcore stays 0, and every echo returns to its sender
 * exactly once.
 */
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';
import type { ChildProcess } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KernelUdp } from '../../testbed/kernel-udp.js';
import type { Netns } from '../../testbed/netns.js';
import { IFACE, KERNEL_IP, STACK_IP, quietNamespace } from './kernel-peer.js';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const echoPath = join(repo, 'build/bin/affinity-echo');
const PORT = 7400;
const FLOWS = 48;
const PER_FLOW = 4;

interface LcoreCounters {
  udp_rx: number;
  udp_delivered: number;
  udp_cross_lcore: number;
  udp_tx: number;
  eth_dispatched: number;
}

interface EchoReport {
  rxQueues: number;
  /** Source ports of what each member received, in order. */
  members: [number[], number[]];
  lcores: LcoreCounters[];
}

/** The lines a child prints, one promise per awaited line (bounded by `timeoutMs`). */
class Lines {
  readonly #lines: string[] = [];
  readonly #waiters: Array<() => void> = [];
  #stderr = '';

  constructor(child: ChildProcess) {
    createInterface({ input: child.stdout! }).on('line', (l) => {
      this.#lines.push(l);
      for (const w of this.#waiters.splice(0)) w();
    });
    child.stderr!.on('data', (b: Buffer) => (this.#stderr = (this.#stderr + b.toString()).slice(-4000)));
  }

  async next(match: (l: string) => boolean, what: string, timeoutMs: number): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const i = this.#lines.findIndex(match);
      if (i >= 0) return this.#lines.splice(i, 1)[0]!;
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out waiting for ${what}; stderr:\n${this.#stderr}`);
      await new Promise<void>((r) => {
        const t = setTimeout(r, left);
        this.#waiters.push(() => {
          clearTimeout(t);
          r();
        });
      });
    }
  }
}

describe('flow affinity with the kernel over a two-queue tap', () => {
  let ns: Netns;
  let stack: ChildProcess;
  let lines: Lines;
  let kernel: KernelUdp;

  beforeAll(async () => {
    if (!existsSync(echoPath)) throw new Error(`${echoPath} is missing: run npm run build`);
    ns = await quietNamespace('affinity');
    stack = ns.spawn(echoPath, [String(PORT)]);
    lines = new Lines(stack);
    await lines.next((l) => l === 'ready', 'the stack to start', 30_000);
    await ns.execOk('ip', ['addr', 'add', `${KERNEL_IP}/24`, 'dev', IFACE]);
    await ns.execOk('ip', ['link', 'set', IFACE, 'up']);
    kernel = await KernelUdp.start(ns);
  }, 60_000);

  afterAll(async () => {
    stack?.stdin?.end();
    await ns?.destroy();
  });

  it('gives each member only the flows its lcore received, none crossing, every echo back once', async () => {
    const flows: Array<{ sid: number; port: number; sha1: string[] }> = [];
    for (let i = 0; i < FLOWS; i++) {
      const { sid, port } = await kernel.socket({ address: KERNEL_IP });
      flows.push({ sid, port, sha1: [] });
    }
    for (const [i, f] of flows.entries()) {
      const r = await kernel.send(f.sid, { to: { address: STACK_IP, port: PORT }, size: 64, count: PER_FLOW, pattern: 'seq', startSeq: i * PER_FLOW });
      expect(r.errors).toEqual([]);
      f.sha1 = r.sha1;
    }
    for (const f of flows) {
      const { datagrams } = await kernel.recv(f.sid, { count: PER_FLOW, timeoutMs: 5_000 });
      expect(datagrams.map((d) => `${d.address}:${d.port}`), `echoes to kernel port ${f.port}`).toEqual(Array(PER_FLOW).fill(`${STACK_IP}:${PORT}`));
      expect(datagrams.map((d) => d.sha1).sort()).toEqual([...f.sha1].sort());
      const { datagrams: more } = await kernel.recv(f.sid, { count: 1, timeoutMs: 0 });
      expect(more, `no duplicate echo to port ${f.port}`).toEqual([]);
    }

    stack.stdin!.write('stop\n');
    const report = JSON.parse(await lines.next((l) => l.startsWith('{'), 'the report', 10_000)) as EchoReport;
    expect(report.rxQueues, 'one RX queue per lcore: RSS by the kernel, no software dispatch').toBe(2);
    const [m0, m1] = report.members;
    expect(m0.length + m1.length, 'nothing lost or duplicated').toBe(FLOWS * PER_FLOW);
    expect(m0.length, 'member homed on lcore 0 received flows').toBeGreaterThan(0);
    expect(m1.length, 'member homed on lcore 1 received flows').toBeGreaterThan(0);
    const ports = new Set(flows.map((f) => f.port));
    for (const p of [...m0, ...m1]) expect(ports.has(p), `source port ${p} is one of ours`).toBe(true);
    for (const p of ports) expect([...m0, ...m1].filter((q) => q === p).length, `datagrams of flow ${p}`).toBe(PER_FLOW);
    const both = m0.filter((p) => m1.includes(p));
    expect(both, 'no flow split between members').toEqual([]);
    for (const [k, members] of [m0, m1].entries()) {
      const c = report.lcores[k]!;
      expect(c.udp_rx, `lcore ${k} received what its member got`).toBe(members.length);
      expect(c.udp_delivered, `lcore ${k} delivered what its member got`).toBe(members.length);
      expect(c.udp_cross_lcore, `lcore ${k} delivered nothing across lcores`).toBe(0);
      expect(c.udp_tx, `lcore ${k} sent its member's echoes`).toBe(members.length);
      expect(c.eth_dispatched).toBe(0);
    }
  }, 60_000);
});
