/* fuzz_ipset.c: libFuzzer harness of the persisted-ipsets parser, the match class and the
 * clearing edits. Every file that parses is judged for each of its sets with a scope picked by
 * its first byte; a set that can be cleared gets edits that come in order and give a file that
 * parses again with the protected networks out of the set.
 *   tests/fuzz/run 60 */
#include "fuzz_fw.h"
#include "parse/ipset.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *in = (const char *)data;
	struct ipset_file f;
	unsigned el;
	char *err = NULL;
	if (ipset_parse(in, size, &f, &el, &err) < 0) {
		free(err);
		return 0;
	}
	struct fw_scope s = fz_scope(size ? data[0] : 0);
	for (size_t i = 0; i < f.n && i < 8; i++) {
		enum fw_class c;
		struct ipset_match m = {.name = f.sets[i].name, .flags = i & 1 ? "src,dst" : "src"};
		ipset_match_class(&f, &m, &s, &c);
		if (!ipset_can_clear(&f, f.sets[i].name, &s))
			continue;
		struct fz_out o = {.in = in, .len = size};
		char *desc = NULL;
		buf_puts(&o.out, "");
		ipset_clear_edits(in, size, &f, f.sets[i].name, &s,
				  "# m: ", &(struct fw_edit_sink){fz_add, &o}, &desc);
		fz_finish(&o);
		struct ipset_file f2;
		if (ipset_parse(o.out.data, o.out.len, &f2, &el, &err) < 0)
			abort();
		m.flags = "src";
		if (ipset_match_class(&f2, &m, &s, &c) == 0 && c != FW_NONE)
			abort();
		ipset_free(&f2);
		buf_free(&o.out);
		free(desc);
	}
	ipset_free(&f);
	return 0;
}
