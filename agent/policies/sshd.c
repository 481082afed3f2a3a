/* sshd.c: the sshd policy: the ways sshd closes a connection before the key exchange
 * ("kex_exchange_identification: Connection closed by remote host"): a MaxStartups or
 * PerSourceMaxStartups too low or malformed, a MaxStartups inside a Match block (sshd exits),
 * no usable host key, a missing or unsafe privilege separation directory. The instance's own
 * sshd judges the result (`sshd -t`, chrooted into the instance) when it can run here. */
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <grp.h>
#include <signal.h>
#include <limits.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>

#include "config.h"
#include "context.h"
#include "parse/cidr.h"
#include "parse/sshd_config.h"
#include "parse/sshkey.h"
#include "policy.h"
#include "root.h"
#include "spawn.h"

#define SSHD_CONFIG "/etc/ssh/sshd_config"
#define SSHD_BINARY "/usr/sbin/sshd"
#define SSH_KEYGEN "/usr/bin/ssh-keygen"
#define MAX_BINARY (64u << 20)
#define CHILD_TIMEOUT_MS 30000
#define MAX_GLOB_RESULTS 4096

/* ---- running the instance's programs, in the sandbox ----------------------------------- */

struct child_result {
	bool ran;       /* the program ran: status and output are its own */
	int status;     /* exit status, or 128+signal */
	char *output;   /* stdout and stderr together */
	char *why_not;  /* !ran: why, in words */
	bool no_sandbox; /* !ran because no sandbox could be made */
	bool timed_out;  /* !ran: killed at its deadline, with all it started */
};

static void child_result_free(struct child_result *cr)
{
	free(cr->output);
	free(cr->why_not);
	cr->output = cr->why_not = NULL;
}

/* Run an instance program only in the sandbox (spawn.c): the instance read-only as /, a fresh
 * /run with /run/sshd (on disk /run is empty; the service makes /run/sshd at boot) and /dev,
 * no capabilities, no network, bounded in time. scratch/take: a private writable directory
 * and the files to bring back from it. */
static int run_in_root(struct root *r, const char *cwd, char *const argv[],
		       const char *scratch, const char *const *take, struct buf *taken,
		       struct child_result *res)
{
	memset(res, 0, sizeof(*res));
	char *const envp[] = { "PATH=/usr/sbin:/usr/bin:/sbin:/bin", "LANG=C", NULL };
	struct spawn_opts o = {
		.flags = SPAWN_SANDBOX | SPAWN_MERGE_STDERR,
		.envp = envp,
		.timeout_ms = CHILD_TIMEOUT_MS,
		.root = r->path,
		.root_fd = r->fd,
		.cwd = cwd,
		.scratch = scratch,
		.take = take,
		.taken = taken,
	};
	struct spawn_result sr;
	/* the program reads the instance by itself: the run's changes first */
	int rc = root_publish(r);
	if (rc < 0)
		return rc;
	rc = spawn_run(argv, &o, &sr);
	if (rc < 0)
		return rc;
	char why[256];
	res->ran = sr.how == SPAWN_EXITED || sr.how == SPAWN_SIGNALED;
	res->status = sr.how == SPAWN_EXITED ? sr.code : 128 + sr.code;
	res->output = sr.out;
	sr.out = NULL;
	if (!res->ran) {
		res->no_sandbox = sr.how == SPAWN_NO_SANDBOX;
		res->timed_out = sr.how == SPAWN_TIMED_OUT;
		spawn_describe(&sr, why, sizeof(why));
		res->why_not = sr.how == SPAWN_NO_SANDBOX && sr.error
				       ? xasprintf("%s: %s", why, strerror(sr.error))
				       : xstrdup(why);
	}
	spawn_result_free(&sr);
	return 0;
}

/* First line of sshd's output that says what is wrong, without the trailing newline. */
static char *first_message(const char *out)
{
	while (*out == '\n')
		out++;
	const char *nl = strchr(out, '\n');
	return xstrndup(out, nl ? (size_t)(nl - out) : strlen(out));
}

/* ---- the run -------------------------------------------------------------------------- */

struct file_edits {
	size_t file;       /* index into cfg.files */
	struct edits e;
	unsigned *lines;   /* lines edited, for the sshd -t rollback */
	size_t n_lines;
	long *finding;     /* the finding of each line */
	char *new_data;    /* the content written (after edits) */
	size_t new_len;
	bool written;
};

/* One planned change of one line. */
struct line_fix {
	size_t file;
	unsigned line;
	size_t off, len; /* bytes replaced */
	char *text;      /* replacement */
	bool comment;    /* commenting out wins over a value fix of the same line */
	long finding;
};

struct sshd_run {
	struct policy_ctx *ctx;
	struct policy_result *res;
	const struct sshd_config *cfg; /* the instance's, as context.c read it */
	unsigned version;
	struct line_fix *fixes;
	size_t n_fixes;
	char *insert_top; /* lines put first in sshd_config (MaxStartups, the exempt list) */
	long insert_finding[2];
	size_t n_insert;
	struct buf strict; /* over-strict penalties of a config that exempts the owner already */
	bool dsa_ok;       /* the instance's sshd still loads DSA keys (OpenSSH before 9.8/10.0) */
	bool exempt_edit;  /* this run wrote the protected networks into the exempt list */
	bool no_config;    /* /etc/ssh/sshd_config is absent: nothing to put a line into */
	char *extra_key;   /* a host key to generate when every configured one is DSA */
};

static void plan_fix(struct sshd_run *run, const struct sshd_occurrence *o, size_t off,
		     size_t len, const char *text, bool comment, long finding)
{
	for (size_t i = 0; i < run->n_fixes; i++) {
		struct line_fix *f = &run->fixes[i];
		if (f->file == o->file && f->line == o->line) {
			/* The same line read twice (an Include used twice): one change. */
			if (comment && !f->comment) {
				free(f->text);
				*f = (struct line_fix){ o->file, o->line, off, len, xstrdup(text),
							comment, finding };
			}
			return;
		}
	}
	run->fixes = xgrow(run->fixes, run->n_fixes, sizeof(*run->fixes));
	run->fixes[run->n_fixes++] =
		(struct line_fix){ o->file, o->line, off, len, xstrdup(text), comment, finding };
}

static char *occ_text(const struct sshd_run *run, const struct sshd_occurrence *o)
{
	return xstrndup(run->cfg->files[o->file].data + o->line_off, o->line_len);
}

static const char *occ_path(const struct sshd_run *run, const struct sshd_occurrence *o)
{
	return run->cfg->files[o->file].path;
}

