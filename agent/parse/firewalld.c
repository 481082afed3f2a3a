/* firewalld.c: a bounded reader for firewalld's zone XML and the zone's verdict on protected SSH
 * traffic. The order follows firewalld (firewalld: src/firewall/core/nftables.py,
 * _rich_rule_chain_suffix): rich rules with priority < 0 first, by priority; then priority-0
 * reject/drop rules ("deny"); then services, ports and priority-0 accept rules ("allow"); then
 * priority > 0 rules; then the zone's target. */
#include "parse/firewalld.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>

#define XML_MAX_DEPTH 32u
#define XML_MAX_ELEMS 100000u
#define XML_MAX_ATTRS 64u

/* ---- the XML reader ---- */

static bool name_char(char c)
{
	return isalnum((unsigned char)c) || c == '_' || c == '-' || c == '.' || c == ':';
}

static char *decode(const char *p, size_t n)
{
	struct buf b = {0};
	buf_puts(&b, "");
	static const struct {
		const char *e;
		char c;
	} ents[] = {
		{"&amp;", '&'}, {"&lt;", '<'}, {"&gt;", '>'}, {"&quot;", '"'}, {"&apos;", '\''}};
	for (size_t i = 0; i < n;) {
		bool done = false;
		if (p[i] == '&') {
			for (size_t k = 0; k < ARRAY_SIZE(ents) && !done; k++) {
				size_t l = strlen(ents[k].e);
				if (n - i >= l && !memcmp(p + i, ents[k].e, l)) {
					buf_append(&b, &ents[k].c, 1);
					i += l;
					done = true;
				}
			}
		}
		if (!done)
			buf_append(&b, p + i++, 1);
	}
	return b.data;
}

static int xml_fail(char **err, unsigned *err_line, unsigned line, const char *msg)
{
	*err = xstrdup(msg);
	*err_line = line;
	return -EINVAL;
}

