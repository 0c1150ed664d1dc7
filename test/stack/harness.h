/*
 * A single-header test harness for ffnet's C test programs (test/stack/<subject>_test.c).
 *
 *   #include "test/stack/harness.h"
 *   TEST(parses_header) { CHECK_EQ_INT(f(1), 2); }
 *   TEST_MAIN()
 *
 * Cases run in the order they are defined. A failing check ends its case (by longjmp, so checks
 * also work inside helper functions) and the program goes on to the next case.
 *
 * Output contract, on stdout, read by test/stack/c-suites.test.ts:
 *   ok <case>
 *   not ok <case>: <file>:<line>: <message>
 *   # <P> passed, <F> failed          (last line)
 * Lines starting with "#   " before a "not ok" line are diagnostics for it (CHECK_MEM's hex diff).
 * Exit status 1 if any case failed, else 0. `prog <case>` runs only the named case.
 */
#ifndef FFNET_TEST_HARNESS_H
#define FFNET_TEST_HARNESS_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define TEST_MAX_CASES 1024

struct test_case {
	const char *name;
	void (*fn)(void);
	int line; /**< where TEST() stands: the run order */
};

static struct test_case test__cases[TEST_MAX_CASES];
static int test__ncases;
static jmp_buf test__jmp;
static char test__msg[1024];

static inline void test__register(const char *name, void (*fn)(void), int line)
{
	if (test__ncases == TEST_MAX_CASES) {
		fprintf(stderr, "harness: more than %d cases\n", TEST_MAX_CASES);
		abort();
	}
	test__cases[test__ncases++] = (struct test_case){ name, fn, line };
}

/** Defines and registers a case; the body follows as a function body. */
#define TEST(name)                                                                             \
	static void test_##name(void);                                                         \
	__attribute__((constructor)) static void test__register_##name(void)                   \
	{                                                                                      \
		test__register(#name, test_##name, __LINE__);                                  \
	}                                                                                      \
	static void test_##name(void)

__attribute__((noreturn, format(printf, 3, 4))) static inline void test__fail(const char *file, int line,
									       const char *fmt, ...)
{
	int n = snprintf(test__msg, sizeof test__msg, "%s:%d: ", file, line);
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(test__msg + n, sizeof test__msg - (size_t)n, fmt, ap);
	va_end(ap);
	longjmp(test__jmp, 1);
}

/** Fails the case with a printf-style message. */
#define FAIL(...) test__fail(__FILE__, __LINE__, __VA_ARGS__)

/** Fails the case unless `cond` holds. */
#define CHECK(cond)                                                                            \
	do {                                                                                   \
		if (!(cond))                                                                   \
			test__fail(__FILE__, __LINE__, "CHECK(%s) failed", #cond);             \
	} while (0)

/** Fails the case unless two integers (of any integer type, compared as long long) are equal. */
#define CHECK_EQ_INT(a, b)                                                                     \
	do {                                                                                   \
		long long test__a = (long long)(a), test__b = (long long)(b);                  \
		if (test__a != test__b)                                                        \
			test__fail(__FILE__, __LINE__, "CHECK_EQ_INT(%s, %s): %lld != %lld (0x%llx != 0x%llx)", \
				   #a, #b, test__a, test__b, (unsigned long long)test__a,      \
				   (unsigned long long)test__b);                               \
	} while (0)

/** Fails the case unless two NUL-terminated strings are equal. */
#define CHECK_EQ_STR(a, b)                                                                     \
	do {                                                                                   \
		const char *test__a = (a), *test__b = (b);                                     \
		if (strcmp(test__a, test__b) != 0)                                             \
			test__fail(__FILE__, __LINE__, "CHECK_EQ_STR(%s, %s): \"%s\" != \"%s\"", #a, #b, \
				   test__a, test__b);                                          \
	} while (0)

/** Fails the case unless `len` bytes at `got` equal those at `want`; prints a hex diff. */
#define CHECK_MEM(got, want, len) test__check_mem(__FILE__, __LINE__, #got, #want, (got), (want), (len))

static inline void test__hex_row(const char *label, const uint8_t *p, const uint8_t *other, size_t from, size_t to)
{
	printf("#   %s", label);
	for (size_t i = from; i < to; i++)
		printf(p[i] != other[i] ? "[%02x]" : " %02x ", p[i]);
	printf("\n");
}

static inline void test__check_mem(const char *file, int line, const char *egot, const char *ewant,
				   const void *got, const void *want, size_t len)
{
	const uint8_t *g = got, *w = want;
	size_t ndiff = 0, first = 0;

	for (size_t i = 0; i < len; i++)
		if (g[i] != w[i] && ndiff++ == 0)
			first = i;
	if (ndiff == 0)
		return;

	printf("#   CHECK_MEM(%s, %s, %zu): differing bytes in []\n", egot, ewant, len);
	for (size_t row = 0; row < len; row += 16) {
		size_t end = row + 16 < len ? row + 16 : len;
		if (memcmp(g + row, w + row, end - row) == 0)
			continue;
		char label[32];
		snprintf(label, sizeof label, "%04zx got  ", row);
		test__hex_row(label, g, w, row, end);
		test__hex_row("     want ", w, g, row, end);
	}
	test__fail(file, line, "CHECK_MEM(%s, %s, %zu): %zu byte(s) differ, first at offset %zu (got 0x%02x, want 0x%02x)",
		   egot, ewant, len, ndiff, first, g[first], w[first]);
}

static inline int test__by_line(const void *a, const void *b)
{
	return ((const struct test_case *)a)->line - ((const struct test_case *)b)->line;
}

static inline int test__main(int argc, char **argv, const char *file)
{
	const char *filter = argc > 1 ? argv[1] : NULL;
	/* Counted across longjmp returns, so kept out of registers. */
	volatile int passed = 0, failed = 0;

	/* Constructors run in an order the toolchain chooses; the source order is the run order. */
	qsort(test__cases, (size_t)test__ncases, sizeof test__cases[0], test__by_line);
	for (volatile int i = 0; i < test__ncases; i++) {
		const struct test_case *volatile tc = &test__cases[i]; /* read again after longjmp */
		if (filter && strcmp(filter, tc->name) != 0)
			continue;
		if (setjmp(test__jmp) == 0) {
			tc->fn();
			printf("ok %s\n", tc->name);
			passed++;
		} else {
			printf("not ok %s: %s\n", tc->name, test__msg);
			failed++;
		}
		fflush(stdout);
	}
	if (filter && passed + failed == 0) {
		printf("not ok %s: %s:0: no case named \"%s\"\n", filter, file, filter);
		failed++;
	}
	printf("# %d passed, %d failed\n", passed, failed);
	fflush(stdout);
	return failed ? 1 : 0;
}

/** Milliseconds on the monotonic clock, for the cases' bounded waits. */
static inline uint64_t test_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/** Defines main(): runs every case (or only argv[1]) and prints the summary line. */
#define TEST_MAIN()                                                                            \
	int main(int argc, char **argv)                                                        \
	{                                                                                      \
		return test__main(argc, argv, __FILE__);                                       \
	}

#endif
