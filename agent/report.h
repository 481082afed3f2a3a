/* report.h: the run as a JSON report (json-c), schema "sshrescue-report/1" (SPEC.md), and the
 * one-line-per-policy human summary built from the same data. */
#ifndef SSHRESCUE_REPORT_H
#define SSHRESCUE_REPORT_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stdint.h>

#include "policy.h"
#include "util.h"

struct target;

struct run {
	char *run_id;
	const char *command; /* check | repair | undo | discover */
	int64_t started_ms;  /* wall clock, ms since the epoch */
	int64_t start_mono_ms;
	int64_t end_mono_ms; /* set once the run's outcome is known; 0: still running */
	/* instance */
	char *hostname, *machine_id, *os, *cloud_instance_id;
	const struct target *target;
	/* policies, in run order */
	const struct policy **policy;
	struct policy_result *result;
	size_t n_policies;
	/* delivery */
	char *delivery_url;
	unsigned delivery_attempts;
	char *delivery_status; /* "delivered" | "spooled" | "failed: <why>" | "not configured" */
	struct json_object *extra; /* added by delivery (e.g. the AWS identity document); owned */
	int exit_status;
	struct strv errors;
	/* where the report was written, for "the report is in ..." (NULL: not there) */
	const char *report_in_instance; /* instance path ([report] file), repair only */
	const char *report_on_host;	/* --report-file, or "standard output" for --json */
};

int64_t report_now_ms(void);
int64_t report_mono_ms(void);
/* Read hostname, machine id, PRETTY_NAME and a cloud instance id from the instance. */
struct root;
void report_read_instance(struct run *run, struct root *root);
/* The report object (caller json_object_put()s it). */
struct json_object *report_build(const struct run *run);
/* Compact (one line) or pretty JSON text of the report; caller frees. */
char *report_to_string(const struct run *run, bool pretty);
/* One line per policy, "sshrescue: hosts_access: repaired (2 findings)" style, to out. */
void report_print_summary(const struct run *run, FILE *out, bool verbose);
void run_free(struct run *run);

#endif
