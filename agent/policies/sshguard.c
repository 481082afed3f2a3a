/* sshguard.c: the `sshguard` policy. SSHGuard (2.4) with a blocklist (`-b THRESHOLD:FILE`,
 * BLACKLIST_FILE in sshguard.conf) blocks every address of that file whenever it starts, and
 * its whitelist only stops new blocks (src/blocker/blocklist.c: blacklist_load_and_block()
 * before whitelist_conf_fin()): so a protected address leaves the blocklist (its line is
 * commented out; the loader skips '#' lines) AND the protected networks go into the whitelist
 * (WHITELIST_FILE, or a file named by WHITELIST_ARG / -w), so new failures from a shared
 * address do not block the owner again. */
#include <errno.h>
#include <string.h>

#include "config.h"
#include "parse/cidr.h"
#include "parse/sshguard.h"
#include "policy.h"
#include "root.h"

#define MAX_BLACKLIST (64u << 20)
#define SSHGUARD_DEFAULT_WHITELIST "/etc/sshguard/whitelist"

/* Where the `sshguard` script sources its configuration: Debian and most packages, then
 * upstream's default sysconfdir. The first that exists is the one. */
static const char *const conf_paths[] = { "/etc/sshguard/sshguard.conf", "/etc/sshguard.conf",
					  "/usr/local/etc/sshguard.conf" };
/* The service's ExecStart may pass -b and -w too (they override the configuration). */
static const char *const unit_paths[] = { "/etc/systemd/system/sshguard.service",
					  "/usr/lib/systemd/system/sshguard.service",
					  "/lib/systemd/system/sshguard.service" };

struct sg_run {
	struct policy_ctx *ctx;
	struct policy_result *res;
	struct policy_list list; /* the blocklists */
	char *marker;
};

static void on_entry(void *arg, const struct sshguard_entry *en)
{
	struct sg_run *run = arg;
	if (!policy_protects(run->ctx->cfg, &en->addr))
		return;
	char a[CIDR_STRLEN];
	cidr_format_addr(&en->addr, a);
	struct finding *f = policy_list_entry(
		&run->list, en->off, en->len, en->line,
		"%s is in sshguard's blocklist: sshguard blocks it at every start, whitelisted or not",
		a);
	if (f)
		finding_set_action(f, run->ctx->repair ? "commented out" : "would comment out");
}

static void clean_blacklist(struct sg_run *run, const char *path)
{
	_cleanup_free_ char *data = NULL;
	size_t len;
	/* (no such file: sshguard creates it, "a+") */
	if (!policy_list_read(&run->list, path, MAX_BLACKLIST, &data, &len))
		return;
	sshguard_blacklist_parse(data, len, on_entry, run);
	policy_list_write(&run->list, len, "blocklist entries of protected sources",
			  "commented out", "would comment out");
}

