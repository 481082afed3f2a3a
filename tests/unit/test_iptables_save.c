/* test_iptables_save.c: the iptables-save parser and the analysis that keeps protected sources'
 * SSH open. Each case is an input file, the protected networks and sshd's ports, and the exact
 * file that must come out (or the parse error's line). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>

#include "parse/ipset.h"
#include "parse/iptables_save.h"
#include "root.h"

#define M "# sshrescue R: "

struct fcase {
	const char *name;
	int family;
	const char *protect; /* "" every source */
	unsigned ports[3];
	const char *in;
	const char *want; /* NULL: unchanged */
};

#define HEAD "*filter\n:INPUT ACCEPT [0:0]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n"
#define HEADD "*filter\n:INPUT DROP [0:0]\n:FORWARD DROP [0:0]\n:OUTPUT ACCEPT [0:0]\n"

static const struct fcase cases[] = {
	{"ipv6_drop_of_neighbour_discovery_gets_icmpv6_accepts_in_front",
	 AF_INET6,
	 "2001:db8:2::/64",
	 {22},
	 HEADD "-A INPUT -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT\n"
	       "-A INPUT -p tcp -m tcp --dport 22 -j ACCEPT\n-A INPUT -j DROP\nCOMMIT\n",
	 HEADD
	 "-A INPUT -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT\n"
	 "-A INPUT -p tcp -m tcp --dport 22 -j ACCEPT\n" M
	 "added the next rules: -j DROP blocks IPv6 neighbour solicitations (ICMPv6), without "
	 "which no connection to sshd starts, from protected sources\n"
	 "-A INPUT -p ipv6-icmp -m icmp6 --icmpv6-type 133 -j ACCEPT\n"
	 "-A INPUT -p ipv6-icmp -m icmp6 --icmpv6-type 134 -j ACCEPT\n"
	 "-A INPUT -p ipv6-icmp -m icmp6 --icmpv6-type 135 -j ACCEPT\n"
	 "-A INPUT -p ipv6-icmp -m icmp6 --icmpv6-type 136 -j ACCEPT\n"
	 "-A INPUT -j DROP\nCOMMIT\n"},
	{"fail2ban_reject_of_protected_address_is_commented_out",
	 AF_INET,
	 "203.0.113.0/24",
	 {22},
	 HEAD ":f2b-sshd - [0:0]\n"
	      "-A INPUT -p tcp -m multiport --dports 22 -j f2b-sshd\n"
	      "-A f2b-sshd -s 203.0.113.5/32 -j REJECT --reject-with icmp-port-unreachable\n"
	      "-A f2b-sshd -s 198.51.100.7/32 -j REJECT --reject-with icmp-port-unreachable\n"
	      "-A f2b-sshd -j RETURN\nCOMMIT\n",
	 HEAD ":f2b-sshd - [0:0]\n"
	      "-A INPUT -p tcp -m multiport --dports 22 -j f2b-sshd\n" M
	      "-A f2b-sshd -s 203.0.113.5/32 -j REJECT --reject-with icmp-port-unreachable\n"
	      "-A f2b-sshd -s 198.51.100.7/32 -j REJECT --reject-with icmp-port-unreachable\n"
	      "-A f2b-sshd -j RETURN\nCOMMIT\n"},
	{"drop_policy_without_ssh_accept_gets_one_rule_at_the_chain_end",
	 AF_INET,
	 "203.0.113.0/24",
	 {22},
	 HEADD "-A INPUT -i lo -j ACCEPT\n"
	       "-A INPUT -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT\n"
	       "-A INPUT -p tcp -m tcp --dport 80 -j ACCEPT\nCOMMIT\n",
	 HEADD "-A INPUT -i lo -j ACCEPT\n"
	       "-A INPUT -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT\n"
	       "-A INPUT -p tcp -m tcp --dport 80 -j ACCEPT\n" M
	       "added the next rule: chain INPUT's policy DROP drops new connections to sshd from "
	       "protected sources and no rule accepts them\n"
	       "-A INPUT -s 203.0.113.0/24 -p tcp -m tcp --dport 22 -j ACCEPT\nCOMMIT\n"},
	{"drop_policy_with_ssh_accept_is_fine",
	 AF_INET,
	 "",
	 {22},
	 HEADD "-A INPUT -m state --state RELATED,ESTABLISHED -j ACCEPT\n"
	       "-A INPUT -p tcp -m state --state NEW -m tcp --dport 22 -j ACCEPT\nCOMMIT\n",
	 NULL},
	{"ssh_drop_for_everyone_gets_an_accept_for_protected_in_front",
	 AF_INET,
	 "203.0.113.0/24,198.51.100.0/25",
	 {22},
	 HEAD "-A INPUT -p tcp -m tcp --dport 80 -j DROP\n"
	      "-A INPUT -p tcp -m tcp --dport 22 -j DROP\nCOMMIT\n",
	 HEAD "-A INPUT -p tcp -m tcp --dport 80 -j DROP\n" M
	      "added the next rule: -j DROP blocks new connections to sshd from "
	      "protected sources\n"
	      "-A INPUT -s 203.0.113.0/24,198.51.100.0/25 -p tcp -m tcp --dport 22 -j ACCEPT\n"
	      "-A INPUT -p tcp -m tcp --dport 22 -j DROP\nCOMMIT\n"},
	{"ssh_drop_is_commented_when_every_source_is_protected",
	 AF_INET,
	 "",
	 {22},
	 HEAD "-A INPUT -p tcp -m tcp --dport 22 -j DROP\nCOMMIT\n",
	 HEAD M "-A INPUT -p tcp -m tcp --dport 22 -j DROP\nCOMMIT\n"},
	{"catch_all_drop_stays_and_gets_an_accept_in_front",
	 AF_INET,
	 "",
	 {22},
	 HEAD "-A INPUT -p tcp --dport 443 -j ACCEPT\n-A INPUT -j DROP\nCOMMIT\n",
	 HEAD "-A INPUT -p tcp --dport 443 -j ACCEPT\n" M
	      "added the next rule: -j DROP blocks new connections to sshd from "
	      "protected sources\n-A INPUT -p tcp -m tcp --dport 22 -j ACCEPT\n"
	      "-A INPUT -j DROP\nCOMMIT\n"},
	{"rules_for_other_ports_sources_and_protocols_are_kept",
	 AF_INET,
	 "203.0.113.0/24",
	 {22},
	 HEAD "-A INPUT -s 198.51.100.0/24 -p tcp -m tcp --dport 22 -j DROP\n"
	      "-A INPUT -p udp -m udp --dport 22 -j DROP\n"
	      "-A INPUT -p tcp -m multiport --dports 80,443,8000:8080 -j REJECT\n"
	      "-A INPUT ! -s 203.0.113.0/24 -p tcp --dport 22 -j DROP\n"
	      "-A INPUT -i lo -j DROP\n-A INPUT -m conntrack --ctstate INVALID -j DROP\n"
	      "-A INPUT -p tcp -m tcp --dport 22 ! --syn -m state --state NEW -j DROP\n"
	      "COMMIT\n",
	 NULL},
	{"negated_port_that_spares_ssh_is_kept",
	 AF_INET,
	 "",
	 {22},
	 HEAD "-A INPUT -p tcp -m tcp ! --dport 22 -j DROP\n-A INPUT -p tcp -m multiport ! "
	      "--dports 22,80 -j DROP\nCOMMIT\n",
	 NULL},
	{"port_range_covering_ssh_blocks",
	 AF_INET,
	 "203.0.113.7",
	 {22},
	 HEAD "-A INPUT -p tcp -m tcp --dport 1:1024 -j DROP\nCOMMIT\n",
	 HEAD M "added the next rule: -j DROP blocks new connections to sshd from "
		"protected sources\n-A INPUT -s 203.0.113.7 -p tcp -m tcp --dport 22 -j ACCEPT\n"
		"-A INPUT -p tcp -m tcp --dport 1:1024 -j DROP\nCOMMIT\n"},
	{"user_chain_drop_is_followed_through_the_jump",
	 AF_INET,
	 "203.0.113.0/24",
	 {22},
	 HEAD ":blocklist - [0:0]\n-A INPUT -p tcp -j blocklist\n"
	      "-A blocklist -s 203.0.113.0/28 -p tcp --dport 22 -j DROP\n-A blocklist -j RETURN\n"
	      "COMMIT\n",
	 HEAD ":blocklist - [0:0]\n-A INPUT -p tcp -j blocklist\n" M
	      "-A blocklist -s 203.0.113.0/28 -p tcp --dport 22 -j DROP\n-A blocklist -j RETURN\n"
	      "COMMIT\n"},
	{"user_chain_not_reached_by_ssh_is_ignored",
	 AF_INET,
	 "",
	 {22},
	 HEAD ":web - [0:0]\n-A INPUT -p tcp --dport 80 -j web\n-A web -j DROP\nCOMMIT\n",
	 NULL},
	{"early_accept_covers_later_drop",
	 AF_INET,
	 "203.0.113.0/24",
	 {22},
	 HEAD "-A INPUT -s 203.0.113.0/24 -j ACCEPT\n-A INPUT -j DROP\nCOMMIT\n",
	 NULL},
	{"partial_accept_does_not_cover_later_drop",
	 AF_INET,
	 "203.0.113.0/24",
	 {22},
	 HEAD "-A INPUT -s 203.0.113.0/25 -j ACCEPT\n-A INPUT -p tcp --dport 22 -j DROP\nCOMMIT\n",
	 HEAD "-A INPUT -s 203.0.113.0/25 -j ACCEPT\n" M
	      "added the next rule: -j DROP blocks new connections to sshd from "
	      "protected sources\n-A INPUT -s 203.0.113.0/24 -p tcp -m tcp --dport 22 -j ACCEPT\n"
	      "-A INPUT -p tcp --dport 22 -j DROP\nCOMMIT\n"},
	{"rate_limit_on_ssh_is_neutralised_for_protected_sources",
	 AF_INET,
	 "203.0.113.0/24",
	 {22},
	 HEAD "-A INPUT -p tcp --dport 22 -m recent --update --seconds 60 --hitcount 4 -j DROP\n"
	      "COMMIT\n",
	 HEAD M "added the next rule: -j DROP can block new connections to sshd from "
		"protected sources\n-A INPUT -s 203.0.113.0/24 -p tcp -m tcp --dport 22 -j ACCEPT\n"
		"-A INPUT -p tcp --dport 22 -m recent --update --seconds 60 --hitcount 4 -j DROP\n"
		"COMMIT\n"},
	{"output_drop_policy_gets_reply_accept",
	 AF_INET,
	 "",
	 {22},
	 "*filter\n:INPUT ACCEPT [0:0]\n:OUTPUT DROP [0:0]\n-A OUTPUT -p udp --dport 53 -j ACCEPT\n"
	 "COMMIT\n",
	 "*filter\n:INPUT ACCEPT [0:0]\n:OUTPUT DROP [0:0]\n-A OUTPUT -p udp --dport 53 -j "
	 "ACCEPT\n" M
	 "added the next rule: chain OUTPUT's policy DROP drops sshd's replies from protected "
	 "sources and no rule accepts them\n-A OUTPUT -p tcp -m tcp --sport 22 -j "
	 "ACCEPT\nCOMMIT\n"},
	{"established_only_accept_needs_new_too",
	 AF_INET,
	 "",
	 {22},
	 HEADD "-A INPUT -m conntrack --ctstate ESTABLISHED -j ACCEPT\nCOMMIT\n",
	 HEADD "-A INPUT -m conntrack --ctstate ESTABLISHED -j ACCEPT\n" M
	       "added the next rule: chain INPUT's policy DROP drops new connections to sshd "
	       "from protected sources and no rule accepts them\n"
	       "-A INPUT -p tcp -m tcp --dport 22 -j ACCEPT\nCOMMIT\n"},
	{"syn_only_accept_needs_established_too",
	 AF_INET,
	 "",
	 {22},
	 HEADD "-A INPUT -p tcp --dport 22 --syn -j ACCEPT\nCOMMIT\n",
	 HEADD "-A INPUT -p tcp --dport 22 --syn -j ACCEPT\n" M
	       "added the next rule: chain INPUT's policy DROP drops the client's packets of "
	       "established sshd connections from protected sources and no rule accepts them\n"
	       "-A INPUT -p tcp -m tcp --dport 22 -j ACCEPT\nCOMMIT\n"},
	{"raw_table_drop_is_found_too",
	 AF_INET,
	 "203.0.113.9",
	 {22},
	 "*raw\n:PREROUTING ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n"
	 "-A PREROUTING -s 203.0.113.9/32 -p tcp -m tcp --dport 22 -j DROP\nCOMMIT\n" HEAD
	 "COMMIT\n",
	 "*raw\n:PREROUTING ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n" M
	 "-A PREROUTING -s 203.0.113.9/32 -p tcp -m tcp --dport 22 -j DROP\nCOMMIT\n" HEAD
	 "COMMIT\n"},
	{"nat_prerouting_redirect_of_ssh_is_commented",
	 AF_INET,
	 "",
	 {22},
	 "*nat\n:PREROUTING ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n"
	 "-A PREROUTING -p tcp --dport 22 -j REDIRECT --to-ports 2222\n"
	 "-A OUTPUT -p tcp --dport 22 -j DNAT --to-destination 10.0.0.1\nCOMMIT\n",
	 "*nat\n:PREROUTING ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n"
	 "# sshrescue R: -A PREROUTING -p tcp --dport 22 -j REDIRECT --to-ports 2222\n"
	 "-A OUTPUT -p tcp --dport 22 -j DNAT --to-destination 10.0.0.1\nCOMMIT\n"},
	{"a_chain_reached_by_two_jumps_gets_an_accept_not_a_comment",
	 AF_INET,
	 "203.0.113.0/24",
	 {22},
	 "*filter\n:INPUT ACCEPT [0:0]\n:u - [0:0]\n"
	 "-A INPUT -s 203.0.113.0/24 -p tcp --dport 22 -j u\n-A INPUT -p tcp --dport 80 -j u\n"
	 "-A u -j DROP\nCOMMIT\n",
	 "*filter\n:INPUT ACCEPT [0:0]\n:u - [0:0]\n"
	 "-A INPUT -s 203.0.113.0/24 -p tcp --dport 22 -j u\n-A INPUT -p tcp --dport 80 -j u\n"
	 "# sshrescue R: added the next rule: -j DROP blocks new connections to sshd from "
	 "protected "
	 "sources\n-A u -s 203.0.113.0/24 -p tcp -m tcp --dport 22 -j ACCEPT\n"
	 "-A u -j DROP\nCOMMIT\n"},
	{"protocol_names_in_capitals_are_tcp",
	 AF_INET,
	 "",
	 {22},
	 HEAD "-A INPUT -p TCP -m tcp --dport 22 -j DROP\nCOMMIT\n",
	 HEAD "# sshrescue R: -A INPUT -p TCP -m tcp --dport 22 -j DROP\nCOMMIT\n"},
	{"nfqueue_blocks_like_a_drop",
	 AF_INET,
	 "203.0.113.0/24",
	 {22},
	 HEAD "-A INPUT -p tcp --dport 22 -j NFQUEUE --queue-num 1\nCOMMIT\n",
	 HEAD "# sshrescue R: added the next rule: -j NFQUEUE blocks new connections to sshd from "
	      "protected sources\n-A INPUT -s 203.0.113.0/24 -p tcp -m tcp --dport 22 -j ACCEPT\n"
	      "-A INPUT -p tcp --dport 22 -j NFQUEUE --queue-num 1\nCOMMIT\n"},
	{"deleted_accept_rule_no_longer_accepts",
	 AF_INET,
	 "203.0.113.0/24",
	 {22},
	 "*filter\n:INPUT DROP [0:0]\n-A INPUT -p tcp --dport 22 -j ACCEPT\n-D INPUT 1\nCOMMIT\n",
	 "*filter\n:INPUT DROP [0:0]\n-A INPUT -p tcp --dport 22 -j ACCEPT\n-D INPUT 1\n"
	 "# sshrescue R: added the next rule: chain INPUT's policy DROP drops new connections to "
	 "sshd from protected sources and no rule accepts them\n"
	 "-A INPUT -s 203.0.113.0/24 -p tcp -m tcp --dport 22 -j ACCEPT\nCOMMIT\n"},
	{"return_in_a_builtin_chain_meets_the_policy",
	 AF_INET,
	 "203.0.113.0/24",
	 {22},
	 "*filter\n:INPUT DROP [0:0]\n-A INPUT -s 203.0.113.0/24 -j RETURN\n-A INPUT -j ACCEPT\n"
	 "COMMIT\n",
	 "*filter\n:INPUT DROP [0:0]\n# sshrescue R: added the next rule: RETURN leaves chain "
	 "INPUT, "
	 "whose policy DROP drops new connections to sshd from protected sources\n"
	 "-A INPUT -s 203.0.113.0/24 -p tcp -m tcp --dport 22 -j ACCEPT\n"
	 "-A INPUT -s 203.0.113.0/24 -j RETURN\n-A INPUT -j ACCEPT\nCOMMIT\n"},
	{"return_of_some_from_a_user_chain_is_not_accepted",
	 AF_INET,
	 "203.0.113.0/24",
	 {22},
	 "*filter\n:INPUT DROP [0:0]\n:u - [0:0]\n-A INPUT -j u\n-A u -s 203.0.113.10 -j RETURN\n"
	 "-A u -j ACCEPT\nCOMMIT\n",
	 "*filter\n:INPUT DROP [0:0]\n:u - [0:0]\n-A INPUT -j u\n"
	 "# sshrescue R: added the next rule: chain INPUT's policy DROP drops new connections to "
	 "sshd from protected sources and no rule accepts them\n"
	 "-A INPUT -s 203.0.113.0/24 -p tcp -m tcp --dport 22 -j ACCEPT\n"
	 "-A u -s 203.0.113.10 -j RETURN\n-A u -j ACCEPT\nCOMMIT\n"},
	{"ipv6_drop_policy_and_multiple_ports",
	 AF_INET6,
	 "2001:db8::/32",
	 {22, 2222},
	 "*filter\n:INPUT DROP [0:0]\n:OUTPUT ACCEPT [0:0]\n"
	 "-A INPUT -p ipv6-icmp -j ACCEPT\n-A INPUT -p tcp -m tcp --dport 22 -j ACCEPT\nCOMMIT\n",
	 "*filter\n:INPUT DROP [0:0]\n:OUTPUT ACCEPT [0:0]\n"
	 "-A INPUT -p ipv6-icmp -j ACCEPT\n-A INPUT -p tcp -m tcp --dport 22 -j ACCEPT\n" M
	 "added the next rule: chain INPUT's policy DROP drops new connections to sshd from "
	 "protected sources and no rule accepts them\n"
	 "-A INPUT -s 2001:db8::/32 -p tcp -m multiport --dports 22,2222 -j ACCEPT\nCOMMIT\n"},
	{"empty_chain_gets_rule_before_commit",
	 AF_INET,
	 "",
	 {22},
	 HEADD "COMMIT\n",
	 HEADD M "added the next rule: chain INPUT's policy DROP drops new connections to sshd "
		 "from protected sources and no rule accepts them\n"
		 "-A INPUT -p tcp -m tcp --dport 22 -j ACCEPT\nCOMMIT\n"},
	{"quoted_comment_and_counters_parse",
	 AF_INET,
	 "",
	 {22},
	 HEAD "[12:3400] -A INPUT -p tcp -m comment --comment \"block \\\"ssh\\\" -j x\" -m tcp "
	      "--dport 22 -j DROP\nCOMMIT\n",
	 HEAD M "[12:3400] -A INPUT -p tcp -m comment --comment \"block \\\"ssh\\\" -j x\" -m tcp "
		"--dport 22 -j DROP\nCOMMIT\n"},
	{"goto_chain_with_drop",
	 AF_INET,
	 "",
	 {22},
	 HEAD ":ssh - [0:0]\n-A INPUT -p tcp --dport 22 -g ssh\n-A ssh -j DROP\nCOMMIT\n",
	 HEAD ":ssh - [0:0]\n-A INPUT -p tcp --dport 22 -g ssh\n" M "-A ssh -j DROP\nCOMMIT\n"},
	{"service_name_port_is_understood",
	 AF_INET,
	 "",
	 {22},
	 HEAD "-A INPUT -p tcp --dport ssh -j REJECT --reject-with tcp-reset\nCOMMIT\n",
	 HEAD M "-A INPUT -p tcp --dport ssh -j REJECT --reject-with tcp-reset\nCOMMIT\n"},
	{"iprange_inside_protected_is_commented",
	 AF_INET,
	 "203.0.113.0/24",
	 {22},
	 HEAD "-A INPUT -p tcp --dport 22 -m iprange --src-range 203.0.113.1-203.0.113.9 -j DROP\n"
	      "COMMIT\n",
	 HEAD M "-A INPUT -p tcp --dport 22 -m iprange --src-range 203.0.113.1-203.0.113.9 -j "
		"DROP\nCOMMIT\n"},
	{"iprange_wider_than_protected_gets_an_accept",
	 AF_INET,
	 "203.0.113.0/28",
	 {22},
	 HEAD "-A INPUT -p tcp --dport 22 -m iprange --src-range 203.0.113.1-203.0.113.90 -j DROP\n"
	      "COMMIT\n",
	 HEAD M
	 "added the next rule: -j DROP can block new connections to sshd from "
	 "protected sources\n-A INPUT -s 203.0.113.0/28 -p tcp -m tcp --dport 22 -j ACCEPT\n"
	 "-A INPUT -p tcp --dport 22 -m iprange --src-range 203.0.113.1-203.0.113.90 -j DROP\n"
	 "COMMIT\n"},
};

