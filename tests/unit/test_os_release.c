/* test_os_release.c: os-release(5) files as distributions ship them, and hostile ones. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "parse/os_release.h"

static const struct {
	const char *in;
	const char *display; /* os_release_display_name(), NULL when none */
	const char *id, *version_id;
} cases[] = {
	{ "PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\nNAME=\"Debian GNU/Linux\"\n"
	  "VERSION_ID=\"12\"\nID=debian\n",
	  "Debian GNU/Linux 12 (bookworm)", "debian", "12" },
	/* Amazon Linux 2: PRETTY_NAME after NAME, quoted ID */
	{ "NAME=\"Amazon Linux\"\nVERSION=\"2\"\nID=\"amzn\"\nID_LIKE=\"centos rhel fedora\"\n"
	  "VERSION_ID=\"2\"\nPRETTY_NAME=\"Amazon Linux 2\"\n",
	  "Amazon Linux 2", "amzn", "2" },
	/* no PRETTY_NAME: NAME stands in */
	{ "NAME=Alpine\nID=alpine\n", "Alpine", "alpine", NULL },
	/* an empty PRETTY_NAME does not hide NAME */
	{ "PRETTY_NAME=\nNAME='Rocky Linux'\nID=\"rocky\"\n", "Rocky Linux", "rocky", NULL },
	/* escapes inside "", none inside '' */
	{ "PRETTY_NAME=\"A \\\"quoted\\\" \\$name\"\n", "A \"quoted\" $name", NULL, NULL },
	{ "PRETTY_NAME='back\\slash'\n", "back\\slash", NULL, NULL },
	/* comments, blanks, CRLF, indentation, the last assignment wins */
	{ "# comment\n\n  PRETTY_NAME=\"First\"\r\nPRETTY_NAME=\"Second\" # trailing\r\n",
	  "Second", NULL, NULL },
	/* keys that only begin like ours are not ours */
	{ "NAMEX=no\nXNAME=no\nPRETTY_NAME_EXTRA=no\nID_LIKE=debian\n", NULL, NULL, NULL },
	/* no newline at the end, a line that is not an assignment */
	{ "garbage line\nID=arch", NULL, "arch", NULL },
	{ "", NULL, NULL, NULL },
	/* an unterminated quote runs to the line's end, not further */
	{ "PRETTY_NAME=\"open\nID=x\n", "open", "x", NULL },
};

static void expect(const char *what, const char *got, const char *want, size_t i)
{
	if ((want == NULL) != (got == NULL) || (want && strcmp(got, want) != 0))
		fail_msg("case %zu: %s '%s', want '%s'", i, what, got ? got : "(null)",
			 want ? want : "(null)");
}

static void test_os_release_values_as_distributions_write_them(void **state)
{
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct os_release o;
		os_release_parse(cases[i].in, strlen(cases[i].in), &o);
		expect("name", os_release_display_name(&o), cases[i].display, i);
		expect("ID", o.id, cases[i].id, i);
		expect("VERSION_ID", o.version_id, cases[i].version_id, i);
		os_release_free(&o);
	}
}

static void test_os_release_nul_byte_ends_the_value(void **state)
{
	static const char in[] = "PRETTY_NAME=\"Evil\0Linux\"\nID=x\n";
	struct os_release o;
	os_release_parse(in, sizeof(in) - 1, &o);
	assert_string_equal(os_release_display_name(&o), "Evil");
	assert_string_equal(o.id, "x");
	os_release_free(&o);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_os_release_values_as_distributions_write_them),
		cmocka_unit_test(test_os_release_nul_byte_ends_the_value),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
