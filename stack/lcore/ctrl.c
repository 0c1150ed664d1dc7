/* Control messages (see ctrl.h): posting, waiting, and applying them on the owning lcore. */
#include <errno.h>
#include <stdlib.h>
#include <rte_cycles.h>
#include <rte_pause.h>

#include "stack/iface/iface.h"
#include "stack/lcore/ctrl.h"
#include "stack/lcore/lcore.h"
#include "stack/phy/mbuf.h"

/** Removes the message's neighbour from its family's cache: 1, or 0 when it had none. */
static int neigh_del(struct ffs_lcore *lc, const struct ffs_ctrl_msg *msg)
{
	uint16_t port_index = msg->u.neigh.port_index;
	struct neigh_table *t = msg->u.neigh.v6 ? &lc->neigh6 : &lc->neigh;
	struct neigh_entry *e = msg->u.neigh.v6 ? neigh6_lookup(t, port_index, &msg->u.neigh.addr6)
					       : neigh_lookup(t, port_index, msg->u.neigh.addr);
	if (!e)
		return 0;
	unsigned dropped;
	neigh_remove(t, e, &dropped);
	if (msg->u.neigh.v6)
		lc->ctr.nd6_hold_dropped += dropped;
	else
		lc->ctr.arp_hold_dropped += dropped;
	return 1;
}

static int neigh_dump(struct ffs_lcore *lc, const struct neigh_table *t, struct ffs_neigh_info *out, unsigned max)
{
	unsigned n = 0;
	for (unsigned i = 0; i < NEIGH_TABLE_SIZE && n < max; i++) {
		const struct neigh_entry *e = &t->slots[i];
		if (!e->addr)
			continue;
		struct ffs_neigh_info *o = &out[n++];
		o->port_id = lc->st->ports[e->port_index].port_id;
		o->v6 = t->v6;
		if (t->v6)
			o->addr6 = *neigh_addr6(t, e);
		else
			o->addr = e->addr;
		o->router = e->router;
		o->mac = e->mac;
		o->state = (enum ffs_neigh_state)e->state;
		o->held = e->n_held;
		o->held_bytes = e->held_bytes;
		o->expires_in_s = 0;
		if ((e->state == FFS_NEIGH_REACHABLE || e->state == FFS_NEIGH_FAILED) && e->deadline > lc->now)
			o->expires_in_s = (uint32_t)((e->deadline - lc->now) / lc->st->tsc_hz);
	}
	return (int)n;
}

static void port_changed(struct ffs_lcore *lc, uint16_t port_index, enum ffs_port_change what)
{
	struct ffs_port *port = &lc->st->ports[port_index];
	switch (what) {
	case FFS_PORT_INET:
		arp_forget_offlink(lc, port_index);
		__attribute__((fallthrough)); /* and announce the new address */
	case FFS_PORT_UP:
		/* RFC 5227 §2.3: an announcement, so neighbours holding another MAC (or none) for it update. */
		if (lc->index == 0 && port->up)
			arp_announce(lc, port);
		if (lc->index == 0 && port->up && what == FFS_PORT_UP)
			nd6_announce(lc, port);
		if (lc->index == 0)
			ffs_tx_flush_all(lc);
		break;
	case FFS_PORT_DOWN:
		ffs_tx_flush_all(lc); /* a down port's frames are dropped and counted there */
		break;
	case FFS_PORT_MTU:
		break;
	}
}

