/*
 * ICMPv6 (RFC 4443) for a host: echo replies (to multicast requests too, from a unicast address,
 * §4.2), the stack's own echo requests (ffnet ping to an IPv6 address), Neighbor Discovery messages
 * handed to iface/nd6.c after RFC 4861 §7.1's validation, Packet Too Big lowering the destination's
 * path MTU (RFC 8201), and error messages, rate limited by net.inet6.icmp6.errppslimit through the
 * limiter ICMP uses. Errors that arrive about our datagrams are counted here.
 */
#include <errno.h>
#include <string.h>
#include <rte_byteorder.h>
#include <rte_ip.h>

#include "stack/iface/addr6.h"
#include "stack/iface/iface.h"
#include "stack/iface/route6.h"
#include "stack/wire/checksum.h"
#include "stack/wire/icmp6.h"

/** The port a packet came in by (its PMD recorded the device), or -1 (loopback). */
static int port_index_of(const struct ffs_stack *st, const struct rte_mbuf *m, const struct ffs_port *port)
{
	if (port)
		return port->index;
	for (unsigned p = 0; p < st->n_ports; p++)
		if (st->ports[p].port_id == m->port)
			return (int)p;
	return -1;
}

/**
 * Parses a message in one segment, or in a chain (a reassembled datagram keeps the header in the
 * first segment): then the checksum is summed over every segment here.
 */
static enum wire_result icmp6_parse_mbuf(const struct rte_mbuf *m, const struct ipv6_repr *ip,
					 const struct wire_csum_caps *caps, struct icmp6_repr *out)
{
	const uint8_t *p = rte_pktmbuf_mtod(m, const uint8_t *);
	if (m->nb_segs == 1)
		return icmp6_repr_parse(p, rte_pktmbuf_data_len(m), &ip->src, &ip->dst, caps, out);
	struct wire_csum_caps summed = *caps;
	summed.rx_l4_verified = true;
	enum wire_result r = icmp6_repr_parse(p, rte_pktmbuf_data_len(m), &ip->src, &ip->dst, &summed, out);
	if (r != WIRE_OK || caps->rx_l4_verified)
		return r;
	uint16_t raw;
	uint32_t len = rte_pktmbuf_pkt_len(m);
	if (rte_raw_cksum_mbuf(m, 0, len, &raw) != 0 ||
	    csum_fold(csum_pseudo_ipv6(&ip->src, &ip->dst, len, IPV6_NH_ICMPV6) + rte_be_to_cpu_16(raw)) != 0)
		return WIRE_BAD_CHECKSUM;
	return WIRE_OK;
}

static void echo_reply(struct ffs_lcore *lc, const struct ffs_port *port, struct rte_mbuf *m, const struct ipv6_repr *ip)
{
	const struct ffs_stack *st = lc->st;
	struct ipv6_out o = { .src = ip->dst, .dst = ip->src, .next_header = IPV6_NH_ICMPV6, .tclass = ip->tclass,
			      .scope_port = port_index_of(st, m, port) };
	if (ip6_is_multicast(&ip->dst)) {
		/* RFC 4443 §4.2: the reply to a multicast request comes from a unicast address of the port. */
		lc->ctr.icmp6_mcastecho++;
		if (o.scope_port < 0 || !addr6_source(st, (unsigned)o.scope_port, &ip->src, &o.src))
			goto drop;
	}
	if (!ip6_is_linklocal(&o.dst) && !ip6_is_linklocal(&o.src))
		o.scope_port = -1;
	uint8_t *h = rte_pktmbuf_mtod(m, uint8_t *);
	h[0] = ICMP6_ECHO_REPLY;
	h[1] = 0;
	m->ol_flags = 0;
	ipv6_l4_csum_fill(m, 0, 2, &o.src, &o.dst, IPV6_NH_ICMPV6);
	if (ipv6_output(lc, m, &o) == 0)
		lc->ctr.icmp6_echo_reply_out++;
	return;
drop:
	rte_pktmbuf_free(m);
}

/** RFC 8201 §4: Packet Too Big lowers the path MTU of the quoted packet's destination, never below 1280. */
static void packet_too_big(struct ffs_lcore *lc, const struct icmp6_repr *icmp)
{
	if (icmp->body_len < IPV6_HDR_LEN)
		return;
	struct ip6_addr dst;
	memcpy(dst.b, icmp->body + offsetof(struct ipv6_hdr, dst), sizeof(dst.b));
	uint32_t mtu = icmp->param < IPV6_MIN_MTU ? IPV6_MIN_MTU : icmp->param;
	route6_pmtu_set(lc->st, &dst, (uint16_t)(mtu > UINT16_MAX ? UINT16_MAX : mtu));
}

