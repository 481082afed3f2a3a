/* test_hosts_access.c: the hosts_access(5) reader, matcher and decision. Every row of the
 * decision table carries tcpd's own verdict, and test_table_agrees_with_tcpdmatch runs the
 * real `tcpdmatch -d` (package tcpd) on each row, so the table cannot drift from tcpd. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "parse/hosts_access.h"
#include "util.h"

#define TCPDMATCH "/usr/sbin/tcpdmatch"

/* What our decision must say when nothing is known but the address (a real sshd, no DNS). */
enum want { G, D, M }; /* granted for sure, refused for sure, may be either */

struct row {
	const char *name;
	const char *allow; /* NULL: no file */
	const char *deny;
	size_t deny_len; /* 0: strlen(deny) (for rows holding NUL bytes) */
	const char *daemon;
	const char *client;
	const char *tcpd; /* tcpdmatch's "access:" verdict: granted, denied, delegated */
	enum want want;
};

/* "@DIR@" stands for the directory of the row's files (for /file pattern lists). */
/* clang-format off */
static const struct row rows[] = {
	{ "no files", NULL, NULL, 0, "sshd", "192.0.2.1", "granted", G },
	{ "empty files", "", "", 0, "sshd", "192.0.2.1", "granted", G },
	{ "exact address denied", "", "sshd: 192.0.2.1\n", 0, "sshd", "192.0.2.1", "denied", D },
	{ "other address not denied", "", "sshd: 192.0.2.1\n", 0, "sshd", "192.0.2.2", "granted", G },
	{ "other daemon not denied", "", "sshd: 192.0.2.1\n", 0, "vsftpd", "192.0.2.1", "granted", G },
	{ "ALL:ALL denies", "", "ALL:ALL\n", 0, "sshd", "192.0.2.1", "denied", D },
	{ "ALL:ALL allow wins over deny", "ALL: ALL\n", "ALL:ALL\n", 0, "sshd", "192.0.2.1", "granted", G },
	{ "allow then deny all: allowed", "sshd: 192.0.2.1\n", "ALL: ALL\n", 0, "sshd", "192.0.2.1", "granted", G },
	{ "allow then deny all: others", "sshd: 192.0.2.1\n", "ALL: ALL\n", 0, "sshd", "192.0.2.9", "denied", D },
	/* continuation lines */
	{ "continued client list", "", "sshd: 192.0.2.5, \\\n 192.0.2.1\n", 0, "sshd", "192.0.2.1", "denied", D },
	{ "continued daemon list", "", "vsftpd \\\n sshd: ALL\n", 0, "sshd", "192.0.2.1", "denied", D },
	{ "continued comment swallows a rule", "", "# note \\\nsshd: ALL\n", 0, "sshd", "192.0.2.1", "granted", G },
	{ "continuation into an empty line", "sshd: ALL: deny\\\n\n", "", 0, "sshd", "192.0.2.1", "denied", D },
	{ "backslash CR newline is no continuation", "", "sshd: 192.0.2.9 \\\r\nsshd: ALL\n", 0, "sshd", "192.0.2.1", "denied", D },
	/* comments and malformed lines */
	{ "comment", "", "#sshd: ALL\n", 0, "sshd", "192.0.2.1", "granted", G },
	{ "indented # is no comment", "", " # sshd: ALL\n", 0, "sshd", "192.0.2.1", "denied", D },
	{ "trailing # words are host names", "", "sshd: 192.0.2.1 # old\n", 0, "sshd", "192.0.2.2", "granted", M },
	{ "line without colon skipped", "", "sshd 192.0.2.1\n", 0, "sshd", "192.0.2.1", "granted", G },
	{ "blank lines", "", "\n  \t\n\r\nsshd:ALL\n", 0, "sshd", "192.0.2.1", "denied", D },
	{ "CRLF line ends", "", "sshd: 192.0.2.1\r\n", 0, "sshd", "192.0.2.1", "denied", D },
	{ "empty daemon list", "", ": ALL\n", 0, "sshd", "192.0.2.1", "granted", G },
	{ "empty client list", "", "sshd:\n", 0, "sshd", "192.0.2.1", "granted", G },
	{ "missing newline at end of hosts.deny denies all", "", "sshd: 198.51.100.1", 0, "sshd", "192.0.2.1", "denied", D },
	{ "missing newline denies other daemons too", "", "sshd: 198.51.100.1", 0, "vsftpd", "192.0.2.1", "denied", D },
	{ "missing newline in hosts.allow: rest ignored", "vsftpd: ALL\nsshd: ALL", "ALL: ALL\n", 0, "sshd", "192.0.2.1", "denied", D },
	{ "missing newline in hosts.allow: earlier rules hold", "sshd: ALL\nvsftpd: ALL", "ALL: ALL\n", 0, "sshd", "192.0.2.1", "granted", G },
	{ "NUL byte glues lines", "", "sshd: 192.0.2.1\0junk\nALL: ALL\n", 31, "sshd", "192.0.2.1", "granted", M },
	/* EXCEPT */
	{ "ALL EXCEPT daemon", "", "ALL EXCEPT sshd: ALL\n", 0, "sshd", "192.0.2.1", "granted", G },
	{ "ALL EXCEPT daemon, other daemon", "", "ALL EXCEPT sshd: ALL\n", 0, "vsftpd", "192.0.2.1", "denied", D },
	{ "client EXCEPT net: inside", "", "ALL: ALL EXCEPT 192.0.2.0/255.255.255.0\n", 0, "sshd", "192.0.2.7", "granted", G },
	{ "client EXCEPT net: outside", "", "ALL: ALL EXCEPT 192.0.2.0/255.255.255.0\n", 0, "sshd", "198.51.100.7", "denied", D },
	{ "nested EXCEPT: innermost", "", "ALL: 10.0.0.0/255.0.0.0 EXCEPT 10.1.0.0/255.255.0.0 EXCEPT 10.1.2.3\n", 0, "sshd", "10.1.2.3", "denied", D },
	{ "nested EXCEPT: middle", "", "ALL: 10.0.0.0/255.0.0.0 EXCEPT 10.1.0.0/255.255.0.0 EXCEPT 10.1.2.3\n", 0, "sshd", "10.1.2.4", "granted", G },
	{ "nested EXCEPT: outer", "", "ALL: 10.0.0.0/255.0.0.0 EXCEPT 10.1.0.0/255.255.0.0 EXCEPT 10.1.2.3\n", 0, "sshd", "10.2.0.1", "denied", D },
	{ "nested EXCEPT: outside", "", "ALL: 10.0.0.0/255.0.0.0 EXCEPT 10.1.0.0/255.255.0.0 EXCEPT 10.1.2.3\n", 0, "sshd", "11.0.0.1", "granted", G },
	{ "except in lower case", "", "sshd: all except 192.0.2.1\n", 0, "sshd", "192.0.2.1", "granted", G },
	{ "EXCEPT by host name", "", "sshd: ALL EXCEPT .example.com\n", 0, "sshd", "192.0.2.1", "denied", M },
	{ "EXCEPT with nothing after", "", "sshd: ALL EXCEPT\n", 0, "sshd", "192.0.2.1", "denied", D },
	/* nets, masks, prefixes, suffixes, wildcards */
	{ "net/mask inside", "", "sshd: 192.0.2.0/255.255.255.0\n", 0, "sshd", "192.0.2.200", "denied", D },
	{ "net/mask outside", "", "sshd: 192.0.2.0/255.255.255.0\n", 0, "sshd", "192.0.3.1", "granted", G },
	{ "net/len (Debian)", "", "sshd: 192.0.2.0/24\n", 0, "sshd", "192.0.2.200", "denied", D },
	{ "net with host bits never matches", "", "sshd: 192.0.2.1/24\n", 0, "sshd", "192.0.2.1", "granted", G },
	{ "mask 255.255.255.255 never matches", "", "sshd: 192.0.2.1/255.255.255.255\n", 0, "sshd", "192.0.2.1", "granted", G },
	{ "/32 matches", "", "sshd: 192.0.2.1/32\n", 0, "sshd", "192.0.2.1", "denied", D },
	{ "/0 never matches", "", "sshd: 0.0.0.0/0\n", 0, "sshd", "192.0.2.1", "granted", G },
	{ "mask 0.0.0.0 matches all", "", "sshd: 0.0.0.0/0.0.0.0\n", 0, "sshd", "192.0.2.1", "denied", D },
	{ "non-contiguous mask", "", "sshd: 10.0.0.0/255.0.0.255\n", 0, "sshd", "10.77.1.0", "denied", D },
	{ "non-contiguous mask, other", "", "sshd: 10.0.0.0/255.0.0.255\n", 0, "sshd", "10.77.1.1", "granted", G },
	{ "octal net in mask pattern", "", "sshd: 012.0.0.0/255.0.0.0\n", 0, "sshd", "10.1.1.1", "denied", D },
	{ "prefix n.n.n.", "", "sshd: 192.0.2.\n", 0, "sshd", "192.0.2.77", "denied", D },
	{ "prefix n.n.n. other", "", "sshd: 192.0.2.\n", 0, "sshd", "192.0.22.77", "granted", G },
	{ "no trailing dot is exact", "", "sshd: 192.0.2\n", 0, "sshd", "192.0.2.1", "granted", G },
	{ "suffix .n on an address", "", "sshd: .1\n", 0, "sshd", "192.0.2.1", "denied", D },
	{ "suffix .n other", "", "sshd: .1\n", 0, "sshd", "192.0.2.11", "granted", G },
	{ "wildcard *", "", "sshd: 192.0.2.*\n", 0, "sshd", "192.0.2.1", "denied", D },
	{ "wildcard ?", "", "sshd: 192.0.?.1\n", 0, "sshd", "192.0.2.1", "denied", D },
	{ "wildcard ? other (or a name)", "", "sshd: 192.0.?.1\n", 0, "sshd", "192.0.22.1", "granted", M },
	{ "bare *", "", "sshd: *\n", 0, "sshd", "192.0.2.1", "denied", D },
	{ "bracketed IPv4 never matches", "", "sshd: [192.0.2.1]\n", 0, "sshd", "192.0.2.1", "granted", G },
	/* IPv6 */
	{ "v6 prefix inside", "", "sshd: [2001:db8::]/32\n", 0, "sshd", "2001:db8::1", "denied", D },
	{ "v6 prefix outside", "", "sshd: [2001:db8::]/32\n", 0, "sshd", "2001:db9::1", "granted", G },
	{ "v6 prefix, IPv4 client", "", "sshd: [2001:db8::]/32\n", 0, "sshd", "192.0.2.1", "granted", G },
	{ "v6 address", "", "sshd: [2001:db8::1]\n", 0, "sshd", "2001:db8::1", "denied", D },
	{ "v6 address other", "", "sshd: [2001:db8::1]\n", 0, "sshd", "2001:db8::2", "granted", G },
	{ "v6 net host bits are masked", "", "sshd: [2001:db8::1]/64\n", 0, "sshd", "2001:db8::2", "denied", D },
	{ "v6 /0", "", "sshd: [::]/0\n", 0, "sshd", "::1", "denied", D },
	{ "v6 junk length is atoi 0", "", "sshd: [::]/junk\n", 0, "sshd", "2001:db8::5", "denied", D },
	{ "v6 /129 never matches", "", "sshd: [2001:db8::]/129\n", 0, "sshd", "2001:db8::1", "granted", G },
	{ "v6 EXCEPT v6", "", "ALL: ALL EXCEPT [2001:db8::]/48\n", 0, "sshd", "2001:db8:0:1::1", "granted", G },
	/* hosts_options(5) */
	{ "deny option in hosts.allow", "sshd: ALL: deny\n", "", 0, "sshd", "192.0.2.1", "denied", D },
	{ "deny option for one address", "sshd: 192.0.2.1: deny\n", "", 0, "sshd", "192.0.2.2", "granted", G },
	{ "allow option in hosts.deny", "", "sshd: ALL: allow\n", 0, "sshd", "192.0.2.1", "granted", G },
	{ "allow option in hosts.deny, other daemon", "", "sshd: ALL: allow\nALL: ALL\n", 0, "vsftpd", "192.0.2.1", "denied", D },
	{ "trailing colon is an empty option", "sshd: ALL:\n", "", 0, "sshd", "192.0.2.1", "denied", D },
	{ "allow with a value", "sshd: ALL: allow yes\n", "", 0, "sshd", "192.0.2.1", "denied", D },
	{ "allow not last", "", "sshd: ALL: allow: spawn /bin/true\n", 0, "sshd", "192.0.2.1", "denied", D },
	{ "unknown option", "sshd: ALL: bogus\n", "", 0, "sshd", "192.0.2.1", "denied", D },
	{ "spawn then grant", "sshd: ALL: spawn /bin/echo %a\n", "ALL: ALL\n", 0, "sshd", "192.0.2.1", "granted", G },
	{ "twist", "sshd: ALL: twist /bin/echo go away\n", "", 0, "sshd", "192.0.2.1", "delegated", D },
	{ "options then allow", "", "sshd: ALL: keepalive: nice 5: linger 10: rfc931 5: severity auth.info: umask 022: allow\n", 0, "sshd", "192.0.2.1", "granted", G },
	{ "bad severity", "", "sshd: ALL: severity loud: allow\n", 0, "sshd", "192.0.2.1", "denied", D },
	{ "bad umask", "", "sshd: ALL: umask 999: allow\n", 0, "sshd", "192.0.2.1", "denied", D },
	{ "setenv then allow", "", "sshd: ALL: setenv FOO bar: allow\n", 0, "sshd", "192.0.2.1", "granted", G },
	{ "setenv with = in the name", "", "sshd: ALL: setenv a=b c: allow\n", 0, "sshd", "192.0.2.1", "denied", D },
	{ "name=value form", "", "sshd: ALL: nice = 5: allow\n", 0, "sshd", "192.0.2.1", "granted", G },
	{ "escaped colon in an option", "", "sshd: ALL: spawn echo a\\:b: allow\n", 0, "sshd", "192.0.2.1", "granted", G },
	{ "aclexec decides at run time", "sshd: ALL: aclexec /bin/false\n", "ALL: ALL\n", 0, "sshd", "192.0.2.1", "granted", M },
	/* host names, users, endpoints: tcpdmatch knows no name; a real sshd may */
	{ "UNKNOWN", "", "sshd: UNKNOWN\n", 0, "sshd", "192.0.2.1", "denied", M },
	{ "KNOWN", "", "sshd: KNOWN\n", 0, "sshd", "192.0.2.1", "granted", M },
	{ "LOCAL", "", "sshd: LOCAL\n", 0, "sshd", "192.0.2.1", "granted", M },
	{ "PARANOID", "", "sshd: PARANOID\n", 0, "sshd", "192.0.2.1", "granted", M },
	{ "domain suffix", "", "sshd: .example.com\n", 0, "sshd", "192.0.2.1", "granted", M },
	{ "host name", "", "sshd: host.example.com\n", 0, "sshd", "192.0.2.1", "granted", M },
	{ "netgroup", "", "sshd: @admins\n", 0, "sshd", "192.0.2.1", "granted", M },
	{ "user@host", "", "sshd: root@192.0.2.1\n", 0, "sshd", "192.0.2.1", "granted", M },
	{ "ALL@host", "", "sshd: ALL@192.0.2.1\n", 0, "sshd", "192.0.2.1", "denied", D },
	{ "user@other host", "", "sshd: root@192.0.2.9\n", 0, "sshd", "192.0.2.1", "granted", G },
	{ "daemon@host", "", "sshd@192.0.2.100: ALL\n", 0, "sshd", "192.0.2.1", "granted", M },
	{ "daemon@ALL", "", "sshd@ALL: ALL\n", 0, "sshd", "192.0.2.1", "denied", D },
	{ "port 22", "", "22: ALL\n", 0, "sshd", "192.0.2.1", "granted", M },
	{ "daemon wildcard", "", "ssh*: ALL\n", 0, "sshd", "192.0.2.1", "denied", D },
	{ "daemon case", "", "SSHD: ALL\n", 0, "sshd", "192.0.2.1", "denied", D },
	{ "daemon KNOWN", "", "KNOWN: ALL\n", 0, "sshd", "192.0.2.1", "denied", D },
	{ "daemon prefix no match", "", "sshd2: ALL\n", 0, "sshd", "192.0.2.1", "granted", G },
	/* /file pattern lists */
	{ "/file list", "", "sshd: @DIR@/list\n", 0, "sshd", "192.0.2.1", "denied", D },
	{ "/file list other", "", "sshd: @DIR@/list\n", 0, "sshd", "192.0.3.1", "granted", G },
	{ "/file missing", "", "sshd: @DIR@/absent\n", 0, "sshd", "192.0.2.1", "granted", G },
	{ "/file nested list", "", "sshd: @DIR@/outer\n", 0, "sshd", "198.51.100.1", "denied", D },
	{ "/file with names", "", "sshd: @DIR@/names\n", 0, "sshd", "192.0.2.1", "granted", M },
	{ "/file EXCEPT", "", "sshd: ALL EXCEPT @DIR@/list\n", 0, "sshd", "192.0.2.1", "granted", G },
};
/* clang-format on */

