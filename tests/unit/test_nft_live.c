/* test_nft_live.c: the transaction that repairs the running nft ruleset. Each case: what
 * "nft -a list ruleset" printed, the tables iptables-nft-save listed, the protected networks
 * and sshd's ports, and the exact text that goes to "nft -f -". */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>
#include <sys/socket.h>

#include "parse/nft_live.h"

struct lcase {
	const char *name;
	const char *listing;
	const char *ipt_nft; /* "ip filter,ip6 filter": the tables iptables-nft owns */
	const char *protect; /* "" every source */
	unsigned ports[3];
	size_t tables; /* tables nft alone owns (analysed) */
	size_t changes;
	const char *want; /* the transaction; NULL: nothing is run */
};

/* As nft -a list ruleset prints it (nftables 1.0.6) after loading a file with an iptables-nft
 * style table and a hand-written inet table. */
#define LISTING                                                                                    \
	"table ip filter { # handle 1\n"                                                           \
	"\tchain INPUT { # handle 1\n"                                                             \
	"\t\ttype filter hook input priority filter; policy drop;\n"                               \
	"\t\ttcp dport 22 drop # handle 2\n"                                                       \
	"\t}\n"                                                                                    \
	"}\n"                                                                                      \
	"table inet f { # handle 2\n"                                                              \
	"\tchain input { # handle 1\n"                                                             \
	"\t\ttype filter hook input priority filter; policy drop;\n"                               \
	"\t\tiifname \"lo\" accept # handle 3\n"                                                   \
	"\t\tip saddr 203.0.113.0/24 tcp dport 22 drop # handle 4\n"                               \
	"\t\ttcp dport 22 drop # handle 5\n"                                                       \
	"\t}\n"                                                                                    \
	"\n"                                                                                       \
	"\tchain output { # handle 2\n"                                                            \
	"\t\ttype filter hook output priority filter; policy drop;\n"                              \
	"\t}\n"                                                                                    \
	"}\n"
#define MARK " comment \"sshrescue R1\"\n"

