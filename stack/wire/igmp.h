/*
 * IGMP messages for a host: IGMPv1/v2 (RFC 1112, RFC 2236: 8 bytes — type, max response time,
 * checksum, group) and IGMPv3 (RFC 3376: the query with its source list, the report made of group
 * records), plus the IPv4 header every IGMP message travels in (TTL 1, Router Alert option).
 */
#ifndef FFNET_WIRE_IGMP_H
#define FFNET_WIRE_IGMP_H

#include <stddef.h>
#include <stdint.h>
#include "stack/wire/endian.h"
#include "stack/wire/ipv4.h"
#include "stack/wire/wire.h"

#define IGMP_HDR_LEN 8           /**< v1/v2 messages; also the smallest message of any type */
#define IGMPV3_QUERY_LEN 12      /**< a v3 query without sources */
#define IGMPV3_REPORT_HDR_LEN 8  /**< a v3 report before its records */
#define IGMPV3_RECORD_HDR_LEN 8  /**< a group record before its sources */

#define IGMP_MEMBERSHIP_QUERY 0x11
#define IGMP_V1_MEMBERSHIP_REPORT 0x12
#define IGMP_V2_MEMBERSHIP_REPORT 0x16
#define IGMP_V2_LEAVE_GROUP 0x17
#define IGMP_V3_MEMBERSHIP_REPORT 0x22

/** Group record types (RFC 3376 §4.2.12). */
enum igmpv3_record_type {
	IGMPV3_MODE_IS_INCLUDE = 1,
	IGMPV3_MODE_IS_EXCLUDE = 2,
	IGMPV3_CHANGE_TO_INCLUDE_MODE = 3,
	IGMPV3_CHANGE_TO_EXCLUDE_MODE = 4,
	IGMPV3_ALLOW_NEW_SOURCES = 5,
	IGMPV3_BLOCK_OLD_SOURCES = 6,
};

#define IGMP_ALL_HOSTS 0xe0000001u     /**< 224.0.0.1: general queries */
#define IGMP_ALL_ROUTERS 0xe0000002u   /**< 224.0.0.2: IGMPv2 leaves */
#define IGMPV3_ALL_ROUTERS 0xe0000016u /**< 224.0.0.22: IGMPv3 reports */

#define IGMP_IPV4_HDR_LEN 24 /**< IPv4 header with the Router Alert option (IHL 6) */
#define IGMP_IPV4_TTL 1
#define IGMP_IPV4_TOS 0xc0   /**< IP precedence Internetwork Control (RFC 3376 §4) */
#define IPV4_OPT_ROUTER_ALERT 0x94

/** A v1/v2 message as it lies on the wire. */
struct igmp_hdr {
	uint8_t type;
	uint8_t max_resp;  /**< queries: max response time in 1/10 s (0 in a v1 query); 0 otherwise */
	be16_t checksum;   /**< over the whole IGMP message */
	be32_t group;      /**< group address; 0 in a general query */
} __attribute__((packed));

/** A v3 query as it lies on the wire; `n_sources` source addresses follow. */
struct igmpv3_query_hdr {
	uint8_t type;          /**< 0x11 */
	uint8_t max_resp_code; /**< coded max response time (RFC 3376 §4.1.1) */
	be16_t checksum;       /**< over the whole IGMP message */
	be32_t group;          /**< 0 in a general query */
	uint8_t resv_s_qrv;    /**< reserved (4 bits), S flag (1), querier's robustness variable (3) */
	uint8_t qqic;          /**< coded querier's query interval (RFC 3376 §4.1.7) */
	be16_t n_sources;      /**< source addresses that follow */
} __attribute__((packed));

/** A v3 report as it lies on the wire; `n_records` group records follow. */
struct igmpv3_report_hdr {
	uint8_t type;      /**< 0x22 */
	uint8_t reserved1;
	be16_t checksum;   /**< over the whole IGMP message */
	be16_t reserved2;
	be16_t n_records;  /**< group records that follow */
} __attribute__((packed));

/** A group record of a v3 report; `n_sources` addresses and `aux_len` 32-bit words follow. */
struct igmpv3_record_hdr {
	uint8_t type;     /**< enum igmpv3_record_type */
	uint8_t aux_len;  /**< auxiliary data after the sources, in 32-bit words */
	be16_t n_sources;
	be32_t group;
} __attribute__((packed));

/** Validated representation of any IGMP message; addresses in host order. */
struct igmp_repr {
	uint8_t type;
	/** Queries: 1, 2 or 3 by length and max response code (RFC 3376 §7.1). Reports: the version
	 *  their type belongs to; the leave: 2. Unknown types: 0. */
	uint8_t version;
	uint8_t max_resp_code; /**< the field as sent */
	/** Queries: the max response time in 1/10 s, decoded (RFC 3376 §4.1.1; 100 for a v1 query). */
	uint32_t max_resp_ds;
	uint32_t group;
	/* v3 queries */
	bool suppress;         /**< S flag: routers suppress their timer updates (RFC 3376 §4.1.5) */
	uint8_t qrv;           /**< querier's robustness variable, 0..7 */
	uint8_t qqic;          /**< the field as sent; decode with igmpv3_code_decode() (seconds) */
	uint16_t n_sources;
	const uint8_t *sources; /**< n_sources big-endian addresses (igmp_source()) */
	/* v3 reports */
	uint16_t n_records;
	const uint8_t *records; /**< the group records, walked with igmpv3_record_parse() */
	size_t records_len;
};

