/* test_ipset.c: the persisted ipsets: parsing as ipset restore reads them, the class of a
 * "-m set --match-set" against the protected networks, and the edits that take them out of a
 * set. Each case is a file, a match and the protected networks, and the exact outcome. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>

#include "parse/ipset.h"
#include "root.h"

#define M "# sshrescue R: "

struct ccase {
	const char *name;
	int family;
	const char *protect; /* "" every source */
	const char *in;
	const char *set, *flags;
	bool return_nomatch, out;
	int rc;		   /* of ipset_match_class */
	enum fw_class cls; /* when rc is 0 */
};

#define NET "create blk hash:net family inet hashsize 1024 maxelem 65536\n"

static const struct ccase ccases[] = {
	{"hash_net_holding_the_protected_network_matches_all", AF_INET, "203.0.113.0/24",
	 NET "add blk 203.0.113.0/24\n", "blk", "src", false, false, 0, FW_ALL},
	{"hash_net_wider_element_matches_all", AF_INET, "203.0.113.0/24",
	 NET "add blk 203.0.0.0/8\n", "blk", "src", false, false, 0, FW_ALL},
	{"hash_net_one_address_inside_matches_some", AF_INET, "203.0.113.0/24",
	 NET "add blk 203.0.113.5\n", "blk", "src", false, false, 0, FW_SOME},
	{"hash_net_elsewhere_matches_none", AF_INET, "203.0.113.0/24",
	 NET "add blk 198.51.100.0/24\n", "blk", "src", false, false, 0, FW_NONE},
	{"nomatch_element_for_the_protected_network_matches_none", AF_INET, "203.0.113.0/24",
	 NET "add blk 203.0.0.0/8\nadd blk 203.0.113.0/24 nomatch\n", "blk", "src", false, false, 0,
	 FW_NONE},
	{"nomatch_element_for_part_matches_some", AF_INET, "203.0.113.0/24",
	 NET "add blk 203.0.0.0/8\nadd blk 203.0.113.0/25 nomatch\n", "blk", "src", false, false, 0,
	 FW_SOME},
	{"return_nomatch_turns_nomatch_elements_into_matches", AF_INET, "203.0.113.0/24",
	 NET "add blk 203.0.0.0/8\nadd blk 203.0.113.0/24 nomatch\n", "blk", "src", true, false, 0,
	 FW_ALL},
	{"a_later_add_with_exist_replaces_the_element", AF_INET, "203.0.113.0/24",
	 NET "add blk 203.0.113.0/24 nomatch\nadd -exist blk 203.0.113.0/24\n", "blk", "src", false,
	 false, 0, FW_ALL},
	{"del_takes_the_element_away", AF_INET, "203.0.113.0/24",
	 NET "add blk 203.0.113.0/24\ndel blk 203.0.113.0/24\n", "blk", "src", false, false, 0,
	 FW_NONE},
	{"flush_empties_the_set", AF_INET, "203.0.113.0/24",
	 NET "add blk 203.0.113.0/24\nflush blk\n", "blk", "src", false, false, 0, FW_NONE},
	{"range_covering_the_network_matches_all", AF_INET, "203.0.113.0/24",
	 NET "add blk 203.0.112.0-203.0.114.255\n", "blk", "src", false, false, 0, FW_ALL},
	{"every_source_protected_and_one_address_is_some", AF_INET, "",
	 "create h hash:ip\nadd h 198.51.100.7 timeout 0\n", "h", "src", false, false, 0, FW_SOME},
	{"hash_ip_netmask_widens_the_element", AF_INET, "203.0.113.0/24",
	 "create h hash:ip netmask 16\nadd h 203.0.7.7\n", "h", "src", false, false, 0, FW_ALL},
	{"destination_flag_inbound_is_sshds_address", AF_INET, "203.0.113.0/24",
	 NET "add blk 203.0.113.0/24\n", "blk", "dst", false, false, 0, FW_SOME},
	{"reply_direction_takes_dst_as_the_peer", AF_INET, "203.0.113.0/24",
	 NET "add blk 203.0.113.0/24\n", "blk", "dst", false, true, 0, FW_ALL},
	{"empty_set_matches_none", AF_INET, "203.0.113.0/24", NET, "blk", "src", false, false, 0,
	 FW_NONE},
	{"ip_port_with_sshds_port_matches_all", AF_INET, "203.0.113.0/24",
	 "create p hash:ip,port\nadd p 203.0.113.0/24,tcp:22\n", "p", "src,dst", false, false, 0,
	 FW_ALL},
	{"ip_port_with_another_port_matches_none", AF_INET, "203.0.113.0/24",
	 "create p hash:ip,port\nadd p 203.0.113.0/24,tcp:80\n", "p", "src,dst", false, false, 0,
	 FW_NONE},
	{"ip_port_udp_never_matches_tcp", AF_INET, "203.0.113.0/24",
	 "create p hash:ip,port\nadd p 203.0.113.0/24,udp:22\n", "p", "src,dst", false, false, 0,
	 FW_NONE},
	{"ip_port_matched_with_one_flag_never_matches", AF_INET, "203.0.113.0/24",
	 "create p hash:ip,port\nadd p 203.0.113.0/24,ssh\n", "p", "src", false, false, 0, FW_NONE},
	{"net_port_ephemeral_range_is_some", AF_INET, "203.0.113.0/24",
	 "create p hash:net,port\nadd p 203.0.113.0/24,tcp:2000-3000\n", "p", "src,src", false,
	 false, 0, FW_SOME},
	{"bitmap_ip_range", AF_INET, "203.0.113.0/24",
	 "create b bitmap:ip range 203.0.113.0/24\nadd b 203.0.113.0-203.0.113.255\n", "b", "src",
	 false, false, 0, FW_ALL},
	{"list_set_takes_its_members", AF_INET, "203.0.113.0/24",
	 NET "add blk 203.0.113.0/24\ncreate l list:set\nadd l blk\n", "l", "src", false, false, 0,
	 FW_ALL},
	{"list_set_member_of_the_other_family_never_matches", AF_INET, "203.0.113.0/24",
	 "create six hash:net family inet6\nadd six 2001:db8::/32\ncreate l list:set\nadd l six\n",
	 "l", "src", false, false, 0, FW_NONE},
	{"ipv6_hash_net", AF_INET6, "2001:db8:2::/64",
	 "create six hash:net family inet6\nadd six 2001:db8::/32\n", "six", "src", false, false, 0,
	 FW_ALL},
	{"missing_set_is_refused", AF_INET, "203.0.113.0/24", NET, "nosuch", "src", false, false,
	 -ENOENT, FW_SOME},
	{"set_of_the_other_family_is_refused", AF_INET, "203.0.113.0/24",
	 "create six hash:net family inet6\n", "six", "src", false, false, -EPROTONOSUPPORT,
	 FW_SOME},
	{"type_outside_the_model", AF_INET, "203.0.113.0/24",
	 "create m hash:mac\nadd m 00:11:22:33:44:55\n", "m", "src", false, false, -EOPNOTSUPP,
	 FW_SOME},
};

