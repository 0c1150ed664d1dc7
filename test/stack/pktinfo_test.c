/*
 * IP_PKTINFO and IPV6_PKTINFO through ff_recvmsg, ff_recvmmsg and ff_sendmsg, on an inline stack with
 * two net_ring ports that this thread drives: port 0 at 10.99.0.2/24 with fd00:99::2/64 and
 * fd00:99::3/64, port 1 at 10.98.0.2/24; the peer 10.99.0.1 / fd00:99::1 at static neighbour entries
 * of port 0.
 *
 * Receive: a socket on the wildcard address learns each datagram's destination and interface
 * (struct in_pktinfo / in6_pktinfo, Linux's layouts) from the wire and looped back, only once it
 * asked (IP_PKTINFO, IPV6_RECVPKTINFO); a control buffer too short is MSG_CTRUNC. Send: a datagram
 * leaves from the address IP_PKTINFO's ipi_spec_dst or IPV6_PKTINFO's ipi6_addr names (read back
 * from the ring), or from the port ipi_ifindex names; malformed control messages (lengths, unknown
 * types) are EINVAL, an interface that is no port ENODEV, a source that is not ours ENETUNREACH
 * (IPv4) or EINVAL (IPv6), a broadcast, multicast or loopback one EINVAL — each as Linux 6.x answers
 * in a network namespace.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>

#include "posix/ff_api.h"
#include "stack/iface/iface.h"
#include "stack/lcore/lcore.h"
#include "stack/stack.h"
#include "stack/wire/eth.h"
#include "stack/wire/ipv4.h"
#include "stack/wire/ipv6.h"
#include "stack/wire/udp.h"
#include "test/stack/harness.h"
#include "test/stack/stack_env.h"

#define OUR_PORT 7
#define PEER_PORT 9
#define PAYLOAD 16

static const struct eth_addr PEER_MAC = { { 0x02, 0, 0, 0, 0x99, 0x01 } };
static const uint32_t OUR4 = 0x0a630002u, OTHER4 = 0x0a620002u, PEER4 = 0x0a630001u; /* 10.99.0.2, 10.98.0.2, 10.99.0.1 */
static struct ip6_addr OUR6, SECOND6, PEER6;
static struct ffs_stack *st;
static struct ffs_lcore *lc;

static void setup(void)
{
	const char *ports = "[port0]\naddr = 10.99.0.2\nnetmask = 255.255.255.0\naddr6[] = fd00:99::2/64\n"
			    "addr6[] = fd00:99::3/64\narp[] = 10.99.0.1 02:00:00:00:99:01\n"
			    "[port1]\naddr = 10.98.0.2\nnetmask = 255.255.255.0\n";
	if (test_ff_init_conf("pktinfo_test", "lcore_mask = 0x1\nvdev[] = net_ring0\nvdev[] = net_ring1\n", ports) != 0 ||
	    !(st = ffs_stack_current())) {
		fprintf(stderr, "pktinfo_test: ff_init failed\n");
		exit(2);
	}
	lc = st->lcores[0];
	ip6_parse("fd00:99::2", &OUR6);
	ip6_parse("fd00:99::3", &SECOND6);
	ip6_parse("fd00:99::1", &PEER6);
	lc->now = rte_rdtsc();
	if (nd6_add_static(lc, 0, &PEER6, &PEER_MAC) != 0) {
		fprintf(stderr, "pktinfo_test: static neighbour entry refused\n");
		exit(2);
	}
	test_port_drain(lc, NULL, 0);
}

static void settle(void)
{
	for (int k = 0; k < 100 && ffs_stack_poll(st); k++)
		;
}

static int sock_on(int family, uint16_t port)
{
	int s = ff_socket(family, SOCK_DGRAM | SOCK_NONBLOCK, 0);
	CHECK(s >= 0);
	struct sockaddr_in a4 = { .sin_family = AF_INET, .sin_port = htons(port) };
	struct sockaddr_in6 a6 = { .sin6_family = AF_INET6, .sin6_port = htons(port) };
	CHECK_EQ_INT(family == AF_INET6 ? ff_bind(s, (struct sockaddr *)&a6, sizeof(a6)) : ff_bind(s, (struct sockaddr *)&a4, sizeof(a4)), 0);
	return s;
}

static int set_on(int s, int level, int opt)
{
	int one = 1;
	return ff_setsockopt(s, level, opt, &one, sizeof(one));
}

