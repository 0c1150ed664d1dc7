/*
 * IGMP for a host (RFC 3376 IGMPv3, with RFC 2236 IGMPv2 and RFC 1112 IGMPv1 compatibility), and
 * the host state machine MLD shares with it (iface/mhost.h; MLD's frames are in mld6.c).
 *
 * Owns, per lcore and per family: the membership of every group on every port as the control plane computed it
 * over all sockets (filter mode and source list, RFC 3376 §3.2 "interface state"), the responses to
 * queries this lcore received, and — on lcore 0 only — the unsolicited state-change reports and
 * their retransmissions. Each port runs in the compatibility mode of the oldest querier heard
 * within the Older Version Querier Present Timeout, capped by net.inet.igmp.default_version
 * (RFC 3376 §7.2.1; RFC 3810 §8.2 for MLD, net.inet6.mld.version). IGMP frames are built here
 * (IPv4 header with Router Alert, TTL 1, TOS 0xc0) and handed to eth_output with the group's
 * multicast MAC, so no ARP is involved.
 * May call: wire/igmp, eth_output, the packet pool, mld6.c's frames. Runs on the owning lcore only; no locks.
 */
#include <errno.h>
#include <string.h>
#include <rte_malloc.h>
#include <rte_random.h>

#include "stack/iface/iface.h"
#include "stack/iface/mhost.h"
#include "stack/wire/igmp.h"

/** RFC 3376 §8.1 / RFC 2236 §8.1 / RFC 3810 §9.1: the Robustness Variable's default. */
#define IGMP_ROBUSTNESS 2
/** RFC 3376 §8.11, RFC 3810 §9.11: Unsolicited Report Interval for IGMPv3 and MLDv2, 1 second. */
#define IGMP_V3_UNSOLICITED_MS 1000
/** RFC 2236 §8.10, RFC 2710 §7.10: Unsolicited Report Interval for IGMPv2 (and v1) and MLDv1, 10 seconds. */
#define IGMP_V2_UNSOLICITED_MS 10000
/** RFC 3376 §8.2, RFC 3810 §9.2: the default Query Interval, 125 s, used for the older-querier timeout. */
#define IGMP_QUERY_INTERVAL_MS 125000

struct igmp_group {
	const struct mhost_ops *ops; /**< the group's family */
	uint16_t port_index;
	struct ip6_addr group;       /**< IPv4-mapped for IGMP */
	/* The interface state (RFC 3376 §3.2). INCLUDE {} means not a member. */
	bool exclude;
	uint16_t n_sources;
	struct ip6_addr sources[FFS_MAX_GROUP_SOURCES];
	/* Lcore 0: a state change still to be (re)sent, RFC 3376 §5.1. In v3 mode, either a filter
	 * mode change (sent as CHANGE_TO_* with the current sources) or the sources to ALLOW/BLOCK;
	 * in v1/v2 mode, a membership report. */
	uint8_t retrans_left;
	uint8_t retrans_version;
	bool mode_change;
	uint16_t n_allow, n_block;
	struct ip6_addr allow[FFS_MAX_GROUP_SOURCES];
	struct ip6_addr block[FFS_MAX_GROUP_SOURCES];
	uint64_t retrans_at;
	/* A pending answer to a group(-and-source)-specific query (v3) or to any query (v1/v2);
	 * resp_at 0 = none. An empty source list answers with the whole state. */
	uint64_t resp_at;
	uint16_t n_resp_sources;
	struct ip6_addr resp_sources[FFS_MAX_GROUP_SOURCES];
};

struct igmp_port {
	/* Older Version Querier Present timers (RFC 3376 §7.2.1), TSC; 0 = not running. */
	uint64_t v1_until, v2_until;
	/* A pending answer to a v3 general query, TSC; 0 = none. */
	uint64_t general_at;
	/* The compatibility mode the timers above were last set for (0 before the first use). */
	uint8_t mode;
};

/** One lcore's IGMP and MLD state (ffs_lcore.igmp). */
struct igmp_host {
	unsigned n;
	struct igmp_group *g[FFS_MAX_GROUPS];
	struct igmp_port port[2][FFS_MAX_PORTS]; /**< [0] IGMP, [1] MLD */
};

static struct igmp_port *port_of(struct igmp_host *h, const struct mhost_ops *ops, uint16_t port_index)
{
	return &h->port[ops->family == 6][port_index];
}