static struct finding *occ_finding(struct sshd_run *run, const struct sshd_occurrence *o,
				   long *index, const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static struct finding *occ_finding(struct sshd_run *run, const struct sshd_occurrence *o,
				   long *index, const char *fmt, ...)
{
	_cleanup_free_ char *text = occ_text(run, o);
	va_list ap;
	va_start(ap, fmt);
	_cleanup_free_ char *problem = xvasprintf(fmt, ap);
	va_end(ap);
	*index = (long)run->res->n_findings;
	return policy_add_finding(run->res, occ_path(run, o), o->line, text, "%s", problem);
}

/* A global occurrence: read at start-up in any release (outside Match, or in "Match all"). */
static bool occ_global(const struct sshd_run *run, const struct sshd_occurrence *o)
{
	return o->match < 0 || sshd_match_active(run->cfg, o->match, SSHD_VERSION_UNKNOWN);
}

/* A line to put first in sshd_config, for the finding added next (its backup is set when the
 * file is written). */
static void insert_top_line(struct sshd_run *run, char *line)
{
	char *old = run->insert_top;
	run->insert_top = xasprintf("%s%s", old ? old : "", line);
	free(old);
	free(line);
	run->insert_finding[run->n_insert++] = (long)run->res->n_findings;
}

/* When a valid (PerSource)MaxStartups value below the minimum drops the owner's connections
 * (sshd.c should_drop_connection(), srclimit.c srclimit_check_allow()). */
static char *startups_condition(bool per_source, long start, const struct sshd_max_startups *m)
{
	static const char dropped[] =
		"the owner sees \"kex_exchange_identification: Connection closed by remote host\"";
	if (per_source && start == 0)
		return xasprintf("sshd drops every connection before the banner (no source may "
				 "have an unauthenticated connection); %s",
				 dropped);
	if (per_source)
		return xasprintf("when %ld unauthenticated connection%s from one source network "
				 "(PerSourceNetBlockSize) %s open (a deploy tool opening sessions "
				 "in parallel, several users behind one NAT), sshd drops new ones "
				 "from there before the banner, and %s",
				 start, start == 1 ? "" : "s", start == 1 ? "is" : "are", dropped);
	if (m->rate < 0 || m->rate == 100 || m->start == m->full)
		return xasprintf("when %d other unauthenticated connection%s %s open (a port scan, "
				 "a password-guessing run, several sessions starting at once), sshd "
				 "drops new connections before the banner, and %s",
				 m->start, m->start == 1 ? "" : "s", m->start == 1 ? "is" : "are",
				 dropped);
	return xasprintf("when %d other unauthenticated connection%s %s open (a port scan, a "
			 "password-guessing run, several sessions starting at once), sshd drops "
			 "%d%% of new connections before the banner, and every one from %d; %s",
			 m->start, m->start == 1 ? "" : "s", m->start == 1 ? "is" : "are", m->rate,
			 m->full, dropped);
}

/* MaxStartups or PerSourceMaxStartups: comment out occurrences in Match blocks (fatal to
 * sshd), replace malformed ones, and make the first and the last global occurrence safe,
 * since first-wins and last-wins releases read one or the other. */
static void plan_startups(struct sshd_run *run, const char *keyword, const char *good,
			  unsigned long min)
{
	bool per_source = strcmp(keyword, "persourcemaxstartups") == 0;
	const char *name = per_source ? "PerSourceMaxStartups" : "MaxStartups";
	long first = -1, last = -1;
	for (long i = sshd_config_next(run->cfg, keyword, -1); i >= 0;
	     i = sshd_config_next(run->cfg, keyword, i)) {
		const struct sshd_occurrence *o = &run->cfg->occ[i];
		if (!occ_global(run, o)) {
			long fi;
			struct finding *f = occ_finding(
				run, o, &fi,
				"%s inside a Match block (\"Match %s\"): sshd refuses to start with it",
				name, run->cfg->matches[o->match].criteria);
			f->fixed = run->ctx->repair;
			finding_set_action(f, "%s the line", run->ctx->repair ? "commented out"
									     : "would comment out");
			_cleanup_free_ char *prefix = xasprintf("# sshrescue %s: ", run->ctx->run_id);
			plan_fix(run, o, o->line_off, 0, prefix, true, fi);
			continue;
		}
		if (first < 0)
			first = i;
		last = i;
		bool bad = o->args.n != 1;
		if (!bad) {
			if (per_source) {
				int v;
				bad = sshd_per_source_max_startups_parse(o->args.v[0], &v) < 0;
			} else {
				struct sshd_max_startups m;
				bad = sshd_max_startups_parse(o->args.v[0], &m) < 0;
			}
		}
		if (bad) {
			long fi;
			_cleanup_free_ char *arg = xstrndup(run->cfg->files[o->file].data + o->args_off,
							    o->args_len);
			struct finding *f = occ_finding(run, o, &fi,
							"%s \"%s\" is malformed: sshd refuses to start",
							name, arg);
			f->fixed = run->ctx->repair;
			finding_set_action(f, "%s to %s", run->ctx->repair ? "set" : "would set", good);
			_cleanup_free_ char *text =
				o->args_len ? xstrdup(good) : xasprintf("%s ", good);
			plan_fix(run, o, o->args_off, o->args_len, text, false, fi);
		}
	}
	long ends[2] = { first, last };
	for (int k = 0; k < 2; k++) {
		if (ends[k] < 0 || (k == 1 && ends[1] == ends[0]))
			continue;
		const struct sshd_occurrence *o = &run->cfg->occ[ends[k]];
		if (o->args.n != 1)
			continue; /* malformed: planned above */
		long start;
		struct sshd_max_startups m = { 0, -1, 0 };
		if (per_source) {
			int v;
			if (sshd_per_source_max_startups_parse(o->args.v[0], &v) < 0)
				continue; /* planned above */
			start = v;
		} else {
			if (sshd_max_startups_parse(o->args.v[0], &m) < 0)
				continue;
			start = m.start;
		}
		if ((unsigned long)start >= min)
			continue;
		long fi;
		_cleanup_free_ char *when = startups_condition(per_source, start, &m);
		struct finding *f =
			occ_finding(run, o, &fi, "%s %s: %s; below the minimum %lu", name,
				    o->args.v[0], when, min);
		/* sshd lets a lone client in under any valid MaxStartups (it counts the other
		 * unauthenticated connections, from 0); only PerSourceMaxStartups 0 refuses every
		 * connection (srclimit.c: count >= max_persource) */
		f->severity = per_source && start == 0 ? SEVERITY_LOCKOUT : SEVERITY_RISK;
		f->fixed = run->ctx->repair;
		finding_set_action(f, "%s to %s (the %s occurrence, read by %s-wins releases)",
				   run->ctx->repair ? "set" : "would set", good,
				   k == 0 ? "first" : "last", k == 0 ? "first" : "last");
		plan_fix(run, o, o->args_off, o->args_len, good, false, fi);
	}
	if (!per_source && first < 0 && 10 < min) {
		/* Nothing sets it and the default 10:30:100 is below the minimum. */
		insert_top_line(run, xasprintf("MaxStartups %s\n", good));
		struct finding *f = policy_add_risk(
			run->res, SSHD_CONFIG, 1, NULL,
			"MaxStartups is not set, and sshd's default 10:30:100 is below the minimum %lu: "
			"when 10 other unauthenticated connections are open (a port scan, a "
			"password-guessing run), sshd drops 30%% of new connections before the "
			"banner, and every one from 100",
			min);
		f->fixed = run->ctx->repair;
		finding_set_action(f, "%s \"MaxStartups %s\" as the first line",
				   run->ctx->repair ? "added" : "would add", good);
	}
}

/* ---- PerSourcePenalties (OpenSSH 9.8+) ------------------------------------------------- */

/* Times above these shut a source out for long after one mistake (OpenSSH's defaults:
 * authfail:5 noauth:1 max:600): an owner behind a shared NAT address, or a client that
 * retries, is refused before the banner. */
#define PENALTY_STRICT_EVENT 60
#define PENALTY_STRICT_MAX 3600

/* The effective PerSourcePenalties, what is over-strict in it, and PerSourcePenaltyExemptList
 * made to hold every protected network, where the instance's sshd knows the keyword (an older
 * one refuses it). sshd takes the first exempt list it reads (servconf.c: `*charptr == NULL`
 * in 9.8 to 10.x): the repair merges into that line, or puts one first in sshd_config. With
 * `protect` empty there is no network to name, and exempting every source would turn the
 * feature off: the penalties themselves live in sshd's memory and end with its restart. */
static const char *penalty_strict_action(const struct sshd_run *run, bool exempt_done)
{
	if (exempt_done)
		return "kept: the protected networks are exempt";
	if (run->ctx->cfg->protect.n && !run->ctx->repair)
		return "would keep: the protected networks would be exempt";
	return "none: name the owner's networks in [agent] protect to exempt them";
}

static void plan_penalties(struct sshd_run *run)
{
	const struct cidr_list *protect = &run->ctx->cfg->protect;
	if (!sshd_keyword_known("persourcepenaltyexemptlist", run->version))
		return;
	struct sshd_penalties pen;
	long bad;
	if (sshd_config_penalties(run->cfg, run->version, &pen, &bad) < 0) {
		const struct sshd_occurrence *o = &run->cfg->occ[bad];
		long fi;
		occ_finding(run, o, &fi, "PerSourcePenalties is malformed: sshd refuses to start");
		return;
	}
	if (!pen.enabled)
		return;
	bool exempt_done = false, exempt_before = false;
	long decider = -1;
	for (long i = sshd_config_next(run->cfg, "persourcepenaltyexemptlist", -1); i >= 0;
	     i = sshd_config_next(run->cfg, "persourcepenaltyexemptlist", i)) {
		const struct sshd_occurrence *o = &run->cfg->occ[i];
		if (occ_global(run, o)) {
			if (decider < 0)
				decider = i;
			continue;
		}
		if (sshd_occurrence_active(run->cfg, o, run->version))
			continue;
		long fi;
		struct finding *f = occ_finding(
			run, o, &fi,
			"PerSourcePenaltyExemptList inside a Match block (\"Match %s\"): sshd refuses "
			"to start with it",
			run->cfg->matches[o->match].criteria);
		f->fixed = run->ctx->repair;
		finding_set_action(f, "%s the line",
				   run->ctx->repair ? "commented out" : "would comment out");
		_cleanup_free_ char *prefix = xasprintf("# sshrescue %s: ", run->ctx->run_id);
		plan_fix(run, o, o->line_off, 0, prefix, true, fi);
	}
	if (protect->n) {
		const struct sshd_occurrence *o = decider >= 0 ? &run->cfg->occ[decider] : NULL;
		const char *cur = o && o->args.n ? o->args.v[0] : NULL;
		_cleanup_free_ char *merged = sshd_exempt_list_merge(cur, protect);
		exempt_done = exempt_before = merged == NULL;
		if (merged && o) {
			long fi;
			struct finding *f = occ_finding(
				run, o, &fi,
				"PerSourcePenaltyExemptList %s leaves protected networks open to "
				"PerSourcePenalties: a penalised source is dropped before the banner",
				cur ? cur : "");
			f->fixed = run->ctx->repair;
			finding_set_action(f, "%s to %s", run->ctx->repair ? "set" : "would set",
					   merged);
			plan_fix(run, o, o->args_off, o->args_len, merged, false, fi);
			exempt_done = run->exempt_edit = run->ctx->repair;
		} else if (merged && run->no_config) {
			policy_add_finding(run->res, SSHD_CONFIG, 0, NULL,
					   "PerSourcePenalties is on and there is no %s to name the "
					   "protected networks in PerSourcePenaltyExemptList",
					   SSHD_CONFIG);
		} else if (merged) {
			insert_top_line(run, xasprintf("PerSourcePenaltyExemptList %s\n", merged));
			struct finding *f = policy_add_finding(
				run->res, SSHD_CONFIG, 1, NULL,
				"PerSourcePenalties is on (OpenSSH %u.%u's default) and no "
				"PerSourcePenaltyExemptList names the protected networks: a source "
				"penalised for failed or absent logins (a shared NAT address) is dropped "
				"before the banner",
				run->version / 100, run->version % 100);
			f->fixed = run->ctx->repair;
			finding_set_action(f, "%s \"PerSourcePenaltyExemptList %s\" as the first line",
					   run->ctx->repair ? "added" : "would add", merged);
			exempt_done = run->exempt_edit = run->ctx->repair;
		}
	}
	/* Over-strict settings: reported; once the protected networks are exempt they no
	 * longer lock the owner out, and the rest is the admin's choice: on a config that
	 * exempted them before this run they are a note, not a problem (a second repair finds
	 * nothing to do). */
	static const char *const names[7] = { "crash", "authfail", "noauth", "grace-exceeded",
					      "refuseconnection", "max", "min" };
	const long vals[7] = { pen.crash, pen.authfail, pen.noauth, pen.grace,
			       pen.refuseconnection, pen.max, pen.min };
	for (size_t k = 1; k < 6; k++) {
		long limit = k == 5 ? PENALTY_STRICT_MAX : PENALTY_STRICT_EVENT;
		if (vals[k] <= limit || pen.decider[k] < 0)
			continue;
		if (exempt_before) {
			buf_printf(&run->strict, "%s%s:%ld", run->strict.len ? " " : "", names[k],
				   vals[k]);
			continue;
		}
		long fi;
		struct finding *f = occ_finding(
			run, &run->cfg->occ[pen.decider[k]], &fi,
			"PerSourcePenalties %s:%ld is over-strict (over %ld s): %s",
			names[k], vals[k], limit,
			k == 5 ? "a penalised source may be refused before the banner for that long"
			       : "one such event refuses its source before the banner");
		f->fixed = exempt_done;
		finding_set_action(f, "%s", penalty_strict_action(run, exempt_done));
	}
	if (pen.overflow_deny_all || pen.overflow6_deny_all) {
		long first = sshd_config_next(run->cfg, "persourcepenalties", -1);
		long fi;
		if (exempt_before) {
			buf_printf(&run->strict, "%soverflow:deny-all", run->strict.len ? " " : "");
			return;
		}
		struct finding *f = occ_finding(
			run, &run->cfg->occ[first], &fi,
			"PerSourcePenalties overflow%s:deny-all refuses every source once the penalty "
			"table is full", pen.overflow_deny_all ? "" : "6");
		f->fixed = exempt_done;
		finding_set_action(f, "%s", penalty_strict_action(run, exempt_done));
	}
}

static int cmp_fix(const void *a, const void *b)
{
	const struct line_fix *x = a, *y = b;
	if (x->file != y->file)
		return x->file < y->file ? -1 : 1;
	return x->off < y->off ? -1 : x->off > y->off;
}

struct out_buf {
	struct buf b;
};
static int out_collect(void *arg, const void *p, size_t n)
{
	buf_append(&((struct out_buf *)arg)->b, p, n);
	return 0;
}

/* Apply the planned line changes, one root_replace per file. */
static int apply_fixes(struct sshd_run *run, struct file_edits **out, size_t *n_out)
{
	*out = NULL;
	*n_out = 0;
	if (run->n_fixes > 1)
		qsort(run->fixes, run->n_fixes, sizeof(*run->fixes), cmp_fix);
	bool need_top = run->insert_top != NULL;
	struct file_edits *fe = NULL;
	size_t n = 0;
	for (size_t i = 0; i < run->n_fixes || need_top; i++) {
		size_t file = i < run->n_fixes ? run->fixes[i].file : 0;
		if (!n || fe[n - 1].file != file) {
			fe = xgrow(fe, n, sizeof(*fe));
			memset(&fe[n], 0, sizeof(fe[n]));
			fe[n].file = file;
			n++;
			if (file == 0 && need_top) {
				edits_add(&fe[n - 1].e, 0, 0, run->insert_top, strlen(run->insert_top));
				need_top = false;
			}
		}
		if (i >= run->n_fixes)
			break;
		struct line_fix *f = &run->fixes[i];
		struct file_edits *cur = &fe[n - 1];
		edits_add(&cur->e, f->off, f->len, f->text, strlen(f->text));
		cur->lines = xgrow(cur->lines, cur->n_lines, sizeof(*cur->lines));
		cur->finding = xgrow(cur->finding, cur->n_lines, sizeof(*cur->finding));
		cur->lines[cur->n_lines] = f->line;
		cur->finding[cur->n_lines++] = f->finding;
	}
	int rc = 0;
	for (size_t i = 0; i < n; i++) {
		const struct sshd_file *sf = &run->cfg->files[fe[i].file];
		struct out_buf ob = { { 0 } };
		edits_apply(sf->data, sf->len, &fe[i].e, out_collect, &ob);
		fe[i].new_data = ob.b.data ? ob.b.data : xstrdup("");
		fe[i].new_len = ob.b.len;
		char *backup = NULL;
		int r = root_replace(run->ctx->root, sf->path, sf->data, sf->len, &fe[i].e, &backup);
		if (r < 0) {
			struct finding *f = policy_add_finding(run->res, sf->path, 0, NULL,
							       "could not write the file: %s",
							       strerror(-r));
			f->error = true;
			for (size_t k = 0; k < fe[i].n_lines; k++) {
				/* the edit did not happen: its action must not say it did */
				struct finding *lf = &run->res->findings[fe[i].finding[k]];
				_cleanup_free_ char *was = lf->action;
				lf->action = NULL;
				finding_set_action(lf, "not done (%s could not be written): %s",
						   sf->path, was ? was : "the edit");
				lf->fixed = false;
			}
			rc = r;
			continue;
		}
		fe[i].written = true;
		for (size_t k = 0; k < fe[i].n_lines; k++) {
			struct finding *f = &run->res->findings[fe[i].finding[k]];
			free(f->backup);
			f->backup = backup ? xstrdup(backup) : NULL;
		}
		for (size_t k = 0; fe[i].file == 0 && k < run->n_insert; k++) {
			struct finding *f = &run->res->findings[run->insert_finding[k]];
			free(f->backup);
			f->backup = backup ? xstrdup(backup) : NULL;
		}
		free(backup);
	}
	*out = fe;
	*n_out = n;
	return rc;
}

static void file_edits_free(struct file_edits *fe, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		edits_free(&fe[i].e);
		free(fe[i].lines);
		free(fe[i].finding);
		free(fe[i].new_data);
	}
	free(fe);
}

