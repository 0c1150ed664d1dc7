/**
 * ffnet.ini: reading, validation, and translation into what the native stack starts from.
 *
 * Contract:
 * - `loadConfigFile` / `parseConfigText` read the F-Stack-style INI file: its structure top to bottom
 *   as the C reader (posix/ff_config.c) reads it, then its values (parsed by the `ini` package);
 *   both readers report the same first problem with the same message. `validateConfig` accepts the
 *   same sections as a plain object, for programs that configure the stack in code. All three return
 *   a fully typed `FfnetConfig` with every default applied, or throw `FfnetConfigError` naming the
 *   file, section and key of the first problem.
 * - Nothing is silently ignored: unknown sections and keys, duplicated keys, wrong types, values out
 *   of range and inconsistent ports are errors.
 * - `toNativeConfig` turns a validated config into the `NativeStackConfig` the addon starts from,
 *   including the complete EAL argv and the validated config itself as JSON (what threads that
 *   attach to the running stack later read back). It is the only step that looks at the machine
 *   (CPU count).
 *
 * The keys, defaults and ranges come from config/schema.ts and config/sysctl.ts.
 */
import cluster from 'node:cluster';
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import * as ini from 'ini';
import type { NativePortConfig, NativeStackConfig } from '../native/index.js';
import { ipv6Bytes, ipv6Text } from '../posix/ipv6.js';
import { FfnetConfigError } from './errors.js';
import {
  CONFIG_KEYS, KNOWN_SECTIONS, MAX_DATA_LCORES, MAX_INLINE_LCORES, MAX_LCORE_ID, MAX_PORTS, MAX_PORT_ID, MAX_STATIC_ARP, MAX_STATIC_NDP, MAX_VDEVS, MAX_ADDR6, MAX_VIP,
  MAX_CONF_ROUTES, MAX_CONF_ROUTES_TOTAL,
  keysOf,
  type ConfigKeySpec, type ConfigSectionKind,
} from './schema.js';
import { SYSCTLS, lookupSysctl, sysctlDefaults } from './sysctl.js';

export { FfnetConfigError } from './errors.js';
export { describeConfigKeys, CONFIG_KEYS, type ConfigKeyDoc, type ConfigKeySpec } from './schema.js';
export { SYSCTLS, lookupSysctl, type SysctlSpec } from './sysctl.js';

/**
 * Configuration as sections of keys, the shape of ffnet.ini: `{ dpdk: {...}, port0: {...}, sysctl: {...} }`.
 * Values may be strings (as in the file), numbers, booleans, or arrays for repeatable keys.
 */
export type RawConfig = Record<string, Record<string, unknown>>;

/** The `[dpdk]` section, defaults applied. */
export interface FfnetDpdkConfig {
  /** lcore_mask, normalised to lower-case hex with 0x (e.g. '0x3'). */
  lcoreMask: string;
  /** lcore ids named by lcore_mask, ascending; always starts with 0. */
  lcoreIds: number[];
  /**
   * lcores that run the stack loop on their own threads: lcoreIds without 0 with `loop = dedicated`,
   * empty with `loop = inline` (and for lcore_mask 0x1).
   */
  dataLcores: number[];
  /** The raw EAL `--lcores` mapping from the `lcores` key, when set; otherwise derived at start. */
  lcoreMap?: string;
  memoryMb: number;
  noHuge: boolean;
  filePrefix: string;
  /** Virtual device specifications, in file order (e.g. 'net_tap0,iface=ff0'). */
  vdevs: string[];
  /** PCI allowlist entries; empty = PCI bus disabled. */
  allow: string[];
  idleSleepUs: number;
  txDelayUs: number;
  /** DPDK log level name ('emergency' .. 'debug'). */
  logLevel: string;
  /** Where DPDK's log goes besides memory: 'none', 'stderr', 'syslog' or 'file:PATH'. */
  log: string;
  mbufs: number;
  /** Extra EAL arguments, appended after the ones ffnet derives. */
  extraArgs: string[];
  /** hugetlbfs mount for the EAL (--huge-dir), when set. */
  hugeDir?: string;
  /** Multi-process role ('auto': secondary in a Node cluster worker, else as the EAL finds it). */
  procType: 'primary' | 'secondary' | 'auto';
  /** Primary: worker queues per port (0 = single-process). */
  nbProcs: number;
  /** Secondary: serves queue procId - 1 on EAL lcore procId; unset = the first free queue. */
  procId?: number;
}

/** A static neighbour entry. */
export interface FfnetStaticArp {
  /** IPv4 address, dotted quad. */
  addr: string;
  /** MAC address, lower-case aa:bb:cc:dd:ee:ff. */
  mac: string;
}

/** A further IPv4 address of a port (`vip_addr`). */
export interface FfnetVipAddr {
  /** IPv4 address, dotted quad. */
  addr: string;
  /** Its prefix length: as written after "/", else the port's. */
  prefixLength: number;
}

/** A static IPv6 neighbour entry. */
export interface FfnetStaticNdp {
  /** IPv6 address, RFC 5952 text: link-local, or on a prefix of the port's addr6. */
  addr: string;
  /** MAC address, lower-case aa:bb:cc:dd:ee:ff. */
  mac: string;
}

/** One `route[]` entry of a `[portN]` section. */
export interface FfnetRoute {
  /** NET/LEN ('0.0.0.0/0' for default). */
  dest: string;
  /** The gateway, on the port's subnet. */
  via: string;
  /** The preferred source (one of the stack's addresses), when given. */
  src?: string;
  /** 0..4294967295 (default 0): among routes to one prefix the lowest wins. */
  metric: number;
}

/** One `[portN]` section, defaults applied. */
export interface FfnetPortConfig {
  /** DPDK port id, the N of `[portN]`. */
  portId: number;
  addr: string;
  netmask: string;
  /** Prefix length of netmask (e.g. 24). */
  prefixLength: number;
  broadcast: string;
  /** Default gateway, when the port has one. */
  gateway?: string;
  /** Static routes (`route[]`), in file order. */
  routes: FfnetRoute[];
  mtu: number;
  /** IEEE 802.1Q VLAN id (`vlan_id`, 1..4094) the port's frames are tagged with; absent: untagged. */
  vlanId?: number;
  staticArp: FfnetStaticArp[];
  /** Further IPv4 addresses of the port (`vip_addr`), in file order; each has its own prefix length. */
  vipAddrs: FfnetVipAddr[];
  /** IPv6 on the port (`ipv6`, default true): link-local address, Neighbor Discovery, router advertisements. */
  ipv6: boolean;
  /** Configured IPv6 addresses (`addr6[]`), RFC 5952 text, in file order; the link-local one is derived at start. */
  addr6: FfnetAddr6[];
  /** IPv6 default router, RFC 5952 text, when configured (else learned from router advertisements). */
  gateway6?: string;
  /** Permanent IPv6 neighbour entries (`ndp[]`), in file order. */
  staticNdp: FfnetStaticNdp[];
  /** The exception path toward the kernel (`exception` and its keys); absent when `exception = none`. */
  exception?: FfnetExceptionConfig;
}

/** A port's exception path (docs/deploy.md "Keeping the host's traffic"), defaults applied. */
export interface FfnetExceptionConfig {
  /** The device that carries it: a net_tap or a virtio_user (over /dev/vhost-net) kernel interface. */
  kind: 'tap' | 'virtio-user';
  /** The kernel interface's name (`exception_iface`, default ffxN). */
  iface: string;
  /** TCP destination ports that go to the kernel, inclusive [lo, hi] ranges; empty = every port. */
  tcpPorts: Array<[number, number]>;
  /** UDP destination ports that go to the kernel instead of the stack. */
  udpPorts: Array<[number, number]>;
  /** UDP to ports no stack socket holds goes to the kernel (instead of ICMP port unreachable). */
  udpUnbound: boolean;
  /** Bound of the queue toward the kernel, frames. */
  queue: number;
}

/** A configured IPv6 address. */
export interface FfnetAddr6 {
  addr: string;
  prefixLength: number;
}

/** `[dpdk] loop`: who turns the stack loop of the lcores besides 0. */
export type LoopMode = 'dedicated' | 'inline';

/** `[dpdk] localhost`: where ffnet/dgram sockets reach 127.0.0.0/8 and ::1 (shim/localhost.ts). */
export type LocalhostPolicy = 'both' | 'kernel' | 'stack';

/** A validated configuration: every default applied, names in JS style. */
export interface FfnetConfig {
  /** Where it came from: the file name as given, or a label such as '<config object>'. */
  source: string;
  dpdk: FfnetDpdkConfig;
  /**
   * `[dpdk] loop`: 'dedicated' (each lcore besides 0 runs on a data-path thread of its own) or
   * 'inline' (no data-path threads: JS thread k turns lcore k). With lcore_mask 0x1 both mean the
   * stack runs inline on the JS thread.
   */
  loop: LoopMode;
  /**
   * `[dpdk] localhost`: 'both' (a loopback destination a stack socket holds stays on the stack, any
   * other goes to the kernel; wildcard and loopback sockets also hear the kernel's localhost),
   * 'kernel' (all loopback traffic of ffnet/dgram through the kernel) or 'stack' (the stack's own
   * loopback only). Read by ffnet/dgram; C programs on ff_* keep the stack's loopback.
   */
  localhost: LocalhostPolicy;
  /**
   * lcores (RX/TX queue pairs) turned by application threads: every lcore of lcore_mask with
   * `loop = inline`, 1 for lcore_mask 0x1, 0 when data-path threads run the stack.
   */
  inlineLcores: number;
  /** Ports by ascending port id; empty for a loopback-only stack. */
  ports: FfnetPortConfig[];
  /** Every tunable of config/sysctl.ts, with its default unless the configuration set it. */
  sysctl: Record<string, number>;
}

/** Options of `toNativeConfig`. */
export interface NativeConfigOptions {
  /** argv[0] of the EAL (default 'ffnet'). */
  processName?: string;
  /** CPUs the JS thread may float over (default `os.availableParallelism()`). */
  cpus?: number;
  /**
   * This process is a Node cluster worker with this `cluster.worker.id` (default: node:cluster's own
   * view). Resolves proc_type = auto to secondary and gives a secondary without proc_id its EAL lcore.
   */
  clusterWorkerId?: number;
}

