/*
 * The ff_* socket calls (see ff_api.h): argument checks with Linux's errno, descriptor lookup, and
 * blocking on top of the stack's non-blocking socket layer (stack/sock/sock.h). This is the only
 * place where the stack's negative error codes become errno.
 *
 * Each thread that calls ff_* gets its own application context (thread-local, listed in a registry
 * that ff_app_forget empties when the stack stops): its eventfd wakes that thread's blocked calls
 * (and event loop, through ff_wake_fd), and only that thread drains its ready ring. Any thread may
 * still use any socket: a wait on another thread's socket looks at it again every slice.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <stdarg.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>
#include <rte_lcore.h>
#include <rte_ring.h>

#include "posix/ff_api.h"
#include "posix/ff_internal.h"
#include "stack/lcore/driver.h"
#include "stack/lcore/lcore.h"
#include "stack/sock/sock.h"
#include "stack/wire/ipv4.h"
#include "stack/wire/ipv6.h"
#include "stack/wire/ipv6.h"

/** One thread's application context for one stack. */
struct ff_ctx {
	struct ffs_app *app;
	struct ffs_stack *st;
	unsigned st_id;
	unsigned gen; /**< the registry's generation when it was made */
	/** Eventfd writes owed: an lcore that finds `notified` clear sets it and then writes once; a
	 *  drain that cleared it before the write landed reads that write on a later drain. */
	unsigned owed_writes;
	struct ff_ctx *next;
};

static pthread_mutex_t registry_lock = PTHREAD_MUTEX_INITIALIZER;
static struct ff_ctx *registry;
/** Bumped by ff_app_forget: a thread's context from before is gone. */
static atomic_uint registry_gen;
static _Thread_local struct ff_ctx *thread_ctx;

static inline int fail(int neg_errno)
{
	errno = -neg_errno;
	return -1;
}

/** The calling thread's context for st when it has one (NULL otherwise). */
static struct ff_ctx *ctx_of_thread(const struct ffs_stack *st)
{
	struct ff_ctx *c = thread_ctx;
	if (!c || !st || c->gen != atomic_load_explicit(&registry_gen, memory_order_acquire) || c->st != st || c->st_id != st->id)
		return NULL;
	return c;
}

/** Why the calling thread has no context for st: -ENOTSUP on a multi-process stack it may not use
 *  (ffs_stack_thread_allowed), else -ENOMEM. */
static int no_ctx(const struct ffs_stack *st)
{
	return st && !ffs_stack_thread_allowed(st) ? -ENOTSUP : -ENOMEM;
}

static struct ff_ctx *ctx_for(struct ffs_stack *st)
{
	struct ff_ctx *c = ctx_of_thread(st);
	if (c)
		return c;
	if (!st)
		return NULL;
	c = calloc(1, sizeof(*c));
	struct ffs_app *app = c ? ffs_app_new(st) : NULL;
	if (!app) {
		free(c);
		return NULL;
	}
	c->app = app;
	c->st = st;
	c->st_id = st->id;
	pthread_mutex_lock(&registry_lock);
	c->gen = atomic_load(&registry_gen);
	c->next = registry;
	registry = c;
	pthread_mutex_unlock(&registry_lock);
	/* A context of an earlier stack (stopped without ff_app_forget) stays listed until the next forget. */
	thread_ctx = c;
	return c;
}

struct ffs_app *ff_app(struct ffs_stack *st)
{
	struct ff_ctx *c = ctx_for(st);
	if (c && rte_lcore_id() == LCORE_ID_ANY)
		rte_thread_register();
	return c ? c->app : NULL;
}

void ff_app_forget(void)
{
	pthread_mutex_lock(&registry_lock);
	while (registry) {
		struct ff_ctx *c = registry;
		registry = c->next;
		ffs_app_free(c->st, c->app);
		free(c);
	}
	atomic_fetch_add_explicit(&registry_gen, 1, memory_order_release);
	pthread_mutex_unlock(&registry_lock);
	thread_ctx = NULL;
	ff_epoll_reset();
}

int ff_close_thread_sockets(void)
{
	struct ffs_stack *st = ffs_stack_current();
	struct ff_ctx *c = ctx_of_thread(st);
	if (!c)
		return 0;
	int closed = 0;
	FF_READER();
	for (int fd = 0; fd < FF_MAX_SOCKETS; fd++) {
		struct ffs_sock *so = ff_sock_lookup(st, fd);
		if (so && so->app == c->app && ff_close(fd) == 0)
			closed++;
	}
	return closed;
}

void ff_thread_detach(void)
{
	struct ffs_stack *st = ffs_stack_current();
	if (!st)
		return;
	ff_close_thread_sockets();
	int lcore = ffs_stack_thread_lcore(st);
	if (lcore >= 0)
		ffs_stack_release_lcore(st, (unsigned)lcore);
	struct ff_ctx *c = ctx_of_thread(st);
	if (!c) {
		ffs_app_thread_leave(st);
		return;
	}
	pthread_mutex_lock(&registry_lock);
	for (struct ff_ctx **pp = &registry; *pp; pp = &(*pp)->next) {
		if (*pp == c) {
			*pp = c->next;
			break;
		}
	}
	pthread_mutex_unlock(&registry_lock);
	/* The thread's sockets are closed: no lcore signals this context any more. */
	ffs_app_free(st, c->app);
	free(c);
	thread_ctx = NULL;
	ffs_app_thread_leave(st);
}

