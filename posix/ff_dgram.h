/*
 * Receive-side helpers for event-loop front ends (posix/ff_dgram.c). Return values are counts, or
 * negative errno values (these never set errno: they serve bindings that pass errors on as values).
 */
#ifndef FFNET_POSIX_FF_DGRAM_H
#define FFNET_POSIX_FF_DGRAM_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Where one datagram landed in the caller's buffer, and where it came from (host order). */
struct ff_dgram_desc {
	uint32_t offset;
	uint32_t len;
	uint32_t addr;
	uint32_t port;
};

/** Ids (= fds) of the calling thread's sockets signalled since the last call, re-arming ff_wake_fd. In
 *  inline mode, on a thread that turns lcores, it first turns them once. */
int ff_dgram_ready(uint32_t *ids, unsigned max);
/** Copies up to `max` queued datagrams back to back (8-byte aligned) into buf[0..cap). Returns how
 *  many, -EAGAIN when none is queued, or a pending socket error (-ECONNREFUSED) when nothing was copied. */
int ff_dgram_recv_packed(int fd, uint8_t *buf, size_t cap, unsigned max, struct ff_dgram_desc *desc);
/** ff_dgram_desc.port flag (ff_dgram_lend): the datagram was copied into the caller's buffer. */
#define FF_DGRAM_COPIED 0x10000u
/**
 * ff_dgram_desc.port flag: an IPv6 datagram. Its source address is the 16 bytes `addr` bytes before
 * its payload (in the same memory), and a link-local source's scope id is in bits 24..31 of port.
 */
#define FF_DGRAM_V6 0x20000u
/**
 * Where one datagram arrived, for a socket that set IP_PKTINFO (AF_INET) or IPV6_RECVPKTINFO
 * (AF_INET6): its destination address as its IP header carried it and the interface (port index + 1)
 * it came in by. Six 32-bit words, for a Uint32Array.
 */
struct ff_dgram_info {
	uint32_t addr;     /**< IPv4, host order (0 for an IPv6 datagram) */
	uint8_t addr6[16]; /**< IPv6, or the IPv4 one v4-mapped */
	uint32_t ifindex;
};
/** ff_dgram_recv_packed, with info[i] filled for each datagram when info is not NULL. */
int ff_dgram_recv_packed_info(int fd, uint8_t *buf, size_t cap, unsigned max, struct ff_dgram_desc *desc,
			      struct ff_dgram_info *info);
/** Fills info[0..n) for the datagrams ff_dgram_lend lent into lent[0..n) (before ff_dgram_return). */
void ff_dgram_lent_info(void *const *lent, unsigned n, struct ff_dgram_info *info);
/** The packet pool's memory, where lent datagrams lie: 0, -ENETDOWN (no stack), or -ENOTSUP when the
 *  pool spans more than one memory chunk (then lend nothing: copy with ff_dgram_recv_packed). */
int ff_dgram_pool_span(const void **base, size_t *len);
/** What ff_dgram_lend lent, for ff_dgram_return: the socket (slot and generation) and the SO_RCVBUF
 *  bytes its datagrams are charged. */
struct ff_dgram_loan {
	uint32_t sock_id;
	uint32_t sock_gen;
	int bytes;
};
/**
 * Lends up to `max` queued datagrams of fd in order, their mbufs into lent[0..max): desc[i] gives the
 * offset from `base` of a datagram in one segment within [base, base + span) (ff_dgram_pool_span),
 * read in place; any other (several segments, or a buffer outside the pool) is copied into
 * buf[0..cap) (8-byte aligned) and its desc.port has FF_DGRAM_COPIED.
 * Stops before a copy that does not fit (it stays queued, the next received). Lent datagrams stay
 * charged to SO_RCVBUF until ff_dgram_return(loan). Returns how many, -EAGAIN when none is queued, or a
 * pending socket error (-ECONNREFUSED), reported before the datagrams queued behind it.
 */
int ff_dgram_lend(int fd, const uint8_t *base, size_t span, uint8_t *buf, size_t cap, unsigned max,
		  struct ff_dgram_desc *desc, void **lent, struct ff_dgram_loan *loan);
/** Gives back the n datagrams of one ff_dgram_lend (from any thread): one SO_RCVBUF release (none
 *  when the socket has closed since) and one bulk free. */
void ff_dgram_return(const struct ff_dgram_loan *loan, void **lent, unsigned n);
/** Payload bytes and datagrams handed to the stack and not yet sent. */
int ff_dgram_send_queue(int fd, uint32_t *bytes, uint32_t *count);
/** 1 when fd is a socket another thread's context owns (a thread without a context owns none), else 0. */
int ff_sock_foreign(int fd);

#ifdef __cplusplus
}
#endif

#endif
