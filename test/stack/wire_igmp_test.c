/*
 * IGMP messages (stack/wire/igmp.c). The v2 and v3 reports, the leave and the v3 query are the ones
 * the Linux kernel exchanged over a veth pair (test/fixtures/igmp.hex, made by
 * test/fixtures/capture-igmp.sh); the v1/v2 queries, the v1 report and the group-and-source query
 * were built by hand and their checksums verified with tshark.
 */
#include <arpa/inet.h>
#include <errno.h>

#include "stack/wire/checksum.h"
#include "stack/wire/eth.h"
#include "stack/wire/igmp.h"
#include "stack/wire/ipv4.h"
#include "test/stack/harness.h"
#include "test/stack/fixtures.h"

_Static_assert(sizeof(struct igmp_hdr) == IGMP_HDR_LEN, "igmp_hdr matches the wire");
_Static_assert(sizeof(struct igmpv3_query_hdr) == IGMPV3_QUERY_LEN, "igmpv3_query_hdr matches the wire");
_Static_assert(sizeof(struct igmpv3_report_hdr) == IGMPV3_REPORT_HDR_LEN, "igmpv3_report_hdr matches the wire");
_Static_assert(sizeof(struct igmpv3_record_hdr) == IGMPV3_RECORD_HDR_LEN, "igmpv3_record_hdr matches the wire");

#define GROUP 0xef010203u  /* 239.1.2.3 */
#define SSM_GROUP 0xe8010101u /* 232.1.1.1 */
#define HOST 0x0a630001u   /* 10.99.0.1 */
#define PEER 0x0a630002u   /* 10.99.0.2 */

/* Kernel: IGMPv2 membership report for 239.1.2.3, and the leave. */
static const uint8_t v2_report[] = { 0x16, 0x00, 0xf8, 0xfa, 0xef, 0x01, 0x02, 0x03 };
static const uint8_t v2_leave[] = { 0x17, 0x00, 0xf7, 0xfa, 0xef, 0x01, 0x02, 0x03 };
/* Hand-built: v1 report, v1 general query, v2 general query (10 s), v2 group-specific query (1 s). */
static const uint8_t v1_report[] = { 0x12, 0x00, 0xfc, 0xfa, 0xef, 0x01, 0x02, 0x03 };
static const uint8_t v1_query[] = { 0x11, 0x00, 0xee, 0xff, 0x00, 0x00, 0x00, 0x00 };
static const uint8_t v2_query[] = { 0x11, 0x64, 0xee, 0x9b, 0x00, 0x00, 0x00, 0x00 };
static const uint8_t v2_group_query[] = { 0x11, 0x0a, 0xfd, 0xf0, 0xef, 0x01, 0x02, 0x03 };
/* Sent to the kernel by capture-igmp.sh: v3 general query, max resp 1 s, QRV 2, QQIC 125. */
static const uint8_t v3_query[] = { 0x11, 0x0a, 0xec, 0x78, 0x00, 0x00, 0x00, 0x00, 0x02, 0x7d, 0x00, 0x00 };
/* Hand-built: v3 group-and-source-specific query for 239.1.2.3 from 10.99.0.2 and 10.99.0.3. */
static const uint8_t v3_gss_query[] = { 0x11, 0x64, 0xe6, 0x4c, 0xef, 0x01, 0x02, 0x03, 0x02, 0x7d,
					0x00, 0x02, 0x0a, 0x63, 0x00, 0x02, 0x0a, 0x63, 0x00, 0x03 };
/* Hand-built: max resp code 0xc8 (exp 4, mant 8: 3072 tenths), S flag and QRV 7, QQIC 0 */
static const uint8_t v3_query_float[] = { 0x11, 0xc8, 0xdf, 0x37, 0x00, 0x00, 0x00, 0x00, 0x0f, 0x00, 0x00, 0x00 };
/* Kernel: v3 state-change report, CHANGE_TO_EXCLUDE_MODE 239.1.2.3, no sources (an any-source join). */
static const uint8_t v3_to_ex[] = { 0x22, 0x00, 0xe8, 0xf9, 0x00, 0x00, 0x00, 0x01,
				    0x04, 0x00, 0x00, 0x00, 0xef, 0x01, 0x02, 0x03 };
/* Kernel: ALLOW_NEW_SOURCES 232.1.1.1 {10.99.0.2} (a source-specific join). */
static const uint8_t v3_allow[] = { 0x22, 0x00, 0xe5, 0x95, 0x00, 0x00, 0x00, 0x01, 0x05, 0x00,
				    0x00, 0x01, 0xe8, 0x01, 0x01, 0x01, 0x0a, 0x63, 0x00, 0x02 };
