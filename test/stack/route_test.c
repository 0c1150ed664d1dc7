/*
 * The routing table and run-time port changes (stack/iface/route.c, ffs_stack_port_set_*, ping from
 * the control plane), on a running inline stack whose one port is a net_ring vdev at 10.0.0.1/16 with
 * gateway 10.0.0.254: what the stack transmits comes back on the port's RX queue.
 *
 * Cases: longest-prefix match over connected, default and static routes; the add/delete errors; a
 * new address moves the connected route, drops static routes whose gateway left the subnet, makes
 * lcores forget neighbours off it and announces itself; a new MTU cuts datagrams into fragments; a
 * down port sends and receives nothing, counted; ping from another thread gets its reply, times
 * out, and stops when asked; readers on other threads never see a half-made change while a writer
 * changes routes and the address (built under TSan in CI, where any unordered access is reported).
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <unistd.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>

#include "stack/iface/iface.h"
#include "stack/lcore/lcore.h"
#include "stack/wire/arp.h"
#include "stack/wire/eth.h"
#include "test/stack/harness.h"
#include "test/stack/stack_env.h"

#define IP(a, b, c, d) ((uint32_t)(a) << 24 | (uint32_t)(b) << 16 | (uint32_t)(c) << 8 | (uint32_t)(d))
#define OUR_ADDR IP(10, 0, 0, 1)
#define GATEWAY IP(10, 0, 0, 254)

static struct ffs_stack *st;
static struct ffs_lcore *lc;
static int pool_base; /**< mbufs in use once the stack started */

static void setup(void)
{
	if (st)
		return;
	test_eal_init("route_test", "128", "-l", "0", "--vdev=net_ring0", NULL);
	struct ffs_conf conf;
	ffs_conf_init(&conf);
	test_conf_port(&conf, OUR_ADDR, 0xffff0000u);
	conf.ports[0].gateway = GATEWAY;
	st = test_stack_start("route_test", &conf);
	lc = st->lcores[0];
	test_port_drain(lc, NULL, 0); /* what it sent while starting: DAD's probes, its announcements */
	pool_base = ffs_stack_mempool_in_use(st);
}

/** The next hop route_lookup gives for dst (0 when there is no route). */
static uint32_t hop(uint32_t dst)
{
	uint32_t nexthop = 0;
	return route_lookup(st, dst, &nexthop) ? nexthop : 0;
}

static int dump(struct ffs_route_info *out) { return ffs_stack_route_dump(st, out, FFS_MAX_ROUTES); }

/** Back to the configured table: 10.0.0.1/16, default via the gateway, nothing else. */
static void reset(void)
{
	struct ffs_route_info r[FFS_MAX_ROUTES];
	setup();
	CHECK_EQ_INT(ffs_stack_port_set_inet(st, 0, OUR_ADDR, 16), 0);
	int n = dump(r);
	for (int i = 0; i < n; i++)
		if (r[i].flags & FFS_ROUTE_STATIC)
			CHECK_EQ_INT(ffs_stack_route_del(st, r[i].dest, r[i].prefixlen), 0);
	CHECK_EQ_INT(ffs_stack_route_add(st, 0, 0, GATEWAY), 0);
	CHECK_EQ_INT(ffs_stack_port_set_mtu(st, 0, 1500), 0);
	CHECK_EQ_INT(ffs_stack_port_set_up(st, 0, true), 0);
	test_port_drain(lc, NULL, 0);
	lc->ctr = (struct ffs_counters){ 0 };
}

TEST(the_configuration_gives_connected_and_default_routes)
{
	setup();
	struct ffs_route_info r[FFS_MAX_ROUTES];
	CHECK_EQ_INT(dump(r), 2);
	CHECK_EQ_INT(r[0].dest, IP(10, 0, 0, 0));
	CHECK_EQ_INT(r[0].prefixlen, 16);
	CHECK_EQ_INT(r[0].flags, FFS_ROUTE_CONNECTED);
	CHECK_EQ_INT(r[0].gateway, 0);
	CHECK_EQ_INT(r[1].dest, 0);
	CHECK_EQ_INT(r[1].prefixlen, 0);
	CHECK_EQ_INT(r[1].flags, FFS_ROUTE_GATEWAY | FFS_ROUTE_STATIC);
	CHECK_EQ_INT(r[1].gateway, GATEWAY);
	CHECK_EQ_INT(hop(IP(10, 0, 9, 9)), IP(10, 0, 9, 9));
	CHECK_EQ_INT(hop(IP(8, 8, 8, 8)), GATEWAY);
}

