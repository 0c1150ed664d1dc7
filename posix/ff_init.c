/*
 * ff_init / ff_run / ff_exit: starting ffnet from ffnet.ini in a C program, F-Stack style.
 *
 * ff_init reads the file (posix/ff_config.c), sends DPDK's log where `[dpdk] log` says (nowhere by
 * default; a failed start prints the lines of the attempt), initialises the EAL and starts the stack. ff_run
 * turns the stack on the calling thread in inline mode (no data-path lcore) between calls of the
 * application's loop, and sleeps on the stack's idle fd when nothing happens, with the Node addon's
 * inline driver's policy (stack/lcore/driver.h); a thread that claimed a lcore (ff_set_lcore) turns
 * that one. With data-path lcores it only calls the loop.
 */
#include <poll.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "posix/ff_api.h"
#include "posix/ff_config.h"
#include "posix/ff_internal.h"
#include "stack/eal_log.h"
#include "stack/lcore/driver.h"
#include "stack/stack.h"

/** Bumped by ff_stop_run: every ff_run running then returns (threads on their own lcores each run one). */
static atomic_uint run_stops;


int ff_init(int argc, char *const argv[])
{
	const char *path = NULL;
	for (int i = 1; i < argc && argv[i]; i++) {
		if (strcmp(argv[i], "--conf") == 0 && i + 1 < argc)
			path = argv[++i];
		else if (strncmp(argv[i], "--conf=", 7) == 0)
			path = argv[i] + 7;
	}
	if (!path)
		path = getenv("FFNET_CONFIG");
	if (!path || !*path)
		path = "ffnet.ini";
	struct ffs_conf *conf;
	int eal_argc;
	char **eal_argv;
	if (ff_config_read(path, &conf, &eal_argc, &eal_argv) < 0)
		return -1;
	char err[512] = "";
	if (ffs_log_open(ff_config_log(), err, sizeof(err)) != 0) {
		fprintf(stderr, "ffnet: %s\n", err);
		return -1;
	}
	uint64_t mark = ffs_log_count();
	if (ffs_eal_init(eal_argc, eal_argv, err, sizeof(err)) != 0 || !ffs_stack_start(conf, err, sizeof(err))) {
		/* The error, then what DPDK said during the attempt (its sink may be none). */
		char log[16 * 512];
		unsigned n = ffs_log_since(mark, 16, log, sizeof(log));
		fprintf(stderr, "ffnet: %s\n%s%s", err, n ? "DPDK log:\n" : "", log);
		return -1;
	}
	return 0;
}

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

void ff_run(loop_func_t loop, void *arg)
{
	struct ffs_stack *st = ffs_stack_current();
	if (!st)
		return;
	unsigned run = atomic_load(&run_stops);
	/* The thread's claimed lcore (ff_set_lcore), or the starting thread's lcores. */
	bool drive = ffs_stack_thread_drives(st);
	unsigned lcore = ffs_stack_thread_idle_lcore(st);
	struct ffs_driver d;
	ffs_driver_busy(&d, now_ns());
	while (atomic_load(&run_stops) == run) {
		unsigned work = drive ? ffs_driver_turns(&d, 1, ffs_stack_turn, st) : 0;
		loop(arg);
		if (!drive)
			continue;
		int fd = ffs_stack_idle_fd_lcore(st, lcore);
		struct ffs_drive_step step = ffs_driver_step(&d, work ? 1 : 0, now_ns(), fd >= 0);
		if (step.action == FFS_DRIVE_NAP) {
			poll(NULL, 0, (int)step.ms);
		} else if (step.action == FFS_DRIVE_SLEEP && ffs_stack_sleep_begin_lcore(st, lcore)) {
			/* Idle: sleep until a RX queue or a control message has work (or the loop is due again). */
			struct pollfd p = { .fd = fd, .events = POLLIN };
			poll(&p, 1, (int)step.ms);
			ffs_stack_sleep_end_lcore(st, lcore);
		}
	}
}

void ff_stop_run(void) { atomic_fetch_add(&run_stops, 1); }

void ff_exit(void)
{
	struct ffs_stack *st = ffs_stack_current();
	if (!st)
		return;
	/* Datagrams already handed to the stack go out, as they would from a closed Linux socket. */
	for (unsigned idle = 0, turns = 0; ffs_stack_is_inline(st) && idle < 16 && turns < 100000; turns++)
		idle = ffs_stack_poll(st) ? 0 : idle + 1;
	{
		FF_READER();
		for (int fd = 0; fd < FF_MAX_SOCKETS; fd++)
			if (ff_sock_lookup(st, fd))
				ff_close(fd);
	}
	ff_app_forget();
	ffs_stack_stop(st);
	ffs_eal_cleanup();
}
