/*
 * udp_blast: a raw-PMD UDP load generator for ffnet's echo path — it runs no ffnet stack, so the echo
 * server on the other end of the memif link is the only stack measured.
 *
 *   udp_blast --socket PATH [--size 64] [--seconds 5] [--cpu 0] [--sports 4] [--queues 1] [--rsize 10]
 *             [--mac 02:00:00:00:00:01] [--peer-mac MAC] [--memif-role client|server] [--idle-file PATH] [--ipv6]
 *
 * Over net_memif (role=client by default, its MAC fixed by --mac; as client it lays out the rings,
 * 2^--rsize descriptors each), one lcore pinned to --cpu does everything in one loop:
 *  - transmits copies of pre-built Ethernet/IPv4/UDP frames, 10.88.0.1:SPORT → 10.88.0.2:7, with a
 *    --size-byte UDP payload and correct IPv4 and UDP checksums; SPORT cycles through --sports
 *    values from 10000 up (the flows), one template each. With --queues N the port has N queue pairs
 *    and each flow leaves on the queue RSS would give it on the receiving side: the Toeplitz hash of
 *    its 4-tuple under ffnet's key, mod N (stack/phy/rss.h) — so a multi-queue ffnet port behaves as
 *    behind a NIC with RSS. Every queue must get a flow. Frames go out as fast as rte_eth_tx_burst
 *    takes them, each queue in turn; a full queue does not hold back the others;
 *  - receives from every queue with rte_eth_rx_burst and counts the echoes: IPv4/UDP frames from 10.88.0.2:7 to
 *    10.88.0.1 at one of those ports, with the sent UDP length; other frames but ARP count as bad;
 *  - answers ARP requests for 10.88.0.1, and learns the peer's MAC from its ARP reply when
 *    --peer-mac is not given (an ARP request for 10.88.0.2 goes out every PROBE_MS until then).
 * With --ipv6 the same over IPv6: frames fd00:88::1.SPORT → fd00:88::2.7 (Ethernet/IPv6/UDP, UDP
 * checksum over the IPv6 pseudo-header, payload up to 1452 bytes), echoes recognised alike, and
 * Neighbor Discovery in ARP's place: neighbor solicitations for fd00:88::1 are answered (RFC 4861
 * §7.2.4), the peer's MAC is learnt from its advertisement or from the link-layer address option of
 * its solicitations, and while it is unknown a solicitation for fd00:88::2 goes out every PROBE_MS.
 * Other ICMPv6 (the peer's DAD probes, MLD reports) is neither an echo nor bad. One queue only: the
 * stack's RSS model hashes UDP/IPv4 4-tuples alone.
 * Before measuring it sends one probe every PROBE_MS until the first echo arrives; then it counts
 * for --seconds. Prints one JSON line:
 * {"size":…,"frame_bytes":…,"seconds":…,"tx_pps":…,"echoed_pps":…,"sent":…,"echoed":…,"bad":…,
 *  "tx_mbps":…,"echoed_mbps":…,"arp_replies":…,"queues":…,"flows_per_queue":[…],"sent_per_queue":[…]}
 * where sent counts frames rte_eth_tx_burst accepted, echoed the valid echoes received and bad the
 * other frames that were not ARP, all within the measured seconds; sizes in bytes are the UDP payload (size) and the whole frame.
 *
 * With --idle-file, once it has printed its figures it stops polling the port, creates PATH, and waits
 * (without polling, at most LINGER_S) for the peer to disconnect before it closes the port: memif
 * unmaps the shared rings on a disconnect under a data path still polling them, so the peer leaves
 * once PATH exists, and this end leaves once the peer has gone (bench/common.ts, "leaving a memif link").
 *
 * The process pins itself with EAL's --lcores 0@CPU and runs without hugepages or PCI.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>
#include <rte_memcpy.h>
#include <rte_mempool.h>

#include "bench/bench_common.h"
#include "stack/phy/rss.h"
#include "stack/wire/eth.h"
#include "stack/wire/icmp6.h"
#include "stack/wire/ipv6.h"
#include "stack/wire/udp.h"

#define BURST 32
/** RX bursts drained per loop turn before the next TX burst: echoes are never starved by sending. */
#define RX_ROUNDS 4
#define NB_MBUF 8191
#define NB_DESC 1024
#define MAX_SPORTS 256
#define MAX_QUEUES 8
#define SPORT_BASE 10000
#define DST_PORT 7
#define LINK_WAIT_S 20.0
#define PROBE_MS 100
#define PROBE_LIMIT_S 20.0
/** After the measured seconds, echoes still in flight are received (not counted) for this long. */
#define DRAIN_MS 100
/** With --idle-file: how long, at most, it waits without polling for the peer to disconnect. */
#define LINGER_S 60.0

