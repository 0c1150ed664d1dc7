/*
 * Per-lcore counters: one plain struct of uint64_t per data-path lcore, written only by its lcore
 * (no atomics on the per-packet path) and read by anyone (a torn read is impossible for aligned
 * 64-bit words on the platforms DPDK supports). Every drop reason has its own counter. What
 * application threads count (localhost.*, ffnet/dgram's traffic through the kernel) goes into one
 * more struct of the stack with relaxed atomic adds (ffs_stack_count_app), reported with lcore 0's.
 *
 * FFS_COUNTERS is the single list: the struct, the name table shown by `ffnet netstat -s` /
 * `Stack.stats()`, docs/counters.md and the tools' table of counter kinds (both written by
 * scripts/gen-tables.mjs) all come from it. Each entry is X(field, "layer.name", kind, "doc"), kind:
 *   drop   packets dropped or refused for one reason, each such packet in exactly one drop counter
 *          (the drops `ffnet top` and `ffnet netstat -w` add up);
 *   count  everything else, including a counter that breaks down packets a drop counter already
 *          holds (ip.frag_nomem is one reason of ip.frag_dropped) and events that lose no packet.
 */
#ifndef FFNET_LCORE_COUNTERS_H
#define FFNET_LCORE_COUNTERS_H

#include <stdint.h>

