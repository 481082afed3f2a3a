/* hosts_access.c: the `hosts_access` policy. tcp_wrappers (libwrap in sshd, or tcpd) grants
 * a connection that a hosts.allow rule matches first, refuses one that a hosts.deny rule
 * matches then, and grants the rest. This policy finds every rule that refuses, or may
 * refuse, sshd to a protected source, and repairs them all with one edit: a line
 * `sshd: <protected networks>` inserted into hosts.allow before the first line that refuses
 * a protected source (at the end when none does). Since the first match decides, that line
 * grants exactly sshd from the protected sources and leaves every other decision of the two
 * files as it was. */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>

#include "config.h"
#include "context.h"
#include "parse/cidr.h"
#include "parse/hosts_access.h"
#include "policy.h"
#include "root.h"
#include "tcpwrap.h"
#include "util.h"

#define HOSTS_ALLOW "/etc/hosts.allow"
#define HOSTS_DENY "/etc/hosts.deny"
/* hosts.deny of a busy DenyHosts host is large (the same bound as the denyhosts policy). */
#define MAX_HOSTS_FILE (512u << 20)
#define MAX_PATTERN_FILES 64
/* Rules listed one by one per file; the rest are counted in one finding. */
#define MAX_DETAILED 20
#define MAX_TEXT 300
/* Our grant lines stay far below tcpd's 2047-byte line limit. */
#define GRANT_LINE_MAX 1000

struct pattern_file {
	char *path, *data;
	size_t len;
	int rc;
};

/* The finding being built for the rule that hits arrive for. */
struct pending {
	bool active;
	size_t table;
	size_t start;
	unsigned line;
	char *text;
	enum hosts_access_kind kind;
	bool too_long, has_nul, whole_table;
	unsigned outcome;
	bool all_of_some; /* matches every address of at least one network */
	bool partial;	  /* matches part of a network whatever the names */
	const char *why;
	struct buf nets;
};

struct ha_run {
	struct policy_ctx *ctx;
	struct policy_result *res;
	struct root_map map[2];
	int rc[2];
	struct hosts_access_table tables[2];
	struct cidr *nets;
	size_t n_nets;
	struct pattern_file files[MAX_PATTERN_FILES];
	size_t n_files;
	struct pending cur;
	size_t detailed[2], summarized[2];
	unsigned sum_first[2], sum_last[2];
	size_t first_finding;
	size_t allow_cut; /* start of the first hosts.allow rule that may refuse */
};

static const char *const table_names[2] = {HOSTS_ALLOW, HOSTS_DENY};

/* `/file` pattern lists, read once each through the root. */
static int read_pattern_file(void *arg, const char *path, const char **data, size_t *len)
{
	struct ha_run *run = arg;
	for (size_t i = 0; i < run->n_files; i++) {
		struct pattern_file *f = &run->files[i];
		if (strcmp(f->path, path) == 0) {
			*data = f->data;
			*len = f->len;
			return f->rc;
		}
	}
	if (run->n_files == MAX_PATTERN_FILES)
		return -EMFILE;
	struct pattern_file *f = &run->files[run->n_files++];
	f->path = xstrdup(path);
	f->rc = root_read_file(run->ctx->root, path, ROOT_MAX_CONFIG, &f->data, &f->len);
	if (f->rc < 0) {
		f->data = NULL;
		f->len = 0;
	}
	*data = f->data;
	*len = f->len;
	return f->rc;
}

/* A line as it can go into a report: printable, bounded. */
static char *printable(const char *p, size_t n)
{
	while (n && (p[n - 1] == '\n' || p[n - 1] == '\r'))
		n--;
	struct buf b = {0};
	size_t shown = n < MAX_TEXT ? n : MAX_TEXT;
	for (size_t i = 0; i < shown; i++) {
		unsigned char ch = (unsigned char)p[i];
		if (ch == '\n')
			buf_puts(&b, "\\n");
		else if (ch == '\t' || (ch >= 0x20 && ch < 0x7f))
			buf_append(&b, p + i, 1);
		else
			buf_printf(&b, "\\x%02x", ch);
	}
	if (shown < n)
		buf_puts(&b, "...");
	if (!b.data)
		buf_append(&b, "", 0);
	return b.data;
}

