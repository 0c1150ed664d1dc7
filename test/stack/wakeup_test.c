/*
 * Wake-ups between a lcore and an application thread (stack/sock/app.c, udp_signal_flush): a
 * datagram queued for a socket must always leave the application's eventfd readable, or be found by
 * the application's drain. Both sides store a flag and then read what the other side stored (the
 * lcore queues, then reads rx_listed and `notified`; the application clears them, then drains): a
 * Dekker pattern, which needs a full fence between each store and the following load.
 *
 * Two threads run the protocol in lock-step rounds, started together by a spin barrier with a random
 * delay on each side so that their stores and loads overlap in every order: the lcore queues one
 * datagram and signals as udp_signal_flush does; the application re-arms and drains as
 * ff_app_take does. When a round ends with the datagram still queued, the eventfd must be readable:
 * a poll that sees nothing for 1 s is a lost wake-up (the socket would stall until another socket of
 * the same application signals). Bounded: at most ROUNDS rounds or RUN_SECONDS seconds. On x86 the
 * racy window is a few cycles wide and this case rarely meets it; the second case enumerates every
 * interleaving of the same two programs under x86-TSO instead, and the third checks that this
 * enumeration finds the lost wake-up the lcore's missing fence allowed.
 */
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <rte_cycles.h>
#include <rte_malloc.h>
#include <rte_ring.h>

#include "stack/iface/iface.h"
#include "stack/lcore/lcore.h"
#include "stack/sock/sock.h"
#include "test/stack/harness.h"
#include "test/stack/stack_env.h"

#define ROUNDS 3000000
#define RUN_SECONDS 2
/** Each round starts this long after the application announces it, on both threads at once (TSC). */
#define START_CYCLES 20000
/** The application's re-arm reads the eventfd (a system call) before it stores: the lcore aims its
 *  queueing at the moment that store happened in earlier rounds, give or take half this. */
#define LCORE_WINDOW_CYCLES 600
#define STALL_MS 1000

static struct ffs_stack st;
static struct ffs_lcore *lc;
static struct ffs_app *app;
static struct ffs_sock *so;

/** Round number each side has reached, and when the current round starts; the lcore thread stops
 *  when `stop` is set. */
static atomic_uint go, lcore_done;
static _Atomic uint64_t start_tsc;
/** How long after the start the application's re-arm has been returning (a moving average, TSC). */
static _Atomic uint64_t app_offset;
static atomic_bool stop;

static void setup(void)
{
	if (app)
		return;
	test_eal_init("wakeup_test", "64", "-l", "0", NULL);
	pthread_mutex_init(&st.ns_lock, NULL);
	st.id = 77;
	app = ffs_app_new(&st);
	lc = rte_zmalloc("lc", sizeof(*lc), RTE_CACHE_LINE_SIZE);
	so = rte_zmalloc("so", sizeof(*so), RTE_CACHE_LINE_SIZE);
	if (!app || !lc || !so)
		exit(2);
	lc->st = &st;
	so->app = app;
	so->id = 5;
	st.socks[so->id] = so;
	so->rx = rte_ring_create("wakeup_rx", 64, SOCKET_ID_ANY, RING_F_SC_DEQ);
	if (!so->rx)
		exit(2);
}

/** xorshift, one state per thread. */
static unsigned next_rand(unsigned *x)
{
	*x ^= *x << 13;
	*x ^= *x >> 17;
	*x ^= *x << 5;
	return *x;
}

static void spin_until(uint64_t tsc)
{
	while (rte_rdtsc() < tsc)
		;
}

/** Waits until `v` reaches `want`, yielding now and then (the machine may have fewer cores than threads). */
static bool wait_for(atomic_uint *v, unsigned want)
{
	for (unsigned spins = 0; atomic_load_explicit(v, memory_order_acquire) < want; spins++) {
		if (atomic_load_explicit(&stop, memory_order_relaxed))
			return false;
		if (spins > 100000)
			sched_yield();
	}
	return true;
}

