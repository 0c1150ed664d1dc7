/*
 * IPv6 headers and addresses (stack/wire/ipv6.c), the IPv6 pseudo-header checksum and UDP over
 * IPv6 (stack/wire/udp.c), and IPv6 multicast MACs (stack/wire/eth.c). The packets are the Linux
 * kernel's (test/fixtures/ipv6.hex; tshark and tcpdump call every checksum in it good but the one
 * sent with checksum offload); the refused extension header chains are those packets with one
 * field changed. Address formatting and parsing are checked against glibc's inet_ntop/inet_pton.
 */
#include <arpa/inet.h>
#include <stdlib.h>

#include "stack/wire/checksum.h"
#include "stack/wire/icmp6.h"
#include "stack/wire/udp.h"
#include "test/stack/harness.h"
#include "test/stack/ipv6_fixtures.h"

_Static_assert(sizeof(struct ipv6_hdr) == IPV6_HDR_LEN, "ipv6_hdr matches the wire");
_Static_assert(sizeof(struct ipv6_frag_hdr) == IPV6_FRAG_HDR_LEN, "ipv6_frag_hdr matches the wire");
_Static_assert(sizeof(struct ip6_addr) == 16, "ip6_addr is the address alone");

static const struct wire_csum_caps rx_l4_verified = { .rx_l4_verified = true };
static const struct wire_csum_caps tx_udp_offload = { .tx_udp_offload = true };

/* The kernel's echo request 2001:db8::1 -> 2001:db8::2 (37 bytes of data). */
static const struct fixture_frame *echo_request(void)
{
	return find_v6(&(struct v6_match){ "2001:db8::1", "2001:db8::2", IPV6_NH_ICMPV6, ICMP6_ECHO_REQUEST, 45 }, 0);
}

/* A copy of the echo request's packet in buf, for changing fields. Returns its length. */
static size_t echo_copy(uint8_t *buf)
{
	size_t len;
	const uint8_t *p = v6_packet(echo_request(), &len);
	memcpy(buf, p, len);
	return len;
}

static enum wire_result parse(const uint8_t *buf, size_t len, struct ipv6_repr *r, struct ipv6_param_problem *pp)
{
	memset(pp, 0xa5, sizeof *pp);
	return ipv6_repr_parse(buf, len, r, pp);
}

/* Builds a packet from 2001:db8::1 to dst whose payload is `ext` (extension headers and what
 * follows them), the fixed header's Next Header being nh. Returns its length. */
static size_t build(uint8_t *buf, uint8_t nh, const char *dst, const uint8_t *ext, size_t ext_len)
{
	struct ipv6_repr r = { .src = A("2001:db8::1"), .dst = A(dst), .next_header = nh, .hop_limit = 64,
			       .payload_len = (uint16_t)ext_len };
	CHECK_EQ_INT(ipv6_repr_emit(&r, buf, IPV6_HDR_LEN), IPV6_HDR_LEN);
	memcpy(buf + IPV6_HDR_LEN, ext, ext_len);
	return IPV6_HDR_LEN + ext_len;
}

static void check_refused(const uint8_t *ext, size_t ext_len, uint8_t nh, bool send, uint8_t code, uint32_t pointer,
			  bool unless_multicast)
{
	uint8_t buf[256];
	struct ipv6_repr r;
	struct ipv6_param_problem pp;
	size_t len = build(buf, nh, "2001:db8::2", ext, ext_len);
	CHECK_EQ_INT(parse(buf, len, &r, &pp), WIRE_BAD_EXTHDR);
	CHECK_EQ_INT(pp.send, send);
	if (send) {
		CHECK_EQ_INT(pp.code, code);
		CHECK_EQ_INT(pp.pointer, pointer);
		CHECK_EQ_INT(pp.unless_multicast, unless_multicast);
	}
}

#define UDP8 0x9c, 0x40, 0x23, 0x28, 0x00, 0x08, 0x00, 0x00 /* a UDP header, as far as the walk looks */

TEST(parse_echo_request)
{
	size_t len;
	const uint8_t *p = v6_packet(echo_request(), &len);
	struct ipv6_repr r;
	struct ipv6_param_problem pp;
	CHECK_EQ_INT(ipv6_check_len(p, len), WIRE_OK);
	CHECK_EQ_INT(parse(p, len, &r, &pp), WIRE_OK);
	CHECK(!pp.send);
	CHECK(ip6_eq(&r.src, &(struct ip6_addr){ { 0x20, 0x01, 0x0d, 0xb8, [15] = 1 } }));
	CHECK(ip6_eq(&r.dst, &(struct ip6_addr){ { 0x20, 0x01, 0x0d, 0xb8, [15] = 2 } }));
	CHECK_EQ_INT(r.next_header, IPV6_NH_ICMPV6);
	CHECK_EQ_INT(r.hop_limit, 64);
	CHECK_EQ_INT(r.tclass, 0);
	CHECK_EQ_INT(r.flow_label, rd_be32(p) & 0xfffff);
	CHECK(r.flow_label != 0);
	CHECK_EQ_INT(r.payload_len, 45);
	CHECK_EQ_INT(r.hdr_len, IPV6_HDR_LEN);
	CHECK_EQ_INT(r.nh_off, 6);
	CHECK(!r.fragment);
	CHECK_EQ_INT(r.router_alert, 0);
}

