/*
 * UDP headers (RFC 768) over IPv4 and IPv6. The checksum covers the IPv4 or IPv6 pseudo-header
 * (RFC 8200 §8.1); over IPv4 a zero checksum on receive means "not computed" and is accepted, over
 * IPv6 it is refused; a computed zero is sent as 0xffff.
 */
#ifndef FFNET_WIRE_UDP_H
#define FFNET_WIRE_UDP_H

#include <stddef.h>
#include <stdint.h>
#include "stack/wire/endian.h"
#include "stack/wire/ipv6.h"
#include "stack/wire/wire.h"

#define UDP_HDR_LEN 8

/** The UDP header as it lies on the wire. */
struct udp_hdr {
	be16_t src_port;
	be16_t dst_port;
	be16_t length;   /**< header + payload */
	be16_t checksum; /**< over pseudo-header, header and payload; 0 = none */
} __attribute__((packed));

/** Validated representation; ports in host order. */
struct udp_repr {
	uint16_t src_port;
	uint16_t dst_port;
	uint16_t payload_len;
};

enum wire_result udp_check_len(const uint8_t *buf, size_t len);
/** Parses a datagram of `len` bytes (the IPv4 payload) from src to dst (host order). Refuses:
 *  WIRE_TRUNCATED (< 8), WIRE_BAD_LENGTH (length < 8 or > len), WIRE_BAD_CHECKSUM (non-zero and
 *  wrong, unless caps->rx_l4_verified). Bytes beyond `length` are ignored. */
enum wire_result udp_repr_parse(const uint8_t *buf, size_t len, uint32_t src, uint32_t dst,
				const struct wire_csum_caps *caps, struct udp_repr *out);
/** Writes the header for a payload already at buf + 8. With caps->tx_udp_offload the checksum field
 *  holds the folded pseudo-header sum (not complemented), as NICs expect; otherwise the full
 *  checksum (0 → 0xffff). Returns UDP_HDR_LEN, or 0 when cap < 8 + payload_len or 8 + payload_len
 *  exceeds 65535 (the length field's range). */
size_t udp_repr_emit(const struct udp_repr *r, uint8_t *buf, size_t cap, uint32_t src, uint32_t dst,
		     const struct wire_csum_caps *caps);

/** Parses a datagram of `len` bytes (the upper-layer part of an IPv6 packet) from src to dst.
 *  Refuses as udp_repr_parse does, and a zero checksum with WIRE_BAD_CHECKSUM even when
 *  caps->rx_l4_verified (RFC 8200 §8.1: "IPv6 receivers must discard UDP packets containing a zero
 *  checksum"). */
enum wire_result udp6_repr_parse(const uint8_t *buf, size_t len, const struct ip6_addr *src,
				 const struct ip6_addr *dst, const struct wire_csum_caps *caps, struct udp_repr *out);
/** Writes the header as udp_repr_emit does, with the IPv6 pseudo-header in the checksum (or, with
 *  caps->tx_udp_offload, the folded pseudo-header sum as DPDK's rte_ipv6_phdr_cksum() gives it).
 *  Returns UDP_HDR_LEN, or 0 when cap < 8 + payload_len or 8 + payload_len exceeds 65535. */
size_t udp6_repr_emit(const struct udp_repr *r, uint8_t *buf, size_t cap, const struct ip6_addr *src,
		      const struct ip6_addr *dst, const struct wire_csum_caps *caps);

#endif
