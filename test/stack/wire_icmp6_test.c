/*
 * ICMPv6, Neighbor Discovery and MLD messages (stack/wire/icmp6.c). The messages are the Linux
 * kernel's (test/fixtures/ipv6.hex, made by test/fixtures/capture-ipv6.sh; tshark and tcpdump call
 * every ICMPv6 checksum in it good): parsed, validated, and rebuilt byte for byte by the emit
 * functions. The invalid ND and MLD messages are those messages with one field changed.
 */
#include "stack/wire/checksum.h"
#include "stack/wire/icmp6.h"
#include "stack/wire/igmp.h"
#include "test/stack/harness.h"
#include "test/stack/ipv6_fixtures.h"

_Static_assert(sizeof(struct icmp6_hdr) == ICMP6_HDR_LEN, "icmp6_hdr matches the wire");

static const struct wire_csum_caps rx_l4_verified = { .rx_l4_verified = true };

/* One ICMPv6 message of the fixture: the packet parsed, the message located. */
struct msg {
	struct ipv6_repr ip;
	const uint8_t *pkt;
	size_t pkt_len;
	const uint8_t *icmp;
	size_t len;
};

static struct msg get(const char *src, const char *dst, uint8_t type, int nth)
{
	struct msg m;
	const struct fixture_frame *fr = find_v6(&(struct v6_match){ src, dst, IPV6_NH_ICMPV6, type, 0 }, nth);
	m.pkt = v6_packet(fr, &m.pkt_len);
	CHECK_EQ_INT(ipv6_repr_parse(m.pkt, m.pkt_len, &m.ip, NULL), WIRE_OK);
	m.icmp = m.pkt + m.ip.hdr_len;
	m.len = m.pkt_len - m.ip.hdr_len;
	struct icmp6_repr r;
	CHECK_EQ_INT(icmp6_repr_parse(m.icmp, m.len, &m.ip.src, &m.ip.dst, &WIRE_CSUM_SOFTWARE, &r), WIRE_OK);
	CHECK_EQ_INT(r.type, type);
	return m;
}

/* An MLD message (behind the Hop-by-Hop header). */
static struct msg get_mld(const char *src, const char *dst, uint8_t type, int nth)
{
	struct msg m;
	const struct fixture_frame *fr = find_v6(&(struct v6_match){ src, dst, IPV6_NH_HOPOPTS, type, 0 }, nth);
	m.pkt = v6_packet(fr, &m.pkt_len);
	CHECK_EQ_INT(ipv6_repr_parse(m.pkt, m.pkt_len, &m.ip, NULL), WIRE_OK);
	CHECK_EQ_INT(m.ip.hdr_len, 48);
	m.icmp = m.pkt + m.ip.hdr_len;
	m.len = m.pkt_len - m.ip.hdr_len;
	struct icmp6_repr r;
	CHECK_EQ_INT(icmp6_repr_parse(m.icmp, m.len, &m.ip.src, &m.ip.dst, &WIRE_CSUM_SOFTWARE, &r), WIRE_OK);
	return m;
}

/* ICMPv6 */

TEST(echo_parse_and_rebuild)
{
	struct msg req = get("2001:db8::1", "2001:db8::2", ICMP6_ECHO_REQUEST, 0);
	struct msg rep = get("2001:db8::2", "2001:db8::1", ICMP6_ECHO_REPLY, 0);
	struct icmp6_repr r;
	CHECK_EQ_INT(icmp6_check_len(req.icmp, req.len), WIRE_OK);
	CHECK_EQ_INT(icmp6_repr_parse(req.icmp, req.len, &req.ip.src, &req.ip.dst, &WIRE_CSUM_SOFTWARE, &r), WIRE_OK);
	CHECK_EQ_INT(r.code, 0);
	CHECK_EQ_INT(r.ident, rd_be16(req.icmp + 4));
	CHECK_EQ_INT(r.seq, 1);
	CHECK(r.body == req.icmp + 8);
	CHECK_EQ_INT(r.body_len, 37);

	/* The reply, built in a copy of the request as a responder would. */
	uint8_t buf[64];
	memcpy(buf, req.icmp, req.len);
	CHECK_EQ_INT(icmp6_echo_emit(ICMP6_ECHO_REPLY, r.ident, r.seq, buf + 8, r.body_len, &req.ip.dst, &req.ip.src, buf,
				     sizeof buf),
		     rep.len);
	CHECK_MEM(buf, rep.icmp, rep.len);
	/* And the request from scratch, with the data elsewhere. */
	CHECK_EQ_INT(icmp6_echo_emit(ICMP6_ECHO_REQUEST, r.ident, r.seq, req.icmp + 8, 37, &req.ip.src, &req.ip.dst, buf,
				     sizeof buf),
		     req.len);
	CHECK_MEM(buf, req.icmp, req.len);
	CHECK_EQ_INT(icmp6_echo_emit(ICMP6_ECHO_REQUEST, 1, 1, NULL, 0, &req.ip.src, &req.ip.dst, buf, 7), 0);
	CHECK_EQ_INT(icmp6_echo_emit(ICMP6_ECHO_REQUEST, 1, 1, req.icmp, 37, &req.ip.src, &req.ip.dst, buf, 44), 0);
}

