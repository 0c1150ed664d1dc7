/*
 * The stack object's life cycle (see stack.h): EAL initialisation, the packet pool, ports, lcore
 * state, launching and stopping data-path lcores, and the thread-safe accessors other threads use.
 */
#define _GNU_SOURCE /* nftw */
#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <limits.h>
#include <unistd.h>
#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_launch.h>
#include <rte_lcore.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>
#include <rte_memzone.h>
#include <rte_rcu_qsbr.h>

#include "stack/ctl/ctl.h"
#include "stack/eal_log.h"
#include "stack/iface/addr6.h"
#include "stack/iface/iface.h"
#include "stack/lcore/ctrl.h"
#include "stack/lcore/lcore.h"
#include "stack/phy/capture.h"
#include "stack/phy/cluster.h"
#include "stack/phy/mbuf.h"
#include "stack/phy/port.h"

#define EVENT_RING_SIZE 4096
#define CTRL_RING_SIZE 256
#define PEER_RING_SIZE 1024
/** ARP clones waiting for another process (phy/cluster.h); a dead worker holds at most this many. */
#define CLUSTER_ARP_RING_SIZE 256
/** How long a worker waits for the primary to hand its queue over. */
#define CLUSTER_CLAIM_TIMEOUT_MS 3000

/** A per-thread token: the address of a thread-local byte, distinct for every live thread. */
static _Thread_local char thread_token;
#define THIS_THREAD ((uintptr_t)&thread_token)

static bool eal_ready;
static unsigned stacks_started;
static struct ffs_stack *running;

void ffs_conf_init(struct ffs_conf *conf)
{
	memset(conf, 0, sizeof(*conf));
	conf->idle_sleep_us = 100;
	conf->tx_delay_us = 100;
	conf->nb_mbuf = 8191;
	conf->proc_queue = -1;
	for (int i = 0; i < FFS_SYSCTL_COUNT; i++)
		conf->sysctl[i] = ffs_sysctl_table[i].def;
}

static int remove_entry(const char *path, const struct stat *sb, int type, struct FTW *ftw)
{
	(void)sb;
	(void)type;
	(void)ftw;
	remove(path);
	return 0;
}

/** The EAL's runtime directory (config, sockets), which it leaves behind: one per process adds up. */
static char runtime_dir[PATH_MAX];

static void remove_runtime_dir(void)
{
	if (runtime_dir[0] && strstr(runtime_dir, "/dpdk/"))
		nftw(runtime_dir, remove_entry, 8, FTW_DEPTH | FTW_PHYS);
	runtime_dir[0] = '\0';
}

/**
 * The runtime directory rte_eal_init will use for argv (eal_create_runtime_dir's rule: /var/run for
 * root, else $XDG_RUNTIME_DIR or /tmp; then dpdk/<file prefix>, "rte" by default).
 */
static void expected_runtime_dir(int argc, char **argv, char *out, size_t len)
{
	const char *prefix = "rte";
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--file-prefix") == 0 && i + 1 < argc)
			prefix = argv[++i];
		else if (strncmp(argv[i], "--file-prefix=", 14) == 0)
			prefix = argv[i] + 14;
	}
	const char *base = getuid() == 0 ? "/var/run" : getenv("XDG_RUNTIME_DIR");
	snprintf(out, len, "%s/dpdk/%s", base ? base : "/tmp", prefix);
}

int ffs_eal_init(int argc, char **argv, char *err, size_t errlen)
{
	if (eal_ready)
		return 0;
	/* rte_eal_init permutes argv: hand it a copy. */
	char **copy = calloc((size_t)argc + 1, sizeof(char *));
	if (!copy) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	memcpy(copy, argv, (size_t)argc * sizeof(char *));
	char expected[PATH_MAX];
	expected_runtime_dir(argc, argv, expected, sizeof(expected));
	bool existed = access(expected, F_OK) == 0;
	uint64_t mark = ffs_log_count();
	rte_errno = 0;
	/* rte_eal_init prints its fatal errors to stderr, not to its log: they join the log instead. */
	struct ffs_log_capture capture;
	bool captured = ffs_log_capture_stderr(&capture) == 0;
	int rc = rte_eal_init(argc, copy);
	int e = rte_errno;
	if (captured)
		ffs_log_capture_end(&capture);
	free(copy);
	if (rc < 0) {
		/* Some failures leave rte_errno unset: then DPDK's last log line is the reason. */
		char last[256] = "";
		if (ffs_log_since(mark, 1, last, sizeof(last)) == 1)
			last[strcspn(last, "\n")] = '\0';
		if (e != 0)
			snprintf(err, errlen, "DPDK EAL initialisation failed: %s (rte_errno %d)", rte_strerror(e), e);
		else if (last[0])
			snprintf(err, errlen, "DPDK EAL initialisation failed: %s", last);
		else
			snprintf(err, errlen, "DPDK EAL initialisation failed");
		/* What the failed start created (config, sockets) would otherwise stay; another process's stays. */
		if (!existed && strcmp(rte_eal_get_runtime_dir(), expected) == 0) {
			snprintf(runtime_dir, sizeof(runtime_dir), "%s", expected);
			remove_runtime_dir();
		}
		return -1;
	}
	eal_ready = true;
	/* A secondary process shares the primary's runtime directory, which the primary still uses. */
	if (rte_eal_process_type() == RTE_PROC_SECONDARY)
		return 0;
	/* Also when the process ends without ffs_eal_cleanup (a failed start, a test that exits early). */
	snprintf(runtime_dir, sizeof(runtime_dir), "%s", rte_eal_get_runtime_dir());
	static bool at_exit;
	if (!at_exit && atexit(remove_runtime_dir) == 0)
		at_exit = true;
	return 0;
}

void ffs_eal_cleanup(void)
{
	if (!eal_ready)
		return;
	if (running) {
		/* Other threads still hold the stack (a worker attached to it while the process ends on a
		 * signal): the EAL stays theirs until the process is gone, but its runtime directory would
		 * outlive it, since a killed process runs no atexit handlers. */
		remove_runtime_dir();
		return;
	}
	rte_eal_cleanup();
	eal_ready = false;
	remove_runtime_dir();
}

static void lcore_free(struct ffs_lcore *lc)
{
	if (!lc)
		return;
	void *obj;
	if (lc->ctrl) {
		/* Their senders gave up waiting: drop the lcore's references unapplied (what an UPSERT
		 * points to may be gone already). */
		while (rte_ring_dequeue(lc->ctrl, &obj) == 0)
			ffs_ctrl_put(obj);
		rte_ring_free(lc->ctrl);
	}
	if (lc->peer_in) {
		while (rte_ring_dequeue(lc->peer_in, &obj) == 0)
			rte_pktmbuf_free(obj);
		rte_ring_free(lc->peer_in);
	}
	if (lc->tx_in) {
		while (rte_ring_dequeue(lc->tx_in, &obj) == 0)
			rte_pktmbuf_free(obj);
		rte_ring_free(lc->tx_in);
	}
	demux_free(lc->demux);
	for (unsigned p = 0; p < FFS_MAX_PORTS; p++) {
		rte_pktmbuf_free_bulk(lc->tx[p].pkts, lc->tx[p].n);
		lc->tx[p].n = 0;
	}
	while (lc->lo_len) {
		rte_pktmbuf_free(lc->lo[lc->lo_head]);
		lc->lo_head = (uint16_t)((lc->lo_head + 1) % FFS_LOOPBACK_QUEUE);
		lc->lo_len--;
	}
	ffs_fault_free(lc);
	neigh_clear(&lc->neigh);
	neigh_clear(&lc->neigh6);
	ip_reasm_free(lc->reasm);
	route_fib_free(lc);
	igmp_free(lc);
	rte_free(lc->ra_deferred);
	ffs_lcore_sleep_fini(lc);
	rte_free(lc);
}

