/*
 * IPv6 fragmentation and reassembly (stack/iface/ipv6_frag.c, on the table both families share,
 * stack/iface/reasm.c) driven directly on a running inline stack whose one port is a net_ring vdev:
 * what the stack transmits comes back on the same port's RX queue, where the test reads it.
 *
 * Cases: a datagram of 65535 payload octets (a 65527-byte UDP payload; 46 fragments of 1448)
 * reassembled in order, reverse and seeded random orders, the Fragment header removed; duplicates;
 * overlaps and conflicting ends discarding the datagram (RFC 5722); tiny fragments; atomic
 * fragments (RFC 6946); fragments whose length is no multiple of 8 or that reach past 65535
 * (RFC 8200 §4.5: Parameter Problem); a first fragment without the whole header chain (RFC 7112);
 * IPv4 and IPv6 datagrams of one identification kept apart; expiry (with Time Exceeded code 1
 * when the first fragment came); the bounds shared with IPv4; fragment-then-reassemble round trips
 * through ipv6_fragment. Every case checks that the packet pool's in-use count returns to its baseline.
 */
#include <errno.h>
#include <stdio.h>
#include <unistd.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>

#include "stack/iface/iface.h"
#include "stack/lcore/lcore.h"
#include "stack/wire/checksum.h"
#include "stack/wire/icmp6.h"
#include "stack/wire/ipv6.h"
#include "test/stack/frag_orders.h"
#include "test/stack/harness.h"
#include "test/stack/stack_env.h"

#define OUR_ADDR4 0x0a000001u /* 10.0.0.1, the port's IPv4 address */
#define FAR_ADDR4 0xc0000202u /* 192.0.2.2 */
#define BIG_PAYLOAD 65535u    /* the largest IPv6 payload: an 8-octet UDP header and 65527 octets */
#define FRAG_PAYLOAD 1448u    /* what a 1500-byte MTU carries after 40 + 8 header octets */
#define MAX_FRAGS 80

static const struct eth_addr PEER_MAC = { { 0x02, 0, 0, 0, 0, 0x02 } };

static struct ffs_stack *st;
static struct ffs_lcore *lc;
static struct ip6_addr OUR, PEER, FAR;
static uint8_t big[BIG_PAYLOAD + 2048];

static void setup(void)
{
	st = test_ring_stack_start("ipv6_frag_test", "128", OUR_ADDR4, 0xffffff00u);
	lc = st->lcores[0];
	lc->now = rte_rdtsc();
	CHECK(ip6_parse("2001:db8::1", &OUR) == 0);
	CHECK(ip6_parse("2001:db8::2", &PEER) == 0);
	CHECK(ip6_parse("2001:db8:ffff::2", &FAR) == 0);
	for (size_t i = 0; i < sizeof(big); i++)
		big[i] = (uint8_t)(i * 7 + (i >> 8));
}

static unsigned in_use(void) { return ffs_stack_mempool_in_use(st); }

/**
 * A fragment of `payload` (the whole datagram's fragmentable part) as it arrives: data at its IPv6
 * header, a Fragment header naming `nh`, then `len` octets from offset `off`.
 */
static struct rte_mbuf *fragment_nh(const struct ip6_addr *src, uint32_t id, const uint8_t *payload, uint32_t off,
				    uint32_t len, bool more, uint8_t nh)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(st->pool);
	CHECK(m != NULL);
	uint8_t *p = (uint8_t *)rte_pktmbuf_append(m, (uint16_t)(IPV6_HDR_LEN + IPV6_FRAG_HDR_LEN + len));
	CHECK(p != NULL);
	struct ipv6_repr ip = { .src = *src, .dst = OUR, .next_header = IPV6_NH_FRAGMENT, .hop_limit = 64,
				.payload_len = (uint16_t)(IPV6_FRAG_HDR_LEN + len) };
	CHECK_EQ_INT(ipv6_repr_emit(&ip, p, IPV6_HDR_LEN), IPV6_HDR_LEN);
	CHECK_EQ_INT(ipv6_frag_hdr_emit(nh, (uint16_t)off, more, id, p + IPV6_HDR_LEN, IPV6_FRAG_HDR_LEN), IPV6_FRAG_HDR_LEN);
	memcpy(p + IPV6_HDR_LEN + IPV6_FRAG_HDR_LEN, payload + off, len);
	return m;
}

