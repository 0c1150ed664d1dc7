/*
 * The capture tap and its pcapng writer (stack/phy/capture.c) on a running inline stack whose one
 * port is a net_ring vdev: the test sends echo requests into the port, turns the loop (which copies
 * each request as received and each echo reply as sent), and reads the pcapng stream the writer
 * thread produces on a socket pair or a pipe, parsing its blocks.
 *
 * Cases: received and sent frames arrive in order with their direction, bytes, interface and
 * wall-clock time; the count ends the stream; a filter passes only what it matches and counts the
 * rest; snaplen truncates; a bad filter is one clear error; one capture at a time; a full queue drops
 * copies (never frames) and counts them; a reader that closes ends the capture (no SIGPIPE ends the
 * process); a stack stopping, or a reader that half-closes, ends it after writing what was copied
 * before. After each, the tap is off, the capture's pool is gone and the packet pool is back at its
 * baseline.
 */
#define ALLOW_EXPERIMENTAL_API
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <sys/socket.h>
#include <unistd.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>

#include "stack/iface/iface.h"
#include "stack/lcore/lcore.h"
#include "stack/phy/capture.h"
#include "stack/wire/checksum.h"
#include "stack/wire/icmp.h"
#include "stack/wire/ipv4.h"
#include "test/stack/harness.h"
#include "test/stack/stack_env.h"

#define OUR_ADDR 0x0a440001u  /* 10.68.0.1, the port's address */
#define PEER_ADDR 0x0a440002u /* 10.68.0.2 (static ARP) */
#define ECHO_DATA 40
#define MAX_FRAMES 64
#define PCAPNG_SHB 0x0A0D0D0Au
#define PCAPNG_IDB 1u
#define PCAPNG_ISB 5u
#define PCAPNG_EPB 6u

static const struct eth_addr PEER_MAC = { { 0x02, 0, 0, 0, 0x44, 0x02 } };

static struct ffs_stack *st;
static struct ffs_lcore *lc;

static void setup(void)
{
	st = test_ring_stack_start("capture_test", "128", OUR_ADDR, 0xffffff00u);
	lc = st->lcores[0];
	test_ring_peer(st, "capture_test", PEER_ADDR, &PEER_MAC);
	/* What the stack sends on its own (the gratuitous ARP of the first turns, the MLD reports'
	 * retransmission, router solicitations): out of the way before any capture counts frames. */
	test_port_settle(st, 1100);
}

/** Echo request `seq` from the peer, as a frame: its bytes in out, its length returned. */
static size_t echo_request(uint16_t seq, uint8_t *out)
{
	uint8_t data[ECHO_DATA];
	for (unsigned i = 0; i < ECHO_DATA; i++)
		data[i] = (uint8_t)(seq * 31 + i);
	struct eth_repr eth = { .dst = st->ports[0].mac, .src = PEER_MAC, .ethertype = ETH_TYPE_IPV4 };
	size_t icmp_len = ICMP_HDR_LEN + ECHO_DATA;
	struct ipv4_repr ip = { .src = PEER_ADDR, .dst = OUR_ADDR, .proto = IPV4_PROTO_ICMP, .ttl = 64, .id = seq,
				.hdr_len = IPV4_HDR_LEN, .payload_len = (uint16_t)icmp_len };
	struct icmp_repr icmp = { .type = ICMP_ECHO_REQUEST, .ident = 0x4444, .seq = seq, .data = data, .data_len = ECHO_DATA };
	eth_repr_emit(&eth, out, ETH_HDR_LEN);
	ipv4_repr_emit(&ip, out + ETH_HDR_LEN, IPV4_HDR_LEN, &WIRE_CSUM_SOFTWARE);
	icmp_repr_emit(&icmp, out + ETH_HDR_LEN + IPV4_HDR_LEN, icmp_len);
	return ETH_HDR_LEN + IPV4_HDR_LEN + icmp_len;
}

/**
 * Sends echo requests first..first+n-1 into the port and turns the loop once: the stack receives
 * them and answers. Reads the replies back off the port so no later turn sees them. Returns how
 * many replies came.
 */
