/*
 * IPv6 input and output for a host (RFC 8200, RFC 4291): validate the header and the extension
 * header chain (answering refusals with the Parameter Problem RFC 8200 §4 asks for), deliver
 * locally (our addresses, the groups joined on the port, ::1) or drop and count; build headers,
 * route (iface/route6.c), choose the source (iface/addr6.c), and hand to Ethernet — through Neighbor
 * Discovery for unicast, 33:33 + the group for multicast — or to the loopback queue that IPv4
 * shares. Packets to ::1 or to our own addresses never reach a device, nor does any packet from ::1 or
 * :: (ip6_martian_on_wire: dropped and counted in ip6.tx_martian).
 */
#include <errno.h>
#include <rte_ip.h>

#include "stack/iface/addr6.h"
#include "stack/iface/iface.h"
#include "stack/iface/route6.h"
#include "stack/wire/checksum.h"
#include "stack/wire/icmp6.h"

/* Loopback packets were built by this stack: their checksums need no verification. */
static const struct wire_csum_caps LOOPBACK_CAPS = { true, true, true, true };

static void count_parse_error(struct ffs_lcore *lc, enum wire_result r)
{
	switch (r) {
	case WIRE_TRUNCATED: lc->ctr.ip6_toosmall++; break;
	case WIRE_BAD_VERSION: lc->ctr.ip6_badvers++; break;
	case WIRE_BAD_EXTHDR: lc->ctr.ip6_badexthdr++; break;
	default: lc->ctr.ip6_badlen++; break;
	}
}

/** Looped-back multicast (port NULL) is accepted when any port, or the loopback, joined it. */
static bool group_accepted(const struct ffs_lcore *lc, const struct ffs_port *port, const struct ip6_addr *g)
{
	if (port)
		return ipv6_group_joined(lc, port->index, g);
	for (uint16_t p = 0; p < lc->st->n_ports; p++)
		if (ipv6_group_joined(lc, p, g))
			return true;
	return ipv6_group_joined(lc, FFS_MAX_PORTS, g);
}

/**
 * Whether a unicast destination is ours to receive — RFC 4862 §5.4: a tentative address receives
 * nothing but DAD's NS, which comes to its solicited-node group; a duplicated one nothing at all.
 * Asked of the address table once per destination and turn while the table is unchanged.
 */
static bool unicast_ours(struct ffs_lcore *lc, const struct ffs_port *port, const struct ip6_addr *dst)
{
	int pi = port ? port->index : -1;
	uint32_t gen = __atomic_load_n(&lc->st->addr6.gen, __ATOMIC_ACQUIRE);
	if (lc->rx6_dst.turn == lc->now && lc->rx6_dst.gen == gen && lc->rx6_dst.port == pi && ip6_eq(&lc->rx6_dst.dst, dst))
		return lc->rx6_dst.ours;
	enum addr6_state state;
	bool ours = addr6_is_local(lc->st, pi, dst, &state) && state != ADDR6_TENTATIVE && state != ADDR6_DUPLICATED;
	lc->rx6_dst.turn = lc->now;
	lc->rx6_dst.gen = gen;
	lc->rx6_dst.port = pi;
	lc->rx6_dst.ours = ours;
	lc->rx6_dst.dst = *dst;
	return ours;
}

/** RFC 4291 §2.5.2/§2.5.3, RFC 4443 §2.2: a multicast source is bogus, and ::1 never arrives on a wire. */
static bool is_martian(const struct ffs_port *port, const struct ipv6_repr *ip)
{
	if (ip6_is_multicast(&ip->src))
		return true;
	return port && (ip6_is_loopback(&ip->src) || ip6_is_loopback(&ip->dst) || ip6_is_v4mapped(&ip->dst));
}

static void deliver(struct ffs_lcore *lc, const struct ffs_port *port, struct rte_mbuf *m, struct ipv6_repr *ipp,
		    struct wire_csum_caps *capsp, bool multicast);

/**
 * The exception path (phy/exception.h) of a packet to one of the port's addresses whose upper layer the
 * stack does not speak (the walk refused its Next Header): TCP to a port exception_tcp_port lists, and
 * other protocols, go to the kernel; TCP to another port is dropped and counted. False when the port
 * has no exception path or the packet is not for it (m still the caller's).
 */
static bool exception_input6(struct ffs_lcore *lc, const struct ffs_port *port, struct rte_mbuf *m, const struct ipv6_repr *ip)
{
	if (!port || !port->exc.on || ip6_is_multicast(&ip->dst) || !unicast_ours(lc, port, &ip->dst))
		return false;
	if (ip->next_header == IPV6_NH_TCP) {
		const uint8_t *tcp = rte_pktmbuf_mtod_offset(m, const uint8_t *, ip->hdr_len);
		if (rte_pktmbuf_data_len(m) < ip->hdr_len + 4u || !ffs_exc_tcp_wanted(port, (uint16_t)(tcp[2] << 8 | tcp[3]))) {
			lc->ctr.exc_filtered++;
			rte_pktmbuf_free(m);
			return true;
		}
	}
	ffs_exc_to_kernel(lc, port, m, ETH_TYPE_IPV6);
	return true;
}

