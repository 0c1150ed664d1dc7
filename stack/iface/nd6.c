/*
 * Neighbor Discovery for a host (RFC 4861 §7): Neighbor Solicitation and Advertisement over the
 * per-lcore IPv6 neighbour cache, Duplicate Address Detection (RFC 4862 §5.4) and unsolicited
 * advertisements.
 *
 * The cache is ARP's (iface/neigh.h): the same table, hold queue, retries, eviction, aging and static
 * entries, driven through ND_NEIGH. Its states are ARP's — incomplete, reachable, failed, permanent
 * — rather than RFC 4861's five: an entry an advertisement confirmed is used until
 * net.inet6.icmp6.nd6_max_age, then resolved again (its packets held, not lost), which is what
 * REACHABLE → STALE → DELAY → PROBE achieves for a host sending to a live neighbour, without
 * per-packet timestamps. Learning follows §7.2.3/§7.2.5: a solicitation for us with a source
 * link-layer address creates or refreshes the sender's entry; an advertisement updates only an
 * entry that exists or, solicited, one some lcore of the stack asked for (neigh_asked_by_stack, as
 * ARP's replies; one nobody asked for is counted and ignored), and one without the
 * Override flag does not replace a known MAC. Every lcore of every process learns from every NS/NA
 * (clones, as ARP's: eth_clone_to_peers; a worker taking a queue gets nd6_replay's); only the
 * receiving lcore answers and counts.
 *
 * DAD: each tentative address gets net.inet6.ip6.dad_count solicitations from :: to its
 * solicited-node group, net.inet6.icmp6.nd6_retrans_ms apart, sent by lcore 0's timer; an
 * advertisement for it, or another node's DAD solicitation for it, makes it duplicated (§5.4.3,
 * §5.4.4); silence makes it preferred, announced by an unsolicited advertisement (RFC 4861 §7.2.6).
 */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <rte_cycles.h>
#include <rte_log.h>
#include <rte_ring.h>
#include <rte_spinlock.h>

#include "stack/iface/addr6.h"
#include "stack/iface/iface.h"
#include "stack/wire/icmp6.h"

/** Room for the largest message ND sends: a NS or NA with one link-layer address option. */
#define ND_MSG_MAX (ND_NS_LEN + ND_OPT_LLA_LEN)

static void nd6_neigh_solicit(struct ffs_lcore *lc, const struct ffs_port *port, const struct neigh_table *t,
			      const struct neigh_entry *e)
{
	nd6_solicit(lc, port, neigh_addr6(t, e), false);
}

/** ND's side of the shared neighbour state machine (neigh.h). */
static const struct neigh_proto ND_NEIGH = {
	.table = offsetof(struct ffs_lcore, neigh6),
	.max_entries = FFS_SYSCTL_ARP_MAX_ENTRIES,
	.maxtries = FFS_SYSCTL_ND6_MMAXTRIES,
	.maxhold_bytes = FFS_SYSCTL_ND6_MAXQUEUELEN_BYTES,
	.maxhold = FFS_SYSCTL_ND6_MAXQUEUELEN,
	.rexmit_ms = FFS_SYSCTL_ND6_RETRANS_MS,
	.max_age = FFS_SYSCTL_ND6_MAX_AGE,
	.asked = offsetof(struct ffs_lcore, nd_asked),
	.ctr_table_full = offsetof(struct ffs_counters, nd6_table_full),
	.ctr_evicted = offsetof(struct ffs_counters, nd6_evicted),
	.ctr_hold_dropped = offsetof(struct ffs_counters, nd6_hold_dropped),
	.ctr_hold_memdrop = offsetof(struct ffs_counters, nd6_hold_memdrop),
	.ctr_timeouts = offsetof(struct ffs_counters, nd6_timeouts),
	.solicit = nd6_neigh_solicit,
};

/** One tentative address's detection. */
struct nd6_dad {
	struct ip6_addr addr;
	uint16_t port;
	uint8_t sent;
	bool active, duplicate;
	uint64_t next; /**< TSC of the next probe, or of the verdict after the last */
};

