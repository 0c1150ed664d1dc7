/*
 * Static routes from a C program: [portN] route[] read by posix/ff_config.c and installed by ff_init,
 * and F-Stack's ff_route_ctl (posix/ff_api.c) adding, changing and deleting routes, with the errno
 * each refusal sets. One inline stack on two net_ring ports: port 0 at 10.0.0.1/16 with
 * `route[] = 192.168.0.0/16 via 10.0.0.5 src 10.1.0.1 metric 20` and
 * `route[] = 192.168.0.0/16 via 10.0.0.6 metric 10`, port 1 at 10.1.0.1/24.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <string.h>

#include "posix/ff_api.h"
#include "stack/iface/iface.h"
#include "test/stack/harness.h"
#include "test/stack/stack_env.h"

#define IP(a, b, c, d) ((uint32_t)(a) << 24 | (uint32_t)(b) << 16 | (uint32_t)(c) << 8 | (uint32_t)(d))

static struct ffs_stack *st;

static void setup(void)
{
	if (st)
		return;
	const char *ports = "[port0]\naddr = 10.0.0.1\nnetmask = 255.255.0.0\n"
			    "route[] = 192.168.0.0/16 via 10.0.0.5 src 10.1.0.1 metric 20\n"
			    "route[] = 192.168.0.0/16 via 10.0.0.6 metric 10\n"
			    "[port1]\naddr = 10.1.0.1\nnetmask = 255.255.255.0\n";
	if (test_ff_init_conf("ff_route_test", "lcore_mask = 0x1\nvdev[] = net_ring0\nvdev[] = net_ring1\n", ports) != 0 ||
	    !(st = ffs_stack_current())) {
		fprintf(stderr, "ff_route_test: ff_init failed\n");
		exit(2);
	}
}

/** A sockaddr_in for "a.b.c.d", as F-Stack's callers pass it. */
static struct linux_sockaddr *sockaddr_of(struct sockaddr_in *s, const char *addr)
{
	memset(s, 0, sizeof(*s));
	s->sin_family = AF_INET;
	inet_pton(AF_INET, addr, &s->sin_addr);
	return (struct linux_sockaddr *)(void *)s;
}

/** The next hop route_lookup gives for dst (0 when there is no route). */
static uint32_t hop(uint32_t dst)
{
	uint32_t nexthop = 0;
	return route_lookup(st, dst, &nexthop) ? nexthop : 0;
}

/** ff_route_ctl's result as 0 or the errno it set. */
static int ctl(enum FF_ROUTE_CTL req, enum FF_ROUTE_FLAG flag, const char *dst, const char *gw, const char *mask)
{
	struct sockaddr_in d, g, m;
	errno = 0;
	int rc = ff_route_ctl(req, flag, dst ? sockaddr_of(&d, dst) : NULL, gw ? sockaddr_of(&g, gw) : NULL, mask ? sockaddr_of(&m, mask) : NULL);
	return rc == 0 ? 0 : errno;
}

TEST(the_files_routes_are_in_the_table_lowest_metric_first)
{
	setup();
	struct ffs_route_info r[FFS_MAX_ROUTES];
	int n = ffs_stack_route_dump(st, r, FFS_MAX_ROUTES);
	CHECK_EQ_INT(n, 4); /* 10.1.0.0/24, 10.0.0.0/16, then 192.168.0.0/16 metric 10 and 20 */
	CHECK_EQ_INT(r[2].dest, IP(192, 168, 0, 0));
	CHECK_EQ_INT(r[2].metric, 10);
	CHECK_EQ_INT(r[2].gateway, IP(10, 0, 0, 6));
	CHECK_EQ_INT(r[3].metric, 20);
	CHECK_EQ_INT(r[3].src, IP(10, 1, 0, 1));
	CHECK_EQ_INT(hop(IP(192, 168, 9, 9)), IP(10, 0, 0, 6));
	CHECK_EQ_INT(route_source(st, IP(192, 168, 9, 9)), IP(10, 0, 0, 1));
}

