/*
 * An idle data-path lcore on a device without RX interrupts (a net_ring port): it naps rather than
 * spin (stack/lcore/loop.c), its naps growing while nothing comes, so that a long-idle stack wakes
 * its thread a few hundred times a second at most (loop.idle_sleeps); and a datagram an application
 * sends meanwhile wakes it at once (the lcore's wake fd), not after its nap.
 *
 * The one port has nobody behind it; the datagrams go to the port's own address and stay inside
 * the stack.
 */
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/uio.h>
#include <unistd.h>
#include <rte_cycles.h>

#include "stack/lcore/lcore.h"
#include "stack/sock/sock.h"
#include "test/stack/harness.h"
#include "test/stack/stack_env.h"

#define OUR_ADDR 0x0a450001u /* 10.69.0.1, the port's address */
/** Idle this long first: the lcore is then in its long naps, its start-up frames (MLD reports and
 *  their retransmissions, RFC 3810 §6.1) sent. */
#define IDLE_MS 2500
/** Wake-ups a long-idle lcore may take per second (naps of 1 ms made ~1000). */
#define MAX_SLEEPS_PER_S 300
#define ROUNDS 9
/** The median send to a napping lcore is handled within this: a nap left to run out would make it
 *  ~5 ms (up to 10 ms), a wake-up ~0.1 ms plus what a loaded machine's scheduler adds. */
#define SEND_WAKE_MEDIAN_MS 3.0

static struct ffs_stack *st;
static struct ffs_app *app;

static void setup(void)
{
	if (st)
		return;
	test_eal_init("idle_nap_test", "128", "--lcores=0@(0-1),1@(0-1)", "--vdev=net_ring0", NULL);
	struct ffs_conf conf;
	ffs_conf_init(&conf);
	conf.n_data_lcores = 1;
	conf.data_lcores[0] = 1;
	test_conf_port(&conf, OUR_ADDR, 0xffffff00u);
	st = test_stack_start("idle_nap_test", &conf);
	app = ffs_app_new(st);
	if (!app) {
		fprintf(stderr, "idle_nap_test: no application context\n");
		exit(2);
	}
}

static uint64_t idle_sleeps(void)
{
	struct ffs_counters c;
	ffs_stack_counters(st, 0, &c);
	return c.loop_idle_sleeps;
}

TEST(a_long_idle_lcore_without_rx_interrupts_wakes_a_few_hundred_times_a_second_at_most)
{
	setup();
	CHECK(!st->ports[0].rx_intr);
	usleep(IDLE_MS * 1000);
	uint64_t before = idle_sleeps(), t0 = rte_rdtsc();
	usleep(1000 * 1000);
	double secs = (double)(rte_rdtsc() - t0) / (double)rte_get_tsc_hz();
	double rate = (double)(idle_sleeps() - before) / secs;
	printf("# %.0f sleeps per second\n", rate);
	CHECK(rate > 0);
	CHECK(rate <= MAX_SLEEPS_PER_S);
}

static int by_value(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

TEST(a_datagram_sent_to_a_napping_lcore_is_handled_at_once)
{
	setup();
	struct ffs_sock *tx, *rx;
	CHECK_EQ_INT(ffs_sock_open(st, app, &tx), 0);
	CHECK_EQ_INT(ffs_sock_open(st, app, &rx), 0);
	rx->nonblock = true;
	CHECK_EQ_INT(ffs_sock_bind(st, rx, 0, 7100), 0);
	double ms[ROUNDS];
	for (int round = 0; round < ROUNDS; round++) {
		usleep(IDLE_MS * 1000);
		uint32_t v = (uint32_t)round;
		struct iovec iov = { &v, sizeof(v) };
		uint64_t t0 = rte_rdtsc();
		CHECK_EQ_INT(ffs_sock_sendv(st, tx, &iov, 1, OUR_ADDR, 7100), sizeof(v));
		uint32_t got = ~0u, src, dst;
		uint16_t sport;
		bool truncated;
		struct iovec in = { &got, sizeof(got) };
		/* Waiting in poll, not spinning: the lcore's thread may share this thread's CPU. */
		while (ffs_sock_recvv(st, rx, &in, 1, &src, &sport, &dst, &truncated, false) < 0) {
			CHECK(rte_rdtsc() - t0 < rte_get_tsc_hz());
			struct pollfd p = { .fd = app->event_fd, .events = POLLIN };
			poll(&p, 1, 1);
		}
		ms[round] = (double)(rte_rdtsc() - t0) * 1000 / (double)rte_get_tsc_hz();
		CHECK_EQ_INT(got, v);
		/* Re-arm the wake-up as an application's drain does, for the next round. */
		uint64_t n;
		if (ffs_app_rearm(app))
			CHECK_EQ_INT(read(app->event_fd, &n, sizeof(n)), sizeof(n));
		uint32_t ids[8];
		while (ffs_app_ready(app, ids, 8) > 0)
			ffs_sock_unlist(rx);
	}
	qsort(ms, ROUNDS, sizeof(ms[0]), by_value);
	printf("# median %.3f ms, worst %.3f ms\n", ms[ROUNDS / 2], ms[ROUNDS - 1]);
	CHECK(ms[ROUNDS / 2] < SEND_WAKE_MEDIAN_MS);
	CHECK_EQ_INT(ffs_sock_close(st, tx), 0);
	CHECK_EQ_INT(ffs_sock_close(st, rx), 0);
}

int main(int argc, char **argv)
{
	int rc = test__main(argc, argv, __FILE__);
	/* Stopped, so that a leak checker sees the stack's state freed rather than held. */
	if (st) {
		ffs_app_free(st, app);
		ffs_stack_stop(st);
	}
	return rc;
}
