/*
 * UDP sockets: the objects applications hold, and the control plane that binds, connects and
 * configures them.
 *
 * Files: sock.c the objects and their lifetime (open, close, the grace period before a free) and
 * options; bind.c the port namespace (bind, ephemeral ports, connect, disconnect) and publishing a
 * socket to the lcores; datapath.c the application side of sending and receiving; app.c application
 * contexts (one per application thread: an eventfd and a ready ring); demux.c each lcore's private
 * table of the sockets it delivers to.
 * May call: lcore/ctrl.h to update every lcore's private demux table; iface/ for route checks. The
 * data path never takes the namespace mutex (ns_lock): lcores see sockets only through their own
 * demux tables (sock/demux.h), changed by control messages.
 *
 * Data moves through rings: a socket's RX ring carries mbufs from lcores to its application
 * (payload at the data pointer, addresses in the mbuf's ffs_meta); each lcore's TX ring carries
 * mbufs from applications (payload in place, destination and socket in ffs_meta).
 *
 * Every function returns 0 (or a count) on success and a negative errno on failure, with the
 * errno Linux gives for the same UDP call; the posix/ layer turns these into errno.
 */
#ifndef FFNET_SOCK_SOCK_H
#define FFNET_SOCK_SOCK_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <pthread.h>

#include "stack/stack.h"
#include "stack/wire/ipv4.h"

#define FFS_MAX_SOCKS 4096
#define FFS_MAX_MEMBERSHIPS 20 /**< per socket, as Linux's igmp_max_memberships */
#define FFS_SOCK_RX_RING 4096  /**< datagrams; SO_RCVBUF bounds bytes below this */
#define FFS_UDP_MAX_PAYLOAD 65507
/** Bytes charged against SO_RCVBUF/SO_SNDBUF per datagram on top of its payload (Linux charges skb truesize). */
#define FFS_DGRAM_OVERHEAD 256

struct rte_ring;
struct rte_mbuf;
struct ffs_ctrl_msg;

/** One application thread's view of the stack. */
/** ffs_app.notified: not woken since the last re-arm; woken through event_fd; woken without a
 *  system call by the application's own thread, which turned the lcore and drains after its turn. */
enum { FFS_NOTIFIED_NONE, FFS_NOTIFIED_EVENTFD, FFS_NOTIFIED_INLINE };

struct ffs_app {
	int event_fd;           /**< readable when a socket of this app has data or an error */
	/** FFS_NOTIFIED_*: set by the lcore that woke the application; cleared by the app before draining. */
	atomic_uchar notified;
	struct rte_ring *ready; /**< ids of sockets that became readable (multi-producer) */
	unsigned id;
	/** The lcore index this thread's sockets live on: their TX ring, and the reusePort member that
	 *  lcore's flows go to (the lcore the thread turns inline, or one given in attach order). */
	unsigned home;
};

/** One membership (IP_ADD_MEMBERSHIP or a source-specific one). */
struct ffs_membership {
	uint32_t group;
	uint32_t ifaddr; /**< the port's address, or 127.0.0.1 for the loopback interface */
	uint32_t source; /**< 0 = any source */
};

/** One IPv6 membership (IPV6_JOIN_GROUP, or MCAST_JOIN_SOURCE_GROUP with a source). */
struct ffs_membership6 {
	struct ip6_addr group;
	struct ip6_addr source; /**< :: = any source */
	uint16_t port;          /**< the port index it was joined on */
};

