/*
 * IPv4 headers and dotted-quad addresses (stack/wire/ipv4.c). The literal datagrams are an ICMP
 * echo request and a UDP datagram the Linux kernel sent from 10.99.0.1 to 10.99.0.2
 * (test/fixtures/veth.hex), and an IGMPv2 report with a Router Alert option whose checksums were
 * verified with Wireshark.
 */
#include <arpa/inet.h>

#include "stack/wire/checksum.h"
#include "stack/wire/ipv4.h"
#include "test/stack/harness.h"

_Static_assert(sizeof(struct ipv4_hdr) == IPV4_HDR_LEN, "ipv4_hdr matches the wire");

#define IP1 0x0a630001u
#define IP2 0x0a630002u

/* 10.99.0.1 -> 10.99.0.2, ICMP echo request, id 0xd327, DF, TTL 64, total length 65. */
static const uint8_t echo_datagram[65] = {
	0x45, 0x00, 0x00, 0x41, 0xd3, 0x27, 0x40, 0x00, 0x40, 0x01, 0x52, 0xcc, 0x0a, 0x63, 0x00, 0x01,
	0x0a, 0x63, 0x00, 0x02,
	0x08, 0x00, 0x8f, 0x25, 0x1a, 0x05, 0x00, 0x01, 0xd9, 0x5a, 0x02, 0x6b, 0x00, 0x00, 0x00, 0x00,
	0x54, 0x95, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0xa5, 0xa5, 0xa5, 0xa5, 0xa5, 0xa5, 0xa5, 0xa5,
	0xa5, 0xa5, 0xa5, 0xa5, 0xa5, 0xa5, 0xa5, 0xa5, 0xa5, 0xa5, 0xa5, 0xa5, 0xa5,
};
/* 10.99.0.1:40000 -> 10.99.0.2:9000 "hello ffnet\n", id 0x82ab, DF, TTL 64, total length 40,
 * followed by the 6 bytes of padding a minimum-size Ethernet frame would carry. */
static const uint8_t udp_datagram_padded[46] = {
	0x45, 0x00, 0x00, 0x28, 0x82, 0xab, 0x40, 0x00, 0x40, 0x11, 0xa3, 0x51, 0x0a, 0x63, 0x00, 0x01,
	0x0a, 0x63, 0x00, 0x02,
	0x9c, 0x40, 0x23, 0x28, 0x00, 0x14, 0x9e, 0xcc, 0x68, 0x65, 0x6c, 0x6c, 0x6f, 0x20, 0x66, 0x66,
	0x6e, 0x65, 0x74, 0x0a,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
};
/* 10.99.0.1 -> 224.0.0.251, IGMP, TTL 1, tos 0xc0, IHL 6 with Router Alert (94 04 00 00). */
static const uint8_t igmp_with_option[32] = {
	0x46, 0xc0, 0x00, 0x20, 0x00, 0x00, 0x40, 0x00, 0x01, 0x02, 0xf8, 0xb8, 0x0a, 0x63, 0x00, 0x01,
	0xe0, 0x00, 0x00, 0xfb, 0x94, 0x04, 0x00, 0x00,
	0x16, 0x00, 0x09, 0x04, 0xe0, 0x00, 0x00, 0xfb,
};

static const struct wire_csum_caps rx_ipv4_verified = { .rx_ipv4_verified = true };
static const struct wire_csum_caps tx_ipv4_offload = { .tx_ipv4_offload = true };

static void fix_checksum(uint8_t *buf)
{
	size_t hdr_len = (buf[0] & 0x0f) * 4u;
	wr_be16(buf + 10, 0);
	wr_be16(buf + 10, csum_buf(buf, hdr_len));
}

/* Parses the echo datagram after setting one byte, optionally with the checksum fixed up. */
static enum wire_result parse_modified(size_t offset, uint8_t value, bool fix)
{
	uint8_t buf[sizeof echo_datagram];
	struct ipv4_repr r;
	memcpy(buf, echo_datagram, sizeof buf);
	buf[offset] = value;
	if (fix)
		fix_checksum(buf);
	return ipv4_repr_parse(buf, sizeof buf, &WIRE_CSUM_SOFTWARE, &r);
}

