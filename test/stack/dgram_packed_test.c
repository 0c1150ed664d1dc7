/*
 * The dgram drop-in's drain, ff_dgram_recv_packed (posix/ff_dgram.h), on a loopback-only inline
 * stack (lcore_mask = 0x1) that this thread drives.
 *
 * Cases: datagrams packed back to back, 8-byte aligned, in order, with their sources, over several
 * bursts; a datagram that does not fit the buffer stays queued and is the next received; `max` is
 * kept; the datagram FIONREAD holds comes first; a pending ECONNREFUSED is reported before the
 * datagrams queued behind it; SO_RCVBUF and the pool are back at their baselines after.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

#include "posix/ff_api.h"
#include "posix/ff_dgram.h"
#include "stack/lcore/lcore.h"
#include "stack/sock/sock.h"
#include "stack/stack.h"
#include "test/stack/harness.h"
#include "test/stack/stack_env.h"
#include "test/stack/loopback_env.h"

static uint8_t buf[256 * 1024];
static struct ff_dgram_desc desc[1024];

TEST(packs_in_order_over_several_bursts)
{
	settle();
	int base = ffs_stack_mempool_in_use(st);
	int a = bound(7201), b = bound(7202);
	enum { N = FFS_BURST * 4 + 3 };
	for (unsigned i = 0; i < N; i++)
		send_pattern(a, 7202, i, 1 + i % 50);
	settle();
	CHECK_EQ_INT(ff_dgram_recv_packed(b, buf, sizeof(buf), 1024, desc), N);
	uint32_t expect_off = 0;
	for (unsigned i = 0; i < N; i++) {
		CHECK_EQ_INT((int)desc[i].offset, (int)expect_off);
		CHECK_EQ_INT((int)desc[i].len, (int)(1 + i % 50));
		CHECK_EQ_INT((int)desc[i].addr, INADDR_LOOPBACK);
		CHECK_EQ_INT((int)desc[i].port, 7201);
		CHECK(pattern_at(buf + desc[i].offset, i, 0, desc[i].len));
		expect_off += (desc[i].len + 7) & ~7u;
	}
	CHECK_EQ_INT(ff_dgram_recv_packed(b, buf, sizeof(buf), 1024, desc), -EAGAIN);
	CHECK_EQ_INT(rx_bytes(b), 0);
	CHECK_EQ_INT(ffs_stack_mempool_in_use(st), base);
	ff_close(a);
	ff_close(b);
}

TEST(datagram_that_does_not_fit_is_the_next_received)
{
	settle();
	int base = ffs_stack_mempool_in_use(st);
	int a = bound(7211), b = bound(7212);
	/* 40 datagrams of 1000 bytes; a 10,000-byte buffer takes 10 at a time (1000 is 8-aligned). */
	for (unsigned i = 0; i < 40; i++)
		send_pattern(a, 7212, i, 1000);
	settle();
	unsigned next = 0;
	for (int call = 0; call < 4; call++) {
		CHECK_EQ_INT(ff_dgram_recv_packed(b, buf, 10000, 1024, desc), 10);
		for (unsigned i = 0; i < 10; i++, next++)
			CHECK(pattern_at(buf + desc[i].offset, next, 0, 1000));
	}
	CHECK_EQ_INT(ff_dgram_recv_packed(b, buf, 10000, 1024, desc), -EAGAIN);
	/* One too long for the whole buffer is not lost either: it waits for a larger one. */
	send_pattern(a, 7212, 77, 3000);
	send_pattern(a, 7212, 78, 10);
	settle();
	CHECK_EQ_INT(ff_dgram_recv_packed(b, buf, 2000, 1024, desc), -EAGAIN);
	CHECK_EQ_INT(ff_dgram_recv_packed(b, buf, sizeof(buf), 1024, desc), 2);
	CHECK_EQ_INT((int)desc[0].len, 3000);
	CHECK(pattern_at(buf + desc[0].offset, 77, 0, 3000));
	CHECK(pattern_at(buf + desc[1].offset, 78, 0, 10));
	CHECK_EQ_INT(rx_bytes(b), 0);
	CHECK_EQ_INT(ffs_stack_mempool_in_use(st), base);
	ff_close(a);
	ff_close(b);
}

TEST(keeps_to_max)
{
	settle();
	int a = bound(7221), b = bound(7222);
	for (unsigned i = 0; i < 50; i++)
		send_pattern(a, 7222, i, 16);
	settle();
	CHECK_EQ_INT(ff_dgram_recv_packed(b, buf, sizeof(buf), 33, desc), 33);
	CHECK(pattern_at(buf + desc[32].offset, 32, 0, 16));
	CHECK_EQ_INT(ff_dgram_recv_packed(b, buf, sizeof(buf), 1024, desc), 17);
	CHECK(pattern_at(buf + desc[0].offset, 33, 0, 16));
	CHECK_EQ_INT(rx_bytes(b), 0);
	ff_close(a);
	ff_close(b);
}

TEST(held_datagram_comes_first)
{
	settle();
	int a = bound(7231), b = bound(7232);
	for (unsigned i = 0; i < 3; i++)
		send_pattern(a, 7232, i, 20 + i);
	settle();
	int len = 0;
	CHECK_EQ_INT(ff_ioctl(b, FIONREAD, &len), 0);
	CHECK_EQ_INT(len, 20);
	/* Room for the held one only: the ring's stay queued. */
	CHECK_EQ_INT(ff_dgram_recv_packed(b, buf, 24, 1024, desc), 1);
	CHECK(pattern_at(buf, 0, 0, 20));
	CHECK_EQ_INT(ff_ioctl(b, FIONREAD, &len), 0);
	CHECK_EQ_INT(len, 21);
	CHECK_EQ_INT(ff_dgram_recv_packed(b, buf, sizeof(buf), 1024, desc), 2);
	CHECK(pattern_at(buf + desc[0].offset, 1, 0, 21));
	CHECK(pattern_at(buf + desc[1].offset, 2, 0, 22));
	CHECK_EQ_INT(rx_bytes(b), 0);
	ff_close(a);
	ff_close(b);
}

TEST(pending_connrefused_comes_before_queued_datagrams)
{
	settle();
	int c = bound(7241);
	struct sockaddr_in peer = lo(7242);
	CHECK_EQ_INT(ff_connect(c, (struct sockaddr *)&peer, sizeof(peer)), 0);
	CHECK_EQ_INT((int)ff_send(c, "x", 1, 0), 1);
	settle(); /* nobody listens on 7242: the stack answers port unreachable */
	int p = bound(7242);
	send_pattern(p, 7241, 9, 30);
	settle();
	CHECK_EQ_INT(ff_dgram_recv_packed(c, buf, sizeof(buf), 1024, desc), -ECONNREFUSED);
	CHECK_EQ_INT(ff_dgram_recv_packed(c, buf, sizeof(buf), 1024, desc), 1);
	CHECK(pattern_at(buf, 9, 0, 30));
	ff_close(c);
	ff_close(p);
}

TEST(bad_descriptor)
{
	CHECK_EQ_INT(ff_dgram_recv_packed(-1, buf, sizeof(buf), 1024, desc), -EBADF);
	CHECK_EQ_INT(ff_dgram_recv_packed(FFS_MAX_SOCKS - 1, buf, sizeof(buf), 1024, desc), -EBADF);
}

int main(int argc, char **argv)
{
	loopback_setup("dgram_packed_test");
	int rc = test__main(argc, argv, __FILE__);
	ff_exit();
	return rc;
}