/** Multi-process state: a secondary gives its queue back; the primary frees the rings and the table. */
static void cluster_free(struct ffs_stack *st)
{
	if (!st->cluster)
		return;
	if (st->secondary) {
		if (st->proc_queue >= 0)
			ffs_cluster_release(st->cluster, (unsigned)st->proc_queue, st->pid);
		return;
	}
	for (unsigned k = 0; k <= FFS_CLUSTER_MAX_QUEUES; k++) {
		void *obj;
		if (!st->cluster_arp[k])
			continue;
		while (rte_ring_dequeue(st->cluster_arp[k], &obj) == 0)
			rte_pktmbuf_free(obj);
		rte_ring_free(st->cluster_arp[k]);
	}
	rte_memzone_free(st->cluster_mz);
}

/**
 * A multi-process primary: publishes the queue table (every queue its own until workers claim them)
 * and the rings of ARP clones. 0, or -1 with err set.
 */
static int cluster_primary_init(struct ffs_stack *st, unsigned n_queues, char *err, size_t errlen)
{
	if (n_queues > FFS_CLUSTER_MAX_QUEUES) {
		snprintf(err, errlen, "at most %d worker processes (queues per port)", FFS_CLUSTER_MAX_QUEUES);
		return -1;
	}
	st->cluster_mz = rte_memzone_reserve(FFS_CLUSTER_MEMZONE, sizeof(struct ffs_cluster_table), SOCKET_ID_ANY, 0);
	if (!st->cluster_mz) {
		snprintf(err, errlen, "reserving the memzone %s failed: %s (is another primary running with this file_prefix?)",
			 FFS_CLUSTER_MEMZONE, rte_strerror(rte_errno));
		return -1;
	}
	st->cluster = st->cluster_mz->addr;
	for (unsigned k = 0; k <= n_queues; k++) {
		char name[RTE_RING_NAMESIZE];
		snprintf(name, sizeof(name), FFS_CLUSTER_ARP_RING, k);
		st->cluster_arp[k] = rte_ring_create(name, CLUSTER_ARP_RING_SIZE, SOCKET_ID_ANY, RING_F_SC_DEQ);
		if (!st->cluster_arp[k]) {
			snprintf(err, errlen, "creating the ring %s failed: %s", name, rte_strerror(rte_errno));
			return -1;
		}
	}
	ffs_cluster_table_init(st->cluster, n_queues, st->pid, st->pool->name);
	return 0;
}

/**
 * A secondary process: finds the primary's table, pool and rings, and claims its queue. 0, or -1 with
 * err set.
 */
static int cluster_secondary_init(struct ffs_stack *st, int queue, char *err, size_t errlen)
{
	st->cluster_mz = rte_memzone_lookup(FFS_CLUSTER_MEMZONE);
	if (!st->cluster_mz) {
		snprintf(err, errlen, "no multi-process primary runs with this file_prefix (memzone %s not found; "
			 "start the primary with [dpdk] nb_procs)", FFS_CLUSTER_MEMZONE);
		return -1;
	}
	st->cluster = st->cluster_mz->addr;
	if (st->cluster->magic != FFS_CLUSTER_MAGIC) {
		snprintf(err, errlen, "the primary has not finished starting (memzone %s)", FFS_CLUSTER_MEMZONE);
		st->cluster = NULL;
		return -1;
	}
	st->pool = rte_mempool_lookup(st->cluster->pool);
	if (!st->pool) {
		snprintf(err, errlen, "the primary's packet pool %s was not found", st->cluster->pool);
		return -1;
	}
	for (unsigned k = 0; k <= st->cluster->n_queues; k++) {
		char name[RTE_RING_NAMESIZE];
		snprintf(name, sizeof(name), FFS_CLUSTER_ARP_RING, k);
		st->cluster_arp[k] = rte_ring_lookup(name);
		if (!st->cluster_arp[k]) {
			snprintf(err, errlen, "the primary's ring %s was not found", name);
			return -1;
		}
	}
	int rc = queue >= 0 ? ffs_cluster_claim(st->cluster, (unsigned)queue, st->pid, CLUSTER_CLAIM_TIMEOUT_MS)
			    : ffs_cluster_claim_any(st->cluster, st->pid, CLUSTER_CLAIM_TIMEOUT_MS);
	if (rc < 0) {
		if (rc == -ERANGE)
			snprintf(err, errlen, "queue %d does not exist: the primary runs %u worker queues (nb_procs)", queue,
				 st->cluster->n_queues);
		else if (rc == -EBUSY)
			snprintf(err, errlen, "%s is served by a live worker process", queue >= 0 ? "the queue" : "every queue");
		else
			snprintf(err, errlen, "the primary process did not hand a queue over within %d ms", CLUSTER_CLAIM_TIMEOUT_MS);
		return -1;
	}
	st->proc_queue = queue >= 0 ? queue : rc;
	return 0;
}

static void stack_free(struct ffs_stack *st, unsigned ports_started)
{
	ffs_socks_free(st); /* lcores are stopped: their demux tables go with them */
	mcast_free(st);
	for (unsigned i = 0; i < st->n_lcores; i++)
		lcore_free(st->lcores[i]);
	rte_free(st->rcu);
	route_fini(st);
	nd6_fini(st);
	pthread_mutex_destroy(&st->conf_lock);
	/* A secondary's ports and pool are the primary's. */
	for (unsigned p = 0; p < ports_started && !st->secondary; p++) {
		ffs_exception_stop(&st->ports[p]);
		ffs_port_close(&st->ports[p]);
	}
	if (st->events)
		rte_ring_free(st->events);
	if (st->event_fd >= 0)
		close(st->event_fd);
	cluster_free(st);
	if (st->pool && !st->secondary)
		rte_mempool_free(st->pool);
	rte_free(st);
}