/* The pattern files of the /file rows. */
static const struct {
	const char *name, *content;
} list_files[] = {
	{"list", "203.0.113.1\n 192.0.2.0/255.255.255.0\t10.0.0.1\n"},
	{"outer", "203.0.113.9 @DIR@/inner\n"},
	{"inner", "198.51.100.\n"},
	{"names", "host.example.com .example.net\n"},
};

static char dir[] = "/tmp/test_hosts_access.XXXXXX";

static char *subst_dir(const char *s, size_t len)
{
	struct buf b = {0};
	for (size_t i = 0; i < len;) {
		if (len - i >= 5 && memcmp(s + i, "@DIR@", 5) == 0) {
			buf_puts(&b, dir);
			i += 5;
		} else {
			buf_append(&b, s + i, 1);
			i++;
		}
	}
	if (!b.data)
		buf_append(&b, "", 0);
	return b.data;
}

static void write_file(const char *path, const char *data, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, data, len), (ssize_t)len);
	close(fd);
}

static int setup(void **state)
{
	if (!mkdtemp(dir))
		return -1;
	for (size_t i = 0; i < ARRAY_SIZE(list_files); i++) {
		char path[256];
		snprintf(path, sizeof(path), "%s/%s", dir, list_files[i].name);
		char *c = subst_dir(list_files[i].content, strlen(list_files[i].content));
		write_file(path, c, strlen(c));
		free(c);
	}
	return 0;
}

