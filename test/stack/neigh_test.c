/*
 * Eviction from a full neighbour table (stack/iface/neigh.c, arp.c), driven directly on a running
 * inline stack whose one port is a net_ring vdev, with net.link.ether.inet.max_entries = 8.
 *
 * Cases: entries learned from requests for us give way to one another, never to entries we use;
 * a resolution of our own evicts a learned entry first, then the least recently used entry we used,
 * then an incomplete one (its held packets dropped and counted); permanent entries never go, and a
 * table of them refuses a new neighbour (ENOBUFS, arp.table_full). The pool returns to its baseline.
 */
#include <errno.h>
#include <stdio.h>
#include <unistd.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>

#include "stack/iface/iface.h"
#include "stack/lcore/lcore.h"
#include "stack/wire/arp.h"
#include "test/stack/harness.h"
#include "test/stack/stack_env.h"

#define OUR_ADDR 0x0a000001u /* 10.0.0.1/16 */
#define MAX_ENTRIES 8

static struct ffs_stack *st;
static struct ffs_lcore *lc;
static const struct ffs_port *port;

static void setup(void)
{
	st = test_ring_stack_start("neigh_test", "128", OUR_ADDR, 0xffff0000u);
	if (ffs_stack_sysctl_set(st, FFS_SYSCTL_ARP_MAX_ENTRIES, MAX_ENTRIES) != 0) {
		fprintf(stderr, "neigh_test: net.link.ether.inet.max_entries refused\n");
		exit(2);
	}
	lc = st->lcores[0];
	port = &st->ports[0];
}

/** Frees what the port sent (it comes back on the ring's RX side). */
static struct eth_addr mac_of(uint32_t addr)
{
	return (struct eth_addr){ { 0x02, 0, (uint8_t)(addr >> 24), (uint8_t)(addr >> 16), (uint8_t)(addr >> 8), (uint8_t)addr } };
}

/** An ARP packet from `spa` (with mac_of(spa)) for us, as Ethernet input hands it over. */
static void arp_from(uint16_t op, uint32_t spa)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(st->pool);
	CHECK(m != NULL);
	uint8_t *p = (uint8_t *)rte_pktmbuf_append(m, ARP_PKT_LEN);
	struct arp_repr a = { .op = op, .sha = mac_of(spa), .spa = spa, .tha = port->mac, .tpa = OUR_ADDR };
	CHECK_EQ_INT(arp_repr_emit(&a, p, ARP_PKT_LEN), ARP_PKT_LEN);
	lc->now = rte_rdtsc();
	arp_input(lc, port, m, false);
	test_port_drain(lc, NULL, 0);
}

/** Sends a small frame to `addr` through the neighbour cache; the send's result. */
static int send_to(uint32_t addr)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(st->pool);
	CHECK(m != NULL);
	CHECK(rte_pktmbuf_append(m, 60) != NULL);
	lc->now = rte_rdtsc();
	int rc = arp_resolve_and_send(lc, port, addr, m);
	test_port_drain(lc, NULL, 0);
	return rc;
}

/** A neighbour we resolved and used: a send (held), then its reply. */
static void use(uint32_t addr)
{
	CHECK_EQ_INT(send_to(addr), 0);
	arp_from(ARP_OP_REPLY, addr);
	struct neigh_entry *e = neigh_lookup(&lc->neigh, port->index, addr);
	CHECK(e != NULL && e->state == FFS_NEIGH_REACHABLE);
}

static bool present(uint32_t addr) { return neigh_lookup(&lc->neigh, port->index, addr) != NULL; }

static void empty_table(void)
{
	neigh_clear(&lc->neigh);
	lc->ctr = (struct ffs_counters){ 0 };
}

