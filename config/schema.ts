/**
 * Every key of ffnet.ini as data: section, type, default, range, unit and a one-line meaning.
 *
 * Validation (config/index.ts) takes the known keys, defaults and ranges from this table, and
 * `describeConfigKeys()` turns the same table (plus the sysctl table) into rows for documentation
 * and tools, so the two cannot drift apart. Rules that relate keys to each other (an address inside
 * its subnet, a gateway that is not the broadcast address, ...) live in the validator.
 */
import { SYSCTLS } from './sysctl.js';

/** How a value is read and checked; each kind has one parser in the validator. */
export type ConfigValueKind =
  | 'integer'
  | 'boolean'
  | 'lcore-mask'
  | 'lcore-map'
  | 'loop-mode'
  | 'localhost-policy'
  | 'file-prefix'
  | 'vdev'
  | 'pci'
  | 'log-level'
  | 'eal-args'
  | 'log-sink'
  | 'proc-type'
  | 'path'
  | 'ipv4'
  | 'netmask'
  | 'static-arp'
  | 'static-route'
  | 'static-ndp'
  | 'ipv6'
  | 'ipv6-prefix'
  | 'exception-kind'
  | 'iface-name'
  | 'port-ranges'
  | 'vip-list';

/** The sections a key can belong to; 'portN' stands for every `[port0]` .. `[port31]`. */
export type ConfigSectionKind = 'dpdk' | 'portN';

/** One key of ffnet.ini. */
export interface ConfigKeySpec {
  readonly section: ConfigSectionKind;
  /** Key as written in the file (a repeatable key is written `key[] = value`, once per value). */
  readonly key: string;
  readonly kind: ConfigValueKind;
  /** The value's form as documentation shows it. */
  readonly type: string;
  /** The key may be given several times (`key[] = ...` lines in INI, an array in objects). */
  readonly repeatable: boolean;
  /** The section is invalid without it. */
  readonly required: boolean;
  /** The value used when the key is absent, where it is a constant. */
  readonly default?: number | boolean | string;
  /** The default as documentation shows it (also for derived or per-process defaults). */
  readonly defaultText: string;
  /** Inclusive range of an integer key. */
  readonly min?: number;
  readonly max?: number;
  readonly unit?: string;
  /** One line: what the key controls. */
  readonly description: string;
}

/** Highest DPDK port id a `[portN]` section may name (RTE_MAX_ETHPORTS is 32 in Debian's DPDK). */
export const MAX_PORT_ID = 31;
/** Most `[portN]` sections one stack serves (FFS_MAX_PORTS in stack/stack.h). */
export const MAX_PORTS = 8;
/** Highest lcore id (RTE_MAX_LCORE is 128 in Debian's DPDK). */
export const MAX_LCORE_ID = 127;
/** Most data-path lcores (lcores other than 0) one stack runs (FFS_MAX_LCORES in stack/stack.h). */
export const MAX_DATA_LCORES = 32;
/** Most lcores one stack has state for (FFS_MAX_LCORES): with `loop = inline`, lcore 0 included. */
export const MAX_INLINE_LCORES = 32;
/** Most virtual devices one stack takes (struct ffs_conf's vdevs in stack/stack.h). */
export const MAX_VDEVS = 16;
/** Most static neighbour entries of one port (FFS_MAX_STATIC_ARP in stack/stack.h). */
export const MAX_STATIC_ARP = 64;
/** Most static IPv6 neighbour entries of one port (FFS_MAX_STATIC_NDP in stack/stack.h): as many as ARP's. */
export const MAX_STATIC_NDP = MAX_STATIC_ARP;
/** Most static routes of one port (`route[]`, FFS_MAX_CONF_ROUTES in stack/stack.h). */
export const MAX_CONF_ROUTES = 16;
/** Most static routes of all ports together (FFS_MAX_CONF_ROUTES_TOTAL). */
export const MAX_CONF_ROUTES_TOTAL = 32;
/**
 * Most `addr6[]` entries of one port (FFS_MAX_CONF_ADDR6 in stack/stack.h): the port's table holds
 * FFS_MAX_ADDR6 = 8, one of them its link-local address, the rest for addresses SLAAC forms.
 */
