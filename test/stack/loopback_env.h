/*
 * A C test's loopback-only inline stack (lcore_mask = 0x1) that the test's thread drives, and what
 * receive-path tests do on it: bound non-blocking sockets on 127.0.0.1, datagrams of a known byte
 * pattern, the loop turned until it settles, a socket's SO_RCVBUF charge.
 */
#ifndef FFNET_TEST_STACK_LOOPBACK_ENV_H
#define FFNET_TEST_STACK_LOOPBACK_ENV_H

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <sys/socket.h>

#include "posix/ff_api.h"
#include "stack/sock/sock.h"
#include "stack/stack.h"
#include "test/stack/harness.h"
#include "test/stack/stack_env.h"

static struct ffs_stack *st;

/** Starts program `prog`'s loopback-only inline stack (lcore_mask = 0x1), driven by this thread. */
static void loopback_setup(const char *prog)
{
	int rc = test_ff_init_ini(prog, "lcore_mask = 0x1\n");
	st = ffs_stack_current();
	if (rc != 0 || !st) {
		fprintf(stderr, "%s: ff_init failed\n", prog);
		exit(2);
	}
}

/** Turns the inline stack's loop until a turn finds nothing to do (bounded). */
static void settle(void)
{
	for (int i = 0; i < 1000 && ffs_stack_poll(st); i++)
		;
}

static struct sockaddr_in lo(uint16_t port)
{
	return (struct sockaddr_in){ .sin_family = AF_INET, .sin_port = htons(port), .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
}

/** A non-blocking socket bound to 127.0.0.1:port. */
static int bound(uint16_t port)
{
	int s = ff_socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
	CHECK(s >= 0);
	struct sockaddr_in sin = lo(port);
	CHECK_EQ_INT(ff_bind(s, (struct sockaddr *)&sin, sizeof(sin)), 0);
	return s;
}

/** Sends `len` bytes, byte j = (seed + j) & 0xff, from s to 127.0.0.1:port. */
static void send_pattern(int s, uint16_t port, unsigned seed, size_t len)
{
	static uint8_t buf[65536];
	for (size_t j = 0; j < len; j++)
		buf[j] = (uint8_t)(seed + j);
	struct sockaddr_in to = lo(port);
	CHECK_EQ_INT((int)ff_sendto(s, buf, len, 0, (struct sockaddr *)&to, sizeof(to)), (int)len);
}

/** Whether bytes [off, off + n) of a datagram sent by send_pattern(seed) are at p. */
static bool pattern_at(const uint8_t *p, unsigned seed, size_t off, size_t n)
{
	for (size_t j = 0; j < n; j++)
		if (p[j] != (uint8_t)(seed + off + j))
			return false;
	return true;
}

static int rx_bytes(int fd)
{
	return atomic_load(&ffs_sock_get(st, (uint32_t)fd)->rx_bytes);
}

#endif
