/*
 * The MLD host (stack/iface/mld6.c, on igmp.c's host state machine) and the IPv6 groups a port
 * accepts, driven directly on a running inline stack whose one port is a net_ring vdev: what the
 * stack transmits comes back on the same port's RX queue, where the test reads and decodes it. The
 * test owns the lcore's clock (lc->now), so timers fire when it says.
 *
 * Cases: memberships through the control plane (mcast_join6, _leave6) make the lcores accept the
 * group (ipv6_group_joined; ff02::1 always) and send MLDv2 state-change reports — from the port's
 * link-local address, hop limit 1, Router Alert, to ff02::16 and 33:33:00:00:00:16 — retransmitted
 * once within a second; source-specific joins; general queries answered with current-state
 * records; MLDv1 reports and done messages under net.inet6.mld.version = 1 and after an MLDv1
 * query; no report about ff02::1 or interface-local groups; each address's solicited-node group
 * followed as addresses come and go (addr6_add, _del); queries refused without hop limit 1. Every case checks that
 * the packet pool's in-use count returns to its baseline.
 */
#include <errno.h>
#include <stdio.h>
#include <unistd.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>

#include "stack/iface/addr6.h"
#include "stack/iface/iface.h"
#include "stack/lcore/lcore.h"
#include "stack/wire/checksum.h"
#include "stack/wire/icmp6.h"
#include "stack/wire/ipv6.h"
#include "test/stack/harness.h"
#include "test/stack/stack_env.h"

#define MAX_OUT 16

static struct ffs_stack *st;
static struct ffs_lcore *lc;
static struct ip6_addr GROUP, SSM_GROUP, SOURCE, LINKLOCAL, QUERIER;

static void setup(void)
{
	st = test_ring_stack_start("mld6_test", "128", 0x0a000001u, 0xffffff00u);
	lc = st->lcores[0];
	lc->now = rte_rdtsc();
	/* The reports of the addresses' solicited-node groups at start and their retransmissions (RFC
	 * 3810 §6.1, within its Unsolicited Report Interval of 1 s) are over before the cases begin. */
	for (int i = 0; i < 4; i++) {
		ffs_stack_poll(st);
		lc->now += st->tsc_hz;
		igmp_tick(lc);
	}
	test_port_drain(lc, NULL, 0);
	CHECK(ip6_parse("ff05::1:3", &GROUP) == 0);
	CHECK(ip6_parse("ff3e::8000:1", &SSM_GROUP) == 0);
	CHECK(ip6_parse("2001:db8::99", &SOURCE) == 0);
	CHECK(ip6_parse("fe80::2", &QUERIER) == 0);
	ip6_linklocal_eui64(&st->ports[0].mac, &LINKLOCAL);
}

static void advance_ms(uint64_t ms) { lc->now += ms * st->tsc_hz / 1000; }

/** An MLD frame the port sent, dissected. */
struct out {
	struct eth_repr eth;
	struct ipv6_repr ip;
	uint8_t msg[1500];
	size_t len;
};
static struct out outs[MAX_OUT];

/** True for an MLD frame: an IPv6 packet whose upper layer is ICMPv6 of an MLD type. */
static bool is_mld(const uint8_t *f, size_t len)
{
	struct eth_repr eth;
	struct ipv6_repr ip;
	if (eth_repr_parse(f, len, &eth) != WIRE_OK || eth.ethertype != ETH_TYPE_IPV6 ||
	    ipv6_repr_parse(f + ETH_HDR_LEN, len - ETH_HDR_LEN, &ip, NULL) != WIRE_OK || ip.next_header != IPV6_NH_ICMPV6 ||
	    ETH_HDR_LEN + (size_t)ip.hdr_len >= len)
		return false;
	uint8_t type = f[ETH_HDR_LEN + ip.hdr_len];
	return type == MLD_QUERY || type == MLD_V1_REPORT || type == MLD_V1_DONE || type == MLD_V2_REPORT;
}

/** MLD frames the port sent, parsed into outs[] (each checked as a host's MLD frame); returns how
 *  many. Neighbor Discovery's frames (DAD, router solicitations) are passed over. */