/* Kernel: the current-state answer to v3_query: MODE_IS_INCLUDE 232.1.1.1 {10.99.0.2}, MODE_IS_EXCLUDE 239.1.2.3 {}. */
static const uint8_t v3_current[] = { 0x22, 0x00, 0xf6, 0x8f, 0x00, 0x00, 0x00, 0x02, 0x01, 0x00, 0x00, 0x01,
				      0xe8, 0x01, 0x01, 0x01, 0x0a, 0x63, 0x00, 0x02, 0x02, 0x00, 0x00, 0x00,
				      0xef, 0x01, 0x02, 0x03 };
/* Kernel: leaving both: CHANGE_TO_INCLUDE_MODE 239.1.2.3 {}, BLOCK_OLD_SOURCES 232.1.1.1 {10.99.0.2}. */
static const uint8_t v3_leave[] = { 0x22, 0x00, 0xf0, 0x8f, 0x00, 0x00, 0x00, 0x02, 0x03, 0x00, 0x00, 0x00,
				    0xef, 0x01, 0x02, 0x03, 0x06, 0x00, 0x00, 0x01, 0xe8, 0x01, 0x01, 0x01,
				    0x0a, 0x63, 0x00, 0x02 };
/* Kernel: the IPv4 header of v3_to_ex: tos 0xc0, TTL 1, DF, id 0, Router Alert, to 224.0.0.22. */
static const uint8_t v3_to_ex_ip[] = { 0x46, 0xc0, 0x00, 0x28, 0x00, 0x00, 0x40, 0x00, 0x01, 0x02, 0xf9, 0x95,
				       0x0a, 0x63, 0x00, 0x01, 0xe0, 0x00, 0x00, 0x16, 0x94, 0x04, 0x00, 0x00 };

static const struct wire_csum_caps rx_l4_verified = { .rx_l4_verified = true };
static const struct wire_csum_caps tx_ipv4_offload = { .tx_ipv4_offload = true };

TEST(deconstruct_v2)
{
	struct igmp_hdr h;
	memcpy(&h, v2_group_query, sizeof h);
	CHECK_EQ_INT(h.type, IGMP_MEMBERSHIP_QUERY);
	CHECK_EQ_INT(h.max_resp, 10);
	CHECK_EQ_INT(ntohs(h.checksum), 0xfdf0);
	CHECK_EQ_INT(ntohl(h.group), GROUP);
}

TEST(deconstruct_v3_query)
{
	struct igmpv3_query_hdr h;
	memcpy(&h, v3_gss_query, sizeof h);
	CHECK_EQ_INT(h.type, IGMP_MEMBERSHIP_QUERY);
	CHECK_EQ_INT(h.max_resp_code, 100);
	CHECK_EQ_INT(ntohl(h.group), GROUP);
	CHECK_EQ_INT(h.resv_s_qrv, 2);
	CHECK_EQ_INT(h.qqic, 125);
	CHECK_EQ_INT(ntohs(h.n_sources), 2);
}

TEST(deconstruct_v3_report)
{
	struct igmpv3_report_hdr h;
	struct igmpv3_record_hdr rec;
	memcpy(&h, v3_allow, sizeof h);
	memcpy(&rec, v3_allow + sizeof h, sizeof rec);
	CHECK_EQ_INT(h.type, IGMP_V3_MEMBERSHIP_REPORT);
	CHECK_EQ_INT(ntohs(h.checksum), 0xe595);
	CHECK_EQ_INT(ntohs(h.n_records), 1);
	CHECK_EQ_INT(rec.type, IGMPV3_ALLOW_NEW_SOURCES);
	CHECK_EQ_INT(rec.aux_len, 0);
	CHECK_EQ_INT(ntohs(rec.n_sources), 1);
	CHECK_EQ_INT(ntohl(rec.group), SSM_GROUP);
}

TEST(construct)
{
	struct igmp_hdr h = { .type = IGMP_V2_LEAVE_GROUP, .checksum = htons(0xf7fa), .group = htonl(GROUP) };
	CHECK_MEM((const uint8_t *)&h, v2_leave, sizeof v2_leave);
	struct igmpv3_query_hdr q = { .type = IGMP_MEMBERSHIP_QUERY, .max_resp_code = 10, .checksum = htons(0xec78),
				      .resv_s_qrv = 2, .qqic = 125 };
	CHECK_MEM((const uint8_t *)&q, v3_query, sizeof v3_query);
}

TEST(parse_v1_query)
{
	struct igmp_repr r;
	CHECK_EQ_INT(igmp_repr_parse(v1_query, sizeof v1_query, &WIRE_CSUM_SOFTWARE, &r), WIRE_OK);
	CHECK_EQ_INT(r.type, IGMP_MEMBERSHIP_QUERY);
	CHECK_EQ_INT(r.version, 1);
	CHECK_EQ_INT(r.max_resp_code, 0);
	CHECK_EQ_INT(r.max_resp_ds, 100);
	CHECK_EQ_INT(r.group, 0);
}

