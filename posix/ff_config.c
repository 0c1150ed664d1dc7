/*
 * ffnet.ini for C programs: read with DPDK's INI parser (rte_cfgfile) and checked by the rules of
 * the TypeScript loader (config/index.ts, config/schema.ts): the same sections, keys, defaults and
 * ranges, the same error messages (`ffnet.ini: [port0] addr: "10.77.0.300" is not an IPv4 address`),
 * and the same EAL argv as toNativeConfig builds. Nothing is ignored: an unknown section or key, a
 * key given twice, a line the parser would skip or cut short, is an error. The tunables of [sysctl]
 * come from the stack's own table (stack/lcore/sysctl.h), which has no units: range errors there
 * name the range without one.
 */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <regex.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <rte_cfgfile.h>

#include "posix/ff_config.h"
#include "stack/stack.h"

#define MAX_PORT_ID 31
#define MAX_LCORE_ID 127
#define MBUF_BYTES 2368 /* per mbuf, as config/index.ts estimates the pool's size */
#define MAX_ARGS 256

typedef unsigned __int128 mask_t;

struct entry {
	char key[CFG_NAME_LEN];
	char val[CFG_VALUE_LEN];
	bool used;
};

struct section {
	char name[CFG_NAME_LEN];
	bool header; /**< opened by a [...] line ("[]" included); false for the keys before any */
	struct entry *e;
	unsigned n;
};

/** What a configuration file becomes: the stack's conf and the EAL argv (kept for the process). */
static struct {
	const char *file;
	struct section *secs;
	unsigned n_secs;
	char *argv[MAX_ARGS];
	int argc;
	char *vdevs[16];
	char *log; /* [dpdk] log, or NULL for none */
	struct ffs_conf conf;
} C;

/* ---- errors ---------------------------------------------------------------------------- */

/** Prints `<file>: [<section>] <key>: <detail>` (absent parts left out) and returns -1. */
__attribute__((format(printf, 3, 4))) static int bad(const char *section, const char *key, const char *fmt, ...)
{
	fprintf(stderr, "%s: ", C.file);
	if (section)
		fprintf(stderr, key ? "[%s] %s: " : "[%s]: ", section, key);
	else if (key)
		fprintf(stderr, "%s: ", key);
	va_list ap;
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return -1;
}

static int bad_unknown_key(const char *section, const char *key, const char *const known[])
{
	fprintf(stderr, "%s: unknown key \"%s\" in [%s] (known keys: ", C.file, key, section);
	for (unsigned i = 0; known[i]; i++)
		fprintf(stderr, "%s%s", i ? ", " : "", known[i]);
	fprintf(stderr, ")\n");
	return -1;
}

/* ---- reading --------------------------------------------------------------------------- */

static bool matches(const char *re, const char *s)
{
	regex_t r;
	if (regcomp(&r, re, REG_EXTENDED | REG_NOSUB) != 0)
		return false;
	bool ok = regexec(&r, s, 0, NULL, 0) == 0;
	regfree(&r);
	return ok;
}

static char *trim(char *s)
{
	while (isspace((unsigned char)*s))
		s++;
	size_t n = strlen(s);
	while (n && isspace((unsigned char)s[n - 1]))
		s[--n] = '\0';
	return s;
}

/** Refuses what rte_cfgfile would skip or cut short: lines without '=', and over-long names or values. */
static int prescan(void)
{
	FILE *f = fopen(C.file, "r");
	if (!f) {
		int e = errno;
		static const char *const text[][3] = { { "ENOENT", "no such file" }, { "EACCES", "permission denied" },
						       { "EISDIR", "is a directory" }, { "ENOTDIR", "a path component is not a directory" },
						       { "ELOOP", "too many symbolic links" }, { "ENAMETOOLONG", "file name too long" } };
		const int codes[] = { ENOENT, EACCES, EISDIR, ENOTDIR, ELOOP, ENAMETOOLONG };
		const char *name = strerrorname_np(e), *why = strerror(e);
		for (unsigned i = 0; i < sizeof(codes) / sizeof(codes[0]); i++)
			if (codes[i] == e)
				name = text[i][0], why = text[i][1];
		fprintf(stderr, "cannot read config file %s: %s (%s)\n", C.file, name ? name : "EIO", why);
		return -1;
	}
	char line[4096];
	int rc = 0;
	for (unsigned no = 1; rc == 0 && fgets(line, sizeof(line), f); no++) {
		if (strlen(line) >= CFG_NAME_LEN + CFG_VALUE_LEN + 2) {
			rc = bad(NULL, NULL, "line %u is too long (keys up to %d and values up to %d characters)", no,
				 CFG_NAME_LEN - 2, CFG_VALUE_LEN - 2);
			break;
		}
		char *s = trim(line);
		if (!*s || *s == ';' || *s == '#')
			continue;
		/* rte_cfgfile ends every line at its first ';': check what it will read, so that a line a
		 * comment cuts short of its '=' is refused rather than skipped. */
		s[strcspn(s, ";")] = '\0';
		s = trim(s);
		char *eq = strchr(s, '=');
		if (*s == '[') {
			/* A header may be followed by a '#' comment too (rte_cfgfile reads up to the ']'). */
			char *close = strchr(s, ']');
			if (close && *trim(close + 1) == '#')
				close[1] = '\0';
			if (s[strlen(s) - 1] != ']' || strchr(s, ']') != s + strlen(s) - 1 || strlen(s) >= CFG_NAME_LEN)
				rc = bad(NULL, NULL, "line %u: %s is not a section header", no, s);
		} else if (!eq) {
			rc = bad(NULL, NULL, "line %u: \"%s\" has no value (write \"key = value\")", no, s);
		} else if ((size_t)(eq - s) >= CFG_NAME_LEN - 1 || strlen(eq + 1) >= CFG_VALUE_LEN - 1) {
			rc = bad(NULL, NULL, "line %u is too long (keys up to %d and values up to %d characters)", no,
				 CFG_NAME_LEN - 2, CFG_VALUE_LEN - 2);
		}
	}
	fclose(f);
	return rc;
}

