/*
 * ff_config_read, the C reader of ffnet.ini behind ff_init: the checks it shares with the
 * TypeScript loader, each refused with the same message (printed to stderr) — EAL arguments that
 * print instead of starting, a secondary process, more ports than a stack serves, a bad log sink —
 * and the `[dpdk] log` sink it hands to ff_init.
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "posix/ff_config.h"
#include "test/stack/harness.h"

static char path[] = "/tmp/ffnet-config-test-XXXXXX";
static char message[1024];

/** Reads `text` as the file at `path`; returns ff_config_read's result, its stderr in `message`. */
static int read_text(const char *text)
{
	FILE *f = fopen(path, "w");
	CHECK(f != NULL);
	fputs(text, f);
	fclose(f);
	FILE *err = tmpfile();
	CHECK(err != NULL);
	fflush(stderr);
	int saved = dup(STDERR_FILENO);
	dup2(fileno(err), STDERR_FILENO);
	struct ffs_conf *conf;
	int argc;
	char **argv;
	int rc = ff_config_read(path, &conf, &argc, &argv);
	fflush(stderr);
	dup2(saved, STDERR_FILENO);
	close(saved);
	rewind(err);
	size_t n = fread(message, 1, sizeof(message) - 1, err);
	message[n] = '\0';
	fclose(err);
	return rc;
}

/** The expected message: `<path>: <rest>\n`. */
static const char *expect(const char *rest)
{
	static char buf[1024];
	snprintf(buf, sizeof(buf), "%s: %s\n", path, rest);
	return buf;
}

TEST(setup)
{
	int fd = mkstemp(path);
	CHECK(fd >= 0);
	close(fd);
}

TEST(extra_args_that_print_are_refused)
{
	const char *printing[] = { "--help", "-h", "-v", "--version" };
	for (unsigned i = 0; i < 4; i++) {
		char text[128], rest[256];
		snprintf(text, sizeof(text), "[dpdk]\nextra_args = --in-memory %s\n", printing[i]);
		CHECK_EQ_INT(read_text(text), -1);
		snprintf(rest, sizeof(rest),
			 "[dpdk] extra_args: \"%s\" makes the EAL print instead of starting (usage or version text); remove it", printing[i]);
		CHECK_EQ_STR(message, expect(rest));
	}
}

TEST(process_type_and_hugepage_mount_are_set_from_their_keys)
{
	const char *forms[][3] = { { "--proc-type=secondary", "--proc-type=secondary", "proc_type" },
				   { "--proc-type secondary", "--proc-type", "proc_type" },
				   { "--huge-dir /mnt", "--huge-dir", "huge_dir" } };
	for (unsigned i = 0; i < 3; i++) {
		char text[128], rest[160];
		snprintf(text, sizeof(text), "[dpdk]\nextra_args = %s\n", forms[i][0]);
		CHECK_EQ_INT(read_text(text), -1);
		snprintf(rest, sizeof(rest), "[dpdk] extra_args: \"%s\" is set from the %s key; set it there instead", forms[i][1], forms[i][2]);
		CHECK_EQ_STR(message, expect(rest));
	}
}

TEST(nine_ports_are_refused)
{
	char text[2048] = "";
	for (int i = 0; i < 9; i++)
		snprintf(text + strlen(text), sizeof(text) - strlen(text), "[port%d]\naddr = 10.77.%d.2\nnetmask = 255.255.255.0\n", i, i);
	CHECK_EQ_INT(read_text(text), -1);
	CHECK_EQ_STR(message, expect("[port8]: 9 ports are configured ([port0], [port1], [port2], [port3], [port4], [port5], [port6], "
				     "[port7], [port8]); a stack serves at most 8"));
}

TEST(log_sink)
{
	CHECK_EQ_INT(read_text("[dpdk]\nlog = file:/tmp/ffnet-dpdk.log\n"), 0);
	CHECK_EQ_STR(ff_config_log(), "file:/tmp/ffnet-dpdk.log");
	CHECK_EQ_INT(read_text("[dpdk]\n"), 0);
	CHECK(ff_config_log() == NULL);
	CHECK_EQ_INT(read_text("[dpdk]\nlog = stdout\n"), -1);
	CHECK_EQ_STR(message, expect("[dpdk] log: \"stdout\" is not a log sink (none, stderr, syslog or file:PATH)"));
}

#define PORT0 "[port0]\naddr = 10.77.0.2\nnetmask = 255.255.255.0\n"

