/*
 * Ethernet II framing: the 14-byte header and MAC address helpers.
 *
 * Contract: eth_repr_parse() needs only ETH_HDR_LEN bytes and accepts any EtherType (the interface
 * layer counts the ones it does not handle); eth_repr_emit() writes exactly ETH_HDR_LEN bytes.
 */
#include "stack/wire/eth.h"
#include "stack/wire/hex.h"
#include "stack/wire/ipv6.h"

#include <string.h>

bool eth_addr_is_broadcast(const struct eth_addr *a)
{
	return eth_addr_eq(a, &ETH_BROADCAST);
}

bool eth_addr_is_multicast(const struct eth_addr *a)
{
	/* IEEE 802: the I/G bit, transmitted first, is the least significant bit of octet 0. */
	return a->b[0] & 0x01;
}

bool eth_addr_is_zero(const struct eth_addr *a)
{
	static const struct eth_addr zero;
	return eth_addr_eq(a, &zero);
}

bool eth_addr_eq(const struct eth_addr *a, const struct eth_addr *b)
{
	return memcmp(a->b, b->b, ETH_ADDR_LEN) == 0;
}

char *eth_addr_format(const struct eth_addr *a, char *out)
{
	static const char hex[] = "0123456789abcdef";
	char *p = out;

	for (int i = 0; i < ETH_ADDR_LEN; i++) {
		if (i)
			*p++ = ':';
		*p++ = hex[a->b[i] >> 4];
		*p++ = hex[a->b[i] & 0xf];
	}
	*p = '\0';
	return out;
}

int eth_addr_parse(const char *s, struct eth_addr *out)
{
	struct eth_addr a;

	for (int i = 0; i < ETH_ADDR_LEN; i++) {
		int hi = hex_digit(s[0]);
		int lo = hi < 0 ? -1 : hex_digit(s[1]);
		if (lo < 0)
			return -1;
		a.b[i] = (uint8_t)(hi << 4 | lo);
		s += 2;
		if (*s != (i == ETH_ADDR_LEN - 1 ? '\0' : ':'))
			return -1;
		s++;
	}
	*out = a;
	return 0;
}

void eth_addr_from_ipv4_multicast(uint32_t group, struct eth_addr *out)
{
	/* RFC 1112 §6.4: "placing the low-order 23-bits of the IP address into the low-order 23 bits
	 * of the Ethernet multicast address 01-00-5E-00-00-00 (hex)". */
	out->b[0] = 0x01;
	out->b[1] = 0x00;
	out->b[2] = 0x5e;
	out->b[3] = (group >> 16) & 0x7f;
	out->b[4] = (uint8_t)(group >> 8);
	out->b[5] = (uint8_t)group;
}

void eth_addr_from_ipv6_multicast(const struct ip6_addr *group, struct eth_addr *out)
{
	/* RFC 2464 §7: "the first two octets are 3333 hexadecimal and the last four octets are the
	 * last four octets of DST". */
	out->b[0] = 0x33;
	out->b[1] = 0x33;
	memcpy(out->b + 2, group->b + 12, 4);
}

enum wire_result eth_check_len(const uint8_t *buf, size_t len)
{
	return len < ETH_HDR_LEN ? WIRE_TRUNCATED : WIRE_OK;
}

enum wire_result eth_repr_parse(const uint8_t *buf, size_t len, struct eth_repr *out)
{
	enum wire_result res = eth_check_len(buf, len);
	if (res != WIRE_OK)
		return res;

	memcpy(&out->dst, buf + offsetof(struct eth_hdr, dst), ETH_ADDR_LEN);
	memcpy(&out->src, buf + offsetof(struct eth_hdr, src), ETH_ADDR_LEN);
	out->ethertype = rd_be16(buf + offsetof(struct eth_hdr, type));
	return WIRE_OK;
}

size_t eth_repr_emit(const struct eth_repr *r, uint8_t *buf, size_t cap)
{
	if (cap < ETH_HDR_LEN)
		return 0;

	memcpy(buf + offsetof(struct eth_hdr, dst), &r->dst, ETH_ADDR_LEN);
	memcpy(buf + offsetof(struct eth_hdr, src), &r->src, ETH_ADDR_LEN);
	wr_be16(buf + offsetof(struct eth_hdr, type), r->ethertype);
	return ETH_HDR_LEN;
}
