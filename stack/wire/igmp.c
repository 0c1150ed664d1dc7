/*
 * IGMP messages (RFC 2236, RFC 3376) and the IPv4 header with the Router Alert option.
 *
 * Contract: igmp_repr_parse() takes exactly the IGMP message (the IPv4 payload, payload_len bytes);
 * after igmp_check_len() accepts it, the query's source list and every group record of a report lie
 * inside the buffer, so igmp_source() and igmpv3_record_parse() on the parsed repr stay in bounds.
 * Emit functions write the checksum over the whole message.
 */
#include "stack/wire/igmp.h"

#include <string.h>

#include "stack/wire/checksum.h"

#define OFF(field) offsetof(struct igmp_hdr, field)
#define Q3(field) offsetof(struct igmpv3_query_hdr, field)
#define R3(field) offsetof(struct igmpv3_report_hdr, field)
#define REC(field) offsetof(struct igmpv3_record_hdr, field)

size_t igmpv3_record_parse(const uint8_t *buf, size_t len, struct igmpv3_record_repr *out)
{
	if (len < IGMPV3_RECORD_HDR_LEN)
		return 0;
	size_t n = rd_be16(buf + REC(n_sources));
	size_t rec_len = IGMPV3_RECORD_HDR_LEN + 4 * (n + buf[REC(aux_len)]);
	if (rec_len > len)
		return 0;
	out->type = buf[REC(type)];
	out->group = rd_be32(buf + REC(group));
	out->n_sources = (uint16_t)n;
	out->sources = buf + IGMPV3_RECORD_HDR_LEN;
	return rec_len;
}

static enum wire_result check_report_v3(const uint8_t *buf, size_t len)
{
	unsigned n = rd_be16(buf + R3(n_records));
	size_t off = IGMPV3_REPORT_HDR_LEN;
	for (unsigned i = 0; i < n; i++) {
		struct igmpv3_record_repr rec;
		size_t rec_len = igmpv3_record_parse(buf + off, len - off, &rec);
		if (rec_len == 0)
			return WIRE_BAD_LENGTH;
		off += rec_len;
	}
	return WIRE_OK;
}

enum wire_result igmp_check_len(const uint8_t *buf, size_t len)
{
	if (len < IGMP_HDR_LEN)
		return WIRE_TRUNCATED;
	switch (buf[OFF(type)]) {
	case IGMP_MEMBERSHIP_QUERY:
		/* RFC 3376 §7.1: "Query messages that do not match any of the above conditions (e.g., a
		 * Query of length 10 octets) MUST be silently ignored." */
		if (len == IGMP_HDR_LEN)
			return WIRE_OK;
		if (len < IGMPV3_QUERY_LEN || len < IGMPV3_QUERY_LEN + 4 * (size_t)rd_be16(buf + Q3(n_sources)))
			return WIRE_BAD_LENGTH;
		return WIRE_OK;
	case IGMP_V3_MEMBERSHIP_REPORT:
		return check_report_v3(buf, len);
	default:
		return WIRE_OK;
	}
}

uint32_t mcast_code_decode(uint32_t code, unsigned mant_bits)
{
	/* RFC 3376 §4.1.1: "If Max Resp Code >= 128, Max Resp Code represents a floating-point value
	 * as follows: |1| exp | mant | ... Max Resp Time = (mant | 0x10) << (exp + 3)"; §4.1.7 codes
	 * QQIC the same way, and RFC 3810 §5.1.3 the 16-bit Maximum Response Code with a 12-bit mant. */
	if (code < 1u << (mant_bits + 3))
		return code;
	uint32_t mant = code & ((1u << mant_bits) - 1);
	return (mant | 1u << mant_bits) << (((code >> mant_bits) & 0x07) + 3);
}

uint32_t mcast_code_encode(uint32_t value, unsigned mant_bits)
{
	if (value < 1u << (mant_bits + 3))
		return value;
	for (unsigned exp = 0; exp < 8; exp++) {
		uint32_t mant = value >> (exp + 3);
		if (mant < 2u << mant_bits)
			return 1u << (mant_bits + 3) | exp << mant_bits | (mant & ((1u << mant_bits) - 1));
	}
	return (1u << (mant_bits + 4)) - 1;
}

