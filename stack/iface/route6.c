/*
 * IPv6 routing for a host (storage and concurrency in route6.h): longest-prefix match over on-link
 * prefixes, default routers with lifetimes, link-local destinations by scope, and the path MTU cache.
 * Lookups from any thread, never locked; changes from the control plane and from router
 * advertisements.
 */
#include <errno.h>
#include <string.h>
#include <rte_cycles.h>

#include "stack/iface/addr6.h"
#include "stack/iface/latch.h"
#include "stack/iface/route6.h"
#include "stack/lcore/lcore.h"

static inline uint32_t meta_of(unsigned port, unsigned len, unsigned flags)
{
	return (uint32_t)port | (uint32_t)len << 16 | (uint32_t)flags << 24;
}
static inline unsigned meta_port(uint32_t m) { return m & 0xffff; }
static inline unsigned meta_len(uint32_t m) { return (m >> 16) & 0xff; }
static inline unsigned meta_flags(uint32_t m) { return m >> 24; }

/** A reader's copy of one entry. */
static void entry_read(const struct route6_entry *e, struct ip6_addr *a, uint32_t *meta, uint64_t *expires)
{
	for (int k = 0; k < 4; k++) {
		uint32_t w = latch_ld(&e->w[k]);
		memcpy(&a->b[4 * k], &w, 4);
	}
	*meta = latch_ld(&e->meta);
	*expires = latch_ld64(&e->expires);
}

static inline bool alive(uint64_t expires, uint64_t now) { return expires == 0 || now < expires; }

const struct ffs_port *route6_lookup(const struct ffs_stack *st, const struct ip6_addr *dst, int scope_port,
				     struct ip6_addr *nexthop)
{
	if (ip6_is_linklocal(dst) || ip6_is_multicast(dst)) {
		/* RFC 4007 §6: a link-local (or multicast) destination needs its zone: the scope id. */
		if (scope_port < 0 || (unsigned)scope_port >= st->n_ports || st->conf.ports[scope_port].ipv6_off)
			return NULL;
		*nexthop = *dst;
		return &st->ports[scope_port];
	}
	const struct route6_table *t = &st->routes6;
	uint64_t now = rte_get_tsc_cycles();
	int port;
	struct ip6_addr hop;
	uint32_t sn;
	do {
		sn = latch_read_begin(&t->seq);
		const struct route6_data *d = &t->copy[sn & 1];
		port = -1;
		uint32_t n = latch_ld(&d->n_prefixes);
		for (uint32_t i = 0; i < n && i < FFS_MAX_PREFIXES6 && port < 0; i++) {
			struct ip6_addr p;
			uint32_t meta;
			uint64_t exp;
			entry_read(&d->prefix[i], &p, &meta, &exp);
			if (alive(exp, now) && (scope_port < 0 || (int)meta_port(meta) == scope_port) &&
			    ip6_prefix_eq(&p, dst, meta_len(meta))) {
				port = (int)meta_port(meta);
				hop = *dst;
			}
		}
		n = latch_ld(&d->n_routers);
		for (uint32_t i = 0; i < n && i < FFS_MAX_ROUTERS6 && port < 0; i++) {
			uint32_t meta;
			uint64_t exp;
			entry_read(&d->router[i], &hop, &meta, &exp);
			if (alive(exp, now) && (scope_port < 0 || (int)meta_port(meta) == scope_port))
				port = (int)meta_port(meta);
		}
	} while (latch_read_retry(&t->seq, sn));
	if (port < 0 || (unsigned)port >= st->n_ports)
		return NULL;
	*nexthop = hop;
	return &st->ports[port];
}

bool route6_on_link(const struct ffs_stack *st, unsigned port, const struct ip6_addr *a)
{
	if (port >= st->n_ports || st->conf.ports[port].ipv6_off)
		return false;
	if (ip6_is_linklocal(a))
		return true;
	const struct route6_table *t = &st->routes6;
	uint64_t now = rte_get_tsc_cycles();
	bool on;
	uint32_t sn;
	do {
		sn = latch_read_begin(&t->seq);
		const struct route6_data *d = &t->copy[sn & 1];
		on = false;
		uint32_t n = latch_ld(&d->n_prefixes);
		for (uint32_t i = 0; i < n && i < FFS_MAX_PREFIXES6 && !on; i++) {
			struct ip6_addr p;
			uint32_t meta;
			uint64_t exp;
			entry_read(&d->prefix[i], &p, &meta, &exp);
			on = alive(exp, now) && meta_port(meta) == port && ip6_prefix_eq(&p, a, meta_len(meta));
		}
	} while (latch_read_retry(&t->seq, sn));
	return on;
}

