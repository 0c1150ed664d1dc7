/* Shared between the posix/ files: the C callers' application context, waiting, and epoll bookkeeping. */
#ifndef FFNET_POSIX_FF_INTERNAL_H
#define FFNET_POSIX_FF_INTERNAL_H

#include <stdbool.h>
#include "stack/sock/sock.h"

/** The process-wide application context of C callers for stack `st` (created on first use). */
struct ffs_app *ff_app(struct ffs_stack *st);
/** Frees the context and every epoll set: the stack is stopping (call before ffs_stack_stop). */
void ff_app_forget(void);
/** Takes the sockets the stack signalled off the ready ring and re-arms the wake-up. */
void ff_app_drain(struct ffs_stack *st, struct ffs_app *app);
/** The same, copying the ids of up to `max` signalled sockets into `out`; returns how many. */
unsigned ff_app_take(struct ffs_stack *st, struct ffs_app *app, uint32_t *out, unsigned max);
/** Waits until ready(arg) or timeout_ms (-1 forever, 0 check once); turns the stack in inline mode
 *  when called on its thread. 1 when ready, 0 on timeout, negative errno on failure. */
int ff_wait(struct ffs_stack *st, bool (*ready)(void *), void *arg, int timeout_ms);

bool ff_epoll_exists(int epfd);
int ff_epoll_close(int epfd);
/** Removes a closing socket from every epoll set (Linux drops closed fds from epoll sets). */
void ff_epoll_forget(int fd);
/** Drops every epoll set (their sockets die with the stack). */
void ff_epoll_reset(void);

#endif
