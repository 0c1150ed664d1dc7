/*
 * Neighbour cache storage (see neigh.h): hashing, probing, deletion and hold queues. The ARP
 * protocol logic that drives entries between states lives in iface/arp.c.
 */
#include <string.h>
#include <rte_mbuf.h>

#include "stack/iface/neigh.h"
#include "stack/lcore/lcore.h"
#include "stack/phy/mbuf.h"

static inline uint32_t slot_of(uint16_t port_index, uint32_t addr)
{
	/* Fibonacci hashing: the low bits of addresses in one subnet are dense, so multiply to spread them. */
	uint32_t h = (addr ^ ((uint32_t)port_index << 24)) * 2654435761u;
	return h >> (32 - 10) & (NEIGH_TABLE_SIZE - 1);
}

_Static_assert(NEIGH_TABLE_SIZE == 1 << 10, "slot_of assumes 1024 slots");

struct neigh_entry *neigh_lookup(struct neigh_table *t, uint16_t port_index, uint32_t addr)
{
	for (uint32_t i = slot_of(port_index, addr), n = 0; n < NEIGH_TABLE_SIZE; i = (i + 1) & (NEIGH_TABLE_SIZE - 1), n++) {
		struct neigh_entry *e = &t->slots[i];
		if (e->addr == 0)
			return NULL;
		if (e->addr == addr && e->port_index == port_index)
			return e;
	}
	return NULL;
}

struct neigh_entry *neigh_insert(struct neigh_table *t, uint16_t port_index, uint32_t addr, uint32_t max)
{
	for (uint32_t i = slot_of(port_index, addr), n = 0; n < NEIGH_TABLE_SIZE; i = (i + 1) & (NEIGH_TABLE_SIZE - 1), n++) {
		struct neigh_entry *e = &t->slots[i];
		if (e->addr == addr && e->port_index == port_index)
			return e;
		if (e->addr == 0) {
			if (t->count >= max || t->count >= NEIGH_MAX_ENTRIES)
				return NULL;
			memset(e, 0, sizeof(*e));
			e->addr = addr;
			e->port_index = port_index;
			e->state = FFS_NEIGH_INCOMPLETE;
			t->count++;
			return e;
		}
	}
	return NULL;
}

enum neigh_class neigh_class_of(const struct neigh_entry *e)
{
	switch (e->state) {
	case FFS_NEIGH_PERMANENT: return NEIGH_CLASS_PERMANENT;
	case FFS_NEIGH_INCOMPLETE: return NEIGH_CLASS_INCOMPLETE;
	case FFS_NEIGH_FAILED: return NEIGH_CLASS_UNUSED;
	default: return e->passive ? NEIGH_CLASS_UNUSED : NEIGH_CLASS_USED;
	}
}

struct neigh_entry *neigh_victim(struct neigh_table *t, enum neigh_class worst)
{
	struct neigh_entry *best = NULL;
	enum neigh_class best_class = NEIGH_CLASS_PERMANENT;
	for (unsigned i = 0; i < NEIGH_TABLE_SIZE; i++) {
		struct neigh_entry *e = &t->slots[i];
		if (e->addr == 0)
			continue;
		enum neigh_class c = neigh_class_of(e);
		if (c > worst || c == NEIGH_CLASS_PERMANENT)
			continue;
		if (!best || c < best_class || (c == best_class && e->used < best->used)) {
			best = e;
			best_class = c;
		}
	}
	return best;
}

static void free_chain(struct rte_mbuf *m, unsigned *n)
{
	while (m) {
		struct rte_mbuf *next = *ffs_mbuf_link(m);
		rte_pktmbuf_free(m);
		m = next;
		if (n)
			(*n)++;
	}
}

void neigh_remove(struct neigh_table *t, struct neigh_entry *e, unsigned *dropped)
{
	if (dropped)
		*dropped = 0;
	free_chain(neigh_take_held(e), dropped);
	/* Backward-shift deletion keeps every remaining entry reachable from its home slot without tombstones. */
	uint32_t hole = (uint32_t)(e - t->slots);
	uint32_t i = hole;
	for (;;) {
		i = (i + 1) & (NEIGH_TABLE_SIZE - 1);
		struct neigh_entry *c = &t->slots[i];
		if (c->addr == 0)
			break;
		uint32_t home = slot_of(c->port_index, c->addr);
		/* c may move into the hole only if its home is not cyclically in (hole, i]. */
		bool home_in_range = hole <= i ? (home > hole && home <= i) : (home > hole || home <= i);
		if (!home_in_range) {
			t->slots[hole] = *c;
			hole = i;
		}
	}
	memset(&t->slots[hole], 0, sizeof(t->slots[hole]));
	t->count--;
}

struct rte_mbuf *neigh_hold(struct neigh_entry *e, struct rte_mbuf *m, uint32_t max_held)
{
	*ffs_mbuf_link(m) = NULL;
	if (e->held_tail)
		*ffs_mbuf_link(e->held_tail) = m;
	else
		e->held_head = m;
	e->held_tail = m;
	e->n_held++;
	if (e->n_held <= max_held)
		return NULL;
	struct rte_mbuf *oldest = e->held_head;
	e->held_head = *ffs_mbuf_link(oldest);
	e->n_held--;
	return oldest;
}

struct rte_mbuf *neigh_take_held(struct neigh_entry *e)
{
	struct rte_mbuf *head = e->held_head;
	e->held_head = e->held_tail = NULL;
	e->n_held = 0;
	return head;
}

void neigh_clear(struct neigh_table *t)
{
	for (unsigned i = 0; i < NEIGH_TABLE_SIZE; i++)
		if (t->slots[i].addr)
			free_chain(neigh_take_held(&t->slots[i]), NULL);
	memset(t, 0, sizeof(*t));
}
