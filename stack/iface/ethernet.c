/*
 * Ethernet: accept frames for our MAC, broadcast and multicast; demux by EtherType; frame output.
 * IEEE 802.1Q: a port with a VLAN ([portN] vlan_id) receives only frames tagged with its VID and
 * tags every frame it sends; one without receives untagged frames only (a priority tag, VID 0, counts
 * as untagged). The tag is removed on input (by the device when it strips tags, else here: the MACs
 * move up over it, so the Ethernet header still sits just before the payload) and inserted in
 * eth_vlan_tag, which ffs_tx_enqueue calls for every frame (by the device when it inserts tags).
 * On a multi-lcore stack, ARP frames — and Neighbor Discovery messages, which ICMPv6 input hands
 * here — are cloned to every other lcore (by reference count, since ARP and ND input only read them)
 * so that each lcore's private neighbour cache learns every answer; on a multi-process stack
 * (phy/cluster.h) also to the process serving each other queue, whose mbufs come from the same
 * shared pool.
 */
#include <errno.h>
#include <string.h>
#include <rte_ether.h>
#include <rte_ring.h>

#include "stack/iface/iface.h"
#include "stack/wire/arp.h"

void eth_clone_to_peers(struct ffs_lcore *lc, struct rte_mbuf *m, uint32_t kind)
{
	struct ffs_stack *st = lc->st;
	m->hash.usr = kind;
	for (unsigned i = 0; i < st->n_lcores; i++) {
		struct ffs_lcore *peer = st->lcores[i];
		if (peer == lc)
			continue;
		/* Every segment: each holder's rte_pktmbuf_free drops one reference from each. */
		rte_pktmbuf_refcnt_update(m, 1);
		if (rte_ring_enqueue(peer->peer_in, m) != 0)
			rte_pktmbuf_free(m); /* the peer relearns from the next ARP or ND packet */
		else
			ffs_lcore_wake(peer);
	}
	if (!st->cluster)
		return;
	/* To each worker's ring (the one of the queue it owns), and to the primary's own (the last). */
	const unsigned n = st->cluster->n_queues;
	for (unsigned k = 0; k <= n; k++) {
		if (k < n) {
			int32_t owner = atomic_load_explicit(&st->cluster->q[k].owner, memory_order_relaxed);
			if (owner == st->cluster->primary_pid || owner == st->pid)
				continue;
		} else if (!st->secondary) {
			continue;
		}
		/* A dead worker's ring fills up and then refuses: bounded until its queue is adopted. */
		rte_pktmbuf_refcnt_update(m, 1);
		if (rte_ring_mp_enqueue(st->cluster_arp[k], m) != 0)
			rte_pktmbuf_free(m);
	}
}

/**
 * Removes the 802.1Q tag of a received frame (`eth` parsed from it, its EtherType then the inner one):
 * the VID it carried, 0 for an untagged or priority-tagged frame; -1 for a tag cut short.
 */
static int vlan_untag(struct rte_mbuf *m, struct eth_repr *eth)
{
	if (m->ol_flags & RTE_MBUF_F_RX_VLAN_STRIPPED) {
		m->ol_flags &= ~(RTE_MBUF_F_RX_VLAN_STRIPPED | RTE_MBUF_F_RX_VLAN);
		return m->vlan_tci & ETH_VLAN_VID_MASK;
	}
	if (eth->ethertype != ETH_TYPE_VLAN)
		return 0;
	uint8_t *frame = rte_pktmbuf_mtod(m, uint8_t *);
	if (rte_pktmbuf_data_len(m) < ETH_VLAN_HDR_LEN)
		return -1;
	/* TPID, TCI, then the inner EtherType, which ends up where an untagged frame has it. */
	int vid = rd_be16(frame + ETH_HDR_LEN) & ETH_VLAN_VID_MASK;
	eth->ethertype = rd_be16(frame + ETH_HDR_LEN + 2);
	memmove(frame + ETH_VLAN_TAG_LEN, frame, 2 * ETH_ADDR_LEN);
	rte_pktmbuf_adj(m, ETH_VLAN_TAG_LEN);
	return vid;
}

