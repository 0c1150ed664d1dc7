/*
 * IPv4 input and output for a host (RFC 1122 §3.2.1): validate, deliver locally (our addresses,
 * broadcast, loopback) or drop and count; build headers, route, and hand to Ethernet or to the
 * loopback queue. Packets to 127.0.0.0/8 or to our own addresses never reach a device, nor does any
 * packet from 127.0.0.0/8 or 0.0.0.0 (ipv4_martian_on_wire: dropped and counted in ip.tx_martian).
 */
#include <errno.h>
#include <rte_ip.h>

#include "stack/iface/iface.h"
#include "stack/phy/rss.h"
#include "stack/wire/icmp.h"

/* Loopback packets were built by this stack: their checksums need no verification. */
static const struct wire_csum_caps LOOPBACK_CAPS = { true, true, true, true };

#define IPV4_ALL_HOSTS 0xe0000001u /* 224.0.0.1 */

bool ipv4_group_joined(const struct ffs_lcore *lc, uint16_t port_index, uint32_t group)
{
	for (unsigned i = 0; i < lc->n_groups; i++)
		if (lc->groups[i].group == group && lc->groups[i].port_index == port_index && lc->groups[i].family == 4)
			return true;
	return false;
}

/** Looped-back multicast: joined on any port. */
static bool ipv4_group_joined_any(const struct ffs_lcore *lc, uint32_t group)
{
	for (unsigned i = 0; i < lc->n_groups; i++)
		if (lc->groups[i].group == group && lc->groups[i].family == 4)
			return true;
	return false;
}

static bool is_broadcast_for(const struct ffs_stack *st, const struct ffs_port *port, uint32_t dst)
{
	if (dst == 0xffffffffu || (!port && dst == 0x7fffffffu)) /* 127.255.255.255: loopback's broadcast */
		return true;
	if (port)
		return dst == port->broadcast;
	for (unsigned i = 0; i < st->n_ports; i++)
		if (st->ports[i].broadcast == dst)
			return true;
	return false;
}

/** RFC 1122 §3.2.1.3: a source that is multicast, limited broadcast or loopback (from the wire) is bogus. */
static bool is_martian_source(const struct ffs_stack *st, const struct ffs_port *port, uint32_t src)
{
	if (ipv4_is_multicast(src) || src == 0xffffffffu)
		return true;
	if (!port)
		return false;
	return ipv4_is_loopback(src) || route_is_local(st, src) || src == port->broadcast;
}

static void count_parse_error(struct ffs_lcore *lc, enum wire_result r)
{
	switch (r) {
	case WIRE_TRUNCATED: lc->ctr.ip_toosmall++; break;
	case WIRE_BAD_VERSION: lc->ctr.ip_badvers++; break;
	case WIRE_BAD_HDRLEN: lc->ctr.ip_badhlen++; break;
	case WIRE_BAD_CHECKSUM: lc->ctr.ip_badsum++; break;
	case WIRE_BAD_TTL: lc->ctr.ip_ttl_zero++; break;
	default: lc->ctr.ip_badlen++; break;
	}
}

static void deliver(struct ffs_lcore *lc, const struct ffs_port *port, struct rte_mbuf *m, struct ipv4_repr *ipp,
		    struct wire_csum_caps *capsp, bool broadcast);

