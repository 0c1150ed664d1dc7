/*
 * The ports' IPv6 addresses (storage and concurrency in addr6.h): the link-local address each port
 * derives from its MAC at start, configured addresses, addresses formed from router advertisements;
 * their states and lifetimes; and the questions the data path asks of them — is this address ours,
 * which source address reaches that destination (RFC 6724). Lookups from any thread, never locked.
 */
#include <errno.h>
#include <string.h>
#include <rte_cycles.h>

#include "stack/iface/addr6.h"
#include "stack/iface/iface.h"
#include "stack/iface/latch.h"
#include "stack/iface/route6.h"
#include "stack/lcore/lcore.h"

static inline uint32_t meta_of(unsigned len, enum addr6_state state, enum addr6_origin origin)
{
	return (uint32_t)len | (uint32_t)state << 8 | (uint32_t)origin << 16;
}
static inline unsigned meta_len(uint32_t m) { return m & 0xff; }
static inline enum addr6_state meta_state(uint32_t m) { return (enum addr6_state)((m >> 8) & 0xff); }
static inline enum addr6_origin meta_origin(uint32_t m) { return (enum addr6_origin)(m >> 16); }

/** One slot as a reader sees it, with its state at `now` (lifetimes applied). */
struct snap {
	struct ip6_addr a;
	unsigned len;
	enum addr6_state state;
	enum addr6_origin origin;
	uint64_t valid_until, preferred_until;
};

/** Reads slot (port, i) as one consistent copy; false when it is empty or expired. */
static bool slot_read(const struct ffs_stack *st, unsigned port, unsigned i, uint64_t now, struct snap *out)
{
	const struct addr6_slot *s = &st->addr6.slot[port][i];
	uint32_t sn, meta;
	do {
		sn = latch_read_begin(&s->seq);
		const struct addr6_copy *c = &s->copy[sn & 1];
		meta = latch_ld(&c->meta);
		/* Most slots are free: no address to copy (the retry check still confirms the meta read). */
		if (meta_state(meta) == ADDR6_FREE)
			continue;
		for (int k = 0; k < 4; k++) {
			uint32_t w = latch_ld(&c->w[k]);
			memcpy(&out->a.b[4 * k], &w, 4);
		}
		out->valid_until = latch_ld64(&c->valid_until);
		out->preferred_until = latch_ld64(&c->preferred_until);
	} while (latch_read_retry(&s->seq, sn));
	out->len = meta_len(meta);
	out->state = meta_state(meta);
	out->origin = meta_origin(meta);
	if (out->state == ADDR6_FREE || (out->valid_until && now >= out->valid_until))
		return false;
	/* RFC 4862 §5.5.4: past its preferred lifetime an address is deprecated. */
	if (out->state == ADDR6_PREFERRED && out->preferred_until && now >= out->preferred_until)
		out->state = ADDR6_DEPRECATED;
	return true;
}

/** Publishes staged slot (port, i) to its readers (write_lock held). */
static void slot_publish(struct ffs_stack *st, unsigned port, unsigned i)
{
	struct addr6_slot *s = &st->addr6.slot[port][i];
	const struct addr6_copy *from = &st->addr6.staged[port][i];
	for (int k = 0; k < 2; k++) {
		latch_flip(&s->seq);
		struct addr6_copy *to = &s->copy[k];
		for (int j = 0; j < 4; j++)
			latch_st(&to->w[j], from->w[j]);
		latch_st(&to->meta, from->meta);
		latch_st64(&to->valid_until, from->valid_until);
		latch_st64(&to->preferred_until, from->preferred_until);
	}
	__atomic_fetch_add(&st->addr6.gen, 1, __ATOMIC_RELEASE);
}

static bool staged_is(const struct addr6_copy *c, const struct ip6_addr *a)
{
	return meta_state(c->meta) != ADDR6_FREE && memcmp(c->w, a->b, 16) == 0;
}

static int staged_find(const struct ffs_stack *st, unsigned port, const struct ip6_addr *a)
{
	for (unsigned i = 0; i < FFS_MAX_ADDR6; i++)
		if (staged_is(&st->addr6.staged[port][i], a))
			return (int)i;
	return -1;
}

