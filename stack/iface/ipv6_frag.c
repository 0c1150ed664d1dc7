/*
 * IPv6 fragmentation and reassembly for a host (RFC 8200 §4.5), per lcore.
 *
 * Reassembly: the IPv6 rules on top of the table both families share (iface/reasm.c: its bounds,
 * RFC 5722's overlap policy — any overlap discards the whole datagram — and expiry). A fragment's
 * unfragmentable part and Fragment header stay with it in the table; the datagram handed back is
 * the first fragment's unfragmentable part followed by every fragment's payload, the Fragment
 * header gone and the Next Header field that named it naming the upper layer (§4.5 "Reassembly").
 * Atomic fragments (offset 0, M clear) are whole datagrams and never enter the table (RFC 6946).
 * Fragments of one datagram are reassembled on one lcore: the one a NIC's RSS brings the IPv6
 * address pair to (ipv6_frag_steer), as IPv4's are.
 *
 * Fragmentation: a datagram above the path MTU leaves in fragments of at most that size, each a
 * fresh single-segment mbuf with the 40-byte header and a Fragment header whose identification is
 * fresh per datagram (RFC 8200 §4.5, RFC 7739: random, so not predictable off path).
 *
 * Everything runs on the lcore that owns the table; nothing is locked.
 */
#include <errno.h>
#include <string.h>
#include <rte_random.h>

#include "stack/iface/iface.h"
#include "stack/iface/reasm.h"
#include "stack/phy/rss.h"
#include "stack/wire/icmp6.h"
#include "stack/wire/ipv6.h"

#define IPV6_OFF_PAYLOAD_LEN 4

/** RFC 8200 §4.5: the Parameter Problem (code 0) a refused fragment asks for, pointing at `pointer`. */
static void refuse(struct ffs_lcore *lc, struct rte_mbuf *m, const struct ipv6_repr *ip, uint32_t pointer)
{
	lc->ctr.ip6_frag_badlen++;
	lc->ctr.ip6_frag_dropped++;
	if (!ip6_is_multicast(&ip->dst))
		icmp6_send_error(lc, m, ip, ICMP6_PARAM_PROB, ICMP6_PARAMPROB_HEADER, pointer);
	rte_pktmbuf_free(m);
}

struct rte_mbuf *ipv6_reassemble(struct ffs_lcore *lc, struct rte_mbuf *m, struct ipv6_repr *ip)
{
	if (ip->frag_offset == 0 && !ip->more_frags) {
		/* RFC 6946 §4: an atomic fragment is processed as a whole datagram, never mixed with
		 * fragments of the same identification in the table. */
		lc->ctr.ip6_atomic_frags++;
		ip->fragment = false;
		return m;
	}
	lc->ctr.ip6_fragments++;
	uint32_t hlen = (uint32_t)ip->frag_hdr_off + IPV6_FRAG_HDR_LEN;
	uint32_t len = IPV6_HDR_LEN + (uint32_t)ip->payload_len - hlen;
	/* The parser refuses these already (ipv6_repr_parse); checked again here because the table
	 * relies on them. RFC 8200 §4.5: every fragment but the last carries a multiple of 8 octets
	 * ("pointing to the Payload Length field"), and none reaches past a 65535-octet payload
	 * ("pointing to the Fragment Offset field"). */
	if (ip->more_frags && len % 8 != 0) {
		refuse(lc, m, ip, IPV6_OFF_PAYLOAD_LEN);
		return NULL;
	}
	if ((uint32_t)ip->unfrag_len - IPV6_HDR_LEN + ip->frag_offset + len > IPV6_MAX_PAYLOAD) {
		refuse(lc, m, ip, ip->frag_hdr_off + 2u);
		return NULL;
	}
	/* A fragment may be a chain (a jumbo frame): its headers, which reassembly strips from all but
	 * the first, are in its first segment (ipv6_input parsed them there). */
	if (len == 0 || rte_pktmbuf_data_len(m) < hlen) {
		lc->ctr.ip6_frag_dropped++;
		rte_pktmbuf_free(m);
		return NULL;
	}

	struct reasm_key k = { .family = 6, .id = ip->frag_id };
	memcpy(k.src, ip->src.b, 16);
	memcpy(k.dst, ip->dst.b, 16);
	struct reasm_frag f = { .off = ip->frag_offset, .len = len, .hlen = hlen, .more = ip->more_frags,
				.limit = IPV6_HDR_LEN + IPV6_MAX_PAYLOAD + IPV6_FRAG_HDR_LEN };
	uint32_t total;
	struct rte_mbuf *first = reasm_insert(lc, m, &k, &f, &total);
	if (!first)
		return NULL;

