/* test_policy_csf.c: the csf policy's decisions, one row per case: csf.conf, csf.deny (and
 * its Include files), lfd's csf.tempban, csf.allow and csf.ignore in, findings and the files
 * after the repair out (policy_harness.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "policy_harness.h"

#define PROTECT "[agent]\nprotect = 203.0.113.0/24\n"
#define CONF "/etc/csf/csf.conf"
#define DENY "/etc/csf/csf.deny"
#define ALLOW "/etc/csf/csf.allow"
#define IGNORE "/etc/csf/csf.ignore"
#define TEMPBAN "/var/lib/csf/csf.tempban"
#define CONF_TEXT "TESTING = \"0\"\nTCP_IN = \"20,21,22,80\"\nTCP6_IN = \"22,80\"\n"
#define MARK "# sshrescue " PH_RUN ": "
#define LISTED "203.0.113.0/24 # csf's allow list\n"
#define ADDED "203.0.113.0/24 # sshrescue " PH_RUN ": protected network of the owner\n"
/* clang-format off */
#define CLEAN_FILES {CONF, CONF_TEXT}, {ALLOW, LISTED}, {IGNORE, LISTED}
/* clang-format on */

static const struct ph_case cases[] = {
	{
		.name = "no CSF: skipped",
		.ini = PROTECT,
		.files = {{DENY, "203.0.113.5\n"}},
		.check = POLICY_SKIPPED,
		.repair = POLICY_SKIPPED,
		.note = "no CSF on this instance",
	},
	{
		.name = "clean: other addresses denied, the network allowed and ignored",
		.ini = PROTECT,
		.files = {CLEAN_FILES,
			  {DENY, "# csf.deny\n198.51.100.7 # lfd: 5 failures\n"},
			  {TEMPBAN, "1700000000|198.51.100.8|22|in|3600|lfd\n"}},
		.note = "CSF lets protected sources reach sshd",
	},
	{
		.name = "a protected address in csf.deny: a lockout, commented out",
		.ini = PROTECT,
		.files = {CLEAN_FILES,
			  {DENY, "198.51.100.7 # lfd\n203.0.113.5 # lfd: (sshd) 5 failures\n"
				 "tcp|in|d=22|s=203.0.113.6\n"}},
		.check = POLICY_UNREPAIRED,
		.repair = POLICY_REPAIRED,
		.exit_check = PH_EXIT_REMAIN,
		.exit_repair = PH_EXIT_REPAIRED,
		.findings = {{SEVERITY_LOCKOUT, DENY, 2,
			      "203.0.113.5 is denied: csf drops it at every start",
			      "would be commented out", "commented out"},
			     {SEVERITY_LOCKOUT, DENY, 3, "203.0.113.6 is denied"}},
		.after = {{DENY,
			   "198.51.100.7 # lfd\n" MARK "203.0.113.5 # lfd: (sshd) 5 failures\n" MARK
			   "tcp|in|d=22|s=203.0.113.6\n"}},
		.note = "2 CSF entries of protected sources to remove",
	},
	{
		.name = "an Include of csf.deny is cleaned too",
		.ini = PROTECT,
		.files = {CLEAN_FILES,
			  {DENY, "Include /etc/csf/more.deny\n"},
			  {"/etc/csf/more.deny", "203.0.113.0/28\n198.51.100.0/24\n"}},
		.check = POLICY_UNREPAIRED,
		.repair = POLICY_REPAIRED,
		.exit_check = PH_EXIT_REMAIN,
		.exit_repair = PH_EXIT_REPAIRED,
		.findings = {{SEVERITY_LOCKOUT, "/etc/csf/more.deny", 1,
			      "203.0.113.0/28 is denied"}},
		.after = {{"/etc/csf/more.deny", MARK "203.0.113.0/28\n198.51.100.0/24\n"}},
	},
	{
		.name = "lfd's temporary ban of a protected address: the line goes",
		.ini = PROTECT,
		.files = {CLEAN_FILES,
			  {TEMPBAN, "1700000000|198.51.100.8|22|in|3600|lfd\r\n"
				    "1700000000|203.0.113.5|22|in|3600|lfd\r\n"
				    "1700000000|192.0.2.1|22|in|3600|lfd\r\n"}},
		.check = POLICY_UNREPAIRED,
		.repair = POLICY_REPAIRED,
		.exit_check = PH_EXIT_REMAIN,
		.exit_repair = PH_EXIT_REPAIRED,
		.findings = {{SEVERITY_LOCKOUT, TEMPBAN, 2,
			      "203.0.113.5 is temporarily banned by lfd", "would be removed",
			      "removed"}},
		.after = {{TEMPBAN, "1700000000|198.51.100.8|22|in|3600|lfd\r\n"
				    "1700000000|192.0.2.1|22|in|3600|lfd\r\n"}},
	},
	{
		.name = "the network missing from csf.allow and csf.ignore: added, csf.allow made",
		.ini = PROTECT,
		.files = {{CONF, CONF_TEXT}, {IGNORE, "127.0.0.1"}},
		.repair = POLICY_REPAIRED,
		.exit_repair = PH_EXIT_REPAIRED,
		.findings = {{SEVERITY_RISK, ALLOW, 0,
			      "203.0.113.0/24 is not in " ALLOW ": csf drops them when another "
			      "rule blocks them",
			      "would add", "added"},
			     {SEVERITY_RISK, IGNORE, 0,
			      "203.0.113.0/24 is not in " IGNORE ": lfd blocks them again"}},
		.after = {{ALLOW, ADDED, 0600}, {IGNORE, "127.0.0.1\n" ADDED}},
	},
	{
		.name = "TCP_IN without sshd's port: appended, TCP6_IN too",
		.ini = PROTECT,
		.files = {{CONF, "TCP_IN = \"80,443\"\nTCP6_IN = \"\"\nUDP_IN = \"53\"\n"},
			  {ALLOW, LISTED},
			  {IGNORE, LISTED}},
		.check = POLICY_UNREPAIRED,
		.repair = POLICY_REPAIRED,
		.exit_check = PH_EXIT_REMAIN,
		.exit_repair = PH_EXIT_REPAIRED,
		.findings = {{SEVERITY_LOCKOUT, CONF, 0,
			      "TCP_IN = \"80,443\" does not open sshd's port", "would append 22",
			      "appended 22"},
			     {SEVERITY_LOCKOUT, CONF, 0,
			      "TCP6_IN = \"\" does not open sshd's port"}},
		.after = {{CONF, "TCP_IN = \"80,443,22\"\nTCP6_IN = \"22\"\nUDP_IN = \"53\"\n"}},
	},
	{
		.name = "sshd on another port (sshd_config): that port is opened",
		.ini = PROTECT,
		.files = {CLEAN_FILES, {"/etc/ssh/sshd_config", "Port 2222\n"}},
		.check = POLICY_UNREPAIRED,
		.repair = POLICY_REPAIRED,
		.exit_check = PH_EXIT_REMAIN,
		.exit_repair = PH_EXIT_REPAIRED,
		.findings = {{SEVERITY_LOCKOUT, CONF, 0, "TCP_IN = \"20,21,22,80\"", NULL,
			      "appended 2222"},
			     {SEVERITY_LOCKOUT, CONF, 0, "TCP6_IN = \"22,80\""}},
		.after = {{CONF, "TESTING = \"0\"\nTCP_IN = \"20,21,22,80,2222\"\n"
				 "TCP6_IN = \"22,80,2222\"\n"}},
	},
	{
		.name = "every source protected: every entry goes, no allow or ignore lines",
		.files = {{CONF, CONF_TEXT}, {DENY, "198.51.100.7\n2001:db8::/32 # v6\n"}},
		.check = POLICY_UNREPAIRED,
		.repair = POLICY_REPAIRED,
		.exit_check = PH_EXIT_REMAIN,
		.exit_repair = PH_EXIT_REPAIRED,
		.findings = {{SEVERITY_LOCKOUT, DENY, 1, "198.51.100.7 is denied"},
			     {SEVERITY_LOCKOUT, DENY, 2, "2001:db8::/32 is denied"}},
		.after = {{DENY, MARK "198.51.100.7\n" MARK "2001:db8::/32 # v6\n"}},
	},
};

static void test_csf_decisions(void **state)
{
	(void)state;
	ph_run_table(&csf_policy, cases, sizeof(cases) / sizeof(cases[0]));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_csf_decisions),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
