/*
 * Per-lcore state and the stack object that holds it: internal to stack/.
 *
 * A data-path lcore owns RX/TX queue `index` of every port and everything it touches per packet:
 * counters, neighbour cache, TX buffers, the loopback queue. Nothing here is locked on a data-path
 * lcore; other threads reach it through its control ring (lcore/ctrl.h) and read its counters. An
 * inline lcore is turned by application threads (the one that claimed it, or the one that started the
 * stack): a turn lock, taken once per turn, keeps a second thread (another turner, or one applying a
 * control message) off its state meanwhile.
 */
#ifndef FFNET_LCORE_LCORE_H
#define FFNET_LCORE_LCORE_H

#include <stdatomic.h>
#include <rte_common.h>
#include <rte_mbuf.h>
#include <rte_ring.h>
#include <rte_spinlock.h>

#include <pthread.h>

#include "stack/stack.h"
#include "stack/iface/neigh.h"
#include "stack/iface/addr6.h"
#include "stack/iface/route.h"
#include "stack/iface/route6.h"
#include "stack/phy/capture.h"
#include "stack/phy/cluster.h"
#include "stack/phy/exception.h"
#include "stack/phy/fault.h"
#include "stack/sock/demux.h"
#include "stack/sock/sock.h"
#include "stack/wire/ipv6.h"
#include "stack/wire/wire.h"

#define FFS_BURST 32
#define FFS_LOOPBACK_QUEUE 1024
#define FFS_MAX_GROUPS 256
#define FFS_TX_RING 4096
/** Datagrams a lcore gathers for sockets before it queues them (iface/udp.c): a burst from each of a
 *  few sources, or a broadcast's copies. */
#define FFS_RX_STAGE (FFS_BURST * 4)
/** What a mbuf on a lcore's peer ring is (in m->hash.usr): an ARP clone, a steered IPv4 or IPv6 fragment, a
 *  reassembled UDP datagram for its socket's home lcore, or a received frame from the software RSS
 *  dispatcher (Ethernet header in place). */
#define FFS_PEER_ARP 1
#define FFS_PEER_FRAGMENT 2
#define FFS_PEER_DATAGRAM 3
#define FFS_PEER_FRAME 4
#define FFS_PEER_FRAGMENT6 5
/** A Neighbor Discovery message (data at its IPv6 header) cloned to every lcore, as ARP's are. */
#define FFS_PEER_ND 6
#define FFS_NO_TXQ 0xffff
/** States of a ping waiter (ffs_stack.ping_waiters, low 16 bits of its word). */
enum { FFS_PING_FREE, FFS_PING_CLAIMED, FFS_PING_WAITING, FFS_PING_FILLING, FFS_PING_DONE };

/** A port as the stack runs it, shared by all lcores: fixed after start but for what ifconfig changes
 *  (address, MTU, up) — single words any thread reads atomically, written by the control plane
 *  (stack.c) before it tells every lcore; an address and its netmask as a pair come from the routing
 *  table (route.h), never from two loads here. Lcore 0 alone writes the rx_nombuf watch. */
