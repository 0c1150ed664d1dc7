/*
 * The ff_* calls against the Linux kernel: for each bad argument, the same errno as Linux gives a
 * real AF_INET/SOCK_DGRAM socket called with the same arguments (the kernel side uses loopback
 * only), and the behaviour of sockets talking over the stack's own loopback (127.0.0.1): peers,
 * ICMP port unreachable, SO_REUSEPORT, FIONREAD/MSG_PEEK/MSG_TRUNC, batches, epoll, SO_RCVBUF
 * overflow and the packet pool's baseline.
 *
 * The stack starts once, loopback-only and inline (lcore_mask = 0x1), from a temporary ffnet.ini:
 * this thread drives it (blocking ff_* calls and ffs_stack_poll turn the loop).
 *
 * AF_INET6 sockets are compared the same way, on the arguments that need no IPv6 route (`::`, `::1`,
 * v4-mapped and link-local addresses, IPPROTO_IPV6 options).
 *
 * One intended difference: ff_socket refuses SOCK_STREAM with EPROTONOSUPPORT, where Linux creates a
 * TCP socket; ffnet is UDP only.
 */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <stdbool.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "posix/ff_api.h"
#include "stack/stack.h"
#include "test/stack/harness.h"
#include "test/stack/stack_env.h"

#define NOT_OURS "198.51.100.7" /* TEST-NET-2: an address no interface here has; only ever bound, never sent to */

static struct ffs_stack *st;
static int pool_baseline;
static char diffs[8192];
static size_t ndiffs;

/** Starts the stack on first use and clears the case's list of differences. */
static void begin(void)
{
	ndiffs = 0;
	diffs[0] = '\0';
	if (st)
		return;
	CHECK_EQ_INT(test_ff_init_ini("posix_errno_test", "lcore_mask = 0x1\n"), 0);
	st = ffs_stack_current();
	CHECK(st != NULL);
	CHECK(ffs_stack_is_inline(st));
	pool_baseline = ffs_stack_mempool_in_use(st);
}

/** Records a difference between Linux (k, ke) and ffnet (f, fe); `exact` compares success values too. */
static void note(int line, const char *what, long k, int ke, long f, int fe, bool exact)
{
	bool kfail = k < 0, ffail = f < 0;
	if (kfail == ffail && (kfail ? ke == fe : !exact || k == f))
		return;
	ndiffs += (size_t)snprintf(diffs + ndiffs, sizeof(diffs) - ndiffs, "#   line %d %s: linux %ld %s, ffnet %ld %s\n", line,
				   what, k, kfail ? strerrorname_np(ke) : "", f, ffail ? strerrorname_np(fe) : "");
	if (ndiffs >= sizeof(diffs))
		ndiffs = sizeof(diffs) - 1;
}

/** Calls kcall (Linux) and fcall (ffnet) and records any difference in result or errno. */
#define SAME_X(kcall, fcall, exact)                                                                \
	do {                                                                                       \
		errno = 0;                                                                         \
		long k_ = (long)(kcall);                                                           \
		int ke_ = errno;                                                                   \
		errno = 0;                                                                         \
		long f_ = (long)(fcall);                                                           \
		int fe_ = errno;                                                                   \
		note(__LINE__, #fcall, k_, ke_, f_, fe_, exact);                                   \
	} while (0)
#define SAME(kcall, fcall) SAME_X(kcall, fcall, true)
/** As SAME, for calls whose success values differ (descriptors). */
#define SAME_OK(kcall, fcall) SAME_X(kcall, fcall, false)

/** Fails the case if any SAME found a difference, listing them all as diagnostics. */
static void end(void)
{
	if (!ndiffs)
		return;
	fputs(diffs, stdout);
	FAIL("ffnet differs from Linux (the calls are listed above)");
}

/** Checks that an ffnet call fails with `err`. */
#define CHECK_ERR(call, err)                                                                       \
	do {                                                                                       \
		errno = 0;                                                                         \
		long r_ = (long)(call);                                                            \
		if (r_ != -1 || errno != (err))                                                    \
			FAIL("%s: got %ld %s, want -1 %s", #call, r_, strerrorname_np(errno), strerrorname_np(err)); \
	} while (0)

static struct sockaddr_in sin4(const char *ip, uint16_t port)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port) };
	inet_pton(AF_INET, ip, &a.sin_addr);
	return a;
}
#define SA(x) ((struct sockaddr *)&(x))

static int kudp(void)
{
	int s = socket(AF_INET, SOCK_DGRAM, 0);
	CHECK(s >= 0);
	return s;
}

static int fudp(void)
{
	int s = ff_socket(AF_INET, SOCK_DGRAM, 0);
	if (s < 0)
		FAIL("ff_socket: %s", strerror(errno));
	return s;
}

static uint16_t kport(int s)
{
	struct sockaddr_in a;
	socklen_t len = sizeof(a);
	CHECK_EQ_INT(getsockname(s, SA(a), &len), 0);
	return ntohs(a.sin_port);
}

static uint16_t fport(int s)
{
	struct sockaddr_in a;
	socklen_t len = sizeof(a);
	CHECK_EQ_INT(ff_getsockname(s, SA(a), &len), 0);
	return ntohs(a.sin_port);
}

/** An ff socket bound to 127.0.0.1:port (0: ephemeral). */
static int fbound(uint16_t port)
{
	int s = fudp();
	struct sockaddr_in a = sin4("127.0.0.1", port);
	CHECK_EQ_INT(ff_bind(s, SA(a), sizeof(a)), 0);
	return s;
}

static int kbound(void)
{
	int s = kudp();
	struct sockaddr_in a = sin4("127.0.0.1", 0);
	CHECK_EQ_INT(bind(s, SA(a), sizeof(a)), 0);
	return s;
}

/** Turns the stack until it has been idle for a while (loopback delivery, ICMP). */
static void settle(void)
{
	uint64_t deadline = test_now_ms() + 200;
	for (unsigned idle = 0; idle < 64 && test_now_ms() < deadline;)
		idle = ffs_stack_poll(st) ? 0 : idle + 1;
}

static uint64_t counter(enum ffs_counter_index i)
{
	uint64_t sum = 0;
	for (unsigned l = 0; l < ffs_stack_lcore_count(st); l++) {
		struct ffs_counters c;
		ffs_stack_counters(st, l, &c);
		sum += ((const uint64_t *)&c)[i];
	}
	return sum;
}

/* ---- bad arguments, against Linux ----------------------------------------------------- */

TEST(bad_fd_is_ebadf)
{
	begin();
	int kb = 1000, fb = 1000; /* no such descriptor on either side */
	CHECK(fcntl(kb, F_GETFD) == -1);
	struct sockaddr_in a = sin4("127.0.0.1", 9);
	char buf[8] = { 0 };
	socklen_t len = sizeof(a);
	int v = 1;
	socklen_t vlen = sizeof(v);
	struct iovec iov = { buf, sizeof(buf) };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
	struct mmsghdr mm = { .msg_hdr = mh };
	struct epoll_event ev = { .events = EPOLLIN };
	SAME(bind(kb, SA(a), sizeof(a)), ff_bind(fb, SA(a), sizeof(a)));
	SAME(connect(kb, SA(a), sizeof(a)), ff_connect(fb, SA(a), sizeof(a)));
	SAME(sendto(kb, buf, 1, 0, SA(a), sizeof(a)), ff_sendto(fb, buf, 1, 0, SA(a), sizeof(a)));
	SAME(send(kb, buf, 1, 0), ff_send(fb, buf, 1, 0));
	SAME(write(kb, buf, 1), ff_write(fb, buf, 1));
	SAME(sendmsg(kb, &mh, 0), ff_sendmsg(fb, &mh, 0));
	SAME(sendmmsg(kb, &mm, 1, 0), ff_sendmmsg(fb, &mm, 1, 0));
	SAME(recvfrom(kb, buf, 1, 0, SA(a), &len), ff_recvfrom(fb, buf, 1, 0, SA(a), &len));
	SAME(recv(kb, buf, 1, 0), ff_recv(fb, buf, 1, 0));
	SAME(read(kb, buf, 1), ff_read(fb, buf, 1));
	SAME(recvmsg(kb, &mh, 0), ff_recvmsg(fb, &mh, 0));
	SAME(recvmmsg(kb, &mm, 1, 0, NULL), ff_recvmmsg(fb, &mm, 1, 0, NULL));
	SAME(getsockname(kb, SA(a), &len), ff_getsockname(fb, SA(a), &len));
	SAME(getpeername(kb, SA(a), &len), ff_getpeername(fb, SA(a), &len));
	SAME(setsockopt(kb, SOL_SOCKET, SO_REUSEADDR, &v, sizeof(v)), ff_setsockopt(fb, SOL_SOCKET, SO_REUSEADDR, &v, sizeof(v)));
	SAME(getsockopt(kb, SOL_SOCKET, SO_REUSEADDR, &v, &vlen), ff_getsockopt(fb, SOL_SOCKET, SO_REUSEADDR, &v, &vlen));
	SAME(ioctl(kb, FIONREAD, &v), ff_ioctl(fb, FIONREAD, &v));
	SAME(fcntl(kb, F_GETFL), ff_fcntl(fb, F_GETFL));
	SAME(close(kb), ff_close(fb));
	SAME(close(-1), ff_close(-1));
	SAME(bind(-1, SA(a), sizeof(a)), ff_bind(-1, SA(a), sizeof(a)));
	SAME(epoll_ctl(kb, EPOLL_CTL_ADD, 0, &ev), ff_epoll_ctl(FF_EPOLL_FD_BASE + 7, EPOLL_CTL_ADD, 0, &ev));
	SAME(epoll_wait(kb, &ev, 1, 0), ff_epoll_wait(FF_EPOLL_FD_BASE + 7, &ev, 1, 0));
	end();
}