int firewalld_xml_parse(const char *buf, size_t len, struct xml_doc *out, unsigned *err_line,
			char **err)
{
	size_t stack[XML_MAX_DEPTH];
	size_t depth = 0, i = 0;
	unsigned line = 1;
	int rc = 0;
	bool root_done = false;
	*out = (struct xml_doc){0};
	*err = NULL;
	*err_line = 0;
	while (i < len && rc == 0) {
		if (buf[i] != '<') {
			if (buf[i] == '\n')
				line++;
			else if (buf[i] == '\0')
				rc = xml_fail(err, err_line, line, "NUL byte");
			else if (!depth && !isspace((unsigned char)buf[i]))
				rc = xml_fail(err, err_line, line, "text outside the root element");
			i++;
			continue;
		}
		const char *close = NULL;
		if (len - i >= 4 && !memcmp(buf + i, "<!--", 4)) {
			close = memmem(buf + i + 4, len - i - 4, "-->", 3);
			if (!close) {
				rc = xml_fail(err, err_line, line, "unterminated comment");
				break;
			}
			for (const char *p = buf + i; p < close; p++)
				line += *p == '\n';
			i = (size_t)(close - buf) + 3;
			continue;
		}
		if (len - i >= 2 && buf[i + 1] == '?') {
			close = memmem(buf + i + 2, len - i - 2, "?>", 2);
			if (!close) {
				rc = xml_fail(err, err_line, line, "unterminated declaration");
				break;
			}
			for (const char *p = buf + i; p < close; p++)
				line += *p == '\n';
			i = (size_t)(close - buf) + 2;
			continue;
		}
		if (len - i >= 2 && buf[i + 1] == '!') {
			rc = xml_fail(err, err_line, line, "DTD and CDATA are not supported");
			break;
		}
		if (len - i >= 2 && buf[i + 1] == '/') {
			size_t j = i + 2, s = j;
			while (j < len && name_char(buf[j]))
				j++;
			while (j < len && isspace((unsigned char)buf[j]))
				line += buf[j++] == '\n';
			if (!depth || j >= len || buf[j] != '>' ||
			    strlen(out->v[stack[depth - 1]].name) != j - s ||
			    memcmp(out->v[stack[depth - 1]].name, buf + s, j - s)) {
				rc = xml_fail(err, err_line, line, "end tag does not match");
				break;
			}
			out->v[stack[--depth]].end = j + 1;
			i = j + 1;
			if (!depth)
				root_done = true;
			continue;
		}
		/* a start tag */
		if (root_done && !depth) {
			rc = xml_fail(err, err_line, line, "a second root element");
			break;
		}
		if (depth >= XML_MAX_DEPTH || out->n >= XML_MAX_ELEMS) {
			rc = -E2BIG;
			*err = xstrdup("elements nest too deep or are too many");
			*err_line = line;
			break;
		}
		size_t j = i + 1, s = j;
		while (j < len && name_char(buf[j]))
			j++;
		if (j == s) {
			rc = xml_fail(err, err_line, line, "\"<\" without an element name");
			break;
		}
		out->v = xgrow(out->v, out->n, sizeof(*out->v));
		struct xml_elem *e = &out->v[out->n];
		*e = (struct xml_elem){.name = xstrndup(buf + s, j - s),
				       .parent = depth ? stack[depth - 1] : SIZE_MAX,
				       .depth = (unsigned)depth,
				       .line = line,
				       .start = i};
		out->n++;
		bool self = false, ok = false;
		while (j < len) {
			while (j < len && isspace((unsigned char)buf[j]))
				line += buf[j++] == '\n';
			if (j < len && buf[j] == '>') {
				ok = true;
				j++;
				break;
			}
			if (j + 1 < len && buf[j] == '/' && buf[j + 1] == '>') {
				ok = self = true;
				j += 2;
				break;
			}
			size_t an = j;
			while (j < len && name_char(buf[j]))
				j++;
			if (j == an || e->n_attrs >= XML_MAX_ATTRS)
				break;
			size_t ae = j;
			while (j < len && isspace((unsigned char)buf[j]))
				line += buf[j++] == '\n';
			if (j >= len || buf[j] != '=')
				break;
			j++;
			while (j < len && isspace((unsigned char)buf[j]))
				line += buf[j++] == '\n';
			if (j >= len || (buf[j] != '"' && buf[j] != '\''))
				break;
			char q = buf[j++];
			size_t vs = j;
			while (j < len && buf[j] != q && buf[j] != '<')
				line += buf[j++] == '\n';
			if (j >= len || buf[j] != q)
				break;
			e->attrs = xgrow(e->attrs, e->n_attrs, sizeof(*e->attrs));
			e->attrs[e->n_attrs++] = (struct xml_attr){xstrndup(buf + an, ae - an),
								   decode(buf + vs, j - vs)};
			j++;
		}
		if (!ok) {
			rc = xml_fail(err, err_line, line, "malformed start tag");
			break;
		}
		if (self) {
			out->v[out->n - 1].end = j;
			if (!depth)
				root_done = true;
		} else {
			stack[depth++] = out->n - 1;
		}
		i = j;
	}
	if (rc == 0 && (depth || !out->n))
		rc = xml_fail(err, err_line, line, depth ? "element not closed" : "no element");
	if (rc < 0)
		firewalld_xml_free(out);
	return rc;
}

void firewalld_xml_free(struct xml_doc *d)
{
	for (size_t i = 0; i < d->n; i++) {
		for (size_t k = 0; k < d->v[i].n_attrs; k++) {
			free(d->v[i].attrs[k].name);
			free(d->v[i].attrs[k].value);
		}
		free(d->v[i].attrs);
		free(d->v[i].name);
	}
	free(d->v);
	*d = (struct xml_doc){0};
}

const char *firewalld_xml_attr(const struct xml_elem *e, const char *name)
{
	for (size_t k = 0; k < e->n_attrs; k++)
		if (!strcmp(e->attrs[k].name, name))
			return e->attrs[k].value;
	return NULL;
}

char *firewalld_default_zone(const char *buf, size_t len)
{
	char *val = NULL;
	for (size_t pos = 0; pos < len;) {
		size_t end = iptables_save_next_line(buf, len, pos);
		const char *p = buf + pos, *e = buf + end;
		while (e > p && isspace((unsigned char)e[-1]))
			e--;
		while (p < e && isspace((unsigned char)*p))
			p++;
		if ((size_t)(e - p) > 12 && !memcmp(p, "DefaultZone=", 12)) {
			free(val);
			val = xstrndup(p + 12, (size_t)(e - p - 12));
		}
		pos = end;
	}
	if (!val || !*val || strchr(val, '/')) {
		free(val);
		val = xstrdup("public");
	}
	return val;
}

void fwd_fixes_free(struct fwd_fixes *f)
{
	for (size_t i = 0; i < f->n; i++)
		free(f->v[i].why);
	free(f->v);
	free(f->note);
	*f = (struct fwd_fixes){0};
}

/* ---- the zone's verdict ---- */

