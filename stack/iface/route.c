/*
 * Routing for a host that does not forward: the connected subnet of each port, then the first
 * port with a default gateway. Ports are few (≤ FFS_MAX_PORTS), so a linear scan beats a trie.
 */
#include "stack/iface/iface.h"

bool route_is_local(const struct ffs_stack *st, uint32_t dst)
{
	if (ipv4_is_loopback(dst))
		return true;
	for (unsigned i = 0; i < st->n_ports; i++)
		if (st->ports[i].addr == dst)
			return true;
	return false;
}

const struct ffs_port *route_port_of(const struct ffs_stack *st, uint32_t addr)
{
	for (unsigned i = 0; i < st->n_ports; i++)
		if (st->ports[i].addr == addr || st->ports[i].broadcast == addr)
			return &st->ports[i];
	return NULL;
}

const struct ffs_port *route_lookup(const struct ffs_stack *st, uint32_t dst, uint32_t *nexthop)
{
	for (unsigned i = 0; i < st->n_ports; i++) {
		const struct ffs_port *p = &st->ports[i];
		if ((dst & p->netmask) == (p->addr & p->netmask)) {
			*nexthop = dst;
			return p;
		}
	}
	for (unsigned i = 0; i < st->n_ports; i++) {
		const struct ffs_port *p = &st->ports[i];
		if (p->gateway) {
			*nexthop = p->gateway;
			return p;
		}
	}
	return NULL;
}
