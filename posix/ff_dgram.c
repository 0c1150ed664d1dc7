/*
 * Receive-side helpers for event-loop front ends (the node:dgram drop-in): which sockets the stack
 * signalled, datagrams copied back to back into one caller buffer, and a socket's send queue. Plain
 * C over the socket layer so the Node addon needs no stack internals.
 */
#include <errno.h>
#include <string.h>
#include <sys/uio.h>
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

int ff_dgram_recv_packed(int fd, uint8_t *buf, size_t cap, unsigned max, struct ff_dgram_desc *desc)
{
	struct ffs_stack *st = ffs_stack_current();
	FF_READER();
	struct ffs_sock *so = ff_sock_lookup(st, fd);
	if (!so)
		return -EBADF;
	size_t off = 0;
	unsigned n = 0;
	while (n < max) {
		int len = ffs_sock_next_len(so);
		if (len == 0 && !ffs_sock_readable(so))
			break;
		if (off + (size_t)len > cap)
			break;
		struct iovec iov = { buf + off, (size_t)len };
		uint32_t src, dst;
		uint16_t sport;
		int rc = ffs_sock_recvv(st, so, &iov, 1, &src, &sport, &dst, NULL, false);
		if (rc < 0) {
			if (n == 0)
				return rc; /* a pending error (ECONNREFUSED) is reported before more datagrams */
			break;
		}
		desc[n] = (struct ff_dgram_desc){ .offset = (uint32_t)off, .len = (uint32_t)rc, .addr = src, .port = sport };
		off += ((size_t)rc + 7) & ~(size_t)7; /* keep each datagram 8-byte aligned for typed views */
		n++;
	}
	return n ? (int)n : -EAGAIN;
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
