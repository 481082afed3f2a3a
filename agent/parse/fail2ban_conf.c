/* fail2ban_conf.c: fail2ban's INI flavour (Python configparser as fail2ban configures it:
 * inline_comment_prefixes ";", strict, empty lines kept inside values) and the merge of its
 * files with fail2ban's KNOWN/ history and interpolation. Pure. */
#include "parse/fail2ban_conf.h"

#include <ctype.h>
#include <errno.h>
#include <string.h>
#include <strings.h>

/* configparser's MAX_INTERPOLATION_DEPTH */
#define F2B_MAX_DEPTH 10
/* References resolved, and bytes made, for one value: ten levels of a value that names the
 * next fifty times would otherwise take 50^10 steps (configparser spins on it too). */
#define F2B_MAX_STEPS 10000u
#define F2B_MAX_VALUE (1u << 20)

static bool is_space(char ch)
{
	return ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r' || ch == '\v' || ch == '\f';
}

static char *lower_dup(const char *s, size_t n)
{
	char *d = xstrndup(s, n);
	for (char *p = d; *p; p++)
		*p = (char)tolower((unsigned char)*p);
	return d;
}

/* ---- one file ---- */

static struct f2b_section *file_section(struct f2b_file *f, const char *name)
{
	for (size_t i = 0; i < f->n; i++)
		if (strcmp(f->v[i].name, name) == 0)
			return &f->v[i];
	return NULL;
}

static struct f2b_section *file_add_section(struct f2b_file *f, const char *name, unsigned line)
{
	f->v = xgrow(f->v, f->n, sizeof(*f->v));
	struct f2b_section *s = &f->v[f->n++];
	memset(s, 0, sizeof(*s));
	s->name = xstrdup(name);
	s->line = line;
	return s;
}

static struct f2b_entry *section_entry(struct f2b_section *s, const char *key)
{
	for (size_t i = 0; i < s->n; i++)
		if (strcmp(s->v[i].key, key) == 0)
			return &s->v[i];
	return NULL;
}

/* A value under construction: its lines, joined at the end. */
struct pending {
	struct f2b_entry *e;
	struct buf text;
	size_t blank; /* empty lines seen since the last text; kept only if text follows */
};

static void pending_finish(struct pending *p)
{
	if (!p->e)
		return;
	free(p->e->value);
	p->e->value = p->text.data ? p->text.data : xstrdup("");
	p->text = (struct buf){0};
	p->e = NULL;
	p->blank = 0;
}

static int parse_error(unsigned line, unsigned *err_line, char **err, const char *what)
{
	if (err_line)
		*err_line = line;
	if (err)
		*err = xstrdup(what);
	return -EINVAL;
}

/* Where an inline comment starts: a ';' at the start or after white space (configparser's
 * inline_comment_prefixes = ";"); or 0 for a line whose first non-space is '#' or ';'. */
static size_t comment_start(const char *l, size_t n, bool *had_comment)
{
	size_t i = 0;
	while (i < n && is_space(l[i]))
		i++;
	*had_comment = true;
	if (i < n && (l[i] == '#' || l[i] == ';'))
		return 0;
	for (size_t j = 0; j < n; j++)
		if (l[j] == ';' && (j == 0 || is_space(l[j - 1])))
			return j;
	*had_comment = false;
	return n;
}

