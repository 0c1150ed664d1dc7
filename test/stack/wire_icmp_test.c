/*
 * ICMPv4 messages (stack/wire/icmp.c). The echo request/reply are the ones the Linux kernel
 * exchanged over a veth pair (test/fixtures/veth.hex): 45 bytes, so the checksum covers an odd
 * length. The error messages quote the kernel's UDP datagram; their checksums were verified with
 * Wireshark.
 */
#include <arpa/inet.h>

#include "stack/wire/icmp.h"
#include "test/stack/harness.h"

_Static_assert(sizeof(struct icmp_hdr) == ICMP_HDR_LEN, "icmp_hdr matches the wire");

#define ECHO_DATA \
	0xd9, 0x5a, 0x02, 0x6b, 0x00, 0x00, 0x00, 0x00, 0x54, 0x95, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, \
	0xa5, 0xa5, 0xa5, 0xa5, 0xa5, 0xa5, 0xa5, 0xa5, 0xa5, 0xa5, 0xa5, 0xa5, 0xa5, 0xa5, 0xa5, 0xa5, \
	0xa5, 0xa5, 0xa5, 0xa5, 0xa5

/* Echo request, ident 0x1a05, seq 1, 37 bytes of data (a timestamp and 0xa5 padding). */
static const uint8_t echo_request[] = { 0x08, 0x00, 0x8f, 0x25, 0x1a, 0x05, 0x00, 0x01, ECHO_DATA };
/* The kernel's reply to it. */
static const uint8_t echo_reply[] = { 0x00, 0x00, 0x97, 0x25, 0x1a, 0x05, 0x00, 0x01, ECHO_DATA };
static const uint8_t echo_data[] = { ECHO_DATA };
_Static_assert(sizeof echo_request == 45, "odd-length message");

/* The IPv4 header and first 8 bytes of the kernel's UDP datagram 10.99.0.1:40000 -> 10.99.0.2:9000. */
#define QUOTE \
	0x45, 0x00, 0x00, 0x28, 0x82, 0xab, 0x40, 0x00, 0x40, 0x11, 0xa3, 0x51, 0x0a, 0x63, 0x00, 0x01, \
	0x0a, 0x63, 0x00, 0x02, 0x9c, 0x40, 0x23, 0x28, 0x00, 0x14, 0x9e, 0xcc
static const uint8_t quote[] = { QUOTE };
static const uint8_t port_unreachable[] = { 0x03, 0x03, 0x9e, 0xb3, 0x00, 0x00, 0x00, 0x00, QUOTE };
/* Fragmentation needed, next-hop MTU 1400 (RFC 1191). */
static const uint8_t frag_needed[] = { 0x03, 0x04, 0x99, 0x3a, 0x00, 0x00, 0x05, 0x78, QUOTE };
static const uint8_t time_exceeded[] = { 0x0b, 0x00, 0x96, 0xb6, 0x00, 0x00, 0x00, 0x00, QUOTE };
/* Echo request, ident 0x1234, seq 7, one data byte 0xab. */
static const uint8_t echo_one_byte[] = { 0x08, 0x00, 0x3a, 0xc4, 0x12, 0x34, 0x00, 0x07, 0xab };

static const struct wire_csum_caps rx_l4_verified = { .rx_l4_verified = true };

TEST(deconstruct)
{
	struct icmp_hdr h;
	memcpy(&h, echo_request, sizeof h);
	CHECK_EQ_INT(h.type, ICMP_ECHO_REQUEST);
	CHECK_EQ_INT(h.code, 0);
	CHECK_EQ_INT(ntohs(h.checksum), 0x8f25);
	CHECK_EQ_INT(ntohs(h.ident), 0x1a05);
	CHECK_EQ_INT(ntohs(h.seq), 1);
}

TEST(construct)
{
	struct icmp_hdr h = { .type = ICMP_ECHO_REPLY, .checksum = htons(0x9725), .ident = htons(0x1a05), .seq = htons(1) };
	uint8_t buf[sizeof echo_reply];
	memcpy(buf, &h, sizeof h);
	memcpy(buf + sizeof h, echo_data, sizeof echo_data);
	CHECK_MEM(buf, echo_reply, sizeof echo_reply);
}

