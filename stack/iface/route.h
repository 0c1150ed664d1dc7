/*
 * The routing table's storage (iface/route.c owns it): every port's address, netmask and broadcast,
 * and the routes — connected subnets, the configured gateway as the default route, static routes —
 * sorted by prefix length, longest first, so the first match is the longest-prefix match.
 *
 * Readers are lcores (per packet) and application threads (route_source before a send): they never
 * lock. Writers (the control plane, rare) serialise on `write_lock` and publish under a sequence
 * counter (DPDK's rte_seqcount): a reader that overlapped a write retries, so it never acts on a
 * half-written route or an address paired with another netmask. Every word is read and written
 * with relaxed atomics (the counter's fences order them), so the table holds no data race.
 * A linear scan suits the few routes of a host; rte_fib can take its place behind route.c.
 */
#ifndef FFNET_IFACE_ROUTE_H
#define FFNET_IFACE_ROUTE_H

#include <pthread.h>
#include <stdint.h>
#include <rte_seqcount.h>

#include "stack/stack.h"

/** One route: destination, mask, gateway (0 = on-link) and (port index | prefix length << 16 | flags << 24). */
struct route_slot {
	uint32_t dest, mask, gateway, meta;
};

struct route_table {
	rte_seqcount_t seq;
	pthread_mutex_t write_lock;
	uint32_t n;
	/** addr, netmask, broadcast of each port. */
	uint32_t ifa[FFS_MAX_PORTS][3];
	struct route_slot r[FFS_MAX_ROUTES];
};

#endif