/** The lcore side of each round: queue one datagram, then signal as the end of a burst does. */
static void *lcore_thread(void *arg)
{
	(void)arg;
	unsigned seed = 0x9e3779b9u;
	static int token;
	for (unsigned round = 1; wait_for(&go, round); round++) {
		uint64_t aim = atomic_load_explicit(&app_offset, memory_order_relaxed) + next_rand(&seed) % LCORE_WINDOW_CYCLES;
		spin_until(atomic_load(&start_tsc) + (aim > LCORE_WINDOW_CYCLES / 2 ? aim - LCORE_WINDOW_CYCLES / 2 : 0));
		if (rte_ring_mp_enqueue(so->rx, &token) == 0) {
			/* Queued already (the token is no mbuf): listed to be woken as for an error. */
			lc->rx_stage.sock[0] = (struct ffs_rx_staged){ .so = so, .error = true };
			lc->rx_stage.n_socks = 1;
			udp_signal_flush(lc);
		}
		atomic_store_explicit(&lcore_done, round, memory_order_release);
	}
	return NULL;
}

/** The application side: re-arm, then drain what the ready ring lists. Returns datagrams taken. */
static unsigned app_drain(uint64_t start)
{
	if (ffs_app_rearm(app)) {
		uint64_t v;
		ssize_t rc = read(app->event_fd, &v, sizeof(v));
		(void)rc;
	}
	if (start) {
		uint64_t off = rte_rdtsc() - start;
		uint64_t avg = atomic_load_explicit(&app_offset, memory_order_relaxed);
		atomic_store_explicit(&app_offset, avg ? (avg * 15 + off) / 16 : off, memory_order_relaxed);
	}
	uint32_t ids[8];
	unsigned n, got = 0;
	void *obj;
	while ((n = ffs_app_ready(app, ids, 8)) > 0)
		for (unsigned i = 0; i < n; i++)
			ffs_sock_unlist(st.socks[ids[i]]);
	while (rte_ring_sc_dequeue(so->rx, &obj) == 0)
		got++;
	return got;
}

TEST(a_queued_datagram_always_leaves_the_eventfd_readable_or_is_drained)
{
	setup();
	/* The EAL pinned this thread to one CPU, and a new thread inherits that: give the lcore thread
	 * another CPU, so that both sides run at once. */
	pthread_attr_t attr;
	pthread_attr_init(&attr);
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	if (ncpu > 1) {
		cpu_set_t cpus;
		CPU_ZERO(&cpus);
		CPU_SET(1, &cpus);
		pthread_attr_setaffinity_np(&attr, sizeof(cpus), &cpus);
	}
	pthread_t t;
	if (pthread_create(&t, &attr, lcore_thread, NULL) != 0) /* CPU 1 not ours: share the CPU */
		CHECK_EQ_INT(pthread_create(&t, NULL, lcore_thread, NULL), 0);
	pthread_attr_destroy(&attr);
	uint64_t deadline = rte_rdtsc() + RUN_SECONDS * rte_get_tsc_hz();
	unsigned round, stalled = 0, overlapped = 0;
	for (round = 1; round <= ROUNDS && rte_rdtsc() < deadline; round++) {
		/* The state a busy application is in: it was woken, and is about to re-arm and drain. */
		atomic_store(&so->rx_listed, false);
		atomic_store(&app->notified, FFS_NOTIFIED_EVENTFD);
		uint64_t start = rte_rdtsc() + START_CYCLES;
		atomic_store(&start_tsc, start);
		atomic_store_explicit(&go, round, memory_order_release);
		spin_until(start);
		unsigned got = app_drain(start);
		wait_for(&lcore_done, round);
		if (got)
			continue;
		overlapped++;
		/* The datagram is still queued: the lcore must have written the eventfd. */
		struct pollfd pfd = { .fd = app->event_fd, .events = POLLIN };
		if (poll(&pfd, 1, STALL_MS) != 1) {
			stalled = round;
			break;
		}
		if (app_drain(0) != 1) {
			stalled = round;
			break;
		}
	}
	atomic_store(&stop, true);
	pthread_join(t, NULL);
	printf("# %u rounds, %u with the datagram left for a wake-up\n", round - 1, overlapped);
	if (stalled)
		FAIL("round %u: a datagram stayed queued with no eventfd write for %d ms (lost wake-up)", stalled, STALL_MS);
	CHECK(round > 10);
}

