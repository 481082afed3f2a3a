/* test_spawn.c: starting host programs (spawn.c): exit status, signal, output cap, stdin,
 * environment, a deadline that kills the whole process group, the run's deadline. The
 * sandbox is judged by tests/integration/sandbox.sh (it needs root and an instance). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "spawn.h"

static struct spawn_result run_sh(const char *script, const struct spawn_opts *o)
{
	char *argv[] = {"/bin/sh", "-c", (char *)script, NULL};
	struct spawn_opts none = {0};
	struct spawn_result r;
	assert_int_equal(spawn_run(argv, o ? o : &none, &r), 0);
	return r;
}

static void test_exit_status_and_streams(void **state)
{
	(void)state;
	struct spawn_result r = run_sh("echo out; echo err >&2; exit 3", NULL);
	assert_int_equal(r.how, SPAWN_EXITED);
	assert_int_equal(r.code, 3);
	assert_string_equal(r.out, "out\n");
	assert_string_equal(r.err, "err\n");
	assert_false(spawn_ok(&r));
	spawn_result_free(&r);
}

static void test_merge_stderr(void **state)
{
	(void)state;
	struct spawn_opts o = {.flags = SPAWN_MERGE_STDERR};
	struct spawn_result r = run_sh("echo a; echo b >&2", &o);
	assert_true(spawn_ok(&r));
	assert_string_equal(r.out, "a\nb\n");
	assert_string_equal(r.err, "");
	spawn_result_free(&r);
}

static void test_signal(void **state)
{
	(void)state;
	struct spawn_result r = run_sh("kill -TERM $$", NULL);
	assert_int_equal(r.how, SPAWN_SIGNALED);
	assert_int_equal(r.code, SIGTERM);
	spawn_result_free(&r);
}

static void test_input_and_environment(void **state)
{
	(void)state;
	char *const envp[] = {"PATH=/usr/bin:/bin", "GREETING=hello", NULL};
	const char in[] = "from stdin\n";
	struct spawn_opts o = {.envp = envp, .input = in, .input_len = sizeof(in) - 1};
	struct spawn_result r = run_sh("cat; echo \"$GREETING ${HOME:-nohome}\"", &o);
	assert_true(spawn_ok(&r));
	assert_string_equal(r.out, "from stdin\nhello nohome\n");
	spawn_result_free(&r);
	/* no input: /dev/null */
	r = run_sh("cat; echo end", NULL);
	assert_string_equal(r.out, "end\n");
	spawn_result_free(&r);
}

static void test_output_cap(void **state)
{
	(void)state;
	struct spawn_opts o = {.max_output = 1000};
	struct spawn_result r = run_sh("head -c 200000 /dev/zero | tr '\\0' x", &o);
	assert_true(spawn_ok(&r)); /* the rest was read and dropped: no blocked writer */
	assert_int_equal(r.out_len, 1000);
	assert_true(r.cut);
	spawn_result_free(&r);
}

static void test_not_found(void **state)
{
	(void)state;
	char *argv[] = {"/nonexistent/program", NULL};
	struct spawn_opts o = {0};
	struct spawn_result r;
	assert_int_equal(spawn_run(argv, &o, &r), 0);
	assert_int_equal(r.how, SPAWN_NOT_STARTED);
	assert_int_equal(r.error, ENOENT);
	spawn_result_free(&r);
	char *argv2[] = {"no-such-program-anywhere", NULL};
	assert_int_equal(spawn_run(argv2, &o, &r), 0);
	assert_int_equal(r.how, SPAWN_NOT_STARTED);
	spawn_result_free(&r);
	char *argv3[] = {"true", NULL}; /* looked up in /usr/sbin:/usr/bin:/sbin:/bin */
	assert_int_equal(spawn_run(argv3, &o, &r), 0);
	assert_true(spawn_ok(&r));
	spawn_result_free(&r);
}

/* Running (a zombie waits for whoever inherited it: dead). */
static bool alive(pid_t pid)
{
	char path[64], buf[512];
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	FILE *f = fopen(path, "re");
	if (!f)
		return false;
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	const char *p = strrchr(buf, ')');
	return p && p[1] == ' ' && p[2] != 'Z' && p[2] != 'X';
}

/* The program and what it left behind (its own children, in the background, holding the
 * pipe or not) are all killed at the deadline. */
static void test_timeout_kills_the_tree(void **state)
{
	(void)state;
	struct spawn_opts o = {.timeout_ms = 300};
	int64_t t0 = spawn_mono_ms();
	struct spawn_result r = run_sh(
		"sleep 1000 & echo $!; sleep 1000 >/dev/null 2>&1 & echo $!; exec sleep 1000", &o);
	int64_t took = spawn_mono_ms() - t0;
	assert_int_equal(r.how, SPAWN_TIMED_OUT);
	assert_true(took < 3000);
	int a = 0, b = 0;
	assert_int_equal(sscanf(r.out, "%d\n%d", &a, &b), 2);
	usleep(100000);
	assert_false(alive(a));
	assert_false(alive(b));
	spawn_result_free(&r);
}

/* A program that ends leaves no background child running. */
static void test_group_swept_after_exit(void **state)
{
	(void)state;
	struct spawn_result r = run_sh("sleep 1000 >/dev/null 2>&1 & echo $!", NULL);
	assert_true(spawn_ok(&r));
	int a = atoi(r.out);
	usleep(100000);
	assert_true(a > 0);
	assert_false(alive(a));
	spawn_result_free(&r);
}

static void test_run_deadline(void **state)
{
	(void)state;
	spawn_set_deadline(spawn_mono_ms() + 300);
	struct spawn_result r = run_sh("exec sleep 1000", NULL);
	assert_int_equal(r.how, SPAWN_TIMED_OUT);
	spawn_result_free(&r);
	assert_true(spawn_deadline_passed());
	r = run_sh("true", NULL);
	assert_int_equal(r.how, SPAWN_NOT_STARTED);
	assert_int_equal(r.error, ETIME);
	spawn_result_free(&r);
	/* release and delivery run past it on their own budget */
	struct spawn_opts own = {.flags = SPAWN_OWN_BUDGET, .timeout_ms = 5000};
	r = run_sh("exit 0", &own);
	assert_true(spawn_ok(&r));
	spawn_result_free(&r);
	spawn_set_deadline(0);
}

static void test_quiet(void **state)
{
	(void)state;
	char *ok[] = {"/bin/sh", "-c", "echo hidden; exit 0", NULL};
	char *bad[] = {"/bin/sh", "-c", "exit 2", NULL};
	char *slow[] = {"/bin/sh", "-c", "sleep 1000", NULL};
	assert_int_equal(spawn_quiet(ok, 5000), 0);
	assert_int_equal(spawn_quiet(bad, 5000), -EIO);
	int64_t t0 = spawn_mono_ms();
	assert_int_equal(spawn_quiet(slow, 200), -ETIME);
	assert_true(spawn_mono_ms() - t0 < 3000);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_exit_status_and_streams),
		cmocka_unit_test(test_merge_stderr),
		cmocka_unit_test(test_signal),
		cmocka_unit_test(test_input_and_environment),
		cmocka_unit_test(test_output_cap),
		cmocka_unit_test(test_not_found),
		cmocka_unit_test(test_timeout_kills_the_tree),
		cmocka_unit_test(test_group_swept_after_exit),
		cmocka_unit_test(test_run_deadline),
		cmocka_unit_test(test_quiet),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
