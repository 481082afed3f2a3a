/* denyhosts.c: the `denyhosts` policy. DenyHosts appends `BLOCK_SERVICE: HOST` to hosts.deny
 * and keeps per-host failure counts in WORK_DIR; after every log pass it appends again each
 * host whose counts are over its thresholds. So a protected host must leave hosts.deny AND the
 * counting files, and go into WORK_DIR/allowed-hosts so that new failures do not block it. */
#include <ctype.h>
#include <errno.h>
#include <string.h>
#include <strings.h>

#include "config.h"
#include "context.h"
#include "parse/cidr.h"
#include "parse/denyhosts.h"
#include "policy.h"
#include "root.h"
#include "tcpwrap.h"
#include "util.h"

#define DENYHOSTS_CONF "/etc/denyhosts.conf"
#define DENY_DELIMITER "# DenyHosts:"
/* hosts.deny of a busy DenyHosts host can be large; its lines are streamed, not copied. */
#define MAX_DENY_FILE (512u << 20)
#define MAX_DETAILED 100
#define MAX_ALLOWED_LINES 256

/* Files of WORK_DIR that count failures per host: key:count:date, where the key is the host,
 * or "user - host" in the per-user files (which DenyHosts never denies from). */
static const struct {
	const char *name;
	bool user_key;
	int threshold; /* DH_TH_*: the threshold its counts are compared with */
} counting_files[] = {
	{ "hosts", false, DH_TH_INVALID },
	{ "hosts-valid", false, DH_TH_VALID },
	{ "hosts-root", false, DH_TH_ROOT },
	{ "hosts-restricted", false, DH_TH_RESTRICTED },
	{ "users-hosts", true, DH_TH_NONE },
	{ "suspicious-logins", true, DH_TH_NONE },
};

struct dh_settings {
	struct denyhosts_conf c;
	size_t block_service_len;
	bool conf_found;
};

struct dh_run {
	struct policy_ctx *ctx;
	struct policy_result *res;
	struct dh_settings set;
	bool everything;     /* every source is protected: remove every entry */
	size_t removed;      /* entries removed (or that would be) in all files */
	size_t file_start;   /* removed when the current file's pass began */
	size_t not_removed;  /* entries of files that could not be written */
	size_t detailed;     /* findings written one per entry */
	size_t summarized;   /* entries beyond MAX_DETAILED, reported in one finding per file */
	bool summary_lockout; /* one of them is a lockout */
	struct cidr_v4 *v4;  /* the IPv4 networks of the protect list, as words */
	size_t n_v4;
};

/* The end of the line at pos (after its newline, or len). memchr() finds it several times
 * faster than a byte loop, even on lines of 20 bytes. */
static size_t line_end(const char *data, size_t len, size_t pos)
{
	const char *nl = memchr(data + pos, '\n', len - pos);
	return nl ? (size_t)(nl - data) + 1 : len;
}

static bool line_is_blank(const char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!denyhosts_space(p[i]))
			return false;
	return true;
}

/* denyhosts.conf (parse/denyhosts.c), or DenyHosts' defaults where it is absent or unreadable. */
static void read_settings(struct dh_run *run)
{
	struct dh_settings *s = &run->set;
	_cleanup_free_ char *data = NULL;
	size_t len = 0;
	int rc = root_read_file(run->ctx->root, DENYHOSTS_CONF, ROOT_MAX_CONFIG, &data, &len);
	s->conf_found = rc != -ENOENT;
	if (rc < 0 && rc != -ENOENT) {
		/* a FIFO, a device, a directory, a huge file: said, and the defaults assumed */
		policy_unreadable(run->res, DENYHOSTS_CONF, rc, ROOT_MAX_CONFIG,
				  "cannot read DenyHosts' settings", "its defaults are assumed");
	}
	denyhosts_conf_parse(rc == 0 ? data : "", rc == 0 ? len : 0,
			     run->ctx->cfg->denyhosts_work_dir, &s->c);
	s->block_service_len = strlen(s->c.block_service);
}

static void settings_free(struct dh_settings *s)
{
	denyhosts_conf_free(&s->c);
}

/* The host is exactly one address. */
static bool quad_word(const char *s, size_t n, uint32_t *out)
{
	return cidr_quad_scan(s, s + n, out) == s + n;
}

/* An address that ends its line: DenyHosts' own "SERVICE: a.b.c.d" lines, parsed with the
 * search for the line's end. Returns the newline, or NULL. */
