/*
 * Jumbo frames over chained mbufs (MTU 9000 with the pool's ~2 KB mbufs), driven on an inline stack
 * whose one port is a net_ring device: what the stack transmits comes back on the port's RX queue,
 * where the test reads it without running the stack loop. net_ring hands mbufs over as they are, so
 * the port stands for a device with RX scatter and TX multi-segment sends; the test sets the port's
 * MTU to 9000 and its multi-segment flag as ffs_port_start does for such a device.
 *
 * Cases: the chain helpers (ffs_mbuf_append_bytes, ffs_mbuf_append_from); a 9014-byte frame received
 * as a chain of ~2 KB segments reaches a socket whole and correct (checksum verified over the chain,
 * copied out by ffs_sock_recvv); a corrupted one is dropped and counted; an 8972-byte ICMP echo
 * request in a chain is answered by one 9014-byte chained frame; an 8972-byte datagram sent through a
 * socket leaves unfragmented as one chained frame with a correct software checksum; a 65507-byte one
 * leaves in fragments cut at the 9000-byte MTU (chains themselves) that reassemble to the datagram;
 * a device without multi-segment sends gets fragments that each fit one mbuf; the IPv6 header walk
 * reads the first segment only; an 8952-byte IPv6 datagram received as a chain reaches its socket
 * whole, one sent leaves in one chained frame, and a 65527-byte one in chained fragments cut at the
 * MTU that reassemble (as input parses them) to the datagram; a running port refuses a jumbo MTU its
 * device was not started to scatter for. Every case checks
 * that the packet pool's in-use count returns to its baseline.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/uio.h>
#include <rte_mbuf.h>

#include "stack/iface/addr6.h"
#include "stack/iface/iface.h"
#include "stack/lcore/lcore.h"
#include "stack/phy/mbuf.h"
#include "stack/sock/sock.h"
#include "stack/stack.h"
#include "stack/wire/checksum.h"
#include "stack/wire/eth.h"
#include "stack/wire/icmp.h"
#include "stack/wire/ipv6.h"
#include "stack/wire/udp.h"
#include "test/stack/harness.h"
#include "test/stack/stack_env.h"

#define OUR_ADDR 0x0a5a0001u  /* 10.90.0.1, the port's address */
#define PEER_ADDR 0x0a5a0002u /* 10.90.0.2, on the port's subnet (static ARP) */
#define MTU 9000u
#define JUMBO_UDP (MTU - IPV4_HDR_LEN - UDP_HDR_LEN) /* 8972 */
#define BIG_UDP 65507u
#define MAX_FRAMES 64
#define OUR_PORT 9400
#define PEER_PORT 9401

static const struct eth_addr PEER_MAC = { { 0x02, 0, 0, 0, 0x5a, 0x02 } };

static struct ffs_stack *st;
static struct ffs_lcore *lc;
static struct ffs_app *app;
/* The largest datagram of either family: IPv6's (65527 bytes) is 20 more than IPv4's. */
static uint8_t payload[FFS_UDP6_MAX_PAYLOAD > BIG_UDP ? FFS_UDP6_MAX_PAYLOAD : BIG_UDP];
/* The largest packet either family reassembles: an IPv6 header and 65535 bytes of payload (40 more
 * than IPv4's largest). */
#define MAX_PACKET (IPV6_HDR_LEN + 65535u)
/* A whole frame or datagram, flat, for building and for comparing. */
static uint8_t flat[ETH_HDR_LEN + MAX_PACKET];
static uint8_t got[MAX_PACKET];

static void setup(void)
{
	st = test_ring_stack_start("jumbo_test", "256", OUR_ADDR, 0xffffff00u);
	lc = st->lcores[0];
	test_ring_peer(st, "jumbo_test", PEER_ADDR, &PEER_MAC);
	test_port_settle(st, 300); /* the announcements the first turns of the loop send */
	app = ffs_app_new(st);
	if (!app) {
		fprintf(stderr, "jumbo_test: no application context\n");
		exit(2);
	}
	/* What ffs_port_start sets for a device with RX scatter and TX multi-segment sends at MTU 9000. */
	st->ports[0].mtu = MTU;
	st->ports[0].tx_multi_seg = true;
	for (size_t i = 0; i < sizeof(payload); i++)
		payload[i] = (uint8_t)(i * 13 + (i >> 9));
}

