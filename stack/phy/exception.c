/* The exception path toward the kernel: device, kernel interface, queues (see exception.h). */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>
#include <rte_dev.h>
#include <rte_ethdev.h>

#include "stack/iface/addr6.h"
#include "stack/iface/iface.h"
#include "stack/lcore/lcore.h"
#include "stack/phy/exception.h"
#include "stack/phy/port.h"
#include "stack/wire/arp.h"
#include "stack/wire/eth.h"
#include "stack/wire/icmp6.h"
#include "stack/wire/ipv6.h"

#define EXC_DESC 512
#define VHOST_NET "/dev/vhost-net"

/* The kernel's struct in6_ifreq (linux/ipv6.h, which clashes with netinet/in.h). */
struct exc_in6_ifreq {
	struct in6_addr addr;
	uint32_t prefixlen;
	int ifindex;
};

static const char *const KEY_NAMES[] = { [FFS_EXC_NONE] = "none", [FFS_EXC_TAP] = "tap", [FFS_EXC_VIRTIO_USER] = "virtio-user" };

/** ioctl on an AF_INET(6) socket for `iface`, with `what` and errno in err on failure. */
static int iface_ioctl(int fd, unsigned long req, void *arg, const char *iface, const char *what, char *err, size_t errlen)
{
	if (ioctl(fd, req, arg) == 0)
		return 0;
	snprintf(err, errlen, "exception interface %s: %s failed: %s", iface, what, strerror(errno));
	return -1;
}

static void sin_of(struct sockaddr *sa, uint32_t addr)
{
	struct sockaddr_in *in = (struct sockaddr_in *)sa;
	memset(in, 0, sizeof(*in));
	in->sin_family = AF_INET;
	in->sin_addr.s_addr = htonl(addr);
}

/** Writes the kernel interface's IPv6 setting `name` (best effort: a kernel without IPv6 has none). */
static void iface_sysctl6(const char *iface, const char *name, const char *value)
{
	char path[128];
	snprintf(path, sizeof(path), "/proc/sys/net/ipv6/conf/%s/%s", iface, name);
	FILE *f = fopen(path, "w");
	if (f) {
		fputs(value, f);
		fclose(f);
	}
}

/** Appends a 4-byte rtnetlink attribute to message `nh` (room checked by the caller's buffer). */
static void nl_attr32(struct nlmsghdr *nh, unsigned short type, uint32_t value)
{
	struct rtattr *rta = (struct rtattr *)((char *)nh + NLMSG_ALIGN(nh->nlmsg_len));
	rta->rta_type = type;
	rta->rta_len = RTA_LENGTH(sizeof(value));
	memcpy(RTA_DATA(rta), &value, sizeof(value));
	nh->nlmsg_len = NLMSG_ALIGN(nh->nlmsg_len) + RTA_ALIGN(rta->rta_len);
}

/** Adds a further IPv4 address (a [portN] vip_addr) to the kernel interface, through rtnetlink: the
 *  address ioctls set an interface's one address. */
static int kernel_iface_add_inet(const char *iface, const struct ffs_ifaddr *a, char *err, size_t errlen)
{
	struct {
		struct nlmsghdr nh;
		struct ifaddrmsg ifa;
		char attrs[3 * RTA_SPACE(sizeof(uint32_t))];
	} req;
	memset(&req, 0, sizeof(req));
	req.nh.nlmsg_len = NLMSG_LENGTH(sizeof(struct ifaddrmsg));
	req.nh.nlmsg_type = RTM_NEWADDR;
	req.nh.nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_REPLACE;
	req.ifa.ifa_family = AF_INET;
	req.ifa.ifa_prefixlen = (unsigned char)__builtin_popcount(a->netmask);
	req.ifa.ifa_scope = RT_SCOPE_UNIVERSE;
	req.ifa.ifa_index = if_nametoindex(iface);
	nl_attr32(&req.nh, IFA_LOCAL, htonl(a->addr));
	nl_attr32(&req.nh, IFA_ADDRESS, htonl(a->addr));
	if (a->broadcast != 0xffffffffu)
		nl_attr32(&req.nh, IFA_BROADCAST, htonl(a->broadcast));
	int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	int e = fd < 0 ? errno : 0;
	if (!e && send(fd, &req, req.nh.nlmsg_len, 0) < 0)
		e = errno;
	char reply[512];
	ssize_t n = e ? 0 : recv(fd, reply, sizeof(reply), 0);
	if (!e && n < 0)
		e = errno;
	const struct nlmsghdr *r = (const struct nlmsghdr *)reply;
	if (!e && (n < (ssize_t)NLMSG_LENGTH(sizeof(struct nlmsgerr)) || r->nlmsg_type != NLMSG_ERROR))
		e = EPROTO;
	if (!e)
		e = -((const struct nlmsgerr *)NLMSG_DATA(r))->error;
	if (fd >= 0)
		close(fd);
	if (e) {
		char text[16];
		snprintf(err, errlen, "exception interface %s: adding the address %s: %s", iface,
			 inet_ntop(AF_INET, &(uint32_t){ htonl(a->addr) }, text, sizeof(text)), strerror(e));
		return -1;
	}
	return 0;
}

