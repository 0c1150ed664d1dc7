/*
 * Several inline lcores turned by application threads (stack/stack.c claims and turn locks,
 * posix/ff_api.c per-thread contexts): a stack with two inline lcores on a net_ring port and no
 * data-path lcore.
 *
 * Cases: a lcore a thread claimed cannot be claimed again (EBUSY; ERANGE past the last; one lcore per
 * thread; only its owner gives it back); a thread holding a lcore's turn lock keeps every other
 * thread's turn of it out, and threads hammering one lcore never turn it at once; two threads, each
 * on the lcore it claimed with its own ff_epoll set and sockets, exchange datagrams over 127.0.0.1
 * both ways at once: each thread's ff_epoll_wait and ff_dgram_ready report only its own sockets, every
 * datagram reaches the socket it was sent to, and the pool returns to its baseline after
 * ff_close_thread_sockets; a wait on a socket another thread opened returns once it is readable (any
 * thread may use any socket in C); ff_run on a thread that claimed a lcore turns it; threads that come and go (and detach) never run out of DPDK lcore ids;
 * a multi-process primary (nb_procs) refuses several inline lcores: its one lcore serves the queues
 * the queue table gives the process (stack/phy/cluster.h).
 * Bounded: each case ends within seconds.
 */
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#include "posix/ff_api.h"
#include "posix/ff_dgram.h"
#include "posix/ff_internal.h"
#include "stack/lcore/lcore.h"
#include "test/stack/harness.h"
#include "test/stack/stack_env.h"

#define OUR_ADDR 0x0a000001u /* 10.0.0.1/16 */
#define LO 0x7f000001u
#define PER_SOCKET 400
#define SOCKS_PER_THREAD 2
#define RUN_MS 10000

static struct ffs_stack *st;
/** What starting a multi-process primary with two inline lcores answered (main tries it first). */
static bool multi_inline_started;
static char multi_inline_err[256];

static void run_thread(void *(*fn)(void *), void *arg)
{
	pthread_t t;
	if (pthread_create(&t, NULL, fn, arg) != 0) {
		fprintf(stderr, "inline_lcores_test: pthread_create failed\n");
		exit(2);
	}
	pthread_join(t, NULL);
}

/** What a thread saw, for the main thread to check after the join (checks longjmp on main only). */
struct claims {
	int first, second_errno, other_after_release;
};

static void *claim_next(void *arg)
{
	struct claims *c = arg;
	c->first = ff_set_lcore(-1);
	c->second_errno = ff_set_lcore(0) < 0 ? errno : 0;
	return NULL;
}

static void *claim_any(void *arg)
{
	*(int *)arg = ffs_stack_claim_lcore(st, -1);
	return NULL;
}

static void *claim_one_then_release(void *arg)
{
	int *rc = arg;
	rc[0] = ffs_stack_claim_lcore(st, 1);
	if (rc[0] >= 0)
		ffs_stack_release_lcore(st, (unsigned)rc[0]);
	rc[1] = ffs_stack_thread_lcore(st);
	return NULL;
}

TEST(a_multi_process_stack_runs_one_inline_lcore)
{
	/* Two lcores of one process would both serve a queue of the table: two bursts on it at once. */
	CHECK(!multi_inline_started);
	CHECK(strstr(multi_inline_err, "one lcore per process") != NULL);
}

