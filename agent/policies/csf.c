/* csf.c: the `csf` policy. ConfigServer Security & Firewall (cPanel and hosting servers) loads
 * csf.deny into DENYIN and /var/lib/csf/csf.tempban (lfd's temporary blocks) at every start,
 * and csf.allow into ALLOWIN, which LOCALINPUT consults first (csf.pl: `-I LOCALINPUT -j
 * ALLOWIN` after `-A LOCALINPUT -j DENYIN`). So: a protected address's csf.deny entry is
 * commented out and its tempban lines go; the protected networks are added to csf.allow (csf
 * lets them in whatever else blocks them) and csf.ignore (lfd does not block them again); and
 * TCP_IN (TCP6_IN) of csf.conf opens sshd's ports to everyone else as before. */
#include <errno.h>
#include <string.h>

#include "config.h"
#include "context.h"
#include "parse/cidr.h"
#include "parse/csf.h"
#include "policy.h"
#include "root.h"
#include "sshd_ports.h"

#define CSF_CONF "/etc/csf/csf.conf"
#define CSF_DENY "/etc/csf/csf.deny"
#define CSF_ALLOW "/etc/csf/csf.allow"
#define CSF_IGNORE "/etc/csf/csf.ignore"
#define CSF_TEMPBAN "/var/lib/csf/csf.tempban"
#define MAX_CSF_FILE (64u << 20)
#define MAX_INCLUDES 16

struct csf_run {
	struct policy_ctx *ctx;
	struct policy_result *res;
	struct policy_list list; /* csf.deny and its includes, csf.tempban */
	char *marker;
	struct strv includes;
};

static void on_deny(void *arg, const struct csf_entry *en)
{
	struct csf_run *run = arg;
	if (en->include) {
		if (run->includes.n < MAX_INCLUDES && en->path[0] == '/' &&
		    !strv_contains(&run->includes, en->path))
			strv_push(&run->includes, en->path);
		return;
	}
	if (!en->has_addr || !policy_protects(run->ctx->cfg, &en->addr))
		return;
	char a[CIDR_STRLEN];
	cidr_format(&en->addr, a);
	bool tempban = run->list.drop_lines;
	struct finding *f = policy_list_entry(&run->list, en->off, en->len, en->line,
					      "%s is %s: csf drops it at every start", a,
					      tempban ? "temporarily banned by lfd" : "denied");
	if (f)
		finding_set_action(f, "%s%s", run->ctx->repair ? "" : "would be ",
				   tempban ? "removed" : "commented out");
}

/* csf.deny (and the files its Include lines name) or csf.tempban (its lines deleted: state,
 * not configuration). */
static void clean_list(struct csf_run *run, const char *path, bool tempban)
{
	_cleanup_free_ char *data = NULL;
	size_t len;
	run->list.drop_lines = tempban;
	if (!policy_list_read(&run->list, path, MAX_CSF_FILE, &data, &len))
		return;
	if (tempban)
		csf_tempban_parse(data, len, on_deny, run);
	else
		csf_list_parse(data, len, on_deny, run);
	policy_list_write(&run->list, len, "entries of protected sources", "removed",
			  "would remove");
}

/* csf.allow or csf.ignore: append the protected networks it lacks. */
static void add_networks(struct csf_run *run, const char *path, const char *why)
{
	const struct cidr_list *protect = &run->ctx->cfg->protect;
	if (!protect->n)
		return;
	_cleanup_free_ char *data = NULL;
	size_t len = 0;
	int rc = root_read_file(run->ctx->root, path, MAX_CSF_FILE, &data, &len);
	if (rc < 0 && rc != -ENOENT) {
		policy_unreadable(run->res, path, rc, MAX_CSF_FILE, "cannot read", NULL);
		return;
	}
	struct buf add = { 0 };
	size_t first = run->res->n_findings;
	for (size_t i = 0; i < protect->n; i++) {
		if (data && csf_list_covers(data, len, &protect->v[i]))
			continue;
		char net[CIDR_STRLEN];
		cidr_format(&protect->v[i], net);
		/* "ADDR # comment": csf takes the first word */
		buf_printf(&add, "%s # %sprotected network of the owner\n", net,
			   run->marker + 2);
		struct finding *f =
			policy_add_risk(run->res, path, 0, NULL, "%s is not in %s: %s", net, path, why);
		finding_set_action(f, "%s", run->ctx->repair ? "added" : "would add");
		f->fixed = run->ctx->repair;
	}
	if (add.len && run->ctx->repair) {
		char *backup = NULL;
		if (rc == -ENOENT) {
			rc = root_write_file(run->ctx->root, path, add.data, add.len, 0600, &backup);
		} else {
			struct edits e = { 0 };
			bool nl = data && len && data[len - 1] != '\n';
			_cleanup_free_ char *text = xasprintf("%s%s", nl ? "\n" : "", add.data);
			edits_add(&e, len, 0, text, strlen(text));
			rc = root_replace(run->ctx->root, path, data, len, &e, &backup);
			edits_free(&e);
		}
		if (rc < 0)
			policy_write_failed(run->res, path, rc, first);
		else
			policy_set_backup(run->res, first, backup);
		free(backup);
	}
	buf_free(&add);
}

