/*
 * UDP headers (RFC 768) and their checksum over the IPv4 or IPv6 pseudo-header.
 *
 * Contract: udp_repr_parse() and udp6_repr_parse() take the IP payload and trust only the UDP
 * length field within it (bytes beyond `length` are ignored); udp_repr_emit() and udp6_repr_emit()
 * write the 8-byte header in front of a payload already in place, with a full checksum or, for
 * offload, the pseudo-header seed.
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

/* parse() and emit() serve both families; they are forced inline so that every datagram's path
 * costs what it did before IPv6 shared them (the compiler otherwise calls them out of line). */
#define SHARED static inline __attribute__((always_inline))

/** Parses with the pseudo-header sum `phdr` over `length`, the datagram's length field. */
SHARED enum wire_result parse(const uint8_t *buf, size_t len, uint32_t phdr, const struct wire_csum_caps *caps,
			      struct udp_repr *out)
{
	uint16_t length = rd_be16(buf + OFF(length));
	/* RFC 768: "An all zero transmitted checksum value means that the transmitter generated no
	 * checksum", so there is nothing to verify. */
	if (!caps->rx_l4_verified && rd_be16(buf + OFF(checksum)) != 0 &&
	    csum_fold(csum_partial(buf, length, phdr)) != 0)
		return WIRE_BAD_CHECKSUM;

	out->src_port = rd_be16(buf + OFF(src_port));
	out->dst_port = rd_be16(buf + OFF(dst_port));
	out->payload_len = (uint16_t)(length - UDP_HDR_LEN);
	return WIRE_OK;
}

enum wire_result udp_repr_parse(const uint8_t *buf, size_t len, uint32_t src, uint32_t dst,
				const struct wire_csum_caps *caps, struct udp_repr *out)
{
	enum wire_result res = udp_check_len(buf, len);
	if (res != WIRE_OK)
		return res;
	return parse(buf, len, csum_pseudo_ipv4(src, dst, IPV4_PROTO_UDP, rd_be16(buf + OFF(length))), caps, out);
}

enum wire_result udp6_repr_parse(const uint8_t *buf, size_t len, const struct ip6_addr *src,
				 const struct ip6_addr *dst, const struct wire_csum_caps *caps, struct udp_repr *out)
{
	enum wire_result res = udp_check_len(buf, len);
	if (res != WIRE_OK)
		return res;
	/* RFC 8200 §8.1: "IPv6 receivers must discard UDP packets containing a zero checksum and
	 * should log the error" -- even when the device reports the checksum good. */
	if (rd_be16(buf + OFF(checksum)) == 0)
		return WIRE_BAD_CHECKSUM;
	return parse(buf, len, csum_pseudo_ipv6(src, dst, rd_be16(buf + OFF(length)), IPV6_NH_UDP), caps, out);
}

/** Writes the header with the pseudo-header sum `phdr` (over the datagram's length). */
SHARED size_t emit(const struct udp_repr *r, uint8_t *buf, size_t cap, uint32_t phdr,
		   const struct wire_csum_caps *caps)
{
	uint16_t length = (uint16_t)(UDP_HDR_LEN + r->payload_len);

	wr_be16(buf + OFF(src_port), r->src_port);
	wr_be16(buf + OFF(dst_port), r->dst_port);
	wr_be16(buf + OFF(length), length);

	uint16_t check;
	if (caps->tx_udp_offload) {
		/* The NIC adds header and payload to the seed and complements, so the seed is the folded
		 * pseudo-header sum itself (DPDK's rte_ipv4_phdr_cksum() and rte_ipv6_phdr_cksum()
		 * convention). */
		check = (uint16_t)~csum_fold(phdr);
	} else {
		wr_be16(buf + OFF(checksum), 0);
		check = csum_fold(csum_partial(buf, length, phdr));
		/* RFC 768: "If the computed checksum is zero, it is transmitted as all ones (the
		 * equivalent in one's complement arithmetic)." RFC 8200 §8.1 keeps the rule. */
		if (check == 0)
			check = 0xffff;
	}
	wr_be16(buf + OFF(checksum), check);
	return UDP_HDR_LEN;
}

static bool fits(const struct udp_repr *r, size_t cap)
{
	return r->payload_len <= UINT16_MAX - UDP_HDR_LEN && cap >= (size_t)UDP_HDR_LEN + r->payload_len;
}

size_t udp_repr_emit(const struct udp_repr *r, uint8_t *buf, size_t cap, uint32_t src, uint32_t dst,
		     const struct wire_csum_caps *caps)
{
	if (!fits(r, cap))
		return 0;
	uint16_t length = (uint16_t)(UDP_HDR_LEN + r->payload_len);
	return emit(r, buf, cap, csum_pseudo_ipv4(src, dst, IPV4_PROTO_UDP, length), caps);
}

size_t udp6_repr_emit(const struct udp_repr *r, uint8_t *buf, size_t cap, const struct ip6_addr *src,
		      const struct ip6_addr *dst, const struct wire_csum_caps *caps)
{
	if (!fits(r, cap))
		return 0;
	uint16_t length = (uint16_t)(UDP_HDR_LEN + r->payload_len);
	return emit(r, buf, cap, csum_pseudo_ipv6(src, dst, length, IPV6_NH_UDP), caps);
}
