/*
 * The control commands' request values (ctl.h: "key=value" text) parsed into numbers and addresses,
 * one way for every command, so that each rejects the same malformed text.
 */
#ifndef FFNET_CTL_ARGS_H
#define FFNET_CTL_ARGS_H

#include <stdbool.h>
#include <stdint.h>

/** An unsigned decimal in [min, max] into *out; false when absent, signed, malformed or out of range. */
bool ffs_ctl_parse_uint(const char *s, uint64_t min, uint64_t max, uint64_t *out);

/** A dotted quad into *out (host order); false when `s` is absent or not one. */
bool ffs_ctl_parse_ipv4(const char *s, uint32_t *out);

/** "A.B.C.D/LEN" (or "default" when `dflt`: 0.0.0.0/0) into *addr (host order) and *len. */
bool ffs_ctl_parse_prefix(const char *s, bool dflt, uint32_t *addr, unsigned *len);

#endif