TEST(parse_echo_request)
{
	struct icmp_repr r;
	CHECK_EQ_INT(icmp_check_len(echo_request, sizeof echo_request), WIRE_OK);
	CHECK_EQ_INT(icmp_repr_parse(echo_request, sizeof echo_request, &WIRE_CSUM_SOFTWARE, &r), WIRE_OK);
	CHECK_EQ_INT(r.type, ICMP_ECHO_REQUEST);
	CHECK_EQ_INT(r.code, 0);
	CHECK_EQ_INT(r.ident, 0x1a05);
	CHECK_EQ_INT(r.seq, 1);
	CHECK_EQ_INT(r.next_mtu, 0);
	CHECK(r.data == echo_request + ICMP_HDR_LEN);
	CHECK_EQ_INT(r.data_len, 37);
}

TEST(parse_echo_reply)
{
	struct icmp_repr r;
	CHECK_EQ_INT(icmp_repr_parse(echo_reply, sizeof echo_reply, &WIRE_CSUM_SOFTWARE, &r), WIRE_OK);
	CHECK_EQ_INT(r.type, ICMP_ECHO_REPLY);
	CHECK_EQ_INT(r.ident, 0x1a05);
	CHECK_EQ_INT(r.seq, 1);
	CHECK_MEM(r.data, echo_data, sizeof echo_data);
}

TEST(emit_echo_reply)
{
	struct icmp_repr r = {
		.type = ICMP_ECHO_REPLY, .ident = 0x1a05, .seq = 1, .data = echo_data, .data_len = sizeof echo_data,
	};
	uint8_t buf[64];
	memset(buf, 0xee, sizeof buf);
	CHECK_EQ_INT(icmp_repr_emit(&r, buf, sizeof buf), sizeof echo_reply);
	CHECK_MEM(buf, echo_reply, sizeof echo_reply);
	CHECK_EQ_INT(buf[sizeof echo_reply], 0xee);
}

TEST(emit_reply_in_request_buffer)
{
	uint8_t buf[sizeof echo_request];
	struct icmp_repr r;
	memcpy(buf, echo_request, sizeof buf);
	CHECK_EQ_INT(icmp_repr_parse(buf, sizeof buf, &WIRE_CSUM_SOFTWARE, &r), WIRE_OK);
	r.type = ICMP_ECHO_REPLY;
	CHECK_EQ_INT(icmp_repr_emit(&r, buf, sizeof buf), sizeof echo_reply);
	CHECK_MEM(buf, echo_reply, sizeof echo_reply);
}

TEST(emit_data_overlapping_header)
{
	/* The data lies 4 bytes into the buffer: it must be moved before the header lands on it. */
	uint8_t buf[4 + sizeof echo_data + 4];
	memcpy(buf + 4, echo_data, sizeof echo_data);
	struct icmp_repr r = {
		.type = ICMP_ECHO_REPLY, .ident = 0x1a05, .seq = 1, .data = buf + 4, .data_len = sizeof echo_data,
	};
	CHECK_EQ_INT(icmp_repr_emit(&r, buf, sizeof buf), sizeof echo_reply);
	CHECK_MEM(buf, echo_reply, sizeof echo_reply);
}

TEST(emit_odd_length_checksum)
{
	static const uint8_t data[] = { 0xab };
	struct icmp_repr r = { .type = ICMP_ECHO_REQUEST, .ident = 0x1234, .seq = 7, .data = data, .data_len = 1 };
	uint8_t buf[sizeof echo_one_byte];
	CHECK_EQ_INT(icmp_repr_emit(&r, buf, sizeof buf), sizeof echo_one_byte);
	CHECK_MEM(buf, echo_one_byte, sizeof echo_one_byte);
	CHECK_EQ_INT(icmp_repr_parse(echo_one_byte, sizeof echo_one_byte, &WIRE_CSUM_SOFTWARE, &r), WIRE_OK);
	CHECK_EQ_INT(r.data_len, 1);
}