bool route6_has_router(const struct ffs_stack *st, unsigned port)
{
	const struct route6_table *t = &st->routes6;
	uint64_t now = rte_get_tsc_cycles();
	bool has;
	uint32_t sn;
	do {
		sn = latch_read_begin(&t->seq);
		const struct route6_data *d = &t->copy[sn & 1];
		has = false;
		uint32_t n = latch_ld(&d->n_routers);
		for (uint32_t i = 0; i < n && i < FFS_MAX_ROUTERS6 && !has; i++) {
			struct ip6_addr r;
			uint32_t meta;
			uint64_t exp;
			entry_read(&d->router[i], &r, &meta, &exp);
			has = alive(exp, now) && meta_port(meta) == port;
		}
	} while (latch_read_retry(&t->seq, sn));
	return has;
}

/* --- writers: on the staged copy, under write_lock */

static void copy_out(struct route6_data *to, const struct route6_data *from)
{
	const struct route6_entry *src[2] = { from->prefix, from->router };
	struct route6_entry *dst[2] = { to->prefix, to->router };
	uint32_t n[2] = { from->n_prefixes, from->n_routers };
	for (int k = 0; k < 2; k++) {
		for (uint32_t i = 0; i < n[k]; i++) {
			for (int j = 0; j < 4; j++)
				latch_st(&dst[k][i].w[j], src[k][i].w[j]);
			latch_st(&dst[k][i].meta, src[k][i].meta);
			latch_st64(&dst[k][i].expires, src[k][i].expires);
		}
	}
	latch_st(&to->n_prefixes, from->n_prefixes);
	latch_st(&to->n_routers, from->n_routers);
}

/* The thread that holds the writers' lock of a stack, and how many updates deep: a lcore's
 * route6_write_trylock spans several updates, each of which takes the lock again. */
static __thread const struct ffs_stack *holder;
static __thread unsigned depth;

static void write_lock(struct ffs_stack *st)
{
	if (holder == st) {
		depth++;
		return;
	}
	rte_spinlock_lock(&st->routes6.write_lock);
	holder = st;
	depth = 1;
}

void route6_write_unlock(struct ffs_stack *st)
{
	if (--depth > 0)
		return;
	holder = NULL;
	rte_spinlock_unlock(&st->routes6.write_lock);
}

bool route6_write_trylock(struct ffs_stack *st)
{
	if (holder == st) {
		depth++;
		return true;
	}
	if (!rte_spinlock_trylock(&st->routes6.write_lock))
		return false;
	holder = st;
	depth = 1;
	return true;
}

static struct route6_data *write_begin(struct ffs_stack *st)
{
	write_lock(st);
	return &st->routes6.staged;
}

static void write_end(struct ffs_stack *st, bool changed)
{
	struct route6_table *t = &st->routes6;
	if (changed) {
		latch_flip(&t->seq);
		copy_out(&t->copy[0], &t->staged);
		latch_flip(&t->seq);
		copy_out(&t->copy[1], &t->staged);
	}
	route6_write_unlock(st);
}

static void entry_set(struct route6_entry *e, const struct ip6_addr *a, uint32_t meta, uint64_t expires)
{
	memcpy(e->w, a->b, 16);
	e->meta = meta;
	e->expires = expires;
}

static bool entry_is(const struct route6_entry *e, const struct ip6_addr *a, unsigned port, unsigned len)
{
	return memcmp(e->w, a->b, 16) == 0 && meta_port(e->meta) == port && meta_len(e->meta) == len;
}

static void remove_at(struct route6_entry *v, uint32_t *n, uint32_t at)
{
	memmove(&v[at], &v[at + 1], (*n - at - 1) * sizeof(v[0]));
	--*n;
}

static uint64_t deadline(const struct ffs_stack *st, uint32_t s)
{
	return s == UINT32_MAX ? 0 : rte_get_tsc_cycles() + (uint64_t)s * st->tsc_hz;
}

