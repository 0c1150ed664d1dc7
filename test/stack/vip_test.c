/*
 * A port's further addresses ([portN] vip_addr) and source selection (stack/iface/route.c, arp.c), on a
 * running inline stack whose one port is a net_ring vdev at 10.0.0.1/16 with three more addresses:
 * 10.0.0.2 (the port's subnet), 10.1.0.1/24 and 10.2.0.9/30 (subnets of their own). What the stack
 * transmits comes back on the port's RX queue.
 *
 * Cases: each address's subnet is a connected route (once); each is local, its subnet broadcast a
 * broadcast of the port; the source of a datagram is the port's address on the next hop's subnet —
 * the primary first, the gateway's subnet for a gateway route, the destination's on-link — else the
 * primary, as Linux's inet_select_addr (checked against `ip route get` on a kernel with the same
 * addresses); ARP requests for each address are answered from it, resolution asks from the address
 * on the target's subnet, and a port coming up announces every address; further addresses added and
 * removed at run time (ifconfig inet ADDR alias / -alias) with their connected routes, while a reader
 * on another thread never sees one half-made (built under TSan in CI, where any unordered access is
 * reported).
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
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
#define VIP_SAME IP(10, 0, 0, 2)
#define VIP_OWN IP(10, 1, 0, 1)
#define VIP_30 IP(10, 2, 0, 9)

static struct ffs_stack *st;
static struct ffs_lcore *lc;

static void setup(void)
{
	if (st)
		return;
	test_eal_init("vip_test", "128", "-l", "0", "--vdev=net_ring0", NULL);
	struct ffs_conf conf;
	ffs_conf_init(&conf);
	test_conf_port(&conf, OUR_ADDR, 0xffff0000u);
	conf.ports[0].n_vip = 3;
	conf.ports[0].vip[0] = ffs_ifaddr_of(VIP_SAME, 16);
	conf.ports[0].vip[1] = ffs_ifaddr_of(VIP_OWN, 24);
	conf.ports[0].vip[2] = ffs_ifaddr_of(VIP_30, 30);
	st = test_stack_start("vip_test", &conf);
	lc = st->lcores[0];
	test_port_settle(st, 200);
}

static unsigned sent(struct rte_mbuf **f, unsigned max) { return test_port_drain(lc, f, max); }

static void free_all(struct rte_mbuf **f, unsigned n)
{
	for (unsigned i = 0; i < n && i < 64; i++)
		rte_pktmbuf_free(f[i]);
}

/** The ARP packet in frame `m` (false when it is none). */
static bool arp_of(struct rte_mbuf *m, struct arp_repr *a)
{
	struct eth_repr eth;
	const uint8_t *p = rte_pktmbuf_mtod(m, const uint8_t *);
	return eth_repr_parse(p, rte_pktmbuf_data_len(m), &eth) == WIRE_OK && eth.ethertype == ETH_TYPE_ARP &&
	       arp_repr_parse(p + ETH_HDR_LEN, rte_pktmbuf_data_len(m) - ETH_HDR_LEN, a) == WIRE_OK;
}

TEST(each_address_s_subnet_is_a_connected_route_once)
{
	setup();
	struct ffs_route_info r[FFS_MAX_ROUTES];
	int n = ffs_stack_route_dump(st, r, FFS_MAX_ROUTES);
	CHECK_EQ_INT(n, 3); /* 10.0.0.2 is on the primary's 10.0.0.0/16 */
	CHECK_EQ_INT(r[0].dest, IP(10, 2, 0, 8));
	CHECK_EQ_INT(r[0].prefixlen, 30);
	CHECK_EQ_INT(r[1].dest, IP(10, 1, 0, 0));
	CHECK_EQ_INT(r[1].prefixlen, 24);
	CHECK_EQ_INT(r[2].dest, IP(10, 0, 0, 0));
	CHECK_EQ_INT(r[2].prefixlen, 16);
	for (int i = 0; i < n; i++)
		CHECK(r[i].flags & FFS_ROUTE_CONNECTED);
}

