/*
 * The exception path (F-Stack's KNI / virtio-user "kni"): a kernel interface beside a port, so that
 * traffic the stack does not consume still reaches the host — SSH, TCP services, protocols the stack
 * does not speak — and what the kernel sends goes out the port.
 *
 * At start (primary process only) each port with `exception = tap | virtio-user` gets a second DPDK
 * device: net_tap or virtio_user (over /dev/vhost-net), whose kernel interface carries the port's MAC,
 * MTU and addresses, up. The stack keeps answering ARP and Neighbor Discovery for those addresses; the
 * kernel gets copies of them so that its neighbour table stays filled.
 *
 * Data path: any lcore hands a frame for the kernel to the port's bounded multi-producer queue
 * (ffs_exc_to_kernel; a full queue drops and counts); lcore 0 alone drains it into the device and
 * reads what the kernel sent (ffs_exc_turn), which leaves through lcore 0's TX buffer of the port
 * (shared TX queues under their lock, as every transmit) — but for the kernel's ARP replies and
 * neighbour advertisements about the port's own addresses, which the stack already sends (dropped
 * and counted: a peer never gets two answers).
 * May call: DPDK, libc, wire/ (to read frames), lcore/ (counters, TX, wake), phy/port (removing its device).
 */
#ifndef FFNET_PHY_EXCEPTION_H
#define FFNET_PHY_EXCEPTION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <rte_mbuf.h>
#include <rte_ring.h>

#include "stack/stack.h"

/** A port's exception path, fixed after start (part of struct ffs_port). */
struct ffs_exception {
	bool on;
	enum ffs_exception_kind kind;
	uint16_t dev_port_id;        /**< the DPDK port of the kernel interface's device */
	int rx_intr_fd;              /**< its receive queue's interrupt fd (lcore 0 sleeps on it), or -1 */
	bool tx_chains;              /**< the device sends multi-segment mbufs */
	struct rte_ring *to_kernel;  /**< frames (Ethernet header in place), multi-producer, lcore 0 consumes */
	struct ffs_port_ranges tcp, udp;
	bool udp_unbound;
	char iface[16];
	char dev_name[32];
};

struct ffs_port;
struct ffs_lcore;

/**
 * Creates and starts the exception device of `port` (configured by `pc`) with mbufs from `pool`, and
 * gives its kernel interface the port's MTU and addresses. Nothing when pc->exception is none.
 * 0, or -1 with `err` naming the key and what to do.
 */
int ffs_exception_start(struct ffs_port *port, const struct ffs_port_conf *pc, struct rte_mempool *pool,
			const char *ring_prefix, char *err, size_t errlen);
/** Stops and removes the device, freeing what its queue holds. */
void ffs_exception_stop(struct ffs_port *port);

/** Whether TCP to destination port `dport` goes to the kernel (exception_tcp_port; empty: all). */
bool ffs_exc_tcp_wanted(const struct ffs_port *port, uint16_t dport);
/** The port with an exception path whose IPv6 address `dst` is, or NULL. */
struct ip6_addr;
const struct ffs_port *ffs_exc_port6(const struct ffs_stack *st, const struct ip6_addr *dst);
/** Whether UDP to `dport` goes to the kernel instead of the stack (exception_udp_port). */
bool ffs_exc_udp_wanted(const struct ffs_port *port, uint16_t dport);

/**
 * Hands `m` to the kernel (taken: queued, or dropped and counted). Its data starts at the L3 header
 * and the frame's Ethernet header is still in front of it (what input stripped), or the caller lost
 * it (reassembly): `ethertype` rebuilds it, addressed to the port's MAC.
 */
void ffs_exc_to_kernel(struct ffs_lcore *lc, const struct ffs_port *port, struct rte_mbuf *m, uint16_t ethertype);
/** A copy of the frame of `m` (data at the L3 header or ARP, Ethernet header before it; not taken)
 *  for the kernel: ARP and Neighbor Discovery the stack consumes too. */
void ffs_exc_copy_to_kernel(struct ffs_lcore *lc, const struct ffs_port *port, const struct rte_mbuf *m, uint16_t ethertype);

/** Lcore 0: moves each port's queue into its device, and the kernel's frames out the port. Work done. */
unsigned ffs_exc_turn(struct ffs_lcore *lc);

#endif
