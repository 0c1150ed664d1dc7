/*
 * UDP over IPv4 and over IPv6 through one path each way, on an inline stack whose port 0 is a net_ring
 * device (10.99.0.2/24 and fd00:99::2/64) that this thread drives, the peer (10.99.0.1, fd00:99::1)
 * at a static neighbour entry of each family.
 *
 * Send: bursts of datagrams through ff_sendto (ff_send_dgram), drained by udp_tx_drain and read back
 * from the ring: each a frame to the peer's MAC with a valid IP header and UDP checksum, from the
 * port's address (IPv6: chosen by source selection). Receive: bursts of frames from the peer put on
 * the ring, turned through the stack's input, and drained by ff_dgram_recv_packed (the dgram drop-in's
 * drain, or ff_recvmmsg) with their sources; lent in place (ff_dgram_lend), a source's scope only
 * when it is link-local. Bursts to several destinations, each to its own next hop or socket. The cases of one family and direction run alone by name
 * (`udp_family_test send_udp6`): what docs/benchmarks.md's instruction counts per datagram run under
 * callgrind.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>

#include "posix/ff_api.h"
#include "posix/ff_dgram.h"
#include "stack/iface/iface.h"
#include "stack/lcore/lcore.h"
#include "stack/stack.h"
#include "stack/wire/eth.h"
#include "stack/wire/ipv4.h"
#include "stack/wire/ipv6.h"
#include "stack/wire/udp.h"
#include "test/stack/harness.h"
#include "test/stack/stack_env.h"

/** Datagrams per case: ROUNDS bursts of FFS_BURST. */
#define ROUNDS 64
#define PAYLOAD 64
#define OUR_PORT 7
#define PEER_PORT 9

static const struct eth_addr PEER_MAC = { { 0x02, 0, 0, 0, 0x99, 0x01 } };
static const uint32_t OUR4 = 0x0a630002u, PEER4 = 0x0a630001u; /* 10.99.0.2, 10.99.0.1 */
static struct ip6_addr OUR6, PEER6;
static struct ffs_stack *st;
static struct ffs_lcore *lc;

static void setup(void)
{
	const char *port = "[port0]\naddr = 10.99.0.2\nnetmask = 255.255.255.0\naddr6[] = fd00:99::2/64\n"
			   "arp[] = 10.99.0.1 02:00:00:00:99:01\n";
	if (test_ff_init_conf("udp_family_test", "lcore_mask = 0x1\nvdev[] = net_ring0\n", port) != 0 || !(st = ffs_stack_current())) {
		fprintf(stderr, "udp_family_test: ff_init failed\n");
		exit(2);
	}
	lc = st->lcores[0];
	ip6_parse("fd00:99::2", &OUR6);
	ip6_parse("fd00:99::1", &PEER6);
	lc->now = rte_rdtsc();
	if (nd6_add_static(lc, 0, &PEER6, &PEER_MAC) != 0) {
		fprintf(stderr, "udp_family_test: static neighbour entry refused\n");
		exit(2);
	}
	test_port_drain(lc, NULL, 0);
}

/** A non-blocking socket of `family` bound to the wildcard address at `port`. */
static int bound(int family, uint16_t port)
{
	int s = ff_socket(family, SOCK_DGRAM | SOCK_NONBLOCK, 0);
	CHECK(s >= 0);
	struct sockaddr_in a4 = { .sin_family = AF_INET, .sin_port = htons(port) };
	struct sockaddr_in6 a6 = { .sin6_family = AF_INET6, .sin6_port = htons(port) };
	int rc = family == AF_INET6 ? ff_bind(s, (struct sockaddr *)&a6, sizeof(a6)) : ff_bind(s, (struct sockaddr *)&a4, sizeof(a4));
	CHECK_EQ_INT(rc, 0);
	return s;
}

