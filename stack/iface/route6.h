/*
 * IPv6 routing for a host that does not forward (iface/route6.c owns it): on-link prefixes (from the
 * ports' configured addresses, and from router advertisements' prefix information with the L flag),
 * default routers (the configured gateway6, and routers learned from advertisements, each with its
 * lifetime), and the path MTU of each destination a Packet Too Big reported.
 *
 * Readers are lcores and application threads: they never lock. Prefixes and routers are published
 * like the IPv4 table (route.h): writers (the control plane; the lcore that handles a router
 * advertisement) serialise on `write_lock`, change `staged`, then publish it into two copies under a
 * latch (iface/latch.h). `write_lock` is a spinlock held for one change (a few hundred stores), usable
 * across the processes of a multi-process stack; a lcore never waits on it: it takes it with
 * route6_write_trylock and, when a writer holds it, puts its change off to a later turn (ra6.c). Lifetimes are TSC deadlines checked by every reader, so an expired entry is
 * never used even before lcore 0's timer removes it. Path MTUs are a small direct-mapped cache, one
 * latch per entry, its writers (lcores that receive a Packet Too Big) serialised on a spinlock.
 *
 * A linear scan serves the few prefixes of a host. DPDK's rte_fib6 (22.11) was not taken: its trie
 * frees tbl8 groups on delete with no RCU hook in 22.11 (rte_lpm has one, rte_lpm6 and rte_fib6 do
 * not), so readers on other lcores could read freed memory while an advertisement's lifetime ends;
 * and link-local destinations are chosen by scope, not by prefix.
 */
#ifndef FFNET_IFACE_ROUTE6_H
#define FFNET_IFACE_ROUTE6_H

#include <stdint.h>
#include <rte_spinlock.h>

#include "stack/stack.h"

/** On-link prefixes in the table (connected ones and those advertised). */
#define FFS_MAX_PREFIXES6 32
/** Default routers kept (RFC 4861 §6.3.4 lets a host bound its Default Router List). */
#define FFS_MAX_ROUTERS6 8
/** Destinations whose path MTU is remembered (direct-mapped: a new one may evict another). */
#define FFS_PMTU6_ENTRIES 64
/** RFC 8201 §4: a learned path MTU is forgotten after 10 minutes, to find out whether it grew. */
#define FFS_PMTU6_AGE_S 600

/** Route flags (struct ffs_route6_info.flags). */
#define FFS_ROUTE6_CONNECTED 0x1 /**< a prefix of a port's configured address */
#define FFS_ROUTE6_ADVERTISED 0x2 /**< learned from a router advertisement (with a lifetime) */
#define FFS_ROUTE6_GATEWAY 0x4   /**< a default router (else an on-link prefix) */
#define FFS_ROUTE6_STATIC 0x8    /**< the configured gateway6 */

/** One prefix or router: address words, (port index | prefix length << 16 | flags << 24), TSC deadline (0: forever). */
struct route6_entry {
	uint32_t w[4];
	uint32_t meta;
	uint64_t expires;
};

/** One copy of the table. */
struct route6_data {
	uint32_t n_prefixes, n_routers;
	struct route6_entry prefix[FFS_MAX_PREFIXES6]; /**< longest first */
	struct route6_entry router[FFS_MAX_ROUTERS6];  /**< configured first, then in order learned */
};

/** One path MTU: destination words, MTU, TSC deadline; `seq` its latch. */
struct route6_pmtu {
	uint32_t seq;
	struct {
		uint32_t w[4];
		uint32_t mtu; /**< 0: empty */
		uint64_t expires;
	} copy[2];
};

struct route6_table {
	uint32_t seq; /**< the latch: readers use copy[seq & 1] */
	struct route6_data copy[2];
	rte_spinlock_t write_lock;
	struct route6_data staged; /**< the writer's working copy, under write_lock */
	struct route6_pmtu pmtu[FFS_PMTU6_ENTRIES];
	rte_spinlock_t pmtu_lock;
	/** What the latest router advertisement on each port said of the link (0: nothing), read with
	 *  relaxed loads: its MTU option, its Cur Hop Limit (RFC 4861 §6.3.4). */
	uint32_t ra_mtu[FFS_MAX_PORTS];
	uint32_t ra_hlim[FFS_MAX_PORTS];
	/** Lcore 0's router solicitations (iface/ra6.c): how many each port sent, when the next is due
	 *  (TSC), and when addresses and routes are next aged. */
	uint8_t rs_sent[FFS_MAX_PORTS];
	uint64_t rs_next[FFS_MAX_PORTS];
	uint64_t next_prune;
};

/** One route as route6_dump reports it. */
struct ffs_route6_info {
	struct ip6_addr dest;    /**< prefix, or :: for a default router */
	uint8_t prefixlen;
	uint8_t flags;           /**< FFS_ROUTE6_* */
	uint16_t port_id;
	struct ip6_addr gateway; /**< :: = on-link */
	uint32_t expires_s;      /**< seconds left, UINT32_MAX = forever */
};