struct nd6_dad_table {
	rte_spinlock_t lock;
	struct nd6_dad jobs[FFS_MAX_PORTS * FFS_MAX_ADDR6];
};

/**
 * Sends an ND message already in `m` (data at the ICMPv6 message, checksum computed for src → dst)
 * with hop limit 255 (RFC 4861 §7.1: receivers refuse anything else): multicast to the group's
 * MAC, unicast to `dst_mac` when known (an answer to a solicitation that carried it), else through
 * the neighbour cache.
 */
static void nd6_send(struct ffs_lcore *lc, const struct ffs_port *port, struct rte_mbuf *m, const struct ip6_addr *src,
		     const struct ip6_addr *dst, const struct eth_addr *dst_mac)
{
	uint16_t len = (uint16_t)rte_pktmbuf_pkt_len(m);
	uint8_t *hdr = (uint8_t *)rte_pktmbuf_prepend(m, IPV6_HDR_LEN);
	if (!hdr) {
		rte_pktmbuf_free(m);
		return;
	}
	struct ipv6_repr ip = { .src = *src, .dst = *dst, .next_header = IPV6_NH_ICMPV6, .hop_limit = ND_HOP_LIMIT,
				.payload_len = len };
	ipv6_repr_emit(&ip, hdr, IPV6_HDR_LEN);
	lc->ctr.ip6_tx++;
	if (ip6_is_multicast(dst)) {
		struct eth_addr mac;
		eth_addr_from_ipv6_multicast(dst, &mac);
		eth_output6(lc, port, m, dst, &mac);
	} else {
		eth_output6(lc, port, m, dst, dst_mac);
	}
}

/** A fresh mbuf with room for an ND message and the headers output prepends; NULL when the pool is empty. */
static struct rte_mbuf *nd6_alloc(struct ffs_lcore *lc, uint8_t **p)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(lc->st->pool);
	if (!m)
		return NULL;
	*p = (uint8_t *)rte_pktmbuf_append(m, ND_MSG_MAX);
	return m;
}

void nd6_solicit(struct ffs_lcore *lc, const struct ffs_port *port, const struct ip6_addr *target, bool dad)
{
	struct ip6_addr src = IP6_ANY, dst;
	/* RFC 4861 §7.2.2: from an address of ours on the link (the one the held packet came from is not
	 * known here: the best source for the target); RFC 4862 §5.4.2: DAD's from ::, without SLLA. */
	if (!dad && !addr6_source(lc->st, port->index, target, &src) && !addr6_linklocal(lc->st, port->index, &src))
		return;
	ip6_solicited_node(target, &dst);
	if (!dad)
		neigh_asked_note(lc, &ND_NEIGH, (struct neigh_key){ .a6 = target });
	uint8_t *p;
	struct rte_mbuf *m = nd6_alloc(lc, &p);
	if (!m)
		return;
	size_t n = nd_ns_emit(target, dad ? NULL : &port->mac, &src, &dst, p, ND_MSG_MAX);
	if (n == 0) {
		rte_pktmbuf_free(m);
		return;
	}
	rte_pktmbuf_trim(m, (uint16_t)(ND_MSG_MAX - n));
	lc->ctr.nd6_ns_out++;
	nd6_send(lc, port, m, &src, &dst, NULL);
}

/**
 * Sends an advertisement for our `target` to `dst` (unicast: a solicitor, at `dst_mac` when its
 * solicitation carried it — as ARP answers, not through the cache, so answering never makes a
 * learned entry one we use; ff02::1: unsolicited).
 */
static void nd6_advertise(struct ffs_lcore *lc, const struct ffs_port *port, const struct ip6_addr *target,
			  const struct ip6_addr *dst, const struct eth_addr *dst_mac, bool solicited)
{
	uint8_t *p;
	struct rte_mbuf *m = nd6_alloc(lc, &p);
	if (!m)
		return;
	/* RFC 4861 §7.2.4: from the target itself; Override set, as for any non-anycast address. */
	size_t n = nd_na_emit(target, &port->mac, false, solicited, true, target, dst, p, ND_MSG_MAX);
	if (n == 0) {
		rte_pktmbuf_free(m);
		return;
	}
	rte_pktmbuf_trim(m, (uint16_t)(ND_MSG_MAX - n));
	lc->ctr.nd6_na_out++;
	nd6_send(lc, port, m, target, dst, dst_mac);
}

