/*
 * AF_INET6 UDP sockets through the ff_* API on a loopback-only inline stack (lcore_mask = 0x1) that
 * this thread drives: Linux's bind forms and conflicts for `::`, `::1`, v4-mapped and link-local
 * addresses, IPV6_V6ONLY, dual stack (a socket on `::` receives IPv4 as ::ffff:a.b.c.d and sends
 * to v4-mapped peers over IPv4), connect and getpeername, and the IPPROTO_IPV6 options' checks;
 * UDP over ::1 (one byte to 65527, several mbufs, the sources as sockaddr_in6, recvmmsg, the packed
 * drain with the source before each payload) and its send errors; the socket layer's send and
 * receive bursts with IPv6 and IPv4 datagrams mixed, and sendmmsg/recvmmsg batches as IPv4's; the
 * net.inet6.ip6.v6only default.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>

#include "posix/ff_api.h"
#include "posix/ff_dgram.h"
#include "stack/sock/sock.h"
#include "stack/wire/ipv6.h"
#include "stack/stack.h"
#include "test/stack/harness.h"
#include "test/stack/stack_env.h"
#include "test/stack/loopback_env.h"

static struct sockaddr_in6 sin6_of(const char *addr, uint16_t port, uint32_t scope)
{
	struct sockaddr_in6 a = { .sin6_family = AF_INET6, .sin6_port = htons(port), .sin6_scope_id = scope };
	CHECK_EQ_INT(inet_pton(AF_INET6, addr, &a.sin6_addr), 1);
	return a;
}

static int udp6(void)
{
	int s = ff_socket(AF_INET6, SOCK_DGRAM | SOCK_NONBLOCK, 0);
	CHECK(s >= 0);
	return s;
}

static int bind6(int s, const char *addr, uint16_t port)
{
	struct sockaddr_in6 a = sin6_of(addr, port, 0);
	return ff_bind(s, (struct sockaddr *)&a, sizeof(a)) == 0 ? 0 : -errno;
}

static int bind4(int s, uint32_t addr, uint16_t port)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port), .sin_addr.s_addr = htonl(addr) };
	return ff_bind(s, (struct sockaddr *)&a, sizeof(a)) == 0 ? 0 : -errno;
}

static int set_int(int s, int level, int opt, int v)
{
	return ff_setsockopt(s, level, opt, &v, sizeof(v)) == 0 ? 0 : -errno;
}

static int get_int(int s, int level, int opt)
{
	int v = -12345;
	socklen_t len = sizeof(v);
	CHECK_EQ_INT(ff_getsockopt(s, level, opt, &v, &len), 0);
	return v;
}

static char *name_of(int s, bool peer, uint16_t *port)
{
	static char text[INET6_ADDRSTRLEN];
	struct sockaddr_in6 a;
	socklen_t len = sizeof(a);
	CHECK_EQ_INT(peer ? ff_getpeername(s, (struct sockaddr *)&a, &len) : ff_getsockname(s, (struct sockaddr *)&a, &len), 0);
	CHECK_EQ_INT((int)len, (int)sizeof(a));
	CHECK_EQ_INT(a.sin6_family, AF_INET6);
	*port = ntohs(a.sin6_port);
	return (char *)inet_ntop(AF_INET6, &a.sin6_addr, text, sizeof(text));
}

TEST(socket_of_family_inet6)
{
	int s = udp6();
	CHECK_EQ_INT(get_int(s, SOL_SOCKET, SO_DOMAIN), AF_INET6);
	CHECK_EQ_INT(get_int(s, IPPROTO_IPV6, IPV6_V6ONLY), 0);
	uint16_t port = 1;
	CHECK_EQ_STR(name_of(s, false, &port), "::");
	CHECK_EQ_INT(port, 0);
	ff_close(s);
	CHECK_EQ_INT(ff_socket(AF_INET6, SOCK_STREAM, 0), -1);
	CHECK_EQ_INT(errno, EPROTONOSUPPORT);
}

TEST(bind_forms_and_getsockname)
{
	int a = udp6(), b = udp6();
	CHECK_EQ_INT(bind6(a, "::", 7301), 0);
	uint16_t port;
	CHECK_EQ_STR(name_of(a, false, &port), "::");
	CHECK_EQ_INT(port, 7301);
	CHECK_EQ_INT(bind6(b, "::1", 7302), 0);
	CHECK_EQ_STR(name_of(b, false, &port), "::1");
	CHECK_EQ_INT(port, 7302);
	/* Bound once: Linux refuses a second bind. */
	CHECK_EQ_INT(bind6(b, "::1", 7303), -EINVAL);
	ff_close(a);
	ff_close(b);
}