void ipv4_input(struct ffs_lcore *lc, const struct ffs_port *port, struct rte_mbuf *m)
{
	const struct ffs_stack *st = lc->st;
	struct wire_csum_caps caps = port ? port->caps : LOOPBACK_CAPS;
	struct ipv4_repr ip;

	lc->ctr.ip_rx++;
	/* A chain (a looped-back large datagram) keeps its header in the first segment; anything else is
	 * made contiguous or dropped. */
	if (m->nb_segs > 1 && rte_pktmbuf_data_len(m) < 60 && rte_pktmbuf_linearize(m) != 0) {
		lc->ctr.ip_badlen++;
		goto drop;
	}
	if (port) {
		uint64_t ipck = m->ol_flags & RTE_MBUF_F_RX_IP_CKSUM_MASK;
		uint64_t l4ck = m->ol_flags & RTE_MBUF_F_RX_L4_CKSUM_MASK;
		caps.rx_ipv4_verified = ipck == RTE_MBUF_F_RX_IP_CKSUM_GOOD;
		caps.rx_l4_verified = l4ck == RTE_MBUF_F_RX_L4_CKSUM_GOOD;
	}
	enum wire_result r = ipv4_repr_parse(rte_pktmbuf_mtod(m, const uint8_t *), rte_pktmbuf_pkt_len(m), &caps, &ip);
	if (r == WIRE_OK && port && (m->ol_flags & RTE_MBUF_F_RX_IP_CKSUM_MASK) == RTE_MBUF_F_RX_IP_CKSUM_BAD)
		r = WIRE_BAD_CHECKSUM;
	if (r != WIRE_OK) {
		count_parse_error(lc, r);
		goto drop;
	}
	/* Ethernet pads short frames to 60 bytes: keep only what the IP header says is the datagram. */
	if (rte_pktmbuf_pkt_len(m) > (uint32_t)ip.hdr_len + ip.payload_len)
		rte_pktmbuf_trim(m, rte_pktmbuf_pkt_len(m) - ip.hdr_len - ip.payload_len);

	if (is_martian_source(st, port, ip.src) || (port && ipv4_is_loopback(ip.dst))) {
		lc->ctr.ip_martian++;
		goto drop;
	}
	bool broadcast = is_broadcast_for(st, port, ip.dst);
	bool multicast = ipv4_is_multicast(ip.dst);
	/* Multicast: groups some socket joined on this port, and all-hosts (RFC 1112 §4: always joined). */
	if (multicast ? !(ip.dst == IPV4_ALL_HOSTS || (port ? ipv4_group_joined(lc, port->index, ip.dst)
								: ipv4_group_joined_any(lc, ip.dst)))
		      : !broadcast && !route_is_local(st, ip.dst)) {
		lc->ctr.ip_not_ours++;
		goto drop;
	}
	broadcast |= multicast;
	if (port && (ip.more_frags || ip.frag_offset) && st->n_lcores > 1) {
		/* Fragments of one datagram may arrive on several queues (a NIC hashes a fragment without
		 * ports): each datagram is reassembled by the lcore its IP pair hashes to, where RSS and the
		 * software dispatcher bring fragments anyway, as Seastar does; others forward theirs there. */
		struct ffs_lcore *owner = st->lcores[ffs_rss_lcore(ffs_rss_hash_ipv4(ip.src, ip.dst), st->n_lcores)];
		if (owner != lc) {
			m->hash.usr = FFS_PEER_FRAGMENT;
			m->port = port->port_id; /* the owner finds the port by it; not every PMD records it */
			if (rte_ring_enqueue(owner->peer_in, m) != 0) {
				lc->ctr.ip_frag_dropped++;
				goto drop;
			}
			lc->ctr.ip_frag_steered++;
			ffs_lcore_wake(owner);
			return;
		}
	}
	deliver(lc, port, m, &ip, &caps, broadcast);
	return;
drop:
	rte_pktmbuf_free(m);
}

void ipv4_steered_input(struct ffs_lcore *lc, const struct ffs_port *port, struct rte_mbuf *m)
{
	/* Validated and counted by the lcore that received it. */
	struct ipv4_repr ip;
	struct wire_csum_caps caps = port->caps;
	caps.rx_ipv4_verified = true;
	caps.rx_l4_verified = false;
	if (ipv4_repr_parse(rte_pktmbuf_mtod(m, const uint8_t *), rte_pktmbuf_pkt_len(m), &caps, &ip) != WIRE_OK) {
		rte_pktmbuf_free(m);
		return;
	}
	bool broadcast = is_broadcast_for(lc->st, port, ip.dst) || ipv4_is_multicast(ip.dst);
	deliver(lc, port, m, &ip, &caps, broadcast);
}

/**
 * The exception path (phy/exception.h) of a datagram no IPv4 input of the stack takes: TCP to a port
 * exception_tcp_port lists, and protocols the stack does not speak, go to the kernel; TCP to another
 * port is dropped and counted. False when the port has no exception path (m still the caller's).
 */
static bool exception_input(struct ffs_lcore *lc, const struct ffs_port *port, struct rte_mbuf *m, const struct ipv4_repr *ip)
{
	if (!port || !port->exc.on)
		return false;
	if (ip->proto == IPV4_PROTO_TCP) {
		const uint8_t *tcp = rte_pktmbuf_mtod_offset(m, const uint8_t *, ip->hdr_len);
		if (ip->payload_len < 4 || rte_pktmbuf_data_len(m) < ip->hdr_len + 4u ||
		    !ffs_exc_tcp_wanted(port, (uint16_t)(tcp[2] << 8 | tcp[3]))) {
			lc->ctr.exc_filtered++;
			rte_pktmbuf_free(m);
			return true;
		}
	}
	ffs_exc_to_kernel(lc, port, m, ETH_TYPE_IPV4);
	return true;
}