static struct ffs_lcore *lcore_new(struct ffs_stack *st, unsigned index, unsigned lcore_id, char *err, size_t errlen)
{
	struct ffs_lcore *lc = rte_zmalloc("ffs_lcore", sizeof(*lc), RTE_CACHE_LINE_SIZE);
	if (!lc) {
		snprintf(err, errlen, "out of DPDK memory for lcore state (raise [dpdk] memory)");
		return NULL;
	}
	lc->st = st;
	lc->epoll_fd = lc->wake_fd = -1;
	lc->index = index;
	lc->lcore_id = lcore_id;
	lc->rxq_mask = 1u << index;
	lc->txq = (uint16_t)index;
	lc->ip_id = (uint16_t)(rte_rdtsc() ^ (index << 12));
	lc->neigh6.v6 = true;
	lc->reasm = ip_reasm_new(); /* NULL: fragments are dropped and counted (ip.frag_nomem) */
	char name[RTE_RING_NAMESIZE];
	snprintf(name, sizeof(name), "%.20s_ctrl%u", st->name, index);
	lc->ctrl = rte_ring_create(name, CTRL_RING_SIZE, SOCKET_ID_ANY, RING_F_SC_DEQ);
	snprintf(name, sizeof(name), "%.20s_peer%u", st->name, index);
	lc->peer_in = rte_ring_create(name, PEER_RING_SIZE, SOCKET_ID_ANY, RING_F_SC_DEQ);
	snprintf(name, sizeof(name), "%.20s_tx%u", st->name, index);
	lc->tx_in = rte_ring_create(name, FFS_TX_RING, SOCKET_ID_ANY, RING_F_SC_DEQ);
	lc->demux = demux_new();
	if (!lc->ctrl || !lc->peer_in || !lc->tx_in || !lc->demux) {
		snprintf(err, errlen, "creating lcore %u rings failed: %s", lcore_id, rte_strerror(rte_errno));
		lcore_free(lc);
		return NULL;
	}
	if (route_fib_new(lc, err, errlen) != 0) {
		lcore_free(lc);
		return NULL;
	}
	return lc;
}

/** The configuration's permanent neighbours ([portN] arp[], ndp[]) on every lcore. 0, or -1 with `err` set. */
static int static_neighbours_add(struct ffs_stack *st, const struct ffs_conf *conf, char *err, size_t errlen)
{
	for (unsigned p = 0; p < conf->n_ports; p++) {
		const struct ffs_port_conf *pc = &conf->ports[p];
		for (unsigned i = 0; i < st->n_lcores; i++) {
			for (unsigned s = 0; s < pc->n_static_arp; s++) {
				if (arp_add_static(st->lcores[i], (uint16_t)p, pc->static_arp[s].addr, &pc->static_arp[s].mac) != 0) {
					snprintf(err, errlen, "port %u: too many static ARP entries", pc->port_id);
					return -1;
				}
			}
			for (unsigned s = 0; s < pc->n_static_ndp; s++) {
				if (nd6_add_static(st->lcores[i], (uint16_t)p, &pc->static_ndp[s].addr, &pc->static_ndp[s].mac) != 0) {
					snprintf(err, errlen, "port %u: too many static NDP entries", pc->port_id);
					return -1;
				}
			}
		}
	}
	return 0;
}

struct ffs_stack *ffs_stack_start(const struct ffs_conf *conf, char *err, size_t errlen)
{
	if (!eal_ready) {
		snprintf(err, errlen, "the EAL is not initialised");
		return NULL;
	}
	if (running) {
		snprintf(err, errlen, "a stack is already running in this process (close it first)");
		return NULL;
	}
	if (conf->n_ports > FFS_MAX_PORTS || conf->n_data_lcores > FFS_MAX_LCORES || conf->n_inline_lcores > FFS_MAX_LCORES) {
		snprintf(err, errlen, "too many ports or lcores (at most %d and %d)", FFS_MAX_PORTS, FFS_MAX_LCORES);
		return NULL;
	}
	for (unsigned i = 0; i < conf->n_data_lcores; i++) {
		unsigned id = conf->data_lcores[i];
		if (id == rte_get_main_lcore() || !rte_lcore_is_enabled(id)) {
			snprintf(err, errlen, "lcore %u is not an enabled worker lcore of the EAL (check [dpdk] lcore_mask/lcores)", id);
			return NULL;
		}
	}
	bool secondary = conf->proc_type == FFS_PROC_SECONDARY ||
			 (conf->proc_type == FFS_PROC_AUTO && rte_eal_process_type() == RTE_PROC_SECONDARY);
	if (secondary != (rte_eal_process_type() == RTE_PROC_SECONDARY)) {
		snprintf(err, errlen, "the EAL runs as a %s process, the stack was asked to be a %s (check [dpdk] proc_type)",
			 rte_eal_process_type() == RTE_PROC_SECONDARY ? "secondary" : "primary", secondary ? "secondary" : "primary");
		return NULL;
	}
	const bool cluster = secondary || conf->nb_procs > 0;
	if (cluster && (conf->n_data_lcores > 0 || conf->n_inline_lcores > 1)) {
		snprintf(err, errlen, "a multi-process stack runs inline: one lcore per process (lcore_mask 0x1)");
		return NULL;
	}
	if (ffs_mbuf_dynfields_register() != 0) {
		snprintf(err, errlen, "registering mbuf fields failed: %s", rte_strerror(rte_errno));
		return NULL;
	}
	struct ffs_stack *st = rte_zmalloc("ffs_stack", sizeof(*st), RTE_CACHE_LINE_SIZE);
	if (!st) {
		snprintf(err, errlen, "out of DPDK memory (raise [dpdk] memory)");
		return NULL;
	}
	st->event_fd = -1;
	pthread_mutex_init(&st->ns_lock, NULL);
	pthread_mutex_init(&st->grace_lock, NULL);
	pthread_mutex_init(&st->conf_lock, NULL);
	st->conf = *conf;
	st->id = stacks_started++;
	st->secondary = secondary;
	st->proc_queue = -1;
	st->pid = (int32_t)getpid();
	/* Secondaries share the primary's ring namespace: their names carry the pid. */
	if (secondary)
		snprintf(st->name, sizeof(st->name), "ffs%up%d", st->id, (int)getpid());
	else
		snprintf(st->name, sizeof(st->name), "ffs%u", st->id);
	st->inline_mode = conf->n_data_lcores == 0;
	st->n_lcores = !st->inline_mode ? conf->n_data_lcores : conf->n_inline_lcores > 1 ? conf->n_inline_lcores : 1;
	st->starter = THIS_THREAD;
	st->tsc_hz = rte_get_tsc_hz();
	st->tsc_ns_q32 = (uint64_t)(((unsigned __int128)1000000000u << 32) / st->tsc_hz);
	st->tx_delay_tsc = st->tsc_hz / 1000000 * conf->tx_delay_us;
	st->ping_ident = (uint16_t)(getpid() ^ (st->id << 8));
	for (int i = 0; i < FFS_SYSCTL_COUNT; i++)
		atomic_store(&st->sysctl[i], conf->sysctl[i]);
	atomic_store(&st->fault_gen, 1); /* lcores start at 0: each reads the injector's settings first */