static struct rte_mbuf *fragment(const struct ip6_addr *src, uint32_t id, const uint8_t *payload, uint32_t off,
				 uint32_t len, bool more)
{
	return fragment_nh(src, id, payload, off, len, more, IPV6_NH_UDP);
}

/** Parses m (data at its IPv6 header) and hands it to reassembly, as ipv6_input does. */
static struct rte_mbuf *feed(struct rte_mbuf *m, struct ipv6_repr *ip)
{
	CHECK_EQ_INT(ipv6_repr_parse(rte_pktmbuf_mtod(m, const uint8_t *), rte_pktmbuf_data_len(m), ip, NULL), WIRE_OK);
	CHECK(ip->fragment);
	return ipv6_reassemble(lc, m, ip);
}

/** The big datagram's fragments: offsets and lengths, 46 of them. */
static unsigned big_layout(uint32_t *off, uint32_t *len)
{
	return frag_layout(BIG_PAYLOAD, FRAG_PAYLOAD, off, len);
}

/** Checks a reassembled datagram against `payload` byte for byte, header and `ip` included. */
static void check_datagram(struct rte_mbuf *d, const struct ipv6_repr *ip, const uint8_t *payload, uint32_t len)
{
	static uint8_t flat[IPV6_HDR_LEN + BIG_PAYLOAD];
	CHECK(d != NULL);
	CHECK_EQ_INT(rte_pktmbuf_pkt_len(d), IPV6_HDR_LEN + len);
	CHECK_EQ_INT(ip->payload_len, len);
	CHECK(!ip->fragment);
	CHECK_EQ_INT(ip->next_header, IPV6_NH_UDP);
	CHECK_EQ_INT(ip->hdr_len, IPV6_HDR_LEN);
	const uint8_t *all = rte_pktmbuf_read(d, 0, IPV6_HDR_LEN + len, flat);
	CHECK(all != NULL);
	CHECK_EQ_INT(rd_be16(all + 4), len);
	CHECK_EQ_INT(all[6], IPV6_NH_UDP);
	CHECK_MEM(all + IPV6_HDR_LEN, payload, len);
	frag_check_chain_len(d);
}

/** Feeds the big datagram's fragments in `order`; only the last may complete it. */
static void reassemble_in(const unsigned *order, unsigned n, const uint32_t *off, const uint32_t *len, uint32_t id)
{
	unsigned base = in_use();
	struct ffs_counters before = lc->ctr;
	struct rte_mbuf *d = NULL;
	struct ipv6_repr ip;
	for (unsigned i = 0; i < n; i++) {
		unsigned k = order[i];
		struct rte_mbuf *r = feed(fragment(&FAR, id, big, off[k], len[k], off[k] + len[k] < BIG_PAYLOAD), &ip);
		if (i + 1 < n)
			CHECK(r == NULL);
		else
			d = r;
	}
	check_datagram(d, &ip, big, BIG_PAYLOAD);
	CHECK_EQ_INT(d->nb_segs, n);
	CHECK(ip6_eq(&ip.src, &FAR));
	CHECK_EQ_INT(lc->ctr.ip6_fragments - before.ip6_fragments, n);
	CHECK_EQ_INT(lc->ctr.ip6_reassembled - before.ip6_reassembled, 1);
	CHECK_EQ_INT(lc->ctr.ip6_frag_dropped - before.ip6_frag_dropped, 0);
	CHECK_EQ_INT(lc->ctr.ip_fragments - before.ip_fragments, 0);
	rte_pktmbuf_free(d);
	CHECK_EQ_INT(in_use(), base);
}

TEST(in_order_46_fragments)
{
	uint32_t off[MAX_FRAGS], len[MAX_FRAGS];
	unsigned order[MAX_FRAGS], n = big_layout(off, len);
	CHECK_EQ_INT(n, 46);
	frag_order_forward(order, n);
	reassemble_in(order, n, off, len, 1);
}

