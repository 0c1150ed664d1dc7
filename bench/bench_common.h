/*
 * What the C benchmark programs share: a monotonic clock in seconds, strict integer options and an
 * IPv4 address option.
 */
#ifndef FFNET_BENCH_COMMON_H
#define FFNET_BENCH_COMMON_H

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
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

/** The IPv4 socket address `address`:`port`; exits 2 with a message naming `prog` when `address` is not
 *  a dotted quad. */
static inline struct sockaddr_in parse_ipv4(const char *prog, const char *address, long port)
{
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	if (inet_pton(AF_INET, address, &sin.sin_addr) != 1) {
		fprintf(stderr, "%s: --address takes an IPv4 address\n", prog);
		exit(2);
	}
	return sin;
}

#endif
