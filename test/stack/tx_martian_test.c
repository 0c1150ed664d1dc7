/*
 * Nothing martian leaves a port (RFC 1122 §3.2.1.3, RFC 4291 §2.5.2-3): the output check of
 * ipv4_output and ipv6_output on a running inline stack whose one port is a net_ring vdev at
 * 10.0.0.1/24 (what the stack transmits comes back on the port's RX queue), with a peer 10.0.0.2 of
 * a static ARP entry.
 *
 * Cases: the wire predicates; a 127/8 source or destination and a ::1 source kept from the port and
 * counted (ip.tx_martian, ip6.tx_martian) while the same datagram from the port's address leaves;
 * a group datagram from 127.0.0.1 (IP_MULTICAST_IF 127.0.0.1) delivered to a member joined on
 * loopback and never transmitted; the errors a sender sees, as Linux gives them (a socket bound to
 * 127.0.0.1 sending off the host: EINVAL; to a group: success).
 */
#include <errno.h>
#include <string.h>
#include <sys/uio.h>
#include <rte_mbuf.h>

#include "stack/iface/iface.h"
#include "stack/lcore/lcore.h"
#include "stack/sock/sock.h"
#include "stack/wire/eth.h"
#include "stack/wire/ipv4.h"
#include "stack/wire/ipv6.h"
#include "test/stack/harness.h"
#include "test/stack/stack_env.h"

#define IP(a, b, c, d) ((uint32_t)(a) << 24 | (uint32_t)(b) << 16 | (uint32_t)(c) << 8 | (uint32_t)(d))
#define OUR_ADDR IP(10, 0, 0, 1)
#define PEER_ADDR IP(10, 0, 0, 2)
#define LOCALHOST IP(127, 0, 0, 1)
#define MDNS_GROUP IP(224, 0, 0, 251)
#define MDNS_PORT 5353

static const struct eth_addr PEER_MAC = { { 0x02, 0, 0, 0, 0, 0x02 } };

static struct ffs_stack *st;
static struct ffs_lcore *lc;
static struct ffs_app *app;
static int pool_base;

static void setup(void)
{
	if (st)
		return;
	st = test_ring_stack_start("tx_martian_test", "128", OUR_ADDR, 0xffffff00u);
	lc = st->lcores[0];
	test_ring_peer(st, "tx_martian_test", PEER_ADDR, &PEER_MAC);
	test_port_settle(st, 300);
	app = ffs_app_new(st);
	CHECK(app != NULL);
	pool_base = ffs_stack_mempool_in_use(st);
}

/** Frames port 0 sent since the last call (freed). */
static unsigned sent(void) { return test_port_drain(lc, NULL, 0); }

/** A UDP payload of 8 bytes in a fresh mbuf, headroom left for the headers. */
static struct rte_mbuf *payload(void)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(st->pool);
	CHECK(m != NULL);
	CHECK(rte_pktmbuf_append(m, 8) != NULL);
	memset(rte_pktmbuf_mtod(m, uint8_t *), 0x5a, 8);
	return m;
}

static int out4(uint32_t src, uint32_t dst)
{
	struct ipv4_out o = { .src = src, .dst = dst, .proto = IPV4_PROTO_UDP };
	return ipv4_output(lc, payload(), &o);
}

static int out6(const char *src, const char *dst)
{
	struct ipv6_out o = { .next_header = IPV6_NH_UDP, .scope_port = 0 };
	CHECK_EQ_INT(ip6_parse(src, &o.src), 0);
	CHECK_EQ_INT(ip6_parse(dst, &o.dst), 0);
	return ipv6_output(lc, payload(), &o);
}