struct ffs_sock {
	uint32_t id;
	uint16_t gen;
	atomic_bool in_use; /**< cleared by close while other threads' calls look the socket up */
	bool addr_locked; /**< the local address was chosen by bind, not by connect */
	bool port_locked; /**< the local port was chosen by bind (a non-zero port), not automatically */
	struct ffs_app *app;
	/** The thread that opened it (kernel tid and name), as `ffnet netstat -a` shows its owner. */
	int owner_tid;
	char owner_thread[16];
	/* Addressing (host order; written by the control plane, copied into lcore demux tables). */
	uint32_t laddr;
	uint16_t lport;
	uint32_t raddr;
	uint16_t rport;
	bool bound;
	bool connected;
	/* AF_INET6 (ffs_sock_set_family): the addresses as the application sees them, network order.
	 * A v4-mapped address (::ffff:a.b.c.d) or :: is mirrored in laddr/raddr, so that the IPv4 data
	 * path serves a dual-stack socket's IPv4 traffic without knowing of IPv6 (ffs_sock_has_v4). */
	bool v6;
	bool v6only;      /**< IPV6_V6ONLY: `::` takes no IPv4 */
	uint8_t laddr6[16];
	uint8_t raddr6[16];
	uint32_t scope_id; /**< of laddr6 when link-local (a port index + 1) */
	int16_t hops;      /**< IPV6_UNICAST_HOPS, -1 = net.inet6.ip6.hlim */
	int16_t mcast_hops; /**< IPV6_MULTICAST_HOPS */
	uint8_t tclass;    /**< IPV6_TCLASS */
	uint32_t mcast_if6; /**< IPV6_MULTICAST_IF: interface index (port index + 1), 0 = any */
	/* Options. */
	bool reuseaddr, reuseport, broadcast;
	bool mcast_loop, mcast_all;
	/** IP_PKTINFO, IPV6_RECVPKTINFO: each received datagram's destination and interface are
	 *  reported (ffs_dgram_in.pktinfo); read once per receive, never by lcores. */
	bool recv_pktinfo, recv_pktinfo6;
	uint8_t ttl, tos, mcast_ttl;
	uint32_t mcast_if;
	atomic_bool nonblock; /**< set by fcntl/ioctl while other threads' calls read it */
	int rcvbuf; /**< bytes, as getsockopt reports them (Linux doubles what setsockopt asked for) */
	int sndbuf;
	unsigned n_memberships;
	struct ffs_membership memberships[FFS_MAX_MEMBERSHIPS];
	unsigned n_memberships6;
	struct ffs_membership6 memberships6[FFS_MAX_MEMBERSHIPS];
	uint64_t bind_seq; /**< order of binding, for SO_REUSEADDR delivery (newest wins, as Linux) */
	unsigned tx_lcore; /**< lcore index whose TX ring this socket uses (keeps its datagrams in order) */
	/* Receive side: lcores produce, the app consumes. */
	struct rte_ring *rx;
	struct rte_mbuf *peeked;  /**< a datagram taken off rx by MSG_PEEK or FIONREAD, delivered next */
	atomic_int rx_bytes;      /**< charged bytes queued in rx */
	atomic_bool rx_listed;    /**< id is in app->ready */
	atomic_int so_error;      /**< pending asynchronous error (positive errno), e.g. ECONNREFUSED */
	atomic_ullong rx_dropped; /**< datagrams dropped because rx was full (SO_RCVBUF) */
	/* Send side. */
	atomic_int tx_bytes;      /**< charged bytes handed to lcores and not yet sent */
	atomic_int tx_count;
	atomic_bool closing;
	/* Closing (control plane). */
	bool published;                   /**< lcores were told of it: they must be told to remove it */
	struct ffs_sock *retired_next;    /**< in ffs_stack.retired */
	struct ffs_ctrl_msg *retired_by;  /**< the removal some lcore has yet to apply */
};