TEST(epoll_fd_is_enotsock)
{
	begin();
	int ke = epoll_create1(0), fe = ff_epoll_create1(0);
	CHECK(ke >= 0 && fe >= 0);
	struct sockaddr_in a = sin4("127.0.0.1", 9);
	char buf[8] = { 0 };
	socklen_t len = sizeof(a);
	int v = 1;
	socklen_t vlen = sizeof(v);
	struct iovec iov = { buf, sizeof(buf) };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
	struct mmsghdr mm = { .msg_hdr = mh };
	SAME(bind(ke, SA(a), sizeof(a)), ff_bind(fe, SA(a), sizeof(a)));
	SAME(connect(ke, SA(a), sizeof(a)), ff_connect(fe, SA(a), sizeof(a)));
	SAME(sendto(ke, buf, 1, 0, SA(a), sizeof(a)), ff_sendto(fe, buf, 1, 0, SA(a), sizeof(a)));
	SAME(send(ke, buf, 1, 0), ff_send(fe, buf, 1, 0));
	SAME(sendmsg(ke, &mh, 0), ff_sendmsg(fe, &mh, 0));
	SAME(sendmmsg(ke, &mm, 1, 0), ff_sendmmsg(fe, &mm, 1, 0));
	SAME(recvfrom(ke, buf, 1, 0, SA(a), &len), ff_recvfrom(fe, buf, 1, 0, SA(a), &len));
	SAME(recv(ke, buf, 1, 0), ff_recv(fe, buf, 1, 0));
	SAME(recvmsg(ke, &mh, 0), ff_recvmsg(fe, &mh, 0));
	SAME(recvmmsg(ke, &mm, 1, 0, NULL), ff_recvmmsg(fe, &mm, 1, 0, NULL));
	SAME(getsockname(ke, SA(a), &len), ff_getsockname(fe, SA(a), &len));
	SAME(getpeername(ke, SA(a), &len), ff_getpeername(fe, SA(a), &len));
	SAME(setsockopt(ke, SOL_SOCKET, SO_REUSEADDR, &v, sizeof(v)), ff_setsockopt(fe, SOL_SOCKET, SO_REUSEADDR, &v, sizeof(v)));
	SAME(getsockopt(ke, SOL_SOCKET, SO_REUSEADDR, &v, &vlen), ff_getsockopt(fe, SOL_SOCKET, SO_REUSEADDR, &v, &vlen));
	/* Not socket calls: an epoll fd has no read/write, but takes fcntl and FIONBIO. */
	SAME(read(ke, buf, 1), ff_read(fe, buf, 1));
	SAME(write(ke, buf, 1), ff_write(fe, buf, 1));
	SAME(fcntl(ke, F_GETFL), ff_fcntl(fe, F_GETFL));
	SAME(ioctl(ke, FIONBIO, &v), ff_ioctl(fe, FIONBIO, &v));
	SAME(ioctl(ke, FIONREAD, &v), ff_ioctl(fe, FIONREAD, &v));
	SAME(close(ke), ff_close(fe));
	end();
}

TEST(socket_arguments)
{
	begin();
	SAME_OK(socket(AF_MAX + 5, SOCK_DGRAM, 0), ff_socket(AF_MAX + 5, SOCK_DGRAM, 0));
	SAME_OK(socket(AF_INET, 99, 0), ff_socket(AF_INET, 99, 0));
	SAME_OK(socket(AF_INET, SOCK_DGRAM | 0x40000000, 0), ff_socket(AF_INET, SOCK_DGRAM | 0x40000000, 0));
	SAME_OK(socket(AF_INET, SOCK_SEQPACKET, 0), ff_socket(AF_INET, SOCK_SEQPACKET, 0));
	SAME_OK(socket(AF_INET, SOCK_DGRAM, IPPROTO_TCP), ff_socket(AF_INET, SOCK_DGRAM, IPPROTO_TCP));
	int k = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, IPPROTO_UDP);
	int f = ff_socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, IPPROTO_UDP);
	CHECK(k >= 0 && f >= 0);
	SAME(fcntl(k, F_GETFL) & O_NONBLOCK, ff_fcntl(f, F_GETFL) & O_NONBLOCK);
	close(k);
	ff_close(f);
	SAME_OK(socket(AF_INET6, SOCK_DGRAM, 0), ff_socket(AF_INET6, SOCK_DGRAM, 0));
	SAME_OK(socket(AF_INET6, SOCK_DGRAM, IPPROTO_TCP), ff_socket(AF_INET6, SOCK_DGRAM, IPPROTO_TCP));
	SAME_OK(socket(AF_INET6, SOCK_SEQPACKET, 0), ff_socket(AF_INET6, SOCK_SEQPACKET, 0));
	/* ffnet is UDP only: the intended difference from Linux. */
	k = socket(AF_INET, SOCK_STREAM, 0);
	CHECK(k >= 0);
	close(k);
	CHECK_ERR(ff_socket(AF_INET, SOCK_STREAM, 0), EPROTONOSUPPORT);
	end();
}

static struct sockaddr_in6 sin6(const char *ip, uint16_t port, uint32_t scope)
{
	struct sockaddr_in6 a = { .sin6_family = AF_INET6, .sin6_port = htons(port), .sin6_scope_id = scope };
	inet_pton(AF_INET6, ip, &a.sin6_addr);
	return a;
}

static int kudp6(void)
{
	int s = socket(AF_INET6, SOCK_DGRAM, 0);
	CHECK(s >= 0);
	return s;
}

static int fudp6(void)
{
	int s = ff_socket(AF_INET6, SOCK_DGRAM, 0);
	if (s < 0)
		FAIL("ff_socket(AF_INET6): %s", strerror(errno));
	return s;
}

/** An interface index no interface of the kernel's or the stack's has. */
#define NO_IFINDEX 4000

