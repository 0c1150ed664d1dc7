/*
 * The neighbour (ARP) cache of one lcore: IPv4 next hop → MAC, per port.
 *
 * Open addressing with linear probing and backward-shift deletion over a fixed array, so memory is
 * bounded and lookups touch one or two cache lines. Entries are incomplete (resolution under way,
 * packets held), reachable (until max_age), failed (no answer after maxtries; sends fail fast for
 * a while) or permanent (static). Held packets wait in a per-entry FIFO bounded by maxhold; the
 * oldest is dropped and counted when it overflows, and all are sent when the reply arrives.
 *
 * The table holds at most net.link.ether.inet.max_entries entries. When it is full, a new entry
 * takes the place of the least recently used one of the cheapest class to lose (enum neigh_class):
 * entries learned only because someone ARPed us (and never used by us) and failed ones go first, then
 * entries we resolved and used, then incomplete ones with their held packets; permanent entries
 * never. So unsolicited ARP cannot lock out a host the stack wants to talk to.
 */
#ifndef FFNET_IFACE_NEIGH_H
#define FFNET_IFACE_NEIGH_H

#include <stdbool.h>
#include <stdint.h>
#include "stack/wire/eth.h"

#define NEIGH_TABLE_SIZE 1024 /**< slots; a power of two */
#define NEIGH_MAX_ENTRIES (NEIGH_TABLE_SIZE * 3 / 4) /**< the most max_entries may be (load factor 3/4) */
/** How long a failed entry makes sends fail fast before resolution is tried again (FreeBSD's arpt_down). */
#define NEIGH_FAILED_HOLD_S 20
/** ARP requests per lcore remembered as asked (a reply to one of them teaches every lcore, iface/arp.c). */
#define NEIGH_ASKED 8

struct rte_mbuf;

struct neigh_entry {
	uint32_t addr;       /**< host order; 0 = free slot */
	uint16_t port_index;
	uint8_t state;       /**< enum ffs_neigh_state */
	uint8_t tries;       /**< ARP requests sent while incomplete */
	bool passive;        /**< learned from a request for us and not used by us since */
	struct eth_addr mac;
	uint64_t deadline;   /**< TSC: expiry (reachable, failed) or next request (incomplete) */
	uint64_t used;       /**< TSC: last time we sent through it (or when it was learned) */
	uint32_t n_held;
	struct rte_mbuf *held_head, *held_tail;
};

struct neigh_table {
	uint32_t count;
	struct neigh_entry slots[NEIGH_TABLE_SIZE];
};

/** Eviction classes, cheapest to lose first. */
enum neigh_class {
	NEIGH_CLASS_UNUSED,     /**< passive (learned, never used by us) or failed */
	NEIGH_CLASS_USED,       /**< reachable and used by us */
	NEIGH_CLASS_INCOMPLETE, /**< resolution under way, packets held */
	NEIGH_CLASS_PERMANENT,  /**< never evicted */
};

struct neigh_entry *neigh_lookup(struct neigh_table *t, uint16_t port_index, uint32_t addr);
/** Finds or creates the entry (created zeroed but for the key, state incomplete). NULL when the
 *  table already holds `max` entries (or no slot is free). */
struct neigh_entry *neigh_insert(struct neigh_table *t, uint16_t port_index, uint32_t addr, uint32_t max);
/** The entry's eviction class. */
enum neigh_class neigh_class_of(const struct neigh_entry *e);
/** The least recently used entry of the cheapest class not above `worst`, or NULL. */
struct neigh_entry *neigh_victim(struct neigh_table *t, enum neigh_class worst);
/** Removes an entry, freeing its held packets (returned in *dropped). */
void neigh_remove(struct neigh_table *t, struct neigh_entry *e, unsigned *dropped);
/** Appends a packet to the entry's hold queue; returns the packet evicted to respect `max_held`, or NULL. */
struct rte_mbuf *neigh_hold(struct neigh_entry *e, struct rte_mbuf *m, uint32_t max_held);
/** Detaches and returns the held packets, oldest first (linked with ffs_mbuf_link). */
struct rte_mbuf *neigh_take_held(struct neigh_entry *e);
/** Frees every entry and held packet. */
void neigh_clear(struct neigh_table *t);

#endif
