/*
 * IPv4 fragmentation and reassembly (stack/iface/ipv4_frag.c) driven directly on a running inline
 * stack whose one port is a net_ring vdev: what the stack transmits comes back on the same port's RX
 * queue, where the test reads it without running the stack loop.
 *
 * Cases: a 65507-byte UDP datagram (65515 payload octets, 45 fragments) reassembled in order,
 * reverse and seeded random orders; duplicates; overlaps and conflicting ends discarding the
 * datagram; too many fragments; expiry (with ICMP time exceeded); the byte budget under a flood of
 * first fragments; fragment-then-reassemble round trips through ipv4_fragment and ipv4_output; DF;
 * and a reassembled echo request answered in fragments. Every case checks that the packet pool's
 * in-use count returns to its baseline.
 */
#include <errno.h>
#include <stdio.h>
#include <unistd.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>

#include "stack/iface/iface.h"
#include "stack/lcore/lcore.h"
#include "stack/wire/checksum.h"
#include "stack/wire/icmp.h"
#include "test/stack/frag_orders.h"
#include "test/stack/harness.h"
#include "test/stack/stack_env.h"

#define OUR_ADDR 0x0a000001u   /* 10.0.0.1, the port's address */
#define PEER_ADDR 0x0a000002u  /* 10.0.0.2, on the port's subnet (static ARP) */
#define FAR_ADDR 0xc0000202u   /* 192.0.2.2: no route, so no ICMP error leaves */
#define BIG_PAYLOAD 65515u     /* a 65507-byte UDP datagram's IP payload */
#define FRAG_PAYLOAD 1480u     /* what a 1500-byte MTU carries */
#define MAX_FRAGS 64

static const struct eth_addr PEER_MAC = { { 0x02, 0, 0, 0, 0, 0x02 } };

static struct ffs_stack *st;
static struct ffs_lcore *lc;
/* The big datagram's payload, with room beyond it for fragments that reach past 65535. */
static uint8_t big[IPV4_MAX_LEN + 2048];

static void setup(void)
{
	st = test_ring_stack_start("frag_test", "128", OUR_ADDR, 0xffffff00u);
	lc = st->lcores[0];
	test_ring_peer(st, "frag_test", PEER_ADDR, &PEER_MAC);
	for (size_t i = 0; i < sizeof(big); i++)
		big[i] = (uint8_t)(i * 7 + (i >> 8));
}

static unsigned in_use(void) { return ffs_stack_mempool_in_use(st); }

/** A fragment of `payload` (the whole datagram's IP payload) as it arrives: data at its IPv4 header. */
static struct rte_mbuf *fragment(uint32_t src, uint16_t id, const uint8_t *payload, uint32_t off, uint32_t len, bool mf)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(st->pool);
	CHECK(m != NULL);
	uint8_t *p = (uint8_t *)rte_pktmbuf_append(m, (uint16_t)(IPV4_HDR_LEN + len));
	CHECK(p != NULL);
	struct ipv4_repr ip = { .src = src, .dst = OUR_ADDR, .proto = IPV4_PROTO_UDP, .ttl = 64, .id = id,
				.more_frags = mf, .frag_offset = (uint16_t)off, .hdr_len = IPV4_HDR_LEN,
				.payload_len = (uint16_t)len };
	CHECK_EQ_INT(ipv4_repr_emit(&ip, p, IPV4_HDR_LEN, &WIRE_CSUM_SOFTWARE), IPV4_HDR_LEN);
	memcpy(p + IPV4_HDR_LEN, payload + off, len);
	return m;
}

/** Hands m (data at its IPv4 header) to reassembly, as ipv4_input does. */
static struct rte_mbuf *feed(struct rte_mbuf *m, struct ipv4_repr *ip)
{
	CHECK_EQ_INT(ipv4_repr_parse(rte_pktmbuf_mtod(m, const uint8_t *), rte_pktmbuf_data_len(m), &WIRE_CSUM_SOFTWARE, ip),
		     WIRE_OK);
	return ipv4_reassemble(lc, m, ip);
}

/** The fragments of the big datagram: offsets and lengths, 45 of them. */
static unsigned big_layout(uint32_t *off, uint32_t *len)
{
	return frag_layout(BIG_PAYLOAD, FRAG_PAYLOAD, off, len);
}