/* ---- host keys ------------------------------------------------------------------------ */

/* The gid of group `name` in the instance's /etc/group, read by the C library's own reader of
 * the format (fgetgrent(3), glibc's and musl's) over the file as root.c read it: 0, -ENOENT
 * when the file or the group is absent. */
static int instance_gid(struct root *r, const char *name, gid_t *gid)
{
	_cleanup_free_ char *data = NULL;
	size_t len;
	int rc = root_read_file(r, "/etc/group", ROOT_MAX_CONFIG, &data, &len);
	if (rc < 0)
		return rc;
	if (len == 0)
		return -ENOENT;
	_cleanup_fclose_ FILE *f = fmemopen(data, len, "r");
	if (!f)
		return -errno;
	rc = -ENOENT;
	for (struct group *gr; (gr = fgetgrent(f));) {
		if (strcmp(gr->gr_name, name) == 0) {
			*gid = gr->gr_gid;
			rc = 0;
			break;
		}
	}
	return rc;
}

static const char *key_type_of(const char *path)
{
	const char *base = strrchr(path, '/');
	base = base ? base + 1 : path;
	if (strstr(base, "ed25519"))
		return "ed25519";
	if (strstr(base, "ecdsa"))
		return "ecdsa";
	if (strstr(base, "rsa"))
		return "rsa";
	return "ed25519";
}