/* TCP_IN and TCP6_IN: sshd's ports for every source, as the admin had them before. */
static void open_ports(struct csf_run *run)
{
	struct root *r = run->ctx->root;
	_cleanup_free_ char *data = NULL;
	size_t len;
	if (root_read_file(r, CSF_CONF, MAX_CSF_FILE, &data, &len) < 0)
		return;
	unsigned *ports = NULL;
	size_t n_ports = 0;
	ports = instance_ports_copy(run->ctx->instance, &n_ports);
	struct edits e = { 0 };
	size_t first = run->res->n_findings;
	static const char *const names[] = { "TCP_IN", "TCP6_IN" };
	for (size_t k = 0; k < ARRAY_SIZE(names); k++) {
		size_t off, vlen;
		if (!csf_conf_value(data, len, names[k], &off, &vlen))
			continue;
		struct buf add = { 0 };
		for (size_t i = 0; i < n_ports; i++)
			if (!csf_ports_have(data + off, vlen, ports[i]))
				buf_printf(&add, "%s%u", vlen || add.len ? "," : "", ports[i]);
		if (!add.len)
			continue;
		_cleanup_free_ char *value = xstrndup(data + off, vlen);
		struct finding *f = policy_add_finding(
			run->res, CSF_CONF, 0, NULL,
			"%s = \"%s\" does not open sshd's port: csf drops new connections to it", names[k],
			value);
		finding_set_action(f, "%s %s", run->ctx->repair ? "appended" : "would append",
				   add.data + (add.data[0] == ',' ? 1 : 0));
		f->fixed = run->ctx->repair;
		edits_add(&e, off + vlen, 0, add.data, add.len);
		buf_free(&add);
	}
	if (e.n && run->ctx->repair) {
		char *backup = NULL;
		int rc = root_replace(r, CSF_CONF, data, len, &e, &backup);
		if (rc < 0)
			policy_write_failed(run->res, CSF_CONF, rc, first);
		else
			policy_set_backup(run->res, first, backup);
		free(backup);
	}
	edits_free(&e);
	free(ports);
}

static int csf_run(struct policy_ctx *ctx, struct policy_result *res)
{
	struct csf_run run = { .ctx = ctx, .res = res, .list = { .ctx = ctx, .res = res } };
	struct stat st;
	if (root_stat(ctx->root, CSF_CONF, &st) < 0) {
		res->status = POLICY_SKIPPED;
		policy_result_set_note(res, "no CSF on this instance");
		return 0;
	}
	run.marker = xasprintf("# sshrescue %s: ", ctx->run_id ? ctx->run_id : "");
	run.list.marker = run.marker;
	clean_list(&run, CSF_DENY, false);
	for (size_t i = 0; i < run.includes.n; i++)
		clean_list(&run, run.includes.v[i], false);
	clean_list(&run, CSF_TEMPBAN, true);
	add_networks(&run, CSF_ALLOW, "csf drops them when another rule blocks them");
	add_networks(&run, CSF_IGNORE, "lfd blocks them again after login failures");
	open_ports(&run);
	if (!res->n_findings)
		policy_result_set_note(res, "CSF lets protected sources reach sshd");
	else if (run.list.removed)
		policy_result_set_note(res, "%zu CSF entr%s of protected sources %s",
				       run.list.removed, run.list.removed == 1 ? "y" : "ies",
				       ctx->repair ? "removed" : "to remove");
	strv_free(&run.includes);
	free(run.marker);
	return 0;
}

static bool csf_enabled(const struct config *cfg)
{
	return cfg->csf_enabled;
}

const struct policy csf_policy = {
	.name = "csf",
	.enabled = csf_enabled,
	.run = csf_run,
};