TEST(bad_checksum_and_truncation)
{
	struct msg req = get("2001:db8::1", "2001:db8::2", ICMP6_ECHO_REQUEST, 0);
	uint8_t buf[64];
	memcpy(buf, req.icmp, req.len);
	buf[20] ^= 0x10;
	struct icmp6_repr r;
	CHECK_EQ_INT(icmp6_repr_parse(buf, req.len, &req.ip.src, &req.ip.dst, &WIRE_CSUM_SOFTWARE, &r), WIRE_BAD_CHECKSUM);
	CHECK_EQ_INT(icmp6_repr_parse(buf, req.len, &req.ip.src, &req.ip.dst, &rx_l4_verified, &r), WIRE_OK);
	/* The pseudo-header counts: the right message to another address fails. */
	CHECK_EQ_INT(icmp6_repr_parse(req.icmp, req.len, &req.ip.dst, &req.ip.dst, &WIRE_CSUM_SOFTWARE, &r),
		     WIRE_BAD_CHECKSUM);
	CHECK_EQ_INT(icmp6_repr_parse(req.icmp, 7, &req.ip.src, &req.ip.dst, &rx_l4_verified, &r), WIRE_TRUNCATED);
	CHECK_EQ_INT(icmp6_check_len(req.icmp, 7), WIRE_TRUNCATED);
}

TEST(port_unreachable_rebuilt)
{
	/* The kernel's answer to the datagram to port 9001 quotes all of it. */
	struct msg err = get("2001:db8::2", "2001:db8::1", ICMP6_DST_UNREACH, 0);
	const struct fixture_frame *dgram =
		find_v6(&(struct v6_match){ "2001:db8::1", "2001:db8::2", IPV6_NH_UDP, 0, 20 }, 2);
	size_t dlen;
	const uint8_t *d = v6_packet(dgram, &dlen);
	CHECK_EQ_INT(rd_be16(d + 42), 9001);
	struct icmp6_repr r;
	CHECK_EQ_INT(icmp6_repr_parse(err.icmp, err.len, &err.ip.src, &err.ip.dst, &WIRE_CSUM_SOFTWARE, &r), WIRE_OK);
	CHECK_EQ_INT(r.code, ICMP6_DST_UNREACH_PORT);
	CHECK_EQ_INT(r.param, 0);
	CHECK_EQ_INT(r.body_len, dlen);
	CHECK_MEM(r.body, d, dlen);
	CHECK(icmp6_is_error(r.type));

	uint8_t buf[256];
	CHECK_EQ_INT(icmp6_error_emit(ICMP6_DST_UNREACH, ICMP6_DST_UNREACH_PORT, 0, d, dlen, &err.ip.src, &err.ip.dst, buf,
				      sizeof buf),
		     err.len);
	CHECK_MEM(buf, err.icmp, err.len);
}

