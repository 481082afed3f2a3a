/* iptables_save.c: the iptables-save format, and which of its rules keep a protected source from
 * reaching sshd. The grammar follows iptables-restore (iptables: iptables/iptables-restore.c,
 * xshared.c): "*table", ":chain policy [p:b]", commands, "COMMIT", "#" comments in column 0,
 * words split on blanks with "..." quoting and \" inside quotes. */
#include "parse/iptables_save.h"
#include "parse/ipset.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#define IPT_MAX_LINE (64u << 10)
#define IPT_MAX_WORDS 4096u
#define WALK_MAX_DEPTH 32u
#define WALK_MAX_STEPS 2000000u

/* ---- parsing ---- */

static bool valid_name(const char *s)
{
	size_t n = strlen(s);
	if (!n || n > 28)
		return false;
	for (; *s; s++)
		if (isspace((unsigned char)*s) || !isprint((unsigned char)*s))
			return false;
	return true;
}

static struct ipt_table *add_table(struct ipt_file *f, const char *name, unsigned line, size_t off)
{
	f->tables = xgrow(f->tables, f->n_tables, sizeof(*f->tables));
	struct ipt_table *t = &f->tables[f->n_tables++];
	*t = (struct ipt_table){.name = xstrdup(name), .line = line, .off = off};
	return t;
}

static void add_chain(struct ipt_table *t, const char *name, const char *policy, unsigned line,
		      size_t off)
{
	t->chains = xgrow(t->chains, t->n_chains, sizeof(*t->chains));
	t->chains[t->n_chains++] = (struct ipt_chain){
		.name = xstrdup(name), .policy = xstrdup(policy), .line = line, .off = off};
}

const struct ipt_chain *iptables_save_chain(const struct ipt_table *t, const char *name)
{
	for (size_t i = 0; i < t->n_chains; i++)
		if (!strcmp(t->chains[i].name, name))
			return &t->chains[i];
	return NULL;
}

static const struct {
	const char *s, *l;
	enum ipt_op op;
} ops[] = {
	{"-A", "--append", IPT_APPEND},	      {"-I", "--insert", IPT_INSERT},
	{"-N", "--new-chain", IPT_NEW},	      {"-P", "--policy", IPT_POLICY},
	{"-F", "--flush", IPT_FLUSH},	      {"-X", "--delete-chain", IPT_DELETE_CHAIN},
	{"-D", "--delete", IPT_DELETE},	      {"-R", "--replace", IPT_REPLACE},
	{"-E", "--rename-chain", IPT_RENAME}, {"-Z", "--zero", IPT_ZERO},
};

static int parse_cmd(struct ipt_file *f, struct ipt_table *t, const struct strv *w, unsigned line,
		     size_t off, size_t len, char **err)
{
	size_t i = 0;
	/* "[packets:bytes] -A ..." as iptables-save -c writes it */
	if (w->n && w->v[0][0] == '[')
		i++;
	if (i >= w->n) {
		str_setf(err, "a counter with no command");
		return -EINVAL;
	}
	enum ipt_op op = IPT_APPEND;
	bool known = false;
	for (size_t k = 0; k < ARRAY_SIZE(ops); k++)
		if (!strcmp(w->v[i], ops[k].s) || !strcmp(w->v[i], ops[k].l)) {
			op = ops[k].op;
			known = true;
		}
	if (!known) {
		str_setf(err, "\"%s\" is not a command iptables-restore knows", w->v[i]);
		return -EINVAL;
	}
	i++;
	char *chain = NULL;
	if (i < w->n && w->v[i][0] != '-' && strcmp(w->v[i], "!"))
		chain = w->v[i++];
	if (!chain && op != IPT_FLUSH && op != IPT_DELETE_CHAIN && op != IPT_ZERO) {
		str_setf(err, "%s needs a chain", w->v[i - 1]);
		return -EINVAL;
	}
	if (chain && !valid_name(chain)) {
		str_setf(err, "\"%s\" is not a valid chain name", chain);
		return -EINVAL;
	}
	/* -I takes an optional position, -R one, -D one instead of a rule, -Z an optional one */
	unsigned long pos = op == IPT_INSERT ? 1 : 0;
	if ((op == IPT_INSERT || op == IPT_REPLACE || op == IPT_DELETE || op == IPT_ZERO) &&
	    i < w->n && isdigit((unsigned char)w->v[i][0])) {
		if (parse_uint(w->v[i], 1, UINT32_MAX, &pos) < 0) {
			str_setf(err, "bad rule number \"%s\"", w->v[i]);
			return -EINVAL;
		}
		i++;
	} else if (op == IPT_REPLACE) {
		str_setf(err, "-R needs a rule number");
		return -EINVAL;
	}
	if ((op == IPT_POLICY || op == IPT_RENAME) && i >= w->n) {
		str_setf(err, "%s needs a %s", op == IPT_POLICY ? "-P" : "-E",
			op == IPT_POLICY ? "policy" : "new name");
		return -EINVAL;
	}
	f->cmds = xgrow(f->cmds, f->n_cmds, sizeof(*f->cmds));
	struct ipt_cmd *c = &f->cmds[f->n_cmds++];
	*c = (struct ipt_cmd){.line = line,
			      .off = off,
			      .len = len,
			      .table = (size_t)(t - f->tables),
			      .op = op,
			      .chain = chain ? xstrdup(chain) : NULL,
			      .pos = pos};
	c->argc = w->n - i;
	c->argv = xcalloc(c->argc + 1, sizeof(char *));
	for (size_t k = 0; k < c->argc; k++)
		c->argv[k] = xstrdup(w->v[i + k]);
	if (op == IPT_NEW && !iptables_save_chain(t, chain))
		add_chain(t, chain, "-", line, off);
	return 0;
}

/* One line's words: a table's start (*t becomes it), COMMIT, a chain, or a command. */
static int parse_line(struct ipt_file *out, struct ipt_table **t, const struct strv *w,
		      unsigned line, size_t off, size_t n, char **err)
{
	int rc = 0;
	if (w->v[0][0] == '*') {
		if (*t && !(*t)->commit_line) {
			str_setf(err, "table %s starts before COMMIT of table %s", w->v[0] + 1,
				(*t)->name);
			rc = -EINVAL;
		} else if (!valid_name(w->v[0] + 1) || w->n != 1) {
			str_setf(err, "bad table line");
			rc = -EINVAL;
		} else {
			*t = add_table(out, w->v[0] + 1, line, off);
		}
	} else if (!strcmp(w->v[0], "COMMIT")) {
		if (!*t || (*t)->commit_line) {
			str_setf(err, "COMMIT outside a table");
			rc = -EINVAL;
		} else {
			(*t)->commit_line = line;
			(*t)->commit_off = off;
		}
	} else if (w->v[0][0] == ':') {
		if (!*t || (*t)->commit_line) {
			str_setf(err, "chain declared outside a table");
			rc = -EINVAL;
		} else if (w->n < 2 || !valid_name(w->v[0] + 1)) {
			str_setf(err, "bad chain line");
			rc = -EINVAL;
		} else if (iptables_save_chain(*t, w->v[0] + 1)) {
			str_setf(err, "chain %s declared twice", w->v[0] + 1);
			rc = -EINVAL;
		} else {
			add_chain(*t, w->v[0] + 1, w->v[1], line, off);
		}
	} else if (!*t || (*t)->commit_line) {
		str_setf(err, "a command outside a table (no \"*filter\" line before it)");
		rc = -EINVAL;
	} else {
		rc = parse_cmd(out, *t, w, line, off, n, err);
	}
	return rc;
}

int iptables_save_parse(const char *buf, size_t len, struct ipt_file *out, unsigned *err_line,
			char **err)
{
	struct ipt_table *t = NULL;
	unsigned line = 0;
	size_t pos = 0;
	int rc = 0;
	*out = (struct ipt_file){0};
	if (err_line)
		*err_line = 0;
	while (pos < len) {
		const char *p = buf + pos, *nl = memchr(p, '\n', len - pos);
		size_t n = nl ? (size_t)(nl - p) : len - pos;
		size_t off = pos;
		pos += n + (nl != NULL);
		line++;
		if (n > IPT_MAX_LINE) {
			str_setf(err, "line longer than %u bytes", IPT_MAX_LINE);
			rc = -E2BIG;
			goto fail;
		}
		if (memchr(p, '\0', n)) {
			str_setf(err, "NUL byte in the line");
			rc = -EINVAL;
			goto fail;
		}
		if (n == 0 || p[0] == '#')
			continue;
		struct strv w = {0};
		rc = fw_split_words(p, n, IPT_MAX_WORDS, true, &w);
		if (rc < 0) {
			strv_free(&w);
			str_setf(err, rc == -EINVAL ? "unterminated quote" : "too many words");
			goto fail;
		}
		if (w.n == 0) {
			strv_free(&w);
			continue;
		}
		rc = parse_line(out, &t, &w, line, off, n, err);
		strv_free(&w);
		if (rc < 0)
			goto fail;
	}
	if (t && !t->commit_line) {
		line++;
		str_setf(err, "COMMIT expected at the end of table %s", t->name);
		rc = -EINVAL;
		goto fail;
	}
	return 0;
fail:
	if (err_line)
		*err_line = line;
	iptables_save_free(out);
	return rc;
}

void iptables_save_free(struct ipt_file *f)
{
	for (size_t i = 0; i < f->n_tables; i++) {
		for (size_t j = 0; j < f->tables[i].n_chains; j++) {
			free(f->tables[i].chains[j].name);
			free(f->tables[i].chains[j].policy);
		}
		free(f->tables[i].chains);
		free(f->tables[i].name);
	}
	free(f->tables);
	for (size_t i = 0; i < f->n_cmds; i++) {
		for (size_t k = 0; k < f->cmds[i].argc; k++)
			free(f->cmds[i].argv[k]);
		free(f->cmds[i].argv);
		free(f->cmds[i].chain);
	}
	free(f->cmds);
	*f = (struct ipt_file){0};
}

void ipt_fixes_free(struct ipt_fixes *f)
{
	for (size_t i = 0; i < f->n; i++) {
		free(f->v[i].chain);
		free(f->v[i].why);
		free(f->v[i].set);
	}
	free(f->v);
	free(f->note);
	*f = (struct ipt_fixes){0};
}

/* ---- what one rule matches ---- */

