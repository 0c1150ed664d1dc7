/* DPDK port setup and teardown (see port.h). */
#define _GNU_SOURCE /* F_GETSIG */
/* rte_eth_dev_conf_get (a copy of the device's shared configuration) is still marked experimental. */
#define ALLOW_EXPERIMENTAL_API
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <net/if.h>
#include <netpacket/packet.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <rte_bus.h>
#include <rte_dev.h>
#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_log.h>

#include "stack/phy/mbuf.h"
#include "stack/phy/port.h"
#include "stack/phy/rss.h"

#define RX_DESC 512
#define TX_DESC 512

#define FAIL(call, rc)                                                                                       \
	do {                                                                                                 \
		snprintf(err, errlen, "port %u (%s): %s failed: %s (%d)", pc->port_id, p->name, call,       \
			 strerror((rc) < 0 ? -(rc) : (rc)), (rc));                                          \
		return -1;                                                                                   \
	} while (0)

/*
 * net_tap reads a receive queue only after the signal its tap fd raises (O_ASYNC, F_SETSIG) moved
 * the driver's trigger. A burst that ends because no mbuf could replace a received one still records
 * the trigger as seen, and a tap queue that filled meanwhile raises no further signal: the queue is
 * never read again. The signal is the queue fd's (the fd that also serves as its RX interrupt);
 * raising it ourselves is what the kernel would have done. 0 when there is none to raise.
 */
static int tap_rx_signal(uint16_t port_id)
{
	int fd = rte_eth_dev_rx_intr_ctl_q_get_fd(port_id, 0);
	if (fd < 0 || !(fcntl(fd, F_GETFL) & O_ASYNC))
		return 0;
	int sig = fcntl(fd, F_GETSIG);
	return sig < 0 ? 0 : sig == 0 ? SIGIO : sig;
}

/*
 * The same signal costs net_tap most of its receive rate: the tun driver raises it for every frame it
 * queues (a realtime signal queues one per frame), each delivered to a thread of this process — 11 to
 * 20 µs of CPU per datagram received, below node:dgram's rate over loopback. Since what the signal does
 * is move the driver's trigger (its handler is a plain increment), the stack turns the queues' signals
 * off (O_ASYNC) and calls that handler itself before each receive burst (lcore/loop.c): every burst
 * then reads the queue, one readv that finds nothing when it is empty, and a stalled queue cannot
 * happen. An idle lcore still sleeps on the queue fds, which poll readable without O_ASYNC. Returns
 * whether it took the trigger (false: the handler is not a plain one, or a queue's flags could not be
 * changed — the signals stay, and with them the restart above).
 */
static bool tap_take_trigger(struct ffs_port *p, uint16_t port_id, uint16_t nb_rxq, int sig)
{
	struct sigaction sa;
	if (sig == 0 || sigaction(sig, NULL, &sa) != 0 || (sa.sa_flags & SA_SIGINFO) || sa.sa_handler == SIG_DFL ||
	    sa.sa_handler == SIG_IGN)
		return false;
	int fds[RTE_MAX_QUEUES_PER_PORT];
	for (uint16_t q = 0; q < nb_rxq; q++) {
		fds[q] = rte_eth_dev_rx_intr_ctl_q_get_fd(port_id, q);
		if (fds[q] < 0 || fcntl(fds[q], F_GETFL) < 0)
			return false;
	}
	for (uint16_t q = 0; q < nb_rxq; q++)
		if (fcntl(fds[q], F_SETFL, fcntl(fds[q], F_GETFL) & ~O_ASYNC) != 0) {
			for (uint16_t r = 0; r < q; r++) /* leave the device as it was */
				fcntl(fds[r], F_SETFL, fcntl(fds[r], F_GETFL) | O_ASYNC);
			return false;
		}
	p->rx_trigger = sa.sa_handler;
	p->rx_trigger_sig = sig;
	return true;
}

#ifndef AF_XDP
#define AF_XDP 44
#endif
#define MAX_QUEUE_SOCKETS 64

/**
 * This process's sockets of `domain` (AF_PACKET, AF_XDP), in fd order, into `fds` (at most `max`); with
 * `ifindex`, only AF_PACKET sockets bound to that interface. Returns how many.
 */
