/**
 * worker_threads on one stack. A program's main thread and its workers each use ffnet on the
 * process's one stack: a worker attaches on its first ffnet/dgram socket (or `Stack.start`), has
 * sockets of its own, and with `[dpdk] loop = inline` turns an lcore of its own; a socket is used
 * only by the thread that made it; a worker's exit (by itself, process.exit() or terminate())
 * closes its sockets and gives back what they held; the stack outlives the handle of the thread
 * that started it while another thread holds one, and that thread can attach again; an lcore asked
 * for by index is refused while another thread has it.
 *
 * Each case runs test/stack/fixtures/threads-app.mjs in a child process inside a namespace of its
 * own, with the stack on a net_tap port (ff0) and the Linux kernel's UDP sockets as the peer. The
 * lcore option's checks that need no stack run here.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Stack } from '../../index.js';
import type { Netns } from '../../testbed/netns.js';
import { runChild } from './child-stack.js';
import { IFACE, KERNEL_IP, NETMASK, STACK_IP, quietNamespace, uniquePrefix } from './kernel-peer.js';

/**
 * Datagrams each thread and each kernel socket sends in `traffic`, 10 per millisecond: what the
 * kernel queues for a lcore whose thread the loaded machine holds off stays within the tap queue.
 */
const N = 400;
const DEADLINE_MS = 10_000;

/** Two lcores on the machine's two CPUs, turned by JS threads or by a data-path thread. */
const MODES = [
  { name: 'inline, lcore_mask 0x3', dpdk: { lcore_mask: '0x3', loop: 'inline', lcores: '0@(0-1),1@(0-1)' }, inlineLcores: 2 },
  { name: 'dedicated, lcore_mask 0x3', dpdk: { lcore_mask: '0x3', loop: 'dedicated', lcores: '0@(0-1),1@(0-1)' }, inlineLcores: 0 },
] as const;

type ErrorInfo = { name: string; code?: string; message: string } | null;
interface Summary { received: number; dups: number; foreign: number }
interface LcoreInfo { lcore: number; arpRx: number; arpClonesIn: number; arpRequestsOut: number; arpHoldDropped: number; udpRx: number }

let ns: Netns;

beforeAll(async () => {
  ns = await quietNamespace('threads');
});
afterAll(async () => {
  await ns?.destroy();
});

/** Runs one scenario of threads-app.mjs and returns its report; fails with the child's output when there is none. */
async function runScenario<T>(scenario: string, dpdk: Record<string, string>, extra: Record<string, unknown> = {}): Promise<T> {
  const prefix = uniquePrefix(`thr-${scenario}`);
  const params = {
    scenario, prefix, dpdk, iface: IFACE, stackIp: STACK_IP, kernelIp: KERNEL_IP, netmask: NETMASK,
    fbase: 7000, kbase: 8000, n: N, burst: 10, perPort: 10, deadlineMs: DEADLINE_MS, ...extra,
  };
  const r = await runChild<T>(ns, `await import('./fixtures/threads-app.mjs');\n`, {
    env: { FFNET_THREADS_APP: JSON.stringify(params) }, timeoutMs: 60_000, prefixes: [prefix],
  });
  const out = `code ${r.code}, signal ${r.signal}${r.timedOut ? ' (timed out)' : ''}\n--- stdout ---\n${r.stdout.slice(-4000)}\n--- stderr ---\n${r.stderr.slice(-4000)}`;
  if (r.report === undefined) throw new Error(`the program reported nothing: ${out}`);
  expect(r.code, out).toBe(0);
  // ff0 goes with the stack: the next case makes it again in this namespace.
  await ns.waitFor(async () => (await ns.exec('ip', ['link', 'show', IFACE])).code !== 0, 'ff0 to disappear', 5_000);
  return r.report;
}

