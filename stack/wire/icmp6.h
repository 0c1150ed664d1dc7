/*
 * ICMPv6 messages (RFC 4443) and the protocols carried in them that a host speaks: Neighbor
 * Discovery (RFC 4861: router and neighbor solicitations and advertisements, their options) and
 * Multicast Listener Discovery (MLDv1, RFC 2710; MLDv2, RFC 3810). Every checksum covers the IPv6
 * pseudo-header, so parse and emit take the packet's source and destination addresses; emit always
 * computes the checksum (devices do not offload ICMPv6).
 */
#ifndef FFNET_WIRE_ICMP6_H
#define FFNET_WIRE_ICMP6_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "stack/wire/endian.h"
#include "stack/wire/eth.h"
#include "stack/wire/ipv6.h"
#include "stack/wire/wire.h"

#define ICMP6_HDR_LEN 8
/** The most of the invoking packet an error quotes: the error packet stays within IPV6_MIN_MTU
 *  (RFC 4443 §2.4 (c)). */
#define ICMP6_ERROR_MAX_QUOTE (IPV6_MIN_MTU - IPV6_HDR_LEN - ICMP6_HDR_LEN)

/* Error messages (type < 128, RFC 4443 §2.1). */
#define ICMP6_DST_UNREACH 1
#define ICMP6_DST_UNREACH_NOROUTE 0
#define ICMP6_DST_UNREACH_ADMIN 1
#define ICMP6_DST_UNREACH_BEYOND_SCOPE 2
#define ICMP6_DST_UNREACH_ADDR 3
#define ICMP6_DST_UNREACH_PORT 4
#define ICMP6_PACKET_TOO_BIG 2
#define ICMP6_TIME_EXCEEDED 3
#define ICMP6_TIME_EXCEED_HOPLIMIT 0
#define ICMP6_TIME_EXCEED_REASSEMBLY 1
#define ICMP6_PARAM_PROB 4
#define ICMP6_PARAMPROB_HEADER 0     /**< erroneous header field */
#define ICMP6_PARAMPROB_NEXTHEADER 1 /**< unrecognized Next Header type */
#define ICMP6_PARAMPROB_OPTION 2     /**< unrecognized IPv6 option */
#define ICMP6_PARAMPROB_FRAG_INCOMPLETE 3 /**< first fragment has an incomplete header chain (RFC 7112) */

/* Informational messages. */
#define ICMP6_ECHO_REQUEST 128
#define ICMP6_ECHO_REPLY 129
#define MLD_QUERY 130
#define MLD_V1_REPORT 131
#define MLD_V1_DONE 132
#define ND_ROUTER_SOLICIT 133
#define ND_ROUTER_ADVERT 134
#define ND_NEIGHBOR_SOLICIT 135
#define ND_NEIGHBOR_ADVERT 136
#define ND_REDIRECT 137
#define MLD_V2_REPORT 143

/** True for an error message type (RFC 4443 §2.1: the high-order bit clear). */
static inline bool icmp6_is_error(uint8_t type) { return type < 128; }

/** The ICMPv6 header as it lies on the wire. */
struct icmp6_hdr {
	uint8_t type;
	uint8_t code;
	be16_t checksum; /**< over the IPv6 pseudo-header and the whole message */
	be32_t data;     /**< echo: identifier and sequence; Packet Too Big: MTU; Parameter Problem: pointer */
} __attribute__((packed));

/** Validated representation. `body` points into the parsed buffer (the echo data, the quoted
 *  packet of an error, the rest of an ND or MLD message). */
struct icmp6_repr {
	uint8_t type;
	uint8_t code;
	uint16_t ident;  /**< echo: the high 16 bits of the header's data word */
	uint16_t seq;    /**< echo: the low 16 bits */
	uint32_t param;  /**< the header's data word: the MTU of Packet Too Big, the pointer of Parameter Problem */
	const uint8_t *body; /**< after the 8-byte header */
	size_t body_len;
};

enum wire_result icmp6_check_len(const uint8_t *buf, size_t len);
/** Parses a whole ICMPv6 message of `len` bytes (the upper-layer part of a packet from src to dst).
 *  Refuses: WIRE_TRUNCATED (< 8), WIRE_BAD_CHECKSUM (unless caps->rx_l4_verified). Unknown types
 *  parse (type/code set) for the caller to count or drop (RFC 4443 §2.4 (a), (b)). */
