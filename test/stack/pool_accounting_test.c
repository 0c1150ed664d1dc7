/*
 * The packet pool's accounting and what socket churn leaves behind, on a loopback-only inline stack
 * (lcore_mask = 0x1) started from a temporary ffnet.ini; this thread drives it.
 *
 * Cases: ffs_stack_mempool_in_use counts mbufs in use exactly, and goes below its baseline on a
 * double free instead of hiding it (rte_mempool_in_use_count clamps the free count at the pool's
 * size); 100,000 rounds of ff_socket/ff_bind/ff_close (bounded to 25 s) leave the process's open
 * descriptors, its resident memory (within 8 MiB) and the pool as they were.
 */
#include <arpa/inet.h>
#include <dirent.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <rte_mbuf.h>

#include "posix/ff_api.h"
#include "stack/lcore/lcore.h"
#include "stack/stack.h"
#include "test/stack/harness.h"
#include "test/stack/stack_env.h"

#define CHURN_ROUNDS 100000
#define CHURN_WARMUP 1000
#define CHURN_BUDGET_MS 25000
#define RSS_BOUND_KIB (8 * 1024)

static struct ffs_stack *st;

static void setup(void)
{
	int rc = test_ff_init_ini("pool_accounting_test", "lcore_mask = 0x1\n");
	st = ffs_stack_current();
	if (rc != 0 || !st) {
		fprintf(stderr, "pool_accounting_test: ff_init failed\n");
		exit(2);
	}
}

/** Open descriptors of this process. */
static int open_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	CHECK(d != NULL);
	int n = 0;
	for (struct dirent *e; (e = readdir(d)) != NULL;)
		n += e->d_name[0] != '.';
	closedir(d);
	return n - 1; /* the directory's own */
}

/** Resident set size in KiB. */
static long rss_kib(void)
{
	FILE *f = fopen("/proc/self/statm", "r");
	CHECK(f != NULL);
	long size = 0, resident = 0;
	CHECK_EQ_INT(fscanf(f, "%ld %ld", &size, &resident), 2);
	fclose(f);
	return resident * (sysconf(_SC_PAGESIZE) / 1024);
}

/** Turns the inline stack's loop until a turn finds nothing to do (bounded). */
static void settle(void)
{
	for (int i = 0; i < 1000 && ffs_stack_poll(st); i++)
		;
}

TEST(in_use_counts_every_mbuf)
{
	settle();
	int base = ffs_stack_mempool_in_use(st);
	CHECK(base >= 0);
	struct rte_mbuf *m[100];
	CHECK_EQ_INT(rte_pktmbuf_alloc_bulk(st->pool, m, 100), 0);
	CHECK_EQ_INT(ffs_stack_mempool_in_use(st), base + 100);
	rte_pktmbuf_free_bulk(m, 100);
	CHECK_EQ_INT(ffs_stack_mempool_in_use(st), base);
}

TEST(double_free_shows_below_baseline)
{
	settle();
	int base = ffs_stack_mempool_in_use(st);
	struct rte_mbuf *m = rte_pktmbuf_alloc(st->pool);
	CHECK(m != NULL);
	rte_pktmbuf_free(m);
	rte_pktmbuf_free(m); /* the double free the count must reveal */
	CHECK_EQ_INT(ffs_stack_mempool_in_use(st), base - 1);
	/* The lcore's cache hands the twice-freed mbuf out twice (LIFO): take both, free one, and the
	 * pool is whole again for the cases after this one. */
	struct rte_mbuf *a = rte_pktmbuf_alloc(st->pool), *b = rte_pktmbuf_alloc(st->pool);
	CHECK(a == m && b == m);
	rte_pktmbuf_free(a);
	CHECK_EQ_INT(ffs_stack_mempool_in_use(st), base);
}

/** One round: a socket, bound to an ephemeral loopback port, closed. */
static void churn_once(void)
{
	int s = ff_socket(AF_INET, SOCK_DGRAM, 0);
	CHECK(s >= 0);
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = 0, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	CHECK_EQ_INT(ff_bind(s, (struct sockaddr *)&sin, sizeof(sin)), 0);
	CHECK_EQ_INT(ff_close(s), 0);
}

TEST(socket_churn_leaves_fds_memory_and_pool)
{
	for (int i = 0; i < CHURN_WARMUP; i++)
		churn_once();
	settle();
	int fds = open_fds(), pool = ffs_stack_mempool_in_use(st);
	long rss = rss_kib();
	uint64_t deadline = test_now_ms() + CHURN_BUDGET_MS;
	for (int i = 0; i < CHURN_ROUNDS; i++) {
		churn_once();
		if ((i & 1023) == 0 && test_now_ms() > deadline)
			FAIL("only %d of %d rounds within %d ms", i, CHURN_ROUNDS, CHURN_BUDGET_MS);
	}
	settle();
	CHECK_EQ_INT(open_fds(), fds);
	CHECK_EQ_INT(ffs_stack_mempool_in_use(st), pool);
	long grown = rss_kib() - rss;
	if (grown > RSS_BOUND_KIB)
		FAIL("resident memory grew by %ld KiB over %d rounds (bound %d KiB)", grown, CHURN_ROUNDS, RSS_BOUND_KIB);
}

int main(int argc, char **argv)
{
	setup();
	int rc = test__main(argc, argv, __FILE__);
	ff_exit();
	return rc;
}
