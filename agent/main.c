/* main.c: the command line and the pipeline: config -> target -> policies -> report ->
 * delivery -> release -> after. The exit status is the bitmask of SPEC.md. */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <json-c/json.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "context.h"
#include "deliver.h"
#include "lock.h"
#include "policy.h"
#include "report.h"
#include "root.h"
#include "spawn.h"
#include "target.h"
#include "util.h"

enum {
	EXIT_REPAIRED = 1,
	EXIT_UNDELIVERED = 2,
	EXIT_REMAIN = 4,
	EXIT_OPERATIONAL = 8,
	EXIT_USAGE = 16,
};

#define DEFAULT_POLICY "/etc/sshrescue/policy.ini"

struct options {
	const char *command;
	const char *undo_id;
	const char *policy;
	struct target_opts target;
	struct strv protect;
	const char *report_file;
	const char *report_url;
	int reboot; /* -1: as the policy says */
	bool json, verbose, quiet, live;
};

static void usage(FILE *out)
{
	fputs("Usage: sshrescue [OPTIONS] COMMAND\n"
	      "Give a locked-out Linux instance its SSH access back.\n"
	      "\n"
	      "Commands:\n"
	      "  discover          list the candidate instance roots on attached block devices\n"
	      "  check             examine the target and report every problem; change nothing\n"
	      "  repair            examine, repair, back up every file it changes\n"
	      "  undo [RUN-ID]     put back the files a repair run changed (default: the latest)\n"
	      "\n"
	      "Target (--root, or --device and/or --image; default: the one instance root among the\n"
	      "attached disks):\n"
	      "  --root DIR        an instance root mounted at DIR; \"/\" on the instance itself\n"
	      "  --device SPEC     the root filesystem: /dev/..., UUID=..., LABEL=..., PARTUUID=...\n"
	      "  --image FILE      a raw disk image (partitioned or bare filesystem)\n"
	      "  --exclude SPEC    never this disk: the rescue system's own boot disk, named by\n"
	      "                    one of its partitions (/dev/..., PARTUUID=..., UUID=...)\n"
	      "\n"
	      "Options:\n"
	      "  -c, --policy FILE     policy file (default " DEFAULT_POLICY ")\n"
	      "      --protect CIDR    a source network that must reach sshd (repeatable)\n"
	      "      --report-file FILE  also write the JSON report to FILE\n"
	      "      --report-url URL  deliver the report to URL (overrides [report] url)\n"
	      "      --json            print the JSON report on stdout instead of the summary\n"
	      "      --live            the target is the running system (implied by --root /):\n"
	      "                        running daemons and the kernel's rules are fixed too\n"
	      "      --reboot, --no-reboot  override [agent] after\n"
	      "      --help-policy     print every policy section and key with its default\n"
	      "  -v, --verbose  -q, --quiet  -V, --version  -h, --help\n"
	      "\n"
	      "Exit status (bits): 1 repaired, 2 report not delivered, 4 problems remain (lockouts;\n"
	      "with [agent] strict = yes risks too), 8 operational error, 16 usage error;\n"
	      "0 nothing needed repair.\n",
	      out);
}

static int usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int usage_error(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	_cleanup_free_ char *m = xvasprintf(fmt, ap);
	va_end(ap);
	say("%s", m);
	fputs("Try 'sshrescue --help'.\n", stderr);
	return EXIT_USAGE;
}

enum {
	OPT_ROOT = 256,
	OPT_DEVICE,
	OPT_IMAGE,
	OPT_EXCLUDE,
	OPT_PROTECT,
	OPT_REPORT_FILE,
	OPT_REPORT_URL,
	OPT_JSON,
	OPT_REBOOT,
	OPT_NO_REBOOT,
	OPT_HELP_POLICY,
	OPT_LIVE,
};

static const struct option longopts[] = {
	{ "root", required_argument, NULL, OPT_ROOT },
	{ "device", required_argument, NULL, OPT_DEVICE },
	{ "image", required_argument, NULL, OPT_IMAGE },
	{ "exclude", required_argument, NULL, OPT_EXCLUDE },
	{ "policy", required_argument, NULL, 'c' },
	{ "protect", required_argument, NULL, OPT_PROTECT },
	{ "report-file", required_argument, NULL, OPT_REPORT_FILE },
	{ "report-url", required_argument, NULL, OPT_REPORT_URL },
	{ "json", no_argument, NULL, OPT_JSON },
	{ "reboot", no_argument, NULL, OPT_REBOOT },
	{ "no-reboot", no_argument, NULL, OPT_NO_REBOOT },
	{ "help-policy", no_argument, NULL, OPT_HELP_POLICY },
	{ "live", no_argument, NULL, OPT_LIVE },
	{ "verbose", no_argument, NULL, 'v' },
	{ "quiet", no_argument, NULL, 'q' },
	{ "version", no_argument, NULL, 'V' },
	{ "help", no_argument, NULL, 'h' },
	{ 0 },
};

