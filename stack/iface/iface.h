/*
 * The interface layer: what happens to a frame between the device and the sockets.
 *
 * Owns: Ethernet demux and framing, ARP (answering, resolving, holding, aging), IPv4 input
 * validation, local delivery and loopback, routing (connected subnets, default gateway), IPv4
 * output, ICMP (echo, errors, the stack's own echo requests), and multicast: which groups each
 * port has joined, counted over every socket's memberships (mcast.c, the control plane's side), and
 * IGMP (igmp.c).
 * May call: wire/ for every header, lcore/ for counters, TX, events and control messages. Runs only
 * on the lcore that owns the packet (route questions and mcast.c excepted: those run on application
 * threads); drops and counts, never fails loudly.
 *
 * mbuf conventions: input functions take ownership of `m`; `m`'s data starts at the header the
 * function parses. Output functions take ownership too, also on error.
 */
#ifndef FFNET_IFACE_IFACE_H
#define FFNET_IFACE_IFACE_H

#include <stdint.h>
#include <rte_mbuf.h>

#include "stack/lcore/lcore.h"
#include "stack/wire/ipv4.h"
#include "stack/wire/ipv6.h"

/** Ethernet input: demux to ARP, IPv4 or IPv6 (data at the Ethernet header). */
void eth_input(struct ffs_lcore *lc, const struct ffs_port *port, struct rte_mbuf *m);
/**
 * Prepends the Ethernet header and sends to `nexthop` on `port`, resolving its MAC through the
 * neighbour cache (holding the frame while resolution is under way). `dst_mac` non-NULL skips
 * resolution (broadcast, multicast). Returns 0 or a negative errno (-EHOSTDOWN, -ENOBUFS).
 */
int eth_output(struct ffs_lcore *lc, const struct ffs_port *port, struct rte_mbuf *m, uint32_t nexthop,
	       const struct eth_addr *dst_mac);

/**
 * eth_output for an IPv6 packet: resolves `nexthop` through Neighbor Discovery (iface/nd6.c) unless
 * `dst_mac` is given (multicast: 33:33 + the group's low 32 bits, RFC 2464 §7).
 */
int eth_output6(struct ffs_lcore *lc, const struct ffs_port *port, struct rte_mbuf *m, const struct ip6_addr *nexthop,
		const struct eth_addr *dst_mac);

/**
 * Hands the frame `m` (ARP: data at the ARP header; ND: at the IPv6 header) by reference to every
 * other lcore and, on a multi-process stack, to every other process's ring, tagged `kind`
 * (FFS_PEER_ARP, FFS_PEER_ND), so that every neighbour cache learns from it. `m` stays the caller's.
 */
/**
 * Tags a frame leaving `port` (one with a VLAN) with the port's VID: asks the device to insert the tag
 * when it can (RTE_ETH_TX_OFFLOAD_VLAN_INSERT), else inserts it. The frame to send, or NULL when it
 * was dropped and counted. Every transmitted frame passes here (ffs_tx_enqueue).
 */
struct rte_mbuf *eth_vlan_tag(struct ffs_lcore *lc, const struct ffs_port *port, struct rte_mbuf *m);
void eth_clone_to_peers(struct ffs_lcore *lc, struct rte_mbuf *m, uint32_t kind);
/** ARP input (data at the ARP header). `cloned` is true for copies received from another lcore. */
void arp_input(struct ffs_lcore *lc, const struct ffs_port *port, struct rte_mbuf *m, bool cloned);
/** Broadcasts a request for `tpa` on `port`. */
void arp_request(struct ffs_lcore *lc, const struct ffs_port *port, uint32_t tpa);
/** Gratuitous ARP requests (RFC 5227 §2.3 announcements) for each of the port's addresses: its
 *  own and every vip_addr, so that neighbours holding another MAC (or none) for them update. */
void arp_announce(struct ffs_lcore *lc, const struct ffs_port *port);
/**
 * Multi-process (phy/cluster.h): hands a worker that takes a queue what this lcore's neighbour cache
 * knows — an ARP request to our address from each reachable neighbour, on `ring` — which it learns
 * as it learns the clones of frames it was not there to see. Returns the frames queued.
 */
