/* test_ufw.c: ufw's KEY=value files and the repair of user.rules that keeps each rule with its
 * `### tuple ###` line. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "parse/ufw.h"
#include "root.h"

#define M "# sshrescue R: "
#define HEAD                                                                                       \
	"*filter\n:ufw-user-input - [0:0]\n:ufw-user-output - [0:0]\n"                             \
	":ufw-user-limit - [0:0]\n:ufw-user-limit-accept - [0:0]\n### RULES ###\n\n"
#define TAIL                                                                                       \
	"### END RULES ###\n\n### RATE LIMITING ###\n"                                             \
	"-A ufw-user-limit -m limit --limit 3/minute -j LOG --log-prefix \"[UFW LIMIT BLOCK] \"\n" \
	"-A ufw-user-limit -j REJECT\n-A ufw-user-limit-accept -j ACCEPT\n"                        \
	"### END RATE LIMITING ###\nCOMMIT\n"
#define ALLOW_PROT                                                                                 \
	"### tuple ### allow tcp 22 0.0.0.0/0 any 203.0.113.0/24 in\n"                             \
	"-A ufw-user-input -p tcp --dport 22 -s 203.0.113.0/24 -j ACCEPT\n\n"

struct ucase {
	const char *name;
	const char *protect;
	const char *policy;
	const char *in, *want;
};

static const struct ucase cases[] = {
	{"deny_of_protected_host_goes_with_its_tuple", "203.0.113.0/24", "ACCEPT",
	 HEAD "### tuple ### allow tcp 80 0.0.0.0/0 any 0.0.0.0/0 in\n"
	      "-A ufw-user-input -p tcp --dport 80 -j ACCEPT\n\n"
	      "### tuple ### deny any 22 0.0.0.0/0 any 203.0.113.10 in\n"
	      "-A ufw-user-input -p tcp --dport 22 -s 203.0.113.10 -j DROP\n"
	      "-A ufw-user-input -p udp --dport 22 -s 203.0.113.10 -j DROP\n\n" TAIL,
	 HEAD "### tuple ### allow tcp 80 0.0.0.0/0 any 0.0.0.0/0 in\n"
	      "-A ufw-user-input -p tcp --dport 80 -j ACCEPT\n\n" M
	      "### tuple ### deny any 22 0.0.0.0/0 any 203.0.113.10 in\n" M
	      "-A ufw-user-input -p tcp --dport 22 -s 203.0.113.10 -j DROP\n" M
	      "-A ufw-user-input -p udp --dport 22 -s 203.0.113.10 -j DROP\n\n" TAIL},
	{"drop_policy_gets_an_allow_tuple_at_the_end", "203.0.113.0/24", "DROP",
	 HEAD "### tuple ### allow tcp 80 0.0.0.0/0 any 0.0.0.0/0 in\n"
	      "-A ufw-user-input -p tcp --dport 80 -j ACCEPT\n\n" TAIL,
	 HEAD "### tuple ### allow tcp 80 0.0.0.0/0 any 0.0.0.0/0 in\n"
	      "-A ufw-user-input -p tcp --dport 80 -j ACCEPT\n\n" M
	      "added the next rule: chain ufw-user-input's policy DROP drops new connections to "
	      "sshd from protected sources and no rule accepts them\n" ALLOW_PROT TAIL},
	{"deny_for_everyone_gets_allow_tuple_in_front", "203.0.113.0/24", "ACCEPT",
	 HEAD "### tuple ### deny tcp 22 0.0.0.0/0 any 0.0.0.0/0 in\n"
	      "-A ufw-user-input -p tcp --dport 22 -j DROP\n\n" TAIL,
	 HEAD M "added the next rule: -j DROP blocks new connections to sshd from protected "
		"sources\n" ALLOW_PROT "### tuple ### deny tcp 22 0.0.0.0/0 any 0.0.0.0/0 in\n"
		"-A ufw-user-input -p tcp --dport 22 -j DROP\n\n" TAIL},
	{"limit_rule_is_fixed_at_its_tuple_not_in_the_limit_chain", "203.0.113.0/24", "ACCEPT",
	 HEAD "### tuple ### limit tcp 22 0.0.0.0/0 any 0.0.0.0/0 in\n"
	      "-A ufw-user-input -p tcp --dport 22 -m conntrack --ctstate NEW -m recent --set\n"
	      "-A ufw-user-input -p tcp --dport 22 -m conntrack --ctstate NEW -m recent --update "
	      "--seconds 30 --hitcount 6 -j ufw-user-limit\n"
	      "-A ufw-user-input -p tcp --dport 22 -j ufw-user-limit-accept\n\n" TAIL,
	 HEAD M "added the next rule: -j REJECT can block new connections to sshd from protected "
		"sources\n" ALLOW_PROT "### tuple ### limit tcp 22 0.0.0.0/0 any 0.0.0.0/0 in\n"
		"-A ufw-user-input -p tcp --dport 22 -m conntrack --ctstate NEW -m recent --set\n"
		"-A ufw-user-input -p tcp --dport 22 -m conntrack --ctstate NEW -m recent "
		"--update --seconds 30 --hitcount 6 -j ufw-user-limit\n"
		"-A ufw-user-input -p tcp --dport 22 -j ufw-user-limit-accept\n\n" TAIL},
	/* the marker outside the chain's table (a fuzzed file): the rule goes before the COMMIT
	 * of the table, never after it, where iptables-restore would refuse it */
	{"end_rules_marker_outside_the_table_is_not_used", "203.0.113.0/24", "DROP",
	 "*filter\n:ufw-user-input - [0:0]\n### RULES ###\n\n"
	 "### tuple ### allow tcp 80 0.0.0.0/0 any 0.0.0.0/0 in\n"
	 "-A ufw-user-input -p tcp --dport 80 -j ACCEPT\n\n"
	 "COMMIT\n*mangle\n:PREROUTING ACCEPT [0:0]\nCOMMIT\n### END RULES ###\n",
	 "*filter\n:ufw-user-input - [0:0]\n### RULES ###\n\n"
	 "### tuple ### allow tcp 80 0.0.0.0/0 any 0.0.0.0/0 in\n"
	 "-A ufw-user-input -p tcp --dport 80 -j ACCEPT\n\n" M
	 "added the next rule: chain ufw-user-input's policy DROP drops new connections to "
	 "sshd from protected sources and no rule accepts them\n" ALLOW_PROT
	 "COMMIT\n*mangle\n:PREROUTING ACCEPT [0:0]\nCOMMIT\n### END RULES ###\n"},
	{"end_rules_marker_before_the_chain_is_not_used", "203.0.113.0/24", "DROP",
	 "*filter\n### END RULES ###\n:ufw-user-input - [0:0]\nCOMMIT\n",
	 "*filter\n### END RULES ###\n:ufw-user-input - [0:0]\n" M
	 "added the next rule: chain ufw-user-input's policy DROP drops new connections to "
	 "sshd from protected sources and no rule accepts them\n" ALLOW_PROT "COMMIT\n"},
	{"allow_for_ssh_needs_nothing", "", "DROP",
	 HEAD "### tuple ### allow tcp 22 0.0.0.0/0 any 0.0.0.0/0 in\n"
	      "-A ufw-user-input -p tcp --dport 22 -j ACCEPT\n\n" TAIL,
	 NULL},
};