/** Sends ROUNDS bursts to the peer from a `family` socket, through ff_sendto or with `mmsg` one
 *  ff_sendmmsg per burst; checks every frame that left. */
static void send_case(int family, bool mmsg)
{
	static struct mmsghdr msgs[FFS_BURST];
	struct iovec iov;
	bool v6 = family == AF_INET6;
	int s = bound(family, OUR_PORT);
	int base = ffs_stack_mempool_in_use(st);
	uint8_t payload[PAYLOAD];
	memset(payload, 0x5a, sizeof(payload));
	struct sockaddr_in to4 = { .sin_family = AF_INET, .sin_port = htons(PEER_PORT), .sin_addr.s_addr = htonl(PEER4) };
	struct sockaddr_in6 to6 = { .sin6_family = AF_INET6, .sin6_port = htons(PEER_PORT) };
	memcpy(&to6.sin6_addr, PEER6.b, 16);
	struct rte_mbuf *frames[FFS_BURST];
	iov = (struct iovec){ payload, sizeof(payload) };
	for (unsigned i = 0; i < FFS_BURST; i++)
		msgs[i] = (struct mmsghdr){ .msg_hdr = { .msg_name = v6 ? (void *)&to6 : (void *)&to4, .msg_namelen = v6 ? sizeof(to6) : sizeof(to4),
							 .msg_iov = &iov, .msg_iovlen = 1 } };
	for (unsigned r = 0; r < ROUNDS; r++) {
		if (mmsg)
			CHECK_EQ_INT(ff_sendmmsg(s, msgs, FFS_BURST, 0), FFS_BURST);
		for (unsigned i = 0; i < FFS_BURST && !mmsg; i++) {
			ssize_t n = v6 ? ff_sendto(s, payload, sizeof(payload), 0, (struct sockaddr *)&to6, sizeof(to6))
				       : ff_sendto(s, payload, sizeof(payload), 0, (struct sockaddr *)&to4, sizeof(to4));
			CHECK_EQ_INT((int)n, PAYLOAD);
		}
		CHECK_EQ_INT((int)udp_tx_drain(lc), FFS_BURST);
		CHECK_EQ_INT((int)test_port_drain(lc, frames, FFS_BURST), FFS_BURST);
		for (unsigned i = 0; i < FFS_BURST; i++) {
			const uint8_t *f = rte_pktmbuf_mtod(frames[i], const uint8_t *);
			size_t len = rte_pktmbuf_data_len(frames[i]);
			struct eth_repr eth;
			struct udp_repr u;
			CHECK_EQ_INT(eth_repr_parse(f, len, &eth), WIRE_OK);
			CHECK(eth_addr_eq(&eth.dst, &PEER_MAC));
			CHECK(eth_addr_eq(&eth.src, &st->ports[0].mac));
			if (v6) {
				struct ipv6_repr ip;
				CHECK_EQ_INT(eth.ethertype, ETH_TYPE_IPV6);
				CHECK_EQ_INT(ipv6_repr_parse(f + ETH_HDR_LEN, len - ETH_HDR_LEN, &ip, NULL), WIRE_OK);
				CHECK(ip6_eq(&ip.src, &OUR6));
				CHECK(ip6_eq(&ip.dst, &PEER6));
				CHECK_EQ_INT(ip.next_header, IPV6_NH_UDP);
				CHECK_EQ_INT(udp6_repr_parse(f + ETH_HDR_LEN + ip.hdr_len, ip.payload_len, &ip.src, &ip.dst, &WIRE_CSUM_SOFTWARE, &u), WIRE_OK);
			} else {
				struct ipv4_repr ip;
				CHECK_EQ_INT(eth.ethertype, ETH_TYPE_IPV4);
				CHECK_EQ_INT(ipv4_repr_parse(f + ETH_HDR_LEN, len - ETH_HDR_LEN, &WIRE_CSUM_SOFTWARE, &ip), WIRE_OK);
				CHECK_EQ_INT((int)ip.src, (int)OUR4);
				CHECK_EQ_INT((int)ip.dst, (int)PEER4);
				CHECK_EQ_INT(udp_repr_parse(f + ETH_HDR_LEN + ip.hdr_len, ip.payload_len, ip.src, ip.dst, &WIRE_CSUM_SOFTWARE, &u), WIRE_OK);
			}
			CHECK_EQ_INT(u.src_port, OUR_PORT);
			CHECK_EQ_INT(u.dst_port, PEER_PORT);
			CHECK_EQ_INT(u.payload_len, PAYLOAD);
			rte_pktmbuf_free(frames[i]);
		}
	}
	ff_close(s);
	CHECK_EQ_INT(test_pool_settles_at(st, base), base);
}

