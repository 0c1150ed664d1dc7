/*
 * The Internet checksum (RFC 1071): a 16-bit one's-complement sum of 16-bit big-endian words.
 * Partial sums let callers add a pseudo-header and scattered buffers before folding.
 */
#ifndef FFNET_WIRE_CHECKSUM_H
#define FFNET_WIRE_CHECKSUM_H

#include <stddef.h>
#include <stdint.h>

/** Adds `len` bytes to a running 32-bit partial sum (odd final byte padded with zero, RFC 1071). */
uint32_t csum_partial(const void *buf, size_t len, uint32_t sum);
/** Folds a partial sum to 16 bits and complements it: the value to store in a header (host order). */
uint16_t csum_fold(uint32_t sum);
/** Checksum of one buffer: csum_fold(csum_partial(buf, len, 0)). Over a header that holds a correct
 *  checksum this returns 0. */
uint16_t csum_buf(const void *buf, size_t len);
/** Partial sum of the IPv4 pseudo-header used by UDP (RFC 768): addresses in host order. */
uint32_t csum_pseudo_ipv4(uint32_t src, uint32_t dst, uint8_t proto, uint16_t l4_len);

#endif
