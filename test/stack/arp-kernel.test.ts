/**
 * ARP between the stack and the Linux kernel, in each lcore mode: the stack answers arping with its
 * own MAC and the kernel's neighbour table learns it; the stack resolves the kernel's MAC on its own;
 * unsolicited replies are counted and never create entries; resolution gives up after
 * `maxtries` requests `rexmit_ms` apart, fails the entry and drops what it held; static entries from
 * the config and from addNeighbour/deleteNeighbour; learned entries age out after `max_age`; a
 * gratuitous ARP request goes out when the link comes up; off-subnet destinations resolve the
 * gateway, and without one fail with ENETUNREACH.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Netns } from '../../testbed/netns.js';
import { StackProcess, type StackProcessError } from '../../testbed/stack-process.js';
import {
  IFACE,
  KERNEL_IP,
  LCORE_MODES,
  STACK_IP,
  bringUp,
  ctr,
  delta,
  kernelPeer,
  parseArping,
  parsePing,
  peerConfig,
  quietNamespace,
  sleep,
  tcpdumpLines,
  waitForStats,
  type KernelPeer,
} from './kernel-peer.js';

const SECOND_KERNEL_IP = '10.77.0.3';
const NOBODY_IP = '10.77.0.99';
const STATIC_IP = '10.77.0.9';
const STATIC_MAC = '02:00:00:00:00:09';
const OFF_SUBNET_IP = '10.99.0.5';
/** How often the stack's lcore 0 looks at link state. */
const LINK_POLL_MS = 250;