static uint64_t ms_to_tsc(const struct ffs_lcore *lc, uint64_t ms)
{
	return ms * lc->st->tsc_hz / 1000;
}

/** A random delay in [0, ms) as TSC ticks. */
static uint64_t random_delay(const struct ffs_lcore *lc, uint64_t ms)
{
	uint64_t range = ms_to_tsc(lc, ms);
	return range ? rte_rand_max(range) : 0;
}

/** now + delay as a timer value: never 0, which marks a timer that is not running. */
static uint64_t deadline(const struct ffs_lcore *lc, uint64_t delay)
{
	uint64_t at = lc->now + delay;
	return at ? at : 1;
}

static bool contains(const struct ip6_addr *set, unsigned n, const struct ip6_addr *a)
{
	for (unsigned i = 0; i < n; i++)
		if (ip6_eq(&set[i], a))
			return true;
	return false;
}

/** Removes a from set (order not kept). */
static void remove_from(struct ip6_addr *set, uint16_t *n, const struct ip6_addr *a)
{
	for (unsigned i = 0; i < *n; i++)
		if (ip6_eq(&set[i], a)) {
			set[i] = set[--*n];
			return;
		}
}

static bool add_to(struct ip6_addr *set, uint16_t *n, const struct ip6_addr *a)
{
	if (contains(set, *n, a))
		return true;
	if (*n == FFS_MAX_GROUP_SOURCES)
		return false;
	set[(*n)++] = *a;
	return true;
}

static bool is_member(const struct igmp_group *g)
{
	return g->exclude || g->n_sources;
}

static struct igmp_host *host_of(struct ffs_lcore *lc)
{
	if (!lc->igmp)
		lc->igmp = rte_zmalloc("ffs_igmp", sizeof(struct igmp_host), 0);
	return lc->igmp;
}

static struct igmp_group *find(struct igmp_host *h, uint16_t port_index, const struct ip6_addr *group)
{
	for (unsigned i = 0; i < h->n; i++)
		if (ip6_eq(&h->g[i]->group, group) && h->g[i]->port_index == port_index)
			return h->g[i];
	return NULL;
}

/** Frees entries that are neither members nor have anything left to send. */
static void collect(struct igmp_host *h)
{
	for (unsigned i = 0; i < h->n;) {
		struct igmp_group *g = h->g[i];
		if (is_member(g) || g->retrans_left) {
			i++;
			continue;
		}
		rte_free(g);
		h->g[i] = h->g[--h->n];
	}
}

void igmp_free(struct ffs_lcore *lc)
{
	mld6_free(lc);
	struct igmp_host *h = lc->igmp;
	if (!h)
		return;
	for (unsigned i = 0; i < h->n; i++)
		rte_free(h->g[i]);
	rte_free(h);
	lc->igmp = NULL;
}

/*
 * Compatibility mode (RFC 3376 §7.2.1): "IGMPv1 Router Present" while the v1 timer runs, else
 * IGMPv2 while the v2 timer runs, else IGMPv3 — never above the configured default version.
 * "Whenever a host changes its compatibility mode, it cancels all its pending response and
 * retransmission timers."
 */
static uint8_t port_mode(struct ffs_lcore *lc, struct igmp_host *h, const struct mhost_ops *ops, uint16_t port_index)
{
	struct igmp_port *p = port_of(h, ops, port_index);
	uint8_t mode = ops->max_mode(lc);
	if (p->v2_until && p->v2_until <= lc->now)
		p->v2_until = 0;
	if (p->v1_until && p->v1_until <= lc->now)
		p->v1_until = 0;
	if (p->v2_until && mode > 2)
		mode = 2;
	if (p->v1_until)
		mode = 1;
	if (p->mode != mode) {
		if (p->mode) {
			p->general_at = 0;
			for (unsigned i = 0; i < h->n; i++) {
				struct igmp_group *g = h->g[i];
				if (g->port_index != port_index || g->ops != ops)
					continue;
				g->resp_at = 0;
				g->retrans_left = 0;
				g->mode_change = false;
				g->n_allow = g->n_block = 0;
			}
			/* Groups left with nothing to send are freed by the caller's collect (the tick's,
			 * the state change's), never here: a caller may be holding one. */
		}
		p->mode = mode;
	}
	return mode;
}