static unsigned sent(void)
{
	struct rte_mbuf *frames[MAX_OUT];
	unsigned n = test_port_drain_if(lc, frames, MAX_OUT, is_mld);
	if (n > MAX_OUT)
		n = MAX_OUT;
	for (unsigned i = 0; i < n; i++) {
		struct rte_mbuf *m = frames[i];
		const uint8_t *f = rte_pktmbuf_mtod(m, const uint8_t *);
		size_t len = rte_pktmbuf_data_len(m);
		struct out *o = &outs[i];
		CHECK(len <= ETH_HDR_LEN + (size_t)st->ports[0].mtu);
		CHECK_EQ_INT(eth_repr_parse(f, len, &o->eth), WIRE_OK);
		CHECK_EQ_INT(o->eth.ethertype, ETH_TYPE_IPV6);
		CHECK_EQ_INT(ipv6_repr_parse(f + ETH_HDR_LEN, len - ETH_HDR_LEN, &o->ip, NULL), WIRE_OK);
		o->len = IPV6_HDR_LEN + o->ip.payload_len - o->ip.hdr_len;
		memcpy(o->msg, f + ETH_HDR_LEN + o->ip.hdr_len, o->len);
		rte_pktmbuf_free(m);
		/* RFC 3810 §5: link-local source, hop limit 1, Router Alert (MLD), ICMPv6. */
		CHECK(ip6_eq(&o->ip.src, &LINKLOCAL));
		CHECK_EQ_INT(o->ip.hop_limit, 1);
		CHECK_EQ_INT(o->ip.router_alert, IPV6_ROUTER_ALERT_MLD + 1);
		CHECK_EQ_INT(o->ip.next_header, IPV6_NH_ICMPV6);
		CHECK_EQ_INT(o->ip.hdr_len, MLD_IPV6_HDR_LEN);
		struct eth_addr mac;
		eth_addr_from_ipv6_multicast(&o->ip.dst, &mac);
		CHECK(eth_addr_eq(&o->eth.dst, &mac));
		CHECK(eth_addr_eq(&o->eth.src, &st->ports[0].mac));
		struct icmp6_repr icmp;
		CHECK_EQ_INT(icmp6_repr_parse(o->msg, o->len, &o->ip.src, &o->ip.dst, &WIRE_CSUM_SOFTWARE, &icmp), WIRE_OK);
	}
	return n;
}

static unsigned tick_after(uint64_t ms)
{
	advance_ms(ms);
	igmp_tick(lc);
	return sent();
}

/** Record i of MLDv2 report outs[k]: its type, group and source count; *src its first source. */
static void record(unsigned k, unsigned i, uint8_t *type, struct ip6_addr *group, unsigned *n_src, struct ip6_addr *src)
{
	const uint8_t *r = outs[k].msg;
	CHECK_EQ_INT(r[0], MLD_V2_REPORT);
	CHECK(ip6_eq(&outs[k].ip.dst, &IP6_ALL_MLDV2_ROUTERS));
	CHECK(i < rd_be16(r + 6));
	size_t at = MLDV2_REPORT_HDR_LEN;
	for (unsigned j = 0; j < i; j++)
		at += MLDV2_RECORD_HDR_LEN + 16u * rd_be16(r + at + 2) + 4u * r[at + 1];
	CHECK(at + MLDV2_RECORD_HDR_LEN <= outs[k].len);
	*type = r[at];
	*n_src = rd_be16(r + at + 2);
	memcpy(group->b, r + at + 4, 16);
	if (*n_src && src)
		memcpy(src->b, r + at + MLDV2_RECORD_HDR_LEN, 16);
}