/*
 * The same protocol, exhaustively: every interleaving of the two sides under x86-TSO (each thread's
 * stores wait in its own FIFO store buffer until flushed; its loads see its own buffer first; a
 * fence or a locked instruction waits for the buffer to drain). On real hardware the racy
 * interleavings are rare enough that the stress case above may never meet one; here each is
 * enumerated. The programs restate, operation by operation, udp_signal_flush + ffs_sock_signal (the
 * lcore) and ffs_app_rearm + ffs_app_ready + ffs_sock_unlist + the RX drain (the application); and a
 * ring enqueue + ffs_lcore_wake (a sender) and ffs_lcore_sleep_begin (an idle lcore). `fences` says
 * whether the fence that was missing (in ffs_sock_signal, in ffs_lcore_wake) is in them.
 */
enum var {
	RX, LISTED, READY, NOTIFIED, EFD, /* a socket's ring, its listing, the ready ring, the app's eventfd */
	CTRL, SLEEPING, WAKEFD,           /* a lcore's control ring, its sleep flag and wake eventfd */
	N_VARS
};

#define BUF_MAX 4

struct tso {
	uint8_t pc[2];
	uint8_t mem[N_VARS];
	uint8_t n_buf[2];
	struct {
		uint8_t var, val;
	} buf[2][BUF_MAX];
};

enum { DONE = 0xff };

static uint8_t load(const struct tso *s, int t, enum var v)
{
	for (int i = s->n_buf[t] - 1; i >= 0; i--)
		if (s->buf[t][i].var == v)
			return s->buf[t][i].val;
	return s->mem[v];
}

static bool store(struct tso *s, int t, enum var v, uint8_t val)
{
	if (s->n_buf[t] == BUF_MAX)
		return false;
	s->buf[t][s->n_buf[t]].var = (uint8_t)v;
	s->buf[t][s->n_buf[t]++].val = val;
	return true;
}

static void flush_one(struct tso *s, int t)
{
	s->mem[s->buf[t][0].var] = s->buf[t][0].val;
	memmove(&s->buf[t][0], &s->buf[t][1], sizeof(s->buf[t][0]) * (size_t)(--s->n_buf[t]));
}

/* A locked read-modify-write (atomic_exchange, the eventfd write): drained buffer, then on memory. */
static uint8_t xchg(struct tso *s, enum var v, uint8_t val)
{
	uint8_t old = s->mem[v];
	s->mem[v] = val;
	return old;
}

/** One step of the lcore: queue, fence, list the socket unless listed, notify unless notified. */
static bool lcore_step(struct tso *s, bool fences)
{
	const int t = 0;
	switch (s->pc[t]) {
	case 0: /* rte_ring_mp_enqueue(so->rx) */
		if (!store(s, t, RX, 1))
			return false;
		s->pc[t] = 1;
		return true;
	case 1: /* udp_signal_flush's fence */
	case 4: /* ffs_sock_signal's fence after listing (app.c) */
		if (s->n_buf[t])
			return false;
		s->pc[t]++;
		return true;
	case 2: /* rx_listed: relaxed load, then exchange */
		if (load(s, t, LISTED)) {
			s->pc[t] = DONE;
			return true;
		}
		if (s->n_buf[t])
			return false;
		s->pc[t] = xchg(s, LISTED, 1) ? DONE : 3;
		return true;
	case 3: /* rte_ring_mp_enqueue_elem(app->ready) */
		if (!store(s, t, READY, 1))
			return false;
		s->pc[t] = fences ? 4 : 5;
		return true;
	case 5: /* notified: relaxed load, then exchange, then the eventfd write */
		if (load(s, t, NOTIFIED)) {
			s->pc[t] = DONE;
			return true;
		}
		if (s->n_buf[t])
			return false;
		if (!xchg(s, NOTIFIED, 1))
			xchg(s, EFD, 1);
		s->pc[t] = DONE;
		return true;
	}
	return false;
}

