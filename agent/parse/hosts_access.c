/* hosts_access.c: tcp_wrappers' hosts.allow / hosts.deny, read and matched the way Debian's
 * tcpd 7.6.q does (upstream 7.6 with the Debian patches: IPv6 (usagi), n.n.n.n/len
 * (cidr_support), wildcards, `/file` lists (tcpd_blacklist), port patterns (match_port), the
 * long line fix, PROCESS_OPTIONS and ACLEXEC compiled in, PARANOID not). Each rule of the
 * reference code that matters is named where it is reproduced. */
#include "parse/hosts_access.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "util.h"

/* Nesting of `/file` lists that include other lists; tcpd recurses without limit (and a list
 * that includes itself crashes it). Beyond these bounds the answer is MAYBE. The budget is
 * for one query's whole decision (every rule of both tables): each pattern-file token costs
 * 1 + its length / 16 and each file named FILE_COST, so at most about 4 MiB of pattern text
 * (250,000 short patterns) is matched per query, however the files include each other and
 * however many rules name them. */
#define MAX_FILE_DEPTH 8
#define FILE_TOKEN_BUDGET 250000
#define FILE_COST 64 /* of the budget, for each file named */

typedef enum hosts_access_match tri;
#define NO HOSTS_ACCESS_NO
#define MAYBE HOSTS_ACCESS_MAYBE
#define YES HOSTS_ACCESS_YES

/* Kleene logic: over a network, YES is "every address", NO "none", MAYBE "some or unknown". */
static tri tri_or(tri a, tri b)
{
	return a == YES || b == YES ? YES : a == NO && b == NO ? NO : MAYBE;
}
static tri tri_and(tri a, tri b)
{
	return a == NO || b == NO ? NO : a == YES && b == YES ? YES : MAYBE;
}
static tri tri_not(tri a)
{
	return a == YES ? NO : a == NO ? YES : MAYBE;
}
static tri tri_bool(bool b)
{
	return b ? YES : NO;
}

/* ---- reading: xgets() and the line classification of table_match() ---- */

void hosts_access_cursor_init(struct hosts_access_cursor *c, const char *buf, size_t len)
{
	c->buf = buf ? buf : "";
	c->len = buf ? len : 0;
	c->pos = 0;
	c->line = 0;
	c->done = false;
	/* one vector scan of the whole file spares the reader a NUL test on every byte */
	c->has_nul = memchr(c->buf, '\0', c->len) != NULL;
}

/* misc.c xgets() over fgets(buf, 2048): each fgets reads up to the next newline or until the
 * buffer is full; strlen() then cuts what follows a NUL byte; a backslash before the newline
 * joins the next line; a full buffer ends the line without its newline. Returns the length
 * assembled in c->text, 0 at end of file. */
static size_t read_logical(struct hosts_access_cursor *c, struct hosts_access_rule *r)
{
	size_t room = HOSTS_ACCESS_BUFLEN, n = 0;

	r->start = c->pos;
	r->line = c->line + 1;
	r->n_lines = 0;
	r->has_nul = false;
	r->too_long = false;
	for (;;) {
		if (c->pos >= c->len)
			break;
		const char *p = c->buf + c->pos;
		size_t avail = c->len - c->pos, lim = avail < room - 1 ? avail : room - 1;
		size_t k, zpos = SIZE_MAX;
		if (!c->has_nul) {
			const char *q = memchr(p, '\n', lim);
			k = q ? (size_t)(q - p) : lim;
		} else {
			/* one byte loop finds the newline and the first NUL before it */
			for (k = 0; k < lim && p[k] != '\n'; k++)
				if (p[k] == '\0' && zpos == SIZE_MAX)
					zpos = k;
		}
		const char *nl = k < lim ? p + k : NULL;
		size_t chunk = nl ? k + 1 : lim;
		const char *z = zpos != SIZE_MAX ? p + zpos : NULL;
		size_t got = z ? zpos : chunk;
		c->pos += chunk;
		if (nl) {
			c->line++;
			r->n_lines++;
		}
		if (z)
			r->has_nul = true;
		if (got >= 1 && p[got - 1] == '\n') {
			if (got >= 2 && p[got - 2] == '\\') {
				got -= 2;
			} else {
				memcpy(c->text + n, p, got);
				n += got;
				break;
			}
		}
		memcpy(c->text + n, p, got);
		n += got;
		room -= got;
		if (room == 1) {
			r->too_long = true;
			break;
		}
	}
	c->text[n] = '\0';
	r->end = c->pos;
	if (n > 0 && c->text[n - 1] != '\n' && !r->too_long)
		r->n_lines++;
	return n;
}

/* Bytes that stop the scans of a rule line (tables: this runs for every line of a file). */
static const bool stop_colon[256] = {['\0'] = true, [':'] = true, ['['] = true, [']'] = true};
static const bool list_sep[256] = {
	[' '] = true, [','] = true, ['\t'] = true, ['\r'] = true, ['\n'] = true};

/* split_at(s, ':') without brackets in the way, else NULL-safe fallback to split_at(). */
static char *split_at(char *s, int delim);
static char *split_colon(char *s)
{
	char *cp = s;
	while (!stop_colon[(unsigned char)*cp])
		cp++;
	if (*cp == ':') {
		*cp = '\0';
		return cp + 1;
	}
	return *cp ? split_at(s, ':') : NULL;
}

/* misc.c split_at() as built with INET6: the first delimiter outside [brackets]. */
static char *split_at(char *s, int delim)
{
	int bracket = 0;
	for (char *cp = s; cp && *cp; cp++) {
		if (*cp == '[')
			bracket++;
		else if (*cp == ']')
			bracket--;
		else if (bracket == 0 && *cp == delim) {
			*cp = '\0';
			return cp + 1;
		}
	}
	return NULL;
}

/* strtok(list, ", \t\r\n") over the whole list (byte loops: lines are short, and the
 * SSE string functions cost more to set up than they save here). */
static size_t tokenize(char *s, char **v)
{
	size_t n = 0;
	for (;;) {
		while (list_sep[(unsigned char)*s])
			s++;
		if (!*s)
			return n;
		v[n++] = s;
		while (*s && !list_sep[(unsigned char)*s])
			s++;
		if (!*s)
			return n;
		*s++ = '\0';
	}
}

