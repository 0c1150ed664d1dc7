/*
 * Zero-copy sends (posix/ff_zc.h): a datagram written by the program straight into packet buffers of
 * the stack's pool and handed to the socket layer as it is (ffs_sock_send_mbuf), where ff_sendto
 * copies the program's buffer into them.
 *
 * ff_zc_mbuf_get takes every segment the datagram needs at once, each a fresh mbuf with the pool's
 * headroom (room for the UDP, IP and Ethernet headers in front of the first); segment i holds the
 * payload bytes [i * room, (i + 1) * room), so a write position is found without walking the chain
 * and the segments' lengths are set once, when the datagram is sent.
 */
#include <errno.h>
#include <string.h>
#include <rte_mbuf.h>

#include "posix/ff_internal.h"
#include "posix/ff_zc.h"
#include "stack/lcore/lcore.h"

/** Bytes of payload one segment of the chain holds: a fresh mbuf's tailroom (all come from one pool). */
static inline uint32_t seg_room(const struct rte_mbuf *head)
{
	return (uint32_t)head->buf_len - RTE_PKTMBUF_HEADROOM;
}

/** Segments a `len`-byte datagram takes (one at least: an empty datagram is one empty segment). */
static unsigned seg_count(uint32_t len, uint32_t room)
{
	return len ? (len + room - 1) / room : 1;
}

int ff_zc_mbuf_get(struct ff_zc_mbuf *m, int len)
{
	struct ffs_stack *st = ffs_stack_current();
	if (!st) {
		errno = ENETDOWN;
		return -1;
	}
	/* The larger of the families' limits: an AF_INET socket's send refuses past 65507 (EMSGSIZE). */
	if (!m || len < 0 || len > FFS_UDP6_MAX_PAYLOAD) {
		errno = m ? EMSGSIZE : EINVAL;
		return -1;
	}
	uint32_t room = rte_pktmbuf_data_room_size(st->pool) - RTE_PKTMBUF_HEADROOM;
	unsigned n = seg_count((uint32_t)len, room);
	struct rte_mbuf *segs[FFS_UDP6_MAX_PAYLOAD / 512 + 2];
	/* rte_pktmbuf_alloc_bulk is an out-of-line loop: a one-segment datagram's mbuf comes straight from the pool. */
	if (n > RTE_DIM(segs) || (n == 1 ? !(segs[0] = rte_pktmbuf_alloc(st->pool)) : rte_pktmbuf_alloc_bulk(st->pool, segs, n) != 0)) {
		errno = ENOBUFS;
		return -1;
	}
	for (unsigned i = 1; i < n; i++)
		segs[i - 1]->next = segs[i];
	segs[0]->nb_segs = (uint16_t)n;
	m->bsd_mbuf = segs[0];
	m->off = 0;
	m->len = len;
	return 0;
}

void *ff_zc_mbuf_data(struct ff_zc_mbuf *m, int *avail)
{
	if (!m || !m->bsd_mbuf || m->off < 0 || m->off >= m->len) {
		if (avail)
			*avail = 0;
		return NULL;
	}
	struct rte_mbuf *seg = m->bsd_mbuf;
	uint32_t room = seg_room(seg);
	for (uint32_t i = (uint32_t)m->off / room; i > 0; i--)
		seg = seg->next;
	uint32_t at = (uint32_t)m->off % room;
	uint32_t left = (uint32_t)(m->len - m->off);
	if (avail)
		*avail = (int)(room - at < left ? room - at : left);
	return rte_pktmbuf_mtod_offset(seg, uint8_t *, at);
}

int ff_zc_mbuf_write(struct ff_zc_mbuf *m, const char *data, int len)
{
	if (!m || !m->bsd_mbuf || len < 0 || m->off < 0 || len > m->len - m->off || (!data && len)) {
		errno = EINVAL;
		return -1;
	}
	while (len > 0) {
		int avail;
		uint8_t *to = ff_zc_mbuf_data(m, &avail);
		int n = avail < len ? avail : len;
		memcpy(to, data, (size_t)n);
		data += n;
		len -= n;
		m->off += n;
	}
	return 0;
}

void ff_zc_mbuf_free(struct ff_zc_mbuf *m)
{
	if (!m || !m->bsd_mbuf)
		return;
	rte_pktmbuf_free(m->bsd_mbuf);
	m->bsd_mbuf = NULL;
}

ssize_t ff_zc_sendto(int s, struct ff_zc_mbuf *m, int flags, const struct sockaddr *to, socklen_t tolen)
{
	if (!m || !m->bsd_mbuf) {
		errno = EINVAL;
		return -1;
	}
	/* The segments' lengths, from the datagram's: segment i holds [i * room, (i + 1) * room). */
	struct rte_mbuf *head = m->bsd_mbuf;
	uint32_t room = seg_room(head);
	uint32_t left = (uint32_t)m->len;
	for (struct rte_mbuf *seg = head; seg; seg = seg->next) {
		seg->data_len = (uint16_t)(left < room ? left : room);
		left -= seg->data_len;
	}
	head->pkt_len = (uint32_t)m->len;
	/* A datagram not written to its end would carry whatever the buffers held before. */
	ssize_t rc;
	if (m->off != m->len) {
		errno = EINVAL;
		rc = -1;
	} else {
		rc = ff_send_dgram(s, NULL, 0, head, flags, to, tolen);
	}
	if (rc >= 0)
		m->bsd_mbuf = NULL; /* the stack's now */
	else if (errno != EAGAIN && errno != ENOBUFS)
		ff_zc_mbuf_free(m);
	return rc;
}
