/* The stack's mbuf dynamic fields (see mbuf.h). */
#include "stack/phy/mbuf.h"

int ffs_mbuf_link_offset = -1;
int ffs_mbuf_meta_offset = -1;

/*
 * One dynamic field serves both uses: a packet is linked into a stack queue (ARP hold, reassembly)
 * only while its ffs_meta is not needed (TX: copied out before headers are built; RX: written after
 * reassembly). The mbuf's dynamic area is 36 bytes and PMDs take some of it (net_pcap's timestamp),
 * so the stack claims as little as it can.
 */
union ffs_mbuf_scratch {
	struct ffs_meta meta;
	struct rte_mbuf *link;
};

int ffs_mbuf_dynfields_register(void)
{
	static const struct rte_mbuf_dynfield field = {
		.name = "ffnet_scratch",
		.size = sizeof(union ffs_mbuf_scratch),
		.align = __alignof__(union ffs_mbuf_scratch),
	};
	if (ffs_mbuf_meta_offset >= 0)
		return 0;
	int off = rte_mbuf_dynfield_register(&field);
	if (off < 0)
		return -1;
	ffs_mbuf_link_offset = ffs_mbuf_meta_offset = off;
	return 0;
}
