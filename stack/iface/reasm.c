/*
 * Reassembly of IP datagrams for a host, both families (RFC 791 §3.2, RFC 1122 §3.3.2, RFC 8200
 * §4.5), per lcore; and the copying loop of fragmentation, which both families share.
 *
 * Reassembly keeps a bounded table of partial datagrams keyed by family, addresses, identification
 * and (IPv4) protocol. An entry holds its fragments' mbufs untouched (data at each fragment's network
 * header) in offset order, linked through the ffs_mbuf_link dynamic field; each fragment's offset in
 * the datagram and the length of its own headers sit in its m->hash (free once a received frame's
 * steering is done). Fragments inside an entry never overlap: an exact duplicate is dropped, any
 * other overlap discards the whole datagram (RFC 5722, which Linux also applies to IPv4: overlaps are
 * how teardrop crashed reassemblers and how IDS evasion hides a payload). So the datagram is complete
 * exactly when its last fragment has come and the payload bytes held add up to its end — RFC 815's
 * hole list reduced to one counter.
 *
 * Memory is bounded three ways, each a tunable read when a fragment arrives and shared by both
 * families: entries (net.inet.ip.maxfragpackets), fragments per entry (maxfragsperpacket) and the mbuf
 * buffer bytes the lcore holds (maxfragbytes: buffer sizes rather than payload, so a flood of tiny
 * fragments is charged for the pool it really drains). An entry expires net.inet.ip.fragttl
 * (IPv4) or net.inet6.ip6.fragttl (IPv6) after its first fragment came.
 *
 * Everything runs on the lcore that owns the table; nothing is locked.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <rte_byteorder.h>
#include <rte_ip.h>

#include "stack/iface/iface.h"
#include "stack/iface/reasm.h"
#include "stack/phy/mbuf.h"
#include "stack/wire/checksum.h"

#define UDP_OFF_CHECKSUM 6

/** One partial datagram. */
struct reasm_entry {
	struct reasm_key key;
	bool have_last;   /**< the fragment with MF clear came: `total` is known */
	uint16_t nfrags;
	uint32_t total;    /**< payload bytes of the whole datagram */
	uint32_t received; /**< payload bytes held (fragments are disjoint) */
	uint32_t charged;  /**< mbuf buffer bytes charged to the lcore's budget */
	uint64_t deadline; /**< TSC */
	struct rte_mbuf *head, *tail;
};

struct ip_reasm {
	unsigned n;    /**< entries in use: e[0..n) */
	uint64_t bytes; /**< buffer bytes held by all entries */
	struct reasm_entry e[];
};

static inline struct rte_mbuf *frag_next(struct rte_mbuf *m) { return *ffs_mbuf_link(m); }
static inline uint32_t frag_off(const struct rte_mbuf *m) { return m->hash.fdir.lo; }
static inline uint32_t frag_hlen(const struct rte_mbuf *m) { return m->hash.fdir.hi; }
static inline uint32_t frag_end(const struct rte_mbuf *m)
{
	return frag_off(m) + rte_pktmbuf_pkt_len(m) - frag_hlen(m);
}

static uint32_t truesize(const struct rte_mbuf *m)
{
	uint32_t n = 0;
	for (; m; m = m->next)
		n += m->buf_len;
	return n;
}

struct ip_reasm *ip_reasm_new(void)
{
	/* Room for the largest table the tunable allows: it may be raised while the stack runs. */
	size_t slots = (size_t)ffs_sysctl_table[FFS_SYSCTL_MAXFRAGPACKETS].max;
	return calloc(1, sizeof(struct ip_reasm) + slots * sizeof(struct reasm_entry));
}

static unsigned free_frags(struct reasm_entry *e)
{
	unsigned n = 0;
	for (struct rte_mbuf *f = e->head, *next; f; f = next, n++) {
		next = frag_next(f);
		rte_pktmbuf_free(f);
	}
	e->head = e->tail = NULL;
	return n;
}

void ip_reasm_free(struct ip_reasm *r)
{
	if (!r)
		return;
	for (unsigned i = 0; i < r->n; i++)
		free_frags(&r->e[i]);
	free(r);
}

/** Forgets entry e (its mbufs already freed or handed on); the last entry takes its slot. */
static void entry_remove(struct ip_reasm *r, struct reasm_entry *e)
{
	r->bytes -= e->charged;
	struct reasm_entry *last = &r->e[--r->n];
	if (e != last)
		*e = *last;
}

