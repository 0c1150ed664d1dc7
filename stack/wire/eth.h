/*
 * Ethernet II framing (IEEE 802.3 with EtherType) and the multicast MACs IPv4 (RFC 1112) and IPv6
 * (RFC 2464) groups map to, and the IEEE 802.1Q tag: a tagged frame parses with ethertype
 * ETH_TYPE_VLAN; iface/ethernet.c removes the tag on input and inserts it on output.
 */
#ifndef FFNET_WIRE_ETH_H
#define FFNET_WIRE_ETH_H

#include <stddef.h>
#include <stdint.h>
#include "stack/wire/endian.h"
#include "stack/wire/wire.h"

#define ETH_ADDR_LEN 6
#define ETH_HDR_LEN 14
#define ETH_TYPE_IPV4 0x0800
#define ETH_TYPE_ARP 0x0806
#define ETH_TYPE_IPV6 0x86dd
/** IEEE 802.1Q: the tag (TPID 0x8100, then the TCI: PCP 3 bits, DEI 1, VID 12) sits between the
 *  source MAC and the EtherType of the frame it carries. */
#define ETH_TYPE_VLAN 0x8100
#define ETH_VLAN_TAG_LEN 4
#define ETH_VLAN_HDR_LEN (ETH_HDR_LEN + ETH_VLAN_TAG_LEN)
#define ETH_VLAN_VID_MASK 0x0fff

struct ip6_addr;

/** A MAC address. */
struct eth_addr {
	uint8_t b[ETH_ADDR_LEN];
};

/** The Ethernet II header as it lies on the wire. */
struct eth_hdr {
	struct eth_addr dst; /**< destination MAC */
	struct eth_addr src; /**< source MAC */
	be16_t type;         /**< EtherType, big-endian */
} __attribute__((packed));

/** Validated representation of an Ethernet header. */
struct eth_repr {
	struct eth_addr dst;
	struct eth_addr src;
	uint16_t ethertype; /**< host order */
};

static const struct eth_addr ETH_BROADCAST = { { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff } };

/** True for ff:ff:ff:ff:ff:ff. */
bool eth_addr_is_broadcast(const struct eth_addr *a);
/** True when the group bit (least significant bit of the first octet) is set, broadcast included. */
bool eth_addr_is_multicast(const struct eth_addr *a);
/** True for 00:00:00:00:00:00. */
bool eth_addr_is_zero(const struct eth_addr *a);
bool eth_addr_eq(const struct eth_addr *a, const struct eth_addr *b);
/** Formats as "aa:bb:cc:dd:ee:ff" into out (at least 18 bytes). Returns out. */
char *eth_addr_format(const struct eth_addr *a, char *out);
/** Parses "aa:bb:cc:dd:ee:ff" (hex, either case). Returns 0, or -1 for anything else. */
int eth_addr_parse(const char *s, struct eth_addr *out);
/** The multicast MAC for an IPv4 group (RFC 1112 §6.4): 01:00:5e + low 23 bits of the group. */
void eth_addr_from_ipv4_multicast(uint32_t group, struct eth_addr *out);
/** The multicast MAC for an IPv6 group (RFC 2464 §7): 33:33 + the group's low 32 bits. */
void eth_addr_from_ipv6_multicast(const struct ip6_addr *group, struct eth_addr *out);

enum wire_result eth_check_len(const uint8_t *buf, size_t len);
/** Parses the header; the payload starts at buf + ETH_HDR_LEN. */
enum wire_result eth_repr_parse(const uint8_t *buf, size_t len, struct eth_repr *out);
/** Writes the 14-byte header. Returns ETH_HDR_LEN, or 0 when cap < ETH_HDR_LEN. */
size_t eth_repr_emit(const struct eth_repr *r, uint8_t *buf, size_t cap);

#endif
