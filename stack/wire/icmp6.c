/*
 * ICMPv6 (RFC 4443), Neighbor Discovery (RFC 4861) and MLD (RFC 2710, RFC 3810) messages.
 *
 * Contract: icmp6_repr_parse() takes exactly the ICMPv6 message (the upper-layer part of the
 * packet) and verifies its checksum over the IPv6 pseudo-header; nd_repr_parse() and
 * mld_query_parse() then validate a message of their kind against the packet it came in, as the
 * RFCs' "Message Validation" sections list. Every emit function writes a whole message with its
 * checksum, moving data already in the buffer where it belongs.
 */
#include "stack/wire/icmp6.h"

#include <string.h>

#include "stack/wire/checksum.h"
#include "stack/wire/igmp.h"

#define OFF(field) offsetof(struct icmp6_hdr, field)

static inline bool is_echo(uint8_t type)
{
	return type == ICMP6_ECHO_REQUEST || type == ICMP6_ECHO_REPLY;
}

/** The checksum of `len` bytes of ICMPv6 message from src to dst (RFC 4443 §2.3). */
static uint16_t checksum(const uint8_t *buf, size_t len, const struct ip6_addr *src, const struct ip6_addr *dst)
{
	return csum_fold(csum_partial(buf, len, csum_pseudo_ipv6(src, dst, (uint32_t)len, IPV6_NH_ICMPV6)));
}

/** Writes the type, code and data word of a message of `len` bytes whose body is in place, and its checksum. */
static size_t finish(uint8_t *buf, size_t len, uint8_t type, uint8_t code, uint32_t data, const struct ip6_addr *src,
		     const struct ip6_addr *dst)
{
	buf[OFF(type)] = type;
	buf[OFF(code)] = code;
	wr_be16(buf + OFF(checksum), 0);
	wr_be32(buf + OFF(data), data);
	wr_be16(buf + OFF(checksum), checksum(buf, len, src, dst));
	return len;
}

enum wire_result icmp6_check_len(const uint8_t *buf, size_t len)
{
	return len < ICMP6_HDR_LEN ? WIRE_TRUNCATED : WIRE_OK;
}

enum wire_result icmp6_repr_parse(const uint8_t *buf, size_t len, const struct ip6_addr *src,
				  const struct ip6_addr *dst, const struct wire_csum_caps *caps,
				  struct icmp6_repr *out)
{
	enum wire_result res = icmp6_check_len(buf, len);
	if (res != WIRE_OK)
		return res;
	/* RFC 4443 §2.3: the checksum covers the whole message and the pseudo-header of RFC 8200 §8.1
	 * (unlike ICMPv4's). */
	if (!caps->rx_l4_verified && checksum(buf, len, src, dst) != 0)
		return WIRE_BAD_CHECKSUM;

	uint32_t data = rd_be32(buf + OFF(data));
	out->type = buf[OFF(type)];
	out->code = buf[OFF(code)];
	out->ident = (uint16_t)(data >> 16);
	out->seq = (uint16_t)data;
	out->param = data;
	out->body = buf + ICMP6_HDR_LEN;
	out->body_len = len - ICMP6_HDR_LEN;
	return WIRE_OK;
}

size_t icmp6_repr_emit(const struct icmp6_repr *r, const struct ip6_addr *src, const struct ip6_addr *dst,
		       uint8_t *buf, size_t cap)
{
	if (cap < ICMP6_HDR_LEN || r->body_len > cap - ICMP6_HDR_LEN ||
	    r->body_len > IPV6_MAX_PAYLOAD - ICMP6_HDR_LEN)
		return 0;
	/* The body may overlap the header (a reply built in the request's buffer, an error quoting
	 * the packet in place), so it is moved before the header is written. */
	if (r->body_len && r->body != buf + ICMP6_HDR_LEN)
		memmove(buf + ICMP6_HDR_LEN, r->body, r->body_len);
	uint32_t data = is_echo(r->type) ? (uint32_t)r->ident << 16 | r->seq : r->param;
	return finish(buf, ICMP6_HDR_LEN + r->body_len, r->type, r->code, data, src, dst);
}

size_t icmp6_echo_emit(uint8_t type, uint16_t ident, uint16_t seq, const uint8_t *data, size_t data_len,
		       const struct ip6_addr *src, const struct ip6_addr *dst, uint8_t *buf, size_t cap)
{
	struct icmp6_repr r = { .type = type, .ident = ident, .seq = seq, .body = data, .body_len = data_len };
	return icmp6_repr_emit(&r, src, dst, buf, cap);
}