TEST(emit_rebuilds_the_fixed_header)
{
	size_t len;
	const uint8_t *p = v6_packet(echo_request(), &len);
	struct ipv6_repr r;
	CHECK_EQ_INT(ipv6_repr_parse(p, len, &r, NULL), WIRE_OK);
	uint8_t buf[IPV6_HDR_LEN];
	CHECK_EQ_INT(ipv6_repr_emit(&r, buf, sizeof buf - 1), 0);
	CHECK_EQ_INT(ipv6_repr_emit(&r, buf, sizeof buf), IPV6_HDR_LEN);
	CHECK_MEM(buf, p, IPV6_HDR_LEN);
	r.tclass = 0xb8;
	r.flow_label = 0xfffff;
	ipv6_repr_emit(&r, buf, sizeof buf);
	CHECK_EQ_INT(rd_be32(buf), 0x6b8fffffu);
}

TEST(padding_beyond_the_payload_is_ignored)
{
	uint8_t buf[128];
	size_t len = echo_copy(buf);
	struct ipv6_repr r;
	struct ipv6_param_problem pp;
	CHECK_EQ_INT(parse(buf, len + 20, &r, &pp), WIRE_OK);
	CHECK_EQ_INT(r.payload_len, 45);
}

TEST(refuses_truncated_wrong_version_and_long_payload)
{
	uint8_t buf[128];
	size_t len = echo_copy(buf);
	struct ipv6_repr r;
	struct ipv6_param_problem pp;
	CHECK_EQ_INT(parse(buf, IPV6_HDR_LEN - 1, &r, &pp), WIRE_TRUNCATED);
	CHECK_EQ_INT(parse(buf, len - 1, &r, &pp), WIRE_BAD_LENGTH);
	CHECK(!pp.send);
	buf[0] = 0x40;
	CHECK_EQ_INT(parse(buf, len, &r, &pp), WIRE_BAD_VERSION);
}

TEST(hop_limit_zero_is_not_refused)
{
	uint8_t buf[128];
	size_t len = echo_copy(buf);
	buf[7] = 0;
	struct ipv6_repr r;
	struct ipv6_param_problem pp;
	CHECK_EQ_INT(parse(buf, len, &r, &pp), WIRE_OK);
	CHECK_EQ_INT(r.hop_limit, 0);
}

TEST(mld_report_has_router_alert)
{
	const struct fixture_frame *fr =
		find_v6(&(struct v6_match){ "fe80::ff:fe99:1", "ff02::16", IPV6_NH_HOPOPTS, MLD_V2_REPORT, 0 }, 0);
	size_t len;
	const uint8_t *p = v6_packet(fr, &len);
	struct ipv6_repr r;
	struct ipv6_param_problem pp;
	CHECK_EQ_INT(parse(p, len, &r, &pp), WIRE_OK);
	CHECK_EQ_INT(r.next_header, IPV6_NH_ICMPV6);
	CHECK_EQ_INT(r.hop_limit, 1);
	CHECK_EQ_INT(r.hdr_len, 48);
	CHECK_EQ_INT(r.nh_off, 40);
	CHECK_EQ_INT(r.router_alert, IPV6_ROUTER_ALERT_MLD + 1);
}

TEST(fragments_of_a_ping)
{
	const struct fixture_frame *first =
		find_v6(&(struct v6_match){ "2001:db8::1", "2001:db8::2", IPV6_NH_FRAGMENT, 0, 1456 }, 0);
	const struct fixture_frame *last =
		find_v6(&(struct v6_match){ "2001:db8::1", "2001:db8::2", IPV6_NH_FRAGMENT, 0, 568 }, 0);
	size_t len;
	const uint8_t *p = v6_packet(first, &len);
	struct ipv6_repr r;
	struct ipv6_param_problem pp;
	CHECK_EQ_INT(parse(p, len, &r, &pp), WIRE_OK);
	CHECK(r.fragment);
	CHECK(r.more_frags);
	CHECK_EQ_INT(r.frag_offset, 0);
	CHECK_EQ_INT(r.frag_id, rd_be32(p + 44));
	CHECK_EQ_INT(r.next_header, IPV6_NH_ICMPV6);
	CHECK_EQ_INT(r.hdr_len, 48);
	CHECK_EQ_INT(r.nh_off, 40);
	CHECK_EQ_INT(r.unfrag_len, 40);
	CHECK_EQ_INT(r.frag_hdr_off, 40);
	CHECK_EQ_INT(r.frag_nh_off, 6);
	uint8_t hdr[IPV6_FRAG_HDR_LEN];
	CHECK_EQ_INT(ipv6_frag_hdr_emit(IPV6_NH_ICMPV6, 0, true, r.frag_id, hdr, sizeof hdr), IPV6_FRAG_HDR_LEN);
	CHECK_MEM(hdr, p + 40, sizeof hdr);

	uint32_t id = r.frag_id;
	p = v6_packet(last, &len);
	CHECK_EQ_INT(parse(p, len, &r, &pp), WIRE_OK);
	CHECK(r.fragment);
	CHECK(!r.more_frags);
	CHECK_EQ_INT(r.frag_offset, 1448);
	CHECK_EQ_INT(r.frag_id, id);
	CHECK_EQ_INT(ipv6_frag_hdr_emit(IPV6_NH_ICMPV6, 1448, false, id, hdr, sizeof hdr), IPV6_FRAG_HDR_LEN);
	CHECK_MEM(hdr, p + 40, sizeof hdr);
	CHECK_EQ_INT(ipv6_frag_hdr_emit(IPV6_NH_ICMPV6, 1447, false, id, hdr, sizeof hdr), 0);
	CHECK_EQ_INT(ipv6_frag_hdr_emit(IPV6_NH_ICMPV6, 8, false, id, hdr, sizeof hdr - 1), 0);
}

