/*
 * Request values parsed into numbers and addresses (args.h).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "stack/ctl/args.h"

bool ffs_ctl_parse_uint(const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
	/* strtoull takes a sign (and wraps a '-'): a count or port number has none. */
	if (!s || !*s || *s == '-' || *s == '+')
		return false;
	char *end;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (*end || errno || v < min || v > max)
		return false;
	*out = v;
	return true;
}

bool ffs_ctl_parse_ipv4(const char *s, uint32_t *out)
{
	struct in_addr a;
	if (!s || inet_pton(AF_INET, s, &a) != 1)
		return false;
	*out = ntohl(a.s_addr);
	return true;
}

bool ffs_ctl_parse_prefix(const char *s, bool dflt, uint32_t *addr, unsigned *len)
{
	if (dflt && s && strcmp(s, "default") == 0) {
		*addr = 0;
		*len = 0;
		return true;
	}
	const char *slash = s ? strchr(s, '/') : NULL;
	char quad[INET_ADDRSTRLEN];
	uint64_t l;
	if (!slash || (size_t)(slash - s) >= sizeof(quad) || !ffs_ctl_parse_uint(slash + 1, 0, 32, &l))
		return false;
	memcpy(quad, s, (size_t)(slash - s));
	quad[slash - s] = '\0';
	*len = (unsigned)l;
	return ffs_ctl_parse_ipv4(quad, addr);
}
