/*
 * The stack loop of one lcore, after DPDK's l2fwd: read the clock, apply control messages, take
 * what peers handed over (ARP clones, fragments, dispatched frames), deliver looped-back packets,
 * receive a burst from every port (copied to a running capture, phy/capture.c, then through the
 * fault injector, phy/fault.c, when it is on; a port with fewer RX queues than lcores has its frames
 * dispatched by RSS hash to the lcore they belong to), run timers, and flush TX (copied to a running
 * capture first) — at once when the receive side is quiet (latency), or when the
 * oldest queued frame has waited pkt_tx_delay (throughput under load). An idle data-path lcore
 * sleeps (lcore/sleep.c) instead of burning its core; idle_sleep = 0 keeps it busy-polling.
 *
 * Each lcore is a reader of sockets for rte_rcu_qsbr (sock/sock.c frees a socket after a grace
 * period): a data-path lcore reports a quiescent state after every turn and is offline while it
 * sleeps; an inline lcore is online only inside a turn, so the JS thread that closes a socket never
 * waits for itself. An inline lcore's turn runs under its turn lock (several threads may turn lcores).
 */
#define _GNU_SOURCE /* ppoll */
#include <errno.h>
#include <poll.h>
#include <sys/epoll.h>
#include <time.h>
#include <unistd.h>
#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_launch.h>
#include <rte_prefetch.h>
#include <rte_rcu_qsbr.h>

#include "stack/iface/iface.h"
#include "stack/lcore/ctrl.h"
#include "stack/lcore/lcore.h"
#include "stack/phy/port.h"
#include "stack/phy/rss.h"

/** Empty turns before an idle lcore starts sleeping. */
#define IDLE_TURNS_BEFORE_SLEEP 256
/** Timer granularity: ARP retransmits and aging. */
#define TICKS_PER_SECOND 100

static void tx_flush(struct ffs_lcore *lc, uint16_t port_index)
{
	struct ffs_txbuf *b = &lc->tx[port_index];
	struct ffs_port *port = &lc->st->ports[port_index];
	/* A multi-process stack sends on the queue it serves (phy/cluster.h), none while it serves none. */
	const uint16_t q = lc->st->cluster ? lc->txq : (uint16_t)(lc->index % port->nb_txq);
	/* A device with fewer TX queues than lcores: rte_eth_tx_burst is not thread-safe on one queue. */
	const bool shared = port->nb_txq < lc->st->n_lcores;
	uint16_t sent = 0;
	if (!port->up) {
		lc->ctr.eth_tx_down += b->n;
		rte_pktmbuf_free_bulk(b->pkts, b->n);
		b->n = 0;
		return;
	}
	/* The capture tap (phy/capture.h) sees frames as they are handed to the device. */
	struct ffs_capture *cap = atomic_load_explicit(&lc->st->tap.port[port_index], memory_order_acquire);
	if (unlikely(cap != NULL) && q != FFS_NO_TXQ)
		ffs_capture_burst(lc, cap, port_index, q, b->pkts, b->n, true);
	if (shared)
		rte_spinlock_lock(&port->tx_lock[q]);
	for (int tries = 0; tries < 4 && sent < b->n && q != FFS_NO_TXQ; tries++) {
		uint16_t took = rte_eth_tx_burst(port->port_id, q, b->pkts + sent, b->n - sent);
		sent += took;
		lc->ctr.eth_tx_bursts += took != 0;
	}
	if (shared)
		rte_spinlock_unlock(&port->tx_lock[q]);
	lc->ctr.eth_tx += sent;
	if (sent < b->n) {
		lc->ctr.eth_tx_dropped += b->n - sent;
		rte_pktmbuf_free_bulk(b->pkts + sent, b->n - sent);
	}
	b->n = 0;
}

void ffs_tx_enqueue(struct ffs_lcore *lc, uint16_t port_index, struct rte_mbuf *m)
{
	/* The one place every frame passes on its way out: a VLAN port's frames get their tag here. */
	const struct ffs_port *port = &lc->st->ports[port_index];
	if (port->vlan_id && !(m = eth_vlan_tag(lc, port, m)))
		return;
	struct ffs_txbuf *b = &lc->tx[port_index];
	if (b->n == 0)
		b->first_tsc = lc->now;
	b->pkts[b->n++] = m;
	if (b->n == FFS_BURST)
		tx_flush(lc, port_index);
}

