/*
 * The port namespace and a socket's addressing: bind (Linux's UDP conflict rules, SO_REUSEADDR and
 * SO_REUSEPORT), ephemeral ports (chosen so that a connected flow's replies hash to the socket's
 * home lcore), autobind, connect and disconnect, and publishing a socket's addressing to every
 * lcore's demux table.
 * Owns: ffs_stack's namespace fields (bind_seq, ephemeral_next) and a socket's laddr/lport/raddr/
 * rport/bound/connected, all under ns_lock. May call: iface/ for routes, lcore/ctrl.h to tell the
 * lcores, phy/rss.h for the reply hash. Also answers ffnet/dgram's localhost policy: whether a stack
 * socket holds a loopback address and port (ffs_stack_loopback_held).
 */
#include <errno.h>
#include <pthread.h>
#include <string.h>

#include "stack/iface/addr6.h"
#include "stack/iface/iface.h"
#include "stack/iface/route6.h"
#include "stack/lcore/ctrl.h"
#include "stack/lcore/lcore.h"
#include "stack/phy/rss.h"
#include "stack/sock/bind.h"
#include "stack/sock/sock.h"

/** True when `addr` may be bound locally: any, loopback, ours, a broadcast, or multicast (Linux's rules). */
static bool bindable(const struct ffs_stack *st, uint32_t addr)
{
	return addr == 0 || route_is_local(st, addr) || addr == 0xffffffffu || route_port_of(st, addr) ||
	       ipv4_is_multicast(addr);
}

/** What a binding holds of each family's address space: an AF_INET socket's address, an AF_INET6
 *  socket's IPv6 address and, in dual stack, the IPv4 one its v4-mapped or `::` address stands for. */
struct binding {
	bool has4, has6;
	uint32_t a4;
	const uint8_t *a6;
};

static struct binding binding_of(const struct ffs_sock *so, uint32_t addr)
{
	return (struct binding){ ffs_sock_has_v4(so), ffs_sock_has_v6(so), addr, so->laddr6 };
}

/** Whether two bindings of one port overlap: in either family the same address, or a wildcard
 *  (Linux's inet_rcv_saddr_equal: `::` without IPV6_V6ONLY overlaps every IPv4 address). */
static bool overlaps(const struct binding *a, const struct binding *b)
{
	if (a->has4 && b->has4 && (!a->a4 || !b->a4 || a->a4 == b->a4))
		return true;
	return a->has6 && b->has6 &&
	       (ffs_in6_is_any(a->a6) || ffs_in6_is_any(b->a6) || memcmp(a->a6, b->a6, 16) == 0);
}

/** Whether binding `so` to addr:port (addr: its IPv4 address; an AF_INET6 socket's IPv6 one is in
 *  so->laddr6 already) conflicts with an existing binding (Linux's UDP rules). */
