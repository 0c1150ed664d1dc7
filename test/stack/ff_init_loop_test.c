/*
 * ff_init from an ffnet.ini with `[dpdk] loop = inline` (posix/ff_config.c into struct ffs_conf's
 * n_inline_lcores): lcore_mask 0x3 starts a stack with two inline lcores and no data-path thread,
 * whose lcore 1 another thread claims with ff_set_lcore while the starting thread keeps lcore 0.
 * Loopback-only, so no interface is made.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <unistd.h>

#include "posix/ff_api.h"
#include "stack/stack.h"
#include "test/stack/harness.h"
#include "test/stack/stack_env.h"

static struct ffs_stack *st;

static void *claim_next(void *arg)
{
	int *out = arg;
	out[0] = ff_set_lcore(-1);
	out[1] = ffs_stack_thread_lcore(st);
	return NULL;
}

TEST(loop_inline_starts_one_inline_lcore_per_lcore_of_the_mask)
{
	CHECK_EQ_INT(test_ff_init_ini("ff_init_loop_test", "lcore_mask = 0x3\nlcores = 0@(0-1),1@(0-1)\nloop = inline\n"), 0);
	st = ffs_stack_current();
	CHECK(st != NULL);
	CHECK(ffs_stack_is_inline(st));
	CHECK_EQ_INT(ffs_stack_lcore_count(st), 2);

	/* Another thread takes the next free lcore, 1; the starting thread turns lcore 0 and cannot take 1. */
	int got[2] = { -1, -1 };
	pthread_t t;
	CHECK_EQ_INT(pthread_create(&t, NULL, claim_next, got), 0);
	CHECK_EQ_INT(pthread_join(t, NULL), 0);
	CHECK_EQ_INT(got[0], 1);
	CHECK_EQ_INT(got[1], 1);
	errno = 0;
	CHECK_EQ_INT(ff_set_lcore(1), -1);
	CHECK_EQ_INT(errno, EBUSY);
	errno = 0;
	CHECK_EQ_INT(ff_set_lcore(2), -1);
	CHECK_EQ_INT(errno, ERANGE);
}

int main(int argc, char **argv)
{
	int rc = test__main(argc, argv, __FILE__);
	ff_exit();
	return rc;
}
