/*
 * ffnet's protocol stack: the public C interface used by the Node addon (native/) and the ff_* C
 * library (posix/).
 *
 * The stack owns the wire: DPDK ports, the packet pool, and one data-path lcore per RX/TX queue
 * pair, each with private state (neighbour cache, counters, TX buffers) and no locks on the
 * per-packet path. Other threads talk to lcores only through rings: control messages in, events
 * out (see lcore/ctrl.h and sock/sock.h). Layers below, each in its own folder:
 *   wire/   header formats over raw bytes (no DPDK)
 *   iface/  Ethernet, ARP and the neighbour cache, IPv4 input/output and routing, fragments, ICMP,
 *           UDP input and output, multicast memberships per port and IGMP
 *   sock/   socket objects and lifetime, the port namespace (bind, connect), the application side
 *           of the data path, application contexts, per-lcore demux tables
 *   lcore/  per-lcore state and loop, control messages, counters, tunables, app events
 *   phy/    DPDK port setup, RSS, mbuf helpers, the receive-side fault injector, the capture tap
 *   ctl/    the control server the `ffnet` tools talk to, and the DPDK telemetry commands
 * May call: DPDK and libc. Never calls JavaScript.
 */
#ifndef FFNET_STACK_H
#define FFNET_STACK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "stack/wire/eth.h"
#include "stack/wire/ipv6.h"
#include "stack/lcore/counters.h"
#include "stack/lcore/sysctl.h"

#define FFS_MAX_PORTS 8
#define FFS_MAX_LCORES 32
/** Permanent neighbour entries of one port from the configuration, per family ([portN] arp[], ndp[]). */
#define FFS_MAX_STATIC_ARP 64
#define FFS_MAX_STATIC_NDP FFS_MAX_STATIC_ARP
/** Routes in the table: connected subnets, the default route and static routes. */
#define FFS_MAX_ROUTES 64
/** Static routes one [portN] section may configure (route[]), and all of them together (the table
 *  keeps room for the connected routes, the default one and routes added at run time). */
#define FFS_MAX_CONF_ROUTES 16
#define FFS_MAX_CONF_ROUTES_TOTAL 32
/** IPv6 addresses of one port (iface/addr6.h): its link-local one, configured and autoconfigured ones. */
#define FFS_MAX_ADDR6 8
/** Configured IPv6 addresses of one port ([portN] addr6[]): the table keeps room for the link-local
 *  address and for addresses formed from router advertisements (RFC 4862). */
#define FFS_MAX_CONF_ADDR6 4
/** Further IPv4 addresses of one port besides its own ([portN] vip_addr). */
#define FFS_MAX_VIP 16
/** An IPv4 address of a port with its subnet; host order. */
struct ffs_ifaddr {
	uint32_t addr, netmask, broadcast;
};
/** addr/prefixlen (1..32) with its netmask and broadcast address; a /31 or /32 has no broadcast address
 *  of its own (RFC 3021): the limited broadcast stands in. */
static inline struct ffs_ifaddr ffs_ifaddr_of(uint32_t addr, unsigned prefixlen)
{
	uint32_t mask = prefixlen ? ~0u << (32 - prefixlen) : 0;
	return (struct ffs_ifaddr){ addr, mask, prefixlen >= 31 ? 0xffffffffu : addr | ~mask };
}
/** Port ranges of one exception filter ([portN] exception_tcp_port, exception_udp_port). */
#define FFS_MAX_EXC_PORT_RANGES 32
/** How traffic the stack does not consume reaches the host's kernel ([portN] exception). */
enum ffs_exception_kind { FFS_EXC_NONE = 0, FFS_EXC_TAP = 1, FFS_EXC_VIRTIO_USER = 2 };
/** Transport ports of an exception filter: inclusive ranges. */
struct ffs_port_ranges {
	unsigned n; /**< 0: every port */
	struct {
		uint16_t lo, hi;
	} r[FFS_MAX_EXC_PORT_RANGES];
};
/** Echo requests the control plane may wait for at once (ffs_stack_ping_wait). */
#define FFS_MAX_PING_WAITERS 16