unsigned arp_replay(struct ffs_lcore *lc, struct rte_ring *ring);
/** Resolves and sends (called by eth_output for unicast next hops). */
int arp_resolve_and_send(struct ffs_lcore *lc, const struct ffs_port *port, uint32_t nexthop, struct rte_mbuf *m);
/** Installs a permanent neighbour entry, sending packets held for it. 0, or -ENOSPC. */
int arp_add_static(struct ffs_lcore *lc, uint16_t port_index, uint32_t addr, const struct eth_addr *mac);
/** Forgets the port's neighbours off its (new) subnet, dropping and counting their held packets. */
void arp_forget_offlink(struct ffs_lcore *lc, uint16_t port_index);
/** Timer work: retransmit requests, fail unanswered entries, expire old ones. */
void arp_tick(struct ffs_lcore *lc);

/** IPv4 input (data at the IPv4 header). `port` is NULL for packets looped back inside the stack. */
void ipv4_input(struct ffs_lcore *lc, const struct ffs_port *port, struct rte_mbuf *m);

/** A fragment forwarded by the lcore that received it to the lcore that reassembles its datagram. */
void ipv4_steered_input(struct ffs_lcore *lc, const struct ffs_port *port, struct rte_mbuf *m);

/** What the caller of ipv4_output decides about a packet. */
/** The route of a TX drain's last unicast or local destination (routes change only between turns). */
struct ipv4_route_memo {
	bool valid;
	bool local;
	uint32_t dst;
	uint32_t nexthop;
	const struct ffs_port *port; /**< NULL: local, or no route */
};

struct ipv4_out {
	uint32_t src;  /**< 0 = the outgoing port's address */
	uint32_t dst;
	uint8_t proto;
	uint8_t ttl;   /**< 0 = net.inet.ip.ttl */
	uint8_t tos;
	bool dont_frag;
	bool mcast_loop; /**< multicast: also deliver to local members (IP_MULTICAST_LOOP) */
	bool udp_csum;   /**< the payload is a UDP datagram whose checksum is still to be filled (udp_csum_fill) */
	struct ipv4_route_memo *memo; /**< NULL, or where a burst keeps its last route: one lookup per destination */
};
/** Queues a packet of either family (data at its IP header) on the lcore's loopback queue, which input
 *  takes next turn; counts it in *counted (ip.loopback, ip6.loopback). -ENOBUFS when full (counted
 *  in ip.loopback_dropped, freed). */
int ip_loopback_enqueue(struct ffs_lcore *lc, struct rte_mbuf *m, uint64_t *counted);
/** Prepends an IPv4 header to the payload in `m`, routes and sends (or loops back). 0 or a negative errno. */
int ipv4_output(struct ffs_lcore *lc, struct rte_mbuf *m, const struct ipv4_out *o);

/** Builds the routing table from the ports' configuration (connected subnets, the default route). */
void route_init(struct ffs_stack *st);
void route_fini(struct ffs_stack *st);
/** The netmask of a prefix length (0..32). */
uint32_t route_mask(unsigned prefixlen);
/** Gives port `port_index` a new address and prefix length (broadcast derived), with its connected
 *  route; drops the static routes through it whose gateway left its subnet. Control plane only. */
void route_set_ifaddr(struct ffs_stack *st, unsigned port_index, uint32_t addr, unsigned prefixlen);
/** True when `addr` is on port `port_index`'s subnet (address and netmask read as one pair). */
bool route_on_link(const struct ffs_stack *st, uint16_t port_index, uint32_t addr);
/** True when dst is one of the stack's own addresses or 127.0.0.0/8. */
bool route_is_local(const struct ffs_stack *st, uint32_t dst);
/** The port and next hop for dst by longest-prefix match over the routing table. NULL = no route. */
const struct ffs_port *route_lookup(const struct ffs_stack *st, uint32_t dst, uint32_t *nexthop);
/** route_lookup, and *src: the route's preferred source (0 = none, the port's address). */
const struct ffs_port *route_lookup_src(const struct ffs_stack *st, uint32_t dst, uint32_t *nexthop, uint32_t *src);
/** route_lookup's answer from the lcore's own FIB (iface/route_fib.c), without locks; *src: the route's
 *  preferred source (0 = none; src may be NULL). The lcore's output path. */