struct ffs_port {
	uint16_t port_id;
	uint16_t index; /**< position in ffs_stack.ports */
	struct eth_addr mac;
	_Atomic uint32_t addr, netmask, broadcast;
	uint32_t gateway; /**< the configured gateway (the default route's, at start) */
	/** Further addresses ([portN] vip_addr, ifconfig inet ADDR alias), which iface/route.c answers for:
	 *  two copies under a latch (iface/latch.h) as the routing table keeps its own, so that a reader
	 *  never waits and never sees an address paired with another netmask; written under its write lock. */
	struct ffs_vips {
		uint32_t seq;
		struct {
			uint32_t n;
			struct ffs_ifaddr a[FFS_MAX_VIP];
		} copy[2];
	} vips;
	_Atomic uint16_t mtu;
	/** IEEE 802.1Q VID every frame of the port carries ([portN] vlan_id), 0 = untagged; whether the
	 *  device strips and filters received tags (vlan_rx_offload) and inserts sent ones (vlan_tx_offload) —
	 *  else iface/ethernet.c does it in software. */
	uint16_t vlan_id;
	bool vlan_rx_offload, vlan_tx_offload;
	atomic_bool up;   /**< administratively up: a down port's frames are dropped and counted */
	struct wire_csum_caps caps;
	bool rx_ipv4_cksum, rx_l4_cksum; /**< the device flags receive checksums per packet */
	/** The device takes multi-segment (chained) mbufs to send: an IP packet up to the MTU leaves whole
	 *  as a chain. Without it a chain leaves in fragments of one mbuf each (iface/ipv4_frag.c). */
	bool tx_multi_seg;
	bool rx_intr; /**< RX queues have interrupt fds: idle lcores can sleep until traffic */
	/** Per RX queue, the fd an idle lcore waits on (with rx_intr): ethdev's interrupt fd, armed around
	 *  the sleep (rx_intr_armed), or the queue's own socket, readable while frames wait (AF_PACKET, AF_XDP). */
	int rx_wait_fd[FFS_MAX_LCORES];
	bool rx_intr_armed;
	uint16_t nb_rxd, nb_txd; /**< descriptors per RX and per TX queue (or the mbufs a queue really holds, when more: AF_XDP) */
	/** RX and TX queues: one per lcore, or fewer when the device has fewer. Lcores at or above
	 *  nb_rxq receive this port's frames from the software dispatcher (rx_dispatch) of those below;
	 *  lcore i sends on TX queue i mod nb_txq, under tx_lock when lcores share queues. */
	uint16_t nb_rxq, nb_txq;
	bool rx_dispatch;
	rte_spinlock_t tx_lock[FFS_MAX_LCORES];
	int rx_restart_signal; /**< net_tap: the signal that makes it read a stalled queue again (phy/port.c) */
	/** net_tap: the driver's receive trigger — its signal handler, a plain increment — that the lcores
	 *  move before each receive burst instead of the tun driver's signal per frame (phy/port.c,
	 *  tap_take_trigger), and the signal number it is called with; NULL for other devices. */
	void (*rx_trigger)(int);
	int rx_trigger_sig;
	/** AF_PACKET and AF_XDP report their link up whatever the interface's carrier: the interface whose
	 *  flags say it instead ("" for other devices), and a socket to ask the kernel on (-1: none). */
	char kernel_iface[16];
	int link_sock;
	/** Lcore 0's view of the device's rx_nombuf, and whether it grew since reception last restarted. */
	uint64_t rx_nombuf_seen;
	bool rx_starved;
	/** The exception path toward the kernel (phy/exception.h); exc.on false: none. */
	struct ffs_exception exc;
	char name[64];
	char driver[32];
};

/** A per-second token window: how many events were let through since window_start. */
struct ffs_ratelimit {
	uint64_t window_start; /**< TSC */
	uint32_t sent;
};

/** Frames waiting to be handed to one port's TX queue. */
struct ffs_txbuf {
	uint16_t n;
	uint64_t first_tsc; /**< when the oldest frame was queued */
	struct rte_mbuf *pkts[FFS_BURST];
};

