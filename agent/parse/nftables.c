/* nftables.c: the subset of the nft language that decides what reaches sshd (nftables:
 * src/scanner.l, src/parser_bison.y): tokens, table / chain / set blocks, "add rule" commands,
 * defines; and which rules of the ip/ip6/inet base chains block protected SSH traffic. */
#include "parse/nftables.h"

#include <ctype.h>
#include <errno.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#define NFT_MAX_DEPTH 16u
/* Values nested deeper than this ("{ { { ... } } }") are not followed: unknown. */
#define NFT_MAX_VALUE_DEPTH 16
#define NFT_WALK_STEPS 2000000u

/* ---- tokens ---- */

struct lexer {
	struct nft_tok *v;
	size_t n, cap;
};

static void push_tok(struct lexer *lx, const char *s, size_t n, size_t off, unsigned line,
		     bool quoted)
{
	if (lx->n == lx->cap) {
		lx->cap = lx->cap ? 2 * lx->cap : 256;
		lx->v = xrealloc(lx->v, lx->cap * sizeof(*lx->v));
	}
	lx->v[lx->n++] =
		(struct nft_tok){.s = xstrndup(s, n), .off = off, .line = line, .quoted = quoted};
}

static bool special(char c)
{
	return c == '{' || c == '}' || c == '(' || c == ')' || c == ';' || c == ',' || c == '"' ||
	       c == '#';
}

static int lex(const char *buf, size_t len, struct lexer *lx, unsigned *err_line, char **err)
{
	unsigned line = 1;
	for (size_t i = 0; i < len;) {
		char c = buf[i];
		if (c == '\0') {
			*err = xstrdup("NUL byte");
			*err_line = line;
			return -EINVAL;
		}
		if (c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v') {
			i++;
		} else if (c == '\\' && i + 1 < len && buf[i + 1] == '\n') {
			i += 2;
			line++;
		} else if (c == '\n') {
			push_tok(lx, "\n", 1, i, line, false);
			i++;
			line++;
		} else if (c == '#') {
			while (i < len && buf[i] != '\n')
				i++;
		} else if (c == '"') {
			const char *e = memchr(buf + i + 1, '"', len - i - 1);
			const char *nl = memchr(buf + i + 1, '\n', len - i - 1);
			if (!e || (nl && nl < e)) {
				*err = xstrdup("unterminated string");
				*err_line = line;
				return -EINVAL;
			}
			push_tok(lx, buf + i + 1, (size_t)(e - buf - i - 1), i, line, true);
			i = (size_t)(e - buf) + 1;
		} else if (special(c)) {
			push_tok(lx, buf + i, 1, i, line, false);
			i++;
		} else {
			size_t j = i;
			while (j < len && !special(buf[j]) && !isspace((unsigned char)buf[j]) &&
			       buf[j] != '\0')
				j++;
			if (j == i) { /* cannot happen: every other byte starts a word */
				*err = xstrdup("unexpected byte");
				*err_line = line;
				return -EINVAL;
			}
			push_tok(lx, buf + i, j - i, i, line, false);
			i = j;
		}
	}
	return 0;
}

static size_t tok_end(const struct nft_tok *t)
{
	return t->off + strlen(t->s) + (t->quoted ? 2 : 0);
}

static bool is(const struct nft_tok *t, const char *s)
{
	return !t->quoted && !strcmp(t->s, s);
}

/* ---- structure ---- */

struct parser {
	struct nft_tok *t;
	size_t n, i;
	struct nft_file *f;
	char *err;
	unsigned err_line;
};

static bool at_end_of_stmt(struct parser *p)
{
	return p->i >= p->n || is(&p->t[p->i], "\n") || is(&p->t[p->i], ";");
}

static int fail(struct parser *p, const char *msg)
{
	if (!p->err) {
		p->err = xstrdup(msg);
		p->err_line = p->i < p->n ? p->t[p->i].line : (p->n ? p->t[p->n - 1].line : 1);
	}
	return -EINVAL;
}

/* Skip one statement: to the newline or ';' outside braces (a "}" at depth 0 is left). */
static int skip_stmt(struct parser *p)
{
	int depth = 0;
	for (; p->i < p->n; p->i++) {
		const struct nft_tok *t = &p->t[p->i];
		if (is(t, "{")) {
			depth++;
		} else if (is(t, "}")) {
			if (!depth)
				return 0;
			depth--;
		} else if (!depth && (is(t, "\n") || is(t, ";"))) {
			p->i++;
			return 0;
		}
	}
	return depth ? fail(p, "unbalanced braces") : 0;
}

static bool is_family(const struct nft_tok *t)
{
	static const char *fam[] = {"ip", "ip6", "inet", "arp", "bridge", "netdev"};
	for (size_t i = 0; i < ARRAY_SIZE(fam); i++)
		if (is(t, fam[i]))
			return true;
	return false;
}

static struct nft_table *find_table(struct nft_file *f, const char *fam, const char *name)
{
	for (size_t i = 0; i < f->n_tables; i++)
		if (!f->tables[i].dead && !strcmp(f->tables[i].family, fam) &&
		    !strcmp(f->tables[i].name, name))
			return &f->tables[i];
	return NULL;
}

static struct nft_table *get_table(struct nft_file *f, const char *fam, const char *name,
				   unsigned line)
{
	struct nft_table *t = find_table(f, fam, name);
	if (t)
		return t;
	f->tables = xgrow(f->tables, f->n_tables, sizeof(*f->tables));
	t = &f->tables[f->n_tables++];
	*t = (struct nft_table){.family = xstrdup(fam), .name = xstrdup(name), .line = line};
	return t;
}

static struct nft_chain *get_chain(struct nft_table *t, const char *name, unsigned line, size_t off)
{
	for (size_t i = 0; i < t->n_chains; i++)
		if (!t->chains[i].dead && !strcmp(t->chains[i].name, name))
			return &t->chains[i];
	t->chains = xgrow(t->chains, t->n_chains, sizeof(*t->chains));
	struct nft_chain *c = &t->chains[t->n_chains++];
	*c = (struct nft_chain){
		.name = xstrdup(name), .policy = xstrdup("accept"), .line = line, .off = off};
	return c;
}

static void tok_copy(struct nft_tok *dst, const struct nft_tok *src)
{
	*dst = *src;
	dst->s = xstrdup(src->s);
}

/* A rule: tokens to the end of the statement. */
static int parse_rule(struct parser *p, struct nft_chain *c, const struct nft_tok *cmd, bool insert)
{
	size_t start = p->i;
	int depth = 0;
	for (; p->i < p->n; p->i++) {
		const struct nft_tok *t = &p->t[p->i];
		if (is(t, "{")) {
			depth++;
		} else if (is(t, "}")) {
			if (!depth)
				break;
			depth--;
		} else if (!depth && (is(t, "\n") || is(t, ";"))) {
			break;
		}
	}
	if (depth)
		return fail(p, "unbalanced braces in a rule");
	if (p->i == start)
		return 0;
	c->rules = xgrow(c->rules, c->n_rules, sizeof(*c->rules));
	struct nft_rule *r = &c->rules[c->n_rules++];
	/* a command's rule starts at its verb: "add rule ..." is what gets commented */
	*r = (struct nft_rule){.line = cmd ? cmd->line : p->t[start].line,
			       .off = cmd ? cmd->off : p->t[start].off,
			       .end = tok_end(&p->t[p->i - 1]),
			       .from_command = cmd != NULL,
			       .insert = insert};
	r->toks = xcalloc(p->i - start, sizeof(*r->toks));
	for (size_t k = start; k < p->i; k++)
		if (!is(&p->t[k], "\n"))
			tok_copy(&r->toks[r->n_toks++], &p->t[k]);
	if (insert) { /* "insert rule" puts it first */
		struct nft_rule tmp = c->rules[c->n_rules - 1];
		memmove(c->rules + 1, c->rules, (c->n_rules - 1) * sizeof(*c->rules));
		c->rules[0] = tmp;
	}
	return 0;
}

/* "priority N", "priority raw", "priority filter - 10" at p->i: at or before conntrack (-200)?
 * Unknown names (a $define) count as before. */
static bool priority_before_ct(struct parser *p)
{
	static const struct {
		const char *name;
		long v;
	} names[] = {{"raw", -300},    {"mangle", -150}, {"dstnat", -100}, {"filter", 0},
		     {"security", 50}, {"srcnat", 100},	 {"out", 100},	   {"in", -200}};
	size_t i = p->i + 1;
	long v = 0;
	bool known = false;
	if (i >= p->n)
		return true;
	const char *a = p->t[i].s;
	char *end;
	if (a[0] == '-' || isdigit((unsigned char)a[0])) {
		v = strtol(a, &end, 10);
		known = !*end;
	} else {
		for (size_t k = 0; k < ARRAY_SIZE(names); k++)
			if (!strcmp(a, names[k].name)) {
				v = names[k].v;
				known = true;
			}
	}
	if (known && i + 2 < p->n && (is(&p->t[i + 1], "+") || is(&p->t[i + 1], "-"))) {
		long d = strtol(p->t[i + 2].s, &end, 10);
		if (*end)
			return true;
		v += is(&p->t[i + 1], "+") ? d : -d;
	} else if (known && i + 1 < p->n && (p->t[i + 1].s[0] == '+' || p->t[i + 1].s[0] == '-') &&
		   p->t[i + 1].s[1]) {
		long d = strtol(p->t[i + 1].s, &end, 10);
		if (*end)
			return true;
		v += d;
	}
	return !known || v <= -200;
}

/* "device lo", "devices = { lo, eth0 }", "devices = $DEVS" at p->i: only lo is sure. */
static void chain_devices(struct parser *p, struct nft_chain *c)
{
	size_t i = p->i + 1;
	bool lo = true, any = false;
	if (i < p->n && is(&p->t[i], "="))
		i++;
	if (i < p->n && is(&p->t[i], "{")) {
		for (i++; i < p->n && !is(&p->t[i], "}"); i++)
			if (!is(&p->t[i], ",") && !is(&p->t[i], "\n")) {
				any = true;
				lo &= !strcmp(p->t[i].s, "lo");
			}
	} else if (i < p->n) {
		any = true;
		lo = !strcmp(p->t[i].s, "lo");
	}
	c->lo_only = any && lo;
}

