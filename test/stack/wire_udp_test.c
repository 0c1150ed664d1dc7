/*
 * UDP headers and checksums (stack/wire/udp.c). The literal datagrams are the ones the Linux kernel
 * sent from 10.99.0.1:40000 to 10.99.0.2:9000 over a veth pair (test/fixtures/veth.hex), once with
 * a full checksum and once with TX checksum offload (the field then holds the pseudo-header seed).
 * The odd-length and computed-zero datagrams were checked with Wireshark.
 */
#include <arpa/inet.h>

#include "stack/wire/checksum.h"
#include "stack/wire/udp.h"
#include "test/stack/harness.h"

_Static_assert(sizeof(struct udp_hdr) == UDP_HDR_LEN, "udp_hdr matches the wire");

#define IP1 0x0a630001u
#define IP2 0x0a630002u
#define HELLO 0x68, 0x65, 0x6c, 0x6c, 0x6f, 0x20, 0x66, 0x66, 0x6e, 0x65, 0x74, 0x0a /* "hello ffnet\n" */

static const uint8_t datagram[] = { 0x9c, 0x40, 0x23, 0x28, 0x00, 0x14, 0x9e, 0xcc, HELLO };
static const uint8_t datagram_offloaded[] = { 0x9c, 0x40, 0x23, 0x28, 0x00, 0x14, 0x14, 0xee, HELLO };
static const uint8_t datagram_no_checksum[] = { 0x9c, 0x40, 0x23, 0x28, 0x00, 0x14, 0x00, 0x00, HELLO };
static const uint8_t hello[] = { HELLO };
/* "hello": 13 bytes, the checksum covers an odd length. */
static const uint8_t datagram_odd[] = { 0x9c, 0x40, 0x23, 0x28, 0x00, 0x0d, 0xe7, 0xd0, 'h', 'e', 'l', 'l', 'o' };
/* A payload of 2b a9 makes the computed checksum 0, sent as ffff (RFC 768). */
static const uint8_t datagram_sum_zero[] = { 0x9c, 0x40, 0x23, 0x28, 0x00, 0x0a, 0xff, 0xff, 0x2b, 0xa9 };

static const struct wire_csum_caps rx_l4_verified = { .rx_l4_verified = true };
static const struct wire_csum_caps tx_udp_offload = { .tx_udp_offload = true };

static enum wire_result parse(const uint8_t *buf, size_t len, struct udp_repr *r)
{
	return udp_repr_parse(buf, len, IP1, IP2, &WIRE_CSUM_SOFTWARE, r);
}

TEST(deconstruct)
{
	struct udp_hdr h;
	memcpy(&h, datagram, sizeof h);
	CHECK_EQ_INT(ntohs(h.src_port), 40000);
	CHECK_EQ_INT(ntohs(h.dst_port), 9000);
	CHECK_EQ_INT(ntohs(h.length), 20);
	CHECK_EQ_INT(ntohs(h.checksum), 0x9ecc);
}

TEST(construct)
{
	struct udp_hdr h = { .src_port = htons(40000), .dst_port = htons(9000), .length = htons(20) };
	uint8_t buf[sizeof datagram];
	memcpy(buf, &h, sizeof h);
	memcpy(buf + sizeof h, hello, sizeof hello);
	uint32_t sum = csum_pseudo_ipv4(IP1, IP2, 17, 20);
	wr_be16(buf + offsetof(struct udp_hdr, checksum), csum_fold(csum_partial(buf, sizeof buf, sum)));
	CHECK_MEM(buf, datagram, sizeof datagram);
}

TEST(parse)
{
	struct udp_repr r;
	CHECK_EQ_INT(udp_check_len(datagram, sizeof datagram), WIRE_OK);
	CHECK_EQ_INT(parse(datagram, sizeof datagram, &r), WIRE_OK);
	CHECK_EQ_INT(r.src_port, 40000);
	CHECK_EQ_INT(r.dst_port, 9000);
	CHECK_EQ_INT(r.payload_len, 12);
}

TEST(emit)
{
	struct udp_repr r = { .src_port = 40000, .dst_port = 9000, .payload_len = sizeof hello };
	uint8_t buf[sizeof datagram + 1];
	memset(buf, 0xaa, UDP_HDR_LEN);
	memcpy(buf + UDP_HDR_LEN, hello, sizeof hello);
	buf[sizeof datagram] = 0x55;
	CHECK_EQ_INT(udp_repr_emit(&r, buf, sizeof buf, IP1, IP2, &WIRE_CSUM_SOFTWARE), UDP_HDR_LEN);
	CHECK_MEM(buf, datagram, sizeof datagram);
	CHECK_EQ_INT(buf[sizeof datagram], 0x55);
}

