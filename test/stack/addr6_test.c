/*
 * The ports' IPv6 addresses and routes (stack/iface/addr6.c, route6.c, ra6.c) on a running inline
 * stack with two net_ring ports: port 0 configured with 2001:db8::2/64, fd00::2/48 and gateway6
 * fe80::1, port 1 with nothing but its link-local address (so it solicits routers), port 2 with
 * IPv6 off.
 *
 * Cases: EUI-64 link-local addresses; tentative addresses (DAD) never used as sources; RFC 6724
 * source selection; lifetimes (deprecated, then gone); longest-prefix match, the configured router,
 * link-local destinations by scope; path MTUs; router advertisements — default router and its
 * lifetime, on-link prefixes, SLAAC addresses and the two-hour rule, MTU and hop limit, ignored with
 * accept_rtadv 0, put off (never waited for) while a control-plane writer holds the route table;
 * the router solicitations at start (RFC 4861 §6.3.7) and none where gateway6 is set; IPv6 input on
 * the port with IPv6 off; ifconfig inet6 add and -alias; the port a socket's multicast datagram
 * leaves by without IPV6_MULTICAST_IF; and readers on other threads never seeing a half-made change
 * while a writer churns addresses and routes (built under TSan, where any unordered access is reported).
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <unistd.h>
#include <rte_cycles.h>
#include <rte_ethdev.h>

#include "stack/iface/addr6.h"
#include "stack/iface/iface.h"
#include "stack/iface/route6.h"
#include "stack/sock/sock.h"
#include "stack/wire/icmp6.h"
#include "stack/wire/udp.h"
#include "test/stack/harness.h"
#include "test/stack/stack_env.h"

static struct ffs_stack *st;
static struct ffs_lcore *lc;

static struct ip6_addr A(const char *s)
{
	struct ip6_addr a;
	if (ip6_parse(s, &a) != 0) {
		fprintf(stderr, "bad address in test: %s\n", s);
		exit(2);
	}
	return a;
}

/** A parsed address in a buffer of a small ring (main thread only): an argument for one call. */
static const struct ip6_addr *P(const char *s)
{
	static struct ip6_addr ring[8];
	static unsigned k;
	struct ip6_addr *p = &ring[k++ % 8];
	*p = A(s);
	return p;
}

/** a formatted (a static buffer per call site is enough for CHECK_EQ_STR). */
#define F(a) ip6_format(&(a), (char[IP6_ADDRSTRLEN]){ 0 })

static void setup(void)
{
	if (st)
		return;
	test_eal_init("addr6_test", "128", "-l", "0", "--vdev=net_ring0", "--vdev=net_ring1", "--vdev=net_ring2", NULL);
	struct ffs_conf conf;
	ffs_conf_init(&conf);
	test_conf_port(&conf, 0x0a000001u, 0xffff0000u);
	conf.n_ports = 3;
	conf.ports[1] = (struct ffs_port_conf){ .port_id = 1, .addr = 0x0a010001u, .netmask = 0xffff0000u,
						.broadcast = 0x0a01ffffu, .mtu = 1500 };
	/* [port2] ipv6 = 0 */
	conf.ports[2] = (struct ffs_port_conf){ .port_id = 2, .addr = 0x0a020001u, .netmask = 0xffff0000u,
						.broadcast = 0x0a02ffffu, .mtu = 1500, .ipv6_off = true };
	conf.ports[0].n_addr6 = 2;
	conf.ports[0].addr6[0].addr = A("2001:db8::2");
	conf.ports[0].addr6[0].prefixlen = 64;
	conf.ports[0].addr6[1].addr = A("fd00::2");
	conf.ports[0].addr6[1].prefixlen = 48;
	conf.ports[0].gateway6 = A("fe80::1");
	/* Addresses start usable: no Duplicate Address Detection (RFC 4862 §5.4, DupAddrDetectTransmits 0). */
	conf.sysctl[FFS_SYSCTL_IP6_DAD_COUNT] = 0;
	st = test_stack_start("addr6_test", &conf);
	lc = st->lcores[0];
}

static enum addr6_state state_of(unsigned port, const char *a)
{
	enum addr6_state s = ADDR6_FREE;
	struct ip6_addr x = A(a);
	addr6_is_local(st, (int)port, &x, &s);
	return s;
}

static const char *source(unsigned port, const char *dst)
{
	static char text[IP6_ADDRSTRLEN];
	struct ip6_addr d = A(dst), s;
	return addr6_source(st, port, &d, &s) ? ip6_format(&s, text) : "none";
}

TEST(every_port_has_its_eui64_link_local_address_and_the_configured_ones)
{
	setup();
	struct ffs_addr6_info a[FFS_MAX_ADDR6];
	CHECK_EQ_INT(addr6_list(st, 0, a, FFS_MAX_ADDR6), 3);
	struct ip6_addr ll;
	ip6_linklocal_eui64(&st->ports[0].mac, &ll);
	CHECK_EQ_STR(F(a[0].addr), F(ll));
	CHECK_EQ_INT(a[0].origin, ADDR6_LINKLOCAL);
	CHECK_EQ_INT(a[0].prefixlen, 64);
	CHECK_EQ_STR(F(a[1].addr), "2001:db8::2");
	CHECK_EQ_INT(a[1].origin, ADDR6_STATIC);
	CHECK_EQ_STR(F(a[2].addr), "fd00::2");
	CHECK_EQ_INT(a[2].prefixlen, 48);
	CHECK_EQ_INT(a[2].state, ADDR6_PREFERRED);
	CHECK_EQ_INT(a[2].valid_s, ADDR6_INFINITE);
	CHECK_EQ_INT(addr6_list(st, 1, a, FFS_MAX_ADDR6), 1);
	CHECK(ip6_is_linklocal(&a[0].addr));
	CHECK(addr6_is_local(st, -1, &IP6_LOOPBACK, NULL));
	struct ip6_addr other = A("2001:db8::3");
	CHECK(!addr6_is_local(st, -1, &other, NULL));
	CHECK(!addr6_is_local(st, 1, P("2001:db8::2"), NULL));
}

