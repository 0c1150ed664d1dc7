/*
 * ff_setsockopt / ff_getsockopt: the SOL_SOCKET and IPPROTO_IP options of a Linux UDP socket,
 * with Linux's argument checks (EINVAL for short option lengths, ENOPROTOOPT for options that do
 * not exist at that level).
 */
#include <errno.h>
#include <netinet/in.h>
#include <string.h>

#include "posix/ff_api.h"
#include "posix/ff_internal.h"
#include "stack/lcore/lcore.h"
#include "stack/iface/iface.h"
#include "stack/wire/ipv4.h"

/** What IPV6_UNICAST_HOPS reports when unset: Linux's net.ipv6.conf.all.hop_limit (RFC 8200's suggestion). */
#define IPV6_DEFAULT_HOPS 64

static inline int fail(int neg_errno)
{
	errno = -neg_errno;
	return -1;
}

/** Linux reads int options from an int, or from a single byte when optlen is 1 (for the IP level). */
static int read_int(const void *optval, socklen_t optlen, bool byte_ok, int *out)
{
	if (!optval)
		return -EFAULT;
	if (optlen >= sizeof(int)) {
		memcpy(out, optval, sizeof(int));
		return 0;
	}
	if (byte_ok && optlen >= 1) {
		*out = *(const unsigned char *)optval;
		return 0;
	}
	return -EINVAL;
}

/** ip_mreqn or ip_mreq: group and interface address (host order). */
static int read_mreq(const void *optval, socklen_t optlen, uint32_t *group, uint32_t *ifaddr)
{
	if (!optval)
		return -EFAULT;
	if (optlen < sizeof(struct ip_mreq))
		return -EINVAL;
	const struct ip_mreq *m = optval;
	*group = ntohl(m->imr_multiaddr.s_addr);
	*ifaddr = ntohl(m->imr_interface.s_addr);
	return 0;
}

/** The socket behind s inside the caller's FF_READER(), or NULL with errno set. */
static struct ffs_sock *lookup(int s, struct ffs_stack **stp)
{
	struct ffs_stack *st = ffs_stack_current();
	struct ffs_sock *so = ff_sock_lookup(st, s);
	if (!so)
		errno = s >= FF_EPOLL_FD_BASE && ff_epoll_exists(s) ? ENOTSOCK : EBADF;
	*stp = st;
	return so;
}

/** Reads a -1..255 option (-1: `dflt`), as Linux's IPV6_UNICAST_HOPS, IPV6_MULTICAST_HOPS and IPV6_TCLASS. */
static int read_hops(const void *optval, socklen_t optlen, int dflt, int *out)
{
	int rc = read_int(optval, optlen, false, out);
	if (rc < 0)
		return rc;
	if (*out < -1 || *out > 255)
		return -EINVAL;
	if (*out == -1)
		*out = dflt;
	return 0;
}

/** The IPPROTO_IPV6 options of an AF_INET6 UDP socket (Linux's do_ipv6_setsockopt). */
static int set_ipv6(struct ffs_stack *st, struct ffs_sock *so, int optname, const void *optval, socklen_t optlen)
{
	if (!so->v6)
		return fail(-ENOPROTOOPT);
	int v, rc;
	switch (optname) {
	case IPV6_V6ONLY:
		if ((rc = read_int(optval, optlen, false, &v)) < 0)
			return fail(rc);
		if (so->bound)
			return fail(-EINVAL); /* Linux: only before bind */
		so->v6only = v != 0;
		return 0;
	case IPV6_UNICAST_HOPS:
		if ((rc = read_hops(optval, optlen, -1, &v)) < 0)
			return fail(rc);
		so->hops = (int16_t)v;
		return 0;
	case IPV6_MULTICAST_HOPS:
		if ((rc = read_hops(optval, optlen, 1, &v)) < 0)
			return fail(rc);
		so->mcast_hops = (int16_t)v;
		return 0;
	case IPV6_TCLASS:
		if ((rc = read_hops(optval, optlen, 0, &v)) < 0)
			return fail(rc);
		so->tclass = (uint8_t)v;
		return 0;
	case IPV6_MULTICAST_LOOP:
		if ((rc = read_int(optval, optlen, false, &v)) < 0)
			return fail(rc);
		if (v != 0 && v != 1)
			return fail(-EINVAL);
		so->mcast_loop = v;
		return 0;
	case IPV6_RECVPKTINFO:
		if ((rc = read_int(optval, optlen, false, &v)) < 0)
			return fail(rc);
		so->recv_pktinfo6 = v != 0;
		return 0;
	case IPV6_MULTICAST_IF:
		if ((rc = read_int(optval, optlen, false, &v)) < 0)
			return fail(rc);
		/* Interface indexes are the ports' (index + 1), as scope ids are. */
		if (v < 0 || (unsigned)v > st->n_ports)
			return fail(-ENODEV);
		so->mcast_if6 = (uint32_t)v;
		return 0;
	case IPV6_JOIN_GROUP:
	case IPV6_LEAVE_GROUP: {
		if (!optval)
			return fail(-EFAULT);
		if (optlen < sizeof(struct ipv6_mreq))
			return fail(-EINVAL);
		const struct ipv6_mreq *m = optval;
		const struct ip6_addr *group = (const struct ip6_addr *)&m->ipv6mr_multiaddr;
		int rc = optname == IPV6_JOIN_GROUP ? ffs_sock_join6(st, so, group, m->ipv6mr_interface, NULL)
						    : ffs_sock_leave6(st, so, group, m->ipv6mr_interface, NULL);
		return rc < 0 ? fail(rc) : 0;
	}
	case MCAST_JOIN_SOURCE_GROUP:
	case MCAST_LEAVE_SOURCE_GROUP: {
		if (!optval)
			return fail(-EFAULT);
		if (optlen < sizeof(struct group_source_req))
			return fail(-EINVAL);
		const struct group_source_req *g = optval;
		if (g->gsr_group.ss_family != AF_INET6 || g->gsr_source.ss_family != AF_INET6)
			return fail(-EINVAL);
		const struct ip6_addr *group = (const struct ip6_addr *)&((const struct sockaddr_in6 *)&g->gsr_group)->sin6_addr;
		const struct ip6_addr *source = (const struct ip6_addr *)&((const struct sockaddr_in6 *)&g->gsr_source)->sin6_addr;
		int rc = optname == MCAST_JOIN_SOURCE_GROUP ? ffs_sock_join6(st, so, group, g->gsr_interface, source)
							    : ffs_sock_leave6(st, so, group, g->gsr_interface, source);
		return rc < 0 ? fail(rc) : 0;
	}
	default:
		return fail(-ENOPROTOOPT);
	}
}