/** Checks a reassembled datagram against `payload` byte for byte, header and `ip` included. */
static void check_datagram(struct rte_mbuf *d, const struct ipv4_repr *ip, const uint8_t *payload, uint32_t len)
{
	static uint8_t flat[IPV4_MAX_LEN];
	CHECK(d != NULL);
	CHECK_EQ_INT(rte_pktmbuf_pkt_len(d), IPV4_HDR_LEN + len);
	CHECK_EQ_INT(ip->payload_len, len);
	CHECK(!ip->more_frags);
	CHECK_EQ_INT(ip->frag_offset, 0);
	const uint8_t *all = rte_pktmbuf_read(d, 0, IPV4_HDR_LEN + len, flat);
	CHECK(all != NULL);
	CHECK_EQ_INT(rd_be16(all + 2), IPV4_HDR_LEN + len);
	CHECK_EQ_INT(rd_be16(all + 6), 0);
	CHECK_EQ_INT(csum_buf(all, IPV4_HDR_LEN), 0);
	CHECK_MEM(all + IPV4_HDR_LEN, payload, len);
	frag_check_chain_len(d);
}

/** Feeds the big datagram's fragments in `order`; only the last may complete it. */
static void reassemble_in(const unsigned *order, unsigned n, const uint32_t *off, const uint32_t *len, uint16_t id)
{
	unsigned base = in_use();
	struct ffs_counters before = lc->ctr;
	struct rte_mbuf *d = NULL;
	struct ipv4_repr ip;
	for (unsigned i = 0; i < n; i++) {
		unsigned k = order[i];
		struct rte_mbuf *r = feed(fragment(FAR_ADDR, id, big, off[k], len[k], off[k] + len[k] < BIG_PAYLOAD), &ip);
		if (i + 1 < n)
			CHECK(r == NULL);
		else
			d = r;
	}
	check_datagram(d, &ip, big, BIG_PAYLOAD);
	CHECK_EQ_INT(d->nb_segs, n);
	CHECK_EQ_INT(ip.src, FAR_ADDR);
	CHECK_EQ_INT(ip.id, id);
	CHECK_EQ_INT(lc->ctr.ip_fragments - before.ip_fragments, n);
	CHECK_EQ_INT(lc->ctr.ip_reassembled - before.ip_reassembled, 1);
	CHECK_EQ_INT(lc->ctr.ip_frag_dropped - before.ip_frag_dropped, 0);
	rte_pktmbuf_free(d);
	CHECK_EQ_INT(in_use(), base);
}

TEST(in_order_45_fragments)
{
	uint32_t off[MAX_FRAGS], len[MAX_FRAGS];
	unsigned order[MAX_FRAGS], n = big_layout(off, len);
	CHECK_EQ_INT(n, 45);
	frag_order_forward(order, n);
	reassemble_in(order, n, off, len, 1);
}

TEST(reverse_order)
{
	uint32_t off[MAX_FRAGS], len[MAX_FRAGS];
	unsigned order[MAX_FRAGS], n = big_layout(off, len);
	frag_order_reverse(order, n);
	reassemble_in(order, n, off, len, 2);
}

TEST(random_orders)
{
	uint32_t off[MAX_FRAGS], len[MAX_FRAGS];
	unsigned order[MAX_FRAGS], n = big_layout(off, len);
	uint32_t seed = 12345;
	for (unsigned round = 0; round < 20; round++) {
		frag_order_shuffle(order, n, &seed);
		reassemble_in(order, n, off, len, (uint16_t)(100 + round));
	}
}

