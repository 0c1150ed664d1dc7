/**
 * `ffnet sysctl` on a Node stack (ffnet/dgram, inline) facing the kernel over net_tap: every tunable
 * of the stack's table, reads, writes that take effect at once (the TTL tshark sees on the kernel
 * side), and one-line refusals for unknown names and values out of range.
 */
import { describe, expect, it } from 'vitest';
import { SYSCTLS } from '../../config/index.js';
import { STACK_IP, cli, cliJson, nodeStackSuite } from './harness.js';

interface Tunable { name: string; value: number; default: number; min: number; max: number; unit: string; description: string }

describe('ffnet sysctl', () => {
  const stack = nodeStackSuite('tools-sysctl', 9100);

  it('-a lists every tunable of the stack, typed, with its range and description', async () => {
    const list = await cliJson<Tunable[]>(stack.ns, [...stack.p, 'sysctl', '-a']);
    expect(list.map((t) => t.name).sort()).toEqual(SYSCTLS.map((s) => s.name).sort());
    for (const t of list) {
      const want = SYSCTLS.find((s) => s.name === t.name)!;
      expect({ default: t.default, min: t.min, max: t.max }).toEqual({ default: want.default, min: want.min, max: want.max });
      expect(t.value).toBe(t.default);
      expect(t.description.length).toBeGreaterThan(10);
    }
    const text = await cli(stack.ns, [...stack.p, 'sysctl', '-a']);
    expect(text.code).toBe(0);
    expect(text.stdout.trim().split('\n')).toEqual(list.map((t) => `${t.name}: ${t.value}`));
  });

  it('NAME prints one tunable; a prefix prints its subtree; -d describes', async () => {
    expect((await cli(stack.ns, [...stack.p, 'sysctl', 'net.inet.ip.ttl'])).stdout).toBe('net.inet.ip.ttl: 64\n');
    const sub = (await cli(stack.ns, [...stack.p, 'sysctl', 'net.link.ether.inet'])).stdout.trim().split('\n');
    expect(sub.length).toBe(SYSCTLS.filter((s) => s.name.startsWith('net.link.ether.inet.')).length);
    const d = await cli(stack.ns, [...stack.p, 'sysctl', '-d', 'net.inet.ip.ttl']);
    expect(d.stdout).toMatch(/^net\.inet\.ip\.ttl: .*TTL.* \[1\.\.255 hops, default 64\]\n$/);
  });

  it('-w sets a tunable at once: the TTL of the next datagram the kernel receives changes', async () => {
    const capture = stack.ns.spawn('tshark', ['-l', '-n', '-i', 'ff0', '-f', `udp and src host ${STACK_IP} and dst port 9200`, '-T', 'fields', '-e', 'ip.ttl']);
    let lines = '';
    let err = '';
    capture.stdout?.setEncoding('utf8').on('data', (d: string) => (lines += d));
    capture.stderr?.setEncoding('utf8').on('data', (d: string) => (err += d));
    try {
      await stack.ns.waitFor(async () => /Capturing on/.test(err), 'tshark to capture', 20_000);
      const set = await cli(stack.ns, [...stack.p, 'sysctl', '-w', 'net.inet.ip.ttl=17']);
      expect(set).toMatchObject({ code: 0, stdout: 'net.inet.ip.ttl: 64 -> 17\n' });
      stack.app.send('send 9200');
      await stack.app.waitForLine(/sent/);
      await stack.ns.waitFor(async () => lines.trim().split('\n').filter(Boolean).length >= 1, `tshark to see the datagram (${err})`, 10_000);
      expect(lines.trim().split('\n')[0]).toBe('17');
    } finally {
      capture.kill('SIGINT');
      await cli(stack.ns, [...stack.p, 'sysctl', '-w', 'net.inet.ip.ttl=64']);
    }
  }, 60_000);

  it('refuses an unknown tunable, a value out of range and a non-integer with one line and exit 1', async () => {
    const cases: Array<[string[], string]> = [
      [['sysctl', 'net.inet.ip.tll'], 'ffnet sysctl: unknown tunable net.inet.ip.tll\n'],
      [['sysctl', '-w', 'net.inet.ip.tll=5'], 'ffnet sysctl: unknown tunable net.inet.ip.tll\n'],
      [['sysctl', '-w', 'net.inet.ip.ttl=300'], 'ffnet sysctl: net.inet.ip.ttl: 300 is out of range (1..255 hops)\n'],
      [['sysctl', 'net.inet.ip.ttl=0'], 'ffnet sysctl: net.inet.ip.ttl: 0 is out of range (1..255 hops)\n'],
      [['sysctl', '-w', 'net.inet.ip.ttl=12x'], "ffnet sysctl: net.inet.ip.ttl: '12x' is not an integer\n"],
    ];
    for (const [args, stderr] of cases) {
      const r = await cli(stack.ns, [...stack.p, ...args]);
      expect({ args, code: r.code, stdout: r.stdout, stderr: r.stderr }).toEqual({ args, code: 1, stdout: '', stderr });
    }
    expect((await cli(stack.ns, [...stack.p, 'sysctl', 'net.inet.ip.ttl'])).stdout).toBe('net.inet.ip.ttl: 64\n');
  });

  it('--json of a write gives the old and new values; usage errors exit 2', async () => {
    const changes = await cliJson<Array<{ name: string; old: number; value: number }>>(stack.ns, [...stack.p, 'sysctl', '-w', 'net.inet.icmp.icmplim=150']);
    expect(changes).toEqual([{ name: 'net.inet.icmp.icmplim', old: 200, value: 150 }]);
    await cli(stack.ns, [...stack.p, 'sysctl', '-w', 'net.inet.icmp.icmplim=200']);
    const none = await cli(stack.ns, [...stack.p, 'sysctl']);
    expect(none.code).toBe(2);
    expect(none.stderr.trim().split('\n')).toHaveLength(1);
    const bad = await cli(stack.ns, [...stack.p, 'sysctl', '--bogus']);
    expect(bad).toMatchObject({ code: 2, stderr: "ffnet sysctl: Unknown option '--bogus'\n" });
  });
});