/* Generate a key with the instance's ssh-keygen in the sandbox, into its private scratch
 * directory (the sandbox never writes to the instance); root.c installs what it made. */
#define KEYGEN_DIR "/run/sshrescue-keygen"
static int keygen_one(struct sshd_run *run, const char *path, char **err)
{
	struct root *r = run->ctx->root;
	_cleanup_free_ char *hostname = NULL;
	size_t hl;
	if (root_read_file(r, "/etc/hostname", 4096, &hostname, &hl) == 0)
		hostname[strcspn(hostname, " \t\r\n")] = '\0';
	_cleanup_free_ char *comment =
		xasprintf("root@%s", hostname && *hostname ? hostname : "localhost");
	char *argv[] = { SSH_KEYGEN, "-q", "-t", (char *)key_type_of(path), "-N", "", "-C",
			 comment, "-f", "key", NULL };
	static const char *const names[] = { "key", "key.pub", NULL };
	struct buf taken[2] = { { 0 }, { 0 } };
	struct child_result cr = { 0 };
	int rc = run_in_root(r, KEYGEN_DIR, argv, KEYGEN_DIR, names, taken, &cr);
	if (rc == 0 && (!cr.ran || cr.status != 0)) {
		*err = cr.ran ? xasprintf("ssh-keygen failed: %s", cr.output)
			      : xasprintf("the instance's " SSH_KEYGEN " %s", cr.why_not);
		rc = -ENOEXEC;
	}
	child_result_free(&cr);
	if (rc == 0 && (!taken[0].len || !taken[1].len)) {
		*err = xasprintf("ssh-keygen made no key");
		rc = -EIO;
	}
	if (rc == 0) {
		rc = root_write_file(r, path, taken[0].data, taken[0].len, 0600, NULL);
		_cleanup_free_ char *pub = xasprintf("%s.pub", path);
		struct stat st;
		if (rc == 0 && root_stat(r, pub, &st) == -ENOENT)
			rc = root_write_file(r, pub, taken[1].data, taken[1].len, 0644, NULL);
		if (rc < 0)
			*err = xasprintf("writing %s: %s", path, strerror(-rc));
	}
	buf_free(&taken[0]);
	buf_free(&taken[1]);
	return rc;
}

