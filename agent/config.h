/* config.h: the policy file (INI, read with inih) as a typed struct. One table in config.c
 * names every section and key with its type, default and help; it drives parsing, validation
 * and `sshrescue --help-policy`. */
#ifndef SSHRESCUE_CONFIG_H
#define SSHRESCUE_CONFIG_H

#include <stdbool.h>

#include "parse/cidr.h"
#include "util.h"

enum after_action { AFTER_NONE, AFTER_REBOOT, AFTER_POWEROFF };
enum scope { SCOPE_PROTECTED, SCOPE_ALL };
enum report_flavor { FLAVOR_POST, FLAVOR_GCE, FLAVOR_AWS, FLAVOR_PUT };

struct config {
	/* [agent] */
	struct cidr_list protect;
	unsigned long agent_deadline; /* seconds for the whole run (spawn.c enforces it) */
	bool strict; /* findings of severity risk count as problems too */
	int after; /* enum after_action */
	char *backup_dir;
	/* [target] */
	char *target_root;
	/* [hosts_access] */
	bool hosts_access_enabled;
	/* [denyhosts] */
	bool denyhosts_enabled;
	char *denyhosts_work_dir;
	int denyhosts_scope; /* enum scope */
	/* [fail2ban] */
	bool fail2ban_enabled;
	char *fail2ban_jails;
	int fail2ban_scope; /* enum scope */
	bool fail2ban_ignoreip;
	/* [firewall] */
	bool firewall_enabled;
	/* [sshguard] */
	bool sshguard_enabled;
	/* [csf] */
	bool csf_enabled;
	/* [sshd] */
	bool sshd_enabled;
	unsigned long sshd_min_max_startups;
	char *sshd_max_startups;
	bool sshd_host_keys;
	/* [report] */
	char *report_url;
	int report_flavor; /* enum report_flavor */
	struct strv report_headers;
	unsigned long report_attempts;
	unsigned long report_timeout;
	unsigned long report_deadline;
	char *report_file;
	char *report_ca_file;
	char *report_imds;
	bool report_console;
};

/* Fill cfg with the built-in defaults. */
void config_init(struct config *cfg);
/* Read a policy file over the defaults. A missing file is -ENOENT (the caller decides whether
 * that is fine); a syntax error, unknown section or key, or bad value is -EINVAL with
 * "FILE:LINE: message" in *err. */
int config_load(struct config *cfg, const char *path, char **err);
/* Same, from a string (tests, fuzzing); name is used in messages. */
int config_load_string(struct config *cfg, const char *text, const char *name, char **err);
/* Set one key as if it were in the file (command-line overrides); -EINVAL with *err. */
int config_set(struct config *cfg, const char *section, const char *key, const char *value,
	       char **err);
void config_free(struct config *cfg);
/* Print every section and key with its default and help (sshrescue --help-policy). */
void config_print_help(FILE *out);

#endif
