/*
 * The control server (stack/ctl/server.c) against clients that come while the stack starts and
 * stops, as `ffnet ps` from another process does: a client thread connects to the stack's
 * ffnet.<pid>.sock over and over, asking `info` and `stats`, from before the stack starts until after
 * it stopped, keeping some connections open. Run under ThreadSanitizer (scripts/test-sanitize.mjs)
 * these cases show what a plain build cannot: a connection thread reading what start-up had not
 * published yet, or counters as the stack's lcore writes them, or left unjoined when the process ends.
 *
 * Cases: start, requests (while the stack turns and counts) and stop with connections open end every
 * connection, remove the socket and leave no server thread behind; the last case leaves a stack
 * running when the program ends (as a C program that never stops its stack), after connections came
 * and went. Bounded: a few seconds.
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>
#include <rte_eal.h>

#include "stack/ctl/ctl.h"
#include "test/stack/harness.h"
#include "test/stack/stack_env.h"

#define CLIENTS 2
/** Connections each client keeps open instead of closing (both clients stay under the server's 16). */
#define HELD 6
#define RUN_MS 5000

struct client {
	pthread_t thread;
	atomic_bool quit;
	atomic_int replies;  /**< "ok" replies to info or stats */
	atomic_int refused;  /**< connections refused: no stack, or it stopped */
	atomic_int bad;      /**< replies that were not JSON replies of the control server */
	int held[HELD];
	int n_held;
};

static char sock_path[sizeof(((struct sockaddr_un *)0)->sun_path)];
static bool eal_ready;

static void setup(void)
{
	if (eal_ready)
		return;
	test_eal_init("ctl_server_test", "256", "-l", "0", NULL);
	snprintf(sock_path, sizeof(sock_path), "%s/ffnet.%d.sock", rte_eal_get_runtime_dir(), (int)getpid());
	eal_ready = true;
}

static uint64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/** Reads reply lines on fd until `lines` came or the server closed; how many came. */
static int read_replies(int fd, int lines, struct client *c)
{
	char buf[65536];
	size_t len = 0;
	int got = 0;
	while (got < lines && len < sizeof(buf)) {
		ssize_t n = recv(fd, buf + len, sizeof(buf) - len, 0);
		if (n <= 0)
			break;
		len += (size_t)n;
		got = 0;
		for (size_t i = 0; i < len; i++)
			got += buf[i] == '\n';
	}
	if (got > 0 && strncmp(buf, "{\"ok\":", 6) != 0)
		atomic_fetch_add(&c->bad, 1);
	else if (got > 0 && strncmp(buf, "{\"ok\":true", 10) == 0)
		atomic_fetch_add(&c->replies, got);
	return got;
}

/** Connects, asks info and stats, reads both replies; keeps every other connection (up to HELD). */
static void *client_main(void *arg)
{
	struct client *c = arg;
	uint64_t deadline = now_ms() + RUN_MS;
	for (unsigned round = 0; !atomic_load(&c->quit) && now_ms() < deadline; round++) {
		int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (fd < 0)
			break;
		struct timeval tv = { .tv_sec = 2 };
		setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
		struct sockaddr_un sa = { .sun_family = AF_UNIX };
		snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", sock_path);
		if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
			atomic_fetch_add(&c->refused, 1);
			close(fd);
			usleep(100);
			continue;
		}
		static const char req[] = "info\nstats\n";
		if (send(fd, req, sizeof(req) - 1, MSG_NOSIGNAL) == (ssize_t)sizeof(req) - 1)
			read_replies(fd, 2, c);
		if (round % 2 == 0 && c->n_held < HELD)
			c->held[c->n_held++] = fd;
		else
			close(fd);
	}
	return NULL;
}

static void clients_start(struct client *cs)
{
	for (int i = 0; i < CLIENTS; i++) {
		memset(&cs[i], 0, sizeof(cs[i]));
		CHECK_EQ_INT(pthread_create(&cs[i].thread, NULL, client_main, &cs[i]), 0);
	}
}

