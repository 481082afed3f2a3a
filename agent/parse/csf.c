/* csf.c: CSF's deny/allow/ignore lists, tempban state and csf.conf; see csf.h. */
#include "parse/csf.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

/* Slurp.pm's slurpreg: \r\n, \r, \n, \v, \f (and U+0085/2028/2029, which ASCII files lack). */
static bool line_end(char c)
{
	return c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

/* Calls f for each line with its start, length (without the end) and number. */
static void each_line(const char *buf, size_t len,
		      void (*f)(void *arg, const char *l, size_t off, size_t n, unsigned no), void *arg)
{
	unsigned no = 0;
	size_t i = 0;
	while (i < len) {
		size_t s = i;
		while (i < len && !line_end(buf[i]))
			i++;
		no++;
		f(arg, buf + s, s, i - s, no);
		if (i < len && buf[i] == '\r' && i + 1 < len && buf[i + 1] == '\n')
			i++;
		i++;
	}
}

struct list_ctx {
	void (*cb)(void *arg, const struct csf_entry *e);
	void *arg;
};

static void list_line(void *arg, const char *l, size_t off, size_t n, unsigned no)
{
	struct list_ctx *c = arg;
	size_t b = 0;
	while (b < n && isspace((unsigned char)l[b])) /* cleanreg: ^\s+ and \s+$ go */
		b++;
	size_t e = n;
	while (e > b && isspace((unsigned char)l[e - 1]))
		e--;
	if (b == e || l[b] == '#')
		return;
	struct csf_entry en = { .off = off, .len = n, .line = no };
	if (e - b > 7 && !strncmp(l + b, "Include", 7)) {
		size_t p = b + 7;
		while (p < e && isspace((unsigned char)l[p]))
			p++;
		if (p == e || e - p >= sizeof(en.path))
			return;
		en.include = true;
		memcpy(en.path, l + p, e - p);
		en.path[e - p] = '\0';
		c->cb(c->arg, &en);
		return;
	}
	if (memmem(l + b, e - b, "Include", 7))
		return; /* csf skips any line that says Include */
	size_t t = b; /* the first token: split(/\s/, $line, 2) */
	while (t < e && !isspace((unsigned char)l[t]))
		t++;
	const char *tok = l + b;
	size_t tn = t - b;
	if (memchr(tok, '|', tn)) {
		en.advanced = true;
		/* fields: [proto|]dir|[s/d=ports|]s/d=ip; the source address is "s=IP" */
		for (size_t f = 0; f < tn;) {
			size_t g = f;
			while (g < tn && tok[g] != '|')
				g++;
			if (g - f > 2 && tok[f] == 's' && tok[f + 1] == '=' &&
			    cidr_parse_n(tok + f + 2, g - f - 2, &en.addr) == 0)
				en.has_addr = true;
			f = g + 1;
		}
	} else if (cidr_parse_n(tok, tn, &en.addr) == 0) {
		en.has_addr = true;
	}
	c->cb(c->arg, &en);
}

void csf_list_parse(const char *buf, size_t len,
		    void (*cb)(void *arg, const struct csf_entry *e), void *arg)
{
	struct list_ctx c = { cb, arg };
	each_line(buf, len, list_line, &c);
}

static void tempban_line(void *arg, const char *l, size_t off, size_t n, unsigned no)
{
	struct list_ctx *c = arg;
	const char *p1 = memchr(l, '|', n);
	if (!p1)
		return;
	const char *ip = p1 + 1;
	const char *p2 = memchr(ip, '|', n - (size_t)(ip - l));
	size_t in = p2 ? (size_t)(p2 - ip) : n - (size_t)(ip - l);
	struct csf_entry en = { .off = off, .len = n, .line = no };
	if (cidr_parse_n(ip, in, &en.addr) < 0)
		return;
	en.has_addr = true;
	c->cb(c->arg, &en);
}

void csf_tempban_parse(const char *buf, size_t len,
		       void (*cb)(void *arg, const struct csf_entry *e), void *arg)
{
	struct list_ctx c = { cb, arg };
	each_line(buf, len, tempban_line, &c);
}

struct conf_ctx {
	const char *name;
	bool found;
	size_t off, len;
};

/* Config.pm: skip lines starting with white space or '#'; split on the first '='; white
 * space is removed from the name; the value is what the first "..." holds (greedy). */
static void conf_line(void *arg, const char *l, size_t off, size_t n, unsigned no)
{
	struct conf_ctx *c = arg;
	(void)no;
	if (!n || isspace((unsigned char)l[0]) || l[0] == '#')
		return;
	const char *eq = memchr(l, '=', n);
	if (!eq)
		return;
	char name[64];
	size_t k = 0;
	for (const char *p = l; p < eq; p++)
		if (!isspace((unsigned char)*p)) {
			if (k + 1 >= sizeof(name))
				return;
			name[k++] = *p;
		}
	name[k] = '\0';
	if (strcmp(name, c->name))
		return;
	const char *q1 = memchr(eq, '"', n - (size_t)(eq - l));
	if (!q1)
		return;
	const char *q2 = NULL;
	for (const char *p = l + n; p > q1 + 1; p--)
		if (p[-1] == '"') {
			q2 = p - 1;
			break;
		}
	if (!q2)
		return;
	c->found = true;
	c->off = off + (size_t)(q1 + 1 - l);
	c->len = (size_t)(q2 - q1 - 1);
}

bool csf_conf_value(const char *buf, size_t len, const char *name, size_t *off, size_t *vlen)
{
	struct conf_ctx c = { name, false, 0, 0 };
	each_line(buf, len, conf_line, &c);
	*off = c.off;
	*vlen = c.len;
	return c.found;
}

bool csf_ports_have(const char *list, size_t len, unsigned port)
{
	for (size_t i = 0; i < len;) {
		size_t j = i;
		while (j < len && list[j] != ',')
			j++;
		char item[32];
		size_t n = 0;
		for (size_t k = i; k < j && n + 1 < sizeof(item); k++)
			if (!isspace((unsigned char)list[k]))
				item[n++] = list[k];
		item[n] = '\0';
		char *colon = strchr(item, ':');
		unsigned long lo, hi;
		if (colon) {
			*colon = '\0';
			if (parse_uint(item, 0, 65535, &lo) == 0 &&
			    parse_uint(colon + 1, 0, 65535, &hi) == 0 && lo <= port && port <= hi)
				return true;
		} else if (parse_uint(item, 0, 65535, &lo) == 0 && lo == port) {
			return true;
		}
		i = j + 1;
	}
	return false;
}

struct cover_ctx {
	const struct cidr *net;
	bool covered;
};

static void cover_entry(void *arg, const struct csf_entry *e)
{
	struct cover_ctx *c = arg;
	if (e->has_addr && !e->advanced && cidr_contains(&e->addr, c->net))
		c->covered = true;
}

bool csf_list_covers(const char *buf, size_t len, const struct cidr *net)
{
	struct cover_ctx c = { net, false };
	csf_list_parse(buf, len, cover_entry, &c);
	return c.covered;
}