/** A frame from the peer's PEER_PORT to `dst6` (IPv6) or our address (IPv4) at OUR_PORT with datagram
 *  number `seq`, into a fresh mbuf. */
static struct rte_mbuf *peer_frame_from(bool v6, const struct ip6_addr *src6, const struct ip6_addr *dst6, unsigned seq)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(st->pool);
	CHECK(m != NULL);
	/* The receiving port, as a device's RX sets it (net_ring passes the mbuf on as it is). */
	m->port = st->ports[0].port_id;
	size_t ip_len = v6 ? IPV6_HDR_LEN : IPV4_HDR_LEN;
	size_t len = ETH_HDR_LEN + ip_len + UDP_HDR_LEN + PAYLOAD;
	uint8_t *f = (uint8_t *)rte_pktmbuf_append(m, (uint16_t)len);
	CHECK(f != NULL);
	struct eth_repr eth = { .dst = st->ports[0].mac, .src = PEER_MAC, .ethertype = v6 ? ETH_TYPE_IPV6 : ETH_TYPE_IPV4 };
	eth_repr_emit(&eth, f, len);
	uint8_t *udp = f + ETH_HDR_LEN + ip_len;
	for (unsigned j = 0; j < PAYLOAD; j++)
		udp[UDP_HDR_LEN + j] = (uint8_t)(seq + j);
	struct udp_repr u = { .src_port = PEER_PORT, .dst_port = OUR_PORT, .payload_len = PAYLOAD };
	if (v6) {
		struct ipv6_repr ip = { .src = *src6, .dst = *dst6, .next_header = IPV6_NH_UDP, .hop_limit = 64, .payload_len = UDP_HDR_LEN + PAYLOAD };
		ipv6_repr_emit(&ip, f + ETH_HDR_LEN, ip_len);
		udp6_repr_emit(&u, udp, UDP_HDR_LEN + PAYLOAD, src6, dst6, &WIRE_CSUM_SOFTWARE);
	} else {
		struct ipv4_repr ip = { .src = PEER4, .dst = OUR4, .proto = IPV4_PROTO_UDP, .ttl = 64, .hdr_len = IPV4_HDR_LEN, .payload_len = UDP_HDR_LEN + PAYLOAD };
		ipv4_repr_emit(&ip, f + ETH_HDR_LEN, ip_len, &WIRE_CSUM_SOFTWARE);
		udp_repr_emit(&u, udp, UDP_HDR_LEN + PAYLOAD, PEER4, OUR4, &WIRE_CSUM_SOFTWARE);
	}
	return m;
}

static struct rte_mbuf *peer_frame_to(bool v6, const struct ip6_addr *dst6, unsigned seq)
{
	return peer_frame_from(v6, &PEER6, dst6, seq);
}

static struct rte_mbuf *peer_frame(bool v6, unsigned seq)
{
	return peer_frame_to(v6, &OUR6, seq);
}

/** Receives ROUNDS bursts from the peer on a `family` socket through the packed drain, or with `mmsg`
 *  through ff_recvmmsg. */
