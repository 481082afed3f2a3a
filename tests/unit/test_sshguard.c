/* test_sshguard.c: SSHGuard's configuration variables, blocklist lines (what the blocker
 * loads and blocks at start) and whitelist coverage, as tables. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "parse/sshguard.h"

static void test_conf_variables_last_assignment_wins(void **state)
{
	(void)state;
	static const char conf[] = "# comment\n"
				   "BACKEND=\"/usr/libexec/sshguard/sshg-fw-nft-sets\"\n"
				   "BLACKLIST_FILE=10:/var/db/first\n"
				   "  BLACKLIST_FILE='120:/var/lib/sshguard/blacklist.db' # later\n"
				   "WHITELIST_FILE=/etc/sshguard/whitelist\n"
				   "export WHITELIST_ARG=\"10.0.0.0/8 /etc/sshguard/more\"\n";
	struct sshguard_conf c;
	sshguard_conf_parse(conf, strlen(conf), &c);
	assert_string_equal(c.blacklist, "120:/var/lib/sshguard/blacklist.db");
	assert_string_equal(c.whitelist_file, "/etc/sshguard/whitelist");
	assert_int_equal(c.whitelist_file_line, 5);
	assert_string_equal(c.whitelist_arg, "10.0.0.0/8 /etc/sshguard/more");
	sshguard_conf_free(&c);
	static const char unset[] = "#BLACKLIST_FILE=1:/x\nWHITELIST_FILE=\n";
	sshguard_conf_parse(unset, strlen(unset), &c);
	assert_null(c.blacklist);
	assert_null(c.whitelist_file);
	sshguard_conf_free(&c);
}

static void test_blacklist_argument(void **state)
{
	(void)state;
	static const struct {
		const char *arg, *path;
	} cases[] = {
		{ "120:/var/lib/sshguard/blacklist.db", "/var/lib/sshguard/blacklist.db" },
		{ "5:/x y", "/x" },
		{ "/no/threshold", NULL },
		{ "x:/y", NULL },
		{ "10:", NULL },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *p = sshguard_blacklist_path(cases[i].arg);
		if (cases[i].path)
			assert_string_equal(p ? p : "(null)", cases[i].path);
		else
			assert_null(p);
		free(p);
	}
}

struct seen {
	unsigned lines[8];
	size_t n;
};

static void collect(void *arg, const struct sshguard_entry *e)
{
	struct seen *s = arg;
	if (s->n < 8)
		s->lines[s->n++] = e->line;
}

static void test_blacklist_lines_the_blocker_loads(void **state)
{
	(void)state;
	static const char bl[] = "1796550221|100|4|203.0.113.7\n" /* 1: loaded */
				 "#1796550221|100|4|203.0.113.8\n" /* 2: comment */
				 " 1796550221|100|4|203.0.113.9\n" /* 3: leading space */
				 "1796550221|100|6|2001:db8::1\n"  /* 4: loaded */
				 "1796550221|100|5|203.0.113.10\n" /* 5: unknown kind */
				 "garbage\n"                       /* 6 */
				 "1796550221|110|4|198.51.100.1";  /* 7: no newline, loaded */
	struct seen s = { { 0 }, 0 };
	sshguard_blacklist_parse(bl, strlen(bl), collect, &s);
	assert_int_equal(s.n, 3);
	assert_int_equal(s.lines[0], 1);
	assert_int_equal(s.lines[1], 4);
	assert_int_equal(s.lines[2], 7);
}

static void test_whitelist_coverage(void **state)
{
	(void)state;
	static const char wl[] = "# Address blocks in CIDR notation\n127.0.0.0/8\n::1/128\n"
				 "203.0.113.0/24 # the office\n 198.51.100.0/24\nexample.com\n";
	static const struct {
		const char *net;
		bool covered;
	} cases[] = {
		{ "203.0.113.0/24", true },  { "203.0.113.5", true },   { "203.0.0.0/16", false },
		{ "198.51.100.0/24", false }, { "127.0.0.1", true },     { "2001:db8::/32", false },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct cidr c;
		assert_int_equal(cidr_parse(cases[i].net, &c), 0);
		if (sshguard_whitelist_covers(wl, strlen(wl), &c) != cases[i].covered)
			fail_msg("%s: want %d", cases[i].net, cases[i].covered);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_conf_variables_last_assignment_wins),
		cmocka_unit_test(test_blacklist_argument),
		cmocka_unit_test(test_blacklist_lines_the_blocker_loads),
		cmocka_unit_test(test_whitelist_coverage),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
