/*
 * mbuf helpers shared by the stack: one dynamic field that holds either a link into the stack's own
 * queues (neighbour hold queues, reassembly) — m->next belongs to multi-segment packets — or a
 * datagram's addresses and socket (struct ffs_meta, sock/sock.h); never both at once.
 */
#ifndef FFNET_PHY_MBUF_H
#define FFNET_PHY_MBUF_H

#include <rte_mbuf.h>
#include <rte_mbuf_dyn.h>

#include "stack/sock/sock.h"

extern int ffs_mbuf_link_offset;
extern int ffs_mbuf_meta_offset;

/** Registers the stack's mbuf dynamic fields (idempotent). 0, or -1 with rte_errno set. */
int ffs_mbuf_dynfields_register(void);

/** The link to the next mbuf in a stack-private queue. */
static inline struct rte_mbuf **ffs_mbuf_link(struct rte_mbuf *m)
{
	return RTE_MBUF_DYNFIELD(m, ffs_mbuf_link_offset, struct rte_mbuf **);
}

/** A datagram's addresses and socket. */
static inline struct ffs_meta *ffs_meta(struct rte_mbuf *m)
{
	return RTE_MBUF_DYNFIELD(m, ffs_mbuf_meta_offset, struct ffs_meta *);
}

#endif
