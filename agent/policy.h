/* policy.h: the interface every repair policy implements, and the findings it returns.
 * A policy never prints and never opens instance files itself: it reads and replaces them
 * through struct root (root.h) and describes what it saw and did as findings. */
#ifndef SSHRESCUE_POLICY_H
#define SSHRESCUE_POLICY_H

#include <stdbool.h>
#include <stddef.h>

#include "root.h"

struct config;
struct root;

enum policy_status {
	POLICY_OK,         /* nothing wrong */
	POLICY_REPAIRED,   /* problems found, all repaired by this run */
	POLICY_UNREPAIRED, /* problems remain (always so in check) */
	POLICY_FAILED,     /* an operational error stopped the policy */
	POLICY_SKIPPED,    /* disabled, or nothing of its kind on the instance */
};
const char *policy_status_name(enum policy_status s);

/* How a finding stands between the owner and sshd. Zero is lockout: a finding is a lockout
 * unless its creator says otherwise (policy_add_risk), so what is unknown counts. */
enum finding_severity {
	SEVERITY_LOCKOUT, /* the real program refuses a protected source now, or at its next start */
	SEVERITY_RISK,	  /* it could lock the owner out later, under the condition the problem names */
};
const char *finding_severity_name(enum finding_severity s);

struct finding {
	char *file;    /* instance path, "/etc/hosts.deny"; NULL when not about one file */
	unsigned line; /* 1-based; 0 when not about one line */
	char *text;    /* the offending line or row as it was; may be NULL */
	char *problem; /* what is wrong and why it locks the owner out */
	char *action;  /* what was done (repair) or would be done (check); NULL: nothing */
	char *backup;  /* instance path of the backup of the file, when it was changed */
	bool fixed;    /* the problem is gone after this run */
	bool error;    /* an operational error (I/O, unreadable file): exit bit 8 */
	enum finding_severity severity;
};

struct policy_result {
	enum policy_status status;
	struct finding *findings;
	size_t n_findings;
	char *note; /* one line for the console summary, e.g. "no DenyHosts files" */
};

struct instance;

struct policy_ctx {
	struct root *root;
	const struct instance *instance; /* read once before the policies run (context.h) */
	const struct config *cfg;
	const char *run_id;
	bool repair; /* false in check: nothing may be written */
	bool live;   /* the root is the running system ("--root /"): daemons may be told */
};

struct policy {
	const char *name;
	bool (*enabled)(const struct config *cfg);
	/* 0, or a negative errno when the policy could not do its job (then status FAILED). */
	int (*run)(struct policy_ctx *ctx, struct policy_result *res);
};

/* The policies, in the order they run (the table in policy.c says why). */
extern const struct policy denyhosts_policy, hosts_access_policy, fail2ban_policy,
	sshguard_policy, sshd_policy, csf_policy, firewall_policy;
size_t policy_count(void);
const struct policy *policy_get(size_t i);

/* After a file of the findings from first on was written: their backup is backup. */
void policy_set_backup(struct policy_result *res, size_t first, const char *backup);
/* It could not be written (rc, -errno): an error finding says so and the findings from first
 * on are not fixed. */
void policy_write_failed(struct policy_result *res, const char *path, int rc, size_t first);
/* The one or the other after a write that returned rc (0, or -errno). */
void policy_file_written(struct policy_result *res, const char *path, int rc, size_t first,
			 const char *backup);
/* It could not be read (rc from root_read_file() or root_map_file(), max the limit it was read
 * with): a finding "what: why[; then]" with the reason in words (file_error_why()). A FIFO, a
 * directory, a huge file or a link loop is the instance's fault; anything else but absence
 * (EIO, ...) is an operational error. */
struct finding *policy_unreadable(struct policy_result *res, const char *path, int rc, size_t max,
				  const char *what, const char *then);

/* Append a finding of severity lockout; problem is printf-style. Returns it so the caller can
 * set action etc. */
struct finding *policy_add_finding(struct policy_result *res, const char *file, unsigned line,
				   const char *text, const char *problem_fmt, ...)
	__attribute__((format(printf, 5, 6)));
/* The same for a finding of severity risk: the problem says when it would lock out. */
struct finding *policy_add_risk(struct policy_result *res, const char *file, unsigned line,
				const char *text, const char *problem_fmt, ...)
	__attribute__((format(printf, 5, 6)));
void finding_set_action(struct finding *f, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void policy_result_set_note(struct policy_result *res, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Does this finding, left open, count as a problem (exit bit 4, status unrepaired)? Lockouts
 * always; risks only with [agent] strict = yes. */
bool finding_counts(const struct finding *f, bool strict);
/* Derive status from the findings unless the policy set SKIPPED or FAILED: unrepaired while a
 * finding that counts is open, else repaired when this run fixed any, else ok (open risks are
 * listed, but an instance that lets the owner in is ok). */
void policy_result_finish(struct policy_result *res, int rc, bool strict);
void policy_result_free(struct policy_result *res);

/* A list file that its program loads whole at every start (csf.deny, lfd's csf.tempban,
 * sshguard's blocklist), whose entries of protected sources go: each one's line is commented
 * out with the run's marker (drop_lines: deleted with its line end), the first
 * POLICY_LIST_DETAILED of a file get a finding each, the rest one finding that counts them.
 * The policy sets ctx, res, marker and drop_lines; the rest is policy_list_*'s. */
#define POLICY_LIST_DETAILED 50
struct policy_list {
	struct policy_ctx *ctx;
	struct policy_result *res;
	const char *marker; /* "# sshrescue RUN-ID: " */
	bool drop_lines;
	const char *path, *data; /* the file being read */
	size_t first;		 /* its first finding */
	struct edits e;
	size_t removed; /* entries of protected sources, over every file */
	size_t detailed, summarized;
};
/* Read path (at most max bytes) into *data, *len for the policy's parser: false when there is
 * nothing to parse (no such file, or it cannot be read: an error finding then). */
bool policy_list_read(struct policy_list *l, const char *path, size_t max, char **data,
		      size_t *len);
/* From the parser: the entry of a protected source at data[off, off + len), on line `line`.
 * Returns its finding (problem printf-style, text the entry, fixed in repair) for the policy's
 * action, or NULL when the entry is only counted. Pure: no file is touched. */
struct finding *policy_list_entry(struct policy_list *l, size_t off, size_t len, unsigned line,
				  const char *problem_fmt, ...)
	__attribute__((format(printf, 5, 6)));
/* After the parser: the finding "N more <what>" for the entries past the detailed ones (action
 * done in repair, else would), and in repair the file replaced with its edits and a backup. */
void policy_list_write(struct policy_list *l, size_t len, const char *what, const char *done,
		       const char *would);

/* Is addr (text) protected by the run's protect list? Empty list: everything is. */
struct cidr;
bool policy_protects(const struct config *cfg, const struct cidr *addr);

#endif
