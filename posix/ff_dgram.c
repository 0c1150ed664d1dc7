/*
 * Receive-side helpers for event-loop front ends (the node:dgram drop-in): which sockets the stack
 * signalled, datagrams copied back to back into one caller buffer, or lent in place (described by
 * their offset in the packet pool's memory) and given back in bulk, and a socket's send queue. Plain
 * C over the socket layer so the Node addon needs no stack internals.
 */
#include <errno.h>
#include <stddef.h>
#include <string.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>

#include "posix/ff_api.h"
#include "posix/ff_dgram.h"
#include "posix/ff_internal.h"
#include "stack/lcore/lcore.h"
#include "stack/phy/mbuf.h"
#include "stack/sock/sock.h"

int ff_dgram_ready(uint32_t *ids, unsigned max)
{
	struct ffs_stack *st = ffs_stack_current();
	struct ffs_app *app = st ? ff_app(st) : NULL;
	if (!app)
		return -ENETDOWN;
	ffs_stack_poll_thread(st);
	return (int)ff_app_take(st, ids, max);
}

/* The socket layer fills the descriptors in place: the two structs are one layout. */
_Static_assert(sizeof(struct ff_dgram_desc) == sizeof(struct ffs_dgram_packed) &&
		       offsetof(struct ff_dgram_desc, offset) == offsetof(struct ffs_dgram_packed, offset) &&
		       offsetof(struct ff_dgram_desc, len) == offsetof(struct ffs_dgram_packed, len) &&
		       offsetof(struct ff_dgram_desc, addr) == offsetof(struct ffs_dgram_packed, src) &&
		       offsetof(struct ff_dgram_desc, port) == offsetof(struct ffs_dgram_packed, sport),
	       "ff_dgram_desc and ffs_dgram_packed differ");
_Static_assert(FF_DGRAM_V6 == FFS_PACKED_V6, "FF_DGRAM_V6 is the socket layer's FFS_PACKED_V6");

/** A pending socket error (ECONNREFUSED) as a negative errno, taken; 0 when there is none. It is
 *  reported before more datagrams, as recvmsg reports it. */
static int take_pending_error(struct ffs_sock *so)
{
	if (!atomic_load_explicit(&so->so_error, memory_order_relaxed))
		return 0;
	return -atomic_exchange(&so->so_error, 0);
}

/* ff_dgram_info is the socket layer's ffs_pktinfo, filled in place. */
_Static_assert(sizeof(struct ff_dgram_info) == sizeof(struct ffs_pktinfo) &&
		       offsetof(struct ff_dgram_info, addr) == offsetof(struct ffs_pktinfo, dst) &&
		       offsetof(struct ff_dgram_info, addr6) == offsetof(struct ffs_pktinfo, dst6) &&
		       offsetof(struct ff_dgram_info, ifindex) == offsetof(struct ffs_pktinfo, ifindex),
	       "ff_dgram_info and ffs_pktinfo differ");

/** ff_dgram_recv_packed_info, inlined into both entry points (the plain one passes no info). */
static inline __attribute__((always_inline)) int recv_packed(int fd, uint8_t *buf, size_t cap, unsigned max,
							     struct ff_dgram_desc *desc, struct ff_dgram_info *info)
{
	struct ffs_stack *st = ffs_stack_current();
	FF_READER();
	struct ffs_sock *so = ff_sock_lookup(st, fd);
	if (!so)
		return -EBADF;
	int err = take_pending_error(so);
	if (err)
		return err;
	int n = ffs_sock_recv_packed(st, so, buf, cap, (struct ffs_dgram_packed *)desc, max, (struct ffs_pktinfo *)info);
	return n ? n : -EAGAIN;
}

int ff_dgram_recv_packed(int fd, uint8_t *buf, size_t cap, unsigned max, struct ff_dgram_desc *desc)
{
	return recv_packed(fd, buf, cap, max, desc, NULL);
}

int ff_dgram_recv_packed_info(int fd, uint8_t *buf, size_t cap, unsigned max, struct ff_dgram_desc *desc,
			      struct ff_dgram_info *info)
{
	return recv_packed(fd, buf, cap, max, desc, info);
}

void ff_dgram_lent_info(void *const *lent, unsigned n, struct ff_dgram_info *info)
{
	struct ffs_stack *st = ffs_stack_current();
	for (unsigned i = 0; st && i < n; i++)
		ffs_dgram_pktinfo(st, lent[i], (struct ffs_pktinfo *)&info[i]);
}