#define ETH_HDR 14
#define IP_HDR 20
#define UDP_HDR 8
#define ETYPE_IPV4 0x0800
#define ETYPE_ARP 0x0806
#define ETYPE_IPV6 0x86dd

static const uint8_t SRC_IP[4] = { 10, 88, 0, 1 }, DST_IP[4] = { 10, 88, 0, 2 };
/** --ipv6: this end and the peer (bench/common.ts SEND_ADDR6, RECV_ADDR6). */
static const struct ip6_addr SRC_IP6 = { { 0xfd, 0, 0, 0x88, [15] = 1 } }, DST_IP6 = { { 0xfd, 0, 0, 0x88, [15] = 2 } };

struct blast {
	uint16_t port;
	uint8_t mac[6], peer_mac[6];
	bool have_peer;
	bool v6;
	/** The IP header's length: IP_HDR, or IPV6_HDR_LEN with --ipv6. */
	unsigned ip_hdr;
	unsigned size, frame_len, sports, queues;
	uint8_t tmpl[MAX_SPORTS][ETH_HDR + IP_HDR + UDP_HDR + 1472];
	/** The templates of each queue's flows, by index into tmpl. */
	uint16_t queue_tmpl[MAX_QUEUES][MAX_SPORTS];
	unsigned queue_flows[MAX_QUEUES];
	unsigned long long echoed, bad, arp_replies, na_sent;
	bool counting;
};

static void usage(void)
{
	fprintf(stderr, "usage: udp_blast --socket PATH [--size 64] [--seconds 5] [--cpu 0] [--sports 4] [--queues 1] [--rsize 10] "
			"[--mac 02:00:00:00:00:01] [--peer-mac MAC] [--memif-role client|server] [--idle-file PATH] [--ipv6]\n");
	exit(2);
}

static void parse_mac(const char *opt, const char *v, uint8_t mac[6])
{
	unsigned b[6];
	char tail;
	if (sscanf(v, "%2x:%2x:%2x:%2x:%2x:%2x%c", &b[0], &b[1], &b[2], &b[3], &b[4], &b[5], &tail) != 6 || (b[0] & 1)) {
		fprintf(stderr, "udp_blast: %s takes a unicast MAC aa:bb:cc:dd:ee:ff\n", opt);
		exit(2);
	}
	for (int i = 0; i < 6; i++)
		mac[i] = (uint8_t)b[i];
}

/** An IPv4 address given as its four bytes, in host order (as the RSS hash takes it). */
static uint32_t ipv4_host(const uint8_t a[4])
{
	return (uint32_t)a[0] << 24 | (uint32_t)a[1] << 16 | (uint32_t)a[2] << 8 | a[3];
}

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

/** One's-complement sum of big-endian 16-bit words (odd last byte padded with zero), unfolded. */
static uint32_t sum16(const uint8_t *p, size_t len, uint32_t sum)
{
	for (; len >= 2; p += 2, len -= 2)
		sum += get16(p);
	if (len)
		sum += (uint32_t)p[0] << 8;
	return sum;
}

static uint16_t fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

