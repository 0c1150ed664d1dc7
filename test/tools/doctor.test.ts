/**
 * `ffnet doctor` against host trees built here (--root): a host ready for a deployment (hugepages
 * mounted, IOMMU, vfio-pci, one NIC on vfio-pci and one on its kernel driver carrying an up
 * interface, isolated CPUs, two NUMA nodes) and a bare one with none of it; each check's status and
 * words, --json's shape, the exit status, configurations that do not parse, do not fit (an offline
 * lcore CPU, a missing or kernel-bound allow entry, a missing af_packet interface, lcores away from
 * the NIC's node), and one run against this machine's own /proc and /sys, which must not fail.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO } from '../stack/child-stack.js';

const CLI = join(REPO, 'dist', 'tools', 'cli.js');

interface Finding { check: string; status: 'ok' | 'warn' | 'fail'; finding: string; fix?: string }
interface Report { checks: Finding[]; summary: { ok: number; warn: number; fail: number } }

let dir: string;

/** Writes a tree: path -> file content, or { link } for a symlink. */
function writeTree(root: string, entries: Record<string, string | { link: string } | { dir: true }>): void {
  for (const [path, what] of Object.entries(entries)) {
    const full = join(root, path);
    if (typeof what === 'object' && 'dir' in what) {
      mkdirSync(full, { recursive: true });
      continue;
    }
    mkdirSync(dirname(full), { recursive: true });
    if (typeof what === 'string') writeFileSync(full, `${what}\n`);
    else symlinkSync(what.link, full);
  }
}

const VFIO_NIC = '/sys/bus/pci/devices/0000:03:00.0';
const KERNEL_NIC = '/sys/bus/pci/devices/0000:03:00.1';

function readyHost(root: string): void {
  writeTree(root, {
    '/proc/meminfo': 'MemTotal:       16303412 kB\nHugePages_Total:    1024\nHugePages_Free:     1000\nHugepagesize:       2048 kB',
    '/proc/mounts': 'sysfs /sys sysfs rw 0 0\nnodev /dev/hugepages hugetlbfs rw,relatime,pagesize=2M 0 0',
    '/proc/cmdline': 'BOOT_IMAGE=/vmlinuz root=/dev/sda1 ro intel_iommu=on iommu=pt isolcpus=2-3,6-7 nohz_full=2-3,6-7 rcu_nocbs=2-3,6-7',
    '/sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages': '1024',
    '/sys/kernel/mm/hugepages/hugepages-2048kB/free_hugepages': '1000',
    '/sys/kernel/iommu_groups/0/type': 'DMA',
    '/sys/kernel/iommu_groups/1/type': 'DMA',
    '/sys/bus/pci/drivers/vfio-pci': { dir: true },
    [`${VFIO_NIC}/class`]: '0x020000',
    [`${VFIO_NIC}/vendor`]: '0x8086',
    [`${VFIO_NIC}/device`]: '0x1572',
    [`${VFIO_NIC}/numa_node`]: '0',
    [`${VFIO_NIC}/driver`]: { link: '../../../bus/pci/drivers/vfio-pci' },
    [`${KERNEL_NIC}/class`]: '0x020000',
    [`${KERNEL_NIC}/vendor`]: '0x8086',
    [`${KERNEL_NIC}/device`]: '0x1572',
    [`${KERNEL_NIC}/numa_node`]: '0',
    [`${KERNEL_NIC}/driver`]: { link: '../../../bus/pci/drivers/i40e' },
    [`${KERNEL_NIC}/net/eno2/operstate`]: 'up',
    '/sys/bus/pci/devices/0000:00:1f.2/class': '0x010601',
    '/sys/class/net/eno2/operstate': 'up',
    '/sys/devices/system/cpu/online': '0-7',
    '/sys/devices/system/cpu/isolated': '2-3,6-7',
    '/sys/devices/system/node/node0/cpulist': '0-3',
    '/sys/devices/system/node/node1/cpulist': '4-7',
  });
}

