/*
 * Neighbor Discovery (stack/iface/nd6.c) over the neighbour table both families share (neigh.c),
 * driven directly on a running inline stack whose one port is a net_ring vdev: frames go in through
 * Ethernet input, what the stack sends is read back from the ring.
 *
 * Cases: a send to an unknown neighbour is held while a multicast solicitation (hop limit 255, to the
 * solicited-node group's MAC) asks for it, and the solicited advertisement releases it; a solicitation
 * for our address is answered (S and O set) and teaches its sender; advertisements nobody asked for,
 * or that would replace a known MAC without Override, change nothing; a hop limit below 255 is
 * refused (RFC 4861 §7.1); an unanswered resolution fails after nd6_mmaxtries and drops what it held;
 * another node's advertisement for a tentative address fails DAD with an error naming it; a static
 * entry sends what was held, and neither advertisements nor aging move it; the control plane's
 * ffs_stack_neigh6_add and _del add entries on the port's link only (not its own addresses) and
 * delete entries of any state; IPv6 keys
 * whose folds collide stay apart, also after a removal; the IPv4 table is untouched by all of it.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>

#include "stack/iface/addr6.h"
#include "stack/iface/iface.h"
#include "stack/lcore/lcore.h"
#include "stack/wire/icmp6.h"
#include "stack/wire/udp.h"
#include "test/stack/harness.h"
#include "test/stack/stack_env.h"

static struct ffs_stack *st;
static struct ffs_lcore *lc;
static const struct ffs_port *port;
static struct ip6_addr ours;

static struct ip6_addr a6(const char *s)
{
	struct ip6_addr a;
	if (ip6_parse(s, &a) != 0) {
		fprintf(stderr, "nd6_test: bad address %s\n", s);
		exit(2);
	}
	return a;
}

static struct eth_addr mac_of(const struct ip6_addr *a)
{
	return (struct eth_addr){ { 0x02, 0x66, a->b[12], a->b[13], a->b[14], a->b[15] } };
}

static void setup(void)
{
	st = test_ring_stack_start("nd6_test", "128", 0x0a000001u, 0xffff0000u);
	lc = st->lcores[0];
	port = &st->ports[0];
	ours = a6("2001:db8::1");
	ffs_stack_sysctl_set(st, FFS_SYSCTL_IP6_DAD_COUNT, 0);
	if (addr6_add(st, 0, &ours, 64, ADDR6_STATIC, ADDR6_INFINITE, ADDR6_INFINITE) != 0) {
		fprintf(stderr, "nd6_test: addr6_add refused\n");
		exit(2);
	}
	/* Its prefix on-link, as a configured address's is. */
	struct ip6_addr prefix = a6("2001:db8::");
	if (route6_prefix_update(st, 0, &prefix, 64, FFS_ROUTE6_CONNECTED, 0) != 0) {
		fprintf(stderr, "nd6_test: route6_prefix_update refused\n");
		exit(2);
	}
	ffs_stack_sysctl_set(st, FFS_SYSCTL_IP6_DAD_COUNT, 1);
}

/** Feeds an IPv6 packet with next header `nh` and payload `msg` in a frame from `smac` through Ethernet input. */
static void feed_nh(const struct eth_addr *smac, const struct ip6_addr *src, const struct ip6_addr *dst, uint8_t hlim,
		    uint8_t nh, const uint8_t *msg, size_t len)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(st->pool);
	CHECK(m != NULL);
	uint8_t *p = (uint8_t *)rte_pktmbuf_append(m, (uint16_t)(ETH_HDR_LEN + IPV6_HDR_LEN + len));
	struct eth_repr eth = { .src = *smac, .ethertype = ETH_TYPE_IPV6 };
	if (ip6_is_multicast(dst))
		eth_addr_from_ipv6_multicast(dst, &eth.dst);
	else
		eth.dst = port->mac;
	eth_repr_emit(&eth, p, ETH_HDR_LEN);
	struct ipv6_repr ip = { .src = *src, .dst = *dst, .next_header = nh, .hop_limit = hlim,
				.payload_len = (uint16_t)len };
	CHECK_EQ_INT(ipv6_repr_emit(&ip, p + ETH_HDR_LEN, IPV6_HDR_LEN), IPV6_HDR_LEN);
	memcpy(p + ETH_HDR_LEN + IPV6_HDR_LEN, msg, len);
	lc->now = rte_rdtsc();
	eth_input(lc, port, m);
}

