/*
 * UDP headers (RFC 768) and their checksum over the IPv4 pseudo-header.
 *
 * Contract: udp_repr_parse() takes the IPv4 payload and trusts only the UDP length field within it
 * (bytes beyond `length` are ignored); udp_repr_emit() writes the 8-byte header in front of a
 * payload already in place, with a full checksum or, for offload, the pseudo-header seed.
 */
#include "stack/wire/udp.h"

#include "stack/wire/checksum.h"
#include "stack/wire/ipv4.h"

#define OFF(field) offsetof(struct udp_hdr, field)

enum wire_result udp_check_len(const uint8_t *buf, size_t len)
{
	if (len < UDP_HDR_LEN)
		return WIRE_TRUNCATED;
	unsigned length = rd_be16(buf + OFF(length));
	if (length < UDP_HDR_LEN || length > len)
		return WIRE_BAD_LENGTH;
	return WIRE_OK;
}

enum wire_result udp_repr_parse(const uint8_t *buf, size_t len, uint32_t src, uint32_t dst,
				const struct wire_csum_caps *caps, struct udp_repr *out)
{
	enum wire_result res = udp_check_len(buf, len);
	if (res != WIRE_OK)
		return res;

	uint16_t length = rd_be16(buf + OFF(length));
	/* RFC 768: "An all zero transmitted checksum value means that the transmitter generated no
	 * checksum", so there is nothing to verify. */
	if (!caps->rx_l4_verified && rd_be16(buf + OFF(checksum)) != 0) {
		uint32_t sum = csum_pseudo_ipv4(src, dst, IPV4_PROTO_UDP, length);
		if (csum_fold(csum_partial(buf, length, sum)) != 0)
			return WIRE_BAD_CHECKSUM;
	}

	out->src_port = rd_be16(buf + OFF(src_port));
	out->dst_port = rd_be16(buf + OFF(dst_port));
	out->payload_len = (uint16_t)(length - UDP_HDR_LEN);
	return WIRE_OK;
}

size_t udp_repr_emit(const struct udp_repr *r, uint8_t *buf, size_t cap, uint32_t src, uint32_t dst,
		     const struct wire_csum_caps *caps)
{
	if (r->payload_len > IPV4_MAX_LEN - UDP_HDR_LEN || cap < (size_t)UDP_HDR_LEN + r->payload_len)
		return 0;
	uint16_t length = (uint16_t)(UDP_HDR_LEN + r->payload_len);

	wr_be16(buf + OFF(src_port), r->src_port);
	wr_be16(buf + OFF(dst_port), r->dst_port);
	wr_be16(buf + OFF(length), length);

	uint32_t sum = csum_pseudo_ipv4(src, dst, IPV4_PROTO_UDP, length);
	uint16_t check;
	if (caps->tx_udp_offload) {
		/* The NIC adds header and payload to the seed and complements, so the seed is the folded
		 * pseudo-header sum itself (DPDK's rte_ipv4_phdr_cksum() convention). */
		check = (uint16_t)~csum_fold(sum);
	} else {
		wr_be16(buf + OFF(checksum), 0);
		check = csum_fold(csum_partial(buf, length, sum));
		/* RFC 768: "If the computed checksum is zero, it is transmitted as all ones (the
		 * equivalent in one's complement arithmetic)." */
		if (check == 0)
			check = 0xffff;
	}
	wr_be16(buf + OFF(checksum), check);
	return UDP_HDR_LEN;
}
