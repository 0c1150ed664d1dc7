/*
 * ICMPv4 messages (RFC 792): echo request/reply and the error messages (destination unreachable,
 * time exceeded) that quote the offending datagram's IP header and first 8 payload bytes.
 */
#ifndef FFNET_WIRE_ICMP_H
#define FFNET_WIRE_ICMP_H

#include <stddef.h>
#include <stdint.h>
#include "stack/wire/endian.h"
#include "stack/wire/wire.h"

#define ICMP_HDR_LEN 8
#define ICMP_ECHO_REPLY 0
#define ICMP_DEST_UNREACH 3
#define ICMP_ECHO_REQUEST 8
#define ICMP_TIME_EXCEEDED 11
#define ICMP_UNREACH_PORT 3
#define ICMP_UNREACH_FRAG_NEEDED 4

/** The ICMP header as it lies on the wire; `rest` is ident+seq for echo, unused/MTU for errors. */
struct icmp_hdr {
	uint8_t type;
	uint8_t code;
	be16_t checksum; /**< over the whole ICMP message */
	be16_t ident;    /**< echo: identifier */
	be16_t seq;      /**< echo: sequence number */
} __attribute__((packed));

/** Validated representation. `data` points into the parsed buffer (echo payload, or the quoted
 *  datagram of an error message). */
struct icmp_repr {
	uint8_t type;
	uint8_t code;
	uint16_t ident;      /**< echo only */
	uint16_t seq;        /**< echo only */
	uint16_t next_mtu;   /**< dest-unreachable/frag-needed only (RFC 1191) */
	const uint8_t *data;
	size_t data_len;
};

enum wire_result icmp_check_len(const uint8_t *buf, size_t len);
/** Parses a whole ICMP message of `len` bytes. Refuses: WIRE_TRUNCATED (< 8), WIRE_BAD_CHECKSUM
 *  (unless caps->rx_l4_verified). Unknown types parse (type/code set) for the caller to count. */
enum wire_result icmp_repr_parse(const uint8_t *buf, size_t len, const struct wire_csum_caps *caps,
				 struct icmp_repr *out);
/** Writes header + data (data may already be in place at buf + 8: memmove-safe) and the checksum
 *  over the whole message. Returns the message length, or 0 when cap is too small. */
size_t icmp_repr_emit(const struct icmp_repr *r, uint8_t *buf, size_t cap);

#endif