static void sink_add(void *arg, size_t off, size_t len, const char *text, size_t n)
{
	edits_add(arg, off, len, text, n);
}

static void run_case(const struct fcase *c)
{
	struct ipt_file f;
	unsigned el;
	char *err = NULL;
	size_t len = strlen(c->in);
	int rc = iptables_save_parse(c->in, len, &f, &el, &err);
	if (rc < 0)
		fail_msg("%s: parse: line %u: %s", c->name, el, err);
	struct cidr_list pl = {0};
	size_t bad;
	assert_int_equal(cidr_list_parse(c->protect, &pl, &bad), 0);
	unsigned n_ports = 0;
	while (n_ports < 3 && c->ports[n_ports])
		n_ports++;
	struct fw_scope s = {.family = c->family,
			     .peers = pl.v,
			     .n_peers = pl.n,
			     .ports = c->ports,
			     .n_ports = n_ports};
	struct ipt_fixes fx;
	assert_int_equal(iptables_save_analyze(&f, &s, IPT_HOOKS, IPT_N_HOOKS, &fx), 0);
	if (fx.unsupported)
		fail_msg("%s: unsupported: %s", c->name, fx.note);
	struct edits e = {0};
	iptables_save_edits(c->in, len, &f, &fx, &s, M, &(struct fw_edit_sink){sink_add, &e});
	struct buf out = {0};
	buf_puts(&out, "");
	for (size_t i = 0, pos = 0; i <= e.n; i++) {
		size_t end = i < e.n ? e.v[i].off : len;
		buf_append(&out, c->in + pos, end - pos);
		if (i < e.n) {
			buf_append(&out, e.v[i].text, e.v[i].text_len);
			pos = e.v[i].off + e.v[i].len;
		}
	}
	const char *want = c->want ? c->want : c->in;
	if (strcmp(out.data, want))
		fail_msg("%s:\n--- got\n%s--- want\n%s", c->name, out.data, want);
	/* a second analysis of the result finds nothing */
	struct ipt_file f2;
	assert_int_equal(iptables_save_parse(out.data, out.len, &f2, &el, &err), 0);
	struct ipt_fixes fx2;
	iptables_save_analyze(&f2, &s, IPT_HOOKS, IPT_N_HOOKS, &fx2);
	if (fx2.n)
		fail_msg("%s: second run fixes %s", c->name, fx2.v[0].why);
	ipt_fixes_free(&fx2);
	iptables_save_free(&f2);
	buf_free(&out);
	edits_free(&e);
	ipt_fixes_free(&fx);
	iptables_save_free(&f);
	cidr_list_free(&pl);
}