/* A private key is a few KiB; OpenSSH refuses key files over 1 MiB (MAX_KEY_FILE_SIZE before
 * 8.3) or 128 MiB (SSHBUF_SIZE_MAX since). */
#define MAX_HOST_KEY (1u << 20)

static const char *file_kind(mode_t m)
{
	return S_ISDIR(m)    ? "a directory"
	       : S_ISFIFO(m) ? "a FIFO"
	       : S_ISSOCK(m) ? "a socket"
	       : S_ISCHR(m)  ? "a character device"
	       : S_ISBLK(m)  ? "a block device"
			     : "not a regular file";
}

#define NEW_HOST_KEY SSHD_SSHDIR "/ssh_host_ed25519_key"

/* Is the regular file at path a DSA private key (which OpenSSH 10.0 cannot load, and 9.8 and
 * 9.9 only when built with --enable-dsa-keys)? */
static bool is_dsa_key(struct root *r, const char *path)
{
	_cleanup_free_ char *data = NULL;
	size_t len;
	char type[64];
	return root_read_file(r, path, MAX_HOST_KEY, &data, &len) == 0 &&
	       sshkey_private_type(data, len, type, sizeof(type)) == 0 && !strcmp(type, "ssh-dss");
}

/* A HostKey set that names only DSA keys leaves an sshd without DSA no key at all, and no
 * missing path for ssh-keygen to fill: plan an Ed25519 key (every release since 6.5 loads it)
 * and, when HostKey lines decide, a HostKey line for it first in sshd_config. */
static void plan_dsa_only(struct sshd_run *run)
{
	if (run->dsa_ok)
		return;
	struct root *r = run->ctx->root;
	struct strv keys = { 0 };
	bool defaults;
	sshd_config_host_keys(run->cfg, run->version, &keys, &defaults);
	size_t dsa = 0, other = 0;
	for (size_t i = 0; i < keys.n; i++) {
		struct stat st;
		int rc = root_stat(r, keys.v[i], &st);
		if (rc == -ENOENT || (rc == 0 && S_ISREG(st.st_mode) && st.st_size == 0))
			other++; /* missing or empty: generated as before */
		else if (rc == 0 && S_ISREG(st.st_mode) && is_dsa_key(r, keys.v[i]))
			dsa++;
		else
			other++;
	}
	if (dsa && !other && !strv_contains(&keys, NEW_HOST_KEY)) {
		run->extra_key = xstrdup(NEW_HOST_KEY);
		if (!defaults) {
			insert_top_line(run, xstrdup("HostKey " NEW_HOST_KEY "\n"));
			struct finding *f = policy_add_finding(
				run->res, SSHD_CONFIG, 1, NULL,
				"every HostKey is a DSA key, which this sshd (OpenSSH %u.%u) does not "
				"load: it has no host key",
				run->version / 100, run->version % 100);
			f->fixed = run->ctx->repair;
			finding_set_action(f, "%s \"HostKey %s\" as the first line",
					   run->ctx->repair ? "added" : "would add", NEW_HOST_KEY);
		}
	}
	strv_free(&keys);
}

/* Host keys: each one sshd cannot load is a finding (stat only: a FIFO or a device is never
 * opened), loose modes are fixed, and when none is usable and the instance has its sshd, the
 * missing ones are generated. */
