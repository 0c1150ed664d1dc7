/*
 * Hex digits, for the text forms of addresses and for frames written as hex (test fixtures,
 * inject-frame). Header-only: tools outside the stack include it without linking anything.
 */
#ifndef FFNET_WIRE_HEX_H
#define FFNET_WIRE_HEX_H

#include <stddef.h>
#include <stdint.h>

/** The value of a hex digit (either case), or -1. */
static inline int hex_digit(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/**
 * Decodes pairs of hex digits from `s` into `out`, stopping at the end of the string, at a newline,
 * or at `cap` bytes. Returns the byte count, or -1 for an odd digit count, a non-hex character, or
 * more than `cap` bytes.
 */
static inline long hex_decode(const char *s, uint8_t *out, size_t cap)
{
	size_t n = 0;
	for (; *s && *s != '\n' && *s != '\r'; s += 2) {
		int hi = hex_digit((unsigned char)s[0]);
		int lo = hi < 0 ? -1 : hex_digit((unsigned char)s[1]);
		if (lo < 0 || n == cap)
			return -1;
		out[n++] = (uint8_t)(hi << 4 | lo);
	}
	return (long)n;
}

#endif