static void test_repair_case(void **state)
{
	run_case(*state);
}

static const struct {
	const char *in;
	unsigned line;
} bad_files[] = {
	{"-A INPUT -j DROP\n", 1},
	{"*filter\n:INPUT DROP [0:0]\n-A INPUT -j DROP\n", 4},
	{"*filter\n-A INPUT -m comment --comment \"open\nCOMMIT\n", 2},
	{"*filter\n*nat\nCOMMIT\n", 2},
	{"*filter\nfoo bar\nCOMMIT\n", 2},
	{"*filter\n:INPUT DROP\n:INPUT ACCEPT\nCOMMIT\n", 3},
	{"COMMIT\n", 1},
	{"*filter\n-I INPUT 0 -j DROP\nCOMMIT\n", 2},
};

static void test_malformed_files_name_the_line(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(bad_files) / sizeof(bad_files[0]); i++) {
		struct ipt_file f;
		unsigned el = 0;
		char *err = NULL;
		int rc = iptables_save_parse(bad_files[i].in, strlen(bad_files[i].in), &f, &el,
					     &err);
		if (rc >= 0)
			fail_msg("case %zu parsed", i);
		assert_non_null(err);
		if (el != bad_files[i].line)
			fail_msg("case %zu: line %u, want %u (%s)", i, el, bad_files[i].line, err);
		free(err);
	}
}