int ff_dgram_pool_span(const void **base, size_t *len)
{
	struct ffs_stack *st = ffs_stack_current();
	if (!st)
		return -ENETDOWN;
	if (st->pool->nb_mem_chunks != 1)
		return -ENOTSUP;
	const struct rte_mempool_memhdr *hdr = STAILQ_FIRST(&st->pool->mem_list);
	*base = hdr->addr;
	*len = hdr->len;
	return 0;
}

int ff_dgram_lend(int fd, const uint8_t *base, size_t span, uint8_t *buf, size_t cap, unsigned max,
		  struct ff_dgram_desc *desc, void **lent, struct ff_dgram_loan *loan)
{
	*loan = (struct ff_dgram_loan){ 0 };
	struct ffs_stack *st = ffs_stack_current();
	FF_READER();
	struct ffs_sock *so = ff_sock_lookup(st, fd);
	if (!so)
		return -EBADF;
	int err = take_pending_error(so);
	if (err)
		return err;
	size_t off = 0;
	unsigned done = 0;
	int bytes = 0;
	while (done < max) {
		struct rte_mbuf **pkts = (struct rte_mbuf **)lent + done;
		unsigned want = max - done < FFS_BURST ? max - done : FFS_BURST;
		unsigned got = ffs_sock_rx_peek(so, pkts, want);
		unsigned k = 0;
		for (; k < got; k++) {
			struct rte_mbuf *m = pkts[k];
			uint32_t len = rte_pktmbuf_pkt_len(m);
			const struct ffs_meta *meta = ffs_meta(m);
			struct ff_dgram_desc *d = &desc[done + k];
			*d = (struct ff_dgram_desc){ .len = len, .addr = meta->src, .port = meta->sport };
			bytes += (int)len + FFS_DGRAM_OVERHEAD;
			const uint8_t *data = rte_pktmbuf_mtod(m, const uint8_t *);
			bool v6 = meta->flags & FFS_META_V6;
			if (m->nb_segs == 1 && data >= base && data + len <= base + span) {
				d->offset = (uint32_t)(data - base);
				if (v6) {
					/* The IPv6 header lies in the headroom: its source, 8 bytes into it, lent too;
					 * a link-local source with its link's scope (others have none). */
					d->addr = meta->src - 8;
					uint32_t scope = ffs_in6_is_linklocal(data - d->addr) ? meta->dst & 0xffu : 0;
					d->port |= FF_DGRAM_V6 | scope << 24;
				}
				continue;
			}
			/* Copied: a datagram in several segments (not contiguous), or one whose buffer is not
			 * the pool's (a device's external buffer); an IPv6 one's source in the 16 bytes before. */
			size_t pre = v6 ? 16 : 0;
			if (off + pre + len > cap) {
				bytes -= (int)len + FFS_DGRAM_OVERHEAD;
				break;
			}
			if (pre) {
				ffs_packed_src6(m, buf + off, (struct ffs_dgram_packed *)d);
				off += pre;
			}
			const void *p = rte_pktmbuf_read(m, 0, len, buf + off);
			if (p != buf + off) /* all of it in the first segment, the others empty */
				memcpy(buf + off, p, len);
			d->offset = (uint32_t)off;
			d->port |= FF_DGRAM_COPIED;
			off += (len + 7) & ~(size_t)7;
		}
		/* What did not fit stays queued, the next to be received. */
		ffs_sock_rx_take(so, k);
		done += k;
		if (k < want)
			break;
	}
	*loan = (struct ff_dgram_loan){ .sock_id = so->id, .sock_gen = so->gen, .bytes = bytes };
	return done ? (int)done : -EAGAIN;
}

void ff_dgram_return(const struct ff_dgram_loan *loan, void **lent, unsigned n)
{
	struct ffs_stack *st = ffs_stack_current();
	FF_READER();
	if (!st || n == 0)
		return;
	ffs_sock_rx_uncharge(st, loan->sock_id, loan->sock_gen, loan->bytes);
	rte_pktmbuf_free_bulk((struct rte_mbuf **)lent, n);
}

int ff_dgram_send_queue(int fd, uint32_t *bytes, uint32_t *count)
{
	struct ffs_stack *st = ffs_stack_current();
	FF_READER();
	struct ffs_sock *so = ff_sock_lookup(st, fd);
	if (!so)
		return -EBADF;
	int b = atomic_load(&so->tx_bytes), c = atomic_load(&so->tx_count);
	*count = c > 0 ? (uint32_t)c : 0;
	*bytes = b > 0 && c > 0 ? (uint32_t)(b - c * FFS_DGRAM_OVERHEAD) : 0;
	return 0;
}
