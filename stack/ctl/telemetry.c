/*
 * ffnet's figures on DPDK's telemetry socket (<runtime dir>/dpdk_telemetry.v2), so DPDK's own
 * dpdk-telemetry.py reads them beside the ethdev ones:
 *   /ffnet/info     pid, program, mode, lcore and port counts, uptime, versions
 *   /ffnet/stats    every counter, totalled over lcores
 *   /ffnet/sysctl   every tunable's value
 *   /ffnet/inet6    each port's IPv6 addresses ("ADDR/LEN state") under portN
 *   /ffnet/lcores   per-lcore arrays (index order) of the figures `ffnet top` shows; with a
 *                   parameter N (/ffnet/lcores,N), every counter of lcore N
 * Telemetry names allow only letters, digits, '_' and '/': a counter or tunable's dots become '_'
 * (eth.rx → eth_rx, net.inet.ip.ttl → net_inet_ip_ttl).
 *
 * Commands are registered once per process (DPDK keeps them for its life); they answer null while
 * no stack runs. The callbacks run on DPDK's telemetry thread: they look at the stack under a
 * mutex that ffs_ctl_stop takes before the stack is freed.
 */
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <rte_telemetry.h>
#include <rte_version.h>

#include "stack/ctl/report.h"
#include "stack/ctl/server.h"
#include "stack/iface/addr6.h"
#include "stack/lcore/lcore.h"

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct ffs_stack *current;
static pthread_once_t registered = PTHREAD_ONCE_INIT;

/** A telemetry-safe copy of a dotted name. */
static void tel_name(char *out, size_t len, const char *name)
{
	snprintf(out, len, "%s", name);
	for (char *p = out; *p; p++)
		if (*p == '.' || *p == '-')
			*p = '_';
}

/** The running stack with `lock` held, or NULL (and `lock` not held) while none runs. */
static struct ffs_stack *hold_current(void)
{
	pthread_mutex_lock(&lock);
	struct ffs_stack *st = current;
	if (!st)
		pthread_mutex_unlock(&lock);
	return st;
}

static int tel_info(const char *cmd, const char *params, struct rte_tel_data *d)
{
	struct ffs_stack *st = hold_current();
	if (!st)
		return -1;
	const struct ffs_ctl_cmdline *cl = ffs_ctl_cmdline(st);
	rte_tel_data_start_dict(d);
	rte_tel_data_add_dict_u64(d, "pid", (uint64_t)getpid());
	rte_tel_data_add_dict_string(d, "program", cl ? cl->program : "");
	rte_tel_data_add_dict_string(d, "mode", st->inline_mode ? "inline" : "dedicated");
	rte_tel_data_add_dict_u64(d, "lcores", st->n_lcores);
	rte_tel_data_add_dict_u64(d, "ports", st->n_ports);
	rte_tel_data_add_dict_string(d, "proc_type", st->secondary ? "secondary" : "primary");
	rte_tel_data_add_dict_u64(d, "started_ms", ffs_ctl_started_ms(st));
	rte_tel_data_add_dict_string(d, "control_socket", ffs_ctl_path(st));
	rte_tel_data_add_dict_string(d, "dpdk_version", rte_version());
#ifdef FFNET_VERSION
	rte_tel_data_add_dict_string(d, "ffnet_version", FFNET_VERSION);
#endif
	pthread_mutex_unlock(&lock);
	return 0;
}

static void add_counters(struct rte_tel_data *d, const struct ffs_counters *c)
{
	const uint64_t *v = (const uint64_t *)c;
	char name[RTE_TEL_MAX_STRING_LEN];
	for (unsigned k = 0; k < FFS_COUNTER_COUNT; k++) {
		tel_name(name, sizeof(name), ffs_counter_names[k]);
		rte_tel_data_add_dict_u64(d, name, v[k]);
	}
}

static int tel_stats(const char *cmd, const char *params, struct rte_tel_data *d)
{
	struct ffs_stack *st = hold_current();
	if (!st)
		return -1;
	struct ffs_counters total;
	ffs_ctl_counters_total(st, NULL, NULL, &total);
	pthread_mutex_unlock(&lock);
	rte_tel_data_start_dict(d);
	add_counters(d, &total);
	return 0;
}

static int tel_sysctl(const char *cmd, const char *params, struct rte_tel_data *d)
{
	struct ffs_stack *st = hold_current();
	if (!st)
		return -1;
	rte_tel_data_start_dict(d);
	char name[RTE_TEL_MAX_STRING_LEN];
	for (int id = 0; id < FFS_SYSCTL_COUNT; id++) {
		tel_name(name, sizeof(name), ffs_sysctl_table[id].name);
		/* Every tunable's range starts at 0 or above. */
		rte_tel_data_add_dict_u64(d, name, (uint64_t)ffs_stack_sysctl_get(st, id));
	}
	pthread_mutex_unlock(&lock);
	return 0;
}

