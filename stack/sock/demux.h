/*
 * A lcore's private UDP demux table: local port → the sockets bound to it, with the copy of each
 * socket's addressing and memberships that delivery needs. Owned by its lcore and changed only by
 * control messages (SOCK_UPSERT, SOCK_REMOVE), so lookups take no lock and touch no shared line
 * but the socket's RX ring.
 *
 * Delivery follows Linux: a unicast datagram goes to the best match (connected beats bound beats
 * wildcard); a SO_REUSEPORT group gives a flow to the member whose home is the lcore the flow
 * belongs to (several there: a flow hash among them; none: a flow hash among all), so each member
 * receives its own lcore's flows; among SO_REUSEADDR sockets the newest bound wins. Broadcasts and multicasts go to every matching socket (for multicast: joined the group, or
 * IP_MULTICAST_ALL with the group joined on the port).
 */
#ifndef FFNET_SOCK_DEMUX_H
#define FFNET_SOCK_DEMUX_H

#include <stdbool.h>
#include <stdint.h>
#include "stack/sock/sock.h"

struct demux_entry {
	struct ffs_sock *so;
	uint32_t laddr, raddr;
	uint16_t rport;
	bool connected, reuseport, mcast_all;
	unsigned home; /**< the socket's home lcore (ffs_sock.tx_lcore) */
	uint64_t bind_seq;
	unsigned n_memberships;
	struct ffs_membership memberships[FFS_MAX_MEMBERSHIPS];
};

/** An AF_INET6 socket's IPv6 addressing (a socket that takes IPv6 proper: ffs_sock_has_v6). */
struct demux6_entry {
	struct ffs_sock *so;
	uint8_t laddr[16], raddr[16];
	uint16_t rport;
	bool connected, reuseport;
	unsigned home;
	uint64_t bind_seq;
};

/** The entries of one local port in one family's table: each begins with its socket. */
struct demux_bucket {
	unsigned n, cap;
	union {
		struct demux_entry *e;   /**< by_port */
		struct demux6_entry *e6; /**< by_port6 */
	};
};

/** IPv4 entries (AF_INET sockets, and AF_INET6 ones in dual stack) and IPv6 entries, by local port. */
struct demux_table {
	struct demux_bucket *by_port[65536];
	struct demux_bucket *by_port6[65536];
};

struct demux_table *demux_new(void);
void demux_free(struct demux_table *t);
/** Adds or refreshes the entry of `so` (the control plane holds the socket stable meanwhile). 0 or -ENOMEM. */
int demux_upsert(struct demux_table *t, struct ffs_sock *so);
/** Removes the entry of `so` bound to `lport`. */
void demux_remove(struct demux_table *t, struct ffs_sock *so, uint16_t lport);
/** The unicast receiver of a datagram of a flow that belongs to lcore `flow_lcore`, or NULL. */
struct ffs_sock *demux_unicast(const struct demux_table *t, uint32_t src, uint16_t sport, uint32_t dst, uint16_t dport,
			       unsigned flow_lcore);
/** Receivers of a broadcast/multicast datagram: up to max sockets into out; returns the count. */
unsigned demux_group(const struct demux_table *t, uint32_t src, uint16_t sport, uint32_t dst, uint16_t dport,
		     bool multicast, struct ffs_sock **out, unsigned max);
/** The socket bound to lport that a datagram from lsrc:lport to dst:dport came from (ICMP errors). */
struct ffs_sock *demux_sender(const struct demux_table *t, uint32_t lsrc, uint16_t lport, uint32_t dst, uint16_t dport);

/** The unicast receiver of an IPv6 datagram (addresses in network order), as demux_unicast. */
struct ffs_sock *demux_unicast6(const struct demux_table *t, const uint8_t src[16], uint16_t sport, const uint8_t dst[16],
				uint16_t dport, unsigned flow_lcore);
/** The connected AF_INET6 socket bound to lport that sent a datagram from lsrc to dst:dport (ICMPv6 errors). */
struct ffs_sock *demux_sender6(const struct demux_table *t, const uint8_t lsrc[16], uint16_t lport, const uint8_t dst[16],
			       uint16_t dport);
/** Receivers of an IPv6 multicast datagram: bound to its port on `::` or on the group. */
unsigned demux_group6(const struct demux_table *t, const uint8_t src[16], uint16_t sport, const uint8_t dst[16],
		      uint16_t dport, struct ffs_sock **out, unsigned max);

#endif
