/* config.c: the policy file. One table names every key; it drives parsing, validation and
 * --help-policy, so the three never disagree. */
#include "config.h"

#include <errno.h>
#include <ini.h>
#include <stddef.h>
#include <string.h>
#include <strings.h>

enum key_type { KEY_BOOL, KEY_STRING, KEY_PATH, KEY_UINT, KEY_ENUM, KEY_CIDRS, KEY_STRV };

struct key {
	const char *section, *name;
	enum key_type type;
	size_t offset;
	const char *def;
	const char *const *values; /* KEY_ENUM: names, index = value */
	unsigned long min, max;    /* KEY_UINT */
	const char *help;
};

static const char *const after_values[] = { "none", "reboot", "poweroff", NULL };
static const char *const scope_values[] = { "protected", "all", NULL };
static const char *const flavor_values[] = { "post", "gce-guest-attributes", "aws-imdsv2", NULL };

#define OFF(field) offsetof(struct config, field)
static const struct key keys[] = {
	{ "agent", "protect", KEY_CIDRS, OFF(protect), "", NULL, 0, 0,
	  "source networks that must reach sshd (CIDR, comma or space separated); empty: every source" },
	{ "agent", "after", KEY_ENUM, OFF(after), "none", after_values, 0, 0,
	  "what a rescue boot does when done: none | reboot | poweroff" },
	{ "agent", "backup_dir", KEY_PATH, OFF(backup_dir), "/var/lib/sshrescue/backups", NULL, 0, 0,
	  "where originals are kept, inside the instance root; one directory per run" },
	{ "target", "root", KEY_STRING, OFF(target_root), "auto", NULL, 0, 0,
	  "the instance root: auto | /dev/... | UUID=... | LABEL=... | PARTUUID=..." },
	{ "hosts_access", "enabled", KEY_BOOL, OFF(hosts_access_enabled), "yes", NULL, 0, 0,
	  "make tcpd (hosts.allow, hosts.deny) grant sshd to the protected sources" },
	{ "denyhosts", "enabled", KEY_BOOL, OFF(denyhosts_enabled), "yes", NULL, 0, 0,
	  "remove DenyHosts' entries for protected sources and stop it from writing them back" },
	{ "denyhosts", "work_dir", KEY_PATH, OFF(denyhosts_work_dir), "/var/lib/denyhosts", NULL, 0, 0,
	  "DenyHosts' WORK_DIR (the instance's denyhosts.conf wins when it names another)" },
	{ "denyhosts", "scope", KEY_ENUM, OFF(denyhosts_scope), "protected", scope_values, 0, 0,
	  "protected: entries of protected sources | all: every DenyHosts entry for sshd" },
	{ "fail2ban", "enabled", KEY_BOOL, OFF(fail2ban_enabled), "yes", NULL, 0, 0,
	  "lift fail2ban bans of protected sources from its database" },
	{ "fail2ban", "jails", KEY_STRING, OFF(fail2ban_jails), "sshd", NULL, 0, 0,
	  "jails to clear: comma list, or *" },
	{ "fail2ban", "scope", KEY_ENUM, OFF(fail2ban_scope), "protected", scope_values, 0, 0,
	  "protected: bans of protected sources | all: every ban of the chosen jails" },
	{ "fail2ban", "ignoreip", KEY_BOOL, OFF(fail2ban_ignoreip), "yes", NULL, 0, 0,
	  "add the protected networks to the jails' ignoreip" },
	{ "firewall", "enabled", KEY_BOOL, OFF(firewall_enabled), "yes", NULL, 0, 0,
	  "let protected sources through persisted firewall rules to sshd's port" },
	{ "sshd", "enabled", KEY_BOOL, OFF(sshd_enabled), "yes", NULL, 0, 0,
	  "fix sshd settings that drop connections before the banner" },
	{ "sshd", "min_max_startups", KEY_UINT, OFF(sshd_min_max_startups), "10", NULL, 1, 100000,
	  "smallest acceptable MaxStartups start value" },
	{ "sshd", "max_startups", KEY_STRING, OFF(sshd_max_startups), "10:30:100", NULL, 0, 0,
	  "the MaxStartups value written where it is too low (start:rate:full or a number)" },
	{ "sshd", "host_keys", KEY_BOOL, OFF(sshd_host_keys), "yes", NULL, 0, 0,
	  "check host keys (present, root-owned, mode sshd accepts) and the privsep directory" },
	{ "report", "url", KEY_STRING, OFF(report_url), "", NULL, 0, 0,
	  "where the JSON report is delivered; empty: no delivery" },
	{ "report", "flavor", KEY_ENUM, OFF(report_flavor), "post", flavor_values, 0, 0,
	  "post (JSON body) | gce-guest-attributes | aws-imdsv2" },
	{ "report", "header", KEY_STRV, OFF(report_headers), "", NULL, 0, 0,
	  "an extra \"Name: value\" HTTP header (repeatable)" },
	{ "report", "attempts", KEY_UINT, OFF(report_attempts), "3", NULL, 1, 100,
	  "delivery attempts" },
	{ "report", "timeout", KEY_UINT, OFF(report_timeout), "10", NULL, 1, 3600,
	  "seconds per attempt" },
	{ "report", "deadline", KEY_UINT, OFF(report_deadline), "30", NULL, 1, 86400,
	  "seconds for delivery as a whole" },
	{ "report", "file", KEY_PATH, OFF(report_file), "/var/log/sshrescue/report.json", NULL, 0, 0,
	  "the report inside the instance root, for the owner after the reboot" },
	{ "report", "ca_file", KEY_STRING, OFF(report_ca_file), "", NULL, 0, 0,
	  "a PEM file of CA certificates trusted for the endpoint, besides the system's" },
	{ "report", "imds", KEY_STRING, OFF(report_imds), "", NULL, 0, 0,
	  "the instance metadata service for aws-imdsv2; empty: http://169.254.169.254" },
	{ "report", "console", KEY_BOOL, OFF(report_console), "yes", NULL, 0, 0,
	  "print the summary and a machine-readable report on the console" },
};
#undef OFF