static const char *state_reason(int rc)
{
	switch (rc) {
	case -EISDIR:
		return "is a directory";
	case -EINVAL:
		return "is a FIFO, socket or device (tcpd would block or fail on it)";
	case -EFBIG:
		return "is larger than 512 MiB";
	case -ELOOP:
		return "is a symbolic link loop";
	case -EACCES:
		return "cannot be read (permission denied)";
	}
	return "cannot be read";
}

static void flush_pending(struct ha_run *run)
{
	struct pending *p = &run->cur;
	if (!p->active)
		return;
	p->active = false;
	size_t t = p->table;
	const char *nets = p->nets.data ? p->nets.data : "";
	bool refuses = p->outcome & (HOSTS_ACCESS_DENY | HOSTS_ACCESS_TWIST);
	if (!refuses)
		goto out;
	if (run->detailed[t] >= MAX_DETAILED && !p->whole_table) {
		if (!run->summarized[t]++)
			run->sum_first[t] = p->line;
		run->sum_last[t] = p->line;
		goto out;
	}
	run->detailed[t]++;
	const char *file = table_names[t];
	struct buf why = {0};
	if (p->whole_table && run->tables[t].state == HOSTS_ACCESS_FILE_ERROR) {
		buf_printf(&why,
			   "%s %s: tcpd cannot open it either, which in hosts.deny denies every "
			   "connection, sshd from %s included",
			   file, state_reason(run->rc[t]), nets);
	} else if (p->whole_table) {
		buf_printf(&why,
			   "%s %s; what tcpd makes of it cannot be predicted, so it may deny "
			   "sshd to %s",
			   file, state_reason(run->rc[t]), nets);
	} else if (p->kind == HOSTS_ACCESS_BROKEN) {
		buf_printf(&why,
			   "%s: tcpd ignores this line and every line after it, and denies "
			   "every connection (to every daemon) that no earlier line matched, "
			   "%s included",
			   p->too_long ? "longer than tcpd's 2047-byte line limit"
				       : "no newline at the end of the file",
			   nets);
	} else if (p->has_nul) {
		buf_printf(&why,
			   "holds NUL bytes: tcpd cuts the line there and joins the next one "
			   "to it; counted as possibly denying sshd to %s",
			   nets);
	} else {
		bool sure = p->all_of_some && !(p->outcome & HOSTS_ACCESS_GRANT);
		buf_printf(&why, "%s sshd to %s", sure ? "refuses" : "may refuse", nets);
		if (p->outcome & HOSTS_ACCESS_TWIST)
			buf_puts(&why, " (twist: a shell command answers instead of sshd)");
		else if (p->why)
			buf_printf(&why, " (%s)", p->why);
		if (!p->all_of_some && p->partial)
			buf_puts(&why, ": it matches some of these addresses");
		else if (!p->all_of_some)
			buf_puts(&why,
				 ": it matches by host name, user, netgroup or local endpoint, "
				 "which only the connection reveals");
	}
	policy_add_finding(run->res, file, p->whole_table ? 0 : p->line,
			   p->whole_table ? NULL : p->text, "%s", why.data);
	buf_free(&why);
out:
	free(p->text);
	p->text = NULL;
	buf_free(&p->nets);
}

