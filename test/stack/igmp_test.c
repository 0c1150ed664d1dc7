/*
 * The IGMP host (stack/iface/igmp.c) driven directly on a running inline stack whose one port is a
 * net_ring vdev: what the stack transmits comes back on the same port's RX queue, where the test
 * reads it. The test owns the lcore's clock (lc->now), so timers fire when it says.
 *
 * Cases: IGMPv3 state-change reports (any-source and source-specific joins and leaves, byte for byte
 * as the Linux kernel sends them, test/fixtures/igmp.hex) and their one retransmission within a
 * second; general, group-specific and group-and-source-specific queries; reports split at the MTU;
 * IGMPv2 under net.inet.igmp.default_version = 2 and after hearing a v2 query (compatibility mode),
 * v1 likewise; v2 report suppression; silence on lcores other than 0; the drop counters. Through
 * sockets (ffs_sock_join, _leave, _close): a port's state counted over every socket's memberships —
 * a group stays joined until its last member leaves, sources of several sockets add up, a close
 * changes each of its groups once, an any-source member makes the state EXCLUDE {}, a membership
 * without an interface address takes the route to the group's port (ENODEV without one). Every case
 * checks that the packet pool's in-use count returns to its baseline.
 */
#include <errno.h>
#include <stdio.h>
#include <unistd.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>

#include "stack/iface/iface.h"
#include "stack/lcore/lcore.h"
#include "stack/sock/sock.h"
#include "stack/wire/checksum.h"
#include "stack/wire/igmp.h"
#include "test/stack/harness.h"
#include "test/stack/stack_env.h"

#define OUR_ADDR 0x0a630001u  /* 10.99.0.1, the port's address (as in the kernel capture) */
#define PEER_ADDR 0x0a630002u /* 10.99.0.2: the querier, and a source */
#define GROUP 0xef010203u     /* 239.1.2.3 */
#define SSM_GROUP 0xe8010101u /* 232.1.1.1 */
#define MAX_OUT 64

static struct ffs_stack *st;
static struct ffs_lcore *lc;

/* The kernel's IGMP messages (test/fixtures/igmp.hex; see wire_igmp_test.c). */
static const uint8_t k_to_ex[] = { 0x22, 0x00, 0xe8, 0xf9, 0x00, 0x00, 0x00, 0x01,
				   0x04, 0x00, 0x00, 0x00, 0xef, 0x01, 0x02, 0x03 };
static const uint8_t k_allow[] = { 0x22, 0x00, 0xe5, 0x95, 0x00, 0x00, 0x00, 0x01, 0x05, 0x00,
				   0x00, 0x01, 0xe8, 0x01, 0x01, 0x01, 0x0a, 0x63, 0x00, 0x02 };
static const uint8_t k_current[] = { 0x22, 0x00, 0xf6, 0x8f, 0x00, 0x00, 0x00, 0x02, 0x01, 0x00, 0x00, 0x01,
				     0xe8, 0x01, 0x01, 0x01, 0x0a, 0x63, 0x00, 0x02, 0x02, 0x00, 0x00, 0x00,
				     0xef, 0x01, 0x02, 0x03 };
static const uint8_t k_v2_report[] = { 0x16, 0x00, 0xf8, 0xfa, 0xef, 0x01, 0x02, 0x03 };
static const uint8_t k_v2_leave[] = { 0x17, 0x00, 0xf7, 0xfa, 0xef, 0x01, 0x02, 0x03 };
/* The kernel's IPv4 header for k_to_ex (from 10.99.0.1 to 224.0.0.22). */
static const uint8_t k_to_ex_ip[] = { 0x46, 0xc0, 0x00, 0x28, 0x00, 0x00, 0x40, 0x00, 0x01, 0x02, 0xf9, 0x95,
				      0x0a, 0x63, 0x00, 0x01, 0xe0, 0x00, 0x00, 0x16, 0x94, 0x04, 0x00, 0x00 };

static void setup(void)
{
	if (st)
		return;
	st = test_ring_stack_start("igmp_test", "128", OUR_ADDR, 0xffffff00u);
	lc = st->lcores[0];
	lc->now = rte_rdtsc();
	test_port_drain(lc, NULL, 0); /* what the port sent at start (IPv6's DAD and solicitations) */
}

static void advance_ms(uint64_t ms)
{
	lc->now += ms * st->tsc_hz / 1000;
}

/** An IGMP frame the port sent, dissected. */
struct out {
	struct eth_repr eth;
	struct ipv4_repr ip;
	uint8_t ip_hdr[IGMP_IPV4_HDR_LEN];
	uint8_t msg[1500];
	struct igmp_repr igmp;
};
static struct out outs[MAX_OUT];

/** True for an IPv4 frame. */
static bool is_ipv4(const uint8_t *f, size_t len)
{
	struct eth_repr eth;
	return eth_repr_parse(f, len, &eth) == WIRE_OK && eth.ethertype == ETH_TYPE_IPV4;
}

/** IGMP frames the port sent, parsed into outs[] (each checked as a host's IGMP frame); returns how
 *  many. Frames of other protocols (IPv6's Neighbor Discovery and MLD at start) are passed over. */