size_t icmp6_error_emit(uint8_t type, uint8_t code, uint32_t param, const uint8_t *quoted, size_t quoted_len,
			const struct ip6_addr *src, const struct ip6_addr *dst, uint8_t *buf, size_t cap)
{
	if (cap < ICMP6_HDR_LEN)
		return 0;
	/* RFC 4443 §2.4 (c): "as much of invoking packet as possible without the ICMPv6 packet
	 * exceeding the minimum IPv6 MTU". */
	size_t n = quoted_len;
	if (n > ICMP6_ERROR_MAX_QUOTE)
		n = ICMP6_ERROR_MAX_QUOTE;
	if (n > cap - ICMP6_HDR_LEN)
		n = cap - ICMP6_HDR_LEN;
	struct icmp6_repr r = { .type = type, .code = code, .param = param, .body = quoted, .body_len = n };
	return icmp6_repr_emit(&r, src, dst, buf, cap);
}

/* Neighbor Discovery */

/** Bytes before the options of an ND message type (RFC 4861 §4.1-§4.4), 0 for other types. */
static size_t nd_fixed_len(uint8_t type)
{
	switch (type) {
	case ND_ROUTER_SOLICIT: return ND_RS_LEN;
	case ND_ROUTER_ADVERT: return ND_RA_LEN;
	case ND_NEIGHBOR_SOLICIT: return ND_NS_LEN;
	case ND_NEIGHBOR_ADVERT: return ND_NA_LEN;
	default: return 0;
	}
}

static void parse_prefix(const uint8_t *o, struct nd_repr *out)
{
	/* RFC 4861 §4.6.2: type, length 4, prefix length, L|A|reserved, valid lifetime, preferred
	 * lifetime, reserved, prefix. */
	if (o[2] > 128)
		return;
	if (out->n_prefixes == ND_MAX_PREFIXES) {
		out->n_prefixes_dropped++;
		return;
	}
	struct nd_prefix *p = &out->prefixes[out->n_prefixes++];
	p->len = o[2];
	p->onlink = o[3] & ND_PREFIX_FLAG_ONLINK;
	p->autonomous = o[3] & ND_PREFIX_FLAG_AUTONOMOUS;
	p->valid_s = rd_be32(o + 4);
	p->preferred_s = rd_be32(o + 8);
	memcpy(p->prefix.b, o + 16, 16);
}

/** Walks the options after the fixed part. Returns false for an option RFC 4861 makes the whole
 *  message invalid with; sets *slla_seen when any Source Link-Layer Address option was present. */
static bool parse_options(const uint8_t *buf, size_t off, size_t len, struct nd_repr *out, bool *slla_seen)
{
	while (off < len) {
		/* RFC 4861 §6.1.1, §6.1.2, §7.1.1, §7.1.2: "All included options have a length that is
		 * greater than zero"; an option cannot run past the message. */
		if (len - off < 2 || buf[off + 1] == 0 || buf[off + 1] * 8u > len - off)
			return false;
		const uint8_t *o = buf + off;
		size_t olen = o[1] * 8u;
		/* RFC 4861 §4.3-§4.6: each message type carries only some options, one link-layer
		 * address of Ethernet's length (RFC 2464 §6); the rest, and unknown options, are ignored
		 * (§6.1, §7.1: "Options other than ... MUST be silently ignored"). The first of a
		 * repeated link-layer address option counts. */
		switch (o[0]) {
		case ND_OPT_SLLA:
			*slla_seen = true;
			if (out->type != ND_NEIGHBOR_ADVERT && olen == ND_OPT_LLA_LEN && !out->has_slla) {
				out->has_slla = true;
				memcpy(out->slla.b, o + 2, ETH_ADDR_LEN);
			}
			break;
		case ND_OPT_TLLA:
			if (out->type == ND_NEIGHBOR_ADVERT && olen == ND_OPT_LLA_LEN && !out->has_tlla) {
				out->has_tlla = true;
				memcpy(out->tlla.b, o + 2, ETH_ADDR_LEN);
			}
			break;
		case ND_OPT_PREFIX_INFO:
			if (out->type == ND_ROUTER_ADVERT && olen == ND_OPT_PREFIX_INFO_LEN)
				parse_prefix(o, out);
			break;
		case ND_OPT_MTU:
			if (out->type == ND_ROUTER_ADVERT && olen == ND_OPT_MTU_LEN)
				out->mtu = rd_be32(o + 4);
			break;
		default:
			break;
		}
		off += olen;
	}
	return true;
}

