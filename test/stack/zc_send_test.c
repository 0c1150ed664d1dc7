/*
 * Zero-copy sends (posix/ff_zc.h, posix/ff_zc_send.c) on an inline stack started by ff_init, over the
 * stack's loopback to ff sockets: datagrams of 0, 64, 1472, 4000 and 65507 bytes written with
 * ff_zc_mbuf_write, and one written in place through ff_zc_mbuf_data, arrive byte for byte; a
 * connected socket sends without `to`; AF_INET6 sockets over ::1 up to 65527 bytes, to v4-mapped
 * peers and connected; the errors: EMSGSIZE past 65527 from ff_zc_mbuf_get and past 65507 from an
 * AF_INET socket's ff_zc_sendto, ENOBUFS from ff_zc_mbuf_get
 * when the pool is dry, EAGAIN when SO_SNDBUF is full (the buffers stay the caller's: sent once
 * there is room), EINVAL for a write past the length or a datagram not written to its end,
 * EDESTADDRREQ, EBADF. The pool is back at its baseline after each case.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>

#include "posix/ff_api.h"
#include "posix/ff_zc.h"
#include "stack/stack.h"
#include "test/stack/harness.h"
#include "test/stack/stack_env.h"

#define SA(x) ((struct sockaddr *)&(x))

static struct ffs_stack *st;
static int pool_baseline;
static uint16_t next_port = 7100;
/* Room past 65527 bytes (udp6's largest): the size cases read big + i for case i. */
static uint8_t big[65527 + 16], got[65536];

/** Turns the inline stack until it has had nothing to do for a while (bounded: 200 ms). */
static void settle(void)
{
	uint64_t deadline = test_ms_from_now(200);
	for (unsigned idle = 0; idle < 64 && rte_rdtsc() < deadline;)
		idle = ffs_stack_poll(st) ? 0 : idle + 1;
}

static void begin(void)
{
	if (!st) {
		CHECK_EQ_INT(test_ff_init_ini("zc_send_test", "lcore_mask = 0x1\n"), 0);
		st = ffs_stack_current();
		CHECK(st != NULL);
		settle();
		pool_baseline = ffs_stack_mempool_in_use(st);
		for (size_t i = 0; i < sizeof(big); i++)
			big[i] = (uint8_t)(i * 7 + i / 251);
	}
}

/** Closes the case's sockets and checks that the pool is back at its baseline. */
static void end(int a, int b)
{
	if (a >= 0)
		ff_close(a);
	if (b >= 0)
		ff_close(b);
	settle();
	CHECK_EQ_INT(test_pool_settles_at(st, pool_baseline), pool_baseline);
}

static struct sockaddr_in lo(uint16_t port)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port) };
	a.sin_addr.s_addr = htonl(0x7f000001u);
	return a;
}

/** A non-blocking UDP socket bound to 127.0.0.1 on a port of its own; *port says which. */
static int bound(uint16_t *port)
{
	int s = ff_socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
	CHECK(s >= 0);
	*port = next_port++;
	struct sockaddr_in a = lo(*port);
	CHECK_EQ_INT(ff_bind(s, SA(a), sizeof(a)), 0);
	return s;
}

/** Receives one datagram on r (turning the stack until it comes); returns its length. */
static ssize_t recv_one(int r)
{
	for (int i = 0; i < 100; i++) {
		ssize_t n = ff_recv(r, got, sizeof(got), MSG_DONTWAIT);
		if (n >= 0 || errno != EAGAIN)
			return n;
		settle();
	}
	return -1;
}

/*
 * Sends sizes[0..n) from a to `to` (b's address), each written in two parts (the first ending inside a
 * segment), and checks each arrives on b whole, from a's port `pa` over `family`.
 */
