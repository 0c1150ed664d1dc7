/*
 * Routing for a host that does not forward (storage and concurrency in route.h): longest-prefix
 * match over connected subnets, the configured gateway as the default route, and static routes —
 * configured ([portN] route[]) or added and removed at run time, each with a metric (lowest wins
 * among routes to one prefix) and optionally a preferred source address; the ports' addresses
 * change here too (ifconfig), with their connected routes. Also the questions a socket asks
 * before it sends or connects: the source address a destination is reached from, and whether it
 * is a broadcast. Lookups from any thread, never locked; changes from the control plane, published
 * once every lcore has routed what was queued to send before them (lcore/ctrl.h's TX barrier), then
 * compiled by every lcore into its own FIB (iface/route_fib.c, FFS_CTRL_ROUTE_SYNC) before the change
 * returns: the lcores' per-packet lookups go there, the scan here serves everyone else.
 */
#include <errno.h>
#include <string.h>

#include "stack/iface/iface.h"
#include "stack/iface/latch.h"
#include "stack/lcore/ctrl.h"

/** A reader's copy of the table (see route.h): the one the latch points at now. */
static inline const struct route_data *read_begin(const struct route_table *t, uint32_t *sn)
{
	*sn = latch_read_begin(&t->seq);
	return &t->copy[*sn & 1];
}

static inline bool read_retry(const struct route_table *t, uint32_t sn) { return latch_read_retry(&t->seq, sn); }


uint32_t route_mask(unsigned prefixlen) { return prefixlen ? ~0u << (32 - prefixlen) : 0; }

/* --- a port's further addresses ([portN] vip_addr, ifconfig inet ADDR alias): in ffs_port.vips, two
 * copies under a latch of their own, read as the table is; written under the table's write_lock */

unsigned route_port_vips(const struct ffs_port *p, struct ffs_ifaddr out[FFS_MAX_VIP])
{
	uint32_t n, sn;
	do {
		sn = latch_read_begin(&p->vips.seq);
		const struct ffs_ifaddr *a = p->vips.copy[sn & 1].a;
		n = latch_ld(&p->vips.copy[sn & 1].n);
		if (n > FFS_MAX_VIP)
			n = FFS_MAX_VIP;
		for (uint32_t k = 0; k < n; k++)
			out[k] = (struct ffs_ifaddr){ latch_ld(&a[k].addr), latch_ld(&a[k].netmask), latch_ld(&a[k].broadcast) };
	} while (latch_read_retry(&p->vips.seq, sn));
	return n;
}

/** Whether `addr` is a further address of port `p` (*bcast false) or the broadcast address of one's subnet (*bcast true). */
static bool vip_of(const struct ffs_port *p, uint32_t addr, bool *bcast)
{
	struct ffs_ifaddr v[FFS_MAX_VIP];
	for (unsigned k = 0, n = route_port_vips(p, v); k < n; k++) {
		if (v[k].addr == addr || v[k].broadcast == addr) {
			*bcast = v[k].addr != addr;
			return true;
		}
	}
	return false;
}

/** The further address of port `p` whose subnet holds `addr` (the first in order), or 0. */
static uint32_t vip_on_link(const struct ffs_port *p, uint32_t addr)
{
	struct ffs_ifaddr v[FFS_MAX_VIP];
	for (unsigned k = 0, n = route_port_vips(p, v); k < n; k++)
		if ((addr & v[k].netmask) == (v[k].addr & v[k].netmask))
			return v[k].addr;
	return 0;
}

bool route_port_has_addr(const struct ffs_port *p, uint32_t addr)
{
	bool bcast;
	return addr != 0 && (p->addr == addr || (vip_of(p, addr, &bcast) && !bcast));
}

bool route_is_local(const struct ffs_stack *st, uint32_t dst)
{
	if (ipv4_is_loopback(dst))
		return true;
	for (unsigned i = 0; i < st->n_ports; i++)
		if (route_port_has_addr(&st->ports[i], dst))
			return true;
	return false;
}