void icmp6_input(struct ffs_lcore *lc, const struct ffs_port *port, struct rte_mbuf *m, const struct ipv6_repr *ip,
		 const struct wire_csum_caps *caps)
{
	struct icmp6_repr icmp;
	lc->ctr.icmp6_rx++;
	enum wire_result r = icmp6_parse_mbuf(m, ip, caps, &icmp);
	if (r != WIRE_OK) {
		if (r == WIRE_BAD_CHECKSUM)
			lc->ctr.icmp6_badsum++;
		else
			lc->ctr.icmp6_tooshort++;
		goto drop;
	}
	/* The exception path: an error about a packet that was not UDP (the kernel's TCP, say: a Packet
	 * Too Big for its path MTU) is the kernel's. */
	if (port && port->exc.on && icmp.type < 128 && icmp.body_len >= IPV6_HDR_LEN && (icmp.body[0] >> 4) == 6 &&
	    icmp.body[6] != IPV6_NH_UDP && !ip6_is_multicast(&ip->dst)) {
		rte_pktmbuf_prepend(m, ip->hdr_len);
		ffs_exc_to_kernel(lc, port, m, ETH_TYPE_IPV6);
		return;
	}
	switch (icmp.type) {
	case ICMP6_ECHO_REQUEST:
		lc->ctr.icmp6_echo_in++;
		echo_reply(lc, port, m, ip);
		return;
	case ICMP6_ECHO_REPLY: {
		struct ffs_ping_result who = { .v6 = true, .from6 = ip->src, .ttl = ip->hop_limit };
		if (icmp_echo_reply_in(lc, m, icmp.ident, icmp.seq, &who))
			lc->ctr.icmp6_echo_reply_in++;
		else
			lc->ctr.icmp6_echo_unmatched++;
		break;
	}
	case ND_NEIGHBOR_SOLICIT:
	case ND_NEIGHBOR_ADVERT: {
		struct nd_repr nd;
		if (!port)
			break;
		lc->ctr.nd6_rx++;
		/* RFC 4861 §7.1.1/§7.1.2: hop limit 255 proves the message came from the link. */
		if (ip->hop_limit != ND_HOP_LIMIT || m->nb_segs > 1 ||
		    nd_repr_parse(rte_pktmbuf_mtod(m, const uint8_t *), rte_pktmbuf_data_len(m), ip, &nd) != WIRE_OK) {
			lc->ctr.nd6_bad++;
			break;
		}
		/* Back to the IPv6 header: clones (and the answers) need the addresses. */
		rte_pktmbuf_prepend(m, ip->hdr_len);
		/* The exception path's kernel learns its neighbours from them too. */
		if (port->exc.on)
			ffs_exc_copy_to_kernel(lc, port, m, ETH_TYPE_IPV6);
		if (lc->st->n_lcores > 1 || lc->st->cluster)
			eth_clone_to_peers(lc, m, FFS_PEER_ND);
		nd6_input(lc, port, m, ip, &nd, false);
		break;
	}
	case ND_ROUTER_ADVERT: {
		struct nd_repr nd;
		if (!port)
			break;
		lc->ctr.nd6_rx++;
		/* RFC 4861 §6.1.2: hop limit 255 and a link-local source (the router's address on the link). */
		if (ip->hop_limit != ND_HOP_LIMIT || !ip6_is_linklocal(&ip->src) || m->nb_segs > 1 ||
		    nd_repr_parse(rte_pktmbuf_mtod(m, const uint8_t *), rte_pktmbuf_data_len(m), ip, &nd) != WIRE_OK) {
			lc->ctr.nd6_bad++;
			break;
		}
		rte_pktmbuf_prepend(m, ip->hdr_len);
		if (port->exc.on)
			ffs_exc_copy_to_kernel(lc, port, m, ETH_TYPE_IPV6);
		nd6_input(lc, port, m, ip, &nd, false);
		ra6_input(lc, port, ip, &nd);
		break;
	}
	case MLD_QUERY:
	case MLD_V1_REPORT:
	case MLD_V1_DONE:
	case MLD_V2_REPORT:
		mld6_input(lc, port, m, ip);
		return;
	case ICMP6_DST_UNREACH:
		lc->ctr.icmp6_unreach_in++;
		udp6_icmp_error(lc, &icmp);
		break;
	case ICMP6_PACKET_TOO_BIG:
		lc->ctr.icmp6_toobig_in++;
		packet_too_big(lc, &icmp);
		break;
	case ICMP6_TIME_EXCEEDED:
		lc->ctr.icmp6_timxceed_in++;
		break;
	case ICMP6_PARAM_PROB:
		lc->ctr.icmp6_paramprob_in++;
		break;
	default:
		lc->ctr.icmp6_other_in++;
		break;
	}
drop:
	rte_pktmbuf_free(m);
}

