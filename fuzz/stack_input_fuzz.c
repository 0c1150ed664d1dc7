/*
 * libFuzzer harness for the stack's receive path: arbitrary frames handed to Ethernet input of a
 * running inline stack, as a port's RX burst would hand them.
 *
 * The stack has one net_ring port (what it transmits comes back on the port's RX queue, where the
 * harness reads and frees it) addressed as the "stack" end of test/fixtures/veth.hex: 10.99.0.2/24,
 * MAC 02:00:00:99:00:02, so captured frames reach it unchanged. UDP sockets wait on it: unicast
 * (0.0.0.0:7 and 10.99.0.2:9), broadcast (0.0.0.0:67 with SO_BROADCAST), multicast (two
 * SO_REUSEADDR sockets on 0.0.0.0:5000 in 239.1.2.3, one source-specific member of 232.1.1.1 on
 * 5001) and connected (5353 → 10.99.0.1:53, which takes ICMP errors as ECONNREFUSED).
 *
 * Input format: records, each a 2-byte big-endian header and a frame. The header's low 15 bits are
 * the frame's length (the rest of the input when it is longer); its top bit advances the lcore's
 * clock by one second and runs the lcore's timers before the frame (ffs_lcore_timers: reassembly
 * expiry, ARP and ND, IGMP and MLD, router lifetimes).
 * fuzz/make-seeds.mjs writes seeds in this format.
 *
 * Each frame is copied into its own mbuf from a pool of the harness's (so the stack's own
 * allocations never reuse it) with the tailroom after the frame poisoned for ASan: reading a byte
 * past the frame is reported, as a read past a heap buffer would be.
 *
 * After each input the harness lets the stack finish (loopback queue, TX), expires every timer
 * (five minutes on, then ARP's retries second by second), drains the sockets and the port, and checks that both pools are back where they
 * started: every mbuf the input made the stack take is freed or accounted for. State that outlives
 * an input (neighbours, addresses a router advertisement configured) can matter to a later one: a
 * finding that does not reproduce alone reproduces behind the seed that made that state (as
 * fuzz/regressions/ipv6-frag-from-own-link-local-expiry-looped-back.bin starts with an advertisement).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>
#include <sanitizer/asan_interface.h>

#include "stack/iface/iface.h"
#include "stack/lcore/lcore.h"
#include "stack/sock/sock.h"
#include "test/stack/stack_env.h"

#define OUR_ADDR 0x0a630002u  /* 10.99.0.2 */
#define PEER_ADDR 0x0a630001u /* 10.99.0.1 */
#define GROUP 0xef010203u     /* 239.1.2.3 */
#define SSM_GROUP 0xe8010101u /* 232.1.1.1 */
#define INPUT_POOL 1023
#define MAX_SOCKS 8
/* Long enough for every timer: reassembly (30 s, IPv6 60 s), IGMP older-querier-present (260 s with
 * default robustness and interval). ARP and ND give up on a next hop (freeing what it held) after
 * maxtries (5, 3) retransmissions a second apart, so they are stepped second by second after it. */
#define EXPIRE_ALL_S 300
#define ARP_GIVE_UP_S 8

static const struct eth_addr OUR_MAC = { { 0x02, 0x00, 0x00, 0x99, 0x00, 0x02 } };

static struct ffs_stack *st;
static struct ffs_lcore *lc;
static struct ffs_port *port;
static struct rte_mempool *input_pool;
static struct ffs_sock *socks[MAX_SOCKS];
static unsigned n_socks;
static int baseline;
/* The harness's clock runs ahead of the TSC by this much (timers are expired by moving it on). */
static uint64_t clock_offset;

static void die(const char *what, int rc)
{
	fprintf(stderr, "stack_input_fuzz: %s: %s\n", what, rc < 0 ? strerror(-rc) : "failed");
	exit(2);
}

static struct ffs_sock *sock(struct ffs_app *app, uint32_t addr, uint16_t port_no, bool reuse)
{
	struct ffs_sock *so;
	int rc = ffs_sock_open(st, app, &so);
	if (rc < 0)
		die("socket", rc);
	so->reuseaddr = reuse;
	so->broadcast = true;
	so->nonblock = true;
	if ((rc = ffs_sock_bind(st, so, addr, port_no)) < 0)
		die("bind", rc);
	socks[n_socks++] = so;
	return so;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	st = test_ring_stack_start("stack_input_fuzz", "256", OUR_ADDR, 0xffffff00u);
	lc = st->lcores[0];
	port = &st->ports[0];
	port->mac = OUR_MAC;
	input_pool = rte_pktmbuf_pool_create("fuzz_input", INPUT_POOL, 0, 0, RTE_MBUF_DEFAULT_BUF_SIZE,
					     SOCKET_ID_ANY);
	if (!input_pool)
		die("input pool", -rte_errno);

