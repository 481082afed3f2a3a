/* report.c: the run's findings as the JSON report of SPEC.md, and the human summary. */
#include "report.h"

#include <string.h>
#include <time.h>

#include "parse/os_release.h"
#include "root.h"
#include "target.h"

int64_t report_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t report_mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* First line of a small instance file, trimmed; NULL when absent or unreadable. */
static char *read_first_line(struct root *root, const char *path)
{
	char *data = NULL;
	size_t len;
	if (root_read_file(root, path, 4096, &data, &len) < 0)
		return NULL;
	data[strcspn(data, "\r\n")] = '\0';
	char *s = strstrip(data);
	char *out = *s ? xstrdup(s) : NULL;
	free(data);
	return out;
}

/* The instance's name as os-release(5) gives it: /etc/os-release, else /usr/lib/os-release;
 * PRETTY_NAME, else NAME. */
static char *os_pretty_name(struct root *root)
{
	static const char *const files[] = { "/etc/os-release", "/usr/lib/os-release" };
	for (size_t i = 0; i < ARRAY_SIZE(files); i++) {
		char *data = NULL;
		size_t len;
		if (root_read_file(root, files[i], 65536, &data, &len) < 0)
			continue;
		struct os_release o;
		os_release_parse(data, len, &o);
		free(data);
		const char *n = os_release_display_name(&o);
		char *out = n ? xstrdup(n) : NULL;
		os_release_free(&o);
		return out; /* the first file that exists decides, as os-release(5) says */
	}
	return NULL;
}

void report_read_instance(struct run *run, struct root *root)
{
	run->hostname = read_first_line(root, "/etc/hostname");
	run->machine_id = read_first_line(root, "/etc/machine-id");
	run->os = os_pretty_name(root);
	/* cloud-init records the instance id of the last boot */
	run->cloud_instance_id = read_first_line(root, "/var/lib/cloud/data/instance-id");
}

static struct json_object *jstr(const char *s)
{
	return s ? json_object_new_string(s) : NULL;
}

static char *rfc3339(int64_t ms)
{
	time_t t = (time_t)(ms / 1000);
	struct tm tm;
	gmtime_r(&t, &tm);
	char buf[40];
	strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%S", &tm);
	return xasprintf("%s.%03dZ", buf, (int)(ms % 1000));
}

static struct json_object *finding_json(const struct finding *f)
{
	struct json_object *o = json_object_new_object();
	json_object_object_add(o, "file", jstr(f->file));
	json_object_object_add(o, "line", f->line ? json_object_new_int((int)f->line) : NULL);
	json_object_object_add(o, "text", jstr(f->text));
	json_object_object_add(o, "problem", jstr(f->problem));
	json_object_object_add(o, "action", jstr(f->action));
	json_object_object_add(o, "backup", jstr(f->backup));
	json_object_object_add(o, "fixed", json_object_new_boolean(f->fixed));
	json_object_object_add(o, "severity",
			       json_object_new_string(finding_severity_name(f->severity)));
	return o;
}

struct json_object *report_build(const struct run *run)
{
	struct json_object *o = json_object_new_object();
	json_object_object_add(o, "schema", json_object_new_string("sshrescue-report/1"));
	json_object_object_add(o, "run_id", jstr(run->run_id));
	struct json_object *agent = json_object_new_object();
	json_object_object_add(agent, "name", json_object_new_string("sshrescue"));
	json_object_object_add(agent, "version", json_object_new_string(SSHRESCUE_VERSION));
	json_object_object_add(o, "agent", agent);
	json_object_object_add(o, "command", jstr(run->command));
	_cleanup_free_ char *started = rfc3339(run->started_ms);
	json_object_object_add(o, "started_at", json_object_new_string(started));
	/* Frozen once the run is over, so that the file, the console copy and the delivered body
	 * are the same bytes. */
	int64_t end = run->end_mono_ms ? run->end_mono_ms : report_mono_ms();
	json_object_object_add(o, "duration_ms", json_object_new_int64(end - run->start_mono_ms));

	struct json_object *inst = json_object_new_object();
	json_object_object_add(inst, "hostname", jstr(run->hostname));
	json_object_object_add(inst, "machine_id", jstr(run->machine_id));
	json_object_object_add(inst, "os", jstr(run->os));
	json_object_object_add(inst, "cloud_instance_id", jstr(run->cloud_instance_id));
	json_object_object_add(o, "instance", inst);

	json_object_object_add(o, "target", run->target ? target_to_json(run->target) : NULL);

