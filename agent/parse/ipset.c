/* ipset.c: the persisted ipsets (`ipset save` format) and which protected addresses they hold.
 * The grammar follows ipset restore (ipset: src/ipset.c, lib/parse.c): one command a line,
 * words split on blanks with "..." quoting, "#" comment lines. The match follows the kernel
 * (net/netfilter/ipset/ip_set_core.c ip_set_test): a match naming fewer directions than the
 * set has dimensions never matches; in a hash:net* set the most specific element containing
 * the address decides, and a "nomatch" one makes the match fail (succeed with
 * --return-nomatch). */
#include "parse/ipset.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "util.h"

#define IPSET_MAX_LINE (64u << 10)
#define IPSET_MAX_WORDS 64u
#define IPSET_MAX_ENTRIES (4u << 20)

typedef unsigned __int128 u128;

static const struct {
	const char *name;
	enum ipset_kind kind;
	unsigned dim;
} types[] = {
	{"hash:ip", IPSET_HASH_IP, 1},		 {"hash:net", IPSET_HASH_NET, 1},
	{"hash:ip,port", IPSET_HASH_IP_PORT, 2}, {"hash:net,port", IPSET_HASH_NET_PORT, 2},
	{"bitmap:ip", IPSET_BITMAP_IP, 1},	 {"list:set", IPSET_LIST_SET, 1},
};

static unsigned fam_bits(int family)
{
	return family == AF_INET ? 32 : 128;
}

static u128 to_u128(const struct cidr *c)
{
	u128 v = 0;
	size_t n = c->family == AF_INET ? 4 : 16;
	for (size_t i = 0; i < n; i++)
		v = v << 8 | c->addr[i];
	return v;
}

static void from_u128(u128 v, int family, unsigned prefix, struct cidr *out)
{
	size_t n = family == AF_INET ? 4 : 16;
	*out = (struct cidr){.family = family, .prefix = prefix};
	for (size_t i = n; i-- > 0;) {
		out->addr[i] = (uint8_t)v;
		v >>= 8;
	}
}

static u128 span(unsigned bits, unsigned prefix)
{
	/* the number of addresses of a /prefix, minus one */
	unsigned host = bits - prefix;
	return host >= 128 ? ~(u128)0 : ((u128)1 << host) - 1;
}

/* The networks that cover [lo, hi] exactly, none wider than /min_prefix. */
static int range_nets(u128 lo, u128 hi, int family, unsigned min_prefix, struct cidr **v, size_t *n)
{
	unsigned bits = fam_bits(family);
	while (lo <= hi) {
		unsigned p = min_prefix;
		while (p < bits &&
		       ((lo & span(bits, p)) || lo + span(bits, p) > hi || lo + span(bits, p) < lo))
			p++;
		if (*n >= IPSET_MAX_ENTRIES)
			return -E2BIG;
		*v = xgrow(*v, *n, sizeof(**v));
		from_u128(lo, family, p, &(*v)[(*n)++]);
		u128 next = lo + span(bits, p) + 1;
		if (next == 0 || next < lo)
			break;
		lo = next;
	}
	return 0;
}

/* "ADDR", "NET/PFX", "A-B" of one family into the networks they cover (elements masked to
 * netmask when the type keeps networks of it). */
static int parse_addr(const char *s, size_t n, int family, unsigned netmask, struct cidr **v,
		      size_t *nv)
{
	const char *dash = memchr(s, '-', n);
	struct cidr a, b;
	unsigned bits = fam_bits(family);
	if (dash) {
		/* ipset takes ranges of IPv4 addresses only */
		if (family != AF_INET || cidr_parse_n(s, (size_t)(dash - s), &a) < 0 ||
		    cidr_parse_n(dash + 1, n - (size_t)(dash - s) - 1, &b) < 0 ||
		    a.family != family || b.family != family || a.prefix != bits ||
		    b.prefix != bits)
			return -EINVAL;
		u128 lo = to_u128(&a), hi = to_u128(&b);
		if (lo > hi)
			return -EINVAL;
		if (netmask && netmask < bits) {
			lo &= ~span(bits, netmask);
			hi |= span(bits, netmask);
		}
		return range_nets(lo, hi, family, 0, v, nv);
	}
	if (cidr_parse_n(s, n, &a) < 0 || a.family != family)
		return -EINVAL;
	if (netmask && netmask < a.prefix) {
		a.prefix = netmask;
		from_u128(to_u128(&a) & ~span(bits, netmask), family, netmask, &a);
	}
	*v = xgrow(*v, *nv, sizeof(**v));
	(*v)[(*nv)++] = a;
	return 0;
}