const struct ffs_port *route_fib_lookup(struct ffs_lcore *lc, uint32_t dst, uint32_t *nexthop, uint32_t *src);
/** Creates the lcore's FIB (empty until route_fib_sync). 0, or -1 with `err` set. */
int route_fib_new(struct ffs_lcore *lc, char *err, size_t errlen);
void route_fib_free(struct ffs_lcore *lc);
/** Rebuilds the lcore's FIB from the published table: on the lcore (FFS_CTRL_ROUTE_SYNC), or before it turns. */
void route_fib_sync(struct ffs_lcore *lc);
/** Has every lcore rebuild its FIB (FFS_CTRL_ROUTE_SYNC) and waits: 0, or a negative errno. */
int route_fib_sync_all(struct ffs_stack *st);
/** The port whose address or broadcast address is `addr`, or NULL. */
const struct ffs_port *route_port_of(const struct ffs_stack *st, uint32_t addr);
/** The source address a datagram to dst leaves from (Linux's route source), or 0 when unroutable: for a
 *  route through a port, route_port_source of its next hop. */
uint32_t route_source(const struct ffs_stack *st, uint32_t dst);
/** The port's address a packet to `nexthop` leaves from (Linux's inet_select_addr): the address whose
 *  subnet holds it — the primary first, then each vip_addr in order — else the primary address. */
uint32_t route_port_source(const struct ffs_stack *st, const struct ffs_port *p, uint32_t nexthop);
/** True when `addr` is port p's address or one of its vip_addr. */
bool route_port_has_addr(const struct ffs_port *p, uint32_t addr);
/** A snapshot of port p's further addresses (vip_addr, aliases), in order; returns how many. */
unsigned route_port_vips(const struct ffs_port *p, struct ffs_ifaddr out[FFS_MAX_VIP]);
/** Adds a further address to port `port_index` (its subnet's connected route with it): -ENOSPC when it
 *  has FFS_MAX_VIP already. Control plane only; the caller checks the address. */
int route_vip_add(struct ffs_stack *st, unsigned port_index, uint32_t addr, unsigned prefixlen);
/** Removes a further address (and its connected route, unless another address of the port is on the
 *  subnet; static routes through a gateway that left the port's subnets too): -ESRCH when the port has
 *  no such further address. Control plane only. */
int route_vip_del(struct ffs_stack *st, unsigned port_index, uint32_t addr);
/** True when dst is a broadcast address: limited, loopback's 127.255.255.255, or a port's subnet broadcast. */
bool route_is_broadcast(const struct ffs_stack *st, uint32_t dst);
/**
 * True when a socket whose source is `src` may not send to (or connect to) dst, as Linux's route
 * lookup refuses it with EINVAL (__mkroute_output, RFC 1122 §3.2.1.3): a 127/8 source and a unicast
 * destination off the host. Groups and broadcasts from 127/8 stay on loopback (ipv4_output).
 */
static inline bool route_loopback_source_refused(const struct ffs_stack *st, uint32_t src, uint32_t dst)
{
	return ipv4_is_loopback(src) && !ipv4_is_multicast(dst) && dst != 0xffffffffu && !route_is_local(st, dst);
}
/**
 * True when a datagram to a group or to the limited broadcast has no route, as Linux's route lookup
 * finds it (ip_route_output_key_hash_rcu): a unicast source `src` (a bound address) names its
 * interface, and for a group so does IP_MULTICAST_IF (`mcast_if`); without either it takes a route
 * to dst (a default route, or one to 224.0.0.0/4), else ENETUNREACH.
 */
static inline bool route_group_unroutable(const struct ffs_stack *st, uint32_t src, uint32_t mcast_if, uint32_t dst)
{
	uint32_t nexthop;
	if (src || (dst != 0xffffffffu && (!ipv4_is_multicast(dst) || mcast_if)))
		return false;
	return route_lookup(st, dst, &nexthop) == NULL;
}

/** True when `group` is joined on the port (by any socket). */
bool ipv4_group_joined(const struct ffs_lcore *lc, uint16_t port_index, uint32_t group);

/**
 * Whether IP packet `m` (data at its IP header) leaves `port` in one frame: no larger than `mtu`, and
 * one segment unless the device sends chains (port->tx_multi_seg). A short chain for a device that
 * does not is made one segment here; a long one must leave in fragments (ip_frag_fit).
 */