TEST(parameter_problem_rebuilt)
{
	struct msg err = get("2001:db8::2", "2001:db8::1", ICMP6_PARAM_PROB, 0);
	const struct fixture_frame *bad = find_v6(&(struct v6_match){ "2001:db8::1", "2001:db8::2", IPV6_NH_DSTOPTS, 0, 0 }, 0);
	size_t blen;
	const uint8_t *b = v6_packet(bad, &blen);
	struct icmp6_repr r;
	CHECK_EQ_INT(icmp6_repr_parse(err.icmp, err.len, &err.ip.src, &err.ip.dst, &WIRE_CSUM_SOFTWARE, &r), WIRE_OK);
	CHECK_EQ_INT(r.code, ICMP6_PARAMPROB_OPTION);
	CHECK_EQ_INT(r.param, 42);

	/* Quoted in place: the packet already at buf + 8, as when the error is built in its buffer. */
	uint8_t buf[256];
	memcpy(buf + 8, b, blen);
	CHECK_EQ_INT(icmp6_error_emit(ICMP6_PARAM_PROB, ICMP6_PARAMPROB_OPTION, 42, buf + 8, blen, &err.ip.src,
				      &err.ip.dst, buf, sizeof buf),
		     err.len);
	CHECK_MEM(buf, err.icmp, err.len);
}

TEST(errors_quote_within_the_minimum_mtu)
{
	static uint8_t quoted[3000], buf[3000];
	for (size_t i = 0; i < sizeof quoted; i++)
		quoted[i] = (uint8_t)i;
	struct ip6_addr s = A("2001:db8::2"), d = A("2001:db8::1");
	size_t n = icmp6_error_emit(ICMP6_PACKET_TOO_BIG, 0, 1280, quoted, sizeof quoted, &s, &d, buf, sizeof buf);
	CHECK_EQ_INT(n, IPV6_MIN_MTU - IPV6_HDR_LEN);
	CHECK_EQ_INT(ICMP6_ERROR_MAX_QUOTE, 1232);
	CHECK_MEM(buf + 8, quoted, 1232);
	struct icmp6_repr r;
	CHECK_EQ_INT(icmp6_repr_parse(buf, n, &s, &d, &WIRE_CSUM_SOFTWARE, &r), WIRE_OK);
	CHECK_EQ_INT(r.param, 1280);
	/* Within cap as well. */
	CHECK_EQ_INT(icmp6_error_emit(ICMP6_TIME_EXCEEDED, 1, 0, quoted, sizeof quoted, &s, &d, buf, 100), 100);
	CHECK_EQ_INT(icmp6_repr_parse(buf, 100, &s, &d, &WIRE_CSUM_SOFTWARE, &r), WIRE_OK);
	CHECK_EQ_INT(icmp6_error_emit(ICMP6_TIME_EXCEEDED, 1, 0, quoted, sizeof quoted, &s, &d, buf, 7), 0);
	CHECK(!icmp6_is_error(ICMP6_ECHO_REQUEST));
}

/* Neighbor Discovery */

static enum wire_result nd(const struct msg *m, struct nd_repr *out)
{
	return nd_repr_parse(m->icmp, m->len, &m->ip, out);
}

/* nd_repr_parse of m with one change to the message or the packet. */
static enum wire_result nd_changed(const struct msg *m, size_t at, uint8_t value, size_t len, const struct ipv6_repr *ip)
{
	static uint8_t buf[256];
	struct nd_repr out;
	memcpy(buf, m->icmp, m->len);
	if (at < m->len)
		buf[at] = value;
	return nd_repr_parse(buf, len, ip ? ip : &m->ip, &out);
}

