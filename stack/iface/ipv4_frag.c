/*
 * IPv4 fragmentation and reassembly for a host (RFC 791 §2.3 and §3.2, RFC 1122 §3.3.2), per lcore.
 *
 * Reassembly: the IPv4 rules (RFC 791's 8-octet multiples, the 65535-octet ceiling that the "ping of
 * death" crossed) and the header of the datagram put back together; the table, its bounds and the
 * overlap policy are the one both families share (iface/reasm.c).
 *
 * Fragmentation copies a whole datagram (header and a possibly chained payload) into fresh
 * single-segment mbufs, one per fragment, each with its own 20-byte header.
 *
 * Everything runs on the lcore that owns the table; nothing is locked.
 */
#include <errno.h>
#include <string.h>
#include <rte_ip.h>

#include "stack/iface/iface.h"
#include "stack/iface/reasm.h"
#include "stack/wire/checksum.h"
#include "stack/wire/icmp.h"

#define IP_OFF_TOTAL_LEN 2
#define IP_OFF_FRAG 6
#define IP_OFF_CHECKSUM 10

struct rte_mbuf *ipv4_reassemble(struct ffs_lcore *lc, struct rte_mbuf *m, struct ipv4_repr *ip)
{
	uint32_t len = ip->payload_len, total;

	lc->ctr.ip_fragments++;
	/* RFC 791 §3.2: every fragment but the last carries a multiple of 8 octets; an empty fragment
	 * carries nothing to reassemble. No datagram of at most 65535 octets, header included, reaches
	 * past IPV4_MAX_LEN - IPV4_HDR_LEN ("ping of death"). */
	if (len == 0 || (ip->more_frags && len % 8 != 0) || ip->frag_offset + len > IPV4_MAX_LEN - IPV4_HDR_LEN) {
		lc->ctr.ip_frag_dropped++;
		rte_pktmbuf_free(m);
		return NULL;
	}
	struct reasm_key k = { .family = 4, .proto = ip->proto, .id = ip->id };
	uint32_t src = rte_cpu_to_be_32(ip->src), dst = rte_cpu_to_be_32(ip->dst);
	memcpy(k.src, &src, 4);
	memcpy(k.dst, &dst, 4);
	struct reasm_frag f = { .off = ip->frag_offset, .len = len, .hlen = ip->hdr_len, .more = ip->more_frags,
				.limit = IPV4_MAX_LEN };
	struct rte_mbuf *first = reasm_insert(lc, m, &k, &f, &total);
	if (!first)
		return NULL;

	uint8_t *h = rte_pktmbuf_mtod(first, uint8_t *);
	unsigned hlen = (h[0] & 0x0f) * 4u;
	uint16_t df = rd_be16(h + IP_OFF_FRAG) & IPV4_FLAG_DF;
	wr_be16(h + IP_OFF_TOTAL_LEN, (uint16_t)(hlen + total));
	wr_be16(h + IP_OFF_FRAG, df);
	wr_be16(h + IP_OFF_CHECKSUM, 0);
	wr_be16(h + IP_OFF_CHECKSUM, csum_buf(h, hlen));

	ip->tos = h[1];
	ip->ttl = h[8];
	ip->hdr_len = (uint16_t)hlen;
	ip->dont_frag = df;
	ip->more_frags = false;
	ip->frag_offset = 0;
	ip->payload_len = (uint16_t)total;
	return first;
}

/**
 * RFC 792 and RFC 1122 §3.3.2: a host that gives up on a datagram whose fragment zero it holds may
 * send a time exceeded message (code 1, "fragment reassembly time exceeded") quoting that fragment.
 * Only about datagrams addressed to one of our unicast addresses; icmp_send_error rate-limits.
 */
void ipv4_reasm_expired(struct ffs_lcore *lc, struct rte_mbuf *head)
{
	static const struct wire_csum_caps held = { true, true, false, false };
	struct ipv4_repr ip;
	/* The header is in the first segment; a jumbo fragment's data runs on in the chain. */
	if (ipv4_repr_parse(rte_pktmbuf_mtod(head, const uint8_t *), rte_pktmbuf_pkt_len(head), &held, &ip) != WIRE_OK)
		return;
	if (!route_is_local(lc->st, ip.dst) || ipv4_is_loopback(ip.dst))
		return;
	icmp_send_error(lc, head, &ip, ICMP_TIME_EXCEEDED, 1, 0);
}

/** The fragments' IPv4 header, and where they go. */
struct ipv4_frag_out {
	struct frag_out o;
	struct ffs_lcore *lc;
	const struct ffs_port *port;
	uint32_t nexthop;
	const struct eth_addr *dst_mac;
	struct ipv4_repr ip;
	uint32_t base;
	bool more_after;
};

static void ipv4_frag_emit(const struct frag_out *o, uint8_t *hdr, uint32_t off, uint32_t len, bool more)
{
	struct ipv4_frag_out *x = o->ctx;
	x->ip.frag_offset = (uint16_t)(x->base + off);
	x->ip.more_frags = more || x->more_after;
	x->ip.payload_len = (uint16_t)len;
	ipv4_repr_emit(&x->ip, hdr, IPV4_HDR_LEN, &x->port->caps);
}

static int ipv4_frag_send(const struct frag_out *o, struct rte_mbuf *f)
{
	struct ipv4_frag_out *x = o->ctx;
	f->l3_len = IPV4_HDR_LEN;
	if (x->port->caps.tx_ipv4_offload)
		f->ol_flags |= RTE_MBUF_F_TX_IPV4 | RTE_MBUF_F_TX_IP_CKSUM;
	int rc = eth_output(x->lc, x->port, f, x->nexthop, x->dst_mac);
	if (rc == 0)
		x->lc->ctr.ip_frags_out++;
	return rc;
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
	uint32_t fit = ip_frag_fit(lc, port, port->mtu);
	/* RFC 791 §3.2: every fragment but the last carries a multiple of 8 octets. */
	uint32_t step = fit > IPV4_HDR_LEN ? (fit - IPV4_HDR_LEN) & ~7u : 0;
	if (step == 0) {
		lc->ctr.ip_toolong++;
		rc = -EMSGSIZE;
		goto out;
	}

	/* Options are not carried: ffnet builds none (RFC 791 copies only those flagged "copied"). */
	struct ipv4_frag_out x = {
		.o = { .hdr_len = IPV4_HDR_LEN, .emit = ipv4_frag_emit, .send = ipv4_frag_send, .ctx = &x },
		.lc = lc,
		.port = port,
		.nexthop = nexthop,
		.dst_mac = dst_mac,
		.ip = {
			.src = rd_be32(h + 12),
			.dst = rd_be32(h + 16),
			.proto = h[9],
			.ttl = h[8],
			.tos = h[1],
			.id = rd_be16(h + 4),
			.hdr_len = IPV4_HDR_LEN,
		},
		.base = (frag & IPV4_FRAG_OFFSET_MASK) * 8u,
		.more_after = frag & IPV4_FLAG_MF,
	};
	uint32_t payload = total - hlen;
	int32_t udp_cksum = frag_finish_udp_cksum(m, hlen, payload, x.ip.proto == IPV4_PROTO_UDP);
	rc = frag_copy_out(lc, m, hlen, payload, step, udp_cksum, &x.o);
	if (rc == 0)
		lc->ctr.ip_fragmented++;
out:
	rte_pktmbuf_free(m);
	return rc;
}