/** The port whose address or broadcast address is `addr` (*bcast: the latter), or -1; one snapshot. */
static int port_of(const struct ffs_stack *st, uint32_t addr, bool *bcast)
{
	int found;
	uint32_t sn;
	do {
		const struct route_data *d = read_begin(&st->routes, &sn);
		found = -1;
		*bcast = false;
		for (unsigned i = 0; i < st->n_ports && found < 0; i++) {
			if (latch_ld(&d->ifa[i][0]) == addr) {
				found = (int)i;
			} else if (latch_ld(&d->ifa[i][2]) == addr) {
				found = (int)i;
				*bcast = true;
			}
		}
	} while (read_retry(&st->routes, sn));
	for (unsigned i = 0; i < st->n_ports && found < 0; i++)
		if (vip_of(&st->ports[i], addr, bcast))
			found = (int)i;
	return found;
}

const struct ffs_port *route_port_of(const struct ffs_stack *st, uint32_t addr)
{
	bool bcast;
	int i = port_of(st, addr, &bcast);
	return i < 0 ? NULL : &st->ports[i];
}

/** Whether `addr` is on the subnet of port `port_index`'s primary address; *primary: that address. */
static bool primary_on_link(const struct ffs_stack *st, uint16_t port_index, uint32_t addr, uint32_t *primary)
{
	bool on;
	uint32_t sn;
	do {
		const struct route_data *d = read_begin(&st->routes, &sn);
		uint32_t a = latch_ld(&d->ifa[port_index][0]), m = latch_ld(&d->ifa[port_index][1]);
		on = a != 0 && (addr & m) == (a & m);
		*primary = a;
	} while (read_retry(&st->routes, sn));
	return on;
}

bool route_on_link(const struct ffs_stack *st, uint16_t port_index, uint32_t addr)
{
	uint32_t primary;
	return primary_on_link(st, port_index, addr, &primary) || vip_on_link(&st->ports[port_index], addr) != 0;
}

uint32_t route_port_source(const struct ffs_stack *st, const struct ffs_port *p, uint32_t nexthop)
{
	uint32_t primary;
	if (primary_on_link(st, p->index, nexthop, &primary))
		return primary;
	uint32_t vip = vip_on_link(p, nexthop);
	return vip ? vip : primary;
}


/** The first route matching dst in one snapshot: its port (NULL = no route), next hop and preferred
 *  source (0 = none, the port's address). */
const struct ffs_port *route_lookup_src(const struct ffs_stack *st, uint32_t dst, uint32_t *nexthop, uint32_t *src)
{
	int port;
	uint32_t hop, pref, sn;
	do {
		const struct route_data *d = read_begin(&st->routes, &sn);
		port = -1;
		hop = pref = 0;
		uint32_t n = latch_ld(&d->n);
		for (uint32_t i = 0; i < n && i < FFS_MAX_ROUTES; i++) {
			const struct route_slot *r = &d->r[i];
			if ((dst & latch_ld(&r->mask)) == latch_ld(&r->dest)) {
				uint32_t gw = latch_ld(&r->gateway);
				port = (int)route_meta_port(latch_ld(&r->meta));
				hop = gw ? gw : dst;
				pref = latch_ld(&r->src);
				break;
			}
		}
	} while (read_retry(&st->routes, sn));
	if (port < 0 || port >= (int)st->n_ports)
		return NULL;
	*nexthop = hop;
	*src = pref;
	return &st->ports[port];
}

const struct ffs_port *route_lookup(const struct ffs_stack *st, uint32_t dst, uint32_t *nexthop)
{
	uint32_t src;
	return route_lookup_src(st, dst, nexthop, &src);
}

