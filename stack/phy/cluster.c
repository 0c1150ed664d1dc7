/* Queue ownership between the processes of a multi-process stack (see cluster.h). */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "stack/phy/cluster.h"

void ffs_cluster_table_init(struct ffs_cluster_table *t, unsigned n_queues, int32_t primary_pid, const char *pool)
{
	memset(t, 0, sizeof(*t));
	t->n_queues = n_queues > FFS_CLUSTER_MAX_QUEUES ? FFS_CLUSTER_MAX_QUEUES : n_queues;
	t->primary_pid = primary_pid;
	snprintf(t->pool, sizeof(t->pool), "%s", pool);
	for (unsigned k = 0; k < t->n_queues; k++) {
		atomic_init(&t->q[k].owner, primary_pid);
		atomic_init(&t->q[k].want, 0);
	}
	atomic_thread_fence(memory_order_release);
	t->magic = FFS_CLUSTER_MAGIC;
}

bool ffs_cluster_pid_alive(int32_t pid)
{
	return pid > 0 && (kill(pid, 0) == 0 || errno == EPERM);
}

static uint64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/** Waits for the primary to hand queue k over (after `want` was set to pid). */
static int await_handover(struct ffs_cluster_queue *q, int32_t pid, unsigned timeout_ms)
{
	uint64_t deadline = now_ms() + timeout_ms;
	const struct timespec nap = { .tv_nsec = 200 * 1000 };
	bool withdrawn = false;
	while (atomic_load(&q->owner) != pid) {
		if (now_ms() >= deadline && !withdrawn) {
			int32_t mine = pid;
			if (atomic_compare_exchange_strong(&q->want, &mine, 0))
				return -ETIMEDOUT;
			/* The primary took the request meanwhile (its CAS on `want`): the owner is being set. */
			withdrawn = true;
			deadline = now_ms() + timeout_ms;
		} else if (now_ms() >= deadline) {
			return -ETIMEDOUT;
		}
		nanosleep(&nap, NULL);
	}
	return 0;
}

int ffs_cluster_claim(struct ffs_cluster_table *t, unsigned k, int32_t pid, unsigned timeout_ms)
{
	if (k >= t->n_queues)
		return -ERANGE;
	struct ffs_cluster_queue *q = &t->q[k];
	for (;;) {
		int32_t owner = atomic_load(&q->owner);
		if (owner == pid)
			return 0;
		if (owner == t->primary_pid) {
			int32_t want = atomic_load(&q->want);
			if (want != 0 && want != pid && ffs_cluster_pid_alive(want))
				return -EBUSY;
			if (!atomic_compare_exchange_strong(&q->want, &want, pid))
				continue;
			return await_handover(q, pid, timeout_ms);
		}
		if (ffs_cluster_pid_alive(owner))
			return -EBUSY;
		/* A dead owner polls nothing: its queue is free to take. */
		if (atomic_compare_exchange_strong(&q->owner, &owner, pid))
			return 0;
	}
}

int ffs_cluster_claim_any(struct ffs_cluster_table *t, int32_t pid, unsigned timeout_ms)
{
	int rc = -EBUSY;
	for (unsigned k = 0; k < t->n_queues; k++) {
		int r = ffs_cluster_claim(t, k, pid, timeout_ms);
		if (r == 0)
			return (int)k;
		if (r == -ETIMEDOUT)
			rc = r;
	}
	return rc;
}

void ffs_cluster_release(struct ffs_cluster_table *t, unsigned k, int32_t pid)
{
	if (k >= t->n_queues)
		return;
	int32_t mine = pid;
	atomic_compare_exchange_strong(&t->q[k].owner, &mine, t->primary_pid);
}

bool ffs_cluster_wanted(const struct ffs_cluster_table *t)
{
	for (unsigned k = 0; k < t->n_queues; k++)
		if (atomic_load_explicit(&((struct ffs_cluster_table *)t)->q[k].want, memory_order_relaxed))
			return true;
	return false;
}

uint32_t ffs_cluster_primary_sync(struct ffs_cluster_table *t, bool check_dead)
{
	const int32_t self = t->primary_pid;
	uint32_t served = 0;
	for (unsigned k = 0; k < t->n_queues; k++) {
		struct ffs_cluster_queue *q = &t->q[k];
		int32_t owner = atomic_load(&q->owner);
		if (owner == self) {
			int32_t want = atomic_load(&q->want);
			/* A request withdrawn meanwhile (the worker gave up waiting) leaves the queue here. */
			if (want == 0 || !atomic_compare_exchange_strong(&q->want, &want, 0)) {
				served |= 1u << k;
				continue;
			}
			/* Handed over between two turns: this process is not inside a burst on it now. */
			atomic_store(&q->owner, want);
			owner = want;
		}
		if (check_dead && !ffs_cluster_pid_alive(owner) && atomic_compare_exchange_strong(&q->owner, &owner, self))
			served |= 1u << k;
	}
	return served;
}
