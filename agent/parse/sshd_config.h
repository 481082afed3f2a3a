/* sshd_config.h: sshd_config(5) read the way OpenSSH's sshd reads it (servconf.c): keywords,
 * `keyword=value`, quoting, Match blocks, Include with globs read inline, and for each keyword
 * which occurrence decides for a given OpenSSH release (first, last, or all of them, a rule that
 * changed across releases). Pure: the main file comes in as a buffer, included files through a
 * callback the caller provides; no I/O, no printing. */
#ifndef SSHRESCUE_PARSE_SSHD_CONFIG_H
#define SSHRESCUE_PARSE_SSHD_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

#include "util.h"

/* An OpenSSH release as a number: 9.2 -> 902, 10.1 -> 1001. 0: unknown. */
#define SSHD_VERSION(major, minor) ((major) * 100u + (minor))
#define SSHD_VERSION_UNKNOWN 0u

/* Where sshd resolves a relative Include (SSHDIR) and its default host keys. */
#define SSHD_SSHDIR "/etc/ssh"
#define SSHD_MAX_INCLUDE_DEPTH 16 /* SERVCONF_MAX_DEPTH */
#define SSHD_MAX_FILE (4u << 20)  /* larger config files are refused */
/* Directories the Include globs of one parse may open in all; a glob's callback that goes
 * over returns -ELOOP, and the parser reports the Include. */
#define SSHD_MAX_GLOB_DIRS 4096

enum sshd_rule {
	SSHD_FIRST,      /* the first active occurrence decides */
	SSHD_LAST,       /* the last active occurrence decides */
	SSHD_ACCUMULATE, /* every active occurrence adds to a list */
};

struct sshd_keyword {
	const char *name;    /* lower case, as in servconf.c's keywords[] */
	bool global_only;    /* SSHCFG_GLOBAL alone: fatal inside a Match block at start-up */
	enum sshd_rule rule; /* up to the release before `since` */
	unsigned since;      /* release from which `then` applies; 0: the rule never changed */
	enum sshd_rule then;
	unsigned added;      /* release that introduced the keyword; 0: older than any we read.
			      * An older sshd refuses it ("Bad configuration option"). */
};

/* The table entry of a keyword (any case); NULL for keywords not in the table, which are
 * first-wins (every keyword sshd knows and the table omits is). */
const struct sshd_keyword *sshd_keyword_lookup(const char *name);
/* The rule of keyword (any case) in release version; SSHD_FIRST for keywords not in the
 * table. With version unknown, the rule of the newest release. */
enum sshd_rule sshd_keyword_rule(const char *name, unsigned version);
/* Does sshd of release version accept keyword (any case)? False for an unknown version when
 * the keyword is newer than some release we know of: a repair never writes a line that the
 * instance's sshd might refuse. Keywords not in the table count as known. */
bool sshd_keyword_known(const char *name, unsigned version);

struct sshd_file {
	char *path;   /* instance path */
	char *data;   /* owned copy, NUL-terminated */
	size_t len;
	long parent;  /* index of the file whose Include read it; -1 for the main file */
	unsigned parent_line;
};

/* A Match line. Whether it is active when sshd starts (which is when global-only keywords
 * are checked and MaxStartups is read) depends on its criteria ("all", "version" since 10.0)
 * and on the Match in effect where an Include that read this file stood (`outer`). */
struct sshd_match {
	size_t file;
	unsigned line;
	char *criteria; /* the text after the keyword, as sshd splits it, joined by spaces */
	long outer;     /* index of the enclosing Match of the Include; -1: none */
};

struct sshd_occurrence {
	char *keyword;     /* lower case */
	struct strv args;  /* arguments as sshd splits them: quotes and escapes removed */
	size_t file;       /* index into files */
	unsigned line;     /* 1-based */
	size_t line_off;   /* the line in files[file].data, without its newline */
	size_t line_len;
	size_t args_off;   /* the arguments as written, from the first to the end of the last */
	size_t args_len;
	long match;        /* index into matches of the Match block it stands in; -1: global */
};

struct sshd_error {
	size_t file;
	unsigned line;
	char *message;
};

struct sshd_config {
	struct sshd_file *files;
	size_t n_files;
	struct sshd_occurrence *occ;
	size_t n_occ;
	struct sshd_match *matches;
	size_t n_matches;
	/* What sshd would refuse (it exits): a missing argument, unbalanced quotes, an Include
	 * that cannot be read or nests too deeply, a NUL byte. Parsing goes on after them. */
	struct sshd_error *errors;
	size_t n_errors;
};

/* How Include reaches the instance's files. glob() lists the instance paths that match an
 * absolute glob(3) pattern (without GLOB_TILDE; a pattern without wildcards lists itself
 * when it exists); their order does not matter, the parser sorts them as glob(3) does in the
 * C locale. -ENOENT or an empty list: nothing matched (sshd ignores that). read() returns a
 * whole file (malloc'ed). Both return 0 or -errno. */
struct sshd_include_ops {
	int (*glob)(void *arg, const char *pattern, struct strv *paths);
	int (*read)(void *arg, const char *path, char **data, size_t *len);
	void *arg;
};

/* Parse the main file (path is its instance path, for messages and relative nothing).
 * ops may be NULL: Include then records an error. Returns 0 (problems of the file itself are
 * in cfg->errors) or -ENOMEM-like errors never: allocation failure aborts. */