uint32_t route_source(const struct ffs_stack *st, uint32_t dst)
{
	if (ipv4_is_loopback(dst))
		return 0x7f000001u;
	if (route_is_local(st, dst))
		return dst;
	uint32_t nexthop = dst, src = 0;
	const struct ffs_port *p;
	if (dst == 0xffffffffu || ipv4_is_multicast(dst)) {
		/* The port the route to the group (or the limited broadcast) leaves by, as Linux's route lookup
		 * picks it; the first port when no route says. */
		p = route_lookup_src(st, dst, &nexthop, &src);
		return p ? (src ? src : p->addr) : st->n_ports ? st->ports[0].addr : 0;
	}
	/* A subnet broadcast leaves from the address of that subnet; a route's preferred source (its src),
	 * else its next hop (its gateway, or dst itself on-link) picks the port's address on its subnet, as
	 * Linux's inet_select_addr does. */
	p = route_port_of(st, dst);
	if (!p)
		p = route_lookup_src(st, dst, &nexthop, &src);
	return !p ? 0 : src ? src : route_port_source(st, p, nexthop);
}

bool route_is_broadcast(const struct ffs_stack *st, uint32_t dst)
{
	if (dst == 0xffffffffu || dst == 0x7fffffffu) /* limited broadcast, and loopback's 127.255.255.255 */
		return true;
	bool bcast;
	return port_of(st, dst, &bcast) >= 0 && bcast;
}

/* --- writers: on the staged copy, under write_lock */

/** A route to insert (connected routes: gateway, src and metric 0). */
struct route_spec {
	uint32_t dest;
	unsigned len;
	uint32_t gateway;
	unsigned port_index, flags;
	uint32_t src, metric;
};

/** Inserts after every longer route, after routes of the same length and a lower metric, and after
 *  those of the same length and metric when they are connected or the new one is not. */
static int insert(struct route_data *d, const struct route_spec *s)
{
	if (d->n == FFS_MAX_ROUTES)
		return -ENOSPC;
	bool connected = s->flags & FFS_ROUTE_CONNECTED;
	uint32_t at = 0;
	while (at < d->n) {
		const struct route_slot *r = &d->r[at];
		unsigned len = route_meta_len(r->meta);
		bool before = len > s->len ||
			      (len == s->len && (r->metric < s->metric ||
						 (r->metric == s->metric && ((route_meta_flags(r->meta) & FFS_ROUTE_CONNECTED) || !connected))));
		if (!before)
			break;
		at++;
	}
	memmove(&d->r[at + 1], &d->r[at], (d->n - at) * sizeof(d->r[0]));
	d->r[at] = (struct route_slot){ s->dest, route_mask(s->len), s->gateway, route_meta_of(s->port_index, s->len, s->flags), s->src,
					s->metric };
	d->n++;
	return 0;
}

static void remove_at(struct route_data *d, uint32_t at)
{
	memmove(&d->r[at], &d->r[at + 1], (d->n - at - 1) * sizeof(d->r[0]));
	d->n--;
}

/** The route to dest/len of that metric (FFS_ROUTE_ANY_METRIC: the first, a static one before a
 *  connected one), or -1. */
static int find(const struct route_data *d, uint32_t dest, unsigned len, int64_t metric)
{
	int connected = -1;
	for (uint32_t i = 0; i < d->n; i++) {
		const struct route_slot *r = &d->r[i];
		if (r->dest != dest || route_meta_len(r->meta) != len || (metric != FFS_ROUTE_ANY_METRIC && r->metric != metric))
			continue;
		if (metric != FFS_ROUTE_ANY_METRIC || !(route_meta_flags(r->meta) & FFS_ROUTE_CONNECTED))
			return (int)i;
		if (connected < 0)
			connected = (int)i;
	}
	return connected;
}

/** Whether `addr` is one of the stack's own addresses (a port's, in the staged table, or a further one
 *  of vip_addr): what a route's preferred source may be. */
static bool is_own_address(const struct ffs_stack *st, const struct route_data *d, uint32_t addr)
{
	if (addr == 0)
		return false;
	for (unsigned i = 0; i < FFS_MAX_PORTS; i++)
		if (d->ifa[i][0] == addr)
			return true;
	bool bcast;
	for (unsigned i = 0; i < st->n_ports; i++)
		if (vip_of(&st->ports[i], addr, &bcast) && !bcast)
			return true;
	return false;
}

