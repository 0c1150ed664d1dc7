/*
 * ARP packets (stack/wire/arp.c). The literal request and reply are the ones the Linux kernel
 * exchanged between 10.99.0.1 and 10.99.0.2 over a veth pair (test/fixtures/veth.hex).
 */
#include <arpa/inet.h>

#include "stack/wire/arp.h"
#include "test/stack/harness.h"

_Static_assert(sizeof(struct arp_hdr) == ARP_PKT_LEN, "arp_hdr matches the wire");

/* who-has 10.99.0.2 tell 10.99.0.1 (02:00:00:99:00:01) */
static const uint8_t request[ARP_PKT_LEN] = {
	0x00, 0x01, 0x08, 0x00, 0x06, 0x04, 0x00, 0x01,
	0x02, 0x00, 0x00, 0x99, 0x00, 0x01, 0x0a, 0x63, 0x00, 0x01,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x0a, 0x63, 0x00, 0x02,
};
/* 10.99.0.2 is-at 02:00:00:99:00:02, to 10.99.0.1 (02:00:00:99:00:01) */
static const uint8_t reply[ARP_PKT_LEN] = {
	0x00, 0x01, 0x08, 0x00, 0x06, 0x04, 0x00, 0x02,
	0x02, 0x00, 0x00, 0x99, 0x00, 0x02, 0x0a, 0x63, 0x00, 0x02,
	0x02, 0x00, 0x00, 0x99, 0x00, 0x01, 0x0a, 0x63, 0x00, 0x01,
};
static const struct eth_addr mac1 = { { 0x02, 0x00, 0x00, 0x99, 0x00, 0x01 } };
static const struct eth_addr mac2 = { { 0x02, 0x00, 0x00, 0x99, 0x00, 0x02 } };
#define IP1 0x0a630001u
#define IP2 0x0a630002u

static enum wire_result parse_modified(size_t offset, uint8_t value)
{
	uint8_t buf[ARP_PKT_LEN];
	struct arp_repr r;
	memcpy(buf, request, sizeof buf);
	buf[offset] = value;
	return arp_repr_parse(buf, sizeof buf, &r);
}

TEST(deconstruct)
{
	struct arp_hdr h;
	memcpy(&h, request, sizeof h);
	CHECK_EQ_INT(ntohs(h.htype), 1);
	CHECK_EQ_INT(ntohs(h.ptype), ETH_TYPE_IPV4);
	CHECK_EQ_INT(h.hlen, 6);
	CHECK_EQ_INT(h.plen, 4);
	CHECK_EQ_INT(ntohs(h.op), ARP_OP_REQUEST);
	CHECK_MEM(h.sha.b, mac1.b, ETH_ADDR_LEN);
	CHECK_EQ_INT(ntohl(h.spa), IP1);
	CHECK(eth_addr_is_zero(&h.tha));
	CHECK_EQ_INT(ntohl(h.tpa), IP2);
}

TEST(construct)
{
	struct arp_hdr h = {
		.htype = htons(1), .ptype = htons(ETH_TYPE_IPV4), .hlen = 6, .plen = 4,
		.op = htons(ARP_OP_REPLY), .sha = mac2, .spa = htonl(IP2), .tha = mac1, .tpa = htonl(IP1),
	};
	uint8_t buf[ARP_PKT_LEN];
	memcpy(buf, &h, sizeof h);
	CHECK_MEM(buf, reply, sizeof reply);
}

TEST(parse_request)
{
	struct arp_repr r;
	CHECK_EQ_INT(arp_repr_parse(request, sizeof request, &r), WIRE_OK);
	CHECK_EQ_INT(r.op, ARP_OP_REQUEST);
	CHECK(eth_addr_eq(&r.sha, &mac1));
	CHECK_EQ_INT(r.spa, IP1);
	CHECK(eth_addr_is_zero(&r.tha));
	CHECK_EQ_INT(r.tpa, IP2);
}

TEST(parse_reply)
{
	struct arp_repr r;
	CHECK_EQ_INT(arp_repr_parse(reply, sizeof reply, &r), WIRE_OK);
	CHECK_EQ_INT(r.op, ARP_OP_REPLY);
	CHECK(eth_addr_eq(&r.sha, &mac2));
	CHECK_EQ_INT(r.spa, IP2);
	CHECK(eth_addr_eq(&r.tha, &mac1));
	CHECK_EQ_INT(r.tpa, IP1);
}

