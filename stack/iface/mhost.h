/*
 * The multicast listener host state machine that IGMP (RFC 3376, RFC 2236) and MLD (RFC 3810, RFC
 * 2710) share — iface/igmp.c — as the two protocols' own code (igmp.c's frames, mld6.c) sees it.
 * MLDv2 is IGMPv3 translated to IPv6 and MLDv1 is IGMPv2 (RFC 3810 §1, RFC 2710 §1): one machine
 * runs both, in compatibility modes numbered as IGMP's (1, 2, 3; MLDv1 = 2, MLDv2 = 3), over
 * addresses kept as IPv6 (an IPv4 group as its IPv4-mapped address). Each family supplies its
 * frames through a struct mhost_ops.
 */
#ifndef FFNET_IFACE_MHOST_H
#define FFNET_IFACE_MHOST_H

#include <stdbool.h>
#include <stdint.h>
#include <rte_mbuf.h>

#include "stack/lcore/lcore.h"
#include "stack/wire/icmp6.h"
#include "stack/wire/igmp.h"
#include "stack/wire/ipv6.h"

/** A report being filled on one port; sent when the next record would not fit the MTU. */
struct mhost_report {
	struct ffs_lcore *lc;
	const struct ffs_port *port;
	const struct mhost_ops *ops;
	struct rte_mbuf *m;
	union {
		struct igmpv3_report_builder b4;
		struct mldv2_report_builder b6;
	};
	uint16_t n_records;
};

/** A family's frames. */
struct mhost_ops {
	uint8_t family; /**< 4 or 6: the lcore's host state keeps each family's ports apart */
	/** The highest compatibility mode the family's version tunable allows (2 or 3). */
	uint8_t (*max_mode)(const struct ffs_lcore *lc);
	/** Sends a v1/v2 report (mode 1: IGMPv1's) or, when `leave`, a v2 leave / MLDv1 done, about group. */
	void (*send_v2)(struct ffs_lcore *lc, const struct ffs_port *port, uint8_t mode, bool leave,
			const struct ip6_addr *group);
	/** Starts a v3 report in o->m, within the port's MTU. */
	void (*v3_begin)(struct mhost_report *o);
	/** Adds a record to o's report; false when it does not fit. */
	bool (*v3_add)(struct mhost_report *o, uint8_t type, const struct ip6_addr *group, const struct ip6_addr *sources,
		       unsigned n);
	/** Finishes o's report (at least one record) and sends it; consumes o->m. */
	void (*v3_send)(struct mhost_report *o);
};

extern const struct mhost_ops igmp_ops, mld6_ops;

/** A query, in either family's terms: version 1..3 as IGMP's (MLDv1 = 2, MLDv2 = 3). */
struct mhost_query {
	uint8_t version;
	uint32_t max_resp_ms;
	bool general;           /**< no group: every membership is asked about */
	struct ip6_addr group;
	unsigned n_sources;
	bool sources_truncated; /**< more sources than kept: answered with the whole state */
	struct ip6_addr sources[FFS_MAX_GROUP_SOURCES];
};

/** A group's membership changed on a port (see igmp_state_change). */
void mhost_state_change(struct ffs_lcore *lc, const struct mhost_ops *ops, uint16_t port_index,
			const struct ip6_addr *group, bool exclude, const struct ip6_addr *sources, unsigned n_sources);
/** A query received on port. */
void mhost_query_input(struct ffs_lcore *lc, const struct mhost_ops *ops, const struct ffs_port *port,
		       const struct mhost_query *q);
/** Another host's v1/v2 report of group (suppresses ours in v1/v2 mode). */
void mhost_report_input(struct ffs_lcore *lc, const struct mhost_ops *ops, const struct ffs_port *port,
			const struct ip6_addr *group);
/** A fresh frame with headroom for the headers prepended to a message, or NULL. */
struct rte_mbuf *mhost_alloc_frame(struct ffs_lcore *lc, unsigned headroom);

#endif