static const char *quad_line(const char *s, const char *lim, uint32_t *out)
{
	const char *e = cidr_quad_scan(s, lim, out);
	return e && e < lim && *e == '\n' ? e : NULL;
}

/* memcmp() == 0 without the library call (that costs more than these few bytes). */
static inline bool bytes_eq(const char *a, const char *b, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (a[i] != b[i])
			return false;
	return true;
}

static bool word_goes(const struct dh_run *run, uint32_t w)
{
	if (run->everything)
		return true;
	for (size_t i = 0; i < run->n_v4; i++)
		if (cidr_v4_has(&run->v4[i], w))
			return true;
	return false;
}

/* Is this host (an address, or a name) one whose entries go? Names cannot be judged without
 * DNS, so they only go when every source is protected. */
static bool host_goes(struct dh_run *run, const char *host, size_t n)
{
	uint32_t w;
	if (quad_word(host, n, &w))
		return word_goes(run, w);
	/* one host, not a list: DenyHosts writes no spaces or commas in it */
	for (size_t i = 0; i < n; i++)
		if (denyhosts_space(host[i]) || host[i] == ',')
			return false;
	if (run->everything)
		return true;
	struct cidr addr;
	if (cidr_parse_n(host, n, &addr) < 0 || addr.prefix != (addr.family == AF_INET ? 32u : 128u))
		return false;
	return policy_protects(run->ctx->cfg, &addr);
}

static void note_entry(struct dh_run *run, const char *file, unsigned line, const char *text,
		       size_t text_len, const char *host, size_t host_len,
		       enum finding_severity severity, const char *why)
{
	run->removed++;
	if (run->detailed >= MAX_DETAILED) {
		run->summarized++;
		run->summary_lockout |= severity == SEVERITY_LOCKOUT;
		return;
	}
	run->detailed++;
	_cleanup_free_ char *t = xstrndup(text, text_len);
	struct finding *f = policy_add_finding(run->res, file, line, t, "%.*s %s", (int)host_len,
					       host, why);
	f->severity = severity;
	if (run->ctx->repair) {
		finding_set_action(f, "removed");
		f->fixed = true;
	} else {
		finding_set_action(f, "would remove");
	}
}

/* After a file's pass: one finding for the entries past the detailed ones. */
static void flush_summary(struct dh_run *run, const char *file)
{
	if (!run->summarized)
		return;
	struct finding *f = policy_add_finding(run->res, file, 0, NULL,
					       "%zu more entries of protected sources", run->summarized);
	f->severity = run->summary_lockout ? SEVERITY_LOCKOUT : SEVERITY_RISK;
	run->summary_lockout = false;
	if (run->ctx->repair) {
		finding_set_action(f, "removed");
		f->fixed = true;
	} else {
		finding_set_action(f, "would remove");
	}
	run->summarized = 0;
}

/* A file that could not be written: an operational error. */
static void write_error(struct dh_run *run, const char *file, int rc)
{
	struct finding *f =
		policy_add_finding(run->res, file, 0, NULL, "cannot write: %s", strerror(-rc));
	f->error = true;
}

/* Write the edits (when repairing) and record the backup in the file's findings. */
static int commit_edits(struct dh_run *run, const char *file, const struct root_map *map,
			struct edits *e, size_t first_finding)
{
	if (!e->n || !run->ctx->repair)
		return 0;
	char *backup = NULL;
	int rc = root_replace_map(run->ctx->root, file, map, e, &backup);
	if (rc < 0) {
		for (size_t i = first_finding; i < run->res->n_findings; i++) {
			run->res->findings[i].fixed = false;
			finding_set_action(&run->res->findings[i], "not removed: %s", strerror(-rc));
		}
		write_error(run, file, rc);
		run->not_removed += run->removed - run->file_start;
		return rc;
	}
	policy_set_backup(run->res, first_finding, backup);
	free(backup);
	return 0;
}

/* A DenyHosts entry of hosts.deny (parse/denyhosts.h); host_goes() checks the host. */
static inline bool parse_entry(const struct dh_settings *s, const char *p, size_t n,
			       const char **host, size_t *host_len)
{
	return denyhosts_entry(s->c.block_service, s->block_service_len, p, n, host, host_len);
}

/* Read one of DenyHosts' files for a pass over its lines: false when it is absent or cannot
 * be read (a finding then says why). */
