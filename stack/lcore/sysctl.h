/*
 * Run-time tunables, named as FreeBSD names them (`ffnet sysctl`, `[sysctl]` in ffnet.ini).
 *
 * Values live in one array per stack, written by the control plane and read by lcores with relaxed
 * atomic loads: a tunable is a hint read per event (ARP retry, TTL of a new packet), so a lcore
 * seeing the new value one turn late is fine. The fault injector's dev.fault.* tunables are read
 * once per write instead (phy/fault.h): a write bumps a generation that each lcore checks per turn.
 * config/sysctl.ts holds the same table for validation and docs; a test checks the two lists agree.
 */
#ifndef FFNET_LCORE_SYSCTL_H
#define FFNET_LCORE_SYSCTL_H

#include <stdint.h>

#define FFS_SYSCTLS(X)                                                                  \
	X(ARP_MAX_AGE, "net.link.ether.inet.max_age", 1200, 1, 86400, "s")              \
	X(ARP_MAXTRIES, "net.link.ether.inet.maxtries", 5, 1, 100, "requests")          \
	X(ARP_MAXHOLD, "net.link.ether.inet.maxhold", 16, 1, 1024, "packets")           \
	X(ARP_REXMIT_MS, "net.link.ether.inet.rexmit_ms", 1000, 10, 60000, "ms")        \
	X(ARP_MAX_ENTRIES, "net.link.ether.inet.max_entries", 768, 8, 768, "entries")   \
	X(IP_TTL, "net.inet.ip.ttl", 64, 1, 255, "hops")                                \
	X(ICMP_LIM, "net.inet.icmp.icmplim", 200, 0, 100000, "per s")                   \
	X(PORT_FIRST, "net.inet.ip.portrange.first", 49152, 1024, 65535, "port")        \
	X(PORT_LAST, "net.inet.ip.portrange.last", 65535, 1024, 65535, "port")          \
	X(MAXFRAGPACKETS, "net.inet.ip.maxfragpackets", 64, 1, 4096, "datagrams")       \
	X(MAXFRAGSPERPACKET, "net.inet.ip.maxfragsperpacket", 64, 1, 1024, "fragments") \
	X(MAXFRAGBYTES, "net.inet.ip.maxfragbytes", 4194304, 65536, 268435456, "bytes") \
	X(FRAGTTL_MS, "net.inet.ip.fragttl", 30000, 100, 120000, "ms")                  \
	X(IGMP_VERSION, "net.inet.igmp.default_version", 3, 2, 3, "version")            \
	X(MAXSOCKBUF, "kern.ipc.maxsockbuf", 425984, 4608, 268435456, "bytes")          \
	X(UDP_RECVMBUFS, "net.inet.udp.recvmbufs", 0, 0, 16777215, "mbufs")             \
	X(FAULT_RX_DROP_PPM, "dev.fault.rx_drop_ppm", 0, 0, 1000000, "ppm")             \
	X(FAULT_RX_DUP_PPM, "dev.fault.rx_dup_ppm", 0, 0, 1000000, "ppm")               \
	X(FAULT_RX_REORDER_PPM, "dev.fault.rx_reorder_ppm", 0, 0, 1000000, "ppm")       \
	X(FAULT_SEED, "dev.fault.seed", 1, 0, 2147483647, "")

enum ffs_sysctl_id {
#define FFS_SYSCTL_ID(id, name, def, min, max, unit) FFS_SYSCTL_##id,
	FFS_SYSCTLS(FFS_SYSCTL_ID)
#undef FFS_SYSCTL_ID
	FFS_SYSCTL_COUNT
};

struct ffs_sysctl_desc {
	const char *name;
	int64_t def, min, max;
	const char *unit; /**< of the value, as config/sysctl.ts names it ('' for none) */
};

extern const struct ffs_sysctl_desc ffs_sysctl_table[FFS_SYSCTL_COUNT];

/** Index of a tunable by name, or -1. */
int ffs_sysctl_find(const char *name);

#endif
