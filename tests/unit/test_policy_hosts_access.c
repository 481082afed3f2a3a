/* test_policy_hosts_access.c: the hosts_access policy's decisions, one row per case:
 * hosts.allow and hosts.deny in, findings and the grant line inserted into hosts.allow out
 * (policy_harness.h). tcpdmatch judges the same files in tests/integration/hosts_access.sh. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "policy_harness.h"

#define PROTECT "[agent]\nprotect = 203.0.113.0/24\n"
/* where tcpwrap.c looks for sshd's programs; this test's own program links no libwrap */
#define SSHD_SESSION "/usr/lib/openssh/sshd-session"
#define ALLOW "/etc/hosts.allow"
#define DENY "/etc/hosts.deny"
#define GRANT_HEAD "# sshrescue " PH_RUN ": grant sshd to the protected sources\n"
#define GRANT GRANT_HEAD "sshd: 203.0.113.0/255.255.255.0\n"
#define NET "203.0.113.0/24"

static const struct ph_case cases[] = {
	{
		.name = "an sshd without libwrap never reads them: skipped, left alone",
		.ini = PROTECT,
		.files = {{DENY, "ALL: ALL\n"},
			  {SSHD_SESSION, NULL, 0, 0755, false, "/proc/self/exe"}},
		.check = POLICY_SKIPPED,
		.repair = POLICY_SKIPPED,
		.note = "the instance's sshd does not use tcp_wrappers (" SSHD_SESSION
			" does not link libwrap)",
	},
	{
		.name = "neither file: skipped",
		.ini = PROTECT,
		.check = POLICY_SKIPPED,
		.repair = POLICY_SKIPPED,
		.note = "no /etc/hosts.allow or /etc/hosts.deny",
	},
	{
		.name = "clean: only other sources and daemons are refused",
		.ini = PROTECT,
		.files = {{ALLOW, "# allow\n"},
			  {DENY, "sshd: 198.51.100.0/255.255.255.0\nvsftpd: ALL\n"
				 "ALL: ALL EXCEPT 203.0.113.0/255.255.255.0\n"}},
		.note = "tcp_wrappers grants sshd to every protected source",
	},
	{
		.name = "ALL: ALL in hosts.deny: a lockout, hosts.allow made with the grant",
		.ini = PROTECT,
		.files = {{DENY, "# deny\nALL: ALL\n"}},
		.check = POLICY_UNREPAIRED,
		.repair = POLICY_REPAIRED,
		.exit_check = PH_EXIT_REMAIN,
		.exit_repair = PH_EXIT_REPAIRED,
		.findings =
			{{SEVERITY_LOCKOUT, DENY, 2, "refuses sshd to " NET,
			  "would insert `sshd: 203.0.113.0/255.255.255.0` at /etc/hosts.allow "
			  "line 1",
			  "inserted `sshd: 203.0.113.0/255.255.255.0` at /etc/hosts.allow line 1"}},
		.after = {{ALLOW, GRANT, 0644}},
	},
	{
		.name = "a deny rule in hosts.allow: the grant goes just before it",
		.ini = PROTECT,
		.files = {{ALLOW, "sshd: 10.0.0.1\nALL: 203.0.113.5 : deny\nsshd: 192.0.2.1\n"},
			  {DENY, "sshd: 198.51.100.7\n"}},
		.check = POLICY_UNREPAIRED,
		.repair = POLICY_REPAIRED,
		.exit_check = PH_EXIT_REMAIN,
		.exit_repair = PH_EXIT_REPAIRED,
		.findings = {{SEVERITY_LOCKOUT, ALLOW, 2,
			      "may refuse sshd to " NET " (the `deny` option): it matches some of "
			      "these addresses",
			      "line 2", "line 2"}},
		.after = {{ALLOW, "sshd: 10.0.0.1\n" GRANT "ALL: 203.0.113.5 : deny\n"
				  "sshd: 192.0.2.1\n"}},
	},
	{
		.name = "a host name pattern may refuse: only the connection tells",
		.ini = PROTECT,
		.files = {{ALLOW, "sshd: 10.0.0.1\n"}, {DENY, "sshd: .example.com\n"}},
		.check = POLICY_UNREPAIRED,
		.repair = POLICY_REPAIRED,
		.exit_check = PH_EXIT_REMAIN,
		.exit_repair = PH_EXIT_REPAIRED,
		.findings = {{SEVERITY_LOCKOUT, DENY, 1,
			      "may refuse sshd to " NET ": it matches by host name"}},
		.after = {{ALLOW, "sshd: 10.0.0.1\n" GRANT}},
	},
	{
		.name = "twist in hosts.allow answers instead of sshd",
		.ini = PROTECT,
		.files = {{ALLOW, "sshd: 203.0.113.0/255.255.255.0 : twist /bin/echo no\n"}},
		.check = POLICY_UNREPAIRED,
		.repair = POLICY_REPAIRED,
		.exit_check = PH_EXIT_REMAIN,
		.exit_repair = PH_EXIT_REPAIRED,
		.findings = {{SEVERITY_LOCKOUT, ALLOW, 1,
			      "refuses sshd to " NET " (twist: a shell command answers instead of "
			      "sshd)"}},
		.after = {{ALLOW, GRANT "sshd: 203.0.113.0/255.255.255.0 : twist /bin/echo no\n"}},
	},
	{
		.name = "no newline at the end of hosts.deny: tcpd denies everything unmatched",
		.ini = PROTECT,
		.files = {{ALLOW, "sshd: 10.0.0.1\n"}, {DENY, "vsftpd: ALL"}},
		.check = POLICY_UNREPAIRED,
		.repair = POLICY_REPAIRED,
		.exit_check = PH_EXIT_REMAIN,
		.exit_repair = PH_EXIT_REPAIRED,
		.findings = {{SEVERITY_LOCKOUT, DENY, 1, "no newline at the end of the file"}},
		.after = {{ALLOW, "sshd: 10.0.0.1\n" GRANT}},
	},
	{
		.name = "a /file pattern list that names a protected address",
		.ini = PROTECT,
		.files = {{DENY, "sshd: /etc/sshd.deny\n"},
			  {"/etc/sshd.deny", "198.51.100.7\n203.0.113.5\n"}},
		.check = POLICY_UNREPAIRED,
		.repair = POLICY_REPAIRED,
		.exit_check = PH_EXIT_REMAIN,
		.exit_repair = PH_EXIT_REPAIRED,
		.findings = {{SEVERITY_LOCKOUT, DENY, 1,
			      "may refuse sshd to " NET ": it matches some of these addresses"}},
		.after = {{ALLOW, GRANT}},
	},
	{
		.name = "a grant for the network in hosts.allow already: nothing to do",
		.ini = PROTECT,
		.files = {{ALLOW, "sshd: 203.0.113.0/255.255.255.0\n"}, {DENY, "ALL: ALL\n"}},
	},
	{
		.name = "every source protected: the grant is sshd: ALL",
		.files = {{ALLOW, "# allow\n"}, {DENY, "sshd: ALL\nvsftpd: ALL\n"}},
		.check = POLICY_UNREPAIRED,
		.repair = POLICY_REPAIRED,
		.exit_check = PH_EXIT_REMAIN,
		.exit_repair = PH_EXIT_REPAIRED,
		.findings = {{SEVERITY_LOCKOUT, DENY, 1,
			      "refuses sshd to every IPv4 source, every IPv6 source",
			      "`sshd: ALL`"}},
		.after = {{ALLOW, "# allow\n" GRANT_HEAD "sshd: ALL\n"}},
	},
	{
		.name = "IPv6 networks are granted in brackets",
		.ini = "[agent]\nprotect = 2001:db8::/32, 203.0.113.5\n",
		.files = {{DENY, "sshd: [2001:db8::]/32 203.0.113.5\n"}},
		.check = POLICY_UNREPAIRED,
		.repair = POLICY_REPAIRED,
		.exit_check = PH_EXIT_REMAIN,
		.exit_repair = PH_EXIT_REPAIRED,
		.findings = {{SEVERITY_LOCKOUT, DENY, 1,
			      "refuses sshd to 2001:db8::/32, 203.0.113.5"}},
		.after = {{ALLOW, GRANT_HEAD "sshd: [2001:db8::]/32 203.0.113.5\n"}},
	},
	{
		.name = "hosts.allow a directory: the grant cannot be inserted",
		.ini = PROTECT,
		.files = {{ALLOW, NULL}, {DENY, "ALL: ALL\n"}},
		.check = POLICY_UNREPAIRED,
		.repair = POLICY_UNREPAIRED,
		.exit_check = PH_EXIT_REMAIN,
		.exit_repair = PH_EXIT_REMAIN,
		.findings = {{SEVERITY_LOCKOUT, ALLOW, 0, "/etc/hosts.allow is a directory", NULL,
			      NULL, true},
			     {SEVERITY_LOCKOUT, DENY, 1, "refuses sshd", "cannot insert",
			      "cannot insert", true}},
	},
};

static void test_hosts_access_decisions(void **state)
{
	(void)state;
	ph_run_table(&hosts_access_policy, cases, sizeof(cases) / sizeof(cases[0]));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hosts_access_decisions),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