export const MAX_ADDR6 = 4;
/** Most `vip_addr` addresses of one port besides its `addr` (FFS_MAX_VIP in stack/stack.h). */
export const MAX_VIP = 16;

/** Every key of `[dpdk]` and `[portN]`, in documentation order. */
export const CONFIG_KEYS: readonly ConfigKeySpec[] = Object.freeze([
  {
    section: 'dpdk', key: 'lcore_mask', kind: 'lcore-mask', type: 'hex (0x…) or decimal integer',
    repeatable: false, required: false, default: '0x1', defaultText: '0x1',
    description: 'lcores to use; must include lcore 0 (the JS thread, which initialises the EAL). '
      + 'With loop = dedicated every other lcore runs the stack loop on its own pinned thread; 0x1 alone runs the stack inline on the JS thread.',
  },
  {
    section: 'dpdk', key: 'lcores', kind: 'lcore-map', type: 'EAL --lcores mapping',
    repeatable: false, required: false, defaultText: 'derived from lcore_mask',
    description: 'Raw EAL lcore-to-CPU mapping, e.g. 0@(0-1),1@(0-1) to oversubscribe CPUs in tests; '
      + 'it must name exactly the lcores of lcore_mask, and replaces the derived mapping.',
  },
  {
    section: 'dpdk', key: 'loop', kind: 'loop-mode', type: 'dedicated|inline',
    repeatable: false, required: false, default: 'dedicated', defaultText: 'dedicated',
    description: 'Who turns the stack loop of each lcore: dedicated = lcore 0 the JS thread, every other lcore its own '
      + 'pinned data-path thread; inline = application threads, no data-path threads (lcore k of the mask is turned by '
      + 'JS thread k: the main thread 0, worker_threads in the order they attach or by their lcore option). '
      + 'With lcore_mask 0x1 both run the stack inline on the JS thread.',
  },
  {
    section: 'dpdk', key: 'localhost', kind: 'localhost-policy', type: 'both|kernel|stack',
    repeatable: false, required: false, default: 'both', defaultText: 'both',
    description: 'Where ffnet/dgram sockets reach 127.0.0.0/8 and ::1: both = a loopback destination a stack socket '
      + 'holds goes over the stack\'s loopback, any other to the kernel, and sockets bound to a wildcard or loopback '
      + 'address also hear local kernel processes; kernel = every loopback datagram through the kernel; stack = the '
      + 'stack\'s own loopback only. C programs on ff_* always have the stack\'s own loopback.',
  },
  {
    section: 'dpdk', key: 'memory', kind: 'integer', type: 'integer',
    repeatable: false, required: false, default: 256, defaultText: '256', min: 64, max: 1048576, unit: 'MB',
    description: 'Memory the EAL reserves at start (EAL -m); the packet pool comes out of it.',
  },
  {
    section: 'dpdk', key: 'no_huge', kind: 'boolean', type: 'boolean',
    repeatable: false, required: false, default: true, defaultText: 'true',
    description: 'Use anonymous memory instead of hugepages (EAL --no-huge).',
  },
  {
    section: 'dpdk', key: 'huge_dir', kind: 'path', type: 'absolute path',
    repeatable: false, required: false, defaultText: 'the EAL\'s choice (a mounted hugetlbfs)',
    description: 'hugetlbfs mount the EAL takes its pages from (EAL --huge-dir); with no_huge = false.',
  },
  {
    section: 'dpdk', key: 'proc_type', kind: 'proc-type', type: 'primary|secondary|auto',
    repeatable: false, required: false, default: 'primary', defaultText: 'primary',
    description: 'Multi-process (F-Stack\'s process per core): the primary owns the ports and the packet pool; '
      + 'each secondary (a cluster worker) serves one queue of every port. auto: secondary in a Node cluster worker '
      + '(C: when a primary runs), else primary. Needs hugepages and lcore_mask 0x1.',
  },
  {
    section: 'dpdk', key: 'nb_procs', kind: 'integer', type: 'integer',
    repeatable: false, required: false, default: 0, defaultText: '0', min: 0, max: 16, unit: 'processes',
    description: 'Primary: worker processes to configure every port for, one RX/TX queue pair each; the primary '
      + 'serves the queues no live worker has claimed. 0 = a single-process stack.',
  },
  {
    section: 'dpdk', key: 'proc_id', kind: 'integer', type: 'integer',
    repeatable: false, required: false, defaultText: 'the first free queue (a Node cluster worker)', min: 1, max: 16,
    description: 'Secondary: serve queue proc_id - 1 of every port, on EAL lcore proc_id. Unset: the first queue no '
      + 'live worker owns.',
  },
  {
    section: 'dpdk', key: 'file_prefix', kind: 'file-prefix', type: 'string [A-Za-z0-9_-], 1..64 chars',
    repeatable: false, required: false, defaultText: 'ffnet-<pid>',
    description: 'EAL runtime file prefix (EAL --file-prefix); must differ between processes running at the same time.',
  },
  {
    section: 'dpdk', key: 'vdev', kind: 'vdev', type: 'device string',
    repeatable: true, required: false, defaultText: 'none',
    description: 'Virtual device to create, e.g. net_tap0,iface=ff0 (EAL --vdev); one line per device.',
  },
  {
    section: 'dpdk', key: 'allow', kind: 'pci', type: 'PCI address [domain:]bus:devid.func[,args]',
    repeatable: true, required: false, defaultText: 'none (PCI bus disabled, --no-pci)',
    description: 'PCI device to probe (EAL -a); one line per device. With none, the PCI bus is not scanned.',
  },
  {
    section: 'dpdk', key: 'idle_sleep', kind: 'integer', type: 'integer',
    repeatable: false, required: false, default: 100, defaultText: '100', min: 0, max: 100000, unit: 'µs',
    description: 'How long an idle data-path lcore sleeps between polls (0 = busy poll).',
  },
  {
    section: 'dpdk', key: 'pkt_tx_delay', kind: 'integer', type: 'integer',
    repeatable: false, required: false, default: 100, defaultText: '100', min: 0, max: 10000, unit: 'µs',
    description: 'How long a partial TX burst may wait for more packets before it is sent.',
  },
  {
    section: 'dpdk', key: 'log_level', kind: 'log-level', type: 'emerg|alert|crit|err|warning|notice|info|debug or 1..8',
    repeatable: false, required: false, default: 'notice', defaultText: 'notice',
    description: 'DPDK global log level (EAL --log-level).',
  },
  {
    section: 'dpdk', key: 'log', kind: 'log-sink', type: 'none|stderr|syslog|file:PATH',
    repeatable: false, required: false, default: 'none', defaultText: 'none',
    description: 'Where DPDK\'s log lines (those at or above log_level) go; the last ones are kept in memory either way '
      + 'and quoted in a start error.',
  },
  {
    section: 'dpdk', key: 'nb_mbuf', kind: 'integer', type: 'integer',
    repeatable: false, required: false, default: 8191, defaultText: '8191', min: 1023, max: 16777215, unit: 'mbufs',
    description: 'Size of the packet buffer pool (about 2.3 KB each, taken from memory).',
  },
  {
    section: 'dpdk', key: 'extra_args', kind: 'eal-args', type: 'whitespace-separated EAL arguments',
    repeatable: false, required: false, defaultText: 'none',
    description: 'Further EAL arguments, appended last (options with a key of their own, -h/--help, -v/--version are refused here).',
  },
  {
    section: 'portN', key: 'addr', kind: 'ipv4', type: 'IPv4 address',
    repeatable: false, required: true, defaultText: '(required)',
    description: 'The port\'s IPv4 address.',
  },
  {
    section: 'portN', key: 'netmask', kind: 'netmask', type: 'IPv4 netmask',
    repeatable: false, required: true, defaultText: '(required)',
    description: 'The subnet mask, dotted (e.g. 255.255.255.0); must be contiguous.',
  },
  {
    section: 'portN', key: 'broadcast', kind: 'ipv4', type: 'IPv4 address',
    repeatable: false, required: false, defaultText: 'addr | ~netmask',
    description: 'Subnet broadcast address; must be inside the subnet.',
  },
  {
    section: 'portN', key: 'gateway', kind: 'ipv4', type: 'IPv4 address',
    repeatable: false, required: false, defaultText: 'none',
    description: 'Next hop for destinations outside every port\'s subnet (the default route, metric 0); must be inside this port\'s subnet.',
  },
  {
    section: 'portN', key: 'route', kind: 'static-route', type: '"NET/LEN via GW [src ADDR] [metric N]"',
    repeatable: true, required: false, defaultText: 'none',
    description: 'A static route, as `ip route add` takes it: route[] = 10.99.0.0/16 via 10.77.0.1 (or default via GW). GW must '
      + 'be inside one of this port\'s subnets (addr\'s or a vip_addr\'s); src (one of the stack\'s addresses) is the source unbound sockets use through it; '
      + 'metric (0..4294967295, default 0): among routes to one prefix the lowest wins. At most 16 per port, 32 in all.',
  },
  {
    section: 'portN', key: 'vip_addr', kind: 'vip-list', type: 'ADDR[/PREFIXLEN];...',
    repeatable: false, required: false, defaultText: 'none',
    description: 'Further IPv4 addresses of the port (F-Stack\'s key), separated by ";" (here not a comment), e.g. '
      + 'vip_addr = 10.77.0.3;10.78.0.3/24; without /PREFIXLEN an address takes the port\'s netmask. At most 16. Each '
      + 'answers ARP, ping and UDP, and its subnet is a connected route.',
  },
  {
    section: 'portN', key: 'mtu', kind: 'integer', type: 'integer',
    repeatable: false, required: false, default: 1500, defaultText: '1500', min: 68, max: 9000, unit: 'bytes',
    description: 'IP MTU of the port; larger datagrams are fragmented. Above 2034 (jumbo frames) the device must take the MTU and receive into chained mbufs (RX scatter).',
  },
  {
    section: 'portN', key: 'vlan_id', kind: 'integer', type: 'integer',
    repeatable: false, required: false, defaultText: 'none (untagged)', min: 1, max: 4094, unit: '',
    description: 'IEEE 802.1Q VLAN of the port: every frame it sends carries this VID, and it receives only frames '
      + 'tagged with it (others are dropped and counted as eth_vlan_mismatch). Absent: untagged frames only.',
  },
  {
    section: 'portN', key: 'arp', kind: 'static-arp', type: '"IP MAC"',
    repeatable: true, required: false, defaultText: 'none',
    description: 'Permanent neighbour entry, e.g. arp[] = 10.77.0.9 02:00:00:00:00:09 (IP in the subnet, unicast MAC).',
  },
  {
    section: 'portN', key: 'addr6', kind: 'ipv6-prefix', type: 'IPv6 ADDR/PREFIXLEN',
    repeatable: true, required: false, defaultText: 'none (the link-local address alone, and what router advertisements give)',
    description: 'A global or unique-local IPv6 address with its prefix length, e.g. addr6[] = 2001:db8::2/64; one line per '
      + 'address, at most 4. Not link-local: every port derives its own from its MAC (EUI-64).',
  },
  {
    section: 'portN', key: 'gateway6', kind: 'ipv6', type: 'IPv6 address',
    repeatable: false, required: false, defaultText: 'none (learned from router advertisements)',
    description: 'IPv6 default router: a link-local address (on this port) or one on a prefix of addr6. Without it the port '
      + 'solicits router advertisements at start.',
  },
  {
    section: 'portN', key: 'ipv6', kind: 'boolean', type: 'boolean',
    repeatable: false, required: false, default: true, defaultText: 'true',
    description: 'IPv6 on the port: link-local address, Neighbor Discovery, router advertisements. Off (0): none of them, '
      + 'and addr6/gateway6/ndp may not be set.',
  },
  {
    section: 'portN', key: 'ndp', kind: 'static-ndp', type: '"ADDR MAC"',
    repeatable: true, required: false, defaultText: 'none',
    description: 'Permanent IPv6 neighbour entry, e.g. ndp[] = fe80::9 02:00:00:00:00:09 (ADDR link-local or on a prefix of '
      + 'addr6, unicast MAC).',
  },
  {
    section: 'portN', key: 'exception', kind: 'exception-kind', type: 'none | tap | virtio-user',
    repeatable: false, required: false, default: 'none', defaultText: 'none',
    description: 'The exception path: a kernel interface that gets the traffic the stack does not consume (TCP, other '
      + 'protocols, chosen UDP, copies of ARP/ND) and whose frames go out the port (F-Stack\'s [kni] enable/method). '
      + 'tap: a net_tap device; virtio-user: virtio_user over /dev/vhost-net. See docs/deploy.md.',
  },
  {
    section: 'portN', key: 'exception_iface', kind: 'iface-name', type: 'interface name',
    repeatable: false, required: false, defaultText: 'ffxN (N = the port id)',
    description: 'Name of the exception path\'s kernel interface (at most 15 characters); it carries the port\'s MAC, MTU '
      + 'and addresses.',
  },
  {
    section: 'portN', key: 'exception_tcp_port', kind: 'port-ranges', type: 'PORT,LO-HI,...',
    repeatable: false, required: false, defaultText: 'every TCP port',
    description: 'TCP destination ports handed to the kernel, e.g. 22,80,8000-8100 (F-Stack\'s [kni] tcp_port with '
      + 'method=accept); other TCP is dropped and counted. Empty: all TCP.',
  },
  {
    section: 'portN', key: 'exception_udp_port', kind: 'port-ranges', type: 'PORT,LO-HI,...',
    repeatable: false, required: false, defaultText: 'none',
    description: 'UDP destination ports handed to the kernel instead of the stack, e.g. 53,68 (F-Stack\'s [kni] udp_port).',
  },
  {
    section: 'portN', key: 'exception_udp_unbound', kind: 'boolean', type: 'boolean',
    repeatable: false, required: false, default: true, defaultText: 'true',
    description: 'UDP to a port no stack socket holds goes to the kernel instead of drawing an ICMP port unreachable.',
  },
  {
    section: 'portN', key: 'exception_queue', kind: 'integer', type: 'integer',
    repeatable: false, required: false, default: 1024, defaultText: '1024', min: 8, max: 65536, unit: 'frames',
    description: 'Bound of the queue toward the kernel; frames beyond it are dropped and counted (exception.dropped_full).',
  },
].map((k) => Object.freeze(k as ConfigKeySpec)));