static int parse_chain_body(struct parser *p, struct nft_chain *c)
{
	while (p->i < p->n) {
		const struct nft_tok *t = &p->t[p->i];
		if (is(t, "\n") || is(t, ";")) {
			p->i++;
		} else if (is(t, "}")) {
			c->close = t->off;
			c->flushed = false;
			p->i++;
			return 0;
		} else if (is(t, "type")) {
			int depth = 0;
			if (p->i + 1 < p->n) {
				free(c->type);
				c->type = xstrdup(p->t[p->i + 1].s);
			}
			for (p->i++; p->i < p->n &&
				     (depth || (!at_end_of_stmt(p) && !is(&p->t[p->i], "}")));
			     p->i++) {
				if (is(&p->t[p->i], "{"))
					depth++;
				else if (is(&p->t[p->i], "}"))
					depth--;
				else if (is(&p->t[p->i], "hook") && p->i + 1 < p->n) {
					free(c->hook);
					c->hook = xstrdup(p->t[++p->i].s);
				} else if (is(&p->t[p->i], "priority"))
					c->before_ct = priority_before_ct(p);
				else if (is(&p->t[p->i], "device") || is(&p->t[p->i], "devices"))
					chain_devices(p, c);
			}
		} else if (is(t, "policy") && p->i + 1 < p->n) {
			free(c->policy);
			c->policy = xstrdup(p->t[p->i + 1].s);
			p->i += 2;
		} else if (is(t, "devices") || is(t, "device")) {
			chain_devices(p, c);
			int rc = skip_stmt(p);
			if (rc < 0)
				return rc;
		} else if (is(t, "comment")) {
			int rc = skip_stmt(p);
			if (rc < 0)
				return rc;
		} else {
			int rc = parse_rule(p, c, NULL, false);
			if (rc < 0)
				return rc;
		}
	}
	return fail(p, "chain block without a closing brace");
}

static void parse_set_body(struct parser *p, struct nft_table *tb, const char *name)
{
	tb->sets = xgrow(tb->sets, tb->n_sets, sizeof(*tb->sets));
	struct nft_set *s = &tb->sets[tb->n_sets++];
	*s = (struct nft_set){.name = xstrdup(name)};
	int depth = 1;
	for (; p->i < p->n && depth; p->i++) {
		const struct nft_tok *t = &p->t[p->i];
		if (is(t, "{"))
			depth++;
		else if (is(t, "}"))
			depth--;
		else if (depth == 1 && (is(t, "dynamic") || is(t, "timeout")))
			s->dynamic = true;
		else if (depth == 2 && !is(t, ",") && !is(t, "\n")) {
			s->elems = xgrow(s->elems, s->n_elems, sizeof(*s->elems));
			tok_copy(&s->elems[s->n_elems++], t);
		}
	}
}

static int parse_table_body(struct parser *p, struct nft_table *tb)
{
	while (p->i < p->n) {
		const struct nft_tok *t = &p->t[p->i];
		if (is(t, "\n") || is(t, ";")) {
			p->i++;
		} else if (is(t, "}")) {
			p->i++;
			return 0;
		} else if (is(t, "chain") && p->i + 2 < p->n && is(&p->t[p->i + 2], "{")) {
			struct nft_chain *c = get_chain(tb, p->t[p->i + 1].s, t->line, t->off);
			p->i += 3;
			int rc = parse_chain_body(p, c);
			if (rc < 0)
				return rc;
		} else if ((is(t, "set") || is(t, "map")) && p->i + 2 < p->n &&
			   is(&p->t[p->i + 2], "{")) {
			const char *name = p->t[p->i + 1].s;
			p->i += 3;
			parse_set_body(p, tb, name);
		} else {
			int rc = skip_stmt(p);
			if (rc < 0)
				return rc;
		}
	}
	return fail(p, "table block without a closing brace");
}

/* "[family] name" at p->i; family defaults to ip. */
static void family_name(struct parser *p, const char **fam, const char **name)
{
	*fam = "ip";
	*name = "";
	if (p->i < p->n && is_family(&p->t[p->i]) && p->i + 1 < p->n && !is(&p->t[p->i + 1], "{") &&
	    !is(&p->t[p->i + 1], "\n"))
		*fam = p->t[p->i++].s;
	if (p->i < p->n)
		*name = p->t[p->i++].s;
}

/* Note the first construct outside the model; the analysis then gives no verdict. */
static void outside(struct parser *p, const struct nft_tok *at, char *what)
{
	if (!p->f->unknown)
		p->f->unknown = xasprintf("line %u: %s", at->line, what);
	free(what);
}

static struct nft_set *find_set(struct nft_table *tb, const char *name)
{
	for (size_t i = 0; tb && i < tb->n_sets; i++)
		if (!strcmp(tb->sets[i].name, name))
			return &tb->sets[i];
	return NULL;
}

/* "flush chain": its rules so far are gone; a rule added to its block later stays. */
static void chain_flush(struct nft_chain *ch)
{
	ch->flushed = true;
	for (size_t r = 0; r < ch->n_rules; r++)
		ch->rules[r].dead = true;
}

/* "delete", "destroy", "flush" of what the file declared before: the kernel's state after
 * the file loads is what the analysis sees. */
static int parse_removal(struct parser *p, const struct nft_tok *verb, const struct nft_tok *obj)
{
	const char *fam, *name;
	bool flush = is(verb, "flush");
	if (is(obj, "ruleset")) {
		for (size_t i = 0; i < p->f->n_tables; i++)
			if (!p->i || p->i >= p->n || !is_family(&p->t[p->i]) ||
			    !strcmp(p->f->tables[i].family, p->t[p->i].s))
				p->f->tables[i].dead = true;
		return skip_stmt(p);
	}
	if (is(obj, "table") || is(obj, "chain") || is(obj, "set") || is(obj, "map") ||
	    is(obj, "element")) {
		family_name(p, &fam, &name);
		struct nft_table *tb = find_table(p->f, fam, name);
		if (is(obj, "table")) {
			if (tb && !flush)
				tb->dead = true;
			for (size_t c = 0; tb && flush && c < tb->n_chains; c++)
				chain_flush(&tb->chains[c]);
			return skip_stmt(p);
		}
		const char *what = p->i < p->n ? p->t[p->i].s : "";
		if (is(obj, "chain")) {
			for (size_t c = 0; tb && c < tb->n_chains; c++) {
				struct nft_chain *ch = &tb->chains[c];
				if (ch->dead || strcmp(ch->name, what))
					continue;
				if (flush)
					chain_flush(ch);
				else
					ch->dead = true;
			}
			return skip_stmt(p);
		}
		/* a set's elements changed: what it holds is no longer known */
		struct nft_set *st = find_set(tb, what);
		if (st)
			st->dynamic = true;
		return skip_stmt(p);
	}
	outside(p, verb, xasprintf("\"%s %s\"", verb->s, obj->s));
	return skip_stmt(p);
}

static int parse_command(struct parser *p)
{
	const struct nft_tok *verb = &p->t[p->i++];
	if (p->i >= p->n)
		return 0;
	const struct nft_tok *obj = &p->t[p->i++];
	const char *fam, *name;
	if (is(verb, "delete") || is(verb, "destroy") || is(verb, "flush"))
		return parse_removal(p, verb, obj);
	if (is(verb, "replace") || is(verb, "rename")) {
		outside(p, verb, xasprintf("\"%s %s\"", verb->s, obj->s));
		return skip_stmt(p);
	}
	if (is(obj, "table")) {
		family_name(p, &fam, &name);
		struct nft_table *tb = get_table(p->f, fam, name, obj->line);
		if (p->i < p->n && is(&p->t[p->i], "{")) {
			p->i++;
			return parse_table_body(p, tb);
		}
		return skip_stmt(p);
	}
	if (is(obj, "element")) {
		family_name(p, &fam, &name);
		struct nft_set *st =
			find_set(find_table(p->f, fam, name), p->i < p->n ? p->t[p->i].s : "");
		if (st)
			st->dynamic = true;
		return skip_stmt(p);
	}
	if (is(obj, "chain") || is(obj, "rule")) {
		family_name(p, &fam, &name);
		struct nft_table *tb = get_table(p->f, fam, name, obj->line);
		if (p->i >= p->n)
			return fail(p, "chain name missing");
		struct nft_chain *c = get_chain(tb, p->t[p->i].s, obj->line, obj->off);
		p->i++;
		if (is(obj, "chain")) {
			if (p->i < p->n && is(&p->t[p->i], "{")) {
				p->i++;
				int rc = parse_chain_body(p, c);
				c->close = 0;
				return rc;
			}
			return skip_stmt(p);
		}
		/* "add rule t c position N ...", "handle N", "index N": the place is the
		 * kernel's */
		if (p->i < p->n && (is(&p->t[p->i], "position") || is(&p->t[p->i], "handle") ||
				    is(&p->t[p->i], "index"))) {
			outside(p, verb, xstrdup("a rule placed by position, handle or index"));
			return skip_stmt(p);
		}
		return parse_rule(p, c, verb, is(verb, "insert"));
	}
	return skip_stmt(p);
}

/* "table [family] name { ... }" at p->i. */
static int parse_table(struct parser *p)
{
	const struct nft_tok *t = &p->t[p->i++];
	const char *fam, *name;
	family_name(p, &fam, &name);
	struct nft_table *tb = get_table(p->f, fam, name, t->line);
	if (p->i < p->n && is(&p->t[p->i], "{")) {
		p->i++;
		return parse_table_body(p, tb);
	}
	return skip_stmt(p);
}

/* "define NAME = value" at p->i: the value's words, expanded where used. */
static int parse_define(struct parser *p)
{
	if (p->i + 2 >= p->n || !is(&p->t[p->i + 2], "="))
		return fail(p, "define without \"=\"");
	struct nft_file *f = p->f;
	f->defines = xgrow(f->defines, f->n_defines, sizeof(*f->defines));
	struct nft_define *d = &f->defines[f->n_defines++];
	*d = (struct nft_define){.name = xstrdup(p->t[p->i + 1].s)};
	p->i += 3;
	size_t s = p->i;
	int rc = skip_stmt(p);
	d->toks = xcalloc(p->i - s + 1, sizeof(*d->toks));
	for (size_t k = s; k < p->i; k++)
		if (!is(&p->t[k], "\n") && !is(&p->t[k], ";"))
			tok_copy(&d->toks[d->n_toks++], &p->t[k]);
	return rc;
}

