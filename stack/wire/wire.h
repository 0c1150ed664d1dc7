/*
 * The wire layer: parsing and building protocol headers over raw (uint8_t *, len) buffers.
 *
 * Owns: header layouts, field access, validation of untrusted bytes, checksums.
 * May call: nothing but libc. Knows nothing of mbufs, lcores or sockets, so every function here
 * is unit-tested against literal bytes (test/stack/wire_*_test.c) and safe to fuzz.
 *
 * Each protocol follows one pattern (after smoltcp's wire module):
 *   - a packed header struct with big-endian fields typed be16_t / be32_t;
 *   - <proto>_check_len(buf, len): after it returns WIRE_OK every field access is in bounds;
 *   - <proto>_repr_parse(buf, len, caps, &repr): checked constructor for untrusted input, filling a
 *     small validated representation, or returning the precise reason it refused;
 *   - <proto>_repr_emit(&repr, buf, cap, caps): writes the header (and checksum unless offloaded),
 *     returns the header length written, or 0 if `cap` is too small.
 */
#ifndef FFNET_WIRE_H
#define FFNET_WIRE_H

#include <stdbool.h>

/** Why a parse refused its input. Each value maps to one drop counter in the interface layer. */
enum wire_result {
	WIRE_OK = 0,
	WIRE_TRUNCATED,    /**< buffer shorter than the fixed header */
	WIRE_BAD_VERSION,  /**< IPv4: version != 4; IPv6: version != 6 */
	WIRE_BAD_HDRLEN,   /**< IPv4: IHL < 5 or header longer than the buffer */
	WIRE_BAD_LENGTH,   /**< a length field disagrees with the buffer (total length, payload length, UDP length) */
	WIRE_BAD_CHECKSUM, /**< checksum verification failed */
	WIRE_BAD_TTL,      /**< IPv4: TTL 0 */
	WIRE_UNSUPPORTED,  /**< well-formed but not something we handle (ARP hw type, IPv4 options) */
	WIRE_MALFORMED,    /**< any other inconsistency (ARP hlen/plen, bad opcode, an invalid ND message) */
	WIRE_BAD_EXTHDR,   /**< IPv6: an extension header chain refused (struct ipv6_param_problem says how to answer) */
	WIRE_BAD_HOPLIMIT, /**< IPv6: a Neighbor Discovery message whose hop limit is not 255 (RFC 4861 §6.1, §7.1),
	                        or an MLD query whose hop limit is not 1 (RFC 3810 §6.2) */
};

/**
 * What the device already did or will do for checksums. Parse functions skip verification that
 * the device reports as done; emit functions leave the field zero when the device will fill it.
 */
struct wire_csum_caps {
	bool rx_ipv4_verified; /**< the NIC verified the IPv4 header checksum (and dropped/flagged bad ones) */
	bool rx_l4_verified;   /**< the NIC verified the UDP/ICMP checksum */
	bool tx_ipv4_offload;  /**< leave the IPv4 header checksum to the NIC */
	bool tx_udp_offload;   /**< leave the UDP checksum to the NIC (pseudo-header sum is seeded) */
};

/** All verification in software, all checksums filled in software. */
static const struct wire_csum_caps WIRE_CSUM_SOFTWARE = { false, false, false, false };

#endif