/** Reads, parses and validates an INI file. Errors name `path` exactly as given. */
export function loadConfigFile(path: string): FfnetConfig {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw FfnetConfigError.unreadable(path, err);
  }
  return parseConfigText(text, path);
}

/** Parses and validates INI text; `fileName` is what error messages call the file. */
export function parseConfigText(text: string, fileName: string): FfnetConfig {
  const parsed = normaliseIniValues(ini.parse(checkStructure(text, fileName))) as Record<string, unknown>;
  return validate(parsed, { file: fileName, fromIni: true });
}

/**
 * Validates a configuration given as an object of sections (the same sections and keys as the
 * file). `source` labels it in error messages, e.g. '<config object>'.
 */
export function validateConfig(raw: RawConfig, source: string): FfnetConfig {
  return validate(raw as unknown, { file: source, fromIni: false });
}

/**
 * Builds what the native addon starts from: EAL argv, data-path or inline lcores, timings, ports,
 * the complete sysctl set, and `cfg` as JSON. Throws `FfnetConfigError` when a data-path lcore has no CPU of its own to
 * be pinned to on this machine (set `lcores` to map it explicitly).
 */
export function toNativeConfig(cfg: FfnetConfig, opts: NativeConfigOptions = {}): NativeStackConfig {
  const d = cfg.dpdk;
  const cpus = opts.cpus ?? availableParallelism();
  const workerId = opts.clusterWorkerId ?? clusterWorkerId();
  // Elsewhere auto lets the EAL decide (--proc-type auto), as in C.
  const secondary = runsSecondary(d.procType, d.nbProcs, workerId);
  const procType = secondary ? 'secondary' : d.procType;
  const eal: string[] = [opts.processName ?? 'ffnet'];
  if (d.noHuge) eal.push('--no-huge');
  // A secondary maps the primary's memory and devices: no memory size, no devices of its own.
  if (!secondary) eal.push('-m', String(d.memoryMb));
  if (d.hugeDir !== undefined) eal.push('--huge-dir', d.hugeDir);
  eal.push('--file-prefix', d.filePrefix);
  if (secondary) {
    // Its own EAL lcore: proc_id, else one from the worker id (the pool has no per-lcore caches).
    const lcore = d.procId ?? 1 + ((Math.max(1, workerId ?? 1) - 1) % MAX_LCORE_ID);
    const n = Math.max(1, Math.floor(cpus));
    eal.push('--proc-type', 'secondary', '--lcores', `${lcore}@${n === 1 ? '0' : `(0-${n - 1})`}`, '--main-lcore', String(lcore));
    // DPDK 22.11's secondary unlinks the primary's telemetry socket and binds its own in its place.
    eal.push('--no-telemetry');
  } else {
    if (procType === 'auto' || d.nbProcs > 0) eal.push('--proc-type', procType, '--base-virtaddr', MULTI_PROCESS_BASE_VA);
    eal.push('--lcores', d.lcoreMap ?? deriveLcoreMap(cfg, cpus));
    eal.push('--main-lcore', '0');
  }
  eal.push('--log-level', d.logLevel);
  if (!secondary) for (const v of d.vdevs) eal.push(`--vdev=${v}`);
  if (d.allow.length === 0) eal.push('--no-pci');
  for (const a of d.allow) eal.push('-a', a);
  eal.push(...d.extraArgs);

  const ports: NativePortConfig[] = cfg.ports.map((p) => ({
    portId: p.portId,
    addr: p.addr,
    netmask: p.netmask,
    broadcast: p.broadcast,
    gateway: p.gateway ?? '',
    mtu: p.mtu,
    vlanId: p.vlanId ?? 0,
    staticArp: p.staticArp.map((e) => ({ addr: e.addr, mac: e.mac })),
    routes: p.routes.map((r) => {
      const [net, len] = r.dest.split('/');
      return { dest: net!, prefixlen: Number(len), via: r.via, src: r.src ?? '', metric: r.metric };
    }),
    vipAddrs: p.vipAddrs.map((v) => `${v.addr}/${v.prefixLength}`),
    ipv6: p.ipv6,
    addr6: p.addr6.map((a) => `${a.addr}/${a.prefixLength}`),
    gateway6: p.gateway6 ?? '',
    staticNdp: p.staticNdp.map((e) => ({ addr: e.addr, mac: e.mac })),
    exception: p.exception?.kind ?? 'none',
    exceptionIface: p.exception?.iface ?? '',
    exceptionTcpPorts: (p.exception?.tcpPorts ?? []).map(([lo, hi]) => [lo, hi]),
    exceptionUdpPorts: (p.exception?.udpPorts ?? []).map(([lo, hi]) => [lo, hi]),
    exceptionUdpUnbound: p.exception?.udpUnbound ?? false,
    exceptionQueue: p.exception?.queue ?? 0,
  }));
  return {
    eal,
    dataLcores: [...d.dataLcores],
    inlineLcores: cfg.inlineLcores,
    idleSleepUs: d.idleSleepUs,
    txDelayUs: d.txDelayUs,
    mbufs: d.mbufs,
    ports,
    sysctl: { ...sysctlDefaults(), ...cfg.sysctl },
    log: d.log,
    procType,
    nbProcs: d.nbProcs,
    procQueue: secondary && d.procId !== undefined ? d.procId - 1 : -1,
    configJson: JSON.stringify(cfg),
  };
}

/** This process's node:cluster worker id, when it is a cluster worker. */
function clusterWorkerId(): number | undefined {
  return cluster.isWorker ? cluster.worker?.id : undefined;
}

/**
 * Whether a process runs a DPDK secondary: proc_type = secondary, or a cluster worker reading its
 * primary's configuration (proc_type = auto, or the primary's nb_procs).
 */
function runsSecondary(procType: FfnetDpdkConfig['procType'], nbProcs: number, workerId: number | undefined): boolean {
  return procType === 'secondary' || (workerId !== undefined && (procType === 'auto' || nbProcs > 0));
}

/**
 * Where a multi-process primary maps DPDK's memory. Secondaries map it at the same addresses, which a
 * Node process must have free: V8 places its heap at random hints below 2^46, and the EAL's default
 * (just above 16 GiB) collided with them (a worker's EAL failed with "Cannot reserve ... please use
 * '--base-virtaddr'"). Above 2^46 and far below the kernel's top-down mmap area, neither reaches.
 * posix/ff_config.c uses the same address.
 */
const MULTI_PROCESS_BASE_VA = '0x600000000000';

/**
 * lcore 0 floats over every CPU (the event loop is not pinned), and so does every inline lcore (its
 * JS thread is not pinned either); each data-path lcore is pinned to its own CPU.
 */
function deriveLcoreMap(cfg: FfnetConfig, cpus: number): string {
  const n = Math.max(1, Math.floor(cpus));
  const floating = n === 1 ? '0' : `(0-${n - 1})`;
  const parts = [`0@${floating}`];
  if (cfg.loop === 'inline') {
    for (const id of cfg.dpdk.lcoreIds) if (id !== 0) parts.push(`${id}@${floating}`);
    return parts.join(',');
  }
  for (const id of cfg.dpdk.dataLcores) {
    if (id >= n) {
      throw new FfnetConfigError(cfg.source, 'dpdk', 'lcore_mask',
        `lcore ${id} would be pinned to CPU ${id}, but this machine has ${n} CPU${n === 1 ? '' : 's'} (0..${n - 1}); `
        + `use lower lcore ids or map them with lcores (e.g. lcores = 0@(0-${n - 1}),${id}@${n - 1})`);
    }
    parts.push(`${id}@${id}`);
  }
  return parts.join(',');
}

// ---------------------------------------------------------------------------------------------
// Validation

interface Ctx {
  file: string;
  /** INI input: top-level scalars are keys outside any section; object-valued keys are dotted sections. */
  fromIni: boolean;
}

const SECTION_KEYS: Record<ConfigSectionKind, readonly ConfigKeySpec[]> = {
  dpdk: keysOf('dpdk'),
  portN: keysOf('portN'),
};
const PORT_SECTION = /^port(0|[1-9][0-9]?)$/;
/** Approximate bytes per mbuf: 2048 B data room + 128 B headroom + 128 B rte_mbuf + pool object header. */
const MBUF_BYTES = 2368;

