/*
 * memif_raw: the raw net_memif PMD rate between two processes, with no ffnet stack — the reference
 * that bench/echo-memif.ts compares ffnet's UDP echo path against.
 *
 *   memif_raw --role tx|rx --socket PATH [--size 64] [--seconds 5] [--cpu N] [--memif-role client|server]
 *
 * tx (memif role=client by default) transmits copies of pre-built Ethernet/IPv4/UDP frames of
 * --size bytes (the whole frame) as fast as rte_eth_tx_burst takes them, for --seconds once the
 * link is up. rx (memif role=server by default) receives with rte_eth_rx_burst and counts until the
 * traffic stops (or --seconds plus a grace period after the first frame). Each prints one JSON line:
 * {"role":…,"size":…,"packets":…,"seconds":…,"pps":…,"bytes_per_s":…}; the receiver's figures are
 * measured from its first frame to its last.
 *
 * The process pins itself with EAL's --lcores 0@CPU (--cpu) and runs without hugepages or PCI.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <rte_eal.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>
#include <rte_memcpy.h>
#include <rte_mempool.h>

#include "bench/bench_common.h"

#define BURST 32
#define NB_MBUF 8191
#define NB_DESC 1024
#define LINK_WAIT_S 20.0
/** The receiver stops when no frame arrived for this long after the first one. */
#define RX_QUIET_S 0.5

static void usage(void)
{
	fprintf(stderr, "usage: memif_raw --role tx|rx --socket PATH [--size 64] [--seconds 5] [--cpu N] "
			"[--memif-role client|server]\n");
	exit(2);
}

/** Writes an Ethernet + IPv4 + UDP frame of `size` bytes (10.88.0.1:9 → 10.88.0.2:9) into m. */
static void build_frame(struct rte_mbuf *m, uint16_t size)
{
	uint8_t *f = (uint8_t *)rte_pktmbuf_append(m, size);
	memset(f, 0, size);
	static const uint8_t dst[6] = { 0x02, 0, 0, 0, 0, 0x02 }, src[6] = { 0x02, 0, 0, 0, 0, 0x01 };
	memcpy(f, dst, 6);
	memcpy(f + 6, src, 6);
	f[12] = 0x08; /* IPv4 */
	uint8_t *ip = f + 14;
	uint16_t ip_len = (uint16_t)(size - 14);
	ip[0] = 0x45;
	ip[2] = (uint8_t)(ip_len >> 8);
	ip[3] = (uint8_t)ip_len;
	ip[8] = 64;
	ip[9] = 17;
	const uint8_t sa[4] = { 10, 88, 0, 1 }, da[4] = { 10, 88, 0, 2 };
	memcpy(ip + 12, sa, 4);
	memcpy(ip + 16, da, 4);
	uint32_t sum = 0;
	for (int i = 0; i < 20; i += 2)
		sum += (uint32_t)(ip[i] << 8 | ip[i + 1]);
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	ip[10] = (uint8_t)(~sum >> 8);
	ip[11] = (uint8_t)~sum;
	uint8_t *udp = ip + 20;
	uint16_t udp_len = (uint16_t)(ip_len - 20);
	udp[1] = 9;
	udp[3] = 9;
	udp[4] = (uint8_t)(udp_len >> 8);
	udp[5] = (uint8_t)udp_len; /* checksum 0: none */
}