describe('Stack.start options.lcore', () => {
  it('refuses an lcore that is not a number with ERR_INVALID_ARG_TYPE, before anything starts', () => {
    expect(() => Stack.startSync({ lcore: '1' as unknown as number })).toThrow(expect.objectContaining({
      name: 'TypeError', code: 'ERR_INVALID_ARG_TYPE',
      message: 'The "options.lcore" property must be of type number. Received type string (\'1\')',
    }));
  });

  it('refuses a negative or fractional lcore with ERR_OUT_OF_RANGE', () => {
    for (const [v, shown] of [[-1, '-1'], [1.5, '1.5'], [Number.NaN, 'NaN']] as const) {
      expect(() => Stack.startSync({ lcore: v })).toThrow(expect.objectContaining({
        name: 'RangeError', code: 'ERR_OUT_OF_RANGE',
        message: `The value of "options.lcore" is out of range. It must be an integer >= 0. Received ${shown}`,
      }));
    }
  });
});

describe.each(MODES)('the main thread and two workers on one stack ($name)', (mode) => {
  it('exchange datagrams with kernel sockets at once, each arriving once; a socket stays with its thread', async () => {
    const r = await runScenario<{
      mainLcore: number; loop: string; inlineLcores: number;
      ready: Array<{ index: number; before: boolean; lcore: number; loop: string; wrongThread: ErrorInfo }>;
      fromKernel: Summary[]; toKernel: Summary[]; lcores: LcoreInfo[];
      neighbours: Array<{ addr: string; mac: string; state: string }>; exits: number[]; errors: unknown[];
    }>('traffic', mode.dpdk);
    expect(r.errors).toEqual([]);
    expect(r).toMatchObject({ loop: mode.dpdk.loop, inlineLcores: mode.inlineLcores, mainLcore: 0 });

    // Each worker had no handle until its first socket attached it, to the same stack and config.
    for (const w of r.ready) expect(w, JSON.stringify(w)).toMatchObject({ before: true, loop: mode.dpdk.loop });
    if (mode.inlineLcores > 0) {
      // Two threads never turn one lcore.
      const lcores = r.ready.map((w) => w.lcore);
      for (const l of lcores) expect(l).toBeGreaterThanOrEqual(0);
      for (const l of lcores) expect(l).toBeLessThan(mode.inlineLcores);
      expect(new Set(lcores).size).toBe(lcores.length);
    }

    // Every datagram once, in both directions, for every thread.
    const all = { received: N, dups: 0, foreign: 0 };
    expect(r.fromKernel, `ffnet sockets (main, worker 1, worker 2) from their kernel peers; ${JSON.stringify(r)}`).toEqual([all, all, all]);
    expect(r.toKernel, `kernel sockets from ffnet sockets (main, worker 1, worker 2); ${JSON.stringify(r)}`).toEqual([all, all, all]);

    // A worker that uses the main thread's socket is refused, by name.
    for (const w of r.ready) {
      expect(w.wrongThread).toMatchObject({ code: 'ERR_FFNET_WRONG_THREAD' });
      expect(w.wrongThread?.message).toMatch(/^socket \d+ belongs to another thread \(a socket is used only by the thread that created it\)$/);
    }

    // What ARP learned reached every lcore that receives: its own ARP frames or their clones.
    // Counters per lcore, each named by its index inline (JS thread k turns lcore k), else by its EAL lcore id.
    expect(r.lcores.map((l) => l.lcore)).toEqual(mode.inlineLcores > 0 ? [0, 1] : [1]);
    for (const l of r.lcores) expect(l.arpRx + l.arpClonesIn, JSON.stringify(r.lcores)).toBeGreaterThan(0);
    // The stack asked once (besides the link-up announcement): lcores that did not ask learned the
    // reply too, and no thread's flood waited for a resolution of its own.
    const sum = (k: keyof LcoreInfo) => r.lcores.reduce((a, l) => a + l[k], 0);
    expect(sum('arpRequestsOut'), JSON.stringify(r.lcores)).toBe(2);
    expect(sum('arpHoldDropped'), JSON.stringify(r.lcores)).toBe(0);
    expect(r.neighbours.find((n) => n.addr === KERNEL_IP)).toMatchObject({ state: 'reachable' });
    expect(r.exits).toEqual([0, 0]);
  }, 90_000);

  it('gives back what a worker\'s sockets held when it exits or is terminated, and frees their ports', async () => {
    const r = await runScenario<{
      baseline: number; heldDelivered: number; inUseHeld: number; heldExit: number; inUseAfter: number;
      killedExit: number; inUseAfterTerminate: number; rebinds: Record<string, string>; errors: unknown[];
    }>('exit', mode.dpdk);
    expect(r.errors).toEqual([]);
    // The stopped worker's sockets were holding datagrams (a dedicated lcore receives them all; inline,
    // those reaching the main thread's lcore 0).
    expect(r.heldDelivered, JSON.stringify(r)).toBeGreaterThan(0);
    expect(r.inUseHeld, JSON.stringify(r)).toBeGreaterThan(r.baseline);
    expect(r.heldExit).toBe(0);
    expect(r.inUseAfter, JSON.stringify(r)).toBe(r.baseline);
    expect(r.killedExit).toBe(1);
    expect(r.inUseAfterTerminate, JSON.stringify(r)).toBe(r.baseline);
    expect(r.rebinds).toEqual({ 7001: 'bound', 7002: 'bound', 7003: 'bound' });
  }, 90_000);
});