void eth_input(struct ffs_lcore *lc, const struct ffs_port *port, struct rte_mbuf *m)
{
	struct eth_repr eth;
	lc->ctr.eth_rx++;
	if (eth_repr_parse(rte_pktmbuf_mtod(m, const uint8_t *), rte_pktmbuf_data_len(m), &eth) != WIRE_OK) {
		lc->ctr.eth_runt++;
		goto drop;
	}
	int vid = vlan_untag(m, &eth);
	if (vid < 0) {
		lc->ctr.eth_runt++;
		goto drop;
	}
	if (vid != port->vlan_id) {
		lc->ctr.eth_vlan_mismatch++;
		goto drop;
	}
	if (!eth_addr_eq(&eth.dst, &port->mac) && !eth_addr_is_multicast(&eth.dst)) {
		lc->ctr.eth_not_ours++;
		goto drop;
	}
	rte_pktmbuf_adj(m, ETH_HDR_LEN);
	switch (eth.ethertype) {
	case ETH_TYPE_IPV4:
		ipv4_input(lc, port, m);
		return;
	case ETH_TYPE_IPV6:
		ipv6_input(lc, port, m);
		return;
	case ETH_TYPE_ARP:
		/* The exception path's kernel learns its neighbours from every ARP packet, as the stack does. */
		if (port->exc.on)
			ffs_exc_copy_to_kernel(lc, port, m, ETH_TYPE_ARP);
		if (lc->st->n_lcores > 1 || lc->st->cluster)
			eth_clone_to_peers(lc, m, FFS_PEER_ARP);
		arp_input(lc, port, m, false);
		return;
	default:
		if (port->exc.on) {
			ffs_exc_to_kernel(lc, port, m, eth.ethertype);
			return;
		}
		lc->ctr.eth_unknown_type++;
		goto drop;
	}
drop:
	rte_pktmbuf_free(m);
}

struct rte_mbuf *eth_vlan_tag(struct ffs_lcore *lc, const struct ffs_port *port, struct rte_mbuf *m)
{
	m->vlan_tci = port->vlan_id; /* priority 0, DEI 0 */
	if (port->vlan_tx_offload) {
		m->ol_flags |= RTE_MBUF_F_TX_VLAN;
		return m;
	}
	/* Moves the MACs down into the headroom and writes the tag; l2_len grows by the tag for the
	 * checksum offloads. Refuses a shared or indirect mbuf or one without headroom: none reach here. */
	if (rte_vlan_insert(&m) != 0) {
		lc->ctr.eth_tx_dropped++;
		rte_pktmbuf_free(m);
		return NULL;
	}
	return m;
}

/** Prepends the Ethernet header (destination dst_mac, or left for resolution to fill). */
static int eth_prepend(const struct ffs_port *port, struct rte_mbuf *m, uint16_t ethertype, const struct eth_addr *dst_mac)
{
	uint8_t *hdr = (uint8_t *)rte_pktmbuf_prepend(m, ETH_HDR_LEN);
	if (!hdr) {
		rte_pktmbuf_free(m);
		return -ENOBUFS;
	}
	struct eth_repr eth = { .src = port->mac, .ethertype = ethertype };
	if (dst_mac)
		eth.dst = *dst_mac;
	eth_repr_emit(&eth, hdr, ETH_HDR_LEN);
	m->l2_len = ETH_HDR_LEN;
	return 0;
}

int eth_output(struct ffs_lcore *lc, const struct ffs_port *port, struct rte_mbuf *m, uint32_t nexthop,
	       const struct eth_addr *dst_mac)
{
	int rc = eth_prepend(port, m, ETH_TYPE_IPV4, dst_mac);
	if (rc != 0)
		return rc;
	if (dst_mac) {
		ffs_tx_enqueue(lc, port->index, m);
		return 0;
	}
	return arp_resolve_and_send(lc, port, nexthop, m);
}

int eth_output6(struct ffs_lcore *lc, const struct ffs_port *port, struct rte_mbuf *m, const struct ip6_addr *nexthop,
		const struct eth_addr *dst_mac)
{
	int rc = eth_prepend(port, m, ETH_TYPE_IPV6, dst_mac);
	if (rc != 0)
		return rc;
	if (dst_mac) {
		ffs_tx_enqueue(lc, port->index, m);
		return 0;
	}
	return nd6_resolve_and_send(lc, port, nexthop, m);
}