/** Writes the frame to 10.88.0.2:7 from 10.88.0.1:sport into f (frame_len bytes). */
static void build_frame(const struct blast *b, uint8_t *f, uint16_t sport)
{
	memset(f, 0, b->frame_len);
	memcpy(f, b->peer_mac, 6);
	memcpy(f + 6, b->mac, 6);
	put16(f + 12, ETYPE_IPV4);
	uint8_t *ip = f + ETH_HDR;
	ip[0] = 0x45;
	put16(ip + 2, (uint16_t)(IP_HDR + UDP_HDR + b->size));
	put16(ip + 6, 0x4000); /* DF */
	ip[8] = 64;
	ip[9] = 17;
	memcpy(ip + 12, SRC_IP, 4);
	memcpy(ip + 16, DST_IP, 4);
	put16(ip + 10, fold(sum16(ip, IP_HDR, 0)));
	uint8_t *udp = ip + IP_HDR;
	uint16_t udp_len = (uint16_t)(UDP_HDR + b->size);
	put16(udp, sport);
	put16(udp + 2, DST_PORT);
	put16(udp + 4, udp_len);
	uint8_t *payload = udp + UDP_HDR;
	for (unsigned i = 0; i < b->size; i++)
		payload[i] = (uint8_t)('a' + i % 26);
	/* RFC 768: pseudo-header (addresses, protocol, UDP length), then header and payload. */
	uint32_t sum = sum16(ip + 12, 8, 0) + 17 + udp_len;
	uint16_t c = fold(sum16(udp, udp_len, sum));
	put16(udp + 6, c ? c : 0xffff);
}

/** Writes the frame to [fd00:88::2]:7 from [fd00:88::1]:sport into f (frame_len bytes). */
static void build_frame6(const struct blast *b, uint8_t *f, uint16_t sport)
{
	memset(f, 0, b->frame_len);
	memcpy(f, b->peer_mac, 6);
	memcpy(f + 6, b->mac, 6);
	put16(f + 12, ETYPE_IPV6);
	uint16_t udp_len = (uint16_t)(UDP_HDR + b->size);
	struct ipv6_repr ip = { .src = SRC_IP6, .dst = DST_IP6, .next_header = IPV6_NH_UDP, .hop_limit = 64, .payload_len = udp_len };
	ipv6_repr_emit(&ip, f + ETH_HDR, IPV6_HDR_LEN);
	uint8_t *udp = f + ETH_HDR + IPV6_HDR_LEN;
	for (unsigned i = 0; i < b->size; i++)
		udp[UDP_HDR + i] = (uint8_t)('a' + i % 26);
	struct udp_repr u = { .src_port = sport, .dst_port = DST_PORT, .payload_len = (uint16_t)b->size };
	struct wire_csum_caps sw = { 0 };
	udp6_repr_emit(&u, udp, udp_len, &SRC_IP6, &DST_IP6, &sw);
}

/** Sends a copy of one frame of `len` bytes on `queue`; returns whether the PMD took it. */
static bool send_one(struct blast *b, struct rte_mempool *pool, uint16_t queue, const uint8_t *frame, uint16_t len)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(pool);
	if (!m)
		return false;
	uint8_t *p = (uint8_t *)rte_pktmbuf_append(m, len);
	if (!p) {
		rte_pktmbuf_free(m);
		return false;
	}
	memcpy(p, frame, len);
	if (rte_eth_tx_burst(b->port, queue, &m, 1) == 1)
		return true;
	rte_pktmbuf_free(m);
	return false;
}

/** An ARP frame (request or reply) from us: sender 10.88.0.1 at our MAC. */
static void build_arp(const struct blast *b, uint8_t f[60], uint16_t op, const uint8_t tha[6], const uint8_t tpa[4],
		      const uint8_t eth_dst[6])
{
	memset(f, 0, 60);
	memcpy(f, eth_dst, 6);
	memcpy(f + 6, b->mac, 6);
	put16(f + 12, ETYPE_ARP);
	uint8_t *a = f + ETH_HDR;
	put16(a, 1);          /* Ethernet */
	put16(a + 2, 0x0800); /* IPv4 */
	a[4] = 6;
	a[5] = 4;
	put16(a + 6, op);
	memcpy(a + 8, b->mac, 6);
	memcpy(a + 14, SRC_IP, 4);
	memcpy(a + 18, tha, 6);
	memcpy(a + 24, tpa, 4);
}

