/**
 * Differential conformance of ffnet/dgram's udp6 link-local addresses with node:dgram: the
 * scenarios of dgram-scenarios.mjs's linkLocalScenarios (bind, address(), send, receive and connect
 * on a link-local address with a `%port0` scope, and the errors of a missing, unknown, empty or
 * numeric scope and of an address that is not ours) run with node:dgram and ffnet/dgram's kernel
 * backend on an interface named port0 (a veth) given LINK_LOCAL, and with the dpdk backend on a stack
 * whose port 0 (net_tap; its MAC 02:00:00:00:00:01) derives the same address; the traces must be equal.
 * Each implementation runs in a network namespace it makes. Needs root and the build.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Netns, requireRoot } from '../../testbed/netns.js';
import { LINK_LOCAL, linkLocalScenarios } from './fixtures/dgram-scenarios.mjs';
import { type Impl, type ScenarioTrace, render, runEachImpl } from './scenarios.js';

const NAMES = Object.keys(linkLocalScenarios);
const IMPLS: Impl[] = ['node', 'ffnet-kernel', 'ffnet-dpdk'];
/**
 * Port 0 of the dpdk run: net_tap's kernel interface takes 02:00:00:00:00:00, the stack's port the MAC
 * beside it (stack/phy/port.c), 02:00:00:00:00:01, whose EUI-64 link-local address is LINK_LOCAL; no
 * duplicate detection, no router solicitations.
 */
const DPDK_PORT = 'vdev = net_tap0,iface=ff0,mac=02:00:00:00:00:00\n[port0]\naddr = 10.99.0.2\nnetmask = 255.255.255.0\n'
  + '[sysctl]\nnet.inet6.ip6.dad_count = 0\nnet.inet6.ip6.accept_rtadv = 0\n';

const traces = new Map<Impl, Map<string, ScenarioTrace>>();
const namespaces: Netns[] = [];

/** Gives ns an interface port0 (one end of a veth pair, both up) whose only address is LINK_LOCAL. */
async function kernelPort0(ns: Netns): Promise<void> {
  await ns.execOk('ip', ['link', 'add', 'port0', 'type', 'veth', 'peer', 'name', 'port0peer']);
  for (const dev of ['port0', 'port0peer']) {
    await ns.execOk('ip', ['link', 'set', dev, 'addrgenmode', 'none']);
    await ns.execOk('ip', ['link', 'set', dev, 'up']);
  }
  await ns.execOk('ip', ['-6', 'addr', 'add', `${LINK_LOCAL}/64`, 'dev', 'port0', 'nodad']);
}

describe('ffnet/dgram conformance with node:dgram: link-local addresses with a scope', () => {
  beforeAll(async () => {
    requireRoot();
    for (const [impl, m] of await runEachImpl('dgll', IMPLS, NAMES, kernelPort0, DPDK_PORT, namespaces)) traces.set(impl, m);
  }, 300_000);

  afterAll(async () => {
    await Promise.all(namespaces.map((ns) => ns.destroy()));
  });

  it('the reference runs bind and send on the link-local address (the harness itself)', () => {
    const r = traces.get('node')!.get(NAMES[0]!)!;
    expect(r.failure).toBeUndefined();
    expect(r.trace.filter((e) => 'timeout' in e || 'scenarioThrew' in e), render(r)).toEqual([]);
    expect(r.trace.filter((e) => e.ev === 'message').length, render(r)).toBe(4);
  });

  for (const impl of ['ffnet-kernel', 'ffnet-dpdk'] as const) {
    for (const name of NAMES) {
      it(`${impl}: ${name}`, () => {
        const ref = traces.get('node')!.get(name)!;
        const got = traces.get(impl)!.get(name)!;
        const report = `${impl} differs from node:dgram in "${name}"\n--- node:dgram\n${render(ref)}\n--- ${impl}\n${render(got)}`;
        if (ref.failure) throw new Error(`the node:dgram run failed: ${ref.failure}`);
        if (got.failure) throw new Error(report);
        expect(got.trace, report).toEqual(ref.trace);
        expect(JSON.stringify(got.trace), `key order: ${report}`).toBe(JSON.stringify(ref.trace));
      });
    }
  }
});