static struct section *section_of(const char *name, bool header)
{
	for (unsigned i = 0; i < C.n_secs; i++)
		if (strcmp(C.secs[i].name, name) == 0 && C.secs[i].header == header)
			return &C.secs[i];
	struct section *s = realloc(C.secs, (C.n_secs + 1) * sizeof(*s));
	if (!s)
		return NULL;
	C.secs = s;
	s = &C.secs[C.n_secs++];
	*s = (struct section){ 0 };
	snprintf(s->name, sizeof(s->name), "%s", name);
	s->header = header;
	return s;
}

/** Loads the file into sections (a section given twice is merged, as the TS loader does); "" holds keys outside any. */
static int load(void)
{
	if (prescan() < 0)
		return -1;
	struct rte_cfgfile *cfg = rte_cfgfile_load(C.file, CFG_FLAG_GLOBAL_SECTION | CFG_FLAG_EMPTY_VALUES);
	if (!cfg)
		return bad(NULL, NULL, "not a valid INI file");
	int n = rte_cfgfile_num_sections(cfg, NULL, 0);
	char name[CFG_NAME_LEN];
	int rc = 0;
	for (int i = 0; i < n && rc == 0; i++) {
		int k = rte_cfgfile_section_num_entries_by_index(cfg, name, i);
		/* Index 0 is rte_cfgfile's global section: the keys before any header. */
		struct section *s = section_of(i == 0 ? "" : name, i > 0);
		struct rte_cfgfile_entry *e = k > 0 ? calloc((size_t)k, sizeof(*e)) : NULL;
		struct entry *grown = s ? realloc(s->e, (s->n + (unsigned)(k > 0 ? k : 0) + 1) * sizeof(*grown)) : NULL;
		if (!s || !grown || (k > 0 && !e)) {
			free(e);
			rc = bad(NULL, NULL, "out of memory");
			break;
		}
		s->e = grown;
		rte_cfgfile_section_entries_by_index(cfg, i, name, e, k);
		for (int j = 0; j < k; j++) {
			if (e[j].name[0] == '#')
				continue;
			struct entry *d = &s->e[s->n++];
			*d = (struct entry){ 0 };
			snprintf(d->key, sizeof(d->key), "%s", e[j].name);
			char *v = e[j].value;
			size_t len = strlen(v);
			bool quoted = v[0] == '"' || v[0] == '\'';
			char *close = quoted ? strchr(v + 1, v[0]) : NULL;
			if (close && *trim(close + 1) == '#') {
				/* A quoted value followed by a comment. */
				*close = '\0';
				v++;
			} else if (quoted && len >= 2 && v[len - 1] == v[0]) {
				v[len - 1] = '\0';
				v++;
			} else {
				v[strcspn(v, "#")] = '\0'; /* ini comments start with ';' or '#' */
				v = trim(v);
			}
			snprintf(d->val, sizeof(d->val), "%s", v);
		}
		free(e);
	}
	rte_cfgfile_close(cfg);
	return rc;
}

static bool is_list_key(const char *key)
{
	size_t n = strlen(key);
	return n > 2 && strcmp(key + n - 2, "[]") == 0;
}

static bool key_is(const char *key, const char *name)
{
	size_t n = strlen(name);
	return strncmp(key, name, n) == 0 && (key[n] == '\0' || strcmp(key + n, "[]") == 0);
}

/** The single value of `key`, or NULL when absent; -1 (printed) when given as a list. */
static int one(struct section *s, const char *key, const char **out)
{
	*out = NULL;
	unsigned lists = 0;
	for (unsigned i = 0; s && i < s->n; i++) {
		if (!key_is(s->e[i].key, key))
			continue;
		if (is_list_key(s->e[i].key))
			lists++;
		else
			*out = s->e[i].val;
	}
	if (lists)
		return bad(s->name, key, "takes one value, got a list of %u (write \"%s = ...\", not \"%s[] = ...\")", lists, key, key);
	return 0;
}

/** The values of a repeatable key, in file order; returns their count. */
static unsigned list(struct section *s, const char *key, const char **out, unsigned max)
{
	unsigned n = 0;
	for (unsigned i = 0; s && i < s->n; i++)
		if (key_is(s->e[i].key, key) && n < max)
			out[n++] = s->e[i].val;
	return n;
}