function validate(raw: unknown, ctx: Ctx): FfnetConfig {
  if (!isPlainObject(raw)) {
    throw new FfnetConfigError(ctx.file, undefined, undefined,
      `expected an object of sections ({ dpdk: {...}, port0: {...} }), got ${describe(raw)}`);
  }
  let dpdkRaw: Record<string, unknown> = {};
  const portsRaw: Array<{ id: number; name: string; keys: Record<string, unknown> }> = [];
  let sysctlRaw: Record<string, unknown> = {};

  for (const name of Object.keys(raw)) {
    const body = raw[name];
    if (!isPlainObject(body)) {
      if (ctx.fromIni) {
        // `ini` reads `key[] = ...` lines as one array under `key`: name the key as the file wrote it.
        const written = Array.isArray(body) ? `${name}[]` : name;
        throw new FfnetConfigError(ctx.file, undefined, name,
          `key "${written}" is outside any section (put it under [dpdk], [portN] or [sysctl])`,
          `${ctx.file}: key "${written}" is outside any section (put it under [dpdk], [portN] or [sysctl])`);
      }
      throw new FfnetConfigError(ctx.file, name, undefined,
        `expected a section (an object of keys), got ${describe(body)}`);
    }
    const port = PORT_SECTION.exec(name);
    if (name === 'dpdk') {
      dpdkRaw = body;
    } else if (name === 'sysctl') {
      sysctlRaw = body;
    } else if (port && Number(port[1]) <= MAX_PORT_ID) {
      portsRaw.push({ id: Number(port[1]), name, keys: body });
    } else {
      throw unknownSection(ctx.file, name);
    }
  }

  const { dpdk, loop, localhost } = validateDpdk(dpdkRaw, ctx);
  portsRaw.sort((a, b) => a.id - b.id);
  if (portsRaw.length > MAX_PORTS) {
    const last = portsRaw[portsRaw.length - 1]!.name;
    throw new FfnetConfigError(ctx.file, last, undefined,
      `${portsRaw.length} ports are configured (${portsRaw.map((p) => `[${p.name}]`).join(', ')}); a stack serves at most ${MAX_PORTS}`);
  }
  const ports: FfnetPortConfig[] = [];
  const owner = new Map<string, string>();
  const ifaceOwner = new Map<string, string>();
  for (const p of portsRaw) {
    const port = validatePort(p.id, p.name, p.keys, ctx);
    const prev = owner.get(port.addr);
    if (prev !== undefined) {
      throw new FfnetConfigError(ctx.file, p.name, 'addr', `${port.addr} is already the address of [${prev}]`);
    }
    owner.set(port.addr, p.name);
    for (const a of port.addr6) {
      const prev6 = owner.get(a.addr);
      if (prev6 !== undefined) throw new FfnetConfigError(ctx.file, p.name, 'addr6', `${a.addr} is already an address of [${prev6}]`);
      owner.set(a.addr, p.name);
    }
    for (const v of port.vipAddrs) {
      const prevVip = owner.get(v.addr);
      if (prevVip !== undefined) throw new FfnetConfigError(ctx.file, p.name, 'vip_addr', `${v.addr} is already an address of [${prevVip}]`);
    }
    for (const v of port.vipAddrs) owner.set(v.addr, p.name);
    if (port.exception) {
      const prevIface = ifaceOwner.get(port.exception.iface);
      if (prevIface !== undefined) {
        throw new FfnetConfigError(ctx.file, p.name, 'exception_iface',
          `${JSON.stringify(port.exception.iface)} is already the exception interface of [${prevIface}]`);
      }
      ifaceOwner.set(port.exception.iface, p.name);
    }
    ports.push(port);
  }
  checkRoutes(ports, portsRaw, ctx);
  const sysctl = validateSysctl(sysctlRaw, ctx);
  const inlineLcores = loop === 'inline' ? dpdk.lcoreIds.length : dpdk.dataLcores.length === 0 ? 1 : 0;
  return { source: ctx.file, dpdk, loop, localhost, inlineLcores, ports, sysctl };
}

/** Refuses keys the section does not define; a nested object here came from a dotted INI section name. */
function checkKeys(body: Record<string, unknown>, section: string, specs: readonly ConfigKeySpec[], ctx: Ctx): void {
  const known = specs.map((s) => s.key);
  for (const key of Object.keys(body)) {
    if (ctx.fromIni && isPlainObject(body[key])) {
      throw FfnetConfigError.unknownSection(ctx.file, `${section}.${key}`, KNOWN_SECTIONS);
    }
    if (!known.includes(key)) throw FfnetConfigError.unknownKey(ctx.file, section, key, known);
  }
}

function spec(section: ConfigSectionKind, key: string): ConfigKeySpec {
  const s = CONFIG_KEYS.find((k) => k.section === section && k.key === key);
  if (!s) throw new Error(`config schema has no key ${section}.${key}`);
  return s;
}

/** The value of an optional key: undefined/null mean "not set". */
function present(body: Record<string, unknown>, key: string): unknown {
  const v = Object.prototype.hasOwnProperty.call(body, key) ? body[key] : undefined;
  return v === null ? undefined : v;
}

function validateDpdk(body: Record<string, unknown>, ctx: Ctx): { dpdk: FfnetDpdkConfig; loop: LoopMode; localhost: LocalhostPolicy } {
  const S = 'dpdk';
  checkKeys(body, S, SECTION_KEYS.dpdk, ctx);
  const at = (key: string) => ({ ctx, section: S, key });
  const valueOrDefault = (key: string) => present(body, key) ?? spec('dpdk', key).default;

  const mask = parseLcoreMask(valueOrDefault('lcore_mask'), at('lcore_mask'));
  const lcoreIds = bitsOf(mask);
  const mapRaw = present(body, 'lcores');
  const lcoreMap = mapRaw === undefined ? undefined : parseLcoreMap(mapRaw, lcoreIds, mask, at('lcores'));
  const loop = parseLoopMode(valueOrDefault('loop'), lcoreIds, mask, at('loop'));
  const localhost = parseLocalhostPolicy(valueOrDefault('localhost'), at('localhost'));

  const memoryMb = intKey(body, S, 'memory', ctx);
  const mbufs = intKey(body, S, 'nb_mbuf', ctx);
  const poolMb = Math.ceil((mbufs * MBUF_BYTES) / 2 ** 20);
  if (poolMb >= memoryMb) {
    throw new FfnetConfigError(ctx.file, S, 'nb_mbuf',
      `${mbufs} mbufs need about ${poolMb} MB, which does not fit in memory = ${memoryMb} MB (raise memory or lower nb_mbuf)`);
  }

  const procType = parseProcType(valueOrDefault('proc_type'), at('proc_type'));
  const nbProcs = intKey(body, S, 'nb_procs', ctx);
  const procIdRaw = present(body, 'proc_id');
  const procId = procIdRaw === undefined ? undefined : intKey(body, S, 'proc_id', ctx);
  const hugeRaw = present(body, 'huge_dir');
  const hugeDir = hugeRaw === undefined ? undefined : parseAbsolutePath(hugeRaw, at('huge_dir'));
  // A secondary shares the primary's runtime files: by default, those of its parent (the cluster
  // primary). C has no cluster worker: there only proc_type = secondary takes its parent's.
  const prefixRaw = present(body, 'file_prefix');
  const filePrefix = prefixRaw === undefined
    ? `ffnet-${runsSecondary(procType, nbProcs, clusterWorkerId()) ? process.ppid : process.pid}`
    : parseFilePrefix(prefixRaw, at('file_prefix'));

  const names = new Set<string>();
  const vdevs = listOf(present(body, 'vdev'), at('vdev')).map((v) => {
    const spec = parseVdev(v, at('vdev'));
    const name = spec.split(',', 1)[0]!;
    if (names.has(name)) throw new FfnetConfigError(ctx.file, S, 'vdev', `device ${name} is listed twice`);
    names.add(name);
    return spec;
  });
  if (vdevs.length > MAX_VDEVS) throw new FfnetConfigError(ctx.file, S, 'vdev', `at most ${MAX_VDEVS} devices`);
  const allow = listOf(present(body, 'allow'), at('allow')).map((v) => parsePci(v, at('allow')));

  const logLevel = parseLogLevel(valueOrDefault('log_level'), at('log_level'));
  const log = parseLogSink(valueOrDefault('log'), at('log'));
  const noHuge = boolKey(body, S, 'no_huge', ctx);
  if (procType !== 'primary' || nbProcs > 0) checkMultiProcess(noHuge, mask, ctx);
  if (procType === 'primary' && procId !== undefined) {
    throw new FfnetConfigError(ctx.file, S, 'proc_id', 'only a secondary process serves a queue of its own (proc_type = secondary or auto)');
  }
  const idleSleepUs = intKey(body, S, 'idle_sleep', ctx);
  const txDelayUs = intKey(body, S, 'pkt_tx_delay', ctx);
  const extraRaw = present(body, 'extra_args');
  const extraArgs = extraRaw === undefined ? [] : parseEalArgs(extraRaw, at('extra_args'));

  const out: FfnetDpdkConfig = {
    lcoreMask: `0x${mask.toString(16)}`,
    lcoreIds,
    dataLcores: loop === 'inline' ? [] : lcoreIds.filter((id) => id !== 0),
    memoryMb,
    noHuge,
    filePrefix,
    vdevs,
    allow,
    idleSleepUs,
    txDelayUs,
    logLevel,
    log,
    mbufs,
    extraArgs,
    procType,
    nbProcs,
  };
  if (lcoreMap !== undefined) out.lcoreMap = lcoreMap;
  if (hugeDir !== undefined) out.hugeDir = hugeDir;
  if (procId !== undefined) out.procId = procId;
  return { dpdk: out, loop, localhost };
}

/** What every process of a multi-process stack needs (posix/ff_config.c checks the same, in this order). */
function checkMultiProcess(noHuge: boolean, mask: bigint, ctx: Ctx): void {
  if (noHuge) {
    throw new FfnetConfigError(ctx.file, 'dpdk', 'no_huge',
      'a multi-process stack needs hugepages (a DPDK secondary cannot map --no-huge memory): set no_huge = false');
  }
  if (mask !== 1n) {
    throw new FfnetConfigError(ctx.file, 'dpdk', 'lcore_mask',
      `a multi-process stack runs inline, one lcore per process: lcore_mask must be 0x1, not 0x${mask.toString(16)}`);
  }
}

