/*
 * Receive-side helpers for event-loop front ends (the node:dgram drop-in): which sockets the stack
 * signalled, datagrams copied back to back into one caller buffer, and a socket's send queue. Plain
 * C over the socket layer so the Node addon needs no stack internals.
 */
#include <errno.h>
#include <stddef.h>
#include <string.h>
#include <rte_lcore.h>

#include "posix/ff_api.h"
#include "posix/ff_dgram.h"
#include "posix/ff_internal.h"
#include "stack/lcore/lcore.h"
#include "stack/sock/sock.h"

int ff_dgram_ready(uint32_t *ids, unsigned max)
{
	struct ffs_stack *st = ffs_stack_current();
	struct ffs_app *app = st ? ff_app(st) : NULL;
	if (!app)
		return -ENETDOWN;
	ffs_stack_poll_thread(st);
	return (int)ff_app_take(st, ids, max);
}

/* The socket layer fills the descriptors in place: the two structs are one layout. */
_Static_assert(sizeof(struct ff_dgram_desc) == sizeof(struct ffs_dgram_packed) &&
		       offsetof(struct ff_dgram_desc, offset) == offsetof(struct ffs_dgram_packed, offset) &&
		       offsetof(struct ff_dgram_desc, len) == offsetof(struct ffs_dgram_packed, len) &&
		       offsetof(struct ff_dgram_desc, addr) == offsetof(struct ffs_dgram_packed, src) &&
		       offsetof(struct ff_dgram_desc, port) == offsetof(struct ffs_dgram_packed, sport),
	       "ff_dgram_desc and ffs_dgram_packed differ");

int ff_dgram_recv_packed(int fd, uint8_t *buf, size_t cap, unsigned max, struct ff_dgram_desc *desc)
{
	struct ffs_stack *st = ffs_stack_current();
	FF_READER();
	struct ffs_sock *so = ff_sock_lookup(st, fd);
	if (!so)
		return -EBADF;
	/* A pending error (ECONNREFUSED) is reported before more datagrams, as recvmsg reports it. */
	if (atomic_load_explicit(&so->so_error, memory_order_relaxed)) {
		int err = atomic_exchange(&so->so_error, 0);
		if (err)
			return -err;
	}
	int n = ffs_sock_recv_packed(so, buf, cap, (struct ffs_dgram_packed *)desc, max);
	return n ? n : -EAGAIN;
}

int ff_dgram_send_queue(int fd, uint32_t *bytes, uint32_t *count)
{
	struct ffs_stack *st = ffs_stack_current();
	FF_READER();
	struct ffs_sock *so = ff_sock_lookup(st, fd);
	if (!so)
		return -EBADF;
	int b = atomic_load(&so->tx_bytes), c = atomic_load(&so->tx_count);
	*count = c > 0 ? (uint32_t)c : 0;
	*bytes = b > 0 && c > 0 ? (uint32_t)(b - c * FFS_DGRAM_OVERHEAD) : 0;
	return 0;
}
