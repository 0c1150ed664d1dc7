/*
 * The control server (see ctl.h): a Unix stream socket in the EAL's runtime directory, an accept
 * thread and one thread per connection (at most MAX_CONNS), each reading request lines and writing
 * one JSON reply line per request. Stopping writes a shared eventfd that every thread polls beside
 * its socket, so no thread stays blocked in accept or read; ffs_ctl_stop then joins the accept thread
 * and waits until the last connection thread has let go of the server.
 *
 * Connection threads are detached and counted (live_conns, under lock) rather than joined: a program
 * may end with its stack running, and a finished connection thread nobody joined would then be a
 * leaked thread (ThreadSanitizer reports it). Everything they read is set before the accept thread
 * starts, so no connection sees the server half made.
 */
#define _GNU_SOURCE /* strerrorname_np */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>
#include <rte_eal.h>

#include "stack/ctl/server.h"
#include "stack/lcore/lcore.h"

#define MAX_CONNS 16
/** Longest request line (a capture filter in base64url is the longest argument). */
#define MAX_LINE 8192
/** A client that stops reading its replies is dropped after this long rather than holding a thread. */
#define SEND_TIMEOUT_S 5

struct conn {
	struct ffs_ctl_server *srv;
	int fd;
	bool used; /**< under srv->lock */
};

struct ffs_ctl_server {
	struct ffs_stack *st;
	int listen_fd;
	int stop_fd; /**< eventfd, readable once stopping: wakes every poll */
	volatile bool stopping; /**< accessed with __atomic builtins (ctl.h hands handlers a pointer to it) */
	pthread_t accept_thread;
	pthread_attr_t conn_attr; /**< detached */
	pthread_mutex_t lock;     /**< guards conns[].used and live_conns */
	pthread_cond_t conns_done; /**< signalled when live_conns drops to 0 */
	unsigned live_conns;      /**< connection threads that may still touch the server */
	struct conn conns[MAX_CONNS];
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	uint64_t started_ms;
	struct ffs_ctl_cmdline cmdline;
};

static bool stopping(const struct ffs_ctl_server *srv) { return __atomic_load_n(&srv->stopping, __ATOMIC_ACQUIRE); }

