/*
 * Flow affinity on a stack with two data-path lcores (1 and 2, floating over the machine's CPUs)
 * and one port with a single RX queue (a net_ring device made from rings the test owns: it feeds
 * frames into the RX ring, and gives the port a TX queue per lcore, or one for both). The lcore
 * with the RX queue dispatches every frame to the lcore its Toeplitz hash lands on
 * (stack/phy/rss.h), as RSS would.
 *
 * Cases: the hash equals the published RSS verification values, IPv4 and IPv6; each flow, udp4 or
 * udp6, is processed on lcore hash % 2 and a reusePort group gives it to the member homed there
 * (udp.cross_lcore stays 0); a socket homed on the other lcore counts what crosses, and so does a
 * reusePort group with no member on a lcore, whose flows there the flow hash spreads over all
 * members; a fragmented datagram, IPv4 or IPv6, is dispatched by its IP pair, reassembled once and
 * delivered once to the member homed on its 4-tuple's lcore; connect picks automatic ports whose
 * replies hash to the socket's home lcore, over IPv4 and IPv6; on a port with a single TX queue too,
 * both lcores send through it, udp4 and udp6; on a port with an RX queue per lcore, IPv6 fragments that arrive on
 * the wrong lcore are steered to their pair's and counted once. On a VLAN port, frames that keep
 * their 802.1Q tag (no strip offload) are dispatched as the datagrams they carry.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>
#include <rte_eth_ring.h>
#include <rte_launch.h>
#include <rte_ethdev.h>
#include <rte_ether.h>
#include <rte_ring.h>

#include "stack/lcore/lcore.h"
#include "stack/phy/rss.h"
#include "stack/sock/sock.h"
#include "stack/wire/checksum.h"
#include "stack/wire/eth.h"
#include "stack/wire/icmp6.h"
#include "stack/wire/ipv4.h"
#include "stack/wire/ipv6.h"
#include "stack/wire/udp.h"
#include "test/stack/harness.h"
#include "test/stack/stack_env.h"

#define OUR_ADDR 0x0a430001u  /* 10.67.0.1, the port's address */
#define PEER_ADDR 0x0a430002u /* 10.67.0.2 */
#define FLOWS 64
#define WAIT_MS 5000

static const struct eth_addr PEER_MAC = { { 0x02, 0, 0, 0, 0x43, 0x02 } };

static struct ffs_stack *st;
static struct ffs_app *apps[2];
static struct rte_ring *rx_rings[2];
static struct rte_ring *rx_ring; /* where frames are fed: the first RX queue's */
static bool addr6_added;

static struct rte_ring *tx_rings[2];
static unsigned stacks;

/**
 * Starts the stack on a fresh net_ring port with `n_rx` RX queues and `n_tx` TX queues (rings of the
 * test's own), PEER_ADDR's MAC known, and an application context homed on each lcore.
 */
static void start_on_ring_port(unsigned n_rx, unsigned n_tx)
{
	char name[32];
	for (unsigned q = 0; q < n_rx; q++) {
		snprintf(name, sizeof(name), "aff_rx%u_%u", stacks, q);
		rx_rings[q] = rte_ring_create(name, 1024, SOCKET_ID_ANY, RING_F_SP_ENQ | RING_F_SC_DEQ);
	}
	rx_ring = rx_rings[0];
	addr6_added = false;
	for (unsigned q = 0; q < n_tx; q++) {
		snprintf(name, sizeof(name), "aff_tx%u_%u", stacks, q);
		tx_rings[q] = rte_ring_create(name, 4096, SOCKET_ID_ANY, 0);
	}
	snprintf(name, sizeof(name), "net_ring_aff%u", stacks++);
	int port_id = -1;
	if (rx_rings[0] && rx_rings[n_rx - 1] && tx_rings[0] && tx_rings[n_tx - 1])
		port_id = rte_eth_from_rings(name, rx_rings, n_rx, tx_rings, (unsigned)n_tx, SOCKET_ID_ANY);
	if (port_id < 0) {
		fprintf(stderr, "affinity_test: cannot make the ring port\n");
		exit(2);
	}
	struct ffs_conf conf;
	test_conf_two_data_lcores(&conf);
	test_conf_port(&conf, OUR_ADDR, 0xffffff00u);
	conf.ports[0].port_id = (uint16_t)port_id;
	conf.ports[0].n_static_arp = 1;
	conf.ports[0].static_arp[0].addr = PEER_ADDR;
	conf.ports[0].static_arp[0].mac = PEER_MAC;
	st = test_stack_start("affinity_test", &conf);
	for (unsigned i = 0; i < 2; i++) {
		apps[i] = ffs_app_new(st);
		if (!apps[i]) {
			fprintf(stderr, "affinity_test: no application context\n");
			exit(2);
		}
		apps[i]->home = i;
	}
}

/** Brings the stack up on first use (a case run alone still gets it): TX queues for both lcores. */
static void setup(void)
{
	if (st)
		return;
	test_eal_init("affinity_test", "256", "--lcores=0@(0-1),1@(0-1),2@(0-1)", NULL);
	start_on_ring_port(1, 2);
}

/*
 * The test feeds and reads the port's rings, which the net_ring PMD (not built with the stack's
 * sanitizers) moves frames through, and reads counters the lcores write without atomics: both are
 * done while the lcores are held (stopped and joined), and letting them go again (a launch) hands
 * what the test wrote over to them, as arp_clone_test does.
 */
static void hold_lcores(void)
{
	for (unsigned i = 0; i < 2; i++)
		test_lcore_stop(st->lcores[i]);
}

static void release_lcores(void)
{
	for (unsigned i = 0; i < 2; i++)
		CHECK_EQ_INT(rte_eal_remote_launch(ffs_lcore_main, st->lcores[i], st->lcores[i]->lcore_id), 0);
}

/** Lcore `lcore`'s counters (read while the lcores are held). */
static struct ffs_counters counters(unsigned lcore)
{
	struct ffs_counters c;
	ffs_stack_counters(st, lcore, &c);
	return c;
}

/** Both lcores' counters into `out`, read with the lcores held for the moment. */
static void read_counters(struct ffs_counters out[2])
{
	hold_lcores();
	out[0] = counters(0);
	out[1] = counters(1);
	release_lcores();
}

static struct ffs_sock *sock_at(unsigned home, uint16_t port, bool reuseport)
{
	setup();
	struct ffs_sock *so;
	CHECK_EQ_INT(ffs_sock_open(st, apps[home], &so), 0);
	so->nonblock = true;
	so->reuseport = reuseport;
	so->rcvbuf = 1 << 20;
	CHECK_EQ_INT(ffs_sock_bind(st, so, 0, port), 0);
	return so;
}

/** The lcore a datagram from PEER_ADDR:sport to us at dport belongs to. */
static unsigned lcore_of(uint16_t sport, uint16_t dport)
{
	return ffs_rss_lcore(ffs_rss_hash_udp4(PEER_ADDR, OUR_ADDR, sport, dport), 2);
}