void nd6_announce(struct ffs_lcore *lc, const struct ffs_port *port)
{
	struct ffs_addr6_info a[FFS_MAX_ADDR6];
	unsigned n = addr6_list(lc->st, port->index, a, FFS_MAX_ADDR6);
	for (unsigned i = 0; i < n; i++)
		if (a[i].state == ADDR6_PREFERRED || a[i].state == ADDR6_DEPRECATED)
			nd6_advertise(lc, port, &a[i].addr, &IP6_ALL_NODES, NULL, false);
}

/** Another node claims `a`, tentative on `port`: DAD fails (RFC 4862 §5.4.5). */
static void dad_duplicate(struct ffs_stack *st, unsigned port, const struct ip6_addr *a)
{
	struct nd6_dad_table *t = st->dad;
	if (t) {
		rte_spinlock_lock(&t->lock);
		for (unsigned i = 0; i < RTE_DIM(t->jobs); i++)
			if (t->jobs[i].active && t->jobs[i].port == port && ip6_eq(&t->jobs[i].addr, a))
				t->jobs[i].duplicate = true;
		rte_spinlock_unlock(&t->lock);
	}
	addr6_set_state(st, port, a, ADDR6_DUPLICATED);
	char s[IP6_ADDRSTRLEN];
	RTE_LOG(WARNING, USER1, "ffnet: port %u: IPv6 address %s is a duplicate (Duplicate Address Detection)\n",
		st->ports[port].port_id, ip6_format(a, s));
}

static void learn(struct ffs_lcore *lc, const struct ffs_port *port, const struct ip6_addr *a, const struct eth_addr *mac,
		  bool create, bool count)
{
	struct neigh_entry *e = neigh6_lookup(&lc->neigh6, port->index, a);
	if (e && e->state == FFS_NEIGH_PERMANENT)
		return;
	if (!e && create) {
		e = neigh_new(lc, &ND_NEIGH, port->index, (struct neigh_key){ .a6 = a }, NEIGH_CLASS_UNUSED, count);
		if (e)
			e->passive = true;
	}
	if (e)
		neigh_confirm(lc, &ND_NEIGH, e, mac);
}

/** True when the frame `m` (data at its IPv6 header, Ethernet header before it) left this port. */
static bool from_us(const struct ffs_port *port, const struct rte_mbuf *m)
{
	if (rte_pktmbuf_headroom(m) < ETH_HDR_LEN)
		return false;
	const struct eth_hdr *eh = (const struct eth_hdr *)(rte_pktmbuf_mtod(m, const uint8_t *) - ETH_HDR_LEN);
	return eth_addr_eq(&eh->src, &port->mac);
}