/** One port's IPv4 configuration; addresses in host order. */
struct ffs_port_conf {
	uint16_t port_id;
	uint32_t addr;
	uint32_t netmask;
	uint32_t broadcast;
	uint32_t gateway; /**< 0 = none */
	uint16_t mtu;
	uint16_t vlan_id; /**< IEEE 802.1Q VID 1..4094 of every frame on the port; 0 = untagged */
	unsigned n_static_arp;
	struct {
		uint32_t addr;
		struct eth_addr mac;
	} static_arp[FFS_MAX_STATIC_ARP];
	/** Further addresses ([portN] vip_addr), each with its own netmask and broadcast: each answers ARP,
	 *  ping and UDP, and its subnet is a connected route. */
	unsigned n_vip;
	struct ffs_ifaddr vip[FFS_MAX_VIP];
	/** IPv6 off on the port ([portN] ipv6 = 0): no link-local address, no Neighbor Discovery. */
	bool ipv6_off;
	unsigned n_addr6;
	struct {
		struct ip6_addr addr;
		uint8_t prefixlen;
	} addr6[FFS_MAX_CONF_ADDR6];
	/** The IPv6 default router ([portN] gateway6), :: = none (router advertisements give one). */
	struct ip6_addr gateway6;
	/** Static routes ([portN] route[]): gateway on this port's subnet, src one of the stack's addresses. */
	unsigned n_routes;
	struct ffs_conf_route {
		uint32_t dest, gateway, src, metric; /**< host order; src 0 = none */
		uint8_t prefixlen;
	} routes[FFS_MAX_CONF_ROUTES];
	/** Permanent IPv6 neighbours ([portN] ndp[]): link-local or on a prefix of addr6[]. */
	unsigned n_static_ndp;
	struct {
		struct ip6_addr addr;
		struct eth_addr mac;
	} static_ndp[FFS_MAX_STATIC_NDP];
	/**
	 * The exception path (phy/exception.h): a kernel interface (`exception_iface`, carrying the port's
	 * MAC, MTU and addresses) that gets the frames the stack does not consume — TCP (to the ports of
	 * `exc_tcp`, every one when it is empty), protocols the stack does not speak, UDP to `exc_udp`
	 * ports (and to ports no socket holds when `exc_udp_unbound`), copies of ARP and ND — and whose
	 * frames go out the port. FFS_EXC_NONE: none.
	 */
	enum ffs_exception_kind exception;
	char exception_iface[16];
	struct ffs_port_ranges exc_tcp, exc_udp;
	bool exc_udp_unbound;
	uint32_t exc_queue; /**< bound of the queue toward the kernel, frames */
};

/** Everything the stack needs to start (config/ validates it from ffnet.ini). */
struct ffs_conf {
	/** lcore ids that run the loop on their own threads; 0 of them = inline on the caller's thread. */
	unsigned n_data_lcores;
	unsigned data_lcores[FFS_MAX_LCORES];
	/** With no data-path lcore: the lcores (RX/TX queue pairs) that application threads turn
	 *  (0 or 1 = one inline lcore, turned by the thread that started the stack). */
	unsigned n_inline_lcores;
	uint32_t idle_sleep_us;
	uint32_t tx_delay_us;
	uint32_t nb_mbuf;
	unsigned n_ports;
	struct ffs_port_conf ports[FFS_MAX_PORTS];
	int64_t sysctl[FFS_SYSCTL_COUNT];
	/**
	 * Multi-process (F-Stack's process per core, stack/phy/cluster.h). proc_type FFS_PROC_PRIMARY with
	 * nb_procs 0 is the single-process stack. A primary with nb_procs > 0 configures every port with
	 * nb_procs queue pairs, one per worker process, and serves those no live worker has claimed; a
	 * secondary serves queue proc_queue (-1: the first one free) of every port. FFS_PROC_AUTO: as the
	 * EAL found it (--proc-type=auto). Both need hugepages and inline mode with one lcore per process
	 * (n_data_lcores 0, n_inline_lcores 0 or 1): the queue table decides which queues it serves, and
	 * the thread that started the stack turns it (ffs_stack_thread_allowed).
	 */
	int proc_type;
	unsigned nb_procs;
	int proc_queue;
	/** vdev arguments to probe again when a stack is restarted in the same process. */
	unsigned n_vdevs;
	const char *vdevs[16];
	/**
	 * The program `ffnet ps` names: what a runtime knows (the addon gives Node's main script), or ""
	 * for the executable's base name (a C program on ff_init).
	 */
	char program[128];
};

