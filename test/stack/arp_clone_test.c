/*
 * ARP frames shared between lcores (stack/iface/ethernet.c): on a stack with several data-path
 * lcores, the lcore that receives an ARP frame hands the same mbuf to every other lcore (by
 * reference count) so that each private neighbour cache learns from it. A stack with two data-path
 * lcores (lcores 1 and 2, floating over the machine's first two CPUs) and one net_ring port; the
 * test stops both lcores and calls Ethernet input for the first as its loop would.
 *
 * Cases: a frame that arrived in two segments (a PMD with small buffers chains them) stays whole
 * until the last lcore is done with it — every segment is shared, not only the first — and the
 * packet pool is back at its baseline once the other lcore has read its copy. A reply to one lcore's
 * request teaches every lcore, also the one whose queue it arrived on without having asked, while a
 * reply no lcore asked for teaches none.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <rte_cycles.h>
#include <rte_launch.h>
#include <rte_mbuf.h>

#include "stack/iface/iface.h"
#include "stack/lcore/lcore.h"
#include "stack/wire/arp.h"
#include "stack/wire/eth.h"
#include "test/stack/harness.h"
#include "test/stack/stack_env.h"

#define OUR_ADDR 0x0a000001u  /* 10.0.0.1, the port's address */
#define PEER_ADDR 0x0a000002u /* 10.0.0.2 asks for 10.0.0.3: a request not for us */
#define OTHER_ADDR 0x0a000003u
#define ASKED_ADDR 0x0a000004u   /* resolved by one lcore */
#define UNASKED_ADDR 0x0a000005u /* resolved by none */
#define TRAILER 18 /* Ethernet padding up to the 60-byte minimum, in the second segment */

static const struct eth_addr PEER_MAC = { { 0x02, 0, 0, 0, 0, 0x02 } };

static struct ffs_stack *st;

static void setup(void)
{
	if (st)
		return;
	test_eal_init("arp_clone_test", "256", "--lcores=0@(0-1),1@(0-1),2@(0-1)", "--vdev=net_ring0", NULL);
	struct ffs_conf conf;
	test_conf_two_data_lcores(&conf);
	test_conf_port(&conf, OUR_ADDR, 0xffffff00u);
	st = test_stack_start("arp_clone_test", &conf);
}

/** A broadcast ARP request from PEER_ADDR as a PMD hands it over: the header segment, then the padding. */
static struct rte_mbuf *chained_arp_request(void)
{
	struct rte_mbuf *head = rte_pktmbuf_alloc(st->pool);
	struct rte_mbuf *tail = rte_pktmbuf_alloc(st->pool);
	CHECK(head && tail);
	uint8_t *p = (uint8_t *)rte_pktmbuf_append(head, ETH_HDR_LEN + ARP_PKT_LEN);
	CHECK(p != NULL);
	struct eth_repr eth = { .src = PEER_MAC, .ethertype = ETH_TYPE_ARP };
	memset(eth.dst.b, 0xff, ETH_ADDR_LEN);
	eth_repr_emit(&eth, p, ETH_HDR_LEN);
	struct arp_repr a = { .op = ARP_OP_REQUEST, .sha = PEER_MAC, .spa = PEER_ADDR, .tpa = OTHER_ADDR };
	CHECK(arp_repr_emit(&a, p + ETH_HDR_LEN, ARP_PKT_LEN) > 0);
	uint8_t *pad = (uint8_t *)rte_pktmbuf_append(tail, TRAILER);
	CHECK(pad != NULL);
	memset(pad, 0, TRAILER);
	CHECK_EQ_INT(rte_pktmbuf_chain(head, tail), 0);
	head->port = st->ports[0].port_id; /* as the PMD records it (the peer lcore finds the port by it) */
	return head;
}

TEST(a_chained_arp_frame_shared_with_another_lcore_keeps_every_segment_until_both_are_done)
{
	setup();
	struct ffs_lcore *rx = st->lcores[0], *peer = st->lcores[1];
	/* Let the link-up announcement come and go, then hold both loops still. */
	rte_delay_us_sleep(200 * 1000);
	test_lcore_stop(rx);
	test_lcore_stop(peer);
	int baseline = test_pool_settles_at(st, ffs_stack_mempool_in_use(st));
	uint64_t clones_in = peer->ctr.arp_clones_in;

	struct rte_mbuf *m = chained_arp_request();
	struct rte_mbuf *tail = m->next;
	CHECK_EQ_INT(m->nb_segs, 2);
	CHECK_EQ_INT(ffs_stack_mempool_in_use(st), baseline + 2);
	rx->now = rte_rdtsc();
	eth_input(rx, &st->ports[0], m);
	/* The receiving lcore is done with it; the peer's copy, still queued, holds both segments. */
	CHECK_EQ_INT(rte_ring_count(peer->peer_in), 1);
	CHECK_EQ_INT(ffs_stack_mempool_in_use(st), baseline + 2);
	CHECK_EQ_INT(rte_mbuf_refcnt_read(m), 1);
	CHECK_EQ_INT(rte_mbuf_refcnt_read(tail), 1);

	CHECK_EQ_INT(rte_eal_remote_launch(ffs_lcore_main, peer, peer->lcore_id), 0);
	CHECK_EQ_INT(rte_eal_remote_launch(ffs_lcore_main, rx, rx->lcore_id), 0);
	/* The peer frees its copy after learning from it; its counters are read once it is stopped. */
	CHECK_EQ_INT(test_pool_settles_at(st, baseline), baseline);
	test_lcore_stop(peer);
	CHECK_EQ_INT(peer->ctr.arp_clones_in, clones_in + 1);
}