TEST(reverse_order)
{
	uint32_t off[MAX_FRAGS], len[MAX_FRAGS];
	unsigned order[MAX_FRAGS], n = big_layout(off, len);
	frag_order_reverse(order, n);
	reassemble_in(order, n, off, len, 0x80000002u);
}

TEST(random_orders)
{
	uint32_t off[MAX_FRAGS], len[MAX_FRAGS];
	unsigned order[MAX_FRAGS], n = big_layout(off, len);
	uint32_t seed = 4242;
	for (unsigned round = 0; round < 20; round++) {
		frag_order_shuffle(order, n, &seed);
		reassemble_in(order, n, off, len, 100 + round);
	}
}

TEST(duplicates_are_dropped)
{
	uint32_t off[MAX_FRAGS], len[MAX_FRAGS];
	unsigned n = big_layout(off, len);
	unsigned base = in_use();
	struct ffs_counters before = lc->ctr;
	struct ipv6_repr ip;
	for (unsigned i = 0; i < n - 1; i++) {
		CHECK(feed(fragment(&FAR, 3, big, off[i], len[i], true), &ip) == NULL);
		CHECK(feed(fragment(&FAR, 3, big, off[i], len[i], true), &ip) == NULL);
	}
	struct rte_mbuf *d = feed(fragment(&FAR, 3, big, off[n - 1], len[n - 1], false), &ip);
	check_datagram(d, &ip, big, BIG_PAYLOAD);
	CHECK_EQ_INT(lc->ctr.ip6_frag_dup - before.ip6_frag_dup, n - 1);
	CHECK_EQ_INT(lc->ctr.ip6_frag_dropped - before.ip6_frag_dropped, n - 1);
	CHECK_EQ_INT(lc->ctr.ip6_frag_overlap - before.ip6_frag_overlap, 0);
	rte_pktmbuf_free(d);
	CHECK_EQ_INT(in_use(), base);
}

TEST(any_overlap_discards_the_datagram)
{
	unsigned base = in_use();
	struct ffs_counters before = lc->ctr;
	struct ipv6_repr ip;
	/* RFC 5722 §3: the second starts inside the first; then the datagram's remaining fragments
	 * are silently dropped as they come (they start a fresh entry that never completes). */
	CHECK(feed(fragment(&FAR, 4, big, 0, 1448, true), &ip) == NULL);
	CHECK(feed(fragment(&FAR, 4, big, 1440, 24, false), &ip) == NULL);
	CHECK_EQ_INT(lc->ctr.ip6_frag_overlap - before.ip6_frag_overlap, 1);
	CHECK_EQ_INT(lc->ctr.ip6_frag_dropped - before.ip6_frag_dropped, 2);
	CHECK_EQ_INT(in_use(), base);

	/* From below, after a later fragment; and one octet of overlap at the end. */
	CHECK(feed(fragment(&FAR, 5, big, 1448, 1448, true), &ip) == NULL);
	CHECK(feed(fragment(&FAR, 5, big, 8, 1448, true), &ip) == NULL);
	CHECK(feed(fragment(&FAR, 6, big, 0, 1448, true), &ip) == NULL);
	CHECK(feed(fragment(&FAR, 6, big, 1440, 100, false), &ip) == NULL);
	/* Two last fragments that disagree on the end. */
	CHECK(feed(fragment(&FAR, 7, big, 1448, 100, false), &ip) == NULL);
	CHECK(feed(fragment(&FAR, 7, big, 2896, 100, false), &ip) == NULL);
	CHECK_EQ_INT(lc->ctr.ip6_frag_overlap - before.ip6_frag_overlap, 4);
	CHECK_EQ_INT(lc->ctr.ip6_frag_dropped - before.ip6_frag_dropped, 8);
	CHECK_EQ_INT(lc->ctr.ip6_reassembled - before.ip6_reassembled, 0);
	CHECK_EQ_INT(in_use(), base);
}