TEST(deconstruct)
{
	struct ipv4_hdr h;
	memcpy(&h, echo_datagram, sizeof h);
	CHECK_EQ_INT(h.version_ihl >> 4, 4);
	CHECK_EQ_INT(h.version_ihl & 0xf, 5);
	CHECK_EQ_INT(h.tos, 0);
	CHECK_EQ_INT(ntohs(h.total_length), 65);
	CHECK_EQ_INT(ntohs(h.id), 0xd327);
	CHECK_EQ_INT(ntohs(h.frag), IPV4_FLAG_DF);
	CHECK_EQ_INT(h.ttl, 64);
	CHECK_EQ_INT(h.proto, IPV4_PROTO_ICMP);
	CHECK_EQ_INT(ntohs(h.checksum), 0x52cc);
	CHECK_EQ_INT(ntohl(h.src), IP1);
	CHECK_EQ_INT(ntohl(h.dst), IP2);
}

TEST(construct)
{
	struct ipv4_hdr h = {
		.version_ihl = 0x45, .total_length = htons(40), .id = htons(0x82ab), .frag = htons(IPV4_FLAG_DF),
		.ttl = 64, .proto = IPV4_PROTO_UDP, .src = htonl(IP1), .dst = htonl(IP2),
	};
	uint8_t buf[IPV4_HDR_LEN];
	memcpy(buf, &h, sizeof h);
	wr_be16(buf + offsetof(struct ipv4_hdr, checksum), csum_buf(buf, sizeof buf));
	CHECK_MEM(buf, udp_datagram_padded, IPV4_HDR_LEN);
}

TEST(parse)
{
	struct ipv4_repr r;
	CHECK_EQ_INT(ipv4_repr_parse(echo_datagram, sizeof echo_datagram, &WIRE_CSUM_SOFTWARE, &r), WIRE_OK);
	CHECK_EQ_INT(r.src, IP1);
	CHECK_EQ_INT(r.dst, IP2);
	CHECK_EQ_INT(r.proto, IPV4_PROTO_ICMP);
	CHECK_EQ_INT(r.ttl, 64);
	CHECK_EQ_INT(r.tos, 0);
	CHECK_EQ_INT(r.id, 0xd327);
	CHECK(r.dont_frag);
	CHECK(!r.more_frags);
	CHECK_EQ_INT(r.frag_offset, 0);
	CHECK_EQ_INT(r.hdr_len, 20);
	CHECK_EQ_INT(r.payload_len, 45);
}

TEST(emit)
{
	struct ipv4_repr r = {
		.src = IP1, .dst = IP2, .proto = IPV4_PROTO_ICMP, .ttl = 64, .id = 0xd327, .dont_frag = true,
		.payload_len = 45,
	};
	uint8_t buf[IPV4_HDR_LEN + 1];
	memset(buf, 0xaa, sizeof buf);
	CHECK_EQ_INT(ipv4_repr_emit(&r, buf, sizeof buf, &WIRE_CSUM_SOFTWARE), IPV4_HDR_LEN);
	CHECK_MEM(buf, echo_datagram, IPV4_HDR_LEN);
	CHECK_EQ_INT(buf[IPV4_HDR_LEN], 0xaa);
}

TEST(emit_ignores_repr_hdr_len)
{
	struct ipv4_repr r = {
		.src = IP1, .dst = IP2, .proto = IPV4_PROTO_UDP, .ttl = 64, .id = 0x82ab, .dont_frag = true,
		.hdr_len = 24, .payload_len = 20,
	};
	uint8_t buf[IPV4_HDR_LEN];
	CHECK_EQ_INT(ipv4_repr_emit(&r, buf, sizeof buf, &WIRE_CSUM_SOFTWARE), IPV4_HDR_LEN);
	CHECK_MEM(buf, udp_datagram_padded, IPV4_HDR_LEN);
}