static unsigned queue_sockets(int domain, unsigned ifindex, int *fds, unsigned max)
{
	DIR *d = opendir("/proc/self/fd");
	if (!d)
		return 0;
	unsigned n = 0;
	struct dirent *e;
	while ((e = readdir(d)) != NULL && n < max) {
		char *end;
		long fd = strtol(e->d_name, &end, 10);
		if (*end != '\0' || end == e->d_name || fd == dirfd(d))
			continue;
		int dom;
		socklen_t len = sizeof(dom);
		if (getsockopt((int)fd, SOL_SOCKET, SO_DOMAIN, &dom, &len) != 0 || dom != domain)
			continue;
		if (ifindex) {
			struct sockaddr_ll sll;
			socklen_t sl = sizeof(sll);
			if (getsockname((int)fd, (struct sockaddr *)&sll, &sl) != 0 || sll.sll_ifindex != (int)ifindex)
				continue;
		}
		unsigned i = n++;
		for (; i > 0 && fds[i - 1] > fd; i--)
			fds[i] = fds[i - 1];
		fds[i] = (int)fd;
	}
	closedir(d);
	return n;
}

/** The AF_XDP socket `rte_eth_rx_queue_setup` made: the one in `after` not in `before`, else -1. */
static int new_socket(const int *before, unsigned n_before, const int *after, unsigned n_after)
{
	int found = -1;
	for (unsigned i = 0; i < n_after; i++) {
		bool old = false;
		for (unsigned j = 0; j < n_before && !old; j++)
			old = before[j] == after[i];
		if (!old) {
			if (found >= 0)
				return -1;
			found = after[i];
		}
	}
	return found;
}

/** Reads the link of a port on kernel interface `ifindex` from the interface's flags (ffs_port_link). */
static void kernel_link_watch(struct ffs_port *p, unsigned ifindex)
{
	if (ifindex && if_indextoname(ifindex, p->kernel_iface) != NULL)
		p->link_sock = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (p->link_sock < 0)
		p->kernel_iface[0] = '\0';
}

/** The port's MAC address and its IPv4 configuration. 0, or DPDK's error from reading the MAC. */
static int port_identity(struct ffs_port *p, const struct ffs_port_conf *pc, const struct rte_eth_dev_info *info)
{
	struct rte_ether_addr mac;
	int rc = rte_eth_macaddr_get(pc->port_id, &mac);
	if (rc != 0)
		return rc;
	memcpy(p->mac.b, mac.addr_bytes, ETH_ADDR_LEN);
	if (strcmp(info->driver_name, "net_tap") == 0) {
		/* A tap port's MAC is the kernel interface's own: the kernel is the peer on the other end
		 * of this wire, so the stack takes a distinct locally administered address beside it. */
		p->mac.b[0] |= 0x02;
		p->mac.b[5] ^= 0x01;
	}
	p->addr = pc->addr;
	p->netmask = pc->netmask;
	p->broadcast = pc->broadcast;
	p->gateway = pc->gateway;
	for (unsigned c = 0; c < 2; c++) { /* before any reader runs */
		p->vips.copy[c].n = pc->n_vip;
		memcpy(p->vips.copy[c].a, pc->vip, sizeof(pc->vip));
	}
	p->mtu = pc->mtu;
	p->vlan_id = pc->vlan_id;
	return 0;
}

/*
 * Jumbo frames. A frame larger than one mbuf's data room arrives in a chain of mbufs (RX scatter) and
 * leaves as one (TX multi-segment); the headers always sit in the first segment. Before configuring,
 * the MTU is checked against what the device takes (max_mtu, max_rx_pktlen) and, when frames will not
 * fit in one mbuf, against its scatter and multi-segment offloads.
 */

/** Bytes of frame one of the pool's mbufs holds (its data room past the headroom). */
static uint32_t pool_seg_room(struct rte_mempool *pool)
{
	return (uint32_t)rte_pktmbuf_data_room_size(pool) - RTE_PKTMBUF_HEADROOM;
}

/** Bytes of frame an MTU-sized IP packet takes: the Ethernet header and, on a VLAN port, its tag. */
static uint32_t mtu_frame_len(uint16_t mtu, uint16_t vlan_id)
{
	return (uint32_t)mtu + RTE_ETHER_HDR_LEN + (vlan_id ? (uint32_t)sizeof(struct rte_vlan_hdr) : 0u);
}

/** Whether an MTU-sized frame spans more than one of the pool's mbufs. */
static bool mtu_needs_chains(uint16_t mtu, uint16_t vlan_id, uint32_t seg_room)
{
	return mtu_frame_len(mtu, vlan_id) > seg_room;
}

/* A frame is the MTU plus the device's overhead: max_rx_pktlen - max_mtu when it gives both, else
 * header and CRC (ethdev's eth_dev_get_overhead_len). */
