/*
 * MLD for a host (RFC 3810 MLDv2, with RFC 2710 MLDv1 compatibility) and which IPv6 groups a port
 * accepts.
 *
 * The host state machine is IGMP's (iface/igmp.c through iface/mhost.h: MLDv2 is IGMPv3 for IPv6,
 * MLDv1 is IGMPv2); this file supplies MLD's frames and reads MLD's messages. Every message leaves
 * from the port's link-local address with hop limit 1 and a Hop-by-Hop Router Alert option (RFC 3810
 * §5, RFC 2710 §3), to the group's multicast MAC, so no Neighbor Discovery is involved. The version
 * is capped by net.inet6.mld.version (RFC 3810 §8.2, as net.inet.igmp.default_version caps IGMP's).
 * No report is ever sent about ff02::1 or a group of interface-local or reserved scope (RFC 3810 §6).
 * Besides sockets' memberships, every address of a port makes it a listener of the address's
 * solicited-node group (RFC 4861 §7.2.1; before DAD's probes, RFC 4862 §5.4.2): each lcore follows
 * the port's address table at its tick (mld6_tick), so addresses added anywhere — configuration,
 * ifconfig, SLAAC on a lcore — are reported alike.
 * May call: wire/icmp6, eth_output6, the packet pool. Runs on the owning lcore only; no locks.
 */
#include <errno.h>
#include <string.h>

#include <rte_malloc.h>

#include "stack/iface/addr6.h"
#include "stack/iface/iface.h"
#include "stack/iface/mhost.h"
#include "stack/wire/icmp6.h"
#include "stack/wire/ipv6.h"

/** RFC 4861 §7.2.1, RFC 4862 §5.4.2: an address makes its port a member of its solicited-node group
 *  from the moment it is tentative (DAD's probes come there); a duplicated one is not assigned to
 *  the port (§5.4.5) and joins nothing. */
static bool joins_solicited_node(const struct ffs_addr6_info *a)
{
	return a->state != ADDR6_DUPLICATED;
}

/** A socket's membership of `group` on the port (the lcore's group table, fed by mcast.c). */
static bool socket_joined(const struct ffs_lcore *lc, uint16_t port_index, const struct ip6_addr *group)
{
	for (unsigned i = 0; i < lc->n_groups; i++)
		if (lc->groups[i].family == 6 && lc->groups[i].port_index == port_index &&
		    ip6_eq(&lc->groups[i].group6, group))
			return true;
	return false;
}

bool ipv6_group_joined(const struct ffs_lcore *lc, uint16_t port_index, const struct ip6_addr *group)
{
	/* RFC 4291 §2.7.1: every node is a member of all-nodes on every interface. */
	if (ip6_eq(group, &IP6_ALL_NODES))
		return true;
	if (ip6_is_solicited_node(group) && port_index < lc->st->n_ports) {
		struct ffs_addr6_info a[FFS_MAX_ADDR6];
		unsigned n = addr6_list(lc->st, port_index, a, FFS_MAX_ADDR6);
		for (unsigned i = 0; i < n; i++) {
			struct ip6_addr sn;
			ip6_solicited_node(&a[i].addr, &sn);
			if (joins_solicited_node(&a[i]) && ip6_eq(&sn, group))
				return true;
		}
	}
	return socket_joined(lc, port_index, group);
}

static uint8_t mld_max_mode(const struct ffs_lcore *lc)
{
	/* MLDv1 runs the IGMPv2 machine, MLDv2 the IGMPv3 one. */
	return (uint8_t)(ffs_sysctl(lc->st, FFS_SYSCTL_MLD_VERSION) + 1);
}

/** The link-local source every MLD message is sent from (its checksum covers it). */
static void mld_source_addr(const struct ffs_port *port, struct ip6_addr *out)
{
	ip6_linklocal_eui64(&port->mac, out);
}

/** Wraps the MLD message in `m` in an IPv6 header and a Hop-by-Hop Router Alert and sends it to dst. */
static int send_frame(struct ffs_lcore *lc, const struct ffs_port *port, struct rte_mbuf *m, const struct ip6_addr *dst)
{
	uint16_t len = (uint16_t)rte_pktmbuf_pkt_len(m);
	uint8_t *hdr = (uint8_t *)rte_pktmbuf_prepend(m, MLD_IPV6_HDR_LEN);
	if (!hdr) {
		rte_pktmbuf_free(m);
		return -ENOBUFS;
	}
	struct ipv6_repr ip = { .dst = *dst, .hop_limit = MLD_HOP_LIMIT, .payload_len = len };
	mld_source_addr(port, &ip.src);
	mld_ipv6_emit(&ip, hdr, MLD_IPV6_HDR_LEN);
	m->l3_len = MLD_IPV6_HDR_LEN;
	struct eth_addr mac;
	eth_addr_from_ipv6_multicast(dst, &mac);
	return eth_output6(lc, port, m, dst, &mac);
}

