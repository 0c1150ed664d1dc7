/**
 * Differential conformance of ffnet/dgram with node:dgram where a destination cannot be reached or
 * a source may not leave the host: the scenarios of dgram-scenarios.mjs's unreachableScenarios (no
 * route of either family, for send and connect; an on-link host that never answers ARP or Neighbor
 * Discovery; a socket bound to 127.0.0.1 sending off the host, EINVAL on Linux; a multicast
 * interface of 127.0.0.1, whose group datagrams stay on the host) run with node:dgram and
 * ffnet/dgram's kernel backend on an interface named port0 (one end of a veth pair) at
 * 10.99.0.2/24 and 2001:db8:99::2/64, and with the dpdk backend on a stack whose port 0 (net_tap)
 * has the same addresses; neither has a default route. The traces must be equal. Each
 * implementation runs in a network namespace it makes. Needs root and the build.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Netns, requireRoot } from '../../testbed/netns.js';
import { UNREACH_ADDR, UNREACH_ADDR6, unreachableScenarios } from './fixtures/dgram-scenarios.mjs';
import { type Impl, type ScenarioTrace, render, runEachImpl } from './scenarios.js';

const NAMES = Object.keys(unreachableScenarios);
const IMPLS: Impl[] = ['node', 'ffnet-kernel', 'ffnet-dpdk'];
/** Port 0 of the dpdk run: the addresses of the kernel's port0, no gateway, no duplicate detection. */
const DPDK_PORT = `vdev = net_tap0,iface=ff0\n[port0]\naddr = ${UNREACH_ADDR}\nnetmask = 255.255.255.0\naddr6[] = ${UNREACH_ADDR6}/64\n`
  + '[sysctl]\nnet.inet6.ip6.dad_count = 0\nnet.inet6.ip6.accept_rtadv = 0\n';

const traces = new Map<Impl, Map<string, ScenarioTrace>>();
const namespaces: Netns[] = [];

/** Gives ns an interface port0 (one end of a veth pair, both up) with the scenarios' addresses. */
async function kernelPort0(ns: Netns): Promise<void> {
  await ns.execOk('ip', ['link', 'add', 'port0', 'type', 'veth', 'peer', 'name', 'port0peer']);
  for (const dev of ['port0', 'port0peer']) await ns.execOk('ip', ['link', 'set', dev, 'up']);
  await ns.execOk('ip', ['addr', 'add', `${UNREACH_ADDR}/24`, 'dev', 'port0']);
  await ns.execOk('ip', ['-6', 'addr', 'add', `${UNREACH_ADDR6}/64`, 'dev', 'port0', 'nodad']);
}

describe('ffnet/dgram conformance with node:dgram: unreachable destinations and loopback sources', () => {
  beforeAll(async () => {
    requireRoot();
    for (const [impl, m] of await runEachImpl('dgun', IMPLS, NAMES, kernelPort0, DPDK_PORT, namespaces)) traces.set(impl, m);
  }, 300_000);

  afterAll(async () => {
    await Promise.all(namespaces.map((ns) => ns.destroy()));
  });

  it('the reference gives ENETUNREACH without a route and EINVAL from 127.0.0.1 off the host (the harness itself)', () => {
    const all = NAMES.map((n) => render(traces.get('node')!.get(n)!)).join('\n');
    for (const n of NAMES) {
      const r = traces.get('node')!.get(n)!;
      expect(r.failure).toBeUndefined();
      expect(r.trace.filter((e) => 'timeout' in e || 'scenarioThrew' in e), render(r)).toEqual([]);
    }
    expect(all).toMatch(/ENETUNREACH/);
    expect(all).toMatch(/EINVAL/);
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
