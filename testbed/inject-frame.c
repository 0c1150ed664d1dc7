/*
 * inject-frame: send raw Ethernet frames on one interface, from the kernel side of the test bench.
 *
 *   inject-frame <ifname> <hex> [<hex> ...]    one frame per argument
 *   inject-frame <ifname> -                    one frame per stdin line (blank lines and '#' lines skipped)
 *
 * Each frame is hex (whitespace and ':' ignored), written byte for byte through an AF_PACKET
 * SOCK_RAW socket bound to the interface: no padding, no FCS, nothing rewritten. Used to put
 * malformed frames in front of a stack through a net_tap interface or a veth pair, always inside a
 * private network namespace.
 *
 * Exit status: 0 when every frame was sent (and "sent N frame(s) on IF" on stdout); 2 for usage
 * errors and bad hex; 1 for interface and socket errors. The kernel refuses frames shorter than the
 * 14-byte Ethernet header on Ethernet devices, which is reported as such.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "stack/wire/hex.h"

#define MAX_FRAME 65535


/* Decodes `hex` into `out`; returns the byte count, or -1 with a message naming `what`. */
static long parse_hex(const char *hex, unsigned char *out, size_t cap, const char *what)
{
	size_t n = 0;
	int hi = -1;
	for (const char *p = hex; *p; p++) {
		if (*p == ' ' || *p == '\t' || *p == ':' || *p == '\n' || *p == '\r')
			continue;
		int v = hex_digit((unsigned char)*p);
		if (v < 0) {
			fprintf(stderr, "inject-frame: %s: bad hex character '%c' at offset %ld\n", what, *p,
				(long)(p - hex));
			return -1;
		}
		if (hi < 0) {
			hi = v;
			continue;
		}
		if (n == cap) {
			fprintf(stderr, "inject-frame: %s: frame longer than %zu bytes\n", what, cap);
			return -1;
		}
		out[n++] = (unsigned char)(hi << 4 | v);
		hi = -1;
	}
	if (hi >= 0) {
		fprintf(stderr, "inject-frame: %s: odd number of hex digits\n", what);
		return -1;
	}
	if (n == 0) {
		fprintf(stderr, "inject-frame: %s: empty frame\n", what);
		return -1;
	}
	return (long)n;
}

static int send_frame(int fd, const struct sockaddr_ll *addr, const char *ifname, const unsigned char *frame,
		      size_t len, const char *what)
{
	ssize_t sent = sendto(fd, frame, len, 0, (const struct sockaddr *)addr, sizeof(*addr));
	if (sent < 0) {
		int err = errno;
		if (err == EINVAL && len < ETH_HLEN)
			fprintf(stderr,
				"inject-frame: %s: %zu-byte frame is shorter than the %d-byte Ethernet header; "
				"the kernel refuses it on %s\n",
				what, len, ETH_HLEN, ifname);
		else if (err == ENETDOWN)
			fprintf(stderr, "inject-frame: %s: interface %s is down\n", what, ifname);
		else if (err == EMSGSIZE)
			fprintf(stderr, "inject-frame: %s: %zu-byte frame exceeds the MTU of %s\n", what, len, ifname);
		else
			fprintf(stderr, "inject-frame: %s: send on %s failed: %s\n", what, ifname, strerror(err));
		return -1;
	}
	if ((size_t)sent != len) {
		fprintf(stderr, "inject-frame: %s: short send on %s (%zd of %zu bytes)\n", what, ifname, sent, len);
		return -1;
	}
	return 0;
}

static void usage(void)
{
	fprintf(stderr, "usage: inject-frame <ifname> <hex> [<hex> ...]\n"
			"       inject-frame <ifname> -     (frames as hex lines on stdin)\n");
}

int main(int argc, char **argv)
{
	if (argc < 3) {
		usage();
		return 2;
	}
	const char *ifname = argv[1];
	unsigned ifindex = if_nametoindex(ifname);
	if (ifindex == 0) {
		fprintf(stderr, "inject-frame: no such interface '%s': %s\n", ifname, strerror(errno));
		return 1;
	}

	/* Protocol 0: a send-only socket that receives nothing. */
	int fd = socket(AF_PACKET, SOCK_RAW, 0);
	if (fd < 0) {
		fprintf(stderr, "inject-frame: AF_PACKET socket: %s%s\n", strerror(errno),
			errno == EPERM ? " (needs CAP_NET_RAW)" : "");
		return 1;
	}
	struct sockaddr_ll addr;
	memset(&addr, 0, sizeof(addr));
	addr.sll_family = AF_PACKET;
	addr.sll_ifindex = (int)ifindex;
	addr.sll_halen = ETH_ALEN;

	static unsigned char frame[MAX_FRAME];
	unsigned long count = 0;
	int status = 0;
	char what[64];

	if (strcmp(argv[2], "-") == 0 && argc == 3) {
		char *line = NULL;
		size_t cap = 0;
		unsigned long lineno = 0;
		while (getline(&line, &cap, stdin) >= 0) {
			lineno++;
			const char *p = line + strspn(line, " \t\r\n");
			if (*p == '\0' || *p == '#')
				continue;
			snprintf(what, sizeof(what), "stdin line %lu", lineno);
			long n = parse_hex(p, frame, sizeof(frame), what);
			if (n < 0) {
				status = 2;
				break;
			}
			if (send_frame(fd, &addr, ifname, frame, (size_t)n, what) != 0) {
				status = 1;
				break;
			}
			count++;
		}
		if (status == 0 && ferror(stdin)) {
			fprintf(stderr, "inject-frame: reading stdin: %s\n", strerror(errno));
			status = 1;
		}
		free(line);
	} else {
		for (int i = 2; i < argc; i++) {
			snprintf(what, sizeof(what), "frame %d", i - 1);
			long n = parse_hex(argv[i], frame, sizeof(frame), what);
			if (n < 0) {
				status = 2;
				break;
			}
			if (send_frame(fd, &addr, ifname, frame, (size_t)n, what) != 0) {
				status = 1;
				break;
			}
			count++;
		}
	}
	close(fd);
	if (status == 0)
		printf("sent %lu frame(s) on %s\n", count, ifname);
	return status;
}