TEST(emit_without_data)
{
	struct icmp_repr r = { .type = ICMP_ECHO_REQUEST, .ident = 0xffff, .seq = 0xfffe };
	uint8_t buf[ICMP_HDR_LEN];
	static const uint8_t want[] = { 0x08, 0x00, 0xf8, 0x00, 0xff, 0xff, 0xff, 0xfe };
	CHECK_EQ_INT(icmp_repr_emit(&r, buf, sizeof buf), ICMP_HDR_LEN);
	CHECK_MEM(buf, want, sizeof want);
	CHECK_EQ_INT(icmp_repr_parse(buf, sizeof buf, &WIRE_CSUM_SOFTWARE, &r), WIRE_OK);
	CHECK_EQ_INT(r.data_len, 0);
}

TEST(round_trip)
{
	static const uint8_t data[] = "ffnet ping";
	struct icmp_repr in = { .type = ICMP_ECHO_REQUEST, .ident = 0xbeef, .seq = 0x8000, .data = data, .data_len = sizeof data };
	struct icmp_repr out;
	uint8_t buf[ICMP_HDR_LEN + sizeof data];
	CHECK_EQ_INT(icmp_repr_emit(&in, buf, sizeof buf), sizeof buf);
	CHECK_EQ_INT(icmp_repr_parse(buf, sizeof buf, &WIRE_CSUM_SOFTWARE, &out), WIRE_OK);
	CHECK_EQ_INT(out.type, in.type);
	CHECK_EQ_INT(out.code, in.code);
	CHECK_EQ_INT(out.ident, in.ident);
	CHECK_EQ_INT(out.seq, in.seq);
	CHECK_EQ_INT(out.data_len, in.data_len);
	CHECK_MEM(out.data, data, sizeof data);
}

TEST(parse_port_unreachable)
{
	struct icmp_repr r;
	CHECK_EQ_INT(icmp_repr_parse(port_unreachable, sizeof port_unreachable, &WIRE_CSUM_SOFTWARE, &r), WIRE_OK);
	CHECK_EQ_INT(r.type, ICMP_DEST_UNREACH);
	CHECK_EQ_INT(r.code, ICMP_UNREACH_PORT);
	CHECK_EQ_INT(r.ident, 0);
	CHECK_EQ_INT(r.seq, 0);
	CHECK_EQ_INT(r.next_mtu, 0);
	CHECK_EQ_INT(r.data_len, sizeof quote);
	CHECK_MEM(r.data, quote, sizeof quote);
}

TEST(emit_port_unreachable)
{
	struct icmp_repr r = {
		.type = ICMP_DEST_UNREACH, .code = ICMP_UNREACH_PORT, .ident = 0x1111, .seq = 0x2222, .next_mtu = 1500,
		.data = quote, .data_len = sizeof quote,
	};
	uint8_t buf[sizeof port_unreachable];
	CHECK_EQ_INT(icmp_repr_emit(&r, buf, sizeof buf), sizeof port_unreachable);
	CHECK_MEM(buf, port_unreachable, sizeof port_unreachable);
}

TEST(parse_frag_needed_mtu)
{
	struct icmp_repr r;
	CHECK_EQ_INT(icmp_repr_parse(frag_needed, sizeof frag_needed, &WIRE_CSUM_SOFTWARE, &r), WIRE_OK);
	CHECK_EQ_INT(r.type, ICMP_DEST_UNREACH);
	CHECK_EQ_INT(r.code, ICMP_UNREACH_FRAG_NEEDED);
	CHECK_EQ_INT(r.next_mtu, 1400);
	CHECK_EQ_INT(r.ident, 0);
	CHECK_EQ_INT(r.seq, 0);
	CHECK_EQ_INT(r.data_len, sizeof quote);
}

TEST(emit_frag_needed_mtu)
{
	struct icmp_repr r = {
		.type = ICMP_DEST_UNREACH, .code = ICMP_UNREACH_FRAG_NEEDED, .next_mtu = 1400,
		.data = quote, .data_len = sizeof quote,
	};
	uint8_t buf[sizeof frag_needed];
	CHECK_EQ_INT(icmp_repr_emit(&r, buf, sizeof buf), sizeof frag_needed);
	CHECK_MEM(buf, frag_needed, sizeof frag_needed);
}