/* What stack.ports() and os.networkInterfaces() list (ffs_stack_port_addr6): every address with its prefix
 * length and DAD state; none on the port with IPv6 off. */
TEST(port_addresses_as_programs_list_them)
{
	setup();
	struct ffs_port_addr6 a[FFS_MAX_ADDR6];
	CHECK_EQ_INT(ffs_stack_port_addr6(st, 0, a, FFS_MAX_ADDR6), 3);
	CHECK(ip6_is_linklocal(&a[0].addr));
	CHECK_EQ_INT(a[0].prefixlen, 64);
	CHECK_EQ_STR(F(a[1].addr), "2001:db8::2");
	CHECK_EQ_INT(a[1].prefixlen, 64);
	CHECK_EQ_STR(F(a[2].addr), "fd00::2");
	CHECK_EQ_INT(a[2].prefixlen, 48);
	for (unsigned i = 0; i < 3; i++)
		CHECK(!a[i].tentative && !a[i].duplicated);
	CHECK_EQ_INT(ffs_stack_port_addr6(st, 0, a, 2), 2);
	CHECK_EQ_INT(ffs_stack_port_addr6(st, 1, a, FFS_MAX_ADDR6), 1);
	CHECK_EQ_INT(ffs_stack_port_addr6(st, 2, a, FFS_MAX_ADDR6), 0);
}

TEST(a_port_with_ipv6_off_has_no_address_route_or_solicitation)
{
	setup();
	struct ffs_addr6_info a[FFS_MAX_ADDR6];
	struct ip6_addr hop, s;
	CHECK_EQ_INT(addr6_list(st, 2, a, FFS_MAX_ADDR6), 0);
	CHECK(!addr6_linklocal(st, 2, &hop));
	CHECK(!addr6_source(st, 2, P("fe80::1"), &s));
	CHECK_EQ_INT(ffs_stack_addr6_add(st, 2, P("2001:db8:2::1"), 64), -ENOENT);
	CHECK(route6_lookup(st, P("fe80::1"), 2, &hop) == NULL);
	CHECK(!route6_on_link(st, 2, P("fe80::1")));
	CHECK(!ra6_wants_solicit(st, 2));
	CHECK(ra6_wants_solicit(st, 1));
	CHECK(!ra6_wants_solicit(st, 0)); /* gateway6 */
	uint64_t ignored = lc->ctr.nd6_ra_ignored;
	struct ipv6_repr ip = { .src = A("fe80::99"), .dst = IP6_ALL_NODES, .hop_limit = 255 };
	struct nd_repr nd = { .type = ND_ROUTER_ADVERT, .router_lifetime = 600 };
	ra6_input(lc, &st->ports[2], &ip, &nd);
	CHECK_EQ_INT(lc->ctr.nd6_ra_ignored, ignored + 1);
	CHECK(!route6_has_router(st, 2));
}

TEST(source_selection_follows_rfc6724)
{
	setup();
	struct ip6_addr ll;
	ip6_linklocal_eui64(&st->ports[0].mac, &ll);
	CHECK_EQ_STR(source(0, "fe80::99"), F(ll));               /* rule 2: the link-local scope */
	CHECK_EQ_STR(source(0, "ff02::1"), F(ll));                /* a link-scope group too */
	CHECK_EQ_STR(source(0, "2001:db8::99"), "2001:db8::2");    /* rule 8 */
	CHECK_EQ_STR(source(0, "fd00:0:0:5::1"), "fd00::2");       /* rule 6: the ULA label, and rule 8 */
	CHECK_EQ_STR(source(0, "2001:db9::1"), "2001:db8::2");     /* rule 6: fd00::/7 is another label */
	CHECK_EQ_STR(source(0, "2001:db8::2"), "2001:db8::2");     /* rule 1 */
	CHECK_EQ_STR(source(0, "::1"), "::1");
	/* Port 1 has its link-local address alone: the only candidate, even for a global destination (rule 2's "else the largest"). */
	struct ffs_addr6_info a[1];
	addr6_list(st, 1, a, 1);
	CHECK_EQ_STR(source(1, "2001:db8::99"), F(a[0].addr));
}

TEST(a_tentative_address_is_ours_but_never_a_source_until_dad_passes)
{
	setup();
	ffs_stack_sysctl_set(st, FFS_SYSCTL_IP6_DAD_COUNT, 1);
	struct ip6_addr a = A("2001:db8::77");
	CHECK_EQ_INT(ffs_stack_addr6_add(st, 0, &a, 64), 0);
	CHECK_EQ_INT(state_of(0, "2001:db8::77"), ADDR6_TENTATIVE);
	/* Rule 1 would pick it for itself; RFC 4862 §5.4 forbids it while tentative. */
	CHECK_EQ_STR(source(0, "2001:db8::77"), "2001:db8::2");
	/* Nothing declares it unique but DAD's verdict (nd6_dad_start reports through addr6_set_state). */
	addr6_set_state(st, 0, &a, ADDR6_PREFERRED);
	CHECK_EQ_STR(source(0, "2001:db8::77"), "2001:db8::77");
	addr6_set_state(st, 0, &a, ADDR6_DUPLICATED);
	CHECK_EQ_STR(source(0, "2001:db8::77"), "2001:db8::2");
	CHECK_EQ_INT(ffs_stack_addr6_del(st, 0, &a), 0);
	ffs_stack_sysctl_set(st, FFS_SYSCTL_IP6_DAD_COUNT, 0);
}