static const struct {
	const char *name;
	unsigned num;
} protos[] = {{"tcp", 6},  {"udp", 17},	   {"sctp", 132},    {"udplite", 136},
	      {"icmp", 1}, {"icmpv6", 58}, {"ipv6-icmp", 58}};

static const struct {
	const char *name;
	unsigned port;
} services[] = {{"ssh", 22},	{"http", 80},	     {"https", 443},  {"domain", 53},
		{"smtp", 25},	{"ftp", 21},	     {"telnet", 23},  {"ntp", 123},
		{"imap", 143},	{"imaps", 993},	     {"pop3", 110},   {"pop3s", 995},
		{"smtps", 465}, {"submission", 587}, {"mysql", 3306}, {"postgresql", 5432},
		{"www", 80},	{"ftp-data", 20},    {"snmp", 161},   {"ms-wbt-server", 3389}};

static int parse_port(const char *s, unsigned *out)
{
	unsigned long v;
	if (parse_uint(s, 0, 65535, &v) == 0) {
		*out = (unsigned)v;
		return 0;
	}
	for (size_t i = 0; i < ARRAY_SIZE(services); i++)
		if (!strcmp(services[i].name, s)) {
			*out = services[i].port;
			return 0;
		}
	return -EINVAL;
}

/* "[PROTO:]PORT[-PORT]" of the port types; icmp's "type" becomes port 0. */
static int parse_proto_port(const char *s, struct ipset_entry *e)
{
	_cleanup_free_ char *t = xstrdup(s);
	char *port = t, *colon = strchr(t, ':');
	e->proto = 6;
	if (colon) {
		*colon = '\0';
		port = colon + 1;
		unsigned long num;
		bool found = false;
		for (size_t i = 0; i < ARRAY_SIZE(protos); i++)
			if (!strcasecmp(protos[i].name, t)) {
				e->proto = protos[i].num;
				found = true;
			}
		if (!found) {
			if (parse_uint(t, 0, 255, &num) < 0)
				return -EINVAL;
			e->proto = (unsigned)num;
		}
		if (e->proto == 1 || e->proto == 58) {
			e->port_lo = e->port_hi = 0;
			return 0;
		}
	}
	char *dash = strchr(port, '-');
	if (dash)
		*dash = '\0';
	if (parse_port(port, &e->port_lo) < 0)
		return -EINVAL;
	e->port_hi = e->port_lo;
	if (dash && (parse_port(dash + 1, &e->port_hi) < 0 || e->port_hi < e->port_lo))
		return -EINVAL;
	return 0;
}

static struct ipset_set *find_set(struct ipset_file *f, const char *name)
{
	for (size_t i = 0; i < f->n; i++)
		if (!strcmp(f->sets[i].name, name))
			return &f->sets[i];
	return NULL;
}

const struct ipset_set *ipset_find(const struct ipset_file *f, const char *name)
{
	return f ? find_set((struct ipset_file *)f, name) : NULL;
}

static void set_entries_free(struct ipset_set *s)
{
	for (size_t i = 0; i < s->n; i++)
		free(s->v[i].member);
	free(s->v);
	s->v = NULL;
	s->n = 0;
}

static void set_free(struct ipset_set *s)
{
	set_entries_free(s);
	free(s->name);
	free(s->type);
}