static void sizes_arrive(int a, uint16_t pa, int b, const struct sockaddr *to, socklen_t tolen, int family, const int *sizes,
			 size_t n)
{
	int rcvbuf = 1 << 20;
	CHECK_EQ_INT(ff_setsockopt(b, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf)), 0);
	for (size_t i = 0; i < n; i++) {
		struct ff_zc_mbuf m;
		CHECK_EQ_INT(ff_zc_mbuf_get(&m, sizes[i]), 0);
		CHECK_EQ_INT(m.len, sizes[i]);
		CHECK_EQ_INT(m.off, 0);
		int half = sizes[i] / 3;
		CHECK_EQ_INT(ff_zc_mbuf_write(&m, (const char *)big + i, half), 0);
		CHECK_EQ_INT(ff_zc_mbuf_write(&m, (const char *)big + i + half, sizes[i] - half), 0);
		CHECK_EQ_INT(m.off, sizes[i]);
		CHECK_EQ_INT(ff_zc_sendto(a, &m, 0, to, tolen), sizes[i]);
		CHECK(m.bsd_mbuf == NULL);
		struct sockaddr_storage from;
		socklen_t fl = sizeof(from);
		ssize_t got_len;
		for (int tries = 0; (got_len = ff_recvfrom(b, got, sizeof(got), MSG_DONTWAIT, SA(from), &fl)) < 0 && tries < 100; tries++)
			settle();
		CHECK_EQ_INT(got_len, sizes[i]);
		CHECK_MEM(got, big + i, (size_t)sizes[i]);
		CHECK_EQ_INT(from.ss_family, family);
		/* sin_port and sin6_port lie at the same offset. */
		CHECK_EQ_INT(ntohs(((struct sockaddr_in *)&from)->sin_port), pa);
	}
}

TEST(sizes_arrive_intact)
{
	begin();
	uint16_t pa, pb;
	int a = bound(&pa), b = bound(&pb);
	struct sockaddr_in to = lo(pb);
	static const int sizes[] = { 0, 64, 1472, 4000, 65507 };
	sizes_arrive(a, pa, b, SA(to), sizeof(to), AF_INET, sizes, RTE_DIM(sizes));
	end(a, b);
}

TEST(written_in_place)
{
	begin();
	uint16_t pa, pb;
	int a = bound(&pa), b = bound(&pb);
	struct sockaddr_in to = lo(pb);
	struct ff_zc_mbuf m;
	CHECK_EQ_INT(ff_zc_mbuf_get(&m, 6000), 0);
	int avail, segs = 0;
	for (uint8_t *p; (p = ff_zc_mbuf_data(&m, &avail)) != NULL; segs++) {
		CHECK(avail > 0 && avail <= m.len - m.off);
		memcpy(p, big + m.off, (size_t)avail);
		m.off += avail;
	}
	CHECK(segs >= 2);
	CHECK_EQ_INT(avail, 0);
	CHECK_EQ_INT(ff_zc_sendto(a, &m, 0, SA(to), sizeof(to)), 6000);
	CHECK_EQ_INT(recv_one(b), 6000);
	CHECK_MEM(got, big, 6000);
	end(a, b);
}

/** Connects a to `to` (b's address) and sends b a datagram without naming it. */
static void connected_sends(int a, int b, const struct sockaddr *to, socklen_t tolen)
{
	struct ff_zc_mbuf m;
	CHECK_EQ_INT(ff_connect(a, to, tolen), 0);
	CHECK_EQ_INT(ff_zc_mbuf_get(&m, 5), 0);
	CHECK_EQ_INT(ff_zc_mbuf_write(&m, "hello", 5), 0);
	CHECK_EQ_INT(ff_zc_sendto(a, &m, 0, NULL, 0), 5);
	CHECK_EQ_INT(recv_one(b), 5);
	CHECK_MEM(got, "hello", 5);
}

TEST(connected_socket_sends_without_to)
{
	begin();
	uint16_t pa, pb;
	int a = bound(&pa), b = bound(&pb);
	struct sockaddr_in to = lo(pb);
	struct ff_zc_mbuf m;
	CHECK_EQ_INT(ff_zc_mbuf_get(&m, 5), 0);
	CHECK_EQ_INT(ff_zc_mbuf_write(&m, "hello", 5), 0);
	/* Not connected, no `to`: EDESTADDRREQ, and the buffers are taken as ff_zc.h says. */
	CHECK_EQ_INT(ff_zc_sendto(a, &m, 0, NULL, 0), -1);
	CHECK_EQ_INT(errno, EDESTADDRREQ);
	CHECK(m.bsd_mbuf == NULL);
	connected_sends(a, b, SA(to), sizeof(to));
	end(a, b);
}