static bool conflicts(const struct ffs_stack *st, const struct ffs_sock *so, uint32_t addr, uint16_t port)
{
	struct binding mine = binding_of(so, addr);
	for (unsigned i = 0; i < FFS_MAX_SOCKS; i++) {
		const struct ffs_sock *o = st->socks[i];
		if (!o || !o->in_use || o == so || !o->bound || o->lport != port)
			continue;
		struct binding theirs = binding_of(o, o->laddr);
		if (!overlaps(&mine, &theirs))
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

struct ffs_ctrl_msg *ffs_sock_msg(enum ffs_ctrl_op op, struct ffs_sock *so)
{
	struct ffs_ctrl_msg *msg = ffs_ctrl_new(op);
	if (msg) {
		msg->u.sock.so = so;
		msg->u.sock.lport = so->lport;
	}
	return msg;
}

int ffs_sock_publish(struct ffs_stack *st, struct ffs_sock *so)
{
	struct ffs_ctrl_msg *msg = ffs_sock_msg(FFS_CTRL_SOCK_UPSERT, so);
	if (!msg)
		return -ENOMEM;
	/* Even if this times out, a lcore may apply it later: close must then remove the socket. */
	so->published = true;
	return ffs_ctrl_all_put(st, msg);
}

/** The peer a connecting socket will hear from, over IPv4 or IPv6: an ephemeral port is chosen so
 *  that its replies hash to the socket's home lcore (phy/rss.h), as Seastar's ephemeral ports do. */
struct reply_flow {
	bool v6;
	uint32_t raddr, laddr;
	struct ip6_addr raddr6, laddr6;
	uint16_t rport;
};

/** The lcore of n that the reply to `reply` arriving at local port `lport` lands on. */
static unsigned reply_lcore(const struct reply_flow *reply, uint16_t lport, unsigned n)
{
	uint32_t h = reply->v6 ? ffs_rss_hash_udp6(reply->raddr6.b, reply->laddr6.b, reply->rport, lport)
			       : ffs_rss_hash_udp4(reply->raddr, reply->laddr, reply->rport, lport);
	return ffs_rss_lcore(h, n);
}

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
		if (reply_lcore(reply, p, st->n_lcores) == home)
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
	if (ffs_sock_has_v4(so) && !bindable(st, addr))
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
	int rc = ffs_sock_publish(st, so);
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

int ffs_sock_autobind(struct ffs_stack *st, struct ffs_sock *so)
{
	pthread_mutex_lock(&st->ns_lock);
	int rc = so->bound ? 0 : autobind_locked(st, so, NULL);
	pthread_mutex_unlock(&st->ns_lock);
	return rc;
}

int ffs_sock_connect(struct ffs_stack *st, struct ffs_sock *so, uint32_t addr, uint16_t port)
{
	if (addr == 0)
		addr = 0x7f000001u; /* Linux: connecting to INADDR_ANY means the local host */
	/* Linux routes first (ENETUNREACH), refuses a bound 127/8 source off the host (EINVAL), then a
	 * broadcast route without SO_BROADCAST (EACCES). */
	uint32_t src = route_source(st, addr);
	if (!src || route_group_unroutable(st, so->addr_locked ? ffs_sock_unicast_source(so) : 0, so->mcast_if, addr))
		return -ENETUNREACH;
	if (so->addr_locked && route_loopback_source_refused(st, so->laddr, addr))
		return -EINVAL;
	if (route_is_broadcast(st, addr) && !so->broadcast)
		return -EACCES;
	pthread_mutex_lock(&st->ns_lock);
	int rc = 0;
	if (!so->bound) {
		/* Replies from the wire arrive by RSS; looped-back ones on the sending (home) lcore anyway. */
		struct reply_flow reply = { .raddr = addr, .laddr = so->addr_locked ? so->laddr : src, .rport = port };
		bool wire = st->n_lcores > 1 && !route_is_local(st, addr) && !ipv4_is_loopback(addr);
		rc = autobind_locked(st, so, wire ? &reply : NULL);
	}
	if (rc == 0) {
		if (!so->addr_locked)
			so->laddr = src;
		so->raddr = addr;
		so->rport = port;
		so->connected = true;
		if (so->v6) {
			/* An AF_INET6 socket connected to a v4-mapped peer speaks IPv4 from the v4-mapped source. */
			if (!so->addr_locked)
				ffs_in6_from_v4(src, so->laddr6);
			ffs_in6_from_v4(addr, so->raddr6);
		}
		rc = ffs_sock_publish(st, so);
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
	memset(so->raddr6, 0, sizeof(so->raddr6));
	if (!so->addr_locked) {
		so->laddr = 0;
		memset(so->laddr6, 0, sizeof(so->laddr6));
	}
	int rc = 0;
	if (so->bound && !so->port_locked) {
		struct ffs_ctrl_msg *msg = ffs_sock_msg(FFS_CTRL_SOCK_REMOVE, so);
		rc = msg ? ffs_ctrl_all_put(st, msg) : -ENOMEM;
		so->bound = false;
		so->lport = 0;
	} else if (so->bound) {
		rc = ffs_sock_publish(st, so);
	}
	pthread_mutex_unlock(&st->ns_lock);
	return rc;
}

/** Whether an IPv6 address (not v4-mapped) may be bound: `::`, `::1`, multicast, or one of the
 *  ports' addresses (a tentative one too, as Linux's optimistic bind allows; not a duplicated one). */
static bool bindable6(const struct ffs_stack *st, const struct ip6_addr *a)
{
	enum addr6_state state;
	if (ip6_is_unspecified(a) || ip6_is_loopback(a) || ip6_is_multicast(a))
		return true;
	return addr6_is_local(st, -1, a, &state) && state != ADDR6_DUPLICATED;
}

uint32_t ffs_sock_default_scope6(const struct ffs_stack *st)
{
	for (unsigned i = 0; i < st->n_ports; i++)
		if (!st->conf.ports[i].ipv6_off)
			return i + 1;
	return 0;
}

bool ffs_sock_reachable6(const struct ffs_stack *st, const struct ip6_addr *dst, uint32_t scope)
{
	enum addr6_state state;
	if (ip6_is_loopback(dst))
		return true;
	if (ip6_is_multicast(dst))
		return scope ? scope <= st->n_ports : st->n_ports > 0;
	/* Every send asks: the route first, as a peer is the common case (no port address is multicast). */
	struct ip6_addr nexthop;
	return route6_lookup(st, dst, scope ? (int)scope - 1 : -1, &nexthop) != NULL || addr6_is_local(st, -1, dst, &state);
}

/** The source an AF_INET6 socket connected to dst speaks from: dst itself when it is ours (as the
 *  loopback), else the address RFC 6724 selects on dst's port. False: none. */
static bool source6(const struct ffs_stack *st, const struct ip6_addr *dst, uint32_t scope, struct ip6_addr *out)
{
	enum addr6_state state;
	if (ip6_is_loopback(dst) || addr6_is_local(st, -1, dst, &state)) {
		*out = *dst;
		return true;
	}
	struct ip6_addr nexthop;
	const struct ffs_port *p = ip6_is_multicast(dst) && scope ? &st->ports[scope - 1]
								   : route6_lookup(st, dst, scope ? (int)scope - 1 : -1, &nexthop);
	return p && addr6_source(st, p->index, dst, out);
}

int ffs_sock_bind6(struct ffs_stack *st, struct ffs_sock *so, const uint8_t addr[16], uint32_t scope_id, uint16_t port)
{
	bool mapped = ffs_in6_is_v4mapped(addr);
	if (mapped && so->v6only)
		return -EINVAL; /* Linux: a v4-mapped address on an IPv6-only socket */
	/* RFC 4007 §6: a link-local address means nothing without its link. */
	bool linklocal = addr[0] == 0xfe && (addr[1] & 0xc0) == 0x80;
	if (linklocal && !scope_id)
		return -EINVAL;
	if (scope_id && (linklocal || (addr[0] == 0xff && (addr[1] & 0x0f) <= 2)) && scope_id > st->n_ports)
		return -ENODEV;
	if (!mapped && !bindable6(st, (const struct ip6_addr *)addr))
		return -EADDRNOTAVAIL;
	pthread_mutex_lock(&st->ns_lock);
	uint8_t old[16];
	memcpy(old, so->laddr6, 16);
	memcpy(so->laddr6, addr, 16);
	int rc = bind_locked(st, so, mapped ? ffs_in6_v4(addr) : 0, port, NULL);
	if (rc < 0) {
		memcpy(so->laddr6, old, 16);
	} else {
		so->scope_id = linklocal ? scope_id : 0;
		so->addr_locked = !ffs_in6_is_any(addr);
	}
	pthread_mutex_unlock(&st->ns_lock);
	return rc;
}

int ffs_sock_connect6(struct ffs_stack *st, struct ffs_sock *so, const uint8_t addr[16], uint32_t scope_id, uint16_t port)
{
	if (ffs_in6_is_v4mapped(addr)) {
		if (so->v6only)
			return -ENETUNREACH;
		return ffs_sock_connect(st, so, ffs_in6_v4(addr), port);
	}
	struct ip6_addr peer = IP6_LOOPBACK; /* Linux: connecting to :: means the local host, ::1 */
	if (!ffs_in6_is_any(addr))
		memcpy(peer.b, addr, 16);
	/* RFC 4007 §6: a link-local peer needs its link. */
	if (ip6_is_linklocal(&peer) && !scope_id && !(scope_id = so->scope_id))
		return -EINVAL;
	if (scope_id > st->n_ports && (ip6_is_linklocal(&peer) || ip6_is_multicast(&peer)))
		return -ENODEV;
	struct ip6_addr src;
	if (!ffs_sock_reachable6(st, &peer, scope_id) || !source6(st, &peer, scope_id, &src))
		return -ENETUNREACH;
	if (ffs_in6_is_v4mapped(so->laddr6) && so->addr_locked)
		return -EAFNOSUPPORT;
	pthread_mutex_lock(&st->ns_lock);
	int rc = 0;
	if (!so->bound) {
		/* As IPv4's connect: replies from the wire arrive by RSS, looped-back ones on the home lcore. */
		struct reply_flow reply = { .v6 = true, .raddr6 = peer, .rport = port };
		memcpy(reply.laddr6.b, so->addr_locked ? so->laddr6 : src.b, 16);
		enum addr6_state state;
		bool wire = st->n_lcores > 1 && !ip6_is_loopback(&peer) && !addr6_is_local(st, -1, &peer, &state);
		rc = autobind_locked(st, so, wire ? &reply : NULL);
	}
	if (rc == 0) {
		if (!so->addr_locked)
			memcpy(so->laddr6, src.b, 16);
		so->laddr = 0;
		memcpy(so->raddr6, peer.b, 16);
		so->raddr = 0;
		so->rport = port;
		if (ip6_is_linklocal(&peer))
			so->scope_id = scope_id;
		so->connected = true;
		rc = ffs_sock_publish(st, so);
	}
	pthread_mutex_unlock(&st->ns_lock);
	return rc;
}

/** Caller holds ns_lock. Whether o would take a datagram to the loopback address dst:port from local
 *  port sport (IPv4 when dst is v4-mapped): bound to port on a wildcard or on dst in that family, and
 *  not connected to another peer (the sender is this host: only the peer's port tells them apart). */
static bool takes_loopback(const struct ffs_sock *o, const uint8_t dst[16], uint16_t port, uint16_t sport)
{
	if (!o || !o->in_use || !o->bound || o->lport != port)
		return false;
	if (o->connected && o->rport != sport)
		return false;
	if (ffs_in6_is_v4mapped(dst)) {
		uint32_t a4 = ffs_in6_v4(dst);
		return ffs_sock_has_v4(o) && (o->laddr == 0 || o->laddr == a4 || !o->addr_locked);
	}
	return ffs_sock_has_v6(o) && (ffs_in6_is_any(o->laddr6) || !o->addr_locked || memcmp(o->laddr6, dst, 16) == 0);
}

bool ffs_stack_loopback_held(struct ffs_stack *st, const uint8_t dst[16], uint16_t port, uint16_t sport)
{
	bool held = false;
	pthread_mutex_lock(&st->ns_lock);
	/* Only the slots ever used: a lookup per datagram to a loopback address must stay cheap. */
	for (unsigned i = 0; i < st->sock_high && !held; i++)
		held = takes_loopback(st->socks[i], dst, port, sport);
	pthread_mutex_unlock(&st->ns_lock);
	return held;
}
