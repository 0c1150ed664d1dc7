/*
 * The interface commands of the control server (ctl.h): ifconfig (ports: addresses — IPv6 ones
 * too —, MTU, flags, link, offloads, device counters) and ifconfig.set, arp.list/add/del and
 * ndp.list/add/del (the IPv4 and IPv6 neighbour caches, one code for both), route.list/add/del
 * (the routing table), route6.list (the IPv6 one) and ping (an echo request the handler waits
 * for). Changes go through the stack's own calls (stack.h), which every lcore acknowledges before
 * they return. Ports are named by DPDK port id, as in the configuration's [portN] sections.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <rte_ethdev.h>
#include <rte_ether.h>

#include "stack/ctl/args.h"
#include "stack/ctl/ctl.h"
#include "stack/ctl/report.h"
#include "stack/iface/iface.h"
#include "stack/lcore/lcore.h"
#include "stack/phy/port.h"

/** The port index of DPDK port `port_id`, or -1. */
static int port_index(const struct ffs_stack *st, unsigned long port_id)
{
	for (unsigned i = 0; i < st->n_ports; i++)
		if (st->ports[i].port_id == port_id)
			return (int)i;
	return -1;
}

/** The ports as "port0, port1" for error messages. */
static const char *port_list(const struct ffs_stack *st, char *buf, size_t len)
{
	size_t n = 0;
	buf[0] = '\0';
	for (unsigned i = 0; i < st->n_ports && n < len; i++)
		n += (size_t)snprintf(buf + n, len - n, "%sport%u", i ? ", " : "", st->ports[i].port_id);
	return st->n_ports ? buf : "none";
}

/**
 * The port the request's port= names: its index, or ffs_ctl_fail's result. Without port=, `dflt`
 * (-1: port= is required).
 */
static int port_arg(struct ffs_stack *st, const struct ffs_ctl_req *req, struct ffs_json *out, int dflt)
{
	const char *s = ffs_ctl_arg(req, "port");
	if (!s) {
		if (dflt < 0)
			return ffs_ctl_fail(out, EINVAL, "%s: port= is required", req->cmd);
		return dflt;
	}
	uint64_t id;
	int idx = ffs_ctl_parse_uint(s, 0, UINT16_MAX, &id) ? port_index(st, id) : -1;
	char ports[128];
	if (idx < 0)
		return ffs_ctl_fail(out, ENODEV, "no port %s (ports: %s)", s, port_list(st, ports, sizeof(ports)));
	return idx;
}

/**
 * The port= of a request that acts on one port or on all: the port's index in *only, or -1 (every
 * port) without port=. 0, or ffs_ctl_fail's result.
 */
static int port_filter(struct ffs_stack *st, const struct ffs_ctl_req *req, struct ffs_json *out, int *only)
{
	*only = -1;
	if (!ffs_ctl_arg(req, "port"))
		return 0;
	*only = port_arg(st, req, out, -1);
	return *only < 0 ? *only : 0;
}

static void offload_names(struct ffs_json *out, bool ipv4, bool l4, bool tx)
{
	ffs_json_arr_begin(out);
	if (ipv4)
		ffs_json_str(out, "ipv4_cksum");
	if (l4)
		ffs_json_str(out, tx ? "udp_cksum" : "l4_cksum");
	ffs_json_arr_end(out);
}

static void port_obj(struct ffs_stack *st, unsigned i, struct ffs_json *out)
{
	struct ffs_port_info p;
	ffs_stack_port_info(st, i, &p);
	struct rte_eth_link link = { 0 };
	rte_eth_link_get_nowait(p.port_id, &link);
	char name[16];
	snprintf(name, sizeof(name), "port%u", p.port_id);
	ffs_json_obj_begin(out);
	ffs_json_kv_u64(out, "index", i);
	ffs_json_kv_str(out, "name", name);
	ffs_json_kv_u64(out, "port_id", p.port_id);
	ffs_json_kv_str(out, "device", p.name);
	ffs_ctl_kv_port_addrs(out, &p);
	ffs_ctl_kv_port_inet6(out, st, i);
	ffs_json_key(out, "flags");
	ffs_json_arr_begin(out);
	if (p.admin_up)
		ffs_json_str(out, "UP");
	ffs_json_str(out, "BROADCAST");
	if (p.admin_up && p.link_up)
		ffs_json_str(out, "RUNNING");
	ffs_json_str(out, "MULTICAST");
	ffs_json_arr_end(out);
	ffs_json_key(out, "link");
	ffs_json_obj_begin(out);
	ffs_json_kv_bool(out, "up", p.link_up);
	ffs_json_kv_u64(out, "speed_mbps", link.link_speed == RTE_ETH_SPEED_NUM_UNKNOWN ? 0 : link.link_speed);
	ffs_json_kv_str(out, "duplex", link.link_duplex == RTE_ETH_LINK_FULL_DUPLEX ? "full" : "half");
	ffs_json_obj_end(out);
	ffs_json_key(out, "offloads");
	ffs_json_obj_begin(out);
	ffs_json_key(out, "rx");
	offload_names(out, p.rx_ipv4_cksum, p.rx_l4_cksum, false);
	ffs_json_key(out, "tx");
	offload_names(out, p.tx_ipv4_cksum, p.tx_udp_cksum, true);
	ffs_json_obj_end(out);
	ffs_json_key(out, "queues");
	ffs_json_obj_begin(out);
	ffs_json_kv_u64(out, "rx", p.rx_queues);
	ffs_json_kv_u64(out, "tx", p.tx_queues);
	ffs_json_kv_bool(out, "rx_intr", p.rx_intr);
	ffs_json_obj_end(out);
	/* The exception path's kernel interface (phy/exception.h), or null. */
	ffs_json_key(out, "exception");
	if (p.exception == FFS_EXC_NONE) {
		ffs_json_null(out);
	} else {
		ffs_json_obj_begin(out);
		ffs_json_kv_str(out, "kind", p.exception == FFS_EXC_TAP ? "tap" : "virtio-user");
		ffs_json_kv_str(out, "iface", p.exception_iface);
		ffs_json_obj_end(out);
	}
	ffs_ctl_kv_port_stats(out, &p);
	ffs_json_obj_end(out);
}

