/* nft_live.c: the nft transaction that repairs the running ruleset, built from the listing of
 * "nft -a list ruleset" (nftables: a rule's handle is printed as "# handle N" after it; "delete
 * rule T C handle N" and "insert rule T C position N" place by it). */
#include "parse/nft_live.h"

#include <string.h>
#include <strings.h>

/* A name alone is not enough (a hand-written "table ip filter" is common), nor the compat
 * expressions (iptables-nft writes native ones when it can), so all three must hold: the
 * family is ip or ip6; iptables-nft-save of that family listed a table of this name; and
 * every base chain is one of iptables' built-in chains, named after its hook in capitals (nft
 * users name chains in lower case: "chain input"). Its rules are fixed through
 * iptables-nft-restore; changing them here too would fix them twice, and iptables-nft refuses
 * a table whose rules it did not write. */
bool nft_live_owned_by_iptables(const struct nft_table *t, const struct strv *ipt_nft_tables)
{
	static const char *const builtin[] = {"PREROUTING", "INPUT", "FORWARD", "OUTPUT",
					      "POSTROUTING"};
	if (strcmp(t->family, "ip") && strcmp(t->family, "ip6"))
		return false;
	_cleanup_free_ char *key = xasprintf("%s %s", t->family, t->name);
	if (!strv_contains(ipt_nft_tables, key))
		return false;
	for (size_t c = 0; c < t->n_chains; c++) {
		const struct nft_chain *ch = &t->chains[c];
		bool ok = !ch->hook;
		for (size_t k = 0; k < ARRAY_SIZE(builtin) && !ok; k++)
			ok = !strcmp(ch->name, builtin[k]) && !strcasecmp(ch->hook, builtin[k]);
		if (!ok)
			return false;
	}
	return true;
}

/* The handle nft -a prints after a rule ("... drop # handle 7"); 0 when there is none. */
static unsigned long rule_handle(const char *buf, size_t len, const struct nft_rule *r)
{
	size_t e = r->end;
	while (e < len && buf[e] != '\n')
		e++;
	const char *p = memmem(buf + r->end, e - r->end, "# handle ", 9);
	unsigned long h = 0;
	for (p = p ? p + 9 : NULL; p && p < buf + e && *p >= '0' && *p <= '9' && h < 1ul << 40; p++)
		h = h * 10 + (unsigned long)(*p - '0');
	return h;
}

/* The comment that marks an added rule: the run id in nft string characters. */
static char *rule_mark(const char *run_id)
{
	char *mark = xasprintf("sshrescue %s", run_id ? run_id : "");
	for (char *m = mark; *m; m++)
		if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 .:_-",
			    *m))
			*m = '_';
	return mark;
}

/* The change for one fix, and its line of the transaction (ins: inserts and adds, del:
 * deletes). */
static void build_change(const char *listing, size_t len, const struct nft_live *l,
			 const struct nft_fix *x, const struct fw_scope *sc, size_t n_sc,
			 const char *mark, struct nft_live_change *c, struct buf *ins,
			 struct buf *del)
{
	const struct nft_table *tb = &l->view.tables[x->table];
	const struct nft_chain *ch = &tb->chains[x->chain];
	const struct nft_rule *r = x->rule != SIZE_MAX ? &ch->rules[x->rule] : NULL;
	*c = (struct nft_live_change){.fix = x, .table = tb, .chain = ch, .rule = r};
	c->handle = r ? rule_handle(listing, len, r) : 0;
	if (r && !c->handle)
		return;
	if (x->kind == NFT_FIX_COMMENT) {
		buf_printf(del, "delete rule %s %s %s handle %lu\n", tb->family, tb->name, ch->name,
			   c->handle);
		return;
	}
	const struct fw_scope *s = &sc[0];
	for (size_t k = 0; k < n_sc; k++)
		if (sc[k].family == x->family)
			s = &sc[k];
	c->accept = nftables_accept_rule(s, &l->view, x);
	if (r)
		buf_printf(ins, "insert rule %s %s %s position %lu %s comment \"%s\"\n", tb->family,
			   tb->name, ch->name, c->handle, c->accept, mark);
	else
		buf_printf(ins, "add rule %s %s %s %s comment \"%s\"\n", tb->family, tb->name,
			   ch->name, c->accept, mark);
}

void nft_live_build(const char *listing, size_t len, const struct nft_file *f,
		    const struct strv *ipt_nft_tables, const struct fw_scope *sc, size_t n_sc,
		    const char *run_id, struct nft_live *out)
{
	*out = (struct nft_live){0};
	/* a view of the tables nft alone owns (shares f's tables; not freed itself) */
	out->view.tables = xcalloc(f->n_tables + 1, sizeof(*out->view.tables));
	for (size_t i = 0; i < f->n_tables; i++)
		if (!nft_live_owned_by_iptables(&f->tables[i], ipt_nft_tables))
			out->view.tables[out->view.n_tables++] = f->tables[i];
	if (!out->view.n_tables)
		return;
	nftables_analyze(&out->view, listing, len, sc, n_sc, &out->fixes);
	if (out->fixes.unsupported || !out->fixes.n)
		return;
	_cleanup_free_ char *mark = rule_mark(run_id);
	struct buf ins = {0}, del = {0};
	bool handles = true;
	out->changes = xcalloc(out->fixes.n, sizeof(*out->changes));
	for (size_t i = 0; i < out->fixes.n; i++) {
		struct nft_live_change *c = &out->changes[out->n_changes++];
		build_change(listing, len, out, &out->fixes.v[i], sc, n_sc, mark, c, &ins, &del);
		handles &= !c->rule || c->handle;
	}
	if (del.len)
		buf_append(&ins, del.data, del.len);
	buf_free(&del);
	if (handles && ins.len)
		out->transaction = ins.data;
	else
		buf_free(&ins);
}

void nft_live_free(struct nft_live *l)
{
	for (size_t i = 0; i < l->n_changes; i++)
		free(l->changes[i].accept);
	free(l->changes);
	free(l->transaction);
	nft_fixes_free(&l->fixes);
	free(l->view.tables);
	*l = (struct nft_live){0};
}
