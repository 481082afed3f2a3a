/* target.c: finding and mounting the instance root (a directory, a block device, or a disk
 * image through loop devices), and releasing everything again. The only module that mounts.
 *
 * Rescue mode: every block device in /sys/class/block except the running system's own root,
 * the disks under it and what holds it, is probed with libblkid. Partition tables that the
 * kernel did not split (images; kernels without partition support) are read with libblkid's
 * partitions API and each partition gets its own loop device with offset and size limit. LVM2
 * members are activated through the rescue system's `lvm`. A candidate is a Linux root when it
 * has etc/os-release (or usr/lib/os-release) and etc/fstab.
 *
 * Everything we set up is recorded in one static registry of fixed-size arrays, so that
 * target_release() needs only syscalls (umount2, ioctl, close, rmdir, spawn_quiet for lvm):
 * main calls it from its SIGINT/SIGTERM handler. Two further guards hold even on SIGKILL: all
 * mounts live in a private mount namespace of this process (they vanish with it), and loop
 * devices are attached with autoclear (the kernel detaches them when the last user goes). */
#include "target.h"

#include <blkid.h>
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <libmount.h>
#include <limits.h>
#include <linux/fs.h>
#include <linux/openat2.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <time.h>

#include "loopdev.h"
#include "parse/lvm.h"
#include "parse/os_release.h"
#include "resolve.h"
#include "spawn.h"

extern char **environ;

/* Filesystems an instance root can be on; anything else (swap, vfat, LUKS, ...) is never
 * mounted as a candidate. */
static const char *const target_root_fstypes[] = {
	"ext4", "ext3", "ext2", "xfs", "btrfs", "f2fs", "jfs", "reiserfs", "nilfs2", "bcachefs",
};

#define TARGET_RUN_DIR "/run/sshrescue"
#define OS_RELEASE_MAX (64u << 10)
#define FSTAB_MAX (1u << 20)
#define BTRFS_SUBVOL_INO 256 /* BTRFS_FIRST_FREE_OBJECTID: the root directory of a subvolume */

/* ---------------------------------------------------------------------------------------- */
/* The release registry: fixed arrays, written before each step so a signal at any point finds
 * everything that may need undoing. */

enum { REG_FREE, REG_PENDING, REG_MOUNTED };
#define REG_MOUNTS 64
#define REG_LOOPS 64
#define REG_DIRS 64
#define REG_FILES 8
#define REG_VGS 8

struct reg_vg {
	char name[128];	  /* the VG's own name */
	char active[160]; /* the name it was activated under (a temporary one on a clash) */
	char uuid[64];
	char devices[2048]; /* its PVs: the only devices lvm is shown */
	/* the two arguments that show lvm only those (lvm_restrict_args): made before anything
	 * is activated, so that release builds no string */
	char ropt[12];	 /* --devices or --config */
	char rarg[4096]; /* the list, or a devices/filter */
	volatile sig_atomic_t renamed, activated;
};

static struct registry {
	char base[64]; /* /run/sshrescue/<pid> */
	volatile sig_atomic_t base_made;
	struct {
		char path[PATH_MAX];
		volatile sig_atomic_t state;
	} mounts[REG_MOUNTS];
	volatile sig_atomic_t n_mounts;
	int loops[REG_LOOPS];
	volatile sig_atomic_t n_loops;
	char dirs[REG_DIRS][128];
	volatile sig_atomic_t n_dirs;
	int files[REG_FILES]; /* image files: fsync'ed on release */
	volatile sig_atomic_t n_files;
	struct reg_vg vgs[REG_VGS];
	volatile sig_atomic_t n_vgs;
	char lvm[PATH_MAX];
	bool lvm_devices; /* the lvm knows --devices (lvm2 2.03.12 and later) */
	volatile sig_atomic_t releasing;
} reg;

static void reg_barrier(void)
{
	__atomic_signal_fence(__ATOMIC_SEQ_CST);
}

/* Messages on release use write(2) only. */
static void reg_say(const char *what, const char *path, int err)
{
	const char *parts[] = {"sshrescue: release: ",		what, " ", path, ": ",
			       err ? strerrordesc_np(err) : "", "\n"};
	for (size_t i = 0; i < ARRAY_SIZE(parts); i++)
		if (parts[i] && write(STDERR_FILENO, parts[i], strlen(parts[i])) < 0)
			return;
}

/* lvm on release: async-signal-safe, bounded (a hung lvm must not keep the run). */
#define RELEASE_LVM_TIMEOUT_MS 20000
static int reg_spawn_quiet(char *const argv[])
{
	return spawn_quiet(argv, RELEASE_LVM_TIMEOUT_MS);
}