TEST(tiny_fragments)
{
	/* 64 fragments of 8 octets (the most maxfragsperpacket allows by default) make a datagram. */
	unsigned base = in_use();
	struct ffs_counters before = lc->ctr;
	struct ipv6_repr ip;
	struct rte_mbuf *d = NULL;
	for (uint32_t i = 0; i < 64; i++) {
		struct rte_mbuf *r = feed(fragment(&FAR, 40, big, i * 8, 8, i < 63), &ip);
		if (i < 63)
			CHECK(r == NULL);
		else
			d = r;
	}
	check_datagram(d, &ip, big, 512);
	rte_pktmbuf_free(d);
	/* One more is too many: the datagram is discarded. */
	for (uint32_t i = 0; i < 65; i++)
		CHECK(feed(fragment(&FAR, 41, big, i * 8, 8, true), &ip) == NULL);
	CHECK_EQ_INT(lc->ctr.ip6_frag_toomany - before.ip6_frag_toomany, 1);
	CHECK_EQ_INT(lc->ctr.ip6_frag_dropped - before.ip6_frag_dropped, 65);
	CHECK_EQ_INT(in_use(), base);
}

TEST(first_fragment_without_the_header_chain_is_refused)
{
	/* RFC 7112 §5: a first fragment whose Destination Options header runs past it. */
	uint8_t part[16] = { IPV6_NH_UDP, 1, IPV6_OPT_PADN, 12 };
	struct rte_mbuf *m = fragment_nh(&FAR, 42, part, 0, 8, true, IPV6_NH_DSTOPTS);
	struct ipv6_repr ip;
	struct ipv6_param_problem pp = { 0 };
	CHECK_EQ_INT(ipv6_repr_parse(rte_pktmbuf_mtod(m, const uint8_t *), rte_pktmbuf_data_len(m), &ip, &pp),
		     WIRE_BAD_EXTHDR);
	CHECK(pp.send);
	CHECK_EQ_INT(pp.code, ICMP6_PARAMPROB_FRAG_INCOMPLETE);
	rte_pktmbuf_free(m);
}

TEST(atomic_fragments_are_whole_datagrams)
{
	unsigned base = in_use();
	struct ffs_counters before = lc->ctr;
	struct ipv6_repr ip;
	/* A datagram of id 50 in progress, then an atomic fragment of the same id (RFC 6946 §4). */
	CHECK(feed(fragment(&FAR, 50, big, 0, 1448, true), &ip) == NULL);
	struct rte_mbuf *m = feed(fragment(&FAR, 50, big, 0, 100, false), &ip);
	CHECK(m != NULL);
	CHECK(!ip.fragment);
	CHECK_EQ_INT(ip.next_header, IPV6_NH_UDP);
	CHECK_EQ_INT(ip.hdr_len, IPV6_HDR_LEN + IPV6_FRAG_HDR_LEN);
	CHECK_MEM(rte_pktmbuf_mtod(m, const uint8_t *) + ip.hdr_len, big, 100);
	rte_pktmbuf_free(m);
	CHECK_EQ_INT(lc->ctr.ip6_atomic_frags - before.ip6_atomic_frags, 1);
	CHECK_EQ_INT(lc->ctr.ip6_frag_overlap - before.ip6_frag_overlap, 0);
	/* The datagram in progress is untouched: it completes. */
	m = feed(fragment(&FAR, 50, big, 1448, 52, false), &ip);
	check_datagram(m, &ip, big, 1500);
	rte_pktmbuf_free(m);
	CHECK_EQ_INT(in_use(), base);
}

TEST(families_are_kept_apart)
{
	/* An IPv4 and an IPv6 datagram with identification 60 at once: neither disturbs the other. */
	unsigned base = in_use();
	struct ffs_counters before = lc->ctr;
	struct ipv6_repr ip6;
	CHECK(feed(fragment(&FAR, 60, big, 0, 1448, true), &ip6) == NULL);
	struct rte_mbuf *m4 = rte_pktmbuf_alloc(st->pool);
	uint8_t *p = (uint8_t *)rte_pktmbuf_append(m4, IPV4_HDR_LEN + 1480);
	struct ipv4_repr ip4 = { .src = FAR_ADDR4, .dst = OUR_ADDR4, .proto = IPV4_PROTO_UDP, .ttl = 64, .id = 60,
				 .more_frags = true, .hdr_len = IPV4_HDR_LEN, .payload_len = 1480 };
	ipv4_repr_emit(&ip4, p, IPV4_HDR_LEN, &WIRE_CSUM_SOFTWARE);
	memcpy(p + IPV4_HDR_LEN, big, 1480);
	CHECK(ipv4_reassemble(lc, m4, &ip4) == NULL);
	struct rte_mbuf *d = feed(fragment(&FAR, 60, big, 1448, 100, false), &ip6);
	check_datagram(d, &ip6, big, 1548);
	rte_pktmbuf_free(d);
	CHECK_EQ_INT(lc->ctr.ip_frag_overlap - before.ip_frag_overlap, 0);
	CHECK_EQ_INT(lc->ctr.ip6_frag_overlap - before.ip6_frag_overlap, 0);
	/* The IPv4 one is still held; it expires with the table's timer. */
	lc->now += (uint64_t)(ffs_sysctl(st, FFS_SYSCTL_FRAG6TTL_MS) + 1) * st->tsc_hz / 1000;
	ip_reasm_tick(lc);
	CHECK_EQ_INT(lc->ctr.ip_frag_timeout - before.ip_frag_timeout, 1);
	CHECK_EQ_INT(in_use(), base);
}

