/*
 * IPv4 headers (RFC 791). Parsing validates version, IHL, total length against the buffer, the
 * header checksum (unless the device verified it) and TTL; options are skipped (never interpreted).
 */
#ifndef FFNET_WIRE_IPV4_H
#define FFNET_WIRE_IPV4_H

#include <stddef.h>
#include <stdint.h>
#include "stack/wire/endian.h"
#include "stack/wire/wire.h"

#define IPV4_HDR_LEN 20 /**< without options */
#define IPV4_MAX_LEN 65535
#define IPV4_PROTO_ICMP 1
#define IPV4_PROTO_IGMP 2
#define IPV4_PROTO_TCP 6
#define IPV4_PROTO_UDP 17
#define IPV4_FLAG_DF 0x4000
#define IPV4_FLAG_MF 0x2000
#define IPV4_FRAG_OFFSET_MASK 0x1fff

/** The IPv4 header as it lies on the wire (options follow when ihl > 5). */
struct ipv4_hdr {
	uint8_t version_ihl; /**< version (4) in the high nibble, header length in 32-bit words in the low */
	uint8_t tos;         /**< DSCP and ECN */
	be16_t total_length; /**< header + payload, bytes */
	be16_t id;           /**< identification, for reassembly */
	be16_t frag;         /**< flags (DF, MF) and fragment offset in 8-byte units */
	uint8_t ttl;         /**< time to live */
	uint8_t proto;       /**< payload protocol */
	be16_t checksum;     /**< header checksum */
	be32_t src;          /**< source address */
	be32_t dst;          /**< destination address */
} __attribute__((packed));

/** Validated representation; addresses in host order. */
struct ipv4_repr {
	uint32_t src;
	uint32_t dst;
	uint8_t proto;
	uint8_t ttl;
	uint8_t tos;
	uint16_t id;
	bool dont_frag;
	bool more_frags;
	uint16_t frag_offset; /**< in bytes (field value × 8) */
	uint16_t hdr_len;     /**< bytes, 20..60 */
	uint16_t payload_len; /**< total_length - hdr_len */
};

enum wire_result ipv4_check_len(const uint8_t *buf, size_t len);
/**
 * Parses an untrusted header. `len` is the bytes available (the frame may be padded beyond
 * total_length; padding is ignored). Refuses, in this order: WIRE_TRUNCATED (< 20 bytes),
 * WIRE_BAD_VERSION, WIRE_BAD_HDRLEN (IHL < 5 or header beyond len), WIRE_BAD_LENGTH (total_length
 * < header length or > len), WIRE_BAD_CHECKSUM (unless caps->rx_ipv4_verified), WIRE_BAD_TTL (0).
 */
enum wire_result ipv4_repr_parse(const uint8_t *buf, size_t len, const struct wire_csum_caps *caps,
				 struct ipv4_repr *out);
/** Writes a 20-byte header (no options) with total_length = 20 + payload_len; fills the checksum
 *  unless caps->tx_ipv4_offload (then 0). Returns IPV4_HDR_LEN, or 0 when cap is too small or
 *  20 + payload_len exceeds IPV4_MAX_LEN. */
size_t ipv4_repr_emit(const struct ipv4_repr *r, uint8_t *buf, size_t cap, const struct wire_csum_caps *caps);

/** True for 224.0.0.0/4. */
static inline bool ipv4_is_multicast(uint32_t a) { return (a >> 28) == 0xe; }
/** True for 127.0.0.0/8. */
static inline bool ipv4_is_loopback(uint32_t a) { return (a >> 24) == 127; }
/** RFC 1122 §3.2.1.3: an IP datagram from src to dst that must never leave for a device — a source
 *  of "this host" (0.0.0.0) or loopback (127/8), or a loopback destination. */
static inline bool ipv4_martian_on_wire(uint32_t src, uint32_t dst)
{
	return src == 0 || ipv4_is_loopback(src) || ipv4_is_loopback(dst);
}
/** Formats a host-order address as dotted quad into out (at least 16 bytes). Returns out. */
char *ipv4_format(uint32_t a, char *out);
/** Parses a dotted quad into host order. Returns 0, or -1. */
int ipv4_parse(const char *s, uint32_t *out);

#endif