static void on_hit(void *arg, const struct hosts_access_hit *h)
{
	struct ha_run *run = arg;
	struct pending *p = &run->cur;
	size_t start = h->rule ? h->rule->start : (size_t)-1;
	if (!p->active || p->table != h->table || p->start != start) {
		flush_pending(run);
		memset(p, 0, sizeof(*p));
		p->active = true;
		p->table = h->table;
		p->start = start;
		p->whole_table = h->rule == NULL;
		if (h->rule) {
			p->line = h->rule->line;
			p->kind = h->rule->kind;
			p->too_long = h->rule->too_long;
			p->has_nul = h->rule->has_nul;
			if (run->detailed[h->table] < MAX_DETAILED) {
				const char *data = run->tables[h->table].data;
				p->text = printable(data + h->rule->start,
						    h->rule->end - h->rule->start);
			}
		}
	}
	p->outcome |= h->outcome;
	if (!(h->outcome & (HOSTS_ACCESS_DENY | HOSTS_ACCESS_TWIST)))
		return;
	if (h->table == 0 && h->rule && h->rule->start < run->allow_cut)
		run->allow_cut = h->rule->start;
	if (h->match == HOSTS_ACCESS_YES)
		p->all_of_some = true;
	if (!p->why)
		p->why = h->why;
	if (run->detailed[h->table] >= MAX_DETAILED)
		return;
	if (h->match == HOSTS_ACCESS_MAYBE && h->rule && h->rule->kind == HOSTS_ACCESS_RULE) {
		/* Why only "may": ask again with every name known not to match. */
		struct hosts_access_query q;
		hosts_access_query_init_tcpdmatch(&q, "sshd", &run->nets[h->query]);
		q.read_file = read_pattern_file;
		q.read_arg = run;
		if (hosts_access_match_rule(h->rule, &q) == HOSTS_ACCESS_MAYBE)
			p->partial = true;
	}
	char s[CIDR_STRLEN];
	if (run->ctx->cfg->protect.n == 0)
		snprintf(s, sizeof(s), "%s",
			 run->nets[h->query].family == AF_INET ? "every IPv4 source"
							       : "every IPv6 source");
	else
		cidr_format(&run->nets[h->query], s);
	buf_printf(&p->nets, "%s%s", p->nets.len ? ", " : "", s);
}

static void flush_summaries(struct ha_run *run)
{
	for (size_t t = 0; t < 2; t++) {
		if (!run->summarized[t])
			continue;
		policy_add_finding(
			run->res, table_names[t], run->sum_first[t], NULL,
			"%zu more rules (lines %u-%u) refuse or may refuse sshd to protected "
			"sources",
			run->summarized[t], run->sum_first[t], run->sum_last[t]);
	}
}

/* The grant: "# sshrescue RUN: ...\nsshd: NET NET ...\n", split into lines well under tcpd's
 * limit. */
static void grant_text(struct ha_run *run, struct buf *b, struct buf *shown)
{
	buf_printf(b, "# sshrescue %s: grant sshd to the protected sources\n", run->ctx->run_id);
	if (run->ctx->cfg->protect.n == 0) {
		buf_puts(b, "sshd: ALL\n");
		buf_puts(shown, "sshd: ALL");
		return;
	}
	size_t line_start = b->len;
	buf_puts(b, "sshd:");
	for (size_t i = 0; i < run->n_nets; i++) {
		char s[HOSTS_ACCESS_NET_STRLEN];
		hosts_access_format_net(&run->nets[i], s);
		if (b->len - line_start + strlen(s) + 1 > GRANT_LINE_MAX) {
			buf_puts(b, "\n");
			line_start = b->len;
			buf_puts(b, "sshd:");
		}
		buf_printf(b, " %s", s);
		buf_printf(shown, "%s%s", shown->len ? " " : "sshd: ", s);
	}
	buf_puts(b, "\n");
}

/* Where the grant goes: just before the first hosts.allow line that refuses (or may refuse)
 * a protected source, or that tcpd cannot read (a line too long or without its newline: tcpd
 * ignores the rest of the file); at the end when there is none. Rules above it that grant
 * protected sources keep matching first, with their options (spawn, banners, ...). */
static size_t insertion_point(const struct ha_run *run, const char *data, size_t len,
			      unsigned *line)
{
	struct hosts_access_cursor *c = xmalloc(sizeof(*c));
	struct hosts_access_rule r;
	size_t off = run->allow_cut < len ? run->allow_cut : len;
	hosts_access_cursor_init(c, data, len);
	while (hosts_access_next(c, &r))
		if (r.kind == HOSTS_ACCESS_BROKEN && r.start < off)
			off = r.start;
	free(c);
	*line = 1;
	for (const char *p = data; (p = memchr(p, '\n', (size_t)(data + off - p))); p++)
		(*line)++;
	return off;
}

static void decide(struct ha_run *run, const struct hosts_access_table *tables, unsigned *out,
		   bool report)
{
	struct hosts_access_query *q = xcalloc(run->n_nets, sizeof(*q));
	for (size_t i = 0; i < run->n_nets; i++) {
		hosts_access_query_init(&q[i], "sshd", &run->nets[i]);
		q[i].read_file = read_pattern_file;
		q[i].read_arg = run;
	}
	hosts_access_decide(tables, q, run->n_nets, HOSTS_ACCESS_DISTRUST_NUL, out,
			    report ? on_hit : NULL, run);
	if (report)
		flush_pending(run);
	free(q);
}

