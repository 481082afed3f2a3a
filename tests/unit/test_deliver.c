/* test_deliver.c: the pure pieces of delivery: console chunks of the report, the backoff
 * schedule, which HTTP answers are worth another attempt, and what `after` would run. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/reboot.h>

#include <cmocka.h>

#include "config.h"
#include "deliver.h"
#include "util.h"


#define RUN "20261125T030102Z-1234"
#define PREFIX "SSHRESCUE-REPORT " RUN " "

/* the chunk part of a line: after "PREFIX i/n crc32 " */
static const char *chunk_of(const char *line)
{
	const char *p = line + strlen(PREFIX);
	p = strchr(p, ' ');
	assert_non_null(p);
	assert_int_equal(strspn(p + 1, "0123456789abcdef"), 8);
	return p + 10;
}

/* Splits text, checks that every chunk is at most 1 KiB, that the lines number 1/n..n/n and
 * that the chunks put together give back the text; returns the chunk lengths. */
static size_t split_and_join(const char *text, size_t *lens, size_t max_lens)
{
	struct strv lines = { 0 };
	assert_int_equal(deliver_console_chunks(RUN, text, strlen(text), &lines), 0);
	struct buf joined = { 0 };
	buf_append(&joined, "", 0);
	for (size_t i = 0; i < lines.n; i++) {
		_cleanup_free_ char *head = xasprintf(PREFIX "%zu/%zu ", i + 1, lines.n);
		assert_memory_equal(lines.v[i], head, strlen(head));
		const char *c = chunk_of(lines.v[i]);
		assert_true(strlen(c) <= DELIVER_CHUNK_MAX);
		assert_true(strlen(c) > 0);
		if (i < max_lens)
			lens[i] = strlen(c);
		buf_puts(&joined, c);
	}
	assert_string_equal(joined.data, text);
	size_t n = lines.n;
	buf_free(&joined);
	strv_free(&lines);
	return n;
}

static char *repeat(char c, size_t n)
{
	char *s = xmalloc(n + 1);
	memset(s, c, n);
	s[n] = '\0';
	return s;
}

static void test_short_report_is_one_line_with_its_crc32(void **state)
{
	struct strv lines = { 0 };
	/* CRC-32 (IEEE) of "123456789" is the standard check value cbf43926 */
	assert_int_equal(deliver_console_chunks(RUN, "123456789", 9, &lines), 0);
	assert_int_equal(lines.n, 1);
	assert_string_equal(lines.v[0], PREFIX "1/1 cbf43926 123456789");
	strv_free(&lines);
}

static void test_chunk_sizes_at_the_1kib_boundary(void **state)
{
	static const struct {
		size_t len, chunks, first, last;
	} cases[] = {
		{ 1, 1, 1, 1 },
		{ 1023, 1, 1023, 1023 },
		{ 1024, 1, 1024, 1024 },
		{ 1025, 2, 1024, 1 },
		{ 2048, 2, 1024, 1024 },
		{ 3000, 3, 1024, 952 },
		{ 100000, 98, 1024, 672 },
	};
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		_cleanup_free_ char *s = repeat('x', cases[i].len);
		size_t lens[128];
		size_t n = split_and_join(s, lens, ARRAY_SIZE(lens));
		assert_int_equal(n, cases[i].chunks);
		assert_int_equal(lens[0], cases[i].first);
		assert_int_equal(lens[n - 1], cases[i].last);
	}
}

static void test_chunks_never_split_a_utf8_character(void **state)
{
	static const struct {
		const char *ch; /* a character that straddles byte 1024 */
		size_t before;  /* ASCII bytes before it */
		size_t first;   /* length of the first chunk */
	} cases[] = {
		{ "\xc3\xa9", 1023, 1023 },             /* é, 2 bytes at 1023..1024 */
		{ "\xc3\xa9", 1022, 1024 },             /* ends exactly at 1024: whole */
		{ "\xe2\x82\xac", 1022, 1022 },         /* €, 3 bytes */
		{ "\xe2\x82\xac", 1023, 1023 },
		{ "\xf0\x9f\x94\x91", 1021, 1021 },     /* 🔑, 4 bytes */
		{ "\xf0\x9f\x94\x91", 1023, 1023 },
		{ "\xf0\x9f\x94\x91", 1020, 1024 },
	};
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		_cleanup_free_ char *pad = repeat('a', cases[i].before);
		_cleanup_free_ char *s = xasprintf("%s%s%s", pad, cases[i].ch, "tail");
		size_t lens[8];
		size_t n = split_and_join(s, lens, ARRAY_SIZE(lens));
		assert_int_equal(n, 2);
		assert_int_equal(lens[0], cases[i].first);
	}
}

static void test_invalid_utf8_still_splits_within_1kib(void **state)
{
	/* a run of continuation bytes has no character boundary to back up to */
	_cleanup_free_ char *s = repeat('\x80', 3000);
	size_t lens[8];
	assert_int_equal(split_and_join(s, lens, ARRAY_SIZE(lens)), 3);
	assert_int_equal(lens[0], 1024);
}