/* --- IGMP frames */

static uint8_t igmp_max_mode(const struct ffs_lcore *lc)
{
	return (uint8_t)ffs_sysctl(lc->st, FFS_SYSCTL_IGMP_VERSION);
}

/** Wraps the IGMP message in `m` in an IPv4 header with Router Alert and sends it to dst. */
static int send_frame(struct ffs_lcore *lc, const struct ffs_port *port, struct rte_mbuf *m, uint32_t dst)
{
	uint16_t len = (uint16_t)rte_pktmbuf_pkt_len(m);
	uint8_t *hdr = (uint8_t *)rte_pktmbuf_prepend(m, IGMP_IPV4_HDR_LEN);
	if (!hdr) {
		rte_pktmbuf_free(m);
		return -ENOBUFS;
	}
	/* RFC 3376 §4 / RFC 2236 §2: TTL 1, precedence Internetwork Control, Router Alert. DF with ID 0
	 * as Linux sends them (RFC 6864 §4.1: an atomic datagram's ID carries no meaning). Always
	 * checksummed here: these frames are rare and carry no offload flags. */
	struct ipv4_repr ip = { .src = port->addr, .dst = dst, .proto = IPV4_PROTO_IGMP, .ttl = IGMP_IPV4_TTL,
				.tos = IGMP_IPV4_TOS, .dont_frag = true, .payload_len = len };
	igmp_ipv4_emit(&ip, hdr, IGMP_IPV4_HDR_LEN, &WIRE_CSUM_SOFTWARE);
	m->l3_len = IGMP_IPV4_HDR_LEN;
	struct eth_addr mac;
	eth_addr_from_ipv4_multicast(dst, &mac);
	lc->ctr.ip_tx++;
	return eth_output(lc, port, m, dst, &mac);
}

struct rte_mbuf *mhost_alloc_frame(struct ffs_lcore *lc, unsigned headroom)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(lc->st->pool);
	if (m && rte_pktmbuf_headroom(m) < ETH_HDR_LEN + headroom) {
		rte_pktmbuf_free(m);
		return NULL;
	}
	return m;
}

/** A v1/v2 message (report or leave) about `group`. */
static void igmp_send_v2(struct ffs_lcore *lc, const struct ffs_port *port, uint8_t mode, bool leave,
			 const struct ip6_addr *group6)
{
	struct rte_mbuf *m = mhost_alloc_frame(lc, IGMP_IPV4_HDR_LEN);
	if (!m)
		return;
	uint32_t group = ip6_to_v4(group6);
	uint8_t *buf = (uint8_t *)rte_pktmbuf_append(m, IGMP_HDR_LEN);
	uint8_t type = leave ? IGMP_V2_LEAVE_GROUP : mode == 1 ? IGMP_V1_MEMBERSHIP_REPORT : IGMP_V2_MEMBERSHIP_REPORT;
	struct igmp_repr r = { .type = type, .group = group };
	igmp_repr_emit(&r, buf, IGMP_HDR_LEN);
	/* RFC 2236 §3: reports go to the group itself, leaves to all-routers (224.0.0.2). */
	uint32_t dst = leave ? IGMP_ALL_ROUTERS : group;
	if (send_frame(lc, port, m, dst) == 0) {
		if (leave)
			lc->ctr.igmp_leaves_out++;
		else
			lc->ctr.igmp_reports_out++;
	}
}

static void igmp_v3_begin(struct mhost_report *o)
{
	size_t cap = rte_pktmbuf_tailroom(o->m);
	size_t mtu_cap = o->port->mtu > IGMP_IPV4_HDR_LEN ? o->port->mtu - IGMP_IPV4_HDR_LEN : 0;
	igmpv3_report_begin(&o->b4, rte_pktmbuf_mtod(o->m, uint8_t *), cap < mtu_cap ? cap : mtu_cap);
}

static bool igmp_v3_add(struct mhost_report *o, uint8_t type, const struct ip6_addr *group,
			const struct ip6_addr *sources, unsigned n)
{
	uint32_t src[FFS_MAX_GROUP_SOURCES];
	for (unsigned i = 0; i < n && i < FFS_MAX_GROUP_SOURCES; i++)
		src[i] = ip6_to_v4(&sources[i]);
	return igmpv3_report_add(&o->b4, type, ip6_to_v4(group), src, n);
}