/* "include PATH": noted, not followed. */
static int parse_include(struct parser *p)
{
	if (p->i + 1 < p->n)
		strv_push(&p->f->includes, p->t[p->i + 1].s);
	return skip_stmt(p);
}

static int parse_stray_brace(struct parser *p)
{
	return fail(p, "\"}\" without a block");
}

/* The statements of the file's top level, by their first word; anything else is skipped. */
static const struct {
	const char *word;
	int (*parse)(struct parser *p); /* called with p->i at the word */
} nft_top[] = {
	{"table", parse_table},
	{"define", parse_define},
	{"redefine", parse_define},
	{"include", parse_include},
	/* commands, applied in order: "add rule ...", "flush ruleset", ... */
	{"add", parse_command},
	{"create", parse_command},
	{"insert", parse_command},
	{"delete", parse_command},
	{"destroy", parse_command},
	{"flush", parse_command},
	{"replace", parse_command},
	{"rename", parse_command},
	{"}", parse_stray_brace},
};

static int parse_top(struct parser *p)
{
	const struct nft_tok *t = &p->t[p->i];
	if (is(t, "\n") || is(t, ";")) {
		p->i++;
		return 0;
	}
	for (size_t k = 0; k < ARRAY_SIZE(nft_top); k++)
		if (is(t, nft_top[k].word))
			return nft_top[k].parse(p);
	return skip_stmt(p);
}

int nftables_parse(const char *buf, size_t len, struct nft_file *out, unsigned *err_line,
		   char **err)
{
	struct lexer lx = {0};
	*out = (struct nft_file){0};
	*err_line = 0;
	*err = NULL;
	int rc = lex(buf, len, &lx, err_line, err);
	struct parser p = {.t = lx.v, .n = lx.n, .f = out};
	while (rc == 0 && p.i < p.n)
		rc = parse_top(&p);
	for (size_t i = 0; i < lx.n; i++)
		free(lx.v[i].s);
	free(lx.v);
	if (rc < 0) {
		if (p.err) {
			free(*err);
			*err = p.err;
			*err_line = p.err_line;
		}
		nftables_free(out);
	}
	return rc;
}

static void toks_free(struct nft_tok *t, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(t[i].s);
	free(t);
}

void nftables_free(struct nft_file *f)
{
	for (size_t i = 0; i < f->n_tables; i++) {
		struct nft_table *t = &f->tables[i];
		for (size_t j = 0; j < t->n_chains; j++) {
			struct nft_chain *c = &t->chains[j];
			for (size_t k = 0; k < c->n_rules; k++)
				toks_free(c->rules[k].toks, c->rules[k].n_toks);
			free(c->rules);
			free(c->name);
			free(c->hook);
			free(c->policy);
			free(c->type);
		}
		for (size_t j = 0; j < t->n_sets; j++) {
			toks_free(t->sets[j].elems, t->sets[j].n_elems);
			free(t->sets[j].name);
		}
		free(t->chains);
		free(t->sets);
		free(t->family);
		free(t->name);
	}
	free(f->tables);
	for (size_t i = 0; i < f->n_defines; i++) {
		toks_free(f->defines[i].toks, f->defines[i].n_toks);
		free(f->defines[i].name);
	}
	free(f->defines);
	strv_free(&f->includes);
	free(f->unknown);
	*f = (struct nft_file){0};
}

void nft_fixes_free(struct nft_fixes *f)
{
	for (size_t i = 0; i < f->n; i++)
		free(f->v[i].why);
	free(f->v);
	free(f->note);
	free(f->nd_note);
	*f = (struct nft_fixes){0};
}

/* ---- what a rule matches ---- */

struct neval {
	enum fw_class cls;
	bool peer_within, port_within;
	const char *verdict; /* accept drop reject jump goto return; NULL: none */
	const char *target;
};

struct ectx {
	const struct nft_file *f;
	const struct nft_table *tb;
	const struct fw_scope *s;
	enum fw_kind k;
	bool out;
	bool no_ct; /* ingress, egress, bridge: conntrack has not seen the packet */
};

/* A value: "{ a, b }", "@set", "$define", or a word with ", word" continuations. The words go
 * to vals (borrowed pointers); false when it cannot be known (dynamic set, unknown name). */
static bool take_value(const struct ectx *e, const struct nft_tok *t, size_t n, size_t *i,
		       const char ***vals, size_t *nv, int depth)
{
	if (*i >= n)
		return false;
	const struct nft_tok *x = &t[*i];
	if (is(x, "{") && depth >= NFT_MAX_VALUE_DEPTH) {
		/* nested deeper than any real rule: skipped whole, without recursion (100,000
		 * nested braces would otherwise end the stack); the value is not known */
		size_t open = 0;
		for (; *i < n; (*i)++) {
			if (is(&t[*i], "{"))
				open++;
			else if (is(&t[*i], "}") && --open == 0)
				break;
		}
		if (*i < n)
			(*i)++;
		return false;
	}
	if (is(x, "{")) {
		bool ok = true;
		for ((*i)++; *i < n && !is(&t[*i], "}"); (*i)++) {
			if (is(&t[*i], ","))
				continue;
			if (t[*i].s[0] == '$' || t[*i].s[0] == '@' || is(&t[*i], "{")) {
				size_t j = *i;
				ok &= take_value(e, t, n, &j, vals, nv, depth + 1);
				*i = j - 1;
				continue;
			}
			*vals = xgrow(*vals, *nv, sizeof(**vals));
			(*vals)[(*nv)++] = t[*i].s;
		}
		(*i)++;
		return ok;
	}
	if (x->s[0] == '@') {
		(*i)++;
		for (size_t k = 0; e->tb && k < e->tb->n_sets; k++)
			if (!strcmp(e->tb->sets[k].name, x->s + 1)) {
				const struct nft_set *st = &e->tb->sets[k];
				for (size_t m = 0; m < st->n_elems; m++) {
					*vals = xgrow(*vals, *nv, sizeof(**vals));
					(*vals)[(*nv)++] = st->elems[m].s;
				}
				return !st->dynamic;
			}
		return false;
	}
	if (x->s[0] == '$') {
		(*i)++;
		for (size_t k = 0; depth < 8 && k < e->f->n_defines; k++)
			if (!strcmp(e->f->defines[k].name, x->s + 1)) {
				const struct nft_define *d = &e->f->defines[k];
				size_t j = 0;
				bool ok = true;
				while (j < d->n_toks) {
					ok &= take_value(e, d->toks, d->n_toks, &j, vals, nv,
							 depth + 1);
					if (j < d->n_toks && is(&d->toks[j], ","))
						j++;
					else
						break;
				}
				return ok;
			}
		return false;
	}
	for (;;) {
		*vals = xgrow(*vals, *nv, sizeof(**vals));
		(*vals)[(*nv)++] = t[*i].s;
		(*i)++;
		if (*i + 1 < n && is(&t[*i], ",")) {
			(*i)++;
			continue;
		}
		return true;
	}
}

static bool port_of(const char *s, unsigned *out)
{
	unsigned long v;
	if (isdigit((unsigned char)s[0]))
		return parse_uint(s, 0, 65535, &v) == 0 && (*out = (unsigned)v, true);
	return fw_service_port(s, out) == 0;
}

/* ports "22", "20-25"; op "<" etc. turns one value into a range. */
static enum fw_class ports_class(const struct fw_scope *s, const char **v, size_t nv,
				 const char *op, bool local, bool *within)
{
	unsigned(*r)[2] = xcalloc(nv + 1, sizeof(*r));
	size_t n = 0;
	bool ok = true, neg = op && (!strcmp(op, "!=") || !strcmp(op, "ne"));
	for (size_t i = 0; i < nv && ok; i++) {
		const char *dash = strchr(v[i], '-');
		unsigned lo, hi;
		if (dash) {
			char a[32];
			size_t al = (size_t)(dash - v[i]);
			if (al >= sizeof(a))
				ok = false;
			else {
				memcpy(a, v[i], al);
				a[al] = '\0';
				ok = port_of(a, &lo) && port_of(dash + 1, &hi) && lo <= hi;
			}
		} else {
			ok = port_of(v[i], &lo);
			hi = lo;
		}
		if (ok && op && nv == 1) {
			if (!strcmp(op, "<") || !strcmp(op, "lt"))
				hi = lo ? lo - 1 : 0, lo = 0;
			else if (!strcmp(op, "<=") || !strcmp(op, "le"))
				hi = lo, lo = 0;
			else if (!strcmp(op, ">") || !strcmp(op, "gt"))
				lo = lo + 1, hi = 65535;
			else if (!strcmp(op, ">=") || !strcmp(op, "ge"))
				hi = 65535;
		}
		if (ok) {
			r[n][0] = lo;
			r[n++][1] = hi;
		}
	}
	enum fw_class c = FW_SOME;
	if (ok && local) {
		c = fw_class_ports(s, (const unsigned(*)[2])r, n, neg);
		*within = !neg && fw_ports_within(s, (const unsigned(*)[2])r, n);
	} else if (ok) {
		c = fw_class_peer_ports((const unsigned(*)[2])r, n, neg);
	}
	free(r);
	return c;
}

static enum fw_class addrs_class(const struct fw_scope *s, const char **v, size_t nv, bool neg,
				 bool peer, bool *within)
{
	struct cidr *nets = xcalloc(nv + 1, sizeof(*nets));
	size_t n = 0;
	bool ok = true;
	for (size_t i = 0; i < nv && ok; i++) {
		const char *dash = strchr(v[i], '-');
		if (dash) /* a range: only sure when it covers nothing of interest */
			ok = false;
		else
			ok = cidr_parse(v[i], &nets[n++]) == 0;
	}
	enum fw_class c = FW_SOME;
	if (ok && peer) {
		c = fw_class_nets(s, nets, n, neg);
		if (!neg)
			*within = fw_nets_within_peers(s, nets, n);
	} else if (ok) {
		c = fw_class_local_nets(nets, n, neg);
	}
	free(nets);
	return c;
}