void nd6_input(struct ffs_lcore *lc, const struct ffs_port *port, const struct rte_mbuf *m, const struct ipv6_repr *ip,
	       const struct nd_repr *nd, bool cloned)
{
	struct ffs_stack *st = lc->st;
	bool count = !cloned;
	enum addr6_state state;
	bool ours = addr6_is_local(st, port->index, &nd->target, &state);
	if (nd->type == ND_ROUTER_ADVERT) {
		/* RFC 4861 §6.3.4: the router's link-layer address teaches its entry (the default route's next hop). */
		if (nd->has_slla) {
			learn(lc, port, &ip->src, &nd->slla, true, count);
			struct neigh_entry *e = neigh6_lookup(&lc->neigh6, port->index, &ip->src);
			if (e)
				e->router = true;
		}
		return;
	}
	if (nd->type == ND_NEIGHBOR_SOLICIT) {
		if (!ours)
			return;
		if (ip6_is_unspecified(&ip->src)) {
			/* Another node's DAD for an address of ours (RFC 4862 §5.4.3) — unless it is our own probe
			 * looped back by the link, known by its Ethernet source. */
			if (from_us(port, m))
				return;
			if (state == ADDR6_TENTATIVE) {
				if (count) {
					lc->ctr.nd6_dupaddr++;
					dad_duplicate(st, port->index, &nd->target);
				}
			} else if (count && state != ADDR6_DUPLICATED) {
				/* RFC 4861 §7.2.4: a solicitation from :: is answered to all-nodes, unsolicited. */
				lc->ctr.nd6_ns_in++;
				nd6_advertise(lc, port, &nd->target, &IP6_ALL_NODES, NULL, false);
			}
			return;
		}
		if (state == ADDR6_TENTATIVE || state == ADDR6_DUPLICATED)
			return; /* RFC 4862 §5.4.3: not ours yet */
		if (nd->has_slla)
			learn(lc, port, &ip->src, &nd->slla, true, count);
		if (count) {
			lc->ctr.nd6_ns_in++;
			nd6_advertise(lc, port, &nd->target, &ip->src, nd->has_slla ? &nd->slla : NULL, true);
		}
		return;
	}
	/* Neighbor Advertisement. */
	if (ours) {
		if (from_us(port, m))
			return; /* our own, looped back by the link */
		if (count)
			lc->ctr.nd6_dupaddr++;
		if (state == ADDR6_TENTATIVE && count)
			dad_duplicate(st, port->index, &nd->target);
		return;
	}
	struct neigh_entry *e = neigh6_lookup(&lc->neigh6, port->index, &nd->target);
	if (!e && nd->solicited && nd->has_tlla && neigh_asked_by_stack(lc, &ND_NEIGH, (struct neigh_key){ .a6 = &nd->target })) {
		/* Another lcore's resolution, as ARP's: its sockets' threads may send here next. */
		if (count)
			lc->ctr.nd6_na_in++;
		learn(lc, port, &nd->target, &nd->tlla, true, count);
		return;
	}
	if (!e) {
		if (count)
			lc->ctr.nd6_unsolicited++;
		return;
	}
	if (e->state == FFS_NEIGH_PERMANENT)
		return;
	/* RFC 4861 §7.2.5: an incomplete entry needs the target's address; a known one changes MAC only
	 * when the advertisement overrides it. */
	if (e->state == FFS_NEIGH_INCOMPLETE && !nd->has_tlla)
		return;
	if (e->state != FFS_NEIGH_INCOMPLETE && nd->has_tlla && !nd->override && !eth_addr_eq(&nd->tlla, &e->mac))
		return;
	e->router = nd->router;
	if (count)
		lc->ctr.nd6_na_in++;
	struct eth_addr mac = nd->has_tlla ? nd->tlla : e->mac;
	neigh_confirm(lc, &ND_NEIGH, e, &mac);
}

unsigned nd6_replay(struct ffs_lcore *lc, struct rte_ring *ring)
{
	const struct neigh_table *t = &lc->neigh6;
	unsigned n = 0;
	for (unsigned i = 0; i < NEIGH_TABLE_SIZE; i++) {
		const struct neigh_entry *e = &t->slots[i];
		struct ip6_addr target, sn;
		if (!e->addr || e->state != FFS_NEIGH_REACHABLE || !addr6_linklocal(lc->st, e->port_index, &target))
			continue;
		const struct ffs_port *port = &lc->st->ports[e->port_index];
		const struct ip6_addr *from = neigh_addr6(t, e);
		struct rte_mbuf *m = rte_pktmbuf_alloc(lc->st->pool);
		if (!m)
			break;
		/* As a clone arrives: the IPv6 packet, its port recorded; the NS with the neighbour's SLLA
		 * teaches the entry (RFC 4861 §7.2.3) and, being a clone, is not answered. */
		const size_t room = 32;
		uint8_t *p = (uint8_t *)rte_pktmbuf_append(m, IPV6_HDR_LEN + room);
		ip6_solicited_node(&target, &sn);
		size_t len = p ? nd_ns_emit(&target, &e->mac, from, &sn, p + IPV6_HDR_LEN, room) : 0;
		if (len == 0) {
			rte_pktmbuf_free(m);
			break;
		}
		rte_pktmbuf_trim(m, (uint16_t)(room - len));
		struct ipv6_repr ip = { .src = *from, .dst = sn, .next_header = IPV6_NH_ICMPV6, .hop_limit = ND_HOP_LIMIT,
					.payload_len = (uint16_t)len };
		ipv6_repr_emit(&ip, p, IPV6_HDR_LEN);
		m->port = port->port_id;
		m->hash.usr = FFS_PEER_ND;
		if (rte_ring_mp_enqueue(ring, m) != 0) {
			rte_pktmbuf_free(m);
			break;
		}
		n++;
	}
	return n;
}

