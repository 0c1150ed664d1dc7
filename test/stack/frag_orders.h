/*
 * The orders the fragment tests (frag_test.c, ipv6_frag_test.c) feed a datagram's fragments in:
 * as sent, reversed, and seeded shuffles (Fisher–Yates over a linear congruential generator, so a
 * failing order is the same on every run).
 */
#ifndef FFNET_TEST_FRAG_ORDERS_H
#define FFNET_TEST_FRAG_ORDERS_H

#include <stdint.h>

/** order[i] = i. */
static inline void frag_order_forward(unsigned *order, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		order[i] = i;
}

/** order[i] = n - 1 - i. */
static inline void frag_order_reverse(unsigned *order, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		order[i] = n - 1 - i;
}

/** A permutation of 0..n-1 drawn from *seed (advanced). */
static inline void frag_order_shuffle(unsigned *order, unsigned n, uint32_t *seed)
{
	frag_order_forward(order, n);
	for (unsigned i = n - 1; i > 0; i--) {
		*seed = *seed * 1103515245u + 12345u;
		unsigned j = (*seed >> 8) % (i + 1);
		unsigned t = order[i];
		order[i] = order[j];
		order[j] = t;
	}
}

#endif