enum wire_result icmp6_repr_parse(const uint8_t *buf, size_t len, const struct ip6_addr *src,
				  const struct ip6_addr *dst, const struct wire_csum_caps *caps,
				  struct icmp6_repr *out);
/** Writes header + body (the body may already be in place at buf + 8: memmove-safe) and the
 *  checksum. The data word is ident/seq for echo types, `param` otherwise. Returns the message
 *  length, or 0 when cap is too small or the message exceeds IPV6_MAX_PAYLOAD. */
size_t icmp6_repr_emit(const struct icmp6_repr *r, const struct ip6_addr *src, const struct ip6_addr *dst,
		       uint8_t *buf, size_t cap);
/** An echo request or reply (type) with `data` (memmove-safe, as icmp6_repr_emit). Returns the
 *  message length, or 0. */
size_t icmp6_echo_emit(uint8_t type, uint16_t ident, uint16_t seq, const uint8_t *data, size_t data_len,
		       const struct ip6_addr *src, const struct ip6_addr *dst, uint8_t *buf, size_t cap);
/**
 * An error message quoting the invoking packet (`quoted`, from its IPv6 header on; memmove-safe):
 * as much as keeps the error packet within IPV6_MIN_MTU (ICMP6_ERROR_MAX_QUOTE bytes, RFC 4443
 * §2.4 (c)) and within cap. Returns the message length, or 0 when cap < 8.
 */
size_t icmp6_error_emit(uint8_t type, uint8_t code, uint32_t param, const uint8_t *quoted, size_t quoted_len,
			const struct ip6_addr *src, const struct ip6_addr *dst, uint8_t *buf, size_t cap);

/* Neighbor Discovery (RFC 4861). */

#define ND_RS_LEN 8   /**< a router solicitation before its options */
#define ND_RA_LEN 16  /**< a router advertisement before its options */
#define ND_NS_LEN 24  /**< a neighbor solicitation before its options */
#define ND_NA_LEN 24  /**< a neighbor advertisement before its options */
#define ND_HOP_LIMIT 255 /**< every ND message is sent with, and must arrive with, this hop limit */

#define ND_OPT_SLLA 1        /**< Source Link-Layer Address */
#define ND_OPT_TLLA 2        /**< Target Link-Layer Address */
#define ND_OPT_PREFIX_INFO 3 /**< Prefix Information */
#define ND_OPT_REDIRECTED 4  /**< Redirected Header */
#define ND_OPT_MTU 5
#define ND_OPT_LLA_LEN 8     /**< a link-layer address option for Ethernet (RFC 2464 §6) */
#define ND_OPT_PREFIX_INFO_LEN 32
#define ND_OPT_MTU_LEN 8

#define ND_NA_FLAG_ROUTER 0x80000000u
#define ND_NA_FLAG_SOLICITED 0x40000000u
#define ND_NA_FLAG_OVERRIDE 0x20000000u
#define ND_RA_FLAG_MANAGED 0x80
#define ND_RA_FLAG_OTHER 0x40
#define ND_PREFIX_FLAG_ONLINK 0x80
#define ND_PREFIX_FLAG_AUTONOMOUS 0x40
#define ND_INFINITE_LIFETIME 0xffffffffu

#define ND_MAX_PREFIXES 4 /**< Prefix Information options kept from one RA; more are counted and dropped */

/** One Prefix Information option (RFC 4861 §4.6.2). */
struct nd_prefix {
	struct ip6_addr prefix; /**< as sent (bits beyond len are not cleared) */
	uint8_t len;            /**< 0..128 */
	bool onlink;            /**< L flag */
	bool autonomous;        /**< A flag: usable for SLAAC (RFC 4862 §5.5.3) */
	uint32_t valid_s;       /**< valid lifetime, s (ND_INFINITE_LIFETIME: forever) */
	uint32_t preferred_s;   /**< preferred lifetime, s */
};

/**
 * A validated router solicitation, router advertisement, neighbor solicitation or neighbor
 * advertisement and the options a host uses. Fields a message type does not carry are zero.
 */