static inline bool ip_fits_frame(const struct ffs_port *port, struct rte_mbuf *m, uint32_t mtu)
{
	if (rte_pktmbuf_pkt_len(m) > mtu)
		return false;
	return m->nb_segs == 1 || port->tx_multi_seg || rte_pktmbuf_linearize(m) == 0;
}

/**
 * The largest IP packet a fragment for `port` may be at `mtu`: the MTU itself where the device sends
 * chains (a jumbo fragment spans several mbufs), else no more than one of the pool's mbufs holds.
 */
static inline uint32_t ip_frag_fit(const struct ffs_lcore *lc, const struct ffs_port *port, uint32_t mtu)
{
	if (port->tx_multi_seg)
		return mtu;
	uint32_t room = rte_pktmbuf_data_room_size(lc->st->pool) - RTE_PKTMBUF_HEADROOM;
	return mtu < room ? mtu : room;
}

/**
 * IPv4 fragmentation (iface/ipv4_frag.c). Sends `m` (data at its IPv4 header, total length above the
 * port's MTU, header already built) as fragments of at most `mtu` bytes through eth_output; frees `m`.
 * Returns 0, or -EMSGSIZE when DF is set, or -ENOBUFS.
 */
int ipv4_fragment(struct ffs_lcore *lc, const struct ffs_port *port, struct rte_mbuf *m, uint32_t nexthop,
		  const struct eth_addr *dst_mac);
/**
 * IPv4 reassembly. Takes a fragment (data at its IPv4 header, `ip` parsed). Returns the whole
 * datagram (data at the IPv4 header of the first fragment, payload chained, header's total length
 * and fragment fields rewritten for the whole datagram, `ip` updated), or NULL while incomplete or
 * when the fragment was dropped (counted).
 */
struct rte_mbuf *ipv4_reassemble(struct ffs_lcore *lc, struct rte_mbuf *m, struct ipv4_repr *ip);
/** Reassembly state of a lcore, both families' partial datagrams in one table bounded by tunables
 *  (iface/reasm.c), and its timer work (expiry). */
struct ip_reasm *ip_reasm_new(void);
void ip_reasm_free(struct ip_reasm *r);
void ip_reasm_tick(struct ffs_lcore *lc);

/** The most sources one group's IGMPv3 state carries (source-specific memberships). */
#define FFS_MAX_GROUP_SOURCES 64
/**
 * IGMP (iface/igmp.c). The port's membership of `group`, computed over every socket, changed:
 * exclude with no sources = an any-source member; include with sources = source-specific members
 * only; include with no sources = no longer a member. Every lcore keeps the state (to answer
 * queries it receives); lcore 0 sends the unsolicited reports (state-change records, repeated per
 * RFC 3376's robustness variable; IGMPv2 reports and leaves when net.inet.igmp.default_version = 2).
 */
void igmp_state_change(struct ffs_lcore *lc, uint16_t port_index, uint32_t group, bool exclude, const uint32_t *sources,
		       unsigned n_sources);
/** IGMP input (data at the IGMP message): answers queries for the groups joined on the port. */
void igmp_input(struct ffs_lcore *lc, const struct ffs_port *port, struct rte_mbuf *m, const struct ipv4_repr *ip);
/** Lcore 0, when a port's link comes up: reports every IGMP and MLD membership of the port again
 *  (what was sent while it was down is lost). */
void igmp_link_up(struct ffs_lcore *lc, uint16_t port_index);
/** IGMP timers (delayed query responses, report retransmissions). */
void igmp_tick(struct ffs_lcore *lc);
/** Frees a lcore's IGMP state (allocated on first use); sends nothing. */
void igmp_free(struct ffs_lcore *lc);

/*
 * Multicast memberships of the interfaces (iface/mcast.c): the control plane's reference counts per
 * (port, group) over every socket's memberships, which tell the lcores' IPv4 input and IGMP. Called
 * by the socket layer under its namespace lock (ns_lock). Port index FFS_MAX_PORTS is loopback.
 */
struct ffs_membership;
/** The port index an interface address names (Linux's ip_mc_find_dev): 0.0.0.0 the first port,
 *  127.0.0.0/8 loopback; -1 when none (ENODEV). */