static bool is_child(const struct xml_doc *d, size_t i, size_t parent, const char *name)
{
	return d->v[i].parent == parent && !strcmp(d->v[i].name, name);
}

static bool addr_family_ok(const char *fam, int family)
{
	return !fam || !strcmp(fam, family == AF_INET ? "ipv4" : "ipv6");
}

static bool truthy(const char *v)
{
	return v && (!strcasecmp(v, "true") || !strcasecmp(v, "yes") || !strcmp(v, "1"));
}

/* Class of the traffic's local port against "22" or "1000-2000" with protocol. */
static enum fw_class port_elem_class(const struct fw_scope *s, const char *port, const char *proto,
				     bool *within)
{
	unsigned long lo, hi;
	*within = false;
	if (!port || !proto || strcmp(proto, "tcp"))
		return FW_NONE;
	char tmp[32];
	snprintf(tmp, sizeof(tmp), "%s", port);
	char *dash = strchr(tmp, '-');
	if (dash)
		*dash = '\0';
	if (parse_uint(tmp, 0, 65535, &lo) < 0 || (dash && parse_uint(dash + 1, 0, 65535, &hi) < 0))
		return FW_SOME;
	if (!dash)
		hi = lo;
	unsigned r[1][2] = {{(unsigned)lo, (unsigned)hi}};
	enum fw_class c = fw_class_ports(s, (const unsigned(*)[2])r, 1, false);
	for (size_t p = 0; p < s->n_ports; p++)
		if (lo == hi && lo == s->ports[p])
			*within = true;
	return c;
}

/* A zone entry in evaluation order. */
struct zrule {
	int bucket; /* 0 pre, 1 deny, 2 allow, 3 post */
	int prio;
	size_t elem; /* SIZE_MAX: a service/port element, or an added accept */
	enum fw_class cls;
	bool accept;
	bool within; /* source inside the peers and element only sshd's ports: may be commented */
	size_t fix;  /* index of the fix that added it; SIZE_MAX otherwise */
};

static int zrule_cmp(const void *a, const void *b)
{
	const struct zrule *x = a, *y = b;
	if (x->bucket != y->bucket)
		return x->bucket - y->bucket;
	if (x->prio != y->prio)
		return x->prio < y->prio ? -1 : 1;
	return x->elem < y->elem ? -1 : x->elem > y->elem;
}

static void rich_rule_eval(const struct xml_doc *d, size_t r, const struct fw_scope *s,
			   struct zrule *z, bool *has_action)
{
	const struct xml_elem *e = &d->v[r];
	const char *fam = firewalld_xml_attr(e, "family");
	const char *prio = firewalld_xml_attr(e, "priority");
	long p = prio ? strtol(prio, NULL, 10) : 0;
	enum fw_class c = addr_family_ok(fam, s->family) ? FW_ALL : FW_NONE;
	bool src_within = !s->n_peers, port_within = false, element = false, act = false;
	for (size_t i = r + 1; i < d->n && d->v[i].start < e->end; i++) {
		if (d->v[i].parent != r)
			continue;
		const struct xml_elem *ch = &d->v[i];
		const char *n = ch->name;
		if (!strcmp(n, "source")) {
			const char *a = firewalld_xml_attr(ch, "address");
			struct cidr net;
			if (a && cidr_parse(a, &net) == 0) {
				if (net.family != s->family) {
					c = FW_NONE;
				} else {
					bool inv = truthy(firewalld_xml_attr(ch, "invert"));
					c = c < fw_class_nets(s, &net, 1, inv)
						    ? c
						    : fw_class_nets(s, &net, 1, inv);
					if (!inv && fw_nets_within_peers(s, &net, 1))
						src_within = true;
				}
			} else {
				c = c < FW_SOME ? c : FW_SOME;
			}
		} else if (!strcmp(n, "destination")) {
			c = c < FW_SOME ? c : FW_SOME;
		} else if (!strcmp(n, "service")) {
			element = true;
			const char *sv = firewalld_xml_attr(ch, "name");
			bool w;
			enum fw_class pc = sv && !strcmp(sv, "ssh")
						   ? port_elem_class(s, "22", "tcp", &w)
						   : FW_NONE;
			if (sv && !strcmp(sv, "ssh"))
				port_within = w;
			c = c < pc ? c : pc;
		} else if (!strcmp(n, "port")) {
			element = true;
			bool w;
			enum fw_class pc = port_elem_class(s, firewalld_xml_attr(ch, "port"),
							   firewalld_xml_attr(ch, "protocol"), &w);
			port_within = w;
			c = c < pc ? c : pc;
		} else if (!strcmp(n, "protocol")) {
			element = true;
			const char *v = firewalld_xml_attr(ch, "value");
			if (!v || strcmp(v, "tcp"))
				c = FW_NONE;
		} else if (!strcmp(n, "icmp-block") || !strcmp(n, "icmp-type") ||
			   !strcmp(n, "masquerade") || !strcmp(n, "forward-port") ||
			   !strcmp(n, "tcp-mss-clamp")) {
			element = true;
			c = FW_NONE;
		} else if (!strcmp(n, "source-port")) {
			element = true;
			c = c < FW_SOME ? c : FW_SOME;
		} else if (!strcmp(n, "accept") || !strcmp(n, "reject") || !strcmp(n, "drop")) {
			act = true;
			z->accept = !strcmp(n, "accept");
			/* a limit on the action makes it partial */
			for (size_t k = i + 1; k < d->n && d->v[k].start < ch->end; k++)
				if (d->v[k].parent == i && !strcmp(d->v[k].name, "limit") &&
				    z->accept)
					c = c < FW_SOME ? c : FW_SOME;
		}
	}
	(void)element;
	*has_action = act;
	z->cls = c;
	z->prio = (int)(p < -32768 ? -32768 : p > 32767 ? 32767 : p);
	z->bucket = p < 0 ? 0 : p > 0 ? 3 : z->accept ? 2 : 1;
	z->within = src_within && port_within;
}

