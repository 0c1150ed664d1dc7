/* The stack's mbuf dynamic fields, chain building, and the pool's budget for queued datagrams (see mbuf.h). */
#include <errno.h>
#include <string.h>

#include "stack/lcore/lcore.h"
#include "stack/phy/mbuf.h"

int ffs_mbuf_link_offset = -1;
int ffs_mbuf_meta_offset = -1;

/*
 * One dynamic field serves both uses: a packet is linked into a stack queue (ARP hold, reassembly)
 * only while its ffs_meta is not needed (TX: copied out before headers are built; RX: written after
 * reassembly). The mbuf's dynamic area is 36 bytes and PMDs take some of it (net_pcap's timestamp),
 * so the stack claims as little as it can.
 */
union ffs_mbuf_scratch {
	struct ffs_meta meta;
	struct rte_mbuf *link;
};

int ffs_mbuf_dynfields_register(void)
{
	static const struct rte_mbuf_dynfield field = {
		.name = "ffnet_scratch",
		.size = sizeof(union ffs_mbuf_scratch),
		.align = __alignof__(union ffs_mbuf_scratch),
	};
	if (ffs_mbuf_meta_offset >= 0)
		return 0;
	int off = rte_mbuf_dynfield_register(&field);
	if (off < 0)
		return -1;
	ffs_mbuf_link_offset = ffs_mbuf_meta_offset = off;
	return 0;
}

int ffs_mbuf_append_bytes(struct rte_mempool *pool, struct rte_mbuf *head, struct rte_mbuf **tail, const void *src,
			  size_t len)
{
	struct rte_mbuf *seg = *tail;
	const uint8_t *from = src;
	while (len) {
		size_t room = rte_pktmbuf_tailroom(seg);
		if (room == 0) {
			struct rte_mbuf *next = rte_pktmbuf_alloc(pool);
			if (!next)
				return -ENOBUFS;
			seg->next = next;
			head->nb_segs++;
			*tail = seg = next;
			continue;
		}
		size_t n = len < room ? len : room;
		memcpy(rte_pktmbuf_mtod_offset(seg, uint8_t *, seg->data_len), from, n);
		seg->data_len = (uint16_t)(seg->data_len + n);
		head->pkt_len += (uint32_t)n;
		from += n;
		len -= n;
	}
	return 0;
}

int ffs_mbuf_append_from(struct rte_mempool *pool, struct rte_mbuf *head, struct rte_mbuf **tail,
			 const struct rte_mbuf *src, uint32_t off, uint32_t len)
{
	if ((uint64_t)off + len > rte_pktmbuf_pkt_len(src))
		return -EINVAL;
	const struct rte_mbuf *seg = src;
	while (seg && off >= seg->data_len) {
		off -= seg->data_len;
		seg = seg->next;
	}
	for (; seg && len; seg = seg->next, off = 0) {
		uint32_t n = seg->data_len - off < len ? seg->data_len - off : len;
		int rc = ffs_mbuf_append_bytes(pool, head, tail, rte_pktmbuf_mtod_offset(seg, const uint8_t *, off), n);
		if (rc != 0)
			return rc;
		len -= n;
	}
	return len ? -EINVAL : 0;
}

#if defined(__SANITIZE_THREAD__)
#define FFS_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define FFS_TSAN 1
#endif
#endif
#ifdef FFS_TSAN
/* ThreadSanitizer's runtime (no public header declares it). */
void AnnotateBenignRaceSized(const char *file, int line, const volatile void *mem, long size, const char *desc);
#endif

void ffs_pool_share_cache_lengths(const struct rte_mempool *mp)
{
#ifdef FFS_TSAN
	/* DPDK's inline get/put write a cache's length plainly: an atomic load alone still pairs with a
	 * plain write. Only the length is declared; the cache's objects stay checked, so two threads
	 * sharing one cache are still reported. */
	if (mp->cache_size)
		for (unsigned i = 0; i < RTE_MAX_LCORE; i++)
			AnnotateBenignRaceSized(__FILE__, __LINE__, &mp->local_cache[i].len,
						sizeof(mp->local_cache[i].len), "mempool cache length, read by ffs_pool_in_use");
#else
	(void)mp;
#endif
}

int ffs_pool_in_use(const struct rte_mempool *mp)
{
	/* rte_mempool_in_use_count clamps the free count at the pool's size, so a double free (one mbuf
	 * counted free twice) reads as fewer mbufs in use, or none, instead of as a negative count. */
	long free = (long)rte_mempool_get_ops(mp->ops_index)->get_count(mp);
	/* Each cache's length is written by its own lcore while this reads it: a statistic, read once
	 * and atomically, whose staleness by a burst the callers allow for. */
	if (mp->cache_size)
		for (unsigned i = 0; i < RTE_MAX_LCORE; i++)
			free += __atomic_load_n(&mp->local_cache[i].len, __ATOMIC_RELAXED);
	return (int)((long)mp->size - free);
}

unsigned ffs_pool_rx_limit(const struct ffs_stack *st)
{
	int64_t set = ffs_sysctl(st, FFS_SYSCTL_UDP_RECVMBUFS);
	const struct rte_mempool *mp = st->pool;
	if (set > 0)
		return set < (int64_t)mp->size ? (unsigned)set : mp->size;
	/* What must stay free so that every queue can refill a burst, answer it (ICMP, ARP) and keep a
	 * full TX ring in flight (NICs free sent mbufs late); plus what other threads' mempool caches may
	 * hold out of reach of this lcore (flushed only above 1.5 times the cache size, DPDK's
	 * CACHE_FLUSHTHRESH_MULTIPLIER). The RX descriptors themselves are already in use. */
	unsigned reserve = (st->n_lcores + 1) * mp->cache_size * 3 / 2, rx = 0;
	for (unsigned p = 0; p < st->n_ports; p++) {
		reserve += st->ports[p].nb_txq * st->ports[p].nb_txd + st->n_lcores * 2 * FFS_BURST;
		rx += st->ports[p].nb_rxq * st->ports[p].nb_rxd;
	}
	/* A pool too small for that still gives sockets half of what the receive rings leave. */
	unsigned floor = (mp->size + rx) / 2;
	return mp->size > reserve && mp->size - reserve > floor ? mp->size - reserve : floor;
}

bool ffs_pool_admits(struct ffs_lcore *lc, int queued)
{
	struct rte_mempool *mp = lc->st->pool;
	/* ffs_pool_in_use walks every lcore's cache, and the limit every port: read both once per turn,
	 * and count each datagram queued since as taken (mbufs freed meanwhile are seen next turn). */
	if (lc->pool_seen_tsc != lc->now) {
		lc->pool_seen_tsc = lc->now;
		int in_use = ffs_pool_in_use(mp);
		lc->pool_in_use = in_use > 0 ? (unsigned)in_use : 0;
		lc->pool_rx_limit = ffs_pool_rx_limit(lc->st);
	}
	unsigned limit = lc->pool_rx_limit;
	/* A queue holding less than a page still gets its packet (Linux's udp_rmem_min), so a socket that
	 * keeps reading is not starved by those that do not, up to half of what lies above the limit. */
	if (queued < FFS_SOCK_RMEM_MIN)
		limit += (mp->size - limit) / 2;
	if (lc->pool_in_use >= limit)
		return false;
	lc->pool_in_use++;
	return true;
}