TEST(parse_v2_queries)
{
	struct igmp_repr r;
	CHECK_EQ_INT(igmp_repr_parse(v2_query, sizeof v2_query, &WIRE_CSUM_SOFTWARE, &r), WIRE_OK);
	CHECK_EQ_INT(r.version, 2);
	CHECK_EQ_INT(r.max_resp_ds, 100);
	CHECK_EQ_INT(r.group, 0);
	CHECK_EQ_INT(igmp_repr_parse(v2_group_query, sizeof v2_group_query, &WIRE_CSUM_SOFTWARE, &r), WIRE_OK);
	CHECK_EQ_INT(r.version, 2);
	CHECK_EQ_INT(r.max_resp_ds, 10);
	CHECK_EQ_INT(r.group, GROUP);
	CHECK_EQ_INT(r.n_sources, 0);
}

TEST(parse_v3_general_query)
{
	struct igmp_repr r;
	CHECK_EQ_INT(igmp_check_len(v3_query, sizeof v3_query), WIRE_OK);
	CHECK_EQ_INT(igmp_repr_parse(v3_query, sizeof v3_query, &WIRE_CSUM_SOFTWARE, &r), WIRE_OK);
	CHECK_EQ_INT(r.type, IGMP_MEMBERSHIP_QUERY);
	CHECK_EQ_INT(r.version, 3);
	CHECK_EQ_INT(r.max_resp_ds, 10);
	CHECK_EQ_INT(r.group, 0);
	CHECK(!r.suppress);
	CHECK_EQ_INT(r.qrv, 2);
	CHECK_EQ_INT(igmpv3_code_decode(r.qqic), 125);
	CHECK_EQ_INT(r.n_sources, 0);
}

TEST(parse_v3_group_and_source_query)
{
	struct igmp_repr r;
	CHECK_EQ_INT(igmp_repr_parse(v3_gss_query, sizeof v3_gss_query, &WIRE_CSUM_SOFTWARE, &r), WIRE_OK);
	CHECK_EQ_INT(r.version, 3);
	CHECK_EQ_INT(r.group, GROUP);
	CHECK_EQ_INT(r.max_resp_ds, 100);
	CHECK_EQ_INT(r.n_sources, 2);
	CHECK(r.sources == v3_gss_query + IGMPV3_QUERY_LEN);
	CHECK_EQ_INT(igmp_source(r.sources, 0), PEER);
	CHECK_EQ_INT(igmp_source(r.sources, 1), PEER + 1);
}

TEST(parse_v3_query_floating_point_code)
{
	struct igmp_repr r;
	CHECK_EQ_INT(igmp_repr_parse(v3_query_float, sizeof v3_query_float, &WIRE_CSUM_SOFTWARE, &r), WIRE_OK);
	CHECK_EQ_INT(r.max_resp_code, 0xc8);
	CHECK_EQ_INT(r.max_resp_ds, 3072);
	CHECK(r.suppress);
	CHECK_EQ_INT(r.qrv, 7);
}

TEST(parse_reports_and_leave)
{
	struct igmp_repr r;
	CHECK_EQ_INT(igmp_repr_parse(v1_report, sizeof v1_report, &WIRE_CSUM_SOFTWARE, &r), WIRE_OK);
	CHECK_EQ_INT(r.type, IGMP_V1_MEMBERSHIP_REPORT);
	CHECK_EQ_INT(r.version, 1);
	CHECK_EQ_INT(r.group, GROUP);
	CHECK_EQ_INT(igmp_repr_parse(v2_report, sizeof v2_report, &WIRE_CSUM_SOFTWARE, &r), WIRE_OK);
	CHECK_EQ_INT(r.type, IGMP_V2_MEMBERSHIP_REPORT);
	CHECK_EQ_INT(r.version, 2);
	CHECK_EQ_INT(r.group, GROUP);
	CHECK_EQ_INT(r.max_resp_ds, 0);
	CHECK_EQ_INT(igmp_repr_parse(v2_leave, sizeof v2_leave, &WIRE_CSUM_SOFTWARE, &r), WIRE_OK);
	CHECK_EQ_INT(r.type, IGMP_V2_LEAVE_GROUP);
	CHECK_EQ_INT(r.version, 2);
	CHECK_EQ_INT(r.group, GROUP);
}

