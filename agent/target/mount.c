/* mount.c: mounting with libmount (nosuid, nodev; read-only without log replay in check), the
 * instance's fstab. */
#include "target.h"
#include "target/internal.h"

/* Mounting. */

/* libmount's message, with the kernel's errno text when libmount's words leave it out. */
char *target_mount_reason(const char *msg, int sys)
{
	if (!*msg)
		return xstrdup(strerror(sys ? sys : EIO));
	if (sys && !strstr(msg, strerror(sys)))
		return xasprintf("%s (%s)", msg, strerror(sys));
	return xstrdup(msg);
}

/* Mount src on dir with libmount; recorded for release. what names the device in messages. */
static int target_mount_once(const char *src, const char *what, const char *dir, const char *fstype,
			     const char *opts, int *slot, char **err)
{
	int i = reg_mount_begin(dir);
	if (i < 0) {
		*err = xasprintf("%s: too many mounts", dir);
		return i;
	}
	struct libmnt_context *cxt = mnt_new_context();
	if (!cxt) {
		reg_mount_end(i, false);
		*err = xstrdup("libmount: out of memory");
		return -ENOMEM;
	}
	/* no /run/mount/utab entry, no /sbin/mount.TYPE helper, nothing from the rescue system's
	 * fstab: the kernel alone mounts what we name */
	mnt_context_disable_mtab(cxt, 1);
	mnt_context_set_optsmode(cxt, MNT_OMODE_NOTAB);
	mnt_context_disable_helpers(cxt, 1);
	mnt_context_set_source(cxt, src);
	mnt_context_set_target(cxt, dir);
	mnt_context_set_fstype(cxt, fstype);
	mnt_context_set_options(cxt, opts);
	int rc = mnt_context_mount(cxt);
	bool ok = rc == 0 && mnt_context_get_status(cxt) == 1;
	if (!ok) {
		char msg[1024] = "";
		int sys = mnt_context_syscall_called(cxt) ? mnt_context_get_syscall_errno(cxt) : 0;
		mnt_context_get_excode(cxt, rc, msg, sizeof(msg));
		_cleanup_free_ char *name =
			strcmp(what, src) == 0 ? xstrdup(src) : xasprintf("%s (%s)", what, src);
		_cleanup_free_ char *why = target_mount_reason(msg, sys);
		*err = xasprintf("%s: cannot mount %s (%s): %s", name, fstype, opts, why);
		rc = sys ? -sys : -EIO;
	}
	mnt_free_context(cxt);
	reg_mount_end(i, ok);
	if (slot)
		*slot = i;
	return ok ? 0 : rc;
}

/* target_mount_once(); an XFS refused with EINVAL ("duplicate UUID": a twin mounted where
 * /proc/self/mountinfo does not show it, in another mount namespace or lazily unmounted) is
 * mounted again with nouuid. */
int target_mount(const char *src, const char *what, const char *dir, const char *fstype,
		 const char *opts, int *slot, char **err)
{
	int rc = target_mount_once(src, what, dir, fstype, opts, slot, err);
	if (rc != -EINVAL || strcmp(fstype, "xfs") != 0 || strstr(opts, "nouuid"))
		return rc;
	_cleanup_free_ char *again = xasprintf("%s,nouuid", opts);
	char *err2 = NULL;
	rc = target_mount_once(src, what, dir, fstype, again, slot, &err2);
	if (rc == 0) {
		free(*err);
		*err = NULL;
	} else {
		free(err2);
	}
	return rc;
}