struct rule_eval {
	enum fw_class cls;
	bool peer_within; /* a positive peer address match inside the protected networks */
	bool port_within; /* a positive local port match inside sshd's ports, TCP */
	bool tcp;
	const char *target;
	bool go; /* -g */
	const char
		*set; /* a set whose clearing (ipset_clear_edits) makes the rule miss the peers */
	char *note;   /* the loader refuses the rule (a set that does not exist): why */
	char *block_note; /* a blocking rule's verdict is unknown: why */
};

static int parse_port(const char *s, size_t n, unsigned *out)
{
	char tmp[32];
	unsigned long v;
	if (!n || n >= sizeof(tmp))
		return -EINVAL;
	memcpy(tmp, s, n);
	tmp[n] = '\0';
	if (isdigit((unsigned char)tmp[0]))
		return parse_uint(tmp, 0, 65535, &v) < 0 ? -EINVAL : (*out = (unsigned)v, 0);
	return fw_service_port(tmp, out);
}

/* "22", "22:25", ":1024", "1024:", comma-separated when list (multiport). */
static int parse_port_ranges(const char *s, bool list, unsigned (**out)[2], size_t *n)
{
	*out = NULL;
	*n = 0;
	for (const char *p = s;;) {
		const char *e = list ? strchrnul(p, ',') : p + strlen(p);
		const char *colon = memchr(p, ':', (size_t)(e - p));
		unsigned lo = 0, hi = 65535;
		int rc = 0;
		if (colon) {
			if (colon > p)
				rc = parse_port(p, (size_t)(colon - p), &lo);
			if (!rc && e > colon + 1)
				rc = parse_port(colon + 1, (size_t)(e - colon - 1), &hi);
		} else {
			rc = parse_port(p, (size_t)(e - p), &lo);
			hi = lo;
		}
		if (rc < 0 || lo > hi) {
			free(*out);
			*out = NULL;
			return rc < 0 ? rc : -EINVAL;
		}
		*out = xgrow(*out, *n, sizeof(**out));
		(*out)[*n][0] = lo;
		(*out)[(*n)++][1] = hi;
		if (!*e)
			return 0;
		p = e + 1;
		if (*n > 64)
			return 0;
	}
}

/* Class of a local port match (sshd's port) or a peer port match (the client's ephemeral
 * port, 1024-65535; and sshd's reply goes to it). */
static enum fw_class port_class(const struct fw_scope *s, const char *v, bool list, bool local,
				bool neg, bool *within)
{
	unsigned(*r)[2] = NULL;
	size_t n = 0;
	enum fw_class c;
	if (parse_port_ranges(v, list, &r, &n) < 0)
		return FW_SOME;
	if (local) {
		c = fw_class_ports(s, (const unsigned(*)[2])r, n, neg);
		if (within && !neg)
			*within = fw_ports_within(s, (const unsigned(*)[2])r, n);
	} else {
		c = fw_class_peer_ports((const unsigned(*)[2])r, n, neg);
	}
	free(r);
	return c;
}

static int parse_nets(const char *v, int family, struct cidr **out, size_t *n)
{
	*out = NULL;
	*n = 0;
	for (const char *p = v;;) {
		const char *e = strchrnul(p, ',');
		struct cidr c;
		if (cidr_parse_n(p, (size_t)(e - p), &c) < 0 || c.family != family) {
			free(*out);
			*out = NULL;
			return -EINVAL;
		}
		*out = xgrow(*out, *n, sizeof(**out));
		(*out)[(*n)++] = c;
		if (!*e || *n > 256)
			return 0;
		p = e + 1;
	}
}

static enum fw_class peer_class(const struct fw_scope *s, const char *v, bool neg, bool *within)
{
	struct cidr *nets;
	size_t n;
	if (parse_nets(v, s->family, &nets, &n) < 0)
		return FW_SOME; /* a host name, resolved when the rules load */
	enum fw_class c = fw_class_nets(s, nets, n, neg);
	if (within && !neg)
		*within = fw_nets_within_peers(s, nets, n);
	free(nets);
	return c;
}

/* The local address: the instance's own, unknown here; only loopback and "any" are sure. */
static enum fw_class local_class(const struct fw_scope *s, const char *v, bool neg)
{
	struct cidr *nets;
	size_t n;
	if (parse_nets(v, s->family, &nets, &n) < 0)
		return FW_SOME;
	enum fw_class c = fw_class_local_nets(nets, n, neg);
	free(nets);
	return c;
}

static enum fw_class iface_class(const char *v, bool neg)
{
	if (!strcmp(v, "lo"))
		return fw_negate(FW_NONE, neg);
	if (!strcmp(v, "+"))
		return fw_negate(FW_ALL, neg);
	return FW_SOME;
}

static unsigned tcp_flag_bits(const char *v)
{
	static const struct {
		const char *n;
		unsigned bit;
	} f[] = {{"FIN", 1},  {"SYN", 2},  {"RST", 4},	 {"PSH", 8},   {"ACK", 16},
		 {"URG", 32}, {"ECE", 64}, {"CWR", 128}, {"ALL", 255}, {"NONE", 0}};
	unsigned bits = 0;
	for (const char *p = v;;) {
		const char *e = strchrnul(p, ',');
		for (size_t i = 0; i < ARRAY_SIZE(f); i++)
			if (strlen(f[i].n) == (size_t)(e - p) &&
			    !strncasecmp(f[i].n, p, (size_t)(e - p)))
				bits |= f[i].bit;
		if (!*e)
			return bits;
		p = e + 1;
	}
}

static enum fw_class flags_class(enum fw_kind k, unsigned mask, unsigned comp, bool neg)
{
	return fw_negate(fw_class_tcp_flags(k, mask, comp, false), neg);
}

static bool list_has(const char *list, const char *word)
{
	size_t n = strlen(word);
	for (const char *p = list;;) {
		const char *e = strchrnul(p, ',');
		if ((size_t)(e - p) == n && !strncasecmp(p, word, n))
			return true;
		if (!*e)
			return false;
		p = e + 1;
	}
}

static bool streq_any(const char *s, const char *a, const char *b)
{
	return !strcmp(s, a) || (b && !strcmp(s, b));
}

/* Number of values an option takes; -1: as many words as do not start with '-'. */
static int option_nargs(const char *o)
{
	static const char *zero[] = {"--syn",
				     "--set",
				     "--rcheck",
				     "--update",
				     "--remove",
				     "--rttl",
				     "--rsource",
				     "--rdest",
				     "--reap",
				     "--fragment",
				     "--log-uid",
				     "--log-tcp-sequence",
				     "--log-tcp-options",
				     "--log-ip-options",
				     "--limit-iface-in",
				     "--limit-iface-out",
				     "--queue-bypass",
				     "--physdev-is-in",
				     "--physdev-is-out",
				     "--physdev-is-bridged",
				     "--checksum-fill",
				     "--notrack",
				     "--return-nomatch",
				     "--strict",
				     "--next",
				     "--ipv4",
				     "--ipv6",
				     "--exist"};
	static const char *two[] = {"--tcp-flags", "--match-set", "--set-counters"};
	for (size_t i = 0; i < ARRAY_SIZE(zero); i++)
		if (!strcmp(o, zero[i]))
			return 0;
	for (size_t i = 0; i < ARRAY_SIZE(two); i++)
		if (!strcmp(o, two[i]))
			return 2;
	if (!strncmp(o, "--", 2))
		return -1;
	return 1;
}

/* ---- the match modules: one handler per module ---- */

/* One option of a match module ("-m MOD ... OPTION VALUES"), as a handler sees it. */
struct mod_opt {
	const struct fw_scope *s;
	enum fw_kind k;
	bool out;   /* the reply direction: the peer is the destination */
	bool no_ct; /* the raw table: conntrack has not run */
	const char *mod, *o;
	char **v;
	size_t nv;
	const char *v0; /* v[0], or "" */
	bool neg;
	struct rule_eval *ev;
	char **rest; /* the rule's words after this option's values */
	size_t n_rest;
	const struct strv *filled; /* sets a SET target changes as packets come */
};

/* --dport/--sport (tcp, udp, sctp, dccp, udplite) or --dports/--sports/--ports (multiport). */
static enum fw_class mod_port_opt(const struct mod_opt *m, bool list, bool *handled)
{
	bool d = list ? streq_any(m->o, "--dports", "--destination-ports")
		      : streq_any(m->o, "--dport", "--destination-port");
	bool sp = list ? streq_any(m->o, "--sports", "--source-ports")
		       : streq_any(m->o, "--sport", "--source-port");
	*handled = m->nv == 1 && (d || sp);
	if (!*handled)
		return FW_SOME;
	bool local = m->out ? sp : d;
	bool w = false;
	enum fw_class c = port_class(m->s, m->v0, list, local, m->neg, local ? &w : NULL);
	/* a port match narrows a rule to sshd's connections only when the rule is TCP */
	if (local && w && (list ? m->ev->tcp : !strcmp(m->mod, "tcp")))
		m->ev->port_within = true;
	return c;
}

static enum fw_class mod_tcp(const struct mod_opt *m)
{
	bool handled;
	enum fw_class c = mod_port_opt(m, false, &handled);
	if (handled)
		return c;
	if (!strcmp(m->o, "--syn"))
		return flags_class(m->k, 0x17, 0x02, m->neg);
	if (!strcmp(m->o, "--tcp-flags") && m->nv == 2)
		return flags_class(m->k, tcp_flag_bits(m->v[0]), tcp_flag_bits(m->v[1]), m->neg);
	return FW_SOME;
}

static enum fw_class mod_ports(const struct mod_opt *m)
{
	bool handled;
	return mod_port_opt(m, false, &handled);
}

static enum fw_class mod_multiport(const struct mod_opt *m)
{
	bool handled;
	enum fw_class c = mod_port_opt(m, true, &handled);
	if (handled)
		return c;
	if (!strcmp(m->o, "--ports") && m->nv == 1) /* either port: sshd's side decides */
		return port_class(m->s, m->v0, true, true, m->neg, NULL);
	return FW_SOME;
}