TEST(parse_v3_report_with_sources)
{
	struct igmp_repr r;
	CHECK_EQ_INT(igmp_repr_parse(v3_current, sizeof v3_current, &WIRE_CSUM_SOFTWARE, &r), WIRE_OK);
	CHECK_EQ_INT(r.type, IGMP_V3_MEMBERSHIP_REPORT);
	CHECK_EQ_INT(r.version, 3);
	CHECK_EQ_INT(r.n_records, 2);
	CHECK(r.records == v3_current + IGMPV3_REPORT_HDR_LEN);
	CHECK_EQ_INT(r.records_len, sizeof v3_current - IGMPV3_REPORT_HDR_LEN);

	struct igmpv3_record_repr rec;
	size_t n = igmpv3_record_parse(r.records, r.records_len, &rec);
	CHECK_EQ_INT(n, 12);
	CHECK_EQ_INT(rec.type, IGMPV3_MODE_IS_INCLUDE);
	CHECK_EQ_INT(rec.group, SSM_GROUP);
	CHECK_EQ_INT(rec.n_sources, 1);
	CHECK_EQ_INT(igmp_source(rec.sources, 0), PEER);
	CHECK_EQ_INT(igmpv3_record_parse(r.records + n, r.records_len - n, &rec), 8);
	CHECK_EQ_INT(rec.type, IGMPV3_MODE_IS_EXCLUDE);
	CHECK_EQ_INT(rec.group, GROUP);
	CHECK_EQ_INT(rec.n_sources, 0);
}

TEST(parse_unknown_type)
{
	uint8_t buf[8] = { 0x13, 0x00, 0x00, 0x00, 0xef, 0x01, 0x02, 0x03 }; /* DVMRP */
	wr_be16(buf + 2, csum_buf(buf, sizeof buf));
	struct igmp_repr r;
	CHECK_EQ_INT(igmp_repr_parse(buf, sizeof buf, &WIRE_CSUM_SOFTWARE, &r), WIRE_OK);
	CHECK_EQ_INT(r.type, 0x13);
	CHECK_EQ_INT(r.version, 0);
}

TEST(parse_ignores_octets_beyond_v2_message)
{
	/* RFC 2236 §2.5: "IGMPv2 implementations MUST ignore any octets beyond the first 8" (the
	 * checksum still covers them). */
	uint8_t buf[12];
	memcpy(buf, v2_report, sizeof v2_report);
	memset(buf + 8, 0, 4);
	struct igmp_repr r;
	CHECK_EQ_INT(igmp_repr_parse(buf, sizeof buf, &WIRE_CSUM_SOFTWARE, &r), WIRE_OK);
	CHECK_EQ_INT(r.type, IGMP_V2_MEMBERSHIP_REPORT);
	CHECK_EQ_INT(r.group, GROUP);
}

TEST(bad_checksum)
{
	struct igmp_repr r;
	const uint8_t *msgs[] = { v2_report, v3_query, v3_current };
	const size_t lens[] = { sizeof v2_report, sizeof v3_query, sizeof v3_current };
	for (unsigned i = 0; i < 3; i++) {
		uint8_t buf[64];
		memcpy(buf, msgs[i], lens[i]);
		buf[4] ^= 0x01;
		CHECK_EQ_INT(igmp_repr_parse(buf, lens[i], &WIRE_CSUM_SOFTWARE, &r), WIRE_BAD_CHECKSUM);
		CHECK_EQ_INT(igmp_repr_parse(buf, lens[i], &rx_l4_verified, &r), WIRE_OK);
	}
}

TEST(truncated)
{
	struct igmp_repr r;
	CHECK_EQ_INT(igmp_check_len(v2_report, IGMP_HDR_LEN - 1), WIRE_TRUNCATED);
	CHECK_EQ_INT(igmp_repr_parse(v2_report, IGMP_HDR_LEN - 1, &WIRE_CSUM_SOFTWARE, &r), WIRE_TRUNCATED);
	CHECK_EQ_INT(igmp_repr_parse(v3_current, 0, &WIRE_CSUM_SOFTWARE, &r), WIRE_TRUNCATED);
	/* RFC 3376 §7.1: a query of 9..11 octets is none of v1, v2 or v3. */
	for (size_t len = 9; len < IGMPV3_QUERY_LEN; len++)
		CHECK_EQ_INT(igmp_repr_parse(v3_gss_query, len, &WIRE_CSUM_SOFTWARE, &r), WIRE_BAD_LENGTH);
	/* A v3 query whose source list runs past the message. */
	CHECK_EQ_INT(igmp_check_len(v3_gss_query, sizeof v3_gss_query - 1), WIRE_BAD_LENGTH);
	CHECK_EQ_INT(igmp_check_len(v3_gss_query, IGMPV3_QUERY_LEN), WIRE_BAD_LENGTH);
	/* A v3 report whose records run past the message, at every cut inside them. */
	for (size_t len = IGMPV3_REPORT_HDR_LEN; len < sizeof v3_current; len++)
		CHECK_EQ_INT(igmp_check_len(v3_current, len), WIRE_BAD_LENGTH);
	CHECK_EQ_INT(igmp_check_len(v3_current, sizeof v3_current), WIRE_OK);
}

