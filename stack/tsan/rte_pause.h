/*
 * DPDK's inline waits as ThreadSanitizer builds compile them: with FFNET_SANITIZE=thread this
 * directory comes first in the include path of everything that links the stack, so DPDK's own
 * `#include <rte_pause.h>` finds this file, which includes DPDK's and replaces its waits. Other
 * builds never see it.
 *
 * A multi-producer ring's producer waits, relaxed, for the producers before it to publish the tail,
 * then publishes its own with a release store (rte_ring_c11_pvt.h, __rte_ring_update_tail). A
 * consumer's acquire of that tail then orders only the last producer's elements before its reads:
 * in C11 a plain store does not continue another thread's release sequence, so the earlier
 * producers' elements would reach the consumer unordered. x86 orders them in hardware (and DPDK's
 * default barrier variant relies on it); here every wait loads with acquire, which chains each
 * producer's release to the next, the same algorithm with the ordering the hardware already gives.
 */
#ifndef FFNET_STACK_TSAN_RTE_PAUSE_H
#define FFNET_STACK_TSAN_RTE_PAUSE_H

#include <stdint.h>

#define RTE_WAIT_UNTIL_EQUAL_ARCH_DEFINED
#include_next <rte_pause.h>

static __rte_always_inline void rte_wait_until_equal_16(volatile uint16_t *addr, uint16_t expected, int memorder)
{
	(void)memorder;
	while (__atomic_load_n(addr, __ATOMIC_ACQUIRE) != expected)
		rte_pause();
}

static __rte_always_inline void rte_wait_until_equal_32(volatile uint32_t *addr, uint32_t expected, int memorder)
{
	(void)memorder;
	while (__atomic_load_n(addr, __ATOMIC_ACQUIRE) != expected)
		rte_pause();
}

static __rte_always_inline void rte_wait_until_equal_64(volatile uint64_t *addr, uint64_t expected, int memorder)
{
	(void)memorder;
	while (__atomic_load_n(addr, __ATOMIC_ACQUIRE) != expected)
		rte_pause();
}

#define RTE_WAIT_UNTIL_MASKED(addr, mask, cond, expected, memorder) do {                       \
	RTE_SET_USED(memorder);                                                                   \
	typeof(*(addr)) expected_value = (expected);                                              \
	while (!((__atomic_load_n((addr), __ATOMIC_ACQUIRE) & (mask)) cond expected_value))       \
		rte_pause();                                                                      \
} while (0)

#endif
