/*
 * Static routes with metrics and preferred sources (stack/iface/route.c), on an inline stack with two
 * net_ring ports: port 0 at 10.0.0.1/16 (gateway 10.0.0.254) and port 1 at 10.1.0.1/24, and the
 * routes [portN] route[] configures (ffs_port_conf.routes).
 *
 * Cases: the configured routes are in the table with their src and metric; among routes to one
 * prefix the lowest metric wins, a delete without a metric takes the lowest, with one that one;
 * a static route to a connected subnet needs a metric other than 0; a route's src is what an unbound
 * socket sends from through it (route_source, and the UDP datagrams the port transmits), and it must
 * be one of the stack's addresses; a route whose src the stack no longer has goes; and readers on
 * other threads, while a writer adds and deletes routes of several metrics, only ever see a table
 * some completed change gave, and after a change returns no lookup gives the old answer (built
 * under TSan by npm run test:sanitize, where any unordered access is reported).
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sys/uio.h>
#include <unistd.h>
#include <rte_mbuf.h>

#include "stack/iface/iface.h"
#include "stack/lcore/lcore.h"
#include "stack/sock/sock.h"
#include "stack/wire/endian.h"
#include "stack/wire/eth.h"
#include "test/stack/harness.h"
#include "test/stack/stack_env.h"

#define IP(a, b, c, d) ((uint32_t)(a) << 24 | (uint32_t)(b) << 16 | (uint32_t)(c) << 8 | (uint32_t)(d))
#define ADDR0 IP(10, 0, 0, 1)
#define ADDR1 IP(10, 1, 0, 1)
#define GATEWAY IP(10, 0, 0, 254)
#define DEST IP(192, 168, 0, 0) /* /16, the routes the cases change */

static struct ffs_stack *st;

static void setup(void)
{
	if (st)
		return;
	test_eal_init("route_metric_test", "128", "-l", "0", "--vdev=net_ring0", "--vdev=net_ring1", NULL);
	struct ffs_conf conf;
	ffs_conf_init(&conf);
	test_conf_port(&conf, ADDR0, 0xffff0000u);
	conf.ports[0].gateway = GATEWAY;
	conf.ports[1] = (struct ffs_port_conf){ .port_id = 1, .addr = ADDR1, .netmask = 0xffffff00u,
						.broadcast = ADDR1 | 0xffu, .mtu = 1500 };
	conf.n_ports = 2;
	/* [port1] route[] = 172.20.0.0/16 via 10.1.0.9 src 10.0.0.1 metric 7, and default via 10.1.0.9 metric 100 */
	conf.ports[1].n_routes = 2;
	conf.ports[1].routes[0] = (struct ffs_conf_route){ .dest = IP(172, 20, 0, 0), .prefixlen = 16, .gateway = IP(10, 1, 0, 9),
							   .src = ADDR0, .metric = 7 };
	conf.ports[1].routes[1] = (struct ffs_conf_route){ .dest = 0, .prefixlen = 0, .gateway = IP(10, 1, 0, 9), .metric = 100 };
	st = test_stack_start("route_metric_test", &conf);
	test_port_drain(st->lcores[0], NULL, 0);
}

/** The next hop route_lookup gives for dst (0 when there is no route). */
static uint32_t hop(uint32_t dst)
{
	uint32_t nexthop = 0;
	return route_lookup(st, dst, &nexthop) ? nexthop : 0;
}

/** The static routes to DEST/16 gone. */
static void reset(void)
{
	setup();
	while (ffs_stack_route_del(st, DEST, 16) == 0)
		;
}

/** An unbound socket of a new application. */
static struct ffs_sock *unbound_socket(void)
{
	struct ffs_app *app = ffs_app_new(st);
	CHECK(app != NULL);
	struct ffs_sock *so;
	CHECK_EQ_INT(ffs_sock_open(st, app, &so), 0);
	return so;
}

