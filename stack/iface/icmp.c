/*
 * ICMP (RFC 792, RFC 1122 §3.2.2): echo replies (to reassembled requests too: the reply leaves in
 * fragments), the stack's own echo requests (ffnet ping), and rate-limited error messages. Errors
 * that arrive are counted here; their delivery to the socket they concern comes with UDP sockets.
 */
#include <errno.h>
#include <string.h>
#include <rte_byteorder.h>
#include <rte_cycles.h>
#include <rte_ip.h>

#include "stack/iface/iface.h"
#include "stack/wire/checksum.h"
#include "stack/wire/icmp.h"

/** Headroom for the IPv4 and Ethernet headers that output prepends. */
#define ICMP_RESERVE (ETH_HDR_LEN + IPV4_HDR_LEN)

/**
 * Sets the type of the echo message in chained mbuf `m` (header in the first segment) and its
 * checksum, which covers the whole chain (RFC 792).
 */
static void echo_header_chain(struct rte_mbuf *m, uint8_t type)
{
	uint8_t *h = rte_pktmbuf_mtod(m, uint8_t *);
	uint16_t raw;
	h[0] = type;
	h[1] = 0;
	wr_be16(h + 2, 0);
	rte_raw_cksum_mbuf(m, 0, rte_pktmbuf_pkt_len(m), &raw);
	wr_be16(h + 2, csum_fold(rte_be_to_cpu_16(raw)));
}

static void echo_reply(struct ffs_lcore *lc, struct rte_mbuf *m, const struct ipv4_repr *ip, const struct icmp_repr *req)
{
	if (m->nb_segs == 1) {
		struct icmp_repr rep = *req;
		rep.type = ICMP_ECHO_REPLY;
		rep.code = 0;
		icmp_repr_emit(&rep, rte_pktmbuf_mtod(m, uint8_t *), rte_pktmbuf_data_len(m));
	} else {
		echo_header_chain(m, ICMP_ECHO_REPLY); /* a reassembled request */
	}
	m->ol_flags = 0;
	struct ipv4_out o = { .src = ip->dst, .dst = ip->src, .proto = IPV4_PROTO_ICMP, .tos = ip->tos };
	if (ipv4_output(lc, m, &o) == 0)
		lc->ctr.icmp_echo_reply_out++;
}

bool icmp_echo_reply_in(struct ffs_lcore *lc, struct rte_mbuf *m, uint16_t ident, uint16_t seq,
			const struct ffs_ping_result *who)
{
	struct ffs_stack *st = lc->st;
	uint16_t waiter = ident ^ st->ping_ident;
	if (ident != st->ping_ident && (waiter & ~(FFS_MAX_PING_WAITERS - 1)) != 0x8000)
		return false;
	uint32_t bytes = rte_pktmbuf_pkt_len(m) - ICMP_HDR_LEN;
	uint32_t rtt_ns = UINT32_MAX;
	uint64_t sent, scratch;
	const void *stamp = bytes >= sizeof(sent) ? rte_pktmbuf_read(m, ICMP_HDR_LEN, sizeof(sent), &scratch) : NULL;
	if (stamp) {
		memcpy(&sent, stamp, sizeof(sent));
		uint64_t now = rte_rdtsc();
		if (now >= sent) {
			uint64_t ns = (now - sent) * 1000000000ull / st->tsc_hz;
			rtt_ns = ns < UINT32_MAX ? (uint32_t)ns : UINT32_MAX - 1;
		}
	}
	if (ident != st->ping_ident) {
		/* A control thread's request (ffs_stack_ping_wait): claim its waiter, if it still waits for this seq. */
		_Static_assert((FFS_MAX_PING_WAITERS & (FFS_MAX_PING_WAITERS - 1)) == 0, "a power of two");
		unsigned k = waiter & (FFS_MAX_PING_WAITERS - 1);
		uint32_t expect = (uint32_t)seq << 16 | FFS_PING_WAITING;
		if (!atomic_compare_exchange_strong_explicit(&st->ping_waiters[k].word, &expect,
							     (uint32_t)seq << 16 | FFS_PING_FILLING,
							     memory_order_acquire, memory_order_relaxed))
			return false;
		struct ffs_ping_result r = *who;
		r.bytes = (uint16_t)bytes;
		r.seq = seq;
		r.rtt_us = rtt_ns == UINT32_MAX ? UINT32_MAX : rtt_ns / 1000;
		st->ping_waiters[k].result = r;
		atomic_store_explicit(&st->ping_waiters[k].word, (uint32_t)seq << 16 | FFS_PING_DONE, memory_order_release);
		return true;
	}
	struct ffs_event ev = { .type = FFS_EV_PING_REPLY, .token = seq, .bytes = (uint16_t)bytes, .ttl = who->ttl,
				.rtt_ns = rtt_ns };
	ffs_event_post(st, &ev);
	return true;
}

