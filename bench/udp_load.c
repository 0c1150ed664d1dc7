/*
 * udp_load: a UDP load generator for ffnet's echo path, itself an ffnet program on the ff_* API.
 *
 *   udp_load [--conf ffnet.ini] [--dst 10.88.0.2 | --dst fd00:88::2] [--port 7] [--size 64] [--seconds 5] [--count N]
 *            [--window W] [--batch 32] [--hold-file PATH]
 *
 * Starts the stack with ff_init (an IPv6 --dst: from an AF_INET6 socket, up to 1452 bytes), then inside ff_run sends --size-byte datagrams to dst:port in
 * batches (ff_sendmmsg) and receives the echoes (ff_recvmmsg). At most --window datagrams are
 * outstanding (sent, not yet echoed), so the echo server's socket buffer and the rings between never
 * overflow; when no echo arrives for STALL_MS the outstanding ones are written off and the window
 * reopens. Before measuring, a probe datagram is sent every PROBE_MS until one comes back (the memif
 * link and ARP are then up). Sending stops after --seconds or --count datagrams; echoes are awaited
 * until none are outstanding or DRAIN_MS pass. Prints one line of JSON:
 * {"size":…,"sent":…,"echoed":…,"lost":…,"seconds":…,"pps_echoed":…,"window":…}
 * where seconds runs from the first datagram sent to the last echo received.
 * With --hold-file, the stack (no longer turned once ff_run has returned, so not polling its port) stays
 * up until PATH exists (at most HOLD_S): the runner creates it once the echo server has left, because
 * memif unmaps the shared rings on a disconnect under a data path still polling them — the echo
 * server's, were this end to leave first (bench/common.ts, "leaving a memif link").
 */
#include <errno.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bench/bench_common.h"
#include "posix/ff_api.h"

#define MAX_BATCH 256
#define RX_BATCH 64
#define DGRAM_MAX 2048
#define PROBE_MS 200
#define PROBE_LIMIT_S 20.0
#define STALL_MS 20
#define DRAIN_MS 200
#define HOLD_S 60.0
/** First payload byte: probes and measured datagrams are told apart in the echoes. */
#define TAG_PROBE 'P'
#define TAG_DATA 'D'

enum phase { PROBING, RUNNING, DRAINING, DONE };

struct load {
	int sock;
	struct sockaddr_in6 dst; /* a sockaddr_in for an IPv4 --dst */
	socklen_t dst_len;
	const char *dst_text;
	unsigned size, window, batch;
	unsigned long long limit; /* 0 = none */
	double seconds;
	enum phase phase;
	int failed;
	unsigned long long sent, echoed, written_off;
	double started, deadline, last_echo, last_progress, next_probe, probe_until, drain_until;
	struct mmsghdr tx[MAX_BATCH];
	struct iovec tx_iov;
	char payload[DGRAM_MAX];
	char probe[DGRAM_MAX];
	struct mmsghdr rx[RX_BATCH];
	struct iovec rx_iov[RX_BATCH];
	char rx_bufs[RX_BATCH][DGRAM_MAX];
};

/** Receives every echo queued now; counts measured ones, and notes whether a probe came back. */
static void receive(struct load *l, double now, int *probe_back)
{
	for (unsigned rounds = 0; rounds < 64; rounds++) {
		for (unsigned i = 0; i < RX_BATCH; i++) {
			l->rx_iov[i] = (struct iovec){ l->rx_bufs[i], DGRAM_MAX };
			l->rx[i].msg_hdr = (struct msghdr){ .msg_iov = &l->rx_iov[i], .msg_iovlen = 1 };
		}
		int n = ff_recvmmsg(l->sock, l->rx, RX_BATCH, MSG_DONTWAIT, NULL);
		if (n <= 0)
			return;
		unsigned data = 0;
		for (int i = 0; i < n; i++) {
			if (l->rx[i].msg_len > 0 && l->rx_bufs[i][0] == TAG_DATA)
				data++;
			else if (probe_back)
				*probe_back = 1;
		}
		if (data) {
			l->echoed += data;
			l->last_echo = now;
			l->last_progress = now;
		}
		if (n < RX_BATCH)
			return;
	}
}