static void receive_case(int family, bool mmsg)
{
	static uint8_t buf[64 * 1024];
	static struct ff_dgram_desc desc[FFS_BURST];
	static struct mmsghdr msgs[FFS_BURST];
	static struct iovec iov[FFS_BURST];
	static struct sockaddr_in6 names[FFS_BURST]; /* room for either family's */
	bool v6 = family == AF_INET6;
	int s = bound(family, OUR_PORT);
	int base = ffs_stack_mempool_in_use(st);
	for (unsigned r = 0; r < ROUNDS; r++) {
		struct rte_mbuf *burst[FFS_BURST];
		for (unsigned i = 0; i < FFS_BURST; i++)
			burst[i] = peer_frame(v6, r * FFS_BURST + i);
		/* The ring's transmit side is its receive side: the stack's next turn reads these. */
		CHECK_EQ_INT(rte_eth_tx_burst(st->ports[0].port_id, 0, burst, FFS_BURST), FFS_BURST);
		for (int k = 0; k < 100 && ffs_stack_poll(st); k++)
			;
		if (mmsg) {
			for (unsigned i = 0; i < FFS_BURST; i++) {
				iov[i] = (struct iovec){ buf + i * 128, 128 };
				msgs[i] = (struct mmsghdr){ .msg_hdr = { .msg_name = &names[i], .msg_namelen = sizeof(names[i]), .msg_iov = &iov[i], .msg_iovlen = 1 } };
			}
			CHECK_EQ_INT(ff_recvmmsg(s, msgs, FFS_BURST, MSG_DONTWAIT, NULL), FFS_BURST);
			for (unsigned i = 0; i < FFS_BURST; i++) {
				CHECK_EQ_INT((int)msgs[i].msg_len, PAYLOAD);
				if (v6) {
					CHECK_EQ_INT((int)msgs[i].msg_hdr.msg_namelen, (int)sizeof(struct sockaddr_in6));
					CHECK(memcmp(&names[i].sin6_addr, PEER6.b, 16) == 0);
					CHECK_EQ_INT(ntohs(names[i].sin6_port), PEER_PORT);
				} else {
					const struct sockaddr_in *n4 = (const struct sockaddr_in *)&names[i];
					CHECK_EQ_INT((int)ntohl(n4->sin_addr.s_addr), (int)PEER4);
					CHECK_EQ_INT(ntohs(n4->sin_port), PEER_PORT);
				}
				CHECK_EQ_INT(buf[i * 128 + 1], (uint8_t)(r * FFS_BURST + i + 1));
			}
			continue;
		}
		CHECK_EQ_INT(ff_dgram_recv_packed(s, buf, sizeof(buf), FFS_BURST, desc), FFS_BURST);
		for (unsigned i = 0; i < FFS_BURST; i++) {
			CHECK_EQ_INT((int)desc[i].len, PAYLOAD);
			CHECK_EQ_INT((int)(desc[i].port & 0xffff), PEER_PORT);
			CHECK_EQ_INT(!!(desc[i].port & FF_DGRAM_V6), v6);
			if (v6)
				CHECK(memcmp(buf + desc[i].offset - desc[i].addr, PEER6.b, 16) == 0);
			else
				CHECK_EQ_INT((int)desc[i].addr, (int)PEER4);
			CHECK_EQ_INT(buf[desc[i].offset + 1], (uint8_t)(r * FFS_BURST + i + 1));
		}
	}
	CHECK_EQ_INT(ff_dgram_recv_packed(s, buf, sizeof(buf), FFS_BURST, desc), -EAGAIN);
	ff_close(s);
	CHECK_EQ_INT(test_pool_settles_at(st, base), base);
}

/*
 * One burst to several destinations in turn — two peers at different MACs, the port's own address
 * (looped back) and the peers again — leaves each datagram to its own next hop from its own source:
 * ipv6_output's burst memo holds one destination at a time.
 */
