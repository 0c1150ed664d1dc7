/**
 * The stack's tunables, FreeBSD-style names, as one table.
 *
 * The `[sysctl]` section of ffnet.ini may set any of these; every other name is an error. The stack
 * receives the complete set (defaults filled in) at start, and `ffnet sysctl` reads and writes the
 * same names at run time, so this table is the contract between configuration, tools and the native
 * stack: a name here must be known to the stack under exactly this spelling. All values are integers.
 */

/** One tunable: its name, default, inclusive range, unit and what it controls. */
export interface SysctlSpec {
  /** FreeBSD-style dotted name, e.g. 'net.inet.ip.ttl'. */
  readonly name: string;
  readonly default: number;
  readonly min: number;
  readonly max: number;
  /** Unit of the value ('s', 'ms', 'packets', ...), or '' for a plain count. */
  readonly unit: string;
  /** One line: what the value controls. */
  readonly description: string;
}

/** Every tunable the stack knows, in documentation order. */
export const SYSCTLS: readonly SysctlSpec[] = Object.freeze([
  {
    name: 'net.link.ether.inet.max_age',
    default: 1200, min: 1, max: 86400, unit: 's',
    description: 'Lifetime of a resolved ARP entry before it must be confirmed again.',
  },
  {
    name: 'net.link.ether.inet.maxtries',
    default: 5, min: 1, max: 100, unit: 'requests',
    description: 'ARP requests sent for an unresolved neighbour before the entry fails and its held packets are dropped.',
  },
  {
    name: 'net.link.ether.inet.maxhold',
    default: 16, min: 1, max: 1024, unit: 'packets',
    description: 'Packets held per unresolved neighbour while ARP resolution is in progress; more are dropped and counted.',
  },
  {
    name: 'net.link.ether.inet.rexmit_ms',
    default: 1000, min: 10, max: 60000, unit: 'ms',
    description: 'Interval between ARP requests for an unresolved neighbour.',
  },
  {
    name: 'net.link.ether.inet.max_entries',
    default: 768, min: 8, max: 768, unit: 'entries',
    description: 'Most entries in the neighbour table of each lcore. A new neighbour past it evicts the least recently used entry nobody used (learned from a request, or failed), or, for a resolution of our own, any entry but a permanent one (counted in arp.evicted); when none may go it is refused (arp.table_full).',
  },
  {
    name: 'net.inet.ip.ttl',
    default: 64, min: 1, max: 255, unit: 'hops',
    description: 'Default TTL of IPv4 datagrams the stack sends.',
  },
  {
    name: 'net.inet.icmp.icmplim',
    default: 200, min: 0, max: 100000, unit: 'per s',
    description: 'ICMP error replies sent per second per lcore (0 = unlimited).',
  },
  {
    name: 'net.inet.ip.portrange.first',
    default: 49152, min: 1024, max: 65535, unit: 'port',
    description: 'First port of the range ephemeral ports (bind to port 0, implicit binds) are taken from.',
  },
  {
    name: 'net.inet.ip.portrange.last',
    default: 65535, min: 1024, max: 65535, unit: 'port',
    description: 'Last port of the ephemeral range.',
  },
  {
    name: 'net.inet.ip.maxfragpackets',
    default: 64, min: 1, max: 4096, unit: 'datagrams',
    description: 'Datagrams being reassembled at once per lcore; fragments of more are dropped and counted.',
  },
  {
    name: 'net.inet.ip.maxfragsperpacket',
    default: 64, min: 1, max: 1024, unit: 'fragments',
    description: 'Fragments one datagram may arrive in (a 65507-byte datagram over a 1500-byte MTU takes 45).',
  },
  {
    name: 'net.inet.ip.maxfragbytes',
    default: 4194304, min: 65536, max: 268435456, unit: 'bytes',
    description: 'Bytes of fragments held for reassembly per lcore.',
  },
  {
    name: 'net.inet.ip.fragttl',
    default: 30000, min: 100, max: 120000, unit: 'ms',
    description: 'How long a partial datagram waits for its missing fragments.',
  },
  {
    name: 'net.inet.igmp.default_version',
    default: 3, min: 2, max: 3, unit: 'version',
    description: 'IGMP version spoken in reports (3 carries source-specific memberships; 2 for older routers).',
  },
  {
    name: 'kern.ipc.maxsockbuf',
    default: 425984, min: 4608, max: 268435456, unit: 'bytes',
    description: 'Largest socket buffer SO_RCVBUF/SO_SNDBUF can set (the doubled value is clamped to it, as Linux clamps to twice net.core.rmem_max).',
  },
  {
    name: 'net.inet.udp.recvmbufs',
    default: 0, min: 0, max: 16777215, unit: 'mbufs',
    description: 'Most mbufs of the packet pool in use (by anything) while received datagrams are still queued to sockets and packets still held for ARP resolution; past it they are dropped and counted in udp.memdrop and arp.hold_dropped. 0: the pool size less what the devices need to keep receiving and replying (TX rings, two bursts per queue, mempool caches), at least half of what the RX rings leave.',
  },
  {
    name: 'dev.fault.rx_drop_ppm',
    default: 0, min: 0, max: 1000000, unit: 'ppm',
    description: 'Fault injector: probability, in parts per million, that a received IPv4 frame is dropped (counted in fault.dropped).',
  },
  {
    name: 'dev.fault.rx_dup_ppm',
    default: 0, min: 0, max: 1000000, unit: 'ppm',
    description: 'Fault injector: probability that a received IPv4 frame is delivered twice (fault.duplicated).',
  },
  {
    name: 'dev.fault.rx_reorder_ppm',
    default: 0, min: 0, max: 1000000, unit: 'ppm',
    description: 'Fault injector: probability that a received IPv4 frame is held back and delivered after the next frame from its port, or after 1 ms if none comes (fault.reordered).',
  },
  {
    name: 'dev.fault.seed',
    default: 1, min: 0, max: 2147483647, unit: '',
    description: 'Fault injector: seed of the per-lcore generator behind its decisions; any write to a dev.fault.* tunable reseeds it.',
  },
].map((s) => Object.freeze(s)));

const BY_NAME: ReadonlyMap<string, SysctlSpec> = new Map(SYSCTLS.map((s) => [s.name, s]));

/** The tunable called `name`, or undefined when the stack has no such tunable. */
export function lookupSysctl(name: string): SysctlSpec | undefined {
  return BY_NAME.get(name);
}

/** Every tunable at its default value, by name. */
export function sysctlDefaults(): Record<string, number> {
  const out: Record<string, number> = {};
  for (const s of SYSCTLS) out[s.name] = s.default;
  return out;
}

/**
 * A value for a tunable set at run time: the integer itself, or a RangeError naming the tunable.
 * Tunables are int64 in the stack, where a fraction would be truncated silently.
 */
export function sysctlValue(name: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value)) throw new RangeError(`sysctl ${name}: ${String(value)} is not an integer`);
  return value;
}
