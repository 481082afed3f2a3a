/* test_policy_sshguard.c: the sshguard policy's decisions, one row per case: sshguard.conf,
 * its unit's -b/-w, the blocklist and the whitelist in, findings and the files after the repair
 * out (policy_harness.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "policy_harness.h"

#define PROTECT "[agent]\nprotect = 203.0.113.0/24\n"
#define CONF "/etc/sshguard/sshguard.conf"
#define BL "/var/lib/sshguard/blacklist.db"
#define WL "/etc/sshguard/whitelist"
#define CONF_TEXT                                                                                  \
	"BACKEND=\"/usr/libexec/sshguard/sshg-fw-nft-sets\"\n"                                     \
	"BLACKLIST_FILE=120:" BL "\nWHITELIST_FILE=" WL "\n"
#define MARK "# sshrescue " PH_RUN ": "
#define WL_ADDED MARK "protected networks of the owner\n203.0.113.0/24\n"
#define IN_BL "is in sshguard's blocklist: sshguard blocks it at every start"
#define NOT_WL "203.0.113.0/24 is not in sshguard's whitelist"
#define UNIT "/lib/systemd/system/sshguard.service"

static const struct ph_case cases[] = {
	{
		.name = "no SSHGuard: skipped",
		.ini = PROTECT,
		.files = {{BL, "1700000000|100|4|203.0.113.5\n"}},
		.check = POLICY_SKIPPED,
		.repair = POLICY_SKIPPED,
		.note = "no SSHGuard on this instance",
	},
	{
		.name = "clean: other addresses blocked, the network whitelisted",
		.ini = PROTECT,
		.files = {{CONF, CONF_TEXT},
			  {WL, "# mine\n203.0.113.0/24\n"},
			  {BL, "1700000000|100|4|198.51.100.7\n"}},
		.note = "no protected address in sshguard's blocklist; the protected networks are "
			"whitelisted",
	},
	{
		.name = "a protected address in the blocklist: a lockout, commented out",
		.ini = PROTECT,
		.files = {{CONF, CONF_TEXT},
			  {WL, "203.0.113.0/24\n"},
			  {BL, "1700000000|100|4|198.51.100.7\n1700000001|100|4|203.0.113.5\n"
			       "1700000002|100|6|2001:db8::5\n"}},
		.check = POLICY_UNREPAIRED,
		.repair = POLICY_REPAIRED,
		.exit_check = PH_EXIT_REMAIN,
		.exit_repair = PH_EXIT_REPAIRED,
		.findings = {{SEVERITY_LOCKOUT, BL, 2, "203.0.113.5 " IN_BL, "would comment out",
			      "commented out"}},
		.after = {{BL,
			   "1700000000|100|4|198.51.100.7\n" MARK "1700000001|100|4|203.0.113.5\n"
			   "1700000002|100|6|2001:db8::5\n"}},
		.note = "1 blocklist entry of protected sources to comment out",
	},
	{
		.name = "no whitelist: Debian's file made and named in sshguard.conf",
		.ini = PROTECT,
		.files = {{CONF, "BLACKLIST_FILE=120:" BL}},
		.repair = POLICY_REPAIRED,
		.exit_repair = PH_EXIT_REPAIRED,
		.findings = {{SEVERITY_RISK, WL, 0, NOT_WL,
			      "would add to " WL ", named by WHITELIST_FILE in " CONF,
			      "added to " WL ", named by WHITELIST_FILE in " CONF}},
		.after = {{WL, WL_ADDED},
			  {CONF, "BLACKLIST_FILE=120:" BL "\n" MARK
				 "the owner's networks are whitelisted there\n"
				 "WHITELIST_FILE=" WL "\n"}},
	},
	{
		.name = "a whitelist without the network: appended to",
		.ini = PROTECT,
		.files = {{CONF, CONF_TEXT}, {WL, "10.0.0.0/8"}},
		.repair = POLICY_REPAIRED,
		.exit_repair = PH_EXIT_REPAIRED,
		.findings = {{SEVERITY_RISK, WL, 0, NOT_WL, "would add to " WL, "added to " WL}},
		.after = {{WL, "10.0.0.0/8\n" WL_ADDED}},
	},
	{
		.name = "the unit's -b and -w win over sshguard.conf",
		.ini = PROTECT,
		.files = {{CONF, CONF_TEXT},
			  {UNIT, "[Service]\nExecStart=/usr/sbin/sshguard -b 10:/var/db/sg.db "
				 "-w 203.0.113.0/24\n"},
			  {BL, "1700000001|100|4|203.0.113.5\n"},
			  {"/var/db/sg.db", "1700000001|100|4|203.0.113.6\n"}},
		.check = POLICY_UNREPAIRED,
		.repair = POLICY_REPAIRED,
		.exit_check = PH_EXIT_REMAIN,
		.exit_repair = PH_EXIT_REPAIRED,
		.findings = {{SEVERITY_LOCKOUT, "/var/db/sg.db", 1, "203.0.113.6 " IN_BL}},
		.after = {{"/var/db/sg.db", MARK "1700000001|100|4|203.0.113.6\n"}},
	},
	{
		.name = "a blocklist argument without a threshold: sshguard does not start",
		.ini = PROTECT,
		.files = {{CONF, "BLACKLIST_FILE=" BL "\nWHITELIST_FILE=" WL "\n"},
			  {WL, "203.0.113.0/24\n"}},
		.check = POLICY_UNREPAIRED,
		.repair = POLICY_UNREPAIRED,
		.exit_check = PH_EXIT_REMAIN,
		.exit_repair = PH_EXIT_REMAIN,
		.findings = {{SEVERITY_LOCKOUT, CONF, 0,
			      "sshguard's blocklist argument \"" BL "\" is not THRESHOLD:/FILE",
			      NULL, NULL, true}},
	},
	{
		.name = "an inline whitelist without the network names no file to add to",
		.ini = PROTECT,
		.files = {{CONF, "WHITELIST_ARG=\"10.0.0.1 192.0.2.0/24\"\n"}},
		.findings =
			{{SEVERITY_RISK, CONF, 0,
			  "sshguard's whitelist (-w 10.0.0.1 192.0.2.0/24) lacks 203.0.113.0/24 "
			  "and names no file to add to: new failures",
			  NULL, NULL, true}},
	},
	{
		.name = "every source protected: every entry commented out, no whitelist",
		.files = {{CONF, "BLACKLIST_FILE=120:" BL "\n"},
			  {BL,
			   "# old\n1700000000|100|4|198.51.100.7\n1700000002|100|6|2001:db8::5"}},
		.check = POLICY_UNREPAIRED,
		.repair = POLICY_REPAIRED,
		.exit_check = PH_EXIT_REMAIN,
		.exit_repair = PH_EXIT_REPAIRED,
		.findings = {{SEVERITY_LOCKOUT, BL, 2, "198.51.100.7 " IN_BL},
			     {SEVERITY_LOCKOUT, BL, 3, "2001:db8::5 " IN_BL}},
		.after = {{BL, "# old\n" MARK "1700000000|100|4|198.51.100.7\n" MARK
			       "1700000002|100|6|2001:db8::5"}},
	},
	{
		.name = "an IPv6 network is whitelisted and its entries go",
		.ini = "[agent]\nprotect = 2001:db8::/32\n",
		.files = {{CONF, CONF_TEXT},
			  {WL, "2001:db8::/32\n"},
			  {BL, "1700000000|100|6|2001:db8::5\n1700000001|100|4|203.0.113.5\n"}},
		.check = POLICY_UNREPAIRED,
		.repair = POLICY_REPAIRED,
		.exit_check = PH_EXIT_REMAIN,
		.exit_repair = PH_EXIT_REPAIRED,
		.findings = {{SEVERITY_LOCKOUT, BL, 1, "2001:db8::5 " IN_BL}},
		.after = {{BL,
			   MARK "1700000000|100|6|2001:db8::5\n1700000001|100|4|203.0.113.5\n"}},
	},
	{
		.name = "sshguard installed without sshguard.conf: it does not start, nothing written",
		.ini = PROTECT,
		.files = {{"/usr/sbin/sshguard", "#!/bin/sh\n", 0, 0755}},
		.note = "SSHGuard has no configuration (" CONF "): it does not start",
	},
	{
		.name = "with strict = yes a whitelist without the network counts",
		.ini = PROTECT "strict = yes\n",
		.files = {{CONF, CONF_TEXT}, {WL, "10.0.0.0/8\n"}},
		.check = POLICY_UNREPAIRED,
		.repair = POLICY_REPAIRED,
		.exit_check = PH_EXIT_REMAIN,
		.exit_repair = PH_EXIT_REPAIRED,
		.findings = {{SEVERITY_RISK, WL, 0, NOT_WL, "would add to " WL, "added to " WL}},
		.after = {{WL, "10.0.0.0/8\n" WL_ADDED}},
	},
};

static void test_sshguard_decisions(void **state)
{
	(void)state;
	ph_run_table(&sshguard_policy, cases, sizeof(cases) / sizeof(cases[0]));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sshguard_decisions),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