static void test_text_that_cannot_be_one_console_line_is_refused(void **state)
{
	static const struct {
		const char *run_id, *text;
		size_t len;
	} cases[] = {
		{ RUN, "{\"a\":\n1}", 8 },    /* a newline would end the line */
		{ RUN, "{\"a\":\r1}", 8 },
		{ RUN, "{\"a\":\0001}", 8 },
		{ RUN, "", 0 },
		{ "", "{}", 2 },
		{ "run id", "{}", 2 },       /* the id is one word of the prefix */
		{ "run\nid", "{}", 2 },
	};
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		struct strv lines = { 0 };
		assert_int_equal(deliver_console_chunks(cases[i].run_id, cases[i].text, cases[i].len,
							&lines),
				 -EINVAL);
		assert_int_equal(lines.n, 0);
	}
}

static void test_backoff_doubles_with_equal_jitter_and_a_cap(void **state)
{
	static const struct {
		unsigned attempt;
		unsigned long lo, hi; /* with rnd 0 and rnd UINT32_MAX (any rnd lies between) */
	} cases[] = {
		{ 0, 0, 0 },         { 1, 0, 0 },          { 2, 500, 1000 },
		{ 3, 1000, 2000 },   { 4, 2000, 4000 },    { 5, 4000, 8000 },
		{ 6, 8000, 16000 },  { 7, 8000, 16000 },   { 100, 8000, 16000 },
	};
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		assert_int_equal(deliver_backoff_ms(cases[i].attempt, 0), cases[i].lo);
		unsigned long d = cases[i].hi - cases[i].lo;
		assert_int_equal(deliver_backoff_ms(cases[i].attempt, (uint32_t)d), cases[i].hi);
		for (uint32_t r = 1; r < 5000; r += 97) {
			unsigned long v = deliver_backoff_ms(cases[i].attempt, r);
			assert_true(v >= cases[i].lo && v <= cases[i].hi);
		}
		unsigned long v = deliver_backoff_ms(cases[i].attempt, UINT32_MAX);
		assert_true(v >= cases[i].lo && v <= cases[i].hi);
	}
}

static void test_only_transient_http_answers_are_retried(void **state)
{
	static const struct {
		long status;
		bool retry;
	} cases[] = {
		{ 500, true },  { 502, true },  { 503, true },  { 504, true },  { 599, true },
		{ 408, true },  { 425, true },  { 429, true },  { 400, false }, { 401, false },
		{ 403, false }, { 404, false }, { 413, false }, { 301, false }, { 302, false },
		{ 200, false }, { 600, false }, { 0, false },
	};
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++)
		assert_int_equal(deliver_http_retryable(cases[i].status), cases[i].retry);
}

static void test_after_runs_reboot2_as_init_and_the_service_manager_otherwise(void **state)
{
	static const struct {
		int action;
		bool is_init, systemd;
		int rc, reboot_cmd;
		const char *argv0, *argv1;
	} cases[] = {
		{ AFTER_NONE, true, true, 0, 0, NULL, NULL },
		{ AFTER_NONE, false, false, 0, 0, NULL, NULL },
		{ AFTER_REBOOT, true, false, 0, RB_AUTOBOOT, NULL, NULL },
		{ AFTER_REBOOT, true, true, 0, RB_AUTOBOOT, NULL, NULL },
		{ AFTER_POWEROFF, true, false, 0, RB_POWER_OFF, NULL, NULL },
		{ AFTER_REBOOT, false, true, 0, 0, "systemctl", "reboot" },
		{ AFTER_POWEROFF, false, true, 0, 0, "systemctl", "poweroff" },
		{ AFTER_REBOOT, false, false, 0, 0, "reboot", NULL },
		{ AFTER_POWEROFF, false, false, 0, 0, "poweroff", NULL },
		{ 42, false, false, -EINVAL, 0, NULL, NULL },
	};
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		struct deliver_after_plan plan;
		assert_int_equal(deliver_after_plan(cases[i].action, cases[i].is_init,
						    cases[i].systemd, &plan),
				 cases[i].rc);
		assert_int_equal(plan.reboot_cmd, cases[i].reboot_cmd);
		if (cases[i].argv0)
			assert_string_equal(plan.argv[0], cases[i].argv0);
		else
			assert_null(plan.argv[0]);
		if (cases[i].argv1)
			assert_string_equal(plan.argv[1], cases[i].argv1);
		else
			assert_null(plan.argv[1]);
		assert_null(plan.argv[2]);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_short_report_is_one_line_with_its_crc32),
		cmocka_unit_test(test_chunk_sizes_at_the_1kib_boundary),
		cmocka_unit_test(test_chunks_never_split_a_utf8_character),
		cmocka_unit_test(test_invalid_utf8_still_splits_within_1kib),
		cmocka_unit_test(test_text_that_cannot_be_one_console_line_is_refused),
		cmocka_unit_test(test_backoff_doubles_with_equal_jitter_and_a_cap),
		cmocka_unit_test(test_only_transient_http_answers_are_retried),
		cmocka_unit_test(test_after_runs_reboot2_as_init_and_the_service_manager_otherwise),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