void ipv6_input(struct ffs_lcore *lc, const struct ffs_port *port, struct rte_mbuf *m)
{
	const struct ffs_stack *st = lc->st;
	struct wire_csum_caps caps = port ? port->caps : LOOPBACK_CAPS;
	struct ipv6_repr ip;
	struct ipv6_param_problem pp = { 0 };

	lc->ctr.ip6_rx++;
	/* [portN] ipv6 = 0: the port speaks no IPv6 at all (no echo, no ND, no delivery), as Linux's
	 * disable_ipv6 drops in ipv6_rcv before looking at the packet. */
	if (port && st->conf.ports[port->index].ipv6_off) {
		lc->ctr.ip6_disabled++;
		goto drop;
	}
	/* The extension header walk reads the first segment only: a chain (a jumbo frame received in
	 * several mbufs, a looped-back large datagram of ours) keeps its headers there; a first segment
	 * too short for the fixed header is made contiguous or dropped. */
	if (m->nb_segs > 1 && rte_pktmbuf_data_len(m) < IPV6_HDR_LEN && rte_pktmbuf_linearize(m) != 0) {
		lc->ctr.ip6_badlen++;
		goto drop;
	}
	if (port)
		caps.rx_l4_verified = (m->ol_flags & RTE_MBUF_F_RX_L4_CKSUM_MASK) == RTE_MBUF_F_RX_L4_CKSUM_GOOD;
	const uint8_t *p = rte_pktmbuf_mtod(m, const uint8_t *);
	size_t avail = rte_pktmbuf_data_len(m);
	enum wire_result r = ipv6_repr_parse_head(p, avail, rte_pktmbuf_pkt_len(m), &ip, &pp);
	if (r == WIRE_OK && ip.hdr_len > avail)
		r = WIRE_BAD_LENGTH;
	if (r != WIRE_OK) {
		if (r == WIRE_BAD_EXTHDR && pp.send && pp.code == ICMP6_PARAMPROB_NEXTHEADER && exception_input6(lc, port, m, &ip))
			return;
		count_parse_error(lc, r);
		/* RFC 8200 §4: the answer is about a chain addressed to us; never to another host's. */
		if (r == WIRE_BAD_EXTHDR && pp.send && !(pp.unless_multicast && ip6_is_multicast(&ip.dst)) &&
		    (ip6_is_multicast(&ip.dst) || addr6_is_local(st, port ? port->index : -1, &ip.dst, NULL)))
			icmp6_send_error(lc, m, &ip, ICMP6_PARAM_PROB, pp.code, pp.pointer);
		goto drop;
	}
	/* Ethernet pads short frames to 60 bytes: keep only what the payload length says is the packet. */
	if (rte_pktmbuf_pkt_len(m) > (uint32_t)IPV6_HDR_LEN + ip.payload_len)
		rte_pktmbuf_trim(m, rte_pktmbuf_pkt_len(m) - IPV6_HDR_LEN - ip.payload_len);

	if (is_martian(port, &ip)) {
		lc->ctr.ip6_martian++;
		goto drop;
	}
	bool multicast = ip6_is_multicast(&ip.dst);
	if (multicast) {
		if (!group_accepted(lc, port, &ip.dst)) {
			lc->ctr.ip6_not_ours++;
			goto drop;
		}
	} else if (!unicast_ours(lc, port, &ip.dst)) {
		lc->ctr.ip6_not_ours++;
		goto drop;
	}
	/* Fragments of one datagram are reassembled by the lcore their address pair hashes to. */
	if (ip.fragment && (ip.more_frags || ip.frag_offset) && port && ipv6_frag_steer(lc, port, m, &ip))
		return;
	deliver(lc, port, m, &ip, &caps, multicast);
	return;
drop:
	rte_pktmbuf_free(m);
}

void ipv6_steered_input(struct ffs_lcore *lc, const struct ffs_port *port, struct rte_mbuf *m)
{
	/* Validated, trimmed and counted by the lcore that received it. */
	struct ipv6_repr ip;
	struct wire_csum_caps caps = port->caps;
	caps.rx_l4_verified = false;
	if (ipv6_repr_parse_head(rte_pktmbuf_mtod(m, const uint8_t *), rte_pktmbuf_data_len(m), rte_pktmbuf_pkt_len(m), &ip,
				 NULL) != WIRE_OK) {
		rte_pktmbuf_free(m);
		return;
	}
	deliver(lc, port, m, &ip, &caps, ip6_is_multicast(&ip.dst));
}