static void igmp_v3_send(struct mhost_report *o)
{
	struct rte_mbuf *m = o->m;
	size_t len = igmpv3_report_finish(&o->b4);
	rte_pktmbuf_append(m, (uint16_t)len);
	/* RFC 3376 §4.2.14: "Version 3 Reports are sent with an IP destination address of 224.0.0.22". */
	if (send_frame(o->lc, o->port, m, IGMPV3_ALL_ROUTERS) == 0)
		o->lc->ctr.igmp_reports_out++;
}

const struct mhost_ops igmp_ops = {
	.family = 4,
	.max_mode = igmp_max_mode,
	.send_v2 = igmp_send_v2,
	.v3_begin = igmp_v3_begin,
	.v3_add = igmp_v3_add,
	.v3_send = igmp_v3_send,
};

/* --- v3 reports of either family */

static void v3_flush(struct mhost_report *o)
{
	if (!o->m)
		return;
	if (o->n_records == 0) {
		rte_pktmbuf_free(o->m);
		o->m = NULL;
		return;
	}
	o->ops->v3_send(o);
	o->m = NULL;
}

static void v3_add(struct mhost_report *o, uint8_t type, const struct ip6_addr *group, const struct ip6_addr *sources,
		   unsigned n)
{
	for (int attempt = 0; attempt < 2; attempt++) {
		if (!o->m) {
			o->m = mhost_alloc_frame(o->lc, o->ops->family == 6 ? MLD_IPV6_HDR_LEN : IGMP_IPV4_HDR_LEN);
			if (!o->m)
				return;
			/* RFC 3376 §4.2.16, RFC 3810 §5.2.15: records that do not fit one report go in as
			 * many reports as needed; a report never exceeds the link MTU. */
			o->n_records = 0;
			o->ops->v3_begin(o);
		}
		if (o->ops->v3_add(o, type, group, sources, n)) {
			o->n_records++;
			return;
		}
		bool empty = o->n_records == 0;
		v3_flush(o);
		if (empty)
			return; /* one record larger than the MTU: cannot be sent */
	}
}

/* --- unsolicited reports (lcore 0), RFC 3376 §5.1, RFC 2236 §3, RFC 3810 §6.1, RFC 2710 §4 */

/** Adds the pending state-change records of g to a report. */
static void add_change_records(struct mhost_report *o, const struct igmp_group *g)
{
	if (g->mode_change) {
		v3_add(o, g->exclude ? IGMPV3_CHANGE_TO_EXCLUDE_MODE : IGMPV3_CHANGE_TO_INCLUDE_MODE, &g->group, g->sources,
		       g->n_sources);
		return;
	}
	/* RFC 3376 §5.1: "If the computed source list for either an ALLOW or a BLOCK record is empty,
	 * that record is omitted from the State-Change Report." */
	if (g->n_allow)
		v3_add(o, IGMPV3_ALLOW_NEW_SOURCES, &g->group, g->allow, g->n_allow);
	if (g->n_block)
		v3_add(o, IGMPV3_BLOCK_OLD_SOURCES, &g->group, g->block, g->n_block);
}

/** Sends g's pending state change once and schedules the next retransmission. */
static void send_change(struct ffs_lcore *lc, struct igmp_group *g)
{
	const struct ffs_port *port = &lc->st->ports[g->port_index];
	if (g->retrans_version == 3) {
		struct mhost_report o = { .lc = lc, .port = port, .ops = g->ops };
		add_change_records(&o, g);
		v3_flush(&o);
	} else {
		g->ops->send_v2(lc, port, g->retrans_version, false, &g->group);
	}
	if (--g->retrans_left == 0) {
		g->mode_change = false;
		g->n_allow = g->n_block = 0;
		return;
	}
	uint64_t interval = g->retrans_version == 3 ? IGMP_V3_UNSOLICITED_MS : IGMP_V2_UNSOLICITED_MS;
	g->retrans_at = deadline(lc, random_delay(lc, interval));
}

/**
 * Folds the change old -> g's current state into g's pending records (RFC 3376 §5.1): a filter
 * mode change supersedes source records; otherwise INCLUDE(A) -> INCLUDE(B) allows B-A and blocks
 * A-B, EXCLUDE(A) -> EXCLUDE(B) allows A-B and blocks B-A, merged with what is still pending.
 * Returns false when nothing changed.
 */