TEST(emit_odd_length)
{
	struct udp_repr r = { .src_port = 40000, .dst_port = 9000, .payload_len = 5 };
	uint8_t buf[sizeof datagram_odd];
	memcpy(buf + UDP_HDR_LEN, "hello", 5);
	CHECK_EQ_INT(udp_repr_emit(&r, buf, sizeof buf, IP1, IP2, &WIRE_CSUM_SOFTWARE), UDP_HDR_LEN);
	CHECK_MEM(buf, datagram_odd, sizeof datagram_odd);
	CHECK_EQ_INT(parse(datagram_odd, sizeof datagram_odd, &r), WIRE_OK);
	CHECK_EQ_INT(r.payload_len, 5);
}

TEST(round_trip)
{
	struct udp_repr in = { .src_port = 1, .dst_port = 65535, .payload_len = 3 }, out;
	uint8_t buf[UDP_HDR_LEN + 3] = { [8] = 0xff, 0xfe, 0xfd };
	CHECK_EQ_INT(udp_repr_emit(&in, buf, sizeof buf, 0xc0a80001, 0xe00000fb, &WIRE_CSUM_SOFTWARE), UDP_HDR_LEN);
	CHECK_EQ_INT(udp_repr_parse(buf, sizeof buf, 0xc0a80001, 0xe00000fb, &WIRE_CSUM_SOFTWARE, &out), WIRE_OK);
	CHECK_EQ_INT(out.src_port, 1);
	CHECK_EQ_INT(out.dst_port, 65535);
	CHECK_EQ_INT(out.payload_len, 3);
}

TEST(emit_with_offload_seeds_pseudo_header_sum)
{
	/* Byte for byte what the kernel handed to an offloading device. */
	struct udp_repr r = { .src_port = 40000, .dst_port = 9000, .payload_len = sizeof hello };
	uint8_t buf[sizeof datagram];
	memcpy(buf + UDP_HDR_LEN, hello, sizeof hello);
	CHECK_EQ_INT(udp_repr_emit(&r, buf, sizeof buf, IP1, IP2, &tx_udp_offload), UDP_HDR_LEN);
	CHECK_MEM(buf, datagram_offloaded, sizeof datagram_offloaded);
	/* Completing it as the NIC does (sum header and payload onto the seed) gives the full checksum. */
	wr_be16(buf + 6, csum_buf(buf, sizeof buf));
	CHECK_MEM(buf, datagram, sizeof datagram);
}

TEST(offloaded_frame_parses_when_device_verified)
{
	struct udp_repr r;
	CHECK_EQ_INT(parse(datagram_offloaded, sizeof datagram_offloaded, &r), WIRE_BAD_CHECKSUM);
	CHECK_EQ_INT(udp_repr_parse(datagram_offloaded, sizeof datagram_offloaded, IP1, IP2, &rx_l4_verified, &r),
		     WIRE_OK);
	CHECK_EQ_INT(r.payload_len, 12);
}

TEST(parse_zero_checksum_accepted)
{
	uint8_t buf[sizeof datagram_no_checksum];
	struct udp_repr r;
	CHECK_EQ_INT(parse(datagram_no_checksum, sizeof datagram_no_checksum, &r), WIRE_OK);
	CHECK_EQ_INT(r.payload_len, 12);
	/* RFC 768: zero means "no checksum", so even altered data is taken as it is. */
	memcpy(buf, datagram_no_checksum, sizeof buf);
	buf[10] ^= 0xff;
	CHECK_EQ_INT(parse(buf, sizeof buf, &r), WIRE_OK);
}

TEST(emit_computed_zero_sent_as_ffff)
{
	struct udp_repr r = { .src_port = 40000, .dst_port = 9000, .payload_len = 2 };
	uint8_t buf[sizeof datagram_sum_zero] = { [8] = 0x2b, 0xa9 };
	CHECK_EQ_INT(udp_repr_emit(&r, buf, sizeof buf, IP1, IP2, &WIRE_CSUM_SOFTWARE), UDP_HDR_LEN);
	CHECK_MEM(buf, datagram_sum_zero, sizeof datagram_sum_zero);
}

TEST(parse_ffff_checksum)
{
	struct udp_repr r;
	CHECK_EQ_INT(parse(datagram_sum_zero, sizeof datagram_sum_zero, &r), WIRE_OK);
	CHECK_EQ_INT(r.payload_len, 2);
}

TEST(parse_ignores_bytes_beyond_length)
{
	uint8_t buf[sizeof datagram + 6];
	struct udp_repr r;
	memcpy(buf, datagram, sizeof datagram);
	memset(buf + sizeof datagram, 0x77, 6);
	CHECK_EQ_INT(parse(buf, sizeof buf, &r), WIRE_OK);
	CHECK_EQ_INT(r.payload_len, 12);
}

TEST(parse_truncated)
{
	struct udp_repr r;
	CHECK_EQ_INT(udp_check_len(datagram, UDP_HDR_LEN - 1), WIRE_TRUNCATED);
	CHECK_EQ_INT(parse(datagram, UDP_HDR_LEN - 1, &r), WIRE_TRUNCATED);
	CHECK_EQ_INT(udp_repr_parse(datagram, 0, IP1, IP2, &rx_l4_verified, &r), WIRE_TRUNCATED);
}