/** Metadata the stack keeps in a datagram's mbuf (a dynamic field). */
struct ffs_meta {
	uint32_t src, dst;     /**< host order; TX src 0 = the outgoing port's address */
	uint16_t sport, dport;
	uint16_t sock_id;      /**< TX: the sending socket, and its generation (a closed socket's id is reused) */
	uint16_t sock_gen;
	uint8_t ttl, tos;
	uint8_t flags;         /**< TX: FFS_META_* */
	uint8_t pad;
};
#define FFS_META_MCAST_LOOP 0x01 /**< TX: deliver a multicast datagram to local members too */
/**
 * An IPv6 datagram. RX: src is the distance from the payload back to its IPv6 header, left in the
 * headroom (the source address 8 bytes into it), dst the scope (RX port index + 1). TX: the source
 * and destination addresses wait in the headroom, FFS_UDP6_SRC_OFF / FFS_UDP6_DST_OFF bytes before
 * the payload (where the IPv6 header will carry them), dst is the scope (port index + 1, 0: none),
 * ttl the hop limit (0: net.inet6.ip6.hlim), tos the traffic class.
 */
#define FFS_META_V6 0x02
#define FFS_UDP6_SRC_OFF 40 /**< UDP header 8 + IPv6 header up to its source (40 - 8) */
#define FFS_UDP6_DST_OFF 24 /**< UDP header 8 + IPv6 header up to its destination (40 - 24) */
/** The largest UDP payload over IPv6 without jumbograms: 65535 - 8 (RFC 8200 §5). */
#define FFS_UDP6_MAX_PAYLOAD 65527


/* A socket's IPv6 addresses are byte arrays (network order), struct ip6_addr's layout: these read
 * them through the wire's helpers (stack/wire/ipv6.h). */
static inline const struct ip6_addr *ffs_in6(const uint8_t a[16]) { return (const struct ip6_addr *)a; }
static inline bool ffs_in6_is_v4mapped(const uint8_t a[16]) { return ip6_is_v4mapped(ffs_in6(a)); }
static inline bool ffs_in6_is_any(const uint8_t a[16]) { return ip6_is_unspecified(ffs_in6(a)); }
static inline bool ffs_in6_is_loopback(const uint8_t a[16]) { return ip6_is_loopback(ffs_in6(a)); }
/** fe80::/10: the sources a receiver reports with their link's scope id (as Linux and node:dgram do). */
static inline bool ffs_in6_is_linklocal(const uint8_t a[16]) { return ip6_is_linklocal(ffs_in6(a)); }
static inline uint32_t ffs_in6_v4(const uint8_t a[16]) { return ip6_to_v4(ffs_in6(a)); }
static inline void ffs_in6_from_v4(uint32_t v4, uint8_t out[16]) { ip6_from_v4mapped(v4, (struct ip6_addr *)out); }

/** The source every datagram of `so` carries whatever its destination: its local address when that is
 *  unicast (not 0, a group or 255.255.255.255, which a bind may also hold), else 0. */
static inline uint32_t ffs_sock_unicast_source(const struct ffs_sock *so)
{
	return so->laddr && !ipv4_is_multicast(so->laddr) && so->laddr != 0xffffffffu ? so->laddr : 0;
}

/** Whether so takes and sends IPv4: an AF_INET socket, or an AF_INET6 one bound to a v4-mapped
 *  address, or to :: without IPV6_V6ONLY (Linux's dual stack, RFC 3493 §3.7). */
static inline bool ffs_sock_has_v4(const struct ffs_sock *so)
{
	return !so->v6 || ffs_in6_is_v4mapped(so->laddr6) || (ffs_in6_is_any(so->laddr6) && !so->v6only);
}

/** Whether so takes and sends IPv6 proper (not v4-mapped). */
static inline bool ffs_sock_has_v6(const struct ffs_sock *so)
{
	return so->v6 && !ffs_in6_is_v4mapped(so->laddr6);
}

/** Creates the calling thread's application context (registering the thread with DPDK if needed). */
struct ffs_app *ffs_app_new(struct ffs_stack *st);
void ffs_app_free(struct ffs_stack *st, struct ffs_app *app);
/** Makes lcore `index` (modulo the lcore count) app's home: call before the thread opens sockets. */
void ffs_app_set_home(struct ffs_stack *st, struct ffs_app *app, unsigned index);
/**
 * Clears the wake-up so that a later arrival writes event_fd again, fenced before the caller's drain
 * of the ready ring; call before draining. True when an eventfd write is due (or done) for the
 * caller to read (not after a wake-up handed over inline, ffs_app_turn_begin).
 */