static bool same_element(const struct ipset_entry *a, const struct ipset_entry *b)
{
	if (a->member || b->member)
		return a->member && b->member && !strcmp(a->member, b->member);
	return a->net.prefix == b->net.prefix && !memcmp(a->net.addr, b->net.addr, 16) &&
	       a->proto == b->proto && a->port_lo == b->port_lo && a->port_hi == b->port_hi;
}

/* The elements an "add" or "del" line names (words after the set's name). */
static int parse_elements(const struct ipset_file *f, const struct ipset_set *s, char **w, size_t n,
			  struct ipset_entry **v, size_t *nv, char **err)
{
	*v = NULL;
	*nv = 0;
	if (!n) {
		str_setf(err, "no element for set %s", s->name);
		return -EINVAL;
	}
	bool nomatch = false;
	for (size_t i = 1; i < n; i++)
		if (!strcmp(w[i], "nomatch"))
			nomatch = true;
	if (nomatch && s->kind != IPSET_HASH_NET && s->kind != IPSET_HASH_NET_PORT &&
	    s->kind != IPSET_OTHER) {
		str_setf(err, "set %s of type %s has no nomatch elements", s->name, s->type);
		return -EINVAL;
	}
	if (s->kind == IPSET_OTHER) {
		*v = xcalloc(1, sizeof(**v));
		(*v)[0] = (struct ipset_entry){.member = xstrdup(w[0]), .nomatch = nomatch};
		*nv = 1;
		return 0;
	}
	if (s->kind == IPSET_LIST_SET) {
		if (!ipset_find(f, w[0])) {
			str_setf(err, "set %s names set %s, which does not exist", s->name, w[0]);
			return -EINVAL;
		}
		*v = xcalloc(1, sizeof(**v));
		(*v)[0] = (struct ipset_entry){.member = xstrdup(w[0])};
		*nv = 1;
		return 0;
	}
	const char *addr = w[0], *comma = strchr(addr, ',');
	bool port_type = s->kind == IPSET_HASH_IP_PORT || s->kind == IPSET_HASH_NET_PORT;
	if (port_type != (comma != NULL)) {
		str_setf(err, "\"%s\" is not an element of set %s (%s)", addr, s->name, s->type);
		return -EINVAL;
	}
	struct ipset_entry proto = {0};
	if (comma && parse_proto_port(comma + 1, &proto) < 0) {
		str_setf(err, "bad protocol or port in \"%s\"", addr);
		return -EINVAL;
	}
	size_t alen = comma ? (size_t)(comma - addr) : strlen(addr);
	bool net_type = s->kind == IPSET_HASH_NET || s->kind == IPSET_HASH_NET_PORT;
	struct cidr *nets = NULL;
	size_t nn = 0;
	int rc = parse_addr(addr, alen, s->family, net_type ? 0 : s->netmask, &nets, &nn);
	if (rc == 0 && net_type && !memchr(addr, '-', alen))
		for (size_t i = 0; i < nn; i++)
			if (nets[i].prefix == 0)
				rc = -EINVAL; /* "the CIDR parameter ... is invalid" */
	if (rc < 0) {
		free(nets);
		str_setf(err, "\"%s\" is not an element of set %s (%s)", addr, s->name, s->type);
		return rc;
	}
	*v = xcalloc(nn, sizeof(**v));
	for (size_t i = 0; i < nn; i++) {
		(*v)[i] = proto;
		(*v)[i].net = nets[i];
		(*v)[i].nomatch = nomatch;
	}
	*nv = nn;
	free(nets);
	return 0;
}