static void scope_of(int family, const char *protect, struct cidr_list *pl, struct fw_scope *s)
{
	static const unsigned port = 22;
	size_t bad;
	*pl = (struct cidr_list){0};
	assert_int_equal(cidr_list_parse(protect, pl, &bad), 0);
	*s = (struct fw_scope){
		.family = family, .peers = pl->v, .n_peers = pl->n, .ports = &port, .n_ports = 1};
}

static void test_class_case(void **state)
{
	const struct ccase *c = *state;
	struct ipset_file f;
	unsigned el;
	char *err = NULL;
	if (ipset_parse(c->in, strlen(c->in), &f, &el, &err) < 0)
		fail_msg("%s: parse: line %u: %s", c->name, el, err);
	struct cidr_list pl;
	struct fw_scope s;
	scope_of(c->family, c->protect, &pl, &s);
	struct ipset_match m = {.name = c->set,
				.flags = c->flags,
				.return_nomatch = c->return_nomatch,
				.out = c->out};
	enum fw_class cls;
	int rc = ipset_match_class(&f, &m, &s, &cls);
	if (rc != c->rc)
		fail_msg("%s: rc %d, want %d", c->name, rc, c->rc);
	if (!rc && cls != c->cls)
		fail_msg("%s: class %d, want %d", c->name, cls, c->cls);
	cidr_list_free(&pl);
	ipset_free(&f);
}

