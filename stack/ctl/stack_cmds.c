/*
 * The stack's own commands of the control server (ctl.h): info (who runs, where), stats (every
 * counter, totalled and per lcore), sysctl.list/get/set (the tunables, range-checked by the stack's
 * own table, lcore/sysctl.h), ports (addresses, link, device counters), sockets (the open UDP
 * sockets). Counters are read as any thread may read them (lcore/counters.h); sockets under the
 * namespace lock, which keeps them allocated.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <rte_eal.h>
#include <rte_ring.h>
#include <rte_version.h>

#include "stack/ctl/report.h"
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
	for (unsigned i = 0; i < st->n_ports; i++)
		ffs_ctl_port_brief(out, st, i);
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
	uint64_t now = monotonic_ns();
	ffs_ctl_counters_total(st, per, ids, &total);
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
	/* docs=1: each counter's one-line description, for output for people (netstat -s). */
	const char *docs = ffs_ctl_arg(req, "docs");
	if (docs && strcmp(docs, "0") != 0) {
		ffs_json_key(out, "docs");
		ffs_json_obj_begin(out);
		for (unsigned k = 0; k < FFS_COUNTER_COUNT; k++)
			ffs_json_kv_str(out, ffs_counter_names[k], ffs_counter_docs[k]);
		ffs_json_obj_end(out);
	}
	ffs_json_obj_end(out);
	return 0;
}

static void sysctl_obj(struct ffs_stack *st, int id, struct ffs_json *out)
{
	const struct ffs_sysctl_desc *d = &ffs_sysctl_table[id];
	ffs_json_obj_begin(out);
	ffs_json_kv_str(out, "name", d->name);
	ffs_json_kv_i64(out, "value", ffs_stack_sysctl_get(st, id));
	ffs_json_kv_i64(out, "default", d->def);
	ffs_json_kv_i64(out, "min", d->min);
	ffs_json_kv_i64(out, "max", d->max);
	ffs_json_kv_str(out, "unit", d->unit);
	ffs_json_kv_str(out, "description", d->doc);
	ffs_json_obj_end(out);
}

/** The tunable the request's name= names, or ffs_ctl_fail's result. */
static int sysctl_arg(const struct ffs_ctl_req *req, struct ffs_json *out)
{
	const char *name = ffs_ctl_arg(req, "name");
	if (!name)
		return ffs_ctl_fail(out, EINVAL, "%s: name= is required", req->cmd);
	int id = ffs_sysctl_find(name);
	if (id < 0)
		return ffs_ctl_fail(out, ENOENT, "unknown tunable %s", name);
	return id;
}

static int cmd_sysctl_list(struct ffs_stack *st, const struct ffs_ctl_req *req, struct ffs_json *out)
{
	ffs_json_arr_begin(out);
	for (int id = 0; id < FFS_SYSCTL_COUNT; id++)
		sysctl_obj(st, id, out);
	ffs_json_arr_end(out);
	return 0;
}

static int cmd_sysctl_get(struct ffs_stack *st, const struct ffs_ctl_req *req, struct ffs_json *out)
{
	int id = sysctl_arg(req, out);
	if (id < 0)
		return id;
	sysctl_obj(st, id, out);
	return 0;
}

static int cmd_sysctl_set(struct ffs_stack *st, const struct ffs_ctl_req *req, struct ffs_json *out)
{
	int id = sysctl_arg(req, out);
	if (id < 0)
		return id;
	const struct ffs_sysctl_desc *d = &ffs_sysctl_table[id];
	const char *text = ffs_ctl_arg(req, "value");
	if (!text || !*text)
		return ffs_ctl_fail(out, EINVAL, "%s: value= is required", d->name);
	char *end;
	errno = 0;
	long long v = strtoll(text, &end, 10);
	if (*end)
		return ffs_ctl_fail(out, EINVAL, "%s: '%s' is not an integer", d->name, text);
	if (errno == ERANGE || v < d->min || v > d->max)
		return ffs_ctl_fail(out, ERANGE, "%s: %s is out of range (%" PRId64 "..%" PRId64 "%s%s)", d->name, text, d->min,
				    d->max, *d->unit ? " " : "", d->unit);
	int64_t old = ffs_stack_sysctl_get(st, id);
	int rc = ffs_stack_sysctl_set(st, id, v);
	if (rc < 0)
		return ffs_ctl_fail(out, -rc, "%s: %s", d->name, strerror(-rc));
	ffs_json_obj_begin(out);
	ffs_json_kv_str(out, "name", d->name);
	ffs_json_kv_i64(out, "old", old);
	ffs_json_kv_i64(out, "value", ffs_stack_sysctl_get(st, id));
	ffs_json_obj_end(out);
	return 0;
}

