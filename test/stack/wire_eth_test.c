/*
 * Ethernet II headers and MAC address helpers (stack/wire/eth.c). The literal frames are the ARP
 * request and an IPv4 frame the Linux kernel sent between two veth ends (test/fixtures/veth.hex).
 */
#include <arpa/inet.h>

#include "stack/wire/eth.h"
#include "test/stack/harness.h"

_Static_assert(sizeof(struct eth_hdr) == ETH_HDR_LEN, "eth_hdr matches the wire");

/* ff:ff:ff:ff:ff:ff <- 02:00:00:99:00:01, ARP, followed by the first ARP bytes. */
static const uint8_t arp_frame_start[] = {
	0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02, 0x00, 0x00, 0x99, 0x00, 0x01, 0x08, 0x06,
	0x00, 0x01, 0x08, 0x00,
};
/* 02:00:00:99:00:02 <- 02:00:00:99:00:01, IPv4. */
static const uint8_t ipv4_frame_hdr[] = {
	0x02, 0x00, 0x00, 0x99, 0x00, 0x02, 0x02, 0x00, 0x00, 0x99, 0x00, 0x01, 0x08, 0x00,
};
static const struct eth_addr mac1 = { { 0x02, 0x00, 0x00, 0x99, 0x00, 0x01 } };
static const struct eth_addr mac2 = { { 0x02, 0x00, 0x00, 0x99, 0x00, 0x02 } };

TEST(deconstruct)
{
	struct eth_hdr h;
	memcpy(&h, arp_frame_start, sizeof h);
	CHECK_MEM(h.dst.b, ETH_BROADCAST.b, ETH_ADDR_LEN);
	CHECK_MEM(h.src.b, mac1.b, ETH_ADDR_LEN);
	CHECK_EQ_INT(ntohs(h.type), ETH_TYPE_ARP);
}

TEST(construct)
{
	struct eth_hdr h = { .dst = mac2, .src = mac1, .type = htons(ETH_TYPE_IPV4) };
	uint8_t buf[ETH_HDR_LEN];
	memcpy(buf, &h, sizeof h);
	CHECK_MEM(buf, ipv4_frame_hdr, sizeof ipv4_frame_hdr);
}

TEST(parse)
{
	struct eth_repr r;
	CHECK_EQ_INT(eth_repr_parse(arp_frame_start, sizeof arp_frame_start, &r), WIRE_OK);
	CHECK(eth_addr_is_broadcast(&r.dst));
	CHECK(eth_addr_eq(&r.src, &mac1));
	CHECK_EQ_INT(r.ethertype, ETH_TYPE_ARP);
}

TEST(emit)
{
	struct eth_repr r = { .dst = mac2, .src = mac1, .ethertype = ETH_TYPE_IPV4 };
	uint8_t buf[ETH_HDR_LEN + 4];
	memset(buf, 0xaa, sizeof buf);
	CHECK_EQ_INT(eth_repr_emit(&r, buf, sizeof buf), ETH_HDR_LEN);
	CHECK_MEM(buf, ipv4_frame_hdr, ETH_HDR_LEN);
	CHECK_EQ_INT(buf[ETH_HDR_LEN], 0xaa);
}

TEST(round_trip)
{
	struct eth_repr in = { .dst = { { 0x01, 0x00, 0x5e, 0x7f, 0xff, 0xfa } }, .src = mac2, .ethertype = 0x86dd };
	struct eth_repr out;
	uint8_t buf[ETH_HDR_LEN];
	CHECK_EQ_INT(eth_repr_emit(&in, buf, sizeof buf), ETH_HDR_LEN);
	CHECK_EQ_INT(eth_repr_parse(buf, sizeof buf, &out), WIRE_OK);
	CHECK(eth_addr_eq(&in.dst, &out.dst));
	CHECK(eth_addr_eq(&in.src, &out.src));
	CHECK_EQ_INT(out.ethertype, 0x86dd);
}

TEST(parse_exact_header_length)
{
	struct eth_repr r;
	CHECK_EQ_INT(eth_check_len(ipv4_frame_hdr, ETH_HDR_LEN), WIRE_OK);
	CHECK_EQ_INT(eth_repr_parse(ipv4_frame_hdr, ETH_HDR_LEN, &r), WIRE_OK);
	CHECK_EQ_INT(r.ethertype, ETH_TYPE_IPV4);
}

TEST(parse_truncated)
{
	struct eth_repr r;
	CHECK_EQ_INT(eth_check_len(ipv4_frame_hdr, ETH_HDR_LEN - 1), WIRE_TRUNCATED);
	CHECK_EQ_INT(eth_repr_parse(ipv4_frame_hdr, ETH_HDR_LEN - 1, &r), WIRE_TRUNCATED);
	CHECK_EQ_INT(eth_repr_parse(ipv4_frame_hdr, 0, &r), WIRE_TRUNCATED);
}

TEST(parse_vlan_tag_as_ethertype)
{
	static const uint8_t tagged[] = {
		0x02, 0x00, 0x00, 0x99, 0x00, 0x02, 0x02, 0x00, 0x00, 0x99, 0x00, 0x01,
		0x81, 0x00, 0x00, 0x05, 0x08, 0x00,
	};
	struct eth_repr r;
	CHECK_EQ_INT(eth_repr_parse(tagged, sizeof tagged, &r), WIRE_OK);
	CHECK_EQ_INT(r.ethertype, 0x8100);
}

