/**
 * Differential conformance of ffnet/dgram against node:dgram: every scenario of
 * fixtures/dgram-scenarios.mjs runs three times — with node:dgram (the reference, Linux's UDP on the
 * namespace's lo), with ffnet/dgram on the dpdk backend (a loopback-only stack inline in the child,
 * 127.0.0.1 being the stack's loopback) and with ffnet/dgram on the kernel backend — and the
 * normalised traces must be equal: events in order with their arguments, payload bytes, rinfo,
 * callback arguments, return values, and every error's class, name, code, message, errno, syscall,
 * address, port, own keys and stack header. That covers bind/connect/send forms, implicit binds and
 * queued sends, close semantics, ECONNREFUSED on connected sockets, socket options and their system
 * errors, buffer sizes, Symbol.asyncDispose, and every argument-validation error (tables).
 *
 * The reference is the Node running the suite (releases differ in a few places: reusePort, block
 * lists, NUL bytes in hostnames, a port of '0', bindSync, the default lookup; ffnet must match
 * whichever runs it, and `npm test` runs this suite under Node 22.12.0, 22 and 24 besides the
 * machine's own). One deliberate extension: the dpdk backend honours `reusePort` on releases whose
 * node:dgram ignores it (before 22.12), so there its reference is node:dgram's trace with each such
 * EADDRINUSE turned into the bind that sharing the port gives (REUSE_PORT_BINDS). Lifetime scenarios (ref/unref)
 * run one per child, and what is compared is whether the process ended by itself.
 *
 * Each implementation runs in a network namespace of its own, so fixed ports never collide between
 * the two kernel-side runs. Needs root (namespaces) and the build (`npm run build`) for ffnet/dgram.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Netns, requireRoot } from '../../testbed/netns.js';
import { scenarios, lifetimeScenarios } from './fixtures/dgram-scenarios.mjs';
import { SUPPORTS_REUSE_PORT } from '../../shim/validators.js';
import { type Impl, type ScenarioTrace, type TraceEntry, render, runScenarios, shimBuilt } from './scenarios.js';

const NAMES = Object.keys(scenarios);
const LIFETIME = Object.keys(lifetimeScenarios);
const FFNET: Impl[] = ['ffnet-dpdk', 'ffnet-kernel'];
/** Scenarios per child: a crash costs at most this many traces. */
const CHUNK = 6;

const traces = new Map<Impl, Map<string, ScenarioTrace>>();
const namespaces: Netns[] = [];

async function runImpl(ns: Netns, impl: Impl): Promise<void> {
  const m = new Map<string, ScenarioTrace>();
  traces.set(impl, m);
  for (let i = 0; i < NAMES.length; i += CHUNK) {
    for (const r of await runScenarios(ns, impl, NAMES.slice(i, i + CHUNK))) m.set(r.name, r);
  }
  for (const name of LIFETIME) {
    const [r] = await runScenarios(ns, impl, [name], { mode: 'alone' });
    if (r) m.set(name, r);
  }
}

function get(impl: Impl, name: string): ScenarioTrace {
  const r = traces.get(impl)?.get(name);
  if (!r) throw new Error(`no trace of ${JSON.stringify(name)} for ${impl}`);
  return r;
}

/**
 * Per scenario, the reusePort sockets whose bind shares a port another reusePort socket holds, with
 * the label of their bind callback: node:dgram before 22.12 fails them with EADDRINUSE, the dpdk
 * backend binds them on every release.
 */
const REUSE_PORT_BINDS: Record<string, Record<string, string>> = {
  'createSocket: options whose handling depends on the Node release (reusePort, block lists, NUL hostnames)': { b: 'b bind cb' },
  'reusePort: sharing a port, a socket without it, and delivery (by Node release)': { b: 'b bind cb', c: 'c bind cb (reusePort and reuseAddr)' },
};

/**
 * The reference for `impl`: node:dgram's trace, except on the dpdk backend under a release whose
 * node:dgram ignores reusePort, where each bind of REUSE_PORT_BINDS succeeds ('listening', then its
 * callback) instead of failing with EADDRINUSE.
 */
function referenceFor(impl: Impl, name: string): ScenarioTrace {
  const ref = get('node', name);
  const binds = REUSE_PORT_BINDS[name];
  if (impl !== 'ffnet-dpdk' || SUPPORTS_REUSE_PORT || !binds) return ref;
  const trace: TraceEntry[] = [];
  const rewritten: string[] = [];
  for (const e of ref.trace) {
    const sock = typeof e.sock === 'string' ? e.sock : undefined;
    const error = (e.args as Array<{ error?: { code?: string } }> | undefined)?.[0]?.error;
    if (e.ev === 'error' && sock !== undefined && sock in binds && error?.code === 'EADDRINUSE') {
      trace.push({ ev: 'listening', sock }, { cb: binds[sock] });
      rewritten.push(sock);
    } else {
      trace.push(e);
    }
  }
  expect(rewritten.sort(), `node:dgram's EADDRINUSE for the reusePort binds of "${name}"`).toEqual(Object.keys(binds).sort());
  return { ...ref, trace };
}

