/*
 * Multi-process ports (F-Stack's process-per-core model): who serves which queue.
 *
 * The primary process configures every port with n_queues RX/TX queue pairs and publishes this
 * table in a memzone; each secondary process (a cluster worker) claims one queue and serves it on
 * its own lcore, shared-nothing. The primary serves every queue that no live process has claimed,
 * so a worker that dies (SIGKILL included) leaves no queue unserved, and a new worker can take
 * the queue back. Ownership is a pid per queue, changed only by compare-and-swap:
 *   - owner == primary pid: the primary serves it; a worker asks for it by setting `want` to its
 *     pid, and the primary hands it over between two turns (so two processes never poll it at once);
 *   - owner == a dead pid: anyone may take it (the dead process polls nothing);
 *   - owner == a live pid: taken (-EBUSY).
 * Plain memory, no DPDK: the functions work on any shared mapping, which is how they are tested.
 *
 * Queues between processes, threads within one: a multi-process stack has one lcore per process
 * (lcore 0, inline; no data-path lcores, n_inline_lcores at most 1). This table decides which queues
 * that lcore serves (a secondary: the one it claimed; the primary: every queue no live worker owns);
 * the thread that started the stack turns it, and is the only thread of the process that uses the
 * stack (ffs_stack_thread_allowed: DPDK registers no other thread while processes share its memory),
 * so a hand-over between two turns is between two bursts of the whole process.
 */
#ifndef FFNET_PHY_CLUSTER_H
#define FFNET_PHY_CLUSTER_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#define FFS_CLUSTER_MAX_QUEUES 16
#define FFS_CLUSTER_MAGIC 0x66666e63u /* "ffnc" */
/** The memzone holding the table, and the rings of ARP clones: ring k for the worker owning queue k,
 *  ring n_queues for the primary. */
#define FFS_CLUSTER_MEMZONE "ffnet_cluster"
#define FFS_CLUSTER_ARP_RING "ffnet_arp%u"

/** One queue's ownership. */
struct ffs_cluster_queue {
	_Atomic int32_t owner; /**< pid of the process serving the queue */
	_Atomic int32_t want;  /**< pid of a worker waiting for the primary to hand the queue over, or 0 */
};

/** The shared table (in the memzone FFS_CLUSTER_MEMZONE). */
struct ffs_cluster_table {
	uint32_t magic;
	uint32_t n_queues;
	int32_t primary_pid;
	char pool[32]; /**< the packet pool's name (rte_mempool_lookup) */
	struct ffs_cluster_queue q[FFS_CLUSTER_MAX_QUEUES];
};

/** Fills a fresh table: every queue served by `primary_pid`. */
void ffs_cluster_table_init(struct ffs_cluster_table *t, unsigned n_queues, int32_t primary_pid, const char *pool);

/** Whether a process of that pid exists (kill(pid, 0)). */
bool ffs_cluster_pid_alive(int32_t pid);

/**
 * Claims queue k for process `pid`: at once from a dead owner, or from the primary once it has handed
 * it over (waiting up to timeout_ms). 0, -ERANGE (no such queue), -EBUSY (a live process owns it),
 * -ETIMEDOUT (the primary did not hand it over in time: it is not turning its loop).
 */
int ffs_cluster_claim(struct ffs_cluster_table *t, unsigned k, int32_t pid, unsigned timeout_ms);

/** Claims the first queue no live worker owns. The queue index, or -EBUSY / -ETIMEDOUT. */
int ffs_cluster_claim_any(struct ffs_cluster_table *t, int32_t pid, unsigned timeout_ms);

/** Gives queue k back to the primary (when `pid` owns it). */
void ffs_cluster_release(struct ffs_cluster_table *t, unsigned k, int32_t pid);

/** Whether a worker waits for the primary to hand a queue over (one load per queue, every turn). */
bool ffs_cluster_wanted(const struct ffs_cluster_table *t);

/**
 * The primary, between two turns: hands the queues workers asked for over to them, adopts the
 * queues of dead owners when `check_dead` (a kill(2) per foreign queue: call it on a slow timer),
 * and returns the mask of queues it serves now.
 */
uint32_t ffs_cluster_primary_sync(struct ffs_cluster_table *t, bool check_dead);

#endif
