/**
 * `ffnet doctor`: whether this host is ready for a stack on real NICs — hugepages, IOMMU, vfio-pci,
 * the PCI NICs and their drivers, CPU isolation, NUMA, and (with --config or FFNET_CONFIG) whether
 * a configuration fits the host. It reads /proc and /sys only (under --root or FFNET_DOCTOR_ROOT when
 * given), changes nothing, sends nothing and needs no running stack. Each finding is `ok`, `warn` or
 * `fail` with the fix for the ones that are not ok; the exit status is 1 when one fails.
 */
import { readFileSync, readdirSync, readlinkSync, existsSync } from 'node:fs';
import { basename, join } from 'node:path';
import { FfnetConfigError, loadConfigFile, type FfnetConfig } from '../../config/index.js';
import { ToolError, type Command } from '../command.js';

/** How a finding stands. */
export type Status = 'ok' | 'warn' | 'fail';

/** One line of the report. */
export interface Finding {
  check: string;
  status: Status;
  finding: string;
  /** The command or kernel parameter that fixes it (findings that are not ok). */
  fix?: string;
}

/** Drivers DPDK's PCI drivers take a device from. */
const DPDK_DRIVERS = new Set(['vfio-pci', 'uio_pci_generic', 'igb_uio']);
/** Kernel drivers DPDK shares the device with (bifurcated: the DPDK driver runs beside the kernel's). */
const BIFURCATED_DRIVERS = new Set(['mlx4_core', 'mlx5_core']);

/** Reads the host's /proc and /sys below a root directory ('/' on the real host). */
class HostFiles {
  constructor(readonly root: string) {}

  path(p: string): string {
    return join(this.root, p);
  }

  text(p: string): string | undefined {
    try {
      return readFileSync(this.path(p), 'utf8').trim();
    } catch {
      return undefined;
    }
  }

  list(p: string): string[] {
    try {
      return readdirSync(this.path(p)).sort();
    } catch {
      return [];
    }
  }

  exists(p: string): boolean {
    return existsSync(this.path(p));
  }

  linkName(p: string): string | undefined {
    try {
      return basename(readlinkSync(this.path(p)));
    } catch {
      return undefined;
    }
  }
}

/** A CPU list as the kernel writes it (`0-3,8,10-11`) as numbers; empty for an empty or absent list. */
export function parseCpuList(text: string | undefined): number[] {
  const cpus: number[] = [];
  for (const part of (text ?? '').split(',').map((s) => s.trim()).filter(Boolean)) {
    const m = /^(\d+)(?:-(\d+))?/.exec(part);
    if (!m) continue;
    const from = Number(m[1]);
    const to = m[2] === undefined ? from : Number(m[2]);
    for (let c = from; c <= to; c++) cpus.push(c);
  }
  return cpus;
}

/** Numbers as a kernel CPU list: [1,2,3,5] -> '1-3,5'. */
export function formatCpuList(cpus: number[]): string {
  const sorted = [...new Set(cpus)].sort((a, b) => a - b);
  const parts: string[] = [];
  for (let i = 0; i < sorted.length; ) {
    let j = i;
    while (j + 1 < sorted.length && sorted[j + 1] === sorted[j]! + 1) j++;
    parts.push(i === j ? `${sorted[i]}` : `${sorted[i]}-${sorted[j]}`);
    i = j + 1;
  }
  return parts.join(',');
}

/** A kernel command line parameter's value ('' for a bare flag), undefined when absent. */
function cmdlineParam(cmdline: string, name: string): string | undefined {
  for (const word of cmdline.split(/\s+/)) {
    if (word === name) return '';
    if (word.startsWith(`${name}=`)) return word.slice(name.length + 1);
  }
  return undefined;
}

/** A PCI NIC as /sys describes it. */
interface PciNic {
  address: string;
  vendorDevice: string;
  driver?: string;
  interfaces: Array<{ name: string; up: boolean }>;
  numaNode: number;
}

