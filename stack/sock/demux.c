/* The lcore-private UDP demux table (see demux.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "stack/sock/demux.h"
#include "stack/wire/ipv4.h"

struct demux_table *demux_new(void)
{
	return calloc(1, sizeof(struct demux_table));
}

/** Frees a bucket and its entries (of either family). */
static void bucket_free(struct demux_bucket *b)
{
	if (b) {
		free(b->e);
		free(b);
	}
}

void demux_free(struct demux_table *t)
{
	if (!t)
		return;
	for (unsigned p = 0; p < 65536; p++) {
		bucket_free(t->by_port[p]);
		bucket_free(t->by_port6[p]);
	}
	free(t);
}

/** The socket an entry of either family begins with. */
static inline struct ffs_sock *entry_sock(const struct demux_bucket *b, unsigned i, size_t size)
{
	return *(struct ffs_sock *const *)((const char *)b->e + i * size);
}

/**
 * The entry of `so` in the bucket at *slot (entries of `size` bytes), made, with the bucket, where
 * there is none; NULL without memory.
 */
static void *bucket_upsert(struct demux_bucket **slot, const struct ffs_sock *so, size_t size)
{
	struct demux_bucket *b = *slot;
	if (!b) {
		b = calloc(1, sizeof(*b));
		if (!b)
			return NULL;
		*slot = b;
	}
	for (unsigned i = 0; i < b->n; i++)
		if (entry_sock(b, i, size) == so)
			return (char *)b->e + i * size;
	if (b->n == b->cap) {
		unsigned cap = b->cap ? b->cap * 2 : 2;
		void *e = realloc(b->e, cap * size);
		if (!e)
			return NULL;
		b->e = e;
		b->cap = cap;
	}
	return (char *)b->e + b->n++ * size;
}

/** Takes the entry of `so` out of the bucket at *slot (entries of `size` bytes), freeing it once empty. */
static void bucket_remove(struct demux_bucket **slot, const struct ffs_sock *so, size_t size)
{
	struct demux_bucket *b = *slot;
	if (!b)
		return;
	for (unsigned i = 0; i < b->n; i++) {
		if (entry_sock(b, i, size) == so) {
			if (i != --b->n)
				memcpy((char *)b->e + i * size, (char *)b->e + b->n * size, size);
			break;
		}
	}
	if (b->n == 0) {
		bucket_free(b);
		*slot = NULL;
	}
}

static void fill6(struct demux6_entry *e, struct ffs_sock *so)
{
	e->so = so;
	memcpy(e->laddr, so->laddr6, 16);
	memcpy(e->raddr, so->raddr6, 16);
	e->rport = so->rport;
	e->connected = so->connected;
	e->reuseport = so->reuseport;
	e->home = so->tx_lcore;
	e->bind_seq = so->bind_seq;
}

/** Adds or refreshes so's IPv6 entry (or removes it when so takes no IPv6). */
static int upsert6(struct demux_table *t, struct ffs_sock *so)
{
	if (!ffs_sock_has_v6(so)) {
		bucket_remove(&t->by_port6[so->lport], so, sizeof(struct demux6_entry));
		return 0;
	}
	struct demux6_entry *e = bucket_upsert(&t->by_port6[so->lport], so, sizeof(*e));
	if (!e)
		return -ENOMEM;
	fill6(e, so);
	return 0;
}

static void fill(struct demux_entry *e, struct ffs_sock *so)
{
	e->so = so;
	e->laddr = so->laddr;
	e->raddr = so->raddr;
	e->rport = so->rport;
	e->connected = so->connected;
	e->reuseport = so->reuseport;
	e->mcast_all = so->mcast_all;
	e->home = so->tx_lcore;
	e->bind_seq = so->bind_seq;
	e->n_memberships = so->n_memberships;
	memcpy(e->memberships, so->memberships, sizeof(e->memberships[0]) * so->n_memberships);
}

int demux_upsert(struct demux_table *t, struct ffs_sock *so)
{
	if (so->v6) {
		int rc = upsert6(t, so);
		if (rc < 0)
			return rc;
	}
	/* An AF_INET6 socket that takes no IPv4 (IPV6_V6ONLY, or bound or connected to IPv6) has no IPv4 entry. */
	if (!ffs_sock_has_v4(so)) {
		bucket_remove(&t->by_port[so->lport], so, sizeof(struct demux_entry));
		return 0;
	}
	struct demux_entry *e = bucket_upsert(&t->by_port[so->lport], so, sizeof(*e));
	if (!e)
		return -ENOMEM;
	fill(e, so);
	return 0;
}

