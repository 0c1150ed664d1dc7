/*
 * Back-pressure on an inline lcore (ffs_driver_turns, stack/lcore/driver.c): an event-loop iteration
 * turns while turns find work, but ends after a turn that dropped datagrams at a full socket
 * (udp.fullsock rose), so the thread's listeners drain before its lcore takes in more; the next
 * iteration turns again, so a socket that never reads holds the others back one iteration at most.
 * An inline stack on a net_ring port; the floods are datagrams to 127.0.0.1, which the lcore loops
 * back itself (sent in one turn, received in the next), into a socket with a small SO_RCVBUF.
 *
 * Cases: an iteration ends with its first turn that dropped at a full socket (each turn logged with
 * udp.fullsock after it); while nobody reads the full socket, every iteration turns again and a
 * datagram sent to another socket behind the flood gets through within the iterations the flood
 * needs, and the full socket never holds more than SO_RCVBUF. Bounded: a few hundred turns.
 */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>

#include "stack/lcore/driver.h"
#include "stack/lcore/lcore.h"
#include "stack/sock/sock.h"
#include "test/stack/harness.h"
#include "test/stack/stack_env.h"

#define OUR_ADDR 0x0a470001u /* 10.71.0.1/16 */
#define LOOPBACK 0x7f000001u
#define SIZE 1000
#define FLOOD 256
#define RCVBUF 4096
#define TURNS 16
/** Iterations a flood of FLOOD datagrams needs at most: sent and looped back FFS_BURST per turn. */
#define FLOOD_ITERATIONS (2 * FLOOD / FFS_BURST + 4)

static struct ffs_stack *st;
static struct ffs_app *app;
static uint16_t next_port = 9100;

static void setup(void)
{
	if (st)
		return;
	st = test_ring_stack_start("backpressure_test", "256", OUR_ADDR, 0xffff0000u);
	app = ffs_app_new(st);
	if (!app) {
		fprintf(stderr, "backpressure_test: no application context\n");
		exit(2);
	}
}

/** A non-blocking socket bound to 127.0.0.1 on a fresh port, with receive buffer `rcvbuf`. */
static struct ffs_sock *udp_socket(int rcvbuf)
{
	struct ffs_sock *so;
	CHECK_EQ_INT(ffs_sock_open(st, app, &so), 0);
	so->nonblock = true;
	so->rcvbuf = rcvbuf;
	so->sndbuf = 1 << 22;
	CHECK_EQ_INT(ffs_sock_bind(st, so, LOOPBACK, next_port++), 0);
	return so;
}

static uint16_t port_of(const struct ffs_sock *so) { return so->lport; }

static uint64_t fullsock(void)
{
	uint64_t sum = 0;
	for (unsigned i = 0; i < ffs_stack_lcore_count(st); i++) {
		struct ffs_counters c;
		ffs_stack_counters(st, i, &c);
		sum += c.udp_fullsock;
	}
	return sum;
}

static void send_to(struct ffs_sock *from, const struct ffs_sock *to, unsigned n)
{
	static char payload[SIZE];
	struct iovec iov = { payload, SIZE };
	for (unsigned i = 0; i < n; i++)
		CHECK_EQ_INT(ffs_sock_sendv(st, from, &iov, 1, LOOPBACK, port_of(to)), SIZE);
}

/** Turns until a turn finds nothing to do (bounded). */
static void settle(void)
{
	for (unsigned i = 0; i < 10000 && ffs_stack_poll_thread(st); i++)
		;
}

/** Each turn of an iteration, with udp.fullsock after it. */
struct turn_log {
	unsigned n;
	uint64_t fullsock_after[TURNS];
};

static unsigned logged_turn(void *arg)
{
	struct turn_log *log = arg;
	unsigned work = ffs_stack_poll_thread(st);
	if (log->n < TURNS)
		log->fullsock_after[log->n++] = fullsock();
	return work;
}

static void close_all(struct ffs_sock **socks, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		CHECK_EQ_INT(ffs_sock_close(st, socks[i]), 0);
	settle();
}

TEST(an_iteration_ends_with_its_first_turn_that_drops_at_a_full_socket)
{
	setup();
	struct ffs_sock *socks[2] = { udp_socket(RCVBUF), udp_socket(1 << 16) };
	struct ffs_sock *sink = socks[0], *src = socks[1];
	settle();
	send_to(src, sink, FLOOD);
	struct ffs_driver d;
	ffs_driver_busy(&d, 0);
	struct turn_log log = { 0 };
	uint64_t before = fullsock();
	unsigned turns = ffs_driver_turns(&d, TURNS, logged_turn, &log);
	unsigned first = log.n;
	for (unsigned i = 0; i < log.n && first == log.n; i++)
		if (log.fullsock_after[i] > before)
			first = i;
	if (first == log.n)
		FAIL("no turn of %u dropped at the full socket", log.n);
	if (log.n != first + 1)
		FAIL("%u turns, the first drop in turn %u", log.n, first + 1);
	CHECK_EQ_INT(turns, log.n);
	/* The flood is not over: the next iteration turns again, and drops again. */
	struct turn_log next = { 0 };
	before = fullsock();
	CHECK(ffs_driver_turns(&d, TURNS, logged_turn, &next) >= 1);
	CHECK(next.fullsock_after[next.n - 1] > before);
	close_all(socks, 2);
}

TEST(a_socket_that_never_reads_holds_the_others_back_one_iteration_at_most)
{
	setup();
	struct ffs_sock *socks[3] = { udp_socket(RCVBUF), udp_socket(1 << 16), udp_socket(1 << 16) };
	struct ffs_sock *sink = socks[0], *src = socks[1], *other = socks[2];
	settle();
	uint64_t before = fullsock();
	send_to(src, sink, FLOOD);
	send_to(src, other, 1);
	struct ffs_driver d;
	ffs_driver_busy(&d, 0);
	char buf[SIZE];
	struct iovec iov = { buf, sizeof(buf) };
	uint32_t from, to;
	uint16_t sport;
	bool truncated;
	int got = -1;
	unsigned it = 0;
	for (; it < FLOOD_ITERATIONS && got < 0; it++) {
		if (ffs_driver_turns(&d, TURNS, ffs_stack_turn, st) == 0)
			FAIL("iteration %u took no turn with work", it);
		CHECK(atomic_load(&sink->rx_bytes) <= sink->rcvbuf);
		got = ffs_sock_recvv(st, other, &iov, 1, &from, &sport, &to, &truncated, false);
	}
	if (got != SIZE)
		FAIL("the datagram behind the flood: %d after %u iterations", got, it);
	CHECK(fullsock() > before);
	close_all(socks, 3);
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
