/* policy.c: the registry of policies and the findings they return. */
#include "policy.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "root.h"
#include "util.h"

/* The run order: one row per policy, the reason on the rows whose place matters (as libblkid's
 * idinfos[] documents its probe order). The report and the console list them in this order. */
static const struct policy *const policies[] = {
	/* DenyHosts' entries first: hosts_access then adds a grant only for the denials that
	 * remain (a hand-written rule), instead of one that hides entries about to go. */
	&denyhosts_policy,
	&hosts_access_policy,
	/* the blockers that keep state of their own and restore it at start: fail2ban, then
	 * sshguard (the same kind); independent of each other */
	&fail2ban_policy,
	&sshguard_policy,
	/* sshd's own refusals (MaxStartups, penalties, keys) */
	&sshd_policy,
	/* the firewalls, after sshd: the ports they keep open are sshd's (and ssh.socket's); CSF
	 * (its own files) before the rules saved for the kernel's loaders */
	&csf_policy,
	&firewall_policy,
};

size_t policy_count(void)
{
	return ARRAY_SIZE(policies);
}

const struct policy *policy_get(size_t i)
{
	return i < ARRAY_SIZE(policies) ? policies[i] : NULL;
}

const char *policy_status_name(enum policy_status s)
{
	switch (s) {
	case POLICY_OK:
		return "ok";
	case POLICY_REPAIRED:
		return "repaired";
	case POLICY_UNREPAIRED:
		return "unrepaired";
	case POLICY_FAILED:
		return "failed";
	case POLICY_SKIPPED:
		return "skipped";
	}
	return "?";
}

const char *finding_severity_name(enum finding_severity s)
{
	return s == SEVERITY_RISK ? "risk" : "lockout";
}

static struct finding *add_finding(struct policy_result *res, enum finding_severity severity,
				   const char *file, unsigned line, const char *text,
				   const char *problem_fmt, va_list ap)
	__attribute__((format(printf, 6, 0)));
static struct finding *add_finding(struct policy_result *res, enum finding_severity severity,
				   const char *file, unsigned line, const char *text,
				   const char *problem_fmt, va_list ap)
{
	res->findings = xgrow(res->findings, res->n_findings, sizeof(*res->findings));
	struct finding *f = &res->findings[res->n_findings++];
	memset(f, 0, sizeof(*f));
	f->file = file ? xstrdup(file) : NULL;
	f->line = line;
	f->text = text ? xstrdup(text) : NULL;
	f->problem = xvasprintf(problem_fmt, ap);
	f->severity = severity;
	return f;
}

struct finding *policy_add_finding(struct policy_result *res, const char *file, unsigned line,
				   const char *text, const char *problem_fmt, ...)
{
	va_list ap;
	va_start(ap, problem_fmt);
	struct finding *f = add_finding(res, SEVERITY_LOCKOUT, file, line, text, problem_fmt, ap);
	va_end(ap);
	return f;
}

struct finding *policy_add_risk(struct policy_result *res, const char *file, unsigned line,
				const char *text, const char *problem_fmt, ...)
{
	va_list ap;
	va_start(ap, problem_fmt);
	struct finding *f = add_finding(res, SEVERITY_RISK, file, line, text, problem_fmt, ap);
	va_end(ap);
	return f;
}

void finding_set_action(struct finding *f, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	free(f->action);
	f->action = xvasprintf(fmt, ap);
	va_end(ap);
}

void policy_result_set_note(struct policy_result *res, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	free(res->note);
	res->note = xvasprintf(fmt, ap);
	va_end(ap);
}

bool finding_counts(const struct finding *f, bool strict)
{
	return f->severity == SEVERITY_LOCKOUT || strict;
}

void policy_result_finish(struct policy_result *res, int rc, bool strict)
{
	if (rc < 0) {
		res->status = POLICY_FAILED;
		return;
	}
	if (res->status == POLICY_SKIPPED || res->status == POLICY_FAILED)
		return;
	bool fixed = false, open = false, error = false;
	for (size_t i = 0; i < res->n_findings; i++) {
		const struct finding *f = &res->findings[i];
		if (f->fixed)
			fixed = true;
		else if (finding_counts(f, strict))
			open = true;
		if (f->error)
			error = true;
	}
	if (error)
		res->status = POLICY_FAILED;
	else if (open)
		res->status = POLICY_UNREPAIRED;
	else
		res->status = fixed ? POLICY_REPAIRED : POLICY_OK;
}

