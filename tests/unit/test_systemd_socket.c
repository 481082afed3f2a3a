/* test_systemd_socket.c: ListenStream= of socket units and drop-ins, applied in order. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "parse/systemd_socket.h"

static void test_listen_stream_table(void **state)
{
	(void)state;
	static const struct {
		const char *files[3]; /* unit, then drop-ins */
		size_t n;
		unsigned ports[4];
	} cases[] = {
		{ { "[Socket]\nListenStream=22\nAccept=no\n" }, 1, { 22 } },
		{ { "[Socket]\nListenStream=22\n", "[Socket]\nListenStream=\nListenStream=2222\n" },
		  1,
		  { 2222 } },
		{ { "[Socket]\nListenStream=22\n", "[Socket]\nListenStream=0.0.0.0:2222\n" },
		  2,
		  { 22, 2222 } },
		{ { "[Socket]\nListenStream=[::]:443\nListenStream=/run/x.sock\nListenStream=@abs\n" },
		  1,
		  { 443 } },
		{ { "[Unit]\nListenStream=99\n[Socket]\n# ListenStream=1\n ListenStream = 23 \n" },
		  1,
		  { 23 } },
		{ { "[Socket]\nListenStream=\\\n  24\nListenStream=vsock:2:22\nListenStream=::1\n" },
		  1,
		  { 24 } },
		{ { "[Socket]\nListenStream=70000\nListenStream=abc\n" }, 0, { 0 } },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		unsigned *ports = NULL;
		size_t n = 0;
		for (size_t f = 0; f < 3 && cases[i].files[f]; f++)
			systemd_socket_apply(cases[i].files[f], strlen(cases[i].files[f]), &ports, &n);
		if (n != cases[i].n)
			fail_msg("case %zu: %zu ports, want %zu", i, n, cases[i].n);
		for (size_t k = 0; k < n; k++)
			assert_int_equal(ports[k], cases[i].ports[k]);
		free(ports);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_listen_stream_table),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
