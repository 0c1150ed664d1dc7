/*
 * The data path on the application side (see sock.h): copying a datagram into mbufs for its
 * socket's TX lcore, and out of the socket's RX ring; SO_SNDBUF and SO_RCVBUF accounting; readiness.
 * Owns: nothing shared but the socket's data fields (rx, peeked, rx_bytes, tx_bytes, tx_count,
 * so_error). May call: iface/ for the route checks a send makes, sock/bind.h to autobind, lcore/ to
 * wake the TX lcore; never takes ns_lock on a bound socket.
 */
#include <errno.h>
#include <string.h>
#include <sys/uio.h>
#include <rte_cycles.h>
#include <rte_mbuf.h>
#include <rte_ring.h>

#include "stack/iface/iface.h"
#include "stack/lcore/lcore.h"
#include "stack/phy/mbuf.h"
#include "stack/sock/bind.h"
#include "stack/sock/sock.h"

static size_t iov_total(const struct iovec *iov, int iovcnt)
{
	size_t n = 0;
	for (int i = 0; i < iovcnt; i++)
		n += iov[i].iov_len;
	return n;
}

/** Copies the iovec into `head` (a fresh mbuf), chaining more mbufs from the pool as needed
 *  (headroom left for every header). -1 when the pool is empty (head keeps what was chained). */
static int copy_into(struct rte_mempool *pool, struct rte_mbuf *head, const struct iovec *iov, int iovcnt, size_t len)
{
	if (iovcnt == 1 && len <= rte_pktmbuf_tailroom(head)) {
		/* The common case: one buffer into one segment. */
		if (len)
			memcpy(rte_pktmbuf_mtod(head, uint8_t *), iov[0].iov_base, len);
		head->data_len = (uint16_t)len;
		head->pkt_len = (uint32_t)len;
		return 0;
	}
	struct rte_mbuf *seg = head;
	int vi = 0;
	size_t voff = 0;
	size_t left = len;
	while (left) {
		size_t room = rte_pktmbuf_tailroom(seg);
		if (room == 0) {
			struct rte_mbuf *next = rte_pktmbuf_alloc(pool);
			if (!next || rte_pktmbuf_chain(head, next) != 0) {
				rte_pktmbuf_free(next);
				return -1;
			}
			seg = next;
			continue;
		}
		while (iov[vi].iov_len == voff) {
			vi++;
			voff = 0;
		}
		size_t n = iov[vi].iov_len - voff;
		if (n > room)
			n = room;
		if (n > left)
			n = left;
		memcpy(rte_pktmbuf_mtod_offset(seg, uint8_t *, seg->data_len), (const uint8_t *)iov[vi].iov_base + voff, n);
		seg->data_len = (uint16_t)(seg->data_len + n);
		if (seg != head)
			head->pkt_len += (uint32_t)n;
		else
			head->pkt_len = seg->data_len;
		voff += n;
		left -= n;
	}
	return 0;
}

/** Copies the iovec into a chain of mbufs (headroom left for every header). NULL when the pool is empty. */
static struct rte_mbuf *copy_in(struct rte_mempool *pool, const struct iovec *iov, int iovcnt, size_t len)
{
	struct rte_mbuf *head = rte_pktmbuf_alloc(pool);
	if (head && copy_into(pool, head, iov, iovcnt, len) != 0) {
		rte_pktmbuf_free(head);
		return NULL;
	}
	return head;
}

/** Takes the pending error (an ICMP report), with no locked instruction when there is none. */
static inline int take_error(struct ffs_sock *so)
{
	return atomic_load_explicit(&so->so_error, memory_order_relaxed) ? atomic_exchange(&so->so_error, 0) : 0;
}

/** The TX metadata of a datagram from `so` to dst:dport. */
static void stamp(struct ffs_sock *so, struct rte_mbuf *m, uint32_t dst, uint16_t dport)
{
	struct ffs_meta *meta = ffs_meta(m);
	bool mcast = ipv4_is_multicast(dst);
	*meta = (struct ffs_meta){
		.src = so->laddr && !ipv4_is_multicast(so->laddr) && so->laddr != 0xffffffffu ? so->laddr : 0,
		.dst = dst,
		.sport = so->lport,
		.dport = dport,
		.sock_id = (uint16_t)so->id,
		.sock_gen = so->gen,
		.ttl = mcast ? so->mcast_ttl : so->ttl,
		.tos = so->tos,
		.flags = mcast && so->mcast_loop ? FFS_META_MCAST_LOOP : 0,
	};
	if (mcast && so->mcast_if && !meta->src)
		meta->src = so->mcast_if;
}