/** The port whose connected subnet holds `addr` (not its own address), or -1. */
static int connected_port(const struct route_data *d, uint32_t addr)
{
	for (uint32_t i = 0; i < d->n; i++) {
		const struct route_slot *r = &d->r[i];
		if ((route_meta_flags(r->meta) & FFS_ROUTE_CONNECTED) && (addr & r->mask) == r->dest &&
		    addr != d->ifa[route_meta_port(r->meta)][0])
			return (int)route_meta_port(r->meta);
	}
	return -1;
}

/** Sets port i's address in the staged table (its connected route with it). */
static void set_ifaddr_staged(struct route_data *d, unsigned i, uint32_t addr, uint32_t netmask, uint32_t broadcast)
{
	d->ifa[i][0] = addr;
	d->ifa[i][1] = netmask;
	d->ifa[i][2] = broadcast;
	for (uint32_t k = 0; k < d->n;) {
		if (route_meta_port(d->r[k].meta) == i && (route_meta_flags(d->r[k].meta) & FFS_ROUTE_CONNECTED))
			remove_at(d, k);
		else
			k++;
	}
	if (addr == 0)
		return;
	unsigned len = (unsigned)__builtin_popcount(netmask);
	uint32_t dest = addr & route_mask(len);
	/* A static route to the same subnet and metric (0) gives way to the connected one. */
	int dup = find(d, dest, len, 0);
	if (dup >= 0 && !(route_meta_flags(d->r[dup].meta) & FFS_ROUTE_CONNECTED))
		remove_at(d, (uint32_t)dup);
	insert(d, &(struct route_spec){ .dest = dest, .len = len, .port_index = i, .flags = FFS_ROUTE_CONNECTED });
}

static void copy_out(struct route_data *to, const struct route_data *from)
{
	for (uint32_t i = 0; i < FFS_MAX_PORTS; i++)
		for (uint32_t k = 0; k < 3; k++)
			latch_st(&to->ifa[i][k], from->ifa[i][k]);
	for (uint32_t i = 0; i < from->n; i++) {
		latch_st(&to->r[i].dest, from->r[i].dest);
		latch_st(&to->r[i].mask, from->r[i].mask);
		latch_st(&to->r[i].gateway, from->r[i].gateway);
		latch_st(&to->r[i].meta, from->r[i].meta);
		latch_st(&to->r[i].src, from->r[i].src);
		latch_st(&to->r[i].metric, from->r[i].metric);
	}
	latch_st(&to->n, from->n);
}

static void latch(struct route_table *t) { latch_flip(&t->seq); }

/** Publishes the staged table: each copy is rewritten while the readers use the other. */
static void publish(struct ffs_stack *st)
{
	struct route_table *t = &st->routes;
	latch(t);
	copy_out(&t->copy[0], &t->staged);
	latch(t);
	copy_out(&t->copy[1], &t->staged);
	for (unsigned i = 0; i < st->n_ports; i++) {
		st->ports[i].addr = t->staged.ifa[i][0];
		st->ports[i].netmask = t->staged.ifa[i][1];
		st->ports[i].broadcast = t->staged.ifa[i][2];
	}
}

static int add_staged(const struct ffs_stack *st, struct route_data *d, uint32_t dest, unsigned prefixlen, uint32_t gateway, uint32_t src, uint32_t metric);

/** The connected routes of port i's vip_addr subnets (those its primary address's route does not cover
 *  already; a static route to the same subnet gives way, as to the primary's). */
