/* blockdev.c: block devices: scanning /sys/class/block, the running system's own disks left out,
 * partition tables split into loop devices, libblkid probes. */
#include "target.h"
#include "target/internal.h"

/* Block devices. */

void bdev_free(struct bdev *d)
{
	free(d->path);
	free(d->origin);
	free(d->name);
	free(d->fstype);
	free(d->uuid);
	free(d->label);
	free(d->partuuid);
	free(d->partlabel);
	free(d->pttype);
	free(d->lvm_vg);
	free(d->lvm_lv);
	free(d->mounted_at);
	free(d->pretty);
	free(d->subvol_opt);
	free(d->check_err);
}

void scan_free(struct scan *sc)
{
	for (size_t i = 0; i < sc->n; i++)
		bdev_free(&sc->v[i]);
	free(sc->v);
	free(sc->excluded);
	strv_free(&sc->notes);
	memset(sc, 0, sizeof(*sc));
}

struct bdev *scan_add(struct scan *sc)
{
	sc->v = xgrow(sc->v, sc->n, sizeof(*sc->v));
	struct bdev *d = &sc->v[sc->n++];
	memset(d, 0, sizeof(*d));
	d->parent = SIZE_MAX;
	d->slot = -1;
	return d;
}

bool scan_is_excluded(const struct scan *sc, dev_t d)
{
	for (size_t i = 0; i < sc->n_excluded; i++)
		if (sc->excluded[i] == d)
			return true;
	return false;
}

static void scan_exclude_tree(struct scan *sc, dev_t d);

static void scan_exclude_dir(struct scan *sc, const char *dir)
{
	DIR *dd = opendir(dir);
	if (!dd)
		return;
	struct dirent *de;
	while ((de = readdir(dd))) {
		if (de->d_name[0] == '.')
			continue;
		_cleanup_free_ char *p = xasprintf("%s/%s/dev", dir, de->d_name);
		_cleanup_free_ char *s = target_sysfs_read(p);
		dev_t d;
		if (target_parse_devno(s, &d) == 0)
			scan_exclude_tree(sc, d);
	}
	closedir(dd);
}

/* The running system's device d, the disks below it (partition -> disk, dm/md -> slaves), the
 * other partitions of those disks and everything stacked on them (holders). */
static void scan_exclude_tree(struct scan *sc, dev_t d)
{
	if (scan_is_excluded(sc, d))
		return;
	sc->excluded = xgrow(sc->excluded, sc->n_excluded, sizeof(*sc->excluded));
	sc->excluded[sc->n_excluded++] = d;
	_cleanup_free_ char *sys = xasprintf("/sys/dev/block/%u:%u", major(d), minor(d));
	_cleanup_free_ char *real = realpath(sys, NULL);
	if (!real)
		return;
	_cleanup_free_ char *part = xasprintf("%s/partition", real);
	if (access(part, F_OK) == 0) {
		_cleanup_free_ char *parent = xasprintf("%s/../dev", real);
		_cleanup_free_ char *s = target_sysfs_read(parent);
		dev_t pd;
		if (target_parse_devno(s, &pd) == 0)
			scan_exclude_tree(sc, pd);
	} else {
		/* a whole disk: its partitions are subdirectories holding a "partition" file */
		DIR *dd = opendir(real);
		struct dirent *de;
		while (dd && (de = readdir(dd))) {
			if (de->d_name[0] == '.')
				continue;
			_cleanup_free_ char *pp = xasprintf("%s/%s/partition", real, de->d_name);
			if (access(pp, F_OK) != 0)
				continue;
			_cleanup_free_ char *dv = xasprintf("%s/%s/dev", real, de->d_name);
			_cleanup_free_ char *s = target_sysfs_read(dv);
			dev_t pd;
			if (target_parse_devno(s, &pd) == 0)
				scan_exclude_tree(sc, pd);
		}
		if (dd)
			closedir(dd);
	}
	_cleanup_free_ char *slaves = xasprintf("%s/slaves", real);
	scan_exclude_dir(sc, slaves);
	_cleanup_free_ char *holders = xasprintf("%s/holders", real);
	scan_exclude_dir(sc, holders);
}

