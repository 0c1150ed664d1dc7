/*
 * Routing for a host that does not forward (storage and concurrency in route.h): longest-prefix
 * match over connected subnets, the configured gateway as the default route, and static routes
 * added and removed at run time; the ports' addresses change here too (ifconfig), with their
 * connected routes. Also the questions a socket asks before it sends or connects: the source
 * address a destination is reached from, and whether it is a broadcast. Lookups from any thread,
 * never locked; changes from the control plane.
 */
#define ALLOW_EXPERIMENTAL_API /* rte_seqcount is experimental in DPDK 22.11 */
#include <errno.h>
#include <string.h>
#include <rte_seqcount.h>

#include "stack/iface/iface.h"

static inline uint32_t ld(const uint32_t *p) { return __atomic_load_n(p, __ATOMIC_RELAXED); }
static inline void put(uint32_t *p, uint32_t v) { __atomic_store_n(p, v, __ATOMIC_RELAXED); }

static inline uint32_t meta_of(unsigned port_index, unsigned len, unsigned flags)
{
	return (uint32_t)port_index | (uint32_t)len << 16 | (uint32_t)flags << 24;
}
static inline unsigned meta_port(uint32_t m) { return m & 0xffff; }
static inline unsigned meta_len(uint32_t m) { return (m >> 16) & 0xff; }
static inline unsigned meta_flags(uint32_t m) { return m >> 24; }

uint32_t route_mask(unsigned prefixlen) { return prefixlen ? ~0u << (32 - prefixlen) : 0; }

bool route_is_local(const struct ffs_stack *st, uint32_t dst)
{
	if (ipv4_is_loopback(dst))
		return true;
	for (unsigned i = 0; i < st->n_ports; i++)
		if (st->ports[i].addr == dst)
			return true;
	return false;
}

/** The port whose address or broadcast address is `addr` (*bcast: the latter), or -1; one snapshot. */
static int port_of(const struct ffs_stack *st, uint32_t addr, bool *bcast)
{
	const struct route_table *t = &st->routes;
	int found;
	uint32_t sn;
	do {
		sn = rte_seqcount_read_begin(&t->seq);
		found = -1;
		*bcast = false;
		for (unsigned i = 0; i < st->n_ports && found < 0; i++) {
			if (ld(&t->ifa[i][0]) == addr)
				found = (int)i;
			else if (ld(&t->ifa[i][2]) == addr) {
				found = (int)i;
				*bcast = true;
			}
		}
	} while (rte_seqcount_read_retry(&t->seq, sn));
	return found;
}

const struct ffs_port *route_port_of(const struct ffs_stack *st, uint32_t addr)
{
	bool bcast;
	int i = port_of(st, addr, &bcast);
	return i < 0 ? NULL : &st->ports[i];
}

bool route_on_link(const struct ffs_stack *st, uint16_t port_index, uint32_t addr)
{
	const struct route_table *t = &st->routes;
	bool on;
	uint32_t sn;
	do {
		sn = rte_seqcount_read_begin(&t->seq);
		uint32_t a = ld(&t->ifa[port_index][0]), m = ld(&t->ifa[port_index][1]);
		on = a != 0 && (addr & m) == (a & m);
	} while (rte_seqcount_read_retry(&t->seq, sn));
	return on;
}

const struct ffs_port *route_lookup(const struct ffs_stack *st, uint32_t dst, uint32_t *nexthop)
{
	const struct route_table *t = &st->routes;
	int port;
	uint32_t hop, sn;
	do {
		sn = rte_seqcount_read_begin(&t->seq);
		port = -1;
		hop = 0;
		uint32_t n = ld(&t->n);
		for (uint32_t i = 0; i < n && i < FFS_MAX_ROUTES; i++) {
			const struct route_slot *r = &t->r[i];
			if ((dst & ld(&r->mask)) == ld(&r->dest)) {
				uint32_t gw = ld(&r->gateway);
				port = (int)meta_port(ld(&r->meta));
				hop = gw ? gw : dst;
				break;
			}
		}
	} while (rte_seqcount_read_retry(&t->seq, sn));
	if (port < 0 || port >= (int)st->n_ports)
		return NULL;
	*nexthop = hop;
	return &st->ports[port];
}

uint32_t route_source(const struct ffs_stack *st, uint32_t dst)
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