static int teardown(void **state)
{
	char cmd[256];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

/* The /file callback of the tests: the host's file system, as tcpdmatch sees it. */
struct file_cache {
	char *data[8];
	char *path[8];
	size_t n;
};

static int read_host_file(void *arg, const char *path, const char **data, size_t *len)
{
	struct file_cache *fc = arg;
	FILE *f = fopen(path, "r");
	if (!f)
		return -ENOENT; /* tcpd: any open failure matches nothing */
	struct buf b = {0};
	char tmp[4096];
	size_t n;
	while ((n = fread(tmp, 1, sizeof(tmp), f)) > 0)
		buf_append(&b, tmp, n);
	fclose(f);
	if (!b.data)
		buf_append(&b, "", 0);
	assert_true(fc->n < 8);
	fc->data[fc->n] = b.data;
	fc->path[fc->n++] = xstrdup(path);
	*data = b.data;
	*len = b.len;
	return 0;
}

static void file_cache_free(struct file_cache *fc)
{
	for (size_t i = 0; i < fc->n; i++) {
		free(fc->data[i]);
		free(fc->path[i]);
	}
	fc->n = 0;
}

static unsigned decide_row(const struct row *r, bool tcpdmatch_mode, char **allow, char **deny)
{
	*allow = r->allow ? subst_dir(r->allow, strlen(r->allow)) : NULL;
	*deny = r->deny ? subst_dir(r->deny, r->deny_len ? r->deny_len : strlen(r->deny)) : NULL;
	size_t deny_len = r->deny ? (r->deny_len ? r->deny_len : strlen(*deny)) : 0;
	struct hosts_access_table t[2] = {
		{"hosts.allow", r->allow ? HOSTS_ACCESS_FILE_OK : HOSTS_ACCESS_FILE_ABSENT, *allow,
		 *allow ? strlen(*allow) : 0},
		{"hosts.deny", r->deny ? HOSTS_ACCESS_FILE_OK : HOSTS_ACCESS_FILE_ABSENT, *deny,
		 deny_len},
	};
	struct cidr c;
	if (cidr_parse(r->client, &c) < 0)
		fail_msg("%s: bad client %s", r->name, r->client);
	struct hosts_access_query q;
	struct file_cache fc = {0};
	if (tcpdmatch_mode)
		hosts_access_query_init_tcpdmatch(&q, r->daemon, &c);
	else
		hosts_access_query_init(&q, r->daemon, &c);
	q.read_file = read_host_file;
	q.read_arg = &fc;
	unsigned out;
	hosts_access_decide(t, &q, 1,
			    tcpdmatch_mode ? HOSTS_ACCESS_DRY_RUN : HOSTS_ACCESS_DISTRUST_NUL, &out,
			    NULL, NULL);
	file_cache_free(&fc);
	return out;
}

static const char *verdict_text(unsigned out)
{
	switch (out) {
	case HOSTS_ACCESS_GRANT:
		return "granted";
	case HOSTS_ACCESS_DENY:
		return "denied";
	case HOSTS_ACCESS_TWIST:
		return "delegated";
	}
	return "undecided";
}

static void test_table_tcpdmatch_mode_is_exact(void **state)
{
	for (size_t i = 0; i < ARRAY_SIZE(rows); i++) {
		char *a, *d;
		unsigned out = decide_row(&rows[i], true, &a, &d);
		if (strcmp(verdict_text(out), rows[i].tcpd) != 0)
			fail_msg("row '%s': we say %s, tcpd says %s", rows[i].name,
				 verdict_text(out), rows[i].tcpd);
		free(a);
		free(d);
	}
}

static void test_table_without_dns_is_sound(void **state)
{
	for (size_t i = 0; i < ARRAY_SIZE(rows); i++) {
		char *a, *d;
		unsigned out = decide_row(&rows[i], false, &a, &d);
		enum want got = out == HOSTS_ACCESS_GRANT	  ? G
				: (out & HOSTS_ACCESS_GRANT) == 0 ? D
								  : M;
		if (got != rows[i].want)
			fail_msg("row '%s': outcome bits %u, want %s", rows[i].name, out,
				 rows[i].want == G   ? "granted"
				 : rows[i].want == D ? "refused"
						     : "either");
		free(a);
		free(d);
	}
}

/* Run `tcpdmatch -d daemon client` in dir; returns its "access:" verdict (caller frees). */
static char *run_tcpdmatch(const char *daemon, const char *client)
{
	int p[2];
	assert_int_equal(pipe(p), 0);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		dup2(p[1], 1);
		int devnull = open("/dev/null", O_WRONLY);
		dup2(devnull, 2);
		close(p[0]);
		if (chdir(dir) < 0)
			_exit(126);
		execl(TCPDMATCH, "tcpdmatch", "-d", daemon, client, (char *)NULL);
		_exit(127);
	}
	close(p[1]);
	struct buf b = {0};
	char tmp[1024];
	ssize_t n;
	while ((n = read(p[0], tmp, sizeof(tmp))) > 0)
		buf_append(&b, tmp, (size_t)n);
	close(p[0]);
	int st;
	waitpid(pid, &st, 0);
	char *verdict = NULL;
	for (char *l = b.data; l && *l;) {
		char *e = strchr(l, '\n');
		if (e)
			*e = '\0';
		if (strncmp(l, "access:", 7) == 0)
			verdict = xstrdup(l + 7 + strspn(l + 7, " "));
		l = e ? e + 1 : l + strlen(l);
	}
	buf_free(&b);
	return verdict ? verdict : xstrdup("(no verdict)");
}

