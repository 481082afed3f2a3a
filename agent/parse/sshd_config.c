/* sshd_config.c: sshd_config(5) as OpenSSH's servconf.c reads it; see sshd_config.h. The
 * tokenizer follows misc.c (strdelim, argv_split), the line handling load_server_config() and
 * parse_server_config_depth(), Include and Match process_server_config_line_depth(). */
#include "parse/sshd_config.h"

#include "parse/cidr.h"

#include <ctype.h>
#include <errno.h>
#include <fnmatch.h>
#include <limits.h>
#include <stdint.h>
#include <string.h>
#include <strings.h>

/*
 * Which occurrence of a keyword decides, read from servconf.c of the releases named
 * (openssh-portable tags V_8_0_P1 .. V_10_3_P1 and the commits that changed the rule):
 *
 *   keyword                 rule up to `since`   since   then    evidence
 *   maxstartups             last (no activep     10.1    first   683d0abe5 "Make MaxStartups
 *                           check; each line                     and PerSourceNetBlockSize
 *                           overwrites fields)                   first-match-wins"
 *   persourcenetblocksize   last                 10.1    first   683d0abe5
 *   persourcemaxstartups    last (8.5: new)      9.5     first   f98031773
 *   ipqos                   last                 10.3    first   2b0f4a72b
 *   persourcepenalties      first per field      -               9.8: new (`*intptr == -1`)
 *   persourcepenaltyexemptlist first             -               9.8: new (`*charptr == NULL`)
 *   streamlocalbindmask     last                 -               `if (*activep)` only
 *   fingerprinthash         last                 -               `if (*activep)` only
 *   port, listenaddress, hostkey, hostcertificate, allowusers, denyusers, allowgroups,
 *   denygroups, acceptenv, setenv, subsystem, include, match: accumulate
 *   everything else: first (`if (*activep && *intptr == -1)` and the like)
 *
 * global_only is SSHCFG_GLOBAL without SSHCFG_MATCH in keywords[]: such a keyword inside a
 * Match block that is not active at start-up makes sshd exit ("Directive '%s' is not allowed
 * within a Match block"). The table lists the keywords the repair policies read; the others
 * are first-wins and their Match rules do not matter here.
 */
static const struct sshd_keyword keywords[] = {
	{ "acceptenv", false, SSHD_ACCUMULATE, 0, SSHD_ACCUMULATE, 0 },
	{ "addressfamily", true, SSHD_FIRST, 0, SSHD_FIRST, 0 },
	{ "allowgroups", false, SSHD_ACCUMULATE, 0, SSHD_ACCUMULATE, 0 },
	{ "allowusers", false, SSHD_ACCUMULATE, 0, SSHD_ACCUMULATE, 0 },
	{ "denygroups", false, SSHD_ACCUMULATE, 0, SSHD_ACCUMULATE, 0 },
	{ "denyusers", false, SSHD_ACCUMULATE, 0, SSHD_ACCUMULATE, 0 },
	{ "fingerprinthash", true, SSHD_LAST, 0, SSHD_LAST, 0 },
	{ "hostcertificate", true, SSHD_ACCUMULATE, 0, SSHD_ACCUMULATE, 0 },
	{ "hostkey", true, SSHD_ACCUMULATE, 0, SSHD_ACCUMULATE, 0 },
	{ "include", false, SSHD_ACCUMULATE, 0, SSHD_ACCUMULATE, 0 },
	{ "ipqos", false, SSHD_LAST, SSHD_VERSION(10, 3), SSHD_FIRST, 0 },
	{ "listenaddress", true, SSHD_ACCUMULATE, 0, SSHD_ACCUMULATE, 0 },
	{ "match", false, SSHD_ACCUMULATE, 0, SSHD_ACCUMULATE, 0 },
	{ "maxstartups", true, SSHD_LAST, SSHD_VERSION(10, 1), SSHD_FIRST, 0 },
	{ "persourcemaxstartups", true, SSHD_LAST, SSHD_VERSION(9, 5), SSHD_FIRST, 0 },
	{ "persourcenetblocksize", true, SSHD_LAST, SSHD_VERSION(10, 1), SSHD_FIRST, 0 },
	{ "persourcepenalties", true, SSHD_FIRST, 0, SSHD_FIRST, SSHD_VERSION(9, 8) },
	{ "persourcepenaltyexemptlist", true, SSHD_FIRST, 0, SSHD_FIRST, SSHD_VERSION(9, 8) },
	{ "pidfile", true, SSHD_FIRST, 0, SSHD_FIRST, 0 },
	{ "port", true, SSHD_ACCUMULATE, 0, SSHD_ACCUMULATE, 0 },
	{ "setenv", false, SSHD_ACCUMULATE, 0, SSHD_ACCUMULATE, 0 },
	{ "streamlocalbindmask", false, SSHD_LAST, 0, SSHD_LAST, 0 },
	{ "subsystem", false, SSHD_ACCUMULATE, 0, SSHD_ACCUMULATE, 0 },
	{ "usepam", true, SSHD_FIRST, 0, SSHD_FIRST, 0 },
};

