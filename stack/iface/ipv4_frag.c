/*
 * IPv4 fragmentation and reassembly for a host (RFC 791 §2.3 and §3.2, RFC 1122 §3.3.2), per lcore.
 *
 * Reassembly keeps a bounded table of partial datagrams keyed by (source, destination, protocol,
 * identification). An entry holds its fragments' mbufs untouched (data at each fragment's IPv4
 * header) in offset order, linked through the ffs_mbuf_link dynamic field. Fragments inside an entry
 * never overlap: an exact duplicate is dropped, any other overlap discards the whole datagram (the
 * rule of RFC 5722, which Linux also applies to IPv4: overlaps are how teardrop crashed reassemblers
 * and how IDS evasion hides a payload). So the datagram is complete exactly when its last fragment
 * has come and the payload bytes held add up to its end — RFC 815's hole list reduced to one counter.
 *
 * Memory is bounded three ways, each a tunable read when a fragment arrives: entries
 * (net.inet.ip.maxfragpackets), fragments per entry (maxfragsperpacket) and the mbuf buffer bytes
 * the lcore holds (maxfragbytes: buffer sizes rather than payload, so a flood of tiny fragments is
 * charged for the pool it really drains). An entry expires net.inet.ip.fragttl after its first
 * fragment came.
 *
 * Fragmentation copies a whole datagram (header and a possibly chained payload) into fresh
 * single-segment mbufs, one per fragment, each with its own 20-byte header.
 *
 * Everything runs on the lcore that owns the table; nothing is locked.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <rte_byteorder.h>
#include <rte_ip.h>

#include "stack/iface/iface.h"
#include "stack/phy/mbuf.h"
#include "stack/wire/checksum.h"
#include "stack/wire/icmp.h"

#define IP_OFF_TOTAL_LEN 2
#define IP_OFF_FRAG 6
#define IP_OFF_CHECKSUM 10
#define UDP_OFF_CHECKSUM 6

/** One partial datagram. */
struct reasm_entry {
	uint32_t src, dst;
	uint16_t id;
	uint8_t proto;
	bool have_last;   /**< the fragment with MF clear came: `total` is known */
	uint16_t nfrags;
	uint32_t total;    /**< payload bytes of the whole datagram */
	uint32_t received; /**< payload bytes held (fragments are disjoint) */
	uint32_t charged;  /**< mbuf buffer bytes charged to the lcore's budget */
	uint64_t deadline; /**< TSC */
	struct rte_mbuf *head, *tail;
};

struct ipv4_reasm {
	unsigned n;    /**< entries in use: e[0..n) */
	uint64_t bytes; /**< buffer bytes held by all entries */
	struct reasm_entry e[];
};

static inline struct rte_mbuf *frag_next(struct rte_mbuf *m) { return *ffs_mbuf_link(m); }

static inline unsigned frag_hlen(const struct rte_mbuf *m)
{
	return (rte_pktmbuf_mtod(m, const uint8_t *)[0] & 0x0f) * 4u;
}

static inline uint32_t frag_off(const struct rte_mbuf *m)
{
	return (rd_be16(rte_pktmbuf_mtod(m, const uint8_t *) + IP_OFF_FRAG) & IPV4_FRAG_OFFSET_MASK) * 8u;
}

static inline uint32_t frag_end(const struct rte_mbuf *m)
{
	return frag_off(m) + rte_pktmbuf_pkt_len(m) - frag_hlen(m);
}

static uint32_t truesize(const struct rte_mbuf *m)
{
	uint32_t n = 0;
	for (; m; m = m->next)
		n += m->buf_len;
	return n;
}

struct ipv4_reasm *ipv4_reasm_new(void)
{
	/* Room for the largest table the tunable allows: it may be raised while the stack runs. */
	size_t slots = (size_t)ffs_sysctl_table[FFS_SYSCTL_MAXFRAGPACKETS].max;
	return calloc(1, sizeof(struct ipv4_reasm) + slots * sizeof(struct reasm_entry));
}

static unsigned free_frags(struct reasm_entry *e)
{
	unsigned n = 0;
	for (struct rte_mbuf *f = e->head, *next; f; f = next, n++) {
		next = frag_next(f);
		rte_pktmbuf_free(f);
	}
	e->head = e->tail = NULL;
	return n;
}

void ipv4_reasm_free(struct ipv4_reasm *r)
{
	if (!r)
		return;
	for (unsigned i = 0; i < r->n; i++)
		free_frags(&r->e[i]);
	free(r);
}

