/* test_policy_denyhosts.c: the denyhosts policy's decisions, one row per case: DenyHosts'
 * files in, findings and the files after the repair out (policy_harness.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "policy_harness.h"

#define PROTECT "[agent]\nprotect = 203.0.113.0/24\n"
/* where tcpwrap.c looks for sshd's programs; this test's own program links no libwrap */
#define SSHD_SESSION "/usr/lib/openssh/sshd-session"
#define CONF "/etc/denyhosts.conf"
#define DENY "/etc/hosts.deny"
#define WORK "/var/lib/denyhosts"
#define STAMP "Mon Jan  1 00:00:00 2024"
#define MARK(h) "# DenyHosts: " STAMP " | sshd: " h "\n"
#define CONF_TEXT "WORK_DIR = /var/lib/denyhosts\nBLOCK_SERVICE = sshd\n"
#define ALLOWED_ADDED "# sshrescue " PH_RUN ": protected sources\n203.0.113.*\n"
#define ALLOWED_RISK "protected network 203.0.113.0/24 is not in DenyHosts' allowed hosts"

static const struct ph_case cases[] = {
	{
		.name = "an sshd without libwrap never reads hosts.deny: skipped, left alone",
		.ini = PROTECT,
		.files = {{CONF, CONF_TEXT},
			  {DENY, MARK("203.0.113.5") "sshd: 203.0.113.5\n"},
			  {SSHD_SESSION, NULL, 0, 0755, false, "/proc/self/exe"}},
		.check = POLICY_SKIPPED,
		.repair = POLICY_SKIPPED,
		.note = "the instance's sshd does not use tcp_wrappers (" SSHD_SESSION
			" does not link libwrap)",
	},
	{
		.name = "no DenyHosts: skipped",
		.ini = PROTECT,
		.files = {{DENY, "sshd: 203.0.113.5\n"}},
		.check = POLICY_SKIPPED,
		.repair = POLICY_SKIPPED,
		.note = "no DenyHosts on this instance",
	},
	{
		.name = "clean: only other sources are denied",
		.ini = PROTECT,
		.files = {{CONF, CONF_TEXT},
			  {DENY, "# hosts.deny\n" MARK("198.51.100.7") "sshd: 198.51.100.7\n"}},
	},
	{
		.name = "a protected entry: a lockout, removed with its DenyHosts comment",
		.ini = PROTECT,
		.files = {{CONF, CONF_TEXT},
			  {DENY, "# hosts.deny\n"
				 "sshd: 198.51.100.7\n" MARK("203.0.113.5") "sshd: 203.0.113.5\n"
									    "ALL: 192.0.2.1\n"}},
		.check = POLICY_UNREPAIRED,
		.repair = POLICY_REPAIRED,
		.exit_check = PH_EXIT_REMAIN,
		.exit_repair = PH_EXIT_REPAIRED,
		.findings = {{SEVERITY_LOCKOUT, DENY, 4, "203.0.113.5 is denied sshd by DenyHosts",
			      "would remove", "removed"}},
		.after = {{DENY, "# hosts.deny\nsshd: 198.51.100.7\nALL: 192.0.2.1\n"}},
		.note = "1 DenyHosts entry of protected sources to remove",
	},
	{
		.name = "without DenyHosts' files only the entries under its comment go",
		.ini = PROTECT,
		.files = {{DENY, "sshd: 203.0.113.6\n" MARK("203.0.113.5") "sshd: 203.0.113.5\n"}},
		.check = POLICY_UNREPAIRED,
		.repair = POLICY_REPAIRED,
		.exit_check = PH_EXIT_REMAIN,
		.exit_repair = PH_EXIT_REPAIRED,
		.findings = {{SEVERITY_LOCKOUT, DENY, 3,
			      "203.0.113.5 is denied sshd by DenyHosts"}},
		.after = {{DENY, "sshd: 203.0.113.6\n"}},
		/* no DenyHosts mark is left: nothing says DenyHosts is there */
		.again = PH_AGAIN(POLICY_SKIPPED),
	},
	{
		.name = "a hand-written continued line stays",
		.ini = PROTECT,
		.files = {{CONF, CONF_TEXT}, {DENY, "sshd: 203.0.113.5 \\\n\t198.51.100.7\n"}},
		.note = NULL,
	},
	{
		.name = "scope = all removes every entry, names too",
		.ini = PROTECT "[denyhosts]\nscope = all\n",
		.files = {{CONF, CONF_TEXT},
			  {DENY, "sshd: 198.51.100.7\nsshd: bad.example.com\nALL: 192.0.2.1\n"}},
		.check = POLICY_UNREPAIRED,
		.repair = POLICY_REPAIRED,
		.exit_check = PH_EXIT_REMAIN,
		.exit_repair = PH_EXIT_REPAIRED,
		.findings = {{SEVERITY_LOCKOUT, DENY, 1, "198.51.100.7 is denied sshd"},
			     {SEVERITY_LOCKOUT, DENY, 2, "bad.example.com is denied sshd"}},
		.after = {{DENY, "ALL: 192.0.2.1\n"}},
	},
	{
		.name = "BLOCK_SERVICE and HOSTS_DENY of denyhosts.conf",
		.ini = PROTECT,
		.files = {{CONF, "HOSTS_DENY = /etc/hosts.evil\nBLOCK_SERVICE = ALL\n"},
			  {"/etc/hosts.evil", "sshd: 203.0.113.5\nALL: 203.0.113.9\n"},
			  {DENY, "ALL: 203.0.113.5\n"}},
		.check = POLICY_UNREPAIRED,
		.repair = POLICY_REPAIRED,
		.exit_check = PH_EXIT_REMAIN,
		.exit_repair = PH_EXIT_REPAIRED,
		.findings = {{SEVERITY_LOCKOUT, "/etc/hosts.evil", 2, "203.0.113.9 is denied"}},
		.after = {{"/etc/hosts.evil", "sshd: 203.0.113.5\n"}},
	},
	{
		.name = "allowed-hosts lacks the network: a risk only, the line added",
		.ini = PROTECT,
		.files = {{CONF, CONF_TEXT}, {WORK, NULL}, {DENY, "sshd: 198.51.100.7\n"}},
		.repair = POLICY_REPAIRED,
		.exit_repair = PH_EXIT_REPAIRED,
		.findings = {{SEVERITY_RISK, WORK "/allowed-hosts", 0, ALLOWED_RISK, "would add",
			      "added"}},
		.after = {{WORK "/allowed-hosts", ALLOWED_ADDED}},
	},
	{
		.name = "with strict = yes the same risk counts",
		.ini = PROTECT "strict = yes\n",
		.files = {{CONF, CONF_TEXT}, {WORK, NULL}, {WORK "/allowed-hosts", "10.0.0.1"}},
		.check = POLICY_UNREPAIRED,
		.repair = POLICY_REPAIRED,
		.exit_check = PH_EXIT_REMAIN,
		.exit_repair = PH_EXIT_REPAIRED,
		.findings = {{SEVERITY_RISK, WORK "/allowed-hosts", 0, ALLOWED_RISK}},
		.after = {{WORK "/allowed-hosts", "10.0.0.1\n" ALLOWED_ADDED}},
	},
	{
		.name = "allowed-hosts lists the network already: nothing to do",
		.ini = PROTECT,
		.files = {{CONF, CONF_TEXT},
			  {WORK "/allowed-hosts", "203.0.113.*\n"},
			  {WORK "/hosts", "198.51.100.7:9:" STAMP "\n"}},
	},
	{
		.name = "a count over its threshold: a lockout at DenyHosts' next pass",
		.ini = PROTECT,
		.files = {{CONF, CONF_TEXT},
			  {WORK "/allowed-hosts", "203.0.113.*\n"},
			  {WORK "/hosts-root",
			   "198.51.100.7:3:" STAMP "\n203.0.113.5:3:" STAMP "\n"}},
		.check = POLICY_UNREPAIRED,
		.repair = POLICY_REPAIRED,
		.exit_check = PH_EXIT_REMAIN,
		.exit_repair = PH_EXIT_REPAIRED,
		.findings =
			{{SEVERITY_LOCKOUT, WORK "/hosts-root", 2,
			  "has 3 failures counted in hosts-root, over DENY_THRESHOLD_ROOT = 1"}},
		.after = {{WORK "/hosts-root", "198.51.100.7:3:" STAMP "\n"}},
	},
	{
		.name = "counts under their thresholds and per-user counts: risks",
		.ini = PROTECT,
		.files = {{CONF, CONF_TEXT "DENY_THRESHOLD_INVALID = 5\n"},
			  {WORK "/allowed-hosts", "203.0.113.*\n"},
			  {WORK "/hosts", "203.0.113.5:2:" STAMP "\n"},
			  {WORK "/users-hosts", "root - 203.0.113.7:4:" STAMP "\n"
						"root - 198.51.100.7:4:" STAMP "\n"}},
		.repair = POLICY_REPAIRED,
		.exit_repair = PH_EXIT_REPAIRED,
		.findings = {{SEVERITY_RISK, WORK "/hosts", 1,
			      "has 2 failures counted in hosts: when 4 more failed logins"},
			     {SEVERITY_RISK, WORK "/users-hosts", 1,
			      "203.0.113.7 has 4 failures counted in users-hosts, which DenyHosts "
			      "keeps but denies no host from"}},
		.after = {{WORK "/hosts", ""},
			  {WORK "/users-hosts", "root - 198.51.100.7:4:" STAMP "\n"}},
	},
	{
		.name = "a /30 is listed address by address",
		.ini = "[agent]\nprotect = 203.0.113.4/30\n",
		.files = {{CONF, CONF_TEXT}, {WORK, NULL}},
		.repair = POLICY_REPAIRED,
		.exit_repair = PH_EXIT_REPAIRED,
		.findings =
			{{SEVERITY_RISK, WORK "/allowed-hosts", 0,
			  "protected network 203.0.113.4/30 is not in DenyHosts' allowed hosts"}},
		.after = {{WORK "/allowed-hosts", "# sshrescue " PH_RUN ": protected sources\n"
						  "203.0.113.4\n203.0.113.5\n203.0.113.6\n"
						  "203.0.113.7\n"}},
	},
	{
		.name = "every source protected: every entry goes, no allowed-hosts",
		.files = {{CONF, CONF_TEXT},
			  {WORK, NULL},
			  {DENY, MARK("198.51.100.7") "sshd: 198.51.100.7\n"
						      "sshd: 2001:db8::5\n"}},
		.check = POLICY_UNREPAIRED,
		.repair = POLICY_REPAIRED,
		.exit_check = PH_EXIT_REMAIN,
		.exit_repair = PH_EXIT_REPAIRED,
		.findings = {{SEVERITY_LOCKOUT, DENY, 2, "198.51.100.7 is denied sshd"},
			     {SEVERITY_LOCKOUT, DENY, 3, "2001:db8::5 is denied sshd"}},
		.after = {{DENY, ""}},
		.note = "2 DenyHosts entries of protected sources to remove",
	},
	{
		.name = "an IPv6 protected network: its address entries go, others stay",
		.ini = "[agent]\nprotect = 2001:db8::/32\n",
		.files = {{CONF, CONF_TEXT},
			  {DENY, "sshd: 2001:db8::5\nsshd: 2001:db9::5\nsshd: 203.0.113.5\n"}},
		.check = POLICY_UNREPAIRED,
		.repair = POLICY_REPAIRED,
		.exit_check = PH_EXIT_REMAIN,
		.exit_repair = PH_EXIT_REPAIRED,
		.findings = {{SEVERITY_LOCKOUT, DENY, 1, "2001:db8::5 is denied sshd"}},
		.after = {{DENY, "sshd: 2001:db9::5\nsshd: 203.0.113.5\n"}},
	},
};

static void test_denyhosts_decisions(void **state)
{
	(void)state;
	ph_run_table(&denyhosts_policy, cases, sizeof(cases) / sizeof(cases[0]));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_denyhosts_decisions),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