TEST(bind_argument_errors_as_linux)
{
	int s = udp6();
	struct sockaddr_in6 a = sin6_of("::", 7310, 0);
	CHECK_EQ_INT(ff_bind(s, (struct sockaddr *)&a, 23), -1);
	CHECK_EQ_INT(errno, EINVAL);
	struct sockaddr_in v4 = { .sin_family = AF_INET, .sin_port = htons(7310) };
	struct sockaddr_storage big = { 0 };
	memcpy(&big, &v4, sizeof(v4));
	CHECK_EQ_INT(ff_bind(s, (struct sockaddr *)&big, sizeof(struct sockaddr_in6)), -1);
	CHECK_EQ_INT(errno, EAFNOSUPPORT);
	/* A link-local address needs its interface; there is no interface 9. */
	CHECK_EQ_INT(bind6(s, "fe80::1", 7310), -EINVAL);
	a = sin6_of("fe80::1", 7310, 9);
	CHECK_EQ_INT(ff_bind(s, (struct sockaddr *)&a, sizeof(a)), -1);
	CHECK_EQ_INT(errno, ENODEV);
	/* Not an address of ours. */
	CHECK_EQ_INT(bind6(s, "2001:db8::99", 7310), -EADDRNOTAVAIL);
	CHECK_EQ_INT(bind6(s, "::ffff:10.9.9.9", 7310), -EADDRNOTAVAIL);
	ff_close(s);
}

TEST(dual_stack_any_conflicts_with_ipv4_unless_v6only)
{
	int a = udp6(), b = ff_socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0), c = udp6(), d = udp6();
	CHECK_EQ_INT(bind6(a, "::", 7320), 0);
	CHECK_EQ_INT(bind4(b, INADDR_LOOPBACK, 7320), -EADDRINUSE);
	CHECK_EQ_INT(bind6(c, "::1", 7320), -EADDRINUSE);
	CHECK_EQ_INT(bind6(d, "::ffff:127.0.0.1", 7320), -EADDRINUSE);
	ff_close(a);
	ff_close(c);
	ff_close(d);
	a = udp6();
	CHECK_EQ_INT(set_int(a, IPPROTO_IPV6, IPV6_V6ONLY, 1), 0);
	CHECK_EQ_INT(bind6(a, "::", 7320), 0);
	CHECK_EQ_INT(set_int(a, IPPROTO_IPV6, IPV6_V6ONLY, 0), -EINVAL); /* only before bind */
	CHECK_EQ_INT(bind4(b, 0, 7320), 0);
	c = udp6();
	CHECK_EQ_INT(bind6(c, "::1", 7320), -EADDRINUSE);
	ff_close(c);
	/* Two IPv4-capable bindings of the port: `::` without V6ONLY now conflicts with 0.0.0.0. */
	c = udp6();
	CHECK_EQ_INT(bind6(c, "::", 7320), -EADDRINUSE);
	ff_close(c);
	/* A v4-mapped address on an IPv6-only socket is refused. */
	c = udp6();
	CHECK_EQ_INT(set_int(c, IPPROTO_IPV6, IPV6_V6ONLY, 1), 0);
	CHECK_EQ_INT(bind6(c, "::ffff:127.0.0.1", 7321), -EINVAL);
	ff_close(c);
	ff_close(a);
	ff_close(b);
}

TEST(dual_stack_receives_ipv4_as_v4_mapped)
{
	settle();
	int r = udp6();
	CHECK_EQ_INT(bind6(r, "::", 7330), 0);
	int s = bound(7331);
	send_pattern(s, 7330, 3, 100);
	settle();
	uint8_t buf[200];
	struct sockaddr_in6 from;
	socklen_t len = sizeof(from);
	CHECK_EQ_INT((int)ff_recvfrom(r, buf, sizeof(buf), 0, (struct sockaddr *)&from, &len), 100);
	CHECK(pattern_at(buf, 3, 0, 100));
	CHECK_EQ_INT((int)len, (int)sizeof(from));
	CHECK_EQ_INT(from.sin6_family, AF_INET6);
	CHECK_EQ_INT(ntohs(from.sin6_port), 7331);
	char text[INET6_ADDRSTRLEN];
	CHECK_EQ_STR(inet_ntop(AF_INET6, &from.sin6_addr, text, sizeof(text)), "::ffff:127.0.0.1");
	CHECK_EQ_INT(rx_bytes(r), 0);
	ff_close(r);
	ff_close(s);
}

