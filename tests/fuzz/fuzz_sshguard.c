/* fuzz_sshguard.c: libFuzzer harness of SSHGuard's configuration, blocklist and whitelist
 * parsers: every entry reported is a line inside the input. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "parse/sshguard.h"

static size_t input_len;

static void check(void *arg, const struct sshguard_entry *e)
{
	(void)arg;
	if (e->off > input_len || e->len > input_len - e->off)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *buf = malloc(size ? size : 1);
	memcpy(buf, data, size);
	input_len = size;
	struct sshguard_conf c;
	sshguard_conf_parse(buf, size, &c);
	if (c.blacklist)
		free(sshguard_blacklist_path(c.blacklist));
	sshguard_conf_free(&c);
	sshguard_blacklist_parse(buf, size, check, NULL);
	struct cidr net;
	cidr_parse("203.0.113.0/24", &net);
	sshguard_whitelist_covers(buf, size, &net);
	free(buf);
	return 0;
}
