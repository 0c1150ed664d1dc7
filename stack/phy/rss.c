/* The stack's Toeplitz key (see rss.h). */
#include "stack/phy/rss.h"
#include "stack/wire/endian.h"
#include "stack/wire/eth.h"
#include "stack/wire/ipv4.h"
#include "stack/wire/ipv6.h"

const uint8_t ffs_rss_key[FFS_RSS_KEY_LEN] = {
	0x6d, 0x5a, 0x56, 0xda, 0x25, 0x5b, 0x0e, 0xc2, 0x41, 0x67, 0x25, 0x3d, 0x43, 0xa3,
	0x8f, 0xb0, 0xd0, 0xca, 0x2b, 0xcb, 0xae, 0x7b, 0x30, 0xb4, 0x77, 0xcb, 0x2d, 0xa3,
	0x80, 0x30, 0xf2, 0x0c, 0x6a, 0x42, 0xb7, 0x3b, 0xbe, 0xac, 0x01, 0xfa,
};

/* RTE_ETH_RSS_NONFRAG_IPV6_UDP for a datagram whose extension headers end in UDP (the walk's), the
 * pair for fragments (RTE_ETH_RSS_FRAG_IPV6) and anything else; a header the walk refuses is dropped
 * by whichever lcore gets it, so its pair will do. */
static bool frame_hash6(const uint8_t *ip, size_t len, uint32_t *hash)
{
	if (len < IPV6_HDR_LEN || (ip[0] >> 4) != 6)
		return false;
	const uint8_t *src = ip + 8, *dst = ip + 24;
	size_t l4 = IPV6_HDR_LEN;
	bool udp = ip[6] == IPV6_NH_UDP; /* the common case reads no further, as IPv4's */
	struct ipv6_repr r;
	if (!udp && ip[6] != IPV6_NH_FRAGMENT && ipv6_repr_parse(ip, len, &r, NULL) == WIRE_OK) {
		udp = r.next_header == IPV6_NH_UDP && !r.fragment;
		l4 = r.hdr_len;
	}
	if (udp && len >= l4 + 4)
		*hash = ffs_rss_hash_udp6(src, dst, rd_be16(ip + l4), rd_be16(ip + l4 + 2));
	else
		*hash = ffs_rss_hash_ipv6(src, dst);
	return true;
}

bool ffs_rss_frame_hash(const uint8_t *frame, size_t len, uint32_t *hash)
{
	if (len < ETH_HDR_LEN)
		return false;
	/* A frame that still carries its 802.1Q tag (no VLAN strip offload) hashes as the one inside it. */
	size_t l2 = ETH_HDR_LEN;
	uint16_t type = rd_be16(frame + 12);
	if (type == ETH_TYPE_VLAN && len >= ETH_VLAN_HDR_LEN) {
		l2 = ETH_VLAN_HDR_LEN;
		type = rd_be16(frame + 16);
	}
	if (type == ETH_TYPE_IPV6)
		return frame_hash6(frame + l2, len - l2, hash);
	if (type != ETH_TYPE_IPV4 || len < l2 + IPV4_HDR_LEN)
		return false;
	const uint8_t *ip = frame + l2;
	size_t ihl = (size_t)(ip[0] & 0x0f) * 4;
	if ((ip[0] >> 4) != 4 || ihl < IPV4_HDR_LEN || len < l2 + ihl)
		return false;
	uint32_t src = rd_be32(ip + 12), dst = rd_be32(ip + 16);
	bool fragment = (rd_be16(ip + 6) & 0x3fff) != 0; /* MF or an offset */
	if (ip[9] == IPV4_PROTO_UDP && !fragment && len >= l2 + ihl + 4)
		*hash = ffs_rss_hash_udp4(src, dst, rd_be16(ip + ihl), rd_be16(ip + ihl + 2));
	else
		*hash = ffs_rss_hash_ipv4(src, dst);
	return true;
}
