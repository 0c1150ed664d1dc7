/*
 * The stack side of test/stack/flow-affinity-kernel.test.ts: a stack with two data-path lcores (1
 * and 2, floating over the machine's CPUs) on a net_tap port (kernel interface ff0, two queue
 * pairs) at 10.77.0.2/24, and a reusePort group of two sockets on one UDP port, homed on lcores 0
 * and 1. Every datagram a member receives is echoed back to its sender from that member.
 *
 * Run inside a namespace of the test's own. Usage: affinity-echo PORT. Prints "ready" once the
 * sockets are bound; on a "stop" line on stdin (or after 60 s) prints one JSON line — the source
 * ports each member received from, in order, the port's RX queue count, and each lcore's counters
 * that tell where datagrams were processed — then stops the stack and exits 0.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#include "stack/lcore/lcore.h"
#include "stack/sock/sock.h"
#include "test/stack/stack_env.h"

#define STACK_ADDR 0x0a4d0002u /* 10.77.0.2 */
#define MAX_RECORDS 8192
#define RUN_MS 60000

static uint16_t from[2][MAX_RECORDS];
static unsigned n_from[2];

/** Receives what waits on member k and echoes each datagram to its sender. */
static unsigned echo(struct ffs_stack *st, struct ffs_sock *so, unsigned k)
{
	static uint8_t buf[2048];
	uint32_t src, dst;
	uint16_t sport;
	bool truncated;
	struct iovec iov = { buf, sizeof(buf) };
	unsigned n = 0;
	int len;
	while ((len = ffs_sock_recvv(st, so, &iov, 1, &src, &sport, &dst, &truncated, false)) >= 0) {
		if (n_from[k] < MAX_RECORDS)
			from[k][n_from[k]++] = sport;
		struct iovec out = { buf, (size_t)len };
		int rc = ffs_sock_sendv(st, so, &out, 1, src, sport);
		if (rc < 0)
			fprintf(stderr, "affinity-echo: echo to port %u failed: %s\n", sport, strerror(-rc));
		n++;
	}
	return n;
}

static bool stop_requested(void)
{
	struct pollfd pfd = { .fd = STDIN_FILENO, .events = POLLIN };
	if (poll(&pfd, 1, 1) <= 0)
		return false;
	char line[64];
	/* A closed stdin (the test died) stops as well. */
	return !fgets(line, sizeof(line), stdin) || strncmp(line, "stop", 4) == 0;
}

int main(int argc, char **argv)
{
	uint16_t port = argc > 1 ? (uint16_t)atoi(argv[1]) : 7400;
	test_eal_init("affinity-echo", "256", "--lcores=0@(0-1),1@(0-1),2@(0-1)", "--vdev=net_tap0,iface=ff0", NULL);
	struct ffs_conf conf;
	test_conf_two_data_lcores(&conf);
	test_conf_port(&conf, STACK_ADDR, 0xffffff00u);
	struct ffs_stack *st = test_stack_start("affinity-echo", &conf);
	struct ffs_sock *member[2];
	for (unsigned k = 0; k < 2; k++) {
		struct ffs_app *app = ffs_app_new(st);
		if (!app) {
			fprintf(stderr, "affinity-echo: no application context\n");
			return 2;
		}
		app->home = k;
		if (ffs_sock_open(st, app, &member[k]) != 0) {
			fprintf(stderr, "affinity-echo: socket: out of sockets\n");
			return 2;
		}
		member[k]->nonblock = true;
		member[k]->reuseport = true;
		member[k]->rcvbuf = 1 << 20;
		int rc = ffs_sock_bind(st, member[k], 0, port);
		if (rc != 0) {
			fprintf(stderr, "affinity-echo: bind %u: %s\n", port, strerror(-rc));
			return 2;
		}
	}
	printf("ready\n");
	fflush(stdout);

	uint64_t deadline = test_ms_from_now(RUN_MS);
	while (!stop_requested() && rte_rdtsc() < deadline) {
		ffs_app_rearm(member[0]->app);
		ffs_app_rearm(member[1]->app);
		echo(st, member[0], 0);
		echo(st, member[1], 1);
	}

	printf("{\"rxQueues\":%u,\"members\":[", st->ports[0].nb_rxq);
	for (unsigned k = 0; k < 2; k++) {
		printf("%s[", k ? "," : "");
		for (unsigned i = 0; i < n_from[k]; i++)
			printf("%s%u", i ? "," : "", from[k][i]);
		printf("]");
	}
	printf("],\"lcores\":[");
	for (unsigned i = 0; i < ffs_stack_lcore_count(st); i++) {
		struct ffs_counters c;
		ffs_stack_counters(st, i, &c);
		printf("%s{\"udp_rx\":%llu,\"udp_delivered\":%llu,\"udp_cross_lcore\":%llu,\"udp_tx\":%llu,"
		       "\"eth_dispatched\":%llu}",
		       i ? "," : "", (unsigned long long)c.udp_rx, (unsigned long long)c.udp_delivered,
		       (unsigned long long)c.udp_cross_lcore, (unsigned long long)c.udp_tx,
		       (unsigned long long)c.eth_dispatched);
	}
	printf("]}\n");
	fflush(stdout);
	ffs_sock_close(st, member[0]);
	ffs_sock_close(st, member[1]);
	ffs_stack_stop(st);
	return 0;
}