TEST(ipv6_keys_are_read)
{
	struct ffs_conf *conf;
	int argc;
	char **argv;
	CHECK_EQ_INT(read_text(PORT0 "addr6[] = 2001:DB8::2/64\naddr6[] = fd00:1::5/48\ngateway6 = FE80::1\n"
				   "ndp[] = FE80::9 02:AA:00:00:00:09\nndp[] = fd00:1::9  02:00:00:00:00:19\n"
				   "[port1]\naddr = 10.78.0.2\nnetmask = 255.255.255.0\nipv6 = 0\n"), 0);
	CHECK_EQ_INT(ff_config_read(path, &conf, &argc, &argv), 0);
	char t[IP6_ADDRSTRLEN];
	CHECK(!conf->ports[0].ipv6_off);
	CHECK_EQ_INT(conf->ports[0].n_addr6, 2);
	CHECK_EQ_STR(ip6_format(&conf->ports[0].addr6[0].addr, t), "2001:db8::2");
	CHECK_EQ_INT(conf->ports[0].addr6[0].prefixlen, 64);
	CHECK_EQ_STR(ip6_format(&conf->ports[0].addr6[1].addr, t), "fd00:1::5");
	CHECK_EQ_INT(conf->ports[0].addr6[1].prefixlen, 48);
	CHECK_EQ_STR(ip6_format(&conf->ports[0].gateway6, t), "fe80::1");
	CHECK_EQ_INT(conf->ports[0].n_static_ndp, 2);
	CHECK_EQ_STR(ip6_format(&conf->ports[0].static_ndp[0].addr, t), "fe80::9");
	CHECK_EQ_INT(conf->ports[0].static_ndp[0].mac.b[1], 0xaa);
	CHECK_EQ_STR(ip6_format(&conf->ports[0].static_ndp[1].addr, t), "fd00:1::9");
	CHECK_EQ_INT(conf->ports[0].static_ndp[1].mac.b[5], 0x19);
	CHECK(conf->ports[1].ipv6_off);
	CHECK_EQ_INT(conf->ports[1].n_addr6, 0);
	CHECK_EQ_INT(conf->ports[1].n_static_ndp, 0);
	CHECK(ip6_is_unspecified(&conf->ports[1].gateway6));
}

TEST(vlan_id_is_read_and_checked)
{
	struct ffs_conf *conf;
	int argc;
	char **argv;
	CHECK_EQ_INT(read_text(PORT0 "vlan_id = 100\n[port1]\naddr = 10.78.0.2\nnetmask = 255.255.255.0\n"), 0);
	CHECK_EQ_INT(ff_config_read(path, &conf, &argc, &argv), 0);
	CHECK_EQ_INT(conf->ports[0].vlan_id, 100);
	CHECK_EQ_INT(conf->ports[1].vlan_id, 0); /* absent: untagged */
	/* The same words as config-errors.test.ts's. */
	static const char *const cases[][2] = {
		{ "vlan_id = 4095\n", "[port0] vlan_id: 4095 is out of range (1..4094)" },
		{ "vlan_id = 0\n", "[port0] vlan_id: 0 is out of range (1..4094)" },
		{ "vlan_id = 1.5\n", "[port0] vlan_id: \"1.5\" is not a decimal integer" },
	};
	for (unsigned i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char text[256];
		snprintf(text, sizeof(text), PORT0 "%s", cases[i][0]);
		CHECK_EQ_INT(read_text(text), -1);
		CHECK_EQ_STR(message, expect(cases[i][1]));
	}
}