static void test_parse_records_lines_and_offsets(void **state)
{
	(void)state;
	const char *in = "# Generated\n*filter\n:INPUT DROP [0:0]\n:f2b-sshd - [0:0]\n"
			 "-A INPUT -j f2b-sshd\n  -A f2b-sshd -s 1.2.3.4/32 -j REJECT\nCOMMIT\n";
	struct ipt_file f;
	unsigned el;
	char *err = NULL;
	assert_int_equal(iptables_save_parse(in, strlen(in), &f, &el, &err), 0);
	assert_int_equal(f.n_tables, 1);
	assert_string_equal(f.tables[0].name, "filter");
	assert_int_equal(f.tables[0].n_chains, 2);
	assert_string_equal(f.tables[0].chains[0].policy, "DROP");
	assert_string_equal(f.tables[0].chains[1].policy, "-");
	assert_int_equal(f.n_cmds, 2);
	assert_int_equal(f.cmds[1].line, 6);
	assert_int_equal(f.cmds[1].off, strstr(in, "  -A f2b") - in);
	assert_string_equal(f.cmds[1].chain, "f2b-sshd");
	assert_int_equal(f.cmds[1].argc, 4);
	assert_int_equal(f.tables[0].commit_line, 7);
	iptables_save_free(&f);
}

