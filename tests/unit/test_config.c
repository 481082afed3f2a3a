/* test_config.c: the policy file: defaults, values, and errors that name file:line. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <string.h>

#include "config.h"

static void test_defaults_match_spec(void **state)
{
	struct config c;
	config_init(&c);
	assert_int_equal(c.protect.n, 0);
	assert_int_equal(c.after, AFTER_NONE);
	assert_string_equal(c.backup_dir, "/var/lib/sshrescue/backups");
	assert_string_equal(c.target_root, "auto");
	assert_true(c.hosts_access_enabled);
	assert_string_equal(c.denyhosts_work_dir, "/var/lib/denyhosts");
	assert_string_equal(c.fail2ban_jails, "sshd");
	assert_int_equal(c.fail2ban_scope, SCOPE_PROTECTED);
	assert_int_equal(c.sshd_min_max_startups, 10);
	assert_string_equal(c.sshd_max_startups, "10:30:100");
	assert_int_equal(c.report_attempts, 3);
	assert_int_equal(c.report_timeout, 10);
	assert_int_equal(c.report_deadline, 30);
	assert_string_equal(c.report_file, "/var/log/sshrescue/report.json");
	assert_int_equal(c.report_flavor, FLAVOR_POST);
	assert_true(c.report_console);
	config_free(&c);
}

static void test_spec_example_parses(void **state)
{
	const char *text = "[agent]\n"
			   "protect = 203.0.113.0/24, 2001:db8::/32  ; empty: every source\n"
			   "after = reboot\n"
			   "[fail2ban]\njails = sshd, recidive\nscope = all\nignoreip = no\n"
			   "[sshd]\nmin_max_startups = 20\n"
			   "[report]\nurl = http://127.0.0.1:8080/r\nflavor = aws-imdsv2\n"
			   "header = X-A: 1\nheader = X-B: 2\n";
	struct config c;
	config_init(&c);
	char *err = NULL;
	assert_int_equal(config_load_string(&c, text, "p.ini", &err), 0);
	assert_null(err);
	assert_int_equal(c.protect.n, 2);
	assert_int_equal(c.protect.v[0].family, AF_INET);
	assert_int_equal(c.protect.v[0].prefix, 24);
	assert_int_equal(c.protect.v[1].family, AF_INET6);
	assert_int_equal(c.protect.v[1].prefix, 32);
	assert_int_equal(c.after, AFTER_REBOOT);
	assert_string_equal(c.fail2ban_jails, "sshd, recidive");
	assert_int_equal(c.fail2ban_scope, SCOPE_ALL);
	assert_false(c.fail2ban_ignoreip);
	assert_int_equal(c.sshd_min_max_startups, 20);
	assert_int_equal(c.report_flavor, FLAVOR_AWS);
	assert_int_equal(c.report_headers.n, 2);
	assert_string_equal(c.report_headers.v[1], "X-B: 2");
	config_free(&c);
}

static void test_protect_lines_accumulate(void **state)
{
	struct config c;
	config_init(&c);
	char *err = NULL;
	assert_int_equal(config_load_string(&c, "[agent]\nprotect = 192.0.2.1\nprotect = 198.51.100.0/24\n",
					    "p.ini", &err),
			 0);
	assert_int_equal(c.protect.n, 2);
	assert_int_equal(c.protect.v[0].prefix, 32);
	config_free(&c);
}

struct bad_case {
	const char *text;
	const char *message; /* the whole error message */
};

