/*
 * Socket objects and their control plane (see sock.h): open, bind (the port namespace, under
 * ns_lock), connect, close, memberships; and the application side of the data path: copying a
 * datagram into mbufs for a lcore's TX ring, and out of a socket's RX ring.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/uio.h>
#include <rte_cycles.h>
#include <rte_lcore.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>
#include <rte_rcu_qsbr.h>
#include <rte_ring.h>

#include "stack/iface/iface.h"
#include "stack/wire/ipv4.h"
#include "stack/lcore/ctrl.h"
#include "stack/lcore/lcore.h"
#include "stack/phy/mbuf.h"
#include "stack/phy/rss.h"
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

/** True when `addr` may be bound locally: any, loopback, ours, a broadcast, or multicast (Linux's rules). */
static bool bindable(const struct ffs_stack *st, uint32_t addr)
{
	return addr == 0 || route_is_local(st, addr) || addr == 0xffffffffu || route_port_of(st, addr) ||
	       ipv4_is_multicast(addr);
}

/** Whether binding `so` to addr:port conflicts with an existing binding (Linux's UDP rules). */
static bool conflicts(const struct ffs_stack *st, const struct ffs_sock *so, uint32_t addr, uint16_t port)
{
	for (unsigned i = 0; i < FFS_MAX_SOCKS; i++) {
		const struct ffs_sock *o = st->socks[i];
		if (!o || !o->in_use || o == so || !o->bound || o->lport != port)
			continue;
		if (o->laddr && addr && o->laddr != addr)
			continue;
		if ((so->reuseaddr && o->reuseaddr) || (so->reuseport && o->reuseport))
			continue;
		return true;
	}
	return false;
}

static bool port_used(const struct ffs_stack *st, uint16_t port)
{
	for (unsigned i = 0; i < FFS_MAX_SOCKS; i++) {
		const struct ffs_sock *o = st->socks[i];
		if (o && o->in_use && o->bound && o->lport == port)
			return true;
	}
	return false;
}

/** A SOCK_UPSERT or SOCK_REMOVE message for so, or NULL when out of memory. */
static struct ffs_ctrl_msg *sock_msg(enum ffs_ctrl_op op, struct ffs_sock *so)
{
	struct ffs_ctrl_msg *msg = ffs_ctrl_new(op);
	if (msg) {
		msg->u.sock.so = so;
		msg->u.sock.lport = so->lport;
	}
	return msg;
}

static int publish(struct ffs_stack *st, struct ffs_sock *so)
{
	struct ffs_ctrl_msg *msg = sock_msg(FFS_CTRL_SOCK_UPSERT, so);
	if (!msg)
		return -ENOMEM;
	/* Even if this times out, a lcore may apply it later: close must then remove the socket. */
	so->published = true;
	return ffs_ctrl_all_put(st, msg);
}

/** The peer a connecting socket will hear from: an ephemeral port is chosen so that its replies hash
 *  to the socket's home lcore (phy/rss.h), as Seastar's ephemeral ports do. */
struct reply_flow {
	uint32_t raddr, laddr;
	uint16_t rport;
};

/* Caller holds ns_lock. A free ephemeral port (one whose replies land on `home` when `reply` is
 * given and such a port is free), or 0 when none is. */
static uint16_t ephemeral_port(struct ffs_stack *st, const struct reply_flow *reply, unsigned home)
{
	uint32_t first = (uint32_t)ffs_sysctl(st, FFS_SYSCTL_PORT_FIRST);
	uint32_t last = (uint32_t)ffs_sysctl(st, FFS_SYSCTL_PORT_LAST);
	if (last < first)
		last = first;
	uint32_t span = last - first + 1;
	uint16_t any = 0;
	for (uint32_t n = 0; n < span; n++) {
		uint16_t p = (uint16_t)(first + (st->ephemeral_next++ % span));
		if (port_used(st, p))
			continue;
		if (!reply)
			return p;
		if (ffs_rss_lcore(ffs_rss_hash_udp4(reply->raddr, reply->laddr, reply->rport, p), st->n_lcores) == home)
			return p;
		if (!any)
			any = p;
	}
	return any;
}

/* Caller holds ns_lock. A non-zero `port` is the caller's own choice, which disconnect keeps;
 * port 0 takes an ephemeral one, chosen for `reply` when given. */