describe.each(LCORE_MODES)('ARP with the kernel ($name)', (mode) => {
  let peer: KernelPeer;

  beforeAll(async () => {
    peer = await kernelPeer('arp-kernel', { dpdk: mode.dpdk });
  });
  afterAll(async () => {
    await peer?.close();
  });

  it('resolves the kernel\'s MAC on its own', async () => {
    const { stack, kernelMac } = peer;
    expect((await stack.neighbours()).find((n) => n.addr === KERNEL_IP)).toBeUndefined();
    const before = await stack.stats();
    const [reply] = await stack.ping(KERNEL_IP, { count: 1, timeoutMs: 2_000 });
    expect(reply?.rttUs).toBeGreaterThanOrEqual(0);
    const d = delta(before, await stack.stats());
    expect(d['arp.requests_out']).toBeGreaterThanOrEqual(1);
    expect(d['arp.replies_in']).toBeGreaterThanOrEqual(1);
    const n = (await stack.neighbours()).find((e) => e.addr === KERNEL_IP);
    expect(n).toMatchObject({ portId: 0, addr: KERNEL_IP, mac: kernelMac, state: 'reachable', held: 0 });
    expect(n?.expiresIn).toBeGreaterThan(0);
  });

  it('answers arping with its own MAC', async () => {
    const { ns, stack, stackMac } = peer;
    expect(stackMac).toMatch(/^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/);
    expect((await stack.currentPorts())[0]?.mac).toBe(stackMac);
    const before = await stack.stats();
    const r = await ns.exec('arping', ['-c', '3', '-W', '0.2', '-i', IFACE, STACK_IP], { timeoutMs: 15_000 });
    const a = parseArping(r.stdout);
    expect(a.transmitted, r.stdout + r.stderr).toBe(3);
    expect(a.received, r.stdout).toBe(3);
    expect(a.replies).toHaveLength(3);
    for (const rep of a.replies) expect(rep).toEqual({ mac: stackMac, ip: STACK_IP });
    const after = await waitForStats(stack, (s) => ctr(s, 'arp.replies_out') - ctr(before, 'arp.replies_out') >= 3, 'three ARP replies counted');
    const d = delta(before, after);
    expect(d['arp.requests_in']).toBe(3);
    expect(d['arp.replies_out']).toBe(3);
    expect(d['arp.badlen']).toBe(0);
  });

  it('shows up in the kernel\'s neighbour table with its MAC after a ping', async () => {
    const { ns, stackMac } = peer;
    const p = parsePing((await ns.exec('ping', ['-c', '1', '-W', '2', STACK_IP])).stdout);
    expect(p.received).toBe(1);
    const out = await ns.execOk('ip', ['neigh', 'show', STACK_IP, 'dev', IFACE]);
    expect(out).toContain(`lladdr ${stackMac}`);
    expect(out).toMatch(/\b(REACHABLE|STALE|DELAY)\b/);
  });

  it('counts an unsolicited reply and creates no entry for an address it never asked about', async () => {
    const { ns, stack, kernelMac } = peer;
    await ns.execOk('ip', ['addr', 'add', `${SECOND_KERNEL_IP}/24`, 'dev', IFACE]);
    expect((await stack.neighbours()).find((n) => n.addr === SECOND_KERNEL_IP)).toBeUndefined();
    const before = await stack.stats();
    // Two broadcast ARP replies "10.77.0.3 is-at <ff0's MAC>", unasked.
    const r = await ns.exec('arping', ['-U', '-P', '-c', '2', '-W', '0.2', '-i', IFACE, '-S', SECOND_KERNEL_IP, SECOND_KERNEL_IP], { timeoutMs: 15_000 });
    expect(parseArping(r.stdout).transmitted, r.stdout + r.stderr).toBe(2);
    const after = await waitForStats(stack, (s) => ctr(s, 'arp.unsolicited') - ctr(before, 'arp.unsolicited') >= 2, 'two unsolicited replies counted');
    const d = delta(before, after);
    expect(d['arp.unsolicited']).toBe(2);
    expect(d['arp.replies_in']).toBe(0);
    expect(d['arp.replies_out']).toBe(0);
    expect((await stack.neighbours()).find((n) => n.addr === SECOND_KERNEL_IP)).toBeUndefined();

    // Asked for, the same address resolves normally.
    const [reply] = await stack.ping(SECOND_KERNEL_IP, { count: 1, timeoutMs: 2_000 });
    expect(reply?.rttUs).toBeGreaterThanOrEqual(0);
    expect((await stack.neighbours()).find((n) => n.addr === SECOND_KERNEL_IP)).toMatchObject({ mac: kernelMac, state: 'reachable' });
  });

  it('refreshes a known entry from an unsolicited reply instead of counting it', async () => {
    const { ns, stack } = peer;
    expect((await stack.neighbours()).find((n) => n.addr === KERNEL_IP)?.state).toBe('reachable');
    const before = await stack.stats();
    await ns.exec('arping', ['-U', '-P', '-c', '2', '-W', '0.2', '-i', IFACE, '-S', KERNEL_IP, KERNEL_IP], { timeoutMs: 15_000 });
    const after = await waitForStats(stack, (s) => ctr(s, 'arp.replies_in') - ctr(before, 'arp.replies_in') >= 2, 'two replies refreshing 10.77.0.1');
    const d = delta(before, after);
    expect(d['arp.replies_in']).toBe(2);
    expect(d['arp.unsolicited']).toBe(0);
  });

  it('fails a destination with no route when it has no gateway (ENETUNREACH)', async () => {
    const { stack } = peer;
    const before = await stack.stats();
    const err = await stack.ping(OFF_SUBNET_IP, { count: 1, timeoutMs: 500 }).then(
      () => undefined,
      (e: unknown) => e as StackProcessError,
    );
    expect(err?.code).toBe('ENETUNREACH');
    const d = delta(before, await stack.stats());
    expect(d['ip.noroute']).toBe(1);
    expect(d['arp.requests_out']).toBe(0);
    expect(d['icmp.echo_out']).toBe(0);
  });
});