/** Feeds an ICMPv6 message (`msg`, checksummed for src → dst) in a frame from `smac` through Ethernet input. */
static void feed(const struct eth_addr *smac, const struct ip6_addr *src, const struct ip6_addr *dst, uint8_t hlim,
		 const uint8_t *msg, size_t len)
{
	feed_nh(smac, src, dst, hlim, IPV6_NH_ICMPV6, msg, len);
}

static void na_from(const struct ip6_addr *target, const struct eth_addr *mac, bool solicited, bool override, uint8_t hlim)
{
	uint8_t msg[64];
	size_t n = nd_na_emit(target, mac, false, solicited, override, target, &ours, msg, sizeof(msg));
	CHECK(n > 0);
	feed(mac, target, &ours, hlim, msg, n);
}

/** Sends a small frame to `a` through the IPv6 neighbour cache; the send's result. */
static int send_to(const struct ip6_addr *a)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(st->pool);
	CHECK(m != NULL);
	CHECK(rte_pktmbuf_append(m, 60) != NULL);
	lc->now = rte_rdtsc();
	return nd6_resolve_and_send(lc, port, a, m);
}

static struct neigh_entry *entry(const struct ip6_addr *a) { return neigh6_lookup(&lc->neigh6, 0, a); }

static void empty(void)
{
	test_port_drain(lc, NULL, 0);
	neigh_clear(&lc->neigh6);
	lc->ctr = (struct ffs_counters){ 0 };
}

/** What the stack sent: frames into out (at most max), parsed as IPv6 + ICMPv6 + ND. */
struct sent {
	struct eth_repr eth;
	struct ipv6_repr ip;
	struct nd_repr nd;
	bool is_nd;
};

static unsigned sent(struct sent *out, unsigned max)
{
	struct rte_mbuf *f[8];
	unsigned n = test_port_drain(lc, f, 8);
	unsigned k = 0;
	for (unsigned i = 0; i < n && i < 8; i++) {
		const uint8_t *p = rte_pktmbuf_mtod(f[i], const uint8_t *);
		size_t len = rte_pktmbuf_data_len(f[i]);
		if (k < max) {
			struct sent *s = &out[k++];
			memset(s, 0, sizeof(*s));
			CHECK(eth_repr_parse(p, len, &s->eth) == WIRE_OK);
			if (s->eth.ethertype == ETH_TYPE_IPV6 &&
			    ipv6_repr_parse(p + ETH_HDR_LEN, len - ETH_HDR_LEN, &s->ip, NULL) == WIRE_OK) {
				struct icmp6_repr icmp;
				const uint8_t *l4 = p + ETH_HDR_LEN + s->ip.hdr_len;
				size_t l4len = s->ip.payload_len;
				static const struct wire_csum_caps sw = { 0 };
				s->is_nd = s->ip.next_header == IPV6_NH_ICMPV6 &&
					   icmp6_repr_parse(l4, l4len, &s->ip.src, &s->ip.dst, &sw, &icmp) == WIRE_OK &&
					   nd_repr_parse(l4, l4len, &s->ip, &s->nd) == WIRE_OK;
			}
		}
		rte_pktmbuf_free(f[i]);
	}
	return n;
}