function pciNics(host: HostFiles): PciNic[] {
  const base = '/sys/bus/pci/devices';
  const nics: PciNic[] = [];
  for (const address of host.list(base)) {
    const dir = `${base}/${address}`;
    if (!(host.text(`${dir}/class`) ?? '').toLowerCase().startsWith('0x02')) continue;
    const hex = (f: string) => (host.text(`${dir}/${f}`) ?? '?').replace(/^0x/i, '');
    // virtio-net keeps its interface below the virtio device: X/virtioN/net/IF.
    const netDirs = [`${dir}/net`, ...host.list(dir).filter((e) => /^virtio\d+$/.test(e)).map((e) => `${dir}/${e}/net`)];
    const interfaces = netDirs.flatMap((nd) => host.list(nd).map((name) => ({ name, up: host.text(`${nd}/${name}/operstate`) === 'up' })));
    const numa = Number(host.text(`${dir}/numa_node`) ?? '-1');
    const driver = host.linkName(`${dir}/driver`);
    nics.push({ address, vendorDevice: `${hex('vendor')}:${hex('device')}`, ...(driver !== undefined ? { driver } : {}), interfaces, numaNode: Number.isFinite(numa) ? numa : -1 });
  }
  return nics;
}

/** A PCI allow entry (`[domain:]bus:devid.func[,args]`) as /sys names the device: 0000:bb:dd.f. */
export function pciAddress(entry: string): string {
  const addr = entry.split(',')[0]!.trim().toLowerCase();
  return addr.split(':').length === 2 ? `0000:${addr}` : addr;
}

/** What the checks share: the files, and facts several of them use. */
interface Survey {
  host: HostFiles;
  cmdline: string;
  online: number[];
  nics: PciNic[];
  /** NUMA node id -> its CPUs. */
  nodes: Map<number, number[]>;
}

function survey(host: HostFiles): Survey {
  const nodes = new Map<number, number[]>();
  for (const e of host.list('/sys/devices/system/node')) {
    const m = /^node(\d+)$/.exec(e);
    if (m) nodes.set(Number(m[1]), parseCpuList(host.text(`/sys/devices/system/node/${e}/cpulist`)));
  }
  return {
    host,
    cmdline: host.text('/proc/cmdline') ?? '',
    online: parseCpuList(host.text('/sys/devices/system/cpu/online')),
    nics: pciNics(host),
    nodes,
  };
}