bool ffs_app_rearm(struct ffs_app *app);
/**
 * Inline mode: the calling thread owns `app` and is about to turn lcores, and drains app's ready
 * list after the turns when ffs_app_turn_end says so. Until then a lcore this thread turns wakes app
 * without writing its eventfd (a write, an epoll_wait and a read per wake-up saved); other threads'
 * lcores still write it. NULL: back to eventfd wake-ups only.
 */
void ffs_app_turn_begin(struct ffs_app *app);
/** Ends ffs_app_turn_begin's window; true when the turns woke its app inline (it is to drain now). */
bool ffs_app_turn_end(struct ffs_app *app);
/** After draining an inline wake-up: if nothing re-armed it (the drain did not happen), writes the
 *  eventfd after all, so that the wake-up is not lost. */
void ffs_app_inline_unread(struct ffs_app *app);
/**
 * Makes the calling thread a reader of sockets (rte_rcu_qsbr) until the matching ffs_app_leave, so
 * that a socket it finds with ffs_sock_get stays allocated while another thread closes it. Calls nest.
 * False when the thread cannot be registered with DPDK (no lcore id left): it must not look sockets up.
 */
bool ffs_app_enter(struct ffs_stack *st);
void ffs_app_leave(struct ffs_stack *st);
/**
 * The calling thread is done with the stack (outside any reader section): gives back its reader slot
 * and the DPDK lcore id it registered for (RTE_MAX_LCORE of them serve every thread that ever calls
 * in). A later call registers it again.
 */
void ffs_app_thread_leave(struct ffs_stack *st);
/** True inside ffs_app_enter/ffs_app_leave on this thread. */
bool ffs_app_reading(void);
/** Inside a reader section: this thread holds no socket now (a wait between lookups), so closes
 *  need not wait for it. */
void ffs_app_quiescent(struct ffs_stack *st);
/** Inside a reader section: holds no socket until ffs_app_resume (a sleep); look sockets up again after. */
void ffs_app_pause(struct ffs_stack *st);
void ffs_app_resume(struct ffs_stack *st);
/** Waits until every lcore and every other application thread has held no socket since the call began. */
void ffs_app_synchronize(struct ffs_stack *st);
/** Application side: takes a socket taken from the ready ring off its listing, fenced before the
 *  caller looks at the socket's RX ring (so a lcore queueing meanwhile lists it again). */
void ffs_sock_unlist(struct ffs_sock *so);
/** Takes up to max ids of sockets that became readable or got an error. */
unsigned ffs_app_ready(struct ffs_app *app, uint32_t *ids, unsigned max);

/** What ffs_sock_signal did: nothing (already listed or notified), an eventfd write, an inline wake-up. */
enum ffs_wake { FFS_WAKE_NONE, FFS_WAKE_EVENTFD, FFS_WAKE_INLINE };
/** Lcore side: marks a socket readable and wakes its application (at most one eventfd write per
 *  wake-up, none when the application's thread is the one turning, ffs_app_turn_begin). */
enum ffs_wake ffs_sock_signal(struct ffs_sock *so);

int ffs_sock_open(struct ffs_stack *st, struct ffs_app *app, struct ffs_sock **out);
/** Makes so an AF_INET6 socket (before any bind), its IPV6_V6ONLY from net.inet6.ip6.v6only. */
void ffs_sock_set_family6(struct ffs_stack *st, struct ffs_sock *so);
/**
 * Binds an AF_INET6 socket (Linux's inet6_bind): a v4-mapped address binds the IPv4 one (-EINVAL with
 * IPV6_V6ONLY); `::` binds both families unless IPV6_V6ONLY; a link-local address needs scope_id
 * (-EINVAL without, -ENODEV for no such interface). -EADDRINUSE, -EADDRNOTAVAIL as ffs_sock_bind.
 */