/* Returns -1 to go on, or an exit status. */
static int parse_args(int argc, char **argv, struct options *o)
{
	int c;
	o->reboot = -1;
	while ((c = getopt_long(argc, argv, "c:vqVh", longopts, NULL)) != -1) {
		switch (c) {
		case OPT_ROOT:
			o->target.root_dir = optarg;
			break;
		case OPT_DEVICE:
			o->target.device = optarg;
			break;
		case OPT_IMAGE:
			o->target.image = optarg;
			break;
		case OPT_EXCLUDE:
			o->target.exclude = optarg;
			break;
		case 'c':
			o->policy = optarg;
			break;
		case OPT_PROTECT:
			strv_push(&o->protect, optarg);
			break;
		case OPT_REPORT_FILE:
			o->report_file = optarg;
			break;
		case OPT_REPORT_URL:
			o->report_url = optarg;
			break;
		case OPT_JSON:
			o->json = true;
			break;
		case OPT_REBOOT:
			o->reboot = 1;
			break;
		case OPT_NO_REBOOT:
			o->reboot = 0;
			break;
		case OPT_LIVE:
			o->live = true;
			break;
		case OPT_HELP_POLICY:
			config_print_help(stdout);
			return 0;
		case 'v':
			o->verbose = true;
			break;
		case 'q':
			o->quiet = true;
			break;
		case 'V':
			printf("sshrescue %s\n", SSHRESCUE_VERSION);
			return 0;
		case 'h':
			usage(stdout);
			return 0;
		default:
			fputs("Try 'sshrescue --help'.\n", stderr);
			return EXIT_USAGE;
		}
	}
	if (optind >= argc)
		return usage_error("no command given (discover, check, repair or undo)");
	o->command = argv[optind++];
	if (strcmp(o->command, "undo") == 0 && optind < argc)
		o->undo_id = argv[optind++];
	if (optind < argc)
		return usage_error("unexpected argument '%s'", argv[optind]);
	if (strcmp(o->command, "discover") && strcmp(o->command, "check") &&
	    strcmp(o->command, "repair") && strcmp(o->command, "undo"))
		return usage_error("unknown command '%s'", o->command);
	/* --device with --image picks a filesystem inside the image */
	if (o->target.root_dir && (o->target.device || o->target.image))
		return usage_error("give --root, or --device and/or --image");
	return -1;
}

static int load_config(const struct options *o, struct config *cfg)
{
	config_init(cfg);
	char *err = NULL;
	const char *path = o->policy ? o->policy : DEFAULT_POLICY;
	int rc = config_load(cfg, path, &err);
	if (rc == -ENOENT && !o->policy) {
		free(err);
		err = NULL;
		rc = 0; /* no policy file: the built-in defaults */
	}
	for (size_t i = 0; rc == 0 && i < o->protect.n; i++) {
		rc = config_set(cfg, "agent", "protect", o->protect.v[i], &err);
		if (rc < 0) {
			char *msg = xasprintf("--protect %s: %s", o->protect.v[i], err);
			free(err);
			err = msg;
		}
	}
	if (rc == 0 && o->report_url)
		rc = config_set(cfg, "report", "url", o->report_url, &err);
	if (rc == 0 && o->reboot >= 0)
		cfg->after = o->reboot ? AFTER_REBOOT : AFTER_NONE;
	if (rc < 0) {
		say("%s", err);
		free(err);
		return EXIT_USAGE;
	}
	return 0;
}

/* The target being worked on, for the signal handler: released before dying. */
static struct target *active_target;

static void on_signal(int sig)
{
	spawn_kill_running();
	if (active_target)
		target_release(active_target);
	signal(sig, SIG_DFL);
	raise(sig);
}

/* The run's deadline ([agent] deadline): spawn.c kills programs at it, the pipeline checks it
 * between its steps, and the first step it passed in becomes the run's error. */
static unsigned long deadline_s;
static bool deadline_told;

