/*
 * Zero-copy receive (posix/ff_zc.h: ff_zc_recv, ff_zc_dgram_read, ff_zc_recv_free) on a
 * loopback-only inline stack (lcore_mask = 0x1) that this thread drives.
 *
 * Cases: datagrams are lent in order with their source and destination (an AF_INET6 socket's as
 * sockaddr_in6, IPv4 ones v4-mapped, a several-segment one read across its boundary); more than a burst in one
 * call; a 4000-byte datagram lent in several segments, read whole and in ranges; SO_RCVBUF keeps
 * counting lent datagrams until they are given back; a free from another thread; the pool back at
 * its baseline; EAGAIN, EBADF, EOPNOTSUPP, and a pending ECONNREFUSED reported before the datagram
 * queued behind it; a blocking socket waits for the first datagram.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <rte_mbuf.h>

#include "posix/ff_api.h"
#include "posix/ff_zc.h"
#include "stack/lcore/lcore.h"
#include "stack/sock/sock.h"
#include "stack/stack.h"
#include "test/stack/harness.h"
#include "test/stack/stack_env.h"
#include "test/stack/loopback_env.h"

TEST(lends_in_order_with_addresses)
{
	settle();
	int base = ffs_stack_mempool_in_use(st);
	int a = bound(7101), b = bound(7102);
	for (unsigned i = 0; i < 20; i++)
		send_pattern(a, 7102, i, 10 + i);
	settle();
	struct ff_zc_dgram v[32];
	CHECK_EQ_INT(ff_zc_recv(b, v, 32, MSG_DONTWAIT), 20);
	for (unsigned i = 0; i < 20; i++) {
		CHECK_EQ_INT((int)v[i].len, (int)(10 + i));
		CHECK_EQ_INT((int)v[i].seg_len, (int)v[i].len);
		CHECK(pattern_at(v[i].data, i, 0, v[i].len));
		CHECK_EQ_INT(v[i].from.sin_family, AF_INET);
		CHECK_EQ_INT(ntohl(v[i].from.sin_addr.s_addr), INADDR_LOOPBACK);
		CHECK_EQ_INT(ntohs(v[i].from.sin_port), 7101);
		CHECK_EQ_INT(ntohl(v[i].to.sin_addr.s_addr), INADDR_LOOPBACK);
		CHECK_EQ_INT(ntohs(v[i].to.sin_port), 7102);
	}
	CHECK_EQ_INT(ffs_stack_mempool_in_use(st), base + 20);
	ff_zc_recv_free(v, 20);
	CHECK(v[0].mbuf == NULL);
	CHECK_EQ_INT(ffs_stack_mempool_in_use(st), base);
	CHECK_EQ_INT(rx_bytes(b), 0);
	ff_close(a);
	ff_close(b);
}

TEST(lends_ipv6_datagrams_with_their_addresses)
{
	settle();
	int base = ffs_stack_mempool_in_use(st);
	struct sockaddr_in6 any = { .sin6_family = AF_INET6, .sin6_port = htons(7121) };
	struct sockaddr_in6 one = { .sin6_family = AF_INET6, .sin6_port = htons(7122), .sin6_addr = IN6ADDR_LOOPBACK_INIT };
	int r = ff_socket(AF_INET6, SOCK_DGRAM | SOCK_NONBLOCK, 0), s6 = ff_socket(AF_INET6, SOCK_DGRAM | SOCK_NONBLOCK, 0);
	CHECK_EQ_INT(ff_bind(r, (struct sockaddr *)&any, sizeof(any)), 0);
	CHECK_EQ_INT(ff_bind(s6, (struct sockaddr *)&one, sizeof(one)), 0);
	int s4 = bound(7123);
	static uint8_t big[4000];
	for (size_t j = 0; j < sizeof(big); j++)
		big[j] = (uint8_t)(5 + j);
	struct sockaddr_in6 to = { .sin6_family = AF_INET6, .sin6_port = htons(7121), .sin6_addr = IN6ADDR_LOOPBACK_INIT };
	CHECK_EQ_INT((int)ff_sendto(s6, big, 33, 0, (struct sockaddr *)&to, sizeof(to)), 33);
	send_pattern(s4, 7121, 2, 44);
	CHECK_EQ_INT((int)ff_sendto(s6, big, sizeof(big), 0, (struct sockaddr *)&to, sizeof(to)), (int)sizeof(big));
	settle();
	struct ff_zc_dgram v[4];
	CHECK_EQ_INT(ff_zc_recv(r, v, 4, MSG_DONTWAIT), 3);
	char text[INET6_ADDRSTRLEN];
	CHECK_EQ_INT((int)v[0].len, 33);
	CHECK(pattern_at(v[0].data, 5, 0, 33));
	CHECK_EQ_INT(v[0].from6.sin6_family, AF_INET6);
	CHECK_EQ_STR(inet_ntop(AF_INET6, &v[0].from6.sin6_addr, text, sizeof(text)), "::1");
	CHECK_EQ_INT(ntohs(v[0].from6.sin6_port), 7122);
	CHECK_EQ_INT(v[0].to6.sin6_family, AF_INET6);
	CHECK_EQ_STR(inet_ntop(AF_INET6, &v[0].to6.sin6_addr, text, sizeof(text)), "::1");
	CHECK_EQ_INT(ntohs(v[0].to6.sin6_port), 7121);
	/* An IPv4 datagram on a dual-stack socket: its addresses v4-mapped. */
	CHECK_EQ_INT((int)v[1].len, 44);
	CHECK(pattern_at(v[1].data, 2, 0, 44));
	CHECK_EQ_INT(v[1].from6.sin6_family, AF_INET6);
	CHECK_EQ_STR(inet_ntop(AF_INET6, &v[1].from6.sin6_addr, text, sizeof(text)), "::ffff:127.0.0.1");
	CHECK_EQ_INT(ntohs(v[1].from6.sin6_port), 7123);
	CHECK_EQ_STR(inet_ntop(AF_INET6, &v[1].to6.sin6_addr, text, sizeof(text)), "::ffff:127.0.0.1");
	CHECK_EQ_INT(ntohs(v[1].to6.sin6_port), 7121);
	/* Several segments, read whole and across a segment boundary. */
	CHECK_EQ_INT((int)v[2].len, (int)sizeof(big));
	CHECK((int)v[2].seg_len < (int)v[2].len);
	static uint8_t whole[4000];
	const uint8_t *p = ff_zc_dgram_read(&v[2], 0, sizeof(big), whole);
	CHECK(p != NULL);
	CHECK_MEM(p, big, sizeof(big));
	p = ff_zc_dgram_read(&v[2], v[2].seg_len - 3, 10, whole);
	CHECK_MEM(p, big + v[2].seg_len - 3, 10);
	CHECK_EQ_STR(inet_ntop(AF_INET6, &v[2].from6.sin6_addr, text, sizeof(text)), "::1");
	ff_zc_recv_free(v, 3);
	CHECK_EQ_INT(ffs_stack_mempool_in_use(st), base);
	CHECK_EQ_INT(rx_bytes(r), 0);
	ff_close(r);
	ff_close(s6);
	ff_close(s4);
}

