/*
 * The data path on the application side (see sock.h): copying a datagram into mbufs for its
 * socket's TX lcore, and out of the socket's RX ring (or lending the mbufs themselves, zero-copy);
 * SO_SNDBUF and SO_RCVBUF accounting; readiness.
 * One batched path: a single send or receive is a burst of one through the same code (tx_check,
 * tx_burst, rx_burst), inlined so that it costs what a single datagram's own code would.
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
#include <rte_ring_peek.h>

#include "stack/iface/addr6.h"
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
	head->data_len = 0;
	head->pkt_len = 0;
	struct rte_mbuf *tail = head;
	for (int i = 0; i < iovcnt && len; i++) {
		size_t n = iov[i].iov_len < len ? iov[i].iov_len : len;
		if (ffs_mbuf_append_bytes(pool, head, &tail, iov[i].iov_base, n) != 0)
			return -1;
		len -= n;
	}
	return 0;
}

/** Takes the pending error (an ICMP report), with no locked instruction when there is none. */
static inline int take_error(struct ffs_sock *so)
{
	return atomic_load_explicit(&so->so_error, memory_order_relaxed) ? atomic_exchange(&so->so_error, 0) : 0;
}

/** The TX metadata of a datagram from `so` to dst:dport, from `src` when the application chose it
 *  (IP_PKTINFO; 0: the socket's bound address, else the route's). */
