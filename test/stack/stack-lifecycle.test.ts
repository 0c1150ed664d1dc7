/**
 * A stack's life as the kernel sees it: close() removes the tap interface from the namespace, and so
 * does SIGTERM to the stack's process, which exits promptly; config errors (a bad address, a port
 * section with no device) fail the start with a message naming the place; with two data-path lcores
 * on a tap port (one queue pair each), the kernel's pings are answered, counters come per lcore, and
 * ARP learned on one lcore reaches the other (arp.clones_in). A bench stack process keeps DPDK's log
 * in its output (on stderr, unless the config names a sink), for the tail a failure reports.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { Netns } from '../../testbed/netns.js';
import { StackProcess, type StackProcessError } from '../../testbed/stack-process.js';
import {
  IFACE,
  KERNEL_IP,
  LCORE_MODES,
  NETMASK,
  STACK_IP,
  ctr,
  delta,
  kernelPeer,
  parsePing,
  peerConfig,
  quietNamespace,
  waitForStats,
  type KernelPeer,
} from './kernel-peer.js';

async function hasLink(ns: Netns, iface: string): Promise<boolean> {
  return (await ns.exec('ip', ['link', 'show', iface])).code === 0;
}

describe.each(LCORE_MODES)('stopping a stack ($name)', (mode) => {
  let peer: KernelPeer | undefined;

  afterEach(async () => {
    await peer?.close();
    peer = undefined;
  });

  it('removes ff0 from the namespace on close()', async () => {
    peer = await kernelPeer('life-close', { dpdk: mode.dpdk });
    const { ns, stack } = peer;
    expect(await hasLink(ns, IFACE)).toBe(true);
    expect(await stack.close()).toBe(0);
    expect(stack.exited).toBe(true);
    await ns.waitFor(async () => !(await hasLink(ns, IFACE)), 'ff0 to disappear', 5_000);
  });

  it('exits on SIGTERM within a few seconds and removes ff0', async () => {
    peer = await kernelPeer('life-term', { dpdk: mode.dpdk });
    const { ns, stack } = peer;
    const pid = stack.pid;
    if (pid === undefined) throw new Error('the stack process has no pid');
    const t0 = Date.now();
    process.kill(pid, 'SIGTERM');
    await ns.waitFor(async () => stack.exited, 'the stack process to exit', 5_000);
    expect(Date.now() - t0).toBeLessThan(5_000);
    // Exited by itself (code 0 after closing, or the signal): close() now just reports how.
    const code = await stack.close(1_000);
    expect(code === 0 || code === -1, `exit code ${code}`).toBe(true);
    await ns.waitFor(async () => !(await hasLink(ns, IFACE)), 'ff0 to disappear', 5_000);
  });
});

describe('a bench stack process\'s output', () => {
  let peer: KernelPeer | undefined;

  afterEach(async () => {
    await peer?.close();
    peer = undefined;
  });

  it('carries DPDK\'s log on stderr when the config names no sink, and none of it on stdout', async () => {
    peer = await kernelPeer('life-log', {});
    const out = peer.stack.output();
    expect(out.stderr).toContain('TELEMETRY: No legacy callbacks, legacy socket not created');
    expect(out.stdout).not.toContain('TELEMETRY:');
  });
});

describe('config errors at start', () => {
  let ns: Netns | undefined;

  afterEach(async () => {
    await ns?.destroy();
    ns = undefined;
  });

  it('rejects a bad address, naming the config, the section and the key', async () => {
    ns = await quietNamespace('life-badcfg');
    const config = peerConfig(ns, { port0: { addr: '10.77.0.300' } });
    const err = await StackProcess.start(ns, config).then(
      () => undefined,
      (e: unknown) => e as StackProcessError,
    );
    expect(err).toBeInstanceOf(Error);
    expect(err?.code).toBe('ERR_FFNET_CONFIG');
    expect(err?.message).toMatch(/<config object>: \[port0\] addr: "10\.77\.0\.300" is not an IPv4 address/);
    expect(await hasLink(ns, IFACE)).toBe(false);
  });

  it('rejects a [port1] section when there is no second device, naming port 1', async () => {
    ns = await quietNamespace('life-noport');
    const config = peerConfig(ns, {});
    config.port1 = { addr: '10.78.0.2', netmask: NETMASK };
    const err = await StackProcess.start(ns, config).then(
      () => undefined,
      (e: unknown) => e as StackProcessError,
    );
    expect(err).toBeInstanceOf(Error);
    expect(err?.message).toMatch(/\[port1\]|port 1\b/);
    expect(err?.code).toBe('ERR_FFNET_START');
    // The failed start leaves no interface behind.
    await ns.waitFor(async () => !(await hasLink(ns as Netns, IFACE)), 'no ff0 after the failed start', 5_000);
  });
});

describe('two data-path lcores on one tap port', () => {
  let peer: KernelPeer | undefined;

  afterEach(async () => {
    await peer?.close();
    peer = undefined;
  });

  it('answers the kernel, counts per lcore, and shares what ARP learned', async () => {
    peer = await kernelPeer('life-2lcores', { dpdk: { lcore_mask: '0x7', lcores: '0@(0-1),1@(0-1),2@(0-1)' } });
    const { ns, stack, kernelMac } = peer;
    // net_tap gives the port one queue pair per data-path lcore.
    const tx = await ns.execOk('ls', [`/sys/class/net/${IFACE}/queues`]);
    expect(tx.split(/\s+/).filter((q) => q.startsWith('rx-'))).toHaveLength(2);

    const before = await stack.stats();
    expect(before.lcores.map((l) => l.lcore)).toEqual([1, 2]);
    // Several pings (each its own ICMP id, so its own flow) from the kernel.
    for (let i = 0; i < 4; i++) {
      const r = await ns.exec('ping', ['-c', '2', '-i', '0.2', '-W', '2', STACK_IP], { timeoutMs: 10_000 });
      expect(parsePing(r.stdout).received, r.stdout).toBe(2);
    }
    const after = await waitForStats(stack, (s) => ctr(s, 'icmp.echo_reply_out') - ctr(before, 'icmp.echo_reply_out') >= 8, '8 echo replies');
    expect(after.lcores).toHaveLength(2);
    const d = delta(before, after);
    expect(d['icmp.echo_in']).toBe(8);
    expect(d['icmp.echo_reply_out']).toBe(8);
    // Per-lcore counters add up to the totals.
    for (const name of ['icmp.echo_in', 'eth.rx', 'arp.rx']) {
      expect(after.lcores.reduce((a, l) => a + (l.counters[name] ?? 0), 0)).toBe(ctr(after, name));
    }
    // The kernel's ARP request reached one lcore's queue; the other lcore learned it as a clone.
    const clones = after.lcores.map((l) => l.counters['arp.clones_in'] ?? 0);
    expect(Math.max(...clones), `arp.clones_in per lcore: ${JSON.stringify(clones)}`).toBeGreaterThan(0);
    // Every lcore that answered pings knew the kernel's MAC from the ARP frame it saw itself or as a
    // clone, and never had to ask.
    for (const l of after.lcores) {
      if ((l.counters['icmp.echo_in'] ?? 0) === 0) continue;
      expect((l.counters['arp.rx'] ?? 0) + (l.counters['arp.clones_in'] ?? 0), `lcore ${l.lcore}: ${JSON.stringify(l.counters)}`).toBeGreaterThan(0);
    }
    expect(d['arp.requests_out']).toBe(0);
    const n = (await stack.neighbours()).find((e) => e.addr === KERNEL_IP);
    expect(n).toMatchObject({ mac: kernelMac, state: 'reachable' });
  });
});