static unsigned sent(void)
{
	struct rte_mbuf *frames[MAX_OUT];
	unsigned n = test_port_drain_if(lc, frames, MAX_OUT, is_ipv4);
	if (n > MAX_OUT)
		n = MAX_OUT;
	for (unsigned i = 0; i < n; i++) {
		struct rte_mbuf *m = frames[i];
		const uint8_t *f = rte_pktmbuf_mtod(m, const uint8_t *);
		size_t len = rte_pktmbuf_data_len(m);
		struct out *o = &outs[i];
		CHECK(len <= ETH_HDR_LEN + (size_t)st->ports[0].mtu);
		CHECK_EQ_INT(eth_repr_parse(f, len, &o->eth), WIRE_OK);
		CHECK_EQ_INT(ipv4_repr_parse(f + ETH_HDR_LEN, len - ETH_HDR_LEN, &WIRE_CSUM_SOFTWARE, &o->ip), WIRE_OK);
		memcpy(o->ip_hdr, f + ETH_HDR_LEN, IGMP_IPV4_HDR_LEN);
		memcpy(o->msg, f + ETH_HDR_LEN + o->ip.hdr_len, o->ip.payload_len);
		rte_pktmbuf_free(m);
		/* RFC 3376 §4: TTL 1, TOS 0xc0, Router Alert; our address; the group's MAC. */
		CHECK_EQ_INT(o->ip.hdr_len, IGMP_IPV4_HDR_LEN);
		CHECK_EQ_INT(o->ip_hdr[IPV4_HDR_LEN], IPV4_OPT_ROUTER_ALERT);
		CHECK_EQ_INT(o->ip.ttl, 1);
		CHECK_EQ_INT(o->ip.tos, 0xc0);
		CHECK_EQ_INT(o->ip.proto, IPV4_PROTO_IGMP);
		CHECK_EQ_INT(o->ip.src, OUR_ADDR);
		struct eth_addr mac;
		eth_addr_from_ipv4_multicast(o->ip.dst, &mac);
		CHECK(eth_addr_eq(&o->eth.dst, &mac));
		CHECK(eth_addr_eq(&o->eth.src, &st->ports[0].mac));
		CHECK_EQ_INT(igmp_repr_parse(o->msg, o->ip.payload_len, &WIRE_CSUM_SOFTWARE, &o->igmp), WIRE_OK);
	}
	return n;
}

/** Runs the timers `ms` from now and returns the frames sent. */
static unsigned tick_after(uint64_t ms)
{
	advance_ms(ms);
	igmp_tick(lc);
	return sent();
}

/** Hands an IGMP message from the querier to igmp_input, as ipv4_input does. */
static void receive(const uint8_t *msg, size_t len, uint32_t dst)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(st->pool);
	CHECK(m != NULL);
	uint8_t *p = (uint8_t *)rte_pktmbuf_append(m, (uint16_t)len);
	memcpy(p, msg, len);
	struct ipv4_repr ip = { .src = PEER_ADDR, .dst = dst, .proto = IPV4_PROTO_IGMP, .ttl = 1, .tos = 0xc0,
				.hdr_len = IGMP_IPV4_HDR_LEN, .payload_len = (uint16_t)len };
	igmp_input(lc, &st->ports[0], m, &ip);
}

/** Sends ourselves a query: v1 (version 1), v2 or v3, with max response time `ds` tenths. */
static void query(int version, uint32_t group, unsigned ds, const uint32_t *sources, unsigned n)
{
	uint8_t buf[IGMPV3_QUERY_LEN + 4 * 16], src[4 * 16];
	for (unsigned i = 0; i < n; i++)
		wr_be32(src + 4 * i, sources[i]);
	struct igmp_repr q = { .type = IGMP_MEMBERSHIP_QUERY, .version = (uint8_t)version, .group = group,
			       .max_resp_code = version == 3 ? igmpv3_code_encode(ds) : (uint8_t)ds, .qrv = 2,
			       .qqic = 125, .n_sources = (uint16_t)n, .sources = src };
	size_t len = igmp_repr_emit(&q, buf, sizeof buf);
	CHECK(len > 0);
	receive(buf, len, group ? group : IGMP_ALL_HOSTS);
}

/** Record i of outs[k] (a v3 report). */
static void record(unsigned k, unsigned i, struct igmpv3_record_repr *rec)
{
	const struct igmp_repr *r = &outs[k].igmp;
	CHECK_EQ_INT(r->type, IGMP_V3_MEMBERSHIP_REPORT);
	CHECK(i < r->n_records);
	const uint8_t *p = r->records;
	size_t left = r->records_len;
	for (unsigned j = 0;; j++) {
		size_t n = igmpv3_record_parse(p, left, rec);
		CHECK(n > 0);
		if (j == i)
			return;
		p += n;
		left -= n;
	}
}

static void join(uint32_t group) { igmp_state_change(lc, 0, group, true, NULL, 0); }
static void leave(uint32_t group) { igmp_state_change(lc, 0, group, false, NULL, 0); }

/** Leaves everything, lets retransmissions finish and older-querier timers expire, and checks the pool. */
static void reset(unsigned base)
{
	leave(GROUP);
	leave(SSM_GROUP);
	for (uint32_t g = 0; g < 16; g++)
		leave(0xef000100u + g);
	tick_after(2000);
	tick_after(11000);
	advance_ms(300000);
	igmp_tick(lc);
	sent();
	ffs_stack_sysctl_set(st, FFS_SYSCTL_IGMP_VERSION, 3);
	CHECK_EQ_INT(ffs_stack_mempool_in_use(st), base);
}