/** Forgets entry e (its mbufs already freed or handed on); the last entry takes its slot. */
static void entry_remove(struct ipv4_reasm *r, struct reasm_entry *e)
{
	r->bytes -= e->charged;
	struct reasm_entry *last = &r->e[--r->n];
	if (e != last)
		*e = *last;
}

/** Frees a partial datagram's fragments, counting each as dropped. */
static void entry_discard(struct ffs_lcore *lc, struct ipv4_reasm *r, struct reasm_entry *e)
{
	lc->ctr.ip_frag_dropped += free_frags(e);
	entry_remove(r, e);
}

static struct reasm_entry *entry_find(struct ipv4_reasm *r, const struct ipv4_repr *ip)
{
	for (unsigned i = 0; i < r->n; i++) {
		struct reasm_entry *e = &r->e[i];
		if (e->id == ip->id && e->src == ip->src && e->dst == ip->dst && e->proto == ip->proto)
			return e;
	}
	return NULL;
}

/** Turns a complete entry into one chain: the first fragment, then the others' payloads. */
static struct rte_mbuf *entry_complete(struct ffs_lcore *lc, struct ipv4_reasm *r, struct reasm_entry *e,
				       struct ipv4_repr *ip)
{
	struct rte_mbuf *first = e->head;
	unsigned hlen = frag_hlen(first);
	uint32_t segs = 0;
	for (struct rte_mbuf *f = first; f; f = frag_next(f))
		segs += f->nb_segs;
	/* The first fragment's options make the header longer than the 20 bytes other checks assumed. */
	if (hlen + e->total > IPV4_MAX_LEN || segs > RTE_MBUF_MAX_NB_SEGS) {
		entry_discard(lc, r, e);
		return NULL;
	}

	struct rte_mbuf *last = rte_pktmbuf_lastseg(first);
	struct rte_mbuf *f = frag_next(first);
	*ffs_mbuf_link(first) = NULL;
	while (f) {
		struct rte_mbuf *next = frag_next(f);
		*ffs_mbuf_link(f) = NULL;
		rte_pktmbuf_adj(f, (uint16_t)frag_hlen(f));
		last->next = f;
		first->nb_segs = (uint16_t)(first->nb_segs + f->nb_segs);
		first->pkt_len += f->pkt_len;
		f->pkt_len = f->data_len;
		last = rte_pktmbuf_lastseg(f);
		f = next;
	}

	uint8_t *h = rte_pktmbuf_mtod(first, uint8_t *);
	uint16_t df = rd_be16(h + IP_OFF_FRAG) & IPV4_FLAG_DF;
	wr_be16(h + IP_OFF_TOTAL_LEN, (uint16_t)(hlen + e->total));
	wr_be16(h + IP_OFF_FRAG, df);
	wr_be16(h + IP_OFF_CHECKSUM, 0);
	wr_be16(h + IP_OFF_CHECKSUM, csum_buf(h, hlen));
	/* A device cannot have verified a checksum that spans fragments it saw one at a time. */
	first->ol_flags &= ~RTE_MBUF_F_RX_L4_CKSUM_MASK;

	ip->tos = h[1];
	ip->ttl = h[8];
	ip->hdr_len = (uint16_t)hlen;
	ip->dont_frag = df;
	ip->more_frags = false;
	ip->frag_offset = 0;
	ip->payload_len = (uint16_t)e->total;

	e->head = e->tail = NULL;
	entry_remove(r, e);
	lc->ctr.ip_reassembled++;
	return first;
}

struct rte_mbuf *ipv4_reassemble(struct ffs_lcore *lc, struct rte_mbuf *m, struct ipv4_repr *ip)
{
	const struct ffs_stack *st = lc->st;
	struct ipv4_reasm *r = lc->reasm;
	struct reasm_entry *e = NULL;
	uint32_t off = ip->frag_offset, len = ip->payload_len, end = off + len;

	lc->ctr.ip_fragments++;
	if (!r) {
		lc->ctr.ip_frag_nomem++;
		goto drop;
	}
	/* RFC 791 §3.2: every fragment but the last carries a multiple of 8 octets; an empty fragment
	 * carries nothing to reassemble. */
	if (len == 0 || (ip->more_frags && len % 8 != 0))
		goto drop;
	/* No datagram of at most 65535 octets, header included, reaches past this ("ping of death"). */
	if (end > IPV4_MAX_LEN - IPV4_HDR_LEN)
		goto drop;