/* In a chain built with -I the accept goes in as "-I chain N" just before COMMIT. */
static void test_inserted_rules_get_an_insert_before_commit(void **state)
{
	(void)state;
	const char *in = HEAD "-I INPUT 1 -p tcp --dport 22 -j DROP\nCOMMIT\n";
	struct ipt_file f;
	unsigned el;
	char *err = NULL;
	assert_int_equal(iptables_save_parse(in, strlen(in), &f, &el, &err), 0);
	struct cidr c;
	cidr_parse("203.0.113.0/24", &c);
	unsigned port = 22;
	struct fw_scope s = {
		.family = AF_INET, .peers = &c, .n_peers = 1, .ports = &port, .n_ports = 1};
	struct ipt_fixes fx;
	iptables_save_analyze(&f, &s, IPT_HOOKS, IPT_N_HOOKS, &fx);
	assert_false(fx.unsupported);
	assert_int_equal(fx.n, 1);
	assert_int_equal(fx.v[0].kind, IPT_FIX_INSERT);
	assert_true(fx.v[0].at_commit);
	assert_int_equal(fx.v[0].pos, 1);
	ipt_fixes_free(&fx);
	iptables_save_free(&f);
}

/* 20000 fail2ban bans of protected addresses: each is commented, in one linear pass. */
static void test_many_bans_are_commented_quickly(void **state)
{
	(void)state;
	struct buf in = {0};
	buf_puts(&in,
		 HEAD ":f2b-sshd - [0:0]\n-A INPUT -p tcp -m multiport --dports 22 -j f2b-sshd\n");
	for (unsigned i = 0; i < 20000; i++)
		buf_printf(&in, "-A f2b-sshd -s 10.%u.%u.%u/32 -j REJECT\n", i >> 16,
			   (i >> 8) & 255, i & 255);
	buf_puts(&in, "-A f2b-sshd -j RETURN\nCOMMIT\n");
	struct ipt_file f;
	unsigned el;
	char *err = NULL;
	assert_int_equal(iptables_save_parse(in.data, in.len, &f, &el, &err), 0);
	struct cidr c;
	cidr_parse("10.0.0.0/8", &c);
	unsigned port = 22;
	struct fw_scope s = {
		.family = AF_INET, .peers = &c, .n_peers = 1, .ports = &port, .n_ports = 1};
	struct ipt_fixes fx;
	iptables_save_analyze(&f, &s, IPT_HOOKS, IPT_N_HOOKS, &fx);
	assert_false(fx.unsupported);
	assert_int_equal(fx.n, 20000);
	for (size_t i = 0; i < fx.n; i++)
		assert_int_equal(fx.v[i].kind, IPT_FIX_COMMENT);
	ipt_fixes_free(&fx);
	iptables_save_free(&f);
	buf_free(&in);
}

