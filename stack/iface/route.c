/*
 * Routing for a host that does not forward: the connected subnet of each port, then the first
 * port with a default gateway. Ports are few (≤ FFS_MAX_PORTS), so a linear scan beats a trie.
 * Also the questions a socket asks before it sends or connects: the source address a destination is
 * reached from, and whether it is a broadcast. Read-only over the stack's ports; any thread.
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

uint32_t route_source(const struct ffs_stack *st, uint32_t dst)
{
	if (ipv4_is_loopback(dst))
		return 0x7f000001u;
	if (route_is_local(st, dst))
		return dst;
	if (dst == 0xffffffffu || ipv4_is_multicast(dst))
		return st->n_ports ? st->ports[0].addr : 0;
	uint32_t nexthop;
	const struct ffs_port *p = route_port_of(st, dst);
	if (!p)
		p = route_lookup(st, dst, &nexthop);
	return p ? p->addr : 0;
}

bool route_is_broadcast(const struct ffs_stack *st, uint32_t dst)
{
	if (dst == 0xffffffffu || dst == 0x7fffffffu) /* limited broadcast, and loopback's 127.255.255.255 */
		return true;
	const struct ffs_port *p = route_port_of(st, dst);
	return p && p->broadcast == dst;
}