static enum fw_class mod_conntrack(const struct mod_opt *m)
{
	if (m->no_ct) /* the raw table comes before conntrack: its state is not known yet */
		return FW_SOME;
	const char *st = m->k == FW_IN_NEW ? "NEW" : "ESTABLISHED";
	if (streq_any(m->o, "--state", "--ctstate") && m->nv == 1)
		return fw_negate(list_has(m->v0, st) ? FW_ALL : FW_NONE, m->neg);
	if (!strcmp(m->o, "--ctdir") && m->nv == 1)
		return fw_negate(!strcasecmp(m->v0, m->out ? "REPLY" : "ORIGINAL") ? FW_ALL : FW_NONE,
			      m->neg);
	if (!strcmp(m->o, "--ctproto") && m->nv == 1)
		return fw_negate(!strcasecmp(m->v0, "tcp") || !strcmp(m->v0, "6") ? FW_ALL : FW_NONE,
			      m->neg);
	return FW_SOME;
}

static enum fw_class mod_comment(const struct mod_opt *m)
{
	(void)m;
	return FW_ALL;
}

static enum fw_class mod_iprange(const struct mod_opt *m)
{
	const struct fw_scope *s = m->s;
	if (m->nv != 1)
		return FW_SOME;
	bool src = !strcmp(m->o, "--src-range");
	if (!src && strcmp(m->o, "--dst-range"))
		return FW_SOME;
	const char *dash = strchr(m->v0, '-');
	struct cidr a, b;
	if (!dash || cidr_parse_n(m->v0, (size_t)(dash - m->v0), &a) < 0 ||
	    cidr_parse(dash + 1, &b) < 0 || a.family != s->family || b.family != a.family)
		return FW_SOME;
	if (src == m->out) /* the local address */
		return FW_SOME;
	/* against each peer network: inside the range, outside it, or across */
	size_t al = s->family == AF_INET ? 4 : 16;
	if (!m->neg) {
		bool w = !s->n_peers;
		for (size_t j = 0; j < s->n_peers && !w; j++) {
			struct cidr f, l;
			cidr_first(&s->peers[j], &f);
			cidr_last(&s->peers[j], &l);
			w = memcmp(f.addr, a.addr, al) <= 0 && memcmp(b.addr, l.addr, al) <= 0;
		}
		m->ev->peer_within |= w;
	}
	if (!s->n_peers)
		return FW_SOME;
	size_t all = 0, none = 0;
	for (size_t j = 0; j < s->n_peers; j++) {
		struct cidr f, l;
		cidr_first(&s->peers[j], &f);
		cidr_last(&s->peers[j], &l);
		all += memcmp(f.addr, a.addr, al) >= 0 && memcmp(l.addr, b.addr, al) <= 0;
		none += memcmp(l.addr, a.addr, al) < 0 || memcmp(f.addr, b.addr, al) > 0;
	}
	return fw_negate(all == s->n_peers ? FW_ALL : none == s->n_peers ? FW_NONE : FW_SOME, m->neg);
}

static enum fw_class mod_addrtype(const struct mod_opt *m)
{
	if (m->nv != 1)
		return FW_SOME;
	bool dst = !strcmp(m->o, "--dst-type");
	if (!dst && strcmp(m->o, "--src-type"))
		return strncmp(m->o, "--limit-iface", 13) ? FW_SOME : FW_ALL;
	/* the type is the route's: sshd's own address is LOCAL (in IPv4 never UNICAST), the
	 * client's UNICAST unless a route makes it unreachable */
	bool local_side = dst != m->out;
	/* IPv6 counts a local unicast address as both LOCAL and UNICAST */
	if (local_side)
		return fw_negate(list_has(m->v0, "LOCAL") || (m->s->family == AF_INET6 &&
							   list_has(m->v0, "UNICAST"))
				      ? FW_ALL
				      : FW_NONE,
			      m->neg);
	if (list_has(m->v0, "UNICAST"))
		return fw_negate(FW_ALL, m->neg);
	if (list_has(m->v0, "BLACKHOLE") || list_has(m->v0, "UNREACHABLE") ||
	    list_has(m->v0, "PROHIBIT") || list_has(m->v0, "THROW") || list_has(m->v0, "UNSPEC"))
		return FW_SOME;
	return fw_negate(FW_NONE, m->neg);
}

static enum fw_class mod_pkttype(const struct mod_opt *m)
{
	if (strcmp(m->o, "--pkt-type") || m->nv != 1)
		return FW_SOME;
	return fw_negate(!strcasecmp(m->v0, "unicast") ? FW_ALL
		      : (!strcasecmp(m->v0, "broadcast") || !strcasecmp(m->v0, "multicast"))
			      ? FW_NONE
			      : FW_SOME,
		      m->neg);
}

static enum fw_class mod_recent(const struct mod_opt *m)
{
	/* --set alone always matches; the others depend on history */
	if (!strcmp(m->o, "--set") || !strcmp(m->o, "--name") || !strcmp(m->o, "--rsource") ||
	    !strcmp(m->o, "--rdest") || !strcmp(m->o, "--mask"))
		return FW_ALL;
	return FW_SOME;
}

/* --match-set NAME FLAGS by the set's persisted elements; --return-nomatch swaps what nomatch
 * elements mean. */
static enum fw_class mod_set(const struct mod_opt *m)
{
	if (streq_any(m->o, "--return-nomatch", "--update-counters") ||
	    !strcmp(m->o, "--update-subcounters"))
		return FW_ALL;
	if (strcmp(m->o, "--match-set") || m->nv != 2 || !m->s->sets)
		return FW_SOME;
	bool ret_nomatch = false;
	for (size_t i = 0; i < m->n_rest; i++) {
		if (streq_any(m->rest[i], "-m", "--match") ||
		    streq_any(m->rest[i], "-j", "--jump") ||
		    streq_any(m->rest[i], "-g", "--goto") || !strcmp(m->rest[i], "--match-set"))
			break;
		ret_nomatch |= !strcmp(m->rest[i], "--return-nomatch");
	}
	struct ipset_match im = {
		.name = m->v[0], .flags = m->v[1], .return_nomatch = ret_nomatch, .out = m->out};
	enum fw_class c;
	int rc = ipset_match_class(m->s->sets, &im, m->s, &c);
	const struct ipset_set *set = ipset_find(m->s->sets, m->v[0]);
	/* a SET target adds or deletes elements as packets come (in the set, or in a member of
	 * the list:set): what it adds is not known */
	bool filled = strv_contains(m->filled, m->v[0]);
	for (size_t i = 0; rc == 0 && set && set->kind == IPSET_LIST_SET && i < set->n; i++)
		filled |= set->v[i].member && strv_contains(m->filled, set->v[i].member);
	if (rc == 0 && filled)
		return FW_SOME;
	if (rc == -ENOENT || rc == -EPROTONOSUPPORT) {
		if (!m->ev->note)
			m->ev->note = xasprintf(
				rc == -ENOENT ? "set %s is not among the persisted sets (%s); "
						"iptables-restore refuses a rule naming a set that "
						"does not exist, so the rules do not load at boot"
					      : "set %s of the persisted sets (%s) is of the other "
						"address family; iptables-restore refuses the rule",
				m->v[0], m->s->sets_where ? m->s->sets_where : "none");
		return FW_SOME;
	}
	if (rc < 0) {
		if (!m->ev->block_note)
			m->ev->block_note =
				xasprintf("set %s is of type %s, whose elements are outside the "
					  "model",
					  m->v[0], set ? set->type : "?");
		return FW_SOME;
	}
	/* the peer's side, positive: taking the protected peers out of the set makes the rule
	 * miss them */
	if (c != FW_NONE && !m->neg && !ret_nomatch &&
	    !strncmp(m->v[1], m->out ? "dst" : "src", 3) &&
	    ipset_can_clear(m->s->sets, m->v[0], m->s))
		m->ev->set = m->v[0];
	return fw_negate(c, m->neg);
}

static enum fw_class mod_icmp(const struct mod_opt *m)
{
	(void)m;
	return FW_NONE;
}

/* The match modules the model knows, and what each means for a TCP connection to sshd's port.
 * Naming one of them restricts nothing (its options do); a module not in the table makes the
 * rule match "some" of the connections (a blocking rule then gets an accept for the protected
 * sources in front of it: rate and connection limits such as limit, hashlimit and connlimit,
 * mac, time, string, set, owner ... are all there). An option a handler does not know is
 * "some" as well. */
static const struct {
	const char *name;
	enum fw_class (*opt)(const struct mod_opt *m);
} modules[] = {
	/* the connection's ports: sshd's port is --dport inbound, --sport in its replies; the
	 * client's is ephemeral (1024-65535); --syn and --tcp-flags tell the SYN from the rest */
	{"tcp", mod_tcp},
	/* another protocol's ports: with -p tcp they never match, without it -p decides */
	{"udp", mod_ports},
	{"sctp", mod_ports},
	{"dccp", mod_ports},
	{"udplite", mod_ports},
	/* up to 15 ports or ranges; --ports matches either side, sshd's decides */
	{"multiport", mod_multiport},
	/* conntrack state: NEW for the SYN, ESTABLISHED for the rest; unknown in the raw table */
	{"state", mod_conntrack},
	{"conntrack", mod_conntrack},
	/* matches everything */
	{"comment", mod_comment},
	/* an address range: the peers inside it, outside it or across its ends */
	{"iprange", mod_iprange},
	/* route types: sshd's address is LOCAL, the client's UNICAST */
	{"addrtype", mod_addrtype},
	/* the client's packets are unicast */
	{"pkttype", mod_pkttype},
	/* --set records and matches; --rcheck/--update with --hitcount/--seconds depend on how
	 * often the owner connected: some */
	{"recent", mod_recent},
	/* an ipset: the persisted set's elements against the peers (the first direction flag is
	 * the address's side, the second the port's); outside the model for types other than
	 * hash:ip, hash:net, hash:ip,port, hash:net,port, bitmap:ip, list:set */
	{"set", mod_set},
	/* ICMP's options never match TCP */
	{"icmp", mod_icmp},
	{"icmp6", mod_icmp},
};

static enum fw_class (*module_handler(const char *name))(const struct mod_opt *)
{
	for (size_t i = 0; i < ARRAY_SIZE(modules); i++)
		if (!strcmp(modules[i].name, name))
			return modules[i].opt;
	return NULL;
}

/* One module option; returns its class for kind k (FW_SOME when not understood). */
static enum fw_class module_option(const struct mod_opt *m)
{
	enum fw_class (*h)(const struct mod_opt *) = module_handler(m->mod);
	return h ? h(m) : FW_SOME;
}

/* A rule's words as rule_eval reads them, and what it has read so far. */
struct rule_words {
	const struct fw_scope *s;
	enum fw_kind k;
	bool out, no_ct;
	const struct strv *filled;
	char **argv;
	size_t argc;
	const char *mod, *proto; /* the last -m; the -p */
	bool after_target;	 /* past -j or -g: the target's own options follow */
	struct rule_eval *ev;
};

