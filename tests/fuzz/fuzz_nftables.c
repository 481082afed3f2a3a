/* fuzz_nftables.c: libFuzzer harness of the nft parser and analysis; like fuzz_iptables_save.c:
 * the repaired file must parse again and need no further fix. */
/* ---- shared by the four firewall harnesses (kept in each so that each stands alone) ---- */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "parse/iptables_save.h"

struct fz_out {
	const char *in;
	size_t len, pos;
	struct buf out;
};

static void fz_add(void *arg, size_t off, size_t len, const char *text, size_t n)
{
	struct fz_out *o = arg;
	if (off < o->pos || off + len > o->len || off + len < off)
		abort(); /* edits out of order, overlapping or past the end */
	buf_append(&o->out, o->in + o->pos, off - o->pos);
	buf_append(&o->out, text, n);
	o->pos = off + len;
}

static void fz_finish(struct fz_out *o)
{
	buf_append(&o->out, o->in + o->pos, o->len - o->pos);
}

/* Scope i: 0 every IPv4 source, 1 two IPv4 networks, 2 an IPv6 network, all on 22 and 2222 or
 * 22 alone. */
static const unsigned fz_ports[2] = {22, 2222};
static struct cidr fz_nets[3];

static struct fw_scope fz_scope(unsigned i)
{
	cidr_parse("203.0.113.0/24", &fz_nets[0]);
	cidr_parse("10.0.0.0/8", &fz_nets[1]);
	cidr_parse("2001:db8::/32", &fz_nets[2]);
	switch (i % 3) {
	case 0:
		return (struct fw_scope){AF_INET, NULL, 0, fz_ports, 1 + (i & 4) / 4};
	case 1:
		return (struct fw_scope){AF_INET, fz_nets, 2, fz_ports, 1 + (i & 4) / 4};
	default:
		return (struct fw_scope){AF_INET6, fz_nets + 2, 1, fz_ports, 1 + (i & 4) / 4};
	}
}
/* ---- */
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
	nftables_free(&f);
	return 0;
}