TEST(inet6_bind_connect_send_arguments)
{
	begin();
	int k = kudp6(), f = fudp6();
	struct sockaddr_in6 any = sin6("::", 0, 0), far = sin6("2001:db8::7", 0, 0);
	struct sockaddr_in6 ll = sin6("fe80::1", 0, 0), ll_bad = sin6("fe80::1", 0, NO_IFINDEX);
	struct sockaddr_in6 mapped_far = sin6("::ffff:" NOT_OURS, 0, 0);
	struct sockaddr_in v4 = sin4("127.0.0.1", 0);
	struct sockaddr_storage wrong = { .ss_family = AF_INET };
	SAME(bind(k, SA(any), 23), ff_bind(f, SA(any), 23));
	SAME(bind(k, SA(v4), sizeof(v4)), ff_bind(f, SA(v4), sizeof(v4)));
	SAME(bind(k, SA(wrong), sizeof(any)), ff_bind(f, SA(wrong), sizeof(any)));
	SAME(bind(k, SA(far), sizeof(far)), ff_bind(f, SA(far), sizeof(far)));
	SAME(bind(k, SA(ll), sizeof(ll)), ff_bind(f, SA(ll), sizeof(ll)));
	SAME(bind(k, SA(mapped_far), sizeof(mapped_far)), ff_bind(f, SA(mapped_far), sizeof(mapped_far)));
	SAME(bind(k, SA(ll_bad), sizeof(ll_bad)), ff_bind(f, SA(ll_bad), sizeof(ll_bad)));
	struct sockaddr_in6 to = sin6("::ffff:127.0.0.1", 0, 0);
	SAME(sendto(k, "x", 1, 0, SA(to), sizeof(to)), ff_sendto(f, "x", 1, 0, SA(to), sizeof(to)));
	SAME(sendto(k, "x", 1, 0, SA(to), 20), ff_sendto(f, "x", 1, 0, SA(to), 20));
	SAME(sendto(k, "x", 1, 0, SA(wrong), sizeof(to)), ff_sendto(f, "x", 1, 0, SA(wrong), sizeof(to)));
	SAME(connect(k, SA(to), 20), ff_connect(f, SA(to), 20));
	/* A link-local destination without a scope: a send is routed as any other (no link has fe80::/64 here). */
	struct sockaddr_in6 ll_to = sin6("fe80::1", 9, 0);
	SAME(sendto(k, "x", 1, 0, SA(ll_to), sizeof(ll_to)), ff_sendto(f, "x", 1, 0, SA(ll_to), sizeof(ll_to)));
	close(k);
	ff_close(f);
	/* IPV6_V6ONLY: no v4-mapped address, no IPv4 peer. */
	k = kudp6();
	f = fudp6();
	int one = 1;
	SAME(setsockopt(k, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one)), ff_setsockopt(f, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one)));
	struct sockaddr_in6 mapped_lo = sin6("::ffff:127.0.0.1", 0, 0), mapped_to = sin6("::ffff:127.0.0.1", 9, 0);
	struct sockaddr_in v4_to = sin4("127.0.0.1", 9);
	SAME(bind(k, SA(mapped_lo), sizeof(mapped_lo)), ff_bind(f, SA(mapped_lo), sizeof(mapped_lo)));
	SAME(sendto(k, "x", 1, 0, SA(mapped_to), sizeof(mapped_to)), ff_sendto(f, "x", 1, 0, SA(mapped_to), sizeof(mapped_to)));
	SAME(sendto(k, "x", 1, 0, SA(v4_to), sizeof(v4_to)), ff_sendto(f, "x", 1, 0, SA(v4_to), sizeof(v4_to)));
	SAME(connect(k, SA(v4_to), sizeof(v4_to)), ff_connect(f, SA(v4_to), sizeof(v4_to)));
	SAME(connect(k, SA(mapped_to), sizeof(mapped_to)), ff_connect(f, SA(mapped_to), sizeof(mapped_to)));
	struct sockaddr_in6 lo6 = sin6("::1", 0, 0);
	SAME(bind(k, SA(lo6), sizeof(lo6)), ff_bind(f, SA(lo6), sizeof(lo6)));
	int zero = 0;
	SAME(setsockopt(k, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof(zero)), ff_setsockopt(f, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof(zero)));
	close(k);
	ff_close(f);
	end();
}

TEST(inet6_sockopt_arguments)
{
	begin();
	int k = kudp6(), f = fudp6();
	int vals[] = { -2, -1, 0, 1, 2, 7, 255, 256 };
	int opts[] = { IPV6_UNICAST_HOPS, IPV6_MULTICAST_HOPS, IPV6_TCLASS, IPV6_MULTICAST_LOOP, IPV6_V6ONLY };
	for (unsigned o = 0; o < sizeof(opts) / sizeof(opts[0]); o++) {
		for (unsigned i = 0; i < sizeof(vals) / sizeof(vals[0]); i++) {
			SAME(setsockopt(k, IPPROTO_IPV6, opts[o], &vals[i], sizeof(int)),
			     ff_setsockopt(f, IPPROTO_IPV6, opts[o], &vals[i], sizeof(int)));
			int kv = -99, fv = -99;
			socklen_t kl = sizeof(kv), fl = sizeof(fv);
			SAME(getsockopt(k, IPPROTO_IPV6, opts[o], &kv, &kl), ff_getsockopt(f, IPPROTO_IPV6, opts[o], &fv, &fl));
			SAME(kv, fv);
		}
		SAME(setsockopt(k, IPPROTO_IPV6, opts[o], &vals[0], 2), ff_setsockopt(f, IPPROTO_IPV6, opts[o], &vals[0], 2));
	}
	int bad_if = NO_IFINDEX;
	SAME(setsockopt(k, IPPROTO_IPV6, IPV6_MULTICAST_IF, &bad_if, sizeof(bad_if)),
	     ff_setsockopt(f, IPPROTO_IPV6, IPV6_MULTICAST_IF, &bad_if, sizeof(bad_if)));
	struct ipv6_mreq m = { .ipv6mr_interface = 0 };
	inet_pton(AF_INET6, "2001:db8::1", &m.ipv6mr_multiaddr);
	SAME(setsockopt(k, IPPROTO_IPV6, IPV6_JOIN_GROUP, &m, sizeof(m)), ff_setsockopt(f, IPPROTO_IPV6, IPV6_JOIN_GROUP, &m, sizeof(m)));
	SAME(setsockopt(k, IPPROTO_IPV6, IPV6_JOIN_GROUP, &m, 4), ff_setsockopt(f, IPPROTO_IPV6, IPV6_JOIN_GROUP, &m, 4));
	SAME(setsockopt(k, IPPROTO_IPV6, 9999, &m, sizeof(m)), ff_setsockopt(f, IPPROTO_IPV6, 9999, &m, sizeof(m)));
	int kd = 0, fd = 0;
	socklen_t kl = sizeof(kd), fl = sizeof(fd);
	SAME(getsockopt(k, SOL_SOCKET, SO_DOMAIN, &kd, &kl), ff_getsockopt(f, SOL_SOCKET, SO_DOMAIN, &fd, &fl));
	SAME(kd, fd);
	close(k);
	ff_close(f);
	/* An AF_INET socket has no IPPROTO_IPV6 level. */
	k = kudp();
	f = fudp();
	int one = 1;
	SAME(setsockopt(k, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one)), ff_setsockopt(f, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one)));
	close(k);
	ff_close(f);
	end();
}

TEST(bind_arguments)
{
	begin();
	int k = kudp(), f = fudp();
	struct sockaddr_in a = sin4("127.0.0.1", 0);
	struct sockaddr_in6 a6 = { .sin6_family = AF_INET6 };
	struct sockaddr_in un = { .sin_family = AF_UNSPEC };
	struct sockaddr_in far = sin4(NOT_OURS, 0);
	struct sockaddr_storage big = { .ss_family = AF_INET };
	SAME(bind(k, SA(a), 8), ff_bind(f, SA(a), 8));
	SAME(bind(k, SA(a), 0), ff_bind(f, SA(a), 0));
	SAME(bind(k, NULL, 0), ff_bind(f, NULL, 0));
	SAME(bind(k, NULL, sizeof(a)), ff_bind(f, NULL, sizeof(a)));
	SAME(bind(k, SA(big), sizeof(big) + 1), ff_bind(f, SA(big), sizeof(big) + 1));
	SAME(bind(k, SA(a6), sizeof(a6)), ff_bind(f, SA(a6), sizeof(a6)));
	SAME(bind(k, SA(far), sizeof(far)), ff_bind(f, SA(far), sizeof(far)));
	struct sockaddr_in lo5 = sin4("127.0.0.5", 0);
	SAME(bind(k, SA(lo5), sizeof(lo5)), ff_bind(f, SA(lo5), sizeof(lo5)));
	SAME(bind(k, SA(a), sizeof(a)), ff_bind(f, SA(a), sizeof(a)));
	close(k);
	ff_close(f);
	/* AF_UNSPEC with INADDR_ANY is taken as AF_INET (Linux keeps this for old programs). */
	k = kudp();
	f = fudp();
	SAME(bind(k, SA(un), sizeof(un)), ff_bind(f, SA(un), sizeof(un)));
	SAME(bind(k, SA(un), sizeof(un)), ff_bind(f, SA(un), sizeof(un)));
	close(k);
	ff_close(f);
	end();
}