int ffs_sock_bind6(struct ffs_stack *st, struct ffs_sock *so, const uint8_t addr[16], uint32_t scope_id, uint16_t port);
/** Connects an AF_INET6 socket: a v4-mapped peer through IPv4 (-ENETUNREACH with IPV6_V6ONLY); `::`
 *  means ::1, as Linux's. */
int ffs_sock_connect6(struct ffs_stack *st, struct ffs_sock *so, const uint8_t addr[16], uint32_t scope_id, uint16_t port);
/** Binds to addr:port (0.0.0.0 = any local address; port 0 = an ephemeral port). -EADDRINUSE, -EADDRNOTAVAIL, -EINVAL. */
int ffs_sock_bind(struct ffs_stack *st, struct ffs_sock *so, uint32_t addr, uint16_t port);
/** Linux's autobind before a send, or before connect looks at its address (inet_dgram_connect): an
 *  ephemeral port unless so is bound (takes ns_lock). */
int ffs_sock_autobind(struct ffs_stack *st, struct ffs_sock *so);
/** Connects (filters by peer; binds implicitly). addr 0 with port 0 (AF_UNSPEC) disconnects. */
int ffs_sock_connect(struct ffs_stack *st, struct ffs_sock *so, uint32_t addr, uint16_t port);
int ffs_sock_disconnect(struct ffs_stack *st, struct ffs_sock *so);
/**
 * Closes: removes it from every lcore, then frees it and what it queued once every lcore and every
 * other application thread has passed a quiescent state (rte_rcu_qsbr), so neither a lcore in the
 * middle of a burst nor another thread's call touches freed memory. When a lcore does not acknowledge
 * the removal in time, the socket waits in ffs_stack.retired until it has, and a later open or close
 * frees it. -EBADF when another thread closed it first. `so` is invalid afterwards.
 */
int ffs_sock_close(struct ffs_stack *st, struct ffs_sock *so);
/** Frees every socket, open or retired, without telling the lcores: for a stopped stack. */
void ffs_socks_free(struct ffs_stack *st);
struct ffs_sock *ffs_sock_get(struct ffs_stack *st, uint32_t id);

/**
 * Sends one datagram of `len` bytes gathered from iov (payload copied once into mbufs). dst 0 uses
 * the connected peer. Fails with Linux's errors: -EDESTADDRREQ, -EISCONN (dst on a connected socket is
 * allowed and overrides, as on Linux), -EMSGSIZE, -EACCES (broadcast without SO_BROADCAST),
 * -ENETUNREACH, -ENOBUFS/-EAGAIN (SO_SNDBUF full on a non-blocking socket), -ECONNREFUSED (pending).
 */
struct iovec;
int ffs_sock_sendv(struct ffs_stack *st, struct ffs_sock *so, const struct iovec *iov, int iovcnt, uint32_t dst,
		   uint16_t dport);
/**
 * Sends the mbuf chain m (payload only, headroom left for the headers) as one datagram, without a
 * copy: the checks, errors, waits and SO_SNDBUF accounting of ffs_sock_sendv. On success the stack
 * owns m; on any failure m stays the caller's.
 */
struct rte_mbuf;
int ffs_sock_send_mbuf(struct ffs_stack *st, struct ffs_sock *so, struct rte_mbuf *m, uint32_t dst, uint16_t dport);
/** A received datagram's source as an AF_INET6 socket reports it (an IPv4 one v4-mapped). */
struct ffs_src6 {
	uint8_t addr[16];
	uint32_t scope_id; /**< of a link-local source: the port it came by (index + 1) */
};
/** Received datagram m's source as an AF_INET6 socket reports it, and its destination into dst (16
 *  bytes) unless NULL: IPv6 from the header left in the headroom (FFS_META_V6), IPv4 v4-mapped. */