struct ffs_lcore {
	struct ffs_stack *st;
	unsigned index;    /**< position in ffs_stack.lcores (rcu reader id) */
	unsigned lcore_id;
	/** Queues served on every port: RX from each queue in rxq_mask, TX on txq (FFS_NO_TXQ: none,
	 *  frames are dropped and counted). Queue `index` on a single-process stack, whichever thread turns
	 *  the lcore; on a multi-process stack (one lcore per process) the queue table's, a primary's
	 *  changing as workers come and go (phy/cluster.h). */
	uint32_t rxq_mask;
	uint16_t txq;
	uint64_t next_cluster_check;
	uint64_t now;      /**< TSC at the start of this turn */
	/** ipv6_input's last unicast destination and whether it is ours to receive, for the rest of the
	 *  turn while the address table is unchanged (addr6_table.gen): one table walk per destination. */
	struct {
		uint64_t turn;
		uint32_t gen;
		int port;
		bool ours;
		struct ip6_addr dst;
	} rx6_dst;
	uint64_t next_tick;
	struct ffs_counters ctr;
	struct ffs_txbuf tx[FFS_MAX_PORTS];
	struct neigh_table neigh;
	/** This lcore's latest ARP requests and Neighbor Solicitations (neigh_asked_note): an answer one
	 *  lcore asked for teaches all that see it. */
	struct neigh_asked arp_asked, nd_asked;
	/** The IPv6 neighbour cache (iface/nd6.c): the same table and state machine as ARP's. */
	struct neigh_table neigh6;
	/** IPv4 packets (no Ethernet header) addressed to ourselves, processed next turn. */
	uint16_t lo_head, lo_len;
	struct rte_mbuf *lo[FFS_LOOPBACK_QUEUE];
	struct rte_ring *ctrl;    /**< control messages in (multi-producer, single consumer) */
	struct rte_ring *tx_in;   /**< datagrams from applications (mbufs with ffs_meta) */
	/** Sockets that got datagrams (or an error) in this burst, with their datagrams gathered in
	 *  arrival order: queued with one ring enqueue and one SO_RCVBUF charge per socket, then woken
	 *  once, at the end of the burst (iface/udp.c). */
	struct ffs_rx_stage {
		unsigned n_socks, n_pkts;
		struct ffs_rx_staged {
			struct ffs_sock *so;
			int bytes;          /**< SO_RCVBUF charge of its gathered datagrams */
			uint16_t n;         /**< its gathered datagrams, linked through next[] from head */
			uint16_t head, tail;
			bool error;         /**< so_error was set: woken even with no datagram */
		} sock[FFS_BURST];
		uint16_t next[FFS_RX_STAGE];
		struct rte_mbuf *pkts[FFS_RX_STAGE];
	} rx_stage;
	/** Reassembly state of both families (iface/reasm.c). */
	struct ip_reasm *reasm;
	/** IGMP and MLD host state: memberships, query answers, report retransmissions (iface/igmp.c). */
	struct igmp_host *igmp;
	/** The solicited-node groups MLD holds for the ports' addresses (iface/mld6.c). */
	struct mld6_addrs *mld_addrs;
	/** Router advertisements put off while a control-plane writer held the route table (iface/ra6.c). */
	struct ra6_deferred *ra_deferred;
	struct demux_table *demux;
	/** The IPv4 routes compiled for this lcore's lookups (iface/route_fib.c). */
	struct route_fib *fib;
	/** Multicast groups sockets joined on each port (mcast.c): IPv4 and IPv6 input accept these
	 *  (ipv4_group_joined; ipv6_group_joined adds the ports' solicited-node groups). */
	unsigned n_groups;
	struct {
		uint16_t port_index;
		uint8_t family;         /**< 4: group; 6: group6 */
		uint32_t group;
		struct ip6_addr group6;
	} groups[FFS_MAX_GROUPS];
	struct rte_ring *peer_in; /**< from other lcores: ARP clones, IPv4 fragments to reassemble here */
	/** ICMP and ICMPv6 error rate limits (iface/icmp.c's limiter serves both). */
	struct ffs_ratelimit icmp_lim, icmp6_lim;
	uint16_t ip_id; /**< next IPv4 identification */
	/** The fault injector on this lcore's receive queues (phy/fault.h). */
	struct ffs_fault fault;
	/** Lcore 0 watches link state and announces our addresses when a link comes up. */
	bool link_up[FFS_MAX_PORTS];
	uint64_t next_link_check;
	unsigned idle_turns;
	/** The packet pool's occupancy as read at pool_seen_tsc, plus datagrams queued since, and
	 *  ffs_pool_rx_limit as computed then (phy/mbuf.c). */
	uint64_t pool_seen_tsc;
	unsigned pool_in_use;
	unsigned pool_rx_limit;
	uint32_t nap_us; /**< current nap of an idle lcore without RX interrupts (0: idle_sleep) */
	uint64_t napping_since; /**< TSC of the first nap since the lcore last had work */
	/** Idle sleep: an epoll fd over every RX queue's interrupt fd and `wake_fd` (-1 when a port has no
	 *  RX interrupts: then the lcore naps on `wake_fd` alone, loop.c). */
	int epoll_fd;
	int wake_fd;
	atomic_bool sleeping;
	atomic_bool stop;
	/** Inline: held by the thread inside a turn of this lcore, or applying a control message to it
	 *  (two threads never touch the lcore's state at once). */
	atomic_bool turn_lock;
	/** Inline: the thread that claimed this lcore (ffs_stack_claim_lcore; a per-thread token), 0 = none. */
	atomic_uintptr_t claimed_by;
	/** Set by the lcore's thread as its last act (release), again at each exit of a relaunched loop,
	 *  and awaited by ffs_lcore_join (acquire) before teardown or a test's look at the state: the
	 *  hand-over of this state back to the stopping thread is ordered in ffnet's own code, where
	 *  ThreadSanitizer sees it, not only inside DPDK's rte_eal_wait_lcore. */
	atomic_bool exited;
} __rte_cache_aligned;