static int check_keys(struct section *s, const char *const known[], const char *const repeatable[])
{
	for (unsigned i = 0; i < s->n; i++) {
		char base[CFG_NAME_LEN];
		snprintf(base, sizeof(base), "%s", s->e[i].key);
		if (is_list_key(base))
			base[strlen(base) - 2] = '\0';
		bool ok = false;
		for (unsigned k = 0; known[k] && !ok; k++)
			ok = strcmp(known[k], base) == 0;
		if (!ok)
			return bad_unknown_key(s->name, base, known);
		if (is_list_key(s->e[i].key))
			continue;
		for (unsigned j = 0; j < i; j++) {
			if (strcmp(s->e[j].key, s->e[i].key) != 0)
				continue;
			bool rep = false;
			for (unsigned k = 0; repeatable[k]; k++)
				rep |= strcmp(repeatable[k], base) == 0;
			return rep ? bad(s->name, base, "set more than once (write \"%s[] = ...\" once per value)", base)
				   : bad(s->name, base, "set more than once (a key may be given once)");
		}
	}
	return 0;
}

/* ---- values ---------------------------------------------------------------------------- */

static int parse_int(const char *sec, const char *key, const char *v, long long min, long long max, const char *unit,
		     long long *out)
{
	if (!matches("^[+-]?[0-9]+$", v))
		return bad(sec, key, "\"%s\" is not a decimal integer", v);
	errno = 0;
	long long n = strtoll(v, NULL, 10);
	if (errno || n < min || n > max)
		return bad(sec, key, "%s is out of range (%lld..%lld%s%s)", v + (*v == '+'), min, max, *unit ? " " : "", unit);
	*out = n;
	return 0;
}

static int int_key(struct section *s, const char *key, long long def, long long min, long long max, const char *unit,
		   long long *out)
{
	const char *v;
	if (one(s, key, &v) < 0)
		return -1;
	*out = def;
	return v ? parse_int(s->name, key, v, min, max, unit, out) : 0;
}

static int scalar(struct section *s, const char *key, const char **out)
{
	if (one(s, key, out) < 0)
		return -1;
	if (*out && !**out)
		return bad(s->name, key, "empty value (remove the line to use the default)");
	return 0;
}

static bool ipv4_value(const char *s, uint32_t *out)
{
	if (!matches("^[0-9]{1,3}\\.[0-9]{1,3}\\.[0-9]{1,3}\\.[0-9]{1,3}$", s))
		return false;
	uint32_t a = 0;
	for (int i = 0; i < 4; i++) {
		if (s[0] == '0' && isdigit((unsigned char)s[1]))
			return false; /* leading zeros read as octal elsewhere */
		char *end;
		unsigned long b = strtoul(s, &end, 10);
		if (b > 255)
			return false;
		a = a << 8 | (uint32_t)b;
		s = end + 1;
	}
	*out = a;
	return true;
}

static const char *fmt_ip(uint32_t a, char buf[16])
{
	snprintf(buf, 16, "%u.%u.%u.%u", a >> 24, (a >> 16) & 255, (a >> 8) & 255, a & 255);
	return buf;
}

static int ip_key(struct section *s, const char *key, uint32_t *out, bool *present)
{
	const char *v;
	if (scalar(s, key, &v) < 0)
		return -1;
	*present = v != NULL;
	if (v && !ipv4_value(v, out))
		return bad(s->name, key, "\"%s\" is not an IPv4 address", v);
	return 0;
}

static const char *fmt_mask(mask_t m, char buf[40])
{
	char tmp[40];
	int n = 0;
	do {
		tmp[n++] = "0123456789abcdef"[(unsigned)(m & 15)];
		m >>= 4;
	} while (m);
	int k = 0;
	buf[k++] = '0';
	buf[k++] = 'x';
	while (n)
		buf[k++] = tmp[--n];
	buf[k] = '\0';
	return buf;
}

/** lcore_mask: 0x hex or decimal; names lcore 0 and nothing above 127. */
static int parse_mask(struct section *s, mask_t *out)
{
	const char *v;
	if (scalar(s, "lcore_mask", &v) < 0)
		return -1;
	if (!v)
		v = "0x1";
	bool hex = matches("^0[xX][0-9a-fA-F]+$", v);
	if (!hex && !matches("^[0-9]+$", v))
		return bad("dpdk", "lcore_mask", "\"%s\" is not an lcore mask (hex with 0x, e.g. 0x3, or a decimal integer)", v);
	mask_t m = 0;
	bool over = false;
	for (const char *p = v + (hex ? 2 : 0); *p; p++) {
		unsigned d = isdigit((unsigned char)*p) ? (unsigned)(*p - '0') : (unsigned)(tolower(*p) - 'a' + 10);
		unsigned base = hex ? 16 : 10;
		over |= m > (~(mask_t)0 - d) / base;
		m = m * base + d;
	}
	char buf[40];
	if (over && hex) {
		const char *d = v + 2 + strspn(v + 2, "0");
		unsigned first = isdigit((unsigned char)*d) ? (unsigned)(*d - '0') : (unsigned)(tolower(*d) - 'a' + 10);
		int top = 4 * (int)(strlen(d) - 1) + 31 - __builtin_clz(first);
		return bad("dpdk", "lcore_mask", "0x%s names lcore %d; lcore ids go up to %d", d, top, MAX_LCORE_ID);
	}
	if (over)
		return bad("dpdk", "lcore_mask", "%s names lcores above %d; lcore ids go up to %d", v, MAX_LCORE_ID, MAX_LCORE_ID);
	if (m == 0)
		return bad("dpdk", "lcore_mask", "0x0 names no lcore (lcore 0 is required)");
	if (!(m & 1))
		return bad("dpdk", "lcore_mask",
			   "%s does not include lcore 0 (lcore 0 is the JS thread that initialises the EAL; use %s)",
			   fmt_mask(m, buf), fmt_mask(m | 1, (char[40]){ 0 }));
	*out = m;
	return 0;
}

