/*
 * UDP on the lcore (RFC 768): input demultiplexes datagrams to sockets through the lcore's demux
 * table and gathers them per socket for the length of a burst, so that each socket costs one RX ring
 * enqueue, one SO_RCVBUF update and at most one wake-up per burst; output drains the lcore's TX
 * ring, prepends UDP headers and hands datagrams to IPv4 (which fragments what exceeds the MTU). Closed ports answer with ICMP port unreachable
 * (RFC 1122 §4.1.3.1); ICMP errors about our datagrams reach the socket that sent them.
 * UDP over IPv6 takes the same path: udp6_input demultiplexes by the IPv6 addresses, leaving the IPv6
 * header in the headroom before the payload (ffs_meta.src is its distance, FFS_META_V6) so that the
 * application reads the source there; an AF_INET6 socket's datagrams carry their addresses in the
 * headroom where the IPv6 header goes, and leave through ipv6_output.
 */
#include <errno.h>
#include <rte_ip.h>

#include "stack/iface/iface.h"
#include "stack/phy/mbuf.h"
#include "stack/phy/rss.h"
#include "stack/wire/checksum.h"
#include "stack/wire/icmp.h"
#include "stack/wire/icmp6.h"
#include "stack/wire/ipv6.h"
#include "stack/wire/udp.h"

#define MAX_GROUP_RECEIVERS 64

/** The entry of `so` among the sockets of this burst, or NULL. */
static struct ffs_rx_staged *staged_of(struct ffs_rx_stage *sg, const struct ffs_sock *so)
{
	for (unsigned i = 0; i < sg->n_socks; i++)
		if (sg->sock[i].so == so)
			return &sg->sock[i];
	return NULL;
}

/** Adds `so`, not yet among the sockets of this burst, to them (ending the burst first when they are as
 *  many as it holds). */
static struct ffs_rx_staged *stage_new_sock(struct ffs_lcore *lc, struct ffs_sock *so)
{
	struct ffs_rx_stage *sg = &lc->rx_stage;
	if (sg->n_socks == FFS_BURST)
		udp_signal_flush(lc);
	struct ffs_rx_staged *s = &sg->sock[sg->n_socks++];
	*s = (struct ffs_rx_staged){ .so = so };
	return s;
}

/** The entry of `so` among the sockets of this burst, added when it is not there yet. */
static struct ffs_rx_staged *stage_sock(struct ffs_lcore *lc, struct ffs_sock *so)
{
	struct ffs_rx_staged *s = staged_of(&lc->rx_stage, so);
	return s ? s : stage_new_sock(lc, so);
}

/** Queues the datagrams gathered for one socket in one enqueue, charging SO_RCVBUF once; what the
 *  ring has no room for is dropped as a full socket's. True when some were queued. */
static bool staged_queue(struct ffs_lcore *lc, struct ffs_rx_staged *s)
{
	struct ffs_rx_stage *sg = &lc->rx_stage;
	struct ffs_sock *so = s->so;
	if (!s->n)
		return false;
	struct rte_mbuf *pkts[FFS_RX_STAGE];
	unsigned n = 0;
	for (uint16_t i = s->head; n < s->n; i = sg->next[i])
		pkts[n++] = sg->pkts[i];
	unsigned queued = rte_ring_mp_enqueue_burst(so->rx, (void **)pkts, n, NULL);
	int bytes = s->bytes;
	if (queued < n) {
		for (unsigned i = queued; i < n; i++)
			bytes -= (int)rte_pktmbuf_pkt_len(pkts[i]) + FFS_DGRAM_OVERHEAD;
		lc->ctr.udp_fullsock += n - queued;
		atomic_fetch_add_explicit(&so->rx_dropped, n - queued, memory_order_relaxed);
		rte_pktmbuf_free_bulk(pkts + queued, n - queued);
	}
	if (queued) {
		atomic_fetch_add_explicit(&so->rx_bytes, bytes, memory_order_relaxed);
		lc->ctr.udp_delivered += queued;
		if (so->tx_lcore != lc->index)
			lc->ctr.udp_cross_lcore += queued;
	}
	return queued > 0;
}