int ff_set_lcore(int index)
{
	struct ffs_stack *st = ffs_stack_current();
	if (!st)
		return fail(-ENETDOWN);
	int rc = ffs_stack_claim_lcore(st, index);
	if (rc < 0)
		return fail(rc);
	struct ff_ctx *c = ctx_for(st);
	if (!c) {
		ffs_stack_release_lcore(st, (unsigned)rc);
		return fail(no_ctx(st));
	}
	ffs_app_set_home(st, c->app, (unsigned)rc);
	return rc;
}

int ff_thread_home(int index)
{
	struct ffs_stack *st = ffs_stack_current();
	struct ff_ctx *c = st ? ctx_for(st) : NULL;
	if (!c)
		return fail(st ? no_ctx(st) : -ENETDOWN);
	if (index >= 0)
		ffs_app_set_home(st, c->app, (unsigned)index);
	return (int)c->app->home;
}

int ff_sock_foreign(int fd)
{
	struct ffs_stack *st = ffs_stack_current();
	FF_READER();
	struct ffs_sock *so = ff_sock_lookup(st, fd);
	if (!so)
		return 0;
	struct ff_ctx *c = ctx_of_thread(st);
	return !c || so->app != c->app;
}

/** The stack and the socket behind fd, or NULL with errno set. Inside the caller's FF_READER(). */
static struct ffs_sock *sock_of(int fd, struct ffs_stack **stp)
{
	struct ffs_stack *st = ffs_stack_current();
	if (!st) {
		errno = EBADF;
		return NULL;
	}
	if (!ffs_app_reading()) {
		errno = -no_ctx(st); /* the thread could not be registered with DPDK */
		return NULL;
	}
	struct ffs_sock *so = ff_sock_lookup(st, fd);
	if (!so) {
		errno = fd >= FF_EPOLL_FD_BASE && ff_epoll_exists(fd) ? ENOTSOCK : EBADF;
		return NULL;
	}
	*stp = st;
	return so;
}

unsigned ff_app_take(struct ffs_stack *st, uint32_t *out, unsigned max)
{
	struct ff_ctx *c = ctx_of_thread(st);
	if (!c)
		return 0;
	struct ffs_app *app = c->app;
	/* Nothing signalled since the last drain (most turns of a busy event loop): no eventfd read. */
	if (!atomic_load(&app->notified) && !c->owed_writes && !ffs_ring_nonempty(app->ready))
		return 0;
	uint32_t ids[64];
	unsigned taken = 0;
	unsigned n;
	struct ff_reader r __attribute__((cleanup(ff_reader_leave))) = ff_reader_enter(st);
	/* Re-arm the wake-up: clear `notified`, then read what was written, so that the fd is never
	 * left readable with nothing to report (a level-triggered poller of ff_wake_fd would spin). */
	unsigned owed = c->owed_writes + (ffs_app_rearm(app) ? 1u : 0u);
	if (owed) {
		uint64_t v = 0;
		if (read(app->event_fd, &v, sizeof(v)) == (ssize_t)sizeof(v))
			owed = v >= owed ? 0 : owed - (unsigned)v;
	}
	c->owed_writes = owed;
	while ((n = ffs_app_ready(app, ids, 64)) > 0) {
		for (unsigned i = 0; i < n; i++) {
			struct ffs_sock *so = r.st ? ffs_sock_get(st, ids[i]) : NULL;
			if (so)
				ffs_sock_unlist(so); /* then callers look at the ring */
			if (out && taken < max)
				out[taken++] = ids[i];
		}
	}
	return taken;
}

void ff_app_drain(struct ffs_stack *st)
{
	ff_app_take(st, NULL, 0);
}

static uint64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

int ff_wait(struct ffs_stack *st, bool (*ready)(void *), void *arg, int timeout_ms)
{
	struct ffs_app *app = ff_app(st);
	if (!app)
		return no_ctx(st);
	/* Inline mode on a thread that turns lcores (the one that started the stack, or one that claimed
	 * a lcore): nobody else turns them, so turn them while waiting. */
	bool drive = ffs_stack_thread_drives(st);
	unsigned idle_lcore = ffs_stack_thread_idle_lcore(st);
	uint64_t deadline = timeout_ms < 0 ? UINT64_MAX : now_ms() + (uint64_t)timeout_ms;
	struct ffs_driver d;
	ffs_driver_busy(&d, 0);
	for (;;) {
		/* Between checks this thread holds no socket: closes on other threads need not wait. */
		ffs_app_quiescent(st);
		unsigned work = drive ? ffs_driver_turns(&d, 1, ffs_stack_turn, st) : 0;
		ff_app_drain(st);
		if (ready(arg))
			return 1;
		uint64_t now = now_ms();
		if (timeout_ms == 0 || now >= deadline)
			return 0;
		if (d.backlogged) {
			/* A socket overflowed in that turn: its reader (another thread, maybe on this CPU)
			 * drains before this one takes in more. */
			sched_yield();
			continue;
		}
		if (work)
			continue;
		/* Sleep until a socket is signalled (or, driving, traffic arrives); 10 ms at most, for timers. */
		int slice = deadline - now < 10 ? (int)(deadline - now) : 10;
		struct pollfd fds[2] = { { .fd = app->event_fd, .events = POLLIN },
					 { .fd = drive ? ffs_stack_idle_fd_lcore(st, idle_lcore) : -1, .events = POLLIN } };
		ffs_app_pause(st);
		if (!drive) {
			poll(fds, 1, slice);
		} else if (fds[1].fd < 0) {
			poll(fds, 1, 1); /* no RX interrupts: nap and poll again */
		} else if (ffs_stack_sleep_begin_lcore(st, idle_lcore)) {
			poll(fds, 2, slice);
			ffs_stack_sleep_end_lcore(st, idle_lcore);
		}
		ffs_app_resume(st);
	}
}

