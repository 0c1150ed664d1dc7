/*
 * Socket objects and their lifetime (see sock.h): open, close and the grace period before a closed
 * socket is freed (rte_rcu_qsbr, with the retired list for removals a lcore has yet to apply), the
 * socket options that are more than a field (SO_RCVBUF/SO_SNDBUF), and multicast memberships.
 * Owns: ffs_stack.socks, sock_gen and retired, under ns_lock. May call: sock/bind.c to tell lcores
 * of a socket, lcore/ctrl.h, iface/ for memberships; the data path is sock/datapath.c.
 */
#include <errno.h>
#include <stdio.h>
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
	so->id = id;
	so->gen = gen;
	so->app = app;
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
	snprintf(name, sizeof(name), "ffs%u_s%u_%u", st->id, id, gen);
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

/* Memberships on the loopback interface use this port index: IPv4 input accepts their groups on
 * looped-back datagrams, and IGMP (which only reports on real ports) never hears of them. */
#define LOOPBACK_INDEX FFS_MAX_PORTS
#define LOOPBACK_IFADDR 0x7f000001u

/** The address that names an interface in memberships: the port's, or 127.0.0.1 for loopback. */
static uint32_t if_addr(const struct ffs_stack *st, unsigned port_index)
{
	return port_index == LOOPBACK_INDEX ? LOOPBACK_IFADDR : st->ports[port_index].addr;
}

/** A GROUP_ADD, GROUP_DEL or IGMP_STATE message about `group` on a port, or NULL when out of memory. */
static struct ffs_ctrl_msg *group_msg_new(enum ffs_ctrl_op op, uint16_t port_index, uint32_t group)
{
	struct ffs_ctrl_msg *msg = ffs_ctrl_new(op);
	if (msg) {
		msg->u.group.port_index = port_index;
		msg->u.group.group = group;
	}
	return msg;
}

/** Tells every lcore that `group` is (GROUP_ADD) or is no longer (GROUP_DEL) joined on a port. */
static int group_msg(struct ffs_stack *st, enum ffs_ctrl_op op, uint16_t port_index, uint32_t group)
{
	struct ffs_ctrl_msg *msg = group_msg_new(op, port_index, group);
	return msg ? ffs_ctrl_all_put(st, msg) : -ENOMEM;
}

/* Caller holds ns_lock. Recomputes the port's membership of `group` over every socket (any-source
 * memberships make it EXCLUDE{}, source-specific ones INCLUDE{sources}) and tells the lcores: IPv4
 * input accepts the group while anyone is a member, and IGMP reports every change. */
static int update_group(struct ffs_stack *st, uint16_t port_index, uint32_t group)
{
	struct ffs_ctrl_msg *state = group_msg_new(FFS_CTRL_IGMP_STATE, port_index, group);
	if (!state)
		return -ENOMEM;
	bool member = false, any_source = false;
	uint32_t ifaddr = if_addr(st, port_index);
	for (unsigned i = 0; i < FFS_MAX_SOCKS; i++) {
		const struct ffs_sock *o = st->socks[i];
		if (!o || !o->in_use)
			continue;
		for (unsigned k = 0; k < o->n_memberships; k++) {
			const struct ffs_membership *m = &o->memberships[k];
			if (m->group != group || m->ifaddr != ifaddr)
				continue;
			member = true;
			if (!m->source) {
				any_source = true;
				continue;
			}
			bool seen = false;
			for (unsigned j = 0; j < state->u.group.n_sources; j++)
				seen |= state->u.group.sources[j] == m->source;
			if (!seen && state->u.group.n_sources < FFS_MAX_GROUP_SOURCES)
				state->u.group.sources[state->u.group.n_sources++] = m->source;
		}
	}
	if (any_source)
		state->u.group.n_sources = 0;
	state->u.group.exclude = any_source;

	unsigned i = 0;
	while (i < st->n_joined && !(st->joined[i].port_index == port_index && st->joined[i].group == group))
		i++;
	bool was_member = i < st->n_joined;
	int rc = 0;
	if (member && !was_member) {
		if (st->n_joined == FFS_MAX_GROUPS) {
			ffs_ctrl_put(state);
			return -ENOBUFS;
		}
		st->joined[st->n_joined].port_index = port_index;
		st->joined[st->n_joined].group = group;
		st->n_joined++;
		rc = group_msg(st, FFS_CTRL_GROUP_ADD, port_index, group);
	} else if (!member && was_member) {
		st->joined[i] = st->joined[--st->n_joined];
		rc = group_msg(st, FFS_CTRL_GROUP_DEL, port_index, group);
	}
	if (rc < 0) {
		ffs_ctrl_put(state);
		return rc;
	}
	return ffs_ctrl_all_put(st, state);
}

/** The interface a membership's address names (Linux's ip_mc_find_dev), or -1 (ENODEV). */
static int port_index_for_if(const struct ffs_stack *st, uint32_t ifaddr)
{
	if (ipv4_is_loopback(ifaddr))
		return LOOPBACK_INDEX;
	/* No address: the first port (the multicast route's); none without ports, as Linux with no route. */
	if (st->n_ports == 0)
		return -1;
	if (ifaddr == 0)
		return 0;
	for (unsigned i = 0; i < st->n_ports; i++)
		if (st->ports[i].addr == ifaddr)
			return (int)i;
	return -1;
}

int ffs_sock_join(struct ffs_stack *st, struct ffs_sock *so, uint32_t group, uint32_t ifaddr, uint32_t source)
{
	if (!ipv4_is_multicast(group))
		return -EINVAL;
	int pi = port_index_for_if(st, ifaddr);
	if (pi < 0)
		return -ENODEV;
	pthread_mutex_lock(&st->ns_lock);
	int rc = 0;
	for (unsigned i = 0; i < so->n_memberships; i++) {
		const struct ffs_membership *m = &so->memberships[i];
		if (m->group == group && m->ifaddr == if_addr(st, (unsigned)pi) && m->source == source) {
			rc = -EADDRINUSE;
			goto out;
		}
	}
	if (so->n_memberships == FFS_MAX_MEMBERSHIPS) {
		rc = -ENOBUFS;
		goto out;
	}
	so->memberships[so->n_memberships++] = (struct ffs_membership){ group, if_addr(st, (unsigned)pi), source };
	rc = update_group(st, (uint16_t)pi, group);
	if (rc < 0) {
		so->n_memberships--;
		goto out;
	}
	if (so->bound)
		rc = ffs_sock_publish(st, so);
out:
	pthread_mutex_unlock(&st->ns_lock);
	return rc;
}

int ffs_sock_leave(struct ffs_stack *st, struct ffs_sock *so, uint32_t group, uint32_t ifaddr, uint32_t source)
{
	int pi = port_index_for_if(st, ifaddr);
	if (pi < 0)
		return -ENODEV;
	pthread_mutex_lock(&st->ns_lock);
	int rc = -EADDRNOTAVAIL;
	for (unsigned i = 0; i < so->n_memberships; i++) {
		struct ffs_membership *m = &so->memberships[i];
		if (m->group == group && m->ifaddr == if_addr(st, (unsigned)pi) && m->source == source) {
			*m = so->memberships[--so->n_memberships];
			rc = update_group(st, (uint16_t)pi, group);
			if (rc == 0 && so->bound)
				rc = ffs_sock_publish(st, so);
			break;
		}
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
	while (so->n_memberships) {
		struct ffs_membership m = so->memberships[--so->n_memberships];
		int pi = port_index_for_if(st, m.ifaddr);
		if (pi >= 0)
			update_group(st, (uint16_t)pi, m.group);
	}
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