uint32_t ffs_port_device_max_mtu(const struct rte_eth_dev_info *info)
{
	uint32_t ovh = info->max_mtu != UINT16_MAX && info->max_rx_pktlen > info->max_mtu
			       ? info->max_rx_pktlen - info->max_mtu
			       : RTE_ETHER_HDR_LEN + RTE_ETHER_CRC_LEN;
	uint32_t by_len = info->max_rx_pktlen > ovh ? info->max_rx_pktlen - ovh : 0;
	return RTE_MIN((uint32_t)info->max_mtu, by_len);
}

/**
 * Drivers that receive a frame larger than one mbuf into a chain and send chains, without advertising
 * RX scatter or TX multi-segment sends: DPDK 22.11's net_pcap copies a large captured frame into a
 * chain (eth_pcap_rx_jumbo) and reads a chain out whole to send it.
 */
static bool driver_chains_unadvertised(const char *driver)
{
	return strcmp(driver, "net_pcap") == 0;
}

/**
 * Checks that the device takes `mtu` and, when an MTU-sized frame needs a chain of mbufs, adds the RX
 * scatter and TX multi-segment offloads to `conf` (sets *tx_chains when chains may be sent). 0, or -1 with `err` naming the port, the device, the
 * MTU asked and what the device takes.
 */
static int port_fit_mtu(const struct ffs_port *p, const struct ffs_port_conf *pc, const struct rte_eth_dev_info *info,
			uint32_t seg_room, struct rte_eth_conf *conf, bool *tx_chains, char *err, size_t errlen)
{
	*tx_chains = driver_chains_unadvertised(info->driver_name);
	uint32_t max_mtu = ffs_port_device_max_mtu(info);
	if (pc->mtu > max_mtu) {
		snprintf(err, errlen,
			 "port %u (%s): mtu %u is more than the device (%s) takes: frames of at most %u bytes, mtu %u at most",
			 pc->port_id, p->name, pc->mtu, info->driver_name, info->max_rx_pktlen, max_mtu);
		return -1;
	}
	if (!mtu_needs_chains(pc->mtu, pc->vlan_id, seg_room))
		return 0;
	if (driver_chains_unadvertised(info->driver_name))
		return 0;
	if (!(info->rx_offload_capa & RTE_ETH_RX_OFFLOAD_SCATTER)) {
		snprintf(err, errlen,
			 "port %u (%s): mtu %u needs %u-byte frames received into chains of %u-byte mbufs, and the device (%s) "
			 "offers no RX scatter: mtu %u at most",
			 pc->port_id, p->name, pc->mtu, mtu_frame_len(pc->mtu, pc->vlan_id), seg_room, info->driver_name,
			 seg_room - (mtu_frame_len(pc->mtu, pc->vlan_id) - pc->mtu));
		return -1;
	}
	conf->rxmode.offloads |= RTE_ETH_RX_OFFLOAD_SCATTER;
	/* Without multi-segment sends an IP packet bigger than one mbuf leaves in fragments that fit one. */
	conf->txmode.offloads |= info->tx_offload_capa & RTE_ETH_TX_OFFLOAD_MULTI_SEGS;
	*tx_chains = conf->txmode.offloads & RTE_ETH_TX_OFFLOAD_MULTI_SEGS;
	return 0;
}

static uint32_t af_xdp_max_mtu(struct rte_mempool *pool, uint16_t vlan_id);

int ffs_port_mtu_check(uint16_t port_id, uint16_t vlan_id, struct rte_mempool *pool, uint16_t mtu)
{
	struct rte_eth_dev_info info;
	struct rte_eth_conf conf;
	if (rte_eth_dev_info_get(port_id, &info) != 0 || rte_eth_dev_conf_get(port_id, &conf) != 0)
		return -ERANGE;
	if (mtu > ffs_port_device_max_mtu(&info))
		return -ERANGE;
	if (strcmp(info.driver_name, "net_af_xdp") == 0 && mtu > af_xdp_max_mtu(pool, vlan_id))
		return -ERANGE;
	if (mtu_needs_chains(mtu, vlan_id, pool_seg_room(pool)) && !(conf.rxmode.offloads & RTE_ETH_RX_OFFLOAD_SCATTER) &&
	    !driver_chains_unadvertised(info.driver_name))
		return -ERANGE;
	return 0;
}

