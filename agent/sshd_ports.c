/* sshd_ports.c: the TCP ports the instance's sshd is reached on; see sshd_ports.h. */
#include "sshd_ports.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "parse/sshd_config.h"
#include "parse/systemd_socket.h"
#include "root.h"

/* Unit directories in systemd's order of precedence (systemd.unit(5)); /run is empty on disk. */
static const char *const unit_dirs[] = { "/etc/systemd/system", "/usr/local/lib/systemd/system",
					 "/usr/lib/systemd/system", "/lib/systemd/system" };
#define MAX_DROPINS 64

static int cmp_base(const void *a, const void *b)
{
	const char *x = strrchr(*(char *const *)a, '/'), *y = strrchr(*(char *const *)b, '/');
	return strcmp(x, y);
}

/* The ports of socket unit `name` with its drop-ins, or false when it is not enabled
 * (sockets.target.wants), masked or absent. Ubuntu's sshd-socket-generator (24.04+) turns
 * sshd_config's Port/ListenAddress into a drop-in "addresses.conf" that starts with an empty
 * ListenStream=: `gen` holds those ports when the generator exists and sshd_config sets any. */
static bool socket_ports(struct root *r, const char *name, const unsigned *gen, size_t n_gen,
			 unsigned **ports, size_t *n)
{
	struct stat st;
	_cleanup_free_ char *wants = xasprintf("/etc/systemd/system/sockets.target.wants/%s", name);
	if (root_stat(r, wants, &st) < 0)
		return false;
	_cleanup_free_ char *unit = NULL;
	size_t len = 0;
	int rc = -ENOENT;
	for (size_t i = 0; i < ARRAY_SIZE(unit_dirs) && rc == -ENOENT; i++) {
		_cleanup_free_ char *path = xasprintf("%s/%s", unit_dirs[i], name);
		rc = root_read_file(r, path, 1u << 20, &unit, &len);
	}
	if (rc < 0)
		return false; /* absent, or masked (a link to /dev/null) */
	systemd_socket_apply(unit, len, ports, n);
	/* Drop-ins: every directory's NAME.d, files ending in .conf; a file name in a directory of higher
	 * precedence hides the same name below; all applied in file-name order. */
	struct strv dropins = { 0 };
	for (size_t i = 0; i < ARRAY_SIZE(unit_dirs); i++) {
		_cleanup_free_ char *dir = xasprintf("%s/%s.d", unit_dirs[i], name);
		DIR *d;
		if (root_opendir(r, dir, &d) < 0)
			continue;
		for (struct dirent *e; dropins.n < MAX_DROPINS && (e = readdir(d));) {
			size_t l = strlen(e->d_name);
			if (e->d_name[0] == '.' || l < 6 || strcmp(e->d_name + l - 5, ".conf"))
				continue;
			bool hidden = false;
			for (size_t k = 0; k < dropins.n && !hidden; k++)
				hidden = !strcmp(strrchr(dropins.v[k], '/') + 1, e->d_name);
			if (!hidden)
				strv_push_owned(&dropins, xasprintf("%s/%s", dir, e->d_name));
		}
		closedir(d);
	}
	if (n_gen) {
		bool hidden = false;
		for (size_t k = 0; k < dropins.n && !hidden; k++)
			hidden = !strcmp(strrchr(dropins.v[k], '/') + 1, "addresses.conf");
		if (!hidden)
			strv_push(&dropins, "/run/systemd/generator/ssh.socket.d/addresses.conf");
	}
	if (dropins.n > 1)
		qsort(dropins.v, dropins.n, sizeof(*dropins.v), cmp_base);
	for (size_t i = 0; i < dropins.n; i++) {
		if (!strncmp(dropins.v[i], "/run/systemd/generator/", 23)) {
			*n = 0;
			for (size_t k = 0; k < n_gen; k++) {
				*ports = xgrow(*ports, *n, sizeof(**ports));
				(*ports)[(*n)++] = gen[k];
			}
			continue;
		}
		_cleanup_free_ char *data = NULL;
		if (root_read_file(r, dropins.v[i], 1u << 20, &data, &len) == 0)
			systemd_socket_apply(data, len, ports, n);
	}
	strv_free(&dropins);
	return true;
}

static int cmp_port(const void *a, const void *b)
{
	unsigned x = *(const unsigned *)a, y = *(const unsigned *)b;
	return x < y ? -1 : x > y;
}

static void ports_merge(unsigned **into, size_t *n, const unsigned *add, size_t n_add)
{
	for (size_t i = 0; i < n_add; i++) {
		bool have = false;
		for (size_t k = 0; k < *n && !have; k++)
			have = (*into)[k] == add[i];
		if (!have) {
			*into = xgrow(*into, *n, sizeof(**into));
			(*into)[(*n)++] = add[i];
		}
	}
}

/* The TCP ports sshd listens on, from the instance's sshd_config (22 when it cannot tell). A
 * socket-activated sshd (ssh.socket enabled: Ubuntu 22.10+) listens where the socket unit
 * says, not where sshd_config says; the service's own ports count too while it is enabled. */
void sshd_listen_ports(struct root *r, const struct sshd_config *cfg, unsigned version,
		       unsigned **ports, size_t *n_ports)
{
	bool sets_port = false;
	unsigned *out = NULL;
	size_t n_out = 0;
	if (cfg) {
		long bad;
		sets_port = sshd_config_next(cfg, "port", -1) >= 0 ||
			    sshd_config_next(cfg, "listenaddress", -1) >= 0;
		if (sshd_config_ports(cfg, version, &out, &n_out, &bad) < 0) {
			out = NULL;
			n_out = 0;
		}
	}
	if (!n_out) {
		free(out);
		out = xmalloc(sizeof(*out));
		out[0] = 22;
		n_out = 1;
	}
	struct stat st;
	bool generator =
		root_stat(r, "/usr/lib/systemd/system-generators/sshd-socket-generator", &st) == 0 ||
		root_stat(r, "/lib/systemd/system-generators/sshd-socket-generator", &st) == 0;
	static const char *const units[][2] = { { "ssh.socket", "ssh.service" },
						{ "sshd.socket", "sshd.service" } };
	unsigned *sock = NULL;
	size_t n_sock = 0;
	bool socket_active = false, service_active = false;
	for (size_t u = 0; u < ARRAY_SIZE(units); u++) {
		unsigned *p = NULL;
		size_t np = 0;
		if (socket_ports(r, units[u][0], out, generator && sets_port ? n_out : 0,
				 &p, &np)) {
			socket_active = true;
			ports_merge(&sock, &n_sock, p, np);
		}
		free(p);
		_cleanup_free_ char *svc =
			xasprintf("/etc/systemd/system/multi-user.target.wants/%s", units[u][1]);
		if (root_stat(r, svc, &st) == 0)
			service_active = true;
	}
	if (socket_active && n_sock) {
		if (service_active)
			ports_merge(&sock, &n_sock, out, n_out);
		free(out);
		qsort(sock, n_sock, sizeof(*sock), cmp_port);
		out = sock;
		n_out = n_sock;
	} else {
		free(sock);
	}
	*ports = out;
	*n_ports = n_out;
}