/* What "/" is, compared by device number only: a twin with the same UUID stays a candidate. */
static void scan_exclude_running_root(struct scan *sc)
{
	struct stat st;
	if (stat("/", &st) == 0 && major(st.st_dev) != 0) {
		sc->root_devno = st.st_dev;
		scan_exclude_tree(sc, st.st_dev);
	}
	/* btrfs (and overlay) report an anonymous st_dev: the mount table names the device. */
	struct libmnt_table *tb = mnt_new_table_from_file("/proc/self/mountinfo");
	if (!tb)
		return;
	struct libmnt_fs *fs = mnt_table_find_target(tb, "/", MNT_ITER_BACKWARD);
	const char *src = fs ? mnt_fs_get_srcpath(fs) : NULL;
	if (src && stat(src, &st) == 0 && S_ISBLK(st.st_mode)) {
		if (!sc->root_devno)
			sc->root_devno = st.st_rdev;
		scan_exclude_tree(sc, st.st_rdev);
	}
	mnt_unref_table(tb);
}

/* --exclude SPEC: the disk the rescue system booted from (a bootable rescue disk image names
 * its own boot partition on the kernel command line), with all its partitions. libblkid finds
 * it without udev by probing every device; a SPEC that names nothing is a note, not an error:
 * the boot disk holds no Linux root and would not be picked anyway. */
static void scan_exclude_named(struct scan *sc)
{
	if (!sc->exclude)
		return;
	_cleanup_free_ char *dev = blkid_evaluate_spec(sc->exclude, NULL);
	struct stat st;
	if (dev && stat(dev, &st) == 0 && S_ISBLK(st.st_mode))
		scan_exclude_tree(sc, st.st_rdev);
	else
		strv_push_owned(&sc->notes, xasprintf("--exclude %s: no such device", sc->exclude));
}

/* Where the rescue system has device d mounted (its whole filesystem), or NULL. */
static char *scan_mounted_at(dev_t d)
{
	char *at = NULL;
	struct libmnt_table *tb = mnt_new_table_from_file("/proc/self/mountinfo");
	if (!tb)
		return NULL;
	struct libmnt_iter *it = mnt_new_iter(MNT_ITER_FORWARD);
	struct libmnt_fs *fs;
	while (!at && mnt_table_next_fs(tb, it, &fs) == 0) {
		const char *root = mnt_fs_get_root(fs);
		if (mnt_fs_get_devno(fs) == d && root && strcmp(root, "/") == 0)
			at = xstrdup(mnt_fs_get_target(fs));
	}
	mnt_free_iter(it);
	mnt_unref_table(tb);
	return at;
}

static void bdev_set(char **slot, blkid_probe pr, const char *key)
{
	const char *v;
	if (blkid_probe_lookup_value(pr, key, &v, NULL) == 0 && v && *v) {
		free(*slot);
		*slot = xstrdup(v);
	}
}

/* Probe bytes [off, off+size) of fd: filesystem type, UUID, label, partition table. A
 * partition list, if there is one, is handed to cb. */
typedef int (*partition_cb)(void *arg, blkid_partition par);

