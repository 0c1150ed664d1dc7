/**
 * `ffnet netstat` and `ffnet ps` on a Node stack (ffnet/dgram, inline) facing the kernel over
 * net_tap: -s counts exactly the datagrams the kernel sent, grouped by protocol with every drop
 * reason; -a shows the app's socket with its owner and lcore; -i the port as the kernel sees it;
 * --json parses; each command has --help.
 */
import { describe, expect, it } from 'vitest';
import { linkMac, quietNamespace } from '../stack/kernel-peer.js';
import { DROP_COUNTERS } from '../../tools/counters.js';
import { STACK_IP, cli, cliJson, kernelSend, nodeStackSuite, startUdpEcho, waitForStack } from './harness.js';

interface Stats { counters: Record<string, number>; lcores: Array<{ index: number; counters: Record<string, number> }> }

describe('ffnet netstat and ps', () => {
  const stack = nodeStackSuite('tools-netstat', 9300);

  it('ps lists the stack: pid, program, mode, lcores, port, prefix', async () => {
    const list = await cliJson<Array<Record<string, unknown>>>(stack.ns, ['ps']);
    const me = list.find((s) => s.pid === stack.app.pid);
    expect(me).toMatchObject({ pid: stack.app.pid, program: 'tools-app.mjs', mode: 'inline', file_prefix: stack.app.prefix, proc_type: 'primary',
      lcores: [{ index: 0, lcore_id: 0 }], ports: [{ index: 0, port_id: 0, name: 'net_tap0' }], uid: 0 });
    expect(me?.uptime_ms).toBeGreaterThan(0);
    const text = await cli(stack.ns, ['ps']);
    expect(text.code).toBe(0);
    expect(text.stdout.split('\n')[0]).toMatch(/^\s*PID\s+PROGRAM\s+MODE\s+LCORES\s+PORTS\s+UPTIME\s+PREFIX$/);
    expect(text.stdout).toMatch(new RegExp(`^\\s*${stack.app.pid}\\s+tools-app\\.mjs\\s+inline\\s+0\\s+port0\\(net_tap0\\)\\s+\\d\\d:\\d\\d\\s+${stack.app.prefix}$`, 'm'));
    // By program name and by file prefix, too.
    expect((await cliJson<{ pid: number }[]>(stack.ns, ['-p', stack.app.prefix, 'ps'])).some((s) => s.pid === stack.app.pid)).toBe(true);
  });

  it('ps -p lists the matching stack alone while another runs', async () => {
    const other = await quietNamespace('tools-netstat-other');
    const echo = startUdpEcho(other, 'tools-netstat-other');
    try {
      await waitForStack(other, echo.pid);
      const all = await cliJson<Array<{ pid: number }>>(stack.ns, ['ps']);
      expect(all.map((s) => s.pid)).toEqual(expect.arrayContaining([stack.app.pid, echo.pid]));
      expect((await cliJson<Array<{ pid: number }>>(stack.ns, [...stack.p, 'ps'])).map((s) => s.pid)).toEqual([stack.app.pid]);
      expect((await cliJson<Array<{ pid: number }>>(stack.ns, ['-p', echo.prefix, 'ps'])).map((s) => s.pid)).toEqual([echo.pid]);
      const none = await cli(stack.ns, ['-p', 'no-such-program', 'ps']);
      expect(none.code).toBe(1);
      expect(none.stderr).toMatch(new RegExp(`^ffnet ps: no stack matches 'no-such-program' \\(running: .*${echo.pid} udp_echo.*\\)\n$`));
      // Two stacks and no -p: the other commands ask which.
      const which = await cli(stack.ns, ['netstat', '-s']);
      expect(which.code).toBe(1);
      expect(which.stderr).toMatch(/^ffnet netstat: several stacks run \(.*\): choose one with -p\n$/);
    } finally {
      await echo.stop();
      await other.destroy();
    }
  }, 60_000);

  it('-s counts exactly the datagrams the kernel sent, in udp.rx and udp.delivered', async () => {
    const K = 37;
    // A first datagram resolves ARP both ways, so that the counted ones travel alone.
    await kernelSend(stack.ns, 9300, 1);
    let before = await cliJson<Stats>(stack.ns, [...stack.p, 'netstat', '-s']);
    await stack.ns.waitFor(async () => {
      const again = await cliJson<Stats>(stack.ns, [...stack.p, 'netstat', '-s']);
      const settled = again.counters['udp.rx'] === before.counters['udp.rx'] && again.counters['udp.rx']! >= 1;
      before = again;
      return settled;
    }, 'the first datagram to arrive', 10_000, 300);
    await kernelSend(stack.ns, 9300, K);
    let after = before;
    await stack.ns.waitFor(async () => {
      after = await cliJson<Stats>(stack.ns, [...stack.p, 'netstat', '-s']);
      return after.counters['udp.rx']! - before.counters['udp.rx']! >= K;
    }, `udp.rx to grow by ${K}`, 10_000, 200);
    // Nothing more trickles in: the counts are exact, not at least.
    await new Promise((r) => setTimeout(r, 500));
    after = await cliJson<Stats>(stack.ns, [...stack.p, 'netstat', '-s']);
    const d = (k: string) => after.counters[k]! - before.counters[k]!;
    expect({ rx: d('udp.rx'), delivered: d('udp.delivered'), noport: d('udp.noport'), badsum: d('udp.badsum') })
      .toEqual({ rx: K, delivered: K, noport: 0, badsum: 0 });
    expect(d('ip.rx')).toBe(K);
    expect(after.lcores.reduce((s, l) => s + l.counters['udp.delivered']!, 0)).toBe(after.counters['udp.delivered']);

    // For people: grouped by protocol as FreeBSD's netstat -s, every counter with its description.
    const text = await cli(stack.ns, [...stack.p, 'netstat', '-s']);
    expect(text.code).toBe(0);
    const groups = text.stdout.split('\n').filter((l) => /^[a-z][a-z0-9]*:$/.test(l));
    expect(groups).toEqual(['eth:', 'fault:', 'capture:', 'exception:', 'arp:', 'ip:', 'ip6:', 'icmp:', 'icmp6:', 'nd6:', 'igmp:', 'mld:', 'udp:', 'localhost:', 'ctrl:', 'loop:']);
    expect(text.stdout).toMatch(/^udp:\n\t\d+ UDP datagrams received \[udp\.rx\]$/m);
    for (const name of Object.keys(after.counters)) expect(text.stdout).toContain(`[${name}]`);
    for (const drop of DROP_COUNTERS) expect(Object.keys(after.counters)).toContain(drop);
  }, 60_000);

  it('-a shows the app\'s socket: address, queues, owner thread, lcore', async () => {
    const socks = await cliJson<Array<Record<string, unknown>>>(stack.ns, [...stack.p, 'netstat', '-a']);
    const s = socks.find((x) => x.lport === 9300);
    expect(s).toMatchObject({ proto: 'udp4', local: '0.0.0.0', remote: null, lcore: 0, reuseport: false, owner: { tid: stack.app.pid } });
    expect(s?.rcvbuf).toBeGreaterThan(0);
    const text = await cli(stack.ns, [...stack.p, 'netstat', '-a']);
    expect(text.stdout.split('\n')[0]).toBe('Active Internet connections (including servers)');
    expect(text.stdout).toMatch(new RegExp(`^udp4\\s+\\d+\\s+\\d+\\s+\\*\\.9300\\s+\\*\\.\\*\\s+\\d+/\\d+\\s+\\d+\\s+0\\s+${stack.app.pid}/\\S+$`, 'm'));
  });

  it('-a shows a udp6 socket as udp6 with its IPv6 address', async () => {
    stack.app.send('udp6 9301');
    await stack.app.waitForLine(/bound6/);
    const socks = await cliJson<Array<Record<string, unknown>>>(stack.ns, [...stack.p, 'netstat', '-a']);
    expect(socks.find((x) => x.lport === 9301)).toMatchObject({ proto: 'udp6', local: '::1', remote: null });
    const text = await cli(stack.ns, [...stack.p, 'netstat', '-a']);
    expect(text.stdout).toMatch(/^udp6\s+\d+\s+\d+\s+::1\.9301\s+\*\.\*\s/m);
  });

  it('-i shows the port with the address, MAC and packet counts the kernel side agrees with', async () => {
    const ports = await cliJson<Array<{ port_id: number; inet: string; prefixlen: number; mac: string; mtu: number; stats: { ipackets: number; opackets: number } }>>(stack.ns, [...stack.p, 'netstat', '-i']);
    expect(ports).toHaveLength(1);
    const kernelView = await stack.ns.execOk('ip', ['-j', 'neigh', 'show', STACK_IP, 'dev', 'ff0']);
    const [neigh] = JSON.parse(kernelView) as Array<{ lladdr?: string }>;
    expect(ports[0]).toMatchObject({ port_id: 0, inet: STACK_IP, prefixlen: 24, mtu: 1500, mac: neigh?.lladdr });
    expect(ports[0]!.stats.ipackets).toBeGreaterThan(0);
    expect(await linkMac(stack.ns, 'ff0')).not.toBe(ports[0]!.mac);
    const text = await cli(stack.ns, [...stack.p, 'netstat', '-i']);
    expect(text.stdout).toMatch(/^Name\s+Mtu\s+Network\s+Address\s+Ipkts\s+Ierrs\s+Idrop\s+Opkts\s+Oerrs$/m);
    expect(text.stdout).toMatch(/^port0\s+-\s+10\.77\.0\.0\/24\s+10\.77\.0\.2\s+\d+/m);
  });

  it('every command has --help; a bad mix of options is a usage error', async () => {
    for (const cmd of ['ps', 'netstat', 'sysctl', 'top']) {
      const r = await cli(stack.ns, [cmd, '--help']);
      expect(r).toMatchObject({ code: 0, stderr: '' });
      expect(r.stdout).toMatch(new RegExp(`^usage: ffnet ${cmd}`));
      expect(r.stdout).toContain('--json');
    }
    const top = await cli(stack.ns, ['--help']);
    expect(top.code).toBe(0);
    for (const cmd of ['ps', 'netstat', 'sysctl', 'top']) expect(top.stdout).toMatch(new RegExp(`^  ${cmd}\\s`, 'm'));
    const both = await cli(stack.ns, [...stack.p, 'netstat', '-s', '-a']);
    expect(both).toMatchObject({ code: 2, stdout: '', stderr: 'ffnet netstat: choose one of -s, -a, -i or -w SECONDS (ffnet netstat --help)\n' });
    const unknown = await cli(stack.ns, ['frobnicate']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr.trim().split('\n')).toHaveLength(1);
  });
});