/* The kernel answered this packet's option 0x80 with Parameter Problem code 2, pointer 42. */
TEST(unknown_option_answered_as_the_kernel_does)
{
	const struct fixture_frame *fr =
		find_v6(&(struct v6_match){ "2001:db8::1", "2001:db8::2", IPV6_NH_DSTOPTS, 0, 0 }, 0);
	const struct fixture_frame *answer =
		find_v6(&(struct v6_match){ "2001:db8::2", "2001:db8::1", IPV6_NH_ICMPV6, ICMP6_PARAM_PROB, 0 }, 0);
	size_t len;
	const uint8_t *p = v6_packet(fr, &len);
	struct ipv6_repr r;
	struct ipv6_param_problem pp;
	CHECK_EQ_INT(parse(p, len, &r, &pp), WIRE_BAD_EXTHDR);
	CHECK(pp.send);
	CHECK_EQ_INT(pp.code, answer->b[ETH_HDR_LEN + 41]);
	CHECK_EQ_INT(pp.code, ICMP6_PARAMPROB_OPTION);
	CHECK_EQ_INT(pp.pointer, rd_be32(answer->b + ETH_HDR_LEN + 44));
	CHECK_EQ_INT(pp.pointer, 42);
	CHECK(!pp.unless_multicast);
}

TEST(options_skipped_and_padding)
{
	/* Destination Options: Pad1, PadN(2), an unknown option with action 00 (skipped), Pad1 x2. */
	static const uint8_t ext[] = { IPV6_NH_UDP, 1, 0, 1, 2, 0, 0, 0x1e, 4, 1, 2, 3, 4, 0, 0, 0, UDP8 };
	uint8_t buf[128];
	size_t len = build(buf, IPV6_NH_DSTOPTS, "2001:db8::2", ext, sizeof ext);
	struct ipv6_repr r;
	struct ipv6_param_problem pp;
	CHECK_EQ_INT(parse(buf, len, &r, &pp), WIRE_OK);
	CHECK_EQ_INT(r.next_header, IPV6_NH_UDP);
	CHECK_EQ_INT(r.hdr_len, 56);
	CHECK_EQ_INT(r.nh_off, 40);
	CHECK_EQ_INT(r.router_alert, 0);
}

TEST(option_actions)
{
	/* RFC 8200 §4.2: 01 discard quietly, 10 answer, 11 answer unless multicast. */
	static const uint8_t discard[] = { IPV6_NH_UDP, 0, 0x41, 0, 1, 2, 0, 0, UDP8 };
	static const uint8_t answer[] = { IPV6_NH_UDP, 0, 1, 0, 0x9e, 2, 0, 0, UDP8 };
	static const uint8_t unicast[] = { IPV6_NH_UDP, 0, 0xc2, 4, 0, 1, 0, 0, UDP8 };
	check_refused(discard, sizeof discard, IPV6_NH_DSTOPTS, false, 0, 0, false);
	check_refused(answer, sizeof answer, IPV6_NH_DSTOPTS, true, ICMP6_PARAMPROB_OPTION, 44, false);
	check_refused(unicast, sizeof unicast, IPV6_NH_HOPOPTS, true, ICMP6_PARAMPROB_OPTION, 42, true);
}

TEST(router_alert_only_in_hop_by_hop)
{
	static const uint8_t ra[] = { IPV6_NH_UDP, 0, 5, 2, 0, 0, 1, 0, UDP8 };
	static const uint8_t ra_len3[] = { IPV6_NH_UDP, 0, 5, 3, 0, 0, 0, 0, UDP8 };
	uint8_t buf[128];
	struct ipv6_repr r;
	struct ipv6_param_problem pp;
	size_t len = build(buf, IPV6_NH_DSTOPTS, "2001:db8::2", ra, sizeof ra);
	CHECK_EQ_INT(parse(buf, len, &r, &pp), WIRE_OK);
	CHECK_EQ_INT(r.router_alert, 0);
	len = build(buf, IPV6_NH_HOPOPTS, "2001:db8::2", ra, sizeof ra);
	CHECK_EQ_INT(parse(buf, len, &r, &pp), WIRE_OK);
	CHECK_EQ_INT(r.router_alert, 1);
	check_refused(ra_len3, sizeof ra_len3, IPV6_NH_HOPOPTS, false, 0, 0, false);
}

