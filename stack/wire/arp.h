/*
 * ARP for IPv4 over Ethernet (RFC 826). Only htype 1 / ptype 0x0800 / hlen 6 / plen 4 is accepted;
 * anything else is refused with a reason the interface layer counts.
 */
#ifndef FFNET_WIRE_ARP_H
#define FFNET_WIRE_ARP_H

#include <stddef.h>
#include <stdint.h>
#include "stack/wire/endian.h"
#include "stack/wire/eth.h"
#include "stack/wire/wire.h"

#define ARP_PKT_LEN 28
#define ARP_OP_REQUEST 1
#define ARP_OP_REPLY 2

/** The Ethernet/IPv4 ARP packet as it lies on the wire. */
struct arp_hdr {
	be16_t htype;        /**< hardware type, 1 = Ethernet */
	be16_t ptype;        /**< protocol type, 0x0800 = IPv4 */
	uint8_t hlen;        /**< hardware address length, 6 */
	uint8_t plen;        /**< protocol address length, 4 */
	be16_t op;           /**< 1 request, 2 reply */
	struct eth_addr sha; /**< sender hardware address */
	be32_t spa;          /**< sender protocol address */
	struct eth_addr tha; /**< target hardware address */
	be32_t tpa;          /**< target protocol address */
} __attribute__((packed));

/** Validated representation; addresses in host order. */
struct arp_repr {
	uint16_t op;
	struct eth_addr sha;
	uint32_t spa;
	struct eth_addr tha;
	uint32_t tpa;
};

enum wire_result arp_check_len(const uint8_t *buf, size_t len);
/** Refuses: WIRE_TRUNCATED (< 28 bytes), WIRE_UNSUPPORTED (htype/ptype not Ethernet/IPv4),
 *  WIRE_MALFORMED (hlen != 6, plen != 4, or op not request/reply). */
enum wire_result arp_repr_parse(const uint8_t *buf, size_t len, struct arp_repr *out);
/** Writes the 28-byte packet. Returns ARP_PKT_LEN, or 0 when cap is too small. */
size_t arp_repr_emit(const struct arp_repr *r, uint8_t *buf, size_t cap);

#endif