static void zadd_fix(struct fwd_fixes *fx, enum fwd_fix_kind kind, size_t elem, int prio,
		     int family, char *why, unsigned port)
{
	if (fx->n == fx->cap) {
		fx->cap = fx->cap ? 2 * fx->cap : 4;
		fx->v = xrealloc(fx->v, fx->cap * sizeof(*fx->v));
	}
	fx->v[fx->n++] = (struct fwd_fix){kind, elem, prio, family, port, {0}, why};
}

/* One sshd port and one protected network at a time: a firewalld accept names one of each. */
static int analyze_port(const char *buf, const struct xml_doc *d, const struct fw_scope *s,
			struct fwd_fixes *out);

int firewalld_zone_analyze(const char *buf, size_t len, const struct xml_doc *d,
			   const struct fw_scope *s, struct fwd_fixes *out)
{
	(void)len;
	size_t n_peers = s->n_peers ? s->n_peers : 1;
	for (size_t q = 0; q < n_peers && !out->unsupported; q++)
		for (size_t p = 0; p < s->n_ports && !out->unsupported; p++) {
			struct fw_scope one = *s;
			one.ports = &s->ports[p];
			one.n_ports = 1;
			if (s->n_peers) {
				one.peers = &s->peers[q];
				one.n_peers = 1;
			}
			analyze_port(buf, d, &one, out);
		}
	return 0;
}

