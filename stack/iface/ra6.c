/*
 * Router discovery and stateless address autoconfiguration for a host: the router solicitations a
 * port without a configured gateway6 sends at start (RFC 4861 §6.3.7), and what a router
 * advertisement teaches (RFC 4861 §6.3.4): the default router and its lifetime, the Cur Hop Limit,
 * on-link prefixes (L flag), the link MTU, and addresses formed from autonomous prefixes (RFC 4862
 * §5.5.3, with its two-hour rule against a forged short lifetime). Also the aging of what those
 * lifetimes bound. Tables live in addr6.c and route6.c; this file only decides. An advertisement
 * arrives on a lcore, which never waits for the route table's writers: while one holds it, the
 * advertisement is kept and applied on a later turn of the same lcore (ra6_tick).
 */
#include <errno.h>
#include <string.h>
#include <rte_malloc.h>
#include <rte_random.h>

#include "stack/iface/addr6.h"
#include "stack/iface/iface.h"
#include "stack/iface/route6.h"
#include "stack/wire/icmp6.h"

/* RFC 4861 §10, host constants. */
#define MAX_RTR_SOLICITATION_DELAY_MS 1000
#define RTR_SOLICITATION_INTERVAL_S 4
#define MAX_RTR_SOLICITATIONS 3
/* RFC 4862 §5.5.3 e): a valid lifetime is never cut below two hours by an advertisement. */
#define TWO_HOURS_S 7200
/* RFC 4862 §5.5.3 d): addresses are formed from a 64-bit interface identifier (modified EUI-64). */
#define SLAAC_PREFIX_LEN 64

bool ra6_wants_solicit(const struct ffs_stack *st, unsigned port)
{
	return port < st->n_ports && !st->conf.ports[port].ipv6_off && ffs_sysctl(st, FFS_SYSCTL_IP6_ACCEPT_RTADV) &&
	       ip6_is_unspecified(&st->conf.ports[port].gateway6);
}

uint16_t route6_link_mtu(const struct ffs_stack *st, unsigned port)
{
	uint16_t mtu = st->ports[port].mtu;
	uint32_t ra = __atomic_load_n(&st->routes6.ra_mtu[port], __ATOMIC_RELAXED);
	return ra && ra < mtu ? (uint16_t)ra : mtu;
}

uint8_t route6_hop_limit(const struct ffs_stack *st, unsigned port)
{
	uint32_t ra = __atomic_load_n(&st->routes6.ra_hlim[port], __ATOMIC_RELAXED);
	return (uint8_t)(ra ? ra : ffs_sysctl(st, FFS_SYSCTL_IP6_HLIM));
}

/** RFC 4862 §5.5.3 c)–e) for one autonomous prefix. */
static void slaac(struct ffs_lcore *lc, const struct ffs_port *port, const struct nd_prefix *pi)
{
	struct ffs_stack *st = lc->st;
	if (pi->preferred_s > pi->valid_s || pi->len != SLAAC_PREFIX_LEN)
		return;
	struct ip6_addr a;
	ip6_from_prefix_eui64(&pi->prefix, &port->mac, &a);
	struct ffs_addr6_info have[FFS_MAX_ADDR6];
	unsigned n = addr6_list(st, port->index, have, FFS_MAX_ADDR6);
	for (unsigned i = 0; i < n; i++) {
		if (!ip6_eq(&have[i].addr, &a))
			continue;
		if (have[i].origin != ADDR6_AUTOCONF)
			return; /* configured by hand: its lifetimes are not the router's to change */
		uint32_t remaining = have[i].valid_s, valid = pi->valid_s;
		if (!(valid > TWO_HOURS_S || valid > remaining))
			valid = remaining <= TWO_HOURS_S ? remaining : TWO_HOURS_S;
		addr6_set_lifetimes(st, port->index, &a, valid, pi->preferred_s < valid ? pi->preferred_s : valid);
		return;
	}
	if (pi->valid_s == 0)
		return;
	int rc = addr6_add(st, port->index, &a, SLAAC_PREFIX_LEN, ADDR6_AUTOCONF, pi->valid_s, pi->preferred_s);
	if (rc == 0)
		lc->ctr.nd6_autoconf++;
	else if (rc == -ENOSPC)
		lc->ctr.nd6_ra_full++;
}