static bool read_file(struct dh_run *run, const char *file, struct root_map *map)
{
	int rc = root_map_file(run->ctx->root, file, MAX_DENY_FILE, map);
	if (rc < 0 && rc != -ENOENT)
		policy_unreadable(run->res, file, rc, MAX_DENY_FILE, "cannot read", NULL);
	run->file_start = run->removed;
	return rc == 0;
}

/* hosts.deny: remove each DenyHosts entry that goes, with its "# DenyHosts: ... | entry"
 * comment line just above it. Lines that continue a previous line (backslash) are part of
 * a hand-written rule and stay. marked_only (no DenyHosts installed): only entries under
 * DenyHosts' own comment are taken as its own. */
static int clean_hosts_deny(struct dh_run *run, bool marked_only, bool *has_marks)
{
	const char *file = run->set.c.hosts_deny;
	struct root_map map;
	if (!read_file(run, file, &map))
		return 0;
	const char *data = map.data;
	size_t len = map.len;
	struct edits e = { 0 };
	size_t first = run->res->n_findings;
	size_t pos = 0, comment_off = 0, comment_len = 0;
	unsigned lineno = 0;
	bool continued = false, have_comment = false;
	/* DenyHosts' own line, "SERVICE: a.b.c.d\n", is recognized in one pass over its bytes */
	_cleanup_free_ char *prefix = xasprintf("%s: ", run->set.c.block_service);
	size_t prefix_len = strlen(prefix);
	while (pos < len) {
		const char *p = data + pos, *nl;
		const char *host = p + prefix_len;
		size_t host_len, end;
		uint32_t w;
		int fast = 0; /* 1: an entry that goes, -1: one that stays */
		if (!continued && len - pos > prefix_len + 7 && run->set.block_service_len &&
		    bytes_eq(p, prefix, prefix_len) && (nl = quad_line(host, data + len, &w))) {
			end = (size_t)(nl - data) + 1;
			host_len = (size_t)(nl - host);
			fast = word_goes(run, w) ? 1 : -1;
		} else {
			end = line_end(data, len, pos);
		}
		size_t n = end - pos - (data[end - 1] == '\n' ? 1 : 0);
		lineno++;
		bool cont_next = n && p[n - 1] == '\\';
		if (fast < 0) {
			have_comment = false;
		} else if (!continued && n >= sizeof(DENY_DELIMITER) - 1 && p[0] == '#' &&
		    memcmp(p, DENY_DELIMITER, sizeof(DENY_DELIMITER) - 1) == 0) {
			*has_marks = true;
			have_comment = true;
			comment_off = pos;
			comment_len = end - pos;
		} else if (!continued && !cont_next && (have_comment || !marked_only) &&
			   (fast > 0 || (parse_entry(&run->set, p, n, &host, &host_len) &&
					 host_goes(run, host, host_len)))) {
			if (have_comment)
				edits_add(&e, comment_off, comment_len, NULL, 0);
			edits_add(&e, pos, end - pos, NULL, 0);
			note_entry(run, file, lineno, p, n, host, host_len, SEVERITY_LOCKOUT,
				   "is denied sshd by DenyHosts");
			have_comment = false;
		} else if (!line_is_blank(p, n)) {
			have_comment = false;
		}
		continued = cont_next;
		pos = end;
	}
	flush_summary(run, file);
	commit_edits(run, file, &map, &e, first);
	edits_free(&e);
	root_unmap(&map);
	return 0;
}