void ffs_tx_flush_all(struct ffs_lcore *lc)
{
	for (uint16_t i = 0; i < lc->st->n_ports; i++)
		if (lc->tx[i].n)
			tx_flush(lc, i);
}

void ffs_event_post(struct ffs_stack *st, const struct ffs_event *ev)
{
	if (rte_ring_mp_enqueue_elem(st->events, (void *)ev, sizeof(*ev)) != 0)
		return;
	/* Events are rare (control-plane answers): wake the application thread on every one. */
	uint64_t one = 1;
	ssize_t rc = write(st->event_fd, &one, sizeof(one));
	(void)rc;
}

static unsigned drain_ctrl(struct ffs_lcore *lc)
{
	void *msgs[8];
	unsigned n = rte_ring_sc_dequeue_burst(lc->ctrl, msgs, 8, NULL);
	for (unsigned i = 0; i < n; i++)
		ffs_ctrl_apply(lc, msgs[i]);
	return n;
}

/** Frames from another lcore or process: ARP clones, steered fragments and datagrams, dispatched frames. */
static unsigned drain_peers(struct ffs_lcore *lc, struct rte_ring *ring)
{
	struct rte_mbuf *pkts[FFS_BURST];
	unsigned n = rte_ring_sc_dequeue_burst(ring, (void **)pkts, FFS_BURST, NULL);
	for (unsigned i = 0; i < n; i++) {
		if (pkts[i]->hash.usr == FFS_PEER_DATAGRAM) {
			udp_steered_input(lc, pkts[i]);
			continue;
		}
		/* The port is recorded in the mbuf by the receiving lcore's PMD. */
		const struct ffs_port *port = NULL;
		for (unsigned p = 0; p < lc->st->n_ports; p++)
			if (lc->st->ports[p].port_id == pkts[i]->port)
				port = &lc->st->ports[p];
		if (port && pkts[i]->hash.usr == FFS_PEER_FRAGMENT)
			ipv4_steered_input(lc, port, pkts[i]);
		else if (port && pkts[i]->hash.usr == FFS_PEER_FRAME)
			eth_input(lc, port, pkts[i]);
		else if (port && pkts[i]->hash.usr == FFS_PEER_FRAGMENT6)
			ipv6_steered_input(lc, port, pkts[i]);
		else if (port && pkts[i]->hash.usr == FFS_PEER_ND)
			nd6_clone_input(lc, port, pkts[i]);
		else if (port)
			arp_input(lc, port, pkts[i], true);
		else
			rte_pktmbuf_free(pkts[i]);
	}
	return n;
}

/**
 * The software RSS dispatcher of a port with fewer RX queues than lcores: hands a received frame to
 * the lcore its hash lands on (phy/rss.h), as a NIC's RSS would have. True when it left this lcore
 * (queued there, or dropped and counted when that lcore's peer ring is full); `woken` collects
 * which lcores to wake once the burst is dispatched.
 */
static bool dispatch(struct ffs_lcore *lc, const struct ffs_port *port, struct rte_mbuf *m, bool *woken)
{
	struct ffs_stack *st = lc->st;
	uint32_t h;
	if (!ffs_rss_frame_hash(rte_pktmbuf_mtod(m, const uint8_t *), rte_pktmbuf_data_len(m), &h))
		return false;
	unsigned to = ffs_rss_lcore(h, st->n_lcores);
	if (to == lc->index)
		return false;
	m->hash.usr = FFS_PEER_FRAME;
	m->port = port->port_id; /* the peer finds the port by it; not every PMD records it (net_ring) */
	if (rte_ring_enqueue(st->lcores[to]->peer_in, m) != 0) {
		lc->ctr.eth_dispatch_dropped++;
		rte_pktmbuf_free(m);
		return true;
	}
	lc->ctr.eth_dispatched++;
	woken[to] = true;
	return true;
}

