/*
 * ARP (RFC 826) over the per-lcore neighbour cache: answering requests for our addresses, resolving
 * next hops with bounded retries, holding packets meanwhile, aging, and gratuitous announcements.
 *
 * Learning follows RFC 826's merge rule (refresh an entry we already have from any ARP packet;
 * create one when we are the target of a request), except that a reply nobody asked for never
 * creates an entry: it is counted as unsolicited and ignored, which closes the cheapest cache
 * poisoning path. Every lcore learns from every ARP packet (clones, see ethernet.c) but only the
 * lcore that received the frame answers it and counts it. "Asked for" is by the stack, not the
 * lcore: each lcore publishes the addresses it lately sent requests for (struct ffs_lcore's
 * arp_asked, neigh_asked_note; Neighbor Discovery does the same), so a reply to one lcore's request creates the entry on every lcore that sees it —
 * otherwise a thread whose lcore never asked would hold, and beyond maxhold_bytes drop, its first burst
 * to a neighbour the stack already knows.
 *
 * A full table makes room by eviction (neigh.h): an entry learned from a request may displace only
 * another entry nobody used, so a flood of requests from forged senders churns those and leaves the
 * neighbours the stack talks to in place; a resolution of our own may displace any entry but a
 * permanent one, so sending never fails for want of room.
 */
#include <errno.h>
#include <stddef.h>
#include <rte_cycles.h>

#include "stack/iface/iface.h"
#include "stack/phy/mbuf.h"
#include "stack/wire/arp.h"

/** Sends an ARP packet from `port`, its sender address `spa` (one of the port's addresses). */
static void arp_send(struct ffs_lcore *lc, const struct ffs_port *port, uint16_t op, const struct eth_addr *eth_dst,
		     uint32_t spa, const struct eth_addr *tha, uint32_t tpa)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(lc->st->pool);
	if (!m)
		return;
	uint8_t *p = (uint8_t *)rte_pktmbuf_append(m, ETH_HDR_LEN + ARP_PKT_LEN);
	struct eth_repr eth = { .dst = *eth_dst, .src = port->mac, .ethertype = ETH_TYPE_ARP };
	struct arp_repr arp = { .op = op, .sha = port->mac, .spa = spa, .tha = *tha, .tpa = tpa };
	eth_repr_emit(&eth, p, ETH_HDR_LEN);
	arp_repr_emit(&arp, p + ETH_HDR_LEN, ARP_PKT_LEN);
	ffs_tx_enqueue(lc, port->index, m);
}

/* ARP's side of the shared neighbour state machine, defined below. */
static const struct neigh_proto ARP_NEIGH;

/** A broadcast request for `tpa` from sender address `spa`. */
static void request_from(struct ffs_lcore *lc, const struct ffs_port *port, uint32_t spa, uint32_t tpa)
{
	static const struct eth_addr zero;
	arp_send(lc, port, ARP_OP_REQUEST, &ETH_BROADCAST, spa, &zero, tpa);
	lc->ctr.arp_requests_out++;
}

void arp_request(struct ffs_lcore *lc, const struct ffs_port *port, uint32_t tpa)
{
	neigh_asked_note(lc, &ARP_NEIGH, (struct neigh_key){ .addr = tpa });
	/* From the port's address on tpa's subnet, which the target takes as on-link (Linux's arp_solicit
	 * picks the address of the packet it resolves for, on-link). */
	request_from(lc, port, route_port_source(lc->st, port, tpa), tpa);
}

void arp_announce(struct ffs_lcore *lc, const struct ffs_port *port)
{
	if (port->addr)
		request_from(lc, port, port->addr, port->addr);
	struct ffs_ifaddr vip[FFS_MAX_VIP];
	for (unsigned k = 0, n = route_port_vips(port, vip); k < n; k++)
		request_from(lc, port, vip[k].addr, vip[k].addr);
}

unsigned arp_replay(struct ffs_lcore *lc, struct rte_ring *ring)
{
	unsigned n = 0;
	for (unsigned i = 0; i < NEIGH_TABLE_SIZE; i++) {
		const struct neigh_entry *e = &lc->neigh.slots[i];
		if (!e->addr || e->state != FFS_NEIGH_REACHABLE)
			continue;
		const struct ffs_port *port = &lc->st->ports[e->port_index];
		struct rte_mbuf *m = rte_pktmbuf_alloc(lc->st->pool);
		if (!m)
			break;
		/* As a clone arrives: the ARP packet alone (ethernet.c strips the header), its port recorded. */
		uint8_t *p = (uint8_t *)rte_pktmbuf_append(m, ARP_PKT_LEN);
		struct arp_repr arp = { .op = ARP_OP_REQUEST, .sha = e->mac, .spa = e->addr, .tpa = port->addr };
		arp_repr_emit(&arp, p, ARP_PKT_LEN);
		m->port = port->port_id;
		m->hash.usr = FFS_PEER_ARP;
		if (rte_ring_mp_enqueue(ring, m) != 0) {
			rte_pktmbuf_free(m);
			break;
		}
		n++;
	}
	return n;
}

static void arp_solicit(struct ffs_lcore *lc, const struct ffs_port *port, const struct neigh_table *t,
			const struct neigh_entry *e)
{
	(void)t;
	arp_request(lc, port, e->addr);
}

