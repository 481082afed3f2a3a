/* firewall.c: the `firewall` policy. Rules saved to disk come back at every boot: iptables-save
 * files (iptables-persistent, iptables-services), /etc/nftables.conf, ufw's user rules and
 * firewalld's zones. For each, it finds the rules that keep protected sources from sshd's ports
 * and makes the smallest change that lets them through: a blocking rule that only concerns
 * protected SSH traffic is commented out; otherwise one accept rule goes in front of it (or in
 * front of a drop policy). Every other rule stays byte for byte. */
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <sys/wait.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include "config.h"
#include "context.h"
#include "parse/cidr.h"
#include "parse/firewalld.h"
#include "parse/ipset.h"
#include "parse/iptables_save.h"
#include "parse/nft_live.h"
#include "parse/nftables.h"
#include "parse/sshd_config.h"
#include "parse/ufw.h"
#include "policy.h"
#include "sshd_ports.h"
#include "root.h"
#include "spawn.h"
#include "util.h"

#define FW_MAX_FILE (64u << 20)

struct fw_ipsets;

struct fw_run {
	struct policy_ctx *ctx;
	struct policy_result *res;
	unsigned *ports;
	size_t n_ports;
	char *marker;		    /* "# sshrescue RUN-ID: " */
	size_t files;		    /* firewall files found */
	size_t live_checked;	    /* running rule sets examined */
	struct strv ipt_nft_tables; /* "ip filter", "ip6 nat": listed by iptables-nft-save */
	char *live_note;	    /* why the running nft rules were not examined */
	struct fw_ipsets *ipsets;   /* the persisted sets the iptables rules name */
};

static void sink_add(void *arg, size_t off, size_t len, const char *text, size_t n)
{
	edits_add(arg, off, len, text, n);
}

/* ---- sshd's ports ---- */

static void sshd_ports(struct fw_run *run)
{
	run->ports = instance_ports_copy(run->ctx->instance, &run->n_ports);
}

/* The protected networks of one family; false when there are none (while others are). */
static bool scope_for(struct fw_run *run, int family, struct fw_scope *s, struct cidr **own)
{
	const struct cidr_list *p = &run->ctx->cfg->protect;
	*own = NULL;
	*s = (struct fw_scope){.family = family, .ports = run->ports, .n_ports = run->n_ports};
	if (!p->n)
		return true;
	*own = xcalloc(p->n, sizeof(**own));
	for (size_t i = 0; i < p->n; i++)
		if (p->v[i].family == family)
			(*own)[s->n_peers++] = p->v[i];
	s->peers = *own;
	return s->n_peers > 0;
}

static char *line_text(const char *buf, size_t len, size_t off)
{
	size_t end = iptables_save_next_line(buf, len, off);
	while (end > off && (buf[end - 1] == '\n' || buf[end - 1] == '\r'))
		end--;
	return xstrndup(buf + off, end - off);
}

/* Replace a file with its edits, or say in check mode what would be done; marks the findings
 * first..res->n_findings fixed or not. */
static void commit_edits(struct fw_run *run, const char *path, const char *data, size_t len,
			 const struct edits *e, size_t first)
{
	struct policy_result *res = run->res;
	if (!run->ctx->repair)
		return;
	_cleanup_free_ char *backup = NULL;
	int rc = root_replace(run->ctx->root, path, data, len, e, &backup);
	for (size_t i = first; i < res->n_findings; i++) {
		struct finding *f = &res->findings[i];
		if (rc < 0) {
			f->fixed = false;
			f->error = true;
			finding_set_action(f, "not changed: %s", strerror(-rc));
		} else {
			f->fixed = true;
			f->backup = backup ? xstrdup(backup) : NULL;
		}
	}
}

/* ---- edits of one file from several analyses ---- */

/* Edits gathered from several analyses of one file (one per port), merged in file order. */
struct collected_edit {
	size_t off, len, seq;
	char *text;
	size_t text_len;
};

struct collected {
	struct collected_edit *v;
	size_t n;
	bool failed;
};

static void collect_add(void *arg, size_t off, size_t len, const char *text, size_t n)
{
	struct collected *c = arg;
	for (size_t i = 0; i < c->n; i++) /* the same comment from two analyses */
		if (c->v[i].off == off && c->v[i].len == len && c->v[i].text_len == n &&
		    !memcmp(c->v[i].text, text, n))
			return;
	c->v = xgrow(c->v, c->n, sizeof(*c->v));
	c->v[c->n] = (struct collected_edit){off, len, c->n, xstrndup(text, n), n};
	c->n++;
}

/* File order; at one offset, added lines (they end in a newline) before a comment mark (which
 * must stay in front of the original line), else in the order they came. */
