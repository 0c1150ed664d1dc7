/*
 * Bringing up a stack in a C test program (or fuzz harness): the EAL without hugepages, PCI or a
 * shared config, under a file prefix of the program's own, then ffs_stack_start (either failure ends
 * the program with status 2: the environment, not a case, failed); or ff_init from a temporary
 * ffnet.ini. Also what those programs do to a running stack: wait for its pool to settle, stop a
 * lcore, read back what it sent on a net_ring port.
 */
#ifndef FFNET_TEST_STACK_ENV_H
#define FFNET_TEST_STACK_ENV_H

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>

#include "posix/ff_api.h"
#include "stack/iface/iface.h"
#include "stack/lcore/lcore.h"
#include "stack/stack.h"

#define TEST_EAL_MAX_ARGS 16

/**
 * Initialises the EAL for program `prog` with `mem_mb` MiB of memory and the further arguments that
 * follow (lcores, vdevs), ended by NULL.
 */
__attribute__((sentinel)) static inline void test_eal_init(const char *prog, const char *mem_mb, ...)
{
	char prefix[64], err[256];
	snprintf(prefix, sizeof(prefix), "--file-prefix=ffnet-%s-%d", prog, (int)getpid());
	char *argv[TEST_EAL_MAX_ARGS] = { (char *)prog, "--no-huge", "-m", (char *)mem_mb, "--no-pci",
					  "--no-shconf", "--log-level=error", prefix };
	int argc = 8;
	va_list ap;
	va_start(ap, mem_mb);
	for (char *a; (a = va_arg(ap, char *)) != NULL && argc < TEST_EAL_MAX_ARGS;)
		argv[argc++] = a;
	va_end(ap);
	if (ffs_eal_init(argc, argv, err, sizeof(err)) != 0) {
		fprintf(stderr, "%s: %s\n", prog, err);
		exit(2);
	}
}

/**
 * ff_init for program `prog` from a temporary ffnet.ini (removed again) whose [dpdk] section holds
 * `dpdk_keys` ("key = value\n" lines) besides a file prefix of the program's own, 128 MiB and log
 * level warning, no Duplicate Address Detection at start (as test_stack_start), then `sections`
 * (whole sections, "[port0]\n..."). Returns what ff_init returns; a temporary file that cannot be
 * written ends the program with status 2.
 */
static inline int test_ff_init_conf(const char *prog, const char *dpdk_keys, const char *sections)
{
	char path[] = "/tmp/ffnet-ini-XXXXXX";
	int fd = mkstemp(path);
	char text[1024];
	int n = snprintf(text, sizeof(text),
			 "[dpdk]\nfile_prefix = ffnet-%s-%d\n%smemory = 128\nlog_level = warning\n"
			 "[sysctl]\nnet.inet6.ip6.dad_count = 0\n%s",
			 prog, (int)getpid(), dpdk_keys, sections);
	if (fd < 0 || n < 0 || (size_t)n >= sizeof(text) || write(fd, text, (size_t)n) != n) {
		fprintf(stderr, "%s: cannot write %s\n", prog, path);
		exit(2);
	}
	close(fd);
	char *argv[] = { (char *)prog, "--conf", path, NULL };
	int rc = ff_init(3, argv);
	unlink(path);
	return rc;
}

/** test_ff_init_conf with the [dpdk] section alone. */
static inline int test_ff_init_ini(const char *prog, const char *dpdk_keys)
{
	return test_ff_init_conf(prog, dpdk_keys, "");
}

/** Port 0 of `conf` alone, at `addr`/`netmask` with its subnet's broadcast and a 1500-byte MTU. */
static inline void test_conf_port(struct ffs_conf *conf, uint32_t addr, uint32_t netmask)
{
	conf->n_ports = 1;
	conf->ports[0] = (struct ffs_port_conf){ .port_id = 0, .addr = addr, .netmask = netmask,
						 .broadcast = addr | ~netmask, .mtu = 1500 };
}

/**
 * A default `conf` with two data-path lcores, 1 and 2 (as the EAL's --lcores=0@(0-1),1@(0-1),2@(0-1)
 * gives them), lcore 0 left to the program itself.
 */
static inline void test_conf_two_data_lcores(struct ffs_conf *conf)
{
	ffs_conf_init(conf);
	conf->n_data_lcores = 2;
	conf->data_lcores[0] = 1;
	conf->data_lcores[1] = 2;
}

/**
 * ffs_stack_start(conf) for program `prog`, without Duplicate Address Detection at start
 * (net.inet6.ip6.dad_count 0: each start would wait RFC 4862's RetransTimer, 1 s, for its verdict);
 * a program testing DAD sets the tunable once the stack runs.
 */
static inline struct ffs_stack *test_stack_start(const char *prog, const struct ffs_conf *conf)
{
	char err[256];
	struct ffs_conf c = *conf;
	c.sysctl[FFS_SYSCTL_IP6_DAD_COUNT] = 0;
	struct ffs_stack *st = ffs_stack_start(&c, err, sizeof(err));
	if (!st) {
		fprintf(stderr, "%s: %s\n", prog, err);
		exit(2);
	}
	return st;
}

static inline unsigned test_port_drain(struct ffs_lcore *lc, struct rte_mbuf **keep, unsigned max);