void ffs_ctrl_apply(struct ffs_lcore *lc, struct ffs_ctrl_msg *msg)
{
	int rc = 0;
	lc->now = rte_rdtsc();
	switch (msg->op) {
	case FFS_CTRL_NEIGH_ADD:
		rc = msg->u.neigh.v6 ? nd6_add_static(lc, msg->u.neigh.port_index, &msg->u.neigh.addr6, &msg->u.neigh.mac)
				     : arp_add_static(lc, msg->u.neigh.port_index, msg->u.neigh.addr, &msg->u.neigh.mac);
		break;
	case FFS_CTRL_NEIGH_DEL:
		atomic_fetch_add(&msg->result, neigh_del(lc, msg));
		break;
	case FFS_CTRL_NEIGH_DUMP:
		rc = neigh_dump(lc, msg->u.dump.v6 ? &lc->neigh6 : &lc->neigh, msg->u.dump.out, msg->u.dump.max);
		break;
	case FFS_CTRL_PING:
		if (msg->u.ping.v6)
			rc = icmp6_send_echo(lc, &msg->u.ping.dst6, msg->u.ping.scope_port, msg->u.ping.ident,
					     msg->u.ping.token, msg->u.ping.payload, msg->u.ping.ttl);
		else
			rc = icmp_send_echo(lc, msg->u.ping.dst, msg->u.ping.ident, msg->u.ping.token, msg->u.ping.payload,
					    msg->u.ping.ttl);
		/* Now, not at the lcore's next turn: an idle inline lcore's may be far off, and the RTT
		 * stamped in the request would count the wait. */
		ffs_tx_flush_all(lc);
		break;
	case FFS_CTRL_SOCK_UPSERT:
		rc = demux_upsert(lc->demux, msg->u.sock.so);
		break;
	case FFS_CTRL_SOCK_REMOVE:
		demux_remove(lc->demux, msg->u.sock.so, msg->u.sock.lport);
		break;
	case FFS_CTRL_GROUP_ADD:
		if (lc->n_groups < FFS_MAX_GROUPS) {
			lc->groups[lc->n_groups].port_index = msg->u.group.port_index;
			lc->groups[lc->n_groups].family = msg->u.group.family;
			lc->groups[lc->n_groups].group = msg->u.group.group;
			lc->groups[lc->n_groups].group6 = msg->u.group.group6;
			lc->n_groups++;
		} else {
			rc = -ENOBUFS;
		}
		break;
	case FFS_CTRL_GROUP_DEL:
		for (unsigned i = 0; i < lc->n_groups; i++) {
			if (lc->groups[i].port_index == msg->u.group.port_index && lc->groups[i].family == msg->u.group.family &&
			    lc->groups[i].group == msg->u.group.group && ip6_eq(&lc->groups[i].group6, &msg->u.group.group6)) {
				lc->groups[i] = lc->groups[--lc->n_groups];
				break;
			}
		}
		break;
	case FFS_CTRL_PORT_CHANGED:
		port_changed(lc, msg->u.port.port_index, msg->u.port.what);
		break;
	case FFS_CTRL_IGMP_STATE:
		igmp_state_change(lc, msg->u.group.port_index, msg->u.group.group, msg->u.group.exclude, msg->u.group.sources,
				  msg->u.group.n_sources);
		break;
	case FFS_CTRL_TX_BARRIER:
		while (udp_tx_drain(lc))
			;
		break;
	case FFS_CTRL_ROUTE_SYNC:
		route_fib_sync(lc);
		break;
	case FFS_CTRL_MLD_STATE:
		mld6_state_change(lc, msg->u.group.port_index, &msg->u.group.group6, msg->u.group.exclude,
				  msg->u.group.sources6, msg->u.group.n_sources);
		break;
	}
	lc->ctr.ctrl_msgs++;
	if (rc != 0) {
		int expected = 0;
		atomic_compare_exchange_strong(&msg->result, &expected, rc);
	}
	atomic_fetch_sub_explicit(&msg->pending, 1, memory_order_release);
	ffs_ctrl_put(msg);
}

struct ffs_ctrl_msg *ffs_ctrl_new(enum ffs_ctrl_op op)
{
	struct ffs_ctrl_msg *msg = calloc(1, sizeof(*msg));
	if (msg) {
		msg->op = op;
		atomic_init(&msg->refs, 1);
	}
	return msg;
}

