/* policy_harness.c: runs one policy on a temporary instance root made from a table row
 * (policy_harness.h) and compares what it decided and wrote with the row. */
#include "policy_harness.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stdint.h>

#include <cmocka.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "context.h"
#include "root.h"
#include "util.h"

/* Where root.c keeps backups and manifests: sshrescue's own files, not compared. */
#define OWN_DIR "/var/lib/sshrescue"

struct snap_file {
	char *path; /* instance path */
	char *data;
	size_t len;
	unsigned mode;
};

struct snap {
	struct snap_file *v;
	size_t n;
};

struct ph_ctx {
	const struct ph_case *c;
	const char *phase;
	int diffs;
};

static void diff(struct ph_ctx *x, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Mutants are run quietly: only whether they differ counts. */
static bool quiet;

static void diff(struct ph_ctx *x, const char *fmt, ...)
{
	x->diffs++;
	if (quiet)
		return;
	va_list ap;
	va_start(ap, fmt);
	fprintf(stderr, "  row \"%s\", %s: ", x->c->name, x->phase);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
}

/* ---- the instance root ---- */

static int mkdirs(const char *path, mode_t mode)
{
	_cleanup_free_ char *p = xstrdup(path);
	for (char *s = p + 1; *s; s++) {
		if (*s != '/')
			continue;
		*s = '\0';
		if (mkdir(p, 0755) < 0 && errno != EEXIST)
			return -errno;
		*s = '/';
	}
	if (mkdir(p, mode) < 0 && errno != EEXIST)
		return -errno;
	return 0;
}

static int make_db(const char *host, const char *sql)
{
	sqlite3 *h = NULL;
	char *err = NULL;
	int rc = sqlite3_open_v2(host, &h, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_exec(h, sql, NULL, NULL, &err);
	if (rc != SQLITE_OK)
		fprintf(stderr, "  %s: %s\n", host, err ? err : sqlite3_errstr(rc));
	sqlite3_free(err);
	sqlite3_close(h);
	return rc == SQLITE_OK ? 0 : -EIO;
}

static int make_file(const char *dir, const struct ph_file *f)
{
	_cleanup_free_ char *host = xasprintf("%s%s", dir, f->path);
	if (!f->data && !f->host)
		return mkdirs(host, f->mode ? f->mode : 0755);
	char *slash = strrchr(host, '/');
	*slash = '\0';
	int rc = mkdirs(host, 0755);
	*slash = '/';
	if (rc < 0)
		return rc;
	_cleanup_free_ char *copy = NULL;
	size_t len = f->data ? (f->len ? f->len : strlen(f->data)) : 0;
	if (f->host) {
		_cleanup_close_ int src = open(f->host, O_RDONLY | O_CLOEXEC);
		if (src < 0 || root_read_fd(src, 256u << 20, &copy, &len) < 0)
			return -EIO;
	}
	if (f->sqlite) {
		rc = make_db(host, f->data);
	} else {
		_cleanup_close_ int fd = open(host, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
		if (fd < 0 || write(fd, copy ? copy : f->data, len) != (ssize_t)len)
			return -EIO;
	}
	if (rc == 0 && chmod(host, f->mode ? f->mode : 0644) < 0)
		rc = -errno;
	return rc;
}

/* ---- snapshots of the instance's files ---- */

static struct snap *walk_snap;
static size_t walk_prefix;

static int walk_one(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	(void)ftw;
	const char *inst = path + walk_prefix;
	if (type != FTW_F || !strncmp(inst, OWN_DIR "/", strlen(OWN_DIR) + 1))
		return 0;
	struct snap_file f = {.path = xstrdup(inst), .mode = st->st_mode & 07777};
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0 || root_read_fd(fd, 64u << 20, &f.data, &f.len) < 0) {
		f.data = xstrdup("<unreadable>");
		f.len = strlen(f.data);
	}
	walk_snap->v = xrealloc(walk_snap->v, (walk_snap->n + 1) * sizeof(*walk_snap->v));
	walk_snap->v[walk_snap->n++] = f;
	return 0;
}

static void snap_take(const char *dir, struct snap *s)
{
	memset(s, 0, sizeof(*s));
	walk_snap = s;
	walk_prefix = strlen(dir);
	nftw(dir, walk_one, 16, FTW_PHYS);
	walk_snap = NULL;
}

static const struct snap_file *snap_find(const struct snap *s, const char *path)
{
	for (size_t i = 0; i < s->n; i++)
		if (!strcmp(s->v[i].path, path))
			return &s->v[i];
	return NULL;
}

static void snap_free(struct snap *s)
{
	for (size_t i = 0; i < s->n; i++) {
		free(s->v[i].path);
		free(s->v[i].data);
	}
	free(s->v);
	memset(s, 0, sizeof(*s));
}

static bool same_file(const struct snap_file *a, const struct snap_file *b)
{
	return a->len == b->len && !memcmp(a->data, b->data, a->len) && a->mode == b->mode;
}

/* Nothing changed between two snapshots (check, the second repair). */
static void snap_same(struct ph_ctx *x, const struct snap *was, const struct snap *now)
{
	for (size_t i = 0; i < was->n; i++) {
		const struct snap_file *n = snap_find(now, was->v[i].path);
		if (!n)
			diff(x, "%s was removed", was->v[i].path);
		else if (!same_file(&was->v[i], n))
			diff(x, "%s changed:\n%.*s", n->path, (int)n->len, n->data);
	}
	for (size_t i = 0; i < now->n; i++)
		if (!snap_find(was, now->v[i].path))
			diff(x, "%s was created", now->v[i].path);
}

/* ---- running the policy ---- */

static int run_policy(const struct policy *p, const char *dir, const struct config *cfg,
		      const char *run_id, bool repair, struct policy_result *res)
{
	struct root r;
	memset(res, 0, sizeof(*res));
	int rc = root_open(&r, dir, cfg->backup_dir, run_id, !repair);
	if (rc < 0)
		return rc;
	struct instance in;
	instance_read(&r, &in);
	struct policy_ctx ctx = {
		.root = &r, .instance = &in, .cfg = cfg, .run_id = run_id, .repair = repair};
	rc = p->run(&ctx, res);
	policy_result_finish(res, rc, cfg->strict);
	instance_free(&in);
	if (repair && root_commit(&r) < 0)
		rc = -EIO;
	root_close(&r);
	return rc;
}

/* The exit status bits main.c's exit_from_results() gives one policy's result. */
static int exit_bits(const struct policy_result *res, bool repair, bool strict)
{
	int ex = 0;
	for (size_t i = 0; i < res->n_findings; i++) {
		const struct finding *f = &res->findings[i];
		if (f->fixed)
			ex |= repair ? PH_EXIT_REPAIRED : 0;
		else if (finding_counts(f, strict))
			ex |= PH_EXIT_REMAIN;
	}
	return ex | (res->status == POLICY_FAILED ? PH_EXIT_OPERATIONAL : 0);
}

static void dump_findings(const struct policy_result *res)
{
	if (quiet)
		return;
	fprintf(stderr, "    status %s, note \"%s\", %zu findings:\n",
		policy_status_name(res->status), res->note ? res->note : "", res->n_findings);
	for (size_t i = 0; i < res->n_findings; i++) {
		const struct finding *f = &res->findings[i];
		fprintf(stderr,
			"    [%zu] %s %s:%u%s%s%s text=\"%s\"\n        problem: %s\n"
			"        action: %s\n",
			i, finding_severity_name(f->severity), f->file ? f->file : "(none)",
			f->line, f->fixed ? " fixed" : "", f->error ? " error" : "",
			f->backup ? " backup" : "", f->text ? f->text : "", f->problem,
			f->action ? f->action : "(none)");
	}
}

static const struct ph_after *after_of(const struct ph_case *c, const char *path);

static void compare_findings(struct ph_ctx *x, const struct policy_result *res, bool repair,
			     bool again, const struct snap *input)
{
	const struct ph_case *c = x->c;
	int before = x->diffs;
	size_t n = 0;
	while (n < PH_MAX_FINDINGS && c->findings[n].problem)
		n++;
	/* the second repair finds only what the first left open */
	size_t k = 0;
	for (size_t i = 0; i < n; i++) {
		const struct ph_finding *w = &c->findings[i];
		if (again && !w->open)
			continue;
		if (k >= res->n_findings) {
			diff(x, "finding %zu (\"%s\") is missing", i, w->problem);
			k++;
			continue;
		}
		const struct finding *f = &res->findings[k++];
		if (f->severity != w->severity)
			diff(x, "finding %zu is a %s, not a %s", i,
			     finding_severity_name(f->severity),
			     finding_severity_name(w->severity));
		if (!w->file != !f->file || (w->file && strcmp(w->file, f->file)))
			diff(x, "finding %zu names file %s, not %s", i,
			     f->file ? f->file : "(none)", w->file ? w->file : "(none)");
		if (f->line != w->line)
			diff(x, "finding %zu is on line %u, not %u", i, f->line, w->line);
		if (!strstr(f->problem, w->problem))
			diff(x, "finding %zu says \"%s\", not \"%s\"", i, f->problem, w->problem);
		const char *wa = repair ? w->repair_action : w->check_action;
		if (wa && !again && (!f->action || !strstr(f->action, wa)))
			diff(x, "finding %zu's action is \"%s\", not \"%s\"", i,
			     f->action ? f->action : "(none)", wa);
		bool want_fixed = repair && !again && !w->open;
		if (f->fixed != want_fixed)
			diff(x, "finding %zu is %sfixed", i, f->fixed ? "" : "not ");
		if (f->error)
			diff(x, "finding %zu is an error", i);
		/* a file that was there and whose bytes the repair changed: undo needs its backup
		 * (a mode undo restores from the manifest) */
		const struct snap_file *in = f->file ? snap_find(input, f->file) : NULL;
		const struct ph_after *a = f->file ? after_of(c, f->file) : NULL;
		if (f->fixed && !f->backup && in && a && a->data &&
		    (a->query || in->len != strlen(a->data) || memcmp(in->data, a->data, in->len)))
			diff(x, "finding %zu is fixed and names no backup of %s", i, f->file);
	}
	if (res->n_findings > k)
		diff(x, "%zu findings, not %zu", res->n_findings, k);
	if (x->diffs != before)
		dump_findings(res);
}

/* ---- what the repair wrote ---- */

struct rows {
	struct buf b;
};

static int row_cb(void *arg, int n, char **vals, char **names)
{
	(void)names;
	struct rows *r = arg;
	for (int i = 0; i < n; i++)
		buf_printf(&r->b, "%s%s", i ? "|" : "", vals[i] ? vals[i] : "");
	buf_puts(&r->b, "\n");
	return 0;
}

static char *db_rows(const char *host, const char *query)
{
	sqlite3 *h = NULL;
	struct rows r = {{0}};
	char *err = NULL;
	buf_puts(&r.b, "");
	_cleanup_free_ char *uri = xasprintf("file:%s?mode=ro", host);
	int rc = sqlite3_open_v2(uri, &h, SQLITE_OPEN_READONLY | SQLITE_OPEN_URI, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_exec(h, query, row_cb, &r, &err);
	if (rc != SQLITE_OK) {
		buf_free(&r.b);
		r.b.data = xasprintf("<%s>", err ? err : sqlite3_errstr(rc));
	}
	sqlite3_free(err);
	sqlite3_close(h);
	return r.b.data;
}

static const struct ph_after *after_of(const struct ph_case *c, const char *path)
{
	for (size_t i = 0; i < PH_MAX_AFTER && c->after[i].path; i++)
		if (!strcmp(c->after[i].path, path))
			return &c->after[i];
	return NULL;
}

static void compare_after(struct ph_ctx *x, const char *dir, const struct snap *was,
			  const struct snap *now)
{
	const struct ph_case *c = x->c;
	for (size_t i = 0; i < PH_MAX_AFTER && c->after[i].path; i++) {
		const struct ph_after *a = &c->after[i];
		const struct snap_file *f = snap_find(now, a->path);
		if (!a->data) {
			if (f)
				diff(x, "%s is there, and should not be", a->path);
			continue;
		}
		if (!f) {
			diff(x, "%s is missing", a->path);
			continue;
		}
		if (a->query) {
			_cleanup_free_ char *host = xasprintf("%s%s", dir, a->path);
			_cleanup_free_ char *rows = db_rows(host, a->query);
			if (strcmp(rows, a->data))
				diff(x, "%s: %s gives\n%s\nnot\n%s", a->path, a->query, rows,
				     a->data);
		} else if (f->len != strlen(a->data) || memcmp(f->data, a->data, f->len)) {
			diff(x, "%s is\n%.*s\nnot\n%s", a->path, (int)f->len, f->data, a->data);
		}
		if (a->mode && f->mode != a->mode)
			diff(x, "%s has mode %04o, not %04o", a->path, f->mode, a->mode);
	}
	/* everything else is as it was, byte for byte */
	for (size_t i = 0; i < was->n; i++) {
		if (after_of(c, was->v[i].path))
			continue;
		const struct snap_file *n = snap_find(now, was->v[i].path);
		if (!n)
			diff(x, "%s was removed", was->v[i].path);
		else if (!same_file(&was->v[i], n))
			diff(x, "%s changed, and the row does not say so:\n%.*s", n->path,
			     (int)n->len, n->data);
	}
	for (size_t i = 0; i < now->n; i++)
		if (!snap_find(was, now->v[i].path) && !after_of(c, now->v[i].path))
			diff(x, "%s was created:\n%.*s", now->v[i].path, (int)now->v[i].len,
			     now->v[i].data);
}

/* ---- one row ---- */

static int rm_one(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	return type == FTW_DP ? rmdir(path) : unlink(path);
}

static void phase(struct ph_ctx *x, const struct policy *p, const char *dir,
		  const struct config *cfg, const char *name, const char *run_id, bool repair,
		  bool again, enum policy_status want, int want_exit, const struct snap *input,
		  struct policy_result *res)
{
	x->phase = name;
	int rc = run_policy(p, dir, cfg, run_id, repair, res);
	if (rc < 0)
		diff(x, "the policy failed: %s", strerror(-rc));
	if (res->status != want) {
		diff(x, "status %s, not %s", policy_status_name(res->status),
		     policy_status_name(want));
		dump_findings(res);
	}
	int ex = exit_bits(res, repair, cfg->strict);
	if (ex != want_exit)
		diff(x, "exit bits %d, not %d", ex, want_exit);
	compare_findings(x, res, repair, again, input);
}

int ph_run_case(const struct policy *p, const struct ph_case *c)
{
	struct ph_ctx x = {.c = c, .phase = "setup"};
	char dir[] = "/tmp/sshrescue-policy.XXXXXX";
	bool made = false;
	struct config cfg;
	struct snap input = {0}, checked = {0}, repaired = {0}, again = {0};
	struct policy_result res = {0};
	char *err = NULL;
	config_init(&cfg);
	if (c->ini && config_load_string(&cfg, c->ini, "policy.ini", &err) < 0) {
		diff(&x, "the policy file: %s", err);
		goto out;
	}
	if (!mkdtemp(dir)) {
		diff(&x, "mkdtemp: %s", strerror(errno));
		goto out;
	}
	made = true;
	for (size_t i = 0; i < PH_MAX_FILES && c->files[i].path; i++) {
		int rc = make_file(dir, &c->files[i]);
		if (rc < 0)
			diff(&x, "cannot make %s: %s", c->files[i].path, strerror(-rc));
	}
	if (x.diffs)
		goto out;
	snap_take(dir, &input);

	phase(&x, p, dir, &cfg, "check", PH_RUN, false, false, c->check, c->exit_check, &input,
	      &res);
	if (c->note && (!res.note || !strstr(res.note, c->note)))
		diff(&x, "the note is \"%s\", not \"%s\"", res.note ? res.note : "", c->note);
	policy_result_free(&res);
	snap_take(dir, &checked);
	x.phase = "check";
	snap_same(&x, &input, &checked);

	phase(&x, p, dir, &cfg, "repair", PH_RUN, true, false, c->repair, c->exit_repair, &input,
	      &res);
	policy_result_free(&res);
	snap_take(dir, &repaired);
	x.phase = "repair";
	compare_after(&x, dir, &input, &repaired);

	enum policy_status want = c->again ? (enum policy_status)(c->again - 1)
				  : c->repair == POLICY_REPAIRED ? POLICY_OK
								 : c->repair;
	phase(&x, p, dir, &cfg, "second repair", PH_RUN "2", true, true, want,
	      c->exit_repair & PH_EXIT_REMAIN, &input, &res);
	policy_result_free(&res);
	snap_take(dir, &again);
	x.phase = "second repair";
	snap_same(&x, &repaired, &again);
out:
	if (made)
		nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	snap_free(&input);
	snap_free(&checked);
	snap_free(&repaired);
	snap_free(&again);
	config_free(&cfg);
	free(err);
	return x.diffs;
}

/* ---- every row can fail ---- */

static const char NEVER[] = "\001 never said";

/* Run a mutant of a row, one expectation broken: it must differ. */
static int mutant(const struct policy *p, const struct ph_case *m, const char *what)
{
	quiet = true;
	int d = ph_run_case(p, m);
	quiet = false;
	if (d)
		return 0;
	fprintf(stderr, "  row \"%s\" passes with %s\n", m->name, what);
	return 1;
}

/* Each expectation of the row broken in turn (status, exit bits, note, each field of each
 * finding, a finding more or less, each file's bytes after the repair, a file left out):
 * the number of mutants that still pass. */
static int mutate(const struct policy *p, const struct ph_case *c)
{
	int survived = 0;
	struct ph_case m;
	size_t nf = 0, na = 0;
	while (nf < PH_MAX_FINDINGS && c->findings[nf].problem)
		nf++;
	while (na < PH_MAX_AFTER && c->after[na].path)
		na++;
	m = *c;
	m.check = (c->check + 1) % (POLICY_SKIPPED + 1);
	survived += mutant(p, &m, "another check status");
	m = *c;
	m.repair = (c->repair + 1) % (POLICY_SKIPPED + 1);
	survived += mutant(p, &m, "another repair status");
	m = *c;
	m.exit_check ^= PH_EXIT_REMAIN;
	survived += mutant(p, &m, "other exit bits in check");
	m = *c;
	m.exit_repair ^= PH_EXIT_REPAIRED;
	survived += mutant(p, &m, "other exit bits in repair");
	if (c->note) {
		m = *c;
		m.note = NEVER;
		survived += mutant(p, &m, "another note");
	}
	for (size_t i = 0; i < nf; i++) {
		char what[64];
		snprintf(what, sizeof(what), "finding %zu's severity flipped", i);
		m = *c;
		m.findings[i].severity = !c->findings[i].severity;
		survived += mutant(p, &m, what);
		snprintf(what, sizeof(what), "finding %zu's problem changed", i);
		m = *c;
		m.findings[i].problem = NEVER;
		survived += mutant(p, &m, what);
		snprintf(what, sizeof(what), "finding %zu's file changed", i);
		m = *c;
		m.findings[i].file = c->findings[i].file ? NULL : "/nowhere";
		survived += mutant(p, &m, what);
		snprintf(what, sizeof(what), "finding %zu's line changed", i);
		m = *c;
		m.findings[i].line++;
		survived += mutant(p, &m, what);
		snprintf(what, sizeof(what), "finding %zu left open", i);
		m = *c;
		m.findings[i].open = !c->findings[i].open;
		survived += mutant(p, &m, what);
		if (c->findings[i].check_action) {
			snprintf(what, sizeof(what), "finding %zu's check action changed", i);
			m = *c;
			m.findings[i].check_action = NEVER;
			survived += mutant(p, &m, what);
		}
		if (c->findings[i].repair_action) {
			snprintf(what, sizeof(what), "finding %zu's repair action changed", i);
			m = *c;
			m.findings[i].repair_action = NEVER;
			survived += mutant(p, &m, what);
		}
	}
	if (nf) {
		m = *c;
		m.findings[nf - 1] = (struct ph_finding){0};
		survived += mutant(p, &m, "its last finding left out");
	}
	if (nf < PH_MAX_FINDINGS) {
		m = *c;
		m.findings[nf] =
			(struct ph_finding){SEVERITY_LOCKOUT, NULL, 0, NEVER, NULL, NULL, false};
		survived += mutant(p, &m, "a finding more");
	}
	for (size_t i = 0; i < na; i++) {
		char what[64];
		_cleanup_free_ char *more =
			xasprintf("%sx", c->after[i].data ? c->after[i].data : "");
		snprintf(what, sizeof(what), "file %zu after the repair changed", i);
		m = *c;
		m.after[i].data = c->after[i].data ? more : "";
		survived += mutant(p, &m, what);
		snprintf(what, sizeof(what), "file %zu after the repair left out", i);
		m = *c;
		memmove(&m.after[i], &m.after[i + 1], (PH_MAX_AFTER - i - 1) * sizeof(m.after[0]));
		m.after[PH_MAX_AFTER - 1] = (struct ph_after){0};
		survived += mutant(p, &m, what);
	}
	return survived;
}

void ph_run_table(const struct policy *p, const struct ph_case *cases, size_t n)
{
	int bad = 0, diffs = 0, survived = 0;
	bool mutants = getenv("PH_MUTATE") && *getenv("PH_MUTATE");
	for (size_t i = 0; i < n; i++) {
		int d = ph_run_case(p, &cases[i]);
		diffs += d;
		bad += d > 0;
		if (mutants && !d)
			survived += mutate(p, &cases[i]);
	}
	if (bad)
		fail_msg("%s: %d of %zu rows differ (%d differences, above)", p->name, bad, n,
			 diffs);
	if (survived)
		fail_msg("%s: %d broken expectations pass (above)", p->name, survived);
	if (mutants)
		fprintf(stderr, "  %s: %zu rows, each failed with every expectation broken\n",
			p->name, n);
}