/* The RETA the software path assumes (phy/rss.h, ffs_rss_lcore): entry i → queue i mod nb_rxq. */
static int reta_spread(uint16_t port_id, uint16_t reta_size, uint16_t nb_rxq)
{
	struct rte_eth_rss_reta_entry64 reta[RTE_ETH_RSS_RETA_SIZE_512 / RTE_ETH_RETA_GROUP_SIZE];
	if (reta_size > RTE_ETH_RSS_RETA_SIZE_512)
		return -ENOTSUP;
	memset(reta, 0, sizeof(reta));
	for (uint16_t i = 0; i < reta_size; i++) {
		reta[i / RTE_ETH_RETA_GROUP_SIZE].mask |= 1ULL << (i % RTE_ETH_RETA_GROUP_SIZE);
		reta[i / RTE_ETH_RETA_GROUP_SIZE].reta[i % RTE_ETH_RETA_GROUP_SIZE] = i % nb_rxq;
	}
	return rte_eth_dev_rss_reta_update(port_id, reta, reta_size);
}

/*
 * AF_XDP's receive frames are the packet pool's mbufs themselves (its UMEM is the mempool): the kernel
 * writes a frame after XDP's own headroom, so a frame longer than the mbuf's data room less that
 * headroom is dropped by the kernel and only ever seen as imissed.
 */
#define AF_XDP_KERNEL_HEADROOM 256
/* ...and it fills each RX queue's fill ring with this many of them at setup (DPDK 22.11's
 * ETH_AF_XDP_DFLT_NUM_DESCS, whatever nb_rx_desc says). Beside them the pool needs AF_XDP_POOL_SPARE more:
 * with 1024 a port starts, answers two ARP requests and then receives nothing (measured on veth, 6.18). */
#define AF_XDP_FILL_MBUFS 2048
#define AF_XDP_POOL_SPARE 2047
/* Sent mbufs come back only when a transmit finds half of the 2048-entry completion ring filled: up to
 * a ring's worth stays out of the pool, as on a NIC that frees sent mbufs late. */
#define AF_XDP_TX_HELD 2048

/** The largest MTU an AF_XDP port receives: a frame is one of the pool's mbufs less XDP's headroom. */
static uint32_t af_xdp_max_mtu(struct rte_mempool *pool, uint16_t vlan_id)
{
	return pool_seg_room(pool) - AF_XDP_KERNEL_HEADROOM - mtu_frame_len(0, vlan_id);
}

/**
 * Refuses an MTU an AF_XDP port cannot receive, with its limit: the driver would start and then lose
 * every larger frame (imissed). The device's own limits are port_fit_mtu's. 0, or -1 with `err`.
 */
static int af_xdp_mtu_check(const struct ffs_port *p, const struct ffs_port_conf *pc, const char *driver,
			    struct rte_mempool *pool, char *err, size_t errlen)
{
	if (strcmp(driver, "net_af_xdp") != 0 || !pool || pc->mtu <= af_xdp_max_mtu(pool, pc->vlan_id))
		return 0;
	snprintf(err, errlen,
		 "port %u (%s): mtu %u is more than net_af_xdp takes: at most %u (an AF_XDP frame, one mbuf of the packet "
		 "pool less the kernel's XDP headroom)",
		 pc->port_id, p->name, pc->mtu, af_xdp_max_mtu(pool, pc->vlan_id));
	return -1;
}

/**
 * Refuses a packet pool an AF_XDP port would empty: its fill rings take AF_XDP_FILL_MBUFS mbufs per RX
 * queue, and the driver only says "Failed to configure xdp socket" when the pool has fewer. 0, or -1 with `err`.
 */
static int af_xdp_pool_check(const struct ffs_port *p, const struct ffs_port_conf *pc, const char *driver, uint16_t nb_rxq,
			     const struct rte_mempool *pool, char *err, size_t errlen)
{
	if (strcmp(driver, "net_af_xdp") != 0 || !pool)
		return 0;
	unsigned need = (unsigned)nb_rxq * AF_XDP_FILL_MBUFS + AF_XDP_POOL_SPARE;
	if (pool->size >= need)
		return 0;
	snprintf(err, errlen,
		 "port %u (%s): net_af_xdp fills each RX queue with %u mbufs of the packet pool: [dpdk] nb_mbuf = %u is too "
		 "few for %u queue(s), it needs at least %u",
		 pc->port_id, p->name, AF_XDP_FILL_MBUFS, pool->size, nb_rxq, need);
	return -1;
}

/**
 * Clears `p` and names it after DPDK port `pc->port_id`, reading the device's info into `info` and its
 * driver's name into `p`. Returns 0; -ENODEV when DPDK has no such port (the caller says why, in its own
 * words); -1 with `err` filled when the info cannot be read.
 */