/** A non-blocking AF_INET6 socket bound to ::1 on a port of its own; *port says which. */
static int bound6(uint16_t *port)
{
	int s = ff_socket(AF_INET6, SOCK_DGRAM | SOCK_NONBLOCK, 0);
	CHECK(s >= 0);
	*port = next_port++;
	struct sockaddr_in6 a = { .sin6_family = AF_INET6, .sin6_port = htons(*port), .sin6_addr = IN6ADDR_LOOPBACK_INIT };
	CHECK_EQ_INT(ff_bind(s, SA(a), sizeof(a)), 0);
	return s;
}

TEST(ipv6_sizes_arrive_intact_up_to_65527)
{
	begin();
	uint16_t pa, pb, p4;
	int a = bound6(&pa), b = bound6(&pb);
	struct sockaddr_in6 to = { .sin6_family = AF_INET6, .sin6_port = htons(pb), .sin6_addr = IN6ADDR_LOOPBACK_INIT };
	/* UDP over IPv6 carries 65527 bytes (no IPv4 header in the 65535 of the payload length). */
	static const int sizes[] = { 0, 64, 1452, 4000, 65507, 65527 };
	sizes_arrive(a, pa, b, SA(to), sizeof(to), AF_INET6, sizes, RTE_DIM(sizes));
	struct ff_zc_mbuf m;
	CHECK_EQ_INT(ff_zc_mbuf_get(&m, 65528), -1);
	CHECK_EQ_INT(errno, EMSGSIZE);
	/* 65527 bytes are too many for an AF_INET socket: EMSGSIZE from the send, the buffers taken. */
	int c = bound(&p4);
	struct sockaddr_in to4 = lo(p4);
	CHECK_EQ_INT(ff_zc_mbuf_get(&m, 65527), 0);
	CHECK_EQ_INT(ff_zc_mbuf_write(&m, (const char *)big, 65527), 0);
	CHECK_EQ_INT(ff_zc_sendto(c, &m, 0, SA(to4), sizeof(to4)), -1);
	CHECK_EQ_INT(errno, EMSGSIZE);
	CHECK(m.bsd_mbuf == NULL);
	ff_close(c);
	/* A v4-mapped destination goes over IPv4 from a dual-stack socket. */
	int d = ff_socket(AF_INET6, SOCK_DGRAM | SOCK_NONBLOCK, 0), e = bound(&p4);
	struct sockaddr_in6 mapped = { .sin6_family = AF_INET6, .sin6_port = htons(p4) };
	CHECK_EQ_INT(inet_pton(AF_INET6, "::ffff:127.0.0.1", &mapped.sin6_addr), 1);
	CHECK_EQ_INT(ff_zc_mbuf_get(&m, 5), 0);
	CHECK_EQ_INT(ff_zc_mbuf_write(&m, "mapped", 5), 0);
	CHECK_EQ_INT(ff_zc_sendto(d, &m, 0, SA(mapped), sizeof(mapped)), 5);
	CHECK_EQ_INT(recv_one(e), 5);
	CHECK_MEM(got, "mappe", 5);
	ff_close(d);
	ff_close(e);
	/* Connected to [::1]: no `to`. */
	connected_sends(a, b, SA(to), sizeof(to));
	end(a, b);
}