struct nd_repr {
	uint8_t type;           /**< ND_ROUTER_SOLICIT .. ND_NEIGHBOR_ADVERT */
	struct ip6_addr target; /**< NS, NA */
	bool router, solicited, override; /**< NA flags */
	bool has_slla, has_tlla; /**< an Ethernet link-layer address option was present */
	struct eth_addr slla;   /**< Source Link-Layer Address (RS, RA, NS) */
	struct eth_addr tlla;   /**< Target Link-Layer Address (NA) */
	/* RA */
	uint8_t cur_hop_limit;  /**< 0: unspecified */
	bool managed, other;    /**< M and O flags */
	uint16_t router_lifetime; /**< s; 0: not a default router */
	uint32_t reachable_ms;  /**< 0: unspecified */
	uint32_t retrans_ms;    /**< 0: unspecified */
	uint32_t mtu;           /**< the MTU option; 0: none */
	unsigned n_prefixes;
	unsigned n_prefixes_dropped; /**< Prefix Information options beyond ND_MAX_PREFIXES */
	struct nd_prefix prefixes[ND_MAX_PREFIXES];
};

/**
 * Parses and validates an ND message: `icmp6` and `len` are the whole ICMPv6 message, already
 * accepted by icmp6_repr_parse (checksum), `ip` the packet it came in. Refuses, with RFC 4861
 * §6.1.1, §6.1.2, §7.1.1, §7.1.2: WIRE_UNSUPPORTED (not RS, RA, NS or NA), WIRE_BAD_HOPLIMIT (hop
 * limit not 255), WIRE_TRUNCATED (shorter than the type's fixed part), WIRE_MALFORMED (code not 0;
 * an option of length 0 or running past the message; an RA whose source is not link-local; an NS
 * or NA whose target is multicast; an NS from :: to other than a solicited-node group or with a
 * Source Link-Layer Address; an RS from :: with one; an NA to a multicast destination with S set).
 * Options of other lengths than Ethernet's (link-layer addresses of length ≠ 1, prefix information
 * of length ≠ 4, MTU of length ≠ 1) and unknown options are skipped (RFC 4861 §4.6, §6.1).
 */
enum wire_result nd_repr_parse(const uint8_t *icmp6, size_t len, const struct ipv6_repr *ip,
			       struct nd_repr *out);
/** A neighbor solicitation for `target`, with a Source Link-Layer Address option unless slla is NULL
 *  (RFC 4861 §4.3: none from ::, as in DAD). Returns the message length (24 or 32), or 0. */
size_t nd_ns_emit(const struct ip6_addr *target, const struct eth_addr *slla, const struct ip6_addr *src,
		  const struct ip6_addr *dst, uint8_t *buf, size_t cap);
/** A neighbor advertisement for `target` with the R, S and O flags and a Target Link-Layer Address
 *  option unless tlla is NULL. Returns the message length (24 or 32), or 0. */
size_t nd_na_emit(const struct ip6_addr *target, const struct eth_addr *tlla, bool router, bool solicited,
		  bool override, const struct ip6_addr *src, const struct ip6_addr *dst, uint8_t *buf, size_t cap);
/** A router solicitation with a Source Link-Layer Address option unless slla is NULL (none from ::,
 *  RFC 4861 §4.1). Returns the message length (8 or 16), or 0. */
size_t nd_rs_emit(const struct eth_addr *slla, const struct ip6_addr *src, const struct ip6_addr *dst,
		  uint8_t *buf, size_t cap);

/* Multicast Listener Discovery (RFC 2710, RFC 3810). */

#define MLD_V1_LEN 24            /**< every MLDv1 message; an MLDv1 query */
#define MLDV2_QUERY_LEN 28       /**< an MLDv2 query without sources */
#define MLDV2_REPORT_HDR_LEN 8   /**< an MLDv2 report before its records */
#define MLDV2_RECORD_HDR_LEN 20  /**< a multicast address record before its sources */
#define MLD_HOP_LIMIT 1          /**< every MLD message is sent with, and must arrive with, this hop limit */
#define MLD_IPV6_HDR_LEN 48      /**< the IPv6 header and the Hop-by-Hop header with Router Alert */

/** Multicast address record types (RFC 3810 §5.2.12): the values of enum igmpv3_record_type. */
enum mldv2_record_type {
	MLDV2_MODE_IS_INCLUDE = 1,
	MLDV2_MODE_IS_EXCLUDE = 2,
	MLDV2_CHANGE_TO_INCLUDE_MODE = 3,
	MLDV2_CHANGE_TO_EXCLUDE_MODE = 4,
	MLDV2_ALLOW_NEW_SOURCES = 5,
	MLDV2_BLOCK_OLD_SOURCES = 6,
};

