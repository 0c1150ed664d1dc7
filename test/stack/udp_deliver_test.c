/*
 * UDP delivery to sockets on the lcore (stack/iface/udp.c): the datagrams of one burst are gathered
 * per socket and reach each socket's receive ring together when the burst ends (udp_signal_flush),
 * with one ring enqueue and one receive-buffer update per socket, before the socket is signalled.
 * Driven through udp_input on an inline stack whose one port is a net_ring device; the test plays
 * the lcore (its turn lock is free: nothing else turns it).
 *
 * Cases: nothing reaches a ring before the burst ends, then every socket's datagrams in their order
 * and one eventfd write for the application; datagrams staged in the burst count against SO_RCVBUF
 * (udp.fullsock and the socket's drop count); a ring that fills at the end of the burst drops the
 * rest and counts it the same way; a broadcast reaches every socket once, sharing its mbuf; a burst
 * of more datagrams or sockets than the lcore gathers at once still arrives whole and in order.
 * Every case checks that the packet pool's in-use count returns to its baseline.
 */
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <rte_mbuf.h>
#include <rte_ring.h>

#include "stack/iface/iface.h"
#include "stack/lcore/lcore.h"
#include "stack/phy/mbuf.h"
#include "stack/sock/sock.h"
#include "stack/wire/checksum.h"
#include "stack/wire/udp.h"
#include "test/stack/harness.h"
#include "test/stack/stack_env.h"

#define OUR_ADDR 0x0a440001u  /* 10.68.0.1, the port's address */
#define PEER_ADDR 0x0a440002u /* 10.68.0.2 */
#define BCAST_ADDR 0x0a4400ffu
#define PEER_PORT 7000
#define MAX_SOCKS (FFS_BURST + 8)

static struct ffs_stack *st;
static struct ffs_lcore *lc;
static struct ffs_app *app;

static void setup(void)
{
	if (st)
		return;
	st = test_ring_stack_start("udp_deliver_test", "128", OUR_ADDR, 0xffffff00u);
	lc = st->lcores[0];
	app = ffs_app_new(st);
	if (!app) {
		fprintf(stderr, "udp_deliver_test: no application context\n");
		exit(2);
	}
}

static struct ffs_sock *bound_sock(uint16_t port, bool reuseaddr)
{
	struct ffs_sock *so;
	CHECK_EQ_INT(ffs_sock_open(st, app, &so), 0);
	so->reuseaddr = reuseaddr;
	so->rcvbuf = 1 << 20;
	CHECK_EQ_INT(ffs_sock_bind(st, so, 0, port), 0);
	return so;
}

/** Hands a datagram carrying `value` from PEER_ADDR to dst:dport to udp_input, as ipv4_input does. */
static void receive(uint32_t dst, uint16_t dport, uint32_t value, bool broadcast)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(st->pool);
	CHECK(m != NULL);
	uint8_t *p = (uint8_t *)rte_pktmbuf_append(m, UDP_HDR_LEN + sizeof(value));
	CHECK(p != NULL);
	memcpy(p + UDP_HDR_LEN, &value, sizeof(value));
	struct udp_repr u = { .src_port = PEER_PORT, .dst_port = dport, .payload_len = sizeof(value) };
	CHECK(udp_repr_emit(&u, p, UDP_HDR_LEN + sizeof(value), PEER_ADDR, dst, &WIRE_CSUM_SOFTWARE) > 0);
	struct ipv4_repr ip = { .src = PEER_ADDR, .dst = dst, .proto = IPV4_PROTO_UDP, .ttl = 64,
				.hdr_len = IPV4_HDR_LEN, .payload_len = UDP_HDR_LEN + sizeof(value) };
	udp_input(lc, m, &ip, &WIRE_CSUM_SOFTWARE, broadcast, false);
}

/** The charge of one datagram of `receive` against SO_RCVBUF. */
static int charge(void) { return (int)sizeof(uint32_t) + FFS_DGRAM_OVERHEAD; }

/** Takes what so's ring holds, checking that the values are first, first + step, ...; returns how many. */
static unsigned take_in_order(struct ffs_sock *so, uint32_t first, uint32_t step)
{
	void *obj;
	unsigned n = 0;
	while (rte_ring_sc_dequeue(so->rx, &obj) == 0) {
		struct rte_mbuf *m = obj;
		uint32_t v;
		memcpy(&v, rte_pktmbuf_mtod(m, const void *), sizeof(v));
		CHECK_EQ_INT(v, first + n * step);
		CHECK_EQ_INT(ffs_meta(m)->src, PEER_ADDR);
		atomic_fetch_sub(&so->rx_bytes, (int)rte_pktmbuf_pkt_len(m) + FFS_DGRAM_OVERHEAD);
		rte_pktmbuf_free(m);
		n++;
	}
	return n;
}