static struct sockaddr_in sin_of(uint32_t addr, uint16_t port)
{
	return (struct sockaddr_in){ .sin_family = AF_INET, .sin_port = htons(port), .sin_addr.s_addr = htonl(addr) };
}

static struct sockaddr_in6 sin6_of(const struct ip6_addr *a, uint16_t port)
{
	struct sockaddr_in6 s = { .sin6_family = AF_INET6, .sin6_port = htons(port) };
	memcpy(&s.sin6_addr, a->b, 16);
	return s;
}

/** A UDP frame from the peer to `dst` (IPv4) at OUR_PORT, arriving on port `port`. */
static void inject4(unsigned port, uint32_t dst)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(st->pool);
	CHECK(m != NULL);
	m->port = st->ports[port].port_id; /* as a device's RX sets it */
	size_t len = ETH_HDR_LEN + IPV4_HDR_LEN + UDP_HDR_LEN + PAYLOAD;
	uint8_t *f = (uint8_t *)rte_pktmbuf_append(m, (uint16_t)len);
	memset(f, 0, len);
	struct eth_repr eth = { .dst = st->ports[port].mac, .src = PEER_MAC, .ethertype = ETH_TYPE_IPV4 };
	eth_repr_emit(&eth, f, len);
	struct ipv4_repr ip = { .src = PEER4, .dst = dst, .proto = IPV4_PROTO_UDP, .ttl = 64, .hdr_len = IPV4_HDR_LEN,
				.payload_len = UDP_HDR_LEN + PAYLOAD };
	ipv4_repr_emit(&ip, f + ETH_HDR_LEN, IPV4_HDR_LEN, &WIRE_CSUM_SOFTWARE);
	struct udp_repr u = { .src_port = PEER_PORT, .dst_port = OUR_PORT, .payload_len = PAYLOAD };
	udp_repr_emit(&u, f + ETH_HDR_LEN + IPV4_HDR_LEN, UDP_HDR_LEN + PAYLOAD, PEER4, dst, &WIRE_CSUM_SOFTWARE);
	CHECK_EQ_INT(rte_eth_tx_burst(st->ports[port].port_id, 0, &m, 1), 1);
	settle();
}

/** A UDP frame from the peer to `dst` (IPv6) at OUR_PORT, arriving on port 0. */
static void inject6(const struct ip6_addr *dst)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(st->pool);
	CHECK(m != NULL);
	m->port = st->ports[0].port_id;
	size_t len = ETH_HDR_LEN + IPV6_HDR_LEN + UDP_HDR_LEN + PAYLOAD;
	uint8_t *f = (uint8_t *)rte_pktmbuf_append(m, (uint16_t)len);
	memset(f, 0, len);
	struct eth_repr eth = { .dst = st->ports[0].mac, .src = PEER_MAC, .ethertype = ETH_TYPE_IPV6 };
	eth_repr_emit(&eth, f, len);
	struct ipv6_repr ip = { .src = PEER6, .dst = *dst, .next_header = IPV6_NH_UDP, .hop_limit = 64,
				.payload_len = UDP_HDR_LEN + PAYLOAD };
	ipv6_repr_emit(&ip, f + ETH_HDR_LEN, IPV6_HDR_LEN);
	struct udp_repr u = { .src_port = PEER_PORT, .dst_port = OUR_PORT, .payload_len = PAYLOAD };
	udp6_repr_emit(&u, f + ETH_HDR_LEN + IPV6_HDR_LEN, UDP_HDR_LEN + PAYLOAD, &PEER6, dst, &WIRE_CSUM_SOFTWARE);
	CHECK_EQ_INT(rte_eth_tx_burst(st->ports[0].port_id, 0, &m, 1), 1);
	settle();
}

/** What ff_recvmsg gave: the payload's length, the flags and the one control message, if any. */
struct received {
	int len;
	int flags;
	size_t controllen;
	int level, type;
	union {
		struct in_pktinfo in;
		struct in6_pktinfo in6;
	} info;
};