TEST(argument_errors)
{
	begin();
	uint16_t pa, pb;
	int a = bound(&pa), b = bound(&pb);
	struct sockaddr_in to = lo(pb);
	struct ff_zc_mbuf m;
	CHECK_EQ_INT(ff_zc_mbuf_get(&m, 65528), -1);
	CHECK_EQ_INT(errno, EMSGSIZE);
	CHECK_EQ_INT(ff_zc_mbuf_get(&m, -1), -1);
	CHECK_EQ_INT(errno, EMSGSIZE);
	CHECK_EQ_INT(ff_zc_mbuf_get(&m, 10), 0);
	CHECK_EQ_INT(ff_zc_mbuf_write(&m, "0123456789x", 11), -1);
	CHECK_EQ_INT(errno, EINVAL);
	CHECK_EQ_INT(m.off, 0);
	CHECK_EQ_INT(ff_zc_mbuf_write(&m, "01234", 5), 0);
	/* Half written: never sent with what the buffers held before. */
	CHECK_EQ_INT(ff_zc_sendto(a, &m, 0, SA(to), sizeof(to)), -1);
	CHECK_EQ_INT(errno, EINVAL);
	CHECK(m.bsd_mbuf == NULL);
	CHECK_EQ_INT(ff_zc_mbuf_get(&m, 3), 0);
	CHECK_EQ_INT(ff_zc_mbuf_write(&m, "abc", 3), 0);
	CHECK_EQ_INT(ff_zc_sendto(9999, &m, 0, SA(to), sizeof(to)), -1);
	CHECK_EQ_INT(errno, EBADF);
	CHECK(m.bsd_mbuf == NULL);
	/* Given back unsent. */
	CHECK_EQ_INT(ff_zc_mbuf_get(&m, 3000), 0);
	ff_zc_mbuf_free(&m);
	CHECK(m.bsd_mbuf == NULL);
	settle();
	CHECK_EQ_INT(ff_recv(b, got, sizeof(got), MSG_DONTWAIT), -1);
	CHECK_EQ_INT(errno, EAGAIN);
	end(a, b);
}

TEST(enobufs_when_the_pool_is_dry)
{
	begin();
	/* Take every mbuf there is, then ask for one more datagram. */
	enum { MAX = 65536 };
	static struct ff_zc_mbuf held[MAX];
	int n = 0;
	while (n < MAX && ff_zc_mbuf_get(&held[n], 1000) == 0)
		n++;
	CHECK(n > 100 && n < MAX);
	CHECK_EQ_INT(errno, ENOBUFS);
	struct ff_zc_mbuf m;
	CHECK_EQ_INT(ff_zc_mbuf_get(&m, 64), -1);
	CHECK_EQ_INT(errno, ENOBUFS);
	for (int i = 0; i < n; i++)
		ff_zc_mbuf_free(&held[i]);
	CHECK_EQ_INT(ff_zc_mbuf_get(&m, 64), 0);
	ff_zc_mbuf_free(&m);
	end(-1, -1);
}

TEST(eagain_keeps_the_buffers_the_callers)
{
	begin();
	uint16_t pa, pb;
	int a = bound(&pa), b = bound(&pb);
	struct sockaddr_in to = lo(pb);
	int sndbuf = 4608, rcvbuf = 1 << 20;
	CHECK_EQ_INT(ff_setsockopt(a, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof(sndbuf)), 0);
	CHECK_EQ_INT(ff_setsockopt(b, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf)), 0);
	/* Without a turn of the stack nothing leaves the TX ring: SO_SNDBUF fills. */
	int sent = 0;
	struct ff_zc_mbuf m;
	for (;;) {
		CHECK_EQ_INT(ff_zc_mbuf_get(&m, 1000), 0);
		CHECK_EQ_INT(ff_zc_mbuf_write(&m, (const char *)big, 1000), 0);
		if (ff_zc_sendto(a, &m, 0, SA(to), sizeof(to)) < 0)
			break;
		sent++;
		CHECK(sent < 100);
	}
	CHECK_EQ_INT(errno, EAGAIN);
	CHECK(sent >= 1);
	CHECK(m.bsd_mbuf != NULL);
	CHECK_EQ_INT(m.off, 1000);
	settle();
	/* The same buffers, once there is room. */
	CHECK_EQ_INT(ff_zc_sendto(a, &m, 0, SA(to), sizeof(to)), 1000);
	CHECK(m.bsd_mbuf == NULL);
	settle();
	for (int i = 0; i <= sent; i++) {
		CHECK_EQ_INT(recv_one(b), 1000);
		CHECK_MEM(got, big, 1000);
	}
	CHECK_EQ_INT(ff_recv(b, got, sizeof(got), MSG_DONTWAIT), -1);
	end(a, b);
}

TEST(stack_stops)
{
	begin();
	CHECK_EQ_INT(test_pool_settles_at(st, pool_baseline), pool_baseline);
	ff_exit();
	st = NULL;
	struct ff_zc_mbuf m;
	CHECK_EQ_INT(ff_zc_mbuf_get(&m, 64), -1);
	CHECK_EQ_INT(errno, ENETDOWN);
}

TEST_MAIN()
