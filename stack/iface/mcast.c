/*
 * The interfaces' multicast memberships, as the control plane keeps them (RFC 3376 §3.2's and RFC
 * 3810 §4.2's interface state, computed from the sockets' own memberships): for each (port, group)
 * of either family, how many memberships it has from any source and from which sources, and
 * whether the lcores were told. IPv4 groups are kept as IPv4-mapped addresses beside IPv6 ones.
 * Every change recomputes the interface state and tells every lcore: IP input accepts a group while
 * anyone is a member (GROUP_ADD, GROUP_DEL), and IGMP or MLD (igmp.c, mld6.c) reports each change
 * (IGMP_STATE, MLD_STATE). Loopback memberships use port index FFS_MAX_PORTS: IP input accepts their
 * groups on looped-back datagrams and IGMP/MLD, which report only on real ports, never hear of them.
 * Owns: ffs_stack.mcast. Runs on application threads under the socket namespace lock (ns_lock).
 * May call: lcore/ctrl.h.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "stack/iface/iface.h"
#include "stack/lcore/ctrl.h"

#define LOOPBACK_INDEX FFS_MAX_PORTS
#define LOOPBACK_IFADDR 0x7f000001u

/** Source-specific memberships of one source. */
struct mcast_source {
	struct ip6_addr addr;
	unsigned refs;
};

/** One group on one port. Kept while a socket is a member or the lcores still have it. */
struct mcast_group {
	uint16_t port_index;
	struct ip6_addr group; /**< IPv4-mapped for an IPv4 group */
	bool joined;    /**< the lcores were told it is joined (GROUP_ADD) */
	unsigned any;   /**< any-source memberships */
	unsigned n_sources, cap;
	struct mcast_source *sources; /**< sources with memberships, in the order first joined */
};

/** ffs_stack.mcast: the groups joined on every port. */
struct mcast_table {
	unsigned n;
	struct mcast_group g[FFS_MAX_GROUPS];
};

uint32_t mcast_if_addr(const struct ffs_stack *st, unsigned port_index)
{
	return port_index == LOOPBACK_INDEX ? LOOPBACK_IFADDR : st->ports[port_index].addr;
}

int mcast_if_port(const struct ffs_stack *st, uint32_t ifaddr)
{
	if (ipv4_is_loopback(ifaddr))
		return LOOPBACK_INDEX;
	/* No address: the first port (the multicast route's); none without ports, as Linux with no route. */
	if (st->n_ports == 0)
		return -1;
	if (ifaddr == 0)
		return 0;
	for (unsigned i = 0; i < st->n_ports; i++)
		if (route_port_has_addr(&st->ports[i], ifaddr))
			return (int)i;
	return -1;
}

static struct mcast_group *find(struct mcast_table *t, uint16_t port_index, const struct ip6_addr *group)
{
	for (unsigned i = 0; t && i < t->n; i++)
		if (t->g[i].port_index == port_index && ip6_eq(&t->g[i].group, group))
			return &t->g[i];
	return NULL;
}

/** Drops g from the table once no socket is a member and the lcores no longer have it. */
static void collect(struct mcast_table *t, struct mcast_group *g)
{
	if (g->joined || g->any || g->n_sources)
		return;
	free(g->sources);
	*g = t->g[--t->n];
}

/** A GROUP_ADD, GROUP_DEL or IGMP_STATE/MLD_STATE message about `group` on a port, or NULL when out
 *  of memory. */
static struct ffs_ctrl_msg *group_msg_new(enum ffs_ctrl_op op, uint16_t port_index, const struct ip6_addr *group)
{
	struct ffs_ctrl_msg *msg = ffs_ctrl_new(op);
	if (msg) {
		bool v4 = ip6_is_v4mapped(group);
		msg->u.group.port_index = port_index;
		msg->u.group.family = v4 ? 4 : 6;
		msg->u.group.group = v4 ? ip6_to_v4(group) : 0;
		msg->u.group.group6 = *group;
	}
	return msg;
}

/** Tells every lcore that `group` is (GROUP_ADD) or is no longer (GROUP_DEL) joined on a port. */
static int group_msg(struct ffs_stack *st, enum ffs_ctrl_op op, uint16_t port_index, const struct ip6_addr *group)
{
	struct ffs_ctrl_msg *msg = group_msg_new(op, port_index, group);
	return msg ? ffs_ctrl_all_put(st, msg) : -ENOMEM;
}

/* Tells the lcores the port's membership of `group` (g, or NULL for none): any-source memberships
 * make it EXCLUDE{}, source-specific ones INCLUDE{sources}; a group becoming (or ceasing to be)
 * joined is announced first. */
static int update(struct ffs_stack *st, uint16_t port_index, const struct ip6_addr *group, struct mcast_group *g)
{
	bool v4 = ip6_is_v4mapped(group);
	struct ffs_ctrl_msg *state = group_msg_new(v4 ? FFS_CTRL_IGMP_STATE : FFS_CTRL_MLD_STATE, port_index, group);
	if (!state)
		return -ENOMEM;
	bool member = g && (g->any || g->n_sources);
	state->u.group.exclude = g && g->any;
	for (unsigned i = 0; g && !g->any && i < g->n_sources && i < FFS_MAX_GROUP_SOURCES; i++) {
		unsigned k = state->u.group.n_sources++;
		if (v4)
			state->u.group.sources[k] = ip6_to_v4(&g->sources[i].addr);
		else
			state->u.group.sources6[k] = g->sources[i].addr;
	}
	int rc = 0;
	if (member && !g->joined) {
		g->joined = true;
		rc = group_msg(st, FFS_CTRL_GROUP_ADD, port_index, group);
	} else if (!member && g && g->joined) {
		g->joined = false;
		rc = group_msg(st, FFS_CTRL_GROUP_DEL, port_index, group);
	}
	if (g && !member)
		collect(st->mcast, g);
	if (rc < 0) {
		ffs_ctrl_put(state);
		return rc;
	}
	return ffs_ctrl_all_put(st, state);
}

