/*
 * What an lcore's route lookup costs (stack/iface/route_fib.c chose by these numbers): nanoseconds per
 * single-address lookup and DPDK memory per instance, for rte_fib's RTE_FIB_DUMMY (RIB-backed) and
 * RTE_FIB_DIR24_8 (1-byte next hops), and for the linear scan the route table uses, over tables of 5
 * and 60 random routes (a host's table is at most FFS_MAX_ROUTES, 64).
 *
 * Usage: fib_lookup [-m MEMORY_MB] [-n LOOKUPS]   (EAL: --no-huge, no device; default 256 MB, 2000000)
 */
#include <getopt.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_fib.h>
#include <rte_malloc.h>

#include "bench/bench_common.h"

#define MAX_ROUTES 64
#define N_DSTS 4096

struct route {
	uint32_t dest, mask;
};

static uint32_t mask_of(unsigned len) { return len ? ~0u << (32 - len) : 0; }

static size_t heap_used(void)
{
	struct rte_malloc_socket_stats s;
	rte_malloc_get_socket_stats(rte_socket_id(), &s);
	return s.heap_allocsz_bytes;
}

/** Random routes, sorted longest prefix first (the route table's order), and destinations near them. */
static unsigned make_table(unsigned n, struct route *r, uint32_t *dsts, unsigned *seed)
{
	for (unsigned i = 0; i < n; i++) {
		unsigned len = i == n - 1 ? 0 : 8 + (unsigned)rand_r(seed) % 25;
		r[i].mask = mask_of(len);
		r[i].dest = (((uint32_t)rand_r(seed) << 16) ^ (uint32_t)rand_r(seed)) & r[i].mask;
	}
	for (unsigned i = 1; i < n; i++)
		for (unsigned k = i; k > 0 && __builtin_popcount(r[k].mask) > __builtin_popcount(r[k - 1].mask); k--) {
			struct route t = r[k];
			r[k] = r[k - 1];
			r[k - 1] = t;
		}
	for (unsigned i = 0; i < N_DSTS; i++)
		dsts[i] = r[(unsigned)rand_r(seed) % n].dest ^ ((uint32_t)rand_r(seed) & 0xffffu);
	return n;
}

static unsigned scan(const struct route *r, unsigned n, uint32_t dst)
{
	for (unsigned i = 0; i < n; i++)
		if ((dst & r[i].mask) == r[i].dest)
			return i;
	return n;
}

static void measure(enum rte_fib_type type, const char *label, const struct route *r, unsigned n, uint32_t *dsts, long lookups)
{
	size_t before = heap_used();
	struct rte_fib_conf conf = { .type = type, .default_nh = MAX_ROUTES, .max_routes = MAX_ROUTES };
	if (type == RTE_FIB_DIR24_8) {
		conf.dir24_8.nh_sz = RTE_FIB_DIR24_8_1B;
		conf.dir24_8.num_tbl8 = MAX_ROUTES;
	}
	struct rte_fib *fib = rte_fib_create(label, SOCKET_ID_ANY, &conf);
	if (!fib) {
		printf("%-9s %2u routes: rte_fib_create failed: %s\n", label, n, rte_strerror(rte_errno));
		return;
	}
	for (unsigned i = n; i-- > 0;)
		rte_fib_add(fib, r[i].dest, (uint8_t)__builtin_popcount(r[i].mask), i);
	size_t bytes = heap_used() - before;
	uint64_t sum = 0;
	double t0 = now_s();
	for (long i = 0; i < lookups; i++) {
		uint64_t nh;
		rte_fib_lookup_bulk(fib, &dsts[i % N_DSTS], &nh, 1);
		sum += nh;
	}
	double ns = (now_s() - t0) * 1e9 / (double)lookups;
	unsigned wrong = 0;
	for (unsigned i = 0; i < N_DSTS; i++) {
		uint64_t nh;
		rte_fib_lookup_bulk(fib, &dsts[i], &nh, 1);
		wrong += nh != scan(r, n, dsts[i]);
	}
	printf("%-9s %2u routes: %6.1f ns/lookup, %9zu bytes of DPDK memory, %u answers unlike the scan (%lu)\n", label, n, ns,
	       bytes, wrong, (unsigned long)(sum & 1));
	rte_fib_free(fib);
}

int main(int argc, char **argv)
{
	const char *mem = "256";
	long lookups = 2000000;
	for (int c; (c = getopt(argc, argv, "m:n:")) != -1;) {
		if (c == 'm')
			mem = optarg;
		else if (c == 'n')
			lookups = parse_number("fib_lookup", "-n", optarg, 1, 1000000000);
		else
			return 2;
	}
	char *eal[] = { argv[0], "--no-huge", "-m", (char *)mem, "--no-pci", "--no-shconf", "--file-prefix=ffnet-fib-lookup", "-l", "0",
			"--log-level=lib.eal:error" };
	if (rte_eal_init(10, eal) < 0) {
		fprintf(stderr, "fib_lookup: EAL init failed: %s\n", rte_strerror(rte_errno));
		return 1;
	}
	static const unsigned sizes[] = { 5, 60 };
	unsigned seed = 1;
	for (unsigned s = 0; s < 2; s++) {
		struct route r[MAX_ROUTES];
		uint32_t dsts[N_DSTS];
		unsigned n = make_table(sizes[s], r, dsts, &seed);
		measure(RTE_FIB_DUMMY, "dummy", r, n, dsts, lookups);
		measure(RTE_FIB_DIR24_8, "dir24_8", r, n, dsts, lookups);
		unsigned sum = 0;
		double t0 = now_s();
		for (long i = 0; i < lookups; i++)
			sum += scan(r, n, dsts[i % N_DSTS]);
		printf("%-9s %2u routes: %6.1f ns/lookup (%u)\n", "scan", n, (now_s() - t0) * 1e9 / (double)lookups, sum & 1);
	}
	rte_eal_cleanup();
	return 0;
}