TEST(duplicates_are_dropped)
{
	uint32_t off[MAX_FRAGS], len[MAX_FRAGS];
	unsigned n = big_layout(off, len);
	unsigned base = in_use();
	struct ffs_counters before = lc->ctr;
	struct ipv4_repr ip;
	struct rte_mbuf *d = NULL;
	/* Every fragment but the last twice, the second copy after the first (and after others). */
	for (unsigned i = 0; i < n - 1; i++) {
		CHECK(feed(fragment(FAR_ADDR, 3, big, off[i], len[i], true), &ip) == NULL);
		CHECK(feed(fragment(FAR_ADDR, 3, big, off[i], len[i], true), &ip) == NULL);
		if (i > 0)
			CHECK(feed(fragment(FAR_ADDR, 3, big, off[i - 1], len[i - 1], true), &ip) == NULL);
	}
	d = feed(fragment(FAR_ADDR, 3, big, off[n - 1], len[n - 1], false), &ip);
	check_datagram(d, &ip, big, BIG_PAYLOAD);
	unsigned dups = (n - 1) + (n - 2);
	CHECK_EQ_INT(lc->ctr.ip_frag_dup - before.ip_frag_dup, dups);
	CHECK_EQ_INT(lc->ctr.ip_frag_dropped - before.ip_frag_dropped, dups);
	CHECK_EQ_INT(lc->ctr.ip_frag_overlap - before.ip_frag_overlap, 0);
	CHECK_EQ_INT(lc->ctr.ip_reassembled - before.ip_reassembled, 1);
	rte_pktmbuf_free(d);
	CHECK_EQ_INT(in_use(), base);
}

TEST(overlap_discards_the_datagram)
{
	unsigned base = in_use();
	struct ffs_counters before = lc->ctr;
	struct ipv4_repr ip;
	/* A teardrop pair: the second starts inside the first. */
	CHECK(feed(fragment(FAR_ADDR, 4, big, 0, 1480, true), &ip) == NULL);
	CHECK(feed(fragment(FAR_ADDR, 4, big, 1472, 24, false), &ip) == NULL);
	CHECK_EQ_INT(lc->ctr.ip_frag_overlap - before.ip_frag_overlap, 1);
	CHECK_EQ_INT(lc->ctr.ip_frag_dropped - before.ip_frag_dropped, 2);
	CHECK_EQ_INT(in_use(), base);

	/* An overlap from below, after a later fragment: [1480, 2960) then [8, 1488). */
	CHECK(feed(fragment(FAR_ADDR, 5, big, 1480, 1480, true), &ip) == NULL);
	CHECK(feed(fragment(FAR_ADDR, 5, big, 8, 1480, true), &ip) == NULL);
	/* Same offset, different length: not a duplicate. */
	CHECK(feed(fragment(FAR_ADDR, 6, big, 0, 1480, true), &ip) == NULL);
	CHECK(feed(fragment(FAR_ADDR, 6, big, 0, 1472, true), &ip) == NULL);
	CHECK_EQ_INT(lc->ctr.ip_frag_overlap - before.ip_frag_overlap, 3);
	CHECK_EQ_INT(lc->ctr.ip_frag_dropped - before.ip_frag_dropped, 6);
	CHECK_EQ_INT(in_use(), base);

	/* Two last fragments that disagree on the end, and data past a known end. */
	CHECK(feed(fragment(FAR_ADDR, 7, big, 1480, 100, false), &ip) == NULL);
	CHECK(feed(fragment(FAR_ADDR, 7, big, 2960, 100, false), &ip) == NULL);
	CHECK(feed(fragment(FAR_ADDR, 8, big, 1480, 100, false), &ip) == NULL);
	CHECK(feed(fragment(FAR_ADDR, 8, big, 2960, 1480, true), &ip) == NULL);
	CHECK_EQ_INT(lc->ctr.ip_frag_overlap - before.ip_frag_overlap, 5);
	CHECK_EQ_INT(lc->ctr.ip_frag_dropped - before.ip_frag_dropped, 10);
	CHECK_EQ_INT(lc->ctr.ip_reassembled - before.ip_reassembled, 0);
	CHECK_EQ_INT(in_use(), base);
}

TEST(malformed_fragments_are_dropped)
{
	unsigned base = in_use();
	struct ffs_counters before = lc->ctr;
	struct ipv4_repr ip;
	/* Ping of death: the last fragment ends past 65535 octets. */
	CHECK(feed(fragment(FAR_ADDR, 9, big, 65528, 100, false), &ip) == NULL);
	/* A non-last fragment whose length is no multiple of 8 (RFC 791). */
	CHECK(feed(fragment(FAR_ADDR, 9, big, 0, 1001, true), &ip) == NULL);
	/* An empty fragment. */
	CHECK(feed(fragment(FAR_ADDR, 9, big, 8, 0, true), &ip) == NULL);
	CHECK_EQ_INT(lc->ctr.ip_frag_dropped - before.ip_frag_dropped, 3);
	CHECK_EQ_INT(lc->ctr.ip_fragments - before.ip_fragments, 3);
	CHECK_EQ_INT(in_use(), base);
}