enum wire_result nd_repr_parse(const uint8_t *icmp6, size_t len, const struct ipv6_repr *ip,
			       struct nd_repr *out)
{
	if (len < 1)
		return WIRE_TRUNCATED;
	uint8_t type = icmp6[OFF(type)];
	size_t fixed = nd_fixed_len(type);
	if (!fixed)
		return WIRE_UNSUPPORTED;
	/* RFC 4861 §6.1, §7.1: "The IP Hop Limit field has a value of 255, i.e., the packet could not
	 * possibly have been forwarded by a router." */
	if (ip->hop_limit != ND_HOP_LIMIT)
		return WIRE_BAD_HOPLIMIT;
	if (len < fixed)
		return WIRE_TRUNCATED;
	if (icmp6[OFF(code)] != 0)
		return WIRE_MALFORMED;

	memset(out, 0, sizeof *out);
	out->type = type;
	switch (type) {
	case ND_ROUTER_ADVERT:
		/* RFC 4861 §6.1.2: "IP Source Address is a link-local address." */
		if (!ip6_is_linklocal(&ip->src))
			return WIRE_MALFORMED;
		out->cur_hop_limit = icmp6[4];
		out->managed = icmp6[5] & ND_RA_FLAG_MANAGED;
		out->other = icmp6[5] & ND_RA_FLAG_OTHER;
		out->router_lifetime = rd_be16(icmp6 + 6);
		out->reachable_ms = rd_be32(icmp6 + 8);
		out->retrans_ms = rd_be32(icmp6 + 12);
		break;
	case ND_NEIGHBOR_SOLICIT:
	case ND_NEIGHBOR_ADVERT:
		memcpy(out->target.b, icmp6 + 8, 16);
		/* RFC 4861 §7.1.1, §7.1.2: "Target Address is not a multicast address." */
		if (ip6_is_multicast(&out->target))
			return WIRE_MALFORMED;
		if (type == ND_NEIGHBOR_ADVERT) {
			uint32_t flags = rd_be32(icmp6 + 4);
			out->router = flags & ND_NA_FLAG_ROUTER;
			out->solicited = flags & ND_NA_FLAG_SOLICITED;
			out->override = flags & ND_NA_FLAG_OVERRIDE;
			/* RFC 4861 §7.1.2: "If the IP Destination Address is a multicast address the
			 * Solicited flag is zero." */
			if (out->solicited && ip6_is_multicast(&ip->dst))
				return WIRE_MALFORMED;
		}
		break;
	default:
		break;
	}

	bool slla_seen = false;
	if (!parse_options(icmp6, fixed, len, out, &slla_seen))
		return WIRE_MALFORMED;
	if (ip6_is_unspecified(&ip->src)) {
		/* RFC 4861 §6.1.1 (RS) and §7.1.1 (NS): "If the IP source address is the unspecified
		 * address, there is no source link-layer address option in the message"; §7.1.1: "If
		 * the IP source address is the unspecified address, the IP destination address is a
		 * solicited-node multicast address." */
		if (slla_seen && (type == ND_ROUTER_SOLICIT || type == ND_NEIGHBOR_SOLICIT))
			return WIRE_MALFORMED;
		if (type == ND_NEIGHBOR_SOLICIT && !ip6_is_solicited_node(&ip->dst))
			return WIRE_MALFORMED;
	}
	return WIRE_OK;
}

/** Appends a link-layer address option of `type` at buf + off. Returns its length. */
static size_t put_lla(uint8_t *buf, size_t off, uint8_t type, const struct eth_addr *mac)
{
	/* RFC 4861 §4.6.1, RFC 2464 §6: type, length 1 (8 octets), the 6-octet address. */
	buf[off] = type;
	buf[off + 1] = ND_OPT_LLA_LEN / 8;
	memcpy(buf + off + 2, mac->b, ETH_ADDR_LEN);
	return ND_OPT_LLA_LEN;
}

/** A message of `fixed` bytes (the data word and target, if any, written by the caller), with an
 *  optional link-layer address option. */
