/*
 * Each lcore's rte_fib (stack/iface/route_fib.c) against the route table it is compiled from
 * (stack/iface/route.c), on an inline stack of two lcores and two net_ring ports: port 0 at
 * 10.0.0.1/16 (gateway 10.0.0.254, the default route), port 1 at 10.1.0.1/24.
 *
 * Cases: over random tables (static routes of random prefixes, gateways, metrics and preferred
 * sources, and further addresses with their connected routes) and thousands of random destinations,
 * every lcore's FIB gives the linear scan's answer (port, next hop, source) and both give the
 * reference answer (longest prefix, then lowest metric, then the first added); a change is in every
 * lcore's FIB when the call that made it returns (routes, a port's address, a further address);
 * lcores looking up while a writer changes the routes only ever get an answer some completed change
 * gave (built under TSan by npm run test:sanitize); and closing the stack frees the FIBs.
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <unistd.h>
#include <rte_fib.h>

#include "stack/iface/iface.h"
#include "stack/lcore/lcore.h"
#include "test/stack/harness.h"
#include "test/stack/stack_env.h"

#define IP(a, b, c, d) ((uint32_t)(a) << 24 | (uint32_t)(b) << 16 | (uint32_t)(c) << 8 | (uint32_t)(d))
#define ADDR0 IP(10, 0, 0, 1)
#define ADDR1 IP(10, 1, 0, 1)
#define GATEWAY IP(10, 0, 0, 254)
#define VIP IP(10, 2, 0, 1) /* a further address of port 1, on 10.2.0.0/24 */
#define N_LCORES 2

static struct ffs_stack *st;

static void setup(void)
{
	if (st)
		return;
	test_eal_init("route_fib_test", "128", "-l", "0", "--vdev=net_ring0", "--vdev=net_ring1", NULL);
	struct ffs_conf conf;
	ffs_conf_init(&conf);
	conf.n_inline_lcores = N_LCORES;
	test_conf_port(&conf, ADDR0, 0xffff0000u);
	conf.ports[0].gateway = GATEWAY;
	conf.ports[1] = (struct ffs_port_conf){ .port_id = 1, .addr = ADDR1, .netmask = 0xffffff00u,
						.broadcast = ADDR1 | 0xffu, .mtu = 1500 };
	conf.n_ports = 2;
	st = test_stack_start("route_fib_test", &conf);
	for (unsigned i = 0; i < st->n_lcores; i++)
		test_port_drain(st->lcores[i], NULL, 0);
}

/** An answer to "where does dst go": port index (-1: no route), next hop, preferred source. */
struct answer {
	int port;
	uint32_t nexthop, src;
};

/** An answer from a lookup's port, next hop and source (nothing but the port when it found no route). */
static struct answer answer_of(const struct ffs_port *p, struct answer a)
{
	if (p)
		a.port = p->index;
	else
		a.nexthop = a.src = 0;
	return a;
}

static struct answer fib_answer(unsigned lcore, uint32_t dst)
{
	struct answer a = { -1, 0, 0 };
	const struct ffs_port *p = route_fib_lookup(st->lcores[lcore], dst, &a.nexthop, &a.src);
	return answer_of(p, a);
}

static struct answer scan_answer(uint32_t dst)
{
	struct answer a = { -1, 0, 0 };
	const struct ffs_port *p = route_lookup_src(st, dst, &a.nexthop, &a.src);
	return answer_of(p, a);
}

/** The answer by definition, over the dumped table: the longest matching prefix, among those the
 *  lowest metric, among those the first in the table. */
static struct answer reference_answer(uint32_t dst)
{
	struct ffs_route_info r[FFS_MAX_ROUTES];
	int n = ffs_stack_route_dump(st, r, FFS_MAX_ROUTES), best = -1;
	for (int i = 0; i < n; i++) {
		if ((dst & route_mask(r[i].prefixlen)) != r[i].dest)
			continue;
		if (best < 0 || r[i].prefixlen > r[best].prefixlen ||
		    (r[i].prefixlen == r[best].prefixlen && r[i].metric < r[best].metric))
			best = i;
	}
	if (best < 0)
		return (struct answer){ -1, 0, 0 };
	int port = -1;
	for (unsigned k = 0; k < st->n_ports; k++)
		if (st->ports[k].port_id == r[best].port_id)
			port = (int)k;
	return (struct answer){ port, r[best].gateway ? r[best].gateway : dst, r[best].src };
}