/** A frame from PEER_ADDR as the wire brings it: Ethernet, an IPv4 header (fragment fields as
 *  given), and `len` bytes of IP payload. */
/** The 802.1Q VID inject_ip tags its frames with (0: untagged). */
static uint16_t inject_vid;

static void inject_ip(uint16_t id, uint16_t frag_off, bool mf, const uint8_t *payload, uint16_t len)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(st->pool);
	CHECK(m != NULL);
	uint8_t *p = (uint8_t *)rte_pktmbuf_append(m, (uint16_t)(ETH_HDR_LEN + IPV4_HDR_LEN + len));
	CHECK(p != NULL);
	struct eth_repr eth = { .dst = st->ports[0].mac, .src = PEER_MAC, .ethertype = ETH_TYPE_IPV4 };
	eth_repr_emit(&eth, p, ETH_HDR_LEN);
	struct ipv4_repr ip = { .src = PEER_ADDR, .dst = OUR_ADDR, .proto = IPV4_PROTO_UDP, .ttl = 64, .id = id,
				.more_frags = mf, .frag_offset = frag_off, .hdr_len = IPV4_HDR_LEN, .payload_len = len };
	CHECK_EQ_INT(ipv4_repr_emit(&ip, p + ETH_HDR_LEN, IPV4_HDR_LEN, &WIRE_CSUM_SOFTWARE), IPV4_HDR_LEN);
	memcpy(p + ETH_HDR_LEN + IPV4_HDR_LEN, payload, len);
	m->vlan_tci = inject_vid;
	if (inject_vid)
		CHECK_EQ_INT(rte_vlan_insert(&m), 0);
	for (int tries = 0; rte_ring_enqueue(rx_ring, m) != 0; tries++) {
		CHECK(tries < WAIT_MS);
		usleep(1000);
	}
}

/** A UDP datagram (UDP header and payload, checksummed) from PEER_ADDR:sport to dport, into buf. */
static uint16_t udp_datagram(uint8_t *buf, uint16_t sport, uint16_t dport, const void *payload, uint16_t len)
{
	memcpy(buf + UDP_HDR_LEN, payload, len);
	struct udp_repr u = { .src_port = sport, .dst_port = dport, .payload_len = len };
	CHECK(udp_repr_emit(&u, buf, (size_t)UDP_HDR_LEN + len, PEER_ADDR, OUR_ADDR, &WIRE_CSUM_SOFTWARE) > 0);
	return (uint16_t)(UDP_HDR_LEN + len);
}

static void inject_udp(uint16_t sport, uint16_t dport, uint32_t value)
{
	uint8_t buf[UDP_HDR_LEN + sizeof(value)];
	inject_ip(sport, 0, false, buf, udp_datagram(buf, sport, dport, &value, sizeof(value)));
}

/**
 * With the lcores held: both lcores' counters into `before`, then FLOWS datagrams from
 * PEER_ADDR:first_sport + i to `port`, each carrying its i, counting in `want` the flows whose hash
 * picks each lcore; then lets the lcores go.
 */
static void inject_flows(uint16_t first_sport, uint16_t port, struct ffs_counters before[2], unsigned want[2])
{
	hold_lcores();
	before[0] = counters(0);
	before[1] = counters(1);
	want[0] = want[1] = 0;
	for (uint16_t i = 0; i < FLOWS; i++) {
		inject_udp((uint16_t)(first_sport + i), port, i);
		want[lcore_of((uint16_t)(first_sport + i), port)]++;
	}
	release_lcores();
}

/** The next datagram on so into buf (at most cap bytes), waiting up to `ms`; its length, or -EAGAIN. */
static int recv_wait(struct ffs_sock *so, void *buf, size_t cap, uint16_t *sport, unsigned ms)
{
	uint32_t src, dst;
	bool truncated;
	struct iovec iov = { buf, cap };
	for (unsigned waited = 0;; waited++) {
		int rc = ffs_sock_recvv(st, so, &iov, 1, &src, sport, &dst, &truncated, false);
		if (rc != -EAGAIN || waited >= ms)
			return rc;
		usleep(1000);
	}
}

TEST(toeplitz_hash_matches_the_rss_verification_suite)
{
	/* Microsoft's "Verifying the RSS Hash Calculation" (IPv4, and IPv4 with ports) with its key. */
	static const struct {
		uint32_t dst, src;
		uint16_t dport, sport;
		uint32_t pair, four;
	} v[] = {
		{ 0xa18e6450u, 0x420995bbu, 1766, 2794, 0x323e8fc2u, 0x51ccc178u },  /* 161.142.100.80 ← 66.9.149.187 */
		{ 0x41458c53u, 0xc75c6f02u, 4739, 14230, 0xd718262au, 0xc626b0eau }, /* 65.69.140.83 ← 199.92.111.2 */
		{ 0x0c16cfb8u, 0x1813c65fu, 38024, 12898, 0xd2d0a5deu, 0x5c2b394au }, /* 12.22.207.184 ← 24.19.198.95 */
		{ 0xd18ea306u, 0x261bcd1eu, 2217, 48228, 0x82989176u, 0xafc7327fu },  /* 209.142.163.6 ← 38.27.205.30 */
		{ 0xcabc7f02u, 0x9927a3bfu, 1303, 44251, 0x5d1809c5u, 0x10e828a2u },  /* 202.188.127.2 ← 153.39.163.191 */
	};
	for (unsigned i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		CHECK_EQ_INT(ffs_rss_hash_ipv4(v[i].src, v[i].dst), v[i].pair);
		CHECK_EQ_INT(ffs_rss_hash_udp4(v[i].src, v[i].dst, v[i].sport, v[i].dport), v[i].four);
	}
	/* A frame hashes as a NIC hashes it: a datagram by its 4-tuple, a fragment by its pair. */
	uint8_t f[ETH_HDR_LEN + IPV4_HDR_LEN + UDP_HDR_LEN] = { 0 };
	struct eth_repr eth = { .ethertype = ETH_TYPE_IPV4 };
	eth_repr_emit(&eth, f, ETH_HDR_LEN);
	struct ipv4_repr ip = { .src = v[0].src, .dst = v[0].dst, .proto = IPV4_PROTO_UDP, .ttl = 64,
				.hdr_len = IPV4_HDR_LEN, .payload_len = UDP_HDR_LEN };
	ipv4_repr_emit(&ip, f + ETH_HDR_LEN, IPV4_HDR_LEN, &WIRE_CSUM_SOFTWARE);
	wr_be16(f + ETH_HDR_LEN + IPV4_HDR_LEN, v[0].sport);
	wr_be16(f + ETH_HDR_LEN + IPV4_HDR_LEN + 2, v[0].dport);
	uint32_t h = 0;
	CHECK(ffs_rss_frame_hash(f, sizeof(f), &h));
	CHECK_EQ_INT(h, v[0].four);
	ip.more_frags = true;
	ipv4_repr_emit(&ip, f + ETH_HDR_LEN, IPV4_HDR_LEN, &WIRE_CSUM_SOFTWARE);
	CHECK(ffs_rss_frame_hash(f, sizeof(f), &h));
	CHECK_EQ_INT(h, v[0].pair);
	wr_be16(f + 12, ETH_TYPE_ARP);
	CHECK(!ffs_rss_frame_hash(f, sizeof(f), &h));
}