TEST(ifconfig_inet6_adds_and_removes_addresses_with_their_prefix)
{
	setup();
	struct ip6_addr a = A("2001:db8:5::9"), hop;
	CHECK(route6_lookup(st, P("2001:db8:5::1"), -1, &hop) == &st->ports[0]);
	CHECK_EQ_STR(F(hop), "fe80::1"); /* via the router, before */
	CHECK_EQ_INT(ffs_stack_addr6_add(st, 0, &a, 64), 0);
	CHECK(route6_lookup(st, P("2001:db8:5::1"), -1, &hop) == &st->ports[0]);
	CHECK_EQ_STR(F(hop), "2001:db8:5::1"); /* on-link, after */
	CHECK(route6_on_link(st, 0, P("2001:db8:5::1")));
	CHECK_EQ_INT(ffs_stack_addr6_add(st, 0, &a, 64), -EEXIST);
	CHECK_EQ_INT(ffs_stack_addr6_add(st, 1, &a, 64), -EEXIST);
	CHECK_EQ_INT(ffs_stack_addr6_add(st, 0, P("fe80::5"), 64), -EINVAL);
	CHECK_EQ_INT(ffs_stack_addr6_add(st, 0, P("2001:db8:6::"), 64), -EINVAL);
	CHECK_EQ_INT(ffs_stack_addr6_add(st, 0, P("ff05::2"), 64), -EINVAL);
	CHECK_EQ_INT(ffs_stack_addr6_add(st, 0, P("2001:db8:6::1"), 129), -EINVAL);
	CHECK_EQ_INT(ffs_stack_addr6_add(st, 9, P("2001:db8:6::1"), 64), -ENOENT);
	CHECK_EQ_INT(ffs_stack_addr6_del(st, 0, &a), 0);
	CHECK_EQ_INT(ffs_stack_addr6_del(st, 0, &a), -ESRCH);
	CHECK(!route6_on_link(st, 0, P("2001:db8:5::1")));
	struct ffs_addr6_info ll[1];
	addr6_list(st, 0, ll, 1);
	CHECK_EQ_INT(ffs_stack_addr6_del(st, 0, &ll[0].addr), -EPERM);
	/* The table holds FFS_MAX_ADDR6 (the link-local and two configured ones already). */
	char text[32];
	int added = 0, rc = 0;
	for (int i = 0; i < FFS_MAX_ADDR6 && rc == 0; i++) {
		snprintf(text, sizeof(text), "2001:db8:7::%x", i + 1);
		if ((rc = ffs_stack_addr6_add(st, 0, P(text), 64)) == 0)
			added++;
	}
	CHECK_EQ_INT(rc, -ENOSPC);
	CHECK_EQ_INT(added, FFS_MAX_ADDR6 - 3);
	for (int i = 0; i < added; i++) {
		snprintf(text, sizeof(text), "2001:db8:7::%x", i + 1);
		CHECK_EQ_INT(ffs_stack_addr6_del(st, 0, P(text)), 0);
	}
}

TEST(routes_longest_prefix_the_configured_router_and_link_local_scope)
{
	setup();
	struct ip6_addr hop;
	CHECK(route6_lookup(st, P("2001:db8::42"), -1, &hop) == &st->ports[0]);
	CHECK_EQ_STR(F(hop), "2001:db8::42");
	CHECK(route6_lookup(st, P("2600::1"), -1, &hop) == &st->ports[0]);
	CHECK_EQ_STR(F(hop), "fe80::1");
	/* Port 1 has no router: a lookup confined to it finds no route. */
	CHECK(route6_lookup(st, P("2600::1"), 1, &hop) == NULL);
	/* RFC 4007: a link-local destination needs its scope. */
	CHECK(route6_lookup(st, P("fe80::9"), -1, &hop) == NULL);
	CHECK(route6_lookup(st, P("fe80::9"), 1, &hop) == &st->ports[1]);
	CHECK_EQ_STR(F(hop), "fe80::9");
	CHECK(route6_has_router(st, 0));
	CHECK(!route6_has_router(st, 1));
	/* A longer prefix wins over a shorter one of another port. */
	CHECK_EQ_INT(route6_prefix_update(st, 1, P("2001:db8::"), 96, FFS_ROUTE6_ADVERTISED, 100), 0);
	CHECK(route6_lookup(st, P("2001:db8::42"), -1, &hop) == &st->ports[1]);
	CHECK(route6_lookup(st, P("2001:db8::1:0:42"), -1, &hop) == &st->ports[0]);
	CHECK_EQ_INT(route6_prefix_update(st, 1, P("2001:db8::"), 96, FFS_ROUTE6_ADVERTISED, 0), 0);
	CHECK(route6_lookup(st, P("2001:db8::42"), -1, &hop) == &st->ports[0]);
	struct ffs_route6_info r[16];
	unsigned n = route6_dump(st, r, 16);
	CHECK_EQ_INT(n, 3);
	CHECK_EQ_STR(F(r[0].dest), "2001:db8::");
	CHECK_EQ_INT(r[0].prefixlen, 64);
	CHECK_EQ_INT(r[0].flags, FFS_ROUTE6_CONNECTED);
	CHECK_EQ_STR(F(r[1].dest), "fd00::");
	CHECK_EQ_INT(r[1].prefixlen, 48);
	CHECK_EQ_STR(F(r[2].gateway), "fe80::1");
	CHECK_EQ_INT(r[2].flags, FFS_ROUTE6_GATEWAY | FFS_ROUTE6_STATIC);
	CHECK_EQ_INT(r[2].expires_s, UINT32_MAX);
}