int ff_setsockopt(int s, int level, int optname, const void *optval, socklen_t optlen)
{
	FF_READER();
	struct ffs_stack *st;
	struct ffs_sock *so = lookup(s, &st);
	if (!so)
		return -1;
	int v = 0, rc;
	if (level == SOL_SOCKET) {
		switch (optname) {
		case SO_REUSEADDR:
		case SO_REUSEPORT:
		case SO_BROADCAST:
		case SO_RCVBUF:
		case SO_SNDBUF:
			if ((rc = read_int(optval, optlen, false, &v)) < 0)
				return fail(rc);
			break;
		default:
			return fail(-ENOPROTOOPT);
		}
		switch (optname) {
		case SO_REUSEADDR: so->reuseaddr = v != 0; return 0;
		case SO_REUSEPORT: so->reuseport = v != 0; return 0;
		case SO_BROADCAST: so->broadcast = v != 0; return 0;
		case SO_RCVBUF: return ffs_sock_set_buf(st, so, true, v < 0 ? 0 : v);
		case SO_SNDBUF: return ffs_sock_set_buf(st, so, false, v < 0 ? 0 : v);
		}
	}
	if (level == IPPROTO_IPV6)
		return set_ipv6(st, so, optname, optval, optlen);
	if (level != IPPROTO_IP)
		return fail(-ENOPROTOOPT);
	uint32_t group, ifaddr;
	switch (optname) {
	case IP_TTL:
		if ((rc = read_int(optval, optlen, true, &v)) < 0)
			return fail(rc);
		if (v == -1)
			v = (int)ffs_sysctl(st, FFS_SYSCTL_IP_TTL);
		if (v < 1 || v > 255)
			return fail(-EINVAL);
		so->ttl = (uint8_t)v;
		return 0;
	case IP_TOS:
		if ((rc = read_int(optval, optlen, true, &v)) < 0)
			return fail(rc);
		so->tos = (uint8_t)v;
		return 0;
	case IP_MULTICAST_TTL:
		if ((rc = read_int(optval, optlen, true, &v)) < 0)
			return fail(rc);
		if (v == -1)
			v = 1;
		if (v < 0 || v > 255)
			return fail(-EINVAL);
		so->mcast_ttl = (uint8_t)v;
		return 0;
	case IP_MULTICAST_LOOP:
	case IP_MULTICAST_ALL:
	case IP_PKTINFO:
		if ((rc = read_int(optval, optlen, true, &v)) < 0)
			return fail(rc);
		if (optname == IP_MULTICAST_LOOP)
			so->mcast_loop = v != 0;
		else if (optname == IP_MULTICAST_ALL)
			so->mcast_all = v != 0;
		else
			so->recv_pktinfo = v != 0;
		return 0;
	case IP_MULTICAST_IF: {
		if (!optval)
			return fail(-EFAULT);
		if (optlen < sizeof(struct in_addr))
			return fail(-EINVAL);
		uint32_t a;
		if (optlen >= sizeof(struct ip_mreqn)) {
			const struct ip_mreqn *m = optval;
			a = ntohl(m->imr_address.s_addr);
		} else {
			struct in_addr in;
			memcpy(&in, optval, sizeof(in));
			a = ntohl(in.s_addr);
		}
		if (a && !route_is_local(st, a))
			return fail(-EADDRNOTAVAIL);
		so->mcast_if = a;
		return 0;
	}
	case IP_ADD_MEMBERSHIP:
	case IP_DROP_MEMBERSHIP:
		if ((rc = read_mreq(optval, optlen, &group, &ifaddr)) < 0)
			return fail(rc);
		if (!ipv4_is_multicast(group))
			return fail(-EINVAL);
		rc = optname == IP_ADD_MEMBERSHIP ? ffs_sock_join(st, so, group, ifaddr, 0) : ffs_sock_leave(st, so, group, ifaddr, 0);
		return rc < 0 ? fail(rc) : 0;
	case IP_ADD_SOURCE_MEMBERSHIP:
	case IP_DROP_SOURCE_MEMBERSHIP: {
		if (!optval)
			return fail(-EFAULT);
		if (optlen < sizeof(struct ip_mreq_source))
			return fail(-EINVAL);
		const struct ip_mreq_source *m = optval;
		group = ntohl(m->imr_multiaddr.s_addr);
		ifaddr = ntohl(m->imr_interface.s_addr);
		uint32_t source = ntohl(m->imr_sourceaddr.s_addr);
		if (!ipv4_is_multicast(group))
			return fail(-EINVAL);
		rc = optname == IP_ADD_SOURCE_MEMBERSHIP ? ffs_sock_join(st, so, group, ifaddr, source)
							 : ffs_sock_leave(st, so, group, ifaddr, source);
		return rc < 0 ? fail(rc) : 0;
	}
	default:
		return fail(-ENOPROTOOPT);
	}
}