TEST(option_past_its_header_dropped_quietly)
{
	static const uint8_t past[] = { IPV6_NH_UDP, 0, 1, 5, 0, 0, 0, 0, UDP8 };
	static const uint8_t no_len[] = { IPV6_NH_UDP, 0, 0, 0, 0, 0, 0, 0x1e, UDP8 };
	check_refused(past, sizeof past, IPV6_NH_DSTOPTS, false, 0, 0, false);
	check_refused(no_len, sizeof no_len, IPV6_NH_DSTOPTS, false, 0, 0, false);
}

TEST(header_past_the_payload_dropped_quietly)
{
	static const uint8_t long_hdr[] = { IPV6_NH_UDP, 2, 1, 4, 0, 0, 0, 0, UDP8 };
	static const uint8_t short_hdr[] = { IPV6_NH_UDP, 0, 1, 2, 0, 0 };
	check_refused(long_hdr, sizeof long_hdr, IPV6_NH_DSTOPTS, false, 0, 0, false);
	check_refused(short_hdr, sizeof short_hdr, IPV6_NH_DSTOPTS, false, 0, 0, false);
	check_refused(short_hdr, sizeof short_hdr, IPV6_NH_FRAGMENT, false, 0, 0, false);
}

TEST(unknown_next_header)
{
	/* TCP (6) and ESP (50) directly, and after a Destination Options header. */
	static const uint8_t tcp[] = { UDP8, UDP8, UDP8 };
	static const uint8_t dst_esp[] = { 50, 0, 1, 4, 0, 0, 0, 0, UDP8 };
	check_refused(tcp, sizeof tcp, 6, true, ICMP6_PARAMPROB_NEXTHEADER, 6, true);
	check_refused(dst_esp, sizeof dst_esp, IPV6_NH_DSTOPTS, true, ICMP6_PARAMPROB_NEXTHEADER, 40, true);
}

TEST(hop_by_hop_only_first)
{
	static const uint8_t ext[] = { IPV6_NH_HOPOPTS, 0, 1, 4, 0, 0, 0, 0, IPV6_NH_UDP, 0, 1, 4, 0, 0, 0, 0, UDP8 };
	check_refused(ext, sizeof ext, IPV6_NH_DSTOPTS, true, ICMP6_PARAMPROB_NEXTHEADER, 40, true);
}

TEST(no_next_header)
{
	static const uint8_t ext[] = { IPV6_NH_NONE, 0, 1, 4, 0, 0, 0, 0, 0xde, 0xad };
	uint8_t buf[128];
	size_t len = build(buf, IPV6_NH_DSTOPTS, "2001:db8::2", ext, sizeof ext);
	struct ipv6_repr r;
	struct ipv6_param_problem pp;
	CHECK_EQ_INT(parse(buf, len, &r, &pp), WIRE_OK);
	CHECK_EQ_INT(r.next_header, IPV6_NH_NONE);
	CHECK_EQ_INT(r.hdr_len, 48);
}

TEST(routing_header)
{
	/* Type 0 (RFC 5095) and type 4 (segment routing) with Segments Left 0 are ignored; with 1 the
	 * host answers code 0 at the Routing Type. */
	uint8_t rh[] = { IPV6_NH_UDP, 2, 0, 0, 0, 0, 0, 0, [24] = 0x9c, 0x40, 0x23, 0x28, 0, 8, 0, 0 };
	uint8_t buf[128];
	struct ipv6_repr r;
	struct ipv6_param_problem pp;
	size_t len = build(buf, IPV6_NH_ROUTING, "2001:db8::2", rh, sizeof rh);
	CHECK_EQ_INT(parse(buf, len, &r, &pp), WIRE_OK);
	CHECK_EQ_INT(r.next_header, IPV6_NH_UDP);
	CHECK_EQ_INT(r.hdr_len, 64);
	rh[2] = 4;
	len = build(buf, IPV6_NH_ROUTING, "2001:db8::2", rh, sizeof rh);
	CHECK_EQ_INT(parse(buf, len, &r, &pp), WIRE_OK);
	rh[3] = 1;
	check_refused(rh, sizeof rh, IPV6_NH_ROUTING, true, ICMP6_PARAMPROB_HEADER, 42, true);
	rh[2] = 0;
	check_refused(rh, sizeof rh, IPV6_NH_ROUTING, true, ICMP6_PARAMPROB_HEADER, 42, true);
}

