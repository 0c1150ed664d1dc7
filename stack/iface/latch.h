/*
 * The sequence-counter latch of Linux's seqcount_latch, for tables that readers on any thread read
 * without a lock while a rare writer changes them (routes, IPv6 addresses). The data is kept in two
 * copies; the writer moves the readers to one copy (latch_flip) while it rewrites the other, then
 * back, so a reader always finds a complete copy and retries only when the copy it read changed
 * under it — never waiting for a writer, even one preempted mid-write (DPDK's rte_seqcount and
 * rte_seqlock keep one copy, whose readers spin until the write completes). Every shared word is read
 * and written with relaxed atomics that the fences here order: no data race.
 *
 *   reader:  do { sn = latch_read_begin(&seq); d = &copy[sn & 1]; ...loads... } while (latch_read_retry(&seq, sn));
 *   writer:  latch_flip(&seq); ...stores to copy[0]...; latch_flip(&seq); ...stores to copy[1]...
 */
#ifndef FFNET_IFACE_LATCH_H
#define FFNET_IFACE_LATCH_H

#include <stdbool.h>
#include <stdint.h>

static inline uint32_t latch_ld(const uint32_t *p) { return __atomic_load_n(p, __ATOMIC_RELAXED); }
static inline void latch_st(uint32_t *p, uint32_t v) { __atomic_store_n(p, v, __ATOMIC_RELAXED); }
static inline uint64_t latch_ld64(const uint64_t *p) { return __atomic_load_n(p, __ATOMIC_RELAXED); }
static inline void latch_st64(uint64_t *p, uint64_t v) { __atomic_store_n(p, v, __ATOMIC_RELAXED); }

/** A reader's sequence number: read copy[sn & 1]. */
static inline uint32_t latch_read_begin(const uint32_t *seq) { return __atomic_load_n(seq, __ATOMIC_ACQUIRE); }

/** True when the copy read may have changed meanwhile: read again. */
static inline bool latch_read_retry(const uint32_t *seq, uint32_t sn)
{
	__atomic_thread_fence(__ATOMIC_ACQUIRE);
	return __atomic_load_n(seq, __ATOMIC_RELAXED) != sn;
}

/** Moves the readers to the other copy: stores before it land first, stores after it land after. */
static inline void latch_flip(uint32_t *seq)
{
	__atomic_thread_fence(__ATOMIC_RELEASE);
	__atomic_store_n(seq, __atomic_load_n(seq, __ATOMIC_RELAXED) + 1, __ATOMIC_RELAXED);
	__atomic_thread_fence(__ATOMIC_RELEASE);
}

#endif