/** A lifetime in seconds as a TSC deadline from now (0: forever). */
static uint64_t deadline(const struct ffs_stack *st, uint64_t now, uint32_t s)
{
	return s == ADDR6_INFINITE ? 0 : now + (uint64_t)s * st->tsc_hz;
}

static bool port_has_ipv6(const struct ffs_stack *st, unsigned port)
{
	return port < st->n_ports && !st->conf.ports[port].ipv6_off;
}

const char *addr6_state_name(enum addr6_state state)
{
	static const char *const name[] = { "free", "tentative", "preferred", "deprecated", "duplicated" };
	return (unsigned)state < sizeof(name) / sizeof(name[0]) ? name[state] : "free";
}

unsigned addr6_scope(const struct ip6_addr *a)
{
	if (ip6_is_multicast(a))
		return ip6_mcast_scope(a);
	if (ip6_is_loopback(a))
		return 1;
	return ip6_is_linklocal(a) ? 2 : 14;
}

/** addr6_add, with Duplicate Address Detection when `dad` (else a new address is preferred at once). */
static int add(struct ffs_stack *st, unsigned port, const struct ip6_addr *a, unsigned prefixlen, enum addr6_origin origin,
	       uint32_t valid_s, uint32_t preferred_s, bool dad)
{
	if (!port_has_ipv6(st, port))
		return -ENOENT;
	if (prefixlen < 1 || prefixlen > 128 || ip6_is_unspecified(a) || ip6_is_loopback(a) || ip6_is_multicast(a))
		return -EINVAL;
	uint64_t now = rte_get_tsc_cycles();
	rte_spinlock_lock(&st->addr6.write_lock);
	int i = staged_find(st, port, a);
	bool fresh = i < 0;
	for (unsigned k = 0; fresh && k < FFS_MAX_ADDR6 && i < 0; k++)
		if (meta_state(st->addr6.staged[port][k].meta) == ADDR6_FREE)
			i = (int)k;
	if (i < 0) {
		rte_spinlock_unlock(&st->addr6.write_lock);
		return -ENOSPC;
	}
	struct addr6_copy *c = &st->addr6.staged[port][i];
	enum addr6_state state = fresh ? (dad ? ADDR6_TENTATIVE : ADDR6_PREFERRED) : meta_state(c->meta);
	memcpy(c->w, a->b, 16);
	c->meta = meta_of(prefixlen, state, fresh ? origin : meta_origin(c->meta));
	c->valid_until = deadline(st, now, valid_s);
	c->preferred_until = deadline(st, now, preferred_s);
	slot_publish(st, port, (unsigned)i);
	rte_spinlock_unlock(&st->addr6.write_lock);
	if (fresh && dad)
		nd6_dad_start(st, port, a);
	return 0;
}

int addr6_add(struct ffs_stack *st, unsigned port, const struct ip6_addr *a, unsigned prefixlen, enum addr6_origin origin,
	      uint32_t valid_s, uint32_t preferred_s)
{
	/* RFC 4862 §5.4: no DAD when DupAddrDetectTransmits is zero; else tentative until it passes. */
	return add(st, port, a, prefixlen, origin, valid_s, preferred_s, ffs_sysctl(st, FFS_SYSCTL_IP6_DAD_COUNT) > 0);
}

int addr6_del(struct ffs_stack *st, unsigned port, const struct ip6_addr *a)
{
	if (port >= st->n_ports)
		return -ENOENT;
	rte_spinlock_lock(&st->addr6.write_lock);
	int i = staged_find(st, port, a);
	if (i >= 0) {
		st->addr6.staged[port][i] = (struct addr6_copy){ 0 };
		slot_publish(st, port, (unsigned)i);
	}
	rte_spinlock_unlock(&st->addr6.write_lock);
	return i < 0 ? -ESRCH : 0;
}