TEST(fragment_checks)
{
	/* M set with 12 bytes of fragment data: code 0 at the Payload Length. */
	static const uint8_t odd[] = { IPV6_NH_UDP, 0, 0, 1, 0, 0, 0, 7, UDP8, 1, 2, 3, 4 };
	/* offset 65528 + 16 bytes > 65535: code 0 at the Fragment Offset. */
	static const uint8_t beyond[] = { IPV6_NH_UDP, 0, 0xff, 0xf8, 0, 0, 0, 7, UDP8, UDP8 };
	/* A first fragment whose Destination Options header is not all there: code 3, pointer 0. */
	static const uint8_t incomplete[] = { IPV6_NH_DSTOPTS, 0, 0, 1, 0, 0, 0, 7, IPV6_NH_UDP, 1, 1, 4, 0, 0, 0, 0 };
	/* A first fragment that stops inside the UDP header. */
	static const uint8_t short_udp[] = { IPV6_NH_UDP, 0, 0, 0, 0, 0, 0, 7, 0x9c, 0x40, 0x23, 0x28 };
	check_refused(odd, sizeof odd, IPV6_NH_FRAGMENT, true, ICMP6_PARAMPROB_HEADER, 4, true);
	check_refused(beyond, sizeof beyond, IPV6_NH_FRAGMENT, true, ICMP6_PARAMPROB_HEADER, 42, true);
	check_refused(incomplete, sizeof incomplete, IPV6_NH_FRAGMENT, true, ICMP6_PARAMPROB_FRAG_INCOMPLETE, 0, true);
	check_refused(short_udp, sizeof short_udp, IPV6_NH_FRAGMENT, true, ICMP6_PARAMPROB_FRAG_INCOMPLETE, 0, true);

	/* A later fragment needs no upper-layer header; the headers after the Fragment header are
	 * not walked (they belong to the fragmentable part). */
	static const uint8_t later[] = { 99, 0, 0, 9, 0, 0, 0, 7, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
	uint8_t buf[128];
	struct ipv6_repr r;
	struct ipv6_param_problem pp;
	size_t len = build(buf, IPV6_NH_FRAGMENT, "2001:db8::2", later, sizeof later);
	CHECK_EQ_INT(parse(buf, len, &r, &pp), WIRE_OK);
	CHECK_EQ_INT(r.next_header, 99);
	CHECK_EQ_INT(r.frag_offset, 8);
	CHECK(r.more_frags);
	CHECK_EQ_INT(r.frag_id, 7);

	/* An atomic fragment (offset 0, M clear) after a Hop-by-Hop header. */
	static const uint8_t atomic[] = { IPV6_NH_FRAGMENT, 0, 1, 4, 0, 0, 0, 0, IPV6_NH_UDP, 0, 0, 0, 0, 0, 1, 2, UDP8 };
	len = build(buf, IPV6_NH_HOPOPTS, "2001:db8::2", atomic, sizeof atomic);
	CHECK_EQ_INT(parse(buf, len, &r, &pp), WIRE_OK);
	CHECK(r.fragment);
	CHECK(!r.more_frags);
	CHECK_EQ_INT(r.frag_id, 0x102);
	CHECK_EQ_INT(r.unfrag_len, 48);
	CHECK_EQ_INT(r.frag_hdr_off, 48);
	CHECK_EQ_INT(r.frag_nh_off, 40);
	CHECK_EQ_INT(r.hdr_len, 56);
	CHECK_EQ_INT(r.nh_off, 48);
}

TEST(long_chain_of_headers)
{
	/* 100 Destination Options headers: each is walked (no recursion, no fixed bound). */
	uint8_t ext[100 * 8 + 8];
	for (int i = 0; i < 100; i++) {
		uint8_t h[8] = { i == 99 ? IPV6_NH_UDP : IPV6_NH_DSTOPTS, 0, 1, 4, 0, 0, 0, 0 };
		memcpy(ext + 8 * i, h, 8);
	}
	memcpy(ext + 800, (uint8_t[]){ UDP8 }, 8);
	uint8_t buf[IPV6_HDR_LEN + sizeof ext];
	size_t len = build(buf, IPV6_NH_DSTOPTS, "2001:db8::2", ext, sizeof ext);
	struct ipv6_repr r;
	struct ipv6_param_problem pp;
	CHECK_EQ_INT(parse(buf, len, &r, &pp), WIRE_OK);
	CHECK_EQ_INT(r.hdr_len, 840);
	CHECK_EQ_INT(r.nh_off, 832);
}

TEST(parse_head_walks_only_the_contiguous_part)
{
	/* A chained packet (a jumbo frame in several mbufs): the walk reads its first `head` bytes only.
	 * The 100-header chain ends at 840: parsed whole from there, refused below, never read past. */
	uint8_t ext[100 * 8 + 8];
	for (int i = 0; i < 100; i++) {
		uint8_t h[8] = { i == 99 ? IPV6_NH_UDP : IPV6_NH_DSTOPTS, 0, 1, 4, 0, 0, 0, 0 };
		memcpy(ext + 8 * i, h, 8);
	}
	memcpy(ext + 800, (uint8_t[]){ UDP8 }, 8);
	uint8_t buf[IPV6_HDR_LEN + sizeof ext];
	size_t len = build(buf, IPV6_NH_DSTOPTS, "2001:db8::2", ext, sizeof ext);
	struct ipv6_repr r;
	for (size_t head = 0; head <= len; head++) {
		uint8_t *part = malloc(head ? head : 1); /* exactly `head` bytes: a read past them is caught by ASan */
		CHECK(part != NULL);
		memcpy(part, buf, head);
		enum wire_result want = head < IPV6_HDR_LEN ? WIRE_TRUNCATED : head < 840 ? WIRE_BAD_EXTHDR : WIRE_OK;
		CHECK_EQ_INT(ipv6_repr_parse_head(part, head, len, &r, NULL), want);
		if (want == WIRE_OK) {
			CHECK_EQ_INT(r.hdr_len, 840);
			CHECK_EQ_INT(r.payload_len, len - IPV6_HDR_LEN);
		}
		free(part);
	}
}

/* UDP over IPv6 */

static const struct fixture_frame *udp_frame(int nth)
{
	return find_v6(&(struct v6_match){ "2001:db8::1", "2001:db8::2", IPV6_NH_UDP, 0, 20 }, nth);
}

TEST(udp6_parse_kernel_datagram)
{
	/* The second datagram to port 9000 went out with a complete checksum. */
	size_t len;
	const uint8_t *p = v6_packet(udp_frame(1), &len);
	struct ipv6_repr ip;
	CHECK_EQ_INT(ipv6_repr_parse(p, len, &ip, NULL), WIRE_OK);
	struct udp_repr u;
	CHECK_EQ_INT(udp6_repr_parse(p + 40, len - 40, &ip.src, &ip.dst, &WIRE_CSUM_SOFTWARE, &u), WIRE_OK);
	CHECK_EQ_INT(u.src_port, 40000);
	CHECK_EQ_INT(u.dst_port, 9000);
	CHECK_EQ_INT(u.payload_len, 12);
	CHECK_MEM(p + 48, "hello ffnet\n", 12);

	uint8_t bad[128];
	memcpy(bad, p, len);
	bad[len - 1] ^= 1;
	CHECK_EQ_INT(udp6_repr_parse(bad + 40, len - 40, &ip.src, &ip.dst, &WIRE_CSUM_SOFTWARE, &u), WIRE_BAD_CHECKSUM);
	CHECK_EQ_INT(udp6_repr_parse(bad + 40, len - 40, &ip.src, &ip.dst, &rx_l4_verified, &u), WIRE_OK);
	/* The addresses are in the sum. */
	struct ip6_addr other = ip.dst;
	other.b[15] ^= 1;
	CHECK_EQ_INT(udp6_repr_parse(p + 40, len - 40, &ip.src, &other, &WIRE_CSUM_SOFTWARE, &u), WIRE_BAD_CHECKSUM);
}

TEST(udp6_zero_checksum_refused)
{
	size_t len;
	const uint8_t *p = v6_packet(udp_frame(1), &len);
	uint8_t buf[128];
	memcpy(buf, p, len);
	wr_be16(buf + 46, 0);
	struct ipv6_repr ip;
	struct udp_repr u;
	CHECK_EQ_INT(ipv6_repr_parse(buf, len, &ip, NULL), WIRE_OK);
	CHECK_EQ_INT(udp6_repr_parse(buf + 40, len - 40, &ip.src, &ip.dst, &WIRE_CSUM_SOFTWARE, &u), WIRE_BAD_CHECKSUM);
	CHECK_EQ_INT(udp6_repr_parse(buf + 40, len - 40, &ip.src, &ip.dst, &rx_l4_verified, &u), WIRE_BAD_CHECKSUM);
	CHECK_EQ_INT(udp6_repr_parse(buf + 40, 7, &ip.src, &ip.dst, &WIRE_CSUM_SOFTWARE, &u), WIRE_TRUNCATED);
	wr_be16(buf + 44, 21);
	CHECK_EQ_INT(udp6_repr_parse(buf + 40, len - 40, &ip.src, &ip.dst, &WIRE_CSUM_SOFTWARE, &u), WIRE_BAD_LENGTH);
}

TEST(udp6_emit_matches_kernel)
{
	/* The first datagram went out with offload on (the folded pseudo-header sum, as DPDK's
	 * rte_ipv6_phdr_cksum() makes it), the second with a complete checksum. */
	size_t len;
	const uint8_t *offloaded = v6_packet(udp_frame(0), &len);
	const uint8_t *full = v6_packet(udp_frame(1), &len);
	struct ipv6_repr ip;
	CHECK_EQ_INT(ipv6_repr_parse(full, len, &ip, NULL), WIRE_OK);
	struct udp_repr u = { .src_port = 40000, .dst_port = 9000, .payload_len = 12 };
	uint8_t buf[20];
	memcpy(buf + 8, "hello ffnet\n", 12);
	CHECK_EQ_INT(udp6_repr_emit(&u, buf, sizeof buf, &ip.src, &ip.dst, &WIRE_CSUM_SOFTWARE), UDP_HDR_LEN);
	CHECK_MEM(buf, full + 40, 20);
	CHECK_EQ_INT(udp6_repr_emit(&u, buf, sizeof buf, &ip.src, &ip.dst, &tx_udp_offload), UDP_HDR_LEN);
	CHECK_MEM(buf, offloaded + 40, 20);
	CHECK_EQ_INT(udp6_repr_emit(&u, buf, sizeof buf - 1, &ip.src, &ip.dst, &WIRE_CSUM_SOFTWARE), 0);
	u.payload_len = 65535 - 7;
	CHECK_EQ_INT(udp6_repr_emit(&u, buf, 1 << 20, &ip.src, &ip.dst, &WIRE_CSUM_SOFTWARE), 0);
}

TEST(csum_pseudo_ipv6_sums_rfc8200_fields)
{
	/* The sum of the pseudo-header laid out as RFC 8200 §8.1 draws it. */
	struct ip6_addr s = A("2001:db8::1"), d = A("fe80::ff:fe99:2");
	uint8_t ph[40] = { 0 };
	memcpy(ph, s.b, 16);
	memcpy(ph + 16, d.b, 16);
	wr_be32(ph + 32, 0x12345);
	ph[39] = IPV6_NH_UDP;
	CHECK_EQ_INT(csum_fold(csum_pseudo_ipv6(&s, &d, 0x12345, IPV6_NH_UDP)), csum_buf(ph, sizeof ph));
}

/* Addresses */

TEST(format_rfc5952)
{
	static const struct { const char *in, *out; } cases[] = {
		{ "::", "::" },
		{ "::1", "::1" },
		{ "::2", "::2" },
		{ "1::", "1::" },
		{ "2001:0db8:0000:0000:0000:0000:0000:0001", "2001:db8::1" },
		{ "2001:db8:0:0:1:0:0:1", "2001:db8::1:0:0:1" },       /* §4.2.3: the first of equal runs */
		{ "2001:0:0:1:0:0:0:1", "2001:0:0:1::1" },             /* §4.2.3: the longest run */
		{ "2001:db8:0:1:1:1:1:1", "2001:db8:0:1:1:1:1:1" },    /* §4.2.2: not one group */
		{ "FE80::FF:FE99:1", "fe80::ff:fe99:1" },              /* §4.3: lower case */
		{ "ff02::1:ff99:1", "ff02::1:ff99:1" },
		{ "::ffff:10.99.0.1", "::ffff:10.99.0.1" },            /* §5 */
		{ "::ffff:0:0", "::ffff:0.0.0.0" },
		{ "::1.2.3.4", "::1.2.3.4" },
		{ "1:2:3:4:5:6:7:8", "1:2:3:4:5:6:7:8" },
		{ "1:0:0:0:0:0:0:0", "1::" },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct ip6_addr a = A(cases[i].in);
		char out[IP6_ADDRSTRLEN];
		CHECK_EQ_STR(ip6_format(&a, out), cases[i].out);
	}
}

/* A random address with runs of zero groups, so that every compression case comes up. */
static void random_addr(struct ip6_addr *a)
{
	for (int i = 0; i < 8; i++) {
		uint16_t w = rand() % 3 == 0 ? 0 : (uint16_t)(rand() & (rand() % 2 ? 0xffff : 0xf));
		wr_be16(a->b + 2 * i, w);
	}
	if (rand() % 8 == 0)
		ip6_from_v4mapped((uint32_t)rand(), a);
}

TEST(format_and_parse_agree_with_glibc)
{
	srand(6);
	for (int n = 0; n < 20000; n++) {
		struct ip6_addr a, b;
		random_addr(&a);
		char ours[IP6_ADDRSTRLEN], theirs[INET6_ADDRSTRLEN];
		inet_ntop(AF_INET6, a.b, theirs, sizeof theirs);
		CHECK_EQ_STR(ip6_format(&a, ours), theirs);
		CHECK_EQ_INT(ip6_parse(ours, &b), 0);
		CHECK(ip6_eq(&a, &b));
	}
}

TEST(parse_refuses_what_inet_pton_refuses)
{
	static const char *const texts[] = {
		"", ":", ":::", "1:", ":1", "1:::2", "1::2::3", "12345::", "1:2:3:4:5:6:7", "1:2:3:4:5:6:7:8:9",
		"1:2:3:4:5:6:7::8", "::8:1:2:3:4:5:6:7", "g::", "::1%eth0", "::1/64", " ::1", "::1 ", "1.2.3.4",
		"::1.2.3", "::1.2.3.4.5", "::256.1.1.1", "::01.2.3.4", "::1.2.3.4:5", "1:2:3:4:5:6:7:1.2.3.4",
		"::ffff:1.2.3.4", "1:2:3:4:5:6:1.2.3.4", "::", "1::", "::1", "a:B:c:D:e:F:0:1", "0000::0000:0",
		"1:2:3:4:5::1.2.3.4", "::0x1", "fe80::1.2.3.4.", "::.", "1:2:3:4:5:6::7",
	};
	for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++) {
		struct ip6_addr a = { { 0x55 } }, b;
		int want = inet_pton(AF_INET6, texts[i], b.b) == 1 ? 0 : -1;
		int got = ip6_parse(texts[i], &a);
		if (got != want)
			FAIL("ip6_parse(\"%s\") = %d, inet_pton says %d", texts[i], got, want);
		if (got == 0)
			CHECK(ip6_eq(&a, &b));
		else
			CHECK_EQ_INT(a.b[0], 0x55);
	}
}