function bareHost(root: string): void {
  writeTree(root, {
    '/proc/meminfo': 'MemTotal:        2030000 kB\nHugePages_Total:       0\nHugePages_Free:        0\nHugepagesize:       2048 kB',
    '/proc/mounts': 'sysfs /sys sysfs rw 0 0',
    '/proc/cmdline': 'BOOT_IMAGE=/vmlinuz root=/dev/vda1 ro quiet',
    '/sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages': '0',
    '/sys/kernel/mm/hugepages/hugepages-2048kB/free_hugepages': '0',
    '/sys/kernel/iommu_groups': { dir: true },
    '/sys/bus/pci/devices': { dir: true },
    '/sys/devices/system/cpu/online': '0-3',
    '/sys/devices/system/cpu/isolated': '',
    '/sys/devices/system/node/node0/cpulist': '0-3',
  });
}

/** Hugepages reserved but not mounted, vfio in no-IOMMU mode, a virtio NIC without a driver and a kernel NIC that is down. */
function partialHost(root: string): void {
  writeTree(root, {
    '/proc/meminfo': 'HugePages_Total:     512\nHugePages_Free:      512\nHugepagesize:       2048 kB',
    '/proc/mounts': 'sysfs /sys sysfs rw 0 0',
    '/proc/cmdline': 'root=/dev/vda1',
    '/sys/module/vfio/parameters/enable_unsafe_noiommu_mode': 'Y',
    '/sys/module/vfio_pci/refcnt': '0',
    '/sys/bus/pci/devices/0000:00:04.0/class': '0x020000',
    '/sys/bus/pci/devices/0000:00:04.0/vendor': '0x1af4',
    '/sys/bus/pci/devices/0000:00:04.0/device': '0x1041',
    '/sys/bus/pci/devices/0000:00:05.0/class': '0x020000',
    '/sys/bus/pci/devices/0000:00:05.0/vendor': '0x1af4',
    '/sys/bus/pci/devices/0000:00:05.0/device': '0x1041',
    '/sys/bus/pci/devices/0000:00:05.0/driver': { link: '../../../bus/pci/drivers/virtio-pci' },
    '/sys/bus/pci/devices/0000:00:05.0/virtio1/net/ens5/operstate': 'down',
    '/sys/devices/system/cpu/online': '0-1',
  });
}

const PORT = '[port0]\naddr = 192.0.2.2\nnetmask = 255.255.255.0\nbroadcast = 192.0.2.255\n';

function config(name: string, dpdk: string): string {
  const path = join(dir, name);
  writeFileSync(path, `[dpdk]\n${dpdk}\n${PORT}`);
  return path;
}

