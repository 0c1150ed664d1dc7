/*
 * Socket objects and their lifetime (see sock.h): open, close and the grace period before a closed
 * socket is freed (rte_rcu_qsbr, with the retired list for removals a lcore has yet to apply), the
 * socket options that are more than a field (SO_RCVBUF/SO_SNDBUF), and the socket's own list of
 * multicast memberships (the interface's counts and IGMP are iface/mcast.c's).
 * Owns: ffs_stack.socks, sock_gen and retired, under ns_lock. May call: sock/bind.h to tell lcores
 * of a socket, lcore/ctrl.h, iface/ for memberships; the data path is sock/datapath.c.
 */
#define _GNU_SOURCE /* pthread_getname_np */
#include <errno.h>
#include <stdio.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>
#include <rte_ring.h>

#include "stack/iface/iface.h"
#include "stack/lcore/ctrl.h"
#include "stack/lcore/lcore.h"
#include "stack/sock/bind.h"
#include "stack/sock/sock.h"

/* Linux's default for UDP socket buffers (net.core.rmem_default); the bound is kern.ipc.maxsockbuf. */
#define DEFAULT_BUF 212992
#define MIN_RCVBUF 2304
#define MIN_SNDBUF 4608

struct ffs_sock *ffs_sock_get(struct ffs_stack *st, uint32_t id)
{
	if (id >= FFS_MAX_SOCKS)
		return NULL;
	struct ffs_sock *so = __atomic_load_n(&st->socks[id], __ATOMIC_ACQUIRE);
	return so && so->in_use ? so : NULL;
}

/**
 * A socket's receive ring, in DPDK's heap rather than a memzone of its own (rte_ring_create): the
 * EAL has RTE_MAX_MEMZONE (2560) memzones for the whole process, fewer than FFS_MAX_SOCKS, and logs
 * two lines for each it cannot give. Not in DPDK's ring list either: nothing looks it up by name.
 */
static struct rte_ring *rx_ring_new(const char *name)
{
	ssize_t size = rte_ring_get_memsize(FFS_SOCK_RX_RING);
	if (size < 0)
		return NULL;
	struct rte_ring *r = rte_zmalloc(name, (size_t)size, RTE_CACHE_LINE_SIZE);
	if (r && rte_ring_init(r, name, FFS_SOCK_RX_RING, RING_F_SC_DEQ) != 0) {
		rte_free(r);
		r = NULL;
	}
	return r;
}

/** Frees a socket no lcore can reach any more, with what it queued. */
static void sock_free(struct ffs_sock *so)
{
	void *obj;
	while (so->rx && rte_ring_sc_dequeue(so->rx, &obj) == 0)
		rte_pktmbuf_free(obj);
	rte_pktmbuf_free(so->peeked);
	rte_free(so->rx); /* rx_ring_new: DPDK's heap, not a memzone */
	rte_free(so);
}

/* Caller holds ns_lock. Takes the retired sockets whose removal every lcore has applied off the
 * list, linked by retired_next, for free_after_grace. */
static struct ffs_sock *take_reapable(struct ffs_stack *st)
{
	struct ffs_sock *done = NULL;
	struct ffs_sock **link = &st->retired;
	while (*link) {
		struct ffs_sock *so = *link;
		if (!ffs_ctrl_applied(so->retired_by)) {
			link = &so->retired_next;
			continue;
		}
		*link = so->retired_next;
		ffs_ctrl_put(so->retired_by);
		so->retired_next = done;
		done = so;
	}
	return done;
}

/* Frees the sockets of `list` (linked by retired_next) after a grace period, when no lcore and no
 * other application thread holds them (rte_rcu_qsbr). Called without ns_lock: a thread that holds
 * one of them may be waiting for that lock, and would never report its quiescent state. */
static void free_after_grace(struct ffs_stack *st, struct ffs_sock *list)
{
	if (!list)
		return;
	ffs_app_synchronize(st);
	while (list) {
		struct ffs_sock *next = list->retired_next;
		sock_free(list);
		list = next;
	}
}