static int port_open(struct ffs_port *p, const struct ffs_port_conf *pc, struct rte_eth_dev_info *info, char *err,
		     size_t errlen)
{
	memset(p, 0, sizeof(*p));
	p->link_sock = -1;
	p->port_id = pc->port_id;
	snprintf(p->name, sizeof(p->name), "port%u", pc->port_id);
	if (!rte_eth_dev_is_valid_port(pc->port_id))
		return -ENODEV;
	rte_eth_dev_get_name_by_port(pc->port_id, p->name);
	int rc = rte_eth_dev_info_get(pc->port_id, info);
	if (rc != 0)
		FAIL("rte_eth_dev_info_get", rc);
	snprintf(p->driver, sizeof(p->driver), "%s", info->driver_name);
	return 0;
}

int ffs_port_start(struct ffs_port *p, const struct ffs_port_conf *pc, uint16_t nb_queues, struct rte_mempool *pool,
		   char *err, size_t errlen)
{
	struct rte_eth_dev_info info;
	int rc = port_open(p, pc, &info, err, errlen);
	if (rc == -ENODEV) {
		snprintf(err, errlen,
			 "port %u: no such DPDK port (DPDK ports probed: %u; add a vdev or allow entry to [dpdk])",
			 pc->port_id, rte_eth_dev_count_avail());
		return -1;
	}
	if (rc != 0)
		return -1;
	if (info.max_rx_queues == 0 || info.max_tx_queues == 0) {
		snprintf(err, errlen, "port %u (%s): the device has %u RX / %u TX queues", pc->port_id, p->name,
			 info.max_rx_queues, info.max_tx_queues);
		return -1;
	}
	/* A device with fewer queues than lcores still serves them all: the lcores with an RX queue
	 * dispatch frames to the others in software (lcore/loop.c), and lcores share TX queues. */
	const uint16_t nb_rxq = RTE_MIN(nb_queues, info.max_rx_queues);
	const uint16_t nb_txq = RTE_MIN(nb_queues, info.max_tx_queues);
	p->nb_rxq = nb_rxq;
	p->nb_txq = nb_txq;
	p->rx_dispatch = nb_rxq < nb_queues;
	for (uint16_t q = 0; q < nb_txq; q++)
		rte_spinlock_init(&p->tx_lock[q]);

	if (af_xdp_mtu_check(p, pc, info.driver_name, pool, err, errlen) != 0 || af_xdp_pool_check(p, pc, info.driver_name, nb_rxq, pool, err, errlen) != 0)
		return -1;
	const int pool_held_before = pool ? ffs_pool_in_use(pool) : 0;

	struct rte_eth_conf conf;
	memset(&conf, 0, sizeof(conf));
	conf.rxmode.mtu = pc->mtu;
	uint64_t rx_want = RTE_ETH_RX_OFFLOAD_IPV4_CKSUM | RTE_ETH_RX_OFFLOAD_UDP_CKSUM;
	uint64_t tx_want = RTE_ETH_TX_OFFLOAD_IPV4_CKSUM | RTE_ETH_TX_OFFLOAD_UDP_CKSUM;
	/* 802.1Q on a port with a VLAN: the device strips the tag (the VID left in the mbuf), drops other
	 * VIDs, and inserts the tag on send, each where it can; iface/ethernet.c does the rest. */
	if (pc->vlan_id) {
		rx_want |= RTE_ETH_RX_OFFLOAD_VLAN_STRIP | RTE_ETH_RX_OFFLOAD_VLAN_FILTER;
		tx_want |= RTE_ETH_TX_OFFLOAD_VLAN_INSERT;
	}
	conf.rxmode.offloads = info.rx_offload_capa & rx_want;
	conf.txmode.offloads = info.tx_offload_capa & tx_want;
	bool tx_chains;
	if (port_fit_mtu(p, pc, &info, pool_seg_room(pool), &conf, &tx_chains, err, errlen) != 0)
		return -1;
	/* RSS with the stack's own Toeplitz key (phy/rss.h), so that the lcore a flow lands on is one the
	 * stack can compute: for a reply's port chosen by connect, for the software dispatcher. */
	if (nb_rxq > 1 && info.flow_type_rss_offloads) {
		conf.rxmode.mq_mode = RTE_ETH_MQ_RX_RSS;
		conf.rx_adv_conf.rss_conf.rss_hf = info.flow_type_rss_offloads & (RTE_ETH_RSS_IP | RTE_ETH_RSS_UDP);
		if (info.hash_key_size == FFS_RSS_KEY_LEN) {
			conf.rx_adv_conf.rss_conf.rss_key = (uint8_t *)ffs_rss_key;
			conf.rx_adv_conf.rss_conf.rss_key_len = FFS_RSS_KEY_LEN;
		}
	}
	p->caps.rx_ipv4_verified = false; /* per packet, from the mbuf's flags */
	p->caps.rx_l4_verified = false;
	p->rx_ipv4_cksum = conf.rxmode.offloads & RTE_ETH_RX_OFFLOAD_IPV4_CKSUM;
	p->rx_l4_cksum = conf.rxmode.offloads & RTE_ETH_RX_OFFLOAD_UDP_CKSUM;
	p->caps.tx_ipv4_offload = conf.txmode.offloads & RTE_ETH_TX_OFFLOAD_IPV4_CKSUM;
	p->caps.tx_udp_offload = conf.txmode.offloads & RTE_ETH_TX_OFFLOAD_UDP_CKSUM;
	p->tx_multi_seg = tx_chains;
	p->vlan_rx_offload = conf.rxmode.offloads & RTE_ETH_RX_OFFLOAD_VLAN_STRIP;
	p->vlan_tx_offload = conf.txmode.offloads & RTE_ETH_TX_OFFLOAD_VLAN_INSERT;

	/* RX interrupts let an idle lcore sleep until traffic arrives; not every PMD has them. */
	conf.intr_conf.rxq = 1;
	rc = rte_eth_dev_configure(pc->port_id, nb_rxq, nb_txq, &conf);
	if (rc != 0) {
		conf.intr_conf.rxq = 0;
		rc = rte_eth_dev_configure(pc->port_id, nb_rxq, nb_txq, &conf);
	}
	if (rc != 0)
		FAIL("rte_eth_dev_configure", rc);
	p->rx_intr = conf.intr_conf.rxq;
	uint16_t nb_rxd = RX_DESC, nb_txd = TX_DESC;
	rc = rte_eth_dev_adjust_nb_rx_tx_desc(pc->port_id, &nb_rxd, &nb_txd);
	if (rc != 0)
		FAIL("rte_eth_dev_adjust_nb_rx_tx_desc", rc);
	p->nb_rxd = nb_rxd;
	p->nb_txd = nb_txd;
	int socket = rte_eth_dev_socket_id(pc->port_id);
	if (socket < 0)
		socket = (int)rte_socket_id();
	/* AF_XDP makes each queue's socket in its RX queue setup: the socket new after it is the queue's. */
	const bool af_xdp = strcmp(info.driver_name, "net_af_xdp") == 0;
	bool queue_sockets_found = af_xdp;
	for (uint16_t q = 0; q < nb_rxq; q++) {
		struct rte_eth_rxconf rxc = info.default_rxconf;
		rxc.offloads = conf.rxmode.offloads;
		int before[MAX_QUEUE_SOCKETS], after[MAX_QUEUE_SOCKETS];
		unsigned n_before = af_xdp ? queue_sockets(AF_XDP, 0, before, MAX_QUEUE_SOCKETS) : 0;
		rc = rte_eth_rx_queue_setup(pc->port_id, q, nb_rxd, (unsigned)socket, &rxc, pool);
		if (rc != 0)
			FAIL("rte_eth_rx_queue_setup", rc);
		p->rx_wait_fd[q] = -1;
		if (af_xdp) {
			unsigned n_after = queue_sockets(AF_XDP, 0, after, MAX_QUEUE_SOCKETS);
			p->rx_wait_fd[q] = new_socket(before, n_before, after, n_after);
			queue_sockets_found = queue_sockets_found && p->rx_wait_fd[q] >= 0;
		}
	}
	for (uint16_t q = 0; q < nb_txq; q++) {
		struct rte_eth_txconf txc = info.default_txconf;
		txc.offloads = conf.txmode.offloads;
		rc = rte_eth_tx_queue_setup(pc->port_id, q, nb_txd, (unsigned)socket, &txc);
		if (rc != 0)
			FAIL("rte_eth_tx_queue_setup", rc);
	}
	rc = rte_eth_dev_set_mtu(pc->port_id, pc->mtu);
	if (rc == -EINVAL && strcmp(info.driver_name, "net_af_packet") == 0) {
		snprintf(err, errlen,
			 "port %u (%s): mtu %u does not fit net_af_packet's ring frames: raise framesz in its vdev string "
			 "(default 2048; blocksz a multiple of it)",
			 pc->port_id, p->name, pc->mtu);
		return -1;
	}
	if (rc != 0 && rc != -ENOTSUP)
		FAIL("rte_eth_dev_set_mtu", rc);
	if (conf.rxmode.offloads & RTE_ETH_RX_OFFLOAD_VLAN_FILTER) {
		rc = rte_eth_dev_vlan_filter(pc->port_id, pc->vlan_id, 1);
		if (rc != 0)
			FAIL("rte_eth_dev_vlan_filter", rc);
	}
	rc = rte_eth_dev_start(pc->port_id);
	if (rc != 0)
		FAIL("rte_eth_dev_start", rc);
	/* Some devices hold more of the pool than the descriptors asked for (AF_XDP's fill rings): the
	 * pool's accounting (ffs_pool_rx_limit) counts what the receive queues really hold. */
	int pool_held = pool ? ffs_pool_in_use(pool) - pool_held_before : 0;
	if (pool_held > (int)nb_rxq * p->nb_rxd)
		p->nb_rxd = (uint16_t)RTE_MIN((pool_held + nb_rxq - 1) / nb_rxq, UINT16_MAX);
	if (strcmp(info.driver_name, "net_af_xdp") == 0)
		p->nb_txd = RTE_MAX(p->nb_txd, AF_XDP_TX_HELD);
	if (conf.rxmode.mq_mode == RTE_ETH_MQ_RX_RSS && info.reta_size) {
		rc = reta_spread(pc->port_id, info.reta_size, nb_rxq);
		if (rc != 0 && rc != -ENOTSUP)
			FAIL("rte_eth_dev_rss_reta_update", rc);
	}
	/* ethdev answers a device without RX interrupts (no interrupt handle: net_pcap, net_ring) with
	 * "Rx Intr handle unset" at error level, and DPDK has no public way to ask first: the probe runs
	 * with ethdev's log held to critical lines, so a normal start logs no error. */
	int ethdev_log = rte_log_register("lib.ethdev");
	int ethdev_level = ethdev_log >= 0 ? rte_log_get_level(ethdev_log) : -1;
	if (ethdev_level > (int)RTE_LOG_CRIT)
		rte_log_set_level((uint32_t)ethdev_log, RTE_LOG_CRIT);
	int intr_fds[FFS_MAX_LCORES];
	for (uint16_t q = 0; q < nb_rxq && p->rx_intr; q++)
		if ((intr_fds[q] = rte_eth_dev_rx_intr_ctl_q_get_fd(pc->port_id, q)) < 0)
			p->rx_intr = false;
	for (uint16_t q = 0; q < nb_rxq && p->rx_intr; q++)
		p->rx_wait_fd[q] = intr_fds[q];
	if (ethdev_level > (int)RTE_LOG_CRIT)
		rte_log_set_level((uint32_t)ethdev_log, (uint32_t)ethdev_level);
	p->rx_intr_armed = p->rx_intr;
	if (!p->rx_intr && strcmp(info.driver_name, "net_af_packet") == 0 && info.if_index) {
		/* AF_PACKET's queue sockets are made at probe, one per queue in queue order, bound to the
		 * interface: this process's sockets on it, in fd order, when there are exactly as many. */
		int fds[MAX_QUEUE_SOCKETS];
		queue_sockets_found = queue_sockets(AF_PACKET, info.if_index, fds, MAX_QUEUE_SOCKETS) == nb_rxq;
		for (uint16_t q = 0; q < nb_rxq && queue_sockets_found; q++)
			p->rx_wait_fd[q] = fds[q];
	}
	if (!p->rx_intr && queue_sockets_found)
		p->rx_intr = true; /* waited on as they are, never armed */
	if (strcmp(info.driver_name, "net_tap") == 0) {
		p->rx_restart_signal = tap_rx_signal(pc->port_id);
		if (p->rx_intr && tap_take_trigger(p, pc->port_id, nb_rxq, p->rx_restart_signal))
			p->rx_restart_signal = 0;
	}
	rc = port_identity(p, pc, &info);
	if (rc != 0)
		FAIL("rte_eth_macaddr_get", rc);
	if (strcmp(info.driver_name, "net_af_packet") == 0 || af_xdp)
		kernel_link_watch(p, info.if_index);
	/* Multicast groups arrive with IGMP; until then accept them all and filter in software. */
	rte_eth_allmulticast_enable(pc->port_id);
	return 0;
}

