/* csf.h: ConfigServer Security & Firewall's files (csf.pl and ConfigServer/Config.pm,
 * ConfigServer/Slurp.pm of Aetherinox/csf-firewall, the maintained fork of csf 14/15):
 * csf.deny, csf.allow, csf.ignore (one entry per line: an address or CIDR, or an advanced
 * filter "tcp|in|d=22|s=203.0.113.5", then an optional "# comment"; "Include FILE" lines);
 * /var/lib/csf/csf.tempban ("TIME|IP|PORTS|INOUT|TIMEOUT|MESSAGE"); csf.conf
 * (`NAME = "value"`). Pure. */
#ifndef SSHRESCUE_PARSE_CSF_H
#define SSHRESCUE_PARSE_CSF_H

#include <stdbool.h>
#include <stddef.h>

#include "parse/cidr.h"

struct csf_entry {
	size_t off, len; /* the line without its newline */
	unsigned line;
	bool include;      /* an "Include FILE" line: path is set */
	char path[256];    /* the file an Include names */
	bool has_addr;     /* addr is the entry's address or its advanced filter's s= address */
	bool advanced;     /* a "proto|dir|port|ip" filter */
	struct cidr addr;
};
/* Each entry csf loads from a csf.deny/csf.allow/csf.ignore file; comment and empty lines are
 * not reported. Lines are cut at \r, \n and the other line ends of Slurp.pm's slurpreg. */
void csf_list_parse(const char *buf, size_t len,
		    void (*cb)(void *arg, const struct csf_entry *e), void *arg);

/* Each line of csf.tempban whose second field is an address (csf drops the others). */
void csf_tempban_parse(const char *buf, size_t len,
		       void (*cb)(void *arg, const struct csf_entry *e), void *arg);

/* The value of `NAME = "value"` in csf.conf: the offset and length of the text between the
 * quotes of the last line that sets it (Config.pm reads every line; a later one wins).
 * false when no line sets it. */
bool csf_conf_value(const char *buf, size_t len, const char *name, size_t *off, size_t *vlen);

/* Does a port list ("20,21,22,30000:35000") open port? */
bool csf_ports_have(const char *list, size_t len, unsigned port);

/* Does the list file (content) hold an entry covering all of net (plain entries only)? */
bool csf_list_covers(const char *buf, size_t len, const struct cidr *net);

#endif
