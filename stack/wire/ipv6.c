/*
 * IPv6 headers (RFC 8200), the extension header walk a host performs, and IPv6 addresses.
 *
 * Contract: ipv6_repr_parse() trusts only the payload length within `len` (link-layer padding is
 * ignored) and walks the extension headers in the order they lie, stopping at the upper-layer
 * header or at a Fragment header (what follows it belongs to the fragmentable part, parsed again
 * after reassembly). Each refusal of the chain says in struct ipv6_param_problem whether RFC 8200
 * asks for a Parameter Problem and where it points. The address helpers need no lookup tables.
 */
#include "stack/wire/ipv6.h"

#include <stdio.h>

#include "stack/wire/hex.h"
#include "stack/wire/icmp6.h"
#include "stack/wire/ipv4.h"

#define OFF(field) offsetof(struct ipv6_hdr, field)
#define FOFF(field) offsetof(struct ipv6_frag_hdr, field)

const struct ip6_addr IP6_ANY = { { 0 } };
const struct ip6_addr IP6_LOOPBACK = { { [15] = 1 } };
const struct ip6_addr IP6_ALL_NODES = { { 0xff, 0x02, [15] = 1 } };
const struct ip6_addr IP6_ALL_ROUTERS = { { 0xff, 0x02, [15] = 2 } };
const struct ip6_addr IP6_ALL_MLDV2_ROUTERS = { { 0xff, 0x02, [15] = 0x16 } };

/** Upper-layer header bytes a first fragment must hold (RFC 7112 §5), or 0 when not checked. */
static unsigned upper_hdr_len(uint8_t nh)
{
	switch (nh) {
	case IPV6_NH_UDP: return 8;
	case IPV6_NH_ICMPV6: return ICMP6_HDR_LEN;
	default: return 0;
	}
}

static bool is_ext_hdr(uint8_t nh)
{
	return nh == IPV6_NH_HOPOPTS || nh == IPV6_NH_ROUTING || nh == IPV6_NH_FRAGMENT || nh == IPV6_NH_DSTOPTS;
}

static bool is_known_upper(uint8_t nh)
{
	return nh == IPV6_NH_UDP || nh == IPV6_NH_ICMPV6 || nh == IPV6_NH_NONE;
}

/** Length of the extension header at off, or 0 when it runs past end. Every walked header but the
 *  Fragment header has its length in 8-octet units after the first 8 (RFC 8200 §4.3, §4.4, §4.6). */
static unsigned ext_len(const uint8_t *buf, unsigned off, unsigned end, uint8_t nh)
{
	if (end - off < 8)
		return 0;
	unsigned l = nh == IPV6_NH_FRAGMENT ? IPV6_FRAG_HDR_LEN : (buf[off + 1] + 1u) * 8;
	return l <= end - off ? l : 0;
}

static enum wire_result refuse(struct ipv6_param_problem *pp, uint8_t code, uint32_t pointer, bool unless_multicast)
{
	*pp = (struct ipv6_param_problem){ true, code, pointer, unless_multicast };
	return WIRE_BAD_EXTHDR;
}

/** Walks the options of a Hop-by-Hop or Destination Options header of `hlen` bytes at off. */
static enum wire_result walk_options(const uint8_t *buf, unsigned off, unsigned hlen, bool hop_by_hop,
				     struct ipv6_repr *out, struct ipv6_param_problem *pp)
{
	unsigned p = off + 2, end = off + hlen;