int ff_socket(int domain, int type, int protocol)
{
	struct ffs_stack *st = ffs_stack_current();
	if (!st)
		return fail(-ENETDOWN);
	int base = type & 0xf; /* Linux's SOCK_TYPE_MASK */
	if (type & ~(0xf | SOCK_NONBLOCK | SOCK_CLOEXEC))
		return fail(-EINVAL);
	if (domain != AF_INET && domain != AF_INET6)
		return fail(-EAFNOSUPPORT);
	if (base > SOCK_PACKET)
		return fail(-EINVAL);
	/* ffnet has no TCP and no raw sockets; Linux's inet layer has no other types. */
	if (base != SOCK_DGRAM)
		return fail(base == SOCK_STREAM || base == SOCK_RAW ? -EPROTONOSUPPORT : -ESOCKTNOSUPPORT);
	if (protocol != 0 && protocol != IPPROTO_UDP)
		return fail(-EPROTONOSUPPORT);
	struct ffs_app *app = ff_app(st);
	if (!app)
		return fail(no_ctx(st));
	FF_READER();
	struct ffs_sock *so;
	int rc = ffs_sock_open(st, app, &so);
	if (rc < 0)
		return fail(rc);
	so->nonblock = type & SOCK_NONBLOCK;
	if (domain == AF_INET6)
		ffs_sock_set_family6(st, so);
	return (int)so->id;
}

enum sin_use { SIN_BIND, SIN_CONNECT, SIN_SEND };

/** The shortest sockaddr_in6 Linux takes (RFC 2133's, without sin6_scope_id). */
#define SIN6_LEN_RFC2133 24

/**
 * Reads an AF_INET address as Linux's inet layer does for bind, connect or sendto: 0, 1 for
 * connect's AF_UNSPEC (disconnect), or a negative errno.
 */
static int read_sin(const struct sockaddr *addr, socklen_t len, uint32_t *ip, uint16_t *port, enum sin_use use)
{
	if (len > sizeof(struct sockaddr_storage))
		return -EINVAL;
	if (!addr && len)
		return -EFAULT;
	if (use == SIN_CONNECT) {
		if (len < sizeof(sa_family_t))
			return -EINVAL;
		if (addr->sa_family == AF_UNSPEC)
			return 1;
	}
	if (len < sizeof(struct sockaddr_in))
		return -EINVAL;
	const struct sockaddr_in *sin = (const struct sockaddr_in *)addr;
	*ip = ntohl(sin->sin_addr.s_addr);
	*port = ntohs(sin->sin_port);
	/* Linux takes AF_UNSPEC for AF_INET in sendto, and in bind to INADDR_ANY (old programs rely on both). */
	if (addr->sa_family == AF_INET || (addr->sa_family == AF_UNSPEC && (use == SIN_SEND || *ip == 0)))
		return 0;
	return -EAFNOSUPPORT;
}

/** An address given to an AF_INET6 socket: IPv6 (v6), or IPv4 (a v4-mapped address or an AF_INET
 *  one, which Linux's udpv6_sendmsg and ip6_datagram_connect hand to IPv4). */
struct sin6_arg {
	bool v6;
	uint32_t ip;     /**< host order, when !v6 */
	uint8_t ip6[16];
	uint32_t scope_id;
	uint16_t port;
};

/**
 * Reads an address given to an AF_INET6 socket as Linux's inet6_bind, ip6_datagram_connect and
 * udpv6_sendmsg do: 0, 1 for connect's or sendto's AF_UNSPEC, or a negative errno.
 */
static int read_sin6(const struct ffs_sock *so, const struct sockaddr *addr, socklen_t len, struct sin6_arg *out,
		     enum sin_use use)
{
	if (len > sizeof(struct sockaddr_storage))
		return -EINVAL;
	if (!addr && len)
		return -EFAULT;
	if (use != SIN_BIND) {
		if (len < sizeof(sa_family_t))
			return -EINVAL;
		if (addr->sa_family == AF_UNSPEC)
			return 1;
		if (addr->sa_family == AF_INET) {
			if (so->v6only)
				return use == SIN_CONNECT ? -EAFNOSUPPORT : -ENETUNREACH;
			*out = (struct sin6_arg){ .v6 = false };
			return read_sin(addr, len, &out->ip, &out->port, use);
		}
	}
	if (len < SIN6_LEN_RFC2133)
		return -EINVAL;
	if (addr->sa_family != AF_INET6)
		return use == SIN_SEND ? -EINVAL : -EAFNOSUPPORT;
	const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)addr;
	*out = (struct sin6_arg){ .v6 = true, .port = ntohs(sin6->sin6_port) };
	memcpy(out->ip6, &sin6->sin6_addr, 16);
	if (len >= sizeof(struct sockaddr_in6))
		out->scope_id = sin6->sin6_scope_id;
	if (ffs_in6_is_v4mapped(out->ip6) && use != SIN_BIND) {
		if (so->v6only)
			return -ENETUNREACH;
		out->v6 = false;
		out->ip = ffs_in6_v4(out->ip6);
	}
	return 0;
}

/** Writes an AF_INET6 socket's view of an address: IPv6 as is, IPv4 (v4 non-NULL) v4-mapped. */
static void write_sin6(struct sockaddr *out, socklen_t *len, const uint8_t *ip6, uint32_t v4, uint32_t scope_id,
		       uint16_t port)
{
	struct sockaddr_in6 sin6 = { .sin6_family = AF_INET6, .sin6_port = htons(port) };
	if (!out || !len)
		return;
	if (ip6) {
		memcpy(&sin6.sin6_addr, ip6, 16);
		sin6.sin6_scope_id = scope_id;
	} else {
		ffs_in6_from_v4(v4, sin6.sin6_addr.s6_addr);
	}
	memcpy(out, &sin6, *len < sizeof(sin6) ? *len : sizeof(sin6));
	*len = sizeof(sin6);
}