static unsigned drain_loopback(struct ffs_lcore *lc)
{
	/* Only what was queued before this turn: replies looped back now wait for the next turn. */
	unsigned n = lc->lo_len;
	for (unsigned i = 0; i < n; i++) {
		struct rte_mbuf *m = lc->lo[lc->lo_head];
		lc->lo_head = (uint16_t)((lc->lo_head + 1) % FFS_LOOPBACK_QUEUE);
		lc->lo_len--;
		/* One queue for both families: the version nibble tells them apart. */
		if (rte_pktmbuf_mtod(m, const uint8_t *)[0] >> 4 == 6)
			ipv6_input(lc, NULL, m);
		else
			ipv4_input(lc, NULL, m);
	}
	return n;
}

/** Link checks per second (an ioctl for tap, a register read for NICs). */
#define LINK_CHECKS_PER_SECOND 4

static void watch_links(struct ffs_lcore *lc)
{
	const struct ffs_stack *st = lc->st;
	lc->next_link_check = lc->now + st->tsc_hz / LINK_CHECKS_PER_SECOND;
	for (unsigned p = 0; p < st->n_ports; p++) {
		struct rte_eth_link link;
		if (ffs_port_link(&st->ports[p], &link) != 0)
			continue;
		bool up = link.link_status == RTE_ETH_LINK_UP;
		/* A gratuitous ARP request and unsolicited Neighbor Advertisements when the link comes up
		 * (RFC 5227 §2.3 announcement), so neighbours holding an old MAC for our addresses update. */
		if (up && !lc->link_up[p]) {
			arp_announce(lc, &st->ports[p]);
			nd6_announce(lc, &st->ports[p]); /* RFC 4861 §7.2.6, the same for IPv6 */
			igmp_link_up(lc, (uint16_t)p);
		}
		lc->link_up[p] = up;
	}
}

void ffs_lcore_timers(struct ffs_lcore *lc)
{
	arp_tick(lc);
	nd6_tick(lc);
	ip_reasm_tick(lc);
	igmp_tick(lc);
	ra6_tick(lc);
}

/**
 * Lcore 0, every tick, for devices that do not resume by themselves (net_tap, phy/port.c): one whose
 * rx_nombuf grew failed to refill its receive ring. Once the counter has stopped growing and the pool
 * has mbufs again, restart its reception: it would otherwise never receive again, and with RX
 * interrupts its readable queue would keep the loop spinning. Other devices are left alone (their
 * statistics may be costly or clear-on-read registers).
 */
static void watch_rx_starvation(struct ffs_lcore *lc)
{
	struct ffs_stack *st = lc->st;
	for (unsigned p = 0; p < st->n_ports; p++) {
		struct ffs_port *port = &st->ports[p];
		struct rte_eth_stats s;
		if (!port->rx_restart_signal || rte_eth_stats_get(port->port_id, &s) != 0)
			continue;
		if (s.rx_nombuf != port->rx_nombuf_seen) {
			port->rx_nombuf_seen = s.rx_nombuf;
			port->rx_starved = true;
		} else if (port->rx_starved && rte_mempool_avail_count(st->pool) >= FFS_BURST) {
			port->rx_starved = false;
			if (ffs_port_rx_restart(port))
				lc->ctr.eth_rx_restarts++;
		}
	}
}

/** The inline lcore holds sockets only inside a turn (rte_rcu_qsbr reader section). */
static inline void inline_enter(struct ffs_lcore *lc)
{
	if (lc->st->inline_mode)
		rte_rcu_qsbr_thread_online(lc->st->rcu, lc->index);
}

static inline void inline_leave(struct ffs_lcore *lc)
{
	if (lc->st->inline_mode)
		rte_rcu_qsbr_thread_offline(lc->st->rcu, lc->index);
}

void ffs_lcore_kick_tx(struct ffs_lcore *lc)
{
	inline_enter(lc);
	lc->now = rte_rdtsc();
	while (udp_tx_drain(lc))
		;
	ffs_tx_flush_all(lc);
	inline_leave(lc);
}

static unsigned turn(struct ffs_lcore *lc);

/** How often a multi-process primary looks for dead workers (a kill(2) per worker's queue). */
#define CLUSTER_CHECKS_PER_SECOND 4