TEST(the_longest_prefix_wins)
{
	reset();
	CHECK_EQ_INT(ffs_stack_route_add(st, IP(192, 168, 0, 0), 16, IP(10, 0, 0, 5)), 0);
	CHECK_EQ_INT(ffs_stack_route_add(st, IP(192, 168, 1, 0), 24, IP(10, 0, 0, 6)), 0);
	CHECK_EQ_INT(ffs_stack_route_add(st, IP(192, 168, 1, 7), 32, IP(10, 0, 0, 7)), 0);
	CHECK_EQ_INT(ffs_stack_route_add(st, IP(10, 0, 3, 0), 24, IP(10, 0, 0, 8)), 0); /* inside the connected /16 */
	CHECK_EQ_INT(hop(IP(192, 168, 1, 7)), IP(10, 0, 0, 7));
	CHECK_EQ_INT(hop(IP(192, 168, 1, 8)), IP(10, 0, 0, 6));
	CHECK_EQ_INT(hop(IP(192, 168, 2, 8)), IP(10, 0, 0, 5));
	CHECK_EQ_INT(hop(IP(192, 169, 0, 1)), GATEWAY);
	CHECK_EQ_INT(hop(IP(10, 0, 3, 3)), IP(10, 0, 0, 8));
	CHECK_EQ_INT(hop(IP(10, 0, 4, 3)), IP(10, 0, 4, 3));
	/* The dump is the lookup order: longest prefix first. */
	struct ffs_route_info r[FFS_MAX_ROUTES];
	int n = dump(r);
	CHECK_EQ_INT(n, 6);
	for (int i = 1; i < n; i++)
		CHECK(r[i - 1].prefixlen >= r[i].prefixlen);
	CHECK_EQ_INT(ffs_stack_route_del(st, IP(192, 168, 1, 0), 24), 0);
	CHECK_EQ_INT(hop(IP(192, 168, 1, 8)), IP(10, 0, 0, 5));
	CHECK_EQ_INT(hop(IP(192, 168, 1, 7)), IP(10, 0, 0, 7));
	CHECK_EQ_INT(ffs_stack_route_del(st, 0, 0), 0);
	CHECK_EQ_INT(hop(IP(8, 8, 8, 8)), 0);
	CHECK_EQ_INT(route_source(st, IP(8, 8, 8, 8)), 0);
	CHECK_EQ_INT(route_source(st, IP(192, 168, 9, 9)), OUR_ADDR);
}

TEST(adding_and_deleting_say_what_is_wrong)
{
	reset();
	CHECK_EQ_INT(ffs_stack_route_add(st, IP(192, 168, 0, 0), 16, IP(172, 16, 0, 1)), -ENETUNREACH);
	CHECK_EQ_INT(ffs_stack_route_add(st, IP(192, 168, 0, 0), 16, OUR_ADDR), -ENETUNREACH);
	CHECK_EQ_INT(ffs_stack_route_add(st, IP(192, 168, 0, 1), 16, IP(10, 0, 0, 5)), -EINVAL);
	CHECK_EQ_INT(ffs_stack_route_add(st, IP(192, 168, 0, 0), 33, IP(10, 0, 0, 5)), -EINVAL);
	CHECK_EQ_INT(ffs_stack_route_add(st, IP(192, 168, 0, 0), 16, 0), -EINVAL);
	CHECK_EQ_INT(ffs_stack_route_add(st, 0, 0, IP(10, 0, 0, 9)), -EEXIST);
	CHECK_EQ_INT(ffs_stack_route_del(st, IP(192, 168, 0, 0), 16), -ESRCH);
	CHECK_EQ_INT(ffs_stack_route_del(st, IP(10, 0, 0, 0), 16), -EPERM);
	CHECK_EQ_INT(hop(IP(8, 8, 8, 8)), GATEWAY);
}

/** Frames the port sent, into f (at most max); returns how many. */
static unsigned sent(struct rte_mbuf **f, unsigned max) { return test_port_drain(lc, f, max); }

static void free_all(struct rte_mbuf **f, unsigned n)
{
	for (unsigned i = 0; i < n && i < 64; i++)
		rte_pktmbuf_free(f[i]);
}

