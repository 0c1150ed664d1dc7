/*
 * Control messages: how other threads change a lcore's state. The sender posts a message to the
 * lcore's ring; the lcore applies it between bursts and acknowledges. Synchronous calls wait
 * (bounded) for every lcore's acknowledgement; asynchronous ones are freed by the lcore. In inline
 * mode the caller is the lcore, so messages are applied at once. This is the only way state owned
 * by a lcore changes (the libiapp rule: an object is managed by the thread that owns it).
 */
#ifndef FFNET_LCORE_CTRL_H
#define FFNET_LCORE_CTRL_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include "stack/stack.h"
#include "stack/sock/sock.h"

enum ffs_ctrl_op {
	FFS_CTRL_NEIGH_ADD,
	FFS_CTRL_NEIGH_DEL,
	FFS_CTRL_NEIGH_DUMP,
	FFS_CTRL_PING,
	FFS_CTRL_SOCK_UPSERT,
	FFS_CTRL_SOCK_REMOVE,
	FFS_CTRL_GROUP_ADD,
	FFS_CTRL_GROUP_DEL,
	FFS_CTRL_IGMP_STATE,
};

struct ffs_ctrl_msg {
	enum ffs_ctrl_op op;
	bool async;                /**< the lcore frees the message (malloc'd) */
	atomic_uint pending;       /**< acknowledgements still due */
	atomic_int result;         /**< first non-zero result wins; for NEIGH_DEL the count of removals */
	union {
		struct {
			uint16_t port_index;
			uint32_t addr;
			struct eth_addr mac;
		} neigh;
		struct {
			struct ffs_neigh_info *out;
			unsigned max;
		} dump;
		struct {
			uint32_t dst;
			uint16_t token;
			uint16_t payload;
		} ping;
		struct {
			struct ffs_sock *so;
			uint16_t lport;
		} sock;
		struct {
			uint16_t port_index;
			uint32_t group;
			bool exclude;    /**< IGMP_STATE: see igmp_state_change */
			unsigned n_sources;
			uint32_t sources[64];
		} group;
	} u;
};

struct ffs_lcore;

/** Applies a message on the calling lcore (the lcore loop calls this for each message it dequeues). */
void ffs_ctrl_apply(struct ffs_lcore *lc, struct ffs_ctrl_msg *msg);
/** Sends to every lcore and waits for all of them (at most 2 s). Returns msg->result, or -ETIMEDOUT. */
int ffs_ctrl_all(struct ffs_stack *st, struct ffs_ctrl_msg *msg);
/** Sends to lcore index i. Synchronous unless msg->async. Returns msg->result (0 when async), or a negative errno. */
int ffs_ctrl_one(struct ffs_stack *st, unsigned i, struct ffs_ctrl_msg *msg);

#endif
