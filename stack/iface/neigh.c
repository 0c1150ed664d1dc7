/*
 * Neighbour cache storage and state machine (see neigh.h): hashing, probing, deletion, hold queues,
 * and the resolution, confirmation, retry and aging every family shares. What solicits a neighbour
 * and what a received packet teaches live in iface/arp.c (IPv4) and iface/nd6.c (IPv6).
 */
#include <errno.h>
#include <limits.h>
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

/** An IPv6 address's key: its words folded, never 0 (a free slot's mark). */
static uint32_t fold6(const struct ip6_addr *a)
{
	uint32_t w[4];
	memcpy(w, a->b, sizeof(w));
	uint32_t f = w[0] ^ w[1] ^ w[2] ^ w[3];
	return f ? f : 1;
}

/** Probes for (port, addr[, a6]); `insert_max` > 0 creates a missing entry within that bound. Inlined
 *  into each caller, so IPv4's probe (a6 constant NULL) compares what it always did. */
static inline __attribute__((always_inline)) struct neigh_entry *probe(struct neigh_table *t, uint16_t port_index,
								      uint32_t addr, const struct ip6_addr *a6,
								      bool insert, uint32_t max)
{
	for (uint32_t i = slot_of(port_index, addr), n = 0; n < NEIGH_TABLE_SIZE; i = (i + 1) & (NEIGH_TABLE_SIZE - 1), n++) {
		struct neigh_entry *e = &t->slots[i];
		if (e->addr == addr && e->port_index == port_index && (!a6 || ip6_eq(&t->addr6[i], a6)))
			return e;
		if (e->addr == 0) {
			if (!insert || t->count >= max || t->count >= NEIGH_MAX_ENTRIES)
				return NULL;
			memset(e, 0, sizeof(*e));
			e->addr = addr;
			e->port_index = port_index;
			e->state = FFS_NEIGH_INCOMPLETE;
			if (a6)
				t->addr6[i] = *a6;
			t->count++;
			return e;
		}
	}
	return NULL;
}

struct neigh_entry *neigh_lookup(struct neigh_table *t, uint16_t port_index, uint32_t addr)
{
	return probe(t, port_index, addr, NULL, false, 0);
}

struct neigh_entry *neigh6_lookup(struct neigh_table *t, uint16_t port_index, const struct ip6_addr *a)
{
	return probe(t, port_index, fold6(a), a, false, 0);
}

struct neigh_entry *neigh_insert(struct neigh_table *t, uint16_t port_index, struct neigh_key k, uint32_t max)
{
	if (k.a6)
		return probe(t, port_index, fold6(k.a6), k.a6, true, max);
	return probe(t, port_index, k.addr, NULL, true, max);
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
			if (t->v6)
				t->addr6[hole] = t->addr6[i];
			hole = i;
		}
	}
	memset(&t->slots[hole], 0, sizeof(t->slots[hole]));
	t->count--;
}

/** Whether one more packet of `len` bytes would take the queue past `lim`. */
static bool hold_over(const struct neigh_entry *e, uint32_t len, struct neigh_hold_limit lim)
{
	return (uint64_t)e->held_bytes + len > lim.bytes || (lim.packets && e->n_held + 1 > lim.packets);
}

unsigned neigh_hold(struct neigh_entry *e, struct rte_mbuf *m, struct neigh_hold_limit lim)
{
	uint32_t len = rte_pktmbuf_pkt_len(m);
	unsigned dropped = 0;
	while (e->held_head && hold_over(e, len, lim)) {
		struct rte_mbuf *oldest = e->held_head;
		e->held_head = *ffs_mbuf_link(oldest);
		if (!e->held_head)
			e->held_tail = NULL;
		e->n_held--;
		e->held_bytes -= rte_pktmbuf_pkt_len(oldest);
		rte_pktmbuf_free(oldest);
		dropped++;
	}
	*ffs_mbuf_link(m) = NULL;
	if (e->held_tail)
		*ffs_mbuf_link(e->held_tail) = m;
	else
		e->held_head = m;
	e->held_tail = m;
	e->n_held++;
	e->held_bytes += len;
	return dropped;
}

struct rte_mbuf *neigh_take_held(struct neigh_entry *e)
{
	struct rte_mbuf *head = e->held_head;
	e->held_head = e->held_tail = NULL;
	e->n_held = 0;
	e->held_bytes = 0;
	return head;
}

