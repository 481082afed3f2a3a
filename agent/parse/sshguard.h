/* sshguard.h: SSHGuard's files (SSHGuard/sshguard v2.4.3): sshguard.conf, the shell variables
 * the `sshguard` script sources (src/sshguard.in); the blocklist that `-b THRESHOLD:FILE`
 * loads and appends to (src/blocker/sshguard_blacklist.c); whitelist files that `-w FILE`
 * reads (src/blocker/sshguard_whitelist.c). Pure: buffers in, offsets and values out. */
#ifndef SSHRESCUE_PARSE_SSHGUARD_H
#define SSHRESCUE_PARSE_SSHGUARD_H

#include <stdbool.h>
#include <stddef.h>

#include "parse/cidr.h"
#include "util.h"

/* Variables of sshguard.conf that decide what is blocked at start. Each NULL when unset. */
struct sshguard_conf {
	char *blacklist;     /* BLACKLIST_FILE: "THRESHOLD:FILE" (the -b argument) */
	char *whitelist_file;/* WHITELIST_FILE (read when WHITELIST_ARG is empty) */
	char *whitelist_arg; /* WHITELIST_ARG: space-separated addresses and files */
	unsigned whitelist_file_line; /* 1-based line of WHITELIST_FILE, 0 when unset */
};
/* VAR=value, VAR="value", VAR='value' lines (the last assignment wins, as in sh); comments
 * and lines that are not assignments are skipped. */
void sshguard_conf_parse(const char *buf, size_t len, struct sshguard_conf *out);
void sshguard_conf_free(struct sshguard_conf *c);

/* The FILE of a -b argument "THRESHOLD:FILE" (sscanf "%u:%s"); NULL when malformed. */
char *sshguard_blacklist_path(const char *arg);

/* One blocklist entry "TIME|SERVICE|KIND|ADDRESS" (sscanf "%lld|%d|%d|%46s"), as the
 * blocker loads it: every such line is blocked at start-up, whitelisted or not. */
struct sshguard_entry {
	size_t off, len; /* the line, without its newline */
	unsigned line;
	struct cidr addr; /* the address (prefix 32/128) */
};
/* Calls cb for each entry sshguard loads whose address parses; lines it skips (comments,
 * lines starting with white space, malformed, unknown kinds) are not reported. */
void sshguard_blacklist_parse(const char *buf, size_t len,
			      void (*cb)(void *arg, const struct sshguard_entry *e), void *arg);

/* Does the whitelist (file content; NULL buf for none) or an inline -w entry list hold all of
 * net? Entries: an address or address/prefix, up to white space or '#'. */
bool sshguard_whitelist_covers(const char *buf, size_t len, const struct cidr *net);

#endif