TEST(round_trip_fragment)
{
	struct ipv4_repr in = {
		.src = 0xc0a80001, .dst = 0xe00000fb, .proto = IPV4_PROTO_UDP, .ttl = 1, .tos = 0xb8, .id = 0xbeef,
		.more_frags = true, .frag_offset = 1480, .payload_len = 1480,
	};
	struct ipv4_repr out;
	uint8_t buf[IPV4_HDR_LEN + 1480] = { 0 };
	CHECK_EQ_INT(ipv4_repr_emit(&in, buf, sizeof buf, &WIRE_CSUM_SOFTWARE), IPV4_HDR_LEN);
	CHECK_EQ_INT(rd_be16(buf + 6), IPV4_FLAG_MF | 185);
	CHECK_EQ_INT(ipv4_repr_parse(buf, sizeof buf, &WIRE_CSUM_SOFTWARE, &out), WIRE_OK);
	CHECK_EQ_INT(out.src, in.src);
	CHECK_EQ_INT(out.dst, in.dst);
	CHECK_EQ_INT(out.proto, in.proto);
	CHECK_EQ_INT(out.ttl, in.ttl);
	CHECK_EQ_INT(out.tos, in.tos);
	CHECK_EQ_INT(out.id, in.id);
	CHECK(!out.dont_frag);
	CHECK(out.more_frags);
	CHECK_EQ_INT(out.frag_offset, 1480);
	CHECK_EQ_INT(out.hdr_len, IPV4_HDR_LEN);
	CHECK_EQ_INT(out.payload_len, 1480);
}

TEST(parse_largest_fragment_offset)
{
	uint8_t buf[IPV4_HDR_LEN];
	struct ipv4_repr r;
	memcpy(buf, echo_datagram, sizeof buf);
	wr_be16(buf + 2, IPV4_HDR_LEN);
	wr_be16(buf + 6, IPV4_FRAG_OFFSET_MASK);
	fix_checksum(buf);
	CHECK_EQ_INT(ipv4_repr_parse(buf, sizeof buf, &WIRE_CSUM_SOFTWARE, &r), WIRE_OK);
	CHECK_EQ_INT(r.frag_offset, 65528);
	CHECK(!r.dont_frag);
	CHECK(!r.more_frags);
	CHECK_EQ_INT(r.payload_len, 0);
}

TEST(parse_ignores_frame_padding)
{
	struct ipv4_repr r;
	CHECK_EQ_INT(ipv4_repr_parse(udp_datagram_padded, sizeof udp_datagram_padded, &WIRE_CSUM_SOFTWARE, &r),
		     WIRE_OK);
	CHECK_EQ_INT(r.proto, IPV4_PROTO_UDP);
	CHECK_EQ_INT(r.payload_len, 20);
}

TEST(parse_skips_options)
{
	struct ipv4_repr r;
	CHECK_EQ_INT(ipv4_repr_parse(igmp_with_option, sizeof igmp_with_option, &WIRE_CSUM_SOFTWARE, &r), WIRE_OK);
	CHECK_EQ_INT(r.hdr_len, 24);
	CHECK_EQ_INT(r.payload_len, 8);
	CHECK_EQ_INT(r.proto, IPV4_PROTO_IGMP);
	CHECK_EQ_INT(r.ttl, 1);
	CHECK_EQ_INT(r.tos, 0xc0);
	CHECK_EQ_INT(r.dst, 0xe00000fb);
	CHECK(ipv4_is_multicast(r.dst));
}

TEST(parse_checksum_covers_options)
{
	uint8_t buf[sizeof igmp_with_option];
	struct ipv4_repr r;
	memcpy(buf, igmp_with_option, sizeof buf);
	buf[22] = 0x01; /* Router Alert value, inside the header */
	CHECK_EQ_INT(ipv4_repr_parse(buf, sizeof buf, &WIRE_CSUM_SOFTWARE, &r), WIRE_BAD_CHECKSUM);
	memcpy(buf, igmp_with_option, sizeof buf);
	buf[26] = 0x00; /* IGMP checksum, outside it */
	CHECK_EQ_INT(ipv4_repr_parse(buf, sizeof buf, &WIRE_CSUM_SOFTWARE, &r), WIRE_OK);
}

