/*
 * kernel_recv: the kernel path's own best receiver, beside node:dgram in bench:dgram — one UDP socket
 * drained with recvmmsg, so what node:dgram adds on top of the kernel (libuv, one JS callback and one
 * Buffer per datagram) shows against the same sender.
 *
 *   kernel_recv --port PORT [--address 127.0.0.1 | --address ::1] [--warmup 1] [--window 3] [--max-wait 30] [--batch 64]
 *
 * Binds ADDRESS:PORT (an IPv6 address: an AF_INET6 socket) with the system's default SO_RCVBUF (as node:dgram's socket), then receives in
 * blocking recvmmsg calls of up to --batch datagrams (MSG_WAITFORONE: a call returns as soon as one has
 * arrived). As bench/common.ts's measureWindow does for the JS receivers: the window opens --warmup
 * seconds after the first datagram and lasts --window seconds; then it keeps receiving until nothing
 * has arrived for QUIET_MS, so the sender is measured against a live receiver. Prints one JSON line:
 * {"backend":"kernel recvmmsg","delivered":…,"bytes":…,"seconds":…,"pps":…,"calls":…,"cpu_pct":…,
 *  "ns_cpu_per_dgram":…,"ctx_switches_voluntary":…,"ctx_switches_involuntary":…}
 * where delivered, bytes and calls count the window, and the CPU time (user + system, so the kernel's
 * receive work done in the receiver's system calls is in it) and context switches are this process's
 * over it.
 * Run it inside the benchmark's network namespace.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdbool.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "bench/bench_common.h"

#define MAX_BATCH 256
#define DGRAM_MAX 2048
#define QUIET_MS 300
/** recvmmsg gives up after this long without a datagram, so the clock is read while idle too. */
#define POLL_MS 20

/** Parses option `opt`'s value as seconds (a decimal) in [min, max]; exits 2 otherwise. */
static double parse_seconds(const char *opt, const char *v, double min, double max)
{
	char *end;
	errno = 0;
	double x = strtod(v, &end);
	if (errno || *end || end == v || x < min || x > max) {
		fprintf(stderr, "kernel_recv: %s takes seconds in %g..%g\n", opt, min, max);
		exit(2);
	}
	return x;
}

static double tv_s(struct timeval tv)
{
	return (double)tv.tv_sec + (double)tv.tv_usec / 1e6;
}

static void usage(void)
{
	fprintf(stderr, "usage: kernel_recv --port PORT [--address 127.0.0.1] [--warmup 1] [--window 3] [--max-wait 30] [--batch 64]\n");
	exit(2);
}

int main(int argc, char *argv[])
{
	long port = 0, max_wait = 30, batch = 64;
	double warmup = 1, window = 3;
	const char *address = "127.0.0.1";
	for (int i = 1; i < argc; i += 2) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (!v)
			usage();
		if (strcmp(a, "--port") == 0)
			port = parse_number("kernel_recv", a, v, 1, 65535);
		else if (strcmp(a, "--address") == 0)
			address = v;
		else if (strcmp(a, "--warmup") == 0)
			warmup = parse_seconds(a, v, 0, 60);
		else if (strcmp(a, "--window") == 0)
			window = parse_seconds(a, v, 0.5, 60);
		else if (strcmp(a, "--max-wait") == 0)
			max_wait = parse_number("kernel_recv", a, v, 1, 600);
		else if (strcmp(a, "--batch") == 0)
			batch = parse_number("kernel_recv", a, v, 1, MAX_BATCH);
		else
			usage();
	}
	if (port == 0)
		usage();
	struct sockaddr_in6 at6 = { .sin6_family = AF_INET6, .sin6_port = htons((uint16_t)port) };
	bool v6 = inet_pton(AF_INET6, address, &at6.sin6_addr) == 1;
	struct sockaddr_in at = v6 ? (struct sockaddr_in){ 0 } : parse_ipv4("kernel_recv", address, port);
	int fd = socket(v6 ? AF_INET6 : AF_INET, SOCK_DGRAM, 0);
	struct timeval tv = { .tv_sec = 0, .tv_usec = POLL_MS * 1000 };
	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) != 0 ||
	    bind(fd, v6 ? (const struct sockaddr *)&at6 : (const struct sockaddr *)&at, v6 ? sizeof(at6) : sizeof(at)) != 0) {
		fprintf(stderr, "kernel_recv: socket/bind %s:%ld: %s\n", address, port, strerror(errno));
		return 1;
	}
	static char bufs[MAX_BATCH][DGRAM_MAX];
	static struct iovec iov[MAX_BATCH];
	static struct mmsghdr msgs[MAX_BATCH];
	for (int i = 0; i < MAX_BATCH; i++) {
		iov[i] = (struct iovec){ bufs[i], DGRAM_MAX };
		msgs[i].msg_hdr = (struct msghdr){ .msg_iov = &iov[i], .msg_iovlen = 1 };
	}
	unsigned long long count = 0, bytes = 0, calls = 0;
	unsigned long long c0 = 0, b0 = 0, k0 = 0, c1 = 0, b1 = 0, k1 = 0;
	double started = now_s(), first = 0, t0 = 0, t1 = 0, last = 0;
	struct rusage r0 = { 0 }, r1 = { 0 };
	for (;;) {
		int n = recvmmsg(fd, msgs, (unsigned)batch, MSG_WAITFORONE, NULL);
		double t = now_s();
		if (n > 0) {
			calls++;
			count += (unsigned)n;
			for (int i = 0; i < n; i++)
				bytes += msgs[i].msg_len;
			last = t;
			if (first == 0)
				first = t;
		} else if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
			fprintf(stderr, "kernel_recv: recvmmsg: %s\n", strerror(errno));
			return 1;
		}
		if (first == 0) {
			if (t - started > (double)max_wait) {
				fprintf(stderr, "kernel_recv: no datagram within %ld s\n", max_wait);
				return 1;
			}
			continue;
		}
		if (t0 == 0 && t - first >= warmup) {
			t0 = t;
			c0 = count;
			b0 = bytes;
			k0 = calls;
			getrusage(RUSAGE_SELF, &r0);
		}
		if (t0 != 0 && t1 == 0 && t - t0 >= window) {
			t1 = t;
			c1 = count;
			b1 = bytes;
			k1 = calls;
			getrusage(RUSAGE_SELF, &r1);
		}
		if (t1 != 0 && t - last > QUIET_MS / 1000.0)
			break;
		if (t - started > (double)max_wait + warmup + window + 60) {
			fprintf(stderr, "kernel_recv: the sender did not stop\n");
			return 1;
		}
	}
	double secs = t1 - t0;
	double cpu = tv_s(r1.ru_utime) + tv_s(r1.ru_stime) - tv_s(r0.ru_utime) - tv_s(r0.ru_stime);
	unsigned long long delivered = c1 - c0;
	printf("{\"backend\":\"kernel recvmmsg\",\"delivered\":%llu,\"bytes\":%llu,\"seconds\":%.3f,\"pps\":%.1f,\"calls\":%llu,"
	       "\"cpu_pct\":%.1f,\"ns_cpu_per_dgram\":%.1f,\"ctx_switches_voluntary\":%ld,\"ctx_switches_involuntary\":%ld}\n",
	       delivered, b1 - b0, secs, (double)delivered / secs, k1 - k0, cpu / secs * 100, delivered ? cpu * 1e9 / (double)delivered : 0.0,
	       r1.ru_nvcsw - r0.ru_nvcsw, r1.ru_nivcsw - r0.ru_nivcsw);
	close(fd);
	return 0;
}