static bool vals_have(const char **v, size_t nv, const char *w)
{
	for (size_t i = 0; i < nv; i++)
		if (!strcasecmp(v[i], w))
			return true;
	return false;
}

static bool is_op(const struct nft_tok *t)
{
	static const char *ops[] = {"==", "!=", "eq", "ne", "<",  ">",
				    "<=", ">=", "lt", "gt", "le", "ge"};
	for (size_t i = 0; i < ARRAY_SIZE(ops); i++)
		if (is(t, ops[i]))
			return true;
	return false;
}

static unsigned flag_bits(const char *s)
{
	static const struct {
		const char *n;
		unsigned b;
	} f[] = {{"fin", 1},  {"syn", 2},  {"rst", 4},	{"psh", 8},
		 {"ack", 16}, {"urg", 32}, {"ecn", 64}, {"cwr", 128}};
	unsigned bits = 0;
	for (const char *p = s; *p;) {
		size_t l = strcspn(p, "|,()");
		for (size_t i = 0; i < ARRAY_SIZE(f); i++)
			if (strlen(f[i].n) == l && !strncmp(p, f[i].n, l))
				bits |= f[i].b;
		p += l;
		if (*p)
			p++;
	}
	return bits;
}

static bool is_stmt_start(const struct nft_tok *t);

/* Skip words up to the next statement start. */
static void skip_unknown(const struct nft_tok *t, size_t n, size_t *i)
{
	(*i)++;
	while (*i < n && !is_stmt_start(&t[*i]))
		(*i)++;
}

/* A rule with "vmap": which packets get which verdict is not followed; a drop or reject among
 * the verdicts can block any of them, a jump or goto is outside the model. */
static void vmap_eval(const struct ectx *e, const struct nft_tok *t, size_t n, size_t i,
		      struct neval *ev)
{
	bool block = false, jump = false, known = true;
	const struct nft_tok *v = t;
	size_t nv = 0;
	if (i < n && t[i].s[0] == '@') {
		known = false;
		for (size_t k = 0; e->tb && k < e->tb->n_sets; k++)
			if (!strcmp(e->tb->sets[k].name, t[i].s + 1)) {
				v = e->tb->sets[k].elems;
				nv = e->tb->sets[k].n_elems;
				known = !e->tb->sets[k].dynamic;
			}
	} else {
		v = t + i;
		nv = n - i;
	}
	for (size_t k = 0; k < nv; k++) {
		block |= is(&v[k], "drop") || is(&v[k], "reject") || is(&v[k], "queue");
		jump |= is(&v[k], "jump") || is(&v[k], "goto") || is(&v[k], "return");
	}
	ev->cls = FW_SOME;
	if (jump || !known) {
		ev->verdict = "unknown";
		ev->target = "vmap";
	} else if (block) {
		ev->verdict = "drop";
	}
}

/* One statement of a rule being evaluated: the handlers of nft_stmts[] start at word i (the
 * statement's first word), leave i past the statement and return the class of the scope's
 * packets it lets on to the next statement; a verdict goes to ev. */
struct nstmt {
	const struct ectx *e;
	const struct nft_tok *t; /* the rule's words */
	size_t n, i;
	struct neval *ev;
};

/* The operator and value of a match whose selector is the next `words` words. */
struct nvalue {
	const char *op; /* "==", "!=", "<", ...; NULL: none written */
	bool neg;
	const char **v; /* borrowed words; free(v) */
	size_t nv;
	bool known; /* false: a dynamic set, an unknown name */
};

static void nst_value(struct nstmt *st, size_t words, struct nvalue *x)
{
	st->i += words;
	x->op = st->i < st->n && is_op(&st->t[st->i]) ? st->t[st->i++].s : NULL;
	x->neg = x->op && (!strcmp(x->op, "!=") || !strcmp(x->op, "ne"));
	x->v = NULL;
	x->nv = 0;
	x->known = take_value(st->e, st->t, st->n, &st->i, &x->v, &x->nv, 0);
}

/* The words of a meta selector: "meta l4proto", or "l4proto" alone. */
static size_t nst_words(const struct nstmt *st)
{
	return is(&st->t[st->i], "meta") ? 2 : 1;
}

/* A match of ip or ip6 whose value is the scope's packets (or none of them): the other family's
 * header matches nothing of the scope; an order ("<") of addresses is not followed. */
static bool nst_ip_value(struct nstmt *st, struct nvalue *x, enum fw_class *c)
{
	bool fam_ok = is(&st->t[st->i], "ip") == (st->e->s->family == AF_INET);
	nst_value(st, 2, x);
	if (!fam_ok)
		*c = FW_NONE;
	else if (!x->known || (x->op && !x->neg && strcmp(x->op, "==") && strcmp(x->op, "eq")))
		*c = FW_SOME;
	else
		return true;
	return false;
}

/* ip saddr, ip6 daddr: the client's address (the server's own on the other side; the other
 * way round for sshd's replies). */
static enum fw_class nst_addr(struct nstmt *st)
{
	struct nvalue x;
	bool peer = !strcmp(st->t[st->i + 1].s, "saddr") != st->e->out, w = false;
	enum fw_class c;
	if (nst_ip_value(st, &x, &c)) {
		c = addrs_class(st->e->s, x.v, x.nv, x.neg, peer, &w);
		if (peer && w)
			st->ev->peer_within = true;
	}
	free(x.v);
	return c;
}

/* ip protocol, ip6 nexthdr: TCP is every packet of the connection, another protocol none. */
static enum fw_class nst_ip_proto(struct nstmt *st)
{
	struct nvalue x;
	enum fw_class c;
	if (nst_ip_value(st, &x, &c))
		c = fw_negate(vals_have(x.v, x.nv, "tcp") || vals_have(x.v, x.nv, "6") ? FW_ALL
										       : FW_NONE,
			      x.neg);
	free(x.v);
	return c;
}

/* ip version: the header's family already says it. */
static enum fw_class nst_ip_version(struct nstmt *st)
{
	struct nvalue x;
	enum fw_class c;
	if (nst_ip_value(st, &x, &c))
		c = FW_ALL;
	free(x.v);
	return c;
}

/* tcp dport, th sport: sshd's port (the client's for "sport"; the other way round for sshd's
 * replies); a port of another protocol matches no packet of the connection. */
static enum fw_class nst_port(struct nstmt *st)
{
	const struct nft_tok *a = &st->t[st->i];
	bool tcpish = is(a, "tcp") || is(a, "th");
	bool local = !strcmp(st->t[st->i + 1].s, "dport") != st->e->out, w = false;
	struct nvalue x;
	enum fw_class c;
	nst_value(st, 2, &x);
	if (!tcpish)
		c = FW_NONE;
	else if (!x.known)
		c = FW_SOME;
	else
		c = ports_class(st->e->s, x.v, x.nv, x.op, local, &w);
	if (local && w && is(a, "tcp"))
		st->ev->port_within = true;
	free(x.v);
	return c;
}

/* tcp flags: "& (syn|ack) == syn", "== syn", "syn / syn,ack", "syn" against the flags of the
 * packets of the kind; another form skips its words. */
static enum fw_class nst_tcp_flags(struct nstmt *st)
{
	const struct nft_tok *t = st->t;
	size_t n = st->n, i = st->i + 2;
	enum fw_kind k = st->e->k;
	enum fw_class c = FW_SOME;
	bool parsed = true;
	if (i + 4 < n && is(&t[i], "&") && is(&t[i + 1], "(")) {
		size_t j = i + 2;
		struct buf m = {0};
		while (j < n && !is(&t[j], ")"))
			buf_puts(&m, t[j++].s);
		if (j + 2 < n && (is(&t[j + 1], "==") || is(&t[j + 1], "!="))) {
			unsigned mask = flag_bits(m.data ? m.data : "");
			unsigned want = flag_bits(t[j + 2].s);
			c = fw_negate(fw_class_tcp_flags(k, mask, want, false),
				      is(&t[j + 1], "!="));
			i = j + 3;
		} else
			parsed = false;
		buf_free(&m);
	} else if (i < n && (is(&t[i], "==") || is(&t[i], "!=")) && i + 1 < n &&
		   !is(&t[i + 1], "{")) {
		c = fw_negate(fw_class_tcp_flags(k, 0xff, flag_bits(t[i + 1].s), false),
			      is(&t[i], "!="));
		i += 2;
	} else if (i < n && !is(&t[i], "{") && !is_op(&t[i])) {
		unsigned v = flag_bits(t[i].s);
		if (i + 2 < n && is(&t[i + 1], "/")) {
			c = fw_class_tcp_flags(k, flag_bits(t[i + 2].s), v, false);
			i += 3;
		} else {
			c = fw_class_tcp_flags(k, v, v, true);
			i++;
		}
	} else {
		parsed = false;
	}
	st->i = i;
	if (!parsed)
		skip_unknown(t, n, &st->i);
	return c;
}

/* meta l4proto (or l4proto alone): TCP is every packet of the connection. */
static enum fw_class nst_l4proto(struct nstmt *st)
{
	struct nvalue x;
	nst_value(st, nst_words(st), &x);
	enum fw_class c =
		!x.known ? FW_SOME
			 : fw_negate(vals_have(x.v, x.nv, "tcp") || vals_have(x.v, x.nv, "6")
					     ? FW_ALL
					     : FW_NONE,
				     x.neg);
	free(x.v);
	return c;
}

/* meta nfproto: the scope's family (ipv4, ipv6) in an inet table. */
static enum fw_class nst_nfproto(struct nstmt *st)
{
	bool v4 = st->e->s->family == AF_INET;
	struct nvalue x;
	nst_value(st, nst_words(st), &x);
	enum fw_class c =
		!x.known ? FW_SOME
			 : fw_negate(vals_have(x.v, x.nv, v4 ? "ipv4" : "ipv6") ? FW_ALL : FW_NONE,
				     x.neg);
	free(x.v);
	return c;
}

/* meta protocol: the ethertype (ip, ip6) of the scope's family. */
static enum fw_class nst_meta_protocol(struct nstmt *st)
{
	bool v4 = st->e->s->family == AF_INET;
	struct nvalue x;
	nst_value(st, 2, &x);
	enum fw_class c =
		!x.known ? FW_SOME
			 : fw_negate(vals_have(x.v, x.nv, v4 ? "ip" : "ip6") ? FW_ALL : FW_NONE,
				     x.neg);
	free(x.v);
	return c;
}

