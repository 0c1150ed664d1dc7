/*
 * Per-lcore counters: one plain struct of uint64_t per data-path lcore, written only by its lcore
 * (no atomics on the per-packet path) and read by anyone (a torn read is impossible for aligned
 * 64-bit words on the platforms DPDK supports). Every drop reason has its own counter.
 *
 * FFS_COUNTERS is the single list: the struct, the name table shown by `ffnet netstat -s` /
 * `Stack.stats()`, and docs/counters.md (written by scripts/gen-tables.mjs) all come from it.
 */
#ifndef FFNET_LCORE_COUNTERS_H
#define FFNET_LCORE_COUNTERS_H

#include <stdint.h>

#define FFS_COUNTERS(X)                                                                       \
	X(eth_rx, "eth.rx", "frames received from devices")                                   \
	X(eth_tx, "eth.tx", "frames handed to devices")                                       \
	X(eth_runt, "eth.runt", "frames shorter than an Ethernet header")                     \
	X(eth_not_ours, "eth.not_ours", "frames for another MAC address")                     \
	X(eth_unknown_type, "eth.unknown_type", "frames of an EtherType we do not handle")    \
	X(eth_tx_dropped, "eth.tx_dropped", "frames the device would not take (TX queue full)") \
	X(eth_rx_restarts, "eth.rx_restarts", "receive queues restarted after their device ran out of mbufs (rx_nombuf)") \
	X(eth_dispatched, "eth.dispatched", "frames handed by the software RSS dispatcher to the lcore their flow hashes to (ports with fewer RX queues than lcores)") \
	X(eth_dispatch_dropped, "eth.dispatch_dropped", "frames dropped by the software RSS dispatcher: their lcore's peer queue was full") \
	X(eth_rx_down, "eth.rx_down", "frames received on a port that is down (ifconfig down), dropped") \
	X(eth_tx_down, "eth.tx_down", "frames for a port that is down (ifconfig down), dropped") \
	X(fault_dropped, "fault.dropped", "received IPv4 frames dropped by the fault injector (dev.fault.rx_drop_ppm)") \
	X(fault_duplicated, "fault.duplicated", "received IPv4 frames delivered twice by the fault injector (dev.fault.rx_dup_ppm)") \
	X(fault_reordered, "fault.reordered", "received IPv4 frames held back and delivered after a later one (dev.fault.rx_reorder_ppm)") \
	X(capture_copied, "capture.copied", "frames copied to a running capture (ffnet capture)") \
	X(capture_filtered, "capture.filtered", "frames a running capture's filter passed over") \
	X(capture_dropped, "capture.dropped", "frames a running capture missed: its queue or its buffers were full") \
	X(arp_rx, "arp.rx", "ARP packets received")                                           \
	X(arp_badlen, "arp.badlen", "ARP packets truncated or with wrong address lengths")    \
	X(arp_unsupported, "arp.unsupported", "ARP packets for another hardware or protocol type") \
	X(arp_requests_in, "arp.requests_in", "ARP requests for our addresses")               \
	X(arp_replies_out, "arp.replies_out", "ARP replies sent")                             \
	X(arp_requests_out, "arp.requests_out", "ARP requests sent (resolution and gratuitous)") \
	X(arp_replies_in, "arp.replies_in", "ARP replies that resolved or refreshed an entry") \
	X(arp_unsolicited, "arp.unsolicited", "ARP replies nobody asked for (ignored)")       \
	X(arp_dupaddr, "arp.dupaddr", "ARP packets from another host claiming our address")   \
	X(arp_timeouts, "arp.timeouts", "resolutions that got no answer after maxtries requests") \
	X(arp_hold_dropped, "arp.hold_dropped", "packets dropped while waiting for resolution") \
	X(arp_table_full, "arp.table_full", "new neighbours refused: the table was full of entries that may not be evicted") \
	X(arp_evicted, "arp.evicted", "neighbour entries evicted to make room (net.link.ether.inet.max_entries; unused ones first)") \
	X(arp_clones_in, "arp.clones_in", "ARP packets learned from another lcore's receive queue") \
	X(ip_rx, "ip.rx", "IPv4 packets received")                                            \
	X(ip_toosmall, "ip.toosmall", "IPv4 packets shorter than a header")                   \
	X(ip_badvers, "ip.badvers", "IPv4 packets with a version other than 4")               \
	X(ip_badhlen, "ip.badhlen", "IPv4 packets with a bad header length")                  \
	X(ip_badlen, "ip.badlen", "IPv4 packets whose total length disagrees with the frame") \
	X(ip_badsum, "ip.badsum", "IPv4 packets with a bad header checksum")                  \
	X(ip_ttl_zero, "ip.ttl_zero", "IPv4 packets received with TTL 0")                      \
	X(ip_martian, "ip.martian", "IPv4 packets with an impossible source address")         \
	X(ip_not_ours, "ip.not_ours", "IPv4 packets for another host (we do not forward)")    \
	X(ip_fragments, "ip.fragments", "IPv4 fragments received")                            \
	X(ip_frag_dropped, "ip.frag_dropped", "IPv4 fragments dropped (any reason below)")     \
	X(ip_frag_steered, "ip.frag_steered", "fragments forwarded to the lcore that reassembles their datagram") \
	X(ip_reassembled, "ip.reassembled", "IPv4 datagrams reassembled from fragments")       \
	X(ip_frag_timeout, "ip.frag_timeout", "partial datagrams expired before all fragments came (fragttl)") \
	X(ip_frag_overlap, "ip.frag_overlap", "datagrams discarded for overlapping fragments")  \
	X(ip_frag_dup, "ip.frag_dup", "duplicate fragments ignored")                          \
	X(ip_frag_toomany, "ip.frag_toomany", "datagrams discarded: more fragments than maxfragsperpacket") \
	X(ip_frag_nomem, "ip.frag_nomem", "fragments dropped: reassembly table or byte budget full") \
	X(ip_fragmented, "ip.fragmented", "datagrams fragmented for sending")                 \
	X(ip_frags_out, "ip.frags_out", "fragments sent")                                     \
	X(ip_cantfrag, "ip.cantfrag", "datagrams above the MTU with DF set (not sent)")       \
	X(ip_noproto, "ip.noproto", "IPv4 packets for a protocol we do not handle")          \
	X(ip_delivered, "ip.delivered", "IPv4 packets delivered to ICMP/UDP")                 \
	X(ip_tx, "ip.tx", "IPv4 packets sent")                                                \
	X(ip_noroute, "ip.noroute", "IPv4 packets with no route to their destination")        \
	X(ip_toolong, "ip.toolong", "IPv4 packets larger than the MTU that could not be sent") \
	X(ip_loopback, "ip.loopback", "IPv4 packets delivered inside the stack (never sent)")  \
	X(ip_loopback_dropped, "ip.loopback_dropped", "loopback packets dropped (queue full)") \
	X(icmp_rx, "icmp.rx", "ICMP messages received")                                      \
	X(icmp_tooshort, "icmp.tooshort", "ICMP messages shorter than a header")              \
	X(icmp_badsum, "icmp.badsum", "ICMP messages with a bad checksum")                    \
	X(icmp_echo_in, "icmp.echo_in", "echo requests received")                             \
	X(icmp_echo_reply_out, "icmp.echo_reply_out", "echo replies sent")                    \
	X(icmp_bmcastecho, "icmp.bmcastecho", "broadcast/multicast echo requests ignored")    \
	X(icmp_echo_out, "icmp.echo_out", "echo requests sent by the stack")                  \
	X(icmp_echo_reply_in, "icmp.echo_reply_in", "echo replies matched to our requests")   \
	X(icmp_echo_unmatched, "icmp.echo_unmatched", "echo replies for nobody")              \
	X(icmp_unreach_in, "icmp.unreach_in", "destination-unreachable messages received")    \
	X(icmp_other_in, "icmp.other_in", "ICMP messages of other types received")            \
	X(icmp_errors_out, "icmp.errors_out", "ICMP error messages sent")                     \
	X(icmp_ratelimited, "icmp.ratelimited", "ICMP errors not sent because of icmplim")    \
	X(igmp_rx, "igmp.rx", "IGMP messages received")                                       \
	X(igmp_tooshort, "igmp.tooshort", "IGMP messages too short for their type")           \
	X(igmp_badsum, "igmp.badsum", "IGMP messages with a bad checksum")                    \
	X(igmp_queries_in, "igmp.queries_in", "IGMP queries received (v1, v2 or v3)")         \
	X(igmp_reports_in, "igmp.reports_in", "IGMP reports of other hosts received (ignored)") \
	X(igmp_reports_out, "igmp.reports_out", "IGMP membership reports sent (v2 or v3)")    \
	X(igmp_leaves_out, "igmp.leaves_out", "IGMPv2 leave messages sent")                   \
	X(igmp_unknown, "igmp.unknown", "IGMP messages of unknown type")                      \
	X(udp_rx, "udp.rx", "UDP datagrams received")                                         \
	X(udp_hdrops, "udp.hdrops", "UDP datagrams shorter than a header")                    \
	X(udp_badlen, "udp.badlen", "UDP datagrams whose length field disagrees with the packet") \
	X(udp_badsum, "udp.badsum", "UDP datagrams with a bad checksum")                      \
	X(udp_noport, "udp.noport", "UDP datagrams for a port nobody bound (ICMP port unreachable)") \
	X(udp_noportbcast, "udp.noportbcast", "broadcast/multicast UDP datagrams nobody wanted") \
	X(udp_fullsock, "udp.fullsock", "UDP datagrams dropped: receive buffer full (SO_RCVBUF)") \
	X(udp_memdrop, "udp.memdrop", "UDP datagrams dropped: sockets hold all the pool may give them (net.inet.udp.recvmbufs)") \
	X(udp_delivered, "udp.delivered", "UDP datagrams queued to sockets")                  \
	X(udp_cross_lcore, "udp.cross_lcore", "UDP datagrams delivered to a socket whose home is another lcore") \
	X(udp_steered, "udp.steered", "reassembled UDP datagrams handed to the home lcore of their socket") \
	X(udp_tx, "udp.tx", "UDP datagrams sent")                                             \
	X(udp_tx_errors, "udp.tx_errors", "UDP datagrams the stack could not send (no route, no buffers)") \
	X(udp_icmp_errors, "udp.icmp_errors", "ICMP errors delivered to the socket they concern") \
	X(ctrl_msgs, "ctrl.msgs", "control messages applied")                                 \
	X(loop_turns, "loop.turns", "turns of the stack loop")                                \
	X(loop_idle_sleeps, "loop.idle_sleeps", "times the loop slept for want of work")         \
	X(loop_busy_ns, "loop.busy_ns", "nanoseconds spent in loop turns that did work (busy % in ffnet top)")

/** One lcore's counters. Cache-aligned so two lcores never share a line. */
struct ffs_counters {
#define FFS_COUNTER_FIELD(field, name, doc) uint64_t field;
	FFS_COUNTERS(FFS_COUNTER_FIELD)
#undef FFS_COUNTER_FIELD
} __attribute__((aligned(64)));

/** Index of each counter in struct order (FFS_CTR_eth_rx, ...), and how many there are. */
enum ffs_counter_index {
#define FFS_COUNTER_INDEX(field, name, doc) FFS_CTR_##field,
	FFS_COUNTERS(FFS_COUNTER_INDEX)
#undef FFS_COUNTER_INDEX
	FFS_COUNTER_COUNT
};

/** Names ("ip.badsum", ...) in struct order; FFS_COUNTER_COUNT of them. */
extern const char *const ffs_counter_names[];
/** One-line descriptions in struct order. */
extern const char *const ffs_counter_docs[];

#endif