TEST(a_new_address_moves_routes_forgets_neighbours_and_announces_itself)
{
	reset();
	static const struct eth_addr mac = { { 0x02, 0, 0, 0, 0, 0x07 } };
	CHECK_EQ_INT(ffs_stack_neigh_add(st, 0, IP(10, 0, 0, 7), &mac), 0);
	CHECK_EQ_INT(ffs_stack_neigh_add(st, 0, IP(10, 0, 200, 9), &mac), 0);
	CHECK_EQ_INT(ffs_stack_route_add(st, IP(192, 168, 0, 0), 16, IP(10, 0, 0, 5)), 0);
	CHECK_EQ_INT(ffs_stack_route_add(st, IP(192, 169, 0, 0), 16, IP(10, 0, 200, 5)), 0);
	test_port_drain(lc, NULL, 0);

	CHECK_EQ_INT(ffs_stack_port_set_inet(st, 0, IP(10, 0, 200, 1), 24), 0);
	const struct ffs_port *p = &st->ports[0];
	CHECK_EQ_INT(p->addr, IP(10, 0, 200, 1));
	CHECK_EQ_INT(p->netmask, 0xffffff00u);
	CHECK_EQ_INT(p->broadcast, IP(10, 0, 200, 255));
	CHECK(route_is_broadcast(st, IP(10, 0, 200, 255)));
	CHECK(!route_is_broadcast(st, IP(10, 0, 255, 255)));
	CHECK(route_is_local(st, IP(10, 0, 200, 1)));
	CHECK(!route_is_local(st, OUR_ADDR));
	/* The default route's gateway (10.0.0.254) and 192.168/16's left the subnet: both went. */
	struct ffs_route_info r[FFS_MAX_ROUTES];
	CHECK_EQ_INT(dump(r), 2);
	CHECK_EQ_INT(r[0].dest, IP(10, 0, 200, 0));
	CHECK_EQ_INT(r[0].prefixlen, 24);
	CHECK_EQ_INT(r[1].dest, IP(192, 169, 0, 0));
	CHECK_EQ_INT(hop(IP(10, 0, 0, 7)), 0);
	CHECK_EQ_INT(route_source(st, IP(10, 0, 200, 77)), IP(10, 0, 200, 1));
	CHECK(neigh_lookup(&lc->neigh, 0, IP(10, 0, 0, 7)) == NULL);
	CHECK(neigh_lookup(&lc->neigh, 0, IP(10, 0, 200, 9)) != NULL);
	/* Announced: a broadcast ARP request for the new address, from it. */
	struct rte_mbuf *f[64];
	unsigned n = sent(f, 64);
	CHECK_EQ_INT(n, 1);
	struct eth_repr eth;
	struct arp_repr arp;
	CHECK_EQ_INT(eth_repr_parse(rte_pktmbuf_mtod(f[0], uint8_t *), rte_pktmbuf_data_len(f[0]), &eth), WIRE_OK);
	CHECK(eth_addr_eq(&eth.dst, &ETH_BROADCAST));
	CHECK_EQ_INT(arp_repr_parse(rte_pktmbuf_mtod(f[0], uint8_t *) + ETH_HDR_LEN, ARP_PKT_LEN, &arp), WIRE_OK);
	CHECK_EQ_INT(arp.op, ARP_OP_REQUEST);
	CHECK_EQ_INT(arp.spa, IP(10, 0, 200, 1));
	CHECK_EQ_INT(arp.tpa, IP(10, 0, 200, 1));
	free_all(f, n);
	CHECK_EQ_INT(ffs_stack_neigh_del(st, 0, IP(10, 0, 200, 9)), 1);
	/* Bad addresses are refused and change nothing. */
	CHECK_EQ_INT(ffs_stack_port_set_inet(st, 0, IP(10, 0, 200, 0), 24), -EINVAL);
	CHECK_EQ_INT(ffs_stack_port_set_inet(st, 0, IP(10, 0, 200, 255), 24), -EINVAL);
	CHECK_EQ_INT(ffs_stack_port_set_inet(st, 0, IP(224, 0, 0, 1), 24), -EINVAL);
	CHECK_EQ_INT(ffs_stack_port_set_inet(st, 0, IP(10, 0, 200, 1), 0), -EINVAL);
	CHECK_EQ_INT(ffs_stack_port_set_inet(st, 9, IP(10, 0, 200, 1), 24), -ENOENT);
	CHECK_EQ_INT(p->addr, IP(10, 0, 200, 1));
}

