/*
 * Neighbor Discovery messages shared between lcores (stack/iface/icmp6.c hands them to
 * eth_clone_to_peers as ARP frames are), on a stack with two data-path lcores (lcores 1 and 2,
 * floating over the machine's first two CPUs) and one net_ring port; the test stops both lcores and
 * calls Ethernet input for the first as its loop would.
 *
 * Cases, as arp_clone_test's: a solicited advertisement answering one lcore's solicitation teaches
 * every lcore, also the one whose queue it arrived on without having asked, while an advertisement
 * no lcore asked for teaches none.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <rte_cycles.h>
#include <rte_launch.h>
#include <rte_mbuf.h>

#include "stack/iface/addr6.h"
#include "stack/iface/iface.h"
#include "stack/lcore/lcore.h"
#include "stack/wire/eth.h"
#include "stack/wire/icmp6.h"
#include "test/stack/harness.h"
#include "test/stack/stack_env.h"

#define OUR_ADDR 0x0a000001u /* 10.0.0.1, the port's IPv4 address */

static const struct eth_addr PEER_MAC = { { 0x02, 0, 0, 0, 0, 0x02 } };

static struct ffs_stack *st;

static struct ip6_addr A(const char *s)
{
	struct ip6_addr a;
	if (ip6_parse(s, &a) != 0)
		FAIL("ip6_parse(\"%s\") failed", s);
	return a;
}

static void setup(void)
{
	if (st)
		return;
	test_eal_init("nd6_clone_test", "256", "--lcores=0@(0-1),1@(0-1),2@(0-1)", "--vdev=net_ring0", NULL);
	struct ffs_conf conf;
	test_conf_two_data_lcores(&conf);
	test_conf_port(&conf, OUR_ADDR, 0xffffff00u);
	st = test_stack_start("nd6_clone_test", &conf);
}

/** A solicited advertisement for `target` (at PEER_MAC) to our link-local address, as it arrives on port 0. */
static struct rte_mbuf *na_from(const struct ip6_addr *target)
{
	struct ip6_addr ours;
	CHECK(addr6_linklocal(st, 0, &ours));
	struct rte_mbuf *m = rte_pktmbuf_alloc(st->pool);
	CHECK(m != NULL);
	uint8_t *p = (uint8_t *)rte_pktmbuf_append(m, ETH_HDR_LEN + IPV6_HDR_LEN + 32);
	CHECK(p != NULL);
	struct eth_repr eth = { .dst = st->ports[0].mac, .src = PEER_MAC, .ethertype = ETH_TYPE_IPV6 };
	eth_repr_emit(&eth, p, ETH_HDR_LEN);
	size_t n = nd_na_emit(target, &PEER_MAC, false, true, true, target, &ours, p + ETH_HDR_LEN + IPV6_HDR_LEN, 32);
	CHECK_EQ_INT(n, 32);
	struct ipv6_repr ip = { .src = *target, .dst = ours, .next_header = IPV6_NH_ICMPV6, .hop_limit = 255,
				.payload_len = (uint16_t)n };
	ipv6_repr_emit(&ip, p + ETH_HDR_LEN, IPV6_HDR_LEN);
	m->port = st->ports[0].port_id; /* as the PMD records it (the peer lcore finds the port by it) */
	return m;
}

static bool knows_peer(struct ffs_lcore *lc, const struct ip6_addr *a)
{
	const struct neigh_entry *e = neigh6_lookup(&lc->neigh6, 0, a);
	return e && e->state == FFS_NEIGH_REACHABLE && eth_addr_eq(&e->mac, &PEER_MAC);
}

TEST(an_advertisement_answering_one_lcores_solicitation_teaches_every_lcore_and_an_unasked_one_none)
{
	setup();
	struct ffs_lcore *rx = st->lcores[0], *asker = st->lcores[1];
	const struct ip6_addr asked = A("fe80::2:1"), unasked = A("fe80::2:2");
	/* Let the link-up announcements come and go, then hold both loops still. */
	rte_delay_us_sleep(200 * 1000);
	test_lcore_stop(rx);
	test_lcore_stop(asker);

	/* The asking lcore resolves `asked` for a packet it holds meanwhile. */
	struct rte_mbuf *held = rte_pktmbuf_alloc(st->pool);
	CHECK(held != NULL);
	uint8_t *frame = (uint8_t *)rte_pktmbuf_append(held, ETH_HDR_LEN + IPV6_HDR_LEN + 8);
	CHECK(frame != NULL);
	memset(frame, 0, ETH_HDR_LEN + IPV6_HDR_LEN + 8);
	asker->now = rte_rdtsc();
	uint64_t solicitations = asker->ctr.nd6_ns_out;
	CHECK_EQ_INT(nd6_resolve_and_send(asker, &st->ports[0], &asked, held), 0);
	CHECK_EQ_INT(asker->ctr.nd6_ns_out, solicitations + 1);

	/* Its answer lands on the other lcore's queue: that lcore learns it too, rather than ignoring it. */
	uint64_t unsolicited = rx->ctr.nd6_unsolicited;
	rx->now = rte_rdtsc();
	eth_input(rx, &st->ports[0], na_from(&asked));
	CHECK(knows_peer(rx, &asked));
	CHECK_EQ_INT(rx->ctr.nd6_unsolicited, unsolicited);

	/* The asking lcore learns from its clone and sends what it held. */
	CHECK_EQ_INT(rte_eal_remote_launch(ffs_lcore_main, asker, asker->lcore_id), 0);
	rte_delay_us_sleep(50 * 1000);
	test_lcore_stop(asker);
	CHECK(knows_peer(asker, &asked));

	/* An advertisement no lcore asked for creates no entry anywhere (no cache poisoning). */
	rx->now = rte_rdtsc();
	eth_input(rx, &st->ports[0], na_from(&unasked));
	CHECK(neigh6_lookup(&rx->neigh6, 0, &unasked) == NULL);
	CHECK_EQ_INT(rx->ctr.nd6_unsolicited, unsolicited + 1);
	CHECK_EQ_INT(rte_eal_remote_launch(ffs_lcore_main, asker, asker->lcore_id), 0);
	rte_delay_us_sleep(50 * 1000);
	test_lcore_stop(asker);
	CHECK(neigh6_lookup(&asker->neigh6, 0, &unasked) == NULL);

	CHECK_EQ_INT(rte_eal_remote_launch(ffs_lcore_main, asker, asker->lcore_id), 0);
	CHECK_EQ_INT(rte_eal_remote_launch(ffs_lcore_main, rx, rx->lcore_id), 0);
}

int main(int argc, char **argv)
{
	int rc = test__main(argc, argv, __FILE__);
	/* Stopped, so that a leak checker sees the stack's state freed rather than held. */
	if (st)
		ffs_stack_stop(st);
	return rc;
}