/** Re-arms the application's wake-up and empties its ready list; returns the eventfd's count. */
static uint64_t take_wakeups(void)
{
	uint64_t v = 0;
	if (ffs_app_rearm(app)) {
		struct pollfd pfd = { .fd = app->event_fd, .events = POLLIN };
		CHECK_EQ_INT(poll(&pfd, 1, 0), 1);
		CHECK_EQ_INT(read(app->event_fd, &v, sizeof(v)), sizeof(v));
	}
	uint32_t ids[64];
	unsigned n;
	while ((n = ffs_app_ready(app, ids, 64)) > 0)
		for (unsigned i = 0; i < n; i++)
			ffs_sock_unlist(ffs_sock_get(st, ids[i]));
	return v;
}

/** Ids the ready list holds (unlisting them), into ids; returns how many. */
static unsigned take_ready(uint32_t *ids, unsigned max)
{
	unsigned n = ffs_app_ready(app, ids, max);
	for (unsigned i = 0; i < n; i++)
		ffs_sock_unlist(ffs_sock_get(st, ids[i]));
	return n;
}

TEST(a_burst_reaches_each_socket_together_and_in_order_when_it_ends)
{
	setup();
	int base = ffs_stack_mempool_in_use(st);
	lc->now = rte_rdtsc();
	struct ffs_sock *a = bound_sock(5001, false), *b = bound_sock(5002, false);
	struct ffs_counters before = lc->ctr;
	enum { N = 12 };
	for (uint32_t i = 0; i < N; i++)
		receive(OUR_ADDR, i % 2 ? 5002 : 5001, i, false);
	/* Still the burst: nothing queued, nothing charged, nobody signalled. */
	CHECK_EQ_INT(rte_ring_count(a->rx), 0);
	CHECK_EQ_INT(rte_ring_count(b->rx), 0);
	CHECK_EQ_INT(atomic_load(&a->rx_bytes), 0);
	CHECK_EQ_INT(atomic_load(&app->notified), 0);
	udp_signal_flush(lc);
	CHECK_EQ_INT(atomic_load(&a->rx_bytes), N / 2 * charge());
	CHECK_EQ_INT(atomic_load(&b->rx_bytes), N / 2 * charge());
	CHECK_EQ_INT(lc->ctr.udp_delivered - before.udp_delivered, N);
	CHECK_EQ_INT(lc->ctr.udp_fullsock - before.udp_fullsock, 0);
	uint32_t ids[8];
	CHECK_EQ_INT(take_ready(ids, 8), 2);
	CHECK_EQ_INT(ids[0], a->id);
	CHECK_EQ_INT(ids[1], b->id);
	CHECK_EQ_INT(take_wakeups(), 1);
	CHECK_EQ_INT(take_in_order(a, 0, 2), N / 2);
	CHECK_EQ_INT(take_in_order(b, 1, 2), N / 2);
	CHECK_EQ_INT(atomic_load(&a->rx_bytes), 0);
	CHECK_EQ_INT(ffs_sock_close(st, a), 0);
	CHECK_EQ_INT(ffs_sock_close(st, b), 0);
	CHECK_EQ_INT(test_pool_settles_at(st, base), base);
}

TEST(datagrams_gathered_in_a_burst_count_against_the_receive_buffer)
{
	setup();
	int base = ffs_stack_mempool_in_use(st);
	lc->now = rte_rdtsc();
	struct ffs_sock *so = bound_sock(5003, false);
	so->rcvbuf = 3 * charge();
	struct ffs_counters before = lc->ctr;
	for (uint32_t i = 0; i < 5; i++)
		receive(OUR_ADDR, 5003, i, false);
	udp_signal_flush(lc);
	CHECK_EQ_INT(lc->ctr.udp_delivered - before.udp_delivered, 3);
	CHECK_EQ_INT(lc->ctr.udp_fullsock - before.udp_fullsock, 2);
	CHECK_EQ_INT(atomic_load(&so->rx_dropped), 2);
	CHECK_EQ_INT(atomic_load(&so->rx_bytes), 3 * charge());
	CHECK_EQ_INT(take_wakeups(), 1);
	CHECK_EQ_INT(take_in_order(so, 0, 1), 3);
	CHECK_EQ_INT(ffs_sock_close(st, so), 0);
	CHECK_EQ_INT(test_pool_settles_at(st, base), base);
}