static int cmd_create(struct ipset_file *f, char **w, size_t n, unsigned line, size_t off,
		      size_t len, char **err)
{
	if (n < 2) {
		str_setf(err, "create needs a name and a type");
		return -EINVAL;
	}
	if (find_set(f, w[0])) /* -exist: the same set again is no change */
		return 0;
	struct ipset_set s = {.name = xstrdup(w[0]),
			      .type = xstrdup(w[1]),
			      .kind = IPSET_OTHER,
			      .dim = 1,
			      .family = AF_INET,
			      .line = line,
			      .off = off,
			      .len = len};
	for (size_t i = 0; i < ARRAY_SIZE(types); i++)
		if (!strcmp(types[i].name, w[1])) {
			s.kind = types[i].kind;
			s.dim = types[i].dim;
		}
	if (s.kind == IPSET_LIST_SET)
		s.family = AF_UNSPEC;
	for (size_t i = 2; i + 1 < n; i++) {
		if (!strcmp(w[i], "family")) {
			if (!strcmp(w[i + 1], "inet6") && s.kind != IPSET_BITMAP_IP &&
			    s.kind != IPSET_LIST_SET)
				s.family = AF_INET6;
			else if (strcmp(w[i + 1], "inet")) {
				str_setf(err, "family %s of set %s", w[i + 1], s.name);
				set_free(&s);
				return -EINVAL;
			}
		} else if (!strcmp(w[i], "netmask")) {
			unsigned long m;
			if (parse_uint(w[i + 1], 1, 128, &m) < 0) {
				str_setf(err, "bad netmask of set %s", s.name);
				set_free(&s);
				return -EINVAL;
			}
			s.netmask = (unsigned)m;
		}
	}
	if (s.netmask > fam_bits(s.family)) {
		str_setf(err, "bad netmask of set %s", s.name);
		set_free(&s);
		return -EINVAL;
	}
	f->sets = xgrow(f->sets, f->n, sizeof(*f->sets));
	f->sets[f->n++] = s;
	return 0;
}

/* add (del: remove) the elements; an element already there is replaced (-exist). */
static int cmd_add(struct ipset_file *f, struct ipset_set *s, bool del, char **w, size_t n,
		   unsigned line, size_t off, size_t len, size_t *total, char **err)
{
	struct ipset_entry *v;
	size_t nv;
	int rc = parse_elements(f, s, w, n, &v, &nv, err);
	if (rc < 0)
		return rc;
	if (*total + nv > IPSET_MAX_ENTRIES) {
		for (size_t i = 0; i < nv; i++)
			free(v[i].member);
		free(v);
		str_setf(err, "more than %u elements", IPSET_MAX_ENTRIES);
		return -E2BIG;
	}
	for (size_t i = 0; i < nv; i++) {
		/* elements are unique: the common case appends, a small set is searched */
		bool again = false;
		for (size_t k = 0; k < s->n && s->n < 4096; k++)
			if (same_element(&s->v[k], &v[i])) {
				free(s->v[k].member);
				s->v[k] = s->v[--s->n];
				(*total)--;
				again = true;
				break;
			}
		if (del) {
			free(v[i].member);
			continue;
		}
		v[i].line = line;
		v[i].off = off;
		v[i].len = len;
		v[i].again = again;
		s->v = xgrow(s->v, s->n, sizeof(*s->v));
		s->v[s->n++] = v[i];
		(*total)++;
	}
	free(v);
	return 0;
}