	char name[RTE_MEMPOOL_NAMESIZE];
	if (secondary) {
		if (cluster_secondary_init(st, conf->proc_queue, err, errlen) != 0) {
			stack_free(st, 0);
			return NULL;
		}
	} else {
		snprintf(name, sizeof(name), "%.16s_pkts", st->name);
		/* Processes share the pool: no per-lcore cache, so a killed worker strands no mbufs in one
		 * (and lcore ids may repeat across processes). */
		unsigned cache = cluster ? 0
			       : conf->nb_mbuf / 16 < RTE_MEMPOOL_CACHE_MAX_SIZE ? conf->nb_mbuf / 16 : RTE_MEMPOOL_CACHE_MAX_SIZE;
		st->pool = rte_pktmbuf_pool_create(name, conf->nb_mbuf, cache, 0, RTE_MBUF_DEFAULT_BUF_SIZE, (int)rte_socket_id());
		if (!st->pool) {
			snprintf(err, errlen, "creating the packet pool of %u mbufs failed: %s (raise [dpdk] memory or lower nb_mbuf)",
				 conf->nb_mbuf, rte_strerror(rte_errno));
			stack_free(st, 0);
			return NULL;
		}
		if (cluster && cluster_primary_init(st, conf->nb_procs, err, errlen) != 0) {
			stack_free(st, 0);
			return NULL;
		}
	}
	ffs_pool_share_cache_lengths(st->pool);
	snprintf(name, sizeof(name), "%.16s_events", st->name);
	st->events = rte_ring_create_elem(name, sizeof(struct ffs_event), EVENT_RING_SIZE, SOCKET_ID_ANY, RING_F_SC_DEQ);
	st->event_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (!st->events || st->event_fd < 0) {
		snprintf(err, errlen, "creating the event queue failed");
		stack_free(st, 0);
		return NULL;
	}
	/* Each lcore index is a reader of sockets (online while its loop turns; see loop.c), and so is
	 * each application thread inside a call (after them, by DPDK lcore id; see sock/app.c). */
	uint32_t readers = st->n_lcores + RTE_MAX_LCORE;
	size_t rcu_size = rte_rcu_qsbr_get_memsize(readers);
	st->rcu = rte_zmalloc("ffs_rcu", rcu_size, RTE_CACHE_LINE_SIZE);
	if (!st->rcu || rte_rcu_qsbr_init(st->rcu, readers) != 0) {
		snprintf(err, errlen, "out of DPDK memory for the lcores' quiescent-state variable");
		stack_free(st, 0);
		return NULL;
	}
	for (unsigned i = 0; i < st->n_lcores; i++)
		rte_rcu_qsbr_thread_register(st->rcu, i);
	for (unsigned i = 0; i < st->n_lcores; i++) {
		/* Several inline lcores are known by their index (turned by whichever thread claims them). */
		unsigned id = !st->inline_mode ? conf->data_lcores[i] : st->n_lcores > 1 ? i : rte_lcore_id();
		st->lcores[i] = lcore_new(st, i, id, err, errlen);
		if (!st->lcores[i]) {
			stack_free(st, 0);
			return NULL;
		}
	}
	for (unsigned i = 0; i < conf->n_vdevs && !secondary; i++) {
		if (ffs_port_probe(conf->vdevs[i], err, errlen) != 0) {
			stack_free(st, 0);
			return NULL;
		}
	}
	for (unsigned p = 0; p < conf->n_ports; p++) {
		int rc = secondary ? ffs_port_attach(&st->ports[p], &conf->ports[p], (uint16_t)st->proc_queue, err, errlen)
				   : ffs_port_start(&st->ports[p], &conf->ports[p], (uint16_t)(cluster ? conf->nb_procs : st->n_lcores),
						    st->pool, err, errlen);
		if (rc != 0) {
			stack_free(st, p);
			return NULL;
		}
		/* One lcore turns several queues here: it naps rather than sleeping on one queue's interrupt. */
		if (cluster)
			st->ports[p].rx_intr = false;
		st->ports[p].index = (uint16_t)p;
		st->ports[p].up = true;
		st->n_ports = p + 1;
		/* The kernel's interface beside the port (phy/exception.h): the primary's alone. */
		if (!secondary && ffs_exception_start(&st->ports[p], &conf->ports[p], st->pool, st->name, err, errlen) != 0) {
			stack_free(st, p + 1);
			return NULL;
		}
		st->exc_any |= st->ports[p].exc.on;
	}
	route_init(st);
	addr6_init(st);
	route6_init(st);
	if (static_neighbours_add(st, conf, err, errlen) != 0) {
		stack_free(st, st->n_ports);
		return NULL;
	}
	for (unsigned i = 0; i < st->n_lcores; i++)
		ffs_lcore_sleep_init(st->lcores[i]); /* without RX interrupts, idle lcores nap instead */
	if (secondary) {
		st->lcores[0]->rxq_mask = 1u << st->proc_queue;
		st->lcores[0]->txq = (uint16_t)st->proc_queue;
	} else if (cluster) {
		st->lcores[0]->rxq_mask = ffs_cluster_primary_sync(st->cluster, false);
		st->lcores[0]->txq = (uint16_t)__builtin_ctz(st->lcores[0]->rxq_mask);
	}
	if (!st->inline_mode) {
		for (unsigned i = 0; i < st->n_lcores; i++) {
			int rc = rte_eal_remote_launch(ffs_lcore_main, st->lcores[i], st->lcores[i]->lcore_id);
			if (rc != 0) {
				snprintf(err, errlen, "launching lcore %u failed: %s (%d)", st->lcores[i]->lcore_id, strerror(-rc), rc);
				for (unsigned j = 0; j < i; j++) {
					atomic_store(&st->lcores[j]->stop, true);
					ffs_lcore_join(st->lcores[j]);
				}
				stack_free(st, st->n_ports);
				return NULL;
			}
		}
	}
	/* RFC 4862 §5.4: the addresses are used only once DAD found no other node holding them; a
	 * duplicate is a start error, as the kernel's "address already in use" would be. */
	if (!secondary && nd6_dad_wait(st, err, errlen) != 0) {
		for (unsigned i = 0; i < st->n_lcores && !st->inline_mode; i++)
			atomic_store(&st->lcores[i]->stop, true);
		for (unsigned i = 0; i < st->n_lcores && !st->inline_mode; i++)
			ffs_lcore_join(st->lcores[i]);
		stack_free(st, st->n_ports);
		return NULL;
	}
	if (!secondary)
		ffs_capture_pdump_init();
	running = st;
	/* Without its control socket the stack still runs; tools will not see it, and the log says why. */
	char ctl_err[256];
	if (ffs_ctl_start(st, ctl_err, sizeof(ctl_err)) != 0)
		RTE_LOG(WARNING, USER1, "ffnet: %s\n", ctl_err);
	return st;
}

void ffs_stack_stop(struct ffs_stack *st)
{
	if (!st)
		return;
	/* Tools' requests read the stack: they end before anything is freed. */
	ffs_ctl_stop(st);
	if (!st->inline_mode) {
		for (unsigned i = 0; i < st->n_lcores; i++)
			atomic_store(&st->lcores[i]->stop, true);
		for (unsigned i = 0; i < st->n_lcores; i++)
			ffs_lcore_join(st->lcores[i]);
	} else {
		for (unsigned i = 0; i < st->n_lcores; i++)
			ffs_tx_flush_all(st->lcores[i]);
	}
	stack_free(st, st->n_ports);
	if (running == st)
		running = NULL;
}