TEST(lends_more_than_a_burst_in_one_call)
{
	settle();
	int base = ffs_stack_mempool_in_use(st);
	int a = bound(7111), b = bound(7112);
	enum { N = FFS_BURST * 3 + 5 };
	for (unsigned i = 0; i < N; i++)
		send_pattern(a, 7112, i, 64);
	settle();
	static struct ff_zc_dgram v[N + 10];
	CHECK_EQ_INT(ff_zc_recv(b, v, N + 10, 0), N);
	for (unsigned i = 0; i < N; i++)
		CHECK(pattern_at(v[i].data, i, 0, 64));
	/* Given back in two calls, in another order than lent. */
	ff_zc_recv_free(v + 7, N - 7);
	ff_zc_recv_free(v, 7);
	CHECK_EQ_INT(ffs_stack_mempool_in_use(st), base);
	CHECK_EQ_INT(rx_bytes(b), 0);
	ff_close(a);
	ff_close(b);
}

TEST(multi_segment_datagram_is_read_whole_and_in_ranges)
{
	settle();
	int base = ffs_stack_mempool_in_use(st);
	int a = bound(7121), b = bound(7122);
	send_pattern(a, 7122, 3, 4000);
	send_pattern(a, 7122, 5, 65507);
	settle();
	struct ff_zc_dgram v[2];
	CHECK_EQ_INT(ff_zc_recv(b, v, 2, 0), 2);
	CHECK_EQ_INT((int)v[0].len, 4000);
	CHECK((int)v[0].seg_len < 4000);
	CHECK(pattern_at(v[0].data, 3, 0, v[0].seg_len));
	static uint8_t buf[65536];
	const uint8_t *p = ff_zc_dgram_read(&v[0], 0, 4000, buf);
	CHECK(p == buf);
	CHECK(pattern_at(p, 3, 0, 4000));
	/* A range inside the first segment is read in place; one across segments is copied. */
	CHECK(ff_zc_dgram_read(&v[0], 10, 20, buf) == (const uint8_t *)v[0].data + 10);
	p = ff_zc_dgram_read(&v[0], v[0].seg_len - 5, 10, buf);
	CHECK(p == buf);
	CHECK(pattern_at(p, 3, v[0].seg_len - 5, 10));
	CHECK(ff_zc_dgram_read(&v[0], 3990, 11, buf) == NULL);
	CHECK(ff_zc_dgram_read(&v[0], 4001, 0, buf) == NULL);
	CHECK_EQ_INT((int)v[1].len, 65507);
	p = ff_zc_dgram_read(&v[1], 0, 65507, buf);
	CHECK(pattern_at(p, 5, 0, 65507));
	ff_zc_recv_free(v, 2);
	CHECK_EQ_INT(ffs_stack_mempool_in_use(st), base);
	ff_close(a);
	ff_close(b);
}