static int cmd_ifconfig(struct ffs_stack *st, const struct ffs_ctl_req *req, struct ffs_json *out)
{
	int only, rc;
	if ((rc = port_filter(st, req, out, &only)) != 0)
		return rc;
	ffs_json_arr_begin(out);
	for (unsigned i = 0; i < st->n_ports; i++)
		if (only < 0 || (unsigned)only == i)
			port_obj(st, i, out);
	ffs_json_arr_end(out);
	return 0;
}

/** ADDR/LEN of an IPv6 prefix (LEN 0..128 in decimal). */
static bool parse_prefix6(const char *s, struct ip6_addr *a, unsigned *len)
{
	const char *slash = strchr(s, '/');
	char text[IP6_ADDRSTRLEN];
	uint64_t n;
	if (!slash || (size_t)(slash - s) >= sizeof(text) || !ffs_ctl_parse_uint(slash + 1, 0, 128, &n))
		return false;
	snprintf(text, sizeof(text), "%.*s", (int)(slash - s), s);
	*len = (unsigned)n;
	return ip6_parse(text, a) == 0;
}

static int cmd_ifconfig_set(struct ffs_stack *st, const struct ffs_ctl_req *req, struct ffs_json *out)
{
	int idx = port_arg(st, req, out, -1);
	if (idx < 0)
		return idx;
	const uint16_t port_id = st->ports[idx].port_id;
	const char *inet = ffs_ctl_arg(req, "inet"), *mtu_s = ffs_ctl_arg(req, "mtu"), *state = ffs_ctl_arg(req, "state");
	const char *inet6 = ffs_ctl_arg(req, "inet6"), *inet6_del = ffs_ctl_arg(req, "inet6_delete");
	const char *alias = ffs_ctl_arg(req, "inet_alias"), *alias_del = ffs_ctl_arg(req, "inet_alias_delete");
	uint32_t addr = 0, alias_addr = 0, alias_del_addr = 0;
	unsigned len = 0, alias_len = 0;
	uint64_t mtu = 0;
	/* Everything is checked before anything changes. */
	if (inet && !ffs_ctl_parse_prefix(inet, false, &addr, &len))
		return ffs_ctl_fail(out, EINVAL, "bad address '%s' (A.B.C.D/LEN)", inet);
	if (alias && !ffs_ctl_parse_prefix(alias, false, &alias_addr, &alias_len))
		return ffs_ctl_fail(out, EINVAL, "bad address '%s' (A.B.C.D/LEN)", alias);
	if (alias_del && ipv4_parse(alias_del, &alias_del_addr) != 0)
		return ffs_ctl_fail(out, EINVAL, "bad address '%s' (A.B.C.D)", alias_del);
	struct rte_eth_dev_info info;
	if (mtu_s && rte_eth_dev_info_get(port_id, &info) == 0) {
		unsigned long lo = RTE_MAX(68u, info.min_mtu), hi = ffs_port_device_max_mtu(&info);
		if (!ffs_ctl_parse_uint(mtu_s, 0, UINT16_MAX, &mtu) || mtu < lo || mtu > hi)
			return ffs_ctl_fail(out, ERANGE, "mtu %s is out of range for port%u (%lu..%lu)", mtu_s, port_id, lo, hi);
		if (ffs_port_mtu_check(port_id, st->ports[idx].vlan_id, st->pool, (uint16_t)mtu) != 0)
			return ffs_ctl_fail(out, ERANGE,
					    "mtu %s on port%u needs frames received into chains of mbufs (RX scatter), which its "
					    "device was not started for: set [port%u] mtu = %s and restart",
					    mtu_s, port_id, port_id, mtu_s);
	}
	if (state && strcmp(state, "up") != 0 && strcmp(state, "down") != 0)
		return ffs_ctl_fail(out, EINVAL, "state '%s' is neither up nor down", state);
	struct ip6_addr a6, d6;
	unsigned len6 = 0;
	if (inet6 && !parse_prefix6(inet6, &a6, &len6))
		return ffs_ctl_fail(out, EINVAL, "bad address '%s' (ADDR/PREFIXLEN, e.g. 2001:db8::2/64)", inet6);
	if (inet6_del && ip6_parse(inet6_del, &d6) != 0)
		return ffs_ctl_fail(out, EINVAL, "bad address '%s' (an IPv6 address)", inet6_del);
	if (!inet && !mtu_s && !state && !inet6 && !inet6_del && !alias && !alias_del)
		return ffs_ctl_fail(out, EINVAL, "ifconfig.set: nothing to change (inet=, inet_alias=, inet_alias_delete=, inet6=, "
				    "inet6_delete=, mtu= or state=)");
	int rc;
	if (inet && (rc = ffs_stack_port_set_inet(st, port_id, addr, len)) != 0) {
		if (rc == -EINVAL)
			return ffs_ctl_fail(out, EINVAL, "%s is not a host's unicast address (not a network, broadcast, "
					    "loopback or multicast address; length 1..32)", inet);
		return ffs_ctl_fail(out, -rc, "port%u: inet %s: %s", port_id, inet, strerror(-rc));
	}
	if (alias_del && (rc = ffs_stack_port_alias_del(st, port_id, alias_del_addr)) != 0) {
		if (rc == -ESRCH)
			return ffs_ctl_fail(out, ESRCH, "port%u has no further address %s", port_id, alias_del);
		return ffs_ctl_fail(out, -rc, "port%u: inet %s -alias: %s", port_id, alias_del, strerror(-rc));
	}
	if (alias && (rc = ffs_stack_port_alias_add(st, port_id, alias_addr, alias_len)) != 0) {
		if (rc == -EINVAL)
			return ffs_ctl_fail(out, EINVAL, "%s is not a host's unicast address (not a network, broadcast, "
					    "loopback or multicast address; length 1..32)", alias);
		if (rc == -EEXIST)
			return ffs_ctl_fail(out, EEXIST, "%s is already an address of the stack", alias);
		if (rc == -ENOSPC)
			return ffs_ctl_fail(out, ENOSPC, "port%u has %d further addresses already", port_id, FFS_MAX_VIP);
		return ffs_ctl_fail(out, -rc, "port%u: inet %s alias: %s", port_id, alias, strerror(-rc));
	}
	if (inet6_del && (rc = ffs_stack_addr6_del(st, port_id, &d6)) != 0) {
		if (rc == -ESRCH)
			return ffs_ctl_fail(out, ESRCH, "port%u has no address %s", port_id, inet6_del);
		if (rc == -EPERM)
			return ffs_ctl_fail(out, EPERM, "%s is port%u's link-local address (derived from its MAC)", inet6_del, port_id);
		return ffs_ctl_fail(out, -rc, "port%u: inet6 %s -alias: %s", port_id, inet6_del, strerror(-rc));
	}
	if (inet6 && (rc = ffs_stack_addr6_add(st, port_id, &a6, len6)) != 0) {
		if (rc == -EINVAL)
			return ffs_ctl_fail(out, EINVAL, "%s is not an address a port may have (not unspecified, loopback, multicast, "
					    "IPv4-mapped, link-local or a subnet-router anycast address)", inet6);
		if (rc == -EEXIST)
			return ffs_ctl_fail(out, EEXIST, "%s is already an address of the stack", inet6);
		if (rc == -ENOSPC)
			return ffs_ctl_fail(out, ENOSPC, "port%u has %d IPv6 addresses already", port_id, FFS_MAX_ADDR6);
		if (rc == -ENOENT)
			return ffs_ctl_fail(out, ENOENT, "IPv6 is off on port%u ([port%u] ipv6 = 0)", port_id, port_id);
		return ffs_ctl_fail(out, -rc, "port%u: inet6 %s: %s", port_id, inet6, strerror(-rc));
	}
	if (mtu_s && (rc = ffs_stack_port_set_mtu(st, port_id, (uint16_t)mtu)) != 0)
		return ffs_ctl_fail(out, -rc, "port%u: mtu %" PRIu64 ": %s", port_id, mtu, strerror(-rc));
	if (state && (rc = ffs_stack_port_set_up(st, port_id, strcmp(state, "up") == 0)) != 0)
		return ffs_ctl_fail(out, -rc, "port%u: %s: %s", port_id, state, strerror(-rc));
	port_obj(st, (unsigned)idx, out);
	return 0;
}