describe.each(LCORE_MODES)('ARP tunables, static entries and a gateway ($name)', (mode) => {
  let peer: KernelPeer;

  beforeAll(async () => {
    peer = await kernelPeer('arp-tuned', {
      dpdk: mode.dpdk,
      port0: { gateway: KERNEL_IP, arp: [`${STATIC_IP} ${STATIC_MAC}`] },
      sysctl: {
        'net.link.ether.inet.maxtries': 2,
        'net.link.ether.inet.rexmit_ms': 100,
        'net.link.ether.inet.max_age': 2,
      },
    });
  });
  afterAll(async () => {
    await peer?.close();
  });

  it('lists a static entry from the config as permanent and uses it without asking', async () => {
    const { ns, stack } = peer;
    const n = (await stack.neighbours()).find((e) => e.addr === STATIC_IP);
    expect(n).toMatchObject({ portId: 0, addr: STATIC_IP, mac: STATIC_MAC, state: 'permanent', expiresIn: 0 });
    const cap = await tcpdumpLines(ns, IFACE, [], ['icmp', 'or', 'arp']);
    const before = await stack.stats();
    const [reply] = await stack.ping(STATIC_IP, { count: 1, timeoutMs: 300 });
    expect(reply?.rttUs).toBe(-1); // nobody has that MAC
    await cap.waitForLine(new RegExp(`> ${STATIC_MAC}, .*> ${STATIC_IP.replace(/\./g, '\\.')}: ICMP echo request`), 3_000);
    const lines = await cap.stop();
    expect(lines.filter((l) => l.includes('ARP'))).toEqual([]);
    const d = delta(before, await stack.stats());
    expect(d['arp.requests_out']).toBe(0);
    expect(d['icmp.echo_out']).toBe(1);
  });

  it('adds and deletes a permanent entry', async () => {
    const { stack } = peer;
    await stack.addNeighbour(0, '10.77.0.10', '02:00:00:00:00:0a');
    expect((await stack.neighbours()).find((e) => e.addr === '10.77.0.10')).toMatchObject({ mac: '02:00:00:00:00:0a', state: 'permanent' });
    expect(await stack.deleteNeighbour(0, '10.77.0.10')).toBe(true);
    expect((await stack.neighbours()).find((e) => e.addr === '10.77.0.10')).toBeUndefined();
    expect(await stack.deleteNeighbour(0, '10.77.0.10')).toBe(false);
    // The config's static entry is deletable the same way, and can be put back.
    expect(await stack.deleteNeighbour(0, STATIC_IP)).toBe(true);
    expect((await stack.neighbours()).find((e) => e.addr === STATIC_IP)).toBeUndefined();
    await stack.addNeighbour(0, STATIC_IP, STATIC_MAC);
    expect((await stack.neighbours()).find((e) => e.addr === STATIC_IP)?.state).toBe('permanent');
  });

  it('gives up after maxtries requests rexmit_ms apart, drops the held packet and fails the entry', async () => {
    const { ns, stack } = peer;
    const cap = await tcpdumpLines(ns, IFACE, [], ['arp']);
    const before = await stack.stats();
    const t0 = Date.now();
    const [reply] = await stack.ping(NOBODY_IP, { count: 1, timeoutMs: 500 });
    expect(reply?.rttUs).toBe(-1);
    const after = await waitForStats(stack, (s) => ctr(s, 'arp.timeouts') - ctr(before, 'arp.timeouts') >= 1, 'the resolution to time out', 3_000);
    const d = delta(before, after);
    expect(d['arp.requests_out']).toBe(2);
    expect(d['arp.timeouts']).toBe(1);
    expect(d['arp.hold_dropped']).toBeGreaterThanOrEqual(1);
    expect(d['icmp.echo_out']).toBe(1);
    const n = (await stack.neighbours()).find((e) => e.addr === NOBODY_IP);
    expect(n).toMatchObject({ state: 'failed', held: 0 });
    const lines = await cap.stop();
    const asks = lines.filter((l) => l.includes(`who-has ${NOBODY_IP} tell ${STACK_IP}`));
    expect(asks, lines.join('\n')).toHaveLength(2);
    expect(Date.now() - t0).toBeLessThan(5_000);
  });

  it('resolves the gateway for an off-subnet destination', async () => {
    const { stack, kernelMac } = peer;
    await stack.deleteNeighbour(0, KERNEL_IP);
    const before = await stack.stats();
    const [reply] = await stack.ping(OFF_SUBNET_IP, { count: 1, timeoutMs: 500 });
    // The kernel does not forward, and 10.99.0.5 exists nowhere: no reply.
    expect(reply?.rttUs).toBe(-1);
    const d = delta(before, await stack.stats());
    expect(d['arp.requests_out']).toBeGreaterThanOrEqual(1);
    expect(d['ip.noroute']).toBe(0);
    expect(d['icmp.echo_out']).toBe(1);
    const gw = (await stack.neighbours()).find((e) => e.addr === KERNEL_IP);
    expect(gw).toMatchObject({ mac: kernelMac });
    // Learned well within max_age (2 s here).
    expect(gw?.state).toBe('reachable');
    expect((await stack.neighbours()).find((e) => e.addr === OFF_SUBNET_IP)).toBeUndefined();
  });

  it('ages a learned entry out after max_age', async () => {
    const { ns, stack } = peer;
    await stack.deleteNeighbour(0, KERNEL_IP);
    const [reply] = await stack.ping(KERNEL_IP, { count: 1, timeoutMs: 2_000 });
    expect(reply?.rttUs).toBeGreaterThanOrEqual(0);
    const learnedAt = Date.now();
    const n = (await stack.neighbours()).find((e) => e.addr === KERNEL_IP);
    expect(n?.state).toBe('reachable');
    expect(n?.expiresIn).toBeLessThanOrEqual(2);
    await ns.waitFor(async () => (await stack.neighbours()).every((e) => e.addr !== KERNEL_IP), '10.77.0.1 to age out', 6_000, 100);
    const age = Date.now() - learnedAt;
    expect(age).toBeGreaterThanOrEqual(1_500);
    expect(age).toBeLessThan(4_500);
  });
});