TEST(a_vlan_tagged_frame_hashes_as_the_frame_it_carries)
{
	/* The software dispatcher sees a frame with its 802.1Q tag when the device does not strip it. */
	uint8_t f[ETH_VLAN_HDR_LEN + IPV4_HDR_LEN + UDP_HDR_LEN] = { 0 };
	wr_be16(f + 12, ETH_TYPE_VLAN);
	wr_be16(f + 14, 100);
	wr_be16(f + 16, ETH_TYPE_IPV4);
	struct ipv4_repr ip = { .src = 0x420995bb, .dst = 0xa18e6450, .proto = IPV4_PROTO_UDP, .ttl = 64,
				.hdr_len = IPV4_HDR_LEN, .payload_len = UDP_HDR_LEN };
	ipv4_repr_emit(&ip, f + ETH_VLAN_HDR_LEN, IPV4_HDR_LEN, &WIRE_CSUM_SOFTWARE);
	wr_be16(f + ETH_VLAN_HDR_LEN + IPV4_HDR_LEN, 2794);
	wr_be16(f + ETH_VLAN_HDR_LEN + IPV4_HDR_LEN + 2, 1766);
	uint32_t h = 0;
	CHECK(ffs_rss_frame_hash(f, sizeof(f), &h));
	CHECK_EQ_INT(h, ffs_rss_hash_udp4(0x420995bb, 0xa18e6450, 2794, 1766));
	/* A tag cut short is no frame to hash. */
	CHECK(!ffs_rss_frame_hash(f, ETH_VLAN_HDR_LEN - 1, &h));
}

TEST(ipv6_pair_hash_matches_the_rss_verification_suite)
{
	/* Microsoft's "Verifying the RSS Hash Calculation", IPv6 without ports: how a NIC hashes IPv6
	 * fragments, which ipv6_frag_steer follows. */
	static const struct {
		const char *dst, *src;
		uint32_t pair;
	} v[] = {
		{ "3ffe:2501:200:3::1", "3ffe:2501:200:1fff::7", 0x2cc18cd5u },
		{ "ff02::1", "3ffe:501:8::260:97ff:fe40:efab", 0x0f0c461cu },
		{ "fe80::200:f8ff:fe21:67cf", "3ffe:1900:4545:3:200:f8ff:fe21:67cf", 0x4b61e985u },
	};
	for (unsigned i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		struct ip6_addr src, dst;
		CHECK(ip6_parse(v[i].src, &src) == 0);
		CHECK(ip6_parse(v[i].dst, &dst) == 0);
		CHECK_EQ_INT(ffs_rss_hash_ipv6(src.b, dst.b), v[i].pair);
	}
}

TEST(udp6_four_tuple_hash_matches_the_rss_verification_suite)
{
	/* Microsoft's "Verifying the RSS Hash Calculation", IPv6 with ports (the 4-tuple's layout is
	 * TCP's and UDP's alike): how a NIC hashes an unfragmented udp6 datagram. */
	static const struct {
		const char *dst, *src;
		uint16_t dport, sport;
		uint32_t pair, four;
	} v[] = {
		{ "3ffe:2501:200:3::1", "3ffe:2501:200:1fff::7", 1766, 2794, 0x2cc18cd5u, 0x40207d3du },
		{ "ff02::1", "3ffe:501:8::260:97ff:fe40:efab", 4739, 14230, 0x0f0c461cu, 0xdde51bbfu },
		{ "fe80::200:f8ff:fe21:67cf", "3ffe:1900:4545:3:200:f8ff:fe21:67cf", 38024, 44251, 0x4b61e985u, 0x02d1feefu },
	};
	for (unsigned i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		struct ip6_addr src, dst;
		CHECK(ip6_parse(v[i].src, &src) == 0);
		CHECK(ip6_parse(v[i].dst, &dst) == 0);
		CHECK_EQ_INT(ffs_rss_hash_udp6(src.b, dst.b, v[i].sport, v[i].dport), v[i].four);
	}
	/* A frame hashes as a NIC hashes it: a udp6 datagram by its 4-tuple (behind extension headers
	 * too), a fragment by its pair, ICMPv6 by its pair. */
	struct ip6_addr src, dst;
	CHECK(ip6_parse(v[0].src, &src) == 0);
	CHECK(ip6_parse(v[0].dst, &dst) == 0);
	uint8_t f[ETH_HDR_LEN + IPV6_HDR_LEN + 8 + UDP_HDR_LEN] = { 0 };
	struct eth_repr eth = { .ethertype = ETH_TYPE_IPV6 };
	eth_repr_emit(&eth, f, ETH_HDR_LEN);
	struct ipv6_repr ip = { .src = src, .dst = dst, .next_header = IPV6_NH_UDP, .hop_limit = 64,
				.payload_len = UDP_HDR_LEN };
	uint8_t *l4 = f + ETH_HDR_LEN + IPV6_HDR_LEN;
	ipv6_repr_emit(&ip, f + ETH_HDR_LEN, IPV6_HDR_LEN);
	wr_be16(l4, v[0].sport);
	wr_be16(l4 + 2, v[0].dport);
	wr_be16(l4 + 4, UDP_HDR_LEN);
	uint32_t h = 0;
	CHECK(ffs_rss_frame_hash(f, ETH_HDR_LEN + IPV6_HDR_LEN + UDP_HDR_LEN, &h));
	CHECK_EQ_INT(h, v[0].four);
	/* Behind an empty Destination Options header (PadN). */
	ip.next_header = IPV6_NH_DSTOPTS;
	ip.payload_len = 8 + UDP_HDR_LEN;
	ipv6_repr_emit(&ip, f + ETH_HDR_LEN, IPV6_HDR_LEN);
	const uint8_t dstopts[8] = { IPV6_NH_UDP, 0, 1, 4, 0, 0, 0, 0 };
	memcpy(l4, dstopts, sizeof(dstopts));
	wr_be16(l4 + 8, v[0].sport);
	wr_be16(l4 + 10, v[0].dport);
	wr_be16(l4 + 12, UDP_HDR_LEN);
	h = 0;
	CHECK(ffs_rss_frame_hash(f, sizeof(f), &h));
	CHECK_EQ_INT(h, v[0].four);
	/* A first fragment holds the ports, but later ones cannot: every fragment hashes by its pair. */
	ip.next_header = IPV6_NH_FRAGMENT;
	ipv6_repr_emit(&ip, f + ETH_HDR_LEN, IPV6_HDR_LEN);
	ipv6_frag_hdr_emit(IPV6_NH_UDP, 0, true, 0x1234, l4, IPV6_FRAG_HDR_LEN);
	CHECK(ffs_rss_frame_hash(f, sizeof(f), &h));
	CHECK_EQ_INT(h, v[0].pair);
	ip.next_header = IPV6_NH_ICMPV6;
	ip.payload_len = 8;
	ipv6_repr_emit(&ip, f + ETH_HDR_LEN, IPV6_HDR_LEN);
	CHECK(ffs_rss_frame_hash(f, ETH_HDR_LEN + IPV6_HDR_LEN + 8, &h));
	CHECK_EQ_INT(h, v[0].pair);
	CHECK(!ffs_rss_frame_hash(f, ETH_HDR_LEN + 20, &h));
}

