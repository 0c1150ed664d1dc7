/*
 * The capture command of the control server (ctl.h): `capture [port=N] [count=N] [filter=B64]
 * [snaplen=N]` answers one JSON line describing the capture, then streams pcapng on the connection
 * (phy/capture.h) until `count` frames are written, the tool closes its end or the stack stops. The
 * filter is a pcap-filter expression in base64url (RFC 4648 §5), since a request's values hold no
 * spaces.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "stack/ctl/args.h"
#include "stack/ctl/ctl.h"
#include "stack/ctl/report.h"
#include "stack/lcore/lcore.h"
#include "stack/phy/capture.h"

/** Longest filter expression accepted, decoded. */
#define MAX_FILTER 4096

/** Decodes base64url (padding optional) into out, NUL-terminated. false on a character outside the
 *  alphabet, a bad length, or a decoded NUL. */
static bool base64url_decode(const char *in, char *out, size_t cap)
{
	size_t n = 0;
	uint32_t acc = 0;
	unsigned bits = 0;
	for (const char *p = in; *p && *p != '='; p++) {
		int v = *p >= 'A' && *p <= 'Z' ? *p - 'A'
		      : *p >= 'a' && *p <= 'z' ? *p - 'a' + 26
		      : *p >= '0' && *p <= '9' ? *p - '0' + 52
		      : *p == '-' ? 62 : *p == '_' ? 63 : -1;
		if (v < 0)
			return false;
		acc = (acc << 6) | (uint32_t)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			char c = (char)((acc >> bits) & 0xff);
			if (c == '\0' || n + 1 >= cap)
				return false;
			out[n++] = c;
		}
	}
	out[n] = '\0';
	return bits < 6; /* a lone sextet is no byte */
}

static int cmd_capture(struct ffs_stack *st, const struct ffs_ctl_req *req, struct ffs_json *out)
{
	const char *port_arg = ffs_ctl_arg(req, "port"), *count_arg = ffs_ctl_arg(req, "count");
	const char *filter_arg = ffs_ctl_arg(req, "filter"), *snap_arg = ffs_ctl_arg(req, "snaplen");
	struct ffs_capture_conf conf = { .port = -1 };
	uint64_t v, count = 0;
	if (port_arg) {
		const char *digits = strncmp(port_arg, "port", 4) == 0 ? port_arg + 4 : port_arg;
		if (!ffs_ctl_parse_uint(digits, 0, FFS_MAX_PORTS * 1000u, &v))
			return ffs_ctl_fail(out, EINVAL, "'%s' is not a port (port0, port1, ...)", port_arg);
		conf.port = (int)v;
	}
	if (count_arg && !ffs_ctl_parse_uint(count_arg, 0, UINT64_MAX, &count))
		return ffs_ctl_fail(out, EINVAL, "count '%s' is not a number of frames", count_arg);
	if (snap_arg) {
		if (!ffs_ctl_parse_uint(snap_arg, 1, FFS_CAPTURE_SNAPLEN_MAX, &v))
			return ffs_ctl_fail(out, ERANGE, "snaplen '%s' is out of range (1..%d bytes)", snap_arg, FFS_CAPTURE_SNAPLEN_MAX);
		conf.snaplen = (uint32_t)v;
	}
	char filter[MAX_FILTER];
	if (filter_arg) {
		if (!base64url_decode(filter_arg, filter, sizeof(filter)))
			return ffs_ctl_fail(out, EINVAL, "the filter is not a pcap-filter expression in base64url");
		conf.filter = filter;
	}
	char err[512];
	struct ffs_capture *cap;
	int rc = ffs_capture_open(st, &conf, &cap, err, sizeof(err));
	if (rc < 0)
		return ffs_ctl_fail(out, -rc, "%s", err);

	ffs_json_obj_begin(out);
	ffs_json_key(out, "ports");
	ffs_json_arr_begin(out);
	for (unsigned p = 0; p < st->n_ports; p++)
		if (conf.port < 0 || (unsigned)conf.port == p)
			ffs_ctl_port_brief(out, st, p);
	ffs_json_arr_end(out);
	ffs_json_kv_u64(out, "snaplen", ffs_capture_snaplen(cap));
	ffs_json_kv_u64(out, "count", count);
	if (conf.filter)
		ffs_json_kv_str(out, "filter", conf.filter);
	else {
		ffs_json_key(out, "filter");
		ffs_json_null(out);
	}
	ffs_json_obj_end(out);
	if (ffs_ctl_reply_ok(req, out) != 0) {
		ffs_capture_close(cap);
		return FFS_CTL_STREAMED;
	}
	struct ffs_capture_result res;
	ffs_capture_stream(cap, req->fd, count, req->stopping, &res);
	return FFS_CTL_STREAMED;
}

const struct ffs_ctl_cmd ffs_ctl_cmds_capture[] = {
	{ "capture", cmd_capture, "[port=N] [count=N] [filter=BASE64URL] [snaplen=N]: streams the frames as pcapng" },
	{ NULL },
};
