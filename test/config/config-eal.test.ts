/**
 * toNativeConfig: the EAL argv and the rest of NativeStackConfig built from a validated config.
 */
import { availableParallelism } from 'node:os';
import { describe, expect, it } from 'vitest';
import { FfnetConfigError, parseConfigText, toNativeConfig, validateConfig } from '../../config/index.js';
import { SYSCTL_DEFAULTS } from './sysctl-defaults.js';

const TAP = `
[dpdk]
file_prefix = t1
vdev[] = net_tap0,iface=ff0

[port0]
addr = 10.77.0.2
netmask = 255.255.255.0
gateway = 10.77.0.1
arp[] = 10.77.0.9 02:00:00:00:00:09
`;

describe('toNativeConfig: EAL argv', () => {
  it('builds the inline-mode argv from defaults: lcore 0 floats over every CPU, no PCI', () => {
    const native = toNativeConfig(validateConfig({}, '<config object>'), { cpus: 2 });
    expect(native.eal).toEqual([
      'ffnet', '--no-huge', '-m', '256', '--file-prefix', `ffnet-${process.pid}`,
      '--lcores', '0@(0-1)', '--main-lcore', '0', '--log-level', 'notice', '--no-pci',
    ]);
    expect(native.dataLcores).toEqual([]);
  });

  it('uses the process name, vdevs in order, and appends extra_args last', () => {
    const cfg = parseConfigText(`${TAP}[dpdk]\n`.replace('vdev[] = net_tap0,iface=ff0',
      'vdev[] = net_tap0,iface=ff0\nvdev[] = net_ring0\nextra_args = --no-telemetry --in-memory\nlog_level = 7'), 'f.ini');
    expect(toNativeConfig(cfg, { processName: 'ping-demo', cpus: 4 }).eal).toEqual([
      'ping-demo', '--no-huge', '-m', '256', '--file-prefix', 't1', '--lcores', '0@(0-3)', '--main-lcore', '0',
      '--log-level', 'info', '--vdev=net_tap0,iface=ff0', '--vdev=net_ring0', '--no-pci', '--no-telemetry', '--in-memory',
    ]);
  });

  it('pins each data-path lcore to its own CPU', () => {
    const cfg = parseConfigText('[dpdk]\nlcore_mask = 0xd\nfile_prefix = p\n', 'f.ini');
    const native = toNativeConfig(cfg, { cpus: 8 });
    expect(native.eal.slice(native.eal.indexOf('--lcores'), native.eal.indexOf('--lcores') + 2))
      .toEqual(['--lcores', '0@(0-7),2@2,3@3']);
    expect(native.dataLcores).toEqual([2, 3]);
  });

  it('writes 0@0 on a single CPU', () => {
    const native = toNativeConfig(parseConfigText('', 'f.ini'), { cpus: 1 });
    expect(native.eal).toContain('0@0');
  });

  it('passes a raw lcores mapping through, keeping the data-path lcores of lcore_mask', () => {
    const cfg = parseConfigText('[dpdk]\nlcore_mask = 0x3\nlcores = 0@(0-1),1@(0-1)\n', 'f.ini');
    const native = toNativeConfig(cfg, { cpus: 2 });
    expect(native.eal).toContain('0@(0-1),1@(0-1)');
    expect(native.eal.filter((a) => a === '--lcores')).toHaveLength(1);
    expect(native.dataLcores).toEqual([1]);
  });

  it('refuses a data-path lcore with no CPU of its own unless lcores maps it', () => {
    const cfg = parseConfigText('[dpdk]\nlcore_mask = 0x5\n', 'f.ini');
    let err: unknown;
    try {
      toNativeConfig(cfg, { cpus: 2 });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(FfnetConfigError);
    expect((err as FfnetConfigError).message).toBe('f.ini: [dpdk] lcore_mask: lcore 2 would be pinned to CPU 2, but this machine '
      + 'has 2 CPUs (0..1); use lower lcore ids or map them with lcores (e.g. lcores = 0@(0-1),2@1)');
    const mapped = parseConfigText('[dpdk]\nlcore_mask = 0x5\nlcores = 0@(0-1),2@1\n', 'f.ini');
    expect(toNativeConfig(mapped, { cpus: 2 }).dataLcores).toEqual([2]);
  });

  it('lets inline lcores float over every CPU, as lcore 0 does, whatever their number', () => {
    const cfg = parseConfigText('[dpdk]\nlcore_mask = 0x401\nloop = inline\n', 'f.ini');
    const native = toNativeConfig(cfg, { cpus: 2 });
    expect(native.eal.slice(native.eal.indexOf('--lcores'), native.eal.indexOf('--lcores') + 2))
      .toEqual(['--lcores', '0@(0-1),10@(0-1)']);
    expect(native).toMatchObject({ dataLcores: [], inlineLcores: 2 });
    expect(toNativeConfig(parseConfigText('[dpdk]\nlcore_mask = 0x3\nloop = inline\n', 'f.ini'), { cpus: 1 }).eal)
      .toContain('0@0,1@0');
  });

  it('uses hugepages when no_huge is off, and -a for each allowed PCI device', () => {
    const cfg = validateConfig({
      dpdk: { no_huge: 'off', memory: 1024, file_prefix: 'hp', allow: ['0000:01:00.0', '0000:01:00.1'] },
    }, '<config object>');
    expect(toNativeConfig(cfg, { cpus: 2 }).eal).toEqual([
      'ffnet', '-m', '1024', '--file-prefix', 'hp', '--lcores', '0@(0-1)', '--main-lcore', '0', '--log-level', 'notice',
      '-a', '0000:01:00.0', '-a', '0000:01:00.1',
    ]);
  });

  it('multi-process primary: hugepages from huge_dir, --proc-type primary, the devices and one lcore', () => {
    const cfg = validateConfig({
      dpdk: { no_huge: false, memory: 64, nb_mbuf: 4095, huge_dir: '/mnt/h', file_prefix: 'mp', nb_procs: 2, vdev: ['net_tap0,iface=ff0'] },
    }, '<config object>');
    const native = toNativeConfig(cfg, { cpus: 2 });
    expect(native.eal).toEqual([
      'ffnet', '-m', '64', '--huge-dir', '/mnt/h', '--file-prefix', 'mp', '--proc-type', 'primary',
      '--base-virtaddr', '0x600000000000', '--lcores', '0@(0-1)',
      '--main-lcore', '0', '--log-level', 'notice', '--vdev=net_tap0,iface=ff0', '--no-pci',
    ]);
    expect(native).toMatchObject({ procType: 'primary', nbProcs: 2, procQueue: -1 });
  });

  it('multi-process secondary: the primary\'s memory and devices, its own lcore, its queue from proc_id, no telemetry', () => {
    const dpdk = { no_huge: false, proc_type: 'auto', vdev: ['net_tap0,iface=ff0'] };
    // In a cluster worker, auto is a secondary with its lcore from its worker id (and, validated there, its
    // parent's file prefix by default).
    const worker = toNativeConfig(validateConfig({ dpdk: { ...dpdk, file_prefix: 'mp' } }, '<config object>'), { cpus: 2, clusterWorkerId: 3 });
    expect(worker.eal).toEqual([
      'ffnet', '--file-prefix', 'mp', '--proc-type', 'secondary', '--lcores', '3@(0-1)', '--main-lcore', '3',
      // DPDK 22.11's secondary would unlink the primary's telemetry socket and take it over.
      '--no-telemetry', '--log-level', 'notice', '--no-pci',
    ]);
    expect(worker).toMatchObject({ procType: 'secondary', procQueue: -1 });
    const pinned = toNativeConfig(validateConfig({ dpdk: { ...dpdk, proc_id: 2 } }, '<config object>'), { cpus: 1, clusterWorkerId: 5 });
    expect(pinned.eal.slice(3, 9)).toEqual(['--proc-type', 'secondary', '--lcores', '2@0', '--main-lcore', '2']);
    expect(pinned.procQueue).toBe(1);
    // Elsewhere the EAL decides: a primary's argv with --proc-type auto.
    const elsewhere = toNativeConfig(validateConfig({ dpdk: { ...dpdk, file_prefix: 'mp' } }, '<config object>'), { cpus: 2 });
    expect(elsewhere.eal.slice(0, 10)).toEqual(['ffnet', '-m', '256', '--file-prefix', 'mp', '--proc-type', 'auto',
      '--base-virtaddr', '0x600000000000', '--lcores']);
    expect(elsewhere.procType).toBe('auto');
  });

  it('defaults the CPU count to os.availableParallelism()', () => {
    const n = availableParallelism();
    const eal = toNativeConfig(parseConfigText('', 'f.ini')).eal;
    expect(eal[eal.indexOf('--lcores') + 1]).toBe(n === 1 ? '0@0' : `0@(0-${n - 1})`);
  });
});

describe('toNativeConfig: the rest of NativeStackConfig', () => {
  it('maps timings, pool size, ports and the full sysctl set', () => {
    const cfg = parseConfigText(`${TAP}vip_addr = 10.77.0.3;10.78.0.5/30\naddr6[] = 2001:db8::2/64\ngateway6 = fe80::1\nndp[] = 2001:db8::9 02:00:00:00:00:19\n[port2]\naddr = 192.168.50.1\nnetmask = 255.255.255.128\nmtu = 1400\nvlan_id = 100\nipv6 = no\n`
      + '[sysctl]\nnet.inet.ip.ttl = 16\n', 'f.ini');
    const native = toNativeConfig(cfg, { cpus: 2 });
    expect(native).toMatchObject({ idleSleepUs: 100, txDelayUs: 100, mbufs: 8191 });
    expect(native.ports).toEqual([
      {
        portId: 0, addr: '10.77.0.2', netmask: '255.255.255.0', broadcast: '10.77.0.255', gateway: '10.77.0.1', mtu: 1500, vlanId: 0,
        staticArp: [{ addr: '10.77.0.9', mac: '02:00:00:00:00:09' }], routes: [], vipAddrs: ['10.77.0.3/24', '10.78.0.5/30'], ipv6: true,
        addr6: ['2001:db8::2/64'], gateway6: 'fe80::1',
        staticNdp: [{ addr: '2001:db8::9', mac: '02:00:00:00:00:19' }],
        exception: 'none', exceptionIface: '', exceptionTcpPorts: [], exceptionUdpPorts: [], exceptionUdpUnbound: false, exceptionQueue: 0,
      },
      {
        portId: 2, addr: '192.168.50.1', netmask: '255.255.255.128', broadcast: '192.168.50.127', gateway: '', mtu: 1400, vlanId: 100, staticArp: [], routes: [], vipAddrs: [],
        ipv6: false, addr6: [], gateway6: '', staticNdp: [],
        exception: 'none', exceptionIface: '', exceptionTcpPorts: [], exceptionUdpPorts: [], exceptionUdpUnbound: false, exceptionQueue: 0,
      },
    ]);
    expect(native.sysctl).toEqual({ ...SYSCTL_DEFAULTS, 'net.inet.ip.ttl': 16 });
  });

  it('passes the inline lcore count, and the validated config as JSON for threads that attach later', () => {
    const inline = validateConfig({ dpdk: { lcore_mask: '0x3', loop: 'inline' }, port0: { addr: '10.77.0.2', netmask: '255.255.255.0' } }, 'o');
    const native = toNativeConfig(inline, { cpus: 2 });
    expect(native).toMatchObject({ dataLcores: [], inlineLcores: 2 });
    expect(JSON.parse(native.configJson)).toEqual(inline);
    expect(toNativeConfig(validateConfig({}, 'o'), { cpus: 2 })).toMatchObject({ dataLcores: [], inlineLcores: 1 });
    expect(toNativeConfig(validateConfig({ dpdk: { lcore_mask: 3 } }, 'o'), { cpus: 2 })).toMatchObject({ dataLcores: [1], inlineLcores: 0 });
  });

  it('returns fresh arrays, so the caller may not alter the validated config through them', () => {
    const cfg = parseConfigText(`${TAP}[dpdk]\n`.replace('file_prefix = t1', 'file_prefix = t1\nlcore_mask = 0x3'), 'f.ini');
    const native = toNativeConfig(cfg, { cpus: 2 });
    native.dataLcores.push(9);
    native.ports[0]!.staticArp.pop();
    native.sysctl['net.inet.ip.ttl'] = 1;
    expect(cfg.dpdk.dataLcores).toEqual([1]);
    expect(cfg.ports[0]!.staticArp).toHaveLength(1);
    expect(cfg.sysctl['net.inet.ip.ttl']).toBe(64);
  });
});