TEST(dad_probe)
{
	/* From ::, to the solicited-node group, with the kernel's nonce option (RFC 7527), which is
	 * skipped. */
	struct msg m = get("::", "ff02::1:ff99:1", ND_NEIGHBOR_SOLICIT, 0);
	struct nd_repr r;
	CHECK_EQ_INT(m.len, 32);
	CHECK_EQ_INT(m.icmp[24], 14);
	CHECK_EQ_INT(nd(&m, &r), WIRE_OK);
	CHECK_EQ_INT(r.type, ND_NEIGHBOR_SOLICIT);
	struct ip6_addr ll;
	ip6_linklocal_eui64(&MAC1, &ll);
	CHECK(ip6_eq(&r.target, &ll));
	CHECK(!r.has_slla);
	CHECK(!r.has_tlla);

	/* RFC 4861 §7.1.1: from :: only to a solicited-node group, and without SLLA. */
	struct ipv6_repr ip = m.ip;
	ip.dst = IP6_ALL_NODES;
	CHECK_EQ_INT(nd_changed(&m, 99, 0, m.len, &ip), WIRE_MALFORMED);
	CHECK_EQ_INT(nd_changed(&m, 24, ND_OPT_SLLA, m.len, NULL), WIRE_MALFORMED);
	/* An SLLA of another length than Ethernet's counts too. */
	uint8_t buf[48];
	memcpy(buf, m.icmp, 24);
	memcpy(buf + 24, (uint8_t[]){ ND_OPT_SLLA, 2, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14 }, 16);
	struct nd_repr out;
	CHECK_EQ_INT(nd_repr_parse(buf, 40, &m.ip, &out), WIRE_MALFORMED);
}

TEST(neighbor_solicitation_and_advertisement)
{
	struct msg ns = get("2001:db8::1", "ff02::1:ff00:2", ND_NEIGHBOR_SOLICIT, 0);
	struct msg na = get("2001:db8::2", "2001:db8::1", ND_NEIGHBOR_ADVERT, 0);
	struct nd_repr r;
	CHECK_EQ_INT(nd(&ns, &r), WIRE_OK);
	struct ip6_addr target = A("2001:db8::2");
	CHECK(ip6_eq(&r.target, &target));
	CHECK(r.has_slla);
	CHECK(eth_addr_eq(&r.slla, &MAC1));

	CHECK_EQ_INT(nd(&na, &r), WIRE_OK);
	CHECK(ip6_eq(&r.target, &target));
	CHECK(!r.router);
	CHECK(r.solicited);
	CHECK(r.override);
	CHECK(r.has_tlla);
	CHECK(!r.has_slla);
	CHECK(eth_addr_eq(&r.tlla, &MAC2));

	uint8_t buf[64];
	CHECK_EQ_INT(nd_ns_emit(&target, &MAC1, &ns.ip.src, &ns.ip.dst, buf, sizeof buf), ns.len);
	CHECK_MEM(buf, ns.icmp, ns.len);
	CHECK_EQ_INT(nd_na_emit(&target, &MAC2, false, true, true, &na.ip.src, &na.ip.dst, buf, sizeof buf), na.len);
	CHECK_MEM(buf, na.icmp, na.len);
	CHECK_EQ_INT(nd_ns_emit(&target, &MAC1, &ns.ip.src, &ns.ip.dst, buf, 31), 0);
}

TEST(advertisement_without_tlla)
{
	/* The kernel answers a unicast NS without TLLA (RFC 4861 §7.2.4 allows it). */
	struct msg na = get("fe80::ff:fe99:2", "fe80::ff:fe99:1", ND_NEIGHBOR_ADVERT, 0);
	struct nd_repr r;
	CHECK_EQ_INT(na.len, 24);
	CHECK_EQ_INT(nd(&na, &r), WIRE_OK);
	CHECK(r.solicited);
	CHECK(!r.override);
	CHECK(!r.has_tlla);
	uint8_t buf[64];
	CHECK_EQ_INT(nd_na_emit(&r.target, NULL, false, true, false, &na.ip.src, &na.ip.dst, buf, sizeof buf), 24);
	CHECK_MEM(buf, na.icmp, 24);
}