/** Sends an echo request with `payload` bytes to a neighbour with a permanent entry; the frames sent. */
static unsigned echo_frames(struct rte_mbuf **f, uint16_t payload)
{
	lc->now = rte_rdtsc();
	CHECK_EQ_INT(icmp_send_echo(lc, IP(10, 0, 0, 7), 1, 1, payload, 0), 0);
	return sent(f, 64);
}

TEST(a_new_mtu_cuts_datagrams_to_it)
{
	reset();
	static const struct eth_addr mac = { { 0x02, 0, 0, 0, 0, 0x07 } };
	CHECK_EQ_INT(ffs_stack_neigh_add(st, 0, IP(10, 0, 0, 7), &mac), 0);
	struct rte_mbuf *f[64];
	unsigned n = echo_frames(f, 1400);
	CHECK_EQ_INT(n, 1);
	free_all(f, n);
	CHECK_EQ_INT(ffs_stack_port_set_mtu(st, 0, 1000), 0);
	CHECK_EQ_INT(st->ports[0].mtu, 1000);
	n = echo_frames(f, 1400);
	CHECK_EQ_INT(n, 2);
	for (unsigned i = 0; i < n; i++)
		CHECK(rte_pktmbuf_pkt_len(f[i]) <= ETH_HDR_LEN + 1000);
	free_all(f, n);
	CHECK_EQ_INT(lc->ctr.ip_fragmented, 1);
	CHECK_EQ_INT(ffs_stack_port_set_mtu(st, 0, 40), -ERANGE);
	CHECK_EQ_INT(ffs_stack_port_set_mtu(st, 9, 1000), -ENOENT);
	CHECK_EQ_INT(st->ports[0].mtu, 1000);
}

TEST(a_down_port_sends_and_receives_nothing)
{
	reset();
	static const struct eth_addr mac = { { 0x02, 0, 0, 0, 0, 0x07 } };
	CHECK_EQ_INT(ffs_stack_neigh_add(st, 0, IP(10, 0, 0, 7), &mac), 0);
	CHECK_EQ_INT(ffs_stack_port_set_up(st, 0, false), 0);
	struct ffs_port_info info;
	ffs_stack_port_info(st, 0, &info);
	CHECK(!info.admin_up);
	struct rte_mbuf *f[64];
	CHECK_EQ_INT(echo_frames(f, 56), 0);
	CHECK_EQ_INT(lc->ctr.eth_tx_down, 1);
	/* A frame the device delivers anyway (net_ring has no link to take down) is dropped and counted. */
	struct rte_mbuf *m = rte_pktmbuf_alloc(st->pool);
	CHECK(m != NULL && rte_pktmbuf_append(m, 60) != NULL);
	CHECK_EQ_INT(rte_eth_tx_burst(st->ports[0].port_id, 0, &m, 1), 1);
	ffs_stack_poll(st);
	CHECK_EQ_INT(lc->ctr.eth_rx_down, 1);
	CHECK_EQ_INT(lc->ctr.eth_rx, 0);
	CHECK_EQ_INT(ffs_stack_port_set_up(st, 0, true), 0);
	ffs_stack_port_info(st, 0, &info);
	CHECK(info.admin_up);
	test_port_drain(lc, NULL, 0); /* the announcement of coming up */
	CHECK_EQ_INT(echo_frames(f, 56), 1);
	free_all(f, 1);
}

struct pinger {
	pthread_t thread;
	uint32_t dst;
	unsigned timeout_ms;
	volatile bool stopping;
	struct ffs_ping_result result;
	atomic_int rc;
	atomic_bool done;
};

static void *ping_main(void *arg)
{
	struct pinger *p = arg;
	int rc = ffs_stack_ping_wait(st, p->dst, 7, 100, 9, p->timeout_ms, &p->stopping, &p->result);
	atomic_store(&p->rc, rc);
	atomic_store(&p->done, true);
	return NULL;
}

/** Pings dst from another thread while this one turns the stack, until the ping returns (10 s at most). */
static int ping_from_thread(struct pinger *p, uint32_t dst, unsigned timeout_ms, unsigned stop_after_ms)
{
	*p = (struct pinger){ .dst = dst, .timeout_ms = timeout_ms };
	CHECK_EQ_INT(pthread_create(&p->thread, NULL, ping_main, p), 0);
	uint64_t start = test_now_ms();
	while (!atomic_load(&p->done) && test_now_ms() - start < 10000) {
		ffs_stack_poll(st);
		if (stop_after_ms && test_now_ms() - start >= stop_after_ms)
			__atomic_store_n(&p->stopping, true, __ATOMIC_RELEASE);
		usleep(100);
	}
	pthread_join(p->thread, NULL);
	return atomic_load(&p->rc);
}

