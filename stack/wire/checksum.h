/*
 * The Internet checksum (RFC 1071): a 16-bit one's-complement sum of 16-bit big-endian words.
 * Partial sums let callers add a pseudo-header and scattered buffers before folding.
 *
 * The functions are defined inline here, so that the per-datagram callers (the IPv4 header, the
 * UDP datagram) sum without a call and a constant length such as the 20-byte IPv4 header unrolls;
 * checksum.c holds their one external definition.
 */
#ifndef FFNET_WIRE_CHECKSUM_H
#define FFNET_WIRE_CHECKSUM_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include "stack/wire/ipv6.h"

/** Folds a 64-bit one's-complement accumulator to 16 bits, carries wrapped around (not complemented). */
inline uint32_t csum_fold64(uint64_t acc)
{
	acc = (acc & 0xffffffffu) + (acc >> 32);
	acc = (acc & 0xffffffffu) + (acc >> 32);
	acc = (acc & 0xffffu) + (acc >> 16);
	acc = (acc & 0xffffu) + (acc >> 16);
	return (uint32_t)acc;
}

/** Adds `len` bytes to a running 32-bit partial sum (odd final byte padded with zero, RFC 1071). */
inline uint32_t csum_partial(const void *buf, size_t len, uint32_t sum)
{
	/* RFC 1071 §2(B): the sum is byte-order independent, so words are added in native order
	 * (unaligned-safe memcpy loads, 32 bits at a time into a 64-bit accumulator that cannot
	 * overflow below 16 GiB) and the folded result is swapped to big-endian once at the end. */
	const uint8_t *p = (const uint8_t *)buf;
	uint64_t acc = 0;
	uint32_t w[4];

	while (len >= sizeof w) {
		memcpy(w, p, sizeof w);
		acc += (uint64_t)w[0] + w[1] + w[2] + w[3];
		p += sizeof w;
		len -= sizeof w;
	}
	while (len >= 4) {
		memcpy(w, p, 4);
		acc += w[0];
		p += 4;
		len -= 4;
	}
	if (len >= 2) {
		uint16_t h;
		memcpy(&h, p, 2);
		acc += h;
		p += 2;
		len -= 2;
	}
	if (len) {
		/* RFC 1071 §4.1: "Add left-over byte, if any": the odd byte is the high-order half of a
		 * big-endian word whose low half is zero; in native order that is the first byte. */
		uint16_t h = 0;
		memcpy(&h, p, 1);
		acc += h;
	}

	uint32_t folded = csum_fold64(acc);
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	folded = __builtin_bswap16((uint16_t)folded);
#endif
	uint64_t total = (uint64_t)sum + folded;
	return (uint32_t)total + (uint32_t)(total >> 32);
}

/** Folds a partial sum to 16 bits and complements it: the value to store in a header (host order). */
inline uint16_t csum_fold(uint32_t sum)
{
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

/** Checksum of one buffer: csum_fold(csum_partial(buf, len, 0)). Over a header that holds a correct
 *  checksum this returns 0. */
inline uint16_t csum_buf(const void *buf, size_t len)
{
	return csum_fold(csum_partial(buf, len, 0));
}

/** Partial sum of the IPv4 pseudo-header used by UDP (RFC 768): addresses in host order. */
inline uint32_t csum_pseudo_ipv4(uint32_t src, uint32_t dst, uint8_t proto, uint16_t l4_len)
{
	/* RFC 768: source address, destination address, zero, protocol, UDP length. */
	return (src >> 16) + (src & 0xffff) + (dst >> 16) + (dst & 0xffff) + proto + l4_len;
}

/** Partial sum of the IPv6 pseudo-header used by UDP and ICMPv6 (RFC 8200 §8.1): addresses as on
 *  the wire, upper_len the upper-layer packet's length (host order), next_header its protocol. */
inline uint32_t csum_pseudo_ipv6(const struct ip6_addr *src, const struct ip6_addr *dst, uint32_t upper_len,
				 uint8_t next_header)
{
	/* RFC 8200 §8.1: source address, destination address, upper-layer packet length (32 bits),
	 * three zero octets, next header. */
	uint32_t sum = csum_partial(src->b, 16, csum_partial(dst->b, 16, 0));
	return sum + (upper_len >> 16) + (upper_len & 0xffff) + next_header;
}

#endif