enum { FFS_PROC_PRIMARY = 0, FFS_PROC_SECONDARY = 1, FFS_PROC_AUTO = 2 };

struct ffs_stack;

/** Fills conf with defaults (no ports, inline, default tunables). */
void ffs_conf_init(struct ffs_conf *conf);

/**
 * Initialises DPDK's EAL with argv (once per process; later calls return 0 without doing anything).
 * Returns 0, or -1 with a message in err.
 */
int ffs_eal_init(int argc, char **argv, char *err, size_t errlen);

/**
 * Releases the EAL and deletes its runtime directory. For the very end of a process: the EAL cannot
 * be initialised again afterwards. While a stack runs (other threads' handles), only deletes the
 * runtime directory.
 */
void ffs_eal_cleanup(void);

/** Starts ports and lcores. Returns the stack, or NULL with a message naming the port and DPDK's error. */
struct ffs_stack *ffs_stack_start(const struct ffs_conf *conf, char *err, size_t errlen);

/** Stops lcores, closes ports, frees the pool and all state. */
void ffs_stack_stop(struct ffs_stack *st);

/** The stack running in this process, or NULL. */
struct ffs_stack *ffs_stack_current(void);

/** True when no data-path lcore runs: the caller drives the loop with ffs_stack_poll(). */
bool ffs_stack_is_inline(const struct ffs_stack *st);

/**
 * Inline mode: one turn, on the calling thread, of every lcore that no other thread claimed (lcore 0
 * and the unclaimed ones: what the thread that started the stack turns). Returns the work done (packets).
 */
unsigned ffs_stack_poll(struct ffs_stack *st);

/**
 * Inline mode: makes lcore `index` the calling thread's to turn (ffs_stack_poll_lcore); index < 0
 * takes the lowest unclaimed index ≥ 1, then 0. A multi-process stack has lcore 0 alone, turned by the
 * thread that started it (ffs_stack_thread_allowed). A thread holds one lcore at most (it sleeps on that
 * lcore's idle fd). Returns the index, -EBUSY (taken, none left, or the thread holds one), -ERANGE (no
 * such lcore) or -EINVAL (data-path lcores run the loop).
 */
int ffs_stack_claim_lcore(struct ffs_stack *st, int index);
/** Gives back the calling thread's claim on lcore `index` (nothing when the thread holds none there). */
void ffs_stack_release_lcore(struct ffs_stack *st, unsigned index);
/** The lcore the calling thread claimed, or -1. */
int ffs_stack_thread_lcore(const struct ffs_stack *st);

/**
 * Inline mode: one turn of lcore `index` on the calling thread. Each lcore has a try-lock: a turn that
 * finds another thread turning it (or applying a control message to it) returns 0 at once.
 */
unsigned ffs_stack_poll_lcore(struct ffs_stack *st, unsigned index);

/**
 * Inline mode: what the calling thread turns — its claimed lcore, or ffs_stack_poll's lcores on the
 * thread that started the stack; 0 on any other thread (or with data-path lcores).
 */
unsigned ffs_stack_poll_thread(struct ffs_stack *st);

/**
 * Datagrams the calling thread's turns of inline lcores have dropped because a socket's receive buffer
 * was full (their udp.fullsock), since the thread began: a turn that raised it overflowed a socket.
 */
uint64_t ffs_stack_thread_fullsock(void);

/** ffs_stack_poll_thread(st) in the shape of ffs_driver_turns's turn (stack/lcore/driver.h). */
unsigned ffs_stack_turn(void *st);

/** Whether ffs_stack_poll_thread turns anything on the calling thread. */
bool ffs_stack_thread_drives(const struct ffs_stack *st);

/**
 * Inline mode, on a thread that turns lcores: sends what the sockets have queued on them now rather
 * than at the next turn (a no-op otherwise). For callers whose next turn may be far off — a JavaScript
 * callback that sends a status message in the middle of a long batch, say.
 */
void ffs_stack_kick_tx(struct ffs_stack *st);

/** ffs_stack_kick_tx for the lcores whose TX ring holds a full burst (FFS_BURST) or more: a run of
 *  sends leaves in full bursts while it goes on, its tail at the caller's ffs_stack_kick_tx. */
void ffs_stack_kick_tx_full(struct ffs_stack *st);