TEST(learned_entries_never_displace_used_ones)
{
	empty_table();
	int base = ffs_stack_mempool_in_use(st);
	for (uint32_t i = 0; i < 4; i++)
		use(0x0a000100u + i);
	for (uint32_t i = 0; i < 100; i++)
		arp_from(ARP_OP_REQUEST, 0x0a008000u + i);
	CHECK_EQ_INT(lc->neigh.count, MAX_ENTRIES);
	for (uint32_t i = 0; i < 4; i++)
		CHECK(present(0x0a000100u + i));
	/* The learned half churns among itself: the most recent requests are the ones kept. */
	CHECK(present(0x0a008000u + 99));
	CHECK(!present(0x0a008000u));
	CHECK_EQ_INT(lc->ctr.arp_evicted, 100 - 4);
	CHECK_EQ_INT(lc->ctr.arp_requests_in, 100);
	CHECK_EQ_INT(ffs_stack_mempool_in_use(st), base);
}

TEST(a_table_of_used_entries_refuses_learning_but_answers)
{
	empty_table();
	for (uint32_t i = 0; i < MAX_ENTRIES; i++)
		use(0x0a000200u + i);
	arp_from(ARP_OP_REQUEST, 0x0a008101u);
	CHECK(!present(0x0a008101u));
	CHECK_EQ_INT(lc->ctr.arp_table_full, 1);
	CHECK_EQ_INT(lc->ctr.arp_replies_out, 1);
	for (uint32_t i = 0; i < MAX_ENTRIES; i++)
		CHECK(present(0x0a000200u + i));
}

TEST(a_resolution_evicts_learned_then_least_recently_used)
{
	empty_table();
	for (uint32_t i = 0; i < MAX_ENTRIES - 1; i++)
		use(0x0a000300u + i);
	arp_from(ARP_OP_REQUEST, 0x0a008201u);
	CHECK_EQ_INT(send_to(0x0a000400u), 0); /* the learned entry goes */
	CHECK(!present(0x0a008201u));
	CHECK(present(0x0a000300u));
	arp_from(ARP_OP_REPLY, 0x0a000400u);
	CHECK_EQ_INT(send_to(0x0a000300u), 0); /* used again: now the most recent */
	CHECK_EQ_INT(send_to(0x0a000401u), 0); /* 0x...301 was used longest ago */
	CHECK(present(0x0a000300u));
	CHECK(!present(0x0a000301u));
	CHECK_EQ_INT(lc->ctr.arp_evicted, 2);
}

TEST(incomplete_entries_go_last_and_permanent_ones_never)
{
	empty_table();
	int base = ffs_stack_mempool_in_use(st);
	for (uint32_t i = 0; i < MAX_ENTRIES - 1; i++) {
		struct eth_addr mac = mac_of(0x0a000500u + i);
		CHECK_EQ_INT(arp_add_static(lc, port->index, 0x0a000500u + i, &mac), 0);
	}
	CHECK_EQ_INT(send_to(0x0a000600u), 0);
	CHECK_EQ_INT(send_to(0x0a000600u), 0); /* two packets held */
	CHECK_EQ_INT(send_to(0x0a000601u), 0); /* evicts the incomplete entry and drops what it held */
	CHECK(!present(0x0a000600u));
	CHECK_EQ_INT(lc->ctr.arp_hold_dropped, 2);
	struct eth_addr mac = mac_of(0x0a000700u);
	CHECK_EQ_INT(arp_add_static(lc, port->index, 0x0a000700u, &mac), 0); /* takes the last incomplete slot */
	CHECK(!present(0x0a000601u));
	CHECK_EQ_INT(send_to(0x0a000602u), -ENOBUFS);
	CHECK_EQ_INT(lc->ctr.arp_table_full, 1);
	for (uint32_t i = 0; i < MAX_ENTRIES - 1; i++)
		CHECK(present(0x0a000500u + i));
	empty_table();
	CHECK_EQ_INT(ffs_stack_mempool_in_use(st), base);
}

int main(int argc, char **argv)
{
	setup();
	int rc = test__main(argc, argv, __FILE__);
	return test_ring_stack_stop(st, rc);
}