static void deadline_check(struct run *run, const char *during)
{
	if (deadline_told || !spawn_deadline_passed())
		return;
	deadline_told = true;
	strv_push_owned(&run->errors,
			xasprintf("deadline of %lu s passed during %s", deadline_s, during));
}

/* Past the deadline, the report and its delivery (their own budget) and a grace: whatever
 * still runs then is stuck; release the instance and go (exit bit 8). */
#define WATCHDOG_GRACE_S 15
static void on_watchdog(int sig)
{
	(void)sig;
	spawn_kill_running();
	if (active_target)
		target_release(active_target);
	static const char msg[] = "sshrescue: the run is stuck past its deadline: instance "
				  "released, stopping\n";
	if (write(STDERR_FILENO, msg, sizeof(msg) - 1) < 0) {
		/* nothing left to tell */
	}
	_exit(EXIT_OPERATIONAL);
}

static void deadline_start(const struct config *cfg, int64_t started)
{
	deadline_s = cfg->agent_deadline;
	spawn_set_deadline(started + (int64_t)deadline_s * 1000);
	struct sigaction sa = { .sa_handler = on_watchdog };
	sigaction(SIGALRM, &sa, NULL);
	alarm((unsigned)(deadline_s + cfg->report_deadline + WATCHDOG_GRACE_S));
}

static void run_policies(struct run *run, struct root *root, const struct config *cfg, bool repair,
			 bool live)
{
	size_t n = policy_count();
	run->policy = xcalloc(n, sizeof(*run->policy));
	run->result = xcalloc(n, sizeof(*run->result));
	run->n_policies = n;
	struct instance in;
	instance_read(root, &in);
	struct policy_ctx ctx = {
		.root = root,
		.instance = &in,
		.cfg = cfg,
		.run_id = run->run_id,
		.repair = repair,
		.live = live,
	};
	for (size_t i = 0; i < n; i++) {
		const struct policy *p = policy_get(i);
		struct policy_result *res = &run->result[i];
		run->policy[i] = p;
		if (!p->enabled(cfg)) {
			res->status = POLICY_SKIPPED;
			policy_result_set_note(res, "disabled by the policy file");
			continue;
		}
		if (spawn_deadline_passed()) {
			res->status = POLICY_SKIPPED;
			policy_result_set_note(res, "not run: the deadline of %lu s had passed",
					       deadline_s);
			continue;
		}
		int rc = p->run(&ctx, res);
		_cleanup_free_ char *during = xasprintf("the %s policy", p->name);
		deadline_check(run, during);
		if (rc < 0) {
			strv_push_owned(&run->errors, xasprintf("%s: %s", p->name, strerror(-rc)));
			if (!res->note)
				policy_result_set_note(res, "%s", strerror(-rc));
		}
		policy_result_finish(res, rc, cfg->strict);
	}
	instance_free(&in);
}

/* Bit 4 counts the open findings that are lockouts, and with strict = yes the risks too: a
 * fleet sees an instance that lets its owner in as healthy, its risks listed in the report. */
static int exit_from_results(const struct run *run, bool repair, bool strict)
{
	int ex = 0;
	for (size_t i = 0; i < run->n_policies; i++) {
		const struct policy_result *res = &run->result[i];
		bool open = false, fixed = false;
		for (size_t j = 0; j < res->n_findings; j++) {
			const struct finding *f = &res->findings[j];
			if (f->fixed)
				fixed = true;
			else if (finding_counts(f, strict))
				open = true;
		}
		if (res->status == POLICY_FAILED)
			ex |= EXIT_OPERATIONAL;
		if (open)
			ex |= EXIT_REMAIN;
		if (repair && fixed)
			ex |= EXIT_REPAIRED;
	}
	if (run->errors.n)
		ex |= EXIT_OPERATIONAL;
	return ex;
}

static int write_report_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "we");
	if (!f)
		return -errno;
	int rc = fputs(text, f) < 0 || fputc('\n', f) < 0 ? -EIO : 0;
	if (fclose(f) != 0 && rc == 0)
		rc = -errno;
	return rc;
}

/* One run per instance (lock.h): the lock of key, taken (0), or why not: -EBUSY with the
 * message in *err (the caller stops), other errors only warned about (no lock can be made
 * here: the run goes on, as a rescue must). key == NULL: nothing to take yet. */