TEST(each_flow_reaches_the_reuseport_member_homed_on_the_lcore_its_hash_picks)
{
	const uint16_t port = 7000;
	struct ffs_sock *member[2] = { sock_at(0, port, true), sock_at(1, port, true) };
	struct ffs_counters before[2];
	unsigned want[2];
	inject_flows(20000, port, before, want);
	CHECK(want[0] > 0 && want[1] > 0);
	bool seen[FLOWS] = { false };
	for (unsigned k = 0; k < 2; k++) {
		for (unsigned n = 0; n < want[k]; n++) {
			uint32_t v;
			uint16_t sport;
			CHECK_EQ_INT(recv_wait(member[k], &v, sizeof(v), &sport, WAIT_MS), (int)sizeof(v));
			CHECK(v < FLOWS && !seen[v]);
			seen[v] = true;
			CHECK_EQ_INT(sport, 20000 + v);
			CHECK_EQ_INT(lcore_of(sport, port), k);
		}
	}
	uint32_t extra;
	uint16_t sport;
	CHECK_EQ_INT(recv_wait(member[0], &extra, sizeof(extra), &sport, 100), -EAGAIN);
	CHECK_EQ_INT(recv_wait(member[1], &extra, sizeof(extra), &sport, 0), -EAGAIN);
	struct ffs_counters after[2];
	read_counters(after);
	for (unsigned k = 0; k < 2; k++) {
		CHECK_EQ_INT(after[k].udp_rx - before[k].udp_rx, want[k]);
		CHECK_EQ_INT(after[k].udp_delivered - before[k].udp_delivered, want[k]);
		CHECK_EQ_INT(after[k].udp_cross_lcore - before[k].udp_cross_lcore, 0);
	}
	/* Lcore 0 has the one RX queue: it handed lcore 1 its flows. */
	CHECK_EQ_INT(after[0].eth_dispatched - before[0].eth_dispatched, want[1]);
	CHECK_EQ_INT(after[0].eth_dispatch_dropped - before[0].eth_dispatch_dropped, 0);
	ffs_sock_close(st, member[0]);
	ffs_sock_close(st, member[1]);
}

TEST(tagged_flows_on_a_vlan_port_are_dispatched_by_the_hash_of_the_datagrams_they_carry)
{
	const uint16_t port = 7004;
	struct ffs_sock *member[2] = { sock_at(0, port, true), sock_at(1, port, true) };
	hold_lcores();
	st->ports[0].vlan_id = 100;
	release_lcores();
	struct ffs_counters before[2];
	unsigned want[2];
	inject_vid = 100;
	inject_flows(21000, port, before, want);
	inject_vid = 0;
	CHECK(want[0] > 0 && want[1] > 0);
	for (unsigned k = 0; k < 2; k++) {
		for (unsigned n = 0; n < want[k]; n++) {
			uint32_t v;
			uint16_t sport;
			CHECK_EQ_INT(recv_wait(member[k], &v, sizeof(v), &sport, WAIT_MS), (int)sizeof(v));
			CHECK_EQ_INT(lcore_of(sport, port), k);
		}
	}
	hold_lcores();
	st->ports[0].vlan_id = 0;
	release_lcores();
	struct ffs_counters after[2];
	read_counters(after);
	for (unsigned k = 0; k < 2; k++) {
		CHECK_EQ_INT(after[k].udp_delivered - before[k].udp_delivered, want[k]);
		CHECK_EQ_INT(after[k].udp_cross_lcore - before[k].udp_cross_lcore, 0);
		CHECK_EQ_INT(after[k].eth_vlan_mismatch - before[k].eth_vlan_mismatch, 0);
	}
	CHECK_EQ_INT(after[0].eth_dispatched - before[0].eth_dispatched, want[1]);
	ffs_sock_close(st, member[0]);
	ffs_sock_close(st, member[1]);
}

TEST(a_socket_homed_on_another_lcore_counts_the_flows_that_cross)
{
	const uint16_t port = 7001;
	struct ffs_sock *so = sock_at(1, port, false);
	struct ffs_counters before[2];
	unsigned want[2];
	inject_flows(30000, port, before, want);
	CHECK(want[0] > 0);
	for (unsigned n = 0; n < FLOWS; n++) {
		uint32_t v;
		uint16_t sport;
		CHECK_EQ_INT(recv_wait(so, &v, sizeof(v), &sport, WAIT_MS), (int)sizeof(v));
	}
	struct ffs_counters after[2];
	read_counters(after);
	CHECK_EQ_INT(after[0].udp_cross_lcore - before[0].udp_cross_lcore, want[0]);
	CHECK_EQ_INT(after[1].udp_cross_lcore - before[1].udp_cross_lcore, 0);
	CHECK_EQ_INT(after[1].udp_delivered - before[1].udp_delivered, want[1]);
	ffs_sock_close(st, so);
}

TEST(a_reuseport_group_with_no_member_on_a_lcore_spreads_its_flows_over_all_and_counts_them)
{
	const uint16_t port = 7003;
	/* Both members live on lcore 1: lcore 0's flows must cross, lcore 1's stay. */
	struct ffs_sock *member[2] = { sock_at(1, port, true), sock_at(1, port, true) };
	struct ffs_counters before[2];
	unsigned want[2];
	inject_flows(50000, port, before, want);
	CHECK(want[0] > 0 && want[1] > 0);
	unsigned got[2] = { 0, 0 };
	for (unsigned n = 0; n < FLOWS; n++) {
		uint32_t v;
		uint16_t sport;
		int k = n % 2;
		int rc = recv_wait(member[k], &v, sizeof(v), &sport, 0);
		if (rc == -EAGAIN)
			rc = recv_wait(member[k = 1 - k], &v, sizeof(v), &sport, WAIT_MS);
		CHECK_EQ_INT(rc, (int)sizeof(v));
		got[k]++;
	}
	/* The flow hash spreads them over both members. */
	CHECK(got[0] > 0 && got[1] > 0);
	struct ffs_counters after[2];
	read_counters(after);
	CHECK_EQ_INT(after[0].udp_cross_lcore - before[0].udp_cross_lcore, want[0]);
	CHECK_EQ_INT(after[1].udp_cross_lcore - before[1].udp_cross_lcore, 0);
	CHECK_EQ_INT(after[1].udp_delivered - before[1].udp_delivered, want[1]);
	ffs_sock_close(st, member[0]);
	ffs_sock_close(st, member[1]);
}