/* -p comes first in iptables-save output, but may come anywhere: find it first. iptables folds
 * the protocol's name to lower case. */
static void eval_protocol(struct rule_words *rw)
{
	struct rule_eval *ev = rw->ev;
	for (size_t i = 0; i + 1 < rw->argc; i++)
		if (streq_any(rw->argv[i], "-p", "--protocol")) {
			const char *proto = rw->proto = rw->argv[i + 1];
			bool n = i > 0 && !strcmp(rw->argv[i - 1], "!");
			bool tcp = !strcasecmp(proto, "tcp") || !strcmp(proto, "6");
			bool all = !strcasecmp(proto, "all") || !strcmp(proto, "0");
			ev->tcp = !n && tcp;
			if (n)
				ev->cls = fw_and(ev->cls, tcp || all ? FW_NONE : FW_ALL);
			else
				ev->cls = fw_and(ev->cls, tcp || all ? FW_ALL : FW_NONE);
		}
}

/* How many of the words after option argv[i] are its values. */
static size_t option_values(char **argv, size_t argc, size_t i)
{
	int na = option_nargs(argv[i]);
	size_t nv = 0;
	if (na < 0)
		while (i + 1 + nv < argc && argv[i + 1 + nv][0] != '-' &&
		       strcmp(argv[i + 1 + nv], "!"))
			nv++;
	else
		nv = (size_t)na;
	if (i + 1 + nv > argc)
		nv = argc - i - 1;
	return nv;
}

/* An option of the last -m's module (without -m, of the protocol's: -p tcp --dport). */
static enum fw_class eval_module_option(struct rule_words *rw, size_t i, size_t nv, bool neg)
{
	char **v = rw->argv + i + 1;
	const char *m = rw->mod ? rw->mod : rw->proto ? rw->proto : "";
	char lower[16];
	if (!rw->mod && rw->proto && strlen(rw->proto) < sizeof(lower)) {
		for (size_t j = 0; j <= strlen(rw->proto); j++)
			lower[j] = (char)tolower((unsigned char)rw->proto[j]);
		m = lower;
	}
	return module_option(&(struct mod_opt){.s = rw->s,
					       .k = rw->k,
					       .out = rw->out,
					       .no_ct = rw->no_ct,
					       .mod = m,
					       .o = rw->argv[i],
					       .v = v,
					       .nv = nv,
					       .v0 = nv ? v[0] : "",
					       .neg = neg,
					       .ev = rw->ev,
					       .filled = rw->filled,
					       .rest = v + nv,
					       .n_rest = rw->argc - i - 1 - nv});
}

/* Option argv[i] with its nv values: its class for the kind of packet. */
static enum fw_class eval_option(struct rule_words *rw, size_t i, size_t nv, bool neg)
{
	const struct fw_scope *s = rw->s;
	const char *o = rw->argv[i];
	const char *v0 = nv ? rw->argv[i + 1] : "";
	enum fw_class c = FW_ALL;
	bool w = false;
	if (streq_any(o, "-p", "--protocol")) {
	} else if (streq_any(o, "-s", "--source") || !strcmp(o, "--src")) {
		c = rw->out ? local_class(s, v0, neg) : peer_class(s, v0, neg, &w);
		if (w)
			rw->ev->peer_within = true;
	} else if (streq_any(o, "-d", "--destination") || !strcmp(o, "--dst")) {
		c = rw->out ? peer_class(s, v0, neg, &w) : local_class(s, v0, neg);
		if (w)
			rw->ev->peer_within = true;
	} else if (streq_any(o, "-i", "--in-interface")) {
		c = rw->out ? FW_SOME : iface_class(v0, neg);
	} else if (streq_any(o, "-o", "--out-interface")) {
		c = rw->out ? iface_class(v0, neg) : FW_SOME;
	} else if (streq_any(o, "-f", "--fragment")) {
		c = fw_negate(FW_NONE, neg);
	} else if (streq_any(o, "-4", "--ipv4")) {
		c = s->family == AF_INET ? FW_ALL : FW_NONE;
	} else if (streq_any(o, "-6", "--ipv6")) {
		c = s->family == AF_INET6 ? FW_ALL : FW_NONE;
	} else if (streq_any(o, "-c", "--set-counters")) {
	} else if (streq_any(o, "-m", "--match")) {
		rw->mod = v0;
		rw->after_target = false;
		if (!module_handler(rw->mod))
			c = FW_SOME;
	} else if (streq_any(o, "-j", "--jump") || streq_any(o, "-g", "--goto")) {
		rw->ev->target = v0;
		rw->ev->go = o[1] == 'g' || !strcmp(o, "--goto");
		rw->after_target = true;
	} else if (rw->after_target) {
		/* the target's own options */
	} else {
		c = eval_module_option(rw, i, nv, neg);
	}
	return c;
}

/* Evaluate a rule's words for one kind of packet. */
static void rule_eval(const struct fw_scope *s, enum fw_kind k, bool out, bool no_ct,
		      const struct strv *filled, char **argv, size_t argc, struct rule_eval *ev)
{
	struct rule_words rw = {.s = s,
				.k = k,
				.out = out,
				.no_ct = no_ct,
				.filled = filled,
				.argv = argv,
				.argc = argc,
				.ev = ev};
	bool neg = false;
	/* with every source protected, whatever sources a rule names are protected ones */
	*ev = (struct rule_eval){.cls = FW_ALL, .peer_within = !s->n_peers};
	eval_protocol(&rw);
	for (size_t i = 0; i < argc;) {
		if (!strcmp(argv[i], "!")) {
			neg = true;
			i++;
			continue;
		}
		if (argv[i][0] != '-') { /* a stray word: iptables would refuse it; be cautious */
			ev->cls = fw_and(ev->cls, FW_SOME);
			i++;
			continue;
		}
		size_t nv = option_values(argv, argc, i);
		enum fw_class c = eval_option(&rw, i, nv, neg);
		ev->cls = fw_and(ev->cls, c);
		neg = false;
		i += 1 + nv;
	}
}

/* Evaluate a rule for IPv6 neighbour discovery (ICMPv6 135/136, to and from the peers or their
 * router, link-local or not): without it no IPv6 connection starts. Coarse: only what surely
 * cannot match it is told apart. */
static void nd_eval(const struct fw_scope *s, bool out, unsigned type, char **argv, size_t argc,
		    struct rule_eval *ev)
{
	static const char *port_mods[] = {"tcp", "udp", "multiport", "sctp", "dccp", "udplite"};
	static const struct {
		const char *name;
		unsigned type;
	} nd_types[] = {{"135", 135},
			{"136", 136},
			{"neighbour-solicitation", 135},
			{"neighbour-advertisement", 136},
			{"neighbor-solicitation", 135},
			{"neighbor-advertisement", 136}};
	const char *mod = NULL;
	bool neg = false, after_target = false;
	*ev = (struct rule_eval){.cls = FW_ALL, .peer_within = !s->n_peers};
	for (size_t i = 0; i < argc; i++) {
		const char *o = argv[i], *v = i + 1 < argc ? argv[i + 1] : "";
		enum fw_class c = FW_ALL;
		if (!strcmp(o, "!")) {
			neg = true;
			continue;
		}
		if (streq_any(o, "-j", "--jump") || streq_any(o, "-g", "--goto")) {
			ev->target = v;
			ev->go = o[1] == 'g' || !strcmp(o, "--goto");
			after_target = true;
			i++;
		} else if (after_target || o[0] != '-') {
		} else if (streq_any(o, "-p", "--protocol")) {
			bool icmp = !strcasecmp(v, "ipv6-icmp") || !strcasecmp(v, "icmpv6") ||
				    !strcasecmp(v, "icmp6") || !strcmp(v, "58") ||
				    !strcasecmp(v, "all") || !strcmp(v, "0");
			c = fw_negate(icmp ? FW_ALL : FW_NONE, neg);
			i++;
		} else if (streq_any(o, "-m", "--match")) {
			mod = v;
			i++;
		} else if (streq_any(o, out ? "-o" : "-i",
				     out ? "--out-interface" : "--in-interface")) {
			c = !strcmp(v, "lo") ? fw_negate(FW_NONE, neg) : FW_SOME;
			i++;
		} else if (mod && !strcmp(o, "--icmpv6-type")) {
			/* the walk's own type (solicitation or advertisement): all of it; a type
			 * with a code ("135/0") is some */
			bool nd = false, mine = false;
			for (size_t k = 0; k < ARRAY_SIZE(nd_types); k++)
				if (!strncmp(v, nd_types[k].name, strlen(nd_types[k].name))) {
					nd = true;
					mine |= nd_types[k].type == type &&
						!v[strlen(nd_types[k].name)];
				}
			c = mine ? fw_negate(FW_ALL, neg) : nd ? FW_SOME : fw_negate(FW_NONE, neg);
			i++;
		} else if (mod && !strcmp(mod, "comment")) {
			i++;
		} else {
			bool port_mod = false;
			for (size_t k = 0; mod && k < ARRAY_SIZE(port_mods); k++)
				port_mod |= !strcmp(mod, port_mods[k]);
			c = port_mod ? FW_NONE : FW_SOME;
		}
		ev->cls = fw_and(ev->cls, c);
		neg = false;
	}
}

/* ---- the walk through the chains ---- */

/* What a target does with the packets a rule matches. */
enum tgt_kind {
	TGT_ACCEPT,
	TGT_BLOCK,  /* dropped or refused: the connection fails */
	TGT_DIVERT, /* sent to another address or socket: sshd never sees it */
	TGT_RETURN,
	TGT_GO_ON,   /* logs, marks, counts: the packet goes on to the next rule */
	TGT_UNTRACK, /* conntrack skipped: later state matches see UNTRACKED (outside the model) */
	TGT_REWRITE, /* the source address rewritten: later rules see another (outside the model) */
	TGT_JUMP,    /* a user chain */
	TGT_UNKNOWN,
};