static size_t nd_emit(uint8_t type, uint32_t data, const struct ip6_addr *target, uint8_t opt,
		      const struct eth_addr *lla, const struct ip6_addr *src, const struct ip6_addr *dst, uint8_t *buf,
		      size_t cap)
{
	size_t fixed = nd_fixed_len(type), len = fixed + (lla ? ND_OPT_LLA_LEN : 0);
	if (cap < len)
		return 0;
	if (target)
		memcpy(buf + ICMP6_HDR_LEN, target->b, 16);
	if (lla)
		put_lla(buf, fixed, opt, lla);
	return finish(buf, len, type, 0, data, src, dst);
}

size_t nd_ns_emit(const struct ip6_addr *target, const struct eth_addr *slla, const struct ip6_addr *src,
		  const struct ip6_addr *dst, uint8_t *buf, size_t cap)
{
	return nd_emit(ND_NEIGHBOR_SOLICIT, 0, target, ND_OPT_SLLA, slla, src, dst, buf, cap);
}

size_t nd_na_emit(const struct ip6_addr *target, const struct eth_addr *tlla, bool router, bool solicited,
		  bool override, const struct ip6_addr *src, const struct ip6_addr *dst, uint8_t *buf, size_t cap)
{
	uint32_t flags = (router ? ND_NA_FLAG_ROUTER : 0) | (solicited ? ND_NA_FLAG_SOLICITED : 0) |
			 (override ? ND_NA_FLAG_OVERRIDE : 0);
	return nd_emit(ND_NEIGHBOR_ADVERT, flags, target, ND_OPT_TLLA, tlla, src, dst, buf, cap);
}

size_t nd_rs_emit(const struct eth_addr *slla, const struct ip6_addr *src, const struct ip6_addr *dst,
		  uint8_t *buf, size_t cap)
{
	return nd_emit(ND_ROUTER_SOLICIT, 0, NULL, ND_OPT_SLLA, slla, src, dst, buf, cap);
}

/* Multicast Listener Discovery */

uint32_t mldv2_mrc_decode(uint16_t code)
{
	return mcast_code_decode(code, 12);
}

uint16_t mldv2_mrc_encode(uint32_t ms)
{
	return (uint16_t)mcast_code_encode(ms, 12);
}

enum wire_result mld_query_parse(const uint8_t *icmp6, size_t len, const struct ipv6_repr *ip,
				 struct mld_query_repr *out)
{
	if (len < ICMP6_HDR_LEN)
		return WIRE_TRUNCATED;
	if (icmp6[OFF(type)] != MLD_QUERY)
		return WIRE_UNSUPPORTED;
	/* RFC 3810 §6.2: "the node checks if the source address of the message is a valid link-local
	 * address, if the Hop Limit is set to 1, and if the Router Alert option is present in the
	 * Hop-By-Hop Options header of the IPv6 packet. If any of these checks fails, the packet is
	 * dropped." */
	if (ip->hop_limit != MLD_HOP_LIMIT)
		return WIRE_BAD_HOPLIMIT;
	if (!ip6_is_linklocal(&ip->src) || !ip->router_alert)
		return WIRE_MALFORMED;
	if (len < MLD_V1_LEN)
		return WIRE_TRUNCATED;
	/* RFC 3810 §8.1: a 24-octet query is MLDv1, one of 28 or more is MLDv2, and "Query messages
	 * that do not match any of the above conditions ... MUST be silently ignored". */
	if (len > MLD_V1_LEN && len < MLDV2_QUERY_LEN)
		return WIRE_BAD_LENGTH;

	memset(out, 0, sizeof *out);
	memcpy(out->group.b, icmp6 + 8, 16);
	/* RFC 3810 §5.1.5: the Multicast Address field holds :: (general) or a group. */
	if (!ip6_is_unspecified(&out->group) && !ip6_is_multicast(&out->group))
		return WIRE_MALFORMED;
	uint16_t mrc = rd_be16(icmp6 + 4);
	out->v2 = len >= MLDV2_QUERY_LEN;
	if (!out->v2) {
		/* RFC 2710 §3.4: the Maximum Response Delay in milliseconds. */
		out->max_resp_ms = mrc;
		return WIRE_OK;
	}
	out->n_sources = rd_be16(icmp6 + 26);
	if ((size_t)out->n_sources * 16 > len - MLDV2_QUERY_LEN)
		return WIRE_BAD_LENGTH;
	out->max_resp_ms = mldv2_mrc_decode(mrc);
	out->s_flag = icmp6[24] & 0x08;
	out->qrv = icmp6[24] & 0x07;
	/* RFC 3810 §5.1.9: QQIC is coded as IGMPv3's (RFC 3376 §4.1.7). */
	out->qqi_s = igmpv3_code_decode(icmp6[25]);
	out->sources = icmp6 + MLDV2_QUERY_LEN;
	return WIRE_OK;
}

