/* test_fail2ban_conf.c: fail2ban's INI flavour and the merge of its files. Expected values
 * were checked against fail2ban 1.0.2's own SafeConfigParserWithIncludes. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "parse/fail2ban_conf.h"

struct parse_case {
	const char *name;
	const char *text;
	const char *section, *key;
	const char *want;    /* expected raw value; NULL: the key is absent */
	unsigned want_error; /* line of the expected parse error, 0: none */
};

static const struct parse_case parse_cases[] = {
	{"plain key", "[sshd]\nenabled = true\n", "sshd", "enabled", "true", 0},
	{"colon delimiter", "[sshd]\nport: ssh\n", "sshd", "port", "ssh", 0},
	{"keys are case-insensitive", "[sshd]\nIgnoreIP = 10.0.0.1\n", "sshd", "ignoreip",
	 "10.0.0.1", 0},
	{"first delimiter splits", "[a]\nx = a: b\n", "a", "x", "a: b", 0},
	{"inline comment after space", "[a]\nx = 1 ; comment\n", "a", "x", "1", 0},
	{"semicolon without space is text", "[a]\nx = 1;c\n", "a", "x", "1;c", 0},
	{"hash is not an inline comment", "[a]\nx = 1 # no\n", "a", "x", "1 # no", 0},
	{"continuation lines join with newline", "[a]\nx = 1\n  2\n\t3\n", "a", "x", "1\n2\n3", 0},
	{"blank line inside a value is kept", "[a]\nx = 1\n  2\n\n  3\n\n", "a", "x", "1\n2\n\n3",
	 0},
	{"comment line inside a value is dropped", "[a]\nx = 1\n  # c\n  2\n", "a", "x", "1\n2", 0},
	{"indented header is a continuation", "[a]\nx = 1\n  [b]\n", "a", "x", "1\n[b]", 0},
	{"text after the header's bracket", "[a] junk\nx = 2\n", "a", "x", "2", 0},
	{"empty value", "[a]\nx =\n", "a", "x", "", 0},
	{"crlf line ends", "[a]\r\nx = 1\r\n  2\r\n", "a", "x", "1\n2", 0},
	{"lone cr ends a line", "[a]\rx = 1\r", "a", "x", "1", 0},
	{"default parts are joined", "[DEFAULT]\nx = 1\n[a]\ny = 2\n[DEFAULT]\nz = 3\n", "DEFAULT",
	 "z", "3", 0},
	{"absent key", "[a]\nx = 1\n", "a", "y", NULL, 0},
	{"key before any section", "x = 1\n", NULL, NULL, NULL, 1},
	{"line without delimiter", "[a]\nx = 1\nnonsense\n", NULL, NULL, NULL, 3},
	{"lone cr makes an unindented line", "[a]\nx = 1\r\n  2\r3\n", NULL, NULL, NULL, 4},
	{"duplicate key", "[a]\nx = 1\nX = 2\n", NULL, NULL, NULL, 3},
	{"duplicate section", "[a]\nx = 1\n[a]\ny = 2\n", NULL, NULL, NULL, 3},
	{"duplicate key in default", "[DEFAULT]\nx = 1\n[DEFAULT]\nx = 2\n", NULL, NULL, NULL, 4},
	{"empty key", "[a]\n = 1\n", NULL, NULL, NULL, 2},
};

static void test_parse_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(parse_cases) / sizeof(parse_cases[0]); i++) {
		const struct parse_case *t = &parse_cases[i];
		struct f2b_file f;
		unsigned line = 0;
		char *err = NULL;
		int rc = f2b_file_parse(t->text, strlen(t->text), &f, &line, &err);
		if (t->want_error) {
			if (rc != -EINVAL || line != t->want_error)
				fail_msg("%s: rc %d line %u, want error on line %u", t->name, rc,
					 line, t->want_error);
			assert_non_null(err);
		} else {
			if (rc != 0)
				fail_msg("%s: rc %d line %u: %s", t->name, rc, line, err);
			const struct f2b_entry *e = f2b_file_get(&f, t->section, t->key);
			if (!t->want && e)
				fail_msg("%s: unexpected value '%s'", t->name, e->value);
			if (t->want && (!e || strcmp(e->value, t->want) != 0))
				fail_msg("%s: got '%s', want '%s'", t->name,
					 e ? e->value : "(absent)", t->want);
		}
		free(err);
		f2b_file_free(&f);
	}
}