#define WHITESPACE " \t\r\n"

bool sshd_keyword_known(const char *name, unsigned version)
{
	const struct sshd_keyword *k = sshd_keyword_lookup(name);
	if (!k || !k->added)
		return true;
	return version != SSHD_VERSION_UNKNOWN && version >= k->added;
}

const struct sshd_keyword *sshd_keyword_lookup(const char *name)
{
	for (size_t i = 0; i < ARRAY_SIZE(keywords); i++)
		if (strcasecmp(keywords[i].name, name) == 0)
			return &keywords[i];
	return NULL;
}

enum sshd_rule sshd_keyword_rule(const char *name, unsigned version)
{
	const struct sshd_keyword *k = sshd_keyword_lookup(name);
	if (!k)
		return SSHD_FIRST;
	if (k->since && (version == SSHD_VERSION_UNKNOWN || version >= k->since))
		return k->then;
	return k->rule;
}

/* ---- building the result ------------------------------------------------------------- */

static void cfg_error(struct sshd_config *cfg, size_t file, unsigned line, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static void cfg_error(struct sshd_config *cfg, size_t file, unsigned line, const char *fmt, ...)
{
	va_list ap;
	cfg->errors = xgrow(cfg->errors, cfg->n_errors, sizeof(*cfg->errors));
	struct sshd_error *e = &cfg->errors[cfg->n_errors++];
	e->file = file;
	e->line = line;
	va_start(ap, fmt);
	e->message = xvasprintf(fmt, ap);
	va_end(ap);
}

static size_t cfg_add_file(struct sshd_config *cfg, const char *path, char *data, size_t len,
			   long parent, unsigned parent_line)
{
	cfg->files = xgrow(cfg->files, cfg->n_files, sizeof(*cfg->files));
	struct sshd_file *f = &cfg->files[cfg->n_files];
	f->path = xstrdup(path);
	f->data = data;
	f->len = len;
	f->parent = parent;
	f->parent_line = parent_line;
	return cfg->n_files++;
}

static struct sshd_occurrence *cfg_add_occ(struct sshd_config *cfg)
{
	cfg->occ = xgrow(cfg->occ, cfg->n_occ, sizeof(*cfg->occ));
	struct sshd_occurrence *o = &cfg->occ[cfg->n_occ++];
	memset(o, 0, sizeof(*o));
	return o;
}

/* ---- tokenizing one line, as misc.c does, keeping offsets into the original ------------ */

/* strdelim(): the next token of s[*pos..end), split on white space, one '=' and a quoted
 * string. The token text goes to *tok (owned). Returns false when there is no token (s NULL
 * in sshd) and sets *pos to SIZE_MAX when the rest of the line is gone (str == NULL). */
static bool line_strdelim(const char *s, size_t end, size_t *pos, char **tok)
{
	size_t p = *pos;
	*tok = NULL;
	if (p == SIZE_MAX)
		return false;
	size_t q = p;
	while (q < end && !strchr(WHITESPACE "\"=", s[q]))
		q++;
	if (q == end) {
		*tok = xstrndup(s + p, end - p);
		*pos = SIZE_MAX;
		return true;
	}
	if (s[q] == '"') {
		/* The quote is removed and the token runs to the next quote. */
		size_t c = q + 1;
		while (c < end && s[c] != '"')
			c++;
		if (c == end) {
			*pos = SIZE_MAX;
			return false; /* no matching quote: sshd sees no keyword */
		}
		struct buf b = { 0 };
		buf_append(&b, s + p, q - p);
		buf_append(&b, s + q + 1, c - q - 1);
		*tok = b.data ? b.data : xstrdup("");
		c++;
		while (c < end && strchr(WHITESPACE, s[c]))
			c++;
		*pos = c;
		return true;
	}
	bool equals = s[q] == '=';
	*tok = xstrndup(s + p, q - p);
	size_t r = q + 1;
	while (r < end && strchr(WHITESPACE, s[r]))
		r++;
	if (r < end && s[r] == '=' && !equals) {
		r++;
		while (r < end && strchr(WHITESPACE, s[r]))
			r++;
	}
	*pos = r;
	return true;
}

/* argv_split(s, ..., terminate_on_comment = 1) over s[pos..end): the arguments, unquoted and
 * unescaped, and the span from the first argument's start to the last one's end. */
static int line_argv_split(const char *s, size_t pos, size_t end, struct strv *args,
			   size_t *span_off, size_t *span_end)
{
	size_t i = pos;
	*span_off = *span_end = pos;
	while (i < end) {
		if (s[i] == ' ' || s[i] == '\t') {
			i++;
			continue;
		}
		if (s[i] == '#')
			break;
		if (args->n == 0)
			*span_off = i;
		struct buf b = { 0 };
		char quote = 0;
		for (; i < end; i++) {
			if (s[i] == '\\') {
				if (i + 1 < end && (s[i + 1] == '\'' || s[i + 1] == '"' ||
						    s[i + 1] == '\\' || (!quote && s[i + 1] == ' ')))
					i++;
				buf_append(&b, s + i, 1);
			} else if (!quote && (s[i] == ' ' || s[i] == '\t')) {
				break;
			} else if (!quote && (s[i] == '"' || s[i] == '\'')) {
				quote = s[i];
			} else if (quote && s[i] == quote) {
				quote = 0;
			} else {
				buf_append(&b, s + i, 1);
			}
		}
		strv_push_owned(args, b.data ? b.data : xstrdup(""));
		*span_end = i;
		if (quote)
			return -EINVAL;
	}
	return 0;
}

static void str_lower(char *s)
{
	for (; *s; s++)
		*s = (char)tolower((unsigned char)*s);
}

/* ---- parsing -------------------------------------------------------------------------- */

/* Include lines that read the same files again and again multiply (k per file, 16 deep);
 * sshd would spin on them too. We stop after this many included files in all. */
#define MAX_INCLUDED_FILES 1024

struct parse_state {
	struct sshd_config *cfg;
	const struct sshd_include_ops *ops;
	size_t included; /* files read through Include so far, repeats counted */
	bool too_many;
};

static void parse_file(struct parse_state *st, size_t file, long match, int depth);

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The index of the file read as path already: 0, or -ENOENT when it was not read yet. */
static int find_file(const struct sshd_config *cfg, const char *path, size_t *idx)
{
	for (size_t i = 0; i < cfg->n_files; i++)
		if (strcmp(cfg->files[i].path, path) == 0) {
			*idx = i;
			return 0;
		}
	return -ENOENT;
}

/* Include: each argument is a glob, relative ones under /etc/ssh; the files it matches are
 * read, in glob(3) order, where the Include stands, in the Match context it stands in (their
 * own Match blocks end with the file). */
static void parse_include(struct parse_state *st, const struct sshd_occurrence *inc, long match,
			  int depth)
{
	struct sshd_config *cfg = st->cfg;
	size_t file = inc->file;
	unsigned line = inc->line;
	for (size_t a = 0; a < inc->args.n; a++) {
		const char *arg = inc->args.v[a];
		if (!*arg) {
			cfg_error(cfg, file, line, "keyword Include empty argument");
			return;
		}
		_cleanup_free_ char *pattern = (arg[0] != '/' && arg[0] != '~')
						       ? xasprintf("%s/%s", SSHD_SSHDIR, arg)
						       : xstrdup(arg);
		if (!st->ops || !st->ops->glob) {
			cfg_error(cfg, file, line, "Include %s: included files cannot be read here",
				  pattern);
			continue;
		}
		struct strv paths = { 0 };
		int rc = st->ops->glob(st->ops->arg, pattern, &paths);
		if (rc == -ELOOP) {
			cfg_error(cfg, file, line,
				  "Include %s: stopped after opening %d directories (symlinked "
				  "directories that loop?); the files it names were not all read",
				  pattern, SSHD_MAX_GLOB_DIRS);
			strv_free(&paths);
			continue;
		}
		if (rc < 0 && rc != -ENOENT) {
			cfg_error(cfg, file, line, "include \"%s\" glob failed: %s", pattern,
				  strerror(-rc));
			strv_free(&paths);
			continue;
		}
		if (paths.n > 1)
			qsort(paths.v, paths.n, sizeof(*paths.v), cmp_str);
		for (size_t i = 0; i < paths.n; i++) {
			if (st->included >= MAX_INCLUDED_FILES) {
				if (!st->too_many)
					cfg_error(cfg, file, line,
						  "more than %d included files: Include loops",
						  MAX_INCLUDED_FILES);
				st->too_many = true;
				break;
			}
			st->included++;
			if (depth + 1 > SSHD_MAX_INCLUDE_DEPTH) {
				cfg_error(cfg, file, line,
					  "Too many recursive configuration includes");
				break;
			}
			size_t idx;
			if (find_file(cfg, paths.v[i], &idx) < 0) {
				char *data = NULL;
				size_t len = 0;
				rc = st->ops->read ? st->ops->read(st->ops->arg, paths.v[i], &data, &len)
						   : -ENOSYS;
				if (rc < 0) {
					char why_buf[64];
					cfg_error(cfg, file, line, "%s: %s", paths.v[i],
						  file_error_why(rc, SSHD_MAX_FILE, why_buf, NULL));
					continue;
				}
				idx = cfg_add_file(cfg, paths.v[i], data, len, (long)file, line);
			}
			parse_file(st, idx, match, depth + 1);
		}
		strv_free(&paths);
	}
}

static void parse_file(struct parse_state *st, size_t file, long match, int depth)
{
	struct sshd_config *cfg = st->cfg;
	const long outer = match;
	size_t len = cfg->files[file].len;
	if (memchr(cfg->files[file].data, '\0', len)) {
		cfg_error(cfg, file, 0, "file holds a NUL byte; sshd refuses it");
		return;
	}
	unsigned lineno = 0;
	for (size_t start = 0; start <= len;) {
		const char *s = cfg->files[file].data;
		const char *nl = memchr(s + start, '\n', len - start);
		size_t end = nl ? (size_t)(nl - s) : len;
		size_t next = end + 1;
		lineno++;
		/* load_server_config() drops leading " \t\r"; the line parser trailing white space
		 * and form feeds. */
		size_t b = start, e = end;
		while (b < e && strchr(" \t\r", s[b]))
			b++;
		while (e > b + 1 && strchr(WHITESPACE "\f", s[e - 1]))
			e--;
		size_t pos = b;
		_cleanup_free_ char *kw = NULL;
		if (b < e && line_strdelim(s, e, &pos, &kw) && kw[0] == '\0') {
			free(kw);
			kw = NULL;
			line_strdelim(s, e, &pos, &kw);
		}
		if (kw && kw[0] && kw[0] != '#') {
			if (pos == SIZE_MAX || pos >= e) {
				cfg_error(cfg, file, lineno, "no argument after keyword \"%s\"", kw);
			} else {
				struct sshd_occurrence *o = cfg_add_occ(cfg);
				str_lower(kw);
				o->keyword = kw;
				kw = NULL;
				o->file = file;
				o->line = lineno;
				o->line_off = start;
				o->line_len = end - start;
				o->match = match;
				size_t so, se;
				if (line_argv_split(s, pos, e, &o->args, &so, &se) < 0)
					cfg_error(cfg, file, lineno, "invalid quotes");
				o->args_off = so;
				o->args_len = se - so;
				if (strcmp(o->keyword, "match") == 0) {
					cfg->matches = xgrow(cfg->matches, cfg->n_matches,
							     sizeof(*cfg->matches));
					struct sshd_match *m = &cfg->matches[cfg->n_matches];
					struct buf crit = { 0 };
					for (size_t i = 0; i < o->args.n; i++) {
						if (o->args.v[i][0] == '#')
							break;
						buf_printf(&crit, "%s%s", i ? " " : "", o->args.v[i]);
					}
					m->criteria = crit.data ? crit.data : xstrdup("");
					m->file = file;
					m->line = lineno;
					m->outer = outer;
					match = (long)cfg->n_matches++;
				} else if (strcmp(o->keyword, "include") == 0) {
					/* o may move when the array grows: copy what is needed. */
					struct sshd_occurrence inc = *o;
					parse_include(st, &inc, match, depth);
				}
			}
		}
		start = next;
		if (!nl)
			break;
	}
}

int sshd_config_parse(const char *path, const char *buf, size_t len,
		      const struct sshd_include_ops *ops, struct sshd_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	struct parse_state st = { .cfg = cfg, .ops = ops };
	size_t f = cfg_add_file(cfg, path, xstrndup(buf, len), len, -1, 0);
	/* xstrndup stops at NUL: keep the bytes as given, so offsets stay the file's. */
	memcpy(cfg->files[f].data, buf, len);
	parse_file(&st, f, -1, 0);
	return 0;
}

void sshd_config_free(struct sshd_config *cfg)
{
	for (size_t i = 0; i < cfg->n_files; i++) {
		free(cfg->files[i].path);
		free(cfg->files[i].data);
	}
	free(cfg->files);
	for (size_t i = 0; i < cfg->n_occ; i++) {
		free(cfg->occ[i].keyword);
		strv_free(&cfg->occ[i].args);
	}
	free(cfg->occ);
	for (size_t i = 0; i < cfg->n_matches; i++)
		free(cfg->matches[i].criteria);
	free(cfg->matches);
	for (size_t i = 0; i < cfg->n_errors; i++)
		free(cfg->errors[i].message);
	free(cfg->errors);
	memset(cfg, 0, sizeof(*cfg));
}

/* ---- which occurrence decides --------------------------------------------------------- */

/* match_pattern_list() of OpenSSH for one name: comma-separated shell patterns, '!' negates
 * and a negated match wins. */
static bool pattern_list_match(const char *name, const char *list)
{
	bool got = false;
	_cleanup_free_ char *copy = xstrdup(list);
	char *save = NULL;
	for (char *p = strtok_r(copy, ",", &save); p; p = strtok_r(NULL, ",", &save)) {
		bool neg = *p == '!';
		if (neg)
			p++;
		if (fnmatch(p, name, 0) == 0) {
			if (neg)
				return false;
			got = true;
		}
	}
	return got;
}

static bool criteria_active(const char *criteria, unsigned version)
{
	/* Without a connection only "all" and (since 10.0) "version" can match. */
	_cleanup_free_ char *copy = xstrdup(criteria);
	char *save = NULL;
	bool any = false;
	for (char *a = strtok_r(copy, " ", &save); a; a = strtok_r(NULL, " ", &save)) {
		any = true;
		if (strcasecmp(a, "all") == 0)
			return true;
		char *val = NULL;
		char *eq = strchr(a, '=');
		if (eq && version >= SSHD_VERSION(10, 0)) {
			*eq = '\0';
			val = eq + 1;
		} else {
			val = strtok_r(NULL, " ", &save);
		}
		if (strcasecmp(a, "version") == 0 && version >= SSHD_VERSION(10, 0) && val) {
			char rel[32];
			snprintf(rel, sizeof(rel), "OpenSSH_%u.%u", version / 100, version % 100);
			if (!pattern_list_match(rel, val))
				return false;
			continue;
		}
		return false;
	}
	return any;
}

bool sshd_match_active(const struct sshd_config *cfg, long match, unsigned version)
{
	/* An Include inside an inactive Match reads its files with SSHCFG_NEVERMATCH. */
	for (int guard = 0; match >= 0 && guard < 1000; guard++) {
		const struct sshd_match *m = &cfg->matches[match];
		if (!criteria_active(m->criteria, version))
			return false;
		match = m->outer;
	}
	return true;
}

bool sshd_occurrence_active(const struct sshd_config *cfg, const struct sshd_occurrence *o,
			    unsigned version)
{
	return o->match < 0 || sshd_match_active(cfg, o->match, version);
}

long sshd_config_next(const struct sshd_config *cfg, const char *keyword, long after)
{
	for (size_t i = (size_t)(after + 1); i < cfg->n_occ; i++)
		if (strcasecmp(cfg->occ[i].keyword, keyword) == 0)
			return (long)i;
	return -1;
}

long sshd_config_decider(const struct sshd_config *cfg, const char *keyword, unsigned version)
{
	enum sshd_rule rule = sshd_keyword_rule(keyword, version);
	long found = -1;
	for (long i = sshd_config_next(cfg, keyword, -1); i >= 0;
	     i = sshd_config_next(cfg, keyword, i)) {
		if (!sshd_occurrence_active(cfg, &cfg->occ[i], version))
			continue;
		found = i;
		if (rule != SSHD_LAST)
			break;
	}
	return found;
}

/* ---- values --------------------------------------------------------------------------- */

/* One "%d" of sscanf: white space, a sign, digits; stored as int the way glibc does
 * (through long, truncated). Returns false when no digits follow. */
static bool scan_int(const char **p, int *out)
{
	const char *s = *p;
	while (isspace((unsigned char)*s))
		s++;
	const char *d = s;
	if (*d == '+' || *d == '-')
		d++;
	if (!isdigit((unsigned char)*d))
		return false;
	char *end;
	errno = 0;
	long v = strtol(s, &end, 10);
	*out = (int)(unsigned long)v;
	*p = end;
	return true;
}

/* sscanf(arg, "%d:%d:%d", ...): how many fields matched. */
static int scan_max_startups(const char *arg, int v[3])
{
	const char *p = arg;
	int n = 0;
	while (n < 3) {
		if (n > 0) {
			if (*p != ':')
				break;
			p++;
		}
		if (!scan_int(&p, &v[n]))
			break;
		n++;
	}
	return n;
}

int sshd_max_startups_parse(const char *arg, struct sshd_max_startups *out)
{
	int v[3] = { 0, 0, 0 };
	if (!arg || !*arg)
		return -EINVAL;
	int n = scan_max_startups(arg, v);
	if (n == 3) {
		if (v[0] > v[2] || v[1] > 100 || v[1] < 1)
			return -EINVAL;
		*out = (struct sshd_max_startups){ v[0], v[1], v[2] };
	} else if (n == 1) {
		*out = (struct sshd_max_startups){ v[0], -1, v[0] };
	} else {
		return -EINVAL;
	}
	if (out->start <= 0 || out->full <= 0)
		return -EINVAL;
	return 0;
}

int sshd_config_max_startups(const struct sshd_config *cfg, unsigned version,
			     struct sshd_max_startups *out, long *decider)
{
	*out = (struct sshd_max_startups){ 10, 30, 100 };
	*decider = -1;
	bool first_wins = sshd_keyword_rule("maxstartups", version) == SSHD_FIRST;
	int start = -1, rate = -1, full = -1;
	for (long i = sshd_config_next(cfg, "maxstartups", -1); i >= 0;
	     i = sshd_config_next(cfg, "maxstartups", i)) {
		const struct sshd_occurrence *o = &cfg->occ[i];
		if (!sshd_occurrence_active(cfg, o, version))
			continue;
		struct sshd_max_startups m;
		if (o->args.n != 1 || sshd_max_startups_parse(o->args.v[0], &m) < 0) {
			*decider = i;
			return -EINVAL; /* sshd exits on it, whichever line decides */
		}
		if (first_wins) {
			if (*decider >= 0)
				continue;
			if (m.rate >= 0) {
				start = m.start, rate = m.rate, full = m.full;
			} else if (version && version < SSHD_VERSION(10, 3)) {
				full = m.full; /* 10.1, 10.2: begin and rate stay unset */
			} else {
				start = full = m.full;
			}
		} else {
			/* Up to 10.0 sscanf writes straight into the options. */
			start = m.start;
			full = m.full;
			if (m.rate >= 0)
				rate = m.rate;
		}
		*decider = i;
	}
	if (full >= 0)
		out->full = full;
	if (rate >= 0)
		out->rate = rate;
	if (start >= 0)
		out->start = start;
	return 0;
}

int sshd_per_source_max_startups_parse(const char *arg, int *out)
{
	if (!arg)
		return -EINVAL;
	if (strcmp(arg, "none") == 0) {
		*out = INT_MAX;
		return 0;
	}
	/* strtonum(arg, 0, INT_MAX): optional white space and sign, digits, nothing after. */
	const char *p = arg;
	while (isspace((unsigned char)*p))
		p++;
	if (*p == '+' || *p == '-')
		p++;
	if (!isdigit((unsigned char)*p))
		return -EINVAL;
	char *end;
	errno = 0;
	long long v = strtoll(arg, &end, 10);
	if (*end || errno || v < 0 || v > INT_MAX)
		return -EINVAL;
	*out = (int)v;
	return 0;
}

/* a2port(): 0..65535 as a number, or a service name; we know only "ssh". -1 if bad. */
static int port_parse(const char *s)
{
	unsigned long v;
	if (parse_uint(s, 0, 65535, &v) == 0)
		return (int)v;
	if (strcmp(s, "ssh") == 0)
		return 22;
	return -1;
}

/* ListenAddress host[:port] / [v6]:port / bare v6: the port given, 0 for none, -1 if bad. */
static int listen_port(const char *arg)
{
	const char *c1 = strchr(arg, ':');
	if (!strchr(arg, '[') && c1 && strchr(c1 + 1, ':'))
		return 0;
	const char *portp = NULL;
	if (arg[0] == '[') {
		const char *rb = strchr(arg, ']');
		if (!rb)
			return -1;
		if (rb[1] == ':')
			portp = rb + 2;
		else if (rb[1] != '\0')
			return -1;
	} else if (c1) {
		portp = c1 + 1;
	}
	if (!portp)
		return 0;
	int p = port_parse(portp);
	return p > 0 ? p : -1;
}

static int cmp_uint(const void *a, const void *b)
{
	unsigned x = *(const unsigned *)a, y = *(const unsigned *)b;
	return x < y ? -1 : x > y;
}

static void port_add(unsigned **v, size_t *n, unsigned p)
{
	for (size_t i = 0; i < *n; i++)
		if ((*v)[i] == p)
			return;
	*v = xgrow(*v, *n, sizeof(**v));
	(*v)[(*n)++] = p;
}

int sshd_config_ports(const struct sshd_config *cfg, unsigned version, unsigned **ports,
		      size_t *n, long *bad)
{
	unsigned *base = NULL, *out = NULL;
	size_t n_base = 0, n_out = 0;
	bool any_listen = false, bare_listen = false;
	*bad = -1;
	for (size_t i = 0; i < cfg->n_occ; i++) {
		const struct sshd_occurrence *o = &cfg->occ[i];
		bool is_port = strcmp(o->keyword, "port") == 0;
		bool is_listen = strcmp(o->keyword, "listenaddress") == 0;
		if ((!is_port && !is_listen) || !sshd_occurrence_active(cfg, o, version))
			continue;
		int p = o->args.n ? (is_port ? port_parse(o->args.v[0]) : listen_port(o->args.v[0]))
				  : -1;
		if (p < 0 || (is_port && p == 0)) {
			*bad = (long)i;
			free(base);
			free(out);
			return -EINVAL;
		}
		if (is_port) {
			port_add(&base, &n_base, (unsigned)p);
		} else {
			any_listen = true;
			if (p == 0)
				bare_listen = true;
			else
				port_add(&out, &n_out, (unsigned)p);
		}
	}
	if (n_base == 0)
		port_add(&base, &n_base, 22);
	if (!any_listen || bare_listen)
		for (size_t i = 0; i < n_base; i++)
			port_add(&out, &n_out, base[i]);
	free(base);
	qsort(out, n_out, sizeof(*out), cmp_uint);
	*ports = out;
	*n = n_out;
	return 0;
}

void sshd_config_host_keys(const struct sshd_config *cfg, unsigned version, struct strv *out,
			   bool *defaults)
{
	for (long i = sshd_config_next(cfg, "hostkey", -1); i >= 0;
	     i = sshd_config_next(cfg, "hostkey", i)) {
		const struct sshd_occurrence *o = &cfg->occ[i];
		if (!sshd_occurrence_active(cfg, o, version) || o->args.n == 0)
			continue;
		const char *a = o->args.v[0];
		/* derelativise_path(): relative to sshd's working directory, "/" as a service. */
		strv_push_owned(out, a[0] == '/' ? xstrdup(a) : xasprintf("/%s", a));
	}
	*defaults = out->n == 0;
	if (*defaults) {
		strv_push(out, SSHD_SSHDIR "/ssh_host_rsa_key");
		strv_push(out, SSHD_SSHDIR "/ssh_host_ecdsa_key");
		strv_push(out, SSHD_SSHDIR "/ssh_host_ed25519_key");
	}
}

/* ---- which release -------------------------------------------------------------------- */

static int version_at(const char *s, unsigned *version)
{
	if (!isdigit((unsigned char)s[0]))
		return -EINVAL;
	char *end;
	unsigned long major = strtoul(s, &end, 10);
	if (*end != '.' || !isdigit((unsigned char)end[1]) || major == 0 || major > 99)
		return -EINVAL;
	unsigned long minor = strtoul(end + 1, &end, 10);
	if (minor > 99)
		return -EINVAL;
	*version = SSHD_VERSION((unsigned)major, (unsigned)minor);
	return 0;
}

int sshd_version_parse(const char *s, unsigned *version)
{
	while (isspace((unsigned char)*s))
		s++;
	if (strncmp(s, "OpenSSH_", 8) == 0)
		s += 8;
	const char *colon = strchr(s, ':');
	if (colon && colon > s) {
		const char *p = s;
		while (p < colon && isdigit((unsigned char)*p))
			p++;
		if (p == colon) /* a dpkg epoch */
			s = colon + 1;
	}
	return version_at(s, version);
}

int sshd_version_from_dpkg_status(const char *buf, size_t len, unsigned *version)
{
	/* Stanzas are separated by blank lines; fields we need are Package, Status, Version. */
	size_t i = 0;
	while (i < len) {
		bool ours = false, installed = false;
		char ver[128] = "";
		while (i < len) {
			const char *nl = memchr(buf + i, '\n', len - i);
			size_t end = nl ? (size_t)(nl - buf) : len;
			size_t n = end - i;
			const char *l = buf + i;
			i = end + 1;
			if (n == 0)
				break;
			if (n == 23 && memcmp(l, "Package: openssh-server", 23) == 0)
				ours = true;
			else if (n > 8 && memcmp(l, "Status: ", 8) == 0)
				installed = n >= 10 && memcmp(l + n - 10, " installed", 10) == 0;
			else if (n > 9 && memcmp(l, "Version: ", 9) == 0 && n - 9 < sizeof(ver)) {
				memcpy(ver, l + 9, n - 9);
				ver[n - 9] = '\0';
			}
		}
		if (ours && installed && ver[0])
			return sshd_version_parse(ver, version);
	}
	return -ENOENT;
}

int sshd_version_from_binary(const char *buf, size_t len, unsigned *version)
{
	static const char tag[] = "OpenSSH_";
	const size_t tl = sizeof(tag) - 1;
	for (const char *p = buf; len >= tl && (p = memmem(p, len - (size_t)(p - buf), tag, tl));
	     p++) {
		char tmp[16];
		size_t rest = len - (size_t)(p - buf) - tl;
		size_t n = rest < sizeof(tmp) - 1 ? rest : sizeof(tmp) - 1;
		memcpy(tmp, p + tl, n);
		tmp[n] = '\0';
		/* "OpenSSH_%s" format strings and "OpenSSH_2.3*" compat patterns are not it:
		 * the release is digits, '.', digits, then 'p' or the end of the string. */
		char *end;
		if (!isdigit((unsigned char)tmp[0]))
			continue;
		strtoul(tmp, &end, 10);
		if (*end != '.' || !isdigit((unsigned char)end[1]))
			continue;
		strtoul(end + 1, &end, 10);
		if (*end != 'p' && *end != '\0')
			continue;
		if (version_at(tmp, version) == 0 && *version >= SSHD_VERSION(3, 0))
			return 0;
	}
	return -ENOENT;
}

/* ---- PerSourcePenalties (servconf.c case sPerSourcePenalties, misc.c convtime) --------- */

long sshd_convtime(const char *s)
{
	long total = 0;
	if (!s || !*s)
		return -1;
	while (*s) {
		if (!isdigit((unsigned char)*s))
			return -1;
		long secs = 0;
		for (; isdigit((unsigned char)*s); s++) {
			secs = secs * 10 + (*s - '0');
			if (secs > INT_MAX)
				return -1;
		}
		long mult = 1;
		switch (*s) {
		case '\0':
			break;
		case 's': case 'S': mult = 1; s++; break;
		case 'm': case 'M': mult = 60; s++; break;
		case 'h': case 'H': mult = 3600; s++; break;
		case 'd': case 'D': mult = 86400; s++; break;
		case 'w': case 'W': mult = 604800; s++; break;
		default:
			return -1;
		}
		if (secs > INT_MAX / mult || total > INT_MAX - secs * mult)
			return -1;
		total += secs * mult;
	}
	return total;
}

int sshd_config_penalties(const struct sshd_config *cfg, unsigned version,
			  struct sshd_penalties *out, long *bad)
{
	static const struct {
		const char *prefix;
		size_t field; /* index in decider[] and in the times below */
	} times[] = {
		{ "crash:", 0 }, { "authfail:", 1 }, { "noauth:", 2 }, { "grace-exceeded:", 3 },
		{ "refuseconnection:", 4 }, { "max:", 5 }, { "min:", 6 },
	};
	static const long defaults[7] = { 90, 5, 1, 10, 10, 600, 15 };
	long val[7];
	int enabled = -1, overflow = -1, overflow6 = -1;
	*bad = -1;
	for (size_t i = 0; i < 7; i++) {
		val[i] = -1;
		out->decider[i] = -1;
	}
	for (long i = sshd_config_next(cfg, "persourcepenalties", -1); i >= 0;
	     i = sshd_config_next(cfg, "persourcepenalties", i)) {
		const struct sshd_occurrence *o = &cfg->occ[i];
		bool active = sshd_occurrence_active(cfg, o, version);
		for (size_t a = 0; a < o->args.n; a++) {
			const char *arg = o->args.v[a];
			if (strcasecmp(arg, "no") == 0 || strcasecmp(arg, "yes") == 0) {
				if (o->args.n > 1) {
					*bad = i;
					return -EINVAL; /* "argument must appear alone" */
				}
				if (active && enabled == -1)
					enabled = strcasecmp(arg, "yes") == 0;
				continue;
			}
			int *ov = strcmp(arg, "overflow:deny-all") == 0 ||
						  strcmp(arg, "overflow:permissive") == 0
					  ? &overflow
				  : strcmp(arg, "overflow6:deny-all") == 0 ||
						  strcmp(arg, "overflow6:permissive") == 0
					  ? &overflow6
					  : NULL;
			if (ov) {
				if (active && *ov == -1)
					*ov = strstr(arg, "deny-all") != NULL;
				if (active && enabled == -1)
					enabled = 1;
				continue;
			}
			if (strncmp(arg, "max-sources4:", 13) == 0 ||
			    strncmp(arg, "max-sources6:", 13) == 0) {
				unsigned long v;
				if (parse_uint(arg + 13, 0, INT_MAX, &v) < 0) {
					*bad = i;
					return -EINVAL;
				}
				if (active && enabled == -1)
					enabled = 1;
				continue;
			}
			size_t k;
			for (k = 0; k < ARRAY_SIZE(times); k++)
				if (strncmp(arg, times[k].prefix, strlen(times[k].prefix)) == 0)
					break;
			long secs = k < ARRAY_SIZE(times) ? sshd_convtime(arg + strlen(times[k].prefix))
							  : -1;
			if (secs < 0) {
				*bad = i;
				return -EINVAL; /* "unsupported keyword" or "invalid time value" */
			}
			size_t f = times[k].field;
			if (active && val[f] == -1) {
				val[f] = secs;
				out->decider[f] = i;
				if (enabled == -1)
					enabled = 1;
			}
		}
		if (o->args.n == 0) {
			*bad = i;
			return -EINVAL;
		}
	}
	out->enabled = enabled != 0;
	long *dst[7] = { &out->crash, &out->authfail, &out->noauth, &out->grace,
			 &out->refuseconnection, &out->max, &out->min };
	for (size_t i = 0; i < 7; i++)
		*dst[i] = val[i] >= 0 ? val[i] : defaults[i];
	out->overflow_deny_all = overflow == 1;
	out->overflow6_deny_all = overflow6 == 1;
	return 0;
}

/* ---- PerSourcePenaltyExemptList (srclimit.c: addr_match_list(addr, exempt) == 1) ---- */

/* Is entry (one item of an exempt list, without its '!') about net? For a CIDR entry:
 * `cover` asks whether it holds all of net, otherwise whether they share an address. A
 * pattern entry ("203.0.113.*") is matched against the network's first address. */
static bool exempt_entry_hits(const char *entry, const struct cidr *net, bool cover)
{
	struct cidr c;
	if (cidr_parse(entry, &c) == 0)
		return cover ? cidr_contains(&c, net) : cidr_overlaps(&c, net);
	if (cover && ((net->family == AF_INET && net->prefix != 32) ||
		      (net->family == AF_INET6 && net->prefix != 128)))
		return false;
	char a[CIDR_STRLEN];
	cidr_format_addr(net, a);
	return fnmatch(entry, a, 0) == 0;
}

char *sshd_exempt_list_merge(const char *list, const struct cidr_list *protect)
{
	struct strv keep = { 0 };
	bool changed = false;
	_cleanup_free_ char *copy = xstrdup(list ? list : "");
	char *save = NULL;
	for (char *e = strtok_r(copy, ",", &save); e; e = strtok_r(NULL, ",", &save)) {
		bool drop = strcmp(e, "none") == 0;
		for (size_t i = 0; !drop && e[0] == '!' && i < protect->n; i++)
			drop = exempt_entry_hits(e + 1, &protect->v[i], false);
		if (drop)
			changed = true;
		else
			strv_push(&keep, e);
	}
	size_t admin = keep.n;
	for (size_t i = 0; i < protect->n; i++) {
		bool covered = false;
		for (size_t k = 0; k < admin && !covered; k++)
			covered = keep.v[k][0] != '!' && exempt_entry_hits(keep.v[k], &protect->v[i], true);
		if (covered)
			continue;
		char net[CIDR_STRLEN];
		cidr_format(&protect->v[i], net);
		if (!strv_contains(&keep, net))
			strv_push(&keep, net);
		changed = true;
	}
	char *out = NULL;
	if (changed && keep.n) {
		struct buf b = { 0 };
		for (size_t i = 0; i < keep.n; i++)
			buf_printf(&b, "%s%s", i ? "," : "", keep.v[i]);
		out = b.data;
	}
	strv_free(&keep);
	return out;
}