static const char *neigh_state_name(enum ffs_neigh_state s)
{
	switch (s) {
	case FFS_NEIGH_INCOMPLETE: return "incomplete";
	case FFS_NEIGH_REACHABLE: return "reachable";
	case FFS_NEIGH_FAILED: return "failed";
	default: return "permanent";
	}
}

/** arp.list and ndp.list: one family's neighbour cache. */
static int neigh_list(struct ffs_stack *st, bool v6, struct ffs_json *out)
{
	struct ffs_neigh_info *e = calloc(NEIGH_TABLE_SIZE, sizeof(*e));
	if (!e)
		return ffs_ctl_fail(out, ENOMEM, "out of memory");
	int n = v6 ? ffs_stack_neigh6_dump(st, e, NEIGH_TABLE_SIZE) : ffs_stack_neigh_dump(st, e, NEIGH_TABLE_SIZE);
	if (n < 0) {
		free(e);
		return ffs_ctl_fail(out, -n, "the lcores did not answer: %s", strerror(-n));
	}
	ffs_json_arr_begin(out);
	for (int i = 0; i < n; i++) {
		ffs_json_obj_begin(out);
		ffs_json_kv_u64(out, "port", e[i].port_id);
		if (v6) {
			char a[IP6_ADDRSTRLEN];
			ffs_json_kv_str(out, "addr", ip6_format(&e[i].addr6, a));
			ffs_json_kv_bool(out, "router", e[i].router);
		} else {
			ffs_json_kv_ipv4(out, "addr", e[i].addr);
		}
		ffs_json_key(out, "mac");
		if (e[i].state == FFS_NEIGH_REACHABLE || e[i].state == FFS_NEIGH_PERMANENT)
			ffs_json_mac(out, &e[i].mac);
		else
			ffs_json_null(out);
		ffs_json_kv_str(out, "state", neigh_state_name(e[i].state));
		ffs_json_kv_u64(out, "expires_s", e[i].expires_in_s);
		ffs_json_kv_u64(out, "held_packets", e[i].held);
		ffs_json_kv_u64(out, "held_bytes", e[i].held_bytes);
		ffs_json_obj_end(out);
	}
	ffs_json_arr_end(out);
	free(e);
	return 0;
}