void udp_signal_flush(struct ffs_lcore *lc)
{
	struct ffs_rx_stage *sg = &lc->rx_stage;
	if (!sg->n_socks)
		return;
	bool signal[FFS_BURST];
	for (unsigned i = 0; i < sg->n_socks; i++)
		signal[i] = staged_queue(lc, &sg->sock[i]) || sg->sock[i].error;
	/* Order the RX ring enqueues before reading rx_listed (the application clears it, then drains). */
	atomic_thread_fence(memory_order_seq_cst);
	for (unsigned i = 0; i < sg->n_socks; i++) {
		if (!signal[i])
			continue;
		enum ffs_wake w = ffs_sock_signal(sg->sock[i].so);
		lc->ctr.udp_wakeups += w == FFS_WAKE_EVENTFD;
		lc->ctr.udp_wakeups_inline += w == FFS_WAKE_INLINE;
	}
	sg->n_socks = sg->n_pkts = 0;
}

/**
 * Gathers a datagram for `so`, queued with the socket's other datagrams of this burst when it ends
 * (udp_signal_flush). SO_RCVBUF and the pool's limit count what is gathered as queued already.
 */
static void deliver(struct ffs_lcore *lc, struct ffs_sock *so, struct rte_mbuf *m)
{
	struct ffs_rx_stage *sg = &lc->rx_stage;
	if (sg->n_pkts == FFS_RX_STAGE)
		udp_signal_flush(lc);
	struct ffs_rx_staged *s = staged_of(sg, so);
	int charge = (int)rte_pktmbuf_pkt_len(m) + FFS_DGRAM_OVERHEAD;
	int queued = atomic_load_explicit(&so->rx_bytes, memory_order_relaxed) + (s ? s->bytes : 0);
	/* Like Linux's udp_mem: datagrams nobody reads may not take the mbufs reception needs. */
	if (!ffs_pool_admits(lc, queued)) {
		lc->ctr.udp_memdrop++;
		atomic_fetch_add_explicit(&so->rx_dropped, 1, memory_order_relaxed);
		rte_pktmbuf_free(m);
		return;
	}
	if (queued + charge > so->rcvbuf) {
		lc->ctr.udp_fullsock++;
		atomic_fetch_add_explicit(&so->rx_dropped, 1, memory_order_relaxed);
		rte_pktmbuf_free(m);
		return;
	}
	if (!s)
		s = stage_new_sock(lc, so);
	uint16_t slot = (uint16_t)sg->n_pkts++;
	sg->pkts[slot] = m;
	if (s->n)
		sg->next[s->tail] = slot;
	else
		s->head = slot;
	s->tail = slot;
	s->n++;
	s->bytes += charge;
}

/** A received udp6 datagram's IPv6 header, left in the headroom meta->src bytes before its payload. */
static const struct ipv6_hdr *ip6_hdr_of(const struct rte_mbuf *m, const struct ffs_meta *meta)
{
	return (const struct ipv6_hdr *)(rte_pktmbuf_mtod(m, const uint8_t *) - meta->src);
}

/** The lcore a datagram's flow belongs to: the one its 4-tuple hashes to (where RSS or the software
 *  dispatcher brings its unfragmented datagrams). */
static unsigned flow_lcore_of(const struct ffs_stack *st, const struct rte_mbuf *m, const struct ffs_meta *meta)
{
	if (meta->flags & FFS_META_V6) {
		const struct ipv6_hdr *h = ip6_hdr_of(m, meta);
		return ffs_rss_lcore(ffs_rss_hash_udp6(h->src.b, h->dst.b, meta->sport, meta->dport), st->n_lcores);
	}
	return ffs_rss_lcore(ffs_rss_hash_udp4(meta->src, meta->dst, meta->sport, meta->dport), st->n_lcores);
}

/**
 * Hands a reassembled datagram (payload, addresses in its ffs_meta) to lcore `home` over its peer
 * ring, so it is delivered there like the flow's other datagrams. False when the ring is full: the
 * caller delivers it here instead (counted in udp.cross_lcore) rather than lose it.
 */
static bool steer_home(struct ffs_lcore *lc, unsigned home, struct rte_mbuf *m)
{
	struct ffs_lcore *owner = lc->st->lcores[home];
	m->hash.usr = FFS_PEER_DATAGRAM;
	if (rte_ring_enqueue(owner->peer_in, m) != 0)
		return false;
	lc->ctr.udp_steered++;
	ffs_lcore_wake(owner);
	return true;
}