void addr6_set_state(struct ffs_stack *st, unsigned port, const struct ip6_addr *a, enum addr6_state state)
{
	if (port >= st->n_ports || state == ADDR6_FREE)
		return;
	rte_spinlock_lock(&st->addr6.write_lock);
	int i = staged_find(st, port, a);
	if (i >= 0) {
		struct addr6_copy *c = &st->addr6.staged[port][i];
		c->meta = meta_of(meta_len(c->meta), state, meta_origin(c->meta));
		slot_publish(st, port, (unsigned)i);
	}
	rte_spinlock_unlock(&st->addr6.write_lock);
}

void addr6_set_lifetimes(struct ffs_stack *st, unsigned port, const struct ip6_addr *a, uint32_t valid_s,
			 uint32_t preferred_s)
{
	if (port >= st->n_ports)
		return;
	uint64_t now = rte_get_tsc_cycles();
	rte_spinlock_lock(&st->addr6.write_lock);
	int i = staged_find(st, port, a);
	if (i >= 0) {
		struct addr6_copy *c = &st->addr6.staged[port][i];
		c->valid_until = deadline(st, now, valid_s);
		c->preferred_until = deadline(st, now, preferred_s);
		/* A deprecated address whose preferred lifetime is renewed is preferred again (RFC 4862 §5.5.4). */
		if (meta_state(c->meta) == ADDR6_DEPRECATED && preferred_s > 0)
			c->meta = meta_of(meta_len(c->meta), ADDR6_PREFERRED, meta_origin(c->meta));
		slot_publish(st, port, (unsigned)i);
	}
	rte_spinlock_unlock(&st->addr6.write_lock);
}

void addr6_expire(struct ffs_stack *st, uint64_t now)
{
	rte_spinlock_lock(&st->addr6.write_lock);
	for (unsigned p = 0; p < st->n_ports; p++) {
		for (unsigned i = 0; i < FFS_MAX_ADDR6; i++) {
			struct addr6_copy *c = &st->addr6.staged[p][i];
			if (meta_state(c->meta) == ADDR6_FREE)
				continue;
			if (c->valid_until && now >= c->valid_until) {
				*c = (struct addr6_copy){ 0 };
				slot_publish(st, p, i);
			} else if (meta_state(c->meta) == ADDR6_PREFERRED && c->preferred_until && now >= c->preferred_until) {
				c->meta = meta_of(meta_len(c->meta), ADDR6_DEPRECATED, meta_origin(c->meta));
				slot_publish(st, p, i);
			}
		}
	}
	rte_spinlock_unlock(&st->addr6.write_lock);
}

void addr6_init(struct ffs_stack *st)
{
	rte_spinlock_init(&st->addr6.write_lock);
	memset(st->addr6.staged, 0, sizeof(st->addr6.staged));
	for (unsigned p = 0; p < st->n_ports; p++) {
		const struct ffs_port_conf *pc = &st->conf.ports[p];
		if (pc->ipv6_off)
			continue;
		struct ip6_addr ll;
		ip6_linklocal_eui64(&st->ports[p].mac, &ll);
		/* A secondary process joins a running primary, whose start detected duplicates of these. */
		bool dad = ffs_sysctl(st, FFS_SYSCTL_IP6_DAD_COUNT) > 0 && !st->secondary;
		add(st, p, &ll, 64, ADDR6_LINKLOCAL, ADDR6_INFINITE, ADDR6_INFINITE, dad);
		for (unsigned k = 0; k < pc->n_addr6; k++)
			add(st, p, &pc->addr6[k].addr, pc->addr6[k].prefixlen, ADDR6_STATIC, ADDR6_INFINITE, ADDR6_INFINITE, dad);
	}
}

bool addr6_is_local(const struct ffs_stack *st, int port, const struct ip6_addr *a, enum addr6_state *state)
{
	if (ip6_is_loopback(a)) {
		if (state)
			*state = ADDR6_PREFERRED;
		return true;
	}
	uint64_t now = rte_get_tsc_cycles();
	for (unsigned p = port < 0 ? 0 : (unsigned)port; p < st->n_ports && (port < 0 || p == (unsigned)port); p++) {
		for (unsigned i = 0; i < FFS_MAX_ADDR6; i++) {
			struct snap s;
			if (slot_read(st, p, i, now, &s) && ip6_eq(&s.a, a)) {
				if (state)
					*state = s.state;
				return true;
			}
		}
	}
	return false;
}

