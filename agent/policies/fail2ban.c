/* fail2ban.c: the `fail2ban` policy. fail2ban keeps its bans in an SQLite database and
 * restores them at every start (0.11+ from `bips`, 0.9-0.10 from `bans`), so a locked-out
 * owner stays banned across reboots. The policy deletes the chosen jails' ban rows of
 * protected addresses (scope = all: every row) from the database the instance's own
 * fail2ban.conf names, keeps `logs` (the read positions: without them fail2ban reads whole
 * logs again and bans everyone again), adds the protected networks to the jails' ignoreip
 * in a file of its own in jail.d, and on a live system tells the running server. SQLite opens
 * no file of the instance for writing: offline, and in every check, the database (with its
 * -wal) is copied into a private directory of the host, examined and edited there, and the
 * repaired copy replaces the instance's file by rename through root.c (db_put_back()), so a
 * run killed at any point leaves the original or the repaired database, and a hard link or a
 * planted -wal never makes SQLite write a file outside the root. */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <sqlite3.h>
#include <string.h>
#include <strings.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>

#include "config.h"
#include "context.h"
#include "parse/cidr.h"
#include "parse/fail2ban_conf.h"
#include "policy.h"
#include "root.h"
#include "spawn.h"
#include "sshd_ports.h"
#include "util.h"

#define F2B_DIR "/etc/fail2ban"
#define F2B_DEFAULT_DB "/var/lib/fail2ban/fail2ban.sqlite3"
#define F2B_OWN_FILE "/etc/fail2ban/jail.d/zz-sshrescue.local"
#define MAX_DETAILED 100
#define MAX_INCLUDE_DEPTH 8
/* Waiting longer for a lock could hang a rescue boot behind a stuck writer; a locked
 * database is reported and left alone. */
#define BUSY_TIMEOUT_MS 250
#define CLIENT_TIMEOUT_S 20
#define CLIENT_MAX_OUTPUT (4u << 20)
#define UNBAN_CHUNK 200
/* SQLite's page cache for the flush, in KiB (negative: a size, not a page count): the whole
 * run stays under 64 MiB of memory; a large flush rebuilds indexes instead (db_delete) */
#define DB_CACHE_KIB_NEG -16384
/* The largest database rewritten (copied, edited, streamed back; never whole in memory):
 * fail2ban purges bans older than a day (dbpurgeage), so a million bans is already an
 * outlier, at about 240 MiB */
#define DB_MAX_REWRITE ((uint64_t)1 << 30)
#define STR_(x) #x
#define STR(x) STR_(x)

struct f2b_jails {
	bool all;	   /* "*": every jail */
	bool autos;	   /* "auto": the enabled jails whose ban blocks sshd's port */
	struct strv names; /* the jails named, and those "auto" stands for once known */
};

struct f2b_run {
	struct policy_ctx *ctx;
	struct policy_result *res;
	struct f2b_jails jails;
	bool have_etc;	   /* /etc/fail2ban exists */
	bool have_db;	   /* a database file was found */
	/* the jails whose bans keep the owner out (jails_scan()); scan_known false: the jail
	 * configuration could not be read, and every jail counts */
	bool scan_known;
	struct strv blocking, blocking_why;
	struct strv uncovered; /* blocking jails outside [fail2ban] jails */
	struct strv notes; /* joined into the result's note */
	struct strv added; /* networks added to ignoreip (for the live server) */
};