static void stamp(struct ffs_sock *so, struct rte_mbuf *m, uint32_t src, uint32_t dst, uint16_t dport)
{
	struct ffs_meta *meta = ffs_meta(m);
	bool mcast = ipv4_is_multicast(dst);
	if (!src)
		src = ffs_sock_unicast_source(so);
	*meta = (struct ffs_meta){
		.src = src,
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

/** The TX metadata and headroom addresses of a datagram from AF_INET6 socket `so` to dst:dport, from
 *  `src` when the application chose it (IPV6_PKTINFO; NULL: the socket's). */
static void stamp6(struct ffs_sock *so, struct rte_mbuf *m, const struct ip6_addr *src, const struct ip6_addr *dst,
		   uint32_t scope, uint16_t dport)
{
	struct ffs_meta *meta = ffs_meta(m);
	bool mcast = ip6_is_multicast(dst);
	int hops = mcast ? so->mcast_hops : so->hops;
	*meta = (struct ffs_meta){
		/* A multicast dst's port: IPV6_MULTICAST_IF, else a bound link-local address's link. */
		.dst = mcast && !scope ? (so->mcast_if6 ? so->mcast_if6 : so->scope_id) : scope,
		.sport = so->lport,
		.dport = dport,
		.sock_id = (uint16_t)so->id,
		.sock_gen = so->gen,
		.ttl = hops < 0 ? 0 : (uint8_t)hops,
		.tos = so->tclass,
		.flags = FFS_META_V6 | (mcast && so->mcast_loop ? FFS_META_MCAST_LOOP : 0),
	};
	uint8_t *d = rte_pktmbuf_mtod(m, uint8_t *);
	memcpy(d - FFS_UDP6_DST_OFF, dst->b, 16);
	/* A chosen or bound unicast address is the source; otherwise ipv6_output chooses one (RFC 6724). */
	if (src)
		memcpy(d - FFS_UDP6_SRC_OFF, src->b, 16);
	else if (ffs_in6_is_any(so->laddr6) || so->laddr6[0] == 0xff)
		memset(d - FFS_UDP6_SRC_OFF, 0, 16);
	else
		memcpy(d - FFS_UDP6_SRC_OFF, so->laddr6, 16);
}

/** A datagram of a send once checked: where it goes and how long it is. */
struct tx_plan {
	uint32_t dst; /**< an IPv6 datagram's: its scope (tx_check6) */
	uint16_t dport;
	uint32_t src; /**< the IPv4 source the application chose (0: none) */
	size_t len;
};

int ffs_sock_check_source(const struct ffs_stack *st, uint32_t src, uint32_t dst)
{
	if (src == 0 || src == 0xffffffffu || ipv4_is_multicast(src) || route_is_broadcast(st, src))
		return -EINVAL;
	/* A loopback source only ever reaches the loopback (Linux: a martian anywhere else). */
	if (ipv4_is_loopback(src))
		return ipv4_is_loopback(dst) ? 0 : -EINVAL;
	return route_is_local(st, src) ? 0 : -ENETUNREACH;
}

int ffs_sock_check_source6(const struct ffs_stack *st, const struct ip6_addr *src)
{
	enum addr6_state state;
	if (ip6_is_loopback(src))
		return 0;
	if (ip6_is_unspecified(src) || ip6_is_multicast(src) || !addr6_is_local(st, -1, src, &state) ||
	    state == ADDR6_DUPLICATED)
		return -EINVAL;
	return 0;
}

/*
 * Checks datagram d as Linux's udp_sendmsg does, in its order: a destination (-EDESTADDRREQ), a port
 * (-EINVAL), the size (-EMSGSIZE), a route (-ENETUNREACH; for a group or the limited broadcast
 * without a source naming the interface, too), a source that may not go there (-EINVAL),
 * then SO_BROADCAST (-EACCES). `prev`, the plan of the datagram checked just before in the same
 * burst, spares a second route lookup for the same destination.
 */
static __rte_always_inline int tx_check(const struct ffs_stack *st, const struct ffs_sock *so,
					const struct ffs_dgram_out *d, const struct tx_plan *prev, struct tx_plan *p)
{
	/* Built in a local and stored once: stores through p between the checks (p might alias the
	 * socket, for all the compiler knows) made a burst of 64-byte sends a third slower. */
	struct tx_plan plan = { d->dst, d->dport, d->src, 0 };
	if (plan.dst == 0 && plan.dport == 0) {
		if (!so->connected)
			return -EDESTADDRREQ;
		plan.dst = so->raddr;
		plan.dport = so->rport;
	}
	if (plan.dport == 0)
		return -EINVAL;
	plan.len = iov_total(d->iov, d->iovcnt);
	if (plan.len > FFS_UDP_MAX_PAYLOAD)
		return -EMSGSIZE;
	if (!prev || prev->dst != plan.dst) {
		if (!route_source(st, plan.dst))
			return -ENETUNREACH;
		if (route_group_unroutable(st, ffs_sock_unicast_source(so), so->mcast_if, plan.dst))
			return -ENETUNREACH;
		if (route_loopback_source_refused(st, so->laddr, plan.dst))
			return -EINVAL;
		if (route_is_broadcast(st, plan.dst) && !so->broadcast)
			return -EACCES;
	}
	/* A chosen source is checked where Linux's route lookup checks it, after the route. */
	if (__builtin_expect(plan.src != 0, 0)) {
		int rc = ffs_sock_check_source(st, plan.src, plan.dst);
		if (rc < 0)
			return rc;
	}
	*p = plan;
	return 0;
}

/*
 * Checks IPv6 datagram d (d->dst6) as Linux's udpv6_sendmsg does, in its order: a port (-EINVAL), the
 * size (-EMSGSIZE), a route (-ENETUNREACH). The plan's dst is the scope the datagram leaves by.
 * `prev`/`prev_p`, the IPv6 datagram checked just before in the same burst and its plan (or NULL),
 * spare a second route lookup for the same destination, as tx_check's `prev` does.
 */
static __rte_always_inline int tx_check6(const struct ffs_stack *st, const struct ffs_sock *so, const struct ffs_dgram_out *d,
					 const struct ffs_dgram_out *prev, const struct tx_plan *prev_p, struct tx_plan *p)
{
	struct tx_plan plan = { d->scope, d->dport, 0, 0 };
	if (plan.dport == 0)
		return -EINVAL;
	/* Linux checks IPV6_PKTINFO's source with the control messages, before the rest. */
	if (d->src6) {
		int rc = ffs_sock_check_source6(st, d->src6);
		if (rc < 0)
			return rc;
	}
	/* RFC 4007 §6: a link-local destination goes out of its link: its scope, the socket's, or as
	 * Linux's udpv6_sendmsg routes one without either, the first with an fe80::/64 route. */
	if (ip6_is_linklocal(d->dst6) && !plan.dst && !(plan.dst = so->scope_id))
		plan.dst = ffs_sock_default_scope6(st);
	plan.len = iov_total(d->iov, d->iovcnt);
	if (plan.len > FFS_UDP6_MAX_PAYLOAD)
		return -EMSGSIZE;
	if ((!prev || prev_p->dst != plan.dst || !ip6_eq(prev->dst6, d->dst6)) && !ffs_sock_reachable6(st, d->dst6, plan.dst))
		return -ENETUNREACH;
	*p = plan;
	return 0;
}

static inline int tx_charge(const struct tx_plan *p)
{
	return (int)p->len + FFS_DGRAM_OVERHEAD;
}

/*
 * Stamps pkts[0..k) (checked into p, `charge` bytes in all), charges SO_SNDBUF and hands them to the
 * socket's TX lcore in one enqueue. Returns how many went; the rest stay the caller's, and *err says
 * why: a full TX ring, -EAGAIN on a non-blocking socket (-ENOBUFS otherwise).
 */
static __rte_always_inline unsigned tx_enqueue(struct ffs_stack *st, struct ffs_sock *so, struct rte_mbuf **pkts,
					       const struct tx_plan *p, unsigned k, int charge, int *err, bool stamped)
{
	for (unsigned i = 0; i < k && !stamped; i++)
		stamp(so, pkts[i], p[i].src, p[i].dst, p[i].dport);
	struct ffs_lcore *lc = st->lcores[so->tx_lcore];
	atomic_fetch_add(&so->tx_bytes, charge);
	atomic_fetch_add(&so->tx_count, (int)k);
	unsigned sent = rte_ring_mp_enqueue_burst(lc->tx_in, (void **)pkts, k, NULL);
	if (sent < k) {
		int back = 0;
		for (unsigned i = sent; i < k; i++)
			back += tx_charge(&p[i]);
		atomic_fetch_sub(&so->tx_bytes, back);
		atomic_fetch_sub(&so->tx_count, (int)(k - sent));
		*err = so->nonblock ? -EAGAIN : -ENOBUFS;
	}
	if (sent)
		ffs_lcore_wake(lc);
	return sent;
}

/*
 * Copies v[0..k) (checked into p, `charge` bytes in all) into mbufs from one bulk allocation and
 * hands them on (tx_enqueue). Returns how many went; when fewer than k, *err is why the first of the
 * rest did not: -ENOBUFS for an empty pool, or tx_enqueue's.
 */
static __rte_always_inline unsigned tx_burst(struct ffs_stack *st, struct ffs_sock *so,
					     const struct ffs_dgram_out *v, const struct tx_plan *p, unsigned k,
					     int charge, int *err, bool v6)
{
	struct rte_mbuf *pkts[FFS_BURST];
	*err = -ENOBUFS;
	/* rte_pktmbuf_alloc_bulk is too large to inline: a single send's mbuf comes straight from the pool. */
	if (k == 1 ? !(pkts[0] = rte_pktmbuf_alloc(st->pool)) : rte_pktmbuf_alloc_bulk(st->pool, pkts, k) != 0)
		return 0;
	for (unsigned i = 0; i < k; i++) {
		if (copy_into(st->pool, pkts[i], v[i].iov, v[i].iovcnt, p[i].len) != 0) {
			rte_pktmbuf_free_bulk(pkts + i, k - i);
			for (unsigned j = i; j < k; j++)
				charge -= tx_charge(&p[j]);
			k = i;
			break;
		}
	}
	if (k == 0)
		return 0;
	/* An AF_INET6 socket's datagrams: IPv6 ones carry their addresses in the headroom. */
	for (unsigned i = 0; i < k && v6; i++) {
		if (v[i].dst6)
			stamp6(so, pkts[i], v[i].src6, v[i].dst6, p[i].dst, p[i].dport);
		else
			stamp(so, pkts[i], p[i].src, p[i].dst, p[i].dport);
	}
	unsigned sent = tx_enqueue(st, so, pkts, p, k, charge, err, v6);
	if (sent < k)
		rte_pktmbuf_free_bulk(pkts + sent, k - sent);
	return sent;
}

/** Waits, as a blocking socket does, until SO_SNDBUF has room for `charge` bytes; false: none came
 *  (-EAGAIN). */
static __rte_always_inline bool sndbuf_room(struct ffs_stack *st, struct ffs_sock *so, int charge)
{
	/* Inline mode on a thread that turns lcores: this thread may be the one that drains the TX ring. */
	bool drive = ffs_stack_thread_drives(st);
	for (unsigned waited = 0; atomic_load(&so->tx_bytes) + charge > so->sndbuf; waited++) {
		if (so->nonblock || waited > 20000)
			return false;
		if (!drive || !ffs_stack_poll_thread(st))
			rte_delay_us_sleep(50);
	}
	return true;
}

/*
 * One datagram, d, or the mbuf chain m that already holds it: checked, the socket bound if it is
 * not, SO_SNDBUF room waited for as a blocking socket does, then copied and sent, or m sent as it is.
 */
static __rte_always_inline int send_one(struct ffs_stack *st, struct ffs_sock *so, const struct ffs_dgram_out *d,
					struct rte_mbuf *m)
{
	int err = take_error(so);
	if (err)
		return -err;
	struct tx_plan p;
	int rc = tx_check(st, so, d, NULL, &p);
	if (rc < 0)
		return rc;
	if (!so->bound) {
		rc = ffs_sock_autobind(st, so);
		if (rc < 0)
			return rc;
	}
	int charge = tx_charge(&p);
	if (!sndbuf_room(st, so, charge))
		return -EAGAIN;
	if (m)
		return tx_enqueue(st, so, &m, &p, 1, charge, &rc, false) ? (int)p.len : rc;
	return tx_burst(st, so, d, &p, 1, charge, &rc, false) ? (int)p.len : rc;
}

int ffs_sock_sendv(struct ffs_stack *st, struct ffs_sock *so, const struct iovec *iov, int iovcnt, uint32_t dst,
		   uint16_t dport)
{
	const struct ffs_dgram_out d = { iov, iovcnt, dst, dport, NULL, 0, 0, NULL };
	return send_one(st, so, &d, NULL);
}

int ffs_sock_send_mbuf(struct ffs_stack *st, struct ffs_sock *so, struct rte_mbuf *m, uint32_t dst, uint16_t dport)
{
	const struct ffs_dgram_out d = { NULL, 0, dst, dport, NULL, 0, 0, NULL };
	return ffs_sock_send_dgram(st, so, &d, m);
}

/** An IPv6 datagram d (d->dst6; NULL: the connected peer), or the mbuf chain m that holds it, as
 *  send_one does IPv4's. */
static __rte_always_inline int send_one6(struct ffs_stack *st, struct ffs_sock *so, const struct ffs_dgram_out *dgram,
					 struct rte_mbuf *m)
{
	int err = take_error(so);
	if (err)
		return -err;
	/* tx_check6 measures the datagram by its iovec: an mbuf chain's is one entry as long as the chain. */
	const struct iovec whole = { NULL, m ? rte_pktmbuf_pkt_len(m) : 0 };
	struct ffs_dgram_out d = *dgram;
	if (m) {
		d.iov = &whole;
		d.iovcnt = 1;
	}
	struct ip6_addr peer;
	if (!d.dst6) {
		if (!so->connected)
			return -EDESTADDRREQ;
		memcpy(peer.b, so->raddr6, 16);
		d.dst6 = &peer;
		d.dport = so->rport;
		d.scope = so->scope_id;
	}
	struct tx_plan p;
	int rc = tx_check6(st, so, &d, NULL, NULL, &p);
	if (rc < 0)
		return rc;
	if (!so->bound && (rc = ffs_sock_autobind(st, so)) < 0)
		return rc;
	int charge = tx_charge(&p);
	if (!sndbuf_room(st, so, charge))
		return -EAGAIN;
	if (!m)
		return tx_burst(st, so, &d, &p, 1, charge, &rc, true) ? (int)p.len : rc;
	stamp6(so, m, d.src6, d.dst6, p.dst, p.dport);
	return tx_enqueue(st, so, &m, &p, 1, charge, &rc, true) ? (int)p.len : rc;
}

int ffs_sock_sendv6(struct ffs_stack *st, struct ffs_sock *so, const struct iovec *iov, int iovcnt, struct rte_mbuf *m,
		    const struct ip6_addr *dst, uint32_t scope, uint16_t dport)
{
	const struct ffs_dgram_out d = { iov, iovcnt, 0, dport, dst, scope, 0, NULL };
	return send_one6(st, so, &d, m);
}

int ffs_sock_send_dgram(struct ffs_stack *st, struct ffs_sock *so, const struct ffs_dgram_out *d, struct rte_mbuf *m)
{
	if (d->dst6 || (so->v6 && so->connected && !d->dst && !d->dport && !ffs_in6_is_v4mapped(so->raddr6)))
		return send_one6(st, so, d, m);
	if (!m)
		return send_one(st, so, d, NULL);
	/* tx_check measures the datagram by its iovec: one entry as long as the chain. */
	const struct iovec iov = { NULL, rte_pktmbuf_pkt_len(m) };
	struct ffs_dgram_out whole = *d;
	whole.iov = &iov;
	whole.iovcnt = 1;
	return send_one(st, so, &whole, m);
}

int ffs_sock_sendv_burst(struct ffs_stack *st, struct ffs_sock *so, const struct ffs_dgram_out *v, unsigned n)
{
	if (n == 0 || !so->bound || atomic_load_explicit(&so->so_error, memory_order_relaxed))
		return 0;
	if (n > FFS_BURST)
		n = FFS_BURST;
	/* Stop before the first datagram that fails or does not fit in SO_SNDBUF now. */
	int room = so->sndbuf - atomic_load(&so->tx_bytes);
	struct tx_plan p[FFS_BURST];
	int charge = 0;
	unsigned k = 0;
	if (__builtin_expect(so->v6, 0)) {
		/* IPv6 datagrams and IPv4 ones (v4-mapped peers) in any order; each family reuses the route
		 * of its previous datagram to the same destination. */
		const struct tx_plan *prev4 = NULL;
		int prev6 = -1;
		for (; k < n; k++) {
			int rc = v[k].dst6 ? tx_check6(st, so, &v[k], prev6 < 0 ? NULL : &v[prev6], prev6 < 0 ? NULL : &p[prev6], &p[k])
					   : tx_check(st, so, &v[k], prev4, &p[k]);
			if (rc < 0 || charge + tx_charge(&p[k]) > room)
				break;
			if (v[k].dst6)
				prev6 = (int)k;
			else
				prev4 = &p[k];
			charge += tx_charge(&p[k]);
		}
	} else {
		for (; k < n; k++) {
			if (tx_check(st, so, &v[k], k ? &p[k - 1] : NULL, &p[k]) < 0 || charge + tx_charge(&p[k]) > room)
				break;
			charge += tx_charge(&p[k]);
		}
	}
	int err;
	return k ? (int)tx_burst(st, so, v, p, k, charge, &err, so->v6) : 0;
}

/** Copies datagram m into d's buffers and fills in its addresses and sizes. */
static __rte_always_inline void rx_copy(struct rte_mbuf *m, struct ffs_dgram_in *d)
{
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
	const struct ffs_meta *meta = ffs_meta(m);
	d->truncated = off < len;
	d->src = meta->src;
	d->sport = meta->sport;
	d->dst = meta->dst;
	d->len = (int)len;
}

/** Takes k received datagrams (`bytes` charged in all) out of SO_RCVBUF and gives their mbufs back
 *  to the pool: one update and one release for the lot. */
static __rte_always_inline void rx_release(struct ffs_sock *so, struct rte_mbuf **pkts, unsigned k, int bytes)
{
	if (k == 0)
		return;
	atomic_fetch_sub(&so->rx_bytes, bytes);
	/* rte_pktmbuf_free_bulk is an out-of-line loop: a single receive's mbuf goes straight back. */
	if (k == 1)
		rte_pktmbuf_free(pkts[0]);
	else
		rte_pktmbuf_free_bulk(pkts, k);
}

void ffs_dgram_addrs6(struct rte_mbuf *m, struct ffs_src6 *src, uint8_t *dst)
{
	const struct ffs_meta *meta = ffs_meta(m);
	src->scope_id = 0;
	if (!(meta->flags & FFS_META_V6)) {
		ffs_in6_from_v4(meta->src, src->addr);
		if (dst)
			ffs_in6_from_v4(meta->dst, dst);
		return;
	}
	const uint8_t *hdr = rte_pktmbuf_mtod(m, const uint8_t *) - meta->src;
	memcpy(src->addr, hdr + 8, 16);
	if (dst)
		memcpy(dst, hdr + 24, 16);
	if (ffs_in6_is_linklocal(src->addr))
		src->scope_id = meta->dst;
}

void ffs_packed_src6(struct rte_mbuf *m, uint8_t *at, struct ffs_dgram_packed *v)
{
	struct ffs_src6 s;
	ffs_dgram_addrs6(m, &s, NULL);
	memcpy(at, s.addr, 16);
	v->src = 16;
	v->sport = ffs_meta(m)->sport | FFS_PACKED_V6 | (s.scope_id & 0xffu) << 24;
}

/** The interface index (port index + 1) of DPDK port `port_id`; 0 when it is none of the stack's
 *  (an mbuf the stack allocated and looped back to itself carries no port). */
static uint32_t ifindex_of_port_id(const struct ffs_stack *st, uint32_t port_id)
{
	for (unsigned i = 0; i < st->n_ports; i++)
		if (st->ports[i].port_id == port_id)
			return i + 1;
	return 0;
}

void ffs_dgram_pktinfo(const struct ffs_stack *st, struct rte_mbuf *m, struct ffs_pktinfo *out)
{
	const struct ffs_meta *meta = ffs_meta(m);
	if (meta->flags & FFS_META_V6) {
		const uint8_t *hdr = rte_pktmbuf_mtod(m, const uint8_t *) - meta->src;
		out->dst = 0;
		memcpy(out->dst6, hdr + 24, 16);
		/* udp6_input's scope: the RX port (DPDK id + 1). */
		out->ifindex = meta->dst ? ifindex_of_port_id(st, meta->dst - 1) : 0;
		/* Looped back: the interface of the address it was sent to, as Linux reports it. */
		for (unsigned i = 0; !out->ifindex && i < st->n_ports; i++)
			if (addr6_is_local(st, (int)i, ffs_in6(out->dst6), NULL))
				out->ifindex = i + 1;
		return;
	}
	out->dst = meta->dst;
	ffs_in6_from_v4(meta->dst, out->dst6);
	out->ifindex = ifindex_of_port_id(st, m->port);
	if (!out->ifindex) {
		const struct ffs_port *p = route_port_of(st, meta->dst);
		out->ifindex = p ? (uint32_t)(p - st->ports) + 1 : 0;
	}
}

/*
 * Receives up to n (≤ FFS_BURST) datagrams into v: first the one MSG_PEEK or FIONREAD took off the
 * ring, then the ring's, in one dequeue. With `peek` (n is 1) the datagram stays, to be delivered
 * next; otherwise what was received leaves SO_RCVBUF and goes back to the pool in one release.
 * An AF_INET6 socket's (v6) get their sources as it reports them.
 */
static __rte_always_inline unsigned rx_burst(const struct ffs_stack *st, struct ffs_sock *so, struct ffs_dgram_in *v,
					     unsigned n, bool peek, bool v6, bool pktinfo)
{
	struct rte_mbuf *pkts[FFS_BURST];
	unsigned k = 0;
	if (so->peeked) {
		pkts[k++] = so->peeked;
		so->peeked = NULL;
	}
	if (k < n && so->rx)
		k += rte_ring_sc_dequeue_burst(so->rx, (void **)pkts + k, n - k, NULL);
	int bytes = 0;
	for (unsigned i = 0; i < k; i++) {
		rx_copy(pkts[i], &v[i]);
		if (v6)
			ffs_dgram_addrs6(pkts[i], &v[i].src6, NULL);
		if (pktinfo)
			ffs_dgram_pktinfo(st, pkts[i], &v[i].pktinfo);
		bytes += v[i].len + FFS_DGRAM_OVERHEAD;
	}
	if (peek && k)
		so->peeked = pkts[0];
	else
		rx_release(so, pkts, k, bytes);
	return k;
}

/** Whether so's receives report where each datagram arrived (IP_PKTINFO, IPV6_RECVPKTINFO). */
static inline bool wants_pktinfo(const struct ffs_sock *so)
{
	return so->recv_pktinfo | so->recv_pktinfo6;
}

int ffs_sock_recv_one(const struct ffs_stack *st, struct ffs_sock *so, struct ffs_dgram_in *d, bool peek)
{
	int err = take_error(so);
	if (err)
		return -err;
	if (rx_burst(st, so, d, 1, peek, so->v6, wants_pktinfo(so)) == 0)
		return -EAGAIN;
	return d->len;
}

/** One datagram into iov, as ffs_sock_recvv, with its source for an AF_INET6 socket when src6 is given. */
static __rte_always_inline int recv_one(const struct ffs_stack *st, struct ffs_sock *so, const struct iovec *iov,
					int iovcnt, uint32_t *src, uint16_t *sport, uint32_t *dst, bool *truncated, bool peek,
					struct ffs_src6 *src6)
{
	int err = take_error(so);
	if (err)
		return -err;
	struct ffs_dgram_in d = { .iov = iov, .iovcnt = iovcnt };
	if (rx_burst(st, so, &d, 1, peek, src6 != NULL, false) == 0)
		return -EAGAIN;
	if (src6)
		*src6 = d.src6;
	if (truncated)
		*truncated = d.truncated;
	if (src)
		*src = d.src;
	if (sport)
		*sport = d.sport;
	if (dst)
		*dst = d.dst;
	return d.len;
}

int ffs_sock_recvv(struct ffs_stack *st, struct ffs_sock *so, const struct iovec *iov, int iovcnt, uint32_t *src,
		   uint16_t *sport, uint32_t *dst, bool *truncated, bool peek)
{
	return recv_one(st, so, iov, iovcnt, src, sport, dst, truncated, peek, NULL);
}

int ffs_sock_recvv6(struct ffs_stack *st, struct ffs_sock *so, const struct iovec *iov, int iovcnt, struct ffs_src6 *src6,
		    uint16_t *sport, bool *truncated, bool peek)
{
	return recv_one(st, so, iov, iovcnt, NULL, sport, NULL, truncated, peek, src6);
}

int ffs_sock_recvv_burst(struct ffs_stack *st, struct ffs_sock *so, struct ffs_dgram_in *v, unsigned n)
{
	if (n == 0 || !so->rx || atomic_load_explicit(&so->so_error, memory_order_relaxed))
		return 0;
	n = n < FFS_BURST ? n : FFS_BURST;
	/* Inlined once per family: the IPv4 burst reads no IPv6 source; where datagrams arrived is read
	 * only for a socket that asked. */
	if (__builtin_expect(wants_pktinfo(so), 0))
		return (int)rx_burst(st, so, v, n, false, so->v6, true);
	return (int)(so->v6 ? rx_burst(st, so, v, n, false, true, false) : rx_burst(st, so, v, n, false, false, false));
}

unsigned ffs_sock_rx_peek(struct ffs_sock *so, struct rte_mbuf **pkts, unsigned n)
{
	unsigned k = 0;
	if (so->peeked && n)
		pkts[k++] = so->peeked;
	if (so->rx)
		k += rte_ring_dequeue_burst_start(so->rx, (void **)pkts + k, n - k, NULL);
	return k;
}

void ffs_sock_rx_take(struct ffs_sock *so, unsigned k)
{
	if (so->peeked && k) {
		so->peeked = NULL;
		k--;
	}
	if (so->rx)
		rte_ring_dequeue_finish(so->rx, k);
}

/** ffs_sock_recv_packed, inlined once with where datagrams arrived (info) and once without. */
static __rte_always_inline int recv_packed(const struct ffs_stack *st, struct ffs_sock *so, uint8_t *buf, size_t cap,
					   struct ffs_dgram_packed *v, unsigned n, struct ffs_pktinfo *info)
{
	struct rte_mbuf *pkts[FFS_BURST];
	size_t off = 0;
	unsigned done = 0;
	while (done < n) {
		unsigned want = n - done < FFS_BURST ? n - done : FFS_BURST;
		unsigned got = ffs_sock_rx_peek(so, pkts, want);
		unsigned k = 0;
		int bytes = 0;
		for (; k < got; k++) {
			struct rte_mbuf *m = pkts[k];
			uint32_t len = rte_pktmbuf_pkt_len(m);
			const struct ffs_meta *meta = ffs_meta(m);
			if (__builtin_expect(meta->flags & FFS_META_V6, 0)) {
				/* An IPv6 datagram's source goes in the 16 bytes before its payload. */
				if (off + 16 + len > cap)
					break;
				ffs_packed_src6(m, buf + off, &v[done + k]);
				off += 16;
				v[done + k].offset = (uint32_t)off;
				v[done + k].len = len;
			} else {
				if (off + len > cap)
					break;
				v[done + k] = (struct ffs_dgram_packed){ .offset = (uint32_t)off, .len = len, .src = meta->src, .sport = meta->sport };
			}
			const void *p = m->nb_segs == 1 ? rte_pktmbuf_mtod(m, const void *) : rte_pktmbuf_read(m, 0, len, buf + off);
			if (p != buf + off)
				memcpy(buf + off, p, len);
			off += (len + 7) & ~(size_t)7; /* each datagram 8-byte aligned, for typed views of it */
			if (info)
				ffs_dgram_pktinfo(st, m, &info[done + k]);
			bytes += (int)len + FFS_DGRAM_OVERHEAD;
		}
		/* What did not fit stays queued, the next to be received. */
		ffs_sock_rx_take(so, k);
		rx_release(so, pkts, k, bytes);
		done += k;
		if (k < want)
			break;
	}
	return (int)done;
}

int ffs_sock_recv_packed(const struct ffs_stack *st, struct ffs_sock *so, uint8_t *buf, size_t cap,
			 struct ffs_dgram_packed *v, unsigned n, struct ffs_pktinfo *info)
{
	return info ? recv_packed(st, so, buf, cap, v, n, info) : recv_packed(st, so, buf, cap, v, n, NULL);
}

/** Marks k datagrams as lent by so, for ffs_sock_rx_return. */
static void rx_mark_lent(const struct ffs_sock *so, struct rte_mbuf **pkts, unsigned k)
{
	for (unsigned i = 0; i < k; i++) {
		struct ffs_meta *meta = ffs_meta(pkts[i]);
		meta->sock_id = (uint16_t)so->id;
		meta->sock_gen = so->gen;
	}
}

unsigned ffs_sock_rx_lend(struct ffs_sock *so, struct rte_mbuf **pkts, unsigned n)
{
	unsigned k = ffs_sock_rx_peek(so, pkts, n);
	ffs_sock_rx_take(so, k);
	rx_mark_lent(so, pkts, k);
	return k;
}

void ffs_sock_rx_uncharge(struct ffs_stack *st, uint32_t id, uint16_t gen, int bytes)
{
	struct ffs_sock *so = bytes ? ffs_sock_get(st, id) : NULL;
	if (so && so->gen == gen)
		atomic_fetch_sub(&so->rx_bytes, bytes);
}

void ffs_sock_rx_return(struct ffs_stack *st, struct rte_mbuf **pkts, unsigned n)
{
	if (n == 0)
		return;
	/* One SO_RCVBUF release per run of datagrams from the same socket. */
	uint32_t id = UINT32_MAX;
	uint16_t gen = 0;
	int bytes = 0;
	for (unsigned i = 0; i < n; i++) {
		const struct ffs_meta *meta = ffs_meta(pkts[i]);
		if (meta->sock_id != id || meta->sock_gen != gen) {
			ffs_sock_rx_uncharge(st, id, gen, bytes);
			id = meta->sock_id;
			gen = meta->sock_gen;
			bytes = 0;
		}
		bytes += (int)rte_pktmbuf_pkt_len(pkts[i]) + FFS_DGRAM_OVERHEAD;
	}
	ffs_sock_rx_uncharge(st, id, gen, bytes);
	rte_pktmbuf_free_bulk(pkts, n);
}

int ffs_sock_next_len(struct ffs_sock *so)
{
	void *obj;
	if (!so->peeked && so->rx && rte_ring_sc_dequeue(so->rx, &obj) == 0)
		so->peeked = obj;
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
