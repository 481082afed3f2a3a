/* fuzz_nftables.c: libFuzzer harness of the nft parser and analysis; like fuzz_iptables_save.c:
 * the repaired file must parse again and need no further fix. The input read as a listing of
 * the running rules must give a transaction of whole lines. */
#include "fuzz_fw.h"
#include "parse/nft_live.h"
#include "parse/nftables.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *in = (const char *)data;
	struct nft_file f;
	unsigned el;
	char *err = NULL;
	if (nftables_parse(in, size, &f, &el, &err) < 0) {
		free(err);
		return 0;
	}
	struct fw_scope s = fz_scope(size ? data[0] : 0);
	struct nft_fixes fx;
	nftables_analyze(&f, in, size, &s, 1, &fx);
	if (!fx.unsupported && fx.n) {
		struct fz_out o = {.in = in, .len = size};
		nftables_edits(in, size, &f, &fx, &s, 1,
			       "# sshrescue R: ", &(struct fw_edit_sink){fz_add, &o});
		fz_finish(&o);
		struct nft_file f2;
		if (nftables_parse(o.out.data, o.out.len, &f2, &el, &err) < 0)
			abort();
		struct nft_fixes fx2;
		nftables_analyze(&f2, o.out.data, o.out.len, &s, 1, &fx2);
		if (fx2.n && !fx2.unsupported)
			abort();
		nft_fixes_free(&fx2);
		nftables_free(&f2);
		buf_free(&o.out);
	}
	nft_fixes_free(&fx);
	struct strv ipt = {0};
	strv_push(&ipt, "ip filter");
	struct nft_live l;
	nft_live_build(in, size, &f, &ipt, &s, 1, "R", &l);
	if (l.transaction && (!*l.transaction || l.transaction[strlen(l.transaction) - 1] != '\n'))
		abort();
	nft_live_free(&l);
	strv_free(&ipt);
	nftables_free(&f);
	return 0;
}
