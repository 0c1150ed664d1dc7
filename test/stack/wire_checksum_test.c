/*
 * The Internet checksum (stack/wire/checksum.c) against RFC 1071's worked example, real headers,
 * and a byte-at-a-time reference over every length and alignment.
 */
#include "stack/wire/checksum.h"
#include "test/stack/harness.h"

/* The obvious RFC 1071 loop: big-endian 16-bit words, odd byte padded, folded at the end. */
static uint16_t ref_checksum(const uint8_t *p, size_t len, uint32_t seed)
{
	uint64_t sum = seed;
	for (size_t i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)(p[i] << 8 | p[i + 1]);
	if (len & 1)
		sum += (uint32_t)p[len - 1] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

static uint32_t rng_state = 0x2545f491;
static uint8_t rng_byte(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 17;
	rng_state ^= rng_state << 5;
	return (uint8_t)rng_state;
}

/* RFC 1071 §3: "the 16-bit one's complement sum" of 00 01 f2 03 f4 f5 f6 f7 is ddf2. */
static const uint8_t rfc1071_example[] = { 0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7 };

/* An IPv4 header the Linux kernel sent (10.99.0.1 -> 10.99.0.2, ICMP), checksum 0x52cc. */
static const uint8_t kernel_ipv4_hdr[] = {
	0x45, 0x00, 0x00, 0x41, 0xd3, 0x27, 0x40, 0x00, 0x40, 0x01,
	0x52, 0xcc, 0x0a, 0x63, 0x00, 0x01, 0x0a, 0x63, 0x00, 0x02,
};

TEST(rfc1071_example_sum)
{
	CHECK_EQ_INT(csum_fold(csum_partial(rfc1071_example, sizeof rfc1071_example, 0)), (uint16_t)~0xddf2);
	CHECK_EQ_INT(csum_buf(rfc1071_example, sizeof rfc1071_example), 0x220d);
}

TEST(empty_buffer)
{
	CHECK_EQ_INT(csum_partial(rfc1071_example, 0, 0), 0);
	CHECK_EQ_INT(csum_partial(NULL, 0, 0x1234), 0x1234);
	CHECK_EQ_INT(csum_buf(rfc1071_example, 0), 0xffff);
}

TEST(valid_header_sums_to_zero)
{
	CHECK_EQ_INT(csum_buf(kernel_ipv4_hdr, sizeof kernel_ipv4_hdr), 0);
}

TEST(header_checksum_recomputed)
{
	uint8_t h[sizeof kernel_ipv4_hdr];
	memcpy(h, kernel_ipv4_hdr, sizeof h);
	h[10] = h[11] = 0;
	CHECK_EQ_INT(csum_buf(h, sizeof h), 0x52cc);
}

TEST(odd_length_pads_last_byte_low)
{
	static const uint8_t one[] = { 0x01 };
	static const uint8_t three[] = { 0x12, 0x34, 0x56 };
	CHECK_EQ_INT(csum_buf(one, 1), 0xfeff);
	CHECK_EQ_INT(csum_buf(three, 3), (uint16_t)~(0x1234 + 0x5600));
}

TEST(every_length_and_alignment_matches_reference)
{
	uint8_t storage[300 + 8];
	for (size_t i = 0; i < sizeof storage; i++)
		storage[i] = rng_byte();
	for (size_t off = 0; off < 8; off++)
		for (size_t len = 0; len <= 300; len++) {
			uint16_t want = ref_checksum(storage + off, len, 0);
			uint16_t got = csum_buf(storage + off, len);
			if (got != want)
				FAIL("offset %zu length %zu: got 0x%04x, want 0x%04x", off, len, got, want);
		}
}

TEST(all_ones_buffer_folds_without_overflow)
{
	static uint8_t big[65536];
	memset(big, 0xff, sizeof big);
	CHECK_EQ_INT(csum_buf(big, sizeof big), 0);
	CHECK_EQ_INT(csum_buf(big, sizeof big - 1), ref_checksum(big, sizeof big - 1, 0));
	big[100] = 0;
	CHECK_EQ_INT(csum_buf(big, sizeof big), ref_checksum(big, sizeof big, 0));
}

TEST(seed_is_added_with_end_around_carry)
{
	uint8_t buf[64];
	for (size_t i = 0; i < sizeof buf; i++)
		buf[i] = rng_byte();
	static const uint32_t seeds[] = { 0, 1, 0xffff, 0x10000, 0x7fffffff, 0xfffffffe, 0xffffffff };
	for (size_t i = 0; i < sizeof seeds / sizeof seeds[0]; i++)
		CHECK_EQ_INT(csum_fold(csum_partial(buf, sizeof buf, seeds[i])), ref_checksum(buf, sizeof buf, seeds[i]));
}

TEST(chained_partials_equal_one_pass)
{
	uint8_t buf[101];
	for (size_t i = 0; i < sizeof buf; i++)
		buf[i] = rng_byte();
	for (size_t split = 0; split <= sizeof buf; split += 2) {
		uint32_t sum = csum_partial(buf, split, 0);
		sum = csum_partial(buf + split, sizeof buf - split, sum);
		CHECK_EQ_INT(csum_fold(sum), csum_buf(buf, sizeof buf));
	}
}

TEST(fold)
{
	CHECK_EQ_INT(csum_fold(0), 0xffff);
	CHECK_EQ_INT(csum_fold(0xffff), 0);
	CHECK_EQ_INT(csum_fold(0x1fffe), 0);
	CHECK_EQ_INT(csum_fold(0x12345), (uint16_t)~0x2346);
	CHECK_EQ_INT(csum_fold(0xffffffff), 0);
}

TEST(pseudo_header_matches_kernel_offload_seed)
{
	/* The Linux kernel, offloading a 20-byte UDP datagram 10.99.0.1 -> 10.99.0.2 to veth, left
	 * 0x14ee in the checksum field: the folded pseudo-header sum. */
	uint32_t sum = csum_pseudo_ipv4(0x0a630001, 0x0a630002, 17, 20);
	CHECK_EQ_INT((uint16_t)~csum_fold(sum), 0x14ee);
}

TEST(pseudo_header_words)
{
	/* RFC 768: source address, destination address, zero, protocol, UDP length. */
	static const uint8_t pseudo[] = { 0xc0, 0xa8, 0x00, 0x01, 0xff, 0xff, 0xff, 0xff, 0x00, 17, 0xff, 0xf0 };
	CHECK_EQ_INT(csum_fold(csum_pseudo_ipv4(0xc0a80001, 0xffffffff, 17, 0xfff0)), csum_buf(pseudo, sizeof pseudo));
}

TEST_MAIN()