/** Asserts got's trace equals the reference's, with both traces in the failure message. */
function expectSameTrace(ref: ScenarioTrace, got: ScenarioTrace): void {
  const report = `${got.impl} differs from node:dgram in "${got.name}"\n--- node:dgram\n${render(ref)}\n--- ${got.impl}\n${render(got)}`;
  if (ref.failure) throw new Error(`the node:dgram run failed: ${ref.failure}`);
  if (got.failure) throw new Error(report);
  expect(got.trace, report).toEqual(ref.trace);
  // toEqual ignores key order; node:dgram's objects (rinfo, address(), errors' keys) have a fixed one.
  expect(JSON.stringify(got.trace), `key order: ${report}`).toBe(JSON.stringify(ref.trace));
  expect(got.exit, report).toBe(ref.exit);
}

describe('ffnet/dgram conformance with node:dgram', () => {
  beforeAll(async () => {
    requireRoot();
    const impls: Impl[] = ['node', ...FFNET];
    for (const impl of impls) namespaces.push(await Netns.create(`dgram-${impl}`.slice(0, 32)));
    await Promise.all(impls.map((impl, i) => runImpl(namespaces[i] as Netns, impl)));
  }, 900_000);

  afterAll(async () => {
    await Promise.all(namespaces.map((ns) => ns.destroy()));
  });

  it('ffnet/dgram is built and exported by the package', () => {
    expect(shimBuilt(), 'package.json exports "./dgram" and dist/shim/dgram.js exists (npm run build)').toBe(true);
  });

  it('the reference runs are what the node:dgram specification says (the harness itself)', () => {
    for (const name of [...NAMES, ...LIFETIME]) {
      const r = get('node', name);
      expect(r.failure, name).toBeUndefined();
      expect(r.trace.filter((e) => 'timeout' in e || 'scenarioThrew' in e || 'missingScenario' in e), name).toEqual([]);
    }
    const inUse = get('node', 'bind: EADDRINUSE on 127.0.0.1 and 0.0.0.0, then rebind').trace;
    const err = inUse.find((e) => e.ev === 'error' && e.sock === 'b') as { args: Array<{ error: Record<string, unknown> }> };
    expect(err.args[0]?.error).toMatchObject({ name: 'Error', code: 'EADDRINUSE', errno: -98, syscall: 'bind', address: '127.0.0.1', keys: ['errno', 'code', 'syscall', 'address', 'port'] });
    expect(err.args[0]?.error.message).toMatch(/^bind EADDRINUSE 127\.0\.0\.1:2\d{4}$/);
    const refused = get('node', 'connect: ECONNREFUSED on a connected socket after sending to a closed port').trace;
    expect(refused.find((e) => e.ev === 'error' && e.sock === 's')).toMatchObject({ args: [{ error: { code: 'ECONNREFUSED', message: 'recvmsg ECONNREFUSED', syscall: 'recvmsg', errno: -111 } }] });
    const table = get('node', 'send: synchronous argument errors, unconnected (table)').trace;
    expect(table.find((e) => e.call === "send('x', 0)")).toMatchObject({
      threw: { error: { cls: 'RangeError', code: 'ERR_SOCKET_BAD_PORT', message: 'Port should be > 0 and < 65536. Received type number (0).', keys: ['code'] } },
    });
    const exits = Object.fromEntries(LIFETIME.map((n) => [n, get('node', n).exit]));
    expect(exits).toEqual({
      'lifetime: an unbound socket does not hold the process': 'exited',
      'lifetime: a bound socket holds the process': 'alive',
      'lifetime: unref() then bind() exits': 'exited',
      'lifetime: bind() then unref() exits': 'exited',
      'lifetime: unref().ref() then bind() stays': 'alive',
      'lifetime: a send-only program stays (implicit bind)': 'alive',
      'lifetime: closing the last socket lets the process exit': 'exited',
    });
  });

  it('ffnet sockets report their backend (dpdk with FFNET_CONFIG, kernel without); node:dgram sockets have none', () => {
    const seen = (impl: Impl): string[] => [...new Set([...(traces.get(impl)?.values() ?? [])].flatMap((r) => r.backends.map((b) => String(b.backend))))].sort();
    expect(seen('node')).toEqual(['null']);
    expect(seen('ffnet-dpdk')).toEqual(['dpdk']);
    expect(seen('ffnet-kernel')).toEqual(['kernel']);
  });

  describe.each(FFNET)('%s', (impl) => {
    it.each([...NAMES, ...LIFETIME])('%s', (name) => {
      expectSameTrace(referenceFor(impl, name), get(impl, name));
    });
  });
});