static int take_lock(struct run_lock *l, char *key, const char *command, const char *what,
		     char **err)
{
	if (!key || l->fd >= 0) {
		free(key);
		return 0;
	}
	_cleanup_free_ char *holder = NULL;
	_cleanup_free_ char *k = xstrdup(key);
	int rc = lock_take(l, key, command, &holder);
	if (rc == -EBUSY) {
		*err = xasprintf("%s is in use by another sshrescue run (%s; lock %s/lock.%s); "
				 "waited %d s, changed nothing: try again when it ends",
				 what, holder, LOCK_DIR, k, LOCK_WAIT_MS / 1000);
		lock_release(l);
		return rc;
	}
	if (rc < 0) {
		say("warning: cannot take the lock of %s in %s (%s); going on without it", what,
		    LOCK_DIR, strerror(-rc));
		lock_release(l);
		return 0;
	}
	return 0;
}

/* The lock before the target is acquired (mounting writes), or once it is, when only its
 * mounted root says which instance it is (discovery, UUID=...). */
static int lock_target(struct run_lock *l, const struct target_opts *t, const char *root_path,
		       const char *command, char **err)
{
	const char *what = t->root_dir ? t->root_dir
			   : t->image  ? t->image
			   : t->device ? t->device
				       : root_path;
	char *key = root_path ? lock_key_of_root(root_path)
			      : lock_key_of_target(t->root_dir, t->image, t->device);
	return take_lock(l, key, command, what ? what : "the instance", err);
}

static int cmd_undo(const struct options *o, struct config *cfg)
{
	struct target t;
	char *err = NULL;
	struct target_opts topts = o->target;
	topts.cfg_root = cfg->target_root;
	struct run_lock lock = {.fd = -1};
	int rc = lock_target(&lock, &topts, NULL, "undo", &err);
	if (rc < 0) {
		say("%s", err);
		free(err);
		return EXIT_OPERATIONAL;
	}
	rc = target_acquire(&topts, &t, &err);
	if (rc == 0 && lock_target(&lock, &topts, t.root_path, "undo", &err) < 0)
		rc = -EBUSY;
	if (rc < 0) {
		say("%s", err);
		free(err);
		target_release(&t);
		target_free(&t);
		lock_release(&lock);
		return EXIT_OPERATIONAL;
	}
	active_target = &t;
	struct root root;
	_cleanup_free_ char *run_id = root_new_run_id();
	int ex = 0;
	if ((rc = root_open(&root, t.root_path, cfg->backup_dir, run_id, false)) < 0) {
		say("%s: %s", t.root_path, strerror(-rc));
		ex = EXIT_OPERATIONAL;
	} else {
		size_t restored = 0;
		char *used = NULL;
		struct strv msgs = { 0 };
		rc = root_undo(&root, o->undo_id, &restored, &used, &msgs);
		for (size_t i = 0; i < msgs.n; i++) {
			if (o->quiet)
				continue;
			/* the paths come from the manifest, inside the instance */
			_cleanup_free_ char *m = text_visible(msgs.v[i]);
			say("undo %s: %s", used, m);
		}
		if (rc == -ESRCH) {
			say("nothing to undo: no %s run under %s%s",
			    o->undo_id ? o->undo_id : "unrestored", t.root_path, cfg->backup_dir);
			ex = EXIT_OPERATIONAL;
		} else if (rc < 0) {
			say("undo %s: %s", used ? used : "", strerror(-rc));
			ex = EXIT_OPERATIONAL;
		} else if (!o->quiet) {
			say("undo %s: %zu change%s put back", used, restored,
			    restored == 1 ? "" : "s");
		}
		free(used);
		strv_free(&msgs);
		root_close(&root);
	}
	active_target = NULL;
	target_release(&t);
	target_free(&t);
	lock_release(&lock);
	return ex;
}