TEST(record_aux_data_is_skipped)
{
	/* One record with aux len 1 (one word of auxiliary data after the source) then another. */
	uint8_t buf[] = { 0x22, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02, 0x01, 0x01, 0x00, 0x01,
			  0xe8, 0x01, 0x01, 0x01, 0x0a, 0x63, 0x00, 0x02, 0xaa, 0xbb, 0xcc, 0xdd,
			  0x02, 0x00, 0x00, 0x00, 0xef, 0x01, 0x02, 0x03 };
	wr_be16(buf + 2, csum_buf(buf, sizeof buf));
	struct igmp_repr r;
	CHECK_EQ_INT(igmp_repr_parse(buf, sizeof buf, &WIRE_CSUM_SOFTWARE, &r), WIRE_OK);
	struct igmpv3_record_repr rec;
	size_t n = igmpv3_record_parse(r.records, r.records_len, &rec);
	CHECK_EQ_INT(n, 16);
	CHECK_EQ_INT(igmp_source(rec.sources, 0), PEER);
	CHECK_EQ_INT(igmpv3_record_parse(r.records + n, r.records_len - n, &rec), 8);
	CHECK_EQ_INT(rec.group, GROUP);
	CHECK_EQ_INT(igmp_check_len(buf, sizeof buf - 1), WIRE_BAD_LENGTH);
}

TEST(emit_v1_v2)
{
	uint8_t buf[IGMP_HDR_LEN];
	struct igmp_repr r = { .type = IGMP_V2_MEMBERSHIP_REPORT, .group = GROUP };
	CHECK_EQ_INT(igmp_repr_emit(&r, buf, sizeof buf), IGMP_HDR_LEN);
	CHECK_MEM(buf, v2_report, sizeof v2_report);
	r = (struct igmp_repr){ .type = IGMP_V2_LEAVE_GROUP, .group = GROUP };
	CHECK_EQ_INT(igmp_repr_emit(&r, buf, sizeof buf), IGMP_HDR_LEN);
	CHECK_MEM(buf, v2_leave, sizeof v2_leave);
	r = (struct igmp_repr){ .type = IGMP_V1_MEMBERSHIP_REPORT, .group = GROUP };
	CHECK_EQ_INT(igmp_repr_emit(&r, buf, sizeof buf), IGMP_HDR_LEN);
	CHECK_MEM(buf, v1_report, sizeof v1_report);
	r = (struct igmp_repr){ .type = IGMP_MEMBERSHIP_QUERY, .version = 2, .max_resp_code = 10, .group = GROUP };
	CHECK_EQ_INT(igmp_repr_emit(&r, buf, sizeof buf), IGMP_HDR_LEN);
	CHECK_MEM(buf, v2_group_query, sizeof v2_group_query);
	r = (struct igmp_repr){ .type = IGMP_MEMBERSHIP_QUERY, .version = 1 };
	CHECK_EQ_INT(igmp_repr_emit(&r, buf, sizeof buf), IGMP_HDR_LEN);
	CHECK_MEM(buf, v1_query, sizeof v1_query);
	CHECK_EQ_INT(igmp_repr_emit(&r, buf, IGMP_HDR_LEN - 1), 0);
}

TEST(emit_v3_query)
{
	uint8_t buf[64];
	static const uint8_t sources[] = { 0x0a, 0x63, 0x00, 0x02, 0x0a, 0x63, 0x00, 0x03 };
	struct igmp_repr r = { .type = IGMP_MEMBERSHIP_QUERY, .version = 3, .max_resp_code = 100, .group = GROUP,
			       .qrv = 2, .qqic = 125, .n_sources = 2, .sources = sources };
	CHECK_EQ_INT(igmp_repr_emit(&r, buf, sizeof buf), sizeof v3_gss_query);
	CHECK_MEM(buf, v3_gss_query, sizeof v3_gss_query);
	CHECK_EQ_INT(igmp_repr_emit(&r, buf, sizeof v3_gss_query - 1), 0);
	r = (struct igmp_repr){ .type = IGMP_MEMBERSHIP_QUERY, .version = 3, .max_resp_code = 0xc8, .suppress = true,
				.qrv = 7 };
	CHECK_EQ_INT(igmp_repr_emit(&r, buf, sizeof buf), IGMPV3_QUERY_LEN);
	CHECK_MEM(buf, v3_query_float, sizeof v3_query_float);
}