static int cmd_arp_list(struct ffs_stack *st, const struct ffs_ctl_req *req, struct ffs_json *out)
{
	(void)req;
	return neigh_list(st, false, out);
}

static int cmd_ndp_list(struct ffs_stack *st, const struct ffs_ctl_req *req, struct ffs_json *out)
{
	(void)req;
	return neigh_list(st, true, out);
}

/** The addr= of an arp request, or ffs_ctl_fail's result (as a negative value in *rc). */
static bool addr_arg(const struct ffs_ctl_req *req, struct ffs_json *out, uint32_t *addr, int *rc)
{
	const char *s = ffs_ctl_arg(req, "addr");
	if (!s) {
		*rc = ffs_ctl_fail(out, EINVAL, "%s: addr= is required", req->cmd);
		return false;
	}
	if (!ffs_ctl_parse_ipv4(s, addr)) {
		*rc = ffs_ctl_fail(out, EINVAL, "bad address '%s'", s);
		return false;
	}
	return true;
}

/** A neighbour of an arp or ndp request: its family and address (addr=, as the request wrote it). */
struct neigh_arg {
	bool v6;
	uint32_t addr;
	struct ip6_addr addr6;
	const char *text;
};

/** The addr= of an arp (IPv4) or ndp (IPv6, no scope: port= names the port) request, or ffs_ctl_fail's result in *rc. */
static bool neigh_addr_arg(const struct ffs_ctl_req *req, struct ffs_json *out, bool v6, struct neigh_arg *n, int *rc)
{
	*n = (struct neigh_arg){ .v6 = v6, .text = ffs_ctl_arg(req, "addr") };
	if (!v6)
		return addr_arg(req, out, &n->addr, rc);
	if (!n->text) {
		*rc = ffs_ctl_fail(out, EINVAL, "%s: addr= is required", req->cmd);
		return false;
	}
	if (ip6_parse(n->text, &n->addr6) != 0) {
		*rc = ffs_ctl_fail(out, EINVAL, "bad address '%s' (an IPv6 address)", n->text);
		return false;
	}
	return true;
}

/** The first port the neighbour is on-link on (IPv4: its subnet; IPv6: link-local, or a prefix), or -1. */
static int port_on_link(const struct ffs_stack *st, const struct neigh_arg *n)
{
	for (unsigned i = 0; i < st->n_ports; i++)
		if (n->v6 ? route6_on_link(st, i, &n->addr6) : route_on_link(st, (uint16_t)i, n->addr))
			return (int)i;
	return -1;
}

/** The neighbour's address as the "addr" of a reply (an IPv6 one in RFC 5952 text). */
static void neigh_kv_addr(struct ffs_json *out, const struct neigh_arg *n)
{
	char a[IP6_ADDRSTRLEN];
	if (n->v6)
		ffs_json_kv_str(out, "addr", ip6_format(&n->addr6, a));
	else
		ffs_json_kv_ipv4(out, "addr", n->addr);
}