static int in_use(void) { return ffs_stack_mempool_in_use(st); }

/** `len` bytes of `bytes` as a fresh chain, filled one mbuf after another (~2 KB segments). */
static struct rte_mbuf *chain_of(const uint8_t *bytes, size_t len)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(st->pool);
	CHECK(m != NULL);
	struct rte_mbuf *tail = m;
	CHECK_EQ_INT(ffs_mbuf_append_bytes(st->pool, m, &tail, bytes, len), 0);
	return m;
}

/** An Ethernet + IPv4 + UDP frame from the peer to us carrying payload[0..len), into flat; its length. */
static size_t udp4_frame(size_t len)
{
	struct eth_repr e = { .dst = st->ports[0].mac, .src = PEER_MAC, .ethertype = ETH_TYPE_IPV4 };
	CHECK(eth_repr_emit(&e, flat, sizeof(flat)) == ETH_HDR_LEN);
	uint8_t *l4 = flat + ETH_HDR_LEN + IPV4_HDR_LEN;
	memcpy(l4 + UDP_HDR_LEN, payload, len);
	struct udp_repr u = { .src_port = PEER_PORT, .dst_port = OUR_PORT, .payload_len = (uint16_t)len };
	CHECK(udp_repr_emit(&u, l4, UDP_HDR_LEN + len, PEER_ADDR, OUR_ADDR, &WIRE_CSUM_SOFTWARE) > 0);
	struct ipv4_repr ip = { .src = PEER_ADDR, .dst = OUR_ADDR, .proto = IPV4_PROTO_UDP, .ttl = 64, .id = 77,
				.hdr_len = IPV4_HDR_LEN, .payload_len = (uint16_t)(UDP_HDR_LEN + len) };
	CHECK(ipv4_repr_emit(&ip, flat + ETH_HDR_LEN, IPV4_HDR_LEN, &WIRE_CSUM_SOFTWARE) == IPV4_HDR_LEN);
	return ETH_HDR_LEN + IPV4_HDR_LEN + UDP_HDR_LEN + len;
}

static struct ffs_sock *bound_sock(void)
{
	struct ffs_sock *so;
	CHECK_EQ_INT(ffs_sock_open(st, app, &so), 0);
	so->rcvbuf = 1 << 20;
	CHECK_EQ_INT(ffs_sock_bind(st, so, 0, OUR_PORT), 0);
	return so;
}

/** Reads the frames port 0 sent into frames (at most MAX_FRAMES); how many. */
static unsigned sent_frames(struct rte_mbuf **frames)
{
	return test_port_drain(lc, frames, MAX_FRAMES);
}

TEST(append_helpers_build_and_copy_chains)
{
	int base = in_use();
	struct rte_mbuf *m = chain_of(payload, 9000);
	CHECK_EQ_INT(rte_pktmbuf_pkt_len(m), 9000);
	CHECK(m->nb_segs >= 5); /* 2048 bytes to a segment at most */
	CHECK_MEM(rte_pktmbuf_read(m, 0, 9000, got), payload, 9000);
	/* A copy of a range that starts and ends inside segments, after a header in the first. */
	struct rte_mbuf *c = rte_pktmbuf_alloc(st->pool);
	CHECK(c != NULL);
	CHECK(rte_pktmbuf_append(c, 28) != NULL);
	struct rte_mbuf *tail = c;
	CHECK_EQ_INT(ffs_mbuf_append_from(st->pool, c, &tail, m, 2000, 5000), 0);
	CHECK_EQ_INT(rte_pktmbuf_pkt_len(c), 5028);
	CHECK_MEM(rte_pktmbuf_read(c, 28, 5000, got), payload + 2000, 5000);
	CHECK_EQ_INT(ffs_mbuf_append_from(st->pool, c, &tail, m, 8000, 1001), -EINVAL);
	rte_pktmbuf_free(c);
	rte_pktmbuf_free(m);
	CHECK_EQ_INT(in_use(), base);
}