TEST(v6only_socket_takes_no_ipv4)
{
	settle();
	int r = udp6();
	CHECK_EQ_INT(set_int(r, IPPROTO_IPV6, IPV6_V6ONLY, 1), 0);
	CHECK_EQ_INT(bind6(r, "::", 7340), 0);
	int s = bound(7341);
	send_pattern(s, 7340, 1, 10);
	settle();
	uint8_t buf[16];
	CHECK_EQ_INT((int)ff_recv(r, buf, sizeof(buf), 0), -1);
	CHECK_EQ_INT(errno, EAGAIN);
	ff_close(r);
	ff_close(s);
}

TEST(v6only_default_follows_sysctl_at_creation)
{
	settle();
	CHECK_EQ_INT(ffs_stack_sysctl_set(st, FFS_SYSCTL_IP6_V6ONLY, 1), 0);
	int r = udp6();
	CHECK_EQ_INT(ffs_stack_sysctl_set(st, FFS_SYSCTL_IP6_V6ONLY, 0), 0);
	int d = udp6();
	/* Each socket keeps the value it was created with (Linux's net.ipv6.bindv6only). */
	CHECK_EQ_INT(get_int(r, IPPROTO_IPV6, IPV6_V6ONLY), 1);
	CHECK_EQ_INT(get_int(d, IPPROTO_IPV6, IPV6_V6ONLY), 0);
	CHECK_EQ_INT(bind6(r, "::", 7345), 0);
	/* `::` IPv6-only leaves the port's IPv4 side free. */
	int s = bound(7345);
	ff_close(s);
	s = bound(7346);
	send_pattern(s, 7345, 1, 10);
	settle();
	uint8_t buf[16];
	CHECK_EQ_INT((int)ff_recv(r, buf, sizeof(buf), 0), -1);
	CHECK_EQ_INT(errno, EAGAIN);
	/* The option still overrides the default either way. */
	int o = udp6();
	CHECK_EQ_INT(set_int(o, IPPROTO_IPV6, IPV6_V6ONLY, 1), 0);
	CHECK_EQ_INT(get_int(o, IPPROTO_IPV6, IPV6_V6ONLY), 1);
	ff_close(o);
	ff_close(r);
	ff_close(d);
	ff_close(s);
}

TEST(sends_to_v4_mapped_peers_over_ipv4)
{
	settle();
	int s = udp6();
	CHECK_EQ_INT(bind6(s, "::", 7350), 0);
	int r = bound(7351);
	struct sockaddr_in6 to = sin6_of("::ffff:127.0.0.1", 7351, 0);
	CHECK_EQ_INT((int)ff_sendto(s, "hello", 5, 0, (struct sockaddr *)&to, sizeof(to)), 5);
	/* Linux's udpv6_sendmsg takes a sockaddr_in too. */
	struct sockaddr_in to4 = lo(7351);
	CHECK_EQ_INT((int)ff_sendto(s, "world", 5, 0, (struct sockaddr *)&to4, sizeof(to4)), 5);
	settle();
	char buf[16];
	struct sockaddr_in from;
	socklen_t len = sizeof(from);
	CHECK_EQ_INT((int)ff_recvfrom(r, buf, sizeof(buf), 0, (struct sockaddr *)&from, &len), 5);
	CHECK_MEM(buf, "hello", 5);
	CHECK_EQ_INT(ntohl(from.sin_addr.s_addr), INADDR_LOOPBACK);
	CHECK_EQ_INT(ntohs(from.sin_port), 7350);
	CHECK_EQ_INT((int)ff_recv(r, buf, sizeof(buf), 0), 5);
	CHECK_MEM(buf, "world", 5);
	/* IPV6_V6ONLY: an IPv4 destination is unreachable. */
	int v = udp6();
	CHECK_EQ_INT(set_int(v, IPPROTO_IPV6, IPV6_V6ONLY, 1), 0);
	CHECK_EQ_INT((int)ff_sendto(v, "x", 1, 0, (struct sockaddr *)&to, sizeof(to)), -1);
	CHECK_EQ_INT(errno, ENETUNREACH);
	ff_close(v);
	ff_close(s);
	ff_close(r);
}

