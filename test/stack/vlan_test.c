/*
 * 802.1Q on a port with vlan_id = 100 (stack/iface/ethernet.c), driven directly on a running inline
 * stack whose one port is a net_ring vdev (no VLAN offloads): echo requests go in through Ethernet
 * input, the replies are read back from the ring.
 *
 * Cases: a tagged request is answered with a tagged reply (the tag removed in software on input,
 * inserted in software on output); a request the device stripped (RTE_MBUF_F_RX_VLAN_STRIPPED, the
 * TCI in the mbuf, priority bits included) is taken as tagged; other VIDs, untagged and
 * priority-tagged requests (VID 0), stripped or not, are dropped and counted as eth.vlan_mismatch and
 * answered by nothing; a tag cut short counts as a runt; with the device inserting tags
 * (vlan_tx_offload) a reply leaves untagged, its TCI and RTE_MBUF_F_TX_VLAN in the mbuf.
 */
#include <string.h>
#include <rte_mbuf.h>

#include "stack/iface/iface.h"
#include "stack/lcore/lcore.h"
#include "stack/wire/checksum.h"
#include "stack/wire/icmp.h"
#include "stack/wire/ipv4.h"
#include "test/stack/harness.h"
#include "test/stack/stack_env.h"

#define OUR_ADDR 0x0a450001u  /* 10.69.0.1, the port's address */
#define PEER_ADDR 0x0a450002u /* 10.69.0.2 (static ARP) */
#define VID 100
#define ECHO_DATA 16
#define ECHO_LEN (ETH_HDR_LEN + IPV4_HDR_LEN + ICMP_HDR_LEN + ECHO_DATA)

static const struct eth_addr PEER_MAC = { { 0x02, 0, 0, 0, 0x45, 0x02 } };

static struct ffs_stack *st;
static struct ffs_lcore *lc;
static struct ffs_port *port;

static void setup(void)
{
	st = test_ring_stack_start_vlan("vlan_test", "128", OUR_ADDR, 0xffffff00u, VID);
	lc = st->lcores[0];
	port = &st->ports[0];
	test_ring_peer(st, "vlan_test", PEER_ADDR, &PEER_MAC);
	test_port_settle(st, 1100);
}

/**
 * An echo request from the peer as a received mbuf: tagged with `tci` inline when `inline_tag`, else
 * untagged (a caller may then mark it as the device strips it).
 */
static struct rte_mbuf *echo_request(uint16_t seq, bool inline_tag, uint16_t tci)
{
	uint8_t frame[ECHO_LEN], data[ECHO_DATA];
	memset(data, 0x5a, sizeof(data));
	struct eth_repr eth = { .dst = port->mac, .src = PEER_MAC, .ethertype = ETH_TYPE_IPV4 };
	struct ipv4_repr ip = { .src = PEER_ADDR, .dst = OUR_ADDR, .proto = IPV4_PROTO_ICMP, .ttl = 64, .id = seq,
				.hdr_len = IPV4_HDR_LEN, .payload_len = ICMP_HDR_LEN + ECHO_DATA };
	struct icmp_repr icmp = { .type = ICMP_ECHO_REQUEST, .ident = 0x4545, .seq = seq, .data = data, .data_len = ECHO_DATA };
	eth_repr_emit(&eth, frame, ETH_HDR_LEN);
	ipv4_repr_emit(&ip, frame + ETH_HDR_LEN, IPV4_HDR_LEN, &WIRE_CSUM_SOFTWARE);
	icmp_repr_emit(&icmp, frame + ETH_HDR_LEN + IPV4_HDR_LEN, ICMP_HDR_LEN + ECHO_DATA);
	struct rte_mbuf *m = rte_pktmbuf_alloc(st->pool);
	CHECK(m != NULL);
	uint8_t *p = (uint8_t *)rte_pktmbuf_append(m, ECHO_LEN + (inline_tag ? ETH_VLAN_TAG_LEN : 0));
	CHECK(p != NULL);
	if (!inline_tag) {
		memcpy(p, frame, ECHO_LEN);
		return m;
	}
	memcpy(p, frame, 2 * ETH_ADDR_LEN);
	wr_be16(p + 12, ETH_TYPE_VLAN);
	wr_be16(p + 14, tci);
	memcpy(p + 16, frame + 12, ECHO_LEN - 12); /* the EtherType, then the packet */
	return m;
}

/** A request the device stripped of its tag `tci`. */
static struct rte_mbuf *stripped_echo_request(uint16_t seq, uint16_t tci)
{
	struct rte_mbuf *m = echo_request(seq, false, 0);
	m->ol_flags |= RTE_MBUF_F_RX_VLAN | RTE_MBUF_F_RX_VLAN_STRIPPED;
	m->vlan_tci = tci;
	return m;
}

/** Feeds `m` through Ethernet input and reads back what the stack sent: the first frame in *out. */
static unsigned feed(struct rte_mbuf *m, struct rte_mbuf **out)
{
	lc->now = rte_rdtsc();
	eth_input(lc, port, m);
	return test_port_drain(lc, out, 1);
}