static bool same(struct answer a, struct answer b) { return a.port == b.port && a.nexthop == b.nexthop && a.src == b.src; }

/** Every static route gone but the default through GATEWAY; port 1 without further addresses. */
static void reset(void)
{
	setup();
	struct ffs_route_info r[FFS_MAX_ROUTES];
	int n = ffs_stack_route_dump(st, r, FFS_MAX_ROUTES);
	for (int i = 0; i < n; i++)
		if (!(r[i].flags & FFS_ROUTE_CONNECTED) && !(r[i].prefixlen == 0 && r[i].metric == 0))
			ffs_stack_route_del_ex(st, r[i].dest, r[i].prefixlen, r[i].metric);
	while (route_vip_del(st, 1, VIP) == 0)
		;
}

/** How many destinations of `dsts` some lcore's FIB, or the scan, answers otherwise than the reference. */
static unsigned mismatches(const uint32_t *dsts, unsigned n)
{
	unsigned bad = 0;
	for (unsigned i = 0; i < n; i++) {
		struct answer want = reference_answer(dsts[i]);
		bool ok = same(scan_answer(dsts[i]), want);
		for (unsigned l = 0; l < st->n_lcores; l++)
			ok = ok && same(fib_answer(l, dsts[i]), want);
		if (!ok && bad++ < 5) {
			struct answer f = fib_answer(0, dsts[i]);
			fprintf(stderr, "  dst %08x: fib port %d hop %08x src %08x, reference port %d hop %08x src %08x\n", dsts[i], f.port,
				f.nexthop, f.src, want.port, want.nexthop, want.src);
		}
	}
	return bad;
}

#define ROUNDS 30
#define DSTS_PER_ROUND 1000

TEST(every_lcores_fib_gives_the_scans_answer_over_random_tables)
{
	reset();
	unsigned seed = 17, bad = 0, routes_added = 0, lookups = 0;
	static const uint32_t gateways[] = { IP(10, 0, 0, 5), IP(10, 0, 3, 9), IP(10, 1, 0, 7), IP(10, 1, 0, 200) };
	static const uint32_t sources[] = { 0, 0, ADDR0, ADDR1 };
	/* Prefixes cluster on a few networks so that they nest and overlap. */
	static const uint32_t bases[] = { IP(192, 168, 0, 0), IP(172, 16, 0, 0), IP(10, 0, 0, 0), IP(10, 1, 0, 0), 0 };
	for (unsigned round = 0; round < ROUNDS; round++) {
		reset();
		if (round % 2)
			CHECK_EQ_INT(route_vip_add(st, 1, VIP, 24), 0);
		unsigned want_routes = 5 + (unsigned)rand_r(&seed) % 56; /* 5 to 60 routes */
		for (unsigned tries = 0; tries < 4 * want_routes; tries++) {
			struct ffs_route_info r[FFS_MAX_ROUTES];
			if (ffs_stack_route_dump(st, r, FFS_MAX_ROUTES) >= (int)want_routes)
				break;
			unsigned len = (unsigned)rand_r(&seed) % 33;
			uint32_t dest = (bases[rand_r(&seed) % 5] ^ ((uint32_t)rand_r(&seed) & 0x00ffffffu)) & route_mask(len);
			int rc = ffs_stack_route_add_ex(st, dest, len, gateways[rand_r(&seed) % 4], sources[rand_r(&seed) % 4],
							(uint32_t)rand_r(&seed) % 4);
			routes_added += rc == 0;
			if (rc != 0 && rc != -EEXIST)
				FAIL("adding %08x/%u: %d", dest, len, rc);
		}
		uint32_t dsts[DSTS_PER_ROUND];
		for (unsigned i = 0; i < DSTS_PER_ROUND; i++) {
			uint32_t any = ((uint32_t)rand_r(&seed) << 16) ^ (uint32_t)rand_r(&seed);
			/* Most near the prefixes (their low bits random), some anywhere. */
			dsts[i] = i % 4 ? (bases[rand_r(&seed) % 5] ^ (any & 0x00ffffffu)) : any;
		}
		bad += mismatches(dsts, DSTS_PER_ROUND);
		lookups += DSTS_PER_ROUND;
	}
	CHECK_EQ_INT(bad, 0);
	CHECK(routes_added > ROUNDS * 5);
	CHECK_EQ_INT(lookups, ROUNDS * DSTS_PER_ROUND);
	reset();
}

