/*
 * Queue ownership of a multi-process stack (stack/phy/cluster.c): the primary serves every queue
 * until a worker claims it, hands a queue over only between its turns, and takes back the queues of
 * dead workers; a worker takes a dead owner's queue and is refused a live owner's.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include "stack/phy/cluster.h"
#include "test/stack/harness.h"

/** A process that lives until killed, as a live worker's pid. */
static pid_t live_child(void)
{
	pid_t pid = fork();
	if (pid == 0) {
		for (;;)
			pause();
	}
	return pid;
}

/** The pid of a process that has exited and been reaped. */
static pid_t dead_pid(void)
{
	pid_t pid = fork();
	if (pid == 0)
		_exit(0);
	waitpid(pid, NULL, 0);
	return pid;
}

static void reap(pid_t pid)
{
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
}

struct claimer {
	struct ffs_cluster_table *t;
	unsigned k;
	int32_t pid;
	int rc;
	atomic_bool done;
};

static void *claim_thread(void *arg)
{
	struct claimer *c = arg;
	c->rc = ffs_cluster_claim(c->t, c->k, c->pid, 2000);
	atomic_store(&c->done, true);
	return NULL;
}

TEST(a_fresh_table_has_the_primary_serving_every_queue)
{
	struct ffs_cluster_table t;
	ffs_cluster_table_init(&t, 3, getpid(), "pool");
	CHECK_EQ_INT(ffs_cluster_primary_sync(&t, true), 0x7);
	CHECK_EQ_STR(t.pool, "pool");
	CHECK_EQ_INT(ffs_cluster_claim(&t, 3, 1, 10), -ERANGE);
}

TEST(a_worker_gets_a_queue_once_the_primary_hands_it_over_between_turns)
{
	struct ffs_cluster_table t;
	ffs_cluster_table_init(&t, 2, getpid(), "pool");
	pid_t worker = live_child();
	struct claimer c = { .t = &t, .k = 1, .pid = worker };
	atomic_init(&c.done, false);
	pthread_t th;
	pthread_create(&th, NULL, claim_thread, &c);
	/* Until the primary's next turn the queue stays the primary's. */
	while (atomic_load(&t.q[1].want) != worker)
		usleep(100);
	CHECK_EQ_INT(atomic_load(&t.q[1].owner), getpid());
	uint32_t served = 0x3;
	for (int i = 0; i < 2000 && !atomic_load(&c.done); i++) {
		served = ffs_cluster_primary_sync(&t, false);
		usleep(500);
	}
	pthread_join(th, NULL);
	CHECK_EQ_INT(c.rc, 0);
	CHECK_EQ_INT(served, 0x1);
	CHECK_EQ_INT(atomic_load(&t.q[1].owner), worker);
	CHECK_EQ_INT(atomic_load(&t.q[1].want), 0);
	reap(worker);
}

TEST(a_claim_the_primary_never_answers_times_out_and_withdraws)
{
	struct ffs_cluster_table t;
	ffs_cluster_table_init(&t, 1, getpid(), "pool");
	CHECK_EQ_INT(ffs_cluster_claim(&t, 0, 12345, 20), -ETIMEDOUT);
	CHECK_EQ_INT(atomic_load(&t.q[0].want), 0);
	CHECK_EQ_INT(ffs_cluster_primary_sync(&t, false), 0x1);
}

TEST(a_live_owners_queue_is_refused_and_a_dead_owners_queue_is_taken)
{
	struct ffs_cluster_table t;
	ffs_cluster_table_init(&t, 2, getpid(), "pool");
	pid_t first = live_child();
	atomic_store(&t.q[1].owner, first);
	pid_t second = live_child();
	CHECK_EQ_INT(ffs_cluster_claim(&t, 1, second, 10), -EBUSY);
	CHECK_EQ_INT(ffs_cluster_claim_any(&t, second, 10), -ETIMEDOUT); /* queue 0: the primary does not turn here */
	reap(first); /* SIGKILL: the owner never released its queue */
	CHECK_EQ_INT(ffs_cluster_claim(&t, 1, second, 10), 0);
	CHECK_EQ_INT(atomic_load(&t.q[1].owner), second);
	CHECK_EQ_INT(ffs_cluster_primary_sync(&t, true), 0x1);
	reap(second);
}

TEST(the_primary_adopts_the_queues_of_dead_workers_on_its_check)
{
	struct ffs_cluster_table t;
	ffs_cluster_table_init(&t, 3, getpid(), "pool");
	atomic_store(&t.q[1].owner, dead_pid());
	pid_t live = live_child();
	atomic_store(&t.q[2].owner, live);
	CHECK_EQ_INT(ffs_cluster_primary_sync(&t, false), 0x1);
	CHECK_EQ_INT(ffs_cluster_primary_sync(&t, true), 0x3);
	CHECK_EQ_INT(atomic_load(&t.q[1].owner), getpid());
	CHECK_EQ_INT(atomic_load(&t.q[2].owner), live);
	/* A worker that stops gives its queue back. */
	ffs_cluster_release(&t, 2, live);
	CHECK_EQ_INT(ffs_cluster_primary_sync(&t, false), 0x7);
	reap(live);
}

TEST(a_request_left_by_a_dead_worker_does_not_block_the_next_one)
{
	struct ffs_cluster_table t;
	ffs_cluster_table_init(&t, 1, getpid(), "pool");
	atomic_store(&t.q[0].want, dead_pid());
	pid_t worker = live_child();
	struct claimer c = { .t = &t, .k = 0, .pid = worker };
	atomic_init(&c.done, false);
	pthread_t th;
	pthread_create(&th, NULL, claim_thread, &c);
	for (int i = 0; i < 2000 && !atomic_load(&c.done); i++) {
		ffs_cluster_primary_sync(&t, true);
		usleep(500);
	}
	pthread_join(th, NULL);
	CHECK_EQ_INT(c.rc, 0);
	CHECK_EQ_INT(atomic_load(&t.q[0].owner), worker);
	reap(worker);
}

TEST_MAIN()
