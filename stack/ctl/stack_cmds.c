/*
 * The stack's own commands of the control server (ctl.h): info (who runs, where), stats (every
 * counter, totalled and per lcore). Counters are read as any thread may read them (lcore/counters.h).
 */
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <rte_eal.h>
#include <rte_version.h>

#include "stack/ctl/server.h"
#include "stack/lcore/lcore.h"

#ifndef FFNET_VERSION
#define FFNET_VERSION "unknown"
#endif

static uint64_t monotonic_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int cmd_info(struct ffs_stack *st, const struct ffs_ctl_req *req, struct ffs_json *out)
{
	const struct ffs_ctl_cmdline *cl = ffs_ctl_cmdline(st);
	const char *dir = rte_eal_get_runtime_dir();
	const char *prefix = strrchr(dir, '/') ? strrchr(dir, '/') + 1 : dir;
	struct timespec now;
	clock_gettime(CLOCK_REALTIME, &now);
	uint64_t now_ms = (uint64_t)now.tv_sec * 1000 + (uint64_t)now.tv_nsec / 1000000;
	uint64_t started = ffs_ctl_started_ms(st);

	ffs_json_obj_begin(out);
	ffs_json_kv_i64(out, "pid", getpid());
	ffs_json_kv_str(out, "program", cl ? cl->program : "");
	ffs_json_key(out, "argv");
	ffs_json_arr_begin(out);
	for (unsigned i = 0; cl && i < cl->argc; i++)
		ffs_json_str(out, cl->argv[i]);
	ffs_json_arr_end(out);
	ffs_json_kv_u64(out, "uid", getuid());
	ffs_json_kv_u64(out, "started_ms", started);
	ffs_json_kv_u64(out, "uptime_ms", now_ms > started ? now_ms - started : 0);
	ffs_json_kv_str(out, "file_prefix", prefix);
	ffs_json_kv_str(out, "runtime_dir", dir);
	ffs_json_kv_str(out, "mode", st->inline_mode ? "inline" : "dedicated");
	ffs_json_key(out, "lcores");
	ffs_json_arr_begin(out);
	for (unsigned i = 0; i < st->n_lcores; i++) {
		ffs_json_obj_begin(out);
		ffs_json_kv_u64(out, "index", i);
		ffs_json_kv_u64(out, "lcore_id", st->lcores[i]->lcore_id);
		ffs_json_obj_end(out);
	}
	ffs_json_arr_end(out);
	ffs_json_key(out, "ports");
	ffs_json_arr_begin(out);
	for (unsigned i = 0; i < st->n_ports; i++) {
		ffs_json_obj_begin(out);
		ffs_json_kv_u64(out, "index", i);
		ffs_json_kv_u64(out, "port_id", st->ports[i].port_id);
		ffs_json_kv_str(out, "name", st->ports[i].name);
		ffs_json_obj_end(out);
	}
	ffs_json_arr_end(out);
	ffs_json_kv_str(out, "proc_type", st->secondary ? "secondary" : "primary");
	ffs_json_kv_i64(out, "proc_queue", st->proc_queue);
	ffs_json_kv_str(out, "dpdk_version", rte_version());
	ffs_json_kv_str(out, "ffnet_version", FFNET_VERSION);
	ffs_json_obj_end(out);
	return 0;
}

static void counters_obj(struct ffs_json *out, const struct ffs_counters *c)
{
	const uint64_t *v = (const uint64_t *)c;
	ffs_json_obj_begin(out);
	for (unsigned k = 0; k < FFS_COUNTER_COUNT; k++)
		ffs_json_kv_u64(out, ffs_counter_names[k], v[k]);
	ffs_json_obj_end(out);
}

static int cmd_stats(struct ffs_stack *st, const struct ffs_ctl_req *req, struct ffs_json *out)
{
	struct ffs_counters per[FFS_MAX_LCORES], total;
	unsigned ids[FFS_MAX_LCORES];
	memset(&total, 0, sizeof(total));
	uint64_t now = monotonic_ns();
	for (unsigned i = 0; i < st->n_lcores; i++) {
		ids[i] = ffs_stack_counters(st, i, &per[i]);
		const uint64_t *v = (const uint64_t *)&per[i];
		uint64_t *t = (uint64_t *)&total;
		for (unsigned k = 0; k < FFS_COUNTER_COUNT; k++)
			t[k] += v[k];
	}
	ffs_json_obj_begin(out);
	ffs_json_kv_u64(out, "now_ns", now);
	ffs_json_key(out, "counters");
	counters_obj(out, &total);
	ffs_json_key(out, "lcores");
	ffs_json_arr_begin(out);
	for (unsigned i = 0; i < st->n_lcores; i++) {
		ffs_json_obj_begin(out);
		ffs_json_kv_u64(out, "index", i);
		ffs_json_kv_u64(out, "lcore_id", ids[i]);
		ffs_json_key(out, "counters");
		counters_obj(out, &per[i]);
		ffs_json_obj_end(out);
	}
	ffs_json_arr_end(out);
	ffs_json_obj_end(out);
	return 0;
}

const struct ffs_ctl_cmd ffs_ctl_cmds_stack[] = {
	{ "info", cmd_info, "the process, its lcores and ports" },
	{ "stats", cmd_stats, "every counter, in total and per lcore" },
	{ NULL },
};
