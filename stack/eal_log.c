/*
 * DPDK's log kept in memory and teed to a sink (see eal_log.h). The stream is a fopencookie FILE:
 * rte_vlog formats a message into it and flushes, so the write callback sees whole messages; it
 * splits them into lines under a mutex, because lcores and the JS thread log concurrently.
 *
 * rte_eal_init also writes outside its log: rte_eal_init_alert prints "EAL: FATAL: ..." with
 * fprintf(stderr). While it runs, fd 2 is a memfd (ffs_log_capture_stderr), and what landed there
 * joins the log as error lines, so the sink decides where it goes and a failed start quotes it.
 */
#define _GNU_SOURCE /* fopencookie */
#include "stack/eal_log.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>
#include <sys/mman.h>
#include <unistd.h>
#include <rte_log.h>

#define LINE_LEN 512
/** The most of what was written to stderr during rte_eal_init that is read back (its tail). */
#define CAPTURE_MAX 16384

enum sink_kind { SINK_NONE, SINK_STDERR, SINK_FILE, SINK_SYSLOG };

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static char lines[FFS_LOG_KEEP][LINE_LEN];
static uint64_t n_lines; /* line i lives in lines[i % FFS_LOG_KEEP] */
static char partial[LINE_LEN];
static size_t partial_len;
static enum sink_kind sink = SINK_NONE;
static FILE *sink_file;
static FILE *stream;

/** Keeps one line (NUL-terminated, at most LINE_LEN - 1 bytes) and writes it to the sink, at DPDK's
 *  `level`. Called with the lock held. */
static void keep_line(const char *line, int level)
{
	snprintf(lines[n_lines % FFS_LOG_KEEP], LINE_LEN, "%s", line);
	n_lines++;
	switch (sink) {
	case SINK_STDERR:
		fprintf(stderr, "%s\n", line);
		break;
	case SINK_FILE:
		fprintf(sink_file, "%s\n", line);
		fflush(sink_file);
		break;
	case SINK_SYSLOG:
		/* DPDK's levels are syslog's priorities plus one (RTE_LOG_EMERG = 1 .. RTE_LOG_DEBUG = 8). */
		syslog(level >= 1 && level <= 8 ? level - 1 : LOG_NOTICE, "%s", line);
		break;
	case SINK_NONE:
		break;
	}
}

/** Ends the line being assembled from DPDK's log stream. Called with the lock held. */
static void line_done(void)
{
	partial[partial_len] = '\0';
	keep_line(partial, rte_log_cur_msg_loglevel());
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

int ffs_log_capture_stderr(struct ffs_log_capture *c)
{
	c->saved_fd = -1;
	c->mem_fd = memfd_create("ffnet-eal-stderr", MFD_CLOEXEC);
	if (c->mem_fd < 0)
		return -1;
	fflush(stderr);
	c->saved_fd = fcntl(STDERR_FILENO, F_DUPFD_CLOEXEC, 3);
	if (c->saved_fd < 0 || dup2(c->mem_fd, STDERR_FILENO) < 0) {
		if (c->saved_fd >= 0)
			close(c->saved_fd);
		close(c->mem_fd);
		c->saved_fd = c->mem_fd = -1;
		return -1;
	}
	return 0;
}

void ffs_log_capture_end(struct ffs_log_capture *c)
{
	if (c->saved_fd < 0)
		return;
	fflush(stderr);
	dup2(c->saved_fd, STDERR_FILENO);
	close(c->saved_fd);
	static char text[CAPTURE_MAX + 1];
	off_t size = lseek(c->mem_fd, 0, SEEK_END);
	off_t from = size > CAPTURE_MAX ? size - CAPTURE_MAX : 0;
	ssize_t n = size > 0 ? pread(c->mem_fd, text, (size_t)(size - from), from) : 0;
	close(c->mem_fd);
	c->saved_fd = c->mem_fd = -1;
	if (n <= 0)
		return;
	text[n] = '\0';
	char *line = text;
	if (from > 0) { /* read from mid-line: start at the next whole one */
		char *nl = strchr(text, '\n');
		line = nl ? nl + 1 : text + n;
	}
	pthread_mutex_lock(&lock);
	while (*line) {
		char *end = strchr(line, '\n');
		if (end)
			*end = '\0';
		if (strlen(line) >= LINE_LEN)
			line[LINE_LEN - 1] = '\0';
		keep_line(line, RTE_LOG_ERR);
		if (!end)
			break;
		line = end + 1;
	}
	pthread_mutex_unlock(&lock);
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
