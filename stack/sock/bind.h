/*
 * What the socket layer's files share of the port namespace (sock/bind.c): internal to stack/sock/.
 */
#ifndef FFNET_SOCK_BIND_H
#define FFNET_SOCK_BIND_H

#include "stack/lcore/ctrl.h"
#include "stack/sock/sock.h"

/** A SOCK_UPSERT or SOCK_REMOVE message for so, or NULL when out of memory. */
struct ffs_ctrl_msg *ffs_sock_msg(enum ffs_ctrl_op op, struct ffs_sock *so);
/** Caller holds ns_lock. Tells every lcore of so's addressing and memberships (SOCK_UPSERT). */
int ffs_sock_publish(struct ffs_stack *st, struct ffs_sock *so);

struct ip6_addr;
/** Whether an AF_INET6 socket can reach dst (link-local and multicast ones through `scope`, an
 *  interface index), as Linux's route lookup before udpv6_sendmsg queues; false: -ENETUNREACH. */
/** The link a link-local destination without a scope goes out of, as Linux's route lookup picks the
 *  first interface with an fe80::/64 route: the first port with IPv6 on (index + 1), 0 when none. */
uint32_t ffs_sock_default_scope6(const struct ffs_stack *st);
bool ffs_sock_reachable6(const struct ffs_stack *st, const struct ip6_addr *dst, uint32_t scope);

#endif