static int reg_unmount_one(int i)
{
	int rc = 0;
	if (reg.mounts[i].state == REG_FREE)
		return 0;
	if (umount2(reg.mounts[i].path, UMOUNT_NOFOLLOW) < 0 && errno != EINVAL &&
	    errno != ENOENT) {
		rc = -errno;
		if (rc == -EBUSY) {
			/* detached, it is written out only when its last user goes: now */
			int fd = open(reg.mounts[i].path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
			if (fd >= 0) {
				syncfs(fd);
				close(fd);
			}
		}
		if (rc == -EBUSY &&
		    umount2(reg.mounts[i].path, MNT_DETACH | UMOUNT_NOFOLLOW) == 0)
			reg_say("busy, detached lazily", reg.mounts[i].path, EBUSY);
		else
			reg_say("cannot unmount", reg.mounts[i].path, -rc);
	}
	reg.mounts[i].state = REG_FREE;
	return rc;
}

static int reg_vg_deactivate(struct reg_vg *vg)
{
	int rc = 0;
	if (vg->activated) {
		char *argv[] = {reg.lvm, "vgchange", "-an", vg->ropt, vg->rarg, vg->active, NULL};
		if ((rc = reg_spawn_quiet(argv)) < 0)
			reg_say("cannot deactivate volume group", vg->active, 0);
		vg->activated = 0;
	}
	if (vg->renamed) {
		char *argv[] = {reg.lvm, "vgrename", vg->ropt, vg->rarg, vg->uuid, vg->name, NULL};
		int r = reg_spawn_quiet(argv);
		if (r < 0) {
			reg_say("cannot give the volume group its name back", vg->active, 0);
			rc = rc ? rc : r;
		}
		vg->renamed = 0;
	}
	return rc;
}

/* Undo everything, newest first. Only syscalls and spawn_quiet(): callable from a signal
 * handler. */
static int reg_release(void)
{
	int rc = 0, r;
	reg.releasing = 1;
	reg_barrier();
	while (reg.n_mounts > 0) {
		if ((r = reg_unmount_one(reg.n_mounts - 1)) < 0 && rc == 0)
			rc = r;
		reg.n_mounts--;
	}
	while (reg.n_vgs > 0) {
		if ((r = reg_vg_deactivate(&reg.vgs[reg.n_vgs - 1])) < 0 && rc == 0)
			rc = r;
		reg.n_vgs--;
	}
	while (reg.n_loops > 0) {
		int fd = reg.loops[reg.n_loops - 1];
		if (fd >= 0) {
			if ((r = loopdev_clear(fd)) < 0 && rc == 0)
				rc = r;
			close(fd);
		}
		reg.n_loops--;
	}
	while (reg.n_files > 0) {
		int fd = reg.files[reg.n_files - 1];
		if (fd >= 0) {
			fsync(fd);
			close(fd);
		}
		reg.n_files--;
	}
	while (reg.n_dirs > 0) {
		rmdir(reg.dirs[reg.n_dirs - 1]);
		reg.n_dirs--;
	}
	if (reg.base_made) {
		if (rmdir(reg.base) < 0 && errno != ENOENT) {
			reg_say("cannot remove", reg.base, errno);
			if (rc == 0)
				rc = -errno;
		}
		reg.base_made = 0;
	}
	reg.releasing = 0;
	return rc;
}

/* Reserve a mount slot before mounting, so a signal in between still unmounts it. */
static int reg_mount_begin(const char *path)
{
	if (reg.n_mounts >= REG_MOUNTS)
		return -ENOSPC;
	int i = reg.n_mounts;
	snprintf(reg.mounts[i].path, sizeof(reg.mounts[i].path), "%s", path);
	reg.mounts[i].state = REG_PENDING;
	reg_barrier();
	reg.n_mounts = i + 1;
	return i;
}

static void reg_mount_end(int i, bool mounted)
{
	if (mounted) {
		reg.mounts[i].state = REG_MOUNTED;
		return;
	}
	reg.mounts[i].state = REG_FREE;
	if (i == reg.n_mounts - 1)
		reg.n_mounts = i;
}

/* Unmount one of ours (probe mounts that were not the root); drop it from the registry when
 * it is the newest. */
static int reg_unmount(int i)
{
	int rc = reg_unmount_one(i);
	while (reg.n_mounts > 0 && reg.mounts[reg.n_mounts - 1].state == REG_FREE)
		reg.n_mounts--;
	return rc;
}

/* A directory under our base, removed on release. */
static int reg_mkdir(const char *name, char *out, size_t size)
{
	if (reg.n_dirs >= REG_DIRS)
		return -ENOSPC;
	int n = snprintf(out, size, "%s/%s", reg.base, name);
	if (n < 0 || (size_t)n >= size || (size_t)n >= sizeof(reg.dirs[0]))
		return -ENAMETOOLONG;
	if (mkdir(out, 0700) < 0)
		return -errno;
	snprintf(reg.dirs[reg.n_dirs], sizeof(reg.dirs[0]), "%s", out);
	reg_barrier();
	reg.n_dirs++;
	return 0;
}

/* Directories of earlier runs that died without releasing (SIGKILL): the mounts in them went
 * with their mount namespace, so empty directories are all that is left. rmdir() never
 * removes anything else. */
static void reg_remove_stale(void)
{
	DIR *d = opendir(TARGET_RUN_DIR);
	if (!d)
		return;
	struct dirent *de;
	while ((de = readdir(d))) {
		unsigned long pid;
		if (parse_uint(de->d_name, 1, INT32_MAX, &pid) < 0)
			continue;
		if (kill((pid_t)pid, 0) == 0 || errno != ESRCH)
			continue;
		_cleanup_free_ char *p = xasprintf("%s/%s", TARGET_RUN_DIR, de->d_name);
		DIR *sub = opendir(p);
		struct dirent *se;
		while (sub && (se = readdir(sub))) {
			if (strcmp(se->d_name, ".") == 0 || strcmp(se->d_name, "..") == 0)
				continue;
			_cleanup_free_ char *q = xasprintf("%s/%s", p, se->d_name);
			rmdir(q);
		}
		if (sub)
			closedir(sub);
		rmdir(p);
	}
	closedir(d);
}

/* Our private base directory, and a mount namespace of our own: mounts made here are not seen
 * by the rescue system and disappear with this process whatever kills it. */
static int reg_begin(char **err)
{
	if (reg.base_made)
		return 0;
	if (unshare(CLONE_NEWNS) == 0)
		mount("none", "/", "none", MS_REC | MS_PRIVATE, NULL); /* names ignored */
	if (mkdir(TARGET_RUN_DIR, 0700) < 0 && errno != EEXIST) {
		int rc = -errno;
		*err = xasprintf("%s: %s", TARGET_RUN_DIR, strerror(errno));
		return rc;
	}
	reg_remove_stale();
	snprintf(reg.base, sizeof(reg.base), "%s/%d", TARGET_RUN_DIR, (int)getpid());
	if (mkdir(reg.base, 0700) < 0) {
		int rc = -errno;
		*err = xasprintf("%s: %s", reg.base, strerror(errno));
		return rc;
	}
	reg.base_made = 1;
	return 0;
}

/* ---------------------------------------------------------------------------------------- */
/* Small helpers. */

static char *target_sysfs_read(const char *path)
{
	_cleanup_fclose_ FILE *f = fopen(path, "re");
	if (!f)
		return NULL;
	char line[4096];
	if (!fgets(line, sizeof(line), f))
		return NULL;
	return xstrdup(strstrip(line));
}

static int target_parse_devno(const char *s, dev_t *d)
{
	unsigned maj, min;
	char extra;
	if (!s || sscanf(s, "%u:%u%c", &maj, &min, &extra) != 2)
		return -EINVAL;
	*d = makedev(maj, min);
	return 0;
}

static int target_openat2(int dirfd, const char *path, int flags)
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
static int target_read_in_root(int rootfd, const char *path, size_t max, char **data, size_t *len)
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
	struct buf b = {0};
	char chunk[8192];
	for (;;) {
		ssize_t n = read(fd, chunk, sizeof(chunk));
		if (n < 0) {
			if (errno == EINTR)
				continue;
			int rc = -errno;
			buf_free(&b);
			return rc;
		}
		if (n == 0)
			break;
		if (b.len + (size_t)n > max) {
			buf_free(&b);
			return -EFBIG;
		}
		buf_append(&b, chunk, (size_t)n);
	}
	if (!b.data)
		buf_append(&b, "", 0);
	*data = b.data;
	*len = b.len;
	return 0;
}

static bool target_is_regular_in_root(int rootfd, const char *path)
{
	_cleanup_close_ int fd = target_openat2(rootfd, path, O_PATH);
	struct stat st;
	return fd >= 0 && fstat(fd, &st) == 0 && S_ISREG(st.st_mode);
}

/* PRETTY_NAME (else NAME) of an os-release file; NULL when absent. */
static char *target_os_release_name(const char *buf, size_t len)
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

static char *target_dm_name(const char *vg, const char *lv)
{
	struct buf b = {0};
	target_dm_escape(&b, vg);
	buf_puts(&b, "-");
	target_dm_escape(&b, lv);
	return b.data;
}

static bool target_fstype_is_root(const char *fstype)
{
	for (size_t i = 0; fstype && i < ARRAY_SIZE(target_root_fstypes); i++)
		if (strcmp(fstype, target_root_fstypes[i]) == 0)
			return true;
	return false;
}

static char *target_human_size(uint64_t bytes)
{
	static const char units[] = "BKMGTPE";
	double v = (double)bytes;
	size_t u = 0;
	while (v >= 1024 && u + 1 < sizeof(units) - 1) {
		v /= 1024;
		u++;
	}
	return u ? xasprintf("%.1f%c", v, units[u]) : xasprintf("%" PRIu64 "B", bytes);
}

/* ---------------------------------------------------------------------------------------- */
/* Block devices. */

struct bdev {
	char *path;   /* node to mount: /dev/vdb1, /dev/loop4, /dev/mapper/vg-root */
	char *origin; /* what it is for people: "/dev/vdb1", "disk.img partition 2", "vg/root" */
	char *name;   /* short unique name: mount directory under our base */
	dev_t devno;
	uint64_t size;
	char *fstype, *uuid, *label, *partuuid, *partlabel, *pttype;
	char *lvm_vg, *lvm_lv;	  /* an LV: its VG's own name (not a temporary one) and name */
	char *mounted_at;	  /* mounted on the rescue system already: where */
	bool whole_disk_expanded; /* a partition table we attached partition by partition */
	size_t parent;		  /* index of the disk or image it is part of, or SIZE_MAX */
	/* set by target_check_root() */
	bool checked, is_root;
	bool claimed; /* named in the found root's fstab (its /var, /home...): not another root */
	int slot;     /* registry slot of the probe mount kept for the root, or -1 */
	bool slot_rw; /* that mount is read-write already */
	char *pretty, *subvol_opt, *check_err;
};

