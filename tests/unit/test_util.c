/* test_util.c: text of the instance made visible for people (text_visible()). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_text_visible_table),
		cmocka_unit_test(test_text_visible_null_is_empty),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