int bdev_probe(struct bdev *d, int fd, uint64_t off, uint64_t size, partition_cb cb, void *arg)
{
	blkid_probe pr = blkid_new_probe();
	if (!pr)
		return -ENOMEM;
	int rc = 0;
	if (blkid_probe_set_device(pr, fd, (blkid_loff_t)off, (blkid_loff_t)size) < 0) {
		rc = -EIO;
		goto out;
	}
	blkid_probe_enable_superblocks(pr, 1);
	blkid_probe_set_superblocks_flags(pr, BLKID_SUBLKS_LABEL | BLKID_SUBLKS_UUID |
						      BLKID_SUBLKS_TYPE | BLKID_SUBLKS_USAGE);
	/* only what we may mount or activate: every other prober would read the disk for nothing
	 * (some at its end), which is most of the time of a scan */
	char *only[ARRAY_SIZE(target_root_fstypes) + 2];
	for (size_t i = 0; i < ARRAY_SIZE(target_root_fstypes); i++)
		only[i] = (char *)target_root_fstypes[i];
	only[ARRAY_SIZE(target_root_fstypes)] = "LVM2_member";
	only[ARRAY_SIZE(target_root_fstypes) + 1] = NULL;
	blkid_probe_filter_superblocks_type(pr, BLKID_FLTR_ONLYIN, only);
	blkid_probe_enable_partitions(pr, 1);
	blkid_probe_set_partitions_flags(pr, BLKID_PARTS_ENTRY_DETAILS);
	int r = blkid_do_safeprobe(pr);
	if (r < 0) {
		/* -2: two signatures that contradict each other; leave it alone */
		rc = r == -2 ? -EUCLEAN : -EIO;
		goto out;
	}
	bdev_set(&d->fstype, pr, "TYPE");
	bdev_set(&d->uuid, pr, "UUID");
	bdev_set(&d->label, pr, "LABEL");
	bdev_set(&d->pttype, pr, "PTTYPE");
	bdev_set(&d->partuuid, pr, "PART_ENTRY_UUID");
	bdev_set(&d->partlabel, pr, "PART_ENTRY_NAME");
	if (cb && d->pttype && !d->fstype) {
		blkid_partlist ls = blkid_probe_get_partitions(pr);
		int n = ls ? blkid_partlist_numof_partitions(ls) : 0;
		for (int i = 0; i < n && rc == 0; i++) {
			blkid_partition par = blkid_partlist_get_partition(ls, i);
			if (par && !blkid_partition_is_extended(par))
				rc = cb(arg, par);
		}
	}
out:
	blkid_free_probe(pr);
	return rc;
}

/* One partition of an image or disk: probed in place, attached to its own loop device when
 * it holds something we may mount. */
struct expand_ctx {
	struct scan *sc;
	size_t parent;
	int fd;
	const char *what; /* "disk.img" or "/dev/vdb" */
	char **err;
};

static bool bdev_worth_attaching(const struct bdev *d)
{
	return target_fstype_is_root(d->fstype) ||
	       (d->fstype && strcmp(d->fstype, "LVM2_member") == 0);
}

static int scan_attach_loop(struct scan *sc, struct bdev *d, int backing, uint64_t off,
			    uint64_t size, char **err)
{
	char path[64];
	for (int tries = 0; tries < 16; tries++) {
		if (reg.n_loops >= REG_LOOPS) {
			*err = xstrdup("too many loop devices");
			return -ENOSPC;
		}
		int fd = loopdev_open_free(path, sizeof(path));
		if (fd < 0) {
			*err = xasprintf("no free loop device: %s", strerror(-fd));
			return fd;
		}
		/* recorded before binding: if we are killed in between, autoclear detaches it */
		reg.loops[reg.n_loops] = -1;
		reg_barrier();
		int rc = loopdev_configure(fd, backing, off, size, sc->readonly, d->origin);
		if (rc == -EBUSY) {
			close(fd);
			continue;
		}
		if (rc < 0) {
			close(fd);
			*err = xasprintf("%s: cannot attach %s: %s", path, d->origin,
					 strerror(-rc));
			return rc;
		}
		reg.loops[reg.n_loops] = fd;
		reg_barrier();
		reg.n_loops++;
		struct stat st;
		if (fstat(fd, &st) == 0)
			d->devno = st.st_rdev;
		d->path = xstrdup(path);
		d->name = xstrdup(path + 5);
		return 0;
	}
	*err = xasprintf("cannot attach %s: every free loop device was taken", d->origin);
	return -EBUSY;
}

static int scan_expand_partition(void *arg, blkid_partition par)
{
	struct expand_ctx *x = arg;
	uint64_t off = (uint64_t)blkid_partition_get_start(par) * 512;
	uint64_t size = (uint64_t)blkid_partition_get_size(par) * 512;
	struct bdev probe = {.parent = x->parent, .slot = -1};
	int rc = bdev_probe(&probe, x->fd, off, size, NULL, NULL);
	if (rc < 0 || !bdev_worth_attaching(&probe)) {
		bdev_free(&probe);
		return 0;
	}
	struct bdev *d = scan_add(x->sc);
	*d = probe;
	d->size = size;
	d->origin = xasprintf("%s partition %d", x->what, blkid_partition_get_partno(par));
	const char *puuid = blkid_partition_get_uuid(par);
	const char *pname = blkid_partition_get_name(par);
	if (puuid && *puuid && !d->partuuid)
		d->partuuid = xstrdup(puuid);
	if (pname && *pname && !d->partlabel)
		d->partlabel = xstrdup(pname);
	return scan_attach_loop(x->sc, d, x->fd, off, size, x->err);
}

