/**
 * `ffnet ndp` against a live stack facing the Linux kernel over net_tap in a namespace of the test's
 * own (test/stack/kernel-peer.ts), the CLI run as a child process: an `ndp[]` entry of the
 * configuration is permanent from start; `ndp -s` adds a permanent entry that `ndp -a` shows (text and
 * JSON) and that the stack sends through without soliciting (tcpdump on the kernel side sees the echo
 * request leave to its MAC and no Neighbor Solicitation); `ndp -d` removes an entry of any state, the
 * configured one and one still resolving included; bad input fails in one line. Both lcore modes.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IFACE, LCORE_MODES, ctr, kernelPeer, linkLocalOf, tcpdumpLines, type KernelPeer } from '../stack/kernel-peer.js';
import type { NdpEntry } from '../../tools/commands/ndp.js';
import { ffnet } from './harness.js';

/** `ffnet ... --json`, expecting success. */
async function ffnetJson<T>(pid: number, args: string[]): Promise<T> {
  const r = await ffnet(pid, [...args, '--json']);
  expect(r, r.stderr).toMatchObject({ code: 0, stderr: '' });
  return JSON.parse(r.stdout) as T;
}

const CONFIGURED = { addr: 'fe80::7', mac: '02:00:00:00:00:07' };
/** tcpdump's filter for Neighbor Solicitations (ICMPv6 type 135 right after the IPv6 header). */
const NEIGHBOR_SOLICITATIONS = ['icmp6', 'and', 'ip6[40]', '=', '135'];