TEST(nd_validation)
{
	struct msg na = get("2001:db8::2", "2001:db8::1", ND_NEIGHBOR_ADVERT, 0);
	struct ipv6_repr ip = na.ip;
	/* RFC 4861 §7.1.2: hop limit 255, code 0, 24 bytes or more, target not multicast, options of
	 * non-zero length within the message, S clear when sent to a multicast address. */
	ip.hop_limit = 254;
	CHECK_EQ_INT(nd_changed(&na, 99, 0, na.len, &ip), WIRE_BAD_HOPLIMIT);
	CHECK_EQ_INT(nd_changed(&na, 1, 1, na.len, NULL), WIRE_MALFORMED);
	CHECK_EQ_INT(nd_changed(&na, 99, 0, 23, NULL), WIRE_TRUNCATED);
	CHECK_EQ_INT(nd_changed(&na, 8, 0xff, na.len, NULL), WIRE_MALFORMED);
	CHECK_EQ_INT(nd_changed(&na, 25, 0, na.len, NULL), WIRE_MALFORMED);
	CHECK_EQ_INT(nd_changed(&na, 25, 2, na.len, NULL), WIRE_MALFORMED);
	CHECK_EQ_INT(nd_changed(&na, 99, 0, na.len - 1, NULL), WIRE_MALFORMED);
	CHECK_EQ_INT(nd_changed(&na, 99, 0, 25, NULL), WIRE_MALFORMED);
	ip = na.ip;
	ip.dst = IP6_ALL_NODES;
	CHECK_EQ_INT(nd_changed(&na, 99, 0, na.len, &ip), WIRE_MALFORMED);
	/* Unsolicited, to all nodes: fine. */
	CHECK_EQ_INT(nd_changed(&na, 4, 0x20, na.len, &ip), WIRE_OK);
	/* Not an ND message at all. */
	CHECK_EQ_INT(nd_changed(&na, 0, ICMP6_ECHO_REQUEST, na.len, NULL), WIRE_UNSUPPORTED);
	CHECK_EQ_INT(nd_changed(&na, 0, ND_REDIRECT, na.len, NULL), WIRE_UNSUPPORTED);
	/* A TLLA of another length is skipped; an unknown option is skipped. */
	CHECK_EQ_INT(nd_changed(&na, 24, 99, na.len, NULL), WIRE_OK);
	struct nd_repr r;
	uint8_t buf[64];
	memcpy(buf, na.icmp, 24);
	memcpy(buf + 24, (uint8_t[]){ ND_OPT_TLLA, 2, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14 }, 16);
	CHECK_EQ_INT(nd_repr_parse(buf, 40, &na.ip, &r), WIRE_OK);
	CHECK(!r.has_tlla);
}

TEST(router_solicitation)
{
	struct msg rs = get("fe80::ff:fe99:1", "ff02::2", ND_ROUTER_SOLICIT, 0);
	struct nd_repr r;
	CHECK_EQ_INT(nd(&rs, &r), WIRE_OK);
	CHECK(r.has_slla);
	CHECK(eth_addr_eq(&r.slla, &MAC1));
	uint8_t buf[64];
	CHECK_EQ_INT(nd_rs_emit(&MAC1, &rs.ip.src, &rs.ip.dst, buf, sizeof buf), rs.len);
	CHECK_MEM(buf, rs.icmp, rs.len);
	CHECK_EQ_INT(nd_rs_emit(NULL, &IP6_ANY, &rs.ip.dst, buf, sizeof buf), ND_RS_LEN);
	struct ipv6_repr ip = rs.ip;
	ip.src = IP6_ANY;
	CHECK_EQ_INT(nd_repr_parse(buf, ND_RS_LEN, &ip, &r), WIRE_OK);
	/* RFC 4861 §6.1.1: no SLLA from ::. */
	CHECK_EQ_INT(nd_changed(&rs, 99, 0, rs.len, &ip), WIRE_MALFORMED);
	CHECK_EQ_INT(nd_changed(&rs, 99, 0, 7, NULL), WIRE_TRUNCATED);
}

TEST(router_advertisement)
{
	struct msg ra = get("fe80::ff:fe99:2", "ff02::1", ND_ROUTER_ADVERT, 0);
	struct nd_repr r;
	CHECK_EQ_INT(nd(&ra, &r), WIRE_OK);
	CHECK_EQ_INT(r.cur_hop_limit, 64);
	CHECK(!r.managed);
	CHECK(!r.other);
	CHECK_EQ_INT(r.router_lifetime, 1800);
	CHECK_EQ_INT(r.reachable_ms, 0);
	CHECK_EQ_INT(r.retrans_ms, 0);
	CHECK(r.has_slla);
	CHECK(eth_addr_eq(&r.slla, &MAC2));
	CHECK_EQ_INT(r.mtu, 1500);
	CHECK_EQ_INT(r.n_prefixes, 1);
	CHECK_EQ_INT(r.n_prefixes_dropped, 0);
	struct ip6_addr prefix = A("2001:db8:1::");
	CHECK(ip6_eq(&r.prefixes[0].prefix, &prefix));
	CHECK_EQ_INT(r.prefixes[0].len, 64);
	CHECK(r.prefixes[0].onlink);
	CHECK(r.prefixes[0].autonomous);
	CHECK_EQ_INT(r.prefixes[0].valid_s, 86400);
	CHECK_EQ_INT(r.prefixes[0].preferred_s, 14400);

	/* RFC 4861 §6.1.2: from a link-local source only. */
	struct ipv6_repr ip = ra.ip;
	ip.src = A("2001:db8::2");
	CHECK_EQ_INT(nd_changed(&ra, 99, 0, ra.len, &ip), WIRE_MALFORMED);
	CHECK_EQ_INT(nd_changed(&ra, 99, 0, 15, NULL), WIRE_TRUNCATED);
}

