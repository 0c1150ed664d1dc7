/*
 * Eviction from a full neighbour table (stack/iface/neigh.c, arp.c), driven directly on a running
 * inline stack whose one port is a net_ring vdev, with net.link.ether.inet.max_entries = 8.
 *
 * Cases: entries learned from requests for us give way to one another, never to entries we use;
 * a resolution of our own evicts a learned entry first, then the least recently used entry we used,
 * then an incomplete one (its held packets dropped and counted); permanent entries never go, and a
 * table of them refuses a new neighbour (ENOBUFS, arp.table_full). The pool returns to its baseline.
 *
 * Hold queues (net.link.ether.inet.maxhold_bytes, maxhold): bytes are the frames' pkt_len; past the
 * bound the oldest held packets are dropped and counted, the newest is always held (as Linux's
 * unres_qlen_bytes); an optional packet count bounds it too; a 2000-packet burst of small frames fits
 * the default; the reply sends what is held, oldest first; past the pool's budget new packets are
 * refused (arp.hold_memdrop) while what is held stays.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>

#include "stack/iface/iface.h"
#include "stack/lcore/lcore.h"
#include "stack/phy/mbuf.h"
#include "stack/wire/arp.h"
#include "test/stack/harness.h"
#include "test/stack/stack_env.h"

#define OUR_ADDR 0x0a000001u /* 10.0.0.1/16 */
#define MAX_ENTRIES 8
/** Linux's unres_qlen_bytes default, net.link.ether.inet.maxhold_bytes's. */
#define DEFAULT_HOLD_BYTES 212992
/** Where send_tagged writes its tag: past the Ethernet header. */
#define TAG_OFFSET 14

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

/** An ARP packet from `spa` (with mac_of(spa)) for us, as Ethernet input hands it over; what the
 *  stack sends in answer stays on the port. */
static void arp_from_no_drain(uint16_t op, uint32_t spa)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(st->pool);
	CHECK(m != NULL);
	uint8_t *p = (uint8_t *)rte_pktmbuf_append(m, ARP_PKT_LEN);
	struct arp_repr a = { .op = op, .sha = mac_of(spa), .spa = spa, .tha = port->mac, .tpa = OUR_ADDR };
	CHECK_EQ_INT(arp_repr_emit(&a, p, ARP_PKT_LEN), ARP_PKT_LEN);
	lc->now = rte_rdtsc();
	arp_input(lc, port, m, false);
}

/** arp_from_no_drain, then what the stack sent freed. */
static void arp_from(uint16_t op, uint32_t spa)
{
	arp_from_no_drain(op, spa);
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

/** Sends a `len`-byte frame carrying `tag` to `addr` through the neighbour cache (nothing drained). */
static int send_tagged(uint32_t addr, uint16_t len, uint32_t tag)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(st->pool);
	CHECK(m != NULL);
	uint8_t *p = (uint8_t *)rte_pktmbuf_append(m, len);
	CHECK(p != NULL && len >= TAG_OFFSET + sizeof(tag));
	memcpy(p + TAG_OFFSET, &tag, sizeof(tag));
	lc->now = rte_rdtsc();
	return arp_resolve_and_send(lc, port, addr, m);
}

static uint32_t tag_of(struct rte_mbuf *m)
{
	uint32_t tag;
	memcpy(&tag, rte_pktmbuf_mtod_offset(m, const uint8_t *, TAG_OFFSET), sizeof(tag));
	return tag;
}

/** Checks that the entry of `addr` holds exactly the tags first..last, in order, and their bytes. */
static void check_held(uint32_t addr, uint32_t first, uint32_t last, uint32_t bytes)
{
	struct neigh_entry *e = neigh_lookup(&lc->neigh, port->index, addr);
	CHECK(e != NULL && e->state == FFS_NEIGH_INCOMPLETE);
	CHECK_EQ_INT(e->n_held, last - first + 1);
	CHECK_EQ_INT(e->held_bytes, bytes);
	uint32_t want = first, sum = 0;
	for (struct rte_mbuf *m = e->held_head; m; m = *ffs_mbuf_link(m)) {
		CHECK_EQ_INT(tag_of(m), want++);
		sum += rte_pktmbuf_pkt_len(m);
	}
	CHECK_EQ_INT(want, last + 1);
	CHECK_EQ_INT(sum, bytes);
}