void demux_remove(struct demux_table *t, struct ffs_sock *so, uint16_t lport)
{
	bucket_remove(&t->by_port[lport], so, sizeof(struct demux_entry));
	bucket_remove(&t->by_port6[lport], so, sizeof(struct demux6_entry));
}

static inline bool addr_matches(const struct demux_entry *e, uint32_t src, uint16_t sport, uint32_t dst)
{
	if (e->laddr && e->laddr != dst)
		return false;
	return !e->connected || (e->raddr == src && e->rport == sport);
}

static inline uint32_t flow_hash(uint32_t src, uint16_t sport, uint32_t dst, uint16_t dport)
{
	/* MurmurHash3's finaliser, so every input bit reaches the low bits that `% n` keeps. */
	uint32_t h = src ^ (dst * 0x9e3779b9u) ^ ((uint32_t)sport << 16 | dport);
	h ^= h >> 16;
	h *= 0x85ebca6bu;
	h ^= h >> 13;
	h *= 0xc2b2ae35u;
	h ^= h >> 16;
	return h;
}

/** The k-th reusePort member of the best-scoring group (on lcore `home`, or any when home < 0). */
static struct ffs_sock *nth_member(const struct demux_bucket *b, uint32_t src, uint16_t sport, uint32_t dst,
				   int best_score, long home, unsigned k)
{
	for (unsigned i = 0; i < b->n; i++) {
		const struct demux_entry *e = &b->e[i];
		if (!e->reuseport || !addr_matches(e, src, sport, dst))
			continue;
		if ((e->laddr ? 2 : 0) + (e->connected ? 4 : 0) != best_score)
			continue;
		if (home >= 0 && e->home != (unsigned long)home)
			continue;
		if (k-- == 0)
			return e->so;
	}
	return NULL;
}

struct ffs_sock *demux_unicast(const struct demux_table *t, uint32_t src, uint16_t sport, uint32_t dst, uint16_t dport,
			       unsigned flow_lcore)
{
	const struct demux_bucket *b = t->by_port[dport];
	if (!b)
		return NULL;
	const struct demux_entry *best = NULL;
	int best_score = -1;
	unsigned n_reuseport = 0, n_home = 0;
	for (unsigned i = 0; i < b->n; i++) {
		const struct demux_entry *e = &b->e[i];
		if (!addr_matches(e, src, sport, dst))
			continue;
		int score = (e->laddr ? 2 : 0) + (e->connected ? 4 : 0);
		if (score > best_score || (score == best_score && !e->reuseport && e->bind_seq > best->bind_seq)) {
			best = e;
			best_score = score;
			n_reuseport = e->reuseport ? 1 : 0;
			n_home = e->reuseport && e->home == flow_lcore ? 1 : 0;
		} else if (score == best_score && e->reuseport && best->reuseport) {
			n_reuseport++;
			n_home += e->home == flow_lcore;
		}
	}
	if (!best || n_reuseport < 2)
		return best ? best->so : NULL;
	/* SO_REUSEPORT: the flow's own lcore's member, so that nothing crosses lcores; the flow hash
	 * picks among several there, or among all when none lives there. */
	uint32_t h = flow_hash(src, sport, dst, dport);
	struct ffs_sock *so = n_home ? nth_member(b, src, sport, dst, best_score, flow_lcore, h % n_home)
				     : nth_member(b, src, sport, dst, best_score, -1, h % n_reuseport);
	return so ? so : best->so;
}

static bool joined(const struct demux_entry *e, uint32_t group, uint32_t src)
{
	for (unsigned i = 0; i < e->n_memberships; i++)
		if (e->memberships[i].group == group && (!e->memberships[i].source || e->memberships[i].source == src))
			return true;
	return false;
}

unsigned demux_group(const struct demux_table *t, uint32_t src, uint16_t sport, uint32_t dst, uint16_t dport,
		     bool multicast, struct ffs_sock **out, unsigned max)
{
	const struct demux_bucket *b = t->by_port[dport];
	unsigned n = 0;
	if (!b)
		return 0;
	for (unsigned i = 0; i < b->n && n < max; i++) {
		const struct demux_entry *e = &b->e[i];
		if (e->connected && (e->raddr != src || e->rport != sport))
			continue;
		if (multicast) {
			if (e->laddr && e->laddr != dst)
				continue;
			if (!joined(e, dst, src) && !e->mcast_all)
				continue;
		} else if (e->laddr && e->laddr != dst) {
			continue;
		}
		out[n++] = e->so;
	}
	return n;
}