static bool merge_v3_change(struct igmp_group *g, bool old_exclude, const struct ip6_addr *old, unsigned n_old)
{
	if (old_exclude != g->exclude) {
		g->mode_change = true;
		g->n_allow = g->n_block = 0;
		return true;
	}
	const struct ip6_addr *now = g->sources;
	unsigned n_now = g->n_sources;
	bool changed = false, fits = true;
	for (unsigned i = 0; i < n_now; i++)
		if (!contains(old, n_old, &now[i])) {
			const struct ip6_addr *s = &now[i];
			changed = true;
			fits &= g->exclude ? add_to(g->block, &g->n_block, s) : add_to(g->allow, &g->n_allow, s);
			remove_from(g->exclude ? g->allow : g->block, g->exclude ? &g->n_allow : &g->n_block, s);
		}
	for (unsigned i = 0; i < n_old; i++)
		if (!contains(now, n_now, &old[i])) {
			const struct ip6_addr *s = &old[i];
			changed = true;
			fits &= g->exclude ? add_to(g->allow, &g->n_allow, s) : add_to(g->block, &g->n_block, s);
			remove_from(g->exclude ? g->block : g->allow, g->exclude ? &g->n_block : &g->n_allow, s);
		}
	if (!fits) {
		/* More pending sources than we keep: a CHANGE_TO_* record with the whole current state
		 * tells the router the same thing. */
		g->mode_change = true;
		g->n_allow = g->n_block = 0;
	}
	return changed;
}

static void unsolicited(struct ffs_lcore *lc, struct igmp_host *h, struct igmp_group *g, bool old_exclude,
			const struct ip6_addr *old, unsigned n_old)
{
	uint8_t mode = port_mode(lc, h, g->ops, g->port_index);
	bool was_member = old_exclude || n_old;
	if (mode == 3) {
		if (g->retrans_left && g->retrans_version != 3) {
			g->mode_change = false;
			g->n_allow = g->n_block = 0;
		}
		if (!merge_v3_change(g, old_exclude, old, n_old))
			return;
		/* RFC 3376 §5.1 (RFC 3810 §6.1 alike): the report is sent at once and "retransmitted
		 * [Robustness Variable] - 1 more times, at intervals chosen at random from the range (0,
		 * [Unsolicited Report Interval])". */
		g->retrans_version = 3;
		g->retrans_left = IGMP_ROBUSTNESS;
		send_change(lc, g);
		return;
	}
	if (!was_member && is_member(g)) {
		/* RFC 2236 §3: "When a host joins a multicast group, it should immediately transmit an
		 * unsolicited Version 2 Membership Report for that group ... it is recommended that it
		 * be repeated once or twice after short delays" (RFC 2710 §4 for MLDv1 alike). Source
		 * filters have no v1/v2 form: any membership is reported as a join. */
		g->retrans_version = mode;
		g->retrans_left = IGMP_ROBUSTNESS;
		send_change(lc, g);
	} else if (was_member && !is_member(g)) {
		g->retrans_left = 0;
		/* RFC 2236 §3: "If the interface state says the Querier is running IGMPv1, this action
		 * SHOULD be skipped"; the "last host to report" flag, which MAY skip it too, is not
		 * kept: a leave (an MLDv1 done) is always sent. */
		if (mode == 2)
			g->ops->send_v2(lc, &lc->st->ports[g->port_index], mode, true, &g->group);
	}
}

void mhost_state_change(struct ffs_lcore *lc, const struct mhost_ops *ops, uint16_t port_index,
			const struct ip6_addr *group, bool exclude, const struct ip6_addr *sources, unsigned n_sources)
{
	if (port_index >= lc->st->n_ports)
		return;
	struct igmp_host *h = host_of(lc);
	if (!h)
		return;
	struct igmp_group *g = find(h, port_index, group);
	if (!g) {
		if (!exclude && n_sources == 0)
			return;
		if (h->n == FFS_MAX_GROUPS)
			return;
		g = rte_zmalloc("ffs_igmp_group", sizeof(*g), 0);
		if (!g)
			return;
		g->ops = ops;
		g->port_index = port_index;
		g->group = *group;
		h->g[h->n++] = g;
	}

	bool old_exclude = g->exclude;
	unsigned n_old = g->n_sources;
	struct ip6_addr old[FFS_MAX_GROUP_SOURCES];
	memcpy(old, g->sources, n_old * sizeof(old[0]));
	g->exclude = exclude;
	g->n_sources = 0;
	for (unsigned i = 0; i < n_sources && g->n_sources < FFS_MAX_GROUP_SOURCES; i++)
		add_to(g->sources, &g->n_sources, &sources[i]);
	if (!is_member(g))
		g->resp_at = 0;

	/* Only lcore 0 speaks for the host: every lcore applies the same change. */
	if (lc->index == 0)
		unsolicited(lc, h, g, old_exclude, old, n_old);
	collect(h);
}