static int analyze_port(const char *buf, const struct xml_doc *d, const struct fw_scope *s,
			struct fwd_fixes *out)
{
	if (!d->n || strcmp(d->v[0].name, "zone")) {
		out->unsupported = true;
		out->note = xstrdup("the root element is not <zone>");
		return 0;
	}
	const char *target = firewalld_xml_attr(&d->v[0], "target");
	struct zrule *z = xcalloc(d->n + 64, sizeof(*z));
	size_t n = 0;
	for (size_t i = 1; i < d->n; i++) {
		bool w = false;
		if (is_child(d, i, 0, "service")) {
			const char *sv = firewalld_xml_attr(&d->v[i], "name");
			enum fw_class c = sv && !strcmp(sv, "ssh")
						  ? port_elem_class(s, "22", "tcp", &w)
						  : FW_NONE;
			z[n++] = (struct zrule){2, 0, i, c, true, false, SIZE_MAX};
		} else if (is_child(d, i, 0, "port")) {
			enum fw_class c =
				port_elem_class(s, firewalld_xml_attr(&d->v[i], "port"),
						firewalld_xml_attr(&d->v[i], "protocol"), &w);
			z[n++] = (struct zrule){2, 0, i, c, true, false, SIZE_MAX};
		} else if (is_child(d, i, 0, "rule")) {
			struct zrule r = {.elem = i, .fix = SIZE_MAX};
			bool act;
			rich_rule_eval(d, i, s, &r, &act);
			if (act)
				z[n++] = r;
		}
	}
	size_t base = n;
	for (size_t iter = 0; iter < base + 4; iter++) {
		/* every fix so far, in place: commented rules drop out, added accepts join */
		size_t m = 0;
		struct zrule *o = xcalloc(n + 1, sizeof(*o));
		for (size_t k = 0; k < n; k++) {
			bool gone = false;
			for (size_t f = 0; f < out->n; f++)
				gone |= out->v[f].kind == FWD_COMMENT &&
					out->v[f].elem == z[k].elem && z[k].fix == SIZE_MAX;
			if (!gone)
				o[m++] = z[k];
		}
		qsort(o, m, sizeof(*o), zrule_cmp);
		bool fixed = false, ok = false;
		for (size_t k = 0; k < m && !ok && !fixed; k++) {
			if (o[k].cls == FW_NONE)
				continue;
			if (o[k].accept) {
				ok = o[k].cls == FW_ALL;
				continue;
			}
			const struct xml_elem *e = &d->v[o[k].elem];
			bool dashes = memmem(buf + e->start, e->end - e->start, "--", 2) != NULL;
			char *why =
				xasprintf("line %u: a rich rule %s %s new connections to sshd from "
					  "protected sources",
					  e->line, o[k].accept ? "accepts" : "rejects or drops",
					  o[k].cls == FW_ALL ? "all" : "some");
			if (o[k].within && !dashes) {
				zadd_fix(out, FWD_COMMENT, o[k].elem, 0, s->family, why,
					 s->ports[0]);
			} else {
				int prio = o[k].bucket == 3   ? 0
					   : o[k].bucket == 1 ? -1
							      : o[k].prio - 1;
				if (prio < -32768) {
					out->unsupported = true;
					out->note = why;
					free(o);
					free(z);
					return 0;
				}
				zadd_fix(out, FWD_ADD, SIZE_MAX, prio, s->n_peers ? s->family : 0,
					 why, s->ports[0]);
				if (s->n_peers)
					out->v[out->n - 1].peer = s->peers[0];
				z[n++] = (struct zrule){prio < 0 ? 0 : 2, prio, SIZE_MAX,
							FW_ALL,		  true, false,
							out->n - 1};
			}
			fixed = true;
		}
		free(o);
		if (fixed)
			continue;
		if (!ok && !(target && !strcmp(target, "ACCEPT"))) {
			zadd_fix(
				out, FWD_ADD, SIZE_MAX, 0, s->n_peers ? s->family : 0,
				xasprintf("zone target %s and no service, port or rule accepts new "
					  "connections to sshd from protected sources",
					  target ? target : "default"),
				s->ports[0]);
			if (s->n_peers)
				out->v[out->n - 1].peer = s->peers[0];
			z[n++] = (struct zrule){2, 0, SIZE_MAX, FW_ALL, true, false, out->n - 1};
			continue;
		}
		break;
	}
	free(z);
	return 0;
}

bool firewalld_zone_binds_peers(const struct xml_doc *d, const struct fw_scope *s)
{
	for (size_t i = 1; i < d->n; i++) {
		if (!is_child(d, i, 0, "source"))
			continue;
		const char *a = firewalld_xml_attr(&d->v[i], "address");
		struct cidr net;
		if (a && cidr_parse(a, &net) == 0 && net.family == s->family &&
		    fw_class_nets(s, &net, 1, false) != FW_NONE)
			return true;
	}
	return false;
}

bool firewalld_zone_has_interfaces(const struct xml_doc *d)
{
	for (size_t i = 1; i < d->n; i++)
		if (is_child(d, i, 0, "interface"))
			return true;
	return false;
}

/* ---- writing ---- */

char *firewalld_accept_xml(const struct fw_scope *s, const struct fwd_fix *x)
{
	struct buf b = {0};
	char port[48];
	(void)s;
	if (x->port == 22)
		snprintf(port, sizeof(port), "<service name=\"ssh\"/>");
	else
		snprintf(port, sizeof(port), "<port protocol=\"tcp\" port=\"%u\"/>", x->port);
	if (!x->family && !x->priority) {
		buf_puts(&b, port);
		return b.data;
	}
	buf_puts(&b, "<rule");
	if (x->family)
		buf_printf(&b, " family=\"%s\"", x->family == AF_INET ? "ipv4" : "ipv6");
	if (x->priority)
		buf_printf(&b, " priority=\"%d\"", x->priority);
	buf_puts(&b, ">");
	if (x->family) {
		char a[CIDR_STRLEN];
		cidr_format(&x->peer, a);
		buf_printf(&b, "<source address=\"%s\"/>", a);
	}
	buf_printf(&b, "%s<accept/></rule>", port);
	return b.data;
}

