/*
 * Sockets on the application thread and a data-path lcore on its own thread, sharing a running
 * stack: the paths where threads meet (socket RX rings and ready lists filled by the lcore, the
 * lcore's TX ring filled by the application, control messages binding, joining and closing sockets
 * while datagrams flow, tunables written from the application thread). Run as a plain test and
 * under ThreadSanitizer (npm run test:sanitize), which checks those meetings for data races.
 *
 * The one port is a net_ring vdev with nobody behind it; every datagram here goes to the port's
 * own address or to a group the stack itself has joined, so it stays inside the stack.
 *
 * Cases: a stream to another socket arrives complete and in order; a ping-pong between two
 * sockets; sockets bound and closed while a stream flows to another; a multicast datagram looped
 * to both SO_REUSEADDR members of a group; tunables written during a stream; the packet pool back
 * at its baseline once every socket is closed.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "stack/lcore/lcore.h"
#include "stack/sock/sock.h"
#include "test/stack/harness.h"
#include "test/stack/stack_env.h"

#define OUR_ADDR 0x0a420001u /* 10.66.0.1, the port's address */
#define GROUP 0xef420001u    /* 239.66.0.1 */
#define STREAM 2000
#define WAIT_MS 5000

static struct ffs_stack *st;
static struct ffs_app *app;
static int baseline;

/** The pool's in-use count once it has held still for 100 ms (the data-path lcore announces our
 *  address when the link comes up, and that frame is in flight for a moment), at most WAIT_MS. */
static int settled_in_use(void)
{
	int now = ffs_stack_mempool_in_use(st);
	for (int still = 0, waited = 0; still < 100 && waited < WAIT_MS; waited++) {
		usleep(1000);
		int next = ffs_stack_mempool_in_use(st);
		still = next == now ? still + 1 : 0;
		now = next;
	}
	return now;
}

static void setup(void)
{
	/* Two lcores on whatever CPUs there are: the test (0) and the data path (1). */
	test_eal_init("lcore_threads_test", "128", "--lcores=0@(0-1),1@(0-1)", "--vdev=net_ring0", NULL);
	struct ffs_conf conf;
	ffs_conf_init(&conf);
	conf.n_data_lcores = 1;
	conf.data_lcores[0] = 1;
	conf.idle_sleep_us = 0;
	test_conf_port(&conf, OUR_ADDR, 0xffffff00u);
	st = test_stack_start("lcore_threads_test", &conf);
	app = ffs_app_new(st);
	if (!app) {
		fprintf(stderr, "lcore_threads_test: no application context\n");
		exit(2);
	}
	baseline = settled_in_use();
}

static struct ffs_sock *sock_at(uint16_t port, bool reuse)
{
	struct ffs_sock *so;
	CHECK_EQ_INT(ffs_sock_open(st, app, &so), 0);
	so->nonblock = true;
	so->reuseaddr = reuse;
	CHECK_EQ_INT(ffs_sock_bind(st, so, 0, port), 0);
	return so;
}

static void send_u32(struct ffs_sock *so, uint32_t dst, uint16_t dport, uint32_t v)
{
	struct iovec iov = { &v, sizeof(v) };
	int rc;
	/* SO_SNDBUF full: the lcore drains the TX ring; wait for it rather than fail. */
	for (int tries = 0; (rc = ffs_sock_sendv(st, so, &iov, 1, dst, dport)) == -EAGAIN || rc == -ENOBUFS; tries++) {
		CHECK(tries < WAIT_MS * 10);
		usleep(100);
	}
	CHECK_EQ_INT(rc, (int)sizeof(v));
}

/** The next datagram on so (a 4-byte value), waiting up to WAIT_MS for it. */
static uint32_t recv_u32(struct ffs_sock *so)
{
	uint32_t v = 0, src, dst;
	uint16_t sport;
	bool truncated;
	struct iovec iov = { &v, sizeof(v) };
	for (int waited = 0;; waited++) {
		ffs_app_rearm(app);
		int rc = ffs_sock_recvv(st, so, &iov, 1, &src, &sport, &dst, &truncated, false);
		if (rc >= 0) {
			CHECK_EQ_INT(rc, (int)sizeof(v));
			return v;
		}
		CHECK_EQ_INT(rc, -EAGAIN);
		CHECK(waited < WAIT_MS);
		struct pollfd pfd = { .fd = app->event_fd, .events = POLLIN };
		poll(&pfd, 1, 1);
		uint64_t n;
		if (pfd.revents & POLLIN)
			CHECK(read(app->event_fd, &n, sizeof(n)) == sizeof(n));
	}
}