TEST(emit_v3_report_builder)
{
	uint8_t buf[64];
	struct igmpv3_report_builder b;
	CHECK(igmpv3_report_begin(&b, buf, sizeof buf));
	CHECK(igmpv3_report_add(&b, IGMPV3_CHANGE_TO_EXCLUDE_MODE, GROUP, NULL, 0));
	CHECK_EQ_INT(igmpv3_report_finish(&b), sizeof v3_to_ex);
	CHECK_MEM(buf, v3_to_ex, sizeof v3_to_ex);

	const uint32_t src[] = { PEER };
	CHECK(igmpv3_report_begin(&b, buf, sizeof buf));
	CHECK(igmpv3_report_add(&b, IGMPV3_MODE_IS_INCLUDE, SSM_GROUP, src, 1));
	CHECK(igmpv3_report_add(&b, IGMPV3_MODE_IS_EXCLUDE, GROUP, NULL, 0));
	CHECK_EQ_INT(igmpv3_report_finish(&b), sizeof v3_current);
	CHECK_MEM(buf, v3_current, sizeof v3_current);

	CHECK(igmpv3_report_begin(&b, buf, sizeof buf));
	CHECK(igmpv3_report_add(&b, IGMPV3_CHANGE_TO_INCLUDE_MODE, GROUP, NULL, 0));
	CHECK(igmpv3_report_add(&b, IGMPV3_BLOCK_OLD_SOURCES, SSM_GROUP, src, 1));
	CHECK_EQ_INT(igmpv3_report_finish(&b), sizeof v3_leave);
	CHECK_MEM(buf, v3_leave, sizeof v3_leave);
}

TEST(emit_v3_report_builder_full)
{
	uint8_t buf[sizeof v3_allow + 3];
	const uint32_t src[] = { PEER };
	struct igmpv3_report_builder b;
	CHECK(!igmpv3_report_begin(&b, buf, IGMPV3_REPORT_HDR_LEN - 1));
	CHECK(igmpv3_report_begin(&b, buf, sizeof buf));
	CHECK(igmpv3_report_add(&b, IGMPV3_ALLOW_NEW_SOURCES, SSM_GROUP, src, 1));
	CHECK(!igmpv3_report_add(&b, IGMPV3_CHANGE_TO_EXCLUDE_MODE, GROUP, NULL, 0));
	CHECK_EQ_INT(igmpv3_report_finish(&b), sizeof v3_allow);
	CHECK_MEM(buf, v3_allow, sizeof v3_allow);
}

TEST(emit_v3_report_repr)
{
	uint8_t buf[64];
	struct igmp_repr in, out;
	CHECK_EQ_INT(igmp_repr_parse(v3_leave, sizeof v3_leave, &WIRE_CSUM_SOFTWARE, &in), WIRE_OK);
	CHECK_EQ_INT(igmp_repr_emit(&in, buf, sizeof buf), sizeof v3_leave);
	CHECK_MEM(buf, v3_leave, sizeof v3_leave);
	CHECK_EQ_INT(igmp_repr_parse(buf, sizeof v3_leave, &WIRE_CSUM_SOFTWARE, &out), WIRE_OK);
	CHECK_EQ_INT(out.n_records, 2);
	CHECK_EQ_INT(igmp_repr_emit(&in, buf, sizeof v3_leave - 1), 0);
}

TEST(code_decode_encode)
{
	CHECK_EQ_INT(igmpv3_code_decode(0), 0);
	CHECK_EQ_INT(igmpv3_code_decode(127), 127);
	CHECK_EQ_INT(igmpv3_code_decode(0x80), 128);
	CHECK_EQ_INT(igmpv3_code_decode(0xff), 31744);
	CHECK_EQ_INT(igmpv3_code_encode(125), 125);
	CHECK_EQ_INT(igmpv3_code_encode(128), 0x80);
	CHECK_EQ_INT(igmpv3_code_encode(31744), 0xff);
	CHECK_EQ_INT(igmpv3_code_encode(1000000), 0xff);
	for (unsigned c = 0; c < 256; c++)
		CHECK_EQ_INT(igmpv3_code_encode(igmpv3_code_decode((uint8_t)c)), c);
	/* Values between representable points round down. */
	CHECK_EQ_INT(igmpv3_code_decode(igmpv3_code_encode(1001)), 992);
}