/* The UUID of the filesystem on device d of the rescue system, or NULL. */
static char *target_uuid_of_devno(const struct scan *sc, dev_t d, const char *mnt_target)
{
	for (size_t i = 0; i < sc->n; i++)
		if (sc->v[i].devno == d && sc->v[i].uuid)
			return xstrdup(sc->v[i].uuid);
	_cleanup_free_ char *ue = xasprintf("/sys/dev/block/%u:%u/uevent", major(d), minor(d));
	_cleanup_fclose_ FILE *f = fopen(ue, "re");
	char line[256];
	while (f && fgets(line, sizeof(line), f)) {
		if (strncmp(line, "DEVNAME=", 8) != 0)
			continue;
		_cleanup_free_ char *node = xasprintf("/dev/%s", strstrip(line + 8));
		_cleanup_close_ int fd = open(node, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
		struct bdev tmp = {0};
		if (fd >= 0 && bdev_probe(&tmp, fd, 0, 0, NULL, NULL) == 0 && tmp.uuid) {
			char *u = tmp.uuid;
			tmp.uuid = NULL;
			bdev_free(&tmp);
			return u;
		}
		bdev_free(&tmp);
	}
	/* an unreadable device: ask the mounted filesystem (FS_IOC_GETFSUUID, Linux 6.5+) */
	struct {
		uint8_t len;
		uint8_t uuid[16];
	} fu = {0};
	_cleanup_close_ int fd = open(mnt_target, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd >= 0 && ioctl(fd, _IOR(0x15, 0, fu), &fu) == 0 && fu.len == 16) {
		const uint8_t *u = fu.uuid;
		return xasprintf(
			"%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
			u[0], u[1], u[2], u[3], u[4], u[5], u[6], u[7], u[8], u[9], u[10], u[11],
			u[12], u[13], u[14], u[15]);
	}
	return NULL;
}

/* XFS refuses a second filesystem with a UUID already mounted (a rescue instance made from the
 * same image): such a twin gets nouuid. */
static bool target_xfs_uuid_mounted(const struct scan *sc, const struct bdev *d)
{
	if (!d->uuid)
		return false;
	struct libmnt_table *tb = mnt_new_table_from_file("/proc/self/mountinfo");
	if (!tb)
		return false;
	bool dup = false;
	struct libmnt_iter *it = mnt_new_iter(MNT_ITER_FORWARD);
	struct libmnt_fs *fs;
	while (!dup && mnt_table_next_fs(tb, it, &fs) == 0) {
		const char *type = mnt_fs_get_fstype(fs);
		if (!type || strcmp(type, "xfs") != 0 || mnt_fs_get_devno(fs) == d->devno)
			continue;
		_cleanup_free_ char *u =
			target_uuid_of_devno(sc, mnt_fs_get_devno(fs), mnt_fs_get_target(fs));
		dup = u && strcasecmp(u, d->uuid) == 0;
	}
	mnt_free_iter(it);
	mnt_unref_table(tb);
	return dup;
}

/* Mount options: always nosuid,nodev. check: read-only, and no journal or log replay either
 * (ext4 noload, xfs norecovery, btrfs nologreplay), so not one block is written. A probe
 * (looking whether a filesystem is a root) among the attached disks is read-only in repair
 * too: a candidate may be another machine's disk or the rescue system's own data, and a
 * read-write mount would replay its journal and stamp its superblock. When every device is
 * the instance's (an --image: its partitions and LVs), repair probes read-write, so the root
 * is mounted once rather than mounted and remounted (the write a probe may make lands on the
 * disk the user asked to repair); a read-write probe that fails is tried again read-only,
 * so the remount says why the root cannot be written. (--device mounts the named device
 * read-write at once.) */
char *target_mount_options(const struct scan *sc, const struct bdev *d, bool probe,
			   const char *extra)
{
	struct buf b = {0};
	buf_puts(&b, "nosuid,nodev");
	if (sc->readonly || (probe && !sc->own))
		buf_puts(&b, ",ro");
	if (sc->readonly) {
		if (strncmp(d->fstype, "ext", 3) == 0)
			buf_puts(&b, ",noload");
		else if (strcmp(d->fstype, "xfs") == 0)
			buf_puts(&b, ",norecovery");
		else if (strcmp(d->fstype, "btrfs") == 0)
			buf_puts(&b, ",rescue=nologreplay");
	}
	if (strcmp(d->fstype, "xfs") == 0 && target_xfs_uuid_mounted(sc, d))
		buf_puts(&b, ",nouuid");
	if (extra && *extra)
		buf_printf(&b, ",%s", extra);
	return b.data;
}

/* Is the directory a Linux root? *pretty gets PRETTY_NAME. */
bool target_has_root_markers(int rootfd, char **pretty)
{
	const char *osr = target_is_regular_in_root(rootfd, "etc/os-release") ? "etc/os-release"
			  : target_is_regular_in_root(rootfd, "usr/lib/os-release")
				  ? "usr/lib/os-release"
				  : NULL;
	if (!osr || !target_is_regular_in_root(rootfd, "etc/fstab"))
		return false;
	if (pretty) {
		char *data = NULL;
		size_t len = 0;
		if (target_read_in_root(rootfd, osr, OS_RELEASE_MAX, &data, &len) == 0) {
			free(*pretty);
			*pretty = target_os_release_name(data, len);
		}
		free(data);
	}
	return true;
}

/* The instance's fstab, parsed by libmount from the file read inside the root. */
int target_fstab_load(int rootfd, struct libmnt_table **out)
{
	int fd = target_openat2(rootfd, "etc/fstab", O_RDONLY | O_NONBLOCK);
	if (fd < 0)
		return fd;
	struct stat st;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size > FSTAB_MAX) {
		close(fd);
		return -EINVAL;
	}
	FILE *f = fdopen(fd, "r");
	if (!f) {
		close(fd);
		return -errno;
	}
	struct libmnt_table *tb = mnt_new_table();
	int rc = tb ? mnt_table_parse_stream(tb, f, "etc/fstab") : -ENOMEM;
	fclose(f);
	if (rc < 0) {
		mnt_unref_table(tb);
		return rc;
	}
	*out = tb;
	return 0;
}