/** Counts one membership in (delta 1) or out (delta -1); false when a source cannot be added. */
static bool count(struct mcast_group *g, const struct ip6_addr *source, int delta)
{
	if (!source) {
		g->any += (unsigned)delta;
		return true;
	}
	unsigned i = 0;
	while (i < g->n_sources && !ip6_eq(&g->sources[i].addr, source))
		i++;
	if (i == g->n_sources) {
		if (delta < 0)
			return true;
		if (g->n_sources == g->cap) {
			unsigned cap = g->cap ? g->cap * 2 : 8;
			struct mcast_source *s = realloc(g->sources, cap * sizeof(*s));
			if (!s)
				return false;
			g->sources = s;
			g->cap = cap;
		}
		g->sources[g->n_sources++] = (struct mcast_source){ *source, 0 };
	}
	g->sources[i].refs += (unsigned)delta;
	if (g->sources[i].refs == 0) {
		memmove(&g->sources[i], &g->sources[i + 1], (g->n_sources - i - 1) * sizeof(g->sources[0]));
		g->n_sources--;
	}
	return true;
}

/** The IPv4-mapped form of a host-order IPv4 address, or NULL for 0 (any source). */
static const struct ip6_addr *mapped(uint32_t v4, struct ip6_addr *buf)
{
	if (!v4)
		return NULL;
	ip6_from_v4mapped(v4, buf);
	return buf;
}

/** Counts a membership of `group` (either family) from `source` (NULL: any) in. */
static int join(struct ffs_stack *st, uint16_t port_index, const struct ip6_addr *group, const struct ip6_addr *source)
{
	if (!st->mcast && !(st->mcast = calloc(1, sizeof(*st->mcast))))
		return -ENOMEM;
	struct mcast_table *t = st->mcast;
	struct mcast_group *g = find(t, port_index, group);
	if (!g) {
		if (t->n == FFS_MAX_GROUPS)
			return -ENOBUFS;
		g = &t->g[t->n++];
		*g = (struct mcast_group){ .port_index = port_index, .group = *group };
	}
	if (!count(g, source, 1)) {
		collect(t, g);
		return -ENOMEM;
	}
	int rc = update(st, port_index, group, g);
	if (rc < 0) {
		/* The socket is no member; the lcores keep a group they were told of until its next change. */
		count(g, source, -1);
		collect(t, g);
	}
	return rc;
}

/** Counts a membership of `group` (either family) from `source` (NULL: any) out. */
static int leave(struct ffs_stack *st, uint16_t port_index, const struct ip6_addr *group, const struct ip6_addr *source)
{
	struct mcast_group *g = find(st->mcast, port_index, group);
	if (g)
		count(g, source, -1);
	return update(st, port_index, group, g);
}

int mcast_join(struct ffs_stack *st, uint16_t port_index, uint32_t group, uint32_t source)
{
	struct ip6_addr g, s;
	ip6_from_v4mapped(group, &g);
	return join(st, port_index, &g, mapped(source, &s));
}

int mcast_leave(struct ffs_stack *st, uint16_t port_index, uint32_t group, uint32_t source)
{
	struct ip6_addr g, s;
	ip6_from_v4mapped(group, &g);
	return leave(st, port_index, &g, mapped(source, &s));
}

int mcast_join6(struct ffs_stack *st, uint16_t port_index, const struct ip6_addr *group, const struct ip6_addr *source)
{
	if (!ip6_is_multicast(group))
		return -EINVAL;
	return join(st, port_index, group, source && !ip6_is_unspecified(source) ? source : NULL);
}

int mcast_leave6(struct ffs_stack *st, uint16_t port_index, const struct ip6_addr *group, const struct ip6_addr *source)
{
	if (!ip6_is_multicast(group))
		return -EINVAL;
	return leave(st, port_index, group, source && !ip6_is_unspecified(source) ? source : NULL);
}

void mcast_leave_all(struct ffs_stack *st, const struct ffs_membership *m, unsigned n)
{
	struct ip6_addr g, s;
	for (unsigned i = 0; i < n; i++) {
		int pi = mcast_if_port(st, m[i].ifaddr);
		ip6_from_v4mapped(m[i].group, &g);
		struct mcast_group *mg = pi < 0 ? NULL : find(st->mcast, (uint16_t)pi, &g);
		if (mg)
			count(mg, mapped(m[i].source, &s), -1);
	}
	/* Each group's state once every membership is out of it, as the last socket's close leaves it. */
	for (unsigned i = n; i-- > 0;) {
		int pi = mcast_if_port(st, m[i].ifaddr);
		ip6_from_v4mapped(m[i].group, &g);
		if (pi >= 0)
			update(st, (uint16_t)pi, &g, find(st->mcast, (uint16_t)pi, &g));
	}
}

void mcast_free(struct ffs_stack *st)
{
	for (unsigned i = 0; st->mcast && i < st->mcast->n; i++)
		free(st->mcast->g[i].sources);
	free(st->mcast);
	st->mcast = NULL;
}