static const struct {
	const char *name;
	enum tgt_kind kind;
} targets[] = {
	{"ACCEPT", TGT_ACCEPT},
	{"DROP", TGT_BLOCK},
	{"REJECT", TGT_BLOCK},
	{"TARPIT", TGT_BLOCK},
	{"DELUDE", TGT_BLOCK},
	{"CHAOS", TGT_BLOCK},
	/* nothing listens on a queue at boot; with --queue-bypass the program that will
	 * listen decides: either way it can block */
	{"QUEUE", TGT_BLOCK},
	{"NFQUEUE", TGT_BLOCK},
	{"DNAT", TGT_DIVERT},
	{"REDIRECT", TGT_DIVERT},
	{"NETMAP", TGT_DIVERT},
	{"TPROXY", TGT_DIVERT},
	{"RETURN", TGT_RETURN},
	{"NOTRACK", TGT_UNTRACK},
	{"LOG", TGT_GO_ON},
	{"NFLOG", TGT_GO_ON},
	{"ULOG", TGT_GO_ON},
	{"MARK", TGT_GO_ON},
	{"CONNMARK", TGT_GO_ON},
	{"CLASSIFY", TGT_GO_ON},
	{"DSCP", TGT_GO_ON},
	{"TOS", TGT_GO_ON},
	{"TTL", TGT_GO_ON},
	{"HL", TGT_GO_ON},
	{"TCPMSS", TGT_GO_ON},
	{"TCPOPTSTRIP", TGT_GO_ON},
	{"TRACE", TGT_GO_ON},
	{"AUDIT", TGT_GO_ON},
	{"SET", TGT_GO_ON},
	{"CHECKSUM", TGT_GO_ON},
	{"SECMARK", TGT_GO_ON},
	{"CONNSECMARK", TGT_GO_ON},
	{"IDLETIMER", TGT_GO_ON},
	{"LED", TGT_GO_ON},
	{"RATEEST", TGT_GO_ON},
	{"HMARK", TGT_GO_ON},
	{"TEE", TGT_GO_ON},
	{"ECN", TGT_GO_ON},
	{"SNAT", TGT_REWRITE},
	{"MASQUERADE", TGT_REWRITE},
	{"CT", TGT_GO_ON},
};

/* A chain's rules as the kernel holds them: a deque of command indices, so that a file of
 * a million "-I chain 1" lines costs no more than one of "-A" lines. */
struct corder {
	size_t table;
	const char *name;
	size_t *v;
	size_t start, n, cap;
	const char *policy; /* a built-in chain's policy after the last -P; NULL: user */
	bool positional;    /* shaped by -I, -D or -R (see ipt_fix.at_commit) */
	bool deleted;	    /* -X */
	bool on_path;	    /* being walked: a loop, which iptables refuses too */
	size_t refs;	    /* rules that jump or go to it */
	unsigned char end;  /* accept added at the end: 2 (in), 4 (out); for neighbour
			       discovery 16 (in), 32 (out) */
};

#define ORD_AT(o, r) ((o)->v[(o)->start + (r)])
/* element moves allowed while the chains are built, beyond one per command */
#define ORD_MAX_WORK (64u << 20)

struct walker {
	struct strv filled; /* sets named by a SET target (--add-set, --del-set, --map-set) */
	const struct ipt_file *f;
	const struct fw_scope *s;
	struct ipt_fixes *fx;
	struct corder *ord;
	size_t n_ord;
	enum fw_kind kind;
	bool out;
	bool path_peer, path_port; /* accumulated along the jumps */
	enum fw_class path_cls;	   /* the least class of the jumps that led here */
	bool top_level;		   /* fixes go on the entry chain's rule that led here */
	bool no_ct;		   /* the raw table: before conntrack */
	bool nd;		   /* walking IPv6 neighbour discovery, not the TCP connection */
	unsigned nd_type;	   /* its ICMPv6 type: 135 solicitation, 136 advertisement */
	size_t top_cmd, top_pos;   /* that rule and its place, while depth > 1 */
	struct corder *top_ord;
	size_t depth, steps, max_steps, work;
	bool stop;
	bool unwind;	      /* a fix went on the entry chain's rule: back to depth 1 */
	unsigned char *fixed; /* per command: 1 commented, 2 accept in front (in), 4 (out), 8 its
				 set cleared of the protected sources, 16 and 32 neighbour
				 discovery's accepts in front (in, out) */
};

/* Stop the analysis: what follows cannot be told (the verdict is unknown). */
static void unknown(struct walker *w, char *note)
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

static struct corder *order_find(struct walker *w, size_t table, const char *name)
{
	for (size_t i = 0; i < w->n_ord; i++)
		if (w->ord[i].table == table && !w->ord[i].deleted && !strcmp(w->ord[i].name, name))
			return &w->ord[i];
	return NULL;
}

static void ord_room(struct walker *w, struct corder *o)
{
	if (o->start > 0 && o->start + o->n < o->cap)
		return;
	size_t cap = 2 * o->n + 16, start = (cap - o->n) / 2;
	size_t *v = xcalloc(cap, sizeof(*v));
	if (o->n)
		memcpy(v + start, o->v + o->start, o->n * sizeof(*v));
	free(o->v);
	o->v = v;
	o->cap = cap;
	o->start = start;
	w->work += o->n;
}

static void ord_insert(struct walker *w, struct corder *o, size_t p, size_t cmd)
{
	ord_room(w, o);
	if (p < o->n / 2) {
		memmove(o->v + o->start - 1, o->v + o->start, p * sizeof(*o->v));
		o->start--;
		w->work += p;
	} else {
		memmove(o->v + o->start + p + 1, o->v + o->start + p, (o->n - p) * sizeof(*o->v));
		w->work += o->n - p;
	}
	o->v[o->start + p] = cmd;
	o->n++;
}

static void ord_delete(struct walker *w, struct corder *o, size_t p)
{
	if (p < o->n / 2) {
		memmove(o->v + o->start + 1, o->v + o->start, p * sizeof(*o->v));
		o->start++;
		w->work += p;
	} else {
		memmove(o->v + o->start + p, o->v + o->start + p + 1,
			(o->n - p - 1) * sizeof(*o->v));
		w->work += o->n - p - 1;
	}
	o->n--;
}

/* The words of a rule as iptables compares them for -D: long options as short ones, the
 * protocol in lower case, the "-m tcp" that -p tcp implies left out. */
static void rule_key(const struct ipt_cmd *c, struct buf *b)
{
	static const struct {
		const char *l, *s;
	} syn[] = {{"--source", "-s"},
		   {"--src", "-s"},
		   {"--destination", "-d"},
		   {"--dst", "-d"},
		   {"--protocol", "-p"},
		   {"--jump", "-j"},
		   {"--goto", "-g"},
		   {"--in-interface", "-i"},
		   {"--out-interface", "-o"},
		   {"--match", "-m"},
		   {"--destination-port", "--dport"},
		   {"--source-port", "--sport"},
		   {"--fragment", "-f"}};
	/* iptables compares protocols by number, addresses as networks, and the base options
	 * (-s -d -p -i -o) wherever they stand */
	static const struct {
		const char *name, *num;
	} protos[] = {{"tcp", "6"},	  {"udp", "17"},       {"icmp", "1"},	{"all", "0"},
		      {"icmpv6", "58"},	  {"ipv6-icmp", "58"}, {"icmp6", "58"}, {"sctp", "132"},
		      {"udplite", "136"}, {"dccp", "33"},      {"esp", "50"},	{"ah", "51"},
		      {"gre", "47"},	  {"ipv6", "41"}};
	static const char *base[] = {"-s", "-d", "-p", "-i", "-o"};
	struct buf rest = {0}, slot[ARRAY_SIZE(base)] = {0};
	const char *proto = NULL;
	bool neg = false;
	b->len = 0;
	buf_puts(&rest, "");
	for (size_t k = 0; k < c->argc; k++) {
		const char *a = c->argv[k];
		for (size_t i = 0; i < ARRAY_SIZE(syn); i++)
			if (!strcmp(a, syn[i].l))
				a = syn[i].s;
		if (!strcmp(a, "!")) {
			neg = true;
			continue;
		}
		size_t bi = ARRAY_SIZE(base);
		for (size_t i = 0; i < ARRAY_SIZE(base); i++)
			if (!strcmp(a, base[i]) && k + 1 < c->argc)
				bi = i;
		if (bi < ARRAY_SIZE(base)) {
			const char *v = c->argv[++k];
			char canon[CIDR_STRLEN];
			struct cidr net;
			if (bi == 2) {
				proto = v;
				for (size_t i = 0; i < ARRAY_SIZE(protos); i++)
					if (!strcasecmp(v, protos[i].name))
						v = protos[i].num;
			} else if (bi < 2 && !strchr(v, ',') && cidr_parse(v, &net) == 0) {
				struct cidr first;
				cidr_first(&net, &first);
				first.prefix = net.prefix;
				cidr_format_addr(&first, canon);
				size_t l = strlen(canon);
				snprintf(canon + l, sizeof(canon) - l, "/%u", net.prefix);
				v = canon;
			}
			/* "-p all", "-s 0.0.0.0/0": what a rule without them matches anyway */
			bool dflt = !neg && ((bi == 2 && !strcmp(v, "0")) ||
					     (bi < 2 && v == canon && net.prefix == 0));
			if (!dflt)
				buf_printf(&slot[bi], "%s%s %s", neg ? " !" : "", base[bi], v);
			neg = false;
			continue;
		}
		if (!strcmp(a, "-m") && k + 1 < c->argc && proto &&
		    !strcasecmp(c->argv[k + 1], proto)) {
			k++;
			continue;
		}
		buf_printf(&rest, "%s %s", neg ? " !" : "", a);
		neg = false;
	}
	buf_puts(b, "");
	for (size_t i = 0; i < ARRAY_SIZE(base); i++) {
		if (slot[i].data)
			buf_puts(b, slot[i].data);
		buf_free(&slot[i]);
	}
	buf_puts(b, rest.data);
	buf_free(&rest);
}

/* One order per chain the file declares, built-in or user, empty. */
static void orders_declare(struct walker *w)
{
	const struct ipt_file *f = w->f;
	for (size_t t = 0; t < f->n_tables; t++)
		for (size_t c = 0; c < f->tables[t].n_chains; c++) {
			const struct ipt_chain *ch = &f->tables[t].chains[c];
			w->ord = xgrow(w->ord, w->n_ord, sizeof(*w->ord));
			w->ord[w->n_ord++] = (struct corder){
				.table = t,
				.name = ch->name,
				.policy = strcmp(ch->policy, "-") ? ch->policy : NULL};
		}
}

/* The chain a command acts on (*o, NULL when it names none). False: the command is passed
 * over. */