TEST(the_configured_routes_carry_their_source_and_metric)
{
	setup();
	struct ffs_route_info r[FFS_MAX_ROUTES];
	int n = ffs_stack_route_dump(st, r, FFS_MAX_ROUTES);
	CHECK_EQ_INT(n, 5); /* 10.1.0.0/24, 10.0.0.0/16, 172.20.0.0/16, default metric 0, default metric 100 */
	CHECK_EQ_INT(r[2].dest, IP(172, 20, 0, 0));
	CHECK_EQ_INT(r[2].gateway, IP(10, 1, 0, 9));
	CHECK_EQ_INT(r[2].src, ADDR0);
	CHECK_EQ_INT(r[2].metric, 7);
	CHECK_EQ_INT(r[2].port_id, 1);
	CHECK_EQ_INT(r[3].dest, 0);
	CHECK_EQ_INT(r[3].gateway, GATEWAY);
	CHECK_EQ_INT(r[3].metric, 0);
	CHECK_EQ_INT(r[4].dest, 0);
	CHECK_EQ_INT(r[4].gateway, IP(10, 1, 0, 9));
	CHECK_EQ_INT(r[4].metric, 100);
	CHECK_EQ_INT(r[4].src, 0);
	/* The default of metric 0 wins; without it the one of metric 100 does. */
	CHECK_EQ_INT(hop(IP(8, 8, 8, 8)), GATEWAY);
	CHECK_EQ_INT(ffs_stack_route_del_ex(st, 0, 0, 0), 0);
	CHECK_EQ_INT(hop(IP(8, 8, 8, 8)), IP(10, 1, 0, 9));
	CHECK_EQ_INT(route_source(st, IP(8, 8, 8, 8)), ADDR1);
	CHECK_EQ_INT(ffs_stack_route_add(st, 0, 0, GATEWAY), 0);
	CHECK_EQ_INT(hop(IP(8, 8, 8, 8)), GATEWAY);
	CHECK_EQ_INT(route_source(st, IP(8, 8, 8, 8)), ADDR0);
}

TEST(the_lowest_metric_wins_among_routes_to_one_prefix)
{
	reset();
	CHECK_EQ_INT(ffs_stack_route_add_ex(st, DEST, 16, IP(10, 0, 0, 5), 0, 100), 0);
	CHECK_EQ_INT(hop(IP(192, 168, 3, 3)), IP(10, 0, 0, 5));
	CHECK_EQ_INT(ffs_stack_route_add_ex(st, DEST, 16, IP(10, 0, 0, 6), 0, 50), 0);
	CHECK_EQ_INT(hop(IP(192, 168, 3, 3)), IP(10, 0, 0, 6));
	CHECK_EQ_INT(ffs_stack_route_add_ex(st, DEST, 16, IP(10, 0, 0, 7), 0, 50), -EEXIST);
	CHECK_EQ_INT(ffs_stack_route_add_ex(st, DEST, 16, IP(10, 1, 0, 7), 0, 0), 0); /* through port 1 */
	uint32_t nexthop;
	const struct ffs_port *p = route_lookup(st, IP(192, 168, 3, 3), &nexthop);
	CHECK(p != NULL);
	CHECK_EQ_INT(p->index, 1);
	CHECK_EQ_INT(nexthop, IP(10, 1, 0, 7));
	/* A longer prefix still wins over a lower metric. */
	CHECK_EQ_INT(ffs_stack_route_add_ex(st, IP(192, 168, 3, 0), 24, IP(10, 0, 0, 8), 0, 1000), 0);
	CHECK_EQ_INT(hop(IP(192, 168, 3, 3)), IP(10, 0, 0, 8));
	CHECK_EQ_INT(ffs_stack_route_del(st, IP(192, 168, 3, 0), 24), 0);
	/* The dump is the lookup order: metric 0, 50, 100. */
	struct ffs_route_info r[FFS_MAX_ROUTES];
	int n = ffs_stack_route_dump(st, r, FFS_MAX_ROUTES);
	uint32_t metrics[3], k = 0;
	for (int i = 0; i < n; i++)
		if (r[i].dest == DEST && r[i].prefixlen == 16 && k < 3)
			metrics[k++] = r[i].metric;
	CHECK_EQ_INT(k, 3);
	CHECK_EQ_INT(metrics[0], 0);
	CHECK_EQ_INT(metrics[1], 50);
	CHECK_EQ_INT(metrics[2], 100);
	/* Delete by metric, then without one: the lowest goes. */
	CHECK_EQ_INT(ffs_stack_route_del_ex(st, DEST, 16, 7), -ESRCH);
	CHECK_EQ_INT(ffs_stack_route_del_ex(st, DEST, 16, 50), 0);
	CHECK_EQ_INT(hop(IP(192, 168, 3, 3)), IP(10, 1, 0, 7));
	CHECK_EQ_INT(ffs_stack_route_del(st, DEST, 16), 0);
	CHECK_EQ_INT(hop(IP(192, 168, 3, 3)), IP(10, 0, 0, 5));
	CHECK_EQ_INT(ffs_stack_route_del(st, DEST, 16), 0);
	CHECK_EQ_INT(ffs_stack_route_del(st, DEST, 16), -ESRCH);
	CHECK_EQ_INT(hop(IP(192, 168, 3, 3)), GATEWAY);
}

