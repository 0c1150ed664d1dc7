/*
 * The pieces of the control commands' replies that more than one command writes (a port's name and
 * ids, its addresses, its device counters) and the counters totalled over lcores, which the control
 * socket and the telemetry commands both report. Each writes into the object the caller has begun.
 */
#ifndef FFNET_CTL_REPORT_H
#define FFNET_CTL_REPORT_H

#include "stack/ctl/json.h"
#include "stack/lcore/lcore.h"

/** {"index", "port_id", "name"} of port index i, as an object. */
void ffs_ctl_port_brief(struct ffs_json *out, const struct ffs_stack *st, unsigned i);

/** "driver", "mac", "inet", "prefixlen", "netmask", "broadcast", "mtu", "vlan" (802.1Q VID, 0 = untagged),
 *  "vlan_hw_rx" and "vlan_hw_tx" (the device strips / inserts the tag) of a port. */
void ffs_ctl_kv_port_addrs(struct ffs_json *out, const struct ffs_port_info *p);

/** Port index i's IPv6: "ipv6" (on or off), "mtu6" and "hoplimit6" (as router advertisements set
 *  them), and "inet6", its addresses with prefix length, scope id
 *  (link-local ones), state, origin, FreeBSD's flags and lifetimes (null: forever). */
void ffs_ctl_kv_port_inet6(struct ffs_json *out, const struct ffs_stack *st, unsigned i);

/** "stats": the port's device counters (rte_eth_stats), as an object. */
void ffs_ctl_kv_port_stats(struct ffs_json *out, const struct ffs_port_info *p);

/**
 * Every lcore's counters into per[i] (when per is not NULL) and their sum into *total; lcore ids
 * into ids[i] (when not NULL).
 */
void ffs_ctl_counters_total(const struct ffs_stack *st, struct ffs_counters *per, unsigned *ids,
			    struct ffs_counters *total);

#endif