/** A validated MLD query. */
struct mld_query_repr {
	bool v2;                 /**< MLDv2 by length (RFC 3810 §8.1: 24 bytes v1, ≥ 28 v2) */
	uint32_t max_resp_ms;    /**< maximum response delay, ms (v2: the Maximum Response Code decoded, §5.1.3) */
	struct ip6_addr group;   /**< :: in a general query */
	bool s_flag;             /**< v2: suppress router-side processing (§5.1.7) */
	uint8_t qrv;             /**< v2: querier's robustness variable, 0..7 */
	uint32_t qqi_s;          /**< v2: querier's query interval, s (QQIC decoded, §5.1.9) */
	uint16_t n_sources;      /**< v2 */
	const uint8_t *sources;  /**< v2: n_sources addresses in the parsed buffer (mld_source()) */
};

/** Copies source i of a parsed query to out. */
static inline void mld_source(const uint8_t *sources, unsigned i, struct ip6_addr *out)
{
	memcpy(out->b, sources + 16 * (size_t)i, 16);
}

/**
 * Parses an MLD query: `icmp6` and `len` are the whole ICMPv6 message, already accepted by
 * icmp6_repr_parse, `ip` the packet it came in. Refuses, with RFC 3810 §6.2 and §8.1:
 * WIRE_UNSUPPORTED (not a query), WIRE_BAD_HOPLIMIT (hop limit not 1), WIRE_MALFORMED (source not
 * link-local, no Router Alert, a group that is neither :: nor multicast), WIRE_BAD_LENGTH (25..27
 * bytes, or sources running past len), WIRE_TRUNCATED (< 24).
 */
enum wire_result mld_query_parse(const uint8_t *icmp6, size_t len, const struct ipv6_repr *ip,
				 struct mld_query_repr *out);

/** An MLDv1 report or done (type) for `group`. Returns MLD_V1_LEN, or 0 when cap is too small. */
size_t mldv1_emit(uint8_t type, const struct ip6_addr *group, const struct ip6_addr *src,
		  const struct ip6_addr *dst, uint8_t *buf, size_t cap);

/** One multicast address record of an MLDv2 report. */
struct mld_record {
	uint8_t type; /**< enum mldv2_record_type */
	struct ip6_addr group;
	unsigned n_sources;
	const struct ip6_addr *sources;
};

/** An MLDv2 report under construction: mldv2_report_begin, _add per record, _finish. */
struct mldv2_report_builder {
	uint8_t *buf;
	size_t cap;
	size_t len;
	uint16_t n_records;
};
/** Starts a report in buf. False when cap cannot hold the report header. */
bool mldv2_report_begin(struct mldv2_report_builder *b, uint8_t *buf, size_t cap);
/** Appends a record. False (nothing written) when it does not fit. */
bool mldv2_report_add(struct mldv2_report_builder *b, const struct mld_record *rec);
/** Writes the record count and the checksum (over the pseudo-header from src to dst). Returns the
 *  report's length. */
size_t mldv2_report_finish(struct mldv2_report_builder *b, const struct ip6_addr *src, const struct ip6_addr *dst);
/** A whole report of n records. Returns its length, or 0 when they do not all fit in cap. */
size_t mldv2_report_emit(const struct mld_record *recs, unsigned n, const struct ip6_addr *src,
			 const struct ip6_addr *dst, uint8_t *buf, size_t cap);

/** Decodes an MLDv2 Maximum Response Code to ms: values ≥ 32768 are floating point (RFC 3810 §5.1.3). */
uint32_t mldv2_mrc_decode(uint16_t code);
/** Encodes ms as a Maximum Response Code, rounding down to the nearest representable value. */
uint16_t mldv2_mrc_encode(uint32_t ms);

/**
 * Writes the IPv6 header and Hop-by-Hop header every MLD message travels in: the fields of `r`
 * (src, dst, hop_limit, tclass, flow_label; payload_len is the MLD message's length) followed by a
 * Hop-by-Hop header with the Router Alert option for MLD (RFC 2711; RFC 3810 §5 and RFC 2710 §3
 * require it) and Next Header ICMPv6; the payload length field is 8 + r->payload_len. Returns
 * MLD_IPV6_HDR_LEN, or 0 when cap is too small.
 */
size_t mld_ipv6_emit(const struct ipv6_repr *r, uint8_t *buf, size_t cap);

#endif