TEST(path_mtu_per_destination)
{
	setup();
	struct ip6_addr d = A("2600::5"), e = A("2600::6");
	CHECK_EQ_INT(route6_pmtu(st, &d, 1500), 1500);
	route6_pmtu_set(st, &d, 1400);
	CHECK_EQ_INT(route6_pmtu(st, &d, 1500), 1400);
	CHECK_EQ_INT(route6_pmtu(st, &d, 1300), 1300); /* never above the link's */
	CHECK_EQ_INT(route6_pmtu(st, &e, 1500), 1500);
	route6_pmtu_set(st, &d, 576); /* RFC 8201 §4: never below the IPv6 minimum */
	CHECK_EQ_INT(route6_pmtu(st, &d, 1500), IPV6_MIN_MTU);
}

/** A router advertisement from fe80::99 on port 1. */
static void advertise(uint16_t router_lifetime, const char *prefix, uint8_t len, bool a_flag, uint32_t valid, uint32_t preferred,
		      uint32_t mtu, uint8_t hlim)
{
	struct ipv6_repr ip = { .src = A("fe80::99"), .dst = IP6_ALL_NODES, .hop_limit = 255, .next_header = IPV6_NH_ICMPV6 };
	struct nd_repr nd = { .type = ND_ROUTER_ADVERT, .router_lifetime = router_lifetime, .mtu = mtu, .cur_hop_limit = hlim };
	if (prefix) {
		nd.n_prefixes = 1;
		nd.prefixes[0] = (struct nd_prefix){ .prefix = A(prefix), .len = len, .onlink = true, .autonomous = a_flag,
						     .valid_s = valid, .preferred_s = preferred };
	}
	lc->now = rte_get_tsc_cycles();
	ra6_input(lc, &st->ports[1], &ip, &nd);
}

static const struct ffs_addr6_info *autoconf_of(unsigned port, struct ffs_addr6_info *a)
{
	unsigned n = addr6_list(st, port, a, FFS_MAX_ADDR6);
	for (unsigned i = 0; i < n; i++)
		if (a[i].origin == ADDR6_AUTOCONF)
			return &a[i];
	return NULL;
}

TEST(router_advertisements_give_a_router_prefixes_addresses_mtu_and_hop_limit)
{
	setup();
	lc->ctr = (struct ffs_counters){ 0 };
	advertise(1800, "2001:db8:1:2::", 64, true, 3600, 1800, 1400, 32);
	CHECK_EQ_INT(lc->ctr.nd6_ra_in, 1);
	CHECK_EQ_INT(lc->ctr.nd6_autoconf, 1);
	struct ffs_addr6_info a[FFS_MAX_ADDR6];
	const struct ffs_addr6_info *slaac = autoconf_of(1, a);
	CHECK(slaac != NULL);
	struct ip6_addr want;
	ip6_from_prefix_eui64(P("2001:db8:1:2::"), &st->ports[1].mac, &want);
	CHECK_EQ_STR(F(slaac->addr), F(want));
	CHECK_EQ_INT(slaac->prefixlen, 64);
	CHECK(slaac->valid_s >= 3598 && slaac->valid_s <= 3600);
	CHECK(slaac->preferred_s >= 1798 && slaac->preferred_s <= 1800);
	CHECK_EQ_INT(slaac->state, ADDR6_PREFERRED); /* dad_count 0 */
	struct ip6_addr hop;
	CHECK(route6_lookup(st, P("2001:db8:1:2::7"), -1, &hop) == &st->ports[1]);
	CHECK_EQ_STR(F(hop), "2001:db8:1:2::7"); /* on-link (L flag) */
	CHECK(route6_lookup(st, P("2600::1"), 1, &hop) == &st->ports[1]);
	CHECK_EQ_STR(F(hop), "fe80::99");
	CHECK(route6_has_router(st, 1));
	CHECK_EQ_INT(route6_link_mtu(st, 1), 1400);
	CHECK_EQ_INT(route6_hop_limit(st, 1), 32);
	CHECK_EQ_INT(route6_hop_limit(st, 0), 64);
	CHECK_EQ_STR(source(1, "2600::1"), F(want));

	/* RFC 4862 §5.5.3 e): a valid lifetime of 60 s does not cut a remaining 3600 (≤ 2 hours) ... */
	advertise(1800, "2001:db8:1:2::", 64, true, 60, 30, 0, 0);
	slaac = autoconf_of(1, a);
	CHECK(slaac->valid_s >= 3598);
	CHECK(slaac->preferred_s <= 30); /* the preferred lifetime is taken as sent */
	/* ... a longer one is taken; then a short one cuts a remaining lifetime above two hours to two hours. */
	advertise(1800, "2001:db8:1:2::", 64, true, 100000, 50000, 0, 0);
	slaac = autoconf_of(1, a);
	CHECK(slaac->valid_s >= 99998);
	advertise(1800, "2001:db8:1:2::", 64, true, 60, 30, 0, 0);
	slaac = autoconf_of(1, a);
	CHECK(slaac->valid_s >= 7198 && slaac->valid_s <= 7200);

	/* Not a /64, no A flag, preferred above valid, link-local: no address (RFC 4862 §5.5.3 a-d). */
	advertise(1800, "2001:db8:9::", 48, true, 3600, 1800, 0, 0);
	advertise(1800, "2001:db8:a::", 64, false, 3600, 1800, 0, 0);
	advertise(1800, "2001:db8:b::", 64, true, 100, 200, 0, 0);
	advertise(1800, "fe80::", 64, true, 3600, 1800, 0, 0);
	CHECK_EQ_INT(lc->ctr.nd6_autoconf, 1);
	CHECK(route6_on_link(st, 1, P("2001:db8:9::1"))); /* the L flag still counts */
	CHECK(!route6_on_link(st, 1, P("2001:db8:c::1")));

	/* An MTU below 1280 or above the link's is not taken. */
	advertise(1800, NULL, 0, false, 0, 0, 1000, 0);
	CHECK_EQ_INT(route6_link_mtu(st, 1), 1400);
	advertise(1800, NULL, 0, false, 0, 0, 9000, 0);
	CHECK_EQ_INT(route6_link_mtu(st, 1), 1400);

	/* Router Lifetime 0: no longer a default router. */
	advertise(0, NULL, 0, false, 0, 0, 0, 0);
	CHECK(!route6_has_router(st, 1));
	CHECK(route6_lookup(st, P("2600::1"), 1, &hop) == NULL);

	/* net.inet6.ip6.accept_rtadv 0: ignored, counted. */
	ffs_stack_sysctl_set(st, FFS_SYSCTL_IP6_ACCEPT_RTADV, 0);
	advertise(1800, "2001:db8:3::", 64, true, 3600, 1800, 0, 0);
	CHECK_EQ_INT(lc->ctr.nd6_ra_ignored, 1);
	CHECK(!route6_has_router(st, 1));
	ffs_stack_sysctl_set(st, FFS_SYSCTL_IP6_ACCEPT_RTADV, 1);

	/* A prefix valid for 0 s is withdrawn; the address it gave stays (RFC 4862: its own lifetime). */
	advertise(1800, "2001:db8:1:2::", 64, true, 0, 0, 0, 0);
	CHECK(!route6_on_link(st, 1, P("2001:db8:1:2::7")));
	CHECK(autoconf_of(1, a) != NULL);
	CHECK_EQ_INT(addr6_del(st, 1, &want), 0);
	advertise(0, "2001:db8:9::", 48, false, 0, 0, 0, 0);
}

