/* tcpwrap.c: does the instance's sshd honour tcp_wrappers; see tcpwrap.h. */
#include "tcpwrap.h"

#include <errno.h>
#include <string.h>

#include "parse/elf.h"
#include "root.h"

#define MAX_SSHD_BINARY (64u << 20)

/* Where sshd and its helpers live: Debian/Ubuntu, Fedora/RHEL/SUSE, upstream's default. The
 * listener alone before OpenSSH 9.8; the per-connection sshd-session (9.8+) and sshd-auth
 * (10.0+) are where Debian 13 calls libwrap. */
static const char *const sshd_binaries[] = {
	"/usr/sbin/sshd",
	"/usr/lib/openssh/sshd-session",
	"/usr/lib/openssh/sshd-auth",
	"/usr/libexec/openssh/sshd-session",
	"/usr/libexec/openssh/sshd-auth",
	"/usr/libexec/sshd-session",
	"/usr/libexec/sshd-auth",
};

/* A line of inetd.conf whose service is ssh (name or port): inetd starts sshd -i, through
 * tcpd or with its own libwrap. */
static bool inetd_starts_sshd(struct root *r)
{
	_cleanup_free_ char *data = NULL;
	size_t len;
	if (root_read_file(r, "/etc/inetd.conf", ROOT_MAX_CONFIG, &data, &len) < 0)
		return false;
	char *save = NULL;
	for (char *l = strtok_r(data, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
		l += strspn(l, " \t");
		size_t n = strcspn(l, " \t");
		if ((n == 3 && !strncmp(l, "ssh", 3)) || (n == 2 && !strncmp(l, "22", 2)))
			return strstr(l, "sshd") != NULL;
	}
	return false;
}

/* An xinetd service whose server is sshd (xinetd links libwrap). */
static bool xinetd_starts_sshd(struct root *r)
{
	DIR *d;
	if (root_opendir(r, "/etc/xinetd.d", &d) < 0)
		return false;
	bool found = false;
	int files = 0;
	for (struct dirent *e; !found && files < 256 && (e = readdir(d));) {
		if (e->d_name[0] == '.')
			continue;
		files++;
		_cleanup_free_ char *path = xasprintf("/etc/xinetd.d/%s", e->d_name);
		_cleanup_free_ char *data = NULL;
		size_t len;
		if (root_read_file(r, path, 1u << 20, &data, &len) < 0)
			continue;
		char *save = NULL;
		for (char *l = strtok_r(data, "\n", &save); l && !found; l = strtok_r(NULL, "\n", &save)) {
			l += strspn(l, " \t");
			if (strncmp(l, "server", 6) == 0 && strchr(l, '=') && strstr(l, "sshd") &&
			    !strstr(l, "server_"))
				found = true;
			if (strncmp(l, "disable", 7) == 0 && strstr(l, "yes"))
				break;
		}
	}
	closedir(d);
	return found;
}

enum tcpwrap_use tcpwrap_sshd_uses(struct root *r, char **why)
{
	struct buf b = { 0 };
	size_t found = 0;
	bool any_wrap = false, any_unknown = false;
	for (size_t i = 0; i < ARRAY_SIZE(sshd_binaries); i++) {
		_cleanup_free_ char *data = NULL;
		size_t len;
		int rc = root_read_file(r, sshd_binaries[i], MAX_SSHD_BINARY, &data, &len);
		if (rc == -ENOENT)
			continue;
		found++;
		bool wrap = false;
		if (rc == 0)
			rc = elf_needs(data, len, "libwrap.so", &wrap);
		if (rc < 0) {
			buf_printf(&b, "%s%s: %s", b.len ? ", " : "", sshd_binaries[i],
				   rc == -EINVAL ? "not an ELF file we can read" : strerror(-rc));
			any_unknown = true;
			continue;
		}
		buf_printf(&b, "%s%s %s libwrap", b.len ? ", " : "", sshd_binaries[i],
			   wrap ? "links" : "does not link");
		any_wrap = any_wrap || wrap;
	}
	if (found == 0) {
		any_unknown = true;
		buf_puts(&b, "no sshd binary found");
	}
	enum tcpwrap_use use = any_wrap ? TCPWRAP_YES : any_unknown ? TCPWRAP_UNKNOWN : TCPWRAP_NO;
	if (inetd_starts_sshd(r) || xinetd_starts_sshd(r)) {
		use = TCPWRAP_YES;
		buf_printf(&b, "%sinetd starts sshd", b.len ? "; " : "");
	}
	*why = b.data ? b.data : xstrdup("");
	return use;
}
