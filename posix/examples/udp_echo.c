/*
 * udp_echo: an F-Stack-style UDP echo server on ffnet's ff_* API.
 *
 *   udp_echo [--conf ffnet.ini] [--port 7] [--count N] [--seconds S] [--ipv6]
 *
 * Starts the stack with ff_init, binds 0.0.0.0:port (with --ipv6 an AF_INET6 socket on [::]:port,
 * IPV6_V6ONLY: udp6 alone), and inside ff_run waits on an edge-triggered
 * epoll set, drains the socket with ff_recvmmsg and sends each batch back with ff_sendmmsg. It stops
 * after echoing N datagrams (--count) or after S seconds (--seconds, default 60), whichever comes
 * first, and prints one line of JSON: {"echoed":…,"bytes":…,"elapsed_s":…,"rate_pps":…}.
 */
#include <errno.h>
#include <stdbool.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "posix/ff_api.h"

#define BATCH 32
#define DGRAM_MAX 2048

struct echo {
	int sock, epfd;
	unsigned long long limit, echoed, bytes;
	double deadline, started;
	struct mmsghdr msgs[BATCH];
	struct iovec iov[BATCH];
	struct sockaddr_in6 peers[BATCH]; /* room for either family's address */
	char bufs[BATCH][DGRAM_MAX];
};

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/** Receives up to BATCH datagrams and sends them back; returns how many, or -1 when the socket is empty. */
static int echo_batch(struct echo *e)
{
	unsigned want = BATCH;
	if (e->limit && e->limit - e->echoed < want)
		want = (unsigned)(e->limit - e->echoed);
	for (unsigned i = 0; i < want; i++) {
		e->iov[i] = (struct iovec){ e->bufs[i], DGRAM_MAX };
		e->msgs[i].msg_hdr = (struct msghdr){ .msg_name = &e->peers[i], .msg_namelen = sizeof(e->peers[i]),
						      .msg_iov = &e->iov[i], .msg_iovlen = 1 };
	}
	int n = ff_recvmmsg(e->sock, e->msgs, want, MSG_DONTWAIT, NULL);
	if (n <= 0)
		return -1;
	for (int i = 0; i < n; i++)
		e->iov[i].iov_len = e->msgs[i].msg_len < DGRAM_MAX ? e->msgs[i].msg_len : DGRAM_MAX;
	int sent = 0;
	while (sent < n) {
		int rc = ff_sendmmsg(e->sock, e->msgs + sent, (unsigned)(n - sent), 0);
		if (rc < 0) {
			fprintf(stderr, "udp_echo: ff_sendmmsg: %s\n", strerror(errno));
			sent++; /* drop the datagram that failed, echo the rest */
			continue;
		}
		for (int i = sent; i < sent + rc; i++)
			e->bytes += e->msgs[i].msg_len;
		e->echoed += (unsigned long long)rc;
		sent += rc;
	}
	return n;
}

/** One turn of ff_run: echo whatever arrived, then check the limits. */
static int loop(void *arg)
{
	struct echo *e = arg;
	struct epoll_event ev[4];
	int n = ff_epoll_wait(e->epfd, ev, 4, 0);
	for (int i = 0; i < n; i++)
		if (ev[i].events & EPOLLIN)
			while ((!e->limit || e->echoed < e->limit) && echo_batch(e) > 0)
				; /* edge-triggered: drain until empty */
	if ((e->limit && e->echoed >= e->limit) || now_s() >= e->deadline)
		ff_stop_run();
	return 0;
}

static unsigned long long number(const char *opt, const char *v)
{
	char *end;
	errno = 0;
	unsigned long long n = v ? strtoull(v, &end, 10) : 0;
	if (!v || errno || *end || *v == '-') {
		fprintf(stderr, "udp_echo: %s takes a non-negative integer\n", opt);
		exit(2);
	}
	return n;
}

int main(int argc, char *argv[])
{
	static struct echo e;
	unsigned long long port = 7, seconds = 60;
	bool v6 = false;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (strcmp(a, "--port") == 0)
			port = number(a, i + 1 < argc ? argv[++i] : NULL);
		else if (strcmp(a, "--count") == 0)
			e.limit = number(a, i + 1 < argc ? argv[++i] : NULL);
		else if (strcmp(a, "--seconds") == 0)
			seconds = number(a, i + 1 < argc ? argv[++i] : NULL);
		else if (strcmp(a, "--ipv6") == 0)
			v6 = true;
		else if (strcmp(a, "--conf") == 0)
			i++;
		else if (strncmp(a, "--conf=", 7) != 0) {
			fprintf(stderr, "usage: udp_echo [--conf ffnet.ini] [--port 7] [--count N] [--seconds S] [--ipv6]\n");
			return 2;
		}
	}
	if (port == 0 || port > 65535 || seconds == 0) {
		fprintf(stderr, "udp_echo: --port takes 1..65535 and --seconds at least 1\n");
		return 2;
	}
	if (ff_init(argc, argv) != 0)
		return 1;
	e.sock = ff_socket(v6 ? AF_INET6 : AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
	struct sockaddr_in addr = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	struct sockaddr_in6 addr6 = { .sin6_family = AF_INET6, .sin6_port = htons((uint16_t)port) };
	int on = 1;
	if (e.sock < 0 || (v6 && ff_setsockopt(e.sock, IPPROTO_IPV6, IPV6_V6ONLY, &on, sizeof(on)) != 0) ||
	    ff_bind(e.sock, v6 ? (struct sockaddr *)&addr6 : (struct sockaddr *)&addr, v6 ? sizeof(addr6) : sizeof(addr)) != 0) {
		fprintf(stderr, "udp_echo: cannot bind port %llu: %s\n", port, strerror(errno));
		ff_exit();
		return 1;
	}
	e.epfd = ff_epoll_create1(0);
	struct epoll_event ev = { .events = EPOLLIN | EPOLLET, .data.fd = e.sock };
	if (e.epfd < 0 || ff_epoll_ctl(e.epfd, EPOLL_CTL_ADD, e.sock, &ev) != 0) {
		fprintf(stderr, "udp_echo: epoll: %s\n", strerror(errno));
		ff_exit();
		return 1;
	}
	e.started = now_s();
	e.deadline = e.started + (double)seconds;
	ff_run(loop, &e);
	double elapsed = now_s() - e.started;
	printf("{\"echoed\":%llu,\"bytes\":%llu,\"elapsed_s\":%.3f,\"rate_pps\":%.1f}\n", e.echoed, e.bytes, elapsed,
	       elapsed > 0 ? (double)e.echoed / elapsed : 0.0);
	fflush(stdout);
	ff_exit();
	return 0;
}