TEST(a_send_holds_and_solicits_then_the_advertisement_releases_it)
{
	empty();
	int base = ffs_stack_mempool_in_use(st);
	struct ip6_addr peer = a6("2001:db8::77");
	struct eth_addr pmac = mac_of(&peer);
	CHECK_EQ_INT(send_to(&peer), 0);
	CHECK_EQ_INT(send_to(&peer), 0);
	struct sent s[4];
	CHECK_EQ_INT(sent(s, 4), 1);
	CHECK(s[0].is_nd && s[0].nd.type == ND_NEIGHBOR_SOLICIT);
	CHECK(ip6_eq(&s[0].nd.target, &peer));
	CHECK(ip6_eq(&s[0].ip.src, &ours));
	CHECK_EQ_INT(s[0].ip.hop_limit, 255);
	CHECK(s[0].nd.has_slla && eth_addr_eq(&s[0].nd.slla, &port->mac));
	struct ip6_addr sn;
	struct eth_addr snmac;
	ip6_solicited_node(&peer, &sn);
	eth_addr_from_ipv6_multicast(&sn, &snmac);
	CHECK(ip6_eq(&s[0].ip.dst, &sn) && eth_addr_eq(&s[0].eth.dst, &snmac));
	CHECK(entry(&peer) != NULL && entry(&peer)->state == FFS_NEIGH_INCOMPLETE && entry(&peer)->n_held == 2);

	na_from(&peer, &pmac, true, true, 255);
	CHECK(entry(&peer)->state == FFS_NEIGH_REACHABLE && eth_addr_eq(&entry(&peer)->mac, &pmac));
	CHECK_EQ_INT(sent(s, 4), 2); /* both held frames, to the advertised MAC */
	CHECK(eth_addr_eq(&s[0].eth.dst, &pmac) && eth_addr_eq(&s[1].eth.dst, &pmac));
	CHECK_EQ_INT(lc->ctr.nd6_ns_out, 1);
	CHECK_EQ_INT(lc->ctr.nd6_na_in, 1);
	CHECK_EQ_INT(lc->ctr.nd6_hold_dropped, 0);
	CHECK_EQ_INT(lc->neigh.count, 0); /* the IPv4 table saw none of it */
	empty();
	CHECK_EQ_INT(test_pool_settles_at(st, base), base);
}

TEST(a_solicitation_for_us_is_answered_and_teaches_the_sender)
{
	empty();
	struct ip6_addr peer = a6("2001:db8::88");
	struct eth_addr pmac = mac_of(&peer);
	struct ip6_addr sn;
	ip6_solicited_node(&ours, &sn);
	uint8_t msg[64];
	size_t n = nd_ns_emit(&ours, &pmac, &peer, &sn, msg, sizeof(msg));
	CHECK(n > 0);
	feed(&pmac, &peer, &sn, 255, msg, n);
	CHECK_EQ_INT(lc->ctr.nd6_ns_in, 1);
	struct neigh_entry *e = entry(&peer);
	CHECK(e != NULL && e->state == FFS_NEIGH_REACHABLE && e->passive && eth_addr_eq(&e->mac, &pmac));
	struct sent s[2];
	CHECK_EQ_INT(sent(s, 2), 1);
	CHECK(s[0].is_nd && s[0].nd.type == ND_NEIGHBOR_ADVERT);
	CHECK(s[0].nd.solicited && s[0].nd.override && !s[0].nd.router);
	CHECK(ip6_eq(&s[0].nd.target, &ours) && ip6_eq(&s[0].ip.src, &ours) && ip6_eq(&s[0].ip.dst, &peer));
	CHECK(s[0].nd.has_tlla && eth_addr_eq(&s[0].nd.tlla, &port->mac));
	CHECK(eth_addr_eq(&s[0].eth.dst, &pmac));
	CHECK_EQ_INT(lc->ctr.nd6_na_out, 1);
}

TEST(unsolicited_and_non_overriding_advertisements_change_nothing)
{
	empty();
	struct ip6_addr stranger = a6("2001:db8::99"), peer = a6("2001:db8::98");
	struct eth_addr smac = mac_of(&stranger), pmac = mac_of(&peer), other = { { 0x02, 0, 0, 0, 0, 0x42 } };
	na_from(&stranger, &smac, false, true, 255);
	CHECK(entry(&stranger) == NULL);
	CHECK_EQ_INT(lc->ctr.nd6_unsolicited, 1);
	CHECK_EQ_INT(send_to(&peer), 0);
	na_from(&peer, &pmac, true, true, 255);
	na_from(&peer, &other, false, false, 255); /* no Override: the known MAC stays */
	CHECK(eth_addr_eq(&entry(&peer)->mac, &pmac));
	na_from(&peer, &other, false, true, 255); /* Override: it moves */
	CHECK(eth_addr_eq(&entry(&peer)->mac, &other));
}

TEST(messages_with_a_hop_limit_below_255_are_refused)
{
	empty();
	struct ip6_addr peer = a6("2001:db8::97");
	struct eth_addr pmac = mac_of(&peer);
	CHECK_EQ_INT(send_to(&peer), 0);
	na_from(&peer, &pmac, true, true, 254); /* RFC 4861 §7.1.2: possibly from off-link */
	CHECK(entry(&peer)->state == FFS_NEIGH_INCOMPLETE);
	CHECK_EQ_INT(lc->ctr.nd6_bad, 1);
	CHECK_EQ_INT(lc->ctr.nd6_na_in, 0);
}