static void add_vip_routes_staged(struct route_data *d, const struct ffs_port *p)
{
	struct ffs_ifaddr v[FFS_MAX_VIP];
	for (unsigned k = 0, n = route_port_vips(p, v); k < n; k++) {
		unsigned len = (unsigned)__builtin_popcount(v[k].netmask);
		uint32_t dest = v[k].addr & v[k].netmask;
		int dup = find(d, dest, len, 0);
		if (dup >= 0 && (route_meta_flags(d->r[dup].meta) & FFS_ROUTE_CONNECTED))
			continue;
		if (dup >= 0)
			remove_at(d, (uint32_t)dup);
		insert(d, &(struct route_spec){ .dest = dest, .len = len, .port_index = p->index, .flags = FFS_ROUTE_CONNECTED });
	}
}

void route_init(struct ffs_stack *st)
{
	struct route_table *t = &st->routes;
	struct route_data *d = &t->staged;
	pthread_mutex_init(&t->write_lock, NULL);
	memset(d, 0, sizeof(*d));
	bool have_default = false;
	for (unsigned i = 0; i < st->n_ports; i++) {
		const struct ffs_port_conf *pc = &st->conf.ports[i];
		set_ifaddr_staged(d, i, pc->addr, pc->netmask, pc->broadcast);
		add_vip_routes_staged(d, &st->ports[i]);
		/* The first port with a gateway gives the default route; a later port's gateway would duplicate it. */
		if (pc->gateway && !have_default)
			have_default = insert(d, &(struct route_spec){ .gateway = pc->gateway, .port_index = i,
								       .flags = FFS_ROUTE_GATEWAY | FFS_ROUTE_STATIC }) == 0;
	}
	/* [portN] route[], once every port has its address (a src may be another port's); both config
	 * readers refused what add_staged would. */
	for (unsigned i = 0; i < st->n_ports; i++) {
		const struct ffs_port_conf *pc = &st->conf.ports[i];
		for (unsigned k = 0; k < pc->n_routes; k++) {
			const struct ffs_conf_route *r = &pc->routes[k];
			add_staged(st, d, r->dest, r->prefixlen, r->gateway, r->src, r->metric);
		}
	}
	publish(st);
	/* The lcores are not turning yet: each one's FIB is built here, on this thread. */
	for (unsigned i = 0; i < st->n_lcores; i++)
		route_fib_sync(st->lcores[i]);
}

void route_fini(struct ffs_stack *st) { pthread_mutex_destroy(&st->routes.write_lock); }

static struct route_data *write_begin(struct ffs_stack *st)
{
	pthread_mutex_lock(&st->routes.write_lock);
	return &st->routes.staged;
}

static void write_end(struct ffs_stack *st, bool changed)
{
	if (changed) {
		/* Datagrams queued before the change leave by the routes they were sent under (a stuck
		 * lcore delays the change by the barrier's timeout, it does not stop it). */
		ffs_ctrl_tx_barrier(st);
		publish(st);
		/* Then every lcore rebuilds its FIB from what was published: when the call returns, no
		 * lcore routes by the old table (a stuck one, by the barrier's reasoning, later). */
		route_fib_sync_all(st);
	}
	pthread_mutex_unlock(&st->routes.write_lock);
}

/** Port i's connected routes for its address `a` and its further ones; static routes through the port
 *  whose gateway left its subnets could reach nothing: they go (as Linux drops the routes of an address
 *  it deletes). */
static void port_routes_staged(struct ffs_stack *st, struct route_data *d, unsigned i, struct ffs_ifaddr a)
{
	set_ifaddr_staged(d, i, a.addr, a.netmask, a.broadcast);
	add_vip_routes_staged(d, &st->ports[i]);
	for (uint32_t k = 0; k < d->n;) {
		const struct route_slot *r = &d->r[k];
		bool gateway_gone = route_meta_port(r->meta) == i && r->gateway && connected_port(d, r->gateway) != (int)i;
		/* Nor does a route keep a preferred source the stack no longer has (Linux: fib_sync_down_addr). */
		if (gateway_gone || (r->src && !is_own_address(st, d, r->src)))
			remove_at(d, k);
		else
			k++;
	}
}