TEST(stream_to_another_socket_arrives_in_order)
{
	struct ffs_sock *a = sock_at(41000, false), *b = sock_at(41001, false);
	b->rcvbuf = 4 * 1024 * 1024;
	for (uint32_t i = 0; i < STREAM; i++) {
		send_u32(a, OUR_ADDR, 41001, i);
		/* Read as we go so SO_RCVBUF never drops; the lcore runs meanwhile. */
		if (i % 64 == 63)
			for (uint32_t j = i - 63; j <= i; j++)
				CHECK_EQ_INT(recv_u32(b), j);
	}
	for (uint32_t j = STREAM - STREAM % 64; j < STREAM; j++)
		CHECK_EQ_INT(recv_u32(b), j);
	ffs_sock_close(st, a);
	ffs_sock_close(st, b);
}

TEST(ping_pong_between_two_sockets)
{
	struct ffs_sock *a = sock_at(41010, false), *b = sock_at(41011, false);
	for (uint32_t i = 0; i < 300; i++) {
		send_u32(a, OUR_ADDR, 41011, i);
		CHECK_EQ_INT(recv_u32(b), i);
		send_u32(b, OUR_ADDR, 41010, i + 1);
		CHECK_EQ_INT(recv_u32(a), i + 1);
	}
	ffs_sock_close(st, a);
	ffs_sock_close(st, b);
}

TEST(sockets_bound_and_closed_while_a_stream_flows)
{
	struct ffs_sock *a = sock_at(41020, false), *b = sock_at(41021, false);
	for (uint32_t i = 0; i < 500; i++) {
		send_u32(a, OUR_ADDR, 41021, i);
		/* Every demux change is a control message the lcore applies between bursts. */
		struct ffs_sock *c = sock_at((uint16_t)(42000 + i % 50), false);
		send_u32(c, OUR_ADDR, 41021, 1000000 + i);
		ffs_sock_close(st, c);
		CHECK_EQ_INT(recv_u32(b), i);
		CHECK_EQ_INT(recv_u32(b), 1000000 + i);
	}
	ffs_sock_close(st, a);
	ffs_sock_close(st, b);
}

TEST(multicast_loops_to_both_reuseaddr_members)
{
	struct ffs_sock *a = sock_at(41030, false);
	struct ffs_sock *m1 = sock_at(41031, true), *m2 = sock_at(41031, true);
	CHECK_EQ_INT(ffs_sock_join(st, m1, GROUP, OUR_ADDR, 0), 0);
	CHECK_EQ_INT(ffs_sock_join(st, m2, GROUP, OUR_ADDR, 0), 0);
	a->mcast_if = OUR_ADDR; /* no default route: as on Linux, the group needs an interface (ENETUNREACH) */
	for (uint32_t i = 0; i < 200; i++) {
		send_u32(a, GROUP, 41031, i);
		CHECK_EQ_INT(recv_u32(m1), i);
		CHECK_EQ_INT(recv_u32(m2), i);
	}
	CHECK_EQ_INT(ffs_sock_leave(st, m1, GROUP, OUR_ADDR, 0), 0);
	ffs_sock_close(st, m1);
	ffs_sock_close(st, m2);
	ffs_sock_close(st, a);
}

TEST(tunables_written_during_a_stream)
{
	struct ffs_sock *a = sock_at(41040, false), *b = sock_at(41041, false);
	for (uint32_t i = 0; i < 300; i++) {
		send_u32(a, OUR_ADDR, 41041, i);
		CHECK_EQ_INT(ffs_stack_sysctl_set(st, FFS_SYSCTL_IP_TTL, 32 + i % 32), 0);
		CHECK_EQ_INT(recv_u32(b), i);
	}
	CHECK_EQ_INT(ffs_stack_sysctl_set(st, FFS_SYSCTL_IP_TTL, 64), 0);
	ffs_sock_close(st, a);
	ffs_sock_close(st, b);
}

TEST(pool_back_at_baseline_after_closing)
{
	/* The lcore may still hold the last burst's TX mbufs for a moment. */
	for (int waited = 0; ffs_stack_mempool_in_use(st) != baseline && waited < WAIT_MS; waited++)
		usleep(1000);
	CHECK_EQ_INT(ffs_stack_mempool_in_use(st), baseline);
}

int main(int argc, char **argv)
{
	setup();
	int rc = test__main(argc, argv, __FILE__);
	ffs_app_free(st, app);
	ffs_stack_stop(st);
	return rc;
}