	while (p < end) {
		uint8_t type = buf[p];
		if (type == IPV6_OPT_PAD1) {
			p++;
			continue;
		}
		/* An option that runs past its header is not one RFC 8200 answers; Linux drops it too. */
		if (end - p < 2 || buf[p + 1] > end - p - 2)
			return WIRE_BAD_EXTHDR;
		unsigned olen = buf[p + 1];
		if (type == IPV6_OPT_PADN) {
			/* nothing to do */
		} else if (type == IPV6_OPT_ROUTER_ALERT && hop_by_hop) {
			/* RFC 2711 §2.1: "Length: 2" -- any other is malformed. */
			if (olen != 2)
				return WIRE_BAD_EXTHDR;
			out->router_alert = (uint16_t)(rd_be16(buf + p + 2) + 1);
		} else {
			/* RFC 8200 §4.2: the two high-order bits of an unrecognized option's type say
			 * what to do: skip it; discard; discard and answer with Parameter Problem code 2;
			 * the same only when the destination was not multicast. */
			switch (type >> 6) {
			case 0: break;
			case 1: return WIRE_BAD_EXTHDR;
			case 2: return refuse(pp, ICMP6_PARAMPROB_OPTION, p, false);
			default: return refuse(pp, ICMP6_PARAMPROB_OPTION, p, true);
			}
		}
		p += 2 + olen;
	}
	return WIRE_OK;
}

/** RFC 7112 §5: a first fragment must hold every header through the upper-layer header. */
static bool first_fragment_complete(const uint8_t *buf, unsigned off, unsigned end, uint8_t nh)
{
	while (is_ext_hdr(nh)) {
		unsigned l = ext_len(buf, off, end, nh);
		if (!l)
			return false;
		nh = buf[off];
		off += l;
	}
	return end - off >= upper_hdr_len(nh);
}

/** The Fragment header at off: fills the fragment fields and checks what RFC 8200 §4.5 asks. */
static enum wire_result parse_fragment(const uint8_t *buf, unsigned off, unsigned end, unsigned walk_end,
				       struct ipv6_repr *out, struct ipv6_param_problem *pp)
{
	uint16_t of = rd_be16(buf + off + FOFF(offset_flags));
	unsigned frag_len = end - off - IPV6_FRAG_HDR_LEN;

	out->fragment = true;
	out->more_frags = of & IPV6_FRAG_MF;
	out->frag_offset = of & IPV6_FRAG_OFFSET_MASK;
	out->frag_id = rd_be32(buf + off + FOFF(id));
	out->unfrag_len = (uint16_t)off;
	out->frag_hdr_off = (uint16_t)off;
	out->frag_nh_off = out->nh_off;
	out->next_header = buf[off + FOFF(next_header)];
	out->nh_off = (uint16_t)(off + FOFF(next_header));
	out->hdr_len = (uint16_t)(off + IPV6_FRAG_HDR_LEN);

	/* RFC 8200 §4.5: "If the length of a fragment, as derived from the fragment packet's Payload
	 * Length field, is not a multiple of 8 octets and the M flag of that fragment is 1, then that
	 * fragment must be discarded and an ICMP Parameter Problem, Code 0, message should be sent to
	 * the source of the fragment, pointing to the Payload Length field of the fragment packet." */
	if (out->more_frags && frag_len % 8)
		return refuse(pp, ICMP6_PARAMPROB_HEADER, OFF(payload_len), true);
	/* "If the length and offset of a fragment are such that the Payload Length of the packet
	 * reassembled from that fragment would exceed 65,535 octets, then that fragment must be
	 * discarded and an ICMP Parameter Problem, Code 0, message should be sent to the source of the
	 * fragment, pointing to the Fragment Offset field of the fragment packet." */
	if (out->unfrag_len - IPV6_HDR_LEN + out->frag_offset + frag_len > IPV6_MAX_PAYLOAD)
		return refuse(pp, ICMP6_PARAMPROB_HEADER, off + FOFF(offset_flags), true);
	/* RFC 8200 §4.5 and RFC 7112 §5: "If the first fragment does not include all headers through
	 * an Upper-Layer header, then that fragment should be discarded and an ICMP Parameter Problem,
	 * Code 3, message should be sent to the source of the fragment, with the Pointer field set to
	 * zero." An atomic fragment (RFC 6946) is a whole packet and held to the same. */
	if (out->frag_offset == 0 && !first_fragment_complete(buf, out->hdr_len, walk_end, out->next_header))
		return refuse(pp, ICMP6_PARAMPROB_FRAG_INCOMPLETE, 0, true);
	return WIRE_OK;
}