static void put_table(const char *name, const char *content, size_t len)
{
	char path[256];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	unlink(path);
	if (content)
		write_file(path, content, len);
}

/* The judge: the real tcpdmatch agrees with every row's tcpd column. */
static void test_table_agrees_with_tcpdmatch(void **state)
{
	if (access(TCPDMATCH, X_OK) != 0)
		fail_msg(TCPDMATCH " is missing: install the Debian package tcpd (tests/deps)");
	for (size_t i = 0; i < ARRAY_SIZE(rows); i++) {
		const struct row *r = &rows[i];
		char *a = r->allow ? subst_dir(r->allow, strlen(r->allow)) : NULL;
		size_t dl = r->deny ? (r->deny_len ? r->deny_len : strlen(r->deny)) : 0;
		char *d = r->deny ? subst_dir(r->deny, dl) : NULL;
		put_table("hosts.allow", a, a ? strlen(a) : 0);
		put_table("hosts.deny", d, r->deny_len ? r->deny_len : d ? strlen(d) : 0);
		char *v = run_tcpdmatch(r->daemon, r->client);
		if (strcmp(v, r->tcpd) != 0)
			fail_msg("row '%s': tcpdmatch says %s, the table says %s", r->name, v,
				 r->tcpd);
		free(v);
		free(a);
		free(d);
	}
	put_table("hosts.allow", NULL, 0);
	put_table("hosts.deny", NULL, 0);
}