static const struct key *key_find(const char *section, const char *name)
{
	for (size_t i = 0; i < ARRAY_SIZE(keys); i++)
		if (strcasecmp(keys[i].section, section) == 0 && strcasecmp(keys[i].name, name) == 0)
			return &keys[i];
	return NULL;
}

static bool section_known(const char *section)
{
	for (size_t i = 0; i < ARRAY_SIZE(keys); i++)
		if (strcasecmp(keys[i].section, section) == 0)
			return true;
	return false;
}

static int parse_bool(const char *v, bool *out)
{
	static const char *const yes[] = { "yes", "true", "on", "1" };
	static const char *const no[] = { "no", "false", "off", "0" };
	for (size_t i = 0; i < ARRAY_SIZE(yes); i++) {
		if (strcasecmp(v, yes[i]) == 0) {
			*out = true;
			return 0;
		}
		if (strcasecmp(v, no[i]) == 0) {
			*out = false;
			return 0;
		}
	}
	return -EINVAL;
}

/* Store value into the field of k; *why explains a bad value. */
static int key_set(struct config *cfg, const struct key *k, const char *value, char **why)
{
	void *field = (char *)cfg + k->offset;
	switch (k->type) {
	case KEY_BOOL:
		if (parse_bool(value, field) < 0) {
			*why = xasprintf("'%s' is not yes or no", value);
			return -EINVAL;
		}
		return 0;
	case KEY_PATH:
		if (value[0] != '/') {
			*why = xasprintf("'%s' is not an absolute path", value);
			return -EINVAL;
		}
		/* fallthrough */
	case KEY_STRING:
		free(*(char **)field);
		*(char **)field = xstrdup(value);
		return 0;
	case KEY_UINT: {
		unsigned long v;
		if (parse_uint(value, k->min, k->max, &v) < 0) {
			*why = xasprintf("'%s' is not a whole number from %lu to %lu", value, k->min,
					 k->max);
			return -EINVAL;
		}
		*(unsigned long *)field = v;
		return 0;
	}
	case KEY_ENUM:
		for (int i = 0; k->values[i]; i++) {
			if (strcasecmp(value, k->values[i]) == 0) {
				*(int *)field = i;
				return 0;
			}
		}
		{
			struct buf b = { 0 };
			for (int i = 0; k->values[i]; i++)
				buf_printf(&b, "%s%s", i ? " | " : "", k->values[i]);
			*why = xasprintf("'%s' is not one of %s", value, b.data);
			buf_free(&b);
		}
		return -EINVAL;
	case KEY_CIDRS: {
		struct cidr_list *l = field;
		size_t bad = 0;
		struct cidr_list tmp = { 0 };
		if (cidr_list_parse(value, &tmp, &bad) < 0) {
			const char *tok = value + bad;
			size_t n = strcspn(tok, ", \t");
			*why = xasprintf("'%.*s' is not an address or network (CIDR)", (int)n, tok);
			cidr_list_free(&tmp);
			return -EINVAL;
		}
		for (size_t i = 0; i < tmp.n; i++)
			cidr_list_add(l, &tmp.v[i]);
		cidr_list_free(&tmp);
		return 0;
	}
	case KEY_STRV:
		if (*value) {
			if (k->offset == offsetof(struct config, report_headers) &&
			    (!strchr(value, ':') || strpbrk(value, "\r\n"))) {
				*why = xasprintf("'%s' is not a \"Name: value\" header", value);
				return -EINVAL;
			}
			strv_push(field, value);
		}
		return 0;
	}
	return -EINVAL;
}