TEST(a_static_route_to_a_connected_subnet_needs_another_metric)
{
	reset();
	CHECK_EQ_INT(ffs_stack_route_add_ex(st, IP(10, 1, 0, 0), 24, IP(10, 0, 0, 5), 0, 0), -EEXIST);
	CHECK_EQ_INT(ffs_stack_route_add_ex(st, IP(10, 1, 0, 0), 24, IP(10, 0, 0, 5), 0, 10), 0);
	CHECK_EQ_INT(hop(IP(10, 1, 0, 77)), IP(10, 1, 0, 77)); /* the connected route (metric 0) first */
	CHECK_EQ_INT(ffs_stack_route_del(st, IP(10, 1, 0, 0), 24), 0); /* the static one, not the connected */
	CHECK_EQ_INT(ffs_stack_route_del(st, IP(10, 1, 0, 0), 24), -EPERM);
	CHECK_EQ_INT(ffs_stack_route_del_ex(st, IP(10, 1, 0, 0), 24, 0), -EPERM);
}

/** An IPv4 UDP frame (what the socket sent, not what the stack says on its own: ARP, ND, MLD). */
static bool is_udp4(const uint8_t *frame, size_t len)
{
	return len >= ETH_HDR_LEN + 20 && frame[12] == 0x08 && frame[13] == 0x00 && frame[ETH_HDR_LEN + 9] == 17;
}

TEST(a_routes_source_must_be_the_stacks_and_is_what_unbound_sockets_send_from)
{
	reset();
	CHECK_EQ_INT(ffs_stack_route_add_ex(st, DEST, 16, IP(10, 0, 0, 5), IP(10, 0, 0, 99), 0), -EADDRNOTAVAIL);
	CHECK_EQ_INT(ffs_stack_route_add_ex(st, DEST, 16, IP(10, 0, 0, 5), IP(127, 0, 0, 1), 0), -EADDRNOTAVAIL);
	CHECK_EQ_INT(route_source(st, IP(192, 168, 3, 3)), ADDR0); /* the default route's port */
	/* Through port 0, from port 1's address. */
	CHECK_EQ_INT(ffs_stack_route_add_ex(st, DEST, 16, IP(10, 0, 0, 5), ADDR1, 0), 0);
	CHECK_EQ_INT(route_source(st, IP(192, 168, 3, 3)), ADDR1);
	CHECK_EQ_INT(route_source(st, IP(172, 20, 1, 1)), ADDR0); /* the configured one: via port 1, src port 0's */
	/* An unbound socket's datagram leaves port 0 from ADDR1. */
	struct ffs_lcore *lc = st->lcores[0];
	static const struct eth_addr mac = { { 0x02, 0, 0, 0, 0, 0x05 } };
	CHECK_EQ_INT(ffs_stack_neigh_add(st, 0, IP(10, 0, 0, 5), &mac), 0);
	test_port_drain(lc, NULL, 0);
	struct ffs_sock *so = unbound_socket();
	struct iovec iov = { .iov_base = "route", .iov_len = 5 };
	CHECK_EQ_INT(ffs_sock_sendv(st, so, &iov, 1, IP(192, 168, 3, 3), 9), 5);
	ffs_stack_poll(st);
	struct rte_mbuf *f[8];
	unsigned n = test_port_drain_if(lc, f, 8, is_udp4);
	CHECK_EQ_INT(n, 1);
	const uint8_t *ip = rte_pktmbuf_mtod_offset(f[0], const uint8_t *, ETH_HDR_LEN);
	CHECK_EQ_INT(rd_be32(ip + 12), ADDR1);
	CHECK_EQ_INT(rd_be32(ip + 16), IP(192, 168, 3, 3));
	rte_pktmbuf_free(f[0]);
	ffs_sock_close(st, so);
	ffs_stack_neigh_del(st, 0, IP(10, 0, 0, 5));
	/* The stack no longer has the source: the route goes (as Linux's fib_sync_down_addr). */
	route_set_ifaddr(st, 1, IP(10, 1, 0, 2), 24);
	CHECK_EQ_INT(route_source(st, IP(192, 168, 3, 3)), ADDR0);
	CHECK_EQ_INT(ffs_stack_route_del(st, DEST, 16), -ESRCH);
	route_set_ifaddr(st, 1, ADDR1, 24);
}