/* ---- the reader ---- */

static void test_reader_offsets_lines_and_kinds(void **state)
{
	const char text[] = "a: b\n#c\n\nd \\\n e: f\nno colon\ng: h";
	struct hosts_access_cursor c;
	struct hosts_access_rule r;
	static const struct {
		enum hosts_access_kind kind;
		size_t start, end;
		unsigned line, n_lines;
	} want[] = {
		{HOSTS_ACCESS_RULE, 0, 5, 1, 1},       {HOSTS_ACCESS_COMMENT, 5, 8, 2, 1},
		{HOSTS_ACCESS_BLANK, 8, 9, 3, 1},      {HOSTS_ACCESS_RULE, 9, 19, 4, 2},
		{HOSTS_ACCESS_NO_COLON, 19, 28, 6, 1}, {HOSTS_ACCESS_BROKEN, 28, 32, 7, 1},
	};
	hosts_access_cursor_init(&c, text, sizeof(text) - 1);
	for (size_t i = 0; i < ARRAY_SIZE(want); i++) {
		assert_int_equal(hosts_access_next(&c, &r), 1);
		assert_int_equal(r.kind, want[i].kind);
		assert_int_equal(r.start, want[i].start);
		assert_int_equal(r.end, want[i].end);
		assert_int_equal(r.line, want[i].line);
		assert_int_equal(r.n_lines, want[i].n_lines);
		if (i == 3) {
			assert_int_equal(r.n_daemons, 2);
			assert_string_equal(r.daemons[1], "e");
			assert_int_equal(r.n_clients, 1);
			assert_string_equal(r.clients[0], "f");
			assert_null(r.options);
		}
	}
	assert_int_equal(hosts_access_next(&c, &r), 0);
	assert_int_equal(hosts_access_next(&c, &r), 0);
}

static void test_reader_splits_lists_and_options(void **state)
{
	const char text[] =
		"sshd, in.ftpd\t@x: [2001:db8::]/32 ,1.2.3.4 EXCEPT .a.b : spawn x\\:y : deny\n";
	struct hosts_access_cursor c;
	struct hosts_access_rule r;
	hosts_access_cursor_init(&c, text, sizeof(text) - 1);
	assert_int_equal(hosts_access_next(&c, &r), 1);
	assert_int_equal(r.kind, HOSTS_ACCESS_RULE);
	assert_int_equal(r.n_daemons, 3);
	assert_string_equal(r.daemons[2], "@x");
	assert_int_equal(r.n_clients, 4);
	assert_string_equal(r.clients[0], "[2001:db8::]/32");
	assert_string_equal(r.clients[2], "EXCEPT");
	assert_string_equal(r.options, " spawn x\\:y : deny\n");
	assert_int_equal(hosts_access_rule_effect(&r, 0, NULL), HOSTS_ACCESS_EFFECT_DENY);
}

static void test_reader_long_line_stops_the_file(void **state)
{
	size_t n = 3000;
	char *text = xmalloc(n + 20);
	memset(text, 'x', n);
	memcpy(text + n, ": y\nsshd: ALL\n", 15);
	struct hosts_access_cursor c;
	struct hosts_access_rule r;
	hosts_access_cursor_init(&c, text, n + 14);
	assert_int_equal(hosts_access_next(&c, &r), 1);
	assert_int_equal(r.kind, HOSTS_ACCESS_BROKEN);
	assert_true(r.too_long);
	assert_int_equal(r.end, HOSTS_ACCESS_BUFLEN - 1);
	assert_int_equal(hosts_access_next(&c, &r), 0);
	/* A line of exactly 2046 bytes and its newline still fits. */
	memset(text, 'x', 2046);
	text[2046] = '\n';
	hosts_access_cursor_init(&c, text, 2047);
	assert_int_equal(hosts_access_next(&c, &r), 1);
	assert_int_equal(r.kind, HOSTS_ACCESS_NO_COLON);
	free(text);
}

static void test_reader_nul_glues_the_next_line(void **state)
{
	const char text[] = "a\0junk\nb: c\nd: e\n";
	struct hosts_access_cursor c;
	struct hosts_access_rule r;
	hosts_access_cursor_init(&c, text, sizeof(text) - 1);
	assert_int_equal(hosts_access_next(&c, &r), 1);
	assert_int_equal(r.kind, HOSTS_ACCESS_RULE);
	assert_true(r.has_nul);
	assert_string_equal(r.daemons[0], "ab");
	assert_int_equal(r.line, 1);
	assert_int_equal(r.n_lines, 2);
	assert_int_equal(r.end, 12);
	assert_int_equal(hosts_access_next(&c, &r), 1);
	assert_false(r.has_nul);
	assert_int_equal(r.line, 3);
}

/* Streaming: a million-line file is read with the cursor alone. */
static void test_reader_streams_a_million_lines(void **state)
{
	size_t lines = 1000000;
	struct buf b = {0};
	for (size_t i = 0; i < lines; i++)
		buf_printf(&b, "sshd: 10.%zu.%zu.%zu\n", (i >> 16) & 255, (i >> 8) & 255, i & 255);
	struct hosts_access_cursor *c = xmalloc(sizeof(*c));
	struct hosts_access_rule r;
	hosts_access_cursor_init(c, b.data, b.len);
	size_t n = 0, last_end = 0;
	while (hosts_access_next(c, &r)) {
		assert_int_equal(r.start, last_end);
		last_end = r.end;
		n++;
	}
	assert_int_equal(n, lines);
	assert_int_equal(last_end, b.len);
	assert_int_equal(r.line,
			 0 + lines + 1); /* the end-of-file call starts past the last line */
	free(c);
	buf_free(&b);
}

/* ---- patterns over networks ---- */