static void sock_obj(struct ffs_stack *st, const struct ffs_sock *so, struct ffs_json *out)
{
	ffs_json_obj_begin(out);
	ffs_json_kv_u64(out, "fd", so->id);
	/* An AF_INET6 socket is udp6 with its IPv6 view of the addresses, v4-mapped ones included. */
	char text[IP6_ADDRSTRLEN];
	ffs_json_kv_str(out, "proto", so->v6 ? "udp6" : "udp4");
	if (so->v6)
		ffs_json_kv_str(out, "local", ip6_format(ffs_in6(so->laddr6), text));
	else
		ffs_json_kv_ipv4(out, "local", so->laddr);
	ffs_json_kv_u64(out, "lport", so->lport);
	ffs_json_key(out, "remote");
	if (so->connected && so->v6)
		ffs_json_str(out, ip6_format(ffs_in6(so->raddr6), text));
	else if (so->connected)
		ffs_json_ipv4(out, so->raddr);
	else
		ffs_json_null(out);
	ffs_json_kv_u64(out, "rport", so->connected ? so->rport : 0);
	ffs_json_kv_u64(out, "rx_queue", rte_ring_count(so->rx) + (so->peeked ? 1 : 0));
	ffs_json_kv_i64(out, "rx_bytes", atomic_load_explicit(&((struct ffs_sock *)so)->rx_bytes, memory_order_relaxed));
	ffs_json_kv_i64(out, "rcvbuf", so->rcvbuf);
	ffs_json_kv_i64(out, "tx_queue", atomic_load_explicit(&((struct ffs_sock *)so)->tx_count, memory_order_relaxed));
	ffs_json_key(out, "owner");
	ffs_json_obj_begin(out);
	ffs_json_kv_i64(out, "tid", so->owner_tid);
	ffs_json_kv_str(out, "thread", so->owner_thread);
	ffs_json_obj_end(out);
	ffs_json_kv_u64(out, "lcore", so->app ? so->app->home % st->n_lcores : so->tx_lcore);
	ffs_json_kv_bool(out, "reuseport", so->reuseport);
	ffs_json_kv_u64(out, "drops", atomic_load_explicit(&((struct ffs_sock *)so)->rx_dropped, memory_order_relaxed));
	ffs_json_obj_end(out);
}

static int cmd_sockets(struct ffs_stack *st, const struct ffs_ctl_req *req, struct ffs_json *out)
{
	ffs_json_arr_begin(out);
	/* Under ns_lock a socket in the table is open: close takes it out under the same lock, and frees
	 * it only after a grace period. */
	pthread_mutex_lock(&st->ns_lock);
	for (unsigned id = 0; id < FFS_MAX_SOCKS; id++)
		if (st->socks[id])
			sock_obj(st, st->socks[id], out);
	pthread_mutex_unlock(&st->ns_lock);
	ffs_json_arr_end(out);
	return 0;
}

static int cmd_ports(struct ffs_stack *st, const struct ffs_ctl_req *req, struct ffs_json *out)
{
	ffs_json_arr_begin(out);
	for (unsigned i = 0; i < ffs_stack_port_count(st); i++) {
		struct ffs_port_info p;
		ffs_stack_port_info(st, i, &p);
		ffs_json_obj_begin(out);
		ffs_json_kv_u64(out, "index", i);
		ffs_json_kv_str(out, "name", p.name);
		ffs_json_kv_u64(out, "port_id", p.port_id);
		ffs_ctl_kv_port_addrs(out, &p);
		ffs_ctl_kv_port_inet6(out, st, i);
		ffs_json_key(out, "link");
		ffs_json_obj_begin(out);
		ffs_json_kv_bool(out, "up", p.link_up);
		ffs_json_obj_end(out);
		ffs_ctl_kv_port_stats(out, &p);
		ffs_json_obj_end(out);
	}
	ffs_json_arr_end(out);
	return 0;
}

const struct ffs_ctl_cmd ffs_ctl_cmds_stack[] = {
	{ "info", cmd_info, "the process, its lcores and ports" },
	{ "stats", cmd_stats, "[docs=1]: every counter, in total and per lcore (and each one's description)" },
	{ "sysctl.list", cmd_sysctl_list, "every tunable: value, default, range, unit, description" },
	{ "sysctl.get", cmd_sysctl_get, "name=NAME: one tunable" },
	{ "sysctl.set", cmd_sysctl_set, "name=NAME value=N: sets a tunable (range-checked), at once on every lcore" },
	{ "ports", cmd_ports, "each port's addresses, MTU, link and device counters (a subset of ifconfig's entry)" },
	{ "sockets", cmd_sockets, "the open UDP sockets: addresses, queues, owner thread, home lcore" },
	{ NULL },
};