static int collected_cmp(const void *a, const void *b)
{
	const struct collected_edit *x = a, *y = b;
	if (x->off != y->off)
		return x->off < y->off ? -1 : 1;
	bool xl = x->text_len && x->text[x->text_len - 1] == '\n';
	bool yl = y->text_len && y->text[y->text_len - 1] == '\n';
	if (xl != yl)
		return xl ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static void collected_to_edits(struct collected *c, struct edits *e)
{
	qsort(c->v, c->n, sizeof(*c->v), collected_cmp);
	for (size_t i = 0; i < c->n; i++)
		edits_add(e, c->v[i].off, c->v[i].len, c->v[i].text, c->v[i].text_len);
}

static void collected_free(struct collected *c)
{
	for (size_t i = 0; i < c->n; i++)
		free(c->v[i].text);
	free(c->v);
}

/* ---- iptables-save files ---- */

static const struct {
	const char *path;
	int family;
} ipt_files[] = {
	{"/etc/iptables/rules.v4", AF_INET},
	{"/etc/iptables/rules.v6", AF_INET6},
	{"/etc/sysconfig/iptables", AF_INET},
	{"/etc/sysconfig/ip6tables", AF_INET6},
};

/* Findings for the fixes of one iptables-format file; returns the index of the first. */
static size_t ipt_findings(struct fw_run *run, const char *path, const char *data, size_t len,
			   const struct ipt_file *f, const struct ipt_fixes *fx,
			   const struct fw_scope *s)
{
	size_t first = run->res->n_findings;
	for (size_t i = 0; i < fx->n; i++) {
		const struct ipt_fix *x = &fx->v[i];
		unsigned line;
		_cleanup_free_ char *text = NULL;
		if (x->kind == IPT_FIX_SET) /* ipsets_fix() */
			continue;
		if (x->cmd != SIZE_MAX) {
			line = f->cmds[x->cmd].line;
			text = line_text(data, len, f->cmds[x->cmd].off);
		} else {
			const struct ipt_chain *c =
				iptables_save_chain(&f->tables[x->table], x->chain);
			line = c ? c->line : f->tables[x->table].line;
			text = c ? line_text(data, len, c->off) : NULL;
		}
		struct finding *fd = policy_add_finding(run->res, path, line, text, "%s", x->why);
		if (x->kind == IPT_FIX_COMMENT) {
			finding_set_action(
				fd, "%s", run->ctx->repair ? "commented out" : "would comment out");
		} else {
			_cleanup_free_ char *w = iptables_save_fix_words(s, x, 0);
			const char *more = x->nd ? " and the same for ICMPv6 types 134-136" : "";
			if (x->pos)
				finding_set_action(fd, "%s \"-I %s %lu %s\"%s before COMMIT",
						   run->ctx->repair ? "added" : "would add",
						   x->chain, x->pos, w, more);
			else
				finding_set_action(fd, "%s \"-A %s %s\"%s %s",
						   run->ctx->repair ? "added" : "would add",
						   x->chain, w, more,
						   x->at_commit		? "before COMMIT"
						   : x->cmd == SIZE_MAX ? "at the end of the chain"
									: "in front of it");
		}
	}
	return first;
}

/* A file the firewall's own loader would refuse (who: "iptables-restore", "nft"). */
static void refused(struct fw_run *run, const char *path, unsigned line, const char *err,
		    const char *who)
{
	policy_add_finding(run->res, path, line, NULL,
			   "%s; %s refuses the file, so what it blocks cannot be told; left as it is",
			   err ? err : "cannot parse", who);
}

/* ---- the persisted ipsets ---- */

/* Where the boot loads the sets from, before the rules that name them. The first present is
 * read. */
static const char *const ipset_paths[] = {
	/* Debian/Ubuntu ipset-persistent: netfilter-persistent's plugin 10-ipset runs `ipset
	 * restore -exist` before 15-ip4tables and 25-ip6tables load rules.v4/v6 */
	"/etc/iptables/ipsets",
	/* RHEL/Fedora ipset-service: ipset.service (Before=iptables.service) restores it */
	"/etc/sysconfig/ipset",
	/* ipset's own ipset.service on Arch and others */
	"/etc/ipset.conf",
};

/* The persisted sets, read once for both families' rules files. */
struct fw_ipsets {
	bool read;
	const char *path; /* NULL: none persisted */
	char *data;
	size_t len;
	bool parsed;
	struct ipset_file f;
	char *where; /* for messages: the file, or the files looked for */
	char *err;   /* why the file cannot be parsed (said once a rule names a set) */
	unsigned err_line;
	struct collected edits;
	struct strv cleared, descs; /* sets edited, and what changed in each */
	size_t *findings;	    /* the findings the edits fix */
	size_t n_findings;
};

static void ipsets_read(struct fw_run *run)
{
	struct fw_ipsets *is = run->ipsets;
	if (is->read)
		return;
	is->read = true;
	for (size_t i = 0; i < ARRAY_SIZE(ipset_paths) && !is->path; i++) {
		int rc = root_read_file(run->ctx->root, ipset_paths[i], FW_MAX_FILE, &is->data,
					&is->len);
		if (rc == -ENOENT)
			continue;
		is->path = ipset_paths[i];
		if (rc < 0) {
			policy_unreadable(run->res, is->path, rc, FW_MAX_FILE,
					  "cannot read the persisted ipsets", NULL);
			return;
		}
		unsigned el = 0;
		_cleanup_free_ char *err = NULL;
		if (ipset_parse(is->data, is->len, &is->f, &el, &err) < 0) {
			is->err_line = el;
			is->err = err ? xstrdup(err) : xstrdup("cannot parse");
			return;
		}
		is->parsed = true;
		is->where = xstrdup(is->path);
	}
	if (!is->path) {
		is->parsed = true; /* no set is persisted: a rule naming one does not load */
		is->where = xasprintf("no file: %s, %s, %s", ipset_paths[0], ipset_paths[1],
				      ipset_paths[2]);
	}
}

/* Findings and edits for the fixes that take protected sources out of sets. */
static void ipsets_fix(struct fw_run *run, const char *path, const char *data, size_t len,
		       const struct ipt_file *f, const struct ipt_fixes *fx,
		       const struct fw_scope *s)
{
	struct fw_ipsets *is = run->ipsets;
	for (size_t i = 0; i < fx->n; i++) {
		const struct ipt_fix *x = &fx->v[i];
		if (x->kind != IPT_FIX_SET)
			continue;
		size_t k = 0;
		while (k < is->cleared.n && strcmp(is->cleared.v[k], x->set))
			k++;
		if (k == is->cleared.n) {
			char *desc = NULL;
			ipset_clear_edits(is->data, is->len, &is->f, x->set, s, run->marker,
					  &(struct fw_edit_sink){collect_add, &is->edits}, &desc);
			strv_push(&is->cleared, x->set);
			strv_push_owned(&is->descs, desc ? desc : xstrdup(""));
		}
		_cleanup_free_ char *text = line_text(data, len, f->cmds[x->cmd].off);
		struct finding *fd = policy_add_finding(run->res, path, f->cmds[x->cmd].line, text,
							"%s", x->why);
		finding_set_action(fd, "%s the protected sources out of set %s in %s: %s",
				   run->ctx->repair ? "took" : "would take", x->set, is->path,
				   is->descs.v[k]);
		is->findings = xgrow(is->findings, is->n_findings, sizeof(*is->findings));
		is->findings[is->n_findings++] = run->res->n_findings - 1;
	}
}

/* Write the sets' file once both families' rules are judged. */
static void ipsets_commit(struct fw_run *run)
{
	struct fw_ipsets *is = run->ipsets;
	if (!is->edits.n)
		return;
	struct edits e = {0};
	collected_to_edits(&is->edits, &e);
	if (run->ctx->repair) {
		_cleanup_free_ char *backup = NULL;
		int rc = root_replace(run->ctx->root, is->path, is->data, is->len, &e, &backup);
		for (size_t i = 0; i < is->n_findings; i++) {
			struct finding *f = &run->res->findings[is->findings[i]];
			if (rc < 0) {
				f->error = true;
				finding_set_action(f, "not changed (%s): %s", is->path,
						   strerror(-rc));
			} else {
				f->fixed = true;
				f->backup = backup ? xstrdup(backup) : NULL;
			}
		}
	}
	edits_free(&e);
}

static void ipsets_free(struct fw_ipsets *is)
{
	free(is->data);
	ipset_free(&is->f);
	free(is->where);
	free(is->err);
	collected_free(&is->edits);
	strv_free(&is->cleared);
	strv_free(&is->descs);
	free(is->findings);
}
static void check_ipt_file(struct fw_run *run, const char *path, int family)
{
	_cleanup_free_ char *data = NULL;
	size_t len;
	int rc = root_read_file(run->ctx->root, path, FW_MAX_FILE, &data, &len);
	if (rc == -ENOENT)
		return;
	run->files++;
	if (rc < 0) {
		policy_unreadable(run->res, path, rc, FW_MAX_FILE, "cannot read the saved rules",
				  NULL);
		return;
	}
	struct fw_scope s;
	_cleanup_free_ struct cidr *own = NULL;
	if (!scope_for(run, family, &s, &own))
		return; /* no protected network of this family */
	struct ipt_file f;
	unsigned el = 0;
	_cleanup_free_ char *err = NULL;
	rc = iptables_save_parse(data, len, &f, &el, &err);
	if (rc < 0) {
		refused(run, path, el, err, "iptables-restore");
		return;
	}
	ipsets_read(run);
	if (run->ipsets->parsed) {
		s.sets = &run->ipsets->f;
		s.sets_where = run->ipsets->where;
	} else if (run->ipsets->err && memmem(data, len, "--match-set", 11)) {
		/* said as a risk: each blocking set match still gets an accept in front */
		policy_add_risk(run->res, run->ipsets->path, run->ipsets->err_line, NULL,
				"%s; ipset restore refuses the file or it is outside the model, so "
				"the set matches of %s are judged as if they could match anyone",
				run->ipsets->err, path);
	}
	struct ipt_fixes fx;
	iptables_save_analyze(&f, &s, IPT_HOOKS, IPT_N_HOOKS, &fx);
	if (fx.unsupported) {
		policy_add_finding(run->res, path, 0, NULL,
				   "%s; the verdict is unknown, left as it is", fx.note);
	} else if (fx.n) {
		size_t first = ipt_findings(run, path, data, len, &f, &fx, &s);
		struct edits e = {0};
		iptables_save_edits(data, len, &f, &fx, &s, run->marker,
				    &(struct fw_edit_sink){sink_add, &e});
		if (e.n)
			commit_edits(run, path, data, len, &e, first);
		edits_free(&e);
		ipsets_fix(run, path, data, len, &f, &fx, &s);
	}
	ipt_fixes_free(&fx);
	iptables_save_free(&f);
}

/* ---- nftables ---- */

#define NFT_CONF "/etc/nftables.conf"

static void check_nft_file(struct fw_run *run, const char *path)
{
	_cleanup_free_ char *data = NULL;
	size_t len;
	int rc = root_read_file(run->ctx->root, path, FW_MAX_FILE, &data, &len);
	if (rc == -ENOENT)
		return;
	run->files++;
	if (rc < 0) {
		policy_unreadable(run->res, path, rc, FW_MAX_FILE, "cannot read the saved rules",
				  NULL);
		return;
	}
	struct fw_scope sc[2];
	_cleanup_free_ struct cidr *own4 = NULL, *own6 = NULL;
	size_t n_sc = 0;
	if (scope_for(run, AF_INET, &sc[n_sc], &own4))
		n_sc++;
	if (scope_for(run, AF_INET6, &sc[n_sc], &own6))
		n_sc++;
	struct nft_file f;
	unsigned el = 0;
	_cleanup_free_ char *err = NULL;
	rc = nftables_parse(data, len, &f, &el, &err);
	if (rc < 0) {
		refused(run, path, el, err, "nft");
		return;
	}
	for (size_t i = 0; i < f.includes.n; i++)
		policy_add_finding(
			run->res, path, 0, NULL,
			"includes \"%s\", which is not examined; its rules may block sshd",
			f.includes.v[i]);
	struct nft_fixes fx;
	nftables_analyze(&f, data, len, sc, n_sc, &fx);
	if (fx.nd_note && !fx.unsupported)
		policy_add_finding(run->res, path, 0, NULL, "%s; the IPv6 verdict is unknown",
				   fx.nd_note);
	if (fx.unsupported) {
		policy_add_finding(run->res, path, 0, NULL,
				   "%s; the verdict is unknown, left as it is", fx.note);
	} else if (fx.n) {
		size_t first = run->res->n_findings;
		for (size_t i = 0; i < fx.n; i++) {
			const struct nft_fix *x = &fx.v[i];
			const struct nft_chain *ch = &f.tables[x->table].chains[x->chain];
			const struct nft_rule *r = x->rule != SIZE_MAX ? &ch->rules[x->rule] : NULL;
			_cleanup_free_ char *text = r ? xstrndup(data + r->off, r->end - r->off)
						      : line_text(data, len, ch->off);
			struct finding *fd = policy_add_finding(
				run->res, path, r ? r->line : ch->line, text, "%s", x->why);
			if (x->kind == NFT_FIX_COMMENT) {
				finding_set_action(fd, "%s",
						   run->ctx->repair ? "commented out"
								    : "would comment out");
			} else {
				const struct fw_scope *s =
					x->family == AF_INET ? &sc[0] : &sc[n_sc - 1];
				_cleanup_free_ char *rule = nftables_accept_rule(s, &f, x);
				finding_set_action(fd, "%s \"%s\" %s chain %s of table %s %s",
						   run->ctx->repair ? "added" : "would add", rule,
						   r ? "in front of it in" : "at the end of",
						   ch->name, f.tables[x->table].family,
						   f.tables[x->table].name);
			}
		}
		struct edits e = {0};
		nftables_edits(data, len, &f, &fx, sc, n_sc, run->marker,
			       &(struct fw_edit_sink){sink_add, &e});
		commit_edits(run, path, data, len, &e, first);
		edits_free(&e);
	}
	nft_fixes_free(&fx);
	nftables_free(&f);
}

/* ---- ufw ---- */

static void check_ufw_rules(struct fw_run *run, const char *path, bool v6, const char *policy)
{
	_cleanup_free_ char *data = NULL;
	size_t len;
	int rc = root_read_file(run->ctx->root, path, FW_MAX_FILE, &data, &len);
	if (rc == -ENOENT)
		return;
	if (rc < 0) {
		policy_unreadable(run->res, path, rc, FW_MAX_FILE, "cannot read ufw's rules", NULL);
		return;
	}
	struct fw_scope s;
	_cleanup_free_ struct cidr *own = NULL;
	if (!scope_for(run, v6 ? AF_INET6 : AF_INET, &s, &own))
		return;
	struct ipt_file f;
	unsigned el = 0;
	_cleanup_free_ char *err = NULL;
	rc = iptables_save_parse(data, len, &f, &el, &err);
	if (rc < 0) {
		policy_add_finding(run->res, path, el, NULL,
				   "%s; ufw cannot load the file; left as it is",
				   err ? err : "cannot parse");
		return;
	}
	/* one port at a time: a ufw rule (tuple) names one port */
	struct ipt_entry en = ufw_entry(v6, policy);
	struct collected col = {0};
	size_t first = run->res->n_findings;
	for (size_t p = 0; p < run->n_ports; p++) {
		struct fw_scope one = s;
		one.ports = &run->ports[p];
		one.n_ports = 1;
		struct ipt_fixes fx;
		iptables_save_analyze(&f, &one, &en, 1, &fx);
		if (fx.unsupported) {
			policy_add_finding(run->res, path, 0, NULL,
					   "%s; the verdict is unknown, left as it is", fx.note);
			ipt_fixes_free(&fx);
			col.failed = true;
			break;
		}
		for (size_t i = 0; i < fx.n; i++) {
			const struct ipt_fix *x = &fx.v[i];
			struct ufw_group g;
			unsigned line = 0;
			_cleanup_free_ char *text = NULL;
			if (x->cmd != SIZE_MAX) {
				bool grp = ufw_group_at(data, len, f.cmds[x->cmd].off, &g);
				line = grp ? g.line : f.cmds[x->cmd].line;
				text = line_text(data, len, grp ? g.start : f.cmds[x->cmd].off);
			}
			struct finding *fd = policy_add_finding(
				run->res, path, line, text, "%s%s",
				x->cmd == SIZE_MAX ? "ufw's default " : "", x->why);
			if (x->kind == IPT_FIX_COMMENT) {
				finding_set_action(
					fd, "%s",
					run->ctx->repair
						? "commented out the ufw rule and its tuple"
						: "would comment out the ufw rule and its tuple");
			} else {
				_cleanup_free_ char *t = ufw_accept_text(&one, v6);
				char *nl = strchr(t, '\n');
				if (nl)
					*nl = '\0';
				finding_set_action(fd, "%s \"%s\"%s %s",
						   run->ctx->repair ? "added" : "would add",
						   t + strlen("### tuple ### "),
						   one.n_peers > 1 ? " and the like" : "",
						   x->cmd == SIZE_MAX ? "at the end of the rules"
								      : "in front of it");
			}
		}
		ufw_edits(data, len, &f, &fx, &one, v6, run->marker,
			  &(struct fw_edit_sink){collect_add, &col});
		ipt_fixes_free(&fx);
	}
	if (!col.failed && col.n) {
		struct edits e = {0};
		collected_to_edits(&col, &e);
		commit_edits(run, path, data, len, &e, first);
		edits_free(&e);
	}
	collected_free(&col);
	iptables_save_free(&f);
}

static void check_ufw(struct fw_run *run)
{
	_cleanup_free_ char *conf = NULL, *defaults = NULL, *enabled = NULL, *policy = NULL,
			    *ipv6 = NULL;
	size_t len, dlen = 0;
	if (root_read_file(run->ctx->root, "/etc/ufw/ufw.conf", ROOT_MAX_CONFIG, &conf, &len) < 0)
		return;
	run->files++;
	enabled = ufw_conf_value(conf, len, "ENABLED");
	if (!enabled || strcasecmp(enabled, "yes"))
		return; /* ufw-init loads nothing at boot */
	if (root_read_file(run->ctx->root, "/etc/default/ufw", ROOT_MAX_CONFIG, &defaults, &dlen) ==
	    0) {
		policy = ufw_conf_value(defaults, dlen, "DEFAULT_INPUT_POLICY");
		ipv6 = ufw_conf_value(defaults, dlen, "IPV6");
	}
	const char *pol = policy && !strcasecmp(policy, "ACCEPT") ? "ACCEPT" : "DROP";
	check_ufw_rules(run, "/etc/ufw/user.rules", false, pol);
	if (!ipv6 || !strcasecmp(ipv6, "yes"))
		check_ufw_rules(run, "/etc/ufw/user6.rules", true, pol);
}

/* ---- firewalld ---- */

#define FWD_ETC "/etc/firewalld"
#define FWD_LIB "/usr/lib/firewalld"
#define FWD_WANTS "/etc/systemd/system/multi-user.target.wants"

struct buf_out {
	struct buf b;
};

static int to_buf(void *arg, const void *p, size_t n)
{
	buf_append(&((struct buf_out *)arg)->b, p, n);
	return 0;
}

static void check_zone(struct fw_run *run, const char *zone, const struct fw_scope *sc, size_t n_sc)
{
	_cleanup_free_ char *etc = xasprintf(FWD_ETC "/zones/%s.xml", zone);
	_cleanup_free_ char *lib = xasprintf(FWD_LIB "/zones/%s.xml", zone);
	_cleanup_free_ char *data = NULL;
	size_t len;
	const char *path = etc;
	int rc = root_read_file(run->ctx->root, etc, ROOT_MAX_CONFIG, &data, &len);
	if (rc == -ENOENT) {
		path = lib;
		rc = root_read_file(run->ctx->root, lib, ROOT_MAX_CONFIG, &data, &len);
	}
	if (rc < 0) {
		_cleanup_free_ char *what = xasprintf("cannot read firewalld zone %s", zone);
		policy_unreadable(run->res, rc == -ENOENT ? etc : path, rc, ROOT_MAX_CONFIG, what,
				  NULL);
		return;
	}
	struct xml_doc d;
	unsigned el;
	_cleanup_free_ char *err = NULL;
	if (firewalld_xml_parse(data, len, &d, &el, &err) < 0) {
		policy_add_finding(run->res, path, el, NULL,
				   "%s; firewalld cannot load the zone; left as it is", err);
		return;
	}
	struct fwd_fixes fx = {0};
	for (size_t i = 0; i < n_sc && !fx.unsupported; i++)
		firewalld_zone_analyze(data, len, &d, &sc[i], &fx);
	if (fx.unsupported) {
		policy_add_finding(run->res, path, 0, NULL,
				   "%s; the verdict is unknown, left as it is", fx.note);
	} else if (fx.n) {
		size_t first = run->res->n_findings;
		_cleanup_free_ char *xmark = xasprintf("sshrescue %s: ", run->ctx->run_id);
		for (size_t i = 0; i < fx.n; i++) {
			const struct fwd_fix *x = &fx.v[i];
			const struct xml_elem *e = x->kind == FWD_COMMENT ? &d.v[x->elem] : NULL;
			_cleanup_free_ char *text =
				e ? xstrndup(data + e->start, e->end - e->start) : NULL;
			struct finding *fd = policy_add_finding(run->res, path, e ? e->line : 0,
								text, "zone %s: %s", zone, x->why);
			if (e) {
				finding_set_action(fd, "%s",
						   run->ctx->repair ? "commented out"
								    : "would comment out");
			} else {
				const struct fw_scope *s = &sc[0];
				for (size_t k = 0; k < n_sc; k++)
					if (sc[k].family == x->family)
						s = &sc[k];
				_cleanup_free_ char *xml = firewalld_accept_xml(s, x);
				finding_set_action(fd, "%s %s to %s",
						   run->ctx->repair ? "added" : "would add", xml,
						   etc);
			}
		}
		struct edits e = {0};
		firewalld_edits(data, len, &d, &fx, sc, n_sc, xmark,
				&(struct fw_edit_sink){sink_add, &e});
		if (path == etc) {
			commit_edits(run, path, data, len, &e, first);
		} else if (run->ctx->repair) {
			/* firewalld reads a zone of the same name in /etc instead of /usr/lib */
			struct buf_out o = {{0}};
			buf_puts(&o.b, "");
			edits_apply(data, len, &e, to_buf, &o);
			rc = root_write_file(run->ctx->root, etc, o.b.data, o.b.len, 0644, NULL);
			for (size_t i = first; i < run->res->n_findings; i++) {
				run->res->findings[i].fixed = rc == 0;
				run->res->findings[i].error = rc < 0;
				if (rc < 0)
					finding_set_action(&run->res->findings[i],
							   "not written: %s", strerror(-rc));
			}
			buf_free(&o.b);
		}
		edits_free(&e);
	}
	fwd_fixes_free(&fx);
	firewalld_xml_free(&d);
}

/* Zones other than the default one that apply to protected sources: bound to their addresses,
 * or to interfaces (which the traffic may arrive on). */
static void other_zones(struct fw_run *run, const char *dir, const struct fw_scope *sc, size_t n_sc,
			struct strv *zones)
{
	DIR *dh;
	if (root_opendir(run->ctx->root, dir, &dh) < 0)
		return;
	for (struct dirent *de; (de = readdir(dh));) {
		size_t l = strlen(de->d_name);
		if (l < 5 || strcmp(de->d_name + l - 4, ".xml") || de->d_name[0] == '.')
			continue;
		_cleanup_free_ char *name = xstrndup(de->d_name, l - 4);
		_cleanup_free_ char *over = xasprintf(FWD_ETC "/zones/%s", de->d_name);
		struct stat st;
		if (strv_contains(zones, name) ||
		    (strcmp(dir, FWD_ETC "/zones") && root_stat(run->ctx->root, over, &st) == 0))
			continue;
		_cleanup_free_ char *p = xasprintf("%s/%s", dir, de->d_name), *data = NULL;
		size_t len;
		struct xml_doc d;
		unsigned el;
		_cleanup_free_ char *err = NULL;
		if (root_read_file(run->ctx->root, p, ROOT_MAX_CONFIG, &data, &len) < 0 ||
		    firewalld_xml_parse(data, len, &d, &el, &err) < 0)
			continue;
		bool applies = firewalld_zone_has_interfaces(&d);
		for (size_t i = 0; i < n_sc; i++)
			applies |= firewalld_zone_binds_peers(&d, &sc[i]);
		if (applies)
			strv_push(zones, name);
		firewalld_xml_free(&d);
	}
	closedir(dh);
}

/* Is firewalld.service enabled (its link in multi-user.target.wants; the link's target is
 * in /usr/lib, which need not resolve inside a rescue mount, so the name is enough)? */
static bool firewalld_enabled(struct fw_run *run)
{
	DIR *dh;
	bool found = false;
	if (root_opendir(run->ctx->root, FWD_WANTS, &dh) < 0)
		return false;
	for (struct dirent *de; (de = readdir(dh));)
		found |= !strcmp(de->d_name, "firewalld.service");
	closedir(dh);
	return found;
}

static void check_firewalld(struct fw_run *run)
{
	_cleanup_free_ char *conf = NULL, *zone = NULL;
	size_t len = 0;
	bool have_conf = root_read_file(run->ctx->root, FWD_ETC "/firewalld.conf", ROOT_MAX_CONFIG,
					&conf, &len) == 0;
	if (!have_conf)
		return;
	run->files++;
	if (!firewalld_enabled(run))
		return; /* firewalld does not start at boot */
	zone = firewalld_default_zone(conf, len);
	struct fw_scope sc[2];
	_cleanup_free_ struct cidr *own4 = NULL, *own6 = NULL;
	size_t n_sc = 0;
	if (scope_for(run, AF_INET, &sc[n_sc], &own4))
		n_sc++;
	if (scope_for(run, AF_INET6, &sc[n_sc], &own6))
		n_sc++;
	struct strv zones = {0};
	strv_push(&zones, zone);
	other_zones(run, FWD_ETC "/zones", sc, n_sc, &zones);
	other_zones(run, FWD_LIB "/zones", sc, n_sc, &zones);
	for (size_t i = 0; i < zones.n; i++)
		check_zone(run, zones.v[i], sc, n_sc);
	strv_free(&zones);
}

/* ---- live mode: the rules loaded in the running kernel ---- */

#define LIVE_MAX_OUTPUT (64u << 20)
#define LIVE_TIMEOUT_MS 30000

/* Run the host's argv[0] (live mode: the running system's nft, iptables-save, ...), write in
 * to its stdin, collect stdout (bounded) and stderr (the first line, for messages). *status:
 * exit status, 127 when the program is absent, 128 when it was killed. */
static int run_prog(char *const argv[], const char *in, size_t in_len, struct buf *out,
		    struct buf *err, int *status)
{
	struct spawn_opts o = {
		.input = in ? in : "",
		.input_len = in ? in_len : 0,
		.max_output = LIVE_MAX_OUTPUT,
		.timeout_ms = LIVE_TIMEOUT_MS,
	};
	struct spawn_result sr;
	*status = 127;
	int rc = spawn_run(argv, &o, &sr);
	if (rc < 0)
		return rc;
	if (sr.how == SPAWN_NOT_STARTED && sr.error != ENOENT)
		rc = -sr.error;
	else if (sr.how != SPAWN_NOT_STARTED)
		*status = sr.how == SPAWN_EXITED ? sr.code : 128;
	if (sr.how != SPAWN_NOT_STARTED) {
		buf_append(out, sr.out, sr.out_len);
		size_t n = strcspn(sr.err, "\n");
		if (n)
			buf_append(err, sr.err, n < 4096 ? n : 4096);
	}
	spawn_result_free(&sr);
	return rc;
}

static int to_buf2(void *arg, const void *p, size_t n)
{
	buf_append(arg, p, n);
	return 0;
}

/* The findings and, in repair, the restore of one saved dump of the running rules. */
static void live_fix_dump(struct fw_run *run, const char *save, const char *restore,
			  const struct buf *dump, const struct fw_scope *s)
{
	struct ipt_file f;
	unsigned el;
	_cleanup_free_ char *perr = NULL;
	if (iptables_save_parse(dump->data, dump->len, &f, &el, &perr) < 0) {
		policy_add_finding(run->res, NULL, 0, NULL,
				   "%s output line %u: %s; running rules not examined", save, el,
				   perr);
		return;
	}
	struct ipt_fixes fx;
	iptables_save_analyze(&f, s, IPT_HOOKS, IPT_N_HOOKS, &fx);
	run->live_checked++;
	if (fx.unsupported) {
		policy_add_finding(run->res, NULL, 0, NULL, "running rules (%s): %s", save,
				   fx.note);
	} else if (fx.n) {
		size_t first = run->res->n_findings;
		for (size_t i = 0; i < fx.n; i++) {
			const struct ipt_fix *x = &fx.v[i];
			_cleanup_free_ char *text =
				x->cmd != SIZE_MAX
					? line_text(dump->data, dump->len, f.cmds[x->cmd].off)
					: NULL;
			_cleanup_free_ char *w = iptables_save_fix_words(s, x, 0);
			struct finding *fd = policy_add_finding(
				run->res, NULL, 0, text, "running rules (%s, table %s): %s", save,
				f.tables[x->table].name, x->why);
			if (x->kind == IPT_FIX_COMMENT)
				finding_set_action(fd, "%s",
						   run->ctx->repair
							   ? "deleted from the running rules"
							   : "would delete from the running rules");
			else
				finding_set_action(
					fd, "%s \"-A %s %s\"%s to the running rules",
					run->ctx->repair ? "added" : "would add", x->chain, w,
					x->nd ? " and the same for ICMPv6 types 134-136" : "");
		}
		if (run->ctx->repair) {
			struct edits e = {0};
			struct buf fixed = {0}, rerr = {0}, rout = {0};
			int st;
			iptables_save_edits(dump->data, dump->len, &f, &fx, s, run->marker,
					    &(struct fw_edit_sink){sink_add, &e});
			edits_apply(dump->data, dump->len, &e, to_buf2, &fixed);
			char *rargv[] = {(char *)restore, "-c", NULL};
			int rc = run_prog(rargv, fixed.data, fixed.len, &rout, &rerr, &st);
			for (size_t i = first; i < run->res->n_findings; i++) {
				struct finding *fd = &run->res->findings[i];
				fd->fixed = rc == 0 && st == 0;
				if (!fd->fixed) {
					fd->error = true;
					finding_set_action(fd, "%s failed: %s", restore,
							   rerr.data ? rerr.data : "exit status");
				}
			}
			buf_free(&fixed);
			buf_free(&rerr);
			buf_free(&rout);
			edits_free(&e);
		}
	}
	ipt_fixes_free(&fx);
	iptables_save_free(&f);
}

/* One back end of the running rules: save, analyze as a file, restore the fixed dump (atomic
 * per table; counters kept with -c). A ban that fail2ban adds in between is lost; it bans
 * again on the next failure. */
static void live_iptables(struct fw_run *run, const char *save, const char *restore, int family)
{
	struct buf dump = {0}, err = {0};
	struct fw_scope s;
	_cleanup_free_ struct cidr *own = NULL;
	int st;
	char *sargv[] = {(char *)save, "-c", NULL};
	if (scope_for(run, family, &s, &own) && run_prog(sargv, NULL, 0, &dump, &err, &st) == 0 &&
	    st == 0 && dump.len) {
		/* the tables this back end owns: the nft path leaves them to it */
		if (strstr(save, "-nft-"))
			for (size_t o = 0; o < dump.len;
			     o = iptables_save_next_line(dump.data, dump.len, o))
				if (dump.data[o] == '*') {
					_cleanup_free_ char *l = line_text(dump.data, dump.len, o);
					strv_push_owned(&run->ipt_nft_tables,
							xasprintf("%s %s",
								  family == AF_INET ? "ip" : "ip6",
								  l + 1));
				}
		live_fix_dump(run, save, restore, &dump, &s);
	}
	buf_free(&dump);
	buf_free(&err);
}

/* The running nft ruleset with its handles (nft -a list ruleset) into out. False when there
 * is nothing to examine; a note or finding says why. */
static bool live_nft_list(struct fw_run *run, struct buf *out)
{
	struct buf err = {0};
	int st;
	char *largv[] = {"nft", "-a", "list", "ruleset", NULL};
	int rc = run_prog(largv, NULL, 0, out, &err, &st);
	bool ok = false;
	if (rc < 0 || st == 127) {
		run->live_note = xstrdup("nft is not installed: no running nft rules to examine");
	} else if (st != 0) {
		struct finding *fd = policy_add_finding(
			run->res, NULL, 0, NULL,
			"\"nft list ruleset\" failed (%s); the running nft rules were not examined",
			err.data && *err.data ? err.data : "exit status");
		fd->error = true;
	} else if (!out->len) {
		run->live_note = xstrdup("nft lists no running rules");
	} else {
		ok = true;
	}
	buf_free(&err);
	return ok;
}

/* The findings for the changes; returns the index of the first. */
static size_t live_nft_report(struct fw_run *run, const char *listing, const struct nft_live *l)
{
	size_t first = run->res->n_findings;
	for (size_t i = 0; i < l->n_changes; i++) {
		const struct nft_live_change *c = &l->changes[i];
		const struct nft_table *tb = c->table;
		const char *chain = c->chain->name;
		unsigned long h = c->handle;
		_cleanup_free_ char *text =
			c->rule ? xstrndup(listing + c->rule->off, c->rule->end - c->rule->off)
				: NULL;
		_cleanup_free_ char *where =
			c->rule ? xasprintf("table %s %s, chain %s, handle %lu", tb->family,
					    tb->name, chain, h)
				: xasprintf("table %s %s, chain %s", tb->family, tb->name, chain);
		struct finding *fd = policy_add_finding(
			run->res, NULL, 0, text, "running nft rules (%s): %s", where, c->fix->why);
		if (c->rule && !h) {
			fd->error = true;
			finding_set_action(fd, "not changed: nft printed no handle for the rule");
		} else if (c->fix->kind == NFT_FIX_COMMENT) {
			finding_set_action(fd, "%s rule handle %lu from chain %s of table %s %s",
					   run->ctx->repair ? "deleted" : "would delete", h, chain,
					   tb->family, tb->name);
		} else if (c->rule) {
			finding_set_action(fd,
					   "%s \"%s\" in front of handle %lu in chain %s of table "
					   "%s %s of the running rules",
					   run->ctx->repair ? "inserted" : "would insert",
					   c->accept, h, chain, tb->family, tb->name);
		} else {
			finding_set_action(fd,
					   "%s \"%s\" at the end of chain %s of table %s %s of the "
					   "running rules",
					   run->ctx->repair ? "added" : "would add", c->accept,
					   chain, tb->family, tb->name);
		}
	}
	return first;
}

/* Run the transaction (one nft -f: all or nothing) and mark the findings from first on. */
static void live_nft_apply(struct fw_run *run, const struct nft_live *l, size_t first)
{
	if (!l->transaction) {
		for (size_t i = first; i < run->res->n_findings; i++)
			if (!run->res->findings[i].error)
				finding_set_action(&run->res->findings[i],
						   "not changed: a rule of the same change has no "
						   "handle");
		return;
	}
	struct buf rout = {0}, rerr = {0};
	int st;
	char *fargv[] = {"nft", "-f", "-", NULL};
	int rc = run_prog(fargv, l->transaction, strlen(l->transaction), &rout, &rerr, &st);
	for (size_t i = first; i < run->res->n_findings; i++) {
		struct finding *fd = &run->res->findings[i];
		fd->fixed = rc == 0 && st == 0;
		if (!fd->fixed) {
			fd->error = true;
			finding_set_action(fd, "nft -f failed: %s",
					   rerr.data && *rerr.data ? rerr.data : "exit status");
		}
	}
	buf_free(&rout);
	buf_free(&rerr);
}

/* The rules loaded with nft itself (nft -f /etc/nftables.conf): listed with their handles,
 * analysed as the file is, and fixed in one nft transaction: a blocking rule the file fix
 * would comment out is deleted by handle, an accept rule the file fix would add is inserted
 * in front of the blocking rule's handle or added at the end of a drop-policy chain. Steps:
 * list, parse, build (pure: parse/nft_live.c), report, apply. */
static void live_nft(struct fw_run *run)
{
	struct buf out = {0};
	struct nft_file f = {0};
	struct nft_live l = {0};
	struct fw_scope sc[2];
	_cleanup_free_ struct cidr *own4 = NULL, *own6 = NULL;
	_cleanup_free_ char *perr = NULL;
	unsigned el = 0;
	if (!live_nft_list(run, &out))
		goto out;
	if (nftables_parse(out.data, out.len, &f, &el, &perr) < 0) {
		policy_add_finding(run->res, NULL, 0, NULL,
				   "\"nft list ruleset\" output line %u: %s; running nft rules not "
				   "examined",
				   el, perr ? perr : "cannot parse");
		goto out;
	}
	size_t n_sc = 0;
	if (scope_for(run, AF_INET, &sc[n_sc], &own4))
		n_sc++;
	if (scope_for(run, AF_INET6, &sc[n_sc], &own6))
		n_sc++;
	nft_live_build(out.data, out.len, &f, &run->ipt_nft_tables, sc, n_sc, run->ctx->run_id, &l);
	if (!l.view.n_tables)
		goto out; /* every table is iptables-nft's, fixed through it */
	run->live_checked++;
	if (l.fixes.nd_note && !l.fixes.unsupported)
		policy_add_finding(run->res, NULL, 0, NULL,
				   "running nft rules: %s; the IPv6 verdict is unknown",
				   l.fixes.nd_note);
	if (l.fixes.unsupported)
		policy_add_finding(run->res, NULL, 0, NULL,
				   "running nft rules: %s; left as they are", l.fixes.note);
	if (!l.n_changes)
		goto out;
	size_t first = live_nft_report(run, out.data, &l);
	if (run->ctx->repair)
		live_nft_apply(run, &l, first);
out:
	nft_live_free(&l);
	nftables_free(&f);
	buf_free(&out);
}

static void check_live(struct fw_run *run)
{
	static const struct {
		const char *save, *restore;
		int family;
	} backends[] = {
		{"iptables-legacy-save", "iptables-legacy-restore", AF_INET},
		{"iptables-nft-save", "iptables-nft-restore", AF_INET},
		{"ip6tables-legacy-save", "ip6tables-legacy-restore", AF_INET6},
		{"ip6tables-nft-save", "ip6tables-nft-restore", AF_INET6},
	};
	for (size_t i = 0; i < ARRAY_SIZE(backends); i++)
		live_iptables(run, backends[i].save, backends[i].restore, backends[i].family);
	/* after iptables: the tables iptables-nft owns are known and already fixed */
	live_nft(run);
}

/* ---- the policy ---- */

static int firewall_run(struct policy_ctx *ctx, struct policy_result *res)
{
	struct fw_ipsets ipsets = {0};
	struct fw_run run = {.ctx = ctx, .res = res, .ipsets = &ipsets};
	run.marker = xasprintf("# sshrescue %s: ", ctx->run_id ? ctx->run_id : "");
	sshd_ports(&run);
	for (size_t i = 0; i < ARRAY_SIZE(ipt_files); i++)
		check_ipt_file(&run, ipt_files[i].path, ipt_files[i].family);
	ipsets_commit(&run);
	check_nft_file(&run, NFT_CONF);
	check_ufw(&run);
	check_firewalld(&run);
	/* Live: the rules in the kernel now, after the files are right. */
	if (ctx->live)
		check_live(&run);
	if (!run.files && !run.live_checked) {
		res->status = POLICY_SKIPPED;
		policy_result_set_note(res, "no saved firewall rules on this instance");
	} else if (!res->n_findings) {
		policy_result_set_note(res,
				       "saved firewall rules let protected sources reach sshd");
	}
	if (run.live_note) {
		if (res->note) {
			_cleanup_free_ char *n = xstrdup(res->note);
			policy_result_set_note(res, "%s; %s", n, run.live_note);
		} else {
			policy_result_set_note(res, "%s", run.live_note);
		}
	}
	free(run.live_note);
	ipsets_free(&ipsets);
	strv_free(&run.ipt_nft_tables);
	free(run.ports);
	free(run.marker);
	return 0;
}

static bool firewall_enabled(const struct config *cfg)
{
	return cfg->firewall_enabled;
}

const struct policy firewall_policy = {
	.name = "firewall",
	.enabled = firewall_enabled,
	.run = firewall_run,
};