int hosts_access_next(struct hosts_access_cursor *c, struct hosts_access_rule *r)
{
	if (c->done)
		return 0;
	size_t n = read_logical(c, r);
	r->daemons = c->daemons;
	r->clients = c->clients;
	r->n_daemons = r->n_clients = 0;
	r->options = NULL;
	if (n == 0) {
		c->done = true;
		return 0;
	}
	char *t = c->text;
	/* table_match(): "missing newline or line too long" ends the table with an error. */
	if (t[n - 1] != '\n') {
		r->kind = HOSTS_ACCESS_BROKEN;
		c->done = true;
		return 1;
	}
	if (t[0] == '#') {
		r->kind = HOSTS_ACCESS_COMMENT;
		return 1;
	}
	const char *b = t;
	while (*b == ' ' || *b == '\t' || *b == '\r' || *b == '\n')
		b++;
	if (*b == '\0') {
		r->kind = HOSTS_ACCESS_BLANK;
		return 1;
	}
	char *cl = split_colon(t);
	if (!cl) {
		r->kind = HOSTS_ACCESS_NO_COLON;
		return 1;
	}
	r->kind = HOSTS_ACCESS_RULE;
	r->options = split_colon(cl);
	r->n_daemons = tokenize(t, c->daemons);
	r->n_clients = tokenize(cl, c->clients);
	return 1;
}

/* ---- addresses as tcpd sees them ---- */

/* misc.c dot_quad_addr(): exactly four runs of non-dots, then inet_addr(), whose failure value
 * is also 255.255.255.255. Host byte order. */
static bool dot_quad(const char *s, uint32_t *out)
{
	int runs = 0;
	bool in_run = false;
	for (const char *cp = s; *cp; cp++) {
		if (*cp == '.') {
			in_run = false;
		} else if (!in_run) {
			in_run = true;
			runs++;
		}
	}
	struct in_addr a;
	if (runs != 4 || !inet_aton(s, &a) || a.s_addr == INADDR_NONE)
		return false;
	*out = ntohl(a.s_addr);
	return true;
}

/* misc.c cidr_mask_addr(): atoi() in 1..32. */
static bool cidr_mask(const char *s, uint32_t *out)
{
	int bits = atoi(s);
	if (bits < 1 || bits > 32)
		return false;
	*out = bits == 32 ? 0xffffffffu : ~(0xffffffffu >> bits);
	return true;
}

/* getaddrinfo(AF_INET6, AI_NUMERICHOST): an IPv6 literal, optionally with a numeric %scope
 * (a named scope depends on the instance's interfaces and is taken as not parsing). glibc
 * has no NI_WITHSCOPEID, so tcpd never compares scopes. */
static bool parse_v6(const char *s, size_t n, struct cidr *out)
{
	char tmp[INET6_ADDRSTRLEN + 16];
	const char *pct = memchr(s, '%', n);
	if (pct) {
		const char *d = pct + 1;
		if (d == s + n)
			return false;
		for (; d < s + n; d++)
			if (!isdigit((unsigned char)*d))
				return false;
		n = (size_t)(pct - s);
	}
	if (n == 0 || n >= sizeof(tmp))
		return false;
	memcpy(tmp, s, n);
	tmp[n] = '\0';
	struct cidr c = {.family = AF_INET6, .prefix = 128};
	if (inet_pton(AF_INET6, tmp, c.addr) != 1)
		return false;
	*out = c;
	return true;
}

static bool is_single(const struct cidr *c)
{
	return c->prefix == (c->family == AF_INET ? 32u : 128u);
}

/* a.b.c.d without leading zeros, and nothing else: the text tcpd has for an IPv4 client. */
static bool canonical_v4(const char *s, struct cidr *out)
{
	uint32_t v = 0;
	for (int part = 0; part < 4; part++) {
		unsigned o = (unsigned)(*s - '0');
		if (o > 9)
			return false;
		s++;
		if (o != 0)
			for (int k = 0; k < 2 && (unsigned)(*s - '0') <= 9; k++)
				o = o * 10 + (unsigned)(*s++ - '0');
		if (o > 255 || *s != (part == 3 ? '\0' : '.'))
			return false;
		s++;
		v = v << 8 | o;
	}
	memset(out, 0, sizeof(*out));
	out->family = AF_INET;
	out->prefix = 32;
	out->addr[0] = (uint8_t)(v >> 24);
	out->addr[1] = (uint8_t)(v >> 16);
	out->addr[2] = (uint8_t)(v >> 8);
	out->addr[3] = (uint8_t)v;
	return true;
}

/* A literal that equals the canonical text of exactly one address (what tcpd compares with):
 * a.b.c.d without leading zeros, or the inet_ntop() form of an IPv6 address. */
static bool canonical_addr(const char *s, struct cidr *out)
{
	if (!strchr(s, ':'))
		return canonical_v4(s, out);
	size_t n = strlen(s);
	struct cidr c;
	char back[INET6_ADDRSTRLEN];
	if (!parse_v6(s, n, &c) || strchr(s, '%') ||
	    !inet_ntop(AF_INET6, c.addr, back, sizeof(back)) || strcasecmp(back, s) != 0)
		return false;
	*out = c;
	return true;
}

/* ---- string_match() and its wildcards ---- */

/* match_pattern_ylo(): '*' any run, '?' any one character, the rest compared ignoring case. */
static bool glob_match(const char *s, const char *p)
{
	const char *star = NULL, *resume = NULL;
	while (*s) {
		if (*p == '*') {
			star = p++;
			resume = s;
		} else if (*p && (*p == '?' ||
				  toupper((unsigned char)*p) == toupper((unsigned char)*s))) {
			p++;
			s++;
		} else if (star) {
			p = star + 1;
			s = ++resume;
		} else {
			return false;
		}
	}
	while (*p == '*')
		p++;
	return *p == '\0';
}

/* string_match() against a string that is known. */
static tri string_match_text(const char *tok, const char *str)
{
	uint32_t dummy;
	size_t tl = strlen(tok), sl;

	if (strncasecmp(str, "::ffff:", 7) == 0 && dot_quad(str + 7, &dummy))
		str += 7;
	sl = strlen(str);
	if (strpbrk(tok, "*?"))
		return tri_bool(glob_match(str, tok));
	if (tok[0] == '.')
		return tri_bool(sl > tl && strcasecmp(tok, str + (sl - tl)) == 0);
	if (strcasecmp(tok, "ALL") == 0)
		return YES;
	if (strcasecmp(tok, "KNOWN") == 0)
		return tri_bool(strcasecmp(str, "unknown") != 0);
	if (tl > 0 && tok[tl - 1] == '.')
		return tri_bool(strncasecmp(tok, str, tl) == 0);
	if (tl >= 2 && tok[0] == '[' && tok[tl - 1] == ']') {
		struct cidr a, b;
		if (!parse_v6(tok + 1, tl - 2, &a) || !parse_v6(str, sl, &b))
			return NO;
		return tri_bool(memcmp(a.addr, b.addr, 16) == 0);
	}
	return tri_bool(strcasecmp(tok, str) == 0);
}