	/* The first fragment's own offsets: other fragments may have had other unfragmentable parts,
	 * and RFC 8200 §4.5 takes the first fragment's. */
	uint8_t *h = rte_pktmbuf_mtod(first, uint8_t *);
	struct ipv6_repr fip;
	if (ipv6_repr_parse_head(h, rte_pktmbuf_data_len(first), rte_pktmbuf_pkt_len(first), &fip, NULL) != WIRE_OK ||
	    !fip.fragment) {
		lc->ctr.ip6_frag_dropped++;
		rte_pktmbuf_free(first);
		return NULL;
	}
	h[fip.frag_nh_off] = h[fip.frag_hdr_off]; /* the Fragment header's Next Header */
	memmove(h + IPV6_FRAG_HDR_LEN, h, fip.frag_hdr_off);
	rte_pktmbuf_adj(first, IPV6_FRAG_HDR_LEN);
	h = rte_pktmbuf_mtod(first, uint8_t *);
	wr_be16(h + IPV6_OFF_PAYLOAD_LEN, (uint16_t)(fip.unfrag_len - IPV6_HDR_LEN + total));

	/* The headers after the Fragment header are all in the first fragment (RFC 7112, which the
	 * parser held it to), so the walk over the whole datagram reads only its first segment. */
	struct ipv6_param_problem pp = { 0 };
	enum wire_result r = ipv6_repr_parse_head(h, rte_pktmbuf_data_len(first), rte_pktmbuf_pkt_len(first), ip, &pp);
	if (r != WIRE_OK) {
		if (pp.send && !(pp.unless_multicast && ip6_is_multicast(&ip->dst)))
			icmp6_send_error(lc, first, ip, ICMP6_PARAM_PROB, pp.code, pp.pointer);
		lc->ctr.ip6_frag_dropped++;
		rte_pktmbuf_free(first);
		return NULL;
	}
	return first;
}

/**
 * RFC 8200 §4.5: "If insufficient fragments are received to complete reassembly of a packet within
 * 60 seconds ... and the fragment with offset zero has been received, an ICMP Time Exceeded --
 * Fragment Reassembly Time Exceeded message should be sent to the source of that fragment." Never
 * about a datagram to a multicast group (RFC 4443 §2.4 (e.3)); icmp6_send_error rate-limits.
 */
void ipv6_reasm_expired(struct ffs_lcore *lc, struct rte_mbuf *head)
{
	struct ipv6_repr ip;
	if (ipv6_repr_parse_head(rte_pktmbuf_mtod(head, const uint8_t *), rte_pktmbuf_data_len(head),
				 rte_pktmbuf_pkt_len(head), &ip, NULL) != WIRE_OK ||
	    ip6_is_multicast(&ip.dst))
		return;
	icmp6_send_error(lc, head, &ip, ICMP6_TIME_EXCEEDED, ICMP6_TIME_EXCEED_REASSEMBLY, 0);
}

bool ipv6_frag_steer(struct ffs_lcore *lc, const struct ffs_port *port, struct rte_mbuf *m, const struct ipv6_repr *ip)
{
	const struct ffs_stack *st = lc->st;
	if (!port || !ip->fragment || (ip->frag_offset == 0 && !ip->more_frags) || st->n_lcores < 2)
		return false;
	/* Fragments of one datagram may arrive on several queues (a NIC hashes a fragment by its
	 * address pair, a later fragment of a flow it hashed by ports): each datagram is reassembled by
	 * the lcore its pair hashes to, where RSS and the software dispatcher bring fragments anyway. */
	struct ffs_lcore *owner = st->lcores[ffs_rss_lcore(ffs_rss_hash_ipv6(ip->src.b, ip->dst.b), st->n_lcores)];
	if (owner == lc)
		return false;
	m->hash.usr = FFS_PEER_FRAGMENT6;
	m->port = port->port_id; /* the owner finds the port by it; not every PMD records it */
	if (rte_ring_enqueue(owner->peer_in, m) != 0) {
		lc->ctr.ip6_frag_dropped++;
		rte_pktmbuf_free(m);
		return true;
	}
	lc->ctr.ip6_frag_steered++;
	ffs_lcore_wake(owner);
	return true;
}

