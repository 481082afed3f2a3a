/* test_util.c: text of the instance made visible for people (text_visible()); buffers that stop
 * at their max; arrays grown by xgrow(). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <string.h>

#include "util.h"

static const struct {
	const char *in, *want;
} cases[] = {
	{"sshd: 203.0.113.5", "sshd: 203.0.113.5"},
	{"a\tb", "a\tb"},
	{"\033[2J\rsshd: ok", "\\x1b[2J\\rsshd: ok"},
	{"line\nforged", "line\\nforged"},
	{"del\x7f", "del\\x7f"},
	{"caf\xc3\xa9 \xe2\x82\xac", "caf\xc3\xa9 \xe2\x82\xac"}, /* valid UTF-8 kept */
	{"csi\x9b"
	 "2J",
	 "csi\\x9b2J"}, /* 8-bit C1, not UTF-8 */
	{"c1\xc2\x9b"
	 "2J",
	 "c1\\u009b2J"}, /* C1 encoded in UTF-8 */
	{"rlo\xe2\x80\xae"
	 "txt",
	 "rlo\\u202etxt"}, /* bidi override */
	{"overlong\xc0\xaf", "overlong\\xc0\\xaf"},
	{"surrogate\xed\xa0\x80", "surrogate\\xed\\xa0\\x80"},
	{"cut\xe2\x82", "cut\\xe2\\x82"},
	{"back\\slash \\x1b", "back\\slash \\x1b"}, /* escaping twice: same */
};

static void test_text_visible_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		char *got = text_visible(cases[i].in);
		assert_string_equal(got, cases[i].want);
		char *twice = text_visible(got);
		assert_string_equal(twice, got);
		free(twice);
		free(got);
	}
}

static void test_text_visible_null_is_empty(void **state)
{
	(void)state;
	char *got = text_visible(NULL);
	assert_string_equal(got, "");
	free(got);
}

/* Appends to a buffer of max 8: each keeps what fits and says whether it left bytes out. */
static void test_buf_stops_at_max(void **state)
{
	(void)state;
	static const struct {
		const char *append;
		int rc;
		const char *want;
	} steps[] = {
		{"", 0, ""},
		{"abc", 0, "abc"},
		{"defgh", 0, "abcdefgh"}, /* exactly max */
		{"", 0, "abcdefgh"},
		{"i", -EFBIG, "abcdefgh"},
	};
	struct buf b = {.max = 8};
	for (size_t i = 0; i < ARRAY_SIZE(steps); i++) {
		assert_int_equal(buf_puts(&b, steps[i].append), steps[i].rc);
		assert_string_equal(b.data, steps[i].want);
		assert_int_equal(b.len, strlen(steps[i].want));
	}
	buf_free(&b);
	assert_int_equal(b.max, 8);
	assert_int_equal(buf_puts(&b, "0123456789"), -EFBIG); /* part of one append */
	assert_string_equal(b.data, "01234567");
	buf_free(&b);
	struct buf unbounded = {0};
	for (int i = 0; i < 1000; i++)
		assert_int_equal(buf_puts(&unbounded, "0123456789"), 0);
	assert_int_equal(unbounded.len, 10000);
	buf_free(&unbounded);
}

/* Appending one element at a time to an array that only xgrow() allocates keeps every element
 * (AddressSanitizer and valgrind see any write past the allocation). */
static void test_xgrow_keeps_elements(void **state)
{
	(void)state;
	size_t *v = NULL;
	for (size_t n = 0; n < 5000; n++) {
		v = xgrow(v, n, sizeof(*v));
		v[n] = n;
	}
	for (size_t n = 0; n < 5000; n++)
		assert_int_equal(v[n], n);
	free(v);
	struct strv l = {0};
	for (int i = 0; i < 100; i++)
		strv_push_owned(&l, xasprintf("%d", i));
	assert_int_equal(l.n, 100);
	assert_string_equal(l.v[99], "99");
	assert_null(l.v[100]);
	strv_free(&l);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_text_visible_table),
		cmocka_unit_test(test_text_visible_null_is_empty),
		cmocka_unit_test(test_buf_stops_at_max),
		cmocka_unit_test(test_xgrow_keeps_elements),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