/**
 * Parses a message in one segment, or in a chain (a reassembled datagram: reassembly leaves at least
 * the first 8 payload octets, the ICMP header, in the first segment). For a chain the checksum is
 * summed over every segment and `data`/`data_len` cover only the first segment's part.
 */
static enum wire_result icmp_parse_mbuf(const struct rte_mbuf *m, const struct wire_csum_caps *caps, struct icmp_repr *out)
{
	const uint8_t *p = rte_pktmbuf_mtod(m, const uint8_t *);
	if (m->nb_segs == 1)
		return icmp_repr_parse(p, rte_pktmbuf_data_len(m), caps, out);
	struct wire_csum_caps summed = *caps;
	summed.rx_l4_verified = true;
	enum wire_result r = icmp_repr_parse(p, rte_pktmbuf_data_len(m), &summed, out);
	if (r != WIRE_OK || caps->rx_l4_verified)
		return r;
	uint16_t raw;
	if (rte_raw_cksum_mbuf(m, 0, rte_pktmbuf_pkt_len(m), &raw) != 0 || csum_fold(raw) != 0)
		return WIRE_BAD_CHECKSUM;
	return WIRE_OK;
}

static bool is_icmp_error_type(uint8_t type);

/**
 * The exception path (phy/exception.h): an ICMP error about a packet that was not UDP — the kernel's
 * TCP, say (a Fragmentation Needed for its path MTU) — is the kernel's. True when m (data at the ICMP
 * header) was taken.
 */
static bool error_to_kernel(struct ffs_lcore *lc, struct rte_mbuf *m, const struct ipv4_repr *ip, const struct icmp_repr *icmp)
{
	const struct ffs_port *port = lc->st->exc_any ? route_port_of(lc->st, ip->dst) : NULL;
	if (!port || !port->exc.on || !is_icmp_error_type(icmp->type) || icmp->data_len < IPV4_HDR_LEN ||
	    (icmp->data[0] >> 4) != 4 || icmp->data[9] == IPV4_PROTO_UDP)
		return false;
	rte_pktmbuf_prepend(m, ip->hdr_len);
	ffs_exc_to_kernel(lc, port, m, ETH_TYPE_IPV4);
	return true;
}

void icmp_input(struct ffs_lcore *lc, struct rte_mbuf *m, const struct ipv4_repr *ip, const struct wire_csum_caps *caps)
{
	struct icmp_repr icmp;
	lc->ctr.icmp_rx++;
	enum wire_result r = icmp_parse_mbuf(m, caps, &icmp);
	if (r != WIRE_OK) {
		if (r == WIRE_BAD_CHECKSUM)
			lc->ctr.icmp_badsum++;
		else
			lc->ctr.icmp_tooshort++;
		goto drop;
	}
	if (error_to_kernel(lc, m, ip, &icmp))
		return;
	switch (icmp.type) {
	case ICMP_ECHO_REQUEST:
		/* FreeBSD's net.inet.icmp.bmcastecho=0: broadcast pings are a smurf amplifier. */
		if (!route_is_local(lc->st, ip->dst)) {
			lc->ctr.icmp_bmcastecho++;
			goto drop;
		}
		lc->ctr.icmp_echo_in++;
		echo_reply(lc, m, ip, &icmp);
		return;
	case ICMP_ECHO_REPLY: {
		struct ffs_ping_result who = { .from = ip->src, .ttl = ip->ttl };
		if (icmp_echo_reply_in(lc, m, icmp.ident, icmp.seq, &who))
			lc->ctr.icmp_echo_reply_in++;
		else
			lc->ctr.icmp_echo_unmatched++;
		break;
	}
	case ICMP_DEST_UNREACH:
		lc->ctr.icmp_unreach_in++;
		udp_icmp_error(lc, &icmp);
		break;
	case ICMP_TIME_EXCEEDED:
		lc->ctr.icmp_other_in++;
		udp_icmp_error(lc, &icmp);
		break;
	default:
		lc->ctr.icmp_other_in++;
		break;
	}
drop:
	rte_pktmbuf_free(m);
}

static bool is_icmp_error_type(uint8_t type)
{
	return type != ICMP_ECHO_REQUEST && type != ICMP_ECHO_REPLY && type != 13 && type != 14 && type != 17 && type != 18;
}

bool icmp_rate_limited(struct ffs_lcore *lc, struct ffs_ratelimit *rl, int64_t lim)
{
	if (lim == 0)
		return false;
	if (lc->now - rl->window_start >= lc->st->tsc_hz) {
		rl->window_start = lc->now;
		rl->sent = 0;
	}
	return rl->sent++ >= (uint64_t)lim;
}