/** One ra6_input call made on another thread, as a lcore makes it; whether it returned. */
struct ra_call {
	struct ipv6_repr ip;
	struct nd_repr nd;
	atomic_bool returned;
};

static void *ra_lcore_main(void *arg)
{
	struct ra_call *c = arg;
	ra6_input(lc, &st->ports[1], &c->ip, &c->nd);
	atomic_store(&c->returned, true);
	return NULL;
}

TEST(a_router_advertisement_never_waits_for_a_route_writer)
{
	setup();
	lc->ctr = (struct ffs_counters){ 0 };
	struct ra_call c = { .ip = { .src = A("fe80::98"), .dst = IP6_ALL_NODES, .hop_limit = 255, .next_header = IPV6_NH_ICMPV6 },
			     .nd = { .type = ND_ROUTER_ADVERT, .router_lifetime = 1800 } };
	lc->now = rte_get_tsc_cycles();
	/* A control-plane writer (ifconfig inet6, on an application thread) in the middle of a change. */
	rte_spinlock_lock(&st->routes6.write_lock);
	pthread_t t;
	CHECK_EQ_INT(pthread_create(&t, NULL, ra_lcore_main, &c), 0);
	bool returned = false;
	for (int i = 0; i < 100 && !(returned = atomic_load(&c.returned)); i++)
		usleep(10000);
	rte_spinlock_unlock(&st->routes6.write_lock);
	pthread_join(t, NULL);
	CHECK(returned);
	CHECK_EQ_INT(lc->ctr.nd6_ra_deferred, 1);
	CHECK_EQ_INT(lc->ctr.nd6_ra_in, 0);
	CHECK(!route6_has_router(st, 1));
	/* Applied by the lcore's next turn once the writer is done. */
	ra6_tick(lc);
	CHECK(route6_has_router(st, 1));
	CHECK_EQ_INT(lc->ctr.nd6_ra_in, 1);
	c.nd.router_lifetime = 0;
	ra6_input(lc, &st->ports[1], &c.ip, &c.nd);
	CHECK(!route6_has_router(st, 1));
}

TEST(lifetimes_deprecate_then_remove_an_address)
{
	setup();
	struct ip6_addr a = A("2001:db8::5:5");
	CHECK_EQ_INT(addr6_add(st, 0, &a, 64, ADDR6_AUTOCONF, 2, 1), 0);
	CHECK_EQ_INT(state_of(0, "2001:db8::5:5"), ADDR6_PREFERRED);
	rte_delay_us_sleep(1100 * 1000);
	CHECK_EQ_INT(state_of(0, "2001:db8::5:5"), ADDR6_DEPRECATED);
	CHECK_EQ_STR(source(0, "2001:db8::5:5"), "2001:db8::5:5"); /* rule 1 still: the destination itself */
	CHECK_EQ_STR(source(0, "2001:db8::5:6"), "2001:db8::2");   /* rule 3: not the deprecated one */
	rte_delay_us_sleep(1000 * 1000);
	CHECK(!addr6_is_local(st, 0, &a, NULL));
	struct ffs_addr6_info list[FFS_MAX_ADDR6];
	CHECK_EQ_INT(addr6_list(st, 0, list, FFS_MAX_ADDR6), 3);
	addr6_expire(st, rte_get_tsc_cycles());
	CHECK_EQ_INT(addr6_del(st, 0, &a), -ESRCH); /* freed by the timer work */
}

