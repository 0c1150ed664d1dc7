/* The inline driver's idle policy (see driver.h). */
#include "stack/lcore/driver.h"
#include "stack/stack.h"

unsigned ffs_driver_turns(struct ffs_driver *d, unsigned max_turns, unsigned (*turn)(void *), void *arg)
{
	unsigned turns = 0;
	d->backlogged = false;
	while (turns < max_turns) {
		uint64_t dropped = ffs_stack_thread_fullsock();
		if (!turn(arg))
			break;
		turns++;
		/* A socket overflowed: its listener runs on this thread's event loop (or CPU), and every
		 * frame taken in before it drains is parsed only to be dropped. */
		if (ffs_stack_thread_fullsock() != dropped) {
			d->backlogged = true;
			break;
		}
	}
	return turns;
}

void ffs_driver_busy(struct ffs_driver *d, uint64_t now_ns)
{
	d->last_work_ns = now_ns;
	d->work_turns = 0;
	d->nap_ms = FFS_DRIVER_NAP_MIN_MS;
	d->asleep = false;
	d->backlogged = false;
}

struct ffs_drive_step ffs_driver_step(struct ffs_driver *d, unsigned work_turns, uint64_t now_ns, bool has_idle_fd)
{
	if (work_turns && d->asleep) {
		/* Woken into work: a new busy period, naps from the shortest again. */
		ffs_driver_busy(d, now_ns);
		return (struct ffs_drive_step){ FFS_DRIVE_SPIN, 0 };
	}
	if (work_turns) {
		d->last_work_ns = now_ns;
		d->work_turns += work_turns;
		return (struct ffs_drive_step){ FFS_DRIVE_SPIN, 0 };
	}
	uint64_t window = d->work_turns >= FFS_DRIVER_FLOW_TURNS ? FFS_DRIVER_FLOW_WINDOW_NS : FFS_DRIVER_BUSY_WINDOW_NS;
	if (now_ns - d->last_work_ns <= window)
		return (struct ffs_drive_step){ FFS_DRIVE_SPIN, 0 };
	d->asleep = true;
	if (has_idle_fd)
		return (struct ffs_drive_step){ FFS_DRIVE_SLEEP, FFS_DRIVER_SLEEP_TICK_MS };
	uint32_t ms = d->nap_ms ? d->nap_ms : FFS_DRIVER_NAP_MIN_MS;
	d->nap_ms = ms * 2 > FFS_DRIVER_NAP_MAX_MS ? FFS_DRIVER_NAP_MAX_MS : ms * 2;
	return (struct ffs_drive_step){ FFS_DRIVE_NAP, ms };
}
