/* test_sshkey.c: the algorithm of a private key file (throwaway keys made for this test). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "parse/sshkey.h"

static const char ed25519[] =
	"-----BEGIN OPENSSH PRIVATE KEY-----\n"
	"b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW\n"
	"QyNTUxOQAAACBPpeNhhJQ8paXuMDfEe6OscS7gAFqwux7pTWA5nlKmtwAAAIhbBKOoWwSj\n"
	"qAAAAAtzc2gtZWQyNTUxOQAAACBPpeNhhJQ8paXuMDfEe6OscS7gAFqwux7pTWA5nlKmtw\n"
	"AAAEDEO/ZPKX5Be+STAt3ursX1/wTenLTeW+jdSVuMn6UCpE+l42GElDylpe4wN8R7o6xx\n"
	"LuAAWrC7HulNYDmeUqa3AAAABHRlc3QB\n"
	"-----END OPENSSH PRIVATE KEY-----\n";
/* The first lines of an OpenSSH-format DSA key (what ssh-keygen -t dsa wrote). */
static const char dsa[] =
	"-----BEGIN OPENSSH PRIVATE KEY-----\n"
	"b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAABsQAAAAdzc2gtZH\n"
	"NzAAAAgQCzI6ZN7Nm3AqWWBm52PHSUe7V6RVyshIiYY2AaAvAHVrsPuEN2nhWkf9wvOIiq\n";

static void test_key_types(void **state)
{
	(void)state;
	static const struct {
		const char *text, *type;
	} cases[] = {
		{ ed25519, "ssh-ed25519" },
		{ dsa, "ssh-dss" },
		{ "-----BEGIN DSA PRIVATE KEY-----\nMIIBuwIBAAKBgQ==\n", "ssh-dss" },
		{ "-----BEGIN RSA PRIVATE KEY-----\n", "ssh-rsa" },
		{ "-----BEGIN OPENSSH PRIVATE KEY-----\nAAAA\n", NULL },
		{ "-----BEGIN OPENSSH PRIVATE KEY-----\n"
		  "b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAP9zc2gtZW\n",
		  NULL }, /* a type length past the end */
		{ "not a key", NULL },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char type[64];
		int rc = sshkey_private_type(cases[i].text, strlen(cases[i].text), type,
					     sizeof(type));
		if (cases[i].type) {
			assert_int_equal(rc, 0);
			assert_string_equal(type, cases[i].type);
		} else {
			assert_int_equal(rc, -EINVAL);
		}
	}
	/* every truncation of a real key: no read past the end */
	for (size_t n = 0; n < sizeof(ed25519); n++) {
		char type[64];
		sshkey_private_type(ed25519, n, type, sizeof(type));
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_key_types),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