/** arp.add and ndp.add: a permanent entry on every lcore, on port= or the first port the address is on-link on. */
static int neigh_add(struct ffs_stack *st, const struct ffs_ctl_req *req, struct ffs_json *out, bool v6)
{
	struct neigh_arg n;
	int rc;
	if (!neigh_addr_arg(req, out, v6, &n, &rc))
		return rc;
	const char *mac_s = ffs_ctl_arg(req, "mac");
	struct rte_ether_addr mac;
	if (!mac_s || rte_ether_unformat_addr(mac_s, &mac) != 0)
		return ffs_ctl_fail(out, EINVAL, "bad MAC address '%s' (aa:bb:cc:dd:ee:ff)", mac_s ? mac_s : "");
	if (rte_is_multicast_ether_addr(&mac) || rte_is_zero_ether_addr(&mac))
		return ffs_ctl_fail(out, EINVAL, "%s is not a unicast MAC address", mac_s);
	int idx = port_arg(st, req, out, port_on_link(st, &n));
	if (idx < 0)
		return ffs_ctl_arg(req, "port") ? idx
			: ffs_ctl_fail(out, ENETUNREACH, v6 ? "%s is not on-link (neither link-local nor on a prefix of a port)"
							    : "%s is not on a connected subnet", n.text);
	const uint16_t port_id = st->ports[idx].port_id;
	struct eth_addr m;
	memcpy(m.b, mac.addr_bytes, ETH_ADDR_LEN);
	rc = v6 ? ffs_stack_neigh6_add(st, port_id, &n.addr6, &m) : ffs_stack_neigh_add(st, port_id, n.addr, &m);
	if (rc == -EINVAL && v6)
		return ffs_ctl_fail(out, EINVAL, "%s is not a neighbour on port%u's link (a unicast address, link-local or on "
				    "one of its prefixes, not its own)", n.text, port_id);
	if (rc == -EINVAL)
		return ffs_ctl_fail(out, EINVAL, "%s is not a neighbour on port%u's subnet", n.text, port_id);
	if (rc == -ENOENT && v6)
		return ffs_ctl_fail(out, ENOENT, "IPv6 is off on port%u ([port%u] ipv6 = 0)", port_id, port_id);
	if (rc < 0)
		return ffs_ctl_fail(out, -rc, "%s %s: %s", req->cmd, n.text, strerror(-rc));
	ffs_json_obj_begin(out);
	ffs_json_kv_u64(out, "port", port_id);
	neigh_kv_addr(out, &n);
	ffs_json_kv_mac(out, "mac", &m);
	ffs_json_kv_str(out, "state", "permanent");
	ffs_json_obj_end(out);
	return 0;
}

/** arp.del and ndp.del: removes the entry from every port, or from port= alone; none is an error. */
static int neigh_del(struct ffs_stack *st, const struct ffs_ctl_req *req, struct ffs_json *out, bool v6)
{
	struct neigh_arg n;
	int rc;
	if (!neigh_addr_arg(req, out, v6, &n, &rc))
		return rc;
	int only;
	if ((rc = port_filter(st, req, out, &only)) != 0)
		return rc;
	int removed = 0;
	for (unsigned i = 0; i < st->n_ports; i++) {
		if (only >= 0 && (unsigned)only != i)
			continue;
		uint16_t port_id = st->ports[i].port_id;
		rc = v6 ? ffs_stack_neigh6_del(st, port_id, &n.addr6) : ffs_stack_neigh_del(st, port_id, n.addr);
		if (rc < 0)
			return ffs_ctl_fail(out, -rc, "%s %s: %s", req->cmd, n.text, strerror(-rc));
		removed += rc;
	}
	if (!removed)
		return ffs_ctl_fail(out, ENOENT, "no %s entry for %s", v6 ? "NDP" : "ARP", n.text);
	ffs_json_obj_begin(out);
	neigh_kv_addr(out, &n);
	ffs_json_kv_u64(out, "removed", (uint64_t)removed);
	ffs_json_obj_end(out);
	return 0;
}

static int cmd_arp_add(struct ffs_stack *st, const struct ffs_ctl_req *req, struct ffs_json *out)
{
	return neigh_add(st, req, out, false);
}

static int cmd_arp_del(struct ffs_stack *st, const struct ffs_ctl_req *req, struct ffs_json *out)
{
	return neigh_del(st, req, out, false);
}

static int cmd_ndp_add(struct ffs_stack *st, const struct ffs_ctl_req *req, struct ffs_json *out)
{
	return neigh_add(st, req, out, true);
}

static int cmd_ndp_del(struct ffs_stack *st, const struct ffs_ctl_req *req, struct ffs_json *out)
{
	return neigh_del(st, req, out, true);
}

/** FreeBSD netstat -r's flags: U up, G gateway, S static; C for a port's connected subnet. */
static const char *route_flags(uint8_t f)
{
	if (f & FFS_ROUTE_CONNECTED)
		return "UC";
	return f & FFS_ROUTE_GATEWAY ? "UGS" : "US";
}