static int clean_counting_file(struct dh_run *run, const char *name, bool user_key, int th)
{
	_cleanup_free_ char *file = xasprintf("%s/%s", run->set.c.work_dir, name);
	struct root_map map;
	if (!read_file(run, file, &map))
		return 0;
	const char *data = map.data;
	size_t len = map.len;
	struct edits e = { 0 };
	size_t first = run->res->n_findings;
	size_t pos = 0;
	unsigned lineno = 0;
	while (pos < len) {
		size_t end = line_end(data, len, pos);
		const char *p = data + pos;
		size_t n = end - pos - (data[end - 1] == '\n' ? 1 : 0);
		lineno++;
		const char *host;
		size_t host_len;
		unsigned long count;
		if (denyhosts_counting_line(p, n, user_key, &host, &host_len, &count) &&
		    host_goes(run, host, host_len)) {
			edits_add(&e, pos, end - pos, NULL, 0);
			_cleanup_free_ char *why = NULL;
			enum finding_severity sev = SEVERITY_RISK;
			if (th == DH_TH_NONE) {
				why = xasprintf("has %lu failures counted in %s, which DenyHosts "
						"keeps but denies no host from",
						count, name);
			} else if (count > run->set.c.threshold[th]) {
				sev = SEVERITY_LOCKOUT;
				why = xasprintf("has %lu failures counted in %s, over %s = %lu: "
						"DenyHosts denies it sshd again at its next pass",
						count, name, denyhosts_threshold_key[th],
						run->set.c.threshold[th]);
			} else {
				why = xasprintf("has %lu failures counted in %s: when %lu more "
						"failed logins from it are seen, over %s = %lu, "
						"DenyHosts denies it sshd again",
						count, name, run->set.c.threshold[th] + 1 - count,
						denyhosts_threshold_key[th], run->set.c.threshold[th]);
			}
			note_entry(run, file, lineno, p, n, host, host_len, sev, why);
		}
		pos = end;
	}
	flush_summary(run, file);
	commit_edits(run, file, &map, &e, first);
	edits_free(&e);
	root_unmap(&map);
	return 0;
}

/* The allowed-hosts lines that cover one protected network: DenyHosts takes addresses,
 * "a.b.c.*" and "a.b.c.[x-y]" (whose end changed meaning between releases: so no ranges),
 * and no networks. Returns false when the network needs too many lines or is IPv6. */
static bool allowed_lines(const struct cidr *net, struct strv *out)
{
	char a[CIDR_STRLEN];
	if (net->family == AF_INET6) {
		if (net->prefix != 128)
			return false;
		cidr_format_addr(net, a);
		strv_push(out, a);
		return true;
	}
	const uint8_t *b = net->addr;
	if (net->prefix >= 24) {
		if (net->prefix == 24) {
			strv_push_owned(out, xasprintf("%u.%u.%u.*", b[0], b[1], b[2]));
			return true;
		}
		unsigned count = 1u << (32 - net->prefix);
		for (unsigned i = 0; i < count; i++)
			strv_push_owned(out, xasprintf("%u.%u.%u.%u", b[0], b[1], b[2], b[3] + i));
		return true;
	}
	if (net->prefix < 16)
		return false;
	unsigned count = 1u << (24 - net->prefix);
	for (unsigned i = 0; i < count; i++)
		strv_push_owned(out, xasprintf("%u.%u.%u.*", b[0], b[1], b[2] + i));
	return true;
}

static int update_allowed_hosts(struct dh_run *run)
{
	const struct cidr_list *protect = &run->ctx->cfg->protect;
	if (protect->n == 0)
		return 0; /* every source: nothing to list, and the entries are all gone */
	_cleanup_free_ char *file = xasprintf("%s/allowed-hosts", run->set.c.work_dir);
	_cleanup_free_ char *data = NULL;
	size_t len = 0;
	int rc = root_read_file(run->ctx->root, file, ROOT_MAX_CONFIG, &data, &len);
	if (rc < 0 && rc != -ENOENT) {
		policy_unreadable(run->res, file, rc, ROOT_MAX_CONFIG, "cannot read", NULL);
		return 0;
	}
	struct strv present = { 0 };
	for (char *save = NULL, *line = data ? strtok_r(data, "\n", &save) : NULL; line;
	     line = strtok_r(NULL, "\n", &save))
		strv_push(&present, strstrip(line));
	/* strtok_r cut data: read it again for the rewrite */
	free(data);
	data = NULL;
	len = 0;
	if (rc == 0)
		root_read_file(run->ctx->root, file, ROOT_MAX_CONFIG, &data, &len);

	struct buf add = { 0 };
	struct strv missing = { 0 };
	for (size_t i = 0; i < protect->n; i++) {
		struct strv lines = { 0 };
		char net[CIDR_STRLEN];
		cidr_format(&protect->v[i], net);
		if (!allowed_lines(&protect->v[i], &lines)) {
			policy_result_set_note(run->res,
					       "%s cannot be listed in allowed-hosts (DenyHosts takes "
					       "addresses and a.b.c.* only)", net);
			strv_free(&lines);
			continue;
		}
		bool any = false;
		for (size_t j = 0; j < lines.n; j++) {
			if (strv_contains(&present, lines.v[j]) || strv_contains(&missing, lines.v[j]))
				continue;
			strv_push(&missing, lines.v[j]);
			buf_printf(&add, "%s\n", lines.v[j]);
			any = true;
		}
		if (any) {
			struct finding *f = policy_add_risk(
				run->res, file, 0, NULL,
				"protected network %s is not in DenyHosts' allowed hosts: when "
				"failed logins from it reach DenyHosts' thresholds (DENY_THRESHOLD_*), "
				"DenyHosts denies it sshd in hosts.deny again",
				net);
			finding_set_action(f, run->ctx->repair ? "added" : "would add");
			f->fixed = run->ctx->repair;
		}
		strv_free(&lines);
	}
	strv_free(&present);
	if (add.len && run->ctx->repair) {
		struct buf whole = { 0 };
		if (len) {
			buf_append(&whole, data, len);
			if (data[len - 1] != '\n')
				buf_puts(&whole, "\n");
		}
		buf_printf(&whole, "# sshrescue %s: protected sources\n", run->ctx->run_id);
		buf_append(&whole, add.data, add.len);
		char *backup = NULL;
		rc = root_write_file(run->ctx->root, file, whole.data, whole.len, 0644, &backup);
		for (size_t i = 0; i < run->res->n_findings; i++) {
			struct finding *f = &run->res->findings[i];
			if (!f->file || strcmp(f->file, file) != 0)
				continue;
			if (rc < 0) {
				f->fixed = false;
				finding_set_action(f, "not added: %s", strerror(-rc));
			} else if (backup) {
				f->backup = xstrdup(backup);
			}
		}
		if (rc < 0)
			write_error(run, file, rc);
		free(backup);
		buf_free(&whole);
	}
	buf_free(&add);
	strv_free(&missing);
	return 0;
}

