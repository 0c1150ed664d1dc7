/*
 * DPDK's log, kept by ffnet: every line DPDK logs (at or above the EAL --log-level) is kept in a
 * ring of the last FFS_LOG_KEEP lines in memory, so a failed start can report why, and is also
 * written to one configured sink: none (the default: a node:dgram program prints nothing DPDK
 * says), stderr, a file, or syslog. Installed with rte_openlog_stream before rte_eal_init, so the
 * EAL's own start-up lines are kept too.
 */
#ifndef FFNET_STACK_EAL_LOG_H
#define FFNET_STACK_EAL_LOG_H

#include <stddef.h>
#include <stdint.h>

/** Lines kept in memory. */
#define FFS_LOG_KEEP 64

/**
 * Sends DPDK's log to `sink`: "none" (NULL too), "stderr", "syslog" or "file:PATH" (appended to).
 * May be called again to change the sink. Returns 0, or -1 with a message in err.
 */
int ffs_log_open(const char *sink, char *err, size_t errlen);

/** Where stderr went during a capture (ffs_log_capture_stderr). */
struct ffs_log_capture {
	int saved_fd; /**< the process's stderr, restored at the end */
	int mem_fd;   /**< a memfd: what was written meanwhile (never blocks the writer, as a pipe could) */
};

/**
 * Points fd 2 at a memfd until ffs_log_capture_end, for calls that print to stderr beside DPDK's log
 * (rte_eal_init's "EAL: FATAL: ..."). Everything the process writes to fd 2 meanwhile, from any
 * thread, is captured. 0, or -1 (stderr untouched) when no memfd could be made.
 */
int ffs_log_capture_stderr(struct ffs_log_capture *c);
/** Restores fd 2, and keeps what was written to it (its last 16 KiB) as error lines of DPDK's log,
 *  written to the sink like the rest. */
void ffs_log_capture_end(struct ffs_log_capture *c);

/** How many lines DPDK has logged so far (a mark for ffs_log_since). */
uint64_t ffs_log_count(void);

/**
 * Copies the lines logged after `mark` (at most the last `max`, and never more than FFS_LOG_KEEP)
 * into out, each ending with '\n', NUL-terminated and truncated to outlen. Returns how many lines.
 */
unsigned ffs_log_since(uint64_t mark, unsigned max, char *out, size_t outlen);

#endif
