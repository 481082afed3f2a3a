/* test_policy_firewall.c: the firewall policy's decisions on the rules saved for the boot,
 * one row per case: iptables-save files, /etc/nftables.conf, ufw's user rules, firewalld's
 * zones in, findings and the files after the repair out (policy_harness.h). Which files are
 * read, which are skipped (a family without protected networks, ufw or firewalld not enabled),
 * and sshd's ports from the instance context; the formats' own edit rules have their tables in
 * test_iptables_save.c, test_nftables.c, test_ufw.c and test_firewalld.c. The running rules
 * (live mode) are not part of these rows. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "policy_harness.h"

#define PROTECT "[agent]\nprotect = 203.0.113.0/24\n"
#define V4 "/etc/iptables/rules.v4"
#define V6 "/etc/iptables/rules.v6"
#define SYSCONFIG "/etc/sysconfig/iptables"
#define NFT "/etc/nftables.conf"
#define M "# sshrescue " PH_RUN ": "
#define HEAD "*filter\n:INPUT ACCEPT [0:0]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n"
#define HEADD "*filter\n:INPUT DROP [0:0]\n:FORWARD DROP [0:0]\n:OUTPUT ACCEPT [0:0]\n"
#define POLICY_DROP                                                                                \
	"chain INPUT's policy DROP drops new connections to sshd from protected sources and no "   \
	"rule accepts them"
#define DROPS "-j DROP blocks new connections to sshd from protected sources"
#define ACCEPT_22 "-A INPUT -s 203.0.113.0/24 -p tcp -m tcp --dport 22 -j ACCEPT\n"

#define NFT_HEAD                                                                                   \
	"#!/usr/sbin/nft -f\n\nflush ruleset\n\ntable inet filter {\n\tchain input {\n"            \
	"\t\ttype filter hook input priority filter; policy drop;\n"
#define NFT_TAIL "\t}\n}\n"

#define UFW_CONF "/etc/ufw/ufw.conf"
#define UFW_DEFAULT "/etc/default/ufw"
#define UFW_RULES "/etc/ufw/user.rules"
#define UFW_HEAD                                                                                   \
	"*filter\n:ufw-user-input - [0:0]\n:ufw-user-output - [0:0]\n"                             \
	":ufw-user-limit - [0:0]\n:ufw-user-limit-accept - [0:0]\n### RULES ###\n\n"
#define UFW_TAIL                                                                                   \
	"### END RULES ###\n\n### RATE LIMITING ###\n"                                             \
	"-A ufw-user-limit -m limit --limit 3/minute -j LOG --log-prefix \"[UFW LIMIT BLOCK] \"\n" \
	"-A ufw-user-limit -j REJECT\n-A ufw-user-limit-accept -j ACCEPT\n"                        \
	"### END RATE LIMITING ###\nCOMMIT\n"
#define UFW_DENY_22                                                                                \
	"### tuple ### deny tcp 22 0.0.0.0/0 any 0.0.0.0/0 in\n"                                   \
	"-A ufw-user-input -p tcp --dport 22 -j DROP\n\n"

#define FWD_CONF "/etc/firewalld/firewalld.conf"
#define FWD_LINK "/etc/systemd/system/multi-user.target.wants/firewalld.service"
#define ZONE_HEAD "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<zone>\n  <short>Public</short>\n"
#define ZONE_LIB "/usr/lib/firewalld/zones/public.xml"
#define ZONE_ETC "/etc/firewalld/zones/public.xml"

static const struct ph_case cases[] = {
	{
		.name = "no saved rules: skipped",
		.ini = PROTECT,
		.files = {{"/etc/iptables", NULL}},
		.check = POLICY_SKIPPED,
		.repair = POLICY_SKIPPED,
		.note = "no saved firewall rules on this instance",
	},
	{
		.name = "clean: sshd accepted, other sources dropped",
		.ini = PROTECT,
		.files = {{V4, HEADD "-A INPUT -s 198.51.100.0/24 -p tcp --dport 22 -j DROP\n"
				     "-A INPUT -p tcp -m tcp --dport 22 -j ACCEPT\nCOMMIT\n"}},
		.note = "saved firewall rules let protected sources reach sshd",
	},
	{
		.name = "a DROP policy without an accept: a lockout, the accept added",
		.ini = PROTECT,
		.files = {{V4, HEADD "-A INPUT -p tcp -m tcp --dport 80 -j ACCEPT\nCOMMIT\n"}},
		.check = POLICY_UNREPAIRED,
		.repair = POLICY_REPAIRED,
		.exit_check = PH_EXIT_REMAIN,
		.exit_repair = PH_EXIT_REPAIRED,
		.findings = {{SEVERITY_LOCKOUT, V4, 2, POLICY_DROP,
			      "would add \"-A INPUT -s 203.0.113.0/24 -p tcp -m tcp --dport 22 -j "
			      "ACCEPT\" at the end of the chain",
			      "added \"-A INPUT"}},
		.after = {{V4,
			   HEADD "-A INPUT -p tcp -m tcp --dport 80 -j ACCEPT\n" M
				 "added the next rule: " POLICY_DROP "\n" ACCEPT_22 "COMMIT\n"}},
	},
	{
		.name = "a DROP of sshd's port for everyone: an accept in front of it",
		.ini = PROTECT,
		.files = {{SYSCONFIG, HEAD "-A INPUT -s 198.51.100.7/32 -j DROP\n"
					   "-A INPUT -p tcp -m tcp --dport 22 -j DROP\nCOMMIT\n"}},
		.check = POLICY_UNREPAIRED,
		.repair = POLICY_REPAIRED,
		.exit_check = PH_EXIT_REMAIN,
		.exit_repair = PH_EXIT_REPAIRED,
		.findings = {{SEVERITY_LOCKOUT, SYSCONFIG, 6, DROPS, "in front of it"}},
		.after = {{SYSCONFIG, HEAD "-A INPUT -s 198.51.100.7/32 -j DROP\n" M
					   "added the next rule: " DROPS "\n" ACCEPT_22
					   "-A INPUT -p tcp -m tcp --dport 22 -j DROP\nCOMMIT\n"}},
	},
	{
		.name = "a REJECT of a protected address for every port: an accept in front",
		.ini = PROTECT,
		.files = {{V4, HEAD "-A INPUT -s 203.0.113.5/32 -j REJECT\n"
				    "-A INPUT -s 198.51.100.7/32 -j REJECT\nCOMMIT\n"}},
		.check = POLICY_UNREPAIRED,
		.repair = POLICY_REPAIRED,
		.exit_check = PH_EXIT_REMAIN,
		.exit_repair = PH_EXIT_REPAIRED,
		.findings = {{SEVERITY_LOCKOUT, V4, 5,
			      "-j REJECT can block new connections to sshd from protected sources",
			      "would add \"-A INPUT -s 203.0.113.0/24 -p tcp -m tcp --dport 22 -j "
			      "ACCEPT\" in front of it"}},
		.after = {{V4, HEAD M "added the next rule: -j REJECT can block new connections to "
				      "sshd from protected sources\n" ACCEPT_22
				      "-A INPUT -s 203.0.113.5/32 -j REJECT\n"
				      "-A INPUT -s 198.51.100.7/32 -j REJECT\nCOMMIT\n"}},
	},
	{
		.name = "fail2ban's saved ban of a protected address: commented out",
		.ini = PROTECT,
		.files = {{V4, HEAD ":f2b-sshd - [0:0]\n"
				    "-A INPUT -p tcp -m multiport --dports 22 -j f2b-sshd\n"
				    "-A f2b-sshd -s 203.0.113.5/32 -j REJECT\n"
				    "-A f2b-sshd -s 198.51.100.7/32 -j REJECT\n"
				    "-A f2b-sshd -j RETURN\nCOMMIT\n"}},
		.check = POLICY_UNREPAIRED,
		.repair = POLICY_REPAIRED,
		.exit_check = PH_EXIT_REMAIN,
		.exit_repair = PH_EXIT_REPAIRED,
		.findings = {{SEVERITY_LOCKOUT, V4, 7, "REJECT", "would comment out",
			      "commented out"}},
		.after = {{V4, HEAD ":f2b-sshd - [0:0]\n"
				    "-A INPUT -p tcp -m multiport --dports 22 -j f2b-sshd\n" M
				    "-A f2b-sshd -s 203.0.113.5/32 -j REJECT\n"
				    "-A f2b-sshd -s 198.51.100.7/32 -j REJECT\n"
				    "-A f2b-sshd -j RETURN\nCOMMIT\n"}},
	},
	{
		.name = "rules.v6 is not judged without an IPv6 protected network",
		.ini = PROTECT,
		.files = {{V6, HEADD "COMMIT\n"}},
	},
	{
		.name = "sshd's port from sshd_config: 2222 accepted, 22 not needed",
		.ini = PROTECT,
		.files = {{"/etc/ssh/sshd_config", "Port 2222\n"},
			  {V4, HEADD "-A INPUT -p tcp -m tcp --dport 22 -j ACCEPT\nCOMMIT\n"}},
		.check = POLICY_UNREPAIRED,
		.repair = POLICY_REPAIRED,
		.exit_check = PH_EXIT_REMAIN,
		.exit_repair = PH_EXIT_REPAIRED,
		.findings = {{SEVERITY_LOCKOUT, V4, 2, POLICY_DROP, "--dport 2222 -j ACCEPT"}},
		.after = {{V4, HEADD "-A INPUT -p tcp -m tcp --dport 22 -j ACCEPT\n" M
				     "added the next rule: " POLICY_DROP "\n"
				     "-A INPUT -s 203.0.113.0/24 -p tcp -m tcp --dport 2222 -j "
				     "ACCEPT\nCOMMIT\n"}},
	},
	{
		.name = "iptables-restore would refuse the file: left as it is",
		.ini = PROTECT,
		.files = {{V4, HEAD "-A INPUT -p tcp --dport 22 -j DROP\n"}},
		.check = POLICY_UNREPAIRED,
		.repair = POLICY_UNREPAIRED,
		.exit_check = PH_EXIT_REMAIN,
		.exit_repair = PH_EXIT_REMAIN,
		.findings =
			{{SEVERITY_LOCKOUT, V4, 6,
			  "COMMIT expected at the end of table filter; iptables-restore refuses "
			  "the file, so what it blocks cannot be told",
			  NULL, NULL, true}},
	},
	{
		.name = "nftables.conf with a drop policy: the accept added to the chain",
		.ini = PROTECT,
		.files = {{NFT, NFT_HEAD "\t\ttcp dport 80 accept\n" NFT_TAIL}},
		.check = POLICY_UNREPAIRED,
		.repair = POLICY_REPAIRED,
		.exit_check = PH_EXIT_REMAIN,
		.exit_repair = PH_EXIT_REPAIRED,
		.findings =
			{{SEVERITY_LOCKOUT, NFT, 6,
			  "chain input's policy drop drops new connections to sshd",
			  "would add \"ip saddr { 203.0.113.0/24 } tcp dport 22 accept\" at the "
			  "end of chain input of table inet filter"}},
		.after = {{NFT,
			   NFT_HEAD "\t\ttcp dport 80 accept\n\t\t" M
				    "added the next rule: chain input's policy drop drops new "
				    "connections to sshd from protected sources and no rule "
				    "accepts them\n\t\tip saddr { 203.0.113.0/24 } tcp dport 22 "
				    "accept\n" NFT_TAIL}},
	},
	{
		.name = "nftables.conf includes a file: not examined, said so",
		.ini = PROTECT,
		.files = {{NFT, "include \"/etc/nftables.d/*.nft\"\n"}},
		.check = POLICY_UNREPAIRED,
		.repair = POLICY_UNREPAIRED,
		.exit_check = PH_EXIT_REMAIN,
		.exit_repair = PH_EXIT_REMAIN,
		.findings = {{SEVERITY_LOCKOUT, NFT, 0,
			      "includes \"/etc/nftables.d/*.nft\", which is not examined", NULL,
			      NULL, true}},
	},
	{
		.name = "ufw enabled with a deny of sshd's port: an allow tuple in front",
		.ini = PROTECT,
		.files = {{UFW_CONF, "ENABLED=yes\nLOGLEVEL=low\n"},
			  {UFW_DEFAULT, "IPV6=no\nDEFAULT_INPUT_POLICY=\"ACCEPT\"\n"},
			  {UFW_RULES, UFW_HEAD UFW_DENY_22 UFW_TAIL},
			  {"/etc/ufw/user6.rules", UFW_HEAD UFW_DENY_22 UFW_TAIL}},
		.check = POLICY_UNREPAIRED,
		.repair = POLICY_REPAIRED,
		.exit_check = PH_EXIT_REMAIN,
		.exit_repair = PH_EXIT_REPAIRED,
		.findings = {{SEVERITY_LOCKOUT, UFW_RULES, 8, DROPS,
			      "would add \"allow tcp 22 0.0.0.0/0 any 203.0.113.0/24 in\" in front "
			      "of it"}},
		.after = {{UFW_RULES,
			   UFW_HEAD M "added the next rule: " DROPS "\n"
				      "### tuple ### allow tcp 22 0.0.0.0/0 any 203.0.113.0/24 "
				      "in\n-A ufw-user-input -p tcp --dport 22 -s 203.0.113.0/24 "
				      "-j ACCEPT\n\n" UFW_DENY_22 UFW_TAIL}},
	},
	{
		.name = "ufw not enabled: its rules are not loaded at boot",
		.ini = PROTECT,
		.files = {{UFW_CONF, "ENABLED=no\n"}, {UFW_RULES, UFW_HEAD UFW_DENY_22 UFW_TAIL}},
	},
	{
		.name = "firewalld's default zone from /usr/lib without ssh: a copy in /etc",
		.ini = PROTECT,
		.files = {{FWD_CONF, "DefaultZone=public\n"},
			  {FWD_LINK, ""},
			  {ZONE_LIB, ZONE_HEAD "  <service name=\"http\"/>\n</zone>\n"}},
		.check = POLICY_UNREPAIRED,
		.repair = POLICY_REPAIRED,
		.exit_check = PH_EXIT_REMAIN,
		.exit_repair = PH_EXIT_REPAIRED,
		.findings = {{SEVERITY_LOCKOUT, ZONE_LIB, 0,
			      "zone public: zone target default and no service, port or rule "
			      "accepts new connections to sshd from protected sources",
			      "would add", "added"}},
		.after = {{ZONE_ETC,
			   ZONE_HEAD "  <service name=\"http\"/>\n  <!-- sshrescue " PH_RUN
				     ": added: zone target default and no service, port "
				     "or rule accepts new connections to sshd from "
				     "protected sources -->\n  <rule family=\"ipv4\"><source "
				     "address=\"203.0.113.0/24\"/><service name=\"ssh\"/>"
				     "<accept/></rule>\n</zone>\n"}},
	},
	{
		.name = "firewalld not enabled at boot: its zones are not judged",
		.ini = PROTECT,
		.files = {{FWD_CONF, "DefaultZone=public\n"},
			  {ZONE_LIB, ZONE_HEAD "  <service name=\"http\"/>\n</zone>\n"}},
	},
	{
		.name = "every source protected: a DROP of sshd's port commented out",
		.files = {{V4, HEAD "-A INPUT -p tcp -m tcp --dport 22 -j DROP\nCOMMIT\n"},
			  {V6, HEAD "-A INPUT -p tcp -m tcp --dport 22 -j DROP\nCOMMIT\n"}},
		.check = POLICY_UNREPAIRED,
		.repair = POLICY_REPAIRED,
		.exit_check = PH_EXIT_REMAIN,
		.exit_repair = PH_EXIT_REPAIRED,
		.findings = {{SEVERITY_LOCKOUT, V4, 5, "DROP", "would comment out"},
			     {SEVERITY_LOCKOUT, V6, 5, "DROP", "would comment out"}},
		.after = {{V4, HEAD M "-A INPUT -p tcp -m tcp --dport 22 -j DROP\nCOMMIT\n"},
			  {V6, HEAD M "-A INPUT -p tcp -m tcp --dport 22 -j DROP\nCOMMIT\n"}},
	},
};

static void test_firewall_decisions(void **state)
{
	(void)state;
	ph_run_table(&firewall_policy, cases, sizeof(cases) / sizeof(cases[0]));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_firewall_decisions),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