bool ffs_stack_is_inline(const struct ffs_stack *st) { return st->inline_mode; }

struct ffs_stack *ffs_stack_current(void) { return running; }

/** Whether the calling thread may turn inline lcore lc: it claimed it, or nobody did. */
static bool turnable_here(const struct ffs_lcore *lc)
{
	uintptr_t owner = atomic_load_explicit(&((struct ffs_lcore *)lc)->claimed_by, memory_order_relaxed);
	return owner == 0 || owner == THIS_THREAD;
}

unsigned ffs_stack_poll(struct ffs_stack *st)
{
	unsigned work = 0;
	for (unsigned i = 0; i < st->n_lcores; i++)
		if (turnable_here(st->lcores[i]))
			work += ffs_lcore_turn_locked(st->lcores[i]);
	return work;
}

unsigned ffs_stack_poll_lcore(struct ffs_stack *st, unsigned index)
{
	return index < st->n_lcores ? ffs_lcore_turn_locked(st->lcores[index]) : 0;
}

int ffs_stack_claim_lcore(struct ffs_stack *st, int index)
{
	if (!st->inline_mode)
		return -EINVAL;
	if (index >= (int)st->n_lcores)
		return -ERANGE;
	if (ffs_stack_thread_lcore(st) >= 0)
		return -EBUSY; /* one lcore per thread: its driver sleeps on that lcore's idle fd */
	for (unsigned k = 0; k < st->n_lcores; k++) {
		/* index < 0: 1, 2, ..., n-1, then 0 (the starting thread turns 0 unless it is taken). */
		unsigned i = index >= 0 ? (unsigned)index : (k + 1) % st->n_lcores;
		uintptr_t none = 0;
		if (atomic_compare_exchange_strong(&st->lcores[i]->claimed_by, &none, THIS_THREAD))
			return (int)i;
		if (index >= 0)
			break;
	}
	return -EBUSY;
}

void ffs_stack_release_lcore(struct ffs_stack *st, unsigned index)
{
	if (index >= st->n_lcores)
		return;
	uintptr_t me = THIS_THREAD;
	atomic_compare_exchange_strong(&st->lcores[index]->claimed_by, &me, 0);
}

int ffs_stack_thread_lcore(const struct ffs_stack *st)
{
	for (unsigned i = 0; st->inline_mode && i < st->n_lcores; i++)
		if (atomic_load_explicit(&((struct ffs_lcore *)st->lcores[i])->claimed_by, memory_order_relaxed) == THIS_THREAD)
			return (int)i;
	return -1;
}

bool ffs_stack_thread_drives(const struct ffs_stack *st)
{
	return st->inline_mode && (st->starter == THIS_THREAD || ffs_stack_thread_lcore(st) >= 0);
}

unsigned ffs_stack_poll_thread(struct ffs_stack *st)
{
	if (!st->inline_mode)
		return 0;
	int mine = ffs_stack_thread_lcore(st);
	if (mine >= 0)
		return ffs_stack_poll_lcore(st, (unsigned)mine);
	return st->starter == THIS_THREAD ? ffs_stack_poll(st) : 0;
}

unsigned ffs_stack_turn(void *st) { return ffs_stack_poll_thread(st); }

unsigned ffs_stack_thread_idle_lcore(const struct ffs_stack *st)
{
	int mine = ffs_stack_thread_lcore(st);
	if (mine >= 0)
		return (unsigned)mine;
	/* Another thread's lcore is its owner's to sleep on (RX interrupts armed and disarmed by one thread). */
	for (unsigned i = 0; i < st->n_lcores; i++)
		if (turnable_here(st->lcores[i]))
			return i;
	return st->n_lcores;
}

static void kick_lcore(struct ffs_lcore *lc)
{
	if (ffs_lcore_locked_here(lc)) {
		ffs_lcore_kick_tx(lc);
	} else if (ffs_lcore_trylock(lc)) {
		ffs_lcore_kick_tx(lc);
		ffs_lcore_unlock(lc);
	}
}

static void kick_tx(struct ffs_stack *st, unsigned min_queued)
{
	if (!st || !ffs_stack_thread_drives(st))
		return;
	int mine = ffs_stack_thread_lcore(st);
	for (unsigned i = 0; i < st->n_lcores; i++)
		if ((mine >= 0 ? (unsigned)mine == i : turnable_here(st->lcores[i])) &&
		    rte_ring_count(st->lcores[i]->tx_in) >= min_queued)
			kick_lcore(st->lcores[i]);
}

void ffs_stack_kick_tx(struct ffs_stack *st) { kick_tx(st, 0); }

void ffs_stack_kick_tx_full(struct ffs_stack *st) { kick_tx(st, FFS_BURST); }

int ffs_stack_idle_fd(const struct ffs_stack *st) { return ffs_stack_idle_fd_lcore(st, 0); }

bool ffs_stack_sleep_begin(struct ffs_stack *st) { return ffs_stack_sleep_begin_lcore(st, 0); }

void ffs_stack_sleep_end(struct ffs_stack *st) { ffs_stack_sleep_end_lcore(st, 0); }

int ffs_stack_idle_fd_lcore(const struct ffs_stack *st, unsigned index)
{
	return st->inline_mode && index < st->n_lcores ? st->lcores[index]->epoll_fd : -1;
}

/* Under the turn lock: the last look at the lcore's queues (sleep.c) reads what another thread's
 * control message may be writing (a ping to ourselves queues on the loopback). */
bool ffs_stack_sleep_begin_lcore(struct ffs_stack *st, unsigned index)
{
	if (index >= st->n_lcores || !ffs_lcore_trylock(st->lcores[index]))
		return false;
	bool asleep = ffs_lcore_sleep_begin(st->lcores[index]);
	ffs_lcore_unlock(st->lcores[index]);
	return asleep;
}

void ffs_stack_sleep_end_lcore(struct ffs_stack *st, unsigned index)
{
	if (index >= st->n_lcores)
		return;
	ffs_lcore_lock(st->lcores[index]);
	ffs_lcore_sleep_end(st->lcores[index]);
	ffs_lcore_unlock(st->lcores[index]);
}

int ffs_stack_proc_queue(const struct ffs_stack *st) { return st->proc_queue; }

bool ffs_stack_thread_allowed(const struct ffs_stack *st) { return !st->cluster || rte_lcore_id() != LCORE_ID_ANY; }

unsigned ffs_stack_lcore_count(const struct ffs_stack *st) { return st->n_lcores; }

/* Counters are plain words that only their lcore writes, read here by any thread (tools' `stats` on
 * the control server's threads): an aligned 64-bit load is never torn (counters.h). ThreadSanitizer
 * would take each read for a race with the lcore's increments, so these loads are not instrumented. */
