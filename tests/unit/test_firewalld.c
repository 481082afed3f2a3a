/* test_firewalld.c: the zone XML reader and the zone analysis: each case is a zone file, the
 * protected networks, sshd's ports and the exact zone file that must come out. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "parse/firewalld.h"
#include "root.h"

#define XM "sshrescue R: "
#define HEAD "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<zone>\n  <short>Public</short>\n"

struct zcase {
	const char *name;
	const char *protect;
	unsigned ports[3];
	const char *in, *want;
};

static const struct zcase cases[] = {
	{"zone_with_ssh_service_is_fine",
	 "",
	 {22},
	 HEAD "  <service name=\"ssh\"/>\n  <service name=\"dhcpv6-client\"/>\n</zone>\n",
	 NULL},
	{"zone_without_ssh_gets_the_service_when_everyone_is_protected",
	 "",
	 {22},
	 HEAD "  <service name=\"http\"/>\n</zone>\n",
	 HEAD "  <service name=\"http\"/>\n  <!-- " XM "added: zone target default and no "
	      "service, port or rule accepts new connections to sshd from protected sources -->\n"
	      "  <service name=\"ssh\"/>\n</zone>\n"},
	{"zone_without_ssh_gets_rich_rules_for_protected_networks",
	 "203.0.113.0/24 2001:db8::/32",
	 {22},
	 HEAD "  <service name=\"http\"/>\n</zone>\n",
	 HEAD "  <service name=\"http\"/>\n  <!-- " XM "added: zone target default and no "
	      "service, port or rule accepts new connections to sshd from protected sources -->\n"
	      "  <rule family=\"ipv4\"><source address=\"203.0.113.0/24\"/><service "
	      "name=\"ssh\"/><accept/></rule>\n  <!-- " XM "added: zone target default and no "
	      "service, port or rule accepts new connections to sshd from protected sources -->\n"
	      "  <rule family=\"ipv6\"><source address=\"2001:db8::/32\"/><service "
	      "name=\"ssh\"/><accept/></rule>\n</zone>\n"},
	{"reject_rule_for_protected_host_is_commented",
	 "203.0.113.0/24",
	 {22},
	 HEAD "  <service name=\"ssh\"/>\n  <rule family=\"ipv4\">\n    <source "
	      "address=\"203.0.113.5\"/>\n    <service name=\"ssh\"/>\n    <reject/>\n  </rule>\n"
	      "  <rule family=\"ipv4\"><source address=\"198.51.100.7\"/><drop/></rule>\n</zone>\n",
	 HEAD
	 "  <service name=\"ssh\"/>\n  <!-- " XM "<rule family=\"ipv4\">\n    <source "
	 "address=\"203.0.113.5\"/>\n    <service name=\"ssh\"/>\n    <reject/>\n  </rule> -->\n"
	 "  <rule family=\"ipv4\"><source address=\"198.51.100.7\"/><drop/></rule>\n</zone>\n"},
	{"broad_drop_rule_gets_an_accept_with_higher_priority",
	 "203.0.113.0/24",
	 {22},
	 HEAD "  <service name=\"ssh\"/>\n  <rule family=\"ipv4\"><source "
	      "address=\"203.0.0.0/16\"/><drop/></rule>\n</zone>\n",
	 HEAD "  <service name=\"ssh\"/>\n  <rule family=\"ipv4\"><source "
	      "address=\"203.0.0.0/16\"/><drop/></rule>\n  <!-- " XM "added: line 5: a rich rule "
	      "rejects or drops all new connections to sshd from protected sources -->\n"
	      "  <rule family=\"ipv4\" priority=\"-1\"><source address=\"203.0.113.0/24\"/>"
	      "<service name=\"ssh\"/><accept/></rule>\n</zone>\n"},
	{"drop_target_with_port_2222",
	 "",
	 {2222},
	 "<zone target=\"DROP\"><service name=\"ssh\"/></zone>\n",
	 "<zone target=\"DROP\"><service name=\"ssh\"/>\n  <!-- " XM "added: zone target DROP and "
	 "no service, port or rule accepts new connections to sshd from protected sources -->\n"
	 "  <port protocol=\"tcp\" port=\"2222\"/>\n</zone>\n"},
	{"accept_target_needs_nothing", "", {22}, "<zone target=\"ACCEPT\"/>\n", NULL},
	{"self_closed_zone_gets_opened",
	 "",
	 {22},
	 "<zone target=\"DROP\"/>\n",
	 "<zone target=\"DROP\">\n  <!-- " XM "added: zone target DROP and no service, port or "
	 "rule accepts new connections to sshd from protected sources -->\n"
	 "  <service name=\"ssh\"/>\n</zone>\n"},
	{"port_range_covers_ssh",
	 "203.0.113.0/24",
	 {22},
	 HEAD "  <port protocol=\"tcp\" port=\"1-1024\"/>\n</zone>\n",
	 NULL},
};

static void sink_add(void *arg, size_t off, size_t len, const char *text, size_t n)
{
	edits_add(arg, off, len, text, n);
}

static void test_repair_case(void **state)
{
	const struct zcase *c = *state;
	size_t len = strlen(c->in), bad;
	struct xml_doc d;
	unsigned el;
	char *err = NULL;
	if (firewalld_xml_parse(c->in, len, &d, &el, &err) < 0)
		fail_msg("parse: line %u: %s", el, err);
	struct cidr_list pl = {0};
	assert_int_equal(cidr_list_parse(c->protect, &pl, &bad), 0);
	unsigned np = 0;
	while (np < 3 && c->ports[np])
		np++;
	struct cidr v4[4], v6[4];
	size_t n4 = 0, n6 = 0, n = 0;
	for (size_t i = 0; i < pl.n; i++) {
		if (pl.v[i].family == AF_INET)
			v4[n4++] = pl.v[i];
		else
			v6[n6++] = pl.v[i];
	}
	struct fw_scope sc[2];
	if (!pl.n || n4)
		sc[n++] = (struct fw_scope){.family = AF_INET,
					    .peers = v4,
					    .n_peers = n4,
					    .ports = c->ports,
					    .n_ports = np};
	if (!pl.n || n6)
		sc[n++] = (struct fw_scope){.family = AF_INET6,
					    .peers = v6,
					    .n_peers = n6,
					    .ports = c->ports,
					    .n_ports = np};
	struct fwd_fixes fx = {0};
	for (size_t i = 0; i < n; i++)
		firewalld_zone_analyze(c->in, len, &d, &sc[i], &fx);
	if (fx.unsupported)
		fail_msg("unsupported: %s", fx.note);
	struct edits e = {0};
	firewalld_edits(c->in, len, &d, &fx, sc, n, XM, &(struct fw_edit_sink){sink_add, &e});
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
	/* the result is well-formed and needs nothing more */
	struct xml_doc d2;
	assert_int_equal(firewalld_xml_parse(out.data, out.len, &d2, &el, &err), 0);
	struct fwd_fixes fx2 = {0};
	for (size_t i = 0; i < n; i++)
		firewalld_zone_analyze(out.data, out.len, &d2, &sc[i], &fx2);
	if (fx2.n)
		fail_msg("second run: %s", fx2.v[0].why);
	fwd_fixes_free(&fx2);
	firewalld_xml_free(&d2);
	buf_free(&out);
	edits_free(&e);
	fwd_fixes_free(&fx);
	firewalld_xml_free(&d);
	cidr_list_free(&pl);
}