/* IPv6 needs neighbour discovery: a drop policy that nothing before lets ICMPv6 through is
 * outside the model (the repair opens TCP only); with ICMPv6 accepted first, it is repaired. */
static void test_ipv6_neighbour_discovery_blocked_gets_accepts(void **state)
{
	(void)state;
	static const char *in[] = {
		"*filter\n:INPUT DROP [0:0]\n:OUTPUT ACCEPT [0:0]\nCOMMIT\n",
		"*filter\n:INPUT DROP [0:0]\n:OUTPUT ACCEPT [0:0]\n-A INPUT -p ipv6-icmp -j "
		"ACCEPT\n"
		"COMMIT\n",
	};
	struct cidr c;
	cidr_parse("2001:db8::/32", &c);
	unsigned port = 22;
	struct fw_scope s = {
		.family = AF_INET6, .peers = &c, .n_peers = 1, .ports = &port, .n_ports = 1};
	for (size_t i = 0; i < 2; i++) {
		struct ipt_file f;
		unsigned el;
		char *err = NULL;
		assert_int_equal(iptables_save_parse(in[i], strlen(in[i]), &f, &el, &err), 0);
		struct ipt_fixes fx;
		iptables_save_analyze(&f, &s, IPT_HOOKS, IPT_N_HOOKS, &fx);
		/* the drop policy: an accept for sshd's port, and (without the ICMPv6 accept)
		 * accepts for neighbour discovery */
		assert_false(fx.unsupported);
		assert_int_equal(fx.n, i == 0 ? 2 : 1);
		if (i == 0)
			assert_true(fx.v[0].nd != fx.v[1].nd);
		ipt_fixes_free(&fx);
		iptables_save_free(&f);
	}
}

