/*
 * ffnet.ini for C programs: read with DPDK's INI parser (rte_cfgfile) and checked by the rules of
 * the TypeScript loader (config/index.ts, config/schema.ts): the same sections, keys, defaults and
 * ranges, the same error messages (`ffnet.ini: [port0] addr: "10.77.0.300" is not an IPv4 address`),
 * and the same EAL argv as toNativeConfig builds. Nothing is ignored: an unknown section or key, a
 * key given twice, a line the parser would skip or cut short, is an error. The tunables of [sysctl]
 * come from the stack's own table (stack/lcore/sysctl.h), the one the TypeScript loader's is
 * generated from, so both readers know the same names, defaults, ranges and units.
 */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
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
	/** vip_addr values as written, to the end of their line: their ';' separate addresses (F-Stack's
	 *  form) where rte_cfgfile would end the line; in file order, with their sections. */
	struct vip_line {
		char section[CFG_NAME_LEN];
		char val[CFG_VALUE_LEN];
		bool taken;
	} *vip_lines;
	unsigned n_vip_lines;
	int unpinned; /**< the first data-path lcore without a CPU of its own on this machine, or 0 */
	int cpus;     /**< this machine's CPUs, when unpinned is set */
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

/** `s` as JSON.stringify writes it (config/index.ts quotes values so): in double quotes, escaped. */
static const char *quoted(const char *s, char *buf, size_t size)
{
	size_t k = 0;
	buf[k++] = '"';
	for (; *s && k + 8 < size; s++) {
		unsigned char c = (unsigned char)*s;
		const char *esc = c == '"' ? "\\\"" : c == '\\' ? "\\\\" : c == '\n' ? "\\n" : c == '\r' ? "\\r" : c == '\t' ? "\\t" :
				  c == '\b' ? "\\b" : c == '\f' ? "\\f" : NULL;
		if (esc)
			k += (size_t)snprintf(buf + k, size - k, "%s", esc);
		else if (c < 0x20)
			k += (size_t)snprintf(buf + k, size - k, "\\u%04x", c);
		else
			buf[k++] = (char)c;
	}
	buf[k++] = '"';
	buf[k] = '\0';
	return buf;
}

#define QUOTED(s) quoted((s), (char[6 * CFG_VALUE_LEN + 8]){ 0 }, 6 * CFG_VALUE_LEN + 8)

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

static bool is_list_key(const char *key)
{
	size_t n = strlen(key);
	return n > 2 && strcmp(key + n - 2, "[]") == 0;
}

/** The keys of [dpdk] and of [portN], and those of them that take a list. */
static const char *const DPDK_KEYS[] = { "lcore_mask", "lcores", "loop", "localhost", "memory", "no_huge",
					 "huge_dir", "proc_type", "nb_procs", "proc_id",
					 "file_prefix", "vdev", "allow", "idle_sleep", "pkt_tx_delay", "log_level", "log", "nb_mbuf",
					 "extra_args", NULL };
static const char *const PORT_KEYS[] = { "addr", "netmask", "broadcast", "gateway", "route", "vip_addr", "mtu", "vlan_id", "arp", "addr6", "gateway6", "ipv6",
					 "ndp", "exception", "exception_iface", "exception_tcp_port", "exception_udp_port",
					 "exception_udp_unbound", "exception_queue", NULL };
static const char *const REPEATABLE_KEYS[] = { "vdev", "allow", "route", "arp", "addr6", "ndp", NULL };

static bool listed(const char *const names[], const char *name)
{
	for (unsigned i = 0; names[i]; i++)
		if (strcmp(names[i], name) == 0)
			return true;
	return false;
}

/** Refuses a section ffnet does not define; a [portN] whose N is not a port id says so. */
static int check_section(const char *name)
{
	unsigned id;
	if (strcmp(name, "dpdk") == 0 || strcmp(name, "sysctl") == 0 ||
	    (matches("^port(0|[1-9][0-9]?)$", name) && sscanf(name + 4, "%u", &id) == 1 && id <= MAX_PORT_ID))
		return 0;
	if (matches("^port[0-9]+$", name))
		fprintf(stderr, "%s: unknown section [%s]: %s is not a DPDK port id (expected [port0]..[port%d], without leading zeros)\n",
			C.file, name, name + 4, MAX_PORT_ID);
	else
		fprintf(stderr, "%s: unknown section [%s] (known sections: [dpdk], [port0]..[port%d], [sysctl])\n", C.file, name,
			MAX_PORT_ID);
	return -1;
}

/** Refuses a key its section does not define, and a single-valued key given twice (`seen` holds "section\nkey"). */
static int check_key(const char *section, const char *key, char ***seen, unsigned *n_seen)
{
	if (!section)
		return fprintf(stderr, "%s: key \"%s\" is outside any section (put it under [dpdk], [portN] or [sysctl])\n", C.file, key), -1;
	char base[CFG_NAME_LEN];
	snprintf(base, sizeof(base), "%s", key);
	bool list = is_list_key(base);
	if (list)
		base[strlen(base) - 2] = '\0';
	if (strcmp(section, "sysctl") == 0) {
		if (ffs_sysctl_find(base) < 0) {
			fprintf(stderr, "%s: unknown sysctl \"%s\" in [sysctl] (known: ", C.file, base);
			for (int k = 0; k < FFS_SYSCTL_COUNT; k++)
				fprintf(stderr, "%s%s", k ? ", " : "", ffs_sysctl_table[k].name);
			fprintf(stderr, ")\n");
			return -1;
		}
	} else {
		const char *const *known = strcmp(section, "dpdk") == 0 ? DPDK_KEYS : PORT_KEYS;
		if (!listed(known, base))
			return bad_unknown_key(section, base, known);
	}
	if (list)
		return 0;
	char id[2 * CFG_NAME_LEN + 2];
	snprintf(id, sizeof(id), "%s\n%s", section, key);
	for (unsigned i = 0; i < *n_seen; i++)
		if (strcmp((*seen)[i], id) == 0)
			return listed(REPEATABLE_KEYS, key) ? bad(section, key, "set more than once (write \"%s[] = ...\" once per value)", key)
							    : bad(section, key, "set more than once (a key may be given once)");
	char **grown = realloc(*seen, (*n_seen + 1) * sizeof(*grown));
	if (!grown || !(grown[*n_seen] = strdup(id))) {
		if (grown)
			*seen = grown;
		return bad(NULL, NULL, "out of memory");
	}
	*seen = grown;
	++*n_seen;
	return 0;
}

/**
 * Reads the file's structure from top to bottom and refuses the first problem in file order: what
 * rte_cfgfile would skip or cut short (lines without '=', over-long names or values), a line that is
 * not a section header, an unknown section, a key outside any section, an unknown key, a key given
 * twice. Values are checked afterwards. config/index.ts (checkStructure) reads the file the same way.
 */
static bool key_is(const char *key, const char *name);

/** Keeps a vip_addr line's whole value for load(). */
static int keep_vip_line(const char *section, const char *value)
{
	struct vip_line *grown = realloc(C.vip_lines, (C.n_vip_lines + 1) * sizeof(*grown));
	if (!grown)
		return bad(NULL, NULL, "out of memory");
	C.vip_lines = grown;
	struct vip_line *l = &C.vip_lines[C.n_vip_lines++];
	snprintf(l->section, sizeof(l->section), "%s", section);
	snprintf(l->val, sizeof(l->val), "%s", value);
	l->taken = false;
	return 0;
}