static void test_key_line_is_recorded(void **state)
{
	(void)state;
	const char *text = "# c\n[sshd]\n\nignoreip = 1\n  2\nport = ssh\n";
	struct f2b_file f;
	assert_int_equal(f2b_file_parse(text, strlen(text), &f, NULL, NULL), 0);
	assert_int_equal(f2b_file_get(&f, "sshd", "ignoreip")->line, 4);
	assert_int_equal(f2b_file_get(&f, "sshd", "port")->line, 6);
	assert_int_equal(f.v[0].line, 2);
	f2b_file_free(&f);
}

static void test_includes_are_listed_in_order(void **state)
{
	(void)state;
	const char *text = "[INCLUDES]\nbefore = paths-common.conf\n  paths-debian.conf\n"
			   "after = x.conf\n[DEFAULT]\n";
	struct f2b_file f;
	assert_int_equal(f2b_file_parse(text, strlen(text), &f, NULL, NULL), 0);
	struct strv before = {0}, after = {0};
	f2b_file_includes(&f, "before", &before);
	f2b_file_includes(&f, "after", &after);
	assert_int_equal(before.n, 2);
	assert_string_equal(before.v[0], "paths-common.conf");
	assert_string_equal(before.v[1], "paths-debian.conf");
	assert_int_equal(after.n, 1);
	assert_string_equal(after.v[0], "x.conf");
	strv_free(&before);
	strv_free(&after);
	f2b_file_free(&f);
}

/* Merge cases: up to four files in fail2ban's order, then one lookup. */
struct merge_case {
	const char *name;
	const char *files[4];
	const char *section, *key;
	const char *want; /* interpolated value; NULL with want_rc */
	int want_rc;
};

static const struct merge_case merge_cases[] = {
	{"later file replaces", {"[sshd]\nx = 1\n", "[sshd]\nx = 2\n"}, "sshd", "x", "2", 0},
	{"section beats default from a later file",
	 {"[sshd]\nx = own\n", "[DEFAULT]\nx = default\n"},
	 "sshd",
	 "x",
	 "own",
	 0},
	{"default fills in", {"[DEFAULT]\nx = d\n[sshd]\ny = 1\n"}, "sshd", "x", "d", 0},
	{"known reaches the previous value",
	 {"[sshd]\nignoreip = 10.0.0.1\n", "[sshd]\nignoreip = %(known/ignoreip)s 10.0.0.2\n"},
	 "sshd",
	 "ignoreip",
	 "10.0.0.1 10.0.0.2",
	 0},
	{"known falls back to default",
	 {"[DEFAULT]\nignoreip = 127.0.0.1/8\n", "[sshd]\nignoreip = %(known/ignoreip)s 1.2.3.4\n"},
	 "sshd",
	 "ignoreip",
	 "127.0.0.1/8 1.2.3.4",
	 0},
	/* fail2ban 1.0.2 itself stops here with InterpolationDepthError (its KNOWN/ keeps one
	 * level); the chain is resolved so that the literal value sshrescue writes is right */
	{"known chains through three files",
	 {"[sshd]\nignoreip = a\n", "[sshd]\nignoreip = %(known/ignoreip)s b\n",
	  "[sshd]\nignoreip = %(known/ignoreip)s c\n"},
	 "sshd",
	 "ignoreip",
	 "a b c",
	 0},
	{"plain reference in the same section",
	 {"[DEFAULT]\nmine = 1.1.1.1\nignoreip = %(mine)s\n", "[sshd]\nmine = 2.2.2.2\n"},
	 "sshd",
	 "ignoreip",
	 "2.2.2.2",
	 0},
	{"section reference", {"[a]\nx = from-a\n[b]\ny = %(a/x)s\n"}, "b", "y", "from-a", 0},
	{"default reference",
	 {"[DEFAULT]\nx = d\n[b]\nx = b\ny = %(default/x)s\n"},
	 "b",
	 "y",
	 "d",
	 0},
	{"section name",
	 {"[sshd]\nlog = /var/log/%(__name__)s.log\n"},
	 "sshd",
	 "log",
	 "/var/log/sshd.log",
	 0},
	{"percent escape", {"[a]\nx = 100%%\n"}, "a", "x", "100%", 0},
	{"names are case-insensitive", {"[a]\nfoo = 1\nx = %(FOO)s\n"}, "a", "x", "1", 0},
	{"missing reference", {"[a]\nx = %(nope)s\n"}, "a", "x", NULL, -ENOENT},
	{"bare percent", {"[a]\nx = 50%\n"}, "a", "x", NULL, -EINVAL},
	{"unterminated reference", {"[a]\nx = %(y\n"}, "a", "x", NULL, -EINVAL},
	{"self reference loops", {"[a]\nx = %(x)s\n"}, "a", "x", NULL, -ELOOP},
	{"absent key", {"[a]\nx = 1\n"}, "a", "y", NULL, -ENOENT},
};

