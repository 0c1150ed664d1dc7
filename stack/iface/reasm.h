/*
 * The reassembly table both IP families share (iface/reasm.c), seen by their fragment code
 * (ipv4_frag.c, ipv6_frag.c): one bounded table per lcore whose entries are keyed by family,
 * addresses, identification (and IPv4's protocol), under one set of bounds (net.inet.ip.maxfrag*).
 * The family code validates a fragment, says where its payload starts and lies in the datagram, and
 * rewrites the header of the datagram handed back; the table orders, bounds, counts and expires.
 */
#ifndef FFNET_IFACE_REASM_H
#define FFNET_IFACE_REASM_H

#include <stdbool.h>
#include <stdint.h>
#include <rte_mbuf.h>

#include "stack/lcore/lcore.h"

/** Which datagram a fragment belongs to. Addresses in network order; IPv4's fill the first 4 bytes. */
struct reasm_key {
	uint8_t family; /**< 4 or 6 */
	uint8_t proto;  /**< IPv4's protocol (RFC 791 §3.2); 0 for IPv6 (RFC 8200 §4.5 keys on the rest) */
	uint32_t id;
	uint8_t src[16], dst[16];
};

/** Where a fragment lies: its payload's offset in the datagram, its length, and the bytes of m before it. */
struct reasm_frag {
	uint32_t off, len;
	uint32_t hlen;
	bool more;
	/** The most bytes the datagram may have once whole, the first fragment's headers included. */
	uint32_t limit;
};

/**
 * The lcore's reassembly counter `name` of `family` (ip.* for 4, ip6.* for 6): both sets hold the
 * same reasons.
 */
#define REASM_CTR(lc, family, name) (*((family) == 6 ? &(lc)->ctr.ip6_##name : &(lc)->ctr.ip_##name))

/**
 * Adds fragment m (data at its network header, counted in REASM_CTR(fragments) by the caller) to its
 * datagram. Returns the whole datagram once this fragment completes it — the first fragment, its
 * headers untouched, with the others' payloads chained after its own; pkt_len = its hlen + *total —
 * or NULL (held, or dropped and counted). Overlaps discard the whole datagram (RFC 5722).
 */
struct rte_mbuf *reasm_insert(struct ffs_lcore *lc, struct rte_mbuf *m, const struct reasm_key *k,
			      const struct reasm_frag *f, uint32_t *total);

/**
 * The family's answer to a datagram given up on while its first fragment `head` (data at the network
 * header; not consumed) is held: ICMP time exceeded, code 1 (ipv4_frag.c, ipv6_frag.c).
 */
void ipv4_reasm_expired(struct ffs_lcore *lc, struct rte_mbuf *head);
void ipv6_reasm_expired(struct ffs_lcore *lc, struct rte_mbuf *head);

/**
 * The UDP checksum a device was asked to finish (RTE_MBUF_F_TX_UDP_CKSUM, the pseudo-header sum
 * seeded in the field) for a datagram about to leave in fragments, which no device can sum: computed
 * here over the `payload` bytes at offset `off` of m. The value for the field, or -1 when nothing is to do.
 */
int32_t frag_finish_udp_cksum(const struct rte_mbuf *m, unsigned off, uint32_t payload, bool udp);

/**
 * Sends the `payload` bytes at offset `off` of m as fragments carrying at most `step` bytes each
 * (a multiple of 8 but for the last), each in a fresh mbuf (a chain when it exceeds one: a jumbo MTU)
 * after `hdr_len` bytes that `emit` writes in the first segment (given the fragment's offset, length
 * and whether more follow), the UDP checksum
 * `udp_cksum` (≥ 0) written into the first; `send` takes each fragment. 0 or the first error
 * (-ENOBUFS, or send's). Frees nothing of m.
 */
struct frag_out {
	unsigned hdr_len;
	void (*emit)(const struct frag_out *o, uint8_t *hdr, uint32_t off, uint32_t len, bool more);
	int (*send)(const struct frag_out *o, struct rte_mbuf *f);
	void *ctx;
};
int frag_copy_out(struct ffs_lcore *lc, const struct rte_mbuf *m, unsigned off, uint32_t payload, uint32_t step,
		  int32_t udp_cksum, const struct frag_out *o);

#endif