struct ffs_stack {
	struct rte_mempool *pool;
	bool inline_mode;
	unsigned n_lcores;
	struct ffs_lcore *lcores[FFS_MAX_LCORES];
	/** Inline: the thread that started the stack (its token, see stack.c): ffs_stack_poll's caller. */
	uintptr_t starter;
	unsigned n_ports;
	struct ffs_port ports[FFS_MAX_PORTS];
	struct ffs_conf conf;
	_Atomic int64_t sysctl[FFS_SYSCTL_COUNT];
	/** Bumped by every write to a dev.fault.* tunable: lcores reload their injector when it moves. */
	_Atomic uint32_t fault_gen;
	uint64_t tsc_hz;
	/** Nanoseconds per TSC cycle, in 32.32 fixed point (cycles × this >> 32 = ns). */
	uint64_t tsc_ns_q32;
	uint64_t tx_delay_tsc;
	uint16_t ping_ident;
	/** The routing table and the ports' addresses (iface/route.c). */
	struct route_table routes;
	/** The ports' IPv6 addresses (iface/addr6.c) and the IPv6 routes, routers and path MTUs (iface/route6.c). */
	struct addr6_table addr6;
	struct route6_table routes6;
	/** Echo requests control threads wait for (ffs_stack_ping_wait): (seq << 16) | PING_* state, and
	 *  what the lcore that matched the reply writes before it publishes PING_DONE. The ICMP ident of
	 *  waiter k is ping_ident ^ (0x8000 | k). */
	struct {
		_Atomic uint32_t word;
		struct ffs_ping_result result;
	} ping_waiters[FFS_MAX_PING_WAITERS];
	/** Serialises ifconfig changes (one port change at a time). */
	pthread_mutex_t conf_lock;
	/** Events to the application thread (ring of struct ffs_event) and its eventfd. */
	struct rte_ring *events;
	int event_fd;
	unsigned id; /**< distinguishes ring names across restarts in one process */
	/** Prefix of this stack's ring names: unique across the processes sharing DPDK memory. */
	char name[32];
	/** Multi-process (phy/cluster.h): the shared queue table, whether this is the primary's stack,
	 *  the queue a secondary serves, this process's pid, the rings of ARP clones. */
	struct ffs_cluster_table *cluster;
	const struct rte_memzone *cluster_mz;
	bool secondary;
	int proc_queue;
	int32_t pid;
	/** ARP clones for the worker owning queue k, and (at n_queues) for the primary. */
	struct rte_ring *cluster_arp[FFS_CLUSTER_MAX_QUEUES + 1];
	/** Every lcore, and every application thread inside a call, reports quiescent states here;
	 *  sockets are freed after a grace period (sock/sock.c). Thread id = lcore index, or lcore count
	 *  + DPDK lcore id for an application thread (sock/app.c). */
	struct rte_rcu_qsbr *rcu;
	/** What application threads count (ffs_stack_count_app: relaxed atomic adds), folded into lcore 0's
	 *  counters by ffs_stack_counters. */
	struct ffs_counters app_ctr;
	/* Control-plane state (sock/sock.c, sock/bind.c), under ns_lock. */
	pthread_mutex_t ns_lock;
	/** Held by the application thread waiting out a grace period (sock/app.c ffs_app_synchronize). */
	pthread_mutex_t grace_lock;
	/** Open sockets by id (lcores read a slot with an acquire load: the TX drain). */
	struct ffs_sock *socks[FFS_MAX_SOCKS];
	uint16_t sock_gen[FFS_MAX_SOCKS]; /**< generation of the latest socket of each slot */
	uint32_t sock_high;               /**< slots ever used: every socket's id is below it */
	struct ffs_sock *retired;         /**< closed sockets that a lcore has yet to remove */
	uint64_t bind_seq;
	uint32_t ephemeral_next;
	unsigned n_apps;
	/** Application contexts made so far that took their home in attach order (sock/app.c). */
	unsigned n_homed;
	/** Multicast groups joined per port, counted over every socket's memberships (iface/mcast.c),
	 *  under ns_lock; NULL until the first join. */
	struct mcast_table *mcast;
	/** The capture tap (phy/capture.h): what each port's frames are copied to, if anything. */
	struct ffs_capture_tap tap;
	/** The control server tools talk to (ctl/ctl.h); NULL when it could not start. */
	struct ffs_ctl_server *ctl;
	/** Some port has an exception path toward the kernel (phy/exception.h): the per-packet checks
	 *  that look a port up by address run only then. */
	bool exc_any;
	/** Duplicate Address Detection under way or done (iface/nd6.c), under its own lock. */
	struct nd6_dad_table *dad;
};