void ffs_dgram_addrs6(struct rte_mbuf *m, struct ffs_src6 *src, uint8_t *dst);
/**
 * Receives one datagram into iov; returns its full length (truncated copies set *truncated), fills
 * src/sport (and the local dst address). -EAGAIN when empty; -ECONNREFUSED (once) after an ICMP error.
 */
int ffs_sock_recvv(struct ffs_stack *st, struct ffs_sock *so, const struct iovec *iov, int iovcnt, uint32_t *src,
		   uint16_t *sport, uint32_t *dst, bool *truncated, bool peek);
/** ffs_sock_recvv for an AF_INET6 socket: the source as it reports it into *src6. */
int ffs_sock_recvv6(struct ffs_stack *st, struct ffs_sock *so, const struct iovec *iov, int iovcnt, struct ffs_src6 *src6,
		    uint16_t *sport, bool *truncated, bool peek);
struct ip6_addr;
/**
 * Sends one datagram from an AF_INET6 socket to dst (NULL: the connected peer) over IPv6: from iov,
 * or the mbuf chain m as ffs_sock_send_mbuf. `scope` is the interface (port index + 1) of a
 * link-local or multicast dst. ffs_sock_sendv's errors, and -EINVAL for a link-local dst without a
 * scope.
 */
int ffs_sock_sendv6(struct ffs_stack *st, struct ffs_sock *so, const struct iovec *iov, int iovcnt, struct rte_mbuf *m,
		    const struct ip6_addr *dst, uint32_t scope, uint16_t dport);
/** One datagram of a send burst: its payload, and its destination (0 and 0: the connected peer). */
struct ffs_dgram_out {
	const struct iovec *iov;
	int iovcnt;
	uint32_t dst;
	uint16_t dport;
	/** An AF_INET6 socket's IPv6 destination (dst unused), with the interface (port index + 1) of a
	 *  link-local or multicast one in scope; NULL: IPv4 (dst, or the connected peer). */
	const struct ip6_addr *dst6;
	uint32_t scope;
	/** IP_PKTINFO's source for an IPv4 datagram (host order, checked by ffs_sock_check_source); 0: the
	 *  socket's own choice. An IPv6 datagram's chosen source is src6 (NULL: the socket's). */
	uint32_t src;
	const struct ip6_addr *src6;
};
/**
 * Sends one datagram d as ffs_sock_sendv (d->dst6: ffs_sock_sendv6) does, from the source it names
 * (d->src, d->src6: checked with ffs_sock_check_source/6, whose errors it gives), copied from d->iov,
 * or the mbuf chain m as ffs_sock_send_mbuf.
 */
int ffs_sock_send_dgram(struct ffs_stack *st, struct ffs_sock *so, const struct ffs_dgram_out *d, struct rte_mbuf *m);
/**
 * Sends v[0..n) in order as that many ffs_sock_sendv (ffs_sock_sendv6 for those with dst6) calls
 * would, with one SO_SNDBUF charge, one bulk mbuf allocation and one TX ring enqueue for the lot. Never blocks and never fails: returns
 * how many were sent (k ≤ n). When k < n, datagram k was not sent — it fails, must wait for
 * SO_SNDBUF room, finds the pool or ring full, or an error is pending — and the caller sends it with
 * ffs_sock_sendv, which gives it the errno (or the wait) a single send would.
 */
int ffs_sock_sendv_burst(struct ffs_stack *st, struct ffs_sock *so, const struct ffs_dgram_out *v, unsigned n);

/**
 * Where a received datagram arrived (IP_PKTINFO, IPV6_PKTINFO): its destination address as the IP
 * header carried it and the interface (port index + 1) it came in by — for a datagram the stack
 * looped back to itself, the interface of the address it was sent to, as Linux reports it.
 */