static void note(struct f2b_run *run, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void note(struct f2b_run *run, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	strv_push_owned(&run->notes, xvasprintf(fmt, ap));
	va_end(ap);
}

static struct finding *error_finding(struct f2b_run *run, const char *file, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static struct finding *error_finding(struct f2b_run *run, const char *file, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	_cleanup_free_ char *msg = xvasprintf(fmt, ap);
	va_end(ap);
	struct finding *f = policy_add_finding(run->res, file, 0, NULL, "%s", msg);
	f->error = true;
	return f;
}

static bool protects_text(const struct config *cfg, const char *ip)
{
	struct cidr c;
	if (cidr_parse(ip, &c) < 0)
		/* a host name or another ID: only "every source" covers it */
		return cfg->protect.n == 0;
	return policy_protects(cfg, &c);
}

/* ---- fail2ban's configuration files ---- */

static char *dir_of(const char *path)
{
	const char *slash = strrchr(path, '/');
	return slash && slash != path ? xstrndup(path, (size_t)(slash - path)) : xstrdup("/");
}

static bool is_regular(struct root *r, const char *path)
{
	struct stat st;
	return root_stat(r, path, &st) == 0 && S_ISREG(st.st_mode);
}

/* Names in dir ending in suffix, sorted as Python's sorted(glob()) sorts them (hidden files
 * are not matched by '*'). */
static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void list_dir(struct root *r, const char *dir, const char *suffix, struct strv *out)
{
	DIR *d = NULL;
	if (root_opendir(r, dir, &d) < 0)
		return;
	struct strv names = {0};
	struct dirent *de;
	size_t sl = strlen(suffix);
	while ((de = readdir(d))) {
		size_t nl = strlen(de->d_name);
		if (de->d_name[0] == '.' || nl < sl || strcmp(de->d_name + nl - sl, suffix) != 0)
			continue;
		strv_push(&names, de->d_name);
	}
	closedir(d);
	if (names.n)
		qsort(names.v, names.n, sizeof(*names.v), cmp_str);
	for (size_t i = 0; i < names.n; i++)
		strv_push_owned(out, xasprintf("%s/%s", dir, names.v[i]));
	strv_free(&names);
}

struct conf_load {
	struct f2b_run *run;
	struct f2b_conf *conf;
	const char *skip;   /* a file to leave out (sshrescue's own), or NULL */
	bool report;	    /* add findings for unreadable or refused files */
	bool refused;	    /* fail2ban would refuse the configuration */
	bool unreadable;    /* a file could not be read: what it says is unknown */
	struct strv loaded; /* every file merged, in order */
	struct strv list;   /* the top-level list (for the .local expansion of includes) */
};

static void conf_load_file(struct conf_load *cl, const char *path, struct strv *seen, int depth);

/* An included file, followed by its .local sibling (fail2ban's _expandConfFilesWithLocal). */
static void conf_load_expanded(struct conf_load *cl, const char *path, struct strv *seen, int depth)
{
	conf_load_file(cl, path, seen, depth);
	const char *dot = strrchr(path, '.');
	const char *slash = strrchr(path, '/');
	size_t stem = dot && (!slash || dot > slash) ? (size_t)(dot - path) : strlen(path);
	_cleanup_free_ char *local = xasprintf("%.*s.local", (int)stem, path);
	if (strcmp(local, path) != 0 && !strv_contains(&cl->list, local) &&
	    is_regular(cl->run->ctx->root, local))
		conf_load_file(cl, local, seen, depth);
}

static void conf_load_file(struct conf_load *cl, const char *path, struct strv *seen, int depth)
{
	struct f2b_run *run = cl->run;
	if (cl->skip && strcmp(path, cl->skip) == 0)
		return;
	if (depth > MAX_INCLUDE_DEPTH || strv_contains(seen, path))
		return;
	_cleanup_free_ char *data = NULL;
	size_t len;
	int rc = root_read_file(run->ctx->root, path, ROOT_MAX_CONFIG, &data, &len);
	if (rc == -ENOENT)
		return;
	if (rc < 0) {
		cl->unreadable = true;
		/* an attacker's FIFO, device, directory or huge file, or an I/O error (fail2ban's
		 * configparser skips a file it cannot open, and blocks on a FIFO) */
		if (cl->report)
			policy_unreadable(run->res, path, rc, ROOT_MAX_CONFIG,
					  "fail2ban's configuration file cannot be read",
					  "its settings were not taken into account");
		return;
	}
	struct f2b_file f;
	unsigned line = 0;
	_cleanup_free_ char *err = NULL;
	if (f2b_file_parse(data, len, &f, &line, &err) < 0) {
		cl->refused = true;
		if (cl->report)
			policy_add_risk(run->res, path, line, NULL,
					"%s: fail2ban refuses this file and does not start: it "
					"bans nobody while so, and once the file is fixed it "
					"starts with the bans of its database",
					err);
		f2b_file_free(&f);
		return;
	}
	strv_push(seen, path);
	struct strv before = {0}, after = {0};
	f2b_file_includes(&f, "before", &before);
	f2b_file_includes(&f, "after", &after);
	_cleanup_free_ char *dir = dir_of(path);
	for (size_t i = 0; i < before.n; i++) {
		_cleanup_free_ char *p = before.v[i][0] == '/'
						 ? xstrdup(before.v[i])
						 : xasprintf("%s/%s", dir, before.v[i]);
		conf_load_expanded(cl, p, seen, depth + 1);
	}
	f2b_conf_merge(cl->conf, &f, path);
	strv_push(&cl->loaded, path);
	for (size_t i = 0; i < after.n; i++) {
		_cleanup_free_ char *p = after.v[i][0] == '/' ? xstrdup(after.v[i])
							      : xasprintf("%s/%s", dir, after.v[i]);
		conf_load_expanded(cl, p, seen, depth + 1);
	}
	strv_pop(seen);
	strv_free(&before);
	strv_free(&after);
	f2b_file_free(&f);
}

/* NAME.conf, NAME.d/ *.conf, NAME.local, NAME.d/ *.local, in fail2ban's ConfigReader order. */
static void conf_load(struct conf_load *cl, const char *name)
{
	struct root *r = cl->run->ctx->root;
	_cleanup_free_ char *conf = xasprintf("%s/%s.conf", F2B_DIR, name);
	_cleanup_free_ char *local = xasprintf("%s/%s.local", F2B_DIR, name);
	_cleanup_free_ char *d = xasprintf("%s/%s.d", F2B_DIR, name);
	strv_push(&cl->list, conf);
	list_dir(r, d, ".conf", &cl->list);
	strv_push(&cl->list, local);
	list_dir(r, d, ".local", &cl->list);
	struct strv seen = {0};
	for (size_t i = 0; i < cl->list.n; i++)
		conf_load_expanded(cl, cl->list.v[i], &seen, 0);
	strv_free(&seen);
}

static void conf_load_free(struct conf_load *cl)
{
	strv_free(&cl->loaded);
	strv_free(&cl->list);
}

/* ---- which jails keep the owner out ----
 * fail2ban restores a jail's bans when the jail starts, that is when it is enabled. A ban keeps
 * the owner out when one of the jail's actions blocks sshd's port: an action with type
 * (iptables, nftables) or actiontype (firewallcmd-ipset, pf) "allports", one whose commands
 * never use <port> (route, hostsdeny, shorewall: the address whole), or one whose port list
 * (the bracket option, which jail.conf's action_ fills with the jail's `port`, else the
 * action's own [Init] port) holds sshd's port. What cannot be told (an action file missing, an
 * unknown type, a port that is no number or service) counts as blocking. Checked against the
 * commands of the real fail2ban-client -d by tests/integration/fail2ban-jails.sh. */

enum reach { REACH_NONE, REACH_BLOCKS, REACH_UNKNOWN };

/* Actions that tell someone (mail, reporting services) or block in another program (nginx,
 * a CDN, DNS): their bans stop no connection to sshd. */
static const char *const notify_actions[] = {
	"dummy",	 "complain",	      "abuseipdb",	 "blocklist_de", "dshield",
	"mynetwatchman", "xarf-login-attack", "apprise",	 "ipthreat",	 "badips",
	"cloudflare",	 "cloudflare-token",  "nginx-block-map", "nsupdate",	 "smtp.py",
	"badips.py",
};

static bool is_notify_action(const char *name)
{
	if (strncmp(name, "mail", 4) == 0 || strncmp(name, "sendmail", 8) == 0)
		return true;
	for (size_t i = 0; i < ARRAY_SIZE(notify_actions); i++)
		if (strcmp(name, notify_actions[i]) == 0)
			return true;
	return false;
}

/* The instance's /etc/services, tcp entries. */
struct services {
	struct strv names;
	unsigned *ports;
};

static void services_read(struct root *r, struct services *sv)
{
	_cleanup_free_ char *data = NULL;
	size_t len;
	sv->names = (struct strv){0};
	sv->ports = NULL;
	if (root_read_file(r, "/etc/services", ROOT_MAX_CONFIG, &data, &len) < 0)
		return;
	for (char *save = NULL, *line = strtok_r(data, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		line[strcspn(line, "#")] = '\0';
		struct strv w = {0};
		f2b_split_words(line, &w);
		unsigned long port;
		char *slash = w.n >= 2 ? strchr(w.v[1], '/') : NULL;
		if (slash && strcmp(slash, "/tcp") == 0) {
			*slash = '\0';
			if (parse_uint(w.v[1], 0, 65535, &port) == 0) {
				for (size_t i = 0; i < w.n; i++) {
					if (i == 1)
						continue;
					sv->ports = xgrow(sv->ports, sv->names.n, sizeof(*sv->ports));
					sv->ports[sv->names.n] = (unsigned)port;
					strv_push(&sv->names, w.v[i]);
				}
			}
		}
		strv_free(&w);
	}
}

static int service_port(void *arg, const char *name, unsigned *port)
{
	const struct services *sv = arg;
	for (size_t i = 0; i < sv->names.n; i++) {
		if (strcmp(sv->names.v[i], name) == 0) {
			*port = sv->ports[i];
			return 0;
		}
	}
	/* an instance without netbase's /etc/services: the numbers IANA gives the names
	 * fail2ban's jail.conf uses */
	static const struct {
		const char *name;
		unsigned port;
	} iana[] = {
		{"domain", 53},	    {"ftp", 21},     {"ftp-data", 20},	{"ftps", 990},
		{"ftps-data", 989}, {"http", 80},    {"https", 443},	{"imap", 143},
		{"imap2", 143},	    {"imaps", 993},  {"ldap", 389},	{"ldaps", 636},
		{"pop3", 110},	    {"pop3s", 995},  {"sieve", 4190},	{"smtp", 25},
		{"socks", 1080},    {"ssh", 22},     {"ssmtp", 465},	{"submission", 587},
	};
	for (size_t i = 0; !sv->names.n && i < ARRAY_SIZE(iana); i++) {
		if (strcmp(iana[i].name, name) == 0) {
			*port = iana[i].port;
			return 0;
		}
	}
	return -ENOENT;
}

struct jail_scan {
	struct f2b_run *run;
	unsigned *ports;
	size_t n_ports;
	struct services sv;
};

/* A value of an action as fail2ban gives it: the jail's bracket option, else the action
 * file's [Init], else its [Definition]; NULL when none sets it (or it cannot be read). */
static char *action_value(const struct f2b_conf *ac, const struct f2b_action *a, const char *key)
{
	const char *o = f2b_action_option(a, key);
	if (o)
		return xstrdup(o);
	static const char *const secs[] = {"Init", "Definition"};
	for (size_t i = 0; i < ARRAY_SIZE(secs); i++) {
		char *v = NULL;
		if (f2b_conf_key(ac, secs[i], key) && f2b_conf_get(ac, secs[i], key, &v) == 0)
			return v;
		free(v);
	}
	return NULL;
}

/* Does the protocol list let the ban reach TCP? Only a list of other known protocols
 * (udp, icmp, ...) does not. */
static bool protocol_has_tcp(const char *protocol)
{
	static const char *const other[] = {"udp", "icmp", "icmpv6", "ipv6-icmp",
					    "sctp", "udplite", "dccp"};
	struct strv w = {0};
	f2b_split_words(protocol, &w);
	bool tcp = w.n == 0;
	for (size_t i = 0; i < w.n && !tcp; i++) {
		bool known = false;
		for (size_t j = 0; j < ARRAY_SIZE(other); j++)
			known |= strcasecmp(w.v[i], other[j]) == 0;
		tcp = !known;
	}
	strv_free(&w);
	return tcp;
}

/* Does any definition of the action (its commands, and what they interpolate) use <port>? */
static bool action_uses_port(const struct f2b_conf *ac)
{
	for (size_t i = 0; i < ac->n; i++)
		for (size_t j = 0; j < ac->v[i].n; j++)
			if (strstr(ac->v[i].hist[j].value, "<port>"))
				return true;
	return false;
}

static enum reach action_reach(struct jail_scan *js, const struct f2b_action *a, char **why)
{
	if (is_notify_action(a->name)) {
		*why = xasprintf("%s blocks nothing", a->name);
		return REACH_NONE;
	}
	if (strchr(a->name, '/') || strcmp(a->name, "..") == 0 || strstr(a->name, ".py")) {
		*why = xasprintf("action %s is not known to sshrescue (counted as blocking)",
				 a->name);
		return REACH_UNKNOWN;
	}
	struct f2b_conf ac = {0};
	struct conf_load cl = {.run = js->run, .conf = &ac};
	_cleanup_free_ char *file = xasprintf("action.d/%s", a->name);
	conf_load(&cl, file);
	enum reach r;
	_cleanup_free_ char *type = NULL, *atype = NULL, *port = NULL, *proto = NULL;
	if (!cl.loaded.n || cl.refused || cl.unreadable) {
		*why = xasprintf("action %s cannot be read in %s/action.d (counted as blocking)",
				 a->name, F2B_DIR);
		r = REACH_UNKNOWN;
		goto out;
	}
	type = action_value(&ac, a, "type");
	atype = action_value(&ac, a, "actiontype");
	port = action_value(&ac, a, "port");
	proto = action_value(&ac, a, "protocol");
	bool all;
	if (type && strcmp(type, "allports") == 0)
		all = true;
	else if (type && (strcmp(type, "multiport") == 0 || strcmp(type, "oneport") == 0))
		all = false;
	else if (!type && atype && strcmp(atype, "<allports>") == 0)
		all = true;
	else if (!type && atype && strcmp(atype, "<multiport>") == 0)
		all = false;
	else if (type || atype) {
		*why = xasprintf("action %s of type %s is not known to sshrescue (counted as "
				 "blocking)",
				 a->name, type ? type : atype);
		r = REACH_UNKNOWN;
		goto out;
	} else {
		/* no type: an action whose commands use <port> blocks those ports (bsd-ipfw:
		 * blank is every port); one that does not (route, hostsdeny, shorewall) blocks
		 * the address whole, whatever port the jail passes it */
		all = !action_uses_port(&ac) || !port || !*strstrip(port);
	}
	if (proto && !protocol_has_tcp(proto)) {
		*why = xasprintf("%s blocks protocol %s only", a->name, proto);
		r = REACH_NONE;
		goto out;
	}
	if (all) {
		*why = xasprintf("%s blocks every port", a->name);
		r = REACH_BLOCKS;
		goto out;
	}
	if (!port) {
		*why = xasprintf("action %s names no port (counted as blocking)", a->name);
		r = REACH_UNKNOWN;
		goto out;
	}
	r = REACH_NONE;
	for (size_t i = 0; i < js->n_ports; i++) {
		bool covers;
		if (f2b_ports_cover(port, js->ports[i], service_port, &js->sv, &covers) < 0) {
			*why = xasprintf("%s blocks ports \"%s\", which sshrescue cannot read "
					 "(counted as blocking)",
					 a->name, port);
			r = REACH_UNKNOWN;
			goto out;
		}
		if (covers) {
			*why = xasprintf("%s blocks ports %s, sshd's port %u among them", a->name,
					 port, js->ports[i]);
			r = REACH_BLOCKS;
			goto out;
		}
	}
	*why = xasprintf("%s blocks ports %s only", a->name, port);
out:
	f2b_conf_free(&ac);
	conf_load_free(&cl);
	return r;
}

/* fail2ban's getboolean; what it cannot read counts as enabled here */
static bool jail_enabled(const struct f2b_conf *jc, const char *jail)
{
	_cleanup_free_ char *v = NULL;
	if (f2b_conf_get(jc, jail, "enabled", &v) == -ENOENT)
		return false;
	if (!v)
		return true;
	const char *t = strstrip(v);
	return !(strcasecmp(t, "false") == 0 || strcasecmp(t, "no") == 0 ||
		 strcasecmp(t, "off") == 0 || strcmp(t, "0") == 0);
}

/* Does one enabled jail keep the owner out? *why says how (caller frees). */
static bool jail_scan_one(struct jail_scan *js, const struct f2b_conf *jc, const char *jail,
			  char **why)
{
	_cleanup_free_ char *action = NULL;
	int rc = f2b_conf_get(jc, jail, "action", &action);
	if (rc < 0) {
		*why = rc == -ENOENT ? xstrdup("no action is set, not even in jail.conf's "
					       "[DEFAULT] (counted as blocking)")
				     : xasprintf("its action cannot be interpolated (%s; counted "
						 "as blocking)",
						 strerror(-rc));
		return true;
	}
	struct f2b_action *acts = NULL;
	size_t n = 0;
	if (f2b_actions_parse(action, &acts, &n) < 0) {
		f2b_actions_free(acts, n);
		free(acts);
		*why = xstrdup("fail2ban refuses its action (counted as blocking)");
		return true;
	}
	bool blocks = false;
	struct buf b = {0};
	for (size_t i = 0; i < n; i++) {
		_cleanup_free_ char *w = NULL;
		enum reach r = action_reach(js, &acts[i], &w);
		if (r != REACH_NONE && !blocks) {
			blocks = true;
			buf_free(&b);
		}
		if ((r != REACH_NONE) == blocks)
			buf_printf(&b, "%s%s", b.len ? "; " : "", w);
	}
	f2b_actions_free(acts, n);
	free(acts);
	*why = b.data ? b.data : xstrdup("it has no action");
	return blocks;
}

static bool jail_blocks(const struct f2b_run *run, const char *jail, char **why)
{
	if (!run->scan_known) {
		*why = xstrdup("fail2ban's jail configuration cannot be read, so every jail counts "
			       "as blocking sshd's port");
		return true;
	}
	for (size_t i = 0; i < run->blocking.n; i++) {
		if (strcmp(run->blocking.v[i], jail) == 0) {
			*why = xasprintf("the jail's action blocks sshd's port (%s)",
					 run->blocking_why.v[i]);
			return true;
		}
	}
	*why = xstrdup("the jail is not enabled, or its action does not block sshd's port");
	return false;
}

/* Which enabled jails keep the owner out; resolves "auto" in [fail2ban] jails, and the
 * blocking jails it leaves out. */
static void jails_scan(struct f2b_run *run)
{
	struct jail_scan js = {.run = run};
	js.ports = instance_ports_copy(run->ctx->instance, &js.n_ports);
	services_read(run->ctx->root, &js.sv);
	struct f2b_conf jc = {0};
	struct conf_load cl = {.run = run, .conf = &jc};
	if (run->have_etc)
		conf_load(&cl, "jail");
	run->scan_known = cl.loaded.n && !cl.refused && !cl.unreadable;
	struct buf b = {0};
	for (size_t i = 0; run->scan_known && i < jc.sections.n; i++) {
		const char *jail = jc.sections.v[i];
		if (!jail_enabled(&jc, jail))
			continue;
		char *why = NULL;
		if (jail_scan_one(&js, &jc, jail, &why)) {
			strv_push(&run->blocking, jail);
			strv_push_owned(&run->blocking_why, why);
			buf_printf(&b, "%s%s (%s)", b.len ? ", " : "", jail, why);
		} else {
			free(why);
		}
	}
	if (!run->scan_known && run->jails.autos) {
		note(run, "fail2ban's jail configuration cannot be read: jails = auto takes every "
			  "jail");
		run->jails.all = true;
	} else if (run->scan_known) {
		struct buf pb = {0};
		for (size_t i = 0; i < js.n_ports; i++)
			buf_printf(&pb, "%s%u", i ? ", " : "", js.ports[i]);
		note(run, "enabled jails whose bans block sshd's port %s: %s", pb.data,
		     b.len ? b.data : "none");
		buf_free(&pb);
	}
	for (size_t i = 0; run->jails.autos && i < run->blocking.n; i++)
		if (!strv_contains(&run->jails.names, run->blocking.v[i]))
			strv_push(&run->jails.names, run->blocking.v[i]);
	for (size_t i = 0; !run->jails.all && i < run->blocking.n; i++)
		if (!strv_contains(&run->jails.names, run->blocking.v[i]))
			strv_push(&run->uncovered, run->blocking.v[i]);
	buf_free(&b);
	f2b_conf_free(&jc);
	conf_load_free(&cl);
	free(js.ports);
	strv_free(&js.sv.names);
	free(js.sv.ports);
}

/* ---- the database ---- */

static char *uri_of(const char *host_path, const char *query)
{
	struct buf b = {0};
	buf_puts(&b, "file:");
	for (const unsigned char *p = (const unsigned char *)host_path; *p; p++) {
		if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		    (*p >= '0' && *p <= '9') || strchr("/._-~", *p))
			buf_append(&b, p, 1);
		else
			buf_printf(&b, "%%%02X", *p);
	}
	buf_printf(&b, "?%s", query);
	return b.data;
}

static void sql_protected(sqlite3_context *sc, int argc, sqlite3_value **argv)
{
	const struct config *cfg = sqlite3_user_data(sc);
	const unsigned char *ip = sqlite3_value_text(argv[0]);
	sqlite3_result_int(sc, ip && protects_text(cfg, (const char *)ip));
}

static const char *sqlite_why(int rc)
{
	switch (rc & 0xff) {
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
		return "the database is locked by another process";
	case SQLITE_NOTADB:
		return "the file is not an SQLite database";
	case SQLITE_CORRUPT:
		return "the database is corrupt";
	case SQLITE_READONLY:
		return "the database cannot be written (read-only file or mount)";
	case SQLITE_CANTOPEN:
		return "the database cannot be opened";
	case SQLITE_IOERR:
		return "an I/O error";
	case SQLITE_FULL:
		return "the disk is full";
	default:
		return sqlite3_errstr(rc);
	}
}

/* A database problem that is the instance's (not ours): unfixed, not an operational error. */
static bool sqlite_is_instance_problem(int rc)
{
	return (rc & 0xff) == SQLITE_NOTADB || (rc & 0xff) == SQLITE_CORRUPT;
}

struct db {
	struct f2b_run *run;
	const char *path; /* instance path */
	sqlite3 *h;	   /* the connection the policy reads and deletes through */
	char *priv;   /* the private directory h's copy lies in; NULL: in place (live repair) */
	int lock_fd;  /* the instance's file, read-locked as an SQLite reader while copied */
	bool had_wal; /* the instance's file had a -wal beside it */
	int version;	   /* fail2banDb.version, 0 if absent */
	const char *table; /* the table fail2ban restores bans from: bips (v4) or bans (v2) */
	const char *hist;  /* the ban history kept beside it (bans in v4), or NULL */
	bool has_bantime;  /* table has a bantime column */
	const struct f2b_jails *jails; /* the jails where selects rows of */
	char *where;	   /* " WHERE ..." selecting the rows to delete */
};

static void db_report_sqlite(struct db *db, int rc, const char *doing)
{
	const char *msg = db->h ? sqlite3_errmsg(db->h) : sqlite3_errstr(rc);
	struct finding *f = policy_add_finding(db->run->res, db->path, 0, NULL,
					       "%s while %s (%s); nothing was changed",
					       sqlite_why(rc), doing, msg);
	f->error = !sqlite_is_instance_problem(rc);
}

static int db_bind_jails(struct db *db, sqlite3_stmt *st)
{
	const struct f2b_jails *j = db->jails;
	if (j->all)
		return SQLITE_OK;
	for (size_t i = 0; i < j->names.n; i++) {
		int rc = sqlite3_bind_text(st, (int)i + 1, j->names.v[i], -1, SQLITE_STATIC);
		if (rc != SQLITE_OK)
			return rc;
	}
	return SQLITE_OK;
}

static int db_exec(struct db *db, const char *sql)
{
	return sqlite3_exec(db->h, sql, NULL, NULL, NULL);
}

/* Does table exist with the columns the policy relies on? */
static bool db_table_usable(struct db *db, const char *table, bool *has_bantime)
{
	_cleanup_free_ char *sql = xasprintf("SELECT jail, ip FROM \"%s\" LIMIT 0", table);
	sqlite3_stmt *st = NULL;
	if (sqlite3_prepare_v2(db->h, sql, -1, &st, NULL) != SQLITE_OK)
		return false;
	sqlite3_finalize(st);
	if (has_bantime) {
		free(sql);
		sql = xasprintf("SELECT bantime FROM \"%s\" LIMIT 0", table);
		*has_bantime = sqlite3_prepare_v2(db->h, sql, -1, &st, NULL) == SQLITE_OK;
		sqlite3_finalize(st);
	}
	return true;
}

static int db_probe(struct db *db)
{
	sqlite3_stmt *st = NULL;
	int rc = sqlite3_prepare_v2(db->h, "SELECT name FROM sqlite_master WHERE type = 'table'",
				    -1, &st, NULL);
	bool bips = false, bans = false, vers = false;
	while ((rc == SQLITE_OK || rc == SQLITE_ROW) && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		rc = SQLITE_OK;
		const char *n = (const char *)sqlite3_column_text(st, 0);
		bips |= n && strcmp(n, "bips") == 0;
		bans |= n && strcmp(n, "bans") == 0;
		vers |= n && strcmp(n, "fail2banDb") == 0;
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		db_report_sqlite(db, rc, "reading the schema");
		return -EIO;
	}
	if (vers && sqlite3_prepare_v2(db->h, "SELECT version FROM fail2banDb LIMIT 1", -1, &st,
				       NULL) == SQLITE_OK) {
		if (sqlite3_step(st) == SQLITE_ROW)
			db->version = sqlite3_column_int(st, 0);
		sqlite3_finalize(st);
	}
	bool bips_ok = bips && db_table_usable(db, "bips", &db->has_bantime);
	bool bans_ok = bans && db_table_usable(db, "bans", bips_ok ? NULL : &db->has_bantime);
	if (bips_ok) {
		db->table = "bips";
		db->hist = bans_ok ? "bans" : NULL;
	} else if (bans_ok) {
		db->table = "bans";
	}
	return 0;
}

static char *fmt_time(sqlite3_int64 t)
{
	time_t tt = (time_t)t;
	struct tm tm;
	char s[32];
	if (!gmtime_r(&tt, &tm) || !strftime(s, sizeof(s), "%Y-%m-%dT%H:%M:%SZ", &tm))
		return xasprintf("%lld", (long long)t);
	return xstrdup(s);
}

/* One finding per ban row, for the first MAX_DETAILED rows. */
static int db_detail(struct db *db, size_t *n_rows, bool *more)
{
	const struct config *cfg = db->run->ctx->cfg;
	_cleanup_free_ char *sql = xasprintf("SELECT jail, ip, timeofban, %s FROM %s%s LIMIT %d",
					     db->has_bantime ? "bantime" : "NULL", db->table,
					     db->where, MAX_DETAILED + 1);
	sqlite3_stmt *st = NULL;
	int rc = sqlite3_prepare_v2(db->h, sql, -1, &st, NULL);
	if (rc == SQLITE_OK)
		rc = db_bind_jails(db, st);
	time_t now = time(NULL);
	*n_rows = 0;
	*more = false;
	while ((rc == SQLITE_OK || rc == SQLITE_ROW) && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (*n_rows == MAX_DETAILED) {
			*more = true;
			continue;
		}
		const char *jail = (const char *)sqlite3_column_text(st, 0);
		const char *ip = (const char *)sqlite3_column_text(st, 1);
		sqlite3_int64 tob = sqlite3_column_int64(st, 2);
		bool has_bt = sqlite3_column_type(st, 3) != SQLITE_NULL;
		sqlite3_int64 bt = sqlite3_column_int64(st, 3);
		_cleanup_free_ char *when = fmt_time(tob);
		_cleanup_free_ char *state = NULL;
		if (!has_bt || bt == -2)
			state = xstrdup("for the jail's bantime");
		else if (bt <= -1)
			state = xstrdup("permanently");
		else if (tob + bt > now) {
			_cleanup_free_ char *until = fmt_time(tob + bt);
			state = xasprintf("until %s", until);
		} else {
			state = xstrdup("(expired: it still lengthens the next ban)");
		}
		_cleanup_free_ char *text = xasprintf("%s: jail %s, ip %s, banned %s %s", db->table,
						      jail ? jail : "", ip ? ip : "", when, state);
		bool prot = ip && protects_text(cfg, ip);
		const char *who = prot ? "protected address" : "address (scope = all)";
		bool expired = has_bt && bt > -1 && tob + bt <= now;
		_cleanup_free_ char *why = NULL;
		bool blocks = jail_blocks(db->run, jail ? jail : "", &why);
		struct finding *f = policy_add_finding(
			db->run->res, db->path, 0, text,
			"fail2ban's database bans %s %s %s in jail %s; %s; %s", who, ip ? ip : "",
			state, jail ? jail : "",
			expired ? "fail2ban does not restore it"
				: "fail2ban restores it at its next start",
			why);
		/* a lockout: a protected address, shut out of sshd's port when fail2ban starts */
		f->severity = prot && blocks && !expired ? SEVERITY_LOCKOUT : SEVERITY_RISK;
		(*n_rows)++;
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		db_report_sqlite(db, rc, "reading the bans");
		return -EIO;
	}
	return 0;
}

static int db_count(struct db *db, const char *table, sqlite3_int64 *n)
{
	_cleanup_free_ char *sql = xasprintf("SELECT count(*) FROM %s%s", table, db->where);
	sqlite3_stmt *st = NULL;
	int rc = sqlite3_prepare_v2(db->h, sql, -1, &st, NULL);
	if (rc == SQLITE_OK)
		rc = db_bind_jails(db, st);
	if (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		*n = sqlite3_column_int64(st, 0);
		rc = SQLITE_OK;
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_OK) {
		db_report_sqlite(db, rc, "counting the bans");
		return -EIO;
	}
	return 0;
}

/* Is sql one CREATE [UNIQUE] INDEX statement and nothing else? (The text comes from the
 * instance's sqlite_master: anything else is not run.) */
static bool is_create_index(sqlite3 *h, const char *sql)
{
	while (isspace((unsigned char)*sql))
		sql++;
	if (strncasecmp(sql, "CREATE", 6) != 0)
		return false;
	const char *p = sql + 6;
	while (isspace((unsigned char)*p))
		p++;
	if (strncasecmp(p, "UNIQUE", 6) == 0 && isspace((unsigned char)p[6]))
		for (p += 6; isspace((unsigned char)*p); p++)
			;
	if (strncasecmp(p, "INDEX", 5) != 0 || !isspace((unsigned char)p[5]))
		return false;
	sqlite3_stmt *st = NULL;
	const char *tail = NULL;
	bool one = sqlite3_prepare_v2(h, sql, -1, &st, &tail) == SQLITE_OK && st;
	sqlite3_finalize(st);
	while (one && tail && isspace((unsigned char)*tail))
		tail++;
	return one && tail && !*tail;
}

/* A large share of a large table deleted: SQLite would remove each row from each index in
 * the table's order, a random walk through indexes far larger than the page cache (a flush
 * of a million bans takes minutes, or hundreds of MiB of cache). Its indexes are dropped
 * first and made again afterwards from their own CREATE statements, over the rows that are
 * left, in the same transaction: the schema reads as before, and the work is one scan and
 * one sort (spilled to a temporary file beside nothing of the instance, not held in memory).
 * 0 and *saved = NULL when not worth it (few rows, or a table's index that cannot be
 * recreated from its text, such as a PRIMARY KEY's). */
#define BULK_MIN_ROWS 20000
static int db_indexes_drop(struct db *db, const char *table, struct strv *saved)
{
	sqlite3_int64 total = 0, n_del = 0;
	_cleanup_free_ char *csql = xasprintf("SELECT count(*) FROM %s", table);
	sqlite3_stmt *st = NULL;
	int rc = sqlite3_prepare_v2(db->h, csql, -1, &st, NULL);
	if (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		total = sqlite3_column_int64(st, 0);
		rc = SQLITE_OK;
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_OK || total < BULK_MIN_ROWS)
		return 0;
	if (db_count(db, table, &n_del) < 0)
		return -EIO;
	if (n_del * 4 < total)
		return 0;
	struct strv names = {0}, sqls = {0};
	rc = sqlite3_prepare_v2(db->h,
				"SELECT name, sql FROM sqlite_master WHERE type = 'index' AND "
				"tbl_name = ?1 AND sql IS NOT NULL",
				-1, &st, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_text(st, 1, table, -1, SQLITE_STATIC);
	while (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *name = (const char *)sqlite3_column_text(st, 0);
		const char *sql = (const char *)sqlite3_column_text(st, 1);
		if (name && sql) {
			strv_push(&names, name);
			strv_push(&sqls, sql);
		}
		rc = SQLITE_OK;
	}
	sqlite3_finalize(st);
	/* dropped, then each text compiled (a CREATE of a name that exists does not compile) */
	bool ok = rc == SQLITE_DONE;
	for (size_t i = 0; ok && i < names.n; i++) {
		char *drop = sqlite3_mprintf("DROP INDEX \"%w\"", names.v[i]);
		ok = (rc = db_exec(db, drop)) == SQLITE_OK;
		sqlite3_free(drop);
	}
	strv_free(&names);
	if (!ok) {
		strv_free(&sqls);
		db_report_sqlite(db, rc, "preparing the flush");
		return -EIO;
	}
	for (size_t i = 0; i < sqls.n; i++)
		if (!is_create_index(db->h, sqls.v[i])) {
			/* a planted schema: the copy is dropped whole */
			policy_add_finding(db->run->res, db->path, 0, sqls.v[i],
					   "an index of table %s is not one CREATE INDEX statement; "
					   "the database was left alone",
					   table);
			strv_free(&sqls);
			return -EIO;
		}
	*saved = sqls;
	return 0;
}

static int db_indexes_make(struct db *db, struct strv *saved)
{
	int rc = SQLITE_OK;
	for (size_t i = 0; rc == SQLITE_OK && i < saved->n; i++)
		rc = db_exec(db, saved->v[i]);
	strv_free(saved);
	if (rc != SQLITE_OK) {
		db_report_sqlite(db, rc, "rebuilding the indexes");
		return -EIO;
	}
	return 0;
}

static int db_delete(struct db *db, const char *table, sqlite3_int64 *n)
{
	struct strv saved = {0};
	/* only on the private copy: live, fail2ban-server reads the file meanwhile */
	if (db->priv && db_indexes_drop(db, table, &saved) < 0)
		return -EIO;
	_cleanup_free_ char *sql = xasprintf("DELETE FROM %s%s", table, db->where);
	sqlite3_stmt *st = NULL;
	int rc = sqlite3_prepare_v2(db->h, sql, -1, &st, NULL);
	if (rc == SQLITE_OK)
		rc = db_bind_jails(db, st);
	if (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_DONE)
		rc = SQLITE_OK;
	sqlite3_finalize(st);
	if (rc != SQLITE_OK) {
		strv_free(&saved);
		db_report_sqlite(db, rc, "deleting the bans");
		return -EIO;
	}
	*n = sqlite3_changes64(db->h);
	return saved.n ? db_indexes_make(db, &saved) : 0;
}

/* The in-place edit (live, or WAL): back the database up before it changes, through SQLite's
 * backup API from a second connection (a read lock beside our write lock), which is also right
 * for a database in WAL mode, whose file alone is not the database. root.c registers the
 * backup, so undo puts it back, only once it is whole. */
static int db_backup(struct db *db, char **backup)
{
	struct root *r = db->run->ctx->root;
	_cleanup_free_ char *src_host = NULL, *dst_host = NULL;
	int rc = root_backup_prepare(r, db->path, backup, &dst_host);
	if (rc == 0)
		rc = root_host_path(r, db->path, &src_host);
	if (rc < 0) {
		error_finding(db->run, db->path,
			      "cannot back up the database (%s); nothing was changed",
			      strerror(-rc));
		return rc;
	}
	_cleanup_free_ char *src_uri = uri_of(src_host, "mode=ro");
	_cleanup_free_ char *dst_uri = uri_of(dst_host, "mode=rw");
	sqlite3 *src = NULL, *dst = NULL;
	int src_rc = sqlite3_open_v2(src_uri, &src, SQLITE_OPEN_READONLY | SQLITE_OPEN_URI, NULL);
	int dst_rc = sqlite3_open_v2(dst_uri, &dst,
				     SQLITE_OPEN_READWRITE | SQLITE_OPEN_URI | SQLITE_OPEN_NOFOLLOW,
				     NULL);
	int brc = src_rc != SQLITE_OK ? src_rc : dst_rc;
	if (brc == SQLITE_OK) {
		sqlite3_busy_timeout(src, BUSY_TIMEOUT_MS);
		sqlite3_busy_timeout(dst, BUSY_TIMEOUT_MS);
		/* the destination is a fresh file that nothing else reads: a journal for it would
		 * double the writes and sync at every cache spill; commit below syncs it */
		sqlite3_exec(dst, "PRAGMA journal_mode = OFF", NULL, NULL, NULL);
		sqlite3_backup *bk = sqlite3_backup_init(dst, "main", src, "main");
		if (!bk) {
			brc = sqlite3_errcode(dst);
		} else {
			brc = sqlite3_backup_step(bk, -1);
			int frc = sqlite3_backup_finish(bk);
			brc = brc == SQLITE_DONE ? frc : brc;
		}
	}
	sqlite3_close_v2(src);
	sqlite3_close_v2(dst);
	if (brc != SQLITE_OK) {
		error_finding(db->run, db->path,
			      "SQLite's backup to %s failed (%s); nothing was changed", *backup,
			      sqlite3_errstr(brc));
		return -EIO;
	}
	if ((rc = root_backup_commit(r, db->path)) < 0) {
		error_finding(db->run, db->path, "cannot record the backup (%s); nothing was changed",
			      strerror(-rc));
		return rc;
	}
	return 0;
}

/* sshrescue_protected(ip) on connection h. */
static int db_register(struct db *db, sqlite3 *h)
{
	const struct config *cfg = db->run->ctx->cfg;
	if (!cfg->protect.n)
		return SQLITE_OK;
	return sqlite3_create_function(h, "sshrescue_protected", 1,
				       SQLITE_UTF8 | SQLITE_DETERMINISTIC, (void *)cfg,
				       sql_protected, NULL, NULL);
}

/* SQLite's lock bytes (os_unix.c): a reader holds a read lock on the SHARED range, a writer
 * that commits needs a write lock on it, and takes PENDING first. */
#define SQLITE_PENDING_BYTE 0x40000000
#define SQLITE_SHARED_FIRST (SQLITE_PENDING_BYTE + 2)
#define SQLITE_SHARED_SIZE 510

static int ofd_lock(int fd, short type, off_t start, off_t len)
{
	struct flock fl = {.l_type = type, .l_whence = SEEK_SET, .l_start = start, .l_len = len};
	return fcntl(fd, F_OFD_SETLK, &fl) < 0 ? -errno : 0;
}

/* Take a reader's lock on the instance's database, as SQLite would, so that no process of a
 * live instance commits while it is copied (a writer in the middle of a commit holds PENDING or
 * the SHARED range: the database is busy). Open-file-description locks on a read-only fd:
 * nothing is written. */
static int db_lock_shared(struct db *db)
{
	struct root *r = db->run->ctx->root;
	int fd = root_open_file(r, db->path, O_RDONLY | O_NONBLOCK | O_CLOEXEC, 0);
	if (fd == -ELOOP)
		return 0; /* a symlink (inside the root): its target is copied, unlocked */
	if (fd < 0)
		return fd;
	db->lock_fd = fd;
	int rc = -EAGAIN;
	for (int waited = 0; waited <= BUSY_TIMEOUT_MS; waited += 10) {
		rc = ofd_lock(fd, F_RDLCK, SQLITE_PENDING_BYTE, 1);
		if (rc == 0) {
			rc = ofd_lock(fd, F_RDLCK, SQLITE_SHARED_FIRST, SQLITE_SHARED_SIZE);
			ofd_lock(fd, F_UNLCK, SQLITE_PENDING_BYTE, 1);
			if (rc == 0)
				return 0;
		}
		if (rc != -EAGAIN && rc != -EACCES)
			return rc == -EINVAL || rc == -ENOLCK ? 0 : rc; /* no locks here: go on */
		usleep(10000);
	}
	return -EBUSY;
}

/* A private directory's files (SQLite's, flat) and the directory. */
static void remove_flat_dir(const char *dir)
{
	int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	DIR *d = dfd >= 0 ? fdopendir(dfd) : NULL;
	if (d) {
		for (struct dirent *e; (e = readdir(d));)
			if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
				unlinkat(dirfd(d), e->d_name, 0);
		closedir(d);
	} else if (dfd >= 0) {
		close(dfd);
	}
	rmdir(dir);
}

static void private_dir_remove(char *dir);

/* The copies of runs that were killed (a copy is as large as the database, and /run is
 * memory): directories named after a process that is gone, ours (root, 0700). */
static void private_dirs_sweep(const char *base)
{
	DIR *d = opendir(base);
	struct dirent *de;
	while (d && (de = readdir(d))) {
		unsigned long pid;
		char *end;
		if (strncmp(de->d_name, "sshrescue-db.", 13) != 0)
			continue;
		errno = 0;
		pid = strtoul(de->d_name + 13, &end, 10);
		struct stat st;
		if (errno || end == de->d_name + 13 || *end != '.' || pid == 0 ||
		    pid == (unsigned long)getpid() || kill((pid_t)pid, 0) == 0 || errno != ESRCH ||
		    fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
		    !S_ISDIR(st.st_mode) || st.st_uid != geteuid() || (st.st_mode & 07777) != 0700)
			continue;
		private_dir_remove(xasprintf("%s/%s", base, de->d_name));
	}
	if (d)
		closedir(d);
}

/* A directory of the host that only this process can read (0700), for the database's copy:
 * the -journal, -wal and -shm SQLite makes beside a file it opens appear there, not in the
 * instance. Named after the process, so that a later run removes it when this one was killed. */
static char *private_dir(void)
{
	static const char *const base[] = {"/run", "/tmp"};
	for (size_t i = 0; i < ARRAY_SIZE(base); i++) {
		private_dirs_sweep(base[i]);
		char *d = xasprintf("%s/sshrescue-db.%d.XXXXXX", base[i], (int)getpid());
		if (mkdtemp(d))
			return d;
		free(d);
	}
	return NULL;
}

static void private_dir_remove(char *dir)
{
	if (!dir)
		return;
	remove_flat_dir(dir);
	free(dir);
}

/* Words for a failed write of the instance's database or its -wal/-shm. */
static const char *write_why(int rc)
{
	return rc == -EROFS ? "the database cannot be written (read-only file or mount)"
			    : root_strerror(rc);
}

/* In a repair, the database and the files SQLite keeps beside it must obey the link rule
 * (root.h) before anything is read to be written back: a hard-linked -wal, -shm or -journal
 * is refused like a hard-linked database. */
static int db_check_links(struct db *db)
{
	static const char *const sfx[] = {"", "-wal", "-shm", "-journal"};
	struct root *r = db->run->ctx->root;
	for (size_t i = 0; i < ARRAY_SIZE(sfx); i++) {
		_cleanup_free_ char *p = xasprintf("%s%s", db->path, sfx[i]);
		int rc = root_check_write(r, p);
		if (rc == -ENOENT)
			continue;
		if (rc < 0) {
			policy_add_finding(db->run->res, p, 0, NULL,
					   "fail2ban's database cannot be repaired: %s%s %s",
					   i ? "the file beside it, " : "", i ? p : "the database,",
					   root_strerror(rc));
			return rc;
		}
	}
	return 0;
}

/* The copy: the database (and its -wal, whose committed transactions are part of it) copied
 * through root.c into a private directory, under a reader's lock, and opened there. */
static int db_open_private(struct db *db)
{
	struct f2b_run *run = db->run;
	struct root *r = run->ctx->root;
	bool repair = run->ctx->repair;
	int rc = db_lock_shared(db);
	if (rc == -EBUSY) {
		error_finding(run, db->path,
			      "%s while copying it (a transaction of another process); nothing "
			      "was changed",
			      sqlite_why(SQLITE_BUSY));
		return rc;
	}
	if (rc < 0) {
		error_finding(run, db->path, "cannot open the database: %s; nothing was changed",
			      root_strerror(rc));
		return rc;
	}
	if (!(db->priv = private_dir())) {
		rc = -errno;
		error_finding(run, db->path,
			      "cannot make a private directory for the database's copy (%s); "
			      "nothing was changed",
			      strerror(-rc));
		return rc;
	}
	_cleanup_close_ int dfd = open(db->priv, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (dfd < 0)
		return -errno;
	_cleanup_free_ char *wal = xasprintf("%s-wal", db->path);
	const char *failed = db->path;
	rc = root_copy_out(r, db->path, dfd, "db", DB_MAX_REWRITE, repair, NULL);
	if (rc == 0 && db->had_wal) {
		failed = wal;
		rc = root_copy_out(r, wal, dfd, "db-wal", DB_MAX_REWRITE, repair, NULL);
	}
	if (rc == -EFBIG) {
		error_finding(run, failed,
			      "too large to copy (more than %u MiB); fail2ban's database was left "
			      "alone",
			      (unsigned)(DB_MAX_REWRITE >> 20));
		return rc;
	}
	if (rc < 0) {
		struct finding *f = policy_add_finding(
			run->res, failed, 0, NULL, "cannot copy fail2ban's database: %s",
			rc == -EINVAL ? "not a regular file; left alone" : root_strerror(rc));
		f->error = rc != -EINVAL && rc != -EMLINK && rc != -EXDEV;
		return rc;
	}
	_cleanup_free_ char *copy = xasprintf("%s/db", db->priv);
	int src = sqlite3_open_v2(copy, &db->h, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOFOLLOW, NULL);
	if (src != SQLITE_OK) {
		db_report_sqlite(db, src, "opening it");
		return -EIO;
	}
	return 0;
}

/* The private copy is dropped whole when anything fails and reaches the instance only
 * through root.c (synced there, once): SQLite's own journal and syncs would only write it
 * twice. A copy in WAL mode stays in it (the mode is part of the file put back). */
static void db_private_pragmas(struct db *db)
{
	sqlite3_stmt *st = NULL;
	bool wal = false;
	if (sqlite3_prepare_v2(db->h, "PRAGMA journal_mode", -1, &st, NULL) == SQLITE_OK &&
	    sqlite3_step(st) == SQLITE_ROW) {
		const char *m = (const char *)sqlite3_column_text(st, 0);
		wal = m && strcasecmp(m, "wal") == 0;
	}
	sqlite3_finalize(st);
	if (!wal)
		db_exec(db, "PRAGMA journal_mode = OFF");
	db_exec(db, "PRAGMA synchronous = OFF");
}

/* The repair's last step: the copy, committed and closed (SQLite then checkpoints its -wal
 * into it), replaces the instance's file through root.c (the original kept as the run's
 * backup, the copy streamed to a temporary beside it with its mode, owner and xattrs, renamed
 * over it once on disk: root_commit()). The instance's -wal held transactions now merged
 * into the copy, and SQLite replays a -wal onto whatever file lies beside it: it is moved to
 * the backup first (with a -shm), so a run killed at any point leaves the original file alone (consistent as of its
 * last checkpoint, the -wal in the backup for undo) or the repaired one, never a new file
 * with an old -wal. */
static int db_put_back(struct db *db, char **backup)
{
	struct f2b_run *run = db->run;
	struct root *r = run->ctx->root;
	int src = sqlite3_close(db->h);
	if (src != SQLITE_OK) {
		db_report_sqlite(db, src, "closing the repaired copy");
		return -EIO;
	}
	db->h = NULL;
	_cleanup_free_ char *copy = xasprintf("%s/db", db->priv);
	_cleanup_free_ char *cwal = xasprintf("%s/db-wal", db->priv);
	struct stat st;
	if (lstat(cwal, &st) == 0 && st.st_size > 0) {
		error_finding(run, db->path,
			      "SQLite did not checkpoint the repaired copy; nothing was changed");
		return -EIO;
	}
	/* streamed to the instance (root_write_file_from()): never whole in memory */
	_cleanup_close_ int fd = open(copy, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	int rc = fd < 0 ? -errno : 0;
	if (rc < 0) {
		error_finding(run, db->path,
			      "cannot read the repaired copy: %s; nothing was changed",
			      strerror(-rc));
		return rc;
	}
	static const char *const beside[] = {"-wal", "-shm"};
	for (size_t i = 0; i < ARRAY_SIZE(beside); i++) {
		_cleanup_free_ char *p = xasprintf("%s%s", db->path, beside[i]);
		if ((rc = root_remove_file(r, p)) < 0) {
			error_finding(run, p,
				      "cannot move it to the backup: %s; the database was not "
				      "replaced%s",
				      write_why(rc),
				      i ? " (its -wal is in the backup: `sshrescue undo` puts it "
					  "back)"
					: "");
			return rc;
		}
	}
	if ((rc = root_write_file_from(r, db->path, fd, 0600, backup)) < 0) {
		error_finding(run, db->path, "cannot write the repaired database: %s; %s",
			      write_why(rc),
			      db->had_wal ? "the database is unchanged, its -wal is in the backup "
					    "(`sshrescue undo` puts it back)"
					  : "nothing was changed");
		return rc;
	}
	return 0;
}

/* A rollback journal with a non-zero header beside the database: an interrupted
 * transaction that the next opener rolls back. */
static bool hot_journal(struct root *r, const char *path)
{
	_cleanup_free_ char *j = xasprintf("%s-journal", path);
	struct stat st;
	if (root_stat(r, j, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size == 0)
		return false;
	_cleanup_close_ int fd = root_open_file(r, j, O_RDONLY | O_NONBLOCK | O_CLOEXEC, 0);
	if (fd < 0)
		return true;
	unsigned char hdr[8] = {0};
	if (pread(fd, hdr, sizeof(hdr), 0) != (ssize_t)sizeof(hdr))
		return true;
	for (size_t i = 0; i < sizeof(hdr); i++)
		if (hdr[i])
			return true;
	return false;
}

static void db_close(struct db *db)
{
	if (db->h)
		sqlite3_close_v2(db->h);
	db->h = NULL;
	if (db->lock_fd >= 0)
		close(db->lock_fd);
	db->lock_fd = -1;
	private_dir_remove(db->priv);
	db->priv = NULL;
	free(db->where);
	db->where = NULL;
}

/* Rows of jails (bound by db_bind_jails()), of protected addresses only when protected_only
 * and protect names networks. */
static void build_where(struct db *db, const struct f2b_jails *jails, bool protected_only)
{
	const struct config *cfg = db->run->ctx->cfg;
	struct buf b = {0};
	buf_puts(&b, " WHERE 1");
	db->jails = jails;
	if (!jails->all) {
		buf_puts(&b, " AND jail IN (");
		for (size_t i = 0; i < jails->names.n; i++)
			buf_puts(&b, i ? ", ?" : "?");
		buf_puts(&b, ")");
	}
	if (protected_only && cfg->protect.n)
		buf_puts(&b, " AND sshrescue_protected(ip)");
	free(db->where);
	db->where = b.data;
}

static const char *jails_text(const struct f2b_run *run, struct buf *b)
{
	if (run->jails.all) {
		buf_puts(b, "every jail");
	} else {
		buf_puts(b, run->jails.names.n == 1 ? "jail " : "jails ");
		for (size_t i = 0; i < run->jails.names.n; i++)
			buf_printf(b, "%s%s", i ? ", " : "", run->jails.names.v[i]);
	}
	return b->data;
}

/* Report the chosen rows and, when writable (inside BEGIN IMMEDIATE), back the database up,
 * delete them and commit. -EIO after a failure (reported); the caller rolls back. */
static int db_apply(struct db *db, bool writable, char **backup, bool *committed)
{
	struct f2b_run *run = db->run;
	const struct config *cfg = run->ctx->cfg;
	size_t first = run->res->n_findings;
	size_t detailed = 0;
	bool more = false;
	sqlite3_int64 n_main = 0, n_hist = 0;
	if (db_detail(db, &detailed, &more) < 0)
		return -EIO;
	bool any_lockout = false;
	for (size_t i = first; i < run->res->n_findings; i++)
		any_lockout |= run->res->findings[i].severity == SEVERITY_LOCKOUT;
	size_t n_rows_findings = run->res->n_findings;
	const char *verb = "would delete";
	if (writable) {
		/* the DELETEs count the rows; only "is there any history?" is asked before */
		if (!detailed && db->hist && db_count(db, db->hist, &n_hist) < 0)
			return -EIO;
		if (!detailed && !n_hist)
			return 0; /* nothing to do: no change, no backup */
		if (!db->priv && db_backup(db, backup) < 0)
			return -EIO;
		if (db_delete(db, db->table, &n_main) < 0 ||
		    (db->hist && db_delete(db, db->hist, &n_hist) < 0))
			return -EIO;
		int src = db_exec(db, "COMMIT");
		if (src != SQLITE_OK) {
			db_report_sqlite(db, src, "committing");
			return -EIO;
		}
		if (db->priv && db_put_back(db, backup) < 0)
			return -EIO;
		*committed = true;
		verb = "deleted";
	} else {
		n_main = (sqlite3_int64)detailed;
		if (more && db_count(db, db->table, &n_main) < 0)
			return -EIO;
		if (db->hist && db_count(db, db->hist, &n_hist) < 0)
			return -EIO;
		if (!n_main && !n_hist)
			return 0;
		if (run->ctx->repair) {
			verb = "could not delete";
			error_finding(run, db->path,
				      "the database cannot be written (read-only file or mount); "
				      "its bans remain");
		}
	}
	struct buf jb = {0};
	jails_text(run, &jb);
	if (more) {
		struct finding *f = policy_add_finding(
			run->res, db->path, 0, NULL,
			"%lld more ban rows of %s in %s, in table %s (not listed one by one)",
			(long long)(n_main - MAX_DETAILED),
			cfg->fail2ban_scope == SCOPE_ALL ? "addresses" : "protected addresses",
			jb.data, db->table);
		/* like the rows listed: unknown ones count when any listed one is a lockout */
		f->severity = any_lockout ? SEVERITY_LOCKOUT : SEVERITY_RISK;
	}
	if (n_hist)
		policy_add_risk(run->res, db->path, 0, NULL,
				"%lld rows of ban history of these addresses in table %s (%s): "
				"fail2ban neither restores them nor counts them for a ban's "
				"length (it reads %s), but its own unban deletes them too",
				(long long)n_hist, db->hist, jb.data, db->table);
	buf_free(&jb);
	for (size_t i = first; i < run->res->n_findings; i++) {
		struct finding *f = &run->res->findings[i];
		if (f->error)
			continue;
		finding_set_action(f, "%s %s", verb, i < n_rows_findings ? "the row" : "them");
		f->fixed = *committed;
		if (*backup)
			f->backup = xstrdup(*backup);
	}
	if (db->hist)
		note(run,
		     "%s (schema version %d): %s %lld ban rows from %s and %lld from %s; kept "
		     "the logs table (fail2ban's read positions)",
		     db->path, db->version, verb, (long long)n_main, db->table, (long long)n_hist,
		     db->hist);
	else
		note(run,
		     "%s (schema version %d): %s %lld ban rows from %s; kept the logs table "
		     "(fail2ban's read positions)",
		     db->path, db->version, verb, (long long)n_main, db->table);
	return 0;
}

/* Bans of protected addresses in blocking jails that [fail2ban] jails leaves out: lockouts
 * that remain, so the report never says repaired while fail2ban still keeps the owner out. */
static void db_uncovered(struct db *db)
{
	struct f2b_run *run = db->run;
	struct f2b_jails other = {.names = run->uncovered};
	build_where(db, &other, true);
	size_t first = run->res->n_findings, n_rows;
	bool more;
	int rc = db_detail(db, &n_rows, &more);
	db->jails = &run->jails;
	if (rc < 0)
		return;
	for (size_t i = first; i < run->res->n_findings; i++) {
		struct finding *f = &run->res->findings[i];
		if (f->error)
			continue;
		finding_set_action(f,
				   "none: the jail blocks sshd's port but is not among [fail2ban] "
				   "jails = %s (add it, or auto)",
				   run->ctx->cfg->fail2ban_jails);
	}
	if (more)
		policy_add_finding(run->res, db->path, 0, NULL,
				   "more bans of protected addresses in jails %s, which block "
				   "sshd's port and are not among [fail2ban] jails (not listed one by "
				   "one)",
				   run->uncovered.v[0]);
}

static int db_run(struct f2b_run *run, const char *path)
{
	struct policy_ctx *ctx = run->ctx;
	struct db db = {.run = run, .path = path, .lock_fd = -1};
	struct stat st;
	int rc = root_stat(ctx->root, path, &st);
	if (rc == -ENOENT) {
		note(run, "no database at %s (fail2ban has not run yet)", path);
		return 0;
	}
	run->have_db = true;
	if (rc < 0) {
		error_finding(run, path, "cannot examine fail2ban's database: %s", strerror(-rc));
		return 0;
	}
	if (!S_ISREG(st.st_mode)) {
		policy_add_finding(run->res, path, 0, NULL,
				   "fail2ban's database is not a regular file; left alone");
		return 0;
	}
	/* Not sshrescue's: offline it never writes beside the database (a private copy), and
	 * fail2ban keeps its journal in memory (journal_mode = MEMORY): another program's
	 * transaction, interrupted or still running. The rewrite cannot go ahead of it (the journal
	 * would be played back onto the new file), and check must not roll it back; left alone.
	 * Live, the edit is SQLite's own, in place: SQLite rolls a journal back only when no
	 * process holds the transaction (fail2ban-server's connection would do the same at its next
	 * access), and it may be the journal of an sshrescue run killed mid-edit. */
	if (!(ctx->live && ctx->repair) && hot_journal(ctx->root, path)) {
		policy_add_finding(
			run->res, path, 0, NULL,
			"a hot journal (%s-journal: an interrupted transaction) lies beside "
			"fail2ban's database; its bans cannot be read reliably, and the "
			"database was left alone (fail2ban rolls the journal back at its "
			"next start; run sshrescue again afterwards)",
			path);
		return 0;
	}
	_cleanup_free_ char *wal = xasprintf("%s-wal", path);
	struct stat wst;
	db.had_wal = root_stat(ctx->root, wal, &wst) == 0;
	if (ctx->repair && db_check_links(&db) < 0)
		return 0;
	/* Live, fail2ban-server keeps the file open and would go on writing to a replaced inode:
	 * the edit is SQLite's own, in place, in one transaction (the root is the running system
	 * itself, so no link leads out of it). Everywhere else, a private copy. */
	bool in_place = ctx->live && ctx->repair;
	if (in_place) {
		_cleanup_free_ char *host = NULL;
		if ((rc = root_host_path(ctx->root, path, &host)) < 0) {
			error_finding(run, path, "cannot locate fail2ban's database: %s",
				      strerror(-rc));
			return 0;
		}
		_cleanup_free_ char *uri = uri_of(host, "mode=rw");
		int src = sqlite3_open_v2(
			uri, &db.h, SQLITE_OPEN_URI | SQLITE_OPEN_NOFOLLOW | SQLITE_OPEN_READWRITE,
			NULL);
		if (src != SQLITE_OK) {
			db_report_sqlite(&db, src, "opening it");
			db_close(&db);
			return 0;
		}
	} else if (db_open_private(&db) < 0) {
		db_close(&db);
		return 0;
	}
	int src;
	sqlite3_extended_result_codes(db.h, 1);
	sqlite3_busy_timeout(db.h, BUSY_TIMEOUT_MS);
	/* a flush of a large jail rewrites most pages of several indexes: with SQLite's default
	 * 2 MiB cache each is read and spilled many times over */
	db_exec(&db, "PRAGMA cache_size = " STR(DB_CACHE_KIB_NEG));
	db_exec(&db, "PRAGMA temp_store = FILE"); /* a sort spills to a file, not to memory */
	if (!in_place)
		db_private_pragmas(&db);
	if (db_probe(&db) < 0) {
		db_close(&db);
		return 0;
	}
	if (!db.table) {
		note(run, "%s holds no ban table", path);
		db_close(&db);
		return 0;
	}
	if (db.version && db.version != 2 && db.version != 4)
		note(run,
		     "%s: schema version %d, not one fail2ban 0.9-1.1 writes (2, 4); handled "
		     "by its tables' jail and ip columns",
		     path, db.version);
	if (db_register(&db, db.h) != SQLITE_OK) {
		db_report_sqlite(&db, sqlite3_errcode(db.h), "preparing");
		db_close(&db);
		return 0;
	}
	/* first the bans that stay (jails left out of [fail2ban] jails): read before the edit,
	 * which ends with the private copy closed and put in place */
	if (run->uncovered.n)
		db_uncovered(&db);
	build_where(&db, &run->jails, ctx->cfg->fail2ban_scope != SCOPE_ALL);
	bool writable = ctx->repair;
	if (in_place && sqlite3_db_readonly(db.h, "main") == 1)
		writable = false;
	if (writable && (src = db_exec(&db, "BEGIN IMMEDIATE")) != SQLITE_OK) {
		db_report_sqlite(&db, src, "taking the write lock");
		db_close(&db);
		return 0;
	}
	_cleanup_free_ char *backup = NULL;
	bool committed = false;
	db_apply(&db, writable, &backup, &committed);
	if (writable && !committed && in_place)
		db_exec(&db, "ROLLBACK"); /* (a copy is dropped whole) */
	db_close(&db);
	return 0;
}

/* The database fail2ban.conf (and its .d and .local files) names. */
static int db_find(struct f2b_run *run, char **path)
{
	*path = NULL;
	struct f2b_conf conf = {0};
	struct conf_load cl = {.run = run, .conf = &conf, .report = true};
	conf_load(&cl, "fail2ban");
	char *v = NULL;
	int rc = f2b_conf_get(&conf, "Definition", "dbfile", &v);
	const struct f2b_value *where = f2b_conf_lookup(&conf, "Definition", "dbfile", NULL);
	_cleanup_free_ char *origin = where ? xstrdup(conf.origins.v[where->origin]) : NULL;
	unsigned line = where ? where->line : 0;
	f2b_conf_free(&conf);
	conf_load_free(&cl);
	if (rc == -ENOENT) {
		*path = xstrdup(F2B_DEFAULT_DB);
		return 0;
	}
	if (rc < 0) {
		policy_add_risk(run->res, origin, line, NULL,
				"dbfile cannot be interpolated (%s); fail2ban does not start "
				"with it (and bans nobody while so)",
				strerror(-rc));
		return 0;
	}
	char *s = strstrip(v);
	if (strcasecmp(s, "none") == 0 || strcmp(s, ":memory:") == 0 || !*s) {
		note(run, "%s:%u: dbfile = %s: fail2ban keeps no bans across restarts", origin,
		     line, s);
		free(v);
		return 0;
	}
	*path = s[0] == '/' ? xstrdup(s) : xasprintf("/%s", s);
	free(v);
	return 0;
}

/* ---- ignoreip ---- */

static bool covered(const struct strv *words, const struct cidr *net)
{
	for (size_t i = 0; i < words->n; i++) {
		struct cidr c;
		if (cidr_parse(words->v[i], &c) == 0 && c.family == net->family &&
		    cidr_contains(&c, net))
			return true;
	}
	return false;
}

struct target {
	char *section;
	char *have;  /* interpolated ignoreip without sshrescue's file */
	bool want;   /* it lacks a protected network */
	size_t fidx; /* its finding (in force it lacks one), or SIZE_MAX */
};

static void escape_percent(struct buf *b, const char *s)
{
	for (; *s; s++)
		buf_puts(b, *s == '%' ? "%%" : (char[2]){*s, 0});
}

/* Which sections to give an ignoreip, and which of them lack a protected network in the
 * configuration as fail2ban reads it (full) and without sshrescue's own file (base).
 * Findings for the lacking ones; returns whether any lacks. */
/* Where a setting of section s belongs when no file sets it: the file (and line) that first
 * defines the jail, for [DEFAULT] jail.conf; never the first file fail2ban loads
 * (paths-common.conf, read through jail.conf's [INCLUDES], holds no jail). */
static const char *section_home(const struct f2b_conf *c, const struct conf_load *lb, const char *s,
				unsigned *line)
{
	*line = 0;
	for (size_t i = 0; i < c->sections.n; i++)
		if (!strcmp(c->sections.v[i], s)) {
			*line = c->section_line[i];
			return c->origins.v[c->section_origin[i]];
		}
	for (size_t i = 0; i < lb->loaded.n; i++)
		if (!strcmp(lb->loaded.v[i], F2B_DIR "/jail.conf"))
			return lb->loaded.v[i];
	return lb->loaded.n ? lb->loaded.v[lb->loaded.n - 1] : F2B_DIR "/jail.conf";
}

static bool ignoreip_examine(struct f2b_run *run, const struct conf_load *lb,
			     const struct f2b_conf *base, const struct f2b_conf *full,
			     struct target **out, size_t *n_out)
{
	const struct config *cfg = run->ctx->cfg;
	/* the chosen jails; for "*", [DEFAULT] and every section that sets its own ignoreip
	 * (the others inherit [DEFAULT]'s) */
	struct strv secs = {0};
	if (run->jails.all) {
		strv_push(&secs, F2B_DEFAULT);
		for (size_t i = 0; i < base->sections.n; i++)
			if (f2b_conf_key(base, base->sections.v[i], "ignoreip"))
				strv_push(&secs, base->sections.v[i]);
	} else {
		for (size_t i = 0; i < run->jails.names.n; i++) {
			if (f2b_conf_has_section(base, run->jails.names.v[i]))
				strv_push(&secs, run->jails.names.v[i]);
			else
				note(run, "jail %s is not defined in %s: no ignoreip to extend",
				     run->jails.names.v[i], F2B_DIR);
		}
	}
	struct target *t = xcalloc(secs.n ? secs.n : 1, sizeof(*t));
	size_t nt = 0;
	bool need = false;
	for (size_t i = 0; i < secs.n; i++) {
		const char *s = secs.v[i];
		char *have_full = NULL, *have = NULL;
		int r1 = f2b_conf_get(full, s, "ignoreip", &have_full);
		int r2 = f2b_conf_get(base, s, "ignoreip", &have);
		if ((r1 < 0 && r1 != -ENOENT) || (r2 < 0 && r2 != -ENOENT)) {
			const struct f2b_value *v = f2b_conf_lookup(base, s, "ignoreip", NULL);
			int e = r2 < 0 && r2 != -ENOENT ? r2 : r1;
			policy_add_risk(
				run->res, v ? base->origins.v[v->origin] : NULL, v ? v->line : 0,
				NULL,
				"ignoreip of [%s] cannot be interpolated (%s): fail2ban fails "
				"on it (and bans nobody while so); left alone",
				s, strerror(-e));
			free(have_full);
			free(have);
			continue;
		}
		struct target *tg = &t[nt++];
		tg->section = xstrdup(s);
		tg->have = have ? have : xstrdup("");
		tg->fidx = SIZE_MAX;
		struct strv wf = {0}, wb = {0};
		f2b_split_words(have_full ? have_full : "", &wf);
		f2b_split_words(tg->have, &wb);
		struct buf missing = {0};
		for (size_t j = 0; j < cfg->protect.n; j++) {
			if (!covered(&wf, &cfg->protect.v[j])) {
				char c[CIDR_STRLEN];
				cidr_format(&cfg->protect.v[j], c);
				buf_printf(&missing, "%s%s", missing.len ? " " : "", c);
			}
			if (!covered(&wb, &cfg->protect.v[j]))
				tg->want = true;
		}
		if (missing.len) {
			tg->fidx = run->res->n_findings;
			need = true;
			const struct f2b_value *vf = f2b_conf_lookup(full, s, "ignoreip", NULL);
			unsigned home_line;
			const char *home = section_home(full, lb, s, &home_line);
			policy_add_risk(
				run->res, vf ? full->origins.v[vf->origin] : home,
				vf ? vf->line : home_line,
				have_full && *have_full ? have_full : NULL,
				"ignoreip of [%s] lacks %s: when failed logins from there reach "
				"the jail's maxretry within its findtime, fail2ban bans the "
				"owner again",
				s, missing.data);
		}
		buf_free(&missing);
		strv_free(&wf);
		strv_free(&wb);
		free(have_full);
	}
	strv_free(&secs);
	*out = t;
	*n_out = nt;
	return need;
}

/* sshrescue's jail.d file: each section that lacks a network, with the value it has without
 * this file plus the missing networks, written out literally (no %(...)s left). */
static void ignoreip_content(const struct config *cfg, const struct target *t, size_t nt,
			     struct buf *content, struct strv *added)
{
	buf_puts(content,
		 "# Written by sshrescue: the protected networks added to ignoreip, merged "
		 "with\n# the value the rest of fail2ban's configuration gives. `sshrescue "
		 "undo` removes\n# this file.\n");
	for (size_t i = 0; i < nt; i++) {
		if (!t[i].want)
			continue;
		struct strv w = {0};
		f2b_split_words(t[i].have, &w);
		buf_printf(content, "\n[%s]\nignoreip =", t[i].section);
		for (size_t j = 0; j < w.n; j++) {
			buf_puts(content, " ");
			escape_percent(content, w.v[j]);
		}
		for (size_t j = 0; j < cfg->protect.n; j++) {
			if (covered(&w, &cfg->protect.v[j]))
				continue;
			char c[CIDR_STRLEN];
			cidr_format(&cfg->protect.v[j], c);
			buf_printf(content, " %s", c);
			if (!strv_contains(added, c))
				strv_push(added, c);
		}
		buf_puts(content, "\n");
		strv_free(&w);
	}
}

/* Write the file (repair) and read the configuration back as fail2ban will, to tell whether
 * the value is now in force. */
static void ignoreip_write(struct f2b_run *run, const struct target *t, size_t nt,
			   const struct buf *content, const struct strv *added)
{
	const struct config *cfg = run->ctx->cfg;
	_cleanup_free_ char *backup = NULL;
	int rc = root_write_file(run->ctx->root, F2B_OWN_FILE, content->data, content->len, 0644,
				 &backup);
	if (rc < 0) {
		error_finding(run, F2B_OWN_FILE, "cannot write: %s", strerror(-rc));
		return;
	}
	struct f2b_conf after = {0};
	struct conf_load la = {.run = run, .conf = &after};
	conf_load(&la, "jail");
	for (size_t i = 0; i < nt; i++) {
		if (t[i].fidx == SIZE_MAX)
			continue;
		struct finding *f = &run->res->findings[t[i].fidx];
		_cleanup_free_ char *now = NULL;
		struct strv w = {0};
		if (f2b_conf_get(&after, t[i].section, "ignoreip", &now) == 0)
			f2b_split_words(now, &w);
		bool ok = true;
		for (size_t j = 0; j < cfg->protect.n; j++)
			ok = ok && covered(&w, &cfg->protect.v[j]);
		strv_free(&w);
		f->fixed = ok;
		if (backup)
			f->backup = xstrdup(backup);
		finding_set_action(
			f,
			ok ? "wrote [%s] ignoreip in %s"
			   : "wrote [%s] ignoreip in %s, but a file read after it replaces "
			     "the value again",
			t[i].section, F2B_OWN_FILE);
	}
	f2b_conf_free(&after);
	conf_load_free(&la);
	for (size_t i = 0; i < added->n; i++)
		if (!strv_contains(&run->added, added->v[i]))
			strv_push(&run->added, added->v[i]);
}

static void ignoreip_act(struct f2b_run *run, const struct target *t, size_t nt)
{
	struct buf content = {0};
	struct strv added = {0};
	ignoreip_content(run->ctx->cfg, t, nt, &content, &added);
	char *old = NULL;
	size_t old_len = 0;
	bool same = root_read_file(run->ctx->root, F2B_OWN_FILE, ROOT_MAX_CONFIG, &old, &old_len) ==
			    0 &&
		    old_len == content.len && memcmp(old, content.data, old_len) == 0;
	free(old);
	if (same) {
		/* our file is in place and still the value is not in force: a file read after it
		 * sets ignoreip again */
		for (size_t i = 0; i < nt; i++)
			if (t[i].fidx != SIZE_MAX)
				finding_set_action(
					&run->res->findings[t[i].fidx],
					"none: %s already adds them, and the file named "
					"here, read after it, replaces the value; add them "
					"there",
					F2B_OWN_FILE);
	} else if (!run->ctx->repair) {
		for (size_t i = 0; i < nt; i++)
			if (t[i].fidx != SIZE_MAX)
				finding_set_action(&run->res->findings[t[i].fidx], "would write %s",
						   F2B_OWN_FILE);
	} else {
		ignoreip_write(run, t, nt, &content, &added);
	}
	strv_free(&added);
	buf_free(&content);
}

static void ignoreip_run(struct f2b_run *run)
{
	const struct config *cfg = run->ctx->cfg;
	if (!cfg->fail2ban_ignoreip)
		return;
	if (!cfg->protect.n) {
		note(run, "protect is empty (every source): no network to add to ignoreip");
		return;
	}
	struct f2b_conf base = {0}, full = {0};
	struct conf_load lb = {.run = run, .conf = &base, .skip = F2B_OWN_FILE, .report = true};
	struct conf_load lf = {.run = run, .conf = &full};
	conf_load(&lb, "jail");
	conf_load(&lf, "jail");
	struct target *t = NULL;
	size_t nt = 0;
	if (lb.refused || lf.refused)
		note(run, "fail2ban refuses its jail configuration: ignoreip left alone");
	else if (!lb.loaded.n)
		note(run, "no jail configuration in %s", F2B_DIR);
	else if (ignoreip_examine(run, &lb, &base, &full, &t, &nt))
		ignoreip_act(run, t, nt);
	for (size_t i = 0; i < nt; i++) {
		free(t[i].section);
		free(t[i].have);
	}
	free(t);
	f2b_conf_free(&base);
	f2b_conf_free(&full);
	conf_load_free(&lb);
	conf_load_free(&lf);
}

/* ---- the running server (live mode) ---- */

/* Run the host's fail2ban-client (live mode: the instance is the running system) with stdout
 * and stderr together (bounded), stdin /dev/null, the default environment and a deadline;
 * *status is the exit status, or -1 when killed or not run. */
static int spawn_capture(char *const argv[], char **out, int *status)
{
	struct spawn_opts o = {
		.flags = SPAWN_MERGE_STDERR,
		.max_output = CLIENT_MAX_OUTPUT,
		.timeout_ms = CLIENT_TIMEOUT_S * 1000,
	};
	struct spawn_result sr;
	*out = NULL;
	*status = -1;
	int rc = spawn_run(argv, &o, &sr);
	if (rc < 0)
		return rc;
	if (sr.how == SPAWN_NOT_STARTED) {
		rc = -sr.error;
		spawn_result_free(&sr);
		return rc;
	}
	if (sr.how == SPAWN_EXITED)
		*status = sr.code;
	*out = sr.out;
	sr.out = NULL;
	spawn_result_free(&sr);
	return 0;
}

/* The value after "label:" on a line of fail2ban-client's status output. */
static char *status_field(const char *out, const char *label)
{
	const char *p = strstr(out, label);
	if (!p)
		return NULL;
	p += strlen(label);
	return xstrndup(p, strcspn(p, "\n"));
}

static void live_run(struct f2b_run *run)
{
	struct policy_ctx *ctx = run->ctx;
	const struct config *cfg = ctx->cfg;
	static const char *const clients[] = {"/usr/bin/fail2ban-client",
					      "/usr/local/bin/fail2ban-client",
					      "/bin/fail2ban-client"};
	_cleanup_free_ char *client = NULL;
	for (size_t i = 0; i < ARRAY_SIZE(clients) && !client; i++) {
		char *h = NULL;
		if (is_regular(ctx->root, clients[i]) &&
		    root_host_path(ctx->root, clients[i], &h) == 0 && access(h, X_OK) == 0)
			client = h;
		else
			free(h);
	}
	if (!client) {
		note(run, "no fail2ban-client: the running system was not told");
		return;
	}
	int st;
	_cleanup_free_ char *out = NULL;
	char *ping[] = {client, "ping", NULL};
	if (spawn_capture(ping, &out, &st) < 0 || st != 0) {
		note(run, "fail2ban-server is not running: nothing to tell it");
		return;
	}
	struct strv jails = {0};
	if (run->jails.all) {
		free(out);
		out = NULL;
		char *status[] = {client, "status", NULL};
		if (spawn_capture(status, &out, &st) == 0 && st == 0) {
			_cleanup_free_ char *list = status_field(out, "Jail list:");
			if (list)
				f2b_split_words(list, &jails);
		}
	} else {
		for (size_t i = 0; i < run->jails.names.n; i++)
			strv_push(&jails, run->jails.names.v[i]);
	}
	for (size_t i = 0; i < jails.n; i++) {
		char *jail = jails.v[i];
		for (size_t j = 0; j < run->added.n; j++) {
			char *add[] = {client, "set", jail, "addignoreip", run->added.v[j], NULL};
			_cleanup_free_ char *o = NULL;
			if (spawn_capture(add, &o, &st) < 0 || st != 0)
				note(run, "fail2ban-client set %s addignoreip %s failed", jail,
				     run->added.v[j]);
		}
		free(out);
		out = NULL;
		char *status[] = {client, "status", jail, NULL};
		if (spawn_capture(status, &out, &st) < 0 || st != 0)
			continue; /* not a running jail */
		_cleanup_free_ char *list = status_field(out, "Banned IP list:");
		struct strv banned = {0}, lift = {0};
		if (list)
			f2b_split_words(list, &banned);
		for (size_t j = 0; j < banned.n; j++)
			if (cfg->fail2ban_scope == SCOPE_ALL || protects_text(cfg, banned.v[j]))
				strv_push(&lift, banned.v[j]);
		strv_free(&banned);
		if (!lift.n)
			continue;
		size_t done = 0;
		bool failed = false;
		for (size_t j = 0; j < lift.n; j += UNBAN_CHUNK) {
			size_t n = lift.n - j < UNBAN_CHUNK ? lift.n - j : UNBAN_CHUNK;
			char **argv = xcalloc(n + 5, sizeof(*argv));
			argv[0] = client;
			argv[1] = "set";
			argv[2] = jail;
			argv[3] = "unbanip";
			for (size_t k = 0; k < n; k++)
				argv[4 + k] = lift.v[j + k];
			_cleanup_free_ char *o = NULL;
			if (spawn_capture(argv, &o, &st) == 0 && st == 0)
				done += n;
			else
				failed = true;
			free(argv);
		}
		struct finding *f = policy_add_finding(
			run->res, NULL, 0, NULL,
			"the running fail2ban-server bans %zu %s in jail %s (first: %s)", lift.n,
			cfg->fail2ban_scope == SCOPE_ALL ? "addresses" : "protected addresses",
			jail, lift.v[0]);
		_cleanup_free_ char *why = NULL;
		if (!jail_blocks(run, jail, &why))
			f->severity = SEVERITY_RISK; /* jails = *: a jail that spares sshd */
		finding_set_action(f, "unbanned %zu through %s set %s unbanip%s", done, client,
				   jail, failed ? " (some calls failed)" : "");
		f->fixed = !failed;
		strv_free(&lift);
	}
	note(run, "told the running fail2ban-server through %s", client);
	strv_free(&jails);
}

/* ---- the policy ---- */

static void jails_parse(const char *s, struct f2b_jails *j)
{
	struct strv w = {0};
	f2b_split_words(s ? s : "", &w);
	for (size_t i = 0; i < w.n; i++) {
		if (strcmp(w.v[i], "*") == 0)
			j->all = true;
		else if (strcmp(w.v[i], "auto") == 0)
			j->autos = true;
		else if (!strv_contains(&j->names, w.v[i]))
			strv_push(&j->names, w.v[i]);
	}
	strv_free(&w);
}

static bool fail2ban_enabled(const struct config *cfg)
{
	return cfg->fail2ban_enabled;
}

static int fail2ban_run(struct policy_ctx *ctx, struct policy_result *res)
{
	struct f2b_run run = {.ctx = ctx, .res = res};
	jails_parse(ctx->cfg->fail2ban_jails, &run.jails);
	struct stat st;
	run.have_etc = root_stat(ctx->root, F2B_DIR, &st) == 0 && S_ISDIR(st.st_mode);
	jails_scan(&run);
	if (!run.jails.all && !run.jails.names.n) {
		note(&run, run.jails.autos ? "no enabled jail blocks sshd's port"
					   : "no jail chosen ([fail2ban] jails is empty)");
	} else {
		_cleanup_free_ char *db = NULL;
		db_find(&run, &db);
		if (db)
			db_run(&run, db);
		if (run.have_etc)
			ignoreip_run(&run);
		if (ctx->live && ctx->repair && (run.have_etc || run.have_db))
			live_run(&run);
	}
	if (!run.have_etc && !run.have_db && !res->n_findings) {
		res->status = POLICY_SKIPPED;
		policy_result_set_note(res, "no fail2ban on the instance");
	} else if (run.notes.n) {
		struct buf b = {0};
		for (size_t i = 0; i < run.notes.n; i++)
			buf_printf(&b, "%s%s", i ? "; " : "", run.notes.v[i]);
		policy_result_set_note(res, "%s", b.data);
		buf_free(&b);
	}
	strv_free(&run.notes);
	strv_free(&run.added);
	strv_free(&run.jails.names);
	strv_free(&run.blocking);
	strv_free(&run.blocking_why);
	strv_free(&run.uncovered);
	return 0;
}

const struct policy fail2ban_policy = {
	.name = "fail2ban",
	.enabled = fail2ban_enabled,
	.run = fail2ban_run,
};