/** Hands an MLD query from the querier (fe80::2) to mld6_input, as icmp6_input does. */
static void query(bool v2, const struct ip6_addr *group, uint16_t max_resp, uint8_t hop_limit)
{
	uint8_t buf[MLDV2_QUERY_LEN] = { MLD_QUERY };
	size_t len = v2 ? MLDV2_QUERY_LEN : MLD_V1_LEN;
	wr_be16(buf + 4, max_resp);
	if (group)
		memcpy(buf + 8, group->b, 16);
	if (v2) {
		buf[24] = 2;   /* QRV */
		buf[25] = 125; /* QQIC */
	}
	struct rte_mbuf *m = rte_pktmbuf_alloc(st->pool);
	CHECK(m != NULL);
	memcpy(rte_pktmbuf_append(m, (uint16_t)len), buf, len);
	lc->now = rte_rdtsc(); /* as in the turn that would receive it */
	struct ipv6_repr ip = { .src = QUERIER, .dst = group ? *group : IP6_ALL_NODES, .next_header = IPV6_NH_ICMPV6,
				.hop_limit = hop_limit, .payload_len = (uint16_t)(8 + len), .hdr_len = MLD_IPV6_HDR_LEN,
				.router_alert = IPV6_ROUTER_ALERT_MLD + 1 };
	mld6_input(lc, &st->ports[0], m, &ip);
}

/** Leaves everything, lets retransmissions finish and older-querier timers expire, and checks the pool. */
static void reset(unsigned base)
{
	while (mcast_leave6(st, 0, &GROUP, NULL) == 0 && ipv6_group_joined(lc, 0, &GROUP))
		;
	/* A control message turns the inline lcore, which sets its clock back to the TSC: a timer set
	 * after this case's advances may lie up to one reset's advance beyond it. */
	lc->now = rte_rdtsc();
	tick_after(2000);
	tick_after(11000);
	advance_ms(600000);
	igmp_tick(lc);
	sent();
	ffs_stack_sysctl_set(st, FFS_SYSCTL_MLD_VERSION, 2);
	CHECK_EQ_INT(ffs_stack_mempool_in_use(st), base);
}

TEST(join_sends_an_mldv2_report_and_accepts_the_group)
{
	unsigned base = ffs_stack_mempool_in_use(st);
	struct ffs_counters before = lc->ctr;
	CHECK(!ipv6_group_joined(lc, 0, &GROUP));
	CHECK(ipv6_group_joined(lc, 0, &IP6_ALL_NODES));
	CHECK_EQ_INT(mcast_join6(st, 0, &GROUP, NULL), 0);
	CHECK(ipv6_group_joined(lc, 0, &GROUP));
	/* RFC 3810 §6.1: CHANGE_TO_EXCLUDE {} at once, again within 1 s. */
	CHECK_EQ_INT(sent(), 1);
	uint8_t type;
	struct ip6_addr g;
	unsigned n;
	record(0, 0, &type, &g, &n, NULL);
	CHECK_EQ_INT(type, MLDV2_CHANGE_TO_EXCLUDE_MODE);
	CHECK(ip6_eq(&g, &GROUP));
	CHECK_EQ_INT(n, 0);
	CHECK_EQ_INT(tick_after(1000), 1);
	record(0, 0, &type, &g, &n, NULL);
	CHECK_EQ_INT(type, MLDV2_CHANGE_TO_EXCLUDE_MODE);
	CHECK_EQ_INT(tick_after(5000), 0);
	CHECK_EQ_INT(lc->ctr.mld_reports_out - before.mld_reports_out, 2);

	/* Leaving: CHANGE_TO_INCLUDE {}, and the group is no longer accepted. */
	CHECK_EQ_INT(mcast_leave6(st, 0, &GROUP, NULL), 0);
	CHECK(!ipv6_group_joined(lc, 0, &GROUP));
	CHECK_EQ_INT(sent(), 1);
	record(0, 0, &type, &g, &n, NULL);
	CHECK_EQ_INT(type, MLDV2_CHANGE_TO_INCLUDE_MODE);
	reset(base);
}