TEST(bind_address_in_use)
{
	begin();
	int one = 1;
	int k1 = kbound();
	uint16_t port = kport(k1);
	int k2 = kudp(), f2 = fudp();
	int f1 = fbound(port);
	struct sockaddr_in a = sin4("127.0.0.1", port), any = sin4("0.0.0.0", port);
	SAME(bind(k2, SA(a), sizeof(a)), ff_bind(f2, SA(a), sizeof(a)));
	SAME(bind(k2, SA(any), sizeof(any)), ff_bind(f2, SA(any), sizeof(any)));
	SAME(setsockopt(k2, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)), ff_setsockopt(f2, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)));
	SAME(bind(k2, SA(a), sizeof(a)), ff_bind(f2, SA(a), sizeof(a))); /* only one side asked */
	close(k1), close(k2), ff_close(f1), ff_close(f2);

	int ks[2], fs[2];
	for (int opt = 0; opt < 2; opt++) {
		int name = opt ? SO_REUSEPORT : SO_REUSEADDR;
		for (int i = 0; i < 2; i++) {
			ks[i] = kudp();
			fs[i] = fudp();
			SAME(setsockopt(ks[i], SOL_SOCKET, name, &one, sizeof(one)), ff_setsockopt(fs[i], SOL_SOCKET, name, &one, sizeof(one)));
		}
		struct sockaddr_in b = sin4("127.0.0.1", 0);
		CHECK_EQ_INT(bind(ks[0], SA(b), sizeof(b)), 0);
		b.sin_port = htons(kport(ks[0]));
		CHECK_EQ_INT(ff_bind(fs[0], SA(b), sizeof(b)), 0);
		SAME(bind(ks[1], SA(b), sizeof(b)), ff_bind(fs[1], SA(b), sizeof(b)));
		for (int i = 0; i < 2; i++)
			close(ks[i]), ff_close(fs[i]);
	}
	end();
}

TEST(connect_arguments)
{
	begin();
	int k = kudp(), f = fudp();
	struct sockaddr_in a = sin4("127.0.0.1", 9);
	struct sockaddr_in6 a6 = { .sin6_family = AF_INET6 };
	struct sockaddr_in un = { .sin_family = AF_UNSPEC };
	socklen_t len = sizeof(a);
	SAME(connect(k, SA(a), 8), ff_connect(f, SA(a), 8));
	SAME(connect(k, SA(a), 1), ff_connect(f, SA(a), 1));
	SAME(connect(k, NULL, sizeof(a)), ff_connect(f, NULL, sizeof(a)));
	SAME(connect(k, SA(a6), sizeof(a6)), ff_connect(f, SA(a6), sizeof(a6)));
	SAME(connect(k, SA(un), sizeof(un)), ff_connect(f, SA(un), sizeof(un)));
	SAME(getpeername(k, SA(a), &len), ff_getpeername(f, SA(a), &len));
	SAME(connect(k, SA(a), sizeof(a)), ff_connect(f, SA(a), sizeof(a)));
	SAME(getpeername(k, SA(a), &len), ff_getpeername(f, SA(a), &len));
	SAME(connect(k, SA(un), 2), ff_connect(f, SA(un), 2));
	SAME(getpeername(k, SA(a), &len), ff_getpeername(f, SA(a), &len));
	close(k);
	ff_close(f);
	end();
}

/* Linux's __udp_disconnect: a port the socket got automatically (connect's or bind(0)'s) is released
 * on disconnect, and getsockname then says port 0 (a bound address stays); a port bind named stays. */
TEST(disconnect_releases_an_automatic_port)
{
	begin();
	struct sockaddr_in peer = sin4("127.0.0.1", 9), any0 = sin4("0.0.0.0", 0), lo0 = sin4("127.0.0.1", 0);
	struct sockaddr_in un = { .sin_family = AF_UNSPEC };
	struct sockaddr_in ka, fa;
	socklen_t kl = sizeof(ka), fl = sizeof(fa);
	const struct sockaddr_in *binds[] = { NULL, &any0, &lo0 };
	for (unsigned i = 0; i < 3; i++) {
		int k = kudp(), f = fudp();
		if (binds[i])
			SAME(bind(k, (const struct sockaddr *)binds[i], sizeof(*binds[i])), ff_bind(f, (const struct sockaddr *)binds[i], sizeof(*binds[i])));
		SAME(connect(k, SA(peer), sizeof(peer)), ff_connect(f, SA(peer), sizeof(peer)));
		SAME(kport(k) != 0, fport(f) != 0);
		SAME(connect(k, SA(un), sizeof(un)), ff_connect(f, SA(un), sizeof(un)));
		SAME(getsockname(k, SA(ka), &kl), ff_getsockname(f, SA(fa), &fl));
		SAME(ka.sin_port, fa.sin_port);
		SAME(ka.sin_addr.s_addr, fa.sin_addr.s_addr);
		/* The next send binds a new ephemeral port. */
		SAME(sendto(k, "x", 1, 0, SA(peer), sizeof(peer)), ff_sendto(f, "x", 1, 0, SA(peer), sizeof(peer)));
		SAME(kport(k) != 0, fport(f) != 0);
		close(k);
		ff_close(f);
	}
	int k = kudp(), f = fudp();
	SAME(bind(k, SA(lo0), sizeof(lo0)), ff_bind(f, SA(lo0), sizeof(lo0)));
	struct sockaddr_in kfixed = sin4("127.0.0.1", kport(k)), ffixed = sin4("127.0.0.1", fport(f));
	close(k);
	ff_close(f);
	k = kudp(), f = fudp();
	SAME(bind(k, SA(kfixed), sizeof(kfixed)), ff_bind(f, SA(ffixed), sizeof(ffixed)));
	SAME(connect(k, SA(peer), sizeof(peer)), ff_connect(f, SA(peer), sizeof(peer)));
	SAME(connect(k, SA(un), sizeof(un)), ff_connect(f, SA(un), sizeof(un)));
	SAME(kport(k) == ntohs(kfixed.sin_port), fport(f) == ntohs(ffixed.sin_port));
	settle();
	close(k);
	ff_close(f);
	end();
}

/* Memberships on the loopback interface (named by 127.0.0.1) are valid, as on Linux's lo. */
TEST(membership_on_loopback)
{
	begin();
	int k = kudp(), f = fudp();
	struct ip_mreq m = { .imr_multiaddr.s_addr = htonl(0xe0000072), .imr_interface.s_addr = htonl(0x7f000001) };
	SAME(setsockopt(k, IPPROTO_IP, IP_ADD_MEMBERSHIP, &m, sizeof(m)), ff_setsockopt(f, IPPROTO_IP, IP_ADD_MEMBERSHIP, &m, sizeof(m)));
	SAME(setsockopt(k, IPPROTO_IP, IP_ADD_MEMBERSHIP, &m, sizeof(m)), ff_setsockopt(f, IPPROTO_IP, IP_ADD_MEMBERSHIP, &m, sizeof(m)));
	SAME(setsockopt(k, IPPROTO_IP, IP_DROP_MEMBERSHIP, &m, sizeof(m)), ff_setsockopt(f, IPPROTO_IP, IP_DROP_MEMBERSHIP, &m, sizeof(m)));
	SAME(setsockopt(k, IPPROTO_IP, IP_DROP_MEMBERSHIP, &m, sizeof(m)), ff_setsockopt(f, IPPROTO_IP, IP_DROP_MEMBERSHIP, &m, sizeof(m)));
	close(k);
	ff_close(f);
	end();
}

