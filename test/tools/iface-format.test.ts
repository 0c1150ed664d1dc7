/**
 * The interface commands' pure parts, without a stack: hosts from /etc/hosts (never DNS), portN
 * names, ifconfig's change words, and the FreeBSD layouts of ifconfig, arp -a, netstat -rn and ping's
 * statistics.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { formatEntry } from '../../tools/commands/arp.js';
import { parseHosts, portId, resolveHost } from '../../tools/commands/host.js';
import { formatInet6, formatPort, parseChanges, type PortEntry } from '../../tools/commands/ifconfig.js';
import { summary } from '../../tools/commands/ping.js';
import { formatRoutes, formatRoutes6, routeOptions } from '../../tools/commands/route.js';

describe('interface command arguments', () => {
  it('resolves addresses as themselves and names from a hosts file, and nothing else', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ffnet-hosts-'));
    try {
      const file = join(dir, 'hosts');
      writeFileSync(file, '127.0.0.1 localhost\n10.77.0.1  peer peer.test # the kernel\n# 10.9.9.9 commented\nfe80::1 v6only\n');
      expect(resolveHost('10.1.2.3', file)).toBe('10.1.2.3');
      expect(resolveHost('PEER.test', file)).toBe('10.77.0.1');
      expect(() => resolveHost('commented', file)).toThrow("unknown host 'commented'");
      expect(() => resolveHost('v6only', file)).toThrow("unknown host 'v6only'");
      expect(() => resolveHost('peer', join(dir, 'missing'))).toThrow("unknown host 'peer'");
      expect([...parseHosts('10.0.0.1 a b\n10.0.0.2 a\n').entries()]).toEqual([['a', '10.0.0.1'], ['b', '10.0.0.1']]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('names ports portN', () => {
    expect(portId('port0')).toBe(0);
    expect(portId('port12')).toBe(12);
    for (const bad of ['eth0', 'port', 'port-1', 'Port0', 'port0x']) expect(() => portId(bad)).toThrow(`unknown port '${bad}'`);
  });

  it('reads ifconfig changes in any order, each once', () => {
    expect(parseChanges(['mtu', '1000', 'inet', '10.0.0.5/24', 'down'])).toEqual({ mtu: '1000', inet: '10.0.0.5/24', state: 'down' });
    expect(parseChanges([])).toEqual({});
    expect(() => parseChanges(['up', 'down'])).toThrow('up/down given twice');
    expect(() => parseChanges(['inet'])).toThrow('inet needs a value');
    expect(() => parseChanges(['inet', '10.0.0.5'])).toThrow("bad address '10.0.0.5'");
    expect(() => parseChanges(['inet', '10.0.0.5/33'])).toThrow("bad address '10.0.0.5/33'");
    expect(() => parseChanges(['mtu', 'big'])).toThrow("bad mtu 'big'");
    expect(() => parseChanges(['metric', '1'])).toThrow("unknown parameter 'metric'");
    // Further addresses, FreeBSD's words: inet ADDR/LEN alias, inet ADDR -alias.
    expect(parseChanges(['inet', '10.0.0.5/24', 'alias', 'up'])).toEqual({ inet_alias: '10.0.0.5/24', state: 'up' });
    expect(parseChanges(['inet', '10.0.0.5', '-alias'])).toEqual({ inet_alias_delete: '10.0.0.5' });
    expect(parseChanges(['inet', '10.0.0.5/24', '-alias'])).toEqual({ inet_alias_delete: '10.0.0.5' });
    expect(parseChanges(['inet', '10.0.0.2/24', 'inet', '10.0.0.5/24', 'alias'])).toEqual({ inet: '10.0.0.2/24', inet_alias: '10.0.0.5/24' });
    expect(() => parseChanges(['inet', '10.0.0.5', 'alias'])).toThrow("bad address '10.0.0.5'");
    expect(() => parseChanges(['inet', '10.0.0.5/24', 'alias', 'inet', '10.0.0.6/24', 'alias'])).toThrow('inet alias given twice');
  });

  it('reads inet6 as FreeBSD ifconfig does: prefixlen (64 unless given), alias, -alias', () => {
    expect(parseChanges(['inet6', '2001:db8::5', 'prefixlen', '48'])).toEqual({ inet6: '2001:db8::5/48' });
    expect(parseChanges(['inet6', '2001:db8::5', 'alias', 'up'])).toEqual({ inet6: '2001:db8::5/64', state: 'up' });
    expect(parseChanges(['inet6', '2001:db8::5/56', 'mtu', '1400'])).toEqual({ inet6: '2001:db8::5/56', mtu: '1400' });
    expect(parseChanges(['inet6', '2001:db8::5', '-alias'])).toEqual({ inet6_delete: '2001:db8::5' });
    expect(parseChanges(['inet6', '2001:db8::5', 'prefixlen', '64', '-alias'])).toEqual({ inet6_delete: '2001:db8::5' });
    expect(() => parseChanges(['inet6'])).toThrow('inet6 needs a value');
    expect(() => parseChanges(['inet6', '10.0.0.5'])).toThrow("bad address '10.0.0.5'");
    expect(() => parseChanges(['inet6', 'fe80::1%port0'])).toThrow("bad address 'fe80::1%port0'");
    expect(() => parseChanges(['inet6', '2001:db8::5', 'prefixlen', '129'])).toThrow("bad prefix length '129'");
    expect(() => parseChanges(['inet6', '2001:db8::5', 'prefixlen'])).toThrow("bad prefix length ''");
    expect(() => parseChanges(['inet6', '2001:db8::5', 'inet6', '2001:db8::6'])).toThrow('inet6 given twice');
  });
});

describe('interface command output', () => {
  const port: PortEntry = {
    index: 0, name: 'port0', port_id: 0, device: 'net_tap0', driver: 'net_tap', mac: '02:00:00:00:00:02',
    inet: '10.77.0.2', prefixlen: 24, netmask: '255.255.255.0', broadcast: '10.77.0.255', mtu: 1500,
    vlan: 0, vlan_hw_rx: false, vlan_hw_tx: false,
    flags: ['BROADCAST', 'MULTICAST'], link: { up: false, speed_mbps: 0, duplex: 'half' },
    offloads: { rx: [], tx: ['ipv4_cksum'] },
    stats: { ipackets: 1, opackets: 2, ibytes: 3, obytes: 4, ierrors: 5, oerrors: 6, imissed: 7, rx_nombuf: 8 },
    ipv6: true,
    mtu6: 1500,
    hoplimit6: 64,
    inet6: [
      { addr: 'fe80::ff:fe00:2', prefixlen: 64, scopeid: 1, state: 'tentative', origin: 'linklocal', flags: ['tentative'],
        valid_s: null, preferred_s: null },
      { addr: '2001:db8::2', prefixlen: 64, scopeid: null, state: 'preferred', origin: 'static', flags: [], valid_s: null, preferred_s: null },
    ],
  };

  it('prints a port as FreeBSD ifconfig does, with the device counters', () => {
    expect(formatPort(port)).toBe([
      'port0: flags=8002<BROADCAST,MULTICAST> metric 0 mtu 1500',
      '\toptions=2<TXCSUM>',
      '\tether 02:00:00:00:00:02',
      '\tinet 10.77.0.2 netmask 0xffffff00 broadcast 10.77.0.255',
      '\tinet6 fe80::ff:fe00:2%port0 prefixlen 64 tentative scopeid 0x1',
      '\tinet6 2001:db8::2 prefixlen 64',
      '\tnd6 options=21<PERFORMNUD,AUTO_LINKLOCAL>',
      '\tmedia: Ethernet autoselect (unknown speed <half-duplex>)',
      '\tstatus: no carrier',
      '\tdriver: net_tap (net_tap0)',
      '\tRX packets 1 bytes 3 errors 5 missed 7 nombuf 8',
      '\tTX packets 2 bytes 4 errors 6',
    ].join('\n'));
  });

  it('prints a port on a VLAN with a vlan line (as FreeBSD for a vlan(4) interface), saying who tags', () => {
    const lines = (p: PortEntry) => formatPort(p).split('\n');
    expect(lines({ ...port, vlan: 100 })).toContain('\tvlan: 100 vlanproto: 802.1q tagging: rx software, tx software');
    expect(lines({ ...port, vlan: 4094, vlan_hw_rx: true, vlan_hw_tx: true })[4]).toBe('\tvlan: 4094 vlanproto: 802.1q tagging: rx hardware, tx hardware');
    expect(lines(port).filter((l) => l.includes('vlan'))).toEqual([]);
  });

  it('prints each further address (vip_addr) as one more inet line after the first, as FreeBSD does', () => {
    const lines = formatPort({
      ...port,
      inet_aliases: [
        { inet: '10.77.0.3', prefixlen: 24, netmask: '255.255.255.0', broadcast: '10.77.0.255' },
        { inet: '10.78.0.3', prefixlen: 30, netmask: '255.255.255.252', broadcast: '10.78.0.3' },
      ],
    }).split('\n');
    const first = lines.indexOf('\tinet 10.77.0.2 netmask 0xffffff00 broadcast 10.77.0.255');
    expect(first).toBeGreaterThan(0);
    expect(lines.slice(first + 1, first + 3)).toEqual([
      '\tinet 10.77.0.3 netmask 0xffffff00 broadcast 10.77.0.255',
      '\tinet 10.78.0.3 netmask 0xfffffffc broadcast 10.78.0.3',
    ]);
  });

  it('prints inet6 lines as FreeBSD ifconfig does: scope, flags, lifetimes of autoconfigured ones', () => {
    expect(formatInet6('port1', {
      addr: '2001:db8:1:2:ff:fe00:3', prefixlen: 64, scopeid: null, state: 'deprecated', origin: 'autoconf',
      flags: ['deprecated', 'autoconf'], valid_s: 7200, preferred_s: 0,
    })).toBe('\tinet6 2001:db8:1:2:ff:fe00:3 prefixlen 64 deprecated autoconf pltime 0 vltime 7200');
    expect(formatInet6('port3', {
      addr: 'fe80::1', prefixlen: 64, scopeid: 4, state: 'duplicated', origin: 'linklocal', flags: ['duplicated'], valid_s: null, preferred_s: null,
    })).toBe('\tinet6 fe80::1%port3 prefixlen 64 duplicated scopeid 0x4');
    expect(formatPort({ ...port, ipv6: false, inet6: [] })).toContain('\tinet 10.77.0.2 netmask 0xffffff00 broadcast 10.77.0.255\n\tnd6 options=9<PERFORMNUD,IFDISABLED>\n');
  });

  it('prints arp -a lines for every state', () => {
    const e = { port: 1, addr: '10.0.0.9', held_packets: 0, held_bytes: 0 };
    expect(formatEntry({ ...e, mac: '02:00:00:00:00:09', state: 'permanent', expires_s: 0 })).toBe('? (10.0.0.9) at 02:00:00:00:00:09 on port1 permanent [ethernet]');
    expect(formatEntry({ ...e, mac: '02:00:00:00:00:09', state: 'reachable', expires_s: 12 })).toBe('? (10.0.0.9) at 02:00:00:00:00:09 on port1 expires in 12 seconds [ethernet]');
    expect(formatEntry({ ...e, mac: null, state: 'incomplete', expires_s: 0, held_packets: 1, held_bytes: 60 })).toBe('? (10.0.0.9) at (incomplete) on port1 resolving holding 1 packet (60 bytes) [ethernet]');
    expect(formatEntry({ ...e, mac: null, state: 'failed', expires_s: 19 })).toBe('? (10.0.0.9) at (failed) on port1 expires in 19 seconds [ethernet]');
  });

  it('prints the routing table as netstat -rn does, with the metric and preferred source', () => {
    expect(formatRoutes([
      { dest: '10.77.0.0', prefixlen: 24, gateway: null, port: 0, flags: 'UC', src: null, metric: 0 },
      { dest: '10.99.0.0', prefixlen: 16, gateway: '10.77.0.9', port: 0, flags: 'UGS', src: '10.78.0.2', metric: 0 },
      { dest: '0.0.0.0', prefixlen: 0, gateway: '10.77.0.1', port: 0, flags: 'UGS', src: null, metric: 0 },
      { dest: '0.0.0.0', prefixlen: 0, gateway: '10.77.0.10', port: 0, flags: 'UGS', src: null, metric: 100 },
    ])).toBe([
      'Routing tables',
      '',
      'Internet:',
      'Destination   Gateway     Flags  Netif  Metric  Src',
      '10.77.0.0/24  link#0      UC     port0  0',
      '10.99.0.0/16  10.77.0.9   UGS    port0  0       10.78.0.2',
      'default       10.77.0.1   UGS    port0  0',
      'default       10.77.0.10  UGS    port0  100',
    ].join('\n'));
  });

  it('reads a route\'s src and metric words in any order, each once', () => {
    expect(routeOptions(['metric', '5', 'src', '10.0.0.1'], ['src', 'metric'])).toEqual({ metric: '5', src: '10.0.0.1' });
    expect(routeOptions([], ['metric'])).toEqual({});
    expect(() => routeOptions(['src', '10.0.0.1'], ['metric'])).toThrow("unknown word 'src' (expected metric)");
    expect(() => routeOptions(['metric'], ['metric'])).toThrow('metric needs a value');
    expect(() => routeOptions(['metric', '1', 'metric', '2'], ['metric'])).toThrow('metric given twice');
    expect(() => routeOptions(['metric', '4294967296'], ['metric'])).toThrow("bad metric '4294967296' (0 to 4294967295)");
    expect(() => routeOptions(['src', '10.0.0'], ['src'])).toThrow("bad source address '10.0.0' (an IPv4 address)");
  });

  it('prints the IPv6 table as netstat -rn -6 does', () => {
    expect(formatRoutes6([
      { dest: '2001:db8::', prefixlen: 64, gateway: null, port: 0, flags: 'UC', expires_s: null },
      { dest: '2001:db8:1:2::', prefixlen: 64, gateway: null, port: 1, flags: 'U1', expires_s: 3599 },
      { dest: '::', prefixlen: 0, gateway: 'fe80::1', port: 0, flags: 'UGS', expires_s: null },
      { dest: '::', prefixlen: 0, gateway: 'fe80::99', port: 1, flags: 'UG1', expires_s: 1799 },
    ])).toBe([
      'Routing tables',
      '',
      'Internet6:',
      'Destination        Gateway         Flags  Netif  Expire',
      '2001:db8::/64      link#0          UC     port0',
      '2001:db8:1:2::/64  link#1          U1     port1  3599',
      'default            fe80::1%port0   UGS    port0',
      'default            fe80::99%port1  UG1    port1  1799',
    ].join('\n'));
  });

  it('sums ping statistics as ping(8) does', () => {
    expect(summary('h', 4, [1, 2, 3], 3)).toEqual([
      '--- h ping statistics ---',
      '4 packets transmitted, 3 packets received, 25.0% packet loss',
      'round-trip min/avg/max/stddev = 1.000/2.000/3.000/0.816 ms',
    ]);
    expect(summary('h', 2, [], 0)).toEqual(['--- h ping statistics ---', '2 packets transmitted, 0 packets received, 100.0% packet loss']);
  });
});
