/* Shared between the posix/ files: the C callers' application context, waiting, and epoll bookkeeping. */
#ifndef FFNET_POSIX_FF_INTERNAL_H
#define FFNET_POSIX_FF_INTERNAL_H

#include <stdbool.h>
#include <sys/socket.h>
#include <sys/types.h>
#include "stack/sock/sock.h"
#include "stack/stack.h"

/**
 * The calling thread's reader section (ffs_app_enter) for the rest of the enclosing block: every
 * ff_* call that looks a socket up declares one first (FF_READER()), so that a close on another
 * thread frees the socket only after the call has returned. Sections nest.
 */
struct ff_reader {
	struct ffs_stack *st; /**< NULL: no stack, or the thread could not become a reader */
};

static inline struct ff_reader ff_reader_enter(struct ffs_stack *st)
{
	return (struct ff_reader){ st && ffs_app_enter(st) ? st : NULL };
}

static inline void ff_reader_leave(struct ff_reader *r)
{
	if (r->st)
		ffs_app_leave(r->st);
}

/* The variable is held only for its cleanup, hence `unused`. */
#define FF_READER() \
	struct ff_reader ff_reader_ __attribute__((unused, cleanup(ff_reader_leave))) = ff_reader_enter(ffs_stack_current())

/** The open socket `fd` of st inside a reader section, or NULL (also outside one: it could be freed). */
static inline struct ffs_sock *ff_sock_lookup(struct ffs_stack *st, int fd)
{
	return st && fd >= 0 && fd < FFS_MAX_SOCKS && ffs_app_reading() ? ffs_sock_get(st, (uint32_t)fd) : NULL;
}

/** The calling thread's application context for stack `st` (created on first use). */
struct ffs_app *ff_app(struct ffs_stack *st);
/** Frees every thread's context and every epoll set: the stack is stopping (call before ffs_stack_stop). */
void ff_app_forget(void);
/** The calling thread leaves the stack: closes its sockets, gives back its lcore, frees its context
 *  and its DPDK lcore id. */
void ff_thread_detach(void);
/** The calling thread's home lcore (its context made if needed), after setting it to `index` when
 *  index ≥ 0. -1 with errno when no stack runs or out of memory. */
int ff_thread_home(int index);
/** Takes the sockets the stack signalled off the calling thread's ready ring and re-arms its wake-up. */
void ff_app_drain(struct ffs_stack *st);
/** The same, copying the ids of up to `max` signalled sockets into `out`; returns how many. */
unsigned ff_app_take(struct ffs_stack *st, uint32_t *out, unsigned max);
/** Waits until ready(arg) or timeout_ms (-1 forever, 0 check once); turns the stack in inline mode
 *  when called on its thread. 1 when ready, 0 on timeout, negative errno on failure. The caller's
 *  reader section is paused while it waits: the caller and ready() hold no socket across the call
 *  (look it up again after, and in each ready()). */
int ff_wait(struct ffs_stack *st, bool (*ready)(void *), void *arg, int timeout_ms);

/**
 * ff_sendto's and ff_sendmsg's body: the datagram gathered from iov, or (m not NULL) the mbuf chain m
 * sent as it is (ffs_sock_send_mbuf: m stays the caller's on failure). Returns its length, or -1 with errno.
 */
struct rte_mbuf;
struct iovec;
ssize_t ff_send_dgram(int s, const struct iovec *iov, int iovcnt, struct rte_mbuf *m, int flags,
		      const struct sockaddr *to, socklen_t tolen);

/** A send's source as its control messages chose it (posix/ff_cmsg.c). */
struct ff_send_from {
	bool has4, has6;       /**< an IP_PKTINFO, an IPV6_PKTINFO message was given */
	uint32_t src4;         /**< ipi_spec_dst, host order (0: none) */
	uint32_t ifindex4;     /**< ipi_ifindex (port index + 1; 0: none) */
	struct ip6_addr src6;  /**< ipi6_addr (:: none) */
	uint32_t ifindex6;     /**< ipi6_ifindex */
};
struct msghdr;
struct ffs_sock;
struct ffs_dgram_in;
struct ffs_dgram_out;
/** Reads msg's control messages for a send from so (see ff_cmsg.c): 0, or -EINVAL, -ENODEV. */
int ff_cmsg_read_send(const struct ffs_stack *st, const struct ffs_sock *so, const struct msghdr *msg,
		      struct ff_send_from *from);
/** Applies `from` to an IPv4 datagram d (its src): 0, or -EINVAL for an IPv6 source. */
int ff_cmsg_apply4(const struct ffs_stack *st, const struct ff_send_from *from, struct ffs_dgram_out *d);
/** Applies `from` to an IPv6 datagram d (its src6 and, when it has none, scope); from must outlive d. */
void ff_cmsg_apply6(const struct ff_send_from *from, struct ffs_dgram_out *d);
/** Writes received datagram d's IP_PKTINFO or IPV6_PKTINFO message, when so asked for it, into msg's
 *  control buffer and sets msg_controllen (0 when none); MSG_CTRUNC in msg_flags when it did not fit. */
void ff_cmsg_put_recv(const struct ffs_stack *st, const struct ffs_sock *so, const struct ffs_dgram_in *d,
		      struct msghdr *msg);

/** What a wait for a socket watches: the socket by slot and generation (it may close meanwhile). */
struct sock_wait {
	struct ffs_stack *st;
	uint32_t id;
	uint16_t gen;
	bool write;
};
/** The socket a wait watches, or NULL once it was closed. */
struct ffs_sock *sock_again(const struct sock_wait *w);
/** ff_wait's test for a sock_wait: ready, or closed (the caller looks it up again and finds out which). */
bool sock_ready(void *arg);

bool ff_epoll_exists(int epfd);
int ff_epoll_close(int epfd);
/** Removes a closing socket from every epoll set (Linux drops closed fds from epoll sets). */
void ff_epoll_forget(int fd);
/** Drops every epoll set (their sockets die with the stack). */
void ff_epoll_reset(void);

#endif