int f2b_file_parse(const char *buf, size_t len, struct f2b_file *out, unsigned *err_line,
		   char **err)
{
	memset(out, 0, sizeof(*out));
	if (err)
		*err = NULL;
	struct f2b_section *cur = NULL;
	struct pending pend = {0};
	size_t indent_level = 0;
	unsigned lineno = 0;
	int rc = 0;
	size_t pos = 0;
	while (pos < len && rc == 0) {
		/* universal newlines, as Python reads text files: \n, \r\n and \r end a line */
		size_t end = pos;
		while (end < len && buf[end] != '\n' && buf[end] != '\r')
			end++;
		size_t next = end;
		if (next < len)
			next += (buf[next] == '\r' && next + 1 < len && buf[next + 1] == '\n') ? 2
											       : 1;
		const char *l = buf + pos;
		size_t n = end - pos;
		pos = next;
		lineno++;

		bool had_comment;
		size_t cs = comment_start(l, n, &had_comment);
		size_t a = 0, b = cs;
		while (a < b && is_space(l[a]))
			a++;
		while (b > a && is_space(l[b - 1]))
			b--;
		if (a == b) {
			/* an empty line belongs to the value being read, unless it held a comment
			 */
			if (!had_comment && pend.e)
				pend.blank++;
			continue;
		}
		size_t indent = 0;
		while (indent < n && is_space(l[indent]))
			indent++;
		if (pend.e && indent > indent_level) {
			for (; pend.blank; pend.blank--)
				buf_puts(&pend.text, "\n");
			buf_puts(&pend.text, "\n");
			buf_append(&pend.text, l + a, b - a);
			continue;
		}
		pending_finish(&pend);
		indent_level = indent;
		const char *v = l + a;
		size_t vn = b - a;
		/* a section header: '[' then anything up to the last ']' */
		const char *close = vn > 0 && v[0] == '[' ? memrchr(v, ']', vn) : NULL;
		if (close && close > v + 1) {
			_cleanup_free_ char *name = xstrndup(v + 1, (size_t)(close - v - 1));
			struct f2b_section *s = file_section(out, name);
			if (s && strcmp(name, F2B_DEFAULT) != 0) {
				_cleanup_free_ char *m =
					xasprintf("section [%s] appears twice", name);
				rc = parse_error(lineno, err_line, err, m);
				break;
			}
			cur = s ? s : file_add_section(out, name, lineno);
			continue;
		}
		if (!cur) {
			rc = parse_error(lineno, err_line, err,
					 "a key before any [section] header");
			break;
		}
		/* "key = value" or "key: value": the first '=' or ':' splits */
		size_t d = 0;
		while (d < vn && v[d] != '=' && v[d] != ':')
			d++;
		size_t kn = d;
		while (kn > 0 && is_space(v[kn - 1]))
			kn--;
		if (d == vn || kn == 0) {
			rc = parse_error(
				lineno, err_line, err,
				d == vn ? "neither a [section], a key = value nor an indented "
					  "continuation"
					: "a value without a key");
			break;
		}
		_cleanup_free_ char *key = lower_dup(v, kn);
		if (section_entry(cur, key)) {
			_cleanup_free_ char *m =
				xasprintf("key %s appears twice in section [%s]", key, cur->name);
			rc = parse_error(lineno, err_line, err, m);
			break;
		}
		size_t vs = d + 1;
		while (vs < vn && is_space(v[vs]))
			vs++;
		cur->v = xgrow(cur->v, cur->n, sizeof(*cur->v));
		struct f2b_entry *e = &cur->v[cur->n++];
		e->key = key;
		key = NULL;
		e->value = NULL;
		e->line = lineno;
		pend.e = e;
		pend.text = (struct buf){0};
		buf_append(&pend.text, v + vs, vn - vs);
	}
	pending_finish(&pend);
	/* every entry has a value, even after an error */
	for (size_t i = 0; i < out->n; i++)
		for (size_t j = 0; j < out->v[i].n; j++)
			if (!out->v[i].v[j].value)
				out->v[i].v[j].value = xstrdup("");
	return rc;
}

void f2b_file_free(struct f2b_file *f)
{
	for (size_t i = 0; i < f->n; i++) {
		for (size_t j = 0; j < f->v[i].n; j++) {
			free(f->v[i].v[j].key);
			free(f->v[i].v[j].value);
		}
		free(f->v[i].v);
		free(f->v[i].name);
	}
	free(f->v);
	memset(f, 0, sizeof(*f));
}

const struct f2b_entry *f2b_file_get(const struct f2b_file *f, const char *section, const char *key)
{
	for (size_t i = 0; i < f->n; i++) {
		if (strcmp(f->v[i].name, section) != 0)
			continue;
		for (size_t j = 0; j < f->v[i].n; j++)
			if (strcasecmp(f->v[i].v[j].key, key) == 0)
				return &f->v[i].v[j];
	}
	return NULL;
}

void f2b_file_includes(const struct f2b_file *f, const char *key, struct strv *out)
{
	const struct f2b_entry *e = f2b_file_get(f, F2B_INCLUDES, key);
	if (!e)
		return;
	const char *p = e->value;
	while (*p) {
		const char *nl = strchrnul(p, '\n');
		const char *a = p, *b = nl;
		while (a < b && is_space(*a))
			a++;
		while (b > a && is_space(b[-1]))
			b--;
		if (b > a)
			strv_push_owned(out, xstrndup(a, (size_t)(b - a)));
		p = *nl ? nl + 1 : nl;
	}
}

/* ---- merged files ---- */

static struct f2b_key *conf_key(const struct f2b_conf *c, const char *section, const char *key)
{
	for (size_t i = 0; i < c->n; i++)
		if (strcmp(c->v[i].key, key) == 0 && strcmp(c->v[i].section, section) == 0)
			return &c->v[i];
	return NULL;
}