/* Caller holds ns_lock. */
static int open_locked(struct ffs_stack *st, struct ffs_app *app, struct ffs_sock **out)
{
	uint32_t id = 0;
	while (id < FFS_MAX_SOCKS && st->socks[id])
		id++;
	if (id == FFS_MAX_SOCKS)
		return -EMFILE;
	/* A fresh object each time: a lcore still holding the slot's previous socket keeps valid memory
	 * until the grace period after its close, and the generation tells the two apart. */
	struct ffs_sock *so = rte_zmalloc("ffs_sock", sizeof(*so), RTE_CACHE_LINE_SIZE);
	if (!so)
		return -ENOMEM;
	uint16_t gen = ++st->sock_gen[id];
	if (id >= st->sock_high)
		st->sock_high = id + 1;
	so->id = id;
	so->gen = gen;
	so->app = app;
	so->owner_tid = (int)syscall(SYS_gettid);
	pthread_getname_np(pthread_self(), so->owner_thread, sizeof(so->owner_thread));
	so->ttl = (uint8_t)ffs_sysctl(st, FFS_SYSCTL_IP_TTL);
	so->mcast_ttl = 1;
	so->mcast_loop = true;
	so->mcast_all = true;
	so->rcvbuf = DEFAULT_BUF;
	so->sndbuf = DEFAULT_BUF;
	/* A socket lives on its thread's home lcore: its datagrams leave from there, and its flows are
	 * steered there (a reusePort member receives that lcore's flows; connect picks a port for it). */
	so->tx_lcore = app->home % st->n_lcores;
	char name[RTE_RING_NAMESIZE];
	snprintf(name, sizeof(name), "%.12s_s%u_%u", st->name, id, gen);
	so->rx = rx_ring_new(name);
	if (!so->rx) {
		rte_free(so);
		return -ENOMEM;
	}
	so->in_use = true;
	__atomic_store_n(&st->socks[id], so, __ATOMIC_RELEASE);
	*out = so;
	return 0;
}

int ffs_sock_open(struct ffs_stack *st, struct ffs_app *app, struct ffs_sock **out)
{
	pthread_mutex_lock(&st->ns_lock);
	struct ffs_sock *reaped = take_reapable(st);
	int rc = open_locked(st, app, out);
	pthread_mutex_unlock(&st->ns_lock);
	free_after_grace(st, reaped);
	return rc;
}

void ffs_sock_set_family6(struct ffs_stack *st, struct ffs_sock *so)
{
	so->v6 = true;
	/* Linux's net.ipv6.bindv6only, read once at creation: 0 (the default) lets `::` take IPv4 too
	 * (RFC 3493 §5.3); IPV6_V6ONLY changes it later. */
	so->v6only = ffs_sysctl(st, FFS_SYSCTL_IP6_V6ONLY) != 0;
	so->hops = -1;
	so->mcast_hops = 1;
}

/**
 * The port of IPv6 interface index `ifindex`, or -ENODEV. 0 picks the interface as Linux's
 * ipv6_sock_mc_join does, by the route to the group: every interface with IPv6 has a route to
 * ff00::/8, so the first port with IPv6 on; none without one.
 */
static int port_of_ifindex(const struct ffs_stack *st, uint32_t ifindex)
{
	if (ifindex == 0) {
		uint32_t scope = ffs_sock_default_scope6(st);
		return scope ? (int)scope - 1 : -ENODEV;
	}
	return ifindex <= st->n_ports ? (int)ifindex - 1 : -ENODEV;
}

/** so's IPv6 membership of group from source on port pi (any port when pi < 0), or NULL. */
static struct ffs_membership6 *membership6(struct ffs_sock *so, const struct ip6_addr *group, int pi,
					   const struct ip6_addr *source)
{
	for (unsigned i = 0; i < so->n_memberships6; i++) {
		struct ffs_membership6 *m = &so->memberships6[i];
		if ((pi < 0 || m->port == pi) && ip6_eq(&m->group, group) && ip6_eq(&m->source, source))
			return m;
	}
	return NULL;
}