TEST(connect_to_v4_mapped_peer)
{
	settle();
	int c = udp6();
	int p = bound(7361);
	struct sockaddr_in6 peer = sin6_of("::ffff:127.0.0.1", 7361, 0);
	CHECK_EQ_INT(ff_connect(c, (struct sockaddr *)&peer, sizeof(peer)), 0);
	uint16_t port;
	CHECK_EQ_STR(name_of(c, true, &port), "::ffff:127.0.0.1");
	CHECK_EQ_INT(port, 7361);
	uint16_t lport;
	CHECK_EQ_STR(name_of(c, false, &lport), "::ffff:127.0.0.1");
	CHECK(lport != 0);
	CHECK_EQ_INT((int)ff_send(c, "ping", 4, 0), 4);
	settle();
	char buf[8];
	struct sockaddr_in from;
	socklen_t len = sizeof(from);
	CHECK_EQ_INT((int)ff_recvfrom(p, buf, sizeof(buf), 0, (struct sockaddr *)&from, &len), 4);
	CHECK_EQ_INT(ntohs(from.sin_port), lport);
	CHECK_EQ_INT((int)ff_sendto(p, "pong", 4, 0, (struct sockaddr *)&from, len), 4);
	settle();
	CHECK_EQ_INT((int)ff_recv(c, buf, sizeof(buf), 0), 4);
	CHECK_MEM(buf, "pong", 4);
	/* AF_UNSPEC disconnects. */
	struct sockaddr unspec = { .sa_family = AF_UNSPEC };
	CHECK_EQ_INT(ff_connect(c, &unspec, sizeof(unspec)), 0);
	struct sockaddr_in6 a;
	socklen_t alen = sizeof(a);
	CHECK_EQ_INT(ff_getpeername(c, (struct sockaddr *)&a, &alen), -1);
	CHECK_EQ_INT(errno, ENOTCONN);
	ff_close(c);
	ff_close(p);
}

TEST(ipv6_options_checked_as_linux)
{
	int s = udp6();
	CHECK_EQ_INT(get_int(s, IPPROTO_IPV6, IPV6_UNICAST_HOPS), 64);
	CHECK_EQ_INT(set_int(s, IPPROTO_IPV6, IPV6_UNICAST_HOPS, 7), 0);
	CHECK_EQ_INT(get_int(s, IPPROTO_IPV6, IPV6_UNICAST_HOPS), 7);
	CHECK_EQ_INT(set_int(s, IPPROTO_IPV6, IPV6_UNICAST_HOPS, 256), -EINVAL);
	CHECK_EQ_INT(set_int(s, IPPROTO_IPV6, IPV6_UNICAST_HOPS, -2), -EINVAL);
	CHECK_EQ_INT(get_int(s, IPPROTO_IPV6, IPV6_MULTICAST_HOPS), 1);
	CHECK_EQ_INT(set_int(s, IPPROTO_IPV6, IPV6_MULTICAST_HOPS, 32), 0);
	CHECK_EQ_INT(get_int(s, IPPROTO_IPV6, IPV6_MULTICAST_HOPS), 32);
	CHECK_EQ_INT(set_int(s, IPPROTO_IPV6, IPV6_MULTICAST_HOPS, -1), 0);
	CHECK_EQ_INT(get_int(s, IPPROTO_IPV6, IPV6_MULTICAST_HOPS), 1);
	CHECK_EQ_INT(set_int(s, IPPROTO_IPV6, IPV6_TCLASS, 0xb8), 0);
	CHECK_EQ_INT(get_int(s, IPPROTO_IPV6, IPV6_TCLASS), 0xb8);
	CHECK_EQ_INT(set_int(s, IPPROTO_IPV6, IPV6_MULTICAST_LOOP, 0), 0);
	CHECK_EQ_INT(get_int(s, IPPROTO_IPV6, IPV6_MULTICAST_LOOP), 0);
	CHECK_EQ_INT(set_int(s, IPPROTO_IPV6, IPV6_MULTICAST_LOOP, 2), -EINVAL);
	CHECK_EQ_INT(set_int(s, IPPROTO_IPV6, IPV6_MULTICAST_IF, 99), -ENODEV);
	CHECK_EQ_INT(set_int(s, IPPROTO_IPV6, IPV6_MULTICAST_IF, 0), 0);
	struct ipv6_mreq m = { .ipv6mr_interface = 0 };
	inet_pton(AF_INET6, "2001:db8::1", &m.ipv6mr_multiaddr);
	CHECK_EQ_INT(ff_setsockopt(s, IPPROTO_IPV6, IPV6_JOIN_GROUP, &m, sizeof(m)), -1);
	CHECK_EQ_INT(errno, EINVAL);
	CHECK_EQ_INT(ff_setsockopt(s, IPPROTO_IPV6, IPV6_JOIN_GROUP, &m, sizeof(m) - 1), -1);
	CHECK_EQ_INT(errno, EINVAL);
	int v4 = ff_socket(AF_INET, SOCK_DGRAM, 0);
	CHECK_EQ_INT(set_int(v4, IPPROTO_IPV6, IPV6_V6ONLY, 1), -ENOPROTOOPT);
	ff_close(v4);
	ff_close(s);
}