/** Local delivery of a validated datagram (data at its IPv4 header): reassembly, then the protocol. */
static void deliver(struct ffs_lcore *lc, const struct ffs_port *port, struct rte_mbuf *m, struct ipv4_repr *ipp,
		    struct wire_csum_caps *capsp, bool broadcast)
{
	struct ipv4_repr ip = *ipp;
	struct wire_csum_caps caps = *capsp;
	const bool reassembled = ip.more_frags || ip.frag_offset;
	if (reassembled) {
		/* RFC 791 §3.2: fragments are reassembled at the destination only. */
		m = ipv4_reassemble(lc, m, &ip);
		if (!m)
			return;
		caps.rx_l4_verified = false;
	}

	switch (ip.proto) {
	case IPV4_PROTO_ICMP:
		lc->ctr.ip_delivered++;
		rte_pktmbuf_adj(m, ip.hdr_len);
		icmp_input(lc, m, &ip, &caps);
		return;
	case IPV4_PROTO_UDP:
		lc->ctr.ip_delivered++;
		rte_pktmbuf_adj(m, ip.hdr_len);
		udp_input(lc, m, &ip, &caps, broadcast, reassembled);
		return;
	case IPV4_PROTO_IGMP:
		lc->ctr.ip_delivered++;
		rte_pktmbuf_adj(m, ip.hdr_len);
		igmp_input(lc, port, m, &ip);
		return;
	default:
		if (!broadcast && exception_input(lc, port, m, &ip))
			return;
		lc->ctr.ip_noproto++;
		if (!broadcast)
			icmp_send_error(lc, m, &ip, ICMP_DEST_UNREACH, 2 /* protocol unreachable */, 0);
		goto drop;
	}
drop:
	rte_pktmbuf_free(m);
}

int ip_loopback_enqueue(struct ffs_lcore *lc, struct rte_mbuf *m, uint64_t *counted)
{
	if (lc->lo_len == FFS_LOOPBACK_QUEUE) {
		lc->ctr.ip_loopback_dropped++;
		rte_pktmbuf_free(m);
		return -ENOBUFS;
	}
	lc->lo[(lc->lo_head + lc->lo_len++) % FFS_LOOPBACK_QUEUE] = m;
	(*counted)++;
	return 0;
}