/**
 * Multi-process (phy/cluster.h): the primary hands queues to the workers that asked for them and
 * adopts those of dead workers, between two turns and with nothing of its own left to send on them;
 * every process learns the ARP and ND frames the others received on their queues.
 */
static unsigned cluster_turn(struct ffs_lcore *lc)
{
	struct ffs_stack *st = lc->st;
	if (!st->secondary) {
		bool check = lc->now >= lc->next_cluster_check;
		if (check)
			lc->next_cluster_check = lc->now + st->tsc_hz / CLUSTER_CHECKS_PER_SECOND;
		if (check || ffs_cluster_wanted(st->cluster)) {
			ffs_tx_flush_all(lc);
			const uint32_t served = lc->rxq_mask;
			lc->rxq_mask = ffs_cluster_primary_sync(st->cluster, check);
			lc->txq = lc->rxq_mask ? (uint16_t)__builtin_ctz(lc->rxq_mask) : FFS_NO_TXQ;
			/* A worker that takes a queue starts with what the primary knows of the neighbours: the
			 * peers send at once, their ARP and ND done long ago, and the hold queue is short. */
			for (uint32_t handed = served & ~lc->rxq_mask; handed; handed &= handed - 1) {
				arp_replay(lc, st->cluster_arp[__builtin_ctz(handed)]);
				nd6_replay(lc, st->cluster_arp[__builtin_ctz(handed)]);
			}
		}
	}
	/* An adopted queue's ring holds the clones sent while its dead worker still owned it: drained here. */
	unsigned work = st->secondary ? 0 : drain_peers(lc, st->cluster_arp[st->cluster->n_queues]);
	for (uint32_t queues = lc->rxq_mask; queues; queues &= queues - 1)
		work += drain_peers(lc, st->cluster_arp[__builtin_ctz(queues)]);
	return work;
}

unsigned ffs_lcore_turn(struct ffs_lcore *lc)
{
	inline_enter(lc);
	unsigned work = turn(lc);
	/* Busy time: one TSC read per turn that did work; an idle turn costs nothing more. */
	if (work)
		lc->ctr.loop_busy_ns += (uint64_t)((unsigned __int128)(rte_rdtsc() - lc->now) * lc->st->tsc_ns_q32 >> 32);
	inline_leave(lc);
	return work;
}

/* The turn locks this thread holds: lcore indexes of one stack (a thread turns one lcore at a time,
 * and applies a control message to one at a time, but a turn may wait for SO_SNDBUF room). */
static _Thread_local const struct ffs_stack *held_st;
static _Thread_local uint32_t held_mask;

bool ffs_lcore_locked_here(const struct ffs_lcore *lc)
{
	return held_st == lc->st && (held_mask & (1u << lc->index));
}

static void mark_held(struct ffs_lcore *lc)
{
	if (held_st != lc->st)
		held_mask = 0;
	held_st = lc->st;
	held_mask |= 1u << lc->index;
}

bool ffs_lcore_trylock(struct ffs_lcore *lc)
{
	/* A plain load first: a thread that finds the lcore busy leaves its cache line alone. */
	if (atomic_load_explicit(&lc->turn_lock, memory_order_relaxed) ||
	    atomic_exchange_explicit(&lc->turn_lock, true, memory_order_acquire))
		return false;
	mark_held(lc);
	return true;
}

void ffs_lcore_lock(struct ffs_lcore *lc)
{
	while (!ffs_lcore_trylock(lc))
		rte_pause();
}

void ffs_lcore_unlock(struct ffs_lcore *lc)
{
	held_mask &= ~(1u << lc->index);
	atomic_store_explicit(&lc->turn_lock, false, memory_order_release);
}

/* Datagrams the calling thread's inline turns dropped at a full socket (ffs_stack_thread_fullsock). */
static _Thread_local uint64_t turned_fullsock;

uint64_t ffs_stack_thread_fullsock(void) { return turned_fullsock; }

/* One turn, counting what it dropped at a full socket for the thread (read under the turn lock:
 * only the thread turning the lcore writes its counters). */
static unsigned turn_counted(struct ffs_lcore *lc)
{
	uint64_t before = lc->ctr.udp_fullsock;
	unsigned work = ffs_lcore_turn(lc);
	turned_fullsock += lc->ctr.udp_fullsock - before;
	return work;
}