TEST(v3_any_source_join_as_linux_sends_it)
{
	setup();
	unsigned base = ffs_stack_mempool_in_use(st);
	struct ffs_counters before = lc->ctr;
	join(GROUP);
	/* RFC 3376 §5.1: sent at once... */
	CHECK_EQ_INT(sent(), 1);
	CHECK_EQ_INT(outs[0].ip.dst, IGMPV3_ALL_ROUTERS);
	CHECK_EQ_INT(outs[0].ip.payload_len, sizeof k_to_ex);
	CHECK_MEM(outs[0].msg, k_to_ex, sizeof k_to_ex);
	CHECK_MEM(outs[0].ip_hdr, k_to_ex_ip, sizeof k_to_ex_ip);
	/* ...and once more (robustness 2) within the 1 s unsolicited report interval. */
	CHECK_EQ_INT(tick_after(0), 0);
	CHECK_EQ_INT(tick_after(1000), 1);
	CHECK_MEM(outs[0].msg, k_to_ex, sizeof k_to_ex);
	CHECK_EQ_INT(tick_after(5000), 0);
	CHECK_EQ_INT(lc->ctr.igmp_reports_out - before.igmp_reports_out, 2);
	/* Joining again changes nothing: nothing is sent. */
	join(GROUP);
	CHECK_EQ_INT(sent(), 0);
	reset(base);
}

TEST(v3_source_specific_join_and_leaves)
{
	setup();
	unsigned base = ffs_stack_mempool_in_use(st);
	const uint32_t src[] = { PEER_ADDR };
	igmp_state_change(lc, 0, SSM_GROUP, false, src, 1);
	CHECK_EQ_INT(sent(), 1);
	CHECK_EQ_INT(outs[0].ip.payload_len, sizeof k_allow);
	CHECK_MEM(outs[0].msg, k_allow, sizeof k_allow);
	CHECK_EQ_INT(tick_after(1000), 1);
	CHECK_MEM(outs[0].msg, k_allow, sizeof k_allow);

	/* A second source: ALLOW {new} only. */
	const uint32_t two[] = { PEER_ADDR, PEER_ADDR + 1 };
	igmp_state_change(lc, 0, SSM_GROUP, false, two, 2);
	struct igmpv3_record_repr rec;
	CHECK_EQ_INT(sent(), 1);
	CHECK_EQ_INT(outs[0].igmp.n_records, 1);
	record(0, 0, &rec);
	CHECK_EQ_INT(rec.type, IGMPV3_ALLOW_NEW_SOURCES);
	CHECK_EQ_INT(rec.n_sources, 1);
	CHECK_EQ_INT(igmp_source(rec.sources, 0), PEER_ADDR + 1);
	/* Dropping the first before the retransmission: the retransmission carries both changes. */
	igmp_state_change(lc, 0, SSM_GROUP, false, two + 1, 1);
	CHECK_EQ_INT(sent(), 1);
	CHECK_EQ_INT(outs[0].igmp.n_records, 2);
	record(0, 0, &rec);
	CHECK_EQ_INT(rec.type, IGMPV3_ALLOW_NEW_SOURCES);
	CHECK_EQ_INT(igmp_source(rec.sources, 0), PEER_ADDR + 1);
	record(0, 1, &rec);
	CHECK_EQ_INT(rec.type, IGMPV3_BLOCK_OLD_SOURCES);
	CHECK_EQ_INT(rec.n_sources, 1);
	CHECK_EQ_INT(igmp_source(rec.sources, 0), PEER_ADDR);
	CHECK_EQ_INT(tick_after(1000), 1);
	CHECK_EQ_INT(outs[0].igmp.n_records, 2);
	CHECK_EQ_INT(tick_after(1000), 0);

	/* Leaving: BLOCK {the last source}, twice. */
	leave(SSM_GROUP);
	CHECK_EQ_INT(sent(), 1);
	record(0, 0, &rec);
	CHECK_EQ_INT(rec.type, IGMPV3_BLOCK_OLD_SOURCES);
	CHECK_EQ_INT(igmp_source(rec.sources, 0), PEER_ADDR + 1);
	CHECK_EQ_INT(tick_after(1000), 1);
	CHECK_EQ_INT(tick_after(1000), 0);
	reset(base);
}

TEST(v3_any_source_leave_is_to_include_nothing)
{
	setup();
	unsigned base = ffs_stack_mempool_in_use(st);
	join(GROUP);
	tick_after(1000);
	sent();
	leave(GROUP);
	struct igmpv3_record_repr rec;
	CHECK_EQ_INT(sent(), 1);
	record(0, 0, &rec);
	CHECK_EQ_INT(rec.type, IGMPV3_CHANGE_TO_INCLUDE_MODE);
	CHECK_EQ_INT(rec.group, GROUP);
	CHECK_EQ_INT(rec.n_sources, 0);
	CHECK_EQ_INT(tick_after(1000), 1);
	record(0, 0, &rec);
	CHECK_EQ_INT(rec.type, IGMPV3_CHANGE_TO_INCLUDE_MODE);
	CHECK_EQ_INT(tick_after(1000), 0);
	/* No longer a member: queries get no answer. */
	query(3, 0, 10, NULL, 0);
	CHECK_EQ_INT(tick_after(1000), 0);
	reset(base);
}