/** Sends `len` pattern bytes (seed) from s to [addr]:port. */
static int send6_pattern(int s, const char *addr, uint16_t port, unsigned seed, size_t len)
{
	static uint8_t buf[70000];
	for (size_t j = 0; j < len; j++)
		buf[j] = (uint8_t)(seed + j);
	struct sockaddr_in6 to = sin6_of(addr, port, 0);
	ssize_t rc = ff_sendto(s, buf, len, 0, (struct sockaddr *)&to, sizeof(to));
	return rc < 0 ? -errno : (int)rc;
}

TEST(udp_over_loopback_six_at_every_size)
{
	settle();
	int base = ffs_stack_mempool_in_use(st);
	int a = udp6(), b = udp6();
	CHECK_EQ_INT(bind6(a, "::1", 7401), 0);
	CHECK_EQ_INT(bind6(b, "::", 7402), 0);
	static const size_t sizes[] = { 0, 1, 100, 1452, 1500, 8000, 65527 };
	static uint8_t buf[70000];
	for (unsigned i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		CHECK_EQ_INT(send6_pattern(a, "::1", 7402, i, sizes[i]), (int)sizes[i]);
		settle();
		struct sockaddr_in6 from;
		socklen_t len = sizeof(from);
		CHECK_EQ_INT((int)ff_recvfrom(b, buf, sizeof(buf), 0, (struct sockaddr *)&from, &len), (int)sizes[i]);
		CHECK(pattern_at(buf, i, 0, sizes[i]));
		CHECK_EQ_INT((int)len, (int)sizeof(from));
		CHECK_EQ_INT(from.sin6_family, AF_INET6);
		CHECK_EQ_INT(ntohs(from.sin6_port), 7401);
		char text[INET6_ADDRSTRLEN];
		CHECK_EQ_STR(inet_ntop(AF_INET6, &from.sin6_addr, text, sizeof(text)), "::1");
	}
	CHECK_EQ_INT(send6_pattern(a, "::1", 7402, 0, 65528), -EMSGSIZE);
	/* And back, to the connected peer. */
	struct sockaddr_in6 peer = sin6_of("::1", 7401, 0);
	CHECK_EQ_INT(ff_connect(b, (struct sockaddr *)&peer, sizeof(peer)), 0);
	uint16_t port;
	CHECK_EQ_STR(name_of(b, false, &port), "::1");
	CHECK_EQ_INT((int)ff_send(b, "back", 4, 0), 4);
	settle();
	CHECK_EQ_INT((int)ff_recv(a, buf, sizeof(buf), 0), 4);
	CHECK_MEM(buf, "back", 4);
	ff_close(a);
	ff_close(b);
	settle();
	CHECK_EQ_INT(ffs_stack_mempool_in_use(st), base);
}

