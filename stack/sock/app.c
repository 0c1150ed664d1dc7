/*
 * Application contexts and wake-ups (see sock.h): how lcores tell an application thread that its
 * sockets have news without a system call per datagram. A socket is listed in its application's
 * ready ring once until the application takes it; the eventfd is written once until the
 * application re-arms. Lcores signal once per socket per burst, after one fence, and check both
 * flags with a plain load before the atomic exchange, so a busy socket costs its lcore no locked
 * instruction per datagram.
 *
 * Each flag is a Dekker pair: one side queues (a datagram on the socket's ring, the socket on the
 * ready ring) and then reads the flag, the other clears the flag and then looks at the ring. Without
 * a full fence between the store and the load on both sides, each can miss the other's store (a
 * store-load reordering, which x86 does too): the socket stays listed or the app stays notified with
 * no eventfd write, and stalls until another socket of the application signals.
 *
 * Application threads are also readers of sockets for the stack's rte_rcu_qsbr variable, online
 * only inside a call that holds a socket (ffs_app_enter/ffs_app_leave): a socket another thread
 * closes is freed only after every such call that could have found it has returned, or reported a
 * quiescent state while it held none (a wait). Reader id = lcore count + the thread's DPDK lcore id.
 */
#include <stdio.h>
#include <sys/eventfd.h>
#include <unistd.h>
#include <rte_lcore.h>
#include <rte_malloc.h>
#include <rte_rcu_qsbr.h>
#include <rte_ring.h>
#include <rte_ring_elem.h>

#include "stack/lcore/lcore.h"
#include "stack/sock/sock.h"

/* Calls that hold sockets nest (ff_recvmmsg calls ff_recvmsg): the outermost one goes online. */
static _Thread_local unsigned reader_depth;

static unsigned reader_id(const struct ffs_stack *st) { return st->n_lcores + rte_lcore_id(); }

/** Registers the calling thread with DPDK when it is not an EAL thread: false when it may not be
 *  (a multi-process stack, see ffs_stack_thread_allowed) or DPDK has no lcore id left. */
static bool thread_register(const struct ffs_stack *st)
{
	if (rte_lcore_id() != LCORE_ID_ANY)
		return true;
	return ffs_stack_thread_allowed(st) && rte_thread_register() == 0;
}

bool ffs_app_enter(struct ffs_stack *st)
{
	if (reader_depth > 0) {
		reader_depth++;
		return true;
	}
	if (!thread_register(st))
		return false;
	unsigned id = reader_id(st);
	rte_rcu_qsbr_thread_register(st->rcu, id);
	rte_rcu_qsbr_thread_online(st->rcu, id);
	reader_depth = 1;
	return true;
}

void ffs_app_leave(struct ffs_stack *st)
{
	if (--reader_depth == 0)
		rte_rcu_qsbr_thread_offline(st->rcu, reader_id(st));
}

bool ffs_app_reading(void) { return reader_depth > 0; }

void ffs_app_thread_leave(struct ffs_stack *st)
{
	if (reader_depth > 0 || rte_lcore_id() == LCORE_ID_ANY)
		return;
	rte_rcu_qsbr_thread_unregister(st->rcu, reader_id(st));
	rte_thread_unregister(); /* a no-op on the EAL's own threads */
}

void ffs_app_quiescent(struct ffs_stack *st)
{
	if (reader_depth > 0)
		rte_rcu_qsbr_quiescent(st->rcu, reader_id(st));
}

void ffs_app_pause(struct ffs_stack *st)
{
	if (reader_depth > 0)
		rte_rcu_qsbr_thread_offline(st->rcu, reader_id(st));
}

void ffs_app_resume(struct ffs_stack *st)
{
	if (reader_depth > 0)
		rte_rcu_qsbr_thread_online(st->rcu, reader_id(st));
}

void ffs_app_synchronize(struct ffs_stack *st)
{
	/* rte_rcu_qsbr_synchronize's three steps, made here from the inline API: inside DPDK's library
	 * its acquire of the readers' quiescent states is out of ThreadSanitizer's sight, and a socket
	 * freed after the grace period would show as racing with the readers' last look at it.
	 * One grace period at a time: rte_rcu_qsbr_check reads the least acknowledged token with a plain
	 * load while another thread's check stores it (two threads closing sockets at once race there).
	 * Offline while waiting for the lock, since the thread holding it waits for this one's quiescent
	 * state. */
	if (pthread_mutex_trylock(&st->grace_lock) != 0) {
		ffs_app_pause(st);
		pthread_mutex_lock(&st->grace_lock);
		ffs_app_resume(st);
	}
	uint64_t t = rte_rcu_qsbr_start(st->rcu);
	if (reader_depth > 0)
		rte_rcu_qsbr_quiescent(st->rcu, reader_id(st));
	rte_rcu_qsbr_check(st->rcu, t, true);
	pthread_mutex_unlock(&st->grace_lock);
}

