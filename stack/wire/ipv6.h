/*
 * IPv6 headers (RFC 8200) and addresses (RFC 4291). Parsing validates the version and the payload
 * length against the buffer, then walks the extension header chain (Hop-by-Hop, Routing, Fragment,
 * Destination Options) as RFC 8200 §4 asks of a host, reporting for each refusal whether and how an
 * ICMPv6 Parameter Problem answers it. Emit writes the fixed header and the Fragment header; the
 * address helpers format (RFC 5952), parse (inet_pton rules) and derive the addresses a host needs
 * (solicited-node groups, EUI-64 link-local addresses, IPv4-mapped addresses).
 */
#ifndef FFNET_WIRE_IPV6_H
#define FFNET_WIRE_IPV6_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include "stack/wire/endian.h"
#include "stack/wire/eth.h"
#include "stack/wire/wire.h"

#define IPV6_HDR_LEN 40        /**< the fixed header */
#define IPV6_MIN_MTU 1280      /**< every link carries this much (RFC 8200 §5) */
#define IPV6_MAX_PAYLOAD 65535 /**< the payload length field's range (no jumbograms, RFC 2675) */
#define IPV6_FRAG_HDR_LEN 8    /**< the Fragment header */
#define IPV6_FRAG_OFFSET_MASK 0xfff8 /**< offset bits of the Fragment header's offset field (bytes) */
#define IPV6_FRAG_MF 0x0001          /**< the M flag of the Fragment header's offset field */

/* Next Header values (IANA "Assigned Internet Protocol Numbers"). */
#define IPV6_NH_HOPOPTS 0   /**< Hop-by-Hop Options header */
#define IPV6_NH_TCP 6
#define IPV6_NH_UDP 17
#define IPV6_NH_ROUTING 43  /**< Routing header */
#define IPV6_NH_FRAGMENT 44 /**< Fragment header */
#define IPV6_NH_ICMPV6 58
#define IPV6_NH_NONE 59     /**< No Next Header (RFC 8200 §4.7) */
#define IPV6_NH_DSTOPTS 60  /**< Destination Options header */

/* Options of the Hop-by-Hop and Destination Options headers (RFC 8200 §4.2, RFC 2711). */
#define IPV6_OPT_PAD1 0
#define IPV6_OPT_PADN 1
#define IPV6_OPT_ROUTER_ALERT 5
#define IPV6_ROUTER_ALERT_MLD 0 /**< Router Alert value for MLD (RFC 2711 §2.1) */

/* Multicast scopes (RFC 4291 §2.7, RFC 7346). */
#define IP6_SCOPE_INTERFACE 0x1
#define IP6_SCOPE_LINK 0x2
#define IP6_SCOPE_REALM 0x3
#define IP6_SCOPE_ADMIN 0x4
#define IP6_SCOPE_SITE 0x5
#define IP6_SCOPE_ORG 0x8
#define IP6_SCOPE_GLOBAL 0xe

#define IP6_ADDRSTRLEN 46 /**< the longest formatted address with its NUL, as INET6_ADDRSTRLEN */

/** An IPv6 address, network byte order (as on the wire). */
struct ip6_addr {
	uint8_t b[16];
};

/** The fixed IPv6 header as it lies on the wire; extension headers may follow. */
struct ipv6_hdr {
	be32_t vtf;         /**< version (6) in the top 4 bits, traffic class (8), flow label (20) */
	be16_t payload_len; /**< bytes after this fixed header, extension headers included */
	uint8_t next_header;
	uint8_t hop_limit;
	struct ip6_addr src;
	struct ip6_addr dst;
} __attribute__((packed));

/** The Fragment header as it lies on the wire (RFC 8200 §4.5). */
struct ipv6_frag_hdr {
	uint8_t next_header; /**< the header after the fragmentable part's start */
	uint8_t reserved;
	be16_t offset_flags; /**< offset in 8-byte units in the top 13 bits, 2 reserved bits, M flag */
	be32_t id;           /**< identification, for reassembly */
} __attribute__((packed));

/** Validated representation of a header and its extension header chain. */
struct ipv6_repr {
	struct ip6_addr src;
	struct ip6_addr dst;
	/** The upper-layer protocol after the extension headers; for a fragment the Fragment header's
	 *  Next Header (the headers after it belong to the fragmentable part, RFC 8200 §4.5).
	 *  IPV6_NH_NONE: nothing follows (RFC 8200 §4.7), the caller drops quietly. */
	uint8_t next_header;
	uint8_t hop_limit;    /**< not refused when 0: a host delivers it (RFC 8200 §3 bounds forwarding) */
	uint8_t tclass;       /**< traffic class (DSCP and ECN) */
	uint32_t flow_label;  /**< 20 bits */
	uint16_t payload_len; /**< the header's field: bytes after the fixed header */
	uint16_t hdr_len;     /**< fixed header + every extension header before the upper layer (or the
	                           fragment's data): the upper layer starts at buf + hdr_len */
	uint16_t nh_off;      /**< offset of the Next Header field naming next_header (6: the fixed header's) */
	bool fragment;        /**< a Fragment header was present (an atomic fragment too: offset 0, !more_frags) */
	bool more_frags;      /**< the M flag */
	uint16_t frag_offset; /**< bytes */
	uint32_t frag_id;
	uint16_t unfrag_len;   /**< bytes before the Fragment header (fixed + per-fragment extension headers) */
	uint16_t frag_hdr_off; /**< offset of the Fragment header from the start (equals unfrag_len) */
	uint16_t frag_nh_off;  /**< offset of the Next Header field naming the Fragment header, which
	                            reassembly rewrites to the Fragment header's own Next Header */
	uint16_t router_alert; /**< the Hop-by-Hop Router Alert value + 1 (0: none); MLD requires it */
};