TEST(send_errors)
{
	begin();
	int k = kudp(), f = fudp(), kr = kbound(), fr = fbound(0);
	static char big[65508];
	struct sockaddr_in kto = sin4("127.0.0.1", kport(kr)), fto = sin4("127.0.0.1", fport(fr));
	struct sockaddr_in zero = sin4("127.0.0.1", 0);
	struct sockaddr_in6 a6 = { .sin6_family = AF_INET6, .sin6_port = htons(9) };
	struct sockaddr_in un = sin4("127.0.0.1", kport(kr));
	un.sin_family = AF_UNSPEC;
	SAME(send(k, big, 1, 0), ff_send(f, big, 1, 0));
	SAME(sendto(k, big, 1, 0, NULL, sizeof(kto)), ff_sendto(f, big, 1, 0, NULL, sizeof(fto)));
	SAME(sendto(k, big, sizeof(big), 0, SA(kto), sizeof(kto)), ff_sendto(f, big, sizeof(big), 0, SA(fto), sizeof(fto)));
	SAME(sendto(k, big, sizeof(big) - 1, 0, SA(kto), sizeof(kto)), ff_sendto(f, big, sizeof(big) - 1, 0, SA(fto), sizeof(fto)));
	SAME(sendto(k, big, 1, 0, SA(zero), sizeof(zero)), ff_sendto(f, big, 1, 0, SA(zero), sizeof(zero)));
	SAME(sendto(k, big, 1, 0, SA(kto), 8), ff_sendto(f, big, 1, 0, SA(fto), 8));
	SAME(sendto(k, big, 1, 0, SA(a6), sizeof(a6)), ff_sendto(f, big, 1, 0, SA(a6), sizeof(a6)));
	SAME(sendto(k, big, 1, MSG_OOB, SA(kto), sizeof(kto)), ff_sendto(f, big, 1, MSG_OOB, SA(fto), sizeof(fto)));
	SAME(sendto(k, NULL, 1, 0, SA(kto), sizeof(kto)), ff_sendto(f, NULL, 1, 0, SA(fto), sizeof(fto)));
	un.sin_port = htons(kport(kr));
	SAME(sendto(k, big, 3, 0, SA(un), sizeof(un)), (un.sin_port = htons(fport(fr)), ff_sendto(f, big, 3, 0, SA(un), sizeof(un))));
	/* Linux routes before it checks SO_BROADCAST: with no route (this stack is loopback-only, like a
	 * namespace with only lo), the limited broadcast is ENETUNREACH rather than EACCES. */
	struct sockaddr_in bcast = sin4("255.255.255.255", 9);
	CHECK_ERR(ff_sendto(f, big, 1, 0, SA(bcast), sizeof(bcast)), ENETUNREACH);
	settle();
	close(k), close(kr), ff_close(f), ff_close(fr);
	end();
}

/* 127.255.255.255 is the broadcast address of Linux's loopback subnet: sending to it needs SO_BROADCAST. */
TEST(loopback_broadcast_needs_so_broadcast)
{
	begin();
	int k = kudp(), f = fudp(), one = 1;
	struct sockaddr_in lbcast = sin4("127.255.255.255", 9);
	SAME(sendto(k, "x", 1, 0, SA(lbcast), sizeof(lbcast)), ff_sendto(f, "x", 1, 0, SA(lbcast), sizeof(lbcast)));
	SAME(connect(k, SA(lbcast), sizeof(lbcast)), ff_connect(f, SA(lbcast), sizeof(lbcast)));
	SAME(setsockopt(k, SOL_SOCKET, SO_BROADCAST, &one, sizeof(one)), ff_setsockopt(f, SOL_SOCKET, SO_BROADCAST, &one, sizeof(one)));
	SAME(sendto(k, "x", 1, 0, SA(lbcast), sizeof(lbcast)), ff_sendto(f, "x", 1, 0, SA(lbcast), sizeof(lbcast)));
	settle();
	close(k);
	ff_close(f);
	end();
}

TEST(receive_errors)
{
	begin();
	int k = kbound(), f = fbound(0);
	char buf[16];
	struct sockaddr_in a;
	socklen_t len = sizeof(a);
	struct timespec bad_ts = { 0, 1000000000 };
	struct iovec iov = { buf, sizeof(buf) };
	struct mmsghdr mm = { .msg_hdr = { .msg_iov = &iov, .msg_iovlen = 1 } };
	SAME(recv(k, buf, sizeof(buf), MSG_DONTWAIT), ff_recv(f, buf, sizeof(buf), MSG_DONTWAIT));
	SAME(recvmmsg(k, &mm, 1, MSG_DONTWAIT, NULL), ff_recvmmsg(f, &mm, 1, MSG_DONTWAIT, NULL));
	SAME(recvmmsg(k, &mm, 1, MSG_DONTWAIT, &bad_ts), ff_recvmmsg(f, &mm, 1, MSG_DONTWAIT, &bad_ts));
	SAME(getpeername(k, SA(a), &len), ff_getpeername(f, SA(a), &len));
	int on = 1;
	SAME(ioctl(k, FIONBIO, &on), ff_ioctl(f, FIONBIO, &on));
	SAME(recvfrom(k, buf, sizeof(buf), 0, SA(a), &len), ff_recvfrom(f, buf, sizeof(buf), 0, SA(a), &len));
	SAME(read(k, buf, sizeof(buf)), ff_read(f, buf, sizeof(buf)));
	close(k);
	ff_close(f);
	end();
}

TEST(sockopt_errors)
{
	begin();
	int k = kudp(), f = fudp();
	int v = 1, zero = 0, big = 256, minus = -1;
	unsigned char byte = 5;
	socklen_t len = sizeof(v), neg = (socklen_t)-1;
	SAME(setsockopt(k, SOL_SOCKET, 9999, &v, sizeof(v)), ff_setsockopt(f, SOL_SOCKET, 9999, &v, sizeof(v)));
	SAME(setsockopt(k, IPPROTO_IP, 9999, &v, sizeof(v)), ff_setsockopt(f, IPPROTO_IP, 9999, &v, sizeof(v)));
	SAME(setsockopt(k, 9999, 1, &v, sizeof(v)), ff_setsockopt(f, 9999, 1, &v, sizeof(v)));
	SAME(setsockopt(k, SOL_SOCKET, SO_REUSEADDR, &v, 2), ff_setsockopt(f, SOL_SOCKET, SO_REUSEADDR, &v, 2));
	SAME(setsockopt(k, SOL_SOCKET, SO_REUSEADDR, NULL, sizeof(v)), ff_setsockopt(f, SOL_SOCKET, SO_REUSEADDR, NULL, sizeof(v)));
	SAME(setsockopt(k, IPPROTO_IP, IP_TTL, &zero, sizeof(zero)), ff_setsockopt(f, IPPROTO_IP, IP_TTL, &zero, sizeof(zero)));
	SAME(setsockopt(k, IPPROTO_IP, IP_TTL, &big, sizeof(big)), ff_setsockopt(f, IPPROTO_IP, IP_TTL, &big, sizeof(big)));
	SAME(setsockopt(k, IPPROTO_IP, IP_TTL, &minus, sizeof(minus)), ff_setsockopt(f, IPPROTO_IP, IP_TTL, &minus, sizeof(minus)));
	SAME(setsockopt(k, IPPROTO_IP, IP_TTL, &byte, 1), ff_setsockopt(f, IPPROTO_IP, IP_TTL, &byte, 1));
	SAME(setsockopt(k, IPPROTO_IP, IP_TTL, &v, 0), ff_setsockopt(f, IPPROTO_IP, IP_TTL, &v, 0));
	SAME(setsockopt(k, IPPROTO_IP, IP_MULTICAST_TTL, &big, sizeof(big)), ff_setsockopt(f, IPPROTO_IP, IP_MULTICAST_TTL, &big, sizeof(big)));
	struct ip_mreq m = { .imr_multiaddr.s_addr = htonl(0x7f000001) };
	SAME(setsockopt(k, IPPROTO_IP, IP_ADD_MEMBERSHIP, &m, sizeof(m)), ff_setsockopt(f, IPPROTO_IP, IP_ADD_MEMBERSHIP, &m, sizeof(m)));
	SAME(setsockopt(k, IPPROTO_IP, IP_ADD_MEMBERSHIP, &m, 4), ff_setsockopt(f, IPPROTO_IP, IP_ADD_MEMBERSHIP, &m, 4));
	SAME(getsockopt(k, SOL_SOCKET, 9999, &v, &len), ff_getsockopt(f, SOL_SOCKET, 9999, &v, &len));
	SAME(getsockopt(k, IPPROTO_IP, 9999, &v, &len), ff_getsockopt(f, IPPROTO_IP, 9999, &v, &len));
	SAME(getsockopt(k, SOL_SOCKET, SO_TYPE, &v, &neg), ff_getsockopt(f, SOL_SOCKET, SO_TYPE, &v, &neg));
	SAME(getsockopt(k, SOL_SOCKET, SO_TYPE, &v, NULL), ff_getsockopt(f, SOL_SOCKET, SO_TYPE, &v, NULL));
	int kv = 0, fv = 0;
	socklen_t kl = sizeof(kv), fl = sizeof(fv);
	v = 4096;
	SAME(setsockopt(k, SOL_SOCKET, SO_RCVBUF, &v, sizeof(v)), ff_setsockopt(f, SOL_SOCKET, SO_RCVBUF, &v, sizeof(v)));
	SAME(getsockopt(k, SOL_SOCKET, SO_RCVBUF, &kv, &kl), ff_getsockopt(f, SOL_SOCKET, SO_RCVBUF, &fv, &fl));
	SAME(kv, fv);
	SAME(getsockopt(k, IPPROTO_IP, IP_TTL, &kv, &kl), ff_getsockopt(f, IPPROTO_IP, IP_TTL, &fv, &fl));
	SAME(kv, fv);
	kl = fl = 1;
	SAME(getsockopt(k, SOL_SOCKET, SO_TYPE, &kv, &kl), ff_getsockopt(f, SOL_SOCKET, SO_TYPE, &fv, &fl));
	SAME(kl, fl);
	close(k);
	ff_close(f);
	end();
}