/** Frees a partial datagram's fragments, counting each as dropped. */
static void entry_discard(struct ffs_lcore *lc, struct ip_reasm *r, struct reasm_entry *e)
{
	REASM_CTR(lc, e->key.family, frag_dropped) += free_frags(e);
	entry_remove(r, e);
}

static bool key_eq(const struct reasm_key *a, const struct reasm_key *b)
{
	return a->id == b->id && a->family == b->family && a->proto == b->proto &&
	       memcmp(a->src, b->src, sizeof(a->src)) == 0 && memcmp(a->dst, b->dst, sizeof(a->dst)) == 0;
}

static struct reasm_entry *entry_find(struct ip_reasm *r, const struct reasm_key *k)
{
	for (unsigned i = 0; i < r->n; i++)
		if (key_eq(&r->e[i].key, k))
			return &r->e[i];
	return NULL;
}

/** Turns a complete entry into one chain: the first fragment, then the others' payloads. */
static struct rte_mbuf *entry_complete(struct ffs_lcore *lc, struct ip_reasm *r, struct reasm_entry *e,
				       uint32_t limit, uint32_t *total)
{
	struct rte_mbuf *first = e->head;
	uint32_t segs = 0;
	for (struct rte_mbuf *f = first; f; f = frag_next(f))
		segs += f->nb_segs;
	/* The first fragment's headers may be longer than the other fragments' checks assumed. */
	if (frag_hlen(first) + e->total > limit || segs > RTE_MBUF_MAX_NB_SEGS) {
		entry_discard(lc, r, e);
		return NULL;
	}

	struct rte_mbuf *last = rte_pktmbuf_lastseg(first);
	struct rte_mbuf *f = frag_next(first);
	*ffs_mbuf_link(first) = NULL;
	while (f) {
		struct rte_mbuf *next = frag_next(f);
		*ffs_mbuf_link(f) = NULL;
		rte_pktmbuf_adj(f, (uint16_t)frag_hlen(f));
		last->next = f;
		first->nb_segs = (uint16_t)(first->nb_segs + f->nb_segs);
		first->pkt_len += f->pkt_len;
		f->pkt_len = f->data_len;
		last = rte_pktmbuf_lastseg(f);
		f = next;
	}
	/* A device cannot have verified a checksum that spans fragments it saw one at a time. */
	first->ol_flags &= ~RTE_MBUF_F_RX_L4_CKSUM_MASK;

	*total = e->total;
	REASM_CTR(lc, e->key.family, reassembled)++;
	e->head = e->tail = NULL;
	entry_remove(r, e);
	return first;
}

struct rte_mbuf *reasm_insert(struct ffs_lcore *lc, struct rte_mbuf *m, const struct reasm_key *k,
			      const struct reasm_frag *fr, uint32_t *total)
{
	const struct ffs_stack *st = lc->st;
	struct ip_reasm *r = lc->reasm;
	struct reasm_entry *e = NULL;
	const uint8_t fam = k->family;
	uint32_t off = fr->off, len = fr->len, end = off + len;

	if (!r) {
		REASM_CTR(lc, fam, frag_nomem)++;
		goto drop;
	}
	e = entry_find(r, k);
	if (!e) {
		if (r->n >= (unsigned)ffs_sysctl(st, FFS_SYSCTL_MAXFRAGPACKETS)) {
			REASM_CTR(lc, fam, frag_nomem)++;
			goto drop;
		}
		e = &r->e[r->n++];
		memset(e, 0, sizeof(*e));
		e->key = *k;
		/* RFC 1122 §3.3.2, RFC 8200 §4.5: a fixed reassembly timeout, started by the first
		 * fragment to arrive. */
		int64_t ttl = ffs_sysctl(st, fam == 6 ? FFS_SYSCTL_FRAG6TTL_MS : FFS_SYSCTL_FRAGTTL_MS);
		e->deadline = lc->now + (uint64_t)ttl * st->tsc_hz / 1000;
	}
	uint32_t charge = truesize(m);
	if (r->bytes + charge > (uint64_t)ffs_sysctl(st, FFS_SYSCTL_MAXFRAGBYTES)) {
		REASM_CTR(lc, fam, frag_nomem)++;
		if (e->nfrags == 0)
			entry_remove(r, e);
		goto drop;
	}
	m->hash.fdir.lo = off;
	m->hash.fdir.hi = fr->hlen;

	/* Where m goes: after `prev`, before `next` (the first fragment at or past its offset). */
	struct rte_mbuf *prev = NULL, *next = e->head;
	if (e->tail && frag_end(e->tail) <= off) {
		prev = e->tail;
		next = NULL;
	} else {
		while (next && frag_off(next) < off) {
			prev = next;
			next = frag_next(next);
		}
	}
	if (next && frag_off(next) == off && frag_end(next) == end) {
		REASM_CTR(lc, fam, frag_dup)++;
		goto drop;
	}
	if ((prev && frag_end(prev) > off) || (next && frag_off(next) < end))
		goto overlap;
	if (!fr->more) {
		/* A second, different end, or data already held beyond this one: the sender's fragments
		 * disagree about the datagram, which is an overlap by another name. */
		if ((e->have_last && e->total != end) || (e->tail && frag_end(e->tail) > end))
			goto overlap;
		e->have_last = true;
		e->total = end;
	} else if (e->have_last && end > e->total) {
		goto overlap;
	}
	if (e->nfrags >= ffs_sysctl(st, FFS_SYSCTL_MAXFRAGSPERPACKET)) {
		REASM_CTR(lc, fam, frag_toomany)++;
		goto discard;
	}

	*ffs_mbuf_link(m) = next;
	if (prev)
		*ffs_mbuf_link(prev) = m;
	else
		e->head = m;
	if (!next)
		e->tail = m;
	e->nfrags++;
	e->received += len;
	e->charged += charge;
	r->bytes += charge;
	if (!e->have_last || e->received != e->total)
		return NULL;
	return entry_complete(lc, r, e, fr->limit, total);

overlap:
	REASM_CTR(lc, fam, frag_overlap)++;
discard:
	entry_discard(lc, r, e);
drop:
	REASM_CTR(lc, fam, frag_dropped)++;
	rte_pktmbuf_free(m);
	return NULL;
}