TEST(parse_maximum_header_length)
{
	uint8_t buf[60] = { 0 };
	struct ipv4_repr r;
	memcpy(buf, echo_datagram, IPV4_HDR_LEN);
	buf[0] = 0x4f;
	wr_be16(buf + 2, 60);
	fix_checksum(buf);
	CHECK_EQ_INT(ipv4_repr_parse(buf, sizeof buf, &WIRE_CSUM_SOFTWARE, &r), WIRE_OK);
	CHECK_EQ_INT(r.hdr_len, 60);
	CHECK_EQ_INT(r.payload_len, 0);
}

TEST(parse_truncated)
{
	struct ipv4_repr r;
	CHECK_EQ_INT(ipv4_check_len(echo_datagram, IPV4_HDR_LEN - 1), WIRE_TRUNCATED);
	CHECK_EQ_INT(ipv4_repr_parse(echo_datagram, IPV4_HDR_LEN - 1, &WIRE_CSUM_SOFTWARE, &r), WIRE_TRUNCATED);
	CHECK_EQ_INT(ipv4_repr_parse(echo_datagram, 0, &WIRE_CSUM_SOFTWARE, &r), WIRE_TRUNCATED);
}

TEST(parse_bad_version)
{
	CHECK_EQ_INT(parse_modified(0, 0x65, true), WIRE_BAD_VERSION);
	CHECK_EQ_INT(parse_modified(0, 0x05, true), WIRE_BAD_VERSION);
	CHECK_EQ_INT(parse_modified(0, 0xf5, false), WIRE_BAD_VERSION);
}

TEST(parse_bad_ihl)
{
	uint8_t buf[40];
	struct ipv4_repr r;
	CHECK_EQ_INT(parse_modified(0, 0x44, true), WIRE_BAD_HDRLEN);
	CHECK_EQ_INT(parse_modified(0, 0x40, true), WIRE_BAD_HDRLEN);
	/* IHL 15 claims a 60-byte header in a 40-byte buffer. */
	memcpy(buf, udp_datagram_padded, sizeof buf);
	buf[0] = 0x4f;
	CHECK_EQ_INT(ipv4_check_len(buf, sizeof buf), WIRE_BAD_HDRLEN);
	CHECK_EQ_INT(ipv4_repr_parse(buf, sizeof buf, &WIRE_CSUM_SOFTWARE, &r), WIRE_BAD_HDRLEN);
	/* The option header cut after its fixed part. */
	CHECK_EQ_INT(ipv4_repr_parse(igmp_with_option, 23, &WIRE_CSUM_SOFTWARE, &r), WIRE_BAD_HDRLEN);
}

TEST(parse_total_length_beyond_buffer)
{
	struct ipv4_repr r;
	CHECK_EQ_INT(ipv4_check_len(echo_datagram, sizeof echo_datagram - 1), WIRE_BAD_LENGTH);
	CHECK_EQ_INT(ipv4_repr_parse(echo_datagram, sizeof echo_datagram - 1, &WIRE_CSUM_SOFTWARE, &r),
		     WIRE_BAD_LENGTH);
	CHECK_EQ_INT(ipv4_repr_parse(echo_datagram, IPV4_HDR_LEN, &WIRE_CSUM_SOFTWARE, &r), WIRE_BAD_LENGTH);
	CHECK_EQ_INT(parse_modified(2, 0xff, true), WIRE_BAD_LENGTH);
}

TEST(parse_total_length_below_header)
{
	uint8_t buf[sizeof igmp_with_option];
	struct ipv4_repr r;
	CHECK_EQ_INT(parse_modified(3, 19, true), WIRE_BAD_LENGTH);
	CHECK_EQ_INT(parse_modified(3, 0, true), WIRE_BAD_LENGTH);
	/* 20 bytes cannot hold a 24-byte header. */
	memcpy(buf, igmp_with_option, sizeof buf);
	buf[3] = 20;
	fix_checksum(buf);
	CHECK_EQ_INT(ipv4_repr_parse(buf, sizeof buf, &WIRE_CSUM_SOFTWARE, &r), WIRE_BAD_LENGTH);
}