static void write_sin(struct sockaddr *out, socklen_t *len, uint32_t ip, uint16_t port)
{
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons(port), .sin_addr.s_addr = htonl(ip) };
	if (!out || !len)
		return;
	memcpy(out, &sin, *len < sizeof(sin) ? *len : sizeof(sin));
	*len = sizeof(sin);
}

/** The socket behind s and the address it is given; NULL with errno set on failure. *how is read_sin's result. */
static struct ffs_sock *sock_and_addr(int s, const struct sockaddr *addr, socklen_t addrlen, enum sin_use mode, struct ffs_stack **st,
				      uint32_t *ip, uint16_t *port, int *how)
{
	struct ffs_sock *so = sock_of(s, st);
	if (!so)
		return NULL;
	*how = read_sin(addr, addrlen, ip, port, mode);
	if (*how < 0) {
		errno = -*how;
		return NULL;
	}
	return so;
}

int ff_bind(int s, const struct sockaddr *addr, socklen_t addrlen)
{
	FF_READER();
	struct ffs_stack *st;
	uint32_t ip;
	uint16_t port;
	int how;
	struct ffs_sock *so = sock_of(s, &st);
	if (so && so->v6) {
		struct sin6_arg a;
		int rc = read_sin6(so, addr, addrlen, &a, SIN_BIND);
		if (rc == 0)
			rc = ffs_sock_bind6(st, so, a.ip6, a.scope_id, a.port);
		return rc < 0 ? fail(rc) : 0;
	}
	so = sock_and_addr(s, addr, addrlen, SIN_BIND, &st, &ip, &port, &how);
	if (!so)
		return -1;
	int rc = ffs_sock_bind(st, so, ip, port);
	return rc < 0 ? fail(rc) : 0;
}

int ff_connect(int s, const struct sockaddr *addr, socklen_t addrlen)
{
	FF_READER();
	struct ffs_stack *st;
	uint32_t ip;
	uint16_t port;
	int how;
	struct ffs_sock *so = sock_of(s, &st);
	if (so && so->v6) {
		struct sin6_arg a;
		int rc = read_sin6(so, addr, addrlen, &a, SIN_CONNECT);
		/* Linux's inet_dgram_connect binds before the address is looked at (a refused connect
		 * leaves the socket bound). */
		if (rc != 1 && addr && addrlen >= sizeof(sa_family_t) && ffs_sock_autobind(st, so) < 0)
			return fail(-EAGAIN);
		if (rc == 0)
			rc = a.v6 ? ffs_sock_connect6(st, so, a.ip6, a.scope_id, a.port) : ffs_sock_connect(st, so, a.ip, a.port);
		else if (rc == 1)
			rc = ffs_sock_disconnect(st, so);
		return rc < 0 ? fail(rc) : 0;
	}
	so = sock_and_addr(s, addr, addrlen, SIN_CONNECT, &st, &ip, &port, &how);
	if (!so)
		return -1;
	/* read_sin reports AF_UNSPEC (a disconnect) as 1. */
	int rc = how == 1 ? ffs_sock_disconnect(st, so) : ffs_sock_connect(st, so, ip, port);
	return rc < 0 ? fail(rc) : 0;
}

int ff_close(int fd)
{
	if (fd >= FF_EPOLL_FD_BASE)
		return ff_epoll_close(fd);
	FF_READER();
	struct ffs_stack *st;
	struct ffs_sock *so = sock_of(fd, &st);
	if (!so)
		return -1;
	ff_epoll_forget(fd);
	int rc = ffs_sock_close(st, so);
	return rc < 0 ? fail(rc) : 0;
}

struct ffs_sock *sock_again(const struct sock_wait *w)
{
	struct ffs_sock *so = ff_sock_lookup(w->st, (int)w->id);
	return so && so->gen == w->gen ? so : NULL;
}

bool sock_ready(void *arg)
{
	struct sock_wait *w = arg;
	struct ffs_sock *so = sock_again(w);
	if (!so)
		return true;
	return w->write ? ffs_sock_writable(so) || atomic_load(&so->so_error) : ffs_sock_readable(so);
}

/** MSG_DONTWAIT makes one send non-blocking: returns the socket's own setting, to restore after it. */
static inline bool dontwait_begin(struct ffs_sock *so, int flags)
{
	bool saved = so->nonblock;
	if (flags & MSG_DONTWAIT)
		so->nonblock = true;
	return saved;
}

/** A send's result: its length, or -1 with errno; the socket's own blocking setting restored. */
static inline ssize_t send_end(struct ffs_sock *so, bool saved, int rc)
{
	so->nonblock = saved;
	return rc < 0 ? fail(rc) : rc;
}

/** An AF_INET6 socket's send over IPv6 (dst NULL: its connected peer). */
static ssize_t send6(struct ffs_stack *st, struct ffs_sock *so, const struct iovec *iov, int iovcnt, struct rte_mbuf *m,
		     int flags, const struct ip6_addr *dst, uint32_t scope, uint16_t port)
{
	bool saved = dontwait_begin(so, flags);
	return send_end(so, saved, ffs_sock_sendv6(st, so, iov, iovcnt, m, dst, scope, port));
}