/** ARP's side of the shared neighbour state machine (neigh.h). */
static const struct neigh_proto ARP_NEIGH = {
	.table = offsetof(struct ffs_lcore, neigh),
	.max_entries = FFS_SYSCTL_ARP_MAX_ENTRIES,
	.maxtries = FFS_SYSCTL_ARP_MAXTRIES,
	.maxhold_bytes = FFS_SYSCTL_ARP_MAXHOLD_BYTES,
	.maxhold = FFS_SYSCTL_ARP_MAXHOLD,
	.rexmit_ms = FFS_SYSCTL_ARP_REXMIT_MS,
	.max_age = FFS_SYSCTL_ARP_MAX_AGE,
	.asked = offsetof(struct ffs_lcore, arp_asked),
	.ctr_table_full = offsetof(struct ffs_counters, arp_table_full),
	.ctr_evicted = offsetof(struct ffs_counters, arp_evicted),
	.ctr_hold_dropped = offsetof(struct ffs_counters, arp_hold_dropped),
	.ctr_hold_memdrop = offsetof(struct ffs_counters, arp_hold_memdrop),
	.ctr_timeouts = offsetof(struct ffs_counters, arp_timeouts),
	.solicit = arp_solicit,
};

static struct neigh_entry *neigh_new4(struct ffs_lcore *lc, uint16_t port_index, uint32_t addr, bool count)
{
	return neigh_new(lc, &ARP_NEIGH, port_index, (struct neigh_key){ .addr = addr }, NEIGH_CLASS_UNUSED, count);
}

void arp_input(struct ffs_lcore *lc, const struct ffs_port *port, struct rte_mbuf *m, bool cloned)
{
	struct arp_repr a;
	enum wire_result r = arp_repr_parse(rte_pktmbuf_mtod(m, const uint8_t *), rte_pktmbuf_data_len(m), &a);
	bool count = !cloned; /* counters are summed over lcores: count each frame once */
	if (count)
		lc->ctr.arp_rx++;
	else
		lc->ctr.arp_clones_in++;
	if (r != WIRE_OK) {
		if (count) {
			if (r == WIRE_UNSUPPORTED)
				lc->ctr.arp_unsupported++;
			else
				lc->ctr.arp_badlen++;
		}
		goto done;
	}
	if (route_port_has_addr(port, a.spa)) {
		/* Another host uses our address (or our own frame looped back by a switch). */
		if (count && !eth_addr_eq(&a.sha, &port->mac))
			lc->ctr.arp_dupaddr++;
		goto done;
	}
	if (eth_addr_is_multicast(&a.sha) || eth_addr_is_zero(&a.sha))
		goto done;

	bool for_us = route_port_has_addr(port, a.tpa);
	bool sender_known = a.spa != 0 && route_on_link(lc->st, port->index, a.spa);
	struct neigh_entry *e = sender_known ? neigh_lookup(&lc->neigh, port->index, a.spa) : NULL;
	if (e && e->state != FFS_NEIGH_PERMANENT) {
		if (count && a.op == ARP_OP_REPLY)
			lc->ctr.arp_replies_in++;
		neigh_confirm(lc, &ARP_NEIGH, e, &a.sha);
	} else if (!e && for_us && a.op == ARP_OP_REQUEST && sender_known) {
		e = neigh_new4(lc, port->index, a.spa, count);
		if (e) {
			e->passive = true;
			neigh_confirm(lc, &ARP_NEIGH, e, &a.sha);
		}
	} else if (!e && for_us && a.op == ARP_OP_REPLY && sender_known &&
		   neigh_asked_by_stack(lc, &ARP_NEIGH, (struct neigh_key){ .addr = a.spa })) {
		/* Another lcore's resolution: its sockets' threads may send here next. */
		e = neigh_new4(lc, port->index, a.spa, count);
		if (e) {
			if (count)
				lc->ctr.arp_replies_in++;
			e->passive = true;
			neigh_confirm(lc, &ARP_NEIGH, e, &a.sha);
		}
	} else if (!e && a.op == ARP_OP_REPLY && count) {
		lc->ctr.arp_unsolicited++;
	}

	if (for_us && a.op == ARP_OP_REQUEST && count) {
		lc->ctr.arp_requests_in++;
		arp_send(lc, port, ARP_OP_REPLY, &a.sha, a.tpa, &a.sha, a.spa); /* from the address asked for */
		lc->ctr.arp_replies_out++;
	}
done:
	rte_pktmbuf_free(m);
}

int arp_resolve_and_send(struct ffs_lcore *lc, const struct ffs_port *port, uint32_t nexthop, struct rte_mbuf *m)
{
	return neigh_resolve_and_send(lc, &ARP_NEIGH, port, (struct neigh_key){ .addr = nexthop }, m);
}

void arp_tick(struct ffs_lcore *lc)
{
	neigh_tick(lc, &ARP_NEIGH);
}

void arp_forget_offlink(struct ffs_lcore *lc, uint16_t port_index)
{
	struct neigh_table *t = &lc->neigh;
	const struct ffs_port *port = &lc->st->ports[port_index];
	for (unsigned i = 0; t->count && i < NEIGH_TABLE_SIZE;) {
		struct neigh_entry *e = &t->slots[i];
		if (e->addr == 0 || e->port_index != port_index ||
		    (route_on_link(lc->st, port_index, e->addr) && !route_port_has_addr(port, e->addr))) {
			i++;
			continue;
		}
		unsigned dropped;
		neigh_remove(t, e, &dropped); /* may shift another entry into slot i: look at it again */
		lc->ctr.arp_hold_dropped += dropped;
	}
}

int arp_add_static(struct ffs_lcore *lc, uint16_t port_index, uint32_t addr, const struct eth_addr *mac)
{
	return neigh_add_static(lc, &ARP_NEIGH, port_index, (struct neigh_key){ .addr = addr }, mac);
}