/** The next vip_addr value of `section` as written (see keep_vip_line), or NULL. */
static char *take_vip_line(const char *section)
{
	for (unsigned i = 0; i < C.n_vip_lines; i++) {
		struct vip_line *l = &C.vip_lines[i];
		if (!l->taken && strcmp(l->section, section) == 0) {
			l->taken = true;
			return l->val;
		}
	}
	return NULL;
}

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
	char line[4096], section[CFG_NAME_LEN];
	bool in_section = false;
	char **seen = NULL;
	unsigned n_seen = 0;
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
		char whole[sizeof(line)];
		snprintf(whole, sizeof(whole), "%s", s);
		s[strcspn(s, ";")] = '\0';
		s = trim(s);
		char *eq = strchr(s, '=');
		/* vip_addr's ';' separate addresses: its value runs to the end of the line. */
		const char *value = eq ? eq + 1 : NULL;
		if (eq && *s != '[') {
			char key[sizeof(line)];
			snprintf(key, sizeof(key), "%.*s", (int)(eq - s), s);
			if (key_is(trim(key), "vip_addr"))
				value = whole + (eq - s) + 1;
		}
		if (*s == '[') {
			/* A header may be followed by a '#' comment too (rte_cfgfile reads up to the ']'). */
			char *close = strchr(s, ']');
			if (close && *trim(close + 1) == '#')
				close[1] = '\0';
			if (s[strlen(s) - 1] != ']' || strchr(s, ']') != s + strlen(s) - 1 || strlen(s) >= CFG_NAME_LEN) {
				rc = bad(NULL, NULL, "line %u: %s is not a section header", no, s);
			} else {
				s[strlen(s) - 1] = '\0';
				snprintf(section, sizeof(section), "%s", trim(s + 1));
				in_section = true;
				rc = check_section(section);
			}
		} else if (!eq) {
			rc = bad(NULL, NULL, "line %u: \"%s\" has no value (write \"key = value\")", no, s);
		} else if ((size_t)(eq - s) >= CFG_NAME_LEN - 1 || strlen(value) >= CFG_VALUE_LEN - 1) {
			rc = bad(NULL, NULL, "line %u is too long (keys up to %d and values up to %d characters)", no,
				 CFG_NAME_LEN - 2, CFG_VALUE_LEN - 2);
		} else {
			*eq = '\0';
			rc = check_key(in_section ? section : NULL, trim(s), &seen, &n_seen);
			if (rc == 0 && value != eq + 1)
				rc = keep_vip_line(section, value);
		}
	}
	for (unsigned i = 0; i < n_seen; i++)
		free(seen[i]);
	free(seen);
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
			char *v = e[j].value, *whole = key_is(e[j].name, "vip_addr") ? take_vip_line(name) : NULL;
			if (whole)
				v = trim(whole);
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

/* ---- values ---------------------------------------------------------------------------- */