/** Advertisements a lcore holds while the route table is busy: the latest from each router. */
#define RA6_DEFERRED 4

struct ra6_deferred {
	unsigned n;
	struct {
		uint16_t port_index;
		struct ipv6_repr ip;
		struct nd_repr nd;
	} ra[RA6_DEFERRED];
};

/** Keeps an advertisement for the lcore's next turn (replacing an older one from its router). */
static void defer(struct ffs_lcore *lc, const struct ffs_port *port, const struct ipv6_repr *ip, const struct nd_repr *nd)
{
	if (!lc->ra_deferred && !(lc->ra_deferred = rte_zmalloc("ffs_ra6_deferred", sizeof(struct ra6_deferred), 0))) {
		lc->ctr.nd6_ra_busy++;
		return;
	}
	struct ra6_deferred *d = lc->ra_deferred;
	unsigned k = 0;
	while (k < d->n && !(d->ra[k].port_index == port->index && ip6_eq(&d->ra[k].ip.src, &ip->src)))
		k++;
	if (k == RA6_DEFERRED) {
		lc->ctr.nd6_ra_busy++;
		return;
	}
	if (k == d->n)
		d->n++;
	d->ra[k].port_index = port->index;
	d->ra[k].ip = *ip;
	d->ra[k].nd = *nd;
	lc->ctr.nd6_ra_deferred++;
}

/** Applies an advertisement, or false (nothing done) while a writer holds the route table. */
static bool apply(struct ffs_lcore *lc, const struct ffs_port *port, const struct ipv6_repr *ip, const struct nd_repr *nd)
{
	struct ffs_stack *st = lc->st;
	/* A lcore never waits for a control-plane writer (route6.h): the advertisement waits instead. */
	if (!route6_write_trylock(st))
		return false;
	lc->ctr.nd6_ra_in++;
	if (nd->cur_hop_limit)
		__atomic_store_n(&st->routes6.ra_hlim[port->index], nd->cur_hop_limit, __ATOMIC_RELAXED);
	/* RFC 4861 §6.3.4: an MTU below the IPv6 minimum or above the link's own is not taken. */
	if (nd->mtu >= IPV6_MIN_MTU && nd->mtu <= port->mtu)
		__atomic_store_n(&st->routes6.ra_mtu[port->index], nd->mtu, __ATOMIC_RELAXED);
	/* Router Lifetime 0: not (or no longer) a default router. */
	if (route6_router_update(st, port->index, &ip->src, nd->router_lifetime) == -ENOSPC)
		lc->ctr.nd6_ra_full++;
	for (unsigned i = 0; i < nd->n_prefixes && i < ND_MAX_PREFIXES; i++) {
		const struct nd_prefix *pi = &nd->prefixes[i];
		/* RFC 4861 §6.3.4 and RFC 4862 §5.5.3 b): the link-local prefix is ignored. */
		if (ip6_is_linklocal(&pi->prefix) || ip6_is_multicast(&pi->prefix))
			continue;
		if (pi->onlink && route6_prefix_update(st, port->index, &pi->prefix, pi->len, FFS_ROUTE6_ADVERTISED, pi->valid_s) == -ENOSPC)
			lc->ctr.nd6_ra_full++;
	}
	route6_write_unlock(st);
	for (unsigned i = 0; i < nd->n_prefixes && i < ND_MAX_PREFIXES; i++) {
		const struct nd_prefix *pi = &nd->prefixes[i];
		if (pi->autonomous && !ip6_is_linklocal(&pi->prefix) && !ip6_is_multicast(&pi->prefix))
			slaac(lc, port, pi);
	}
	return true;
}

void ra6_input(struct ffs_lcore *lc, const struct ffs_port *port, const struct ipv6_repr *ip, const struct nd_repr *nd)
{
	struct ffs_stack *st = lc->st;
	if (!ffs_sysctl(st, FFS_SYSCTL_IP6_ACCEPT_RTADV) || st->conf.ports[port->index].ipv6_off) {
		lc->ctr.nd6_ra_ignored++;
		return;
	}
	if (!apply(lc, port, ip, nd))
		defer(lc, port, ip, nd);
}