/** Checks an EAL --lcores mapping as config/index.ts does; it must name exactly the lcores of the mask. */
static int parse_lcore_map(const char *s, mask_t mask)
{
	char hex[40];
	fmt_mask(mask, hex);
	mask_t mapped = 0;
	const char *p = s;
	for (;;) {
		mask_t ids = 0;
		for (int part = 0; part < 2; part++) {
			bool group = *p == '(';
			p += group;
			do {
				if (!isdigit((unsigned char)*p))
					goto syntax;
				unsigned long lo = strtoul(p, (char **)&p, 10), hi = lo;
				if (*p == '-') {
					p++;
					if (!isdigit((unsigned char)*p))
						goto syntax;
					hi = strtoul(p, (char **)&p, 10);
					if (hi < lo)
						goto syntax;
				}
				if (part == 0 && hi > MAX_LCORE_ID)
					goto syntax;
				if (part == 1 && hi >= 1024)
					goto syntax;
				for (unsigned long x = lo; part == 0 && x <= hi; x++) {
					if ((ids | mapped) >> x & 1)
						goto syntax;
					ids |= (mask_t)1 << x;
				}
			} while (group && *p == ',' && p++);
			if (group && *p++ != ')')
				goto syntax;
			if (part == 1 || *p != '@')
				break;
			p++;
		}
		mapped |= ids;
		if (!*p)
			break;
		if (*p++ != ',')
			goto syntax;
	}
	for (int id = 0; id <= MAX_LCORE_ID; id++) {
		if ((mask >> id & 1) && !(mapped >> id & 1))
			return bad("dpdk", "lcores", "\"%s\" does not map lcore %d of lcore_mask %s", s, id, hex);
		if (!(mask >> id & 1) && (mapped >> id & 1))
			return bad("dpdk", "lcores", "\"%s\" maps lcore %d, which lcore_mask %s does not include", s, id, hex);
	}
	return 0;
syntax:
	return bad("dpdk", "lcores", "\"%s\" is not an EAL lcore mapping (error at position %d; e.g. 0@(0-1),1@(0-1))", s,
		   (int)(p - s) + 1);
}

static const char *const LOG_LEVELS[] = { "emergency", "alert", "critical", "error", "warning", "notice", "info", "debug" };

static const char *log_level(const char *v)
{
	char w[32];
	snprintf(w, sizeof(w), "%s", v);
	for (char *c = w; *c; c++)
		*c = (char)tolower((unsigned char)*c);
	if (w[0] >= '1' && w[0] <= '8' && !w[1])
		return LOG_LEVELS[w[0] - '1'];
	static const char *const alias[][2] = { { "emerg", "emergency" }, { "crit", "critical" }, { "err", "error" }, { "warn", "warning" } };
	for (unsigned i = 0; i < 8; i++)
		if (strcmp(w, LOG_LEVELS[i]) == 0)
			return LOG_LEVELS[i];
	for (unsigned i = 0; i < 4; i++)
		if (strcmp(w, alias[i][0]) == 0)
			return alias[i][1];
	return NULL;
}

/* ---- sections -------------------------------------------------------------------------- */

static int push(const char *a)
{
	if (C.argc >= MAX_ARGS - 1 || !(C.argv[C.argc] = strdup(a)))
		return bad("dpdk", NULL, "too many EAL arguments");
	C.argc++;
	return 0;
}