void route_set_ifaddr(struct ffs_stack *st, unsigned port_index, uint32_t addr, unsigned prefixlen)
{
	struct route_data *d = write_begin(st);
	port_routes_staged(st, d, port_index, ffs_ifaddr_of(addr, prefixlen));
	write_end(st, true);
}

/** Publishes port p's further addresses: each copy is rewritten while the readers use the other. */
static void vips_publish(struct ffs_port *p, const struct ffs_ifaddr *a, unsigned n)
{
	for (unsigned c = 0; c < 2; c++) {
		latch_flip(&p->vips.seq);
		unsigned w = (latch_ld(&p->vips.seq) & 1) ^ 1; /* the copy no reader starts on now */
		for (unsigned k = 0; k < n; k++) {
			latch_st(&p->vips.copy[w].a[k].addr, a[k].addr);
			latch_st(&p->vips.copy[w].a[k].netmask, a[k].netmask);
			latch_st(&p->vips.copy[w].a[k].broadcast, a[k].broadcast);
		}
		latch_st(&p->vips.copy[w].n, n);
	}
}

int route_vip_add(struct ffs_stack *st, unsigned port_index, uint32_t addr, unsigned prefixlen)
{
	struct route_data *d = write_begin(st);
	struct ffs_port *p = &st->ports[port_index];
	struct ffs_ifaddr v[FFS_MAX_VIP + 1];
	unsigned n = route_port_vips(p, v);
	int rc = n == FFS_MAX_VIP ? -ENOSPC : 0;
	if (rc == 0) {
		v[n] = ffs_ifaddr_of(addr, prefixlen);
		vips_publish(p, v, n + 1);
		const uint32_t *ifa = d->ifa[port_index];
		port_routes_staged(st, d, port_index, (struct ffs_ifaddr){ ifa[0], ifa[1], ifa[2] });
	}
	write_end(st, rc == 0);
	return rc;
}

int route_vip_del(struct ffs_stack *st, unsigned port_index, uint32_t addr)
{
	struct route_data *d = write_begin(st);
	struct ffs_port *p = &st->ports[port_index];
	struct ffs_ifaddr v[FFS_MAX_VIP];
	unsigned n = route_port_vips(p, v), k = 0;
	while (k < n && v[k].addr != addr)
		k++;
	int rc = k == n ? -ESRCH : 0;
	if (rc == 0) {
		memmove(&v[k], &v[k + 1], (n - k - 1) * sizeof(v[0]));
		vips_publish(p, v, n - 1);
		const uint32_t *ifa = d->ifa[port_index];
		port_routes_staged(st, d, port_index, (struct ffs_ifaddr){ ifa[0], ifa[1], ifa[2] });
	}
	write_end(st, rc == 0);
	return rc;
}


/** Adds a static route to the staged table: ffs_stack_route_add_ex's checks and errors. */
static int add_staged(const struct ffs_stack *st, struct route_data *d, uint32_t dest, unsigned prefixlen, uint32_t gateway, uint32_t src, uint32_t metric)
{
	if (prefixlen > 32 || (dest & ~route_mask(prefixlen)) != 0 || gateway == 0)
		return -EINVAL;
	if (src != 0 && !is_own_address(st, d, src))
		return -EADDRNOTAVAIL;
	int port = connected_port(d, gateway);
	if (port < 0)
		return -ENETUNREACH;
	if (find(d, dest, prefixlen, metric) >= 0)
		return -EEXIST;
	return insert(d, &(struct route_spec){ .dest = dest, .len = prefixlen, .gateway = gateway, .port_index = (unsigned)port,
					       .flags = FFS_ROUTE_GATEWAY | FFS_ROUTE_STATIC, .src = src, .metric = metric });
}

int ffs_stack_route_add_ex(struct ffs_stack *st, uint32_t dest, unsigned prefixlen, uint32_t gateway, uint32_t src,
			   uint32_t metric)
{
	struct route_data *d = write_begin(st);
	int rc = add_staged(st, d, dest, prefixlen, gateway, src, metric);
	write_end(st, rc == 0);
	return rc;
}