TEST(a_chained_jumbo_datagram_reaches_its_socket_whole)
{
	int base = in_use();
	struct ffs_sock *so = bound_sock();
	struct ffs_counters before = lc->ctr;
	struct rte_mbuf *m = chain_of(flat, udp4_frame(JUMBO_UDP));
	CHECK(m->nb_segs > 1);
	m->port = st->ports[0].port_id;
	eth_input(lc, &st->ports[0], m);
	udp_signal_flush(lc);
	CHECK_EQ_INT(lc->ctr.udp_delivered - before.udp_delivered, 1);
	CHECK_EQ_INT(lc->ctr.udp_badsum - before.udp_badsum, 0);
	CHECK_EQ_INT(lc->ctr.ip_fragments - before.ip_fragments, 0);
	uint32_t src = 0, dst = 0;
	uint16_t sport = 0;
	bool truncated = true;
	struct iovec iov = { got, sizeof(got) };
	CHECK_EQ_INT(ffs_sock_recvv(st, so, &iov, 1, &src, &sport, &dst, &truncated, false), JUMBO_UDP);
	CHECK(!truncated);
	CHECK_EQ_INT(src, PEER_ADDR);
	CHECK_EQ_INT(sport, PEER_PORT);
	CHECK_MEM(got, payload, JUMBO_UDP);
	CHECK_EQ_INT(ffs_sock_close(st, so), 0);
	CHECK_EQ_INT(in_use(), base);
}

TEST(a_chained_jumbo_datagram_with_a_bad_checksum_is_dropped_and_counted)
{
	int base = in_use();
	struct ffs_sock *so = bound_sock();
	struct ffs_counters before = lc->ctr;
	size_t len = udp4_frame(JUMBO_UDP);
	flat[len - 1] ^= 0x5a; /* in the last segment */
	struct rte_mbuf *m = chain_of(flat, len);
	m->port = st->ports[0].port_id;
	eth_input(lc, &st->ports[0], m);
	udp_signal_flush(lc);
	CHECK_EQ_INT(lc->ctr.udp_badsum - before.udp_badsum, 1);
	CHECK_EQ_INT(lc->ctr.udp_delivered - before.udp_delivered, 0);
	CHECK_EQ_INT(ffs_sock_close(st, so), 0);
	CHECK_EQ_INT(in_use(), base);
}

