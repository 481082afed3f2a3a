/* test_policy.c: a policy's status from its findings' severity (lockout or risk), whether
 * they were fixed, and [agent] strict; the edits and findings of a list file's protected
 * entries (policy_list_entry, policy_list_write in check); the finding for a file that cannot
 * be read. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "policy.h"
#include "root.h"

struct f {
	enum finding_severity sev;
	bool fixed;
};

static const struct {
	const char *name;
	struct f findings[3];
	size_t n;
	bool strict;
	enum policy_status want;
} cases[] = {
	{"no finding", {{0}}, 0, false, POLICY_OK},
	{"an open risk is ok", {{SEVERITY_RISK, false}}, 1, false, POLICY_OK},
	{"an open risk with strict is unrepaired",
	 {{SEVERITY_RISK, false}},
	 1,
	 true,
	 POLICY_UNREPAIRED},
	{"an open lockout is unrepaired", {{SEVERITY_LOCKOUT, false}}, 1, false, POLICY_UNREPAIRED},
	{"a fixed lockout, an open risk: repaired",
	 {{SEVERITY_LOCKOUT, true}, {SEVERITY_RISK, false}},
	 2,
	 false,
	 POLICY_REPAIRED},
	{"the same with strict: unrepaired",
	 {{SEVERITY_LOCKOUT, true}, {SEVERITY_RISK, false}},
	 2,
	 true,
	 POLICY_UNREPAIRED},
	{"a fixed risk is repaired", {{SEVERITY_RISK, true}}, 1, false, POLICY_REPAIRED},
	{"a fixed risk, an open lockout: unrepaired",
	 {{SEVERITY_RISK, true}, {SEVERITY_LOCKOUT, false}},
	 2,
	 false,
	 POLICY_UNREPAIRED},
};

static void test_status_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct policy_result res = {0};
		for (size_t j = 0; j < cases[i].n; j++) {
			struct finding *f =
				cases[i].findings[j].sev == SEVERITY_RISK
					? policy_add_risk(&res, NULL, 0, NULL, "r%zu", j)
					: policy_add_finding(&res, NULL, 0, NULL, "l%zu", j);
			f->fixed = cases[i].findings[j].fixed;
		}
		policy_result_finish(&res, 0, cases[i].strict);
		if (res.status != cases[i].want)
			fail_msg("%s: got %s, want %s", cases[i].name,
				 policy_status_name(res.status), policy_status_name(cases[i].want));
		policy_result_free(&res);
	}
}

static void test_severity_names(void **state)
{
	(void)state;
	struct policy_result res = {0};
	assert_string_equal(
		finding_severity_name(policy_add_finding(&res, NULL, 0, NULL, "x")->severity),
		"lockout");
	assert_string_equal(
		finding_severity_name(policy_add_risk(&res, NULL, 0, NULL, "y")->severity), "risk");
	policy_result_free(&res);
}

static int collect(void *arg, const void *p, size_t n)
{
	buf_append(arg, p, n);
	return 0;
}

/* The file as the list's edits leave it. */
static char *applied(const char *data, const struct policy_list *l)
{
	struct buf b = {0};
	assert_int_equal(edits_apply(data, strlen(data), &l->e, collect, &b), 0);
	buf_append(&b, "", 1);
	return b.data;
}

static const struct {
	const char *name, *data;
	bool drop;
	size_t off, len;
	const char *want;
} list_cases[] = {
	{"commented out", "a\n1.2.3.4 x\nb\n", false, 2, 9, "a\n# m: 1.2.3.4 x\nb\n"},
	{"deleted with its newline", "a\n1.2.3.4\nb\n", true, 2, 7, "a\nb\n"},
	{"deleted with its CRLF", "a\r\n1.2.3.4\r\nb\r\n", true, 3, 7, "a\r\nb\r\n"},
	{"the last line without a newline", "a\n1.2.3.4", true, 2, 7, "a\n"},
};