/* string_match() against a string we do not know (a host name without DNS, an ident user). */
static tri string_match_unknown(const char *tok)
{
	size_t tl = strlen(tok);
	if (strpbrk(tok, "*?"))
		return MAYBE;
	if (strcasecmp(tok, "ALL") == 0)
		return YES;
	/* "[...]" compares parsed IPv6 addresses, and no name resolves to an IPv6 literal
	 * (glibc's resolver refuses names with ':'). */
	if (tl >= 2 && tok[0] == '[' && tok[tl - 1] == ']')
		return NO;
	return MAYBE;
}

/* Decimal text of 0..255, for the IPv4 automaton. */
static void octet_text(unsigned v, char out[4])
{
	char *o = out;
	if (v >= 100)
		*o++ = (char)('0' + v / 100);
	if (v >= 10)
		*o++ = (char)('0' + v / 10 % 10);
	*o++ = (char)('0' + v % 10);
	*o = '\0';
}

/* The glob as a bit-parallel NFA over positions 0..m (m <= 63 after collapsing stars). */
struct glob_nfa {
	uint64_t star, accept;
	uint64_t on[128]; /* positions that advance on character c ('?' or c) */
};

static uint64_t nfa_close(const struct glob_nfa *g, uint64_t s)
{
	return s | (s & g->star) << 1;
}

static uint64_t nfa_step(const struct glob_nfa *g, uint64_t s, unsigned char ch)
{
	uint64_t adv = ch < 128 ? g->on[ch] : 0;
	return nfa_close(g, ((s & adv) << 1) | (s & g->star));
}

/* Does a glob match every, none or some of the dotted-quad texts of an IPv4 network? A CIDR
 * network is a product of one value range per octet, so the texts are a product language:
 * run the NFA over it, keeping the set of distinct NFA states after each octet. */
#define GLOB_MAX_STATES 256
static tri glob_v4_net(const char *pat, const struct cidr *n)
{
	char p[64];
	size_t m = 0, literal = 0;
	for (const char *s = pat; *s; s++) {
		if (*s == '*' && m > 0 && p[m - 1] == '*')
			continue;
		if (*s != '*' && !strchr("0123456789.?", *s))
			return NO;
		if (*s != '*' && ++literal > 15)
			return NO; /* "255.255.255.255" has 15 characters */
		if (m >= 63)
			return MAYBE;
		p[m++] = *s;
	}
	struct glob_nfa g = {0};
	for (size_t i = 0; i < m; i++) {
		if (p[i] == '*')
			g.star |= 1ull << i;
		else if (p[i] == '?')
			for (unsigned c = 0; c < 128; c++)
				g.on[c] |= 1ull << i;
		else
			g.on[(unsigned char)p[i]] |= 1ull << i;
	}
	g.accept = 1ull << m;

	uint64_t cur[GLOB_MAX_STATES], next[GLOB_MAX_STATES] = {0};
	size_t n_cur = 1, n_next;
	cur[0] = nfa_close(&g, 1);
	uint32_t base = cidr_v4_word(n->addr);
	for (int k = 0; k < 4; k++) {
		unsigned fixed_bits = n->prefix > (unsigned)k * 8 ? n->prefix - (unsigned)k * 8 : 0;
		unsigned o = (base >> (24 - 8 * k)) & 0xff, lo = o, hi = o;
		if (fixed_bits < 8)
			hi = lo | (0xffu >> fixed_bits);
		n_next = 0;
		for (size_t i = 0; i < n_cur; i++) {
			uint64_t s0 = k > 0 ? nfa_step(&g, cur[i], '.') : cur[i];
			for (unsigned v = lo; v <= hi; v++) {
				char txt[4];
				octet_text(v, txt);
				uint64_t s = s0;
				for (const char *c = txt; *c && s; c++)
					s = nfa_step(&g, s, (unsigned char)*c);
				size_t j;
				for (j = 0; j < n_next && next[j] != s; j++)
					;
				if (j == n_next) {
					if (n_next == GLOB_MAX_STATES)
						return MAYBE;
					next[n_next++] = s;
				}
			}
		}
		memcpy(cur, next, n_next * sizeof(cur[0]));
		n_cur = n_next;
	}
	bool any = false, all = true;
	for (size_t i = 0; i < n_cur; i++) {
		if (cur[i] & g.accept)
			any = true;
		else
			all = false;
	}
	return all ? YES : any ? MAYBE : NO;
}

/* The same question for an IPv6 network (not a single address): IPv6 text is not a product
 * language (the "::" depends on the whole address), so only sound shortcuts. */
static tri glob_v6_net(const char *pat, const struct cidr *n)
{
	bool only_stars = true;
	for (const char *s = pat; *s; s++) {
		if (*s != '*')
			only_stars = false;
		if (!strchr("0123456789abcdefABCDEF:.*?", *s))
			return NO;
	}
	if (only_stars)
		return YES;
	/* inet_ntop() writes dots only for ::a.b.c.d, inside ::/96, after the colons. */
	static const struct cidr compat = {.family = AF_INET6, .prefix = 96};
	if (strchr(pat, '.') && !cidr_overlaps(n, &compat))
		return NO;
	size_t lit = strcspn(pat, "*?");
	const char *dot = memchr(pat, '.', lit);
	if (dot && !memchr(pat, ':', (size_t)(dot - pat)))
		return NO;
	return MAYBE;
}

static tri glob_net(const char *pat, const struct cidr *n)
{
	return n->family == AF_INET ? glob_v4_net(pat, n) : glob_v6_net(pat, n);
}

/* ---- host_match() ---- */

enum addr_kind { ADDR_NET, ADDR_TEXT, ADDR_ANY };
struct host_view {
	enum addr_kind kind;
	struct cidr net;	/* ADDR_NET: the address, or the network of addresses */
	char text[CIDR_STRLEN]; /* ADDR_NET single address: its text; ADDR_TEXT: the string */
	const char *name;	/* NULL: any name ("unknown" and "paranoid" included) */
};

struct mctx {
	const struct hosts_access_query *q;
	struct host_view client, server;
	unsigned depth;
	const char *open_files[MAX_FILE_DEPTH];
	size_t budget; /* pattern-file tokens left for this evaluation */
};