/**
 * The EAL (`mem_mb` MiB, lcore 0 only) and an inline stack whose port 0 is a net_ring device at
 * `addr`/`netmask`, on 802.1Q VLAN `vlan_id` (0: untagged): what the single-lcore C programs feed frames to. What the stack sent while
 * starting (its announcements, MLD reports, router solicitations) is read back and freed, so the
 * programs begin with an empty ring and a settled pool.
 */
static inline struct ffs_stack *test_ring_stack_start_vlan(const char *prog, const char *mem_mb, uint32_t addr, uint32_t netmask,
							  uint16_t vlan_id)
{
	test_eal_init(prog, mem_mb, "-l", "0", "--vdev=net_ring0", NULL);
	struct ffs_conf conf;
	ffs_conf_init(&conf);
	test_conf_port(&conf, addr, netmask);
	conf.ports[0].vlan_id = vlan_id;
	struct ffs_stack *st = test_stack_start(prog, &conf);
	test_port_drain(st->lcores[0], NULL, 0);
	return st;
}

/** test_ring_stack_start_vlan with an untagged port. */
static inline struct ffs_stack *test_ring_stack_start(const char *prog, const char *mem_mb, uint32_t addr, uint32_t netmask)
{
	return test_ring_stack_start_vlan(prog, mem_mb, addr, netmask, 0);
}

/**
 * A permanent ARP entry on port 0 of test_ring_stack_start's stack for the peer `addr` at `mac`, so
 * that what the stack sends it leaves at once; lcore 0's clock set first. A refusal ends program
 * `prog` with status 2.
 */
static inline void test_ring_peer(struct ffs_stack *st, const char *prog, uint32_t addr, const struct eth_addr *mac)
{
	struct ffs_lcore *lc = st->lcores[0];
	lc->now = rte_rdtsc();
	if (arp_add_static(lc, 0, addr, mac) != 0) {
		fprintf(stderr, "%s: static ARP entry refused\n", prog);
		exit(2);
	}
}

/** The TSC `ms` milliseconds from now. */
static inline uint64_t test_ms_from_now(unsigned ms)
{
	return rte_rdtsc() + rte_get_tsc_hz() / 1000 * ms;
}

/** Polls until st's pool has `want` mbufs in use (at most 3 s); returns the last count seen. */
static inline int test_pool_settles_at(const struct ffs_stack *st, int want)
{
	uint64_t deadline = test_ms_from_now(3000);
	int now;
	while ((now = ffs_stack_mempool_in_use(st)) != want && rte_rdtsc() < deadline)
		rte_delay_us_sleep(1000);
	return now;
}

/** Stops data-path lcore `lc` and waits until it has (it can be launched again). */
static inline void test_lcore_stop(struct ffs_lcore *lc)
{
	atomic_store(&lc->stop, true);
	ffs_lcore_join(lc);
	atomic_store(&lc->stop, false);
}

/**
 * Flushes lc's transmit queues and reads back what the stack sent on port 0 (a net_ring port, whose
 * RX side holds it), passing over (freeing) the frames `want` refuses when given: the first `max`
 * frames taken into `keep` when given, the rest freed. Returns how many it took.
 */
static inline unsigned test_port_drain_if(struct ffs_lcore *lc, struct rte_mbuf **keep, unsigned max,
					  bool (*want)(const uint8_t *frame, size_t len))
{
	struct rte_mbuf *pkts[FFS_BURST];
	unsigned n = 0, got;
	ffs_tx_flush_all(lc);
	while ((got = rte_eth_rx_burst(lc->st->ports[0].port_id, 0, pkts, FFS_BURST)) > 0) {
		for (unsigned i = 0; i < got; i++) {
			if (want && !want(rte_pktmbuf_mtod(pkts[i], const uint8_t *), rte_pktmbuf_data_len(pkts[i]))) {
				rte_pktmbuf_free(pkts[i]);
				continue;
			}
			if (keep && n < max)
				keep[n] = pkts[i];
			else
				rte_pktmbuf_free(pkts[i]);
			n++;
		}
	}
	return n;
}

/** test_port_drain_if taking every frame. */
static inline unsigned test_port_drain(struct ffs_lcore *lc, struct rte_mbuf **keep, unsigned max)
{
	return test_port_drain_if(lc, keep, max, NULL);
}

/**
 * Lets what an inline stack sends on its own after start go by: router solicitations are turned off
 * (net.inet6.ip6.accept_rtadv 0; the next ones would come 4 s apart), and the loop is turned and port 0
 * drained until nothing came for `quiet_ms` (at most 5 s): the MLD reports' retransmission comes
 * within a second. For programs that count the frames the stack answers with.
 */
static inline void test_port_settle(struct ffs_stack *st, unsigned quiet_ms)
{
	ffs_stack_sysctl_set(st, FFS_SYSCTL_IP6_ACCEPT_RTADV, 0);
	uint64_t hz = rte_get_tsc_hz(), start = rte_rdtsc(), last = start;
	while (rte_rdtsc() - last < (uint64_t)quiet_ms * hz / 1000 && rte_rdtsc() - start < 5 * hz) {
		ffs_stack_poll(st);
		if (test_port_drain(st->lcores[0], NULL, 0))
			last = rte_rdtsc();
		usleep(1000);
	}
}

/**
 * The end of a program on test_ring_stack_start: what the stack sent last is freed and the stack
 * stopped, so that a leak checker sees its state freed rather than held. Returns `rc`.
 */
static inline int test_ring_stack_stop(struct ffs_stack *st, int rc)
{
	test_port_drain(st->lcores[0], NULL, 0);
	ffs_stack_stop(st);
	return rc;
}

#endif
