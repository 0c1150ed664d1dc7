/*
 * What the fragment tests of both families (frag_test.c, ipv6_frag_test.c) share: the orders they
 * feed a datagram's fragments in — as sent, reversed, and seeded shuffles (Fisher–Yates over a
 * linear congruential generator, so a failing order is the same on every run) —, the layout of a
 * datagram cut into fragments, the payload chains they hand to fragmentation, and the check that a
 * reassembled chain's segments add up to its length.
 */
#ifndef FFNET_TEST_FRAG_ORDERS_H
#define FFNET_TEST_FRAG_ORDERS_H

#include <stdint.h>
#include <string.h>
#include <rte_mbuf.h>

#include "test/stack/harness.h"

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

/** A datagram's `total` octets cut into fragments of `step`: their offsets and lengths; returns how many. */
static inline unsigned frag_layout(uint32_t total, uint32_t step, uint32_t *off, uint32_t *len)
{
	unsigned n = 0;
	for (uint32_t o = 0; o < total; o += step, n++) {
		off[n] = o;
		len[n] = total - o < step ? total - o : step;
	}
	return n;
}

/** `len` octets of `payload` as a chain of `seg`-octet segments from `pool`. */
static inline struct rte_mbuf *frag_payload_chain(struct rte_mempool *pool, const uint8_t *payload, uint32_t len,
						  uint32_t seg)
{
	struct rte_mbuf *head = NULL;
	for (uint32_t o = 0; o < len; o += seg) {
		uint32_t n = len - o < seg ? len - o : seg;
		struct rte_mbuf *m = rte_pktmbuf_alloc(pool);
		CHECK(m != NULL);
		memcpy(rte_pktmbuf_append(m, (uint16_t)n), payload + o, n);
		if (!head)
			head = m;
		else
			CHECK_EQ_INT(rte_pktmbuf_chain(head, m), 0);
	}
	return head;
}

/** Fails the case unless the segments of chain d hold exactly its packet length. */
static inline void frag_check_chain_len(const struct rte_mbuf *d)
{
	uint32_t sum = 0;
	for (const struct rte_mbuf *s = d; s; s = s->next)
		sum += s->data_len;
	CHECK_EQ_INT(sum, rte_pktmbuf_pkt_len(d));
}

#endif
