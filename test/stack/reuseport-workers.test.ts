/**
 * A reusePort group of ffnet/dgram sockets across worker threads, end to end against the Linux
 * kernel over a two-queue net_tap port in a private namespace. Two workers each take an lcore of a
 * two-lcore stack (`Stack.start({ lcore })`) and bind `{ type: 'udp4', reusePort: true }` on the same
 * address and port, on every supported Node release (node:dgram before 22.12 ignores the option;
 * ffnet's dpdk backend honours it everywhere). Many kernel flows (distinct source ports): the kernel's
 * tun picks a queue per flow, each worker gets exactly the flows its lcore received (its count is
 * that lcore's udp.delivered), every datagram arrives once, none crosses lcores (udp.cross_lcore 0),
 * and every echo returns to its kernel socket once.
 *
 * Runs test/stack/fixtures/reuseport-app.mjs in a child process inside the namespace.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Netns } from '../../testbed/netns.js';
import { runChild } from './child-stack.js';
import { IFACE, KERNEL_IP, NETMASK, STACK_IP, quietNamespace, uniquePrefix } from './kernel-peer.js';

const PORT = 7500;
const FLOWS = 48;
const PER_FLOW = 6;

/** Two lcores turned by the workers' JS threads, or by two data-path threads homing the workers' sockets. */
const MODES = [
  { name: 'inline lcores turned by the workers', dpdk: { lcore_mask: '0x3', loop: 'inline', lcores: '0@(0-1),1@(0-1)' } },
  { name: 'dedicated lcores', dpdk: { lcore_mask: '0x7', loop: 'dedicated', lcores: '0@(0-1),1@(0-1),2@(0-1)' } },
] as const;

type ErrorInfo = { name: string; code?: string; message: string } | null;
interface Report {
  errors: unknown[];
  ready: Array<{ lcore: number; backend: string; bindError: ErrorInfo }>;
  flows: Array<{ port: number; echoes: string[]; strays: number }>;
  received: Array<{ lcore: number; received: Array<[number, string | null]> }>;
  crossLcore: number;
  lcores: Array<{ lcore: number; delivered: number; rx: number; crossLcore: number }>;
  exits: number[];
}

let ns: Netns;

beforeAll(async () => {
  ns = await quietNamespace('reuseport');
});
afterAll(async () => {
  await ns?.destroy();
});

describe.each(MODES)('a reusePort ffnet/dgram socket in each of two workers ($name)', (mode) => {
  it('gives each worker exactly the flows its lcore received, every datagram once, none crossing, every echo back once', async () => {
    const prefix = uniquePrefix('reuseport');
    const params = {
      prefix, dpdk: mode.dpdk, iface: IFACE, stackIp: STACK_IP, kernelIp: KERNEL_IP, netmask: NETMASK,
      port: PORT, flows: FLOWS, perFlow: PER_FLOW, burst: 16, deadlineMs: 10_000,
    };
    const run = await runChild<Report>(ns, `await import('./fixtures/reuseport-app.mjs');\n`, {
      env: { FFNET_REUSEPORT_APP: JSON.stringify(params) }, timeoutMs: 60_000, prefixes: [prefix],
    });
    const out = `code ${run.code}, signal ${run.signal}${run.timedOut ? ' (timed out)' : ''}\n--- stdout ---\n${run.stdout.slice(-4000)}\n--- stderr ---\n${run.stderr.slice(-4000)}`;
    const r = run.report;
    if (r === undefined) throw new Error(`the program reported nothing: ${out}`);
    const summary = JSON.stringify({ ...r, flows: undefined, received: undefined });

    // Both workers bound the shared port on the dpdk backend, each on its own lcore.
    expect(r.ready, summary).toEqual([
      { lcore: 0, backend: 'dpdk', bindError: null },
      { lcore: 1, backend: 'dpdk', bindError: null },
    ]);
    expect(r.errors, summary).toEqual([]);
    expect(run.code, out).toBe(0);

    // Every datagram reached exactly one worker, once.
    const total = FLOWS * PER_FLOW;
    const keys = r.received.flatMap((w) => w.received.map(([, k]) => k));
    expect(keys.length, 'datagrams received by the workers together').toBe(total);
    expect(new Set(keys).size, 'no datagram twice').toBe(total);
    const expected = Array.from({ length: FLOWS }, (_, f) => Array.from({ length: PER_FLOW }, (__, s) => `${f}:${s}`)).flat();
    expect([...keys].sort()).toEqual([...expected].sort());

    // Both received; a flow (source port) went to one worker only.
    const portsOf = r.received.map((w) => new Set(w.received.map(([p]) => p)));
    for (const [k, ports] of portsOf.entries()) expect(ports.size, `flows received by the worker on lcore ${k}`).toBeGreaterThan(0);
    expect([...portsOf[0]!].filter((p) => portsOf[1]!.has(p)), 'flows split between the workers').toEqual([]);
    const sources = new Set(r.flows.map((f) => f.port));
    expect(sources.size).toBe(FLOWS);
    expect(new Set([...portsOf[0]!, ...portsOf[1]!])).toEqual(sources);

    // Each worker got what its lcore delivered, and nothing crossed lcores.
    expect(r.lcores.length, summary).toBe(2);
    for (const [k, w] of r.received.entries()) {
      expect(w.lcore).toBe(k);
      expect(r.lcores[k]!.delivered, `lcore ${k} (${r.lcores[k]!.lcore}) delivered what its worker received; ${summary}`).toBe(w.received.length);
      expect(r.lcores[k]!.crossLcore, summary).toBe(0);
    }
    expect(r.crossLcore, summary).toBe(0);

    // Each kernel socket got every echo of its flow once, from the shared address and port.
    for (const [f, flow] of r.flows.entries()) {
      expect(flow.strays, `stray datagrams at kernel port ${flow.port}`).toBe(0);
      expect([...flow.echoes].sort(), `echoes of flow ${f}`).toEqual(Array.from({ length: PER_FLOW }, (_, s) => `${f}:${s}`).sort());
    }
    expect(r.exits).toEqual([0, 0]);
  }, 90_000);
});