TEST(emit_refuses_small_buffer)
{
	struct eth_repr r = { .dst = mac2, .src = mac1, .ethertype = ETH_TYPE_IPV4 };
	uint8_t buf[ETH_HDR_LEN];
	memset(buf, 0xaa, sizeof buf);
	CHECK_EQ_INT(eth_repr_emit(&r, buf, ETH_HDR_LEN - 1), 0);
	CHECK_EQ_INT(buf[0], 0xaa);
}

TEST(addr_broadcast_multicast_zero)
{
	static const struct eth_addr zero = { { 0 } };
	static const struct eth_addr mcast = { { 0x01, 0x00, 0x5e, 0x00, 0x00, 0xfb } };
	static const struct eth_addr not_bcast = { { 0xff, 0xff, 0xff, 0xff, 0xff, 0xfe } };
	static const struct eth_addr local_unicast = { { 0xfe, 0xff, 0xff, 0xff, 0xff, 0xff } };

	CHECK(eth_addr_is_broadcast(&ETH_BROADCAST));
	CHECK(eth_addr_is_multicast(&ETH_BROADCAST));
	CHECK(!eth_addr_is_broadcast(&mcast));
	CHECK(eth_addr_is_multicast(&mcast));
	CHECK(!eth_addr_is_broadcast(&not_bcast));
	CHECK(eth_addr_is_multicast(&not_bcast));
	CHECK(!eth_addr_is_multicast(&local_unicast));
	CHECK(!eth_addr_is_multicast(&mac1));
	CHECK(eth_addr_is_zero(&zero));
	CHECK(!eth_addr_is_zero(&mac1));
	CHECK(!eth_addr_is_multicast(&zero));
	CHECK(eth_addr_eq(&mac1, &mac1));
	CHECK(!eth_addr_eq(&mac1, &mac2));
}

TEST(addr_format)
{
	static const struct eth_addr a = { { 0x00, 0x1b, 0x21, 0xab, 0xcd, 0xef } };
	char out[18];
	memset(out, 'x', sizeof out);
	CHECK(eth_addr_format(&a, out) == out);
	CHECK_EQ_STR(out, "00:1b:21:ab:cd:ef");
	CHECK_EQ_STR(eth_addr_format(&ETH_BROADCAST, out), "ff:ff:ff:ff:ff:ff");
}

TEST(addr_parse)
{
	static const struct eth_addr want = { { 0x00, 0x1b, 0x21, 0xab, 0xcd, 0xef } };
	struct eth_addr a;
	CHECK_EQ_INT(eth_addr_parse("00:1b:21:ab:cd:ef", &a), 0);
	CHECK(eth_addr_eq(&a, &want));
	CHECK_EQ_INT(eth_addr_parse("00:1B:21:AB:cD:Ef", &a), 0);
	CHECK(eth_addr_eq(&a, &want));
	CHECK_EQ_INT(eth_addr_parse("ff:ff:ff:ff:ff:ff", &a), 0);
	CHECK(eth_addr_is_broadcast(&a));
}

TEST(addr_parse_refuses_bad_strings)
{
	static const char *const bad[] = {
		"",
		"00:1b:21:ab:cd",
		"00:1b:21:ab:cd:",
		"00:1b:21:ab:cd:ef:",
		"00:1b:21:ab:cd:ef:01",
		"00-1b-21-ab-cd-ef",
		"001b.21ab.cdef",
		"0:1b:21:ab:cd:ef",
		"000:1b:21:ab:cd:ef",
		"00:1b:21:ab:cd:eg",
		"00:1b:21:ab:cd:e",
		" 00:1b:21:ab:cd:ef",
		"00:1b:21:ab:cd:ef ",
		"00::1b:21:ab:cd:ef",
		"+0:1b:21:ab:cd:ef",
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		struct eth_addr a = mac1;
		if (eth_addr_parse(bad[i], &a) != -1)
			FAIL("eth_addr_parse(\"%s\") accepted", bad[i]);
		CHECK(eth_addr_eq(&a, &mac1));
	}
}

TEST(addr_format_parse_round_trip)
{
	char text[18];
	struct eth_addr a = { { 0x9a, 0x00, 0xff, 0x10, 0x01, 0x7e } }, b;
	CHECK_EQ_INT(eth_addr_parse(eth_addr_format(&a, text), &b), 0);
	CHECK(eth_addr_eq(&a, &b));
}

TEST(multicast_mac_for_ipv4_group)
{
	struct eth_addr a;
	char text[18];
	eth_addr_from_ipv4_multicast(0xe0010203, &a); /* 224.1.2.3 */
	CHECK_EQ_STR(eth_addr_format(&a, text), "01:00:5e:01:02:03");
	eth_addr_from_ipv4_multicast(0xeffffffa, &a); /* 239.255.255.250 */
	CHECK_EQ_STR(eth_addr_format(&a, text), "01:00:5e:7f:ff:fa");
	eth_addr_from_ipv4_multicast(0xe00000fb, &a); /* 224.0.0.251 */
	CHECK_EQ_STR(eth_addr_format(&a, text), "01:00:5e:00:00:fb");
	/* RFC 1112 §6.4: only 23 bits map, so 224.128.0.251 shares 224.0.0.251's MAC. */
	eth_addr_from_ipv4_multicast(0xe08000fb, &a);
	CHECK_EQ_STR(eth_addr_format(&a, text), "01:00:5e:00:00:fb");
	CHECK(eth_addr_is_multicast(&a));
	CHECK(!eth_addr_is_broadcast(&a));
}

TEST_MAIN()
