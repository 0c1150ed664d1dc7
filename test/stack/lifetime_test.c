/*
 * Lifetimes across threads (stack/lcore/ctrl.c, stack/sock/sock.c): what an application thread
 * frees while data-path lcores may still touch it. A stack with two data-path lcores (lcores 1 and 2,
 * floating over the machine's first two CPUs) and no port: traffic goes through loopback.
 *
 * Cases: a control call that times out while a lcore is stopped leaves no write into the caller's
 * (dead) stack frame when that lcore resumes and acknowledges late, and the closed socket is freed
 * once it has; sockets opened, bound, fed and closed in a tight loop while both lcores deliver
 * broadcasts to them and drain their sends, after which the packet pool is back at its baseline and a
 * reused socket slot carries no send-buffer charge of its previous owner. Bounded: each case ends
 * within a few seconds.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>
#include <rte_cycles.h>
#include <rte_launch.h>

#include "stack/lcore/ctrl.h"
#include "stack/lcore/lcore.h"
#include "stack/sock/sock.h"
#include "test/stack/harness.h"
#include "test/stack/stack_env.h"

#define BCAST 0x7fffffffu /* 127.255.255.255 */
#define LO 0x7f000001u
#define FRAME_BYTES 32768
#define SCRIBBLE 0x5a

static struct ffs_stack *st;
static struct ffs_app *app;
static struct ffs_app *app_home1; /**< a context whose sockets live on lcore 1 (app's live on lcore 0) */

static void setup(void)
{
	if (st)
		return;
	test_eal_init("lifetime_test", "256", "--lcores=0@(0-1),1@(0-1),2@(0-1)", NULL);
	struct ffs_conf conf;
	test_conf_two_data_lcores(&conf);
	st = test_stack_start("lifetime_test", &conf);
	app = ffs_app_new(st);
	app_home1 = ffs_app_new(st);
	if (!app || !app_home1) {
		fprintf(stderr, "lifetime_test: no application context\n");
		exit(2);
	}
	app_home1->home = 1;
}

static struct ffs_sock *open_bound_in(struct ffs_app *in, uint32_t addr, uint16_t port, bool share)
{
	struct ffs_sock *so;
	CHECK_EQ_INT(ffs_sock_open(st, in, &so), 0);
	so->reuseaddr = share;
	so->broadcast = true;
	so->nonblock = true;
	CHECK_EQ_INT(ffs_sock_bind(st, so, addr, port), 0);
	return so;
}

static struct ffs_sock *open_bound(uint32_t addr, uint16_t port, bool share)
{
	return open_bound_in(app, addr, port, share);
}

static int send_bytes(struct ffs_sock *so, size_t len, uint32_t dst, uint16_t dport)
{
	static uint8_t payload[4000];
	struct iovec iov = { payload, len };
	return ffs_sock_sendv(st, so, &iov, 1, dst, dport);
}

/** Receives and drops what waits on so; returns how many datagrams. */
static unsigned drain(struct ffs_sock *so)
{
	static uint8_t buf[4096];
	struct iovec iov = { buf, sizeof(buf) };
	struct ffs_dgram_in in[8];
	for (unsigned i = 0; i < 8; i++)
		in[i] = (struct ffs_dgram_in){ .iov = &iov, .iovcnt = 1 };
	unsigned total = 0;
	int n;
	while ((n = ffs_sock_recvv_burst(st, so, in, 8)) > 0)
		total += (unsigned)n;
	return total;
}

/*
 * Fills a stack frame where the control call's frame was, restarts the stopped lcore, lets it apply
 * what was posted to it, and counts the bytes of this frame that changed meanwhile: a message that
 * lived on the caller's stack is written by the late acknowledgement. The lcore applies its messages
 * in order, so once one posted after them (removing a neighbour nobody added) is acknowledged, the
 * late ones are applied too.
 */
static __attribute__((noinline)) unsigned scribble_and_resume(struct ffs_lcore *lc)
{
	volatile uint8_t frame[FRAME_BYTES];
	for (unsigned i = 0; i < FRAME_BYTES; i++)
		frame[i] = SCRIBBLE;
	if (rte_eal_remote_launch(ffs_lcore_main, lc, lc->lcore_id) != 0)
		return FRAME_BYTES;
	struct ffs_ctrl_msg *after = ffs_ctrl_new(FFS_CTRL_NEIGH_DEL);
	if (!after)
		return FRAME_BYTES;
	after->u.neigh.addr = LO;
	int rc = ffs_ctrl_one(st, lc->index, after);
	ffs_ctrl_put(after);
	if (rc != 0)
		return FRAME_BYTES;
	unsigned changed = 0;
	for (unsigned i = 0; i < FRAME_BYTES; i++)
		changed += frame[i] != SCRIBBLE;
	return changed;
}