static void clients_stop(struct client *cs)
{
	for (int i = 0; i < CLIENTS; i++)
		atomic_store(&cs[i].quit, true);
	for (int i = 0; i < CLIENTS; i++)
		pthread_join(cs[i].thread, NULL);
}

static int total(struct client *cs, atomic_int *(*field)(struct client *))
{
	int n = 0;
	for (int i = 0; i < CLIENTS; i++)
		n += atomic_load(field(&cs[i]));
	return n;
}

static atomic_int *replies_of(struct client *c) { return &c->replies; }
static atomic_int *refused_of(struct client *c) { return &c->refused; }
static atomic_int *bad_of(struct client *c) { return &c->bad; }

/**
 * Turns st's inline lcore (its counters change under the clients' `stats`, as a running stack's do)
 * until the clients got `want` replies in all, for at most RUN_MS.
 */
static void turn_until_replies(struct ffs_stack *st, struct client *cs, int want)
{
	uint64_t deadline = now_ms() + RUN_MS;
	while (total(cs, replies_of) < want && now_ms() < deadline) {
		ffs_stack_poll_lcore(st, 0);
		usleep(100);
	}
	CHECK(total(cs, replies_of) >= want);
}

static struct ffs_stack *start_stack(void)
{
	struct ffs_conf conf;
	ffs_conf_init(&conf);
	return test_stack_start("ctl_server_test", &conf);
}

/* Clients that knock before the stack starts are answered from the first accepted connection on, and
 * stopping the stack with connections open (some idle, some mid-request) ends each of them. */
TEST(stop_ends_every_connection_and_removes_the_socket)
{
	setup();
	struct client cs[CLIENTS];
	clients_start(cs);
	/* Clients knocking on a socket that is not there yet. */
	uint64_t deadline = now_ms() + RUN_MS;
	while (total(cs, refused_of) < 10 && now_ms() < deadline)
		usleep(100);
	struct ffs_stack *st = start_stack();
	CHECK_EQ_STR(ffs_ctl_path(st), sock_path);
	turn_until_replies(st, cs, 40);
	ffs_stack_stop(st);
	CHECK(access(sock_path, F_OK) != 0 && errno == ENOENT);
	/* (Replies the server wrote before it stopped may still be counted by a client afterwards, or be
	 * left unread on a held connection: the held connections' end of file below is what shows that no
	 * connection outlives the stop.) */
	clients_stop(cs);
	CHECK_EQ_INT(total(cs, bad_of), 0);
	int held = 0;
	for (int i = 0; i < CLIENTS; i++) {
		for (int k = 0; k < cs[i].n_held; k++, held++) {
			/* The server closed it: end of file at once, not the 2 s receive timeout — after any
			 * reply bytes the client stopped reading when it was told to quit. */
			char b[4096];
			ssize_t got;
			while ((got = recv(cs[i].held[k], b, sizeof(b), 0)) > 0)
				;
			CHECK_EQ_INT((int)got, 0);
			close(cs[i].held[k]);
		}
	}
	CHECK(held > 0);
}

/* A program may end with its stack running (exit without stopping it). Connections that came and
 * went leave no thread the program would have to join. Must stay the last case. */
TEST(program_may_end_with_its_stack_running)
{
	setup();
	struct ffs_stack *st = start_stack();
	struct client cs[CLIENTS];
	clients_start(cs);
	turn_until_replies(st, cs, 40);
	clients_stop(cs);
	for (int i = 0; i < CLIENTS; i++)
		for (int k = 0; k < cs[i].n_held; k++)
			close(cs[i].held[k]);
	/* Every connection is closed: the server notices and its connection threads end. */
	usleep(50 * 1000);
	CHECK(ffs_ctl_path(st)[0] != '\0');
}

/* The program ends as one that never stops its stack would: with _exit, after which LeakSanitizer
 * does not count the running stack's memory (held from DPDK's heap, which it does not scan) as
 * leaked, while ThreadSanitizer still reports any thread left unjoined. */
int main(int argc, char **argv)
{
	int rc = test__main(argc, argv, __FILE__);
	fflush(stdout);
	_exit(rc);
}