void ip_reasm_tick(struct ffs_lcore *lc)
{
	struct ip_reasm *r = lc->reasm;
	if (!r)
		return;
	for (unsigned i = 0; i < r->n;) {
		struct reasm_entry *e = &r->e[i];
		if (lc->now < e->deadline) {
			i++;
			continue;
		}
		REASM_CTR(lc, e->key.family, frag_timeout)++;
		if (e->head && frag_off(e->head) == 0) {
			if (e->key.family == 6)
				ipv6_reasm_expired(lc, e->head);
			else
				ipv4_reasm_expired(lc, e->head);
		}
		entry_discard(lc, r, e); /* the last entry moves into slot i */
	}
}

int32_t frag_finish_udp_cksum(const struct rte_mbuf *m, unsigned off, uint32_t payload, bool udp)
{
	if ((m->ol_flags & RTE_MBUF_F_TX_L4_MASK) != RTE_MBUF_F_TX_UDP_CKSUM || !udp || payload < 8)
		return -1;
	uint16_t raw;
	if (rte_raw_cksum_mbuf(m, off, payload, &raw) != 0)
		return -1;
	/* rte_raw_cksum sums native-order words; ffnet's sums are of big-endian words (RFC 1071 §2(B)). */
	uint16_t c = csum_fold(rte_be_to_cpu_16(raw));
	return c ? c : 0xffff;
}

int frag_copy_out(struct ffs_lcore *lc, const struct rte_mbuf *m, unsigned off, uint32_t payload, uint32_t step,
		  int32_t udp_cksum, const struct frag_out *o)
{
	for (uint32_t at = 0; at < payload; at += step) {
		uint32_t n = payload - at < step ? payload - at : step;
		struct rte_mbuf *f = rte_pktmbuf_alloc(lc->st->pool);
		uint8_t *p = f ? (uint8_t *)rte_pktmbuf_append(f, (uint16_t)o->hdr_len) : NULL;
		if (!p) {
			rte_pktmbuf_free(f);
			return -ENOBUFS;
		}
		o->emit(o, p, at, n, at + n < payload);
		/* A fragment larger than one mbuf (a jumbo MTU) is a chain; its first segment holds the
		 * headers and at least the UDP header. */
		struct rte_mbuf *tail = f;
		int rc = ffs_mbuf_append_from(lc->st->pool, f, &tail, m, off + at, n);
		if (rc != 0) {
			rte_pktmbuf_free(f);
			return rc;
		}
		if (at == 0 && udp_cksum >= 0)
			wr_be16(p + o->hdr_len + UDP_OFF_CHECKSUM, (uint16_t)udp_cksum);
		rc = o->send(o, f);
		if (rc != 0)
			return rc;
	}
	return 0;
}