/** One step of the application: re-arm, take the ready list, unlist, drain the RX ring. */
static bool app_step(struct tso *s, bool fences)
{
	(void)fences;
	const int t = 1;
	switch (s->pc[t]) {
	case 0: /* ffs_app_rearm: exchange (locked) */
		if (s->n_buf[t])
			return false;
		xchg(s, NOTIFIED, 0);
		s->pc[t] = 2;
		return true;
	case 2: /* ffs_app_ready */
		s->pc[t] = load(s, t, READY) ? 3 : DONE;
		return true;
	case 3: /* dequeued */
		if (!store(s, t, READY, 0))
			return false;
		s->pc[t] = 4;
		return true;
	case 4: /* ffs_sock_unlist: the store ... */
		if (!store(s, t, LISTED, 0))
			return false;
		s->pc[t] = 5;
		return true;
	case 5: /* ... and its fence (a seq_cst store, a locked xchg on x86, did the same before it) */
		if (s->n_buf[t])
			return false;
		s->pc[t] = 6;
		return true;
	case 6: /* the caller looks at the RX ring, and drains it */
		if (!load(s, t, RX)) {
			s->pc[t] = DONE;
			return true;
		}
		if (!store(s, t, RX, 0))
			return false;
		s->pc[t] = DONE;
		return true;
	}
	return false;
}

#define SEEN_SLOTS (1u << 20)
static uint64_t *seen;

static uint64_t key_of(const struct tso *s)
{
	uint64_t k = (uint64_t)s->pc[0] << 56 | (uint64_t)s->pc[1] << 48;
	for (int v = 0; v < N_VARS; v++)
		k |= (uint64_t)s->mem[v] << (40 + v);
	for (int t = 0; t < 2; t++) {
		k |= (uint64_t)s->n_buf[t] << (32 + 3 * t);
		for (int i = 0; i < s->n_buf[t]; i++)
			k |= (uint64_t)(s->buf[t][i].var << 1 | s->buf[t][i].val) << (t * 16 + i * 4);
	}
	return k + 1; /* 0 marks an empty slot */
}

/** True when k was not seen before (and remembers it). */
static bool first_visit(uint64_t k)
{
	for (uint64_t h = (k * 0x9e3779b97f4a7c15ull) >> 44;; h = (h + 1) & (SEEN_SLOTS - 1)) {
		if (seen[h] == k)
			return false;
		if (!seen[h]) {
			seen[h] = k;
			return true;
		}
	}
}

/** Two programs (thread 0 runs the fence under test) and what no final state may be. */
struct protocol {
	bool (*step[2])(struct tso *s, bool fences);
	bool (*lost)(const struct tso *s);
};

struct explore {
	const struct protocol *p;
	bool fences;
	unsigned finals, lost;
	struct tso witness;
};

static void explore(struct explore *x, const struct tso *s)
{
	if (!first_visit(key_of(s)))
		return;
	bool moved = false;
	struct tso n;
	for (int t = 0; t < 2; t++) {
		n = *s;
		if (n.pc[t] != DONE && x->p->step[t](&n, x->fences)) {
			moved = true;
			explore(x, &n);
		}
		n = *s;
		if (n.n_buf[t]) {
			flush_one(&n, t);
			moved = true;
			explore(x, &n);
		}
	}
	if (moved)
		return;
	x->finals++;
	if (x->p->lost(s)) {
		if (!x->lost)
			x->witness = *s;
		x->lost++;
	}
}

/* Both sides are done and every store landed: a datagram still queued must have been announced. */
static bool datagram_unannounced(const struct tso *s)
{
	return s->mem[RX] && !s->mem[EFD];
}

static const struct protocol signal_and_drain = { { lcore_step, app_step }, datagram_unannounced };

enum { ASLEEP = 0xfe };

