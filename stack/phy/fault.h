/*
 * The fault injector: a wrapper on the receive side of every device that drops, duplicates and
 * reorders received frames, so tests can put loss between two stacks without tc netem.
 *
 * Configured by sysctl (`dev.fault.rx_drop_ppm`, `rx_dup_ppm`, `rx_reorder_ppm`, `seed`); off while
 * the three probabilities are 0, which costs the loop one atomic load per turn. Only IPv4 frames
 * are touched: ARP and every other EtherType pass as the device delivered them, so address
 * resolution stays reliable whatever the settings.
 *
 * Decisions come from a per-lcore generator seeded with dev.fault.seed and the lcore's index, one
 * 64-bit draw per IPv4 frame whatever the settings, so the same frames in the same order meet the
 * same fate. Any write to a dev.fault.* tunable reseeds every lcore (the next turn), so a test
 * that writes the same settings again replays the same decisions.
 *
 * A frame chosen for reordering is held (one per port and lcore) and delivered right after the
 * next frame received from that port's queue, or after FFS_FAULT_HOLD_US if none comes. What the
 * injector lets through is what the stack sees: eth.rx counts duplicates and not dropped frames;
 * the device's own counters (ipackets) count what it received.
 */
#ifndef FFNET_PHY_FAULT_H
#define FFNET_PHY_FAULT_H

#include <stdbool.h>
#include <stdint.h>
#include <rte_mbuf.h>

#include "stack/stack.h"

/** Longest time a frame held for reordering waits for a later frame before it is delivered anyway. */
#define FFS_FAULT_HOLD_US 1000
/** Frames one RX burst of n may turn into: each frame and its duplicate, plus one held from before. */
#define FFS_FAULT_RX_MAX(n) (2 * (n) + 1)

/** One lcore's injector state (in struct ffs_lcore; touched only by that lcore). */
struct ffs_fault {
	/** Value of ffs_stack.fault_gen the settings below were read at. */
	uint32_t gen;
	/** Any probability non-zero. */
	bool active;
	uint32_t drop_ppm, dup_ppm, reorder_ppm;
	uint64_t hold_tsc;
	/** Generator state (splitmix64). */
	uint64_t rng;
	/** Frames held for reordering, by port index, and the turn (TSC) each was held at. */
	unsigned n_held;
	struct rte_mbuf *held[FFS_MAX_PORTS];
	uint64_t held_since[FFS_MAX_PORTS];
};

struct ffs_lcore;

/** Whether sysctl `id` is one of the injector's (a write to it bumps ffs_stack.fault_gen). */
static inline bool ffs_fault_sysctl(int id)
{
	return id == FFS_SYSCTL_FAULT_RX_DROP_PPM || id == FFS_SYSCTL_FAULT_RX_DUP_PPM ||
	       id == FFS_SYSCTL_FAULT_RX_REORDER_PPM || id == FFS_SYSCTL_FAULT_SEED;
}

/** Reads the dev.fault.* tunables into lc->fault and reseeds its generator. */
void ffs_fault_reload(struct ffs_lcore *lc);

/**
 * Applies the injector to `n` frames just received from port `port_index`, in place: `pkts` must
 * have room for FFS_FAULT_RX_MAX(n) frames. Returns how many frames to deliver, in order.
 */
uint16_t ffs_fault_rx(struct ffs_lcore *lc, uint16_t port_index, struct rte_mbuf **pkts, uint16_t n);

/** Delivers frames held longer than FFS_FAULT_HOLD_US; returns how many are still held. */
unsigned ffs_fault_release_due(struct ffs_lcore *lc);

/** Frees held frames (the lcore is stopped). */
void ffs_fault_free(struct ffs_lcore *lc);

#endif
