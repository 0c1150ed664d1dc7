/*
 * Zero-copy receive for C programs (posix/ff_zc.h): ff_zc_recv lends a socket's queued datagrams as
 * the stack's own mbufs, ff_zc_dgram_read reads a range of one, ff_zc_recv_free gives them back.
 * A lent datagram stays charged against its socket's SO_RCVBUF until it is given back, from any
 * thread (the mbuf carries its socket's slot and generation, so a socket closed meanwhile is left
 * alone); datagrams go back to the pool in one bulk release per call.
 */
#include <errno.h>
#include <string.h>
#include <arpa/inet.h>
#include <rte_mbuf.h>

#include "posix/ff_internal.h"
#include "posix/ff_zc.h"
#include "stack/lcore/lcore.h"
#include "stack/phy/mbuf.h"
#include "stack/sock/sock.h"

static struct sockaddr_in sin_of(uint32_t addr, uint16_t port)
{
	return (struct sockaddr_in){ .sin_family = AF_INET, .sin_port = htons(port), .sin_addr.s_addr = htonl(addr) };
}

/** Lent datagram m's addresses as an AF_INET6 socket reports them, into d's from6 and to6. */
static void sin6_of(struct rte_mbuf *m, struct ff_zc_dgram *d)
{
	const struct ffs_meta *meta = ffs_meta(m);
	struct ffs_src6 src;
	d->from6 = (struct sockaddr_in6){ .sin6_family = AF_INET6, .sin6_port = htons(meta->sport) };
	d->to6 = (struct sockaddr_in6){ .sin6_family = AF_INET6, .sin6_port = htons(meta->dport) };
	ffs_dgram_addrs6(m, &src, d->to6.sin6_addr.s6_addr);
	memcpy(&d->from6.sin6_addr, src.addr, 16);
	d->from6.sin6_scope_id = src.scope_id;
}

/** Lends up to n datagrams queued on so into v, in bursts; returns how many. */
static unsigned lend(struct ffs_sock *so, struct ff_zc_dgram *v, unsigned n)
{
	unsigned done = 0;
	while (done < n) {
		struct rte_mbuf *pkts[FFS_BURST];
		unsigned want = n - done < FFS_BURST ? n - done : FFS_BURST;
		unsigned k = ffs_sock_rx_lend(so, pkts, want);
		for (unsigned i = 0; i < k; i++) {
			struct rte_mbuf *m = pkts[i];
			const struct ffs_meta *meta = ffs_meta(m);
			struct ff_zc_dgram *d = &v[done + i];
			*d = (struct ff_zc_dgram){
				.mbuf = m,
				.data = rte_pktmbuf_mtod(m, const void *),
				.seg_len = m->data_len,
				.len = rte_pktmbuf_pkt_len(m),
			};
			if (so->v6)
				sin6_of(m, d);
			else {
				d->from = sin_of(meta->src, meta->sport);
				d->to = sin_of(meta->dst, meta->dport);
			}
		}
		done += k;
		if (k < want)
			break;
	}
	return done;
}

int ff_zc_recv(int s, struct ff_zc_dgram *v, unsigned n, int flags)
{
	struct ffs_stack *st = ffs_stack_current();
	FF_READER();
	struct ffs_sock *so = ff_sock_lookup(st, s);
	if (!so) {
		errno = EBADF;
		return -1;
	}
	if (flags & ~MSG_DONTWAIT) {
		errno = EOPNOTSUPP;
		return -1;
	}
	if (n == 0)
		return 0;
	if (!v) {
		errno = EFAULT;
		return -1;
	}
	for (;;) {
		/* A pending error (ECONNREFUSED) is reported before more datagrams, as recvmsg reports it. */
		int err = atomic_load_explicit(&so->so_error, memory_order_relaxed) ? atomic_exchange(&so->so_error, 0) : 0;
		if (err) {
			errno = err;
			return -1;
		}
		unsigned got = lend(so, v, n);
		if (got)
			return (int)got;
		if (so->nonblock || (flags & MSG_DONTWAIT)) {
			errno = EAGAIN;
			return -1;
		}
		/* A close on another thread while this one waits ends the wait: EBADF. */
		struct sock_wait w = { st, so->id, so->gen, false };
		if (ff_wait(st, sock_ready, &w, -1) < 0) {
			errno = EINTR;
			return -1;
		}
		so = sock_again(&w);
		if (!so) {
			errno = EBADF;
			return -1;
		}
	}
}

const void *ff_zc_dgram_read(const struct ff_zc_dgram *d, uint32_t off, uint32_t len, void *buf)
{
	if (!d || !d->mbuf || off > d->len || len > d->len - off)
		return NULL;
	return rte_pktmbuf_read(d->mbuf, off, len, buf);
}

void ff_zc_recv_free(struct ff_zc_dgram *v, unsigned n)
{
	struct ffs_stack *st = ffs_stack_current();
	if (!v || n == 0 || !st)
		return;
	FF_READER();
	struct rte_mbuf *pkts[FFS_BURST];
	unsigned k = 0;
	for (unsigned i = 0; i < n; i++) {
		if (!v[i].mbuf)
			continue;
		pkts[k++] = v[i].mbuf;
		v[i].mbuf = NULL;
		if (k == FFS_BURST) {
			ffs_sock_rx_return(st, pkts, k);
			k = 0;
		}
	}
	ffs_sock_rx_return(st, pkts, k);
}