	struct json_object *pols = json_object_new_array();
	for (size_t i = 0; i < run->n_policies; i++) {
		const struct policy_result *res = &run->result[i];
		struct json_object *p = json_object_new_object();
		json_object_object_add(p, "name", json_object_new_string(run->policy[i]->name));
		json_object_object_add(p, "status",
				       json_object_new_string(policy_status_name(res->status)));
		json_object_object_add(p, "note", jstr(res->note));
		struct json_object *fs = json_object_new_array_ext((int)res->n_findings);
		for (size_t j = 0; j < res->n_findings; j++)
			json_object_array_add(fs, finding_json(&res->findings[j]));
		json_object_object_add(p, "findings", fs);
		json_object_array_add(pols, p);
	}
	json_object_object_add(o, "policies", pols);

	struct json_object *del = json_object_new_object();
	json_object_object_add(del, "url", jstr(run->delivery_url));
	json_object_object_add(del, "attempts", json_object_new_int((int)run->delivery_attempts));
	json_object_object_add(del, "status",
			       jstr(run->delivery_status ? run->delivery_status : "not configured"));
	json_object_object_add(o, "delivery", del);
	if (run->extra) {
		json_object_object_foreach(run->extra, key, val)
		{
			json_object_object_add(o, key, json_object_get(val));
		}
	}
	json_object_object_add(o, "exit_status", json_object_new_int(run->exit_status));
	struct json_object *errs = json_object_new_array();
	for (size_t i = 0; i < run->errors.n; i++)
		json_object_array_add(errs, json_object_new_string(run->errors.v[i]));
	json_object_object_add(o, "errors", errs);
	return o;
}

char *report_to_string(const struct run *run, bool pretty)
{
	struct json_object *o = report_build(run);
	int flags = JSON_C_TO_STRING_NOSLASHESCAPE |
		    (pretty ? JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED : JSON_C_TO_STRING_PLAIN);
	char *s = xstrdup(json_object_to_json_string_ext(o, flags));
	json_object_put(o);
	return s;
}

/* Every text here may hold bytes of the instance (a value, a file name): made visible
 * (fputs_visible()), never written raw to a person's terminal. */
void report_print_summary(const struct run *run, FILE *out, bool verbose)
{
	for (size_t i = 0; i < run->n_policies; i++) {
		const struct policy_result *res = &run->result[i];
		size_t fixed = 0, risks = 0;
		for (size_t j = 0; j < res->n_findings; j++) {
			fixed += res->findings[j].fixed;
			risks += res->findings[j].severity == SEVERITY_RISK;
		}
		fprintf(out, "sshrescue: %s: %s", run->policy[i]->name,
			policy_status_name(res->status));
		if (res->n_findings) {
			size_t lockouts = res->n_findings - risks;
			fprintf(out, " (%zu finding%s: ", res->n_findings,
				res->n_findings == 1 ? "" : "s");
			if (lockouts)
				fprintf(out, "%zu lockout%s%s", lockouts, lockouts == 1 ? "" : "s",
					risks ? ", " : "");
			if (risks)
				fprintf(out, "%zu risk%s", risks, risks == 1 ? "" : "s");
			fprintf(out, "; %zu fixed)", fixed);
		}
		if (res->note) {
			fputs("; ", out);
			fputs_visible(res->note, out);
		}
		fputc('\n', out);
		size_t shown = 0;
		for (size_t j = 0; j < res->n_findings; j++) {
			const struct finding *f = &res->findings[j];
			if (!verbose && shown == 10) {
				fprintf(out, "sshrescue:   ... %zu more (see the report)\n",
					res->n_findings - j);
				break;
			}
			shown++;
			fprintf(out, "sshrescue:   %s: ", finding_severity_name(f->severity));
			if (f->file) {
				fputs_visible(f->file, out);
				if (f->line)
					fprintf(out, ":%u", f->line);
				fputs(": ", out);
			}
			fputs_visible(f->problem, out);
			if (f->action) {
				fputs("; ", out);
				fputs_visible(f->action, out);
			}
			fputc('\n', out);
		}
	}
	for (size_t i = 0; i < run->errors.n; i++) {
		fputs("sshrescue: error: ", out);
		fputs_visible(run->errors.v[i], out);
		fputc('\n', out);
	}
}

void run_free(struct run *run)
{
	free(run->run_id);
	free(run->hostname);
	free(run->machine_id);
	free(run->os);
	free(run->cloud_instance_id);
	for (size_t i = 0; i < run->n_policies; i++)
		policy_result_free(&run->result[i]);
	free(run->result);
	free(run->policy);
	free(run->delivery_url);
	free(run->delivery_status);
	if (run->extra)
		json_object_put(run->extra);
	strv_free(&run->errors);
	memset(run, 0, sizeof(*run));
}