/** A receive of either family: recv_wait, recv6_wait. */
typedef int (*recv_fn)(struct ffs_sock *so, void *buf, size_t cap, uint16_t *sport, unsigned ms);

/**
 * The reassembled datagram of `payload` from `sport` reached member[flow_lcore] once and the other
 * member not at all, handed there by the lcore of its address pair (udp.steered) and delivered on
 * the flow's lcore, none crossing lcores otherwise; the members closed, the counters into after[].
 */
static void check_steered_home(recv_fn receive, struct ffs_sock *member[2], unsigned flow_lcore, unsigned pair_lcore,
			       const uint8_t *payload, size_t len, uint16_t sport, const struct ffs_counters before[2],
			       struct ffs_counters after[2])
{
	static uint8_t got[4096];
	uint16_t from;
	CHECK(len + 16 <= sizeof(got));
	CHECK_EQ_INT(receive(member[flow_lcore], got, len + 16, &from, WAIT_MS), (int)len);
	CHECK_EQ_INT(from, sport);
	CHECK_MEM(got, payload, len);
	CHECK_EQ_INT(receive(member[flow_lcore], got, len + 16, &from, 100), -EAGAIN);
	CHECK_EQ_INT(receive(member[1 - flow_lcore], got, len + 16, &from, 0), -EAGAIN);
	read_counters(after);
	CHECK_EQ_INT(after[pair_lcore].udp_steered - before[pair_lcore].udp_steered, 1);
	CHECK_EQ_INT(after[flow_lcore].udp_delivered - before[flow_lcore].udp_delivered, 1);
	CHECK_EQ_INT(after[pair_lcore].udp_delivered - before[pair_lcore].udp_delivered, 0);
	CHECK_EQ_INT(after[0].udp_cross_lcore + after[1].udp_cross_lcore,
		     before[0].udp_cross_lcore + before[1].udp_cross_lcore);
	ffs_sock_close(st, member[0]);
	ffs_sock_close(st, member[1]);
}

TEST(a_fragmented_datagram_is_reassembled_once_and_delivered_to_the_member_homed_on_its_flow_lcore)
{
	const uint16_t port = 7002;
	setup();
	const unsigned pair_lcore = ffs_rss_lcore(ffs_rss_hash_ipv4(PEER_ADDR, OUR_ADDR), 2);
	/* A source port whose flow belongs to the other lcore: the datagram must move after reassembly. */
	uint16_t sport = 40000;
	while (lcore_of(sport, port) == pair_lcore)
		sport++;
	const unsigned flow_lcore = lcore_of(sport, port);
	struct ffs_sock *member[2] = { sock_at(0, port, true), sock_at(1, port, true) };
	static uint8_t payload[3000], dgram[UDP_HDR_LEN + sizeof(payload)];
	for (size_t i = 0; i < sizeof(payload); i++)
		payload[i] = (uint8_t)(i * 13 + 5);
	uint16_t len = udp_datagram(dgram, sport, port, payload, sizeof(payload));
	hold_lcores();
	struct ffs_counters before[2] = { counters(0), counters(1) };
	/* Three fragments of 1480, 1480 and the rest, last one first. */
	inject_ip(777, 2960, false, dgram + 2960, (uint16_t)(len - 2960));
	inject_ip(777, 0, true, dgram, 1480);
	inject_ip(777, 1480, true, dgram + 1480, 1480);
	release_lcores();

	struct ffs_counters after[2];
	check_steered_home(recv_wait, member, flow_lcore, pair_lcore, payload, sizeof(payload), sport, before, after);
	/* All three fragments were processed by the lcore of the IP pair, which reassembled the
	 * datagram and handed it to the flow's lcore. */
	CHECK_EQ_INT(after[pair_lcore].ip_fragments - before[pair_lcore].ip_fragments, 3);
	CHECK_EQ_INT(after[pair_lcore].ip_reassembled - before[pair_lcore].ip_reassembled, 1);
	CHECK_EQ_INT(after[flow_lcore].ip_reassembled - before[flow_lcore].ip_reassembled, 0);
	CHECK_EQ_INT(after[pair_lcore].ip_frag_steered - before[pair_lcore].ip_frag_steered, 0);
}

/** Gives the port its IPv6 address (once, usable at once) into *ours, and a peer on its prefix. */
static void setup_addr6(struct ip6_addr *ours, struct ip6_addr *peer)
{
	setup();
	CHECK(ip6_parse("2001:db8:43::1", ours) == 0);
	CHECK(ip6_parse("2001:db8:43::100", peer) == 0);
	if (addr6_added)
		return;
	CHECK_EQ_INT(ffs_stack_sysctl_set(st, FFS_SYSCTL_IP6_DAD_COUNT, 0), 0);
	CHECK_EQ_INT(ffs_stack_addr6_add(st, st->ports[0].port_id, ours, 64), 0);
	addr6_added = true;
}

/** An AF_INET6 socket homed on lcore `home`, bound to [::]:port. */
static struct ffs_sock *sock6_at(unsigned home, uint16_t port, bool reuseport)
{
	setup();
	struct ffs_sock *so;
	CHECK_EQ_INT(ffs_sock_open(st, apps[home], &so), 0);
	ffs_sock_set_family6(st, so);
	so->nonblock = true;
	so->reuseport = reuseport;
	so->rcvbuf = 1 << 20;
	CHECK_EQ_INT(ffs_sock_bind6(st, so, IP6_ANY.b, 0, port), 0);
	return so;
}

/** The lcore a udp6 datagram from peer:sport to ours:dport belongs to. */
static unsigned lcore_of6(const struct ip6_addr *peer, const struct ip6_addr *ours, uint16_t sport, uint16_t dport)
{
	return ffs_rss_lcore(ffs_rss_hash_udp6(peer->b, ours->b, sport, dport), 2);
}

/** A udp6 datagram from src:sport to dst:dport carrying `value`, as the wire brings it. */
static void inject_udp6(const struct ip6_addr *src, const struct ip6_addr *dst, uint16_t sport, uint16_t dport, uint32_t value)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(st->pool);
	CHECK(m != NULL);
	const uint16_t len = UDP_HDR_LEN + sizeof(value);
	uint8_t *p = (uint8_t *)rte_pktmbuf_append(m, (uint16_t)(ETH_HDR_LEN + IPV6_HDR_LEN + len));
	CHECK(p != NULL);
	struct eth_repr eth = { .dst = st->ports[0].mac, .src = PEER_MAC, .ethertype = ETH_TYPE_IPV6 };
	eth_repr_emit(&eth, p, ETH_HDR_LEN);
	struct ipv6_repr ip = { .src = *src, .dst = *dst, .next_header = IPV6_NH_UDP, .hop_limit = 64, .payload_len = len };
	CHECK_EQ_INT(ipv6_repr_emit(&ip, p + ETH_HDR_LEN, IPV6_HDR_LEN), IPV6_HDR_LEN);
	uint8_t *u = p + ETH_HDR_LEN + IPV6_HDR_LEN;
	memcpy(u + UDP_HDR_LEN, &value, sizeof(value));
	struct udp_repr ur = { .src_port = sport, .dst_port = dport, .payload_len = sizeof(value) };
	CHECK(udp6_repr_emit(&ur, u, len, src, dst, &WIRE_CSUM_SOFTWARE) > 0);
	for (int tries = 0; rte_ring_enqueue(rx_ring, m) != 0; tries++) {
		CHECK(tries < WAIT_MS);
		usleep(1000);
	}
}