TEST(a_claimed_lcore_is_busy_for_every_other_thread)
{
	struct claims c;
	pthread_t t;
	CHECK_EQ_INT(pthread_create(&t, NULL, claim_next, &c), 0);
	pthread_join(t, NULL);
	CHECK_EQ_INT(c.first, 1); /* the next free lcore: 1 before 0 */
	CHECK_EQ_INT(c.second_errno, EBUSY); /* one lcore per thread */
	/* The thread ended holding lcore 1: nobody else may take or give it back. */
	CHECK_EQ_INT(ffs_stack_claim_lcore(st, 1), -EBUSY);
	errno = 0;
	CHECK_EQ_INT(ff_set_lcore(1), -1);
	CHECK_EQ_INT(errno, EBUSY);
	CHECK_EQ_INT(ff_set_lcore(2), -1);
	CHECK_EQ_INT(errno, ERANGE);
	ffs_stack_release_lcore(st, 1); /* not this thread's claim: nothing */
	CHECK_EQ_INT(ffs_stack_claim_lcore(st, 1), -EBUSY);
	/* What is left is lcore 0; then none. */
	CHECK_EQ_INT(ff_set_lcore(-1), 0);
	CHECK_EQ_INT(ffs_stack_thread_lcore(st), 0);
	int other = 0;
	run_thread(claim_any, &other);
	CHECK_EQ_INT(other, -EBUSY);
	ffs_stack_release_lcore(st, 0);
	CHECK_EQ_INT(ffs_stack_thread_lcore(st), -1);
	/* The claim of an ended thread is given back by the stack's owner here, as the addon's detach does on its thread. */
	atomic_store(&st->lcores[1]->claimed_by, 0);
	int rc[2] = { -1, -1 };
	run_thread(claim_one_then_release, rc);
	CHECK_EQ_INT(rc[0], 1);
	CHECK_EQ_INT(rc[1], -1);
}

struct hammer {
	struct ffs_lcore *lc;
	atomic_int *inside;
	atomic_bool *go;
	unsigned acquired, overlaps, refused_while_held;
};

static void *hold_refused(void *arg)
{
	struct hammer *h = arg;
	uint64_t before = h->lc->ctr.loop_turns;
	if (ffs_stack_poll_lcore(st, h->lc->index) == 0 && h->lc->ctr.loop_turns == before)
		h->refused_while_held = 1;
	return NULL;
}

static void *hammer(void *arg)
{
	struct hammer *h = arg;
	while (!atomic_load(h->go))
		;
	for (unsigned i = 0; i < 20000; i++) {
		if (i % 2) {
			ffs_stack_poll_lcore(st, h->lc->index); /* the public path, under the same lock */
			continue;
		}
		if (!ffs_lcore_trylock(h->lc))
			continue;
		if (atomic_fetch_add(h->inside, 1) != 0)
			h->overlaps++;
		ffs_lcore_turn(h->lc);
		atomic_fetch_sub(h->inside, 1);
		ffs_lcore_unlock(h->lc);
		h->acquired++;
	}
	return NULL;
}

TEST(the_turn_lock_keeps_two_threads_off_one_lcore)
{
	struct ffs_lcore *lc = st->lcores[0];
	atomic_int inside = 0;
	atomic_bool go = false;
	struct hammer held = { .lc = lc };
	CHECK(ffs_lcore_trylock(lc));
	run_thread(hold_refused, &held);
	ffs_lcore_unlock(lc);
	CHECK_EQ_INT(held.refused_while_held, 1);

	struct hammer h[2] = { { .lc = lc, .inside = &inside, .go = &go }, { .lc = lc, .inside = &inside, .go = &go } };
	pthread_t t[2];
	for (int i = 0; i < 2; i++)
		CHECK_EQ_INT(pthread_create(&t[i], NULL, hammer, &h[i]), 0);
	atomic_store(&go, true);
	for (int i = 0; i < 2; i++)
		pthread_join(t[i], NULL);
	CHECK_EQ_INT(h[0].overlaps + h[1].overlaps, 0);
	CHECK(h[0].acquired + h[1].acquired > 0);
}

/** One side of the exchange: a thread on its own lcore with its sockets and epoll set. */
struct side {
	int index;                     /**< 0 or 1: which side */
	uint16_t ports[SOCKS_PER_THREAD]; /**< its sockets' ports; the peer's are the other side's */
	uint16_t peer_ports[SOCKS_PER_THREAD];
	atomic_bool *done;             /**< both sides' flags */
	int lcore;
	int fds[SOCKS_PER_THREAD];
	unsigned received[SOCKS_PER_THREAD], sent[SOCKS_PER_THREAD];
	unsigned foreign_events, foreign_ready, misdelivered, closed;
	char err[200];
};

static int own(const struct side *s, int fd)
{
	for (int k = 0; k < SOCKS_PER_THREAD; k++)
		if (s->fds[k] == fd)
			return k;
	return -1;
}