static unsigned exchange(uint16_t first, unsigned n)
{
	struct rte_mbuf *pkts[MAX_FRAMES];
	CHECK(n <= FFS_BURST);
	for (unsigned i = 0; i < n; i++) {
		pkts[i] = rte_pktmbuf_alloc(st->pool);
		CHECK(pkts[i] != NULL);
		uint8_t *p = (uint8_t *)rte_pktmbuf_append(pkts[i], ETH_HDR_LEN + IPV4_HDR_LEN + ICMP_HDR_LEN + ECHO_DATA);
		echo_request((uint16_t)(first + i), p);
	}
	CHECK_EQ_INT(rte_eth_tx_burst(st->ports[0].port_id, 0, pkts, (uint16_t)n), n);
	ffs_stack_poll(st);
	return test_port_drain(lc, NULL, 0);
}

struct writer {
	pthread_t thread;
	struct ffs_capture *cap;
	int fd;
	uint64_t count;
	volatile bool stopping;
	struct ffs_capture_result res;
};

static void *writer_main(void *arg)
{
	struct writer *w = arg;
	ffs_capture_stream(w->cap, w->fd, w->count, &w->stopping, &w->res);
	close(w->fd);
	return NULL;
}

/** Opens a capture of `conf` for w (at most `count` frames, 0: no limit) to be streamed to a socket
 *  pair; returns the reading end. start_writer starts the streaming. */