int route6_prefix_update(struct ffs_stack *st, unsigned port, const struct ip6_addr *prefix, unsigned len,
			 unsigned flags, uint32_t valid_s)
{
	if (port >= st->n_ports || len > 128 || ip6_is_linklocal(prefix) || ip6_is_multicast(prefix))
		return -EINVAL;
	struct ip6_addr p;
	ip6_mask(prefix, len, &p);
	struct route6_data *d = write_begin(st);
	int rc = 0;
	uint32_t at = 0;
	while (at < d->n_prefixes && !entry_is(&d->prefix[at], &p, port, len))
		at++;
	if (at < d->n_prefixes) {
		unsigned had = meta_flags(d->prefix[at].meta);
		/* A connected prefix stays forever whatever advertisements say of it. */
		if (had & FFS_ROUTE6_CONNECTED) {
			d->prefix[at].meta = meta_of(port, len, had | flags);
		} else if (flags & FFS_ROUTE6_CONNECTED) {
			entry_set(&d->prefix[at], &p, meta_of(port, len, had | flags), 0);
		} else if (valid_s == 0) {
			remove_at(d->prefix, &d->n_prefixes, at);
		} else {
			d->prefix[at].expires = deadline(st, valid_s);
		}
	} else if (!(flags & FFS_ROUTE6_CONNECTED) && valid_s == 0) {
		rc = -ESRCH;
	} else if (d->n_prefixes == FFS_MAX_PREFIXES6) {
		rc = -ENOSPC;
	} else {
		/* After every longer prefix (and those of the same length): the first match is the longest. */
		at = 0;
		while (at < d->n_prefixes && meta_len(d->prefix[at].meta) >= len)
			at++;
		memmove(&d->prefix[at + 1], &d->prefix[at], (d->n_prefixes - at) * sizeof(d->prefix[0]));
		entry_set(&d->prefix[at], &p, meta_of(port, len, flags), flags & FFS_ROUTE6_CONNECTED ? 0 : deadline(st, valid_s));
		d->n_prefixes++;
	}
	write_end(st, rc == 0);
	return rc == -ESRCH ? 0 : rc;
}

void route6_prefix_release(struct ffs_stack *st, unsigned port, const struct ip6_addr *prefix, unsigned len)
{
	struct ip6_addr p;
	ip6_mask(prefix, len, &p);
	/* Another configured address of the port on the same prefix keeps it. */
	struct ffs_addr6_info a[FFS_MAX_ADDR6];
	unsigned n = addr6_list(st, port, a, FFS_MAX_ADDR6);
	for (unsigned i = 0; i < n; i++)
		if (a[i].origin == ADDR6_STATIC && a[i].prefixlen == len && ip6_prefix_eq(&a[i].addr, &p, len))
			return;
	struct route6_data *d = write_begin(st);
	bool changed = false;
	for (uint32_t at = 0; at < d->n_prefixes; at++) {
		if (!entry_is(&d->prefix[at], &p, port, len) || !(meta_flags(d->prefix[at].meta) & FFS_ROUTE6_CONNECTED))
			continue;
		if (meta_flags(d->prefix[at].meta) & FFS_ROUTE6_ADVERTISED)
			d->prefix[at].meta = meta_of(port, len, FFS_ROUTE6_ADVERTISED);
		else
			remove_at(d->prefix, &d->n_prefixes, at);
		changed = true;
		break;
	}
	write_end(st, changed);
}

int route6_router_update(struct ffs_stack *st, unsigned port, const struct ip6_addr *router, uint32_t lifetime_s)
{
	if (port >= st->n_ports)
		return -EINVAL;
	struct route6_data *d = write_begin(st);
	int rc = 0;
	uint32_t at = 0;
	while (at < d->n_routers && !entry_is(&d->router[at], router, port, 0))
		at++;
	bool changed = true;
	if (at < d->n_routers && (meta_flags(d->router[at].meta) & FFS_ROUTE6_STATIC))
		changed = false; /* the configured gateway6 has no lifetime */
	else if (at < d->n_routers && lifetime_s == 0)
		remove_at(d->router, &d->n_routers, at);
	else if (at < d->n_routers)
		d->router[at].expires = deadline(st, lifetime_s);
	else if (lifetime_s == 0)
		changed = false;
	else if (d->n_routers == FFS_MAX_ROUTERS6)
		rc = -ENOSPC;
	else
		entry_set(&d->router[d->n_routers++], router, meta_of(port, 0, FFS_ROUTE6_GATEWAY | FFS_ROUTE6_ADVERTISED),
			  deadline(st, lifetime_s));
	write_end(st, changed && rc == 0);
	return rc;
}

void route6_expire(struct ffs_stack *st, uint64_t now)
{
	struct route6_data *d = write_begin(st);
	bool changed = false;
	for (uint32_t i = 0; i < d->n_prefixes;) {
		if (!alive(d->prefix[i].expires, now)) {
			remove_at(d->prefix, &d->n_prefixes, i);
			changed = true;
		} else {
			i++;
		}
	}
	for (uint32_t i = 0; i < d->n_routers;) {
		if (!alive(d->router[i].expires, now)) {
			remove_at(d->router, &d->n_routers, i);
			changed = true;
		} else {
			i++;
		}
	}
	write_end(st, changed);
}