TEST(the_wire_predicates)
{
	CHECK(ipv4_martian_on_wire(LOCALHOST, PEER_ADDR));
	CHECK(ipv4_martian_on_wire(IP(127, 1, 2, 3), MDNS_GROUP));
	CHECK(ipv4_martian_on_wire(0, 0xffffffffu));
	CHECK(ipv4_martian_on_wire(OUR_ADDR, IP(127, 0, 0, 9)));
	CHECK(!ipv4_martian_on_wire(OUR_ADDR, PEER_ADDR));
	CHECK(!ipv4_martian_on_wire(OUR_ADDR, MDNS_GROUP));
	CHECK(!ipv4_martian_on_wire(IP(126, 255, 255, 255), IP(128, 0, 0, 0)));
	struct ip6_addr one, any, ll, group;
	CHECK_EQ_INT(ip6_parse("::1", &one), 0);
	CHECK_EQ_INT(ip6_parse("::", &any), 0);
	CHECK_EQ_INT(ip6_parse("fe80::1", &ll), 0);
	CHECK_EQ_INT(ip6_parse("ff02::fb", &group), 0);
	CHECK(ip6_martian_on_wire(&one, &group));
	CHECK(ip6_martian_on_wire(&any, &ll));
	CHECK(ip6_martian_on_wire(&ll, &one));
	CHECK(!ip6_martian_on_wire(&ll, &group));
}

TEST(a_loopback_source_never_leaves_and_is_counted)
{
	setup();
	sent();
	struct ffs_counters before = lc->ctr;
	CHECK_EQ_INT(out4(LOCALHOST, PEER_ADDR), -EINVAL);
	CHECK_EQ_INT(out4(IP(127, 9, 9, 9), PEER_ADDR), -EINVAL);
	CHECK_EQ_INT(sent(), 0);
	CHECK_EQ_INT(lc->ctr.ip_tx_martian - before.ip_tx_martian, 2);
	CHECK_EQ_INT(lc->ctr.ip_tx - before.ip_tx, 0);
	/* The same datagram from the port's address leaves. */
	CHECK_EQ_INT(out4(OUR_ADDR, PEER_ADDR), 0);
	CHECK_EQ_INT(sent(), 1);
	CHECK_EQ_INT(lc->ctr.ip_tx_martian - before.ip_tx_martian, 2);
	CHECK_EQ_INT(test_pool_settles_at(st, pool_base), pool_base);
}

TEST(a_loopback_source_to_a_group_or_broadcast_stays_on_loopback)
{
	setup();
	sent();
	struct ffs_counters before = lc->ctr;
	/* No member, no loop: nothing leaves, nothing is looped, and it is no error (Linux sends it on lo). */
	CHECK_EQ_INT(out4(LOCALHOST, MDNS_GROUP), 0);
	CHECK_EQ_INT(out4(LOCALHOST, 0xffffffffu), 0); /* the limited broadcast loops back to local sockets */
	ffs_stack_poll(st);
	CHECK_EQ_INT(sent(), 0);
	CHECK_EQ_INT(lc->ctr.ip_loopback - before.ip_loopback, 1);
	CHECK_EQ_INT(lc->ctr.ip_tx_martian - before.ip_tx_martian, 0);
	CHECK_EQ_INT(test_pool_settles_at(st, pool_base), pool_base);
}

TEST(an_ipv6_loopback_source_never_leaves_and_is_counted)
{
	setup();
	sent();
	struct ffs_counters before = lc->ctr;
	CHECK_EQ_INT(out6("::1", "ff02::fb"), -EINVAL);
	CHECK_EQ_INT(out6("::1", "fe80::2"), -EINVAL);
	CHECK_EQ_INT(sent(), 0);
	CHECK_EQ_INT(lc->ctr.ip6_tx_martian - before.ip6_tx_martian, 2);
	/* From the port's link-local address (chosen by the stack for ::) the group datagram leaves. */
	CHECK_EQ_INT(out6("::", "ff02::fb"), 0);
	CHECK_EQ_INT(sent(), 1);
	CHECK_EQ_INT(lc->ctr.ip6_tx_martian - before.ip6_tx_martian, 2);
	CHECK_EQ_INT(test_pool_settles_at(st, pool_base), pool_base);
}

static struct ffs_sock *udp_sock(uint32_t addr, uint16_t port)
{
	struct ffs_sock *so;
	CHECK_EQ_INT(ffs_sock_open(st, app, &so), 0);
	so->reuseaddr = true;
	CHECK_EQ_INT(ffs_sock_bind(st, so, addr, port), 0);
	return so;
}