TEST(a_chained_jumbo_echo_request_is_answered_by_one_jumbo_frame)
{
	sent_frames(NULL);
	int base = in_use();
	struct ffs_counters before = lc->ctr;
	struct eth_repr e = { .dst = st->ports[0].mac, .src = PEER_MAC, .ethertype = ETH_TYPE_IPV4 };
	eth_repr_emit(&e, flat, sizeof(flat));
	uint8_t *msg = flat + ETH_HDR_LEN + IPV4_HDR_LEN;
	const size_t data = JUMBO_UDP; /* ping -s 8972: an 8980-byte message */
	memcpy(msg + ICMP_HDR_LEN, payload, data);
	struct icmp_repr rq = { .type = ICMP_ECHO_REQUEST, .ident = 0x4a4a, .seq = 3, .data = msg + ICMP_HDR_LEN, .data_len = data };
	CHECK(icmp_repr_emit(&rq, msg, ICMP_HDR_LEN + data) > 0);
	struct ipv4_repr ip = { .src = PEER_ADDR, .dst = OUR_ADDR, .proto = IPV4_PROTO_ICMP, .ttl = 64, .id = 9,
				.dont_frag = true, .hdr_len = IPV4_HDR_LEN, .payload_len = (uint16_t)(ICMP_HDR_LEN + data) };
	ipv4_repr_emit(&ip, flat + ETH_HDR_LEN, IPV4_HDR_LEN, &WIRE_CSUM_SOFTWARE);
	struct rte_mbuf *m = chain_of(flat, ETH_HDR_LEN + MTU);
	m->port = st->ports[0].port_id;
	eth_input(lc, &st->ports[0], m);
	CHECK_EQ_INT(lc->ctr.icmp_echo_reply_out - before.icmp_echo_reply_out, 1);
	CHECK_EQ_INT(lc->ctr.ip_fragmented - before.ip_fragmented, 0);
	struct rte_mbuf *frames[MAX_FRAMES];
	CHECK_EQ_INT(sent_frames(frames), 1);
	struct rte_mbuf *f = frames[0];
	CHECK_EQ_INT(rte_pktmbuf_pkt_len(f), ETH_HDR_LEN + MTU);
	CHECK(f->nb_segs > 1);
	const uint8_t *all = rte_pktmbuf_read(f, 0, ETH_HDR_LEN + MTU, got);
	struct ipv4_repr rip;
	CHECK_EQ_INT(ipv4_repr_parse(all + ETH_HDR_LEN, MTU, &WIRE_CSUM_SOFTWARE, &rip), WIRE_OK);
	CHECK_EQ_INT(rip.dst, PEER_ADDR);
	CHECK(!rip.more_frags && rip.frag_offset == 0);
	struct icmp_repr rep;
	CHECK_EQ_INT(icmp_repr_parse(all + ETH_HDR_LEN + IPV4_HDR_LEN, ICMP_HDR_LEN + data, &WIRE_CSUM_SOFTWARE, &rep), WIRE_OK);
	CHECK_EQ_INT(rep.type, ICMP_ECHO_REPLY);
	CHECK_EQ_INT(rep.ident, 0x4a4a);
	CHECK_EQ_INT(rep.data_len, data);
	CHECK_MEM(rep.data, payload, data);
	rte_pktmbuf_free(f);
	CHECK_EQ_INT(in_use(), base);
}

/** Sends payload[0..len) from a socket to the peer and turns the loop once: the frames are on port 0. */
static void socket_send(size_t len)
{
	struct ffs_sock *so;
	CHECK_EQ_INT(ffs_sock_open(st, app, &so), 0);
	so->sndbuf = 1 << 20;
	CHECK_EQ_INT(ffs_sock_bind(st, so, 0, OUR_PORT + 1), 0);
	struct iovec iov[2] = { { payload, 1000 }, { payload + 1000, len - 1000 } }; /* gathered, as sendmsg */
	CHECK_EQ_INT(ffs_sock_sendv(st, so, iov, 2, PEER_ADDR, PEER_PORT), (int)len);
	ffs_stack_poll(st);
	CHECK_EQ_INT(ffs_sock_close(st, so), 0);
}

/** Checks frame f (Ethernet, IPv4, UDP from us to the peer) as one whole datagram of payload[0..len). */
static void check_udp_frame(struct rte_mbuf *f, size_t len)
{
	size_t flen = rte_pktmbuf_pkt_len(f);
	CHECK_EQ_INT(flen, ETH_HDR_LEN + IPV4_HDR_LEN + UDP_HDR_LEN + len);
	const uint8_t *all = rte_pktmbuf_read(f, 0, flen, got);
	struct ipv4_repr ip;
	CHECK_EQ_INT(ipv4_repr_parse(all + ETH_HDR_LEN, flen - ETH_HDR_LEN, &WIRE_CSUM_SOFTWARE, &ip), WIRE_OK);
	CHECK(!ip.more_frags && ip.frag_offset == 0);
	struct udp_repr u;
	CHECK_EQ_INT(udp_repr_parse(all + ETH_HDR_LEN + IPV4_HDR_LEN, UDP_HDR_LEN + len, OUR_ADDR, PEER_ADDR,
				    &WIRE_CSUM_SOFTWARE, &u),
		     WIRE_OK);
	CHECK_EQ_INT(u.payload_len, len);
	CHECK_MEM(all + ETH_HDR_LEN + IPV4_HDR_LEN + UDP_HDR_LEN, payload, len);
}

