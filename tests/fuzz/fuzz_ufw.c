/* fuzz_ufw.c: libFuzzer harness of ufw's files: KEY=value lookups, tuple groups and the repair
 * of user.rules, whose edits must come in order and leave a file iptables-restore reads. */
#include "fuzz_fw.h"
#include "parse/ufw.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *in = (const char *)data;
	free(ufw_conf_value(in, size, "ENABLED"));
	struct ufw_group g;
	for (size_t off = 0; off < size; off = iptables_save_next_line(in, size, off))
		if (ufw_group_at(in, size, off, &g) &&
		    (g.start > off || g.end < off || g.end > size))
			abort();
	struct ipt_file f;
	unsigned el;
	char *err = NULL;
	if (iptables_save_parse(in, size, &f, &el, &err) < 0) {
		free(err);
		return 0;
	}
	struct fw_scope s = fz_scope(size ? data[0] : 0);
	bool v6 = s.family == AF_INET6;
	struct ipt_entry en = ufw_entry(v6, size > 1 && (data[1] & 1) ? "DROP" : "ACCEPT");
	struct ipt_fixes fx;
	iptables_save_analyze(&f, &s, &en, 1, &fx);
	if (!fx.unsupported && fx.n) {
		struct fz_out o = {.in = in, .len = size};
		ufw_edits(in, size, &f, &fx, &s, v6,
			  "# sshrescue R: ", &(struct fw_edit_sink){fz_add, &o});
		fz_finish(&o);
		struct ipt_file f2;
		if (iptables_save_parse(o.out.data, o.out.len, &f2, &el, &err) < 0)
			abort();
		iptables_save_free(&f2);
		buf_free(&o.out);
	}
	ipt_fixes_free(&fx);
	iptables_save_free(&f);
	return 0;
}