/**
 * Why an extension header chain was refused, for the ICMPv6 Parameter Problem (RFC 4443 §3.4) that
 * RFC 8200 §4 asks for. The caller sends it when `send` is set, and then only to a unicast
 * destination when `unless_multicast` is set (RFC 4443 §2.4 (e.3); RFC 8200 §4.2 action 10 is the
 * exception that answers multicast too).
 */
struct ipv6_param_problem {
	bool send;             /**< false: drop quietly */
	uint8_t code;          /**< ICMP6_PARAMPROB_* */
	uint32_t pointer;      /**< offset of the offending octet from the start of the IPv6 header */
	bool unless_multicast; /**< send only when the packet's destination was not multicast */
};

enum wire_result ipv6_check_len(const uint8_t *buf, size_t len);
/**
 * Parses an untrusted packet of `len` available bytes (padding beyond the payload length is
 * ignored). Refuses, in this order: WIRE_TRUNCATED (< 40 bytes), WIRE_BAD_VERSION (not 6),
 * WIRE_BAD_LENGTH (payload length > len - 40), WIRE_BAD_EXTHDR (the chain refused; `pp`, when not
 * NULL, says whether and how to answer).
 *
 * The walk (RFC 8200 §4): Hop-by-Hop only right after the fixed header (elsewhere: code 1 at the
 * Next Header field naming it); options per §4.2 (Pad1, PadN, Router Alert in Hop-by-Hop; an
 * unknown option's two high bits choose skip, drop, answer, answer unless multicast, code 2 at the
 * option type; an option running past its header drops quietly); Routing with Segments Left 0 is
 * skipped, otherwise code 0 at the Routing Type (a host forwards no routing header; RFC 5095 for
 * type 0); Fragment ends the walk (a fragment whose length is not a multiple of 8 while M is set:
 * code 0 at the Payload Length; offset + length beyond 65535: code 0 at the Fragment Offset; a
 * first fragment without the whole header chain: code 3, RFC 7112); a Next Header that is neither
 * an extension header nor UDP, ICMPv6 or No Next Header: code 1 at the field naming it. A header
 * running past the payload drops quietly. Hop limit 0 is not refused here.
 */
enum wire_result ipv6_repr_parse(const uint8_t *buf, size_t len, struct ipv6_repr *out,
				 struct ipv6_param_problem *pp);
/**
 * ipv6_repr_parse for a packet of `len` bytes of which only the first `head` are contiguous at buf
 * (the first segment of a chained mbuf: a jumbo frame): lengths are checked against `len`, the header
 * walk reads no further than `head`, and a header chain running past it is refused as WIRE_BAD_EXTHDR
 * (dropped quietly).
 */
enum wire_result ipv6_repr_parse_head(const uint8_t *buf, size_t head, size_t len, struct ipv6_repr *out,
				      struct ipv6_param_problem *pp);
/** Writes the 40-byte fixed header from src, dst, next_header, hop_limit, tclass, flow_label and
 *  payload_len (the other fields are ignored). Returns IPV6_HDR_LEN, or 0 when cap < 40. */
size_t ipv6_repr_emit(const struct ipv6_repr *r, uint8_t *buf, size_t cap);
/** Writes an 8-byte Fragment header: `offset` in bytes (a multiple of 8), the M flag, the
 *  identification. Returns IPV6_FRAG_HDR_LEN, or 0 when cap < 8 or offset is not a multiple of 8. */
size_t ipv6_frag_hdr_emit(uint8_t next_header, uint16_t offset, bool more, uint32_t id, uint8_t *buf,
			  size_t cap);

/** ::, the unspecified address. */
extern const struct ip6_addr IP6_ANY;
/** ::1. */
extern const struct ip6_addr IP6_LOOPBACK;
/** ff02::1, the link-local all-nodes group. */
extern const struct ip6_addr IP6_ALL_NODES;
/** ff02::2, the link-local all-routers group. */
extern const struct ip6_addr IP6_ALL_ROUTERS;
/** ff02::16, where MLDv2 reports go (RFC 3810 §5.2.14). */
extern const struct ip6_addr IP6_ALL_MLDV2_ROUTERS;

