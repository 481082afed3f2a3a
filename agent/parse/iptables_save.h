/* iptables_save.h: the iptables-save / iptables-restore file format (rules.v4, rules.v6,
 * /etc/sysconfig/iptables and ip6tables, ufw's user.rules): tables, chain declarations and rule
 * lines with their line numbers and byte offsets, and the analysis that finds which rules keep
 * a protected source from reaching sshd. Pure: buffers in, structs out, no I/O.
 * (What the firewall parsers share is in fw.h.) */
#ifndef SSHRESCUE_IPTABLES_SAVE_H
#define SSHRESCUE_IPTABLES_SAVE_H

#include <stdbool.h>
#include <stddef.h>

#include "parse/cidr.h"
#include "parse/fw.h"
#include "util.h"

/* One line that is a command; iptables-restore applies them in file order. */
enum ipt_op {
	IPT_APPEND,
	IPT_INSERT,
	IPT_NEW,
	IPT_POLICY,
	IPT_FLUSH,
	IPT_DELETE_CHAIN,
	IPT_DELETE, /* -D chain N, or -D chain RULE (pos 0) */
	IPT_REPLACE,
	IPT_ZERO,
	IPT_RENAME, /* -E old new: argv[0] is the new name */
};

struct ipt_cmd {
	unsigned line;
	size_t off, len; /* the line's bytes, without the newline */
	size_t table;	 /* index in ipt_file.tables */
	enum ipt_op op;
	char *chain;
	unsigned long pos; /* -I, -R, -D position (-I: 1 when none; -D by rule: 0) */
	char **argv;	   /* the words after the chain (and position), unquoted */
	size_t argc;
};

struct ipt_chain {
	char *name;
	char *policy; /* "ACCEPT", "DROP", ... or "-" for a user chain */
	unsigned line;
	size_t off;
};

struct ipt_table {
	char *name;
	unsigned line;
	size_t off;
	struct ipt_chain *chains;
	size_t n_chains;
	unsigned commit_line; /* 0: no COMMIT */
	size_t commit_off;
};

struct ipt_file {
	struct ipt_table *tables;
	size_t n_tables;
	struct ipt_cmd *cmds; /* every command line, in file order */
	size_t n_cmds;
};

/* Parse a file. -EINVAL on a line iptables-restore would refuse; then *err_line and *err
 * (caller frees) say where and why; -E2BIG on a line longer than 64 KiB. The number of
 * commands has no limit of its own: the caller bounds the file's size. */
int iptables_save_parse(const char *buf, size_t len, struct ipt_file *out, unsigned *err_line,
			char **err);
void iptables_save_free(struct ipt_file *f);
/* The chain declaration of a table, or NULL. */
const struct ipt_chain *iptables_save_chain(const struct ipt_table *t, const char *name);

/* A place where traffic enters the rules: a table's chain and the verdict when it falls off the
 * end (a built-in chain's policy; ufw: its default policy). */
struct ipt_entry {
	const char *table;
	const char *chain;
	bool out;	    /* the reply direction (OUTPUT): peer is -d, sshd's port is --sport */
	const char *policy; /* NULL: the chain's declared policy */
	bool new_only;	    /* established packets are accepted before this chain (ufw) */
	bool top_level;	    /* fixes go on the entry chain's rules, never inside jumped-to
			       chains (ufw's tuples describe only the entry chain) */
};
/* The hooks a connection to a local sshd passes through, in kernel order. */
extern const struct ipt_entry IPT_HOOKS[];
extern const size_t IPT_N_HOOKS;

enum ipt_fix_kind {
	IPT_FIX_COMMENT, /* comment out command cmd */
	IPT_FIX_INSERT,	 /* add an accept rule in front of command cmd (SIZE_MAX: end of chain) */
	IPT_FIX_SET,	 /* take the protected sources out of set `set` (ipset_clear_edits()):
			    command cmd matches on it and blocks; the rules file stays */
};

struct ipt_fix {
	enum ipt_fix_kind kind;
	size_t cmd;   /* index in ipt_file.cmds; SIZE_MAX: at the end of the chain */
	size_t table; /* index in ipt_file.tables */
	char *chain;
	bool out;  /* the accept is for the reply direction */
	char *why; /* one line: why this rule blocks the scope's traffic */
	char *set; /* IPT_FIX_SET: the set's name */
	bool nd;   /* the accepts are for IPv6 neighbour discovery (ICMPv6 133-136), not TCP */
	/* In a chain shaped by -I/-D/-R, a line's place in the file is not the rule's place in
	 * the chain: the accept goes just before the table's COMMIT, as "-I chain pos" (pos: the
	 * blocking rule's place once the file is loaded) or "-A chain" (pos 0). */
	bool at_commit;
	unsigned long pos;
};

struct ipt_fixes {
	struct ipt_fix *v;
	size_t n, cap;
	bool unsupported; /* a rule order the analysis cannot follow: see note */
	char *note;
};
void ipt_fixes_free(struct ipt_fixes *f);

/* Find the smallest set of fixes after which every packet of the scope is accepted at every
 * entry (entries absent from the file are skipped). */
int iptables_save_analyze(const struct ipt_file *f, const struct fw_scope *s,
			  const struct ipt_entry *entries, size_t n_entries, struct ipt_fixes *out);

/* The words of an accept rule for the scope ("-s a,b -p tcp -m tcp --dport 22 -j ACCEPT"),
 * without "-A chain"; caller frees. */
char *iptables_save_accept_words(const struct fw_scope *s, bool out);
/* The words of the i-th accept rule a fix adds (the scope's TCP: one; neighbour discovery: one
 * per ICMPv6 type 133-136), NULL past the last; caller frees. */
char *iptables_save_fix_words(const struct fw_scope *s, const struct ipt_fix *x, unsigned i);

/* The fixes as edits of the file (root.h): a commented line gets marker ("# sshrescue ID: ")
 * in front; an inserted rule goes on a line of its own, announced by a marker comment line that
 * gives the reason. Fixes must come from iptables_save_analyze() on the same file. */
void iptables_save_edits(const char *buf, size_t len, const struct ipt_file *f,
			 const struct ipt_fixes *fx, const struct fw_scope *s, const char *marker,
			 const struct fw_edit_sink *out);
/* Byte offset of the line after the one at off (len when it is the last). */
size_t iptables_save_next_line(const char *buf, size_t len, size_t off);

#endif
