/*
 * ffnet's F-Stack-style socket API for C programs: ff_socket, ff_bind, ..., ff_epoll_wait.
 *
 * The calls behave as Linux's do for UDP sockets (AF_INET, and AF_INET6 with sockaddr_in6, scope id =
 * port index + 1, dual stack), including errno, but act on the user-space
 * stack running in this process (started by ff_init, or by the Node addon). Descriptors live in
 * their own space: a socket's fd is not a kernel fd, and kernel calls on it fail.
 *
 * Threads: any thread may call these (it registers with DPDK on its first call), except on a
 * multi-process stack ([dpdk] nb_procs or a secondary), where only the thread that started it may
 * (DPDK registers no other thread while processes share its memory): others get ENOTSUP. With dedicated
 * data-path lcores, blocking calls sleep until the stack wakes them. In inline mode (no data-path
 * lcore) the stack runs on the thread that turns ff_run's loop, and blocking calls made on that
 * thread keep turning the stack while they wait — unlike F-Stack, ff_epoll_wait honours its timeout.
 * With several inline lcores, each thread that called ff_set_lcore turns its own. Each thread has its
 * own wake-ups (ff_wake_fd, ff_dgram_ready); any thread may still use any socket.
 */
#ifndef FFNET_POSIX_FF_API_H
#define FFNET_POSIX_FF_API_H

#include <stdint.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/uio.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Socket descriptors are 0 .. FF_MAX_SOCKETS-1; epoll descriptors start at FF_EPOLL_FD_BASE. */
#define FF_MAX_SOCKETS 4096
#define FF_EPOLL_FD_BASE 4096
#define FF_MAX_EPOLLS 256

/**
 * Starts the stack from ffnet.ini: `argv` may hold `--conf <path>` (default: $FFNET_CONFIG, then
 * ./ffnet.ini). Prints what is wrong (file, section, key; or the port and DPDK's error) to stderr and
 * returns -1 on failure, 0 on success.
 */
int ff_init(int argc, char *const argv[]);
/** Calls loop(arg) forever, turning the stack between calls in inline mode, until ff_stop_run(). */
typedef int (*loop_func_t)(void *arg);
void ff_run(loop_func_t loop, void *arg);
/** Makes every running ff_run return once its current call of loop returns (callable from loop or any thread). */
void ff_stop_run(void);
/** Stops the stack started by ff_init (closing every socket) and releases DPDK: call once, at the end. */
void ff_exit(void);
/**
 * Inline mode: the calling thread claims lcore `index` (-1: the next free one, 1, 2, ..., then 0) and
 * ff_run on it turns that lcore; its sockets live there (made before its first socket). Returns the
 * index, or -1 with errno EBUSY (taken, or the thread has one), ERANGE, EINVAL (data-path lcores),
 * ENETDOWN (no stack), ENOTSUP (a multi-process stack, on another thread than the one that started it).
 */
int ff_set_lcore(int index);
/** Closes every socket the calling thread opened (a thread that ends); returns how many. */
int ff_close_thread_sockets(void);

int ff_socket(int domain, int type, int protocol);
int ff_bind(int s, const struct sockaddr *addr, socklen_t addrlen);
int ff_connect(int s, const struct sockaddr *addr, socklen_t addrlen);
int ff_close(int fd);
ssize_t ff_sendto(int s, const void *buf, size_t len, int flags, const struct sockaddr *to, socklen_t tolen);
ssize_t ff_sendmsg(int s, const struct msghdr *msg, int flags);
ssize_t ff_send(int s, const void *buf, size_t len, int flags);
ssize_t ff_write(int fd, const void *buf, size_t nbytes);
ssize_t ff_recvfrom(int s, void *buf, size_t len, int flags, struct sockaddr *from, socklen_t *fromlen);
ssize_t ff_recvmsg(int s, struct msghdr *msg, int flags);
ssize_t ff_recv(int s, void *buf, size_t len, int flags);
ssize_t ff_read(int fd, void *buf, size_t nbytes);
int ff_sendmmsg(int s, struct mmsghdr *msgvec, unsigned int vlen, int flags);
int ff_recvmmsg(int s, struct mmsghdr *msgvec, unsigned int vlen, int flags, struct timespec *timeout);
int ff_getsockname(int s, struct sockaddr *name, socklen_t *namelen);
int ff_getpeername(int s, struct sockaddr *name, socklen_t *namelen);
int ff_setsockopt(int s, int level, int optname, const void *optval, socklen_t optlen);
int ff_getsockopt(int s, int level, int optname, void *optval, socklen_t *optlen);
/** FIONBIO (int *), FIONREAD (int *: size of the next datagram, as Linux reports for UDP). */
int ff_ioctl(int fd, unsigned long request, ...);
/** F_GETFL / F_SETFL (O_NONBLOCK), F_GETFD / F_SETFD. */
int ff_fcntl(int fd, int cmd, ...);

int ff_epoll_create(int size);
int ff_epoll_create1(int flags);
int ff_epoll_ctl(int epfd, int op, int fd, struct epoll_event *event);
/** Level- or edge-triggered (EPOLLET) readiness of ff sockets; timeout in ms, -1 = forever, 0 = poll. */
int ff_epoll_wait(int epfd, struct epoll_event *events, int maxevents, int timeout);

/**
 * For event-loop integration: an fd (a real kernel fd) that becomes readable when a socket of the
 * calling thread may have become ready. Poll it, then call ff_epoll_wait(..., 0).
 */
int ff_wake_fd(void);

/** F-Stack's route calls (ff_route_ctl): add, delete, or change the gateway of a static IPv4 route. */
enum FF_ROUTE_CTL {
	FF_ROUTE_ADD,
	FF_ROUTE_DEL,
	FF_ROUTE_CHANGE,
};
enum FF_ROUTE_FLAG {
	FF_RTF_HOST,    /**< dst is a host: a /32, netmask ignored */
	FF_RTF_GATEWAY, /**< dst/netmask (NULL: a /32) via gw */
};
/** F-Stack's name for a sockaddr as Linux lays it out (ffnet's sockaddr is Linux's). */
struct linux_sockaddr {
	unsigned short sa_family;
	char sa_data[14];
};
/**
 * Adds (FF_ROUTE_ADD), deletes (FF_ROUTE_DEL: the one of lowest metric) or changes the gateway of
 * (FF_ROUTE_CHANGE) the static route to `dst` (sockaddr_in) of metric 0 via `gw` (sockaddr_in, on a
 * port's connected subnet; ignored by a delete), as F-Stack's call does. 0, or -1 with errno:
 * EINVAL (no dst, no gw, a netmask that is not contiguous, host bits in dst), EAFNOSUPPORT (not
 * AF_INET), EEXIST, ENETUNREACH (gw on no connected subnet), ESRCH (no such route), EPERM (a
 * connected route), ENOSPC, ENETDOWN (no stack). Metrics and preferred sources: ffnet's own API
 * (Stack.addRoute, `ffnet route`).
 */
int ff_route_ctl(enum FF_ROUTE_CTL req, enum FF_ROUTE_FLAG flag, struct linux_sockaddr *dst, struct linux_sockaddr *gw,
		 struct linux_sockaddr *netmask);

#ifdef __cplusplus
}
#endif

#endif
