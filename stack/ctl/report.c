/*
 * Reply pieces shared by the control commands, and counter totals (report.h).
 */
#include <string.h>

#include "stack/ctl/report.h"
#include "stack/iface/addr6.h"
#include "stack/iface/route6.h"
#include "stack/lcore/lcore.h"

void ffs_ctl_port_brief(struct ffs_json *out, const struct ffs_stack *st, unsigned i)
{
	ffs_json_obj_begin(out);
	ffs_json_kv_u64(out, "index", i);
	ffs_json_kv_u64(out, "port_id", st->ports[i].port_id);
	ffs_json_kv_str(out, "name", st->ports[i].name);
	ffs_json_obj_end(out);
}

void ffs_ctl_kv_port_addrs(struct ffs_json *out, const struct ffs_port_info *p)
{
	ffs_json_kv_str(out, "driver", p->driver);
	ffs_json_kv_mac(out, "mac", &p->mac);
	ffs_json_kv_ipv4(out, "inet", p->addr);
	ffs_json_kv_u64(out, "prefixlen", (uint64_t)__builtin_popcount(p->netmask));
	ffs_json_kv_ipv4(out, "netmask", p->netmask);
	ffs_json_kv_ipv4(out, "broadcast", p->broadcast);
	/* Its further addresses ([portN] vip_addr), which FreeBSD's ifconfig shows as further inet lines. */
	ffs_json_key(out, "inet_aliases");
	ffs_json_arr_begin(out);
	for (unsigned k = 0; k < p->n_vip; k++) {
		ffs_json_obj_begin(out);
		ffs_json_kv_ipv4(out, "inet", p->vip[k].addr);
		ffs_json_kv_u64(out, "prefixlen", (uint64_t)__builtin_popcount(p->vip[k].netmask));
		ffs_json_kv_ipv4(out, "netmask", p->vip[k].netmask);
		ffs_json_kv_ipv4(out, "broadcast", p->vip[k].broadcast);
		ffs_json_obj_end(out);
	}
	ffs_json_arr_end(out);
	ffs_json_kv_u64(out, "mtu", p->mtu);
	/* 802.1Q: the port's VID (0 = untagged) and whether the device or the stack tags and untags. */
	ffs_json_kv_u64(out, "vlan", p->vlan_id);
	ffs_json_kv_bool(out, "vlan_hw_rx", p->vlan_rx_offload);
	ffs_json_kv_bool(out, "vlan_hw_tx", p->vlan_tx_offload);
}

/** FreeBSD ifconfig's words for an address's state and origin (in6_var.h's IN6_IFF_* flags). */
static void addr6_flags(struct ffs_json *out, const struct ffs_addr6_info *a)
{
	ffs_json_arr_begin(out);
	if (a->state == ADDR6_TENTATIVE)
		ffs_json_str(out, "tentative");
	if (a->state == ADDR6_DUPLICATED)
		ffs_json_str(out, "duplicated");
	if (a->state == ADDR6_DEPRECATED)
		ffs_json_str(out, "deprecated");
	if (a->origin == ADDR6_AUTOCONF)
		ffs_json_str(out, "autoconf");
	ffs_json_arr_end(out);
}

void ffs_ctl_kv_port_inet6(struct ffs_json *out, const struct ffs_stack *st, unsigned i)
{
	static const char *const origin[] = { "linklocal", "static", "autoconf" };
	ffs_json_kv_bool(out, "ipv6", !st->conf.ports[i].ipv6_off);
	/* What router advertisements changed: the link MTU and the hop limit IPv6 packets leave with. */
	ffs_json_kv_u64(out, "mtu6", route6_link_mtu(st, i));
	ffs_json_kv_u64(out, "hoplimit6", route6_hop_limit(st, i));
	ffs_json_key(out, "inet6");
	ffs_json_arr_begin(out);
	struct ffs_addr6_info a[FFS_MAX_ADDR6];
	unsigned n = addr6_list(st, i, a, FFS_MAX_ADDR6);
	for (unsigned k = 0; k < n; k++) {
		char text[IP6_ADDRSTRLEN];
		ffs_json_obj_begin(out);
		ffs_json_kv_str(out, "addr", ip6_format(&a[k].addr, text));
		ffs_json_kv_u64(out, "prefixlen", a[k].prefixlen);
		/* FreeBSD's scope id of a link-local address is its interface index, from 1. */
		ffs_json_key(out, "scopeid");
		if (ip6_is_linklocal(&a[k].addr))
			ffs_json_u64(out, i + 1);
		else
			ffs_json_null(out);
		ffs_json_kv_str(out, "state", addr6_state_name(a[k].state));
		ffs_json_kv_str(out, "origin", origin[a[k].origin]);
		ffs_json_key(out, "flags");
		addr6_flags(out, &a[k]);
		ffs_json_key(out, "valid_s");
		a[k].valid_s == ADDR6_INFINITE ? ffs_json_null(out) : ffs_json_u64(out, a[k].valid_s);
		ffs_json_key(out, "preferred_s");
		a[k].preferred_s == ADDR6_INFINITE ? ffs_json_null(out) : ffs_json_u64(out, a[k].preferred_s);
		ffs_json_obj_end(out);
	}
	ffs_json_arr_end(out);
}

void ffs_ctl_kv_port_stats(struct ffs_json *out, const struct ffs_port_info *p)
{
	ffs_json_key(out, "stats");
	ffs_json_obj_begin(out);
	ffs_json_kv_u64(out, "ipackets", p->ipackets);
	ffs_json_kv_u64(out, "opackets", p->opackets);
	ffs_json_kv_u64(out, "ibytes", p->ibytes);
	ffs_json_kv_u64(out, "obytes", p->obytes);
	ffs_json_kv_u64(out, "ierrors", p->ierrors);
	ffs_json_kv_u64(out, "oerrors", p->oerrors);
	ffs_json_kv_u64(out, "imissed", p->imissed);
	ffs_json_kv_u64(out, "rx_nombuf", p->rx_nombuf);
	ffs_json_obj_end(out);
}

void ffs_ctl_counters_total(const struct ffs_stack *st, struct ffs_counters *per, unsigned *ids,
			    struct ffs_counters *total)
{
	memset(total, 0, sizeof(*total));
	uint64_t *t = (uint64_t *)total;
	for (unsigned i = 0; i < st->n_lcores; i++) {
		struct ffs_counters one;
		unsigned id = ffs_stack_counters(st, i, &one);
		const uint64_t *v = (const uint64_t *)&one;
		for (unsigned k = 0; k < FFS_COUNTER_COUNT; k++)
			t[k] += v[k];
		if (per)
			per[i] = one;
		if (ids)
			ids[i] = id;
	}
}
