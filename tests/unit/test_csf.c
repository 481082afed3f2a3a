/* test_csf.c: CSF's list, tempban and csf.conf formats as csf.pl reads them (tables). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "parse/csf.h"

struct seen {
	unsigned line[16];
	char addr[16][CIDR_STRLEN];
	bool advanced[16], include[16];
	size_t n;
};

static void collect(void *arg, const struct csf_entry *e)
{
	struct seen *s = arg;
	if (s->n >= 16)
		return;
	s->line[s->n] = e->line;
	s->advanced[s->n] = e->advanced;
	s->include[s->n] = e->include;
	if (e->has_addr)
		cidr_format(&e->addr, s->addr[s->n]);
	else
		strcpy(s->addr[s->n], e->include ? e->path : "-");
	s->n++;
}

static void test_deny_lines(void **state)
{
	(void)state;
	static const char deny[] = "# comment\n"
				   "\n"
				   "203.0.113.5 # lfd: (sshd) Failed SSH login from 203.0.113.5\n"
				   "  198.51.100.0/24\r\n"
				   "tcp|in|d=22|s=203.0.113.7 # advanced\n"
				   "Include /etc/csf/more.deny\n"
				   "example.com\n"
				   "2001:db8::1\n"
				   "1.2.3.4 # Include me\n";
	struct seen s = { 0 };
	csf_list_parse(deny, strlen(deny), collect, &s);
	assert_int_equal(s.n, 6);
	assert_int_equal(s.line[0], 3);
	assert_string_equal(s.addr[0], "203.0.113.5");
	assert_int_equal(s.line[1], 4);
	assert_string_equal(s.addr[1], "198.51.100.0/24");
	assert_true(s.advanced[2]);
	assert_string_equal(s.addr[2], "203.0.113.7");
	assert_true(s.include[3]);
	assert_string_equal(s.addr[3], "/etc/csf/more.deny");
	assert_string_equal(s.addr[4], "-"); /* a name: csf ignores it */
	assert_string_equal(s.addr[5], "2001:db8::1");
}

static void test_tempban_lines(void **state)
{
	(void)state;
	static const char tb[] = "1796550221|203.0.113.5|22|in|3600|lfd - *Blocked* sshd\n"
				 "1796550222|198.51.100.9||inout|600|manual\n"
				 "garbage\n"
				 "1796550223|not-an-ip|22|in|60|x";
	struct seen s = { 0 };
	csf_tempban_parse(tb, strlen(tb), collect, &s);
	assert_int_equal(s.n, 2);
	assert_string_equal(s.addr[0], "203.0.113.5");
	assert_string_equal(s.addr[1], "198.51.100.9");
	assert_int_equal(s.line[1], 2);
}

static void test_conf_value_and_ports(void **state)
{
	(void)state;
	static const char conf[] = "# TCP_IN = \"1\"\n"
				   "TESTING = \"0\"\n"
				   "TCP_IN = \"20,21,80\"\n"
				   " TCP_IN = \"99\"\n" /* starts with white space: skipped */
				   "TCP6_IN=\"22,30000:35000\"\n";
	size_t off, len;
	assert_true(csf_conf_value(conf, strlen(conf), "TCP_IN", &off, &len));
	assert_int_equal(len, 8);
	assert_memory_equal(conf + off, "20,21,80", 8);
	assert_false(csf_ports_have(conf + off, len, 22));
	assert_true(csf_ports_have(conf + off, len, 80));
	assert_true(csf_conf_value(conf, strlen(conf), "TCP6_IN", &off, &len));
	assert_true(csf_ports_have(conf + off, len, 22));
	assert_true(csf_ports_have(conf + off, len, 31000));
	assert_false(csf_ports_have(conf + off, len, 2222));
	assert_false(csf_conf_value(conf, strlen(conf), "UDP_IN", &off, &len));
}

static void test_allow_coverage(void **state)
{
	(void)state;
	static const char allow[] = "203.0.113.0/24 # office\ntcp|in|d=22|s=198.51.100.1\n";
	struct cidr c;
	assert_int_equal(cidr_parse("203.0.113.9", &c), 0);
	assert_true(csf_list_covers(allow, strlen(allow), &c));
	assert_int_equal(cidr_parse("198.51.100.1", &c), 0);
	assert_false(csf_list_covers(allow, strlen(allow), &c)); /* port 22 only */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_deny_lines),
		cmocka_unit_test(test_tempban_lines),
		cmocka_unit_test(test_conf_value_and_ports),
		cmocka_unit_test(test_allow_coverage),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