static tri string_match_net(const char *tok, const struct host_view *h)
{
	const struct cidr *n = &h->net;
	size_t tl = strlen(tok);
	char pat[HOSTS_ACCESS_BUFLEN + 4];

	if (is_single(n))
		return string_match_text(tok, h->text);
	if (tl + 3 > sizeof(pat))
		return MAYBE;
	if (strpbrk(tok, "*?"))
		return glob_net(tok, n);
	if (tok[0] == '.') {
		snprintf(pat, sizeof(pat), "?*%s", tok);
		return glob_net(pat, n);
	}
	if (strcasecmp(tok, "ALL") == 0 || strcasecmp(tok, "KNOWN") == 0)
		return YES;
	if (tl > 0 && tok[tl - 1] == '.') {
		snprintf(pat, sizeof(pat), "%s*", tok);
		return glob_net(pat, n);
	}
	struct cidr a;
	if (tl >= 2 && tok[0] == '[' && tok[tl - 1] == ']') {
		if (!parse_v6(tok + 1, tl - 2, &a))
			return NO;
	} else if (!canonical_addr(tok, &a)) {
		return NO;
	}
	return cidr_contains(n, &a) ? MAYBE : NO;
}

/* masked_match4() over a network: (addr & mask) == net for every / some address. */
static tri masked4(const char *net_tok, const char *mask_tok, const struct cidr *n)
{
	uint32_t net, mask;
	if (n->family != AF_INET || !dot_quad(net_tok, &net))
		return NO;
	if (!dot_quad(mask_tok, &mask) && !cidr_mask(mask_tok, &mask))
		return NO;
	uint32_t free_bits = n->prefix >= 32 ? 0 : 0xffffffffu >> n->prefix;
	uint32_t base = cidr_v4_word(n->addr);
	if ((net & ~mask) != 0 || ((base ^ net) & mask & ~free_bits) != 0)
		return NO;
	return (mask & free_bits) == 0 ? YES : MAYBE;
}

/* masked_match6(): "[v6]/len", len by atoi() in 0..128; the net's host bits are masked too. */
static tri masked6(const char *net_tok, const char *mask_tok, const struct cidr *n)
{
	size_t tl = strlen(net_tok);
	struct cidr p;
	if (n->family != AF_INET6 || tl < 2 || net_tok[0] != '[' || net_tok[tl - 1] != ']' ||
	    !parse_v6(net_tok + 1, tl - 2, &p))
		return NO;
	int len = atoi(mask_tok);
	if (len < 0 || len > 128)
		return NO;
	p.prefix = (unsigned)len;
	for (unsigned i = p.prefix; i < 128; i++)
		p.addr[i / 8] &= (uint8_t) ~(0x80u >> (i % 8));
	if (cidr_contains(&p, n))
		return YES;
	return cidr_overlaps(&p, n) ? MAYBE : NO;
}

static bool hostname_known(const char *s)
{
	return strcasecmp(s, "unknown") != 0 && strcasecmp(s, "paranoid") != 0;
}

/* NOT_INADDR(): anything but digits, dots and slashes may be a host name. */
static bool not_inaddr(const char *s)
{
	return s[strspn(s, "01234567890./")] != '\0';
}

static tri host_match(char *tok, const struct host_view *h, struct mctx *m);

/* hostfile_match(): whitespace-separated patterns (fscanf "%s"), the first match wins. */
static tri file_match(const char *path, const struct host_view *h, struct mctx *m)
{
	const struct hosts_access_query *q = m->q;
	const char *data;
	size_t len;

	/* every file named costs too: lists that name each other many times over would
	 * otherwise be opened exponentially often before the depth limit */
	if (!q->read_file || m->depth >= MAX_FILE_DEPTH || m->budget < FILE_COST) {
		m->budget = m->budget < FILE_COST ? 0 : m->budget - FILE_COST;
		return MAYBE;
	}
	m->budget -= FILE_COST;
	for (unsigned i = 0; i < m->depth; i++)
		if (strcmp(m->open_files[i], path) == 0)
			return MAYBE; /* a loop: tcpd would recurse until it crashes */
	int rc = q->read_file(q->read_arg, path, &data, &len);
	if (rc == -ENOENT)
		return NO;
	if (rc < 0)
		return MAYBE;
	tri acc = NO;
	char tok[HOSTS_ACCESS_BUFLEN];
	size_t i = 0;
	m->open_files[m->depth++] = path;
	while (i < len && acc != YES) {
		while (i < len && isspace((unsigned char)data[i]))
			i++;
		size_t s = i;
		while (i < len && !isspace((unsigned char)data[i]))
			i++;
		if (i == s)
			break;
		size_t cost = 1 + (i - s) / 16;
		if (m->budget < cost) {
			m->budget = 0;
			acc = tri_or(acc, MAYBE);
			break;
		}
		m->budget -= cost;
		/* host_match() sees the token up to its first NUL byte. */
		const char *z = memchr(data + s, '\0', i - s);
		size_t n = z ? (size_t)(z - (data + s)) : i - s;
		if (n == 0)
			continue;
		if (n >= sizeof(tok)) {
			acc = tri_or(acc, MAYBE);
			continue;
		}
		memcpy(tok, data + s, n);
		tok[n] = '\0';
		acc = tri_or(acc, host_match(tok, h, m));
	}
	m->depth--;
	return acc;
}

/* host_match(): netgroup, /file, KNOWN, LOCAL, net/mask, else address OR name. tok may be
 * written (split at '/'). */
static tri host_match(char *tok, const struct host_view *h, struct mctx *m)
{
	if (tok[0] == '@')
		/* innetgr(): NIS netgroups of the instance; with a known name (tcpdmatch) there
		 * is no NIS to ask. */
		return h->name ? NO : MAYBE;
	if (tok[0] == '/')
		return file_match(tok, h, m);
	if (strcasecmp(tok, "KNOWN") == 0) {
		tri addr = h->kind == ADDR_NET	 ? YES
			   : h->kind == ADDR_ANY ? MAYBE
						 : tri_bool(strcasecmp(h->text, "unknown") != 0);
		tri name = h->name ? tri_bool(hostname_known(h->name)) : MAYBE;
		return tri_and(addr, name);
	}
	if (strcasecmp(tok, "LOCAL") == 0)
		return h->name ? tri_bool(!strchr(h->name, '.') && hostname_known(h->name)) : MAYBE;
	char *mask = split_at(tok, '/');
	if (mask) {
		if (h->kind == ADDR_ANY)
			return MAYBE;
		if (h->kind == ADDR_TEXT)
			return NO; /* "unknown" is neither a dotted quad nor IPv6 */
		return tri_or(masked4(tok, mask, &h->net), masked6(tok, mask, &h->net));
	}
	tri a;
	if (h->kind == ADDR_NET)
		a = string_match_net(tok, h);
	else if (h->kind == ADDR_TEXT)
		a = string_match_text(tok, h->text);
	else /* an address we do not know may be anything, IPv6 included */
		a = !strpbrk(tok, "*?") && strcasecmp(tok, "ALL") == 0 ? YES : MAYBE;
	if (a == YES || !not_inaddr(tok))
		return a;
	return tri_or(a, h->name ? string_match_text(tok, h->name) : string_match_unknown(tok));
}