void neigh_clear(struct neigh_table *t)
{
	for (unsigned i = 0; i < NEIGH_TABLE_SIZE; i++)
		if (t->slots[i].addr)
			free_chain(neigh_take_held(&t->slots[i]), NULL);
	bool v6 = t->v6;
	memset(t, 0, sizeof(*t));
	t->v6 = v6;
}

/* The state machine. */

static inline uint64_t *ctr(struct ffs_lcore *lc, size_t off)
{
	return (uint64_t *)((char *)&lc->ctr + off);
}

struct neigh_table *neigh_table_of(struct ffs_lcore *lc, const struct neigh_proto *p)
{
	return (struct neigh_table *)((char *)lc + p->table);
}

/** lc's clock in ms, modulo 2^32 (the same TSC on every lcore). */
static uint32_t now_ms(const struct ffs_lcore *lc)
{
	return (uint32_t)(lc->now / (lc->st->tsc_hz / 1000));
}

static uint32_t asked_key(struct neigh_key k)
{
	return k.a6 ? fold6(k.a6) : k.addr;
}

void neigh_asked_note(struct ffs_lcore *lc, const struct neigh_proto *p, struct neigh_key k)
{
	struct neigh_asked *a = (struct neigh_asked *)((char *)lc + p->asked);
	atomic_store_explicit(&a->v[a->next++ % NEIGH_ASKED], (uint64_t)asked_key(k) << 32 | now_ms(lc), memory_order_release);
}

bool neigh_asked_by_stack(const struct ffs_lcore *lc, const struct neigh_proto *p, struct neigh_key k)
{
	const struct ffs_stack *st = lc->st;
	uint32_t window = (uint32_t)(ffs_sysctl(st, p->maxtries) * ffs_sysctl(st, p->rexmit_ms));
	uint32_t now = now_ms(lc), key = asked_key(k);
	for (unsigned i = 0; i < st->n_lcores; i++) {
		const struct neigh_asked *a = (const struct neigh_asked *)((const char *)st->lcores[i] + p->asked);
		for (unsigned j = 0; j < NEIGH_ASKED; j++) {
			uint64_t v = atomic_load_explicit(&a->v[j], memory_order_acquire);
			/* Another lcore's stamp may be a little ahead of lc's clock (its turn began later): allowed for 1 s. */
			if ((uint32_t)(v >> 32) == key && now - (uint32_t)v + 1000u <= window + 1000u)
				return true;
		}
	}
	return false;
}

struct neigh_entry *neigh_new(struct ffs_lcore *lc, const struct neigh_proto *p, uint16_t port_index, struct neigh_key k,
			      enum neigh_class worst, bool count)
{
	struct neigh_table *t = neigh_table_of(lc, p);
	uint32_t max = (uint32_t)ffs_sysctl(lc->st, p->max_entries);
	struct neigh_entry *e;
	while (!(e = neigh_insert(t, port_index, k, max))) {
		struct neigh_entry *victim = neigh_victim(t, worst);
		if (!victim) {
			if (count)
				(*ctr(lc, p->ctr_table_full))++;
			return NULL;
		}
		unsigned dropped;
		neigh_remove(t, victim, &dropped);
		*ctr(lc, p->ctr_hold_dropped) += dropped;
		if (count)
			(*ctr(lc, p->ctr_evicted))++;
	}
	e->used = lc->now;
	return e;
}

static void send_resolved(struct ffs_lcore *lc, const struct ffs_port *port, struct rte_mbuf *m, const struct eth_addr *mac)
{
	struct eth_hdr *eh = rte_pktmbuf_mtod(m, struct eth_hdr *);
	eh->dst = *mac;
	ffs_tx_enqueue(lc, port->index, m);
}

static void flush_held(struct ffs_lcore *lc, struct neigh_entry *e)
{
	const struct ffs_port *port = &lc->st->ports[e->port_index];
	struct rte_mbuf *m = neigh_take_held(e);
	while (m) {
		struct rte_mbuf *next = *ffs_mbuf_link(m);
		send_resolved(lc, port, m, &e->mac);
		m = next;
	}
}

void neigh_confirm(struct ffs_lcore *lc, const struct neigh_proto *p, struct neigh_entry *e, const struct eth_addr *mac)
{
	e->mac = *mac;
	e->state = FFS_NEIGH_REACHABLE;
	e->deadline = lc->now + (uint64_t)ffs_sysctl(lc->st, p->max_age) * lc->st->tsc_hz;
	flush_held(lc, e);
}

