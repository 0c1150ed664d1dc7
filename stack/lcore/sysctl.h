/*
 * Run-time tunables, named as FreeBSD names them (`ffnet sysctl`, `[sysctl]` in ffnet.ini).
 *
 * Values live in one array per stack, written by the control plane and read by lcores with relaxed
 * atomic loads: a tunable is a hint read per event (ARP retry, TTL of a new packet), so a lcore
 * seeing the new value one turn late is fine. The fault injector's dev.fault.* tunables are read
 * once per write instead (phy/fault.h): a write bumps a generation that each lcore checks per turn.
 * FFS_SYSCTLS is the one table: scripts/gen-tables.mjs derives from it the TypeScript table the
 * config loader validates against (config/sysctl.generated.ts) and the [sysctl] table of
 * docs/configuration.md, and the C config reader (posix/ff_config.c) looks names up here.
 */
#ifndef FFNET_LCORE_SYSCTL_H
#define FFNET_LCORE_SYSCTL_H

#include <stdint.h>

#define FFS_SYSCTLS(X)                                                                  \
	X(ARP_MAX_AGE, "net.link.ether.inet.max_age", 1200, 1, 86400, "s", \
	  "Lifetime of a resolved ARP entry before it must be confirmed again.") \
	X(ARP_MAXTRIES, "net.link.ether.inet.maxtries", 5, 1, 100, "requests", \
	  "ARP requests sent for an unresolved neighbour before the entry fails and its held packets are dropped.") \
	X(ARP_MAXHOLD_BYTES, "net.link.ether.inet.maxhold_bytes", 212992, 0, 268435456, "bytes", \
	  "Bytes of packets held per unresolved neighbour while ARP resolution is in progress, each packet counted by its frame length (Ethernet header included), as Linux's unres_qlen_bytes: a new packet past it drops the oldest held ones (arp.hold_dropped). The newest packet is always held.") \
	X(ARP_MAXHOLD, "net.link.ether.inet.maxhold", 0, 0, 65535, "packets", \
	  "Packets held per unresolved neighbour at most, on top of maxhold_bytes (the oldest is dropped and counted past it); 0: bounded by bytes only.") \
	X(ARP_REXMIT_MS, "net.link.ether.inet.rexmit_ms", 1000, 10, 60000, "ms", \
	  "Interval between ARP requests for an unresolved neighbour.") \
	X(ARP_MAX_ENTRIES, "net.link.ether.inet.max_entries", 768, 8, 768, "entries", \
	  "Most entries in the neighbour table of each lcore. A new neighbour past it evicts the least recently used entry nobody used (learned from a request, or failed), or, for a resolution of our own, any entry but a permanent one (counted in arp.evicted); when none may go it is refused (arp.table_full).") \
	X(ND6_MAX_AGE, "net.inet6.icmp6.nd6_max_age", 1200, 1, 86400, "s", \
	  "Lifetime of a resolved IPv6 neighbour entry before it must be resolved again (iface/nd6.c keeps ARP's states: reachable until then).") \
	X(ND6_RETRANS_MS, "net.inet6.icmp6.nd6_retrans_ms", 1000, 10, 60000, "ms", \
	  "Interval between Neighbor Solicitations for an unresolved neighbour and between DAD probes (RFC 4861 RetransTimer).") \
	X(ND6_MAXQUEUELEN_BYTES, "net.inet6.icmp6.nd6_maxqueuelen_bytes", 212992, 0, 268435456, "bytes", \
	  "Bytes of packets held per unresolved IPv6 neighbour while Neighbor Discovery is in progress, each packet counted by its frame length, as Linux's unres_qlen_bytes: a new packet past it drops the oldest held ones (nd6.hold_dropped). The newest packet is always held.") \
	X(ND6_MAXQUEUELEN, "net.inet6.icmp6.nd6_maxqueuelen", 0, 0, 65535, "packets", \
	  "Packets held per unresolved IPv6 neighbour at most, on top of nd6_maxqueuelen_bytes (the oldest is dropped and counted past it); 0: bounded by bytes only.") \
	X(IP_TTL, "net.inet.ip.ttl", 64, 1, 255, "hops", \
	  "Default TTL of IPv4 datagrams the stack sends.") \
	X(ICMP_LIM, "net.inet.icmp.icmplim", 200, 0, 100000, "per s", \
	  "ICMP error replies sent per second per lcore (0 = unlimited).") \
	X(PORT_FIRST, "net.inet.ip.portrange.first", 49152, 1024, 65535, "port", \
	  "First port of the range ephemeral ports (bind to port 0, implicit binds) are taken from.") \
	X(PORT_LAST, "net.inet.ip.portrange.last", 65535, 1024, 65535, "port", \
	  "Last port of the ephemeral range.") \
	X(MAXFRAGPACKETS, "net.inet.ip.maxfragpackets", 64, 1, 4096, "datagrams", \
	  "Datagrams being reassembled at once per lcore; fragments of more are dropped and counted.") \
	X(MAXFRAGSPERPACKET, "net.inet.ip.maxfragsperpacket", 64, 1, 1024, "fragments", \
	  "Fragments one datagram may arrive in (a 65507-byte datagram over a 1500-byte MTU takes 45).") \
	X(MAXFRAGBYTES, "net.inet.ip.maxfragbytes", 4194304, 65536, 268435456, "bytes", \
	  "Bytes of fragments held for reassembly per lcore.") \
	X(FRAGTTL_MS, "net.inet.ip.fragttl", 30000, 100, 120000, "ms", \
	  "How long a partial datagram waits for its missing fragments.") \
	X(FRAG6TTL_MS, "net.inet6.ip6.fragttl", 60000, 100, 120000, "ms", \
	  "How long a partial IPv6 datagram waits for its missing fragments (RFC 8200 §4.5: 60 s).") \
	X(IGMP_VERSION, "net.inet.igmp.default_version", 3, 2, 3, "version", \
	  "IGMP version spoken in reports (3 carries source-specific memberships; 2 for older routers).") \
	X(MLD_VERSION, "net.inet6.mld.version", 2, 1, 2, "version", \
	  "MLD version spoken in reports (2 carries source-specific memberships; 1 for older routers).") \
	X(MAXSOCKBUF, "kern.ipc.maxsockbuf", 425984, 4608, 268435456, "bytes", \
	  "Largest socket buffer SO_RCVBUF/SO_SNDBUF can set (the doubled value is clamped to it, as Linux clamps to twice net.core.rmem_max).") \
	X(UDP_RECVMBUFS, "net.inet.udp.recvmbufs", 0, 0, 16777215, "mbufs", \
	  "Most mbufs of the packet pool in use (by anything) while received datagrams are still queued to sockets and packets still held for neighbour resolution; past it they are dropped and counted in udp.memdrop and arp.hold_dropped (nd6.hold_dropped), except a neighbour's first held packet. 0: the pool size less what the devices need to keep receiving and replying (TX rings, two bursts per queue, mempool caches), at least half of what the RX rings leave.") \
	X(UDP_TX_CSUM_OFFLOAD, "net.inet.udp.tx_csum_offload", 1, 0, 1, "", \
	  "1: a port that offers UDP transmit checksum offload (ffnet ifconfig: TXCSUM, udp_cksum) computes the checksum of each datagram that leaves in one frame (counted in udp.tx_csum_offload); 0: the stack sums every datagram itself. Fragments and looped-back datagrams are always summed by the stack.") \
	X(IP6_HLIM, "net.inet6.ip6.hlim", 64, 1, 255, "hops", \
	  "Default hop limit of IPv6 packets the stack sends (a router advertisement's Cur Hop Limit replaces it, RFC 4861 §6.3.4).") \
	X(IP6_DAD_COUNT, "net.inet6.ip6.dad_count", 1, 0, 15, "probes", \
	  "Neighbor Solicitations sent to detect a duplicate of each new IPv6 address (RFC 4862 DupAddrDetectTransmits); 0: no detection, addresses are usable at once.") \
	X(IP6_ACCEPT_RTADV, "net.inet6.ip6.accept_rtadv", 1, 0, 1, "", \
	  "1: router advertisements give default routers, on-link prefixes, addresses (SLAAC, RFC 4862) and the link MTU, and a port without gateway6 solicits them at start; 0: they are ignored.") \
	X(IP6_V6ONLY, "net.inet6.ip6.v6only", 0, 0, 1, "", \
	  "Default of IPV6_V6ONLY for new udp6 sockets: 0 lets a socket bound to :: receive IPv4 too (as ::ffff:a.b.c.d), as Linux does.") \
	X(ICMP6_ERRPPSLIMIT, "net.inet6.icmp6.errppslimit", 100, 0, 100000, "per s", \
	  "ICMPv6 error messages sent per second per lcore (0 = unlimited; RFC 4443 §2.4 f).") \
	X(ND6_MAXNUDHINT, "net.inet6.icmp6.nd6_maxnudhint", 0, 0, 1000, "hints", \
	  "Upper-layer reachability confirmations accepted in a row for a neighbour before it is probed again (0: no limit).") \
	X(ND6_PRUNE, "net.inet6.icmp6.nd6_prune", 1, 1, 3600, "s", \
	  "Interval of the Neighbor Discovery timer that ages neighbour entries, default routers, prefixes and addresses.") \
	X(ND6_DELAY, "net.inet6.icmp6.nd6_delay", 5, 1, 60, "s", \
	  "DELAY_FIRST_PROBE_TIME (RFC 4861 §10): how long a stale neighbour in use waits for confirmation before it is probed.") \
	X(ND6_UMAXTRIES, "net.inet6.icmp6.nd6_umaxtries", 3, 1, 100, "probes", \
	  "Unicast Neighbor Solicitations sent to a neighbour being probed before it is deemed unreachable (MAX_UNICAST_SOLICIT).") \
	X(ND6_MMAXTRIES, "net.inet6.icmp6.nd6_mmaxtries", 3, 1, 100, "probes", \
	  "Multicast Neighbor Solicitations sent to resolve a new neighbour before it fails and its held packets are dropped (MAX_MULTICAST_SOLICIT).") \
	X(FAULT_RX_DROP_PPM, "dev.fault.rx_drop_ppm", 0, 0, 1000000, "ppm", \
	  "Fault injector: probability, in parts per million, that a received IPv4 frame is dropped (counted in fault.dropped).") \
	X(FAULT_RX_DUP_PPM, "dev.fault.rx_dup_ppm", 0, 0, 1000000, "ppm", \
	  "Fault injector: probability that a received IPv4 frame is delivered twice (fault.duplicated).") \
	X(FAULT_RX_REORDER_PPM, "dev.fault.rx_reorder_ppm", 0, 0, 1000000, "ppm", \
	  "Fault injector: probability that a received IPv4 frame is held back and delivered after the next frame from its port, or after 1 ms if none comes (fault.reordered).") \
	X(FAULT_SEED, "dev.fault.seed", 1, 0, 2147483647, "", \
	  "Fault injector: seed of the per-lcore generator behind its decisions; any write to a dev.fault.* tunable reseeds it.")

enum ffs_sysctl_id {
#define FFS_SYSCTL_ID(id, name, def, min, max, unit, doc) FFS_SYSCTL_##id,
	FFS_SYSCTLS(FFS_SYSCTL_ID)
#undef FFS_SYSCTL_ID
	FFS_SYSCTL_COUNT
};

struct ffs_sysctl_desc {
	const char *name;
	int64_t def, min, max;
	const char *unit; /**< of the value ('' for none) */
	const char *doc;  /**< one line: what the value controls */
};

extern const struct ffs_sysctl_desc ffs_sysctl_table[FFS_SYSCTL_COUNT];

/** Index of a tunable by name, or -1. */
int ffs_sysctl_find(const char *name);

#endif
