/*
 * Control messages: how other threads change a lcore's state. The sender posts a message to the
 * lcore's ring; the lcore applies it between bursts and acknowledges. Calls wait (bounded) for every
 * lcore's acknowledgement. In inline mode the caller applies messages at once, on each inline lcore under its
 * turn lock (the thread turning it finishes its turn first).
 * This is the only way state owned by a lcore changes (the libiapp rule: an object is managed by the
 * thread that owns it).
 *
 * Messages live on the heap and are reference counted: the sender holds one reference and each lcore
 * it was posted to another, and whoever drops the last frees it. A call that gave up waiting (a
 * stuck lcore) thus leaves nothing of the caller's for a late lcore to write; everything a message
 * points to is owned by the message or outlives it (a socket is freed only once every lcore removed
 * it, sock/sock.c).
 */
#ifndef FFNET_LCORE_CTRL_H
#define FFNET_LCORE_CTRL_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include "stack/stack.h"
#include "stack/sock/sock.h"
#include "stack/wire/ipv6.h"

enum ffs_ctrl_op {
	FFS_CTRL_NEIGH_ADD,
	FFS_CTRL_NEIGH_DEL,
	FFS_CTRL_NEIGH_DUMP,
	FFS_CTRL_PING,
	FFS_CTRL_SOCK_UPSERT,
	FFS_CTRL_SOCK_REMOVE,
	FFS_CTRL_GROUP_ADD,
	FFS_CTRL_GROUP_DEL,
	FFS_CTRL_IGMP_STATE,
	FFS_CTRL_MLD_STATE,
	FFS_CTRL_PORT_CHANGED,
	FFS_CTRL_TX_BARRIER, /**< route everything the application threads queued to send, then acknowledge */
	FFS_CTRL_ROUTE_SYNC, /**< rebuild the lcore's FIB from the published route table (iface/route_fib.c) */
};

/** What changed on a port (FFS_CTRL_PORT_CHANGED): the lcore's follow-up. */
enum ffs_port_change {
	FFS_PORT_INET, /**< forget neighbours off the new subnet; lcore 0 announces the address */
	FFS_PORT_MTU,  /**< nothing to redo: the next datagram is cut to the new MTU */
	FFS_PORT_UP,   /**< lcore 0 announces the address */
	FFS_PORT_DOWN, /**< frames already queued for the port are dropped (eth.tx_down) */
};

struct ffs_ctrl_msg {
	enum ffs_ctrl_op op;
	atomic_uint refs;          /**< the sender's and one per lcore holding it */
	atomic_uint pending;       /**< acknowledgements still due (never 0 while a lcore missed it) */
	atomic_int result;         /**< first non-zero result wins; for NEIGH_DEL the count of removals */
	union {
		struct {
			uint16_t port_index;
			bool v6;                 /**< the IPv6 cache (addr6), not ARP's (addr) */
			uint32_t addr;
			struct ip6_addr addr6;
			struct eth_addr mac;
		} neigh;
		struct {
			struct ffs_neigh_info *out; /**< owned by the message (freed with it) */
			unsigned max;
			bool v6;                     /**< the IPv6 table (ndp), not ARP's */
		} dump;
		struct {
			uint32_t dst;
			bool v6;                 /**< an ICMPv6 echo request to dst6 */
			struct ip6_addr dst6;
			int scope_port;          /**< IPv6: the port index of a link-local dst6, or -1 */
			uint16_t ident;
			uint16_t token;
			uint16_t payload;
			uint8_t ttl;
		} ping;
		struct {
			uint16_t port_index;
			enum ffs_port_change what;
		} port;
		struct {
			struct ffs_sock *so;
			uint16_t lport;
		} sock;
		struct {
			uint16_t port_index;
			uint8_t family;  /**< 4: group and sources; 6: group6 and sources6 */
			uint32_t group;
			struct ip6_addr group6;
			bool exclude;    /**< IGMP_STATE, MLD_STATE: see igmp_state_change */
			unsigned n_sources;
			uint32_t sources[64];
			struct ip6_addr sources6[64];
		} group;
	} u;
};

struct ffs_lcore;

/** A zeroed message of `op` holding the caller's reference, or NULL when out of memory. */
struct ffs_ctrl_msg *ffs_ctrl_new(enum ffs_ctrl_op op);
/** Drops a reference; the last frees the message (and the dump buffer it owns). */
void ffs_ctrl_put(struct ffs_ctrl_msg *msg);
/** Applies a message on the calling lcore, acknowledges it and drops the lcore's reference (the lcore
 *  loop calls this for each message it dequeues). */
void ffs_ctrl_apply(struct ffs_lcore *lc, struct ffs_ctrl_msg *msg);
/** Sends to every lcore and waits for all of them (at most 2 s). Returns msg->result, or -ETIMEDOUT
 *  (or -EAGAIN when a lcore's ring stayed full). The caller keeps its reference. */
int ffs_ctrl_all(struct ffs_stack *st, struct ffs_ctrl_msg *msg);
/** Sends to lcore index i and waits, as ffs_ctrl_all. */
int ffs_ctrl_one(struct ffs_stack *st, unsigned i, struct ffs_ctrl_msg *msg);
/** Sends to every lcore, waits, and drops the caller's reference: for callers that need only the result. */
int ffs_ctrl_all_put(struct ffs_stack *st, struct ffs_ctrl_msg *msg);
/**
 * Waits until every lcore has taken what application threads queued to send before the call and
 * routed it (FFS_CTRL_TX_BARRIER). A routing change made after it returns applies to no datagram
 * sent before the change was asked for, as a route lookup inside sendto() on Linux. 0, or a negative
 * errno (-ETIMEDOUT: a lcore did not answer).
 */
int ffs_ctrl_tx_barrier(struct ffs_stack *st);
/** True when every lcore the message was meant for has applied it. */
static inline bool ffs_ctrl_applied(struct ffs_ctrl_msg *msg)
{
	return atomic_load_explicit(&msg->pending, memory_order_acquire) == 0;
}

#endif
