/**
 * The tools' IPv6 views against live stacks facing the Linux kernel over net_tap in namespaces of
 * the test's own (test/stack/kernel-peer.ts), the CLI run as a child process: `ffnet ifconfig` prints
 * the ports' inet6 lines as FreeBSD does (the EUI-64 link-local address with its %port scope and
 * scope id, the configured addresses), `ifconfig portN inet6 ADDR prefixlen N` adds an address and
 * its on-link prefix and `-alias` removes it, `route -6` lists prefixes and default routers, bad
 * input fails in one line; and a port without gateway6 solicits routers at start, the solicitations
 * seen on the wire by tcpdump and decoded by tshark without a warning.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IFACE, ctr, kernelPeer, type KernelPeer } from '../stack/kernel-peer.js';
import { ffnet } from './harness.js';

/** The EUI-64 link-local address of a MAC (RFC 4291 App. A), RFC 5952 text. */
function linkLocal(mac: string): string {
  const b = mac.split(':').map((x) => parseInt(x, 16));
  const w = [(b[0]! ^ 2) << 8 | b[1]!, b[2]! << 8 | 0xff, 0xfe00 | b[3]!, b[4]! << 8 | b[5]!];
  return `fe80::${w.map((x) => x.toString(16)).join(':')}`;
}