int ff_getsockopt(int s, int level, int optname, void *optval, socklen_t *optlen)
{
	FF_READER();
	struct ffs_stack *st;
	struct ffs_sock *so = lookup(s, &st);
	if (!so)
		return -1;
	if (!optval || !optlen)
		return fail(-EFAULT);
	int v;
	if (level == SOL_SOCKET) {
		switch (optname) {
		case SO_REUSEADDR: v = so->reuseaddr; break;
		case SO_REUSEPORT: v = so->reuseport; break;
		case SO_BROADCAST: v = so->broadcast; break;
		case SO_RCVBUF: v = so->rcvbuf; break;
		case SO_SNDBUF: v = so->sndbuf; break;
		case SO_TYPE: v = SOCK_DGRAM; break;
		case SO_DOMAIN: v = so->v6 ? AF_INET6 : AF_INET; break;
		case SO_PROTOCOL: v = IPPROTO_UDP; break;
		case SO_ERROR: v = atomic_exchange(&so->so_error, 0); break;
		default: return fail(-ENOPROTOOPT);
		}
	} else if (level == IPPROTO_IP) {
		switch (optname) {
		case IP_TTL: v = so->ttl; break;
		case IP_TOS: v = so->tos; break;
		case IP_MULTICAST_TTL: v = so->mcast_ttl; break;
		case IP_MULTICAST_LOOP: v = so->mcast_loop; break;
		case IP_MULTICAST_ALL: v = so->mcast_all; break;
		case IP_PKTINFO: v = so->recv_pktinfo; break;
		case IP_MULTICAST_IF: {
			if (*optlen < sizeof(struct in_addr))
				return fail(-EINVAL);
			struct in_addr a = { htonl(so->mcast_if) };
			memcpy(optval, &a, sizeof(a));
			*optlen = sizeof(a);
			return 0;
		}
		default: return fail(-ENOPROTOOPT);
		}
	} else if (level == IPPROTO_IPV6 && so->v6) {
		switch (optname) {
		case IPV6_V6ONLY: v = so->v6only; break;
		case IPV6_UNICAST_HOPS: v = so->hops < 0 ? IPV6_DEFAULT_HOPS : so->hops; break;
		case IPV6_MULTICAST_HOPS: v = so->mcast_hops; break;
		case IPV6_TCLASS: v = so->tclass; break;
		case IPV6_MULTICAST_LOOP: v = so->mcast_loop; break;
		case IPV6_MULTICAST_IF: v = (int)so->mcast_if6; break;
		case IPV6_RECVPKTINFO: v = so->recv_pktinfo6; break;
		default: return fail(-ENOPROTOOPT);
		}
	} else {
		return fail(-ENOPROTOOPT);
	}
	if ((int)*optlen < 0)
		return fail(-EINVAL);
	socklen_t n = *optlen < sizeof(int) ? *optlen : sizeof(int);
	memcpy(optval, &v, n);
	*optlen = n;
	return 0;
}
