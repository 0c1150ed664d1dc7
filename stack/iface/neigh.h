/*
 * The neighbour caches of one lcore: next hop → MAC, per port, one table per family (ARP's for IPv4,
 * Neighbor Discovery's for IPv6) over the same storage and the same state machine.
 *
 * Open addressing with linear probing and backward-shift deletion over a fixed array, so memory is
 * bounded and lookups touch one or two cache lines. An IPv4 table is keyed by the address itself; an
 * IPv6 table by a non-zero 32-bit fold of the address in the same field, with the full address in a
 * parallel array compared only when the fold matches — so ARP's entries and probes are the same size
 * and touch the same lines as before IPv6 came. Entries are incomplete (resolution under way,
 * packets held), reachable (until max_age), failed (no answer after maxtries; sends fail fast for
 * a while) or permanent (static). Held packets wait in a per-entry FIFO bounded, as Linux bounds it
 * (unres_qlen_bytes), by bytes — each packet charged its frame length, pkt_len — and optionally by a
 * packet count too: a new packet is always held, and the oldest ones are dropped and counted until
 * the queue is within its bounds again. All are sent, in order, when the reply arrives.
 *
 * The table holds at most max_entries entries. When it is full, a new entry takes the place of the
 * least recently used one of the cheapest class to lose (enum neigh_class): entries learned only
 * because someone solicited us (and never used by us) and failed ones go first, then entries we
 * resolved and used, then incomplete ones with their held packets; permanent entries never. So
 * unsolicited ARP or ND cannot lock out a host the stack wants to talk to.
 *
 * What differs between the families — the tunables, the counters, how a neighbour is solicited —
 * is described by a struct neigh_proto (ARP's in iface/arp.c, ND's in iface/nd6.c).
 */
#ifndef FFNET_IFACE_NEIGH_H
#define FFNET_IFACE_NEIGH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "stack/wire/eth.h"
#include "stack/wire/ipv6.h"

#define NEIGH_TABLE_SIZE 1024 /**< slots; a power of two */
#define NEIGH_MAX_ENTRIES (NEIGH_TABLE_SIZE * 3 / 4) /**< the most max_entries may be (load factor 3/4) */
/** How long a failed entry makes sends fail fast before resolution is tried again (FreeBSD's arpt_down). */
#define NEIGH_FAILED_HOLD_S 20
/** Solicitations per lcore and family remembered as asked (an answer to one teaches every lcore). */
#define NEIGH_ASKED 8

struct rte_mbuf;
struct ffs_lcore;
struct ffs_port;

struct neigh_entry {
	uint32_t addr;       /**< IPv4: the address, host order; IPv6: the key's fold; 0 = free slot */
	uint16_t port_index;
	uint8_t state;       /**< enum ffs_neigh_state */
	uint8_t tries;       /**< solicitations sent while incomplete */
	bool passive;        /**< learned from a solicitation for us and not used by us since */
	bool router;         /**< IPv6: the neighbour's last advertisement had the R flag */
	struct eth_addr mac;
	uint64_t deadline;   /**< TSC: expiry (reachable, failed) or next solicitation (incomplete) */
	uint64_t used;       /**< TSC: last time we sent through it (or when it was learned) */
	uint32_t n_held;
	uint32_t held_bytes; /**< the held packets' pkt_len summed */
	struct rte_mbuf *held_head, *held_tail;
};

struct neigh_table {
	uint32_t count;
	bool v6;             /**< keyed by IPv6 addresses (addr6[] in use) */
	struct neigh_entry slots[NEIGH_TABLE_SIZE];
	struct ip6_addr addr6[NEIGH_TABLE_SIZE]; /**< IPv6 tables: slot i's address */
};

/** Eviction classes, cheapest to lose first. */
enum neigh_class {
	NEIGH_CLASS_UNUSED,     /**< passive (learned, never used by us) or failed */
	NEIGH_CLASS_USED,       /**< reachable and used by us */
	NEIGH_CLASS_INCOMPLETE, /**< resolution under way, packets held */
	NEIGH_CLASS_PERMANENT,  /**< never evicted */
};

/** A neighbour's key: an IPv4 address (host order), or an IPv6 address when `a6` is non-NULL. */
struct neigh_key {
	uint32_t addr;
	const struct ip6_addr *a6;
};

/** A lcore's latest solicitations of one family, (key << 32) | ms stamp (the key: an IPv4 address,
 *  an IPv6 address's fold), written by that lcore alone and read by every lcore of its stack. */
struct neigh_asked {
	_Atomic uint64_t v[NEIGH_ASKED];
	unsigned next;
};

/** IPv4 lookup (an IPv4 table). */
struct neigh_entry *neigh_lookup(struct neigh_table *t, uint16_t port_index, uint32_t addr);
/** IPv6 lookup (an IPv6 table). */
struct neigh_entry *neigh6_lookup(struct neigh_table *t, uint16_t port_index, const struct ip6_addr *a);
/** Finds or creates the entry (created zeroed but for the key, state incomplete). NULL when the
 *  table already holds `max` entries (or no slot is free). */