/** True for ::. */
static inline bool ip6_is_unspecified(const struct ip6_addr *a)
{
	static const uint8_t zero[16] = { 0 };
	return memcmp(a->b, zero, 16) == 0;
}
/** True for ::1. */
static inline bool ip6_is_loopback(const struct ip6_addr *a)
{
	static const uint8_t one[16] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1 };
	return memcmp(a->b, one, 16) == 0;
}
/** RFC 4291 §2.5.2-3: an IPv6 datagram from src to dst that must never leave for a device — an
 *  unspecified (::) or loopback (::1) source, or a loopback destination. (ND and MLD, which may send
 *  from :: by RFC 4862 and RFC 3810, do not leave through ipv6_output.) */
static inline bool ip6_martian_on_wire(const struct ip6_addr *src, const struct ip6_addr *dst)
{
	return ip6_is_unspecified(src) || ip6_is_loopback(src) || ip6_is_loopback(dst);
}
/** True for ff00::/8. */
static inline bool ip6_is_multicast(const struct ip6_addr *a) { return a->b[0] == 0xff; }
/** True for fe80::/10 (link-local unicast). */
static inline bool ip6_is_linklocal(const struct ip6_addr *a)
{
	return a->b[0] == 0xfe && (a->b[1] & 0xc0) == 0x80;
}
/** True for ::ffff:0:0/96 (IPv4-mapped, RFC 4291 §2.5.5.2). */
static inline bool ip6_is_v4mapped(const struct ip6_addr *a)
{
	static const uint8_t prefix[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
	return memcmp(a->b, prefix, 12) == 0;
}
/** True for ff02::1:ff00:0/104, a solicited-node group (RFC 4291 §2.7.1). */
static inline bool ip6_is_solicited_node(const struct ip6_addr *a)
{
	static const uint8_t prefix[13] = { 0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01, 0xff };
	return memcmp(a->b, prefix, 13) == 0;
}
/** The scope of a multicast address (IP6_SCOPE_*, the low 4 bits of its second octet). */
static inline uint8_t ip6_mcast_scope(const struct ip6_addr *a) { return a->b[1] & 0x0f; }
/** True when the two addresses are equal. */
static inline bool ip6_eq(const struct ip6_addr *a, const struct ip6_addr *b)
{
	return memcmp(a->b, b->b, 16) == 0;
}
/** True when the first `prefixlen` bits (0..128) of a and b agree. */
bool ip6_prefix_eq(const struct ip6_addr *a, const struct ip6_addr *b, unsigned prefixlen);
/** Length in bits (0..128) of the prefix a and b share. */
unsigned ip6_common_prefix_len(const struct ip6_addr *a, const struct ip6_addr *b);
/** Keeps the first `prefixlen` bits of a and clears the rest. */
void ip6_mask(const struct ip6_addr *a, unsigned prefixlen, struct ip6_addr *out);

/** The solicited-node group of a: ff02::1:ff + its low 24 bits (RFC 4291 §2.7.1). */
void ip6_solicited_node(const struct ip6_addr *a, struct ip6_addr *out);
/** The first 64 bits of `prefix` and the modified EUI-64 interface identifier of `mac` (RFC 4291
 *  §2.5.1 and App. A: ff:fe in the middle, universal/local bit inverted); the SLAAC address of a
 *  /64 prefix (RFC 4862 §5.5.3). */
void ip6_from_prefix_eui64(const struct ip6_addr *prefix, const struct eth_addr *mac, struct ip6_addr *out);
/** The EUI-64 link-local address of `mac`: fe80::/64 + its modified EUI-64 identifier. */
void ip6_linklocal_eui64(const struct eth_addr *mac, struct ip6_addr *out);
/** ::ffff:a.b.c.d for a host-order IPv4 address (RFC 4291 §2.5.5.2). */
void ip6_from_v4mapped(uint32_t v4, struct ip6_addr *out);
/** The low 32 bits of a, host order: the IPv4 address of an IPv4-mapped address. */
uint32_t ip6_to_v4(const struct ip6_addr *a);

/** Formats a as RFC 5952 §4 recommends (lower case, leading zeros dropped, the longest run of two
 *  or more zero groups — the first when tied — as "::"; IPv4-mapped as ::ffff:a.b.c.d, §5; and,
 *  as inet_ntop and Node's rinfo.address do, ::a.b.c.d when only the first six groups are zero)
 *  into out (at least IP6_ADDRSTRLEN bytes). Returns out. */
char *ip6_format(const struct ip6_addr *a, char *out);
/** Parses text as inet_pton(AF_INET6) does: eight groups of 1..4 hex digits, at most one "::",
 *  an optional trailing dotted quad in place of the last two groups; no scope id, no prefix
 *  length, no spaces. Returns 0, or -1 (out untouched). */
int ip6_parse(const char *s, struct ip6_addr *out);

#endif