TEST(ipv4_header_with_router_alert)
{
	uint8_t buf[IGMP_IPV4_HDR_LEN];
	struct ipv4_repr ip = { .src = HOST, .dst = IGMPV3_ALL_ROUTERS, .proto = IPV4_PROTO_IGMP, .ttl = IGMP_IPV4_TTL,
				.tos = IGMP_IPV4_TOS, .dont_frag = true, .payload_len = sizeof v3_to_ex };
	CHECK_EQ_INT(igmp_ipv4_emit(&ip, buf, sizeof buf, &WIRE_CSUM_SOFTWARE), IGMP_IPV4_HDR_LEN);
	CHECK_MEM(buf, v3_to_ex_ip, sizeof v3_to_ex_ip);
	CHECK_EQ_INT(igmp_ipv4_emit(&ip, buf, sizeof buf - 1, &WIRE_CSUM_SOFTWARE), 0);

	CHECK_EQ_INT(igmp_ipv4_emit(&ip, buf, sizeof buf, &tx_ipv4_offload), IGMP_IPV4_HDR_LEN);
	CHECK_EQ_INT(rd_be16(buf + 10), 0);

	/* What we emit parses back, option skipped. */
	uint8_t dgram[IGMP_IPV4_HDR_LEN + sizeof v3_to_ex];
	igmp_ipv4_emit(&ip, dgram, sizeof dgram, &WIRE_CSUM_SOFTWARE);
	memcpy(dgram + IGMP_IPV4_HDR_LEN, v3_to_ex, sizeof v3_to_ex);
	struct ipv4_repr back;
	CHECK_EQ_INT(ipv4_repr_parse(dgram, sizeof dgram, &WIRE_CSUM_SOFTWARE, &back), WIRE_OK);
	CHECK_EQ_INT(back.hdr_len, IGMP_IPV4_HDR_LEN);
	CHECK_EQ_INT(back.payload_len, sizeof v3_to_ex);
	CHECK_EQ_INT(back.proto, IPV4_PROTO_IGMP);
	CHECK_EQ_INT(back.ttl, 1);
	CHECK_EQ_INT(back.tos, 0xc0);
}

/* --- the kernel's frames (test/fixtures/igmp.hex), end to end */

#define MAX_FRAMES 16
#define MAX_FRAME_LEN 1518

static struct fixture_frame frames[MAX_FRAMES];
static int n_frames = -1;

static void load_frames(void)
{
	if (n_frames < 0)
		n_frames = fixture_load("igmp.hex", frames, MAX_FRAMES);
}

/* capture-igmp.sh produces these, in this order. */
enum { TO_EX, TO_EX_AGAIN, ALLOW, ALLOW_AGAIN, QUERY, CURRENT, LEAVE, LEAVE_AGAIN, V2_REPORT, V2_LEAVE, N_FRAMES };

/* Parses frame i down to its IGMP message. */
static void dissect(int i, struct eth_repr *eth, struct ipv4_repr *ip, const uint8_t **msg)
{
	load_frames();
	CHECK_EQ_INT(n_frames, N_FRAMES);
	const struct fixture_frame *fr = &frames[i];
	CHECK_EQ_INT(eth_repr_parse(fr->b, fr->len, eth), WIRE_OK);
	CHECK_EQ_INT(eth->ethertype, ETH_TYPE_IPV4);
	CHECK_EQ_INT(ipv4_repr_parse(fr->b + ETH_HDR_LEN, fr->len - ETH_HDR_LEN, &WIRE_CSUM_SOFTWARE, ip), WIRE_OK);
	CHECK_EQ_INT(ip->proto, IPV4_PROTO_IGMP);
	CHECK_EQ_INT(ip->ttl, 1);
	CHECK_EQ_INT(ip->hdr_len, IGMP_IPV4_HDR_LEN);
	CHECK_EQ_INT(fr->b[ETH_HDR_LEN + IPV4_HDR_LEN], IPV4_OPT_ROUTER_ALERT);
	*msg = fr->b + ETH_HDR_LEN + ip->hdr_len;
	struct eth_addr want;
	eth_addr_from_ipv4_multicast(ip->dst, &want);
	CHECK(eth_addr_eq(&eth->dst, &want));
}

/* Rebuilds frame i's IPv4 header (a host's IGMP header: tos 0xc0, DF, id 0) and compares. */
static void check_ip_rebuilt(int i, const struct ipv4_repr *ip)
{
	uint8_t buf[IGMP_IPV4_HDR_LEN];
	struct ipv4_repr r = *ip;
	CHECK_EQ_INT(igmp_ipv4_emit(&r, buf, sizeof buf, &WIRE_CSUM_SOFTWARE), IGMP_IPV4_HDR_LEN);
	CHECK_MEM(buf, frames[i].b + ETH_HDR_LEN, IGMP_IPV4_HDR_LEN);
}