void udp_steered_input(struct ffs_lcore *lc, struct rte_mbuf *m)
{
	const struct ffs_meta *meta = ffs_meta(m);
	unsigned flow = flow_lcore_of(lc->st, m, meta);
	struct ffs_sock *so;
	if (meta->flags & FFS_META_V6) {
		const struct ipv6_hdr *h = ip6_hdr_of(m, meta);
		so = demux_unicast6(lc->demux, h->src.b, meta->sport, h->dst.b, meta->dport, flow);
	} else {
		so = demux_unicast(lc->demux, meta->src, meta->sport, meta->dst, meta->dport, flow);
	}
	if (so) {
		deliver(lc, so, m);
		return;
	}
	/* Its socket closed meanwhile; the lcore that reassembled it answered nothing, neither do we. */
	lc->ctr.udp_noport++;
	rte_pktmbuf_free(m);
}

/**
 * Hands a unicast datagram to its socket `so`: on so's home lcore when `steer` (a reassembled one,
 * put together on the lcore of its address pair) and the ring there takes it, else here. False when
 * there is no socket (m is still the caller's: udp_unbound's).
 */
static __rte_always_inline bool deliver_unicast(struct ffs_lcore *lc, struct ffs_sock *so, struct rte_mbuf *m, bool steer)
{
	if (!so)
		return false;
	if (!(steer && so->tx_lcore != lc->index && steer_home(lc, so->tx_lcore, m)))
		deliver(lc, so, m);
	return true;
}

/** Hands a broadcast or multicast datagram to its n receivers (none: counted in udp.noportbcast). */
static void deliver_group(struct ffs_lcore *lc, struct rte_mbuf *m, struct ffs_sock *const *targets, unsigned n)
{
	if (n == 0) {
		lc->ctr.udp_noportbcast++;
		rte_pktmbuf_free(m);
		return;
	}
	/* Every receiver reads the same bytes: share the mbuf by reference count. Each receiver frees
	 * the whole chain, so every segment needs the extra references, not the head alone. */
	rte_pktmbuf_refcnt_update(m, (int16_t)(n - 1));
	for (unsigned i = 0; i < n; i++)
		deliver(lc, targets[i], m);
}

/** The IP header a datagram's UDP checksum covers: IPv4's, or IPv6's when v6. */
struct udp_addrs {
	bool v6;
	const struct ipv4_repr *ip4;
	const struct ipv6_repr *ip6;
};

static __rte_always_inline enum wire_result udp_parse(const struct udp_addrs *a, const uint8_t *buf, size_t len,
						      const struct wire_csum_caps *caps, struct udp_repr *u)
{
	return a->v6 ? udp6_repr_parse(buf, len, &a->ip6->src, &a->ip6->dst, caps, u)
		     : udp_repr_parse(buf, len, a->ip4->src, a->ip4->dst, caps, u);
}

/*
 * Counts a datagram in udp.rx and takes its UDP header (m at it): parsed, its checksum verified (over
 * the chain when it spans segments), then cut off with any bytes past the UDP length. True with u
 * filled; false when it was counted (udp.hdrops, udp.badsum, udp.badlen) and freed.
 */