static void check_host_keys(struct sshd_run *run, bool have_sshd)
{
	struct root *r = run->ctx->root;
	struct strv keys = { 0 };
	bool defaults;
	sshd_config_host_keys(run->cfg, run->version, &keys, &defaults);
	if (run->extra_key && !strv_contains(&keys, run->extra_key))
		strv_push(&keys, run->extra_key);
	gid_t ssh_keys_gid = 0;
	bool have_ssh_keys = instance_gid(r, "ssh_keys", &ssh_keys_gid) == 0;
	size_t usable = 0, usable_as_is = 0;
	size_t first_finding = run->res->n_findings;
	struct strv missing = { 0 }, dsa = { 0 };
	for (size_t i = 0; i < keys.n; i++) {
		const char *k = keys.v[i];
		struct stat st;
		int rc = root_stat(r, k, &st);
		if (rc == -ENOENT) {
			strv_push(&missing, k);
			continue;
		}
		if (rc < 0 || !S_ISREG(st.st_mode) || st.st_size == 0) {
			policy_add_finding(run->res, k, 0, NULL, "host key %s is %s: sshd cannot load it",
					   k,
					   rc < 0		   ? strerror(-rc)
					   : !S_ISREG(st.st_mode) ? file_kind(st.st_mode)
								  : "empty");
			if (rc == 0 && S_ISREG(st.st_mode))
				strv_push(&missing, k); /* empty: ssh-keygen may replace it */
			continue;
		}
		if (st.st_size > MAX_HOST_KEY) {
			policy_add_finding(run->res, k, 0, NULL,
					   "host key %s is %jd bytes, not a key (a private key is a few "
					   "KiB): sshd cannot load it",
					   k, (intmax_t)st.st_size);
			continue;
		}
		if (!run->dsa_ok && is_dsa_key(r, k)) {
			strv_push(&dsa, k); /* skipped by sshd: "unsupported key type" */
			continue;
		}
		bool group_ok = have_ssh_keys && st.st_gid == ssh_keys_gid;
		mode_t want = group_ok ? 0640 : 0600;
		mode_t perm = st.st_mode & 07777;
		bool bad_mode = group_ok ? (perm & 0137) != 0 : (perm & 0177) != 0;
		bool bad_owner = st.st_uid != 0;
		if (!bad_mode && !bad_owner) {
			usable++;
			usable_as_is++;
			continue;
		}
		struct finding *f;
		if (bad_owner)
			f = policy_add_finding(run->res, k, 0, NULL,
					       "host key %s is owned by uid %u (mode %04o): a host key "
					       "must be root's and readable by root alone",
					       k, (unsigned)st.st_uid, (unsigned)perm);
		else
			f = policy_add_finding(run->res, k, 0, NULL,
					       "host key %s has mode %04o: sshd ignores a private key "
					       "that others can read (\"UNPROTECTED PRIVATE KEY FILE\")",
					       k, (unsigned)perm);
		if (!run->ctx->repair) {
			finding_set_action(f, "would set owner root and mode %04o", (unsigned)want);
			continue;
		}
		rc = root_set_mode(r, k, bad_owner ? 0 : (uid_t)-1, (gid_t)-1, want);
		if (rc < 0) {
			finding_set_action(f, "setting mode %04o failed: %s", (unsigned)want,
					   strerror(-rc));
			f->error = true;
			continue;
		}
		finding_set_action(f, "set owner root and mode %04o", (unsigned)want);
		f->fixed = true;
		usable++;
	}
	/* With another key usable sshd starts: a client that knows only the lost key's type is
	 * asked to trust a new key (and one in batch mode refuses it), the others get in. */
	if (usable_as_is > 0) {
		for (size_t i = first_finding; i < run->res->n_findings; i++) {
			struct finding *f = &run->res->findings[i];
			if (f->error)
				continue;
			f->severity = SEVERITY_RISK;
			char *p = xasprintf("%s; sshd starts with its other keys, but a client that "
					    "knows only this key's type asks to trust a new key, and "
					    "one in batch mode (StrictHostKeyChecking) refuses",
					    f->problem);
			free(f->problem);
			f->problem = p;
		}
	}
	if (usable == 0 && have_sshd) {
		struct finding *f = policy_add_finding(
			run->res, keys.n ? keys.v[0] : NULL, 0, NULL,
			"no usable host key (%s%s%s%s): sshd exits with \"no hostkeys available\"",
			defaults ? "sshd's default keys under " SSHD_SSHDIR : "HostKey files",
			missing.n ? ", missing" : "",
			dsa.n ? ", DSA keys this sshd does not load: " : "", dsa.n ? dsa.v[0] : "");
		if (!run->ctx->repair) {
			finding_set_action(f, "would generate %zu key(s) with the instance's "
					      "ssh-keygen",
					   missing.n);
		} else if (missing.n == 0) {
			finding_set_action(f, "none generated: no key path is free to write");
		} else {
			size_t made = 0;
			struct buf errs = { 0 };
			for (size_t i = 0; i < missing.n; i++) {
				char *err = NULL;
				if (keygen_one(run, missing.v[i], &err) == 0)
					made++;
				else
					buf_printf(&errs, "%s%s: %s", errs.len ? "; " : "",
						   missing.v[i], err ? err : "failed");
				free(err);
			}
			if (made)
				f->fixed = true;
			finding_set_action(f, "generated %zu of %zu with the instance's ssh-keygen%s%s",
					   made, missing.n, errs.len ? ": " : "",
					   errs.len ? errs.data : "");
			buf_free(&errs);
		}
	}
	strv_free(&missing);
	strv_free(&dsa);
	strv_free(&keys);
}

/* ---- privilege separation directory --------------------------------------------------- */

/* The directory the instance's sshd was built with (_PATH_PRIVSEP_CHROOT_DIR), read from its
 * binary; NULL when it names none we know. */
static const char *privsep_dir(const char *bin, size_t len)
{
	static const char *const dirs[] = { "/run/sshd", "/var/run/sshd", "/var/empty/sshd",
					    "/usr/share/empty.sshd", "/var/lib/empty",
					    "/var/empty" };
	for (size_t i = 0; bin && i < ARRAY_SIZE(dirs); i++) {
		char pat[64];
		size_t n = (size_t)snprintf(pat, sizeof(pat), "%c%s", '\0', dirs[i]) + 1;
		if (memmem(bin, len, pat, n))
			return dirs[i];
	}
	return NULL;
}

static void check_privsep(struct sshd_run *run, const char *dir)
{
	if (!dir || strncmp(dir, "/run/", 5) == 0 || strncmp(dir, "/var/run/", 9) == 0)
		return; /* made at boot on a tmpfs */
	struct root *r = run->ctx->root;
	struct stat st;
	int rc = root_stat(r, dir, &st);
	if (rc == 0 && S_ISDIR(st.st_mode) && st.st_uid == 0 && !(st.st_mode & 022))
		return;
	struct finding *f;
	if (rc == -ENOENT)
		f = policy_add_finding(run->res, dir, 0, NULL,
				       "sshd's privilege separation directory %s is missing: sshd "
				       "exits (\"Missing privilege separation directory\")",
				       dir);
	else if (rc < 0 || !S_ISDIR(st.st_mode))
		f = policy_add_finding(run->res, dir, 0, NULL,
				       "%s is not a directory: sshd exits", dir);
	else
		f = policy_add_finding(run->res, dir, 0, NULL,
				       "%s is owned by uid %u with mode %04o: sshd exits unless it "
				       "is root's and not group or world writable",
				       dir, (unsigned)st.st_uid, (unsigned)(st.st_mode & 07777));
	if (!run->ctx->repair) {
		finding_set_action(f, "would make it a root-owned directory, mode 0755");
		return;
	}
	if (rc == -ENOENT)
		rc = root_mkdir(r, dir, 0755);
	else if (rc == 0 && S_ISDIR(st.st_mode))
		rc = root_set_mode(r, dir, 0, (gid_t)-1, (st.st_mode & 07777) & ~(mode_t)022);
	else
		rc = -ENOTDIR;
	if (rc < 0) {
		finding_set_action(f, "not repaired: %s", strerror(-rc));
		return;
	}
	finding_set_action(f, "made it a root-owned directory that only root can write");
	f->fixed = true;
}