TEST(address_classes)
{
	struct ip6_addr a;
	CHECK(ip6_is_unspecified(&IP6_ANY));
	CHECK(ip6_is_loopback(&IP6_LOOPBACK));
	CHECK(!ip6_is_loopback(&IP6_ANY));
	a = A("ff02::1");
	CHECK(ip6_eq(&a, &IP6_ALL_NODES));
	a = A("ff02::2");
	CHECK(ip6_eq(&a, &IP6_ALL_ROUTERS));
	a = A("ff02::16");
	CHECK(ip6_eq(&a, &IP6_ALL_MLDV2_ROUTERS));
	CHECK(ip6_is_multicast(&IP6_ALL_NODES));
	CHECK_EQ_INT(ip6_mcast_scope(&IP6_ALL_NODES), IP6_SCOPE_LINK);
	a = A("ff15::1234");
	CHECK_EQ_INT(ip6_mcast_scope(&a), IP6_SCOPE_SITE);
	a = A("ff0e::1");
	CHECK_EQ_INT(ip6_mcast_scope(&a), IP6_SCOPE_GLOBAL);
	a = A("fe80::1");
	CHECK(ip6_is_linklocal(&a));
	a = A("febf::1");
	CHECK(ip6_is_linklocal(&a));
	a = A("fec0::1");
	CHECK(!ip6_is_linklocal(&a));
	a = A("::ffff:1.2.3.4");
	CHECK(ip6_is_v4mapped(&a));
	CHECK_EQ_INT(ip6_to_v4(&a), 0x01020304);
	a = A("::1.2.3.4");
	CHECK(!ip6_is_v4mapped(&a));
	a = A("ff02::1:ff99:1");
	CHECK(ip6_is_solicited_node(&a));
	a = A("ff02::1:fe99:1");
	CHECK(!ip6_is_solicited_node(&a));
}

