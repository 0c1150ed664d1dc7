/**
 * ffnet.ini parsing: valid files and config objects come out typed, with every default applied.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import {
  CONFIG_KEYS, SYSCTLS, describeConfigKeys, loadConfigFile, lookupSysctl, parseConfigText, validateConfig,
} from '../../config/index.js';
import { SYSCTL_DEFAULTS } from './sysctl-defaults.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const dir = mkdtempSync(join(tmpdir(), 'ffnet-config-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function writeIni(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

const FULL = `
; every key set
[dpdk]
lcore_mask = 0x3
lcores = 0@(0-1),1@(0-1)
loop = dedicated
memory = 512
no_huge = yes
file_prefix = ffnet-test_1
vdev[] = net_tap0,iface=ff0
vdev[] = net_ring0
allow[] = 0000:01:00.0
allow[] = 02:00.1,rxq=2
idle_sleep = 0
pkt_tx_delay = 50
log_level = debug
log = file:/tmp/ffnet-dpdk.log
nb_mbuf = 16383
extra_args = --no-telemetry   --in-memory
huge_dir = /dev/hugepages
proc_type = primary
nb_procs = 0

[port0]
addr = 10.77.0.2
netmask = 255.255.255.0
broadcast = 10.77.0.255
gateway = 10.77.0.1
route[] = 10.99.0.0/16 via 10.77.0.9
route[] = default  via 10.77.0.10 src 10.77.0.2	metric 100
vip_addr = 10.77.0.3; 10.78.0.3/24;  # F-Stack's form: ";" separates
mtu = 9000
arp[] = 10.77.0.9 02:00:00:00:00:09
arp[] = 10.77.0.10   0A:BB:CC:DD:EE:FF
addr6[] = 2001:DB8:0:77::2/64
addr6[] = fd00:77::0:2/48
gateway6 = fe80::1
ipv6 = on
ndp[] = FE80::9 02:00:00:00:00:19
ndp[] = 2001:db8:0:77::0:9   0A:BB:CC:DD:EE:F9

[port1]
addr = 192.168.7.1
netmask = 255.255.0.0
ipv6 = 0

[sysctl]
net.inet.ip.ttl = 32
net.link.ether.inet.maxhold = 4
dev.fault.rx_drop_ppm = 250000
dev.fault.seed = 2147483647
`;

describe('parseConfigText / loadConfigFile', () => {
  it('reads a file that sets every key', () => {
    const path = writeIni('full.ini', FULL);
    const cfg = loadConfigFile(path);
    expect(cfg.source).toBe(path);
    expect(cfg.dpdk).toEqual({
      lcoreMask: '0x3',
      lcoreIds: [0, 1],
      dataLcores: [1],
      lcoreMap: '0@(0-1),1@(0-1)',
      memoryMb: 512,
      noHuge: true,
      filePrefix: 'ffnet-test_1',
      vdevs: ['net_tap0,iface=ff0', 'net_ring0'],
      allow: ['0000:01:00.0', '02:00.1,rxq=2'],
      idleSleepUs: 0,
      txDelayUs: 50,
      logLevel: 'debug',
      log: 'file:/tmp/ffnet-dpdk.log',
      mbufs: 16383,
      extraArgs: ['--no-telemetry', '--in-memory'],
      hugeDir: '/dev/hugepages',
      procType: 'primary',
      nbProcs: 0,
    });
    expect(cfg.ports).toEqual([
      {
        portId: 0, addr: '10.77.0.2', netmask: '255.255.255.0', prefixLength: 24, broadcast: '10.77.0.255',
        gateway: '10.77.0.1', mtu: 9000,
        routes: [{ dest: '10.99.0.0/16', via: '10.77.0.9', metric: 0 }, { dest: '0.0.0.0/0', via: '10.77.0.10', src: '10.77.0.2', metric: 100 }],
        staticArp: [{ addr: '10.77.0.9', mac: '02:00:00:00:00:09' }, { addr: '10.77.0.10', mac: '0a:bb:cc:dd:ee:ff' }],
        vipAddrs: [{ addr: '10.77.0.3', prefixLength: 24 }, { addr: '10.78.0.3', prefixLength: 24 }],
        ipv6: true, addr6: [{ addr: '2001:db8:0:77::2', prefixLength: 64 }, { addr: 'fd00:77::2', prefixLength: 48 }],
        gateway6: 'fe80::1',
        staticNdp: [{ addr: 'fe80::9', mac: '02:00:00:00:00:19' }, { addr: '2001:db8:0:77::9', mac: '0a:bb:cc:dd:ee:f9' }],
      },
      {
        portId: 1, addr: '192.168.7.1', netmask: '255.255.0.0', prefixLength: 16, broadcast: '192.168.255.255',
        routes: [], mtu: 1500, staticArp: [], vipAddrs: [], ipv6: false, addr6: [], staticNdp: [],
      },
    ]);
    expect(cfg.loop).toBe('dedicated');
    expect(cfg.inlineLcores).toBe(0);
    expect(cfg.ports[1]).not.toHaveProperty('gateway');
    expect(cfg.sysctl['net.inet.ip.ttl']).toBe(32);
    expect(cfg.sysctl['net.link.ether.inet.maxhold']).toBe(4);
    expect(cfg.sysctl['net.link.ether.inet.max_age']).toBe(1200);
    expect(cfg.sysctl['dev.fault.rx_drop_ppm']).toBe(250000);
    expect(cfg.sysctl['dev.fault.seed']).toBe(2147483647);
    expect(cfg.sysctl['dev.fault.rx_dup_ppm']).toBe(0);
  });

  it('applies every default to a minimal file', () => {
    const cfg = parseConfigText('[dpdk]\nvdev[] = net_tap0,iface=ff0\n[port0]\naddr=10.77.0.2\nnetmask=255.255.255.0\n', 'ffnet.ini');
    expect(cfg.dpdk).toEqual({
      lcoreMask: '0x1',
      lcoreIds: [0],
      dataLcores: [],
      memoryMb: 256,
      noHuge: true,
      filePrefix: `ffnet-${process.pid}`,
      vdevs: ['net_tap0,iface=ff0'],
      allow: [],
      idleSleepUs: 100,
      txDelayUs: 100,
      logLevel: 'notice',
      log: 'none',
      mbufs: 8191,
      extraArgs: [],
      procType: 'primary',
      nbProcs: 0,
    });
    expect(cfg.dpdk).not.toHaveProperty('lcoreMap');
    expect(cfg.dpdk).not.toHaveProperty('hugeDir');
    expect(cfg.dpdk).not.toHaveProperty('procId');
    expect(cfg.loop).toBe('dedicated');
    expect(cfg.inlineLcores).toBe(1);
    expect(cfg.ports).toEqual([{
      portId: 0, addr: '10.77.0.2', netmask: '255.255.255.0', prefixLength: 24, broadcast: '10.77.0.255', routes: [], mtu: 1500, staticArp: [], vipAddrs: [],
      ipv6: true, addr6: [], staticNdp: [],
    }]);
    expect(cfg.sysctl).toEqual(SYSCTL_DEFAULTS);
  });

  it('reads vlan_id: the port\'s 802.1Q VID, from a file or an object; absent, the port is untagged', () => {
    const cfg = parseConfigText('[port0]\naddr = 10.77.0.2\nnetmask = 255.255.255.0\nvlan_id = 100\n[port1]\naddr = 10.78.0.2\nnetmask = 255.255.255.0\n', 'v.ini');
    expect(cfg.ports[0]?.vlanId).toBe(100);
    expect(cfg.ports[1]).not.toHaveProperty('vlanId');
    const obj = validateConfig({ port0: { addr: '10.77.0.2', netmask: '255.255.255.0', vlan_id: 4094 } }, 'o');
    expect(obj.ports[0]?.vlanId).toBe(4094);
    expect(() => validateConfig({ port0: { addr: '10.77.0.2', netmask: '255.255.255.0', vlan_id: 4095 } }, 'o'))
      .toThrow('[port0] vlan_id: 4095 is out of range (1..4094)');
  });

  it('accepts a stack with no port (loopback only), even an empty file', () => {
    for (const text of ['', '; nothing\n', '[dpdk]\n', '[dpdk]\nlcore_mask = 0x1\n[sysctl]\n']) {
      const cfg = parseConfigText(text, 'lo.ini');
      expect(cfg.ports).toEqual([]);
      expect(cfg.dpdk.dataLcores).toEqual([]);
      expect(cfg.dpdk.vdevs).toEqual([]);
    }
  });

  it('reads hex and decimal lcore masks', () => {
    const mask = (v: string) => parseConfigText(`[dpdk]\nlcore_mask = ${v}\n`, 'f.ini').dpdk;
    expect(mask('0x3')).toMatchObject({ lcoreMask: '0x3', lcoreIds: [0, 1], dataLcores: [1] });
    expect(mask('3')).toMatchObject({ lcoreMask: '0x3', lcoreIds: [0, 1], dataLcores: [1] });
    expect(mask('0x5')).toMatchObject({ lcoreMask: '0x5', lcoreIds: [0, 2], dataLcores: [2] });
    expect(mask('0X1F')).toMatchObject({ lcoreMask: '0x1f', lcoreIds: [0, 1, 2, 3, 4] });
    expect(mask('1')).toMatchObject({ lcoreMask: '0x1', lcoreIds: [0], dataLcores: [] });
    expect(mask('0x80000000000000000000000000000001')).toMatchObject({ dataLcores: [127] });
  });

  it('reads loop: inline turns every lcore of the mask from application threads, dedicated runs data-path threads', () => {
    const loop = (mask: string, mode?: string) =>
      parseConfigText(`[dpdk]\nlcore_mask = ${mask}\n${mode ? `loop = ${mode}\n` : ''}`, 'f.ini');
    expect(loop('0x3', 'inline')).toMatchObject({ loop: 'inline', inlineLcores: 2, dpdk: { lcoreIds: [0, 1], dataLcores: [] } });
    expect(loop('0xd', 'inline')).toMatchObject({ loop: 'inline', inlineLcores: 3, dpdk: { lcoreIds: [0, 2, 3], dataLcores: [] } });
    expect(loop('0x3', 'dedicated')).toMatchObject({ loop: 'dedicated', inlineLcores: 0, dpdk: { dataLcores: [1] } });
    expect(loop('0x3')).toMatchObject({ loop: 'dedicated', inlineLcores: 0, dpdk: { dataLcores: [1] } });
    // lcore 0 alone: both modes are the single inline lcore of the JS thread.
    expect(loop('0x1', 'inline')).toMatchObject({ loop: 'inline', inlineLcores: 1, dpdk: { dataLcores: [] } });
    expect(loop('0x1', 'dedicated')).toMatchObject({ loop: 'dedicated', inlineLcores: 1, dpdk: { dataLcores: [] } });
    expect(validateConfig({ dpdk: { lcore_mask: 7, loop: 'inline' } }, 'o')).toMatchObject({ loop: 'inline', inlineLcores: 3 });
  });

  it('takes vdev[] lines as a list, and a single "vdev =" line as one device', () => {
    expect(parseConfigText('[dpdk]\nvdev = net_null0\n', 'f.ini').dpdk.vdevs).toEqual(['net_null0']);
    const text = '[dpdk]\nvdev[] = net_memif0,role=server,socket=/tmp/ffnet-m.sock\nvdev[] = net_ring0\nvdev[] = net_null0\n';
    expect(parseConfigText(text, 'f.ini').dpdk.vdevs).toEqual([
      'net_memif0,role=server,socket=/tmp/ffnet-m.sock', 'net_ring0', 'net_null0',
    ]);
  });

  it('derives the broadcast address from addr and netmask', () => {
    const port = (addr: string, netmask: string) =>
      parseConfigText(`[port0]\naddr = ${addr}\nnetmask = ${netmask}\n`, 'f.ini').ports[0]!;
    expect(port('10.77.0.2', '255.255.255.0')).toMatchObject({ broadcast: '10.77.0.255', prefixLength: 24 });
    expect(port('172.16.5.9', '255.240.0.0')).toMatchObject({ broadcast: '172.31.255.255', prefixLength: 12 });
    expect(port('10.0.0.5', '255.255.255.252')).toMatchObject({ broadcast: '10.0.0.7', prefixLength: 30 });
    expect(port('10.0.0.0', '255.255.255.254')).toMatchObject({ broadcast: '10.0.0.1', prefixLength: 31 });
    expect(port('10.9.9.9', '255.255.255.255')).toMatchObject({ broadcast: '10.9.9.9', prefixLength: 32 });
  });

  it('reads every boolean spelling', () => {
    const noHuge = (v: string) => parseConfigText(`[dpdk]\nno_huge = ${v}\n`, 'f.ini').dpdk.noHuge;
    for (const v of ['true', 'yes', 'on', '1', 'TRUE', 'Yes']) expect(noHuge(v)).toBe(true);
    for (const v of ['false', 'no', 'off', '0', 'Off']) expect(noHuge(v)).toBe(false);
  });

  it('normalises log levels to DPDK names', () => {
    const level = (v: string) => parseConfigText(`[dpdk]\nlog_level = ${v}\n`, 'f.ini').dpdk.logLevel;
    expect(level('emerg')).toBe('emergency');
    expect(level('crit')).toBe('critical');
    expect(level('err')).toBe('error');
    expect(level('warning')).toBe('warning');
    expect(level('INFO')).toBe('info');
    expect(level('8')).toBe('debug');
    expect(level('1')).toBe('emergency');
  });

  it('ignores comments, takes quoted values, and sorts ports by id', () => {
    const cfg = parseConfigText([
      '# a comment', '[port3]', 'addr = "10.3.0.2"   ; inline comment', "netmask = '255.255.255.0'",
      '[port0]', 'addr = 10.0.0.2 # another', 'netmask = 255.0.0.0', '',
    ].join('\r\n'), 'f.ini');
    expect(cfg.ports.map((p) => [p.portId, p.addr, p.netmask])).toEqual([
      [0, '10.0.0.2', '255.0.0.0'], [3, '10.3.0.2', '255.255.255.0'],
    ]);
  });
});

describe('validateConfig (config objects)', () => {
  it('accepts numbers, booleans and arrays as well as strings', () => {
    const cfg = validateConfig({
      dpdk: {
        lcore_mask: 3, memory: 128, no_huge: false, file_prefix: 'app1', vdev: ['net_tap0,iface=ff0'],
        idle_sleep: 10, pkt_tx_delay: 0, log_level: 4, nb_mbuf: 2047, extra_args: ['--no-telemetry'],
      },
      port0: {
        addr: '10.77.0.2', netmask: '255.255.255.0', gateway: '10.77.0.1', mtu: 1400,
        arp: ['10.77.0.9 02:00:00:00:00:09', { addr: '10.77.0.8', mac: '02:00:00:00:00:08' }],
      },
      sysctl: { 'net.inet.icmp.icmplim': 0, 'net.link.ether.inet.rexmit_ms': '250' },
    }, '<config object>');
    expect(cfg.source).toBe('<config object>');
    expect(cfg.dpdk).toMatchObject({
      lcoreMask: '0x3', dataLcores: [1], memoryMb: 128, noHuge: false, filePrefix: 'app1', vdevs: ['net_tap0,iface=ff0'],
      idleSleepUs: 10, txDelayUs: 0, logLevel: 'error', mbufs: 2047, extraArgs: ['--no-telemetry'],
    });
    expect(cfg.ports[0]).toMatchObject({
      gateway: '10.77.0.1', mtu: 1400,
      staticArp: [{ addr: '10.77.0.9', mac: '02:00:00:00:00:09' }, { addr: '10.77.0.8', mac: '02:00:00:00:00:08' }],
    });
    expect(cfg.sysctl['net.inet.icmp.icmplim']).toBe(0);
    expect(cfg.sysctl['net.link.ether.inet.rexmit_ms']).toBe(250);
  });

  it('gives the same result as the equivalent file', () => {
    const fromFile = parseConfigText(FULL, 'x');
    const fromObject = validateConfig({
      dpdk: {
        lcore_mask: '0x3', lcores: '0@(0-1),1@(0-1)', loop: 'dedicated', memory: 512, no_huge: true, file_prefix: 'ffnet-test_1',
        vdev: ['net_tap0,iface=ff0', 'net_ring0'], allow: ['0000:01:00.0', '02:00.1,rxq=2'], idle_sleep: 0,
        pkt_tx_delay: 50, log_level: 'debug', log: 'file:/tmp/ffnet-dpdk.log', nb_mbuf: 16383, extra_args: '--no-telemetry --in-memory',
        huge_dir: '/dev/hugepages', proc_type: 'primary', nb_procs: 0,
      },
      port0: {
        addr: '10.77.0.2', netmask: '255.255.255.0', broadcast: '10.77.0.255', gateway: '10.77.0.1', mtu: 9000,
        route: ['10.99.0.0/16 via 10.77.0.9', 'default  via 10.77.0.10 src 10.77.0.2\tmetric 100'],
        arp: ['10.77.0.9 02:00:00:00:00:09', '10.77.0.10 0A:BB:CC:DD:EE:FF'], vip_addr: ['10.77.0.3', '10.78.0.3/24'],
        addr6: ['2001:db8:0:77::2/64', 'fd00:77::2/48'], gateway6: 'fe80::1', ipv6: true,
        ndp: ['fe80::9 02:00:00:00:00:19', { addr: '2001:db8:0:77::9', mac: '0A:BB:CC:DD:EE:F9' }],
      },
      port1: { addr: '192.168.7.1', netmask: '255.255.0.0', ipv6: 0 },
      sysctl: { 'net.inet.ip.ttl': 32, 'net.link.ether.inet.maxhold': 4, 'dev.fault.rx_drop_ppm': 250000, 'dev.fault.seed': 2147483647 },
    }, 'x');
    expect(fromObject).toEqual(fromFile);
  });

  it('treats an empty object as a loopback-only stack with defaults, and undefined keys as unset', () => {
    const cfg = validateConfig({}, '<config object>');
    expect(cfg.ports).toEqual([]);
    expect(cfg.dpdk.lcoreMask).toBe('0x1');
    const withUndef = validateConfig({ port0: { addr: '10.1.1.1', netmask: '255.255.255.0', gateway: undefined } }, 'o');
    expect(withUndef.ports[0]).not.toHaveProperty('gateway');
  });
});

describe('schema', () => {
  it('documents every key and every sysctl, with defaults inside their ranges', () => {
    const rows = describeConfigKeys();
    expect(rows.length).toBe(CONFIG_KEYS.length + SYSCTLS.length);
    for (const k of CONFIG_KEYS) {
      expect(k.description.length).toBeGreaterThan(10);
      if (typeof k.default === 'number') {
        expect(k.default).toBeGreaterThanOrEqual(k.min!);
        expect(k.default).toBeLessThanOrEqual(k.max!);
      }
    }
    for (const s of SYSCTLS) {
      expect(s.default).toBeGreaterThanOrEqual(s.min);
      expect(s.default).toBeLessThanOrEqual(s.max);
      expect(lookupSysctl(s.name)).toBe(s);
    }
    expect(lookupSysctl('net.inet.ip.nope')).toBeUndefined();
    expect(rows.find((r) => r.key === 'vdev[]')).toMatchObject({ section: '[dpdk]', repeatable: true });
    expect(rows.find((r) => r.key === 'mtu')).toMatchObject({ section: '[portN]', default: '1500', range: '68..9000 bytes' });
    expect(rows.find((r) => r.key === 'net.inet.ip.ttl')).toMatchObject({ section: '[sysctl]', default: '64', range: '1..255 hops' });
  });

  it('lists exactly the tunables the stack implements', () => {
    expect(SYSCTLS.map((s) => s.name)).toEqual([
      'net.link.ether.inet.max_age', 'net.link.ether.inet.maxtries', 'net.link.ether.inet.maxhold_bytes', 'net.link.ether.inet.maxhold',
      'net.link.ether.inet.rexmit_ms', 'net.link.ether.inet.max_entries',
      'net.inet6.icmp6.nd6_max_age', 'net.inet6.icmp6.nd6_retrans_ms', 'net.inet6.icmp6.nd6_maxqueuelen_bytes', 'net.inet6.icmp6.nd6_maxqueuelen', 'net.inet.ip.ttl', 'net.inet.icmp.icmplim',
      'net.inet.ip.portrange.first', 'net.inet.ip.portrange.last', 'net.inet.ip.maxfragpackets',
      'net.inet.ip.maxfragsperpacket', 'net.inet.ip.maxfragbytes', 'net.inet.ip.fragttl',
      'net.inet6.ip6.fragttl', 'net.inet.igmp.default_version', 'net.inet6.mld.version', 'kern.ipc.maxsockbuf', 'net.inet.udp.recvmbufs', 'net.inet.udp.tx_csum_offload',
      'net.inet6.ip6.hlim', 'net.inet6.ip6.dad_count', 'net.inet6.ip6.accept_rtadv', 'net.inet6.ip6.v6only',
      'net.inet6.icmp6.errppslimit', 'net.inet6.icmp6.nd6_maxnudhint', 'net.inet6.icmp6.nd6_prune', 'net.inet6.icmp6.nd6_delay',
      'net.inet6.icmp6.nd6_umaxtries', 'net.inet6.icmp6.nd6_mmaxtries', 'dev.fault.rx_drop_ppm', 'dev.fault.rx_dup_ppm',
      'dev.fault.rx_reorder_ppm', 'dev.fault.seed',
    ]);
  });
});

describe('documentation', () => {
  it('ffnet.example.ini is a valid configuration: a net_tap port at 10.77.0.2/24 via 10.77.0.1', () => {
    const cfg = loadConfigFile(join(root, 'ffnet.example.ini'));
    expect(cfg.dpdk).toMatchObject({ lcoreMask: '0x1', dataLcores: [], vdevs: ['net_tap0,iface=ff0'], filePrefix: 'ffnet-example' });
    expect(cfg.ports).toEqual([{
      portId: 0, addr: '10.77.0.2', netmask: '255.255.255.0', prefixLength: 24, broadcast: '10.77.0.255',
      gateway: '10.77.0.1', routes: [], mtu: 1500, staticArp: [], vipAddrs: [], ipv6: true, addr6: [], staticNdp: [],
    }]);
  });

  it('docs/configuration.md documents every key, and no other, and embeds the example file', () => {
    const md = readFileSync(join(root, 'docs/configuration.md'), 'utf8');
    const documented = [...md.matchAll(/^\| `([^`]+)` \|/gm)].map((m) => m[1]);
    expect(documented.sort()).toEqual(describeConfigKeys().map((row) => row.key).sort());
    expect(md).toContain(readFileSync(join(root, 'ffnet.example.ini'), 'utf8'));
  });
});
