/*
 * Control messages of ff_sendmsg and ff_recvmsg: IP_PKTINFO and IPV6_PKTINFO, in Linux's layouts
 * (struct in_pktinfo, struct in6_pktinfo) and with Linux's checks, so that a server on several
 * addresses learns which one each datagram was sent to and answers from it.
 *
 * Send (ip_cmsg_send, ip6_datagram_send_ctl): every header must fit the buffer (CMSG_OK), else EINVAL;
 * an AF_INET socket reads SOL_IP messages, an AF_INET6 one SOL_IPV6 messages and, for an IPv4
 * destination, SOL_IP ones too; other levels are skipped as Linux skips them, and an unknown type of
 * a level read is EINVAL (ffnet takes no other message: IP_TTL, IP_TOS, IPV6_HOPLIMIT... are refused
 * rather than ignored). IP_PKTINFO's length must be exactly CMSG_LEN(sizeof(struct in_pktinfo)),
 * IPV6_PKTINFO's at least CMSG_LEN(sizeof(struct in6_pktinfo)); an interface index that is no port's
 * is ENODEV. The source itself is checked by the socket layer (ffs_sock_check_source/6).
 * Receive (put_cmsg): one message per datagram when the socket asked (IP_PKTINFO, IPV6_RECVPKTINFO),
 * MSG_CTRUNC when the buffer is too short for it.
 */
#include <errno.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>

#include "posix/ff_internal.h"
#include "stack/iface/iface.h"
#include "stack/sock/sock.h"

/** Linux's for_each_cmsghdr with CMSG_OK: the next header of msg after c (NULL: the first), NULL at
 *  the end; *bad when one does not fit the buffer. */
static const struct cmsghdr *next_cmsg(const struct msghdr *msg, const struct cmsghdr *c, bool *bad)
{
	const uint8_t *base = msg->msg_control;
	size_t off = c ? (size_t)((const uint8_t *)c - base) + CMSG_ALIGN(c->cmsg_len) : 0;
	if (off + sizeof(struct cmsghdr) > msg->msg_controllen)
		return NULL;
	c = (const struct cmsghdr *)(base + off);
	if (c->cmsg_len < sizeof(struct cmsghdr) || c->cmsg_len > msg->msg_controllen - off) {
		*bad = true;
		return NULL;
	}
	return c;
}

int ff_cmsg_read_send(const struct ffs_stack *st, const struct ffs_sock *so, const struct msghdr *msg,
		      struct ff_send_from *from)
{
	*from = (struct ff_send_from){ 0 };
	if (!msg->msg_control || msg->msg_controllen < sizeof(struct cmsghdr))
		return 0;
	bool bad = false;
	for (const struct cmsghdr *c = next_cmsg(msg, NULL, &bad); c; c = next_cmsg(msg, c, &bad)) {
		if (c->cmsg_level == SOL_IP) {
			/* An AF_INET6 socket applies them to IPv4 destinations only (Linux's udp_sendmsg). */
			if (c->cmsg_type != IP_PKTINFO)
				return -EINVAL;
			if (c->cmsg_len != CMSG_LEN(sizeof(struct in_pktinfo)))
				return -EINVAL;
			struct in_pktinfo pi;
			memcpy(&pi, CMSG_DATA(c), sizeof(pi));
			if (pi.ipi_ifindex < 0 || (unsigned)pi.ipi_ifindex > st->n_ports)
				return -ENODEV;
			from->has4 = true;
			from->src4 = ntohl(pi.ipi_spec_dst.s_addr);
			from->ifindex4 = (uint32_t)pi.ipi_ifindex;
		} else if (c->cmsg_level == SOL_IPV6 && so->v6) {
			if (c->cmsg_type != IPV6_PKTINFO)
				return -EINVAL;
			if (c->cmsg_len < CMSG_LEN(sizeof(struct in6_pktinfo)))
				return -EINVAL;
			struct in6_pktinfo pi;
			memcpy(&pi, CMSG_DATA(c), sizeof(pi));
			if (pi.ipi6_ifindex > st->n_ports)
				return -ENODEV;
			from->has6 = true;
			memcpy(from->src6.b, &pi.ipi6_addr, 16);
			from->ifindex6 = pi.ipi6_ifindex;
		} else if (c->cmsg_level == SOL_SOCKET) {
			/* Linux's SO_MARK, SO_TIMESTAMPING and SCM_TXTIME have no meaning here. */
			return -EINVAL;
		}
	}
	return bad ? -EINVAL : 0;
}

