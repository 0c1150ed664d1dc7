/*
 * libFuzzer harness for the IPv6 wire formats alone (stack/wire/ipv6.c, icmp6.c, udp6 in udp.c):
 * the input is an IPv6 packet, parsed as the receive path will parse it — the header and its
 * extension header chain, then UDP or ICMPv6 and, by type, Neighbor Discovery or an MLD query —
 * with checksums verified and, separately, taken as verified by the device so that malformed
 * bodies get past the checksum. No stack runs: this reaches the parsers directly, whatever the
 * interface layer does with their results.
 *
 * Besides the sanitizers' reports, a finding is any broken promise of the parsers: an offset or
 * length outside the packet, a Parameter Problem pointer past the packet, a fixed header that
 * emit does not rebuild (but for the Next Header, which names the upper layer), an address that does not survive ip6_format/ip6_parse.
 * The input's first 46 bytes are also read as text by ip6_parse.
 *
 * Seeds: fuzz/make-seeds.mjs --wire-ipv6=DIR writes the IPv6 packets of its frames there (the
 * fixtures' captured packets, extension header chains, fragments, ND and MLD messages).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "stack/wire/icmp6.h"
#include "stack/wire/udp.h"

#define EXPECT(cond)                                                                          \
	do {                                                                                  \
		if (!(cond)) {                                                                \
			fprintf(stderr, "wire_ipv6_fuzz: %s:%d: %s\n", __FILE__, __LINE__, #cond); \
			abort();                                                              \
		}                                                                             \
	} while (0)

static const struct wire_csum_caps verified = { .rx_l4_verified = true };

static void upper_layer(const uint8_t *p, size_t len, const struct ipv6_repr *ip, const struct wire_csum_caps *caps)
{
	if (ip->next_header == IPV6_NH_UDP) {
		struct udp_repr u;
		if (udp6_repr_parse(p, len, &ip->src, &ip->dst, caps, &u) == WIRE_OK)
			EXPECT((size_t)u.payload_len + UDP_HDR_LEN <= len);
		return;
	}
	if (ip->next_header != IPV6_NH_ICMPV6)
		return;
	struct icmp6_repr r;
	if (icmp6_repr_parse(p, len, &ip->src, &ip->dst, caps, &r) != WIRE_OK)
		return;
	EXPECT(r.body == p + ICMP6_HDR_LEN && r.body_len + ICMP6_HDR_LEN == len);
	struct nd_repr nd;
	if (nd_repr_parse(p, len, ip, &nd) == WIRE_OK) {
		EXPECT(nd.n_prefixes <= ND_MAX_PREFIXES);
		for (unsigned i = 0; i < nd.n_prefixes; i++)
			EXPECT(nd.prefixes[i].len <= 128);
		EXPECT(!ip6_is_multicast(&nd.target));
	}
	struct mld_query_repr q;
	if (mld_query_parse(p, len, ip, &q) == WIRE_OK && q.v2) {
		EXPECT(MLDV2_QUERY_LEN + 16 * (size_t)q.n_sources <= len);
		struct ip6_addr last;
		if (q.n_sources)
			mld_source(q.sources, q.n_sources - 1u, &last);
	}
}

static void addresses(const uint8_t *data, size_t size)
{
	char text[IP6_ADDRSTRLEN + 1];
	size_t n = size < IP6_ADDRSTRLEN ? size : IP6_ADDRSTRLEN;
	memcpy(text, data, n);
	text[n] = '\0';
	struct ip6_addr a, b;
	if (ip6_parse(text, &a) == 0) {
		char again[IP6_ADDRSTRLEN];
		EXPECT(strlen(ip6_format(&a, again)) < IP6_ADDRSTRLEN);
		EXPECT(ip6_parse(again, &b) == 0 && ip6_eq(&a, &b));
	}
	if (size >= 16) {
		memcpy(a.b, data, 16);
		char out[IP6_ADDRSTRLEN];
		EXPECT(strlen(ip6_format(&a, out)) < IP6_ADDRSTRLEN);
		EXPECT(ip6_parse(out, &b) == 0 && ip6_eq(&a, &b));
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	addresses(data, size);

	struct ipv6_repr ip;
	struct ipv6_param_problem pp;
	/* A chained packet's first segment: the walk stays within it, and what it accepts the whole
	 * parse accepts alike. The part is its own allocation, so a read past it is caught. */
	size_t head = size >= IPV6_HDR_LEN ? IPV6_HDR_LEN + (size - IPV6_HDR_LEN) / 2 : size;
	uint8_t *part = malloc(head ? head : 1);
	if (part) {
		memcpy(part, data, head);
		if (ipv6_repr_parse_head(part, head, size, &ip, NULL) == WIRE_OK) {
			struct ipv6_repr whole;
			EXPECT(ip.hdr_len <= head);
			EXPECT(ipv6_repr_parse(data, size, &whole, NULL) == WIRE_OK && whole.hdr_len == ip.hdr_len);
		}
		free(part);
	}
	enum wire_result r = ipv6_repr_parse(data, size, &ip, &pp);
	if (r == WIRE_BAD_EXTHDR && pp.send) {
		EXPECT(pp.code <= ICMP6_PARAMPROB_FRAG_INCOMPLETE);
		EXPECT(pp.pointer < IPV6_HDR_LEN + (size_t)ip.payload_len);
	}
	if (r != WIRE_OK)
		return 0;
	size_t end = IPV6_HDR_LEN + (size_t)ip.payload_len;
	EXPECT(end <= size);
	EXPECT(ip.hdr_len >= IPV6_HDR_LEN && ip.hdr_len <= end);
	EXPECT(ip.nh_off < ip.hdr_len && data[ip.nh_off] == ip.next_header);
	if (ip.fragment) {
		EXPECT(ip.frag_hdr_off + IPV6_FRAG_HDR_LEN == ip.hdr_len && ip.unfrag_len == ip.frag_hdr_off);
		EXPECT(data[ip.frag_nh_off] == IPV6_NH_FRAGMENT);
	}

	/* Emit writes the repr's next header, the upper layer's, where the packet may name its first
	 * extension header. */
	uint8_t hdr[IPV6_HDR_LEN];
	EXPECT(ipv6_repr_emit(&ip, hdr, sizeof hdr) == IPV6_HDR_LEN);
	EXPECT(hdr[6] == ip.next_header);
	hdr[6] = data[6];
	EXPECT(memcmp(hdr, data, IPV6_HDR_LEN) == 0);

	if (ip.fragment)
		return 0;
	upper_layer(data + ip.hdr_len, end - ip.hdr_len, &ip, &WIRE_CSUM_SOFTWARE);
	upper_layer(data + ip.hdr_len, end - ip.hdr_len, &ip, &verified);
	return 0;
}