/** Answers a request for 10.88.0.1 and learns 10.88.0.2's MAC from its request or reply. */
static void handle_arp(struct blast *b, struct rte_mempool *pool, const uint8_t *f, uint32_t len)
{
	if (len < ETH_HDR + 28)
		return;
	const uint8_t *a = f + ETH_HDR;
	if (get16(a) != 1 || get16(a + 2) != 0x0800 || a[4] != 6 || a[5] != 4)
		return;
	uint16_t op = get16(a + 6);
	if (!b->have_peer && memcmp(a + 14, DST_IP, 4) == 0 && !(a[8] & 1)) {
		memcpy(b->peer_mac, a + 8, 6);
		b->have_peer = true;
	}
	if (op == 1 && memcmp(a + 24, SRC_IP, 4) == 0) {
		uint8_t reply[60];
		build_arp(b, reply, 2, a + 8, a + 14, a + 8);
		if (send_one(b, pool, 0, reply, sizeof(reply)))
			b->arp_replies++;
	}
}

/** An ICMPv6 Neighbor Discovery frame from us (NS or NA) of `icmp_len` bytes already at f + 54: the
 *  Ethernet and IPv6 headers (hop limit 255, RFC 4861 §7.1) around it. Returns the frame length. */
static uint16_t nd_frame(const struct blast *b, uint8_t *f, const uint8_t eth_dst[6], const struct ip6_addr *src,
			 const struct ip6_addr *dst, size_t icmp_len)
{
	memcpy(f, eth_dst, 6);
	memcpy(f + 6, b->mac, 6);
	put16(f + 12, ETYPE_IPV6);
	struct ipv6_repr ip = { .src = *src, .dst = *dst, .next_header = IPV6_NH_ICMPV6, .hop_limit = 255, .payload_len = (uint16_t)icmp_len };
	ipv6_repr_emit(&ip, f + ETH_HDR, IPV6_HDR_LEN);
	return (uint16_t)(ETH_HDR + IPV6_HDR_LEN + icmp_len);
}

/** A solicitation for fd00:88::2 to its solicited-node group, with our link-layer address. */
static void solicit_peer(struct blast *b, struct rte_mempool *pool)
{
	uint8_t f[128];
	struct ip6_addr group;
	struct eth_addr gmac, mine;
	ip6_solicited_node(&DST_IP6, &group);
	eth_addr_from_ipv6_multicast(&group, &gmac);
	memcpy(mine.b, b->mac, 6);
	size_t n = nd_ns_emit(&DST_IP6, &mine, &SRC_IP6, &group, f + ETH_HDR + IPV6_HDR_LEN, sizeof(f) - ETH_HDR - IPV6_HDR_LEN);
	send_one(b, pool, 0, f, nd_frame(b, f, gmac.b, &SRC_IP6, &group, n));
}

/** Answers a solicitation for fd00:88::1 (to ff02::1 when it came from ::, RFC 4861 §7.2.4) and learns
 *  fd00:88::2's MAC from its solicitation's or advertisement's link-layer address option. */
static void handle_icmp6(struct blast *b, struct rte_mempool *pool, const uint8_t *f, uint32_t len)
{
	struct ipv6_repr ip;
	struct icmp6_repr ic;
	struct nd_repr nd;
	struct wire_csum_caps sw = { 0 };
	const uint8_t *p = f + ETH_HDR;
	if (ipv6_repr_parse(p, len - ETH_HDR, &ip, NULL) != WIRE_OK || ip.next_header != IPV6_NH_ICMPV6 || ip.fragment)
		return;
	const uint8_t *msg = p + ip.hdr_len;
	size_t msg_len = (size_t)IPV6_HDR_LEN + ip.payload_len - ip.hdr_len;
	if (icmp6_repr_parse(msg, msg_len, &ip.src, &ip.dst, &sw, &ic) != WIRE_OK || nd_repr_parse(msg, msg_len, &ip, &nd) != WIRE_OK)
		return;
	if (!b->have_peer && ip6_eq(&ip.src, &DST_IP6) && (nd.type == ND_NEIGHBOR_SOLICIT ? nd.has_slla : nd.has_tlla)) {
		memcpy(b->peer_mac, nd.type == ND_NEIGHBOR_SOLICIT ? nd.slla.b : nd.tlla.b, 6);
		b->have_peer = true;
	}
	if (nd.type != ND_NEIGHBOR_SOLICIT || !ip6_eq(&nd.target, &SRC_IP6))
		return;
	bool dad = ip6_is_unspecified(&ip.src);
	const struct ip6_addr *to = dad ? &IP6_ALL_NODES : &ip.src;
	struct eth_addr mine, to_mac;
	memcpy(mine.b, b->mac, 6);
	if (dad)
		eth_addr_from_ipv6_multicast(to, &to_mac);
	else
		memcpy(to_mac.b, f + 6, 6);
	uint8_t out[128];
	size_t n = nd_na_emit(&SRC_IP6, &mine, false, !dad, true, &SRC_IP6, to, out + ETH_HDR + IPV6_HDR_LEN, sizeof(out) - ETH_HDR - IPV6_HDR_LEN);
	if (send_one(b, pool, 0, out, nd_frame(b, out, to_mac.b, &SRC_IP6, to, n)))
		b->na_sent++;
}