static const struct bad_case bad_cases[] = {
	{ "[agent]\nprotect = 300.1.2.3/40\n",
	  "p.ini:2: [agent] protect: '300.1.2.3/40' is not an address or network (CIDR)" },
	{ "[agent]\nprotect = 10.0.0.0/8, 10.1.2.3/33\n",
	  "p.ini:2: [agent] protect: '10.1.2.3/33' is not an address or network (CIDR)" },
	{ "[agent]\n\nbogus = 1\n", "p.ini:3: unknown key 'bogus' in [agent]" },
	{ "[nosuch]\nkey = 1\n", "p.ini:1: unknown section [nosuch]" },
	/* the header's line, after comments, blank lines, a long value and a good section */
	{ "; policy\n\n[agent]\nprotect = 10.0.0.0/8, 10.1.0.0/16, 10.2.0.0/16, 10.3.0.0/16, "
	  "10.4.0.0/16, 10.5.0.0/16, 10.6.0.0/16, 10.7.0.0/16, 10.8.0.0/16, 10.9.0.0/16, "
	  "10.10.0.0/16, 10.11.0.0/16\n[typo_section]\n# note\nx = 1\n",
	  "p.ini:5: unknown section [typo_section]" },
	{ "protect = 1.2.3.4\n", "p.ini:1: unknown section [(none)]" },
	{ "[hosts_access]\nenabled = maybe\n", "p.ini:2: [hosts_access] enabled: 'maybe' is not yes or no" },
	{ "[fail2ban]\nscope = some\n",
	  "p.ini:2: [fail2ban] scope: 'some' is not one of protected | all" },
	{ "[sshd]\nmin_max_startups = 0\n",
	  "p.ini:2: [sshd] min_max_startups: '0' is not a whole number from 1 to 100000" },
	{ "[report]\nattempts = 99999999999999999999999\n",
	  "p.ini:2: [report] attempts: '99999999999999999999999' is not a whole number from 1 to 100" },
	{ "[report]\ntimeout = -1\n",
	  "p.ini:2: [report] timeout: '-1' is not a whole number from 1 to 3600" },
	{ "[report]\nheader = NoColon\n",
	  "p.ini:2: [report] header: 'NoColon' is not a \"Name: value\" header" },
	{ "[agent]\nbackup_dir = relative/dir\n",
	  "p.ini:2: [agent] backup_dir: 'relative/dir' is not an absolute path" },
	{ "[agent]\nthis line has no equals sign\n",
	  "p.ini:2: not an INI line ([section] or key = value)" },
	{ "[agent]\nafter = none\n[agent\n", "p.ini:3: not an INI line ([section] or key = value)" },
};

static void test_bad_values_name_file_and_line(void **state)
{
	for (size_t i = 0; i < sizeof(bad_cases) / sizeof(bad_cases[0]); i++) {
		struct config c;
		config_init(&c);
		char *err = NULL;
		int rc = config_load_string(&c, bad_cases[i].text, "p.ini", &err);
		if (rc != -EINVAL || !err || strcmp(err, bad_cases[i].message) != 0)
			fail_msg("case %zu: rc %d, message '%s', want '%s'", i, rc, err ? err : "(none)",
				 bad_cases[i].message);
		free(err);
		config_free(&c);
	}
}

static void test_first_error_is_reported(void **state)
{
	struct config c;
	config_init(&c);
	char *err = NULL;
	assert_int_equal(config_load_string(&c, "[agent]\nx = 1\ny = 2\n", "p.ini", &err), -EINVAL);
	assert_string_equal(err, "p.ini:2: unknown key 'x' in [agent]");
	free(err);
	config_free(&c);
}

static void test_missing_file_is_enoent(void **state)
{
	struct config c;
	config_init(&c);
	char *err = NULL;
	assert_int_equal(config_load(&c, "/nonexistent/policy.ini", &err), -ENOENT);
	free(err);
	config_free(&c);
}

static void test_help_lists_every_key_with_default(void **state)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	config_print_help(f);
	fclose(f);
	const char *want[] = { "[agent]", "protect = \n", "after = none", "[sshd]",
			       "max_startups = 10:30:100", "[report]", "deadline = 30",
			       "flavor = post", "[fail2ban]", "jails = sshd" };
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++)
		if (!strstr(text, want[i]))
			fail_msg("help lacks '%s'", want[i]);
	/* and what it prints parses back to the defaults */
	struct config c;
	config_init(&c);
	char *err = NULL;
	assert_int_equal(config_load_string(&c, text, "help", &err), 0);
	config_free(&c);
	free(text);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults_match_spec),
		cmocka_unit_test(test_spec_example_parses),
		cmocka_unit_test(test_protect_lines_accumulate),
		cmocka_unit_test(test_bad_values_name_file_and_line),
		cmocka_unit_test(test_first_error_is_reported),
		cmocka_unit_test(test_missing_file_is_enoent),
		cmocka_unit_test(test_help_lists_every_key_with_default),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