TEST(parse_length_below_header)
{
	uint8_t buf[sizeof datagram_no_checksum];
	struct udp_repr r;
	memcpy(buf, datagram_no_checksum, sizeof buf);
	buf[5] = 7;
	CHECK_EQ_INT(udp_check_len(buf, sizeof buf), WIRE_BAD_LENGTH);
	CHECK_EQ_INT(parse(buf, sizeof buf, &r), WIRE_BAD_LENGTH);
	buf[5] = 0;
	CHECK_EQ_INT(udp_repr_parse(buf, sizeof buf, IP1, IP2, &rx_l4_verified, &r), WIRE_BAD_LENGTH);
}

TEST(parse_length_beyond_buffer)
{
	struct udp_repr r;
	CHECK_EQ_INT(udp_check_len(datagram, sizeof datagram - 1), WIRE_BAD_LENGTH);
	CHECK_EQ_INT(parse(datagram, sizeof datagram - 1, &r), WIRE_BAD_LENGTH);
	CHECK_EQ_INT(udp_repr_parse(datagram, UDP_HDR_LEN, IP1, IP2, &rx_l4_verified, &r), WIRE_BAD_LENGTH);
}

TEST(parse_empty_payload)
{
	uint8_t buf[UDP_HDR_LEN];
	struct udp_repr r = { .src_port = 53, .dst_port = 53 };
	CHECK_EQ_INT(udp_repr_emit(&r, buf, sizeof buf, IP1, IP2, &WIRE_CSUM_SOFTWARE), UDP_HDR_LEN);
	CHECK_EQ_INT(parse(buf, sizeof buf, &r), WIRE_OK);
	CHECK_EQ_INT(r.payload_len, 0);
}

TEST(parse_bad_checksum)
{
	uint8_t buf[sizeof datagram];
	struct udp_repr r;
	memcpy(buf, datagram, sizeof buf);
	buf[sizeof buf - 1] ^= 0x01;
	CHECK_EQ_INT(parse(buf, sizeof buf, &r), WIRE_BAD_CHECKSUM);
	memcpy(buf, datagram, sizeof buf);
	buf[7] ^= 0x10;
	CHECK_EQ_INT(parse(buf, sizeof buf, &r), WIRE_BAD_CHECKSUM);
}

TEST(parse_checksum_covers_pseudo_header)
{
	struct udp_repr r;
	CHECK_EQ_INT(udp_repr_parse(datagram, sizeof datagram, IP1, 0x0a630003, &WIRE_CSUM_SOFTWARE, &r),
		     WIRE_BAD_CHECKSUM);
	/* Swapping source and destination leaves the sum unchanged: the checksum cannot tell. */
	CHECK_EQ_INT(udp_repr_parse(datagram, sizeof datagram, IP2, IP1, &WIRE_CSUM_SOFTWARE, &r), WIRE_OK);
}

TEST(parse_checksum_skipped_when_device_verified)
{
	uint8_t buf[sizeof datagram];
	struct udp_repr r;
	memcpy(buf, datagram, sizeof buf);
	buf[8] = 'H';
	CHECK_EQ_INT(parse(buf, sizeof buf, &r), WIRE_BAD_CHECKSUM);
	CHECK_EQ_INT(udp_repr_parse(buf, sizeof buf, IP1, IP2, &rx_l4_verified, &r), WIRE_OK);
	CHECK_EQ_INT(r.dst_port, 9000);
}

TEST(emit_refuses_small_buffer)
{
	struct udp_repr r = { .src_port = 40000, .dst_port = 9000, .payload_len = sizeof hello };
	uint8_t buf[sizeof datagram];
	memset(buf, 0xaa, sizeof buf);
	CHECK_EQ_INT(udp_repr_emit(&r, buf, sizeof buf - 1, IP1, IP2, &WIRE_CSUM_SOFTWARE), 0);
	CHECK_EQ_INT(udp_repr_emit(&r, buf, UDP_HDR_LEN - 1, IP1, IP2, &WIRE_CSUM_SOFTWARE), 0);
	CHECK_EQ_INT(buf[0], 0xaa);
}

TEST(emit_refuses_payload_beyond_length_field)
{
	static uint8_t big[UDP_HDR_LEN + 65535];
	struct udp_repr r = { .src_port = 1, .dst_port = 2, .payload_len = 65535 - UDP_HDR_LEN + 1 };
	CHECK_EQ_INT(udp_repr_emit(&r, big, sizeof big, IP1, IP2, &WIRE_CSUM_SOFTWARE), 0);
	r.payload_len = 65535 - UDP_HDR_LEN;
	CHECK_EQ_INT(udp_repr_emit(&r, big, sizeof big, IP1, IP2, &WIRE_CSUM_SOFTWARE), UDP_HDR_LEN);
	CHECK_EQ_INT(rd_be16(big + 4), 65535);
	CHECK_EQ_INT(parse(big, 65535, &r), WIRE_OK);
	CHECK_EQ_INT(r.payload_len, 65535 - UDP_HDR_LEN);
}

TEST_MAIN()