/** Gives the kernel interface the port's MTU and IPv4 and IPv6 addresses, and brings it up. */
static int kernel_iface_setup(const struct ffs_exception *x, const struct ffs_port_conf *pc, char *err, size_t errlen)
{
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		snprintf(err, errlen, "exception interface %s: socket: %s", x->iface, strerror(errno));
		return -1;
	}
	struct ifreq ifr;
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", x->iface);
	ifr.ifr_mtu = pc->mtu;
	int rc = iface_ioctl(fd, SIOCSIFMTU, &ifr, x->iface, "setting the MTU", err, errlen);
	sin_of(&ifr.ifr_addr, pc->addr);
	rc = rc ?: iface_ioctl(fd, SIOCSIFADDR, &ifr, x->iface, "setting the address", err, errlen);
	sin_of(&ifr.ifr_netmask, pc->netmask);
	rc = rc ?: iface_ioctl(fd, SIOCSIFNETMASK, &ifr, x->iface, "setting the netmask", err, errlen);
	sin_of(&ifr.ifr_broadaddr, pc->broadcast);
	rc = rc ?: iface_ioctl(fd, SIOCSIFBRDADDR, &ifr, x->iface, "setting the broadcast address", err, errlen);
	rc = rc ?: iface_ioctl(fd, SIOCGIFFLAGS, &ifr, x->iface, "reading the flags", err, errlen);
	ifr.ifr_flags |= IFF_UP | IFF_RUNNING;
	rc = rc ?: iface_ioctl(fd, SIOCSIFFLAGS, &ifr, x->iface, "bringing it up", err, errlen);
	close(fd);
	if (rc != 0)
		return -1;
	for (unsigned k = 0; k < pc->n_vip; k++)
		if (kernel_iface_add_inet(x->iface, &pc->vip[k], err, errlen) != 0)
			return -1;
	/* IPv6: off with the port, or the port's configured addresses (the link-local address follows
	 * from the MAC, as the stack's does). */
	if (pc->ipv6_off) {
		iface_sysctl6(x->iface, "disable_ipv6", "1");
		return 0;
	}
	/* The stack has run Duplicate Address Detection for these addresses already. */
	iface_sysctl6(x->iface, "accept_dad", "0");
	iface_sysctl6(x->iface, "disable_ipv6", "0");
	if (pc->n_addr6 == 0)
		return 0;
	fd = socket(AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return 0; /* no IPv6 in this kernel */
	unsigned ifindex = if_nametoindex(x->iface);
	for (unsigned i = 0; i < pc->n_addr6 && rc == 0; i++) {
		struct exc_in6_ifreq r = { .prefixlen = pc->addr6[i].prefixlen, .ifindex = (int)ifindex };
		memcpy(&r.addr, pc->addr6[i].addr.b, 16);
		rc = iface_ioctl(fd, SIOCSIFADDR, &r, x->iface, "adding an IPv6 address", err, errlen);
	}
	close(fd);
	return rc;
}