struct ffs_pktinfo {
	uint32_t dst;     /**< IPv4 (host order); 0 for an IPv6 datagram */
	uint8_t dst6[16]; /**< IPv6, or the IPv4 one v4-mapped */
	uint32_t ifindex;
};
/** Fills *out for received datagram m. */
void ffs_dgram_pktinfo(const struct ffs_stack *st, struct rte_mbuf *m, struct ffs_pktinfo *out);

/** One datagram of a receive burst: the buffers to fill (in), its addresses and sizes (out). */
struct ffs_dgram_in {
	const struct iovec *iov;
	int iovcnt;
	uint32_t src, dst;
	uint16_t sport;
	bool truncated;
	int len; /**< the datagram's full length */
	struct ffs_src6 src6; /**< an AF_INET6 socket's: the source as it reports it (src unset) */
	/** Filled only when the socket asked for it (recv_pktinfo or recv_pktinfo6). */
	struct ffs_pktinfo pktinfo;
};
/**
 * Receives one datagram into d->iov as ffs_sock_recvv (ffs_sock_recvv6 for an AF_INET6 socket) does,
 * filling in the rest of *d, and d->pktinfo when the socket asked for it. The datagram's full
 * length, or -EAGAIN, or a pending error.
 */
int ffs_sock_recv_one(const struct ffs_stack *st, struct ffs_sock *so, struct ffs_dgram_in *d, bool peek);

/**
 * Checks a source an application chose for one datagram (IP_PKTINFO's ipi_spec_dst, a send's
 * `from`), as Linux's ip_route_output does: a multicast, broadcast or 0.0.0.0 source, or a loopback
 * one to anywhere but the loopback, is -EINVAL; an address that is not the stack's own is
 * -ENETUNREACH (Linux's answer for a source no interface holds).
 */
int ffs_sock_check_source(const struct ffs_stack *st, uint32_t src, uint32_t dst);
/** As ffs_sock_check_source for IPv6 (Linux's ipv6_chk_addr in ip6_datagram_send_ctl): a source that
 *  is not one of the stack's unicast addresses (nor ::1) is -EINVAL. */
int ffs_sock_check_source6(const struct ffs_stack *st, const struct ip6_addr *src);
/**
 * Receives up to n queued datagrams as that many ffs_sock_recvv calls (without peek) would, with one
 * ring dequeue and one SO_RCVBUF release. Returns how many (0 when none is queued or an error is
 * pending: ffs_sock_recvv then reports which).
 */
int ffs_sock_recvv_burst(struct ffs_stack *st, struct ffs_sock *so, struct ffs_dgram_in *v, unsigned n);
/** Where ffs_sock_recv_packed put one datagram, and where it came from (host order). */
struct ffs_dgram_packed {
	uint32_t offset;
	uint32_t len;
	uint32_t src;
	uint32_t sport;
};
/**
 * Copies up to n queued datagrams back to back into buf[0..cap), each at an 8-byte-aligned offset,
 * described in v; per burst of FFS_BURST one ring dequeue, one SO_RCVBUF release and one bulk free.
 * Stops before the first that does not fit, which stays queued and is the next received. Returns how
 * many (0 when none is queued or the next does not fit). Pending errors are the caller's to check.
 * An IPv6 datagram (FFS_PACKED_V6 in sport) has its source address in the 16 bytes before it.
 * info, unless NULL, gets where each arrived (ffs_dgram_pktinfo).
 */
int ffs_sock_recv_packed(const struct ffs_stack *st, struct ffs_sock *so, uint8_t *buf, size_t cap,
			 struct ffs_dgram_packed *v, unsigned n, struct ffs_pktinfo *info);
/**
 * ffs_dgram_packed.sport flag: an IPv6 datagram, whose source address lies `src` bytes before its
 * payload (16 bytes), the scope id of a link-local source in bits 24..31.
 */
#define FFS_PACKED_V6 0x20000u
/** Writes IPv6 datagram m's source at `at` (16 bytes just before where its payload goes) and marks v
 *  with FFS_PACKED_V6 (src = 16). */