static __rte_always_inline bool udp_take(struct ffs_lcore *lc, struct rte_mbuf *m, const struct udp_addrs *a,
					 const struct wire_csum_caps *caps, struct udp_repr *u)
{
	lc->ctr.udp_rx++;
	enum wire_result r;
	if (m->nb_segs == 1) {
		r = udp_parse(a, rte_pktmbuf_mtod(m, const uint8_t *), rte_pktmbuf_data_len(m), caps, u);
	} else {
		/* A reassembled datagram spans segments: check the header here and the sum over the chain. */
		struct wire_csum_caps verified = *caps;
		verified.rx_l4_verified = true;
		uint8_t hdr[UDP_HDR_LEN];
		uint32_t len = rte_pktmbuf_pkt_len(m);
		const uint8_t *h = rte_pktmbuf_read(m, 0, UDP_HDR_LEN, hdr);
		r = h ? udp_parse(a, h, len, &verified, u) : WIRE_TRUNCATED;
		/* RFC 768: an IPv4 checksum of zero means none; IPv6's parse refused it (RFC 8200 §8.1). */
		if (r == WIRE_OK && !caps->rx_l4_verified && (a->v6 || rd_be16(h + 6) != 0)) {
			uint16_t sum;
			rte_raw_cksum_mbuf(m, 0, len, &sum);
			/* rte_raw_cksum sums native-order words; ours are big-endian words read as host values. */
			uint32_t s = rte_be_to_cpu_16(sum) +
				     (a->v6 ? csum_pseudo_ipv6(&a->ip6->src, &a->ip6->dst, len, IPV6_NH_UDP)
					    : csum_pseudo_ipv4(a->ip4->src, a->ip4->dst, IPV4_PROTO_UDP, (uint16_t)len));
			if (csum_fold(s) != 0)
				r = WIRE_BAD_CHECKSUM;
		}
	}
	/* RFC 4038 §5.1 (and Linux): a v4-mapped address on the wire is a spoofing vector, never ours. */
	if (a->v6 && r == WIRE_OK && (ip6_is_v4mapped(&a->ip6->src) || ip6_is_v4mapped(&a->ip6->dst)))
		r = WIRE_BAD_LENGTH;
	if (r != WIRE_OK) {
		if (r == WIRE_TRUNCATED)
			lc->ctr.udp_hdrops++;
		else if (r == WIRE_BAD_CHECKSUM)
			lc->ctr.udp_badsum++;
		else
			lc->ctr.udp_badlen++;
		rte_pktmbuf_free(m);
		return false;
	}
	rte_pktmbuf_adj(m, UDP_HDR_LEN);
	if (rte_pktmbuf_pkt_len(m) > u->payload_len)
		rte_pktmbuf_trim(m, rte_pktmbuf_pkt_len(m) - u->payload_len);
	return true;
}

/**
 * A unicast datagram to a port no socket holds (data at its payload, `hdrs` bytes of UDP and IP
 * headers before it): to the kernel when the exception path takes unbound ports (exception_udp_unbound),
 * else counted in udp.noport and answered with port unreachable by `unreachable`. Frees m either way.
 */
static void udp_unbound(struct ffs_lcore *lc, const struct ffs_port *port, struct rte_mbuf *m, uint16_t hdrs, uint16_t ethertype,
			void (*unreachable)(struct ffs_lcore *, struct rte_mbuf *, const void *), const void *ip)
{
	/* Quote the original datagram (or hand it on whole): restore the UDP and IP headers. */
	rte_pktmbuf_prepend(m, hdrs);
	if (port && port->exc.on && port->exc.udp_unbound) {
		ffs_exc_to_kernel(lc, port, m, ethertype);
		return;
	}
	lc->ctr.udp_noport++;
	unreachable(lc, m, ip);
	rte_pktmbuf_free(m);
}

static void unreachable4(struct ffs_lcore *lc, struct rte_mbuf *m, const void *ip)
{
	icmp_send_error(lc, m, ip, ICMP_DEST_UNREACH, ICMP_UNREACH_PORT, 0);
}

static void unreachable6(struct ffs_lcore *lc, struct rte_mbuf *m, const void *ip)
{
	/* RFC 4443 §3.1: port unreachable, quoting the datagram from its IPv6 header. */
	icmp6_send_error(lc, m, ip, ICMP6_DST_UNREACH, ICMP6_DST_UNREACH_PORT, 0);
}