TEST(parse_bad_checksum)
{
	CHECK_EQ_INT(parse_modified(11, 0xcd, false), WIRE_BAD_CHECKSUM);
	CHECK_EQ_INT(parse_modified(15, 0x09, false), WIRE_BAD_CHECKSUM);
}

TEST(parse_checksum_skipped_when_device_verified)
{
	uint8_t buf[sizeof echo_datagram];
	struct ipv4_repr r;
	memcpy(buf, echo_datagram, sizeof buf);
	buf[11] = 0x00;
	CHECK_EQ_INT(ipv4_repr_parse(buf, sizeof buf, &WIRE_CSUM_SOFTWARE, &r), WIRE_BAD_CHECKSUM);
	CHECK_EQ_INT(ipv4_repr_parse(buf, sizeof buf, &rx_ipv4_verified, &r), WIRE_OK);
	CHECK_EQ_INT(r.payload_len, 45);
}

TEST(parse_ttl_zero)
{
	CHECK_EQ_INT(parse_modified(8, 0, true), WIRE_BAD_TTL);
	CHECK_EQ_INT(parse_modified(8, 1, true), WIRE_OK);
}

TEST(parse_refusal_order)
{
	uint8_t buf[sizeof echo_datagram];
	struct ipv4_repr r;

	/* version before IHL */
	memcpy(buf, echo_datagram, sizeof buf);
	buf[0] = 0x61;
	CHECK_EQ_INT(ipv4_repr_parse(buf, sizeof buf, &WIRE_CSUM_SOFTWARE, &r), WIRE_BAD_VERSION);
	/* IHL before total length */
	buf[0] = 0x41;
	buf[2] = 0xff;
	CHECK_EQ_INT(ipv4_repr_parse(buf, sizeof buf, &WIRE_CSUM_SOFTWARE, &r), WIRE_BAD_HDRLEN);
	/* total length before checksum */
	buf[0] = 0x45;
	CHECK_EQ_INT(ipv4_repr_parse(buf, sizeof buf, &WIRE_CSUM_SOFTWARE, &r), WIRE_BAD_LENGTH);
	/* checksum before TTL */
	buf[2] = 0x00;
	buf[8] = 0;
	CHECK_EQ_INT(ipv4_repr_parse(buf, sizeof buf, &WIRE_CSUM_SOFTWARE, &r), WIRE_BAD_CHECKSUM);
	CHECK_EQ_INT(ipv4_repr_parse(buf, sizeof buf, &rx_ipv4_verified, &r), WIRE_BAD_TTL);
}

TEST(emit_with_offload_leaves_checksum_zero)
{
	struct ipv4_repr r = {
		.src = IP1, .dst = IP2, .proto = IPV4_PROTO_ICMP, .ttl = 64, .id = 0xd327, .dont_frag = true,
		.payload_len = 45,
	};
	uint8_t want[IPV4_HDR_LEN], buf[IPV4_HDR_LEN];
	memcpy(want, echo_datagram, sizeof want);
	want[10] = want[11] = 0;
	memset(buf, 0xaa, sizeof buf);
	CHECK_EQ_INT(ipv4_repr_emit(&r, buf, sizeof buf, &tx_ipv4_offload), IPV4_HDR_LEN);
	CHECK_MEM(buf, want, sizeof want);
}

TEST(emit_refuses_small_buffer)
{
	struct ipv4_repr r = { .src = IP1, .dst = IP2, .proto = IPV4_PROTO_UDP, .ttl = 64 };
	uint8_t buf[IPV4_HDR_LEN];
	memset(buf, 0xaa, sizeof buf);
	CHECK_EQ_INT(ipv4_repr_emit(&r, buf, IPV4_HDR_LEN - 1, &WIRE_CSUM_SOFTWARE), 0);
	CHECK_EQ_INT(buf[0], 0xaa);
}