TEST(v3_general_query_answered_as_linux_does)
{
	setup();
	unsigned base = ffs_stack_mempool_in_use(st);
	struct ffs_counters before = lc->ctr;
	const uint32_t src[] = { PEER_ADDR };
	join(GROUP);
	igmp_state_change(lc, 0, SSM_GROUP, false, src, 1);
	tick_after(1000);
	sent();
	/* The kernel capture's query: max resp 1 s. The answer waits a random delay below that. */
	query(3, 0, 10, NULL, 0);
	CHECK_EQ_INT(lc->ctr.igmp_queries_in - before.igmp_queries_in, 1);
	CHECK_EQ_INT(sent(), 0);
	CHECK_EQ_INT(tick_after(1000), 1);
	CHECK_EQ_INT(outs[0].ip.dst, IGMPV3_ALL_ROUTERS);
	CHECK_EQ_INT(outs[0].igmp.n_records, 2);
	/* Same records as the kernel's answer, in our table's order. */
	struct igmpv3_record_repr a, b;
	record(0, 0, &a);
	record(0, 1, &b);
	if (a.group == GROUP) {
		struct igmpv3_record_repr t = a;
		a = b;
		b = t;
	}
	CHECK_EQ_INT(a.type, IGMPV3_MODE_IS_INCLUDE);
	CHECK_EQ_INT(a.group, SSM_GROUP);
	CHECK_EQ_INT(a.n_sources, 1);
	CHECK_EQ_INT(igmp_source(a.sources, 0), PEER_ADDR);
	CHECK_EQ_INT(b.type, IGMPV3_MODE_IS_EXCLUDE);
	CHECK_EQ_INT(b.group, GROUP);
	CHECK_EQ_INT(b.n_sources, 0);
	CHECK_EQ_INT(outs[0].ip.payload_len, sizeof k_current);
	CHECK_EQ_INT(tick_after(10000), 0);
	reset(base);
}

TEST(v3_general_query_with_long_delay_keeps_the_sooner_one)
{
	setup();
	unsigned base = ffs_stack_mempool_in_use(st);
	join(GROUP);
	tick_after(1000);
	sent();
	/* RFC 3376 §5.2 rule 1: a pending general response sooner than a new delay stands (max resp
	 * 0 makes the first one due now, so every later delay is longer). */
	query(3, 0, 0, NULL, 0);
	query(3, 0, 1000, NULL, 0);
	query(3, GROUP, 1000, NULL, 0);
	CHECK_EQ_INT(tick_after(0), 1);
	CHECK_EQ_INT(tick_after(200000), 0);
	reset(base);
}

TEST(v3_group_specific_query)
{
	setup();
	unsigned base = ffs_stack_mempool_in_use(st);
	const uint32_t src[] = { PEER_ADDR };
	join(GROUP);
	igmp_state_change(lc, 0, SSM_GROUP, false, src, 1);
	tick_after(1000);
	sent();
	query(3, SSM_GROUP, 10, NULL, 0);
	query(3, 0xef0000ffu, 10, NULL, 0); /* not a member: ignored */
	CHECK_EQ_INT(tick_after(1000), 1);
	CHECK_EQ_INT(outs[0].igmp.n_records, 1);
	struct igmpv3_record_repr rec;
	record(0, 0, &rec);
	CHECK_EQ_INT(rec.type, IGMPV3_MODE_IS_INCLUDE);
	CHECK_EQ_INT(rec.group, SSM_GROUP);
	CHECK_EQ_INT(rec.n_sources, 1);
	CHECK_EQ_INT(tick_after(1000), 0);
	reset(base);
}

TEST(v3_group_and_source_specific_query)
{
	setup();
	unsigned base = ffs_stack_mempool_in_use(st);
	const uint32_t inc[] = { PEER_ADDR, PEER_ADDR + 1 };
	igmp_state_change(lc, 0, SSM_GROUP, false, inc, 2);
	const uint32_t exc[] = { PEER_ADDR };
	igmp_state_change(lc, 0, GROUP, true, exc, 1);
	tick_after(1000);
	sent();
	struct igmpv3_record_repr rec;

	/* RFC 3376 §5.2: INCLUDE (A) answers IS_IN (A*B). */
	const uint32_t q1[] = { PEER_ADDR + 1, PEER_ADDR + 2 };
	query(3, SSM_GROUP, 10, q1, 2);
	CHECK_EQ_INT(tick_after(1000), 1);
	record(0, 0, &rec);
	CHECK_EQ_INT(rec.type, IGMPV3_MODE_IS_INCLUDE);
	CHECK_EQ_INT(rec.group, SSM_GROUP);
	CHECK_EQ_INT(rec.n_sources, 1);
	CHECK_EQ_INT(igmp_source(rec.sources, 0), PEER_ADDR + 1);

	/* EXCLUDE (A) answers IS_IN (B-A). */
	const uint32_t q2[] = { PEER_ADDR, PEER_ADDR + 2 };
	query(3, GROUP, 10, q2, 2);
	CHECK_EQ_INT(tick_after(1000), 1);
	record(0, 0, &rec);
	CHECK_EQ_INT(rec.type, IGMPV3_MODE_IS_INCLUDE);
	CHECK_EQ_INT(rec.group, GROUP);
	CHECK_EQ_INT(rec.n_sources, 1);
	CHECK_EQ_INT(igmp_source(rec.sources, 0), PEER_ADDR + 2);

	/* An empty answer is not sent. */
	const uint32_t q3[] = { PEER_ADDR + 9 };
	query(3, SSM_GROUP, 10, q3, 1);
	CHECK_EQ_INT(tick_after(1000), 0);

	/* Two pending source queries merge; a group-specific one then clears the list (rules 4, 5). */
	query(3, SSM_GROUP, 10, q1, 1);
	query(3, SSM_GROUP, 10, inc, 1);
	CHECK_EQ_INT(tick_after(1000), 1);
	record(0, 0, &rec);
	CHECK_EQ_INT(rec.n_sources, 2);
	query(3, SSM_GROUP, 10, q3, 1);
	query(3, SSM_GROUP, 10, NULL, 0);
	CHECK_EQ_INT(tick_after(1000), 1);
	record(0, 0, &rec);
	CHECK_EQ_INT(rec.n_sources, 2);
	reset(base);
}