/* -b and -w arguments of the service's ExecStart lines. */
static void unit_args(struct root *r, struct strv *blacklists, struct strv *whitelist)
{
	for (size_t u = 0; u < ARRAY_SIZE(unit_paths); u++) {
		_cleanup_free_ char *data = NULL;
		size_t len;
		if (root_read_file(r, unit_paths[u], 1u << 20, &data, &len) < 0)
			continue;
		char *save = NULL;
		for (char *l = strtok_r(data, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
			l = strstrip(l);
			if (strncmp(l, "ExecStart=", 10) || !strstr(l, "sshguard"))
				continue;
			char *tsave = NULL, *prev = NULL;
			for (char *t = strtok_r(l + 10, " \t", &tsave); t;
			     prev = t, t = strtok_r(NULL, " \t", &tsave)) {
				if (prev && !strcmp(prev, "-b"))
					strv_push(blacklists, t);
				else if (prev && !strcmp(prev, "-w"))
					strv_push(whitelist, t);
			}
		}
		return; /* the first unit file found is the one systemd loads */
	}
}

static bool is_file_arg(const char *s)
{
	return s[0] == '/' || s[0] == '.'; /* sshguard_options.c: case 'w' */
}

/* Append the networks of `add` (one per line) to the whitelist file, creating it when absent. */
static int append_whitelist(struct sg_run *run, const char *path, const struct buf *add,
			    char **backup)
{
	_cleanup_free_ char *data = NULL;
	size_t len = 0;
	int rc = root_read_file(run->ctx->root, path, ROOT_MAX_CONFIG, &data, &len);
	_cleanup_free_ char *text =
		xasprintf("%s%sprotected networks of the owner\n%s",
			  rc == 0 && len && data[len - 1] != '\n' ? "\n" : "", run->marker, add->data);
	if (rc == -ENOENT)
		return root_write_file(run->ctx->root, path, text, strlen(text), 0644, backup);
	if (rc < 0)
		return rc;
	struct edits e = { 0 };
	edits_add(&e, len, 0, text, strlen(text));
	rc = root_replace(run->ctx->root, path, data, len, &e, backup);
	edits_free(&e);
	return rc;
}

static void update_whitelist(struct sg_run *run, const char *conf_path,
			     const struct sshguard_conf *conf, const struct strv *unit_w)
{
	const struct cidr_list *protect = &run->ctx->cfg->protect;
	struct root *r = run->ctx->root;
	if (protect->n == 0)
		return;
	/* What the script passes as -w: the unit's, else WHITELIST_ARG, else WHITELIST_FILE. */
	struct strv args = { 0 };
	if (unit_w->n) {
		for (size_t i = 0; i < unit_w->n; i++)
			strv_push(&args, unit_w->v[i]);
	} else if (conf->whitelist_arg) {
		_cleanup_free_ char *copy = xstrdup(conf->whitelist_arg);
		char *save = NULL;
		for (char *t = strtok_r(copy, " \t", &save); t; t = strtok_r(NULL, " \t", &save))
			strv_push(&args, t);
	} else if (conf->whitelist_file) {
		strv_push(&args, conf->whitelist_file);
	}
	const char *file = NULL;
	struct buf add = { 0 };
	struct strv missing = { 0 };
	for (size_t n = 0; n < protect->n; n++) {
		bool covered = false;
		for (size_t i = 0; i < args.n && !covered; i++) {
			if (!is_file_arg(args.v[i])) {
				covered = sshguard_whitelist_covers(args.v[i], strlen(args.v[i]),
								    &protect->v[n]);
				continue;
			}
			if (!file)
				file = args.v[i];
			_cleanup_free_ char *data = NULL;
			size_t len;
			if (root_read_file(r, args.v[i], ROOT_MAX_CONFIG, &data, &len) == 0)
				covered = sshguard_whitelist_covers(data, len, &protect->v[n]);
		}
		if (covered)
			continue;
		char net[CIDR_STRLEN];
		cidr_format(&protect->v[n], net);
		buf_printf(&add, "%s\n", net);
		strv_push(&missing, net);
	}
	if (!missing.n)
		goto out;
	/* No whitelist file in use: Debian's default one, named by a WHITELIST_FILE line added
	 * to the configuration (only when WHITELIST_ARG does not override it). */
	bool add_conf_line = false;
	if (!file) {
		if (unit_w->n || conf->whitelist_arg) {
			struct finding *f = policy_add_risk(
				run->res, conf_path, 0, NULL,
				"sshguard's whitelist (-w %s) lacks %s and names no file to add to: new "
				"failures from a shared address block the owner again",
				unit_w->n ? unit_w->v[0] : conf->whitelist_arg, missing.v[0]);
			(void)f;
			goto out;
		}
		file = SSHGUARD_DEFAULT_WHITELIST;
		add_conf_line = true;
	}
	size_t first = run->res->n_findings;
	for (size_t i = 0; i < missing.n; i++) {
		struct finding *f = policy_add_risk(
			run->res, file, 0, NULL,
			"%s is not in sshguard's whitelist: new failures from a shared address block "
			"the owner again",
			missing.v[i]);
		finding_set_action(f, "%s %s%s%s", run->ctx->repair ? "added to" : "would add to",
				   file, add_conf_line ? ", named by WHITELIST_FILE in " : "",
				   add_conf_line ? conf_path : "");
		f->fixed = run->ctx->repair;
	}
	if (!run->ctx->repair)
		goto out;
	char *backup = NULL;
	int rc = append_whitelist(run, file, &add, &backup);
	if (rc < 0) {
		policy_write_failed(run->res, file, rc, first);
		goto out;
	}
	policy_set_backup(run->res, first, backup);
	free(backup);
	if (add_conf_line) {
		_cleanup_free_ char *data = NULL;
		size_t len;
		rc = root_read_file(r, conf_path, ROOT_MAX_CONFIG, &data, &len);
		if (rc == 0) {
			_cleanup_free_ char *text =
				xasprintf("%s%sthe owner's networks are whitelisted there\n"
					  "WHITELIST_FILE=%s\n",
					  len && data[len - 1] != '\n' ? "\n" : "", run->marker, file);
			struct edits e = { 0 };
			edits_add(&e, len, 0, text, strlen(text));
			rc = root_replace(r, conf_path, data, len, &e, NULL);
			edits_free(&e);
		}
		if (rc < 0)
			policy_write_failed(run->res, conf_path, rc, first);
	}
out:
	buf_free(&add);
	strv_free(&missing);
	strv_free(&args);
}

static int sshguard_run(struct policy_ctx *ctx, struct policy_result *res)
{
	struct sg_run run = { .ctx = ctx, .res = res, .list = { .ctx = ctx, .res = res } };
	struct root *r = ctx->root;
	const char *conf_path = NULL;
	_cleanup_free_ char *data = NULL;
	size_t len = 0;
	const char *bad_path = NULL; /* a configuration that is there but cannot be read */
	int bad_rc = 0;
	for (size_t i = 0; i < ARRAY_SIZE(conf_paths) && !conf_path && !bad_path; i++) {
		int rc = root_read_file(r, conf_paths[i], ROOT_MAX_CONFIG, &data, &len);
		if (rc == 0)
			conf_path = conf_paths[i];
		else if (rc != -ENOENT)
			bad_path = conf_paths[i], bad_rc = rc;
	}
	struct stat st;
	if (!conf_path && !bad_path && root_stat(r, "/usr/sbin/sshguard", &st) < 0) {
		res->status = POLICY_SKIPPED;
		policy_result_set_note(res, "no SSHGuard on this instance");
		return 0;
	}
	run.marker = xasprintf("# sshrescue %s: ", ctx->run_id ? ctx->run_id : "");
	run.list.marker = run.marker;
	struct sshguard_conf conf = { 0 };
	if (data)
		sshguard_conf_parse(data, len, &conf);
	struct strv unit_b = { 0 }, unit_w = { 0 }, lists = { 0 };
	unit_args(r, &unit_b, &unit_w);
	/* The command line wins over the configuration (the script's getopts). */
	const char *barg = unit_b.n ? unit_b.v[unit_b.n - 1] : conf.blacklist;
	if (barg) {
		char *p = sshguard_blacklist_path(barg);
		if (p && p[0] == '/')
			strv_push_owned(&lists, p);
		else {
			policy_add_finding(res, conf_path, 0, NULL,
					   "sshguard's blocklist argument \"%s\" is not THRESHOLD:/FILE: "
					   "sshguard does not start", barg);
			free(p);
		}
	}
	for (size_t i = 0; i < lists.n; i++)
		clean_blacklist(&run, lists.v[i]);
	/* sshguard's start script exits (78) when it cannot read its configuration: without one,
	 * SSHGuard blocks nobody and there is no whitelist to complete. */
	if (conf_path)
		update_whitelist(&run, conf_path, &conf, &unit_w);
	else if (bad_path)
		policy_unreadable(res, bad_path, bad_rc, ROOT_MAX_CONFIG, "cannot read", NULL);
	if (!conf_path && !bad_path && !res->n_findings)
		policy_result_set_note(res, "SSHGuard has no configuration (%s): it does not start",
				       conf_paths[0]);
	else if (!res->n_findings)
		policy_result_set_note(res, "%s; %s", lists.n ? "no protected address in sshguard's "
								  "blocklist"
							       : "no sshguard blocklist",
				       ctx->cfg->protect.n ? "the protected networks are whitelisted"
							   : "no protected networks to whitelist");
	else if (run.list.removed)
		policy_result_set_note(res, "%zu blocklist entr%s of protected sources %s",
				       run.list.removed, run.list.removed == 1 ? "y" : "ies",
				       ctx->repair ? "commented out" : "to comment out");
	strv_free(&unit_b);
	strv_free(&unit_w);
	strv_free(&lists);
	sshguard_conf_free(&conf);
	free(run.marker);
	return 0;
}

static bool sshguard_enabled(const struct config *cfg)
{
	return cfg->sshguard_enabled;
}

const struct policy sshguard_policy = {
	.name = "sshguard",
	.enabled = sshguard_enabled,
	.run = sshguard_run,
};