static void *exchange(void *arg)
{
	struct side *s = arg;
	s->lcore = ff_set_lcore(-1);
	int ep = ff_epoll_create1(0);
	for (int k = 0; k < SOCKS_PER_THREAD; k++) {
		s->fds[k] = ff_socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
		struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(s->ports[k]), .sin_addr.s_addr = htonl(LO) };
		struct epoll_event ev = { .events = EPOLLIN, .data.fd = s->fds[k] };
		if (s->fds[k] < 0 || ff_bind(s->fds[k], (struct sockaddr *)&a, sizeof(a)) != 0 || ff_epoll_ctl(ep, EPOLL_CTL_ADD, s->fds[k], &ev) != 0) {
			snprintf(s->err, sizeof(s->err), "side %d: socket %d: %s", s->index, k, strerror(errno));
			atomic_store(&s->done[s->index], true);
			return NULL;
		}
	}
	/* Both sides bound before either sends. */
	atomic_store(&s->done[2 + s->index], true);
	uint64_t deadline = test_now_ms() + RUN_MS;
	while (!atomic_load(&s->done[2 + !s->index]) && test_now_ms() < deadline)
		ff_epoll_wait(ep, &(struct epoll_event){ 0 }, 1, 1);
	char buf[64];
	bool mine_done = false;
	while (test_now_ms() < deadline && !(mine_done && atomic_load(&s->done[!s->index]))) {
		for (int k = 0; k < SOCKS_PER_THREAD; k++) {
			struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons(s->peer_ports[k]), .sin_addr.s_addr = htonl(LO) };
			while (s->sent[k] < PER_SOCKET) {
				int n = snprintf(buf, sizeof(buf), "to %u seq %u", s->peer_ports[k], s->sent[k]);
				if (ff_sendto(s->fds[k], buf, (size_t)n, 0, (struct sockaddr *)&to, sizeof(to)) < 0)
					break;
				s->sent[k]++;
			}
		}
		struct epoll_event evs[8];
		int n = ff_epoll_wait(ep, evs, 8, 2);
		for (int i = 0; i < n; i++) {
			int k = own(s, evs[i].data.fd);
			if (k < 0) {
				s->foreign_events++;
				continue;
			}
			ssize_t got;
			while ((got = ff_recv(s->fds[k], buf, sizeof(buf) - 1, 0)) >= 0) {
				buf[got] = '\0';
				unsigned port = 0, seq = 0;
				if (sscanf(buf, "to %u seq %u", &port, &seq) != 2 || port != s->ports[k])
					s->misdelivered++;
				s->received[k]++;
			}
		}
		uint32_t ids[64];
		int r = ff_dgram_ready(ids, 64);
		for (int i = 0; i < r; i++)
			if (own(s, (int)ids[i]) < 0)
				s->foreign_ready++;
		if (!mine_done) {
			mine_done = true;
			for (int k = 0; k < SOCKS_PER_THREAD; k++)
				mine_done &= s->received[k] == PER_SOCKET && s->sent[k] == PER_SOCKET;
			if (mine_done)
				atomic_store(&s->done[s->index], true);
		}
	}
	atomic_store(&s->done[s->index], true);
	s->closed = (unsigned)ff_close_thread_sockets();
	ff_close(ep);
	if (s->lcore >= 0)
		ffs_stack_release_lcore(st, (unsigned)s->lcore);
	return NULL;
}

