/*
 * Each lcore's longest-prefix match over the IPv4 routes (storage and concurrency in route.h): a
 * private DPDK rte_fib per lcore, built from the published table, whose next hop is the index of the
 * route in the lcore's copy of that table (its port, gateway and preferred source). Only the owning
 * lcore reads or changes it — lookups on the output path take no lock; after every change route.c
 * publishes, each lcore rebuilds its FIB from the published table when FFS_CTRL_ROUTE_SYNC reaches it
 * (lcore/ctrl.h), and the change returns once all have.
 *
 * The FIB is RTE_FIB_DUMMY, backed by a RIB (a binary trie): a few kilobytes per lcore. RTE_FIB_DIR24_8
 * looks up in one or two memory reads but needs a 16 MB table (tbl24, 1-byte next hops) per lcore,
 * more than the small `[dpdk] memory` the stack runs with; for a host's few routes (FFS_MAX_ROUTES) the
 * trie's walk costs a few tens of nanoseconds (docs/design.md, Routing).
 *
 * The FIB gives exactly the linear scan's answer: the table is sorted longest prefix first, then lowest
 * metric, so the first route to each prefix is the one the scan would stop at, and that one alone goes
 * into the FIB. Should a rebuild fail (out of memory), the lcore scans the table until the next one
 * succeeds.
 */
#include <errno.h>
#include <stdio.h>
#include <rte_errno.h>
#include <rte_fib.h>
#include <rte_malloc.h>

#include "stack/iface/iface.h"
#include "stack/lcore/ctrl.h"
#include "stack/lcore/lcore.h"

/** The FIB's default next hop: no route (a route's next hop is its index, below FFS_MAX_ROUTES). */
#define FIB_NO_ROUTE FFS_MAX_ROUTES

struct route_fib {
	struct rte_fib *fib;
	bool valid;                             /**< false: the last rebuild failed, lookups scan the table */
	unsigned n;
	struct route_slot slot[FFS_MAX_ROUTES]; /**< the routes the FIB holds, in table order; next hop = index */
};

int route_fib_new(struct ffs_lcore *lc, char *err, size_t errlen)
{
	struct route_fib *f = rte_zmalloc("ffs_route_fib", sizeof(*f), RTE_CACHE_LINE_SIZE);
	/* Names are global to every process of the file prefix: the stack's name (a secondary's carries
	 * its pid) and the lcore's index. */
	char name[32];
	snprintf(name, sizeof(name), "%.20s_fib%u", lc->st->name, lc->index);
	struct rte_fib_conf conf = { .type = RTE_FIB_DUMMY, .default_nh = FIB_NO_ROUTE, .max_routes = FFS_MAX_ROUTES };
	if (f)
		f->fib = rte_fib_create(name, SOCKET_ID_ANY, &conf);
	if (!f || !f->fib) {
		snprintf(err, errlen, "creating lcore %u's route table (rte_fib %s) failed: %s (raise [dpdk] memory)", lc->lcore_id,
			 name, f ? rte_strerror(rte_errno) : "out of DPDK memory");
		rte_free(f);
		return -1;
	}
	lc->fib = f;
	return 0;
}

void route_fib_free(struct ffs_lcore *lc)
{
	if (!lc->fib)
		return;
	rte_fib_free(lc->fib->fib);
	rte_free(lc->fib);
	lc->fib = NULL;
}

/** Whether an earlier route in f's copy has the same prefix as route i (the FIB holds only the first). */
static bool prefix_seen(const struct route_fib *f, unsigned i)
{
	for (unsigned k = 0; k < i; k++)
		if (f->slot[k].dest == f->slot[i].dest && f->slot[k].mask == f->slot[i].mask)
			return true;
	return false;
}

void route_fib_sync(struct ffs_lcore *lc)
{
	struct route_fib *f = lc->fib;
	if (!f)
		return;
	for (unsigned i = 0; i < f->n; i++)
		if (!prefix_seen(f, i))
			rte_fib_delete(f->fib, f->slot[i].dest, (uint8_t)route_meta_len(f->slot[i].meta));
	f->n = route_snapshot(lc->st, f->slot);
	f->valid = true;
	for (unsigned i = 0; i < f->n; i++)
		if (!prefix_seen(f, i) && rte_fib_add(f->fib, f->slot[i].dest, (uint8_t)route_meta_len(f->slot[i].meta), i) != 0)
			f->valid = false;
}

int route_fib_sync_all(struct ffs_stack *st)
{
	struct ffs_ctrl_msg *msg = ffs_ctrl_new(FFS_CTRL_ROUTE_SYNC);
	return msg ? ffs_ctrl_all_put(st, msg) : -ENOMEM;
}

const struct ffs_port *route_fib_lookup(struct ffs_lcore *lc, uint32_t dst, uint32_t *nexthop, uint32_t *src)
{
	const struct route_fib *f = lc->fib;
	if (!f || !f->valid) {
		uint32_t scan_src;
		return route_lookup_src(lc->st, dst, nexthop, src ? src : &scan_src);
	}
	uint64_t nh = FIB_NO_ROUTE;
	rte_fib_lookup_bulk(f->fib, &dst, &nh, 1);
	if (nh >= f->n)
		return NULL;
	const struct route_slot *r = &f->slot[nh];
	unsigned port = route_meta_port(r->meta);
	if (port >= lc->st->n_ports)
		return NULL;
	*nexthop = r->gateway ? r->gateway : dst;
	if (src)
		*src = r->src;
	return &lc->st->ports[port];
}