struct ffs_app *ffs_app_new(struct ffs_stack *st)
{
	if (!thread_register(st))
		return NULL;
	struct ffs_app *app = rte_zmalloc("ffs_app", sizeof(*app), RTE_CACHE_LINE_SIZE);
	if (!app)
		return NULL;
	/* Home: the lcore this thread turns (inline), else attach order over the lcores. */
	int claimed = ffs_stack_thread_lcore(st);
	pthread_mutex_lock(&st->ns_lock);
	app->id = st->n_apps++;
	app->home = claimed >= 0 ? (unsigned)claimed : st->n_lcores ? st->n_homed++ % st->n_lcores : 0;
	pthread_mutex_unlock(&st->ns_lock);
	char name[RTE_RING_NAMESIZE];
	snprintf(name, sizeof(name), "%.16s_app%u", st->name, app->id);
	/* Each socket is listed at most once, so the ring never fills. */
	app->ready = rte_ring_create_elem(name, sizeof(uint32_t), FFS_MAX_SOCKS * 2, SOCKET_ID_ANY, RING_F_SC_DEQ);
	app->event_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (!app->ready || app->event_fd < 0) {
		ffs_app_free(st, app);
		return NULL;
	}
	return app;
}

void ffs_app_set_home(struct ffs_stack *st, struct ffs_app *app, unsigned index)
{
	app->home = st->n_lcores ? index % st->n_lcores : 0;
}

void ffs_app_free(struct ffs_stack *st, struct ffs_app *app)
{
	(void)st;
	if (!app)
		return;
	if (app->ready)
		rte_ring_free(app->ready);
	if (app->event_fd >= 0)
		close(app->event_fd);
	rte_free(app);
}

bool ffs_app_rearm(struct ffs_app *app)
{
	unsigned was = atomic_exchange(&app->notified, FFS_NOTIFIED_NONE);
	atomic_thread_fence(memory_order_seq_cst);
	return was == FFS_NOTIFIED_EVENTFD;
}

/* The application whose wake-ups this thread's turns hand over inline (ffs_app_turn_begin). */
static _Thread_local struct ffs_app *turning_for;

void ffs_app_turn_begin(struct ffs_app *app) { turning_for = app; }

bool ffs_app_turn_end(struct ffs_app *app)
{
	turning_for = NULL;
	return app && atomic_load_explicit(&app->notified, memory_order_relaxed) == FFS_NOTIFIED_INLINE;
}

void ffs_app_inline_unread(struct ffs_app *app)
{
	unsigned char inl = FFS_NOTIFIED_INLINE;
	if (app && atomic_compare_exchange_strong(&app->notified, &inl, FFS_NOTIFIED_EVENTFD)) {
		uint64_t one = 1;
		ssize_t rc = write(app->event_fd, &one, sizeof(one));
		(void)rc;
	}
}

void ffs_sock_unlist(struct ffs_sock *so)
{
	atomic_store_explicit(&so->rx_listed, false, memory_order_relaxed);
	atomic_thread_fence(memory_order_seq_cst);
}

unsigned ffs_app_ready(struct ffs_app *app, uint32_t *ids, unsigned max)
{
	return rte_ring_sc_dequeue_burst_elem(app->ready, ids, sizeof(uint32_t), max, NULL);
}

enum ffs_wake ffs_sock_signal(struct ffs_sock *so)
{
	/* The caller fenced after queueing (Dekker with the application, which clears rx_listed and then
	 * drains): a relaxed load that still sees `true` means the application has yet to drain. */
	if (atomic_load_explicit(&so->rx_listed, memory_order_relaxed) || atomic_exchange(&so->rx_listed, true))
		return FFS_WAKE_NONE;
	struct ffs_app *app = so->app;
	rte_ring_mp_enqueue_elem(app->ready, &so->id, sizeof(uint32_t));
	/* Dekker with ffs_app_rearm: the listing is visible before `notified` is read. */
	atomic_thread_fence(memory_order_seq_cst);
	if (atomic_load_explicit(&app->notified, memory_order_relaxed))
		return FFS_WAKE_NONE;
	/* The application's own thread is turning this lcore and drains after its turn: a wake-up
	 * through the eventfd would only come back to it through epoll. Another lcore finding
	 * `notified` set meanwhile leaves it to that drain, which re-arms first (as for a write). */
	const bool inline_wake = app == turning_for;
	if (atomic_exchange(&app->notified, inline_wake ? FFS_NOTIFIED_INLINE : FFS_NOTIFIED_EVENTFD))
		return FFS_WAKE_NONE;
	if (inline_wake)
		return FFS_WAKE_INLINE;
	uint64_t one = 1;
	ssize_t rc = write(app->event_fd, &one, sizeof(one));
	(void)rc;
	return FFS_WAKE_EVENTFD;
}