static bool cmd_order(struct walker *w, const struct ipt_cmd *c, struct corder **o)
{
	*o = NULL;
	if (c->chain) {
		for (size_t k = 0; k < w->n_ord && !*o; k++)
			if (w->ord[k].table == c->table && !strcmp(w->ord[k].name, c->chain))
				*o = &w->ord[k];
		/* iptables-restore refuses a chain it does not know; parse() lets it by */
		return *o != NULL;
	}
	/* parse() refuses the others without a chain */
	return c->op == IPT_FLUSH || c->op == IPT_DELETE_CHAIN || c->op == IPT_ZERO;
}

/* -D with a rule's words: the first rule of the chain with the same words goes. key and
 * other are scratch buffers. */
static void ord_delete_rule(struct walker *w, struct corder *o, const struct ipt_cmd *c,
			    struct buf *key, struct buf *other)
{
	rule_key(c, key);
	size_t r = 0;
	for (; r < o->n; r++) {
		rule_key(&w->f->cmds[ORD_AT(o, r)], other);
		w->work++;
		if (!strcmp(key->data, other->data))
			break;
	}
	if (r == o->n) {
		unknown(w,
			xasprintf("line %u: -D names a rule the analysis cannot find in chain %s",
				  c->line, o->name));
		return;
	}
	ord_delete(w, o, r);
}

/* -I, -R or -D (command i): by rule number, or for -D by the rule's words. */
static void ord_positional(struct walker *w, struct corder *o, const struct ipt_cmd *c, size_t i,
			   struct buf *key, struct buf *other)
{
	o->positional = true;
	if (c->op == IPT_DELETE && !c->pos) {
		ord_delete_rule(w, o, c, key, other);
		return;
	}
	if (c->op == IPT_INSERT ? c->pos > o->n + 1 : c->pos > o->n) {
		unknown(w, xasprintf("line %u: rule number %lu is past the end of chain %s; "
				     "iptables-restore refuses the file",
				     c->line, c->pos, o->name));
		return;
	}
	if (c->op == IPT_INSERT)
		ord_insert(w, o, c->pos - 1, i);
	else if (c->op == IPT_REPLACE)
		ORD_AT(o, c->pos - 1) = i;
	else
		ord_delete(w, o, c->pos - 1);
}

/* Command i applied to the chains, as iptables-restore applies it (o: the chain it names, or
 * NULL for every chain of its table). */
static void ord_apply(struct walker *w, struct corder *o, const struct ipt_cmd *c, size_t i,
		      struct buf *key, struct buf *other)
{
	switch (c->op) {
	case IPT_APPEND:
		ord_insert(w, o, o->n, i);
		break;
	case IPT_INSERT:
	case IPT_REPLACE:
	case IPT_DELETE:
		ord_positional(w, o, c, i, key, other);
		break;
	case IPT_FLUSH:
		for (size_t k = 0; k < w->n_ord; k++)
			if (w->ord[k].table == c->table && (!o || &w->ord[k] == o))
				w->ord[k].n = 0;
		break;
	case IPT_NEW:
		o->deleted = false;
		o->n = 0;
		break;
	case IPT_DELETE_CHAIN:
		for (size_t k = 0; k < w->n_ord; k++)
			if (w->ord[k].table == c->table && !w->ord[k].policy &&
			    (!o || &w->ord[k] == o)) {
				w->ord[k].deleted = true;
				w->ord[k].n = 0;
			}
		break;
	case IPT_POLICY:
		if (o->policy && c->argc)
			o->policy = c->argv[0];
		break;
	case IPT_ZERO:
		break;
	case IPT_RENAME:
		unknown(w, xasprintf("line %u: chain %s is renamed (-E), which the analysis does "
				     "not follow",
				     c->line, o->name));
		break;
	}
}

/* Each chain's rules in the order the kernel holds them after the file loads: every command
 * applied in file order, as iptables-restore applies them. */
static void build_orders(struct walker *w)
{
	const struct ipt_file *f = w->f;
	orders_declare(w);
	struct buf key = {0}, other = {0};
	for (size_t i = 0; i < f->n_cmds && !w->stop; i++) {
		struct corder *o;
		if (!cmd_order(w, &f->cmds[i], &o))
			continue;
		if (w->work > ORD_MAX_WORK + f->n_cmds) {
			unknown(w, xstrdup("too many -I/-D commands to follow"));
			break;
		}
		ord_apply(w, o, &f->cmds[i], i, &key, &other);
	}
	buf_free(&key);
	buf_free(&other);
}

/* How many rules of the loaded chains jump or go to each chain. */
static void count_refs(struct walker *w)
{
	for (size_t i = 0; i < w->n_ord; i++) {
		const struct corder *o = &w->ord[i];
		for (size_t r = 0; !o->deleted && r < o->n; r++) {
			const struct ipt_cmd *c = &w->f->cmds[ORD_AT(o, r)];
			for (size_t k = 0; k + 1 < c->argc; k++)
				if (streq_any(c->argv[k], "-j", "--jump") ||
				    streq_any(c->argv[k], "-g", "--goto")) {
					struct corder *t = order_find(w, o->table, c->argv[k + 1]);
					if (t)
						t->refs++;
					break;
				}
		}
	}
}

static const char *kind_text(enum fw_kind k)
{
	switch (k) {
	case FW_IN_NEW:
		return "new connections to sshd";
	case FW_IN_EST:
		return "the client's packets of established sshd connections";
	default:
		return "sshd's replies";
	}
}

/* What the walk follows, for messages. */
static const char *walk_text(const struct walker *w)
{
	if (w->nd)
		return w->nd_type == 135
			       ? "IPv6 neighbour solicitations (ICMPv6), without which no "
				 "connection to sshd starts,"
			       : "IPv6 neighbour advertisements (ICMPv6), without which no "
				 "connection to sshd starts,";
	return kind_text(w->kind);
}

/* Record a fix of command cmd at place pos of chain o (cmd SIZE_MAX: the chain's end).
 * Returns the kind recorded: in a chain shaped by -I/-D/-R a comment would move the places
 * the later commands name, so an accept goes in front instead. */
static enum ipt_fix_kind add_fix(struct walker *w, enum ipt_fix_kind kind, size_t cmd, size_t pos,
				 struct corder *o, char *why)
{
	struct ipt_fixes *fx = w->fx;
	if (w->nd && w->top_level) { /* ufw's tuples have no place for it */
		unknown(w, xasprintf("chain %s can drop IPv6 neighbour discovery (ICMPv6), without "
				     "which no connection starts; that is outside the model (%s)",
				     o->name, why));
		free(why);
		return kind;
	}
	if (o->positional || w->nd) /* neighbour discovery: never comment a rule out for it */
		kind = IPT_FIX_INSERT;
	if (fx->n == fx->cap) {
		fx->cap = fx->cap ? 2 * fx->cap : 8;
		fx->v = xrealloc(fx->v, fx->cap * sizeof(*fx->v));
	}
	fx->v[fx->n++] = (struct ipt_fix){.kind = kind,
					  .cmd = cmd,
					  .table = o->table,
					  .chain = xstrdup(o->name),
					  .out = w->out,
					  .why = why,
					  .at_commit = o->positional,
					  .pos = o->positional && cmd != SIZE_MAX ? pos + 1 : 0,
					  .nd = w->nd};
	unsigned char bit = kind == IPT_FIX_COMMENT ? 1 : w->out ? 4 : 2;
	if (w->nd)
		bit = w->out ? 32 : 16;
	if (cmd == SIZE_MAX)
		o->end |= bit;
	else
		w->fixed[cmd] |= bit;
	return kind;
}

/* The protected sources leave set `set` (the rule at cmd goes on blocking the others). */
static void add_set_fix(struct walker *w, size_t cmd, const struct corder *o, const char *set,
			char *why)
{
	struct ipt_fixes *fx = w->fx;
	if (fx->n == fx->cap) {
		fx->cap = fx->cap ? 2 * fx->cap : 8;
		fx->v = xrealloc(fx->v, fx->cap * sizeof(*fx->v));
	}
	fx->v[fx->n++] = (struct ipt_fix){.kind = IPT_FIX_SET,
					  .cmd = cmd,
					  .table = o->table,
					  .chain = xstrdup(o->name),
					  .out = w->out,
					  .why = why,
					  .set = xstrdup(set)};
	w->fixed[cmd] |= 8;
}

/* The set a rule's word names after opt ("--match-set NAME", "--add-set NAME"), or NULL. */
static const char *set_after(const struct ipt_cmd *c, size_t k, const char *opt)
{
	return !strcmp(c->argv[k], opt) && k + 1 < c->argc ? c->argv[k + 1] : NULL;
}

/* Is every use of the set a positive match of a rule that blocks (no accept, no jump, no SET
 * target that fills it as packets come, no list:set holding it, no --return-nomatch)? Only
 * then may its elements change: another rule would see the change too. */
static bool set_blocks_only(struct walker *w, const char *set)
{
	for (size_t i = 0; i < w->s->sets->n; i++) {
		const struct ipset_set *l = &w->s->sets->sets[i];
		for (size_t k = 0; l->kind == IPSET_LIST_SET && k < l->n; k++)
			if (l->v[k].member && !strcmp(l->v[k].member, set))
				return false;
	}
	for (size_t i = 0; i < w->f->n_cmds; i++) {
		const struct ipt_cmd *c = &w->f->cmds[i];
		bool uses = false, neg = false, ret = false, fills = false;
		const char *target = NULL;
		for (size_t k = 0; k < c->argc; k++) {
			const char *n = set_after(c, k, "--match-set");
			if (n && !strcmp(n, set)) {
				uses = true;
				neg |= k > 0 && !strcmp(c->argv[k - 1], "!");
			}
			ret |= !strcmp(c->argv[k], "--return-nomatch");
			n = set_after(c, k, "--add-set");
			if (!n)
				n = set_after(c, k, "--del-set");
			if (!n)
				n = set_after(c, k, "--map-set");
			fills |= n && !strcmp(n, set);
			if (!target && k + 1 < c->argc &&
			    (streq_any(c->argv[k], "-j", "--jump") ||
			     streq_any(c->argv[k], "-g", "--goto")))
				target = c->argv[k + 1];
		}
		if (fills)
			return false;
		if (!uses)
			continue;
		bool blocks = false;
		for (size_t t = 0; target && t < ARRAY_SIZE(targets); t++)
			if (!strcmp(targets[t].name, target))
				blocks = targets[t].kind == TGT_BLOCK ||
					 targets[t].kind == TGT_DIVERT;
		if (neg || ret || !blocks)
			return false;
	}
	return true;
}