/** The next datagram on an AF_INET6 socket, as recv_wait. */
static int recv6_wait(struct ffs_sock *so, void *buf, size_t cap, uint16_t *sport, unsigned ms)
{
	struct ffs_src6 src;
	bool truncated;
	struct iovec iov = { buf, cap };
	for (unsigned waited = 0;; waited++) {
		int rc = ffs_sock_recvv6(st, so, &iov, 1, &src, sport, &truncated, false);
		if (rc != -EAGAIN || waited >= ms)
			return rc;
		usleep(1000);
	}
}

TEST(each_udp6_flow_reaches_the_reuseport_member_homed_on_the_lcore_its_hash_picks)
{
	const uint16_t port = 7200;
	struct ip6_addr ours, peer;
	setup_addr6(&ours, &peer);
	struct ffs_sock *member[2] = { sock6_at(0, port, true), sock6_at(1, port, true) };
	hold_lcores();
	struct ffs_counters before[2] = { counters(0), counters(1) };
	unsigned want[2] = { 0, 0 };
	for (uint16_t i = 0; i < FLOWS; i++) {
		inject_udp6(&peer, &ours, (uint16_t)(21000 + i), port, i);
		want[lcore_of6(&peer, &ours, (uint16_t)(21000 + i), port)]++;
	}
	release_lcores();
	CHECK(want[0] > 0 && want[1] > 0);
	bool seen[FLOWS] = { false };
	for (unsigned k = 0; k < 2; k++) {
		for (unsigned n = 0; n < want[k]; n++) {
			uint32_t v;
			uint16_t sport;
			CHECK_EQ_INT(recv6_wait(member[k], &v, sizeof(v), &sport, WAIT_MS), (int)sizeof(v));
			CHECK(v < FLOWS && !seen[v]);
			seen[v] = true;
			CHECK_EQ_INT(sport, 21000 + v);
			CHECK_EQ_INT(lcore_of6(&peer, &ours, sport, port), k);
		}
	}
	uint32_t extra;
	uint16_t sport;
	CHECK_EQ_INT(recv6_wait(member[0], &extra, sizeof(extra), &sport, 100), -EAGAIN);
	CHECK_EQ_INT(recv6_wait(member[1], &extra, sizeof(extra), &sport, 0), -EAGAIN);
	struct ffs_counters after[2];
	read_counters(after);
	for (unsigned k = 0; k < 2; k++) {
		CHECK_EQ_INT(after[k].udp_rx - before[k].udp_rx, want[k]);
		CHECK_EQ_INT(after[k].udp_delivered - before[k].udp_delivered, want[k]);
		CHECK_EQ_INT(after[k].udp_cross_lcore - before[k].udp_cross_lcore, 0);
	}
	CHECK_EQ_INT(after[0].eth_dispatched - before[0].eth_dispatched, want[1]);
	CHECK_EQ_INT(after[0].eth_dispatch_dropped - before[0].eth_dispatch_dropped, 0);
	ffs_sock_close(st, member[0]);
	ffs_sock_close(st, member[1]);
}

/** An IPv6 fragment from `src` to `dst` as the wire brings it: `len` octets at `off` of `msg`, a
 *  message of upper-layer protocol `nh`. */
static void inject_ip6_fragment_of(uint8_t nh, const struct ip6_addr *src, const struct ip6_addr *dst, uint32_t id,
				   const uint8_t *msg, uint16_t off, uint16_t len, bool more)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(st->pool);
	CHECK(m != NULL);
	uint8_t *p = (uint8_t *)rte_pktmbuf_append(m, (uint16_t)(ETH_HDR_LEN + IPV6_HDR_LEN + IPV6_FRAG_HDR_LEN + len));
	CHECK(p != NULL);
	struct eth_repr eth = { .dst = st->ports[0].mac, .src = PEER_MAC, .ethertype = ETH_TYPE_IPV6 };
	eth_repr_emit(&eth, p, ETH_HDR_LEN);
	struct ipv6_repr ip = { .src = *src, .dst = *dst, .next_header = IPV6_NH_FRAGMENT, .hop_limit = 64,
				.payload_len = (uint16_t)(IPV6_FRAG_HDR_LEN + len) };
	CHECK_EQ_INT(ipv6_repr_emit(&ip, p + ETH_HDR_LEN, IPV6_HDR_LEN), IPV6_HDR_LEN);
	ipv6_frag_hdr_emit(nh, off, more, id, p + ETH_HDR_LEN + IPV6_HDR_LEN, IPV6_FRAG_HDR_LEN);
	memcpy(p + ETH_HDR_LEN + IPV6_HDR_LEN + IPV6_FRAG_HDR_LEN, msg + off, len);
	for (int tries = 0; rte_ring_enqueue(rx_ring, m) != 0; tries++) {
		CHECK(tries < WAIT_MS);
		usleep(1000);
	}
}

/** A fragment of an ICMPv6 message, as inject_ip6_fragment_of. */
static void inject_ip6_fragment(const struct ip6_addr *src, const struct ip6_addr *dst, uint32_t id, const uint8_t *msg,
				uint16_t off, uint16_t len, bool more)
{
	inject_ip6_fragment_of(IPV6_NH_ICMPV6, src, dst, id, msg, off, len, more);
}

TEST(a_fragmented_udp6_datagram_is_reassembled_once_and_delivered_to_the_member_homed_on_its_flow_lcore)
{
	const uint16_t port = 7202;
	struct ip6_addr ours, peer;
	setup_addr6(&ours, &peer);
	const unsigned pair_lcore = ffs_rss_lcore(ffs_rss_hash_ipv6(peer.b, ours.b), 2);
	/* A source port whose flow belongs to the other lcore: the datagram must move after reassembly. */
	uint16_t sport = 41000;
	while (lcore_of6(&peer, &ours, sport, port) == pair_lcore)
		sport++;
	const unsigned flow_lcore = lcore_of6(&peer, &ours, sport, port);
	struct ffs_sock *member[2] = { sock6_at(0, port, true), sock6_at(1, port, true) };
	static uint8_t payload[3000], dgram[UDP_HDR_LEN + sizeof(payload)];
	for (size_t i = 0; i < sizeof(payload); i++)
		payload[i] = (uint8_t)(i * 11 + 7);
	memcpy(dgram + UDP_HDR_LEN, payload, sizeof(payload));
	struct udp_repr u = { .src_port = sport, .dst_port = port, .payload_len = sizeof(payload) };
	CHECK(udp6_repr_emit(&u, dgram, sizeof(dgram), &peer, &ours, &WIRE_CSUM_SOFTWARE) > 0);
	hold_lcores();
	struct ffs_counters before[2] = { counters(0), counters(1) };
	inject_ip6_fragment_of(IPV6_NH_UDP, &peer, &ours, 0x8008, dgram, 2896, (uint16_t)(sizeof(dgram) - 2896), false);
	inject_ip6_fragment_of(IPV6_NH_UDP, &peer, &ours, 0x8008, dgram, 0, 1448, true);
	inject_ip6_fragment_of(IPV6_NH_UDP, &peer, &ours, 0x8008, dgram, 1448, 1448, true);
	release_lcores();

	struct ffs_counters after[2];
	check_steered_home(recv6_wait, member, flow_lcore, pair_lcore, payload, sizeof(payload), sport, before, after);
	CHECK_EQ_INT(after[pair_lcore].ip6_fragments - before[pair_lcore].ip6_fragments, 3);
	CHECK_EQ_INT(after[pair_lcore].ip6_reassembled - before[pair_lcore].ip6_reassembled, 1);
}