int mcast_if_port(const struct ffs_stack *st, uint32_t ifaddr);
/** The address that names a port in memberships: its own, or 127.0.0.1 for loopback. */
uint32_t mcast_if_addr(const struct ffs_stack *st, unsigned port_index);
/** Counts a membership of `group` on a port (source 0: any source) and tells the lcores the port's
 *  new state. -ENOBUFS (FFS_MAX_GROUPS joined), -ENOMEM, or a control error; then it is not counted. */
int mcast_join(struct ffs_stack *st, uint16_t port_index, uint32_t group, uint32_t source);
/** Counts a membership out and tells the lcores the port's new state (0 or a control error). */
int mcast_leave(struct ffs_stack *st, uint16_t port_index, uint32_t group, uint32_t source);
/** Counts a closing socket's memberships out, then tells the lcores each group's new state. */
void mcast_leave_all(struct ffs_stack *st, const struct ffs_membership *m, unsigned n);
/** Frees the membership counts of a stopped stack. */
void mcast_free(struct ffs_stack *st);

/** UDP input (data at the UDP header); `broadcast` when the destination was a broadcast address,
 *  `reassembled` when it was put together from fragments (then handed to its socket's home lcore). */
void udp_input(struct ffs_lcore *lc, struct rte_mbuf *m, const struct ipv4_repr *ip, const struct wire_csum_caps *caps,
	       bool broadcast, bool reassembled);
/** A reassembled datagram (payload, addresses in its ffs_meta) handed over by the lcore that reassembled it. */
void udp_steered_input(struct ffs_lcore *lc, struct rte_mbuf *m);
/** An ICMP error quoting one of our UDP datagrams: sets the error on the socket that sent it. */
struct icmp_repr;
void udp_icmp_error(struct ffs_lcore *lc, const struct icmp_repr *icmp);
struct icmp6_repr;
/** An ICMPv6 Destination Unreachable about a datagram of ours: the connected AF_INET6 socket that sent it
 *  gets ECONNREFUSED (port) or EACCES (administratively prohibited), as Linux's udpv6_err. */
void udp6_icmp_error(struct ffs_lcore *lc, const struct icmp6_repr *icmp);
/** Sends what applications queued on this lcore's TX ring; returns the datagrams taken. */
unsigned udp_tx_drain(struct ffs_lcore *lc);
/**
 * Fills the checksum of the UDP datagram at offset `off` of m, from src to dst: left to the device
 * (the pseudo-header seed and the mbuf's offload flags; counted in udp.tx_csum_offload) when
 * `offload`, else summed in software over every segment.
 */
void udp_csum_fill(struct ffs_lcore *lc, struct rte_mbuf *m, uint16_t off, uint32_t src, uint32_t dst, bool offload);
/** udp_csum_fill for a UDP datagram over IPv6 (RFC 8200 §8.1: a computed zero is sent as all ones). */
void udp6_csum_fill(struct ffs_lcore *lc, struct rte_mbuf *m, uint16_t off, const struct ip6_addr *src,
		    const struct ip6_addr *dst, bool offload);
/** Ends the burst: queues the datagrams gathered for each socket (one ring enqueue and one SO_RCVBUF
 *  charge per socket), then wakes the applications whose sockets got datagrams or errors. Called
 *  before the lcore's turn ends (it holds those sockets only inside it). */
void udp_signal_flush(struct ffs_lcore *lc);

/** ICMP input (data at the ICMP header). */
void icmp_input(struct ffs_lcore *lc, struct rte_mbuf *m, const struct ipv4_repr *ip, const struct wire_csum_caps *caps);
/**
 * Sends an ICMP error about `orig` (data at its IPv4 header; not consumed), rate limited by
 * net.inet.icmp.icmplim. Never answers ICMP errors, broadcasts, multicasts or non-first fragments
 * (RFC 1122 §3.2.2).
 */
void icmp_send_error(struct ffs_lcore *lc, struct rte_mbuf *orig, const struct ipv4_repr *ip, uint8_t type,
		     uint8_t code, uint16_t next_mtu);
/** The ICMP error limiter both families share: true when `rl`'s window already let `lim` through
 *  this second (0 = unlimited); otherwise takes a token. */
bool icmp_rate_limited(struct ffs_lcore *lc, struct ffs_ratelimit *rl, int64_t lim);
/** An echo request message of either family (the echo header's type and checksum left 0): the ident,
 *  seq, the TSC for the RTT, iputils ping's pattern; chained above one segment. NULL: no mbuf. */
