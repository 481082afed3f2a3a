/* test_policy_fail2ban.c: the fail2ban policy's decisions, one row per case: fail2ban's jail
 * and action configuration and its SQLite database (made by the harness from SQL) in, findings,
 * the ban rows left and sshrescue's jail.d file out (policy_harness.h). The real fail2ban
 * judges the same kind of instance in tests/integration/fail2ban.sh; live mode (telling the
 * running server) is not part of these rows. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "policy_harness.h"

#define PROTECT "[agent]\nprotect = 203.0.113.0/24\n"
#define JAIL_CONF "/etc/fail2ban/jail.conf"
#define JAIL_LOCAL "/etc/fail2ban/jail.local"
#define ACTION "/etc/fail2ban/action.d/iptables-multiport.conf"
#define DB "/var/lib/fail2ban/fail2ban.sqlite3"
#define OWN "/etc/fail2ban/jail.d/zz-sshrescue.local"

/* A jail.conf in the shape of fail2ban's: [DEFAULT] names the ban action by port. */
#define JAIL_TEXT(ignoreip)                                                                        \
	"[DEFAULT]\nignoreip = " ignoreip "\nbanaction = iptables-multiport\n"                     \
	"action = %(banaction)s[port=\"%(port)s\", protocol=\"tcp\"]\n\n"                          \
	"[sshd]\nenabled = true\nport = ssh\n\n"                                                   \
	"[nginx-http-auth]\nenabled = true\nport = http,https\n\n"                                 \
	"[recidive]\nenabled = false\nbanaction = iptables-allports\n"
/* clang-format off */
#define CONFIG(ignoreip)                                                                           \
	{JAIL_CONF, JAIL_TEXT(ignoreip)},                                                          \
	{ACTION, "[Definition]\ntype = multiport\nactionban = iptables -I f2b-<name> 1 "           \
		 "-p <protocol> -m multiport --dports <port> -s <ip> -j REJECT\n"},                \
	{"/etc/services", "ssh\t\t22/tcp\nhttp\t\t80/tcp\nhttps\t\t443/tcp\n"}
/* clang-format on */
#define COVERED "127.0.0.1/8 203.0.113.0/24"

/* fail2ban's own CREATE statements (database.py, 0.11 to 1.1: schema version 4), as in
 * tests/fail2ban-v4.sql. */
#define SCHEMA                                                                                     \
	"CREATE TABLE fail2banDb(version INTEGER);\n"                                              \
	"INSERT INTO fail2banDb(version) VALUES (4);\n"                                            \
	"CREATE TABLE jails(name TEXT NOT NULL UNIQUE, enabled INTEGER NOT NULL DEFAULT 1);\n"     \
	"CREATE TABLE logs(jail TEXT NOT NULL, path TEXT, firstlinemd5 TEXT, lastfilepos "         \
	"INTEGER DEFAULT 0, FOREIGN KEY(jail) REFERENCES jails(name) ON DELETE CASCADE, "          \
	"UNIQUE(jail, path), UNIQUE(jail, path, firstlinemd5));\n"                                 \
	"CREATE TABLE bans(jail TEXT NOT NULL, ip TEXT, timeofban INTEGER NOT NULL, bantime "      \
	"INTEGER NOT NULL, bancount INTEGER NOT NULL default 1, data JSON, FOREIGN KEY(jail) "     \
	"REFERENCES jails(name));\n"                                                               \
	"CREATE INDEX bans_jail_ip ON bans(jail, ip);\n"                                           \
	"CREATE TABLE bips(ip TEXT NOT NULL, jail TEXT NOT NULL, timeofban INTEGER NOT NULL, "     \
	"bantime INTEGER NOT NULL, bancount INTEGER NOT NULL default 1, data JSON, PRIMARY "       \
	"KEY(ip, jail), FOREIGN KEY(jail) REFERENCES jails(name));\n"                              \
	"INSERT INTO jails VALUES ('sshd', 1), ('nginx-http-auth', 1), ('recidive', 1);\n"         \
	"INSERT INTO logs VALUES ('sshd', '/var/log/auth.log', "                                   \
	"'d41d8cd98f00b204e9800998ecf8427e', 123456);\n"
/* A ban of ip in jail, banned an hour ago for bantime seconds, in bips and its history. */
#define BAN(ip, jail, bantime)                                                                     \
	"INSERT INTO bips VALUES ('" ip "', '" jail "', strftime('%s', 'now') - 3600, " bantime    \
	", 1, NULL);\nINSERT INTO bans VALUES ('" jail "', '" ip "', strftime('%s', 'now') - "     \
	"3600, " bantime ", 1, NULL);\n"
#define BIPS "SELECT ip, jail FROM bips ORDER BY ip, jail"
#define BOTH                                                                                       \
	"SELECT 'bips', ip, jail FROM bips UNION ALL SELECT 'bans', ip, jail FROM bans ORDER BY "  \
	"1, 2, 3"
#define LOGS "SELECT jail, lastfilepos FROM logs"