static int cmd_route_list(struct ffs_stack *st, const struct ffs_ctl_req *req, struct ffs_json *out)
{
	struct ffs_route_info r[FFS_MAX_ROUTES];
	int n = ffs_stack_route_dump(st, r, FFS_MAX_ROUTES);
	ffs_json_arr_begin(out);
	for (int i = 0; i < n; i++) {
		ffs_json_obj_begin(out);
		ffs_json_kv_ipv4(out, "dest", r[i].dest);
		ffs_json_kv_u64(out, "prefixlen", r[i].prefixlen);
		ffs_json_key(out, "gateway");
		if (r[i].gateway)
			ffs_json_ipv4(out, r[i].gateway);
		else
			ffs_json_null(out);
		ffs_json_kv_u64(out, "port", r[i].port_id);
		ffs_json_kv_str(out, "flags", route_flags(r[i].flags));
		ffs_json_key(out, "src");
		if (r[i].src)
			ffs_json_ipv4(out, r[i].src);
		else
			ffs_json_null(out);
		ffs_json_kv_u64(out, "metric", r[i].metric);
		ffs_json_obj_end(out);
	}
	ffs_json_arr_end(out);
	return 0;
}

/** FreeBSD netstat -rn -6's flags: U up, G gateway, S static; C a connected prefix, 1 learned from a
 *  router advertisement (FreeBSD's RTF_PROTO1). */
static const char *route6_flags(uint8_t f, char *buf)
{
	size_t n = 0;
	buf[n++] = 'U';
	if (f & FFS_ROUTE6_GATEWAY)
		buf[n++] = 'G';
	if (f & FFS_ROUTE6_STATIC)
		buf[n++] = 'S';
	if (f & FFS_ROUTE6_CONNECTED)
		buf[n++] = 'C';
	if (f & FFS_ROUTE6_ADVERTISED)
		buf[n++] = '1';
	buf[n] = '\0';
	return buf;
}

static int cmd_route6_list(struct ffs_stack *st, const struct ffs_ctl_req *req, struct ffs_json *out)
{
	(void)req;
	struct ffs_route6_info r[FFS_MAX_PREFIXES6 + FFS_MAX_ROUTERS6];
	unsigned n = route6_dump(st, r, FFS_MAX_PREFIXES6 + FFS_MAX_ROUTERS6);
	ffs_json_arr_begin(out);
	for (unsigned i = 0; i < n; i++) {
		char text[IP6_ADDRSTRLEN], flags[8];
		ffs_json_obj_begin(out);
		ffs_json_kv_str(out, "dest", ip6_format(&r[i].dest, text));
		ffs_json_kv_u64(out, "prefixlen", r[i].prefixlen);
		ffs_json_key(out, "gateway");
		if (r[i].flags & FFS_ROUTE6_GATEWAY)
			ffs_json_str(out, ip6_format(&r[i].gateway, text));
		else
			ffs_json_null(out);
		ffs_json_kv_u64(out, "port", r[i].port_id);
		ffs_json_kv_str(out, "flags", route6_flags(r[i].flags, flags));
		ffs_json_key(out, "expires_s");
		if (r[i].expires_s == UINT32_MAX)
			ffs_json_null(out);
		else
			ffs_json_u64(out, r[i].expires_s);
		ffs_json_obj_end(out);
	}
	ffs_json_arr_end(out);
	return 0;
}

/** The dest= of a route request, or ffs_ctl_fail's result in *rc. */
static bool dest_arg(const struct ffs_ctl_req *req, struct ffs_json *out, uint32_t *dest, unsigned *len, int *rc)
{
	const char *s = ffs_ctl_arg(req, "dest");
	if (!s || !ffs_ctl_parse_prefix(s, true, dest, len)) {
		*rc = ffs_ctl_fail(out, EINVAL, "bad destination '%s' (NET/LEN or default)", s ? s : "");
		return false;
	}
	if (*dest & ~route_mask(*len)) {
		*rc = ffs_ctl_fail(out, EINVAL, "%s has host bits set (the network of a /%u ends in zeros)", s, *len);
		return false;
	}
	return true;
}

/** The optional metric= of a route request (absent: *metric untouched), or ffs_ctl_fail's result in *rc. */
static bool metric_arg(const struct ffs_ctl_req *req, struct ffs_json *out, uint64_t *metric, int *rc)
{
	const char *s = ffs_ctl_arg(req, "metric");
	if (s && !ffs_ctl_parse_uint(s, 0, UINT32_MAX, metric)) {
		*rc = ffs_ctl_fail(out, EINVAL, "bad metric '%s' (0 to %u)", s, UINT32_MAX);
		return false;
	}
	return true;
}

/** The reply to a route change the command names no error for: the table after it, or the error. */
static int route_changed(struct ffs_stack *st, const struct ffs_ctl_req *req, struct ffs_json *out, int rc)
{
	if (rc == 0)
		return cmd_route_list(st, req, out);
	return ffs_ctl_fail(out, -rc, "route to %s: %s", ffs_ctl_arg(req, "dest"), strerror(-rc));
}

