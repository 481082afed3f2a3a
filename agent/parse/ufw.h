/* ufw.h: ufw's files. ufw.conf and /etc/default/ufw are shell KEY=value files; user.rules and
 * user6.rules are iptables-restore files (read with iptables_save.h) whose RULES section holds
 * one `### tuple ### action proto dport dst sport src direction` comment per ufw rule (what
 * `ufw` reads back) followed by the -A lines ufw generated from it (what ufw-init loads). A
 * change keeps both in step: a rule goes with its tuple. Pure. */
#ifndef SSHRESCUE_UFW_H
#define SSHRESCUE_UFW_H

#include <stdbool.h>
#include <stddef.h>

#include "parse/iptables_save.h"

/* The value of key in a shell-style KEY=value file, quotes removed; NULL when absent (caller
 * frees). The last assignment wins, as when the shell sources the file. */
char *ufw_conf_value(const char *buf, size_t len, const char *key);

/* A tuple and the rule lines that follow it, up to a blank line or the next "###" line. */
struct ufw_group {
	size_t start; /* the tuple line */
	size_t end;   /* one past the newline of its last rule line */
	unsigned line;
};
/* The group holding the line at off; false when that line belongs to no tuple. */
bool ufw_group_at(const char *buf, size_t len, size_t off, struct ufw_group *g);
/* Offset of the "### END RULES ###" line, or SIZE_MAX. */
size_t ufw_rules_end(const char *buf, size_t len);

/* The entry that ufw's user rules are reached through: chain ufw-user-input (ufw6- for v6),
 * new connections only (before.rules accepts established ones), falling through to the
 * default input policy. */
struct ipt_entry ufw_entry(bool v6, const char *default_policy);

/* Tuples and rules, as ufw writes them, that allow the scope's traffic ("allow tcp 22 ..."),
 * one tuple per protected network and port, each ending with a blank line; caller frees. */
char *ufw_accept_text(const struct fw_scope *s, bool v6);

/* The fixes as edits: a commented rule takes its whole tuple group with it; an accept goes in
 * front of the group of the rule it protects from, or before "### END RULES ###". */
void ufw_edits(const char *buf, size_t len, const struct ipt_file *f, const struct ipt_fixes *fx,
	       const struct fw_scope *s, bool v6, const char *marker,
	       const struct fw_edit_sink *out);

#endif