TEST(ff_route_ctl_adds_changes_and_deletes)
{
	setup();
	CHECK_EQ_INT(ctl(FF_ROUTE_ADD, FF_RTF_GATEWAY, "172.16.0.0", "10.0.0.7", "255.240.0.0"), 0);
	CHECK_EQ_INT(hop(IP(172, 20, 1, 1)), IP(10, 0, 0, 7));
	CHECK_EQ_INT(ctl(FF_ROUTE_ADD, FF_RTF_HOST, "172.16.0.9", "10.1.0.9", NULL), 0);
	CHECK_EQ_INT(hop(IP(172, 16, 0, 9)), IP(10, 1, 0, 9));
	CHECK_EQ_INT(ctl(FF_ROUTE_CHANGE, FF_RTF_GATEWAY, "172.16.0.0", "10.0.0.8", "255.240.0.0"), 0);
	CHECK_EQ_INT(hop(IP(172, 20, 1, 1)), IP(10, 0, 0, 8));
	CHECK_EQ_INT(ctl(FF_ROUTE_DEL, FF_RTF_GATEWAY, "172.16.0.0", NULL, "255.240.0.0"), 0);
	CHECK_EQ_INT(hop(IP(172, 20, 1, 1)), 0);
	CHECK_EQ_INT(ctl(FF_ROUTE_DEL, FF_RTF_HOST, "172.16.0.9", NULL, NULL), 0);
	CHECK_EQ_INT(hop(IP(172, 16, 0, 9)), 0);
	/* A delete takes the route of lowest metric: the file's metric 10, then 20. */
	CHECK_EQ_INT(ctl(FF_ROUTE_DEL, FF_RTF_GATEWAY, "192.168.0.0", NULL, "255.255.0.0"), 0);
	CHECK_EQ_INT(hop(IP(192, 168, 9, 9)), IP(10, 0, 0, 5));
	CHECK_EQ_INT(route_source(st, IP(192, 168, 9, 9)), IP(10, 1, 0, 1));
}

TEST(ff_route_ctl_refusals_set_errno)
{
	setup();
	CHECK_EQ_INT(ctl(FF_ROUTE_ADD, FF_RTF_GATEWAY, "172.16.0.0", "10.9.0.7", "255.240.0.0"), ENETUNREACH);
	CHECK_EQ_INT(ctl(FF_ROUTE_ADD, FF_RTF_GATEWAY, "172.16.0.1", "10.0.0.7", "255.240.0.0"), EINVAL);
	CHECK_EQ_INT(ctl(FF_ROUTE_ADD, FF_RTF_GATEWAY, "172.16.0.0", "10.0.0.7", "255.0.255.0"), EINVAL);
	CHECK_EQ_INT(ctl(FF_ROUTE_ADD, FF_RTF_GATEWAY, "172.16.0.0", NULL, "255.240.0.0"), EINVAL);
	CHECK_EQ_INT(ctl(FF_ROUTE_ADD, FF_RTF_GATEWAY, NULL, "10.0.0.7", NULL), EINVAL);
	CHECK_EQ_INT(ctl((enum FF_ROUTE_CTL)7, FF_RTF_GATEWAY, "172.16.0.0", "10.0.0.7", NULL), EINVAL);
	CHECK_EQ_INT(ctl(FF_ROUTE_ADD, FF_RTF_HOST, "192.168.0.0", "10.0.0.7", "255.255.0.0"), 0); /* a /32: netmask ignored */
	CHECK_EQ_INT(ctl(FF_ROUTE_ADD, FF_RTF_HOST, "192.168.0.0", "10.0.0.7", NULL), EEXIST);
	CHECK_EQ_INT(ctl(FF_ROUTE_DEL, FF_RTF_HOST, "192.168.0.0", NULL, NULL), 0);
	CHECK_EQ_INT(ctl(FF_ROUTE_DEL, FF_RTF_HOST, "192.168.0.0", NULL, NULL), ESRCH);
	CHECK_EQ_INT(ctl(FF_ROUTE_CHANGE, FF_RTF_HOST, "192.168.0.0", "10.0.0.7", NULL), ESRCH);
	CHECK_EQ_INT(ctl(FF_ROUTE_DEL, FF_RTF_GATEWAY, "10.1.0.0", NULL, "255.255.255.0"), EPERM);
	/* A change to an unreachable gateway leaves the route as it was. */
	CHECK_EQ_INT(ctl(FF_ROUTE_ADD, FF_RTF_GATEWAY, "172.16.0.0", "10.0.0.7", "255.240.0.0"), 0);
	CHECK_EQ_INT(ctl(FF_ROUTE_CHANGE, FF_RTF_GATEWAY, "172.16.0.0", "10.9.0.8", "255.240.0.0"), ENETUNREACH);
	CHECK_EQ_INT(hop(IP(172, 20, 1, 1)), IP(10, 0, 0, 7));
	struct sockaddr_in6 d6 = { .sin6_family = AF_INET6 };
	struct sockaddr_in g;
	errno = 0;
	CHECK_EQ_INT(ff_route_ctl(FF_ROUTE_ADD, FF_RTF_HOST, (struct linux_sockaddr *)(void *)&d6, sockaddr_of(&g, "10.0.0.7"), NULL), -1);
	CHECK_EQ_INT(errno, EAFNOSUPPORT);
}

int main(int argc, char **argv)
{
	int rc = test__main(argc, argv, __FILE__);
	if (st)
		ff_exit();
	return rc;
}