/** The keys of one kind of section, in documentation order. */
export function keysOf(section: ConfigSectionKind): readonly ConfigKeySpec[] {
  return CONFIG_KEYS.filter((k) => k.section === section);
}

/** Section names as error messages and documentation list them. */
export const KNOWN_SECTIONS: readonly string[] = Object.freeze(['[dpdk]', `[port0]..[port${MAX_PORT_ID}]`, '[sysctl]']);

/** One documented key, flattened for tables and `--help` output. */
export interface ConfigKeyDoc {
  /** '[dpdk]', '[portN]' or '[sysctl]'. */
  section: string;
  /** Key as written in the file: repeatable keys carry their `[]` (e.g. 'vdev[]'). */
  key: string;
  type: string;
  /** Default as text, or '(required)'. */
  default: string;
  /** Inclusive range with unit, e.g. '68..9000 bytes', or '' when the key has none. */
  range: string;
  required: boolean;
  repeatable: boolean;
  description: string;
}

/** Every key of ffnet.ini, sysctl tunables included, as documentation rows. */
export function describeConfigKeys(): ConfigKeyDoc[] {
  const rows: ConfigKeyDoc[] = CONFIG_KEYS.map((k) => ({
    section: k.section === 'dpdk' ? '[dpdk]' : '[portN]',
    key: k.repeatable ? `${k.key}[]` : k.key,
    type: k.type,
    default: k.defaultText,
    range: k.min !== undefined && k.max !== undefined ? `${k.min}..${k.max}${k.unit ? ` ${k.unit}` : ''}` : '',
    required: k.required,
    repeatable: k.repeatable,
    description: k.description,
  }));
  for (const s of SYSCTLS) {
    rows.push({
      section: '[sysctl]',
      key: s.name,
      type: 'integer',
      default: String(s.default),
      range: `${s.min}..${s.max}${s.unit ? ` ${s.unit}` : ''}`,
      required: false,
      repeatable: false,
      description: s.description,
    });
  }
  return rows;
}