TEST(too_many_fragments)
{
	uint32_t off[MAX_FRAGS], len[MAX_FRAGS];
	big_layout(off, len);
	CHECK_EQ_INT(ffs_stack_sysctl_set(st, FFS_SYSCTL_MAXFRAGSPERPACKET, 8), 0);
	unsigned base = in_use();
	struct ffs_counters before = lc->ctr;
	struct ipv4_repr ip;
	for (unsigned i = 0; i < 9; i++)
		CHECK(feed(fragment(FAR_ADDR, 10, big, off[i], len[i], true), &ip) == NULL);
	CHECK_EQ_INT(ffs_stack_sysctl_set(st, FFS_SYSCTL_MAXFRAGSPERPACKET, 64), 0);
	CHECK_EQ_INT(lc->ctr.ip_frag_toomany - before.ip_frag_toomany, 1);
	CHECK_EQ_INT(lc->ctr.ip_frag_dropped - before.ip_frag_dropped, 9);
	CHECK_EQ_INT(in_use(), base);
}

/** Moves the lcore's clock past every reassembly deadline and runs the timer. */
static void expire_all(void)
{
	lc->now += (uint64_t)(ffs_sysctl(st, FFS_SYSCTL_FRAGTTL_MS) + 1) * st->tsc_hz / 1000;
	ip_reasm_tick(lc);
}

TEST(timeout_expires_partial_datagrams)
{
	uint32_t off[MAX_FRAGS], len[MAX_FRAGS];
	big_layout(off, len);
	test_port_drain(lc, NULL, 0);
	unsigned base = in_use();
	struct ffs_counters before = lc->ctr;
	struct ipv4_repr ip;
	/* No fragment zero: expires silently. */
	for (unsigned i = 1; i < 11; i++)
		CHECK(feed(fragment(FAR_ADDR, 11, big, off[i], len[i], true), &ip) == NULL);
	/* Fragment zero of a datagram from a neighbour: expiry answers with time exceeded, code 1. */
	CHECK(feed(fragment(PEER_ADDR, 12, big, off[0], len[0], true), &ip) == NULL);
	CHECK(in_use() > base);
	ip_reasm_tick(lc);
	CHECK_EQ_INT(lc->ctr.ip_frag_timeout - before.ip_frag_timeout, 0);
	expire_all();
	CHECK_EQ_INT(lc->ctr.ip_frag_timeout - before.ip_frag_timeout, 2);
	CHECK_EQ_INT(lc->ctr.ip_frag_dropped - before.ip_frag_dropped, 11);
	CHECK_EQ_INT(lc->ctr.icmp_errors_out - before.icmp_errors_out, 1);

	struct rte_mbuf *frames[4];
	CHECK_EQ_INT(test_port_drain(lc, frames, 4), 1);
	const uint8_t *f = rte_pktmbuf_mtod(frames[0], const uint8_t *);
	struct ipv4_repr eip;
	CHECK_EQ_INT(ipv4_repr_parse(f + ETH_HDR_LEN, rte_pktmbuf_data_len(frames[0]) - ETH_HDR_LEN, &WIRE_CSUM_SOFTWARE, &eip),
		     WIRE_OK);
	CHECK_EQ_INT(eip.dst, PEER_ADDR);
	CHECK_EQ_INT(eip.src, OUR_ADDR);
	CHECK_EQ_INT(eip.proto, IPV4_PROTO_ICMP);
	const uint8_t *icmp = f + ETH_HDR_LEN + IPV4_HDR_LEN;
	CHECK_EQ_INT(icmp[0], ICMP_TIME_EXCEEDED);
	CHECK_EQ_INT(icmp[1], 1);
	/* The quote: the fragment's header (its id) and its first 8 payload octets. */
	CHECK_EQ_INT(rd_be16(icmp + ICMP_HDR_LEN + 4), 12);
	CHECK_MEM(icmp + ICMP_HDR_LEN + IPV4_HDR_LEN, big, 8);
	rte_pktmbuf_free(frames[0]);
	CHECK_EQ_INT(in_use(), base);
}