TEST(ping_replies_reach_the_waiting_thread)
{
	reset();
	struct pinger p;
	CHECK_EQ_INT(ping_from_thread(&p, OUR_ADDR, 2000, 0), 0);
	CHECK_EQ_INT(p.result.from, OUR_ADDR);
	CHECK_EQ_INT(p.result.seq, 7);
	CHECK_EQ_INT(p.result.bytes, 100);
	CHECK_EQ_INT(p.result.ttl, ffs_stack_sysctl_get(st, FFS_SYSCTL_IP_TTL)); /* our own reply's */
	CHECK(p.result.rtt_us < 2000000);
	/* Nothing went to the application's event queue. */
	struct ffs_event ev[4];
	CHECK_EQ_INT(ffs_stack_events(st, ev, 4), 0);
	CHECK_EQ_INT(lc->ctr.icmp_echo_reply_in, 1);
}

TEST(ping_times_out_and_stops_when_asked)
{
	reset();
	struct pinger p;
	uint64_t t0 = test_now_ms();
	CHECK_EQ_INT(ping_from_thread(&p, IP(10, 0, 0, 99), 300, 0), -ETIMEDOUT); /* ARP goes unanswered */
	uint64_t took = test_now_ms() - t0;
	CHECK(took >= 300 && took < 3000);
	t0 = test_now_ms();
	CHECK_EQ_INT(ping_from_thread(&p, IP(10, 0, 0, 99), 60000, 200), -ECANCELED);
	CHECK(test_now_ms() - t0 < 5000);
	CHECK_EQ_INT(ffs_stack_route_del(st, 0, 0), 0);
	CHECK_EQ_INT(ping_from_thread(&p, IP(172, 16, 0, 1), 300, 0), -ENETUNREACH);
	/* The request carries the TTL asked for (nobody turns the loop here: it waits in the TX queue). */
	static const struct eth_addr mac = { { 0x02, 0, 0, 0, 0, 0x07 } };
	CHECK_EQ_INT(ffs_stack_neigh_add(st, 0, IP(10, 0, 0, 7), &mac), 0);
	struct ffs_ping_result res;
	CHECK_EQ_INT(ffs_stack_ping_wait(st, IP(10, 0, 0, 7), 3, 56, 9, 50, NULL, &res), -ETIMEDOUT);
	/* On the wire at once, not when the application's thread next turns the loop (its RTT would
	 * count that wait): read straight from the device, without flushing the lcore's TX queue. */
	struct rte_mbuf *f[4];
	CHECK_EQ_INT(rte_eth_rx_burst(st->ports[0].port_id, 0, f, 4), 1);
	struct ipv4_repr ip;
	static const struct wire_csum_caps caps = { 0 };
	CHECK_EQ_INT(ipv4_repr_parse(rte_pktmbuf_mtod(f[0], uint8_t *) + ETH_HDR_LEN, rte_pktmbuf_pkt_len(f[0]) - ETH_HDR_LEN,
				     &caps, &ip), WIRE_OK);
	CHECK_EQ_INT(ip.ttl, 9);
	CHECK_EQ_INT(ip.proto, IPV4_PROTO_ICMP);
	free_all(f, 1);
}

/* --- readers during changes: every answer is one some complete table gives */

#define CHURN_ROUNDS 10000
#define ADDR_A IP(10, 0, 0, 1)    /* /16 */
#define ADDR_B IP(10, 200, 0, 1)  /* /24 */
#define PROBE IP(10, 200, 5, 5)   /* on-link only for a torn pair: 10.200.0.1 with the /16 mask */
#define BALLAST 24                /* host routes that a change of address sweeps away at once */

static atomic_bool churning;
static atomic_uint bad_answers, lookups;