static struct received recv_with_control(int s, size_t control_room)
{
	static uint8_t control[256];
	uint8_t buf[64];
	struct iovec iov = { buf, sizeof(buf) };
	struct sockaddr_in6 from;
	struct msghdr msg = { .msg_name = &from, .msg_namelen = sizeof(from), .msg_iov = &iov, .msg_iovlen = 1,
			      .msg_control = control_room ? control : NULL, .msg_controllen = control_room };
	memset(control, 0xee, sizeof(control));
	struct received r = { .len = (int)ff_recvmsg(s, &msg, 0), .flags = msg.msg_flags, .controllen = msg.msg_controllen };
	struct cmsghdr *c = r.len >= 0 ? CMSG_FIRSTHDR(&msg) : NULL;
	if (c) {
		r.level = c->cmsg_level;
		r.type = c->cmsg_type;
		memcpy(&r.info, CMSG_DATA(c), c->cmsg_len - CMSG_LEN(0) < sizeof(r.info) ? c->cmsg_len - CMSG_LEN(0) : sizeof(r.info));
	}
	return r;
}

static void check_in_pktinfo(const struct received *r, int ifindex, uint32_t spec_dst, uint32_t addr)
{
	CHECK_EQ_INT(r->len, PAYLOAD);
	CHECK_EQ_INT((int)r->controllen, (int)CMSG_SPACE(sizeof(struct in_pktinfo)));
	CHECK_EQ_INT(r->level, SOL_IP);
	CHECK_EQ_INT(r->type, IP_PKTINFO);
	CHECK_EQ_INT(r->info.in.ipi_ifindex, ifindex);
	CHECK_EQ_INT((int)ntohl(r->info.in.ipi_spec_dst.s_addr), (int)spec_dst);
	CHECK_EQ_INT((int)ntohl(r->info.in.ipi_addr.s_addr), (int)addr);
}

TEST(ip_pktinfo_off_by_default)
{
	int s = sock_on(AF_INET, OUR_PORT);
	int v = -1;
	socklen_t len = sizeof(v);
	CHECK_EQ_INT(ff_getsockopt(s, IPPROTO_IP, IP_PKTINFO, &v, &len), 0);
	CHECK_EQ_INT(v, 0);
	inject4(0, OUR4);
	struct received r = recv_with_control(s, 256);
	CHECK_EQ_INT(r.len, PAYLOAD);
	CHECK_EQ_INT((int)r.controllen, 0);
	CHECK_EQ_INT(r.flags, 0);
	ff_close(s);
}

TEST(ip_pktinfo_reports_destination_and_interface_from_the_wire)
{
	int s = sock_on(AF_INET, OUR_PORT);
	CHECK_EQ_INT(set_on(s, IPPROTO_IP, IP_PKTINFO), 0);
	int v = 0;
	socklen_t len = sizeof(v);
	CHECK_EQ_INT(ff_getsockopt(s, IPPROTO_IP, IP_PKTINFO, &v, &len), 0);
	CHECK_EQ_INT(v, 1);
	inject4(0, OUR4);
	struct received r = recv_with_control(s, 256);
	check_in_pktinfo(&r, 1, OUR4, OUR4);
	inject4(1, OTHER4);
	r = recv_with_control(s, 256);
	check_in_pktinfo(&r, 2, OTHER4, OTHER4);
	/* A subnet broadcast: the reply's address (ipi_spec_dst) is the port's. */
	CHECK_EQ_INT(set_on(s, SOL_SOCKET, SO_BROADCAST), 0);
	inject4(0, 0x0a6300ffu);
	r = recv_with_control(s, 256);
	check_in_pktinfo(&r, 1, OUR4, 0x0a6300ffu);
	ff_close(s);
}

TEST(ip_pktinfo_reports_looped_back_datagrams_by_their_address)
{
	int s = sock_on(AF_INET, OUR_PORT);
	CHECK_EQ_INT(set_on(s, IPPROTO_IP, IP_PKTINFO), 0);
	int c = sock_on(AF_INET, 0);
	struct sockaddr_in to = sin_of(OTHER4, OUR_PORT);
	CHECK_EQ_INT((int)ff_sendto(c, "0123456789abcdef", PAYLOAD, 0, (struct sockaddr *)&to, sizeof(to)), PAYLOAD);
	settle();
	struct received r = recv_with_control(s, 256);
	check_in_pktinfo(&r, 2, OTHER4, OTHER4);
	ff_close(c);
	ff_close(s);
}

