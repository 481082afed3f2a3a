/* test_lvm.c: lvm2's version from `lvm version`, and the arguments that restrict lvm to the
 * instance's PVs: --devices from 2.03.12 on, a devices/filter in --config before. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "parse/lvm.h"

static const struct {
	const char *out;
	int rc;
	unsigned major, minor, patch;
	bool has_devices;
} version_cases[] = {
	/* Debian 11 */
	{"  LVM version:     2.03.11(2) (2021-01-08)\n  Library version: 1.02.175 (2021-01-08)\n"
	 "  Driver version:  4.47.0\n",
	 0, 2, 3, 11, false},
	/* Debian 12 */
	{"  LVM version:     2.03.16(2) (2022-05-18)\n  Library version: 1.02.185 (2022-05-18)\n",
	 0, 2, 3, 16, true},
	/* the first with --devices (RHEL 9.0) */
	{"  LVM version:     2.03.12(2)-RHEL9 (2021-05-19)\n", 0, 2, 3, 12, true},
	/* Ubuntu 20.04, RHEL 7 */
	{"  LVM version:     2.03.07(2) (2019-11-30)\n", 0, 2, 3, 7, false},
	{"  LVM version:     2.02.187(2)-RHEL7 (2020-03-24)\n", 0, 2, 2, 187, false},
	{"  LVM version:     2.04.0(2) (2030-01-01)\n", 0, 2, 4, 0, true},
	{"  LVM version:     3.0.0\n", 0, 3, 0, 0, true},
	{"", -EINVAL, 0, 0, 0, false},
	{"  LVM version:     \n", -EINVAL, 0, 0, 0, false},
	{"  LVM version:     2.03\n", -EINVAL, 0, 0, 0, false},
	{"  LVM version:     2.x.11\n", -EINVAL, 0, 0, 0, false},
	{"  LVM version:     99999999999.1.1\n", -EINVAL, 0, 0, 0, false},
	{"lvm: command not found\n", -EINVAL, 0, 0, 0, false},
};

static void test_version_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(version_cases) / sizeof(version_cases[0]); i++) {
		struct lvm_version v = {0};
		int rc = lvm_version_parse(version_cases[i].out, &v);
		if (rc != version_cases[i].rc)
			fail_msg("case %zu: rc %d, want %d", i, rc, version_cases[i].rc);
		if (rc < 0)
			continue;
		assert_int_equal(v.major, version_cases[i].major);
		assert_int_equal(v.minor, version_cases[i].minor);
		assert_int_equal(v.patch, version_cases[i].patch);
		if (lvm_version_has_devices(&v) != version_cases[i].has_devices)
			fail_msg("case %zu: has_devices wrong", i);
	}
	assert_int_equal(lvm_version_parse(NULL, &(struct lvm_version){0}), -EINVAL);
}

static const struct {
	bool has_devices;
	const char *devices, *extra;
	int rc;
	const char *opt, *arg;
} restrict_cases[] = {
	{true, "/dev/loop0", NULL, 0, "--devices", "/dev/loop0"},
	{true, "/dev/loop0p2,/dev/loop1", NULL, 0, "--devices", "/dev/loop0p2,/dev/loop1"},
	{false, "/dev/loop0", NULL, 0, "--config",
	 "devices { filter = [ \"a|^/dev/loop0$|\", \"r|.*|\" ] }"},
	{false, "/dev/loop0p2,/dev/nvme1n1p3", NULL, 0, "--config",
	 "devices { filter = [ \"a|^/dev/loop0p2$|\", \"a|^/dev/nvme1n1p3$|\", \"r|.*|\" ] }"},
	/* regex metacharacters of a device-mapper name stand for themselves */
	{false, "/dev/mapper/a.b+c", NULL, 0, "--config",
	 "devices { filter = [ \"a|^/dev/mapper/a[.]b[+]c$|\", \"r|.*|\" ] }"},
	/* one --config: the read-only activation goes into the same one */
	{false, "/dev/loop3", "activation { read_only_volume_list = [ \"vg0\" ] }", 0, "--config",
	 "devices { filter = [ \"a|^/dev/loop3$|\", \"r|.*|\" ] } activation { "
	 "read_only_volume_list = [ \"vg0\" ] }"},
	{false, "/dev/x\"y", NULL, -EINVAL, NULL, NULL},
	{false, "/dev/x|y", NULL, -EINVAL, NULL, NULL},
	{false, "/dev/x\\y", NULL, -EINVAL, NULL, NULL},
	{false, "/dev/x]y", NULL, -EINVAL, NULL, NULL},
	{false, "/dev/a,,/dev/b", NULL, -EINVAL, NULL, NULL},
	{false, "/dev/a,", NULL, -EINVAL, NULL, NULL},
	{false, "", NULL, -EINVAL, NULL, NULL},
	{true, "", NULL, -EINVAL, NULL, NULL},
};

