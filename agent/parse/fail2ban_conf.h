/* fail2ban_conf.h: fail2ban's configuration files as data. One file is parsed as Python's
 * configparser reads it with fail2ban's settings (sections, case-insensitive keys, "=" or ":",
 * indented continuation lines, "#"/";" comment lines, " ;" inline comments, duplicates
 * rejected); several files are merged in the order fail2ban reads them, keeping each key's
 * history so that %(known/key)s, %(key)s, %(section/key)s and %(__name__)s interpolate as
 * fail2ban does. Pure: no I/O. */
#ifndef SSHRESCUE_FAIL2BAN_CONF_H
#define SSHRESCUE_FAIL2BAN_CONF_H

#include <stdbool.h>
#include <stddef.h>

#include "util.h"

#define F2B_DEFAULT "DEFAULT"
#define F2B_INCLUDES "INCLUDES"

/* One "key = value" of one file. */
struct f2b_entry {
	char *key;     /* lower case, as configparser stores it */
	char *value;   /* raw: continuation lines joined with '\n', trailing blank lines dropped */
	unsigned line; /* 1-based line of the key */
};

struct f2b_section {
	char *name; /* as written (section names are case-sensitive) */
	unsigned line;
	struct f2b_entry *v;
	size_t n;
};

/* One file: its sections in file order (a section written twice is an error, except
 * [DEFAULT], whose parts are joined). */
struct f2b_file {
	struct f2b_section *v;
	size_t n;
};

/* Parse one file. -EINVAL when fail2ban would refuse it (no section header, a line that is
 * neither a section, a key nor a continuation, a duplicate section or key), with the line in
 * *err_line and a message in *err (caller frees). *out holds what came before the error. */
int f2b_file_parse(const char *buf, size_t len, struct f2b_file *out, unsigned *err_line,
		   char **err);
void f2b_file_free(struct f2b_file *f);
const struct f2b_entry *f2b_file_get(const struct f2b_file *f, const char *section,
				     const char *key);
/* The files an [INCLUDES] key ("before" or "after") names, one per line, in order. */
void f2b_file_includes(const struct f2b_file *f, const char *key, struct strv *out);

/* One value a key had, and where it was set. */
struct f2b_value {
	char *value;
	size_t origin; /* index into f2b_conf.origins */
	unsigned line;
};

/* A key of a section with every value the merged files gave it, the one in force last. */
struct f2b_key {
	char *section, *key;
	struct f2b_value *hist;
	size_t n;
};

struct f2b_conf {
	struct f2b_key *v;
	size_t n;
	struct strv sections;	/* every section but DEFAULT and INCLUDES, in order of appearance */
	struct strv origins;	/* the merged files' names, for messages */
	unsigned *section_line; /* first header line of each section (parallel to sections) */
	size_t *section_origin;
};

/* Merge one more file over what came before: a key it sets replaces the earlier value (whose
 * value %(known/key)s still reaches). origin names the file in messages. */
void f2b_conf_merge(struct f2b_conf *c, const struct f2b_file *f, const char *origin);
void f2b_conf_free(struct f2b_conf *c);
bool f2b_conf_has_section(const struct f2b_conf *c, const char *section);
/* The value in force for key as seen from section: the section's own, else [DEFAULT]'s;
 * NULL when neither sets it. *own (may be NULL) tells which. */
const struct f2b_value *f2b_conf_lookup(const struct f2b_conf *c, const char *section,
					const char *key, bool *own);
/* The history of key in section itself (NULL if it never set it). */
const struct f2b_key *f2b_conf_key(const struct f2b_conf *c, const char *section, const char *key);
/* The interpolated value of key as fail2ban reads it from section. 0; -ENOENT when the key
 * (or a name it refers to) is not set; -EINVAL for a '%' that is not "%%" or "%(name)s";
 * -ELOOP when references nest deeper than configparser allows; -E2BIG when they would take
 * more than 10,000 steps or make more than 1 MiB (references that multiply). */
int f2b_conf_get(const struct f2b_conf *c, const char *section, const char *key, char **out);
/* Interpolate a raw value as if it were key's value in section (for values computed by the
 * caller); same results as f2b_conf_get. */
int f2b_conf_interpolate(const struct f2b_conf *c, const char *section, const char *key,
			 const char *raw, char **out);

/* Split a list value (ignoreip) into words: separated by white space or commas. */
void f2b_split_words(const char *value, struct strv *out);

/* One action of a jail's interpolated `action` value: "name[opt=value, opt="v, w"][opt2=x]". */
struct f2b_action {
	char *name;	   /* the action.d file ("iptables-multiport"), or "smtp.py" */
	struct strv keys;  /* options given in brackets, in order */
	struct strv values;
};
/* Split an action value into its actions as fail2ban's splitWithOptions and extractOptions do
 * (actions separated by white space or new lines; bracket options with "..." or '...' values,
 * or bare values up to ',' or ']'). -EINVAL for what fail2ban refuses ("Invalid action
 * definition"); *out holds the actions before it. */
int f2b_actions_parse(const char *value, struct f2b_action **out, size_t *n);
void f2b_actions_free(struct f2b_action *a, size_t n);
/* The value of a bracket option, or NULL. */
const char *f2b_action_option(const struct f2b_action *a, const char *key);

/* Does an action's port list ("ssh", "22,2222", "1:65535", "http, https", "1000-2000") hold
 * port? Words are separated by commas or white space; a word is a number, a range "a:b" or
 * "a-b", or a service name that service() resolves. -EINVAL when a word is none of these
 * (then nobody can tell, fail2ban's action included). */
int f2b_ports_cover(const char *spec, unsigned port,
		    int (*service)(void *arg, const char *name, unsigned *port), void *arg,
		    bool *covers);

#endif