int ffs_port_attach(struct ffs_port *p, const struct ffs_port_conf *pc, uint16_t queue, char *err, size_t errlen)
{
	struct rte_eth_dev_info info;
	int rc = port_open(p, pc, &info, err, errlen);
	if (rc == -ENODEV) {
		snprintf(err, errlen, "port %u: the primary process has no such DPDK port (it has %u)", pc->port_id,
			 rte_eth_dev_count_avail());
		return -1;
	}
	if (rc != 0)
		return -1;
	if (queue >= info.nb_rx_queues || queue >= info.nb_tx_queues) {
		snprintf(err, errlen, "port %u (%s): the primary configured %u queue pairs, queue %u was asked for",
			 pc->port_id, p->name, info.nb_rx_queues, queue);
		return -1;
	}
	struct rte_eth_conf conf;
	rc = rte_eth_dev_conf_get(pc->port_id, &conf);
	if (rc != 0)
		FAIL("rte_eth_dev_conf_get", rc);
	p->rx_ipv4_cksum = conf.rxmode.offloads & RTE_ETH_RX_OFFLOAD_IPV4_CKSUM;
	p->rx_l4_cksum = conf.rxmode.offloads & RTE_ETH_RX_OFFLOAD_UDP_CKSUM;
	p->caps.tx_ipv4_offload = conf.txmode.offloads & RTE_ETH_TX_OFFLOAD_IPV4_CKSUM;
	p->caps.tx_udp_offload = conf.txmode.offloads & RTE_ETH_TX_OFFLOAD_UDP_CKSUM;
	p->tx_multi_seg = (conf.txmode.offloads & RTE_ETH_TX_OFFLOAD_MULTI_SEGS) || driver_chains_unadvertised(info.driver_name);
	/* The primary set the device up for its own MTU: frames larger than that are not received whole. */
	if (pc->mtu > conf.rxmode.mtu) {
		snprintf(err, errlen, "port %u (%s): mtu %u is more than the primary process configured the device (%s) for (mtu %u)",
			 pc->port_id, p->name, pc->mtu, info.driver_name, conf.rxmode.mtu);
		return -1;
	}
	p->vlan_rx_offload = conf.rxmode.offloads & RTE_ETH_RX_OFFLOAD_VLAN_STRIP;
	p->vlan_tx_offload = conf.txmode.offloads & RTE_ETH_TX_OFFLOAD_VLAN_INSERT;
	p->nb_rxd = RX_DESC;
	p->nb_txd = TX_DESC;
	p->nb_rxq = info.nb_rx_queues;
	p->nb_txq = info.nb_tx_queues;
	/* Interrupt fds and the tap's receive signal belong to the primary process: a secondary naps. */
	p->rx_intr = false;
	rc = port_identity(p, pc, &info);
	if (rc != 0)
		FAIL("rte_eth_macaddr_get", rc);
	return 0;
}