/** A sender (a control call, a send): queue for the lcore, then ffs_lcore_wake. */
static bool sender_step(struct tso *s, bool fences)
{
	const int t = 0;
	switch (s->pc[t]) {
	case 0: /* rte_ring_mp_enqueue(lc->ctrl) */
		if (!store(s, t, CTRL, 1))
			return false;
		s->pc[t] = fences ? 1 : 2;
		return true;
	case 1: /* ffs_lcore_wake's fence */
		if (s->n_buf[t])
			return false;
		s->pc[t] = 2;
		return true;
	case 2: /* sleeping? then the eventfd write */
		if (load(s, t, SLEEPING)) {
			if (s->n_buf[t])
				return false;
			xchg(s, WAKEFD, 1);
		}
		s->pc[t] = DONE;
		return true;
	}
	return false;
}

/** An idle lcore going to sleep: ffs_lcore_sleep_begin. */
static bool sleeper_step(struct tso *s, bool fences)
{
	(void)fences;
	const int t = 1;
	switch (s->pc[t]) {
	case 0: /* sleeping = true, and the fence (a seq_cst store is a locked xchg on x86: a fence of its own) */
		if (s->n_buf[t])
			return false;
		xchg(s, SLEEPING, 1);
		s->pc[t] = 1;
		return true;
	case 1: /* work queued meanwhile: stay up; else sleep until woken */
		s->pc[t] = load(s, t, CTRL) ? DONE : ASLEEP;
		return true;
	}
	return false;
}

/* The lcore sleeps with a message queued and no wake-up written: it waits out its whole timeout. */
static bool message_slept_on(const struct tso *s)
{
	return s->pc[1] == ASLEEP && s->mem[CTRL] && !s->mem[WAKEFD];
}

static const struct protocol post_and_sleep = { { sender_step, sleeper_step }, message_slept_on };

static struct explore explore_from(const struct protocol *p, bool fences, struct tso start)
{
	if (!seen)
		seen = calloc(SEEN_SLOTS, sizeof(*seen));
	if (!seen)
		exit(2);
	memset(seen, 0, SEEN_SLOTS * sizeof(*seen));
	struct explore x = { .p = p, .fences = fences };
	explore(&x, &start);
	return x;
}

/** The state a busy application is in when it wakes for another socket (`listed`: this socket is
 *  listed from an earlier datagram, already drained). */
static struct tso woken_app(bool listed)
{
	return (struct tso){ .mem = { [NOTIFIED] = 1, [LISTED] = listed, [READY] = listed } };
}

TEST(every_interleaving_of_signal_and_drain_under_tso_leaves_no_datagram_unannounced)
{
	for (int listed = 0; listed < 2; listed++) {
		struct explore x = explore_from(&signal_and_drain, true, woken_app(listed));
		printf("# fenced, %s: %u final states, %u lost wake-ups\n", listed ? "listed" : "unlisted", x.finals, x.lost);
		CHECK(x.finals > 1);
		if (x.lost)
			FAIL("%u final state(s) with a datagram queued and no eventfd write (socket %slisted at the start; "
			     "ends rx_listed=%u ready=%u notified=%u)", x.lost, listed ? "" : "un", x.witness.mem[LISTED],
			     x.witness.mem[READY], x.witness.mem[NOTIFIED]);
	}
}

TEST(the_model_finds_the_lost_wake_up_without_the_lcores_fence)
{
	/* The exploration is only worth something if it sees what the missing fence did. */
	unsigned lost = 0;
	for (int listed = 0; listed < 2; listed++)
		lost += explore_from(&signal_and_drain, false, woken_app(listed)).lost;
	CHECK(lost > 0);
}

TEST(every_interleaving_of_a_post_and_a_lcore_going_to_sleep_under_tso_wakes_it)
{
	struct explore x = explore_from(&post_and_sleep, true, (struct tso){ 0 });
	printf("# fenced: %u final states, %u sleeps through a queued message\n", x.finals, x.lost);
	CHECK(x.finals > 1);
	CHECK_EQ_INT(x.lost, 0);
	/* Without the sender's fence it could sleep on (up to its epoll timeout). */
	CHECK(explore_from(&post_and_sleep, false, (struct tso){ 0 }).lost > 0);
}

TEST_MAIN()