function validatePort(portId: number, section: string, body: Record<string, unknown>, ctx: Ctx): FfnetPortConfig {
  checkKeys(body, section, SECTION_KEYS.portN, ctx);
  const at = (key: string) => ({ ctx, section, key });
  for (const s of SECTION_KEYS.portN) {
    if (s.required && present(body, s.key) === undefined) {
      throw new FfnetConfigError(ctx.file, section, s.key,
        `missing (every [portN] section needs ${SECTION_KEYS.portN.filter((k) => k.required).map((k) => k.key).join(' and ')})`);
    }
  }
  const addr = parseIpv4(present(body, 'addr'), at('addr'));
  const mask = parseNetmask(present(body, 'netmask'), at('netmask'));
  const prefixLength = prefixOf(mask);
  const net = (addr & mask) >>> 0;
  const bcast = (net | ~mask) >>> 0;
  const subnet = `${formatIpv4(net)}/${prefixLength}`;
  const inSubnet = (a: number) => ((a & mask) >>> 0) === net;
  /** Network and broadcast addresses are not hosts, except on /31 and /32 (RFC 3021). */
  const notHost = (a: number) => prefixLength < 31 && (a === net || a === bcast);

  const special = specialAddress(addr);
  if (special) throw new FfnetConfigError(ctx.file, section, 'addr', `${formatIpv4(addr)} is not usable as a port address (${special})`);
  if (notHost(addr)) {
    throw new FfnetConfigError(ctx.file, section, 'addr',
      `${formatIpv4(addr)} is the ${addr === net ? 'network' : 'broadcast'} address of ${subnet}, not a host address`);
  }

  let broadcast = bcast;
  const bRaw = present(body, 'broadcast');
  if (bRaw !== undefined) {
    broadcast = parseIpv4(bRaw, at('broadcast'));
    if (!inSubnet(broadcast)) {
      throw new FfnetConfigError(ctx.file, section, 'broadcast', `${formatIpv4(broadcast)} is not in the port's subnet ${subnet}`);
    }
    if (broadcast === addr && prefixLength < 32) {
      throw new FfnetConfigError(ctx.file, section, 'broadcast', `${formatIpv4(broadcast)} is the port's own address`);
    }
  }

  let gateway: string | undefined;
  const gRaw = present(body, 'gateway');
  if (gRaw !== undefined) {
    const g = parseIpv4(gRaw, at('gateway'));
    const problem = gatewayProblem(addr, mask, g);
    if (problem) throw new FfnetConfigError(ctx.file, section, 'gateway', `${formatIpv4(g)} ${problem}`);
    gateway = formatIpv4(g);
  }

  // Before route[]: a route's gateway may be on the subnet of one of these addresses.
  const vipAddrs = parseVipAddrs(present(body, 'vip_addr'), at('vip_addr'), addr, prefixLength);

  const routes: FfnetRoute[] = [];
  const routeEntries = listOf(present(body, 'route'), at('route'));
  if (routeEntries.length > MAX_CONF_ROUTES) throw fail(at('route'), `at most ${MAX_CONF_ROUTES} entries`);
  for (const entry of routeEntries) {
    nonEmpty(entry, at('route'));
    routes.push(parseRouteEntry(entry as string, addr, mask, vipAddrs, entryError(ctx, section, 'route', entry)));
  }

  const staticArp: FfnetStaticArp[] = [];
  const seen = new Set<number>();
  const arps = listOf(present(body, 'arp'), at('arp'), true);
  if (arps.length > MAX_STATIC_ARP) throw fail(at('arp'), `at most ${MAX_STATIC_ARP} entries`);
  for (const entry of arps) {
    nonEmpty(entry, at('arp'));
    const bad = entryError(ctx, section, 'arp', entry);
    const e = parseNeighbourEntry(entry, bad, ARP_ENTRY);
    if (!inSubnet(e.addr)) throw bad(`${formatIpv4(e.addr)} is not in the port's subnet ${subnet}`);
    if (e.addr === addr) throw bad(`${formatIpv4(e.addr)} is the port's own address`);
    if (notHost(e.addr)) throw bad(`${formatIpv4(e.addr)} is the ${e.addr === net ? 'network' : 'broadcast'} address of ${subnet}`);
    if (seen.has(e.addr)) throw bad(`${formatIpv4(e.addr)} already has an entry`);
    seen.add(e.addr);
    staticArp.push({ addr: formatIpv4(e.addr), mac: e.mac });
  }

  const mtu = intKey(body, section, 'mtu', ctx, 'portN');
  const vlanId = present(body, 'vlan_id') === undefined ? undefined : intKey(body, section, 'vlan_id', ctx, 'portN');
  const { ipv6, addr6, gateway6, staticNdp } = validatePort6(body, section, ctx);
  const exception = validatePortException(portId, body, section, ctx);
  const port: FfnetPortConfig = {
    portId,
    addr: formatIpv4(addr),
    netmask: formatIpv4(mask),
    prefixLength,
    broadcast: formatIpv4(broadcast),
    routes,
    mtu,
    staticArp,
    vipAddrs,
    ipv6,
    addr6,
    staticNdp,
  };
  if (gateway !== undefined) port.gateway = gateway;
  if (gateway6 !== undefined) port.gateway6 = gateway6;
  if (vlanId !== undefined) port.vlanId = vlanId;
  if (exception !== undefined) port.exception = exception;
  return port;
}

/**
 * Whether `a` is on a connected subnet of a port with address `addr` and netmask `mask` (not
 * necessarily a host address there): where a gateway must be. posix/ff_config.c on_connected_subnet
 * is the same.
 */
function onConnectedSubnet(addr: number, mask: number, a: number): boolean {
  return ((a & mask) >>> 0) === ((addr & mask) >>> 0);
}

/**
 * Why `g` cannot be a gateway of a port with address `addr` and netmask `mask` (`gateway`, and the
 * via of `route[]`), or undefined; posix/ff_config.c gateway_problem gives the same text.
 */
function gatewayProblem(addr: number, mask: number, g: number): string | undefined {
  const len = prefixOf(mask);
  const net = (addr & mask) >>> 0;
  const bcast = (net | ~mask) >>> 0;
  const subnet = `${formatIpv4(net)}/${len}`;
  if (!onConnectedSubnet(addr, mask, g)) return `is not in the port's subnet ${subnet}`;
  if (g === addr) return 'is the port\'s own address';
  if (len < 31 && (g === net || g === bcast)) return `is the ${g === net ? 'network' : 'broadcast'} address of ${subnet}`;
  return undefined;
}

/**
 * gatewayProblem for the via of a route: on the port's subnet, or else on the subnet of one of its
 * `vip_addr` (a connected subnet too); posix/ff_config.c route_gateway_problem gives the same text.
 */
function routeGatewayProblem(addr: number, mask: number, vips: readonly FfnetVipAddr[], g: number): string | undefined {
  if (!onConnectedSubnet(addr, mask, g)) {
    for (const v of vips) {
      const a = ipv4Value(v.addr)!;
      const m = v.prefixLength === 0 ? 0 : (~0 << (32 - v.prefixLength)) >>> 0;
      if (onConnectedSubnet(a, m, g)) return gatewayProblem(a, m, g);
    }
  }
  return gatewayProblem(addr, mask, g);
}

/** Whether `a` is one of the stack's addresses, a port's `addr` or one of its `vip_addr` (what a route's
 *  src may be); posix/ff_config.c is_local_address is the same. */
function isLocalAddress(ports: readonly FfnetPortConfig[], a: string): boolean {
  return ports.some((p) => p.addr === a || p.vipAddrs.some((v) => v.addr === a));
}

const ROUTE_FORM = '"NET/LEN via GW [src ADDR] [metric N]", e.g. "10.99.0.0/16 via 10.77.0.1"';

/**
 * One `route[]` entry of a port with address `addr`, netmask `mask` and further addresses `vips`, checked in its own terms
 * (the source and duplicates are checked against every port afterwards: checkRoutes). The words are
 * read left to right and each problem is the first one met, as posix/ff_config.c route_entry does.
 */
function parseRouteEntry(entry: string, addr: number, mask: number, vips: readonly FfnetVipAddr[], bad: (detail: string) => FfnetConfigError): FfnetRoute {
  const words = entry.replace(/^[ \t]+|[ \t]+$/g, "").split(/[ \t]+/);
  if (words.length < 3 || words.length % 2 === 0) throw bad(`expected ${ROUTE_FORM}`);
  const destText = words[0]!;
  let net = 0;
  let len = 0;
  if (destText !== 'default') {
    const m = /^([^/]+)\/(\d{1,2})$/.exec(destText);
    const a = m ? ipv4Value(m[1]!) : undefined;
    if (!m || a === undefined || Number(m[2]) > 32) throw bad(`${JSON.stringify(destText)} is not a destination (NET/LEN, e.g. 10.99.0.0/16, or default)`);
    net = a;
    len = Number(m[2]);
    if (len < 32 && net % 2 ** (32 - len) !== 0) throw bad(`${destText} has host bits set (the network of a /${len} ends in zeros)`);
  }
  const seen = new Map<string, string>();
  for (let i = 1; i < words.length; i += 2) {
    const word = words[i]!;
    const value = words[i + 1]!;
    if (word !== 'via' && word !== 'src' && word !== 'metric') throw bad(`unknown word ${JSON.stringify(word)} (expected via, src or metric)`);
    if (seen.has(word)) throw bad(`${word} given twice`);
    if (word === 'metric') {
      if (!/^\d{1,10}$/.test(value) || Number(value) > 0xffffffff) throw bad(`${JSON.stringify(value)} is not a metric (0..4294967295)`);
    } else if (ipv4Value(value) === undefined) {
      throw bad(`${JSON.stringify(value)} is not an IPv4 address`);
    }
    seen.set(word, value);
  }
  const viaText = seen.get('via');
  if (viaText === undefined) throw bad(`no gateway (expected ${ROUTE_FORM})`);
  const via = ipv4Value(viaText)!;
  const problem = routeGatewayProblem(addr, mask, vips, via);
  if (problem) throw bad(`${formatIpv4(via)} ${problem}`);
  const srcText = seen.get('src');
  const route: FfnetRoute = { dest: `${formatIpv4(net)}/${len}`, via: formatIpv4(via), metric: Number(seen.get('metric') ?? 0) };
  if (srcText !== undefined) route.src = formatIpv4(ipv4Value(srcText)!);
  return route;
}

/**
 * The routes of every port against the whole stack, in port and file order: at most
 * MAX_CONF_ROUTES_TOTAL, each src one of the stack's addresses, and no two routes (connected
 * subnets and the gateway's default route included) to one prefix with one metric.
 */
function checkRoutes(ports: readonly FfnetPortConfig[], raw: Array<{ name: string; keys: Record<string, unknown> }>, ctx: Ctx): void {
  const taken = new Set<string>();
  for (const p of ports) taken.add(`${formatIpv4((ipv4Value(p.addr)! & ipv4Value(p.netmask)!) >>> 0)}/${p.prefixLength} 0`);
  const withGateway = ports.find((p) => p.gateway !== undefined);
  if (withGateway) taken.add('0.0.0.0/0 0');
  let total = 0;
  ports.forEach((p, i) => {
    const section = raw[i]!.name;
    const entries = listOf(present(raw[i]!.keys, 'route'), { ctx, section, key: 'route' });
    p.routes.forEach((r, k) => {
      const bad = entryError(ctx, section, 'route', entries[k]);
      if (++total > MAX_CONF_ROUTES_TOTAL) throw fail({ ctx, section, key: 'route' }, `at most ${MAX_CONF_ROUTES_TOTAL} routes in all [portN] sections`);
      if (r.src !== undefined && !isLocalAddress(ports, r.src)) throw bad(`invalid source address ${r.src} (not one of the stack's addresses)`);
      const key = `${r.dest} ${r.metric}`;
      if (taken.has(key)) throw bad(`a route to ${r.dest} of metric ${r.metric} already exists`);
      taken.add(key);
    });
  });
}