int ffs_sock_sendv(struct ffs_stack *st, struct ffs_sock *so, const struct iovec *iov, int iovcnt, uint32_t dst,
		   uint16_t dport)
{
	int err = take_error(so);
	if (err)
		return -err;
	if (dst == 0 && dport == 0) {
		if (!so->connected)
			return -EDESTADDRREQ;
		dst = so->raddr;
		dport = so->rport;
	}
	if (dport == 0)
		return -EINVAL;
	size_t len = iov_total(iov, iovcnt);
	if (len > FFS_UDP_MAX_PAYLOAD)
		return -EMSGSIZE;
	/* Linux routes first (ENETUNREACH), then refuses a broadcast route without SO_BROADCAST. */
	if (!route_source(st, dst))
		return -ENETUNREACH;
	if (route_is_broadcast(st, dst) && !so->broadcast)
		return -EACCES;
	if (!so->bound) {
		int rc = ffs_sock_autobind(st, so);
		if (rc < 0)
			return rc;
	}
	int charge = (int)len + FFS_DGRAM_OVERHEAD;
	/* Inline mode on a thread that turns lcores: this thread may be the one that drains the TX ring. */
	bool drive = ffs_stack_thread_drives(st);
	for (unsigned waited = 0; atomic_load(&so->tx_bytes) + charge > so->sndbuf; waited++) {
		if (so->nonblock || waited > 20000)
			return -EAGAIN;
		if (!drive || !ffs_stack_poll_thread(st))
			rte_delay_us_sleep(50);
	}
	struct rte_mbuf *m = copy_in(st->pool, iov, iovcnt, len);
	if (!m)
		return -ENOBUFS;
	stamp(so, m, dst, dport);
	struct ffs_lcore *lc = st->lcores[so->tx_lcore];
	atomic_fetch_add(&so->tx_bytes, charge);
	atomic_fetch_add(&so->tx_count, 1);
	if (rte_ring_mp_enqueue(lc->tx_in, m) != 0) {
		atomic_fetch_sub(&so->tx_bytes, charge);
		atomic_fetch_sub(&so->tx_count, 1);
		rte_pktmbuf_free(m);
		return so->nonblock ? -EAGAIN : -ENOBUFS;
	}
	ffs_lcore_wake(lc);
	return (int)len;
}

int ffs_sock_sendv_burst(struct ffs_stack *st, struct ffs_sock *so, const struct ffs_dgram_out *v, unsigned n)
{
	if (n == 0 || !so->bound || atomic_load_explicit(&so->so_error, memory_order_relaxed))
		return 0;
	if (n > FFS_BURST)
		n = FFS_BURST;
	/* Check each datagram as ffs_sock_sendv would (routes once per destination), and stop before the
	 * first that fails or does not fit in SO_SNDBUF now. */
	int room = so->sndbuf - atomic_load(&so->tx_bytes);
	int charge = 0;
	uint32_t dsts[FFS_BURST];
	uint16_t dports[FFS_BURST];
	size_t lens[FFS_BURST];
	uint32_t checked_dst = 0;
	bool checked = false;
	unsigned k = 0;
	for (; k < n; k++) {
		uint32_t dst = v[k].dst;
		uint16_t dport = v[k].dport;
		if (dst == 0 && dport == 0) {
			if (!so->connected)
				break;
			dst = so->raddr;
			dport = so->rport;
		}
		if (dport == 0)
			break;
		size_t len = iov_total(v[k].iov, v[k].iovcnt);
		if (len > FFS_UDP_MAX_PAYLOAD || charge + (int)len + FFS_DGRAM_OVERHEAD > room)
			break;
		if (!checked || dst != checked_dst) {
			if (!route_source(st, dst) || (route_is_broadcast(st, dst) && !so->broadcast))
				break;
			checked = true;
			checked_dst = dst;
		}
		charge += (int)len + FFS_DGRAM_OVERHEAD;
		dsts[k] = dst;
		dports[k] = dport;
		lens[k] = len;
	}
	if (k == 0)
		return 0;
	struct rte_mbuf *pkts[FFS_BURST];
	if (rte_pktmbuf_alloc_bulk(st->pool, pkts, k) != 0)
		return 0;
	for (unsigned i = 0; i < k; i++) {
		if (copy_into(st->pool, pkts[i], v[i].iov, v[i].iovcnt, lens[i]) != 0) {
			rte_pktmbuf_free_bulk(pkts + i, k - i);
			for (unsigned j = i; j < k; j++)
				charge -= (int)lens[j] + FFS_DGRAM_OVERHEAD;
			k = i;
			break;
		}
		stamp(so, pkts[i], dsts[i], dports[i]);
	}
	if (k == 0)
		return 0;
	struct ffs_lcore *lc = st->lcores[so->tx_lcore];
	atomic_fetch_add(&so->tx_bytes, charge);
	atomic_fetch_add(&so->tx_count, (int)k);
	unsigned sent = rte_ring_mp_enqueue_burst(lc->tx_in, (void **)pkts, k, NULL);
	if (sent < k) {
		int back = 0;
		for (unsigned i = sent; i < k; i++)
			back += (int)lens[i] + FFS_DGRAM_OVERHEAD;
		atomic_fetch_sub(&so->tx_bytes, back);
		atomic_fetch_sub(&so->tx_count, (int)(k - sent));
		rte_pktmbuf_free_bulk(pkts + sent, k - sent);
	}
	if (sent)
		ffs_lcore_wake(lc);
	return (int)sent;
}