/** RFC 6724 §2.1's default policy table, as labels (the rules a host's source choice uses). */
static unsigned label_of(const struct ip6_addr *a)
{
	static const struct {
		uint8_t prefix[16];
		unsigned len, label;
	} policy[] = {
		{ { [15] = 1 }, 128, 0 },                        /* ::1/128 */
		{ { [10] = 0xff, [11] = 0xff }, 96, 4 },         /* ::ffff:0:0/96 */
		{ { 0x20, 0x02 }, 16, 2 },                       /* 2002::/16 */
		{ { 0x20, 0x01 }, 32, 5 },                       /* 2001::/32 */
		{ { 0xfc }, 7, 13 },                             /* fc00::/7 */
		{ { 0 }, 96, 3 },                                /* ::/96 */
		{ { 0xfe, 0xc0 }, 10, 11 },                      /* fec0::/10 */
		{ { 0x3f, 0xfe }, 16, 12 },                      /* 3ffe::/16 */
	};
	for (size_t i = 0; i < sizeof(policy) / sizeof(policy[0]); i++) {
		struct ip6_addr p;
		memcpy(p.b, policy[i].prefix, 16);
		if (ip6_prefix_eq(a, &p, policy[i].len))
			return policy[i].label;
	}
	return 1; /* ::/0 */
}

/** RFC 6724 §5: true when candidate `b` is a better source for dst than `a`. */
static bool better_source(const struct snap *a, const struct snap *b, const struct ip6_addr *dst)
{
	/* Rule 1: the destination itself. */
	if (ip6_eq(&a->a, dst) != ip6_eq(&b->a, dst))
		return ip6_eq(&b->a, dst);
	/* Rule 2: appropriate scope — the smallest scope at least the destination's, else the largest. */
	unsigned sa = addr6_scope(&a->a), sb = addr6_scope(&b->a), sd = addr6_scope(dst);
	if (sa != sb)
		return sa < sb ? sa < sd : sb >= sd;
	/* Rule 3: avoid deprecated addresses. */
	if ((a->state == ADDR6_DEPRECATED) != (b->state == ADDR6_DEPRECATED))
		return a->state == ADDR6_DEPRECATED;
	/* Rule 6: prefer a matching label. */
	unsigned ld = label_of(dst);
	if ((label_of(&a->a) == ld) != (label_of(&b->a) == ld))
		return label_of(&b->a) == ld;
	/* Rule 8: longest matching prefix, up to the source's own prefix length. */
	unsigned ca = ip6_common_prefix_len(&a->a, dst), cb = ip6_common_prefix_len(&b->a, dst);
	if (ca > a->len)
		ca = a->len;
	if (cb > b->len)
		cb = b->len;
	return cb > ca;
}

bool addr6_source(const struct ffs_stack *st, unsigned port, const struct ip6_addr *dst, struct ip6_addr *out)
{
	if (ip6_is_loopback(dst)) {
		*out = IP6_LOOPBACK;
		return true;
	}
	if (port >= st->n_ports)
		return false;
	uint64_t now = rte_get_tsc_cycles();
	struct snap best, s;
	bool found = false;
	for (unsigned i = 0; i < FFS_MAX_ADDR6; i++) {
		/* RFC 4862 §5.4: a tentative (or duplicated) address is not used as a source. */
		if (!slot_read(st, port, i, now, &s) || (s.state != ADDR6_PREFERRED && s.state != ADDR6_DEPRECATED))
			continue;
		if (!found || better_source(&best, &s, dst))
			best = s;
		found = true;
	}
	if (found)
		*out = best.a;
	return found;
}