function doctor(...args: string[]): { code: number | null; stdout: string; stderr: string } {
  const env: NodeJS.ProcessEnv = { ...process.env };
  delete env.FFNET_CONFIG;
  delete env.FFNET_DOCTOR_ROOT;
  const r = spawnSync(process.execPath, [CLI, ...args], { env, encoding: 'utf8', timeout: 30_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function report(...args: string[]): { code: number | null; report: Report } {
  const r = doctor('--json', 'doctor', ...args);
  expect(r.stderr).toBe('');
  return { code: r.code, report: JSON.parse(r.stdout) as Report };
}

const of = (rep: Report, check: string) => rep.checks.filter((c) => c.check === check);

let ready: string;
let bare: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'ffnet-doctor-'));
  ready = join(dir, 'ready');
  bare = join(dir, 'bare');
  readyHost(ready);
  bareHost(bare);
});

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('ffnet doctor on a host ready for a deployment', () => {
  it('finds hugepages, IOMMU, vfio-pci, isolated CPUs and two NUMA nodes fine', () => {
    const { code, report: rep } = report('--root', ready);
    expect(code).toBe(0);
    expect(of(rep, 'hugepages')).toEqual([{ check: 'hugepages', status: 'ok', finding: '2 MB pages: 1024 reserved, 1000 free; hugetlbfs mounted on /dev/hugepages' }]);
    expect(of(rep, 'iommu')[0]).toMatchObject({ status: 'ok', finding: 'IOMMU on: 2 IOMMU groups (kernel command line: intel_iommu=on iommu=pt)' });
    expect(of(rep, 'vfio-pci')[0]).toMatchObject({ status: 'ok', finding: 'vfio-pci is loaded' });
    expect(of(rep, 'cpu-isolation')).toEqual([{
      check: 'cpu-isolation', status: 'ok',
      finding: 'isolated CPUs 2-3,6-7 (online CPUs 0-7); kernel command line: isolcpus=2-3,6-7 nohz_full=2-3,6-7 rcu_nocbs=2-3,6-7',
    }]);
    expect(of(rep, 'numa')).toEqual([{
      check: 'numa', status: 'ok',
      finding: '2 NUMA nodes: node0 CPUs 0-3; node1 CPUs 4-7; NICs: 0000:03:00.0 on node0, 0000:03:00.1 on node0',
    }]);
  });

  it('lists each NIC with its driver: the vfio-pci one ok, the kernel one carrying an up interface warned about', () => {
    const { report: rep } = report('--root', ready);
    const nics = of(rep, 'nics');
    expect(nics).toHaveLength(2);
    expect(nics[0]).toEqual({ check: 'nics', status: 'ok', finding: '0000:03:00.0 [8086:1572] driver vfio-pci: bound to a DPDK driver' });
    expect(nics[1]!.status).toBe('warn');
    expect(nics[1]!.finding).toMatch(/^0000:03:00\.1 \[8086:1572\] driver i40e \(eno2 up\): kernel interface up .*SSH.*without an exception path.*Keeping the host's traffic/);
    expect(nics[1]!.fix).toBe('keep it on the kernel, or give its [portN] exception = tap and: ip link set eno2 down && dpdk-devbind.py --bind=vfio-pci 0000:03:00.1');
    expect(rep.summary).toEqual({ ok: 6, warn: 1, fail: 0 });
  });

  it('prints a line per finding, the fix below the ones that are not ok, and a summary', () => {
    const r = doctor('doctor', '--root', ready);
    expect(r.code).toBe(0);
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines[0]).toBe('ok    hugepages      2 MB pages: 1024 reserved, 1000 free; hugetlbfs mounted on /dev/hugepages');
    expect(lines).toContain('                     fix: keep it on the kernel, or give its [portN] exception = tap and: ip link set eno2 down && dpdk-devbind.py --bind=vfio-pci 0000:03:00.1');
    expect(lines.filter((l) => /^warn  nics /.test(l))).toHaveLength(1);
    expect(lines.at(-1)).toBe('6 ok, 1 warn, 0 fail');
  });

  it('a config that fits: lcore on an online isolated CPU of the NIC\'s node, memory in free hugepages, allow bound to vfio-pci, af_packet interface present', () => {
    const cfg = config('fits.ini', 'lcore_mask = 0x5\nno_huge = false\nmemory = 512\nallow[] = 03:00.0\nvdev[] = net_af_packet0,iface=eno2');
    const { code, report: rep } = report('--root', ready, '--config', cfg);
    expect(code).toBe(0);
    expect(of(rep, 'config').map((c) => [c.status, c.finding])).toEqual([
      ['ok', `${cfg}: lcores 0,2 pinned to online CPUs 2`],
      ['ok', `${cfg}: [dpdk] memory = 512 MB fits the 2000 MB of free hugepages`],
      ['ok', `${cfg}: [dpdk] allow = 03:00.0: bound to vfio-pci`],
      ['ok', `${cfg}: [dpdk] vdev = net_af_packet0,iface=eno2: interface eno2 exists (up)`],
    ]);
    expect(rep.checks.filter((c) => c.status !== 'ok').map((c) => c.check)).toEqual(['nics']);
  });

  it('FFNET_CONFIG names the config when --config does not', () => {
    const cfg = config('env.ini', 'lcore_mask = 0x5\nallow[] = 03:00.0');
    const r = spawnSync(process.execPath, [CLI, '--json', 'doctor', '--root', ready], { env: { ...process.env, FFNET_CONFIG: cfg }, encoding: 'utf8' });
    const rep = JSON.parse(r.stdout) as Report;
    expect(of(rep, 'config')[0]!.finding).toBe(`${cfg}: lcores 0,2 pinned to online CPUs 2`);
    expect(of(rep, 'config')[1]!.finding).toMatch(/no_huge = true: 256 MB of anonymous memory/);
  });

  it('fails an lcore on an offline CPU, too much memory, a missing or kernel-bound allow entry and a missing af_packet interface', () => {
    const cfg = config('misfit.ini', 'lcore_mask = 0x201\nno_huge = false\nmemory = 4096\nallow[] = 0000:05:00.0\nallow[] = 03:00.1\nvdev[] = net_af_packet0,iface=eth9');
    const { code, report: rep } = report('--root', ready, '--config', cfg);
    expect(code).toBe(1);
    const fails = of(rep, 'config').filter((c) => c.status === 'fail');
    expect(fails.map((c) => c.finding)).toEqual([
      `${cfg}: [dpdk] lcore CPUs 9 are not online (online: 0-7)`,
      `${cfg}: [dpdk] memory = 4096 MB but only 2000 MB of hugepages are free`,
      `${cfg}: [dpdk] allow = 0000:05:00.0: no PCI device 0000:05:00.0 on this host`,
      `${cfg}: [dpdk] allow = 03:00.1: bound to the kernel driver i40e, not to a DPDK driver`,
      `${cfg}: [dpdk] vdev = net_af_packet0,iface=eth9: no interface eth9 on this host`,
    ]);
    expect(fails[3]!.fix).toBe('dpdk-devbind.py --bind=vfio-pci 0000:03:00.1');
    expect(rep.summary.fail).toBe(5);
    const text = doctor('doctor', '--root', ready, '--config', cfg);
    expect(text.code).toBe(1);
    expect(text.stdout).toMatch(/^fail  config +.*lcore CPUs 9 are not online/m);
  });

  it('warns when the kernel of an af_packet / af_xdp interface would talk on the stack\'s link: IPv6 on, arp_ignore 0', () => {
    const root = join(dir, 'kernel-side');
    readyHost(root);
    writeTree(root, {
      '/sys/class/net/eth1/operstate': 'up',
      '/proc/sys/net/ipv6/conf/eth1/disable_ipv6': '0',
      '/proc/sys/net/ipv4/conf/eth1/arp_ignore': '0',
      '/sys/class/net/eth2/operstate': 'up',
      '/proc/sys/net/ipv6/conf/eth2/disable_ipv6': '1',
      '/proc/sys/net/ipv4/conf/eth2/arp_ignore': '8',
    });
    const cfg = config('kernel-side.ini', 'vdev[] = net_af_xdp0,iface=eth1\nvdev[] = net_af_packet1,iface=eth2');
    const { code, report: rep } = report('--root', root, '--config', cfg);
    expect(code).toBe(0);
    expect(of(rep, 'config').filter((c) => c.finding.includes('vdev')).map((c) => [c.status, c.finding, c.fix])).toEqual([
      ['ok', `${cfg}: [dpdk] vdev = net_af_xdp0,iface=eth1: interface eth1 exists (up)`, undefined],
      ['warn', `${cfg}: [dpdk] vdev = net_af_xdp0,iface=eth1: IPv6 is on on eth1: the kernel sends router solicitations and MLD reports on the stack's link`, 'sysctl -w net.ipv6.conf.eth1.disable_ipv6=1'],
      ['warn', `${cfg}: [dpdk] vdev = net_af_xdp0,iface=eth1: arp_ignore = 0 on eth1: the kernel answers ARP there for the host's addresses on its other interfaces`, 'sysctl -w net.ipv4.conf.eth1.arp_ignore=8'],
      ['ok', `${cfg}: [dpdk] vdev = net_af_packet1,iface=eth2: interface eth2 exists (up)`, undefined],
    ]);
  });

  it('warns when the data-path lcores sit on another NUMA node than the NIC, or on CPUs not isolated', () => {
    const cfg = config('far.ini', 'lcore_mask = 0x3\nlcores = 0@(0-7),1@5\nallow[] = 03:00.0');
    const { code, report: rep } = report('--root', ready, '--config', cfg);
    expect(code).toBe(0);
    const numa = of(rep, 'numa').find((c) => c.status === 'warn')!;
    expect(numa.finding).toMatch(/^0000:03:00\.0 sits on node0 but data-path lcores run on CPUs 5 of another node/);
    expect(numa.fix).toMatch(/CPUs of node0 \(0-3\)/);
    expect(of(rep, 'cpu-isolation').find((c) => c.status === 'warn')).toMatchObject({
      finding: 'data-path lcores of the config run on CPUs 5, which are not isolated',
      fix: 'kernel parameters isolcpus=2-3,5-7 nohz_full=2-3,5-7 rcu_nocbs=2-3,5-7',
    });
  });

  it('a config that does not parse fails, naming its file, section and key', () => {
    const cfg = config('bad.ini', 'memory = lots');
    const { code, report: rep } = report('--root', ready, '--config', cfg);
    expect(code).toBe(1);
    const c = of(rep, 'config');
    expect(c).toHaveLength(1);
    expect(c[0]!.status).toBe('fail');
    expect(c[0]!.finding).toMatch(new RegExp(`^${cfg.replace(/[.]/g, '\\.')}: \\[dpdk\\] memory: `));
    const missing = report('--root', ready, '--config', join(dir, 'none.ini'));
    expect(missing.code).toBe(1);
    expect(of(missing.report, 'config')[0]!.finding).toBe(`cannot read config file ${join(dir, 'none.ini')}: ENOENT (no such file)`);
  });
});

