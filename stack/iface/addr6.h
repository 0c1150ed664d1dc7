/*
 * The ports' IPv6 addresses (iface/addr6.c owns them): per port a table of FFS_MAX_ADDR6 slots —
 * the EUI-64 link-local address (RFC 4291 App. A), the configured ones ([portN] addr6[], ifconfig
 * inet6) and those formed from router advertisements (RFC 4862) — each with its prefix length,
 * origin, state and lifetimes.
 *
 * Readers are lcores (per packet: is this destination ours, which source for that one) and
 * application threads; they never lock and never wait for a writer. Each slot is published under its
 * own sequence-counter latch (iface/latch.h, two copies per slot): a reader retries only when the very
 * slot it reads changed under it, never because another address did, and never waits for a writer.
 * Writers — the control plane at start and for ifconfig, the lcore that handles a router
 * advertisement or a DAD result — serialise on a spinlock held for one slot's rewrite (a few stores,
 * no call inside) and keep the truth in `staged`.
 *
 * DPDK's rte_seqlock is experimental in 22.11 and its readers spin while a write is under way (a
 * writer preempted mid-write would stall every lcore); an rcu-published table (st->rcu) would copy
 * the whole table on each change and wait a grace period to free it. A slot is small and rewritten
 * rarely: a latch per slot is the simpler sound scheme, and the one the IPv4 routing table uses.
 */
#ifndef FFNET_IFACE_ADDR6_H
#define FFNET_IFACE_ADDR6_H

#include <stdbool.h>
#include <stdint.h>
#include <rte_spinlock.h>

#include "stack/stack.h"

/** RFC 4862 §5.5.3: an address's state (tentative until DAD passes; deprecated past its preferred lifetime). */
enum addr6_state { ADDR6_FREE, ADDR6_TENTATIVE, ADDR6_PREFERRED, ADDR6_DEPRECATED, ADDR6_DUPLICATED };
/** Where an address came from. */
enum addr6_origin { ADDR6_LINKLOCAL, ADDR6_STATIC, ADDR6_AUTOCONF };

/** A lifetime that never ends (RFC 4861 §4.6.2: all ones is infinity). */
#define ADDR6_INFINITE UINT32_MAX

/** One copy of a slot. Shared copies are accessed with relaxed atomics only (see the module doc). */
struct addr6_copy {
	uint32_t w[4];            /**< the address, network order, as four words */
	uint32_t meta;            /**< prefix length | state << 8 | origin << 16; state ADDR6_FREE = empty */
	uint64_t valid_until;     /**< TSC; 0 = forever */
	uint64_t preferred_until; /**< TSC; 0 = forever */
};

struct addr6_slot {
	uint32_t seq; /**< the latch: readers use copy[seq & 1] */
	struct addr6_copy copy[2];
};

struct addr6_table {
	struct addr6_slot slot[FFS_MAX_PORTS][FFS_MAX_ADDR6];
	rte_spinlock_t write_lock;
	/** Bumped by every publish: what a reader remembers of a lookup holds while it is unchanged. */
	uint32_t gen;
	struct addr6_copy staged[FFS_MAX_PORTS][FFS_MAX_ADDR6]; /**< the writers' truth, under write_lock */
};

/** One address as addr6_list reports it. */
struct ffs_addr6_info {
	struct ip6_addr addr;
	uint8_t prefixlen;
	enum addr6_state state;
	enum addr6_origin origin;
	uint32_t valid_s, preferred_s; /**< seconds left, ADDR6_INFINITE = forever */
};

/**
 * Gives every port with IPv6 on its link-local address and its configured ones (st->conf), each
 * tentative until Duplicate Address Detection passes (or preferred at once when
 * net.inet6.ip6.dad_count is 0: RFC 4862 §5.4 performs no DAD then).
 */
void addr6_init(struct ffs_stack *st);

/**
 * Adds an address to port index `port` (lifetimes in seconds, ADDR6_INFINITE = forever; an address
 * present already gets the new prefix length and lifetimes and keeps its state). A new address starts
 * Duplicate Address Detection (nd6_dad_start, iface/nd6.c). 0, or -EINVAL (unspecified, loopback,
 * multicast, prefix length 1..128), -ENOSPC (the port's table is full), -ENOENT (no such port, or IPv6
 * off on it).
 */
int addr6_add(struct ffs_stack *st, unsigned port, const struct ip6_addr *a, unsigned prefixlen, enum addr6_origin origin,
	      uint32_t valid_s, uint32_t preferred_s);
/** Removes an address. 0, or -ESRCH (not on the port). */
int addr6_del(struct ffs_stack *st, unsigned port, const struct ip6_addr *a);
/** Sets an address's state (DAD's verdict: preferred, or duplicated). */
void addr6_set_state(struct ffs_stack *st, unsigned port, const struct ip6_addr *a, enum addr6_state state);
/** Sets the lifetimes of an address present (router advertisements renew them, RFC 4862 §5.5.3 e). */
void addr6_set_lifetimes(struct ffs_stack *st, unsigned port, const struct ip6_addr *a, uint32_t valid_s,
			 uint32_t preferred_s);

/**
 * Is `a` one of ours: on any port (port < 0) or on port index `port`? *state (may be NULL) gets its
 * state: a tentative address is not ours for delivery, but DAD's NS/NA logic needs to know. ::1 is
 * ours (loopback, preferred). An address past its valid lifetime is gone; past its preferred one,
 * deprecated.
 */
bool addr6_is_local(const struct ffs_stack *st, int port, const struct ip6_addr *a, enum addr6_state *state);

/**
 * Source address selection for dst out of port index `port` (RFC 6724 §5, the rules that matter for
 * a host: the destination itself, appropriate scope, not deprecated, matching label, longest matching
 * prefix). Tentative and duplicated addresses are never chosen (RFC 4862 §5.4). false: none.
 */
bool addr6_source(const struct ffs_stack *st, unsigned port, const struct ip6_addr *dst, struct ip6_addr *out);

/** The port's usable link-local address (ND's source); false when it has none yet (tentative, off). */
bool addr6_linklocal(const struct ffs_stack *st, unsigned port, struct ip6_addr *out);

/** Snapshot for tools: copies up to max of the port's addresses (slot order: link-local first). */
unsigned addr6_list(const struct ffs_stack *st, unsigned port, struct ffs_addr6_info *out, unsigned max);

/** Frees the addresses whose valid lifetime ended (lcore 0's timer work). */
void addr6_expire(struct ffs_stack *st, uint64_t now);

/** An address state's name for tools: "tentative", "preferred", "deprecated", "duplicated" ("free"). */
const char *addr6_state_name(enum addr6_state state);

/** RFC 6724 §3.1 scope of a unicast or multicast address (1 interface-local .. 14 global). */
unsigned addr6_scope(const struct ip6_addr *a);

#endif