/** The figures /ffnet/lcores lists per lcore, as arrays in lcore index order. */
static const struct {
	const char *name;
	enum ffs_counter_index ctr;
} lcore_columns[] = {
	{ "loop_turns", FFS_CTR_loop_turns },   { "loop_busy_ns", FFS_CTR_loop_busy_ns },
	{ "loop_idle_sleeps", FFS_CTR_loop_idle_sleeps }, { "eth_rx", FFS_CTR_eth_rx },
	{ "eth_tx", FFS_CTR_eth_tx },           { "udp_delivered", FFS_CTR_udp_delivered },
	{ "udp_tx", FFS_CTR_udp_tx },
};

/** An array of n values under `name` in dict d. 0, or -1 when out of memory. */
static int add_column(struct rte_tel_data *d, const char *name, const uint64_t *v, unsigned n)
{
	struct rte_tel_data *col = rte_tel_data_alloc();
	if (!col)
		return -1;
	rte_tel_data_start_array(col, RTE_TEL_U64_VAL);
	for (unsigned i = 0; i < n; i++)
		rte_tel_data_add_array_u64(col, v[i]);
	rte_tel_data_add_dict_container(d, name, col, 0);
	return 0;
}

static int tel_lcores(const char *cmd, const char *params, struct rte_tel_data *d)
{
	struct ffs_stack *st = hold_current();
	if (!st)
		return -1;
	unsigned n = st->n_lcores;
	struct ffs_counters ctr[FFS_MAX_LCORES], total;
	unsigned ids[FFS_MAX_LCORES];
	ffs_ctl_counters_total(st, ctr, ids, &total);
	pthread_mutex_unlock(&lock);

	rte_tel_data_start_dict(d);
	if (params && *params) {
		char *end;
		unsigned long i = strtoul(params, &end, 10);
		if (*end || i >= n)
			return -1;
		rte_tel_data_add_dict_u64(d, "index", i);
		rte_tel_data_add_dict_u64(d, "lcore_id", ids[i]);
		add_counters(d, &ctr[i]);
		return 0;
	}
	uint64_t col[FFS_MAX_LCORES];
	for (unsigned i = 0; i < n; i++)
		col[i] = ids[i];
	if (add_column(d, "lcore_id", col, n) != 0)
		return -1;
	for (size_t c = 0; c < sizeof(lcore_columns) / sizeof(lcore_columns[0]); c++) {
		for (unsigned i = 0; i < n; i++)
			col[i] = ((const uint64_t *)&ctr[i])[lcore_columns[c].ctr];
		if (add_column(d, lcore_columns[c].name, col, n) != 0)
			return -1;
	}
	return 0;
}

/** Each port's IPv6 addresses, "ADDR/LEN state" (link-local ones with their %portN), under portN. */
static int tel_inet6(const char *cmd, const char *params, struct rte_tel_data *d)
{
	struct ffs_stack *st = hold_current();
	if (!st)
		return -1;
	int rc = 0;
	rte_tel_data_start_dict(d);
	for (unsigned i = 0; i < st->n_ports && rc == 0; i++) {
		struct ffs_addr6_info a[FFS_MAX_ADDR6];
		unsigned n = addr6_list(st, i, a, FFS_MAX_ADDR6);
		struct rte_tel_data *list = rte_tel_data_alloc();
		if (!list) {
			rc = -1;
			break;
		}
		rte_tel_data_start_array(list, RTE_TEL_STRING_VAL);
		char name[16], text[IP6_ADDRSTRLEN], entry[RTE_TEL_MAX_STRING_LEN];
		snprintf(name, sizeof(name), "port%u", st->ports[i].port_id);
		for (unsigned k = 0; k < n; k++) {
			snprintf(entry, sizeof(entry), "%s%s%s/%u %s", ip6_format(&a[k].addr, text), ip6_is_linklocal(&a[k].addr) ? "%" : "",
				 ip6_is_linklocal(&a[k].addr) ? name : "", a[k].prefixlen, addr6_state_name(a[k].state));
			rte_tel_data_add_array_string(list, entry);
		}
		rte_tel_data_add_dict_container(d, name, list, 0);
	}
	pthread_mutex_unlock(&lock);
	return rc;
}

static void register_cmds(void)
{
	rte_telemetry_register_cmd("/ffnet/info", tel_info, "ffnet: the stack of this process. No parameters");
	rte_telemetry_register_cmd("/ffnet/stats", tel_stats, "ffnet: every counter, totalled over lcores. No parameters");
	rte_telemetry_register_cmd("/ffnet/sysctl", tel_sysctl, "ffnet: every tunable's value. No parameters");
	rte_telemetry_register_cmd("/ffnet/inet6", tel_inet6, "ffnet: each port's IPv6 addresses with prefix length and state. No parameters");
	rte_telemetry_register_cmd("/ffnet/lcores", tel_lcores,
				   "ffnet: per-lcore turns, busy ns, packets (arrays by lcore index). Parameter: an index for all of its counters");
}

void ffs_ctl_telemetry_attach(struct ffs_stack *st)
{
	pthread_once(&registered, register_cmds);
	pthread_mutex_lock(&lock);
	current = st;
	pthread_mutex_unlock(&lock);
}
