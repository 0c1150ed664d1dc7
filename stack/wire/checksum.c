/*
 * The Internet checksum (RFC 1071).
 *
 * Owns the one's-complement arithmetic every other wire file uses. A partial sum is a 32-bit value
 * whose 16-bit fold equals the one's-complement sum of the big-endian 16-bit words added so far;
 * callers chain csum_pseudo_ipv4() or csum_pseudo_ipv6() and csum_partial() and fold once with csum_fold(). The bodies
 * are inline definitions in checksum.h; the declarations below emit their external definitions
 * (C11 §6.7.4), for callers the compiler does not inline.
 */
#include "stack/wire/checksum.h"

extern inline uint32_t csum_fold64(uint64_t acc);
extern inline uint32_t csum_partial(const void *buf, size_t len, uint32_t sum);
extern inline uint16_t csum_fold(uint32_t sum);
extern inline uint16_t csum_buf(const void *buf, size_t len);
extern inline uint32_t csum_pseudo_ipv4(uint32_t src, uint32_t dst, uint8_t proto, uint16_t l4_len);
extern inline uint32_t csum_pseudo_ipv6(const struct ip6_addr *src, const struct ip6_addr *dst, uint32_t upper_len,
					uint8_t next_header);
