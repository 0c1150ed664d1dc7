/*
 * mbuf helpers shared by the stack: a dynamic field that links mbufs into the stack's own queues
 * (neighbour hold queues) without touching m->next, which belongs to multi-segment packets.
 */
#ifndef FFNET_PHY_MBUF_H
#define FFNET_PHY_MBUF_H

#include <rte_mbuf.h>
#include <rte_mbuf_dyn.h>

extern int ffs_mbuf_link_offset;

/** Registers the stack's mbuf dynamic fields (idempotent). 0, or -1 with rte_errno set. */
int ffs_mbuf_dynfields_register(void);

/** The link to the next mbuf in a stack-private queue. */
static inline struct rte_mbuf **ffs_mbuf_link(struct rte_mbuf *m)
{
	return RTE_MBUF_DYNFIELD(m, ffs_mbuf_link_offset, struct rte_mbuf **);
}

#endif