int ffs_stack_route_add(struct ffs_stack *st, uint32_t dest, unsigned prefixlen, uint32_t gateway)
{
	return ffs_stack_route_add_ex(st, dest, prefixlen, gateway, 0, 0);
}

int ffs_stack_route_change(struct ffs_stack *st, uint32_t dest, unsigned prefixlen, uint32_t gateway, uint32_t src,
			   uint32_t metric)
{
	if (prefixlen > 32)
		return -EINVAL;
	struct route_data *d = write_begin(st);
	int at = find(d, dest, prefixlen, metric);
	int rc = at < 0 ? -ESRCH : (route_meta_flags(d->r[at].meta) & FFS_ROUTE_CONNECTED) ? -EPERM : 0;
	if (rc == 0) {
		/* One publication: readers see the old route or the new one, never none. */
		struct route_slot old = d->r[at];
		remove_at(d, (uint32_t)at);
		rc = add_staged(st, d, dest, prefixlen, gateway, src, metric);
		if (rc < 0)
			insert(d, &(struct route_spec){ .dest = old.dest, .len = route_meta_len(old.meta), .gateway = old.gateway,
							.port_index = route_meta_port(old.meta), .flags = route_meta_flags(old.meta), .src = old.src,
							.metric = old.metric });
	}
	write_end(st, rc == 0);
	return rc;
}

int ffs_stack_route_del_ex(struct ffs_stack *st, uint32_t dest, unsigned prefixlen, int64_t metric)
{
	if (prefixlen > 32)
		return -EINVAL;
	struct route_data *d = write_begin(st);
	int at = find(d, dest, prefixlen, metric);
	int rc = at < 0 ? -ESRCH : (route_meta_flags(d->r[at].meta) & FFS_ROUTE_CONNECTED) ? -EPERM : 0;
	if (rc == 0)
		remove_at(d, (uint32_t)at);
	write_end(st, rc == 0);
	return rc;
}

int ffs_stack_route_del(struct ffs_stack *st, uint32_t dest, unsigned prefixlen)
{
	return ffs_stack_route_del_ex(st, dest, prefixlen, FFS_ROUTE_ANY_METRIC);
}

unsigned route_snapshot(const struct ffs_stack *st, struct route_slot snap[FFS_MAX_ROUTES])
{
	uint32_t n, sn;
	do {
		const struct route_data *d = read_begin(&st->routes, &sn);
		n = latch_ld(&d->n);
		if (n > FFS_MAX_ROUTES)
			n = FFS_MAX_ROUTES;
		for (uint32_t i = 0; i < n; i++) {
			snap[i].dest = latch_ld(&d->r[i].dest);
			snap[i].mask = latch_ld(&d->r[i].mask);
			snap[i].gateway = latch_ld(&d->r[i].gateway);
			snap[i].meta = latch_ld(&d->r[i].meta);
			snap[i].src = latch_ld(&d->r[i].src);
			snap[i].metric = latch_ld(&d->r[i].metric);
		}
	} while (read_retry(&st->routes, sn));
	return n;
}

int ffs_stack_route_dump(struct ffs_stack *st, struct ffs_route_info *out, unsigned max)
{
	struct route_slot snap[FFS_MAX_ROUTES];
	uint32_t n = route_snapshot(st, snap);
	unsigned k = 0;
	for (uint32_t i = 0; i < n && k < max; i++, k++) {
		unsigned port = route_meta_port(snap[i].meta);
		out[k] = (struct ffs_route_info){ .dest = snap[i].dest, .prefixlen = (uint8_t)route_meta_len(snap[i].meta),
						  .flags = (uint8_t)route_meta_flags(snap[i].meta), .gateway = snap[i].gateway,
						  .port_id = port < st->n_ports ? st->ports[port].port_id : 0,
						  .src = snap[i].src, .metric = snap[i].metric };
	}
	return (int)k;
}