TEST(a_jumbo_datagram_leaves_unfragmented_as_one_chained_frame)
{
	sent_frames(NULL);
	int base = in_use();
	struct ffs_counters before = lc->ctr;
	socket_send(JUMBO_UDP);
	struct rte_mbuf *frames[MAX_FRAMES];
	CHECK_EQ_INT(sent_frames(frames), 1);
	CHECK(frames[0]->nb_segs > 1);
	check_udp_frame(frames[0], JUMBO_UDP);
	rte_pktmbuf_free(frames[0]);
	CHECK_EQ_INT(lc->ctr.ip_fragmented - before.ip_fragmented, 0);
	CHECK_EQ_INT(lc->ctr.udp_tx - before.udp_tx, 1);
	CHECK_EQ_INT(in_use(), base);
}

/**
 * Reads the fragments port 0 sent (want of them, each at most `fit` bytes of IP packet and, when
 * `one_seg`, in one mbuf), checks each, reassembles them and checks the datagram is payload[0..len).
 */
static void check_fragments(unsigned want, uint32_t fit, bool one_seg, size_t len)
{
	struct rte_mbuf *frames[MAX_FRAMES];
	unsigned n = sent_frames(frames);
	CHECK_EQ_INT(n, want);
	struct rte_mbuf *d = NULL;
	struct ipv4_repr ip;
	for (unsigned i = 0; i < n; i++) {
		struct rte_mbuf *f = frames[i];
		if (one_seg)
			CHECK_EQ_INT(f->nb_segs, 1);
		CHECK(rte_pktmbuf_pkt_len(f) <= ETH_HDR_LEN + fit);
		rte_pktmbuf_adj(f, ETH_HDR_LEN);
		struct ipv4_repr fr;
		CHECK_EQ_INT(ipv4_repr_parse(rte_pktmbuf_mtod(f, const uint8_t *), rte_pktmbuf_pkt_len(f), &WIRE_CSUM_SOFTWARE, &fr),
			     WIRE_OK);
		CHECK_EQ_INT(fr.more_frags, i + 1 < n);
		/* Every fragment but the last is as large as the MTU lets it be. */
		if (fr.more_frags)
			CHECK_EQ_INT(fr.payload_len, (fit - IPV4_HDR_LEN) & ~7u);
		struct rte_mbuf *r = ipv4_reassemble(lc, f, &fr);
		if (i + 1 < n) {
			CHECK(r == NULL);
		} else {
			d = r;
			ip = fr;
		}
	}
	CHECK(d != NULL);
	CHECK_EQ_INT(rte_pktmbuf_pkt_len(d), IPV4_HDR_LEN + UDP_HDR_LEN + len);
	const uint8_t *all = rte_pktmbuf_read(d, 0, rte_pktmbuf_pkt_len(d), got);
	struct udp_repr u;
	CHECK_EQ_INT(udp_repr_parse(all + IPV4_HDR_LEN, UDP_HDR_LEN + len, ip.src, ip.dst, &WIRE_CSUM_SOFTWARE, &u), WIRE_OK);
	CHECK_MEM(all + IPV4_HDR_LEN + UDP_HDR_LEN, payload, len);
	rte_pktmbuf_free(d);
}

TEST(a_65507_byte_datagram_leaves_in_fragments_cut_at_the_jumbo_mtu)
{
	sent_frames(NULL);
	int base = in_use();
	struct ffs_counters before = lc->ctr;
	socket_send(BIG_UDP);
	/* 65515 octets of IP payload, 8976 to a fragment: 8. */
	check_fragments(8, MTU, false, BIG_UDP);
	CHECK_EQ_INT(lc->ctr.ip_fragmented - before.ip_fragmented, 1);
	CHECK_EQ_INT(lc->ctr.ip_frags_out - before.ip_frags_out, 8);
	CHECK_EQ_INT(in_use(), base);
}