	e = entry_find(r, ip);
	if (!e) {
		if (r->n >= (unsigned)ffs_sysctl(st, FFS_SYSCTL_MAXFRAGPACKETS)) {
			lc->ctr.ip_frag_nomem++;
			goto drop;
		}
		e = &r->e[r->n++];
		memset(e, 0, sizeof(*e));
		e->src = ip->src;
		e->dst = ip->dst;
		e->id = ip->id;
		e->proto = ip->proto;
		/* RFC 1122 §3.3.2: a fixed reassembly timeout, started by the first fragment to arrive. */
		e->deadline = lc->now + (uint64_t)ffs_sysctl(st, FFS_SYSCTL_FRAGTTL_MS) * st->tsc_hz / 1000;
	}
	uint32_t charge = truesize(m);
	if (r->bytes + charge > (uint64_t)ffs_sysctl(st, FFS_SYSCTL_MAXFRAGBYTES)) {
		lc->ctr.ip_frag_nomem++;
		if (e->nfrags == 0)
			entry_remove(r, e);
		goto drop;
	}

	/* Where m goes: after `prev`, before `next` (the first fragment at or past its offset). */
	struct rte_mbuf *prev = NULL, *next = e->head;
	if (e->tail && frag_end(e->tail) <= off) {
		prev = e->tail;
		next = NULL;
	} else {
		while (next && frag_off(next) < off) {
			prev = next;
			next = frag_next(next);
		}
	}
	if (next && frag_off(next) == off && frag_end(next) == end) {
		lc->ctr.ip_frag_dup++;
		goto drop;
	}
	if ((prev && frag_end(prev) > off) || (next && frag_off(next) < end))
		goto overlap;
	if (!ip->more_frags) {
		/* A second, different end, or data already held beyond this one: the sender's fragments
		 * disagree about the datagram, which is an overlap by another name. */
		if ((e->have_last && e->total != end) || (e->tail && frag_end(e->tail) > end))
			goto overlap;
		e->have_last = true;
		e->total = end;
	} else if (e->have_last && end > e->total) {
		goto overlap;
	}
	if (e->nfrags >= ffs_sysctl(st, FFS_SYSCTL_MAXFRAGSPERPACKET)) {
		lc->ctr.ip_frag_toomany++;
		goto discard;
	}

	*ffs_mbuf_link(m) = next;
	if (prev)
		*ffs_mbuf_link(prev) = m;
	else
		e->head = m;
	if (!next)
		e->tail = m;
	e->nfrags++;
	e->received += len;
	e->charged += charge;
	r->bytes += charge;
	if (!e->have_last || e->received != e->total)
		return NULL;
	return entry_complete(lc, r, e, ip);

overlap:
	lc->ctr.ip_frag_overlap++;
discard:
	entry_discard(lc, r, e);
drop:
	lc->ctr.ip_frag_dropped++;
	rte_pktmbuf_free(m);
	return NULL;
}

/**
 * RFC 792 and RFC 1122 §3.3.2: a host that gives up on a datagram whose fragment zero it holds may
 * send a time exceeded message (code 1, "fragment reassembly time exceeded") quoting that fragment.
 * Only about datagrams addressed to one of our unicast addresses; icmp_send_error rate-limits.
 */
static void send_time_exceeded(struct ffs_lcore *lc, struct reasm_entry *e)
{
	static const struct wire_csum_caps held = { true, true, false, false };
	struct ipv4_repr ip;
	if (!e->head || frag_off(e->head) != 0 || !route_is_local(lc->st, e->dst) || ipv4_is_loopback(e->dst))
		return;
	if (ipv4_repr_parse(rte_pktmbuf_mtod(e->head, const uint8_t *), rte_pktmbuf_data_len(e->head), &held, &ip) != WIRE_OK)
		return;
	icmp_send_error(lc, e->head, &ip, ICMP_TIME_EXCEEDED, 1, 0);
}

void ipv4_reasm_tick(struct ffs_lcore *lc)
{
	struct ipv4_reasm *r = lc->reasm;
	if (!r)
		return;
	for (unsigned i = 0; i < r->n;) {
		struct reasm_entry *e = &r->e[i];
		if (lc->now < e->deadline) {
			i++;
			continue;
		}
		lc->ctr.ip_frag_timeout++;
		send_time_exceeded(lc, e);
		entry_discard(lc, r, e); /* the last entry moves into slot i */
	}
}

/**
 * The UDP checksum the device was asked to finish (RFC 768, pseudo-header sum seeded in the field,
 * as RTE_MBUF_F_TX_UDP_CKSUM requires): no device can sum a datagram it sends in pieces, so it is
 * done here over the whole datagram. Returns the value for the field, or -1 when nothing is to do.
 */
