/* policy_harness.h: one policy's decisions as a table row: files in, findings and edits out.
 * A row names the instance's files (path, content, mode), the policy file (INI text) and what
 * the policy must decide. The harness makes a temporary instance root of the files, reads the
 * policy file and the instance context (context.h) as a run does, and runs the one policy
 * three times: in check (nothing may change), in repair (the findings fixed, the files after
 * it exactly as the row says, every other file byte for byte as it was), and in repair again
 * (nothing left to change). Every difference is printed with the row's name and counted. */
#ifndef SSHRESCUE_POLICY_HARNESS_H
#define SSHRESCUE_POLICY_HARNESS_H

#include <stdbool.h>
#include <stddef.h>

#include "policy.h"

#define PH_MAX_FILES 14
#define PH_MAX_FINDINGS 10
#define PH_MAX_AFTER 6

/* The run id of the repair: markers read "# sshrescue " PH_RUN ": ". */
#define PH_RUN "RUN"

struct ph_file {
	const char *path; /* instance path */
	const char *data; /* NULL: a directory */
	size_t len;	  /* 0: strlen(data) */
	unsigned mode;	  /* 0: 0644 (a directory 0755) */
	bool sqlite;	  /* data is SQL: the file is the SQLite database it makes */
	const char *host; /* a file of the host to copy instead of data ("/proc/self/exe": an
			   * ELF program that links no libwrap) */
};

struct ph_finding {
	enum finding_severity severity;
	const char *file; /* NULL: the finding names no file */
	unsigned line;
	const char *problem;	   /* a part of its problem; NULL ends the list */
	const char *check_action;  /* a part of its action in check; NULL: not compared */
	const char *repair_action; /* the same in repair */
	bool open;		   /* repair leaves it open (else repair fixes it) */
};

struct ph_after {
	const char *path;  /* instance path; NULL ends the list */
	const char *data;  /* its exact content after the repair; NULL: absent */
	unsigned mode;	   /* nonzero: its mode after the repair */
	const char *query; /* a database: the rows of this query ("a|b\n" each) are data */
};

/* Exit status bits as main.c derives them from one policy's findings. */
#define PH_EXIT_REPAIRED 1
#define PH_EXIT_REMAIN 4
#define PH_EXIT_OPERATIONAL 8
/* ph_case.again: the second repair's status, when it is not the one derived (below). */
#define PH_AGAIN(status) ((int)(status) + 1)

struct ph_case {
	const char *name;
	const char *ini; /* the policy file; NULL: the defaults */
	struct ph_file files[PH_MAX_FILES];
	enum policy_status check, repair;	     /* each run's status */
	int exit_check, exit_repair;		     /* PH_EXIT_* bits of each run */
	struct ph_finding findings[PH_MAX_FINDINGS]; /* in order, the same in check and repair */
	struct ph_after after[PH_MAX_AFTER]; /* files the repair changes, creates or removes */
	const char *note; /* a part of the check run's note; NULL: not compared */
	/* The second repair: OK after REPAIRED, else the first repair's status (its open findings
	 * are found again); PH_AGAIN(s) says otherwise. It fixes nothing and changes no file. */
	int again;
};

/* Run one row against policy p; returns the number of differences (printed to stderr). */
int ph_run_case(const struct policy *p, const struct ph_case *c);

/* Every row of a table; fails the cmocka test when any row differs. With PH_MUTATE=1 in the
 * environment each row that passes is run again with each of its expectations broken in turn,
 * and the test fails when a broken one still passes (a row that cannot fail). */
void ph_run_table(const struct policy *p, const struct ph_case *cases, size_t n);

#endif
