/*
 * What the C benchmark programs share: a monotonic clock in seconds and strict integer options.
 */
#ifndef FFNET_BENCH_COMMON_H
#define FFNET_BENCH_COMMON_H

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

/** Seconds on the monotonic clock. */
static inline double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/** Parses option `opt`'s value as an integer in [min, max]; exits 2 with a message naming `prog` otherwise. */
static inline long parse_number(const char *prog, const char *opt, const char *v, long min, long max)
{
	char *end;
	errno = 0;
	long n = v ? strtol(v, &end, 10) : 0;
	if (!v || errno || *end || n < min || n > max) {
		fprintf(stderr, "%s: %s takes an integer in %ld..%ld\n", prog, opt, min, max);
		exit(2);
	}
	return n;
}

#endif