size_t mldv1_emit(uint8_t type, const struct ip6_addr *group, const struct ip6_addr *src,
		  const struct ip6_addr *dst, uint8_t *buf, size_t cap)
{
	if (cap < MLD_V1_LEN)
		return 0;
	/* RFC 2710 §3: Maximum Response Delay and Reserved are zero in reports and dones. */
	memcpy(buf + 8, group->b, 16);
	return finish(buf, MLD_V1_LEN, type, 0, 0, src, dst);
}

bool mldv2_report_begin(struct mldv2_report_builder *b, uint8_t *buf, size_t cap)
{
	b->buf = buf;
	b->cap = cap;
	b->len = MLDV2_REPORT_HDR_LEN;
	b->n_records = 0;
	return cap >= MLDV2_REPORT_HDR_LEN;
}

bool mldv2_report_add(struct mldv2_report_builder *b, const struct mld_record *rec)
{
	size_t rec_len = MLDV2_RECORD_HDR_LEN + 16 * (size_t)rec->n_sources;
	if (rec->n_sources > UINT16_MAX || b->n_records == UINT16_MAX || b->cap < b->len || rec_len > b->cap - b->len ||
	    b->len + rec_len > IPV6_MAX_PAYLOAD)
		return false;
	/* RFC 3810 §5.2.4: Record Type, Aux Data Len, Number of Sources, Multicast Address, sources. */
	uint8_t *p = b->buf + b->len;
	p[0] = rec->type;
	p[1] = 0;
	wr_be16(p + 2, (uint16_t)rec->n_sources);
	memcpy(p + 4, rec->group.b, 16);
	for (unsigned i = 0; i < rec->n_sources; i++)
		memcpy(p + MLDV2_RECORD_HDR_LEN + 16 * i, rec->sources[i].b, 16);
	b->len += rec_len;
	b->n_records++;
	return true;
}

size_t mldv2_report_finish(struct mldv2_report_builder *b, const struct ip6_addr *src, const struct ip6_addr *dst)
{
	/* RFC 3810 §5.2: type 143, reserved, checksum, reserved (16 bits), number of records. */
	return finish(b->buf, b->len, MLD_V2_REPORT, 0, b->n_records, src, dst);
}

size_t mldv2_report_emit(const struct mld_record *recs, unsigned n, const struct ip6_addr *src,
			 const struct ip6_addr *dst, uint8_t *buf, size_t cap)
{
	struct mldv2_report_builder b;
	if (!mldv2_report_begin(&b, buf, cap))
		return 0;
	for (unsigned i = 0; i < n; i++)
		if (!mldv2_report_add(&b, &recs[i]))
			return 0;
	return mldv2_report_finish(&b, src, dst);
}

size_t mld_ipv6_emit(const struct ipv6_repr *r, uint8_t *buf, size_t cap)
{
	if (cap < MLD_IPV6_HDR_LEN || r->payload_len > IPV6_MAX_PAYLOAD - (MLD_IPV6_HDR_LEN - IPV6_HDR_LEN))
		return 0;
	struct ipv6_repr with_hbh = *r;
	with_hbh.next_header = IPV6_NH_HOPOPTS;
	with_hbh.payload_len = (uint16_t)(r->payload_len + MLD_IPV6_HDR_LEN - IPV6_HDR_LEN);
	ipv6_repr_emit(&with_hbh, buf, cap);
	/* RFC 2711 §2.1: Router Alert (type 5, length 2, value 0 = "Datagram contains a Multicast
	 * Listener Discovery message"), then a PadN of two octets to fill the header's 8 octets. */
	static const uint8_t hbh[8] = { IPV6_NH_ICMPV6, 0, IPV6_OPT_ROUTER_ALERT, 2, 0, IPV6_ROUTER_ALERT_MLD,
					IPV6_OPT_PADN, 0 };
	memcpy(buf + IPV6_HDR_LEN, hbh, sizeof hbh);
	return MLD_IPV6_HDR_LEN;
}
