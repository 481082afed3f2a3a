/* fuzz_sshkey.c: libFuzzer harness of the private key type reader: any bytes, a printable
 * type or -EINVAL, never a read past them. */
#include <ctype.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "parse/sshkey.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *buf = malloc(size ? size : 1);
	memcpy(buf, data, size);
	char type[64];
	if (sshkey_private_type(buf, size, type, sizeof(type)) == 0)
		for (const char *p = type; *p; p++)
			if (!isgraph((unsigned char)*p))
				abort();
	free(buf);
	return 0;
}