/* meta pkttype: the connection is unicast to the host; broadcast and multicast are none of
 * it. */
static enum fw_class nst_pkttype(struct nstmt *st)
{
	struct nvalue x;
	nst_value(st, nst_words(st), &x);
	enum fw_class c = FW_SOME;
	if (!x.known)
		c = FW_SOME;
	else if (vals_have(x.v, x.nv, "host"))
		c = fw_negate(FW_ALL, x.neg);
	else if (vals_have(x.v, x.nv, "broadcast") || vals_have(x.v, x.nv, "multicast"))
		c = fw_negate(FW_NONE, x.neg);
	free(x.v);
	return c;
}

/* iifname, meta oif, ...: the device the packet came in by (went out by, for replies); only
 * lo is sure: the protected clients do not come over loopback. */
static enum fw_class nst_iface(struct nstmt *st)
{
	const char *key = nst_words(st) == 2 ? st->t[st->i + 1].s : st->t[st->i].s;
	bool mine = (key[0] == 'i') != st->e->out;
	struct nvalue x;
	nst_value(st, nst_words(st), &x);
	enum fw_class c = FW_SOME;
	if (x.known && mine && x.nv == 1 && !strcmp(x.v[0], "lo"))
		c = fw_negate(FW_NONE, x.neg);
	free(x.v);
	return c;
}

/* A conntrack key's value list (after "ct KEY") against the one value this packet has; not
 * known where conntrack has not seen the packet yet. */
static enum fw_class nst_ct_value(struct nstmt *st, const char *want)
{
	struct nvalue x;
	nst_value(st, 2, &x);
	enum fw_class c = x.known && !st->e->no_ct
				  ? fw_negate(vals_have(x.v, x.nv, want) ? FW_ALL : FW_NONE, x.neg)
				  : FW_SOME;
	free(x.v);
	return c;
}

/* ct state: new for the client's first packet, established after. */
static enum fw_class nst_ct_state(struct nstmt *st)
{
	return nst_ct_value(st, st->e->k == FW_IN_NEW ? "new" : "established");
}

/* ct direction: original for the client's packets, reply for sshd's. */
static enum fw_class nst_ct_direction(struct nstmt *st)
{
	return nst_ct_value(st, st->e->out ? "reply" : "original");
}

/* A header of another protocol (udp, icmp, esp, ...): no packet of the connection has it. */
static enum fw_class nst_not_tcp(struct nstmt *st)
{
	st->i++;
	return FW_NONE;
}

/* Anything else (limit, quota, meter, ct count, ct mark, set updates, ...): may match some of
 * the scope's packets; its words go up to the next statement. */
static enum fw_class nst_some(struct nstmt *st)
{
	skip_unknown(st->t, st->n, &st->i);
	return FW_SOME;
}

/* fib daddr type local: every packet to sshd is addressed to the host (the check does not
 * apply to sshd's replies; another fib lookup is not known). */
static enum fw_class nst_fib(struct nstmt *st)
{
	const struct nft_tok *t = st->t;
	size_t i = st->i;
	if (!(i + 4 < st->n && is(&t[i + 1], "daddr") && is(&t[i + 2], "type") &&
	      is(&t[i + 3], "local") && !st->e->out))
		return nst_some(st);
	st->i += 4;
	return FW_ALL;
}

/* A statement that changes the packet's path in ways outside the model (no conntrack, a
 * SYN proxy, source NAT): the verdict is unknown. */
static enum fw_class nst_outside(struct nstmt *st)
{
	st->ev->verdict = "unknown";
	st->ev->target = st->t[st->i].s;
	st->i = st->n;
	return FW_ALL;
}

/* redirect, dnat, tproxy, fwd: the connection is sent away from sshd, which blocks it. */
static enum fw_class nst_divert(struct nstmt *st)
{
	st->ev->verdict = "divert";
	st->ev->target = st->t[st->i].s;
	st->i = st->n;
	return FW_ALL;
}

/* queue: nothing listens at boot; with bypass, the program that will decides. A block. */
static enum fw_class nst_queue(struct nstmt *st)
{
	st->ev->verdict = "queue";
	st->i = st->n;
	return FW_ALL;
}

/* counter, log, comment, dup: no match; their options are words up to the next statement. */
static enum fw_class nst_passive(struct nstmt *st)
{
	skip_unknown(st->t, st->n, &st->i);
	while (st->i < st->n && (is(&st->t[st->i], "packets") || is(&st->t[st->i], "bytes")))
		skip_unknown(st->t, st->n, &st->i);
	return FW_ALL;
}

/* accept, drop, reject, return: the rule's verdict. */
static enum fw_class nst_verdict(struct nstmt *st)
{
	st->ev->verdict = st->t[st->i].s;
	st->i = st->n;
	return FW_ALL;
}

/* jump CHAIN, goto CHAIN: the chain decides (without a chain name: not known). */
static enum fw_class nst_jump(struct nstmt *st)
{
	if (st->i + 1 >= st->n)
		return nst_some(st);
	st->ev->verdict = st->t[st->i].s;
	st->ev->target = st->t[st->i + 1].s;
	st->i = st->n;
	return FW_ALL;
}

/* continue: the next statement decides. */
static enum fw_class nst_continue(struct nstmt *st)
{
	st->i++;
	return FW_ALL;
}

/* The statements of a rule, by their first word and field (NULL: any); the first row that
 * fits wins, a statement that fits none is nst_some. Each handler says what the statement is
 * for a connection to sshd's port. The words of the rows are also where the words of a
 * statement outside the model end (is_stmt_start). */
static const struct nft_stmt {
	const char *word, *field;
	enum fw_class (*eval)(struct nstmt *st);
} nft_stmts[] = {
	/* addresses and the network header */
	{"ip", "saddr", nst_addr},
	{"ip", "daddr", nst_addr},
	{"ip", "protocol", nst_ip_proto},
	{"ip", "nexthdr", nst_ip_proto},
	{"ip", "version", nst_ip_version},
	{"ip6", "saddr", nst_addr},
	{"ip6", "daddr", nst_addr},
	{"ip6", "protocol", nst_ip_proto},
	{"ip6", "nexthdr", nst_ip_proto},
	{"ip6", "version", nst_ip_version},
	/* ports: sshd's, the client's */
	{"tcp", "dport", nst_port},
	{"tcp", "sport", nst_port},
	{"th", "dport", nst_port},
	{"th", "sport", nst_port},
	{"udplite", "dport", nst_port},
	{"udplite", "sport", nst_port},
	{"tcp", "flags", nst_tcp_flags},
	/* meta data of the packet */
	{"meta", "l4proto", nst_l4proto},
	{"meta", "nfproto", nst_nfproto},
	{"meta", "protocol", nst_meta_protocol},
	{"meta", "pkttype", nst_pkttype},
	{"meta", "iif", nst_iface},
	{"meta", "iifname", nst_iface},
	{"meta", "oif", nst_iface},
	{"meta", "oifname", nst_iface},
	{"l4proto", NULL, nst_l4proto},
	{"nfproto", NULL, nst_nfproto},
	{"pkttype", NULL, nst_pkttype},
	{"iif", NULL, nst_iface},
	{"iifname", NULL, nst_iface},
	{"oif", NULL, nst_iface},
	{"oifname", NULL, nst_iface},
	/* conntrack */
	{"ct", "state", nst_ct_state},
	{"ct", "direction", nst_ct_direction},
	{"ct", "count", nst_some},
	/* other protocols' headers */
	{"udp", NULL, nst_not_tcp},
	{"sctp", NULL, nst_not_tcp},
	{"dccp", NULL, nst_not_tcp},
	{"icmp", NULL, nst_not_tcp},
	{"icmpv6", NULL, nst_not_tcp},
	{"igmp", NULL, nst_not_tcp},
	{"esp", NULL, nst_not_tcp},
	{"ah", NULL, nst_not_tcp},
	{"fib", NULL, nst_fib},
	/* rates and state shared by many packets: some */
	{"limit", NULL, nst_some},
	{"quota", NULL, nst_some},
	{"meter", NULL, nst_some},
	/* matches and statements not followed further: some */
	{"mark", NULL, nst_some},
	{"ether", NULL, nst_some},
	{"vlan", NULL, nst_some},
	{"rt", NULL, nst_some},
	{"socket", NULL, nst_some},
	{"ipsec", NULL, nst_some},
	{"osf", NULL, nst_some},
	{"numgen", NULL, nst_some},
	{"jhash", NULL, nst_some},
	{"symhash", NULL, nst_some},
	{"add", NULL, nst_some},
	{"update", NULL, nst_some},
	{"set", NULL, nst_some},
	{"flow", NULL, nst_some},
	/* statements outside the model, and those that send the connection away */
	{"notrack", NULL, nst_outside},
	{"synproxy", NULL, nst_outside},
	{"snat", NULL, nst_outside},
	{"masquerade", NULL, nst_outside},
	{"redirect", NULL, nst_divert},
	{"dnat", NULL, nst_divert},
	{"tproxy", NULL, nst_divert},
	{"fwd", NULL, nst_divert},
	{"queue", NULL, nst_queue},
	/* no match, no verdict */
	{"counter", NULL, nst_passive},
	{"log", NULL, nst_passive},
	{"comment", NULL, nst_passive},
	{"dup", NULL, nst_passive},
	{"continue", NULL, nst_continue},
	/* verdicts */
	{"accept", NULL, nst_verdict},
	{"drop", NULL, nst_verdict},
	{"reject", NULL, nst_verdict},
	{"return", NULL, nst_verdict},
	{"jump", NULL, nst_jump},
	{"goto", NULL, nst_jump},
};

/* Does the word start a statement? The words of a statement outside the model end there. */
static bool is_stmt_start(const struct nft_tok *t)
{
	for (size_t i = 0; !t->quoted && i < ARRAY_SIZE(nft_stmts); i++)
		if (!strcmp(t->s, nft_stmts[i].word))
			return true;
	return false;
}

static const struct nft_stmt *nft_stmt_find(const struct nft_tok *a, const char *b)
{
	for (size_t i = 0; i < ARRAY_SIZE(nft_stmts); i++)
		if (!strcmp(a->s, nft_stmts[i].word) &&
		    (!nft_stmts[i].field || !strcmp(b, nft_stmts[i].field)))
			return &nft_stmts[i];
	return NULL;
}