TEST(a_change_is_in_every_lcores_fib_when_the_call_returns)
{
	reset();
	uint32_t dst = IP(192, 168, 1, 9);
	for (unsigned l = 0; l < N_LCORES; l++)
		CHECK_EQ_INT(fib_answer(l, dst).nexthop, GATEWAY);
	CHECK_EQ_INT(ffs_stack_route_add_ex(st, IP(192, 168, 0, 0), 16, IP(10, 1, 0, 7), ADDR0, 5), 0);
	for (unsigned l = 0; l < N_LCORES; l++) {
		struct answer a = fib_answer(l, dst);
		CHECK(same(a, (struct answer){ 1, IP(10, 1, 0, 7), ADDR0 }));
	}
	/* A lower metric to the same prefix wins; a longer prefix wins over both. */
	CHECK_EQ_INT(ffs_stack_route_add_ex(st, IP(192, 168, 0, 0), 16, IP(10, 0, 0, 5), 0, 1), 0);
	CHECK_EQ_INT(fib_answer(1, dst).nexthop, IP(10, 0, 0, 5));
	CHECK_EQ_INT(ffs_stack_route_add_ex(st, IP(192, 168, 1, 0), 24, IP(10, 0, 0, 6), 0, 9), 0);
	CHECK_EQ_INT(fib_answer(1, dst).nexthop, IP(10, 0, 0, 6));
	CHECK_EQ_INT(fib_answer(1, IP(192, 168, 2, 1)).nexthop, IP(10, 0, 0, 5));
	CHECK_EQ_INT(ffs_stack_route_del(st, IP(192, 168, 1, 0), 24), 0);
	CHECK_EQ_INT(ffs_stack_route_del_ex(st, IP(192, 168, 0, 0), 16, 1), 0);
	CHECK_EQ_INT(fib_answer(0, dst).nexthop, IP(10, 1, 0, 7));
	/* A further address brings its connected route; its removal takes it away. */
	CHECK_EQ_INT(fib_answer(0, IP(10, 2, 0, 9)).nexthop, GATEWAY);
	CHECK_EQ_INT(route_vip_add(st, 1, VIP, 24), 0);
	for (unsigned l = 0; l < N_LCORES; l++)
		CHECK(same(fib_answer(l, IP(10, 2, 0, 9)), (struct answer){ 1, IP(10, 2, 0, 9), 0 }));
	CHECK_EQ_INT(route_vip_del(st, 1, VIP), 0);
	CHECK_EQ_INT(fib_answer(1, IP(10, 2, 0, 9)).nexthop, GATEWAY);
	/* A port's new address moves its connected route, and the static routes through it whose gateway
	 * left its subnet go. */
	route_set_ifaddr(st, 1, IP(10, 3, 0, 1), 24);
	for (unsigned l = 0; l < N_LCORES; l++) {
		CHECK(same(fib_answer(l, IP(10, 3, 0, 8)), (struct answer){ 1, IP(10, 3, 0, 8), 0 }));
		CHECK_EQ_INT(fib_answer(l, IP(10, 1, 0, 8)).nexthop, GATEWAY);
		CHECK_EQ_INT(fib_answer(l, dst).nexthop, GATEWAY);
	}
	route_set_ifaddr(st, 1, ADDR1, 24);
	CHECK(same(fib_answer(0, IP(10, 1, 0, 8)), (struct answer){ 1, IP(10, 1, 0, 8), 0 }));
	/* No route at all: no default. */
	CHECK_EQ_INT(ffs_stack_route_del_ex(st, 0, 0, 0), 0);
	CHECK_EQ_INT(fib_answer(0, dst).port, -1);
	CHECK_EQ_INT(fib_answer(1, IP(8, 8, 8, 8)).port, -1);
	CHECK_EQ_INT(ffs_stack_route_add(st, 0, 0, GATEWAY), 0);
	CHECK_EQ_INT(fib_answer(1, dst).nexthop, GATEWAY);
	reset();
}

#define CHURN_ROUNDS 200

static atomic_bool churning;
static atomic_uint reader_lookups, bad_answers;

