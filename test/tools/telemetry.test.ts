/**
 * ffnet's figures on DPDK's telemetry socket (<runtime dir>/dpdk_telemetry.v2, SOCK_SEQPACKET), read
 * by a small python3 client as DPDK's dpdk-telemetry.py reads them: /ffnet/info, /ffnet/stats,
 * /ffnet/sysctl and /ffnet/lcores agree with what the control socket says.
 */
import { describe, expect, it } from 'vitest';
import { cli, cliJson, kernelSend, nodeStackSuite } from './harness.js';

const CLIENT = `
import json, socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
s.settimeout(5)
s.connect(sys.argv[1])
hello = json.loads(s.recv(16384))
out = {'hello': hello}
for cmd in sys.argv[2:]:
    s.send(cmd.encode())
    out[cmd] = json.loads(s.recv(65536))
print(json.dumps(out))
`;

describe('ffnet on DPDK telemetry', () => {
  const stack = nodeStackSuite('tools-telemetry', 9600);

  async function telemetry(...cmds: string[]): Promise<Record<string, Record<string, unknown>>> {
    const out = await stack.ns.execOk('python3', ['-c', CLIENT, `${stack.runtimeDir}/dpdk_telemetry.v2`, ...cmds], { timeoutMs: 10_000 });
    return JSON.parse(out) as Record<string, Record<string, unknown>>;
  }

  it('lists the /ffnet/ commands and answers them with the stack\'s own figures', async () => {
    await kernelSend(stack.ns, 9600, 3);
    await stack.ns.waitFor(async () => (await cliJson<{ counters: Record<string, number> }>(stack.ns, [...stack.p, 'netstat', '-s'])).counters['udp.delivered']! >= 3,
      'three datagrams delivered', 10_000, 200);
    await cli(stack.ns, [...stack.p, 'sysctl', '-w', 'net.inet.ip.ttl=99']);
    const t = await telemetry('/', '/ffnet/info', '/ffnet/stats', '/ffnet/sysctl', '/ffnet/lcores', '/ffnet/lcores,0', '/ffnet/inet6');
    expect(t.hello, `telemetry socket of ${stack.runtimeDir}`).toMatchObject({ pid: stack.app.pid });
    expect(t['/']!['/']).toEqual(expect.arrayContaining(['/ffnet/info', '/ffnet/stats', '/ffnet/sysctl', '/ffnet/lcores', '/ffnet/inet6']));
    // The port's EUI-64 link-local address, as ifconfig's JSON has it.
    const [port] = await cliJson<Array<{ inet6: Array<{ addr: string; prefixlen: number; state: string }> }>>(stack.ns, [...stack.p, 'ifconfig', 'port0']);
    // (DAD may settle an address between the two reads: its state is one of those the stack names.)
    const inet6 = t['/ffnet/inet6']!['/ffnet/inet6'] as Record<string, string[]>;
    expect(Object.keys(inet6)).toEqual(['port0']);
    expect(inet6.port0!.map((e) => e.split(' ')[0])).toEqual(port!.inet6.map((a) => `${a.addr}%port0/${a.prefixlen}`));
    for (const e of inet6.port0!) expect(e).toMatch(/ (tentative|preferred)$/);
    expect(port!.inet6[0]!.addr).toMatch(/^fe80::/);
    expect(t['/ffnet/info']!['/ffnet/info']).toMatchObject({ pid: stack.app.pid, program: 'tools-app.mjs', mode: 'inline', lcores: 1, ports: 1,
      control_socket: `${stack.runtimeDir}/ffnet.${stack.app.pid}.sock` });

    const stats = t['/ffnet/stats']!['/ffnet/stats'] as Record<string, number>;
    const viaCtl = await cliJson<{ counters: Record<string, number> }>(stack.ns, [...stack.p, 'netstat', '-s']);
    expect(Object.keys(stats)).toEqual(Object.keys(viaCtl.counters).map((k) => k.replaceAll('.', '_')));
    // Counters only grow, and nothing arrived between the two reads but ARP or nothing at all.
    expect(stats.udp_delivered).toBe(viaCtl.counters['udp.delivered']);
    expect(stats.udp_delivered).toBeGreaterThanOrEqual(3);

    const sysctl = t['/ffnet/sysctl']!['/ffnet/sysctl'] as Record<string, number>;
    expect(sysctl.net_inet_ip_ttl).toBe(99);
    expect(sysctl.net_link_ether_inet_maxtries).toBe(5);

    const lcores = t['/ffnet/lcores']!['/ffnet/lcores'] as Record<string, number[]>;
    expect(lcores.lcore_id).toEqual([0]);
    expect(lcores.loop_turns![0]).toBeGreaterThan(0);
    expect(lcores.loop_busy_ns![0]).toBeGreaterThan(0);
    const one = t['/ffnet/lcores,0']!['/ffnet/lcores'] as Record<string, number>;
    expect(one).toMatchObject({ index: 0, lcore_id: 0 });
    expect(one.udp_delivered).toBeGreaterThanOrEqual(3);
    await cli(stack.ns, [...stack.p, 'sysctl', '-w', 'net.inet.ip.ttl=64']);
  }, 30_000);
});