/** Sends as many measured datagrams as the window, the batch and the count allow. */
static void transmit(struct load *l, double now)
{
	unsigned long long outstanding = l->sent - l->echoed - l->written_off;
	if (outstanding && now - l->last_progress > STALL_MS / 1000.0) {
		/* Nothing came back for a while: those are lost; reopen the window. */
		l->written_off += outstanding;
		l->last_progress = now;
		outstanding = 0;
	}
	if (outstanding >= l->window)
		return;
	unsigned long long room = l->window - outstanding;
	if (l->limit && l->limit - l->sent < room)
		room = l->limit - l->sent;
	unsigned n = room < l->batch ? (unsigned)room : l->batch;
	if (n == 0)
		return;
	int rc = ff_sendmmsg(l->sock, l->tx, n, MSG_DONTWAIT);
	if (rc < 0) {
		if (errno != EAGAIN && errno != ENOBUFS) {
			fprintf(stderr, "udp_load: ff_sendmmsg: %s\n", strerror(errno));
			l->failed = 1;
			l->phase = DONE;
		}
		return;
	}
	if (outstanding == 0)
		l->last_progress = now;
	l->sent += (unsigned)rc;
}

static int loop(void *arg)
{
	struct load *l = arg;
	double now = now_s();
	int probe_back = 0;
	switch (l->phase) {
	case PROBING:
		receive(l, now, &probe_back);
		if (probe_back) {
			l->phase = RUNNING;
			l->started = l->last_echo = l->last_progress = now_s();
			l->deadline = l->started + l->seconds;
			break;
		}
		if (now >= l->probe_until) {
			fprintf(stderr, "udp_load: no echo from %s:%u within %.0f s\n", l->dst_text,
				ntohs(l->dst.sin6_port), PROBE_LIMIT_S);
			l->failed = 1;
			l->phase = DONE;
		} else if (now >= l->next_probe) {
			struct iovec iov = { l->probe, l->size };
			struct msghdr mh = { .msg_name = &l->dst, .msg_namelen = l->dst_len, .msg_iov = &iov, .msg_iovlen = 1 };
			ff_sendmsg(l->sock, &mh, MSG_DONTWAIT);
			l->next_probe = now + PROBE_MS / 1000.0;
		}
		break;
	case RUNNING:
		receive(l, now, NULL);
		if (now >= l->deadline || (l->limit && l->sent >= l->limit)) {
			l->phase = DRAINING;
			l->drain_until = now + DRAIN_MS / 1000.0;
			break;
		}
		transmit(l, now);
		break;
	case DRAINING:
		receive(l, now, NULL);
		if (l->echoed >= l->sent || now >= l->drain_until)
			l->phase = DONE;
		break;
	case DONE:
		break;
	}
	if (l->phase == DONE)
		ff_stop_run();
	return 0;
}

static unsigned long long number(const char *opt, const char *v, unsigned long long min, unsigned long long max)
{
	char *end;
	errno = 0;
	unsigned long long n = v ? strtoull(v, &end, 10) : 0;
	if (!v || errno || *end || *v == '-' || n < min || n > max) {
		fprintf(stderr, "udp_load: %s takes an integer in %llu..%llu\n", opt, min, max);
		exit(2);
	}
	return n;
}

