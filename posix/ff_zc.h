/*
 * Zero-copy datagram calls for C programs, in F-Stack's shape: a datagram written straight into a
 * packet buffer of the stack's pool and handed to the stack as it is (ff_zc_mbuf_get, _write, ff_zc_sendto),
 * and received datagrams lent out as the stack's own buffers until the program gives them back
 * (ff_zc_recv, ff_zc_recv_free). Nothing is copied between the program and the device.
 *
 * Rules: a buffer from ff_zc_mbuf_get is the caller's until ff_zc_sendto takes it (on success, and on
 * every failure but EAGAIN/ENOBUFS, where it stays the caller's to retry or free with ff_zc_mbuf_free);
 * a lent datagram counts against its socket's SO_RCVBUF until ff_zc_recv_free returns it, from any
 * thread. Lent buffers come from the packet pool that receives every frame: a program that holds many
 * starves reception (udp.memdrop counts what that refused).
 */
#ifndef FFNET_POSIX_FF_ZC_H
#define FFNET_POSIX_FF_ZC_H

#include <stdint.h>
#include <sys/socket.h>
#include <netinet/in.h>

#ifdef __cplusplus
extern "C" {
#endif

/** A datagram being built in the stack's packet buffers (F-Stack's struct ff_zc_mbuf). */
struct ff_zc_mbuf {
	/** The packet buffer chain (an rte_mbuf *); opaque to the program. */
	void *bsd_mbuf;
	/** Bytes written so far (the write position). */
	int off;
	/** The datagram's length, as asked of ff_zc_mbuf_get. */
	int len;
};

/** Takes packet buffers for a `len`-byte datagram (0 .. 65527; an AF_INET socket sends 65507 at most),
 *  headroom left for every header. 0, or -1 with errno EMSGSIZE (too long), ENOBUFS (pool empty),
 *  ENETDOWN (no stack). */
int ff_zc_mbuf_get(struct ff_zc_mbuf *m, int len);
/** Appends `len` bytes at m->off. 0, or -1 with errno EINVAL (past the length asked for). */
int ff_zc_mbuf_write(struct ff_zc_mbuf *m, const char *data, int len);
/** Where the program may write the bytes [m->off, m->off + *avail) of the datagram in place (the
 *  current segment); advance m->off by what it wrote. NULL when the datagram is complete. */
void *ff_zc_mbuf_data(struct ff_zc_mbuf *m, int *avail);
/** Gives back buffers never sent. */
void ff_zc_mbuf_free(struct ff_zc_mbuf *m);
/**
 * Sends the m->len bytes of m as one datagram, as ff_sendto would (same checks, errors and SO_SNDBUF
 * accounting; `to` NULL on a connected socket). Returns m->len and takes the buffers, or -1 with errno.
 */
ssize_t ff_zc_sendto(int s, struct ff_zc_mbuf *m, int flags, const struct sockaddr *to, socklen_t tolen);

/** A datagram lent by ff_zc_recv: valid until ff_zc_recv_free. */
struct ff_zc_dgram {
	/** The packet buffer chain (an rte_mbuf *); opaque to the program. */
	void *mbuf;
	/** The first `seg_len` bytes of the payload, in place. */
	const void *data;
	uint32_t seg_len;
	/** The whole payload's length (more than seg_len only for a datagram in several segments). */
	uint32_t len;
	/** Source and destination address and port: `from` and `to` (AF_INET) from an AF_INET socket,
	 *  `from6` and `to6` (AF_INET6; an IPv4 datagram's addresses v4-mapped, a link-local source's
	 *  sin6_scope_id its port's interface index) from an AF_INET6 one. The family fields overlap. */
	union {
		struct sockaddr_in from;
		struct sockaddr_in6 from6;
	};
	union {
		struct sockaddr_in to;
		struct sockaddr_in6 to6;
	};
};

/**
 * Lends up to n queued datagrams of socket s, in order, in one call (MSG_DONTWAIT in flags, or a
 * non-blocking socket: never waits; otherwise waits for the first as ff_recvfrom does). Returns how
 * many, or -1 with errno (EAGAIN, a pending ECONNREFUSED, EBADF).
 */
int ff_zc_recv(int s, struct ff_zc_dgram *v, unsigned n, int flags);
/** The bytes [off, off + len) of a lent datagram: in place when they lie in one segment, else copied
 *  into buf (len bytes). NULL when the range lies outside the payload. */
const void *ff_zc_dgram_read(const struct ff_zc_dgram *d, uint32_t off, uint32_t len, void *buf);
/** Returns n lent datagrams to the stack, in one bulk release. */
void ff_zc_recv_free(struct ff_zc_dgram *v, unsigned n);

#ifdef __cplusplus
}
#endif

#endif
