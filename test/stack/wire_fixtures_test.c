/*
 * End-to-end parsing of frames the Linux kernel sent between two veth ends in a private network
 * namespace (test/fixtures/veth.hex, made by test/fixtures/capture.sh): Ethernet -> ARP, and
 * Ethernet -> IPv4 -> ICMP/UDP with every kernel checksum verified in software, then rebuilt with
 * the emit functions and compared byte for byte.
 *
 * The fixtures directory comes from $FFNET_FIXTURES, else test/fixtures relative to the working
 * directory (the repository root).
 */
#include <errno.h>

#include "stack/wire/arp.h"
#include "stack/wire/checksum.h"
#include "stack/wire/eth.h"
#include "stack/wire/icmp.h"
#include "stack/wire/ipv4.h"
#include "stack/wire/udp.h"
#include "test/stack/harness.h"
#include "test/stack/fixtures.h"

#define MAX_FRAMES 16
#define MAX_FRAME_LEN 1518

/* capture.sh sends these, in this order. */
enum { ARP_REQUEST, ARP_REPLY, ECHO_REQUEST, ECHO_REPLY, UDP_OFFLOADED, UDP_FULL, N_FRAMES };

#define IP1 0x0a630001u
#define IP2 0x0a630002u
static const struct eth_addr mac1 = { { 0x02, 0x00, 0x00, 0x99, 0x00, 0x01 } };
static const struct eth_addr mac2 = { { 0x02, 0x00, 0x00, 0x99, 0x00, 0x02 } };

static struct fixture_frame frames[MAX_FRAMES];
static int n_frames = -1;

static void load_frames(void)
{
	if (n_frames < 0)
		n_frames = fixture_load("veth.hex", frames, MAX_FRAMES);
}

static const struct fixture_frame *frame(int i)
{
	load_frames();
	if (i >= n_frames)
		FAIL("veth.hex holds %d frames, frame %d missing", n_frames, i);
	return &frames[i];
}

/* Parses Ethernet and IPv4 (checksum verified in software); returns the IPv4 payload. */
static const uint8_t *parse_ipv4_frame(const struct fixture_frame *fr, struct eth_repr *eth, struct ipv4_repr *ip)
{
	CHECK_EQ_INT(eth_repr_parse(fr->b, fr->len, eth), WIRE_OK);
	CHECK_EQ_INT(eth->ethertype, ETH_TYPE_IPV4);
	CHECK_EQ_INT(ipv4_repr_parse(fr->b + ETH_HDR_LEN, fr->len - ETH_HDR_LEN, &WIRE_CSUM_SOFTWARE, ip), WIRE_OK);
	CHECK_EQ_INT(ip->hdr_len, IPV4_HDR_LEN);
	return fr->b + ETH_HDR_LEN + ip->hdr_len;
}

TEST(fixture_loads)
{
	load_frames();
	CHECK_EQ_INT(n_frames, N_FRAMES);
	for (int i = 0; i < n_frames; i++)
		CHECK(frames[i].len >= 42);
}

TEST(arp_request)
{
	const struct fixture_frame *fr = frame(ARP_REQUEST);
	struct eth_repr eth;
	struct arp_repr arp;
	CHECK_EQ_INT(eth_repr_parse(fr->b, fr->len, &eth), WIRE_OK);
	CHECK(eth_addr_is_broadcast(&eth.dst));
	CHECK(eth_addr_eq(&eth.src, &mac1));
	CHECK_EQ_INT(eth.ethertype, ETH_TYPE_ARP);
	CHECK_EQ_INT(arp_repr_parse(fr->b + ETH_HDR_LEN, fr->len - ETH_HDR_LEN, &arp), WIRE_OK);
	CHECK_EQ_INT(arp.op, ARP_OP_REQUEST);
	CHECK(eth_addr_eq(&arp.sha, &eth.src));
	CHECK_EQ_INT(arp.spa, IP1);
	CHECK(eth_addr_is_zero(&arp.tha));
	CHECK_EQ_INT(arp.tpa, IP2);
}

TEST(arp_reply_rebuilt_from_request)
{
	const struct fixture_frame *req = frame(ARP_REQUEST), *rep = frame(ARP_REPLY);
	struct eth_repr eth;
	struct arp_repr arp;
	uint8_t buf[64];

	CHECK_EQ_INT(eth_repr_parse(req->b, req->len, &eth), WIRE_OK);
	CHECK_EQ_INT(arp_repr_parse(req->b + ETH_HDR_LEN, req->len - ETH_HDR_LEN, &arp), WIRE_OK);
	/* RFC 826: swap sender and target, put in the local addresses, set the opcode to reply. */
	struct eth_repr eth_out = { .dst = eth.src, .src = mac2, .ethertype = ETH_TYPE_ARP };
	struct arp_repr arp_out = { .op = ARP_OP_REPLY, .sha = mac2, .spa = arp.tpa, .tha = arp.sha, .tpa = arp.spa };
	size_t n = eth_repr_emit(&eth_out, buf, sizeof buf);
	CHECK_EQ_INT(n, ETH_HDR_LEN);
	n += arp_repr_emit(&arp_out, buf + n, sizeof buf - n);
	CHECK_EQ_INT(n, rep->len);
	CHECK_MEM(buf, rep->b, rep->len);

	CHECK_EQ_INT(arp_repr_parse(rep->b + ETH_HDR_LEN, rep->len - ETH_HDR_LEN, &arp), WIRE_OK);
	CHECK_EQ_INT(arp.op, ARP_OP_REPLY);
	CHECK(eth_addr_eq(&arp.sha, &mac2));
}