int ipv4_output(struct ffs_lcore *lc, struct rte_mbuf *m, const struct ipv4_out *o)
{
	const struct ffs_stack *st = lc->st;
	const struct ffs_port *port = NULL;
	uint32_t nexthop = 0;
	const struct eth_addr *dst_mac = NULL;
	struct eth_addr mcast_mac;
	bool mcast_copy = false;
	struct ipv4_route_memo *memo = o->memo;
	bool local;

	if (ipv4_is_loopback(o->src) && (o->dst == 0xffffffffu || ipv4_is_multicast(o->dst))) {
		/* A 127/8 source (IP_MULTICAST_IF 127.0.0.1, a socket bound there) names loopback, as Linux's
		 * route lookup takes it: a group or broadcast goes to local members only, never a device. */
		if (o->dst != 0xffffffffu && !(o->mcast_loop && ipv4_group_joined_any(lc, o->dst))) {
			rte_pktmbuf_free(m);
			return 0;
		}
		local = true;
	} else if (memo && memo->valid && memo->dst == o->dst) {
		local = memo->local;
		port = memo->port;
		nexthop = memo->nexthop;
	} else if (!(local = route_is_local(st, o->dst))) {
		if (o->dst == 0xffffffffu) {
			port = st->n_ports ? &st->ports[0] : NULL;
			dst_mac = &ETH_BROADCAST;
		} else if ((port = route_port_of(st, o->dst)) != NULL) {
			dst_mac = &ETH_BROADCAST; /* a subnet broadcast (its address would have been local) */
		} else if (ipv4_is_multicast(o->dst)) {
			/* The port of the source (IP_MULTICAST_IF, a bound address), else where the route to the
			 * group leaves, as Linux's route lookup picks it; the first port when neither says. */
			uint32_t via;
			port = o->src ? route_port_of(st, o->src) : route_fib_lookup(lc, o->dst, &via, NULL);
			if (!port)
				port = st->n_ports ? &st->ports[0] : NULL;
			eth_addr_from_ipv4_multicast(o->dst, &mcast_mac);
			dst_mac = &mcast_mac;
			mcast_copy = o->mcast_loop && port && ipv4_group_joined(lc, port->index, o->dst);
		} else {
			port = route_fib_lookup(lc, o->dst, &nexthop, NULL);
			if (memo)
				*memo = (struct ipv4_route_memo){ true, false, o->dst, nexthop, port };
		}
	} else if (memo) {
		*memo = (struct ipv4_route_memo){ true, true, o->dst, 0, NULL };
	}
	if (!local && !port) {
		lc->ctr.ip_noroute++;
		rte_pktmbuf_free(m);
		return -ENETUNREACH;
	}
	/* A packet to ourselves leaves from the address it goes to, as on Linux's loopback. */
	const uint32_t src = o->src ? o->src : (local ? o->dst : port->addr);
	if (!local && ipv4_martian_on_wire(src, o->dst)) {
		lc->ctr.ip_tx_martian++;
		rte_pktmbuf_free(m);
		return -EINVAL;
	}
	/* RFC 791 §2.3: above the MTU a datagram leaves in fragments, but none exceeds 65535 octets. */
	if (rte_pktmbuf_pkt_len(m) + IPV4_HDR_LEN > IPV4_MAX_LEN) {
		lc->ctr.ip_toolong++;
		rte_pktmbuf_free(m);
		return -EMSGSIZE;
	}

	uint16_t payload_len = (uint16_t)rte_pktmbuf_pkt_len(m);
	uint8_t *hdr = (uint8_t *)rte_pktmbuf_prepend(m, IPV4_HDR_LEN);
	if (!hdr) {
		rte_pktmbuf_free(m);
		return -ENOBUFS;
	}
	struct ipv4_repr ip = {
		.src = src,
		.dst = o->dst,
		.proto = o->proto,
		.ttl = o->ttl ? o->ttl : (uint8_t)ffs_sysctl(st, FFS_SYSCTL_IP_TTL),
		.tos = o->tos,
		.id = lc->ip_id++,
		.dont_frag = o->dont_frag,
		.hdr_len = IPV4_HDR_LEN,
		.payload_len = payload_len,
	};
	lc->ctr.ip_tx++;
	/* The device sums a UDP datagram that leaves in one frame, where it offers to and
	 * net.inet.udp.tx_csum_offload lets it; a looped-back copy or fragments carry the sum itself. */
	if (o->udp_csum)
		udp_csum_fill(lc, m, IPV4_HDR_LEN, ip.src, ip.dst,
			      !local && !mcast_copy && port->caps.tx_udp_offload && rte_pktmbuf_pkt_len(m) <= port->mtu &&
				      ffs_sysctl(st, FFS_SYSCTL_UDP_TX_CSUM_OFFLOAD));
	if (local) {
		ipv4_repr_emit(&ip, hdr, IPV4_HDR_LEN, &LOOPBACK_CAPS);
		return ip_loopback_enqueue(lc, m, &lc->ctr.ip_loopback);
	}
	if (mcast_copy) {
		/* IP_MULTICAST_LOOP: local members get their own copy (input rewrites offsets, so no sharing). */
		struct rte_mbuf *copy = rte_pktmbuf_copy(m, st->pool, 0, UINT32_MAX);
		if (copy) {
			ipv4_repr_emit(&ip, rte_pktmbuf_mtod(copy, uint8_t *), IPV4_HDR_LEN, &LOOPBACK_CAPS);
			ip_loopback_enqueue(lc, copy, &lc->ctr.ip_loopback);
		}
	}
	ipv4_repr_emit(&ip, hdr, IPV4_HDR_LEN, &port->caps);
	if (!ip_fits_frame(port, m, port->mtu))
		return ipv4_fragment(lc, port, m, nexthop, dst_mac);
	m->l3_len = IPV4_HDR_LEN;
	if (port->caps.tx_ipv4_offload)
		m->ol_flags |= RTE_MBUF_F_TX_IPV4 | RTE_MBUF_F_TX_IP_CKSUM;
	return eth_output(lc, port, m, nexthop, dst_mac);
}