TEST(burst_to_several_destinations)
{
	static const struct eth_addr PEER2_MAC = { { 0x02, 0, 0, 0, 0x99, 0x03 } };
	struct ip6_addr peer2;
	ip6_parse("fd00:99::3", &peer2);
	CHECK_EQ_INT(nd6_add_static(lc, 0, &peer2, &PEER2_MAC), 0);
	int s = bound(AF_INET6, OUR_PORT), r = bound(AF_INET6, PEER_PORT);
	int base = ffs_stack_mempool_in_use(st);
	const struct ip6_addr *dsts[] = { &PEER6, &PEER6, &peer2, &OUR6, &PEER6, &peer2, &peer2, &OUR6 };
	enum { N = sizeof(dsts) / sizeof(dsts[0]) };
	uint8_t payload[PAYLOAD] = { 0 };
	for (unsigned i = 0; i < N; i++) {
		struct sockaddr_in6 to = { .sin6_family = AF_INET6, .sin6_port = htons(PEER_PORT) };
		memcpy(&to.sin6_addr, dsts[i]->b, 16);
		payload[0] = (uint8_t)i;
		CHECK_EQ_INT((int)ff_sendto(s, payload, sizeof(payload), 0, (struct sockaddr *)&to, sizeof(to)), PAYLOAD);
	}
	CHECK_EQ_INT((int)udp_tx_drain(lc), N);
	struct rte_mbuf *frames[N];
	CHECK_EQ_INT((int)test_port_drain(lc, frames, N), N - 2);
	unsigned f = 0;
	for (unsigned i = 0; i < N; i++) {
		if (dsts[i] == &OUR6)
			continue;
		const uint8_t *p = rte_pktmbuf_mtod(frames[f], const uint8_t *);
		struct eth_repr eth;
		struct ipv6_repr ip;
		CHECK_EQ_INT(eth_repr_parse(p, rte_pktmbuf_data_len(frames[f]), &eth), WIRE_OK);
		CHECK(eth_addr_eq(&eth.dst, dsts[i] == &PEER6 ? &PEER_MAC : &PEER2_MAC));
		CHECK_EQ_INT(ipv6_repr_parse(p + ETH_HDR_LEN, rte_pktmbuf_data_len(frames[f]) - ETH_HDR_LEN, &ip, NULL), WIRE_OK);
		CHECK(ip6_eq(&ip.dst, dsts[i]));
		CHECK(ip6_eq(&ip.src, &OUR6));
		CHECK_EQ_INT(p[ETH_HDR_LEN + IPV6_HDR_LEN + UDP_HDR_LEN], (int)i);
		rte_pktmbuf_free(frames[f++]);
	}
	/* The two to ourselves come back through the loopback queue, from our address. */
	for (int k = 0; k < 100 && ffs_stack_poll(st); k++)
		;
	uint8_t got[PAYLOAD];
	struct sockaddr_in6 from;
	socklen_t flen = sizeof(from);
	CHECK_EQ_INT((int)ff_recvfrom(r, got, sizeof(got), 0, (struct sockaddr *)&from, &flen), PAYLOAD);
	CHECK_EQ_INT(got[0], 3);
	CHECK(memcmp(&from.sin6_addr, OUR6.b, 16) == 0);
	CHECK_EQ_INT((int)ff_recvfrom(r, got, sizeof(got), 0, (struct sockaddr *)&from, &flen), PAYLOAD);
	CHECK_EQ_INT(got[0], 7);
	ff_close(s);
	ff_close(r);
	CHECK_EQ_INT(test_pool_settles_at(st, base), base);
}

/*
 * One burst from the peer to our address and to others on the link, in turn: only ours are delivered,
 * the others dropped and counted — ipv6_input's memo of its last destination holds one at a time.
 */