uint32_t igmpv3_code_decode(uint8_t code)
{
	return mcast_code_decode(code, 4);
}

uint8_t igmpv3_code_encode(uint32_t value)
{
	return (uint8_t)mcast_code_encode(value, 4);
}

static uint8_t version_of(uint8_t type, size_t len, uint8_t max_resp)
{
	switch (type) {
	case IGMP_MEMBERSHIP_QUERY:
		/* RFC 3376 §7.1: v1 is 8 octets with Max Resp Code 0, v2 is 8 octets with a non-zero
		 * code, v3 is at least 12 octets. */
		if (len >= IGMPV3_QUERY_LEN)
			return 3;
		return max_resp ? 2 : 1;
	case IGMP_V1_MEMBERSHIP_REPORT: return 1;
	case IGMP_V2_MEMBERSHIP_REPORT:
	case IGMP_V2_LEAVE_GROUP: return 2;
	case IGMP_V3_MEMBERSHIP_REPORT: return 3;
	default: return 0;
	}
}

enum wire_result igmp_repr_parse(const uint8_t *buf, size_t len, const struct wire_csum_caps *caps,
				 struct igmp_repr *out)
{
	enum wire_result res = igmp_check_len(buf, len);
	if (res != WIRE_OK)
		return res;
	/* RFC 3376 §4.1.2 / §4.2.2: the checksum covers "the whole IGMP message (the entire IP
	 * payload)"; RFC 2236 §2.3 likewise for v2, trailing octets included. */
	if (!caps->rx_l4_verified && csum_buf(buf, len) != 0)
		return WIRE_BAD_CHECKSUM;

	memset(out, 0, sizeof(*out));
	out->type = buf[OFF(type)];
	out->max_resp_code = buf[OFF(max_resp)];
	out->version = version_of(out->type, len, out->max_resp_code);
	switch (out->type) {
	case IGMP_MEMBERSHIP_QUERY:
		out->group = rd_be32(buf + OFF(group));
		if (out->version == 3) {
			out->max_resp_ds = igmpv3_code_decode(out->max_resp_code);
			out->suppress = buf[Q3(resv_s_qrv)] & 0x08;
			out->qrv = buf[Q3(resv_s_qrv)] & 0x07;
			out->qqic = buf[Q3(qqic)];
			out->n_sources = rd_be16(buf + Q3(n_sources));
			out->sources = buf + IGMPV3_QUERY_LEN;
		} else {
			/* RFC 2236 §4: an IGMPv1 query carries 0 here, and hosts answer it as if the
			 * Max Response Time were 100 (10 seconds). */
			out->max_resp_ds = out->version == 1 ? 100 : out->max_resp_code;
		}
		break;
	case IGMP_V3_MEMBERSHIP_REPORT:
		out->n_records = rd_be16(buf + R3(n_records));
		out->records = buf + IGMPV3_REPORT_HDR_LEN;
		out->records_len = len - IGMPV3_REPORT_HDR_LEN;
		break;
	default:
		out->group = rd_be32(buf + OFF(group));
		break;
	}
	return WIRE_OK;
}

size_t igmp_repr_emit(const struct igmp_repr *r, uint8_t *buf, size_t cap)
{
	size_t len;
	if (r->type == IGMP_MEMBERSHIP_QUERY && r->version == 3) {
		len = IGMPV3_QUERY_LEN + 4 * (size_t)r->n_sources;
		if (cap < len)
			return 0;
		if (r->n_sources && r->sources != buf + IGMPV3_QUERY_LEN)
			memmove(buf + IGMPV3_QUERY_LEN, r->sources, 4 * (size_t)r->n_sources);
		buf[Q3(type)] = r->type;
		buf[Q3(max_resp_code)] = r->max_resp_code;
		wr_be32(buf + Q3(group), r->group);
		buf[Q3(resv_s_qrv)] = (uint8_t)((r->suppress ? 0x08 : 0) | (r->qrv & 0x07));
		buf[Q3(qqic)] = r->qqic;
		wr_be16(buf + Q3(n_sources), r->n_sources);
	} else if (r->type == IGMP_V3_MEMBERSHIP_REPORT) {
		len = IGMPV3_REPORT_HDR_LEN + r->records_len;
		if (cap < IGMPV3_REPORT_HDR_LEN || r->records_len > cap - IGMPV3_REPORT_HDR_LEN)
			return 0;
		if (r->records_len && r->records != buf + IGMPV3_REPORT_HDR_LEN)
			memmove(buf + IGMPV3_REPORT_HDR_LEN, r->records, r->records_len);
		buf[R3(type)] = r->type;
		buf[R3(reserved1)] = 0;
		wr_be16(buf + R3(reserved2), 0);
		wr_be16(buf + R3(n_records), r->n_records);
	} else {
		len = IGMP_HDR_LEN;
		if (cap < len)
			return 0;
		buf[OFF(type)] = r->type;
		buf[OFF(max_resp)] = r->type == IGMP_MEMBERSHIP_QUERY ? r->max_resp_code : 0;
		wr_be32(buf + OFF(group), r->group);
	}
	wr_be16(buf + OFF(checksum), 0);
	wr_be16(buf + OFF(checksum), csum_buf(buf, len));
	return len;
}