/* "subvol=X" or "subvolid=N" of the fstab entry for "/", or NULL. */
static char *target_fstab_root_subvol(int rootfd)
{
	struct libmnt_table *tb = NULL;
	if (target_fstab_load(rootfd, &tb) < 0)
		return NULL;
	char *opt = NULL;
	struct libmnt_fs *fs = mnt_table_find_target(tb, "/", MNT_ITER_BACKWARD);
	char *v;
	size_t vl;
	if (fs && mnt_fs_get_option(fs, "subvol", &v, &vl) == 0 && v && vl)
		opt = xasprintf("subvol=%.*s", (int)vl, v);
	else if (fs && mnt_fs_get_option(fs, "subvolid", &v, &vl) == 0 && v && vl)
		opt = xasprintf("subvolid=%.*s", (int)vl, v);
	mnt_unref_table(tb);
	return opt;
}

int target_dir_for(struct bdev *d, char *dir, size_t size)
{
	int n = snprintf(dir, size, "%s/%s", reg.base, d->name);
	if (n < 0 || (size_t)n >= size)
		return -ENAMETOOLONG;
	if (access(dir, F_OK) == 0)
		return 0;
	return reg_mkdir(d->name, dir, size);
}

/* Mount d at dir with options (+ extra); is it a root there? On a mount failure the message is
 * kept in d->check_err. The mount stays when keep and it is a root. */
static int target_try(struct scan *sc, struct bdev *d, const char *dir, bool probe,
		      const char *extra, bool keep, bool *is_root, int *kept)
{
	_cleanup_free_ char *opts = target_mount_options(sc, d, probe, extra);
	char *err = NULL;
	int slot;
	*is_root = false;
	bool rw = !sc->readonly && (!probe || sc->own);
	int rc = target_mount(d->path, d->origin, dir, d->fstype, opts, &slot, &err);
	if (rc < 0 && rw && probe) {
		/* read-only, as among attached disks: the remount then says what stops a write */
		struct scan ro = *sc;
		ro.own = false;
		free(opts);
		opts = target_mount_options(&ro, d, probe, extra);
		free(err);
		err = NULL;
		rw = false;
		rc = target_mount(d->path, d->origin, dir, d->fstype, opts, &slot, &err);
	}
	if (rc < 0) {
		free(d->check_err);
		d->check_err = err;
		return rc;
	}
	int fd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	*is_root = fd >= 0 && target_has_root_markers(fd, &d->pretty);
	if (fd >= 0)
		close(fd); /* an open directory would keep the mount busy */
	if (*is_root && keep) {
		if (kept)
			*kept = slot;
		d->slot_rw = rw;
	} else {
		reg_unmount(slot);
	}
	return 0;
}