/* The class of the scope's packets the rule matches, and its verdict: the statements in
 * order, each narrowing the class, until one gives the verdict or none can match. */
static void rule_eval(const struct ectx *e, const struct nft_rule *r, struct neval *ev)
{
	struct nstmt st = {.e = e, .t = r->toks, .n = r->n_toks, .ev = ev};
	*ev = (struct neval){.cls = FW_ALL, .peer_within = !e->s->n_peers};
	/* a verdict map: any of its verdicts may apply */
	for (size_t k = 0; k < st.n; k++)
		if (is(&st.t[k], "vmap")) {
			vmap_eval(e, st.t, st.n, k + 1, ev);
			return;
		}
	while (st.i < st.n && ev->cls != FW_NONE) {
		const struct nft_tok *a = &st.t[st.i];
		enum fw_class c;
		if (a->quoted || is(a, ".")) {
			c = FW_SOME;
			st.i++;
		} else {
			const struct nft_stmt *row =
				nft_stmt_find(a, st.i + 1 < st.n ? st.t[st.i + 1].s : "");
			c = row ? row->eval(&st) : nst_some(&st);
		}
		ev->cls = fw_and(ev->cls, c);
	}
}

static bool is_icmpv6(const char **v, size_t nv)
{
	return vals_have(v, nv, "ipv6-icmp") || vals_have(v, nv, "icmpv6") ||
	       vals_have(v, nv, "58");
}

/* Evaluate a rule for IPv6 neighbour discovery (ICMPv6 135/136 to and from the peers or their
 * router, link-local or not, untracked by conntrack): without it no IPv6 connection starts.
 * Coarse: only what surely cannot match it is told apart. */
static void nd_eval(const struct ectx *e, const struct nft_rule *r, struct neval *ev)
{
	const struct nft_tok *t = r->toks;
	size_t n = r->n_toks, i = 0;
	*ev = (struct neval){.cls = FW_ALL};
	while (i < n && ev->cls != FW_NONE) {
		const struct nft_tok *a = &t[i];
		const char *b = i + 1 < n ? t[i + 1].s : "";
		enum fw_class c = FW_ALL;
		bool sel = is(a, "ip") || is(a, "ip6") || is(a, "meta") || is(a, "icmpv6") ||
			   is(a, "ct") || is(a, "l4proto") || is(a, "nfproto") || is(a, "iif") ||
			   is(a, "iifname") || is(a, "oif") || is(a, "oifname");
		if (a->quoted) {
			c = FW_SOME;
			i++;
		} else if (is(a, "tcp") || is(a, "udp") || is(a, "th") || is(a, "sctp") ||
			   is(a, "dccp") || is(a, "udplite") || is(a, "icmp") || is(a, "igmp") ||
			   is(a, "esp") || is(a, "ah")) {
			c = FW_NONE; /* a field of another protocol */
			i = n;
		} else if (sel) {
			const char *key = b;
			if (is(a, "l4proto") || is(a, "nfproto") || is(a, "iif") ||
			    is(a, "iifname") || is(a, "oif") || is(a, "oifname"))
				key = a->s, i += 1;
			else
				i += 2;
			const char *op = i < n && is_op(&t[i]) ? t[i++].s : NULL;
			bool neg = op && (!strcmp(op, "!=") || !strcmp(op, "ne"));
			const char **v = NULL;
			size_t nv = 0;
			bool known = take_value(e, t, n, &i, &v, &nv, 0);
			c = FW_SOME;
			if (is(a, "ip") && strcmp(key, "version"))
				c = FW_NONE;
			else if (!known)
				c = FW_SOME;
			else if (!strcmp(key, "l4proto") || !strcmp(key, "nexthdr"))
				c = fw_negate(is_icmpv6(v, nv) ? FW_ALL : FW_NONE, neg);
			else if (!strcmp(key, "nfproto"))
				c = fw_negate(vals_have(v, nv, "ipv6") ? FW_ALL : FW_NONE, neg);
			else if (is(a, "icmpv6") && !strcmp(key, "type"))
				c = vals_have(v, nv, "nd-neighbor-solicit") ||
						    vals_have(v, nv, "nd-neighbor-advert") ||
						    vals_have(v, nv, "135") ||
						    vals_have(v, nv, "136")
					    ? FW_SOME
					    : fw_negate(FW_NONE, neg);
			else if (key[0] == 'i' || key[0] == 'o')
				c = nv == 1 && !strcmp(v[0], "lo") ? fw_negate(FW_NONE, neg)
								   : FW_SOME;
			free(v);
		} else if (is(a, "accept") || is(a, "drop") || is(a, "reject") || is(a, "return") ||
			   is(a, "queue")) {
			ev->verdict = is(a, "queue") ? "queue" : a->s;
			i = n;
		} else if ((is(a, "jump") || is(a, "goto")) && i + 1 < n) {
			ev->verdict = a->s;
			ev->target = t[i + 1].s;
			i = n;
		} else if (is(a, "vmap") || is(a, "fwd")) {
			ev->verdict = "unknown";
			ev->target = a->s;
			i = n;
		} else {
			c = FW_SOME;
			skip_unknown(t, n, &i);
		}
		ev->cls = fw_and(ev->cls, c);
	}
}

/* ---- the walk ---- */

struct nwalk {
	const char *buf;
	size_t len;
	const struct nft_file *f;
	const struct fw_scope *s;
	struct nft_fixes *fx;
	enum fw_kind k;
	bool out;
	bool path_peer, path_port;
	bool no_ct;
	bool nd;       /* walking IPv6 neighbour discovery, not the TCP connection */
	size_t **refs; /* chain_refs() */
	size_t path[NFT_MAX_DEPTH + 1]; /* chains being walked: a jump back is a loop */
	size_t depth, steps, max_steps;
	bool stop;
};

static bool nfix_at(const struct nft_fixes *fx, enum nft_fix_kind kind, size_t t, size_t c,
		    size_t r, int family, bool out)
{
	for (size_t i = 0; i < fx->n; i++) {
		const struct nft_fix *x = &fx->v[i];
		if (x->kind != kind || x->table != t || x->chain != c || x->rule != r)
			continue;
		if (kind == NFT_FIX_COMMENT)
			return true;
		if (x->out == out && (x->every || x->family == family))
			return true;
	}
	return false;
}

/* Does the rule stand on lines of its own (blanks before it, blanks, ";" or a comment after)? */
static bool rule_own_lines(const char *buf, size_t len, const struct nft_rule *r, bool before)
{
	for (size_t o = r->off; o > 0 && buf[o - 1] != '\n'; o--)
		if (buf[o - 1] != ' ' && buf[o - 1] != '\t')
			return false;
	if (before)
		return true;
	for (size_t o = r->end; o < len && buf[o] != '\n' && buf[o] != '#'; o++)
		if (buf[o] != ' ' && buf[o] != '\t' && buf[o] != ';' && buf[o] != '\r')
			return false;
	return true;
}

static void nunknown(struct nwalk *w, char *note);

static void nadd_fix(struct nwalk *w, enum nft_fix_kind kind, size_t t, size_t c, size_t r,
		     char *why)
{
	const struct nft_chain *ch = &w->f->tables[t].chains[c];
	struct nft_fixes *fx = w->fx;
	if (w->nd) {
		if (!fx->nd_note)
			fx->nd_note = xasprintf(
				"line %u: chain %s can drop IPv6 neighbour discovery (ICMPv6), "
				"without "
				"which no IPv6 connection starts; that is outside the model",
				r == SIZE_MAX ? ch->line : ch->rules[r].line, ch->name);
		free(why);
		w->stop = true;
		return;
	}
	if (kind == NFT_FIX_COMMENT && !rule_own_lines(w->buf, w->len, &ch->rules[r], false))
		kind = NFT_FIX_INSERT;
	if (kind == NFT_FIX_INSERT && r != SIZE_MAX &&
	    !rule_own_lines(w->buf, w->len, &ch->rules[r], true)) {
		fx->unsupported = true;
		free(fx->note);
		fx->note = xasprintf("line %u: the rule shares its line with another statement; "
				     "not changed: %s",
				     ch->rules[r].line, why);
		free(why);
		w->stop = true;
		return;
	}
	if (kind == NFT_FIX_INSERT && r == SIZE_MAX && ch->flushed) {
		fx->unsupported = true;
		free(fx->note);
		fx->note = xasprintf("chain %s is flushed after its block; not changed: %s",
				     ch->name, why);
		free(why);
		w->stop = true;
		return;
	}
	if (kind == NFT_FIX_INSERT && (r == SIZE_MAX ? !ch->close : ch->rules[r].from_command)) {
		fx->unsupported = true;
		free(fx->note);
		fx->note = xasprintf("chain %s is built by \"add rule\" commands; not changed: %s",
				     ch->name, why);
		free(why);
		w->stop = true;
		return;
	}
	if (fx->n == fx->cap) {
		fx->cap = fx->cap ? 2 * fx->cap : 8;
		fx->v = xrealloc(fx->v, fx->cap * sizeof(*fx->v));
	}
	fx->v[fx->n++] =
		(struct nft_fix){.kind = kind,
				 .table = t,
				 .chain = c,
				 .rule = r,
				 .family = w->s->family,
				 .out = w->out,
				 .every = !w->s->n_peers && !strcmp(w->f->tables[t].family, "inet"),
				 .why = why};
}

static const char *nkind_text(enum fw_kind k)
{
	return k == FW_IN_NEW	? "new connections to sshd"
	       : k == FW_IN_EST ? "the client's packets of established sshd connections"
				: "sshd's replies";
}

/* How many live rules of each table jump or go to each of its chains (a verdict map's jumps
 * count too): refs[t][c]. */