static const struct {
	const char *in;
	unsigned line;
} bad_files[] = {
	{"create a hash:net\nadd a 0.0.0.0/0\n", 2},	   /* hash:net stores no /0 */
	{"add a 10.0.0.0/8\n", 1},			   /* no such set */
	{"create a hash:ip\nadd a 10.0.0.1 nomatch\n", 2}, /* hash:ip has no nomatch */
	{"create a hash:ip,port\nadd a 10.0.0.1\n", 2},	   /* the second dimension is missing */
	{"create a hash:net\nrename a b\n", 2},		   /* outside the model */
	{"create a hash:net\nfoo a\n", 2},
	{"create a hash:net comment\nadd a 10.0.0.0/8 comment \"open\n", 2},
	{"create a hash:net family inet7\n", 1},
	{"create l list:set\nadd l nosuch\n", 2},
	{"create a hash:net family inet6\nadd a 2001:db8::1-2001:db8::9\n", 2}, /* no v6 ranges */
};

static void test_malformed_files_name_the_line(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(bad_files) / sizeof(bad_files[0]); i++) {
		struct ipset_file f;
		unsigned el = 0;
		char *err = NULL;
		int rc = ipset_parse(bad_files[i].in, strlen(bad_files[i].in), &f, &el, &err);
		if (rc == 0 || el != bad_files[i].line)
			fail_msg("file %zu: rc %d line %u, want line %u", i, rc, el,
				 bad_files[i].line);
		free(err);
	}
}

static void test_save_output_parses(void **state)
{
	(void)state;
	/* what ipset 7.17's `ipset save` writes, comments and counters included */
	const char *in = "create blk hash:net family inet hashsize 1024 maxelem 65536 counters "
			 "comment bucketsize 12 initval 0x61bf681d\n"
			 "add blk 10.0.0.0/8 packets 0 bytes 0 comment \"a b\"\n"
			 "create t hash:ip family inet hashsize 1024 maxelem 65536 timeout 600 "
			 "bucketsize 12 initval 0x0\n"
			 "add t 192.0.2.7 timeout 512\n";
	struct ipset_file f;
	unsigned el;
	char *err = NULL;
	assert_int_equal(ipset_parse(in, strlen(in), &f, &el, &err), 0);
	assert_int_equal(f.n, 2);
	assert_int_equal(f.sets[0].n, 1);
	assert_int_equal(f.sets[0].v[0].net.prefix, 8);
	assert_int_equal(f.sets[1].v[0].line, 4);
	ipset_free(&f);
}

struct ecase {
	const char *name;
	const char *protect;
	const char *in, *set;
	bool can;
	const char *want; /* the file after the edits */
};

