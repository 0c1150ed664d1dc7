/*
 * A JSON writer for the control server's replies: a growable buffer and calls that append values,
 * inserting commas and escaping strings, so a handler writes structure, not punctuation.
 *
 *   ffs_json_obj_begin(j);
 *   ffs_json_kv_str(j, "name", "port0");
 *   ffs_json_key(j, "counters"); ffs_json_obj_begin(j); ... ffs_json_obj_end(j);
 *   ffs_json_obj_end(j);
 *
 * Out of memory is sticky (ffs_json_failed) and checked once by the server, not per call.
 */
#ifndef FFNET_CTL_JSON_H
#define FFNET_CTL_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "stack/wire/eth.h"

#define FFS_JSON_MAX_DEPTH 16

struct ffs_json {
	char *buf;
	size_t len, cap;
	bool failed;                          /**< an allocation failed: the text is incomplete */
	unsigned depth;
	bool first[FFS_JSON_MAX_DEPTH];       /**< no value written yet at this depth (no comma due) */
	bool after_key;                       /**< a key was written: the next value needs no comma */
};

void ffs_json_init(struct ffs_json *j);
void ffs_json_free(struct ffs_json *j);
/** Empties the buffer for reuse (keeps its memory). */
void ffs_json_reset(struct ffs_json *j);
static inline bool ffs_json_failed(const struct ffs_json *j) { return j->failed; }

void ffs_json_obj_begin(struct ffs_json *j);
void ffs_json_obj_end(struct ffs_json *j);
void ffs_json_arr_begin(struct ffs_json *j);
void ffs_json_arr_end(struct ffs_json *j);
/** An object key; the next call writes its value. */
void ffs_json_key(struct ffs_json *j, const char *key);

void ffs_json_str(struct ffs_json *j, const char *s);
void ffs_json_u64(struct ffs_json *j, uint64_t v);
void ffs_json_i64(struct ffs_json *j, int64_t v);
void ffs_json_double(struct ffs_json *j, double v);
void ffs_json_bool(struct ffs_json *j, bool v);
void ffs_json_null(struct ffs_json *j);
/** An IPv4 address (host order) as "a.b.c.d". */
void ffs_json_ipv4(struct ffs_json *j, uint32_t addr);
/** A MAC address as "aa:bb:cc:dd:ee:ff". */
void ffs_json_mac(struct ffs_json *j, const struct eth_addr *mac);

/* key + value in one call */
void ffs_json_kv_str(struct ffs_json *j, const char *key, const char *s);
void ffs_json_kv_u64(struct ffs_json *j, const char *key, uint64_t v);
void ffs_json_kv_i64(struct ffs_json *j, const char *key, int64_t v);
void ffs_json_kv_double(struct ffs_json *j, const char *key, double v);
void ffs_json_kv_bool(struct ffs_json *j, const char *key, bool v);
void ffs_json_kv_ipv4(struct ffs_json *j, const char *key, uint32_t addr);
void ffs_json_kv_mac(struct ffs_json *j, const char *key, const struct eth_addr *mac);

#endif