static int bind_locked(struct ffs_stack *st, struct ffs_sock *so, uint32_t addr, uint16_t port,
		       const struct reply_flow *reply)
{
	if (so->bound)
		return -EINVAL;
	if (!bindable(st, addr))
		return -EADDRNOTAVAIL;
	bool port_locked = port != 0;
	if (port == 0) {
		port = ephemeral_port(st, reply, so->tx_lcore);
		if (port == 0)
			return -EADDRINUSE;
	} else if (conflicts(st, so, addr, port)) {
		return -EADDRINUSE;
	}
	so->laddr = addr;
	so->lport = port;
	so->addr_locked = addr != 0;
	so->port_locked = port_locked;
	so->bound = true;
	so->bind_seq = ++st->bind_seq;
	int rc = publish(st, so);
	if (rc < 0)
		so->bound = false;
	return rc;
}

int ffs_sock_bind(struct ffs_stack *st, struct ffs_sock *so, uint32_t addr, uint16_t port)
{
	pthread_mutex_lock(&st->ns_lock);
	int rc = bind_locked(st, so, addr, port, NULL);
	pthread_mutex_unlock(&st->ns_lock);
	return rc;
}

/* Caller holds ns_lock. Linux's autobind: an ephemeral port, on the address bind chose if any (a
 * socket that disconnect unbound keeps its bound address). */
static int autobind_locked(struct ffs_stack *st, struct ffs_sock *so, const struct reply_flow *reply)
{
	return bind_locked(st, so, so->addr_locked ? so->laddr : 0, 0, reply);
}

static bool is_broadcast(const struct ffs_stack *st, uint32_t dst)
{
	if (dst == 0xffffffffu || dst == 0x7fffffffu) /* limited broadcast, and loopback's 127.255.255.255 */
		return true;
	const struct ffs_port *p = route_port_of(st, dst);
	return p && p->broadcast == dst;
}

/** The source address a datagram to dst leaves from (Linux's route source), or 0 when unroutable. */
static uint32_t source_for(const struct ffs_stack *st, uint32_t dst)
{
	if (ipv4_is_loopback(dst))
		return 0x7f000001u;
	if (route_is_local(st, dst))
		return dst;
	if (dst == 0xffffffffu || ipv4_is_multicast(dst))
		return st->n_ports ? st->ports[0].addr : 0;
	uint32_t nexthop;
	const struct ffs_port *p = route_port_of(st, dst);
	if (!p)
		p = route_lookup(st, dst, &nexthop);
	return p ? p->addr : 0;
}

int ffs_sock_connect(struct ffs_stack *st, struct ffs_sock *so, uint32_t addr, uint16_t port)
{
	if (addr == 0)
		addr = 0x7f000001u; /* Linux: connecting to INADDR_ANY means the local host */
	/* Linux routes first (ENETUNREACH), then refuses a broadcast route without SO_BROADCAST. */
	uint32_t src = source_for(st, addr);
	if (!src)
		return -ENETUNREACH;
	if (is_broadcast(st, addr) && !so->broadcast)
		return -EACCES;
	pthread_mutex_lock(&st->ns_lock);
	int rc = 0;
	if (!so->bound) {
		/* Replies from the wire arrive by RSS; looped-back ones on the sending (home) lcore anyway. */
		struct reply_flow reply = { addr, so->addr_locked ? so->laddr : src, port };
		bool wire = st->n_lcores > 1 && !route_is_local(st, addr) && !ipv4_is_loopback(addr);
		rc = autobind_locked(st, so, wire ? &reply : NULL);
	}
	if (rc == 0) {
		if (!so->addr_locked)
			so->laddr = src;
		so->raddr = addr;
		so->rport = port;
		so->connected = true;
		rc = publish(st, so);
	}
	pthread_mutex_unlock(&st->ns_lock);
	return rc;
}

/* Linux's __udp_disconnect: forgets the peer, the address connect chose and, unless bind chose the
 * port, the port too (the socket leaves the demux and the port namespace; the next send or connect
 * binds it again). */