static int parse_int(const char *sec, const char *key, const char *v, long long min, long long max, const char *unit,
		     long long *out)
{
	if (!matches("^[+-]?[0-9]+$", v))
		return bad(sec, key, "%s is not a decimal integer", QUOTED(v));
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

/** A boolean key (true/false, yes/no, on/off, 1/0, any case), `def` when absent. */
static int bool_key(struct section *s, const char *key, bool def, bool *out)
{
	const char *v;
	if (scalar(s, key, &v) < 0)
		return -1;
	*out = def;
	if (!v)
		return 0;
	const char *t[] = { "true", "yes", "on", "1" }, *f[] = { "false", "no", "off", "0" };
	for (unsigned i = 0; i < 4; i++) {
		if (strcasecmp(v, t[i]) == 0)
			return *out = true, 0;
		if (strcasecmp(v, f[i]) == 0)
			return *out = false, 0;
	}
	return bad(s->name, key, "%s is not a boolean (true/false, yes/no, on/off, 1/0)", QUOTED(v));
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
		return bad(s->name, key, "%s is not an IPv4 address", QUOTED(v));
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
		return bad("dpdk", "lcore_mask", "%s is not an lcore mask (hex with 0x, e.g. 0x3, or a decimal integer)", QUOTED(v));
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
	int data = -1;
	for (mask_t b = m; b; b &= b - 1)
		data++;
	if (data > FFS_MAX_LCORES)
		return bad("dpdk", "lcore_mask", "%s names %d data-path lcores (lcores other than 0); a stack runs at most %d",
			   fmt_mask(m, buf), data, FFS_MAX_LCORES);
	*out = m;
	return 0;
}

/** A syntax error in an lcores mapping, worded as config/index.ts words it. */
__attribute__((format(printf, 2, 3))) static int bad_map(const char *s, const char *fmt, ...)
{
	char why[160];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	return bad("dpdk", "lcores", "%s is not an EAL lcore mapping (%s; e.g. 0@(0-1),1@(0-1))", QUOTED(s), why);
}

/** Reads a number at s[*i]; -1 (printed) when there is none. */
static long map_num(const char *s, size_t *i)
{
	if (!isdigit((unsigned char)s[*i]))
		return bad_map(s, "expected a number at position %zu", *i + 1), -1;
	char *end;
	errno = 0;
	unsigned long long n = strtoull(s + *i, &end, 10);
	*i = (size_t)(end - s);
	return errno || n > LONG_MAX ? LONG_MAX : (long)n;
}

struct map_set {
	long lo[64], hi[64];
	unsigned n;
};

/** One set of an lcores mapping: a number, a range a-b, or a parenthesised group of those; -1 (printed) on error. */
static int map_set(const char *s, size_t *i, struct map_set *out)
{
	bool group = s[*i] == '(';
	*i += group;
	out->n = 0;
	do {
		long lo = map_num(s, i), hi = lo;
		if (lo < 0)
			return -1;
		if (s[*i] == '-') {
			++*i;
			if ((hi = map_num(s, i)) < 0)
				return -1;
			if (hi < lo)
				return bad_map(s, "range %ld-%ld runs backwards", lo, hi);
		}
		if (out->n == 64)
			return bad_map(s, "more than 64 entries in a group");
		out->lo[out->n] = lo;
		out->hi[out->n++] = hi;
	} while (group && s[*i] == ',' && ++*i);
	if (group) {
		if (s[*i] != ')')
			return bad_map(s, "expected \")\" at position %zu", *i + 1);
		++*i;
	}
	return 0;
}

/** Checks an EAL --lcores mapping as config/index.ts does; it must name exactly the lcores of the mask. */
static int parse_lcore_map(const char *s, mask_t mask)
{
	char hex[40];
	fmt_mask(mask, hex);
	mask_t mapped = 0;
	size_t i = 0;
	for (;;) {
		struct map_set ids, cpus;
		if (map_set(s, &i, &ids) < 0)
			return -1;
		cpus = ids;
		if (s[i] == '@') {
			i++;
			if (map_set(s, &i, &cpus) < 0)
				return -1;
		}
		for (unsigned r = 0; r < ids.n; r++) {
			for (long id = ids.lo[r]; id <= ids.hi[r]; id++) {
				if (id > MAX_LCORE_ID)
					return bad_map(s, "lcore %ld is above %d", id, MAX_LCORE_ID);
				if (mapped >> id & 1)
					return bad_map(s, "lcore %ld is mapped twice", id);
				mapped |= (mask_t)1 << id;
			}
		}
		for (unsigned r = 0; r < cpus.n; r++)
			if (cpus.hi[r] >= 1024)
				return bad_map(s, "CPU %ld is above 1023", cpus.lo[r] >= 1024 ? cpus.lo[r] : 1024L);
		if (!s[i])
			break;
		if (s[i] != ',') {
			/* The whole character, as config/index.ts names it: a UTF-8 lead byte and its continuation bytes.
			 * Nothing before it is beyond ASCII (that would have stopped the parse), so i + 1 counts characters. */
			char c[5] = { s[i] };
			for (size_t k = 1; k < 4 && ((unsigned char)s[i + k] & 0xc0) == 0x80; k++)
				c[k] = s[i + k];
			return bad_map(s, "unexpected %s at position %zu", QUOTED(c), i + 1);
		}
		i++;
	}
	for (int id = 0; id <= MAX_LCORE_ID; id++)
		if ((mask >> id & 1) && !(mapped >> id & 1))
			return bad("dpdk", "lcores", "%s does not map lcore %d of lcore_mask %s", QUOTED(s), id, hex);
	for (int id = 0; id <= MAX_LCORE_ID; id++)
		if (!(mask >> id & 1) && (mapped >> id & 1))
			return bad("dpdk", "lcores", "%s maps lcore %d, which lcore_mask %s does not include", QUOTED(s), id, hex);
	return 0;
}

/** `[dpdk] loop`: dedicated or inline; inline, every lcore of the mask needs per-lcore state of its own. */
static int parse_loop(struct section *s, mask_t mask, bool *inline_loop)
{
	const char *v;
	if (scalar(s, "loop", &v) < 0)
		return -1;
	*inline_loop = v && strcmp(v, "inline") == 0;
	if (v && !*inline_loop && strcmp(v, "dedicated") != 0)
		return bad("dpdk", "loop", "%s is not a loop mode (dedicated or inline)", QUOTED(v));
	int n = 0;
	for (mask_t b = mask; b; b &= b - 1)
		n++;
	char hex[40];
	if (*inline_loop && n > FFS_MAX_LCORES)
		return bad("dpdk", "loop",
			   "inline turns every lcore of lcore_mask %s on an application thread, %d of them; a stack runs at most %d lcores",
			   fmt_mask(mask, hex), n, FFS_MAX_LCORES);
	return 0;
}

/** `[dpdk] localhost`: both, kernel or stack. Only ffnet/dgram acts on it (config/index.ts); checked here so
 *  that both readers accept and refuse the same files. */
static int check_localhost(struct section *s)
{
	const char *v;
	if (scalar(s, "localhost", &v) < 0)
		return -1;
	if (v && strcmp(v, "both") != 0 && strcmp(v, "kernel") != 0 && strcmp(v, "stack") != 0)
		return bad("dpdk", "localhost", "%s is not a localhost policy (both, kernel or stack)", QUOTED(v));
	return 0;
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

/**
 * Where a multi-process primary maps DPDK's memory, which its secondaries map at the same addresses:
 * above the random hints below 2^46 where V8 (a Node worker) puts its heap (config/index.ts).
 */
#define MULTI_PROCESS_BASE_VA "0x600000000000"

static int push(const char *a)
{
	if (C.argc >= MAX_ARGS - 1 || !(C.argv[C.argc] = strdup(a)))
		return bad("dpdk", NULL, "too many EAL arguments");
	C.argc++;
	return 0;
}

static int dpdk_section(struct section *s)
{
	struct section empty = { .name = "dpdk" };
	if (!s)
		s = &empty;
	mask_t mask = 0;
	const char *map, *prefix, *level, *extra, *sink;
	long long memory, mbufs, idle, txd;
	bool inline_loop;
	if (parse_mask(s, &mask) < 0 || scalar(s, "lcores", &map) < 0 || (map && parse_lcore_map(map, mask) < 0) ||
	    parse_loop(s, mask, &inline_loop) < 0 || check_localhost(s) < 0 || int_key(s, "memory", 256, 64, 1048576, "MB", &memory) < 0 ||
	    int_key(s, "nb_mbuf", 8191, 1023, 16777215, "mbufs", &mbufs) < 0)
		return -1;
	long long pool_mb = (mbufs * MBUF_BYTES + (1 << 20) - 1) >> 20;
	if (pool_mb >= memory)
		return bad("dpdk", "nb_mbuf", "%lld mbufs need about %lld MB, which does not fit in memory = %lld MB (raise memory or lower nb_mbuf)",
			   mbufs, pool_mb, memory);
	/* Multi-process (config/index.ts reads these in the same order). */
	const char *ptype, *proc_id_text, *huge_dir;
	long long nb_procs, proc_id = 0;
	if (scalar(s, "proc_type", &ptype) < 0)
		return -1;
	int proc_type = FFS_PROC_PRIMARY;
	if (ptype && strcmp(ptype, "secondary") == 0)
		proc_type = FFS_PROC_SECONDARY;
	else if (ptype && strcmp(ptype, "auto") == 0)
		proc_type = FFS_PROC_AUTO;
	else if (ptype && strcmp(ptype, "primary") != 0)
		return bad("dpdk", "proc_type", "%s is not a process type (primary, secondary or auto)", QUOTED(ptype));
	if (int_key(s, "nb_procs", 0, 0, 16, "processes", &nb_procs) < 0 || scalar(s, "proc_id", &proc_id_text) < 0 ||
	    (proc_id_text && int_key(s, "proc_id", 0, 1, 16, "", &proc_id) < 0) || scalar(s, "huge_dir", &huge_dir) < 0)
		return -1;
	if (huge_dir && huge_dir[0] != '/')
		return bad("dpdk", "huge_dir", "%s is not an absolute path", QUOTED(huge_dir));
	if (scalar(s, "file_prefix", &prefix) < 0)
		return -1;
	if (prefix && !matches("^[A-Za-z0-9_-]{1,64}$", prefix))
		return bad("dpdk", "file_prefix", "%s is not a valid file prefix (1..64 characters from A-Z a-z 0-9 _ -)", QUOTED(prefix));
	const char *vdevs[64], *allow[64];
	unsigned n_vdevs = list(s, "vdev", vdevs, 64), n_allow = list(s, "allow", allow, 64);
	for (unsigned i = 0; i < n_vdevs; i++) {
		if (!*vdevs[i])
			return bad("dpdk", "vdev", "empty entry");
		if (!matches("^[A-Za-z][A-Za-z0-9_]*(,[^[:space:],][^[:space:]]*)?$", vdevs[i]))
			return bad("dpdk", "vdev", "%s is not a device specification (expected <driver><id>[,key=value...], e.g. net_tap0,iface=ff0)", QUOTED(vdevs[i]));
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
			return bad("dpdk", "allow", "%s is not a PCI address ([domain:]bus:devid.func[,args], e.g. 0000:01:00.0)", QUOTED(allow[i]));
	}
	if (scalar(s, "log_level", &level) < 0)
		return -1;
	const char *lvl = log_level(level ? level : "notice");
	if (!lvl)
		return bad("dpdk", "log_level", "%s is not a log level (emerg, alert, crit, err, warning, notice, info, debug, or 1..8)", QUOTED(level));
	if (scalar(s, "log", &sink) < 0)
		return -1;
	if (sink && strcmp(sink, "none") != 0 && strcmp(sink, "stderr") != 0 && strcmp(sink, "syslog") != 0 &&
	    !(strncmp(sink, "file:", 5) == 0 && sink[5]))
		return bad("dpdk", "log", "%s is not a log sink (none, stderr, syslog or file:PATH)", QUOTED(sink));
	if (sink && !(C.log = strdup(sink)))
		return bad("dpdk", "log", "out of memory");
	bool no_huge;
	if (bool_key(s, "no_huge", true, &no_huge) < 0)
		return -1;
	if (proc_type != FFS_PROC_PRIMARY || nb_procs > 0) {
		if (no_huge)
			return bad("dpdk", "no_huge", "a multi-process stack needs hugepages (a DPDK secondary cannot map --no-huge memory): set no_huge = false");
		if (mask != 1)
			return bad("dpdk", "lcore_mask", "a multi-process stack runs inline, one lcore per process: lcore_mask must be %s, not %s",
				   "0x1", fmt_mask(mask, (char[40]){ 0 }));
	}
	if (proc_type == FFS_PROC_PRIMARY && proc_id_text)
		return bad("dpdk", "proc_id", "only a secondary process serves a queue of its own (proc_type = secondary or auto)");
	if (int_key(s, "idle_sleep", 100, 0, 100000, "µs", &idle) < 0 || int_key(s, "pkt_tx_delay", 100, 0, 10000, "µs", &txd) < 0 ||
	    scalar(s, "extra_args", &extra) < 0)
		return -1;

	/* EAL argv, in toNativeConfig's order. A secondary maps the primary's memory and devices. */
	const bool secondary = proc_type == FFS_PROC_SECONDARY;
	char buf[512];
	if (push("ffnet") < 0 || (no_huge && push("--no-huge") < 0))
		return -1;
	snprintf(buf, sizeof(buf), "%lld", memory);
	if (!secondary && (push("-m") < 0 || push(buf) < 0))
		return -1;
	if (huge_dir && (push("--huge-dir") < 0 || push(huge_dir) < 0))
		return -1;
	/* A worker shares the primary's runtime files: by default, those of its parent. */
	snprintf(buf, sizeof(buf), "ffnet-%d", (int)(proc_type == FFS_PROC_SECONDARY ? getppid() : getpid()));
	if (push("--file-prefix") < 0 || push(prefix ? prefix : buf) < 0)
		return -1;
	if (secondary) {
		/* Its own EAL lcore: proc_id, else 1 (the shared pool has no per-lcore caches to collide in). */
		cpu_set_t set;
		int cpus = sched_getaffinity(0, sizeof(set), &set) == 0 ? CPU_COUNT(&set) : 1;
		int lcore = proc_id ? (int)proc_id : 1;
		char id[8];
		snprintf(id, sizeof(id), "%d", lcore);
		if (cpus > 1)
			snprintf(buf, sizeof(buf), "%d@(0-%d)", lcore, cpus - 1);
		else
			snprintf(buf, sizeof(buf), "%d@0", lcore);
		/* DPDK 22.11's secondary unlinks the primary's telemetry socket and binds its own in its place. */
		if (push("--proc-type") < 0 || push("secondary") < 0 || push("--lcores") < 0 || push(buf) < 0 ||
		    push("--main-lcore") < 0 || push(id) < 0 || push("--no-telemetry") < 0)
			return -1;
		map = "";
	} else if ((proc_type == FFS_PROC_AUTO || nb_procs > 0) &&
		   (push("--proc-type") < 0 || push(proc_type == FFS_PROC_AUTO ? "auto" : "primary") < 0 ||
		    push("--base-virtaddr") < 0 || push(MULTI_PROCESS_BASE_VA) < 0)) {
		return -1;
	}
	if (!map) {
		cpu_set_t set;
		int cpus = sched_getaffinity(0, sizeof(set), &set) == 0 ? CPU_COUNT(&set) : (int)sysconf(_SC_NPROCESSORS_ONLN);
		if (cpus < 1)
			cpus = 1;
		/* lcore 0 and inline lcores float over every CPU; a data-path lcore is pinned to its own. */
		char floating[24];
		if (cpus == 1)
			snprintf(floating, sizeof(floating), "0");
		else
			snprintf(floating, sizeof(floating), "(0-%d)", cpus - 1);
		int k = snprintf(buf, sizeof(buf), "0@%s", floating);
		for (int id = 1; id <= MAX_LCORE_ID; id++) {
			if (!(mask >> id & 1))
				continue;
			if (inline_loop) {
				k += snprintf(buf + k, sizeof(buf) - (size_t)k, ",%d@%s", id, floating);
				continue;
			}
			if (id >= cpus && !C.unpinned) {
				C.unpinned = id;
				C.cpus = cpus;
			}
			k += snprintf(buf + k, sizeof(buf) - (size_t)k, ",%d@%d", id, id);
		}
		map = buf;
	}
	if (!secondary && (push("--lcores") < 0 || push(map) < 0 || push("--main-lcore") < 0 || push("0") < 0))
		return -1;
	if (push("--log-level") < 0 || push(lvl) < 0)
		return -1;
	for (unsigned i = 0; i < n_vdevs && !secondary; i++) {
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
			{ "--proc-type", "proc_type" }, { "--huge-dir", "huge_dir" }, { "--base-virtaddr", "proc_type" },
		};
		static const char *const printing[] = { "-h", "--help", "-v", "--version" };
		char args[CFG_VALUE_LEN];
		snprintf(args, sizeof(args), "%s", extra);
		/* Any whitespace separates arguments, as config/index.ts splits them (/\s+/). */
		static const char *const space = " \t\r\n\v\f";
		for (char *save, *a = strtok_r(args, space, &save); a; a = strtok_r(NULL, space, &save)) {
			/* eal_parse_args prints its usage and exits for -h/--help; -v prints the version. */
			for (unsigned i = 0; i < sizeof(printing) / sizeof(printing[0]); i++)
				if (strcmp(a, printing[i]) == 0)
					return bad("dpdk", "extra_args", "%s makes the EAL print instead of starting (usage or version text); remove it", QUOTED(a));
			for (unsigned i = 0; i < sizeof(owned) / sizeof(owned[0]); i++) {
				const char *o = owned[i][0];
				size_t n = strlen(o);
				bool clash = o[1] == '-' ? strcmp(a, o) == 0 || (strncmp(a, o, n) == 0 && a[n] == '=')
							 : strncmp(a, o, n) == 0 && strncmp(a, "--", 2) != 0;
				if (clash)
					return bad("dpdk", "extra_args", "%s is set from the %s key; set it there instead", QUOTED(a), owned[i][1]);
			}
			if (push(a) < 0)
				return -1;
		}
	}
	C.argv[C.argc] = NULL;

	struct ffs_conf *c = &C.conf;
	for (int id = 0; id <= MAX_LCORE_ID; id++) {
		if (!(mask >> id & 1))
			continue;
		if (inline_loop)
			c->n_inline_lcores++;
		else if (id != 0)
			c->data_lcores[c->n_data_lcores++] = (unsigned)id;
	}
	if (c->n_data_lcores == 0 && c->n_inline_lcores == 0)
		c->n_inline_lcores = 1;
	c->idle_sleep_us = (uint32_t)idle;
	c->tx_delay_us = (uint32_t)txd;
	c->nb_mbuf = (uint32_t)mbufs;
	c->proc_type = proc_type;
	c->nb_procs = (unsigned)nb_procs;
	c->proc_queue = secondary && proc_id ? (int)proc_id - 1 : -1;
	c->n_vdevs = secondary ? 0 : n_vdevs;
	for (unsigned i = 0; i < n_vdevs; i++)
		c->vdevs[i] = C.vdevs[i];
	return 0;
}

/**
 * Splits entry `v` of a static neighbour key (arp, ndp) into its address and MAC texts ("ADDR MAC",
 * `form` naming them with an example). 0, or -1 (printed).
 */
static int neigh_entry_split(const char *S, const char *key, const char *v, const char *form, char *addr, char *mac)
{
	char extra[2];
	if (!*v)
		return bad(S, key, "empty entry");
	if (sscanf(v, "%255s %255s %1s", addr, mac, extra) != 2)
		return bad(S, key, "entry %s: expected %s", QUOTED(v), form);
	return 0;
}

/** The MAC of entry `v` of a static neighbour key: aa:bb:cc:dd:ee:ff, unicast and not zero (lower-cased in place). */
static int neigh_entry_mac(const char *S, const char *key, const char *v, char *mac, struct eth_addr *ea)
{
	if (!matches("^[0-9a-fA-F]{2}(:[0-9a-fA-F]{2}){5}$", mac) || eth_addr_parse(mac, ea) != 0)
		return bad(S, key, "entry %s: %s is not a MAC address (aa:bb:cc:dd:ee:ff)", QUOTED(v), QUOTED(mac));
	for (char *c = mac; *c; c++)
		*c = (char)tolower((unsigned char)*c);
	if (ea->b[0] & 1)
		return bad(S, key, "entry %s: %s is not a unicast MAC address", QUOTED(v), mac);
	if (strcmp(mac, "00:00:00:00:00:00") == 0)
		return bad(S, key, "entry %s: %s is not a usable MAC address", QUOTED(v), mac);
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

/** Why an IPv6 address cannot be a port's own (`own`) or a gateway, or NULL. */
static const char *special6(const struct ip6_addr *a, bool own)
{
	if (ip6_is_unspecified(a))
		return "unspecified";
	if (ip6_is_loopback(a))
		return "loopback";
	if (ip6_is_multicast(a))
		return "multicast";
	if (ip6_is_v4mapped(a))
		return "IPv4-mapped";
	if (own && ip6_is_linklocal(a))
		return "link-local: every port derives its own from its MAC";
	return NULL;
}

/** The port's configured prefixes as "2001:db8::/64, fd00::/48" (or "it has no addr6"), for messages. */
static const char *port_prefixes(const struct ffs_port_conf *pc, char *buf, size_t len)
{
	char p[IP6_ADDRSTRLEN];
	buf[0] = '\0';
	for (unsigned i = 0; i < pc->n_addr6; i++) {
		struct ip6_addr net;
		ip6_mask(&pc->addr6[i].addr, pc->addr6[i].prefixlen, &net);
		snprintf(buf + strlen(buf), len - strlen(buf), "%s%s/%u", i ? ", " : "", ip6_format(&net, p), pc->addr6[i].prefixlen);
	}
	return pc->n_addr6 ? buf : "it has no addr6";
}

/** Whether `a` is one of the port's addr6[] (`own`) and whether it is on-link: link-local, or on one of their prefixes. */
static bool on_port_link(const struct ffs_port_conf *pc, const struct ip6_addr *a, bool *own)
{
	bool on = ip6_is_linklocal(a);
	*own = false;
	for (unsigned i = 0; i < pc->n_addr6; i++) {
		*own |= ip6_eq(&pc->addr6[i].addr, a);
		on |= ip6_prefix_eq(&pc->addr6[i].addr, a, pc->addr6[i].prefixlen);
	}
	return on;
}

#define PREFIXES_LEN (FFS_MAX_CONF_ADDR6 * (IP6_ADDRSTRLEN + 6))

/** The port's ndp[] entries (config/index.ts checks the same, in this order), once addr6[] is known. */
static int ndp_entries(struct section *s, struct ffs_port_conf *pc, const char *const *entries, unsigned n)
{
	const char *S = s->name;
	if (n > FFS_MAX_STATIC_NDP)
		return bad(S, "ndp", "at most %d entries", FFS_MAX_STATIC_NDP);
	for (unsigned i = 0; i < n; i++) {
		char text[CFG_VALUE_LEN], mac[CFG_VALUE_LEN], t[IP6_ADDRSTRLEN], prefixes[PREFIXES_LEN];
		struct ip6_addr a;
		struct eth_addr ea;
		bool own;
		if (neigh_entry_split(S, "ndp", entries[i], "\"ADDR MAC\", e.g. \"fe80::9 02:00:00:00:00:09\"", text, mac) < 0)
			return -1;
		if (ip6_parse(text, &a) != 0)
			return bad(S, "ndp", "entry %s: %s is not an IPv6 address", QUOTED(entries[i]), QUOTED(text));
		if (neigh_entry_mac(S, "ndp", entries[i], mac, &ea) < 0)
			return -1;
		ip6_format(&a, t);
		if (special6(&a, false))
			return bad(S, "ndp", "entry %s: %s is not usable as a neighbour (%s)", QUOTED(entries[i]), t, special6(&a, false));
		bool on = on_port_link(pc, &a, &own);
		if (own)
			return bad(S, "ndp", "entry %s: %s is the port's own address", QUOTED(entries[i]), t);
		if (!on)
			return bad(S, "ndp", "entry %s: %s is neither link-local (fe80::/10) nor on a prefix of the port (%s)",
				   QUOTED(entries[i]), t, port_prefixes(pc, prefixes, sizeof(prefixes)));
		for (unsigned j = 0; j < i; j++)
			if (ip6_eq(&pc->static_ndp[j].addr, &a))
				return bad(S, "ndp", "entry %s: %s already has an entry", QUOTED(entries[i]), t);
		pc->static_ndp[i].addr = a;
		pc->static_ndp[i].mac = ea;
	}
	pc->n_static_ndp = n;
	return 0;
}

/** The port's IPv6 keys (config/index.ts validatePort6 checks the same, in this order): ipv6, each
 *  addr6[] entry in file order, gateway6, each ndp[] entry in file order. */
static int port6_section(struct section *s, struct ffs_port_conf *pc)
{
	const char *S = s->name, *entries[FFS_MAX_CONF_ADDR6 + 1], *ndp[FFS_MAX_STATIC_NDP + 1], *gw;
	bool on;
	if (bool_key(s, "ipv6", true, &on) < 0)
		return -1;
	unsigned n = list(s, "addr6", entries, FFS_MAX_CONF_ADDR6 + 1);
	unsigned n_ndp = list(s, "ndp", ndp, FFS_MAX_STATIC_NDP + 1);
	if (one(s, "gateway6", &gw) < 0)
		return -1;
	if (!on && (n || gw || n_ndp))
		return bad(S, "ipv6", "IPv6 is off on the port, yet %s is set (remove it, or turn IPv6 on)",
			   n ? "addr6" : gw ? "gateway6" : "ndp");
	if (n > FFS_MAX_CONF_ADDR6)
		return bad(S, "addr6", "at most %d entries", FFS_MAX_CONF_ADDR6);
	char t[IP6_ADDRSTRLEN];
	for (unsigned i = 0; i < n; i++) {
		const char *v = entries[i], *slash = strrchr(v, '/');
		if (!*v)
			return bad(S, "addr6", "empty entry");
		if (!slash || strchr(v, '/') != slash || !matches("^(0|[1-9][0-9]{0,2})$", slash + 1))
			return bad(S, "addr6", "%s is not an IPv6 address with a prefix length (ADDR/PREFIXLEN, e.g. 2001:db8::2/64)", QUOTED(v));
		char text[CFG_VALUE_LEN];
		snprintf(text, sizeof(text), "%.*s", (int)(slash - v), v);
		struct ip6_addr a;
		if (ip6_parse(text, &a) != 0)
			return bad(S, "addr6", "%s: %s is not an IPv6 address", QUOTED(v), QUOTED(text));
		unsigned len = (unsigned)atoi(slash + 1);
		ip6_format(&a, t);
		if (len < 1 || len > 128)
			return bad(S, "addr6", "%s/%u: prefix length %u is out of range (1..128)", t, len, len);
		if (special6(&a, true))
			return bad(S, "addr6", "%s is not usable as a port address (%s)", t, special6(&a, true));
		struct ip6_addr net;
		ip6_mask(&a, len, &net);
		if (len < 127 && ip6_eq(&net, &a)) /* RFC 4291 §2.6.1; RFC 6164 lets a /127 use both */
			return bad(S, "addr6", "%s is the subnet-router anycast address of %s/%u, not a host address", t, t, len);
		for (unsigned j = 0; j < i; j++)
			if (ip6_eq(&pc->addr6[j].addr, &a))
				return bad(S, "addr6", "%s is listed twice", t);
		pc->addr6[i].addr = a;
		pc->addr6[i].prefixlen = (uint8_t)len;
	}
	pc->n_addr6 = n;
	pc->ipv6_off = !on;
	pc->gateway6 = IP6_ANY;
	if (gw) {
		struct ip6_addr g;
		bool own;
		char prefixes[PREFIXES_LEN];
		if (!*gw)
			return bad(S, "gateway6", "empty value (remove the line to use the default)");
		if (ip6_parse(gw, &g) != 0)
			return bad(S, "gateway6", "%s is not an IPv6 address", QUOTED(gw));
		ip6_format(&g, t);
		if (special6(&g, false))
			return bad(S, "gateway6", "%s is not usable as a gateway (%s)", t, special6(&g, false));
		bool on_link = on_port_link(pc, &g, &own);
		if (own)
			return bad(S, "gateway6", "%s is the port's own address", t);
		if (!on_link)
			return bad(S, "gateway6", "%s is neither link-local (fe80::/10) nor on a prefix of the port (%s)", t,
				   port_prefixes(pc, prefixes, sizeof(prefixes)));
		pc->gateway6 = g;
	}
	return ndp_entries(s, pc, ndp, n_ndp);
}

/** A filter of transport ports, "22,80,8000-8100" (empty or absent: every port). Entries checked in order. */
static int port_ranges_key(struct section *s, const char *key, struct ffs_port_ranges *out)
{
	const char *v;
	out->n = 0;
	if (one(s, key, &v) < 0)
		return -1;
	if (!v || !*v)
		return 0;
	char buf[CFG_VALUE_LEN];
	snprintf(buf, sizeof(buf), "%s", v);
	for (char *item = buf, *next; item; item = next) {
		next = strchr(item, ',');
		if (next)
			*next++ = '\0';
		item = trim(item);
		if (!matches("^[0-9]{1,5}(-[0-9]{1,5})?$", item))
			return bad(s->name, key, "entry %s is not a port or a range of ports (e.g. 22 or 8000-8100; entries separated by ',')",
				   QUOTED(item));
		unsigned long lo = strtoul(item, NULL, 10), hi = lo;
		if (strchr(item, '-'))
			hi = strtoul(strchr(item, '-') + 1, NULL, 10);
		if (lo < 1 || lo > 65535 || hi < 1 || hi > 65535)
			return bad(s->name, key, "entry %s is out of range (1..65535)", QUOTED(item));
		if (hi < lo)
			return bad(s->name, key, "entry %s ends before it starts", QUOTED(item));
		if (out->n == FFS_MAX_EXC_PORT_RANGES)
			return bad(s->name, key, "at most %d entries", FFS_MAX_EXC_PORT_RANGES);
		out->r[out->n].lo = (uint16_t)lo;
		out->r[out->n].hi = (uint16_t)hi;
		out->n++;
	}
	return 0;
}

/** The port's exception-path keys (config/index.ts validatePortException checks the same, in this
 *  order): exception, then whether the others may be set, exception_iface, exception_tcp_port,
 *  exception_udp_port, exception_udp_unbound, exception_queue. */
static int port_exception_section(struct section *s, unsigned id, struct ffs_port_conf *pc)
{
	static const char *const OTHERS[] = { "exception_iface", "exception_tcp_port", "exception_udp_port",
					      "exception_udp_unbound", "exception_queue", NULL };
	const char *S = s->name, *v;
	if (scalar(s, "exception", &v) < 0)
		return -1;
	pc->exception = FFS_EXC_NONE;
	if (v && strcmp(v, "tap") == 0)
		pc->exception = FFS_EXC_TAP;
	else if (v && strcmp(v, "virtio-user") == 0)
		pc->exception = FFS_EXC_VIRTIO_USER;
	else if (v && strcmp(v, "none") != 0)
		return bad(S, "exception", "%s is not an exception path (none, tap or virtio-user)", QUOTED(v));
	if (pc->exception == FFS_EXC_NONE) {
		for (unsigned i = 0; OTHERS[i]; i++) {
			const char *o;
			if (one(s, OTHERS[i], &o) < 0)
				return -1;
			if (o)
				return bad(S, "exception", "the exception path is off (none), yet %s is set (remove it, or set exception = tap or virtio-user)",
					   OTHERS[i]);
		}
		return 0;
	}
	if (scalar(s, "exception_iface", &v) < 0)
		return -1;
	if (v && strlen(v) > 15)
		return bad(S, "exception_iface", "%s is longer than 15 characters (a kernel interface name)", QUOTED(v));
	if (v && !matches("^[A-Za-z0-9_][A-Za-z0-9_.-]*$", v))
		return bad(S, "exception_iface", "%s is not an interface name (letters, digits, '_', '.' and '-', not first '.' or '-')",
			   QUOTED(v));
	if (v)
		snprintf(pc->exception_iface, sizeof(pc->exception_iface), "%s", v);
	else
		snprintf(pc->exception_iface, sizeof(pc->exception_iface), "ffx%u", id);
	long long queue;
	if (port_ranges_key(s, "exception_tcp_port", &pc->exc_tcp) < 0 ||
	    port_ranges_key(s, "exception_udp_port", &pc->exc_udp) < 0 ||
	    bool_key(s, "exception_udp_unbound", true, &pc->exc_udp_unbound) < 0 ||
	    int_key(s, "exception_queue", 1024, 8, 65536, "frames", &queue) < 0)
		return -1;
	pc->exc_queue = (uint32_t)queue;
	return 0;
}

/** Whether `a` is on the connected subnet of a port with address `addr` and netmask `mask`: where a
 *  gateway must be (config/index.ts onConnectedSubnet). */
static bool on_connected_subnet(uint32_t addr, uint32_t mask, uint32_t a) { return (a & mask) == (addr & mask); }

/** Why `g` cannot be a gateway of a port with address `addr` and netmask `mask` (`gateway`, and the
 *  via of `route[]`), written into `detail`, or NULL (config/index.ts gatewayProblem). */
static const char *gateway_problem(uint32_t addr, uint32_t mask, uint32_t g, char *detail, size_t size)
{
	int len = __builtin_popcount(mask);
	uint32_t net = addr & mask, all = net | ~mask;
	char a[16], subnet[24];
	snprintf(subnet, sizeof(subnet), "%s/%d", fmt_ip(net, a), len);
	if (!on_connected_subnet(addr, mask, g))
		snprintf(detail, size, "is not in the port's subnet %s", subnet);
	else if (g == addr)
		snprintf(detail, size, "is the port's own address");
	else if (len < 31 && (g == net || g == all))
		snprintf(detail, size, "is the %s address of %s", g == net ? "network" : "broadcast", subnet);
	else
		return NULL;
	return detail;
}

/** Whether `a` is one of the port's vip_addr. */
static bool port_has_vip(const struct ffs_port_conf *pc, uint32_t a)
{
	for (unsigned i = 0; i < pc->n_vip; i++)
		if (pc->vip[i].addr == a)
			return true;
	return false;
}

/** Whether `a` is one of the stack's addresses, a port's addr or one of its vip_addr: what a route's src may be
 *  (config/index.ts isLocalAddress). */
static bool is_local_address(const struct ffs_conf *conf, uint32_t a)
{
	for (unsigned i = 0; i < conf->n_ports; i++)
		if (conf->ports[i].addr == a || port_has_vip(&conf->ports[i], a))
			return true;
	return false;
}

#define ROUTE_FORM "\"NET/LEN via GW [src ADDR] [metric N]\", e.g. \"10.99.0.0/16 via 10.77.0.1\""

/** gateway_problem for the via of a route: on the port's subnet, or else on the subnet of one of its
 *  vip_addr (a connected subnet too); config/index.ts routeGatewayProblem gives the same text. */
static const char *route_gateway_problem(const struct ffs_port_conf *pc, uint32_t addr, uint32_t mask, uint32_t g,
					 char *detail, size_t size)
{
	if (!on_connected_subnet(addr, mask, g))
		for (unsigned i = 0; i < pc->n_vip; i++)
			if (on_connected_subnet(pc->vip[i].addr, pc->vip[i].netmask, g))
				return gateway_problem(pc->vip[i].addr, pc->vip[i].netmask, g, detail, size);
	return gateway_problem(addr, mask, g, detail, size);
}

/** One route[] entry of a port with address `addr`, netmask `mask` and further addresses pc->vip, checked
 *  in its own terms, words left to right (config/index.ts parseRouteEntry); src and duplicates: check_routes. */
static int route_entry(const char *S, const char *v, const struct ffs_port_conf *pc, uint32_t addr, uint32_t mask,
		       struct ffs_conf_route *r)
{
	char buf[CFG_VALUE_LEN], *words[CFG_VALUE_LEN / 2 + 1], *save;
	unsigned n = 0;
	snprintf(buf, sizeof(buf), "%s", v);
	for (char *w = strtok_r(buf, " \t", &save); w; w = strtok_r(NULL, " \t", &save))
		words[n++] = w;
	if (n < 3 || n % 2 == 0)
		return bad(S, "route", "entry %s: expected %s", QUOTED(v), ROUTE_FORM);
	uint32_t net = 0;
	unsigned len = 0;
	if (strcmp(words[0], "default") != 0) {
		char *slash = strchr(words[0], '/');
		bool ok = matches("^[^/]+/[0-9]{1,2}$", words[0]);
		if (ok) {
			*slash = '\0';
			ok = ipv4_value(words[0], &net) && (len = (unsigned)atoi(slash + 1)) <= 32;
			*slash = '/';
		}
		if (!ok)
			return bad(S, "route", "entry %s: %s is not a destination (NET/LEN, e.g. 10.99.0.0/16, or default)", QUOTED(v),
				   QUOTED(words[0]));
		if (len < 32 && (net & ((1u << (32 - len)) - 1)) != 0)
			return bad(S, "route", "entry %s: %s has host bits set (the network of a /%u ends in zeros)", QUOTED(v), words[0], len);
	}
	const char *via = NULL, *src = NULL, *metric = NULL;
	for (unsigned i = 1; i < n; i += 2) {
		const char *w = words[i], *val = words[i + 1];
		const char **slot = strcmp(w, "via") == 0 ? &via : strcmp(w, "src") == 0 ? &src : strcmp(w, "metric") == 0 ? &metric : NULL;
		uint32_t ip;
		if (!slot)
			return bad(S, "route", "entry %s: unknown word %s (expected via, src or metric)", QUOTED(v), QUOTED(w));
		if (*slot)
			return bad(S, "route", "entry %s: %s given twice", QUOTED(v), w);
		if (slot == &metric ? !matches("^[0-9]{1,10}$", val) || strtoull(val, NULL, 10) > UINT32_MAX : false)
			return bad(S, "route", "entry %s: %s is not a metric (0..4294967295)", QUOTED(v), QUOTED(val));
		if (slot != &metric && !ipv4_value(val, &ip))
			return bad(S, "route", "entry %s: %s is not an IPv4 address", QUOTED(v), QUOTED(val));
		*slot = val;
	}
	if (!via)
		return bad(S, "route", "entry %s: no gateway (expected %s)", QUOTED(v), ROUTE_FORM);
	char a[16], detail[64];
	*r = (struct ffs_conf_route){ .dest = net, .prefixlen = (uint8_t)len, .metric = metric ? (uint32_t)strtoull(metric, NULL, 10) : 0 };
	ipv4_value(via, &r->gateway);
	if (src)
		ipv4_value(src, &r->src);
	if (route_gateway_problem(pc, addr, mask, r->gateway, detail, sizeof(detail)))
		return bad(S, "route", "entry %s: %s %s", QUOTED(v), fmt_ip(r->gateway, a), detail);
	return 0;
}

/** The routes of every port against the whole stack, in port and file order: at most
 *  FFS_MAX_CONF_ROUTES_TOTAL, each src one of the stack's addresses, no two routes (connected subnets
 *  and the gateway's default route included) to one prefix with one metric (config/index.ts checkRoutes). */
static int check_routes(struct section *const sections[])
{
	const struct ffs_conf *conf = &C.conf;
	struct {
		uint32_t dest, metric;
		unsigned len;
	} taken[FFS_MAX_PORTS + 1 + FFS_MAX_CONF_ROUTES_TOTAL];
	unsigned n = 0, total = 0;
	bool gateway = false;
	for (unsigned i = 0; i < conf->n_ports; i++) {
		const struct ffs_port_conf *pc = &conf->ports[i];
		taken[n].dest = pc->addr & pc->netmask;
		taken[n].metric = 0;
		taken[n++].len = (unsigned)__builtin_popcount(pc->netmask);
		gateway |= pc->gateway != 0;
	}
	if (gateway) {
		taken[n].dest = taken[n].metric = 0;
		taken[n++].len = 0;
	}
	for (unsigned i = 0; i < conf->n_ports; i++) {
		const struct ffs_port_conf *pc = &conf->ports[i];
		struct section *s = sections[pc->port_id];
		const char *entries[FFS_MAX_CONF_ROUTES];
		list(s, "route", entries, FFS_MAX_CONF_ROUTES);
		for (unsigned k = 0; k < pc->n_routes; k++) {
			const struct ffs_conf_route *r = &pc->routes[k];
			char a[16];
			if (++total > FFS_MAX_CONF_ROUTES_TOTAL)
				return bad(s->name, "route", "at most %d routes in all [portN] sections", FFS_MAX_CONF_ROUTES_TOTAL);
			if (r->src && !is_local_address(conf, r->src))
				return bad(s->name, "route", "entry %s: invalid source address %s (not one of the stack's addresses)",
					   QUOTED(entries[k]), fmt_ip(r->src, a));
			for (unsigned j = 0; j < n; j++)
				if (taken[j].dest == r->dest && taken[j].len == r->prefixlen && taken[j].metric == r->metric)
					return bad(s->name, "route", "entry %s: a route to %s/%u of metric %u already exists", QUOTED(entries[k]),
						   fmt_ip(r->dest, a), r->prefixlen, r->metric);
			taken[n].dest = r->dest;
			taken[n].metric = r->metric;
			taken[n++].len = r->prefixlen;
		}
	}
	return 0;
}

/**
 * The port's vip_addr (config/index.ts parseVipAddrs checks the same, in this order): addresses separated
 * by ';' (empty entries skipped), each ADDR or ADDR/PREFIXLEN, without a prefix length the port's. The
 * count first, then each address in order: its form, a usable unicast host address on its subnet, not
 * the port's addr, not listed twice.
 */
static int vip_addrs(struct section *s, struct ffs_port_conf *pc, uint32_t port_addr, unsigned port_prefix)
{
	const char *S = s->name, *v;
	pc->n_vip = 0;
	if (scalar(s, "vip_addr", &v) < 0)
		return -1;
	if (!v)
		return 0;
	char text[CFG_VALUE_LEN], *entries[CFG_VALUE_LEN / 2 + 1];
	unsigned n = 0;
	snprintf(text, sizeof(text), "%s", v);
	for (char *save = NULL, *e = strtok_r(text, ";", &save); e; e = strtok_r(NULL, ";", &save))
		if (*(e = trim(e)))
			entries[n++] = e;
	if (n == 0)
		return bad(S, "vip_addr", "no address (remove the line, or list addresses separated by \";\")");
	if (n > FFS_MAX_VIP)
		return bad(S, "vip_addr", "%u addresses; a port takes at most %d besides addr", n, FFS_MAX_VIP);
	for (unsigned i = 0; i < n; i++) {
		char entry[CFG_VALUE_LEN], t[16], nt[16];
		snprintf(entry, sizeof(entry), "%s", entries[i]);
		char *slash = strchr(entries[i], '/');
		uint32_t a;
		unsigned len = port_prefix;
		if (slash) {
			if (!matches("^(0|[1-9][0-9]?)$", slash + 1))
				return bad(S, "vip_addr", "%s is not an IPv4 address with an optional prefix length (ADDR or ADDR/PREFIXLEN, e.g. 10.77.0.3 or 10.78.0.3/24)",
					   QUOTED(entry));
			len = (unsigned)atoi(slash + 1);
			*slash = '\0';
		}
		if (!ipv4_value(entries[i], &a))
			return bad(S, "vip_addr", "%s is not an IPv4 address with an optional prefix length (ADDR or ADDR/PREFIXLEN, e.g. 10.77.0.3 or 10.78.0.3/24)",
				   QUOTED(entry));
		fmt_ip(a, t);
		if (len < 1 || len > 32)
			return bad(S, "vip_addr", "%s/%u: prefix length %u is out of range (1..32)", t, len, len);
		if (special(a))
			return bad(S, "vip_addr", "%s is not usable as a port address (%s)", t, special(a));
		struct ffs_ifaddr ifa = ffs_ifaddr_of(a, len);
		uint32_t net = a & ifa.netmask;
		if (len < 31 && (a == net || a == (net | ~ifa.netmask)))
			return bad(S, "vip_addr", "%s is the %s address of %s/%u, not a host address", t, a == net ? "network" : "broadcast",
				   fmt_ip(net, nt), len);
		if (a == port_addr)
			return bad(S, "vip_addr", "%s is the port's own address (addr)", t);
		for (unsigned j = 0; j < i; j++)
			if (pc->vip[j].addr == a)
				return bad(S, "vip_addr", "%s is listed twice", t);
		pc->vip[i] = ifa;
		pc->n_vip = i + 1;
	}
	return 0;
}

static int port_section(struct section *s, unsigned id, struct ffs_port_conf *pc)
{
	const char *S = s->name;
	const char *v;
	for (int k = 0; k < 2; k++) {
		if (one(s, PORT_KEYS[k], &v) < 0)
			return -1;
		if (!v)
			return bad(S, PORT_KEYS[k], "missing (every [portN] section needs addr and netmask)");
	}
	uint32_t addr, mask, bcast, gw;
	bool present;
	char a[16], b[16], subnet[24];
	if (ip_key(s, "addr", &addr, &present) < 0 || scalar(s, "netmask", &v) < 0)
		return -1;
	if (!ipv4_value(v, &mask))
		return bad(S, "netmask", "%s is not a netmask (expected a dotted mask such as 255.255.255.0)", QUOTED(v));
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
		char detail[64];
		if (gateway_problem(addr, mask, gw, detail, sizeof(detail)))
			return bad(S, "gateway", "%s %s", fmt_ip(gw, a), detail);
		pc->gateway = gw;
	}
	/* Before route[]: a route's gateway may be on the subnet of one of these addresses. */
	if (vip_addrs(s, pc, addr, (unsigned)prefix) < 0)
		return -1;
	const char *routes[FFS_MAX_CONF_ROUTES + 1];
	unsigned n_routes = list(s, "route", routes, FFS_MAX_CONF_ROUTES + 1);
	if (n_routes > FFS_MAX_CONF_ROUTES)
		return bad(S, "route", "at most %d entries", FFS_MAX_CONF_ROUTES);
	for (unsigned i = 0; i < n_routes; i++) {
		if (!*routes[i])
			return bad(S, "route", "empty entry");
		if (route_entry(S, routes[i], pc, addr, mask, &pc->routes[i]) < 0)
			return -1;
	}
	pc->n_routes = n_routes;
	const char *arps[FFS_MAX_STATIC_ARP + 1];
	unsigned n = list(s, "arp", arps, FFS_MAX_STATIC_ARP + 1);
	if (n > FFS_MAX_STATIC_ARP)
		return bad(S, "arp", "at most %d entries", FFS_MAX_STATIC_ARP);
	for (unsigned i = 0; i < n; i++) {
		char ip[CFG_VALUE_LEN], mac[CFG_VALUE_LEN];
		uint32_t e;
		struct eth_addr ea;
		if (neigh_entry_split(S, "arp", arps[i], "\"IP MAC\", e.g. \"10.77.0.9 02:00:00:00:00:09\"", ip, mac) < 0)
			return -1;
		if (!ipv4_value(ip, &e))
			return bad(S, "arp", "entry %s: %s is not an IPv4 address", QUOTED(arps[i]), QUOTED(ip));
		if (neigh_entry_mac(S, "arp", arps[i], mac, &ea) < 0)
			return -1;
		if (!IN_SUBNET(e))
			return bad(S, "arp", "entry %s: %s is not in the port's subnet %s", QUOTED(arps[i]), fmt_ip(e, b), subnet);
		if (e == addr)
			return bad(S, "arp", "entry %s: %s is the port's own address", QUOTED(arps[i]), fmt_ip(e, b));
		if (NOT_HOST(e))
			return bad(S, "arp", "entry %s: %s is the %s address of %s", QUOTED(arps[i]), fmt_ip(e, b), NET_OR_BCAST(e), subnet);
		for (unsigned j = 0; j < i; j++)
			if (pc->static_arp[j].addr == e)
				return bad(S, "arp", "entry %s: %s already has an entry", QUOTED(arps[i]), fmt_ip(e, b));
		pc->static_arp[i].addr = e;
		pc->static_arp[i].mac = ea;
	}
#undef IN_SUBNET
#undef NOT_HOST
#undef NET_OR_BCAST
	long long mtu, vlan_id;
	if (int_key(s, "mtu", 1500, 68, 9000, "bytes", &mtu) < 0 || int_key(s, "vlan_id", 0, 1, 4094, "", &vlan_id) < 0 ||
	    port6_section(s, pc) < 0 || port_exception_section(s, id, pc) < 0)
		return -1;
	pc->port_id = (uint16_t)id;
	pc->addr = addr;
	pc->netmask = mask;
	pc->broadcast = bcast;
	pc->mtu = (uint16_t)mtu;
	pc->vlan_id = (uint16_t)vlan_id;
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
		unsigned id = 0;
		if (!s->header) {
			if (s->n)
				return fprintf(stderr, "%s: key \"%s\" is outside any section (put it under [dpdk], [portN] or [sysctl])\n",
					       C.file, s->e[0].key), -1;
		} else if (strcmp(s->name, "dpdk") == 0) {
			dpdk = s;
		} else if (strcmp(s->name, "sysctl") == 0) {
			sysctl = s;
		} else {
			sscanf(s->name + 4, "%u", &id);
			ports[id] = s;
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
			if (C.conf.ports[k].addr == pc->addr || port_has_vip(&C.conf.ports[k], pc->addr)) {
				snprintf(prev, sizeof(prev), "port%u", C.conf.ports[k].port_id);
				return bad(ports[id]->name, "addr", "%s is already the address of [%s]", fmt_ip(pc->addr, a), prev);
			}
			for (unsigned i = 0; i < pc->n_addr6; i++) {
				for (unsigned j = 0; j < C.conf.ports[k].n_addr6; j++) {
					char t[IP6_ADDRSTRLEN];
					if (ip6_eq(&pc->addr6[i].addr, &C.conf.ports[k].addr6[j].addr))
						return bad(ports[id]->name, "addr6", "%s is already an address of [port%u]",
							   ip6_format(&pc->addr6[i].addr, t), C.conf.ports[k].port_id);
				}
			}
		}
		for (unsigned i = 0; i < pc->n_vip; i++) {
			for (unsigned k = 0; k < C.conf.n_ports; k++) {
				char a[16];
				if (C.conf.ports[k].addr == pc->vip[i].addr || port_has_vip(&C.conf.ports[k], pc->vip[i].addr))
					return bad(ports[id]->name, "vip_addr", "%s is already an address of [port%u]", fmt_ip(pc->vip[i].addr, a),
						   C.conf.ports[k].port_id);
			}
		}
		for (unsigned k = 0; k < C.conf.n_ports && pc->exception != FFS_EXC_NONE; k++)
			if (C.conf.ports[k].exception != FFS_EXC_NONE && strcmp(C.conf.ports[k].exception_iface, pc->exception_iface) == 0)
				return bad(ports[id]->name, "exception_iface", "%s is already the exception interface of [port%u]",
					   QUOTED(pc->exception_iface), C.conf.ports[k].port_id);
		C.conf.n_ports++;
	}
	if (check_routes(ports) < 0)
		return -1;
	if (sysctl_section(sysctl) < 0)
		return -1;
	/* This machine's CPUs are checked once the file is known to be valid, as toNativeConfig does. */
	if (C.unpinned) {
		int id = C.unpinned, cpus = C.cpus;
		return bad("dpdk", "lcore_mask",
			   "lcore %d would be pinned to CPU %d, but this machine has %d CPU%s (0..%d); use lower lcore ids or map them with lcores (e.g. lcores = 0@(0-%d),%d@%d)",
			   id, id, cpus, cpus == 1 ? "" : "s", cpus - 1, cpus - 1, id, cpus - 1);
	}
	return 0;
}

static void forget_config(void)
{
	for (unsigned i = 0; i < C.n_secs; i++)
		free(C.secs[i].e);
	free(C.secs);
	C.secs = NULL;
	C.n_secs = 0;
	free(C.vip_lines);
	C.vip_lines = NULL;
	C.n_vip_lines = 0;
}

int ff_config_read(const char *path, struct ffs_conf **conf, int *argc, char ***argv)
{
	for (int i = 0; i < C.argc; i++)
		free(C.argv[i]);
	C.argc = 0;
	free(C.log);
	C.log = NULL;
	C.file = path;
	C.unpinned = 0;
	int rc = read_config();
	forget_config();
	*conf = &C.conf;
	*argc = C.argc;
	*argv = C.argv;
	return rc;
}

const char *ff_config_log(void) { return C.log; }