static void test_merge_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(merge_cases) / sizeof(merge_cases[0]); i++) {
		const struct merge_case *t = &merge_cases[i];
		struct f2b_conf c = {0};
		for (size_t j = 0; j < 4 && t->files[j]; j++) {
			struct f2b_file f;
			if (f2b_file_parse(t->files[j], strlen(t->files[j]), &f, NULL, NULL) != 0)
				fail_msg("%s: file %zu does not parse", t->name, j);
			f2b_conf_merge(&c, &f, "file");
			f2b_file_free(&f);
		}
		char *v = NULL;
		int rc = f2b_conf_get(&c, t->section, t->key, &v);
		if (rc != t->want_rc)
			fail_msg("%s: rc %d, want %d", t->name, rc, t->want_rc);
		if (t->want && strcmp(v, t->want) != 0)
			fail_msg("%s: got '%s', want '%s'", t->name, v, t->want);
		free(v);
		f2b_conf_free(&c);
	}
}

static void test_lookup_tells_origin_and_ownership(void **state)
{
	(void)state;
	const char *a = "[DEFAULT]\nignoreip = 127.0.0.1/8\n[sshd]\nenabled = true\n";
	const char *b = "[nginx]\n\nignoreip = 10.0.0.0/8\n";
	struct f2b_conf c = {0};
	struct f2b_file f;
	assert_int_equal(f2b_file_parse(a, strlen(a), &f, NULL, NULL), 0);
	f2b_conf_merge(&c, &f, "jail.conf");
	f2b_file_free(&f);
	assert_int_equal(f2b_file_parse(b, strlen(b), &f, NULL, NULL), 0);
	f2b_conf_merge(&c, &f, "jail.local");
	f2b_file_free(&f);
	bool own;
	const struct f2b_value *v = f2b_conf_lookup(&c, "sshd", "ignoreip", &own);
	assert_non_null(v);
	assert_false(own);
	assert_string_equal(c.origins.v[v->origin], "jail.conf");
	assert_int_equal(v->line, 2);
	v = f2b_conf_lookup(&c, "nginx", "ignoreip", &own);
	assert_true(own);
	assert_string_equal(c.origins.v[v->origin], "jail.local");
	assert_int_equal(v->line, 3);
	assert_true(f2b_conf_has_section(&c, "sshd"));
	assert_true(f2b_conf_has_section(&c, "nginx"));
	assert_false(f2b_conf_has_section(&c, "DEFAULT"));
	assert_null(f2b_conf_lookup(&c, "sshd", "bantime", NULL));
	f2b_conf_free(&c);
}