/** Configures and starts the exception device: one queue pair, mbufs from `pool`. */
static int device_start(struct ffs_exception *x, uint16_t mtu, struct rte_mempool *pool, char *err, size_t errlen)
{
	struct rte_eth_conf conf;
	memset(&conf, 0, sizeof(conf));
	/* Reassembled datagrams are chains: sent as such where the device takes them. */
	struct rte_eth_dev_info info;
	if (rte_eth_dev_info_get(x->dev_port_id, &info) == 0)
		conf.txmode.offloads = info.tx_offload_capa & RTE_ETH_TX_OFFLOAD_MULTI_SEGS;
	x->tx_chains = conf.txmode.offloads & RTE_ETH_TX_OFFLOAD_MULTI_SEGS;
	/* A receive interrupt lets an idle lcore 0 sleep until the kernel sends (lcore/sleep.c). */
	conf.intr_conf.rxq = 1;
	int rc = rte_eth_dev_configure(x->dev_port_id, 1, 1, &conf);
	if (rc != 0) {
		conf.intr_conf.rxq = 0;
		rc = rte_eth_dev_configure(x->dev_port_id, 1, 1, &conf);
	}
	uint16_t nb_rxd = EXC_DESC, nb_txd = EXC_DESC;
	if (rc == 0)
		rc = rte_eth_dev_adjust_nb_rx_tx_desc(x->dev_port_id, &nb_rxd, &nb_txd);
	if (rc == 0)
		rc = rte_eth_rx_queue_setup(x->dev_port_id, 0, nb_rxd, SOCKET_ID_ANY, NULL, pool);
	if (rc == 0)
		rc = rte_eth_tx_queue_setup(x->dev_port_id, 0, nb_txd, SOCKET_ID_ANY, NULL);
	if (rc == 0) {
		int m = rte_eth_dev_set_mtu(x->dev_port_id, mtu);
		(void)m; /* the kernel interface's MTU is set again below */
		rc = rte_eth_dev_start(x->dev_port_id);
	}
	if (rc != 0) {
		snprintf(err, errlen, "exception device %s (%s): setup failed: %s (%d)", x->dev_name, x->iface, strerror(-rc), rc);
		return -1;
	}
	x->rx_intr_fd = conf.intr_conf.rxq ? rte_eth_dev_rx_intr_ctl_q_get_fd(x->dev_port_id, 0) : -1;
	return 0;
}

int ffs_exception_start(struct ffs_port *port, const struct ffs_port_conf *pc, struct rte_mempool *pool,
			const char *ring_prefix, char *err, size_t errlen)
{
	struct ffs_exception *x = &port->exc;
	memset(x, 0, sizeof(*x));
	x->rx_intr_fd = -1;
	if (pc->exception == FFS_EXC_NONE)
		return 0;
	x->kind = pc->exception;
	x->tcp = pc->exc_tcp;
	x->udp = pc->exc_udp;
	x->udp_unbound = pc->exc_udp_unbound;
	snprintf(x->iface, sizeof(x->iface), "%s", pc->exception_iface);
	const uint8_t *mac = port->mac.b;
	char devargs[256];
	if (pc->exception == FFS_EXC_VIRTIO_USER) {
		if (access(VHOST_NET, R_OK | W_OK) != 0) {
			snprintf(err, errlen,
				 "[port%u] exception = virtio-user: %s is missing (%s): load the vhost_net module "
				 "(modprobe vhost_net), or use exception = tap",
				 pc->port_id, VHOST_NET, strerror(errno));
			return -1;
		}
		snprintf(x->dev_name, sizeof(x->dev_name), "virtio_user_exc%u", pc->port_id);
		snprintf(devargs, sizeof(devargs), "%s,path=%s,iface=%s,mac=%02x:%02x:%02x:%02x:%02x:%02x,queues=1",
			 x->dev_name, VHOST_NET, x->iface, mac[0], mac[1], mac[2], mac[3], mac[4], mac[5]);
	} else {
		snprintf(x->dev_name, sizeof(x->dev_name), "net_tap_exc%u", pc->port_id);
		snprintf(devargs, sizeof(devargs), "%s,iface=%s,mac=%02x:%02x:%02x:%02x:%02x:%02x", x->dev_name, x->iface,
			 mac[0], mac[1], mac[2], mac[3], mac[4], mac[5]);
	}
	int rc = rte_dev_probe(devargs);
	if (rc != 0 || rte_eth_dev_get_port_by_name(x->dev_name, &x->dev_port_id) != 0) {
		snprintf(err, errlen, "[port%u] exception = %s: creating %s failed: %s (%d) (is %s already an interface?)",
			 pc->port_id, KEY_NAMES[pc->exception], devargs, strerror(rc < 0 ? -rc : ENODEV), rc, x->iface);
		return -1;
	}
	char name[RTE_RING_NAMESIZE];
	snprintf(name, sizeof(name), "%.16s_exc%u", ring_prefix, pc->port_id);
	x->to_kernel = rte_ring_create(name, pc->exc_queue, SOCKET_ID_ANY, RING_F_SC_DEQ | RING_F_EXACT_SZ);
	if (!x->to_kernel) {
		snprintf(err, errlen, "[port%u] exception: creating its queue of %u frames failed: %s", pc->port_id,
			 pc->exc_queue, rte_strerror(rte_errno));
		struct rte_eth_dev_info info;
		if (rte_eth_dev_info_get(x->dev_port_id, &info) == 0 && info.device)
			rte_dev_remove(info.device);
		return -1;
	}
	x->on = true;
	if (device_start(x, pc->mtu, pool, err, errlen) != 0 || kernel_iface_setup(x, pc, err, errlen) != 0) {
		ffs_exception_stop(port);
		return -1;
	}
	return 0;
}