struct scan {
	struct bdev *v;
	size_t n, cap;
	bool readonly;
	bool own; /* every device scanned is the instance's (--image): probed read-write in repair */
	struct strv notes; /* devices skipped and why; shown when no root is found */
	dev_t *excluded;
	size_t n_excluded;
	dev_t root_devno;
	const char *exclude; /* --exclude SPEC */
};

static void bdev_free(struct bdev *d)
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

static void scan_free(struct scan *sc)
{
	for (size_t i = 0; i < sc->n; i++)
		bdev_free(&sc->v[i]);
	free(sc->v);
	free(sc->excluded);
	strv_free(&sc->notes);
	memset(sc, 0, sizeof(*sc));
}

static struct bdev *scan_add(struct scan *sc)
{
	if (sc->n == sc->cap) {
		sc->cap = sc->cap ? sc->cap * 2 : 16;
		sc->v = xrealloc(sc->v, sc->cap * sizeof(*sc->v));
	}
	struct bdev *d = &sc->v[sc->n++];
	memset(d, 0, sizeof(*d));
	d->parent = SIZE_MAX;
	d->slot = -1;
	return d;
}

static bool scan_is_excluded(const struct scan *sc, dev_t d)
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
	sc->excluded = xrealloc(sc->excluded, (sc->n_excluded + 1) * sizeof(*sc->excluded));
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
		strv_push_owned(&sc->notes,
				xasprintf("--exclude %s: no such device", sc->exclude));
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

static int bdev_probe(struct bdev *d, int fd, uint64_t off, uint64_t size, partition_cb cb,
		      void *arg)
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
static int scan_image(struct scan *sc, const char *image, char **err)
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

static int target_cmp_names(const void *a, const void *b)
{
	return strverscmp(*(char *const *)a, *(char *const *)b);
}

static int scan_system(struct scan *sc, char **err)
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

/* ---------------------------------------------------------------------------------------- */
/* External programs (lvm). */

/* Run the host's lvm (argv[0] a full path) with stdout and stderr captured (each up to 1 MiB),
 * within the run's deadline. Returns the exit status (>= 0; 128+signal when killed), or
 * -errno when it could not run (-ETIME: the deadline passed). */
static int target_run(char *const argv[], char **out, char **errout)
{
	static char *const envp[] = { "PATH=/usr/sbin:/usr/bin:/sbin:/bin", "LC_ALL=C",
				      "LVM_SUPPRESS_FD_WARNINGS=1", NULL };
	struct spawn_opts o = { .envp = envp };
	struct spawn_result sr;
	int rc = spawn_run(argv, &o, &sr);
	if (rc == 0)
		rc = sr.how == SPAWN_EXITED	 ? sr.code
		     : sr.how == SPAWN_SIGNALED	 ? 128 + sr.code
		     : sr.how == SPAWN_TIMED_OUT ? -ETIME
						 : -sr.error;
	if (out) {
		*out = sr.out;
		sr.out = NULL;
	}
	if (errout) {
		*errout = sr.err;
		sr.err = NULL;
	}
	spawn_result_free(&sr);
	return rc;
}

/* The last non-empty line of a program's stderr, for messages. */
static char *target_last_line(const char *s)
{
	const char *best = "", *p = s;
	size_t best_len = 0;
	while (*p) {
		const char *eol = strchrnul(p, '\n');
		const char *q = p;
		while (q < eol && isspace((unsigned char)*q))
			q++;
		if (q < eol) {
			best = q;
			best_len = (size_t)(eol - q);
		}
		p = *eol ? eol + 1 : eol;
	}
	return xstrndup(best, best_len);
}

/* The rescue system's lvm (SSHRESCUE_LVM: another one, a full path), and whether it knows
 * --devices: its release from `lvm version`. One that does not say is given a devices/filter,
 * which every lvm2 release reads. */
static bool target_find_lvm(void)
{
	static const char *const paths[] = {"/usr/sbin/lvm", "/sbin/lvm", "/usr/bin/lvm",
					    "/bin/lvm"};
	const char *env = getenv("SSHRESCUE_LVM");
	reg.lvm[0] = '\0';
	if (env && *env == '/') {
		if (access(env, X_OK) == 0)
			snprintf(reg.lvm, sizeof(reg.lvm), "%s", env);
	} else {
		for (size_t i = 0; i < ARRAY_SIZE(paths) && !reg.lvm[0]; i++)
			if (access(paths[i], X_OK) == 0)
				snprintf(reg.lvm, sizeof(reg.lvm), "%s", paths[i]);
	}
	if (!reg.lvm[0])
		return false;
	char *argv[] = {reg.lvm, "version", NULL};
	_cleanup_free_ char *out = NULL;
	struct lvm_version v;
	reg.lvm_devices = target_run(argv, &out, NULL) == 0 && lvm_version_parse(out, &v) == 0 &&
			  lvm_version_has_devices(&v);
	return true;
}

/* Run an lvm report command (its argv ends with "--reportformat", "json", "-o", FIELDS) and
 * take its rows: n_fields strings each (parse/lvm.c). 0, or -EIO with *errs its stderr. */
static int target_lvm_report(char **argv, const char *kind, const char *const *fields,
			     size_t n_fields, struct strv *rows, char **errs)
{
	_cleanup_free_ char *out = NULL;
	if (target_run(argv, &out, errs) != 0)
		return -EIO;
	if (lvm_report_rows(out ? out : "", out ? strlen(out) : 0, kind, fields, n_fields, rows) <
	    0) {
		if (errs && !*errs)
			*errs = xstrdup("lvm printed no report");
		return -EIO;
	}
	return 0;
}

static bool target_dm_name_in_use(const char *vg)
{
	_cleanup_free_ char *prefix = target_dm_name(vg, "");
	DIR *d = opendir("/sys/class/block");
	if (!d)
		return false;
	bool used = false;
	struct dirent *de;
	while (!used && (de = readdir(d))) {
		if (strncmp(de->d_name, "dm-", 3) != 0)
			continue;
		_cleanup_free_ char *p = xasprintf("/sys/class/block/%s/dm/name", de->d_name);
		_cleanup_free_ char *name = target_sysfs_read(p);
		used = name && strncmp(name, prefix, strlen(prefix)) == 0;
	}
	closedir(d);
	return used;
}

/* Add the LVs of an activated VG as devices to probe. */
static void scan_lvm_add_lvs(struct scan *sc, struct reg_vg *vg)
{
	char *argv[] = {reg.lvm,	"lvs",	"--reportformat", "json", vg->ropt,
			vg->rarg,	"-o",	"lv_name,lv_dm_path", vg->active, NULL};
	static const char *const fields[] = {"lv_name", "lv_dm_path"};
	struct strv rows = {0};
	_cleanup_free_ char *errs = NULL;
	if (target_lvm_report(argv, "lv", fields, 2, &rows, &errs) < 0) {
		_cleanup_free_ char *why = target_last_line(errs ? errs : "");
		strv_push_owned(&sc->notes, xasprintf("volume group %s: cannot list its logical "
						      "volumes: %s",
						      vg->name, why));
		return;
	}
	for (size_t r = 0; r + 1 < rows.n; r += 2) {
		const char *const f[2] = {rows.v[r], rows.v[r + 1]};
		if (!*f[0] || !*f[1])
			continue;
		struct stat st;
		if (stat(f[1], &st) < 0 || !S_ISBLK(st.st_mode)) {
			strv_push_owned(&sc->notes, xasprintf("%s/%s: %s: %s", vg->name, f[0], f[1],
							      strerror(errno ? errno : ENOTBLK)));
			continue;
		}
		int fd = open(f[1], O_RDONLY | O_CLOEXEC | O_NONBLOCK);
		if (fd < 0) {
			strv_push_owned(&sc->notes, xasprintf("%s: %s", f[1], strerror(errno)));
			continue;
		}
		struct bdev *d = scan_add(sc);
		d->path = xstrdup(f[1]);
		d->origin = xasprintf("%s/%s", vg->name, f[0]);
		d->name = xasprintf("dm-%u", minor(st.st_rdev));
		d->devno = st.st_rdev;
		d->lvm_vg = xstrdup(vg->name);
		d->lvm_lv = xstrdup(f[0]);
		uint64_t size = 0;
		if (ioctl(fd, BLKGETSIZE64, &size) == 0)
			d->size = size;
		if (bdev_probe(d, fd, 0, 0, NULL, NULL) < 0)
			strv_push_owned(&sc->notes, xasprintf("%s: cannot probe", d->origin));
		close(fd);
	}
	strv_free(&rows);
}