TEST(short_control_buffer_is_truncated)
{
	int s = sock_on(AF_INET, OUR_PORT);
	CHECK_EQ_INT(set_on(s, IPPROTO_IP, IP_PKTINFO), 0);
	inject4(0, OUR4);
	struct received r = recv_with_control(s, 8); /* shorter than a cmsghdr */
	CHECK_EQ_INT(r.len, PAYLOAD);
	CHECK_EQ_INT((int)r.controllen, 0);
	CHECK_EQ_INT(r.flags, MSG_CTRUNC);
	inject4(0, OUR4);
	r = recv_with_control(s, CMSG_LEN(4)); /* the header and the interface index */
	CHECK_EQ_INT((int)r.controllen, (int)CMSG_LEN(4));
	CHECK_EQ_INT(r.flags, MSG_CTRUNC);
	CHECK_EQ_INT(r.info.in.ipi_ifindex, 1);
	ff_close(s);
}

TEST(recvmmsg_carries_pktinfo_per_datagram)
{
	int s = sock_on(AF_INET, OUR_PORT);
	CHECK_EQ_INT(set_on(s, IPPROTO_IP, IP_PKTINFO), 0);
	inject4(0, OUR4);
	inject4(1, OTHER4);
	uint8_t bufs[2][64], control[2][64];
	struct iovec iov[2] = { { bufs[0], 64 }, { bufs[1], 64 } };
	struct mmsghdr msgs[2];
	for (int i = 0; i < 2; i++)
		msgs[i] = (struct mmsghdr){ .msg_hdr = { .msg_iov = &iov[i], .msg_iovlen = 1, .msg_control = control[i],
							 .msg_controllen = sizeof(control[i]) } };
	CHECK_EQ_INT(ff_recvmmsg(s, msgs, 2, 0, NULL), 2);
	for (int i = 0; i < 2; i++) {
		struct cmsghdr *c = CMSG_FIRSTHDR(&msgs[i].msg_hdr);
		CHECK(c != NULL);
		CHECK_EQ_INT(c->cmsg_type, IP_PKTINFO);
		struct in_pktinfo pi;
		memcpy(&pi, CMSG_DATA(c), sizeof(pi));
		CHECK_EQ_INT(pi.ipi_ifindex, i + 1);
		CHECK_EQ_INT((int)ntohl(pi.ipi_addr.s_addr), (int)(i ? OTHER4 : OUR4));
	}
	ff_close(s);
}

TEST(ipv6_recvpktinfo_reports_each_address)
{
	int s = sock_on(AF_INET6, OUR_PORT);
	CHECK_EQ_INT(set_on(s, IPPROTO_IPV6, IPV6_RECVPKTINFO), 0);
	const struct ip6_addr *dsts[2] = { &OUR6, &SECOND6 };
	for (int i = 0; i < 2; i++) {
		inject6(dsts[i]);
		struct received r = recv_with_control(s, 256);
		CHECK_EQ_INT(r.len, PAYLOAD);
		CHECK_EQ_INT((int)r.controllen, (int)CMSG_SPACE(sizeof(struct in6_pktinfo)));
		CHECK_EQ_INT(r.level, SOL_IPV6);
		CHECK_EQ_INT(r.type, IPV6_PKTINFO);
		CHECK_MEM(&r.info.in6.ipi6_addr, dsts[i]->b, 16);
		CHECK_EQ_INT((int)r.info.in6.ipi6_ifindex, 1);
	}
	/* An IPv4 datagram to a dual-stack socket: its destination v4-mapped, as Linux. */
	inject4(1, OTHER4);
	struct received r = recv_with_control(s, 256);
	uint8_t mapped[16];
	ffs_in6_from_v4(OTHER4, mapped);
	CHECK_EQ_INT(r.type, IPV6_PKTINFO);
	CHECK_MEM(&r.info.in6.ipi6_addr, mapped, 16);
	CHECK_EQ_INT((int)r.info.in6.ipi6_ifindex, 2);
	ff_close(s);
}

/** ff_sendmsg of PAYLOAD bytes to `to` with one control message of `len` data bytes; 0 or -errno. */
static int send_cmsg(int s, const void *to, socklen_t tolen, int level, int type, const void *data, size_t len)
{
	static uint8_t control[128] __attribute__((aligned(8)));
	memset(control, 0, sizeof(control));
	struct iovec iov = { "0123456789abcdef", PAYLOAD };
	struct msghdr msg = { .msg_name = (void *)to, .msg_namelen = tolen, .msg_iov = &iov, .msg_iovlen = 1,
			      .msg_control = control, .msg_controllen = CMSG_SPACE(len) };
	struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
	c->cmsg_len = CMSG_LEN(len);
	c->cmsg_level = level;
	c->cmsg_type = type;
	memcpy(CMSG_DATA(c), data, len);
	ssize_t n = ff_sendmsg(s, &msg, 0);
	return n < 0 ? -errno : (int)n;
}