/* client_match(): host, or user@host (the host is tried first). */
static tri client_match(const char *tok, struct mctx *m)
{
	/* The bulk of large files (DenyHosts): a plain dotted quad, which host_match() can only
	 * compare with the address text. */
	struct cidr a;
	const struct cidr *net = &m->client.net;
	if (canonical_v4(tok, &a)) {
		if (!cidr_contains(net, &a))
			return NO;
		return is_single(net) ? YES : MAYBE;
	}
	char buf[HOSTS_ACCESS_BUFLEN];
	size_t n = strlen(tok);
	if (n >= sizeof(buf))
		return MAYBE;
	memcpy(buf, tok, n + 1);
	char *host = tok[0] ? split_at(buf + 1, '@') : NULL;
	if (!host)
		return host_match(buf, &m->client, m);
	tri h = host_match(host, &m->client, m);
	if (h == NO)
		return NO;
	tri u = m->q->user ? string_match_text(buf, m->q->user) : string_match_unknown(buf);
	return tri_and(h, u);
}

/* daemon_or_port_match() (Debian match_port): a number up to 65535 is the local port. */
static tri daemon_or_port(const char *tok, struct mctx *m)
{
	unsigned port;
	char junk;
	if ((isdigit((unsigned char)tok[0]) || tok[0] == '+' || tok[0] == '-') &&
	    sscanf(tok, "%u%c", &port, &junk) == 1 && port <= 65535) {
		if (m->q->server_port < 0)
			return MAYBE;
		return tri_bool(m->q->server_port > 0 && (unsigned)m->q->server_port == port);
	}
	return string_match_text(tok, m->q->daemon);
}

/* server_match(): daemon, or daemon@host (host is the local endpoint). */
static tri server_match(const char *tok, struct mctx *m)
{
	char buf[HOSTS_ACCESS_BUFLEN];
	size_t n = strlen(tok);
	if (n >= sizeof(buf))
		return MAYBE;
	memcpy(buf, tok, n + 1);
	char *host = tok[0] ? split_at(buf + 1, '@') : NULL;
	tri d = daemon_or_port(buf, m);
	if (!host || d == NO)
		return d;
	return tri_and(d, host_match(host, &m->server, m));
}

static bool is_except(const char *t)
{
	return (t[0] == 'E' || t[0] == 'e') && strcasecmp(t, "EXCEPT") == 0;
}

/* list_match(): the patterns before the first EXCEPT, OR-ed; a match is undone when the list
 * after EXCEPT matches (recursively, so "a EXCEPT b EXCEPT c" is a except (b except c)). */
static tri list_match(char *const *tok, size_t n, tri (*fn)(const char *, struct mctx *),
		      struct mctx *m)
{
	tri acc = NO;
	size_t i;
	for (i = 0; i < n && !is_except(tok[i]); i++)
		if (acc != YES)
			acc = tri_or(acc, fn(tok[i], m));
	if (acc == NO || i == n)
		return acc;
	return tri_and(acc, tri_not(list_match(tok + i + 1, n - i - 1, fn, m)));
}

static void view_from_text(struct host_view *h, const char *addr, const char *name)
{
	h->name = name;
	if (!addr) {
		h->kind = ADDR_ANY;
		return;
	}
	if (!strchr(addr, '/') && cidr_parse(addr, &h->net) == 0) {
		h->kind = ADDR_NET;
		cidr_format_addr(&h->net, h->text);
		return;
	}
	h->kind = ADDR_TEXT;
	snprintf(h->text, sizeof(h->text), "%s", addr);
}

static void mctx_init(struct mctx *m, const struct hosts_access_query *q)
{
	memset(m, 0, sizeof(*m));
	m->q = q;
	m->budget = FILE_TOKEN_BUDGET;
	m->client.kind = ADDR_NET;
	m->client.net = q->client;
	m->client.name = q->client_name;
	if (is_single(&q->client))
		cidr_format_addr(&q->client, m->client.text);
	view_from_text(&m->server, q->server_addr, q->server_name);
}

void hosts_access_query_init(struct hosts_access_query *q, const char *daemon,
			     const struct cidr *client)
{
	memset(q, 0, sizeof(*q));
	q->daemon = daemon;
	q->client = *client;
	q->server_port = -1;
}

void hosts_access_query_init_tcpdmatch(struct hosts_access_query *q, const char *daemon,
				       const struct cidr *client)
{
	hosts_access_query_init(q, daemon, client);
	q->client_name = "unknown";
	q->user = "unknown";
	q->server_addr = "unknown";
	q->server_name = "unknown";
	q->server_port = 0;
}

enum hosts_access_match hosts_access_match_client(const char *pattern,
						  const struct hosts_access_query *q)
{
	struct mctx m;
	mctx_init(&m, q);
	return client_match(pattern, &m);
}

static tri daemons_match(const struct hosts_access_rule *r, struct mctx *m)
{
	if (r->kind != HOSTS_ACCESS_RULE)
		return NO;
	return list_match(r->daemons, r->n_daemons, server_match, m);
}

static tri rule_match(const struct hosts_access_rule *r, struct mctx *m)
{
	tri d = daemons_match(r, m);
	if (d == NO)
		return NO;
	return tri_and(d, list_match(r->clients, r->n_clients, client_match, m));
}

static bool same_str(const char *a, const char *b)
{
	return a == b || (a && b && strcmp(a, b) == 0);
}

/* The daemon list depends on the daemon and the server end only. */
static bool same_server(const struct hosts_access_query *a, const struct hosts_access_query *b)
{
	return same_str(a->daemon, b->daemon) && same_str(a->server_addr, b->server_addr) &&
	       same_str(a->server_name, b->server_name) && a->server_port == b->server_port &&
	       a->read_file == b->read_file && a->read_arg == b->read_arg;
}