enum wire_result ipv6_check_len(const uint8_t *buf, size_t len)
{
	if (len < IPV6_HDR_LEN)
		return WIRE_TRUNCATED;
	if (rd_be16(buf + OFF(payload_len)) > len - IPV6_HDR_LEN)
		return WIRE_BAD_LENGTH;
	return WIRE_OK;
}

enum wire_result ipv6_repr_parse(const uint8_t *buf, size_t len, struct ipv6_repr *out,
				 struct ipv6_param_problem *pp)
{
	return ipv6_repr_parse_head(buf, len, len, out, pp);
}

enum wire_result ipv6_repr_parse_head(const uint8_t *buf, size_t head, size_t len, struct ipv6_repr *out,
				      struct ipv6_param_problem *pp)
{
	struct ipv6_param_problem ignored;
	if (!pp)
		pp = &ignored;
	pp->send = false;

	if (len < IPV6_HDR_LEN || head < IPV6_HDR_LEN)
		return WIRE_TRUNCATED;
	if (buf[0] >> 4 != 6)
		return WIRE_BAD_VERSION;
	enum wire_result res = ipv6_check_len(buf, len);
	if (res != WIRE_OK)
		return res;

	uint32_t vtf = rd_be32(buf + OFF(vtf));
	*out = (struct ipv6_repr){
		.next_header = buf[OFF(next_header)],
		.hop_limit = buf[OFF(hop_limit)],
		.tclass = (uint8_t)(vtf >> 20),
		.flow_label = vtf & 0xfffff,
		.payload_len = rd_be16(buf + OFF(payload_len)),
		.nh_off = OFF(next_header),
	};
	memcpy(out->src.b, buf + OFF(src), 16);
	memcpy(out->dst.b, buf + OFF(dst), 16);

	unsigned end = IPV6_HDR_LEN + out->payload_len, off = IPV6_HDR_LEN;
	/* The walk reads only the contiguous part: no header may run past it. */
	unsigned walk_end = head < end ? (unsigned)head : end;
	/* Each header advances off by at least 8 bytes, so the walk ends within end / 8 steps. */
	for (;;) {
		uint8_t nh = out->next_header;
		if (!is_ext_hdr(nh)) {
			out->hdr_len = (uint16_t)off;
			/* RFC 8200 §4: a next header the node does not recognize is answered with
			 * Parameter Problem code 1 pointing at the field that names it. */
			if (!is_known_upper(nh))
				return refuse(pp, ICMP6_PARAMPROB_NEXTHEADER, out->nh_off, true);
			return WIRE_OK;
		}
		/* RFC 8200 §4.1: "The Hop-by-Hop Options header, when present, must immediately follow
		 * the IPv6 header"; elsewhere it is an unrecognized next header (Linux answers the same). */
		if (nh == IPV6_NH_HOPOPTS && off != IPV6_HDR_LEN)
			return refuse(pp, ICMP6_PARAMPROB_NEXTHEADER, out->nh_off, true);
		unsigned hlen = ext_len(buf, off, walk_end, nh);
		if (!hlen)
			return WIRE_BAD_EXTHDR;
		switch (nh) {
		case IPV6_NH_FRAGMENT:
			return parse_fragment(buf, off, end, walk_end, out, pp);
		case IPV6_NH_ROUTING:
			/* RFC 8200 §4.4: a Routing header with Segments Left 0 is ignored; otherwise a
			 * host, which forwards none, answers as for an unrecognized Routing Type (RFC
			 * 5095 §3 makes type 0 one). */
			if (buf[off + 3] != 0)
				return refuse(pp, ICMP6_PARAMPROB_HEADER, off + 2, true);
			break;
		default:
			res = walk_options(buf, off, hlen, nh == IPV6_NH_HOPOPTS, out, pp);
			if (res != WIRE_OK)
				return res;
			break;
		}
		out->next_header = buf[off];
		out->nh_off = (uint16_t)off;
		off += hlen;
	}
}