TEST(two_threads_on_their_own_lcores_exchange_datagrams_both_ways)
{
	for (int i = 0; i < 100; i++)
		ffs_stack_poll(st);
	test_port_drain(st->lcores[0], NULL, 0);
	int baseline = ffs_stack_mempool_in_use(st);
	atomic_bool done[4] = { false, false, false, false };
	struct side s[2] = {
		{ .index = 0, .ports = { 7000, 7001 }, .peer_ports = { 7100, 7101 }, .done = done },
		{ .index = 1, .ports = { 7100, 7101 }, .peer_ports = { 7000, 7001 }, .done = done },
	};
	pthread_t t[2];
	for (int i = 0; i < 2; i++)
		CHECK_EQ_INT(pthread_create(&t[i], NULL, exchange, &s[i]), 0);
	for (int i = 0; i < 2; i++)
		pthread_join(t[i], NULL);
	for (int i = 0; i < 2; i++) {
		if (s[i].err[0])
			FAIL("%s", s[i].err);
		for (int k = 0; k < SOCKS_PER_THREAD; k++) {
			CHECK_EQ_INT(s[i].sent[k], PER_SOCKET);
			CHECK_EQ_INT(s[i].received[k], PER_SOCKET);
		}
		CHECK_EQ_INT(s[i].foreign_events, 0);
		CHECK_EQ_INT(s[i].foreign_ready, 0);
		CHECK_EQ_INT(s[i].misdelivered, 0);
		CHECK_EQ_INT(s[i].closed, SOCKS_PER_THREAD);
	}
	CHECK(s[0].lcore >= 0 && s[1].lcore >= 0 && s[0].lcore != s[1].lcore);
	/* Both lcores carried traffic (every socket's TX lcore is one of the two). */
	struct ffs_counters c0, c1;
	CHECK_EQ_INT(ffs_stack_counters(st, 0, &c0), 0); /* inline lcores are known by their index */
	CHECK_EQ_INT(ffs_stack_counters(st, 1, &c1), 1);
	CHECK(c0.udp_delivered > 0 && c1.udp_delivered > 0);
	CHECK_EQ_INT(c0.udp_delivered + c1.udp_delivered, 2 * SOCKS_PER_THREAD * PER_SOCKET);
	for (int i = 0; i < 100; i++)
		ffs_stack_poll(st);
	test_port_drain(st->lcores[0], NULL, 0);
	CHECK_EQ_INT(test_pool_settles_at(st, baseline), baseline);
}

static void *open_bound(void *arg)
{
	int *fd = arg;
	*fd = ff_socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(7400), .sin_addr.s_addr = htonl(LO) };
	if (*fd >= 0 && ff_bind(*fd, (struct sockaddr *)&a, sizeof(a)) != 0)
		*fd = -1;
	return NULL;
}

struct waiter {
	int ep, n, wake_fd;
	uint32_t events;
	uint64_t waited_ms;
	atomic_bool waiting, done;
};

static void *wait_on_it(void *arg)
{
	struct waiter *w = arg;
	w->wake_fd = ff_wake_fd();
	struct epoll_event ev = { 0 };
	uint64_t t0 = test_now_ms();
	atomic_store(&w->waiting, true);
	w->n = ff_epoll_wait(w->ep, &ev, 1, 3000);
	w->waited_ms = test_now_ms() - t0;
	w->events = ev.events;
	atomic_store(&w->done, true);
	return NULL;
}

/* C keeps POSIX semantics: a socket one thread opened is any thread's to use, and a wait on it from a
 * thread whose context it does not signal still returns once it is readable. */
TEST(a_wait_on_another_threads_socket_returns_when_it_is_readable)
{
	int fd = -1;
	run_thread(open_bound, &fd);
	CHECK(fd >= 0);
	struct waiter w = { .ep = ff_epoll_create1(0) };
	CHECK_EQ_INT(ff_epoll_ctl(w.ep, EPOLL_CTL_ADD, fd, &(struct epoll_event){ .events = EPOLLIN }), 0);
	pthread_t t;
	CHECK_EQ_INT(pthread_create(&t, NULL, wait_on_it, &w), 0);
	while (!atomic_load(&w.waiting))
		ffs_stack_poll(st);
	int m = ff_socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
	struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons(7400), .sin_addr.s_addr = htonl(LO) };
	CHECK_EQ_INT(ff_sendto(m, "x", 1, 0, (struct sockaddr *)&to, sizeof(to)), 1);
	/* This thread started the stack: it turns both lcores while the other thread waits. */
	for (uint64_t end = test_now_ms() + 4000; !atomic_load(&w.done) && test_now_ms() < end;)
		ffs_stack_poll(st);
	pthread_join(t, NULL);
	CHECK_EQ_INT(w.n, 1);
	CHECK(w.events & EPOLLIN);
	CHECK(w.waited_ms < 1000);
	CHECK(w.wake_fd >= 0 && w.wake_fd != ff_wake_fd()); /* each thread has its own wake-up */
	char c;
	CHECK_EQ_INT(ff_recv(fd, &c, 1, 0), 1);
	CHECK_EQ_INT(ff_close(fd), 0);
	CHECK_EQ_INT(ff_close(m), 0);
	CHECK_EQ_INT(ff_close(w.ep), 0);
}

