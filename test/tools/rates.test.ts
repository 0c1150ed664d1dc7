/**
 * `ffnet top` and `ffnet netstat -w` against traffic at a known rate: the kernel sends UDP datagrams
 * to a Node stack at 200 per second, and the per-second figures the tools print match it (within
 * tolerant bounds: two shared cores), in both lcore modes. Every loop is bounded (-n, -q).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { LCORE_MODES } from '../stack/kernel-peer.js';
import { CLI, cli, kernelSend, nodeStackSuite } from './harness.js';

interface Frame { pid: number; seconds: number; lcores: Array<{ index: number; busy_pct: number; turns_per_s: number; rx_per_s: number; udp_in_per_s: number; drops_per_s: number }> }
interface RateLine { seconds: number; eth_rx: number; udp_rx: number; udp_delivered: number; drops: number }

const RATE = 200;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

describe.each(LCORE_MODES)('ffnet top and netstat -w ($name)', (mode) => {
  const stack = nodeStackSuite('tools-rates', 9500, mode.dpdk);

  beforeAll(async () => {
    await kernelSend(stack.ns, 9500, 1); // ARP both ways before the measured traffic
  });

  it(`show ${RATE} datagrams per second while the kernel sends them`, async () => {
    const sending = kernelSend(stack.ns, 9500, RATE * 7, RATE);
    await new Promise((r) => setTimeout(r, 700));
    const [top, watch] = await Promise.all([
      cli(stack.ns, [...stack.p, 'top', '-n', '4', '-d', '1', '--json'], { timeoutMs: 20_000 }),
      cli(stack.ns, [...stack.p, 'netstat', '-w', '1', '-q', '4', '--json'], { timeoutMs: 20_000 }),
    ]);
    await sending;
    expect(top.code, top.stderr).toBe(0);
    expect(watch.code, watch.stderr).toBe(0);
    const frames = top.stdout.trim().split('\n').map((l) => JSON.parse(l) as Frame);
    expect(frames).toHaveLength(4);
    const delivered = frames.map((f) => f.lcores.reduce((s, l) => s + l.udp_in_per_s, 0));
    const rx = frames.map((f) => f.lcores.reduce((s, l) => s + l.rx_per_s, 0));
    expect(median(delivered)).toBeGreaterThan(RATE * 0.6);
    expect(median(delivered)).toBeLessThan(RATE * 1.4);
    expect(median(rx)).toBeGreaterThan(RATE * 0.6);
    expect(median(rx)).toBeLessThan(RATE * 1.4);
    for (const f of frames) {
      expect(f.pid).toBe(stack.app.pid);
      expect(f.seconds).toBeGreaterThan(0.9);
      for (const l of f.lcores) {
        expect(l.busy_pct).toBeGreaterThanOrEqual(0);
        expect(l.busy_pct).toBeLessThanOrEqual(100);
        expect(l.drops_per_s).toBe(0);
      }
      // The lcore the traffic reached did work: its turns and busy time grew.
      const busiest = f.lcores.reduce((a, b) => (b.rx_per_s > a.rx_per_s ? b : a));
      expect(busiest.turns_per_s).toBeGreaterThan(0);
      expect(busiest.busy_pct).toBeGreaterThan(0);
    }

    const lines = watch.stdout.trim().split('\n').map((l) => JSON.parse(l) as RateLine);
    expect(lines).toHaveLength(4);
    expect(median(lines.map((l) => l.udp_delivered))).toBeGreaterThan(RATE * 0.6);
    expect(median(lines.map((l) => l.udp_delivered))).toBeLessThan(RATE * 1.4);
    expect(median(lines.map((l) => l.udp_rx))).toBeGreaterThan(RATE * 0.6);
    expect(median(lines.map((l) => l.udp_rx))).toBeLessThan(RATE * 1.4);
  }, 60_000);

  it('top redraws in place on a terminal, and prints frames one after another with -b', async () => {
    // script(1) gives the CLI a pseudo-terminal, as a person's shell would.
    const tty = await stack.ns.exec('script', ['-qfec', `${process.execPath} ${CLI} -p ${stack.app.pid} top -n 2 -d 0.3`, '/dev/null'], { timeoutMs: 20_000 });
    expect(tty.code, tty.stderr).toBe(0);
    expect(tty.stdout.split('\x1b[H\x1b[2J')).toHaveLength(3);
    expect(tty.stdout).toMatch(/LCORE\s+ID\s+BUSY%\s+TURNS\/s\s+RX\/s\s+TX\/s\s+UDP-IN\/s\s+UDP-OUT\/s\s+DROPS\/s/);
    const batch = await cli(stack.ns, [...stack.p, 'top', '-b', '-n', '2', '-d', '0.3']);
    expect(batch.code).toBe(0);
    expect(batch.stdout).not.toContain('\x1b[');
    expect(batch.stdout.match(/^ffnet top - pid \d+ tools-app\.mjs, up \S+, (inline|dedicated), \d+ lcores?, every 0\.\d s$/gm)).toHaveLength(2);
    const bad = await cli(stack.ns, [...stack.p, 'top', '-n', '0']);
    expect(bad).toMatchObject({ code: 2, stderr: "ffnet top: -n: '0' is not a positive whole number\n" });
  }, 30_000);
});
