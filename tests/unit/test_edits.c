/* test_edits.c: applying edit lists to a buffer (what root_replace writes). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <string.h>

#include "root.h"

static int collect(void *arg, const void *p, size_t n)
{
	buf_append(arg, p, n);
	return 0;
}

static char *apply(const char *orig, const struct edits *e, int *rc)
{
	struct buf b = { 0 };
	buf_append(&b, "", 0);
	*rc = edits_apply(orig, strlen(orig), e, collect, &b);
	return b.data;
}

static void test_no_edits_copies_the_file(void **state)
{
	int rc;
	char *out = apply("a\nb\n", NULL, &rc);
	assert_int_equal(rc, 0);
	assert_string_equal(out, "a\nb\n");
	free(out);
}

static void test_insert_replace_delete(void **state)
{
	const char *orig = "one\ntwo\nthree\n";
	struct edits e = { 0 };
	edits_add(&e, 0, 0, "# top\n", 6);       /* insert before line 1 */
	edits_add(&e, 4, 4, "TWO\n", 4);         /* replace line 2 */
	edits_add(&e, 8, 6, NULL, 0);            /* delete line 3 */
	int rc;
	char *out = apply(orig, &e, &rc);
	assert_int_equal(rc, 0);
	assert_string_equal(out, "# top\none\nTWO\n");
	free(out);
	edits_free(&e);
}

static void test_adjacent_deletions_merge_into_one_edit(void **state)
{
	struct edits e = { 0 };
	for (size_t i = 0; i < 1000; i++)
		edits_add(&e, i * 4, 4, NULL, 0);
	assert_int_equal(e.n, 1);
	assert_int_equal(e.v[0].len, 4000);
	edits_add(&e, 4004, 4, NULL, 0); /* a gap: a new edit */
	assert_int_equal(e.n, 2);
	edits_free(&e);
}

static void test_out_of_order_or_out_of_range_is_refused(void **state)
{
	struct edits e = { 0 };
	edits_add(&e, 8, 1, NULL, 0);
	edits_add(&e, 2, 1, "x", 1);
	int rc;
	char *out = apply("0123456789", &e, &rc);
	assert_int_equal(rc, -EINVAL);
	free(out);
	edits_free(&e);
	edits_add(&e, 8, 5, NULL, 0);
	out = apply("0123456789", &e, &rc);
	assert_int_equal(rc, -EINVAL);
	free(out);
	edits_free(&e);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_no_edits_copies_the_file),
		cmocka_unit_test(test_insert_replace_delete),
		cmocka_unit_test(test_adjacent_deletions_merge_into_one_edit),
		cmocka_unit_test(test_out_of_order_or_out_of_range_is_refused),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