/* A jump back into a chain on the path (iptables refuses such a file) ends the walk there. */
static void test_jump_loops_end(void **state)
{
	(void)state;
	const char *in = HEAD ":a - [0:0]\n:b - [0:0]\n-A INPUT -j a\n-A a -j b\n-A b -j a\n"
			      "-A b -j LOG\n-A INPUT -p tcp --dport 22 -j DROP\nCOMMIT\n";
	struct ipt_file f;
	unsigned el;
	char *err = NULL;
	assert_int_equal(iptables_save_parse(in, strlen(in), &f, &el, &err), 0);
	unsigned port = 22;
	struct fw_scope s = {
		.family = AF_INET, .peers = NULL, .n_peers = 0, .ports = &port, .n_ports = 1};
	struct ipt_fixes fx;
	iptables_save_analyze(&f, &s, IPT_HOOKS, IPT_N_HOOKS, &fx);
	assert_int_equal(fx.n, 1);
	assert_int_equal(fx.v[0].kind, IPT_FIX_COMMENT);
	assert_int_equal(f.cmds[fx.v[0].cmd].line, 11);
	ipt_fixes_free(&fx);
	iptables_save_free(&f);
}

/* A set match is judged by the set: a blocking rule on a set used by blocking rules only is
 * fixed in the set (the rules file stays), one on a set an accept uses too gets an accept in
 * front, one on a set that is not persisted makes the verdict unknown. */