unsigned ffs_lcore_turn_locked(struct ffs_lcore *lc)
{
	if (ffs_lcore_locked_here(lc))
		return turn_counted(lc);
	if (!ffs_lcore_trylock(lc))
		return 0;
	unsigned work = turn_counted(lc);
	ffs_lcore_unlock(lc);
	return work;
}

static unsigned turn(struct ffs_lcore *lc)
{
	struct ffs_stack *st = lc->st;
	struct rte_mbuf *pkts[FFS_FAULT_RX_MAX(FFS_BURST)];
	unsigned work = 0;
	bool rx_busy = false;

	lc->now = rte_rdtsc();
	lc->ctr.loop_turns++;
	work += drain_ctrl(lc);
	if (st->n_lcores > 1)
		work += drain_peers(lc, lc->peer_in);
	if (st->cluster)
		work += cluster_turn(lc);
	if (lc->lo_len)
		work += drain_loopback(lc);
	if (lc->index == 0 && lc->now >= lc->next_link_check)
		watch_links(lc);
	if (lc->index == 0 && !st->secondary)
		work += ffs_exc_turn(lc);

	work += udp_tx_drain(lc);

	/* The fault injector (phy/fault.c) sits between the devices and Ethernet input; while it is
	 * off and holds nothing, all it costs is this one load per turn. */
	if (atomic_load_explicit(&st->fault_gen, memory_order_acquire) != lc->fault.gen)
		ffs_fault_reload(lc);
	const bool faults = lc->fault.active || lc->fault.n_held;

	for (unsigned p = 0; p < st->n_ports; p++) {
		const struct ffs_port *port = &st->ports[p];
		bool woken[FFS_MAX_LCORES] = { false };
		/* The capture tap (phy/capture.h): one load per port and turn while no capture runs. */
		struct ffs_capture *cap = atomic_load_explicit(&st->tap.port[p], memory_order_acquire);
		for (uint32_t queues = lc->rxq_mask; queues; queues &= queues - 1) {
			const uint16_t q = (uint16_t)__builtin_ctz(queues);
			if (q >= port->nb_rxq)
				continue; /* its frames come from the dispatcher, over the peer ring */
			if (port->rx_trigger)
				port->rx_trigger(port->rx_trigger_sig); /* net_tap: read the queue (phy/port.c) */
			uint16_t n = rte_eth_rx_burst(port->port_id, q, pkts, FFS_BURST);
			work += n;
			rx_busy |= n == FFS_BURST;
			if (n && !port->up) {
				/* ifconfig down: the device may still deliver (not every PMD can take its link down). */
				lc->ctr.eth_rx_down += n;
				rte_pktmbuf_free_bulk(pkts, n);
				continue;
			}
			if (unlikely(cap != NULL) && n)
				ffs_capture_burst(lc, cap, (uint16_t)p, q, pkts, n, false);
			if (faults && n)
				n = ffs_fault_rx(lc, (uint16_t)p, pkts, n);
			for (uint16_t i = 0; i < n; i++) {
				if (i + 1 < n)
					rte_prefetch0(rte_pktmbuf_mtod(pkts[i + 1], void *));
				if (!port->rx_dispatch || !dispatch(lc, port, pkts[i], woken))
					eth_input(lc, port, pkts[i]);
			}
		}
		if (port->rx_dispatch)
			for (unsigned i = 0; i < st->n_lcores; i++)
				if (woken[i])
					ffs_lcore_wake(st->lcores[i]);
	}
	/* A frame held for reordering keeps the loop polling until it is delivered (bounded). */
	if (faults && lc->fault.n_held)
		work += ffs_fault_release_due(lc);

	udp_signal_flush(lc);

	if (lc->now >= lc->next_tick) {
		ffs_lcore_timers(lc);
		if (lc->index == 0)
			watch_rx_starvation(lc);
		lc->next_tick = lc->now + st->tsc_hz / TICKS_PER_SECOND;
	}

	for (uint16_t p = 0; p < st->n_ports; p++) {
		struct ffs_txbuf *b = &lc->tx[p];
		if (b->n && (!rx_busy || lc->now - b->first_tsc >= st->tx_delay_tsc))
			tx_flush(lc, p);
	}
	return work;
}