/** send6 from the source `from` chose (IPV6_PKTINFO). */
static __attribute__((noinline)) ssize_t send6_from(struct ffs_stack *st, struct ffs_sock *so, const struct iovec *iov,
						    int iovcnt, struct rte_mbuf *m, int flags, const struct ip6_addr *dst,
						    uint32_t scope, uint16_t port, const struct ff_send_from *from)
{
	struct ip6_addr peer;
	if (!dst) {
		/* The connected peer, named here so that ffs_sock_send_dgram takes it as IPv6. */
		memcpy(peer.b, so->raddr6, 16);
		dst = &peer;
		scope = so->scope_id;
		port = so->rport;
	}
	struct ffs_dgram_out d = { iov, iovcnt, 0, port, dst, scope, 0, NULL };
	ff_cmsg_apply6(from, &d);
	bool saved = dontwait_begin(so, flags);
	return send_end(so, saved, ffs_sock_send_dgram(st, so, &d, m));
}

/** ff_send_dgram, with the control messages of `control` (NULL: none) choosing the source. Inlined
 *  into each caller, so that ff_send_dgram's copy reads no control messages. */
static __attribute__((always_inline)) inline ssize_t send_dgram(int s, const struct iovec *iov, int iovcnt, struct rte_mbuf *m, int flags,
			  const struct sockaddr *to, socklen_t tolen, const struct msghdr *control)
{
	FF_READER();
	struct ffs_stack *st;
	struct ffs_sock *so = sock_of(s, &st);
	if (!so)
		return -1;
	if (flags & ~(MSG_DONTWAIT | MSG_NOSIGNAL | MSG_CONFIRM | MSG_MORE | MSG_DONTROUTE))
		return fail(-EOPNOTSUPP);
	for (int i = 0; i < iovcnt; i++)
		if (!iov[i].iov_base && iov[i].iov_len)
			return fail(-EFAULT);
	struct ff_send_from from_buf;
	const struct ff_send_from *from = NULL;
	if (control) {
		int rc = ff_cmsg_read_send(st, so, control, &from_buf);
		if (rc < 0)
			return fail(rc);
		if (from_buf.has4 || from_buf.has6)
			from = &from_buf;
	}
	uint32_t ip = 0;
	uint16_t port = 0;
	if (__builtin_expect(so->v6, 0)) {
		/* An AF_INET6 socket's destination, or its connected peer, is IPv6 unless v4-mapped. */
		struct sin6_arg a;
		int rc = to ? read_sin6(so, to, tolen, &a, SIN_SEND) : 1;
		if (rc < 0)
			return fail(rc);
		if (rc == 1) {
			/* No destination (or AF_UNSPEC): the connected peer. */
			if (so->connected && !ffs_in6_is_v4mapped(so->raddr6))
				return from ? send6_from(st, so, iov, iovcnt, m, flags, NULL, 0, 0, from)
					    : send6(st, so, iov, iovcnt, m, flags, NULL, 0, 0);
		} else if (a.port == 0) {
			return fail(-EINVAL);
		} else if (a.v6) {
			const struct ip6_addr *dst = (const struct ip6_addr *)a.ip6;
			return from ? send6_from(st, so, iov, iovcnt, m, flags, dst, a.scope_id, a.port, from)
				    : send6(st, so, iov, iovcnt, m, flags, dst, a.scope_id, a.port);
		} else {
			ip = a.ip;
			port = a.port;
		}
	} else if (to) {
		int rc = read_sin(to, tolen, &ip, &port, SIN_SEND);
		if (rc < 0)
			return fail(rc);
		if (port == 0)
			return fail(-EINVAL);
	}
	if (!from) {
		bool saved = dontwait_begin(so, flags);
		return send_end(so, saved, m ? ffs_sock_send_mbuf(st, so, m, ip, port) : ffs_sock_sendv(st, so, iov, iovcnt, ip, port));
	}
	struct ffs_dgram_out d = { iov, iovcnt, ip, port, NULL, 0, 0, NULL };
	int rc = ff_cmsg_apply4(st, from, &d);
	if (rc < 0)
		return fail(rc);
	bool saved = dontwait_begin(so, flags);
	return send_end(so, saved, ffs_sock_send_dgram(st, so, &d, m));
}

ssize_t ff_send_dgram(int s, const struct iovec *iov, int iovcnt, struct rte_mbuf *m, int flags,
		      const struct sockaddr *to, socklen_t tolen)
{
	return send_dgram(s, iov, iovcnt, m, flags, to, tolen, NULL);
}

ssize_t ff_sendto(int s, const void *buf, size_t len, int flags, const struct sockaddr *to, socklen_t tolen)
{
	struct iovec iov = { (void *)buf, len };
	return ff_send_dgram(s, &iov, 1, NULL, flags, to, tolen);
}

ssize_t ff_send(int s, const void *buf, size_t len, int flags) { return ff_sendto(s, buf, len, flags, NULL, 0); }

/** True when fd is an epoll descriptor: not a socket, but read/write/fcntl/ioctl still apply to it. */
static bool is_epoll(int fd) { return fd >= FF_EPOLL_FD_BASE && ff_epoll_exists(fd); }

ssize_t ff_write(int fd, const void *buf, size_t nbytes)
{
	return is_epoll(fd) ? fail(-EINVAL) : ff_sendto(fd, buf, nbytes, 0, NULL, 0);
}

ssize_t ff_sendmsg(int s, const struct msghdr *msg, int flags)
{
	if (!msg)
		return fail(-EFAULT);
	if (msg->msg_iovlen > IOV_MAX)
		return fail(-EMSGSIZE);
	return send_dgram(s, msg->msg_iov, (int)msg->msg_iovlen, NULL, flags, msg->msg_name, msg->msg_namelen,
			  msg->msg_controllen ? msg : NULL);
}

/** Receives one datagram into iov, its source into from, its flags and (when the socket asked for
 *  them) control messages into msg unless NULL. */