static int parse_line(struct ipset_file *f, struct strv *w, unsigned line, size_t off, size_t len,
		      size_t *total, char **err)
{
	/* -exist, -! and -quiet may stand anywhere */
	size_t k = 0;
	for (size_t i = 0; i < w->n; i++) {
		if (!strcmp(w->v[i], "-exist") || !strcmp(w->v[i], "-!") ||
		    !strcmp(w->v[i], "-quiet") || !strcmp(w->v[i], "-q")) {
			free(w->v[i]);
			continue;
		}
		w->v[k++] = w->v[i];
	}
	w->n = k;
	if (!w->n)
		return 0;
	static const struct {
		const char *l, *s, *d;
	} cmds[] = {{"create", "n", "-N"}, {"add", "a", "-A"},	   {"del", "d", "-D"},
		    {"flush", "f", "-F"},  {"destroy", "x", "-X"}, {"rename", "e", "-E"},
		    {"swap", "w", "-W"}};
	size_t c = ARRAY_SIZE(cmds);
	for (size_t i = 0; i < ARRAY_SIZE(cmds); i++)
		if (!strcmp(w->v[0], cmds[i].l) || !strcmp(w->v[0], cmds[i].s) ||
		    !strcmp(w->v[0], cmds[i].d))
			c = i;
	char **a = w->v + 1;
	size_t n = w->n - 1;
	if (c == ARRAY_SIZE(cmds)) {
		str_setf(err, "\"%s\" is not a command ipset restore knows", w->v[0]);
		return -EINVAL;
	}
	if (c == 0)
		return cmd_create(f, a, n, line, off, len, err);
	if (c >= 5) {
		str_setf(err, "%s of sets is outside the model", cmds[c].l);
		return -EINVAL;
	}
	if (c >= 3 && !n) { /* every set */
		for (size_t i = 0; i < f->n; i++) {
			*total -= f->sets[i].n;
			if (c == 3)
				set_entries_free(&f->sets[i]);
			else
				set_free(&f->sets[i]);
		}
		if (c == 4)
			f->n = 0;
		return 0;
	}
	struct ipset_set *s = n ? find_set(f, a[0]) : NULL;
	if (!s) {
		str_setf(err, "set %s does not exist", n ? a[0] : "(none)");
		return -EINVAL;
	}
	if (c == 3 || c == 4) {
		*total -= s->n;
		if (c == 3) {
			set_entries_free(s);
		} else {
			set_free(s);
			*s = f->sets[--f->n];
		}
		return 0;
	}
	s->end = off + len;
	return cmd_add(f, s, c == 2, a + 1, n - 1, line, off, len, total, err);
}

int ipset_parse(const char *buf, size_t len, struct ipset_file *out, unsigned *err_line, char **err)
{
	unsigned line = 0;
	size_t pos = 0, total = 0;
	int rc = 0;
	*out = (struct ipset_file){0};
	if (err_line)
		*err_line = 0;
	while (pos < len) {
		const char *p = buf + pos, *nl = memchr(p, '\n', len - pos);
		size_t n = nl ? (size_t)(nl - p) : len - pos, off = pos;
		pos += n + (nl != NULL);
		line++;
		if (n > IPSET_MAX_LINE || memchr(p, '\0', n)) {
			str_setf(err, n > IPSET_MAX_LINE ? "line too long" : "NUL byte in the line");
			rc = -EINVAL;
			break;
		}
		if (n == 0 || p[0] == '#')
			continue;
		struct strv w = {0};
		rc = fw_split_words(p, n, IPSET_MAX_WORDS, false, &w);
		if (rc < 0)
			str_setf(err, "unterminated quote or too many words");
		else
			rc = parse_line(out, &w, line, off, n, &total, err);
		if (rc == 0 && w.n &&
		    (!strcmp(w.v[0], "create") || !strcmp(w.v[0], "n") || !strcmp(w.v[0], "-N"))) {
			struct ipset_set *s = find_set(out, w.v[1]);
			if (s && s->line == line)
				s->end = off + n;
		}
		strv_free(&w);
		if (rc < 0)
			break;
	}
	if (rc < 0) {
		if (err_line)
			*err_line = line;
		ipset_free(out);
	}
	return rc;
}

void ipset_free(struct ipset_file *f)
{
	for (size_t i = 0; i < f->n; i++)
		set_free(&f->sets[i]);
	free(f->sets);
	*f = (struct ipset_file){0};
}

/* ---- what a set holds of the protected networks ---- */

/* An element as an address interval and its effect on the match. */
struct ent {
	u128 lo, hi;
	unsigned prefix;
	bool on;      /* the match succeeds at the addresses it decides */
	bool partial; /* its port dimension covers only some of the connection's ports */
};

static void ent_of(const struct cidr *c, bool on, bool partial, struct ent *e)
{
	unsigned bits = fam_bits(c->family);
	e->lo = to_u128(c);
	e->hi = e->lo | span(bits, c->prefix);
	e->prefix = c->prefix;
	e->on = on;
	e->partial = partial;
}

/* The class of the match over the network [lo, lo + span(prefix)] given the elements that
 * overlap it: the most specific element containing an address decides. */
