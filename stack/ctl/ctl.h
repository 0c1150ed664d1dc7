/*
 * The control server: how `ffnet` tools in other processes see and steer a running stack.
 *
 * Every stack process (a Node program or a C program on ff_init) listens on a Unix stream socket,
 * <EAL runtime dir>/ffnet.<pid>.sock: mode 0600 inside the EAL's own 0700 runtime directory, so only
 * the stack's user (and root) may connect; anyone else gets EACCES at connect, never a hang. A
 * socket nobody listens on any more (a crashed process) refuses connections: tools skip it.
 *
 * Requests are answered by the server's own threads (one per connection), never the JavaScript thread,
 * so a blocked event loop does not block the tools. Reads come from state any thread may read
 * (counters, tunables, tables under their locks); changes go through the same calls the application
 * uses, which reach every lcore through its control ring (lcore/ctrl.h).
 *
 * Protocol: one request per line, "COMMAND key=value key=value ...\n" (keys and values without
 * spaces or '='... values may hold '=' after the first), answered by one JSON line:
 *   {"ok":true,"data":<value>}           or   {"ok":false,"code":"ERANGE","error":"one clear line"}
 * A streaming command (capture) writes its reply line, then owns the connection (raw bytes) until it
 * ends. A connection may carry any number of requests.
 *
 * DPDK's telemetry socket carries ffnet's figures too (/ffnet/... commands), so dpdk-telemetry.py
 * reads them; its format cannot carry the tools' tables, hence this socket beside it.
 */
#ifndef FFNET_CTL_CTL_H
#define FFNET_CTL_CTL_H

#include <stdbool.h>
#include <stddef.h>
#include "stack/ctl/json.h"

struct ffs_stack;

#define FFS_CTL_MAX_ARGS 16

/** A parsed request. Strings point into the server's line buffer, valid for the handler's call. */
struct ffs_ctl_req {
	const char *cmd;
	unsigned n_args;
	struct {
		const char *key, *value;
	} args[FFS_CTL_MAX_ARGS];
	int fd;                        /**< the connection: a streaming command writes to it after its reply */
	const volatile bool *stopping; /**< set when the stack stops: a long handler (ping, capture) returns */
};

/** The value of `key`, or NULL when the request does not have it. */
const char *ffs_ctl_arg(const struct ffs_ctl_req *req, const char *key);

/**
 * A command. The handler writes the reply's data (one JSON value) to `out` and returns 0, or returns
 * ffs_ctl_fail(...) (what it wrote is discarded). A streaming handler writes its reply itself with
 * ffs_ctl_reply_ok before streaming, and returns FFS_CTL_STREAMED.
 */
typedef int (*ffs_ctl_fn)(struct ffs_stack *st, const struct ffs_ctl_req *req, struct ffs_json *out);

struct ffs_ctl_cmd {
	const char *name;  /**< "sysctl.set" */
	ffs_ctl_fn fn;
	const char *usage; /**< "name=NAME value=N: sets a tunable" */
};

#define FFS_CTL_STREAMED 1

/**
 * Records an error for the reply and returns -err (err is a positive errno: its name becomes "code",
 * e.g. ENOENT → "ENOENT"; the formatted text becomes "error", one line, naming what was wrong).
 */
int ffs_ctl_fail(struct ffs_json *out, int err, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/** For a streaming handler: writes {"ok":true,"data":<out>} to the connection now. 0 or -errno. */
int ffs_ctl_reply_ok(const struct ffs_ctl_req *req, struct ffs_json *out);

/* The command tables, one per area, each ending with a { NULL } entry (server.c lists them). */
extern const struct ffs_ctl_cmd ffs_ctl_cmds_stack[];   /**< info, stats, sysctl.*, sockets (ctl/stack_cmds.c) */
extern const struct ffs_ctl_cmd ffs_ctl_cmds_iface[];   /**< ifconfig*, arp.*, route.*, ping (ctl/iface_cmds.c) */
extern const struct ffs_ctl_cmd ffs_ctl_cmds_capture[]; /**< capture (ctl/capture_cmds.c) */

/**
 * Starts the server for a stack that just started (ffs_stack_start calls it): creates the socket and
 * its accept thread, and registers the /ffnet/ telemetry commands. 0, or -1 with a message in err
 * (the stack still runs: tools will not see it, and the message says why).
 */
int ffs_ctl_start(struct ffs_stack *st, char *err, size_t errlen);

/**
 * Stops the server before its stack stops (ffs_stack_stop calls it first): closes the socket, ends
 * every connection (long handlers see req->stopping) and waits for its threads, then unlinks the path.
 */
void ffs_ctl_stop(struct ffs_stack *st);

/** The socket's path, or "" when the server is not running. */
const char *ffs_ctl_path(const struct ffs_stack *st);

#endif