TEST(icmp_echo_request)
{
	const struct fixture_frame *fr = frame(ECHO_REQUEST);
	struct eth_repr eth;
	struct ipv4_repr ip;
	struct icmp_repr icmp;
	const uint8_t *l4 = parse_ipv4_frame(fr, &eth, &ip);
	CHECK(eth_addr_eq(&eth.dst, &mac2));
	CHECK_EQ_INT(ip.src, IP1);
	CHECK_EQ_INT(ip.dst, IP2);
	CHECK_EQ_INT(ip.proto, IPV4_PROTO_ICMP);
	CHECK_EQ_INT(ip.ttl, 64);
	CHECK(ip.dont_frag);
	CHECK_EQ_INT(ip.payload_len, ICMP_HDR_LEN + 37);
	CHECK_EQ_INT(icmp_repr_parse(l4, ip.payload_len, &WIRE_CSUM_SOFTWARE, &icmp), WIRE_OK);
	CHECK_EQ_INT(icmp.type, ICMP_ECHO_REQUEST);
	CHECK_EQ_INT(icmp.code, 0);
	CHECK_EQ_INT(icmp.seq, 1);
	CHECK_EQ_INT(icmp.data_len, 37);
	/* ping -p a5 fills what follows its 16-byte timestamp with the pattern. */
	for (size_t i = 16; i < icmp.data_len; i++)
		CHECK_EQ_INT(icmp.data[i], 0xa5);
}

TEST(icmp_echo_reply_rebuilt_from_request)
{
	const struct fixture_frame *req = frame(ECHO_REQUEST), *rep = frame(ECHO_REPLY);
	struct eth_repr eth;
	struct ipv4_repr ip, rep_ip;
	struct icmp_repr icmp, rep_icmp;
	uint8_t buf[MAX_FRAME_LEN];

	const uint8_t *l4 = parse_ipv4_frame(req, &eth, &ip);
	CHECK_EQ_INT(icmp_repr_parse(l4, ip.payload_len, &WIRE_CSUM_SOFTWARE, &icmp), WIRE_OK);
	const uint8_t *rep_l4 = parse_ipv4_frame(rep, &eth, &rep_ip);
	CHECK_EQ_INT(rep_ip.src, IP2);
	CHECK_EQ_INT(rep_ip.dst, IP1);
	CHECK_EQ_INT(icmp_repr_parse(rep_l4, rep_ip.payload_len, &WIRE_CSUM_SOFTWARE, &rep_icmp), WIRE_OK);
	CHECK_EQ_INT(rep_icmp.type, ICMP_ECHO_REPLY);
	CHECK_EQ_INT(rep_icmp.ident, icmp.ident);
	CHECK_EQ_INT(rep_icmp.seq, icmp.seq);

	/* The reply built the way ffnet builds it, with the kernel's IP id and flags, is the kernel's. */
	struct eth_repr eth_out = { .dst = mac1, .src = mac2, .ethertype = ETH_TYPE_IPV4 };
	struct ipv4_repr ip_out = {
		.src = ip.dst, .dst = ip.src, .proto = IPV4_PROTO_ICMP, .ttl = 64, .id = rep_ip.id,
		.dont_frag = rep_ip.dont_frag, .payload_len = ip.payload_len,
	};
	icmp.type = ICMP_ECHO_REPLY;
	size_t n = eth_repr_emit(&eth_out, buf, sizeof buf);
	n += ipv4_repr_emit(&ip_out, buf + n, sizeof buf - n, &WIRE_CSUM_SOFTWARE);
	n += icmp_repr_emit(&icmp, buf + n, sizeof buf - n);
	CHECK_EQ_INT(n, rep->len);
	CHECK_MEM(buf, rep->b, rep->len);
}