static __attribute__((noinline)) void close_socket(struct ffs_sock *so)
{
	ffs_sock_close(st, so);
}

TEST(a_control_call_that_timed_out_leaves_the_late_lcore_nothing_of_the_callers_to_write)
{
	setup();
	unsigned baseline = ffs_stack_mempool_in_use(st);
	struct ffs_sock *rx = open_bound(LO, 5100, false);
	struct ffs_sock *tx = open_bound(LO, 5101, false);
	for (int i = 0; i < 4; i++)
		CHECK(send_bytes(tx, 3000, LO, 5100) == 3000);
	uint64_t deadline = test_ms_from_now(2000);
	while (!ffs_sock_readable(rx) && rte_rdtsc() < deadline)
		rte_delay_us_sleep(1000);
	CHECK(ffs_sock_readable(rx));
	/* Lcore 1 stops: the close's removal reaches lcore 0 only, and the call gives up after its 2 s. */
	struct ffs_lcore *late = st->lcores[1];
	test_lcore_stop(late);
	uint64_t t0 = rte_rdtsc();
	close_socket(rx);
	CHECK(rte_rdtsc() - t0 >= rte_get_tsc_hz()); /* it waited for the acknowledgement in vain */
	CHECK_EQ_INT(scribble_and_resume(late), 0);
	close_socket(tx);
	/* Once the late lcore has removed it, the socket and what it held are freed. */
	CHECK_EQ_INT(test_pool_settles_at(st, (int)baseline), baseline);
}

TEST(sockets_closed_while_lcores_deliver_to_them_leave_the_pool_at_its_baseline)
{
	setup();
	unsigned baseline = ffs_stack_mempool_in_use(st);
	/* Two senders, one on each lcore's TX ring (a socket's lcore is its context's home). */
	struct ffs_sock *senders[2] = { open_bound(LO, 0, false), open_bound_in(app_home1, LO, 0, false) };
	CHECK_EQ_INT(senders[0]->tx_lcore, 0);
	CHECK_EQ_INT(senders[1]->tx_lcore, 1);
	uint64_t deadline = test_ms_from_now(4000);
	unsigned rounds = 0, received = 0;
	for (; rounds < 3000 && rte_rdtsc() < deadline; rounds++) {
		struct ffs_sock *a = open_bound(0, 5200, true);
		struct ffs_sock *b = open_bound(0, 5200, true);
		for (int k = 0; k < 2; k++) {
			send_bytes(senders[k], 100, BCAST, 5200);
			send_bytes(senders[k], 3000, BCAST, 5200); /* two mbufs */
		}
		/* The receivers send too: their charges come back from the lcores after they are closed. */
		send_bytes(a, 3000, LO, 5201);
		send_bytes(b, 100, LO, 5201);
		if (rounds % 7 == 0)
			received += drain(a);
		close_socket(a);
		if (rounds % 3 == 0)
			rte_delay_us_sleep(20);
		close_socket(b);
	}
	printf("# %u rounds, %u datagrams received before their socket closed\n", rounds, received);
	CHECK(rounds > 50);
	/* A slot freed and taken again starts with nothing charged to its send buffer. */
	rte_delay_us_sleep(20 * 1000);
	struct ffs_sock *fresh = open_bound(0, 5202, false);
	CHECK_EQ_INT(atomic_load(&fresh->tx_bytes), 0);
	CHECK_EQ_INT(atomic_load(&fresh->tx_count), 0);
	close_socket(fresh);
	close_socket(senders[0]);
	close_socket(senders[1]);
	CHECK_EQ_INT(test_pool_settles_at(st, (int)baseline), baseline);
}

int main(int argc, char **argv)
{
	int rc = test__main(argc, argv, __FILE__);
	/* Stopped, so that a leak checker sees the stack's state freed rather than held. */
	if (st)
		ffs_stack_stop(st);
	return rc;
}