TEST(every_address_is_local_and_its_broadcast_the_port_s)
{
	setup();
	const uint32_t ours[] = { OUR_ADDR, VIP_SAME, VIP_OWN, VIP_30 };
	for (unsigned i = 0; i < 4; i++) {
		uint32_t a = ours[i];
		CHECK(route_is_local(st, a));
		CHECK(route_port_of(st, a) == &st->ports[0]);
		CHECK(route_port_has_addr(&st->ports[0], a));
	}
	CHECK(!route_is_local(st, IP(10, 1, 0, 2)));
	CHECK(route_is_broadcast(st, IP(10, 1, 0, 255)));
	CHECK(route_is_broadcast(st, IP(10, 2, 0, 11)));
	CHECK(!route_is_broadcast(st, IP(10, 1, 0, 254)));
	CHECK(route_on_link(st, 0, IP(10, 2, 0, 10)));
	CHECK(!route_on_link(st, 0, IP(10, 2, 0, 12)));
	/* A vip_addr is no neighbour: a static entry for it is refused. */
	static const struct eth_addr mac = { { 0x02, 0, 0, 0, 0, 0x07 } };
	CHECK_EQ_INT(ffs_stack_neigh_add(st, 0, VIP_OWN, &mac), -EINVAL);
}

TEST(the_source_is_the_port_s_address_on_the_next_hop_s_subnet)
{
	setup();
	/* As `ip route get` on a kernel with 10.0.0.1/16, 10.0.0.2/16 (secondary), 10.1.0.1/24, 10.2.0.9/30. */
	CHECK_EQ_INT(route_source(st, IP(10, 0, 5, 5)), OUR_ADDR); /* the primary, never the same subnet's second */
	CHECK_EQ_INT(route_source(st, IP(10, 1, 0, 77)), VIP_OWN);
	CHECK_EQ_INT(route_source(st, IP(10, 2, 0, 10)), VIP_30);
	CHECK_EQ_INT(route_source(st, IP(10, 1, 0, 255)), VIP_OWN); /* a subnet broadcast: that subnet's address */
	CHECK_EQ_INT(route_source(st, IP(10, 0, 255, 255)), OUR_ADDR);
	CHECK_EQ_INT(route_source(st, VIP_OWN), VIP_OWN); /* to itself */
	CHECK_EQ_INT(route_source(st, IP(172, 16, 0, 1)), 0); /* no route */
	/* A gateway route: the address on the gateway's subnet. */
	CHECK_EQ_INT(ffs_stack_route_add(st, IP(192, 168, 0, 0), 16, IP(10, 1, 0, 254)), 0);
	CHECK_EQ_INT(ffs_stack_route_add(st, 0, 0, IP(10, 0, 0, 254)), 0);
	CHECK_EQ_INT(route_source(st, IP(192, 168, 3, 3)), VIP_OWN);
	CHECK_EQ_INT(route_source(st, IP(8, 8, 8, 8)), OUR_ADDR);
	CHECK_EQ_INT(ffs_stack_route_del(st, IP(192, 168, 0, 0), 16), 0);
	CHECK_EQ_INT(ffs_stack_route_del(st, 0, 0), 0);
	CHECK_EQ_INT(route_source(st, IP(192, 168, 3, 3)), 0);
}

TEST(a_request_for_each_address_is_answered_from_it)
{
	setup();
	test_port_drain(lc, NULL, 0);
	const struct ffs_port *port = &st->ports[0];
	static const struct eth_addr peer = { { 0x02, 0, 0, 0, 0, 0x55 } };
	const uint32_t asked[] = { VIP_SAME, VIP_OWN, VIP_30 }, from[] = { IP(10, 0, 0, 55), IP(10, 1, 0, 55), IP(10, 2, 0, 10) };
	for (unsigned i = 0; i < 3; i++) {
		struct rte_mbuf *m = rte_pktmbuf_alloc(st->pool);
		CHECK(m != NULL);
		uint8_t *p = (uint8_t *)rte_pktmbuf_append(m, ARP_PKT_LEN);
		struct arp_repr a = { .op = ARP_OP_REQUEST, .sha = peer, .spa = from[i], .tpa = asked[i] };
		CHECK_EQ_INT(arp_repr_emit(&a, p, ARP_PKT_LEN), ARP_PKT_LEN);
		lc->now = rte_rdtsc();
		arp_input(lc, port, m, false);
		struct rte_mbuf *f[8];
		unsigned n = sent(f, 8);
		CHECK_EQ_INT(n, 1);
		struct arp_repr r;
		CHECK(arp_of(f[0], &r));
		CHECK_EQ_INT(r.op, ARP_OP_REPLY);
		CHECK_EQ_INT(r.spa, asked[i]);
		CHECK_EQ_INT(r.tpa, from[i]);
		CHECK(eth_addr_eq(&r.sha, &port->mac));
		free_all(f, n);
		/* The asker is learned as a neighbour on the port. */
		CHECK(neigh_lookup(&lc->neigh, 0, from[i]) != NULL);
		CHECK_EQ_INT(ffs_stack_neigh_del(st, 0, from[i]), 1);
	}
}