TEST(v3_reports_split_at_the_mtu)
{
	setup();
	unsigned base = ffs_stack_mempool_in_use(st);
	uint32_t src[FFS_MAX_GROUP_SOURCES];
	for (unsigned i = 0; i < FFS_MAX_GROUP_SOURCES; i++)
		src[i] = 0x0a010000u + i;
	for (uint32_t g = 0; g < 16; g++)
		igmp_state_change(lc, 0, 0xef000100u + g, false, src, FFS_MAX_GROUP_SOURCES);
	tick_after(1000);
	sent();
	query(3, 0, 10, NULL, 0);
	/* 16 records of 264 bytes; 5 fit in 1500 - 24 - 8 bytes. */
	unsigned n = tick_after(1000);
	CHECK_EQ_INT(n, 4);
	unsigned records = 0;
	for (unsigned i = 0; i < n; i++) {
		CHECK(outs[i].ip.payload_len + IGMP_IPV4_HDR_LEN <= 1500);
		records += outs[i].igmp.n_records;
	}
	CHECK_EQ_INT(records, 16);
	reset(base);
}

TEST(v2_by_sysctl)
{
	setup();
	unsigned base = ffs_stack_mempool_in_use(st);
	struct ffs_counters before = lc->ctr;
	CHECK_EQ_INT(ffs_stack_sysctl_set(st, FFS_SYSCTL_IGMP_VERSION, 2), 0);
	/* RFC 2236 §3: a report to the group at once, repeated within the 10 s unsolicited report
	 * interval; source-specific state is a plain join. */
	const uint32_t src[] = { PEER_ADDR };
	igmp_state_change(lc, 0, GROUP, false, src, 1);
	CHECK_EQ_INT(sent(), 1);
	CHECK_EQ_INT(outs[0].ip.dst, GROUP);
	CHECK_EQ_INT(outs[0].ip.payload_len, sizeof k_v2_report);
	CHECK_MEM(outs[0].msg, k_v2_report, sizeof k_v2_report);
	CHECK_EQ_INT(tick_after(10000), 1);
	CHECK_MEM(outs[0].msg, k_v2_report, sizeof k_v2_report);
	CHECK_EQ_INT(tick_after(10000), 0);
	/* A changed source list says nothing new in v2. */
	igmp_state_change(lc, 0, GROUP, true, NULL, 0);
	CHECK_EQ_INT(sent(), 0);
	/* Leave: to all-routers. */
	leave(GROUP);
	CHECK_EQ_INT(sent(), 1);
	CHECK_EQ_INT(outs[0].ip.dst, IGMP_ALL_ROUTERS);
	CHECK_MEM(outs[0].msg, k_v2_leave, sizeof k_v2_leave);
	CHECK_EQ_INT(lc->ctr.igmp_reports_out - before.igmp_reports_out, 2);
	CHECK_EQ_INT(lc->ctr.igmp_leaves_out - before.igmp_leaves_out, 1);
	CHECK_EQ_INT(tick_after(20000), 0);
	reset(base);
}

TEST(v2_querier_switches_to_compatibility_mode)
{
	setup();
	unsigned base = ffs_stack_mempool_in_use(st);
	join(GROUP);
	CHECK_EQ_INT(sent(), 1);
	/* RFC 3376 §7.2.1: a v2 query puts the port in v2 mode and cancels the pending retransmission. */
	query(2, 0, 10, NULL, 0);
	CHECK_EQ_INT(tick_after(1000), 1);
	CHECK_EQ_INT(outs[0].igmp.type, IGMP_V2_MEMBERSHIP_REPORT);
	CHECK_EQ_INT(outs[0].ip.dst, GROUP);
	CHECK_EQ_INT(tick_after(20000), 0);
	/* A v3 query heard in v2 mode is answered as a v2 one. */
	query(3, 0, 10, NULL, 0);
	CHECK_EQ_INT(tick_after(1000), 1);
	CHECK_EQ_INT(outs[0].igmp.type, IGMP_V2_MEMBERSHIP_REPORT);
	/* Joins and leaves are v2 too. */
	join(SSM_GROUP);
	CHECK_EQ_INT(sent(), 1);
	CHECK_EQ_INT(outs[0].igmp.type, IGMP_V2_MEMBERSHIP_REPORT);
	leave(SSM_GROUP);
	CHECK_EQ_INT(sent(), 1);
	CHECK_EQ_INT(outs[0].igmp.type, IGMP_V2_LEAVE_GROUP);
	/* The Older Version Querier Present timeout (RFC 3376 §8.12: 2 × 125 s + 1 s) ends it. */
	advance_ms(252000);
	igmp_tick(lc);
	sent();
	query(3, 0, 10, NULL, 0);
	CHECK_EQ_INT(tick_after(1000), 1);
	CHECK_EQ_INT(outs[0].igmp.type, IGMP_V3_MEMBERSHIP_REPORT);
	reset(base);
}