/** Whether f is an echo of one of our frames: UDP [fd00:88::2]:7 → [fd00:88::1]:SPORT, sent length. */
static inline bool is_echo6(const struct blast *b, const uint8_t *f, uint32_t len)
{
	if (len < b->frame_len)
		return false;
	const uint8_t *ip = f + ETH_HDR;
	const uint8_t *udp = ip + IPV6_HDR_LEN;
	unsigned sport = (unsigned)get16(udp + 2) - SPORT_BASE;
	return (ip[0] >> 4) == 6 && ip[6] == IPV6_NH_UDP && get16(ip + 4) == UDP_HDR + b->size &&
	       memcmp(ip + 8, DST_IP6.b, 16) == 0 && memcmp(ip + 24, SRC_IP6.b, 16) == 0 && get16(udp) == DST_PORT &&
	       sport < b->sports && get16(udp + 4) == UDP_HDR + b->size;
}

/** Whether f is an echo of one of our frames: UDP 10.88.0.2:7 → 10.88.0.1:SPORT, sent length. */
static inline bool is_echo(const struct blast *b, const uint8_t *f, uint32_t len)
{
	if (len < b->frame_len)
		return false;
	const uint8_t *ip = f + ETH_HDR;
	const uint8_t *udp = ip + IP_HDR;
	unsigned sport = (unsigned)get16(udp + 2) - SPORT_BASE;
	return ip[0] == 0x45 && ip[9] == 17 && get16(ip + 2) == IP_HDR + UDP_HDR + b->size &&
	       memcmp(ip + 12, DST_IP, 4) == 0 && memcmp(ip + 16, SRC_IP, 4) == 0 && get16(udp) == DST_PORT &&
	       sport < b->sports && get16(udp + 4) == UDP_HDR + b->size;
}

/** Receives up to RX_ROUNDS bursts from each queue; returns how many valid echoes arrived. */
static unsigned receive(struct blast *b, struct rte_mempool *pool)
{
	struct rte_mbuf *pkts[BURST];
	unsigned echoes = 0;
	for (uint16_t q = 0; q < b->queues; q++) {
		for (unsigned r = 0; r < RX_ROUNDS; r++) {
			uint16_t n = rte_eth_rx_burst(b->port, q, pkts, BURST);
			for (uint16_t i = 0; i < n; i++) {
				struct rte_mbuf *m = pkts[i];
				const uint8_t *f = rte_pktmbuf_mtod(m, const uint8_t *);
				uint32_t len = rte_pktmbuf_data_len(m);
				uint16_t type = len >= ETH_HDR ? get16(f + 12) : 0;
				if (b->v6 ? type == ETYPE_IPV6 && is_echo6(b, f, len) : type == ETYPE_IPV4 && is_echo(b, f, len))
					echoes++;
				else if (type == ETYPE_ARP)
					handle_arp(b, pool, f, len);
				else if (type == ETYPE_IPV6 && len > ETH_HDR + IPV6_HDR_LEN && f[ETH_HDR + 6] == IPV6_NH_ICMPV6)
					handle_icmp6(b, pool, f, len);
				else if (type == ETYPE_IPV6 && len > ETH_HDR + IPV6_HDR_LEN && f[ETH_HDR + 6] == IPV6_NH_HOPOPTS)
					; /* MLD reports (behind a Hop-by-Hop Router Alert) */
				else if (b->counting)
					b->bad++;
			}
			if (n)
				rte_pktmbuf_free_bulk(pkts, n);
			if (n < BURST)
				break;
		}
	}
	if (b->counting)
		b->echoed += echoes;
	return echoes;
}