void udp_input(struct ffs_lcore *lc, struct rte_mbuf *m, const struct ipv4_repr *ip, const struct wire_csum_caps *caps,
	       bool broadcast, bool reassembled)
{
	struct udp_repr u;
	const struct udp_addrs a = { .ip4 = ip };
	if (!udp_take(lc, m, &a, caps, &u))
		return;
	struct ffs_meta *meta = ffs_meta(m);
	*meta = (struct ffs_meta){ .src = ip->src, .dst = ip->dst, .sport = u.src_port, .dport = u.dst_port, .ttl = ip->ttl, .tos = ip->tos };

	bool multicast = ipv4_is_multicast(ip->dst);
	if (!broadcast && !multicast) {
		/* The exception path's ports (exception_udp_port) are the kernel's. */
		const struct ffs_port *port = lc->st->exc_any ? route_port_of(lc->st, ip->dst) : NULL;
		if (port && ffs_exc_udp_wanted(port, u.dst_port)) {
			rte_pktmbuf_prepend(m, (uint16_t)(UDP_HDR_LEN + ip->hdr_len));
			ffs_exc_to_kernel(lc, port, m, ETH_TYPE_IPV4);
			return;
		}
		/* A reassembled datagram was put together on the lcore of its IP pair (iface/ipv4.c); its
		 * flow belongs to the lcore of its 4-tuple, and it goes to its socket's home lcore. */
		bool steer = reassembled && lc->st->n_lcores > 1;
		unsigned flow = steer ? flow_lcore_of(lc->st, m, meta) : lc->index;
		if (deliver_unicast(lc, demux_unicast(lc->demux, ip->src, u.src_port, ip->dst, u.dst_port, flow), m, steer))
			return;
		udp_unbound(lc, port, m, (uint16_t)(UDP_HDR_LEN + ip->hdr_len), ETH_TYPE_IPV4, unreachable4, ip);
		return;
	}
	struct ffs_sock *targets[MAX_GROUP_RECEIVERS];
	deliver_group(lc, m, targets,
		      demux_group(lc->demux, ip->src, u.src_port, ip->dst, u.dst_port, multicast, targets, MAX_GROUP_RECEIVERS));
}

void udp6_input(struct ffs_lcore *lc, struct rte_mbuf *m, const struct ipv6_repr *ip, const struct wire_csum_caps *caps,
		bool multicast, bool reassembled)
{
	struct udp_repr u;
	const struct udp_addrs a = { .v6 = true, .ip6 = ip };
	if (!udp_take(lc, m, &a, caps, &u))
		return;
	struct ffs_meta *meta = ffs_meta(m);
	/* The IPv6 header stays in the headroom, hdr_len + 8 bytes before the payload; a link-local
	 * source's scope is the port it came by (m->port, index + 1). */
	*meta = (struct ffs_meta){ .src = (uint32_t)(UDP_HDR_LEN + ip->hdr_len), .dst = (uint32_t)m->port + 1u,
				   .sport = u.src_port, .dport = u.dst_port, .ttl = ip->hop_limit, .tos = ip->tclass,
				   .flags = FFS_META_V6 };
	if (!multicast) {
		/* As udp_input's: the exception path's ports (exception_udp_port) are the kernel's. */
		const struct ffs_port *port = lc->st->exc_any ? ffs_exc_port6(lc->st, &ip->dst) : NULL;
		if (port && ffs_exc_udp_wanted(port, u.dst_port)) {
			rte_pktmbuf_prepend(m, (uint16_t)(UDP_HDR_LEN + ip->hdr_len));
			ffs_exc_to_kernel(lc, port, m, ETH_TYPE_IPV6);
			return;
		}
		/* As udp_input's: a reassembled datagram was put together on the lcore of its address pair
		 * (iface/ipv6_frag.c) and goes to its socket's home lcore. */
		bool steer = reassembled && lc->st->n_lcores > 1;
		unsigned flow = steer ? flow_lcore_of(lc->st, m, meta) : lc->index;
		if (deliver_unicast(lc, demux_unicast6(lc->demux, ip->src.b, u.src_port, ip->dst.b, u.dst_port, flow), m, steer))
			return;
		udp_unbound(lc, port, m, (uint16_t)(UDP_HDR_LEN + ip->hdr_len), ETH_TYPE_IPV6, unreachable6, ip);
		return;
	}
	struct ffs_sock *targets[MAX_GROUP_RECEIVERS];
	deliver_group(lc, m, targets,
		      demux_group6(lc->demux, ip->src.b, u.src_port, ip->dst.b, u.dst_port, targets, MAX_GROUP_RECEIVERS));
}

