/*
 * The routing table's storage (iface/route.c owns it): every port's address, netmask and broadcast,
 * and the routes — connected subnets, the configured gateway as the default route, static routes —
 * sorted by prefix length, longest first, then by metric, lowest first, so the first match is the
 * longest-prefix match and, among routes to one prefix, the one of lowest metric (as Linux).
 *
 * Readers are lcores (per packet) and application threads (route_source before a send): they never
 * lock and never wait for a writer. A writer (the control plane, rare; writers serialise on
 * `write_lock`) makes its change in `staged`, then publishes it into two copies under a latch
 * (iface/latch.h): a reader always finds a complete table — never a half-written route or an
 * address paired with another netmask.
 * The table is the source of truth: application threads, dumps and the control commands scan it
 * linearly (a host has few routes, at most FFS_MAX_ROUTES). Each lcore routes its packets through a
 * private copy compiled into DPDK's rte_fib (iface/route_fib.c), rebuilt by the lcore itself from the
 * published table when a change tells it to (FFS_CTRL_ROUTE_SYNC): per-packet lookups take no lock.
 */
#ifndef FFNET_IFACE_ROUTE_H
#define FFNET_IFACE_ROUTE_H

#include <pthread.h>
#include <stdint.h>

#include "stack/stack.h"

/** One route: destination, mask, gateway (0 = on-link), (port index | prefix length << 16 | flags << 24),
 *  preferred source (0 = the port's address) and metric (lowest first among routes of one prefix). */
struct route_slot {
	uint32_t dest, mask, gateway, meta, src, metric;
};

static inline uint32_t route_meta_of(unsigned port_index, unsigned len, unsigned flags)
{
	return (uint32_t)port_index | (uint32_t)len << 16 | (uint32_t)flags << 24;
}
static inline unsigned route_meta_port(uint32_t m) { return m & 0xffff; }
static inline unsigned route_meta_len(uint32_t m) { return (m >> 16) & 0xff; }
static inline unsigned route_meta_flags(uint32_t m) { return m >> 24; }

/** One copy of the table. */
struct route_data {
	uint32_t n;
	/** addr, netmask, broadcast of each port. */
	uint32_t ifa[FFS_MAX_PORTS][3];
	struct route_slot r[FFS_MAX_ROUTES];
};

struct route_table {
	uint32_t seq;                /**< the latch: readers use copy[seq & 1] */
	struct route_data copy[2];
	pthread_mutex_t write_lock;
	struct route_data staged;    /**< the writer's working copy, under write_lock */
};

/** A consistent snapshot of the published routes, in table order (longest prefix first, then lowest
 *  metric); returns how many. Any thread. */
unsigned route_snapshot(const struct ffs_stack *st, struct route_slot out[FFS_MAX_ROUTES]);

#endif
