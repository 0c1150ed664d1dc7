/*
 * mbuf helpers shared by the stack: one dynamic field that holds either a link into the stack's own
 * queues (neighbour hold queues, reassembly) — m->next belongs to multi-segment packets — or a
 * datagram's addresses and socket (struct ffs_meta, sock/sock.h); never both at once. And the packet
 * pool's budget for datagrams queued to sockets (net.inet.udp.recvmbufs).
 */
#ifndef FFNET_PHY_MBUF_H
#define FFNET_PHY_MBUF_H

#include <rte_mbuf.h>
#include <rte_mbuf_dyn.h>

#include "stack/sock/sock.h"

extern int ffs_mbuf_link_offset;
extern int ffs_mbuf_meta_offset;

/** Registers the stack's mbuf dynamic fields (idempotent). 0, or -1 with rte_errno set. */
int ffs_mbuf_dynfields_register(void);

struct ffs_lcore;
struct ffs_stack;

/**
 * mbufs of `mp` in use: its size less the free ones (its common store and every lcore's cache),
 * unclamped, so a double free shows as a count below what it should be, negative when nothing else
 * is in use. Exact while no other thread allocates or frees; a snapshot otherwise.
 */
int ffs_pool_in_use(const struct rte_mempool *mp);

/**
 * Declares `mp`'s per-lcore cache lengths as read by other threads (ffs_pool_in_use, a statistic) to
 * ThreadSanitizer; does nothing in other builds. Called once, when the pool is created.
 */
void ffs_pool_share_cache_lengths(const struct rte_mempool *mp);

/**
 * The most mbufs of the pool that may be in use while datagrams are still queued to sockets (and
 * packets held for resolution):
 * net.inet.udp.recvmbufs, or when it is 0, the pool less what the devices and lcores need to keep
 * receiving and replying (see mbuf.c).
 */
unsigned ffs_pool_rx_limit(const struct ffs_stack *st);

/** Bytes a queue may always hold while the pool is over ffs_pool_rx_limit (a page, as Linux's udp_rmem_min). */
#define FFS_SOCK_RMEM_MIN 4096

/**
 * Whether the calling lcore may keep one more packet in a queue that holds `queued` bytes (a
 * socket's receive queue, a neighbour's hold queue): false when the pool's occupancy has reached
 * ffs_pool_rx_limit (half-way from there to the pool's size for a queue under FFS_SOCK_RMEM_MIN), so
 * the receive rings keep the mbufs they refill from.
 */
bool ffs_pool_admits(struct ffs_lcore *lc, int queued);

/**
 * Appends `len` bytes of `src` to chain `head`, whose last segment is `*tail`, filling each segment's
 * tailroom and chaining fresh mbufs from `pool` as they fill (*tail follows). 0, or -ENOBUFS when the
 * pool runs dry (head keeps what was appended; the caller frees it).
 */
int ffs_mbuf_append_bytes(struct rte_mempool *pool, struct rte_mbuf *head, struct rte_mbuf **tail, const void *src,
			  size_t len);

/** As ffs_mbuf_append_bytes, the `len` bytes at offset `off` of packet `src` (any number of segments).
 *  -EINVAL when src holds fewer. */
int ffs_mbuf_append_from(struct rte_mempool *pool, struct rte_mbuf *head, struct rte_mbuf **tail,
			 const struct rte_mbuf *src, uint32_t off, uint32_t len);

/** The link to the next mbuf in a stack-private queue. */
static inline struct rte_mbuf **ffs_mbuf_link(struct rte_mbuf *m)
{
	return RTE_MBUF_DYNFIELD(m, ffs_mbuf_link_offset, struct rte_mbuf **);
}

/** A datagram's addresses and socket. */
static inline struct ffs_meta *ffs_meta(struct rte_mbuf *m)
{
	return RTE_MBUF_DYNFIELD(m, ffs_mbuf_meta_offset, struct ffs_meta *);
}

#endif