/* --image FILE: its partitions (or the bare filesystem) become loop devices. */
int scan_image(struct scan *sc, const char *image, char **err)
{
	struct stat st;
	scan_exclude_running_root(sc);
	scan_exclude_named(sc);
	if (stat(image, &st) == 0 && S_ISBLK(st.st_mode) && scan_is_excluded(sc, st.st_rdev)) {
		*err = xasprintf("%s is the running system's own disk, not an instance", image);
		return -EBUSY;
	}
	/* The type before the open, and the open itself non-blocking: opening a FIFO waits for
	 * a writer forever, a character device may be anything (a tape rewinds). */
	if (stat(image, &st) == 0 && !(S_ISREG(st.st_mode) || S_ISBLK(st.st_mode))) {
		*err = xasprintf("%s: not a regular file or block device (%s)", image,
				 S_ISFIFO(st.st_mode)	? "a FIFO"
				 : S_ISCHR(st.st_mode)	? "a character device"
				 : S_ISSOCK(st.st_mode) ? "a socket"
				 : S_ISDIR(st.st_mode)	? "a directory"
							: "not a disk image");
		return -EINVAL;
	}
	int fd =
		open(image, (sc->readonly ? O_RDONLY : O_RDWR) | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
	if (fd < 0) {
		int rc = -errno;
		*err = xasprintf("%s: %s", image, strerror(errno));
		return rc;
	}
	int fl = fcntl(fd, F_GETFL);
	if (fstat(fd, &st) < 0 || !(S_ISREG(st.st_mode) || S_ISBLK(st.st_mode)) || fl < 0 ||
	    fcntl(fd, F_SETFL, fl & ~O_NONBLOCK) < 0) {
		close(fd);
		*err = xasprintf("%s: not a regular file or block device", image);
		return -EINVAL;
	}
	if (reg.n_files < REG_FILES) {
		reg.files[reg.n_files] = fd;
		reg_barrier();
		reg.n_files++;
	}
	struct bdev *img = scan_add(sc);
	img->origin = xstrdup(image);
	img->size = (uint64_t)st.st_size;
	size_t idx = sc->n - 1;
	struct expand_ctx x = {.sc = sc, .parent = idx, .fd = fd, .what = image, .err = err};
	int rc = bdev_probe(img, fd, 0, 0, scan_expand_partition, &x);
	img = &sc->v[idx];
	if (rc < 0) {
		if (!*err)
			*err = xasprintf("%s: cannot read: %s", image,
					 rc == -EUCLEAN ? "contradicting signatures"
							: strerror(-rc));
		return rc;
	}
	if (img->pttype && !img->fstype) {
		img->whole_disk_expanded = true;
		return 0;
	}
	if (!img->fstype) {
		*err = xasprintf("%s: no partition table and no filesystem found", image);
		return -ENOENT;
	}
	/* a bare filesystem: one loop device over the whole file */
	return scan_attach_loop(sc, img, fd, 0, 0, err);
}

static bool scan_has_kernel_partitions(const char *name)
{
	_cleanup_free_ char *dir = xasprintf("/sys/class/block/%s", name);
	DIR *d = opendir(dir);
	if (!d)
		return false;
	bool found = false;
	struct dirent *de;
	while (!found && (de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		_cleanup_free_ char *p = xasprintf("%s/%s/partition", dir, de->d_name);
		found = access(p, F_OK) == 0;
	}
	closedir(d);
	return found;
}

static int scan_device_node(const char *name, dev_t devno, char **path)
{
	struct stat st;
	_cleanup_free_ char *p = xasprintf("/dev/%s", name);
	if (stat(p, &st) == 0 && S_ISBLK(st.st_mode) && st.st_rdev == devno) {
		*path = xstrdup(p);
		return 0;
	}
	return -ENOENT;
}

/* Probe one block device of the system, given its /sys/class/block name. */
static int scan_system_device(struct scan *sc, const char *name, char **err)
{
	if (strncmp(name, "ram", 3) == 0 || strncmp(name, "zram", 4) == 0 ||
	    strncmp(name, "sr", 2) == 0 || strncmp(name, "fd", 2) == 0)
		return 0;
	_cleanup_free_ char *devp = xasprintf("/sys/class/block/%s/dev", name);
	_cleanup_free_ char *sizep = xasprintf("/sys/class/block/%s/size", name);
	_cleanup_free_ char *devs = target_sysfs_read(devp);
	_cleanup_free_ char *sizes = target_sysfs_read(sizep);
	dev_t devno;
	unsigned long sectors;
	if (target_parse_devno(devs, &devno) < 0 || !sizes ||
	    parse_uint(sizes, 0, ULONG_MAX, &sectors) < 0 || sectors == 0)
		return 0;
	if (scan_is_excluded(sc, devno))
		return 0;
	for (int i = 0; i < reg.n_loops; i++) {
		struct stat st;
		if (reg.loops[i] >= 0 && fstat(reg.loops[i], &st) == 0 && st.st_rdev == devno)
			return 0;
	}
	char *path = NULL;
	if (scan_device_node(name, devno, &path) < 0) {
		strv_push_owned(&sc->notes, xasprintf("%s: no device node in /dev", name));
		return 0;
	}
	/* writable in repair: a disk whose partitions we attach as loop devices lends them its
	 * mode */
	int fd = sc->readonly ? -1 : open(path, O_RDWR | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0)
		fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0) {
		strv_push_owned(&sc->notes, xasprintf("%s: %s", path, strerror(errno)));
		free(path);
		return 0;
	}
	struct bdev *d = scan_add(sc);
	size_t idx = sc->n - 1;
	d->path = path;
	d->name = xstrdup(name);
	d->devno = devno;
	d->size = (uint64_t)sectors * 512;
	d->mounted_at = scan_mounted_at(devno);
	_cleanup_free_ char *dmname_p = xasprintf("/sys/class/block/%s/dm/name", name);
	_cleanup_free_ char *dmname = target_sysfs_read(dmname_p);
	if (dmname && *dmname) {
		_cleanup_free_ char *mp = xasprintf("/dev/mapper/%s", dmname);
		struct stat st;
		if (stat(mp, &st) == 0 && st.st_rdev == devno)
			d->origin = xstrdup(mp);
	}
	if (!d->origin)
		d->origin = xstrdup(path);
	bool expand = !scan_has_kernel_partitions(name);
	struct expand_ctx x = {.sc = sc, .parent = idx, .fd = fd, .what = path, .err = err};
	int rc = bdev_probe(d, fd, 0, 0, expand ? scan_expand_partition : NULL, &x);
	d = &sc->v[idx];
	if (rc < 0 && !*err) {
		strv_push_owned(&sc->notes,
				xasprintf("%s: cannot probe: %s", d->origin, strerror(-rc)));
		rc = 0;
	}
	if (d->pttype && !d->fstype && expand)
		d->whole_disk_expanded = true;
	/* the partitions' loop devices keep their own reference to the disk */
	close(fd);
	return rc;
}

int target_cmp_names(const void *a, const void *b)
{
	return strverscmp(*(char *const *)a, *(char *const *)b);
}

int scan_system(struct scan *sc, char **err)
{
	scan_exclude_running_root(sc);
	scan_exclude_named(sc);
	DIR *d = opendir("/sys/class/block");
	if (!d) {
		int rc = -errno;
		*err = xasprintf("/sys/class/block: %s", strerror(errno));
		return rc;
	}
	struct strv names = {0};
	struct dirent *de;
	while ((de = readdir(d)))
		if (de->d_name[0] != '.')
			strv_push(&names, de->d_name);
	closedir(d);
	if (names.n)
		qsort(names.v, names.n, sizeof(*names.v), target_cmp_names);
	int rc = 0;
	for (size_t i = 0; i < names.n && rc == 0; i++)
		rc = scan_system_device(sc, names.v[i], err);
	strv_free(&names);
	return rc;
}
