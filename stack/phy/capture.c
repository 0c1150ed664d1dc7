/* The capture tap and its pcapng writer (see capture.h). */
#define _GNU_SOURCE /* POLLRDHUP */
#define ALLOW_EXPERIMENTAL_API /* rte_pcapng is experimental in DPDK 22.11 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>
#include <pcap/pcap.h>
#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_pcapng.h>
#include <rte_pdump.h>
#include <rte_ring.h>
#include <rte_version.h>

#include "stack/lcore/lcore.h"
#include "stack/phy/capture.h"
#include "stack/phy/mbuf.h"

/** Copies waiting for the writer (a power of two; the ring holds one less). */
#define CAPTURE_RING_SIZE 2048
/** The capture pool: what the ring holds plus a burst in the writer's hands and one per lcore. */
#define CAPTURE_POOL_SIZE (CAPTURE_RING_SIZE - 1 + (FFS_MAX_LCORES + 1) * FFS_BURST)
/** How long the idle writer waits for copies before it looks at its reader and the stack again. */
#define IDLE_POLL_MS 10
/** Ethernet header and one VLAN tag: a whole frame is the MTU plus these. */
#define FRAME_OVERHEAD 18

struct ffs_capture {
	struct ffs_stack *st;
	struct rte_mempool *pool;
	struct rte_ring *ring;
	bool filtered;             /**< a filter was given */
	struct bpf_program filter; /**< classic BPF, run by libpcap's bpf_filter */
	uint32_t snaplen;
	int port; /**< index, or -1: every port */
	/** Wall-clock time (ns since the epoch) at TSC base_tsc: the frames' timestamps count from there. */
	uint64_t base_ns, base_tsc, tsc_hz;
	char comment[320];
	/** Copies lost per port (ring or pool full), for the interface statistics at the end. */
	_Atomic uint64_t dropped[FFS_MAX_PORTS];
};

/* libpcap's compiler keeps state in its handle only since 1.8; one compile at a time costs nothing. */
static pthread_mutex_t compile_lock = PTHREAD_MUTEX_INITIALIZER;

/**
 * Compiles a pcap-filter expression for Ethernet frames into prog. false with a message in err:
 * libpcap's own words for a bad expression.
 */
static bool compile_filter(const char *expr, uint32_t snaplen, struct bpf_program *prog, char *err, size_t errlen)
{
	pthread_mutex_lock(&compile_lock);
	pcap_t *dead = pcap_open_dead(DLT_EN10MB, (int)snaplen);
	bool ok = dead && pcap_compile(dead, prog, expr, 1, PCAP_NETMASK_UNKNOWN) == 0;
	if (!dead) {
		snprintf(err, errlen, "out of memory compiling the filter");
	} else if (!ok) {
		const char *why = pcap_geterr(dead);
		static const char noise[] = "can't parse filter expression: ";
		if (strncmp(why, noise, sizeof(noise) - 1) == 0)
			why += sizeof(noise) - 1;
		snprintf(err, errlen, "bad filter '%s': %s", expr, why);
	}
	if (dead)
		pcap_close(dead);
	pthread_mutex_unlock(&compile_lock);
	return ok;
}

/** Bytes of a segmented frame the filter may look at (headers; a load beyond them rejects). */
#define FILTER_WINDOW 256

/** Whether the frame matches the capture's filter: a classic BPF program returns the bytes to keep. */
static bool filter_match(const struct ffs_capture *cap, const struct rte_mbuf *m)
{
	uint8_t window[FILTER_WINDOW];
	const uint8_t *data = rte_pktmbuf_mtod(m, const uint8_t *);
	uint32_t len = rte_pktmbuf_data_len(m);
	if (m->nb_segs > 1) {
		len = RTE_MIN(rte_pktmbuf_pkt_len(m), (uint32_t)FILTER_WINDOW);
		data = rte_pktmbuf_read(m, 0, len, window);
	}
	return bpf_filter(cap->filter.bf_insns, data, rte_pktmbuf_pkt_len(m), len) != 0;
}