/** The IPv4 source of the one frame sent since the last call (0 when none or not IPv4). */
static uint32_t sent_source4(void)
{
	struct rte_mbuf *f[4];
	udp_tx_drain(lc);
	unsigned n = test_port_drain(lc, f, 4);
	uint32_t src = 0;
	for (unsigned i = 0; i < n && i < 4; i++) {
		const uint8_t *p = rte_pktmbuf_mtod(f[i], const uint8_t *);
		struct ipv4_repr ip;
		if (n == 1 && ipv4_repr_parse(p + ETH_HDR_LEN, rte_pktmbuf_data_len(f[i]) - ETH_HDR_LEN, &WIRE_CSUM_SOFTWARE, &ip) == WIRE_OK)
			src = ip.src;
		rte_pktmbuf_free(f[i]);
	}
	return src;
}

/** The IPv6 source of the one frame sent since the last call (false when none or not IPv6). */
static bool sent_source6(struct ip6_addr *src)
{
	struct rte_mbuf *f[4];
	udp_tx_drain(lc);
	unsigned n = test_port_drain(lc, f, 4);
	bool ok = false;
	for (unsigned i = 0; i < n && i < 4; i++) {
		const uint8_t *p = rte_pktmbuf_mtod(f[i], const uint8_t *);
		struct ipv6_repr ip;
		if (n == 1 && ipv6_repr_parse(p + ETH_HDR_LEN, rte_pktmbuf_data_len(f[i]) - ETH_HDR_LEN, &ip, NULL) == WIRE_OK) {
			*src = ip.src;
			ok = true;
		}
		rte_pktmbuf_free(f[i]);
	}
	return ok;
}

static struct in_pktinfo pktinfo4(int ifindex, uint32_t spec_dst)
{
	return (struct in_pktinfo){ .ipi_ifindex = ifindex, .ipi_spec_dst.s_addr = htonl(spec_dst) };
}

TEST(ip_pktinfo_chooses_the_source)
{
	int s = sock_on(AF_INET, OUR_PORT);
	struct sockaddr_in to = sin_of(PEER4, PEER_PORT);
	struct in_pktinfo pi = pktinfo4(0, OTHER4);
	CHECK_EQ_INT(send_cmsg(s, &to, sizeof(to), SOL_IP, IP_PKTINFO, &pi, sizeof(pi)), PAYLOAD);
	CHECK_EQ_INT((int)sent_source4(), (int)OTHER4);
	/* Without one: the route's source, as before. */
	CHECK_EQ_INT((int)ff_sendto(s, "x", 1, 0, (struct sockaddr *)&to, sizeof(to)), 1);
	CHECK_EQ_INT((int)sent_source4(), (int)OUR4);
	/* ipi_ifindex alone: that port's address. */
	pi = pktinfo4(2, 0);
	CHECK_EQ_INT(send_cmsg(s, &to, sizeof(to), SOL_IP, IP_PKTINFO, &pi, sizeof(pi)), PAYLOAD);
	CHECK_EQ_INT((int)sent_source4(), (int)OTHER4);
	/* A level it does not read is passed over, as Linux does. */
	CHECK_EQ_INT(send_cmsg(s, &to, sizeof(to), 123, 1, &pi, sizeof(pi)), PAYLOAD);
	CHECK_EQ_INT((int)sent_source4(), (int)OUR4);
	ff_close(s);
}

