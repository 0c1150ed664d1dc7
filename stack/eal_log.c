/*
 * DPDK's log kept in memory and teed to a sink (see eal_log.h). The stream is a fopencookie FILE:
 * rte_vlog formats a message into it and flushes, so the write callback sees whole messages; it
 * splits them into lines under a mutex, because lcores and the JS thread log concurrently.
 */
#define _GNU_SOURCE /* fopencookie */
#include "stack/eal_log.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>
#include <rte_log.h>

#define LINE_LEN 512

enum sink_kind { SINK_NONE, SINK_STDERR, SINK_FILE, SINK_SYSLOG };

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static char lines[FFS_LOG_KEEP][LINE_LEN];
static uint64_t n_lines; /* line i lives in lines[i % FFS_LOG_KEEP] */
static char partial[LINE_LEN];
static size_t partial_len;
static enum sink_kind sink = SINK_NONE;
static FILE *sink_file;
static FILE *stream;

/** Ends the line being assembled: keeps it and writes it to the sink. Called with the lock held. */
static void line_done(void)
{
	partial[partial_len] = '\0';
	memcpy(lines[n_lines % FFS_LOG_KEEP], partial, partial_len + 1);
	n_lines++;
	switch (sink) {
	case SINK_STDERR:
		fprintf(stderr, "%s\n", partial);
		break;
	case SINK_FILE:
		fprintf(sink_file, "%s\n", partial);
		fflush(sink_file);
		break;
	case SINK_SYSLOG: {
		/* DPDK's levels are syslog's priorities plus one (RTE_LOG_EMERG = 1 .. RTE_LOG_DEBUG = 8). */
		int level = rte_log_cur_msg_loglevel();
		syslog(level >= 1 && level <= 8 ? level - 1 : LOG_NOTICE, "%s", partial);
		break;
	}
	case SINK_NONE:
		break;
	}
	partial_len = 0;
}

static ssize_t log_write(void *cookie, const char *buf, size_t size)
{
	(void)cookie;
	pthread_mutex_lock(&lock);
	for (size_t i = 0; i < size; i++) {
		if (buf[i] == '\n')
			line_done();
		else if (partial_len < LINE_LEN - 1)
			partial[partial_len++] = buf[i];
	}
	pthread_mutex_unlock(&lock);
	return (ssize_t)size;
}

int ffs_log_open(const char *spec, char *err, size_t errlen)
{
	enum sink_kind kind = SINK_NONE;
	FILE *file = NULL;
	if (!spec || strcmp(spec, "none") == 0) {
		kind = SINK_NONE;
	} else if (strcmp(spec, "stderr") == 0) {
		kind = SINK_STDERR;
	} else if (strcmp(spec, "syslog") == 0) {
		kind = SINK_SYSLOG;
	} else if (strncmp(spec, "file:", 5) == 0 && spec[5]) {
		kind = SINK_FILE;
		file = fopen(spec + 5, "ae");
		if (!file) {
			snprintf(err, errlen, "cannot open the DPDK log file %s: %s", spec + 5, strerror(errno));
			return -1;
		}
	} else {
		snprintf(err, errlen, "\"%s\" is not a log sink (none, stderr, syslog or file:PATH)", spec);
		return -1;
	}
	if (!stream) {
		cookie_io_functions_t io = { .write = log_write };
		stream = fopencookie(NULL, "w", io);
		if (!stream) {
			if (file)
				fclose(file);
			snprintf(err, errlen, "cannot create the DPDK log stream: %s", strerror(errno));
			return -1;
		}
	}
	pthread_mutex_lock(&lock);
	if (sink_file)
		fclose(sink_file);
	sink_file = file;
	if (kind == SINK_SYSLOG && sink != SINK_SYSLOG)
		openlog("ffnet", LOG_PID | LOG_NDELAY, LOG_USER);
	sink = kind;
	pthread_mutex_unlock(&lock);
	rte_openlog_stream(stream);
	return 0;
}

uint64_t ffs_log_count(void)
{
	pthread_mutex_lock(&lock);
	uint64_t n = n_lines;
	pthread_mutex_unlock(&lock);
	return n;
}

unsigned ffs_log_since(uint64_t mark, unsigned max, char *out, size_t outlen)
{
	if (outlen)
		out[0] = '\0';
	pthread_mutex_lock(&lock);
	uint64_t first = mark;
	if (max > FFS_LOG_KEEP)
		max = FFS_LOG_KEEP;
	if (n_lines > max && first < n_lines - max)
		first = n_lines - max;
	unsigned copied = 0;
	size_t used = 0;
	for (uint64_t i = first; i < n_lines; i++) {
		int n = snprintf(out + used, outlen - used, "%s\n", lines[i % FFS_LOG_KEEP]);
		if (n < 0 || (size_t)n >= outlen - used)
			break;
		used += (size_t)n;
		copied++;
	}
	pthread_mutex_unlock(&lock);
	return copied;
}