TEST(dual_stack_socket_takes_both_families_in_one_drain)
{
	settle();
	int r = udp6();
	CHECK_EQ_INT(bind6(r, "::", 7410), 0);
	int s6 = udp6();
	CHECK_EQ_INT(bind6(s6, "::1", 7411), 0);
	int s4 = bound(7412);
	CHECK_EQ_INT(send6_pattern(s6, "::1", 7410, 1, 33), 33);
	send_pattern(s4, 7410, 2, 44);
	CHECK_EQ_INT(send6_pattern(s6, "::1", 7410, 3, 55), 55);
	settle();
	/* recvmmsg: each source as sockaddr_in6. */
	struct mmsghdr msgs[2];
	struct iovec iov[2];
	struct sockaddr_in6 names[2];
	static uint8_t bufs[2][128];
	for (int i = 0; i < 2; i++) {
		iov[i] = (struct iovec){ bufs[i], sizeof(bufs[i]) };
		msgs[i] = (struct mmsghdr){ .msg_hdr = { .msg_name = &names[i], .msg_namelen = sizeof(names[i]), .msg_iov = &iov[i], .msg_iovlen = 1 } };
	}
	CHECK_EQ_INT(ff_recvmmsg(r, msgs, 2, 0, NULL), 2);
	char text[INET6_ADDRSTRLEN];
	CHECK_EQ_INT((int)msgs[0].msg_len, 33);
	CHECK_EQ_STR(inet_ntop(AF_INET6, &names[0].sin6_addr, text, sizeof(text)), "::1");
	CHECK_EQ_INT(ntohs(names[0].sin6_port), 7411);
	CHECK_EQ_INT((int)msgs[1].msg_len, 44);
	CHECK_EQ_STR(inet_ntop(AF_INET6, &names[1].sin6_addr, text, sizeof(text)), "::ffff:127.0.0.1");
	CHECK_EQ_INT(ntohs(names[1].sin6_port), 7412);
	/* The dgram drain: an IPv6 datagram's source in the 16 bytes before its payload. */
	static uint8_t packed[4096];
	struct ff_dgram_desc desc[4];
	CHECK_EQ_INT(ff_dgram_recv_packed(r, packed, sizeof(packed), 4, desc), 1);
	CHECK_EQ_INT((int)desc[0].len, 55);
	CHECK(desc[0].port & FF_DGRAM_V6);
	CHECK_EQ_INT((int)(desc[0].port & 0xffff), 7411);
	CHECK_EQ_INT((int)desc[0].addr, 16);
	CHECK_EQ_STR(inet_ntop(AF_INET6, packed + desc[0].offset - desc[0].addr, text, sizeof(text)), "::1");
	CHECK(pattern_at(packed + desc[0].offset, 3, 0, 55));
	ff_close(r);
	ff_close(s6);
	ff_close(s4);
}

/** An mmsghdr for one buffer to or from `name`. */
static struct mmsghdr mmsg_of(void *name, socklen_t namelen, struct iovec *iov)
{
	return (struct mmsghdr){ .msg_hdr = { .msg_name = name, .msg_namelen = namelen, .msg_iov = iov, .msg_iovlen = 1 } };
}

TEST(socket_layer_takes_ipv6_bursts_in_one_call)
{
	settle();
	int r = udp6(), s = udp6();
	CHECK_EQ_INT(bind6(r, "::", 7430), 0);
	CHECK_EQ_INT(bind6(s, "::", 7431), 0);
	struct ffs_sock *rso = ffs_sock_get(st, (uint32_t)r), *sso = ffs_sock_get(st, (uint32_t)s);
	struct ip6_addr one;
	CHECK_EQ_INT(inet_pton(AF_INET6, "::1", one.b), 1);
	uint8_t payload[5][8];
	struct iovec iov[5];
	struct ffs_dgram_out out[5];
	for (int i = 0; i < 5; i++) {
		memset(payload[i], 'a' + i, sizeof(payload[i]));
		iov[i] = (struct iovec){ payload[i], (size_t)i + 1 };
		/* IPv6 to [::1], with IPv4 ones (a v4-mapped peer's) between them. */
		out[i] = i % 2 ? (struct ffs_dgram_out){ &iov[i], 1, INADDR_LOOPBACK, 7430, NULL, 0, 0, NULL }
			       : (struct ffs_dgram_out){ &iov[i], 1, 0, 7430, &one, 0, 0, NULL };
	}
	CHECK_EQ_INT(ffs_sock_sendv_burst(st, sso, out, 5), 5);
	settle();
	struct ffs_dgram_in in[8];
	uint8_t bufs[8][16];
	struct iovec riov[8];
	for (int i = 0; i < 8; i++) {
		riov[i] = (struct iovec){ bufs[i], sizeof(bufs[i]) };
		in[i] = (struct ffs_dgram_in){ .iov = &riov[i], .iovcnt = 1 };
	}
	CHECK_EQ_INT(ffs_sock_recvv_burst(st, rso, in, 8), 5);
	char text[INET6_ADDRSTRLEN];
	for (int i = 0; i < 5; i++) {
		CHECK_EQ_INT(in[i].len, i + 1);
		CHECK_MEM(bufs[i], payload[i], (size_t)i + 1);
		CHECK_EQ_INT(in[i].sport, 7431);
		CHECK_EQ_STR(inet_ntop(AF_INET6, in[i].src6.addr, text, sizeof(text)), i % 2 ? "::ffff:127.0.0.1" : "::1");
	}
	CHECK_EQ_INT(rx_bytes(r), 0);
	/* The checks of a single send stop a burst before the datagram that fails them. */
	struct ip6_addr ll, far;
	CHECK_EQ_INT(inet_pton(AF_INET6, "fe80::1", ll.b), 1);
	CHECK_EQ_INT(inet_pton(AF_INET6, "2001:db8::1", far.b), 1);
	out[1] = (struct ffs_dgram_out){ &iov[1], 1, 0, 7430, &ll, 0, 0, NULL };
	CHECK_EQ_INT(ffs_sock_sendv_burst(st, sso, out, 5), 1);
	out[1] = (struct ffs_dgram_out){ &iov[1], 1, 0, 7430, &far, 0, 0, NULL };
	CHECK_EQ_INT(ffs_sock_sendv_burst(st, sso, out, 5), 1);
	out[1] = (struct ffs_dgram_out){ &iov[1], 1, 0, 0, &one, 0, 0, NULL };
	CHECK_EQ_INT(ffs_sock_sendv_burst(st, sso, out, 5), 1);
	settle();
	CHECK_EQ_INT(ffs_sock_recvv_burst(st, rso, in, 8), 3);
	ff_close(r);
	ff_close(s);
}

