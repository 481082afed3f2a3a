/* fuzz_iptables_save.c: libFuzzer harness of the iptables-save parser and analysis. Every file
 * that parses is analyzed for a scope picked by its first byte; the fixes become edits, which
 * must come in order and give a file that parses again and needs no further fix.
 *   tests/fuzz/run 60   (or: clang -fsanitize=fuzzer,address,undefined ... see tests/fuzz/run) */
#include "fuzz_fw.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *in = (const char *)data;
	struct ipt_file f;
	unsigned el;
	char *err = NULL;
	if (iptables_save_parse(in, size, &f, &el, &err) < 0) {
		free(err);
		return 0;
	}
	struct fw_scope s = fz_scope(size ? data[0] : 0);
	struct ipt_fixes fx;
	iptables_save_analyze(&f, &s, IPT_HOOKS, IPT_N_HOOKS, &fx);
	if (!fx.unsupported && fx.n) {
		struct fz_out o = {.in = in, .len = size};
		iptables_save_edits(in, size, &f, &fx, &s,
				    "# sshrescue R: ", &(struct fw_edit_sink){fz_add, &o});
		fz_finish(&o);
		struct ipt_file f2;
		if (iptables_save_parse(o.out.data, o.out.len, &f2, &el, &err) < 0)
			abort(); /* the repair broke the file */
		struct ipt_fixes fx2;
		iptables_save_analyze(&f2, &s, IPT_HOOKS, IPT_N_HOOKS, &fx2);
		if (fx2.n && !fx2.unsupported)
			abort(); /* a second repair would change it again */
		ipt_fixes_free(&fx2);
		iptables_save_free(&f2);
		buf_free(&o.out);
	}
	ipt_fixes_free(&fx);
	iptables_save_free(&f);
	return 0;
}