describe.each(LCORE_MODES)('ffnet ndp -s / -d and ndp[] on a live stack ($name)', (mode) => {
  let peer: KernelPeer;
  let pid: number;

  beforeAll(async () => {
    peer = await kernelPeer('tools-ndp', {
      dpdk: mode.dpdk,
      port0: { addr6: ['2001:db8:77::2/64'], ndp: [`${CONFIGURED.addr} ${CONFIGURED.mac}`] },
      // No Duplicate Address Detection: the address is preferred at once, and no solicitation of the stack's own.
      sysctl: { 'net.inet6.ip6.dad_count': 0 },
    });
    pid = peer.stack.pid!;
  }, 60_000);

  afterAll(async () => {
    await peer?.close();
  });

  it('an ndp[] entry of the configuration is permanent from start', async () => {
    const entries = await ffnetJson<NdpEntry[]>(pid, ['ndp', '-a']);
    expect(entries.find((e) => e.addr === CONFIGURED.addr)).toEqual({
      port: 0, ...CONFIGURED, router: false, state: 'permanent', expires_s: 0, held_packets: 0, held_bytes: 0,
    });
    const r = await ffnet(pid, ['ndp', '-a']);
    expect(r).toMatchObject({ code: 0, stderr: '' });
    expect(r.stdout).toMatch(/^fe80::7 +02:00:00:00:00:07 +port0 permanent +R$/m);
  });

  it('ndp -s adds a permanent entry the stack sends through without soliciting, ndp -d removes it', async () => {
    const addr = '2001:db8:77::9';
    const mac = '02:00:00:00:00:09';
    expect(await ffnet(pid, ['ndp', '-s', addr, mac])).toEqual({ code: 0, stdout: '', stderr: '' });
    const entry = (await ffnetJson<NdpEntry[]>(pid, ['ndp', '-a'])).find((e) => e.addr === addr);
    expect(entry).toEqual({ port: 0, addr, router: false, mac, state: 'permanent', expires_s: 0, held_packets: 0, held_bytes: 0 });
    expect((await ffnet(pid, ['ndp', '-a'])).stdout).toMatch(/^2001:db8:77::9 +02:00:00:00:00:09 +port0 permanent +R$/m);

    const before = await peer.stack.stats();
    const echo = await tcpdumpLines(peer.ns, IFACE, ['-c', '1'], ['icmp6', 'and', 'dst', 'host', addr]);
    const solicitations = await tcpdumpLines(peer.ns, IFACE, [], NEIGHBOR_SOLICITATIONS);
    // Nobody answers at that MAC: the echo request is what the kernel side sees.
    expect((await ffnet(pid, ['ping', '-c', '1', '-W', '300', addr])).code).toBe(1);
    const line = await echo.waitForLine(/ICMP6, echo request/, 5_000);
    expect(line).toContain(`${peer.stackMac} > ${mac}`);
    await echo.stop();
    expect(await solicitations.stop()).toEqual([]);
    expect(ctr(await peer.stack.stats(), 'nd6.ns_out')).toBe(ctr(before, 'nd6.ns_out'));

    expect(await ffnet(pid, ['ndp', '-d', addr])).toEqual({ code: 0, stdout: `${addr} (${addr}) deleted\n`, stderr: '' });
    expect((await ffnetJson<NdpEntry[]>(pid, ['ndp', '-a'])).some((e) => e.addr === addr)).toBe(false);
    expect(await ffnet(pid, ['ndp', '-d', addr])).toEqual({ code: 1, stdout: '', stderr: `ffnet ndp: no NDP entry for ${addr}\n` });
  });

  it('ndp -s and -d print the entry with --json; a %portN scope names the port', async () => {
    const mac = '02:00:00:00:00:0a';
    const added = await ffnetJson<unknown>(pid, ['ndp', '-s', 'FE80::A%port0', '02:00:00:00:00:0A', '-i', 'port0']);
    expect(added).toEqual({ port: 0, addr: 'fe80::a', mac, state: 'permanent' });
    expect(await ffnetJson<unknown>(pid, ['ndp', '-d', 'fe80::a', '-i', 'port0'])).toEqual({ addr: 'fe80::a', removed: 1 });
  });

  it('ndp -d removes the configured entry and one still resolving (its held packet dropped and counted)', async () => {
    expect(await ffnet(pid, ['ndp', '-d', `${CONFIGURED.addr}%port0`]))
      .toEqual({ code: 0, stdout: `${CONFIGURED.addr}%port0 (${CONFIGURED.addr}) deleted\n`, stderr: '' });
    expect((await ffnetJson<NdpEntry[]>(pid, ['ndp', '-a'])).some((e) => e.addr === CONFIGURED.addr)).toBe(false);

    const silent = '2001:db8:77::20';
    // The same capture as above sees this one solicited: its silence there meant something.
    const solicitations = await tcpdumpLines(peer.ns, IFACE, [], NEIGHBOR_SOLICITATIONS);
    expect((await ffnet(pid, ['ping', '-c', '1', '-W', '100', silent])).code).toBe(1);
    expect(await solicitations.waitForLine(/neighbor solicitation, who has 2001:db8:77::20/, 5_000)).toContain('> 33:33:ff:00:00:20');
    await solicitations.stop();
    const resolving = (await ffnetJson<NdpEntry[]>(pid, ['ndp', '-a'])).find((e) => e.addr === silent);
    expect(resolving).toMatchObject({ mac: null, state: 'incomplete', held_packets: 1 });
    const before = await peer.stack.stats();
    expect((await ffnet(pid, ['ndp', '-d', silent])).code).toBe(0);
    expect((await ffnetJson<NdpEntry[]>(pid, ['ndp', '-a'])).some((e) => e.addr === silent)).toBe(false);
    expect(ctr(await peer.stack.stats(), 'nd6.hold_dropped') - ctr(before, 'nd6.hold_dropped')).toBe(1);
  });

  it('bad input fails in one clear line with exit status 1', async () => {
    const mac = '02:00:00:00:00:01';
    const own = "is not a neighbour on port0's link (a unicast address, link-local or on one of its prefixes, not its own)";
    const cases: Array<[string[], string]> = [
      [['ndp', '-s', 'nohost', mac], "ffnet ndp: bad address 'nohost' (an IPv6 address, e.g. 2001:db8::9 or fe80::9%port0)\n"],
      [['ndp', '-s', '10.77.0.9', mac], "ffnet ndp: bad address '10.77.0.9' (an IPv6 address, e.g. 2001:db8::9 or fe80::9%port0)\n"],
      [['ndp', '-s', '2001:db8:99::1', mac], 'ffnet ndp: 2001:db8:99::1 is not on-link (neither link-local nor on a prefix of a port)\n'],
      [['ndp', '-s', 'ff02::1', mac], 'ffnet ndp: ff02::1 is not on-link (neither link-local nor on a prefix of a port)\n'],
      [['ndp', '-s', '2001:db8:77::2', mac], `ffnet ndp: 2001:db8:77::2 ${own}\n`],
      [['ndp', '-s', linkLocalOf(peer.stackMac), mac], `ffnet ndp: ${linkLocalOf(peer.stackMac)} ${own}\n`],
      [['ndp', '-s', '2001:db8:77::9', '01:00:5e:00:00:01'], 'ffnet ndp: 01:00:5e:00:00:01 is not a unicast MAC address\n'],
      [['ndp', '-s', '2001:db8:77::9', 'zz'], "ffnet ndp: bad MAC address 'zz' (aa:bb:cc:dd:ee:ff)\n"],
      [['ndp', '-s', 'fe80::9%port3', mac], 'ffnet ndp: no port 3 (ports: port0)\n'],
      [['ndp', '-s', 'fe80::9%eth0', mac], "ffnet ndp: unknown port 'eth0' (ports are named portN, N the DPDK port id)\n"],
      [['ndp', '-s', 'fe80::9%port0', mac, '-i', 'port1'], 'ffnet ndp: fe80::9%port0 is scoped to port0, but -i names port1\n'],
      [['ndp', '-d', '2001:db8:77::30'], 'ffnet ndp: no NDP entry for 2001:db8:77::30\n'],
    ];
    for (const [args, stderr] of cases) {
      expect({ args, ...(await ffnet(pid, args)) }).toEqual({ args, code: 1, stdout: '', stderr });
    }
    for (const args of [['ndp'], ['ndp', '-s', '2001:db8:77::9'], ['ndp', '-d'], ['ndp', '-a', '-d', 'fe80::9'], ['ndp', '-a', 'fe80::9']]) {
      expect({ args, code: (await ffnet(pid, args)).code }).toEqual({ args, code: 2 });
    }
  });
});