void route6_init(struct ffs_stack *st)
{
	struct route6_table *t = &st->routes6;
	rte_spinlock_init(&t->write_lock);
	rte_spinlock_init(&t->pmtu_lock);
	memset(&t->staged, 0, sizeof(t->staged));
	memset(t->pmtu, 0, sizeof(t->pmtu));
	for (unsigned p = 0; p < st->n_ports; p++) {
		const struct ffs_port_conf *pc = &st->conf.ports[p];
		if (pc->ipv6_off)
			continue;
		for (unsigned k = 0; k < pc->n_addr6; k++)
			route6_prefix_update(st, p, &pc->addr6[k].addr, pc->addr6[k].prefixlen, FFS_ROUTE6_CONNECTED, UINT32_MAX);
		if (!ip6_is_unspecified(&pc->gateway6)) {
			struct route6_data *d = write_begin(st);
			if (d->n_routers < FFS_MAX_ROUTERS6)
				entry_set(&d->router[d->n_routers++], &pc->gateway6,
					  meta_of(p, 0, FFS_ROUTE6_GATEWAY | FFS_ROUTE6_STATIC), 0);
			write_end(st, true);
		}
	}
}

unsigned route6_dump(const struct ffs_stack *st, struct ffs_route6_info *out, unsigned max)
{
	const struct route6_table *t = &st->routes6;
	struct route6_entry snap[FFS_MAX_PREFIXES6 + FFS_MAX_ROUTERS6];
	uint32_t np, nr, sn;
	do {
		sn = latch_read_begin(&t->seq);
		const struct route6_data *d = &t->copy[sn & 1];
		np = latch_ld(&d->n_prefixes);
		nr = latch_ld(&d->n_routers);
		np = np > FFS_MAX_PREFIXES6 ? FFS_MAX_PREFIXES6 : np;
		nr = nr > FFS_MAX_ROUTERS6 ? FFS_MAX_ROUTERS6 : nr;
		for (uint32_t i = 0; i < np + nr; i++) {
			struct ip6_addr a;
			entry_read(i < np ? &d->prefix[i] : &d->router[i - np], &a, &snap[i].meta, &snap[i].expires);
			memcpy(snap[i].w, a.b, 16);
		}
	} while (latch_read_retry(&t->seq, sn));
	uint64_t now = rte_get_tsc_cycles();
	unsigned k = 0;
	for (uint32_t i = 0; i < np + nr && k < max; i++) {
		if (!alive(snap[i].expires, now))
			continue;
		struct ffs_route6_info *r = &out[k++];
		unsigned port = meta_port(snap[i].meta);
		*r = (struct ffs_route6_info){ .prefixlen = (uint8_t)meta_len(snap[i].meta), .flags = (uint8_t)meta_flags(snap[i].meta),
					       .port_id = port < st->n_ports ? st->ports[port].port_id : 0,
					       .expires_s = snap[i].expires ? (uint32_t)((snap[i].expires - now) / st->tsc_hz) : UINT32_MAX };
		memcpy(i < np ? r->dest.b : r->gateway.b, snap[i].w, 16);
	}
	return k;
}

/* --- path MTU */

static unsigned pmtu_slot(const struct ip6_addr *dst)
{
	uint32_t h = 2166136261u; /* FNV-1a */
	for (int i = 0; i < 16; i++)
		h = (h ^ dst->b[i]) * 16777619u;
	return h % FFS_PMTU6_ENTRIES;
}

void route6_pmtu_set(struct ffs_stack *st, const struct ip6_addr *dst, uint16_t mtu)
{
	if (mtu < IPV6_MIN_MTU)
		mtu = IPV6_MIN_MTU;
	struct route6_pmtu *e = &st->routes6.pmtu[pmtu_slot(dst)];
	uint64_t expires = rte_get_tsc_cycles() + (uint64_t)FFS_PMTU6_AGE_S * st->tsc_hz;
	rte_spinlock_lock(&st->routes6.pmtu_lock);
	for (int k = 0; k < 2; k++) {
		latch_flip(&e->seq);
		uint32_t w[4];
		memcpy(w, dst->b, 16);
		for (int j = 0; j < 4; j++)
			latch_st(&e->copy[k].w[j], w[j]);
		latch_st(&e->copy[k].mtu, mtu);
		latch_st64(&e->copy[k].expires, expires);
	}
	rte_spinlock_unlock(&st->routes6.pmtu_lock);
}

uint16_t route6_pmtu(const struct ffs_stack *st, const struct ip6_addr *dst, uint16_t link_mtu)
{
	const struct route6_pmtu *e = &st->routes6.pmtu[pmtu_slot(dst)];
	uint32_t sn, mtu;
	uint64_t expires;
	bool same;
	do {
		sn = latch_read_begin(&e->seq);
		uint32_t w[4];
		for (int j = 0; j < 4; j++)
			w[j] = latch_ld(&e->copy[sn & 1].w[j]);
		same = memcmp(w, dst->b, 16) == 0;
		mtu = latch_ld(&e->copy[sn & 1].mtu);
		expires = latch_ld64(&e->copy[sn & 1].expires);
	} while (latch_read_retry(&e->seq, sn));
	if (!same || mtu == 0 || mtu >= link_mtu || rte_get_tsc_cycles() >= expires)
		return link_mtu;
	return (uint16_t)mtu;
}