TEST(byte_budget_is_shared_with_ipv4)
{
	CHECK_EQ_INT(ffs_stack_sysctl_set(st, FFS_SYSCTL_MAXFRAGPACKETS, 4096), 0);
	CHECK_EQ_INT(ffs_stack_sysctl_set(st, FFS_SYSCTL_MAXFRAGBYTES, 65536), 0);
	unsigned base = in_use();
	struct ffs_counters before = lc->ctr;
	struct ipv6_repr ip;
	unsigned most = 0;
	for (unsigned i = 0; i < 500; i++) {
		CHECK(feed(fragment(&FAR, 1000 + i, big, 0, 1448, true), &ip) == NULL);
		if (in_use() - base > most)
			most = in_use() - base;
	}
	uint32_t buf_len = rte_pktmbuf_data_room_size(st->pool);
	CHECK_EQ_INT(most, 65536 / buf_len);
	CHECK_EQ_INT(lc->ctr.ip6_frag_nomem - before.ip6_frag_nomem, 500 - most);
	lc->now += (uint64_t)(ffs_sysctl(st, FFS_SYSCTL_FRAG6TTL_MS) + 1) * st->tsc_hz / 1000;
	ip_reasm_tick(lc);
	CHECK_EQ_INT(lc->ctr.ip6_frag_timeout - before.ip6_frag_timeout, most);
	CHECK_EQ_INT(lc->ctr.ip6_frag_dropped - before.ip6_frag_dropped, 500);
	CHECK_EQ_INT(ffs_stack_sysctl_set(st, FFS_SYSCTL_MAXFRAGBYTES, 4194304), 0);
	CHECK_EQ_INT(ffs_stack_sysctl_set(st, FFS_SYSCTL_MAXFRAGPACKETS, 64), 0);
	CHECK_EQ_INT(in_use(), base);
}

TEST(ipv6_waits_its_own_fragttl)
{
	/* RFC 8200 §4.5: 60 s, net.inet6.ip6.fragttl; IPv4's net.inet.ip.fragttl is 30 s. */
	CHECK_EQ_INT(ffs_sysctl(st, FFS_SYSCTL_FRAG6TTL_MS), 60000);
	unsigned base = in_use();
	struct ffs_counters before = lc->ctr;
	struct ipv6_repr ip;
	CHECK(feed(fragment(&FAR, 70, big, 1448, 1448, true), &ip) == NULL);
	lc->now += (uint64_t)(ffs_sysctl(st, FFS_SYSCTL_FRAGTTL_MS) + 1) * st->tsc_hz / 1000;
	ip_reasm_tick(lc);
	CHECK_EQ_INT(lc->ctr.ip6_frag_timeout - before.ip6_frag_timeout, 0);
	lc->now += (uint64_t)(ffs_sysctl(st, FFS_SYSCTL_FRAG6TTL_MS)) * st->tsc_hz / 1000;
	ip_reasm_tick(lc);
	CHECK_EQ_INT(lc->ctr.ip6_frag_timeout - before.ip6_frag_timeout, 1);
	CHECK_EQ_INT(in_use(), base);
}