/** Free hugepage memory in bytes, summed over page sizes. */
function hugepageSizes(host: HostFiles): Array<{ sizeKb: number; total: number; free: number }> {
  const sizes: Array<{ sizeKb: number; total: number; free: number }> = [];
  for (const e of host.list('/sys/kernel/mm/hugepages')) {
    const m = /^hugepages-(\d+)kB$/.exec(e);
    if (!m) continue;
    const dir = `/sys/kernel/mm/hugepages/${e}`;
    sizes.push({ sizeKb: Number(m[1]), total: Number(host.text(`${dir}/nr_hugepages`) ?? 0), free: Number(host.text(`${dir}/free_hugepages`) ?? 0) });
  }
  if (sizes.length === 0) {
    // Without the per-size directories, /proc/meminfo tells of the default size.
    const meminfo = host.text('/proc/meminfo') ?? '';
    const field = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+)`, 'm').exec(meminfo)?.[1] ?? 0);
    if (field('Hugepagesize') > 0) sizes.push({ sizeKb: field('Hugepagesize'), total: field('HugePages_Total'), free: field('HugePages_Free') });
  }
  return sizes;
}

function hugetlbfsMounts(host: HostFiles): string[] {
  return (host.text('/proc/mounts') ?? '').split('\n').map((l) => l.split(/\s+/)).filter((f) => f[2] === 'hugetlbfs').map((f) => f[1]!);
}

const sizeText = (kb: number) => (kb >= 1048576 ? `${kb / 1048576} GB` : `${kb / 1024} MB`);

function checkHugepages(s: Survey): Finding[] {
  const sizes = hugepageSizes(s.host).filter((z) => z.total > 0);
  const mounts = hugetlbfsMounts(s.host);
  const reserveFix = 'echo 1024 > /sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages (at boot: kernel parameters default_hugepagesz=1G hugepagesz=1G hugepages=N)';
  if (sizes.length === 0) {
    return [{
      check: 'hugepages', status: 'warn',
      finding: 'no hugepages reserved: stacks run with no_huge = true (anonymous memory: slower, and no physical NIC through vfio-pci)',
      fix: `${reserveFix}; then mount -t hugetlbfs nodev /dev/hugepages`,
    }];
  }
  const pages = sizes.map((z) => `${sizeText(z.sizeKb)} pages: ${z.total} reserved, ${z.free} free`).join('; ');
  if (mounts.length === 0) {
    return [{ check: 'hugepages', status: 'warn', finding: `${pages}; no hugetlbfs mounted`, fix: 'mount -t hugetlbfs nodev /dev/hugepages' }];
  }
  return [{ check: 'hugepages', status: 'ok', finding: `${pages}; hugetlbfs mounted on ${mounts.join(', ')}` }];
}

function checkIommu(s: Survey): Finding[] {
  const groups = s.host.list('/sys/kernel/iommu_groups').length;
  const params = ['intel_iommu', 'amd_iommu', 'iommu'].filter((p) => cmdlineParam(s.cmdline, p) !== undefined).map((p) => `${p}=${cmdlineParam(s.cmdline, p)}`);
  const onCmdline = params.length > 0 ? ` (kernel command line: ${params.join(' ')})` : '';
  if (groups > 0) return [{ check: 'iommu', status: 'ok', finding: `IOMMU on: ${groups} IOMMU group${groups === 1 ? '' : 's'}${onCmdline}` }];
  if (s.host.text('/sys/module/vfio/parameters/enable_unsafe_noiommu_mode') === 'Y') {
    return [{
      check: 'iommu', status: 'warn', finding: 'no IOMMU; vfio runs in no-IOMMU mode (the device can write anywhere in memory)',
      fix: 'kernel parameters intel_iommu=on iommu=pt (Intel) or amd_iommu=on iommu=pt (AMD), and the IOMMU on in the firmware',
    }];
  }
  return [{
    check: 'iommu', status: 'warn', finding: `no IOMMU groups${onCmdline}: vfio-pci cannot take a device`,
    fix: 'kernel parameters intel_iommu=on iommu=pt (Intel) or amd_iommu=on iommu=pt (AMD), and the IOMMU on in the firmware; '
      + 'without an IOMMU: echo 1 > /sys/module/vfio/parameters/enable_unsafe_noiommu_mode',
  }];
}

function checkVfio(s: Survey): Finding[] {
  if (s.host.exists('/sys/bus/pci/drivers/vfio-pci') || s.host.exists('/sys/module/vfio_pci')) {
    return [{ check: 'vfio-pci', status: 'ok', finding: 'vfio-pci is loaded' }];
  }
  return [{ check: 'vfio-pci', status: 'warn', finding: 'vfio-pci is not loaded: no NIC can be bound to it', fix: 'modprobe vfio-pci' }];
}

function describeNic(n: PciNic): string {
  const ifs = n.interfaces.map((i) => `${i.name} ${i.up ? 'up' : 'down'}`).join(', ');
  return `${n.address} [${n.vendorDevice}] driver ${n.driver ?? 'none'}${ifs ? ` (${ifs})` : ''}`;
}

function checkNics(s: Survey): Finding[] {
  if (s.nics.length === 0) {
    return [{
      check: 'nics', status: 'warn',
      finding: 'no PCI network device: a stack can run on a kernel interface with net_af_packet or net_af_xdp '
        + '(vdev = net_af_packet0,iface=eth0), or on net_tap / net_memif',
      fix: 'vdev = net_af_packet0,iface=IFACE in [dpdk] (ip link lists the interfaces)',
    }];
  }
  // Grouped as dpdk-devbind.py --status groups them: on a DPDK driver, on a kernel driver, on none.
  const group = (n: PciNic) => (n.driver === undefined ? 2 : DPDK_DRIVERS.has(n.driver) || BIFURCATED_DRIVERS.has(n.driver) ? 0 : 1);
  return [...s.nics].sort((a, b) => group(a) - group(b)).map((n): Finding => {
    if (n.driver !== undefined && DPDK_DRIVERS.has(n.driver)) {
      return { check: 'nics', status: 'ok', finding: `${describeNic(n)}: bound to a DPDK driver` };
    }
    if (n.driver !== undefined && BIFURCATED_DRIVERS.has(n.driver)) {
      return { check: 'nics', status: 'ok', finding: `${describeNic(n)}: DPDK's mlx driver runs beside the kernel's, no binding needed` };
    }
    if (n.interfaces.some((i) => i.up)) {
      return {
        check: 'nics', status: 'warn',
        finding: `${describeNic(n)}: kernel interface up (perhaps this host's SSH); binding it to DPDK takes it from the kernel, `
          + 'and without an exception path its traffic goes nowhere (docs/deploy.md, "Keeping the host\'s traffic: the exception path")',
        fix: `keep it on the kernel, or give its [portN] exception = tap and: ip link set ${n.interfaces.find((i) => i.up)!.name} down && `
          + `dpdk-devbind.py --bind=vfio-pci ${n.address}`,
      };
    }
    return {
      check: 'nics', status: 'warn',
      finding: `${describeNic(n)}: ${n.driver === undefined ? 'no driver' : 'kernel driver'}, not usable by DPDK yet`,
      fix: `dpdk-devbind.py --bind=vfio-pci ${n.address}`,
    };
  });
}

