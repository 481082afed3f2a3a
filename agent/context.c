/* context.c: the instance as the policies share it (context.h). */
#include "context.h"

#include <dirent.h>
#include <errno.h>
#include <fnmatch.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "root.h"
#include "sshd_ports.h"
#include "util.h"

#define MAX_BINARY (64u << 20)
#define MAX_GLOB_RESULTS 4096
#define OS_RELEASE_MAX 65536

/* ---- sshd's Include, through the instance root, with sshd's glob(3) rules ---- */


static bool has_magic(const char *s)
{
	return strpbrk(s, "*?[") != NULL;
}

/* What every Include of one parse shares: the root, and the directories opened so far
 * (symlinked directories that loop make a glob of a few wildcards open 2^n of them; the
 * count stops the walk at SSHD_MAX_GLOB_DIRS, and the parser says so). */
struct include_ctx {
	struct root *r;
	size_t dirs;
};

/* glob(3) without flags, one path component at a time, inside the root. */
static void glob_walk(struct include_ctx *c, const char *dir, const char *rest, struct strv *out,
		      int depth)
{
	struct root *r = c->r;
	if (depth > 64 || out->n >= MAX_GLOB_RESULTS || c->dirs > SSHD_MAX_GLOB_DIRS)
		return;
	while (*rest == '/')
		rest++;
	if (!*rest) {
		struct stat st;
		if (root_stat(r, *dir ? dir : "/", &st) == 0)
			strv_push(out, *dir ? dir : "/");
		return;
	}
	const char *slash = strchr(rest, '/');
	size_t n = slash ? (size_t)(slash - rest) : strlen(rest);
	_cleanup_free_ char *comp = xstrndup(rest, n);
	const char *next = slash ? slash : "";
	if (!has_magic(comp)) {
		_cleanup_free_ char *p = xasprintf("%s/%s", dir, comp);
		glob_walk(c, p, next, out, depth + 1);
		return;
	}
	if (++c->dirs > SSHD_MAX_GLOB_DIRS)
		return;
	DIR *d;
	if (root_opendir(r, *dir ? dir : "/", &d) < 0)
		return;
	struct strv names = { 0 };
	for (struct dirent *e; (e = readdir(d));)
		if (fnmatch(comp, e->d_name, FNM_PERIOD) == 0 && strcmp(e->d_name, ".") &&
		    strcmp(e->d_name, ".."))
			strv_push(&names, e->d_name);
	closedir(d);
	for (size_t i = 0; i < names.n; i++) {
		_cleanup_free_ char *p = xasprintf("%s/%s", dir, names.v[i]);
		glob_walk(c, p, next, out, depth + 1);
	}
	strv_free(&names);
}

static int include_glob(void *arg, const char *pattern, struct strv *paths)
{
	if (pattern[0] != '/')
		return -ENOENT; /* "~/..." and the like: no home directory at start-up */
	struct include_ctx *c = arg;
	glob_walk(c, "", pattern, paths, 0);
	if (c->dirs > SSHD_MAX_GLOB_DIRS)
		return -ELOOP;
	return paths->n ? 0 : -ENOENT;
}

static int include_read(void *arg, const char *path, char **data, size_t *len)
{
	struct include_ctx *c = arg;
	return root_read_file(c->r, path, SSHD_MAX_FILE, data, len);
}

static unsigned detect_version(struct root *r, const char *bin, size_t bin_len)
{
	unsigned v = SSHD_VERSION_UNKNOWN;
	_cleanup_free_ char *status = NULL;
	size_t len;
	if (root_read_file(r, "/var/lib/dpkg/status", 64u << 20, &status, &len) == 0 &&
	    sshd_version_from_dpkg_status(status, len, &v) == 0)
		return v;
	if (bin && sshd_version_from_binary(bin, bin_len, &v) == 0)
		return v;
	return SSHD_VERSION_UNKNOWN;
}

/* ---- the instance ---- */

static void read_os(struct root *r, struct instance *in)
{
	/* /etc/os-release, else /usr/lib/os-release: the first that exists decides */
	static const char *const files[] = { "/etc/os-release", "/usr/lib/os-release" };
	for (size_t i = 0; i < ARRAY_SIZE(files); i++) {
		_cleanup_free_ char *data = NULL;
		size_t len;
		if (root_read_file(r, files[i], OS_RELEASE_MAX, &data, &len) < 0)
			continue;
		os_release_parse(data, len, &in->os);
		return;
	}
}

void instance_read(struct root *r, struct instance *in)
{
	memset(in, 0, sizeof(*in));
	in->have_sshd =
		root_read_file(r, CONTEXT_SSHD_BINARY, MAX_BINARY, &in->sshd_bin, &in->sshd_bin_len) == 0;
	_cleanup_free_ char *data = NULL;
	size_t len = 0;
	in->sshd_config_rc = root_read_file(r, CONTEXT_SSHD_CONFIG, SSHD_MAX_FILE, &data, &len);
	in->sshd_version = detect_version(r, in->sshd_bin, in->sshd_bin_len);
	struct include_ctx ictx = {.r = r};
	struct sshd_include_ops ops = {include_glob, include_read, &ictx};
	sshd_config_parse(CONTEXT_SSHD_CONFIG, in->sshd_config_rc == 0 ? data : "",
			  in->sshd_config_rc == 0 ? len : 0, &ops, &in->sshd_cfg);
	sshd_listen_ports(r, in->sshd_config_rc == 0 ? &in->sshd_cfg : NULL, in->sshd_version,
			  &in->ports, &in->n_ports);
	in->tcpwrap = tcpwrap_sshd_uses(r, &in->tcpwrap_why);
	read_os(r, in);
}

void instance_free(struct instance *in)
{
	sshd_config_free(&in->sshd_cfg);
	free(in->sshd_bin);
	free(in->ports);
	free(in->tcpwrap_why);
	os_release_free(&in->os);
	memset(in, 0, sizeof(*in));
}

unsigned *instance_ports_copy(const struct instance *in, size_t *n)
{
	unsigned *p = xmalloc((in->n_ports ? in->n_ports : 1) * sizeof(*p));
	memcpy(p, in->ports, in->n_ports * sizeof(*p));
	*n = in->n_ports;
	return p;
}