TEST(an_unanswered_resolution_fails_and_drops_what_it_held)
{
	empty();
	int base = ffs_stack_mempool_in_use(st);
	struct ip6_addr peer = a6("2001:db8::96");
	CHECK_EQ_INT(send_to(&peer), 0);
	CHECK_EQ_INT(send_to(&peer), 0);
	int64_t tries = ffs_sysctl(st, FFS_SYSCTL_ND6_MMAXTRIES);
	for (int64_t i = 0; i < tries; i++) {
		lc->now = entry(&peer)->deadline;
		nd6_tick(lc);
	}
	CHECK(entry(&peer)->state == FFS_NEIGH_FAILED);
	CHECK_EQ_INT(lc->ctr.nd6_ns_out, tries);
	CHECK_EQ_INT(lc->ctr.nd6_timeouts, 1);
	CHECK_EQ_INT(lc->ctr.nd6_hold_dropped, 2);
	CHECK_EQ_INT(send_to(&peer), -EHOSTDOWN);
	empty();
	CHECK_EQ_INT(test_pool_settles_at(st, base), base);
}

TEST(an_advertisement_for_a_tentative_address_fails_dad_with_an_error_naming_it)
{
	empty();
	struct ip6_addr mine = a6("2001:db8::5");
	struct eth_addr thief = { { 0x02, 0x77, 0, 0, 0, 5 } };
	CHECK_EQ_INT(addr6_add(st, 0, &mine, 64, ADDR6_STATIC, ADDR6_INFINITE, ADDR6_INFINITE), 0);
	enum addr6_state state;
	CHECK(addr6_is_local(st, 0, &mine, &state) && state == ADDR6_TENTATIVE);
	lc->now = rte_rdtsc();
	nd6_tick(lc); /* the first probe: from ::, no SLLA, to the solicited-node group */
	struct sent s[2];
	CHECK_EQ_INT(sent(s, 2), 1);
	CHECK(s[0].is_nd && s[0].nd.type == ND_NEIGHBOR_SOLICIT && ip6_is_unspecified(&s[0].ip.src) && !s[0].nd.has_slla);
	/* Another node holds it: its advertisement to all-nodes. */
	uint8_t msg[64];
	size_t n = nd_na_emit(&mine, &thief, false, false, true, &mine, &IP6_ALL_NODES, msg, sizeof(msg));
	feed(&thief, &mine, &IP6_ALL_NODES, 255, msg, n);
	CHECK(addr6_is_local(st, 0, &mine, &state) && state == ADDR6_DUPLICATED);
	CHECK_EQ_INT(lc->ctr.nd6_dupaddr, 1);
	char err[256] = "";
	CHECK_EQ_INT(nd6_dad_wait(st, err, sizeof(err)), -EADDRINUSE);
	CHECK(strstr(err, "2001:db8::5") != NULL);
	CHECK(strstr(err, "port 0") != NULL);
	addr6_del(st, 0, &mine);
}

TEST(a_static_entry_releases_what_was_held_and_no_advertisement_moves_it)
{
	empty();
	struct ip6_addr peer = a6("2001:db8::95");
	struct eth_addr pmac = mac_of(&peer), other = { { 0x02, 0, 0, 0, 0, 0x43 } };
	CHECK_EQ_INT(send_to(&peer), 0);
	struct sent s[4];
	CHECK_EQ_INT(sent(s, 4), 1); /* the solicitation */
	CHECK_EQ_INT(nd6_add_static(lc, 0, &peer, &pmac), 0);
	CHECK(entry(&peer)->state == FFS_NEIGH_PERMANENT);
	CHECK_EQ_INT(sent(s, 4), 1); /* the held frame, to the static MAC */
	CHECK(eth_addr_eq(&s[0].eth.dst, &pmac));
	na_from(&peer, &other, false, true, 255);
	CHECK(eth_addr_eq(&entry(&peer)->mac, &pmac));
	lc->now = rte_rdtsc() + st->tsc_hz * 100000;
	nd6_tick(lc); /* permanent entries never expire */
	CHECK(entry(&peer) != NULL);
	empty();
}