/** Reads what the stack sent on port index 1 (a net_ring port: its RX side holds it). */
static unsigned drain_port1(struct rte_mbuf **keep, unsigned max)
{
	struct rte_mbuf *pkts[FFS_BURST];
	unsigned n = 0, got;
	ffs_tx_flush_all(lc);
	while ((got = rte_eth_rx_burst(st->ports[1].port_id, 0, pkts, FFS_BURST)) > 0)
		for (unsigned i = 0; i < got; i++, n++)
			keep && n < max ? (void)(keep[n] = pkts[i]) : rte_pktmbuf_free(pkts[i]);
	return n;
}

/** Feeds an IPv6 packet (next header nh, payload `msg`) from fe80::99 to dst through port's Ethernet input. */
static void feed6(unsigned port, const struct ip6_addr *dst, uint8_t nh, const uint8_t *msg, size_t len)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(st->pool);
	CHECK(m != NULL);
	uint8_t *p = (uint8_t *)rte_pktmbuf_append(m, (uint16_t)(ETH_HDR_LEN + IPV6_HDR_LEN + len));
	CHECK(p != NULL);
	struct eth_repr eth = { .src = { { 0x02, 0x66, 0, 0, 0, 0x99 } }, .ethertype = ETH_TYPE_IPV6 };
	if (ip6_is_multicast(dst))
		eth_addr_from_ipv6_multicast(dst, &eth.dst);
	else
		eth.dst = st->ports[port].mac;
	eth_repr_emit(&eth, p, ETH_HDR_LEN);
	struct ipv6_repr ip = { .src = A("fe80::99"), .dst = *dst, .next_header = nh, .hop_limit = 255,
				.payload_len = (uint16_t)len };
	ipv6_repr_emit(&ip, p + ETH_HDR_LEN, IPV6_HDR_LEN);
	memcpy(p + ETH_HDR_LEN + IPV6_HDR_LEN, msg, len);
	lc->now = rte_rdtsc();
	eth_input(lc, &st->ports[port], m);
}

TEST(a_port_with_ipv6_off_drops_and_counts_every_ipv6_packet)
{
	setup();
	/* As Linux's disable_ipv6: no echo reply, no ND answer, no UDP delivery on that port. */
	const struct ip6_addr src = A("fe80::99"), ll_target = A("fe80::ff:fe00:2");
	struct ip6_addr sn;
	ip6_solicited_node(&ll_target, &sn);
	uint8_t echo[64], ns[32], udp[16] = { 0 };
	size_t echo_len = icmp6_echo_emit(ICMP6_ECHO_REQUEST, 7, 1, NULL, 0, &src, &IP6_ALL_NODES, echo, sizeof(echo));
	size_t ns_len = nd_ns_emit(&ll_target, &(struct eth_addr){ { 0x02, 0x66, 0, 0, 0, 0x99 } }, &src, &sn, ns, sizeof(ns));
	const struct wire_csum_caps caps = { 0 };
	size_t udp_len = udp6_repr_emit(&(struct udp_repr){ .src_port = 5000, .dst_port = 5000, .payload_len = 8 }, udp,
					sizeof(udp), &src, &IP6_ALL_NODES, &caps);
	CHECK(echo_len > 0 && ns_len > 0 && udp_len > 0);
	test_port_drain(lc, NULL, 0);
	const struct ffs_counters before = lc->ctr;
	feed6(2, &IP6_ALL_NODES, IPV6_NH_ICMPV6, echo, echo_len);
	feed6(2, &sn, IPV6_NH_ICMPV6, ns, ns_len);
	feed6(2, &IP6_ALL_NODES, IPV6_NH_UDP, udp, sizeof(udp));
	CHECK_EQ_INT(lc->ctr.ip6_delivered, before.ip6_delivered);
	CHECK_EQ_INT(lc->ctr.icmp6_rx, before.icmp6_rx);
	CHECK_EQ_INT(lc->ctr.udp_rx, before.udp_rx);
	CHECK_EQ_INT(lc->ctr.ip6_disabled, before.ip6_disabled + 3);
	ffs_tx_flush_all(lc);
	struct rte_mbuf *out[FFS_BURST];
	CHECK_EQ_INT(rte_eth_rx_burst(st->ports[2].port_id, 0, out, FFS_BURST), 0);
	/* The same echo request on a port with IPv6 on is answered. */
	feed6(1, &IP6_ALL_NODES, IPV6_NH_ICMPV6, echo, echo_len);
	CHECK_EQ_INT(lc->ctr.icmp6_echo_in, before.icmp6_echo_in + 1);
	CHECK_EQ_INT(lc->ctr.ip6_disabled, before.ip6_disabled + 3);
	drain_port1(NULL, 0);
}