/* The C reader's words for each bad IPv6 value: the same as config-errors.test.ts's (IPV6_ERRORS). */
TEST(ipv6_keys_are_refused_with_their_key_named)
{
	static const char *const cases[][2] = {
		{ "addr6[] = 2001:db8::2\n",
		  "[port0] addr6: \"2001:db8::2\" is not an IPv6 address with a prefix length (ADDR/PREFIXLEN, e.g. 2001:db8::2/64)" },
		{ "addr6[] = 2001:db8::g/64\n", "[port0] addr6: \"2001:db8::g/64\": \"2001:db8::g\" is not an IPv6 address" },
		{ "addr6[] = 2001:DB8::2/129\n", "[port0] addr6: 2001:db8::2/129: prefix length 129 is out of range (1..128)" },
		{ "addr6[] = ::ffff:10.77.0.2/96\n", "[port0] addr6: ::ffff:10.77.0.2 is not usable as a port address (IPv4-mapped)" },
		{ "addr6[] = fe80::2/64\n",
		  "[port0] addr6: fe80::2 is not usable as a port address (link-local: every port derives its own from its MAC)" },
		{ "addr6[] = 2001:db8:0:1::/64\n",
		  "[port0] addr6: 2001:db8:0:1:: is the subnet-router anycast address of 2001:db8:0:1::/64, not a host address" },
		{ "addr6[] = 2001:db8::2/64\naddr6[] = 2001:0db8:0::2/48\n", "[port0] addr6: 2001:db8::2 is listed twice" },
		{ "addr6[] = 2001:db8::2/64\naddr6[] = 2001:db8::3/64\naddr6[] = 2001:db8::4/64\naddr6[] = 2001:db8::5/64\n"
		  "addr6[] = 2001:db8::6/64\n", "[port0] addr6: at most 4 entries" },
		{ "gateway6 = ff02::2\n", "[port0] gateway6: ff02::2 is not usable as a gateway (multicast)" },
		{ "addr6[] = 2001:db8::2/64\naddr6[] = fd00:1::5/48\ngateway6 = 2001:db9::1\n",
		  "[port0] gateway6: 2001:db9::1 is neither link-local (fe80::/10) nor on a prefix of the port (2001:db8::/64, fd00:1::/48)" },
		{ "addr6[] = 2001:db8::2/64\ngateway6 = 2001:db8::2\n", "[port0] gateway6: 2001:db8::2 is the port's own address" },
		{ "ipv6 = maybe\n", "[port0] ipv6: \"maybe\" is not a boolean (true/false, yes/no, on/off, 1/0)" },
		{ "ipv6 = off\ngateway6 = fe80::1\n",
		  "[port0] ipv6: IPv6 is off on the port, yet gateway6 is set (remove it, or turn IPv6 on)" },
		{ "ipv6 = off\nndp[] = fe80::9 02:00:00:00:00:09\n",
		  "[port0] ipv6: IPv6 is off on the port, yet ndp is set (remove it, or turn IPv6 on)" },
		{ "ndp[] = fe80::9\n", "[port0] ndp: entry \"fe80::9\": expected \"ADDR MAC\", e.g. \"fe80::9 02:00:00:00:00:09\"" },
		{ "ndp[] = 10.77.0.9 02:00:00:00:00:09\n",
		  "[port0] ndp: entry \"10.77.0.9 02:00:00:00:00:09\": \"10.77.0.9\" is not an IPv6 address" },
		{ "ndp[] = fe80::9 01:00:5e:00:00:01\n",
		  "[port0] ndp: entry \"fe80::9 01:00:5e:00:00:01\": 01:00:5e:00:00:01 is not a unicast MAC address" },
		{ "ndp[] = ff02::1 02:00:00:00:00:09\n",
		  "[port0] ndp: entry \"ff02::1 02:00:00:00:00:09\": ff02::1 is not usable as a neighbour (multicast)" },
		{ "addr6[] = 2001:db8::2/64\nndp[] = 2001:db9::9 02:00:00:00:00:09\n",
		  "[port0] ndp: entry \"2001:db9::9 02:00:00:00:00:09\": 2001:db9::9 is neither link-local (fe80::/10) nor on a prefix "
		  "of the port (2001:db8::/64)" },
		{ "addr6[] = 2001:db8::2/64\nndp[] = 2001:DB8::2 02:00:00:00:00:09\n",
		  "[port0] ndp: entry \"2001:DB8::2 02:00:00:00:00:09\": 2001:db8::2 is the port's own address" },
		{ "ndp[] = fe80::9 02:00:00:00:00:09\nndp[] = FE80::9 02:00:00:00:00:08\n",
		  "[port0] ndp: entry \"FE80::9 02:00:00:00:00:08\": fe80::9 already has an entry" },
	};
	for (unsigned i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char text[1024];
		snprintf(text, sizeof(text), PORT0 "%s", cases[i][0]);
		CHECK_EQ_INT(read_text(text), -1);
		CHECK_EQ_STR(message, expect(cases[i][1]));
	}
	CHECK_EQ_INT(read_text(PORT0 "addr6[] = 2001:db8::2/64\n[port1]\naddr = 10.78.0.2\nnetmask = 255.255.255.0\n"
				   "addr6[] = 2001:DB8:0::2/56\n"), -1);
	CHECK_EQ_STR(message, expect("[port1] addr6: 2001:db8::2 is already an address of [port0]"));
}

