/*
 * DPDK port setup: configure one RX/TX queue pair per lcore (fewer when the device has fewer: the
 * software dispatcher and shared TX queues make up for them), RSS with the stack's key and RETA
 * (phy/rss.h), negotiate checksum and 802.1Q (VLAN strip, filter, insert) offloads from what
 * the device offers, set the MTU (with RX scatter and TX multi-segment sends when a frame exceeds one
 * mbuf: jumbo frames), start, and stop/close/detach at shutdown. Errors name the port,
 * the DPDK call and its error.
 */
#ifndef FFNET_PHY_PORT_H
#define FFNET_PHY_PORT_H

#include <stddef.h>
#include <rte_ethdev.h>
#include <rte_mempool.h>

#include "stack/lcore/lcore.h"

/** Starts the DPDK port pc->port_id with nb_queues queue pairs (or as many as it has) and fills `p`. 0, or -1 with err set. */
int ffs_port_start(struct ffs_port *p, const struct ffs_port_conf *pc, uint16_t nb_queues, struct rte_mempool *pool,
		   char *err, size_t errlen);
/**
 * A secondary process: fills `p` for queue pair `queue` of a port the primary process configured and
 * started (nothing is configured). 0, or -1 with err set.
 */
int ffs_port_attach(struct ffs_port *p, const struct ffs_port_conf *pc, uint16_t queue, char *err, size_t errlen);
/**
 * The largest MTU the device takes, by ethdev's rule (rte_eth_dev_set_mtu): within max_mtu, and the MTU
 * plus the device's frame overhead within max_rx_pktlen.
 */
uint32_t ffs_port_device_max_mtu(const struct rte_eth_dev_info *info);
/**
 * Whether running port `port_id` (802.1Q VID `vlan_id`, 0 = untagged) takes `mtu`: within what the device
 * takes, and configured at start to receive into chains (RX scatter) when an MTU-sized frame exceeds one of
 * `pool`'s mbufs. 0 or -ERANGE.
 */
int ffs_port_mtu_check(uint16_t port_id, uint16_t vlan_id, struct rte_mempool *pool, uint16_t mtu);
/**
 * Restarts reception on a port whose device stopped receiving when the packet pool ran dry and does
 * not retry by itself once mbufs return (net_tap). true if a restart was issued.
 */
bool ffs_port_rx_restart(const struct ffs_port *p);
/**
 * The port's link as rte_eth_link_get_nowait reads it, its status corrected from the kernel interface's
 * flags (IFF_RUNNING: up with carrier) on AF_PACKET and AF_XDP ports, whose drivers always say up.
 * 0, or DPDK's error.
 */
int ffs_port_link(const struct ffs_port *p, struct rte_eth_link *link);
/** Stops and closes DPDK port `port_id` and detaches its device, so a later start can probe it again. */
void ffs_port_device_remove(uint16_t port_id);
/** Closes what the stack holds of the port (its link socket) and removes its device (ffs_port_device_remove). */
void ffs_port_close(struct ffs_port *p);
/** Probes a device by its devargs ("net_tap0,iface=ff0") unless a port of that name exists. 0 or -1 with err. */
int ffs_port_probe(const char *devargs, char *err, size_t errlen);

#endif