TEST(ip_pktinfo_errors_as_linux)
{
	int s = sock_on(AF_INET, OUR_PORT);
	struct sockaddr_in to = sin_of(PEER4, PEER_PORT);
	struct in_pktinfo pi = pktinfo4(0, OTHER4);
	CHECK_EQ_INT(send_cmsg(s, &to, sizeof(to), SOL_IP, IP_PKTINFO, &pi, sizeof(pi) - 4), -EINVAL);
	uint8_t longer[sizeof(pi) + 4] = { 0 };
	memcpy(longer, &pi, sizeof(pi));
	CHECK_EQ_INT(send_cmsg(s, &to, sizeof(to), SOL_IP, IP_PKTINFO, longer, sizeof(longer)), -EINVAL);
	CHECK_EQ_INT(send_cmsg(s, &to, sizeof(to), SOL_IP, 99, &pi, sizeof(pi)), -EINVAL);
	pi = pktinfo4(99, 0);
	CHECK_EQ_INT(send_cmsg(s, &to, sizeof(to), SOL_IP, IP_PKTINFO, &pi, sizeof(pi)), -ENODEV);
	pi = pktinfo4(0, 0x0a630077u); /* 10.99.0.119: no port's */
	CHECK_EQ_INT(send_cmsg(s, &to, sizeof(to), SOL_IP, IP_PKTINFO, &pi, sizeof(pi)), -ENETUNREACH);
	pi = pktinfo4(0, 0xe0000001u);
	CHECK_EQ_INT(send_cmsg(s, &to, sizeof(to), SOL_IP, IP_PKTINFO, &pi, sizeof(pi)), -EINVAL);
	pi = pktinfo4(0, 0xffffffffu);
	CHECK_EQ_INT(send_cmsg(s, &to, sizeof(to), SOL_IP, IP_PKTINFO, &pi, sizeof(pi)), -EINVAL);
	pi = pktinfo4(0, 0x0a6300ffu);
	CHECK_EQ_INT(send_cmsg(s, &to, sizeof(to), SOL_IP, IP_PKTINFO, &pi, sizeof(pi)), -EINVAL);
	pi = pktinfo4(0, 0x7f000001u);
	CHECK_EQ_INT(send_cmsg(s, &to, sizeof(to), SOL_IP, IP_PKTINFO, &pi, sizeof(pi)), -EINVAL);
	/* A header longer than the buffer. */
	uint8_t control[CMSG_SPACE(sizeof(pi))] __attribute__((aligned(8))) = { 0 };
	struct iovec iov = { "x", 1 };
	struct msghdr msg = { .msg_name = &to, .msg_namelen = sizeof(to), .msg_iov = &iov, .msg_iovlen = 1,
			      .msg_control = control, .msg_controllen = sizeof(control) };
	struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
	c->cmsg_len = sizeof(control) + 8;
	c->cmsg_level = SOL_IP;
	c->cmsg_type = IP_PKTINFO;
	CHECK_EQ_INT((int)ff_sendmsg(s, &msg, 0), -1);
	CHECK_EQ_INT(errno, EINVAL);
	c->cmsg_len = 4; /* shorter than its own header */
	CHECK_EQ_INT((int)ff_sendmsg(s, &msg, 0), -1);
	CHECK_EQ_INT(errno, EINVAL);
	CHECK_EQ_INT((int)sent_source4(), 0);
	ff_close(s);
}

TEST(ipv6_pktinfo_chooses_the_source)
{
	int s = sock_on(AF_INET6, OUR_PORT);
	struct sockaddr_in6 to = sin6_of(&PEER6, PEER_PORT);
	struct in6_pktinfo pi = { .ipi6_ifindex = 0 };
	memcpy(&pi.ipi6_addr, SECOND6.b, 16);
	CHECK_EQ_INT(send_cmsg(s, &to, sizeof(to), SOL_IPV6, IPV6_PKTINFO, &pi, sizeof(pi)), PAYLOAD);
	struct ip6_addr src;
	CHECK(sent_source6(&src));
	CHECK(ip6_eq(&src, &SECOND6));
	memcpy(&pi.ipi6_addr, OUR6.b, 16);
	CHECK_EQ_INT(send_cmsg(s, &to, sizeof(to), SOL_IPV6, IPV6_PKTINFO, &pi, sizeof(pi)), PAYLOAD);
	CHECK(sent_source6(&src));
	CHECK(ip6_eq(&src, &OUR6));
	/* To an IPv4 destination: a v4-mapped ipi6_addr is the IPv4 source. */
	struct sockaddr_in6 to4 = { .sin6_family = AF_INET6, .sin6_port = htons(PEER_PORT) };
	ffs_in6_from_v4(PEER4, to4.sin6_addr.s6_addr);
	ffs_in6_from_v4(OTHER4, (uint8_t *)&pi.ipi6_addr);
	CHECK_EQ_INT(send_cmsg(s, &to4, sizeof(to4), SOL_IPV6, IPV6_PKTINFO, &pi, sizeof(pi)), PAYLOAD);
	CHECK_EQ_INT((int)sent_source4(), (int)OTHER4);
	ff_close(s);
}