void igmp_state_change(struct ffs_lcore *lc, uint16_t port_index, uint32_t group, bool exclude, const uint32_t *sources,
		       unsigned n_sources)
{
	/* RFC 2236 §6: all-systems (224.0.0.1) is joined on every interface and never reported. */
	if (!ipv4_is_multicast(group) || group == IGMP_ALL_HOSTS)
		return;
	struct ip6_addr g, src[FFS_MAX_GROUP_SOURCES];
	ip6_from_v4mapped(group, &g);
	if (n_sources > FFS_MAX_GROUP_SOURCES)
		n_sources = FFS_MAX_GROUP_SOURCES;
	for (unsigned i = 0; i < n_sources; i++)
		ip6_from_v4mapped(sources[i], &src[i]);
	mhost_state_change(lc, &igmp_ops, port_index, &g, exclude, src, n_sources);
}

void igmp_link_up(struct ffs_lcore *lc, uint16_t port_index)
{
	struct igmp_host *h = lc->igmp;
	if (!h || lc->index != 0)
		return;
	/* Reports sent while the link was down were lost: each membership is reported again, as a
	 * fresh join is (Linux's ip_mc_up and ipv6_mc_up do the same). */
	for (unsigned i = 0; i < h->n; i++) {
		struct igmp_group *g = h->g[i];
		if (g->port_index != port_index || !is_member(g))
			continue;
		g->retrans_version = port_mode(lc, h, g->ops, port_index);
		g->retrans_left = IGMP_ROBUSTNESS;
		g->mode_change = g->retrans_version == 3;
		g->n_allow = g->n_block = 0;
		send_change(lc, g);
	}
}

/* --- queries, RFC 3376 §5.2, RFC 2236 §3, RFC 3810 §6.2, RFC 2710 §4 */

/** The older-querier timer's length: RFC 3376 §8.12 (RFC 3810 §9.12), Robustness Variable × Query
 *  Interval + one Query Response Interval (the query's own max response time). */
static uint64_t older_querier_timeout(const struct ffs_lcore *lc, uint32_t max_resp_ms)
{
	return ms_to_tsc(lc, (uint64_t)IGMP_ROBUSTNESS * IGMP_QUERY_INTERVAL_MS + max_resp_ms);
}

static void query_v1v2(struct ffs_lcore *lc, struct igmp_host *h, const struct mhost_ops *ops, uint16_t port_index,
		       const struct mhost_query *q)
{
	uint64_t max = ms_to_tsc(lc, q->max_resp_ms);
	for (unsigned i = 0; i < h->n; i++) {
		struct igmp_group *g = h->g[i];
		if (g->ops != ops || g->port_index != port_index || !is_member(g) || (!q->general && !ip6_eq(&q->group, &g->group)))
			continue;
		/* RFC 2236 §3: "If a timer for the group is already running, it is reset to the random
		 * value only if the requested Max Response Time is less than the remaining value of
		 * the running timer." */
		if (g->resp_at > lc->now && g->resp_at - lc->now <= max)
			continue;
		g->resp_at = deadline(lc, max ? rte_rand_max(max) : 0);
		g->n_resp_sources = 0;
	}
}