int ffs_sock_disconnect(struct ffs_stack *st, struct ffs_sock *so)
{
	pthread_mutex_lock(&st->ns_lock);
	so->connected = false;
	so->raddr = 0;
	so->rport = 0;
	if (!so->addr_locked)
		so->laddr = 0;
	int rc = 0;
	if (so->bound && !so->port_locked) {
		struct ffs_ctrl_msg *msg = sock_msg(FFS_CTRL_SOCK_REMOVE, so);
		rc = msg ? ffs_ctrl_all_put(st, msg) : -ENOMEM;
		so->bound = false;
		so->lport = 0;
	} else if (so->bound) {
		rc = publish(st, so);
	}
	pthread_mutex_unlock(&st->ns_lock);
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
		rc = publish(st, so);
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
				rc = publish(st, so);
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
		removal = sock_msg(FFS_CTRL_SOCK_REMOVE, so);
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

static size_t iov_total(const struct iovec *iov, int iovcnt)
{
	size_t n = 0;
	for (int i = 0; i < iovcnt; i++)
		n += iov[i].iov_len;
	return n;
}

/** Copies the iovec into `head` (a fresh mbuf), chaining more mbufs from the pool as needed
 *  (headroom left for every header). -1 when the pool is empty (head keeps what was chained). */
static int copy_into(struct rte_mempool *pool, struct rte_mbuf *head, const struct iovec *iov, int iovcnt, size_t len)
{
	if (iovcnt == 1 && len <= rte_pktmbuf_tailroom(head)) {
		/* The common case: one buffer into one segment. */
		if (len)
			memcpy(rte_pktmbuf_mtod(head, uint8_t *), iov[0].iov_base, len);
		head->data_len = (uint16_t)len;
		head->pkt_len = (uint32_t)len;
		return 0;
	}
	struct rte_mbuf *seg = head;
	int vi = 0;
	size_t voff = 0;
	size_t left = len;
	while (left) {
		size_t room = rte_pktmbuf_tailroom(seg);
		if (room == 0) {
			struct rte_mbuf *next = rte_pktmbuf_alloc(pool);
			if (!next || rte_pktmbuf_chain(head, next) != 0) {
				rte_pktmbuf_free(next);
				return -1;
			}
			seg = next;
			continue;
		}
		while (iov[vi].iov_len == voff) {
			vi++;
			voff = 0;
		}
		size_t n = iov[vi].iov_len - voff;
		if (n > room)
			n = room;
		if (n > left)
			n = left;
		memcpy(rte_pktmbuf_mtod_offset(seg, uint8_t *, seg->data_len), (const uint8_t *)iov[vi].iov_base + voff, n);
		seg->data_len = (uint16_t)(seg->data_len + n);
		if (seg != head)
			head->pkt_len += (uint32_t)n;
		else
			head->pkt_len = seg->data_len;
		voff += n;
		left -= n;
	}
	return 0;
}

/** Copies the iovec into a chain of mbufs (headroom left for every header). NULL when the pool is empty. */
static struct rte_mbuf *copy_in(struct rte_mempool *pool, const struct iovec *iov, int iovcnt, size_t len)
{
	struct rte_mbuf *head = rte_pktmbuf_alloc(pool);
	if (head && copy_into(pool, head, iov, iovcnt, len) != 0) {
		rte_pktmbuf_free(head);
		return NULL;
	}
	return head;
}

/** Takes the pending error (an ICMP report), with no locked instruction when there is none. */
static inline int take_error(struct ffs_sock *so)
{
	return atomic_load_explicit(&so->so_error, memory_order_relaxed) ? atomic_exchange(&so->so_error, 0) : 0;
}

/** The TX metadata of a datagram from `so` to dst:dport. */
static void stamp(struct ffs_sock *so, struct rte_mbuf *m, uint32_t dst, uint16_t dport)
{
	struct ffs_meta *meta = ffs_meta(m);
	bool mcast = ipv4_is_multicast(dst);
	*meta = (struct ffs_meta){
		.src = so->laddr && !ipv4_is_multicast(so->laddr) && so->laddr != 0xffffffffu ? so->laddr : 0,
		.dst = dst,
		.sport = so->lport,
		.dport = dport,
		.sock_id = (uint16_t)so->id,
		.sock_gen = so->gen,
		.ttl = mcast ? so->mcast_ttl : so->ttl,
		.tos = so->tos,
		.flags = mcast && so->mcast_loop ? FFS_META_MCAST_LOOP : 0,
	};
	if (mcast && so->mcast_if && !meta->src)
		meta->src = so->mcast_if;
}

int ffs_sock_sendv(struct ffs_stack *st, struct ffs_sock *so, const struct iovec *iov, int iovcnt, uint32_t dst,
		   uint16_t dport)
{
	int err = take_error(so);
	if (err)
		return -err;
	if (dst == 0 && dport == 0) {
		if (!so->connected)
			return -EDESTADDRREQ;
		dst = so->raddr;
		dport = so->rport;
	}
	if (dport == 0)
		return -EINVAL;
	size_t len = iov_total(iov, iovcnt);
	if (len > FFS_UDP_MAX_PAYLOAD)
		return -EMSGSIZE;
	/* Linux routes first (ENETUNREACH), then refuses a broadcast route without SO_BROADCAST. */
	if (!source_for(st, dst))
		return -ENETUNREACH;
	if (is_broadcast(st, dst) && !so->broadcast)
		return -EACCES;
	if (!so->bound) {
		pthread_mutex_lock(&st->ns_lock);
		int rc = so->bound ? 0 : autobind_locked(st, so, NULL);
		pthread_mutex_unlock(&st->ns_lock);
		if (rc < 0)
			return rc;
	}
	int charge = (int)len + FFS_DGRAM_OVERHEAD;
	/* Inline mode on a thread that turns lcores: this thread may be the one that drains the TX ring. */
	bool drive = ffs_stack_thread_drives(st);
	for (unsigned waited = 0; atomic_load(&so->tx_bytes) + charge > so->sndbuf; waited++) {
		if (so->nonblock || waited > 20000)
			return -EAGAIN;
		if (!drive || !ffs_stack_poll_thread(st))
			rte_delay_us_sleep(50);
	}
	struct rte_mbuf *m = copy_in(st->pool, iov, iovcnt, len);
	if (!m)
		return -ENOBUFS;
	stamp(so, m, dst, dport);
	struct ffs_lcore *lc = st->lcores[so->tx_lcore];
	atomic_fetch_add(&so->tx_bytes, charge);
	atomic_fetch_add(&so->tx_count, 1);
	if (rte_ring_mp_enqueue(lc->tx_in, m) != 0) {
		atomic_fetch_sub(&so->tx_bytes, charge);
		atomic_fetch_sub(&so->tx_count, 1);
		rte_pktmbuf_free(m);
		return so->nonblock ? -EAGAIN : -ENOBUFS;
	}
	ffs_lcore_wake(lc);
	return (int)len;
}

int ffs_sock_sendv_burst(struct ffs_stack *st, struct ffs_sock *so, const struct ffs_dgram_out *v, unsigned n)
{
	if (n == 0 || !so->bound || atomic_load_explicit(&so->so_error, memory_order_relaxed))
		return 0;
	if (n > FFS_BURST)
		n = FFS_BURST;
	/* Check each datagram as ffs_sock_sendv would (routes once per destination), and stop before the
	 * first that fails or does not fit in SO_SNDBUF now. */
	int room = so->sndbuf - atomic_load(&so->tx_bytes);
	int charge = 0;
	uint32_t dsts[FFS_BURST];
	uint16_t dports[FFS_BURST];
	size_t lens[FFS_BURST];
	uint32_t checked_dst = 0;
	bool checked = false;
	unsigned k = 0;
	for (; k < n; k++) {
		uint32_t dst = v[k].dst;
		uint16_t dport = v[k].dport;
		if (dst == 0 && dport == 0) {
			if (!so->connected)
				break;
			dst = so->raddr;
			dport = so->rport;
		}
		if (dport == 0)
			break;
		size_t len = iov_total(v[k].iov, v[k].iovcnt);
		if (len > FFS_UDP_MAX_PAYLOAD || charge + (int)len + FFS_DGRAM_OVERHEAD > room)
			break;
		if (!checked || dst != checked_dst) {
			if (!source_for(st, dst) || (is_broadcast(st, dst) && !so->broadcast))
				break;
			checked = true;
			checked_dst = dst;
		}
		charge += (int)len + FFS_DGRAM_OVERHEAD;
		dsts[k] = dst;
		dports[k] = dport;
		lens[k] = len;
	}
	if (k == 0)
		return 0;
	struct rte_mbuf *pkts[FFS_BURST];
	if (rte_pktmbuf_alloc_bulk(st->pool, pkts, k) != 0)
		return 0;
	for (unsigned i = 0; i < k; i++) {
		if (copy_into(st->pool, pkts[i], v[i].iov, v[i].iovcnt, lens[i]) != 0) {
			rte_pktmbuf_free_bulk(pkts + i, k - i);
			for (unsigned j = i; j < k; j++)
				charge -= (int)lens[j] + FFS_DGRAM_OVERHEAD;
			k = i;
			break;
		}
		stamp(so, pkts[i], dsts[i], dports[i]);
	}
	if (k == 0)
		return 0;
	struct ffs_lcore *lc = st->lcores[so->tx_lcore];
	atomic_fetch_add(&so->tx_bytes, charge);
	atomic_fetch_add(&so->tx_count, (int)k);
	unsigned sent = rte_ring_mp_enqueue_burst(lc->tx_in, (void **)pkts, k, NULL);
	if (sent < k) {
		int back = 0;
		for (unsigned i = sent; i < k; i++)
			back += (int)lens[i] + FFS_DGRAM_OVERHEAD;
		atomic_fetch_sub(&so->tx_bytes, back);
		atomic_fetch_sub(&so->tx_count, (int)(k - sent));
		rte_pktmbuf_free_bulk(pkts + sent, k - sent);
	}
	if (sent)
		ffs_lcore_wake(lc);
	return (int)sent;
}

/** Takes the next datagram off the RX ring, or NULL. */
static struct rte_mbuf *next_datagram(struct ffs_sock *so)
{
	void *obj = NULL;
	if (!so->rx || rte_ring_sc_dequeue(so->rx, &obj) != 0)
		return NULL;
	return obj;
}

int ffs_sock_recvv(struct ffs_stack *st, struct ffs_sock *so, const struct iovec *iov, int iovcnt, uint32_t *src,
		   uint16_t *sport, uint32_t *dst, bool *truncated, bool peek)
{
	(void)st;
	int err = take_error(so);
	if (err)
		return -err;
	struct rte_mbuf *m = so->peeked;
	if (!m) {
		m = next_datagram(so);
		if (!m)
			return -EAGAIN;
	}
	const struct ffs_meta *meta = ffs_meta(m);
	uint32_t len = rte_pktmbuf_pkt_len(m);
	uint32_t off = 0;
	for (int i = 0; i < iovcnt && off < len; i++) {
		uint32_t n = (uint32_t)iov[i].iov_len < len - off ? (uint32_t)iov[i].iov_len : len - off;
		const void *p = rte_pktmbuf_read(m, off, n, iov[i].iov_base);
		if (p != iov[i].iov_base)
			memcpy(iov[i].iov_base, p, n);
		off += n;
	}
	if (truncated)
		*truncated = off < len;
	if (src)
		*src = meta->src;
	if (sport)
		*sport = meta->sport;
	if (dst)
		*dst = meta->dst;
	if (peek) {
		so->peeked = m;
	} else {
		so->peeked = NULL;
		atomic_fetch_sub(&so->rx_bytes, (int)len + FFS_DGRAM_OVERHEAD);
		rte_pktmbuf_free(m);
	}
	return (int)len;
}

int ffs_sock_recvv_burst(struct ffs_stack *st, struct ffs_sock *so, struct ffs_dgram_in *v, unsigned n)
{
	(void)st;
	if (n == 0 || !so->rx || atomic_load_explicit(&so->so_error, memory_order_relaxed))
		return 0;
	if (n > FFS_BURST)
		n = FFS_BURST;
	struct rte_mbuf *pkts[FFS_BURST];
	unsigned k = 0;
	if (so->peeked) {
		pkts[k++] = so->peeked;
		so->peeked = NULL;
	}
	k += rte_ring_sc_dequeue_burst(so->rx, (void **)pkts + k, n - k, NULL);
	int bytes = 0;
	for (unsigned i = 0; i < k; i++) {
		struct rte_mbuf *m = pkts[i];
		const struct ffs_meta *meta = ffs_meta(m);
		struct ffs_dgram_in *d = &v[i];
		uint32_t len = rte_pktmbuf_pkt_len(m);
		uint32_t off = 0;
		for (int j = 0; j < d->iovcnt && off < len; j++) {
			uint32_t c = (uint32_t)d->iov[j].iov_len < len - off ? (uint32_t)d->iov[j].iov_len : len - off;
			if (m->nb_segs == 1) {
				memcpy(d->iov[j].iov_base, rte_pktmbuf_mtod_offset(m, const uint8_t *, off), c);
			} else {
				const void *p = rte_pktmbuf_read(m, off, c, d->iov[j].iov_base);
				if (p != d->iov[j].iov_base)
					memcpy(d->iov[j].iov_base, p, c);
			}
			off += c;
		}
		d->truncated = off < len;
		d->src = meta->src;
		d->sport = meta->sport;
		d->dst = meta->dst;
		d->len = (int)len;
		bytes += (int)len + FFS_DGRAM_OVERHEAD;
	}
	if (k) {
		atomic_fetch_sub(&so->rx_bytes, bytes);
		rte_pktmbuf_free_bulk(pkts, k);
	}
	return (int)k;
}

int ffs_sock_next_len(struct ffs_sock *so)
{
	if (!so->peeked)
		so->peeked = next_datagram(so);
	return so->peeked ? (int)rte_pktmbuf_pkt_len(so->peeked) : 0;
}

bool ffs_sock_readable(struct ffs_sock *so)
{
	return so->peeked || atomic_load(&so->so_error) || (so->rx && ffs_ring_nonempty(so->rx));
}

bool ffs_sock_writable(struct ffs_sock *so)
{
	return atomic_load(&so->tx_bytes) + FFS_DGRAM_OVERHEAD < so->sndbuf;
}