static int cmd_route_add(struct ffs_stack *st, const struct ffs_ctl_req *req, struct ffs_json *out)
{
	uint32_t dest, gw;
	unsigned len;
	int rc;
	if (!dest_arg(req, out, &dest, &len, &rc))
		return rc;
	const char *gw_s = ffs_ctl_arg(req, "gateway");
	if (!ffs_ctl_parse_ipv4(gw_s, &gw) || gw == 0)
		return ffs_ctl_fail(out, EINVAL, "bad gateway '%s'", gw_s ? gw_s : "");
	const char *src_s = ffs_ctl_arg(req, "src");
	uint32_t src = 0;
	if (src_s && (!ffs_ctl_parse_ipv4(src_s, &src) || src == 0))
		return ffs_ctl_fail(out, EINVAL, "bad source address '%s'", src_s);
	uint64_t metric = 0;
	if (!metric_arg(req, out, &metric, &rc))
		return rc;
	const char *d = ffs_ctl_arg(req, "dest");
	rc = ffs_stack_route_add_ex(st, dest, len, gw, src, (uint32_t)metric);
	switch (rc) {
	case -ENETUNREACH: return ffs_ctl_fail(out, ENETUNREACH, "gateway %s is not on a connected subnet", gw_s);
	case -EADDRNOTAVAIL: return ffs_ctl_fail(out, EADDRNOTAVAIL, "invalid source address %s (not one of the stack's addresses)", src_s);
	case -EEXIST: return ffs_ctl_fail(out, EEXIST, "a route to %s of metric %llu exists (delete it first, or give another metric)", d,
					  (unsigned long long)metric);
	case -ENOSPC: return ffs_ctl_fail(out, ENOSPC, "the routing table is full (%d routes)", FFS_MAX_ROUTES);
	default: return route_changed(st, req, out, rc);
	}
}

static int cmd_route_del(struct ffs_stack *st, const struct ffs_ctl_req *req, struct ffs_json *out)
{
	uint32_t dest;
	unsigned len;
	int rc;
	if (!dest_arg(req, out, &dest, &len, &rc))
		return rc;
	uint64_t metric = 0;
	bool any_metric = ffs_ctl_arg(req, "metric") == NULL;
	if (!metric_arg(req, out, &metric, &rc))
		return rc;
	const char *d = ffs_ctl_arg(req, "dest");
	rc = ffs_stack_route_del_ex(st, dest, len, any_metric ? FFS_ROUTE_ANY_METRIC : (int64_t)metric);
	switch (rc) {
	case -ESRCH: return any_metric ? ffs_ctl_fail(out, ESRCH, "no route to %s", d)
				       : ffs_ctl_fail(out, ESRCH, "no route to %s of metric %llu", d, (unsigned long long)metric);
	case -EPERM: return ffs_ctl_fail(out, EPERM, "%s is a connected route: it changes with its port's address (ifconfig)", d);
	default: return route_changed(st, req, out, rc);
	}
}

/**
 * An IPv6 addr= of ping, with an optional %portN scope (the port a link-local address is on, as in
 * fe80::1%port0). True when s holds a ':' (IPv6, parsed or failed into *rc); false for IPv4.
 */
static bool addr6_arg(const struct ffs_stack *st, const char *s, struct ffs_json *out, struct ip6_addr *a, int *scope,
		      int *rc)
{
	if (!s || !strchr(s, ':'))
		return false;
	char buf[IP6_ADDRSTRLEN + 16];
	snprintf(buf, sizeof(buf), "%s", s);
	char *pct = strchr(buf, '%');
	*scope = -1;
	*rc = 0;
	if (pct) {
		*pct = '\0';
		uint64_t n;
		if (strncmp(pct + 1, "port", 4) != 0 || !ffs_ctl_parse_uint(pct + 5, 0, UINT16_MAX, &n)) {
			*rc = ffs_ctl_fail(out, EINVAL, "bad scope '%s' (portN)", pct + 1);
			return true;
		}
		for (unsigned i = 0; i < st->n_ports; i++)
			if (st->ports[i].port_id == n)
				*scope = (int)i;
		if (*scope < 0) {
			*rc = ffs_ctl_fail(out, ENODEV, "no port%" PRIu64, n);
			return true;
		}
	}
	if (ip6_parse(buf, a) != 0)
		*rc = ffs_ctl_fail(out, EINVAL, "bad address '%s'", s);
	else if (ip6_is_linklocal(a) && *scope < 0)
		*scope = 0; /* a link-local address without a scope: the first port, as ping6 on one link */
	return true;
}