/** An ARP reply from `spa` (with PEER_MAC) to our address, as it arrives on port 0. */
static struct rte_mbuf *arp_reply_from(uint32_t spa)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(st->pool);
	CHECK(m != NULL);
	uint8_t *p = (uint8_t *)rte_pktmbuf_append(m, ETH_HDR_LEN + ARP_PKT_LEN);
	CHECK(p != NULL);
	struct eth_repr eth = { .dst = st->ports[0].mac, .src = PEER_MAC, .ethertype = ETH_TYPE_ARP };
	eth_repr_emit(&eth, p, ETH_HDR_LEN);
	struct arp_repr a = { .op = ARP_OP_REPLY, .sha = PEER_MAC, .spa = spa, .tha = st->ports[0].mac, .tpa = OUR_ADDR };
	CHECK(arp_repr_emit(&a, p + ETH_HDR_LEN, ARP_PKT_LEN) > 0);
	m->port = st->ports[0].port_id;
	return m;
}

static bool knows_peer(struct ffs_lcore *lc, uint32_t addr)
{
	const struct neigh_entry *e = neigh_lookup(&lc->neigh, 0, addr);
	return e && e->state == FFS_NEIGH_REACHABLE && eth_addr_eq(&e->mac, &PEER_MAC);
}

TEST(a_reply_to_one_lcores_request_teaches_every_lcore_and_an_unasked_one_none)
{
	setup();
	struct ffs_lcore *rx = st->lcores[0], *asker = st->lcores[1];
	rte_delay_us_sleep(200 * 1000);
	test_lcore_stop(rx);
	test_lcore_stop(asker);

	/* The asking lcore resolves ASKED_ADDR for a packet it holds meanwhile. */
	struct rte_mbuf *held = rte_pktmbuf_alloc(st->pool);
	CHECK(held != NULL);
	uint8_t *frame = (uint8_t *)rte_pktmbuf_append(held, ETH_HDR_LEN + 28);
	CHECK(frame != NULL);
	memset(frame, 0, ETH_HDR_LEN + 28);
	asker->now = rte_rdtsc();
	uint64_t requests = asker->ctr.arp_requests_out;
	CHECK_EQ_INT(arp_resolve_and_send(asker, &st->ports[0], ASKED_ADDR, held), 0);
	CHECK_EQ_INT(asker->ctr.arp_requests_out, requests + 1);

	/* Its reply lands on the other lcore's queue: that lcore learns it too, rather than ignoring it. */
	uint64_t unsolicited = rx->ctr.arp_unsolicited;
	rx->now = rte_rdtsc();
	eth_input(rx, &st->ports[0], arp_reply_from(ASKED_ADDR));
	CHECK(knows_peer(rx, ASKED_ADDR));
	CHECK_EQ_INT(rx->ctr.arp_unsolicited, unsolicited);

	/* The asking lcore learns from its clone and sends what it held. */
	CHECK_EQ_INT(rte_eal_remote_launch(ffs_lcore_main, asker, asker->lcore_id), 0);
	rte_delay_us_sleep(50 * 1000);
	test_lcore_stop(asker);
	CHECK(knows_peer(asker, ASKED_ADDR));

	/* A reply no lcore asked for creates no entry anywhere (no cache poisoning by unsolicited replies). */
	rx->now = rte_rdtsc();
	eth_input(rx, &st->ports[0], arp_reply_from(UNASKED_ADDR));
	CHECK(neigh_lookup(&rx->neigh, 0, UNASKED_ADDR) == NULL);
	CHECK_EQ_INT(rx->ctr.arp_unsolicited, unsolicited + 1);
	CHECK_EQ_INT(rte_eal_remote_launch(ffs_lcore_main, asker, asker->lcore_id), 0);
	rte_delay_us_sleep(50 * 1000);
	test_lcore_stop(asker);
	CHECK(neigh_lookup(&asker->neigh, 0, UNASKED_ADDR) == NULL);

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