__attribute__((no_sanitize("thread"))) unsigned ffs_stack_counters(const struct ffs_stack *st, unsigned i, struct ffs_counters *out)
{
	const volatile uint64_t *src = (const volatile uint64_t *)&st->lcores[i]->ctr;
	uint64_t *dst = (uint64_t *)out;
	for (unsigned k = 0; k < FFS_COUNTER_COUNT; k++)
		dst[k] = src[k];
	if (i == 0) {
		const uint64_t *app = (const uint64_t *)&st->app_ctr;
		for (unsigned k = 0; k < FFS_COUNTER_COUNT; k++)
			dst[k] += __atomic_load_n(&app[k], __ATOMIC_RELAXED);
	}
	return st->lcores[i]->lcore_id;
}

void ffs_stack_count_app(struct ffs_stack *st, enum ffs_counter_index which, uint64_t n)
{
	if ((unsigned)which < FFS_COUNTER_COUNT)
		__atomic_fetch_add(&((uint64_t *)&st->app_ctr)[which], n, __ATOMIC_RELAXED);
}

int ffs_stack_mempool_in_use(const struct ffs_stack *st) { return ffs_pool_in_use(st->pool); }

unsigned ffs_stack_mempool_size(const struct ffs_stack *st) { return st->pool->size; }

unsigned ffs_stack_port_count(const struct ffs_stack *st) { return st->n_ports; }

void ffs_stack_port_info(const struct ffs_stack *st, unsigned i, struct ffs_port_info *out)
{
	const struct ffs_port *p = &st->ports[i];
	memset(out, 0, sizeof(*out));
	out->port_id = p->port_id;
	snprintf(out->name, sizeof(out->name), "%s", p->name);
	snprintf(out->driver, sizeof(out->driver), "%s", p->driver);
	out->mac = p->mac;
	out->addr = p->addr;
	out->netmask = p->netmask;
	out->broadcast = p->broadcast;
	out->gateway = p->gateway;
	out->mtu = p->mtu;
	out->vlan_id = p->vlan_id;
	out->vlan_rx_offload = p->vlan_rx_offload;
	out->vlan_tx_offload = p->vlan_tx_offload;
	out->admin_up = p->up;
	out->n_vip = route_port_vips(p, out->vip);
	if (p->exc.on) {
		out->exception = p->exc.kind;
		snprintf(out->exception_iface, sizeof(out->exception_iface), "%s", p->exc.iface);
	}
	struct rte_eth_link link;
	if (ffs_port_link(p, &link) == 0)
		out->link_up = link.link_status == RTE_ETH_LINK_UP;
	out->rx_ipv4_cksum = p->rx_ipv4_cksum;
	out->rx_l4_cksum = p->rx_l4_cksum;
	out->tx_ipv4_cksum = p->caps.tx_ipv4_offload;
	out->tx_udp_cksum = p->caps.tx_udp_offload;
	out->rx_queues = p->nb_rxq;
	out->tx_queues = p->nb_txq;
	out->rx_intr = p->rx_intr;
	struct rte_eth_stats s;
	if (rte_eth_stats_get(p->port_id, &s) == 0) {
		out->ipackets = s.ipackets;
		out->opackets = s.opackets;
		out->ibytes = s.ibytes;
		out->obytes = s.obytes;
		out->imissed = s.imissed;
		out->ierrors = s.ierrors;
		out->oerrors = s.oerrors;
		out->rx_nombuf = s.rx_nombuf;
	}
}

unsigned ffs_stack_port_addr6(const struct ffs_stack *st, unsigned i, struct ffs_port_addr6 *out, unsigned max)
{
	struct ffs_addr6_info a[FFS_MAX_ADDR6];
	unsigned n = addr6_list(st, i, a, FFS_MAX_ADDR6);
	unsigned k = 0;
	for (; k < n && k < max; k++)
		out[k] = (struct ffs_port_addr6){ .addr = a[k].addr, .prefixlen = a[k].prefixlen,
						  .tentative = a[k].state == ADDR6_TENTATIVE,
						  .duplicated = a[k].state == ADDR6_DUPLICATED };
	return k;
}

static int port_index_of(const struct ffs_stack *st, uint16_t port_id)
{
	for (unsigned i = 0; i < st->n_ports; i++)
		if (st->ports[i].port_id == port_id)
			return (int)i;
	return -1;
}

/** How settled a neighbour state is: the merged dump keeps the most settled lcore's view. */
static int neigh_rank(enum ffs_neigh_state s)
{
	switch (s) {
	case FFS_NEIGH_PERMANENT: return 3;
	case FFS_NEIGH_REACHABLE: return 2;
	case FFS_NEIGH_INCOMPLETE: return 1;
	default: return 0;
	}
}

/** Merges one lcore's entries into out[0..n): same (port, address) combined. Returns the new n. */
static unsigned neigh_merge(struct ffs_neigh_info *out, unsigned n, unsigned max, const struct ffs_neigh_info *in,
			    unsigned n_in)
{
	for (unsigned i = 0; i < n_in; i++) {
		unsigned k = 0;
		while (k < n && (out[k].port_id != in[i].port_id || out[k].addr != in[i].addr || !ip6_eq(&out[k].addr6, &in[i].addr6)))
			k++;
		if (k == n) {
			if (n == max)
				continue;
			out[n++] = in[i];
			continue;
		}
		uint32_t held = out[k].held + in[i].held, held_bytes = out[k].held_bytes + in[i].held_bytes;
		uint32_t expires = RTE_MAX(out[k].expires_in_s, in[i].expires_in_s);
		if (neigh_rank(in[i].state) > neigh_rank(out[k].state))
			out[k] = in[i];
		out[k].held = held;
		out[k].held_bytes = held_bytes;
		out[k].expires_in_s = expires;
	}
	return n;
}

static int neigh_dump_family(struct ffs_stack *st, bool v6, struct ffs_neigh_info *out, unsigned max)
{
	/* Each lcore has its own cache (its own resolutions under way, its own held packets): ask each. */
	unsigned n = 0;
	for (unsigned i = 0; i < st->n_lcores; i++) {
		struct ffs_ctrl_msg *msg = ffs_ctrl_new(FFS_CTRL_NEIGH_DUMP);
		if (!msg)
			return -ENOMEM;
		/* The lcore writes into the message's own buffer: a call that times out leaves it nothing of ours. */
		msg->u.dump.out = calloc(NEIGH_TABLE_SIZE, sizeof(*out));
		msg->u.dump.max = NEIGH_TABLE_SIZE;
		msg->u.dump.v6 = v6;
		int rc = msg->u.dump.out ? ffs_ctrl_one(st, i, msg) : -ENOMEM;
		if (rc > 0)
			n = neigh_merge(out, n, max, msg->u.dump.out, (unsigned)rc);
		ffs_ctrl_put(msg);
		if (rc < 0)
			return rc;
	}
	return (int)n;
}

int ffs_stack_neigh_dump(struct ffs_stack *st, struct ffs_neigh_info *out, unsigned max)
{
	return neigh_dump_family(st, false, out, max);
}

int ffs_stack_neigh6_dump(struct ffs_stack *st, struct ffs_neigh_info *out, unsigned max)
{
	return neigh_dump_family(st, true, out, max);
}

