/*
 * Sockets shared by application threads (posix/, stack/sock/app.c): a socket one thread closes may
 * be in the hands of another thread's ff_* call at that moment. A stack with one data-path lcore
 * (lcore 1, floating over the machine's first two CPUs) and no port: traffic goes through loopback.
 *
 * Cases: a blocking receive whose socket another thread closes returns EBADF instead of waiting on
 * (or reading) the freed socket; two threads that close the same descriptors at once free each socket
 * once and leave every other socket open; a thread that opens, feeds and closes sockets while another
 * polls them (ff_dgram_ready, FIONREAD, non-blocking receives, ff_epoll_wait) ends with every call
 * answered and the packet pool at its baseline. Bounded: each case ends within a few seconds.
 *
 * DPDK's heap zeroes what rte_free returns, and a freed socket full of zeroes looks closed and empty,
 * so a call still reading one would pass unnoticed: this program's rte_free (the executable's
 * definition takes precedence over DPDK's) fills a freed socket with SCRIBBLE and keeps it out of
 * reuse, poisoned for AddressSanitizer when built with it. A stale read then finds wild pointers.
 */
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>
#include <dlfcn.h>
#include <rte_cycles.h>
#include <rte_malloc.h>

#include "posix/ff_api.h"
#include "posix/ff_dgram.h"
#include "stack/lcore/lcore.h"
#include "stack/sock/sock.h"
#include "test/stack/harness.h"
#include "test/stack/stack_env.h"

#define LO 0x7f000001u
#define RUN_MS 2000
#define SCRIBBLE 0x5a
/** Freed sockets kept out of reuse at most (each about a kilobyte of the EAL's 256 MB). */
#define QUARANTINE_MAX 65536

#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/asan_interface.h>
#define POISON(p, n) ASAN_POISON_MEMORY_REGION(p, n)
#else
#define POISON(p, n) ((void)(p), (void)(n))
#endif

static atomic_uint quarantined;

void rte_free(void *p)
{
	static void (*dpdk_free)(void *);
	if (!dpdk_free)
		dpdk_free = (void (*)(void *))dlsym(RTLD_NEXT, "rte_free");
	size_t size = 0;
	/* A socket's block: rte_zmalloc's data area of sizeof(struct ffs_sock), cache-line rounded. */
	if (p && rte_malloc_validate(p, &size) == 0 && size >= sizeof(struct ffs_sock) &&
	    size < sizeof(struct ffs_sock) + RTE_CACHE_LINE_SIZE && atomic_fetch_add(&quarantined, 1) < QUARANTINE_MAX) {
		memset(p, SCRIBBLE, size);
		POISON(p, size);
		return;
	}
	dpdk_free(p);
}

static struct ffs_stack *st;

static void setup(void)
{
	if (st)
		return;
	test_eal_init("app_threads_test", "256", "--lcores=0@(0-1),1@(0-1)", NULL);
	struct ffs_conf conf;
	ffs_conf_init(&conf);
	conf.n_data_lcores = 1;
	conf.data_lcores[0] = 1;
	st = test_stack_start("app_threads_test", &conf);
}

static struct sockaddr_in lo_addr(uint16_t port)
{
	return (struct sockaddr_in){ .sin_family = AF_INET, .sin_port = htons(port), .sin_addr.s_addr = htonl(LO) };
}