TEST(ioctl_and_fcntl)
{
	begin();
	int k = kbound(), f = fbound(0);
	int v = -1, w = -1;
	SAME(ioctl(k, 0x1234, &v), ff_ioctl(f, 0x1234, &v));
	SAME(ioctl(k, FIONREAD, &v), ff_ioctl(f, FIONREAD, &w));
	SAME(v, w);
	SAME(fcntl(k, 9999), ff_fcntl(f, 9999));
	SAME(fcntl(k, F_GETFL), ff_fcntl(f, F_GETFL));
	SAME(fcntl(k, F_SETFL, O_NONBLOCK), ff_fcntl(f, F_SETFL, O_NONBLOCK));
	SAME(fcntl(k, F_GETFL), ff_fcntl(f, F_GETFL));
	close(k);
	ff_close(f);
	end();
}

TEST(epoll_errors)
{
	begin();
	int k = kudp(), f = fudp();
	SAME(epoll_create(0), ff_epoll_create(0));
	SAME(epoll_create(-1), ff_epoll_create(-1));
	SAME(epoll_create1(1), ff_epoll_create1(1));
	int ke = epoll_create(1), fe = ff_epoll_create(1);
	CHECK(ke >= 0 && fe >= 0);
	struct epoll_event ev = { .events = EPOLLIN };
	SAME(epoll_ctl(ke, EPOLL_CTL_MOD, k, &ev), ff_epoll_ctl(fe, EPOLL_CTL_MOD, f, &ev));
	SAME(epoll_ctl(ke, EPOLL_CTL_DEL, k, &ev), ff_epoll_ctl(fe, EPOLL_CTL_DEL, f, &ev));
	SAME(epoll_ctl(ke, EPOLL_CTL_ADD, k, &ev), ff_epoll_ctl(fe, EPOLL_CTL_ADD, f, &ev));
	SAME(epoll_ctl(ke, EPOLL_CTL_ADD, k, &ev), ff_epoll_ctl(fe, EPOLL_CTL_ADD, f, &ev));
	SAME(epoll_ctl(ke, 99, k, &ev), ff_epoll_ctl(fe, 99, f, &ev));
	SAME(epoll_ctl(ke, EPOLL_CTL_ADD, ke, &ev), ff_epoll_ctl(fe, EPOLL_CTL_ADD, fe, &ev));
	SAME(epoll_ctl(k, EPOLL_CTL_ADD, k, &ev), ff_epoll_ctl(f, EPOLL_CTL_ADD, f, &ev));
	SAME(epoll_ctl(ke, EPOLL_CTL_ADD, 1000, &ev), ff_epoll_ctl(fe, EPOLL_CTL_ADD, 1000, &ev));
	SAME(epoll_ctl(ke, EPOLL_CTL_MOD, k, NULL), ff_epoll_ctl(fe, EPOLL_CTL_MOD, f, NULL));
	SAME(epoll_wait(ke, &ev, 0, 0), ff_epoll_wait(fe, &ev, 0, 0));
	volatile int negative = -1; /* a variable: the compiler refuses a literal negative count */
	SAME(epoll_wait(ke, &ev, negative, 0), ff_epoll_wait(fe, &ev, negative, 0));
	SAME(epoll_wait(k, &ev, 1, 0), ff_epoll_wait(f, &ev, 1, 0));
	SAME(epoll_ctl(ke, EPOLL_CTL_DEL, k, NULL), ff_epoll_ctl(fe, EPOLL_CTL_DEL, f, NULL));
	SAME(epoll_ctl(ke, EPOLL_CTL_DEL, k, NULL), ff_epoll_ctl(fe, EPOLL_CTL_DEL, f, NULL));
	SAME(close(ke), ff_close(fe));
	SAME(close(ke), ff_close(fe));
	close(k);
	ff_close(f);
	end();
}

/* ---- behaviour over the stack's loopback ---------------------------------------------- */

TEST(send_and_receive)
{
	begin();
	int a = fbound(0), b = fbound(0);
	struct sockaddr_in to = sin4("127.0.0.1", fport(b)), from;
	socklen_t len = sizeof(from);
	CHECK_EQ_INT(ff_sendto(a, "hello", 5, 0, SA(to), sizeof(to)), 5);
	char buf[16];
	CHECK_EQ_INT(ff_recvfrom(b, buf, sizeof(buf), 0, SA(from), &len), 5);
	CHECK_MEM(buf, "hello", 5);
	CHECK_EQ_INT(len, sizeof(from));
	CHECK_EQ_INT(ntohs(from.sin_port), fport(a));
	CHECK_EQ_INT(ntohl(from.sin_addr.s_addr), 0x7f000001);
	/* A datagram sent just before close still goes out, as on Linux. */
	CHECK_EQ_INT(ff_sendto(a, "bye", 3, 0, SA(to), sizeof(to)), 3);
	ff_close(a);
	CHECK_EQ_INT(ff_recvfrom(b, buf, sizeof(buf), MSG_DONTWAIT, NULL, NULL), -1);
	settle();
	CHECK_EQ_INT(ff_recvfrom(b, buf, sizeof(buf), MSG_DONTWAIT, NULL, NULL), 3);
	ff_close(b);
}

TEST(connect_filters_by_peer)
{
	begin();
	int a = fbound(0), b = fbound(0), c = fbound(0);
	struct sockaddr_in to_b = sin4("127.0.0.1", fport(b)), to_a = sin4("127.0.0.1", fport(a));
	CHECK_EQ_INT(ff_connect(b, SA(to_a), sizeof(to_a)), 0);
	CHECK_EQ_INT(ff_sendto(c, "c", 1, 0, SA(to_b), sizeof(to_b)), 1);
	CHECK_EQ_INT(ff_sendto(a, "a", 1, 0, SA(to_b), sizeof(to_b)), 1);
	settle();
	char buf[4];
	CHECK_EQ_INT(ff_recv(b, buf, sizeof(buf), MSG_DONTWAIT), 1);
	CHECK_EQ_INT(buf[0], 'a');
	CHECK_ERR(ff_recv(b, buf, sizeof(buf), MSG_DONTWAIT), EAGAIN);
	CHECK_EQ_INT(ff_send(b, "r", 1, 0), 1);
	CHECK_EQ_INT(ff_recv(a, buf, sizeof(buf), 0), 1);
	CHECK_EQ_INT(buf[0], 'r');
	ff_close(a), ff_close(b), ff_close(c);
}