static void test_restrict_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(restrict_cases) / sizeof(restrict_cases[0]); i++) {
		char buf[512];
		const char *opt = NULL, *arg = NULL;
		int rc = lvm_restrict_args(restrict_cases[i].has_devices, restrict_cases[i].devices,
					   restrict_cases[i].extra, buf, sizeof(buf), &opt, &arg);
		if (rc != restrict_cases[i].rc)
			fail_msg("case %zu: rc %d, want %d", i, rc, restrict_cases[i].rc);
		if (rc < 0)
			continue;
		assert_string_equal(opt, restrict_cases[i].opt);
		assert_string_equal(arg, restrict_cases[i].arg);
	}
}

static void test_restrict_too_small_is_enospc(void **state)
{
	(void)state;
	char buf[40];
	const char *opt, *arg;
	assert_int_equal(lvm_restrict_args(false, "/dev/loop0,/dev/loop1", NULL, buf, sizeof(buf),
					   &opt, &arg),
			 -ENOSPC);
	assert_int_equal(lvm_restrict_args(true, "/dev/loop0,/dev/loop1,/dev/loop2,/dev/loop3",
					   NULL, buf, sizeof(buf), &opt, &arg),
			 -ENOSPC);
}

static const struct {
	const char *json;
	const char *kind;
	int rc;
	const char *rows; /* the fields of every row joined by '|', rows by ';' */
} report_cases[] = {
	/* as lvm 2.03 prints pvs --reportformat json -o pv_name,vg_name,vg_uuid */
	{ "  {\n      \"report\": [\n          {\n              \"pv\": [\n"
	  "                  {\"pv_name\":\"/dev/loop3p2\", \"vg_name\":\"vg0\", "
	  "\"vg_uuid\":\"Ab1-x\"},\n"
	  "                  {\"pv_name\":\"/dev/loop4\", \"vg_name\":\"\", \"vg_uuid\":\"\"}\n"
	  "              ]\n          }\n      ]\n  }\n",
	  "pv", 0, "/dev/loop3p2|vg0|Ab1-x;/dev/loop4||" },
	/* no PVs at all */
	{ "{\"report\": [ {\"pv\": [ ] } ] }", "pv", 0, "" },
	/* a field missing, a number where a string belongs, escapes */
	{ "{\"report\": [ {\"pv\": [ {\"pv_name\":\"/dev/a\\\"b|c\", \"vg_name\":7} ] } ] }",
	  "pv", 0, "/dev/a\"b|c||" },
	/* another kind than asked, not a report, truncated, not JSON */
	{ "{\"report\": [ {\"vg\": [ ] } ] }", "pv", -EINVAL, "" },
	{ "{\"pv\": [ ] }", "pv", -EINVAL, "" },
	{ "{\"report\": [ {\"pv\": [ ", "pv", -EINVAL, "" },
	{ "  pv_name|vg_name\n", "pv", -EINVAL, "" },
};

static void test_json_reports_give_whole_fields(void **state)
{
	(void)state;
	static const char *const fields[] = { "pv_name", "vg_name", "vg_uuid" };
	for (size_t i = 0; i < sizeof(report_cases) / sizeof(report_cases[0]); i++) {
		struct strv rows = { 0 };
		int rc = lvm_report_rows(report_cases[i].json, strlen(report_cases[i].json),
					 report_cases[i].kind, fields, 3, &rows);
		struct buf b = { 0 };
		buf_puts(&b, "");
		for (size_t k = 0; k < rows.n; k++)
			buf_printf(&b, "%s%s", k == 0 ? "" : k % 3 ? "|" : ";", rows.v[k]);
		if (rc != report_cases[i].rc || strcmp(b.data, report_cases[i].rows) != 0)
			fail_msg("case %zu: rc %d rows '%s', want %d '%s'", i, rc, b.data,
				 report_cases[i].rc, report_cases[i].rows);
		buf_free(&b);
		strv_free(&rows);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_version_table),
		cmocka_unit_test(test_restrict_table),
		cmocka_unit_test(test_restrict_too_small_is_enospc),
		cmocka_unit_test(test_json_reports_give_whole_fields),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