TEST(without_multi_segment_sends_a_jumbo_datagram_leaves_in_fragments_of_one_mbuf)
{
	sent_frames(NULL);
	int base = in_use();
	st->ports[0].tx_multi_seg = false;
	struct ffs_counters before = lc->ctr;
	socket_send(JUMBO_UDP);
	uint32_t room = rte_pktmbuf_data_room_size(st->pool) - RTE_PKTMBUF_HEADROOM;
	unsigned step = (room - IPV4_HDR_LEN) & ~7u;
	check_fragments((JUMBO_UDP + UDP_HDR_LEN + step - 1) / step, room, true, JUMBO_UDP);
	CHECK_EQ_INT(lc->ctr.ip_fragmented - before.ip_fragmented, 1);
	st->ports[0].tx_multi_seg = true;
	CHECK_EQ_INT(in_use(), base);
}

TEST(an_ipv6_jumbo_packet_received_as_a_chain_is_parsed_in_its_first_segment)
{
	/* The header walk's bound: a chain whose headers sit in the first segment parses; one whose
	 * extension header runs past the first segment is refused without reading beyond it. */
	static uint8_t pkt[IPV6_HDR_LEN + 8952 + UDP_HDR_LEN];
	memset(pkt, 0, sizeof(pkt));
	pkt[0] = 0x60;
	uint16_t plen = (uint16_t)(sizeof(pkt) - IPV6_HDR_LEN);
	pkt[4] = (uint8_t)(plen >> 8);
	pkt[5] = (uint8_t)plen;
	pkt[6] = IPV6_NH_UDP;
	pkt[7] = 64;
	struct ipv6_repr ip;
	CHECK_EQ_INT(ipv6_repr_parse_head(pkt, 2048, sizeof(pkt), &ip, NULL), WIRE_OK);
	CHECK_EQ_INT(ip.hdr_len, IPV6_HDR_LEN);
	CHECK_EQ_INT(ip.payload_len, plen);
	/* A Destination Options header of 2048 bytes (hdr ext len 255): past a 2048-byte first segment. */
	pkt[6] = IPV6_NH_DSTOPTS;
	pkt[IPV6_HDR_LEN] = IPV6_NH_UDP;
	pkt[IPV6_HDR_LEN + 1] = 255;
	pkt[IPV6_HDR_LEN + 2] = 1; /* PadN */
	CHECK_EQ_INT(ipv6_repr_parse_head(pkt, 2048, sizeof(pkt), &ip, NULL), WIRE_BAD_EXTHDR);
	CHECK_EQ_INT(ipv6_repr_parse_head(pkt, 2, sizeof(pkt), &ip, NULL), WIRE_TRUNCATED);
}

#define JUMBO_UDP6 (MTU - IPV6_HDR_LEN - UDP_HDR_LEN) /* 8952 */
static const struct ip6_addr PEER_LL = { { 0xfe, 0x80, [15] = 0x02 } };

/** Our link-local address (port 0's, from its MAC). */
static struct ip6_addr our_ll(void)
{
	struct ip6_addr a;
	CHECK(addr6_linklocal(st, 0, &a));
	return a;
}

/** An AF_INET6 socket bound to [::]:port. */
static struct ffs_sock *bound_sock6(uint16_t port)
{
	struct ffs_sock *so;
	CHECK_EQ_INT(ffs_sock_open(st, app, &so), 0);
	ffs_sock_set_family6(st, so);
	so->rcvbuf = 1 << 20;
	so->sndbuf = 1 << 20;
	static const uint8_t any[16];
	CHECK_EQ_INT(ffs_sock_bind6(st, so, any, 0, port), 0);
	return so;
}