/**
 * The wall-clock time of TSC `tsc`, in ns since the epoch. rte_pcapng_copy's own conversion is not
 * used: DPDK 22.11 calibrates it in a constructor that runs before rte_eal_init has measured the TSC
 * (its frequency reads 0 then), and its timestamps land centuries off (measured: year 2251).
 */
static uint64_t wall_ns(const struct ffs_capture *cap, uint64_t tsc)
{
	uint64_t d = tsc - cap->base_tsc;
	return cap->base_ns + d / cap->tsc_hz * 1000000000u + d % cap->tsc_hz * 1000000000u / cap->tsc_hz;
}

/** Offset of the timestamp (high word, then low word) in a pcapng enhanced packet block. */
#define EPB_TIMESTAMP_OFF 12

/** Stamps a copy made by rte_pcapng_copy (its data starts with the block) with time `ns`. */
static void stamp(struct rte_mbuf *copy, uint64_t ns)
{
	uint32_t words[2] = { (uint32_t)(ns >> 32), (uint32_t)ns };
	memcpy(rte_pktmbuf_mtod_offset(copy, uint8_t *, EPB_TIMESTAMP_OFF), words, sizeof(words));
}

/** Whole frames of the largest MTU among the ports. */
static uint32_t default_snaplen(const struct ffs_stack *st)
{
	uint32_t mtu = 1500;
	for (unsigned p = 0; p < st->n_ports; p++)
		if (st->ports[p].mtu > mtu)
			mtu = st->ports[p].mtu;
	return mtu + FRAME_OVERHEAD;
}

static void capture_free(struct ffs_capture *cap)
{
	struct ffs_stack *st = cap->st;
	if (cap->ring) {
		void *m;
		while (rte_ring_sc_dequeue(cap->ring, &m) == 0)
			rte_pktmbuf_free(m);
		rte_ring_free(cap->ring);
	}
	rte_mempool_free(cap->pool);
	if (cap->filtered)
		pcap_freecode(&cap->filter);
	free(cap);
	atomic_store(&st->tap.busy, false);
}