/** Takes the next datagram off the RX ring, or NULL. */
static struct rte_mbuf *next_datagram(struct ffs_sock *so)
{
	void *obj = NULL;
	if (!so->rx || rte_ring_sc_dequeue(so->rx, &obj) != 0)
		return NULL;
	return obj;
}

int ffs_sock_recvv(struct ffs_stack *st, struct ffs_sock *so, const struct iovec *iov, int iovcnt, uint32_t *src,
		   uint16_t *sport, uint32_t *dst, bool *truncated, bool peek)
{
	(void)st;
	int err = take_error(so);
	if (err)
		return -err;
	struct rte_mbuf *m = so->peeked;
	if (!m) {
		m = next_datagram(so);
		if (!m)
			return -EAGAIN;
	}
	const struct ffs_meta *meta = ffs_meta(m);
	uint32_t len = rte_pktmbuf_pkt_len(m);
	uint32_t off = 0;
	for (int i = 0; i < iovcnt && off < len; i++) {
		uint32_t n = (uint32_t)iov[i].iov_len < len - off ? (uint32_t)iov[i].iov_len : len - off;
		const void *p = rte_pktmbuf_read(m, off, n, iov[i].iov_base);
		if (p != iov[i].iov_base)
			memcpy(iov[i].iov_base, p, n);
		off += n;
	}
	if (truncated)
		*truncated = off < len;
	if (src)
		*src = meta->src;
	if (sport)
		*sport = meta->sport;
	if (dst)
		*dst = meta->dst;
	if (peek) {
		so->peeked = m;
	} else {
		so->peeked = NULL;
		atomic_fetch_sub(&so->rx_bytes, (int)len + FFS_DGRAM_OVERHEAD);
		rte_pktmbuf_free(m);
	}
	return (int)len;
}

int ffs_sock_recvv_burst(struct ffs_stack *st, struct ffs_sock *so, struct ffs_dgram_in *v, unsigned n)
{
	(void)st;
	if (n == 0 || !so->rx || atomic_load_explicit(&so->so_error, memory_order_relaxed))
		return 0;
	if (n > FFS_BURST)
		n = FFS_BURST;
	struct rte_mbuf *pkts[FFS_BURST];
	unsigned k = 0;
	if (so->peeked) {
		pkts[k++] = so->peeked;
		so->peeked = NULL;
	}
	k += rte_ring_sc_dequeue_burst(so->rx, (void **)pkts + k, n - k, NULL);
	int bytes = 0;
	for (unsigned i = 0; i < k; i++) {
		struct rte_mbuf *m = pkts[i];
		const struct ffs_meta *meta = ffs_meta(m);
		struct ffs_dgram_in *d = &v[i];
		uint32_t len = rte_pktmbuf_pkt_len(m);
		uint32_t off = 0;
		for (int j = 0; j < d->iovcnt && off < len; j++) {
			uint32_t c = (uint32_t)d->iov[j].iov_len < len - off ? (uint32_t)d->iov[j].iov_len : len - off;
			if (m->nb_segs == 1) {
				memcpy(d->iov[j].iov_base, rte_pktmbuf_mtod_offset(m, const uint8_t *, off), c);
			} else {
				const void *p = rte_pktmbuf_read(m, off, c, d->iov[j].iov_base);
				if (p != d->iov[j].iov_base)
					memcpy(d->iov[j].iov_base, p, c);
			}
			off += c;
		}
		d->truncated = off < len;
		d->src = meta->src;
		d->sport = meta->sport;
		d->dst = meta->dst;
		d->len = (int)len;
		bytes += (int)len + FFS_DGRAM_OVERHEAD;
	}
	if (k) {
		atomic_fetch_sub(&so->rx_bytes, bytes);
		rte_pktmbuf_free_bulk(pkts, k);
	}
	return (int)k;
}

int ffs_sock_next_len(struct ffs_sock *so)
{
	if (!so->peeked)
		so->peeked = next_datagram(so);
	return so->peeked ? (int)rte_pktmbuf_pkt_len(so->peeked) : 0;
}

bool ffs_sock_readable(struct ffs_sock *so)
{
	return so->peeked || atomic_load(&so->so_error) || (so->rx && ffs_ring_nonempty(so->rx));
}

bool ffs_sock_writable(struct ffs_sock *so)
{
	return atomic_load(&so->tx_bytes) + FFS_DGRAM_OVERHEAD < so->sndbuf;
}
