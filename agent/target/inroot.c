/* inroot.c: reading a file inside a mounted candidate root (openat2 RESOLVE_IN_ROOT), os-release
 * names, device-mapper names. */
#include "target.h"
#include "target/internal.h"

#include "root.h"

/* Small helpers. */

char *target_sysfs_read(const char *path)
{
	_cleanup_fclose_ FILE *f = fopen(path, "re");
	if (!f)
		return NULL;
	char line[4096];
	if (!fgets(line, sizeof(line), f))
		return NULL;
	return xstrdup(strstrip(line));
}

int target_parse_devno(const char *s, dev_t *d)
{
	unsigned maj, min;
	char extra;
	if (!s || sscanf(s, "%u:%u%c", &maj, &min, &extra) != 2)
		return -EINVAL;
	*d = makedev(maj, min);
	return 0;
}

int target_openat2(int dirfd, const char *path, int flags)
{
	struct open_how how = {
		/* openat2 refuses O_PATH with other flags */
		.flags = (uint64_t)(flags | O_CLOEXEC | ((flags & O_PATH) ? 0 : O_NOCTTY)),
		.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS,
	};
	while (*path == '/')
		path++;
	if (!*path)
		path = ".";
	return resolve_openat2(dirfd, path, &how);
}

/* A regular file of the instance (resolved inside its root), at most max bytes. */
int target_read_in_root(int rootfd, const char *path, size_t max, char **data, size_t *len)
{
	_cleanup_close_ int fd = target_openat2(rootfd, path, O_RDONLY | O_NONBLOCK);
	if (fd < 0)
		return fd;
	struct stat st;
	if (fstat(fd, &st) < 0)
		return -errno;
	if (!S_ISREG(st.st_mode))
		return -EINVAL;
	if ((uint64_t)st.st_size > max)
		return -EFBIG;
	return root_read_fd(fd, max, data, len);
}

bool target_is_regular_in_root(int rootfd, const char *path)
{
	_cleanup_close_ int fd = target_openat2(rootfd, path, O_PATH);
	struct stat st;
	return fd >= 0 && fstat(fd, &st) == 0 && S_ISREG(st.st_mode);
}

/* PRETTY_NAME (else NAME) of an os-release file; NULL when absent. */
char *target_os_release_name(const char *buf, size_t len)
{
	struct os_release o;
	os_release_parse(buf, len, &o);
	const char *n = os_release_display_name(&o);
	char *out = n ? xstrdup(n) : NULL;
	os_release_free(&o);
	return out;
}

/* The name device-mapper gives an LV: VG and LV with '-' doubled, joined by '-'. */
static void target_dm_escape(struct buf *b, const char *s)
{
	for (; *s; s++) {
		buf_append(b, s, 1);
		if (*s == '-')
			buf_append(b, "-", 1);
	}
}

char *target_dm_name(const char *vg, const char *lv)
{
	struct buf b = {0};
	target_dm_escape(&b, vg);
	buf_puts(&b, "-");
	target_dm_escape(&b, lv);
	return b.data;
}

bool target_fstype_is_root(const char *fstype)
{
	for (size_t i = 0; fstype && i < ARRAY_SIZE(target_root_fstypes); i++)
		if (strcmp(fstype, target_root_fstypes[i]) == 0)
			return true;
	return false;
}