#define OWN_HEAD                                                                                   \
	"# Written by sshrescue: the protected networks added to ignoreip, merged with\n"          \
	"# the value the rest of fail2ban's configuration gives. `sshrescue undo` removes\n"       \
	"# this file.\n"
#define LACKS(jail) "ignoreip of [" jail "] lacks 203.0.113.0/24: when failed logins"
#define BANNED(ip) "fail2ban's database bans protected address " ip " until "
#define RESTORED "fail2ban restores it at its next start; the jail's action blocks sshd's port"

		static const struct ph_case cases[] = {
		{
			.name = "no fail2ban: skipped",
			.ini = PROTECT,
			.files = {{"/etc/ssh", NULL}},
			.check = POLICY_SKIPPED,
			.repair = POLICY_SKIPPED,
			.note = "no fail2ban on the instance",
		},
		{
			.name = "clean: only other addresses banned, the network ignored",
			.ini = PROTECT,
			.files = {CONFIG(COVERED),
				  {DB, SCHEMA BAN("198.51.100.7", "sshd", "86400"), 0, 0, true}},
			.note = "enabled jails whose bans block sshd's port 22: sshd "
				"(iptables-multiport "
				"blocks ports ssh, sshd's port 22 among them)",
		},
		{
			.name = "a protected ban in the sshd jail: a lockout, its rows deleted",
			.ini = PROTECT,
			.files = {CONFIG(COVERED),
				  {DB,
				   SCHEMA BAN("198.51.100.7", "sshd", "86400")
					   BAN("203.0.113.5", "sshd", "86400"),
				   0, 0, true}},
			.check = POLICY_UNREPAIRED,
			.repair = POLICY_REPAIRED,
			.exit_check = PH_EXIT_REMAIN,
			.exit_repair = PH_EXIT_REPAIRED,
			.findings = {{SEVERITY_LOCKOUT, DB, 0, BANNED("203.0.113.5"),
				      "would delete the row", "deleted the row"},
				     {SEVERITY_RISK, DB, 0,
				      "1 rows of ban history of these addresses in table bans "
				      "(jail sshd)",
				      "would delete them", "deleted them"}},
			.after = {{DB, "198.51.100.7|sshd\n", 0, BIPS}},
			.note = "would delete 1 ban rows from bips and 1 from bans; kept the logs "
				"table",
		},
		{
			.name = "the read positions (logs) stay, the history goes",
			.ini = PROTECT,
			.files = {CONFIG(COVERED),
				  {DB,
				   SCHEMA BAN("203.0.113.5", "sshd", "86400")
					   BAN("198.51.100.7", "sshd", "86400"),
				   0, 0, true}},
			.check = POLICY_UNREPAIRED,
			.repair = POLICY_REPAIRED,
			.exit_check = PH_EXIT_REMAIN,
			.exit_repair = PH_EXIT_REPAIRED,
			.findings = {{SEVERITY_LOCKOUT, DB, 0, BANNED("203.0.113.5")},
				     {SEVERITY_RISK, DB, 0, "rows of ban history"}},
			.after = {{DB, "sshd|123456\n", 0, LOGS}},
		},
		{
			.name = "ignoreip lacks the network: a risk only, sshrescue's jail.d file "
				"written",
			.ini = PROTECT,
			.files = {CONFIG("127.0.0.1/8 ::1")},
			.repair = POLICY_REPAIRED,
			.exit_repair = PH_EXIT_REPAIRED,
			.findings = {{SEVERITY_RISK, JAIL_CONF, 2, LACKS("sshd"),
				      "would write " OWN, "wrote [sshd] ignoreip in " OWN}},
			.after = {{OWN,
				   OWN_HEAD "\n[sshd]\nignoreip = 127.0.0.1/8 ::1 203.0.113.0/24\n",
				   0644}},
			.note = "no database at " DB " (fail2ban has not run yet)",
		},
		{
			.name = "with strict = yes that risk counts",
			.ini = PROTECT "strict = yes\n[fail2ban]\njails = sshd, recidive\n",
			.files = {CONFIG("127.0.0.1/8"),
				  {JAIL_LOCAL, "[recidive]\nignoreip = 10.0.0.1\n"}},
			.check = POLICY_UNREPAIRED,
			.repair = POLICY_REPAIRED,
			.exit_check = PH_EXIT_REMAIN,
			.exit_repair = PH_EXIT_REPAIRED,
			.findings = {{SEVERITY_RISK, JAIL_CONF, 2, LACKS("sshd")},
				     {SEVERITY_RISK, JAIL_LOCAL, 2, LACKS("recidive")}},
			.after = {{OWN,
				   OWN_HEAD "\n[sshd]\nignoreip = 127.0.0.1/8 203.0.113.0/24\n"
					    "\n[recidive]\nignoreip = 10.0.0.1 203.0.113.0/24\n"}},
		},
		{
			.name = "an expired ban is a risk: it lengthens the next one",
			.ini = PROTECT,
			.files = {CONFIG(COVERED),
				  {DB, SCHEMA BAN("203.0.113.5", "sshd", "600"), 0, 0, true}},
			.repair = POLICY_REPAIRED,
			.exit_repair = PH_EXIT_REPAIRED,
			.findings = {{SEVERITY_RISK, DB, 0,
				      "bans protected address 203.0.113.5 (expired: it still "
				      "lengthens the "
				      "next ban) in jail sshd; fail2ban does not restore it"},
				     {SEVERITY_RISK, DB, 0, "rows of ban history"}},
			.after = {{DB, "", 0, BIPS}},
		},
		{
			.name = "a ban in a jail that does not block sshd's port stays",
			.ini = PROTECT,
			.files = {CONFIG(COVERED),
				  {DB, SCHEMA BAN("203.0.113.5", "nginx-http-auth", "86400"), 0, 0,
				   true}},
		},
		{
			.name = "a blocking jail left out of [fail2ban] jails: its bans stay, said "
				"so",
			.ini = PROTECT "[fail2ban]\njails = nginx-http-auth\nignoreip = no\n",
			.files = {CONFIG(COVERED),
				  {DB,
				   SCHEMA BAN("203.0.113.5", "sshd", "-1")
					   BAN("203.0.113.6", "nginx-http-auth", "86400"),
				   0, 0, true}},
			.check = POLICY_UNREPAIRED,
			.repair = POLICY_UNREPAIRED,
			.exit_check = PH_EXIT_REMAIN,
			.exit_repair = PH_EXIT_REMAIN | PH_EXIT_REPAIRED,
			.findings = {{SEVERITY_LOCKOUT, DB, 0,
				      "bans protected address 203.0.113.5 permanently in jail sshd",
				      "none: the jail blocks sshd's port but is not among "
				      "[fail2ban] jails = "
				      "nginx-http-auth",
				      NULL, true},
				     {SEVERITY_RISK, DB, 0,
				      "bans protected address 203.0.113.6 until",
				      "would delete the row", "deleted the row"},
				     {SEVERITY_RISK, DB, 0, "rows of ban history"}},
			.after = {{DB, "203.0.113.5|sshd\n", 0, BIPS}},
		},
		{
			.name = "scope = all deletes every ban of the jail; others' are risks",
			.ini = PROTECT "[fail2ban]\nscope = all\njails = sshd\nignoreip = no\n",
			.files = {CONFIG(COVERED),
				  {DB,
				   SCHEMA BAN("198.51.100.7", "sshd", "86400")
					   BAN("192.0.2.1", "nginx-http-auth", "86400"),
				   0, 0, true}},
			.repair = POLICY_REPAIRED,
			.exit_repair = PH_EXIT_REPAIRED,
			.findings = {{SEVERITY_RISK, DB, 0,
				      "bans address (scope = all) 198.51.100.7 until"},
				     {SEVERITY_RISK, DB, 0, "rows of ban history"}},
			.after = {{DB,
				   "bans|192.0.2.1|nginx-http-auth\nbips|192.0.2.1|nginx-http-"
				   "auth\n",
				   0, BOTH}},
		},
		{
			.name = "dbfile = :memory: keeps no bans: the file is left alone",
			.ini = PROTECT,
			.files = {CONFIG(COVERED),
				  {"/etc/fail2ban/fail2ban.local",
				   "[Definition]\ndbfile = :memory:\n"},
				  {DB, SCHEMA BAN("203.0.113.5", "sshd", "86400"), 0, 0, true}},
			.note = "dbfile = :memory:: fail2ban keeps no bans across restarts",
		},
		{
			.name = "a jail file fail2ban refuses: a risk, ignoreip left alone",
			.ini = PROTECT,
			.files = {CONFIG("127.0.0.1/8"), {JAIL_LOCAL, "[sshd\nenabled = true\n"}},
			.findings = {{SEVERITY_RISK, JAIL_LOCAL, 1,
				      "fail2ban refuses this file and does not start", NULL, NULL,
				      true}},
			.note = "fail2ban refuses its jail configuration: ignoreip left alone",
		},
		{
			.name = "every source protected: every ban of a blocking jail goes",
			.files = {CONFIG("127.0.0.1/8"),
				  {DB,
				   SCHEMA BAN("198.51.100.7", "sshd", "86400")
					   BAN("192.0.2.1", "nginx-http-auth", "86400"),
				   0, 0, true}},
			.check = POLICY_UNREPAIRED,
			.repair = POLICY_REPAIRED,
			.exit_check = PH_EXIT_REMAIN,
			.exit_repair = PH_EXIT_REPAIRED,
			.findings = {{SEVERITY_LOCKOUT, DB, 0, BANNED("198.51.100.7")},
				     {SEVERITY_RISK, DB, 0, "rows of ban history"}},
			.after = {{DB, "192.0.2.1|nginx-http-auth\n", 0, BIPS}},
		},
};

static void test_fail2ban_decisions(void **state)
{
	(void)state;
	ph_run_table(&fail2ban_policy, cases, sizeof(cases) / sizeof(cases[0]));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fail2ban_decisions),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