#define FFS_COUNTERS(X)                                                                       \
	X(eth_rx, "eth.rx", count, "frames received from devices")                                   \
	X(eth_tx, "eth.tx", count, "frames handed to devices")                                       \
	X(eth_runt, "eth.runt", drop, "frames shorter than an Ethernet header")                     \
	X(eth_not_ours, "eth.not_ours", drop, "frames for another MAC address")                     \
	X(eth_unknown_type, "eth.unknown_type", drop, "frames of an EtherType we do not handle")    \
	X(eth_vlan_mismatch, "eth.vlan_mismatch", drop, "frames not of the port's 802.1Q VLAN: another VID, untagged on a port with vlan_id, tagged (VID 1..4094) on one without") \
	X(eth_tx_dropped, "eth.tx_dropped", drop, "frames the device would not take (TX queue full)") \
	X(eth_rx_restarts, "eth.rx_restarts", count, "receive queues restarted after their device ran out of mbufs (rx_nombuf)") \
	X(eth_dispatched, "eth.dispatched", count, "frames handed by the software RSS dispatcher to the lcore their flow hashes to (ports with fewer RX queues than lcores)") \
	X(eth_dispatch_dropped, "eth.dispatch_dropped", drop, "frames dropped by the software RSS dispatcher: their lcore's peer queue was full") \
	X(eth_rx_down, "eth.rx_down", drop, "frames received on a port that is down (ifconfig down), dropped") \
	X(eth_tx_down, "eth.tx_down", drop, "frames for a port that is down (ifconfig down), dropped") \
	X(eth_tx_bursts, "eth.tx_bursts", count, "transmit bursts that devices took frames from (eth.tx / eth.tx_bursts: frames per burst)") \
	X(fault_dropped, "fault.dropped", drop, "received IPv4 frames dropped by the fault injector (dev.fault.rx_drop_ppm)") \
	X(fault_duplicated, "fault.duplicated", count, "received IPv4 frames delivered twice by the fault injector (dev.fault.rx_dup_ppm)") \
	X(fault_reordered, "fault.reordered", count, "received IPv4 frames held back and delivered after a later one (dev.fault.rx_reorder_ppm)") \
	X(capture_copied, "capture.copied", count, "frames copied to a running capture (ffnet capture)") \
	X(capture_filtered, "capture.filtered", count, "frames a running capture's filter passed over") \
	X(capture_dropped, "capture.dropped", count, "frames a running capture missed: its queue or its buffers were full") \
	X(exc_to_kernel, "exception.to_kernel", count, "frames handed to the kernel's exception interface (traffic the stack does not consume, and copies of ARP and Neighbor Discovery)") \
	X(exc_copies, "exception.copies", count, "ARP and Neighbor Discovery frames the stack consumed and also copied to the kernel (part of exception.to_kernel)") \
	X(exc_dropped_full, "exception.dropped_full", drop, "frames for the kernel dropped: the queue toward it (exception_queue) was full") \
	X(exc_filtered, "exception.filtered", drop, "TCP segments to a port exception_tcp_port does not list, dropped") \
	X(exc_tx_dropped, "exception.tx_dropped", drop, "frames for the kernel dropped on the way: its interface would not take them (TX full), or no mbuf to copy or frame them") \
	X(exc_from_kernel, "exception.from_kernel", count, "frames the kernel sent on its exception interface, transmitted out the port") \
	X(exc_kernel_dup, "exception.kernel_dup", drop, "ARP replies and neighbour advertisements of the kernel for the port's own addresses, dropped (the stack answers those)") \
	X(arp_rx, "arp.rx", count, "ARP packets received")                                           \
	X(arp_badlen, "arp.badlen", drop, "ARP packets truncated or with wrong address lengths")    \
	X(arp_unsupported, "arp.unsupported", drop, "ARP packets for another hardware or protocol type") \
	X(arp_requests_in, "arp.requests_in", count, "ARP requests for our addresses")               \
	X(arp_replies_out, "arp.replies_out", count, "ARP replies sent")                             \
	X(arp_requests_out, "arp.requests_out", count, "ARP requests sent (resolution and gratuitous)") \
	X(arp_replies_in, "arp.replies_in", count, "ARP replies that resolved or refreshed an entry") \
	X(arp_unsolicited, "arp.unsolicited", count, "ARP replies nobody asked for (ignored)")       \
	X(arp_dupaddr, "arp.dupaddr", count, "ARP packets from another host claiming our address")   \
	X(arp_timeouts, "arp.timeouts", count, "resolutions that got no answer after maxtries requests") \
	X(arp_hold_dropped, "arp.hold_dropped", drop, "packets dropped while waiting for resolution: the oldest held ones past net.link.ether.inet.maxhold_bytes (or maxhold), those held when the resolution failed or the entry went, sends to a failed entry, and new ones refused by the pool (arp.hold_memdrop)") \
	X(arp_hold_memdrop, "arp.hold_memdrop", count, "of arp.hold_dropped: packets not held because the pool held all it may give (net.inet.udp.recvmbufs; a neighbour's first packet may still take up to half of what lies above it)") \
	X(arp_table_full, "arp.table_full", drop, "new neighbours refused: the table was full of entries that may not be evicted") \
	X(arp_evicted, "arp.evicted", count, "neighbour entries evicted to make room (net.link.ether.inet.max_entries; unused ones first)") \
	X(arp_clones_in, "arp.clones_in", count, "ARP packets learned from another lcore's receive queue") \
	X(ip_rx, "ip.rx", count, "IPv4 packets received")                                            \
	X(ip_toosmall, "ip.toosmall", drop, "IPv4 packets shorter than a header")                   \
	X(ip_badvers, "ip.badvers", drop, "IPv4 packets with a version other than 4")               \
	X(ip_badhlen, "ip.badhlen", drop, "IPv4 packets with a bad header length")                  \
	X(ip_badlen, "ip.badlen", drop, "IPv4 packets whose total length disagrees with the frame") \
	X(ip_badsum, "ip.badsum", drop, "IPv4 packets with a bad header checksum")                  \
	X(ip_ttl_zero, "ip.ttl_zero", drop, "IPv4 packets received with TTL 0")                      \
	X(ip_martian, "ip.martian", drop, "IPv4 packets with an impossible source address")         \
	X(ip_not_ours, "ip.not_ours", drop, "IPv4 packets for another host (we do not forward)")    \
	X(ip_fragments, "ip.fragments", count, "IPv4 fragments received")                            \
	X(ip_frag_dropped, "ip.frag_dropped", drop, "IPv4 fragments dropped (any reason below)")     \
	X(ip_frag_steered, "ip.frag_steered", count, "fragments forwarded to the lcore that reassembles their datagram") \
	X(ip_reassembled, "ip.reassembled", count, "IPv4 datagrams reassembled from fragments")       \
	X(ip_frag_timeout, "ip.frag_timeout", count, "partial datagrams expired before all fragments came (fragttl)") \
	X(ip_frag_overlap, "ip.frag_overlap", count, "datagrams discarded for overlapping fragments")  \
	X(ip_frag_dup, "ip.frag_dup", count, "duplicate fragments ignored")                          \
	X(ip_frag_toomany, "ip.frag_toomany", count, "datagrams discarded: more fragments than maxfragsperpacket") \
	X(ip_frag_nomem, "ip.frag_nomem", count, "fragments dropped: reassembly table or byte budget full") \
	X(ip_fragmented, "ip.fragmented", count, "datagrams fragmented for sending")                 \
	X(ip_frags_out, "ip.frags_out", count, "fragments sent")                                     \
	X(ip_cantfrag, "ip.cantfrag", drop, "datagrams above the MTU with DF set (not sent)")       \
	X(ip6_fragments, "ip6.fragments", count, "IPv6 fragments received (atomic fragments excluded)") \
	X(ip6_frag_dropped, "ip6.frag_dropped", drop, "IPv6 fragments dropped (any reason below)")   \
	X(ip6_frag_steered, "ip6.frag_steered", count, "IPv6 fragments forwarded to the lcore that reassembles their datagram") \
	X(ip6_reassembled, "ip6.reassembled", count, "IPv6 datagrams reassembled from fragments")     \
	X(ip6_frag_timeout, "ip6.frag_timeout", count, "partial IPv6 datagrams expired before all fragments came (net.inet6.ip6.fragttl)") \
	X(ip6_frag_overlap, "ip6.frag_overlap", count, "IPv6 datagrams discarded for overlapping fragments (RFC 5722)") \
	X(ip6_frag_dup, "ip6.frag_dup", count, "duplicate IPv6 fragments ignored")                   \
	X(ip6_frag_toomany, "ip6.frag_toomany", count, "IPv6 datagrams discarded: more fragments than maxfragsperpacket") \
	X(ip6_frag_nomem, "ip6.frag_nomem", count, "IPv6 fragments dropped: reassembly table or byte budget full") \
	X(ip6_frag_badlen, "ip6.frag_badlen", count, "IPv6 fragments dropped: not a multiple of 8 octets with M set, or reaching past 65535 (parameter problem sent)") \
	X(ip6_atomic_frags, "ip6.atomic_frags", count, "IPv6 atomic fragments (offset 0, M clear) processed as whole datagrams (RFC 6946)") \
	X(ip6_fragmented, "ip6.fragmented", count, "IPv6 datagrams fragmented for sending")           \
	X(ip6_frags_out, "ip6.frags_out", count, "IPv6 fragments sent")                             \
	X(ip6_cantfrag, "ip6.cantfrag", drop, "IPv6 datagrams above the path MTU with IPV6_DONTFRAG (not sent)") \
	X(ip_noproto, "ip.noproto", drop, "IPv4 packets for a protocol we do not handle")          \
	X(ip_delivered, "ip.delivered", count, "IPv4 packets delivered to ICMP/UDP")                 \
	X(ip_tx, "ip.tx", count, "IPv4 packets sent")                                                \
	X(ip_noroute, "ip.noroute", drop, "IPv4 packets with no route to their destination")        \
	X(ip_tx_martian, "ip.tx_martian", drop, "IPv4 packets kept from a device: a 127/8 or 0.0.0.0 source, or a 127/8 destination") \
	X(ip_toolong, "ip.toolong", drop, "IPv4 packets larger than the MTU that could not be sent") \
	X(ip_loopback, "ip.loopback", count, "IPv4 packets delivered inside the stack (never sent)")  \
	X(ip_loopback_dropped, "ip.loopback_dropped", drop, "loopback packets dropped (queue full)") \
	X(icmp_rx, "icmp.rx", count, "ICMP messages received")                                      \
	X(icmp_tooshort, "icmp.tooshort", drop, "ICMP messages shorter than a header")              \
	X(icmp_badsum, "icmp.badsum", drop, "ICMP messages with a bad checksum")                    \
	X(icmp_echo_in, "icmp.echo_in", count, "echo requests received")                             \
	X(icmp_echo_reply_out, "icmp.echo_reply_out", count, "echo replies sent")                    \
	X(icmp_bmcastecho, "icmp.bmcastecho", drop, "broadcast/multicast echo requests ignored")    \
	X(icmp_echo_out, "icmp.echo_out", count, "echo requests sent by the stack")                  \
	X(icmp_echo_reply_in, "icmp.echo_reply_in", count, "echo replies matched to our requests")   \
	X(icmp_echo_unmatched, "icmp.echo_unmatched", drop, "echo replies for nobody")              \
	X(icmp_unreach_in, "icmp.unreach_in", count, "destination-unreachable messages received")    \
	X(icmp_other_in, "icmp.other_in", count, "ICMP messages of other types received")            \
	X(icmp_errors_out, "icmp.errors_out", count, "ICMP error messages sent")                     \
	X(icmp_ratelimited, "icmp.ratelimited", drop, "ICMP errors not sent because of icmplim")    \
	X(ip6_rx, "ip6.rx", count, "IPv6 packets received") \
	X(ip6_toosmall, "ip6.toosmall", drop, "IPv6 packets shorter than a header") \
	X(ip6_badvers, "ip6.badvers", drop, "IPv6 packets with a version other than 6") \
	X(ip6_badlen, "ip6.badlen", drop, "IPv6 packets whose payload length disagrees with the frame") \
	X(ip6_badexthdr, "ip6.badexthdr", drop, "IPv6 packets whose extension header chain was refused (RFC 8200 §4; a Parameter Problem answers where it says)") \
	X(ip6_martian, "ip6.martian", drop, "IPv6 packets with an impossible source or destination (multicast or loopback source, ::1 from a device)") \
	X(ip6_not_ours, "ip6.not_ours", drop, "IPv6 packets for another host, a tentative address or a group not joined (we do not forward)") \
	X(ip6_disabled, "ip6.disabled", drop, "IPv6 packets received on a port with IPv6 off ([portN] ipv6 = 0), dropped as Linux's disable_ipv6 does") \
	X(ip6_nonext, "ip6.nonext", drop, "IPv6 packets with No Next Header (RFC 8200 §4.7)") \
	X(ip6_delivered, "ip6.delivered", count, "IPv6 packets delivered to ICMPv6/UDP") \
	X(ip6_tx, "ip6.tx", count, "IPv6 packets sent") \
	X(ip6_noroute, "ip6.noroute", drop, "IPv6 packets with no route (or no source address) to their destination") \
	X(ip6_tx_martian, "ip6.tx_martian", drop, "IPv6 packets kept from a device: a ::1 or :: source, or a ::1 destination") \
	X(ip6_toolong, "ip6.toolong", drop, "IPv6 packets above the path MTU that could not be sent (IPV6_DONTFRAG) or above 65535 payload bytes") \
	X(ip6_loopback, "ip6.loopback", count, "IPv6 packets delivered inside the stack (never sent)") \
	X(icmp6_rx, "icmp6.rx", count, "ICMPv6 messages received") \
	X(icmp6_tooshort, "icmp6.tooshort", drop, "ICMPv6 messages shorter than their type's fixed part") \
	X(icmp6_badsum, "icmp6.badsum", drop, "ICMPv6 messages with a bad checksum") \
	X(icmp6_echo_in, "icmp6.echo_in", count, "ICMPv6 echo requests received") \
	X(icmp6_echo_reply_out, "icmp6.echo_reply_out", count, "ICMPv6 echo replies sent") \
	X(icmp6_mcastecho, "icmp6.mcastecho", count, "ICMPv6 echo requests to a multicast group (answered from a unicast address, RFC 4443 §4.2)") \
	X(icmp6_echo_out, "icmp6.echo_out", count, "ICMPv6 echo requests sent by the stack") \
	X(icmp6_echo_reply_in, "icmp6.echo_reply_in", count, "ICMPv6 echo replies matched to our requests") \
	X(icmp6_echo_unmatched, "icmp6.echo_unmatched", drop, "ICMPv6 echo replies for nobody") \
	X(icmp6_unreach_in, "icmp6.unreach_in", count, "ICMPv6 destination-unreachable messages received") \
	X(icmp6_toobig_in, "icmp6.toobig_in", count, "ICMPv6 packet-too-big messages received (the destination's path MTU lowered)") \
	X(icmp6_timxceed_in, "icmp6.timxceed_in", count, "ICMPv6 time-exceeded messages received") \
	X(icmp6_paramprob_in, "icmp6.paramprob_in", count, "ICMPv6 parameter-problem messages received") \
	X(icmp6_other_in, "icmp6.other_in", count, "ICMPv6 messages of other types received (ignored)") \
	X(icmp6_errors_out, "icmp6.errors_out", count, "ICMPv6 error messages sent") \
	X(icmp6_ratelimited, "icmp6.ratelimited", drop, "ICMPv6 errors not sent because of net.inet6.icmp6.errppslimit") \
	X(nd6_rx, "nd6.rx", count, "Neighbor Discovery solicitations and advertisements received") \
	X(nd6_bad, "nd6.bad", drop, "Neighbor Discovery messages refused by RFC 4861 §7.1 (hop limit not 255, bad length, options or target)") \
	X(nd6_ns_in, "nd6.ns_in", count, "Neighbor Solicitations for our addresses") \
	X(nd6_na_out, "nd6.na_out", count, "Neighbor Advertisements sent (answers and unsolicited)") \
	X(nd6_ns_out, "nd6.ns_out", count, "Neighbor Solicitations sent (resolution and DAD)") \
	X(nd6_na_in, "nd6.na_in", count, "Neighbor Advertisements that resolved or refreshed an entry") \
	X(nd6_unsolicited, "nd6.unsolicited", count, "Neighbor Advertisements for no entry (ignored)") \
	X(nd6_dupaddr, "nd6.dupaddr", count, "ND messages from another host claiming one of our addresses (a tentative one fails DAD)") \
	X(nd6_timeouts, "nd6.timeouts", count, "resolutions that got no answer after nd6_mmaxtries solicitations") \
	X(nd6_hold_dropped, "nd6.hold_dropped", drop, "IPv6 packets dropped while waiting for Neighbor Discovery: the oldest held ones past net.inet6.icmp6.nd6_maxqueuelen_bytes (or nd6_maxqueuelen), those held when the resolution failed or the entry went, sends to a failed entry, and new ones refused by the pool (nd6.hold_memdrop)") \
	X(nd6_hold_memdrop, "nd6.hold_memdrop", count, "of nd6.hold_dropped: IPv6 packets not held because the pool held all it may give (net.inet.udp.recvmbufs; a neighbour's first packet may still take up to half of what lies above it)") \
	X(nd6_table_full, "nd6.table_full", drop, "new IPv6 neighbours refused: the table was full of entries that may not be evicted") \
	X(nd6_evicted, "nd6.evicted", count, "IPv6 neighbour entries evicted to make room (unused ones first)") \
	X(nd6_clones_in, "nd6.clones_in", count, "ND messages learned from another lcore's receive queue") \
	X(igmp_rx, "igmp.rx", count, "IGMP messages received")                                       \
	X(igmp_tooshort, "igmp.tooshort", drop, "IGMP messages too short for their type")           \
	X(igmp_badsum, "igmp.badsum", drop, "IGMP messages with a bad checksum")                    \
	X(igmp_queries_in, "igmp.queries_in", count, "IGMP queries received (v1, v2 or v3)")         \
	X(igmp_reports_in, "igmp.reports_in", count, "IGMP reports of other hosts received (ignored)") \
	X(igmp_reports_out, "igmp.reports_out", count, "IGMP membership reports sent (v2 or v3)")    \
	X(igmp_leaves_out, "igmp.leaves_out", count, "IGMPv2 leave messages sent")                   \
	X(igmp_unknown, "igmp.unknown", drop, "IGMP messages of unknown type")                      \
	X(mld_rx, "mld.rx", count, "MLD messages received")                                           \
	X(mld_bad, "mld.bad", drop, "MLD messages refused: too short, hop limit not 1, source not link-local, or no Router Alert (RFC 3810 §5.1.14)") \
	X(mld_queries_in, "mld.queries_in", count, "MLD queries received (v1 or v2)")                 \
	X(mld_reports_in, "mld.reports_in", count, "MLD reports of other hosts received")             \
	X(mld_reports_out, "mld.reports_out", count, "MLD reports sent (v1 or v2)")                   \
	X(mld_dones_out, "mld.dones_out", count, "MLDv1 done messages sent")                          \
	X(nd6_rs_out, "nd6.rs_out", count, "router solicitations sent (RFC 4861 §6.3.7: at start, by ports without gateway6)") \
	X(nd6_ra_in, "nd6.ra_in", count, "router advertisements taken in: default router, prefixes, addresses, MTU") \
	X(nd6_ra_ignored, "nd6.ra_ignored", drop, "router advertisements ignored: net.inet6.ip6.accept_rtadv is 0, or IPv6 is off on the port") \
	X(nd6_autoconf, "nd6.autoconf", count, "addresses formed from advertised prefixes (SLAAC, RFC 4862)") \
	X(nd6_ra_deferred, "nd6.ra_deferred", count, "router advertisements put off to a later turn of their lcore: a control-plane writer held the route table") \
	X(nd6_ra_busy, "nd6.ra_busy", drop, "router advertisements dropped: the route table stayed busy while their lcore had others put off already") \
	X(nd6_ra_full, "nd6.ra_full", count, "routers, prefixes or addresses an advertisement offered that their table had no room for") \
	X(udp_rx, "udp.rx", count, "UDP datagrams received")                                         \
	X(udp_hdrops, "udp.hdrops", drop, "UDP datagrams shorter than a header")                    \
	X(udp_badlen, "udp.badlen", drop, "UDP datagrams whose length field disagrees with the packet") \
	X(udp_badsum, "udp.badsum", drop, "UDP datagrams with a bad checksum")                      \
	X(udp_noport, "udp.noport", drop, "UDP datagrams for a port nobody bound (ICMP port unreachable)") \
	X(udp_noportbcast, "udp.noportbcast", drop, "broadcast/multicast UDP datagrams nobody wanted") \
	X(udp_fullsock, "udp.fullsock", drop, "UDP datagrams dropped: receive buffer full (SO_RCVBUF)") \
	X(udp_memdrop, "udp.memdrop", drop, "UDP datagrams dropped: sockets hold all the pool may give them (net.inet.udp.recvmbufs)") \
	X(udp_delivered, "udp.delivered", count, "UDP datagrams queued to sockets")                  \
	X(udp_cross_lcore, "udp.cross_lcore", count, "UDP datagrams delivered to a socket whose home is another lcore") \
	X(udp_steered, "udp.steered", count, "reassembled UDP datagrams handed to the home lcore of their socket") \
	X(udp_tx, "udp.tx", count, "UDP datagrams sent")                                             \
	X(udp_tx_errors, "udp.tx_errors", count, "UDP datagrams the stack could not send (no route, no buffers)") \
	X(udp_tx_csum_offload, "udp.tx_csum_offload", count, "UDP datagrams sent with their checksum left to the device (net.inet.udp.tx_csum_offload)") \
	X(udp_icmp_errors, "udp.icmp_errors", count, "ICMP errors delivered to the socket they concern") \
	X(udp_wakeups, "udp.wakeups", count, "application wake-ups written to the application's eventfd (a system call)") \
	X(udp_wakeups_inline, "udp.wakeups_inline", count, "application wake-ups handed to the application's own thread, which turned the lcore (inline mode, no system call)") \
	X(localhost_to_kernel, "localhost.to_kernel", count, "datagrams ffnet/dgram sockets sent to a loopback address through the kernel ([dpdk] localhost: no stack socket held the destination, or policy kernel)") \
	X(localhost_from_kernel, "localhost.from_kernel", count, "datagrams local kernel processes sent on loopback that ffnet/dgram sockets received through their kernel companion") \
	X(localhost_send_errors, "localhost.send_errors", drop, "datagrams to a loopback address the kernel refused to send (ffnet/dgram's kernel companion; the send's callback has the error)") \
	X(localhost_port_elsewhere, "localhost.port_elsewhere", count, "kernel companions that could not take their stack socket's port (a kernel process holds it) and took an ephemeral one") \
	X(ctrl_msgs, "ctrl.msgs", count, "control messages applied")                                 \
	X(loop_turns, "loop.turns", count, "turns of the stack loop")                                \
	X(loop_idle_sleeps, "loop.idle_sleeps", count, "times the loop slept for want of work")         \
	X(loop_busy_ns, "loop.busy_ns", count, "nanoseconds spent in loop turns that did work (busy % in ffnet top)")

/** One lcore's counters. Cache-aligned so two lcores never share a line. */
struct ffs_counters {
#define FFS_COUNTER_FIELD(field, name, kind, doc) uint64_t field;
	FFS_COUNTERS(FFS_COUNTER_FIELD)
#undef FFS_COUNTER_FIELD
} __attribute__((aligned(64)));

/** Index of each counter in struct order (FFS_CTR_eth_rx, ...), and how many there are. */
enum ffs_counter_index {
#define FFS_COUNTER_INDEX(field, name, kind, doc) FFS_CTR_##field,
	FFS_COUNTERS(FFS_COUNTER_INDEX)
#undef FFS_COUNTER_INDEX
	FFS_COUNTER_COUNT
};

/** Names ("ip.badsum", ...) in struct order; FFS_COUNTER_COUNT of them. */
extern const char *const ffs_counter_names[];
/** One-line descriptions in struct order. */
extern const char *const ffs_counter_docs[];

#endif