/** A neighbour change (FFS_CTRL_NEIGH_ADD, _DEL) to every lcore; `msg` comes filled but for its port. */
static int neigh_change(struct ffs_stack *st, int idx, struct ffs_ctrl_msg *msg)
{
	bool del = msg->op == FFS_CTRL_NEIGH_DEL;
	msg->u.neigh.port_index = (uint16_t)idx;
	int rc = ffs_ctrl_all_put(st, msg);
	return del && rc > 0 ? 1 : rc; /* a deletion's result counts the lcores that had the entry */
}

int ffs_stack_neigh_add(struct ffs_stack *st, uint16_t port_id, uint32_t addr, const struct eth_addr *mac)
{
	int idx = port_index_of(st, port_id);
	if (idx < 0)
		return -ENOENT;
	const struct ffs_port *p = &st->ports[idx];
	if (!route_on_link(st, (uint16_t)idx, addr) || route_port_has_addr(p, addr) || addr == p->broadcast)
		return -EINVAL;
	struct ffs_ctrl_msg *msg = ffs_ctrl_new(FFS_CTRL_NEIGH_ADD);
	if (!msg)
		return -ENOMEM;
	msg->u.neigh.addr = addr;
	msg->u.neigh.mac = *mac;
	return neigh_change(st, idx, msg);
}

int ffs_stack_neigh_del(struct ffs_stack *st, uint16_t port_id, uint32_t addr)
{
	int idx = port_index_of(st, port_id);
	if (idx < 0)
		return -ENOENT;
	struct ffs_ctrl_msg *msg = ffs_ctrl_new(FFS_CTRL_NEIGH_DEL);
	if (!msg)
		return -ENOMEM;
	msg->u.neigh.addr = addr;
	return neigh_change(st, idx, msg);
}

int ffs_stack_neigh6_add(struct ffs_stack *st, uint16_t port_id, const struct ip6_addr *addr, const struct eth_addr *mac)
{
	int idx = port_index_of(st, port_id);
	if (idx < 0 || st->conf.ports[idx].ipv6_off)
		return -ENOENT;
	if (ip6_is_unspecified(addr) || ip6_is_loopback(addr) || ip6_is_multicast(addr) || ip6_is_v4mapped(addr) ||
	    !route6_on_link(st, (unsigned)idx, addr) || addr6_is_local(st, idx, addr, NULL))
		return -EINVAL;
	struct ffs_ctrl_msg *msg = ffs_ctrl_new(FFS_CTRL_NEIGH_ADD);
	if (!msg)
		return -ENOMEM;
	msg->u.neigh.v6 = true;
	msg->u.neigh.addr6 = *addr;
	msg->u.neigh.mac = *mac;
	return neigh_change(st, idx, msg);
}

int ffs_stack_neigh6_del(struct ffs_stack *st, uint16_t port_id, const struct ip6_addr *addr)
{
	int idx = port_index_of(st, port_id);
	if (idx < 0)
		return -ENOENT;
	struct ffs_ctrl_msg *msg = ffs_ctrl_new(FFS_CTRL_NEIGH_DEL);
	if (!msg)
		return -ENOMEM;
	msg->u.neigh.v6 = true;
	msg->u.neigh.addr6 = *addr;
	return neigh_change(st, idx, msg);
}

int ffs_stack_sysctl_set(struct ffs_stack *st, int id, int64_t value)
{
	if (id < 0 || id >= FFS_SYSCTL_COUNT)
		return -EINVAL;
	if (value < ffs_sysctl_table[id].min || value > ffs_sysctl_table[id].max)
		return -ERANGE;
	atomic_store(&st->sysctl[id], value);
	if (ffs_fault_sysctl(id))
		atomic_fetch_add_explicit(&st->fault_gen, 1, memory_order_release);
	return 0;
}

int64_t ffs_stack_sysctl_get(const struct ffs_stack *st, int id) { return ffs_sysctl(st, (enum ffs_sysctl_id)id); }

int ffs_stack_ping(struct ffs_stack *st, uint32_t dst, uint16_t token, uint16_t payload)
{
	struct ffs_ctrl_msg *msg = ffs_ctrl_new(FFS_CTRL_PING);
	if (!msg)
		return -ENOMEM;
	msg->u.ping.dst = dst;
	msg->u.ping.ident = st->ping_ident;
	msg->u.ping.token = token;
	msg->u.ping.payload = payload;
	int rc = ffs_ctrl_one(st, 0, msg);
	ffs_ctrl_put(msg);
	return rc;
}

/** When waiter k's reply came: takes it into *out and frees the waiter. */
static bool ping_waiter_done(struct ffs_stack *st, unsigned k, struct ffs_ping_result *out)
{
	uint32_t w = atomic_load_explicit(&st->ping_waiters[k].word, memory_order_acquire);
	if ((w & 0xffff) == FFS_PING_DONE) {
		*out = st->ping_waiters[k].result;
		atomic_store_explicit(&st->ping_waiters[k].word, FFS_PING_FREE, memory_order_release);
		return true;
	}
	return false;
}

/** Where a control thread's echo request goes: an IPv4 address, or an IPv6 one (and its scope port). */
struct ping_dst {
	bool v6;
	uint32_t addr;
	struct ip6_addr addr6;
	int scope_port;
};

static int ping_wait(struct ffs_stack *st, const struct ping_dst *dst, uint16_t seq, uint16_t payload, uint8_t ttl,
		     unsigned timeout_ms, const volatile bool *stopping, struct ffs_ping_result *out)
{
	unsigned k = 0;
	for (;; k++) {
		if (k == FFS_MAX_PING_WAITERS)
			return -EBUSY;
		uint32_t expect = FFS_PING_FREE;
		if (atomic_compare_exchange_strong(&st->ping_waiters[k].word, &expect, FFS_PING_CLAIMED))
			break;
	}
	const uint32_t waiting = (uint32_t)seq << 16 | FFS_PING_WAITING;
	/* Waiting before the request leaves: a reply from our own address comes back within the send. */
	atomic_store_explicit(&st->ping_waiters[k].word, waiting, memory_order_release);
	struct ffs_ctrl_msg *msg = ffs_ctrl_new(FFS_CTRL_PING);
	int rc = -ENOMEM;
	if (msg) {
		msg->u.ping.dst = dst->addr;
		msg->u.ping.v6 = dst->v6;
		msg->u.ping.dst6 = dst->addr6;
		msg->u.ping.scope_port = dst->scope_port;
		msg->u.ping.ident = st->ping_ident ^ (uint16_t)(0x8000 | k);
		msg->u.ping.token = seq;
		msg->u.ping.payload = payload;
		msg->u.ping.ttl = ttl;
		rc = ffs_ctrl_one(st, 0, msg);
		ffs_ctrl_put(msg);
	}
	if (rc == 0) {
		uint64_t deadline = rte_get_timer_cycles() + rte_get_timer_hz() / 1000 * timeout_ms;
		rc = -ETIMEDOUT;
		while (rte_get_timer_cycles() < deadline) {
			if (ping_waiter_done(st, k, out))
				return 0;
			/* Set by another thread (the control server's stop): read as an atomic. */
			if (stopping && __atomic_load_n(stopping, __ATOMIC_ACQUIRE)) {
				rc = -ECANCELED;
				break;
			}
			rte_delay_us_sleep(200);
		}
	}
	/* Give the waiter up, unless a lcore claimed it meanwhile: then its answer is a moment away. */
	uint32_t expect = waiting;
	if (atomic_compare_exchange_strong(&st->ping_waiters[k].word, &expect, FFS_PING_FREE))
		return rc;
	while (!ping_waiter_done(st, k, out))
		rte_pause();
	return 0;
}