bool route_is_broadcast(const struct ffs_stack *st, uint32_t dst)
{
	if (dst == 0xffffffffu || dst == 0x7fffffffu) /* limited broadcast, and loopback's 127.255.255.255 */
		return true;
	bool bcast;
	return port_of(st, dst, &bcast) >= 0 && bcast;
}

/* --- writers: under write_lock, inside a write section of the sequence counter */

static void slot_copy(struct route_slot *to, const struct route_slot *from)
{
	put(&to->dest, ld(&from->dest));
	put(&to->mask, ld(&from->mask));
	put(&to->gateway, ld(&from->gateway));
	put(&to->meta, ld(&from->meta));
}

/** Inserts after every longer route and after routes of the same length (connected ones first). */
static int insert(struct route_table *t, uint32_t dest, unsigned len, uint32_t gateway, unsigned port_index,
		  unsigned flags)
{
	uint32_t n = ld(&t->n);
	if (n == FFS_MAX_ROUTES)
		return -ENOSPC;
	uint32_t at = 0;
	while (at < n) {
		uint32_t m = ld(&t->r[at].meta);
		bool before = meta_len(m) > len ||
			      (meta_len(m) == len && ((meta_flags(m) & FFS_ROUTE_CONNECTED) || !(flags & FFS_ROUTE_CONNECTED)));
		if (!before)
			break;
		at++;
	}
	for (uint32_t i = n; i > at; i--)
		slot_copy(&t->r[i], &t->r[i - 1]);
	put(&t->r[at].dest, dest);
	put(&t->r[at].mask, route_mask(len));
	put(&t->r[at].gateway, gateway);
	put(&t->r[at].meta, meta_of(port_index, len, flags));
	put(&t->n, n + 1);
	return 0;
}

static void remove_at(struct route_table *t, uint32_t at)
{
	uint32_t n = ld(&t->n);
	for (uint32_t i = at; i + 1 < n; i++)
		slot_copy(&t->r[i], &t->r[i + 1]);
	put(&t->n, n - 1);
}

static int find(const struct route_table *t, uint32_t dest, unsigned len)
{
	for (uint32_t i = 0; i < ld(&t->n); i++)
		if (ld(&t->r[i].dest) == dest && meta_len(ld(&t->r[i].meta)) == len)
			return (int)i;
	return -1;
}

/** The port whose connected subnet holds `addr` (not its own address), or -1. */
static int connected_port(const struct route_table *t, uint32_t addr)
{
	for (uint32_t i = 0; i < ld(&t->n); i++) {
		const struct route_slot *r = &t->r[i];
		uint32_t m = ld(&r->meta);
		if ((meta_flags(m) & FFS_ROUTE_CONNECTED) && (addr & ld(&r->mask)) == ld(&r->dest) &&
		    addr != ld(&t->ifa[meta_port(m)][0]))
			return (int)meta_port(m);
	}
	return -1;
}

/** Sets port i's address in the table and the port (its connected route with it). */
static void set_ifaddr_locked(struct ffs_stack *st, unsigned i, uint32_t addr, uint32_t netmask, uint32_t broadcast)
{
	struct route_table *t = &st->routes;
	put(&t->ifa[i][0], addr);
	put(&t->ifa[i][1], netmask);
	put(&t->ifa[i][2], broadcast);
	st->ports[i].addr = addr;
	st->ports[i].netmask = netmask;
	st->ports[i].broadcast = broadcast;
	for (uint32_t k = 0; k < ld(&t->n);) {
		uint32_t m = ld(&t->r[k].meta);
		if (meta_port(m) == i && (meta_flags(m) & FFS_ROUTE_CONNECTED))
			remove_at(t, k);
		else
			k++;
	}
	if (addr == 0)
		return;
	unsigned len = (unsigned)__builtin_popcount(netmask);
	uint32_t dest = addr & route_mask(len);
	/* A static route to the same subnet gives way to the connected one. */
	int dup = find(t, dest, len);
	if (dup >= 0 && !(meta_flags(ld(&t->r[dup].meta)) & FFS_ROUTE_CONNECTED))
		remove_at(t, (uint32_t)dup);
	insert(t, dest, len, 0, i, FFS_ROUTE_CONNECTED);
}