/** True when the packet is itself an ICMPv6 error (RFC 4443 §2.4 e.1: never answered). */
static bool quotes_icmp6_error(const struct rte_mbuf *orig, const struct ipv6_repr *ip)
{
	if (ip->next_header != IPV6_NH_ICMPV6 || ip->hdr_len == 0 || ip->fragment)
		return false;
	uint8_t type;
	const uint8_t *t = rte_pktmbuf_read(orig, ip->hdr_len, 1, &type);
	return !t || icmp6_is_error(*t);
}

void icmp6_send_error(struct ffs_lcore *lc, struct rte_mbuf *orig, const struct ipv6_repr *ip, uint8_t type,
		      uint8_t code, uint32_t param)
{
	const struct ffs_stack *st = lc->st;
	/* RFC 4443 §2.4 (e): not to ::, to a multicast source, about an error, nor about a multicast
	 * packet but Packet Too Big and an unrecognised option the sender asked to hear of. */
	if (ip6_is_unspecified(&ip->src) || ip6_is_multicast(&ip->src) || quotes_icmp6_error(orig, ip))
		return;
	if (ip6_is_multicast(&ip->dst) && type != ICMP6_PACKET_TOO_BIG &&
	    !(type == ICMP6_PARAM_PROB && code == ICMP6_PARAMPROB_OPTION))
		return;
	if (icmp_rate_limited(lc, &lc->icmp6_lim, ffs_sysctl(st, FFS_SYSCTL_ICMP6_ERRPPSLIMIT))) {
		lc->ctr.icmp6_ratelimited++;
		return;
	}
	int scope = port_index_of(st, orig, NULL);
	struct ipv6_out o = { .dst = ip->src, .next_header = IPV6_NH_ICMPV6, .scope_port = scope };
	if (!ip6_is_multicast(&ip->dst) && addr6_is_local(st, -1, &ip->dst, NULL)) {
		o.src = ip->dst;
	} else {
		struct ip6_addr nexthop;
		const struct ffs_port *out = route6_lookup(st, &ip->src, scope, &nexthop);
		if (!out || !addr6_source(st, out->index, &ip->src, &o.src))
			return;
	}
	/* RFC 4443 §2.4 (c): as much of the packet as keeps the error within the minimum MTU. */
	uint32_t quote = RTE_MIN(rte_pktmbuf_pkt_len(orig), (uint32_t)ICMP6_ERROR_MAX_QUOTE);
	struct rte_mbuf *m = rte_pktmbuf_alloc(st->pool);
	if (!m)
		return;
	uint8_t *p = (uint8_t *)rte_pktmbuf_append(m, (uint16_t)(ICMP6_HDR_LEN + quote));
	if (!p) {
		rte_pktmbuf_free(m);
		return;
	}
	const uint8_t *q = rte_pktmbuf_read(orig, 0, quote, p + ICMP6_HDR_LEN);
	if (q != p + ICMP6_HDR_LEN)
		memcpy(p + ICMP6_HDR_LEN, q, quote);
	size_t n = icmp6_error_emit(type, code, param, p + ICMP6_HDR_LEN, quote, &o.src, &o.dst, p, ICMP6_HDR_LEN + quote);
	if (n == 0) {
		rte_pktmbuf_free(m);
		return;
	}
	if (ipv6_output(lc, m, &o) == 0)
		lc->ctr.icmp6_errors_out++;
}

int icmp6_send_echo(struct ffs_lcore *lc, const struct ip6_addr *dst, int scope_port, uint16_t ident, uint16_t seq,
		    uint16_t payload_len, uint8_t hlim)
{
	const struct ffs_stack *st = lc->st;
	struct ipv6_out o = { .dst = *dst, .next_header = IPV6_NH_ICMPV6, .hop_limit = hlim, .scope_port = scope_port };
	/* The checksum covers the source: choose it here as output would. */
	enum addr6_state state;
	if (addr6_is_local(st, -1, dst, &state)) {
		o.src = *dst;
	} else if (ip6_is_multicast(dst)) {
		if (!addr6_source(st, scope_port >= 0 ? (unsigned)scope_port : 0, dst, &o.src))
			return -EADDRNOTAVAIL;
	} else {
		struct ip6_addr nexthop;
		const struct ffs_port *port = route6_lookup(st, dst, scope_port, &nexthop);
		if (!port)
			return -ENETUNREACH;
		if (!addr6_source(st, port->index, dst, &o.src))
			return -EADDRNOTAVAIL;
	}
	struct rte_mbuf *m = icmp_echo_build(lc, ident, seq, payload_len);
	if (!m)
		return -ENOBUFS;
	rte_pktmbuf_mtod(m, uint8_t *)[0] = ICMP6_ECHO_REQUEST;
	ipv6_l4_csum_fill(m, 0, 2, &o.src, &o.dst, IPV6_NH_ICMPV6);
	int rc = ipv6_output(lc, m, &o);
	if (rc == 0)
		lc->ctr.icmp6_echo_out++;
	return rc;
}