TEST(mmsg_batches_mixed_families_as_ipv4_does)
{
	settle();
	int r = udp6(), s = udp6();
	CHECK_EQ_INT(bind6(r, "::", 7435), 0);
	CHECK_EQ_INT(bind6(s, "::", 7436), 0);
	int r4 = bound(7437);
	struct sockaddr_in6 to6 = sin6_of("::1", 7435, 0), mapped = sin6_of("::ffff:127.0.0.1", 7437, 0),
			    mapped_dual = sin6_of("::ffff:127.0.0.1", 7435, 0);
	struct sockaddr_in to4 = lo(7437);
	enum { N = 40 };
	static uint8_t out[N][64];
	struct iovec oiov[N];
	struct mmsghdr om[N];
	for (int i = 0; i < N; i++) {
		memset(out[i], i, sizeof(out[i]));
		oiov[i] = (struct iovec){ out[i], (size_t)i + 1 };
		/* Mostly [::1]; every fifth to an IPv4 socket (v4-mapped, then AF_INET), every seventh to
		 * the dual-stack socket over IPv4. */
		om[i] = i % 5 == 1 ? mmsg_of(&mapped, sizeof(mapped), &oiov[i])
			: i % 5 == 3 ? mmsg_of(&to4, sizeof(to4), &oiov[i])
			: i % 7 == 6 ? mmsg_of(&mapped_dual, sizeof(mapped_dual), &oiov[i])
			: mmsg_of(&to6, sizeof(to6), &oiov[i]);
	}
	CHECK_EQ_INT(ff_sendmmsg(s, om, N, 0), N);
	for (int i = 0; i < N; i++)
		CHECK_EQ_INT((int)om[i].msg_len, i + 1);
	settle();
	static uint8_t in[64][64];
	struct iovec iiov[64];
	struct mmsghdr im[64];
	struct sockaddr_in6 from[64];
	for (int i = 0; i < 64; i++) {
		iiov[i] = (struct iovec){ in[i], sizeof(in[i]) };
		im[i] = mmsg_of(&from[i], sizeof(from[i]), &iiov[i]);
	}
	/* More than a burst (32) in one call, as IPv4's. */
	int n6 = 0;
	for (int i = 0; i < N; i++)
		n6 += !(i % 5 == 1 || i % 5 == 3);
	CHECK_EQ_INT(ff_recvmmsg(r, im, 64, MSG_DONTWAIT, NULL), n6);
	char text[INET6_ADDRSTRLEN];
	for (int i = 0, j = 0; i < N; i++) {
		if (i % 5 == 1 || i % 5 == 3)
			continue;
		CHECK_EQ_INT((int)im[j].msg_len, i + 1);
		CHECK_MEM(in[j], out[i], (size_t)i + 1);
		CHECK_EQ_INT((int)im[j].msg_hdr.msg_namelen, (int)sizeof(struct sockaddr_in6));
		CHECK_EQ_INT(from[j].sin6_family, AF_INET6);
		CHECK_EQ_INT(ntohs(from[j].sin6_port), 7436);
		CHECK_EQ_STR(inet_ntop(AF_INET6, &from[j].sin6_addr, text, sizeof(text)), i % 7 == 6 ? "::ffff:127.0.0.1" : "::1");
		j++;
	}
	struct sockaddr_in from4[16];
	for (int i = 0; i < 16; i++)
		im[i] = mmsg_of(&from4[i], sizeof(from4[i]), &iiov[i]);
	CHECK_EQ_INT(ff_recvmmsg(r4, im, 16, MSG_DONTWAIT, NULL), N - n6);
	for (int i = 0; i < N - n6; i++) {
		CHECK_EQ_INT(from4[i].sin_family, AF_INET);
		CHECK_EQ_INT(ntohs(from4[i].sin_port), 7436);
	}
	/* A batch stops at the first failure and reports what was sent before it. */
	om[2].msg_hdr.msg_namelen = 3;
	CHECK_EQ_INT(ff_sendmmsg(s, om, N, 0), 2);
	om[2].msg_hdr.msg_namelen = sizeof(struct sockaddr_in6);
	struct sockaddr_in6 noport = sin6_of("::1", 0, 0);
	om[3] = mmsg_of(&noport, sizeof(noport), &oiov[3]);
	CHECK_EQ_INT(ff_sendmmsg(s, om, N, 0), 3);
	settle();
	CHECK_EQ_INT(ff_recvmmsg(r, im, 64, MSG_DONTWAIT, NULL), 3);
	CHECK_EQ_INT(ff_recvmmsg(r4, im, 16, MSG_DONTWAIT, NULL), 2);
	/* Connected to [::1]: messages without a name go to the peer. */
	CHECK_EQ_INT(ff_connect(s, (struct sockaddr *)&to6, sizeof(to6)), 0);
	for (int i = 0; i < 4; i++)
		om[i] = mmsg_of(NULL, 0, &oiov[i]);
	CHECK_EQ_INT(ff_sendmmsg(s, om, 4, 0), 4);
	settle();
	for (int i = 0; i < 4; i++)
		im[i] = mmsg_of(&from[i], sizeof(from[i]), &iiov[i]);
	CHECK_EQ_INT(ff_recvmmsg(r, im, 64, MSG_DONTWAIT, NULL), 4);
	CHECK_EQ_STR(inet_ntop(AF_INET6, &from[3].sin6_addr, text, sizeof(text)), "::1");
	ff_close(r);
	ff_close(s);
	ff_close(r4);
}

