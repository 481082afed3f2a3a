/* fuzz_elf.c: libFuzzer harness of the ELF DT_NEEDED reader: any bytes, never a read past
 * them, and every name it returns lies inside the input. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "parse/elf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* a copy of exactly size bytes, so ASan sees any read past the end */
	char *buf = malloc(size ? size : 1);
	memcpy(buf, data, size);
	struct strv v = { 0 };
	if (elf_needed(buf, size, &v) == 0)
		for (size_t i = 0; i < v.n; i++)
			if (strlen(v.v[i]) >= size)
				abort();
	strv_free(&v);
	bool yes;
	elf_needs(buf, size, "libwrap.so", &yes);
	free(buf);
	return 0;
}