static void test_set_matches_are_judged_by_the_persisted_sets(void **state)
{
	(void)state;
	static const struct {
		const char *rules;
		enum ipt_fix_kind kind; /* of the one fix */
		bool unknown;
	} sets_cases[] = {
		{HEAD "-A INPUT -m set --match-set blk src -j DROP\nCOMMIT\n", IPT_FIX_SET, false},
		{HEAD "-A INPUT -p tcp -m set --match-set blk src --dport 8080 -j ACCEPT\n"
		      "-A INPUT -m set --match-set blk src -j DROP\nCOMMIT\n",
		 IPT_FIX_INSERT, false},
		{HEAD "-A INPUT -j SET --add-set blk src\n"
		      "-A INPUT -m set --match-set blk src -j DROP\nCOMMIT\n",
		 IPT_FIX_INSERT, false},
		{HEAD "-A INPUT -m set --match-set nosuch src -j DROP\nCOMMIT\n", IPT_FIX_SET,
		 true},
		{HEAD "-A INPUT -m set --match-set mac src -j DROP\nCOMMIT\n", IPT_FIX_SET, true},
	};
	const char *sets = "create blk hash:net\nadd blk 203.0.0.0/8\ncreate mac hash:mac\n";
	struct ipset_file sf;
	unsigned el;
	char *err = NULL;
	assert_int_equal(ipset_parse(sets, strlen(sets), &sf, &el, &err), 0);
	struct cidr c;
	cidr_parse("203.0.113.0/24", &c);
	unsigned port = 22;
	struct fw_scope s = {.family = AF_INET,
			     .peers = &c,
			     .n_peers = 1,
			     .ports = &port,
			     .n_ports = 1,
			     .sets = &sf,
			     .sets_where = "sets"};
	for (size_t i = 0; i < sizeof(sets_cases) / sizeof(sets_cases[0]); i++) {
		struct ipt_file f;
		assert_int_equal(iptables_save_parse(sets_cases[i].rules,
						     strlen(sets_cases[i].rules), &f, &el, &err),
				 0);
		struct ipt_fixes fx;
		iptables_save_analyze(&f, &s, IPT_HOOKS, IPT_N_HOOKS, &fx);
		if (fx.unsupported != sets_cases[i].unknown)
			fail_msg("case %zu: unknown %d (%s)", i, fx.unsupported, fx.note);
		if (!sets_cases[i].unknown) {
			assert_int_equal(fx.n, 1);
			assert_int_equal(fx.v[0].kind, sets_cases[i].kind);
		}
		ipt_fixes_free(&fx);
		iptables_save_free(&f);
	}
	ipset_free(&sf);
}

int main(void)
{
	const size_t n_cases = sizeof(cases) / sizeof(cases[0]);
	struct CMUnitTest tests[sizeof(cases) / sizeof(cases[0]) + 7] = {
		cmocka_unit_test(test_set_matches_are_judged_by_the_persisted_sets),
		cmocka_unit_test(test_many_bans_are_commented_quickly),
		cmocka_unit_test(test_jump_loops_end),
		cmocka_unit_test(test_ipv6_neighbour_discovery_blocked_gets_accepts),
		cmocka_unit_test(test_malformed_files_name_the_line),
		cmocka_unit_test(test_parse_records_lines_and_offsets),
		cmocka_unit_test(test_inserted_rules_get_an_insert_before_commit),
	};
	/* one test per table row, named after it */
	for (size_t i = 0; i < n_cases; i++)
		tests[7 + i] = (struct CMUnitTest){.name = cases[i].name,
						   .test_func = test_repair_case,
						   .initial_state = (void *)&cases[i]};
	return _cmocka_run_group_tests("iptables_save", tests, n_cases + 7, NULL, NULL);
}
