/*
 * The capture tap: copies of the frames a port receives and sends, for `ffnet capture`, taken while
 * traffic flows.
 *
 * Each port has a capture pointer in the stack (struct ffs_capture_tap). Lcores load it once per
 * port and turn for the device RX bursts, and before every device TX burst: while no capture runs,
 * that acquire load (a plain load on x86) is all the tap costs. While one runs, the lcore runs the
 * capture's filter (a pcap-filter expression compiled by libpcap, run by libpcap's bpf_filter) on
 * each frame, copies a match with rte_pcapng_copy into the capture's own pool (never the packet
 * pool: a capture cannot starve reception) and enqueues the copy on the capture's multi-producer
 * ring. A full ring or an empty pool drops the copy and counts it (capture.dropped); the frame itself
 * goes on untouched.
 *
 * Why not DPDK's eBPF, as pdump does (rte_bpf_convert + rte_bpf_exec)? DPDK 22.11's converter
 * mistranslates BPF_LDX|BPF_MSH, the IPv4 header-length load that every filter on a transport
 * field compiles to ("udp port 9", "icmp[icmptype] == icmp-echoreply"): the converted program
 * rejects every frame such a filter should match (measured on Debian's 22.11.11).
 *
 * One thread (the control server's connection thread) drains the ring into a pcapng stream
 * (rte_pcapng) on a file descriptor until it has written the frames asked for, the reader goes away
 * or the stack stops; then it unpublishes the capture, waits out a grace period of the lcores
 * (rte_rcu_qsbr: no lcore still holds the capture) and frees it, its pool and its filter.
 *
 * DPDK's own capture path stays available beside it: the stack calls rte_pdump_init in a primary
 * process, so `dpdk-dumpcap` captures the ports of a stack whose EAL shares its memory (hugepages).
 */
#ifndef FFNET_PHY_CAPTURE_H
#define FFNET_PHY_CAPTURE_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <rte_mbuf.h>

#include "stack/stack.h"

struct ffs_capture;
struct ffs_lcore;

/** A stack's capture state (in struct ffs_stack). */
struct ffs_capture_tap {
	/** The capture each port is copied to; NULL while none runs (the data path's only look). */
	struct ffs_capture *_Atomic port[FFS_MAX_PORTS];
	/** A capture is open on the stack (one at a time). */
	atomic_bool busy;
	/** Captures opened so far: names each one's pool and ring. */
	atomic_uint seq;
};

/** What to capture. */
struct ffs_capture_conf {
	int port;           /**< port index, or -1 for every port */
	uint32_t snaplen;   /**< bytes kept of each frame (0: whole frames up to the largest MTU) */
	const char *filter; /**< pcap-filter(7) expression, or NULL / "" for every frame */
};

/** Largest snaplen accepted (pcapng has no limit; tcpdump's default). */
#define FFS_CAPTURE_SNAPLEN_MAX 262144

/**
 * Opens a capture and turns the tap on: frames are copied from the next burst on. 0, or a negative
 * errno with a one-line message in err: -EINVAL (bad filter: "bad filter 'udp prot 9': syntax
 * error"; snaplen out of range), -ENOENT (no such port), -EBUSY (a capture already runs), -ENOMEM.
 */
int ffs_capture_open(struct ffs_stack *st, const struct ffs_capture_conf *conf, struct ffs_capture **out, char *err,
		     size_t errlen);

/** How a stream ended, and what it carried. */
struct ffs_capture_result {
	uint64_t written; /**< frames written */
	uint64_t dropped; /**< frames the tap could not copy (ring or pool full) */
	/** 0: count reached; ESHUTDOWN: the reader ended it (half-close); ECANCELED: the stack stopping;
	 *  ECONNRESET / EPIPE: the reader went away. The first three write what the tap copied before it
	 *  went off (up to count) and the interface statistics. */
	int end;
};

/**
 * Writes the capture as pcapng to `fd` (a section header, one interface block per DPDK port, then
 * the frames as they come, and interface statistics at the end) until `count` frames are written
 * (0: no limit), the peer of `fd` closes, half-closes or sends anything (a socket; a pipe or file is
 * watched for errors only), or *stopping becomes true. Then closes the capture (ffs_capture_close). SIGPIPE is
 * blocked in the calling thread meanwhile. `fd` stays open.
 */
void ffs_capture_stream(struct ffs_capture *cap, int fd, uint64_t count, const volatile bool *stopping,
			struct ffs_capture_result *res);

/**
 * Turns the tap off, waits until no lcore holds the capture, and frees it with the copies still
 * queued. Called by ffs_capture_stream; on its own for a capture that is never streamed.
 */
void ffs_capture_close(struct ffs_capture *cap);

/** The bytes kept of each frame (the snaplen asked for, or the default). */
uint32_t ffs_capture_snaplen(const struct ffs_capture *cap);

/** Frames the capture has queued for its writer (for tests). */
unsigned ffs_capture_queued(const struct ffs_capture *cap);
/** Mbufs of the capture's own pool in use (for tests). */
int ffs_capture_pool_in_use(const struct ffs_capture *cap);

/** The data path: copies the matching frames of a burst just received from / about to be sent on
 *  port `port_index`, queue `queue`. */
void ffs_capture_burst(struct ffs_lcore *lc, struct ffs_capture *cap, uint16_t port_index, uint16_t queue,
		       struct rte_mbuf **pkts, uint16_t n, bool tx);

/** DPDK's capture service for dpdk-dumpcap (rte_pdump), in a primary process; a no-op elsewhere. */
void ffs_capture_pdump_init(void);

#endif