TEST(emit)
{
	struct arp_repr r = { .op = ARP_OP_REQUEST, .sha = mac1, .spa = IP1, .tpa = IP2 };
	uint8_t buf[64];
	memset(buf, 0xaa, sizeof buf);
	CHECK_EQ_INT(arp_repr_emit(&r, buf, sizeof buf), ARP_PKT_LEN);
	CHECK_MEM(buf, request, sizeof request);
	CHECK_EQ_INT(buf[ARP_PKT_LEN], 0xaa);
}

TEST(round_trip)
{
	struct arp_repr in = { .op = ARP_OP_REPLY, .sha = mac2, .spa = 0xc0a80101, .tha = mac1, .tpa = 0xffffffff };
	struct arp_repr out;
	uint8_t buf[ARP_PKT_LEN];
	CHECK_EQ_INT(arp_repr_emit(&in, buf, sizeof buf), ARP_PKT_LEN);
	CHECK_EQ_INT(arp_repr_parse(buf, sizeof buf, &out), WIRE_OK);
	CHECK_EQ_INT(out.op, in.op);
	CHECK(eth_addr_eq(&out.sha, &in.sha));
	CHECK_EQ_INT(out.spa, in.spa);
	CHECK(eth_addr_eq(&out.tha, &in.tha));
	CHECK_EQ_INT(out.tpa, in.tpa);
}

TEST(parse_ignores_ethernet_padding)
{
	/* A 60-byte minimum Ethernet frame leaves 18 bytes of padding after the 28-byte packet. */
	uint8_t buf[46] = { 0 };
	struct arp_repr r;
	memcpy(buf, reply, sizeof reply);
	CHECK_EQ_INT(arp_repr_parse(buf, sizeof buf, &r), WIRE_OK);
	CHECK_EQ_INT(r.tpa, IP1);
}

TEST(parse_truncated)
{
	struct arp_repr r;
	CHECK_EQ_INT(arp_check_len(request, ARP_PKT_LEN), WIRE_OK);
	CHECK_EQ_INT(arp_check_len(request, ARP_PKT_LEN - 1), WIRE_TRUNCATED);
	CHECK_EQ_INT(arp_repr_parse(request, ARP_PKT_LEN - 1, &r), WIRE_TRUNCATED);
	CHECK_EQ_INT(arp_repr_parse(request, 0, &r), WIRE_TRUNCATED);
}

TEST(parse_refuses_other_hardware_type)
{
	CHECK_EQ_INT(parse_modified(1, 6), WIRE_UNSUPPORTED);    /* IEEE 802 networks */
	CHECK_EQ_INT(parse_modified(0, 1), WIRE_UNSUPPORTED);    /* 0x0101 */
}

TEST(parse_refuses_other_protocol_type)
{
	CHECK_EQ_INT(parse_modified(2, 0x86), WIRE_UNSUPPORTED); /* 0x8600 */
	CHECK_EQ_INT(parse_modified(3, 0x06), WIRE_UNSUPPORTED); /* 0x0806 */
}

TEST(parse_refuses_wrong_hlen)
{
	CHECK_EQ_INT(parse_modified(4, 8), WIRE_MALFORMED);
	CHECK_EQ_INT(parse_modified(4, 0), WIRE_MALFORMED);
}

TEST(parse_refuses_wrong_plen)
{
	CHECK_EQ_INT(parse_modified(5, 16), WIRE_MALFORMED);
	CHECK_EQ_INT(parse_modified(5, 0), WIRE_MALFORMED);
}

TEST(parse_refuses_unknown_opcode)
{
	CHECK_EQ_INT(parse_modified(7, 0), WIRE_MALFORMED);
	CHECK_EQ_INT(parse_modified(7, 3), WIRE_MALFORMED); /* RARP request */
	CHECK_EQ_INT(parse_modified(6, 1), WIRE_MALFORMED); /* 0x0101 */
}

TEST(parse_unsupported_type_reported_before_malformed_lengths)
{
	uint8_t buf[ARP_PKT_LEN];
	struct arp_repr r;
	memcpy(buf, request, sizeof buf);
	buf[1] = 6;
	buf[4] = 8;
	CHECK_EQ_INT(arp_repr_parse(buf, sizeof buf, &r), WIRE_UNSUPPORTED);
}

TEST(emit_refuses_small_buffer)
{
	struct arp_repr r = { .op = ARP_OP_REQUEST, .sha = mac1, .spa = IP1, .tpa = IP2 };
	uint8_t buf[ARP_PKT_LEN];
	memset(buf, 0xaa, sizeof buf);
	CHECK_EQ_INT(arp_repr_emit(&r, buf, ARP_PKT_LEN - 1), 0);
	CHECK_EQ_INT(buf[0], 0xaa);
}

TEST_MAIN()