enum hosts_access_match hosts_access_match_rule(const struct hosts_access_rule *r,
						const struct hosts_access_query *q)
{
	struct mctx m;
	mctx_init(&m, q);
	return rule_match(r, &m);
}

/* ---- hosts_options(5): process_options() ---- */

#define OPT_NEED_ARG 1
#define OPT_ARG 2
#define OPT_LAST 4

enum opt_kind {
	OPT_USER,
	OPT_GROUP,
	OPT_UMASK,
	OPT_LINGER,
	OPT_KEEPALIVE,
	OPT_ACLEXEC,
	OPT_SPAWN,
	OPT_TWIST,
	OPT_RFC931,
	OPT_SETENV,
	OPT_NICE,
	OPT_SEVERITY,
	OPT_ALLOW,
	OPT_DENY,
	OPT_BANNERS,
};

/* options.c option_table[] (ACLEXEC compiled in by Debian). */
static const struct {
	const char *name;
	enum opt_kind kind;
	int flags;
} option_table[] = {
	{"user", OPT_USER, OPT_NEED_ARG},
	{"group", OPT_GROUP, OPT_NEED_ARG},
	{"umask", OPT_UMASK, OPT_NEED_ARG},
	{"linger", OPT_LINGER, OPT_NEED_ARG},
	{"keepalive", OPT_KEEPALIVE, 0},
	{"aclexec", OPT_ACLEXEC, OPT_NEED_ARG},
	{"spawn", OPT_SPAWN, OPT_NEED_ARG},
	{"twist", OPT_TWIST, OPT_NEED_ARG | OPT_LAST},
	{"rfc931", OPT_RFC931, OPT_ARG},
	{"setenv", OPT_SETENV, OPT_NEED_ARG},
	{"nice", OPT_NICE, OPT_ARG},
	{"severity", OPT_SEVERITY, OPT_NEED_ARG},
	{"allow", OPT_ALLOW, OPT_LAST},
	{"deny", OPT_DENY, OPT_LAST},
	{"banners", OPT_BANNERS, OPT_NEED_ARG},
};

static const char *const syslog_facilities[] = {
	"kern",	  "user",   "mail",   "daemon", "auth",	  "lpr",    "news",   "uucp",	"cron",
	"local0", "local1", "local2", "local3", "local4", "local5", "local6", "local7",
};
static const char *const syslog_levels[] = {
	"emerg", "alert", "crit", "err", "warning", "notice", "info", "debug",
};

static bool in_names(const char *const *v, size_t n, const char *s)
{
	for (size_t i = 0; i < n; i++)
		if (s && strcasecmp(v[i], s) == 0)
			return true;
	return false;
}

/* chop_string(): strip leading and trailing white space. */
static char *chop(char *s)
{
	char *start = NULL, *end = NULL;
	for (char *cp = s; *cp; cp++) {
		if (!isspace((unsigned char)*cp)) {
			if (!start)
				start = cp;
			end = cp;
		}
	}
	if (!start)
		return s + strlen(s);
	end[1] = '\0';
	return start;
}

/* get_field(): the next ':'-separated field, "\:" standing for ':'; NULL at the end. */
static char *get_field(char **last)
{
	char *src = *last, *dst = src, *ret = src;
	if (src[0] == '\0')
		return NULL;
	int ch;
	while ((ch = *src)) {
		if (ch == ':') {
			src++;
			break;
		}
		if (ch == '\\' && src[1] == ':')
			src++;
		*dst++ = *src++;
	}
	*last = src;
	*dst = '\0';
	return ret;
}

/* sscanf("%d%c") == 1: a whole number and nothing after it. */
static bool scan_int(const char *s, int *out)
{
	char junk;
	return sscanf(s, "%d%c", out, &junk) == 1;
}