struct neigh_entry *neigh_insert(struct neigh_table *t, uint16_t port_index, struct neigh_key k, uint32_t max);
/** The IPv6 address of an entry of an IPv6 table. */
static inline const struct ip6_addr *neigh_addr6(const struct neigh_table *t, const struct neigh_entry *e)
{
	return &t->addr6[e - t->slots];
}
/** The entry's eviction class. */
enum neigh_class neigh_class_of(const struct neigh_entry *e);
/** The least recently used entry of the cheapest class not above `worst`, or NULL. */
struct neigh_entry *neigh_victim(struct neigh_table *t, enum neigh_class worst);
/** Removes an entry, freeing its held packets (returned in *dropped). */
void neigh_remove(struct neigh_table *t, struct neigh_entry *e, unsigned *dropped);
/** The bounds of one neighbour's hold queue. */
struct neigh_hold_limit {
	uint32_t bytes;   /**< pkt_len summed over the held packets */
	uint32_t packets; /**< 0: no bound on the count */
};
/**
 * Appends `m` to the entry's hold queue, first dropping (freeing) the oldest held packets until `m`
 * fits within `lim` — Linux's __neigh_event_send: the newest packet is always held, even alone over
 * the byte bound. Returns how many packets were dropped.
 */
unsigned neigh_hold(struct neigh_entry *e, struct rte_mbuf *m, struct neigh_hold_limit lim);
/** Detaches and returns the held packets, oldest first (linked with ffs_mbuf_link). */
struct rte_mbuf *neigh_take_held(struct neigh_entry *e);
/** Frees every entry and held packet (the table keeps its family). */
void neigh_clear(struct neigh_table *t);

/** What a family's neighbour protocol brings to the shared state machine. */
struct neigh_proto {
	size_t table;      /**< offsetof(struct ffs_lcore, <its table>) */
	/** Tunables (enum ffs_sysctl_id). maxhold_bytes and maxhold bound each neighbour's hold queue. */
	int max_entries, maxtries, maxhold_bytes, maxhold, rexmit_ms, max_age;
	size_t asked;      /**< offsetof(struct ffs_lcore, <its struct neigh_asked>) */
	/** Counters (offsetof(struct ffs_counters, ...)). */
	size_t ctr_table_full, ctr_evicted, ctr_hold_dropped, ctr_hold_memdrop, ctr_timeouts;
	/** Sends a solicitation for entry `e` of table `t` (a broadcast ARP request, a multicast NS). */
	void (*solicit)(struct ffs_lcore *lc, const struct ffs_port *port, const struct neigh_table *t,
			const struct neigh_entry *e);
};

/** The lcore's table of a family. */
struct neigh_table *neigh_table_of(struct ffs_lcore *lc, const struct neigh_proto *p);
/** Records that lc solicits `k` now (before sending the solicitation). */
void neigh_asked_note(struct ffs_lcore *lc, const struct neigh_proto *p, struct neigh_key k);
/**
 * Whether some lcore of the stack solicited `k` within one resolution's time (maxtries × rexmit_ms):
 * an answer to it teaches every lcore that sees it (a clone), not only the one that asked, while an
 * answer nobody asked for teaches none.
 */
bool neigh_asked_by_stack(const struct ffs_lcore *lc, const struct neigh_proto *p, struct neigh_key k);
/**
 * A new entry: when the table holds max_entries, the least recently used entry of a class no worse
 * than `worst` makes room (its held packets dropped and counted). NULL, counted in the family's
 * table_full, when nothing may be evicted. `count`: this lcore counts the event (not a clone).
 */
struct neigh_entry *neigh_new(struct ffs_lcore *lc, const struct neigh_proto *p, uint16_t port_index, struct neigh_key k,
			      enum neigh_class worst, bool count);
/** The neighbour answered (or announced itself): reachable with `mac` for max_age, held packets sent. */
void neigh_confirm(struct ffs_lcore *lc, const struct neigh_proto *p, struct neigh_entry *e, const struct eth_addr *mac);
/**
 * Sends `m` (Ethernet header in place, destination to fill) to neighbour `k` on `port`: at once when
 * resolved; held (bounded by maxhold_bytes, maxhold and the pool's budget) while resolution is under way, which it
 * starts when the neighbour is new. 0, -EHOSTDOWN (a failed entry), or -ENOBUFS (no room).
 */
int neigh_resolve_and_send(struct ffs_lcore *lc, const struct neigh_proto *p, const struct ffs_port *port,
			   struct neigh_key k, struct rte_mbuf *m);
/** Installs a permanent entry, sending packets held for it. 0, or -ENOSPC. */
int neigh_add_static(struct ffs_lcore *lc, const struct neigh_proto *p, uint16_t port_index, struct neigh_key k,
		     const struct eth_addr *mac);
/** Timer work: solicit again, fail unanswered entries (dropping what they held), expire old ones. */
void neigh_tick(struct ffs_lcore *lc, const struct neigh_proto *p);

#endif