/**
 * Whether `r` holds anything, a snapshot taken while other threads enqueue to it (an idle lcore's
 * last look, a readiness poll). rte_ring_count and rte_ring_empty read the tails plainly while
 * producers and consumers store them atomically; these loads are atomic too, relaxed like the reads
 * they replace: the callers order them as before (sleep.c's fence).
 */
static inline bool ffs_ring_nonempty(const struct rte_ring *r)
{
	return __atomic_load_n(&r->prod.tail, __ATOMIC_RELAXED) != __atomic_load_n(&r->cons.tail, __ATOMIC_RELAXED);
}

/** A tunable's current value. */
static inline int64_t ffs_sysctl(const struct ffs_stack *st, enum ffs_sysctl_id id)
{
	return atomic_load_explicit(&((struct ffs_stack *)st)->sysctl[id], memory_order_relaxed);
}

/** Makes the wake eventfd and the idle-sleep epoll set (RX interrupt fds + wake eventfd). 0, or -1
 *  when a port has no RX interrupts (no epoll set; the wake fd alone, unless it failed too). */
int ffs_lcore_sleep_init(struct ffs_lcore *lc);
void ffs_lcore_sleep_fini(struct ffs_lcore *lc);
/** Arms RX interrupts and marks the lcore asleep; false (nothing armed) when work arrived meanwhile. */
bool ffs_lcore_sleep_begin(struct ffs_lcore *lc);
/** Disarms RX interrupts and clears the wake eventfd. */
void ffs_lcore_sleep_end(struct ffs_lcore *lc);
/** Wakes a sleeping lcore (after posting it a message). */
void ffs_lcore_wake(struct ffs_lcore *lc);

/** One turn of the loop: control, peers, loopback, RX on every port, timers, TX flush. */
unsigned ffs_lcore_turn(struct ffs_lcore *lc);
/** Runs the lcore's protocol timers at lc->now: ARP and ND retries and aging, reassembly expiry,
 *  IGMP and MLD reports, router advertisement lifetimes. The loop calls it TICKS_PER_SECOND times a
 *  second; tests and the fuzzer call it after moving lc->now on. */
void ffs_lcore_timers(struct ffs_lcore *lc);

/** Inline: takes lc's turn lock unless a thread holds it (false then). Pair with ffs_lcore_unlock. */
bool ffs_lcore_trylock(struct ffs_lcore *lc);
/** Inline: takes lc's turn lock, waiting for the turn that holds it to end. */
void ffs_lcore_lock(struct ffs_lcore *lc);
void ffs_lcore_unlock(struct ffs_lcore *lc);
/** Whether the calling thread holds lc's turn lock. */
bool ffs_lcore_locked_here(const struct ffs_lcore *lc);
/** Inline: one turn under the lcore's try-lock; 0 when another thread holds it. */
unsigned ffs_lcore_turn_locked(struct ffs_lcore *lc);

/** Routes the lcore's queued datagrams and hands the frames to the devices now (the TX half of a turn). */
void ffs_lcore_kick_tx(struct ffs_lcore *lc);
/** The data-path lcore entry point (rte_eal_remote_launch). */
int ffs_lcore_main(void *arg);
/** Waits until a stopped data-path lcore's thread has left ffs_lcore_main, its state handed back to
 *  the caller (see ffs_lcore.exited). */
void ffs_lcore_join(struct ffs_lcore *lc);

/** Queues a frame (Ethernet header in place) for port `port_index`; flushes when the burst is full. */
void ffs_tx_enqueue(struct ffs_lcore *lc, uint16_t port_index, struct rte_mbuf *m);
/** Hands every queued frame to the devices. */
void ffs_tx_flush_all(struct ffs_lcore *lc);

/** Posts an event to the application thread (drops it if the queue is full). */
void ffs_event_post(struct ffs_stack *st, const struct ffs_event *ev);

#endif
