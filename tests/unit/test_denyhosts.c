/* test_denyhosts.c: DenyHosts' files: denyhosts.conf, hosts.deny entries, counting lines. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "parse/denyhosts.h"

static const struct {
	const char *in;
	const char *work_dir, *hosts_deny, *block_service;
	unsigned long invalid, root;
} conf_cases[] = {
	{ "", "/default", "/etc/hosts.deny", "sshd", 5, 1 },
	{ "WORK_DIR = /var/lib/denyhosts\nHOSTS_DENY = /etc/hosts.deny\nBLOCK_SERVICE = sshd\n",
	  "/var/lib/denyhosts", "/etc/hosts.deny", "sshd", 5, 1 },
	/* "KEY: value" as prefs.py takes it too; comments and blank lines */
	{ "# WORK_DIR = /nope\n\nWORK_DIR: /srv/dh\nDENY_THRESHOLD_INVALID: 3\n", "/srv/dh",
	  "/etc/hosts.deny", "sshd", 3, 1 },
	/* an empty BLOCK_SERVICE: entries are bare hosts */
	{ "BLOCK_SERVICE =\n", "/default", "/etc/hosts.deny", "", 5, 1 },
	/* relative paths and bad numbers are ignored; the last good value wins */
	{ "WORK_DIR = relative\nHOSTS_DENY = ../x\nDENY_THRESHOLD_ROOT = x\n"
	  "DENY_THRESHOLD_ROOT = 7\nDENY_THRESHOLD_ROOT = -1\n",
	  "/default", "/etc/hosts.deny", "sshd", 5, 7 },
	/* keys are exact: a longer or shorter name is another key */
	{ "WORK_DIRX = /x\nWORK = /y\n  DENY_THRESHOLD_INVALID   =   12  \r\n", "/default",
	  "/etc/hosts.deny", "sshd", 12, 1 },
};

static void test_conf_keys_as_denyhosts_reads_them(void **state)
{
	for (size_t i = 0; i < sizeof(conf_cases) / sizeof(conf_cases[0]); i++) {
		struct denyhosts_conf c;
		denyhosts_conf_parse(conf_cases[i].in, strlen(conf_cases[i].in), "/default", &c);
		if (strcmp(c.work_dir, conf_cases[i].work_dir) ||
		    strcmp(c.hosts_deny, conf_cases[i].hosts_deny) ||
		    strcmp(c.block_service, conf_cases[i].block_service) ||
		    c.threshold[DH_TH_INVALID] != conf_cases[i].invalid ||
		    c.threshold[DH_TH_ROOT] != conf_cases[i].root)
			fail_msg("case %zu: %s %s '%s' %lu %lu", i, c.work_dir, c.hosts_deny,
				 c.block_service, c.threshold[DH_TH_INVALID], c.threshold[DH_TH_ROOT]);
		denyhosts_conf_free(&c);
	}
}

static const struct {
	const char *svc, *line, *host; /* host NULL: not an entry */
} entry_cases[] = {
	{ "sshd", "sshd: 203.0.113.5", "203.0.113.5" },
	{ "sshd", "SSHD :\t203.0.113.5  \n", "203.0.113.5" },
	{ "sshd", "sshd: 203.0.113.5 : deny", "203.0.113.5" },
	{ "sshd", "sshd: host.example.com", "host.example.com" },
	{ "sshd", "sshdx: 203.0.113.5", NULL },
	{ "sshd", "vsftpd: 203.0.113.5", NULL },
	{ "sshd", "sshd:", NULL },
	{ "sshd", "# DenyHosts: Tue Nov 24 10:00:00 2026 | sshd: 203.0.113.5", NULL },
	{ "", "203.0.113.5", "203.0.113.5" },
	{ "ALL", "ALL: 198.51.100.7", "198.51.100.7" },
};

static void test_hosts_deny_entries_as_denyhosts_writes_them(void **state)
{
	for (size_t i = 0; i < sizeof(entry_cases) / sizeof(entry_cases[0]); i++) {
		const char *h = NULL;
		size_t hl = 0;
		bool ok = denyhosts_entry(entry_cases[i].svc, strlen(entry_cases[i].svc),
					  entry_cases[i].line, strlen(entry_cases[i].line), &h, &hl);
		const char *want = entry_cases[i].host;
		if (ok != (want != NULL) || (ok && (hl != strlen(want) || memcmp(h, want, hl))))
			fail_msg("case %zu: %d '%.*s', want '%s'", i, ok, (int)hl, ok ? h : "",
				 want ? want : "(none)");
	}
}

static const struct {
	const char *line;
	bool user_key;
	const char *host;
	unsigned long count;
} counting_cases[] = {
	{ "203.0.113.5:40:Tue Nov 24 10:00:00 2026", false, "203.0.113.5", 40 },
	{ "root - 203.0.113.5:3:Tue Nov 24 10:00:00 2026", true, "203.0.113.5", 3 },
	{ "a - b - 198.51.100.7:2:Tue Nov 24 10:00:01 2026", true, "198.51.100.7", 2 },
	{ "203.0.113.5:x:Tue Nov 24 10:00:00 2026", false, NULL, 0 },
	{ "203.0.113.5:40", false, NULL, 0 },
	{ "root 203.0.113.5:3:Tue Nov 24 10:00:00 2026", true, NULL, 0 },
	{ ":40:Tue Nov 24 10:00:00 2026", false, NULL, 0 },
	{ "h:99999999999999999999999:Tue Nov 24 10:00:00 2026", false, "h", 1000000000000UL - 1 },
};

static void test_counting_lines_host_and_count(void **state)
{
	for (size_t i = 0; i < sizeof(counting_cases) / sizeof(counting_cases[0]); i++) {
		const char *h = NULL;
		size_t hl = 0;
		unsigned long n = 0;
		bool ok = denyhosts_counting_line(counting_cases[i].line, strlen(counting_cases[i].line),
						  counting_cases[i].user_key, &h, &hl, &n);
		const char *want = counting_cases[i].host;
		if (ok != (want != NULL) || (ok && (hl != strlen(want) || memcmp(h, want, hl))))
			fail_msg("case %zu: %d '%.*s'", i, ok, (int)hl, ok ? h : "");
		if (ok && counting_cases[i].count < 1000000000000UL - 1 && n != counting_cases[i].count)
			fail_msg("case %zu: count %lu, want %lu", i, n, counting_cases[i].count);
		if (ok && counting_cases[i].count >= 1000000000000UL - 1 && n < 100000000000UL)
			fail_msg("case %zu: count %lu did not saturate", i, n);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_conf_keys_as_denyhosts_reads_them),
		cmocka_unit_test(test_hosts_deny_entries_as_denyhosts_writes_them),
		cmocka_unit_test(test_counting_lines_host_and_count),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