TEST(byte_budget_bounds_a_flood)
{
	CHECK_EQ_INT(ffs_stack_sysctl_set(st, FFS_SYSCTL_MAXFRAGPACKETS, 4096), 0);
	CHECK_EQ_INT(ffs_stack_sysctl_set(st, FFS_SYSCTL_MAXFRAGBYTES, 65536), 0);
	unsigned base = in_use();
	struct ffs_counters before = lc->ctr;
	struct ipv4_repr ip;
	unsigned most = 0;
	for (unsigned i = 0; i < 1000; i++) {
		CHECK(feed(fragment(FAR_ADDR, (uint16_t)(1000 + i), big, 0, 1480, true), &ip) == NULL);
		if (in_use() - base > most)
			most = in_use() - base;
	}
	uint32_t buf_len = rte_pktmbuf_data_room_size(st->pool);
	CHECK(most * buf_len <= 65536);
	CHECK_EQ_INT(most, 65536 / buf_len);
	CHECK_EQ_INT(lc->ctr.ip_frag_nomem - before.ip_frag_nomem, 1000 - most);
	expire_all();
	CHECK_EQ_INT(lc->ctr.ip_frag_timeout - before.ip_frag_timeout, most);
	CHECK_EQ_INT(lc->ctr.ip_frag_dropped - before.ip_frag_dropped, 1000);
	CHECK_EQ_INT(in_use(), base);

	/* The table bound: net.inet.ip.maxfragpackets datagrams at once. */
	CHECK_EQ_INT(ffs_stack_sysctl_set(st, FFS_SYSCTL_MAXFRAGBYTES, 4194304), 0);
	CHECK_EQ_INT(ffs_stack_sysctl_set(st, FFS_SYSCTL_MAXFRAGPACKETS, 16), 0);
	before = lc->ctr;
	for (unsigned i = 0; i < 40; i++)
		CHECK(feed(fragment(FAR_ADDR, (uint16_t)(3000 + i), big, 0, 1480, true), &ip) == NULL);
	CHECK_EQ_INT(in_use() - base, 16);
	CHECK_EQ_INT(lc->ctr.ip_frag_nomem - before.ip_frag_nomem, 24);
	expire_all();
	CHECK_EQ_INT(ffs_stack_sysctl_set(st, FFS_SYSCTL_MAXFRAGPACKETS, 64), 0);
	CHECK_EQ_INT(in_use(), base);
}

/** A whole datagram of `len` payload octets as a chain of `seg`-octet segments, header in front. */
static struct rte_mbuf *whole_datagram(const uint8_t *payload, uint32_t len, uint32_t seg, uint16_t id, bool df)
{
	struct rte_mbuf *head = frag_payload_chain(st->pool, payload, len, seg);
	uint8_t *h = (uint8_t *)rte_pktmbuf_prepend(head, IPV4_HDR_LEN);
	CHECK(h != NULL);
	struct ipv4_repr ip = { .src = OUR_ADDR, .dst = PEER_ADDR, .proto = IPV4_PROTO_UDP, .ttl = 64, .id = id,
				.dont_frag = df, .hdr_len = IPV4_HDR_LEN, .payload_len = (uint16_t)len };
	ipv4_repr_emit(&ip, h, IPV4_HDR_LEN, &WIRE_CSUM_SOFTWARE);
	return head;
}

/**
 * Reads what the port sent, checks each frame is a valid fragment that fits the MTU, and
 * reassembles them (reverse order, to be harder than the wire). Returns the datagram.
 */