TEST(a_port_without_gateway6_solicits_routers_at_start)
{
	setup();
	/* The stack has not been polled yet: the first solicitation leaves within MAX_RTR_SOLICITATION_DELAY. */
	uint64_t deadline = test_ms_from_now(3000);
	while (lc->ctr.nd6_rs_out == 0 && rte_rdtsc() < deadline) {
		lc->now = rte_rdtsc();
		ra6_tick(lc);
		rte_delay_us_sleep(10000);
	}
	CHECK_EQ_INT(lc->ctr.nd6_rs_out, 1);
	struct rte_mbuf *m[4];
	unsigned n = drain_port1(m, 4);
	CHECK_EQ_INT(n, 1);
	const uint8_t *f = rte_pktmbuf_mtod(m[0], const uint8_t *);
	struct eth_repr eth;
	CHECK_EQ_INT(eth_repr_parse(f, m[0]->data_len, &eth), WIRE_OK);
	CHECK_EQ_INT(eth.ethertype, ETH_TYPE_IPV6);
	struct eth_addr all_routers;
	eth_addr_from_ipv6_multicast(&IP6_ALL_ROUTERS, &all_routers);
	CHECK(memcmp(eth.dst.b, all_routers.b, 6) == 0);
	struct ipv6_repr ip;
	CHECK_EQ_INT(ipv6_repr_parse(f + ETH_HDR_LEN, m[0]->data_len - ETH_HDR_LEN, &ip, NULL), WIRE_OK);
	CHECK_EQ_INT(ip.hop_limit, 255);
	CHECK_EQ_INT(ip.next_header, IPV6_NH_ICMPV6);
	CHECK_EQ_STR(F(ip.dst), "ff02::2");
	struct ffs_addr6_info ll[1];
	addr6_list(st, 1, ll, 1);
	CHECK_EQ_STR(F(ip.src), F(ll[0].addr)); /* its link-local address, preferred (no DAD here) */
	struct icmp6_repr icmp;
	const struct wire_csum_caps caps = { 0 };
	CHECK_EQ_INT(icmp6_repr_parse(f + ETH_HDR_LEN + ip.hdr_len, ip.payload_len, &ip.src, &ip.dst, &caps, &icmp), WIRE_OK);
	CHECK_EQ_INT(icmp.type, ND_ROUTER_SOLICIT);
	struct nd_repr nd;
	CHECK_EQ_INT(nd_repr_parse(f + ETH_HDR_LEN + ip.hdr_len, ip.payload_len, &ip, &nd), WIRE_OK);
	CHECK(nd.has_slla);
	CHECK(memcmp(nd.slla.b, st->ports[1].mac.b, 6) == 0);
	rte_pktmbuf_free(m[0]);
	/* Port 0 has gateway6: it sends none. */
	CHECK_EQ_INT(test_port_drain(lc, NULL, 0), 0);
	/* The next one RTR_SOLICITATION_INTERVAL (4 s) later, not before. */
	lc->now = rte_rdtsc() + st->tsc_hz * 3;
	ra6_tick(lc);
	CHECK_EQ_INT(lc->ctr.nd6_rs_out, 1);
	lc->now = rte_rdtsc() + st->tsc_hz * 5;
	ra6_tick(lc);
	CHECK_EQ_INT(lc->ctr.nd6_rs_out, 2);
	/* An advertisement naming a default router ends them. */
	advertise(600, NULL, 0, false, 0, 0, 0, 0);
	lc->now = rte_rdtsc() + st->tsc_hz * 10;
	ra6_tick(lc);
	CHECK_EQ_INT(lc->ctr.nd6_rs_out, 2);
	CHECK_EQ_INT(drain_port1(NULL, 0), 1);
	advertise(0, NULL, 0, false, 0, 0, 0, 0);
}

/* --- the port a multicast datagram leaves by */

/** Sends one byte from AF_INET6 socket so to [group]:9 (no scope) and returns the port it left by:
 *  0, 1, or -1 for none or both; *src gets the frame's source. */
static int mcast_out_port(struct ffs_sock *so, const char *group, struct ip6_addr *src)
{
	struct iovec iov = { "x", 1 };
	CHECK_EQ_INT(ffs_sock_sendv6(st, so, &iov, 1, NULL, P(group), 0, 9), 1);
	udp_tx_drain(lc);
	struct rte_mbuf *m0[2], *m1[2];
	unsigned n0 = test_port_drain(lc, m0, 2), n1 = drain_port1(m1, 2);
	if (n0 + n1 != 1) {
		for (unsigned i = 0; i < n0 && i < 2; i++)
			rte_pktmbuf_free(m0[i]);
		for (unsigned i = 0; i < n1 && i < 2; i++)
			rte_pktmbuf_free(m1[i]);
		return -1;
	}
	struct rte_mbuf *m = n0 ? m0[0] : m1[0];
	struct ipv6_repr ip;
	const uint8_t *f = rte_pktmbuf_mtod(m, const uint8_t *);
	CHECK_EQ_INT(ipv6_repr_parse(f + ETH_HDR_LEN, m->data_len - ETH_HDR_LEN, &ip, NULL), WIRE_OK);
	CHECK_EQ_STR(F(ip.dst), group);
	*src = ip.src;
	rte_pktmbuf_free(m);
	return n0 ? 0 : 1;
}

static struct ffs_sock *udp6_bound(struct ffs_app *app, const struct ip6_addr *a, uint32_t scope_id)
{
	struct ffs_sock *so;
	CHECK_EQ_INT(ffs_sock_open(st, app, &so), 0);
	ffs_sock_set_family6(st, so);
	so->nonblock = true;
	if (a)
		CHECK_EQ_INT(ffs_sock_bind6(st, so, a->b, scope_id, 0), 0);
	return so;
}

