/*
 * The fault injector on the receive path (see fault.h): per IPv4 frame, one draw of a splitmix64
 * generator decides, from three 21-bit fields, whether the frame is dropped, duplicated (a full
 * copy, since input rewrites the frame in place) and held back to be delivered after the next one.
 */
#include <string.h>
#include <rte_byteorder.h>
#include <rte_mbuf.h>

#include "stack/iface/iface.h"
#include "stack/lcore/lcore.h"
#include "stack/phy/fault.h"

static uint64_t mix64(uint64_t z)
{
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static uint64_t draw(struct ffs_fault *f)
{
	f->rng += 0x9e3779b97f4a7c15ULL;
	return mix64(f->rng);
}

/** Whether a 21-bit uniform field falls under `ppm` parts per million (exact to half a ppm). */
static bool hit(uint64_t field, uint32_t ppm)
{
	return ((field & 0x1fffff) * 1000000ULL) >> 21 < ppm;
}

void ffs_fault_reload(struct ffs_lcore *lc)
{
	struct ffs_fault *f = &lc->fault;
	const struct ffs_stack *st = lc->st;
	f->gen = atomic_load_explicit(&lc->st->fault_gen, memory_order_acquire);
	f->drop_ppm = (uint32_t)ffs_sysctl(st, FFS_SYSCTL_FAULT_RX_DROP_PPM);
	f->dup_ppm = (uint32_t)ffs_sysctl(st, FFS_SYSCTL_FAULT_RX_DUP_PPM);
	f->reorder_ppm = (uint32_t)ffs_sysctl(st, FFS_SYSCTL_FAULT_RX_REORDER_PPM);
	f->active = f->drop_ppm || f->dup_ppm || f->reorder_ppm;
	f->hold_tsc = st->tsc_hz / 1000000 * FFS_FAULT_HOLD_US;
	uint64_t seed = (uint64_t)ffs_sysctl(st, FFS_SYSCTL_FAULT_SEED);
	f->rng = mix64((seed << 32) ^ lc->index ^ 0x6a09e667f3bcc909ULL);
}

/** An IPv4 frame, an 802.1Q-tagged one included (ethernet input judges its VLAN afterwards). */
static bool is_ipv4(const struct rte_mbuf *m)
{
	const uint8_t *p = rte_pktmbuf_mtod(m, const uint8_t *);
	const uint16_t len = rte_pktmbuf_data_len(m);
	if (len < ETH_HDR_LEN)
		return false;
	uint16_t type = rd_be16(p + 12);
	if (type == ETH_TYPE_VLAN && len >= ETH_VLAN_HDR_LEN)
		type = rd_be16(p + 16);
	return type == ETH_TYPE_IPV4;
}

uint16_t ffs_fault_rx(struct ffs_lcore *lc, uint16_t port_index, struct rte_mbuf **pkts, uint16_t n)
{
	struct ffs_fault *f = &lc->fault;
	struct rte_mbuf *out[FFS_FAULT_RX_MAX(FFS_BURST)];
	uint16_t k = 0;
	for (uint16_t i = 0; i < n; i++) {
		struct rte_mbuf *m = pkts[i];
		struct rte_mbuf *copy = NULL;
		if (f->active && is_ipv4(m)) {
			uint64_t r = draw(f);
			if (hit(r, f->drop_ppm)) {
				lc->ctr.fault_dropped++;
				rte_pktmbuf_free(m);
				continue;
			}
			if (hit(r >> 21, f->dup_ppm)) {
				copy = rte_pktmbuf_copy(m, lc->st->pool, 0, UINT32_MAX);
				if (copy)
					lc->ctr.fault_duplicated++;
			}
			if (hit(r >> 42, f->reorder_ppm) && !f->held[port_index]) {
				f->held[port_index] = m;
				f->held_since[port_index] = lc->now;
				f->n_held++;
				if (copy)
					out[k++] = copy;
				continue;
			}
		}
		out[k++] = m;
		if (copy)
			out[k++] = copy;
		if (f->held[port_index]) {
			/* Delivered after a frame received later: reordered. */
			out[k++] = f->held[port_index];
			f->held[port_index] = NULL;
			f->n_held--;
			lc->ctr.fault_reordered++;
		}
	}
	memcpy(pkts, out, k * sizeof(out[0]));
	return k;
}

unsigned ffs_fault_release_due(struct ffs_lcore *lc)
{
	struct ffs_fault *f = &lc->fault;
	for (unsigned p = 0; p < lc->st->n_ports && f->n_held; p++) {
		struct rte_mbuf *m = f->held[p];
		if (!m || lc->now - f->held_since[p] < f->hold_tsc)
			continue;
		/* Nothing came after it in time: delivered in its place, not reordered. */
		f->held[p] = NULL;
		f->n_held--;
		eth_input(lc, &lc->st->ports[p], m);
	}
	return f->n_held;
}

void ffs_fault_free(struct ffs_lcore *lc)
{
	struct ffs_fault *f = &lc->fault;
	for (unsigned p = 0; p < FFS_MAX_PORTS; p++) {
		rte_pktmbuf_free(f->held[p]);
		f->held[p] = NULL;
	}
	f->n_held = 0;
}