TEST(memberships_are_reported_again_when_the_link_comes_up)
{
	unsigned base = ffs_stack_mempool_in_use(st);
	CHECK_EQ_INT(mcast_join6(st, 0, &GROUP, NULL), 0);
	tick_after(2000);
	CHECK_EQ_INT(sent(), 0);
	igmp_link_up(lc, 0);
	unsigned n = sent();
	CHECK(n >= 1);
	bool group = false;
	for (unsigned k = 0; k < n; k++) {
		uint8_t type;
		struct ip6_addr g;
		unsigned n_src;
		record(k, 0, &type, &g, &n_src, NULL);
		CHECK_EQ_INT(type, MLDV2_CHANGE_TO_EXCLUDE_MODE);
		group |= ip6_eq(&g, &GROUP);
	}
	CHECK(group);
	reset(base);
}

TEST(source_specific_join)
{
	unsigned base = ffs_stack_mempool_in_use(st);
	CHECK_EQ_INT(mcast_join6(st, 0, &SSM_GROUP, &SOURCE), 0);
	CHECK_EQ_INT(sent(), 1);
	uint8_t type;
	struct ip6_addr g, s;
	unsigned n;
	record(0, 0, &type, &g, &n, &s);
	CHECK_EQ_INT(type, MLDV2_ALLOW_NEW_SOURCES);
	CHECK(ip6_eq(&g, &SSM_GROUP));
	CHECK_EQ_INT(n, 1);
	CHECK(ip6_eq(&s, &SOURCE));
	CHECK_EQ_INT(mcast_leave6(st, 0, &SSM_GROUP, &SOURCE), 0);
	CHECK_EQ_INT(sent(), 1);
	record(0, 0, &type, &g, &n, &s);
	CHECK_EQ_INT(type, MLDV2_BLOCK_OLD_SOURCES);
	CHECK(!ipv6_group_joined(lc, 0, &SSM_GROUP));
	reset(base);
}

TEST(general_query_answered_with_current_state)
{
	unsigned base = ffs_stack_mempool_in_use(st);
	struct ffs_counters before = lc->ctr;
	CHECK_EQ_INT(mcast_join6(st, 0, &GROUP, NULL), 0);
	tick_after(2000);
	query(true, NULL, 1000, 1);
	CHECK_EQ_INT(lc->ctr.mld_queries_in - before.mld_queries_in, 1);
	CHECK_EQ_INT(tick_after(1000), 1);
	/* Every group the port listens to: GROUP, and the solicited-node group of each address. */
	struct ip6_addr sn;
	ip6_solicited_node(&LINKLOCAL, &sn);
	bool group = false, solicited = false;
	for (unsigned i = 0; i < rd_be16(outs[0].msg + 6); i++) {
		uint8_t type;
		struct ip6_addr g;
		unsigned n;
		record(0, i, &type, &g, &n, NULL);
		CHECK_EQ_INT(type, MLDV2_MODE_IS_EXCLUDE);
		group |= ip6_eq(&g, &GROUP);
		solicited |= ip6_eq(&g, &sn);
	}
	CHECK(group);
	CHECK(solicited);
	/* RFC 3810 §5.1.14: a query whose hop limit is not 1 is dropped. */
	query(true, NULL, 1000, 64);
	CHECK_EQ_INT(lc->ctr.mld_bad - before.mld_bad, 1);
	CHECK_EQ_INT(tick_after(1000), 0);
	reset(base);
}

TEST(mldv1_by_sysctl)
{
	unsigned base = ffs_stack_mempool_in_use(st);
	struct ffs_counters before = lc->ctr;
	CHECK_EQ_INT(ffs_stack_sysctl_set(st, FFS_SYSCTL_MLD_VERSION, 1), 0);
	CHECK_EQ_INT(mcast_join6(st, 0, &GROUP, NULL), 0);
	/* RFC 2710 §4: a report to the group itself. */
	CHECK_EQ_INT(sent(), 1);
	CHECK_EQ_INT(outs[0].msg[0], MLD_V1_REPORT);
	CHECK(ip6_eq(&outs[0].ip.dst, &GROUP));
	CHECK_MEM(outs[0].msg + 8, GROUP.b, 16);
	/* A done to all-routers on leave. */
	CHECK_EQ_INT(mcast_leave6(st, 0, &GROUP, NULL), 0);
	CHECK_EQ_INT(sent(), 1);
	CHECK_EQ_INT(outs[0].msg[0], MLD_V1_DONE);
	CHECK(ip6_eq(&outs[0].ip.dst, &IP6_ALL_ROUTERS));
	CHECK_EQ_INT(lc->ctr.mld_dones_out - before.mld_dones_out, 1);
	reset(base);
}