/* A leave that finds the Older Version Querier Present timer run out switches the port back to v3
 * (cancelling pending retransmissions) while the group it leaves is no longer a member: the group
 * stays until its leave report has been sent and retransmitted, not freed under the leave. */
TEST(a_leave_when_the_older_querier_timer_ran_out_is_reported_twice)
{
	setup();
	unsigned base = ffs_stack_mempool_in_use(st);
	join(GROUP);
	sent();
	query(2, 0, 10, NULL, 0);
	CHECK_EQ_INT(tick_after(1000), 1);
	CHECK_EQ_INT(outs[0].igmp.type, IGMP_V2_MEMBERSHIP_REPORT);
	advance_ms(252000); /* no tick: the leave is the first to see the timer ended */
	leave(GROUP);
	struct igmpv3_record_repr rec;
	CHECK_EQ_INT(sent(), 1);
	record(0, 0, &rec);
	CHECK_EQ_INT(rec.type, IGMPV3_CHANGE_TO_INCLUDE_MODE);
	CHECK_EQ_INT(rec.group, GROUP);
	CHECK_EQ_INT(tick_after(1000), 1);
	record(0, 0, &rec);
	CHECK_EQ_INT(rec.type, IGMPV3_CHANGE_TO_INCLUDE_MODE);
	CHECK_EQ_INT(tick_after(1000), 0);
	reset(base);
}

TEST(v2_report_suppression)
{
	setup();
	unsigned base = ffs_stack_mempool_in_use(st);
	struct ffs_counters before = lc->ctr;
	ffs_stack_sysctl_set(st, FFS_SYSCTL_IGMP_VERSION, 2);
	join(GROUP);
	tick_after(10000);
	sent();
	query(2, GROUP, 100, NULL, 0);
	/* RFC 2236 §3: another member's report stops our timer. */
	receive(k_v2_report, sizeof k_v2_report, GROUP);
	CHECK_EQ_INT(lc->ctr.igmp_reports_in - before.igmp_reports_in, 1);
	CHECK_EQ_INT(tick_after(10000), 0);
	reset(base);
}

TEST(v1_querier)
{
	setup();
	unsigned base = ffs_stack_mempool_in_use(st);
	query(1, 0, 0, NULL, 0);
	join(GROUP);
	CHECK_EQ_INT(sent(), 1);
	CHECK_EQ_INT(outs[0].igmp.type, IGMP_V1_MEMBERSHIP_REPORT);
	/* A v1 query's response time is 10 s (RFC 2236 §4). */
	query(1, 0, 0, NULL, 0);
	CHECK_EQ_INT(tick_after(10000), 2);
	CHECK_EQ_INT(outs[0].igmp.type, IGMP_V1_MEMBERSHIP_REPORT);
	CHECK_EQ_INT(outs[1].igmp.type, IGMP_V1_MEMBERSHIP_REPORT);
	/* RFC 2236 §3: no leave to a v1 querier. */
	leave(GROUP);
	CHECK_EQ_INT(sent(), 0);
	reset(base);
}

TEST(only_lcore_zero_sends_unsolicited_reports)
{
	setup();
	unsigned base = ffs_stack_mempool_in_use(st);
	/* Posing as lcore 1 (no frame may be sent then: the port has no TX queue 1). */
	lc->index = 1;
	join(GROUP);
	igmp_tick(lc);
	advance_ms(2000);
	igmp_tick(lc);
	leave(GROUP);
	igmp_tick(lc);
	lc->index = 0;
	CHECK_EQ_INT(sent(), 0);
	reset(base);
}

TEST(drops_and_counters)
{
	setup();
	unsigned base = ffs_stack_mempool_in_use(st);
	struct ffs_counters before = lc->ctr;
	uint8_t bad[8];
	memcpy(bad, k_v2_report, sizeof bad);
	bad[7] ^= 1;
	receive(bad, sizeof bad, GROUP);
	receive(k_v2_report, 7, GROUP);
	uint8_t ten[10] = { 0x11, 0x0a };
	wr_be16(ten + 2, csum_buf(ten, sizeof ten));
	receive(ten, sizeof ten, IGMP_ALL_HOSTS);
	uint8_t dvmrp[8] = { 0x13 };
	wr_be16(dvmrp + 2, csum_buf(dvmrp, sizeof dvmrp));
	receive(dvmrp, sizeof dvmrp, IGMP_ALL_HOSTS);
	receive(k_current, sizeof k_current, IGMPV3_ALL_ROUTERS);
	receive(k_v2_leave, sizeof k_v2_leave, IGMP_ALL_ROUTERS);
	CHECK_EQ_INT(lc->ctr.igmp_rx - before.igmp_rx, 6);
	CHECK_EQ_INT(lc->ctr.igmp_badsum - before.igmp_badsum, 1);
	CHECK_EQ_INT(lc->ctr.igmp_tooshort - before.igmp_tooshort, 2);
	CHECK_EQ_INT(lc->ctr.igmp_unknown - before.igmp_unknown, 1);
	CHECK_EQ_INT(lc->ctr.igmp_reports_in - before.igmp_reports_in, 2);
	CHECK_EQ_INT(lc->ctr.igmp_queries_in - before.igmp_queries_in, 0);
	CHECK_EQ_INT(sent(), 0);
	reset(base);
}