static void test_interpolate_computed_value_sees_last_as_known(void **state)
{
	(void)state;
	const char *a = "[sshd]\nignoreip = 10.0.0.1\n";
	struct f2b_conf c = {0};
	struct f2b_file f;
	assert_int_equal(f2b_file_parse(a, strlen(a), &f, NULL, NULL), 0);
	f2b_conf_merge(&c, &f, "jail.local");
	f2b_file_free(&f);
	char *v = NULL;
	assert_int_equal(f2b_conf_interpolate(&c, "sshd", "ignoreip", "%(known/ignoreip)s x", &v),
			 0);
	assert_string_equal(v, "10.0.0.1 x");
	free(v);
	f2b_conf_free(&c);
}

struct words_case {
	const char *in;
	const char *want; /* words joined by '|' */
};

static const struct words_case words_cases[] = {
	{"127.0.0.1/8 ::1", "127.0.0.1/8|::1"},
	{"a,b , c\n  d\t,,e", "a|b|c|d|e"},
	{"", ""},
	{" , ", ""},
};

static void test_split_words_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(words_cases) / sizeof(words_cases[0]); i++) {
		struct strv w = {0};
		f2b_split_words(words_cases[i].in, &w);
		struct buf b = {0};
		for (size_t j = 0; j < w.n; j++)
			buf_printf(&b, "%s%s", j ? "|" : "", w.v[j]);
		if (strcmp(b.data ? b.data : "", words_cases[i].want) != 0)
			fail_msg("'%s': got '%s', want '%s'", words_cases[i].in,
				 b.data ? b.data : "", words_cases[i].want);
		buf_free(&b);
		strv_free(&w);
	}
}

/* Actions as fail2ban 1.0.2's splitWithOptions + extractOptions split them (each expected
 * value printed by fail2ban.helpers itself): each as
 * "name{key=value;...}" joined by " | "; "ERROR" where fail2ban refuses the value. */
static const struct {
	const char *in, *want;
} action_cases[] = {
	{"iptables-multiport[port=\"ssh\", protocol=\"tcp\", chain=\"<known/chain>\"]",
	 "iptables-multiport{port=ssh;protocol=tcp;chain=<known/chain>}"},
	{"iptables-allports[name=recidive]\n           sendmail-whois[name=x, dest=root]",
	 "iptables-allports{name=recidive} | sendmail-whois{name=x;dest=root}"},
	{"dummy", "dummy{}"},
	{"a b  c", "a{} | b{} | c{}"},
	{"nftables[type=allports]", "nftables{type=allports}"},
	{"nftables [port='1:65535', protocol=tcp]", "nftables{port=1:65535;protocol=tcp}"},
	{"act[port=\"ssh,2222\"]", "act{port=ssh,2222}"},
	{"act[a=1][b=2]", "act{a=1;b=2}"},
	{"act[ a=x y ,b=2]", "act{a=x y;b=2}"},
	{"act[ a = x y ,b=2]", "ERROR"},
	{"act[family?family=inet6=x]", "ERROR"},
	{"act[port=\"v\" ,b=1]", "ERROR"},
	{"act[port=\"a]b\"]", "act{port=a]b}"},
	{"act[port=\"ssh]", "act{port=\"ssh}"},
	{"act[port=ssh", "ERROR"},
	{"act[=x]", "ERROR"},
	{"[port=22]", "ERROR"},
	{"", ""},
};