/** A whole datagram from us to PEER of `len` payload octets as a chain of `seg`-octet segments. */
static struct rte_mbuf *whole_datagram(const uint8_t *payload, uint32_t len, uint32_t seg)
{
	struct rte_mbuf *head = frag_payload_chain(st->pool, payload, len, seg);
	uint8_t *h = (uint8_t *)rte_pktmbuf_prepend(head, IPV6_HDR_LEN);
	CHECK(h != NULL);
	struct ipv6_repr ip = { .src = OUR, .dst = PEER, .next_header = IPV6_NH_UDP, .hop_limit = 64,
				.payload_len = (uint16_t)len };
	ipv6_repr_emit(&ip, h, IPV6_HDR_LEN);
	return head;
}

/**
 * Reads what the port sent, checks each frame is a fragment of one datagram that fits the MTU, and
 * reassembles them in reverse order. Returns the datagram; *id its identification.
 */
static struct rte_mbuf *collect_and_reassemble(unsigned want_frames, struct ipv6_repr *ip, uint32_t *id)
{
	struct rte_mbuf *frames[MAX_FRAGS];
	unsigned n = test_port_drain(lc, frames, MAX_FRAGS);
	CHECK_EQ_INT(n, want_frames);
	struct rte_mbuf *d = NULL;
	for (unsigned i = n; i-- > 0;) {
		struct rte_mbuf *f = frames[i];
		CHECK_EQ_INT(f->nb_segs, 1);
		CHECK(rte_pktmbuf_pkt_len(f) <= ETH_HDR_LEN + 1500u);
		struct eth_repr eth;
		CHECK_EQ_INT(eth_repr_parse(rte_pktmbuf_mtod(f, const uint8_t *), rte_pktmbuf_data_len(f), &eth), WIRE_OK);
		CHECK_EQ_INT(eth.ethertype, ETH_TYPE_IPV6);
		CHECK(eth_addr_eq(&eth.dst, &PEER_MAC));
		rte_pktmbuf_adj(f, ETH_HDR_LEN);
		struct ipv6_repr fr;
		CHECK_EQ_INT(ipv6_repr_parse(rte_pktmbuf_mtod(f, const uint8_t *), rte_pktmbuf_data_len(f), &fr, NULL), WIRE_OK);
		CHECK(fr.fragment);
		CHECK_EQ_INT(fr.frag_hdr_off, IPV6_HDR_LEN);
		CHECK_EQ_INT(fr.more_frags, i + 1 < n);
		if (i + 1 == n)
			*id = fr.frag_id;
		CHECK_EQ_INT(fr.frag_id, *id);
		/* Reassembly is for datagrams addressed to us: pretend this one was. */
		struct rte_mbuf *r = ipv6_reassemble(lc, f, &fr);
		if (i > 0) {
			CHECK(r == NULL);
		} else {
			d = r;
			*ip = fr;
		}
	}
	return d;
}

TEST(fragment_then_reassemble_round_trip)
{
	CHECK_EQ_INT(nd6_add_static(lc, 0, &PEER, &PEER_MAC), 0);
	test_port_drain(lc, NULL, 0);
	unsigned base = in_use();
	struct ffs_counters before = lc->ctr;
	uint32_t ids[2];
	for (unsigned k = 0; k < 2; k++) {
		struct rte_mbuf *m = whole_datagram(big, BIG_PAYLOAD, 1000);
		CHECK_EQ_INT(ipv6_fragment(lc, &st->ports[0], m, 1500, &PEER), 0);
		struct ipv6_repr ip;
		struct rte_mbuf *d = collect_and_reassemble(46, &ip, &ids[k]);
		check_datagram(d, &ip, big, BIG_PAYLOAD);
		CHECK(ip6_eq(&ip.dst, &PEER));
		rte_pktmbuf_free(d);
	}
	/* RFC 8200 §4.5: a fresh identification for each datagram. */
	CHECK(ids[0] != ids[1]);
	CHECK_EQ_INT(lc->ctr.ip6_fragmented - before.ip6_fragmented, 2);
	CHECK_EQ_INT(lc->ctr.ip6_frags_out - before.ip6_frags_out, 92);
	/* The IPv6 minimum MTU: 1232-octet fragments. */
	struct rte_mbuf *m = whole_datagram(big, 3000, 1500);
	CHECK_EQ_INT(ipv6_fragment(lc, &st->ports[0], m, IPV6_MIN_MTU, &PEER), 0);
	struct ipv6_repr ip;
	uint32_t id;
	struct rte_mbuf *d = collect_and_reassemble(3, &ip, &id);
	check_datagram(d, &ip, big, 3000);
	rte_pktmbuf_free(d);
	CHECK_EQ_INT(in_use(), base);
}