bool igmpv3_report_begin(struct igmpv3_report_builder *b, uint8_t *buf, size_t cap)
{
	b->buf = buf;
	b->cap = cap;
	b->len = IGMPV3_REPORT_HDR_LEN;
	b->n_records = 0;
	return cap >= IGMPV3_REPORT_HDR_LEN;
}

bool igmpv3_report_add(struct igmpv3_report_builder *b, uint8_t type, uint32_t group, const uint32_t *sources,
		       unsigned n_sources)
{
	size_t rec_len = igmpv3_record_len(n_sources);
	if (n_sources > UINT16_MAX || b->n_records == UINT16_MAX || b->cap < b->len || rec_len > b->cap - b->len)
		return false;
	uint8_t *p = b->buf + b->len;
	p[REC(type)] = type;
	p[REC(aux_len)] = 0;
	wr_be16(p + REC(n_sources), (uint16_t)n_sources);
	wr_be32(p + REC(group), group);
	for (unsigned i = 0; i < n_sources; i++)
		wr_be32(p + IGMPV3_RECORD_HDR_LEN + 4 * i, sources[i]);
	b->len += rec_len;
	b->n_records++;
	return true;
}

size_t igmpv3_report_finish(struct igmpv3_report_builder *b)
{
	uint8_t *buf = b->buf;
	buf[R3(type)] = IGMP_V3_MEMBERSHIP_REPORT;
	buf[R3(reserved1)] = 0;
	wr_be16(buf + R3(checksum), 0);
	wr_be16(buf + R3(reserved2), 0);
	wr_be16(buf + R3(n_records), b->n_records);
	wr_be16(buf + R3(checksum), csum_buf(buf, b->len));
	return b->len;
}

size_t igmp_ipv4_emit(const struct ipv4_repr *r, uint8_t *buf, size_t cap, const struct wire_csum_caps *caps)
{
	static const struct wire_csum_caps no_sum = { .tx_ipv4_offload = true };
	if (cap < IGMP_IPV4_HDR_LEN || r->payload_len > IPV4_MAX_LEN - IGMP_IPV4_HDR_LEN)
		return 0;
	struct ipv4_repr with_option = *r;
	with_option.payload_len = (uint16_t)(r->payload_len + IGMP_IPV4_HDR_LEN - IPV4_HDR_LEN);
	ipv4_repr_emit(&with_option, buf, cap, &no_sum);
	buf[offsetof(struct ipv4_hdr, version_ihl)] = 0x40 | (IGMP_IPV4_HDR_LEN / 4);
	/* RFC 2113 §2.1: type 148 (copied, class 0, number 20), length 4, value 0 = "Router shall
	 * examine packet". */
	buf[IPV4_HDR_LEN + 0] = IPV4_OPT_ROUTER_ALERT;
	buf[IPV4_HDR_LEN + 1] = 4;
	buf[IPV4_HDR_LEN + 2] = 0;
	buf[IPV4_HDR_LEN + 3] = 0;
	if (!caps->tx_ipv4_offload)
		wr_be16(buf + offsetof(struct ipv4_hdr, checksum), csum_buf(buf, IGMP_IPV4_HDR_LEN));
	return IGMP_IPV4_HDR_LEN;
}