/** The reply in `r` is an echo reply for `seq` carried in a frame tagged with VID, priority 0. */
static void check_tagged_reply(struct rte_mbuf *r, uint16_t seq)
{
	const uint8_t *p = rte_pktmbuf_mtod(r, const uint8_t *);
	CHECK_EQ_INT(rte_pktmbuf_pkt_len(r), ECHO_LEN + ETH_VLAN_TAG_LEN);
	CHECK(memcmp(p, PEER_MAC.b, ETH_ADDR_LEN) == 0);
	CHECK(memcmp(p + ETH_ADDR_LEN, port->mac.b, ETH_ADDR_LEN) == 0);
	CHECK_EQ_INT(rd_be16(p + 12), ETH_TYPE_VLAN);
	CHECK_EQ_INT(rd_be16(p + 14), VID);
	CHECK_EQ_INT(rd_be16(p + 16), ETH_TYPE_IPV4);
	CHECK_EQ_INT(p[ETH_VLAN_HDR_LEN + IPV4_HDR_LEN], ICMP_ECHO_REPLY);
	CHECK_EQ_INT(rd_be16(p + ETH_VLAN_HDR_LEN + IPV4_HDR_LEN + 6), seq);
}

TEST(a_tagged_request_gets_a_tagged_reply)
{
	struct ffs_counters before = lc->ctr;
	struct rte_mbuf *r = NULL;
	CHECK_EQ_INT(feed(echo_request(1, true, VID), &r), 1);
	check_tagged_reply(r, 1);
	rte_pktmbuf_free(r);
	CHECK_EQ_INT(lc->ctr.icmp_echo_in - before.icmp_echo_in, 1);
	CHECK_EQ_INT(lc->ctr.eth_vlan_mismatch - before.eth_vlan_mismatch, 0);
}

TEST(a_request_the_device_stripped_is_taken_as_tagged_whatever_its_priority)
{
	struct rte_mbuf *r = NULL;
	CHECK_EQ_INT(feed(stripped_echo_request(2, 0xa000 | VID), &r), 1);
	check_tagged_reply(r, 2);
	rte_pktmbuf_free(r);
}

TEST(other_vids_untagged_and_priority_tagged_requests_are_dropped_and_counted)
{
	struct rte_mbuf *frames[] = {
		echo_request(3, true, 200), stripped_echo_request(4, 200), echo_request(5, false, 0),
		echo_request(6, true, 0xa000), stripped_echo_request(7, 0xa000),
	};
	for (unsigned i = 0; i < sizeof(frames) / sizeof(frames[0]); i++) {
		struct ffs_counters before = lc->ctr;
		CHECK_EQ_INT(feed(frames[i], NULL), 0);
		CHECK_EQ_INT(lc->ctr.eth_vlan_mismatch - before.eth_vlan_mismatch, 1);
		CHECK_EQ_INT(lc->ctr.icmp_echo_in - before.icmp_echo_in, 0);
	}
}

TEST(a_tag_cut_short_is_a_runt)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(st->pool);
	CHECK(m != NULL);
	uint8_t *p = (uint8_t *)rte_pktmbuf_append(m, ETH_VLAN_HDR_LEN - 1);
	CHECK(p != NULL);
	memset(p, 0, ETH_VLAN_HDR_LEN - 1);
	memcpy(p, port->mac.b, ETH_ADDR_LEN);
	wr_be16(p + 12, ETH_TYPE_VLAN);
	struct ffs_counters before = lc->ctr;
	CHECK_EQ_INT(feed(m, NULL), 0);
	CHECK_EQ_INT(lc->ctr.eth_runt - before.eth_runt, 1);
	CHECK_EQ_INT(lc->ctr.eth_vlan_mismatch - before.eth_vlan_mismatch, 0);
}

TEST(with_the_device_inserting_tags_a_reply_leaves_with_its_tci_in_the_mbuf)
{
	port->vlan_tx_offload = true;
	struct rte_mbuf *r = NULL;
	CHECK_EQ_INT(feed(echo_request(8, true, VID), &r), 1);
	port->vlan_tx_offload = false;
	/* net_ring hands the mbuf itself to its receive side: the request to the device is still on it. */
	CHECK(r->ol_flags & RTE_MBUF_F_TX_VLAN);
	CHECK_EQ_INT(r->vlan_tci, VID);
	CHECK_EQ_INT(rte_pktmbuf_pkt_len(r), ECHO_LEN);
	CHECK_EQ_INT(rd_be16(rte_pktmbuf_mtod(r, const uint8_t *) + 12), ETH_TYPE_IPV4);
	rte_pktmbuf_free(r);
}

int main(int argc, char **argv)
{
	setup();
	int rc = test__main(argc, argv, __FILE__);
	return test_ring_stack_stop(st, rc);
}