static const struct lcase cases[] = {
	{"iptables_nft_table_is_left_to_iptables_the_others_get_deletes_and_inserts_by_handle",
	 LISTING,
	 "ip filter",
	 "203.0.113.0/24",
	 {22},
	 1,
	 3,
	 /* the inserts first: the delete takes away handle 4, not one they are placed by */
	 "insert rule inet f input position 5 ip saddr { 203.0.113.0/24 } tcp dport 22 accept" MARK
	 "add rule inet f output ip daddr { 203.0.113.0/24 } tcp sport 22 accept" MARK
	 "delete rule inet f input handle 4\n"},
	{"without_iptables_nft_every_table_is_changed_here",
	 LISTING,
	 "",
	 "203.0.113.0/24",
	 {22},
	 2,
	 4,
	 "insert rule ip filter INPUT position 2 ip saddr { 203.0.113.0/24 } tcp dport 22 "
	 "accept" MARK
	 "insert rule inet f input position 5 ip saddr { 203.0.113.0/24 } tcp dport 22 accept" MARK
	 "add rule inet f output ip daddr { 203.0.113.0/24 } tcp sport 22 accept" MARK
	 "delete rule inet f input handle 4\n"},
	{"iptables_nft_of_the_other_family_does_not_own_the_table",
	 LISTING,
	 "ip6 filter",
	 "203.0.113.0/24",
	 {22},
	 2,
	 4,
	 "insert rule ip filter INPUT position 2 ip saddr { 203.0.113.0/24 } tcp dport 22 "
	 "accept" MARK
	 "insert rule inet f input position 5 ip saddr { 203.0.113.0/24 } tcp dport 22 accept" MARK
	 "add rule inet f output ip daddr { 203.0.113.0/24 } tcp sport 22 accept" MARK
	 "delete rule inet f input handle 4\n"},
	{"hand_written_ip_filter_with_lower_case_chains_is_not_iptables_nft",
	 "table ip filter { # handle 7\n\tchain input { # handle 1\n"
	 "\t\ttype filter hook input priority filter; policy accept;\n"
	 "\t\ttcp dport 22 drop # handle 9\n\t}\n}\n",
	 "ip filter",
	 "203.0.113.0/24",
	 {22},
	 1,
	 1,
	 "insert rule ip filter input position 9 ip saddr { 203.0.113.0/24 } tcp dport 22 "
	 "accept" MARK},
	{"only_iptables_nft_tables_nothing_is_analysed",
	 "table ip filter { # handle 1\n\tchain INPUT { # handle 1\n"
	 "\t\ttype filter hook input priority filter; policy drop;\n\t}\n"
	 "\tchain OUTPUT { # handle 2\n\t\ttype filter hook output priority filter; policy "
	 "accept;\n"
	 "\t}\n\tchain f2b-sshd { # handle 3\n\t\tip saddr 203.0.113.10 drop # handle 4\n\t}\n}\n",
	 "ip filter",
	 "203.0.113.0/24",
	 {22},
	 0,
	 0,
	 NULL},
	{"every_source_protected_one_accept_for_both_families_and_the_ssh_drops_deleted",
	 LISTING,
	 "ip filter",
	 "",
	 {22},
	 1,
	 4,
	 "add rule inet f input tcp dport 22 accept" MARK
	 "add rule inet f output tcp sport 22 accept" MARK "delete rule inet f input handle 4\n"
	 "delete rule inet f input handle 5\n"},
	{"ipv6_table_gets_an_ip6_accept_for_each_port",
	 "table ip6 f { # handle 3\n\tchain input { # handle 1\n"
	 "\t\ttype filter hook input priority filter; policy drop;\n"
	 "\t\ticmpv6 type { nd-neighbor-solicit, nd-neighbor-advert } accept # handle 2\n"
	 "\t}\n}\n",
	 "",
	 "2001:db8:2::/64",
	 {22, 2222},
	 1,
	 1,
	 "add rule ip6 f input ip6 saddr { 2001:db8:2::/64 } tcp dport { 22, 2222 } accept" MARK},
	{"a_rule_without_handle_changes_nothing",
	 "table inet f {\n\tchain input {\n\t\ttype filter hook input priority filter; "
	 "policy accept;\n\t\ttcp dport 22 drop\n\t}\n}\n",
	 "",
	 "203.0.113.0/24",
	 {22},
	 1,
	 1,
	 NULL},
	{"one_rule_without_handle_holds_back_the_whole_change",
	 "table inet f { # handle 1\n\tchain input { # handle 1\n"
	 "\t\ttype filter hook input priority filter; policy accept;\n"
	 "\t\tip saddr 203.0.113.0/24 tcp dport 22 drop # handle 2\n\t\ttcp dport 22 drop\n"
	 "\t}\n}\n",
	 "",
	 "203.0.113.0/24",
	 {22},
	 1,
	 2,
	 NULL},
	{"a_statement_outside_the_model_changes_nothing",
	 "table inet f { # handle 1\n\tchain pre { # handle 1\n"
	 "\t\ttype filter hook prerouting priority raw; policy accept;\n"
	 "\t\ttcp dport 22 notrack # handle 2\n\t}\n}\n",
	 "",
	 "203.0.113.0/24",
	 {22},
	 1,
	 0,
	 NULL},
	{"rules_that_let_ssh_through_need_no_change",
	 "table inet f { # handle 1\n\tchain input { # handle 1\n"
	 "\t\ttype filter hook input priority filter; policy drop;\n"
	 "\t\tct state established,related accept # handle 2\n"
	 "\t\ttcp dport 22 accept # handle 3\n\t}\n}\n",
	 "",
	 "203.0.113.0/24",
	 {22},
	 1,
	 0,
	 NULL},
};

