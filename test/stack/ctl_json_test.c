/*
 * The control server's JSON writer (stack/ctl/json.h): commas, nesting, escapes, numbers, addresses,
 * reuse after reset.
 */
#include "stack/ctl/json.h"
#include "test/stack/harness.h"

TEST(nested_object_and_array_commas)
{
	struct ffs_json j;
	ffs_json_init(&j);
	ffs_json_obj_begin(&j);
	ffs_json_kv_str(&j, "name", "port0");
	ffs_json_key(&j, "list");
	ffs_json_arr_begin(&j);
	ffs_json_u64(&j, 1);
	ffs_json_i64(&j, -2);
	ffs_json_obj_begin(&j);
	ffs_json_obj_end(&j);
	ffs_json_arr_begin(&j);
	ffs_json_arr_end(&j);
	ffs_json_null(&j);
	ffs_json_arr_end(&j);
	ffs_json_kv_bool(&j, "up", true);
	ffs_json_kv_bool(&j, "down", false);
	ffs_json_obj_end(&j);
	CHECK(!ffs_json_failed(&j));
	CHECK_EQ_STR(j.buf, "{\"name\":\"port0\",\"list\":[1,-2,{},[],null],\"up\":true,\"down\":false}");
	CHECK_EQ_INT(j.depth, 0);
	ffs_json_free(&j);
}

TEST(strings_are_escaped)
{
	struct ffs_json j;
	ffs_json_init(&j);
	ffs_json_str(&j, "a\"b\\c\nd\te\x01 é");
	CHECK_EQ_STR(j.buf, "\"a\\\"b\\\\c\\nd\\te\\u0001 é\"");
	ffs_json_free(&j);
}

TEST(numbers_extremes_and_non_finite)
{
	struct ffs_json j;
	ffs_json_init(&j);
	ffs_json_arr_begin(&j);
	ffs_json_u64(&j, UINT64_MAX);
	ffs_json_i64(&j, INT64_MIN);
	ffs_json_double(&j, 0.5);
	ffs_json_double(&j, 1.0 / 0.0);
	ffs_json_arr_end(&j);
	CHECK_EQ_STR(j.buf, "[18446744073709551615,-9223372036854775808,0.5,null]");
	ffs_json_free(&j);
}

TEST(addresses)
{
	struct ffs_json j;
	ffs_json_init(&j);
	struct eth_addr mac = { { 0x02, 0x00, 0xab, 0xcd, 0xef, 0x01 } };
	ffs_json_obj_begin(&j);
	ffs_json_kv_ipv4(&j, "inet", 0x0a4d0002);
	ffs_json_kv_mac(&j, "mac", &mac);
	ffs_json_obj_end(&j);
	CHECK_EQ_STR(j.buf, "{\"inet\":\"10.77.0.2\",\"mac\":\"02:00:ab:cd:ef:01\"}");
	ffs_json_free(&j);
}

TEST(reset_reuses_the_buffer)
{
	struct ffs_json j;
	ffs_json_init(&j);
	for (int i = 0; i < 1000; i++)
		ffs_json_kv_u64(&j, "k", (uint64_t)i); /* grows past the first allocation */
	CHECK(j.len > 256);
	char *buf = j.buf;
	ffs_json_reset(&j);
	CHECK_EQ_INT(j.len, 0);
	CHECK(j.buf == buf);
	ffs_json_obj_begin(&j);
	ffs_json_kv_u64(&j, "a", 1);
	ffs_json_obj_end(&j);
	CHECK_EQ_STR(j.buf, "{\"a\":1}");
	ffs_json_free(&j);
}

TEST(too_deep_fails_instead_of_overflowing)
{
	struct ffs_json j;
	ffs_json_init(&j);
	for (int i = 0; i < FFS_JSON_MAX_DEPTH + 4; i++)
		ffs_json_arr_begin(&j);
	CHECK(ffs_json_failed(&j));
	CHECK(j.depth < FFS_JSON_MAX_DEPTH);
	ffs_json_free(&j);
}

TEST_MAIN()