/* btrfs: the root may be the default subvolume, or a subvolume such as @ that the instance's
 * fstab names for "/". Find it, and remember the option that mounts it. */
static int target_check_btrfs(struct scan *sc, struct bdev *d, const char *dir, bool probe,
			      bool keep)
{
	bool is_root;
	int slot = -1;
	int rc = target_try(sc, d, dir, probe, NULL, true, &is_root, &slot);
	if (rc < 0)
		return rc;
	_cleanup_free_ char *sub = NULL;
	if (is_root) {
		int fd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
		sub = fd >= 0 ? target_fstab_root_subvol(fd) : NULL;
		if (fd >= 0)
			close(fd);
		if (!sub) {
			d->is_root = true;
			if (keep)
				d->slot = slot;
			else
				reg_unmount(slot);
			return 0;
		}
		reg_unmount(slot);
	} else {
		/* look through the top level's subvolumes for one holding a root */
		_cleanup_free_ char *o = target_mount_options(sc, d, true, "subvolid=5");
		char *err = NULL;
		if (target_mount(d->path, d->origin, dir, d->fstype, o, &slot, &err) < 0) {
			free(d->check_err);
			d->check_err = err;
			return -EIO;
		}
		int top = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		DIR *dd = top >= 0 ? fdopendir(top) : NULL;
		struct strv names = {0};
		struct dirent *de;
		while (dd && (de = readdir(dd))) {
			struct stat st;
			if (de->d_name[0] == '.' ||
			    fstatat(top, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
			    !S_ISDIR(st.st_mode) || st.st_ino != BTRFS_SUBVOL_INO)
				continue;
			strv_push(&names, de->d_name);
		}
		if (names.n)
			qsort(names.v, names.n, sizeof(*names.v), target_cmp_names);
		for (size_t i = 0; i < names.n && !sub; i++) {
			_cleanup_close_ int sfd = openat(
				top, names.v[i], O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			if (sfd < 0 || !target_has_root_markers(sfd, NULL))
				continue;
			sub = target_fstab_root_subvol(sfd);
			if (!sub)
				sub = xasprintf("subvol=%s", names.v[i]);
		}
		strv_free(&names);
		if (dd)
			closedir(dd);
		else if (top >= 0)
			close(top);
		reg_unmount(slot);
		if (!sub)
			return 0;
	}
	rc = target_try(sc, d, dir, probe, sub, keep, &is_root, &d->slot);
	if (rc < 0)
		return rc;
	if (is_root) {
		d->is_root = true;
		free(d->subvol_opt);
		d->subvol_opt = xstrdup(sub);
	}
	return 0;
}

/* Is d a Linux root? Mounted read-only under our base to look (unless the rescue system has
 * it mounted already: then we look there). */
int target_check_root(struct scan *sc, struct bdev *d, bool keep)
{
	if (d->checked)
		return 0;
	d->checked = true;
	if (d->mounted_at) {
		_cleanup_close_ int fd = open(d->mounted_at, O_PATH | O_DIRECTORY | O_CLOEXEC);
		d->is_root = fd >= 0 && target_has_root_markers(fd, &d->pretty);
		return 0;
	}
	char dir[PATH_MAX];
	int rc = target_dir_for(d, dir, sizeof(dir));
	if (rc < 0) {
		d->check_err = xasprintf("%s: %s", dir, strerror(-rc));
		return rc;
	}
	if (strcmp(d->fstype, "btrfs") == 0)
		return target_check_btrfs(sc, d, dir, true, keep);
	bool is_root;
	rc = target_try(sc, d, dir, true, NULL, keep, &is_root, &d->slot);
	d->is_root = is_root;
	return rc;
}