int main(int argc, char *argv[])
{
	const char *role = NULL, *sock = NULL, *memif_role = NULL;
	long size = 64, seconds = 5, cpu = 0;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (!v)
			usage();
		if (strcmp(a, "--role") == 0)
			role = v;
		else if (strcmp(a, "--socket") == 0)
			sock = v;
		else if (strcmp(a, "--memif-role") == 0)
			memif_role = v;
		else if (strcmp(a, "--size") == 0)
			size = parse_number("memif_raw", a, v, 60, 1514);
		else if (strcmp(a, "--seconds") == 0)
			seconds = parse_number("memif_raw", a, v, 1, 3600);
		else if (strcmp(a, "--cpu") == 0)
			cpu = parse_number("memif_raw", a, v, 0, 1023);
		else
			usage();
		i++;
	}
	if (!role || !sock || (strcmp(role, "tx") != 0 && strcmp(role, "rx") != 0))
		usage();
	bool tx = strcmp(role, "tx") == 0;
	if (!memif_role)
		memif_role = tx ? "client" : "server";

	char lcores[32], prefix[64], vdev[512];
	snprintf(lcores, sizeof(lcores), "0@%ld", cpu);
	snprintf(prefix, sizeof(prefix), "--file-prefix=memif-raw-%d", (int)getpid());
	snprintf(vdev, sizeof(vdev), "--vdev=net_memif0,role=%s,socket=%s", memif_role, sock);
	char *eal[] = { argv[0], "--no-huge", "-m", "256", "--no-pci", "--lcores", lcores, prefix, vdev,
			"--log-level", "warning", NULL };
	if (rte_eal_init((int)(sizeof(eal) / sizeof(eal[0])) - 1, eal) < 0) {
		fprintf(stderr, "memif_raw: rte_eal_init failed\n");
		return 1;
	}
	struct rte_mempool *pool = rte_pktmbuf_pool_create("raw", NB_MBUF, 256, 0, RTE_MBUF_DEFAULT_BUF_SIZE, (int)rte_socket_id());
	if (!pool) {
		fprintf(stderr, "memif_raw: cannot create the mbuf pool\n");
		return 1;
	}
	uint16_t port = 0;
	struct rte_eth_conf conf;
	memset(&conf, 0, sizeof(conf));
	uint16_t nb_rxd = NB_DESC, nb_txd = NB_DESC;
	if (rte_eth_dev_count_avail() < 1 || rte_eth_dev_configure(port, 1, 1, &conf) != 0 ||
	    rte_eth_dev_adjust_nb_rx_tx_desc(port, &nb_rxd, &nb_txd) != 0 ||
	    rte_eth_rx_queue_setup(port, 0, nb_rxd, (unsigned)rte_socket_id(), NULL, pool) != 0 ||
	    rte_eth_tx_queue_setup(port, 0, nb_txd, (unsigned)rte_socket_id(), NULL) != 0 || rte_eth_dev_start(port) != 0) {
		fprintf(stderr, "memif_raw: cannot start the memif port\n");
		return 1;
	}

	/* Wait for the peer: memif's link comes up when both ends have connected. */
	double t0 = now_s();
	struct rte_eth_link link = { 0 };
	while (now_s() - t0 < LINK_WAIT_S) {
		rte_eth_link_get_nowait(port, &link);
		if (link.link_status == RTE_ETH_LINK_UP)
			break;
		usleep(1000);
	}
	if (link.link_status != RTE_ETH_LINK_UP) {
		fprintf(stderr, "memif_raw: the memif link did not come up within %.0f s\n", LINK_WAIT_S);
		return 1;
	}

	uint64_t packets = 0, bytes = 0;
	double start = 0, end = 0;
	if (tx) {
		/* Pre-built frames: each burst takes fresh mbufs from the pool and copies a template in
		 * (as testpmd's txonly engine does), and the PMD frees them once it has copied them out. */
		struct rte_mbuf *tmpl = rte_pktmbuf_alloc(pool);
		if (!tmpl) {
			fprintf(stderr, "memif_raw: cannot allocate frames\n");
			return 1;
		}
		build_frame(tmpl, (uint16_t)size);
		const uint8_t *frame = rte_pktmbuf_mtod(tmpl, const uint8_t *);
		struct rte_mbuf *pkts[BURST];
		uint16_t have = 0;
		usleep(200000); /* let the receiver's loop start */
		start = now_s();
		double deadline = start + (double)seconds;
		for (uint64_t turn = 0;; turn++) {
			if ((turn & 1023) == 0 && now_s() >= deadline)
				break;
			if (have < BURST) {
				if (rte_pktmbuf_alloc_bulk(pool, pkts + have, BURST - have) != 0)
					continue;
				for (uint16_t i = have; i < BURST; i++) {
					struct rte_mbuf *m = pkts[i];
					m->data_len = (uint16_t)size;
					m->pkt_len = (uint32_t)size;
					rte_memcpy(rte_pktmbuf_mtod(m, uint8_t *), frame, (size_t)size);
				}
				have = BURST;
			}
			uint16_t n = rte_eth_tx_burst(port, 0, pkts, BURST);
			/* Unsent frames move to the front and go out with the next burst. */
			for (uint16_t i = n; i < BURST; i++)
				pkts[i - n] = pkts[i];
			have = (uint16_t)(BURST - n);
			packets += n;
		}
		end = now_s();
		bytes = packets * (uint64_t)size;
		rte_pktmbuf_free_bulk(pkts, have);
		/* Stay connected until the receiver has seen the traffic stop and left its polling loop:
		 * memif unmaps a peer's rings on disconnect, under a receiver still polling them. */
		usleep((useconds_t)((RX_QUIET_S + 1.0) * 1e6));
		rte_pktmbuf_free(tmpl);
	} else {
		struct rte_mbuf *pkts[BURST];
		double last = 0, hard_end = 0;
		unsigned empty = 0;
		for (;;) {
			uint16_t n = rte_eth_rx_burst(port, 0, pkts, BURST);
			/* The clock is read once per burst and every 64th empty poll. */
			if (!n && (++empty & 63) != 0 && packets)
				continue;
			double t = now_s();
			if (n) {
				for (uint16_t i = 0; i < n; i++)
					bytes += rte_pktmbuf_pkt_len(pkts[i]);
				rte_pktmbuf_free_bulk(pkts, n);
				if (packets == 0) {
					start = t;
					hard_end = start + (double)seconds + 5.0;
				}
				packets += n;
				last = t;
			}
			if (packets == 0 && t - t0 > LINK_WAIT_S + (double)seconds) {
				fprintf(stderr, "memif_raw: no frame arrived\n");
				return 1;
			}
			if (packets && (t - last > RX_QUIET_S || t > hard_end))
				break;
		}
		end = last;
	}
	double secs = end - start;
	if (secs <= 0)
		secs = 1e-9;
	printf("{\"role\":\"%s\",\"size\":%ld,\"packets\":%llu,\"seconds\":%.3f,\"pps\":%.1f,\"bytes_per_s\":%.1f}\n", role, size,
	       (unsigned long long)packets, secs, (double)packets / secs, (double)bytes / secs);
	fflush(stdout);
	rte_eth_dev_stop(port);
	rte_eth_dev_close(port);
	rte_eal_cleanup();
	return 0;
}