/**
 * Inline mode, idle: an fd that becomes readable when a RX queue has packets or a control message
 * arrived (-1 when a port has no RX interrupts: poll on a short timer instead). Bracket the wait
 * with ffs_stack_sleep_begin (false: work arrived, do not wait) and ffs_stack_sleep_end.
 */
int ffs_stack_idle_fd(const struct ffs_stack *st);
bool ffs_stack_sleep_begin(struct ffs_stack *st);
void ffs_stack_sleep_end(struct ffs_stack *st);
/** The same for inline lcore `index` (the one a thread claimed). */
int ffs_stack_idle_fd_lcore(const struct ffs_stack *st, unsigned index);
bool ffs_stack_sleep_begin_lcore(struct ffs_stack *st, unsigned index);
void ffs_stack_sleep_end_lcore(struct ffs_stack *st, unsigned index);
/** The lcore whose idle fd the calling thread sleeps on: its claimed lcore, else the first one no
 *  thread claimed, else the lcore count (none: no idle fd, nap instead). */
unsigned ffs_stack_thread_idle_lcore(const struct ffs_stack *st);

/**
 * Whether the calling thread may use st: any thread of a single-process stack; on a multi-process
 * stack (phy/cluster.h) only the EAL's own threads — the one that started it. DPDK registers no other
 * thread while processes share its memory ("Multiprocess in use"), and a registration in a primary
 * before its workers start turns multi-process off (rte_mp_disable), which locks the workers out.
 */
bool ffs_stack_thread_allowed(const struct ffs_stack *st);

/** Multi-process: the queue this secondary serves, or -1 (a primary, or a single-process stack). */
int ffs_stack_proc_queue(const struct ffs_stack *st);

/** Number of lcores with state (data-path lcores, or the inline lcores: at least 1). */
unsigned ffs_stack_lcore_count(const struct ffs_stack *st);

/** Copies lcore i's counters and returns its lcore id (with several inline lcores: i). Lcore 0's
 *  include what application threads counted (ffs_stack_count_app). */
unsigned ffs_stack_counters(const struct ffs_stack *st, unsigned i, struct ffs_counters *out);

/** Adds n to counter `which` on behalf of an application thread (any thread; a relaxed atomic add). */
void ffs_stack_count_app(struct ffs_stack *st, enum ffs_counter_index which, uint64_t n);

/**
 * Whether a UDP datagram to the loopback address dst (16 bytes: ::1, or an IPv4 127/8 address
 * v4-mapped) and port, from local port sport, would be delivered to a bound stack socket: one bound
 * to that port on a wildcard or on dst, not connected to another peer. Takes the namespace lock.
 * ffnet/dgram's `[dpdk] localhost = both` sends what no stack socket holds to the kernel.
 */
bool ffs_stack_loopback_held(struct ffs_stack *st, const uint8_t dst[16], uint16_t port, uint16_t sport);

/** Packet pool: mbufs currently allocated (exact, and below the true baseline after a double free:
 *  see ffs_pool_in_use), and the pool's size. */
int ffs_stack_mempool_in_use(const struct ffs_stack *st);
unsigned ffs_stack_mempool_size(const struct ffs_stack *st);

/** Ports, by index 0..count-1. */
unsigned ffs_stack_port_count(const struct ffs_stack *st);

struct ffs_port_info {
	uint16_t port_id;
	char name[64];
	char driver[32];
	struct eth_addr mac;
	uint32_t addr, netmask, broadcast, gateway;
	uint16_t mtu;
	uint16_t vlan_id; /**< 802.1Q VID of the port's frames, 0 = untagged */
	/** How the tag is handled: the device strips and filters received tags, inserts sent ones (else the stack does). */
	bool vlan_rx_offload, vlan_tx_offload;
	bool admin_up; /**< ifconfig up (a port taken down sends and receives nothing) */
	unsigned n_vip; /**< further IPv4 addresses ([portN] vip_addr) */
	struct ffs_ifaddr vip[FFS_MAX_VIP];
	bool link_up;
	bool rx_ipv4_cksum, rx_l4_cksum, tx_ipv4_cksum, tx_udp_cksum;
	uint16_t rx_queues, tx_queues; /**< the device's queues the stack set up (fewer than lcores: software dispatch) */
	bool rx_intr;                  /**< its RX queues have interrupt fds: idle lcores sleep until traffic */
	uint64_t ipackets, opackets, ibytes, obytes, imissed, ierrors, oerrors, rx_nombuf;
	/** The exception path toward the kernel ([portN] exception): FFS_EXC_NONE, or its kind and interface. */
	enum ffs_exception_kind exception;
	char exception_iface[16];
};
void ffs_stack_port_info(const struct ffs_stack *st, unsigned i, struct ffs_port_info *out);