/** One group record of a v3 report; sources point into the report. */
struct igmpv3_record_repr {
	uint8_t type;
	uint32_t group;
	uint16_t n_sources;
	const uint8_t *sources; /**< n_sources big-endian addresses (igmp_source()) */
};

/** Source address i of a parsed query or record, in host order. */
static inline uint32_t igmp_source(const uint8_t *sources, unsigned i) { return rd_be32(sources + 4 * i); }
/** Bytes of a group record with n sources and no auxiliary data. */
static inline size_t igmpv3_record_len(unsigned n_sources) { return IGMPV3_RECORD_HDR_LEN + 4 * (size_t)n_sources; }

/**
 * Checks that every field of the message the type implies is inside `len`. WIRE_TRUNCATED: under
 * 8 bytes. WIRE_BAD_LENGTH: a query of 9..11 bytes (RFC 3376 §7.1 says to ignore it), a v3 query
 * whose sources, or a v3 report whose records, run past `len`.
 */
enum wire_result igmp_check_len(const uint8_t *buf, size_t len);
/**
 * Parses a whole IGMP message of `len` bytes (the IPv4 payload). Refuses, in this order, what
 * igmp_check_len refuses, then WIRE_BAD_CHECKSUM (unless caps->rx_l4_verified; devices do not
 * verify IGMP, so the interface layer passes WIRE_CSUM_SOFTWARE). Unknown types parse (type set,
 * version 0) for the caller to count. Bytes beyond a v1/v2 message's 8 are ignored (RFC 2236 §2.5).
 */
enum wire_result igmp_repr_parse(const uint8_t *buf, size_t len, const struct wire_csum_caps *caps,
				 struct igmp_repr *out);
/**
 * Writes a message and its checksum: 8 bytes for v1/v2 types (a query with version 1 or 2 carries
 * max_resp_code); a v3 query (version 3) with its `n_sources` wire-order sources; a v3 report with
 * its `records_len` bytes of records. Sources and records may already be in place (memmove-safe).
 * Returns the message length, or 0 when cap is too small.
 */
size_t igmp_repr_emit(const struct igmp_repr *r, uint8_t *buf, size_t cap);

/**
 * Reads the group record at `buf` (at most `len` bytes). Returns the record's length (header,
 * sources, auxiliary data), or 0 when it runs past `len`.
 */
size_t igmpv3_record_parse(const uint8_t *buf, size_t len, struct igmpv3_record_repr *out);

/** A v3 report under construction: igmpv3_report_begin, _add per record, _finish. */
struct igmpv3_report_builder {
	uint8_t *buf;
	size_t cap;
	size_t len;
	uint16_t n_records;
};
/** Starts a report in buf. False when cap cannot hold the report header. */
bool igmpv3_report_begin(struct igmpv3_report_builder *b, uint8_t *buf, size_t cap);
/** Appends a record with `n_sources` host-order sources. False (nothing written) when it does not fit. */
bool igmpv3_report_add(struct igmpv3_report_builder *b, uint8_t type, uint32_t group, const uint32_t *sources,
		       unsigned n_sources);
/** Writes the record count and checksum. Returns the report's length. */
size_t igmpv3_report_finish(struct igmpv3_report_builder *b);

/** Decodes the floating-point codes of IGMPv3 and MLDv2, 1 + 3 + mant_bits bits wide: values from
 *  1 << (mant_bits + 3) on are |1|exp|mant| = (mant | 1 << mant_bits) << (exp + 3) (RFC 3376
 *  §4.1.1 with mant_bits 4, RFC 3810 §5.1.3 with 12). */
uint32_t mcast_code_decode(uint32_t code, unsigned mant_bits);
/** Encodes a value as mcast_code_decode reads it, rounding down to the nearest representable value. */
uint32_t mcast_code_encode(uint32_t value, unsigned mant_bits);
/** Decodes a v3 Max Resp Code (1/10 s) or QQIC (s): values ≥ 128 are floating point (RFC 3376 §4.1.1, §4.1.7). */
uint32_t igmpv3_code_decode(uint8_t code);
/** Encodes a value as a Max Resp Code / QQIC, rounding down to the nearest representable value. */
uint8_t igmpv3_code_encode(uint32_t value);

/**
 * Writes the IPv4 header an IGMP message travels in: the fields of `r` (its hdr_len is ignored)
 * with IHL 6 and the Router Alert option (RFC 2113 §2.1: 0x94 0x04 0x00 0x00), which RFC 2236 §2
 * and RFC 3376 §4 require; total_length = 24 + r->payload_len. The checksum is filled unless
 * caps->tx_ipv4_offload. Returns IGMP_IPV4_HDR_LEN, or 0 when cap is too small.
 */
size_t igmp_ipv4_emit(const struct ipv4_repr *r, uint8_t *buf, size_t cap, const struct wire_csum_caps *caps);

#endif