describe('ffnet ifconfig and route -6 on a live stack with addr6 and gateway6', () => {
  let peer: KernelPeer;
  let pid: number;

  beforeAll(async () => {
    peer = await kernelPeer('tools-iface6', {
      port0: { addr6: ['2001:db8:77::2/64'], gateway6: 'fe80::1' },
      // No Duplicate Address Detection: the addresses are preferred at once, whatever the kernel side does.
      sysctl: { 'net.inet6.ip6.dad_count': 0 },
    });
    pid = peer.stack.pid!;
  }, 60_000);

  afterAll(async () => {
    await peer?.close();
  });

  it('ifconfig prints the link-local and configured inet6 lines', async () => {
    const r = await ffnet(pid, ['ifconfig', 'port0']);
    expect(r).toMatchObject({ code: 0, stderr: '' });
    expect(r.stdout).toContain(`\tinet6 ${linkLocal(peer.stackMac)}%port0 prefixlen 64 scopeid 0x1\n\tinet6 2001:db8:77::2 prefixlen 64\n`
      + '\tnd6 options=21<PERFORMNUD,AUTO_LINKLOCAL>\n');
    const json = JSON.parse((await ffnet(pid, ['ifconfig', 'port0', '--json'])).stdout) as Array<{ ipv6: boolean; inet6: unknown[] }>;
    expect(json[0]!.ipv6).toBe(true);
    expect(json[0]!.inet6).toEqual([
      { addr: linkLocal(peer.stackMac), prefixlen: 64, scopeid: 1, state: 'preferred', origin: 'linklocal', flags: [], valid_s: null, preferred_s: null },
      { addr: '2001:db8:77::2', prefixlen: 64, scopeid: null, state: 'preferred', origin: 'static', flags: [], valid_s: null, preferred_s: null },
    ]);
  });

  it('ifconfig inet6 adds an address and its prefix; -alias removes both', async () => {
    const added = await ffnet(pid, ['ifconfig', 'port0', 'inet6', '2001:db8:78::5', 'prefixlen', '64', 'alias']);
    expect(added).toMatchObject({ code: 0, stderr: '' });
    expect(added.stdout).toContain('\tinet6 2001:db8:78::5 prefixlen 64\n');
    const routes = await ffnet(pid, ['route', '-6']);
    expect(routes).toMatchObject({ code: 0, stderr: '' });
    expect(routes.stdout.split('\n').slice(0, 4)).toEqual(['Routing tables', '', 'Internet6:', 'Destination       Gateway        Flags  Netif  Expire']);
    expect(routes.stdout).toMatch(/^2001:db8:77::\/64 +link#0 +UC +port0$/m);
    expect(routes.stdout).toMatch(/^2001:db8:78::\/64 +link#0 +UC +port0$/m);
    expect(routes.stdout).toMatch(/^default +fe80::1%port0 +UGS +port0$/m);
    const removed = await ffnet(pid, ['ifconfig', 'port0', 'inet6', '2001:db8:78::5', '-alias']);
    expect(removed).toMatchObject({ code: 0, stderr: '' });
    expect(removed.stdout).not.toContain('2001:db8:78::5');
    expect((await ffnet(pid, ['route', '-6'])).stdout).not.toContain('2001:db8:78::');
  });

  it('bad input fails in one clear line with exit status 1', async () => {
    const cases: Array<[string[], string]> = [
      [['ifconfig', 'port0', 'inet6', 'fe80::5'], 'ffnet ifconfig: fe80::5/64 is not an address a port may have (not unspecified, loopback, '
        + 'multicast, IPv4-mapped, link-local or a subnet-router anycast address)\n'],
      [['ifconfig', 'port0', 'inet6', '2001:db8:77::2'], 'ffnet ifconfig: 2001:db8:77::2/64 is already an address of the stack\n'],
      [['ifconfig', 'port0', 'inet6', '2001:db8:79::1', '-alias'], 'ffnet ifconfig: port0 has no address 2001:db8:79::1\n'],
      [['ifconfig', 'port0', 'inet6', linkLocal(peer.stackMac), '-alias'],
        `ffnet ifconfig: ${linkLocal(peer.stackMac)} is port0's link-local address (derived from its MAC)\n`],
      [['ifconfig', 'port0', 'inet6', '2001:db8::1%port0'], "ffnet ifconfig: bad address '2001:db8::1%port0' (an IPv6 address, e.g. 2001:db8::2 prefixlen 64)\n"],
    ];
    for (const [args, stderr] of cases) {
      expect({ args, ...(await ffnet(pid, args)) }).toEqual({ args, code: 1, stdout: '', stderr });
    }
    expect(await ffnet(pid, ['route', '-6', 'add', 'default', 'fe80::1'])).toMatchObject({ code: 2 });
  });
});

describe('router solicitations from a port without gateway6', () => {
  let peer: KernelPeer;
  const dir = mkdtempSync(join(tmpdir(), 'ffnet-rs-'));

  beforeAll(async () => {
    peer = await kernelPeer('tools-rs', { sysctl: { 'net.inet6.ip6.dad_count': 0, 'net.inet6.ip6.accept_rtadv': 1 } });
  }, 60_000);

  afterAll(async () => {
    await peer?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('leave at start, at most three, from the link-local address to ff02::2, and decode cleanly', async () => {
    const pcap = join(dir, 'rs.pcap');
    const dump = peer.ns.spawn('tcpdump', ['-Z', 'root', '-i', IFACE, '-U', '-w', pcap]);
    let listening = '';
    dump.stderr?.setEncoding('utf8').on('data', (d: string) => (listening += d));
    await peer.ns.waitFor(async () => listening.includes('listening on'), 'tcpdump to listen', 10_000);
    // RFC 4861 §6.3.7: the first within a second of start, then RTR_SOLICITATION_INTERVAL (4 s) apart,
    // MAX_RTR_SOLICITATIONS (3) in all: one at least is still to come when the capture starts.
    expect(ctr(await peer.stack.stats(), 'nd6.rs_out')).toBeLessThan(3);
    await peer.ns.waitFor(async () => (await peer.ns.exec('tcpdump', ['-r', pcap, '-nn'])).stdout.includes('router solicitation'),
      'a router solicitation in the capture', 12_000);
    const s = await peer.stack.stats();
    await new Promise((r) => setTimeout(r, 500));
    dump.kill('SIGINT');
    await new Promise((r) => dump.once('exit', r));
    expect(ctr(s, 'nd6.rs_out')).toBeLessThanOrEqual(3);
    const fields = await peer.ns.execOk('tshark', ['-r', pcap, '-Y', 'icmpv6.type == 133', '-T', 'fields',
      '-e', 'eth.dst', '-e', 'ipv6.src', '-e', 'ipv6.dst', '-e', 'ipv6.hlim', '-e', 'icmpv6.opt.linkaddr', '-e', '_ws.expert']);
    const rows = fields.split('\n').filter((l) => l.trim() !== '').map((l) => l.split('\t'));
    expect(rows.length).toBeGreaterThanOrEqual(1);
    for (const row of rows) {
      expect(row).toEqual(['33:33:00:00:00:02', linkLocal(peer.stackMac), 'ff02::2', '255', peer.stackMac, '']);
    }
  }, 30_000);
});