void udp_icmp_error(struct ffs_lcore *lc, const struct icmp_repr *icmp)
{
	/* The quoted datagram: its IPv4 header and at least the first 8 bytes of its UDP header. */
	struct ipv4_repr q;
	struct wire_csum_caps trust = { true, true, false, false };
	if (ipv4_repr_parse(icmp->data, icmp->data_len, &trust, &q) != WIRE_OK && icmp->data_len < IPV4_HDR_LEN + UDP_HDR_LEN)
		return;
	const uint8_t *ih = icmp->data;
	size_t hlen = (size_t)(ih[0] & 0x0f) * 4;
	if ((ih[0] >> 4) != 4 || hlen < IPV4_HDR_LEN || icmp->data_len < hlen + 4 || ih[9] != IPV4_PROTO_UDP)
		return;
	uint32_t qsrc = rd_be32(ih + 12), qdst = rd_be32(ih + 16);
	uint16_t qsport = rd_be16(ih + hlen), qdport = rd_be16(ih + hlen + 2);
	struct ffs_sock *so = demux_sender(lc->demux, qsrc, qsport, qdst, qdport);
	/* Linux reports ICMP errors on connected sockets only (unconnected ones need IP_RECVERR). */
	if (!so || !so->connected || so->raddr != qdst || so->rport != qdport)
		return;
	/* Linux (icmp_err_convert, __udp4_lib_err) reports only the hard errors without IP_RECVERR: net
	 * and host unreachable (codes 0, 1, 11, 12), source route failed and time exceeded are soft and
	 * leave the socket alone, as a route that comes back would. */
	int err;
	if (icmp->type != ICMP_DEST_UNREACH)
		return;
	switch (icmp->code) {
	case 2: err = ENOPROTOOPT; break;
	case ICMP_UNREACH_PORT: err = ECONNREFUSED; break;
	case ICMP_UNREACH_FRAG_NEEDED: err = EMSGSIZE; break;
	case 6: case 9: err = ENETUNREACH; break;    /* network unknown, network prohibited */
	case 7: err = EHOSTDOWN; break;              /* host unknown */
	case 8: err = ENONET; break;                 /* source host isolated */
	case 10: case 13: case 14: case 15: err = EHOSTUNREACH; break; /* host prohibited, filtered, precedence */
	default: return;                             /* 0, 1, 5, 11, 12: soft; above 15: unknown */
	}
	atomic_store(&so->so_error, err);
	lc->ctr.udp_icmp_errors++;
	stage_sock(lc, so)->error = true;
}

void udp6_icmp_error(struct ffs_lcore *lc, const struct icmp6_repr *icmp)
{
	/* The quoted datagram: its IPv6 header, then (no extension headers: ours carry none) UDP's ports. */
	const uint8_t *q = icmp->body;
	if (icmp->body_len < IPV6_HDR_LEN + 4 || (q[0] >> 4) != 6 || q[6] != IPV6_NH_UDP)
		return;
	int err;
	if (icmp->code == ICMP6_DST_UNREACH_PORT)
		err = ECONNREFUSED;
	else if (icmp->code == ICMP6_DST_UNREACH_ADMIN || icmp->code == 5 || icmp->code == 6)
		err = EACCES; /* prohibited, source address failed policy, reject route (icmpv6_err_convert) */
	else
		return; /* Linux reports only the hard errors without IPV6_RECVERR */
	struct ffs_sock *so = demux_sender6(lc->demux, q + 8, rd_be16(q + IPV6_HDR_LEN), q + 24, rd_be16(q + IPV6_HDR_LEN + 2));
	if (!so)
		return;
	atomic_store(&so->so_error, err);
	lc->ctr.udp_icmp_errors++;
	stage_sock(lc, so)->error = true;
}

/** The source address chosen for the last unbound destination of a TX drain (routes do not change
 *  within one: control messages are applied between turns). */
struct src_cache {
	bool valid;
	uint32_t dst, src;
};

/**
 * An AF_INET6 socket's datagram: its destination and source (:: = chosen by ipv6_output) wait in the
 * headroom where the IPv6 header goes (FFS_UDP6_DST_OFF, FFS_UDP6_SRC_OFF before the payload), its
 * scope (interface index) in ffs_meta.dst.
 */