static ssize_t recvv(int s, const struct iovec *iov, int iovcnt, int flags, struct sockaddr *from, socklen_t *fromlen,
		     struct msghdr *msg)
{
	FF_READER();
	struct ffs_stack *st;
	struct ffs_sock *so = sock_of(s, &st);
	if (!so)
		return -1;
	if (flags & ~(MSG_DONTWAIT | MSG_PEEK | MSG_TRUNC | MSG_WAITALL | MSG_CMSG_CLOEXEC))
		return fail(-EOPNOTSUPP);
	for (;;) {
		struct ffs_dgram_in d = { .iov = iov, .iovcnt = iovcnt };
		int rc = ffs_sock_recv_one(st, so, &d, flags & MSG_PEEK);
		bool truncated = d.truncated;
		if (rc >= 0) {
			if (so->v6)
				write_sin6(from, fromlen, d.src6.addr, 0, d.src6.scope_id, d.sport);
			else
				write_sin(from, fromlen, d.src, d.sport);
			if (msg) {
				msg->msg_flags = truncated ? MSG_TRUNC : 0;
				ff_cmsg_put_recv(st, so, &d, msg);
			}
			if (!(flags & MSG_TRUNC) && truncated) {
				size_t cap = 0;
				for (int i = 0; i < iovcnt; i++)
					cap += iov[i].iov_len;
				return (ssize_t)cap;
			}
			return rc;
		}
		if (rc != -EAGAIN || so->nonblock || (flags & MSG_DONTWAIT))
			return fail(rc);
		/* A close on another thread while this one waits ends the wait: EBADF. */
		struct sock_wait w = { st, so->id, so->gen, false };
		if (ff_wait(st, sock_ready, &w, -1) < 0)
			return fail(-EINTR);
		so = sock_again(&w);
		if (!so)
			return fail(-EBADF);
	}
}

ssize_t ff_recvfrom(int s, void *buf, size_t len, int flags, struct sockaddr *from, socklen_t *fromlen)
{
	if (!buf && len)
		return fail(-EFAULT);
	struct iovec iov = { buf, len };
	return recvv(s, &iov, 1, flags, from, fromlen, NULL);
}

ssize_t ff_recv(int s, void *buf, size_t len, int flags) { return ff_recvfrom(s, buf, len, flags, NULL, NULL); }

ssize_t ff_read(int fd, void *buf, size_t nbytes)
{
	return is_epoll(fd) ? fail(-EINVAL) : ff_recvfrom(fd, buf, nbytes, 0, NULL, NULL);
}

ssize_t ff_recvmsg(int s, struct msghdr *msg, int flags)
{
	if (!msg)
		return fail(-EFAULT);
	socklen_t namelen = msg->msg_namelen;
	ssize_t rc = recvv(s, msg->msg_iov, (int)msg->msg_iovlen, flags, msg->msg_name, msg->msg_name ? &namelen : NULL,
			   msg);
	if (rc >= 0)
		msg->msg_namelen = msg->msg_name ? namelen : 0;
	return rc;
}

/** Datagrams handed to the socket layer at once by ff_sendmmsg and ff_recvmmsg. */
#define MMSG_BURST 32
#define SEND_FLAGS (MSG_DONTWAIT | MSG_NOSIGNAL | MSG_CONFIRM | MSG_MORE | MSG_DONTROUTE)

/*
 * An AF_INET6 socket's destination of message mh for a send burst, as ff_send_dgram reads it: IPv6
 * into *d with its address in *dst6, IPv4 (a v4-mapped or AF_INET one, or a connected v4-mapped
 * peer) as dst and dport. false: one the burst leaves to ff_sendmsg (it fails, or needs a peer).
 */
static bool mmsg_dst6(const struct ffs_sock *so, const struct msghdr *mh, struct ffs_dgram_out *d, struct ip6_addr *dst6)
{
	*d = (struct ffs_dgram_out){ 0 };
	struct sin6_arg a;
	int rc = mh->msg_name ? read_sin6(so, mh->msg_name, mh->msg_namelen, &a, SIN_SEND) : 1;
	if (rc < 0)
		return false;
	if (rc == 1) {
		if (!so->connected)
			return false;
		if (!ffs_in6_is_v4mapped(so->raddr6)) {
			memcpy(dst6->b, so->raddr6, 16);
			*d = (struct ffs_dgram_out){ .dport = so->rport, .dst6 = dst6, .scope = so->scope_id };
		}
		return true;
	}
	if (a.port == 0)
		return false;
	if (a.v6) {
		memcpy(dst6->b, a.ip6, 16);
		*d = (struct ffs_dgram_out){ .dport = a.port, .dst6 = dst6, .scope = a.scope_id };
	} else {
		*d = (struct ffs_dgram_out){ .dst = a.ip, .dport = a.port };
	}
	return true;
}