/**
 * A port's `vip_addr` (posix/ff_config.c vip_addrs checks the same, in this order): F-Stack's form, addresses
 * separated by ";" (empty entries skipped, so a trailing ";" is fine), each ADDR or ADDR/PREFIXLEN — without a
 * prefix length the port's. The count first, then each address in order: its form, a usable unicast host
 * address on its subnet, not the port's `addr`, not listed twice. (An object config may give a list of
 * addresses instead of the text.)
 */
function parseVipAddrs(v: unknown, at: At, portAddr: number, portPrefix: number): FfnetVipAddr[] {
  if (v === undefined) return [];
  const entries = (Array.isArray(v) && !at.ctx.fromIni ? listOf(v, at) as string[] : scalarText(v, at, 'addresses separated by ";"').split(';'))
    .map(trimC).filter((e) => e !== '');
  if (entries.length === 0) throw fail(at, 'no address (remove the line, or list addresses separated by ";")');
  if (entries.length > MAX_VIP) throw fail(at, `${entries.length} addresses; a port takes at most ${MAX_VIP} besides addr`);
  const out: FfnetVipAddr[] = [];
  for (const entry of entries) {
    const m = /^([^/]*)(?:\/(0|[1-9][0-9]?))?$/.exec(entry);
    const a = m ? ipv4Value(m[1]!) : undefined;
    if (!m || a === undefined) {
      throw fail(at, `${JSON.stringify(entry)} is not an IPv4 address with an optional prefix length (ADDR or ADDR/PREFIXLEN, e.g. 10.77.0.3 or 10.78.0.3/24)`);
    }
    const len = m[2] === undefined ? portPrefix : Number(m[2]);
    const text = formatIpv4(a);
    if (len < 1 || len > 32) throw fail(at, `${text}/${len}: prefix length ${len} is out of range (1..32)`);
    const special = specialAddress(a);
    if (special) throw fail(at, `${text} is not usable as a port address (${special})`);
    const mask = len === 0 ? 0 : (~0 << (32 - len)) >>> 0;
    const net = (a & mask) >>> 0;
    if (len < 31 && (a === net || a === ((net | ~mask) >>> 0))) {
      throw fail(at, `${text} is the ${a === net ? 'network' : 'broadcast'} address of ${formatIpv4(net)}/${len}, not a host address`);
    }
    if (a === portAddr) throw fail(at, `${text} is the port's own address (addr)`);
    if (out.some((o) => o.addr === text)) throw fail(at, `${text} is listed twice`);
    out.push({ addr: text, prefixLength: len });
  }
  return out;
}

/** Keys of the exception path besides `exception` itself, in the order both readers check them. */
const EXCEPTION_KEYS = ['exception_iface', 'exception_tcp_port', 'exception_udp_port', 'exception_udp_unbound', 'exception_queue'];
/** The most ranges one exception port filter holds (FFS_MAX_EXC_PORT_RANGES). */
const MAX_EXCEPTION_PORT_RANGES = 32;

/**
 * The port's exception-path keys (posix/ff_config.c port_exception_section checks the same, in this
 * order): exception, then whether the others may be set, exception_iface, exception_tcp_port,
 * exception_udp_port, exception_udp_unbound, exception_queue.
 */
function validatePortException(portId: number, body: Record<string, unknown>, section: string, ctx: Ctx): FfnetExceptionConfig | undefined {
  const at = (key: string) => ({ ctx, section, key });
  const kRaw = present(body, 'exception');
  const kind = kRaw === undefined ? 'none' : scalarText(kRaw, at('exception'), 'none, tap or virtio-user');
  if (kind !== 'none' && kind !== 'tap' && kind !== 'virtio-user') {
    throw fail(at('exception'), `${JSON.stringify(kind)} is not an exception path (none, tap or virtio-user)`);
  }
  if (kind === 'none') {
    for (const key of EXCEPTION_KEYS) {
      const v = present(body, key);
      if (v === undefined) continue;
      single(v, at(key));
      throw fail(at('exception'),
        `the exception path is off (none), yet ${key} is set (remove it, or set exception = tap or virtio-user)`);
    }
    return undefined;
  }
  let iface = `ffx${portId}`;
  const iRaw = present(body, 'exception_iface');
  if (iRaw !== undefined) {
    iface = scalarText(iRaw, at('exception_iface'), 'an interface name');
    if (Buffer.byteLength(iface) > 15) throw fail(at('exception_iface'), `${JSON.stringify(iface)} is longer than 15 characters (a kernel interface name)`);
    if (!/^[A-Za-z0-9_][A-Za-z0-9_.-]*$/.test(iface)) {
      throw fail(at('exception_iface'),
        `${JSON.stringify(iface)} is not an interface name (letters, digits, '_', '.' and '-', not first '.' or '-')`);
    }
  }
  const tcpPorts = parsePortRanges(present(body, 'exception_tcp_port'), at('exception_tcp_port'));
  const udpPorts = parsePortRanges(present(body, 'exception_udp_port'), at('exception_udp_port'));
  const uRaw = present(body, 'exception_udp_unbound');
  const udpUnbound = uRaw === undefined ? true : parseBoolean(uRaw, at('exception_udp_unbound'));
  const queue = intKey(body, section, 'exception_queue', ctx, 'portN');
  return { kind, iface, tcpPorts, udpPorts, udpUnbound, queue };
}

/** A filter of transport ports, "22,80,8000-8100" (empty or absent: every port), entries checked in order. */
function parsePortRanges(v: unknown, at: At): Array<[number, number]> {
  if (v === undefined) return [];
  single(v, at);
  if (typeof v === 'number' && Number.isSafeInteger(v)) v = String(v);
  if (typeof v !== 'string') throw fail(at, `expected ports such as "22,8000-8100", got ${describe(v)}`);
  if (v === '') return [];
  const out: Array<[number, number]> = [];
  for (const raw of v.split(',')) {
    const item = trimC(raw);
    const m = /^([0-9]{1,5})(?:-([0-9]{1,5}))?$/.exec(item);
    if (!m) {
      throw fail(at, `entry ${JSON.stringify(item)} is not a port or a range of ports (e.g. 22 or 8000-8100; entries separated by ',')`);
    }
    const lo = Number(m[1]);
    const hi = m[2] === undefined ? lo : Number(m[2]);
    if (lo < 1 || lo > 65535 || hi < 1 || hi > 65535) throw fail(at, `entry ${JSON.stringify(item)} is out of range (1..65535)`);
    if (hi < lo) throw fail(at, `entry ${JSON.stringify(item)} ends before it starts`);
    if (out.length === MAX_EXCEPTION_PORT_RANGES) throw fail(at, `at most ${MAX_EXCEPTION_PORT_RANGES} entries`);
    out.push([lo, hi]);
  }
  return out;
}

/**
 * A port's IPv6 keys (posix/ff_config.c checks the same, in this order): ipv6, each addr6[] entry in
 * file order, gateway6, each ndp[] entry in file order.
 */
function validatePort6(body: Record<string, unknown>, section: string, ctx: Ctx):
  { ipv6: boolean; addr6: FfnetAddr6[]; gateway6?: string; staticNdp: FfnetStaticNdp[] } {
  const at = (key: string) => ({ ctx, section, key });
  const onRaw = present(body, 'ipv6');
  const ipv6 = onRaw === undefined ? true : parseBoolean(onRaw, at('ipv6'));
  const entries = listOf(present(body, 'addr6'), at('addr6'));
  const ndps = listOf(present(body, 'ndp'), at('ndp'), true);
  const gRaw = present(body, 'gateway6');
  if (gRaw !== undefined) single(gRaw, at('gateway6'));
  if (!ipv6 && (entries.length > 0 || gRaw !== undefined || ndps.length > 0)) {
    const set = entries.length > 0 ? 'addr6' : gRaw !== undefined ? 'gateway6' : 'ndp';
    throw fail(at('ipv6'), `IPv6 is off on the port, yet ${set} is set (remove it, or turn IPv6 on)`);
  }
  if (entries.length > MAX_ADDR6) throw fail(at('addr6'), `at most ${MAX_ADDR6} entries`);
  const addr6: Array<FfnetAddr6 & { bytes: Uint8Array }> = [];
  for (const entry of entries) {
    const v = nonEmpty(entry, at('addr6')) as string;
    const m = /^([^/]*)\/(0|[1-9][0-9]{0,2})$/.exec(v);
    if (!m) throw fail(at('addr6'), `${JSON.stringify(v)} is not an IPv6 address with a prefix length (ADDR/PREFIXLEN, e.g. 2001:db8::2/64)`);
    const bytes = ipv6Value(m[1]!);
    if (!bytes) throw fail(at('addr6'), `${JSON.stringify(v)}: ${JSON.stringify(m[1])} is not an IPv6 address`);
    const len = Number(m[2]);
    const text = formatIpv6(bytes);
    if (len < 1 || len > 128) throw fail(at('addr6'), `${text}/${len}: prefix length ${len} is out of range (1..128)`);
    const special = specialIpv6(bytes, true);
    if (special) throw fail(at('addr6'), `${text} is not usable as a port address (${special})`);
    if (len < 127 && hostBitsZero(bytes, len)) {
      throw fail(at('addr6'), `${text} is the subnet-router anycast address of ${text}/${len}, not a host address`);
    }
    if (addr6.some((a) => a.addr === text)) throw fail(at('addr6'), `${text} is listed twice`);
    addr6.push({ addr: text, prefixLength: len, bytes });
  }
  const isOwn = (text: string) => addr6.some((a) => a.addr === text);
  const onLink = (b: Uint8Array) => isLinkLocal6(b) || addr6.some((a) => samePrefix(a.bytes, b, a.prefixLength));
  const notOnLink = (text: string) => {
    const prefixes = addr6.map((a) => `${formatIpv6(prefixOf6(a.bytes, a.prefixLength))}/${a.prefixLength}`).join(', ');
    return `${text} is neither link-local (fe80::/10) nor on a prefix of the port (${prefixes || 'it has no addr6'})`;
  };
  let gateway6: string | undefined;
  if (gRaw !== undefined) {
    const s = scalarText(gRaw, at('gateway6'), 'an IPv6 address');
    const g = ipv6Value(s);
    if (!g) throw fail(at('gateway6'), `${JSON.stringify(s)} is not an IPv6 address`);
    const text = formatIpv6(g);
    const special = specialIpv6(g, false);
    if (special) throw fail(at('gateway6'), `${text} is not usable as a gateway (${special})`);
    if (isOwn(text)) throw fail(at('gateway6'), `${text} is the port's own address`);
    if (!onLink(g)) throw fail(at('gateway6'), notOnLink(text));
    gateway6 = text;
  }
  if (ndps.length > MAX_STATIC_NDP) throw fail(at('ndp'), `at most ${MAX_STATIC_NDP} entries`);
  const staticNdp: FfnetStaticNdp[] = [];
  for (const entry of ndps) {
    nonEmpty(entry, at('ndp'));
    const bad = entryError(ctx, section, 'ndp', entry);
    const e = parseNeighbourEntry(entry, bad, NDP_ENTRY);
    const text = formatIpv6(e.addr);
    const special = specialIpv6(e.addr, false);
    if (special) throw bad(`${text} is not usable as a neighbour (${special})`);
    if (isOwn(text)) throw bad(`${text} is the port's own address`);
    if (!onLink(e.addr)) throw bad(notOnLink(text));
    if (staticNdp.some((n) => n.addr === text)) throw bad(`${text} already has an entry`);
    staticNdp.push({ addr: text, mac: e.mac });
  }
  return {
    ipv6,
    addr6: addr6.map((a) => ({ addr: a.addr, prefixLength: a.prefixLength })),
    ...(gateway6 !== undefined ? { gateway6 } : {}),
    staticNdp,
  };
}