TEST(parse_time_exceeded)
{
	struct icmp_repr r;
	CHECK_EQ_INT(icmp_repr_parse(time_exceeded, sizeof time_exceeded, &WIRE_CSUM_SOFTWARE, &r), WIRE_OK);
	CHECK_EQ_INT(r.type, ICMP_TIME_EXCEEDED);
	CHECK_EQ_INT(r.code, 0);
	CHECK_EQ_INT(r.next_mtu, 0);
	CHECK_MEM(r.data, quote, sizeof quote);
}

TEST(parse_unknown_type)
{
	/* Timestamp request (type 13): parsed for the caller to count, not refused. */
	uint8_t buf[20];
	struct icmp_repr r = { .type = 13, .data = buf + 8, .data_len = 12 };
	memset(buf + 8, 0x5a, 12);
	CHECK_EQ_INT(icmp_repr_emit(&r, buf, sizeof buf), sizeof buf);
	r = (struct icmp_repr){ 0 };
	CHECK_EQ_INT(icmp_repr_parse(buf, sizeof buf, &WIRE_CSUM_SOFTWARE, &r), WIRE_OK);
	CHECK_EQ_INT(r.type, 13);
	CHECK_EQ_INT(r.ident, 0);
	CHECK_EQ_INT(r.data_len, 12);
}

TEST(parse_truncated)
{
	struct icmp_repr r;
	CHECK_EQ_INT(icmp_check_len(echo_request, ICMP_HDR_LEN - 1), WIRE_TRUNCATED);
	CHECK_EQ_INT(icmp_repr_parse(echo_request, ICMP_HDR_LEN - 1, &WIRE_CSUM_SOFTWARE, &r), WIRE_TRUNCATED);
	CHECK_EQ_INT(icmp_repr_parse(echo_request, 0, &rx_l4_verified, &r), WIRE_TRUNCATED);
}

TEST(parse_bad_checksum)
{
	uint8_t buf[sizeof echo_request];
	struct icmp_repr r;
	memcpy(buf, echo_request, sizeof buf);
	buf[sizeof buf - 1] ^= 0x01; /* the odd trailing byte */
	CHECK_EQ_INT(icmp_repr_parse(buf, sizeof buf, &WIRE_CSUM_SOFTWARE, &r), WIRE_BAD_CHECKSUM);
	/* The message cut short by one byte no longer sums to zero. */
	CHECK_EQ_INT(icmp_repr_parse(echo_request, sizeof echo_request - 1, &WIRE_CSUM_SOFTWARE, &r),
		     WIRE_BAD_CHECKSUM);
}

TEST(parse_checksum_skipped_when_device_verified)
{
	uint8_t buf[sizeof echo_request];
	struct icmp_repr r;
	memcpy(buf, echo_request, sizeof buf);
	buf[2] = buf[3] = 0;
	CHECK_EQ_INT(icmp_repr_parse(buf, sizeof buf, &WIRE_CSUM_SOFTWARE, &r), WIRE_BAD_CHECKSUM);
	CHECK_EQ_INT(icmp_repr_parse(buf, sizeof buf, &rx_l4_verified, &r), WIRE_OK);
	CHECK_EQ_INT(r.ident, 0x1a05);
}

TEST(emit_refuses_small_buffer)
{
	struct icmp_repr r = { .type = ICMP_ECHO_REPLY, .data = echo_data, .data_len = sizeof echo_data };
	uint8_t buf[sizeof echo_reply];
	memset(buf, 0xaa, sizeof buf);
	CHECK_EQ_INT(icmp_repr_emit(&r, buf, sizeof buf - 1), 0);
	CHECK_EQ_INT(icmp_repr_emit(&r, buf, ICMP_HDR_LEN - 1), 0);
	r.data_len = SIZE_MAX - 2;
	CHECK_EQ_INT(icmp_repr_emit(&r, buf, sizeof buf), 0);
	CHECK_EQ_INT(buf[0], 0xaa);
	CHECK_EQ_INT(buf[ICMP_HDR_LEN], 0xaa);
}

TEST_MAIN()
