/*
 * The IPv6 frames the Linux kernel sent over a veth pair (test/fixtures/ipv6.hex, made by
 * test/fixtures/capture-ipv6.sh), found by what they are rather than by position: the kernel's MLD
 * and DAD timers are randomised, so the order of the frames varies from one capture to the next.
 */
#ifndef FFNET_TEST_IPV6_FIXTURES_H
#define FFNET_TEST_IPV6_FIXTURES_H

#include "stack/wire/eth.h"
#include "stack/wire/ipv6.h"
#include "test/stack/fixtures.h"

#define IPV6_FIXTURE_MAX_FRAMES 96

static struct fixture_frame v6_frames[IPV6_FIXTURE_MAX_FRAMES];
static int v6_n_frames = -1;

static const struct eth_addr MAC1 = { { 0x02, 0x00, 0x00, 0x99, 0x00, 0x01 } };
static const struct eth_addr MAC2 = { { 0x02, 0x00, 0x00, 0x99, 0x00, 0x02 } };

/** The address in text, parsed with ip6_parse (a failing check if it does not parse). */
static struct ip6_addr A(const char *text)
{
	struct ip6_addr a;
	if (ip6_parse(text, &a) != 0)
		FAIL("ip6_parse(\"%s\") failed", text);
	return a;
}

/** What a frame is: the fields find_v6 matches on. ICMPv6 type 0 and port 0 match any. */
struct v6_match {
	const char *src, *dst; /**< NULL: any */
	uint8_t next_header;   /**< the fixed header's Next Header */
	uint8_t icmp6_type;    /**< when next_header is ICMPv6, or the Hop-by-Hop header's is */
	uint16_t payload_len;  /**< 0: any */
};

/** The nth frame (0-based) matching m; the IPv6 header at fr->b + ETH_HDR_LEN. */
static const struct fixture_frame *find_v6(const struct v6_match *m, int nth)
{
	if (v6_n_frames < 0)
		v6_n_frames = fixture_load("ipv6.hex", v6_frames, IPV6_FIXTURE_MAX_FRAMES);
	for (int i = 0; i < v6_n_frames; i++) {
		const uint8_t *p = v6_frames[i].b + ETH_HDR_LEN;
		if (v6_frames[i].len < ETH_HDR_LEN + IPV6_HDR_LEN + 8 || p[-2] != 0x86 || p[-1] != 0xdd)
			continue;
		if (p[6] != m->next_header || (m->payload_len && rd_be16(p + 4) != m->payload_len))
			continue;
		struct ip6_addr src = m->src ? A(m->src) : IP6_ANY, dst = m->dst ? A(m->dst) : IP6_ANY;
		if ((m->src && memcmp(p + 8, src.b, 16)) || (m->dst && memcmp(p + 24, dst.b, 16)))
			continue;
		if (m->icmp6_type) {
			const uint8_t *icmp = p[6] == IPV6_NH_HOPOPTS ? p + 48 : p + 40;
			if (v6_frames[i].len < (size_t)(icmp - v6_frames[i].b) + 1 || icmp[0] != m->icmp6_type)
				continue;
		}
		if (nth-- == 0)
			return &v6_frames[i];
	}
	FAIL("ipv6.hex holds no frame %d of that kind (next header %d, ICMPv6 type %d)", nth, m->next_header,
	     m->icmp6_type);
}

/** The IPv6 packet of a frame, and its length (payload length + 40: no link-layer padding). */
static const uint8_t *v6_packet(const struct fixture_frame *fr, size_t *len)
{
	const uint8_t *p = fr->b + ETH_HDR_LEN;
	*len = IPV6_HDR_LEN + rd_be16(p + 4);
	return p;
}

#endif