const struct f2b_key *f2b_conf_key(const struct f2b_conf *c, const char *section, const char *key)
{
	_cleanup_free_ char *k = lower_dup(key, strlen(key));
	const struct f2b_key *fk = conf_key(c, section, k);
	return fk && fk->n ? fk : NULL;
}

bool f2b_conf_has_section(const struct f2b_conf *c, const char *section)
{
	return strv_contains(&c->sections, section);
}

void f2b_conf_merge(struct f2b_conf *c, const struct f2b_file *f, const char *origin)
{
	size_t oi = c->origins.n;
	strv_push(&c->origins, origin);
	for (size_t i = 0; i < f->n; i++) {
		const struct f2b_section *s = &f->v[i];
		if (strcmp(s->name, F2B_DEFAULT) != 0 && strcmp(s->name, F2B_INCLUDES) != 0 &&
		    !strv_contains(&c->sections, s->name)) {
			size_t si = c->sections.n;
			strv_push(&c->sections, s->name);
			c->section_line = xgrow(c->section_line, si, sizeof(*c->section_line));
			c->section_origin =
				xgrow(c->section_origin, si, sizeof(*c->section_origin));
			c->section_line[si] = s->line;
			c->section_origin[si] = oi;
		}
		for (size_t j = 0; j < s->n; j++) {
			struct f2b_key *k = conf_key(c, s->name, s->v[j].key);
			if (!k) {
				c->v = xgrow(c->v, c->n, sizeof(*c->v));
				k = &c->v[c->n++];
				memset(k, 0, sizeof(*k));
				k->section = xstrdup(s->name);
				k->key = xstrdup(s->v[j].key);
			}
			k->hist = xgrow(k->hist, k->n, sizeof(*k->hist));
			k->hist[k->n++] = (struct f2b_value){.value = xstrdup(s->v[j].value),
							     .origin = oi,
							     .line = s->v[j].line};
		}
	}
}

void f2b_conf_free(struct f2b_conf *c)
{
	for (size_t i = 0; i < c->n; i++) {
		for (size_t j = 0; j < c->v[i].n; j++)
			free(c->v[i].hist[j].value);
		free(c->v[i].hist);
		free(c->v[i].section);
		free(c->v[i].key);
	}
	free(c->v);
	strv_free(&c->sections);
	strv_free(&c->origins);
	free(c->section_line);
	free(c->section_origin);
	memset(c, 0, sizeof(*c));
}

const struct f2b_value *f2b_conf_lookup(const struct f2b_conf *c, const char *section,
					const char *key, bool *own)
{
	_cleanup_free_ char *k = lower_dup(key, strlen(key));
	const struct f2b_key *fk = conf_key(c, section, k);
	if (own)
		*own = fk && fk->n;
	if (fk && fk->n)
		return &fk->hist[fk->n - 1];
	fk = conf_key(c, F2B_DEFAULT, k);
	return fk && fk->n ? &fk->hist[fk->n - 1] : NULL;
}

/* Where a value being interpolated came from: the history it is a level of. %(known/key)s
 * inside it means the level before. */
struct ctx {
	const char *hsection; /* the section whose history holds the value (may be DEFAULT) */
	const char *key;
	size_t level;
	size_t *steps; /* references resolved so far for the whole value */
};

static int interp(const struct f2b_conf *c, const char *section, struct ctx cx, const char *raw,
		  int depth, struct buf *out);