int ff_sendmmsg(int s, struct mmsghdr *msgvec, unsigned int vlen, int flags)
{
	if (!msgvec && vlen)
		return fail(-EFAULT);
	if (vlen > UIO_MAXIOV)
		vlen = UIO_MAXIOV;
	FF_READER();
	struct ffs_stack *st = NULL;
	struct ffs_sock *so = vlen && !(flags & ~SEND_FLAGS) ? sock_of(s, &st) : NULL;
	unsigned i = 0;
	while (i < vlen) {
		/* Bursts of messages whose arguments are valid go to the socket layer together; the first
		 * message it does not take (an error, or a wait for SO_SNDBUF room) goes through ff_sendmsg,
		 * which sends it, waits, or fails with its errno, as a single call would. */
		struct ffs_dgram_out d[MMSG_BURST];
		size_t lens[MMSG_BURST];
		struct ip6_addr dst6[MMSG_BURST];
		unsigned k = 0;
		while (so && k < MMSG_BURST && i + k < vlen) {
			const struct msghdr *mh = &msgvec[i + k].msg_hdr;
			/* Control messages (IP_PKTINFO) are read by ff_sendmsg. */
			if (mh->msg_iovlen > IOV_MAX || (mh->msg_iovlen && !mh->msg_iov) || mh->msg_controllen)
				break;
			size_t len = 0;
			size_t j = 0;
			for (; j < mh->msg_iovlen && (mh->msg_iov[j].iov_base || !mh->msg_iov[j].iov_len); j++)
				len += mh->msg_iov[j].iov_len;
			if (j < mh->msg_iovlen)
				break;
			if (__builtin_expect(so->v6, 0)) {
				if (!mmsg_dst6(so, mh, &d[k], &dst6[k]))
					break;
			} else {
				uint32_t ip = 0;
				uint16_t port = 0;
				if (mh->msg_name && (read_sin(mh->msg_name, mh->msg_namelen, &ip, &port, SIN_SEND) < 0 || port == 0))
					break;
				d[k] = (struct ffs_dgram_out){ .dst = ip, .dport = port };
			}
			d[k].iov = mh->msg_iov;
			d[k].iovcnt = (int)mh->msg_iovlen;
			lens[k] = len;
			k++;
		}
		unsigned sent = k ? (unsigned)ffs_sock_sendv_burst(st, so, d, k) : 0;
		for (unsigned j = 0; j < sent; j++)
			msgvec[i + j].msg_len = (unsigned)lens[j];
		i += sent;
		if (sent == k && k > 0)
			continue;
		if (i == vlen)
			break;
		ssize_t rc = ff_sendmsg(s, &msgvec[i].msg_hdr, flags);
		if (rc < 0)
			return i ? (int)i : -1; /* Linux: the count sent so far, or the first error */
		msgvec[i].msg_len = (unsigned)rc;
		i++;
	}
	return (int)i;
}

/** Receives queued datagrams into msgvec[0..vlen) in bursts; returns how many (0: none queued, or an error pending). */
static unsigned recv_bursts(struct ffs_stack *st, struct ffs_sock *so, struct mmsghdr *msgvec, unsigned vlen, int flags)
{
	unsigned i = 0;
	while (i < vlen) {
		struct ffs_dgram_in d[MMSG_BURST];
		unsigned k = vlen - i < MMSG_BURST ? vlen - i : MMSG_BURST;
		/* Only the buffers: the socket layer fills in the rest (a zeroing initialiser costs IPv4 the
		 * IPv6 source's bytes). */
		for (unsigned j = 0; j < k; j++) {
			d[j].iov = msgvec[i + j].msg_hdr.msg_iov;
			d[j].iovcnt = (int)msgvec[i + j].msg_hdr.msg_iovlen;
		}
		unsigned got = (unsigned)ffs_sock_recvv_burst(st, so, d, k);
		for (unsigned j = 0; j < got; j++) {
			struct msghdr *mh = &msgvec[i + j].msg_hdr;
			socklen_t namelen = mh->msg_namelen;
			if (__builtin_expect(so->v6, 0))
				write_sin6(mh->msg_name, mh->msg_name ? &namelen : NULL, d[j].src6.addr, 0, d[j].src6.scope_id, d[j].sport);
			else
				write_sin(mh->msg_name, mh->msg_name ? &namelen : NULL, d[j].src, d[j].sport);
			mh->msg_namelen = mh->msg_name ? namelen : 0;
			mh->msg_flags = d[j].truncated ? MSG_TRUNC : 0;
			if (__builtin_expect(so->recv_pktinfo | so->recv_pktinfo6, 0))
				ff_cmsg_put_recv(st, so, &d[j], mh);
			else
				mh->msg_controllen = 0;
			size_t len = (size_t)d[j].len;
			if (d[j].truncated && !(flags & MSG_TRUNC)) {
				len = 0;
				for (size_t v = 0; v < mh->msg_iovlen; v++)
					len += mh->msg_iov[v].iov_len;
			}
			msgvec[i + j].msg_len = (unsigned)len;
		}
		i += got;
		if (got < k)
			break;
	}
	return i;
}

int ff_recvmmsg(int s, struct mmsghdr *msgvec, unsigned int vlen, int flags, struct timespec *timeout)
{
	if (!msgvec && vlen)
		return fail(-EFAULT);
	if (timeout && (timeout->tv_sec < 0 || timeout->tv_nsec < 0 || timeout->tv_nsec >= 1000000000))
		return fail(-EINVAL);
	if (vlen > UIO_MAXIOV)
		vlen = UIO_MAXIOV;
	FF_READER();
	/* What is queued already is taken in bursts; a wait, an error, or MSG_PEEK go one at a time. */
	int plain = flags & ~MSG_WAITFORONE;
	bool burst = !(plain & ~(MSG_DONTWAIT | MSG_TRUNC | MSG_WAITALL | MSG_CMSG_CLOEXEC));
	if (vlen && burst) {
		struct ffs_stack *st;
		struct ffs_sock *so = sock_of(s, &st);
		if (!so)
			return -1;
		unsigned got = recv_bursts(st, so, msgvec, vlen, plain);
		if (got)
			return (int)got;
	}
	unsigned i;
	for (i = 0; i < vlen; i++) {
		/* The first datagram may block; the rest take only what is already queued (MSG_WAITFORONE-like,
		 * which is what recvmmsg users rely on in practice). */
		int f = i == 0 ? flags : flags | MSG_DONTWAIT;
		ssize_t rc = ff_recvmsg(s, &msgvec[i].msg_hdr, f & ~MSG_WAITFORONE);
		if (rc < 0) {
			if (i > 0 && errno == EAGAIN)
				break;
			return i ? (int)i : -1;
		}
		msgvec[i].msg_len = (unsigned)rc;
		if (i == 0) {
			/* The first one came after a wait: the rest of what is queued comes in bursts. */
			struct ffs_stack *st;
			struct ffs_sock *so = sock_of(s, &st);
			if (burst && so)
				return 1 + (int)recv_bursts(st, so, msgvec + 1, vlen - 1, plain);
		}
	}
	return (int)i;
}