void ffs_packed_src6(struct rte_mbuf *m, uint8_t *at, struct ffs_dgram_packed *v);
/**
 * The queued datagrams' first n (≤ FFS_BURST) mbufs, in order, left queued: the one MSG_PEEK or
 * FIONREAD holds, then the ring's (rte_ring_dequeue_burst_start). Every call is followed by
 * ffs_sock_rx_take before the socket is received from again.
 */
unsigned ffs_sock_rx_peek(struct ffs_sock *so, struct rte_mbuf **pkts, unsigned n);
/** Takes the first k of what ffs_sock_rx_peek returned off the socket (still charged against
 *  SO_RCVBUF); the rest stay queued, in order. */
void ffs_sock_rx_take(struct ffs_sock *so, unsigned k);
/**
 * Lends up to n (≤ FFS_BURST) queued datagrams' mbufs, in order, in one dequeue: they stay charged
 * against SO_RCVBUF, marked with the socket (ffs_meta sock_id, sock_gen), until ffs_sock_rx_return.
 */
unsigned ffs_sock_rx_lend(struct ffs_sock *so, struct rte_mbuf **pkts, unsigned n);
/**
 * Gives back lent datagrams from any thread inside a reader section (ffs_app_enter): releases their
 * SO_RCVBUF charge (one update per run from the same socket, none for a socket closed since) and
 * frees them in one bulk release.
 */
void ffs_sock_rx_return(struct ffs_stack *st, struct rte_mbuf **pkts, unsigned n);
/** Releases `bytes` of lent datagrams' SO_RCVBUF charge from socket slot `id` if it still holds the
 *  socket of generation `gen` (a closed socket's slot may hold another), inside a reader section. */
void ffs_sock_rx_uncharge(struct ffs_stack *st, uint32_t id, uint16_t gen, int bytes);
/** Bytes of the next datagram (FIONREAD), 0 when none. */
int ffs_sock_next_len(struct ffs_sock *so);
/** True when a datagram or an error is waiting. */
bool ffs_sock_readable(struct ffs_sock *so);
/** True when SO_SNDBUF has room. */
bool ffs_sock_writable(struct ffs_sock *so);

/**
 * IPv6 membership changes (MLD reports on a port's first join and last leave, as IGMP's) on interface
 * `ifindex` (port index + 1; 0: the first port with IPv6 on, as Linux's route to ff00::/8), from
 * `source` (NULL: any). Linux's errors: -EINVAL
 * (not multicast), -ENODEV (no such interface), -EADDRINUSE (joined already), -EADDRNOTAVAIL (leaving
 * what was not joined), -ENOBUFS (too many).
 */
int ffs_sock_join6(struct ffs_stack *st, struct ffs_sock *so, const struct ip6_addr *group, uint32_t ifindex,
		   const struct ip6_addr *source);
int ffs_sock_leave6(struct ffs_stack *st, struct ffs_sock *so, const struct ip6_addr *group, uint32_t ifindex,
		    const struct ip6_addr *source);

/**
 * Membership changes (IGMP reports go out on the first join and last leave of a group on a port) on
 * the interface holding `ifaddr`, or, for INADDR_ANY, the one the route to the group leaves by (Linux's
 * choice): -ENODEV when no route covers the group, as on a Linux host without a default route.
 */
int ffs_sock_join(struct ffs_stack *st, struct ffs_sock *so, uint32_t group, uint32_t ifaddr, uint32_t source);
int ffs_sock_leave(struct ffs_stack *st, struct ffs_sock *so, uint32_t group, uint32_t ifaddr, uint32_t source);

/**
 * Sets SO_RCVBUF / SO_SNDBUF as Linux does: the value is doubled, and clamped to the minimum below and to
 * kern.ipc.maxsockbuf above (425984 by default, Linux's 2 × net.core.rmem_max).
 */
int ffs_sock_set_buf(const struct ffs_stack *st, struct ffs_sock *so, bool rcv, int bytes);

#endif