static void query_v3(struct ffs_lcore *lc, struct igmp_host *h, const struct mhost_ops *ops, uint16_t port_index,
		     const struct mhost_query *q)
{
	struct igmp_port *p = port_of(h, ops, port_index);
	uint64_t max = ms_to_tsc(lc, q->max_resp_ms);
	uint64_t at = deadline(lc, max ? rte_rand_max(max) : 0);

	/* RFC 3376 §5.2 rule 1: "If there is a pending response to a previous General Query scheduled
	 * sooner than the selected delay, no additional response needs to be scheduled." */
	if (p->general_at && p->general_at <= at)
		return;
	/* Rule 2: a general query (re)schedules the interface timer. */
	if (q->general) {
		p->general_at = at;
		return;
	}
	struct igmp_group *g = find(h, port_index, &q->group);
	if (!g || !is_member(g))
		return;
	if (!g->resp_at) {
		/* Rule 3: a new group timer, recording a group-and-source query's sources. */
		g->resp_at = at;
		g->n_resp_sources = 0;
		bool fits = !q->sources_truncated;
		for (unsigned i = 0; i < q->n_sources && fits; i++)
			fits = add_to(g->resp_sources, &g->n_resp_sources, &q->sources[i]);
		if (!fits)
			g->n_resp_sources = 0; /* answer with the whole state: a superset of the question */
		return;
	}
	/* Rules 4 and 5: one response at the earlier time; a group-specific query, or a pending one,
	 * clears the source list, a group-and-source query augments it. */
	if (at < g->resp_at)
		g->resp_at = at;
	if (q->n_sources == 0 || g->n_resp_sources == 0 || q->sources_truncated) {
		g->n_resp_sources = 0;
		return;
	}
	for (unsigned i = 0; i < q->n_sources; i++)
		if (!add_to(g->resp_sources, &g->n_resp_sources, &q->sources[i])) {
			g->n_resp_sources = 0;
			return;
		}
}

void mhost_query_input(struct ffs_lcore *lc, const struct mhost_ops *ops, const struct ffs_port *port,
		       const struct mhost_query *q)
{
	struct igmp_host *h = host_of(lc);
	if (!h)
		return;
	struct igmp_port *p = port_of(h, ops, port->index);
	/* RFC 3376 §7.2.1, RFC 3810 §8.2.1: a v1 or v2 query (an MLDv1 query) (re)starts that
	 * version's Older Version Querier Present timer; the mode follows from the timers. */
	if (q->version == 1)
		p->v1_until = deadline(lc, older_querier_timeout(lc, q->max_resp_ms));
	else if (q->version == 2)
		p->v2_until = deadline(lc, older_querier_timeout(lc, q->max_resp_ms));
	uint8_t mode = port_mode(lc, h, ops, port->index);
	/* In v1/v2 mode a v3 query is answered as a v2 one (RFC 2236 §2.5: octets past the first 8
	 * are ignored, so its source list plays no part; RFC 3810 §8.2.1 alike). */
	if (mode < 3 || q->version < 3)
		query_v1v2(lc, h, ops, port->index, q);
	else
		query_v3(lc, h, ops, port->index, q);
}

/** RFC 2236 §3 (RFC 2710 §4): "If the host receives another host's Report ... while it has a timer
 *  running, it stops its timer for the specified group and does not send a Membership Report". In
 *  v3 mode reports are never suppressed (RFC 3376 Appendix A.2, RFC 3810 §6.1). */
void mhost_report_input(struct ffs_lcore *lc, const struct mhost_ops *ops, const struct ffs_port *port,
			const struct ip6_addr *group)
{
	if (!lc->igmp || port_mode(lc, lc->igmp, ops, port->index) == 3)
		return;
	struct igmp_group *g = find(lc->igmp, port->index, group);
	if (g)
		g->resp_at = 0;
}