static enum fw_class cover(const struct ent *e, size_t n, u128 lo, unsigned prefix, unsigned bits)
{
	u128 hi = lo | span(bits, prefix);
	const struct ent *base = NULL;
	size_t inner = 0;
	bool partial = false;
	for (size_t i = 0; i < n; i++) {
		if (e[i].hi < lo || e[i].lo > hi)
			continue;
		partial |= e[i].partial;
		if (e[i].prefix <= prefix) {
			if (!base || e[i].prefix >= base->prefix)
				base = &e[i];
		} else {
			inner++;
		}
	}
	if (partial)
		return base || inner ? FW_SOME : FW_NONE;
	if (!inner)
		return base && base->on ? FW_ALL : FW_NONE;
	/* the elements inside: split in two halves, each with the elements that reach it */
	struct ent *sub = xcalloc(n, sizeof(*sub));
	size_t k = 0;
	for (size_t i = 0; i < n; i++)
		if (!(e[i].hi < lo || e[i].lo > hi))
			sub[k++] = e[i];
	enum fw_class a = cover(sub, k, lo, prefix + 1, bits);
	enum fw_class b = a == FW_SOME ? FW_SOME
				       : cover(sub, k, lo | ((u128)1 << (bits - prefix - 1)),
					       prefix + 1, bits);
	free(sub);
	return a == b ? a : FW_SOME;
}

/* The class of the port dimension of an element: TCP to sshd's ports (local) or from the
 * client's ephemeral ports. */
static enum fw_class port_cover(const struct ipset_entry *x, const struct fw_scope *s, bool local)
{
	if (x->proto != 6)
		return FW_NONE;
	if (!local) {
		if (x->port_lo <= 1024 && x->port_hi >= 65535)
			return FW_ALL;
		return x->port_hi < 1024 ? FW_NONE : FW_SOME;
	}
	size_t in = 0;
	for (size_t i = 0; i < s->n_ports; i++)
		in += s->ports[i] >= x->port_lo && s->ports[i] <= x->port_hi;
	return in == s->n_ports ? FW_ALL : in ? FW_SOME : FW_NONE;
}

static bool flag_is(const char *flags, size_t idx, const char *what)
{
	const char *p = flags;
	for (size_t i = 0; i < idx; i++) {
		p = strchr(p, ',');
		if (!p)
			return false;
		p++;
	}
	size_t n = strcspn(p, ",");
	return n == strlen(what) && !strncmp(p, what, n);
}

static size_t flag_count(const char *flags)
{
	size_t n = 1;
	for (const char *p = flags; *p; p++)
		n += *p == ',';
	return n;
}

/* The elements of a set as intervals, for the scope (NULL when the set matches no
 * connection of it at all). */
static struct ent *set_ents(const struct ipset_set *set, const struct ipset_match *m,
			    const struct fw_scope *s, size_t *n)
{
	bool port_local = flag_is(m->flags, 1, "dst") != m->out;
	struct ent *e = xcalloc(set->n + 1, sizeof(*e));
	*n = 0;
	for (size_t i = 0; i < set->n; i++) {
		const struct ipset_entry *x = &set->v[i];
		enum fw_class pc = FW_ALL;
		if (set->kind == IPSET_HASH_IP_PORT || set->kind == IPSET_HASH_NET_PORT)
			pc = port_cover(x, s, port_local);
		if (pc == FW_NONE)
			continue;
		bool on = m->return_nomatch ? x->nomatch : !x->nomatch;
		ent_of(&x->net, on, pc == FW_SOME, &e[(*n)++]);
	}
	return e;
}