describe.each(LCORE_MODES)('gratuitous ARP when the link comes up ($name)', (mode) => {
  const announce = new RegExp(`Request who-has ${STACK_IP.replace(/\./g, '\\.')} tell ${STACK_IP.replace(/\./g, '\\.')}`);
  let ns: Netns | undefined;
  let stack: StackProcess | undefined;

  afterEach(async () => {
    await stack?.close();
    await ns?.destroy();
    stack = undefined;
    ns = undefined;
  });

  it('announces its address when it starts (net_tap brings ff0 up)', async () => {
    ns = await quietNamespace('arp-garp');
    // ff0 does not exist yet, and libpcap will not open an interface that is down: listen on all of them.
    const cap = await tcpdumpLines(ns, 'any', [], ['arp']);
    stack = await StackProcess.start(ns, peerConfig(ns, { dpdk: mode.dpdk }));
    const stackMac = stack.ports[0]?.mac ?? '';
    const line = await cap.waitForLine(announce, 3_000);
    await cap.stop();
    expect(line.toLowerCase()).toContain(stackMac);
    expect(ctr(await stack.stats(), 'arp.requests_out')).toBe(1);
  });

  it('announces its address again when ff0 goes down and comes back up', async () => {
    ns = await quietNamespace('arp-garp');
    stack = await StackProcess.start(ns, peerConfig(ns, { dpdk: mode.dpdk }));
    const s = stack;
    const stackMac = s.ports[0]?.mac ?? '';
    await ns.execOk('ip', ['link', 'set', IFACE, 'down']);
    await ns.waitFor(async () => (await s.currentPorts())[0]?.linkUp === false, 'port 0 to report link down', 5_000);
    // The data path polls link state four times a second: stay down long enough for it to notice.
    await sleep(LINK_POLL_MS * 2 + 100);
    const cap = await tcpdumpLines(ns, 'any', [], ['arp']);
    const before = await s.stats();
    await bringUp(ns, s);
    const line = await cap.waitForLine(announce, 3_000);
    await cap.stop();
    expect(line.toLowerCase()).toContain(stackMac);
    expect(delta(before, await s.stats())['arp.requests_out']).toBe(1);
  });
});