TEST(prefixes)
{
	struct ip6_addr a = A("2001:db8:1:2::1"), b = A("2001:db8:1:3::1"), m;
	CHECK_EQ_INT(ip6_common_prefix_len(&a, &b), 63);
	CHECK_EQ_INT(ip6_common_prefix_len(&a, &a), 128);
	CHECK(ip6_prefix_eq(&a, &b, 48));
	CHECK(ip6_prefix_eq(&a, &b, 63));
	CHECK(!ip6_prefix_eq(&a, &b, 64));
	CHECK(ip6_prefix_eq(&a, &b, 0));
	CHECK(ip6_prefix_eq(&a, &a, 200));
	ip6_mask(&a, 60, &m);
	CHECK(ip6_eq(&m, &(struct ip6_addr){ { 0x20, 0x01, 0x0d, 0xb8, 0x00, 0x01, 0x00, 0x00 } }));
	ip6_mask(&a, 128, &m);
	CHECK(ip6_eq(&m, &a));
	ip6_mask(&a, 0, &m);
	CHECK(ip6_is_unspecified(&m));
}

TEST(derived_addresses_match_the_kernel)
{
	/* The kernel's EUI-64 link-local address of 02:00:00:99:00:01, its solicited-node group and
	 * the group's MAC, as its DAD probe carries them. */
	const struct fixture_frame *dad = find_v6(&(struct v6_match){ "::", "ff02::1:ff99:1", IPV6_NH_ICMPV6,
								      ND_NEIGHBOR_SOLICIT, 0 }, 0);
	struct ip6_addr ll, sn, target;
	ip6_linklocal_eui64(&MAC1, &ll);
	memcpy(target.b, dad->b + ETH_HDR_LEN + 40 + 8, 16);
	char text[IP6_ADDRSTRLEN];
	CHECK_EQ_STR(ip6_format(&ll, text), "fe80::ff:fe99:1");
	CHECK(ip6_eq(&ll, &target));
	ip6_solicited_node(&ll, &sn);
	CHECK_MEM(sn.b, dad->b + ETH_HDR_LEN + 24, 16);
	struct eth_addr mac;
	eth_addr_from_ipv6_multicast(&sn, &mac);
	CHECK_MEM(mac.b, dad->b, ETH_ADDR_LEN);
	/* In place. */
	ip6_solicited_node(&ll, &ll);
	CHECK(ip6_eq(&ll, &sn));

	/* SLAAC from the RA's prefix: the address the kernel probed for after the RA. */
	struct ip6_addr prefix = A("2001:db8:1::"), slaac;
	ip6_from_prefix_eui64(&prefix, &MAC1, &slaac);
	CHECK_EQ_STR(ip6_format(&slaac, text), "2001:db8:1::ff:fe99:1");
	dad = find_v6(&(struct v6_match){ "::", "ff02::1:ff99:1", IPV6_NH_ICMPV6, ND_NEIGHBOR_SOLICIT, 0 }, 1);
	CHECK_MEM(slaac.b, dad->b + ETH_HDR_LEN + 40 + 8, 16);

	struct ip6_addr mapped;
	ip6_from_v4mapped(0x0a630001, &mapped);
	CHECK_EQ_STR(ip6_format(&mapped, text), "::ffff:10.99.0.1");
}

TEST(ipv6_multicast_mac)
{
	struct ip6_addr g = A("ff35::1:2");
	struct eth_addr mac;
	eth_addr_from_ipv6_multicast(&g, &mac);
	CHECK_MEM(mac.b, ((uint8_t[]){ 0x33, 0x33, 0x00, 0x01, 0x00, 0x02 }), 6);
	CHECK(eth_addr_is_multicast(&mac));
}

TEST_MAIN()