int ffs_sock_join6(struct ffs_stack *st, struct ffs_sock *so, const struct ip6_addr *group, uint32_t ifindex,
		   const struct ip6_addr *source)
{
	if (!ip6_is_multicast(group))
		return -EINVAL;
	int pi = port_of_ifindex(st, ifindex);
	if (pi < 0)
		return pi;
	struct ffs_membership6 joined = { .group = *group, .source = source ? *source : IP6_ANY, .port = (uint16_t)pi };
	pthread_mutex_lock(&st->ns_lock);
	int rc;
	if (membership6(so, group, pi, &joined.source))
		rc = -EADDRINUSE;
	else if (so->n_memberships6 == FFS_MAX_MEMBERSHIPS)
		rc = -ENOBUFS;
	else
		rc = mcast_join6(st, (uint16_t)pi, group, &joined.source);
	if (rc == 0)
		so->memberships6[so->n_memberships6++] = joined;
	pthread_mutex_unlock(&st->ns_lock);
	return rc;
}

int ffs_sock_leave6(struct ffs_stack *st, struct ffs_sock *so, const struct ip6_addr *group, uint32_t ifindex,
		    const struct ip6_addr *source)
{
	if (!ip6_is_multicast(group))
		return -EINVAL;
	/* Linux's ipv6_sock_mc_drop: interface 0 leaves the membership of any port. */
	int pi = ifindex ? (int)ifindex - 1 : -1;
	pthread_mutex_lock(&st->ns_lock);
	int rc = -EADDRNOTAVAIL;
	struct ffs_membership6 *m = membership6(so, group, pi, source ? source : &IP6_ANY);
	if (m) {
		struct ffs_membership6 left = *m;
		*m = so->memberships6[--so->n_memberships6];
		rc = mcast_leave6(st, left.port, &left.group, &left.source);
	}
	pthread_mutex_unlock(&st->ns_lock);
	return rc;
}

/** so's membership of group from source on the interface named by ifaddr, or NULL. */
static struct ffs_membership *membership(struct ffs_sock *so, uint32_t group, uint32_t ifaddr, uint32_t source)
{
	for (unsigned i = 0; i < so->n_memberships; i++) {
		struct ffs_membership *m = &so->memberships[i];
		if (m->group == group && m->ifaddr == ifaddr && m->source == source)
			return m;
	}
	return NULL;
}

/**
 * The port an IPv4 membership of `group` on interface address `ifaddr` is for, or -ENODEV: the port
 * holding ifaddr (127.0.0.1: the loopback); without an address (INADDR_ANY) the port of the route to
 * the group, as Linux's ip_mc_find_dev picks it — so none when no route covers the group (no default
 * route and no route to 224.0.0.0/4).
 */
static int membership_port(const struct ffs_stack *st, uint32_t group, uint32_t ifaddr)
{
	if (ifaddr == 0) {
		uint32_t nexthop;
		const struct ffs_port *p = route_lookup(st, group, &nexthop);
		return p ? (int)(p - st->ports) : -ENODEV;
	}
	int pi = mcast_if_port(st, ifaddr);
	return pi < 0 ? -ENODEV : pi;
}

int ffs_sock_join(struct ffs_stack *st, struct ffs_sock *so, uint32_t group, uint32_t ifaddr, uint32_t source)
{
	if (!ipv4_is_multicast(group))
		return -EINVAL;
	int pi = membership_port(st, group, ifaddr);
	if (pi < 0)
		return pi;
	struct ffs_membership joined = { group, mcast_if_addr(st, (unsigned)pi), source };
	pthread_mutex_lock(&st->ns_lock);
	int rc = 0;
	if (membership(so, group, joined.ifaddr, source))
		rc = -EADDRINUSE;
	else if (so->n_memberships == FFS_MAX_MEMBERSHIPS)
		rc = -ENOBUFS;
	else
		rc = mcast_join(st, (uint16_t)pi, group, source);
	if (rc == 0) {
		so->memberships[so->n_memberships++] = joined;
		if (so->bound)
			rc = ffs_sock_publish(st, so);
	}
	pthread_mutex_unlock(&st->ns_lock);
	return rc;
}