static void set_sysctl(enum ffs_sysctl_id id, int64_t v)
{
	CHECK_EQ_INT(ffs_stack_sysctl_set(st, id, v), 0);
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

TEST(holds_by_bytes_dropping_the_oldest)
{
	empty_table();
	int base = ffs_stack_mempool_in_use(st);
	set_sysctl(FFS_SYSCTL_ARP_MAXHOLD_BYTES, 1000);
	const uint32_t addr = 0x0a000800u;
	for (uint32_t i = 0; i < 20; i++)
		CHECK_EQ_INT(send_tagged(addr, 100, i), 0);
	test_port_drain(lc, NULL, 0); /* the request */
	check_held(addr, 10, 19, 1000);
	CHECK_EQ_INT(lc->ctr.arp_hold_dropped, 10);
	/* A larger packet makes room for itself: the three oldest go (700 + 250 <= 1000). */
	CHECK_EQ_INT(send_tagged(addr, 250, 20), 0);
	CHECK_EQ_INT(lc->ctr.arp_hold_dropped, 13);
	struct neigh_entry *e = neigh_lookup(&lc->neigh, port->index, addr);
	CHECK_EQ_INT(e->n_held, 8);
	CHECK_EQ_INT(e->held_bytes, 950);
	CHECK_EQ_INT(tag_of(e->held_head), 13);
	CHECK_EQ_INT(tag_of(e->held_tail), 20);
	/* A lower bound at run time applies from the next packet on. */
	set_sysctl(FFS_SYSCTL_ARP_MAXHOLD_BYTES, 300);
	CHECK_EQ_INT(send_tagged(addr, 100, 21), 0);
	check_held(addr, 21, 21, 100); /* 250 + 100 is still over 300: the 250-byte one goes too */
	CHECK_EQ_INT(lc->ctr.arp_hold_dropped, 13 + 8);
	set_sysctl(FFS_SYSCTL_ARP_MAXHOLD_BYTES, DEFAULT_HOLD_BYTES);
	empty_table();
	CHECK_EQ_INT(ffs_stack_mempool_in_use(st), base);
}

/** Sends `count` frames of `len` bytes to a new neighbour with sysctl `id` at `bound`; checks that
 *  frames first..count-1 are held and the rest dropped, then puts `id` back to `restore`. */
static void burst_under_bound(enum ffs_sysctl_id id, int64_t bound, int64_t restore, uint32_t addr, uint32_t count,
			      uint16_t len, uint32_t first)
{
	empty_table();
	set_sysctl(id, bound);
	for (uint32_t i = 0; i < count; i++)
		CHECK_EQ_INT(send_tagged(addr, len, i), 0);
	test_port_drain(lc, NULL, 0);
	check_held(addr, first, count - 1, (count - first) * len);
	CHECK_EQ_INT(lc->ctr.arp_hold_dropped, first);
	set_sysctl(id, restore);
	empty_table();
}

TEST(the_newest_packet_is_always_held)
{
	burst_under_bound(FFS_SYSCTL_ARP_MAXHOLD_BYTES, 0, DEFAULT_HOLD_BYTES, 0x0a000801u, 5, 1514, 4);
}

TEST(a_packet_count_bounds_the_queue_too)
{
	burst_under_bound(FFS_SYSCTL_ARP_MAXHOLD, 3, 0, 0x0a000802u, 10, 60, 7);
}

TEST(a_burst_of_2000_small_frames_fits_the_default)
{
	empty_table();
	int base = ffs_stack_mempool_in_use(st);
	CHECK_EQ_INT(ffs_sysctl(st, FFS_SYSCTL_ARP_MAXHOLD_BYTES), DEFAULT_HOLD_BYTES);
	CHECK_EQ_INT(ffs_sysctl(st, FFS_SYSCTL_ARP_MAXHOLD), 0);
	/* 2000 datagrams of 64 bytes: 106-byte frames, 212000 bytes. */
	const uint32_t addr = 0x0a000803u, burst = 2000;
	for (uint32_t i = 0; i < burst; i++) {
		CHECK_EQ_INT(send_tagged(addr, 106, i), 0);
		if (i % 64 == 63)
			test_port_drain(lc, NULL, 0); /* as the loop would: the request leaves, nothing else */
	}
	test_port_drain(lc, NULL, 0);
	check_held(addr, 0, burst - 1, burst * 106);
	CHECK_EQ_INT(lc->ctr.arp_hold_dropped, 0);
	CHECK_EQ_INT(lc->ctr.arp_hold_memdrop, 0);
	/* 2009 such frames fit 212992 bytes; the 2010th drops the oldest. */
	for (uint32_t i = burst; i < 2010; i++)
		CHECK_EQ_INT(send_tagged(addr, 106, i), 0);
	check_held(addr, 1, 2009, 2009 * 106);
	CHECK_EQ_INT(lc->ctr.arp_hold_dropped, 1);
	empty_table();
	CHECK_EQ_INT(ffs_stack_mempool_in_use(st), base);
}

TEST(the_reply_sends_what_is_held_oldest_first)
{
	empty_table();
	int base = ffs_stack_mempool_in_use(st);
	/* 471 frames of 106 bytes fit 50000 bytes (fewer than the net_ring port's ring takes). */
	set_sysctl(FFS_SYSCTL_ARP_MAXHOLD_BYTES, 50000);
	const uint32_t addr = 0x0a000805u, count = 1000, kept = 50000 / 106;
	for (uint32_t i = 0; i < count; i++)
		CHECK_EQ_INT(send_tagged(addr, 106, i), 0);
	test_port_drain(lc, NULL, 0);
	check_held(addr, count - kept, count - 1, kept * 106);
	CHECK_EQ_INT(lc->ctr.arp_hold_dropped, count - kept);
	arp_from_no_drain(ARP_OP_REPLY, addr);
	static struct rte_mbuf *sent[1024];
	unsigned n = test_port_drain(lc, sent, RTE_DIM(sent));
	CHECK_EQ_INT(n, kept);
	struct eth_addr want = mac_of(addr);
	for (unsigned i = 0; i < n; i++) {
		CHECK_EQ_INT(tag_of(sent[i]), count - kept + i);
		CHECK(memcmp(rte_pktmbuf_mtod(sent[i], const struct eth_hdr *)->dst.b, want.b, 6) == 0);
	}
	rte_pktmbuf_free_bulk(sent, n);
	struct neigh_entry *e = neigh_lookup(&lc->neigh, port->index, addr);
	CHECK(e != NULL && e->state == FFS_NEIGH_REACHABLE);
	CHECK_EQ_INT(e->n_held, 0);
	CHECK_EQ_INT(e->held_bytes, 0);
	set_sysctl(FFS_SYSCTL_ARP_MAXHOLD_BYTES, DEFAULT_HOLD_BYTES);
	empty_table();
	CHECK_EQ_INT(ffs_stack_mempool_in_use(st), base);
}

TEST(past_the_pools_budget_new_packets_are_refused_and_held_ones_stay)
{
	empty_table();
	int base = ffs_stack_mempool_in_use(st);
	/* The pool may hold 10 mbufs more than now; a neighbour's first packet gets half the rest. */
	set_sysctl(FFS_SYSCTL_UDP_RECVMBUFS, base + 10);
	const uint32_t addr = 0x0a000804u;
	for (uint32_t i = 0; i < 30; i++)
		CHECK_EQ_INT(send_tagged(addr, 100, i), 0);
	test_port_drain(lc, NULL, 0);
	struct neigh_entry *e = neigh_lookup(&lc->neigh, port->index, addr);
	CHECK(e != NULL);
	CHECK(e->n_held >= 8 && e->n_held <= 11);
	check_held(addr, 0, e->n_held - 1, e->n_held * 100);
	CHECK_EQ_INT(lc->ctr.arp_hold_memdrop, 30 - e->n_held);
	CHECK_EQ_INT(lc->ctr.arp_hold_dropped, 30 - e->n_held);
	set_sysctl(FFS_SYSCTL_UDP_RECVMBUFS, 0);
	empty_table();
	CHECK_EQ_INT(ffs_stack_mempool_in_use(st), base);
}

int main(int argc, char **argv)
{
	setup();
	int rc = test__main(argc, argv, __FILE__);
	return test_ring_stack_stop(st, rc);
}