static int class_of(const struct ipset_file *f, const struct ipset_set *set,
		    const struct ipset_match *m, const struct fw_scope *s, unsigned depth,
		    enum fw_class *out)
{
	if (set->kind == IPSET_OTHER)
		return -EOPNOTSUPP;
	if (set->kind == IPSET_LIST_SET) {
		/* the members in turn: the first that matches decides */
		bool all = false, some = false;
		for (size_t i = 0; i < set->n && depth < 2; i++) {
			const struct ipset_set *mem = ipset_find(f, set->v[i].member);
			enum fw_class c = FW_NONE;
			if (!mem)
				continue;
			if (mem->family == s->family || mem->kind == IPSET_LIST_SET ||
			    mem->kind == IPSET_OTHER) {
				int rc = class_of(f, mem, m, s, depth + 1, &c);
				if (rc < 0)
					return rc;
			}
			all |= c == FW_ALL;
			some |= c != FW_NONE;
		}
		*out = all ? FW_ALL : some ? FW_SOME : FW_NONE;
		return 0;
	}
	if (set->family != s->family) {
		*out = FW_NONE; /* a member of a list of the other family never matches */
		return 0;
	}
	if (flag_count(m->flags) < set->dim) {
		*out = FW_NONE;
		return 0;
	}
	size_t n;
	struct ent *e = set_ents(set, m, s, &n);
	bool peer = flag_is(m->flags, 0, "src") != m->out;
	unsigned bits = fam_bits(s->family);
	if (!peer) { /* sshd's own address, not known here */
		bool any = false;
		for (size_t i = 0; i < n; i++)
			any |= e[i].on;
		*out = any ? FW_SOME : FW_NONE;
	} else if (!s->n_peers) {
		*out = cover(e, n, 0, 0, bits);
	} else {
		size_t all = 0, none = 0;
		for (size_t i = 0; i < s->n_peers; i++) {
			enum fw_class c =
				cover(e, n, to_u128(&s->peers[i]), s->peers[i].prefix, bits);
			all += c == FW_ALL;
			none += c == FW_NONE;
		}
		*out = all == s->n_peers ? FW_ALL : none == s->n_peers ? FW_NONE : FW_SOME;
	}
	free(e);
	return 0;
}

int ipset_match_class(const struct ipset_file *f, const struct ipset_match *m,
		      const struct fw_scope *s, enum fw_class *out)
{
	const struct ipset_set *set = ipset_find(f, m->name);
	*out = FW_SOME;
	if (!set)
		return -ENOENT;
	if (set->kind != IPSET_LIST_SET && set->kind != IPSET_OTHER && set->family != s->family)
		return -EPROTONOSUPPORT;
	return class_of(f, set, m, s, 0, out);
}

/* ---- taking the protected networks out of a set ---- */

static bool within_peers(const struct fw_scope *s, const struct cidr *c)
{
	for (size_t i = 0; i < s->n_peers; i++)
		if (cidr_contains(&s->peers[i], c))
			return true;
	return false;
}

/* Is every element of the line (off) inside the protected networks and not nomatch? */
static bool line_removable(const struct ipset_set *set, size_t off, const struct fw_scope *s)
{
	for (size_t i = 0; i < set->n; i++)
		if (set->v[i].off == off &&
		    (set->v[i].nomatch || set->v[i].again || !within_peers(s, &set->v[i].net)))
			return false;
	return true;
}

/* The plan: lines to remove (their offsets, in v[i].off order) and networks to add as nomatch.
 * false when the set cannot be cleared that way. */