static __rte_noinline void udp6_output(struct ffs_lcore *lc, struct rte_mbuf *m, const struct ffs_meta *meta,
					struct ipv6_route_memo *memo)
{
	const uint8_t *d = rte_pktmbuf_mtod(m, const uint8_t *);
	struct ipv6_out o = { .next_header = IPV6_NH_UDP, .hop_limit = meta->ttl, .tclass = meta->tos,
			      .scope_port = meta->dst ? (int)meta->dst - 1 : -1,
			      .mcast_loop = meta->flags & FFS_META_MCAST_LOOP, .udp_csum = true, .memo = memo };
	memcpy(o.src.b, d - FFS_UDP6_SRC_OFF, sizeof(o.src.b));
	memcpy(o.dst.b, d - FFS_UDP6_DST_OFF, sizeof(o.dst.b));
	uint16_t payload_len = (uint16_t)rte_pktmbuf_pkt_len(m);
	uint8_t *h = (uint8_t *)rte_pktmbuf_prepend(m, UDP_HDR_LEN);
	if (!h) {
		lc->ctr.udp_tx_errors++;
		rte_pktmbuf_free(m);
		return;
	}
	/* ipv6_output fills the checksum once the source and the port are known (RFC 8200 §8.1: never zero). */
	wr_be16(h, meta->sport);
	wr_be16(h + 2, meta->dport);
	wr_be16(h + 4, (uint16_t)(payload_len + UDP_HDR_LEN));
	wr_be16(h + 6, 0);
	if (ipv6_output(lc, m, &o) == 0)
		lc->ctr.udp_tx++;
	else
		lc->ctr.udp_tx_errors++;
}

static void udp_output(struct ffs_lcore *lc, struct rte_mbuf *m, struct src_cache *cache, struct ipv4_route_memo *memo,
		       struct ipv6_route_memo *memo6)
{
	struct ffs_stack *st = lc->st;
	struct ffs_meta meta = *ffs_meta(m);
	if (__builtin_expect(meta.flags & FFS_META_V6, 0)) {
		udp6_output(lc, m, &meta, memo6);
		return;
	}
	uint32_t src = meta.src;
	if (!src && cache->valid && cache->dst == meta.dst) {
		src = cache->src;
	} else if (!src) {
		/* The route's preferred source, else its port's address on the next hop's subnet (route_source);
		 * unroutable: the first port's. */
		src = route_source(st, meta.dst);
		if (!src && st->n_ports)
			src = st->ports[0].addr;
		*cache = (struct src_cache){ true, meta.dst, src };
	}
	uint16_t payload_len = (uint16_t)rte_pktmbuf_pkt_len(m);
	uint8_t *h = (uint8_t *)rte_pktmbuf_prepend(m, UDP_HDR_LEN);
	if (!h) {
		lc->ctr.udp_tx_errors++;
		rte_pktmbuf_free(m);
		return;
	}
	/* The checksum is filled once IPv4 knows the port, and with it whether the device computes it. */
	wr_be16(h, meta.sport);
	wr_be16(h + 2, meta.dport);
	wr_be16(h + 4, (uint16_t)(payload_len + UDP_HDR_LEN));
	wr_be16(h + 6, 0);
	struct ipv4_out o = { .src = src, .dst = meta.dst, .proto = IPV4_PROTO_UDP, .ttl = meta.ttl, .tos = meta.tos,
			      .mcast_loop = meta.flags & FFS_META_MCAST_LOOP, .udp_csum = true, .memo = memo };
	if (ipv4_output(lc, m, &o) == 0)
		lc->ctr.udp_tx++;
	else
		lc->ctr.udp_tx_errors++;
}

/** What udp_csum_fill asks of udp_repr_emit when the device sums the datagram. */
static const struct wire_csum_caps TX_UDP_OFFLOAD = { .tx_udp_offload = true };

/** The header of the UDP datagram at h, as the TX path wrote it (the checksum still to fill). */
static struct udp_repr tx_repr(const uint8_t *h)
{
	return (struct udp_repr){ .src_port = rd_be16(h), .dst_port = rd_be16(h + 2),
				  .payload_len = (uint16_t)(rd_be16(h + 4) - UDP_HDR_LEN) };
}

/* DPDK's contract for RTE_MBUF_F_TX_UDP_CKSUM: l2/l3/l4 lengths set, the family's flag, the field
 * seeded with the pseudo-header sum (rte_ipv4_phdr_cksum's or rte_ipv6_phdr_cksum's value, which
 * udp_repr_emit and udp6_repr_emit write). */
static void tx_offload(struct ffs_lcore *lc, struct rte_mbuf *m, uint64_t family)
{
	m->l4_len = UDP_HDR_LEN;
	m->ol_flags |= family | RTE_MBUF_F_TX_UDP_CKSUM;
	lc->ctr.udp_tx_csum_offload++;
}