bool addr6_linklocal(const struct ffs_stack *st, unsigned port, struct ip6_addr *out)
{
	uint64_t now = rte_get_tsc_cycles();
	for (unsigned i = 0; port < st->n_ports && i < FFS_MAX_ADDR6; i++) {
		struct snap s;
		if (slot_read(st, port, i, now, &s) && ip6_is_linklocal(&s.a) &&
		    (s.state == ADDR6_PREFERRED || s.state == ADDR6_DEPRECATED)) {
			*out = s.a;
			return true;
		}
	}
	return false;
}

/** Seconds from now to a TSC deadline (0: forever → ADDR6_INFINITE). */
static uint32_t seconds_left(const struct ffs_stack *st, uint64_t now, uint64_t until)
{
	if (!until)
		return ADDR6_INFINITE;
	uint64_t s = until > now ? (until - now) / st->tsc_hz : 0;
	return s >= ADDR6_INFINITE ? ADDR6_INFINITE - 1 : (uint32_t)s;
}

unsigned addr6_list(const struct ffs_stack *st, unsigned port, struct ffs_addr6_info *out, unsigned max)
{
	uint64_t now = rte_get_tsc_cycles();
	unsigned n = 0;
	for (unsigned i = 0; port < st->n_ports && i < FFS_MAX_ADDR6 && n < max; i++) {
		struct snap s;
		if (!slot_read(st, port, i, now, &s))
			continue;
		out[n++] = (struct ffs_addr6_info){ .addr = s.a, .prefixlen = (uint8_t)s.len, .state = s.state, .origin = s.origin,
						    .valid_s = seconds_left(st, now, s.valid_until),
						    .preferred_s = seconds_left(st, now, s.preferred_until) };
	}
	return n;
}

static int index_of(const struct ffs_stack *st, uint16_t port_id)
{
	for (unsigned i = 0; i < st->n_ports; i++)
		if (st->ports[i].port_id == port_id)
			return (int)i;
	return -1;
}

int ffs_stack_addr6_add(struct ffs_stack *st, uint16_t port_id, const struct ip6_addr *a, unsigned prefixlen)
{
	int idx = index_of(st, port_id);
	if (idx < 0 || st->conf.ports[idx].ipv6_off)
		return -ENOENT;
	struct ip6_addr net;
	ip6_mask(a, prefixlen, &net);
	/* What [portN] addr6[] refuses (posix/ff_config.c); RFC 4291 §2.6.1 reserves the subnet-router anycast address. */
	if (prefixlen < 1 || prefixlen > 128 || ip6_is_unspecified(a) || ip6_is_loopback(a) || ip6_is_multicast(a) ||
	    ip6_is_v4mapped(a) || ip6_is_linklocal(a) || (prefixlen < 127 && ip6_eq(&net, a)))
		return -EINVAL;
	if (addr6_is_local(st, -1, a, NULL))
		return -EEXIST;
	int rc = addr6_add(st, (unsigned)idx, a, prefixlen, ADDR6_STATIC, ADDR6_INFINITE, ADDR6_INFINITE);
	if (rc == 0 && (rc = route6_prefix_update(st, (unsigned)idx, a, prefixlen, FFS_ROUTE6_CONNECTED, UINT32_MAX)) != 0)
		addr6_del(st, (unsigned)idx, a);
	return rc;
}

int ffs_stack_addr6_del(struct ffs_stack *st, uint16_t port_id, const struct ip6_addr *a)
{
	int idx = index_of(st, port_id);
	if (idx < 0)
		return -ENOENT;
	struct ffs_addr6_info have[FFS_MAX_ADDR6];
	unsigned n = addr6_list(st, (unsigned)idx, have, FFS_MAX_ADDR6);
	for (unsigned i = 0; i < n; i++) {
		if (!ip6_eq(&have[i].addr, a))
			continue;
		if (have[i].origin == ADDR6_LINKLOCAL)
			return -EPERM;
		int rc = addr6_del(st, (unsigned)idx, a);
		if (rc == 0 && have[i].origin == ADDR6_STATIC)
			route6_prefix_release(st, (unsigned)idx, a, have[i].prefixlen);
		return rc;
	}
	return -ESRCH;
}