/* Resolve one %(name)s as seen from section. */
static int resolve(const struct f2b_conf *c, const char *section, struct ctx cx, const char *name,
		   int depth, struct buf *out)
{
	if (strcmp(name, "__name__") == 0) {
		buf_puts(out, section);
		return 0;
	}
	const char *slash = strchr(name, '/');
	const struct f2b_key *k = NULL;
	struct ctx nx = {0};
	if (slash) {
		_cleanup_free_ char *sec = xstrndup(name, (size_t)(slash - name));
		const char *opt = slash + 1;
		if (strcmp(sec, "known") == 0) {
			/* the value before the one in force: the same key's previous level, else
			 * [DEFAULT]'s (fail2ban's KNOWN/<section>, falling back to defaults) */
			if (strcmp(opt, cx.key) == 0) {
				k = conf_key(c, cx.hsection, opt);
				if (k && cx.level > 0 && cx.level <= k->n) {
					nx = (struct ctx){cx.hsection, k->key, cx.level - 1,
							  cx.steps};
				} else if (strcmp(cx.hsection, F2B_DEFAULT) != 0) {
					k = conf_key(c, F2B_DEFAULT, opt);
					if (k && k->n)
						nx = (struct ctx){F2B_DEFAULT, k->key, k->n - 1,
								  cx.steps};
					else
						k = NULL;
				} else {
					k = NULL;
				}
			} else {
				k = conf_key(c, section, opt);
				if (k && k->n >= 2) {
					nx = (struct ctx){section, k->key, k->n - 2, cx.steps};
				} else {
					k = conf_key(c, F2B_DEFAULT, opt);
					if (k && k->n)
						nx = (struct ctx){F2B_DEFAULT, k->key, k->n - 1,
								  cx.steps};
					else
						k = NULL;
				}
			}
		} else {
			const char *from = strcmp(sec, "default") == 0 ? F2B_DEFAULT : NULL;
			if (!from) {
				/* configparser looks the name up lower-cased, so only a section
				 * named in lower case can be reached this way */
				if (!strv_contains(&c->sections, sec))
					return -ENOENT;
				from = sec;
			}
			k = conf_key(c, from, opt);
			if (!k || !k->n)
				k = conf_key(c, F2B_DEFAULT, opt);
			if (k && k->n)
				nx = (struct ctx){k->section, k->key, k->n - 1, cx.steps};
			else
				k = NULL;
		}
	} else {
		k = conf_key(c, section, name);
		if (!k || !k->n)
			k = conf_key(c, F2B_DEFAULT, name);
		if (k && k->n)
			nx = (struct ctx){k->section, k->key, k->n - 1, cx.steps};
		else
			k = NULL;
	}
	if (!k)
		return -ENOENT;
	return interp(c, section, nx, k->hist[nx.level].value, depth + 1, out);
}

static int interp(const struct f2b_conf *c, const char *section, struct ctx cx, const char *raw,
		  int depth, struct buf *out)
{
	if (depth > F2B_MAX_DEPTH)
		return -ELOOP;
	if (cx.steps && ++*cx.steps > F2B_MAX_STEPS)
		return -E2BIG;
	const char *p = raw;
	while (*p) {
		const char *pct = strchr(p, '%');
		if (!pct) {
			buf_puts(out, p);
			break;
		}
		buf_append(out, p, (size_t)(pct - p));
		if (pct[1] == '%') {
			buf_puts(out, "%");
			p = pct + 2;
			continue;
		}
		if (pct[1] != '(')
			return -EINVAL;
		const char *close = strchr(pct + 2, ')');
		if (!close || close[1] != 's')
			return -EINVAL;
		_cleanup_free_ char *name = lower_dup(pct + 2, (size_t)(close - pct - 2));
		int rc = resolve(c, section, cx, name, depth, out);
		if (rc < 0)
			return rc;
		if (out->len > F2B_MAX_VALUE)
			return -E2BIG;
		p = close + 2;
	}
	if (!out->data)
		buf_puts(out, "");
	return 0;
}

int f2b_conf_interpolate(const struct f2b_conf *c, const char *section, const char *key,
			 const char *raw, char **out)
{
	_cleanup_free_ char *k = lower_dup(key, strlen(key));
	const struct f2b_key *fk = conf_key(c, section, k);
	/* a value the caller computed stands after every level of the section's own history */
	size_t steps = 0;
	struct ctx cx = {section, k, fk ? fk->n : 0, &steps};
	struct buf b = {0};
	int rc = interp(c, section, cx, raw, 1, &b);
	if (rc < 0) {
		buf_free(&b);
		return rc;
	}
	*out = b.data;
	return 0;
}

int f2b_conf_get(const struct f2b_conf *c, const char *section, const char *key, char **out)
{
	_cleanup_free_ char *k = lower_dup(key, strlen(key));
	const struct f2b_key *fk = conf_key(c, section, k);
	if (!fk || !fk->n)
		fk = conf_key(c, F2B_DEFAULT, k);
	if (!fk || !fk->n)
		return -ENOENT;
	size_t steps = 0;
	struct ctx cx = {fk->section, fk->key, fk->n - 1, &steps};
	struct buf b = {0};
	int rc = interp(c, section, cx, fk->hist[fk->n - 1].value, 1, &b);
	if (rc < 0) {
		buf_free(&b);
		return rc;
	}
	*out = b.data;
	return 0;
}

void f2b_split_words(const char *value, struct strv *out)
{
	const char *p = value;
	while (*p) {
		while (*p && (is_space(*p) || *p == ','))
			p++;
		const char *a = p;
		while (*p && !is_space(*p) && *p != ',')
			p++;
		if (p > a)
			strv_push_owned(out, xstrndup(a, (size_t)(p - a)));
	}
}

/* ---- a jail's actions ---- */

static bool opt_name_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '_' || c == '-' || c == '.';
}