static void test_list_entry(void **state)
{
	(void)state;
	for (int repair = 0; repair < 2; repair++) {
		for (size_t i = 0; i < sizeof(list_cases) / sizeof(list_cases[0]); i++) {
			struct policy_ctx ctx = {.repair = repair};
			struct policy_result res = {0};
			struct policy_list l = {.ctx = &ctx,
						.res = &res,
						.marker = "# m: ",
						.drop_lines = list_cases[i].drop,
						.path = "/etc/list",
						.data = list_cases[i].data};
			struct finding *f = policy_list_entry(&l, list_cases[i].off, list_cases[i].len,
							      2, "%s is %s", "x", "listed");
			assert_non_null(f);
			assert_string_equal(f->problem, "x is listed");
			assert_string_equal(f->file, "/etc/list");
			assert_int_equal(f->line, 2);
			assert_memory_equal(f->text, list_cases[i].data + list_cases[i].off,
					    list_cases[i].len);
			assert_int_equal(strlen(f->text), list_cases[i].len);
			assert_int_equal(f->fixed, repair);
			assert_int_equal(l.removed, 1);
			char *got = applied(list_cases[i].data, &l);
			if (strcmp(got, list_cases[i].want))
				fail_msg("%s: got \"%s\", want \"%s\"", list_cases[i].name, got,
					 list_cases[i].want);
			free(got);
			edits_free(&l.e);
			policy_result_free(&res);
		}
	}
}

/* Past POLICY_LIST_DETAILED entries, one finding counts the rest; every line is still edited;
 * check (repair off) writes nothing and leaves no edits. */
static void test_list_summary(void **state)
{
	(void)state;
	struct buf data = {0};
	size_t n = POLICY_LIST_DETAILED + 3;
	for (size_t i = 0; i < n; i++)
		buf_printf(&data, "10.0.0.%zu\n", i);
	struct policy_ctx ctx = {.repair = false};
	struct policy_result res = {0};
	struct policy_list l = {
		.ctx = &ctx, .res = &res, .marker = "#", .path = "/l", .data = data.data};
	size_t off = 0;
	for (size_t i = 0; i < n; i++) {
		size_t len = strcspn(data.data + off, "\n");
		struct finding *f = policy_list_entry(&l, off, len, (unsigned)i + 1, "e%zu", i);
		if (i < POLICY_LIST_DETAILED)
			assert_non_null(f);
		else
			assert_null(f);
		off += len + 1;
	}
	assert_int_equal(res.n_findings, POLICY_LIST_DETAILED);
	char *got = applied(data.data, &l);
	size_t marked = 0;
	for (const char *p = got; (p = strstr(p, "#10.0.0.")); p++)
		marked++;
	assert_int_equal(marked, n);
	free(got);
	policy_list_write(&l, data.len, "entries", "removed", "would remove");
	assert_int_equal(res.n_findings, POLICY_LIST_DETAILED + 1);
	struct finding *last = &res.findings[res.n_findings - 1];
	assert_string_equal(last->problem, "3 more entries");
	assert_string_equal(last->action, "would remove");
	assert_string_equal(last->file, "/l");
	assert_false(last->fixed);
	assert_int_equal(l.e.n, 0);
	assert_int_equal(l.removed, n);
	policy_result_free(&res);
	buf_free(&data);
}

/* policy_unreadable(): the reason in words, and whether it is an operational error (exit bit
 * 8) or the file's own fault (a FIFO, a directory, a huge file, a link loop). */
static void test_unreadable_table(void **state)
{
	(void)state;
	static const struct {
		int rc;
		size_t max;
		const char *then, *want;
		bool error;
	} unreadable[] = {
		{-EINVAL, 1 << 20, NULL,
		 "cannot read: it is not a regular file (a FIFO, socket or device)", false},
		{-EISDIR, 1 << 20, NULL, "cannot read: it is a directory", false},
		{-EFBIG, 4 << 20, NULL, "cannot read: it is larger than 4 MiB", false},
		{-EFBIG, 256 << 10, NULL, "cannot read: it is larger than 256 KiB", false},
		{-ELOOP, 1 << 20, NULL, "cannot read: a loop of symbolic links", false},
		{-EIO, 1 << 20, NULL, "cannot read: Input/output error", true},
		{-ENOENT, 1 << 20, NULL, "cannot read: No such file or directory", false},
		{-EISDIR, 1 << 20, "its defaults are assumed",
		 "cannot read: it is a directory; its defaults are assumed", false},
	};
	for (size_t i = 0; i < sizeof(unreadable) / sizeof(unreadable[0]); i++) {
		struct policy_result res = {0};
		struct finding *f =
			policy_unreadable(&res, "/etc/x", unreadable[i].rc, unreadable[i].max,
					  "cannot read", unreadable[i].then);
		assert_string_equal(f->file, "/etc/x");
		assert_string_equal(f->problem, unreadable[i].want);
		assert_int_equal(f->error, unreadable[i].error);
		assert_int_equal(f->severity, SEVERITY_LOCKOUT);
		policy_result_free(&res);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_status_table),
		cmocka_unit_test(test_severity_names),
		cmocka_unit_test(test_list_entry),
		cmocka_unit_test(test_list_summary),
		cmocka_unit_test(test_unreadable_table),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