TEST(a_ring_that_fills_at_the_end_of_the_burst_drops_the_rest_and_counts_them)
{
	setup();
	int base = ffs_stack_mempool_in_use(st);
	lc->now = rte_rdtsc();
	struct ffs_sock *so = bound_sock(5004, false);
	/* A ring with room for 3 in place of the socket's own, for the length of the case. */
	struct rte_ring *own = so->rx;
	struct rte_ring *small = rte_ring_create("udp_deliver_small", 4, SOCKET_ID_ANY, RING_F_SC_DEQ);
	CHECK(small != NULL);
	so->rx = small;
	struct ffs_counters before = lc->ctr;
	for (uint32_t i = 0; i < 5; i++)
		receive(OUR_ADDR, 5004, i, false);
	udp_signal_flush(lc);
	CHECK_EQ_INT(lc->ctr.udp_delivered - before.udp_delivered, 3);
	CHECK_EQ_INT(lc->ctr.udp_fullsock - before.udp_fullsock, 2);
	CHECK_EQ_INT(atomic_load(&so->rx_dropped), 2);
	CHECK_EQ_INT(atomic_load(&so->rx_bytes), 3 * charge());
	CHECK_EQ_INT(take_wakeups(), 1);
	CHECK_EQ_INT(take_in_order(so, 0, 1), 3);
	so->rx = own;
	rte_ring_free(small);
	CHECK_EQ_INT(ffs_sock_close(st, so), 0);
	CHECK_EQ_INT(test_pool_settles_at(st, base), base);
}

TEST(a_broadcast_reaches_every_socket_once_sharing_its_mbuf)
{
	setup();
	int base = ffs_stack_mempool_in_use(st);
	lc->now = rte_rdtsc();
	struct ffs_sock *a = bound_sock(5005, true), *b = bound_sock(5005, true);
	struct ffs_counters before = lc->ctr;
	for (uint32_t i = 0; i < 4; i++)
		receive(BCAST_ADDR, 5005, i, true);
	udp_signal_flush(lc);
	CHECK_EQ_INT(lc->ctr.udp_delivered - before.udp_delivered, 8);
	void *x, *y;
	CHECK_EQ_INT(rte_ring_sc_dequeue(a->rx, &x), 0);
	CHECK_EQ_INT(rte_ring_sc_dequeue(b->rx, &y), 0);
	CHECK(x == y);
	CHECK_EQ_INT(rte_mbuf_refcnt_read((struct rte_mbuf *)x), 2);
	rte_pktmbuf_free(x);
	rte_pktmbuf_free(y);
	atomic_fetch_sub(&a->rx_bytes, charge());
	atomic_fetch_sub(&b->rx_bytes, charge());
	CHECK_EQ_INT(take_in_order(a, 1, 1), 3);
	CHECK_EQ_INT(take_in_order(b, 1, 1), 3);
	CHECK_EQ_INT(take_wakeups(), 1);
	CHECK_EQ_INT(ffs_sock_close(st, a), 0);
	CHECK_EQ_INT(ffs_sock_close(st, b), 0);
	CHECK_EQ_INT(test_pool_settles_at(st, base), base);
}

TEST(a_burst_larger_than_the_lcore_gathers_arrives_whole_and_in_order)
{
	setup();
	int base = ffs_stack_mempool_in_use(st);
	lc->now = rte_rdtsc();
	static struct ffs_sock *socks[MAX_SOCKS];
	for (unsigned s = 0; s < MAX_SOCKS; s++)
		socks[s] = bound_sock((uint16_t)(5100 + s), false);
	struct ffs_counters before = lc->ctr;
	/* Round after round over more sockets than one burst has, then many datagrams for one. */
	enum { ROUNDS = 6, MORE = 20 * FFS_BURST };
	for (uint32_t r = 0; r < ROUNDS; r++)
		for (unsigned s = 0; s < MAX_SOCKS; s++)
			receive(OUR_ADDR, (uint16_t)(5100 + s), r, false);
	for (uint32_t i = 0; i < MORE; i++)
		receive(OUR_ADDR, 5100, ROUNDS + i, false);
	udp_signal_flush(lc);
	CHECK_EQ_INT(lc->ctr.udp_delivered - before.udp_delivered, ROUNDS * MAX_SOCKS + MORE);
	CHECK_EQ_INT(lc->ctr.udp_fullsock - before.udp_fullsock, 0);
	CHECK_EQ_INT(take_in_order(socks[0], 0, 1), ROUNDS + MORE);
	for (unsigned s = 1; s < MAX_SOCKS; s++)
		CHECK_EQ_INT(take_in_order(socks[s], 0, 1), ROUNDS);
	take_wakeups();
	for (unsigned s = 0; s < MAX_SOCKS; s++)
		CHECK_EQ_INT(ffs_sock_close(st, socks[s]), 0);
	CHECK_EQ_INT(test_pool_settles_at(st, base), base);
}

int main(int argc, char **argv)
{
	int rc = test__main(argc, argv, __FILE__);
	/* Stopped, so that a leak checker sees the stack's state freed rather than held. */
	if (st) {
		ffs_app_free(st, app);
		test_ring_stack_stop(st, 0);
	}
	return rc;
}