/** One IPv6 address of a port as programs list it (os.networkInterfaces(), ifconfig): link-local, configured or
 *  autoconfigured, in any state (a tentative one is listed, as Linux's getifaddrs lists it). */
struct ffs_port_addr6 {
	struct ip6_addr addr;
	uint8_t prefixlen;
	bool tentative;  /**< Duplicate Address Detection has not passed yet */
	bool duplicated; /**< DAD found another node with it: never used */
};
/** The IPv6 addresses of port index i (none when IPv6 is off on it); returns how many were written (≤ max). */
unsigned ffs_stack_port_addr6(const struct ffs_stack *st, unsigned i, struct ffs_port_addr6 *out, unsigned max);

enum ffs_neigh_state { FFS_NEIGH_INCOMPLETE, FFS_NEIGH_REACHABLE, FFS_NEIGH_FAILED, FFS_NEIGH_PERMANENT };

struct ffs_neigh_info {
	uint16_t port_id;
	uint32_t addr;
	bool v6;              /**< an IPv6 neighbour: addr6, not addr */
	struct ip6_addr addr6;
	bool router;          /**< IPv6: its advertisements carry the R flag */
	struct eth_addr mac;
	enum ffs_neigh_state state;
	uint32_t expires_in_s;
	uint32_t held;       /**< packets waiting for resolution (over every lcore) */
	uint32_t held_bytes; /**< their bytes, Ethernet headers included */
};

/**
 * Dumps the neighbour table: every lcore's entries merged by (port, address) — the most settled state
 * (permanent, reachable, incomplete, failed), the latest expiry, packets held summed. Returns the
 * number of entries written (≤ max), or a negative errno.
 */
int ffs_stack_neigh_dump(struct ffs_stack *st, struct ffs_neigh_info *out, unsigned max);
/** The IPv6 neighbour cache (Neighbor Discovery), merged as ffs_stack_neigh_dump merges ARP's. */
int ffs_stack_neigh6_dump(struct ffs_stack *st, struct ffs_neigh_info *out, unsigned max);
/** Adds a permanent entry on every lcore. 0, or a negative errno (-ENOENT: no such port, -EINVAL: not on the port's subnet, -ENOSPC). */
int ffs_stack_neigh_add(struct ffs_stack *st, uint16_t port_id, uint32_t addr, const struct eth_addr *mac);
/** Removes an entry on every lcore. 1 if it existed, 0 if not, or a negative errno. */
int ffs_stack_neigh_del(struct ffs_stack *st, uint16_t port_id, uint32_t addr);
/** ffs_stack_neigh_add for an IPv6 neighbour. -EINVAL: not on the port's link (link-local, or on one
 *  of its prefixes), one of the port's own addresses, or not unicast; -ENOENT also when IPv6 is off. */
int ffs_stack_neigh6_add(struct ffs_stack *st, uint16_t port_id, const struct ip6_addr *addr, const struct eth_addr *mac);
/** ffs_stack_neigh_del for an IPv6 neighbour. */
int ffs_stack_neigh6_del(struct ffs_stack *st, uint16_t port_id, const struct ip6_addr *addr);

/**
 * Port changes at run time, by DPDK port id. Each returns once every lcore has seen the change (a
 * control message every lcore acknowledges), or a negative errno: -ENOENT no such port, -EINVAL a bad
 * value, -ERANGE an MTU the device refuses, or the device's own error.
 */
/** A new address and prefix length (broadcast derived): connected route and static routes whose
 *  gateway left the subnet change with it; lcores forget neighbours off the new subnet; lcore 0
 *  announces the address (gratuitous ARP, RFC 5227 §2.3). */