TEST(kernel_v3_state_change_reports)
{
	struct eth_repr eth;
	struct ipv4_repr ip;
	const uint8_t *msg;
	struct igmp_repr r;
	struct igmpv3_record_repr rec;
	const uint32_t src[] = { PEER };
	uint8_t buf[64];
	struct igmpv3_report_builder b;

	dissect(TO_EX, &eth, &ip, &msg);
	CHECK_EQ_INT(ip.src, HOST);
	CHECK_EQ_INT(ip.dst, IGMPV3_ALL_ROUTERS);
	CHECK_EQ_INT(ip.tos, IGMP_IPV4_TOS);
	check_ip_rebuilt(TO_EX, &ip);
	CHECK_EQ_INT(igmp_repr_parse(msg, ip.payload_len, &WIRE_CSUM_SOFTWARE, &r), WIRE_OK);
	CHECK_EQ_INT(r.n_records, 1);
	CHECK(igmpv3_record_parse(r.records, r.records_len, &rec));
	CHECK_EQ_INT(rec.type, IGMPV3_CHANGE_TO_EXCLUDE_MODE);
	CHECK_EQ_INT(rec.group, GROUP);
	igmpv3_report_begin(&b, buf, sizeof buf);
	igmpv3_report_add(&b, IGMPV3_CHANGE_TO_EXCLUDE_MODE, GROUP, NULL, 0);
	CHECK_EQ_INT(igmpv3_report_finish(&b), ip.payload_len);
	CHECK_MEM(buf, msg, ip.payload_len);
	/* RFC 3376 §5.1: the state-change report is retransmitted, unchanged. */
	CHECK_EQ_INT(frames[TO_EX_AGAIN].len, frames[TO_EX].len);
	CHECK_MEM(frames[TO_EX_AGAIN].b, frames[TO_EX].b, frames[TO_EX].len);

	dissect(ALLOW, &eth, &ip, &msg);
	check_ip_rebuilt(ALLOW, &ip);
	CHECK_EQ_INT(igmp_repr_parse(msg, ip.payload_len, &WIRE_CSUM_SOFTWARE, &r), WIRE_OK);
	igmpv3_report_begin(&b, buf, sizeof buf);
	igmpv3_report_add(&b, IGMPV3_ALLOW_NEW_SOURCES, SSM_GROUP, src, 1);
	CHECK_EQ_INT(igmpv3_report_finish(&b), ip.payload_len);
	CHECK_MEM(buf, msg, ip.payload_len);

	dissect(LEAVE, &eth, &ip, &msg);
	check_ip_rebuilt(LEAVE, &ip);
	CHECK_EQ_INT(ip.payload_len, sizeof v3_leave);
	CHECK_MEM(msg, v3_leave, sizeof v3_leave);
}

TEST(kernel_v3_query_and_answer)
{
	struct eth_repr eth;
	struct ipv4_repr ip;
	const uint8_t *msg;
	struct igmp_repr r;

	dissect(QUERY, &eth, &ip, &msg);
	CHECK_EQ_INT(ip.src, PEER);
	CHECK_EQ_INT(ip.dst, IGMP_ALL_HOSTS);
	CHECK_EQ_INT(igmp_repr_parse(msg, ip.payload_len, &WIRE_CSUM_SOFTWARE, &r), WIRE_OK);
	CHECK_EQ_INT(r.version, 3);
	CHECK_EQ_INT(r.max_resp_ds, 10);
	CHECK_EQ_INT(ip.payload_len, sizeof v3_query);
	CHECK_MEM(msg, v3_query, sizeof v3_query);

	dissect(CURRENT, &eth, &ip, &msg);
	check_ip_rebuilt(CURRENT, &ip);
	CHECK_EQ_INT(igmp_repr_parse(msg, ip.payload_len, &WIRE_CSUM_SOFTWARE, &r), WIRE_OK);
	CHECK_EQ_INT(r.n_records, 2);
	CHECK_EQ_INT(ip.payload_len, sizeof v3_current);
	CHECK_MEM(msg, v3_current, sizeof v3_current);
}

TEST(kernel_v2_report_and_leave)
{
	struct eth_repr eth;
	struct ipv4_repr ip;
	const uint8_t *msg;
	struct igmp_repr r;
	uint8_t buf[IGMP_HDR_LEN];

	/* RFC 2236 §3: a report goes to the group itself, a leave to all-routers. */
	dissect(V2_REPORT, &eth, &ip, &msg);
	CHECK_EQ_INT(ip.dst, GROUP);
	check_ip_rebuilt(V2_REPORT, &ip);
	CHECK_EQ_INT(igmp_repr_parse(msg, ip.payload_len, &WIRE_CSUM_SOFTWARE, &r), WIRE_OK);
	CHECK_EQ_INT(r.type, IGMP_V2_MEMBERSHIP_REPORT);
	CHECK_EQ_INT(igmp_repr_emit(&r, buf, sizeof buf), IGMP_HDR_LEN);
	CHECK_MEM(buf, msg, IGMP_HDR_LEN);

	dissect(V2_LEAVE, &eth, &ip, &msg);
	CHECK_EQ_INT(ip.dst, IGMP_ALL_ROUTERS);
	check_ip_rebuilt(V2_LEAVE, &ip);
	CHECK_EQ_INT(igmp_repr_parse(msg, ip.payload_len, &WIRE_CSUM_SOFTWARE, &r), WIRE_OK);
	CHECK_EQ_INT(r.type, IGMP_V2_LEAVE_GROUP);
	CHECK_EQ_INT(r.group, GROUP);
	CHECK_EQ_INT(igmp_repr_emit(&r, buf, sizeof buf), IGMP_HDR_LEN);
	CHECK_MEM(buf, msg, IGMP_HDR_LEN);
}

TEST_MAIN()