TEST(receive_burst_to_several_destinations)
{
	static uint8_t buf[4096];
	static struct ff_dgram_desc desc[16];
	struct ip6_addr other, other2;
	ip6_parse("fd00:99::7", &other);
	ip6_parse("fd00:99::8", &other2);
	const struct ip6_addr *dsts[] = { &OUR6, &other, &other, &OUR6, &OUR6, &other2, &OUR6, &other };
	enum { N = sizeof(dsts) / sizeof(dsts[0]) };
	int s = bound(AF_INET6, OUR_PORT);
	int base = ffs_stack_mempool_in_use(st);
	uint64_t not_ours = lc->ctr.ip6_not_ours;
	struct rte_mbuf *burst[N];
	for (unsigned i = 0; i < N; i++)
		burst[i] = peer_frame_to(true, dsts[i], i);
	CHECK_EQ_INT(rte_eth_tx_burst(st->ports[0].port_id, 0, burst, N), N);
	for (int k = 0; k < 100 && ffs_stack_poll(st); k++)
		;
	CHECK_EQ_INT(ff_dgram_recv_packed(s, buf, sizeof(buf), 16, desc), 4);
	static const unsigned delivered[] = { 0, 3, 4, 6 };
	for (unsigned i = 0; i < 4; i++)
		CHECK_EQ_INT(buf[desc[i].offset], (uint8_t)delivered[i]);
	CHECK_EQ_INT((int)(lc->ctr.ip6_not_ours - not_ours), 4);
	ff_close(s);
	CHECK_EQ_INT(test_pool_settles_at(st, base), base);
}

/*
 * Datagrams lent in place (ff_dgram_lend, the dgram drop-in's receive) report a source's scope as
 * Linux and node:dgram do: a link-local source with its link's (port 0: scope id 1), any other with none.
 */
TEST(lent_sources_carry_a_scope_only_when_link_local)
{
	const void *pool;
	size_t span;
	CHECK_EQ_INT(ff_dgram_pool_span(&pool, &span), 0);
	struct ip6_addr ll;
	ip6_parse("fe80::99:1", &ll);
	int s = bound(AF_INET6, OUR_PORT);
	int base = ffs_stack_mempool_in_use(st);
	struct rte_mbuf *burst[2] = { peer_frame_from(true, &PEER6, &OUR6, 1), peer_frame_from(true, &ll, &OUR6, 2) };
	CHECK_EQ_INT(rte_eth_tx_burst(st->ports[0].port_id, 0, burst, 2), 2);
	for (int k = 0; k < 100 && ffs_stack_poll(st); k++)
		;
	static uint8_t buf[4096];
	struct ff_dgram_desc desc[4];
	void *lent[4];
	struct ff_dgram_loan loan;
	CHECK_EQ_INT(ff_dgram_lend(s, pool, span, buf, sizeof(buf), 4, desc, lent, &loan), 2);
	const struct ip6_addr *srcs[] = { &PEER6, &ll };
	for (unsigned i = 0; i < 2; i++) {
		CHECK(desc[i].port & FF_DGRAM_V6);
		CHECK(!(desc[i].port & FF_DGRAM_COPIED));
		CHECK(memcmp((const uint8_t *)pool + desc[i].offset - desc[i].addr, srcs[i]->b, 16) == 0);
	}
	CHECK_EQ_INT((int)(desc[0].port >> 24), 0);
	CHECK_EQ_INT((int)(desc[1].port >> 24), 1);
	ff_dgram_return(&loan, lent, 2);
	ff_close(s);
	CHECK_EQ_INT(test_pool_settles_at(st, base), base);
}

TEST(send_udp4)
{
	send_case(AF_INET, false);
}

TEST(send_udp6)
{
	send_case(AF_INET6, false);
}

TEST(sendmmsg_udp4)
{
	send_case(AF_INET, true);
}

TEST(sendmmsg_udp6)
{
	send_case(AF_INET6, true);
}

/*
 * ff_sendmmsg from an AF_INET6 socket sends IPv6 destinations in one burst and the others alone, in
 * order: two peers, a v4-mapped peer (over IPv4), then a port 0 that ends the call with the count sent.
 */