struct ffs_port;
struct ffs_lcore;
struct ipv6_repr;
struct nd_repr;

/** Builds the table from the configuration: every configured address's prefix, each gateway6. */
void route6_init(struct ffs_stack *st);

/**
 * The port and next hop for dst: a link-local or multicast dst leaves by `scope_port` (its scope id;
 * none: NULL) with dst as next hop; otherwise the longest on-link prefix (restricted to scope_port
 * when ≥ 0) with dst as next hop, else a default router (the configured one first). NULL = no route.
 */
const struct ffs_port *route6_lookup(const struct ffs_stack *st, const struct ip6_addr *dst, int scope_port,
				     struct ip6_addr *nexthop);
/** True when `a` is on-link on port index `port`: link-local, or on one of its prefixes. */
bool route6_on_link(const struct ffs_stack *st, unsigned port, const struct ip6_addr *a);

/** Adds (or renews) an on-link prefix of port index `port`: FFS_ROUTE6_CONNECTED forever, or
 *  FFS_ROUTE6_ADVERTISED with `valid_s` (0 removes an advertised one). 0, -EINVAL, -ENOSPC. */
int route6_prefix_update(struct ffs_stack *st, unsigned port, const struct ip6_addr *prefix, unsigned len,
			 unsigned flags, uint32_t valid_s);
/** Removes a connected prefix when no configured address of its port is on it any more. */
void route6_prefix_release(struct ffs_stack *st, unsigned port, const struct ip6_addr *prefix, unsigned len);
/** Adds, renews (lifetime in s) or, with lifetime 0, removes an advertised default router
 *  (RFC 4861 §6.3.4). 0, or -ENOSPC (the list is full: the router is not used). */
int route6_router_update(struct ffs_stack *st, unsigned port, const struct ip6_addr *router, uint32_t lifetime_s);
/** Whether port index `port` has a default router (configured or advertised, not expired). */
bool route6_has_router(const struct ffs_stack *st, unsigned port);
/**
 * Takes the writers' lock without waiting, for a lcore's several changes in a row (the updates above,
 * made by the same thread until route6_write_unlock, find it held by their caller). false: another
 * writer holds it, nothing was taken — try again on a later turn.
 */
bool route6_write_trylock(struct ffs_stack *st);
/** Releases what route6_write_trylock took. */
void route6_write_unlock(struct ffs_stack *st);
/** Removes expired advertised prefixes and routers (lcore 0's timer work). */
void route6_expire(struct ffs_stack *st, uint64_t now);

/** The table, prefixes longest first then default routers. Returns the number written (≤ max). */
unsigned route6_dump(const struct ffs_stack *st, struct ffs_route6_info *out, unsigned max);

/** Records a path MTU for dst (a Packet Too Big; never below IPV6_MIN_MTU, RFC 8201 §4). */
void route6_pmtu_set(struct ffs_stack *st, const struct ip6_addr *dst, uint16_t mtu);
/** The path MTU toward dst: the learned one when smaller than link_mtu and not aged out, else link_mtu. */
uint16_t route6_pmtu(const struct ffs_stack *st, const struct ip6_addr *dst, uint16_t link_mtu);

/**
 * Router advertisement input (iface/ra6.c; RFC 4861 §6.3.4, RFC 4862 §5.5.3), called by ICMPv6
 * input after nd_repr_parse accepted it: default router and its lifetime, Cur Hop Limit, on-link
 * prefixes, addresses formed from autonomous /64 prefixes, the link MTU. Nothing when
 * net.inet6.ip6.accept_rtadv is 0 or IPv6 is off on the port.
 */
void ra6_input(struct ffs_lcore *lc, const struct ffs_port *port, const struct ipv6_repr *ip, const struct nd_repr *nd);
/** The IPv6 MTU of port index `port`: its MTU, lowered by an advertised MTU option. */
uint16_t route6_link_mtu(const struct ffs_stack *st, unsigned port);
/** The hop limit of packets out of port index `port`: an advertised Cur Hop Limit, else net.inet6.ip6.hlim. */
uint8_t route6_hop_limit(const struct ffs_stack *st, unsigned port);
/**
 * Lcore 0's timer work: router solicitations at start (RFC 4861 §6.3.7: after a random delay of up to
 * MAX_RTR_SOLICITATION_DELAY, at most MAX_RTR_SOLICITATIONS, RTR_SOLICITATION_INTERVAL apart, until
 * a router is known), and every net.inet6.icmp6.nd6_prune seconds the aging of addresses, prefixes
 * and routers whose lifetime ended.
 */
void ra6_tick(struct ffs_lcore *lc);
/** Whether port index `port` solicits router advertisements at start: IPv6 on, accept_rtadv, no
 *  gateway6 (RFC 4861 §6.3.7). */
bool ra6_wants_solicit(const struct ffs_stack *st, unsigned port);

#endif
