/*
 * The control server's state, shared by its files in stack/ctl/ (not part of ctl.h's interface):
 * what `info` reports about the process, and the telemetry commands' view of the stack.
 */
#ifndef FFNET_CTL_SERVER_H
#define FFNET_CTL_SERVER_H

#include <stdint.h>
#include "stack/ctl/ctl.h"

/** The process's command line as /proc/self/cmdline gives it: argc NUL-terminated strings. */
struct ffs_ctl_cmdline {
	char buf[4096];
	unsigned argc;
	const char *argv[64];
	char program[256]; /**< struct ffs_conf's program, else the executable's base name */
};

/** When the server started (unix ms), and the process's command line. NULL when it is not running. */
uint64_t ffs_ctl_started_ms(const struct ffs_stack *st);
const struct ffs_ctl_cmdline *ffs_ctl_cmdline(const struct ffs_stack *st);

/**
 * Points the /ffnet/ telemetry commands at st, or at nothing (NULL: they answer null), waiting out a
 * callback in progress; registers them on first use (ctl/telemetry.c).
 */
void ffs_ctl_telemetry_attach(struct ffs_stack *st);

#endif