TEST(ipv6_pktinfo_errors_as_linux)
{
	int s = sock_on(AF_INET6, OUR_PORT);
	struct sockaddr_in6 to = sin6_of(&PEER6, PEER_PORT);
	struct in6_pktinfo pi = { .ipi6_ifindex = 0 };
	memcpy(&pi.ipi6_addr, SECOND6.b, 16);
	CHECK_EQ_INT(send_cmsg(s, &to, sizeof(to), SOL_IPV6, IPV6_PKTINFO, &pi, 16), -EINVAL);
	CHECK_EQ_INT(send_cmsg(s, &to, sizeof(to), SOL_IPV6, 9999, &pi, sizeof(pi)), -EINVAL);
	pi.ipi6_ifindex = 99;
	CHECK_EQ_INT(send_cmsg(s, &to, sizeof(to), SOL_IPV6, IPV6_PKTINFO, &pi, sizeof(pi)), -ENODEV);
	pi.ipi6_ifindex = 0;
	struct ip6_addr far;
	ip6_parse("fd00:99::77", &far);
	memcpy(&pi.ipi6_addr, far.b, 16);
	CHECK_EQ_INT(send_cmsg(s, &to, sizeof(to), SOL_IPV6, IPV6_PKTINFO, &pi, sizeof(pi)), -EINVAL);
	/* An IPv6 source for an IPv4 destination. */
	struct sockaddr_in6 to4 = { .sin6_family = AF_INET6, .sin6_port = htons(PEER_PORT) };
	ffs_in6_from_v4(PEER4, to4.sin6_addr.s6_addr);
	memcpy(&pi.ipi6_addr, SECOND6.b, 16);
	CHECK_EQ_INT(send_cmsg(s, &to4, sizeof(to4), SOL_IPV6, IPV6_PKTINFO, &pi, sizeof(pi)), -EINVAL);
	struct ip6_addr none;
	CHECK(!sent_source6(&none));
	ff_close(s);
}

TEST(sendmmsg_honours_pktinfo_per_message)
{
	int s = sock_on(AF_INET, OUR_PORT);
	struct sockaddr_in to = sin_of(PEER4, PEER_PORT);
	uint8_t control[CMSG_SPACE(sizeof(struct in_pktinfo))] __attribute__((aligned(8))) = { 0 };
	struct iovec iov = { "x", 1 };
	struct mmsghdr msgs[3];
	for (int i = 0; i < 3; i++)
		msgs[i] = (struct mmsghdr){ .msg_hdr = { .msg_name = &to, .msg_namelen = sizeof(to), .msg_iov = &iov, .msg_iovlen = 1 } };
	msgs[1].msg_hdr.msg_control = control;
	msgs[1].msg_hdr.msg_controllen = sizeof(control);
	struct cmsghdr *c = CMSG_FIRSTHDR(&msgs[1].msg_hdr);
	c->cmsg_len = CMSG_LEN(sizeof(struct in_pktinfo));
	c->cmsg_level = SOL_IP;
	c->cmsg_type = IP_PKTINFO;
	struct in_pktinfo pi = pktinfo4(0, OTHER4);
	memcpy(CMSG_DATA(c), &pi, sizeof(pi));
	CHECK_EQ_INT(ff_sendmmsg(s, msgs, 3, 0), 3);
	struct rte_mbuf *f[4];
	udp_tx_drain(lc);
	CHECK_EQ_INT((int)test_port_drain(lc, f, 4), 3);
	for (int i = 0; i < 3; i++) {
		struct ipv4_repr ip;
		const uint8_t *p = rte_pktmbuf_mtod(f[i], const uint8_t *);
		CHECK_EQ_INT(ipv4_repr_parse(p + ETH_HDR_LEN, rte_pktmbuf_data_len(f[i]) - ETH_HDR_LEN, &WIRE_CSUM_SOFTWARE, &ip), WIRE_OK);
		CHECK_EQ_INT((int)ip.src, (int)(i == 1 ? OTHER4 : OUR4));
		rte_pktmbuf_free(f[i]);
	}
	ff_close(s);
}

int main(int argc, char **argv)
{
	setup();
	int rc = test__main(argc, argv, __FILE__);
	test_port_drain(lc, NULL, 0);
	ff_exit();
	return rc;
}