/* The VGs of the instance's PVs (`lvm pvs`, restricted to them), each registered once by UUID
 * with the PVs it spans. 0, or -EIO after a note. */
static int scan_lvm_list_vgs(struct scan *sc, const char *pv_list)
{
	size_t rsize = strlen(pv_list) * 16 + 64;
	_cleanup_free_ char *rbuf = xmalloc(rsize);
	const char *ropt, *rarg;
	if (lvm_restrict_args(reg.lvm_devices, pv_list, NULL, rbuf, rsize, &ropt, &rarg) < 0) {
		strv_push_owned(&sc->notes, xasprintf("%s: LVM2 members whose names cannot be "
						      "given to lvm",
						      pv_list));
		return -EIO;
	}
	char *argv[] = {reg.lvm,      "pvs", "--reportformat", "json", (char *)ropt, (char *)rarg,
			"-o",	      "pv_name,vg_name,vg_uuid",	NULL};
	static const char *const fields[] = {"pv_name", "vg_name", "vg_uuid"};
	struct strv rows = {0};
	_cleanup_free_ char *errs = NULL;
	if (target_lvm_report(argv, "pv", fields, 3, &rows, &errs) < 0) {
		_cleanup_free_ char *why = target_last_line(errs ? errs : "");
		strv_push_owned(&sc->notes, xasprintf("%s: lvm pvs failed: %s", pv_list, why));
		strv_free(&rows);
		return -EIO;
	}
	size_t first_vg = (size_t)reg.n_vgs;
	for (size_t r = 0; r + 2 < rows.n; r += 3) {
		const char *pv = rows.v[r], *name = rows.v[r + 1], *uuid = rows.v[r + 2];
		if (!*name || !*uuid)
			continue;
		struct reg_vg *vg = NULL;
		for (size_t i = first_vg; i < (size_t)reg.n_vgs; i++)
			if (strcmp(reg.vgs[i].uuid, uuid) == 0)
				vg = &reg.vgs[i];
		if (vg) {
			size_t l = strlen(vg->devices);
			snprintf(vg->devices + l, sizeof(vg->devices) - l, ",%s", pv);
			continue;
		}
		if (reg.n_vgs >= REG_VGS) {
			strv_push_owned(&sc->notes,
					xasprintf("volume group %s: too many volume groups", name));
			continue;
		}
		vg = &reg.vgs[reg.n_vgs];
		memset(vg, 0, sizeof(*vg));
		snprintf(vg->name, sizeof(vg->name), "%s", name);
		snprintf(vg->active, sizeof(vg->active), "%s", name);
		snprintf(vg->uuid, sizeof(vg->uuid), "%s", uuid);
		snprintf(vg->devices, sizeof(vg->devices), "%s", pv);
		reg_barrier();
		reg.n_vgs++;
	}
	strv_free(&rows);
	return 0;
}

/* Does the running system have a VG of this name (another UUID), or a device-mapper name
 * that activating it would take? sys_vgs: the running system's `vgs` rows (name, uuid). */
static bool scan_lvm_clashes(const struct reg_vg *vg, const struct strv *sys_vgs)
{
	if (target_dm_name_in_use(vg->name))
		return true;
	for (size_t r = 0; r + 1 < sys_vgs->n; r += 2)
		if (strcmp(sys_vgs->v[r], vg->name) == 0 && strcmp(sys_vgs->v[r + 1], vg->uuid) != 0)
			return true;
	return false;
}

/* Rename a clashing VG by UUID for the time of the run (undone on release). 0, or -EIO
 * after a note. */
static int scan_lvm_rename(struct scan *sc, struct reg_vg *vg)
{
	snprintf(vg->active, sizeof(vg->active), "%s_sshrescue%d", vg->name, (int)getpid());
	vg->renamed = 1;
	reg_barrier();
	char *argv[] = {reg.lvm, "vgrename", vg->ropt, vg->rarg, vg->uuid, vg->active, NULL};
	_cleanup_free_ char *e = NULL;
	if (target_run(argv, NULL, &e) != 0) {
		vg->renamed = 0;
		_cleanup_free_ char *why = target_last_line(e ? e : "");
		strv_push_owned(&sc->notes,
				xasprintf("volume group %s: cannot rename it for the run: %s",
					  vg->name, why));
		return -EIO;
	}
	return 0;
}

/* Activate the VG (read-only in check), restricted to its PVs. 0, or -EIO after a note. */
static int scan_lvm_activate(struct scan *sc, struct reg_vg *vg)
{
	vg->activated = 1;
	reg_barrier();
	_cleanup_free_ char *ro =
		xasprintf("activation { read_only_volume_list = [ \"%s\" ] }", vg->active);
	/* lvm takes one --config: without --devices, the filter and this go together */
	size_t fsize = sizeof(vg->rarg) + strlen(ro) + 2;
	_cleanup_free_ char *filter_ro = xmalloc(fsize);
	const char *fopt, *farg;
	if (lvm_restrict_args(false, vg->devices, ro, filter_ro, fsize, &fopt, &farg) < 0)
		filter_ro[0] = '\0';
	char *argv_rw[] = {reg.lvm, "vgchange", "-ay", vg->ropt, vg->rarg, vg->active, NULL};
	char *argv_ro_devices[] = {reg.lvm,  "vgchange", "-ay",	     vg->ropt, vg->rarg,
				   "--config", ro,	   vg->active, NULL};
	char *argv_ro_filter[] = {reg.lvm,   "vgchange", "-ay", "--config",
				  filter_ro, vg->active, NULL};
	char **argv_ro = reg.lvm_devices ? argv_ro_devices : argv_ro_filter;
	_cleanup_free_ char *e = NULL;
	if (target_run(sc->readonly ? argv_ro : argv_rw, NULL, &e) != 0) {
		_cleanup_free_ char *why = target_last_line(e ? e : "");
		strv_push_owned(&sc->notes,
				xasprintf("volume group %s: cannot activate it: %s", vg->name, why));
		return -EIO;
	}
	return 0;
}

/* One VG of the instance's: restricted to its PVs, renamed when its name clashes (repair
 * only), activated, its LVs added as devices to probe. */
static void scan_lvm_vg(struct scan *sc, struct reg_vg *vg, const struct strv *sys_vgs)
{
	const char *opt, *arg;
	if (lvm_restrict_args(reg.lvm_devices, vg->devices, NULL, vg->rarg, sizeof(vg->rarg), &opt,
			      &arg) < 0) {
		vg->ropt[0] = '\0';
		strv_push_owned(&sc->notes,
				xasprintf("volume group %s: its PVs (%s) cannot be given to lvm",
					  vg->name, vg->devices));
		return;
	}
	snprintf(vg->ropt, sizeof(vg->ropt), "%s", opt);
	if (scan_lvm_clashes(vg, sys_vgs)) {
		if (sc->readonly) {
			strv_push_owned(&sc->notes,
					xasprintf("volume group %s: the running system has one of "
						  "the same name; activating it needs a temporary "
						  "rename, which check does not do (repair does)",
						  vg->name));
			return;
		}
		if (scan_lvm_rename(sc, vg) < 0)
			return;
	}
	if (scan_lvm_activate(sc, vg) < 0)
		return;
	size_t before = sc->n;
	scan_lvm_add_lvs(sc, vg);
	if (vg->renamed)
		strv_push_owned(&sc->notes,
				xasprintf("volume group %s: activated as %s for the run (the running "
					  "system has a volume group of that name)",
					  vg->name, vg->active));
	if (sc->n == before)
		strv_push_owned(&sc->notes, xasprintf("volume group %s: no logical volumes", vg->name));
}