size_t ipv6_repr_emit(const struct ipv6_repr *r, uint8_t *buf, size_t cap)
{
	if (cap < IPV6_HDR_LEN)
		return 0;
	wr_be32(buf + OFF(vtf), 6u << 28 | (uint32_t)r->tclass << 20 | (r->flow_label & 0xfffff));
	wr_be16(buf + OFF(payload_len), r->payload_len);
	buf[OFF(next_header)] = r->next_header;
	buf[OFF(hop_limit)] = r->hop_limit;
	memcpy(buf + OFF(src), r->src.b, 16);
	memcpy(buf + OFF(dst), r->dst.b, 16);
	return IPV6_HDR_LEN;
}

size_t ipv6_frag_hdr_emit(uint8_t next_header, uint16_t offset, bool more, uint32_t id, uint8_t *buf, size_t cap)
{
	if (cap < IPV6_FRAG_HDR_LEN || offset % 8)
		return 0;
	buf[FOFF(next_header)] = next_header;
	buf[FOFF(reserved)] = 0;
	/* RFC 8200 §4.5: the offset in 8-octet units occupies the top 13 bits, so the byte offset
	 * (a multiple of 8) is the field with its low three bits (Res, M) clear. */
	wr_be16(buf + FOFF(offset_flags), (uint16_t)(offset | (more ? IPV6_FRAG_MF : 0)));
	wr_be32(buf + FOFF(id), id);
	return IPV6_FRAG_HDR_LEN;
}

unsigned ip6_common_prefix_len(const struct ip6_addr *a, const struct ip6_addr *b)
{
	for (unsigned i = 0; i < 16; i++) {
		uint8_t x = a->b[i] ^ b->b[i];
		if (x)
			return i * 8 + (unsigned)__builtin_clz(x) - 24;
	}
	return 128;
}

bool ip6_prefix_eq(const struct ip6_addr *a, const struct ip6_addr *b, unsigned prefixlen)
{
	return ip6_common_prefix_len(a, b) >= (prefixlen > 128 ? 128 : prefixlen);
}

void ip6_mask(const struct ip6_addr *a, unsigned prefixlen, struct ip6_addr *out)
{
	for (unsigned i = 0; i < 16; i++) {
		unsigned bits = prefixlen > i * 8 ? prefixlen - i * 8 : 0;
		out->b[i] = bits >= 8 ? a->b[i] : (uint8_t)(a->b[i] & (0xff00u >> bits));
	}
}

void ip6_solicited_node(const struct ip6_addr *a, struct ip6_addr *out)
{
	/* RFC 4291 §2.7.1: "formed by taking the low-order 24 bits of an address (unicast or anycast)
	 * and appending those bits to the prefix FF02:0:0:0:0:1:FF00::/104". */
	static const uint8_t prefix[13] = { 0xff, 0x02, [11] = 0x01, [12] = 0xff };
	uint8_t low[3];
	memcpy(low, a->b + 13, 3);
	memcpy(out->b, prefix, 13);
	memcpy(out->b + 13, low, 3);
}

void ip6_from_prefix_eui64(const struct ip6_addr *prefix, const struct eth_addr *mac, struct ip6_addr *out)
{
	/* RFC 4291 App. A: the 48-bit MAC with 0xfffe inserted between its company and extension
	 * identifiers, and the universal/local bit (0x02 of the first octet) inverted. */
	memmove(out->b, prefix->b, 8);
	out->b[8] = mac->b[0] ^ 0x02;
	out->b[9] = mac->b[1];
	out->b[10] = mac->b[2];
	out->b[11] = 0xff;
	out->b[12] = 0xfe;
	out->b[13] = mac->b[3];
	out->b[14] = mac->b[4];
	out->b[15] = mac->b[5];
}