static void mld_send_v1(struct ffs_lcore *lc, const struct ffs_port *port, uint8_t mode, bool leave,
			const struct ip6_addr *group)
{
	(void)mode; /* MLDv1 has one report */
	struct rte_mbuf *m = mhost_alloc_frame(lc, MLD_IPV6_HDR_LEN);
	if (!m)
		return;
	/* RFC 2710 §4: reports go to the group itself, done messages to all-routers (ff02::2). */
	const struct ip6_addr *dst = leave ? &IP6_ALL_ROUTERS : group;
	struct ip6_addr src;
	mld_source_addr(port, &src);
	uint8_t *buf = (uint8_t *)rte_pktmbuf_append(m, MLD_V1_LEN);
	if (!buf || mldv1_emit(leave ? MLD_V1_DONE : MLD_V1_REPORT, group, &src, dst, buf, MLD_V1_LEN) == 0) {
		rte_pktmbuf_free(m);
		return;
	}
	if (send_frame(lc, port, m, dst) == 0) {
		if (leave)
			lc->ctr.mld_dones_out++;
		else
			lc->ctr.mld_reports_out++;
	}
}

static void mld_v2_begin(struct mhost_report *o)
{
	size_t cap = rte_pktmbuf_tailroom(o->m);
	size_t mtu_cap = o->port->mtu > MLD_IPV6_HDR_LEN ? o->port->mtu - MLD_IPV6_HDR_LEN : 0;
	mldv2_report_begin(&o->b6, rte_pktmbuf_mtod(o->m, uint8_t *), cap < mtu_cap ? cap : mtu_cap);
}

static bool mld_v2_add(struct mhost_report *o, uint8_t type, const struct ip6_addr *group, const struct ip6_addr *sources,
		       unsigned n)
{
	struct mld_record rec = { .type = type, .group = *group, .n_sources = n, .sources = sources };
	return mldv2_report_add(&o->b6, &rec);
}

static void mld_v2_send(struct mhost_report *o)
{
	struct ip6_addr src;
	mld_source_addr(o->port, &src);
	/* RFC 3810 §5.2.14: "Version 2 Multicast Listener Reports are sent with an IP destination
	 * address of FF02:0:0:0:0:0:0:16". */
	size_t len = mldv2_report_finish(&o->b6, &src, &IP6_ALL_MLDV2_ROUTERS);
	rte_pktmbuf_append(o->m, (uint16_t)len);
	if (send_frame(o->lc, o->port, o->m, &IP6_ALL_MLDV2_ROUTERS) == 0)
		o->lc->ctr.mld_reports_out++;
}

const struct mhost_ops mld6_ops = {
	.family = 6,
	.max_mode = mld_max_mode,
	.send_v2 = mld_send_v1,
	.v3_begin = mld_v2_begin,
	.v3_add = mld_v2_add,
	.v3_send = mld_v2_send,
};

/** The solicited-node groups a lcore's MLD state holds for the ports' addresses (ffs_lcore.mld_addrs). */
struct mld6_addrs {
	unsigned n[FFS_MAX_PORTS];
	struct ip6_addr g[FFS_MAX_PORTS][FFS_MAX_ADDR6];
};

static bool holds(const struct ip6_addr *set, unsigned n, const struct ip6_addr *a)
{
	for (unsigned i = 0; i < n; i++)
		if (ip6_eq(&set[i], a))
			return true;
	return false;
}

/** RFC 3810 §6: no MLD message about ff02::1, nor about groups of scope 0 or 1. */
static bool reported(const struct ip6_addr *group)
{
	return ip6_is_multicast(group) && ip6_mcast_scope(group) > IP6_SCOPE_INTERFACE && !ip6_eq(group, &IP6_ALL_NODES);
}