int main(int argc, char *argv[])
{
	static struct load l;
	const char *dst = "10.88.0.2", *hold_file = NULL;
	unsigned long long port = 7, size = 64, seconds = 5, window = 0, batch = 32;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (strncmp(a, "--conf=", 7) == 0)
			continue;
		if (!v) {
			fprintf(stderr, "usage: udp_load [--conf ffnet.ini] [--dst 10.88.0.2|fd00:88::2] [--port 7] [--size 64] "
					"[--seconds 5] [--count N] [--window W] [--batch 32] [--hold-file PATH]\n");
			return 2;
		}
		if (strcmp(a, "--conf") == 0)
			;
		else if (strcmp(a, "--dst") == 0)
			dst = v;
		else if (strcmp(a, "--hold-file") == 0)
			hold_file = v;
		else if (strcmp(a, "--port") == 0)
			port = number(a, v, 1, 65535);
		else if (strcmp(a, "--size") == 0)
			size = number(a, v, 1, 1472);
		else if (strcmp(a, "--seconds") == 0)
			seconds = number(a, v, 1, 3600);
		else if (strcmp(a, "--count") == 0)
			l.limit = number(a, v, 1, 1ULL << 62);
		else if (strcmp(a, "--window") == 0)
			window = number(a, v, 1, 1 << 20);
		else if (strcmp(a, "--batch") == 0)
			batch = number(a, v, 1, MAX_BATCH);
		else {
			fprintf(stderr, "udp_load: unknown option %s\n", a);
			return 2;
		}
		i++;
	}
	struct sockaddr_in *dst4 = (struct sockaddr_in *)&l.dst;
	*dst4 = (struct sockaddr_in){ .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	l.dst_len = sizeof(*dst4);
	if (inet_pton(AF_INET, dst, &dst4->sin_addr) != 1) {
		l.dst = (struct sockaddr_in6){ .sin6_family = AF_INET6, .sin6_port = htons((uint16_t)port) };
		l.dst_len = sizeof(l.dst);
		if (inet_pton(AF_INET6, dst, &l.dst.sin6_addr) != 1) {
			fprintf(stderr, "udp_load: --dst takes an IPv4 or IPv6 address\n");
			return 2;
		}
		if (size > 1452) {
			fprintf(stderr, "udp_load: --size takes 1..1452 over IPv6\n");
			return 2;
		}
	}
	int family = l.dst.sin6_family;
	l.dst_text = dst;
	/* The default window keeps the echo server's socket (Linux's default SO_RCVBUF, 212992 bytes,
	 * charged with 256 bytes of overhead per datagram) from overflowing. */
	if (!window) {
		window = 200000 / (size + 256);
		if (window > 512)
			window = 512;
	}
	l.size = (unsigned)size;
	l.window = (unsigned)window;
	l.batch = (unsigned)batch;
	l.seconds = (double)seconds;

	if (ff_init(argc, argv) != 0)
		return 1;
	l.sock = ff_socket(family, SOCK_DGRAM | SOCK_NONBLOCK, 0);
	int rcvbuf = 1 << 20;
	struct sockaddr_in6 any = { .sin6_family = (sa_family_t)family };
	if (l.sock < 0 || ff_setsockopt(l.sock, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf)) != 0 ||
	    ff_bind(l.sock, (struct sockaddr *)&any, family == AF_INET6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in)) != 0) {
		fprintf(stderr, "udp_load: socket: %s\n", strerror(errno));
		ff_exit();
		return 1;
	}
	memset(l.payload, 0, sizeof(l.payload));
	memset(l.probe, 0, sizeof(l.probe));
	l.payload[0] = TAG_DATA;
	l.probe[0] = TAG_PROBE;
	l.tx_iov = (struct iovec){ l.payload, l.size };
	for (unsigned i = 0; i < MAX_BATCH; i++)
		l.tx[i].msg_hdr = (struct msghdr){ .msg_name = &l.dst, .msg_namelen = l.dst_len, .msg_iov = &l.tx_iov,
						   .msg_iovlen = 1 };
	l.phase = PROBING;
	l.probe_until = now_s() + PROBE_LIMIT_S;
	ff_run(loop, &l);

	double secs = l.last_echo > l.started ? l.last_echo - l.started : 0;
	unsigned long long lost = l.sent > l.echoed ? l.sent - l.echoed : 0;
	printf("{\"size\":%u,\"sent\":%llu,\"echoed\":%llu,\"lost\":%llu,\"seconds\":%.3f,\"pps_echoed\":%.1f,\"window\":%u}\n",
	       l.size, l.sent, l.echoed, lost, secs, secs > 0 ? (double)l.echoed / secs : 0.0, l.window);
	fflush(stdout);
	for (double until = now_s() + HOLD_S; hold_file && access(hold_file, F_OK) != 0 && now_s() < until;)
		usleep(10000);
	ff_exit();
	return l.failed ? 1 : 0;
}