/** Local delivery of a validated packet (data at its IPv6 header): reassembly, then the upper layer. */
static void deliver(struct ffs_lcore *lc, const struct ffs_port *port, struct rte_mbuf *m, struct ipv6_repr *ipp,
		    struct wire_csum_caps *capsp, bool multicast)
{
	struct ipv6_repr ip = *ipp;
	struct wire_csum_caps caps = *capsp;
	bool reassembled = ip.fragment && (ip.more_frags || ip.frag_offset);
	if (ip.fragment) {
		m = ipv6_reassemble(lc, m, &ip);
		if (!m)
			return;
		caps.rx_l4_verified = false;
	}
	switch (ip.next_header) {
	case IPV6_NH_ICMPV6:
		lc->ctr.ip6_delivered++;
		rte_pktmbuf_adj(m, ip.hdr_len);
		icmp6_input(lc, port, m, &ip, &caps);
		return;
	case IPV6_NH_UDP:
		lc->ctr.ip6_delivered++;
		rte_pktmbuf_adj(m, ip.hdr_len);
		udp6_input(lc, m, &ip, &caps, multicast, reassembled);
		return;
	case IPV6_NH_NONE:
		lc->ctr.ip6_nonext++;
		goto drop;
	default:
		/* The walk refuses any other Next Header (RFC 8200 §4, code 1): unreachable unless it learns more. */
		lc->ctr.ip6_badexthdr++;
		if (!multicast)
			icmp6_send_error(lc, m, &ip, ICMP6_PARAM_PROB, ICMP6_PARAMPROB_NEXTHEADER, ip.nh_off);
		goto drop;
	}
drop:
	rte_pktmbuf_free(m);
}

void ipv6_l4_csum_fill(struct rte_mbuf *m, uint16_t off, uint16_t csum_off, const struct ip6_addr *src,
		       const struct ip6_addr *dst, uint8_t next_header)
{
	uint32_t len = rte_pktmbuf_pkt_len(m) - off;
	uint8_t *field = rte_pktmbuf_mtod_offset(m, uint8_t *, off + csum_off);
	wr_be16(field, 0);
	uint16_t raw = 0;
	rte_raw_cksum_mbuf(m, off, len, &raw);
	uint32_t sum = csum_pseudo_ipv6(src, dst, len, next_header) + rte_be_to_cpu_16(raw);
	uint16_t c = csum_fold(sum);
	/* RFC 8200 §8.1: a UDP checksum that computes to zero is sent as all ones. */
	if (c == 0 && next_header == IPV6_NH_UDP)
		c = 0xffff;
	wr_be16(field, c);
}

/*
 * The port a multicast datagram leaves by: the one named (IPV6_MULTICAST_IF, a scope id); else the
 * port holding its bound source, as Linux's route lookup prefers the device that has the source
 * (rt6_device_match) and as ipv4_output picks the source's port; else the first port, where Linux's
 * default route would take it.
 */
static unsigned mcast_port(const struct ffs_stack *st, int scope_port, const struct ip6_addr *src)
{
	if (scope_port >= 0)
		return (unsigned)scope_port;
	if (!ip6_is_unspecified(src))
		for (unsigned p = 0; p < st->n_ports; p++)
			if (addr6_is_local(st, (int)p, src, NULL))
				return p;
	return 0;
}