/** lcore id -> the CPUs it may run on, from the EAL --lcores mapping of [dpdk] lcores or as ffnet derives it. */
function lcoreCpus(cfg: FfnetConfig, online: number[]): Map<number, number[]> {
  const map = new Map<number, number[]>();
  const d = cfg.dpdk;
  if (d.lcoreMap === undefined) {
    // lcore 0 and inline lcores float over every CPU; each data-path lcore is pinned to the CPU of its id.
    for (const id of d.lcoreIds) map.set(id, d.dataLcores.includes(id) ? [id] : online);
    return map;
  }
  // Groups `lcores[@cpus]` at top-level commas; a set is N, A-B or a parenthesised list of those.
  for (const group of d.lcoreMap.split(/,(?![^(]*\))/)) {
    const [lcores, at] = group.split('@');
    const cpus = parseCpuList((at ?? lcores ?? '').replace(/[()]/g, ''));
    for (const id of parseCpuList((lcores ?? '').replace(/[()]/g, ''))) map.set(id, cpus);
  }
  return map;
}

/** Every CPU an lcore of the config may run on. */
function configCpus(cfg: FfnetConfig, online: number[]): number[] {
  return [...new Set([...lcoreCpus(cfg, online).values()].flat())].sort((a, b) => a - b);
}

/** The CPUs of the data-path lcores (lcore 0 and inline lcores are the application's threads). */
export function dataPathCpus(cfg: FfnetConfig, online: number[]): number[] {
  const map = lcoreCpus(cfg, online);
  return [...new Set(cfg.dpdk.dataLcores.flatMap((id) => map.get(id) ?? []))].sort((a, b) => a - b);
}

function checkIsolation(s: Survey, cfg: FfnetConfig | undefined): Finding[] {
  const isolated = parseCpuList(s.host.text('/sys/devices/system/cpu/isolated'));
  const params = ['isolcpus', 'nohz_full', 'rcu_nocbs'].filter((p) => cmdlineParam(s.cmdline, p) !== undefined).map((p) => `${p}=${cmdlineParam(s.cmdline, p)}`);
  const online = `online CPUs ${formatCpuList(s.online) || '?'}`;
  const wanted = cfg ? dataPathCpus(cfg, s.online) : s.online.filter((c) => c !== 0);
  const paramsFor = (cpus: number[]) => {
    const l = formatCpuList(cpus);
    return `kernel parameters isolcpus=${l} nohz_full=${l} rcu_nocbs=${l}`;
  };
  if (isolated.length === 0) {
    return [{
      check: 'cpu-isolation', status: 'warn',
      finding: `no CPU isolated (${online}): data-path lcores share their CPUs with the kernel and other programs`,
      ...(wanted.length > 0 ? { fix: `${paramsFor(wanted)}${cfg ? ' (the data-path lcores\' CPUs)' : ' (the CPUs for data-path lcores)'}` } : {}),
    }];
  }
  const findings: Finding[] = [{
    check: 'cpu-isolation', status: 'ok',
    finding: `isolated CPUs ${formatCpuList(isolated)} (${online})${params.length > 0 ? `; kernel command line: ${params.join(' ')}` : ''}`,
  }];
  if (cfg) {
    const shared = wanted.filter((c) => !isolated.includes(c));
    if (shared.length > 0) {
      findings.push({
        check: 'cpu-isolation', status: 'warn', finding: `data-path lcores of the config run on CPUs ${formatCpuList(shared)}, which are not isolated`,
        fix: paramsFor([...isolated, ...shared]),
      });
    }
  }
  return findings;
}

