/* sshd_ports.c: the TCP ports the instance's sshd listens on. */
#include "sshd_ports.h"

#include <dirent.h>
#include <errno.h>
#include <fnmatch.h>
#include <string.h>

#include "parse/sshd_config.h"
#include "root.h"
#include "util.h"

static int ports_glob(void *arg, const char *pattern, struct strv *paths)
{
	struct root *r = arg;
	const char *slash = strrchr(pattern, '/');
	if (!slash)
		return -ENOENT;
	_cleanup_free_ char *dir = xstrndup(pattern, (size_t)(slash - pattern));
	if (strpbrk(dir, "*?["))
		return -ENOENT; /* wildcards in directories: not seen in practice */
	if (!strpbrk(slash + 1, "*?[")) {
		struct stat st;
		if (root_stat(r, pattern, &st) == 0)
			strv_push(paths, pattern);
		return 0;
	}
	DIR *d;
	int rc = root_opendir(r, *dir ? dir : "/", &d);
	if (rc < 0)
		return rc;
	for (struct dirent *e; (e = readdir(d));)
		if (e->d_name[0] != '.' && fnmatch(slash + 1, e->d_name, FNM_PERIOD) == 0)
			strv_push_owned(paths, xasprintf("%s/%s", dir, e->d_name));
	closedir(d);
	return 0;
}

static int ports_read(void *arg, const char *path, char **data, size_t *len)
{
	return root_read_file(arg, path, SSHD_MAX_FILE, data, len);
}

void sshd_ports_read(struct root *r, unsigned **ports, size_t *n)
{
	_cleanup_free_ char *data = NULL;
	size_t len;
	*ports = NULL;
	*n = 0;
	if (root_read_file(r, "/etc/ssh/sshd_config", SSHD_MAX_FILE, &data, &len) == 0) {
		struct sshd_include_ops ops = {ports_glob, ports_read, r};
		struct sshd_config cfg = {0};
		long bad;
		sshd_config_parse("/etc/ssh/sshd_config", data, len, &ops, &cfg);
		if (sshd_config_ports(&cfg, SSHD_VERSION_UNKNOWN, ports, n, &bad) < 0) {
			*ports = NULL;
			*n = 0;
		}
		sshd_config_free(&cfg);
	}
	if (!*n) {
		free(*ports);
		*ports = xmalloc(sizeof(**ports));
		(*ports)[0] = 22;
		*n = 1;
	}
}