static size_t **chain_refs(const struct nft_file *f)
{
	size_t **refs = xcalloc(f->n_tables + 1, sizeof(*refs));
	for (size_t t = 0; t < f->n_tables; t++) {
		const struct nft_table *tb = &f->tables[t];
		refs[t] = xcalloc(tb->n_chains + 1, sizeof(**refs));
		for (size_t c = 0; c < tb->n_chains; c++)
			for (size_t r = 0; !tb->chains[c].dead && r < tb->chains[c].n_rules; r++) {
				const struct nft_rule *ru = &tb->chains[c].rules[r];
				for (size_t k = 0; !ru->dead && k + 1 < ru->n_toks; k++) {
					if (!is(&ru->toks[k], "jump") && !is(&ru->toks[k], "goto"))
						continue;
					for (size_t d = 0; d < tb->n_chains; d++)
						if (!tb->chains[d].dead &&
						    !strcmp(tb->chains[d].name,
							    ru->toks[k + 1].s)) {
							refs[t][d]++;
							break;
						}
				}
			}
	}
	return refs;
}

static void nunknown(struct nwalk *w, char *note)
{
	if (!w->fx->unsupported) {
		w->fx->unsupported = true;
		free(w->fx->note);
		w->fx->note = note;
	} else {
		free(note);
	}
	w->stop = true;
}

/* Packets that leave a base chain early ("return", or the end of a chain reached by "goto")
 * get its policy. True when the walk of the chain ends here (*res says how). */
static bool nleave(struct nwalk *w, size_t t, size_t ci, size_t r, enum fw_class cls,
		   const char *how, bool *res)
{
	const struct nft_chain *ch = &w->f->tables[t].chains[ci];
	if (!strcmp(ch->policy, "drop")) {
		nadd_fix(w, NFT_FIX_INSERT, t, ci, r,
			 xasprintf("%s leaves chain %s, whose policy drop drops %s from protected "
				   "sources",
				   how, ch->name, nkind_text(w->k)));
		*res = !w->stop;
		return true;
	}
	if (cls == FW_ALL) {
		*res = true;
		return true;
	}
	return false;
}

/* The walk of one chain: where it is, and what it found so far. */
struct nchain {
	size_t t, ci;
	bool base;
	bool leaked; /* some packets left before the end (regular chains) */
	bool res;    /* the chain accepts every packet of the kind (the walk's answer) */
};

static bool nwalk_chain(struct nwalk *w, size_t t, size_t ci, bool base);

/* A rule that ends the chain for the packets it matches without accepting them ("return",
 * the end of a chain reached by "goto"). True when the walk of the chain ends here. */
static bool nwalk_leave(struct nwalk *w, struct nchain *c, size_t r, enum fw_class cls,
			const char *how)
{
	if (c->base)
		return nleave(w, c->t, c->ci, r, cls, how, &c->res);
	c->leaked = true;
	return cls == FW_ALL;
}

/* drop, reject, queue, or a divert (redirect, dnat, ...): the fix goes on this rule; commented
 * it is passed, an accept in front of it takes everything here. True when the walk ends. */
static bool nwalk_block(struct nwalk *w, struct nchain *c, size_t r, const struct neval *ev,
			bool peer, bool port)
{
	bool divert = !strcmp(ev->verdict, "divert");
	char *why = xasprintf("\"%s\" %s %s from protected sources%s",
			      divert ? ev->target : ev->verdict,
			      ev->cls == FW_ALL ? "blocks" : "can block", nkind_text(w->k),
			      divert ? " (they are sent away from sshd)" : "");
	enum nft_fix_kind kind = peer && port ? NFT_FIX_COMMENT : NFT_FIX_INSERT;
	nadd_fix(w, kind, c->t, c->ci, r, why);
	if (nfix_at(w->fx, NFT_FIX_INSERT, c->t, c->ci, r, w->s->family, w->out)) {
		c->res = !c->leaked;
		return true;
	}
	return w->stop;
}

/* jump or goto: the chain it names decides; what falls off the end of a goto chain leaves
 * this one. True when the walk of this chain ends. */
static bool nwalk_jump(struct nwalk *w, struct nchain *c, size_t r, const struct neval *ev,
		       bool peer, bool port)
{
	const struct nft_table *tb = &w->f->tables[c->t];
	size_t sub = SIZE_MAX;
	for (size_t k = 0; k < tb->n_chains; k++)
		if (!tb->chains[k].dead && !strcmp(tb->chains[k].name, ev->target))
			sub = k;
	if (sub == SIZE_MAX || sub == c->ci)
		return false;
	/* what the jump narrows holds inside only for a chain reached from nowhere else: a rule
	 * commented there is commented for every caller */
	bool sp = w->path_peer, spo = w->path_port;
	bool only = w->refs[c->t][sub] == 1;
	w->path_peer = only && peer;
	w->path_port = only && port;
	bool acc = nwalk_chain(w, c->t, sub, false);
	w->path_peer = sp;
	w->path_port = spo;
	if (w->stop)
		return true;
	if (acc) {
		if (ev->cls == FW_ALL) {
			c->res = !c->leaked;
			return true;
		}
	} else if (!strcmp(ev->verdict, "goto")) {
		return nwalk_leave(w, c, r, ev->cls, "\"goto\" to a chain that does not accept");
	}
	return false;
}

/* One rule of the chain. True when the walk of the chain ends at it (c->res says how). */
static bool nwalk_rule(struct nwalk *w, struct nchain *c, const struct ectx *e, size_t r)
{
	const struct nft_chain *ch = &w->f->tables[c->t].chains[c->ci];
	if (ch->rules[r].dead)
		return false;
	/* an accept added for the TCP connection does not take neighbour discovery */
	if (!w->nd && nfix_at(w->fx, NFT_FIX_INSERT, c->t, c->ci, r, w->s->family, w->out)) {
		c->res = !c->leaked;
		return true;
	}
	if (nfix_at(w->fx, NFT_FIX_COMMENT, c->t, c->ci, r, 0, false))
		return false;
	struct neval ev;
	if (w->nd)
		nd_eval(e, &ch->rules[r], &ev);
	else
		rule_eval(e, &ch->rules[r], &ev);
	if (ev.cls == FW_NONE || !ev.verdict)
		return false;
	bool peer = w->path_peer || ev.peer_within, port = w->path_port || ev.port_within;
	if (!strcmp(ev.verdict, "accept")) {
		if (ev.cls != FW_ALL)
			return false;
		c->res = !c->leaked;
		return true;
	}
	if (!strcmp(ev.verdict, "drop") || !strcmp(ev.verdict, "reject") ||
	    !strcmp(ev.verdict, "queue") || !strcmp(ev.verdict, "divert"))
		return nwalk_block(w, c, r, &ev, peer, port);
	if (!strcmp(ev.verdict, "unknown")) {
		nunknown(w, xasprintf("line %u: \"%s\" is outside the model", ch->rules[r].line,
				      ev.target));
		return true;
	}
	if (!strcmp(ev.verdict, "return"))
		return nwalk_leave(w, c, r, ev.cls, "\"return\"");
	if (ev.target)
		return nwalk_jump(w, c, r, &ev, peer, port);
	return false;
}

/* The end of the chain: an accept added there, or a base chain's policy. */
static void nwalk_end(struct nwalk *w, struct nchain *c)
{
	const struct nft_chain *ch = &w->f->tables[c->t].chains[c->ci];
	if (!w->nd && nfix_at(w->fx, NFT_FIX_INSERT, c->t, c->ci, SIZE_MAX, w->s->family, w->out)) {
		c->res = !c->leaked;
		return;
	}
	if (!c->base)
		return;
	if (!strcmp(ch->policy, "drop")) {
		nadd_fix(w, NFT_FIX_INSERT, c->t, c->ci, SIZE_MAX,
			 xasprintf("chain %s's policy drop drops %s from protected sources and no "
				   "rule accepts them",
				   ch->name, nkind_text(w->k)));
		c->res = !w->stop;
	} else {
		c->res = true;
	}
}

/* Does the chain accept every packet of the kind (a base chain: or let it pass to its
 * policy accept)? Adds the fixes that make it so. */
static bool nwalk_chain(struct nwalk *w, size_t t, size_t ci, bool base)
{
	const struct nft_table *tb = &w->f->tables[t];
	const struct nft_chain *ch = &tb->chains[ci];
	struct ectx e = {w->f, tb, w->s, w->k, w->out, w->no_ct};
	struct nchain c = {.t = t, .ci = ci, .base = base};
	if (w->depth >= NFT_MAX_DEPTH)
		return false;
	for (size_t k = 0; k < w->depth; k++)
		if (w->path[k] == ci)
			return false; /* nft refuses loops */
	w->path[w->depth++] = ci;
	bool ended = false;
	for (size_t r = 0; r < ch->n_rules && !w->stop && !ended; r++) {
		if (++w->steps > w->max_steps) {
			w->stop = true;
			break;
		}
		ended = nwalk_rule(w, &c, &e, r);
	}
	if (!ended && !w->stop)
		nwalk_end(w, &c);
	w->depth--;
	return c.res;
}

/* Which base chains a kind of packet passes: every one of them must accept it, whatever its
 * priority (an accept ends only its own chain). nat chains see a connection's first packet;
 * ingress and egress chains (netdev, and inet's ingress) see packets before conntrack. */
static bool chain_on_path(const struct nft_table *tb, const struct nft_chain *ch, int family,
			  enum fw_kind k, bool *no_ct)
{
	bool v4 = family == AF_INET, out = k == FW_OUT_EST;
	if (ch->dead || !ch->hook || ch->lo_only)
		return false;
	bool netdev = !strcmp(tb->family, "netdev"), bridge = !strcmp(tb->family, "bridge");
	if (!netdev && !bridge && strcmp(tb->family, "inet") &&
	    strcmp(tb->family, v4 ? "ip" : "ip6"))
		return false;
	bool in = !strcmp(ch->hook, "prerouting") || !strcmp(ch->hook, "input") ||
		  !strcmp(ch->hook, "ingress");
	bool o = !strcmp(ch->hook, "output") || !strcmp(ch->hook, "postrouting") ||
		 !strcmp(ch->hook, "egress");
	*no_ct =
		netdev || bridge || !strcmp(ch->hook, "ingress") || !strcmp(ch->hook, "egress") ||
		((!strcmp(ch->hook, "prerouting") || !strcmp(ch->hook, "output")) && ch->before_ct);
	if (ch->type && !strcmp(ch->type, "nat"))
		return k == FW_IN_NEW && in;
	return out ? o : in;
}