static bool plan(const struct ipset_set *set, const struct fw_scope *s, size_t **rm, size_t *n_rm,
		 struct cidr **add, size_t *n_add)
{
	*rm = NULL;
	*add = NULL;
	*n_rm = *n_add = 0;
	if (!s->n_peers ||
	    (set->kind != IPSET_HASH_IP && set->kind != IPSET_HASH_NET &&
	     set->kind != IPSET_BITMAP_IP) ||
	    set->family != s->family)
		return false;
	struct ent *e = xcalloc(set->n + s->n_peers + 1, sizeof(*e));
	size_t n = 0;
	for (size_t i = 0; i < set->n; i++) {
		const struct ipset_entry *x = &set->v[i];
		if (!x->nomatch && line_removable(set, x->off, s)) {
			bool seen = false;
			for (size_t k = 0; k < *n_rm && !seen; k++)
				seen = (*rm)[k] == x->off;
			if (!seen) {
				*rm = xgrow(*rm, *n_rm, sizeof(**rm));
				(*rm)[(*n_rm)++] = x->off;
			}
			continue;
		}
		ent_of(&x->net, !x->nomatch, false, &e[n++]);
	}
	unsigned bits = fam_bits(s->family);
	bool ok = true;
	for (size_t i = 0; i < s->n_peers && ok; i++) {
		const struct cidr *p = &s->peers[i];
		if (cover(e, n, to_u128(p), p->prefix, bits) == FW_NONE)
			continue;
		/* a kept element equal to it: without -exist, ipset restore refuses the add */
		bool same = false;
		for (size_t k = 0; k < n && !same; k++)
			same = e[k].prefix == p->prefix && e[k].lo == to_u128(p);
		if (set->kind != IPSET_HASH_NET || p->prefix == 0 || same) {
			ok = false;
			break;
		}
		ent_of(p, false, false, &e[n++]);
		*add = xgrow(*add, *n_add, sizeof(**add));
		(*add)[(*n_add)++] = *p;
		ok = cover(e, n, to_u128(p), p->prefix, bits) == FW_NONE;
	}
	free(e);
	if (!ok) {
		free(*rm);
		free(*add);
		*rm = NULL;
		*add = NULL;
		*n_rm = *n_add = 0;
	}
	return ok;
}

bool ipset_can_clear(const struct ipset_file *f, const char *name, const struct fw_scope *s)
{
	const struct ipset_set *set = ipset_find(f, name);
	size_t *rm, n_rm, n_add;
	struct cidr *add;
	if (!set || !plan(set, s, &rm, &n_rm, &add, &n_add))
		return false;
	free(rm);
	free(add);
	return true;
}

static int off_cmp(const void *a, const void *b)
{
	size_t x = *(const size_t *)a, y = *(const size_t *)b;
	return x < y ? -1 : x > y;
}

void ipset_clear_edits(const char *buf, size_t len, const struct ipset_file *f, const char *name,
		       const struct fw_scope *s, const char *marker, const struct fw_edit_sink *out,
		       char **desc)
{
	const struct ipset_set *set = ipset_find(f, name);
	size_t *rm, n_rm, n_add;
	struct cidr *add;
	*desc = NULL;
	if (!set || !plan(set, s, &rm, &n_rm, &add, &n_add))
		return;
	if (n_rm)
		qsort(rm, n_rm, sizeof(*rm), off_cmp);
	struct buf d = {0};
	buf_puts(&d, "");
	for (size_t i = 0; i < n_rm; i++) {
		out->add(out->arg, rm[i], 0, marker, strlen(marker));
		unsigned l = 0;
		for (size_t k = 0; k < set->n; k++)
			if (set->v[k].off == rm[i])
				l = set->v[k].line;
		buf_printf(&d, "%sremoved the element of line %u", i ? ", " : "", l);
	}
	if (n_add) {
		struct buf b = {0};
		size_t at = set->end;
		/* after the set's last line */
		while (at < len && buf[at] != '\n')
			at++;
		if (at < len)
			at++;
		else if (len && buf[len - 1] != '\n')
			buf_puts(&b, "\n");
		buf_printf(&b,
			   "%sadded the next element%s: the protected network%s stay%s out of set "
			   "%s\n",
			   marker, n_add > 1 ? "s" : "", n_add > 1 ? "s" : "", n_add > 1 ? "" : "s",
			   name);
		for (size_t i = 0; i < n_add; i++) {
			char t[CIDR_STRLEN];
			cidr_format(&add[i], t);
			if (!strchr(t, '/'))
				snprintf(t + strlen(t), sizeof(t) - strlen(t), "/%u",
					 add[i].prefix);
			buf_printf(&b, "add %s %s nomatch\n", name, t);
			buf_printf(&d, "%sadded \"add %s %s nomatch\"", d.len ? ", " : "", name, t);
		}
		out->add(out->arg, at, 0, b.data, b.len);
		buf_free(&b);
	}
	*desc = xstrdup(d.data);
	buf_free(&d);
	free(rm);
	free(add);
}