TEST(ipv6_fragments_are_reassembled_by_the_lcore_of_their_address_pair)
{
	struct ip6_addr ours, peer;
	setup_addr6(&ours, &peer);
	/* A peer whose pair belongs to lcore 1: the software dispatcher (the port's one RX queue is
	 * lcore 0's) hands every fragment there, as a NIC's RSS would. */
	while (ffs_rss_lcore(ffs_rss_hash_ipv6(peer.b, ours.b), 2) != 1)
		peer.b[15]++;
	static uint8_t payload[3000], msg[ICMP6_HDR_LEN + sizeof(payload)];
	for (size_t i = 0; i < sizeof(payload); i++)
		payload[i] = (uint8_t)(i * 7 + 1);
	CHECK_EQ_INT(icmp6_echo_emit(ICMP6_ECHO_REQUEST, 0x4242, 1, payload, sizeof(payload), &peer, &ours, msg, sizeof(msg)),
		     sizeof(msg));
	hold_lcores();
	struct ffs_counters before[2] = { counters(0), counters(1) };
	inject_ip6_fragment(&peer, &ours, 0x6006, msg, 2896, (uint16_t)(sizeof(msg) - 2896), false);
	inject_ip6_fragment(&peer, &ours, 0x6006, msg, 0, 1448, true);
	inject_ip6_fragment(&peer, &ours, 0x6006, msg, 1448, 1448, true);
	release_lcores();
	struct ffs_counters after[2];
	for (unsigned waited = 0; waited < WAIT_MS; waited++) {
		read_counters(after);
		if (after[1].icmp6_echo_in != before[1].icmp6_echo_in)
			break;
		usleep(1000);
	}
	CHECK_EQ_INT(after[0].eth_dispatched - before[0].eth_dispatched, 3);
	CHECK_EQ_INT(after[0].ip6_frag_steered - before[0].ip6_frag_steered, 0);
	CHECK_EQ_INT(after[0].ip6_fragments - before[0].ip6_fragments, 0);
	CHECK_EQ_INT(after[1].ip6_fragments - before[1].ip6_fragments, 3);
	CHECK_EQ_INT(after[1].ip6_reassembled - before[1].ip6_reassembled, 1);
	CHECK_EQ_INT(after[1].icmp6_echo_in - before[1].icmp6_echo_in, 1);
	CHECK_EQ_INT(after[0].icmp6_echo_in - before[0].icmp6_echo_in, 0);
}

TEST(connect_picks_automatic_ports_whose_replies_hash_to_the_home_lcore)
{
	setup();
	/* Homes alternate: consecutive free ports often hash alike, so the first free one would not do. */
	for (unsigned i = 0; i < 32; i++) {
		unsigned home = i % 2;
		struct ffs_sock *so;
		CHECK_EQ_INT(ffs_sock_open(st, apps[home], &so), 0);
		uint32_t peer = PEER_ADDR + i % 4;
		uint16_t rport = (uint16_t)(9000 + i);
		CHECK_EQ_INT(ffs_sock_connect(st, so, peer, rport), 0);
		CHECK(so->lport != 0);
		CHECK_EQ_INT(ffs_rss_lcore(ffs_rss_hash_udp4(peer, OUR_ADDR, rport, so->lport), 2), home);
		CHECK_EQ_INT(so->tx_lcore, home);
		ffs_sock_close(st, so);
	}
}

TEST(connect6_picks_automatic_ports_whose_replies_hash_to_the_home_lcore)
{
	struct ip6_addr ours, peer0;
	setup_addr6(&ours, &peer0);
	for (unsigned i = 0; i < 32; i++) {
		unsigned home = i % 2;
		struct ffs_sock *so;
		CHECK_EQ_INT(ffs_sock_open(st, apps[home], &so), 0);
		ffs_sock_set_family6(st, so);
		struct ip6_addr peer = peer0;
		peer.b[15] = (uint8_t)(peer.b[15] + i % 4);
		uint16_t rport = (uint16_t)(9000 + i);
		CHECK_EQ_INT(ffs_sock_connect6(st, so, peer.b, 0, rport), 0);
		CHECK(so->lport != 0);
		CHECK_MEM(so->laddr6, ours.b, 16);
		CHECK_EQ_INT(lcore_of6(&peer, &ours, rport, so->lport), home);
		CHECK_EQ_INT(so->tx_lcore, home);
		ffs_sock_close(st, so);
	}
}

TEST(lcores_share_the_tx_queue_of_a_port_that_has_one)
{
	setup();
	ffs_app_free(st, apps[0]);
	ffs_app_free(st, apps[1]);
	ffs_stack_stop(st);
	start_on_ring_port(1, 1);
	struct ffs_sock *sender[2] = { sock_at(0, 7100, false), sock_at(1, 7101, false) };
	const unsigned each = 300;
	for (unsigned i = 0; i < each; i++) {
		for (unsigned k = 0; k < 2; k++) {
			uint32_t v = i;
			struct iovec iov = { &v, sizeof(v) };
			int rc;
			for (int tries = 0; (rc = ffs_sock_sendv(st, sender[k], &iov, 1, PEER_ADDR, 9999)) == -EAGAIN || rc == -ENOBUFS; tries++) {
				CHECK(tries < WAIT_MS);
				usleep(1000);
			}
			CHECK_EQ_INT(rc, (int)sizeof(v));
		}
	}
	/* Both lcores put their datagrams on the port's one TX queue: all of them arrive there. */
	for (unsigned waited = 0; rte_ring_count(tx_rings[0]) < 2 * each && waited < WAIT_MS; waited++)
		usleep(1000);
	hold_lcores();
	unsigned udp[2] = { 0, 0 };
	struct rte_mbuf *m;
	while (rte_ring_dequeue(tx_rings[0], (void **)&m) == 0) {
		const uint8_t *f = rte_pktmbuf_mtod(m, const uint8_t *);
		if (rd_be16(f + 12) == ETH_TYPE_IPV4 && f[ETH_HDR_LEN + 9] == IPV4_PROTO_UDP)
			udp[rd_be16(f + ETH_HDR_LEN + IPV4_HDR_LEN) - 7100]++;
		rte_pktmbuf_free(m);
	}
	CHECK_EQ_INT(udp[0], each);
	CHECK_EQ_INT(udp[1], each);
	for (unsigned k = 0; k < 2; k++) {
		struct ffs_counters c = counters(k);
		CHECK_EQ_INT(c.udp_tx, each);
		CHECK_EQ_INT(c.eth_tx_dropped, 0);
	}
	release_lcores();
	ffs_sock_close(st, sender[0]);
	ffs_sock_close(st, sender[1]);
}