static bool is_f2b_chain(const char *name)
{
	return !strncmp(name, "f2b-", 4) || !strncmp(name, "fail2ban-", 9);
}

static bool is_block_target(const char *t)
{
	return !strcmp(t, "DROP") || !strcmp(t, "REJECT") || !strcmp(t, "TARPIT");
}

static enum tgt_kind target_kind(struct walker *w, const struct corder *o, const struct ipt_cmd *c,
				 const char *t, struct corder **sub)
{
	*sub = NULL;
	for (size_t i = 0; i < ARRAY_SIZE(targets); i++)
		if (!strcmp(targets[i].name, t)) {
			if (targets[i].kind != TGT_GO_ON || strcmp(t, "CT"))
				return targets[i].kind;
			for (size_t k = 0; k < c->argc; k++)
				if (!strcmp(c->argv[k], "--notrack"))
					return TGT_UNTRACK;
			return TGT_GO_ON;
		}
	*sub = order_find(w, o->table, t);
	return *sub && !(*sub)->policy ? TGT_JUMP : TGT_UNKNOWN;
}

/* Packets that leave a built-in chain early (RETURN, or the end of a chain reached by -g) get
 * its policy. True when the walk of the chain ends here (*res says how). */
static bool leave_to_policy(struct walker *w, struct corder *o, size_t ci, size_t r,
			    const char *policy, enum fw_class cls, const char *how, bool *res)
{
	if (is_block_target(policy)) {
		add_fix(w, IPT_FIX_INSERT, ci, r, o,
			xasprintf("%s leaves chain %s, whose policy %s drops %s from protected "
				  "sources",
				  how, o->name, policy, walk_text(w)));
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
struct ichain {
	struct corder *o;
	const char *policy;   /* a built-in chain's policy; NULL: a user chain */
	unsigned char in_bit; /* the walker's fixed[] bit for an accept in front of a rule */
	bool leaked;	      /* some packets left before the end (user chains) */
	bool res;	      /* every packet of the kind is accepted (the walk's answer) */
};

static bool walk_chain(struct walker *w, struct corder *o, const char *policy);

/* RETURN, or the end of a -g chain that does not accept: the packets the rule matches leave
 * this chain without being accepted. True when the walk of the chain ends here. */
static bool walk_leave(struct walker *w, struct ichain *c, size_t ci, size_t r, enum fw_class cls,
		       const char *how)
{
	if (c->policy)
		return leave_to_policy(w, c->o, ci, r, c->policy, cls, how, &c->res);
	c->leaked = true;
	return cls == FW_ALL;
}

/* A blocking rule (or a divert): the fix goes on it, or on the entry chain's rule that led
 * here (the walk then unwinds to it). Commented out it is passed; an accept in front of it
 * takes everything that reaches it. True when the walk of the chain ends. */
static bool walk_block(struct walker *w, struct ichain *c, size_t ci, size_t r,
		       const struct rule_eval *ev, enum tgt_kind tk, bool peer, bool port)
{
	char *why =
		xasprintf("-j %s %s %s from protected sources%s", ev->target,
			  fw_and(ev->cls, w->path_cls) == FW_ALL ? "blocks" : "can block",
			  walk_text(w), tk == TGT_DIVERT ? " (they are sent away from sshd)" : "");
	enum ipt_fix_kind kind =
		peer && (port || is_f2b_chain(c->o->name)) ? IPT_FIX_COMMENT : IPT_FIX_INSERT;
	if (w->top_level && w->depth > 1) {
		add_fix(w, kind, w->top_cmd, w->top_pos, w->top_ord, why);
		w->unwind = true;
		return true;
	}
	if (add_fix(w, kind, ci, r, c->o, why) == IPT_FIX_INSERT) {
		c->res = !w->stop && !c->leaked;
		return true;
	}
	return false;
}

/* -j or -g to a user chain: that chain decides; what falls off the end of a -g chain leaves
 * this one. True when the walk of this chain ends. */
static bool walk_jump(struct walker *w, struct ichain *c, size_t ci, size_t r,
		      const struct rule_eval *ev, struct corder *sub, bool peer, bool port)
{
	bool sp = w->path_peer, spo = w->path_port;
	enum fw_class spc = w->path_cls;
	/* what the jump narrows holds inside only for a chain reached from nowhere else: a rule
	 * commented there is commented for every caller */
	w->path_peer = sub->refs == 1 && peer;
	w->path_port = sub->refs == 1 && port;
	w->path_cls = fw_and(spc, ev->cls);
	if (w->depth == 1) {
		w->top_cmd = ci;
		w->top_pos = r;
		w->top_ord = c->o;
	}
	bool acc = walk_chain(w, sub, NULL);
	w->path_peer = sp;
	w->path_port = spo;
	w->path_cls = spc;
	if (w->stop)
		return true;
	if (w->unwind) {
		if (w->depth > 1)
			return true;
		/* back in the entry chain: the jump rule is now commented out (go on) or has an
		 * accept in front (all accepted) */
		w->unwind = false;
		if (!(w->fixed[ci] & c->in_bit))
			return false;
		c->res = !c->leaked;
		return true;
	}
	if (acc) {
		if (ev->cls != FW_ALL)
			return false;
		c->res = !c->leaked;
		return true;
	}
	if (ev->go)
		return walk_leave(w, c, ci, r, ev->cls, "-g to a chain that does not accept");
	return false;
}

/* A target whose effect on the connection is outside the model: the verdict is unknown. */
static void walk_outside(struct walker *w, const struct ipt_cmd *cmd, enum tgt_kind tk,
			 const char *target)
{
	if (tk == TGT_UNTRACK)
		unknown(w, xasprintf("line %u: -j %s turns connection tracking off, and what the "
				     "state matches then do is outside the model",
				     cmd->line, target));
	else if (tk == TGT_REWRITE)
		unknown(w, xasprintf("line %u: -j %s rewrites the address of connections to sshd, "
				     "which is outside the model",
				     cmd->line, target));
	else
		unknown(w, xasprintf("line %u: target %s is outside the model", cmd->line, target));
}

/* The rule at position r of the chain. True when the walk of the chain ends at it (c->res
 * says how). */
static bool walk_rule(struct walker *w, struct ichain *c, size_t r)
{
	size_t ci = ORD_AT(c->o, r);
	const struct ipt_cmd *cmd = &w->f->cmds[ci];
	/* an accept added for the TCP connection does not take neighbour discovery, nor the other
	 * way round */
	if (w->fixed[ci] & c->in_bit) {
		c->res = !c->leaked;
		return true;
	}
	/* a set that no longer holds the protected sources still holds what neighbour discovery
	 * comes from */
	if ((w->fixed[ci] & 1) || ((w->fixed[ci] & 8) && !w->nd))
		return false;
	struct rule_eval ev;
	if (w->nd)
		nd_eval(w->s, w->out, w->nd_type, cmd->argv, cmd->argc, &ev);
	else
		rule_eval(w->s, w->kind, w->out, w->no_ct, &w->filled, cmd->argv, cmd->argc, &ev);
	if (ev.note) {
		unknown(w, xasprintf("line %u: %s", cmd->line, ev.note));
		free(ev.note);
		free(ev.block_note);
		return true;
	}
	char *block_note = ev.block_note;
	ev.block_note = NULL;
	if (ev.cls == FW_NONE || !ev.target) {
		free(block_note);
		return false;
	}
	bool peer = w->path_peer || ev.peer_within;
	bool port = w->path_port || ev.port_within;
	struct corder *sub;
	enum tgt_kind tk = target_kind(w, c->o, cmd, ev.target, &sub);
	bool blocks = tk == TGT_BLOCK || tk == TGT_DIVERT;
	if (blocks && block_note) {
		unknown(w, xasprintf("line %u: -j %s: %s", cmd->line, ev.target, block_note));
		free(block_note);
		return true;
	}
	free(block_note);
	if (blocks && ev.set && set_blocks_only(w, ev.set)) {
		add_set_fix(
			w, ci, c->o, ev.set,
			xasprintf("-j %s %s %s from protected sources in set %s", ev.target,
				  fw_and(ev.cls, w->path_cls) == FW_ALL ? "blocks" : "can block",
				  walk_text(w), ev.set));
		return false;
	}
	switch (tk) {
	case TGT_ACCEPT:
		if (ev.cls != FW_ALL)
			return false;
		c->res = !c->leaked;
		return true;
	case TGT_BLOCK:
	case TGT_DIVERT:
		return walk_block(w, c, ci, r, &ev, tk, peer, port);
	case TGT_UNTRACK:
	case TGT_REWRITE:
	case TGT_UNKNOWN:
		walk_outside(w, cmd, tk, ev.target);
		return true;
	case TGT_GO_ON:
		return false;
	case TGT_RETURN:
		return walk_leave(w, c, ci, r, ev.cls, "RETURN");
	case TGT_JUMP:
		return walk_jump(w, c, ci, r, &ev, sub, peer, port);
	}
	return false;
}

/* The end of the chain: an accept added there, or a built-in chain's policy. */
static void walk_end(struct walker *w, struct ichain *c)
{
	if (c->o->end & c->in_bit) {
		c->res = !c->leaked;
		return;
	}
	if (!c->policy)
		return;
	if (is_block_target(c->policy)) {
		add_fix(w, IPT_FIX_INSERT, SIZE_MAX, 0, c->o,
			xasprintf("chain %s's policy %s drops %s from protected sources and no "
				  "rule accepts them",
				  c->o->name, c->policy, walk_text(w)));
		c->res = !w->stop;
	} else {
		c->res = true;
	}
}

/* Walk a chain for the walker's kind of packet. Returns true when every such packet that
 * enters the chain is accepted (false: some fall off its end or return). A built-in chain's
 * end applies policy. A blocking rule is commented out (the walk goes on past it) or gets an
 * accept in front (which accepts everything that reaches it: the walk ends there). */
static bool walk_chain(struct walker *w, struct corder *o, const char *policy)
{
	struct ichain c = {.o = o,
			   .policy = policy,
			   .in_bit = w->nd    ? (w->out ? 32 : 16)
				     : w->out ? 4
					      : 2};
	if (w->depth >= WALK_MAX_DEPTH || o->on_path)
		return false;
	w->depth++;
	o->on_path = true;
	bool ended = false;
	for (size_t r = 0; r < o->n && !w->stop && !ended; r++) {
		if (++w->steps > w->max_steps) {
			w->stop = true;
			break;
		}
		ended = walk_rule(w, &c, r);
	}
	if (!ended && !w->stop)
		walk_end(w, &c);
	o->on_path = false;
	w->depth--;
	return c.res;
}

/* In kernel order. nat PREROUTING sees only a connection's first packet; a DNAT or REDIRECT
 * there sends it away from sshd. */
const struct ipt_entry IPT_HOOKS[] = {
	{.table = "raw", .chain = "PREROUTING"},
	{.table = "mangle", .chain = "PREROUTING"},
	{.table = "nat", .chain = "PREROUTING", .new_only = true},
	{.table = "mangle", .chain = "INPUT"},
	{.table = "nat", .chain = "INPUT", .new_only = true},
	{.table = "filter", .chain = "INPUT"},
	{.table = "security", .chain = "INPUT"},
	{.table = "raw", .chain = "OUTPUT", .out = true},
	{.table = "mangle", .chain = "OUTPUT", .out = true},
	{.table = "filter", .chain = "OUTPUT", .out = true},
	{.table = "security", .chain = "OUTPUT", .out = true},
	{.table = "mangle", .chain = "POSTROUTING", .out = true},
};
const size_t IPT_N_HOOKS = ARRAY_SIZE(IPT_HOOKS);

int iptables_save_analyze(const struct ipt_file *f, const struct fw_scope *s,
			  const struct ipt_entry *entries, size_t n_entries, struct ipt_fixes *out)
{
	struct walker w = {.f = f, .s = s, .fx = out};
	*out = (struct ipt_fixes){0};
	w.fixed = xcalloc(f->n_cmds + 1, 1);
	/* time grows with the file, never past a bound of its size */
	w.max_steps = WALK_MAX_STEPS + 16 * (size_t)f->n_cmds;
	build_orders(&w);
	for (size_t i = 0; s->sets && i < f->n_cmds; i++)
		for (size_t k = 0; k + 1 < f->cmds[i].argc; k++)
			if (!strcmp(f->cmds[i].argv[k], "--add-set") ||
			    !strcmp(f->cmds[i].argv[k], "--del-set") ||
			    !strcmp(f->cmds[i].argv[k], "--map-set"))
				strv_push(&w.filled, f->cmds[i].argv[k + 1]);
	count_refs(&w);
	/* One pass per kind: a fix only removes a drop or adds an accept, so it never undoes what
	 * an earlier walk found accepted. */
	for (int k = 0; k < FW_N_KINDS && !w.stop; k++) {
		w.kind = (enum fw_kind)k;
		w.out = k == FW_OUT_EST;
		for (size_t e = 0; e < n_entries && !w.stop; e++) {
			const struct ipt_entry *en = &entries[e];
			if (en->out != w.out || (en->new_only && w.kind != FW_IN_NEW))
				continue;
			/* the last section of a table wins: iptables-restore flushes it */
			size_t t = SIZE_MAX;
			for (size_t i = 0; i < f->n_tables; i++)
				if (!strcmp(f->tables[i].name, en->table))
					t = i;
			if (t == SIZE_MAX)
				continue;
			struct corder *o = order_find(&w, t, en->chain);
			if (!o || (!o->policy && !en->policy))
				continue;
			w.path_peer = w.path_port = w.unwind = false;
			w.path_cls = FW_ALL;
			w.depth = 0;
			w.top_level = en->top_level;
			w.no_ct = !strcmp(en->table, "raw");
			walk_chain(&w, o, en->policy ? en->policy : o->policy);
		}
	}
	/* IPv6: neighbour discovery (solicitations and advertisements, both ways) must get
	 * through too: a drop gets accepts for ICMPv6 133-136 in front of it */
	for (int k = 0; s->family == AF_INET6 && k < 4 && !w.stop; k++) {
		w.nd = true;
		w.out = k & 1;
		w.nd_type = k < 2 ? 135 : 136;
		w.kind = w.out ? FW_OUT_EST : FW_IN_NEW;
		for (size_t e = 0; e < n_entries && !w.stop; e++) {
			const struct ipt_entry *en = &entries[e];
			if (en->out != w.out || en->new_only || !strcmp(en->table, "nat"))
				continue;
			size_t t = SIZE_MAX;
			for (size_t i = 0; i < f->n_tables; i++)
				if (!strcmp(f->tables[i].name, en->table))
					t = i;
			struct corder *o = t == SIZE_MAX ? NULL : order_find(&w, t, en->chain);
			if (!o || (!o->policy && !en->policy))
				continue;
			w.path_peer = w.path_port = w.unwind = false;
			w.path_cls = FW_ALL;
			w.depth = 0;
			w.top_level = en->top_level;
			w.no_ct = true;
			walk_chain(&w, o, en->policy ? en->policy : o->policy);
		}
	}
	free(w.fixed);
	strv_free(&w.filled);
	for (size_t i = 0; i < w.n_ord; i++)
		free(w.ord[i].v);
	free(w.ord);
	if (w.stop && !out->unsupported) {
		out->unsupported = true;
		out->note = xstrdup("the rules are too deep or too many to follow");
	}
	return 0;
}

/* ---- writing the fixes ---- */

static void append_ports(struct buf *b, const struct fw_scope *s, bool out)
{
	if (s->n_ports == 1) {
		buf_printf(b, " -p tcp -m tcp --%s %u", out ? "sport" : "dport", s->ports[0]);
		return;
	}
	buf_printf(b, " -p tcp -m multiport --%s ", out ? "sports" : "dports");
	for (size_t i = 0; i < s->n_ports && i < 15; i++)
		buf_printf(b, "%s%u", i ? "," : "", s->ports[i]);
}

char *iptables_save_accept_words(const struct fw_scope *s, bool out)
{
	struct buf b = {0};
	if (s->n_peers) {
		buf_puts(&b, out ? "-d " : "-s ");
		for (size_t i = 0; i < s->n_peers; i++) {
			char t[CIDR_STRLEN];
			cidr_format(&s->peers[i], t);
			buf_printf(&b, "%s%s", i ? "," : "", t);
		}
	}
	append_ports(&b, s, out);
	buf_puts(&b, " -j ACCEPT");
	char *r = xstrdup(b.data[0] == ' ' ? b.data + 1 : b.data);
	buf_free(&b);
	return r;
}

/* Neighbour discovery: router solicitation and advertisement, neighbour solicitation and
 * advertisement (RFC 4861). */
static const unsigned nd_accept_types[] = {133, 134, 135, 136};

char *iptables_save_fix_words(const struct fw_scope *s, const struct ipt_fix *x, unsigned i)
{
	if (!x->nd)
		return i ? NULL : iptables_save_accept_words(s, x->out);
	if (i >= ARRAY_SIZE(nd_accept_types))
		return NULL;
	return xasprintf("-p ipv6-icmp -m icmp6 --icmpv6-type %u -j ACCEPT", nd_accept_types[i]);
}

size_t iptables_save_next_line(const char *buf, size_t len, size_t off)
{
	const char *nl = off < len ? memchr(buf + off, '\n', len - off) : NULL;
	return nl ? (size_t)(nl - buf) + 1 : len;
}

struct placed {
	size_t off;
	int order;	   /* at one offset: inserts, then -A at COMMIT, -I at COMMIT, comments */
	unsigned long pos; /* -I at COMMIT: the highest place first, so none moves another */
	const struct ipt_fix *fx;
};

static int placed_cmp(const void *a, const void *b)
{
	const struct placed *x = a, *y = b;
	if (x->off != y->off)
		return x->off < y->off ? -1 : 1;
	if (x->order != y->order)
		return x->order - y->order;
	return x->pos > y->pos ? -1 : x->pos < y->pos;
}

void iptables_save_edits(const char *buf, size_t len, const struct ipt_file *f,
			 const struct ipt_fixes *fx, const struct fw_scope *s, const char *marker,
			 const struct fw_edit_sink *out)
{
	struct placed *pl = xcalloc(fx->n + 1, sizeof(*pl));
	for (size_t i = 0; i < fx->n; i++) {
		const struct ipt_fix *x = &fx->v[i];
		size_t off;
		int order = x->kind == IPT_FIX_INSERT ? 0 : 3;
		if (x->at_commit) {
			off = f->tables[x->table].commit_off;
			order = x->pos ? 2 : 1;
		} else if (x->cmd != SIZE_MAX) {
			off = f->cmds[x->cmd].off;
		} else {
			/* after the last command that shapes the chain (its last rule, or a flush
			 * after it), else in front of COMMIT */
			size_t last = SIZE_MAX;
			for (size_t c = 0; c < f->n_cmds; c++) {
				const struct ipt_cmd *k = &f->cmds[c];
				if (k->table != x->table || k->op == IPT_POLICY ||
				    k->op == IPT_ZERO)
					continue;
				if (!k->chain || !strcmp(k->chain, x->chain))
					last = c;
			}
			off = last != SIZE_MAX
				      ? iptables_save_next_line(buf, len, f->cmds[last].off)
				      : f->tables[x->table].commit_off;
		}
		pl[i] = (struct placed){.off = off, .order = order, .pos = x->pos, .fx = x};
	}
	qsort(pl, fx->n, sizeof(*pl), placed_cmp);
	for (size_t i = 0; i < fx->n; i++) {
		const struct ipt_fix *x = pl[i].fx;
		if (x->kind == IPT_FIX_SET) /* the set's file changes, not this one */
			continue;
		if (x->kind == IPT_FIX_COMMENT) {
			out->add(out->arg, pl[i].off, 0, marker, strlen(marker));
			continue;
		}
		struct buf b = {0};
		if (pl[i].off == len && len && buf[len - 1] != '\n')
			buf_puts(&b, "\n");
		buf_printf(&b, "%sadded the next rule%s: %s\n", marker, x->nd ? "s" : "", x->why);
		for (unsigned k = 0; k < (x->nd ? ARRAY_SIZE(nd_accept_types) : 1); k++) {
			_cleanup_free_ char *words = iptables_save_fix_words(s, x, k);
			if (x->pos)
				buf_printf(&b, "-I %s %lu %s\n", x->chain, x->pos, words);
			else
				buf_printf(&b, "-A %s %s\n", x->chain, words);
		}
		out->add(out->arg, pl[i].off, 0, b.data, b.len);
		buf_free(&b);
	}
	free(pl);
}