struct rte_mbuf *icmp_echo_build(struct ffs_lcore *lc, uint16_t ident, uint16_t seq, uint16_t payload_len);
/** An echo reply of either family (m at the echo message) for the stack's requests (an event) or a
 *  control thread's (its waiter, filled from `who`: source and TTL/hop limit). False: nobody's. */
struct ffs_ping_result;
bool icmp_echo_reply_in(struct ffs_lcore *lc, struct rte_mbuf *m, uint16_t ident, uint16_t seq,
			const struct ffs_ping_result *who);
/** Sends an echo request from the stack (payload carries the TSC for the RTT; ttl 0 = net.inet.ip.ttl).
 *  0 or a negative errno. */
int icmp_send_echo(struct ffs_lcore *lc, uint32_t dst, uint16_t ident, uint16_t seq, uint16_t payload_len, uint8_t ttl);

/*
 * IPv6 (iface/ipv6.c), Neighbor Discovery (iface/nd6.c) and ICMPv6 (iface/icmp6.c).
 */

/** IPv6 input (data at the IPv6 header). `port` is NULL for packets looped back inside the stack. */
void ipv6_input(struct ffs_lcore *lc, const struct ffs_port *port, struct rte_mbuf *m);

/** A fragment forwarded by the lcore that received it (ipv6_frag_steer) to the lcore that reassembles
 *  its datagram: validated and counted there, it goes on to reassembly here. */
void ipv6_steered_input(struct ffs_lcore *lc, const struct ffs_port *port, struct rte_mbuf *m);

/**
 * A TX drain's last unicast or local IPv6 destination (with its scope): whether it is ours, its port,
 * next hop, path MTU and the source chosen for it — one route, source and path MTU lookup per
 * destination and burst, as ipv4_route_memo: a change of routes, addresses or path MTUs reaches the
 * datagrams from the next burst on.
 */
struct ipv6_route_memo {
	bool valid;
	bool local;
	bool have_src;               /**< src holds the source addr6_source chose */
	int scope_port;
	struct ip6_addr dst;
	struct ip6_addr nexthop;
	struct ip6_addr src;
	uint16_t mtu;                /**< the destination's path MTU; 0: not looked up yet */
	const struct ffs_port *port; /**< NULL: local */
};

/** What the caller of ipv6_output decides about a packet. */
struct ipv6_out {
	struct ip6_addr src;  /**< :: = chosen for dst (addr6_source, RFC 6724) */
	struct ip6_addr dst;
	uint8_t next_header;
	uint8_t hop_limit;    /**< 0 = net.inet6.ip6.hlim */
	uint8_t tclass;
	uint32_t flow_label;  /**< 20 bits */
	int scope_port;       /**< -1: none; else the port index a link-local or multicast dst leaves by */
	bool mcast_loop;      /**< multicast: also deliver to local members (IPV6_MULTICAST_LOOP) */
	bool udp_csum;        /**< the payload is a UDP datagram whose checksum is still to be filled */
	bool dont_frag;       /**< IPV6_DONTFRAG: above the path MTU, -EMSGSIZE rather than fragments */
	struct ipv6_route_memo *memo; /**< NULL, or where a burst keeps its last unicast destination */
};
/** Prepends an IPv6 header to the payload in `m`, routes and sends (or loops back). 0 or a negative
 *  errno: -ENETUNREACH (no route), -EADDRNOTAVAIL (no source address), -EMSGSIZE, -ENOBUFS. */
int ipv6_output(struct ffs_lcore *lc, struct rte_mbuf *m, const struct ipv6_out *o);
/**
 * Fills the Internet checksum of the upper-layer message at offset `off` of m (every segment), over
 * the IPv6 pseudo-header (RFC 8200 §8.1), at `csum_off` within it; a UDP sum of 0 is sent as 0xffff.
 */
void ipv6_l4_csum_fill(struct rte_mbuf *m, uint16_t off, uint16_t csum_off, const struct ip6_addr *src,
		       const struct ip6_addr *dst, uint8_t next_header);