static int dpdk_section(struct section *s)
{
	static const char *const known[] = { "lcore_mask", "lcores", "memory", "no_huge", "file_prefix", "vdev", "allow",
					     "idle_sleep", "pkt_tx_delay", "log_level", "log", "nb_mbuf", "extra_args", NULL };
	static const char *const repeatable[] = { "vdev", "allow", NULL };
	struct section empty = { .name = "dpdk" };
	if (!s)
		s = &empty;
	if (check_keys(s, known, repeatable) < 0)
		return -1;
	mask_t mask = 0;
	const char *map, *prefix, *level, *extra, *huge, *sink;
	long long memory, mbufs, idle, txd;
	if (parse_mask(s, &mask) < 0 || scalar(s, "lcores", &map) < 0 || (map && parse_lcore_map(map, mask) < 0) ||
	    int_key(s, "memory", 256, 64, 1048576, "MB", &memory) < 0 ||
	    int_key(s, "nb_mbuf", 8191, 1023, 16777215, "mbufs", &mbufs) < 0)
		return -1;
	long long pool_mb = (mbufs * MBUF_BYTES + (1 << 20) - 1) >> 20;
	if (pool_mb >= memory)
		return bad("dpdk", "nb_mbuf", "%lld mbufs need about %lld MB, which does not fit in memory = %lld MB (raise memory or lower nb_mbuf)",
			   mbufs, pool_mb, memory);
	if (scalar(s, "file_prefix", &prefix) < 0)
		return -1;
	if (prefix && !matches("^[A-Za-z0-9_-]{1,64}$", prefix))
		return bad("dpdk", "file_prefix", "\"%s\" is not a valid file prefix (1..64 characters from A-Z a-z 0-9 _ -)", prefix);
	const char *vdevs[64], *allow[64];
	unsigned n_vdevs = list(s, "vdev", vdevs, 64), n_allow = list(s, "allow", allow, 64);
	for (unsigned i = 0; i < n_vdevs; i++) {
		if (!*vdevs[i])
			return bad("dpdk", "vdev", "empty entry");
		if (!matches("^[A-Za-z][A-Za-z0-9_]*(,[^[:space:],][^[:space:]]*)?$", vdevs[i]))
			return bad("dpdk", "vdev", "\"%s\" is not a device specification (expected <driver><id>[,key=value...], e.g. net_tap0,iface=ff0)", vdevs[i]);
		size_t len = strcspn(vdevs[i], ",");
		for (unsigned j = 0; j < i; j++)
			if (strcspn(vdevs[j], ",") == len && strncmp(vdevs[i], vdevs[j], len) == 0)
				return bad("dpdk", "vdev", "device %.*s is listed twice", (int)len, vdevs[i]);
	}
	if (n_vdevs > 16)
		return bad("dpdk", "vdev", "at most 16 devices");
	for (unsigned i = 0; i < n_allow; i++) {
		if (!*allow[i])
			return bad("dpdk", "allow", "empty entry");
		if (!matches("^([0-9a-fA-F]{1,8}:)?[0-9a-fA-F]{1,2}:[0-9a-fA-F]{1,2}\\.[0-7](,[^[:space:]]+)?$", allow[i]))
			return bad("dpdk", "allow", "\"%s\" is not a PCI address ([domain:]bus:devid.func[,args], e.g. 0000:01:00.0)", allow[i]);
	}
	if (scalar(s, "log_level", &level) < 0)
		return -1;
	const char *lvl = log_level(level ? level : "notice");
	if (!lvl)
		return bad("dpdk", "log_level", "\"%s\" is not a log level (emerg, alert, crit, err, warning, notice, info, debug, or 1..8)", level);
	if (scalar(s, "log", &sink) < 0)
		return -1;
	if (sink && strcmp(sink, "none") != 0 && strcmp(sink, "stderr") != 0 && strcmp(sink, "syslog") != 0 &&
	    !(strncmp(sink, "file:", 5) == 0 && sink[5]))
		return bad("dpdk", "log", "\"%s\" is not a log sink (none, stderr, syslog or file:PATH)", sink);
	if (sink && !(C.log = strdup(sink)))
		return bad("dpdk", "log", "out of memory");
	if (scalar(s, "no_huge", &huge) < 0)
		return -1;
	bool no_huge = true;
	if (huge) {
		const char *t[] = { "true", "yes", "on", "1" }, *f[] = { "false", "no", "off", "0" };
		bool known_word = false;
		for (unsigned i = 0; i < 4; i++) {
			if (strcasecmp(huge, t[i]) == 0)
				known_word = no_huge = true;
			if (strcasecmp(huge, f[i]) == 0)
				known_word = true, no_huge = false;
		}
		if (!known_word)
			return bad("dpdk", "no_huge", "\"%s\" is not a boolean (true/false, yes/no, on/off, 1/0)", huge);
	}
	if (int_key(s, "idle_sleep", 100, 0, 100000, "µs", &idle) < 0 || int_key(s, "pkt_tx_delay", 100, 0, 10000, "µs", &txd) < 0 ||
	    scalar(s, "extra_args", &extra) < 0)
		return -1;

	/* EAL argv, in toNativeConfig's order. */
	char buf[512];
	if (push("ffnet") < 0 || (no_huge && push("--no-huge") < 0))
		return -1;
	snprintf(buf, sizeof(buf), "%lld", memory);
	if (push("-m") < 0 || push(buf) < 0)
		return -1;
	snprintf(buf, sizeof(buf), "ffnet-%d", (int)getpid());
	if (push("--file-prefix") < 0 || push(prefix ? prefix : buf) < 0)
		return -1;
	if (!map) {
		cpu_set_t set;
		int cpus = sched_getaffinity(0, sizeof(set), &set) == 0 ? CPU_COUNT(&set) : (int)sysconf(_SC_NPROCESSORS_ONLN);
		if (cpus < 1)
			cpus = 1;
		int k = cpus == 1 ? snprintf(buf, sizeof(buf), "0@0") : snprintf(buf, sizeof(buf), "0@(0-%d)", cpus - 1);
		for (int id = 1; id <= MAX_LCORE_ID; id++) {
			if (!(mask >> id & 1))
				continue;
			if (id >= cpus)
				return bad("dpdk", "lcore_mask",
					   "lcore %d would be pinned to CPU %d, but this machine has %d CPU%s (0..%d); use lower lcore ids or map them with lcores (e.g. lcores = 0@(0-%d),%d@%d)",
					   id, id, cpus, cpus == 1 ? "" : "s", cpus - 1, cpus - 1, id, cpus - 1);
			k += snprintf(buf + k, sizeof(buf) - (size_t)k, ",%d@%d", id, id);
		}
		map = buf;
	}
	if (push("--lcores") < 0 || push(map) < 0 || push("--main-lcore") < 0 || push("0") < 0 || push("--log-level") < 0 ||
	    push(lvl) < 0)
		return -1;
	for (unsigned i = 0; i < n_vdevs; i++) {
		snprintf(buf, sizeof(buf), "--vdev=%s", vdevs[i]);
		if (push(buf) < 0)
			return -1;
		C.vdevs[i] = C.argv[C.argc - 1] + strlen("--vdev=");
	}
	if (n_allow == 0 && push("--no-pci") < 0)
		return -1;
	for (unsigned i = 0; i < n_allow; i++)
		if (push("-a") < 0 || push(allow[i]) < 0)
			return -1;
	if (extra) {
		static const char *const owned[][2] = {
			{ "-c", "lcore_mask" }, { "-l", "lcore_mask" }, { "--lcores", "lcores" }, { "--main-lcore", "lcore_mask" },
			{ "--master-lcore", "lcore_mask" }, { "-m", "memory" }, { "--no-huge", "no_huge" }, { "--file-prefix", "file_prefix" },
			{ "--vdev", "vdev" }, { "-a", "allow" }, { "--allow", "allow" }, { "--no-pci", "allow" },
		};
		static const char *const printing[] = { "-h", "--help", "-v", "--version" };
		char args[CFG_VALUE_LEN];
		snprintf(args, sizeof(args), "%s", extra);
		bool proc_type_next = false;
		for (char *save, *a = strtok_r(args, " \t", &save); a; a = strtok_r(NULL, " \t", &save)) {
			/* eal_parse_args prints its usage and exits for -h/--help; -v prints the version. */
			for (unsigned i = 0; i < sizeof(printing) / sizeof(printing[0]); i++)
				if (strcmp(a, printing[i]) == 0)
					return bad("dpdk", "extra_args", "\"%s\" makes the EAL print instead of starting (usage or version text); remove it", a);
			if ((proc_type_next && strcmp(a, "secondary") == 0) || strcmp(a, "--proc-type=secondary") == 0)
				return bad("dpdk", "extra_args", "--proc-type secondary is not supported: a stack owns its ports, packet pool and rings, "
								 "so it runs as a primary process (give each process its own file_prefix)");
			proc_type_next = strcmp(a, "--proc-type") == 0;
			for (unsigned i = 0; i < sizeof(owned) / sizeof(owned[0]); i++) {
				const char *o = owned[i][0];
				size_t n = strlen(o);
				bool clash = o[1] == '-' ? strcmp(a, o) == 0 || (strncmp(a, o, n) == 0 && a[n] == '=')
							 : strncmp(a, o, n) == 0 && strncmp(a, "--", 2) != 0;
				if (clash)
					return bad("dpdk", "extra_args", "\"%s\" is set from the %s key; set it there instead", a, owned[i][1]);
			}
			if (push(a) < 0)
				return -1;
		}
	}
	C.argv[C.argc] = NULL;

	struct ffs_conf *c = &C.conf;
	for (int id = 1; id <= MAX_LCORE_ID; id++) {
		if (!(mask >> id & 1))
			continue;
		if (c->n_data_lcores == FFS_MAX_LCORES)
			return bad("dpdk", "lcore_mask", "at most %d data-path lcores", FFS_MAX_LCORES);
		c->data_lcores[c->n_data_lcores++] = (unsigned)id;
	}
	c->idle_sleep_us = (uint32_t)idle;
	c->tx_delay_us = (uint32_t)txd;
	c->nb_mbuf = (uint32_t)mbufs;
	c->n_vdevs = n_vdevs;
	for (unsigned i = 0; i < n_vdevs; i++)
		c->vdevs[i] = C.vdevs[i];
	return 0;
}