TEST(router_advertisement_prefix_limits)
{
	struct msg ra = get("fe80::ff:fe99:2", "ff02::1", ND_ROUTER_ADVERT, 0);
	/* The RA's prefix option (its last 32 bytes) six times, one with prefix length 129 (skipped). */
	static uint8_t buf[16 + 6 * 32];
	memcpy(buf, ra.icmp, 16);
	for (int i = 0; i < 6; i++) {
		memcpy(buf + 16 + 32 * i, ra.icmp + ra.len - 32, 32);
		buf[16 + 32 * i + 16 + 7] = (uint8_t)i;
	}
	buf[16 + 2] = 129;
	struct nd_repr r;
	CHECK_EQ_INT(nd_repr_parse(buf, sizeof buf, &ra.ip, &r), WIRE_OK);
	CHECK_EQ_INT(r.n_prefixes, ND_MAX_PREFIXES);
	CHECK_EQ_INT(r.n_prefixes_dropped, 1);
	CHECK_EQ_INT(r.prefixes[0].prefix.b[7], 1);
	CHECK_EQ_INT(r.prefixes[3].prefix.b[7], 4);
	CHECK(!r.has_slla);
	CHECK_EQ_INT(r.mtu, 0);
}

/* MLD */

TEST(mldv2_general_query)
{
	struct msg q = get_mld("fe80::ff:fe99:2", "ff02::1", MLD_QUERY, 0);
	struct mld_query_repr r;
	CHECK_EQ_INT(q.len, MLDV2_QUERY_LEN);
	CHECK_EQ_INT(mld_query_parse(q.icmp, q.len, &q.ip, &r), WIRE_OK);
	CHECK(r.v2);
	CHECK_EQ_INT(r.max_resp_ms, 1000);
	CHECK(ip6_is_unspecified(&r.group));
	CHECK(!r.s_flag);
	CHECK_EQ_INT(r.qrv, 2);
	CHECK_EQ_INT(r.qqi_s, 125);
	CHECK_EQ_INT(r.n_sources, 0);
}

TEST(mldv2_source_specific_query)
{
	struct msg q = get_mld("fe80::ff:fe99:2", "ff35::1:2", MLD_QUERY, 0);
	struct mld_query_repr r;
	CHECK_EQ_INT(mld_query_parse(q.icmp, q.len, &q.ip, &r), WIRE_OK);
	CHECK(r.v2);
	struct ip6_addr g = A("ff35::1:2"), s = A("2001:db8::2"), got;
	CHECK(ip6_eq(&r.group, &g));
	CHECK_EQ_INT(r.n_sources, 1);
	mld_source(r.sources, 0, &got);
	CHECK(ip6_eq(&got, &s));
	/* A source count beyond the message. */
	static uint8_t buf[64];
	memcpy(buf, q.icmp, q.len);
	wr_be16(buf + 26, 2);
	CHECK_EQ_INT(mld_query_parse(buf, q.len, &q.ip, &r), WIRE_BAD_LENGTH);
}

TEST(mldv1_query)
{
	struct msg q = get_mld("fe80::ff:fe99:2", "ff02::1", MLD_QUERY, 1);
	struct mld_query_repr r;
	CHECK_EQ_INT(q.len, MLD_V1_LEN);
	CHECK_EQ_INT(mld_query_parse(q.icmp, q.len, &q.ip, &r), WIRE_OK);
	CHECK(!r.v2);
	CHECK_EQ_INT(r.max_resp_ms, 1000);
	CHECK(ip6_is_unspecified(&r.group));
}