void ffs_ctrl_put(struct ffs_ctrl_msg *msg)
{
	if (!msg || atomic_fetch_sub_explicit(&msg->refs, 1, memory_order_acq_rel) != 1)
		return;
	if (msg->op == FFS_CTRL_NEIGH_DUMP)
		free(msg->u.dump.out);
	free(msg);
}

/** Posts msg to lc on behalf of a reference taken here; -EAGAIN (reference given back) when the ring stays full. */
static int post(struct ffs_lcore *lc, struct ffs_ctrl_msg *msg)
{
	atomic_fetch_add_explicit(&msg->refs, 1, memory_order_relaxed);
	/* The ring is small and drained every turn: a full ring means the lcore is stuck; give it 1 s. */
	uint64_t deadline = rte_rdtsc() + rte_get_tsc_hz();
	while (rte_ring_mp_enqueue(lc->ctrl, msg) != 0) {
		if (rte_rdtsc() > deadline) {
			ffs_ctrl_put(msg);
			return -EAGAIN;
		}
		rte_delay_us_sleep(50);
	}
	ffs_lcore_wake(lc);
	return 0;
}

static int wait_acks(struct ffs_ctrl_msg *msg)
{
	uint64_t deadline = rte_rdtsc() + 2 * rte_get_tsc_hz();
	unsigned spins = 0;
	while (!ffs_ctrl_applied(msg)) {
		if (rte_rdtsc() > deadline)
			return -ETIMEDOUT;
		if (++spins < 1000)
			rte_pause();
		else
			rte_delay_us_sleep(20);
	}
	return atomic_load(&msg->result);
}

/** Applies msg on inline lcore i under its turn lock (the thread turning it finishes its turn
 *  first), on behalf of a reference taken here. */
static void apply_inline_one(struct ffs_lcore *lc, struct ffs_ctrl_msg *msg)
{
	bool mine = ffs_lcore_locked_here(lc);
	if (!mine)
		ffs_lcore_lock(lc);
	atomic_fetch_add_explicit(&msg->refs, 1, memory_order_relaxed);
	ffs_ctrl_apply(lc, msg);
	if (!mine)
		ffs_lcore_unlock(lc);
}

/** Applies msg on inline lcores [first, end) at once. */
static int apply_inline(struct ffs_stack *st, unsigned first, unsigned end, struct ffs_ctrl_msg *msg)
{
	atomic_store(&msg->pending, end - first);
	for (unsigned i = first; i < end; i++)
		apply_inline_one(st->lcores[i], msg);
	return atomic_load(&msg->result);
}

int ffs_ctrl_all(struct ffs_stack *st, struct ffs_ctrl_msg *msg)
{
	if (st->inline_mode)
		return apply_inline(st, 0, st->n_lcores, msg);
	/* A lcore the message never reached keeps `pending` above 0: what it refers to stays alive. */
	atomic_store(&msg->pending, st->n_lcores);
	for (unsigned i = 0; i < st->n_lcores; i++) {
		int rc = post(st->lcores[i], msg);
		if (rc != 0)
			return rc;
	}
	return wait_acks(msg);
}

int ffs_ctrl_one(struct ffs_stack *st, unsigned i, struct ffs_ctrl_msg *msg)
{
	if (st->inline_mode)
		return apply_inline(st, i, i + 1, msg);
	atomic_store(&msg->pending, 1);
	int rc = post(st->lcores[i], msg);
	return rc != 0 ? rc : wait_acks(msg);
}

int ffs_ctrl_all_put(struct ffs_stack *st, struct ffs_ctrl_msg *msg)
{
	int rc = ffs_ctrl_all(st, msg);
	ffs_ctrl_put(msg);
	return rc;
}

int ffs_ctrl_tx_barrier(struct ffs_stack *st)
{
	struct ffs_ctrl_msg *msg = ffs_ctrl_new(FFS_CTRL_TX_BARRIER);
	return msg ? ffs_ctrl_all_put(st, msg) : -ENOMEM;
}