void igmp_input(struct ffs_lcore *lc, const struct ffs_port *port, struct rte_mbuf *m, const struct ipv4_repr *ip)
{
	struct igmp_repr r;
	enum wire_result res = WIRE_TRUNCATED;
	lc->ctr.igmp_rx++;
	/* Devices verify UDP/TCP checksums, never IGMP's: always checked here. A reassembled message
	 * arrives chained. */
	if (m->nb_segs > 1 && rte_pktmbuf_linearize(m) != 0)
		res = WIRE_TRUNCATED;
	else if (rte_pktmbuf_data_len(m) >= ip->payload_len)
		res = igmp_repr_parse(rte_pktmbuf_mtod(m, const uint8_t *), ip->payload_len, &WIRE_CSUM_SOFTWARE, &r);
	if (res != WIRE_OK) {
		if (res == WIRE_BAD_CHECKSUM)
			lc->ctr.igmp_badsum++;
		else
			lc->ctr.igmp_tooshort++;
		goto drop;
	}
	struct ip6_addr group;
	ip6_from_v4mapped(r.group, &group);
	switch (r.type) {
	case IGMP_MEMBERSHIP_QUERY:
		lc->ctr.igmp_queries_in++;
		if (port) {
			struct mhost_query q = { .version = r.version, .max_resp_ms = r.max_resp_ds * 100, .general = r.group == 0,
						 .group = group };
			/* In v3 queries only: a v1/v2 query's sources, if any, are past its 8 octets. */
			unsigned n = r.version == 3 ? r.n_sources : 0;
			q.sources_truncated = n > FFS_MAX_GROUP_SOURCES;
			for (unsigned i = 0; i < n && i < FFS_MAX_GROUP_SOURCES; i++)
				ip6_from_v4mapped(igmp_source(r.sources, i), &q.sources[q.n_sources++]);
			mhost_query_input(lc, &igmp_ops, port, &q);
		}
		break;
	case IGMP_V1_MEMBERSHIP_REPORT:
	case IGMP_V2_MEMBERSHIP_REPORT:
		lc->ctr.igmp_reports_in++;
		if (port)
			mhost_report_input(lc, &igmp_ops, port, &group);
		break;
	case IGMP_V2_LEAVE_GROUP:
	case IGMP_V3_MEMBERSHIP_REPORT:
		lc->ctr.igmp_reports_in++;
		break;
	default:
		lc->ctr.igmp_unknown++;
		break;
	}
drop:
	rte_pktmbuf_free(m);
}

/* --- timers */

/** The answer to a query about g (RFC 3376 §5.2, RFC 3810 §6.3): the whole state, or for a
 *  group-and-source query, "INCLUDE (A*B)" of the queried sources B in INCLUDE (A) mode and
 *  "INCLUDE (B-A)" in EXCLUDE (A) mode; "if the resulting Current-State Record has an empty set of
 *  source addresses, then no response is sent." */
static void add_current_record(struct mhost_report *o, const struct igmp_group *g, bool whole)
{
	if (whole || g->n_resp_sources == 0) {
		v3_add(o, g->exclude ? IGMPV3_MODE_IS_EXCLUDE : IGMPV3_MODE_IS_INCLUDE, &g->group, g->sources, g->n_sources);
		return;
	}
	struct ip6_addr src[FFS_MAX_GROUP_SOURCES];
	unsigned n = 0;
	for (unsigned i = 0; i < g->n_resp_sources; i++)
		if (contains(g->sources, g->n_sources, &g->resp_sources[i]) != g->exclude)
			src[n++] = g->resp_sources[i];
	if (n)
		v3_add(o, IGMPV3_MODE_IS_INCLUDE, &g->group, src, n);
}

static void tick_port(struct ffs_lcore *lc, struct igmp_host *h, const struct mhost_ops *ops, uint16_t port_index)
{
	struct igmp_port *p = port_of(h, ops, port_index);
	uint8_t mode = port_mode(lc, h, ops, port_index);
	struct mhost_report o = { .lc = lc, .port = &lc->st->ports[port_index], .ops = ops };
	bool general = p->general_at && p->general_at <= lc->now;
	if (general)
		p->general_at = 0;

	for (unsigned i = 0; i < h->n; i++) {
		struct igmp_group *g = h->g[i];
		if (g->port_index != port_index || g->ops != ops)
			continue;
		bool due = g->resp_at && g->resp_at <= lc->now;
		if (due)
			g->resp_at = 0;
		if (!is_member(g))
			continue;
		if (mode < 3) {
			if (due)
				ops->send_v2(lc, o.port, mode, false, &g->group);
		} else if (general || due) {
			add_current_record(&o, g, general);
		}
	}
	v3_flush(&o);

	for (unsigned i = 0; i < h->n; i++) {
		struct igmp_group *g = h->g[i];
		if (g->port_index == port_index && g->ops == ops && g->retrans_left && g->retrans_at <= lc->now)
			send_change(lc, g);
	}
}

void igmp_tick(struct ffs_lcore *lc)
{
	mld6_tick(lc);
	struct igmp_host *h = lc->igmp;
	if (!h)
		return;
	for (uint16_t p = 0; p < lc->st->n_ports; p++) {
		tick_port(lc, h, &igmp_ops, p);
		tick_port(lc, h, &mld6_ops, p);
	}
	collect(h);
}