TEST(port_unreachable_refuses_connected_socket)
{
	begin();
	int kgone = kbound(), fgone = fbound(0);
	struct sockaddr_in kto = sin4("127.0.0.1", kport(kgone)), fto = sin4("127.0.0.1", fport(fgone));
	close(kgone);
	ff_close(fgone);
	int k = kudp(), f = fudp(), ku = kudp(), fu = fudp();
	char buf[4];
	uint64_t unreach = counter(FFS_CTR_icmp_unreach_in), noport = counter(FFS_CTR_udp_noport);
	SAME(connect(k, SA(kto), sizeof(kto)), ff_connect(f, SA(fto), sizeof(fto)));
	SAME(send(k, "x", 1, 0), ff_send(f, "x", 1, 0));
	SAME(sendto(ku, "x", 1, 0, SA(kto), sizeof(kto)), ff_sendto(fu, "x", 1, 0, SA(fto), sizeof(fto)));
	settle();
	CHECK_EQ_INT(counter(FFS_CTR_udp_noport) - noport, 2);
	CHECK_EQ_INT(counter(FFS_CTR_icmp_unreach_in) - unreach, 2);
	/* Only the connected socket hears of it, once (Linux reports ICMP errors to connected sockets). */
	SAME(recv(ku, buf, sizeof(buf), MSG_DONTWAIT), ff_recv(fu, buf, sizeof(buf), MSG_DONTWAIT));
	SAME(recv(k, buf, sizeof(buf), MSG_DONTWAIT), ff_recv(f, buf, sizeof(buf), MSG_DONTWAIT));
	SAME(recv(k, buf, sizeof(buf), MSG_DONTWAIT), ff_recv(f, buf, sizeof(buf), MSG_DONTWAIT));
	SAME(send(k, "x", 1, 0), ff_send(f, "x", 1, 0));
	settle();
	int ke = 0, fe = 0;
	socklen_t kl = sizeof(ke), fl = sizeof(fe);
	SAME(getsockopt(k, SOL_SOCKET, SO_ERROR, &ke, &kl), ff_getsockopt(f, SOL_SOCKET, SO_ERROR, &fe, &fl));
	SAME(ke, fe);
	SAME(send(k, "x", 1, 0), ff_send(f, "x", 1, 0));
	close(k), close(ku), ff_close(f), ff_close(fu);
	end();
}

TEST(reuseport_spreads_by_source_port)
{
	begin();
	int one = 1, r[2];
	uint16_t port = 0;
	for (int i = 0; i < 2; i++) {
		r[i] = fudp();
		CHECK_EQ_INT(ff_setsockopt(r[i], SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)), 0);
		struct sockaddr_in a = sin4("127.0.0.1", port);
		CHECK_EQ_INT(ff_bind(r[i], SA(a), sizeof(a)), 0);
		port = fport(r[i]);
	}
	struct sockaddr_in to = sin4("127.0.0.1", port);
	enum { SENDERS = 32 };
	for (int i = 0; i < SENDERS; i++) {
		int s = fudp();
		CHECK_EQ_INT(ff_sendto(s, "x", 1, 0, SA(to), sizeof(to)), 1);
		settle();
		ff_close(s);
	}
	int got[2] = { 0, 0 };
	char buf[4];
	for (int i = 0; i < 2; i++)
		while (ff_recv(r[i], buf, sizeof(buf), MSG_DONTWAIT) == 1)
			got[i]++;
	if (got[0] + got[1] != SENDERS || got[0] == 0 || got[1] == 0)
		FAIL("datagrams per socket: %d and %d of %d", got[0], got[1], SENDERS);
	ff_close(r[0]), ff_close(r[1]);
}

TEST(fionread_peek_and_trunc)
{
	begin();
	int ks = kudp(), kr = kbound(), fs = fudp(), fr = fbound(0);
	struct sockaddr_in kto = sin4("127.0.0.1", kport(kr)), fto = sin4("127.0.0.1", fport(fr));
	char msg[100], kb[200], fb[200];
	for (int i = 0; i < 100; i++)
		msg[i] = (char)i;
	int kv, fv;
	SAME(sendto(ks, msg, 100, 0, SA(kto), sizeof(kto)), ff_sendto(fs, msg, 100, 0, SA(fto), sizeof(fto)));
	SAME(sendto(ks, msg, 7, 0, SA(kto), sizeof(kto)), ff_sendto(fs, msg, 7, 0, SA(fto), sizeof(fto)));
	settle();
	SAME(ioctl(kr, FIONREAD, &kv), ff_ioctl(fr, FIONREAD, &fv));
	SAME(kv, fv);
	SAME(recv(kr, kb, 10, MSG_PEEK), ff_recv(fr, fb, 10, MSG_PEEK));
	SAME(recv(kr, kb, 10, MSG_PEEK | MSG_TRUNC), ff_recv(fr, fb, 10, MSG_PEEK | MSG_TRUNC));
	CHECK_MEM(fb, msg, 10);
	struct iovec kiov = { kb, 10 }, fiov = { fb, 10 };
	struct msghdr kmh = { .msg_iov = &kiov, .msg_iovlen = 1 }, fmh = { .msg_iov = &fiov, .msg_iovlen = 1 };
	SAME(recvmsg(kr, &kmh, 0), ff_recvmsg(fr, &fmh, 0));
	SAME(kmh.msg_flags, fmh.msg_flags);
	SAME(ioctl(kr, FIONREAD, &kv), ff_ioctl(fr, FIONREAD, &fv));
	SAME(kv, fv);
	SAME(recv(kr, kb, sizeof(kb), MSG_TRUNC), ff_recv(fr, fb, sizeof(fb), MSG_TRUNC));
	SAME(ioctl(kr, FIONREAD, &kv), ff_ioctl(fr, FIONREAD, &fv));
	SAME(kv, fv);
	SAME(sendto(ks, msg, 0, 0, SA(kto), sizeof(kto)), ff_sendto(fs, msg, 0, 0, SA(fto), sizeof(fto)));
	settle();
	SAME(recv(kr, kb, sizeof(kb), MSG_DONTWAIT), ff_recv(fr, fb, sizeof(fb), MSG_DONTWAIT));
	close(ks), close(kr), ff_close(fs), ff_close(fr);
	end();
}

TEST(mmsg_batches)
{
	begin();
	int s = fudp(), r = fbound(0);
	struct sockaddr_in to = sin4("127.0.0.1", fport(r));
	enum { N = 8 };
	char out[N][32], in[16][64];
	struct iovec oiov[N], iiov[16];
	struct mmsghdr om[N], im[16];
	struct sockaddr_in from[16];
	for (int i = 0; i < N; i++) {
		memset(out[i], 'a' + i, sizeof(out[i]));
		oiov[i] = (struct iovec){ out[i], (size_t)i + 1 };
		om[i] = (struct mmsghdr){ .msg_hdr = { .msg_name = &to, .msg_namelen = sizeof(to), .msg_iov = &oiov[i], .msg_iovlen = 1 } };
	}
	for (int i = 0; i < 16; i++) {
		iiov[i] = (struct iovec){ in[i], sizeof(in[i]) };
		im[i] = (struct mmsghdr){ .msg_hdr = { .msg_name = &from[i], .msg_namelen = sizeof(from[i]), .msg_iov = &iiov[i], .msg_iovlen = 1 } };
	}
	CHECK_EQ_INT(ff_sendmmsg(s, om, N, 0), N);
	for (int i = 0; i < N; i++)
		CHECK_EQ_INT(om[i].msg_len, i + 1);
	settle();
	CHECK_EQ_INT(ff_recvmmsg(r, im, 16, MSG_DONTWAIT, NULL), N);
	for (int i = 0; i < N; i++) {
		CHECK_EQ_INT(im[i].msg_len, i + 1);
		CHECK_MEM(in[i], out[i], (size_t)i + 1);
		CHECK_EQ_INT(ntohs(from[i].sin_port), fport(s));
	}
	CHECK_ERR(ff_recvmmsg(r, im, 16, MSG_DONTWAIT, NULL), EAGAIN);
	/* A batch stops at the first failure and reports what was sent before it. */
	om[2].msg_hdr.msg_namelen = 3;
	CHECK_EQ_INT(ff_sendmmsg(s, om, N, 0), 2);
	settle();
	CHECK_EQ_INT(ff_recvmmsg(r, im, 16, MSG_DONTWAIT, NULL), 2);
	ff_close(s), ff_close(r);
}

static void send_one(int s, int to_sock)
{
	struct sockaddr_in to = sin4("127.0.0.1", fport(to_sock));
	CHECK_EQ_INT(ff_sendto(s, "e", 1, 0, SA(to), sizeof(to)), 1);
}