int ipv6_output(struct ffs_lcore *lc, struct rte_mbuf *m, const struct ipv6_out *o)
{
	const struct ffs_stack *st = lc->st;
	const struct ffs_port *port = NULL;
	struct ip6_addr nexthop = o->dst, src = o->src;
	const struct eth_addr *dst_mac = NULL;
	struct eth_addr mcast_mac;
	bool mcast_copy = false;
	enum addr6_state state;
	struct ipv6_route_memo *memo = o->memo;
	/* Multicast destinations are never memoised: their port, MAC and loop copy are decided here. */
	bool hit = memo && memo->valid && memo->scope_port == o->scope_port && ip6_eq(&memo->dst, &o->dst);
	bool local;

	if (hit) {
		local = memo->local;
		port = memo->port;
		nexthop = memo->nexthop;
	} else if (!(local = addr6_is_local(st, -1, &o->dst, &state) && state != ADDR6_TENTATIVE && state != ADDR6_DUPLICATED)) {
		if (ip6_is_multicast(&o->dst)) {
			unsigned pi = mcast_port(st, o->scope_port, &src);
			port = pi < st->n_ports ? &st->ports[pi] : NULL;
			eth_addr_from_ipv6_multicast(&o->dst, &mcast_mac);
			dst_mac = &mcast_mac;
			mcast_copy = o->mcast_loop && port && ipv6_group_joined(lc, port->index, &o->dst);
		} else {
			port = route6_lookup(st, &o->dst, o->scope_port, &nexthop);
		}
		if (!port) {
			lc->ctr.ip6_noroute++;
			rte_pktmbuf_free(m);
			return -ENETUNREACH;
		}
	}
	if (memo && !hit && !dst_mac) {
		*memo = (struct ipv6_route_memo){ .valid = true, .local = local, .scope_port = o->scope_port, .dst = o->dst,
						  .nexthop = nexthop, .port = port };
		hit = true;
	}
	if (ip6_is_unspecified(&src)) {
		/* A packet to ourselves leaves from the address it goes to, as on Linux's loopback. */
		if (local) {
			src = o->dst;
		} else if (hit && memo->have_src) {
			src = memo->src;
		} else if (!addr6_source(st, port->index, &o->dst, &src)) {
			lc->ctr.ip6_noroute++;
			rte_pktmbuf_free(m);
			return -EADDRNOTAVAIL;
		} else if (hit) {
			memo->src = src;
			memo->have_src = true;
		}
	}
	if (!local && ip6_martian_on_wire(&src, &o->dst)) {
		/* A socket bound to ::1 sending off the host: Linux's send succeeds and nothing leaves. */
		lc->ctr.ip6_tx_martian++;
		rte_pktmbuf_free(m);
		return -EINVAL;
	}
	if (rte_pktmbuf_pkt_len(m) > IPV6_MAX_PAYLOAD) {
		lc->ctr.ip6_toolong++;
		rte_pktmbuf_free(m);
		return -EMSGSIZE;
	}
	uint16_t payload_len = (uint16_t)rte_pktmbuf_pkt_len(m);
	uint8_t *hdr = (uint8_t *)rte_pktmbuf_prepend(m, IPV6_HDR_LEN);
	if (!hdr) {
		rte_pktmbuf_free(m);
		return -ENOBUFS;
	}
	struct ipv6_repr ip = {
		.src = src,
		.dst = o->dst,
		.next_header = o->next_header,
		.hop_limit = o->hop_limit ? o->hop_limit : (uint8_t)ffs_sysctl(st, FFS_SYSCTL_IP6_HLIM),
		.tclass = o->tclass,
		.flow_label = o->flow_label & 0xfffff,
		.payload_len = payload_len,
	};
	ipv6_repr_emit(&ip, hdr, IPV6_HDR_LEN);
	/* RFC 8201: a destination's path MTU, lowered by Packet Too Big, never below 1280. */
	uint16_t mtu = 0;
	if (!local) {
		if (dst_mac) {
			mtu = port->mtu;
		} else if (hit && memo->mtu) {
			mtu = memo->mtu;
		} else {
			mtu = route6_pmtu(st, &o->dst, port->mtu);
			if (hit)
				memo->mtu = mtu;
		}
	}
	/* As IPv4's: the device sums a UDP datagram that leaves in one frame, where it offers to and
	 * net.inet.udp.tx_csum_offload lets it; a looped-back copy or fragments carry the sum itself. */
	if (o->udp_csum)
		udp6_csum_fill(lc, m, IPV6_HDR_LEN, &ip.src, &ip.dst,
			       !local && !mcast_copy && port->caps.tx_udp_offload && rte_pktmbuf_pkt_len(m) <= mtu &&
				       ffs_sysctl(st, FFS_SYSCTL_UDP_TX_CSUM_OFFLOAD));
	lc->ctr.ip6_tx++;
	if (local) {
		/* A link-local packet to ourselves arrives by the link it was sent on (its scope, which
		 * input reads from m->port), as Linux's loopback reports the address's interface. */
		if (ip6_is_linklocal(&o->dst) && o->scope_port >= 0)
			m->port = st->ports[o->scope_port].port_id;
		return ip_loopback_enqueue(lc, m, &lc->ctr.ip6_loopback);
	}
	if (mcast_copy) {
		/* IPV6_MULTICAST_LOOP: local members get their own copy (input rewrites offsets, so no sharing). */
		struct rte_mbuf *copy = rte_pktmbuf_copy(m, st->pool, 0, UINT32_MAX);
		if (copy)
			ip_loopback_enqueue(lc, copy, &lc->ctr.ip6_loopback);
	}
	m->l3_len = IPV6_HDR_LEN;
	if (!ip_fits_frame(port, m, mtu)) {
		if (o->dont_frag) {
			lc->ctr.ip6_toolong++;
			rte_pktmbuf_free(m);
			return -EMSGSIZE;
		}
		return ipv6_fragment(lc, port, m, mtu, &nexthop);
	}
	return eth_output6(lc, port, m, &nexthop, dst_mac);
}