TEST(mld_query_validation)
{
	struct msg q = get_mld("fe80::ff:fe99:2", "ff02::1", MLD_QUERY, 0);
	struct mld_query_repr r;
	/* RFC 3810 §6.2: link-local source, hop limit 1, Router Alert. */
	struct ipv6_repr ip = q.ip;
	ip.hop_limit = 2;
	CHECK_EQ_INT(mld_query_parse(q.icmp, q.len, &ip, &r), WIRE_BAD_HOPLIMIT);
	ip = q.ip;
	ip.router_alert = 0;
	CHECK_EQ_INT(mld_query_parse(q.icmp, q.len, &ip, &r), WIRE_MALFORMED);
	ip = q.ip;
	ip.src = A("2001:db8::2");
	CHECK_EQ_INT(mld_query_parse(q.icmp, q.len, &ip, &r), WIRE_MALFORMED);
	/* RFC 3810 §8.1: 25..27 bytes are ignored. */
	CHECK_EQ_INT(mld_query_parse(q.icmp, 26, &q.ip, &r), WIRE_BAD_LENGTH);
	CHECK_EQ_INT(mld_query_parse(q.icmp, 23, &q.ip, &r), WIRE_TRUNCATED);
	/* A unicast group. */
	static uint8_t buf[64];
	memcpy(buf, q.icmp, q.len);
	buf[8] = 0x20;
	CHECK_EQ_INT(mld_query_parse(buf, q.len, &q.ip, &r), WIRE_MALFORMED);
	buf[0] = MLD_V1_REPORT;
	CHECK_EQ_INT(mld_query_parse(buf, q.len, &q.ip, &r), WIRE_UNSUPPORTED);
}

/* The whole packet: IPv6 header, Hop-by-Hop with Router Alert, the message. */
static void check_mld_packet(const struct msg *m, const uint8_t *icmp, size_t len)
{
	uint8_t pkt[256];
	struct ipv6_repr ip = { .src = m->ip.src, .dst = m->ip.dst, .hop_limit = MLD_HOP_LIMIT,
				.payload_len = (uint16_t)len };
	CHECK_EQ_INT(mld_ipv6_emit(&ip, pkt, sizeof pkt), MLD_IPV6_HDR_LEN);
	memcpy(pkt + MLD_IPV6_HDR_LEN, icmp, len);
	CHECK_EQ_INT(MLD_IPV6_HDR_LEN + len, m->pkt_len);
	CHECK_MEM(pkt, m->pkt, m->pkt_len);
}

TEST(mldv2_report_rebuilt)
{
	/* The state-change report for the source-specific join: ALLOW_NEW_SOURCES {2001:db8::2}. */
	struct msg m = get_mld("fe80::ff:fe99:1", "ff02::16", MLD_V2_REPORT, 0);
	for (int i = 1; m.len != 8 + 20 + 16; i++)
		m = get_mld("fe80::ff:fe99:1", "ff02::16", MLD_V2_REPORT, i);
	struct ip6_addr source = A("2001:db8::2");
	struct mld_record rec = { MLDV2_ALLOW_NEW_SOURCES, A("ff35::1:2"), 1, &source };
	uint8_t buf[128];
	CHECK_EQ_INT(mldv2_report_emit(&rec, 1, &m.ip.src, &m.ip.dst, buf, sizeof buf), m.len);
	CHECK_MEM(buf, m.icmp, m.len);
	check_mld_packet(&m, buf, m.len);
	CHECK_EQ_INT(mldv2_report_emit(&rec, 1, &m.ip.src, &m.ip.dst, buf, m.len - 1), 0);
	CHECK_EQ_INT(MLDV2_ALLOW_NEW_SOURCES, IGMPV3_ALLOW_NEW_SOURCES);
}