TEST(resolution_asks_from_the_address_on_the_target_s_subnet)
{
	setup();
	test_port_drain(lc, NULL, 0);
	const uint32_t target[] = { IP(10, 1, 0, 77), IP(10, 0, 9, 9) }, want[] = { VIP_OWN, OUR_ADDR };
	for (unsigned i = 0; i < 2; i++) {
		lc->now = rte_rdtsc();
		CHECK_EQ_INT(icmp_send_echo(lc, target[i], 1, 1, 8, 0), 0);
		struct rte_mbuf *f[8];
		unsigned n = sent(f, 8);
		CHECK_EQ_INT(n, 1);
		struct arp_repr r;
		CHECK(arp_of(f[0], &r));
		CHECK_EQ_INT(r.op, ARP_OP_REQUEST);
		CHECK_EQ_INT(r.tpa, target[i]);
		CHECK_EQ_INT(r.spa, want[i]);
		free_all(f, n);
		CHECK_EQ_INT(ffs_stack_neigh_del(st, 0, target[i]), 1); /* and the echo it held */
	}
}

TEST(a_port_coming_up_announces_every_address)
{
	setup();
	CHECK_EQ_INT(ffs_stack_port_set_up(st, 0, false), 0);
	test_port_drain(lc, NULL, 0);
	CHECK_EQ_INT(ffs_stack_port_set_up(st, 0, true), 0);
	struct rte_mbuf *f[64];
	unsigned n = sent(f, 64), k = 0;
	const uint32_t want[] = { OUR_ADDR, VIP_SAME, VIP_OWN, VIP_30 };
	for (unsigned i = 0; i < n && i < 64; i++) {
		struct arp_repr r;
		if (!arp_of(f[i], &r))
			continue; /* IPv6's unsolicited advertisement */
		CHECK(k < 4);
		CHECK_EQ_INT(r.op, ARP_OP_REQUEST);
		CHECK_EQ_INT(r.spa, want[k]);
		CHECK_EQ_INT(r.tpa, want[k]);
		k++;
	}
	CHECK_EQ_INT(k, 4);
	free_all(f, n);
}