static int cmd_check_repair(const struct options *o, struct config *cfg)
{
	bool repair = strcmp(o->command, "repair") == 0;
	struct run run = { 0 };
	run.run_id = root_new_run_id();
	run.command = o->command;
	run.started_ms = report_now_ms();
	run.start_mono_ms = report_mono_ms();

	struct target t;
	char *err = NULL;
	struct target_opts topts = o->target;
	topts.cfg_root = cfg->target_root;
	topts.readonly = !repair;
	struct root root = { .fd = -1, .manifest_fd = -1 };
	bool have_root = false;
	struct run_lock lock = {.fd = -1};
	int rc = lock_target(&lock, &topts, NULL, o->command, &err);
	if (rc == 0) {
		rc = target_acquire(&topts, &t, &err);
		if (rc == 0 && lock_target(&lock, &topts, t.root_path, o->command, &err) < 0) {
			target_release(&t);
			target_free(&t);
			rc = -EBUSY;
		}
	}
	deadline_check(&run, "finding and mounting the instance");
	if (rc < 0) {
		strv_push_owned(&run.errors, err);
	} else {
		active_target = &t;
		run.target = &t;
		rc = root_open(&root, t.root_path, cfg->backup_dir, run.run_id, !repair);
		if (rc < 0)
			strv_push_owned(&run.errors,
					xasprintf("%s: %s", t.root_path, strerror(-rc)));
		else
			have_root = true;
	}
	bool live = o->live || (o->target.root_dir && strcmp(o->target.root_dir, "/") == 0);
	if (have_root) {
		report_read_instance(&run, &root);
		run_policies(&run, &root, cfg, repair, live);
		if (root.failed_path)
			/* the policies name the files they could not change; this names why */
			strv_push_owned(
				&run.errors,
				xasprintf("%s: could not be made (%s): the changes that needed "
					  "it were not made",
					  root.failed_path, root_strerror(root.failed_rc)));
		/* The repair on disk before an endpoint is told (root.h: one sync per filesystem);
		 * without one, it goes to disk with the report, in one sync. */
		if (repair && cfg->report_url && *cfg->report_url && (rc = root_commit(&root)) < 0)
			strv_push_owned(&run.errors,
					xasprintf("%s: cannot make the repair durable: %s",
						  t.root_path, strerror(-rc)));
	}
	run.exit_status = exit_from_results(&run, repair, cfg->strict);

	/* Deliver first, so the report on disk says how delivery went. */
	if (deliver_report(cfg, have_root ? &root : NULL, &run, !repair) < 0)
		run.exit_status |= EXIT_UNDELIVERED;
	run.exit_status |= run.errors.n ? EXIT_OPERATIONAL : 0;
	run.end_mono_ms = report_mono_ms();
	if (have_root && repair) {
		rc = deliver_write_file(cfg, &root, &run);
		if (rc == 0 && cfg->report_file && *cfg->report_file)
			run.report_in_instance = cfg->report_file;
		/* a device or image is unmounted next: the unmount is the last sync */
		int crc = strcmp(t.kind, "directory") ? root_commit_unmounting(&root)
						      : root_commit(&root);
		if (crc < 0) {
			strv_push_owned(&run.errors,
					xasprintf("%s: cannot make the repair durable: %s",
						  t.root_path, strerror(-crc)));
			run.exit_status |= EXIT_OPERATIONAL;
		}
		if (rc < 0) {
			/* the report inside the instance is lost; say so everywhere else */
			strv_push_owned(&run.errors, xasprintf("%s: cannot write the report: %s",
							       cfg->report_file, strerror(-rc)));
			run.exit_status |= EXIT_OPERATIONAL;
		}
	}

	_cleanup_free_ char *pretty = report_to_string(&run, true);
	if (o->report_file && (rc = write_report_file(o->report_file, pretty)) < 0) {
		say("%s: %s", o->report_file, strerror(-rc));
		run.exit_status |= EXIT_OPERATIONAL;
	} else if (o->report_file) {
		run.report_on_host = o->report_file;
	} else if (o->json) {
		run.report_on_host = "standard output";
	}
	if (o->json)
		printf("%s\n", pretty);
	else if (!o->quiet)
		report_print_summary(&run, stderr, o->verbose);
	bool rescue_boot = getpid() == 1 || getenv("SSHRESCUE_RESCUE_BOOT");
	deliver_console(cfg, &run, rescue_boot);

	if (have_root)
		root_close(&root);
	active_target = NULL;
	if (run.target) {
		target_release(&t);
		target_free(&t);
	}
	lock_release(&lock);
	int ex = run.exit_status;
	alarm(0); /* what follows has its own budget */
	/* after: only once the report is out and the target released and synced */
	if (repair && cfg->after != AFTER_NONE) {
		rc = deliver_after(cfg->after, getpid() == 1);
		if (rc < 0) {
			say("%s: %s", cfg->after == AFTER_REBOOT ? "reboot" : "poweroff",
			    strerror(-rc));
			ex |= EXIT_OPERATIONAL;
		}
	}
	run.target = NULL;
	run_free(&run);
	return ex;
}

/* 1.5G: a size for people */
static char *human_size(uint64_t bytes)
{
	static const char units[] = "BKMGTPE";
	double v = (double)bytes;
	size_t u = 0;
	while (v >= 1024 && u + 1 < sizeof(units) - 1) {
		v /= 1024;
		u++;
	}
	return u ? xasprintf("%.1f%c", v, units[u]) : xasprintf("%" PRIu64 "B", bytes);
}