TEST(multicast_without_multicast_if_leaves_by_the_bound_address_port)
{
	setup();
	struct ffs_app *app = ffs_app_new(st);
	CHECK(app != NULL);
	test_port_drain(lc, NULL, 0);
	drain_port1(NULL, 0);
	struct ip6_addr g1 = A("2001:db8:77::1"), ll1, src;
	CHECK_EQ_INT(addr6_add(st, 1, &g1, 64, ADDR6_STATIC, ADDR6_INFINITE, ADDR6_INFINITE), 0);
	CHECK(addr6_linklocal(st, 1, &ll1));
	/* Bound to port 1's address: port 1, as Linux's route lookup picks the device holding the source. */
	struct ffs_sock *global = udp6_bound(app, &g1, 0);
	CHECK_EQ_INT(mcast_out_port(global, "ff0e::1:3", &src), 1);
	CHECK_EQ_STR(F(src), "2001:db8:77::1");
	/* Bound to port 1's link-local address: its scope's port. */
	struct ffs_sock *link = udp6_bound(app, &ll1, 2);
	CHECK_EQ_INT(mcast_out_port(link, "ff02::1:3", &src), 1);
	CHECK_EQ_STR(F(src), F(ll1));
	/* Not bound to an address: the default, the first port. */
	struct ffs_sock *any = udp6_bound(app, NULL, 0);
	CHECK_EQ_INT(mcast_out_port(any, "ff0e::1:3", &src), 0);
	CHECK_EQ_STR(F(src), "2001:db8::2");
	/* IPV6_MULTICAST_IF names the port whatever the bound address. */
	global->mcast_if6 = 1;
	CHECK_EQ_INT(mcast_out_port(global, "ff0e::1:3", &src), 0);
	CHECK_EQ_STR(F(src), "2001:db8:77::1");
	ffs_sock_close(st, global);
	ffs_sock_close(st, link);
	ffs_sock_close(st, any);
	ffs_app_free(st, app);
	CHECK_EQ_INT(addr6_del(st, 1, &g1), 0);
}

/* --- readers on other threads while a writer churns */

#define CHURN_ROUNDS 2000
static atomic_bool churning;
static atomic_ulong lookups, bad_answers;

static void *reader_main(void *arg)
{
	(void)arg;
	const struct ip6_addr d1 = A("2001:db8::99"), d2 = A("2001:db8:4::9"), d3 = A("2600::1");
	const struct ip6_addr ok_src = A("2001:db8::2"), churned = A("2001:db8::c"), router = A("fe80::1");
	while (atomic_load(&churning)) {
		struct ip6_addr s, hop;
		/* The source for d1 is ::2 or the churned ::c (both /64): never a mix of the two. */
		if (!addr6_source(st, 0, &d1, &s) || !(ip6_eq(&s, &ok_src) || ip6_eq(&s, &churned)))
			atomic_fetch_add(&bad_answers, 1);
		/* d2 is on-link while its prefix is in the table, else via fe80::1: nothing else. */
		const struct ffs_port *p = route6_lookup(st, &d2, -1, &hop);
		if (p != &st->ports[0] || !(ip6_eq(&hop, &d2) || ip6_eq(&hop, &router)))
			atomic_fetch_add(&bad_answers, 1);
		if (route6_lookup(st, &d3, -1, &hop) != &st->ports[0])
			atomic_fetch_add(&bad_answers, 1);
		atomic_fetch_add(&lookups, 1);
	}
	return NULL;
}

TEST(readers_never_see_a_half_made_change)
{
	setup();
	pthread_t readers[2];
	atomic_store(&churning, true);
	for (int i = 0; i < 2; i++)
		CHECK_EQ_INT(pthread_create(&readers[i], NULL, reader_main, NULL), 0);
	uint64_t deadline = test_ms_from_now(5000);
	while (atomic_load(&lookups) == 0 && rte_rdtsc() < deadline)
		usleep(100);
	struct ip6_addr c = A("2001:db8::c"), p4 = A("2001:db8:4::");
	for (int round = 0; round < CHURN_ROUNDS; round++) {
		if (round % 2 == 0) {
			CHECK_EQ_INT(addr6_add(st, 0, &c, 64, ADDR6_STATIC, ADDR6_INFINITE, ADDR6_INFINITE), 0);
			CHECK_EQ_INT(route6_prefix_update(st, 0, &p4, 64, FFS_ROUTE6_ADVERTISED, 600), 0);
		} else {
			CHECK_EQ_INT(addr6_del(st, 0, &c), 0);
			CHECK_EQ_INT(route6_prefix_update(st, 0, &p4, 64, FFS_ROUTE6_ADVERTISED, 0), 0);
		}
		route6_pmtu_set(st, &c, (uint16_t)(1280 + round % 200));
	}
	atomic_store(&churning, false);
	for (int i = 0; i < 2; i++)
		pthread_join(readers[i], NULL);
	CHECK(atomic_load(&lookups) > 1);
	CHECK_EQ_INT(atomic_load(&bad_answers), 0);
}

TEST(teardown)
{
	setup();
	test_port_drain(lc, NULL, 0);
	drain_port1(NULL, 0);
	struct rte_mbuf *m[FFS_BURST];
	unsigned n;
	while ((n = rte_eth_rx_burst(st->ports[2].port_id, 0, m, FFS_BURST)) > 0)
		rte_pktmbuf_free_bulk(m, n);
	ffs_stack_stop(st);
}

TEST_MAIN()