static void test_client_pattern_over_networks(void **state)
{
	static const struct {
		const char *pattern, *net;
		enum hosts_access_match want;	/* host name known not to match (tcpdmatch) */
		enum hosts_access_match no_dns; /* host name not known */
	} cases[] = {
		{"ALL", "0.0.0.0/0", HOSTS_ACCESS_YES, HOSTS_ACCESS_YES},
		{"192.0.2.0/255.255.255.0", "192.0.2.0/24", HOSTS_ACCESS_YES, HOSTS_ACCESS_YES},
		{"192.0.2.0/255.255.255.0", "192.0.2.128/25", HOSTS_ACCESS_YES, HOSTS_ACCESS_YES},
		{"192.0.2.0/255.255.255.0", "192.0.0.0/16", HOSTS_ACCESS_MAYBE, HOSTS_ACCESS_MAYBE},
		{"192.0.2.0/255.255.255.0", "192.0.3.0/24", HOSTS_ACCESS_NO, HOSTS_ACCESS_NO},
		{"192.0.2.0/24", "192.0.2.0/24", HOSTS_ACCESS_YES, HOSTS_ACCESS_YES},
		{"0.0.0.0/0.0.0.0", "0.0.0.0/0", HOSTS_ACCESS_YES, HOSTS_ACCESS_YES},
		{"0.0.0.0/0", "0.0.0.0/0", HOSTS_ACCESS_NO, HOSTS_ACCESS_NO},
		{"10.0.0.0/255.0.0.255", "10.1.2.0/24", HOSTS_ACCESS_MAYBE, HOSTS_ACCESS_MAYBE},
		{"10.0.0.0/255.0.0.255", "10.1.2.0/32", HOSTS_ACCESS_YES, HOSTS_ACCESS_YES},
		{"10.0.0.0/255.0.0.255", "10.1.2.1/32", HOSTS_ACCESS_NO, HOSTS_ACCESS_NO},
		{"192.0.2.", "192.0.2.0/24", HOSTS_ACCESS_YES, HOSTS_ACCESS_YES},
		{"192.0.2.", "192.0.2.64/26", HOSTS_ACCESS_YES, HOSTS_ACCESS_YES},
		{"192.0.2.", "192.0.0.0/16", HOSTS_ACCESS_MAYBE, HOSTS_ACCESS_MAYBE},
		{"192.0.2.", "192.0.20.0/22", HOSTS_ACCESS_NO, HOSTS_ACCESS_NO},
		/* ::192.0.2.1 is written that way, but does not start with "192." */
		{"192.0.2.", "::/0", HOSTS_ACCESS_NO, HOSTS_ACCESS_NO},
		{".1", "::/0", HOSTS_ACCESS_MAYBE, HOSTS_ACCESS_MAYBE}, /* ::192.0.2.1 */
		{"192.0.2.", "2001:db8::/32", HOSTS_ACCESS_NO, HOSTS_ACCESS_NO},
		{"192.0.2.1", "192.0.2.0/24", HOSTS_ACCESS_MAYBE, HOSTS_ACCESS_MAYBE},
		{"192.0.2.1", "192.0.3.0/24", HOSTS_ACCESS_NO, HOSTS_ACCESS_NO},
		{"192.0.2.1", "::/0", HOSTS_ACCESS_NO, HOSTS_ACCESS_NO},
		{".1", "192.0.2.0/24", HOSTS_ACCESS_MAYBE, HOSTS_ACCESS_MAYBE},
		{".1", "192.0.2.1/32", HOSTS_ACCESS_YES, HOSTS_ACCESS_YES},
		{".2.1", "192.0.2.0/25", HOSTS_ACCESS_MAYBE, HOSTS_ACCESS_MAYBE},
		{".3.1", "192.0.2.0/24", HOSTS_ACCESS_NO, HOSTS_ACCESS_NO},
		{"1?.*", "10.0.0.0/7", HOSTS_ACCESS_YES, HOSTS_ACCESS_YES},
		{"1?.*", "1.0.0.0/8", HOSTS_ACCESS_NO, HOSTS_ACCESS_MAYBE},
		{"*", "0.0.0.0/0", HOSTS_ACCESS_YES, HOSTS_ACCESS_YES},
		{"*", "::/0", HOSTS_ACCESS_YES, HOSTS_ACCESS_YES},
		{"*.*.*.1?", "192.0.2.0/24", HOSTS_ACCESS_MAYBE, HOSTS_ACCESS_MAYBE},
		{"*.*.*.?", "192.0.2.0/29", HOSTS_ACCESS_YES, HOSTS_ACCESS_YES},
		{"[2001:db8::]/32", "2001:db8::/48", HOSTS_ACCESS_YES, HOSTS_ACCESS_YES},
		{"[2001:db8::]/32", "2001::/16", HOSTS_ACCESS_MAYBE, HOSTS_ACCESS_MAYBE},
		{"[2001:db8::]/32", "2001:db9::/32", HOSTS_ACCESS_NO, HOSTS_ACCESS_NO},
		{"[2001:db8::]/32", "192.0.2.0/24", HOSTS_ACCESS_NO, HOSTS_ACCESS_NO},
		{"[2001:db8::1]", "2001:db8::/64", HOSTS_ACCESS_MAYBE, HOSTS_ACCESS_MAYBE},
		{"[2001:db8::1]", "2001:db8::1/128", HOSTS_ACCESS_YES, HOSTS_ACCESS_YES},
		{"host.example.com", "192.0.2.0/24", HOSTS_ACCESS_NO, HOSTS_ACCESS_MAYBE},
		{"UNKNOWN", "192.0.2.1/32", HOSTS_ACCESS_YES, HOSTS_ACCESS_MAYBE},
		{"KNOWN", "192.0.2.1/32", HOSTS_ACCESS_NO, HOSTS_ACCESS_MAYBE},
		{"root@192.0.2.0/255.255.255.0", "192.0.2.0/24", HOSTS_ACCESS_NO,
		 HOSTS_ACCESS_MAYBE},
		{"ALL@192.0.2.0/255.255.255.0", "192.0.2.0/24", HOSTS_ACCESS_YES, HOSTS_ACCESS_YES},
		{"root@192.0.3.1", "192.0.2.0/24", HOSTS_ACCESS_NO, HOSTS_ACCESS_NO},
		{"@netgroup", "192.0.2.0/24", HOSTS_ACCESS_NO, HOSTS_ACCESS_MAYBE},
		{"/nonexistent/list", "192.0.2.0/24", HOSTS_ACCESS_NO, HOSTS_ACCESS_NO},
	};
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		struct cidr n;
		assert_int_equal(cidr_parse(cases[i].net, &n), 0);
		struct hosts_access_query q;
		struct file_cache fc = {0};
		hosts_access_query_init_tcpdmatch(&q, "sshd", &n);
		q.read_file = read_host_file;
		q.read_arg = &fc;
		enum hosts_access_match got = hosts_access_match_client(cases[i].pattern, &q);
		if (got != cases[i].want)
			fail_msg("'%s' over %s: got %d, want %d", cases[i].pattern, cases[i].net,
				 got, cases[i].want);
		hosts_access_query_init(&q, "sshd", &n);
		q.read_file = read_host_file;
		q.read_arg = &fc;
		got = hosts_access_match_client(cases[i].pattern, &q);
		if (got != cases[i].no_dns)
			fail_msg("'%s' over %s without DNS: got %d, want %d", cases[i].pattern,
				 cases[i].net, got, cases[i].no_dns);
		file_cache_free(&fc);
	}
}