function nodeOfCpu(s: Survey, cpu: number): number | undefined {
  for (const [node, cpus] of s.nodes) if (cpus.includes(cpu)) return node;
  return undefined;
}

function checkNuma(s: Survey, cfg: FfnetConfig | undefined): Finding[] {
  if (s.nodes.size <= 1) return [{ check: 'numa', status: 'ok', finding: s.nodes.size === 1 ? 'one NUMA node' : 'no NUMA information (one node)' }];
  const nodes = [...s.nodes].sort((a, b) => a[0] - b[0]).map(([n, cpus]) => `node${n} CPUs ${formatCpuList(cpus) || 'none'}`).join('; ');
  const nicNodes = s.nics.map((n) => `${n.address} on ${n.numaNode < 0 ? 'no node' : `node${n.numaNode}`}`).join(', ');
  const findings: Finding[] = [{ check: 'numa', status: 'ok', finding: `${s.nodes.size} NUMA nodes: ${nodes}${nicNodes ? `; NICs: ${nicNodes}` : ''}` }];
  if (cfg) {
    const cpus = dataPathCpus(cfg, s.online);
    for (const entry of cfg.dpdk.allow) {
      const nic = s.nics.find((n) => n.address === pciAddress(entry));
      if (!nic || nic.numaNode < 0) continue;
      const away = cpus.filter((c) => nodeOfCpu(s, c) !== undefined && nodeOfCpu(s, c) !== nic.numaNode);
      if (away.length > 0) {
        findings.push({
          check: 'numa', status: 'warn',
          finding: `${nic.address} sits on node${nic.numaNode} but data-path lcores run on CPUs ${formatCpuList(away)} of another node: every packet crosses the interconnect`,
          fix: `pin the data-path lcores to CPUs of node${nic.numaNode} (${formatCpuList(s.nodes.get(nic.numaNode) ?? [])}) with [dpdk] lcores, e.g. lcores = 0@(${formatCpuList(s.online)}),1@${s.nodes.get(nic.numaNode)?.at(-1) ?? 0}`,
        });
      }
    }
  }
  return findings;
}

/**
 * What the kernel still does on an interface a stack runs on through net_af_packet or net_af_xdp, where
 * it should stay quiet (docs/deploy.md, "The kernel side of the interface"). Settings it cannot read are
 * not judged.
 */
function kernelSideOf(host: HostFiles, iface: string): Array<{ finding: string; fix: string }> {
  const out: Array<{ finding: string; fix: string }> = [];
  if (host.text(`/proc/sys/net/ipv6/conf/${iface}/disable_ipv6`) === '0') {
    out.push({ finding: `IPv6 is on on ${iface}: the kernel sends router solicitations and MLD reports on the stack's link`, fix: `sysctl -w net.ipv6.conf.${iface}.disable_ipv6=1` });
  }
  if (host.text(`/proc/sys/net/ipv4/conf/${iface}/arp_ignore`) === '0') {
    out.push({ finding: `arp_ignore = 0 on ${iface}: the kernel answers ARP there for the host's addresses on its other interfaces`, fix: `sysctl -w net.ipv4.conf.${iface}.arp_ignore=8` });
  }
  return out;
}