static void test_actions_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(action_cases) / sizeof(action_cases[0]); i++) {
		struct f2b_action *a = NULL;
		size_t n = 0;
		int rc = f2b_actions_parse(action_cases[i].in, &a, &n);
		struct buf b = {0};
		if (rc < 0) {
			buf_puts(&b, "ERROR");
		} else {
			for (size_t j = 0; j < n; j++) {
				buf_printf(&b, "%s%s{", j ? " | " : "", a[j].name);
				for (size_t k = 0; k < a[j].keys.n; k++)
					buf_printf(&b, "%s%s=%s", k ? ";" : "", a[j].keys.v[k],
						   a[j].values.v[k]);
				buf_puts(&b, "}");
			}
		}
		if (strcmp(b.data ? b.data : "", action_cases[i].want) != 0)
			fail_msg("'%s': got '%s', want '%s'", action_cases[i].in, b.data ? b.data : "",
				 action_cases[i].want);
		buf_free(&b);
		f2b_actions_free(a, n);
		free(a);
	}
}

static int service(void *arg, const char *name, unsigned *port)
{
	(void)arg;
	if (strcmp(name, "ssh") == 0)
		*port = 22;
	else if (strcmp(name, "http") == 0)
		*port = 80;
	else if (strcmp(name, "https") == 0)
		*port = 443;
	else
		return -ENOENT;
	return 0;
}

static const struct {
	const char *spec;
	unsigned port;
	int want; /* 1 covers, 0 does not, -1 cannot tell */
} port_cases[] = {
	{"ssh", 22, 1},
	{"ssh", 2222, 0},
	{"0:65535", 22, 1},
	{"1:65535", 22, 1},
	{"1000-2000", 22, 0},
	{"ssh,2222", 2222, 1},
	{"ssh, 2222", 22, 1},
	{"http,https", 22, 0},
	{"http https", 443, 1},
	{"23:1024", 22, 0},
	{"22", 22, 1},
	{"nosuchservice", 22, -1},
	{"<known/port>", 22, -1},
	{"", 22, -1},
	{"70000", 22, -1},
};

static void test_ports_cover_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(port_cases) / sizeof(port_cases[0]); i++) {
		bool covers;
		int rc = f2b_ports_cover(port_cases[i].spec, port_cases[i].port, service, NULL,
					 &covers);
		int got = rc < 0 ? -1 : covers;
		if (got != port_cases[i].want)
			fail_msg("'%s' port %u: got %d, want %d", port_cases[i].spec,
				 port_cases[i].port, got, port_cases[i].want);
	}
}

static void test_garbage_never_crashes(void **state)
{
	(void)state;
	static const struct {
		const char *text;
		size_t len;
	} inputs[] = {
#define IN(s) {s, sizeof(s) - 1}
		IN(""),
		IN("["),
		IN("]"),
		IN("[]"),
		IN("[a"),
		IN("[a]\n="),
		IN("[a]\nx=%("),
		IN("\0\0\0"),
		IN("[a]\n x\n"),
		IN("[a]\nx=1\n\n\n\n  \n"),
		IN("[a]\nx=1\n\0 y\n"),
#undef IN
	};
	for (size_t i = 0; i < sizeof(inputs) / sizeof(inputs[0]); i++) {
		struct f2b_file f;
		char *err = NULL;
		(void)f2b_file_parse(inputs[i].text, inputs[i].len, &f, NULL, &err);
		struct f2b_conf c = {0};
		f2b_conf_merge(&c, &f, "x");
		char *v = NULL;
		if (f2b_conf_get(&c, "a", "x", &v) == 0)
			free(v);
		f2b_conf_free(&c);
		f2b_file_free(&f);
		free(err);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_table),
		cmocka_unit_test(test_key_line_is_recorded),
		cmocka_unit_test(test_includes_are_listed_in_order),
		cmocka_unit_test(test_merge_table),
		cmocka_unit_test(test_lookup_tells_origin_and_ownership),
		cmocka_unit_test(test_interpolate_computed_value_sees_last_as_known),
		cmocka_unit_test(test_split_words_table),
		cmocka_unit_test(test_actions_table),
		cmocka_unit_test(test_ports_cover_table),
		cmocka_unit_test(test_garbage_never_crashes),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