TEST(a_chained_ipv6_jumbo_datagram_reaches_its_socket_whole)
{
	int base = in_use();
	struct ffs_sock *so = bound_sock6(OUR_PORT);
	struct ffs_counters before = lc->ctr;
	struct ip6_addr ours = our_ll();
	struct eth_repr e = { .dst = st->ports[0].mac, .src = PEER_MAC, .ethertype = ETH_TYPE_IPV6 };
	eth_repr_emit(&e, flat, sizeof(flat));
	uint8_t *l4 = flat + ETH_HDR_LEN + IPV6_HDR_LEN;
	memcpy(l4 + UDP_HDR_LEN, payload, JUMBO_UDP6);
	struct udp_repr u = { .src_port = PEER_PORT, .dst_port = OUR_PORT, .payload_len = JUMBO_UDP6 };
	CHECK(udp6_repr_emit(&u, l4, UDP_HDR_LEN + JUMBO_UDP6, &PEER_LL, &ours, &WIRE_CSUM_SOFTWARE) > 0);
	struct ipv6_repr ip = { .src = PEER_LL, .dst = ours, .next_header = IPV6_NH_UDP, .hop_limit = 64,
				.payload_len = UDP_HDR_LEN + JUMBO_UDP6 };
	ipv6_repr_emit(&ip, flat + ETH_HDR_LEN, IPV6_HDR_LEN);
	struct rte_mbuf *m = chain_of(flat, ETH_HDR_LEN + MTU);
	CHECK(m->nb_segs > 1);
	m->port = st->ports[0].port_id;
	eth_input(lc, &st->ports[0], m);
	udp_signal_flush(lc);
	CHECK_EQ_INT(lc->ctr.ip6_badlen - before.ip6_badlen, 0);
	CHECK_EQ_INT(lc->ctr.udp_delivered - before.udp_delivered, 1);
	struct ffs_src6 src;
	uint16_t sport = 0;
	bool truncated = true;
	struct iovec iov = { got, sizeof(got) };
	CHECK_EQ_INT(ffs_sock_recvv6(st, so, &iov, 1, &src, &sport, &truncated, false), JUMBO_UDP6);
	CHECK(!truncated);
	CHECK_MEM(src.addr, PEER_LL.b, 16);
	CHECK_EQ_INT(sport, PEER_PORT);
	CHECK_MEM(got, payload, JUMBO_UDP6);
	CHECK_EQ_INT(ffs_sock_close(st, so), 0);
	CHECK_EQ_INT(in_use(), base);
}

/** Sends payload[0..len) from an AF_INET6 socket to the peer's link-local address and turns the loop once. */
static void socket_send6(size_t len)
{
	struct ffs_sock *so = bound_sock6(OUR_PORT + 2);
	struct iovec iov = { payload, len };
	CHECK_EQ_INT(ffs_sock_sendv6(st, so, &iov, 1, NULL, &PEER_LL, 1, PEER_PORT), (int)len);
	ffs_stack_poll(st);
	CHECK_EQ_INT(ffs_sock_close(st, so), 0);
}

TEST(an_ipv6_jumbo_datagram_leaves_unfragmented_as_one_chained_frame)
{
	CHECK_EQ_INT(nd6_add_static(lc, 0, &PEER_LL, &PEER_MAC), 0);
	sent_frames(NULL);
	int base = in_use();
	struct ffs_counters before = lc->ctr;
	socket_send6(JUMBO_UDP6);
	struct rte_mbuf *frames[MAX_FRAMES];
	CHECK_EQ_INT(sent_frames(frames), 1);
	struct rte_mbuf *f = frames[0];
	CHECK(f->nb_segs > 1);
	CHECK_EQ_INT(rte_pktmbuf_pkt_len(f), ETH_HDR_LEN + MTU);
	const uint8_t *all = rte_pktmbuf_read(f, 0, ETH_HDR_LEN + MTU, got);
	struct ipv6_repr ip;
	CHECK_EQ_INT(ipv6_repr_parse(all + ETH_HDR_LEN, MTU, &ip, NULL), WIRE_OK);
	CHECK(!ip.fragment);
	CHECK_EQ_INT(ip.next_header, IPV6_NH_UDP);
	struct udp_repr u;
	CHECK_EQ_INT(udp6_repr_parse(all + ETH_HDR_LEN + IPV6_HDR_LEN, UDP_HDR_LEN + JUMBO_UDP6, &ip.src, &ip.dst,
				     &WIRE_CSUM_SOFTWARE, &u),
		     WIRE_OK);
	CHECK_MEM(all + ETH_HDR_LEN + IPV6_HDR_LEN + UDP_HDR_LEN, payload, JUMBO_UDP6);
	rte_pktmbuf_free(f);
	CHECK_EQ_INT(lc->ctr.ip6_fragmented - before.ip6_fragmented, 0);
	CHECK_EQ_INT(in_use(), base);
}