TEST(the_control_plane_adds_and_deletes_entries_on_the_port_link_only)
{
	empty();
	struct ip6_addr peer = a6("2001:db8::96"), ll = a6("fe80::96");
	struct ip6_addr refused[] = { a6("2001:db9::96"), a6("ff02::1"), a6("::"), a6("::1"), ours };
	struct eth_addr pmac = mac_of(&peer);
	static struct ffs_neigh_info info[NEIGH_TABLE_SIZE];
	for (unsigned i = 0; i < sizeof(refused) / sizeof(refused[0]); i++)
		CHECK_EQ_INT(ffs_stack_neigh6_add(st, 0, &refused[i], &pmac), -EINVAL);
	struct ip6_addr own_ll;
	CHECK(addr6_linklocal(st, 0, &own_ll));
	CHECK_EQ_INT(ffs_stack_neigh6_add(st, 0, &own_ll, &pmac), -EINVAL);
	CHECK_EQ_INT(ffs_stack_neigh6_add(st, 7, &peer, &pmac), -ENOENT);
	CHECK_EQ_INT(ffs_stack_neigh6_dump(st, info, NEIGH_TABLE_SIZE), 0);

	/* A send held for the neighbour leaves to the MAC given, without another solicitation. */
	CHECK_EQ_INT(send_to(&peer), 0);
	struct sent s[4];
	CHECK_EQ_INT(sent(s, 4), 1);
	CHECK_EQ_INT(ffs_stack_neigh6_add(st, 0, &peer, &pmac), 0);
	CHECK_EQ_INT(ffs_stack_neigh6_add(st, 0, &ll, &pmac), 0);
	CHECK_EQ_INT(sent(s, 4), 1);
	CHECK(eth_addr_eq(&s[0].eth.dst, &pmac));
	CHECK_EQ_INT(ffs_stack_neigh6_dump(st, info, NEIGH_TABLE_SIZE), 2);
	CHECK(info[0].v6 && info[0].state == FFS_NEIGH_PERMANENT && info[1].state == FFS_NEIGH_PERMANENT);
	CHECK_EQ_INT(ffs_stack_neigh_dump(st, info, NEIGH_TABLE_SIZE), 0); /* the IPv4 table is another */

	/* Deleting: an entry of any state, and its held packets dropped into nd6.hold_dropped. */
	CHECK_EQ_INT(ffs_stack_neigh6_del(st, 0, &peer), 1);
	CHECK_EQ_INT(ffs_stack_neigh6_del(st, 0, &peer), 0);
	CHECK_EQ_INT(ffs_stack_neigh6_del(st, 0, &ll), 1);
	CHECK_EQ_INT(ffs_stack_neigh6_del(st, 7, &ll), -ENOENT);
	CHECK_EQ_INT(send_to(&peer), 0); /* incomplete again, holding one frame */
	CHECK(entry(&peer) != NULL && entry(&peer)->state == FFS_NEIGH_INCOMPLETE);
	CHECK_EQ_INT(ffs_stack_neigh6_del(st, 0, &peer), 1);
	CHECK(entry(&peer) == NULL);
	CHECK_EQ_INT(lc->ctr.nd6_hold_dropped, 1);
	CHECK_EQ_INT(lc->ctr.arp_hold_dropped, 0);
	empty();
}

TEST(ipv6_keys_whose_folds_collide_stay_apart)
{
	empty();
	/* The same four words in another order: equal XOR folds, equal home slots. */
	struct ip6_addr x = a6("2001:db8:1:2:3:4:5:6"), y = a6("3:4:5:6:2001:db8:1:2"), z = a6("5:6:2001:db8:1:2:3:4");
	struct neigh_entry *ex = neigh_insert(&lc->neigh6, 0, (struct neigh_key){ .a6 = &x }, 100);
	struct neigh_entry *ey = neigh_insert(&lc->neigh6, 0, (struct neigh_key){ .a6 = &y }, 100);
	struct neigh_entry *ez = neigh_insert(&lc->neigh6, 0, (struct neigh_key){ .a6 = &z }, 100);
	CHECK(ex && ey && ez && ex != ey && ey != ez);
	CHECK_EQ_INT(lc->neigh6.count, 3);
	neigh_remove(&lc->neigh6, entry(&x), NULL);
	CHECK(entry(&x) == NULL);
	CHECK(entry(&y) != NULL && ip6_eq(neigh_addr6(&lc->neigh6, entry(&y)), &y));
	CHECK(entry(&z) != NULL && ip6_eq(neigh_addr6(&lc->neigh6, entry(&z)), &z));
	empty();
}