/* An option name; the position after it, or NULL. (OPTION_NAME_CRE also allows a conditional
 * "name?family=inet6", which the "=" that must follow makes fail in extractOptions.) */
static const char *opt_name_end(const char *p)
{
	const char *a = p;
	while (opt_name_char(*p))
		p++;
	return p == a ? NULL : p;
}

/* The options of one bracket run, p after its '['; returns the position after the last ']',
 * or NULL for a syntax fail2ban refuses. */
static const char *parse_options(const char *p, struct f2b_action *a)
{
	for (;;) {
		while (is_space(*p))
			p++;
		if (!*p)
			return NULL;
		if (*p == ']') {
			/* "]\s*[": another group of options for the same action */
			const char *q = p + 1;
			while (is_space(*q) && *q != '\n')
				q++;
			if (*q == '[') {
				p = q + 1;
				continue;
			}
			return p + 1;
		}
		if (*p == ',') {
			p++;
			continue;
		}
		const char *name = p;
		p = opt_name_end(p);
		if (!p || *p != '=')
			return NULL;
		_cleanup_free_ char *key = xstrndup(name, (size_t)(p - name));
		p++;
		const char *v = p, *vend;
		const char *close = *p == '"' || *p == '\'' ? strchr(p + 1, *p) : NULL;
		if (close) {
			/* a quoted value must be followed by ',' or ']' at once */
			v = p + 1;
			vend = close;
			p = close + 1;
			if (*p != ',' && *p != ']' && *p)
				return NULL;
		} else {
			/* bare (an unclosed quote is a bare value's first character) */
			while (*p && *p != ',' && *p != ']')
				p++;
			vend = p;
		}
		while (v < vend && is_space(*v))
			v++;
		while (vend > v && is_space(vend[-1]))
			vend--;
		strv_push(&a->keys, key);
		strv_push_owned(&a->values, xstrndup(v, (size_t)(vend - v)));
		if (!*p)
			return NULL; /* no ']': OPTION_CRE does not match */
	}
}

int f2b_actions_parse(const char *value, struct f2b_action **out, size_t *n)
{
	*out = NULL;
	*n = 0;
	const char *p = value;
	for (;;) {
		while (is_space(*p))
			p++;
		if (!*p)
			return 0;
		const char *name = p;
		while (*p && *p != '[' && !is_space(*p))
			p++;
		if (p == name)
			return -EINVAL; /* a '[' with no name before it */
		struct f2b_action a = {.name = xstrndup(name, (size_t)(p - name))};
		const char *q = p;
		while (is_space(*q))
			q++;
		if (*q == '[') {
			p = parse_options(q + 1, &a);
			if (!p) {
				f2b_actions_free(&a, 1);
				return -EINVAL;
			}
		}
		*out = xgrow(*out, *n, sizeof(**out));
		(*out)[(*n)++] = a;
	}
}

void f2b_actions_free(struct f2b_action *a, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(a[i].name);
		strv_free(&a[i].keys);
		strv_free(&a[i].values);
	}
}

const char *f2b_action_option(const struct f2b_action *a, const char *key)
{
	const char *v = NULL;
	for (size_t i = 0; i < a->keys.n; i++)
		if (strcmp(a->keys.v[i], key) == 0)
			v = a->values.v[i]; /* the last one, as a Python dict keeps it */
	return v;
}

static bool port_number(const char *s, size_t len, unsigned *out)
{
	unsigned v = 0;
	if (!len || len > 5)
		return false;
	for (size_t i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		v = v * 10 + (unsigned)(s[i] - '0');
	}
	if (v > 65535)
		return false;
	*out = v;
	return true;
}

int f2b_ports_cover(const char *spec, unsigned port,
		    int (*service)(void *arg, const char *name, unsigned *port), void *arg,
		    bool *covers)
{
	*covers = false;
	struct strv w = {0};
	f2b_split_words(spec, &w);
	int rc = w.n ? 0 : -EINVAL;
	for (size_t i = 0; i < w.n && rc == 0; i++) {
		const char *t = w.v[i];
		size_t len = strlen(t);
		const char *dash = strpbrk(t, ":-");
		unsigned lo, hi;
		if (port_number(t, len, &lo)) {
			hi = lo;
		} else if (dash && port_number(t, (size_t)(dash - t), &lo) &&
			   port_number(dash + 1, strlen(dash + 1), &hi)) {
			;
		} else if (!strpbrk(t, "<>%$()") && service && service(arg, t, &lo) == 0) {
			hi = lo;
		} else {
			rc = -EINVAL;
			break;
		}
		if (lo <= port && port <= hi)
			*covers = true;
	}
	strv_free(&w);
	return rc;
}