bool ffs_port_rx_restart(const struct ffs_port *p)
{
	/* Devices that refill their descriptors on every burst (NICs, memif, ring) resume on their own. */
	if (!p->rx_restart_signal)
		return false;
	struct sigaction sa;
	if (sigaction(p->rx_restart_signal, NULL, &sa) != 0 || sa.sa_handler == SIG_DFL || sa.sa_handler == SIG_IGN)
		return false;
	return kill(getpid(), p->rx_restart_signal) == 0;
}

int ffs_port_link(const struct ffs_port *p, struct rte_eth_link *link)
{
	int rc = rte_eth_link_get_nowait(p->port_id, link);
	if (rc != 0 || p->link_sock < 0)
		return rc;
	struct ifreq ifr;
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", p->kernel_iface);
	if (ioctl(p->link_sock, SIOCGIFFLAGS, &ifr) == 0)
		link->link_status = (ifr.ifr_flags & IFF_UP) && (ifr.ifr_flags & IFF_RUNNING) ? RTE_ETH_LINK_UP : RTE_ETH_LINK_DOWN;
	return 0;
}

void ffs_port_device_remove(uint16_t port_id)
{
	struct rte_eth_dev_info info;
	struct rte_device *dev = NULL;
	if (rte_eth_dev_info_get(port_id, &info) == 0)
		dev = info.device;
	rte_eth_dev_stop(port_id);
	rte_eth_dev_close(port_id);
	if (dev)
		rte_dev_remove(dev);
}

void ffs_port_close(struct ffs_port *p)
{
	if (p->link_sock >= 0) {
		close(p->link_sock);
		p->link_sock = -1;
	}
	ffs_port_device_remove(p->port_id);
}

int ffs_port_probe(const char *devargs, char *err, size_t errlen)
{
	char name[RTE_ETH_NAME_MAX_LEN];
	size_t n = strcspn(devargs, ",");
	if (n >= sizeof(name))
		n = sizeof(name) - 1;
	memcpy(name, devargs, n);
	name[n] = '\0';
	uint16_t port_id;
	if (rte_eth_dev_get_port_by_name(name, &port_id) == 0)
		return 0;
	int rc = rte_dev_probe(devargs);
	if (rc != 0) {
		snprintf(err, errlen, "device %s: rte_dev_probe failed: %s (%d)", devargs, strerror(-rc), rc);
		return -1;
	}
	return 0;
}