/** The fragments' headers, and where they go. */
struct ipv6_frag_out {
	struct frag_out o;
	struct ffs_lcore *lc;
	const struct ffs_port *port;
	const struct ip6_addr *nexthop;
	const uint8_t *unfrag; /**< the unfragmentable part, copied into every fragment */
	unsigned unfrag_len;
	uint8_t next_header; /**< the Fragment header's: what the unfragmentable part's last header named */
	unsigned nh_off;     /**< where the unfragmentable part names the next header */
	uint32_t id;
};

static void ipv6_frag_emit(const struct frag_out *o, uint8_t *hdr, uint32_t off, uint32_t len, bool more)
{
	struct ipv6_frag_out *x = o->ctx;
	memcpy(hdr, x->unfrag, x->unfrag_len);
	hdr[x->nh_off] = IPV6_NH_FRAGMENT;
	wr_be16(hdr + IPV6_OFF_PAYLOAD_LEN, (uint16_t)(x->unfrag_len - IPV6_HDR_LEN + IPV6_FRAG_HDR_LEN + len));
	ipv6_frag_hdr_emit(x->next_header, (uint16_t)off, more, x->id, hdr + x->unfrag_len, IPV6_FRAG_HDR_LEN);
}

static int ipv6_frag_send(const struct frag_out *o, struct rte_mbuf *f)
{
	struct ipv6_frag_out *x = o->ctx;
	f->l3_len = (uint16_t)(x->unfrag_len + IPV6_FRAG_HDR_LEN);
	int rc = eth_output6(x->lc, x->port, f, x->nexthop, NULL);
	if (rc == 0)
		x->lc->ctr.ip6_frags_out++;
	return rc;
}

int ipv6_fragment(struct ffs_lcore *lc, const struct ffs_port *port, struct rte_mbuf *m, uint16_t mtu,
		  const struct ip6_addr *nexthop)
{
	uint8_t hbuf[IPV6_HDR_LEN];
	const uint8_t *h = rte_pktmbuf_read(m, 0, IPV6_HDR_LEN, hbuf);
	int rc = 0;
	if (!h) {
		rc = -EINVAL;
		goto out;
	}
	/* ffnet's own datagrams carry no extension headers: the unfragmentable part is the fixed
	 * header, and what it names follows the Fragment header (RFC 8200 §4.5). */
	uint32_t payload = rd_be16(h + IPV6_OFF_PAYLOAD_LEN);
	if (h[6] == IPV6_NH_FRAGMENT || IPV6_HDR_LEN + payload > rte_pktmbuf_pkt_len(m)) {
		rc = -EINVAL;
		goto out;
	}
	uint32_t fit = ip_frag_fit(lc, port, mtu);
	uint32_t step = fit > IPV6_HDR_LEN + IPV6_FRAG_HDR_LEN ? (fit - IPV6_HDR_LEN - IPV6_FRAG_HDR_LEN) & ~7u : 0;
	if (step == 0) {
		lc->ctr.ip6_cantfrag++;
		rc = -EMSGSIZE;
		goto out;
	}
	uint8_t unfrag[IPV6_HDR_LEN];
	memcpy(unfrag, h, IPV6_HDR_LEN);
	struct ipv6_frag_out x = {
		.o = { .hdr_len = IPV6_HDR_LEN + IPV6_FRAG_HDR_LEN, .emit = ipv6_frag_emit, .send = ipv6_frag_send,
		       .ctx = &x },
		.lc = lc,
		.port = port,
		.nexthop = nexthop,
		.unfrag = unfrag,
		.unfrag_len = IPV6_HDR_LEN,
		.next_header = h[6],
		.nh_off = 6,
		/* RFC 8200 §4.5 asks for an identification unused by any recent datagram of the pair;
		 * RFC 7739 §5 for one not predictable off path: a random one per datagram is both. */
		.id = (uint32_t)rte_rand(),
	};
	int32_t udp_cksum = frag_finish_udp_cksum(m, IPV6_HDR_LEN, payload, x.next_header == IPV6_NH_UDP);
	rc = frag_copy_out(lc, m, IPV6_HDR_LEN, payload, step, udp_cksum, &x.o);
	if (rc == 0)
		lc->ctr.ip6_fragmented++;
out:
	rte_pktmbuf_free(m);
	return rc;
}