int ffs_capture_open(struct ffs_stack *st, const struct ffs_capture_conf *conf, struct ffs_capture **out, char *err,
		     size_t errlen)
{
	if (conf->port >= (int)st->n_ports) {
		snprintf(err, errlen, "no port%d: the stack has %u port%s (port0%s)", conf->port, st->n_ports,
			 st->n_ports == 1 ? "" : "s", st->n_ports == 1 ? "" : "..");
		return -ENOENT;
	}
	if (conf->snaplen > FFS_CAPTURE_SNAPLEN_MAX) {
		snprintf(err, errlen, "snaplen %u is out of range (1..%d bytes)", conf->snaplen, FFS_CAPTURE_SNAPLEN_MAX);
		return -EINVAL;
	}
	if (atomic_exchange(&st->tap.busy, true)) {
		snprintf(err, errlen, "a capture is already running on this stack (one at a time)");
		return -EBUSY;
	}
	struct ffs_capture *cap = calloc(1, sizeof(*cap));
	if (!cap) {
		atomic_store(&st->tap.busy, false);
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	cap->st = st;
	cap->port = conf->port;
	struct timespec now;
	clock_gettime(CLOCK_REALTIME, &now);
	cap->base_tsc = rte_rdtsc();
	cap->base_ns = (uint64_t)now.tv_sec * 1000000000u + (uint64_t)now.tv_nsec;
	cap->tsc_hz = st->tsc_hz;
	cap->snaplen = conf->snaplen ? conf->snaplen : default_snaplen(st);
	const char *expr = conf->filter && conf->filter[0] ? conf->filter : NULL;
	if (conf->port < 0)
		snprintf(cap->comment, sizeof(cap->comment), "ffnet capture of every port%s%s", expr ? ", filter: " : "",
			 expr ? expr : "");
	else
		snprintf(cap->comment, sizeof(cap->comment), "ffnet capture of port%d%s%s", conf->port,
			 expr ? ", filter: " : "", expr ? expr : "");
	if (expr) {
		if (!compile_filter(expr, cap->snaplen, &cap->filter, err, errlen)) {
			capture_free(cap);
			return -EINVAL;
		}
		cap->filtered = true;
	}
	unsigned seq = atomic_fetch_add(&st->tap.seq, 1);
	char name[RTE_MEMPOOL_NAMESIZE];
	snprintf(name, sizeof(name), "%.12s_cap%u", st->name, seq);
	/* One segment per copy: the frame (up to snaplen), rte_pcapng's block header in the headroom and
	 * its options after the data, sized as dpdk-dumpcap sizes its pool. No per-lcore cache: every
	 * copy returns to the common store, so the pool's count is exact and nothing stays behind. */
	cap->pool = rte_pktmbuf_pool_create(name, CAPTURE_POOL_SIZE, 0, 0,
					    (uint16_t)RTE_MIN(UINT16_MAX, RTE_PKTMBUF_HEADROOM + rte_pcapng_mbuf_size(cap->snaplen)),
					    SOCKET_ID_ANY);
	snprintf(name, sizeof(name), "%.12s_capq%u", st->name, seq);
	cap->ring = cap->pool ? rte_ring_create(name, CAPTURE_RING_SIZE, SOCKET_ID_ANY, RING_F_SC_DEQ) : NULL;
	if (!cap->ring) {
		snprintf(err, errlen, "out of DPDK memory for the capture's %u buffers of %u bytes: %s", CAPTURE_POOL_SIZE,
			 cap->snaplen, rte_strerror(rte_errno));
		capture_free(cap);
		return -ENOMEM;
	}
	for (unsigned p = 0; p < st->n_ports; p++)
		if (conf->port < 0 || (unsigned)conf->port == p)
			atomic_store_explicit(&st->tap.port[p], cap, memory_order_release);
	*out = cap;
	return 0;
}

void ffs_capture_burst(struct ffs_lcore *lc, struct ffs_capture *cap, uint16_t port_index, uint16_t queue,
		       struct rte_mbuf **pkts, uint16_t n, bool tx)
{
	const uint16_t port_id = lc->st->ports[port_index].port_id;
	const enum rte_pcapng_direction dir = tx ? RTE_PCAPNG_DIRECTION_OUT : RTE_PCAPNG_DIRECTION_IN;
	const uint64_t tsc = rte_rdtsc();
	const uint64_t ns = wall_ns(cap, tsc);
	while (n) {
		const uint16_t k = n < FFS_BURST ? n : FFS_BURST;
		struct rte_mbuf *copies[FFS_BURST];
		unsigned c = 0, lost = 0;
		for (uint16_t i = 0; i < k; i++) {
			if (cap->filtered && !filter_match(cap, pkts[i])) {
				lc->ctr.capture_filtered++;
				continue;
			}
			struct rte_mbuf *m = rte_pcapng_copy(port_id, queue, pkts[i], cap->pool, cap->snaplen, tsc, dir);
			if (m) {
				stamp(m, ns);
				copies[c++] = m;
			}
			else
				lost++;
		}
		unsigned queued = c ? rte_ring_mp_enqueue_burst(cap->ring, (void **)copies, c, NULL) : 0;
		if (queued < c) {
			rte_pktmbuf_free_bulk(copies + queued, c - queued);
			lost += c - queued;
		}
		lc->ctr.capture_copied += queued;
		if (lost) {
			lc->ctr.capture_dropped += lost;
			atomic_fetch_add_explicit(&cap->dropped[port_index], lost, memory_order_relaxed);
		}
		pkts += k;
		n = (uint16_t)(n - k);
	}
}

/** Turns the tap off and waits until every lcore has left the bursts that could still hold it. */
static void detach(struct ffs_capture *cap)
{
	struct ffs_stack *st = cap->st;
	for (unsigned p = 0; p < st->n_ports; p++) {
		struct ffs_capture *expected = cap;
		atomic_compare_exchange_strong(&st->tap.port[p], &expected, NULL);
	}
	/* Lcores report a quiescent state between turns (and are offline while asleep or, inline,
	 * outside a turn): after this grace period none is inside a burst that loaded `cap`. */
	ffs_app_synchronize(st);
}

void ffs_capture_close(struct ffs_capture *cap)
{
	detach(cap);
	capture_free(cap);
}

uint32_t ffs_capture_snaplen(const struct ffs_capture *cap) { return cap->snaplen; }

unsigned ffs_capture_queued(const struct ffs_capture *cap) { return rte_ring_count(cap->ring); }

int ffs_capture_pool_in_use(const struct ffs_capture *cap) { return ffs_pool_in_use(cap->pool); }

/** Index of DPDK port `port_id` among the stack's ports, or -1. */
static int port_index(const struct ffs_stack *st, uint16_t port_id)
{
	for (unsigned p = 0; p < st->n_ports; p++)
		if (st->ports[p].port_id == port_id)
			return (int)p;
	return -1;
}

/**
 * What the reader of `fd` did, waiting up to ms: 0 nothing; ESHUTDOWN it ended its side (a socket
 * half-closed, or spoke: a capture's reader only listens), so the stream ends gracefully; ECONNRESET
 * it is gone (closed, or an error on a pipe or file).
 */
static int reader_gone(int fd, bool sock, int ms)
{
	struct pollfd pfd = { .fd = fd, .events = sock ? POLLIN | POLLRDHUP : 0 };
	if (poll(&pfd, 1, ms) <= 0 || pfd.revents == 0)
		return 0;
	return pfd.revents & (POLLHUP | POLLERR | POLLNVAL) ? ECONNRESET : ESHUTDOWN;
}

/** Frames to dequeue next: a burst, or what is left of `count`. */
static unsigned burst_for(uint64_t count, const struct ffs_capture_result *res)
{
	return count && count - res->written < FFS_BURST ? (unsigned)(count - res->written) : FFS_BURST;
}

/**
 * Writes n copies as pcapng blocks and frees them, counting them per port in `written` and in res.
 * false when the write failed (res->end says why).
 */
static bool write_copies(rte_pcapng_t *w, const struct ffs_capture *cap, struct rte_mbuf **pkts, unsigned n,
			 uint64_t *written, struct ffs_capture_result *res)
{
	size_t bytes = 0;
	for (unsigned i = 0; i < n; i++) {
		int p = port_index(cap->st, pkts[i]->port);
		if (p >= 0)
			written[p]++;
		bytes += rte_pktmbuf_pkt_len(pkts[i]);
	}
	ssize_t rc = rte_pcapng_write_packets(w, pkts, (uint16_t)n);
	int e = errno;
	rte_pktmbuf_free_bulk(pkts, n);
	/* A short write (a send timeout on a reader that stopped reading) cuts a block in two: nothing
	 * after it could be read, so the stream ends there. */
	if (rc < 0 || (size_t)rc != bytes) {
		res->end = rc < 0 && e == EPIPE ? EPIPE : ECONNRESET;
		return false;
	}
	res->written += n;
	return true;
}

void ffs_capture_stream(struct ffs_capture *cap, int fd, uint64_t count, const volatile bool *stopping,
			struct ffs_capture_result *res)
{
	struct ffs_stack *st = cap->st;
	memset(res, 0, sizeof(*res));
	/* A reader that goes away makes write fail with EPIPE; the signal that comes with it would end
	 * the whole process (a C program on ff_init need not ignore SIGPIPE). */
	sigset_t pipe_set, old;
	sigemptyset(&pipe_set);
	sigaddset(&pipe_set, SIGPIPE);
	pthread_sigmask(SIG_BLOCK, &pipe_set, &old);

	struct stat sb;
	const bool sock = fstat(fd, &sb) == 0 && S_ISSOCK(sb.st_mode);
	uint64_t written[FFS_MAX_PORTS] = { 0 };
	/* rte_pcapng_close closes its descriptor: it gets a copy, the caller keeps fd. */
	int out = fcntl(fd, F_DUPFD_CLOEXEC, 0);
	struct utsname u;
	char os[200] = "";
	if (uname(&u) == 0)
		snprintf(os, sizeof(os), "%s %s", u.sysname, u.release);
	char app[64];
	snprintf(app, sizeof(app), "ffnet capture (%s)", rte_version());
	errno = 0;
	rte_pcapng_t *w = out >= 0 ? rte_pcapng_fdopen(out, os[0] ? os : NULL, NULL, app, cap->comment) : NULL;
	if (!w) {
		res->end = errno ? errno : EIO;
		if (out >= 0)
			close(out);
		ffs_capture_close(cap);
		goto unblock;
	}
	res->end = ECANCELED;
	/* Another thread sets *stopping: an atomic load, so the hand-over is visible to ThreadSanitizer. */
	while (!stopping || !__atomic_load_n(stopping, __ATOMIC_ACQUIRE)) {
		struct rte_mbuf *pkts[FFS_BURST];
		unsigned n = rte_ring_sc_dequeue_burst(cap->ring, (void **)pkts, burst_for(count, res), NULL);
		if (n == 0) {
			int gone = reader_gone(fd, sock, IDLE_POLL_MS);
			if (gone) {
				res->end = gone;
				break;
			}
			continue;
		}
		if (!write_copies(w, cap, pkts, n, written, res))
			break;
		if (count && res->written >= count) {
			res->end = 0;
			break;
		}
	}
	detach(cap);
	/* A stack that stops, or a reader that asked for the end (Ctrl-C), still gets what the tap
	 * copied before it went off, and the statistics. */
	const bool graceful = res->end == ECANCELED || res->end == ESHUTDOWN;
	while (graceful && !(count && res->written >= count)) {
		struct rte_mbuf *pkts[FFS_BURST];
		unsigned n = rte_ring_sc_dequeue_burst(cap->ring, (void **)pkts, burst_for(count, res), NULL);
		if (n == 0 || !write_copies(w, cap, pkts, n, written, res))
			break;
	}
	for (unsigned p = 0; p < st->n_ports; p++) {
		uint64_t dropped = atomic_load_explicit(&cap->dropped[p], memory_order_relaxed);
		res->dropped += dropped;
		/* The interface statistics close the file as dumpcap's do (tshark and capinfos show them);
		 * received = what the tap copied or lost on the port. */
		if (res->end != EPIPE && res->end != ECONNRESET && (cap->port < 0 || cap->port == (int)p))
			rte_pcapng_write_stats(w, st->ports[p].port_id, NULL, 0, 0, written[p] + dropped, dropped);
	}
	rte_pcapng_close(w);
	capture_free(cap);
unblock:;
	/* A SIGPIPE raised while blocked is pending on this thread: take it before unblocking. */
	const struct timespec now = { 0, 0 };
	while (sigtimedwait(&pipe_set, NULL, &now) > 0)
		;
	pthread_sigmask(SIG_SETMASK, &old, NULL);
}

void ffs_capture_pdump_init(void)
{
	static bool done;
	if (done || rte_eal_process_type() != RTE_PROC_PRIMARY)
		return;
	/* Without a shared configuration (--no-shconf, --in-memory) no secondary can attach: pdump then
	 * has nothing to serve, and its init fails harmlessly. */
	done = rte_pdump_init() == 0;
}