void config_init(struct config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	for (size_t i = 0; i < ARRAY_SIZE(keys); i++) {
		char *why = NULL;
		if (key_set(cfg, &keys[i], keys[i].def, &why) < 0)
			abort(); /* a bad default is a bug in the table */
	}
}

struct load_ctx {
	struct config *cfg;
	const char *name;
	char *err;	    /* the first error, without its line */
	int err_line;	    /* the line the first error is about; 0: the one inih returns */
	/* The reader's position: inih tells the handler neither the line nor where the section
	 * began, so the reader counts lines and notes each section header's line. */
	FILE *file;	    /* read from this ... */
	const char *text;   /* ... or from this string */
	int line;	    /* lines read so far */
	int section_line;   /* the line of the current section's header */
	bool at_line_start; /* the next read begins a new line */
};

/* fgets() for inih that counts lines and remembers where the last "[section]" began. */
static char *policy_ini_reader(char *str, int num, void *stream)
{
	struct load_ctx *c = stream;
	char *got;
	if (c->file) {
		got = fgets(str, num, c->file);
	} else {
		if (!*c->text || num < 2)
			return NULL;
		int n = 0;
		while (n < num - 1 && c->text[n] && c->text[n] != '\n')
			n++;
		if (n < num - 1 && c->text[n] == '\n')
			n++;
		memcpy(str, c->text, (size_t)n);
		str[n] = '\0';
		c->text += n;
		got = str;
	}
	if (!got)
		return NULL;
	if (c->at_line_start) {
		c->line++;
		const char *p = str;
		while (*p == ' ' || *p == '\t')
			p++;
		if (*p == '[')
			c->section_line = c->line;
	}
	size_t len = strlen(str);
	c->at_line_start = len > 0 && str[len - 1] == '\n';
	return got;
}

/* Debian's inih passes no line number to the handler; returning 0 makes ini_parse_*() return
 * the line of the first error, and only the first error is kept, so the two agree. */