static int open_capture(struct writer *w, const struct ffs_capture_conf *conf, uint64_t count)
{
	int sv[2];
	CHECK_EQ_INT(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
	char err[256] = "";
	memset(w, 0, sizeof(*w));
	int rc = ffs_capture_open(st, conf, &w->cap, err, sizeof(err));
	if (rc != 0)
		FAIL("ffs_capture_open: %d %s", rc, err);
	w->fd = sv[1];
	w->count = count;
	return sv[0];
}

static void start_writer(struct writer *w)
{
	CHECK_EQ_INT(pthread_create(&w->thread, NULL, writer_main, w), 0);
}

/** Opens a capture of every port with `filter` and starts streaming it (at most `count` frames) to
 *  a socket pair; returns the reading end. */
static int start_capture(struct writer *w, const char *filter, uint64_t count)
{
	struct ffs_capture_conf conf = { .port = -1, .filter = filter };
	int fd = open_capture(w, &conf, count);
	start_writer(w);
	return fd;
}

/** One frame of a stream: its direction (1 in, 2 out) and bytes. */
struct frame {
	uint32_t iface, flags, len, orig_len;
	uint64_t ts_ns; /**< nanoseconds since the epoch (the interface's if_tsresol is 9) */
	uint8_t data[256];
};

struct stream {
	unsigned n_idb, n_isb, n_frames;
	uint64_t isb_drops;
	struct frame frames[MAX_FRAMES];
};

static uint32_t rd32(const uint8_t *p)
{
	uint32_t v;
	memcpy(&v, p, 4);
	return v;
}

/**
 * Reads fd to its end, waits for w's thread (its result then in w->res) and parses the pcapng blocks
 * (this host's byte order, as written).
 */
static void read_stream(int fd, struct writer *w, struct stream *s)
{
	static uint8_t buf[1 << 20];
	size_t len = 0;
	ssize_t got;
	while ((got = read(fd, buf + len, sizeof(buf) - len)) > 0)
		len += (size_t)got;
	close(fd);
	pthread_join(w->thread, NULL);
	memset(s, 0, sizeof(*s));
	CHECK(len >= 28);
	CHECK_EQ_INT(rd32(buf), PCAPNG_SHB);
	for (size_t off = 0; off < len;) {
		CHECK(len - off >= 12);
		uint32_t type = rd32(buf + off), blen = rd32(buf + off + 4);
		CHECK(blen >= 12 && blen % 4 == 0 && blen <= len - off);
		CHECK_EQ_INT(rd32(buf + off + blen - 4), blen);
		const uint8_t *b = buf + off;
		if (type == PCAPNG_IDB)
			s->n_idb++;
		if (type == PCAPNG_EPB) {
			CHECK(s->n_frames < MAX_FRAMES);
			struct frame *f = &s->frames[s->n_frames++];
			f->iface = rd32(b + 8);
			f->ts_ns = (uint64_t)rd32(b + 12) << 32 | rd32(b + 16);
			f->len = rd32(b + 20);
			f->orig_len = rd32(b + 24);
			CHECK(f->len <= sizeof(f->data));
			memcpy(f->data, b + 28, f->len);
			/* Options: the first is the flags word (RFC draft-tuexen-opsawg-pcapng epb_flags). */
			const uint8_t *opt = b + 28 + ((f->len + 3) & ~3u);
			if ((rd32(opt) & 0xffff) == 2)
				f->flags = rd32(opt + 4);
		}
		if (type == PCAPNG_ISB) {
			s->n_isb++;
			/* isb_ifdrop (option 5), 8 bytes */
			for (const uint8_t *opt = b + 20; opt + 4 <= b + blen - 4;) {
				uint16_t code = (uint16_t)(rd32(opt) & 0xffff), olen = (uint16_t)(rd32(opt) >> 16);
				if (code == 0)
					break;
				if (code == 5)
					memcpy(&s->isb_drops, opt + 4, 8);
				opt += 4 + ((olen + 3u) & ~3u);
			}
		}
		off += blen;
	}
}

/** After a capture: the tap is off, another may open, and the packet pool is at `base`. */
static void check_closed(int base)
{
	CHECK(atomic_load(&st->tap.port[0]) == NULL);
	CHECK(!atomic_load(&st->tap.busy));
	CHECK_EQ_INT(test_pool_settles_at(st, base), base);
}

TEST(copies_received_and_sent_frames_in_order)
{
	int base = ffs_stack_mempool_in_use(st);
	struct writer w;
	int fd = start_capture(&w, NULL, 8);
	struct ffs_counters before = lc->ctr;
	CHECK_EQ_INT(exchange(1, 4), 4);
	struct stream s;
	read_stream(fd, &w, &s);
	CHECK_EQ_INT(w.res.end, 0);
	CHECK_EQ_INT(w.res.written, 8);
	CHECK_EQ_INT(s.n_idb, rte_eth_dev_count_avail());
	CHECK_EQ_INT(s.n_frames, 8);
	CHECK_EQ_INT(s.n_isb, 1);
	CHECK_EQ_INT(lc->ctr.capture_copied - before.capture_copied, 8);
	/* Timestamps are wall-clock time (what tshark and capinfos show), in order. */
	struct timespec now;
	clock_gettime(CLOCK_REALTIME, &now);
	const uint64_t now_ns = (uint64_t)now.tv_sec * 1000000000u + (uint64_t)now.tv_nsec;
	for (unsigned i = 0; i < 8; i++) {
		CHECK(s.frames[i].ts_ns <= now_ns && now_ns - s.frames[i].ts_ns < 5000000000u);
		CHECK(i == 0 || s.frames[i].ts_ns >= s.frames[i - 1].ts_ns);
	}
	for (unsigned i = 0; i < 4; i++) {
		uint8_t want[128];
		size_t len = echo_request((uint16_t)(1 + i), want);
		const struct frame *in = &s.frames[i], *out = &s.frames[4 + i];
		CHECK_EQ_INT(in->flags & 3, 1);
		CHECK_EQ_INT(in->iface, 0);
		CHECK_EQ_INT(in->len, len);
		CHECK_EQ_INT(in->orig_len, len);
		CHECK_MEM(in->data, want, len);
		/* The reply: to the peer's MAC and address, an echo reply with the request's data. */
		CHECK_EQ_INT(out->flags & 3, 2);
		CHECK_EQ_INT(out->len, len);
		CHECK_MEM(out->data, PEER_MAC.b, 6);
		CHECK_EQ_INT(rd_be32(out->data + ETH_HDR_LEN + 16), PEER_ADDR);
		CHECK_EQ_INT(out->data[ETH_HDR_LEN + IPV4_HDR_LEN], ICMP_ECHO_REPLY);
		CHECK_MEM(out->data + len - ECHO_DATA, want + len - ECHO_DATA, ECHO_DATA);
	}
	/* The tap is off: later traffic is not copied. */
	before = lc->ctr;
	CHECK_EQ_INT(exchange(5, 4), 4);
	CHECK_EQ_INT(lc->ctr.capture_copied - before.capture_copied, 0);
	check_closed(base);
}

TEST(count_ends_the_stream_midway)
{
	int base = ffs_stack_mempool_in_use(st);
	struct writer w;
	int fd = start_capture(&w, NULL, 3);
	CHECK_EQ_INT(exchange(10, 8), 8);
	struct stream s;
	read_stream(fd, &w, &s);
	CHECK_EQ_INT(w.res.end, 0);
	CHECK_EQ_INT(s.n_frames, 3);
	for (unsigned i = 0; i < 3; i++)
		CHECK_EQ_INT(s.frames[i].flags & 3, 1);
	check_closed(base);
}

TEST(filter_passes_only_what_it_matches)
{
	int base = ffs_stack_mempool_in_use(st);
	struct writer w;
	int fd = start_capture(&w, "icmp[icmptype] == icmp-echoreply and dst host 10.68.0.2", 5);
	struct ffs_counters before = lc->ctr;
	CHECK_EQ_INT(exchange(20, 5), 5);
	struct stream s;
	read_stream(fd, &w, &s);
	CHECK_EQ_INT(s.n_frames, 5);
	for (unsigned i = 0; i < 5; i++) {
		CHECK_EQ_INT(s.frames[i].flags & 3, 2);
		CHECK_EQ_INT(s.frames[i].data[ETH_HDR_LEN + IPV4_HDR_LEN], ICMP_ECHO_REPLY);
	}
	CHECK_EQ_INT(lc->ctr.capture_filtered - before.capture_filtered, 5);
	CHECK_EQ_INT(lc->ctr.capture_copied - before.capture_copied, 5);
	check_closed(base);
}

TEST(snaplen_truncates_copies)
{
	struct writer w;
	struct ffs_capture_conf conf = { .port = 0, .snaplen = 34 };
	int fd = open_capture(&w, &conf, 2);
	start_writer(&w);
	CHECK_EQ_INT(exchange(30, 1), 1);
	struct stream s;
	read_stream(fd, &w, &s);
	CHECK_EQ_INT(s.n_frames, 2);
	CHECK_EQ_INT(s.frames[0].len, 34);
	CHECK_EQ_INT(s.frames[0].orig_len, ETH_HDR_LEN + IPV4_HDR_LEN + ICMP_HDR_LEN + ECHO_DATA);
}

TEST(bad_filter_is_one_clear_error)
{
	char err[256] = "";
	struct ffs_capture *cap = NULL;
	struct ffs_capture_conf conf = { .port = -1, .filter = "udp prot 9" };
	CHECK_EQ_INT(ffs_capture_open(st, &conf, &cap, err, sizeof(err)), -EINVAL);
	CHECK_EQ_STR(err, "bad filter 'udp prot 9': syntax error");
	conf.filter = NULL;
	conf.port = 1;
	CHECK_EQ_INT(ffs_capture_open(st, &conf, &cap, err, sizeof(err)), -ENOENT);
	CHECK_EQ_STR(err, "no port1: the stack has 1 port (port0)");
	conf.port = 0;
	conf.snaplen = FFS_CAPTURE_SNAPLEN_MAX + 1;
	CHECK_EQ_INT(ffs_capture_open(st, &conf, &cap, err, sizeof(err)), -EINVAL);
	CHECK(!atomic_load(&st->tap.busy));
}

TEST(one_capture_at_a_time)
{
	int base = ffs_stack_mempool_in_use(st);
	char err[256] = "";
	struct ffs_capture *a = NULL, *b = NULL;
	struct ffs_capture_conf conf = { .port = -1 };
	CHECK_EQ_INT(ffs_capture_open(st, &conf, &a, err, sizeof(err)), 0);
	CHECK_EQ_INT(ffs_capture_open(st, &conf, &b, err, sizeof(err)), -EBUSY);
	CHECK_EQ_STR(err, "a capture is already running on this stack (one at a time)");
	/* Copies still queued when a capture closes go back to its pool with it. */
	CHECK_EQ_INT(exchange(40, 3), 3);
	CHECK_EQ_INT(ffs_capture_queued(a), 6);
	CHECK_EQ_INT(ffs_capture_pool_in_use(a), 6);
	ffs_capture_close(a);
	check_closed(base);
}

TEST(full_queue_drops_copies_and_counts_them)
{
	int base = ffs_stack_mempool_in_use(st);
	char err[256] = "";
	struct ffs_capture *cap = NULL;
	struct ffs_capture_conf conf = { .port = -1 };
	CHECK_EQ_INT(ffs_capture_open(st, &conf, &cap, err, sizeof(err)), 0);
	struct ffs_counters before = lc->ctr;
	/* Nobody drains the capture: 70 bursts of 32 echoes make 4480 copies for a queue of 2047. */
	for (unsigned i = 0; i < 70; i++)
		CHECK_EQ_INT(exchange((uint16_t)(200 + 32 * i), 32), 32);
	CHECK_EQ_INT(ffs_capture_queued(cap), 2047);
	CHECK_EQ_INT(lc->ctr.capture_copied - before.capture_copied, 2047);
	CHECK_EQ_INT(lc->ctr.capture_dropped - before.capture_dropped, 4480 - 2047);
	/* The frames themselves went on: every request was answered (exchange checked the replies). */
	CHECK_EQ_INT(lc->ctr.icmp_echo_reply_out - before.icmp_echo_reply_out, 2240);
	ffs_capture_close(cap);
	check_closed(base);
}

TEST(reader_gone_ends_the_capture_without_sigpipe)
{
	int base = ffs_stack_mempool_in_use(st);
	/* A pipe whose reader is gone: the first write fails with EPIPE, and SIGPIPE (default: end the
	 * process) must not reach it. */
	int p[2];
	CHECK_EQ_INT(pipe(p), 0);
	close(p[0]);
	struct writer w;
	memset(&w, 0, sizeof(w));
	char err[256];
	struct ffs_capture_conf conf = { .port = -1 };
	CHECK_EQ_INT(ffs_capture_open(st, &conf, &w.cap, err, sizeof(err)), 0);
	CHECK_EQ_INT(exchange(50, 2), 2);
	w.fd = p[1];
	CHECK_EQ_INT(pthread_create(&w.thread, NULL, writer_main, &w), 0);
	pthread_join(w.thread, NULL);
	CHECK_EQ_INT(w.res.end, EPIPE);
	CHECK_EQ_INT(w.res.written, 0);
	check_closed(base);

	/* A socket reader that closes mid-capture, with frames still coming. */
	int fd = start_capture(&w, NULL, 0);
	CHECK_EQ_INT(exchange(60, 2), 2);
	close(fd);
	for (int i = 0; i < 20; i++) {
		exchange((uint16_t)(70 + i), 2);
		rte_delay_us_sleep(2000);
	}
	pthread_join(w.thread, NULL);
	CHECK(w.res.end == EPIPE || w.res.end == ECONNRESET);
	check_closed(base);
}

TEST(stopping_ends_the_stream)
{
	int base = ffs_stack_mempool_in_use(st);
	struct writer w;
	int fd = start_capture(&w, NULL, 0);
	CHECK_EQ_INT(exchange(100, 2), 2);
	rte_delay_us_sleep(20000);
	__atomic_store_n(&w.stopping, true, __ATOMIC_RELEASE);
	struct stream s;
	read_stream(fd, &w, &s);
	CHECK_EQ_INT(w.res.end, ECANCELED);
	CHECK_EQ_INT(s.n_frames, 4);
	CHECK_EQ_INT(s.n_isb, 1);
	CHECK_EQ_INT(s.isb_drops, 0);
	check_closed(base);
}

/** Opens a capture of every port, copies `n` echo exchanges into it, and starts streaming it (no
 *  count) to a socket pair, stopping already set when `stopped`; returns the reading end. */
static int queued_capture(struct writer *w, unsigned n, bool stopped)
{
	struct ffs_capture_conf conf = { .port = -1 };
	int fd = open_capture(w, &conf, 0);
	CHECK_EQ_INT(exchange(300, n), n);
	w->stopping = stopped;
	start_writer(w);
	return fd;
}

TEST(stopping_still_writes_what_was_copied)
{
	int base = ffs_stack_mempool_in_use(st);
	struct writer w;
	int fd = queued_capture(&w, 3, true);
	struct stream s;
	read_stream(fd, &w, &s);
	CHECK_EQ_INT(w.res.end, ECANCELED);
	CHECK_EQ_INT(s.n_frames, 6);
	CHECK_EQ_INT(s.n_isb, 1);
	check_closed(base);
}

TEST(half_close_ends_the_stream_with_what_was_copied)
{
	int base = ffs_stack_mempool_in_use(st);
	struct writer w;
	int fd = queued_capture(&w, 2, false);
	/* What Ctrl-C does in the tool: no more requests, but it still reads. */
	CHECK_EQ_INT(shutdown(fd, SHUT_WR), 0);
	struct stream s;
	read_stream(fd, &w, &s);
	CHECK_EQ_INT(w.res.end, ESHUTDOWN);
	CHECK_EQ_INT(s.n_frames, 4);
	CHECK_EQ_INT(s.n_isb, 1);
	check_closed(base);
}

int main(int argc, char **argv)
{
	setup();
	int rc = test__main(argc, argv, __FILE__);
	return test_ring_stack_stop(st, rc);
}