struct runner {
	int lcore, fd;
	atomic_int got;
	atomic_bool ready;
	uint64_t started_ms;
	uint64_t turns_before, turns_after; /**< lcore 1's turns around ff_run, read by its owner */
};

static int run_loop(void *arg)
{
	struct runner *r = arg;
	char buf[16];
	if (ff_recv(r->fd, buf, sizeof(buf), 0) > 0)
		r->got++;
	if (r->got == 3 || test_now_ms() - r->started_ms > 5000)
		ff_stop_run();
	return 0;
}

static void *run_on_own_lcore(void *arg)
{
	struct runner *r = arg;
	r->lcore = ff_set_lcore(-1);
	r->fd = ff_socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(7500), .sin_addr.s_addr = htonl(LO) };
	ff_bind(r->fd, (struct sockaddr *)&a, sizeof(a));
	r->started_ms = test_now_ms();
	r->turns_before = st->lcores[1]->ctr.loop_turns;
	atomic_store(&r->ready, true);
	ff_run(run_loop, r);
	r->turns_after = st->lcores[1]->ctr.loop_turns;
	ff_close_thread_sockets();
	ff_thread_detach();
	return NULL;
}

/* ff_run on a thread that claimed a lcore turns that lcore (the thread that started the stack no longer does). */
TEST(ff_run_on_a_thread_turns_the_lcore_it_claimed)
{
	struct runner r = { .lcore = -1 };
	pthread_t t;
	CHECK_EQ_INT(pthread_create(&t, NULL, run_on_own_lcore, &r), 0);
	while (!atomic_load(&r.ready))
		ffs_stack_poll(st);
	CHECK_EQ_INT(r.lcore, 1);
	int m = ff_socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
	struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons(7500), .sin_addr.s_addr = htonl(LO) };
	for (int i = 0; i < 3; i++)
		CHECK_EQ_INT(ff_sendto(m, "x", 1, 0, (struct sockaddr *)&to, sizeof(to)), 1);
	/* This thread turns what nobody claimed: lcore 0, not lcore 1. */
	uint64_t end = test_now_ms() + 6000;
	while (atomic_load(&r.got) < 3 && test_now_ms() < end)
		ffs_stack_poll(st);
	pthread_join(t, NULL);
	CHECK_EQ_INT(atomic_load(&r.got), 3);
	CHECK(r.turns_after > r.turns_before);
	CHECK_EQ_INT(ffs_stack_thread_lcore(st), -1);
	CHECK_EQ_INT(ff_close(m), 0);
}

static void *open_close_detach(void *arg)
{
	int fd = ff_socket(AF_INET, SOCK_DGRAM, 0);
	*(int *)arg = fd < 0 ? -errno : ff_close(fd);
	ff_thread_detach();
	return NULL;
}

/* Each thread that calls ff_* takes a DPDK lcore id (rte_thread_register; RTE_MAX_LCORE of them): one
 * that detaches gives it back, or a program whose workers come and go runs out. */
TEST(threads_that_detach_give_back_their_dpdk_lcore_ids)
{
	for (int i = 0; i < 2 * RTE_MAX_LCORE; i++) {
		int rc = 1;
		run_thread(open_close_detach, &rc);
		if (rc != 0)
			FAIL("thread %d: ff_socket/ff_close failed: %s", i, strerror(-rc));
	}
}

int main(int argc, char **argv)
{
	test_eal_init("inline_lcores_test", "256", "-l", "0", "--vdev=net_ring0", NULL);
	struct ffs_conf conf;
	ffs_conf_init(&conf);
	test_conf_port(&conf, OUR_ADDR, 0xffff0000u);
	conf.n_inline_lcores = 2;
	conf.nb_procs = 2;
	struct ffs_stack *multi = ffs_stack_start(&conf, multi_inline_err, sizeof(multi_inline_err));
	multi_inline_started = multi != NULL;
	if (multi)
		ffs_stack_stop(multi);
	conf.nb_procs = 0;
	st = test_stack_start("inline_lcores_test", &conf);
	int rc = test__main(argc, argv, __FILE__);
	ff_app_forget(); /* every thread's context, as the stack's owner does before stopping it */
	test_port_drain(st->lcores[0], NULL, 0);
	ffs_stack_stop(st);
	return rc;
}