/** Why an address cannot be a port's own, or NULL. */
static const char *special(uint32_t a)
{
	unsigned first = a >> 24;
	if (a == 0)
		return "unspecified";
	if (first == 0)
		return "in 0.0.0.0/8, \"this network\"";
	if (first == 127)
		return "loopback";
	if (first >= 224 && first <= 239)
		return "multicast";
	if (a == 0xffffffffu)
		return "limited broadcast";
	if (first >= 240)
		return "reserved";
	return NULL;
}

static int port_section(struct section *s, unsigned id, struct ffs_port_conf *pc)
{
	static const char *const known[] = { "addr", "netmask", "broadcast", "gateway", "mtu", "arp", NULL };
	static const char *const repeatable[] = { "arp", NULL };
	const char *S = s->name;
	if (check_keys(s, known, repeatable) < 0)
		return -1;
	const char *v;
	for (int k = 0; k < 2; k++) {
		if (one(s, known[k], &v) < 0)
			return -1;
		if (!v)
			return bad(S, known[k], "missing (every [portN] section needs addr and netmask)");
	}
	uint32_t addr, mask, bcast, gw;
	bool present;
	char a[16], b[16], subnet[24];
	if (ip_key(s, "addr", &addr, &present) < 0 || scalar(s, "netmask", &v) < 0)
		return -1;
	if (!ipv4_value(v, &mask))
		return bad(S, "netmask", "\"%s\" is not a netmask (expected a dotted mask such as 255.255.255.0)", v);
	if ((~mask & (~mask + 1)) != 0)
		return bad(S, "netmask", "%s is not a contiguous netmask", v);
	if (mask == 0)
		return bad(S, "netmask", "%s leaves no network part (prefix length 0)", v);
	int prefix = __builtin_popcount(mask);
	uint32_t net = addr & mask, all = net | ~mask;
	snprintf(subnet, sizeof(subnet), "%s/%d", fmt_ip(net, a), prefix);
#define IN_SUBNET(x) (((x) & mask) == net)
#define NOT_HOST(x) (prefix < 31 && ((x) == net || (x) == all))
#define NET_OR_BCAST(x) ((x) == net ? "network" : "broadcast")
	if (special(addr))
		return bad(S, "addr", "%s is not usable as a port address (%s)", fmt_ip(addr, a), special(addr));
	if (NOT_HOST(addr))
		return bad(S, "addr", "%s is the %s address of %s, not a host address", fmt_ip(addr, a), NET_OR_BCAST(addr), subnet);
	if (ip_key(s, "broadcast", &bcast, &present) < 0)
		return -1;
	if (!present)
		bcast = all;
	else if (!IN_SUBNET(bcast))
		return bad(S, "broadcast", "%s is not in the port's subnet %s", fmt_ip(bcast, a), subnet);
	else if (bcast == addr && prefix < 32)
		return bad(S, "broadcast", "%s is the port's own address", fmt_ip(bcast, a));
	if (ip_key(s, "gateway", &gw, &present) < 0)
		return -1;
	pc->gateway = 0;
	if (present) {
		if (!IN_SUBNET(gw))
			return bad(S, "gateway", "%s is not in the port's subnet %s", fmt_ip(gw, a), subnet);
		if (gw == addr)
			return bad(S, "gateway", "%s is the port's own address", fmt_ip(gw, a));
		if (NOT_HOST(gw))
			return bad(S, "gateway", "%s is the %s address of %s", fmt_ip(gw, a), NET_OR_BCAST(gw), subnet);
		pc->gateway = gw;
	}
	const char *arps[FFS_MAX_STATIC_ARP + 1];
	unsigned n = list(s, "arp", arps, FFS_MAX_STATIC_ARP + 1);
	if (n > FFS_MAX_STATIC_ARP)
		return bad(S, "arp", "at most %d entries", FFS_MAX_STATIC_ARP);
	for (unsigned i = 0; i < n; i++) {
		char ip[CFG_VALUE_LEN], mac[CFG_VALUE_LEN], extra[2];
		uint32_t e;
		if (!*arps[i])
			return bad(S, "arp", "empty entry");
		if (sscanf(arps[i], "%255s %255s %1s", ip, mac, extra) != 2)
			return bad(S, "arp", "entry \"%s\": expected \"IP MAC\", e.g. \"10.77.0.9 02:00:00:00:00:09\"", arps[i]);
		if (!ipv4_value(ip, &e))
			return bad(S, "arp", "entry \"%s\": \"%s\" is not an IPv4 address", arps[i], ip);
		struct eth_addr ea;
		if (!matches("^[0-9a-fA-F]{2}(:[0-9a-fA-F]{2}){5}$", mac) || eth_addr_parse(mac, &ea) != 0)
			return bad(S, "arp", "entry \"%s\": \"%s\" is not a MAC address (aa:bb:cc:dd:ee:ff)", arps[i], mac);
		for (char *c = mac; *c; c++)
			*c = (char)tolower((unsigned char)*c);
		if (ea.b[0] & 1)
			return bad(S, "arp", "entry \"%s\": %s is not a unicast MAC address", arps[i], mac);
		if (strcmp(mac, "00:00:00:00:00:00") == 0)
			return bad(S, "arp", "entry \"%s\": %s is not a usable MAC address", arps[i], mac);
		if (!IN_SUBNET(e))
			return bad(S, "arp", "entry \"%s\": %s is not in the port's subnet %s", arps[i], fmt_ip(e, b), subnet);
		if (e == addr)
			return bad(S, "arp", "entry \"%s\": %s is the port's own address", arps[i], fmt_ip(e, b));
		if (NOT_HOST(e))
			return bad(S, "arp", "entry \"%s\": %s is the %s address of %s", arps[i], fmt_ip(e, b), NET_OR_BCAST(e), subnet);
		for (unsigned j = 0; j < i; j++)
			if (pc->static_arp[j].addr == e)
				return bad(S, "arp", "entry \"%s\": %s already has an entry", arps[i], fmt_ip(e, b));
		pc->static_arp[i].addr = e;
		pc->static_arp[i].mac = ea;
	}
#undef IN_SUBNET
#undef NOT_HOST
#undef NET_OR_BCAST
	long long mtu;
	if (int_key(s, "mtu", 1500, 68, 9000, "bytes", &mtu) < 0)
		return -1;
	pc->port_id = (uint16_t)id;
	pc->addr = addr;
	pc->netmask = mask;
	pc->broadcast = bcast;
	pc->mtu = (uint16_t)mtu;
	pc->n_static_arp = n;
	return 0;
}