/** An IPv6 address by inet_pton's rules (RFC 4291 §2.2 text, no zone), as 16 bytes; undefined when it is not one. */
function ipv6Value(s: string): Uint8Array | undefined {
  return s.includes('%') ? undefined : ipv6Bytes(s);
}

/** RFC 5952 text, as node:dgram writes addresses (ffnet prints them as Node does). */
function formatIpv6(b: Uint8Array): string {
  return ipv6Text(b, 0);
}

const isLinkLocal6 = (b: Uint8Array) => b[0] === 0xfe && (b[1]! & 0xc0) === 0x80;

/** Why an IPv6 address cannot be a port's own (`own`) or a gateway, or ''. */
function specialIpv6(b: Uint8Array, own: boolean): string {
  const zeros = (from: number, to: number) => b.slice(from, to).every((x) => x === 0);
  if (zeros(0, 16)) return 'unspecified';
  if (zeros(0, 15) && b[15] === 1) return 'loopback';
  if (b[0] === 0xff) return 'multicast';
  if (zeros(0, 10) && b[10] === 0xff && b[11] === 0xff) return 'IPv4-mapped';
  if (own && isLinkLocal6(b)) return 'link-local: every port derives its own from its MAC';
  return '';
}

function prefixOf6(b: Uint8Array, len: number): Uint8Array {
  return b.map((x, i) => (i * 8 >= len ? 0 : i * 8 + 8 <= len ? x : x & (0xff << (8 - (len - i * 8)))));
}

function samePrefix(a: Uint8Array, b: Uint8Array, len: number): boolean {
  const pa = prefixOf6(a, len);
  const pb = prefixOf6(b, len);
  return pa.every((x, i) => x === pb[i]);
}

function hostBitsZero(b: Uint8Array, len: number): boolean {
  return prefixOf6(b, len).every((x, i) => x === b[i]);
}

