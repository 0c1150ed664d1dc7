/*
 * Byte-order helpers for the wire layer. Header structs type their big-endian fields as be16_t /
 * be32_t so byte order is visible in the type (as DPDK's rte_be16_t does); values cross into host
 * order only through these helpers. No DPDK dependency: wire/ is tested with literal byte arrays.
 */
#ifndef FFNET_WIRE_ENDIAN_H
#define FFNET_WIRE_ENDIAN_H

#include <stdint.h>
#include <string.h>

typedef uint16_t be16_t; /**< 16 bits in network byte order */
typedef uint32_t be32_t; /**< 32 bits in network byte order */

/** Reads a big-endian 16-bit field at any alignment. */
static inline uint16_t rd_be16(const uint8_t *p) { return (uint16_t)((p[0] << 8) | p[1]); }
/** Reads a big-endian 32-bit field at any alignment. */
static inline uint32_t rd_be32(const uint8_t *p)
{
	return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}
/** Writes a big-endian 16-bit field at any alignment. */
static inline void wr_be16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)(v >> 8); p[1] = (uint8_t)v; }
/** Writes a big-endian 32-bit field at any alignment. */
static inline void wr_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24); p[1] = (uint8_t)(v >> 16); p[2] = (uint8_t)(v >> 8); p[3] = (uint8_t)v;
}

#endif