TEST(a_65527_byte_ipv6_datagram_leaves_in_chained_fragments_cut_at_the_jumbo_mtu)
{
	sent_frames(NULL);
	int base = in_use();
	struct ffs_counters before = lc->ctr;
	const size_t len = FFS_UDP6_MAX_PAYLOAD;
	socket_send6(len);
	struct rte_mbuf *frames[MAX_FRAMES];
	unsigned n = sent_frames(frames);
	/* 65535 octets of payload, 8944 to a fragment (9000 - 40 - 8, a multiple of 8): 8. */
	CHECK_EQ_INT(n, 8);
	CHECK_EQ_INT(lc->ctr.ip6_frags_out - before.ip6_frags_out, 8);
	struct rte_mbuf *d = NULL;
	struct ipv6_repr ip;
	for (unsigned i = 0; i < n; i++) {
		struct rte_mbuf *f = frames[i];
		CHECK(rte_pktmbuf_pkt_len(f) <= ETH_HDR_LEN + MTU);
		rte_pktmbuf_adj(f, ETH_HDR_LEN);
		/* Parsed as input does: the headers in the first segment, the rest in the chain. */
		CHECK_EQ_INT(ipv6_repr_parse_head(rte_pktmbuf_mtod(f, const uint8_t *), rte_pktmbuf_data_len(f),
						  rte_pktmbuf_pkt_len(f), &ip, NULL),
			     WIRE_OK);
		CHECK(ip.fragment);
		CHECK_EQ_INT(ip.more_frags, i + 1 < n);
		if (ip.more_frags)
			CHECK_EQ_INT(ip.payload_len, MTU - IPV6_HDR_LEN);
		struct rte_mbuf *r = ipv6_reassemble(lc, f, &ip);
		if (i + 1 < n)
			CHECK(r == NULL);
		else
			d = r;
	}
	CHECK(d != NULL);
	CHECK_EQ_INT(rte_pktmbuf_pkt_len(d), IPV6_HDR_LEN + UDP_HDR_LEN + len);
	const uint8_t *all = rte_pktmbuf_read(d, 0, rte_pktmbuf_pkt_len(d), got);
	struct udp_repr u;
	CHECK_EQ_INT(udp6_repr_parse(all + IPV6_HDR_LEN, UDP_HDR_LEN + len, &ip.src, &ip.dst, &WIRE_CSUM_SOFTWARE, &u), WIRE_OK);
	CHECK_MEM(all + IPV6_HDR_LEN + UDP_HDR_LEN, payload, len);
	rte_pktmbuf_free(d);
	CHECK_EQ_INT(in_use(), base);
}

TEST(a_running_port_refuses_a_jumbo_mtu_its_device_was_not_started_for)
{
	/* Port 0 started at MTU 1500: net_ring's RX scatter was left off, so frames must fit one mbuf. */
	uint16_t port_id = st->ports[0].port_id;
	CHECK_EQ_INT(ffs_stack_port_set_mtu(st, port_id, 9000), -ERANGE);
	CHECK_EQ_INT(st->ports[0].mtu, MTU); /* unchanged (this program's own setting) */
	CHECK_EQ_INT(ffs_stack_port_set_mtu(st, port_id, 2034), 0);
	CHECK_EQ_INT(st->ports[0].mtu, 2034);
	CHECK_EQ_INT(ffs_stack_port_set_mtu(st, port_id, 2035), -ERANGE);
	st->ports[0].mtu = MTU;
}

int main(int argc, char **argv)
{
	setup();
	int rc = test__main(argc, argv, __FILE__);
	return test_ring_stack_stop(st, rc);
}