function validateSysctl(body: Record<string, unknown>, ctx: Ctx): Record<string, number> {
  const S = 'sysctl';
  const out = sysctlDefaults();
  for (const name of Object.keys(body)) {
    const s = lookupSysctl(name);
    if (!s) throw unknownSysctl(ctx.file, name);
    const v = present(body, name);
    if (v === undefined) continue;
    out[name] = parseInteger(v, s.min, s.max, s.unit, { ctx, section: S, key: name });
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Value parsers. Each names the offending value; the caller's location supplies file/section/key.

interface At {
  ctx: Ctx;
  section: string;
  key: string;
}

function fail(at: At, detail: string): FfnetConfigError {
  return new FfnetConfigError(at.ctx.file, at.section, at.key, detail);
}

function intKey(body: Record<string, unknown>, section: string, key: string, ctx: Ctx, kind: ConfigSectionKind = 'dpdk'): number {
  const s = spec(kind, key);
  const v = present(body, key);
  if (v === undefined) return s.default as number;
  return parseInteger(v, s.min!, s.max!, s.unit ?? '', { ctx, section, key });
}

function boolKey(body: Record<string, unknown>, section: string, key: string, ctx: Ctx): boolean {
  const s = spec('dpdk', key);
  const v = present(body, key);
  if (v === undefined) return s.default as boolean;
  return parseBoolean(v, { ctx, section, key });
}

/** Refuses a list where the key takes one value. */
function single(v: unknown, at: At): void {
  if (Array.isArray(v)) {
    throw fail(at, `takes one value, got a list of ${v.length}${at.ctx.fromIni ? ` (write "${at.key} = ...", not "${at.key}[] = ...")` : ''}`);
  }
}

/** Strict integers: a JS integer, or a string of decimal digits with an optional sign. */
function parseInteger(v: unknown, min: number, max: number, unit: string, at: At): number {
  single(v, at);
  let n: number;
  // The value as the file wrote it (without a plus sign), for messages.
  let written: string;
  if (typeof v === 'number') {
    if (!Number.isSafeInteger(v)) throw fail(at, `${v} is not an integer`);
    n = v;
    written = String(v);
  } else if (typeof v === 'string') {
    if (!/^[+-]?[0-9]+$/.test(v)) throw fail(at, `${JSON.stringify(v)} is not a decimal integer`);
    n = Number(v);
    written = v.replace(/^\+/, '');
  } else {
    throw fail(at, `expected an integer, got ${describe(v)}`);
  }
  if (n < min || n > max) throw fail(at, `${written} is out of range (${min}..${max}${unit ? ` ${unit}` : ''})`);
  return n;
}

const TRUE_WORDS = ['true', 'yes', 'on', '1'];
const FALSE_WORDS = ['false', 'no', 'off', '0'];

function parseBoolean(v: unknown, at: At): boolean {
  single(v, at);
  if (v === '') throw fail(at, 'empty value (remove the line to use the default)');
  if (typeof v === 'boolean') return v;
  if (v === 1 || v === 0) return v === 1;
  if (typeof v === 'string') {
    const w = v.toLowerCase();
    if (TRUE_WORDS.includes(w)) return true;
    if (FALSE_WORDS.includes(w)) return false;
  }
  throw fail(at, `${describe(v)} is not a boolean (true/false, yes/no, on/off, 1/0)`);
}

/** A single value as text; lists and objects are refused. Numbers and booleans are taken as written. */
function scalarText(v: unknown, at: At, what: string): string {
  if (typeof v === 'string') {
    if (v === '') throw fail(at, 'empty value (remove the line to use the default)');
    return v;
  }
  if (typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint') return String(v);
  single(v, at);
  throw fail(at, `expected ${what}, got ${describe(v)}`);
}

/** A repeatable key's values: absent → [], one value → [value], a list → its items. */
function listOf(v: unknown, at: At, allowObjects = false): unknown[] {
  if (v === undefined) return [];
  const items = Array.isArray(v) ? v : [v];
  for (const item of items) {
    const ok = typeof item === 'string' || (allowObjects && isPlainObject(item));
    if (!ok) throw fail(at, `expected ${allowObjects ? 'a string or { addr, mac }' : 'a string'} for each entry, got ${describe(item)}`);
  }
  return items;
}

/** Refuses an empty list entry; entries are checked one by one in file order, as the C reader does. */
function nonEmpty(item: unknown, at: At): unknown {
  if (item === '') throw fail(at, 'empty entry');
  return item;
}

function parseLcoreMask(v: unknown, at: At): bigint {
  let mask: bigint;
  if (typeof v === 'number') {
    if (!Number.isSafeInteger(v) || v < 0) throw fail(at, `${v} is not an lcore mask (a non-negative integer)`);
    mask = BigInt(v);
  } else if (typeof v === 'bigint') {
    mask = v;
  } else {
    const s = scalarText(v, at, 'an lcore mask');
    if (/^0[xX][0-9a-fA-F]+$/.test(s) || /^[0-9]+$/.test(s)) mask = BigInt(s);
    else throw fail(at, `${JSON.stringify(s)} is not an lcore mask (hex with 0x, e.g. 0x3, or a decimal integer)`);
  }
  const hex = `0x${mask.toString(16)}`;
  if (mask <= 0n) throw fail(at, `${hex} names no lcore (lcore 0 is required)`);
  if (mask >> BigInt(MAX_LCORE_ID + 1) !== 0n) {
    throw fail(at, `${hex} names lcore ${bitsOf(mask).at(-1)}; lcore ids go up to ${MAX_LCORE_ID}`);
  }
  if ((mask & 1n) === 0n) {
    throw fail(at, `${hex} does not include lcore 0 (lcore 0 is the JS thread that initialises the EAL; `
      + `use 0x${(mask | 1n).toString(16)})`);
  }
  const data = bitsOf(mask).length - 1;
  if (data > MAX_DATA_LCORES) {
    throw fail(at, `${hex} names ${data} data-path lcores (lcores other than 0); a stack runs at most ${MAX_DATA_LCORES}`);
  }
  return mask;
}

function bitsOf(mask: bigint): number[] {
  const ids: number[] = [];
  for (let i = 0; mask >> BigInt(i) !== 0n; i++) if ((mask >> BigInt(i)) & 1n) ids.push(i);
  return ids;
}

/**
 * Checks an EAL `--lcores` mapping: `<lcores>[@<cpus>][,...]`, each set a number, a range a-b, or a
 * parenthesised group of those. It must name exactly the lcores of lcore_mask.
 */
function parseLcoreMap(v: unknown, maskIds: number[], mask: bigint, at: At): string {
  const s = scalarText(v, at, 'an lcore mapping');
  const syntax = (why: string) => fail(at, `${JSON.stringify(s)} is not an EAL lcore mapping (${why}; e.g. 0@(0-1),1@(0-1))`);
  let i = 0;
  const num = (): number => {
    const m = /^[0-9]+/.exec(s.slice(i));
    if (!m) throw syntax(`expected a number at position ${i + 1}`);
    i += m[0].length;
    return Number(m[0]);
  };
  const element = (into: number[]): void => {
    const lo = num();
    let hi = lo;
    if (s[i] === '-') {
      i++;
      hi = num();
      if (hi < lo) throw syntax(`range ${lo}-${hi} runs backwards`);
    }
    for (let x = lo; x <= hi; x++) into.push(x);
  };
  const set = (): number[] => {
    const out: number[] = [];
    if (s[i] === '(') {
      i++;
      element(out);
      while (s[i] === ',') { i++; element(out); }
      if (s[i] !== ')') throw syntax(`expected ")" at position ${i + 1}`);
      i++;
    } else {
      element(out);
    }
    return out;
  };
  const mapped = new Set<number>();
  for (;;) {
    const lcores = set();
    let cpus = lcores;
    if (s[i] === '@') { i++; cpus = set(); }
    for (const id of lcores) {
      if (id > MAX_LCORE_ID) throw syntax(`lcore ${id} is above ${MAX_LCORE_ID}`);
      if (mapped.has(id)) throw syntax(`lcore ${id} is mapped twice`);
      mapped.add(id);
    }
    for (const cpu of cpus) if (cpu >= 1024) throw syntax(`CPU ${cpu} is above 1023`);
    if (i === s.length) break;
    if (s[i] !== ',') throw syntax(`unexpected ${JSON.stringify(s[i])} at position ${i + 1}`);
    i++;
  }
  const hex = `0x${mask.toString(16)}`;
  for (const id of maskIds) {
    if (!mapped.has(id)) throw fail(at, `${JSON.stringify(s)} does not map lcore ${id} of lcore_mask ${hex}`);
  }
  for (const id of [...mapped].sort((a, b) => a - b)) {
    if (!maskIds.includes(id)) throw fail(at, `${JSON.stringify(s)} maps lcore ${id}, which lcore_mask ${hex} does not include`);
  }
  return s;
}

function parseProcType(v: unknown, at: At): 'primary' | 'secondary' | 'auto' {
  const s = scalarText(v, at, 'a process type');
  if (s === 'primary' || s === 'secondary' || s === 'auto') return s;
  throw fail(at, `${JSON.stringify(s)} is not a process type (primary, secondary or auto)`);
}

function parseAbsolutePath(v: unknown, at: At): string {
  const s = scalarText(v, at, 'a path');
  if (!s.startsWith('/')) throw fail(at, `${JSON.stringify(s)} is not an absolute path`);
  return s;
}

/** `dedicated` or `inline`; inline, every lcore of the mask needs per-lcore state of its own. */
function parseLoopMode(v: unknown, maskIds: number[], mask: bigint, at: At): LoopMode {
  const s = scalarText(v, at, 'a loop mode');
  if (s !== 'dedicated' && s !== 'inline') throw fail(at, `${JSON.stringify(s)} is not a loop mode (dedicated or inline)`);
  if (s === 'inline' && maskIds.length > MAX_INLINE_LCORES) {
    throw fail(at, `inline turns every lcore of lcore_mask 0x${mask.toString(16)} on an application thread, `
      + `${maskIds.length} of them; a stack runs at most ${MAX_INLINE_LCORES} lcores`);
  }
  return s;
}

/** `both`, `kernel` or `stack` (posix/ff_config.c refuses the same values with the same words). */
function parseLocalhostPolicy(v: unknown, at: At): LocalhostPolicy {
  const s = scalarText(v, at, 'a localhost policy');
  if (s !== 'both' && s !== 'kernel' && s !== 'stack') throw fail(at, `${JSON.stringify(s)} is not a localhost policy (both, kernel or stack)`);
  return s;
}

function parseFilePrefix(v: unknown, at: At): string {
  const s = scalarText(v, at, 'a file prefix');
  if (!/^[A-Za-z0-9_-]{1,64}$/.test(s)) {
    throw fail(at, `${JSON.stringify(s)} is not a valid file prefix (1..64 characters from A-Z a-z 0-9 _ -)`);
  }
  return s;
}

function parseVdev(v: unknown, at: At): string {
  const s = nonEmpty(v, at) as string;
  if (!/^[A-Za-z][A-Za-z0-9_]*(,[^\s,][^\s]*)?$/.test(s)) {
    throw fail(at, `${JSON.stringify(s)} is not a device specification (expected <driver><id>[,key=value...], e.g. net_tap0,iface=ff0)`);
  }
  return s;
}

function parsePci(v: unknown, at: At): string {
  const s = nonEmpty(v, at) as string;
  if (!/^([0-9a-fA-F]{1,8}:)?[0-9a-fA-F]{1,2}:[0-9a-fA-F]{1,2}\.[0-7](,\S+)?$/.test(s)) {
    throw fail(at, `${JSON.stringify(s)} is not a PCI address ([domain:]bus:devid.func[,args], e.g. 0000:01:00.0)`);
  }
  return s;
}

/** DPDK's level names by number (1 = emergency .. 8 = debug); the EAL accepts any prefix of them. */
const LOG_LEVELS = ['emergency', 'alert', 'critical', 'error', 'warning', 'notice', 'info', 'debug'] as const;
const LOG_ALIASES: Record<string, string> = { emerg: 'emergency', crit: 'critical', err: 'error', warn: 'warning' };

function parseLogLevel(v: unknown, at: At): string {
  const written = scalarText(v, at, 'a log level');
  const s = written.toLowerCase();
  if (/^[1-8]$/.test(s)) return LOG_LEVELS[Number(s) - 1]!;
  if ((LOG_LEVELS as readonly string[]).includes(s)) return s;
  const alias = LOG_ALIASES[s];
  if (alias) return alias;
  throw fail(at, `${JSON.stringify(written)} is not a log level (emerg, alert, crit, err, warning, notice, info, debug, or 1..8)`);
}

/** `none`, `stderr`, `syslog` or `file:PATH` (a relative path is taken from the working directory). */
function parseLogSink(v: unknown, at: At): string {
  const s = scalarText(v, at, 'a log sink');
  if (s === 'none' || s === 'stderr' || s === 'syslog' || (s.startsWith('file:') && s.length > 'file:'.length)) return s;
  throw fail(at, `${JSON.stringify(s)} is not a log sink (none, stderr, syslog or file:PATH)`);
}

/** EAL options that have a key of their own: setting them twice would contradict that key. */
const OWNED_OPTIONS: Array<[option: string, key: string]> = [
  ['-c', 'lcore_mask'], ['-l', 'lcore_mask'], ['--lcores', 'lcores'], ['--main-lcore', 'lcore_mask'],
  ['--master-lcore', 'lcore_mask'], ['-m', 'memory'], ['--no-huge', 'no_huge'], ['--file-prefix', 'file_prefix'],
  ['--vdev', 'vdev'], ['-a', 'allow'], ['--allow', 'allow'], ['--no-pci', 'allow'], ['--proc-type', 'proc_type'],
  ['--huge-dir', 'huge_dir'], ['--base-virtaddr', 'proc_type'],
];

/** EAL options that print usage or version text (and may end the process) rather than start. */
const PRINTING_OPTIONS = ['-h', '--help', '-v', '--version'];

function parseEalArgs(v: unknown, at: At): string[] {
  let args: string[];
  if (Array.isArray(v)) {
    args = v.map((a) => {
      if (typeof a !== 'string' || a === '') throw fail(at, `expected a non-empty string for each argument, got ${describe(a)}`);
      return a;
    });
  } else {
    args = scalarText(v, at, 'EAL arguments').split(/\s+/).filter((a) => a !== '');
  }
  for (const a of args) {
    // eal_parse_args prints its usage and calls exit(0) for -h/--help; -v prints the version at
    // CRIT level; --version is not an EAL option. None starts a stack.
    if (PRINTING_OPTIONS.includes(a)) throw fail(at, `${JSON.stringify(a)} makes the EAL print instead of starting (usage or version text); remove it`);
    for (const [opt, key] of OWNED_OPTIONS) {
      const clash = opt.startsWith('--') ? a === opt || a.startsWith(`${opt}=`) : a === opt || (a.startsWith(opt) && !a.startsWith('--'));
      if (clash) throw fail(at, `${JSON.stringify(a)} is set from the ${key} key; set it there instead`);
    }
  }
  return args;
}

/** How a static neighbour key (arp, ndp) writes its entries and reads their address. */
interface NeighbourEntryForm<A> {
  /** The entry's form with an example, for messages. */
  form: string;
  /** The address, or undefined when the text is not one. */
  parse: (text: string) => A | undefined;
  /** What the address must be, for messages. */
  what: string;
}

const ARP_ENTRY: NeighbourEntryForm<number> = {
  form: '"IP MAC", e.g. "10.77.0.9 02:00:00:00:00:09"', parse: ipv4Value, what: 'an IPv4 address',
};
const NDP_ENTRY: NeighbourEntryForm<Uint8Array> = {
  form: '"ADDR MAC", e.g. "fe80::9 02:00:00:00:00:09"', parse: ipv6Value, what: 'an IPv6 address',
};

/** The error of entry `entry` of static neighbour key `key`: `entry "<as written>": <detail>`. */
function entryError(ctx: Ctx, section: string, key: string, entry: unknown): (detail: string) => FfnetConfigError {
  const o = entry as { addr?: unknown; mac?: unknown };
  const what = typeof entry === 'string' ? entry : `${String(o.addr)} ${String(o.mac)}`;
  return (detail) => new FfnetConfigError(ctx.file, section, key, `entry ${JSON.stringify(what)}: ${detail}`);
}

/** One static neighbour entry, "ADDR MAC" or { addr, mac }; `bad` prefixes the entry to a problem. */
function parseNeighbourEntry<A>(v: unknown, bad: (detail: string) => FfnetConfigError, f: NeighbourEntryForm<A>): { addr: A; mac: string } {
  let addrText: unknown;
  let macText: unknown;
  if (typeof v === 'string') {
    const parts = v.trim().split(/\s+/);
    if (parts.length !== 2) throw bad(`expected ${f.form}`);
    [addrText, macText] = parts;
  } else {
    const o = v as Record<string, unknown>;
    const extra = Object.keys(o).filter((k) => k !== 'addr' && k !== 'mac');
    if (extra.length > 0) throw bad(`unknown field "${extra[0]}" (expected { addr, mac })`);
    addrText = o.addr;
    macText = o.mac;
  }
  const addr = typeof addrText === 'string' ? f.parse(addrText) : undefined;
  if (addr === undefined) throw bad(`${describe(addrText)} is not ${f.what}`);
  if (typeof macText !== 'string' || !/^[0-9a-fA-F]{2}(:[0-9a-fA-F]{2}){5}$/.test(macText)) {
    throw bad(`${describe(macText)} is not a MAC address (aa:bb:cc:dd:ee:ff)`);
  }
  const mac = macText.toLowerCase();
  if (parseInt(mac.slice(0, 2), 16) & 1) throw bad(`${mac} is not a unicast MAC address`);
  if (mac === '00:00:00:00:00:00') throw bad(`${mac} is not a usable MAC address`);
  return { addr, mac };
}

/** A dotted quad as an unsigned 32-bit number; leading zeros are refused (they read as octal elsewhere). */
function parseIpv4(v: unknown, at: At): number {
  const s = scalarText(v, at, 'an IPv4 address');
  const a = ipv4Value(s);
  if (a === undefined) throw fail(at, `${JSON.stringify(s)} is not an IPv4 address`);
  return a;
}

function ipv4Value(s: string): number | undefined {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(s);
  if (!m) return undefined;
  const bytes = m.slice(1).map((p) => (p.length > 1 && p.startsWith('0') ? 256 : Number(p)));
  if (bytes.some((b) => b > 255)) return undefined;
  return bytes.reduce((acc, b) => ((acc << 8) | b) >>> 0, 0);
}

function parseNetmask(v: unknown, at: At): number {
  const s = scalarText(v, at, 'a netmask');
  const mask = ipv4Value(s);
  if (mask === undefined) throw fail(at, `${JSON.stringify(s)} is not a netmask (expected a dotted mask such as 255.255.255.0)`);
  const inverted = ~mask >>> 0;
  if ((inverted & (inverted + 1)) !== 0) throw fail(at, `${s} is not a contiguous netmask`);
  if (mask === 0) throw fail(at, `${s} leaves no network part (prefix length 0)`);
  return mask;
}

function prefixOf(mask: number): number {
  let n = 0;
  for (let m = mask >>> 0; m & 0x80000000; m = (m << 1) >>> 0) n++;
  return n;
}

/** Why an address cannot be a port's own address, or '' when it can. */
function specialAddress(a: number): string {
  const first = a >>> 24;
  if (a === 0) return 'unspecified';
  if (first === 0) return 'in 0.0.0.0/8, "this network"';
  if (first === 127) return 'loopback';
  if (first >= 224 && first <= 239) return 'multicast';
  if (a === 0xffffffff) return 'limited broadcast';
  if (first >= 240) return 'reserved';
  return '';
}

function formatIpv4(a: number): string {
  return `${a >>> 24}.${(a >>> 16) & 255}.${(a >>> 8) & 255}.${a & 255}`;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return false;
  const proto = Object.getPrototypeOf(v) as unknown;
  return proto === Object.prototype || proto === null;
}

function describe(v: unknown): string {
  if (typeof v === 'string') return JSON.stringify(v);
  if (Array.isArray(v)) return `a list of ${v.length}`;
  if (v === null) return 'null';
  if (v === undefined) return 'nothing';
  if (typeof v === 'object') return 'an object';
  return String(v);
}

// ---------------------------------------------------------------------------------------------
// INI-specific checks

/** Evens out an `ini` quirk: the word null becomes null (in a file it is just text; null means "unset" in objects). */
function normaliseIniValues(v: unknown): unknown {
  if (v === null) return 'null';
  if (Array.isArray(v)) return v.map(normaliseIniValues);
  if (typeof v === 'object') {
    const o = v as Record<string, unknown>;
    for (const k of Object.keys(o)) o[k] = normaliseIniValues(o[k]);
  }
  return v;
}

/** A section ffnet does not define; a [portN] whose N is not a port id says so. */
function unknownSection(file: string, name: string): FfnetConfigError {
  const m = /^port(\d+)$/.exec(name);
  if (m) {
    return new FfnetConfigError(file, name, undefined,
      `${m[1]} is not a DPDK port id (expected [port0]..[port${MAX_PORT_ID}], without leading zeros)`,
      `${file}: unknown section [${name}]: ${m[1]} is not a DPDK port id (expected [port0]..[port${MAX_PORT_ID}], without leading zeros)`);
  }
  return FfnetConfigError.unknownSection(file, name, KNOWN_SECTIONS);
}

function unknownSysctl(file: string, name: string): FfnetConfigError {
  const detail = `unknown sysctl "${name}" in [sysctl] (known: ${SYSCTLS.map((x) => x.name).join(', ')})`;
  return new FfnetConfigError(file, 'sysctl', name, detail, `${file}: ${detail}`);
}

/** rte_cfgfile's limits (rte_cfgfile.h CFG_NAME_LEN and CFG_VALUE_LEN), which the C reader shares. */
const CFG_NAME_LEN = 64;
const CFG_VALUE_LEN = 256;
/** C's isspace: what both readers trim from the ends of lines, keys and values. */
const trimC = (s: string) => s.replace(/^[ \t\n\v\f\r]+|[ \t\n\v\f\r]+$/g, '');
const bytes = (s: string) => Buffer.byteLength(s, 'utf8');

/**
 * Reads the file's structure from top to bottom, as the C reader (posix/ff_config.c) does, and
 * refuses the first problem in file order: a line that is too long, not a section header or without
 * "=", an unknown section, a key outside any section, an unknown key, a key given twice. Values are
 * checked afterwards, by validate. A line ends at its first ";" (rte_cfgfile's comment character), but for
 * vip_addr, whose ";" separates addresses as in F-Stack.
 * Returns the file rewritten for `ini`: each header alone, each value quoted, so that `ini` keeps
 * exactly the text the C reader keeps (a lone "\r" or "#" in a value included).
 */
function checkStructure(text: string, file: string): string {
  const out: string[] = [];
  const seen = new Set<string>();
  let section: string | undefined;
  const lines = text.split('\n');
  for (const [n, raw] of lines.entries()) {
    const no = n + 1;
    const tooLong = () => new FfnetConfigError(file, undefined, undefined,
      `line ${no} is too long (keys up to ${CFG_NAME_LEN - 2} and values up to ${CFG_VALUE_LEN - 2} characters)`);
    if (bytes(raw) + (n < lines.length - 1 ? 1 : 0) >= CFG_NAME_LEN + CFG_VALUE_LEN + 2) throw tooLong();
    let s = trimC(raw);
    if (s === '' || s.startsWith(';') || s.startsWith('#')) continue;
    const whole = s;
    s = trimC(s.split(';', 1)[0]!);
    const eq = s.indexOf('=');
    if (s.startsWith('[')) {
      const close = s.indexOf(']');
      // A header may be followed by a "#" comment too.
      if (close >= 0 && trimC(s.slice(close + 1)).startsWith('#')) s = s.slice(0, close + 1);
      if (!s.endsWith(']') || s.indexOf(']') !== s.length - 1 || bytes(s) >= CFG_NAME_LEN) {
        throw new FfnetConfigError(file, undefined, undefined, `line ${no}: ${s} is not a section header`);
      }
      section = trimC(s.slice(1, -1));
      if (section !== 'dpdk' && section !== 'sysctl' && !(PORT_SECTION.test(section) && Number(section.slice(4)) <= MAX_PORT_ID)) {
        throw unknownSection(file, section);
      }
      out.push(`[${section}]`);
      continue;
    }
    if (eq < 0) throw new FfnetConfigError(file, section, undefined, `line ${no}: "${s}" has no value (write "key = value")`,
      `${file}: line ${no}: "${s}" has no value (write "key = value")`);
    const key = trimC(s.slice(0, eq));
    // vip_addr's ";" separates addresses (F-Stack's form): its value runs to the end of the line.
    const value = key === 'vip_addr' || key === 'vip_addr[]' ? whole.slice(eq + 1) : s.slice(eq + 1);
    if (bytes(s.slice(0, eq)) >= CFG_NAME_LEN - 1 || bytes(value) >= CFG_VALUE_LEN - 1) throw tooLong();
    if (section === undefined) {
      throw new FfnetConfigError(file, undefined, key,
        `key "${key}" is outside any section (put it under [dpdk], [portN] or [sysctl])`,
        `${file}: key "${key}" is outside any section (put it under [dpdk], [portN] or [sysctl])`);
    }
    const list = key.length > 2 && key.endsWith('[]');
    const base = list ? key.slice(0, -2) : key;
    if (section === 'sysctl') {
      if (!lookupSysctl(base)) throw unknownSysctl(file, base);
    } else {
      const specs = SECTION_KEYS[section === 'dpdk' ? 'dpdk' : 'portN'];
      if (!specs.some((k) => k.key === base)) throw FfnetConfigError.unknownKey(file, section, base, specs.map((k) => k.key));
    }
    if (!list) {
      if (seen.has(`${section}\n${key}`)) {
        const hint = CONFIG_KEYS.some((k) => k.repeatable && k.key === key)
          ? ` (write "${key}[] = ..." once per value)`
          : ' (a key may be given once)';
        throw new FfnetConfigError(file, section, key, `set more than once${hint}`);
      }
      seen.add(`${section}\n${key}`);
    }
    out.push(`${key}=${JSON.stringify(iniValue(trimC(value)))}`);
  }
  return out.join('\n');
}

/** A value as the C reader keeps it: a quoted value without its quotes (and a "#" comment after them), else cut at "#". */
function iniValue(v: string): string {
  const q = v[0];
  if (q === '"' || q === "'") {
    const close = v.indexOf(q, 1);
    if (close > 0 && trimC(v.slice(close + 1)).startsWith('#')) return v.slice(1, close);
    if (v.length >= 2 && v.endsWith(q)) return v.slice(1, -1);
  }
  return trimC(v.split('#', 1)[0]!);
}