static void *reader_main(void *arg)
{
	(void)arg;
	while (atomic_load(&churning)) {
		uint32_t nexthop = 0;
		const struct ffs_port *p = route_lookup(st, IP(192, 168, 1, 9), &nexthop);
		/* /16 via .5 or /24 via .6 (or neither, between a delete and an add); never a mix. */
		if (p && nexthop != IP(10, 0, 0, 5) && nexthop != IP(10, 0, 0, 6))
			atomic_fetch_add(&bad_answers, 1);
		if (route_on_link(st, 0, PROBE))
			atomic_fetch_add(&bad_answers, 1);
		p = route_lookup(st, PROBE, &nexthop);
		if (p && nexthop == PROBE)
			atomic_fetch_add(&bad_answers, 1);
		/* A whole table: sorted, and every route one the writer made. */
		struct ffs_route_info r[FFS_MAX_ROUTES];
		int n = ffs_stack_route_dump(st, r, FFS_MAX_ROUTES);
		for (int i = 0; i < n; i++) {
			bool known = (r[i].dest == IP(10, 0, 0, 0) && r[i].prefixlen == 16 && r[i].gateway == 0) ||
				     (r[i].dest == IP(10, 200, 0, 0) && r[i].prefixlen == 24 && r[i].gateway == 0) ||
				     (r[i].dest == IP(192, 168, 0, 0) && r[i].prefixlen == 16 && r[i].gateway == IP(10, 0, 0, 5)) ||
				     (r[i].dest == IP(192, 168, 1, 0) && r[i].prefixlen == 24 && r[i].gateway == IP(10, 0, 0, 6)) ||
				     ((r[i].dest & 0xffffff00u) == IP(172, 16, 0, 0) && r[i].prefixlen == 32 &&
				      r[i].gateway == IP(10, 0, 0, 5));
			if (!known || (i > 0 && r[i - 1].prefixlen < r[i].prefixlen))
				atomic_fetch_add(&bad_answers, 1);
			for (int k = 0; k < i; k++)
				if (r[k].dest == r[i].dest && r[k].prefixlen == r[i].prefixlen)
					atomic_fetch_add(&bad_answers, 1);
		}
		atomic_fetch_add(&lookups, 1);
	}
	return NULL;
}

TEST(readers_never_see_a_half_made_change)
{
	reset();
	CHECK_EQ_INT(ffs_stack_route_del(st, 0, 0), 0);
	pthread_t readers[2];
	atomic_store(&churning, true);
	for (int i = 0; i < 2; i++)
		CHECK_EQ_INT(pthread_create(&readers[i], NULL, reader_main, NULL), 0);
	uint64_t deadline = test_now_ms() + 5000;
	while (atomic_load(&lookups) == 0 && test_now_ms() < deadline)
		usleep(100);
	for (int round = 0; round < CHURN_ROUNDS; round++) {
		route_set_ifaddr(st, 0, round % 2 ? ADDR_B : ADDR_A, round % 2 ? 24 : 16);
		if (round % 2 == 0) {
			ffs_stack_route_del(st, IP(192, 168, 1, 0), 24);
			CHECK_EQ_INT(ffs_stack_route_add(st, IP(192, 168, 0, 0), 16, IP(10, 0, 0, 5)), 0);
			ffs_stack_route_add(st, IP(192, 168, 1, 0), 24, IP(10, 0, 0, 6));
			CHECK_EQ_INT(ffs_stack_route_del(st, IP(192, 168, 0, 0), 16), 0);
			for (uint32_t k = 0; k < BALLAST; k++)
				CHECK_EQ_INT(ffs_stack_route_add(st, IP(172, 16, 0, k), 32, IP(10, 0, 0, 5)), 0);
		}
	}
	atomic_store(&churning, false);
	for (int i = 0; i < 2; i++)
		pthread_join(readers[i], NULL);
	CHECK(atomic_load(&lookups) > 1);
	CHECK_EQ_INT(atomic_load(&bad_answers), 0);
	route_set_ifaddr(st, 0, OUR_ADDR, 16);
}

TEST(every_mbuf_comes_back)
{
	reset();
	struct ffs_neigh_info n[NEIGH_TABLE_SIZE];
	int k = ffs_stack_neigh_dump(st, n, NEIGH_TABLE_SIZE);
	for (int i = 0; i < k; i++)
		ffs_stack_neigh_del(st, n[i].port_id, n[i].addr); /* and the packets they held */
	ffs_stack_poll(st);
	test_port_drain(lc, NULL, 0);
	CHECK_EQ_INT(test_pool_settles_at(st, pool_base), pool_base);
}

int main(int argc, char **argv)
{
	setup();
	int rc = test__main(argc, argv, __FILE__);
	return test_ring_stack_stop(st, rc);
}