/* Exhaustively: over a /24 the network answer agrees with the 256 single answers. */
static void test_network_answer_agrees_with_each_address(void **state)
{
	static const char *const patterns[] = {
		"192.0.2.",
		".7",
		".77",
		"*7",
		"192.0.2.1?",
		"*.2.*",
		"192.0.2.0/255.255.255.128",
		"192.0.2.0/25",
		"192.0.2.1",
		"?9?.*",
		"1*",
		"*.1??",
		"192.0.2.*",
	};
	struct cidr net;
	assert_int_equal(cidr_parse("192.0.2.0/24", &net), 0);
	for (size_t p = 0; p < ARRAY_SIZE(patterns); p++) {
		struct hosts_access_query q;
		hosts_access_query_init_tcpdmatch(&q, "sshd", &net);
		enum hosts_access_match whole = hosts_access_match_client(patterns[p], &q);
		size_t yes = 0;
		for (unsigned a = 0; a < 256; a++) {
			struct cidr one = net;
			one.addr[3] = (uint8_t)a;
			one.prefix = 32;
			hosts_access_query_init_tcpdmatch(&q, "sshd", &one);
			enum hosts_access_match m = hosts_access_match_client(patterns[p], &q);
			assert_int_not_equal(m, HOSTS_ACCESS_MAYBE);
			yes += m == HOSTS_ACCESS_YES;
		}
		enum hosts_access_match want = yes == 256 ? HOSTS_ACCESS_YES
					       : yes == 0 ? HOSTS_ACCESS_NO
							  : HOSTS_ACCESS_MAYBE;
		if (whole != want)
			fail_msg("'%s': network says %d, %zu of 256 addresses match", patterns[p],
				 whole, yes);
	}
}

/* ---- the decision over networks, and the grant line ---- */

static void test_decision_over_networks(void **state)
{
	static const struct {
		const char *allow, *deny, *net;
		unsigned want;
	} cases[] = {
		{"", "ALL: ALL\n", "192.0.2.0/24", HOSTS_ACCESS_DENY},
		{"sshd: 192.0.2.0/255.255.255.0\n", "ALL: ALL\n", "192.0.2.0/24",
		 HOSTS_ACCESS_GRANT},
		{"sshd: 192.0.2.0/255.255.255.128\n", "ALL: ALL\n", "192.0.2.0/24",
		 HOSTS_ACCESS_GRANT | HOSTS_ACCESS_DENY},
		{"", "sshd: 198.51.100.1\n", "192.0.2.0/24", HOSTS_ACCESS_GRANT},
		{"", "sshd: 192.0.2.77\n", "192.0.2.0/24", HOSTS_ACCESS_GRANT | HOSTS_ACCESS_DENY},
		{"sshd: ALL\n", "sshd: 192.0.2.77\n", "0.0.0.0/0", HOSTS_ACCESS_GRANT},
		{"", "vsftpd: ALL\n", "0.0.0.0/0", HOSTS_ACCESS_GRANT},
		{"", "sshd: .example.com\n", "::/0", HOSTS_ACCESS_GRANT | HOSTS_ACCESS_DENY},
	};
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		struct hosts_access_table t[2] = {
			{"a", HOSTS_ACCESS_FILE_OK, cases[i].allow, strlen(cases[i].allow)},
			{"d", HOSTS_ACCESS_FILE_OK, cases[i].deny, strlen(cases[i].deny)},
		};
		struct cidr n;
		assert_int_equal(cidr_parse(cases[i].net, &n), 0);
		struct hosts_access_query q;
		hosts_access_query_init(&q, "sshd", &n);
		unsigned out;
		hosts_access_decide(t, &q, 1, HOSTS_ACCESS_DISTRUST_NUL, &out, NULL, NULL);
		if (out != cases[i].want)
			fail_msg("case %zu (%s): got %u, want %u", i, cases[i].net, out,
				 cases[i].want);
	}
}

static void test_unreadable_tables(void **state)
{
	struct cidr n;
	assert_int_equal(cidr_parse("192.0.2.1", &n), 0);
	struct hosts_access_query q;
	hosts_access_query_init(&q, "sshd", &n);
	unsigned out;
	struct hosts_access_table t[2] = {
		{"a", HOSTS_ACCESS_FILE_ABSENT, NULL, 0},
		{"d", HOSTS_ACCESS_FILE_ERROR, NULL, 0},
	};
	hosts_access_decide(t, &q, 1, 0, &out, NULL, NULL);
	assert_int_equal(out, HOSTS_ACCESS_DENY); /* tcpd: an error in hosts.deny denies */
	t[1].state = HOSTS_ACCESS_FILE_UNKNOWN;
	hosts_access_decide(t, &q, 1, 0, &out, NULL, NULL);
	assert_int_equal(out, HOSTS_ACCESS_GRANT | HOSTS_ACCESS_DENY);
	t[0] = (struct hosts_access_table){"a", HOSTS_ACCESS_FILE_OK, "sshd: ALL\n", 10};
	hosts_access_decide(t, &q, 1, 0, &out, NULL, NULL);
	assert_int_equal(out, HOSTS_ACCESS_GRANT);
	t[0].state = HOSTS_ACCESS_FILE_ERROR;
	t[1] = (struct hosts_access_table){"d", HOSTS_ACCESS_FILE_ABSENT, NULL, 0};
	hosts_access_decide(t, &q, 1, 0, &out, NULL, NULL);
	assert_int_equal(out, HOSTS_ACCESS_GRANT);
}

/* Pattern lists that name each other (an attacker's instance): tcpd would recurse into them
 * until it crashed; the decision must stay bounded - a few thousand files opened, not the
 * 8^8 that eight lists naming eight lists down to the depth limit would take - and answer
 * that it cannot tell. */
