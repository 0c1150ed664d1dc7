/*
 * ARP packets for IPv4 over Ethernet (RFC 826).
 *
 * Contract: arp_repr_parse() accepts only the Ethernet/IPv4 form (htype 1, ptype 0x0800, hlen 6,
 * plen 4) with a request or reply opcode, and reads exactly ARP_PKT_LEN bytes (Ethernet padding
 * after them is ignored); arp_repr_emit() writes exactly ARP_PKT_LEN bytes.
 */
#include "stack/wire/arp.h"

#include <string.h>

#define ARP_HTYPE_ETHERNET 1
#define OFF(field) offsetof(struct arp_hdr, field)

enum wire_result arp_check_len(const uint8_t *buf, size_t len)
{
	return len < ARP_PKT_LEN ? WIRE_TRUNCATED : WIRE_OK;
}

enum wire_result arp_repr_parse(const uint8_t *buf, size_t len, struct arp_repr *out)
{
	enum wire_result res = arp_check_len(buf, len);
	if (res != WIRE_OK)
		return res;

	/* RFC 826: "?Do I have the hardware type in ar$hrd? Yes: (almost definitely) [optionally
	 * check the hardware length ar$hln] ?Do I speak the protocol in ar$pro?" */
	if (rd_be16(buf + OFF(htype)) != ARP_HTYPE_ETHERNET || rd_be16(buf + OFF(ptype)) != ETH_TYPE_IPV4)
		return WIRE_UNSUPPORTED;
	/* The fixed offsets below hold only for 6-byte hardware and 4-byte protocol addresses. */
	if (buf[OFF(hlen)] != ETH_ADDR_LEN || buf[OFF(plen)] != 4)
		return WIRE_MALFORMED;
	uint16_t op = rd_be16(buf + OFF(op));
	if (op != ARP_OP_REQUEST && op != ARP_OP_REPLY)
		return WIRE_MALFORMED;

	out->op = op;
	memcpy(&out->sha, buf + OFF(sha), ETH_ADDR_LEN);
	out->spa = rd_be32(buf + OFF(spa));
	memcpy(&out->tha, buf + OFF(tha), ETH_ADDR_LEN);
	out->tpa = rd_be32(buf + OFF(tpa));
	return WIRE_OK;
}

size_t arp_repr_emit(const struct arp_repr *r, uint8_t *buf, size_t cap)
{
	if (cap < ARP_PKT_LEN)
		return 0;

	wr_be16(buf + OFF(htype), ARP_HTYPE_ETHERNET);
	wr_be16(buf + OFF(ptype), ETH_TYPE_IPV4);
	buf[OFF(hlen)] = ETH_ADDR_LEN;
	buf[OFF(plen)] = 4;
	wr_be16(buf + OFF(op), r->op);
	memcpy(buf + OFF(sha), &r->sha, ETH_ADDR_LEN);
	wr_be32(buf + OFF(spa), r->spa);
	memcpy(buf + OFF(tha), &r->tha, ETH_ADDR_LEN);
	wr_be32(buf + OFF(tpa), r->tpa);
	return ARP_PKT_LEN;
}