static int send8(struct ffs_sock *so, uint32_t dst, uint16_t port)
{
	static const char bytes[8] = "martian";
	struct iovec iov = { (void *)bytes, sizeof(bytes) };
	return ffs_sock_sendv(st, so, &iov, 1, dst, port);
}

/* The user report: multicast-dns sets its multicast interface to 127.0.0.1; the mDNS datagram
 * reaches the stack's own member on loopback and is never transmitted (Linux keeps it on lo). */
TEST(a_multicast_interface_of_127_0_0_1_reaches_local_members_only)
{
	setup();
	sent();
	struct ffs_counters before = lc->ctr;
	struct ffs_sock *member = udp_sock(0, MDNS_PORT);
	CHECK_EQ_INT(ffs_sock_join(st, member, MDNS_GROUP, LOCALHOST, 0), 0);
	sent(); /* no report for a loopback membership; whatever the join sent is not the datagram */
	struct ffs_sock *sender = udp_sock(0, 0);
	sender->mcast_if = LOCALHOST;
	CHECK_EQ_INT(send8(sender, MDNS_GROUP, MDNS_PORT), 8);
	ffs_stack_poll(st);
	ffs_stack_poll(st);
	CHECK_EQ_INT(sent(), 0);
	char buf[16];
	struct iovec iov = { buf, sizeof(buf) };
	uint32_t src = 0, dst = 0;
	uint16_t sport = 0;
	bool truncated = false;
	CHECK_EQ_INT(ffs_sock_recvv(st, member, &iov, 1, &src, &sport, &dst, &truncated, false), 8);
	CHECK_EQ_INT(src, LOCALHOST);
	CHECK_EQ_INT(dst, MDNS_GROUP);
	CHECK_EQ_INT(lc->ctr.ip_tx_martian - before.ip_tx_martian, 0);
	/* A socket bound to 127.0.0.1 likewise. Off the host it gets Linux's EINVAL, and nothing leaves. */
	struct ffs_sock *bound = udp_sock(LOCALHOST, 0);
	CHECK_EQ_INT(send8(bound, MDNS_GROUP, MDNS_PORT), 8);
	CHECK_EQ_INT(send8(bound, PEER_ADDR, 9), -EINVAL);
	CHECK_EQ_INT(send8(bound, IP(10, 9, 0, 1), 9), -ENETUNREACH); /* no route comes first, as on Linux */
	CHECK_EQ_INT(send8(bound, OUR_ADDR, MDNS_PORT), 8);           /* our own address is on the host */
	ffs_stack_poll(st);
	ffs_stack_poll(st);
	CHECK_EQ_INT(sent(), 0);
	CHECK_EQ_INT(ffs_sock_recvv(st, member, &iov, 1, &src, &sport, &dst, &truncated, false), 8);
	CHECK_EQ_INT(src, LOCALHOST);
	CHECK_EQ_INT(ffs_sock_recvv(st, member, &iov, 1, &src, &sport, &dst, &truncated, false), 8);
	CHECK_EQ_INT(dst, OUR_ADDR);
	/* No interface and no route to the group (no default route): Linux's ENETUNREACH. The port's
	 * address as the interface: the group leaves by the port. */
	sender->mcast_if = 0;
	CHECK_EQ_INT(send8(sender, MDNS_GROUP, MDNS_PORT), -ENETUNREACH);
	sender->mcast_if = OUR_ADDR;
	CHECK_EQ_INT(send8(sender, MDNS_GROUP, MDNS_PORT), 8);
	ffs_stack_poll(st);
	CHECK_EQ_INT(sent(), 1);
	CHECK_EQ_INT(ffs_sock_close(st, bound), 0);
	CHECK_EQ_INT(ffs_sock_close(st, sender), 0);
	CHECK_EQ_INT(ffs_sock_close(st, member), 0);
	sent();
	CHECK_EQ_INT(test_pool_settles_at(st, pool_base), pool_base);
}

int main(int argc, char **argv)
{
	int rc = test__main(argc, argv, __FILE__);
	if (app)
		ffs_app_free(st, app);
	return st ? test_ring_stack_stop(st, rc) : rc;
}
