/*
 * ff_epoll_*: readiness of ff sockets, level- or edge-triggered, with EPOLLONESHOT, honouring the
 * timeout (the wait sleeps on the stack's wake-up eventfd; in inline mode it turns the stack).
 *
 * An epoll set is a small array scanned on each check: UDP programs watch few sockets, and a scan
 * reads only ring counters. Edge-triggered EPOLLIN reports a socket again only after a new datagram
 * (the RX ring's producer count moved) or a new error; EPOLLOUT after it was seen unwritable.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <rte_ring.h>

#include "posix/ff_api.h"
#include "posix/ff_internal.h"

struct item {
	int fd;
	struct epoll_event ev;
	uint32_t rx_seen;   /**< RX ring producer count when EPOLLIN was last reported (EPOLLET) */
	bool in_reported;
	bool out_reported;
	bool disabled;      /**< EPOLLONESHOT fired: silent until EPOLL_CTL_MOD */
};

struct eset {
	bool in_use;
	unsigned n, cap;
	struct item *items;
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct eset sets[FF_MAX_EPOLLS];

static inline int fail(int neg_errno)
{
	errno = -neg_errno;
	return -1;
}

static struct eset *set_of(int epfd)
{
	int i = epfd - FF_EPOLL_FD_BASE;
	return i >= 0 && i < FF_MAX_EPOLLS && sets[i].in_use ? &sets[i] : NULL;
}

static bool is_sock(struct ffs_stack *st, int fd)
{
	return ff_sock_lookup(st, fd) != NULL;
}

bool ff_epoll_exists(int epfd)
{
	pthread_mutex_lock(&lock);
	bool ok = set_of(epfd) != NULL;
	pthread_mutex_unlock(&lock);
	return ok;
}

int ff_epoll_create1(int flags)
{
	if (flags & ~EPOLL_CLOEXEC)
		return fail(-EINVAL);
	pthread_mutex_lock(&lock);
	for (int i = 0; i < FF_MAX_EPOLLS; i++) {
		if (!sets[i].in_use) {
			sets[i] = (struct eset){ .in_use = true };
			pthread_mutex_unlock(&lock);
			return FF_EPOLL_FD_BASE + i;
		}
	}
	pthread_mutex_unlock(&lock);
	return fail(-EMFILE);
}

int ff_epoll_create(int size)
{
	if (size <= 0)
		return fail(-EINVAL);
	return ff_epoll_create1(0);
}

int ff_epoll_close(int epfd)
{
	pthread_mutex_lock(&lock);
	struct eset *s = set_of(epfd);
	if (!s) {
		pthread_mutex_unlock(&lock);
		return fail(-EBADF);
	}
	free(s->items);
	*s = (struct eset){ 0 };
	pthread_mutex_unlock(&lock);
	return 0;
}

void ff_epoll_reset(void)
{
	pthread_mutex_lock(&lock);
	for (int i = 0; i < FF_MAX_EPOLLS; i++) {
		free(sets[i].items);
		sets[i] = (struct eset){ 0 };
	}
	pthread_mutex_unlock(&lock);
}

void ff_epoll_forget(int fd)
{
	pthread_mutex_lock(&lock);
	for (int i = 0; i < FF_MAX_EPOLLS; i++) {
		struct eset *s = &sets[i];
		for (unsigned k = 0; s->in_use && k < s->n; k++) {
			if (s->items[k].fd == fd) {
				s->items[k] = s->items[--s->n];
				break;
			}
		}
	}
	pthread_mutex_unlock(&lock);
}

int ff_epoll_ctl(int epfd, int op, int fd, struct epoll_event *event)
{
	struct ffs_stack *st = ffs_stack_current();
	FF_READER();
	pthread_mutex_lock(&lock);
	struct eset *s = set_of(epfd);
	int rc = 0;
	if (!s) {
		/* Linux: EINVAL when both descriptors exist but epfd is not an epoll set. */
		rc = is_sock(st, epfd) && (is_sock(st, fd) || set_of(fd)) ? -EINVAL : -EBADF;
		goto out;
	}
	if (fd == epfd) {
		rc = -EINVAL;
		goto out;
	}
	if (!is_sock(st, fd)) {
		/* Nesting epoll sets is not supported; anything else is not a descriptor of ours. */
		rc = set_of(fd) ? -EINVAL : -EBADF;
		goto out;
	}
	if ((op == EPOLL_CTL_ADD || op == EPOLL_CTL_MOD) && !event) {
		rc = -EFAULT;
		goto out;
	}
	unsigned k = 0;
	while (k < s->n && s->items[k].fd != fd)
		k++;
	switch (op) {
	case EPOLL_CTL_ADD:
		if (k < s->n) {
			rc = -EEXIST;
			break;
		}
		if (s->n == s->cap) {
			unsigned cap = s->cap ? s->cap * 2 : 8;
			struct item *items = realloc(s->items, cap * sizeof(*items));
			if (!items) {
				rc = -ENOMEM;
				break;
			}
			s->items = items;
			s->cap = cap;
		}
		s->items[s->n++] = (struct item){ .fd = fd, .ev = *event };
		break;
	case EPOLL_CTL_MOD:
		if (k == s->n) {
			rc = -ENOENT;
			break;
		}
		s->items[k] = (struct item){ .fd = fd, .ev = *event };
		break;
	case EPOLL_CTL_DEL:
		if (k == s->n) {
			rc = -ENOENT;
			break;
		}
		s->items[k] = s->items[--s->n];
		break;
	default:
		rc = -EINVAL;
	}
out:
	pthread_mutex_unlock(&lock);
	return rc < 0 ? fail(rc) : 0;
}

struct collect {
	struct ffs_stack *st;
	struct eset *set;
	struct epoll_event *events;
	int max;
	int n;
};

static bool collect(void *arg)
{
	struct collect *c = arg;
	c->n = 0;
	pthread_mutex_lock(&lock);
	for (unsigned k = 0; k < c->set->n && c->n < c->max; k++) {
		struct item *it = &c->set->items[k];
		struct ffs_sock *so = ff_sock_lookup(c->st, it->fd);
		if (!so || it->disabled)
			continue;
		uint32_t want = it->ev.events;
		bool et = want & EPOLLET;
		uint32_t got = 0;
		uint32_t seq = so->rx ? __atomic_load_n(&so->rx->prod.tail, __ATOMIC_RELAXED) : 0;
		if (atomic_load(&so->so_error))
			got |= EPOLLERR;
		if ((want & EPOLLIN) && ffs_sock_readable(so) && (!et || !it->in_reported || seq != it->rx_seen))
			got |= EPOLLIN | (want & EPOLLRDNORM);
		bool writable = ffs_sock_writable(so);
		if (!writable)
			it->out_reported = false;
		if ((want & EPOLLOUT) && writable && (!et || !it->out_reported))
			got |= EPOLLOUT | (want & EPOLLWRNORM);
		if (!got)
			continue;
		if (got & EPOLLIN) {
			it->in_reported = true;
			it->rx_seen = seq;
		}
		if (got & EPOLLOUT)
			it->out_reported = true;
		if (want & EPOLLONESHOT)
			it->disabled = true;
		c->events[c->n].events = got;
		c->events[c->n].data = it->ev.data;
		c->n++;
	}
	pthread_mutex_unlock(&lock);
	return c->n > 0;
}

int ff_epoll_wait(int epfd, struct epoll_event *events, int maxevents, int timeout)
{
	if (maxevents <= 0)
		return fail(-EINVAL);
	if (!events)
		return fail(-EFAULT);
	struct ffs_stack *st = ffs_stack_current();
	FF_READER();
	pthread_mutex_lock(&lock);
	struct eset *s = set_of(epfd);
	pthread_mutex_unlock(&lock);
	if (!s || !st)
		return fail(is_sock(st, epfd) ? -EINVAL : -EBADF);
	struct collect c = { st, s, events, maxevents, 0 };
	int rc = ff_wait(st, collect, &c, timeout < 0 ? -1 : timeout);
	if (rc < 0)
		return fail(rc);
	return rc ? c.n : 0;
}