void udp_csum_fill(struct ffs_lcore *lc, struct rte_mbuf *m, uint16_t off, uint32_t src, uint32_t dst, bool offload)
{
	uint8_t *h = rte_pktmbuf_mtod_offset(m, uint8_t *, off);
	struct udp_repr u = tx_repr(h);
	if (offload) {
		udp_repr_emit(&u, h, (size_t)UDP_HDR_LEN + u.payload_len, src, dst, &TX_UDP_OFFLOAD);
		tx_offload(lc, m, RTE_MBUF_F_TX_IPV4);
	} else if (m->nb_segs == 1) {
		udp_repr_emit(&u, h, rte_pktmbuf_data_len(m) - off, src, dst, &WIRE_CSUM_SOFTWARE);
	} else {
		/* The payload spans segments: sum the chain (the checksum field is zero while summing). */
		uint16_t length = (uint16_t)(u.payload_len + UDP_HDR_LEN);
		wr_be16(h + 6, 0);
		uint16_t sum;
		rte_raw_cksum_mbuf(m, off, length, &sum);
		uint16_t c = csum_fold(rte_be_to_cpu_16(sum) + csum_pseudo_ipv4(src, dst, IPV4_PROTO_UDP, length));
		/* RFC 768: a computed zero is sent as all ones. */
		wr_be16(h + 6, c ? c : 0xffff);
	}
}

void udp6_csum_fill(struct ffs_lcore *lc, struct rte_mbuf *m, uint16_t off, const struct ip6_addr *src,
		    const struct ip6_addr *dst, bool offload)
{
	if (!offload) {
		ipv6_l4_csum_fill(m, off, 6, src, dst, IPV6_NH_UDP);
		return;
	}
	uint8_t *h = rte_pktmbuf_mtod_offset(m, uint8_t *, off);
	struct udp_repr u = tx_repr(h);
	udp6_repr_emit(&u, h, (size_t)UDP_HDR_LEN + u.payload_len, src, dst, &TX_UDP_OFFLOAD);
	tx_offload(lc, m, RTE_MBUF_F_TX_IPV6);
}

/** Gives `bytes` and `count` datagrams of SO_SNDBUF charge back to so (if it is still the same socket:
 *  a slot's socket is replaced by a new object with a new generation, and freed after a grace period). */
static void sndbuf_release(struct ffs_sock *so, uint16_t gen, int bytes, int count)
{
	if (so && count && so->gen == gen) {
		atomic_fetch_sub_explicit(&so->tx_bytes, bytes, memory_order_relaxed);
		atomic_fetch_sub_explicit(&so->tx_count, count, memory_order_relaxed);
	}
}

unsigned udp_tx_drain(struct ffs_lcore *lc)
{
	struct rte_mbuf *pkts[FFS_BURST];
	unsigned n = rte_ring_sc_dequeue_burst(lc->tx_in, (void **)pkts, FFS_BURST, NULL);
	if (n == 0)
		return 0;
	/* The datagrams leave the sockets' send buffers: one release per run from the same socket. */
	struct ffs_sock *so = NULL;
	uint16_t gen = 0;
	int bytes = 0, count = 0;
	for (unsigned i = 0; i < n; i++) {
		const struct ffs_meta *meta = ffs_meta(pkts[i]);
		struct ffs_sock *s = meta->sock_id < FFS_MAX_SOCKS ? __atomic_load_n(&lc->st->socks[meta->sock_id], __ATOMIC_ACQUIRE) : NULL;
		if (s != so || meta->sock_gen != gen) {
			sndbuf_release(so, gen, bytes, count);
			so = s;
			gen = meta->sock_gen;
			bytes = count = 0;
		}
		bytes += (int)rte_pktmbuf_pkt_len(pkts[i]) + FFS_DGRAM_OVERHEAD;
		count++;
	}
	sndbuf_release(so, gen, bytes, count);
	struct src_cache cache = { .valid = false };
	struct ipv4_route_memo memo = { .valid = false };
	struct ipv6_route_memo memo6 = { .valid = false };
	for (unsigned i = 0; i < n; i++)
		udp_output(lc, pkts[i], &cache, &memo, &memo6);
	return n;
}