int ffs_stack_port_set_inet(struct ffs_stack *st, uint16_t port_id, uint32_t addr, unsigned prefixlen);
/** ifconfig inet ADDR/LEN alias: a further address of the port, as [portN] vip_addr gives (answers ARP,
 *  ping and UDP; its subnet a connected route; announced by gratuitous ARP). -EINVAL: not a host's
 *  unicast address of its subnet; -EEXIST: an address of the stack already; -ENOSPC: the port has
 *  FFS_MAX_VIP; -ENOENT: no such port. */
int ffs_stack_port_alias_add(struct ffs_stack *st, uint16_t port_id, uint32_t addr, unsigned prefixlen);
/** ifconfig inet ADDR -alias: removes a further address (its connected route, neighbours no longer
 *  on-link). -ESRCH: not a further address of the port (the primary address is changed, not removed);
 *  -ENOENT: no such port. */
int ffs_stack_port_alias_del(struct ffs_stack *st, uint16_t port_id, uint32_t addr);
/** ifconfig inet6 ADDR prefixlen N [alias]: a configured IPv6 address (tentative until DAD passes) and
 *  its on-link prefix. -EINVAL: not a unicast address a port may have (unspecified, loopback,
 *  multicast, IPv4-mapped, link-local, a subnet-router anycast address, length 1..128); -EEXIST: an
 *  address of a port already; -ENOSPC: the port's table is full; -ENOENT: no such port, or IPv6 off. */
int ffs_stack_addr6_add(struct ffs_stack *st, uint16_t port_id, const struct ip6_addr *a, unsigned prefixlen);
/** ifconfig inet6 ADDR -alias: removes an address (its prefix too when no other address holds it).
 *  -ESRCH: not on the port; -EPERM: the link-local address; -ENOENT: no such port. */
int ffs_stack_addr6_del(struct ffs_stack *st, uint16_t port_id, const struct ip6_addr *a);
/** A new MTU: the device's (rte_eth_dev_set_mtu, when the device has one) and the fragment size.
 *  -ERANGE outside what the device takes, or a jumbo MTU (a frame larger than one mbuf) on a device
 *  started without RX scatter (phy/port.h, ffs_port_mtu_check). */
int ffs_stack_port_set_mtu(struct ffs_stack *st, uint16_t port_id, uint16_t mtu);
/** Up or down (rte_eth_dev_set_link_up/down where the device has them). A down port sends and
 *  receives nothing: frames are dropped and counted (eth.rx_down, eth.tx_down). */
int ffs_stack_port_set_up(struct ffs_stack *st, uint16_t port_id, bool up);

/** Route flags (struct ffs_route_info.flags). */
#define FFS_ROUTE_GATEWAY 0x1   /**< via a gateway (else on-link) */
#define FFS_ROUTE_STATIC 0x2    /**< added by hand or from the configured gateway */
#define FFS_ROUTE_CONNECTED 0x4 /**< a port's own subnet */

struct ffs_route_info {
	uint32_t dest;     /**< host order */
	uint8_t prefixlen;
	uint8_t flags;
	uint16_t port_id;
	uint32_t gateway;  /**< 0 = on-link */
	uint32_t src;      /**< preferred source for destinations through the route; 0 = the port's address */
	uint32_t metric;   /**< among routes to one prefix the lowest wins; connected routes have 0 */
};
/** ffs_stack_route_del_ex: whatever the metric (the lowest-metric static route). */
#define FFS_ROUTE_ANY_METRIC ((int64_t)-1)

/**
 * Adds a static route to dest/prefixlen via `gateway`, which must be on a connected subnet (its port
 * carries the route), with a preferred source `src` (0 = none: the port's address; else one of the
 * stack's addresses) and a metric (routes to one prefix may differ in metric: the lowest wins).
 * 0, or -EINVAL (bad prefix, host bits set in dest, no gateway), -EADDRNOTAVAIL (src is not one of
 * the stack's addresses), -ENETUNREACH (gateway not on a connected subnet), -EEXIST (a route to
 * dest/prefixlen of that metric exists), -ENOSPC.
 */
int ffs_stack_route_add_ex(struct ffs_stack *st, uint32_t dest, unsigned prefixlen, uint32_t gateway, uint32_t src,
			   uint32_t metric);
/** Replaces the static route to dest/prefixlen of that metric by one via `gateway` (src as for
 *  ffs_stack_route_add_ex), in one change: readers see the old route or the new one. 0, or -ESRCH,
 *  -EPERM (a connected route), or ffs_stack_route_add_ex's errors (the old route stays). */