void mld6_state_change(struct ffs_lcore *lc, uint16_t port_index, const struct ip6_addr *group, bool exclude,
		       const struct ip6_addr *sources, unsigned n_sources)
{
	if (!reported(group))
		return;
	/* A socket leaving a solicited-node group that an address still needs leaves it joined. */
	const struct mld6_addrs *s = lc->mld_addrs;
	if (s && port_index < FFS_MAX_PORTS && holds(s->g[port_index], s->n[port_index], group))
		exclude = true, n_sources = 0;
	mhost_state_change(lc, &mld6_ops, port_index, group, exclude, sources, n_sources);
}

void mld6_input(struct ffs_lcore *lc, const struct ffs_port *port, struct rte_mbuf *m, const struct ipv6_repr *ip)
{
	lc->ctr.mld_rx++;
	uint32_t len = rte_pktmbuf_pkt_len(m);
	if (m->nb_segs > 1 && rte_pktmbuf_linearize(m) != 0) {
		lc->ctr.mld_bad++;
		goto drop;
	}
	const uint8_t *buf = rte_pktmbuf_mtod(m, const uint8_t *);
	uint8_t type = len ? buf[0] : 0;
	if (type == MLD_QUERY) {
		struct mld_query_repr r;
		if (mld_query_parse(buf, len, ip, &r) != WIRE_OK) {
			lc->ctr.mld_bad++;
			goto drop;
		}
		lc->ctr.mld_queries_in++;
		if (!port)
			goto drop;
		struct mhost_query q = { .version = r.v2 ? 3 : 2, .max_resp_ms = r.max_resp_ms,
					 .general = ip6_is_unspecified(&r.group), .group = r.group };
		unsigned n = r.v2 ? r.n_sources : 0;
		q.sources_truncated = n > FFS_MAX_GROUP_SOURCES;
		for (unsigned i = 0; i < n && i < FFS_MAX_GROUP_SOURCES; i++)
			mld_source(r.sources, i, &q.sources[q.n_sources++]);
		mhost_query_input(lc, &mld6_ops, port, &q);
		goto drop;
	}
	if (type != MLD_V1_REPORT && type != MLD_V1_DONE && type != MLD_V2_REPORT)
		goto drop; /* not MLD: icmp6_input hands only MLD types here */
	/* RFC 3810 §5.2.13 / RFC 2710 §3: hop limit 1, from a link-local source (or :: before one). */
	if (ip->hop_limit != MLD_HOP_LIMIT || !(ip6_is_linklocal(&ip->src) || ip6_is_unspecified(&ip->src)) ||
	    len < (type == MLD_V2_REPORT ? MLDV2_REPORT_HDR_LEN : MLD_V1_LEN)) {
		lc->ctr.mld_bad++;
		goto drop;
	}
	lc->ctr.mld_reports_in++;
	if (type == MLD_V1_REPORT && port) {
		struct ip6_addr group;
		memcpy(group.b, buf + 8, 16);
		mhost_report_input(lc, &mld6_ops, port, &group);
	}
drop:
	rte_pktmbuf_free(m);
}

void mld6_tick(struct ffs_lcore *lc)
{
	const struct ffs_stack *st = lc->st;
	if (!lc->mld_addrs && !(lc->mld_addrs = rte_zmalloc("ffs_mld6_addrs", sizeof(struct mld6_addrs), 0)))
		return;
	struct mld6_addrs *s = lc->mld_addrs;
	for (uint16_t p = 0; p < st->n_ports; p++) {
		struct ffs_addr6_info a[FFS_MAX_ADDR6];
		struct ip6_addr want[FFS_MAX_ADDR6];
		unsigned n = addr6_list(st, p, a, FFS_MAX_ADDR6), n_want = 0;
		for (unsigned i = 0; i < n; i++) {
			struct ip6_addr sn;
			ip6_solicited_node(&a[i].addr, &sn);
			if (joins_solicited_node(&a[i]) && !holds(want, n_want, &sn))
				want[n_want++] = sn;
		}
		for (unsigned i = 0; i < n_want; i++)
			if (!holds(s->g[p], s->n[p], &want[i]))
				mhost_state_change(lc, &mld6_ops, p, &want[i], true, NULL, 0);
		for (unsigned i = 0; i < s->n[p]; i++)
			if (!holds(want, n_want, &s->g[p][i]) && !socket_joined(lc, p, &s->g[p][i]))
				mhost_state_change(lc, &mld6_ops, p, &s->g[p][i], false, NULL, 0);
		memcpy(s->g[p], want, n_want * sizeof(want[0]));
		s->n[p] = n_want;
	}
}

void mld6_free(struct ffs_lcore *lc)
{
	rte_free(lc->mld_addrs);
	lc->mld_addrs = NULL;
}