/** The configuration's fit: lcores' CPUs online, memory in hugepages, PCI devices bound, vdev interfaces present. */
function checkConfigFit(s: Survey, cfg: FfnetConfig): Finding[] {
  const findings: Finding[] = [];
  const d = cfg.dpdk;
  const cpus = dataPathCpus(cfg, s.online);
  const offline = configCpus(cfg, s.online).filter((c) => !s.online.includes(c));
  if (offline.length > 0) {
    findings.push({
      check: 'config', status: 'fail', finding: `${cfg.source}: [dpdk] lcore CPUs ${formatCpuList(offline)} are not online (online: ${formatCpuList(s.online)})`,
      fix: `use lcores on online CPUs: lcore_mask, or lcores = 0@(${formatCpuList(s.online)}),1@${s.online.at(-1) ?? 0}`,
    });
  } else {
    findings.push({ check: 'config', status: 'ok', finding: `${cfg.source}: lcores ${d.lcoreIds.join(',')}${cpus.length > 0 ? ` pinned to online CPUs ${formatCpuList(cpus)}` : ' float over the online CPUs'}` });
  }
  if (d.noHuge) {
    findings.push({ check: 'config', status: 'ok', finding: `${cfg.source}: [dpdk] no_huge = true: ${d.memoryMb} MB of anonymous memory (for a physical NIC set no_huge = false)` });
  } else {
    const freeKb = hugepageSizes(s.host).reduce((sum, z) => sum + z.free * z.sizeKb, 0);
    if (freeKb < d.memoryMb * 1024) {
      findings.push({
        check: 'config', status: 'fail', finding: `${cfg.source}: [dpdk] memory = ${d.memoryMb} MB but only ${Math.floor(freeKb / 1024)} MB of hugepages are free`,
        fix: `echo ${Math.ceil(d.memoryMb / 2)} > /sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages (or lower memory, or no_huge = true)`,
      });
    } else {
      findings.push({ check: 'config', status: 'ok', finding: `${cfg.source}: [dpdk] memory = ${d.memoryMb} MB fits the ${Math.floor(freeKb / 1024)} MB of free hugepages` });
    }
    if (d.hugeDir !== undefined && !hugetlbfsMounts(s.host).includes(d.hugeDir)) {
      findings.push({
        check: 'config', status: 'fail', finding: `${cfg.source}: [dpdk] huge_dir = ${d.hugeDir}: no hugetlbfs mounted there`,
        fix: `mkdir -p ${d.hugeDir} && mount -t hugetlbfs nodev ${d.hugeDir}`,
      });
    }
  }
  for (const entry of d.allow) {
    const address = pciAddress(entry);
    const nic = s.host.exists(`/sys/bus/pci/devices/${address}`) ? s.host.linkName(`/sys/bus/pci/devices/${address}/driver`) : null;
    if (nic === null) {
      findings.push({ check: 'config', status: 'fail', finding: `${cfg.source}: [dpdk] allow = ${entry}: no PCI device ${address} on this host`, fix: 'dpdk-devbind.py --status lists the network devices and their addresses' });
    } else if (nic !== undefined && (DPDK_DRIVERS.has(nic) || BIFURCATED_DRIVERS.has(nic))) {
      findings.push({ check: 'config', status: 'ok', finding: `${cfg.source}: [dpdk] allow = ${entry}: bound to ${nic}` });
    } else {
      findings.push({
        check: 'config', status: 'fail', finding: `${cfg.source}: [dpdk] allow = ${entry}: ${nic === undefined ? 'no driver' : `bound to the kernel driver ${nic}`}, not to a DPDK driver`,
        fix: `dpdk-devbind.py --bind=vfio-pci ${address}`,
      });
    }
  }
  for (const vdev of d.vdevs) {
    const driver = vdev.split(',')[0]!;
    const iface = /(?:^|,)iface=([^,]+)/.exec(vdev)?.[1];
    if (/^net_(af_packet|af_xdp)/.test(driver)) {
      if (iface === undefined) {
        findings.push({ check: 'config', status: 'fail', finding: `${cfg.source}: [dpdk] vdev = ${vdev}: names no kernel interface`, fix: `vdev = ${driver},iface=IFACE` });
      } else if (!s.host.exists(`/sys/class/net/${iface}`)) {
        findings.push({ check: 'config', status: 'fail', finding: `${cfg.source}: [dpdk] vdev = ${vdev}: no interface ${iface} on this host`, fix: 'ip link lists the interfaces' });
      } else {
        findings.push({ check: 'config', status: 'ok', finding: `${cfg.source}: [dpdk] vdev = ${vdev}: interface ${iface} exists (${s.host.text(`/sys/class/net/${iface}/operstate`) ?? 'state unknown'})` });
        for (const k of kernelSideOf(s.host, iface)) findings.push({ check: 'config', status: 'warn', finding: `${cfg.source}: [dpdk] vdev = ${vdev}: ${k.finding}`, fix: k.fix });
      }
    } else if (/^net_(tap|memif)/.test(driver)) {
      findings.push({ check: 'config', status: 'ok', finding: `${cfg.source}: [dpdk] vdev = ${vdev}: created by the stack at start` });
    } else {
      findings.push({ check: 'config', status: 'ok', finding: `${cfg.source}: [dpdk] vdev = ${vdev}: not checked` });
    }
  }
  return findings;
}