int ff_cmsg_apply4(const struct ffs_stack *st, const struct ff_send_from *from, struct ffs_dgram_out *d)
{
	if (from->has6) {
		/* IPV6_PKTINFO with an IPv4 destination: its address must be v4-mapped (or ::). */
		if (ffs_in6_is_v4mapped(from->src6.b))
			d->src = ffs_in6_v4(from->src6.b);
		else if (!ip6_is_unspecified(&from->src6))
			return -EINVAL;
		if (!d->src && from->ifindex6)
			d->src = st->ports[from->ifindex6 - 1].addr;
	}
	if (from->has4) {
		d->src = from->src4;
		/* Only an interface: the source is its address (the route out stays the table's). */
		if (!d->src && from->ifindex4)
			d->src = st->ports[from->ifindex4 - 1].addr;
	}
	return 0;
}

void ff_cmsg_apply6(const struct ff_send_from *from, struct ffs_dgram_out *d)
{
	if (!from->has6)
		return;
	if (!ip6_is_unspecified(&from->src6))
		d->src6 = &from->src6;
	if (!d->scope && from->ifindex6)
		d->scope = from->ifindex6;
}

/** put_cmsg: appends one control message of `len` bytes at msg's control buffer offset *used. */
static void put_cmsg(struct msghdr *msg, size_t *used, int level, int type, const void *data, size_t len)
{
	size_t room = msg->msg_control && msg->msg_controllen > *used ? msg->msg_controllen - *used : 0;
	if (room < sizeof(struct cmsghdr)) {
		msg->msg_flags |= MSG_CTRUNC;
		return;
	}
	size_t cmlen = CMSG_LEN(len);
	if (room < cmlen) {
		msg->msg_flags |= MSG_CTRUNC;
		cmlen = room;
	}
	struct cmsghdr h = { .cmsg_len = cmlen, .cmsg_level = level, .cmsg_type = type };
	uint8_t *at = (uint8_t *)msg->msg_control + *used;
	memcpy(at, &h, sizeof(h));
	memcpy(at + CMSG_LEN(0), data, cmlen - CMSG_LEN(0));
	*used += CMSG_SPACE(len) < room ? CMSG_SPACE(len) : room;
}

void ff_cmsg_put_recv(const struct ffs_stack *st, const struct ffs_sock *so, const struct ffs_dgram_in *d,
		      struct msghdr *msg)
{
	size_t used = 0;
	if (so->v6 && so->recv_pktinfo6) {
		struct in6_pktinfo pi = { .ipi6_ifindex = d->pktinfo.ifindex };
		memcpy(&pi.ipi6_addr, d->pktinfo.dst6, 16);
		put_cmsg(msg, &used, SOL_IPV6, IPV6_PKTINFO, &pi, sizeof(pi));
	} else if (!so->v6 && so->recv_pktinfo) {
		uint32_t dst = d->pktinfo.dst;
		/* ipi_spec_dst, the address a reply comes from (Linux's fib_compute_spec_dst): the
		 * destination when it is ours, else (broadcast, multicast) the interface's address. */
		uint32_t spec = route_is_local(st, dst) || !d->pktinfo.ifindex ? dst : st->ports[d->pktinfo.ifindex - 1].addr;
		struct in_pktinfo pi = { .ipi_ifindex = (int)d->pktinfo.ifindex,
					 .ipi_spec_dst.s_addr = htonl(spec),
					 .ipi_addr.s_addr = htonl(dst) };
		put_cmsg(msg, &used, SOL_IP, IP_PKTINFO, &pi, sizeof(pi));
	}
	msg->msg_controllen = used;
}