/* ---- validation ----------------------------------------------------------------------- */

/* "FILE line N:" in sshd's message: which file and line it names. */
static bool message_location(const char *msg, char **file, unsigned *line)
{
	const char *p = strstr(msg, " line ");
	if (!p)
		return false;
	const char *start = p;
	while (start > msg && start[-1] != ' ' && start[-1] != '\n')
		start--;
	unsigned long v;
	char num[16];
	size_t n = strspn(p + 6, "0123456789");
	if (!n || n >= sizeof(num))
		return false;
	memcpy(num, p + 6, n);
	num[n] = '\0';
	if (parse_uint(num, 1, UINT_MAX, &v) < 0)
		return false;
	*file = xstrndup(start, (size_t)(p - start));
	*line = (unsigned)v;
	return true;
}

static int sshd_test(struct sshd_run *run, struct child_result *cr)
{
	char *argv[] = { SSHD_BINARY, "-t", NULL };
	return run_in_root(run->ctx->root, NULL, argv, NULL, NULL, NULL, cr);
}

static void validate(struct sshd_run *run, struct child_result *before, struct file_edits *fe,
		     size_t n_fe)
{
	struct child_result after = { 0 };
	if (sshd_test(run, &after) < 0 || !after.ran)
		goto out;
	for (int round = 0; after.status != 0 && round < 8; round++) {
		_cleanup_free_ char *msg = first_message(after.output);
		_cleanup_free_ char *file = NULL;
		unsigned line = 0;
		bool ours = false;
		if (message_location(msg, &file, &line)) {
			/* Our first lines shift the main file's lines. */
			if (strcmp(file, SSHD_CONFIG) == 0 && line > run->n_insert)
				line -= (unsigned)run->n_insert;
			for (size_t i = 0; i < n_fe && !ours; i++) {
				if (!fe[i].written || strcmp(run->cfg->files[fe[i].file].path, file))
					continue;
				for (size_t k = 0; k < fe[i].n_lines; k++) {
					if (fe[i].lines[k] != line)
						continue;
					ours = true;
				}
				if (!ours)
					continue;
				/* Put the file back as it was and say why. */
				const struct sshd_file *sf = &run->cfg->files[fe[i].file];
				struct edits back = { 0 };
				edits_add(&back, 0, fe[i].new_len, sf->data, sf->len);
				int rc = root_replace(run->ctx->root, sf->path, fe[i].new_data,
						      fe[i].new_len, &back, NULL);
				edits_free(&back);
				fe[i].written = false;
				for (size_t k = 0; k < fe[i].n_lines; k++) {
					struct finding *f = &run->res->findings[fe[i].finding[k]];
					f->fixed = false;
					finding_set_action(f, "edit %s: sshd -t refused it: %s",
							   rc < 0 ? "could not be rolled back"
								  : "rolled back",
							   msg);
				}
			}
		}
		if (!ours) {
			bool same = before && before->ran && before->status != 0 &&
				    strstr(before->output, msg);
			struct finding *f = policy_add_finding(
				run->res, file, line, NULL, "sshd -t %s: %s",
				same ? "fails before any edit" : "fails after the repair", msg);
			(void)f;
			break;
		}
		child_result_free(&after);
		if (sshd_test(run, &after) < 0 || !after.ran)
			goto out;
	}
out:
	child_result_free(&after);
}

/* ---- live: penalties live in sshd's memory --------------------------------------------- */

/* On the running system, a source penalised already stays refused until sshd forgets it: a
 * SIGHUP makes sshd execute itself again with the repaired configuration and an empty penalty
 * table. Only after `sshd -t` passed on the files as written (a reload with a configuration
 * sshd refuses would end it), and only to the process the pid file names when it is sshd. */
static void live_reload(struct sshd_run *run, bool tested_ok)
{
	struct root *r = run->ctx->root;
	long po = sshd_config_decider(run->cfg, "pidfile", run->version);
	const char *pidfile = po >= 0 && run->cfg->occ[po].args.n ? run->cfg->occ[po].args.v[0]
								 : "/run/sshd.pid";
	_cleanup_free_ char *data = NULL;
	size_t len;
	unsigned long pid = 0;
	struct finding *f = policy_add_finding(run->res, pidfile, 0, NULL,
					       "sshd holds the penalties of sources it already "
					       "refuses in memory until it reloads");
	if (!tested_ok) {
		finding_set_action(f, "not reloaded: sshd -t could not confirm the configuration");
		return;
	}
	if (root_read_file(r, pidfile, 64, &data, &len) < 0 ||
	    parse_uint(strstrip(data), 2, INT_MAX, &pid) < 0) {
		finding_set_action(f, "not reloaded: no running sshd (no pid in %s)", pidfile);
		f->fixed = true; /* nothing runs: nothing is held */
		return;
	}
	char comm_path[64], comm[32] = "";
	snprintf(comm_path, sizeof(comm_path), "/proc/%lu/comm", pid);
	_cleanup_close_ int fd = open(comm_path, O_RDONLY | O_CLOEXEC);
	ssize_t k = fd >= 0 ? read(fd, comm, sizeof(comm) - 1) : -1;
	if (k > 0)
		comm[k] = '\0';
	comm[strcspn(comm, "\n")] = '\0';
	if (strcmp(comm, "sshd") != 0) {
		finding_set_action(f, "not reloaded: pid %lu of %s is not sshd", pid, pidfile);
		f->fixed = true;
		return;
	}
	if (kill((pid_t)pid, SIGHUP) < 0) {
		finding_set_action(f, "reload of sshd (pid %lu) failed: %s", pid, strerror(errno));
		return;
	}
	finding_set_action(f, "reloaded sshd (pid %lu, SIGHUP): its penalty table is empty", pid);
	f->fixed = true;
}

/* ---- the policy ----------------------------------------------------------------------- */

static bool sshd_enabled(const struct config *cfg)
{
	return cfg->sshd_enabled;
}