TEST(epoll_level_edge_oneshot_out)
{
	begin();
	int s = fudp(), lt = fbound(0), et = fbound(0), os = fbound(0);
	int ep = ff_epoll_create1(0);
	struct epoll_event ev[4];
	struct epoll_event e_lt = { .events = EPOLLIN, .data.fd = lt }, e_et = { .events = EPOLLIN | EPOLLET, .data.fd = et },
			   e_os = { .events = EPOLLIN | EPOLLONESHOT, .data.fd = os };
	CHECK_EQ_INT(ff_epoll_ctl(ep, EPOLL_CTL_ADD, lt, &e_lt), 0);
	CHECK_EQ_INT(ff_epoll_wait(ep, ev, 4, 0), 0);
	send_one(s, lt);
	CHECK_EQ_INT(ff_epoll_wait(ep, ev, 4, 200), 1);
	CHECK_EQ_INT(ev[0].data.fd, lt);
	CHECK_EQ_INT(ev[0].events, EPOLLIN);
	CHECK_EQ_INT(ff_epoll_wait(ep, ev, 4, 0), 1); /* level: still readable */
	char buf[4];
	CHECK_EQ_INT(ff_recv(lt, buf, sizeof(buf), 0), 1);
	CHECK_EQ_INT(ff_epoll_wait(ep, ev, 4, 0), 0);
	CHECK_EQ_INT(ff_epoll_ctl(ep, EPOLL_CTL_DEL, lt, NULL), 0);

	CHECK_EQ_INT(ff_epoll_ctl(ep, EPOLL_CTL_ADD, et, &e_et), 0);
	send_one(s, et);
	CHECK_EQ_INT(ff_epoll_wait(ep, ev, 4, 200), 1);
	CHECK_EQ_INT(ff_epoll_wait(ep, ev, 4, 0), 0); /* edge: once per arrival */
	send_one(s, et);
	CHECK_EQ_INT(ff_epoll_wait(ep, ev, 4, 200), 1);
	CHECK_EQ_INT(ff_epoll_wait(ep, ev, 4, 0), 0);
	CHECK_EQ_INT(ff_recv(et, buf, sizeof(buf), 0), 1);
	CHECK_EQ_INT(ff_recv(et, buf, sizeof(buf), 0), 1);
	CHECK_EQ_INT(ff_epoll_ctl(ep, EPOLL_CTL_DEL, et, NULL), 0);

	CHECK_EQ_INT(ff_epoll_ctl(ep, EPOLL_CTL_ADD, os, &e_os), 0);
	send_one(s, os);
	CHECK_EQ_INT(ff_epoll_wait(ep, ev, 4, 200), 1);
	send_one(s, os);
	settle();
	CHECK_EQ_INT(ff_epoll_wait(ep, ev, 4, 0), 0); /* one-shot: silent until re-armed */
	CHECK_EQ_INT(ff_epoll_ctl(ep, EPOLL_CTL_MOD, os, &e_os), 0);
	CHECK_EQ_INT(ff_epoll_wait(ep, ev, 4, 0), 1);
	CHECK_EQ_INT(ff_epoll_ctl(ep, EPOLL_CTL_DEL, os, NULL), 0);

	struct epoll_event e_out = { .events = EPOLLOUT, .data.fd = s };
	CHECK_EQ_INT(ff_epoll_ctl(ep, EPOLL_CTL_ADD, s, &e_out), 0);
	CHECK_EQ_INT(ff_epoll_wait(ep, ev, 4, 0), 1);
	CHECK_EQ_INT(ev[0].events, EPOLLOUT);

	/* A closed socket leaves the set. */
	ff_close(s);
	CHECK_EQ_INT(ff_epoll_wait(ep, ev, 4, 0), 0);
	ff_close(lt), ff_close(et), ff_close(os), ff_close(ep);
}

TEST(epoll_wait_honours_timeout)
{
	begin();
	int r = fbound(0), ep = ff_epoll_create1(0);
	struct epoll_event e = { .events = EPOLLIN }, ev[1];
	CHECK_EQ_INT(ff_epoll_ctl(ep, EPOLL_CTL_ADD, r, &e), 0);
	uint64_t t0 = test_now_ms();
	CHECK_EQ_INT(ff_epoll_wait(ep, ev, 1, 50), 0);
	uint64_t took = test_now_ms() - t0;
	if (took < 50 || took >= 500)
		FAIL("ff_epoll_wait(..., 50) took %llu ms", (unsigned long long)took);
	ff_close(r), ff_close(ep);
}

TEST(rcvbuf_overflow_is_counted)
{
	begin();
	int s = fudp(), r = fbound(0), tiny = 1;
	CHECK_EQ_INT(ff_setsockopt(r, SOL_SOCKET, SO_RCVBUF, &tiny, sizeof(tiny)), 0);
	struct sockaddr_in to = sin4("127.0.0.1", fport(r));
	uint64_t full = counter(FFS_CTR_udp_fullsock), delivered = counter(FFS_CTR_udp_delivered), rx = counter(FFS_CTR_udp_rx),
		 lodrop = counter(FFS_CTR_ip_loopback_dropped), tx = counter(FFS_CTR_udp_tx);
	enum { N = 20 };
	static char payload[1000];
	for (int i = 0; i < N; i++)
		CHECK_EQ_INT(ff_sendto(s, payload, sizeof(payload), 0, SA(to), sizeof(to)), sizeof(payload));
	settle();
	int got = 0;
	char buf[2000];
	while (ff_recv(r, buf, sizeof(buf), MSG_DONTWAIT) == (ssize_t)sizeof(payload))
		got++;
	CHECK(got >= 1 && got < N);
	CHECK_EQ_INT(counter(FFS_CTR_udp_tx) - tx, N);
	CHECK_EQ_INT(counter(FFS_CTR_udp_rx) - rx, N);
	CHECK_EQ_INT(counter(FFS_CTR_udp_delivered) - delivered, got);
	CHECK_EQ_INT(counter(FFS_CTR_udp_fullsock) - full, N - got);
	CHECK_EQ_INT(counter(FFS_CTR_ip_loopback_dropped) - lodrop, 0);
	ff_close(s), ff_close(r);
}

TEST(maxsockbuf_bounds_socket_buffers)
{
	begin();
	int r = fbound(0), big = 4 << 20, v = 0;
	socklen_t len = sizeof(v);
	/* By default the doubled value is clamped as Linux clamps it: to 2 × 212992. */
	CHECK_EQ_INT(ff_setsockopt(r, SOL_SOCKET, SO_RCVBUF, &big, sizeof(big)), 0);
	CHECK_EQ_INT(ff_getsockopt(r, SOL_SOCKET, SO_RCVBUF, &v, &len), 0);
	CHECK_EQ_INT(v, 425984);
	CHECK_EQ_INT(ffs_stack_sysctl_set(st, FFS_SYSCTL_MAXSOCKBUF, 16 << 20), 0);
	CHECK_EQ_INT(ff_setsockopt(r, SOL_SOCKET, SO_RCVBUF, &big, sizeof(big)), 0);
	CHECK_EQ_INT(ff_setsockopt(r, SOL_SOCKET, SO_SNDBUF, &big, sizeof(big)), 0);
	CHECK_EQ_INT(ff_getsockopt(r, SOL_SOCKET, SO_RCVBUF, &v, &len), 0);
	CHECK_EQ_INT(v, 8 << 20);
	CHECK_EQ_INT(ff_getsockopt(r, SOL_SOCKET, SO_SNDBUF, &v, &len), 0);
	CHECK_EQ_INT(v, 8 << 20);
	CHECK_EQ_INT(ffs_stack_sysctl_set(st, FFS_SYSCTL_MAXSOCKBUF, 425984), 0);
	ff_close(r);
}

TEST(pool_back_to_baseline)
{
	begin();
	int s = fudp(), r = fbound(0);
	struct sockaddr_in to = sin4("127.0.0.1", fport(r));
	static char payload[3000]; /* two segments per datagram */
	for (int i = 0; i < 50; i++)
		CHECK_EQ_INT(ff_sendto(s, payload, sizeof(payload), 0, SA(to), sizeof(to)), sizeof(payload));
	settle();
	CHECK(ffs_stack_mempool_in_use(st) > pool_baseline);
	for (int fd = 0; fd < FF_MAX_SOCKETS; fd++)
		ff_close(fd);
	settle();
	CHECK_EQ_INT(ffs_stack_mempool_in_use(st), pool_baseline);
	ff_exit();
	CHECK(ffs_stack_current() == NULL);
	st = NULL;
}

TEST_MAIN()