struct ffs_sock *demux_sender(const struct demux_table *t, uint32_t lsrc, uint16_t lport, uint32_t dst, uint16_t dport)
{
	const struct demux_bucket *b = t->by_port[lport];
	if (!b)
		return NULL;
	struct ffs_sock *fallback = NULL;
	for (unsigned i = 0; i < b->n; i++) {
		const struct demux_entry *e = &b->e[i];
		if (e->laddr && e->laddr != lsrc)
			continue;
		if (e->connected && e->raddr == dst && e->rport == dport)
			return e->so;
		if (!e->connected && !fallback)
			fallback = e->so;
	}
	return fallback;
}

static inline bool addr6_matches(const struct demux6_entry *e, const uint8_t src[16], uint16_t sport, const uint8_t dst[16])
{
	if (!ffs_in6_is_any(e->laddr) && memcmp(e->laddr, dst, 16) != 0)
		return false;
	return !e->connected || (memcmp(e->raddr, src, 16) == 0 && e->rport == sport);
}

/** The 32 bits of an IPv6 address the flow hash takes (its words folded). */
static inline uint32_t fold6(const uint8_t a[16])
{
	uint32_t w[4];
	memcpy(w, a, 16);
	return w[0] ^ w[1] ^ w[2] ^ w[3];
}

struct ffs_sock *demux_unicast6(const struct demux_table *t, const uint8_t src[16], uint16_t sport, const uint8_t dst[16],
				uint16_t dport, unsigned flow_lcore)
{
	const struct demux_bucket *b = t->by_port6[dport];
	if (!b)
		return NULL;
	/* Linux's scoring as demux_unicast's: connected beats bound beats wildcard; the newest
	 * SO_REUSEADDR binding wins; a SO_REUSEPORT group shares flows, its home lcore's members first. */
	const struct demux6_entry *best = NULL;
	int best_score = -1;
	unsigned n_reuseport = 0, n_home = 0;
	for (unsigned i = 0; i < b->n; i++) {
		const struct demux6_entry *e = &b->e6[i];
		if (!addr6_matches(e, src, sport, dst))
			continue;
		int score = (ffs_in6_is_any(e->laddr) ? 0 : 2) + (e->connected ? 4 : 0);
		if (score > best_score || (score == best_score && !e->reuseport && e->bind_seq > best->bind_seq)) {
			best = e;
			best_score = score;
			n_reuseport = e->reuseport ? 1 : 0;
			n_home = e->reuseport && e->home == flow_lcore ? 1 : 0;
		} else if (score == best_score && e->reuseport && best->reuseport) {
			n_reuseport++;
			n_home += e->home == flow_lcore;
		}
	}
	if (!best || n_reuseport < 2)
		return best ? best->so : NULL;
	uint32_t h = flow_hash(fold6(src), sport, fold6(dst), dport);
	unsigned k = n_home ? h % n_home : h % n_reuseport;
	for (unsigned i = 0; i < b->n; i++) {
		const struct demux6_entry *e = &b->e6[i];
		if (!e->reuseport || !addr6_matches(e, src, sport, dst))
			continue;
		if ((ffs_in6_is_any(e->laddr) ? 0 : 2) + (e->connected ? 4 : 0) != best_score)
			continue;
		if (n_home && e->home != flow_lcore)
			continue;
		if (k-- == 0)
			return e->so;
	}
	return best->so;
}

unsigned demux_group6(const struct demux_table *t, const uint8_t src[16], uint16_t sport, const uint8_t dst[16],
		      uint16_t dport, struct ffs_sock **out, unsigned max)
{
	const struct demux_bucket *b = t->by_port6[dport];
	unsigned n = 0;
	if (!b)
		return 0;
	/* The IP layer accepted the group (joined on the port); Linux's IPV6_MULTICAST_ALL default then
	 * delivers to every socket of the port bound to `::` or to the group. */
	for (unsigned i = 0; i < b->n && n < max; i++) {
		const struct demux6_entry *e = &b->e6[i];
		if (addr6_matches(e, src, sport, dst))
			out[n++] = e->so;
	}
	return n;
}

struct ffs_sock *demux_sender6(const struct demux_table *t, const uint8_t lsrc[16], uint16_t lport, const uint8_t dst[16],
			       uint16_t dport)
{
	const struct demux_bucket *b = t->by_port6[lport];
	for (unsigned i = 0; b && i < b->n; i++) {
		const struct demux6_entry *e = &b->e6[i];
		if (!ffs_in6_is_any(e->laddr) && memcmp(e->laddr, lsrc, 16) != 0)
			continue;
		if (e->connected && e->rport == dport && memcmp(e->raddr, dst, 16) == 0)
			return e->so;
	}
	return NULL;
}