/** An lcore's turns, as a thread turning it would take them: under its turn lock, lookups of
 *  192.168.1.9, whose answer is the default or one of the routes the writer adds. */
static void *lcore_reader_main(void *arg)
{
	struct ffs_lcore *lc = arg;
	while (atomic_load(&churning)) {
		ffs_lcore_lock(lc);
		for (int i = 0; i < 64; i++) {
			uint32_t nexthop = 0, src = 0;
			const struct ffs_port *p = route_fib_lookup(lc, IP(192, 168, 1, 9), &nexthop, &src);
			bool ok = p && ((p->index == 0 && nexthop == GATEWAY && src == 0) ||
					(p->index == 0 && nexthop == IP(10, 0, 0, 5) && src == ADDR1) ||
					(p->index == 1 && nexthop == IP(10, 1, 0, 6) && src == 0));
			if (!ok)
				atomic_fetch_add(&bad_answers, 1);
		}
		ffs_lcore_unlock(lc);
		atomic_fetch_add(&reader_lookups, 1);
		usleep(10); /* between turns: the turn lock is a spin lock, and the writer takes it too */
	}
	return NULL;
}

TEST(lcores_looking_up_while_routes_change_get_only_whole_answers)
{
	reset();
	pthread_t readers[N_LCORES];
	atomic_store(&churning, true);
	for (int i = 0; i < N_LCORES; i++)
		CHECK_EQ_INT(pthread_create(&readers[i], NULL, lcore_reader_main, st->lcores[i]), 0);
	uint64_t deadline = test_now_ms() + 5000;
	while (atomic_load(&reader_lookups) == 0 && test_now_ms() < deadline)
		usleep(100);
	unsigned stale = 0;
	uint32_t dst = IP(192, 168, 1, 9);
	/* At least CHURN_ROUNDS rounds, and on until the readers took turns between them (a loaded machine
	 * may not schedule them for a while), within the deadline. */
	const unsigned before = atomic_load(&reader_lookups);
	deadline = test_now_ms() + 10000;
	for (int round = 0; round < CHURN_ROUNDS ||
			      (atomic_load(&reader_lookups) < before + 2 * N_LCORES && test_now_ms() < deadline);
	     round++) {
		CHECK_EQ_INT(ffs_stack_route_add_ex(st, IP(192, 168, 0, 0), 16, IP(10, 1, 0, 6), 0, 20), 0);
		for (unsigned l = 0; l < N_LCORES; l++) {
			ffs_lcore_lock(st->lcores[l]);
			stale += fib_answer(l, dst).nexthop != IP(10, 1, 0, 6);
			ffs_lcore_unlock(st->lcores[l]);
		}
		CHECK_EQ_INT(ffs_stack_route_add_ex(st, IP(192, 168, 1, 0), 24, IP(10, 0, 0, 5), ADDR1, 10), 0);
		for (unsigned l = 0; l < N_LCORES; l++) {
			ffs_lcore_lock(st->lcores[l]);
			stale += !same(fib_answer(l, dst), (struct answer){ 0, IP(10, 0, 0, 5), ADDR1 });
			ffs_lcore_unlock(st->lcores[l]);
		}
		CHECK_EQ_INT(ffs_stack_route_del(st, IP(192, 168, 1, 0), 24), 0);
		CHECK_EQ_INT(ffs_stack_route_del(st, IP(192, 168, 0, 0), 16), 0);
		for (unsigned l = 0; l < N_LCORES; l++) {
			ffs_lcore_lock(st->lcores[l]);
			stale += fib_answer(l, dst).nexthop != GATEWAY;
			ffs_lcore_unlock(st->lcores[l]);
		}
	}
	atomic_store(&churning, false);
	for (int i = 0; i < N_LCORES; i++)
		pthread_join(readers[i], NULL);
	CHECK_EQ_INT(stale, 0);
	CHECK(atomic_load(&reader_lookups) > before);
	CHECK_EQ_INT(atomic_load(&bad_answers), 0);
}

TEST(closing_the_stack_frees_every_lcores_fib)
{
	setup();
	char name[32];
	snprintf(name, sizeof(name), "%.20s_fib%u", st->name, 1u);
	CHECK(rte_fib_find_existing(name) != NULL);
	ffs_stack_stop(st);
	st = NULL;
	CHECK(rte_fib_find_existing(name) == NULL);
}

TEST_MAIN()