TEST(aliases_come_and_go_at_run_time_with_their_routes)
{
	setup();
	test_port_drain(lc, NULL, 0);
	const struct ffs_port *port = &st->ports[0];
	const uint32_t alias = IP(10, 3, 0, 1);
	CHECK_EQ_INT(ffs_stack_port_alias_add(st, 0, alias, 24), 0);
	CHECK(route_is_local(st, alias));
	CHECK_EQ_INT(route_source(st, IP(10, 3, 0, 9)), alias);
	struct ffs_route_info r[FFS_MAX_ROUTES];
	int n = ffs_stack_route_dump(st, r, FFS_MAX_ROUTES), found = 0;
	for (int i = 0; i < n; i++)
		found += r[i].dest == IP(10, 3, 0, 0) && r[i].prefixlen == 24 && (r[i].flags & FFS_ROUTE_CONNECTED);
	CHECK_EQ_INT(found, 1);
	/* Announced, with the others. */
	struct rte_mbuf *f[64];
	unsigned sent_n = sent(f, 64), announced = 0;
	for (unsigned i = 0; i < sent_n && i < 64; i++) {
		struct arp_repr a;
		announced += arp_of(f[i], &a) && a.op == ARP_OP_REQUEST && a.spa == alias && a.tpa == alias;
	}
	free_all(f, sent_n);
	CHECK_EQ_INT(announced, 1);
	/* What is refused, changing nothing. */
	CHECK_EQ_INT(ffs_stack_port_alias_add(st, 0, VIP_OWN, 24), -EEXIST);
	CHECK_EQ_INT(ffs_stack_port_alias_add(st, 0, OUR_ADDR, 16), -EEXIST);
	CHECK_EQ_INT(ffs_stack_port_alias_add(st, 0, IP(10, 4, 0, 0), 24), -EINVAL);
	CHECK_EQ_INT(ffs_stack_port_alias_add(st, 0, IP(127, 0, 0, 2), 8), -EINVAL);
	CHECK_EQ_INT(ffs_stack_port_alias_add(st, 9, IP(10, 4, 0, 1), 24), -ENOENT);
	CHECK_EQ_INT(ffs_stack_port_alias_del(st, 0, OUR_ADDR), -ESRCH);
	CHECK_EQ_INT(ffs_stack_port_alias_del(st, 0, IP(10, 4, 0, 1)), -ESRCH);
	/* Up to FFS_MAX_VIP in all: 3 configured, this one, 12 more. */
	for (unsigned i = 0; i < FFS_MAX_VIP - 4; i++)
		CHECK_EQ_INT(ffs_stack_port_alias_add(st, 0, IP(10, 5, i, 1), 24), 0);
	CHECK_EQ_INT(ffs_stack_port_alias_add(st, 0, IP(10, 6, 0, 1), 24), -ENOSPC);
	for (unsigned i = 0; i < FFS_MAX_VIP - 4; i++)
		CHECK_EQ_INT(ffs_stack_port_alias_del(st, 0, IP(10, 5, i, 1)), 0);
	/* A static route through a gateway on its subnet goes with it, as the connected route does. */
	CHECK_EQ_INT(ffs_stack_route_add(st, IP(192, 168, 0, 0), 16, IP(10, 3, 0, 254)), 0);
	CHECK_EQ_INT(ffs_stack_port_alias_del(st, 0, alias), 0);
	CHECK(!route_is_local(st, alias));
	CHECK(!route_port_has_addr(port, alias));
	CHECK_EQ_INT(route_source(st, IP(10, 3, 0, 9)), 0);
	CHECK_EQ_INT(route_source(st, IP(192, 168, 1, 1)), 0);
	CHECK_EQ_INT(ffs_stack_route_dump(st, r, FFS_MAX_ROUTES), 3);
	struct ffs_ifaddr v[FFS_MAX_VIP];
	CHECK_EQ_INT(route_port_vips(port, v), 3);
	CHECK_EQ_INT(v[0].addr, VIP_SAME);
	CHECK_EQ_INT(v[1].addr, VIP_OWN);
	CHECK_EQ_INT(v[2].addr, VIP_30);
	test_port_drain(lc, NULL, 0);
}

static atomic_bool reading;

/** Reads the port's further addresses until told to stop; each must come whole: an address of the
 *  writer's (10.9.LEN.1) with the netmask and broadcast of its prefix length. Returns torn reads. */
static void *vip_reader(void *arg)
{
	const struct ffs_port *port = arg;
	uintptr_t torn = 0;
	while (atomic_load(&reading)) {
		struct ffs_ifaddr v[FFS_MAX_VIP];
		for (unsigned k = 0, n = route_port_vips(port, v); k < n; k++) {
			if ((v[k].addr >> 16) != IP(10, 9, 0, 0) >> 16)
				continue;
			struct ffs_ifaddr want = ffs_ifaddr_of(v[k].addr, (v[k].addr >> 8) & 0xff);
			torn += v[k].netmask != want.netmask || v[k].broadcast != want.broadcast;
		}
		torn += !route_port_has_addr(port, VIP_OWN); /* never missing while others come and go */
	}
	return (void *)torn;
}

TEST(readers_never_see_a_half_made_alias)
{
	setup();
	pthread_t reader;
	atomic_store(&reading, true);
	CHECK_EQ_INT(pthread_create(&reader, NULL, vip_reader, &st->ports[0]), 0);
	for (unsigned r = 0; r < 300; r++) {
		unsigned len = 20 + r % 8;
		CHECK_EQ_INT(ffs_stack_port_alias_add(st, 0, IP(10, 9, len, 1), len), 0);
		CHECK_EQ_INT(ffs_stack_port_alias_del(st, 0, IP(10, 9, len, 1)), 0);
		test_port_drain(lc, NULL, 0);
	}
	atomic_store(&reading, false);
	void *torn;
	CHECK_EQ_INT(pthread_join(reader, &torn), 0);
	CHECK_EQ_INT((uintptr_t)torn, 0);
}

int main(int argc, char **argv)
{
	setup();
	int rc = test__main(argc, argv, __FILE__);
	return test_ring_stack_stop(st, rc);
}