void route_init(struct ffs_stack *st)
{
	struct route_table *t = &st->routes;
	rte_seqcount_init(&t->seq);
	pthread_mutex_init(&t->write_lock, NULL);
	put(&t->n, 0);
	bool have_default = false;
	for (unsigned i = 0; i < st->n_ports; i++) {
		const struct ffs_port_conf *pc = &st->conf.ports[i];
		set_ifaddr_locked(st, i, pc->addr, pc->netmask, pc->broadcast);
		/* The first port with a gateway gives the default route; a later port's gateway would duplicate it. */
		if (pc->gateway && !have_default)
			have_default = insert(t, 0, 0, pc->gateway, i, FFS_ROUTE_GATEWAY | FFS_ROUTE_STATIC) == 0;
	}
}

void route_fini(struct ffs_stack *st) { pthread_mutex_destroy(&st->routes.write_lock); }

static void write_begin(struct route_table *t)
{
	pthread_mutex_lock(&t->write_lock);
	rte_seqcount_write_begin(&t->seq);
}

static void write_end(struct route_table *t)
{
	rte_seqcount_write_end(&t->seq);
	pthread_mutex_unlock(&t->write_lock);
}

void route_set_ifaddr(struct ffs_stack *st, unsigned port_index, uint32_t addr, unsigned prefixlen)
{
	struct route_table *t = &st->routes;
	uint32_t mask = route_mask(prefixlen);
	/* RFC 3021: a /31 has no broadcast address; nor has a /32. The limited broadcast stands in. */
	uint32_t bcast = prefixlen >= 31 ? 0xffffffffu : addr | ~mask;
	write_begin(t);
	set_ifaddr_locked(st, port_index, addr, mask, bcast);
	/* Static routes through the port whose gateway left its subnet could reach nothing: they go (as
	 * Linux drops the routes of an address it deletes). */
	for (uint32_t k = 0; k < ld(&t->n);) {
		uint32_t m = ld(&t->r[k].meta), gw = ld(&t->r[k].gateway);
		if (meta_port(m) == port_index && gw && connected_port(t, gw) != (int)port_index)
			remove_at(t, k);
		else
			k++;
	}
	write_end(t);
}

int ffs_stack_route_add(struct ffs_stack *st, uint32_t dest, unsigned prefixlen, uint32_t gateway)
{
	struct route_table *t = &st->routes;
	if (prefixlen > 32 || (dest & ~route_mask(prefixlen)) != 0 || gateway == 0)
		return -EINVAL;
	write_begin(t);
	int port = connected_port(t, gateway);
	int rc = port < 0 ? -ENETUNREACH
		 : find(t, dest, prefixlen) >= 0 ? -EEXIST
		 : insert(t, dest, prefixlen, gateway, (unsigned)port, FFS_ROUTE_GATEWAY | FFS_ROUTE_STATIC);
	write_end(t);
	return rc;
}

int ffs_stack_route_del(struct ffs_stack *st, uint32_t dest, unsigned prefixlen)
{
	struct route_table *t = &st->routes;
	if (prefixlen > 32)
		return -EINVAL;
	write_begin(t);
	int at = find(t, dest, prefixlen);
	int rc = at < 0 ? -ESRCH : (meta_flags(ld(&t->r[at].meta)) & FFS_ROUTE_CONNECTED) ? -EPERM : 0;
	if (rc == 0)
		remove_at(t, (uint32_t)at);
	write_end(t);
	return rc;
}

int ffs_stack_route_dump(struct ffs_stack *st, struct ffs_route_info *out, unsigned max)
{
	struct route_table *t = &st->routes;
	struct route_slot snap[FFS_MAX_ROUTES];
	uint32_t n, sn;
	do {
		sn = rte_seqcount_read_begin(&t->seq);
		n = ld(&t->n);
		if (n > FFS_MAX_ROUTES)
			n = FFS_MAX_ROUTES;
		for (uint32_t i = 0; i < n; i++) {
			snap[i].dest = ld(&t->r[i].dest);
			snap[i].gateway = ld(&t->r[i].gateway);
			snap[i].meta = ld(&t->r[i].meta);
		}
	} while (rte_seqcount_read_retry(&t->seq, sn));
	unsigned k = 0;
	for (uint32_t i = 0; i < n && k < max; i++, k++) {
		unsigned port = meta_port(snap[i].meta);
		out[k] = (struct ffs_route_info){ .dest = snap[i].dest, .prefixlen = (uint8_t)meta_len(snap[i].meta),
						  .flags = (uint8_t)meta_flags(snap[i].meta), .gateway = snap[i].gateway,
						  .port_id = port < st->n_ports ? st->ports[port].port_id : 0 };
	}
	return (int)k;
}