void policy_result_free(struct policy_result *res)
{
	for (size_t i = 0; i < res->n_findings; i++) {
		struct finding *f = &res->findings[i];
		free(f->file);
		free(f->text);
		free(f->problem);
		free(f->action);
		free(f->backup);
	}
	free(res->findings);
	free(res->note);
	memset(res, 0, sizeof(*res));
}

bool policy_protects(const struct config *cfg, const struct cidr *addr)
{
	return cidr_list_protects(&cfg->protect, addr);
}

void policy_set_backup(struct policy_result *res, size_t first, const char *backup)
{
	for (size_t i = first; i < res->n_findings; i++) {
		free(res->findings[i].backup);
		res->findings[i].backup = backup ? xstrdup(backup) : NULL;
	}
}

void policy_write_failed(struct policy_result *res, const char *path, int rc, size_t first)
{
	struct finding *f = policy_add_finding(res, path, 0, NULL, "could not write: %s",
					       strerror(-rc));
	f->error = true;
	for (size_t i = first; i < res->n_findings; i++)
		res->findings[i].fixed = false;
}

bool policy_list_read(struct policy_list *l, const char *path, size_t max, char **data,
		      size_t *len)
{
	int rc = root_read_file(l->ctx->root, path, max, data, len);
	if (rc == -ENOENT)
		return false;
	if (rc < 0) {
		policy_unreadable(l->res, path, rc, max, "cannot read", NULL);
		return false;
	}
	l->path = path;
	l->data = *data;
	l->first = l->res->n_findings;
	l->detailed = l->summarized = 0;
	return true;
}

struct finding *policy_list_entry(struct policy_list *l, size_t off, size_t len, unsigned line,
				  const char *problem_fmt, ...)
{
	if (l->drop_lines) {
		/* the line and its end */
		size_t end = off + len;
		if (l->data[end] == '\r' && l->data[end + 1] == '\n')
			end++;
		if (l->data[end])
			end++;
		edits_add(&l->e, off, end - off, NULL, 0);
	} else {
		edits_add(&l->e, off, 0, l->marker, strlen(l->marker));
	}
	l->removed++;
	if (l->detailed >= POLICY_LIST_DETAILED) {
		l->summarized++;
		return NULL;
	}
	l->detailed++;
	_cleanup_free_ char *text = xstrndup(l->data + off, len);
	va_list ap;
	va_start(ap, problem_fmt);
	struct finding *f =
		add_finding(l->res, SEVERITY_LOCKOUT, l->path, line, text, problem_fmt, ap);
	va_end(ap);
	f->fixed = l->ctx->repair;
	return f;
}

void policy_list_write(struct policy_list *l, size_t len, const char *what, const char *done,
		       const char *would)
{
	if (l->summarized) {
		struct finding *f = policy_add_finding(l->res, l->path, 0, NULL, "%zu more %s",
						       l->summarized, what);
		finding_set_action(f, "%s", l->ctx->repair ? done : would);
		f->fixed = l->ctx->repair;
	}
	if (l->e.n && l->ctx->repair) {
		char *backup = NULL;
		int rc = root_replace(l->ctx->root, l->path, l->data, len, &l->e, &backup);
		policy_file_written(l->res, l->path, rc, l->first, backup);
		free(backup);
	}
	edits_free(&l->e);
}
void policy_file_written(struct policy_result *res, const char *path, int rc, size_t first,
			 const char *backup)
{
	if (rc < 0)
		policy_write_failed(res, path, rc, first);
	else
		policy_set_backup(res, first, backup);
}

struct finding *policy_unreadable(struct policy_result *res, const char *path, int rc, size_t max,
				  const char *what, const char *then)
{
	char big[64];
	bool instance;
	const char *why = file_error_why(rc, max, big, &instance);
	struct finding *f =
		then ? policy_add_finding(res, path, 0, NULL, "%s: %s; %s", what, why, then)
		     : policy_add_finding(res, path, 0, NULL, "%s: %s", what, why);
	f->error = !instance && rc != -ENOENT;
	return f;
}