TEST(exception_keys_are_read)
{
	struct ffs_conf *conf;
	int argc;
	char **argv;
	CHECK_EQ_INT(read_text(PORT0 "exception = tap\nexception_tcp_port = 22, 80,8000-8100\nexception_udp_port = 53\n"
				   "exception_udp_unbound = off\nexception_queue = 256\n"
				   "[port1]\naddr = 10.78.0.2\nnetmask = 255.255.255.0\nexception = virtio-user\nexception_iface = kni1\n"
				   "[port2]\naddr = 10.79.0.2\nnetmask = 255.255.255.0\n"), 0);
	CHECK_EQ_INT(ff_config_read(path, &conf, &argc, &argv), 0);
	const struct ffs_port_conf *p0 = &conf->ports[0], *p1 = &conf->ports[1], *p2 = &conf->ports[2];
	CHECK_EQ_INT(p0->exception, FFS_EXC_TAP);
	CHECK_EQ_STR(p0->exception_iface, "ffx0");
	CHECK_EQ_INT(p0->exc_tcp.n, 3);
	CHECK_EQ_INT(p0->exc_tcp.r[1].lo, 80);
	CHECK_EQ_INT(p0->exc_tcp.r[2].lo, 8000);
	CHECK_EQ_INT(p0->exc_tcp.r[2].hi, 8100);
	CHECK_EQ_INT(p0->exc_udp.n, 1);
	CHECK_EQ_INT(p0->exc_udp.r[0].hi, 53);
	CHECK(!p0->exc_udp_unbound);
	CHECK_EQ_INT(p0->exc_queue, 256);
	CHECK_EQ_INT(p1->exception, FFS_EXC_VIRTIO_USER);
	CHECK_EQ_STR(p1->exception_iface, "kni1");
	CHECK_EQ_INT(p1->exc_tcp.n, 0);
	CHECK(p1->exc_udp_unbound);
	CHECK_EQ_INT(p1->exc_queue, 1024);
	CHECK_EQ_INT(p2->exception, FFS_EXC_NONE);
}

/* The C reader's words for each bad exception-path value: the same as config-errors.test.ts's (EXCEPTION_ERRORS). */
TEST(exception_keys_are_refused_with_their_key_named)
{
	static const char *const cases[][2] = {
		{ "exception = kni\n",
		  "[port0] exception: \"kni\" is not an exception path (none, tap or virtio-user)" },
		{ "exception =\n",
		  "[port0] exception: empty value (remove the line to use the default)" },
		{ "exception_tcp_port = 22\n",
		  "[port0] exception: the exception path is off (none), yet exception_tcp_port is set (remove it, or set exception = tap or virtio-user)" },
		{ "exception = none\nexception_queue = 64\n",
		  "[port0] exception: the exception path is off (none), yet exception_queue is set (remove it, or set exception = tap or virtio-user)" },
		{ "exception = tap\nexception_iface = ffx0123456789abc\n",
		  "[port0] exception_iface: \"ffx0123456789abc\" is longer than 15 characters (a kernel interface name)" },
		{ "exception = tap\nexception_iface = -ffx\n",
		  "[port0] exception_iface: \"-ffx\" is not an interface name (letters, digits, '_', '.' and '-', not first '.' or '-')" },
		{ "exception = tap\nexception_iface = ffx/0\n",
		  "[port0] exception_iface: \"ffx/0\" is not an interface name (letters, digits, '_', '.' and '-', not first '.' or '-')" },
		{ "exception = tap\nexception_tcp_port = 22,ssh\n",
		  "[port0] exception_tcp_port: entry \"ssh\" is not a port or a range of ports (e.g. 22 or 8000-8100; entries separated by ',')" },
		{ "exception = tap\nexception_tcp_port = 22,,80\n",
		  "[port0] exception_tcp_port: entry \"\" is not a port or a range of ports (e.g. 22 or 8000-8100; entries separated by ',')" },
		{ "exception = tap\nexception_tcp_port = 0\n",
		  "[port0] exception_tcp_port: entry \"0\" is out of range (1..65535)" },
		{ "exception = tap\nexception_udp_port = 53,65536\n",
		  "[port0] exception_udp_port: entry \"65536\" is out of range (1..65535)" },
		{ "exception = tap\nexception_udp_port = 8100-8000\n",
		  "[port0] exception_udp_port: entry \"8100-8000\" ends before it starts" },
		{ "exception = tap\nexception_udp_port = 1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31,32,33\n",
		  "[port0] exception_udp_port: at most 32 entries" },
		{ "exception = tap\nexception_udp_unbound = maybe\n",
		  "[port0] exception_udp_unbound: \"maybe\" is not a boolean (true/false, yes/no, on/off, 1/0)" },
		{ "exception = tap\nexception_queue = 4\n",
		  "[port0] exception_queue: 4 is out of range (8..65536 frames)" },
		{ "exception = tap\nexception_iface[] = ffx9\n",
		  "[port0] exception_iface: takes one value, got a list of 1 (write \"exception_iface = ...\", not \"exception_iface[] = ...\")" },
	};
	for (unsigned i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char text[1024];
		snprintf(text, sizeof(text), PORT0 "%s", cases[i][0]);
		CHECK_EQ_INT(read_text(text), -1);
		CHECK_EQ_STR(message, expect(cases[i][1]));
	}
	CHECK_EQ_INT(read_text(PORT0 "exception = tap\nexception_iface = kni0\n[port1]\naddr = 10.78.0.2\nnetmask = 255.255.255.0\n"
				   "exception = virtio-user\nexception_iface = kni0\n"), -1);
	CHECK_EQ_STR(message, expect("[port1] exception_iface: \"kni0\" is already the exception interface of [port0]"));
}

TEST(teardown) { unlink(path); }

TEST_MAIN()