TEST(mldv1_querier_switches_to_compatibility_mode)
{
	unsigned base = ffs_stack_mempool_in_use(st);
	query(false, NULL, 1000, 1);
	CHECK_EQ_INT(mcast_join6(st, 0, &GROUP, NULL), 0);
	CHECK_EQ_INT(sent(), 1);
	CHECK_EQ_INT(outs[0].msg[0], MLD_V1_REPORT);
	reset(base);
}

TEST(all_nodes_and_interface_local_groups_are_never_reported)
{
	unsigned base = ffs_stack_mempool_in_use(st);
	struct ip6_addr node_local;
	CHECK(ip6_parse("ff01::1:3", &node_local) == 0);
	CHECK_EQ_INT(mcast_join6(st, 0, &IP6_ALL_NODES, NULL), 0);
	CHECK_EQ_INT(mcast_join6(st, 0, &node_local, NULL), 0);
	CHECK(ipv6_group_joined(lc, 0, &node_local));
	CHECK_EQ_INT(sent(), 0);
	CHECK_EQ_INT(mcast_leave6(st, 0, &IP6_ALL_NODES, NULL), 0);
	CHECK_EQ_INT(mcast_leave6(st, 0, &node_local, NULL), 0);
	CHECK(ipv6_group_joined(lc, 0, &IP6_ALL_NODES));
	CHECK(!ipv6_group_joined(lc, 0, &node_local));
	CHECK_EQ_INT(sent(), 0);
	/* Not a multicast address: refused. */
	CHECK_EQ_INT(mcast_join6(st, 0, &SOURCE, NULL), -EINVAL);
	reset(base);
}

TEST(addresses_join_their_solicited_node_groups)
{
	tick_after(0);
	unsigned base = ffs_stack_mempool_in_use(st);
	struct ip6_addr a, b, sn;
	CHECK(ip6_parse("2001:db8::12:3456", &a) == 0);
	CHECK(ip6_parse("2001:db8:1::9912:3456", &b) == 0); /* the same low 24 bits */
	CHECK(ip6_parse("ff02::1:ff12:3456", &sn) == 0);
	CHECK_EQ_INT(addr6_add(st, 0, &a, 64, ADDR6_STATIC, ADDR6_INFINITE, ADDR6_INFINITE), 0);
	/* Reported (RFC 3810 §6 excepts only ff02::1 and scopes 0 and 1) at the next tick. */
	CHECK_EQ_INT(tick_after(0), 1);
	uint8_t type;
	struct ip6_addr g;
	unsigned n;
	record(0, 0, &type, &g, &n, NULL);
	CHECK_EQ_INT(type, MLDV2_CHANGE_TO_EXCLUDE_MODE);
	CHECK(ip6_eq(&g, &sn));
	CHECK_EQ_INT(addr6_add(st, 0, &b, 64, ADDR6_STATIC, ADDR6_INFINITE, ADDR6_INFINITE), 0);
	CHECK_EQ_INT(tick_after(1000), 1); /* the retransmission, nothing new */
	CHECK_EQ_INT(tick_after(1000), 0);
	/* One address gone: the other still needs the group. */
	CHECK_EQ_INT(addr6_del(st, 0, &a), 0);
	CHECK_EQ_INT(tick_after(0), 0);
	CHECK_EQ_INT(addr6_del(st, 0, &b), 0);
	CHECK_EQ_INT(tick_after(0), 1);
	record(0, 0, &type, &g, &n, NULL);
	CHECK_EQ_INT(type, MLDV2_CHANGE_TO_INCLUDE_MODE);
	CHECK(ip6_eq(&g, &sn));
	reset(base);
}

int main(int argc, char **argv)
{
	setup();
	int rc = test__main(argc, argv, __FILE__);
	return test_ring_stack_stop(st, rc);
}