/* The parser's errors, each once (an Include loop repeats the same line's error at every
 * level), at most MAX_ERRORS_SHOWN of them: sshd itself stops at the first. */
#define MAX_ERRORS_SHOWN 32
static void report_errors(struct sshd_run *run)
{
	const struct sshd_error *shown[MAX_ERRORS_SHOWN];
	size_t n_shown = 0, more = 0;
	for (size_t i = 0; i < run->cfg->n_errors; i++) {
		const struct sshd_error *e = &run->cfg->errors[i];
		bool dup = false;
		for (size_t k = 0; k < n_shown && !dup; k++)
			dup = shown[k]->file == e->file && shown[k]->line == e->line &&
			      !strcmp(shown[k]->message, e->message);
		if (dup)
			continue;
		if (n_shown == MAX_ERRORS_SHOWN) {
			more++;
			continue;
		}
		shown[n_shown++] = e;
		policy_add_finding(run->res, run->cfg->files[e->file].path, e->line, NULL,
				   "sshd refuses this: %s", e->message);
	}
	if (more)
		policy_add_finding(run->res, SSHD_CONFIG, 0, NULL,
				   "sshd refuses %zu more lines of its configuration (not listed one "
				   "by one)",
				   more);
}

static int sshd_policy_run(struct policy_ctx *ctx, struct policy_result *res)
{
	const struct config *c = ctx->cfg;
	struct sshd_run run = { .ctx = ctx, .res = res };
	const struct instance *in = ctx->instance;
	const char *bin = in->sshd_bin;
	size_t bin_len = in->sshd_bin_len;
	bool have_sshd = in->have_sshd;
	int rc = in->sshd_config_rc;
	run.no_config = rc == -ENOENT;
	run.cfg = &in->sshd_cfg;
	if (rc == -ENOENT && !have_sshd) {
		res->status = POLICY_SKIPPED;
		policy_result_set_note(res, "no sshd and no %s", SSHD_CONFIG);
		return 0;
	}
	if (rc < 0 && rc != -ENOENT) {
		/* a FIFO, a directory, ...: the instance's fault, not an operational error */
		policy_unreadable(res, SSHD_CONFIG, rc, SSHD_MAX_FILE, "cannot read it", NULL);
		return 0;
	}
	run.version = in->sshd_version;
	/* DSA: compiled out by default in 9.8, removed in 10.0; the algorithm name is in every
	 * sshd that still has it. Without a binary, by version. */
	run.dsa_ok = bin ? memmem(bin, bin_len, "ssh-dss", 7) != NULL
			 : run.version && run.version < SSHD_VERSION(9, 8);

	struct sshd_max_startups good_ms;
	if (!c->sshd_max_startups || sshd_max_startups_parse(c->sshd_max_startups, &good_ms) < 0 ||
	    (unsigned long)good_ms.start < c->sshd_min_max_startups) {
		struct finding *f = policy_add_finding(
			res, NULL, 0, NULL,
			"[sshd] max_startups = %s is not a MaxStartups value of at least "
			"min_max_startups = %lu",
			c->sshd_max_startups ? c->sshd_max_startups : "", c->sshd_min_max_startups);
		f->error = true;
		return 0;
	}
	/* PerSourceMaxStartups: the start value of max_startups, so that one source may hold
	 * as many unauthenticated connections as sshd lets in before it starts dropping any. */
	_cleanup_free_ char *good_ps = xasprintf("%d", good_ms.start);


	/* sshd -t before any edit: its own words on what is wrong already. */
	struct child_result before = { 0 };
	bool can_run = have_sshd && sshd_test(&run, &before) == 0 && before.ran;
	if (!can_run)
		report_errors(&run);
	if (have_sshd && before.no_sandbox)
		policy_add_finding(res, SSHD_BINARY, 0, NULL,
				   "sshd -t %s: the instance's own programs never run unconfined, "
				   "so its verdict on the configuration is missing",
				   before.why_not);
	else if (have_sshd && before.timed_out)
		policy_add_finding(res, SSHD_BINARY, 0, NULL,
				   "sshd -t did not finish (%s): this sshd does not behave as "
				   "OpenSSH's",
				   before.why_not);

	plan_startups(&run, "maxstartups", c->sshd_max_startups, c->sshd_min_max_startups);
	plan_startups(&run, "persourcemaxstartups", good_ps, c->sshd_min_max_startups);
	plan_penalties(&run);
	if (c->sshd_host_keys)
		plan_dsa_only(&run);

	struct file_edits *fe = NULL;
	size_t n_fe = 0;
	if (ctx->repair && (run.n_fixes || run.insert_top))
		apply_fixes(&run, &fe, &n_fe);

	if (c->sshd_host_keys)
		check_host_keys(&run, have_sshd);
	if (have_sshd)
		check_privsep(&run, privsep_dir(bin, bin_len));

	if (can_run) {
		if (ctx->repair && res->n_findings)
			validate(&run, &before, fe, n_fe);

		else if (before.status != 0 && !res->n_findings) {
			_cleanup_free_ char *msg = first_message(before.output);
			policy_add_finding(res, NULL, 0, NULL, "sshd -t fails: %s", msg);
		} else if (before.status != 0) {
			_cleanup_free_ char *msg = first_message(before.output);
			policy_add_finding(res, NULL, 0, NULL,
					   "sshd -t fails (before the repairs above): %s", msg);
		}
	}
	if (ctx->live && run.exempt_edit) {
		struct child_result now = { 0 };
		bool ok = can_run && sshd_test(&run, &now) == 0 && now.ran && now.status == 0;
		free(now.output);
		live_reload(&run, ok);
	}
	if (!can_run && have_sshd)
		policy_result_set_note(res, "the instance's sshd cannot run here%s%s",
				       before.why_not ? ": " : "",
				       before.why_not ? before.why_not : "");
	else if (!have_sshd)
		policy_result_set_note(res, "no %s in the instance", SSHD_BINARY);
	else if (run.version)
		policy_result_set_note(res, "OpenSSH %u.%u%s%s%s", run.version / 100,
				       run.version % 100,
				       run.strict.len ? "; over-strict PerSourcePenalties " : "",
				       run.strict.len ? run.strict.data : "",
				       run.strict.len ? " (the protected networks are exempt)" : "");
	buf_free(&run.strict);

	child_result_free(&before);
	file_edits_free(fe, n_fe);
	for (size_t i = 0; i < run.n_fixes; i++)
		free(run.fixes[i].text);
	free(run.fixes);
	free(run.insert_top);
	free(run.extra_key);
	return 0;
}

const struct policy sshd_policy = {
	.name = "sshd",
	.enabled = sshd_enabled,
	.run = sshd_policy_run,
};