/** A UDP socket bound to 127.0.0.1:port (0: an ephemeral port); fails the case otherwise. */
static int open_bound(uint16_t port, int type_flags)
{
	int fd = ff_socket(AF_INET, SOCK_DGRAM | type_flags, 0);
	CHECK(fd >= 0);
	struct sockaddr_in sin = lo_addr(port);
	CHECK_EQ_INT(ff_bind(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	return fd;
}

static uint16_t port_of(int fd)
{
	struct sockaddr_in sin;
	socklen_t len = sizeof(sin);
	if (ff_getsockname(fd, (struct sockaddr *)&sin, &len) != 0)
		return 0;
	return ntohs(sin.sin_port);
}

/** Joins t within ms milliseconds; false when it is still running (it is then left behind). */
static bool joined_within(pthread_t t, unsigned ms)
{
	struct timespec until;
	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += ms / 1000;
	until.tv_nsec += (long)(ms % 1000) * 1000000;
	if (until.tv_nsec >= 1000000000) {
		until.tv_sec++;
		until.tv_nsec -= 1000000000;
	}
	return pthread_timedjoin_np(t, NULL, &until) == 0;
}

struct blocked_recv {
	int fd;
	atomic_bool entered;
	ssize_t rc;
	int err;
};

static void *receive_blocking(void *arg)
{
	struct blocked_recv *b = arg;
	char buf[64];
	atomic_store(&b->entered, true);
	b->rc = ff_recvfrom(b->fd, buf, sizeof(buf), 0, NULL, NULL);
	b->err = errno;
	return NULL;
}

TEST(a_blocking_receive_on_a_socket_another_thread_closes_fails_with_ebadf)
{
	setup();
	int keep = open_bound(0, 0);
	struct blocked_recv b = { .fd = open_bound(0, 0) };
	pthread_t t;
	CHECK_EQ_INT(pthread_create(&t, NULL, receive_blocking, &b), 0);
	while (!atomic_load(&b.entered))
		rte_delay_us_sleep(1000);
	rte_delay_us_sleep(50 * 1000); /* it is asleep in ff_wait now */
	CHECK_EQ_INT(ff_close(b.fd), 0);
	/* A new socket takes the closed one's slot (and, in DPDK's heap, likely its memory). */
	int reuse = open_bound(0, 0);
	CHECK_EQ_INT(reuse, b.fd);
	if (!joined_within(t, 2000))
		FAIL("the receive still waits 2 s after its socket was closed");
	CHECK_EQ_INT(b.rc, -1);
	CHECK_EQ_INT(b.err, EBADF);
	/* The new socket in the same slot is untouched: it receives. */
	int tx = open_bound(0, 0);
	struct sockaddr_in to = lo_addr(port_of(reuse));
	CHECK_EQ_INT(ff_sendto(tx, "x", 1, 0, (struct sockaddr *)&to, sizeof(to)), 1);
	char buf[8];
	CHECK_EQ_INT(ff_recvfrom(reuse, buf, sizeof(buf), 0, NULL, NULL), 1);
	CHECK(port_of(keep) != 0);
	CHECK_EQ_INT(ff_close(tx), 0);
	CHECK_EQ_INT(ff_close(reuse), 0);
	CHECK_EQ_INT(ff_close(keep), 0);
}

/* Both threads close what `target` names, after a shared start signal, round after round. */
static atomic_int target = -1;
static atomic_uint round_go, round_done[2];
static atomic_int closed_ok;

static void *close_rounds(void *arg)
{
	unsigned me = (unsigned)(uintptr_t)arg;
	for (unsigned r = 1;; r++) {
		unsigned go;
		while ((go = atomic_load(&round_go)) < r)
			sched_yield();
		if (go == UINT32_MAX)
			return NULL;
		if (ff_close(atomic_load(&target)) == 0)
			atomic_fetch_add(&closed_ok, 1);
		atomic_store(&round_done[me], r);
	}
}

TEST(two_threads_closing_the_same_descriptors_close_each_socket_once_and_no_other)
{
	setup();
	/* Sockets nobody closes here, in the lowest slots: a stale close would clear one of them. */
	int keep[4];
	uint16_t kept_port[4];
	for (int i = 0; i < 4; i++) {
		keep[i] = open_bound(0, 0);
		kept_port[i] = port_of(keep[i]);
	}
	pthread_t t[2];
	atomic_store(&round_go, 0);
	for (unsigned i = 0; i < 2; i++)
		CHECK_EQ_INT(pthread_create(&t[i], NULL, close_rounds, (void *)(uintptr_t)i), 0);
	uint64_t deadline = test_now_ms() + RUN_MS;
	unsigned rounds = 0;
	atomic_store(&closed_ok, 0);
	for (unsigned r = 1; r <= 3000 && test_now_ms() < deadline; r++, rounds++) {
		atomic_store(&target, open_bound(0, 0));
		atomic_store(&round_go, r);
		while (atomic_load(&round_done[0]) < r || atomic_load(&round_done[1]) < r)
			sched_yield();
	}
	atomic_store(&round_go, UINT32_MAX);
	for (unsigned i = 0; i < 2; i++)
		pthread_join(t[i], NULL);
	printf("# %u rounds\n", rounds);
	CHECK(rounds > 50);
	CHECK_EQ_INT(atomic_load(&closed_ok), rounds);
	for (int i = 0; i < 4; i++)
		CHECK_EQ_INT(port_of(keep[i]), kept_port[i]);
	for (int i = 0; i < 4; i++)
		CHECK_EQ_INT(ff_close(keep[i]), 0);
}

/* The poller's view of the closer's current socket. */
static atomic_int current = -1, picked = -1;
static atomic_bool closer_done;
static atomic_uint polls;

/** Runs the calling thread on CPU 0 only; returns the CPUs it ran on before. */
static cpu_set_t pin_to_cpu0(void)
{
	cpu_set_t before, one;
	pthread_getaffinity_np(pthread_self(), sizeof(before), &before);
	CPU_ZERO(&one);
	CPU_SET(0, &one);
	pthread_setaffinity_np(pthread_self(), sizeof(one), &one);
	return before;
}

static void *poll_sockets(void *arg)
{
	(void)arg;
	pin_to_cpu0();
	int ep = ff_epoll_create1(0);
	uint32_t ids[64];
	char buf[256];
	while (!atomic_load(&closer_done)) {
		int fd = atomic_load(&current);
		if (fd < 0) {
			sched_yield();
			continue;
		}
		atomic_store(&picked, fd);
		struct epoll_event ev = { .events = EPOLLIN, .data.fd = fd };
		ff_epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
		ff_dgram_ready(ids, 64);
		int n = 0;
		ff_ioctl(fd, FIONREAD, &n);
		ff_recvfrom(fd, buf, sizeof(buf), MSG_DONTWAIT, NULL, NULL);
		struct epoll_event out[4];
		ff_epoll_wait(ep, out, 4, 0);
		struct ff_dgram_desc desc[4];
		ff_dgram_recv_packed(fd, (uint8_t *)buf, sizeof(buf), 4, desc);
		ff_epoll_ctl(ep, EPOLL_CTL_DEL, fd, NULL);
		atomic_fetch_add(&polls, 1);
	}
	ff_close(ep);
	return NULL;
}

TEST(sockets_closed_while_another_thread_polls_and_reads_them_leave_the_pool_at_its_baseline)
{
	setup();
	int baseline = ffs_stack_mempool_in_use(st);
	int tx = open_bound(0, 0);
	/* Both threads share one CPU: the poller is preempted in the middle of its calls, and the closer
	 * runs its close while the poller holds the socket. */
	cpu_set_t cpus = pin_to_cpu0();
	pthread_t t;
	atomic_store(&closer_done, false);
	CHECK_EQ_INT(pthread_create(&t, NULL, poll_sockets, NULL), 0);
	uint64_t deadline = test_now_ms() + RUN_MS;
	unsigned rounds = 0;
	for (; rounds < 20000 && test_now_ms() < deadline; rounds++) {
		int fd = open_bound(0, SOCK_NONBLOCK);
		struct sockaddr_in to = lo_addr(port_of(fd));
		for (int k = 0; k < 3; k++)
			ff_sendto(tx, "datagram", 8, 0, (struct sockaddr *)&to, sizeof(to));
		/* Closed once the poller works on it (or after 1 ms), a little later each round. */
		atomic_store(&current, fd);
		uint64_t wait_until = test_now_ms() + 1;
		while (atomic_load(&picked) != fd && test_now_ms() <= wait_until)
			sched_yield();
		for (unsigned spin = 0; spin < (rounds % 5) * 200; spin++)
			__asm__ volatile("" ::: "memory");
		CHECK_EQ_INT(ff_close(fd), 0);
		atomic_store(&current, -1);
	}
	atomic_store(&closer_done, true);
	pthread_setaffinity_np(pthread_self(), sizeof(cpus), &cpus);
	if (!joined_within(t, 5000))
		FAIL("the polling thread is stuck");
	printf("# %u sockets closed, %u polls, %u sockets freed in all\n", rounds, atomic_load(&polls),
	       atomic_load(&quarantined));
	CHECK(rounds > 50);
	CHECK_EQ_INT(ff_close(tx), 0);
	CHECK_EQ_INT(test_pool_settles_at(st, baseline), baseline);
}

int main(int argc, char **argv)
{
	int rc = test__main(argc, argv, __FILE__);
	/* Stopped, so that a leak checker sees the stack's state freed rather than held. */
	if (st)
		ffs_stack_stop(st);
	return rc;
}