int ffs_stack_ping_wait(struct ffs_stack *st, uint32_t dst, uint16_t seq, uint16_t payload, uint8_t ttl,
			unsigned timeout_ms, const volatile bool *stopping, struct ffs_ping_result *out)
{
	struct ping_dst d = { .addr = dst };
	return ping_wait(st, &d, seq, payload, ttl, timeout_ms, stopping, out);
}

int ffs_stack_ping6_wait(struct ffs_stack *st, const struct ip6_addr *dst, int scope_port, uint16_t seq, uint16_t payload,
			 uint8_t hlim, unsigned timeout_ms, const volatile bool *stopping, struct ffs_ping_result *out)
{
	struct ping_dst d = { .v6 = true, .addr6 = *dst, .scope_port = scope_port };
	return ping_wait(st, &d, seq, payload, hlim, timeout_ms, stopping, out);
}

/** The port index of DPDK port `port_id`, its conf_lock taken; -ENOENT (unlocked) when there is none. */
static int port_change_begin(struct ffs_stack *st, uint16_t port_id)
{
	int idx = port_index_of(st, port_id);
	if (idx >= 0)
		pthread_mutex_lock(&st->conf_lock);
	return idx < 0 ? -ENOENT : idx;
}

/** Tells every lcore what changed on port idx (they acknowledge), and drops conf_lock. */
static int port_change_end(struct ffs_stack *st, int idx, enum ffs_port_change what)
{
	struct ffs_ctrl_msg *msg = ffs_ctrl_new(FFS_CTRL_PORT_CHANGED);
	int rc = -ENOMEM;
	if (msg) {
		msg->u.port.port_index = (uint16_t)idx;
		msg->u.port.what = what;
		rc = ffs_ctrl_all_put(st, msg);
	}
	pthread_mutex_unlock(&st->conf_lock);
	return rc;
}

/** port_change_end when rc is 0; otherwise drops conf_lock and returns rc (nothing changed). */
static int port_change_finish(struct ffs_stack *st, int idx, int rc, enum ffs_port_change what)
{
	if (rc == 0)
		return port_change_end(st, idx, what);
	pthread_mutex_unlock(&st->conf_lock);
	return rc;
}

/** A unicast address a host may have on addr/prefixlen: not 0/8, loopback, multicast or class E; not a
 *  subnet's network or broadcast address (RFC 3021 lets a /31 use both, a /32 is a host). */
static bool host_address(uint32_t addr, unsigned prefixlen)
{
	uint32_t host = ~route_mask(prefixlen);
	return prefixlen >= 1 && prefixlen <= 32 && (addr >> 24) != 0 && !ipv4_is_loopback(addr) && addr < 0xe0000000u &&
	       !(prefixlen < 31 && ((addr & host) == 0 || (addr & host) == host));
}

int ffs_stack_port_alias_add(struct ffs_stack *st, uint16_t port_id, uint32_t addr, unsigned prefixlen)
{
	if (!host_address(addr, prefixlen))
		return -EINVAL;
	int idx = port_change_begin(st, port_id);
	if (idx < 0)
		return idx;
	int rc = route_is_local(st, addr) ? -EEXIST : route_vip_add(st, (unsigned)idx, addr, prefixlen);
	return port_change_finish(st, idx, rc, FFS_PORT_INET);
}

int ffs_stack_port_alias_del(struct ffs_stack *st, uint16_t port_id, uint32_t addr)
{
	int idx = port_change_begin(st, port_id);
	if (idx < 0)
		return idx;
	int rc = route_vip_del(st, (unsigned)idx, addr);
	return port_change_finish(st, idx, rc, FFS_PORT_INET);
}

int ffs_stack_port_set_inet(struct ffs_stack *st, uint16_t port_id, uint32_t addr, unsigned prefixlen)
{
	if (!host_address(addr, prefixlen))
		return -EINVAL;
	int idx = port_change_begin(st, port_id);
	if (idx < 0)
		return idx;
	route_set_ifaddr(st, (unsigned)idx, addr, prefixlen);
	return port_change_end(st, idx, FFS_PORT_INET);
}

int ffs_stack_port_set_mtu(struct ffs_stack *st, uint16_t port_id, uint16_t mtu)
{
	int idx = port_change_begin(st, port_id);
	if (idx < 0)
		return idx;
	struct rte_eth_dev_info info;
	int rc = rte_eth_dev_info_get(port_id, &info);
	/* RFC 791: every host takes 68-octet datagrams whole; nothing smaller can carry a fragment. */
	if (rc == 0 && (mtu < RTE_MAX(68, info.min_mtu) || mtu > info.max_mtu))
		rc = -ERANGE;
	/* A jumbo MTU on a device started without RX scatter: its frames would not fit its mbufs. */
	if (rc == 0)
		rc = ffs_port_mtu_check(port_id, st->ports[idx].vlan_id, st->pool, mtu);
	if (rc == 0) {
		rc = st->secondary ? 0 : rte_eth_dev_set_mtu(port_id, mtu);
		if (rc == -ENOTSUP)
			rc = 0; /* the device has no MTU of its own: the stack's fragment size is what counts */
	}
	if (rc == 0)
		st->ports[idx].mtu = mtu;
	return port_change_finish(st, idx, rc, FFS_PORT_MTU);
}

int ffs_stack_port_set_up(struct ffs_stack *st, uint16_t port_id, bool up)
{
	int idx = port_change_begin(st, port_id);
	if (idx < 0)
		return idx;
	/* Devices without a link of their own (-ENOTSUP) are up or down in the stack alone. */
	if (!up) {
		st->ports[idx].up = false;
		if (!st->secondary)
			rte_eth_dev_set_link_down(port_id);
		return port_change_end(st, idx, FFS_PORT_DOWN);
	}
	if (!st->secondary)
		rte_eth_dev_set_link_up(port_id);
	st->ports[idx].up = true;
	return port_change_end(st, idx, FFS_PORT_UP);
}

int ffs_stack_event_fd(const struct ffs_stack *st) { return st->event_fd; }

unsigned ffs_stack_events(struct ffs_stack *st, struct ffs_event *out, unsigned max)
{
	uint64_t v;
	/* Clear the eventfd before draining: an event queued after the drain writes it again. */
	ssize_t rc = read(st->event_fd, &v, sizeof(v));
	(void)rc;
	return rte_ring_sc_dequeue_burst_elem(st->events, out, sizeof(*out), max, NULL);
}