int sshd_config_parse(const char *path, const char *buf, size_t len,
		      const struct sshd_include_ops *ops, struct sshd_config *cfg);
void sshd_config_free(struct sshd_config *cfg);

/* Match criteria active when sshd starts in release version ("all"; "version PATTERNS"
 * from 10.0 on, matched against "OpenSSH_M.N"; nothing else matches without a connection).
 * With version unknown, "version" criteria count as not matching. */
bool sshd_match_active(const struct sshd_config *cfg, long match, unsigned version);
/* Is the occurrence read at start-up in release version (global, or in an active Match)? */
bool sshd_occurrence_active(const struct sshd_config *cfg, const struct sshd_occurrence *o,
			    unsigned version);
/* The index in cfg->occ of the occurrence of keyword (any case) that decides in release
 * version, or -1 when none does (sshd's default applies). For accumulating keywords, the
 * first active one (use sshd_config_next to walk the rest). */
long sshd_config_decider(const struct sshd_config *cfg, const char *keyword, unsigned version);
/* The next occurrence of keyword after index `after` (-1: from the start), active or not. */
long sshd_config_next(const struct sshd_config *cfg, const char *keyword, long after);

/* MaxStartups "start:rate:full" or "full". */
struct sshd_max_startups {
	int start, rate, full; /* rate -1: not given */
};
/* One MaxStartups argument as sshd reads it (sscanf "%d:%d:%d" and its checks): 0, or
 * -EINVAL when sshd refuses it ("Invalid MaxStartups spec"). "N" gives start = full = N. */
int sshd_max_startups_parse(const char *arg, struct sshd_max_startups *out);
/* The effective MaxStartups in release version, as `sshd -T` prints it, and the deciding
 * occurrence (-1: the default 10:30:100). Up to 10.0 every line overwrites what it gives,
 * so a bare "N" keeps the rate of an earlier line; 10.1 and 10.2 take a bare "N" as
 * 10:30:N; 10.3 as N:30:N. -EINVAL when the deciding value is malformed. */
int sshd_config_max_startups(const struct sshd_config *cfg, unsigned version,
			     struct sshd_max_startups *out, long *decider);
/* PerSourceMaxStartups: a number 0..INT_MAX or "none" (INT_MAX); 0 or -EINVAL. */
int sshd_per_source_max_startups_parse(const char *arg, int *out);

/* The TCP ports sshd listens on in release version: the ports of ListenAddress entries that
 * carry one, and the Port values (default 22) for those that do not, or for all addresses
 * when there is no ListenAddress. Sorted, without duplicates. Returns 0 or -EINVAL (a port
 * sshd would refuse; *bad gets that occurrence's index). The firewall policy uses this. */
int sshd_config_ports(const struct sshd_config *cfg, unsigned version, unsigned **ports,
		      size_t *n, long *bad);

/* The host key files in release version: HostKey values, or sshd's defaults (rsa, ecdsa,
 * ed25519 under /etc/ssh) when there are none. *defaults tells which. */
void sshd_config_host_keys(const struct sshd_config *cfg, unsigned version, struct strv *out,
			   bool *defaults);

/* OpenSSH release from a version string: "1:9.2p1-2+deb12u3" (dpkg, epoch optional),
 * "9.2p1" , "OpenSSH_9.2p1 Debian-2". 0 or -EINVAL. */
int sshd_version_parse(const char *s, unsigned *version);
/* The version of the installed openssh-server in a dpkg status file; -ENOENT when it is not
 * installed there. */
int sshd_version_from_dpkg_status(const char *buf, size_t len, unsigned *version);
/* The release named by an "OpenSSH_M.N" string inside a binary (the sshd executable). */
int sshd_version_from_binary(const char *buf, size_t len, unsigned *version);

/* PerSourcePenalties (OpenSSH 9.8+) as sshd reads its occurrences: per field, the first
 * active occurrence that sets it; "yes"/"no" only alone. Times in seconds (convtime()). */
struct sshd_penalties {
	bool enabled;
	long crash, authfail, noauth, grace, refuseconnection, max, min; /* seconds */
	bool overflow_deny_all, overflow6_deny_all;
	long decider[7]; /* the occurrence that set each time above, -1: sshd's default */
};
/* The effective PerSourcePenalties of release version (defaults of 10.0: crash:90 authfail:5
 * noauth:1 grace-exceeded:10 refuseconnection:10 max:600 min:15). -EINVAL: an argument sshd
 * refuses (*bad: that occurrence). */
int sshd_config_penalties(const struct sshd_config *cfg, unsigned version,
			  struct sshd_penalties *out, long *bad);
/* convtime(): "90", "1h30m", "2w"; -1 when malformed or over INT_MAX seconds. */
long sshd_convtime(const char *s);

/* PerSourcePenaltyExemptList `list` (NULL: none) with every network of protect in it: the
 * admin's entries kept in their order, except "none" and negations ("!NET") that would
 * exclude a protected address (sshd stops at the first negated match), then the protected
 * networks no entry covers yet. NULL when nothing needs to change (malloc'ed otherwise). */
struct cidr_list;
char *sshd_exempt_list_merge(const char *list, const struct cidr_list *protect);

#endif