/** Applies what this lcore put off, in the order received, while the route table is free. */
static void apply_deferred(struct ffs_lcore *lc)
{
	struct ra6_deferred *d = lc->ra_deferred;
	unsigned done = 0;
	while (done < d->n && apply(lc, &lc->st->ports[d->ra[done].port_index], &d->ra[done].ip, &d->ra[done].nd))
		done++;
	memmove(&d->ra[0], &d->ra[done], (d->n - done) * sizeof(d->ra[0]));
	d->n -= done;
}

/** One router solicitation to ff02::2 from the port's link-local address, or from :: (then without
 *  a Source Link-Layer Address option, RFC 4861 §4.1) while it is still tentative. */
static void rs_send(struct ffs_lcore *lc, const struct ffs_port *port)
{
	struct ip6_addr src;
	bool ll = addr6_linklocal(lc->st, port->index, &src);
	if (!ll)
		src = IP6_ANY;
	struct rte_mbuf *m = rte_pktmbuf_alloc(lc->st->pool);
	if (!m)
		return;
	const size_t room = 16; /* an RS with its 8-byte option */
	uint8_t *b = (uint8_t *)rte_pktmbuf_append(m, ETH_HDR_LEN + IPV6_HDR_LEN + room);
	size_t n = b ? nd_rs_emit(ll ? &port->mac : NULL, &src, &IP6_ALL_ROUTERS, b + ETH_HDR_LEN + IPV6_HDR_LEN, room) : 0;
	if (n == 0) {
		rte_pktmbuf_free(m);
		return;
	}
	rte_pktmbuf_trim(m, (uint16_t)(room - n));
	struct ipv6_repr ip = { .src = src, .dst = IP6_ALL_ROUTERS, .next_header = IPV6_NH_ICMPV6, .hop_limit = 255,
				.payload_len = (uint16_t)n };
	ipv6_repr_emit(&ip, b + ETH_HDR_LEN, IPV6_HDR_LEN);
	struct eth_repr eth = { .src = port->mac, .ethertype = ETH_TYPE_IPV6 };
	eth_addr_from_ipv6_multicast(&IP6_ALL_ROUTERS, &eth.dst);
	eth_repr_emit(&eth, b, ETH_HDR_LEN);
	ffs_tx_enqueue(lc, port->index, m);
	lc->ctr.nd6_rs_out++;
}

void ra6_tick(struct ffs_lcore *lc)
{
	struct ffs_stack *st = lc->st;
	struct route6_table *t = &st->routes6;
	if (lc->ra_deferred && lc->ra_deferred->n)
		apply_deferred(lc);
	if (lc->index != 0)
		return;
	for (unsigned p = 0; p < st->n_ports; p++) {
		if (!ra6_wants_solicit(st, p) || t->rs_sent[p] >= MAX_RTR_SOLICITATIONS || !st->ports[p].up)
			continue;
		if (t->rs_next[p] == 0) {
			t->rs_next[p] = lc->now + rte_rand() % (st->tsc_hz * MAX_RTR_SOLICITATION_DELAY_MS / 1000);
			continue;
		}
		/* RFC 4861 §6.3.7: solicitations stop once an advertisement named a default router. */
		if (lc->now < t->rs_next[p] || route6_has_router(st, p))
			continue;
		rs_send(lc, &st->ports[p]);
		t->rs_sent[p]++;
		t->rs_next[p] = lc->now + st->tsc_hz * RTR_SOLICITATION_INTERVAL_S;
	}
	/* While a writer holds the route table, the aging waits for a later turn. */
	if (lc->now >= t->next_prune && route6_write_trylock(st)) {
		route6_expire(st, lc->now);
		route6_write_unlock(st);
		addr6_expire(st, lc->now);
		t->next_prune = lc->now + st->tsc_hz * (uint64_t)ffs_sysctl(st, FFS_SYSCTL_ND6_PRUNE);
	}
}