/* Can the rule drop a packet that is not IP (ARP: without it no connection starts)? */
static bool drops_non_ip(const struct nft_rule *r)
{
	static const char *ip_only[] = {"ip",	"ip6",	  "tcp",     "udp",	"th",
					"icmp", "icmpv6", "l4proto", "sctp",	"dccp",
					"ct",	"fib",	  "nfproto", "udplite", "esp"};
	bool block = false;
	for (size_t i = 0; i < r->n_toks; i++) {
		for (size_t k = 0; k < ARRAY_SIZE(ip_only); k++)
			if (is(&r->toks[i], ip_only[k]))
				return false;
		block |= is(&r->toks[i], "drop") || is(&r->toks[i], "reject") ||
			 is(&r->toks[i], "queue") || is(&r->toks[i], "fwd") ||
			 is(&r->toks[i], "vmap") || is(&r->toks[i], "jump") ||
			 is(&r->toks[i], "goto");
	}
	return block;
}

/* Chains that see packets before they are IP (netdev, bridge, arp families): one that can
 * drop ARP locks everyone out, which the analysis of TCP packets does not see. */
static char *non_ip_blocker(const struct nft_file *f)
{
	for (size_t t = 0; t < f->n_tables; t++) {
		const struct nft_table *tb = &f->tables[t];
		if (tb->dead || (strcmp(tb->family, "netdev") && strcmp(tb->family, "bridge") &&
				 strcmp(tb->family, "arp")))
			continue;
		for (size_t c = 0; c < tb->n_chains; c++) {
			const struct nft_chain *ch = &tb->chains[c];
			if (ch->dead || ch->lo_only)
				continue;
			if (ch->hook && !strcmp(ch->policy, "drop"))
				return xasprintf(
					"line %u: chain %s of table %s %s drops what is not "
					"IP (ARP) by its policy",
					ch->line, ch->name, tb->family, tb->name);
			for (size_t r = 0; r < ch->n_rules; r++)
				if (!ch->rules[r].dead && drops_non_ip(&ch->rules[r]))
					return xasprintf("line %u: a rule of table %s %s can drop "
							 "what is not IP (ARP)",
							 ch->rules[r].line, tb->family, tb->name);
		}
	}
	return NULL;
}

int nftables_analyze(const struct nft_file *f, const char *buf, size_t len,
		     const struct fw_scope *scopes, size_t n_scopes, struct nft_fixes *out)
{
	*out = (struct nft_fixes){0};
	struct nwalk w = {.buf = buf, .len = len, .f = f, .fx = out};
	if (f->unknown) {
		out->unsupported = true;
		out->note = xasprintf("%s is outside the model", f->unknown);
		return 0;
	}
	char *arp = non_ip_blocker(f);
	if (arp) {
		out->unsupported = true;
		out->note = xasprintf("%s, which is outside the model", arp);
		free(arp);
		return 0;
	}
	w.refs = chain_refs(f);
	/* time grows with the file, never past a bound of its size */
	w.max_steps = NFT_WALK_STEPS;
	for (size_t t = 0; t < f->n_tables; t++)
		for (size_t c = 0; c < f->tables[t].n_chains; c++)
			w.max_steps += 16 * f->tables[t].chains[c].n_rules;
	/* one pass per scope and kind: fixes only remove drops or add accepts */
	for (size_t sc = 0; sc < n_scopes && !w.stop; sc++) {
		w.s = &scopes[sc];
		for (int k = 0; k < FW_N_KINDS && !w.stop; k++) {
			w.k = (enum fw_kind)k;
			w.out = k == FW_OUT_EST;
			for (size_t t = 0; t < f->n_tables && !w.stop; t++) {
				const struct nft_table *tb = &f->tables[t];
				if (tb->dead)
					continue;
				for (size_t c = 0; c < tb->n_chains && !w.stop; c++) {
					if (!chain_on_path(tb, &tb->chains[c], w.s->family, w.k,
							   &w.no_ct))
						continue;
					w.path_peer = w.path_port = false;
					w.depth = 0;
					nwalk_chain(&w, t, c, true);
				}
			}
		}
	}
	if (w.stop && !out->unsupported) {
		out->unsupported = true;
		out->note = xstrdup("the rules are too deep or too many to follow");
	}
	/* IPv6: neighbour discovery must get through too (no fix of ours: an unknown verdict for
	 * IPv6 alone) */
	for (size_t sc = 0; sc < n_scopes && !w.stop; sc++) {
		w.s = &scopes[sc];
		for (int k = 0; w.s->family == AF_INET6 && k < 2 && !w.stop; k++) {
			w.nd = true;
			w.out = k == 1;
			w.k = w.out ? FW_OUT_EST : FW_IN_NEW;
			for (size_t t = 0; t < f->n_tables && !w.stop; t++) {
				const struct nft_table *tb = &f->tables[t];
				for (size_t c = 0; !tb->dead && c < tb->n_chains && !w.stop; c++) {
					const struct nft_chain *ch = &tb->chains[c];
					if ((ch->type && !strcmp(ch->type, "nat")) ||
					    !chain_on_path(tb, ch, AF_INET6, w.k, &w.no_ct))
						continue;
					w.path_peer = w.path_port = false;
					w.depth = 0;
					nwalk_chain(&w, t, c, true);
				}
			}
		}
	}
	if (w.stop && !out->unsupported && !out->nd_note) {
		out->unsupported = true;
		out->note = xstrdup("the rules are too deep or too many to follow");
	}
	for (size_t t = 0; t < f->n_tables; t++)
		free(w.refs[t]);
	free(w.refs);
	return 0;
}

/* ---- writing ---- */

char *nftables_accept_rule(const struct fw_scope *s, const struct nft_file *f,
			   const struct nft_fix *x)
{
	struct buf b = {0};
	buf_puts(&b, "");
	if (s->n_peers) {
		buf_printf(&b, "%s %s { ", s->family == AF_INET ? "ip" : "ip6",
			   x->out ? "daddr" : "saddr");
		for (size_t i = 0; i < s->n_peers; i++) {
			char t[CIDR_STRLEN];
			cidr_format(&s->peers[i], t);
			buf_printf(&b, "%s%s", i ? ", " : "", t);
		}
		buf_puts(&b, " } ");
	} else if (!x->every && !strcmp(f->tables[x->table].family, "inet")) {
		buf_printf(&b, "meta nfproto %s ", s->family == AF_INET ? "ipv4" : "ipv6");
	}
	buf_printf(&b, "tcp %s ", x->out ? "sport" : "dport");
	if (s->n_ports == 1) {
		buf_printf(&b, "%u", s->ports[0]);
	} else {
		buf_puts(&b, "{ ");
		for (size_t i = 0; i < s->n_ports; i++)
			buf_printf(&b, "%s%u", i ? ", " : "", s->ports[i]);
		buf_puts(&b, " }");
	}
	buf_puts(&b, " accept");
	return b.data;
}

struct nplaced {
	size_t off;
	int order;
	char *text;
};

static int nplaced_cmp(const void *a, const void *b)
{
	const struct nplaced *x = a, *y = b;
	if (x->off != y->off)
		return x->off < y->off ? -1 : 1;
	return x->order - y->order;
}

static size_t line_start(const char *buf, size_t off)
{
	while (off > 0 && buf[off - 1] != '\n')
		off--;
	return off;
}

void nftables_edits(const char *buf, size_t len, const struct nft_file *f,
		    const struct nft_fixes *fx, const struct fw_scope *scopes, size_t n_scopes,
		    const char *marker, const struct fw_edit_sink *out)
{
	struct nplaced *pl = NULL;
	size_t n = 0;
	for (size_t i = 0; i < fx->n; i++) {
		const struct nft_fix *x = &fx->v[i];
		const struct nft_chain *ch = &f->tables[x->table].chains[x->chain];
		const struct fw_scope *s = NULL;
		for (size_t k = 0; k < n_scopes; k++)
			if (scopes[k].family == x->family)
				s = &scopes[k];
		if (!s)
			continue;
		if (x->kind == NFT_FIX_COMMENT) {
			const struct nft_rule *r = &ch->rules[x->rule];
			/* every line the rule spans gets the marker */
			for (size_t o = line_start(buf, r->off); o < r->end;) {
				pl = xgrow(pl, n, sizeof(*pl));
				pl[n++] = (struct nplaced){o, 1, xstrdup(marker)};
				const char *nl = memchr(buf + o, '\n', len - o);
				if (!nl)
					break;
				o = (size_t)(nl - buf) + 1;
			}
			continue;
		}
		_cleanup_free_ char *rule = nftables_accept_rule(s, f, x);
		size_t at;
		struct buf b = {0};
		if (x->rule != SIZE_MAX) {
			const struct nft_rule *r = &ch->rules[x->rule];
			at = line_start(buf, r->off);
			buf_printf(&b, "%.*s%sadded the next rule: %s\n%.*s%s\n",
				   (int)(r->off - at), buf + at, marker, x->why, (int)(r->off - at),
				   buf + at, rule);
		} else {
			size_t cl = line_start(buf, ch->close);
			bool own_line = true;
			for (size_t o = cl; o < ch->close; o++)
				own_line &= buf[o] == ' ' || buf[o] == '\t';
			/* indentation: of the chain's last rule, else one tab more than "}" */
			const char *ind = "\t";
			int il = 1;
			if (ch->n_rules) {
				size_t ls = line_start(buf, ch->rules[ch->n_rules - 1].off),
				       le = ls;
				while (buf[le] == ' ' || buf[le] == '\t')
					le++;
				if (le > ls) {
					ind = buf + ls;
					il = (int)(le - ls);
				}
			}
			if (own_line) {
				at = cl;
				buf_printf(&b, "%.*s%sadded the next rule: %s\n%.*s%s\n", il, ind,
					   marker, x->why, il, ind, rule);
			} else {
				at = ch->close;
				buf_printf(&b, "\n%.*s%sadded the next rule: %s\n%.*s%s\n", il, ind,
					   marker, x->why, il, ind, rule);
			}
		}
		pl = xgrow(pl, n, sizeof(*pl));
		pl[n++] = (struct nplaced){at, 0, b.data};
	}
	if (n)
		qsort(pl, n, sizeof(*pl), nplaced_cmp);
	for (size_t i = 0; i < n; i++) {
		out->add(out->arg, pl[i].off, 0, pl[i].text, strlen(pl[i].text));
		free(pl[i].text);
	}
	free(pl);
}