describe('ffnet doctor on a bare host', () => {
  it('warns of each missing piece with its fix, and exits 0', () => {
    const { code, report: rep } = report('--root', bare);
    expect(code).toBe(0);
    expect(rep.checks.map((c) => [c.check, c.status])).toEqual([
      ['hugepages', 'warn'], ['iommu', 'warn'], ['vfio-pci', 'warn'], ['nics', 'warn'], ['cpu-isolation', 'warn'], ['numa', 'ok'],
    ]);
    expect(of(rep, 'hugepages')[0]!.finding).toMatch(/no hugepages reserved: stacks run with no_huge = true/);
    expect(of(rep, 'hugepages')[0]!.fix).toMatch(/^echo 1024 > \/sys\/kernel\/mm\/hugepages\/hugepages-2048kB\/nr_hugepages .*default_hugepagesz=1G hugepagesz=1G hugepages=N.*mount -t hugetlbfs nodev \/dev\/hugepages$/);
    expect(of(rep, 'iommu')[0]!.fix).toMatch(/intel_iommu=on iommu=pt.*enable_unsafe_noiommu_mode/);
    expect(of(rep, 'vfio-pci')[0]!.fix).toBe('modprobe vfio-pci');
    expect(of(rep, 'nics')[0]!.finding).toMatch(/no PCI network device: .*net_af_packet or net_af_xdp.*net_tap \/ net_memif/);
    expect(of(rep, 'cpu-isolation')[0]).toMatchObject({
      finding: 'no CPU isolated (online CPUs 0-3): data-path lcores share their CPUs with the kernel and other programs',
      fix: 'kernel parameters isolcpus=1-3 nohz_full=1-3 rcu_nocbs=1-3 (the CPUs for data-path lcores)',
    });
    expect(of(rep, 'numa')[0]!.finding).toBe('one NUMA node');
    expect(rep.summary).toEqual({ ok: 1, warn: 5, fail: 0 });
  });

  it('FFNET_DOCTOR_ROOT names the root; a config wanting hugepages fails there', () => {
    const cfg = config('huge.ini', 'lcore_mask = 0x3\nno_huge = false');
    const r = spawnSync(process.execPath, [CLI, '--json', 'doctor', '--config', cfg], { env: { ...process.env, FFNET_DOCTOR_ROOT: bare }, encoding: 'utf8' });
    expect(r.status).toBe(1);
    const rep = JSON.parse(r.stdout) as Report;
    expect(of(rep, 'config').find((c) => c.status === 'fail')!.finding).toBe(`${cfg}: [dpdk] memory = 256 MB but only 0 MB of hugepages are free`);
    expect(of(rep, 'cpu-isolation')[0]!.fix).toBe('kernel parameters isolcpus=1 nohz_full=1 rcu_nocbs=1 (the data-path lcores\' CPUs)');
  });
});