TEST(a_datagram_queued_before_a_route_change_leaves_by_the_route_it_was_sent_under)
{
	reset();
	struct ffs_lcore *lc = st->lcores[0];
	static const struct eth_addr mac = { { 0x02, 0, 0, 0, 0, 0x05 } };
	CHECK_EQ_INT(ffs_stack_neigh_add(st, 0, IP(10, 0, 0, 5), &mac), 0);
	CHECK_EQ_INT(ffs_stack_route_add_ex(st, DEST, 16, IP(10, 0, 0, 5), 0, 0), 0);
	test_port_drain(lc, NULL, 0);
	struct ffs_sock *so = unbound_socket();
	struct iovec iov = { .iov_base = "queued", .iov_len = 6 };
	/* Queued to the lcore, not yet routed: the route goes before the lcore's next turn. */
	CHECK_EQ_INT(ffs_sock_sendv(st, so, &iov, 1, IP(192, 168, 3, 3), 9), 6);
	CHECK_EQ_INT(ffs_stack_route_del_ex(st, DEST, 16, 0), 0);
	ffs_stack_poll(st);
	struct rte_mbuf *f[8];
	unsigned n = test_port_drain_if(lc, f, 8, is_udp4);
	CHECK_EQ_INT(n, 1); /* not held for the default gateway's ARP */
	const uint8_t *eth = rte_pktmbuf_mtod(f[0], const uint8_t *);
	CHECK(memcmp(eth, mac.b, 6) == 0);
	rte_pktmbuf_free(f[0]);
	/* Sent after the change returned: the default gateway's route (held while ARP asks for it). */
	CHECK_EQ_INT(ffs_sock_sendv(st, so, &iov, 1, IP(192, 168, 3, 3), 9), 6);
	ffs_stack_poll(st);
	CHECK_EQ_INT(test_port_drain_if(lc, f, 8, is_udp4), 0);
	test_port_drain(lc, NULL, 0);
	ffs_sock_close(st, so);
	ffs_stack_neigh_del(st, 0, IP(10, 0, 0, 5));
	ffs_stack_neigh_del(st, 0, GATEWAY); /* and the datagram it held */
	reset();
}

TEST(a_group_datagram_from_an_unbound_socket_leaves_where_the_route_to_the_group_does)
{
	reset();
	struct ffs_lcore *lc = st->lcores[0];
	CHECK_EQ_INT(ffs_stack_route_add_ex(st, IP(224, 0, 0, 0), 4, IP(10, 1, 0, 9), 0, 0), 0);
	test_port_drain(lc, NULL, 0);
	struct ffs_sock *so = unbound_socket();
	struct iovec iov = { .iov_base = "group", .iov_len = 5 };
	CHECK_EQ_INT(ffs_sock_sendv(st, so, &iov, 1, IP(239, 1, 2, 3), 9), 5);
	ffs_stack_poll(st);
	CHECK_EQ_INT(test_port_drain_if(lc, NULL, 0, is_udp4), 0); /* not the first port */
	struct rte_mbuf *f[8];
	unsigned n = 0, got;
	while ((got = rte_eth_rx_burst(st->ports[1].port_id, 0, f, 8)) > 0) {
		for (unsigned i = 0; i < got; i++) {
			const uint8_t *frame = rte_pktmbuf_mtod(f[i], const uint8_t *);
			if (is_udp4(frame, rte_pktmbuf_data_len(f[i]))) {
				CHECK_EQ_INT(rd_be32(frame + ETH_HDR_LEN + 12), ADDR1); /* from port 1's address */
				n++;
			}
			rte_pktmbuf_free(f[i]);
		}
	}
	CHECK_EQ_INT(n, 1);
	ffs_sock_close(st, so);
	CHECK_EQ_INT(ffs_stack_route_del(st, IP(224, 0, 0, 0), 4), 0);
	reset();
}