enum hosts_access_effect hosts_access_rule_effect(const struct hosts_access_rule *r, unsigned flags,
						  const char **why)
{
	const char *dummy;
	if (!why)
		why = &dummy;
	*why = NULL;
	if (r->kind != HOSTS_ACCESS_RULE || !r->options)
		return HOSTS_ACCESS_EFFECT_NONE;

	char buf[HOSTS_ACCESS_BUFLEN];
	snprintf(buf, sizeof(buf), "%s", r->options);
	char *last = buf;
	bool may_fail = false, aclexec = false;
	char *curr = get_field(&last);
	while (curr) {
		char *next = get_field(&last);
		/* Name and value: blanks or one '=' between them. */
		curr = chop(curr);
		char *value = curr + strcspn(curr, "= \t\r\n");
		if (*value) {
			if (*value != '=') {
				*value++ = '\0';
				value += strspn(value, " \t\r\n");
			}
			if (*value == '=') {
				*value++ = '\0';
				value += strspn(value, " \t\r\n");
			}
		}
		if (*value == '\0')
			value = NULL;
		if (*curr == '\0') {
			*why = "an empty option field (a rule ending in ':', or '::'): tcpd denies";
			return HOSTS_ACCESS_EFFECT_DENY;
		}
		size_t k;
		for (k = 0; k < ARRAY_SIZE(option_table); k++)
			if (strcasecmp(option_table[k].name, curr) == 0)
				break;
		if (k == ARRAY_SIZE(option_table)) {
			*why = "an unknown option: tcpd denies";
			return HOSTS_ACCESS_EFFECT_DENY;
		}
		int oflags = option_table[k].flags;
		if (!value && (oflags & OPT_NEED_ARG)) {
			*why = "an option without its value: tcpd denies";
			return HOSTS_ACCESS_EFFECT_DENY;
		}
		if (value && !(oflags & (OPT_NEED_ARG | OPT_ARG))) {
			*why = "a value after an option that takes none: tcpd denies";
			return HOSTS_ACCESS_EFFECT_DENY;
		}
		if (next && (oflags & OPT_LAST)) {
			*why = "allow, deny or twist not in the last field: tcpd denies";
			return HOSTS_ACCESS_EFFECT_DENY;
		}
		int v;
		switch (option_table[k].kind) {
		case OPT_ALLOW:
			if (may_fail) {
				*why = "a user or group option that may fail (tcpd then denies)";
				return HOSTS_ACCESS_EFFECT_UNCERTAIN;
			}
			return HOSTS_ACCESS_EFFECT_ALLOW;
		case OPT_DENY:
			*why = "the `deny` option";
			return HOSTS_ACCESS_EFFECT_DENY;
		case OPT_TWIST:
			*why = "the `twist` option: a shell command answers instead of the service";
			return HOSTS_ACCESS_EFFECT_TWIST;
		case OPT_USER:
		case OPT_GROUP:
			may_fail = true; /* getpwnam()/getgrnam() on the instance */
			break;
		case OPT_ACLEXEC:
			aclexec = !(flags & HOSTS_ACCESS_DRY_RUN);
			break;
		case OPT_UMASK: {
			unsigned mask;
			char junk;
			if (sscanf(value, "%o%c", &mask, &junk) != 1 || (mask & 0777) != mask) {
				*why = "a bad umask value: tcpd denies";
				return HOSTS_ACCESS_EFFECT_DENY;
			}
			break;
		}
		case OPT_LINGER:
			if (!scan_int(value, &v) || v < 0) {
				*why = "a bad linger value: tcpd denies";
				return HOSTS_ACCESS_EFFECT_DENY;
			}
			break;
		case OPT_NICE:
			if (value && !scan_int(value, &v)) {
				*why = "a bad nice value: tcpd denies";
				return HOSTS_ACCESS_EFFECT_DENY;
			}
			break;
		case OPT_RFC931:
			if (value && (!scan_int(value, &v) || v <= 0)) {
				*why = "a bad rfc931 timeout: tcpd denies";
				return HOSTS_ACCESS_EFFECT_DENY;
			}
			break;
		case OPT_SEVERITY: {
			char *level = split_at(value, '.');
			bool ok = level ? in_names(syslog_facilities, ARRAY_SIZE(syslog_facilities),
						   value) &&
						  in_names(syslog_levels, ARRAY_SIZE(syslog_levels),
							   level)
					: in_names(syslog_levels, ARRAY_SIZE(syslog_levels), value);
			if (!ok) {
				*why = "a bad syslog facility or severity: tcpd denies";
				return HOSTS_ACCESS_EFFECT_DENY;
			}
			break;
		}
		case OPT_SETENV: {
			/* setenv() fails on an empty name or one holding '='; %-expansions of the
			 * client could do either. */
			if (!value)
				break; /* not reached: setenv needs a value */
			char *name = value, *rest = value + strcspn(value, " \t\r\n");
			if (*rest)
				*rest = '\0';
			name = chop(name);
			if (!*name || strchr(name, '=')) {
				*why = "setenv with an empty name or one holding '=': tcpd denies";
				return HOSTS_ACCESS_EFFECT_DENY;
			}
			if (strchr(name, '%'))
				may_fail = true;
			break;
		}
		case OPT_KEEPALIVE:
		case OPT_SPAWN:
		case OPT_BANNERS:
			break;
		}
		curr = next;
	}
	if (may_fail || aclexec) {
		*why = may_fail ? "a user, group or setenv option that may fail (tcpd then denies)"
				: "aclexec: a command decides";
		return HOSTS_ACCESS_EFFECT_UNCERTAIN;
	}
	return HOSTS_ACCESS_EFFECT_NONE;
}

/* ---- hosts_access(): hosts.allow, then hosts.deny, else grant ---- */

static unsigned effect_outcome(enum hosts_access_effect e, size_t table)
{
	switch (e) {
	case HOSTS_ACCESS_EFFECT_NONE:
		return table == 0 ? HOSTS_ACCESS_GRANT : HOSTS_ACCESS_DENY;
	case HOSTS_ACCESS_EFFECT_ALLOW:
		return HOSTS_ACCESS_GRANT;
	case HOSTS_ACCESS_EFFECT_DENY:
		return HOSTS_ACCESS_DENY;
	case HOSTS_ACCESS_EFFECT_TWIST:
		return HOSTS_ACCESS_TWIST;
	case HOSTS_ACCESS_EFFECT_UNCERTAIN:
		break;
	}
	return HOSTS_ACCESS_GRANT | HOSTS_ACCESS_DENY;
}

struct decide_state {
	struct mctx m;
	bool open; /* not decided yet: later rules are reached */
};

static void report(hosts_access_hit_fn hit, void *arg, size_t table, size_t query,
		   const struct hosts_access_rule *r, tri match, unsigned outcome, const char *why)
{
	if (!hit)
		return;
	struct hosts_access_hit h = {.table = table,
				     .query = query,
				     .rule = r,
				     .match = match,
				     .outcome = outcome,
				     .why = why};
	hit(arg, &h);
}

/* Million-line files are DenyHosts' "DAEMON: a.b.c.d" lines, nearly all of which match no
 * query. A line of exactly that shape (the daemon the previous rule named, so its match is
 * known: dmatch; one canonical address; nothing else) that matches no open query is stepped
 * over here without the general reader's copy and split. true: skipped. */
struct v4_query {
	struct cidr_v4 net;
	bool v4; /* an IPv4 client network (others contain no IPv4 address) */
};

static bool skip_plain_line(struct hosts_access_cursor *c, const char *daemon, size_t dlen,
			    tri dmatch, const struct decide_state *st, const struct v4_query *qv,
			    size_t n)
{
	if (c->has_nul || c->done || dlen == 0)
		return false;
	const char *p = c->buf + c->pos;
	size_t avail = c->len - c->pos;
	if (avail > HOSTS_ACCESS_BUFLEN - 2)
		avail = HOSTS_ACCESS_BUFLEN - 2; /* longer lines are the reader's business */
	if (avail < dlen + 9 || p[dlen] != ':')
		return false;
	for (size_t i = 0; i < dlen; i++) /* a few bytes: no library call */
		if (p[i] != daemon[i])
			return false;
	size_t k = dlen + 1;
	while (k < avail && (p[k] == ' ' || p[k] == '\t'))
		k++;
	uint32_t v;
	const char *q = cidr_quad_scan(p + k, p + avail, &v);
	if (!q || q >= p + avail || *q != '\n')
		return false;
	k = (size_t)(q - p) + 1;
	if (dmatch != NO)
		for (size_t i = 0; i < n; i++)
			if (st[i].open && qv[i].v4 && cidr_v4_has(&qv[i].net, v))
				return false;
	c->pos += k;
	c->line++;
	return true;
}

/* strcmp() == 0 for the short daemon names compared on every line. */
static inline bool str_eq(const char *a, const char *b)
{
	while (*a && *a == *b) {
		a++;
		b++;
	}
	return *a == *b;
}