TEST(rcvbuf_counts_lent_datagrams_until_freed)
{
	settle();
	int a = bound(7131), b = bound(7132);
	int small = 2048; /* Linux doubles it: 4096 bytes, 12 datagrams of 64 bytes (charged 320 each) */
	CHECK_EQ_INT(ff_setsockopt(b, SOL_SOCKET, SO_RCVBUF, &small, sizeof(small)), 0);
	for (unsigned i = 0; i < 20; i++)
		send_pattern(a, 7132, i, 64);
	settle();
	struct ff_zc_dgram v[32];
	int got = ff_zc_recv(b, v, 32, 0);
	CHECK_EQ_INT(got, 4096 / (64 + FFS_DGRAM_OVERHEAD));
	CHECK_EQ_INT(rx_bytes(b), got * (64 + FFS_DGRAM_OVERHEAD));
	/* While they are lent, the socket's buffer is full: what arrives is dropped. */
	send_pattern(a, 7132, 99, 64);
	settle();
	struct ff_zc_dgram w[4];
	errno = 0;
	CHECK_EQ_INT(ff_zc_recv(b, w, 4, 0), -1);
	CHECK_EQ_INT(errno, EAGAIN);
	ff_zc_recv_free(v, (unsigned)got);
	CHECK_EQ_INT(rx_bytes(b), 0);
	send_pattern(a, 7132, 100, 64);
	settle();
	CHECK_EQ_INT(ff_zc_recv(b, w, 4, 0), 1);
	CHECK(pattern_at(w[0].data, 100, 0, 64));
	ff_zc_recv_free(w, 1);
	ff_close(a);
	ff_close(b);
}

struct freer {
	struct ff_zc_dgram *v;
	unsigned n;
};

static void *free_on_thread(void *arg)
{
	struct freer *f = arg;
	ff_zc_recv_free(f->v, f->n);
	return NULL;
}

TEST(free_from_another_thread)
{
	settle();
	int base = ffs_stack_mempool_in_use(st);
	int a = bound(7141), b = bound(7142);
	for (unsigned i = 0; i < 40; i++)
		send_pattern(a, 7142, i, 200);
	settle();
	struct ff_zc_dgram v[64];
	CHECK_EQ_INT(ff_zc_recv(b, v, 64, 0), 40);
	CHECK_EQ_INT(rx_bytes(b), 40 * (200 + FFS_DGRAM_OVERHEAD));
	struct freer f = { v, 40 };
	pthread_t t;
	CHECK_EQ_INT(pthread_create(&t, NULL, free_on_thread, &f), 0);
	CHECK_EQ_INT(pthread_join(t, NULL), 0);
	CHECK_EQ_INT(rx_bytes(b), 0);
	CHECK_EQ_INT(test_pool_settles_at(st, base), base);
	ff_close(a);
	ff_close(b);
}

TEST(free_after_close_leaves_the_new_socket_alone)
{
	settle();
	int base = ffs_stack_mempool_in_use(st);
	int a = bound(7151), b = bound(7152);
	for (unsigned i = 0; i < 5; i++)
		send_pattern(a, 7152, i, 64);
	settle();
	struct ff_zc_dgram v[8];
	CHECK_EQ_INT(ff_zc_recv(b, v, 8, 0), 5);
	CHECK_EQ_INT(ff_close(b), 0);
	/* The slot may be reused at once: its new socket's buffer is not the closed one's. */
	int c = bound(7153);
	send_pattern(a, 7153, 1, 64);
	settle();
	int before = rx_bytes(c);
	CHECK_EQ_INT(before, 64 + FFS_DGRAM_OVERHEAD);
	ff_zc_recv_free(v, 5);
	CHECK_EQ_INT(rx_bytes(c), before);
	struct ff_zc_dgram w[1];
	CHECK_EQ_INT(ff_zc_recv(c, w, 1, 0), 1);
	ff_zc_recv_free(w, 1);
	CHECK_EQ_INT(ffs_stack_mempool_in_use(st), base);
	ff_close(a);
	ff_close(c);
}