TEST(mldv2_report_builder_many_records)
{
	/* The current-state report with four records, rebuilt from its own records. */
	struct msg m = get_mld("fe80::ff:fe99:1", "ff02::16", MLD_V2_REPORT, 0);
	for (int i = 1; rd_be16(m.icmp + 6) != 4; i++)
		m = get_mld("fe80::ff:fe99:1", "ff02::16", MLD_V2_REPORT, i);
	struct mldv2_report_builder b;
	uint8_t buf[256];
	CHECK(!mldv2_report_begin(&b, buf, 7));
	CHECK(mldv2_report_begin(&b, buf, sizeof buf));
	size_t off = MLDV2_REPORT_HDR_LEN;
	for (int i = 0; i < 4; i++) {
		const uint8_t *p = m.icmp + off;
		unsigned n = rd_be16(p + 2);
		struct ip6_addr sources[4];
		CHECK(n <= 4);
		for (unsigned s = 0; s < n; s++)
			mld_source(p + MLDV2_RECORD_HDR_LEN, s, &sources[s]);
		struct mld_record rec = { p[0], { { 0 } }, n, sources };
		memcpy(rec.group.b, p + 4, 16);
		CHECK(mldv2_report_add(&b, &rec));
		off += MLDV2_RECORD_HDR_LEN + 16 * n;
	}
	CHECK_EQ_INT(mldv2_report_finish(&b, &m.ip.src, &m.ip.dst), m.len);
	CHECK_MEM(buf, m.icmp, m.len);
}

TEST(mldv1_report_and_done_rebuilt)
{
	struct msg rep = get_mld("fe80::ff:fe99:1", "ff15::99", MLD_V1_REPORT, 0);
	struct msg done = get_mld("fe80::ff:fe99:1", "ff02::2", MLD_V1_DONE, 0);
	struct ip6_addr g = A("ff15::99");
	uint8_t buf[64];
	CHECK_EQ_INT(mldv1_emit(MLD_V1_REPORT, &g, &rep.ip.src, &rep.ip.dst, buf, sizeof buf), MLD_V1_LEN);
	CHECK_MEM(buf, rep.icmp, MLD_V1_LEN);
	check_mld_packet(&rep, buf, MLD_V1_LEN);
	CHECK_EQ_INT(mldv1_emit(MLD_V1_DONE, &g, &done.ip.src, &done.ip.dst, buf, sizeof buf), MLD_V1_LEN);
	CHECK_MEM(buf, done.icmp, MLD_V1_LEN);
	check_mld_packet(&done, buf, MLD_V1_LEN);
	CHECK_EQ_INT(mldv1_emit(MLD_V1_DONE, &g, &done.ip.src, &done.ip.dst, buf, MLD_V1_LEN - 1), 0);
}

TEST(maximum_response_code)
{
	/* RFC 3810 §5.1.3: below 32768 exact; above, (mant | 0x1000) << (exp + 3). */
	CHECK_EQ_INT(mldv2_mrc_decode(1000), 1000);
	CHECK_EQ_INT(mldv2_mrc_decode(32767), 32767);
	CHECK_EQ_INT(mldv2_mrc_decode(0x8000), 0x1000 << 3);
	CHECK_EQ_INT(mldv2_mrc_decode(0xffff), 0x1fffu << 10);
	CHECK_EQ_INT(mldv2_mrc_encode(1000), 1000);
	CHECK_EQ_INT(mldv2_mrc_encode(32768), 0x8000);
	CHECK_EQ_INT(mldv2_mrc_encode(0x1fffu << 10), 0xffff);
	CHECK_EQ_INT(mldv2_mrc_encode(0xffffffffu), 0xffff);
	for (uint32_t ms = 0; ms <= 0x1fffu << 10; ms += 997) {
		uint32_t back = mldv2_mrc_decode(mldv2_mrc_encode(ms));
		CHECK(back <= ms);
		CHECK(ms < 32768 ? back == ms : ms - back < (ms >> 12) + 1);
	}
	/* IGMPv3's 8-bit codes through the same arithmetic. */
	CHECK_EQ_INT(igmpv3_code_decode(0x8f), 0x1f << 3);
	CHECK_EQ_INT(igmpv3_code_encode(125), 125);
	CHECK_EQ_INT(igmpv3_code_encode(0xffffffffu), 0xff);
}

TEST_MAIN()