void icmp_send_error(struct ffs_lcore *lc, struct rte_mbuf *orig, const struct ipv4_repr *ip, uint8_t type,
		     uint8_t code, uint16_t next_mtu)
{
	const uint8_t *quoted = rte_pktmbuf_mtod(orig, const uint8_t *);
	/* RFC 1122 §3.2.2: no error about an ICMP error, a non-initial fragment, or a non-unicast source. */
	if (ip->frag_offset != 0 || ipv4_is_multicast(ip->src) || ip->src == 0 || ip->src == 0xffffffffu)
		return;
	if (ip->proto == IPV4_PROTO_ICMP && (ip->payload_len < 1 || is_icmp_error_type(quoted[ip->hdr_len])))
		return;
	if (icmp_rate_limited(lc, &lc->icmp_lim, ffs_sysctl(lc->st, FFS_SYSCTL_ICMP_LIM))) {
		lc->ctr.icmp_ratelimited++;
		return;
	}
	/* RFC 792: quote the internet header plus the first 64 bits of the original datagram. */
	size_t quote = ip->hdr_len + (ip->payload_len < 8 ? ip->payload_len : 8);
	struct rte_mbuf *m = rte_pktmbuf_alloc(lc->st->pool);
	if (!m)
		return;
	uint8_t *p = (uint8_t *)rte_pktmbuf_append(m, ICMP_HDR_LEN + quote);
	if (!p) {
		rte_pktmbuf_free(m);
		return;
	}
	memcpy(p + ICMP_HDR_LEN, quoted, quote);
	struct icmp_repr e = { .type = type, .code = code, .next_mtu = next_mtu, .data = p + ICMP_HDR_LEN, .data_len = quote };
	icmp_repr_emit(&e, p, ICMP_HDR_LEN + quote);
	struct ipv4_out o = { .src = route_is_local(lc->st, ip->dst) ? ip->dst : 0, .dst = ip->src, .proto = IPV4_PROTO_ICMP };
	if (ipv4_output(lc, m, &o) == 0)
		lc->ctr.icmp_errors_out++;
}

struct rte_mbuf *icmp_echo_build(struct ffs_lcore *lc, uint16_t ident, uint16_t seq, uint16_t payload_len)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(lc->st->pool);
	if (!m)
		return NULL;
	/* A message longer than a segment is chained; output sends it in fragments above the MTU. */
	uint32_t total = ICMP_HDR_LEN + (uint32_t)payload_len;
	for (uint32_t off = 0; off < total;) {
		struct rte_mbuf *last = rte_pktmbuf_lastseg(m);
		uint32_t n = RTE_MIN((uint32_t)rte_pktmbuf_tailroom(last), total - off);
		if (n == 0) {
			struct rte_mbuf *next = rte_pktmbuf_alloc(lc->st->pool);
			if (!next || rte_pktmbuf_chain(m, next) != 0) {
				rte_pktmbuf_free(next);
				rte_pktmbuf_free(m);
				return NULL;
			}
			continue;
		}
		uint8_t *p = (uint8_t *)rte_pktmbuf_append(m, (uint16_t)n);
		for (uint32_t i = 0; i < n; i++) {
			uint32_t k = off + i; /* offset in the message; the header's bytes are written below */
			p[i] = k < ICMP_HDR_LEN ? 0 : (uint8_t)(0x10 + (k - ICMP_HDR_LEN)); /* iputils ping's pattern */
		}
		off += n;
	}
	/* The first segment holds the header and the timestamp (a fresh mbuf has ~2 KB of room). */
	uint8_t *h = rte_pktmbuf_mtod(m, uint8_t *);
	wr_be16(h + 4, ident);
	wr_be16(h + 6, seq);
	if (payload_len >= sizeof(uint64_t)) {
		uint64_t now = rte_rdtsc();
		memcpy(h + ICMP_HDR_LEN, &now, sizeof(now));
	}
	return m;
}

int icmp_send_echo(struct ffs_lcore *lc, uint32_t dst, uint16_t ident, uint16_t seq, uint16_t payload_len, uint8_t ttl)
{
	struct rte_mbuf *m = icmp_echo_build(lc, ident, seq, payload_len);
	if (!m)
		return -ENOBUFS;
	echo_header_chain(m, ICMP_ECHO_REQUEST);
	struct ipv4_out o = { .dst = dst, .proto = IPV4_PROTO_ICMP, .ttl = ttl };
	int rc = ipv4_output(lc, m, &o);
	if (rc == 0)
		lc->ctr.icmp_echo_out++;
	return rc;
}