/** A solicitation for `target` from `peer` to target's solicited-node group. */
static void ns_to_group_of(const struct ip6_addr *target, const struct ip6_addr *peer)
{
	struct eth_addr pmac = mac_of(peer);
	struct ip6_addr sn;
	ip6_solicited_node(target, &sn);
	uint8_t msg[64];
	size_t n = nd_ns_emit(target, &pmac, peer, &sn, msg, sizeof(msg));
	CHECK(n > 0);
	feed(&pmac, peer, &sn, 255, msg, n);
}

TEST(a_solicited_node_group_is_ours_exactly_while_an_address_of_the_port_joins_it)
{
	empty();
	struct ip6_addr peer = a6("2001:db8::89"), stranger = a6("2001:db8::1234"), dup = a6("2001:db8::6");
	struct ip6_addr sn_ours, sn_stranger, sn_dup;
	ip6_solicited_node(&ours, &sn_ours);
	ip6_solicited_node(&stranger, &sn_stranger);
	ip6_solicited_node(&dup, &sn_dup);
	struct sent s[2];

	/* The group of an address we do not hold: dropped and counted before ND sees it. */
	ns_to_group_of(&stranger, &peer);
	CHECK_EQ_INT(lc->ctr.ip6_not_ours, 1);
	CHECK_EQ_INT(lc->ctr.nd6_rx, 0);
	CHECK_EQ_INT(sent(s, 2), 0);
	CHECK(!ipv6_group_joined(lc, 0, &sn_stranger));

	/* Ours: accepted and answered, and the group table says the same. */
	ns_to_group_of(&ours, &peer);
	CHECK_EQ_INT(lc->ctr.nd6_ns_in, 1);
	CHECK_EQ_INT(sent(s, 2), 1);
	CHECK(s[0].is_nd && s[0].nd.type == ND_NEIGHBOR_ADVERT && ip6_eq(&s[0].nd.target, &ours));
	CHECK(ipv6_group_joined(lc, 0, &sn_ours));

	/* A tentative address's group is joined (RFC 4862 §5.4.2); a duplicated one is not assigned (§5.4.5). */
	CHECK_EQ_INT(addr6_add(st, 0, &dup, 64, ADDR6_STATIC, ADDR6_INFINITE, ADDR6_INFINITE), 0);
	CHECK(ipv6_group_joined(lc, 0, &sn_dup));
	addr6_set_state(st, 0, &dup, ADDR6_DUPLICATED);
	CHECK(!ipv6_group_joined(lc, 0, &sn_dup));
	ns_to_group_of(&dup, &peer);
	CHECK_EQ_INT(lc->ctr.ip6_not_ours, 2);
	CHECK_EQ_INT(lc->ctr.nd6_rx, 1);
	addr6_del(st, 0, &dup);
	CHECK_EQ_INT(sent(s, 2), 0);

	/* A datagram to a group of no address of ours is not delivered either. */
	uint8_t udp[16] = { 0 };
	const struct wire_csum_caps caps = { 0 };
	CHECK(udp6_repr_emit(&(struct udp_repr){ .src_port = 5000, .dst_port = 5000, .payload_len = 8 }, udp, sizeof(udp),
			     &peer, &sn_stranger, &caps) > 0);
	struct eth_addr pmac = mac_of(&peer);
	uint64_t delivered = lc->ctr.ip6_delivered;
	feed_nh(&pmac, &peer, &sn_stranger, 64, IPV6_NH_UDP, udp, sizeof(udp));
	CHECK_EQ_INT(lc->ctr.ip6_not_ours, 3);
	CHECK_EQ_INT(lc->ctr.ip6_delivered, delivered);
	empty();
}

int main(int argc, char **argv)
{
	setup();
	int rc = test__main(argc, argv, __FILE__);
	return test_ring_stack_stop(st, rc);
}
