/*
 * IPv4 headers (RFC 791) and dotted-quad addresses.
 *
 * Contract: ipv4_repr_parse() validates an untrusted header in the order the header file lists and
 * reports payload_len from total_length, so link-layer padding after the datagram is ignored;
 * options are skipped, never interpreted. ipv4_repr_emit() writes a 20-byte header without options.
 */
#include "stack/wire/ipv4.h"

#include <stdio.h>

#include "stack/wire/checksum.h"

#define OFF(field) offsetof(struct ipv4_hdr, field)

static inline unsigned hdr_len_of(const uint8_t *buf)
{
	return (buf[OFF(version_ihl)] & 0x0f) * 4u;
}

enum wire_result ipv4_check_len(const uint8_t *buf, size_t len)
{
	if (len < IPV4_HDR_LEN)
		return WIRE_TRUNCATED;
	unsigned hdr_len = hdr_len_of(buf);
	if (hdr_len < IPV4_HDR_LEN || hdr_len > len)
		return WIRE_BAD_HDRLEN;
	unsigned total = rd_be16(buf + OFF(total_length));
	if (total < hdr_len || total > len)
		return WIRE_BAD_LENGTH;
	return WIRE_OK;
}

enum wire_result ipv4_repr_parse(const uint8_t *buf, size_t len, const struct wire_csum_caps *caps,
				 struct ipv4_repr *out)
{
	if (len < IPV4_HDR_LEN)
		return WIRE_TRUNCATED;
	if (buf[OFF(version_ihl)] >> 4 != 4)
		return WIRE_BAD_VERSION;
	enum wire_result res = ipv4_check_len(buf, len);
	if (res != WIRE_OK)
		return res;

	unsigned hdr_len = hdr_len_of(buf);
	/* RFC 791 §3.1: "The checksum field is the 16 bit one's complement of the one's complement sum
	 * of all 16 bit words in the header" -- options included, so a valid header sums to zero. */
	if (!caps->rx_ipv4_verified && csum_buf(buf, hdr_len) != 0)
		return WIRE_BAD_CHECKSUM;
	/* RFC 791 §3.2, Time to Live: "If this field contains the value zero, then the datagram must
	 * be destroyed." */
	if (buf[OFF(ttl)] == 0)
		return WIRE_BAD_TTL;

	uint16_t frag = rd_be16(buf + OFF(frag));
	out->src = rd_be32(buf + OFF(src));
	out->dst = rd_be32(buf + OFF(dst));
	out->proto = buf[OFF(proto)];
	out->ttl = buf[OFF(ttl)];
	out->tos = buf[OFF(tos)];
	out->id = rd_be16(buf + OFF(id));
	out->dont_frag = frag & IPV4_FLAG_DF;
	out->more_frags = frag & IPV4_FLAG_MF;
	/* RFC 791 §3.1: "The fragment offset is measured in units of 8 octets (64 bits)." */
	out->frag_offset = (uint16_t)((frag & IPV4_FRAG_OFFSET_MASK) * 8);
	out->hdr_len = (uint16_t)hdr_len;
	out->payload_len = (uint16_t)(rd_be16(buf + OFF(total_length)) - hdr_len);
	return WIRE_OK;
}

size_t ipv4_repr_emit(const struct ipv4_repr *r, uint8_t *buf, size_t cap, const struct wire_csum_caps *caps)
{
	if (cap < IPV4_HDR_LEN || r->payload_len > IPV4_MAX_LEN - IPV4_HDR_LEN)
		return 0;

	uint16_t frag = (uint16_t)((r->dont_frag ? IPV4_FLAG_DF : 0) | (r->more_frags ? IPV4_FLAG_MF : 0) |
				   ((r->frag_offset / 8) & IPV4_FRAG_OFFSET_MASK));
	buf[OFF(version_ihl)] = 0x40 | (IPV4_HDR_LEN / 4);
	buf[OFF(tos)] = r->tos;
	wr_be16(buf + OFF(total_length), (uint16_t)(IPV4_HDR_LEN + r->payload_len));
	wr_be16(buf + OFF(id), r->id);
	wr_be16(buf + OFF(frag), frag);
	buf[OFF(ttl)] = r->ttl;
	buf[OFF(proto)] = r->proto;
	wr_be16(buf + OFF(checksum), 0);
	wr_be32(buf + OFF(src), r->src);
	wr_be32(buf + OFF(dst), r->dst);
	/* An offloading NIC sums the header as it lies, so the field must be zero (DPDK's
	 * RTE_MBUF_F_TX_IP_CKSUM states the same requirement). */
	if (!caps->tx_ipv4_offload)
		wr_be16(buf + OFF(checksum), csum_buf(buf, IPV4_HDR_LEN));
	return IPV4_HDR_LEN;
}

char *ipv4_format(uint32_t a, char *out)
{
	snprintf(out, 16, "%u.%u.%u.%u", a >> 24, (a >> 16) & 0xff, (a >> 8) & 0xff, a & 0xff);
	return out;
}

int ipv4_parse(const char *s, uint32_t *out)
{
	uint32_t a = 0;

	for (int part = 0; part < 4; part++) {
		if (part && *s++ != '.')
			return -1;
		if (*s < '0' || *s > '9')
			return -1;
		/* A leading zero is refused: inet_aton() reads "010" as octal 8, so its meaning is
		 * ambiguous and a configuration file should not depend on which parser reads it. */
		if (s[0] == '0' && s[1] >= '0' && s[1] <= '9')
			return -1;
		unsigned v = 0;
		int digits = 0;
		while (*s >= '0' && *s <= '9') {
			if (++digits > 3)
				return -1;
			v = v * 10 + (unsigned)(*s++ - '0');
		}
		if (v > 255)
			return -1;
		a = a << 8 | v;
	}
	if (*s != '\0')
		return -1;
	*out = a;
	return 0;
}
