/* fuzz_csf.c: libFuzzer harness of CSF's list, tempban and csf.conf parsers: every entry and
 * value reported lies inside the input. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "parse/csf.h"

static size_t input_len;

static void check(void *arg, const struct csf_entry *e)
{
	(void)arg;
	if (e->off > input_len || e->len > input_len - e->off)
		abort();
	if (e->include && strlen(e->path) >= sizeof(e->path))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *buf = malloc(size ? size : 1);
	memcpy(buf, data, size);
	input_len = size;
	csf_list_parse(buf, size, check, NULL);
	csf_tempban_parse(buf, size, check, NULL);
	size_t off, len;
	if (csf_conf_value(buf, size, "TCP_IN", &off, &len)) {
		if (off > size || len > size - off)
			abort();
		csf_ports_have(buf + off, len, 22);
	}
	struct cidr net;
	cidr_parse("203.0.113.0/24", &net);
	csf_list_covers(buf, size, &net);
	free(buf);
	return 0;
}