/* LVM2 members among the devices: activate their VGs (only those) through the rescue
 * system's lvm, restricted to the instance's PVs (--devices, or a filter for lvm2 before
 * 2.03.12). A VG whose name the rescue system uses too (a rescue instance made from the same
 * image) is renamed for the time of the run, by UUID, and renamed back on release. Steps: the
 * members, their VGs, what the running system has, then each VG (scan_lvm_vg). */
static int scan_lvm(struct scan *sc)
{
	struct strv pvs = {0};
	for (size_t i = 0; i < sc->n; i++)
		if (sc->v[i].path && sc->v[i].fstype && strcmp(sc->v[i].fstype, "LVM2_member") == 0)
			strv_push(&pvs, sc->v[i].path);
	if (!pvs.n)
		return 0;
	if (!target_find_lvm()) {
		for (size_t i = 0; i < pvs.n; i++)
			strv_push_owned(&sc->notes, xasprintf("%s: an LVM2 member, but the lvm "
							      "program is not installed",
							      pvs.v[i]));
		strv_free(&pvs);
		return 0;
	}
	setenv("LVM_SUPPRESS_FD_WARNINGS", "1", 1);
	struct buf all = {0};
	for (size_t i = 0; i < pvs.n; i++)
		buf_printf(&all, "%s%s", i ? "," : "", pvs.v[i]);
	strv_free(&pvs);
	size_t first_vg = (size_t)reg.n_vgs;
	int rc = scan_lvm_list_vgs(sc, all.data);
	buf_free(&all);
	if (rc < 0)
		return 0;
	/* what the rescue system itself sees: a VG of the same name and another UUID clashes */
	char *vgs_argv[] = {reg.lvm, "vgs", "--reportformat", "json", "-o", "vg_name,vg_uuid", NULL};
	static const char *const fields[] = {"vg_name", "vg_uuid"};
	struct strv sys_vgs = {0};
	if (target_lvm_report(vgs_argv, "vg", fields, 2, &sys_vgs, NULL) < 0)
		strv_free(&sys_vgs);
	for (size_t i = first_vg; i < (size_t)reg.n_vgs; i++)
		scan_lvm_vg(sc, &reg.vgs[i], &sys_vgs);
	strv_free(&sys_vgs);
	return 0;
}

/* ---------------------------------------------------------------------------------------- */
/* Mounting. */

/* libmount's message, with the kernel's errno text when libmount's words leave it out. */
static char *target_mount_reason(const char *msg, int sys)
{
	if (!*msg)
		return xstrdup(strerror(sys ? sys : EIO));
	if (sys && !strstr(msg, strerror(sys)))
		return xasprintf("%s (%s)", msg, strerror(sys));
	return xstrdup(msg);
}