static void set_actions(struct ha_run *run, bool fixed, const char *action, const char *backup)
{
	for (size_t i = run->first_finding; i < run->res->n_findings; i++) {
		struct finding *f = &run->res->findings[i];
		if (f->action || f->error)
			continue;
		finding_set_action(f, "%s", action);
		f->fixed = fixed;
		if (backup)
			f->backup = xstrdup(backup);
	}
}

/* Does hosts.allow with text inserted at off grant sshd to every protected source? */
static bool grant_holds(struct ha_run *run, size_t off, const struct buf *text)
{
	const struct hosts_access_table *allow = &run->tables[0];
	struct buf edited = {0};
	if (allow->state == HOSTS_ACCESS_FILE_OK)
		buf_append(&edited, allow->data, off);
	buf_append(&edited, text->data, text->len);
	if (allow->state == HOSTS_ACCESS_FILE_OK)
		buf_append(&edited, allow->data + off, allow->len - off);
	struct hosts_access_table after[2] = {run->tables[0], run->tables[1]};
	after[0].state = HOSTS_ACCESS_FILE_OK;
	after[0].data = edited.data;
	after[0].len = edited.len;
	unsigned *out = xcalloc(run->n_nets, sizeof(*out));
	decide(run, after, out, false);
	bool all = true;
	for (size_t i = 0; i < run->n_nets; i++)
		all = all && out[i] == HOSTS_ACCESS_GRANT;
	free(out);
	buf_free(&edited);
	return all;
}

static int repair(struct ha_run *run)
{
	const struct hosts_access_table *allow = &run->tables[0];
	struct buf text = {0}, shown = {0};
	char *what = NULL, *action = NULL, *backup = NULL;
	unsigned line = 1;
	size_t off = 0;
	int rc = 0;

	grant_text(run, &text, &shown);
	if (allow->state == HOSTS_ACCESS_FILE_ERROR || allow->state == HOSTS_ACCESS_FILE_UNKNOWN) {
		what = xasprintf("cannot insert `%s`: " HOSTS_ALLOW " %s", shown.data,
				 state_reason(run->rc[0]));
		set_actions(run, false, what, NULL);
		policy_result_set_note(run->res, "%s", what);
		goto out;
	}
	if (allow->state == HOSTS_ACCESS_FILE_OK)
		off = insertion_point(run, allow->data, allow->len, &line);
	what = xasprintf("`%s` at " HOSTS_ALLOW " line %u", shown.data, line);
	if (!run->ctx->repair) {
		action = xasprintf("would insert %s", what);
		set_actions(run, false, action, NULL);
		policy_result_set_note(run->res, "%s", action);
		goto out;
	}
	if (!grant_holds(run, off, &text)) {
		struct finding *f =
			policy_add_finding(run->res, HOSTS_ALLOW, line, NULL,
					   "the grant line would not grant sshd to every "
					   "protected source (internal error)");
		f->error = true;
		set_actions(run, false, "not repaired", NULL);
		rc = -EPROTO;
		goto out;
	}
	if (allow->state == HOSTS_ACCESS_FILE_ABSENT) {
		rc = root_write_file(run->ctx->root, HOSTS_ALLOW, text.data, text.len, 0644,
				     &backup);
	} else {
		struct edits e = {0};
		edits_add(&e, off, 0, text.data, text.len);
		rc = root_replace(run->ctx->root, HOSTS_ALLOW, allow->data, allow->len, &e,
				  &backup);
		edits_free(&e);
	}
	if (rc < 0) {
		action = xasprintf("not repaired: cannot write " HOSTS_ALLOW ": %s", strerror(-rc));
		set_actions(run, false, action, NULL);
		struct finding *f = policy_add_finding(run->res, HOSTS_ALLOW, 0, NULL,
						       "cannot write: %s", strerror(-rc));
		f->error = true;
		policy_result_set_note(run->res, "%s", action);
		rc = 0; /* reported as a finding */
		goto out;
	}
	action = xasprintf("inserted %s", what);
	set_actions(run, true, action, backup);
	policy_result_set_note(run->res, "%s", action);
out:
	free(what);
	free(action);
	free(backup);
	buf_free(&text);
	buf_free(&shown);
	return rc;
}