/** UDP over IPv6 input (data at the UDP header); `multicast` for a group destination. */
void udp6_input(struct ffs_lcore *lc, struct rte_mbuf *m, const struct ipv6_repr *ip, const struct wire_csum_caps *caps,
		bool multicast, bool reassembled);
struct nd_repr;
/**
 * Neighbor Solicitation and Advertisement input (RFC 4861 §7.2), and what a Router Advertisement's
 * source link-layer address teaches (§6.3.4), `m` at the IPv6 header, the ND
 * message at ip->hdr_len, parsed into `nd`. `cloned`: a copy from another lcore (learn only: no
 * answers, no counting). Does not consume `m`.
 */
void nd6_input(struct ffs_lcore *lc, const struct ffs_port *port, const struct rte_mbuf *m, const struct ipv6_repr *ip,
	       const struct nd_repr *nd, bool cloned);
/** A Neighbor Discovery message cloned by another lcore (data at its IPv6 header); frees it. */
void nd6_clone_input(struct ffs_lcore *lc, const struct ffs_port *port, struct rte_mbuf *m);
/**
 * Multi-process: hands a worker that takes a queue what this lcore's IPv6 neighbour cache knows, as
 * arp_replay does for ARP — from each reachable neighbour a solicitation for the port's link-local
 * address carrying the neighbour's link-layer address, on `ring` — which it learns as it learns the
 * clones. Returns the messages queued.
 */
unsigned nd6_replay(struct ffs_lcore *lc, struct rte_ring *ring);
/** Resolves `nexthop` on `port` and sends `m` (Ethernet header in place). */
int nd6_resolve_and_send(struct ffs_lcore *lc, const struct ffs_port *port, const struct ip6_addr *nexthop,
			 struct rte_mbuf *m);
/** Sends a Neighbor Solicitation for `target` on `port`: to its solicited-node group, or unicast to
 *  `unicast` (a MAC) when not NULL; from :: for DAD (`dad`). */
void nd6_solicit(struct ffs_lcore *lc, const struct ffs_port *port, const struct ip6_addr *target, bool dad);
/** Sends an unsolicited Neighbor Advertisement for each usable address of `port` to ff02::1 (RFC 4861
 *  §7.2.6: link up, a new address). */
void nd6_announce(struct ffs_lcore *lc, const struct ffs_port *port);
/** Installs a permanent IPv6 neighbour entry, sending packets held for it. 0, or -ENOSPC. */
int nd6_add_static(struct ffs_lcore *lc, uint16_t port_index, const struct ip6_addr *addr, const struct eth_addr *mac);
/** Timer work: the neighbour cache's (as arp_tick), and on lcore 0 Duplicate Address Detection. */
void nd6_tick(struct ffs_lcore *lc);
/** Duplicate Address Detection of tentative address `a` on port index `port` (RFC 4862 §5.4):
 *  net.inet6.ip6.dad_count probes from lcore 0, then preferred or duplicated (addr6_set_state). */
int nd6_dad_start(struct ffs_stack *st, unsigned port, const struct ip6_addr *a);
/** DAD at start: waits (turning inline lcores) until every probe is answered or timed out. 0, or
 *  -EADDRINUSE with `err` naming the first duplicated address and its port. */
int nd6_dad_wait(struct ffs_stack *st, char *err, size_t errlen);
/** Frees the DAD table of a stopped stack. */
void nd6_fini(struct ffs_stack *st);

/** ICMPv6 input (data at the ICMPv6 header; the IPv6 header still before it in the mbuf). */
void icmp6_input(struct ffs_lcore *lc, const struct ffs_port *port, struct rte_mbuf *m, const struct ipv6_repr *ip,
		 const struct wire_csum_caps *caps);
/**
 * Sends an ICMPv6 error about `orig` (data at its IPv6 header; not consumed), rate limited by
 * net.inet6.icmp6.errppslimit. Never about an ICMPv6 error, nor to a multicast destination's sender
 * (but Packet Too Big and Parameter Problem code 2, RFC 4443 §2.4 e), nor from :: or multicast.
 */
void icmp6_send_error(struct ffs_lcore *lc, struct rte_mbuf *orig, const struct ipv6_repr *ip, uint8_t type,
		      uint8_t code, uint32_t param);