TEST(ipv6_send_errors_as_linux)
{
	int s = udp6();
	/* A link-local destination without its interface goes out of the first link with IPv6: none here. */
	CHECK_EQ_INT(send6_pattern(s, "fe80::1", 9, 0, 1), -ENETUNREACH);
	CHECK_EQ_INT(send6_pattern(s, "2001:db8::1", 9, 0, 1), -ENETUNREACH);
	CHECK_EQ_INT(send6_pattern(s, "::1", 0, 0, 1), -EINVAL);
	struct sockaddr_in6 far = sin6_of("2001:db8::1", 9, 0);
	CHECK_EQ_INT(ff_connect(s, (struct sockaddr *)&far, sizeof(far)), -1);
	CHECK_EQ_INT(errno, ENETUNREACH);
	CHECK_EQ_INT((int)ff_send(s, "x", 1, 0), -1);
	CHECK_EQ_INT(errno, EDESTADDRREQ);
	ff_close(s);
}

TEST(port_unreachable_refuses_connected_ipv6_socket)
{
	settle();
	int c = udp6();
	struct sockaddr_in6 peer = sin6_of("::1", 7421, 0);
	CHECK_EQ_INT(ff_connect(c, (struct sockaddr *)&peer, sizeof(peer)), 0);
	CHECK_EQ_INT((int)ff_send(c, "x", 1, 0), 1);
	settle(); /* nobody listens on 7421: ICMPv6 port unreachable comes back */
	char buf[4];
	CHECK_EQ_INT((int)ff_recv(c, buf, sizeof(buf), 0), -1);
	CHECK_EQ_INT(errno, ECONNREFUSED);
	CHECK_EQ_INT((int)ff_recv(c, buf, sizeof(buf), 0), -1);
	CHECK_EQ_INT(errno, EAGAIN);
	/* An unconnected socket hears nothing of it (Linux, without IPV6_RECVERR). */
	int u = udp6();
	CHECK_EQ_INT(send6_pattern(u, "::1", 7421, 0, 1), 1);
	settle();
	CHECK_EQ_INT((int)ff_recv(u, buf, sizeof(buf), 0), -1);
	CHECK_EQ_INT(errno, EAGAIN);
	ff_close(c);
	ff_close(u);
}

int main(int argc, char **argv)
{
	loopback_setup("udp6_sock_test");
	int rc = test__main(argc, argv, __FILE__);
	ff_exit();
	return rc;
}