static struct rte_mbuf *collect_and_reassemble(unsigned want_frames, struct ipv4_repr *ip)
{
	struct rte_mbuf *frames[MAX_FRAGS];
	unsigned n = test_port_drain(lc, frames, MAX_FRAGS);
	CHECK_EQ_INT(n, want_frames);
	struct rte_mbuf *d = NULL;
	for (unsigned i = n; i-- > 0;) {
		struct rte_mbuf *f = frames[i];
		CHECK_EQ_INT(f->nb_segs, 1);
		CHECK(rte_pktmbuf_pkt_len(f) <= ETH_HDR_LEN + 1500u);
		rte_pktmbuf_adj(f, ETH_HDR_LEN);
		struct ipv4_repr fr;
		CHECK_EQ_INT(ipv4_repr_parse(rte_pktmbuf_mtod(f, const uint8_t *), rte_pktmbuf_data_len(f), &WIRE_CSUM_SOFTWARE, &fr),
			     WIRE_OK);
		CHECK(!fr.dont_frag);
		CHECK_EQ_INT(fr.more_frags, i + 1 < n);
		if (fr.more_frags)
			CHECK_EQ_INT(fr.payload_len % 8, 0);
		/* Reassembly is for datagrams addressed to us: pretend this one was. */
		struct rte_mbuf *r = ipv4_reassemble(lc, f, &fr);
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
	test_port_drain(lc, NULL, 0);
	unsigned base = in_use();
	struct ffs_counters before = lc->ctr;
	struct rte_mbuf *m = whole_datagram(big, BIG_PAYLOAD, 1000, 20, false);
	CHECK_EQ_INT(ipv4_fragment(lc, &st->ports[0], m, 0, &PEER_MAC), 0);
	CHECK_EQ_INT(lc->ctr.ip_fragmented - before.ip_fragmented, 1);
	CHECK_EQ_INT(lc->ctr.ip_frags_out - before.ip_frags_out, 45);
	struct ipv4_repr ip;
	struct rte_mbuf *d = collect_and_reassemble(45, &ip);
	check_datagram(d, &ip, big, BIG_PAYLOAD);
	CHECK_EQ_INT(ip.id, 20);
	CHECK_EQ_INT(ip.dst, PEER_ADDR);
	rte_pktmbuf_free(d);
	CHECK_EQ_INT(in_use(), base);
}

TEST(ipv4_output_fragments_above_the_mtu)
{
	test_port_drain(lc, NULL, 0);
	unsigned base = in_use();
	struct ffs_counters before = lc->ctr;
	/* A 4000-octet payload: 4020 octets of datagram leave as 1480 + 1480 + 1040. */
	struct rte_mbuf *m = whole_datagram(big, 4000, 1500, 0, false);
	rte_pktmbuf_adj(m, IPV4_HDR_LEN);
	struct ipv4_out o = { .dst = PEER_ADDR, .proto = IPV4_PROTO_UDP };
	CHECK_EQ_INT(ipv4_output(lc, m, &o), 0);
	CHECK_EQ_INT(lc->ctr.ip_frags_out - before.ip_frags_out, 3);
	struct ipv4_repr ip;
	struct rte_mbuf *d = collect_and_reassemble(3, &ip);
	check_datagram(d, &ip, big, 4000);
	rte_pktmbuf_free(d);

	/* With DF set the datagram is refused, not sent. */
	m = whole_datagram(big, 4000, 1500, 0, false);
	rte_pktmbuf_adj(m, IPV4_HDR_LEN);
	o.dont_frag = true;
	CHECK_EQ_INT(ipv4_output(lc, m, &o), -EMSGSIZE);
	CHECK_EQ_INT(lc->ctr.ip_cantfrag - before.ip_cantfrag, 1);
	CHECK_EQ_INT(test_port_drain(lc, NULL, 0), 0);
	CHECK_EQ_INT(in_use(), base);
}

TEST(dont_fragment_is_refused)
{
	unsigned base = in_use();
	struct ffs_counters before = lc->ctr;
	struct rte_mbuf *m = whole_datagram(big, 3000, 2000, 21, true);
	CHECK_EQ_INT(ipv4_fragment(lc, &st->ports[0], m, 0, &PEER_MAC), -EMSGSIZE);
	CHECK_EQ_INT(lc->ctr.ip_cantfrag - before.ip_cantfrag, 1);
	CHECK_EQ_INT(lc->ctr.ip_frags_out - before.ip_frags_out, 0);
	CHECK_EQ_INT(test_port_drain(lc, NULL, 0), 0);
	CHECK_EQ_INT(in_use(), base);
}

TEST(big_echo_request_is_answered_in_fragments)
{
	enum { DATA = 8000 };
	static uint8_t msg[ICMP_HDR_LEN + DATA];
	struct icmp_repr req = { .type = ICMP_ECHO_REQUEST, .ident = 0x1234, .seq = 7, .data = big, .data_len = DATA };
	CHECK_EQ_INT(icmp_repr_emit(&req, msg, sizeof(msg)), sizeof(msg));
	test_port_drain(lc, NULL, 0);
	unsigned base = in_use();
	struct ffs_counters before = lc->ctr;
	/* The request arrives from the wire in fragments, through Ethernet and IPv4 input. */
	for (uint32_t off = 0; off < sizeof(msg); off += FRAG_PAYLOAD) {
		uint32_t n = sizeof(msg) - off < FRAG_PAYLOAD ? sizeof(msg) - off : FRAG_PAYLOAD;
		struct rte_mbuf *m = fragment(PEER_ADDR, 30, msg, off, n, off + n < sizeof(msg));
		uint8_t *p = rte_pktmbuf_mtod(m, uint8_t *);
		p[9] = IPV4_PROTO_ICMP;
		wr_be16(p + 10, 0);
		wr_be16(p + 10, csum_buf(p, IPV4_HDR_LEN));
		struct eth_repr eth = { .dst = st->ports[0].mac, .src = PEER_MAC, .ethertype = ETH_TYPE_IPV4 };
		eth_repr_emit(&eth, (uint8_t *)rte_pktmbuf_prepend(m, ETH_HDR_LEN), ETH_HDR_LEN);
		eth_input(lc, &st->ports[0], m);
	}
	CHECK_EQ_INT(lc->ctr.ip_reassembled - before.ip_reassembled, 1);
	CHECK_EQ_INT(lc->ctr.icmp_echo_in - before.icmp_echo_in, 1);
	CHECK_EQ_INT(lc->ctr.icmp_badsum - before.icmp_badsum, 0);
	CHECK_EQ_INT(lc->ctr.icmp_echo_reply_out - before.icmp_echo_reply_out, 1);

	struct ipv4_repr ip;
	struct rte_mbuf *d = collect_and_reassemble((sizeof(msg) + FRAG_PAYLOAD - 1) / FRAG_PAYLOAD, &ip);
	CHECK(d != NULL);
	CHECK_EQ_INT(ip.src, OUR_ADDR);
	CHECK_EQ_INT(ip.dst, PEER_ADDR);
	CHECK_EQ_INT(ip.proto, IPV4_PROTO_ICMP);
	CHECK_EQ_INT(rte_pktmbuf_pkt_len(d), IPV4_HDR_LEN + sizeof(msg));
	static uint8_t flat[IPV4_HDR_LEN + sizeof(msg)];
	const uint8_t *all = rte_pktmbuf_read(d, 0, rte_pktmbuf_pkt_len(d), flat);
	struct icmp_repr rep;
	CHECK_EQ_INT(icmp_repr_parse(all + IPV4_HDR_LEN, sizeof(msg), &WIRE_CSUM_SOFTWARE, &rep), WIRE_OK);
	CHECK_EQ_INT(rep.type, ICMP_ECHO_REPLY);
	CHECK_EQ_INT(rep.ident, 0x1234);
	CHECK_EQ_INT(rep.seq, 7);
	CHECK_EQ_INT(rep.data_len, DATA);
	CHECK_MEM(rep.data, big, DATA);
	rte_pktmbuf_free(d);
	CHECK_EQ_INT(in_use(), base);
}

TEST(teardown_frees_partial_datagrams)
{
	unsigned base = in_use();
	struct ipv4_repr ip;
	for (unsigned i = 0; i < 5; i++)
		CHECK(feed(fragment(FAR_ADDR, (uint16_t)(5000 + i), big, 0, 1480, true), &ip) == NULL);
	CHECK_EQ_INT(in_use() - base, 5);
	/* What lcore teardown does; a fresh table replaces it for any later case. */
	ip_reasm_free(lc->reasm);
	lc->reasm = ip_reasm_new();
	CHECK(lc->reasm != NULL);
	CHECK_EQ_INT(in_use(), base);
}

int main(int argc, char **argv)
{
	setup();
	int rc = test__main(argc, argv, __FILE__);
	return test_ring_stack_stop(st, rc);
}
