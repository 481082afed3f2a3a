/* fuzz_firewalld.c: libFuzzer harness of the zone XML reader and the zone analysis; a repaired
 * zone must be well-formed XML that needs no further fix. */
#include "fuzz_fw.h"
#include "parse/firewalld.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *in = (const char *)data;
	free(firewalld_default_zone(in, size));
	struct xml_doc d;
	unsigned el;
	char *err = NULL;
	if (firewalld_xml_parse(in, size, &d, &el, &err) < 0) {
		free(err);
		return 0;
	}
	struct fw_scope s = fz_scope(size ? data[0] : 0);
	struct fwd_fixes fx = {0};
	firewalld_zone_analyze(in, size, &d, &s, &fx);
	firewalld_zone_binds_peers(&d, &s);
	if (!fx.unsupported && fx.n) {
		struct fz_out o = {.in = in, .len = size};
		firewalld_edits(in, size, &d, &fx, &s, 1,
				"sshrescue R: ", &(struct fw_edit_sink){fz_add, &o});
		fz_finish(&o);
		struct xml_doc d2;
		if (firewalld_xml_parse(o.out.data, o.out.len, &d2, &el, &err) < 0)
			abort();
		struct fwd_fixes fx2 = {0};
		firewalld_zone_analyze(o.out.data, o.out.len, &d2, &s, &fx2);
		if (fx2.n && !fx2.unsupported)
			abort();
		fwd_fixes_free(&fx2);
		firewalld_xml_free(&d2);
		buf_free(&o.out);
	}
	fwd_fixes_free(&fx);
	firewalld_xml_free(&d);
	return 0;
}
