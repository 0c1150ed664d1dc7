/*
 * The inline driver's idle policy (stack/lcore/driver.c) as a unit, on a made-up clock: spin while
 * turns find work and for the busy window after the last work (500 µs; 20 ms once a busy period had
 * 64 turns with work), then sleep on the idle fd with a 10 ms tick, or, without one, nap 1, 2, 4, 8,
 * 8 ms while nothing comes; a turn with work after a sleep starts a new busy period.
 */
#include "stack/lcore/driver.h"
#include "test/stack/harness.h"

#define US 1000ull
#define MS (1000ull * 1000)

static struct ffs_drive_step step(struct ffs_driver *d, unsigned work, uint64_t now, bool fd)
{
	return ffs_driver_step(d, work, now, fd);
}

TEST(spins_within_the_busy_window_then_sleeps_on_the_idle_fd)
{
	struct ffs_driver d;
	ffs_driver_busy(&d, 1000 * MS);
	CHECK_EQ_INT(step(&d, 1, 1000 * MS + 10 * US, true).action, FFS_DRIVE_SPIN);
	CHECK_EQ_INT(step(&d, 0, 1000 * MS + 10 * US + 499 * US, true).action, FFS_DRIVE_SPIN);
	CHECK_EQ_INT(step(&d, 0, 1000 * MS + 10 * US + 500 * US, true).action, FFS_DRIVE_SPIN);
	struct ffs_drive_step s = step(&d, 0, 1000 * MS + 10 * US + 501 * US, true);
	CHECK_EQ_INT(s.action, FFS_DRIVE_SLEEP);
	CHECK_EQ_INT(s.ms, FFS_DRIVER_SLEEP_TICK_MS);
	/* Woken with nothing to do: asleep again at once, on the same tick. */
	s = step(&d, 0, 1000 * MS + 11 * MS, true);
	CHECK_EQ_INT(s.action, FFS_DRIVE_SLEEP);
	CHECK_EQ_INT(s.ms, 10);
}

TEST(a_flow_keeps_the_loop_busy_for_the_longer_window)
{
	struct ffs_driver d;
	uint64_t t = 5000 * MS;
	ffs_driver_busy(&d, t);
	for (unsigned i = 0; i < FFS_DRIVER_FLOW_TURNS - 1; i++)
		CHECK_EQ_INT(step(&d, 1, t += US, true).action, FFS_DRIVE_SPIN);
	/* 63 turns with work: still the short window. */
	CHECK_EQ_INT(step(&d, 0, t + 501 * US, true).action, FFS_DRIVE_SLEEP);
	ffs_driver_busy(&d, t);
	for (unsigned i = 0; i < FFS_DRIVER_FLOW_TURNS; i++)
		step(&d, 1, t += US, true);
	CHECK_EQ_INT(step(&d, 0, t + 501 * US, true).action, FFS_DRIVE_SPIN);
	CHECK_EQ_INT(step(&d, 0, t + 20 * MS, true).action, FFS_DRIVE_SPIN);
	CHECK_EQ_INT(step(&d, 0, t + 20 * MS + 1, true).action, FFS_DRIVE_SLEEP);
	/* Turns with work counted in one report (a libuv iteration's batch) count each. */
	ffs_driver_busy(&d, t);
	step(&d, FFS_DRIVER_FLOW_TURNS, t, true);
	CHECK_EQ_INT(step(&d, 0, t + 19 * MS, true).action, FFS_DRIVE_SPIN);
}

TEST(naps_double_up_to_the_cap_without_an_idle_fd)
{
	struct ffs_driver d;
	uint64_t t = 100 * MS;
	ffs_driver_busy(&d, t);
	const uint32_t want[] = { 1, 2, 4, 8, 8, 8 };
	for (unsigned i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		struct ffs_drive_step s = step(&d, 0, t += MS, false);
		CHECK_EQ_INT(s.action, FFS_DRIVE_NAP);
		CHECK_EQ_INT(s.ms, want[i]);
	}
}

TEST(work_after_a_sleep_starts_a_new_busy_period)
{
	struct ffs_driver d;
	uint64_t t = 100 * MS;
	ffs_driver_busy(&d, t);
	for (unsigned i = 0; i < FFS_DRIVER_FLOW_TURNS; i++)
		step(&d, 1, t += US, false);
	CHECK_EQ_INT(step(&d, 0, t += 21 * MS, false).ms, 1);
	CHECK_EQ_INT(step(&d, 0, t += MS, false).ms, 2);
	/* Woken into work: spin, the flow count starts over (short window) and naps from 1 ms again. */
	CHECK_EQ_INT(step(&d, 1, t += 2 * MS, false).action, FFS_DRIVE_SPIN);
	CHECK_EQ_INT(step(&d, 0, t + 400 * US, false).action, FFS_DRIVE_SPIN);
	struct ffs_drive_step s = step(&d, 0, t + 501 * US, false);
	CHECK_EQ_INT(s.action, FFS_DRIVE_NAP);
	CHECK_EQ_INT(s.ms, 1);
}

TEST_MAIN()