void nd6_clone_input(struct ffs_lcore *lc, const struct ffs_port *port, struct rte_mbuf *m)
{
	/* Validated (checksum, hop limit, RFC 4861 §7.1) by the lcore that received it. */
	static const struct wire_csum_caps verified = { true, true, true, true };
	const uint8_t *p = rte_pktmbuf_mtod(m, const uint8_t *);
	size_t len = rte_pktmbuf_data_len(m);
	struct ipv6_repr ip;
	struct icmp6_repr icmp;
	struct nd_repr nd;
	lc->ctr.nd6_clones_in++;
	if (ipv6_repr_parse(p, len, &ip, NULL) == WIRE_OK && ip.hdr_len < len &&
	    icmp6_repr_parse(p + ip.hdr_len, len - ip.hdr_len, &ip.src, &ip.dst, &verified, &icmp) == WIRE_OK &&
	    nd_repr_parse(p + ip.hdr_len, len - ip.hdr_len, &ip, &nd) == WIRE_OK &&
	    (nd.type == ND_NEIGHBOR_SOLICIT || nd.type == ND_NEIGHBOR_ADVERT))
		nd6_input(lc, port, m, &ip, &nd, true);
	rte_pktmbuf_free(m);
}

int nd6_resolve_and_send(struct ffs_lcore *lc, const struct ffs_port *port, const struct ip6_addr *nexthop,
			 struct rte_mbuf *m)
{
	return neigh_resolve_and_send(lc, &ND_NEIGH, port, (struct neigh_key){ .a6 = nexthop }, m);
}

int nd6_add_static(struct ffs_lcore *lc, uint16_t port_index, const struct ip6_addr *addr, const struct eth_addr *mac)
{
	return neigh_add_static(lc, &ND_NEIGH, port_index, (struct neigh_key){ .a6 = addr }, mac);
}