static int sysctl_section(struct section *s)
{
	for (unsigned i = 0; s && i < s->n; i++) {
		char name[CFG_NAME_LEN];
		snprintf(name, sizeof(name), "%s", s->e[i].key);
		if (is_list_key(name))
			name[strlen(name) - 2] = '\0';
		int id = ffs_sysctl_find(name);
		if (id < 0) {
			fprintf(stderr, "%s: unknown sysctl \"%s\" in [sysctl] (known: ", C.file, name);
			for (int k = 0; k < FFS_SYSCTL_COUNT; k++)
				fprintf(stderr, "%s%s", k ? ", " : "", ffs_sysctl_table[k].name);
			fprintf(stderr, ")\n");
			return -1;
		}
		for (unsigned j = 0; j < i; j++)
			if (strcmp(s->e[j].key, s->e[i].key) == 0 && !is_list_key(s->e[i].key))
				return bad("sysctl", name, "set more than once (a key may be given once)");
		const struct ffs_sysctl_desc *d = &ffs_sysctl_table[id];
		long long v;
		if (int_key(s, name, d->def, d->min, d->max, d->unit, &v) < 0)
			return -1;
		C.conf.sysctl[id] = v;
	}
	return 0;
}

/** Reads and checks the file into C.conf and C.argv; prints the first problem and returns -1. */
static int read_config(void)
{
	if (load() < 0)
		return -1;
	struct section *dpdk = NULL, *sysctl = NULL, *ports[MAX_PORT_ID + 1] = { 0 };
	for (unsigned i = 0; i < C.n_secs; i++) {
		struct section *s = &C.secs[i];
		unsigned id;
		char tail;
		if (!s->header) {
			if (s->n)
				return fprintf(stderr, "%s: key \"%s\" is outside any section (put it under [dpdk], [portN] or [sysctl])\n",
					       C.file, s->e[0].key), -1;
		} else if (strcmp(s->name, "dpdk") == 0) {
			dpdk = s;
		} else if (strcmp(s->name, "sysctl") == 0) {
			sysctl = s;
		} else if (matches("^port(0|[1-9][0-9]?)$", s->name) && sscanf(s->name + 4, "%u%c", &id, &tail) == 1 &&
			   id <= MAX_PORT_ID) {
			ports[id] = s;
		} else if (matches("^port[0-9]+$", s->name)) {
			fprintf(stderr, "%s: unknown section [%s]: %s is not a DPDK port id (expected [port0]..[port%d], without leading zeros)\n",
				C.file, s->name, s->name + 4, MAX_PORT_ID);
			return -1;
		} else {
			fprintf(stderr, "%s: unknown section [%s] (known sections: [dpdk], [port0]..[port%d], [sysctl])\n", C.file,
				s->name, MAX_PORT_ID);
			return -1;
		}
	}
	ffs_conf_init(&C.conf);
	if (dpdk_section(dpdk) < 0)
		return -1;
	for (unsigned id = 0; id <= MAX_PORT_ID; id++) {
		if (!ports[id])
			continue;
		if (C.conf.n_ports == FFS_MAX_PORTS) {
			char names[(MAX_PORT_ID + 1) * 10] = "";
			unsigned n = 0, last = id;
			for (unsigned j = 0; j <= MAX_PORT_ID; j++) {
				if (!ports[j])
					continue;
				snprintf(names + strlen(names), sizeof(names) - strlen(names), "%s[port%u]", n ? ", " : "", j);
				n++;
				last = j;
			}
			return bad(ports[last]->name, NULL, "%u ports are configured (%s); a stack serves at most %d", n, names, FFS_MAX_PORTS);
		}
		struct ffs_port_conf *pc = &C.conf.ports[C.conf.n_ports];
		if (port_section(ports[id], id, pc) < 0)
			return -1;
		for (unsigned k = 0; k < C.conf.n_ports; k++) {
			char a[16], prev[16];
			if (C.conf.ports[k].addr == pc->addr) {
				snprintf(prev, sizeof(prev), "port%u", C.conf.ports[k].port_id);
				return bad(ports[id]->name, "addr", "%s is already the address of [%s]", fmt_ip(pc->addr, a), prev);
			}
		}
		C.conf.n_ports++;
	}
	return sysctl_section(sysctl);
}

static void forget_config(void)
{
	for (unsigned i = 0; i < C.n_secs; i++)
		free(C.secs[i].e);
	free(C.secs);
	C.secs = NULL;
	C.n_secs = 0;
}

int ff_config_read(const char *path, struct ffs_conf **conf, int *argc, char ***argv)
{
	for (int i = 0; i < C.argc; i++)
		free(C.argv[i]);
	C.argc = 0;
	free(C.log);
	C.log = NULL;
	C.file = path;
	int rc = read_config();
	forget_config();
	*conf = &C.conf;
	*argc = C.argc;
	*argv = C.argv;
	return rc;
}

const char *ff_config_log(void) { return C.log; }
