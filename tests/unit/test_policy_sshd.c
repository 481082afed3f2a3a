/* test_policy_sshd.c: the sshd policy's decisions, one row per case: sshd_config (its
 * Includes), the OpenSSH release (dpkg's status) and the host keys in, findings and the files
 * after the repair out (policy_harness.h).
 * The rows hold no /usr/sbin/sshd: with one, the policy runs `sshd -t` in the sandbox
 * (bubblewrap, the instance as /), which needs a real binary and its libraries; so what depends
 * on it is judged in tests/integration/sshd.sh instead: sshd's own verdict before and after the
 * repair and the rollback of an edit it refuses, the privilege separation directory (read from
 * the binary), generating missing host keys, the live reload. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "policy_harness.h"

#define PROTECT "[agent]\nprotect = 203.0.113.0/24\n"
#define CONF "/etc/ssh/sshd_config"
#define DPKG "/var/lib/dpkg/status"
#define OPENSSH(v) "Package: openssh-server\nStatus: install ok installed\nVersion: " v "\n"
#define OPENSSH_92 OPENSSH("1:9.2p1-2+deb12u3")
#define OPENSSH_98 OPENSSH("1:9.8p1-3")
#define KEY "/etc/ssh/ssh_host_ed25519_key"
#define RSA_KEY "/etc/ssh/ssh_host_rsa_key"
#define KEY_TEXT                                                                                   \
	"-----BEGIN OPENSSH PRIVATE KEY-----\nnot a real key\n-----END OPENSSH PRIVATE KEY-----\n"
#define MARK "# sshrescue " PH_RUN ": "
#define DROPPED "sshd drops new connections before the banner"
#define EXEMPT_MISSING                                                                             \
	"PerSourcePenalties is on (OpenSSH 9.8's default) and no "                                 \
	"PerSourcePenaltyExemptList names the protected networks"

static const struct ph_case cases[] = {
	{
		.name = "no sshd and no sshd_config: skipped",
		.ini = PROTECT,
		.check = POLICY_SKIPPED,
		.repair = POLICY_SKIPPED,
		.note = "no sshd and no /etc/ssh/sshd_config",
	},
	{
		.name = "clean: MaxStartups above the minimum, keys root's alone",
		.ini = PROTECT,
		.files = {{CONF, "Port 22\nMaxStartups 20:30:100\nPerSourceMaxStartups 10\n"},
			  {DPKG, OPENSSH_92},
			  {KEY, KEY_TEXT, 0, 0600}},
		.note = "no /usr/sbin/sshd in the instance",
	},
	{
		.name = "MaxStartups below the minimum: a risk, set to max_startups",
		.ini = PROTECT,
		.files = {{CONF, "# ssh\nMaxStartups 3\nPasswordAuthentication no\n"},
			  {DPKG, OPENSSH_92}},
		.repair = POLICY_REPAIRED,
		.exit_repair = PH_EXIT_REPAIRED,
		.findings = {{SEVERITY_RISK, CONF, 2,
			      "MaxStartups 3: when 3 other unauthenticated connections are open",
			      "would set to 10:30:100 (the first occurrence, read by first-wins "
			      "releases)",
			      "set to 10:30:100"}},
		.after = {{CONF, "# ssh\nMaxStartups 10:30:100\nPasswordAuthentication no\n"}},
	},
	{
		.name = "with strict = yes that risk counts",
		.ini = PROTECT "strict = yes\n",
		.files = {{CONF, "MaxStartups 3:50:6\n"}, {DPKG, OPENSSH_92}},
		.check = POLICY_UNREPAIRED,
		.repair = POLICY_REPAIRED,
		.exit_check = PH_EXIT_REMAIN,
		.exit_repair = PH_EXIT_REPAIRED,
		.findings = {{SEVERITY_RISK, CONF, 1,
			      "sshd drops 50% of new connections before the banner, and every one "
			      "from 6"}},
		.after = {{CONF, "MaxStartups 10:30:100\n"}},
	},
	{
		.name = "the first and the last occurrence are both made safe",
		.ini = PROTECT,
		.files = {{CONF, "MaxStartups 2\nPort 22\nMaxStartups 4\n"}, {DPKG, OPENSSH_92}},
		.repair = POLICY_REPAIRED,
		.exit_repair = PH_EXIT_REPAIRED,
		.findings = {{SEVERITY_RISK, CONF, 1, "MaxStartups 2:", "the first occurrence"},
			     {SEVERITY_RISK, CONF, 3, "MaxStartups 4:", "the last occurrence"}},
		.after = {{CONF, "MaxStartups 10:30:100\nPort 22\nMaxStartups 10:30:100\n"}},
	},
	{
		.name = "PerSourceMaxStartups 0 refuses every connection: a lockout",
		.ini = PROTECT,
		.files = {{CONF, "PerSourceMaxStartups 0\n"}, {DPKG, OPENSSH_92}},
		.check = POLICY_UNREPAIRED,
		.repair = POLICY_REPAIRED,
		.exit_check = PH_EXIT_REMAIN,
		.exit_repair = PH_EXIT_REPAIRED,
		.findings =
			{{SEVERITY_LOCKOUT, CONF, 1,
			  "PerSourceMaxStartups 0: sshd drops every connection before the banner",
			  "would set to 10", "set to 10"}},
		.after = {{CONF, "PerSourceMaxStartups 10\n"}},
	},
	{
		.name = "MaxStartups inside a Match block: sshd does not start, commented out",
		.ini = PROTECT,
		.files = {{CONF, "MaxStartups 30\nMatch User bob\n\tMaxStartups 20\n"},
			  {DPKG, OPENSSH_92}},
		.check = POLICY_UNREPAIRED,
		.repair = POLICY_REPAIRED,
		.exit_check = PH_EXIT_REMAIN,
		.exit_repair = PH_EXIT_REPAIRED,
		.findings =
			{{SEVERITY_LOCKOUT, CONF, 3,
			  "MaxStartups inside a Match block (\"Match User bob\"): sshd refuses to "
			  "start with it",
			  "would comment out the line", "commented out the line"}},
		.after = {{CONF, "MaxStartups 30\nMatch User bob\n" MARK "\tMaxStartups 20\n"}},
	},
	{
		.name = "a malformed MaxStartups in an Included file: set there",
		.ini = PROTECT,
		.files = {{CONF, "Include /etc/ssh/sshd_config.d/*.conf\nPort 22\n"},
			  {"/etc/ssh/sshd_config.d/50-cloud.conf", "MaxStartups ten\n"},
			  {"/etc/ssh/sshd_config.d/60-other.conf", "PasswordAuthentication no\n"},
			  {DPKG, OPENSSH_92}},
		.check = POLICY_UNREPAIRED,
		.repair = POLICY_REPAIRED,
		.exit_check = PH_EXIT_REMAIN,
		.exit_repair = PH_EXIT_REPAIRED,
		.findings = {{SEVERITY_LOCKOUT, "/etc/ssh/sshd_config.d/50-cloud.conf", 1,
			      "MaxStartups \"ten\" is malformed: sshd refuses to start",
			      "would set to 10:30:100"}},
		.after = {{"/etc/ssh/sshd_config.d/50-cloud.conf", "MaxStartups 10:30:100\n"}},
	},
	{
		.name = "MaxStartups unset under a higher minimum: a first line added",
		.ini = PROTECT "[sshd]\nmin_max_startups = 20\nmax_startups = 20:30:100\n",
		.files = {{CONF, "Port 22\n"}, {DPKG, OPENSSH_92}},
		.repair = POLICY_REPAIRED,
		.exit_repair = PH_EXIT_REPAIRED,
		.findings = {{SEVERITY_RISK, CONF, 1,
			      "MaxStartups is not set, and sshd's default 10:30:100 is below the "
			      "minimum 20",
			      "would add \"MaxStartups 20:30:100\" as the first line"}},
		.after = {{CONF, "MaxStartups 20:30:100\nPort 22\n"}},
	},
	{
		.name = "OpenSSH 9.8 penalties without an exempt list: one put first",
		.ini = PROTECT,
		.files = {{CONF, "Port 22\n"}, {DPKG, OPENSSH_98}},
		.check = POLICY_UNREPAIRED,
		.repair = POLICY_REPAIRED,
		.exit_check = PH_EXIT_REMAIN,
		.exit_repair = PH_EXIT_REPAIRED,
		.findings =
			{{SEVERITY_LOCKOUT, CONF, 1, EXEMPT_MISSING,
			  "would add \"PerSourcePenaltyExemptList 203.0.113.0/24\" as the first "
			  "line"}},
		.after = {{CONF, "PerSourcePenaltyExemptList 203.0.113.0/24\nPort 22\n"}},
	},
	{
		.name = "an exempt list without the network: merged into it",
		.ini = PROTECT,
		.files = {{CONF, "PerSourcePenaltyExemptList 10.0.0.0/8\n"}, {DPKG, OPENSSH_98}},
		.check = POLICY_UNREPAIRED,
		.repair = POLICY_REPAIRED,
		.exit_check = PH_EXIT_REMAIN,
		.exit_repair = PH_EXIT_REPAIRED,
		.findings =
			{{SEVERITY_LOCKOUT, CONF, 1,
			  "PerSourcePenaltyExemptList 10.0.0.0/8 leaves protected networks open",
			  "would set to 10.0.0.0/8,203.0.113.0/24"}},
		.after = {{CONF, "PerSourcePenaltyExemptList 10.0.0.0/8,203.0.113.0/24\n"}},
	},
	{
		/* (the note names them only with an sshd binary, whose release it gives) */
		.name = "over-strict penalties with the network exempt: not a problem",
		.ini = PROTECT,
		.files = {{CONF, "PerSourcePenalties authfail:3600\n"
				 "PerSourcePenaltyExemptList 203.0.113.0/24\n"},
			  {DPKG, OPENSSH_98}},
	},
	{
		.name = "over-strict penalties and every source protected: nothing to exempt",
		.files = {{CONF, "PerSourcePenalties authfail:3600\n"}, {DPKG, OPENSSH_98}},
		.check = POLICY_UNREPAIRED,
		.repair = POLICY_UNREPAIRED,
		.exit_check = PH_EXIT_REMAIN,
		.exit_repair = PH_EXIT_REMAIN,
		.findings = {{SEVERITY_LOCKOUT, CONF, 1,
			      "PerSourcePenalties authfail:3600 is over-strict (over 60 s)",
			      "none: name the owner's networks in [agent] protect",
			      "none: name the owner's networks in [agent] protect", true}},
	},
	{
		.name = "an exempt list is unknown to OpenSSH 9.2: no penalty finding",
		.ini = PROTECT,
		.files = {{CONF, "Port 22\n"}, {DPKG, OPENSSH_92}},
	},
	{
		.name = "a keyword without its argument: a lockout the policy cannot fix",
		.ini = PROTECT,
		.files = {{CONF, "Port 22\nBanner\n"}, {DPKG, OPENSSH_92}},
		.check = POLICY_UNREPAIRED,
		.repair = POLICY_UNREPAIRED,
		.exit_check = PH_EXIT_REMAIN,
		.exit_repair = PH_EXIT_REMAIN,
		.findings = {{SEVERITY_LOCKOUT, CONF, 2,
			      "sshd refuses this: no argument after keyword \"Banner\"", NULL, NULL,
			      true}},
	},
	{
		.name = "a readable host key beside a good one: a risk, mode set",
		.ini = PROTECT,
		.files = {{CONF, "HostKey " RSA_KEY "\nHostKey " KEY "\n"},
			  {DPKG, OPENSSH_92},
			  {RSA_KEY, KEY_TEXT, 0, 0644},
			  {KEY, KEY_TEXT, 0, 0600}},
		.repair = POLICY_REPAIRED,
		.exit_repair = PH_EXIT_REPAIRED,
		.findings =
			{{SEVERITY_RISK, RSA_KEY, 0,
			  "host key " RSA_KEY " has mode 0644: sshd ignores a private key that "
			  "others can read (\"UNPROTECTED PRIVATE KEY FILE\"); sshd starts with "
			  "its other keys",
			  "would set owner root and mode 0600", "set owner root and mode 0600"}},
		.after = {{RSA_KEY, KEY_TEXT, 0600}},
	},
	{
		.name = "the only host key readable by others: a lockout, mode set",
		.ini = PROTECT,
		.files = {{CONF, "HostKey " KEY "\n"},
			  {DPKG, OPENSSH_92},
			  {KEY, KEY_TEXT, 0, 0640}},
		.check = POLICY_UNREPAIRED,
		.repair = POLICY_REPAIRED,
		.exit_check = PH_EXIT_REMAIN,
		.exit_repair = PH_EXIT_REPAIRED,
		.findings = {{SEVERITY_LOCKOUT, KEY, 0,
			      "host key " KEY " has mode 0640: sshd ignores"}},
		.after = {{KEY, KEY_TEXT, 0600}},
	},
	{
		.name = "a host key that is a directory: sshd cannot load it",
		.ini = PROTECT,
		.files = {{CONF, "HostKey " RSA_KEY "\nHostKey " KEY "\n"},
			  {DPKG, OPENSSH_92},
			  {RSA_KEY, NULL},
			  {KEY, KEY_TEXT, 0, 0600}},
		.findings = {{SEVERITY_RISK, RSA_KEY, 0,
			      "host key " RSA_KEY " is a directory: sshd cannot load it", NULL,
			      NULL, true}},
	},
};

static void test_sshd_decisions(void **state)
{
	(void)state;
	ph_run_table(&sshd_policy, cases, sizeof(cases) / sizeof(cases[0]));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sshd_decisions),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