/** No longer polling: says so in `idle_file`, then waits (bounded) for the peer to disconnect first. */
static void leave_link(uint16_t port, const char *idle_file)
{
	FILE *f = fopen(idle_file, "w");
	if (!f) {
		fprintf(stderr, "udp_blast: cannot create %s: %s\n", idle_file, strerror(errno));
		return;
	}
	fclose(f);
	double until = now_s() + LINGER_S;
	struct rte_eth_link link;
	while (now_s() < until) {
		if (rte_eth_link_get_nowait(port, &link) == 0 && link.link_status == RTE_ETH_LINK_DOWN)
			return;
		usleep(10000);
	}
	fprintf(stderr, "udp_blast: the peer was still connected %.0f s after this end went idle\n", LINGER_S);
}

int main(int argc, char *argv[])
{
	static struct blast b;
	const char *sock = NULL, *memif_role = "client", *mac = "02:00:00:00:00:01", *idle_file = NULL;
	long size = 64, seconds = 5, cpu = 0, sports = 4, queues = 1, rsize = 10;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (strcmp(a, "--ipv6") == 0) {
			b.v6 = true;
			continue;
		}
		if (!v)
			usage();
		if (strcmp(a, "--socket") == 0)
			sock = v;
		else if (strcmp(a, "--memif-role") == 0)
			memif_role = v;
		else if (strcmp(a, "--idle-file") == 0)
			idle_file = v;
		else if (strcmp(a, "--size") == 0)
			size = parse_number("udp_blast", a, v, 18, 1472);
		else if (strcmp(a, "--seconds") == 0)
			seconds = parse_number("udp_blast", a, v, 1, 3600);
		else if (strcmp(a, "--cpu") == 0)
			cpu = parse_number("udp_blast", a, v, 0, 1023);
		else if (strcmp(a, "--sports") == 0)
			sports = parse_number("udp_blast", a, v, 1, MAX_SPORTS);
		else if (strcmp(a, "--rsize") == 0)
			rsize = parse_number("udp_blast", a, v, 1, 14); /* memif's own bound on log2 ring size */
		else if (strcmp(a, "--queues") == 0)
			queues = parse_number("udp_blast", a, v, 1, MAX_QUEUES);
		else if (strcmp(a, "--mac") == 0)
			mac = v;
		else if (strcmp(a, "--peer-mac") == 0) {
			parse_mac(a, v, b.peer_mac);
			b.have_peer = true;
		} else
			usage();
		i++;
	}
	if (!sock || (strcmp(memif_role, "client") != 0 && strcmp(memif_role, "server") != 0))
		usage();
	parse_mac("--mac", mac, b.mac);
	if (b.v6 && (size > 1452 || queues != 1)) {
		fprintf(stderr, "udp_blast: --ipv6 takes --size up to 1452 and one queue\n");
		return 2;
	}
	b.size = (unsigned)size;
	b.ip_hdr = b.v6 ? IPV6_HDR_LEN : IP_HDR;
	b.frame_len = ETH_HDR + b.ip_hdr + UDP_HDR + b.size;
	b.sports = (unsigned)sports;
	b.queues = (unsigned)queues;
	for (unsigned s = 0; s < b.sports; s++) {
		uint16_t sport = (uint16_t)(SPORT_BASE + s);
		unsigned q = ffs_rss_lcore(ffs_rss_hash_udp4(ipv4_host(SRC_IP), ipv4_host(DST_IP), sport, DST_PORT), b.queues);
		b.queue_tmpl[q][b.queue_flows[q]++] = (uint16_t)s;
	}
	for (unsigned q = 0; q < b.queues; q++) {
		if (b.queue_flows[q] == 0) {
			fprintf(stderr, "udp_blast: no flow of the %u hashes to queue %u: give more --sports\n", b.sports, q);
			return 2;
		}
	}

	char lcores[32], prefix[64], vdev[600];
	snprintf(lcores, sizeof(lcores), "0@%ld", cpu);
	snprintf(prefix, sizeof(prefix), "--file-prefix=udp-blast-%d", (int)getpid());
	snprintf(vdev, sizeof(vdev), "--vdev=net_memif0,role=%s,socket=%s,mac=%s,rsize=%ld", memif_role, sock, mac, rsize);
	char *eal[] = { argv[0], "--no-huge", "-m", "256", "--no-pci", "--lcores", lcores, prefix, vdev,
			"--log-level", "warning", NULL };
	if (rte_eal_init((int)(sizeof(eal) / sizeof(eal[0])) - 1, eal) < 0) {
		fprintf(stderr, "udp_blast: rte_eal_init failed\n");
		return 1;
	}
	struct rte_mempool *pool = rte_pktmbuf_pool_create("blast", NB_MBUF, 256, 0, RTE_MBUF_DEFAULT_BUF_SIZE, (int)rte_socket_id());
	if (!pool) {
		fprintf(stderr, "udp_blast: cannot create the mbuf pool\n");
		return 1;
	}
	b.port = 0;
	struct rte_eth_conf conf;
	memset(&conf, 0, sizeof(conf));
	uint16_t nb_rxd = NB_DESC, nb_txd = NB_DESC;
	bool ok = rte_eth_dev_count_avail() >= 1 && rte_eth_dev_configure(b.port, (uint16_t)b.queues, (uint16_t)b.queues, &conf) == 0 &&
		  rte_eth_dev_adjust_nb_rx_tx_desc(b.port, &nb_rxd, &nb_txd) == 0;
	for (uint16_t q = 0; ok && q < b.queues; q++)
		ok = rte_eth_rx_queue_setup(b.port, q, nb_rxd, (unsigned)rte_socket_id(), NULL, pool) == 0 &&
		     rte_eth_tx_queue_setup(b.port, q, nb_txd, (unsigned)rte_socket_id(), NULL) == 0;
	if (!ok || rte_eth_dev_start(b.port) != 0) {
		fprintf(stderr, "udp_blast: cannot start the memif port with %u queue pairs\n", b.queues);
		return 1;
	}

	/* Wait for the peer: memif's link comes up when both ends have connected. */
	double t0 = now_s();
	struct rte_eth_link link = { 0 };
	while (now_s() - t0 < LINK_WAIT_S) {
		rte_eth_link_get_nowait(b.port, &link);
		if (link.link_status == RTE_ETH_LINK_UP)
			break;
		usleep(1000);
	}
	if (link.link_status != RTE_ETH_LINK_UP) {
		fprintf(stderr, "udp_blast: the memif link did not come up within %.0f s\n", LINK_WAIT_S);
		return 1;
	}

	/* Pre-warm: resolve the peer if needed, then probe until the first echo comes back. */
	static const uint8_t bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff }, zero[6] = { 0 };
	double probe_until = now_s() + PROBE_LIMIT_S, next_probe = 0;
	bool built = false;
	for (;;) {
		double t = now_s();
		if (receive(&b, pool) && built)
			break;
		if (t >= probe_until) {
			fprintf(stderr, "udp_blast: %s from %s:%d within %.0f s\n",
				b.have_peer ? "no echo" : b.v6 ? "no neighbor advertisement" : "no ARP reply",
				b.v6 ? "[fd00:88::2]" : "10.88.0.2", DST_PORT, PROBE_LIMIT_S);
			return 1;
		}
		if (b.have_peer && !built) {
			for (unsigned s = 0; s < b.sports; s++)
				(b.v6 ? build_frame6 : build_frame)(&b, b.tmpl[s], (uint16_t)(SPORT_BASE + s));
			built = true;
		}
		if (t >= next_probe) {
			if (built) {
				/* One probe per queue: with several receivers, any of them may be the one that echoes. */
				for (uint16_t q = 0; q < b.queues; q++)
					send_one(&b, pool, q, b.tmpl[b.queue_tmpl[q][0]], (uint16_t)b.frame_len);
			} else if (b.v6) {
				solicit_peer(&b, pool);
			} else {
				uint8_t req[60];
				build_arp(&b, req, 1, zero, DST_IP, bcast);
				send_one(&b, pool, 0, req, sizeof(req));
			}
			next_probe = t + PROBE_MS / 1000.0;
		}
	}

	/* Measure: each turn drains the echoes, then offers one TX burst per queue of fresh copies of
	 * that queue's templates (as testpmd's txonly engine does); the PMD frees them once it has copied
	 * them out. */
	uint64_t hz = rte_get_tsc_hz();
	static uint64_t sent_q[MAX_QUEUES];
	static struct rte_mbuf *pkts[MAX_QUEUES][BURST];
	uint16_t have[MAX_QUEUES] = { 0 };
	unsigned next_tmpl[MAX_QUEUES] = { 0 };
	b.counting = true;
	double start = now_s();
	uint64_t tsc_start = rte_rdtsc(), tsc_end = tsc_start + (uint64_t)seconds * hz;
	for (;;) {
		if (rte_rdtsc() >= tsc_end)
			break;
		receive(&b, pool);
		for (uint16_t q = 0; q < b.queues; q++) {
			struct rte_mbuf **qp = pkts[q];
			if (have[q] < BURST && rte_pktmbuf_alloc_bulk(pool, qp + have[q], BURST - have[q]) == 0) {
				for (uint16_t i = have[q]; i < BURST; i++) {
					struct rte_mbuf *m = qp[i];
					m->data_len = (uint16_t)b.frame_len;
					m->pkt_len = b.frame_len;
					rte_memcpy(rte_pktmbuf_mtod(m, uint8_t *), b.tmpl[b.queue_tmpl[q][next_tmpl[q]]], b.frame_len);
					if (++next_tmpl[q] == b.queue_flows[q])
						next_tmpl[q] = 0;
				}
				have[q] = BURST;
			}
			uint16_t n = have[q] ? rte_eth_tx_burst(b.port, q, qp, have[q]) : 0;
			/* Unsent frames move to the front and go out with the queue's next burst. */
			for (uint16_t i = n; i < have[q]; i++)
				qp[i - n] = qp[i];
			have[q] = (uint16_t)(have[q] - n);
			sent_q[q] += n;
		}
	}
	double secs = now_s() - start;
	b.counting = false;
	uint64_t sent = 0;
	for (unsigned q = 0; q < b.queues; q++) {
		rte_pktmbuf_free_bulk(pkts[q], have[q]);
		sent += sent_q[q];
	}
	double drain_until = now_s() + DRAIN_MS / 1000.0;
	while (now_s() < drain_until)
		receive(&b, pool);

	if (secs <= 0)
		secs = 1e-9;
	printf("{\"size\":%u,\"frame_bytes\":%u,\"seconds\":%.3f,\"tx_pps\":%.1f,\"echoed_pps\":%.1f,\"sent\":%llu,"
	       "\"echoed\":%llu,\"bad\":%llu,\"tx_mbps\":%.1f,\"echoed_mbps\":%.1f,\"arp_replies\":%llu,\"na_sent\":%llu,\"family\":\"%s\"",
	       b.size, b.frame_len, secs, (double)sent / secs, (double)b.echoed / secs, (unsigned long long)sent, b.echoed,
	       b.bad, (double)sent * b.frame_len * 8 / secs / 1e6, (double)b.echoed * b.frame_len * 8 / secs / 1e6,
	       b.arp_replies, b.na_sent, b.v6 ? "udp6" : "udp4");
	printf(",\"queues\":%u,\"flows_per_queue\":[", b.queues);
	for (unsigned q = 0; q < b.queues; q++)
		printf("%s%u", q ? "," : "", b.queue_flows[q]);
	printf("],\"sent_per_queue\":[");
	for (unsigned q = 0; q < b.queues; q++)
		printf("%s%llu", q ? "," : "", (unsigned long long)sent_q[q]);
	printf("]}\n");
	fflush(stdout);
	if (idle_file)
		leave_link(b.port, idle_file);
	rte_eth_dev_stop(b.port);
	rte_eth_dev_close(b.port);
	rte_eal_cleanup();
	return 0;
}