int ffs_stack_route_change(struct ffs_stack *st, uint32_t dest, unsigned prefixlen, uint32_t gateway, uint32_t src,
			   uint32_t metric);
/** ffs_stack_route_add_ex with no preferred source and metric 0. */
int ffs_stack_route_add(struct ffs_stack *st, uint32_t dest, unsigned prefixlen, uint32_t gateway);
/** Deletes the static route to dest/prefixlen of that metric (FFS_ROUTE_ANY_METRIC: the one of lowest
 *  metric). 0, or -ESRCH (none), -EPERM (a connected route: it goes with its port's address). */
int ffs_stack_route_del_ex(struct ffs_stack *st, uint32_t dest, unsigned prefixlen, int64_t metric);
/** ffs_stack_route_del_ex whatever the metric. */
int ffs_stack_route_del(struct ffs_stack *st, uint32_t dest, unsigned prefixlen);
/** The routing table, longest prefix first (lookup order). Returns the number of routes written (≤ max). */
int ffs_stack_route_dump(struct ffs_stack *st, struct ffs_route_info *out, unsigned max);

/** Sets a tunable (validated by range). 0, or -EINVAL / -ERANGE. */
int ffs_stack_sysctl_set(struct ffs_stack *st, int id, int64_t value);
int64_t ffs_stack_sysctl_get(const struct ffs_stack *st, int id);

/** Events from lcores to the application thread (see lcore/app.h). */
struct ffs_event {
	uint16_t type;  /**< FFS_EV_* */
	uint16_t token; /**< ping: the token given to ffs_stack_ping */
	uint16_t bytes; /**< ping: ICMP payload bytes */
	uint8_t ttl;
	uint8_t pad;
	uint32_t rtt_ns;
	uint32_t pad2;
};
#define FFS_EV_PING_REPLY 1

/** Sends one echo request to dst (host order) with `payload` bytes; a reply arrives as an FFS_EV_PING_REPLY event with this token. 0 or a negative errno. */
int ffs_stack_ping(struct ffs_stack *st, uint32_t dst, uint16_t token, uint16_t payload);

/** One echo reply, as ffs_stack_ping_wait returns it. */
struct ffs_ping_result {
	uint32_t from;   /**< the reply's source address, host order (IPv4) */
	bool v6;         /**< an ICMPv6 echo reply: its source is from6, its hop limit in ttl */
	struct ip6_addr from6;
	uint16_t bytes;  /**< ICMP payload bytes */
	uint16_t seq;
	uint8_t ttl;
	uint32_t rtt_us;
};

/**
 * Sends one echo request (sequence `seq`, `payload` bytes, `ttl` 0 = net.inet.ip.ttl) and waits on the
 * calling thread for its reply — not through the application's event queue — at most `timeout_ms`,
 * and no longer than `*stopping` stays false (NULL: not asked). For the control plane: any thread.
 * 0 with *out filled, -ETIMEDOUT, -ECANCELED (stopping), -EBUSY (FFS_MAX_PING_WAITERS already wait),
 * or the send's error (-ENETUNREACH no route, -EHOSTDOWN the neighbour did not answer ARP).
 */
int ffs_stack_ping_wait(struct ffs_stack *st, uint32_t dst, uint16_t seq, uint16_t payload, uint8_t ttl,
			unsigned timeout_ms, const volatile bool *stopping, struct ffs_ping_result *out);
/** ffs_stack_ping_wait to an IPv6 address (ICMPv6, hop limit `hlim`, 0 = net.inet6.ip6.hlim);
 *  `scope_port`: the port index a link-local destination is on, or -1. -EADDRNOTAVAIL: no source
 *  address for it yet (still tentative). */
int ffs_stack_ping6_wait(struct ffs_stack *st, const struct ip6_addr *dst, int scope_port, uint16_t seq, uint16_t payload,
			 uint8_t hlim, unsigned timeout_ms, const volatile bool *stopping, struct ffs_ping_result *out);

/** The eventfd that becomes readable when events are queued. */
int ffs_stack_event_fd(const struct ffs_stack *st);
/** Dequeues up to max events (and clears the eventfd when the queue is drained). */
unsigned ffs_stack_events(struct ffs_stack *st, struct ffs_event *out, unsigned max);

#endif
