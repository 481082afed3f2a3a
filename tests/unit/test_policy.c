/* test_policy.c: a policy's status from its findings' severity (lockout or risk), whether
 * they were fixed, and [agent] strict; the finding for a file that cannot be read. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "policy.h"

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
		cmocka_unit_test(test_unreadable_table),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