describe('ffnet doctor on a host half-way there', () => {
  it('warns of hugepages not mounted and of no-IOMMU mode; offers to bind the NICs nobody uses (kernel-bound before driverless, as dpdk-devbind.py groups them); fails a huge_dir that is not mounted', () => {
    const partial = join(dir, 'partial');
    partialHost(partial);
    const cfg = config('hugedir.ini', 'no_huge = false\nhuge_dir = /mnt/huge');
    const { code, report: rep } = report('--root', partial, '--config', cfg);
    expect(code).toBe(1);
    expect(of(rep, 'hugepages')[0]).toMatchObject({ status: 'warn', finding: '2 MB pages: 512 reserved, 512 free; no hugetlbfs mounted', fix: 'mount -t hugetlbfs nodev /dev/hugepages' });
    expect(of(rep, 'iommu')[0]).toMatchObject({ status: 'warn', finding: expect.stringMatching(/no-IOMMU mode/) });
    expect(of(rep, 'vfio-pci')[0]!.status).toBe('ok');
    expect(of(rep, 'nics')).toEqual([
      { check: 'nics', status: 'warn', finding: '0000:00:05.0 [1af4:1041] driver virtio-pci (ens5 down): kernel driver, not usable by DPDK yet', fix: 'dpdk-devbind.py --bind=vfio-pci 0000:00:05.0' },
      { check: 'nics', status: 'warn', finding: '0000:00:04.0 [1af4:1041] driver none: no driver, not usable by DPDK yet', fix: 'dpdk-devbind.py --bind=vfio-pci 0000:00:04.0' },
    ]);
    expect(of(rep, 'numa')[0]!.finding).toBe('no NUMA information (one node)');
    expect(of(rep, 'config').map((c) => [c.status, c.finding])).toEqual([
      ['ok', `${cfg}: lcores 0 float over the online CPUs`],
      ['ok', `${cfg}: [dpdk] memory = 256 MB fits the 1024 MB of free hugepages`],
      ['fail', `${cfg}: [dpdk] huge_dir = /mnt/huge: no hugetlbfs mounted there`],
    ]);
  });

  it('refuses a --root that does not exist as a usage error', () => {
    const r = doctor('doctor', '--root', join(dir, 'nowhere'));
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(`ffnet doctor: --root ${join(dir, 'nowhere')}: no such directory\n`);
  });
});

describe('ffnet doctor on this machine', () => {
  it('reads the real /proc and /sys without failing or throwing', () => {
    const r = doctor('doctor');
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^(ok {4}|warn {2})hugepages /m);
    expect(r.stdout).toMatch(/^\d+ ok, \d+ warn, 0 fail$/m);
    const { report: rep } = report();
    expect(rep.checks.map((c) => c.check)).toEqual(expect.arrayContaining(['hugepages', 'iommu', 'vfio-pci', 'nics', 'cpu-isolation', 'numa']));
    for (const c of rep.checks) if (c.status !== 'ok') expect(c.fix ?? c.finding).toBeTruthy();
  });
});
