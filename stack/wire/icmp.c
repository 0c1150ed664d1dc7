/*
 * ICMPv4 messages (RFC 792): the 8-byte header and the checksum over the whole message.
 *
 * Contract: icmp_repr_parse() takes exactly the ICMP message (the IPv4 payload, payload_len bytes)
 * and leaves `data` pointing into it; ident/seq are filled only for echo request/reply and
 * next_mtu only for destination-unreachable/fragmentation-needed, the rest are zero.
 * icmp_repr_emit() moves the data into place if needed and checksums the result.
 */
#include "stack/wire/icmp.h"

#include <string.h>

#include "stack/wire/checksum.h"

#define OFF(field) offsetof(struct icmp_hdr, field)

static inline bool is_echo(uint8_t type)
{
	return type == ICMP_ECHO_REQUEST || type == ICMP_ECHO_REPLY;
}

static inline bool is_frag_needed(uint8_t type, uint8_t code)
{
	return type == ICMP_DEST_UNREACH && code == ICMP_UNREACH_FRAG_NEEDED;
}

enum wire_result icmp_check_len(const uint8_t *buf, size_t len)
{
	return len < ICMP_HDR_LEN ? WIRE_TRUNCATED : WIRE_OK;
}

enum wire_result icmp_repr_parse(const uint8_t *buf, size_t len, const struct wire_csum_caps *caps,
				 struct icmp_repr *out)
{
	enum wire_result res = icmp_check_len(buf, len);
	if (res != WIRE_OK)
		return res;
	/* RFC 792: "The checksum is the 16-bit ones's complement of the one's complement sum of the
	 * ICMP message starting with the ICMP Type" -- over every byte, odd lengths padded. */
	if (!caps->rx_l4_verified && csum_buf(buf, len) != 0)
		return WIRE_BAD_CHECKSUM;

	uint8_t type = buf[OFF(type)];
	uint8_t code = buf[OFF(code)];
	out->type = type;
	out->code = code;
	out->ident = is_echo(type) ? rd_be16(buf + OFF(ident)) : 0;
	out->seq = is_echo(type) ? rd_be16(buf + OFF(seq)) : 0;
	/* RFC 1191 §4: the Next-Hop MTU is "the low-order 16 bits of the ICMP header field that is
	 * labelled 'unused' in the ICMP specification". */
	out->next_mtu = is_frag_needed(type, code) ? rd_be16(buf + OFF(seq)) : 0;
	out->data = buf + ICMP_HDR_LEN;
	out->data_len = len - ICMP_HDR_LEN;
	return WIRE_OK;
}

size_t icmp_repr_emit(const struct icmp_repr *r, uint8_t *buf, size_t cap)
{
	if (cap < ICMP_HDR_LEN || r->data_len > cap - ICMP_HDR_LEN)
		return 0;
	size_t len = ICMP_HDR_LEN + r->data_len;

	/* The data may overlap the header (a reply built in the request's buffer), so it is moved
	 * before the header is written. */
	if (r->data_len && r->data != buf + ICMP_HDR_LEN)
		memmove(buf + ICMP_HDR_LEN, r->data, r->data_len);
	buf[OFF(type)] = r->type;
	buf[OFF(code)] = r->code;
	wr_be16(buf + OFF(checksum), 0);
	wr_be16(buf + OFF(ident), is_echo(r->type) ? r->ident : 0);
	wr_be16(buf + OFF(seq), is_echo(r->type) ? r->seq
			       : is_frag_needed(r->type, r->code) ? r->next_mtu : 0);
	wr_be16(buf + OFF(checksum), csum_buf(buf, len));
	return len;
}