	struct ffs_app *app = ffs_app_new(st);
	if (!app)
		die("application context", -ENOMEM);
	sock(app, 0, 7, false);
	sock(app, OUR_ADDR, 9, false);
	sock(app, 0, 67, false);
	int rc;
	for (int i = 0; i < 2; i++)
		if ((rc = ffs_sock_join(st, sock(app, 0, 5000, true), GROUP, OUR_ADDR, 0)) < 0)
			die("join", rc);
	if ((rc = ffs_sock_join(st, sock(app, 0, 5001, false), SSM_GROUP, OUR_ADDR, PEER_ADDR)) < 0)
		die("source-specific join", rc);
	if ((rc = ffs_sock_connect(st, sock(app, 0, 5353, false), PEER_ADDR, 53)) < 0)
		die("connect", rc);

	/* The joins' reports and their retransmissions go out and are freed before the baseline. */
	lc->now = rte_rdtsc();
	for (int i = 0; i < 4; i++) {
		clock_offset += (uint64_t)EXPIRE_ALL_S * st->tsc_hz;
		lc->now = rte_rdtsc() + clock_offset;
		igmp_tick(lc);
		ffs_tx_flush_all(lc);
		struct rte_mbuf *pkts[FFS_BURST];
		unsigned got;
		while ((got = rte_eth_rx_burst(port->port_id, 0, pkts, FFS_BURST)) > 0)
			rte_pktmbuf_free_bulk(pkts, got);
	}
	baseline = ffs_stack_mempool_in_use(st);
	return 0;
}

static void run_timers(uint64_t seconds)
{
	clock_offset += seconds * st->tsc_hz;
	lc->now = rte_rdtsc() + clock_offset;
	ffs_lcore_timers(lc);
}

/** Lets the stack finish what the input or a timer started: socket wake-ups, the loopback queue
 *  (a turn delivers it; what that answers goes round once more), TX. */
static void settle(void)
{
	udp_signal_flush(lc);
	test_port_drain(lc, NULL, 0);
	for (int i = 0; i < 2; i++) {
		ffs_lcore_turn(lc);
		test_port_drain(lc, NULL, 0);
	}
}

static void drain_sockets(void)
{
	static uint8_t buf[65536];
	struct iovec iov = { buf, sizeof(buf) };
	for (unsigned i = 0; i < n_socks; i++) {
		uint32_t src, dst;
		uint16_t sport;
		bool truncated;
		/* A pending error (ECONNREFUSED, EMSGSIZE) is reported once, then the datagrams behind it. */
		unsigned n = 0;
		while (ffs_sock_recvv(st, socks[i], &iov, 1, &src, &sport, &dst, &truncated, false) != -EAGAIN)
			if (++n > FFS_SOCK_RX_RING + 1) {
				fprintf(stderr, "stack_input_fuzz: socket %u never empties\n", i);
				abort();
			}
	}
}

static void inject(const uint8_t *frame, size_t len)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(input_pool);
	if (!m)
		die("input mbuf (an earlier frame was never freed)", -ENOMEM);
	ASAN_UNPOISON_MEMORY_REGION(m->buf_addr, m->buf_len);
	char *p = rte_pktmbuf_append(m, (uint16_t)len);
	memcpy(p, frame, len);
	ASAN_POISON_MEMORY_REGION(p + len, rte_pktmbuf_tailroom(m));
	eth_input(lc, port, m);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const size_t max_frame = RTE_MBUF_DEFAULT_DATAROOM;
	lc->now = rte_rdtsc() + clock_offset;
	while (size >= 2) {
		unsigned hdr = (unsigned)data[0] << 8 | data[1];
		size_t len = hdr & 0x7fff;
		data += 2;
		size -= 2;
		if (len > size)
			len = size;
		if (hdr & 0x8000)
			run_timers(1);
		if (len <= max_frame)
			inject(data, len);
		data += len;
		size -= len;
	}

	settle();
	/* An expiring reassembly sends time exceeded, which may wait for ARP or ND (their timers come
	 * last) or, to an address of ours, go round the loopback queue (the turns of settle). */
	run_timers(EXPIRE_ALL_S);
	settle();
	for (int i = 0; i < ARP_GIVE_UP_S; i++) {
		run_timers(1);
		settle();
	}
	drain_sockets();

	/* Below the baseline is a double free (see ffs_stack_mempool_in_use), above it a held mbuf. */
	int in_use = ffs_stack_mempool_in_use(st);
	unsigned inputs = rte_mempool_in_use_count(input_pool);
	if (in_use != baseline || inputs != 0) {
		fprintf(stderr, "stack_input_fuzz: mbufs not returned after the input: packet pool %d in use "
				"(baseline %d), input pool %u in use\n", in_use, baseline, inputs);
		abort();
	}
	return 0;
}