void ffs_exception_stop(struct ffs_port *port)
{
	struct ffs_exception *x = &port->exc;
	if (!x->on)
		return;
	x->on = false;
	ffs_port_device_remove(x->dev_port_id);
	struct rte_mbuf *m;
	while (rte_ring_dequeue(x->to_kernel, (void **)&m) == 0)
		rte_pktmbuf_free(m);
	rte_ring_free(x->to_kernel);
	x->to_kernel = NULL;
}

static bool in_ranges(const struct ffs_port_ranges *r, uint16_t p)
{
	for (unsigned i = 0; i < r->n; i++)
		if (p >= r->r[i].lo && p <= r->r[i].hi)
			return true;
	return false;
}

bool ffs_exc_tcp_wanted(const struct ffs_port *port, uint16_t dport)
{
	return port->exc.tcp.n == 0 || in_ranges(&port->exc.tcp, dport);
}

const struct ffs_port *ffs_exc_port6(const struct ffs_stack *st, const struct ip6_addr *dst)
{
	for (unsigned p = 0; p < st->n_ports; p++)
		if (st->ports[p].exc.on && addr6_is_local(st, (int)p, dst, NULL))
			return &st->ports[p];
	return NULL;
}

bool ffs_exc_udp_wanted(const struct ffs_port *port, uint16_t dport)
{
	return port->exc.on && in_ranges(&port->exc.udp, dport);
}

/** Queues a frame (data at its Ethernet header) for lcore 0 to hand to the kernel. */
static void enqueue(struct ffs_lcore *lc, const struct ffs_port *port, struct rte_mbuf *m)
{
	if (rte_ring_mp_enqueue(port->exc.to_kernel, m) != 0) {
		lc->ctr.exc_dropped_full++;
		rte_pktmbuf_free(m);
		return;
	}
	lc->ctr.exc_to_kernel++;
	if (lc->index != 0)
		ffs_lcore_wake(lc->st->lcores[0]);
}

void ffs_exc_to_kernel(struct ffs_lcore *lc, const struct ffs_port *port, struct rte_mbuf *m, uint16_t ethertype)
{
	uint8_t *hdr = (uint8_t *)rte_pktmbuf_prepend(m, ETH_HDR_LEN);
	if (!hdr) {
		lc->ctr.exc_tx_dropped++;
		rte_pktmbuf_free(m);
		return;
	}
	/* Input only moved past the Ethernet header: it is still there, addressed to the port's MAC (which
	 * the kernel interface carries) or to a group. A reassembled datagram's first fragment may have
	 * lost it: the port's MAC stands in for anything else. */
	struct eth_hdr *eh = (struct eth_hdr *)hdr;
	if (!eth_addr_eq(&eh->dst, &port->mac) && !eth_addr_is_multicast(&eh->dst))
		eh->dst = port->mac;
	eh->type = rte_cpu_to_be_16(ethertype);
	/* A chain (a reassembled datagram) goes as one where the device sends chains. */
	if (m->nb_segs > 1 && !port->exc.tx_chains && rte_pktmbuf_linearize(m) != 0) {
		lc->ctr.exc_tx_dropped++;
		rte_pktmbuf_free(m);
		return;
	}
	enqueue(lc, port, m);
}