int ff_getsockname(int s, struct sockaddr *name, socklen_t *namelen)
{
	FF_READER();
	struct ffs_stack *st;
	struct ffs_sock *so = sock_of(s, &st);
	if (!so)
		return -1;
	if (!name || !namelen)
		return fail(-EFAULT);
	if (so->v6)
		write_sin6(name, namelen, so->laddr6, 0, so->scope_id, so->lport);
	else
		write_sin(name, namelen, so->laddr, so->lport);
	return 0;
}

int ff_getpeername(int s, struct sockaddr *name, socklen_t *namelen)
{
	FF_READER();
	struct ffs_stack *st;
	struct ffs_sock *so = sock_of(s, &st);
	if (!so)
		return -1;
	if (!so->connected)
		return fail(-ENOTCONN);
	if (!name || !namelen)
		return fail(-EFAULT);
	if (so->v6)
		write_sin6(name, namelen, so->raddr6, 0, ip6_is_linklocal(ffs_in6(so->raddr6)) ? so->scope_id : 0, so->rport);
	else
		write_sin(name, namelen, so->raddr, so->rport);
	return 0;
}

/** The IPv4 address (host order) of sockaddr_in `sa`: false for NULL; *family_ok false for another family. */
static bool route_addr(const struct linux_sockaddr *sa, uint32_t *out, bool *family_ok)
{
	if (!sa)
		return false;
	const struct sockaddr_in *in = (const struct sockaddr_in *)(const void *)sa;
	*family_ok = *family_ok && in->sin_family == AF_INET;
	*out = ntohl(in->sin_addr.s_addr);
	return true;
}

int ff_route_ctl(enum FF_ROUTE_CTL req, enum FF_ROUTE_FLAG flag, struct linux_sockaddr *dst, struct linux_sockaddr *gw,
		 struct linux_sockaddr *netmask)
{
	struct ffs_stack *st = ffs_stack_current();
	if (!st)
		return fail(-ENETDOWN);
	uint32_t d, g = 0, m = 0xffffffffu;
	bool family_ok = true;
	if ((req != FF_ROUTE_ADD && req != FF_ROUTE_DEL && req != FF_ROUTE_CHANGE) ||
	    (flag != FF_RTF_HOST && flag != FF_RTF_GATEWAY) || !route_addr(dst, &d, &family_ok))
		return fail(-EINVAL);
	if (req != FF_ROUTE_DEL && !route_addr(gw, &g, &family_ok))
		return fail(-EINVAL);
	if (flag == FF_RTF_GATEWAY && netmask)
		m = ntohl(((const struct sockaddr_in *)(const void *)netmask)->sin_addr.s_addr);
	if (!family_ok)
		return fail(-EAFNOSUPPORT);
	if ((~m & (~m + 1)) != 0)
		return fail(-EINVAL);
	unsigned len = (unsigned)__builtin_popcount(m);
	int rc = req == FF_ROUTE_ADD ? ffs_stack_route_add(st, d, len, g)
		 : req == FF_ROUTE_DEL ? ffs_stack_route_del(st, d, len)
				       : ffs_stack_route_change(st, d, len, g, 0, 0);
	return rc < 0 ? fail(rc) : 0;
}

int ff_ioctl(int fd, unsigned long request, ...)
{
	if (is_epoll(fd))
		return request == FIONBIO ? 0 : fail(request == FIONREAD ? -EINVAL : -ENOTTY);
	FF_READER();
	struct ffs_stack *st;
	struct ffs_sock *so = sock_of(fd, &st);
	if (!so)
		return -1;
	va_list ap;
	va_start(ap, request);
	int *arg = va_arg(ap, int *);
	va_end(ap);
	switch (request) {
	case FIONBIO:
		if (!arg)
			return fail(-EFAULT);
		so->nonblock = *arg != 0;
		return 0;
	case FIONREAD:
		if (!arg)
			return fail(-EFAULT);
		*arg = ffs_sock_next_len(so);
		return 0;
	default:
		return fail(-ENOTTY);
	}
}

int ff_fcntl(int fd, int cmd, ...)
{
	if (is_epoll(fd))
		return cmd == F_GETFL ? O_RDWR : cmd == F_GETFD ? FD_CLOEXEC : cmd == F_SETFL || cmd == F_SETFD ? 0 : fail(-EINVAL);
	FF_READER();
	struct ffs_stack *st;
	struct ffs_sock *so = sock_of(fd, &st);
	if (!so)
		return -1;
	va_list ap;
	va_start(ap, cmd);
	long arg = va_arg(ap, long);
	va_end(ap);
	switch (cmd) {
	case F_GETFL:
		return O_RDWR | (so->nonblock ? O_NONBLOCK : 0);
	case F_SETFL:
		so->nonblock = arg & O_NONBLOCK;
		return 0;
	case F_GETFD:
		return FD_CLOEXEC;
	case F_SETFD:
		return 0;
	default:
		return fail(-EINVAL);
	}
}

int ff_wake_fd(void)
{
	struct ffs_stack *st = ffs_stack_current();
	struct ffs_app *app = st ? ff_app(st) : NULL;
	return app ? app->event_fd : fail(-ENETDOWN);
}