describe.each(MODES)('the thread that started the stack closes its handle first ($name)', (mode) => {
  it('leaves the stack running for a worker, and attaches again with Stack.start', async () => {
    const r = await runScenario<{
      ready: { lcore: number }; afterClose: { current: boolean; closed: boolean }; workerGot: { got: Summary };
      reattached: { lcore: number; current: boolean; loop: string }; kernelGot: Summary; exit: number;
      linkAfterWorker: boolean; errors: unknown[];
    }>('handover', mode.dpdk);
    const all = { received: 10, dups: 0, foreign: 0 };
    expect(r.errors).toEqual([]);
    expect(r.afterClose).toEqual({ current: true, closed: true });
    expect(r.workerGot.got, JSON.stringify(r)).toEqual(all);
    expect(r.reattached).toMatchObject({ current: true, loop: mode.dpdk.loop });
    // Inline, the lcore the worker does not turn.
    if (mode.inlineLcores > 0) expect(r.reattached.lcore).toBe(r.ready.lcore === 1 ? 0 : 1);
    expect(r.kernelGot, JSON.stringify(r)).toEqual(all);
    expect(r.exit).toBe(0);
    // The worker's exit left the re-attached handle's stack up.
    expect(r.linkAfterWorker).toBe(true);
  }, 90_000);
});

describe('lcores asked for by index (inline, lcore_mask 0x3)', () => {
  it('refuses a taken lcore with ERR_FFNET_LCORE_BUSY until its thread lets it go', async () => {
    const mode = MODES[0];
    const r = await runScenario<{
      mainLcore: number; firstReady: { lcore: number; current: boolean }; firstClosed: { current: boolean };
      secondTries: { before: boolean; taken: ErrorInfo; outOfRange: ErrorInfo; notANumber: ErrorInfo; negative: ErrorInfo; after: boolean };
      retry: { lcore: number }; exits: number[]; errors: unknown[];
    }>('busy', mode.dpdk, { inlineLcores: mode.inlineLcores });
    expect(r.errors).toEqual([]);
    expect(r.mainLcore).toBe(0);
    expect(r.firstReady).toMatchObject({ lcore: 1, current: true });
    const t = r.secondTries;
    expect(t.before).toBe(true);
    expect(t.taken).toMatchObject({ code: 'ERR_FFNET_LCORE_BUSY' });
    expect(t.outOfRange).toEqual({
      name: 'RangeError', code: 'ERR_OUT_OF_RANGE',
      message: 'The value of "options.lcore" is out of range. It must be >= 0 && <= 1 (the stack\'s lcores). Received 2',
    });
    expect(t.notANumber).toMatchObject({ name: 'TypeError', code: 'ERR_INVALID_ARG_TYPE' });
    expect(t.negative).toMatchObject({ name: 'RangeError', code: 'ERR_OUT_OF_RANGE' });
    // Refused attempts leave the thread without a handle.
    expect(t.after).toBe(true);
    expect(r.firstClosed).toMatchObject({ current: true });
    expect(r.retry).toMatchObject({ lcore: 1 });
    expect(r.exits).toEqual([0, 0]);
  }, 90_000);
});
