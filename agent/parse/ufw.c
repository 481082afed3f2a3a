/* ufw.c: ufw's KEY=value files and the tuple groups of its user rules (ufw:
 * src/backend_iptables.py, _write_rules and _read_rules). */
#include "parse/ufw.h"

#include <ctype.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>

#define TUPLE "### tuple ###"

char *ufw_conf_value(const char *buf, size_t len, const char *key)
{
	size_t kl = strlen(key);
	char *val = NULL;
	for (size_t pos = 0; pos < len;) {
		size_t end = iptables_save_next_line(buf, len, pos);
		const char *p = buf + pos, *e = buf + end;
		while (e > p && (e[-1] == '\n' || e[-1] == '\r'))
			e--;
		while (p < e && (*p == ' ' || *p == '\t'))
			p++;
		if ((size_t)(e - p) > kl && !strncmp(p, key, kl) && p[kl] == '=') {
			p += kl + 1;
			const char *q = p;
			while (q < e && *q != '#' && !isspace((unsigned char)*q) && *q != '"' &&
			       *q != '\'')
				q++;
			if (q < e && (*q == '"' || *q == '\'') && q == p) {
				const char *c = memchr(p + 1, *q, (size_t)(e - p - 1));
				q = c ? c : e;
				p++;
			}
			free(val);
			val = xstrndup(p, (size_t)(q - p));
		}
		pos = end;
	}
	return val;
}

static bool line_starts(const char *buf, size_t len, size_t off, const char *s)
{
	size_t n = strlen(s);
	return len - off >= n && !memcmp(buf + off, s, n);
}

static size_t line_begin(const char *buf, size_t off)
{
	while (off > 0 && buf[off - 1] != '\n')
		off--;
	return off;
}

bool ufw_group_at(const char *buf, size_t len, size_t off, struct ufw_group *g)
{
	size_t o = line_begin(buf, off);
	/* back to the tuple line, through rule lines only */
	for (;;) {
		if (line_starts(buf, len, o, TUPLE))
			break;
		if (o == 0 || buf[o] != '-')
			return false; /* only rule lines stand between a tuple and its rules */
		o = line_begin(buf, o - 1);
	}
	g->start = o;
	g->line = 1;
	for (size_t i = 0; i < o; i++)
		g->line += buf[i] == '\n';
	size_t e = iptables_save_next_line(buf, len, o);
	while (e < len && buf[e] == '-')
		e = iptables_save_next_line(buf, len, e);
	g->end = e;
	return true;
}

/* The first "### END RULES ###" line starting in [from, to), or SIZE_MAX. */
static size_t rules_end_in(const char *buf, size_t len, size_t from, size_t to)
{
	for (size_t o = from; o < to && o < len; o = iptables_save_next_line(buf, len, o))
		if (line_starts(buf, len, o, "### END RULES ###"))
			return o;
	return SIZE_MAX;
}

size_t ufw_rules_end(const char *buf, size_t len)
{
	return rules_end_in(buf, len, 0, len);
}

struct ipt_entry ufw_entry(bool v6, const char *default_policy)
{
	return (struct ipt_entry){.table = "filter",
				  .chain = v6 ? "ufw6-user-input" : "ufw-user-input",
				  .policy = default_policy,
				  .new_only = true,
				  .top_level = true};
}

char *ufw_accept_text(const struct fw_scope *s, bool v6)
{
	struct buf b = {0};
	const char *any = v6 ? "::/0" : "0.0.0.0/0";
	size_t n_src = s->n_peers ? s->n_peers : 1;
	buf_puts(&b, "");
	for (size_t i = 0; i < n_src; i++) {
		char src[CIDR_STRLEN];
		if (s->n_peers)
			cidr_format(&s->peers[i], src);
		else
			snprintf(src, sizeof(src), "%s", any);
		for (size_t p = 0; p < s->n_ports; p++) {
			buf_printf(&b, TUPLE " allow tcp %u %s any %s in\n", s->ports[p], any, src);
			buf_printf(&b, "-A %s -p tcp --dport %u",
				   v6 ? "ufw6-user-input" : "ufw-user-input", s->ports[p]);
			if (s->n_peers)
				buf_printf(&b, " -s %s", src);
			buf_puts(&b, " -j ACCEPT\n\n");
		}
	}
	return b.data;
}

struct uplaced {
	size_t off;
	int order;
	const struct ipt_fix *fx;
	struct ufw_group g;
	bool group;
};

static int uplaced_cmp(const void *a, const void *b)
{
	const struct uplaced *x = a, *y = b;
	if (x->off != y->off)
		return x->off < y->off ? -1 : 1;
	return x->order - y->order;
}

void ufw_edits(const char *buf, size_t len, const struct ipt_file *f, const struct ipt_fixes *fx,
	       const struct fw_scope *s, bool v6, const char *marker,
	       const struct fw_edit_sink *out)
{
	struct uplaced *pl = xcalloc(fx->n + 1, sizeof(*pl));
	size_t n = 0;
	for (size_t i = 0; i < fx->n; i++) {
		const struct ipt_fix *x = &fx->v[i];
		struct uplaced u = {.fx = x, .order = x->kind == IPT_FIX_INSERT ? 0 : 1};
		if (x->cmd == SIZE_MAX) {
			/* the marker counts only between the chain's declaration and its table's
			 * COMMIT: anywhere else the rule would land outside the table */
			const struct ipt_table *t = &f->tables[x->table];
			const struct ipt_chain *c = iptables_save_chain(t, x->chain);
			size_t from = iptables_save_next_line(buf, len, c ? c->off : t->off);
			u.off = rules_end_in(buf, len, from, t->commit_off);
			if (u.off == SIZE_MAX)
				u.off = t->commit_off;
		} else {
			u.group = ufw_group_at(buf, len, f->cmds[x->cmd].off, &u.g);
			u.off = u.group ? u.g.start : f->cmds[x->cmd].off;
		}
		/* one comment per group, even when several of its lines block */
		bool dup = false;
		for (size_t k = 0; k < n; k++)
			dup |= pl[k].off == u.off && pl[k].order == u.order;
		if (!dup)
			pl[n++] = u;
	}
	qsort(pl, n, sizeof(*pl), uplaced_cmp);
	for (size_t i = 0; i < n; i++) {
		const struct ipt_fix *x = pl[i].fx;
		if (x->kind == IPT_FIX_COMMENT) {
			size_t end = pl[i].group ? pl[i].g.end
						 : iptables_save_next_line(buf, len, pl[i].off);
			for (size_t o = pl[i].off; o < end;
			     o = iptables_save_next_line(buf, len, o))
				out->add(out->arg, o, 0, marker, strlen(marker));
			continue;
		}
		_cleanup_free_ char *text = ufw_accept_text(s, v6);
		struct buf b = {0};
		buf_printf(&b, "%sadded the next rule: %s\n%s", marker, x->why, text);
		out->add(out->arg, pl[i].off, 0, b.data, b.len);
		buf_free(&b);
	}
	free(pl);
}