static enum hosts_access_file_state state_of(int rc)
{
	switch (rc) {
	case 0:
		return HOSTS_ACCESS_FILE_OK;
	case -ENOENT:
		return HOSTS_ACCESS_FILE_ABSENT;
	case -ELOOP:
	case -EACCES:
		return HOSTS_ACCESS_FILE_ERROR; /* tcpd's fopen() fails the same way */
	}
	return HOSTS_ACCESS_FILE_UNKNOWN;
}

static int hosts_access_run(struct policy_ctx *ctx, struct policy_result *res)
{
	struct ha_run run = {
		.ctx = ctx, .res = res, .first_finding = res->n_findings, .allow_cut = (size_t)-1};
	const struct cidr_list *protect = &ctx->cfg->protect;
	const char *why = ctx->instance->tcpwrap_why;
	int rc = 0;

	if (protect->n == 0) {
		run.n_nets = 2;
		run.nets = xcalloc(2, sizeof(*run.nets));
		cidr_parse("0.0.0.0/0", &run.nets[0]);
		cidr_parse("::/0", &run.nets[1]);
	} else {
		run.n_nets = protect->n;
		run.nets = xcalloc(protect->n, sizeof(*run.nets));
		memcpy(run.nets, protect->v, protect->n * sizeof(*run.nets));
	}
	for (size_t t = 0; t < 2; t++) {
		run.rc[t] = root_map_file(ctx->root, table_names[t], MAX_HOSTS_FILE, &run.map[t]);
		run.tables[t].name = table_names[t];
		run.tables[t].state = state_of(run.rc[t]);
		run.tables[t].data = run.map[t].data;
		run.tables[t].len = run.rc[t] == 0 ? run.map[t].len : 0;
		switch (run.rc[t]) {
		case 0:
		case -ENOENT:
		case -EISDIR:
		case -EINVAL:
		case -EFBIG:
		case -ELOOP:
		case -EACCES:
			break;
		default: {
			struct finding *f =
				policy_add_finding(res, table_names[t], 0, NULL, "cannot read: %s",
						   strerror(-run.rc[t]));
			f->error = true;
		}
		}
	}
	if (run.tables[0].state == HOSTS_ACCESS_FILE_ABSENT &&
	    run.tables[1].state == HOSTS_ACCESS_FILE_ABSENT) {
		res->status = POLICY_SKIPPED;
		policy_result_set_note(res, "no " HOSTS_ALLOW " or " HOSTS_DENY
					    ": tcp_wrappers grants every connection");
		goto out;
	}
	/* An sshd that links no libwrap (Fedora/RHEL 8+, upstream since 6.7, Debian 13's
	 * listener alone) never reads these files: whatever they say is not a lockout, and they
	 * stay as they are (other daemons may still use them). */
	if (ctx->instance->tcpwrap == TCPWRAP_NO) {
		res->status = POLICY_SKIPPED;
		policy_result_set_note(res, "the instance's sshd does not use tcp_wrappers (%s): "
				       HOSTS_ALLOW " and " HOSTS_DENY " cannot refuse it; left alone",
				       why);
		goto out;
	}

	unsigned *out = xcalloc(run.n_nets, sizeof(*out));
	decide(&run, run.tables, out, true);
	flush_summaries(&run);
	bool granted = true;
	for (size_t i = 0; i < run.n_nets; i++)
		granted = granted && out[i] == HOSTS_ACCESS_GRANT;
	free(out);
	if (granted)
		policy_result_set_note(res, "tcp_wrappers grants sshd to every protected source");
	else
		rc = repair(&run);
out:
	for (size_t t = 0; t < 2; t++)
		root_unmap(&run.map[t]);
	for (size_t i = 0; i < run.n_files; i++) {
		free(run.files[i].path);
		free(run.files[i].data);
	}
	free(run.nets);
	return rc;
}

static bool hosts_access_enabled(const struct config *cfg)
{
	return cfg->hosts_access_enabled;
}

const struct policy hosts_access_policy = {
	.name = "hosts_access",
	.enabled = hosts_access_enabled,
	.run = hosts_access_run,
};