TEST(emit_refuses_oversized_payload)
{
	struct ipv4_repr r = { .src = IP1, .dst = IP2, .proto = IPV4_PROTO_UDP, .ttl = 64 };
	uint8_t buf[IPV4_HDR_LEN];
	r.payload_len = IPV4_MAX_LEN - IPV4_HDR_LEN + 1;
	CHECK_EQ_INT(ipv4_repr_emit(&r, buf, sizeof buf, &WIRE_CSUM_SOFTWARE), 0);
	r.payload_len = IPV4_MAX_LEN - IPV4_HDR_LEN;
	CHECK_EQ_INT(ipv4_repr_emit(&r, buf, sizeof buf, &WIRE_CSUM_SOFTWARE), IPV4_HDR_LEN);
	CHECK_EQ_INT(rd_be16(buf + 2), 0xffff);
}

TEST(address_classes)
{
	CHECK(ipv4_is_multicast(0xe0000000));
	CHECK(ipv4_is_multicast(0xefffffff));
	CHECK(!ipv4_is_multicast(0xdfffffff));
	CHECK(!ipv4_is_multicast(0xf0000000));
	CHECK(!ipv4_is_multicast(0xffffffff));
	CHECK(ipv4_is_loopback(0x7f000001));
	CHECK(ipv4_is_loopback(0x7fffffff));
	CHECK(!ipv4_is_loopback(0x80000000));
	CHECK(!ipv4_is_loopback(IP1));
}

TEST(format)
{
	char out[16];
	CHECK(ipv4_format(IP1, out) == out);
	CHECK_EQ_STR(out, "10.99.0.1");
	CHECK_EQ_STR(ipv4_format(0, out), "0.0.0.0");
	CHECK_EQ_STR(ipv4_format(0xffffffff, out), "255.255.255.255");
	CHECK_EQ_STR(ipv4_format(0xeffffffa, out), "239.255.255.250");
}

TEST(parse_address)
{
	static const struct { const char *s; uint32_t a; } good[] = {
		{ "10.99.0.1", IP1 },
		{ "0.0.0.0", 0 },
		{ "255.255.255.255", 0xffffffff },
		{ "127.0.0.1", 0x7f000001 },
		{ "239.255.255.250", 0xeffffffa },
		{ "1.20.100.0", 0x01146400 },
	};
	for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
		uint32_t a = 0x12345678;
		if (ipv4_parse(good[i].s, &a) != 0)
			FAIL("ipv4_parse(\"%s\") refused", good[i].s);
		CHECK_EQ_INT(a, good[i].a);
	}
}

TEST(parse_address_refuses_bad_strings)
{
	static const char *const bad[] = {
		"1.2.3", "256.1.1.1", "1.2.3.4.5", "", " 1.2.3.4", "1.2.3.4 ", "1.2.3.4\n", "1..2.3",
		"1.2.3.", ".1.2.3", "1.2.3.256", "1.2.3.-4", "1.2.3.+4", "1.2.3.0x4", "01.2.3.4", "1.2.3.00",
		"1000.1.1.1", "0001.1.1.1", "a.b.c.d", "4294967295", "1.2.3.4/24", "1,2,3,4", "999.999.999.999",
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		uint32_t a = 0x12345678;
		if (ipv4_parse(bad[i], &a) != -1)
			FAIL("ipv4_parse(\"%s\") accepted", bad[i]);
		CHECK_EQ_INT(a, 0x12345678);
	}
}

TEST(format_parse_round_trip)
{
	static const uint32_t addrs[] = { 0, 1, 0x0a000001, 0x7f000001, 0xc0a80101, 0xfffffffe, 0xffffffff };
	for (size_t i = 0; i < sizeof addrs / sizeof addrs[0]; i++) {
		char text[16];
		uint32_t a;
		CHECK_EQ_INT(ipv4_parse(ipv4_format(addrs[i], text), &a), 0);
		CHECK_EQ_INT(a, addrs[i]);
	}
}

TEST_MAIN()