/** Waits until fd is readable (true) or the server stops or poll fails (false). */
static bool wait_readable(const struct ffs_ctl_server *srv, int fd)
{
	for (;;) {
		struct pollfd pfd[2] = { { .fd = fd, .events = POLLIN }, { .fd = srv->stop_fd, .events = POLLIN } };
		if (poll(pfd, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			return false;
		}
		return !pfd[1].revents && !stopping(srv);
	}
}

/** Set by ffs_ctl_fail on the handler's thread: the reply in `out` is already the error object. */
static _Thread_local bool failure_written;

static const struct ffs_ctl_cmd *const tables[] = { ffs_ctl_cmds_stack, ffs_ctl_cmds_iface, ffs_ctl_cmds_capture };

const char *ffs_ctl_arg(const struct ffs_ctl_req *req, const char *key)
{
	for (unsigned i = 0; i < req->n_args; i++)
		if (strcmp(req->args[i].key, key) == 0)
			return req->args[i].value;
	return NULL;
}

static const char *errno_name(int err)
{
	const char *name = strerrorname_np(err);
	return name ? name : "EIO";
}

int ffs_ctl_fail(struct ffs_json *out, int err, const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	/* One line: the client prints it as is. */
	for (char *p = msg; *p; p++)
		if (*p == '\n' || *p == '\r')
			*p = ' ';
	ffs_json_reset(out);
	ffs_json_obj_begin(out);
	ffs_json_kv_bool(out, "ok", false);
	ffs_json_kv_str(out, "code", errno_name(err));
	ffs_json_kv_str(out, "error", msg);
	ffs_json_obj_end(out);
	failure_written = true;
	return -err;
}

/** Writes all of buf; false when the client went away or stopped reading. */
static bool send_all(int fd, const char *buf, size_t len)
{
	while (len > 0) {
		ssize_t n = send(fd, buf, len, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return false;
		buf += n;
		len -= (size_t)n;
	}
	return true;
}

/** Sends {"ok":true,"data":<data>}\n ("null" for an empty reply). */
static int send_ok(int fd, const struct ffs_json *data)
{
	static const char head[] = "{\"ok\":true,\"data\":";
	const char *body = data->len ? data->buf : "null";
	bool ok = send_all(fd, head, sizeof(head) - 1) && send_all(fd, body, strlen(body)) && send_all(fd, "}\n", 2);
	return ok ? 0 : -EPIPE;
}

int ffs_ctl_reply_ok(const struct ffs_ctl_req *req, struct ffs_json *out)
{
	if (ffs_json_failed(out))
		return -ENOMEM;
	return send_ok(req->fd, out);
}

static const struct ffs_ctl_cmd *find_cmd(const char *name)
{
	for (size_t t = 0; t < sizeof(tables) / sizeof(tables[0]); t++)
		for (const struct ffs_ctl_cmd *c = tables[t]; c->name; c++)
			if (strcmp(c->name, name) == 0)
				return c;
	return NULL;
}

/**
 * Splits a request line in place into the command and its key=value arguments. 0, or an error
 * written to out (ffs_ctl_fail).
 */
static int parse_line(char *line, struct ffs_ctl_req *req, struct ffs_json *out)
{
	char *save = NULL;
	req->cmd = strtok_r(line, " \t", &save);
	req->n_args = 0;
	if (!req->cmd)
		return ffs_ctl_fail(out, EINVAL, "empty request");
	for (char *tok; (tok = strtok_r(NULL, " \t", &save));) {
		char *eq = strchr(tok, '=');
		if (!eq || eq == tok)
			return ffs_ctl_fail(out, EINVAL, "argument '%s' is not key=value", tok);
		if (req->n_args == FFS_CTL_MAX_ARGS)
			return ffs_ctl_fail(out, E2BIG, "more than %d arguments", FFS_CTL_MAX_ARGS);
		*eq = '\0';
		req->args[req->n_args].key = tok;
		req->args[req->n_args].value = eq + 1;
		req->n_args++;
	}
	return 0;
}

/**
 * Answers one request line. Returns 0 to keep the connection, or -1 to close it (a streaming
 * command finished, or the client is gone).
 */
static int serve_line(struct ffs_ctl_server *srv, int fd, char *line, struct ffs_json *out)
{
	struct ffs_ctl_req req = { .fd = fd, .stopping = &srv->stopping };
	ffs_json_reset(out);
	failure_written = false;
	int rc = parse_line(line, &req, out);
	if (rc == 0) {
		const struct ffs_ctl_cmd *cmd = find_cmd(req.cmd);
		if (!cmd)
			rc = ffs_ctl_fail(out, ENOENT, "unknown command '%s'", req.cmd);
		else
			rc = cmd->fn(srv->st, &req, out);
	}
	if (rc == FFS_CTL_STREAMED)
		return -1;
	if (rc == 0 && ffs_json_failed(out))
		rc = ffs_ctl_fail(out, ENOMEM, "out of memory building the reply");
	if (rc < 0 && !failure_written)
		ffs_ctl_fail(out, -rc, "%s: %s", req.cmd ? req.cmd : "request", strerror(-rc));
	if (rc < 0)
		return send_all(fd, out->buf, out->len) && send_all(fd, "\n", 1) ? 0 : -1;
	return send_ok(fd, out) == 0 ? 0 : -1;
}

static void *conn_main(void *arg)
{
	struct conn *c = arg;
	struct ffs_ctl_server *srv = c->srv;
	pthread_setname_np(pthread_self(), "ffnet-ctl-conn");
	char *buf = malloc(MAX_LINE);
	struct ffs_json out;
	ffs_json_init(&out);
	size_t len = 0;
	while (buf && !stopping(srv)) {
		if (!wait_readable(srv, c->fd))
			break;
		ssize_t n = recv(c->fd, buf + len, MAX_LINE - len, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		len += (size_t)n;
		bool keep = true;
		char *start = buf;
		for (char *nl; keep && (nl = memchr(start, '\n', len - (size_t)(start - buf)));) {
			*nl = '\0';
			if (nl > start && nl[-1] == '\r')
				nl[-1] = '\0';
			keep = serve_line(srv, c->fd, start, &out) == 0;
			start = nl + 1;
		}
		if (!keep)
			break;
		len -= (size_t)(start - buf);
		memmove(buf, start, len);
		if (len == MAX_LINE) {
			ffs_ctl_fail(&out, E2BIG, "request line longer than %d bytes", MAX_LINE);
			send_all(c->fd, out.buf, out.len);
			send_all(c->fd, "\n", 1);
			break;
		}
	}
	ffs_json_free(&out);
	free(buf);
	close(c->fd);
	/* The last touch of the server: ffs_ctl_stop may free it once live_conns is 0. */
	pthread_mutex_lock(&srv->lock);
	c->used = false;
	if (--srv->live_conns == 0)
		pthread_cond_broadcast(&srv->conns_done);
	pthread_mutex_unlock(&srv->lock);
	return NULL;
}

static void refuse(int fd, int err, const char *msg)
{
	struct ffs_json out;
	ffs_json_init(&out);
	ffs_ctl_fail(&out, err, "%s", msg);
	if (!ffs_json_failed(&out)) {
		send_all(fd, out.buf, out.len);
		send_all(fd, "\n", 1);
	}
	ffs_json_free(&out);
	close(fd);
}

static void *accept_main(void *arg)
{
	struct ffs_ctl_server *srv = arg;
	while (!stopping(srv)) {
		if (!wait_readable(srv, srv->listen_fd))
			break;
		int fd = accept4(srv->listen_fd, NULL, NULL, SOCK_CLOEXEC);
		if (fd < 0)
			continue;
		struct timeval tv = { .tv_sec = SEND_TIMEOUT_S };
		setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
		struct conn *c = NULL;
		pthread_mutex_lock(&srv->lock);
		for (int i = 0; i < MAX_CONNS && !c; i++)
			if (!srv->conns[i].used)
				c = &srv->conns[i];
		if (c) {
			c->srv = srv;
			c->fd = fd;
			c->used = true;
			srv->live_conns++;
		}
		pthread_mutex_unlock(&srv->lock);
		if (!c) {
			refuse(fd, EBUSY, "too many tool connections to this stack (16): try again");
			continue;
		}
		pthread_t thread;
		if (pthread_create(&thread, &srv->conn_attr, conn_main, c) != 0) {
			pthread_mutex_lock(&srv->lock);
			c->used = false;
			srv->live_conns--;
			pthread_mutex_unlock(&srv->lock);
			refuse(fd, EAGAIN, "the stack could not start a thread for this connection");
		}
	}
	return NULL;
}

/**
 * Reads /proc/self/cmdline; the program is `program` when the stack was told it (a runtime knows its
 * script: guessing it from the command line would take an option's value, `node --import X app.js`,
 * for the script), else the executable's base name.
 */
static void read_cmdline(struct ffs_ctl_cmdline *cl, const char *program)
{
	memset(cl, 0, sizeof(*cl));
	int fd = open("/proc/self/cmdline", O_RDONLY | O_CLOEXEC);
	ssize_t n = fd >= 0 ? read(fd, cl->buf, sizeof(cl->buf) - 1) : -1;
	if (fd >= 0)
		close(fd);
	if (n > 0) {
		for (size_t off = 0; off < (size_t)n && cl->argc < sizeof(cl->argv) / sizeof(cl->argv[0]);) {
			cl->argv[cl->argc++] = cl->buf + off;
			off += strlen(cl->buf + off) + 1;
		}
	}
	if (program[0] == '\0') {
		const char *exe = cl->argc ? cl->argv[0] : "?";
		program = strrchr(exe, '/') ? strrchr(exe, '/') + 1 : exe;
	}
	snprintf(cl->program, sizeof(cl->program), "%s", program);
}

static uint64_t unix_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void server_free(struct ffs_ctl_server *srv)
{
	if (srv->listen_fd >= 0)
		close(srv->listen_fd);
	if (srv->stop_fd >= 0)
		close(srv->stop_fd);
	pthread_attr_destroy(&srv->conn_attr);
	pthread_cond_destroy(&srv->conns_done);
	pthread_mutex_destroy(&srv->lock);
	free(srv);
}

int ffs_ctl_start(struct ffs_stack *st, char *err, size_t errlen)
{
	struct ffs_ctl_server *srv = calloc(1, sizeof(*srv));
	if (!srv) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	srv->st = st;
	srv->listen_fd = -1;
	pthread_mutex_init(&srv->lock, NULL);
	pthread_cond_init(&srv->conns_done, NULL);
	pthread_attr_init(&srv->conn_attr);
	pthread_attr_setdetachstate(&srv->conn_attr, PTHREAD_CREATE_DETACHED);
	srv->stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	srv->started_ms = unix_ms();
	read_cmdline(&srv->cmdline, st->conf.program);
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int n = snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/ffnet.%d.sock", rte_eal_get_runtime_dir(), (int)getpid());
	if (n < 0 || (size_t)n >= sizeof(sa.sun_path)) {
		snprintf(err, errlen, "control socket path %s/ffnet.%d.sock is longer than %zu bytes (shorten the file prefix or $XDG_RUNTIME_DIR)",
			 rte_eal_get_runtime_dir(), (int)getpid(), sizeof(sa.sun_path) - 1);
		server_free(srv);
		return -1;
	}
	srv->listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (srv->stop_fd < 0 || srv->listen_fd < 0) {
		snprintf(err, errlen, "control socket: %s", strerror(errno));
		server_free(srv);
		return -1;
	}
	/* A socket left by an earlier process with our pid (it crashed) is nobody's now. */
	unlink(sa.sun_path);
	if (bind(srv->listen_fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 || chmod(sa.sun_path, 0600) != 0 ||
	    listen(srv->listen_fd, MAX_CONNS) != 0) {
		snprintf(err, errlen, "control socket %s: %s", sa.sun_path, strerror(errno));
		unlink(sa.sun_path);
		server_free(srv);
		return -1;
	}
	snprintf(srv->path, sizeof(srv->path), "%s", sa.sun_path);
	/* The server's threads (connection threads inherit the accept thread's mask) take no signals:
	 * the application's handlers and sigwait()s get them on its own threads, as before the server. */
	sigset_t all, saved;
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &saved);
	/* Published before the first connection can read it (info reads st->ctl's command line). */
	st->ctl = srv;
	int rc = pthread_create(&srv->accept_thread, NULL, accept_main, srv);
	pthread_sigmask(SIG_SETMASK, &saved, NULL);
	if (rc != 0) {
		st->ctl = NULL;
		snprintf(err, errlen, "control socket: could not start its thread");
		unlink(srv->path);
		server_free(srv);
		return -1;
	}
	pthread_setname_np(srv->accept_thread, "ffnet-ctl");
	ffs_ctl_telemetry_attach(st);
	return 0;
}

void ffs_ctl_stop(struct ffs_stack *st)
{
	struct ffs_ctl_server *srv = st->ctl;
	if (!srv)
		return;
	ffs_ctl_telemetry_attach(NULL);
	__atomic_store_n(&srv->stopping, true, __ATOMIC_RELEASE);
	uint64_t one = 1;
	ssize_t w = write(srv->stop_fd, &one, sizeof(one));
	(void)w;
	pthread_join(srv->accept_thread, NULL);
	pthread_mutex_lock(&srv->lock);
	while (srv->live_conns > 0)
		pthread_cond_wait(&srv->conns_done, &srv->lock);
	pthread_mutex_unlock(&srv->lock);
	unlink(srv->path);
	st->ctl = NULL;
	server_free(srv);
}

const char *ffs_ctl_path(const struct ffs_stack *st) { return st && st->ctl ? st->ctl->path : ""; }

uint64_t ffs_ctl_started_ms(const struct ffs_stack *st) { return st->ctl ? st->ctl->started_ms : 0; }

const struct ffs_ctl_cmdline *ffs_ctl_cmdline(const struct ffs_stack *st) { return st->ctl ? &st->ctl->cmdline : NULL; }
