/* sshguard.c: SSHGuard's configuration, blocklist and whitelist; see sshguard.h. */
#include "parse/sshguard.h"

#include <ctype.h>
#include <errno.h>
#include <string.h>

/* One shell word of an assignment value: quotes removed, up to unquoted white space. */
static char *shell_value(const char *s, const char *end)
{
	struct buf b = { 0 };
	char q = 0;
	for (; s < end; s++) {
		if (q) {
			if (*s == q)
				q = 0;
			else
				buf_append(&b, s, 1);
		} else if (*s == '"' || *s == '\'') {
			q = *s;
		} else if (*s == ' ' || *s == '\t' || *s == '#' || *s == ';') {
			break;
		} else if (*s == '\\' && s + 1 < end) {
			buf_append(&b, ++s, 1);
		} else {
			buf_append(&b, s, 1);
		}
	}
	return b.data ? b.data : xstrdup("");
}

void sshguard_conf_parse(const char *buf, size_t len, struct sshguard_conf *out)
{
	static const struct {
		const char *name;
		size_t field;
	} vars[] = {
		{ "BLACKLIST_FILE", offsetof(struct sshguard_conf, blacklist) },
		{ "WHITELIST_FILE", offsetof(struct sshguard_conf, whitelist_file) },
		{ "WHITELIST_ARG", offsetof(struct sshguard_conf, whitelist_arg) },
	};
	memset(out, 0, sizeof(*out));
	unsigned lineno = 0;
	for (size_t i = 0; i < len;) {
		const char *l = buf + i;
		const char *nl = memchr(l, '\n', len - i);
		const char *end = nl ? nl : buf + len;
		i = (size_t)(end - buf) + 1;
		lineno++;
		while (l < end && (*l == ' ' || *l == '\t'))
			l++;
		if (end - l > 7 && !strncmp(l, "export", 6) && (l[6] == ' ' || l[6] == '\t')) {
			l += 7;
			while (l < end && (*l == ' ' || *l == '\t'))
				l++;
		}
		for (size_t v = 0; v < ARRAY_SIZE(vars); v++) {
			size_t n = strlen(vars[v].name);
			if ((size_t)(end - l) <= n || strncmp(l, vars[v].name, n) || l[n] != '=')
				continue;
			char **field = (char **)((char *)out + vars[v].field);
			free(*field);
			*field = shell_value(l + n + 1, end);
			if (!**field) { /* VAR= unsets it for the script's -n tests */
				free(*field);
				*field = NULL;
			}
			if (vars[v].field == offsetof(struct sshguard_conf, whitelist_file))
				out->whitelist_file_line = *field ? lineno : 0;
		}
	}
}

void sshguard_conf_free(struct sshguard_conf *c)
{
	free(c->blacklist);
	free(c->whitelist_file);
	free(c->whitelist_arg);
	memset(c, 0, sizeof(*c));
}

char *sshguard_blacklist_path(const char *arg)
{
	const char *p = arg;
	while (isspace((unsigned char)*p))
		p++;
	if (*p == '+')
		p++;
	if (!isdigit((unsigned char)*p))
		return NULL;
	while (isdigit((unsigned char)*p))
		p++;
	if (*p != ':')
		return NULL;
	p++;
	while (isspace((unsigned char)*p))
		p++;
	size_t n = strcspn(p, " \t\r\n\v\f");
	return n ? xstrndup(p, n) : NULL;
}

/* "%lld" or "%d" of sscanf: optional white space and sign, digits. */
static bool scan_num(const char **p, const char *end)
{
	const char *s = *p;
	while (s < end && isspace((unsigned char)*s))
		s++;
	if (s < end && (*s == '+' || *s == '-'))
		s++;
	if (s >= end || !isdigit((unsigned char)*s))
		return false;
	long kind = 0;
	while (s < end && isdigit((unsigned char)*s)) {
		if (kind < 1000000)
			kind = kind * 10 + (*s - '0');
		s++;
	}
	*p = s;
	return true;
}

void sshguard_blacklist_parse(const char *buf, size_t len,
			      void (*cb)(void *arg, const struct sshguard_entry *e), void *arg)
{
	unsigned lineno = 0;
	for (size_t i = 0; i < len;) {
		const char *l = buf + i;
		const char *nl = memchr(l, '\n', len - i);
		const char *end = nl ? nl : buf + len;
		size_t off = i;
		i = (size_t)(end - buf) + 1;
		lineno++;
		if (l == end || isspace((unsigned char)*l) || *l == '#')
			continue;
		const char *p = l;
		if (!scan_num(&p, end) || p >= end || *p++ != '|' || !scan_num(&p, end) ||
		    p >= end || *p++ != '|')
			continue;
		const char *k = p;
		while (k < end && isspace((unsigned char)*k))
			k++;
		if (!scan_num(&p, end) || p >= end || *p++ != '|')
			continue;
		/* the kind: 4 or 6 (ADDRKIND_IPv4, ADDRKIND_IPv6) */
		if (!((k[0] == '4' || k[0] == '6') && k + 1 == p - 1))
			continue;
		while (p < end && isspace((unsigned char)*p))
			p++;
		size_t n = 0;
		while (p + n < end && !isspace((unsigned char)p[n]) && n < 46)
			n++;
		struct sshguard_entry e = { off, (size_t)(end - l), lineno, { 0 } };
		if (!n || cidr_parse_n(p, n, &e.addr) < 0)
			continue;
		if (e.addr.prefix != (e.addr.family == AF_INET ? 32u : 128u))
			continue;
		cb(arg, &e);
	}
}

bool sshguard_whitelist_covers(const char *buf, size_t len, const struct cidr *net)
{
	for (size_t i = 0; buf && i < len;) {
		const char *l = buf + i;
		const char *nl = memchr(l, '\n', len - i);
		const char *end = nl ? nl : buf + len;
		i = (size_t)(end - buf) + 1;
		/* whitelist_file(): a line is cut at " \t#"; one starting with white space
		 * gives an empty entry, which sshguard refuses */
		size_t n = 0;
		while (l + n < end && !strchr(" \t#\r", l[n]))
			n++;
		struct cidr c;
		if (n && *l != '#' && cidr_parse_n(l, n, &c) == 0 && cidr_contains(&c, net))
			return true;
	}
	return false;
}