static struct json_object *jstr_or_null(const char *s)
{
	return s ? json_object_new_string(s) : NULL;
}

/* `discover`: the candidates on stdout, as a table (the instance's words made visible) or as
 * JSON (exact); what was skipped and why on stderr. */
static int cmd_discover(const struct options *o)
{
	char *err = NULL;
	struct target_opts topts = o->target;
	topts.readonly = true; /* discover changes nothing */
	struct target_candidates cs;
	int rc = target_discover(&topts, &cs, &err);
	if (rc < 0) {
		_cleanup_free_ char *m = text_visible(err);
		say("discover: %s", m);
		free(err);
		target_candidates_free(&cs);
		return EXIT_OPERATIONAL;
	}
	if (o->json) {
		struct json_object *arr = json_object_new_array();
		for (size_t i = 0; i < cs.n; i++) {
			const struct target_candidate *d = &cs.v[i];
			struct json_object *c = json_object_new_object();
			json_object_object_add(c, "device", jstr_or_null(d->device));
			json_object_object_add(c, "origin", jstr_or_null(d->origin));
			json_object_object_add(c, "fstype", jstr_or_null(d->fstype));
			json_object_object_add(c, "uuid", jstr_or_null(d->uuid));
			json_object_object_add(c, "label", jstr_or_null(d->label));
			json_object_object_add(c, "partuuid", jstr_or_null(d->partuuid));
			json_object_object_add(c, "pretty_name", jstr_or_null(d->pretty_name));
			json_object_object_add(c, "size", json_object_new_int64((int64_t)d->size));
			json_object_object_add(c, "subvol", jstr_or_null(d->subvol));
			json_object_object_add(c, "mounted_at", jstr_or_null(d->mounted_at));
			json_object_array_add(arr, c);
		}
		struct json_object *top = json_object_new_object();
		json_object_object_add(top, "candidates", arr);
		printf("%s\n", json_object_to_json_string_ext(top, JSON_C_TO_STRING_PRETTY |
									    JSON_C_TO_STRING_NOSLASHESCAPE));
		json_object_put(top);
	} else {
		for (size_t i = 0; i < cs.n; i++) {
			const struct target_candidate *d = &cs.v[i];
			const char *f[] = {d->device, d->fstype, d->uuid, d->label, d->pretty_name};
			for (size_t k = 0; k < ARRAY_SIZE(f); k++) {
				fputs_visible(f[k] && *f[k] ? f[k] : "-", stdout);
				fputc('\t', stdout);
			}
			_cleanup_free_ char *size = human_size(d->size);
			printf("%s\n", size);
		}
	}
	fflush(stdout);
	for (size_t i = 0; i < cs.notes.n; i++) {
		_cleanup_free_ char *m = text_visible(cs.notes.v[i]);
		say("discover: %s", m);
	}
	target_candidates_free(&cs);
	return 0;
}

int main(int argc, char **argv)
{
	int64_t started = spawn_mono_ms();
	struct options o = { 0 };
	int ex = parse_args(argc, argv, &o);
	if (ex >= 0) {
		strv_free(&o.protect);
		return ex;
	}
	struct config cfg;
	if ((ex = load_config(&o, &cfg)) != 0) {
		config_free(&cfg);
		strv_free(&o.protect);
		return ex;
	}
	/* The instance's files are reopened through /proc/self/fd, its mounts told apart through
	 * /proc/self/mountinfo: without /proc every file would look absent and every policy "ok"
	 * (an initramfs or chroot that has not mounted it yet). */
	if (access("/proc/self/fd", X_OK) < 0 || access("/proc/self/mountinfo", R_OK) < 0) {
		say("/proc is not mounted (/proc/self/fd: %s): sshrescue needs it to read the "
		    "instance safely; mount it first (mount -t proc proc /proc)",
		    strerror(errno));
		config_free(&cfg);
		strv_free(&o.protect);
		return EXIT_OPERATIONAL;
	}
	struct sigaction sa = { .sa_handler = on_signal };
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	deadline_start(&cfg, started);

	if (strcmp(o.command, "discover") == 0) {
		ex = cmd_discover(&o);
	} else if (strcmp(o.command, "undo") == 0) {
		ex = cmd_undo(&o, &cfg);
	} else {
		ex = cmd_check_repair(&o, &cfg);
	}
	config_free(&cfg);
	strv_free(&o.protect);
	return ex;
}
