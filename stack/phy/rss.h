/*
 * Receive-side scaling as the stack computes it: one fixed Toeplitz key that every port with RSS is
 * given (phy/port.c), the hash of an IPv4 or IPv6 pair or UDP 4-tuple under that key (DPDK's rte_softrss,
 * bit for bit what a NIC computes), and the lcore a hash lands on (the RETA phy/port.c programs:
 * entry i → queue i mod n). The software dispatcher of ports with fewer RX queues than lcores
 * (lcore/loop.c), fragment steering (iface/ipv4.c, iface/ipv6_frag.c) and connect's choice of a local port
 * (sock/bind.c) all use these, so a flow has one lcore whichever path it takes.
 */
#ifndef FFNET_PHY_RSS_H
#define FFNET_PHY_RSS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <rte_thash.h>

/** Bytes of the Toeplitz key (the 40 that IPv4 and IPv6 4-tuples need). */
#define FFS_RSS_KEY_LEN 40

/** The key: Microsoft's RSS verification key, the default of most NICs and of DPDK's test suite. */
extern const uint8_t ffs_rss_key[FFS_RSS_KEY_LEN];

/** Toeplitz hash of the IPv4 pair (host order), as a NIC hashes fragments and non-UDP/TCP packets. */
static inline uint32_t ffs_rss_hash_ipv4(uint32_t src, uint32_t dst)
{
	struct rte_ipv4_tuple t = { .src_addr = src, .dst_addr = dst };
	return rte_softrss((uint32_t *)&t, RTE_THASH_V4_L3_LEN, ffs_rss_key);
}

/** Toeplitz hash of the IPv6 pair (network order), as a NIC hashes IPv6 fragments (RTE_ETH_RSS_FRAG_IPV6). */
static inline uint32_t ffs_rss_hash_ipv6(const uint8_t src[16], const uint8_t dst[16])
{
	struct rte_ipv6_hdr h;
	union rte_thash_tuple t;
	memcpy(h.src_addr, src, 16);
	memcpy(h.dst_addr, dst, 16);
	rte_thash_load_v6_addrs(&h, &t);
	return rte_softrss((uint32_t *)&t, RTE_THASH_V6_L3_LEN, ffs_rss_key);
}

/** Toeplitz hash of a UDP/IPv4 4-tuple (host order), as a NIC hashes an unfragmented datagram. */
static inline uint32_t ffs_rss_hash_udp4(uint32_t src, uint32_t dst, uint16_t sport, uint16_t dport)
{
	/* The ports as the one 32-bit word rte_softrss reads (sport high): written through the 16-bit
	 * fields, a compiler may read the word before the stores (strict aliasing; clang does). */
	struct rte_ipv4_tuple t = { .src_addr = src, .dst_addr = dst, .sctp_tag = (uint32_t)sport << 16 | dport };
	return rte_softrss((uint32_t *)&t, RTE_THASH_V4_L4_LEN, ffs_rss_key);
}

/** Toeplitz hash of a UDP/IPv6 4-tuple (addresses in network order, ports host order), as a NIC hashes
 *  an unfragmented datagram (RTE_ETH_RSS_NONFRAG_IPV6_UDP). */
static inline uint32_t ffs_rss_hash_udp6(const uint8_t src[16], const uint8_t dst[16], uint16_t sport, uint16_t dport)
{
	struct rte_ipv6_hdr h;
	union rte_thash_tuple t;
	memcpy(h.src_addr, src, 16);
	memcpy(h.dst_addr, dst, 16);
	rte_thash_load_v6_addrs(&h, &t);
	/* The ports as one word, as ffs_rss_hash_udp4 writes them. */
	t.v6.sctp_tag = (uint32_t)sport << 16 | dport;
	return rte_softrss((uint32_t *)&t, RTE_THASH_V6_L4_LEN, ffs_rss_key);
}

/**
 * The hash a NIC with RSS gives a received frame (Ethernet header first): the UDP 4-tuple of an
 * unfragmented UDP datagram, IPv4 or IPv6 (extension headers walked), the address pair of any other
 * IP packet (fragments included, so all fragments of a datagram hash alike). False for a frame that
 * is not IP or too short to tell (ARP, runts: the receiving lcore handles those itself).
 */
bool ffs_rss_frame_hash(const uint8_t *frame, size_t len, uint32_t *hash);

/**
 * The lcore index of `n` that a hash lands on. The RETA maps its entry `hash mod size` to queue
 * `entry mod n`, which is `hash mod n` whenever n divides the table size (any power of two up to it).
 */
static inline unsigned ffs_rss_lcore(uint32_t hash, unsigned n)
{
	return n > 1 ? hash % n : 0;
}

#endif