static int cmd_ping(struct ffs_stack *st, const struct ffs_ctl_req *req, struct ffs_json *out)
{
	uint32_t dst = 0;
	struct ip6_addr dst6;
	int scope = -1;
	int rc = 0;
	bool v6 = addr6_arg(st, ffs_ctl_arg(req, "addr"), out, &dst6, &scope, &rc);
	if (rc != 0 || (!v6 && !addr_arg(req, out, &dst, &rc)))
		return rc;
	uint64_t seq = 0, size = 56, timeout = 1000, ttl = 0;
	const struct {
		const char *key;
		uint64_t min, max, *value;
		const char *unit;
	} opts[] = {
		{ "seq", 0, UINT16_MAX, &seq, "" },
		/* 65507: the most ICMP payload one IPv4 datagram carries (65535 - 20 - 8); IPv6's payload
		 * length excludes its header: 65535 - 8. */
		{ "size", 0, v6 ? 65527 : 65507, &size, " bytes" },
		{ "timeout_ms", 1, 60000, &timeout, "" },
		{ "ttl", 1, 255, &ttl, "" },
	};
	for (size_t i = 0; i < sizeof(opts) / sizeof(opts[0]); i++) {
		const char *s = ffs_ctl_arg(req, opts[i].key);
		if (s && !ffs_ctl_parse_uint(s, opts[i].min, opts[i].max, opts[i].value))
			return ffs_ctl_fail(out, ERANGE, "%s %s is out of range (%" PRIu64 "..%" PRIu64 "%s)", opts[i].key, s,
					    opts[i].min, opts[i].max, opts[i].unit);
	}
	struct ffs_ping_result r;
	const char *a = ffs_ctl_arg(req, "addr");
	rc = v6 ? ffs_stack_ping6_wait(st, &dst6, scope, (uint16_t)seq, (uint16_t)size, (uint8_t)ttl, (unsigned)timeout,
				       req->stopping, &r)
		: ffs_stack_ping_wait(st, dst, (uint16_t)seq, (uint16_t)size, (uint8_t)ttl, (unsigned)timeout, req->stopping, &r);
	switch (rc) {
	case 0: break;
	case -ETIMEDOUT: return ffs_ctl_fail(out, ETIMEDOUT, "no reply from %s within %" PRIu64 " ms", a, timeout);
	case -ENETUNREACH: return ffs_ctl_fail(out, ENETUNREACH, "no route to %s", a);
	case -EHOSTDOWN: return ffs_ctl_fail(out, EHOSTDOWN, "%s does not answer %s", a, v6 ? "Neighbor Discovery" : "ARP");
	case -EBUSY: return ffs_ctl_fail(out, EBUSY, "%d pings already wait for replies", FFS_MAX_PING_WAITERS);
	case -ECANCELED: return ffs_ctl_fail(out, ECANCELED, "the stack is stopping");
	default: return ffs_ctl_fail(out, -rc, "ping %s: %s", a, strerror(-rc));
	}
	ffs_json_obj_begin(out);
	if (r.v6) {
		char f[IP6_ADDRSTRLEN];
		ffs_json_kv_str(out, "from", ip6_format(&r.from6, f));
	} else {
		ffs_json_kv_ipv4(out, "from", r.from);
	}
	ffs_json_kv_u64(out, "bytes", r.bytes);
	ffs_json_kv_u64(out, "seq", r.seq);
	ffs_json_kv_u64(out, "ttl", r.ttl);
	ffs_json_key(out, "rtt_us");
	if (r.rtt_us == UINT32_MAX) /* a payload too short to carry the send time */
		ffs_json_null(out);
	else
		ffs_json_u64(out, r.rtt_us);
	ffs_json_obj_end(out);
	return 0;
}

const struct ffs_ctl_cmd ffs_ctl_cmds_iface[] = {
	{ "ifconfig", cmd_ifconfig, "[port=N]: ports with addresses, MTU, flags, link, offloads and device counters" },
	{ "ifconfig.set", cmd_ifconfig_set,
	  "port=N [inet=A.B.C.D/LEN] [inet_alias=A.B.C.D/LEN] [inet_alias_delete=A.B.C.D] [inet6=ADDR/LEN] [inet6_delete=ADDR] "
	  "[mtu=N] [state=up|down]: changes a port at once" },
	{ "arp.list", cmd_arp_list, "the neighbour cache: state, expiry, packets held" },
	{ "arp.add", cmd_arp_add, "addr=A mac=M [port=N]: a permanent entry" },
	{ "arp.del", cmd_arp_del, "addr=A [port=N]: removes an entry" },
	{ "ndp.list", cmd_ndp_list, "the IPv6 neighbour cache (Neighbor Discovery): state, expiry, packets held" },
	{ "ndp.add", cmd_ndp_add, "addr=A mac=M [port=N]: a permanent IPv6 entry (A link-local or on a prefix of the port)" },
	{ "ndp.del", cmd_ndp_del, "addr=A [port=N]: removes an IPv6 entry" },
	{ "route.list", cmd_route_list, "the routing table, longest prefix first" },
	{ "route6.list", cmd_route6_list, "the IPv6 routes: on-link prefixes (longest first), then default routers" },
	{ "route.add", cmd_route_add, "dest=NET/LEN|default gateway=GW [src=ADDR] [metric=N]: a static route" },
	{ "route.del", cmd_route_del, "dest=NET/LEN|default [metric=N]: removes a static route (the lowest metric without metric=)" },
	{ "ping", cmd_ping, "addr=A [seq=N] [size=56] [timeout_ms=1000] [ttl=N]: one echo request and its reply" },
	{ NULL },
};
