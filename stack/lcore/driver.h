/*
 * The inline driver's idle policy: when a thread that turns inline lcores (the Node addon's libuv
 * driver, posix ff_run and ff_wait) keeps spinning, and when it sleeps on the lcore's idle fd or
 * naps. One policy for all, pure (no clock, no I/O): the caller reports each turn and the time, and
 * does what the answer says.
 *
 * One event-loop iteration turns while turns find work, up to a bound the caller sets, but ends after
 * a turn that dropped datagrams at a full socket (ffs_driver_turns): the listeners drain before the
 * lcore takes in more. Frames taken in meanwhile would only be parsed and dropped on the CPU the
 * listener needs, where a NIC left unpolled drops them for free (imissed) and a memif or tap ring
 * left full makes its sender wait. The next iteration turns again, so a socket that never reads
 * holds up the others' traffic, ARP and control messages one iteration at a time, no more.
 *
 * Busy for 500 µs after the last work, so a ping-pong's next datagram finds the loop spinning; once
 * a busy period has had 64 turns with work (a flow, not a stray heartbeat), busy for 20 ms after the
 * last work: a windowed protocol goes quiet for a round trip between bursts, and a nap there costs
 * the peer milliseconds per window. Then asleep on the idle fd (RX interrupts, control messages) with
 * a 10 ms tick for timers (ARP retries, aging, link watch), or, without RX interrupts, naps of 1 ms
 * doubling to 8 ms while nothing comes.
 */
#ifndef FFNET_LCORE_DRIVER_H
#define FFNET_LCORE_DRIVER_H

#include <stdbool.h>
#include <stdint.h>

/** Stay busy this long after the last work. */
#define FFS_DRIVER_BUSY_WINDOW_NS (500ull * 1000)
/** Stay busy this long after the last work once the busy period had FFS_DRIVER_FLOW_TURNS turns with work. */
#define FFS_DRIVER_FLOW_WINDOW_NS (20ull * 1000 * 1000)
#define FFS_DRIVER_FLOW_TURNS 64
/** Asleep on the idle fd: wake at least this often for timers. */
#define FFS_DRIVER_SLEEP_TICK_MS 10
/** No idle fd: the first nap, and the longest (naps double while nothing comes). */
#define FFS_DRIVER_NAP_MIN_MS 1
#define FFS_DRIVER_NAP_MAX_MS 8

/** What the driver does next. */
enum ffs_drive_action {
	FFS_DRIVE_SPIN,  /**< turn again on the next iteration */
	FFS_DRIVE_SLEEP, /**< sleep on the lcore's idle fd (ffs_stack_sleep_begin_lcore first) for at most `ms` */
	FFS_DRIVE_NAP,   /**< sleep `ms` (no idle fd) */
};

struct ffs_drive_step {
	enum ffs_drive_action action;
	uint32_t ms;
};

/** One driver's state (one per thread that turns inline lcores). */
struct ffs_driver {
	uint64_t last_work_ns;
	/** Turns with work since the driver last became busy. */
	unsigned work_turns;
	uint32_t nap_ms;
	/** The last step said sleep or nap: the next turn with work starts a new busy period. */
	bool asleep;
	/** The last iteration (ffs_driver_turns) ended at a turn that dropped datagrams at a full socket. */
	bool backlogged;
};

/**
 * One event-loop iteration's turns: `turn(arg)` (one turn of what the thread turns, returning the work
 * it found) again while turns find work, `max_turns` at most, and not after a turn that dropped
 * datagrams at a full socket (ffs_stack_thread_fullsock rose; sets d->backlogged). Returns the turns
 * that found work: what ffs_driver_step takes next.
 */
unsigned ffs_driver_turns(struct ffs_driver *d, unsigned max_turns, unsigned (*turn)(void *), void *arg);

/** Busy from now on (started, woken by work, or a control call queued work). */
void ffs_driver_busy(struct ffs_driver *d, uint64_t now_ns);

/**
 * After `work_turns` turns found work (0: the turns found none) at `now_ns`: spin while work comes or
 * the busy window is open; else sleep on the idle fd (`has_idle_fd`) or nap, each nap twice the last
 * while nothing comes. A turn with work after a sleep or nap starts a new busy period.
 */
struct ffs_drive_step ffs_driver_step(struct ffs_driver *d, unsigned work_turns, uint64_t now_ns, bool has_idle_fd);

#endif
