/* test_cidr.c: addresses and networks of the protect list. */
#include <setjmp.h>
#include <arpa/inet.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "parse/cidr.h"

static const struct {
	const char *in;
	int ok;
	const char *formatted;
} parse_cases[] = {
	{ "203.0.113.5", 1, "203.0.113.5" },
	{ "203.0.113.0/24", 1, "203.0.113.0/24" },
	{ "203.0.113.77/24", 1, "203.0.113.0/24" }, /* host bits cleared */
	{ "0.0.0.0/0", 1, "0.0.0.0/0" },
	{ "2001:db8::/32", 1, "2001:db8::/32" },
	{ "[2001:db8::1]", 1, "2001:db8::1" },
	{ "[2001:db8::]/48", 1, "2001:db8::/48" },
	{ "::ffff:192.0.2.1", 1, "192.0.2.1" },
	{ "300.1.2.3/40", 0, NULL },
	{ "10.0.0.0/33", 0, NULL },
	{ "10.0.0.0/-1", 0, NULL },
	{ "10.0.0.0/", 0, NULL },
	{ "10.0.0.0/8x", 0, NULL },
	{ "2001:db8::/129", 0, NULL },
	{ "example.com", 0, NULL },
	{ "", 0, NULL },
	{ "1.2.3", 0, NULL },
	{ "[1.2.3.4", 0, NULL },
};

static void test_parse_table(void **state)
{
	for (size_t i = 0; i < sizeof(parse_cases) / sizeof(parse_cases[0]); i++) {
		struct cidr c;
		int rc = cidr_parse(parse_cases[i].in, &c);
		if ((rc == 0) != parse_cases[i].ok)
			fail_msg("'%s': rc %d", parse_cases[i].in, rc);
		if (rc == 0) {
			char out[CIDR_STRLEN];
			cidr_format(&c, out);
			if (strcmp(out, parse_cases[i].formatted) != 0)
				fail_msg("'%s' formats as '%s', want '%s'", parse_cases[i].in, out,
					 parse_cases[i].formatted);
		}
	}
}

static void test_contains_and_protects(void **state)
{
	struct cidr net, a, b, v6;
	assert_int_equal(cidr_parse("203.0.113.0/24", &net), 0);
	assert_int_equal(cidr_parse("203.0.113.200", &a), 0);
	assert_int_equal(cidr_parse("203.0.114.1", &b), 0);
	assert_int_equal(cidr_parse("2001:db8::1", &v6), 0);
	assert_true(cidr_contains(&net, &a));
	assert_false(cidr_contains(&net, &b));
	assert_false(cidr_contains(&net, &v6));

	struct cidr_list empty = { 0 };
	assert_true(cidr_list_protects(&empty, &b)); /* empty: every source */
	struct cidr_list l = { 0 };
	size_t bad;
	assert_int_equal(cidr_list_parse("203.0.113.0/24 , 2001:db8::/32", &l, &bad), 0);
	assert_int_equal(l.n, 2);
	assert_true(cidr_list_protects(&l, &a));
	assert_true(cidr_list_protects(&l, &v6));
	assert_false(cidr_list_protects(&l, &b));
	cidr_list_free(&l);
	assert_int_equal(cidr_list_parse("10.0.0.0/8, nonsense", &l, &bad), -EINVAL);
	assert_int_equal(bad, 12);
	cidr_list_free(&l);
}

static void test_first_and_last(void **state)
{
	struct cidr net, first, last;
	char s[CIDR_STRLEN];
	assert_int_equal(cidr_parse("198.51.100.64/26", &net), 0);
	cidr_first(&net, &first);
	cidr_last(&net, &last);
	cidr_format(&first, s);
	assert_string_equal(s, "198.51.100.64");
	cidr_format(&last, s);
	assert_string_equal(s, "198.51.100.127");
}

/* cidr_quad_scan() against inet_pton(): the same answer for every text, whether the buffer
 * leaves it room (the fast path reads 16 bytes) or ends right after it (the careful loop). */
static void test_quad_scan_agrees_with_inet_pton(void **state)
{
	static const char *texts[] = {
		"0.0.0.0", "1.2.3.4", "10.3.0.255", "255.255.255.255", "256.1.1.1", "1.2.3.256",
		"01.2.3.4", "1.02.3.4", "1.2.3.04", "1.2.3", "1.2.3.4.5", "1..2.3", ".1.2.3",
		"1.2.3.", "1234.1.1.1", "1.2.3.1234", "999.1.1.1", "a.b.c.d", "1.2.3.4a", "",
		"192.168.100.200", "0.10.100.0", "00.1.1.1", "1.2.3.0", "300.300.300.300",
	};
	for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
		const char *t = texts[i];
		size_t n = strlen(t);
		/* what inet_pton says of the address part: the longest prefix scan stops at */
		struct in_addr a;
		bool whole = inet_pton(AF_INET, t, &a) == 1;
		char room[64];
		snprintf(room, sizeof(room), "%s\n%s", t, "................");
		for (int tight = 0; tight < 2; tight++) {
			const char *buf = tight ? t : room;
			const char *lim = tight ? t + n : room + strlen(room);
			uint32_t w = 0;
			const char *end = cidr_quad_scan(buf, lim, &w);
			bool ends_at_text = end == buf + n;
			if (whole) {
				assert_true(ends_at_text);
				assert_int_equal(w, ntohl(a.s_addr));
			} else {
				assert_false(ends_at_text);
			}
		}
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_table),
		cmocka_unit_test(test_contains_and_protects),
		cmocka_unit_test(test_first_and_last),
		cmocka_unit_test(test_quad_scan_agrees_with_inet_pton),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