TEST(expiry_answers_time_exceeded_when_the_first_fragment_came)
{
	/* PEER on the port's prefix, at a known MAC: the error leaves at once. */
	CHECK_EQ_INT(ffs_stack_sysctl_set(st, FFS_SYSCTL_IP6_DAD_COUNT, 0), 0);
	CHECK_EQ_INT(ffs_stack_addr6_add(st, st->ports[0].port_id, &OUR, 64), 0);
	CHECK_EQ_INT(nd6_add_static(lc, 0, &PEER, &PEER_MAC), 0);
	test_port_drain(lc, NULL, 0);
	unsigned base = in_use();
	struct ffs_counters before = lc->ctr;
	struct ipv6_repr ip;
	/* No first fragment: expires silently. Then a first fragment alone. */
	CHECK(feed(fragment(&PEER, 80, big, 1448, 1448, true), &ip) == NULL);
	CHECK(feed(fragment(&PEER, 81, big, 0, 1448, true), &ip) == NULL);
	lc->now += (uint64_t)(ffs_sysctl(st, FFS_SYSCTL_FRAG6TTL_MS) + 1) * st->tsc_hz / 1000;
	ip_reasm_tick(lc);
	CHECK_EQ_INT(lc->ctr.ip6_frag_timeout - before.ip6_frag_timeout, 2);
	CHECK_EQ_INT(lc->ctr.ip6_frag_dropped - before.ip6_frag_dropped, 2);

	struct rte_mbuf *frames[4];
	CHECK_EQ_INT(test_port_drain(lc, frames, 4), 1);
	const uint8_t *f = rte_pktmbuf_mtod(frames[0], const uint8_t *);
	size_t len = rte_pktmbuf_data_len(frames[0]);
	struct ipv6_repr eip;
	CHECK_EQ_INT(ipv6_repr_parse(f + ETH_HDR_LEN, len - ETH_HDR_LEN, &eip, NULL), WIRE_OK);
	CHECK(ip6_eq(&eip.src, &OUR));
	CHECK(ip6_eq(&eip.dst, &PEER));
	CHECK_EQ_INT(eip.next_header, IPV6_NH_ICMPV6);
	struct icmp6_repr icmp;
	CHECK_EQ_INT(icmp6_repr_parse(f + ETH_HDR_LEN + eip.hdr_len, eip.payload_len, &eip.src, &eip.dst, &WIRE_CSUM_SOFTWARE, &icmp),
		     WIRE_OK);
	/* RFC 8200 §4.5: Time Exceeded, Fragment Reassembly Time Exceeded, quoting the first fragment. */
	CHECK_EQ_INT(icmp.type, ICMP6_TIME_EXCEEDED);
	CHECK_EQ_INT(icmp.code, ICMP6_TIME_EXCEED_REASSEMBLY);
	/* The quote (cut to keep the error within 1280 octets): the fragment's header, its Fragment
	 * header (offset 0, M set, identification 81) and the start of its payload. */
	CHECK_EQ_INT(icmp.body_len, ICMP6_ERROR_MAX_QUOTE);
	CHECK_EQ_INT(icmp.body[6], IPV6_NH_FRAGMENT);
	CHECK_EQ_INT(rd_be16(icmp.body + IPV6_HDR_LEN + 2), IPV6_FRAG_MF);
	CHECK_EQ_INT(rd_be32(icmp.body + IPV6_HDR_LEN + 4), 81);
	CHECK_MEM(icmp.body + IPV6_HDR_LEN + IPV6_FRAG_HDR_LEN, big, 64);
	rte_pktmbuf_free(frames[0]);
	CHECK_EQ_INT(in_use(), base);
}

int main(int argc, char **argv)
{
	setup();
	int rc = test__main(argc, argv, __FILE__);
	return test_ring_stack_stop(st, rc);
}