int ffs_sock_leave(struct ffs_stack *st, struct ffs_sock *so, uint32_t group, uint32_t ifaddr, uint32_t source)
{
	int pi = membership_port(st, group, ifaddr);
	if (pi < 0)
		return pi;
	pthread_mutex_lock(&st->ns_lock);
	int rc = -EADDRNOTAVAIL;
	struct ffs_membership *m = membership(so, group, mcast_if_addr(st, (unsigned)pi), source);
	if (m) {
		*m = so->memberships[--so->n_memberships];
		rc = mcast_leave(st, (uint16_t)pi, group, source);
		if (rc == 0 && so->bound)
			rc = ffs_sock_publish(st, so);
	}
	pthread_mutex_unlock(&st->ns_lock);
	return rc;
}

int ffs_sock_close(struct ffs_stack *st, struct ffs_sock *so)
{
	pthread_mutex_lock(&st->ns_lock);
	/* Another thread's close of the same descriptor came first: `so` stays allocated until this
	 * thread's call returns (it is a reader), but is no longer the slot's socket. */
	if (st->socks[so->id] != so) {
		pthread_mutex_unlock(&st->ns_lock);
		return -EBADF;
	}
	atomic_store(&so->closing, true);
	so->in_use = false;
	/* Out of the slot first: a TX drain or a call that looks the socket up from now on finds nothing. */
	__atomic_store_n(&st->socks[so->id], NULL, __ATOMIC_RELEASE);
	struct ffs_ctrl_msg *removal = NULL;
	int rc = 0;
	if (so->published) {
		removal = ffs_sock_msg(FFS_CTRL_SOCK_REMOVE, so);
		rc = removal ? ffs_ctrl_all(st, removal) : -ENOMEM;
	}
	mcast_leave_all(st, so->memberships, so->n_memberships);
	so->n_memberships = 0;
	for (unsigned i = 0; i < so->n_memberships6; i++) {
		const struct ffs_membership6 *m = &so->memberships6[i];
		mcast_leave6(st, m->port, &m->group, &m->source);
	}
	so->n_memberships6 = 0;
	struct ffs_sock *gone = take_reapable(st);
	if (rc == 0) {
		/* Every lcore dropped it from its demux table; it is freed once none is mid-burst with it
		 * and no other thread's call holds it. */
		ffs_ctrl_put(removal);
		so->retired_next = gone;
		gone = so;
	} else if (removal) {
		/* A lcore has yet to apply the removal (it may hold the socket until it does): a later
		 * reap frees it once it has. Without a message (no memory) no lcore can be told: it stays. */
		so->retired_by = removal;
		so->retired_next = st->retired;
		st->retired = so;
	}
	pthread_mutex_unlock(&st->ns_lock);
	free_after_grace(st, gone);
	return 0;
}

void ffs_socks_free(struct ffs_stack *st)
{
	for (unsigned i = 0; i < FFS_MAX_SOCKS; i++) {
		if (st->socks[i])
			sock_free(st->socks[i]);
		st->socks[i] = NULL;
	}
	while (st->retired) {
		struct ffs_sock *so = st->retired;
		st->retired = so->retired_next;
		ffs_ctrl_put(so->retired_by);
		sock_free(so);
	}
}

int ffs_sock_set_buf(const struct ffs_stack *st, struct ffs_sock *so, bool rcv, int bytes)
{
	if (bytes < 0)
		return -EINVAL;
	int64_t v = (int64_t)bytes * 2;
	int64_t max = ffs_sysctl(st, FFS_SYSCTL_MAXSOCKBUF);
	if (v > max)
		v = max;
	if (rcv)
		so->rcvbuf = v < MIN_RCVBUF ? MIN_RCVBUF : (int)v;
	else
		so->sndbuf = v < MIN_SNDBUF ? MIN_SNDBUF : (int)v;
	return 0;
}