struct fplaced {
	size_t off, len;
	char *text;
};

static int fplaced_cmp(const void *a, const void *b)
{
	const struct fplaced *x = a, *y = b;
	return x->off < y->off ? -1 : x->off > y->off;
}

/* Text that may stand inside an XML comment: no "--", no trailing "-", printable. */
static void comment_text(struct buf *b, const char *s)
{
	for (; *s; s++) {
		char c = isprint((unsigned char)*s) ? *s : '?';
		if (c == '-' && (s[1] == '-' || !s[1]))
			c = '_';
		buf_append(b, &c, 1);
	}
}

void firewalld_edits(const char *buf, size_t len, const struct xml_doc *d,
		     const struct fwd_fixes *fx, const struct fw_scope *scopes, size_t n_scopes,
		     const char *xml_marker, const struct fw_edit_sink *out)
{
	struct fplaced *pl = xcalloc(fx->n + 2, sizeof(*pl));
	size_t n = 0;
	/* the end tag of <zone> (or its "/>"), and the indentation of its first child */
	const struct xml_elem *root = &d->v[0];
	bool self_closed = root->end >= 2 && buf[root->end - 2] == '/';
	size_t etag = root->end;
	if (self_closed) {
		etag = root->end - 2;
	} else {
		while (etag > root->start && buf[etag - 1] != '<')
			etag--;
		etag = etag > root->start ? etag - 1 : root->end;
	}
	size_t ls = etag;
	while (ls > 0 && (buf[ls - 1] == ' ' || buf[ls - 1] == '\t'))
		ls--;
	bool own_line = !self_closed && (ls == 0 || buf[ls - 1] == '\n');
	const char *ind = "  ";
	size_t il = 2;
	if (d->n > 1) {
		size_t cs = d->v[1].start, c0 = cs;
		while (c0 > 0 && (buf[c0 - 1] == ' ' || buf[c0 - 1] == '\t'))
			c0--;
		if (c0 == 0 || buf[c0 - 1] == '\n') {
			ind = buf + c0;
			il = cs - c0;
		}
	}
	struct buf add = {0};
	buf_puts(&add, "");
	for (size_t i = 0; i < fx->n; i++) {
		const struct fwd_fix *x = &fx->v[i];
		if (x->kind == FWD_COMMENT) {
			bool seen = false;
			for (size_t k = 0; k < i; k++)
				seen |= fx->v[k].kind == FWD_COMMENT && fx->v[k].elem == x->elem;
			if (seen)
				continue;
			const struct xml_elem *e = &d->v[x->elem];
			struct buf b = {0};
			buf_printf(&b, "<!-- %s%.*s -->", xml_marker, (int)(e->end - e->start),
				   buf + e->start);
			pl[n++] = (struct fplaced){e->start, e->end - e->start, b.data};
			continue;
		}
		const struct fw_scope *s = NULL;
		for (size_t k = 0; k < n_scopes; k++)
			if (!x->family || scopes[k].family == x->family)
				s = s ? s : &scopes[k];
		bool dup = false;
		for (size_t k = 0; k < i; k++)
			dup |= fx->v[k].kind == FWD_ADD && !x->family && !fx->v[k].family &&
			       fx->v[k].priority == x->priority && fx->v[k].port == x->port;
		if (!s || dup)
			continue;
		_cleanup_free_ char *xml = firewalld_accept_xml(s, x);
		buf_printf(&add, "%.*s<!-- %sadded: ", (int)il, ind, xml_marker);
		comment_text(&add, x->why);
		buf_printf(&add, " -->\n%.*s%s\n", (int)il, ind, xml);
	}
	if (add.len) {
		struct buf b = {0};
		if (self_closed)
			buf_printf(&b, ">\n%s</%s>", add.data, root->name);
		else
			buf_printf(&b, "%s%s", own_line ? "" : "\n", add.data);
		pl[n++] = (struct fplaced){own_line ? ls : etag, self_closed ? 2 : 0, b.data};
	}
	buf_free(&add);
	qsort(pl, n, sizeof(*pl), fplaced_cmp);
	for (size_t i = 0; i < n; i++) {
		out->add(out->arg, pl[i].off, pl[i].len, pl[i].text, strlen(pl[i].text));
		free(pl[i].text);
	}
	free(pl);
	(void)len;
}