/* --- readers during changes */

#define CHURN_ROUNDS 5000

static atomic_bool churning;
static atomic_uint bad_answers, lookups;

static void *reader_main(void *arg)
{
	(void)arg;
	while (atomic_load(&churning)) {
		uint32_t nexthop = 0;
		/* Routes to DEST/16 of metric 10 via .5 (src ADDR1) and metric 20 via .6 (no src), or the default. */
		const struct ffs_port *p = route_lookup(st, IP(192, 168, 1, 9), &nexthop);
		if (!p || (nexthop != IP(10, 0, 0, 5) && nexthop != IP(10, 0, 0, 6) && nexthop != GATEWAY))
			atomic_fetch_add(&bad_answers, 1);
		uint32_t src = route_source(st, IP(192, 168, 1, 9));
		if (src != ADDR0 && src != ADDR1)
			atomic_fetch_add(&bad_answers, 1);
		struct ffs_route_info r[FFS_MAX_ROUTES];
		int n = ffs_stack_route_dump(st, r, FFS_MAX_ROUTES);
		for (int i = 1; i < n; i++) {
			if (r[i - 1].prefixlen < r[i].prefixlen ||
			    (r[i - 1].prefixlen == r[i].prefixlen && r[i - 1].dest == r[i].dest && r[i - 1].metric >= r[i].metric))
				atomic_fetch_add(&bad_answers, 1);
			/* A route and its src and metric come from one add. */
			if (r[i].dest == DEST && r[i].prefixlen == 16 &&
			    !((r[i].metric == 10 && r[i].gateway == IP(10, 0, 0, 5) && r[i].src == ADDR1) ||
			      (r[i].metric == 20 && r[i].gateway == IP(10, 0, 0, 6) && r[i].src == 0)))
				atomic_fetch_add(&bad_answers, 1);
		}
		atomic_fetch_add(&lookups, 1);
	}
	return NULL;
}

TEST(readers_see_whole_changes_and_no_stale_route_once_a_change_returns)
{
	reset();
	pthread_t readers[2];
	atomic_store(&churning, true);
	for (int i = 0; i < 2; i++)
		CHECK_EQ_INT(pthread_create(&readers[i], NULL, reader_main, NULL), 0);
	uint64_t deadline = test_now_ms() + 5000;
	while (atomic_load(&lookups) == 0 && test_now_ms() < deadline)
		usleep(100);
	unsigned stale = 0;
	for (int round = 0; round < CHURN_ROUNDS; round++) {
		CHECK_EQ_INT(ffs_stack_route_add_ex(st, DEST, 16, IP(10, 0, 0, 6), 0, 20), 0);
		stale += hop(IP(192, 168, 1, 9)) != IP(10, 0, 0, 6);
		CHECK_EQ_INT(ffs_stack_route_add_ex(st, DEST, 16, IP(10, 0, 0, 5), ADDR1, 10), 0);
		stale += hop(IP(192, 168, 1, 9)) != IP(10, 0, 0, 5) || route_source(st, IP(192, 168, 1, 9)) != ADDR1;
		CHECK_EQ_INT(ffs_stack_route_del_ex(st, DEST, 16, 10), 0);
		stale += hop(IP(192, 168, 1, 9)) != IP(10, 0, 0, 6) || route_source(st, IP(192, 168, 1, 9)) != ADDR0;
		CHECK_EQ_INT(ffs_stack_route_del(st, DEST, 16), 0);
		stale += hop(IP(192, 168, 1, 9)) != GATEWAY;
	}
	atomic_store(&churning, false);
	for (int i = 0; i < 2; i++)
		pthread_join(readers[i], NULL);
	CHECK_EQ_INT(stale, 0);
	CHECK(atomic_load(&lookups) > 1);
	CHECK_EQ_INT(atomic_load(&bad_answers), 0);
}

int main(int argc, char **argv)
{
	int rc = test__main(argc, argv, __FILE__);
	return st ? test_ring_stack_stop(st, rc) : rc;
}