static int32_t finish_udp_cksum(const struct rte_mbuf *m, unsigned hlen, uint32_t payload, uint8_t proto)
{
	if ((m->ol_flags & RTE_MBUF_F_TX_L4_MASK) != RTE_MBUF_F_TX_UDP_CKSUM || proto != IPV4_PROTO_UDP || payload < 8)
		return -1;
	uint16_t raw;
	if (rte_raw_cksum_mbuf(m, hlen, payload, &raw) != 0)
		return -1;
	/* rte_raw_cksum sums native-order words; ffnet's sums are of big-endian words (RFC 1071 §2(B)). */
	uint16_t c = csum_fold(rte_be_to_cpu_16(raw));
	return c ? c : 0xffff;
}

int ipv4_fragment(struct ffs_lcore *lc, const struct ffs_port *port, struct rte_mbuf *m, uint32_t nexthop,
		  const struct eth_addr *dst_mac)
{
	uint8_t hbuf[IPV4_HDR_LEN];
	const uint8_t *h = rte_pktmbuf_read(m, 0, IPV4_HDR_LEN, hbuf);
	int rc = 0;
	if (!h) {
		rc = -EINVAL;
		goto out;
	}
	unsigned hlen = (h[0] & 0x0f) * 4u;
	uint32_t total = rd_be16(h + IP_OFF_TOTAL_LEN);
	uint16_t frag = rd_be16(h + IP_OFF_FRAG);
	if (hlen < IPV4_HDR_LEN || total < hlen || total > rte_pktmbuf_pkt_len(m)) {
		rc = -EINVAL;
		goto out;
	}
	if (frag & IPV4_FLAG_DF) {
		lc->ctr.ip_cantfrag++;
		rc = -EMSGSIZE;
		goto out;
	}
	uint32_t room = rte_pktmbuf_data_room_size(lc->st->pool) - RTE_PKTMBUF_HEADROOM;
	uint32_t fit = port->mtu < room ? port->mtu : room;
	/* RFC 791 §3.2: every fragment but the last carries a multiple of 8 octets. */
	uint32_t step = fit > IPV4_HDR_LEN ? (fit - IPV4_HDR_LEN) & ~7u : 0;
	if (step == 0) {
		lc->ctr.ip_toolong++;
		rc = -EMSGSIZE;
		goto out;
	}

	/* Options are not carried: ffnet builds none (RFC 791 copies only those flagged "copied"). */
	struct ipv4_repr fr = {
		.src = rd_be32(h + 12),
		.dst = rd_be32(h + 16),
		.proto = h[9],
		.ttl = h[8],
		.tos = h[1],
		.id = rd_be16(h + 4),
		.hdr_len = IPV4_HDR_LEN,
	};
	uint32_t base = (frag & IPV4_FRAG_OFFSET_MASK) * 8u;
	bool more_after = frag & IPV4_FLAG_MF;
	uint32_t payload = total - hlen;
	int32_t udp_cksum = finish_udp_cksum(m, hlen, payload, fr.proto);

	for (uint32_t off = 0; off < payload; off += step) {
		uint32_t n = payload - off < step ? payload - off : step;
		struct rte_mbuf *f = rte_pktmbuf_alloc(lc->st->pool);
		uint8_t *p = f ? (uint8_t *)rte_pktmbuf_append(f, (uint16_t)(IPV4_HDR_LEN + n)) : NULL;
		if (!p) {
			rte_pktmbuf_free(f);
			rc = -ENOBUFS;
			goto out;
		}
		fr.frag_offset = (uint16_t)(base + off);
		fr.more_frags = off + n < payload || more_after;
		fr.payload_len = (uint16_t)n;
		ipv4_repr_emit(&fr, p, IPV4_HDR_LEN, &port->caps);
		const void *src = rte_pktmbuf_read(m, hlen + off, n, p + IPV4_HDR_LEN);
		if (src != p + IPV4_HDR_LEN)
			memcpy(p + IPV4_HDR_LEN, src, n);
		if (off == 0 && udp_cksum >= 0)
			wr_be16(p + IPV4_HDR_LEN + UDP_OFF_CHECKSUM, (uint16_t)udp_cksum);
		f->l3_len = IPV4_HDR_LEN;
		if (port->caps.tx_ipv4_offload)
			f->ol_flags |= RTE_MBUF_F_TX_IPV4 | RTE_MBUF_F_TX_IP_CKSUM;
		rc = eth_output(lc, port, f, nexthop, dst_mac);
		if (rc != 0)
			goto out;
		lc->ctr.ip_frags_out++;
	}
	lc->ctr.ip_fragmented++;
out:
	rte_pktmbuf_free(m);
	return rc;
}
