/*
 * Reply pieces shared by the control commands, and counter totals (report.h).
 */
#include <string.h>

#include "stack/ctl/report.h"

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
	ffs_json_kv_u64(out, "mtu", p->mtu);
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