TEST(errors)
{
	settle();
	struct ff_zc_dgram v[4];
	int b = bound(7162);
	errno = 0;
	CHECK_EQ_INT(ff_zc_recv(b, v, 4, 0), -1);
	CHECK_EQ_INT(errno, EAGAIN);
	int blocking = ff_socket(AF_INET, SOCK_DGRAM, 0);
	errno = 0;
	CHECK_EQ_INT(ff_zc_recv(blocking, v, 4, MSG_DONTWAIT), -1);
	CHECK_EQ_INT(errno, EAGAIN);
	errno = 0;
	CHECK_EQ_INT(ff_zc_recv(b, v, 4, MSG_PEEK), -1);
	CHECK_EQ_INT(errno, EOPNOTSUPP);
	errno = 0;
	CHECK_EQ_INT(ff_zc_recv(-1, v, 4, 0), -1);
	CHECK_EQ_INT(errno, EBADF);
	ff_close(blocking);
	errno = 0;
	CHECK_EQ_INT(ff_zc_recv(blocking, v, 4, 0), -1);
	CHECK_EQ_INT(errno, EBADF);
	CHECK_EQ_INT(ff_zc_recv(b, v, 0, 0), 0);
	ff_close(b);
}

TEST(pending_connrefused_comes_before_queued_datagrams)
{
	settle();
	int base = ffs_stack_mempool_in_use(st);
	int c = bound(7171);
	struct sockaddr_in peer = lo(7172);
	CHECK_EQ_INT(ff_connect(c, (struct sockaddr *)&peer, sizeof(peer)), 0);
	CHECK_EQ_INT((int)ff_send(c, "x", 1, 0), 1);
	settle(); /* nobody listens on 7172: the stack answers port unreachable */
	int p = bound(7172);
	send_pattern(p, 7171, 9, 30);
	settle();
	struct ff_zc_dgram v[4];
	errno = 0;
	CHECK_EQ_INT(ff_zc_recv(c, v, 4, 0), -1);
	CHECK_EQ_INT(errno, ECONNREFUSED);
	CHECK_EQ_INT(ff_zc_recv(c, v, 4, 0), 1);
	CHECK(pattern_at(v[0].data, 9, 0, 30));
	ff_zc_recv_free(v, 1);
	CHECK_EQ_INT(ffs_stack_mempool_in_use(st), base);
	ff_close(c);
	ff_close(p);
}

TEST(held_datagram_is_lent_first)
{
	settle();
	int a = bound(7181), b = bound(7182);
	for (unsigned i = 0; i < 3; i++)
		send_pattern(a, 7182, i, 40 + i);
	settle();
	int len = 0;
	CHECK_EQ_INT(ff_ioctl(b, FIONREAD, &len), 0); /* takes the first off the ring and holds it */
	CHECK_EQ_INT(len, 40);
	struct ff_zc_dgram v[4];
	CHECK_EQ_INT(ff_zc_recv(b, v, 4, 0), 3);
	for (unsigned i = 0; i < 3; i++) {
		CHECK_EQ_INT((int)v[i].len, (int)(40 + i));
		CHECK(pattern_at(v[i].data, i, 0, v[i].len));
	}
	ff_zc_recv_free(v, 3);
	CHECK_EQ_INT(rx_bytes(b), 0);
	ff_close(a);
	ff_close(b);
}

struct late_sender {
	int fd;
	uint16_t port;
};

static void *send_later(void *arg)
{
	struct late_sender *l = arg;
	rte_delay_us_sleep(50 * 1000);
	static const char text[] = "late";
	struct sockaddr_in to = lo(l->port);
	ff_sendto(l->fd, text, 4, 0, (struct sockaddr *)&to, sizeof(to));
	return NULL;
}

TEST(blocking_socket_waits_for_the_first)
{
	settle();
	int a = bound(7191);
	int b = ff_socket(AF_INET, SOCK_DGRAM, 0);
	struct sockaddr_in sin = lo(7192);
	CHECK_EQ_INT(ff_bind(b, (struct sockaddr *)&sin, sizeof(sin)), 0);
	struct late_sender l = { a, 7192 };
	pthread_t t;
	CHECK_EQ_INT(pthread_create(&t, NULL, send_later, &l), 0);
	struct ff_zc_dgram v[4];
	int n = ff_zc_recv(b, v, 4, 0);
	CHECK_EQ_INT(pthread_join(t, NULL), 0);
	CHECK_EQ_INT(n, 1);
	CHECK_EQ_INT((int)v[0].len, 4);
	CHECK(memcmp(v[0].data, "late", 4) == 0);
	ff_zc_recv_free(v, 1);
	ff_close(a);
	ff_close(b);
}

int main(int argc, char **argv)
{
	loopback_setup("zc_recv_test");
	int rc = test__main(argc, argv, __FILE__);
	ff_exit();
	return rc;
}
