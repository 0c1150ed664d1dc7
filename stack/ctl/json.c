/*
 * The control server's JSON writer (see json.h): values appended to a growable buffer, commas and
 * string escapes (RFC 8259 §7) inserted here so handlers write structure only.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "stack/ctl/json.h"

void ffs_json_init(struct ffs_json *j)
{
	memset(j, 0, sizeof(*j));
	j->first[0] = true;
}

void ffs_json_free(struct ffs_json *j)
{
	free(j->buf);
	ffs_json_init(j);
}

void ffs_json_reset(struct ffs_json *j)
{
	char *buf = j->buf;
	size_t cap = j->cap;
	ffs_json_init(j);
	j->buf = buf;
	j->cap = cap;
	if (buf)
		buf[0] = '\0';
}

/** Makes room for n more bytes and the terminating NUL; false (sticky) when memory ran out. */
static bool reserve(struct ffs_json *j, size_t n)
{
	if (j->failed)
		return false;
	if (j->len + n + 1 <= j->cap)
		return true;
	size_t cap = j->cap ? j->cap : 256;
	while (cap < j->len + n + 1)
		cap *= 2;
	char *buf = realloc(j->buf, cap);
	if (!buf) {
		j->failed = true;
		return false;
	}
	j->buf = buf;
	j->cap = cap;
	return true;
}

static void append(struct ffs_json *j, const char *s, size_t n)
{
	if (!reserve(j, n))
		return;
	memcpy(j->buf + j->len, s, n);
	j->len += n;
	j->buf[j->len] = '\0';
}

static void appendf(struct ffs_json *j, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void appendf(struct ffs_json *j, const char *fmt, ...)
{
	char tmp[64];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	if (n > 0)
		append(j, tmp, (size_t)n < sizeof(tmp) ? (size_t)n : sizeof(tmp) - 1);
}

/** Before a value: the comma that separates it from the previous one at this depth. */
static void value_sep(struct ffs_json *j)
{
	if (j->after_key) {
		j->after_key = false;
		return;
	}
	if (!j->first[j->depth])
		append(j, ",", 1);
	j->first[j->depth] = false;
}

static void open(struct ffs_json *j, char c)
{
	value_sep(j);
	append(j, &c, 1);
	if (j->depth + 1 >= FFS_JSON_MAX_DEPTH) {
		j->failed = true; /* deeper than any reply the server builds: a handler bug, not data */
		return;
	}
	j->first[++j->depth] = true;
}

static void close_(struct ffs_json *j, char c)
{
	append(j, &c, 1);
	if (j->depth > 0)
		j->depth--;
}

void ffs_json_obj_begin(struct ffs_json *j) { open(j, '{'); }
void ffs_json_obj_end(struct ffs_json *j) { close_(j, '}'); }
void ffs_json_arr_begin(struct ffs_json *j) { open(j, '['); }
void ffs_json_arr_end(struct ffs_json *j) { close_(j, ']'); }

static void string(struct ffs_json *j, const char *s)
{
	append(j, "\"", 1);
	for (const unsigned char *p = (const unsigned char *)(s ? s : ""); *p; p++) {
		switch (*p) {
		case '"': append(j, "\\\"", 2); break;
		case '\\': append(j, "\\\\", 2); break;
		case '\n': append(j, "\\n", 2); break;
		case '\r': append(j, "\\r", 2); break;
		case '\t': append(j, "\\t", 2); break;
		default:
			/* RFC 8259 §7: control characters must be escaped; bytes ≥ 0x80 pass as UTF-8. */
			if (*p < 0x20)
				appendf(j, "\\u%04x", *p);
			else
				append(j, (const char *)p, 1);
		}
	}
	append(j, "\"", 1);
}

void ffs_json_key(struct ffs_json *j, const char *key)
{
	value_sep(j);
	string(j, key);
	append(j, ":", 1);
	j->after_key = true;
}

void ffs_json_str(struct ffs_json *j, const char *s)
{
	value_sep(j);
	string(j, s);
}

void ffs_json_u64(struct ffs_json *j, uint64_t v)
{
	value_sep(j);
	appendf(j, "%" PRIu64, v);
}

void ffs_json_i64(struct ffs_json *j, int64_t v)
{
	value_sep(j);
	appendf(j, "%" PRId64, v);
}

void ffs_json_double(struct ffs_json *j, double v)
{
	value_sep(j);
	/* JSON has no NaN or infinity (RFC 8259 §6). */
	if (!isfinite(v))
		append(j, "null", 4);
	else
		appendf(j, "%.17g", v);
}

void ffs_json_bool(struct ffs_json *j, bool v)
{
	value_sep(j);
	append(j, v ? "true" : "false", v ? 4 : 5);
}

void ffs_json_null(struct ffs_json *j)
{
	value_sep(j);
	append(j, "null", 4);
}

void ffs_json_ipv4(struct ffs_json *j, uint32_t addr)
{
	value_sep(j);
	appendf(j, "\"%u.%u.%u.%u\"", addr >> 24, (addr >> 16) & 0xff, (addr >> 8) & 0xff, addr & 0xff);
}

void ffs_json_mac(struct ffs_json *j, const struct eth_addr *mac)
{
	value_sep(j);
	appendf(j, "\"%02x:%02x:%02x:%02x:%02x:%02x\"", mac->b[0], mac->b[1], mac->b[2], mac->b[3], mac->b[4], mac->b[5]);
}

void ffs_json_kv_str(struct ffs_json *j, const char *key, const char *s) { ffs_json_key(j, key); ffs_json_str(j, s); }
void ffs_json_kv_u64(struct ffs_json *j, const char *key, uint64_t v) { ffs_json_key(j, key); ffs_json_u64(j, v); }
void ffs_json_kv_i64(struct ffs_json *j, const char *key, int64_t v) { ffs_json_key(j, key); ffs_json_i64(j, v); }
void ffs_json_kv_double(struct ffs_json *j, const char *key, double v) { ffs_json_key(j, key); ffs_json_double(j, v); }
void ffs_json_kv_bool(struct ffs_json *j, const char *key, bool v) { ffs_json_key(j, key); ffs_json_bool(j, v); }
void ffs_json_kv_ipv4(struct ffs_json *j, const char *key, uint32_t addr) { ffs_json_key(j, key); ffs_json_ipv4(j, addr); }
void ffs_json_kv_mac(struct ffs_json *j, const char *key, const struct eth_addr *mac) { ffs_json_key(j, key); ffs_json_mac(j, mac); }
