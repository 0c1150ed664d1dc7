/* The stack's mbuf dynamic fields (see mbuf.h). */
#include "stack/phy/mbuf.h"

int ffs_mbuf_link_offset = -1;

int ffs_mbuf_dynfields_register(void)
{
	static const struct rte_mbuf_dynfield link = {
		.name = "ffnet_link",
		.size = sizeof(struct rte_mbuf *),
		.align = __alignof__(struct rte_mbuf *),
	};
	if (ffs_mbuf_link_offset >= 0)
		return 0;
	ffs_mbuf_link_offset = rte_mbuf_dynfield_register(&link);
	return ffs_mbuf_link_offset < 0 ? -1 : 0;
}