/** Longest nap of an idle lcore on a device without RX interrupts while it was busy lately (naps
 *  double up to it from idle_sleep): a frame from the device waits at most this long. */
#define MAX_NAP_US 1000
/** Once idle LONG_IDLE_S seconds, naps double on up to LONG_NAP_US: the first frame from the device after a
 *  second of silence waits up to that (applications' datagrams and control messages wake the lcore
 *  at once through its wake fd), and a long-idle lcore wakes ~100 times a second, not ~1000. */
#define LONG_IDLE_S 1
#define LONG_NAP_US (1000000 / TICKS_PER_SECOND)

/* A sleeping lcore holds no socket: it is offline, so closes need not wait for it to wake. */
static void idle(struct ffs_lcore *lc, uint32_t sleep_us)
{
	lc->ctr.loop_idle_sleeps++;
	if (lc->epoll_fd >= 0) {
		if (!ffs_lcore_sleep_begin(lc))
			return;
		rte_rcu_qsbr_thread_offline(lc->st->rcu, lc->index);
		struct epoll_event ev[4];
		epoll_wait(lc->epoll_fd, ev, 4, 1000 / TICKS_PER_SECOND);
		rte_rcu_qsbr_thread_online(lc->st->rcu, lc->index);
		ffs_lcore_sleep_end(lc);
		return;
	}
	/* No RX interrupts: nap, doubling from idle_sleep while nothing comes, so an idle lcore costs
	 * little CPU and a busy one reacts within idle_sleep; on the wake fd, which senders and control
	 * messages write while it naps (sleep.c). */
	if (!lc->nap_us)
		lc->napping_since = lc->now;
	uint32_t us = lc->nap_us ? lc->nap_us : sleep_us;
	struct timespec ts = { .tv_sec = us / 1000000, .tv_nsec = (long)(us % 1000000) * 1000 };
	if (lc->wake_fd >= 0 && !ffs_lcore_sleep_begin(lc)) {
		lc->nap_us = 0;
		return;
	}
	rte_rcu_qsbr_thread_offline(lc->st->rcu, lc->index);
	if (lc->wake_fd >= 0) {
		struct pollfd p = { .fd = lc->wake_fd, .events = POLLIN };
		ppoll(&p, 1, &ts, NULL);
	} else {
		nanosleep(&ts, NULL);
	}
	rte_rcu_qsbr_thread_online(lc->st->rcu, lc->index);
	if (lc->wake_fd >= 0)
		ffs_lcore_sleep_end(lc);
	const struct ffs_stack *st = lc->st;
	const uint32_t cap = lc->now - lc->napping_since >= st->tsc_hz * LONG_IDLE_S ? LONG_NAP_US : MAX_NAP_US;
	lc->nap_us = us * 2 > cap ? (us > cap ? us : cap) : us * 2;
}

int ffs_lcore_main(void *arg)
{
	struct ffs_lcore *lc = arg;
	struct rte_rcu_qsbr *rcu = lc->st->rcu;
	const uint32_t sleep_us = lc->st->conf.idle_sleep_us;
	rte_rcu_qsbr_thread_online(rcu, lc->index);
	while (!atomic_load_explicit(&lc->stop, memory_order_relaxed)) {
		unsigned work = ffs_lcore_turn(lc);
		/* Between turns this lcore holds no socket: what it had in its burst is delivered. */
		rte_rcu_qsbr_quiescent(rcu, lc->index);
		if (work) {
			lc->idle_turns = 0;
			lc->nap_us = 0;
		}
		else if (sleep_us && ++lc->idle_turns > IDLE_TURNS_BEFORE_SLEEP)
			idle(lc, sleep_us);
	}
	ffs_tx_flush_all(lc);
	rte_rcu_qsbr_thread_offline(rcu, lc->index);
	atomic_store_explicit(&lc->exited, true, memory_order_release);
	return 0;
}

void ffs_lcore_join(struct ffs_lcore *lc)
{
	rte_eal_wait_lcore(lc->lcore_id);
	while (!atomic_load_explicit(&lc->exited, memory_order_acquire))
		rte_pause();
}