/** Every check against the host below `root`, and the config at `configPath` when given. */
export function diagnose(root: string, configPath?: string): Finding[] {
  const s = survey(new HostFiles(root));
  let cfg: FfnetConfig | undefined;
  const configFindings: Finding[] = [];
  if (configPath !== undefined) {
    try {
      cfg = loadConfigFile(configPath);
    } catch (e) {
      if (!(e instanceof FfnetConfigError)) throw e;
      configFindings.push({ check: 'config', status: 'fail', finding: e.message, fix: 'docs/configuration.md describes every section and key' });
    }
    if (cfg) configFindings.push(...checkConfigFit(s, cfg));
  }
  return [
    ...checkHugepages(s),
    ...checkIommu(s),
    ...checkVfio(s),
    ...checkNics(s),
    ...checkIsolation(s, cfg),
    ...checkNuma(s, cfg),
    ...configFindings,
  ];
}

/** Counts of each status. */
export function summarise(findings: Finding[]): Record<Status, number> {
  const counts: Record<Status, number> = { ok: 0, warn: 0, fail: 0 };
  for (const f of findings) counts[f.status]++;
  return counts;
}

export const doctor: Command = {
  name: 'doctor',
  summary: 'check this host for a deployment: hugepages, IOMMU, vfio-pci, NICs, CPUs, NUMA, a config',
  usage: `ffnet doctor [--config PATH] [--root DIR] [--json]

Checks this host for a stack on real NICs without a running stack: hugepages and hugetlbfs, the
IOMMU, vfio-pci, every PCI network device with its driver and kernel interfaces, CPU isolation,
NUMA nodes, and with --config (or FFNET_CONFIG) whether that ffnet.ini fits the host: it parses,
its lcores' CPUs are online, its memory fits the free hugepages, its allow entries exist and are
bound to a DPDK driver, its net_af_packet / net_af_xdp interfaces exist. Each line is ok, warn or
fail with what was found, and for the others the command or kernel parameter that fixes it. It
only reads /proc and /sys. Exit status 1 when a check fails (warnings do not).

  -c, --config PATH   the ffnet.ini to check (default: FFNET_CONFIG when set)
      --root DIR      for testing: read /proc and /sys under DIR (or FFNET_DOCTOR_ROOT)`,
  options: {
    config: { type: 'string', short: 'c' },
    root: { type: 'string' },
  },
  async run(ctx) {
    const root = typeof ctx.values.root === 'string' ? ctx.values.root : process.env.FFNET_DOCTOR_ROOT || '/';
    if (!existsSync(root)) throw new ToolError(`--root ${root}: no such directory`, 2);
    const configPath = typeof ctx.values.config === 'string' ? ctx.values.config : process.env.FFNET_CONFIG || undefined;
    const findings = diagnose(root, configPath);
    const summary = summarise(findings);
    if (ctx.json) {
      ctx.out(JSON.stringify({ checks: findings, summary }));
    } else {
      const width = Math.max(...findings.map((f) => f.check.length));
      for (const f of findings) {
        ctx.out(`${f.status.padEnd(4)}  ${f.check.padEnd(width)}  ${f.finding}`);
        if (f.fix !== undefined) ctx.out(`${' '.repeat(6 + width)}  fix: ${f.fix}`);
      }
      ctx.out(`${summary.ok} ok, ${summary.warn} warn, ${summary.fail} fail`);
    }
    return summary.fail > 0 ? 1 : 0;
  },
};
