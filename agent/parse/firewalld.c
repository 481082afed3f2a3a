/* firewalld.c: firewalld's zone XML (through libexpat) and the zone's verdict on protected SSH
 * traffic. The order follows firewalld (firewalld: src/firewall/core/nftables.py,
 * _rich_rule_chain_suffix): rich rules with priority < 0 first, by priority; then priority-0
 * reject/drop rules ("deny"); then services, ports and priority-0 accept rules ("allow"); then
 * priority > 0 rules; then the zone's target. */
#include "parse/firewalld.h"

#include <ctype.h>
#include <errno.h>
#include <expat.h>
#include <limits.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>

#define XML_MAX_DEPTH 32u
#define XML_MAX_ELEMS 100000u
#define XML_MAX_ATTRS 64u

/* ---- the XML reader: libexpat ----
 * Expat does the XML (entities, character references, encodings, well-formedness); this keeps
 * what the analysis and the minimal edits need: each element with its attributes, its parent,
 * its line, and the byte offsets of its start and end tags (XML_GetCurrentByteIndex/Count), so
 * an edit changes those bytes and nothing else. A DOCTYPE stops the parse: firewalld writes
 * none, and a zone file has no use for entity declarations. */

struct xml_reader {
	XML_Parser p;
	struct xml_doc *out;
	size_t stack[XML_MAX_DEPTH];
	size_t tag_end[XML_MAX_DEPTH]; /* one past the '>' of each open element's start tag */
	size_t depth;
	int rc;
	char *err;
	unsigned err_line;
};

static void xml_stop(struct xml_reader *x, int rc, const char *msg)
{
	if (x->rc == 0) {
		x->rc = rc;
		x->err = xstrdup(msg);
		x->err_line = (unsigned)XML_GetCurrentLineNumber(x->p);
	}
	XML_StopParser(x->p, XML_FALSE);
}

static void XMLCALL xml_start(void *user, const XML_Char *name, const XML_Char **atts)
{
	struct xml_reader *x = user;
	if (x->depth >= XML_MAX_DEPTH || x->out->n >= XML_MAX_ELEMS) {
		xml_stop(x, -E2BIG, "elements nest too deep or are too many");
		return;
	}
	struct xml_doc *d = x->out;
	d->v = xgrow(d->v, d->n, sizeof(*d->v));
	struct xml_elem *e = &d->v[d->n];
	size_t start = (size_t)XML_GetCurrentByteIndex(x->p);
	*e = (struct xml_elem){.name = xstrdup(name),
			       .parent = x->depth ? x->stack[x->depth - 1] : SIZE_MAX,
			       .depth = (unsigned)x->depth,
			       .line = (unsigned)XML_GetCurrentLineNumber(x->p),
			       .start = start};
	for (size_t k = 0; atts[k] && atts[k + 1]; k += 2) {
		if (e->n_attrs >= XML_MAX_ATTRS) {
			d->n++;
			xml_stop(x, -E2BIG, "too many attributes");
			return;
		}
		e->attrs = xgrow(e->attrs, e->n_attrs, sizeof(*e->attrs));
		e->attrs[e->n_attrs++] = (struct xml_attr){xstrdup(atts[k]), xstrdup(atts[k + 1])};
	}
	x->tag_end[x->depth] = start + (size_t)XML_GetCurrentByteCount(x->p);
	x->stack[x->depth++] = d->n++;
}

static void XMLCALL xml_end(void *user, const XML_Char *name)
{
	struct xml_reader *x = user;
	(void)name;
	if (!x->depth)
		return;
	x->depth--;
	/* an empty-element tag ("<x/>") ends where its start tag does: no bytes of its own */
	int count = XML_GetCurrentByteCount(x->p);
	x->out->v[x->stack[x->depth]].end =
		count > 0 ? (size_t)XML_GetCurrentByteIndex(x->p) + (size_t)count : x->tag_end[x->depth];
}

static void XMLCALL xml_doctype(void *user, const XML_Char *name, const XML_Char *sysid,
				const XML_Char *pubid, int has_internal_subset)
{
	(void)name, (void)sysid, (void)pubid, (void)has_internal_subset;
	xml_stop(user, -EINVAL, "a DOCTYPE (DTD) is not supported");
}

int firewalld_xml_parse(const char *buf, size_t len, struct xml_doc *out, unsigned *err_line,
			char **err)
{
	*out = (struct xml_doc){0};
	*err = NULL;
	*err_line = 0;
	if (len > INT_MAX)
		return -E2BIG;
	struct xml_reader x = {.out = out};
	x.p = XML_ParserCreate("UTF-8");
	if (!x.p)
		return -ENOMEM;
	XML_SetUserData(x.p, &x);
	XML_SetElementHandler(x.p, xml_start, xml_end);
	XML_SetStartDoctypeDeclHandler(x.p, xml_doctype);
	XML_SetParamEntityParsing(x.p, XML_PARAM_ENTITY_PARSING_NEVER);
	if (XML_Parse(x.p, buf, (int)len, XML_TRUE) == XML_STATUS_ERROR && x.rc == 0) {
		x.rc = -EINVAL;
		x.err = xstrdup(XML_ErrorString(XML_GetErrorCode(x.p)));
		x.err_line = (unsigned)XML_GetCurrentLineNumber(x.p);
	}
	XML_ParserFree(x.p);
	if (x.rc < 0) {
		firewalld_xml_free(out);
		*err = x.err;
		*err_line = x.err_line ? x.err_line : 1;
	}
	return x.rc;
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
	fx->v = xgrow(fx->v, fx->n, sizeof(*fx->v));
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
