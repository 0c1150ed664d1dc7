/*
 * Idle without burning a core: a lcore that found no work for a while arms RX interrupts on its
 * queues and sleeps in epoll until a queue has packets, a control message wakes it, or the next
 * timer tick is due. Lost wake-ups are avoided by ordering (a Dekker pair, with a full fence on each
 * side): the lcore publishes `sleeping` before it re-checks its rings, and a sender enqueues before
 * it reads `sleeping`.
 * AF_PACKET and AF_XDP ports have no RX interrupts in DPDK 22.11, but each queue is a socket of this
 * process that polls readable while frames wait: the lcore sleeps on those (phy/port.c finds them).
 * Ports without either (net_ring, net_null, net_memif) fall back to naps (loop.c); the lcore
 * naps on its wake fd alone, so that a control message or an application's datagram still wakes it
 * at once and only frames from the device wait for the nap to end.
 * The queue fds in the epoll set are what make an idle stack prompt: on net_tap (where the queue's
 * tap fd is its interrupt fd) a frame to a lcore left to its timer tick waits 2–12 ms, against
 * 0.1–0.3 ms when its fd wakes it (test/stack/idle-wake.test.ts).
 */
#include <errno.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>
#include <rte_ethdev.h>

#include "stack/lcore/lcore.h"

int ffs_lcore_sleep_init(struct ffs_lcore *lc)
{
	const struct ffs_stack *st = lc->st;
	lc->epoll_fd = lc->wake_fd = -1;
	atomic_store(&lc->sleeping, false);
	lc->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (lc->wake_fd < 0)
		return -1;
	for (unsigned p = 0; p < st->n_ports; p++)
		if (!st->ports[p].rx_intr)
			return -1; /* naps, on wake_fd alone */
	lc->epoll_fd = epoll_create1(EPOLL_CLOEXEC);
	if (lc->epoll_fd < 0)
		goto fail;
	struct epoll_event ev = { .events = EPOLLIN };
	if (epoll_ctl(lc->epoll_fd, EPOLL_CTL_ADD, lc->wake_fd, &ev) != 0)
		goto fail;
	for (unsigned p = 0; p < st->n_ports; p++) {
		if (lc->index >= st->ports[p].nb_rxq)
			continue; /* no queue of its own there: the dispatcher wakes it */
		int fd = st->ports[p].rx_wait_fd[lc->index];
		if (fd < 0 || epoll_ctl(lc->epoll_fd, EPOLL_CTL_ADD, fd, &ev) != 0)
			goto fail;
	}
	/* Lcore 0 reads the exception interfaces (phy/exception.h): what the kernel sends wakes it too. */
	for (unsigned p = 0; p < st->n_ports && lc->index == 0; p++) {
		int fd = st->ports[p].exc.on ? st->ports[p].exc.rx_intr_fd : -1;
		if (fd >= 0 && epoll_ctl(lc->epoll_fd, EPOLL_CTL_ADD, fd, &ev) != 0)
			goto fail;
	}
	return 0;
fail:
	ffs_lcore_sleep_fini(lc);
	return -1;
}

void ffs_lcore_sleep_fini(struct ffs_lcore *lc)
{
	if (lc->epoll_fd >= 0)
		close(lc->epoll_fd);
	if (lc->wake_fd >= 0)
		close(lc->wake_fd);
	lc->epoll_fd = lc->wake_fd = -1;
}

/** Lcore 0: the exception interfaces' receive interrupts on or off (phy/exception.h). */
static void exception_intr(struct ffs_lcore *lc, bool on)
{
	const struct ffs_stack *st = lc->st;
	for (unsigned p = 0; p < st->n_ports && lc->index == 0 && st->exc_any && lc->epoll_fd >= 0; p++) {
		const struct ffs_exception *x = &st->ports[p].exc;
		if (x->on && x->rx_intr_fd >= 0)
			(on ? rte_eth_dev_rx_intr_enable : rte_eth_dev_rx_intr_disable)(x->dev_port_id, 0);
	}
}

/** Lcore 0: frames other lcores queued for the kernel (their enqueue wakes lcore 0, as a datagram does). */
static bool exception_queued(const struct ffs_lcore *lc)
{
	const struct ffs_stack *st = lc->st;
	for (unsigned p = 0; p < st->n_ports && lc->index == 0 && st->exc_any; p++)
		if (st->ports[p].exc.on && ffs_ring_nonempty(st->ports[p].exc.to_kernel))
			return true;
	return false;
}

bool ffs_lcore_sleep_begin(struct ffs_lcore *lc)
{
	const struct ffs_stack *st = lc->st;
	for (unsigned p = 0; p < st->n_ports; p++)
		if (lc->index < st->ports[p].nb_rxq && lc->epoll_fd >= 0 && st->ports[p].rx_intr_armed)
			rte_eth_dev_rx_intr_enable(st->ports[p].port_id, (uint16_t)lc->index);
	exception_intr(lc, true);
	atomic_store(&lc->sleeping, true);
	atomic_thread_fence(memory_order_seq_cst);
	if (ffs_ring_nonempty(lc->ctrl) || ffs_ring_nonempty(lc->peer_in) || ffs_ring_nonempty(lc->tx_in) || lc->lo_len ||
	    exception_queued(lc)) {
		ffs_lcore_sleep_end(lc);
		return false;
	}
	return true;
}

void ffs_lcore_sleep_end(struct ffs_lcore *lc)
{
	const struct ffs_stack *st = lc->st;
	atomic_store(&lc->sleeping, false);
	for (unsigned p = 0; p < st->n_ports; p++)
		if (lc->index < st->ports[p].nb_rxq && lc->epoll_fd >= 0 && st->ports[p].rx_intr_armed)
			rte_eth_dev_rx_intr_disable(st->ports[p].port_id, (uint16_t)lc->index);
	exception_intr(lc, false);
	uint64_t v;
	ssize_t rc = read(lc->wake_fd, &v, sizeof(v));
	(void)rc;
}

void ffs_lcore_wake(struct ffs_lcore *lc)
{
	/* The sender's enqueue is visible before `sleeping` is read (else both sides can miss the other). */
	atomic_thread_fence(memory_order_seq_cst);
	if (lc->wake_fd >= 0 && atomic_load_explicit(&lc->sleeping, memory_order_relaxed)) {
		uint64_t one = 1;
		ssize_t rc = write(lc->wake_fd, &one, sizeof(one));
		(void)rc;
	}
}