TEST(ipv4_input_delivers_igmp)
{
	setup();
	unsigned base = ffs_stack_mempool_in_use(st);
	struct ffs_counters before = lc->ctr;
	join(GROUP);
	tick_after(1000);
	sent();
	/* A general query as a frame's IPv4 datagram (Router Alert header), through ipv4_input. */
	uint8_t q[IGMPV3_QUERY_LEN] = { 0x11, 10, 0, 0, 0, 0, 0, 0, 2, 125, 0, 0 };
	wr_be16(q + 2, csum_buf(q, sizeof q));
	struct rte_mbuf *m = rte_pktmbuf_alloc(st->pool);
	CHECK(m != NULL);
	uint8_t *p = (uint8_t *)rte_pktmbuf_append(m, IGMP_IPV4_HDR_LEN + sizeof q);
	struct ipv4_repr ip = { .src = PEER_ADDR, .dst = IGMP_ALL_HOSTS, .proto = IPV4_PROTO_IGMP, .ttl = 1,
				.payload_len = sizeof q };
	igmp_ipv4_emit(&ip, p, IGMP_IPV4_HDR_LEN, &WIRE_CSUM_SOFTWARE);
	memcpy(p + IGMP_IPV4_HDR_LEN, q, sizeof q);
	ipv4_input(lc, &st->ports[0], m);
	CHECK_EQ_INT(lc->ctr.igmp_queries_in - before.igmp_queries_in, 1);
	CHECK_EQ_INT(tick_after(1000), 1);
	reset(base);
}

/* --- memberships of sockets: each port's state is counted over every socket (iface/mcast.c) */

static struct ffs_sock *open_sock(void)
{
	static struct ffs_app *app;
	if (!app)
		app = ffs_app_new(st);
	CHECK(app != NULL);
	struct ffs_sock *so;
	CHECK_EQ_INT(ffs_sock_open(st, app, &so), 0);
	return so;
}

/** Lets the retransmissions of the last state change go out, and discards them. */
static void settle(void)
{
	tick_after(1000);
	tick_after(1000);
	sent();
}

/** Checks that one report went out, its first record of `type` with `n` sources, the first `first`. */
static void expect_report(uint8_t type, unsigned n, uint32_t first)
{
	struct igmpv3_record_repr rec;
	CHECK_EQ_INT(sent(), 1);
	record(0, 0, &rec);
	CHECK_EQ_INT(rec.type, type);
	CHECK_EQ_INT(rec.n_sources, n);
	if (n)
		CHECK_EQ_INT(igmp_source(rec.sources, 0), first);
}

TEST(sockets_share_a_membership_until_the_last_leaves)
{
	setup();
	unsigned base = ffs_stack_mempool_in_use(st);
	struct ffs_sock *a = open_sock(), *b = open_sock();
	CHECK_EQ_INT(ffs_sock_join(st, a, GROUP, OUR_ADDR, 0), 0);
	CHECK_EQ_INT(sent(), 1);
	CHECK_MEM(outs[0].msg, k_to_ex, sizeof k_to_ex);
	settle();
	/* 0.0.0.0 names the port the route to the group leaves by (the default route's, through the
	 * peer): the same interface, so the same membership of the port. */
	CHECK_EQ_INT(ffs_stack_route_add(st, 0, 0, PEER_ADDR), 0);
	CHECK_EQ_INT(ffs_sock_join(st, b, GROUP, 0, 0), 0);
	CHECK_EQ_INT(ffs_sock_join(st, b, GROUP, OUR_ADDR, 0), -EADDRINUSE);
	CHECK_EQ_INT(ffs_stack_route_del(st, 0, 0), 0);
	CHECK_EQ_INT(sent(), 0);
	CHECK_EQ_INT(ffs_sock_leave(st, a, GROUP, OUR_ADDR, 0), 0);
	CHECK_EQ_INT(ffs_sock_leave(st, a, GROUP, OUR_ADDR, 0), -EADDRNOTAVAIL);
	CHECK_EQ_INT(sent(), 0);
	CHECK(ipv4_group_joined(lc, 0, GROUP));
	/* The last member's close: TO_IN {}, and IPv4 input no longer accepts the group. */
	CHECK_EQ_INT(ffs_sock_close(st, b), 0);
	expect_report(IGMPV3_CHANGE_TO_INCLUDE_MODE, 0, 0);
	CHECK(!ipv4_group_joined(lc, 0, GROUP));
	CHECK_EQ_INT(ffs_sock_close(st, a), 0);
	reset(base);
}

/* Linux's ip_mc_find_dev: a membership without an interface address goes where the route to the
 * group leaves; with no route to it (no default route) the join and the leave fail with ENODEV and
 * nothing is reported. */
