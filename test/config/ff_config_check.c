/*
 * ff_config_check FILE...: reads each file with the C library's reader of ffnet.ini
 * (posix/ff_config.c) and prints one line of JSON per file, in order:
 *   {"config":{...}}   what ff_init would start from, in the shape of the TypeScript loader's
 *                      NativeStackConfig (eal, dataLcores, inlineLcores, idleSleepUs, txDelayUs, mbufs,
 *                      ports, sysctl, log: the [dpdk] log sink; not configJson, the TS loader's own form)
 *   {"error":"..."}    the message the reader printed when it refused the file
 * Exits 0 when every file was read (accepted or refused), 2 on a usage or I/O problem.
 *
 * test/config/config-differential.test.ts runs both readers over the same files and compares.
 */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "posix/ff_config.h"

static void json_str(const char *s)
{
	putchar('"');
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p == '"' || *p == '\\')
			printf("\\%c", *p);
		else if (*p < 0x20)
			printf("\\u%04x", *p);
		else
			putchar(*p);
	}
	putchar('"');
}

static void json_ipv4(uint32_t a)
{
	printf("\"%u.%u.%u.%u\"", a >> 24, (a >> 16) & 0xff, (a >> 8) & 0xff, a & 0xff);
}

static void print_config(const struct ffs_conf *conf, int eal_argc, char **eal_argv)
{
	printf("{\"config\":{\"eal\":[");
	for (int i = 0; i < eal_argc; i++) {
		printf(i ? "," : "");
		json_str(eal_argv[i]);
	}
	printf("],\"dataLcores\":[");
	for (unsigned i = 0; i < conf->n_data_lcores; i++)
		printf("%s%u", i ? "," : "", conf->data_lcores[i]);
	printf("],\"inlineLcores\":%u,\"idleSleepUs\":%u,\"txDelayUs\":%u,\"mbufs\":%u,\"ports\":[", conf->n_inline_lcores,
	       conf->idle_sleep_us, conf->tx_delay_us, conf->nb_mbuf);
	for (unsigned i = 0; i < conf->n_ports; i++) {
		const struct ffs_port_conf *p = &conf->ports[i];
		printf("%s{\"portId\":%u,\"addr\":", i ? "," : "", p->port_id);
		json_ipv4(p->addr);
		printf(",\"netmask\":");
		json_ipv4(p->netmask);
		printf(",\"broadcast\":");
		json_ipv4(p->broadcast);
		printf(",\"gateway\":");
		if (p->gateway)
			json_ipv4(p->gateway);
		else
			printf("\"\"");
		printf(",\"mtu\":%u,\"vlanId\":%u,\"staticArp\":[", p->mtu, p->vlan_id);
		for (unsigned j = 0; j < p->n_static_arp; j++) {
			const uint8_t *m = p->static_arp[j].mac.b;
			printf("%s{\"addr\":", j ? "," : "");
			json_ipv4(p->static_arp[j].addr);
			printf(",\"mac\":\"%02x:%02x:%02x:%02x:%02x:%02x\"}", m[0], m[1], m[2], m[3], m[4], m[5]);
		}
		printf("],\"routes\":[");
		for (unsigned j = 0; j < p->n_routes; j++) {
			const struct ffs_conf_route *r = &p->routes[j];
			printf("%s{\"dest\":", j ? "," : "");
			json_ipv4(r->dest);
			printf(",\"prefixlen\":%u,\"via\":", r->prefixlen);
			json_ipv4(r->gateway);
			printf(",\"src\":");
			if (r->src)
				json_ipv4(r->src);
			else
				printf("\"\"");
			printf(",\"metric\":%u}", r->metric);
		}
		printf("],\"vipAddrs\":[");
		for (unsigned j = 0; j < p->n_vip; j++)
			printf("%s\"%u.%u.%u.%u/%d\"", j ? "," : "", p->vip[j].addr >> 24, (p->vip[j].addr >> 16) & 255,
			       (p->vip[j].addr >> 8) & 255, p->vip[j].addr & 255, __builtin_popcount(p->vip[j].netmask));
		char text[IP6_ADDRSTRLEN];
		printf("],\"ipv6\":%s,\"addr6\":[", p->ipv6_off ? "false" : "true");
		for (unsigned j = 0; j < p->n_addr6; j++)
			printf("%s\"%s/%u\"", j ? "," : "", ip6_format(&p->addr6[j].addr, text), p->addr6[j].prefixlen);
		printf("],\"gateway6\":\"%s\",\"staticNdp\":[", ip6_is_unspecified(&p->gateway6) ? "" : ip6_format(&p->gateway6, text));
		for (unsigned j = 0; j < p->n_static_ndp; j++) {
			const uint8_t *m = p->static_ndp[j].mac.b;
			printf("%s{\"addr\":\"%s\",\"mac\":\"%02x:%02x:%02x:%02x:%02x:%02x\"}", j ? "," : "",
			       ip6_format(&p->static_ndp[j].addr, text), m[0], m[1], m[2], m[3], m[4], m[5]);
		}
		static const char *const exc_kinds[] = { "none", "tap", "virtio-user" };
		printf("],\"exception\":\"%s\",\"exceptionIface\":", exc_kinds[p->exception]);
		json_str(p->exception_iface);
		const struct ffs_port_ranges *ranges[2] = { &p->exc_tcp, &p->exc_udp };
		for (unsigned r = 0; r < 2; r++) {
			printf(",\"%s\":[", r ? "exceptionUdpPorts" : "exceptionTcpPorts");
			for (unsigned j = 0; j < ranges[r]->n; j++)
				printf("%s[%u,%u]", j ? "," : "", ranges[r]->r[j].lo, ranges[r]->r[j].hi);
			printf("]");
		}
		printf(",\"exceptionUdpUnbound\":%s,\"exceptionQueue\":%u}", p->exc_udp_unbound ? "true" : "false", p->exc_queue);
	}
	printf("],\"sysctl\":{");
	for (int k = 0; k < FFS_SYSCTL_COUNT; k++) {
		printf(k ? "," : "");
		json_str(ffs_sysctl_table[k].name);
		printf(":%lld", (long long)conf->sysctl[k]);
	}
	printf("},\"log\":");
	json_str(ff_config_log() ? ff_config_log() : "none");
	static const char *const types[] = { "primary", "secondary", "auto" };
	printf(",\"procType\":\"%s\",\"nbProcs\":%u,\"procQueue\":%d}}\n", types[conf->proc_type], conf->nb_procs,
	       conf->proc_queue);
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: ff_config_check FILE...\n");
		return 2;
	}
	/* The reader reports on stderr: it goes to a scratch file for the length of each call. */
	FILE *scratch = tmpfile();
	int saved_stderr = dup(STDERR_FILENO);
	if (!scratch || saved_stderr < 0) {
		perror("ff_config_check");
		return 2;
	}
	for (int i = 1; i < argc; i++) {
		struct ffs_conf *conf;
		int eal_argc;
		char **eal_argv;
		fflush(stderr);
		rewind(scratch);
		if (ftruncate(fileno(scratch), 0) != 0 || dup2(fileno(scratch), STDERR_FILENO) < 0) {
			perror("ff_config_check");
			return 2;
		}
		int rc = ff_config_read(argv[i], &conf, &eal_argc, &eal_argv);
		fflush(stderr);
		dup2(saved_stderr, STDERR_FILENO);
		if (rc == 0) {
			print_config(conf, eal_argc, eal_argv);
			continue;
		}
		static char msg[65536];
		rewind(scratch);
		size_t n = fread(msg, 1, sizeof(msg) - 1, scratch);
		while (n && msg[n - 1] == '\n')
			n--;
		msg[n] = 0;
		printf("{\"error\":");
		json_str(msg);
		printf("}\n");
	}
	return 0;
}