static size_t lists_opened;
static int read_list_of_lists(void *arg, const char *path, const char **data, size_t *len)
{
	static const char list[] = "/l1 /l2 /l3 /l4 /l5 /l6 /l7 /l8 10.?.*.1\n";
	lists_opened++;
	*data = list;
	*len = sizeof(list) - 1;
	return 0;
}

static void test_pattern_lists_naming_each_other_are_bounded(void **state)
{
	struct cidr n;
	assert_int_equal(cidr_parse("192.0.2.0/24", &n), 0);
	struct hosts_access_query q;
	hosts_access_query_init(&q, "sshd", &n);
	q.read_file = read_list_of_lists;
	static const char deny[] = "sshd: /l0\nsshd: /l1\nsshd: /l2 /l3\n";
	struct hosts_access_table t[2] = {
		{"a", HOSTS_ACCESS_FILE_ABSENT, NULL, 0},
		{"d", HOSTS_ACCESS_FILE_OK, deny, sizeof(deny) - 1},
	};
	unsigned out;
	lists_opened = 0;
	hosts_access_decide(t, &q, 1, 0, &out, NULL, NULL);
	assert_int_equal(out, HOSTS_ACCESS_GRANT | HOSTS_ACCESS_DENY);
	if (lists_opened > 5000)
		fail_msg("%zu pattern lists opened for one decision", lists_opened);
}

/* The grant line's syntax, judged by tcpdmatch on the first, last and outside addresses. */
static void test_grant_line_syntax_with_tcpdmatch(void **state)
{
	static const struct {
		const char *net, *text, *inside[2], *outside;
	} cases[] = {
		{"0.0.0.0/0", "0.0.0.0/0.0.0.0", {"0.0.0.1", "255.255.255.254"}, "::1"},
		{"10.0.0.0/8", "10.0.0.0/255.0.0.0", {"10.0.0.0", "10.255.255.255"}, "11.0.0.0"},
		{"192.0.2.64/26",
		 "192.0.2.64/255.255.255.192",
		 {"192.0.2.64", "192.0.2.127"},
		 "192.0.2.128"},
		{"192.0.2.5/32", "192.0.2.5", {"192.0.2.5", "192.0.2.5"}, "192.0.2.6"},
		{"2001:db8::/32",
		 "[2001:db8::]/32",
		 {"2001:db8::", "2001:db8:ffff:ffff:ffff:ffff:ffff:ffff"},
		 "2001:db9::"},
		{"::/0", "[::]/0", {"::1", "ffff::1"}, "192.0.2.1"},
		{"2001:db8::1/128",
		 "[2001:db8::1]/128",
		 {"2001:db8::1", "2001:db8::1"},
		 "2001:db8::2"},
	};
	if (access(TCPDMATCH, X_OK) != 0)
		fail_msg(TCPDMATCH " is missing: install the Debian package tcpd (tests/deps)");
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		struct cidr n;
		char text[HOSTS_ACCESS_NET_STRLEN], deny[256];
		assert_int_equal(cidr_parse(cases[i].net, &n), 0);
		hosts_access_format_net(&n, text);
		assert_string_equal(text, cases[i].text);
		snprintf(deny, sizeof(deny), "sshd: %s\n", text);
		put_table("hosts.allow", "", 0);
		put_table("hosts.deny", deny, strlen(deny));
		for (int k = 0; k < 2; k++) {
			char *v = run_tcpdmatch("sshd", cases[i].inside[k]);
			if (strcmp(v, "denied") != 0)
				fail_msg("'%s' does not match %s (tcpdmatch: %s)", text,
					 cases[i].inside[k], v);
			free(v);
		}
		char *v = run_tcpdmatch("sshd", cases[i].outside);
		if (strcmp(v, "granted") != 0)
			fail_msg("'%s' matches %s (tcpdmatch: %s)", text, cases[i].outside, v);
		free(v);
		/* And our matcher reads it back as every address of the network. */
		struct hosts_access_query q;
		hosts_access_query_init(&q, "sshd", &n);
		assert_int_equal(hosts_access_match_client(text, &q), HOSTS_ACCESS_YES);
	}
	put_table("hosts.allow", NULL, 0);
	put_table("hosts.deny", NULL, 0);
}

struct line_list {
	unsigned v[8];
	size_t n;
};

static void collect_lines(void *arg, const struct hosts_access_hit *h)
{
	struct line_list *l = arg;
	if (l->n < ARRAY_SIZE(l->v))
		l->v[l->n++] = h->rule ? h->rule->line : 0;
}

static void test_hits_name_the_deciding_rules(void **state)
{
	const char *deny = "# header\nvsftpd: ALL\nsshd: 192.0.2.7\nsshd: ALL\nsshd: 192.0.2.8\n";
	struct hosts_access_table t[2] = {
		{"a", HOSTS_ACCESS_FILE_ABSENT, NULL, 0},
		{"d", HOSTS_ACCESS_FILE_OK, deny, strlen(deny)},
	};
	struct cidr n;
	assert_int_equal(cidr_parse("192.0.2.0/24", &n), 0);
	struct hosts_access_query q;
	hosts_access_query_init(&q, "sshd", &n);
	struct line_list l = {.n = 0};
	unsigned out;
	hosts_access_decide(t, &q, 1, 0, &out, collect_lines, &l);
	assert_int_equal(out, HOSTS_ACCESS_DENY);
	assert_int_equal(l.n, 2);
	assert_int_equal(l.v[0], 3);
	assert_int_equal(l.v[1], 4); /* line 5 is never reached */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table_tcpdmatch_mode_is_exact),
		cmocka_unit_test(test_table_without_dns_is_sound),
		cmocka_unit_test(test_table_agrees_with_tcpdmatch),
		cmocka_unit_test(test_reader_offsets_lines_and_kinds),
		cmocka_unit_test(test_reader_splits_lists_and_options),
		cmocka_unit_test(test_reader_long_line_stops_the_file),
		cmocka_unit_test(test_reader_nul_glues_the_next_line),
		cmocka_unit_test(test_reader_streams_a_million_lines),
		cmocka_unit_test(test_client_pattern_over_networks),
		cmocka_unit_test(test_network_answer_agrees_with_each_address),
		cmocka_unit_test(test_decision_over_networks),
		cmocka_unit_test(test_unreadable_tables),
		cmocka_unit_test(test_pattern_lists_naming_each_other_are_bounded),
		cmocka_unit_test(test_grant_line_syntax_with_tcpdmatch),
		cmocka_unit_test(test_hits_name_the_deciding_rules),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