TEST(a_membership_without_an_interface_follows_the_route_to_the_group)
{
	setup();
	unsigned base = ffs_stack_mempool_in_use(st);
	struct ffs_sock *a = open_sock();
	CHECK_EQ_INT(ffs_sock_join(st, a, GROUP, 0, 0), -ENODEV);
	CHECK_EQ_INT(ffs_sock_join(st, a, SSM_GROUP, 0, PEER_ADDR), -ENODEV);
	CHECK_EQ_INT(ffs_sock_leave(st, a, GROUP, 0, 0), -ENODEV);
	CHECK_EQ_INT(sent(), 0);
	CHECK(!ipv4_group_joined(lc, 0, GROUP));
	/* A route to 224.0.0.0/4 alone is enough, as on Linux. */
	CHECK_EQ_INT(ffs_stack_route_add(st, 0xe0000000u, 4, PEER_ADDR), 0);
	CHECK_EQ_INT(ffs_sock_join(st, a, GROUP, 0, 0), 0);
	CHECK_EQ_INT(sent(), 1);
	CHECK_MEM(outs[0].msg, k_to_ex, sizeof k_to_ex);
	settle();
	CHECK(ipv4_group_joined(lc, 0, GROUP));
	CHECK_EQ_INT(ffs_sock_join(st, a, GROUP, OUR_ADDR, 0), -EADDRINUSE);
	CHECK_EQ_INT(ffs_sock_leave(st, a, GROUP, 0, 0), 0);
	expect_report(IGMPV3_CHANGE_TO_INCLUDE_MODE, 0, 0);
	CHECK(!ipv4_group_joined(lc, 0, GROUP));
	CHECK_EQ_INT(ffs_stack_route_del(st, 0xe0000000u, 4), 0);
	CHECK_EQ_INT(ffs_sock_join(st, a, GROUP, 0, 0), -ENODEV);
	CHECK_EQ_INT(ffs_sock_close(st, a), 0);
	reset(base);
}

TEST(source_memberships_of_sockets_make_the_port_state)
{
	setup();
	unsigned base = ffs_stack_mempool_in_use(st);
	struct ffs_sock *a = open_sock(), *b = open_sock();
	CHECK_EQ_INT(ffs_sock_join(st, a, SSM_GROUP, OUR_ADDR, PEER_ADDR), 0);
	CHECK_EQ_INT(sent(), 1);
	CHECK_MEM(outs[0].msg, k_allow, sizeof k_allow);
	settle();
	CHECK_EQ_INT(ffs_sock_join(st, b, SSM_GROUP, OUR_ADDR, PEER_ADDR + 1), 0);
	expect_report(IGMPV3_ALLOW_NEW_SOURCES, 1, PEER_ADDR + 1);
	settle();
	/* A source another socket already has changes nothing. */
	CHECK_EQ_INT(ffs_sock_join(st, a, SSM_GROUP, OUR_ADDR, PEER_ADDR + 1), 0);
	CHECK_EQ_INT(sent(), 0);
	/* a's close takes the source only it had: BLOCK {PEER_ADDR}; b keeps the group. */
	CHECK_EQ_INT(ffs_sock_close(st, a), 0);
	expect_report(IGMPV3_BLOCK_OLD_SOURCES, 1, PEER_ADDR);
	CHECK(ipv4_group_joined(lc, 0, SSM_GROUP));
	settle();
	CHECK_EQ_INT(ffs_sock_close(st, b), 0);
	expect_report(IGMPV3_BLOCK_OLD_SOURCES, 1, PEER_ADDR + 1);
	CHECK(!ipv4_group_joined(lc, 0, SSM_GROUP));
	reset(base);
}

TEST(a_close_changes_each_group_once)
{
	setup();
	unsigned base = ffs_stack_mempool_in_use(st);
	struct ffs_sock *a = open_sock();
	CHECK_EQ_INT(ffs_sock_join(st, a, SSM_GROUP, OUR_ADDR, PEER_ADDR), 0);
	CHECK_EQ_INT(ffs_sock_join(st, a, SSM_GROUP, OUR_ADDR, PEER_ADDR + 1), 0);
	settle();
	/* Both sources leave in one state change: one record blocking both. */
	CHECK_EQ_INT(ffs_sock_close(st, a), 0);
	expect_report(IGMPV3_BLOCK_OLD_SOURCES, 2, PEER_ADDR);
	CHECK_EQ_INT(outs[0].igmp.n_records, 1);
	reset(base);
}

TEST(an_any_source_member_overrides_source_members)
{
	setup();
	unsigned base = ffs_stack_mempool_in_use(st);
	struct ffs_sock *a = open_sock(), *b = open_sock();
	CHECK_EQ_INT(ffs_sock_join(st, a, GROUP, OUR_ADDR, 0), 0);
	settle();
	CHECK_EQ_INT(ffs_sock_join(st, b, GROUP, OUR_ADDR, PEER_ADDR), 0);
	CHECK_EQ_INT(sent(), 0);
	/* Without the any-source member the port is INCLUDE {b's source}: TO_IN {PEER_ADDR}. */
	CHECK_EQ_INT(ffs_sock_leave(st, a, GROUP, OUR_ADDR, 0), 0);
	expect_report(IGMPV3_CHANGE_TO_INCLUDE_MODE, 1, PEER_ADDR);
	CHECK(ipv4_group_joined(lc, 0, GROUP));
	CHECK_EQ_INT(ffs_sock_close(st, a), 0);
	CHECK_EQ_INT(ffs_sock_close(st, b), 0);
	reset(base);
}

int main(int argc, char **argv)
{
	int rc = test__main(argc, argv, __FILE__);
	/* Stopped, so that a leak checker sees the stack's state freed rather than held. */
	if (st)
		ffs_stack_stop(st);
	return rc;
}