void ffs_exc_copy_to_kernel(struct ffs_lcore *lc, const struct ffs_port *port, const struct rte_mbuf *m, uint16_t ethertype)
{
	const uint32_t len = rte_pktmbuf_pkt_len(m);
	if (rte_pktmbuf_headroom(m) < ETH_HDR_LEN || m->nb_segs > 1) {
		lc->ctr.exc_tx_dropped++;
		return;
	}
	struct rte_mbuf *c = rte_pktmbuf_alloc(lc->st->pool);
	uint8_t *p = c ? (uint8_t *)rte_pktmbuf_append(c, (uint16_t)(ETH_HDR_LEN + len)) : NULL;
	if (!p) {
		rte_pktmbuf_free(c);
		lc->ctr.exc_tx_dropped++;
		return;
	}
	memcpy(p, rte_pktmbuf_mtod(m, const uint8_t *) - ETH_HDR_LEN, ETH_HDR_LEN + len);
	struct eth_hdr *eh = (struct eth_hdr *)p;
	eh->type = rte_cpu_to_be_16(ethertype);
	lc->ctr.exc_copies++;
	enqueue(lc, port, c);
}

/**
 * True for what the kernel must not send: an ARP reply, or a Neighbor Advertisement, about one of
 * the port's own addresses — the stack answers those itself.
 */
static bool kernel_duplicate(const struct ffs_stack *st, const struct ffs_port *port, const struct rte_mbuf *m)
{
	const uint8_t *f = rte_pktmbuf_mtod(m, const uint8_t *);
	const uint32_t len = rte_pktmbuf_data_len(m);
	struct eth_repr eth;
	if (eth_repr_parse(f, len, &eth) != WIRE_OK)
		return false;
	if (eth.ethertype == ETH_TYPE_ARP) {
		struct arp_repr a;
		return arp_repr_parse(f + ETH_HDR_LEN, len - ETH_HDR_LEN, &a) == WIRE_OK && a.op == ARP_OP_REPLY &&
		       route_port_has_addr(port, a.spa);
	}
	if (eth.ethertype != ETH_TYPE_IPV6 || len < ETH_HDR_LEN + IPV6_HDR_LEN + ICMP6_HDR_LEN + 16)
		return false;
	const uint8_t *ip6 = f + ETH_HDR_LEN;
	const uint8_t *icmp = ip6 + IPV6_HDR_LEN;
	if (ip6[6] != IPV6_NH_ICMPV6 || icmp[0] != ND_NEIGHBOR_ADVERT)
		return false;
	struct ip6_addr target;
	memcpy(target.b, icmp + ICMP6_HDR_LEN, 16);
	return addr6_is_local(st, port->index, &target, NULL);
}

/** Hands port `p`'s queued frames to its exception device. */
static unsigned drain_to_kernel(struct ffs_lcore *lc, const struct ffs_port *port)
{
	struct rte_mbuf *pkts[FFS_BURST];
	unsigned n = rte_ring_sc_dequeue_burst(port->exc.to_kernel, (void **)pkts, FFS_BURST, NULL);
	if (!n)
		return 0;
	uint16_t sent = rte_eth_tx_burst(port->exc.dev_port_id, 0, pkts, (uint16_t)n);
	if (sent < n) {
		lc->ctr.exc_tx_dropped += n - sent;
		rte_pktmbuf_free_bulk(pkts + sent, n - sent);
	}
	return n;
}

/** Sends what the kernel wrote on port `p`'s exception interface out the port. */
static unsigned from_kernel(struct ffs_lcore *lc, const struct ffs_port *port)
{
	struct rte_mbuf *pkts[FFS_BURST];
	uint16_t n = rte_eth_rx_burst(port->exc.dev_port_id, 0, pkts, FFS_BURST);
	for (uint16_t i = 0; i < n; i++) {
		if (kernel_duplicate(lc->st, port, pkts[i])) {
			lc->ctr.exc_kernel_dup++;
			rte_pktmbuf_free(pkts[i]);
			continue;
		}
		lc->ctr.exc_from_kernel++;
		ffs_tx_enqueue(lc, port->index, pkts[i]);
	}
	return n;
}

unsigned ffs_exc_turn(struct ffs_lcore *lc)
{
	unsigned work = 0;
	for (unsigned p = 0; p < lc->st->n_ports; p++) {
		const struct ffs_port *port = &lc->st->ports[p];
		if (!port->exc.on)
			continue;
		work += drain_to_kernel(lc, port);
		work += from_kernel(lc, port);
	}
	return work;
}