/** Sends an echo request from the stack (the payload carries the TSC for the RTT; hlim 0 = hlim). */
int icmp6_send_echo(struct ffs_lcore *lc, const struct ip6_addr *dst, int scope_port, uint16_t ident, uint16_t seq,
		    uint16_t payload_len, uint8_t hlim);

/*
 * IPv6 fragments (iface/ipv6_frag.c) and multicast (iface/mld6.c, mcast.c).
 */
/**
 * IPv6 reassembly (RFC 8200 §4.5). Takes a fragment (data at its IPv6 header, `ip` parsed with
 * ip->fragment set). An atomic fragment (offset 0, M clear) comes back at once, unchanged, with
 * ip->fragment cleared (RFC 6946). Otherwise returns the whole datagram once complete (data at the
 * first fragment's IPv6 header, the Fragment header removed, payload chained, payload length
 * rewritten, `ip` parsed again over it), or NULL while incomplete or when the fragment was dropped
 * (counted; a Parameter Problem sent where RFC 8200 §4.5 asks for one).
 */
struct rte_mbuf *ipv6_reassemble(struct ffs_lcore *lc, struct rte_mbuf *m, struct ipv6_repr *ip);
/**
 * Hands a received fragment (data at its IPv6 header) to the lcore that reassembles its datagram —
 * the one its address pair hashes to, as RSS would — when that is another lcore: true when m was
 * taken (queued there, or dropped and counted). The owner takes it through ipv6_steered_input
 * (FFS_PEER_FRAGMENT6 on its peer ring). False for atomic fragments and on a single lcore.
 */
bool ipv6_frag_steer(struct ffs_lcore *lc, const struct ffs_port *port, struct rte_mbuf *m, const struct ipv6_repr *ip);
/**
 * IPv6 fragmentation (RFC 8200 §4.5). Sends `m` (data at its 40-byte IPv6 header, no extension
 * headers, payload length above what `mtu` carries) as fragments of at most `mtu` bytes with a fresh
 * random identification, through eth_output6 to `nexthop`; frees `m`. Returns 0, -EMSGSIZE (an MTU
 * too small for any fragment), -ENOBUFS or eth_output6's error.
 */
int ipv6_fragment(struct ffs_lcore *lc, const struct ffs_port *port, struct rte_mbuf *m, uint16_t mtu,
		  const struct ip6_addr *nexthop);

/** The one rule for which IPv6 groups a port has joined, that input accepts and MLD reports: ff02::1
 *  (always), the solicited-node group of each address of the port but a duplicated one (tentative
 *  ones included), and what sockets joined. Port index FFS_MAX_PORTS is loopback, as in mcast.c. */
bool ipv6_group_joined(const struct ffs_lcore *lc, uint16_t port_index, const struct ip6_addr *group);
/**
 * MLD (iface/mld6.c): the port's membership of `group` changed, as igmp_state_change's for IPv4
 * (MLDv2 records, or MLDv1 reports and done messages when net.inet6.mld.version = 1 or an MLDv1
 * querier is present). ff02::1 and groups of scope 0 or 1 are never reported.
 */
void mld6_state_change(struct ffs_lcore *lc, uint16_t port_index, const struct ip6_addr *group, bool exclude,
		       const struct ip6_addr *sources, unsigned n_sources);
/** MLD timer work besides igmp_tick's: follows the ports' addresses, joining (leaving) the
 *  solicited-node group of each address added (removed), and frees its state on teardown. */
void mld6_tick(struct ffs_lcore *lc);
void mld6_free(struct ffs_lcore *lc);
/** MLD input (data at the ICMPv6 message, its checksum verified): answers queries for the groups
 *  joined on the port; another host's MLDv1 report suppresses ours. `port` NULL: loopback. */
void mld6_input(struct ffs_lcore *lc, const struct ffs_port *port, struct rte_mbuf *m, const struct ipv6_repr *ip);

/** Counts a membership of IPv6 `group` on a port from `source` (NULL or ::: any source) in, and tells
 *  the lcores the port's new state, as mcast_join. -EINVAL when group is not multicast. */
int mcast_join6(struct ffs_stack *st, uint16_t port_index, const struct ip6_addr *group, const struct ip6_addr *source);
/** Counts one out, as mcast_leave. */
int mcast_leave6(struct ffs_stack *st, uint16_t port_index, const struct ip6_addr *group, const struct ip6_addr *source);

#endif