TEST(udp_with_full_checksum)
{
	const struct fixture_frame *fr = frame(UDP_FULL);
	struct eth_repr eth;
	struct ipv4_repr ip;
	struct udp_repr udp;
	const uint8_t *l4 = parse_ipv4_frame(fr, &eth, &ip);
	CHECK_EQ_INT(ip.proto, IPV4_PROTO_UDP);
	CHECK_EQ_INT(ip.src, IP1);
	CHECK_EQ_INT(ip.dst, IP2);
	CHECK(rd_be16(l4 + 6) != 0);
	CHECK_EQ_INT(udp_repr_parse(l4, ip.payload_len, ip.src, ip.dst, &WIRE_CSUM_SOFTWARE, &udp), WIRE_OK);
	CHECK_EQ_INT(udp.src_port, 40000);
	CHECK_EQ_INT(udp.dst_port, 9000);
	CHECK_EQ_INT(udp.payload_len, 12);
	CHECK_MEM(l4 + UDP_HDR_LEN, "hello ffnet\n", 12);
}

TEST(udp_frame_rebuilt)
{
	const struct fixture_frame *fr = frame(UDP_FULL);
	struct eth_repr eth;
	struct ipv4_repr ip;
	struct udp_repr udp;
	uint8_t buf[MAX_FRAME_LEN];
	const uint8_t *l4 = parse_ipv4_frame(fr, &eth, &ip);
	CHECK_EQ_INT(udp_repr_parse(l4, ip.payload_len, ip.src, ip.dst, &WIRE_CSUM_SOFTWARE, &udp), WIRE_OK);

	size_t off = ETH_HDR_LEN + IPV4_HDR_LEN;
	memcpy(buf + off + UDP_HDR_LEN, l4 + UDP_HDR_LEN, udp.payload_len);
	CHECK_EQ_INT(udp_repr_emit(&udp, buf + off, sizeof buf - off, ip.src, ip.dst, &WIRE_CSUM_SOFTWARE), UDP_HDR_LEN);
	CHECK_EQ_INT(ipv4_repr_emit(&ip, buf + ETH_HDR_LEN, IPV4_HDR_LEN, &WIRE_CSUM_SOFTWARE), IPV4_HDR_LEN);
	CHECK_EQ_INT(eth_repr_emit(&eth, buf, ETH_HDR_LEN), ETH_HDR_LEN);
	CHECK_EQ_INT(off + UDP_HDR_LEN + udp.payload_len, fr->len);
	CHECK_MEM(buf, fr->b, fr->len);
}

TEST(udp_with_offloaded_checksum)
{
	const struct fixture_frame *fr = frame(UDP_OFFLOADED), *full = frame(UDP_FULL);
	struct eth_repr eth;
	struct ipv4_repr ip;
	struct udp_repr udp;
	static const struct wire_csum_caps rx_l4_verified = { .rx_l4_verified = true };
	static const struct wire_csum_caps tx_udp_offload = { .tx_udp_offload = true };
	uint8_t buf[MAX_FRAME_LEN];

	/* The kernel left the pseudo-header seed for the device: not a valid checksum on the wire. */
	const uint8_t *l4 = parse_ipv4_frame(fr, &eth, &ip);
	CHECK_EQ_INT(udp_repr_parse(l4, ip.payload_len, ip.src, ip.dst, &WIRE_CSUM_SOFTWARE, &udp), WIRE_BAD_CHECKSUM);
	CHECK_EQ_INT(udp_repr_parse(l4, ip.payload_len, ip.src, ip.dst, &rx_l4_verified, &udp), WIRE_OK);
	CHECK_EQ_INT(rd_be16(l4 + 6), (uint16_t)~csum_fold(csum_pseudo_ipv4(ip.src, ip.dst, IPV4_PROTO_UDP, ip.payload_len)));

	/* ffnet's offload emit writes the same seed. */
	memcpy(buf + UDP_HDR_LEN, l4 + UDP_HDR_LEN, udp.payload_len);
	CHECK_EQ_INT(udp_repr_emit(&udp, buf, sizeof buf, ip.src, ip.dst, &tx_udp_offload), UDP_HDR_LEN);
	CHECK_MEM(buf, l4, ip.payload_len);

	/* Same datagram, same UDP bytes once completed as the device would. */
	wr_be16(buf + 6, csum_buf(buf, ip.payload_len));
	CHECK_MEM(buf, full->b + ETH_HDR_LEN + IPV4_HDR_LEN, ip.payload_len);
}

TEST(every_ipv4_frame_checksums_verify)
{
	load_frames();
	int seen = 0;
	for (int i = 0; i < n_frames; i++) {
		const struct fixture_frame *fr = &frames[i];
		if (rd_be16(fr->b + 12) != ETH_TYPE_IPV4)
			continue;
		const uint8_t *iph = fr->b + ETH_HDR_LEN;
		size_t hdr_len = (iph[0] & 0xf) * 4u;
		if (csum_buf(iph, hdr_len) != 0)
			FAIL("frame %d: IPv4 header checksum does not verify", i);
		seen++;
	}
	CHECK_EQ_INT(seen, 4);
}

TEST_MAIN()