void hosts_access_decide(const struct hosts_access_table tables[2],
			 const struct hosts_access_query *q, size_t n, unsigned flags,
			 unsigned *out, hosts_access_hit_fn hit, void *arg)
{
	struct decide_state *st = xcalloc(n ? n : 1, sizeof(*st));
	struct hosts_access_cursor *c = xmalloc(sizeof(*c));
	size_t n_open = n;
	bool shared = n > 0;
	for (size_t i = 1; i < n; i++)
		shared = shared && same_server(&q[0], &q[i]);
	char last_daemon[HOSTS_ACCESS_BUFLEN] = "";
	tri last_daemon_match = NO;

	struct v4_query *qv = xcalloc(n ? n : 1, sizeof(*qv));
	for (size_t i = 0; i < n; i++) {
		out[i] = 0;
		mctx_init(&st[i].m, &q[i]);
		st[i].open = true;
		qv[i].v4 = cidr_v4_of(&st[i].m.client.net, &qv[i].net);
	}
	for (size_t t = 0; t < 2 && n_open > 0; t++) {
		const struct hosts_access_table *tab = &tables[t];
		if (tab->state == HOSTS_ACCESS_FILE_ABSENT)
			continue;
		if (tab->state == HOSTS_ACCESS_FILE_ERROR ||
		    tab->state == HOSTS_ACCESS_FILE_UNKNOWN) {
			/* table_match() returns ERR: no grant from hosts.allow, a deny from
			 * hosts.deny. UNKNOWN: what tcpd reads there, we cannot say. */
			bool unknown = tab->state == HOSTS_ACCESS_FILE_UNKNOWN;
			if (t == 0 && !unknown)
				continue;
			unsigned o = unknown ? HOSTS_ACCESS_GRANT | HOSTS_ACCESS_DENY
					     : HOSTS_ACCESS_DENY;
			for (size_t i = 0; i < n; i++) {
				if (!st[i].open)
					continue;
				report(hit, arg, t, i, NULL, unknown ? MAYBE : YES, o, NULL);
				out[i] |= o;
				if (t == 1) {
					st[i].open = false;
					n_open--;
				}
			}
			continue;
		}
		struct hosts_access_rule r;
		hosts_access_cursor_init(c, tab->data, tab->len);
		last_daemon[0] = '\0';
		size_t last_daemon_len = 0;
		while (n_open > 0) {
			if (shared && skip_plain_line(c, last_daemon, last_daemon_len,
						      last_daemon_match, st, qv, n))
				continue;
			if (!hosts_access_next(c, &r))
				break;
			if (r.kind == HOSTS_ACCESS_BROKEN) {
				if (t == 0)
					break;
				for (size_t i = 0; i < n; i++) {
					if (!st[i].open)
						continue;
					report(hit, arg, t, i, &r, YES, HOSTS_ACCESS_DENY, NULL);
					out[i] |= HOSTS_ACCESS_DENY;
					st[i].open = false;
					n_open--;
				}
				break;
			}
			if (r.has_nul && (flags & HOSTS_ACCESS_DISTRUST_NUL)) {
				unsigned o = HOSTS_ACCESS_GRANT | HOSTS_ACCESS_DENY;
				for (size_t i = 0; i < n; i++) {
					if (!st[i].open)
						continue;
					report(hit, arg, t, i, &r, MAYBE, o, NULL);
					out[i] |= o;
				}
				continue;
			}
			if (r.kind != HOSTS_ACCESS_RULE)
				continue;
			bool have_effect = false;
			enum hosts_access_effect e = HOSTS_ACCESS_EFFECT_NONE;
			const char *why = NULL;
			tri d_shared = MAYBE;
			if (shared && r.n_daemons == 1 && str_eq(r.daemons[0], last_daemon)) {
				d_shared = last_daemon_match;
			} else if (shared) {
				d_shared = daemons_match(&r, &st[0].m);
				/* Large files repeat one daemon on every line. */
				if (r.n_daemons == 1) {
					int w = snprintf(last_daemon, sizeof(last_daemon), "%s",
							 r.daemons[0]);
					last_daemon_len = w > 0 && (size_t)w < sizeof(last_daemon)
							? (size_t)w : 0;
					last_daemon_match = d_shared;
				}
			}
			if (d_shared == NO)
				continue;
			/* One dotted quad, the shape of every DenyHosts line: parse it once. */
			struct cidr one;
			bool one_v4 = r.n_clients == 1 && canonical_v4(r.clients[0], &one);
			for (size_t i = 0; i < n; i++) {
				if (!st[i].open)
					continue;
				tri d = shared ? d_shared : daemons_match(&r, &st[i].m);
				if (d == NO)
					continue;
				const struct cidr *net = &st[i].m.client.net;
				tri cm = !one_v4 ? list_match(r.clients, r.n_clients, client_match,
							      &st[i].m)
					 : !cidr_contains(net, &one) ? NO
					 : is_single(net)	     ? YES
								     : MAYBE;
				tri mt = tri_and(d, cm);
				if (mt == NO)
					continue;
				if (!have_effect) {
					e = hosts_access_rule_effect(&r, flags, &why);
					have_effect = true;
				}
				unsigned o = effect_outcome(e, t);
				report(hit, arg, t, i, &r, mt, o, why);
				out[i] |= o;
				if (mt == YES) {
					st[i].open = false;
					n_open--;
				}
			}
		}
	}
	for (size_t i = 0; i < n; i++)
		if (st[i].open)
			out[i] |= HOSTS_ACCESS_GRANT;
	free(c);
	free(st);
	free(qv);
}

void hosts_access_format_net(const struct cidr *c, char out[HOSTS_ACCESS_NET_STRLEN])
{
	char a[CIDR_STRLEN];
	cidr_format_addr(c, a);
	if (c->family == AF_INET6) {
		snprintf(out, HOSTS_ACCESS_NET_STRLEN, "[%s]/%u", a, c->prefix);
		return;
	}
	if (c->prefix == 32) {
		snprintf(out, HOSTS_ACCESS_NET_STRLEN, "%s", a);
		return;
	}
	/* A dotted mask reads in every tcp_wrappers (n.n.n.n/len is a Debian patch); /32 as a
	 * mask would be 255.255.255.255, which inet_addr() cannot tell from an error. */
	uint32_t mask = c->prefix == 0 ? 0 : ~(0xffffffffu >> c->prefix);
	snprintf(out, HOSTS_ACCESS_NET_STRLEN, "%s/%u.%u.%u.%u", a, mask >> 24, (mask >> 16) & 0xff,
		 (mask >> 8) & 0xff, mask & 0xff);
}