static void sink_add(void *arg, size_t off, size_t len, const char *text, size_t n)
{
	edits_add(arg, off, len, text, n);
}

static void test_repair_case(void **state)
{
	const struct ucase *c = *state;
	size_t len = strlen(c->in), bad;
	struct ipt_file f;
	unsigned el;
	char *err = NULL;
	if (iptables_save_parse(c->in, len, &f, &el, &err) < 0)
		fail_msg("parse: line %u: %s", el, err);
	struct cidr_list pl = {0};
	assert_int_equal(cidr_list_parse(c->protect, &pl, &bad), 0);
	unsigned port = 22;
	struct fw_scope s = {
		.family = AF_INET, .peers = pl.v, .n_peers = pl.n, .ports = &port, .n_ports = 1};
	struct ipt_entry en = ufw_entry(false, c->policy);
	struct ipt_fixes fx;
	iptables_save_analyze(&f, &s, &en, 1, &fx);
	if (fx.unsupported)
		fail_msg("unsupported: %s", fx.note);
	struct edits e = {0};
	ufw_edits(c->in, len, &f, &fx, &s, false, M, &(struct fw_edit_sink){sink_add, &e});
	struct buf out = {0};
	buf_puts(&out, "");
	size_t pos = 0;
	for (size_t i = 0; i < e.n; i++) {
		buf_append(&out, c->in + pos, e.v[i].off - pos);
		buf_append(&out, e.v[i].text, e.v[i].text_len);
		pos = e.v[i].off + e.v[i].len;
	}
	buf_append(&out, c->in + pos, len - pos);
	const char *want = c->want ? c->want : c->in;
	if (strcmp(out.data, want))
		fail_msg("\n--- got\n%s--- want\n%s", out.data, want);
	struct ipt_file f2;
	if (iptables_save_parse(out.data, out.len, &f2, &el, &err) < 0)
		fail_msg("the repaired file does not parse: line %u: %s", el, err);
	iptables_save_free(&f2);
	buf_free(&out);
	edits_free(&e);
	ipt_fixes_free(&fx);
	iptables_save_free(&f);
	cidr_list_free(&pl);
}