static int denyhosts_run(struct policy_ctx *ctx, struct policy_result *res)
{
	struct dh_run run = { .ctx = ctx, .res = res };
	read_settings(&run);
	run.everything = ctx->cfg->protect.n == 0 || ctx->cfg->denyhosts_scope == SCOPE_ALL;
	const struct cidr_list *pl = &ctx->cfg->protect;
	run.v4 = xcalloc(pl->n ? pl->n : 1, sizeof(*run.v4));
	for (size_t i = 0; i < pl->n; i++)
		if (cidr_v4_of(&pl->v[i], &run.v4[run.n_v4]))
			run.n_v4++;

	struct stat st;
	bool work_dir = root_stat(ctx->root, run.set.c.work_dir, &st) == 0 && S_ISDIR(st.st_mode);
	/* DenyHosts blocks through hosts.deny: an sshd without libwrap never reads it, so its
	 * entries and counts lock nobody out of ssh, and the files stay as they are. */
	const char *why = ctx->instance->tcpwrap_why;
	if ((run.set.conf_found || work_dir) && ctx->instance->tcpwrap == TCPWRAP_NO) {
		res->status = POLICY_SKIPPED;
		policy_result_set_note(res, "the instance's sshd does not use tcp_wrappers (%s): "
				       "DenyHosts' %s entries cannot refuse it; left alone",
				       why, run.set.c.hosts_deny);
		settings_free(&run.set);
		free(run.v4);
		return 0;
	}
	bool marks = false;
	clean_hosts_deny(&run, !run.set.conf_found && !work_dir, &marks);
	if (work_dir) {
		for (size_t i = 0; i < ARRAY_SIZE(counting_files); i++)
			clean_counting_file(&run, counting_files[i].name, counting_files[i].user_key,
					    counting_files[i].threshold);
		update_allowed_hosts(&run);
	}
	if (!run.set.conf_found && !work_dir && !marks) {
		res->status = POLICY_SKIPPED;
		policy_result_set_note(res, "no DenyHosts on this instance");
	} else if (run.not_removed && !res->note) {
		policy_result_set_note(res, "%zu of %zu DenyHosts entries of protected sources could "
				       "not be removed", run.not_removed, run.removed);
	} else if (run.removed && !res->note) {
		policy_result_set_note(res, "%zu DenyHosts entr%s of protected sources %s", run.removed,
				       run.removed == 1 ? "y" : "ies",
				       ctx->repair ? "removed" : "to remove");
	}
	settings_free(&run.set);
	free(run.v4);
	return 0;
}

static bool denyhosts_enabled(const struct config *cfg)
{
	return cfg->denyhosts_enabled;
}

const struct policy denyhosts_policy = {
	.name = "denyhosts",
	.enabled = denyhosts_enabled,
	.run = denyhosts_run,
};