static int policy_ini_handler(void *user, const char *section, const char *name,
			      const char *value)
{
	struct load_ctx *c = user;
	if (c->err)
		return 1; /* keep only the first error */
	const struct key *k = key_find(section, name);
	if (!k) {
		if (!section_known(section)) {
			c->err = xasprintf("unknown section [%s]", *section ? section : "(none)");
			/* the header is what is wrong, not the first key under it */
			if (*section)
				c->err_line = c->section_line;
		} else {
			c->err = xasprintf("unknown key '%s' in [%s]", name, section);
		}
		return 0;
	}
	char *why = NULL;
	if (key_set(c->cfg, k, value, &why) < 0) {
		c->err = xasprintf("[%s] %s: %s", k->section, k->name, why);
		free(why);
		return 0;
	}
	return 1;
}

static int finish_load(struct load_ctx *c, int rc, char **err)
{
	if (c->err) {
		*err = xasprintf("%s:%d: %s", c->name, c->err_line ? c->err_line : rc, c->err);
		free(c->err);
		return -EINVAL;
	}
	if (rc > 0) {
		*err = xasprintf("%s:%d: not an INI line ([section] or key = value)", c->name, rc);
		return -EINVAL;
	}
	if (rc < 0) {
		*err = xasprintf("%s: cannot read: %s", c->name, rc == -1 ? strerror(errno) : "out of memory");
		return rc == -1 ? -EIO : -ENOMEM;
	}
	return 0;
}

int config_load(struct config *cfg, const char *path, char **err)
{
	_cleanup_fclose_ FILE *f = fopen(path, "re");
	if (!f) {
		int rc = -errno;
		*err = xasprintf("%s: %s", path, strerror(errno));
		return rc;
	}
	struct load_ctx c = { .cfg = cfg, .name = path, .file = f, .at_line_start = true };
	int rc = ini_parse_stream(policy_ini_reader, &c, policy_ini_handler, &c);
	return finish_load(&c, rc, err);
}

int config_load_string(struct config *cfg, const char *text, const char *name, char **err)
{
	struct load_ctx c = { .cfg = cfg, .name = name, .text = text, .at_line_start = true };
	int rc = ini_parse_stream(policy_ini_reader, &c, policy_ini_handler, &c);
	return finish_load(&c, rc, err);
}

int config_set(struct config *cfg, const char *section, const char *key, const char *value,
	       char **err)
{
	const struct key *k = key_find(section, key);
	if (!k) {
		*err = xasprintf("unknown key [%s] %s", section, key);
		return -EINVAL;
	}
	char *why = NULL;
	int rc = key_set(cfg, k, value, &why);
	if (rc < 0) {
		*err = xasprintf("[%s] %s: %s", section, key, why);
		free(why);
	}
	return rc;
}

void config_free(struct config *cfg)
{
	for (size_t i = 0; i < ARRAY_SIZE(keys); i++) {
		void *field = (char *)cfg + keys[i].offset;
		switch (keys[i].type) {
		case KEY_STRING:
		case KEY_PATH:
			free(*(char **)field);
			break;
		case KEY_CIDRS:
			cidr_list_free(field);
			break;
		case KEY_STRV:
			strv_free(field);
			break;
		default:
			break;
		}
	}
	memset(cfg, 0, sizeof(*cfg));
}

void config_print_help(FILE *out)
{
	const char *section = NULL;
	fputs("# sshrescue policy file: every key, with its default. See sshrescue-policy(5).\n", out);
	for (size_t i = 0; i < ARRAY_SIZE(keys); i++) {
		const struct key *k = &keys[i];
		if (!section || strcmp(section, k->section) != 0) {
			section = k->section;
			fprintf(out, "\n[%s]\n", section);
		}
		fprintf(out, "; %s\n", k->help);
		fprintf(out, "%s = %s\n", k->name, k->def);
	}
}