static void test_live_case(void **state)
{
	const struct lcase *c = *state;
	struct nft_file f;
	unsigned el;
	char *err = NULL;
	size_t len = strlen(c->listing);
	if (nftables_parse(c->listing, len, &f, &el, &err) < 0)
		fail_msg("parse: line %u: %s", el, err);
	struct strv ipt = {0};
	_cleanup_free_ char *names = xstrdup(c->ipt_nft);
	for (char *sp, *w = strtok_r(names, ",", &sp); w; w = strtok_r(NULL, ",", &sp))
		strv_push(&ipt, w);
	struct cidr_list pl = {0};
	size_t bad, n4 = 0, n6 = 0, n_sc = 0, np = 0;
	struct cidr v4[4], v6[4];
	struct fw_scope sc[2];
	assert_int_equal(cidr_list_parse(c->protect, &pl, &bad), 0);
	while (np < 3 && c->ports[np])
		np++;
	for (size_t i = 0; i < pl.n; i++) {
		if (pl.v[i].family == AF_INET)
			v4[n4++] = pl.v[i];
		else
			v6[n6++] = pl.v[i];
	}
	if (!pl.n || n4)
		sc[n_sc++] = (struct fw_scope){AF_INET, v4, n4, c->ports, np};
	if (!pl.n || n6)
		sc[n_sc++] = (struct fw_scope){AF_INET6, v6, n6, c->ports, np};
	struct nft_live l;
	nft_live_build(c->listing, len, &f, &ipt, sc, n_sc, "R1", &l);
	assert_int_equal(l.view.n_tables, c->tables);
	assert_int_equal(l.n_changes, c->changes);
	if (c->want && !l.transaction)
		fail_msg("no transaction; want\n%s", c->want);
	if (!c->want && l.transaction)
		fail_msg("want no transaction; got\n%s", l.transaction);
	if (c->want && strcmp(l.transaction, c->want))
		fail_msg("\n--- got\n%s--- want\n%s", l.transaction, c->want);
	nft_live_free(&l);
	strv_free(&ipt);
	cidr_list_free(&pl);
	nftables_free(&f);
}

static void test_the_run_id_becomes_nft_string_characters(void **state)
{
	const char *in = "table ip f { # handle 1\n\tchain input { # handle 1\n"
			 "\t\ttype filter hook input priority filter; policy drop;\n\t}\n}\n";
	struct nft_file f;
	unsigned el;
	char *err = NULL;
	assert_int_equal(nftables_parse(in, strlen(in), &f, &el, &err), 0);
	struct strv ipt = {0};
	const unsigned port = 22;
	struct fw_scope sc = {AF_INET, NULL, 0, &port, 1};
	struct nft_live l;
	nft_live_build(in, strlen(in), &f, &ipt, &sc, 1, "2026-12-06T10:00 \"x\";{y}", &l);
	assert_non_null(l.transaction);
	assert_string_equal(l.transaction, "add rule ip f input tcp dport 22 accept comment "
					   "\"sshrescue 2026-12-06T10:00 _x___y_\"\n");
	nft_live_free(&l);
	nftables_free(&f);
}

static void test_the_changes_name_the_rules_and_handles(void **state)
{
	const char *in = LISTING;
	struct nft_file f;
	unsigned el;
	char *err = NULL;
	assert_int_equal(nftables_parse(in, strlen(in), &f, &el, &err), 0);
	struct strv ipt = {0};
	strv_push(&ipt, "ip filter");
	const unsigned port = 22;
	struct cidr net;
	assert_int_equal(cidr_parse("203.0.113.0/24", &net), 0);
	struct fw_scope sc = {AF_INET, &net, 1, &port, 1};
	struct nft_live l;
	nft_live_build(in, strlen(in), &f, &ipt, &sc, 1, "R1", &l);
	assert_int_equal(l.n_changes, 3);
	const struct nft_live_change *c = l.changes;
	assert_string_equal(c[0].table->name, "f");
	assert_int_equal(c[0].fix->kind, NFT_FIX_COMMENT);
	assert_int_equal(c[0].handle, 4);
	assert_null(c[0].accept);
	assert_memory_equal(in + c[0].rule->off, "ip saddr 203.0.113.0/24 tcp dport 22 drop",
			    c[0].rule->end - c[0].rule->off);
	assert_int_equal(c[1].handle, 5);
	assert_string_equal(c[1].accept, "ip saddr { 203.0.113.0/24 } tcp dport 22 accept");
	assert_string_equal(c[2].chain->name, "output");
	assert_null(c[2].rule);
	assert_int_equal(c[2].handle, 0);
	nft_live_free(&l);
	strv_free(&ipt);
	nftables_free(&f);
}

int main(void)
{
	const size_t n_cases = sizeof(cases) / sizeof(cases[0]);
	struct CMUnitTest tests[sizeof(cases) / sizeof(cases[0]) + 2] = {
		cmocka_unit_test(test_the_run_id_becomes_nft_string_characters),
		cmocka_unit_test(test_the_changes_name_the_rules_and_handles),
	};
	for (size_t i = 0; i < n_cases; i++)
		tests[2 + i] = (struct CMUnitTest){.name = cases[i].name,
						   .test_func = test_live_case,
						   .initial_state = (void *)&cases[i]};
	return _cmocka_run_group_tests("nft_live", tests, n_cases + 2, NULL, NULL);
}