static void test_conf_values_are_read_like_the_shell(void **state)
{
	(void)state;
	const char *conf = "# comment\nENABLED=no\nLOGLEVEL=low\n  ENABLED=yes\n"
			   "DEFAULT_INPUT_POLICY=\"DROP\"\nIPV6='no' # trailing\nEMPTY=\n";
	size_t len = strlen(conf);
	char *v = ufw_conf_value(conf, len, "ENABLED");
	assert_string_equal(v, "yes");
	free(v);
	v = ufw_conf_value(conf, len, "DEFAULT_INPUT_POLICY");
	assert_string_equal(v, "DROP");
	free(v);
	v = ufw_conf_value(conf, len, "IPV6");
	assert_string_equal(v, "no");
	free(v);
	v = ufw_conf_value(conf, len, "EMPTY");
	assert_string_equal(v, "");
	free(v);
	assert_null(ufw_conf_value(conf, len, "MISSING"));
	assert_null(ufw_conf_value(conf, len, "LOG"));
}

static void test_group_spans_tuple_and_its_rules(void **state)
{
	(void)state;
	const char *in = HEAD "### tuple ### deny any 22 0.0.0.0/0 any 0.0.0.0/0 in\n"
			      "-A ufw-user-input -p tcp --dport 22 -j DROP\n"
			      "-A ufw-user-input -p udp --dport 22 -j DROP\n\n" TAIL;
	size_t len = strlen(in);
	struct ufw_group g;
	const char *udp = strstr(in, "-A ufw-user-input -p udp");
	assert_true(ufw_group_at(in, len, (size_t)(udp - in), &g));
	assert_int_equal(g.start, strstr(in, "### tuple ###") - in);
	assert_int_equal(g.end, strstr(udp, "\n") - in + 1);
	assert_int_equal(g.line, 8);
	assert_false(ufw_group_at(in, len, (size_t)(strstr(in, "-A ufw-user-limit -j") - in), &g));
	assert_int_equal(ufw_rules_end(in, len), strstr(in, "### END RULES") - in);
}

int main(void)
{
	const size_t n_cases = sizeof(cases) / sizeof(cases[0]);
	struct CMUnitTest tests[sizeof(cases) / sizeof(cases[0]) + 2] = {
		cmocka_unit_test(test_conf_values_are_read_like_the_shell),
		cmocka_unit_test(test_group_spans_tuple_and_its_rules),
	};
	for (size_t i = 0; i < n_cases; i++)
		tests[2 + i] = (struct CMUnitTest){.name = cases[i].name,
						   .test_func = test_repair_case,
						   .initial_state = (void *)&cases[i]};
	return _cmocka_run_group_tests("ufw", tests, n_cases + 2, NULL, NULL);
}
