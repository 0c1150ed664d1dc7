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

void demux_free(struct demux_table *t)
{
	if (!t)
		return;
	for (unsigned p = 0; p < 65536; p++) {
		if (t->by_port[p]) {
			free(t->by_port[p]->e);
			free(t->by_port[p]);
		}
	}
	free(t);
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
	/* An AF_INET6 socket that no longer takes IPv4 (connected to an IPv6 peer) leaves this table. */
	if (!ffs_sock_has_v4(so)) {
		demux_remove(t, so, so->lport);
		return 0;
	}
	struct demux_bucket *b = t->by_port[so->lport];
	if (!b) {
		b = calloc(1, sizeof(*b));
		if (!b)
			return -ENOMEM;
		t->by_port[so->lport] = b;
	}
	for (unsigned i = 0; i < b->n; i++) {
		if (b->e[i].so == so) {
			fill(&b->e[i], so);
			return 0;
		}
	}
	if (b->n == b->cap) {
		unsigned cap = b->cap ? b->cap * 2 : 2;
		struct demux_entry *e = realloc(b->e, cap * sizeof(*e));
		if (!e)
			return -ENOMEM;
		b->e = e;
		b->cap = cap;
	}
	fill(&b->e[b->n++], so);
	return 0;
}

void demux_remove(struct demux_table *t, struct ffs_sock *so, uint16_t lport)
{
	struct demux_bucket *b = t->by_port[lport];
	if (!b)
		return;
	for (unsigned i = 0; i < b->n; i++) {
		if (b->e[i].so == so) {
			b->e[i] = b->e[--b->n];
			break;
		}
	}
	if (b->n == 0) {
		free(b->e);
		free(b);
		t->by_port[lport] = NULL;
	}
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