static const struct {
	const char *in;
	unsigned line;
} bad_files[] = {
	{"<zone>\n<service name=\"ssh\">\n</zone>\n", 3},
	{"<zone>\n<!-- open\n", 2},
	{"<zone><service name=ssh/></zone>", 1},
	{"<zone/><zone/>", 1},
	{"<!DOCTYPE zone>\n<zone/>", 1},
	{"", 1},
	/* the line where the unclosed tag begins */
	{"<zone>\n\n<rule family=\"ipv4\"\n", 3},
	/* an entity nobody declared */
	{"<zone>\n<x a=\"&bogus;\"/></zone>", 2},
};

static void test_malformed_xml_names_the_line(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(bad_files) / sizeof(bad_files[0]); i++) {
		struct xml_doc d;
		unsigned el = 0;
		char *err = NULL;
		if (firewalld_xml_parse(bad_files[i].in, strlen(bad_files[i].in), &d, &el, &err) >=
		    0)
			fail_msg("case %zu parsed", i);
		assert_non_null(err);
		if (el != bad_files[i].line)
			fail_msg("case %zu: line %u, want %u (%s)", i, el, bad_files[i].line, err);
		free(err);
	}
}

static void test_reader_keeps_attributes_offsets_and_entities(void **state)
{
	(void)state;
	const char *in = "<?xml version=\"1.0\"?>\n<!-- c -->\n<zone target='%%REJECT%%'>\n"
			 "  <description>a &amp; b</description>\n"
			 "  <rule family=\"ipv4\"><source address=\"10.0.0.0/8\" invert=\"True\"/>"
			 "<drop/></rule>\n</zone>\n";
	struct xml_doc d;
	unsigned el;
	char *err = NULL;
	assert_int_equal(firewalld_xml_parse(in, strlen(in), &d, &el, &err), 0);
	assert_int_equal(d.n, 5);
	assert_string_equal(d.v[0].name, "zone");
	assert_string_equal(firewalld_xml_attr(&d.v[0], "target"), "%%REJECT%%");
	assert_int_equal(d.v[2].line, 5);
	assert_int_equal(d.v[2].start, strstr(in, "<rule") - in);
	assert_int_equal(d.v[2].end, strstr(in, "</rule>") - in + 7);
	assert_int_equal(d.v[3].parent, 2);
	assert_string_equal(firewalld_xml_attr(&d.v[3], "invert"), "True");
	firewalld_xml_free(&d);
	char *z = firewalld_default_zone("# x\nDefaultZone=internal\n", 24);
	assert_string_equal(z, "internal");
	free(z);
	z = firewalld_default_zone("Lockdown=no\n", 12);
	assert_string_equal(z, "public");
	free(z);
}

int main(void)
{
	const size_t n_cases = sizeof(cases) / sizeof(cases[0]);
	struct CMUnitTest tests[sizeof(cases) / sizeof(cases[0]) + 2] = {
		cmocka_unit_test(test_malformed_xml_names_the_line),
		cmocka_unit_test(test_reader_keeps_attributes_offsets_and_entities),
	};
	for (size_t i = 0; i < n_cases; i++)
		tests[2 + i] = (struct CMUnitTest){.name = cases[i].name,
						   .test_func = test_repair_case,
						   .initial_state = (void *)&cases[i]};
	return _cmocka_run_group_tests("firewalld", tests, n_cases + 2, NULL, NULL);
}