void ip6_linklocal_eui64(const struct eth_addr *mac, struct ip6_addr *out)
{
	static const struct ip6_addr fe80 = { { 0xfe, 0x80 } };
	ip6_from_prefix_eui64(&fe80, mac, out);
}

void ip6_from_v4mapped(uint32_t v4, struct ip6_addr *out)
{
	memset(out->b, 0, 10);
	out->b[10] = 0xff;
	out->b[11] = 0xff;
	wr_be32(out->b + 12, v4);
}

uint32_t ip6_to_v4(const struct ip6_addr *a)
{
	return rd_be32(a->b + 12);
}

char *ip6_format(const struct ip6_addr *a, char *out)
{
	uint16_t w[8];
	for (int i = 0; i < 8; i++)
		w[i] = rd_be16(a->b + 2 * i);

	/* RFC 5952 §4.2: the longest run of two or more zero groups becomes "::" (§4.2.2: never a
	 * single one), the first of equal runs (§4.2.3). */
	int best = -1, best_len = 0;
	for (int i = 0; i < 8;) {
		int j = i;
		while (j < 8 && w[j] == 0)
			j++;
		if (j - i > best_len && j - i >= 2) {
			best = i;
			best_len = j - i;
		}
		i = j == i ? i + 1 : j;
	}

	/* RFC 5952 §5 writes IPv4-mapped addresses in mixed notation. inet_ntop, and so Node's
	 * rinfo.address through libuv, also writes an address whose first six groups alone are zero
	 * as ::a.b.c.d (the deprecated IPv4-compatible form); ffnet prints addresses as Node does. */
	bool mixed = best == 0 && (best_len == 6 || (best_len == 5 && w[5] == 0xffff));

	char *p = out;
	for (int i = 0; i < 8; i++) {
		if (i == best) {
			*p++ = ':';
			if (i + best_len == 8)
				*p++ = ':';
			i += best_len - 1;
			continue;
		}
		if (i)
			*p++ = ':';
		if (i == 6 && mixed) {
			ipv4_format(ip6_to_v4(a), p);
			return out;
		}
		p += sprintf(p, "%x", w[i]);
	}
	*p = '\0';
	return out;
}

int ip6_parse(const char *s, struct ip6_addr *out)
{
	/* inet_pton(AF_INET6) as glibc and libuv implement RFC 4291 §2.2. */
	uint8_t b[16] = { 0 };
	unsigned n = 0, digits = 0, val = 0;
	int gap = -1;
	const char *group = s;

	if (*s == ':' && *++s != ':')
		return -1;
	for (;;) {
		char c = *s++;
		int d = hex_digit((unsigned char)c);
		if (d >= 0) {
			if (++digits > 4)
				return -1;
			val = val << 4 | (unsigned)d;
			continue;
		}
		if (c == ':') {
			group = s;
			if (!digits) {
				if (gap >= 0)
					return -1;
				gap = (int)n;
				continue;
			}
			if (*s == '\0' || n == 16)
				return -1;
		} else if (c == '.') {
			uint32_t v4;
			if (n > 12 || ipv4_parse(group, &v4) != 0)
				return -1;
			wr_be32(b + n, v4);
			n += 4;
			break;
		} else if (c == '\0') {
			if (!digits)
				break;
			if (n == 16)
				return -1;
		} else {
			return -1;
		}
		wr_be16(b + n, (uint16_t)val);
		n += 2;
		digits = 0;
		val = 0;
		if (c == '\0')
			break;
	}
	if (gap >= 0) {
		/* "::" stands for at least one group of zeros. */
		if (n == 16)
			return -1;
		memmove(b + 16 - (n - (unsigned)gap), b + gap, n - (unsigned)gap);
		memset(b + gap, 0, 16 - n);
		n = 16;
	}
	if (n != 16)
		return -1;
	memcpy(out->b, b, 16);
	return 0;
}