/* Mount src on dir with libmount; recorded for release. what names the device in messages. */
static int target_mount_once(const char *src, const char *what, const char *dir,
			     const char *fstype, const char *opts, int *slot, char **err)
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
static int target_mount(const char *src, const char *what, const char *dir, const char *fstype,
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
static char *target_mount_options(const struct scan *sc, const struct bdev *d, bool probe,
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
static bool target_has_root_markers(int rootfd, char **pretty)
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
static int target_fstab_load(int rootfd, struct libmnt_table **out)
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

static int target_dir_for(struct bdev *d, char *dir, size_t size)
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
static int target_check_root(struct scan *sc, struct bdev *d, bool keep)
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

/* ---------------------------------------------------------------------------------------- */
/* Choosing the device. */

static bool target_streq_ci(const char *a, const char *b)
{
	return a && b && strcasecmp(a, b) == 0;
}

/* Does device d match spec (UUID=, LABEL=, PARTUUID=, PARTLABEL=, /dev/disk/by-*,
 * /dev/mapper/VG-LV, /dev/VG/LV, a device path or what it is)? */
static bool bdev_matches(const struct bdev *d, const char *spec)
{
	static const struct {
		const char *dir, *tag;
	} by[] = {{"/dev/disk/by-uuid/", "UUID"},
		  {"/dev/disk/by-label/", "LABEL"},
		  {"/dev/disk/by-partuuid/", "PARTUUID"},
		  {"/dev/disk/by-partlabel/", "PARTLABEL"}};
	if (!d->path)
		return false;
	_cleanup_free_ char *type = NULL, *value = NULL;
	for (size_t i = 0; i < ARRAY_SIZE(by) && !type; i++) {
		size_t l = strlen(by[i].dir);
		if (strncmp(spec, by[i].dir, l) == 0 && spec[l]) {
			type = xstrdup(by[i].tag);
			value = xstrdup(spec + l);
		}
	}
	if (!type && spec[0] != '/') {
		if (blkid_parse_tag_string(spec, &type, &value) < 0 || !type || !value)
			return false;
	}
	if (type) {
		bool m = false;
		if (strcmp(type, "UUID") == 0)
			m = target_streq_ci(d->uuid, value);
		else if (strcmp(type, "LABEL") == 0)
			m = d->label && strcmp(d->label, value) == 0;
		else if (strcmp(type, "PARTUUID") == 0)
			m = target_streq_ci(d->partuuid, value);
		else if (strcmp(type, "PARTLABEL") == 0)
			m = d->partlabel && strcmp(d->partlabel, value) == 0;
		/* a partition table's disk carries no filesystem of its own */
		return m && d->fstype;
	}
	struct stat st;
	bool same_dev = stat(spec, &st) == 0 && S_ISBLK(st.st_mode) && st.st_rdev == d->devno;
	if (d->lvm_vg) {
		_cleanup_free_ char *dm = target_dm_name(d->lvm_vg, d->lvm_lv);
		_cleanup_free_ char *mp = xasprintf("/dev/mapper/%s", dm);
		_cleanup_free_ char *vp = xasprintf("/dev/%s/%s", d->lvm_vg, d->lvm_lv);
		return strcmp(spec, mp) == 0 || strcmp(spec, vp) == 0 || same_dev;
	}
	return strcmp(spec, d->path) == 0 || strcmp(spec, d->origin) == 0 || same_dev;
}

/* How many devices match spec; *out gets the first. */
static size_t scan_match(struct scan *sc, const char *spec, struct bdev **out)
{
	size_t n = 0;
	*out = NULL;
	for (size_t i = 0; i < sc->n; i++) {
		if (!bdev_matches(&sc->v[i], spec))
			continue;
		if (!*out)
			*out = &sc->v[i];
		n++;
	}
	return n;
}

static void target_describe(struct buf *b, const struct bdev *d)
{
	buf_printf(b, "  %s: %s", d->origin, d->fstype ? d->fstype : "?");
	if (strcmp(d->origin, d->path) != 0)
		buf_printf(b, " on %s", d->path);
	if (d->uuid)
		buf_printf(b, " UUID=%s", d->uuid);
	if (d->label)
		buf_printf(b, " LABEL=%s", d->label);
	if (d->partuuid)
		buf_printf(b, " PARTUUID=%s", d->partuuid);
	if (d->pretty)
		buf_printf(b, " \"%s\"", d->pretty);
	if (d->mounted_at)
		buf_printf(b, " (mounted at %s)", d->mounted_at);
	buf_puts(b, "\n");
}

static bool target_is_candidate(const struct bdev *d)
{
	return d->path && target_fstype_is_root(d->fstype);
}

/* ---------------------------------------------------------------------------------------- */
/* The chosen root and the instance's own /var and /etc filesystems. */

static void target_push_mount(struct target *t, const char *src, const char *dir, const char *ipath,
			      const char *fstype, const char *opts)
{
	t->mounts = xrealloc(t->mounts, (t->n_mounts + 1) * sizeof(*t->mounts));
	struct target_mount *m = &t->mounts[t->n_mounts++];
	m->source = xstrdup(src);
	m->mountpoint = xstrdup(dir);
	m->instance_path = xstrdup(ipath);
	m->fstype = xstrdup(fstype);
	m->options = xstrdup(opts);
}

/* The probe mount of the root made read-only; repair needs it writable. A remount, not a new
 * mount: the kernel checks what it checks for a read-write mount (ext4 refuses bad group
 * descriptors, an unsupported feature...) either way. */
static int target_remount_rw(const struct bdev *d, const char *dir, char **err)
{
	const char *what = d->origin;
	struct libmnt_context *cxt = mnt_new_context();
	if (!cxt) {
		*err = xstrdup("libmount: out of memory");
		return -ENOMEM;
	}
	mnt_context_disable_mtab(cxt, 1);
	mnt_context_disable_helpers(cxt, 1);
	/* the instance's mount alone: nothing from the rescue system's fstab */
	mnt_context_set_optsmode(cxt, MNT_OMODE_NOTAB);
	mnt_context_set_source(cxt, d->path);
	mnt_context_set_target(cxt, dir);
	mnt_context_set_fstype(cxt, d->fstype);
	mnt_context_set_options(cxt, "remount,rw,nosuid,nodev");
	int rc = mnt_context_mount(cxt);
	bool ok = rc == 0 && mnt_context_get_status(cxt) == 1;
	if (!ok) {
		char msg[1024] = "";
		int sys = mnt_context_syscall_called(cxt) ? mnt_context_get_syscall_errno(cxt) : 0;
		mnt_context_get_excode(cxt, rc, msg, sizeof(msg));
		_cleanup_free_ char *why = target_mount_reason(msg, sys);
		*err = xasprintf("%s: cannot mount read-write: %s", what, why);
		rc = sys ? -sys : -EIO;
	}
	mnt_free_context(cxt);
	return ok ? 0 : rc;
}

static int target_mount_root(struct scan *sc, struct bdev *d, struct target *t, char **err)
{
	char dir[PATH_MAX];
	int rc = target_dir_for(d, dir, sizeof(dir));
	if (rc < 0) {
		*err = xasprintf("%s: %s", dir, strerror(-rc));
		return rc;
	}
	_cleanup_free_ char *opts = target_mount_options(sc, d, false, d->subvol_opt);
	if (d->slot >= 0) {
		/* kept from the probe: read-only as check wants it, or made writable */
		if (!sc->readonly && !d->slot_rw && (rc = target_remount_rw(d, dir, err)) < 0)
			return rc;
	} else if ((rc = target_mount(d->path, d->origin, dir, d->fstype, opts, &d->slot, err)) <
		   0) {
		return rc;
	}
	_cleanup_close_ int fd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0 || !target_has_root_markers(fd, &d->pretty)) {
		*err = xasprintf("%s: not a Linux root (no etc/os-release or usr/lib/os-release, "
				 "or no etc/fstab)",
				 d->origin);
		return -ENOENT;
	}
	target_push_mount(t, d->path, dir, "/", d->fstype, opts);
	t->root_path = xstrdup(dir);
	return 0;
}

struct fstab_entry {
	struct libmnt_fs *fs;
	const char *target;
	size_t depth, order;
};

static int target_cmp_fstab(const void *a, const void *b)
{
	const struct fstab_entry *x = a, *y = b;
	if (x->depth != y->depth)
		return x->depth < y->depth ? -1 : 1;
	return x->order < y->order ? -1 : x->order > y->order;
}

/* (mnt_fs_match_options() reads "noauto" as "not auto": ask for the option itself.) */
static bool target_fs_has_option(struct libmnt_fs *fs, const char *name)
{
	return mnt_fs_get_option(fs, name, NULL, NULL) == 0;
}

static bool target_under(const char *path, const char *top)
{
	size_t l = strlen(top);
	return strncmp(path, top, l) == 0 && (path[l] == '\0' || path[l] == '/');
}

/* The instance's fstab entries for /var and /etc and below that are filesystems of their own:
 * mounted in place, so policies see the instance's whole /var. swap, network, pseudo and
 * noauto entries are not. A missing device fails the run (unless nofail): policies must not
 * write into the directory the real /var hides. */
static int target_mount_fstab(struct scan *sc, struct bdev *root, struct target *t, char **err)
{
	_cleanup_close_ int rootfd = open(t->root_path, O_PATH | O_DIRECTORY | O_CLOEXEC);
	struct libmnt_table *tb = NULL;
	int rc = rootfd < 0 ? -errno : target_fstab_load(rootfd, &tb);
	if (rc < 0) {
		*err = xasprintf("%s: etc/fstab: %s", root->origin, strerror(-rc));
		return rc;
	}
	struct fstab_entry *v = NULL;
	size_t n = 0;
	struct libmnt_iter *it = mnt_new_iter(MNT_ITER_FORWARD);
	struct libmnt_fs *fs;
	while (mnt_table_next_fs(tb, it, &fs) == 0) {
		const char *tgt = mnt_fs_get_target(fs);
		if (!tgt || !(target_under(tgt, "/var") || target_under(tgt, "/etc")))
			continue;
		if (mnt_fs_is_swaparea(fs) || mnt_fs_is_netfs(fs) || mnt_fs_is_pseudofs(fs) ||
		    target_fs_has_option(fs, "noauto") || target_fs_has_option(fs, "bind") ||
		    target_fs_has_option(fs, "rbind"))
			continue;
		v = xrealloc(v, (n + 1) * sizeof(*v));
		size_t depth = 0;
		for (const char *p = tgt; *p; p++)
			depth += *p == '/';
		v[n] = (struct fstab_entry){.fs = fs, .target = tgt, .depth = depth, .order = n};
		n++;
	}
	mnt_free_iter(it);
	if (n)
		qsort(v, n, sizeof(*v), target_cmp_fstab);
	for (size_t i = 0; i < n && rc == 0; i++) {
		struct libmnt_fs *e = v[i].fs;
		const char *src = mnt_fs_get_source(e);
		const char *tname, *tval;
		_cleanup_free_ char *spec = NULL;
		if (mnt_fs_get_tag(e, &tname, &tval) == 0)
			spec = xasprintf("%s=%s", tname, tval);
		else
			spec = xstrdup(src ? src : "");
		struct bdev *d;
		size_t matches = scan_match(sc, spec, &d);
		if (matches != 1) {
			if (matches == 0 && target_fs_has_option(e, "nofail"))
				continue;
			*err = xasprintf("%s: etc/fstab: %s for %s: %s", root->origin, spec,
					 v[i].target,
					 matches ? "more than one device has it"
						 : "no such device among the attached disks");
			rc = -ENODEV;
			break;
		}
		if (!d->fstype || !target_fstype_is_root(d->fstype)) {
			*err = xasprintf(
				"%s: etc/fstab: %s for %s holds %s, not a filesystem we mount",
				root->origin, spec, v[i].target,
				d->fstype ? d->fstype : "nothing recognisable");
			rc = -EMEDIUMTYPE;
			break;
		}
		/* the mount point, resolved inside the instance: a symlink in it stays inside */
		_cleanup_close_ int mfd = target_openat2(rootfd, v[i].target, O_PATH | O_DIRECTORY);
		if (mfd < 0) {
			*err = xasprintf("%s: %s: cannot mount %s there: %s", root->origin,
					 v[i].target, spec, strerror(-mfd));
			rc = mfd;
			break;
		}
		char proc[64], dir[PATH_MAX];
		snprintf(proc, sizeof(proc), "/proc/self/fd/%d", mfd);
		ssize_t dl = readlink(proc, dir, sizeof(dir) - 1);
		if (dl < 0 || (dir[dl] = '\0', !target_under(dir, t->root_path))) {
			*err = xasprintf("%s: %s: mount point outside the instance", root->origin,
					 v[i].target);
			rc = -EXDEV;
			break;
		}
		_cleanup_free_ char *opts =
			target_mount_options(sc, d, false, mnt_fs_get_fs_options(e));
		rc = target_mount(d->path, d->origin, dir, d->fstype, opts, NULL, err);
		if (rc < 0) {
			char *m = *err;
			*err = xasprintf("%s (the instance's %s)", m, v[i].target);
			free(m);
			break;
		}
		target_push_mount(t, d->path, dir, v[i].target, d->fstype, opts);
	}
	free(v);
	mnt_unref_table(tb);
	return rc;
}

/* ---------------------------------------------------------------------------------------- */

static int target_use_directory(const char *dir, struct target *t, char **err)
{
	struct stat st;
	if (stat(dir, &st) < 0) {
		int rc = -errno;
		*err = xasprintf("%s: %s", dir, strerror(errno));
		return rc;
	}
	if (!S_ISDIR(st.st_mode)) {
		*err = xasprintf("%s: not a directory", dir);
		return -ENOTDIR;
	}
	t->kind = xstrdup("directory");
	t->root_path = xstrdup(dir);
	return 0;
}

/* While target_acquire() or discover runs, main does not know the target yet: SIGINT and
 * SIGTERM release what is set up so far, then kill us as they would have. */
static struct sigaction target_saved_int, target_saved_term;

static void target_on_signal(int sig)
{
	spawn_kill_running(); /* an lvm of the scan */
	reg_release();
	signal(sig, SIG_DFL);
	raise(sig);
}

static void target_guard_signals(bool on)
{
	if (on) {
		struct sigaction sa = {.sa_handler = target_on_signal};
		sigemptyset(&sa.sa_mask);
		sigaddset(&sa.sa_mask, SIGINT);
		sigaddset(&sa.sa_mask, SIGTERM);
		sigaction(SIGINT, &sa, &target_saved_int);
		sigaction(SIGTERM, &sa, &target_saved_term);
	} else {
		sigaction(SIGINT, &target_saved_int, NULL);
		sigaction(SIGTERM, &target_saved_term, NULL);
	}
}

static int target_scan(const struct target_opts *o, struct scan *sc, char **err)
{
	int rc = reg_begin(err);
	if (rc < 0)
		return rc;
	rc = o->image ? scan_image(sc, o->image, err) : scan_system(sc, err);
	if (rc < 0)
		return rc;
	return scan_lvm(sc);
}

/* For messages: why no device qualified. */
static void target_explain(struct buf *b, const struct scan *sc, bool all)
{
	for (size_t i = 0; i < sc->n; i++) {
		const struct bdev *d = &sc->v[i];
		if (d->check_err)
			buf_printf(b, "\n  %s", d->check_err);
		else if (all && target_is_candidate(d) && d->checked && !d->is_root)
			buf_printf(b, "\n  %s: %s, not a Linux root (no os-release or fstab)",
				   d->origin, d->fstype);
	}
	for (size_t i = 0; i < sc->notes.n; i++)
		buf_printf(b, "\n  %s", sc->notes.v[i]);
}

/* The devices the root's fstab names for its other mount points (its /var, /home...) belong
 * to that instance: they are not looked at as further roots. */
static void target_claim_fstab_devices(struct scan *sc, struct bdev *root)
{
	if (root->slot < 0)
		return;
	_cleanup_close_ int fd =
		open(reg.mounts[root->slot].path, O_PATH | O_DIRECTORY | O_CLOEXEC);
	struct libmnt_table *tb = NULL;
	if (fd < 0 || target_fstab_load(fd, &tb) < 0)
		return;
	struct libmnt_iter *it = mnt_new_iter(MNT_ITER_FORWARD);
	struct libmnt_fs *fs;
	while (mnt_table_next_fs(tb, it, &fs) == 0) {
		const char *tgt = mnt_fs_get_target(fs), *src = mnt_fs_get_source(fs);
		const char *tname, *tval;
		if (!tgt || strcmp(tgt, "/") == 0 || mnt_fs_is_swaparea(fs))
			continue;
		_cleanup_free_ char *spec = mnt_fs_get_tag(fs, &tname, &tval) == 0
						    ? xasprintf("%s=%s", tname, tval)
						    : xstrdup(src ? src : "");
		struct bdev *d;
		if (*spec && scan_match(sc, spec, &d) == 1 && d != root)
			d->claimed = true;
	}
	mnt_free_iter(it);
	mnt_unref_table(tb);
}

static struct bdev *target_choose(const struct target_opts *o, struct scan *sc, char **err)
{
	const char *spec = o->device;
	if (!spec && o->cfg_root && *o->cfg_root && strcmp(o->cfg_root, "auto") != 0)
		spec = o->cfg_root;
	size_t within = SIZE_MAX; /* a whole disk or image named by spec: search inside it */
	if (spec) {
		struct bdev *d;
		size_t n = scan_match(sc, spec, &d);
		struct stat st;
		if (n == 0 && spec[0] == '/' && stat(spec, &st) == 0 && S_ISBLK(st.st_mode) &&
		    scan_is_excluded(sc, st.st_rdev)) {
			*err = xasprintf("%s is the running system's own disk, not an instance",
					 spec);
			return NULL;
		}
		if (n > 1) {
			struct buf b = {0};
			buf_printf(&b, "%s matches more than one device:\n", spec);
			for (size_t i = 0; i < sc->n; i++)
				if (bdev_matches(&sc->v[i], spec))
					target_describe(&b, &sc->v[i]);
			*err = b.data;
			return NULL;
		}
		if (n == 0) {
			struct buf b = {0};
			buf_printf(&b, "%s: no such device among the attached disks%s", spec,
				   o->image ? " of the image" : "");
			target_explain(&b, sc, false);
			*err = b.data;
			return NULL;
		}
		if (d->whole_disk_expanded) {
			within = (size_t)(d - sc->v);
		} else if (!target_is_candidate(d)) {
			*err = xasprintf(
				"%s: %s holds %s, not a filesystem an instance root can be on",
				spec, d->origin, d->fstype ? d->fstype : "nothing recognisable");
			return NULL;
		} else {
			return d;
		}
	}
	struct bdev *found = NULL;
	size_t roots = 0;
	for (size_t i = 0; i < sc->n; i++) {
		struct bdev *d = &sc->v[i];
		if (!target_is_candidate(d) || d->claimed ||
		    (within != SIZE_MAX && d->parent != within))
			continue;
		if (d->mounted_at) {
			/* the rescue system uses it: never picked by itself */
			strv_push_owned(&sc->notes,
					xasprintf("%s is mounted at %s; not used unless "
						  "named with --device (or use --root %s)",
						  d->origin, d->mounted_at, d->mounted_at));
			continue;
		}
		target_check_root(sc, d, true);
		if (!d->is_root)
			continue;
		if (++roots == 1) {
			found = d;
			target_claim_fstab_devices(sc, d);
		}
	}
	if (roots == 1)
		return found;
	struct buf b = {0};
	if (roots == 0) {
		buf_puts(&b, "no Linux root found on the attached disks");
		if (o->image)
			buf_printf(&b, " (image %s)", o->image);
		target_explain(&b, sc, true);
	} else {
		buf_printf(&b, "%zu Linux roots found; pick one with --device or [target] root:\n",
			   roots);
		for (size_t i = 0; i < sc->n; i++)
			if (sc->v[i].is_root)
				target_describe(&b, &sc->v[i]);
		if (b.len && b.data[b.len - 1] == '\n')
			b.data[--b.len] = '\0';
	}
	*err = b.data;
	return NULL;
}

static void target_test_pause(const struct target *t)
{
	const char *s = getenv("SSHRESCUE_TEST_PAUSE_AFTER_MOUNT");
	unsigned long secs;
	if (!s || parse_uint(s, 1, 3600, &secs) < 0)
		return;
	fprintf(stderr, "sshrescue: test pause: %s mounted at %s; sleeping %lu s\n",
		t->device ? t->device : "?", t->root_path, secs);
	fflush(stderr);
	struct timespec ts = {.tv_sec = (time_t)secs};
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

int target_acquire(const struct target_opts *o, struct target *t, char **err)
{
	memset(t, 0, sizeof(*t));
	*err = NULL;
	if (o->root_dir)
		return target_use_directory(o->root_dir, t, err);
	struct scan sc = {.readonly = o->readonly, .own = o->image != NULL, .exclude = o->exclude};
	target_guard_signals(true);
	int rc = target_scan(o, &sc, err);
	struct bdev *d = NULL;
	if (rc == 0) {
		d = target_choose(o, &sc, err);
		rc = d ? 0 : -ENOENT;
	}
	if (rc == 0) {
		/* a btrfs named with --device: find its root subvolume first */
		if (strcmp(d->fstype, "btrfs") == 0 && !d->checked)
			target_check_root(&sc, d, false);
		rc = target_mount_root(&sc, d, t, err);
	}
	if (rc == 0)
		rc = target_mount_fstab(&sc, d, t, err);
	if (rc == 0) {
		t->kind = xstrdup(o->image ? "image" : "device");
		t->device = xstrdup(o->image ? d->origin : d->path);
		t->uuid = d->uuid ? xstrdup(d->uuid) : NULL;
		t->fstype = xstrdup(d->fstype);
		t->private_dir = xstrdup(reg.base);
		for (int i = 0; i < reg.n_loops; i++) {
			char p[PATH_MAX], l[64];
			snprintf(p, sizeof(p), "/proc/self/fd/%d", reg.loops[i]);
			ssize_t n = reg.loops[i] >= 0 ? readlink(p, l, sizeof(l) - 1) : -1;
			if (n > 0) {
				l[n] = '\0';
				strv_push(&t->loops, l);
			}
		}
		for (int i = 0; i < reg.n_vgs; i++)
			if (reg.vgs[i].activated)
				strv_push(&t->vgs, reg.vgs[i].name);
	}
	scan_free(&sc);
	if (rc < 0) {
		/* nothing half-done: what was set up goes now, not at the caller's release, and t
		 * is left empty */
		reg_release();
		target_free(t);
		target_guard_signals(false);
		char *m = *err;
		*err = xasprintf("%s", m ? m : strerror(-rc));
		free(m);
		return rc;
	}
	target_test_pause(t);
	target_guard_signals(false);
	return 0;
}

int target_release(struct target *t)
{
	(void)t;
	return reg_release();
}

struct json_object *target_to_json(const struct target *t)
{
	struct json_object *o = json_object_new_object();
	json_object_object_add(o, "kind", json_object_new_string(t->kind ? t->kind : "none"));
	json_object_object_add(o, "device", t->device ? json_object_new_string(t->device) : NULL);
	json_object_object_add(o, "uuid", t->uuid ? json_object_new_string(t->uuid) : NULL);
	json_object_object_add(o, "fstype", t->fstype ? json_object_new_string(t->fstype) : NULL);
	json_object_object_add(o, "root",
			       t->root_path ? json_object_new_string(t->root_path) : NULL);
	struct json_object *mounts = json_object_new_array();
	for (size_t i = 0; i < t->n_mounts; i++) {
		const struct target_mount *m = &t->mounts[i];
		struct json_object *jm = json_object_new_object();
		json_object_object_add(jm, "source", json_object_new_string(m->source));
		json_object_object_add(jm, "mountpoint", json_object_new_string(m->mountpoint));
		json_object_object_add(jm, "instance_path",
				       json_object_new_string(m->instance_path));
		json_object_object_add(jm, "fstype", json_object_new_string(m->fstype));
		json_object_object_add(jm, "options", json_object_new_string(m->options));
		json_object_array_add(mounts, jm);
	}
	json_object_object_add(o, "mounts", mounts);
	if (t->loops.n) {
		struct json_object *a = json_object_new_array();
		for (size_t i = 0; i < t->loops.n; i++)
			json_object_array_add(a, json_object_new_string(t->loops.v[i]));
		json_object_object_add(o, "loop_devices", a);
	}
	if (t->vgs.n) {
		struct json_object *a = json_object_new_array();
		for (size_t i = 0; i < t->vgs.n; i++)
			json_object_array_add(a, json_object_new_string(t->vgs.v[i]));
		json_object_object_add(o, "volume_groups", a);
	}
	return o;
}

static struct json_object *target_json_str(const char *s)
{
	return s ? json_object_new_string(s) : NULL;
}

/* `discover` over the attached disks, or inside an image (o->image). */
int target_discover(const struct target_opts *o, bool json, char **err)
{
	struct scan sc = {.readonly = true, .exclude = o->exclude};
	struct target_opts ro = *o;
	ro.readonly = true;
	*err = NULL;
	target_guard_signals(true);
	int rc = target_scan(&ro, &sc, err);
	if (rc < 0) {
		scan_free(&sc);
		reg_release();
		target_guard_signals(false);
		return rc;
	}
	struct json_object *arr = json_object_new_array();
	for (size_t i = 0; i < sc.n; i++) {
		struct bdev *d = &sc.v[i];
		if (!target_is_candidate(d))
			continue;
		target_check_root(&sc, d, false);
		if (d->check_err)
			fprintf(stderr, "sshrescue: discover: %s\n", d->check_err);
		if (!d->is_root)
			continue;
		/* an image's partition is known by where it is, not by a loop device now gone */
		const char *dev = o->image ? d->origin : d->path;
		if (json) {
			struct json_object *c = json_object_new_object();
			json_object_object_add(c, "device", target_json_str(dev));
			json_object_object_add(c, "origin", target_json_str(d->origin));
			json_object_object_add(c, "fstype", target_json_str(d->fstype));
			json_object_object_add(c, "uuid", target_json_str(d->uuid));
			json_object_object_add(c, "label", target_json_str(d->label));
			json_object_object_add(c, "partuuid", target_json_str(d->partuuid));
			json_object_object_add(c, "pretty_name", target_json_str(d->pretty));
			json_object_object_add(c, "size", json_object_new_int64((int64_t)d->size));
			json_object_object_add(c, "subvol", target_json_str(d->subvol_opt));
			json_object_object_add(c, "mounted_at", target_json_str(d->mounted_at));
			json_object_array_add(arr, c);
		} else {
			_cleanup_free_ char *size = target_human_size(d->size);
			printf("%s\t%s\t%s\t%s\t%s\t%s\n", dev, d->fstype, d->uuid ? d->uuid : "-",
			       d->label ? d->label : "-", d->pretty ? d->pretty : "-", size);
		}
	}
	if (json) {
		struct json_object *top = json_object_new_object();
		json_object_object_add(top, "candidates", arr);
		printf("%s\n",
		       json_object_to_json_string_ext(top, JSON_C_TO_STRING_PRETTY |
								   JSON_C_TO_STRING_NOSLASHESCAPE));
		json_object_put(top);
	} else {
		json_object_put(arr);
	}
	fflush(stdout);
	for (size_t i = 0; i < sc.notes.n; i++)
		fprintf(stderr, "sshrescue: discover: %s\n", sc.notes.v[i]);
	scan_free(&sc);
	rc = reg_release();
	target_guard_signals(false);
	return rc;
}


void target_free(struct target *t)
{
	free(t->kind);
	free(t->device);
	free(t->uuid);
	free(t->fstype);
	free(t->root_path);
	for (size_t i = 0; i < t->n_mounts; i++) {
		free(t->mounts[i].source);
		free(t->mounts[i].mountpoint);
		free(t->mounts[i].instance_path);
		free(t->mounts[i].fstype);
		free(t->mounts[i].options);
	}
	free(t->mounts);
	strv_free(&t->loops);
	strv_free(&t->vgs);
	free(t->private_dir);
	memset(t, 0, sizeof(*t));
}
