/*
 * kernel_blast: a UDP load generator over the Linux kernel's sockets, for node:dgram receivers — the
 * kernel counterpart of udp_blast, so that a receiver, not the sender, bounds what is measured.
 *
 *   kernel_blast --port PORT [--size 64] [--seconds 5] [--flows 16] [--address 127.0.0.1]
 *
 * Opens --flows UDP sockets, each connected to ADDRESS:PORT from its own ephemeral port (a flow each:
 * reusePort groups and RSS spread them by their 4-tuple), and sends --size-byte datagrams from them in
 * turn, 32 per sendmmsg, for --seconds. A socket whose send buffer is full (EAGAIN) or whose datagram
 * was refused (ECONNREFUSED: no receiver bound yet) is skipped for that turn. Prints one JSON line:
 * {"size":…,"flows":…,"seconds":…,"sent":…,"pps":…,"refused":…}
 * where sent counts datagrams the kernel accepted and refused the ECONNREFUSED errors.
 * Run it inside the benchmark's network namespace: it sends only to ADDRESS.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "bench/bench_common.h"

#define BATCH 32
#define MAX_FLOWS 1024

static void usage(void)
{
	fprintf(stderr, "usage: kernel_blast --port PORT [--size 64] [--seconds 5] [--flows 16] [--address 127.0.0.1]\n");
	exit(2);
}

int main(int argc, char *argv[])
{
	long port = 0, size = 64, seconds = 5, flows = 16;
	const char *address = "127.0.0.1";
	for (int i = 1; i < argc; i += 2) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (!v)
			usage();
		if (strcmp(a, "--port") == 0)
			port = parse_number("kernel_blast", a, v, 1, 65535);
		else if (strcmp(a, "--size") == 0)
			size = parse_number("kernel_blast", a, v, 1, 65507);
		else if (strcmp(a, "--seconds") == 0)
			seconds = parse_number("kernel_blast", a, v, 1, 3600);
		else if (strcmp(a, "--flows") == 0)
			flows = parse_number("kernel_blast", a, v, 1, MAX_FLOWS);
		else if (strcmp(a, "--address") == 0)
			address = v;
		else
			usage();
	}
	if (port == 0)
		usage();
	struct sockaddr_in dst = parse_ipv4("kernel_blast", address, port);
	static int fds[MAX_FLOWS];
	for (long f = 0; f < flows; f++) {
		fds[f] = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
		if (fds[f] < 0 || connect(fds[f], (const struct sockaddr *)&dst, sizeof(dst)) != 0) {
			fprintf(stderr, "kernel_blast: socket/connect to %s:%ld: %s\n", address, port, strerror(errno));
			return 1;
		}
	}
	char *payload = malloc((size_t)size);
	if (!payload)
		return 1;
	memset(payload, 'a', (size_t)size);
	struct iovec iov = { .iov_base = payload, .iov_len = (size_t)size };
	struct mmsghdr msgs[BATCH];
	memset(msgs, 0, sizeof(msgs));
	for (int i = 0; i < BATCH; i++) {
		msgs[i].msg_hdr.msg_iov = &iov;
		msgs[i].msg_hdr.msg_iovlen = 1;
	}
	unsigned long long sent = 0, refused = 0;
	double start = now_s(), end = start + (double)seconds;
	/* The clock is read once per round over the flows: a round is at most flows × BATCH datagrams. */
	while (now_s() < end) {
		for (long f = 0; f < flows; f++) {
			int n = sendmmsg(fds[f], msgs, BATCH, 0);
			if (n > 0)
				sent += (unsigned)n;
			else if (n < 0 && errno == ECONNREFUSED)
				refused++;
		}
	}
	double secs = now_s() - start;
	printf("{\"size\":%ld,\"flows\":%ld,\"seconds\":%.3f,\"sent\":%llu,\"pps\":%.1f,\"refused\":%llu}\n", size, flows, secs, sent,
	       (double)sent / secs, refused);
	for (long f = 0; f < flows; f++)
		close(fds[f]);
	free(payload);
	return 0;
}