static const struct ecase ecases[] = {
	{"element_inside_the_protected_network_is_removed", "203.0.113.0/24",
	 NET "add blk 203.0.113.5\nadd blk 198.51.100.0/24\n", "blk", true,
	 NET M "add blk 203.0.113.5\nadd blk 198.51.100.0/24\n"},
	{"wider_element_gets_a_nomatch_for_the_protected_network", "203.0.113.0/24",
	 NET "add blk 203.0.0.0/8\ncreate x hash:ip\n", "blk", true,
	 NET "add blk 203.0.0.0/8\n" M "added the next element: the protected network stays out "
	     "of set blk\nadd blk 203.0.113.0/24 nomatch\ncreate x hash:ip\n"},
	{"hash_ip_with_the_protected_addresses_loses_them", "203.0.113.0/24",
	 "create h hash:ip\nadd h 203.0.113.7\nadd h 198.51.100.1\nadd h 203.0.113.8", "h", true,
	 "create h hash:ip\n" M "add h 203.0.113.7\nadd h 198.51.100.1\n" M "add h 203.0.113.8"},
	{"hash_ip_netmask_wider_than_the_network_cannot_be_cleared", "203.0.113.0/24",
	 "create h hash:ip netmask 16\nadd h 203.0.7.7\n", "h", false, NULL},
	{"port_sets_are_left_to_an_accept_rule", "203.0.113.0/24",
	 "create p hash:ip,port\nadd p 203.0.113.1,tcp:22\n", "p", false, NULL},
	{"range_reaching_outside_is_kept_and_nomatched", "203.0.113.0/25",
	 NET "add blk 203.0.113.0-203.0.114.255\n", "blk", true,
	 NET "add blk 203.0.113.0-203.0.114.255\n" M "added the next element: the protected "
	     "network stays out of set blk\nadd blk 203.0.113.0/25 nomatch\n"},
	{"range_element_equal_to_the_network_is_left_to_an_accept_rule", "203.0.113.0/24",
	 NET "add blk 203.0.113.0-203.0.114.255\n", "blk", false, NULL},
};

static void sink_add(void *arg, size_t off, size_t len, const char *text, size_t n)
{
	edits_add(arg, off, len, text, n);
}

static void test_edit_case(void **state)
{
	const struct ecase *c = *state;
	struct ipset_file f;
	unsigned el;
	char *err = NULL;
	size_t len = strlen(c->in);
	if (ipset_parse(c->in, len, &f, &el, &err) < 0)
		fail_msg("%s: parse: line %u: %s", c->name, el, err);
	struct cidr_list pl;
	struct fw_scope s;
	scope_of(AF_INET, c->protect, &pl, &s);
	bool can = ipset_can_clear(&f, c->set, &s);
	if (can != c->can)
		fail_msg("%s: can_clear %d, want %d", c->name, can, c->can);
	if (can) {
		struct edits e = {0};
		char *desc = NULL;
		ipset_clear_edits(c->in, len, &f, c->set, &s, M,
				  &(struct fw_edit_sink){sink_add, &e}, &desc);
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
		if (strcmp(out.data, c->want))
			fail_msg("%s:\n--- got\n%s--- want\n%s", c->name, out.data, c->want);
		/* the result holds none of the protected networks */
		struct ipset_file f2;
		assert_int_equal(ipset_parse(out.data, out.len, &f2, &el, &err), 0);
		enum fw_class cls;
		struct ipset_match m = {.name = c->set, .flags = "src"};
		assert_int_equal(ipset_match_class(&f2, &m, &s, &cls), 0);
		assert_int_equal(cls, FW_NONE);
		ipset_free(&f2);
		buf_free(&out);
		edits_free(&e);
		free(desc);
	}
	cidr_list_free(&pl);
	ipset_free(&f);
}

int main(void)
{
	const size_t nc = sizeof(ccases) / sizeof(ccases[0]),
		     ne = sizeof(ecases) / sizeof(ecases[0]);
	struct CMUnitTest tests[sizeof(ccases) / sizeof(ccases[0]) +
				sizeof(ecases) / sizeof(ecases[0]) + 2] = {
		cmocka_unit_test(test_malformed_files_name_the_line),
		cmocka_unit_test(test_save_output_parses),
	};
	size_t n = 2;
	for (size_t i = 0; i < nc; i++)
		tests[n++] = (struct CMUnitTest){.name = ccases[i].name,
						 .test_func = test_class_case,
						 .initial_state = (void *)&ccases[i]};
	for (size_t i = 0; i < ne; i++)
		tests[n++] = (struct CMUnitTest){.name = ecases[i].name,
						 .test_func = test_edit_case,
						 .initial_state = (void *)&ecases[i]};
	return _cmocka_run_group_tests("ipset", tests, n, NULL, NULL);
}