TEST(udp6_senders_on_both_lcores_share_the_one_tx_queue_with_good_checksums)
{
	setup();
	struct ip6_addr ours, peer, group;
	setup_addr6(&ours, &peer);
	/* A global-scope group: no neighbour to resolve, the frames leave at once. */
	CHECK(ip6_parse("ff0e::4242", &group) == 0);
	struct ffs_sock *sender[2] = { sock6_at(0, 7110, false), sock6_at(1, 7111, false) };
	const unsigned each = 100;
	struct ffs_counters before[2];
	read_counters(before);
	for (unsigned i = 0; i < each; i++) {
		for (unsigned k = 0; k < 2; k++) {
			uint8_t v[5] = { (uint8_t)i, (uint8_t)k, 1, 2, 3 };
			struct iovec iov = { v, sizeof(v) };
			int rc;
			for (int tries = 0; (rc = ffs_sock_sendv6(st, sender[k], &iov, 1, NULL, &group, 1, 9999)) == -EAGAIN || rc == -ENOBUFS; tries++) {
				CHECK(tries < WAIT_MS);
				usleep(1000);
			}
			CHECK_EQ_INT(rc, (int)sizeof(v));
		}
	}
	/* At least the datagrams (the port's own MLD reports may be among them), read with the lcores held. */
	for (unsigned waited = 0; rte_ring_count(tx_rings[0]) < 2 * each && waited < WAIT_MS; waited++)
		usleep(1000);
	usleep(10000);
	hold_lcores();
	unsigned udp[2] = { 0, 0 }, bad = 0;
	struct rte_mbuf *m;
	while (rte_ring_dequeue(tx_rings[0], (void **)&m) == 0) {
		const uint8_t *f = rte_pktmbuf_mtod(m, const uint8_t *);
		struct ipv6_repr ip;
		struct udp_repr u;
		if (rd_be16(f + 12) == ETH_TYPE_IPV6 &&
		    ipv6_repr_parse(f + ETH_HDR_LEN, rte_pktmbuf_data_len(m) - ETH_HDR_LEN, &ip, NULL) == WIRE_OK &&
		    ip.next_header == IPV6_NH_UDP && ip6_eq(&ip.dst, &group)) {
			/* The device sums nothing here (net_ring offers no offload): the stack did. */
			if (udp6_repr_parse(f + ETH_HDR_LEN + ip.hdr_len, ip.payload_len, &ip.src, &ip.dst, &WIRE_CSUM_SOFTWARE,
					    &u) != WIRE_OK || !ip6_eq(&ip.src, &ours))
				bad++;
			else if (u.src_port == 7110 || u.src_port == 7111)
				udp[u.src_port - 7110]++;
		}
		rte_pktmbuf_free(m);
	}
	CHECK_EQ_INT(bad, 0);
	CHECK_EQ_INT(udp[0], each);
	CHECK_EQ_INT(udp[1], each);
	for (unsigned k = 0; k < 2; k++) {
		struct ffs_counters c = counters(k);
		CHECK_EQ_INT(c.udp_tx - before[k].udp_tx, each);
		CHECK_EQ_INT(c.udp_tx_errors - before[k].udp_tx_errors, 0);
		CHECK_EQ_INT(c.eth_tx_dropped - before[k].eth_tx_dropped, 0);
	}
	release_lcores();
	ffs_sock_close(st, sender[0]);
	ffs_sock_close(st, sender[1]);
}

TEST(ipv6_fragments_steered_to_their_pair_lcore_are_counted_once_in_the_ipv6_input_counters)
{
	/* Two RX queues, one per lcore, and no software dispatcher: frames fed into the first queue's
	 * ring arrive on lcore 0 as a NIC's RSS would have put them there. */
	setup();
	ffs_app_free(st, apps[0]);
	ffs_app_free(st, apps[1]);
	ffs_stack_stop(st);
	start_on_ring_port(2, 2);
	CHECK(!st->ports[0].rx_dispatch);
	struct ip6_addr ours, peer;
	setup_addr6(&ours, &peer);
	while (ffs_rss_lcore(ffs_rss_hash_ipv6(peer.b, ours.b), 2) != 1)
		peer.b[15]++;
	static uint8_t payload[3000], msg[ICMP6_HDR_LEN + sizeof(payload)];
	for (size_t i = 0; i < sizeof(payload); i++)
		payload[i] = (uint8_t)(i * 5 + 3);
	CHECK_EQ_INT(icmp6_echo_emit(ICMP6_ECHO_REQUEST, 0x4343, 1, payload, sizeof(payload), &peer, &ours, msg, sizeof(msg)),
		     sizeof(msg));
	hold_lcores();
	struct ffs_counters before[2] = { counters(0), counters(1) };
	inject_ip6_fragment(&peer, &ours, 0x7007, msg, 0, 1448, true);
	inject_ip6_fragment(&peer, &ours, 0x7007, msg, 1448, 1448, true);
	inject_ip6_fragment(&peer, &ours, 0x7007, msg, 2896, (uint16_t)(sizeof(msg) - 2896), false);
	release_lcores();
	struct ffs_counters after[2];
	for (unsigned waited = 0; waited < WAIT_MS; waited++) {
		read_counters(after);
		if (after[1].icmp6_echo_in != before[1].icmp6_echo_in)
			break;
		usleep(1000);
	}
	CHECK_EQ_INT(after[1].icmp6_echo_in - before[1].icmp6_echo_in, 1);
	CHECK_EQ_INT(after[0].ip6_frag_steered - before[0].ip6_frag_steered, 3);
	CHECK_EQ_INT(after[1].ip6_fragments - before[1].ip6_fragments, 3);
	CHECK_EQ_INT(after[1].ip6_reassembled - before[1].ip6_reassembled, 1);
	/* Received once, on lcore 0, as IPv4's steered fragments are counted. */
	CHECK_EQ_INT(after[0].ip6_rx - before[0].ip6_rx, 3);
	CHECK_EQ_INT(after[1].ip6_rx - before[1].ip6_rx, 0);
	CHECK_EQ_INT(after[0].ip6_delivered + after[1].ip6_delivered - before[0].ip6_delivered - before[1].ip6_delivered, 1);
}

int main(int argc, char **argv)
{
	int rc = test__main(argc, argv, __FILE__);
	if (st)
		ffs_stack_stop(st);
	return rc;
}