int neigh_resolve_and_send(struct ffs_lcore *lc, const struct neigh_proto *p, const struct ffs_port *port,
			   struct neigh_key k, struct rte_mbuf *m)
{
	struct neigh_table *t = neigh_table_of(lc, p);
	struct neigh_entry *e = k.a6 ? neigh6_lookup(t, port->index, k.a6) : neigh_lookup(t, port->index, k.addr);
	if (e) {
		switch (e->state) {
		case FFS_NEIGH_REACHABLE:
		case FFS_NEIGH_PERMANENT:
			e->used = lc->now;
			e->passive = false;
			send_resolved(lc, port, m, &e->mac);
			return 0;
		case FFS_NEIGH_FAILED:
			(*ctr(lc, p->ctr_hold_dropped))++;
			rte_pktmbuf_free(m);
			return -EHOSTDOWN;
		default:
			break;
		}
	} else {
		e = neigh_new(lc, p, port->index, k, NEIGH_CLASS_INCOMPLETE, true);
		if (!e) {
			rte_pktmbuf_free(m);
			return -ENOBUFS;
		}
		e->tries = 1;
		e->deadline = lc->now + (uint64_t)ffs_sysctl(lc->st, p->rexmit_ms) * lc->st->tsc_hz / 1000;
		p->solicit(lc, port, t, e);
	}
	/* maxhold_bytes bounds one neighbour; many silent ones (or a small pool) could still hold the
	 * whole pool and starve reception. Beyond the pool's budget only a neighbour's first packet
	 * waits: the new packet is dropped (what is held already stays, to be sent in order). */
	if (!ffs_pool_admits(lc, e->n_held ? INT_MAX : 0)) {
		(*ctr(lc, p->ctr_hold_dropped))++;
		(*ctr(lc, p->ctr_hold_memdrop))++;
		rte_pktmbuf_free(m);
		return 0;
	}
	struct neigh_hold_limit lim = {
		.bytes = (uint32_t)ffs_sysctl(lc->st, p->maxhold_bytes),
		.packets = (uint32_t)ffs_sysctl(lc->st, p->maxhold),
	};
	*ctr(lc, p->ctr_hold_dropped) += neigh_hold(e, m, lim);
	return 0;
}

int neigh_add_static(struct ffs_lcore *lc, const struct neigh_proto *p, uint16_t port_index, struct neigh_key k,
		     const struct eth_addr *mac)
{
	struct neigh_entry *e = neigh_new(lc, p, port_index, k, NEIGH_CLASS_INCOMPLETE, false);
	if (!e)
		return -ENOSPC;
	e->mac = *mac;
	e->state = FFS_NEIGH_PERMANENT;
	flush_held(lc, e);
	return 0;
}

void neigh_tick(struct ffs_lcore *lc, const struct neigh_proto *p)
{
	struct neigh_table *t = neigh_table_of(lc, p);
	const struct ffs_stack *st = lc->st;
	unsigned i = 0;
	while (t->count && i < NEIGH_TABLE_SIZE) {
		struct neigh_entry *e = &t->slots[i];
		if (e->addr == 0 || e->state == FFS_NEIGH_PERMANENT || lc->now < e->deadline) {
			i++;
			continue;
		}
		if (e->state == FFS_NEIGH_INCOMPLETE && e->tries < ffs_sysctl(st, p->maxtries)) {
			e->tries++;
			e->deadline = lc->now + (uint64_t)ffs_sysctl(st, p->rexmit_ms) * st->tsc_hz / 1000;
			p->solicit(lc, &st->ports[e->port_index], t, e);
			i++;
		} else if (e->state == FFS_NEIGH_INCOMPLETE) {
			/* No answer: drop what waited and fail fast for a while rather than hold packets again at once. */
			(*ctr(lc, p->ctr_timeouts))++;
			unsigned dropped = 0;
			free_chain(neigh_take_held(e), &dropped);
			*ctr(lc, p->ctr_hold_dropped) += dropped;
			e->state = FFS_NEIGH_FAILED;
			e->deadline = lc->now + (uint64_t)NEIGH_FAILED_HOLD_S * st->tsc_hz;
			i++;
		} else {
			/* Reachable entries expire after max_age and failed ones after their hold time; the next send
			 * resolves again (holding, not losing, its packets). Removal may shift another entry into
			 * slot i, so look at it again. */
			neigh_remove(t, e, NULL);
		}
	}
}