TEST(sendmmsg_udp6_mixed_destinations)
{
	static const struct eth_addr PEER2_MAC = { { 0x02, 0, 0, 0, 0x99, 0x03 } };
	struct ip6_addr peer2;
	ip6_parse("fd00:99::3", &peer2);
	lc->now = rte_rdtsc();
	CHECK_EQ_INT(nd6_add_static(lc, 0, &peer2, &PEER2_MAC), 0);
	int s = bound(AF_INET6, OUR_PORT);
	int base = ffs_stack_mempool_in_use(st);
	struct sockaddr_in6 to[5];
	const char *dsts[] = { "fd00:99::1", "fd00:99::3", "::ffff:10.99.0.1", "fd00:99::1", "fd00:99::3" };
	uint8_t payload[5][8];
	struct iovec iov[5];
	struct mmsghdr msgs[5];
	for (unsigned i = 0; i < 5; i++) {
		to[i] = (struct sockaddr_in6){ .sin6_family = AF_INET6, .sin6_port = htons(i == 4 ? 0 : PEER_PORT) };
		CHECK_EQ_INT(inet_pton(AF_INET6, dsts[i], &to[i].sin6_addr), 1);
		memset(payload[i], (int)i, sizeof(payload[i]));
		iov[i] = (struct iovec){ payload[i], sizeof(payload[i]) };
		msgs[i] = (struct mmsghdr){ .msg_hdr = { .msg_name = &to[i], .msg_namelen = sizeof(to[i]), .msg_iov = &iov[i], .msg_iovlen = 1 } };
	}
	CHECK_EQ_INT(ff_sendmmsg(s, msgs, 5, 0), 4);
	CHECK_EQ_INT(ff_sendmmsg(s, msgs + 4, 1, 0), -1);
	CHECK_EQ_INT(errno, EINVAL);
	for (unsigned i = 0; i < 4; i++)
		CHECK_EQ_INT((int)msgs[i].msg_len, 8);
	CHECK_EQ_INT((int)udp_tx_drain(lc), 4);
	struct rte_mbuf *frames[4];
	CHECK_EQ_INT((int)test_port_drain(lc, frames, 4), 4);
	static const struct eth_addr *const macs[] = { &PEER_MAC, &PEER2_MAC, &PEER_MAC, &PEER_MAC };
	for (unsigned i = 0; i < 4; i++) {
		const uint8_t *f = rte_pktmbuf_mtod(frames[i], const uint8_t *);
		struct eth_repr eth;
		CHECK_EQ_INT(eth_repr_parse(f, rte_pktmbuf_data_len(frames[i]), &eth), WIRE_OK);
		CHECK(eth_addr_eq(&eth.dst, macs[i]));
		CHECK_EQ_INT(eth.ethertype, i == 2 ? ETH_TYPE_IPV4 : ETH_TYPE_IPV6);
		size_t ip_len = i == 2 ? IPV4_HDR_LEN : IPV6_HDR_LEN;
		CHECK_EQ_INT(f[ETH_HDR_LEN + ip_len + UDP_HDR_LEN], (int)i);
		rte_pktmbuf_free(frames[i]);
	}
	ff_close(s);
	CHECK_EQ_INT(test_pool_settles_at(st, base), base);
}

TEST(receive_udp4)
{
	receive_case(AF_INET, false);
}

TEST(receive_udp6)
{
	receive_case(AF_INET6, false);
}

TEST(recvmmsg_udp4)
{
	receive_case(AF_INET, true);
}

TEST(recvmmsg_udp6)
{
	receive_case(AF_INET6, true);
}

int main(int argc, char **argv)
{
	setup();
	int rc = test__main(argc, argv, __FILE__);
	test_port_drain(lc, NULL, 0);
	ff_exit();
	return rc;
}