static struct nd6_dad_table *dad_table(struct ffs_stack *st)
{
	struct nd6_dad_table *t = __atomic_load_n(&st->dad, __ATOMIC_ACQUIRE);
	if (t)
		return t;
	struct nd6_dad_table *fresh = calloc(1, sizeof(*fresh));
	if (!fresh)
		return NULL;
	rte_spinlock_init(&fresh->lock);
	if (!__atomic_compare_exchange_n(&st->dad, &t, fresh, false, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
		free(fresh);
		return t;
	}
	return fresh;
}

int nd6_dad_start(struct ffs_stack *st, unsigned port, const struct ip6_addr *a)
{
	struct nd6_dad_table *t = dad_table(st);
	if (!t)
		return -ENOMEM;
	int rc = -ENOSPC;
	rte_spinlock_lock(&t->lock);
	struct nd6_dad *free_job = NULL, *job = NULL;
	for (unsigned i = 0; i < RTE_DIM(t->jobs); i++) {
		struct nd6_dad *j = &t->jobs[i];
		if (j->active && j->port == port && ip6_eq(&j->addr, a))
			job = j;
		else if (!j->active && !free_job)
			free_job = j;
	}
	if (!job)
		job = free_job;
	if (job) {
		/* RFC 4862 §5.4.2 asks for a random delay before the first probe only when many nodes start at
		 * once (a link coming up); the stack probes at its next tick. */
		*job = (struct nd6_dad){ .addr = *a, .port = (uint16_t)port, .active = true, .next = rte_get_tsc_cycles() };
		rc = 0;
	}
	rte_spinlock_unlock(&t->lock);
	return rc;
}

/** Lcore 0: the next probe of each detection due, and the verdict of each one whose last probe went unanswered. */
static void dad_tick(struct ffs_lcore *lc)
{
	struct ffs_stack *st = lc->st;
	struct nd6_dad_table *t = __atomic_load_n(&st->dad, __ATOMIC_ACQUIRE);
	if (!t)
		return;
	int64_t probes = ffs_sysctl(st, FFS_SYSCTL_IP6_DAD_COUNT);
	uint64_t retrans = (uint64_t)ffs_sysctl(st, FFS_SYSCTL_ND6_RETRANS_MS) * st->tsc_hz / 1000;
	rte_spinlock_lock(&t->lock);
	for (unsigned i = 0; i < RTE_DIM(t->jobs); i++) {
		struct nd6_dad *j = &t->jobs[i];
		if (!j->active || j->duplicate || lc->now < j->next || j->port >= st->n_ports)
			continue;
		const struct ffs_port *port = &st->ports[j->port];
		if (j->sent < probes) {
			nd6_solicit(lc, port, &j->addr, true);
			j->sent++;
			j->next = lc->now + retrans;
			continue;
		}
		/* RFC 4862 §5.4.5: no answer to any probe within RetransTimer of the last: the address is unique. */
		j->active = false;
		addr6_set_state(st, j->port, &j->addr, ADDR6_PREFERRED);
		nd6_advertise(lc, port, &j->addr, &IP6_ALL_NODES, NULL, false);
	}
	rte_spinlock_unlock(&t->lock);
}

void nd6_tick(struct ffs_lcore *lc)
{
	neigh_tick(lc, &ND_NEIGH);
	if (lc->index == 0)
		dad_tick(lc);
}

/** True while a detection still waits for its verdict; sets *dup to the first duplicated one. */
static bool dad_pending(struct ffs_stack *st, struct nd6_dad *dup)
{
	struct nd6_dad_table *t = __atomic_load_n(&st->dad, __ATOMIC_ACQUIRE);
	if (!t)
		return false;
	bool pending = false;
	rte_spinlock_lock(&t->lock);
	for (unsigned i = 0; i < RTE_DIM(t->jobs); i++) {
		if (t->jobs[i].duplicate && dup->port == UINT16_MAX)
			*dup = t->jobs[i];
		else if (t->jobs[i].active && !t->jobs[i].duplicate)
			pending = true;
	}
	rte_spinlock_unlock(&t->lock);
	return pending && dup->port == UINT16_MAX;
}

int nd6_dad_wait(struct ffs_stack *st, char *err, size_t errlen)
{
	int64_t probes = ffs_sysctl(st, FFS_SYSCTL_IP6_DAD_COUNT);
	/* Every probe a retransmission time apart, the verdict one more after the last, and a margin for ticks. */
	uint64_t limit = rte_get_tsc_cycles() +
			 (uint64_t)(probes + 2) * (uint64_t)ffs_sysctl(st, FFS_SYSCTL_ND6_RETRANS_MS) * st->tsc_hz / 1000;
	struct nd6_dad dup = { .port = UINT16_MAX };
	while (dad_pending(st, &dup) && rte_get_tsc_cycles() < limit) {
		if (st->inline_mode)
			ffs_stack_poll(st);
		else
			usleep(1000);
	}
	if (dup.port == UINT16_MAX)
		return 0;
	char s[IP6_ADDRSTRLEN];
	snprintf(err, errlen, "port %u: IPv6 address %s is already in use on the link (Duplicate Address Detection, RFC 4862)",
		 st->ports[dup.port].port_id, ip6_format(&dup.addr, s));
	return -EADDRINUSE;
}

void nd6_fini(struct ffs_stack *st)
{
	free(st->dad);
	st->dad = NULL;
}
