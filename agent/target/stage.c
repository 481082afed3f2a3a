/* stage.c: the instance staged for the sandbox (stage.h). */
#include "target/stage.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/mount.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

/* Is / of this mount namespace the kernel's initial rootfs (the rescue image runs from its
 * initramfs)? The last mount on / in mountinfo is the one seen. */
static bool root_is_rootfs(void)
{
	FILE *f = fopen("/proc/self/mountinfo", "re");
	if (!f)
		return false;
	char line[4096], mp[4096];
	bool r = false;
	while (fgets(line, sizeof(line), f)) {
		const char *dash = strstr(line, " - ");
		if (dash && sscanf(line, "%*s %*s %*s %*s %4095s", mp) == 1 && !strcmp(mp, "/"))
			r = strncmp(dash + 3, "rootfs ", 7) == 0;
	}
	fclose(f);
	return r;
}

/* bwrap pivot_root()s, which the kernel refuses when / is the initial rootfs: C's root becomes
 * a bind mount of it, as switch_root does (in C's private namespace only). */
static int leave_rootfs(void)
{
	if (!root_is_rootfs())
		return 0;
	if (mount("sshrescue-newroot", STAGE, "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755,size=4k") <
		    0 ||
	    mkdir(STAGE "/newroot", 0755) < 0 ||
	    mount("/", STAGE "/newroot", "none", MS_BIND | MS_REC, NULL) < 0 ||
	    chdir(STAGE "/newroot") < 0 || mount(".", "/", "none", MS_MOVE, NULL) < 0 ||
	    chroot(".") < 0 || chdir("/") < 0)
		return -errno;
	return 0;
}

/* The staging tmpfs and its directories. */
static int stage_dirs(void)
{
	if (mount("sshrescue-sandbox", STAGE, "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755,size=64k") <
		    0 ||
	    mkdir(STAGE_ROOT, 0755) < 0 || mkdir(STAGE_SCRATCH, 0755) < 0 ||
	    mkdir(STAGE_ETC_SSH, 0755) < 0)
		return -errno;
	return 0;
}

/* Kernels before the new mount API (open_tree 5.2, mount_setattr 5.12) and valgrind: a
 * recursive bind, then every mount in it made read-only, nosuid, nodev one by one (a bind
 * mount's flags are its own); no id-mapping, so /etc/ssh is copied for U. */
static int stage_instance_legacy(int rfd, int *stage, bool *copied)
{
	*stage = ST_MOUNT;
	*copied = true;
	char src[64];
	snprintf(src, sizeof(src), "/proc/self/fd/%d", rfd);
	if (stage_dirs() < 0 || mount(src, STAGE_ROOT, "none", MS_BIND | MS_REC, NULL) < 0)
		return -errno;
	FILE *f = fopen("/proc/self/mountinfo", "re");
	if (!f)
		return -errno;
	char line[4096], mp[4096];
	int rc = 0;
	size_t n = strlen(STAGE_ROOT);
	while (rc == 0 && fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%*s %*s %*s %*s %4095s", mp) != 1 || strncmp(mp, STAGE_ROOT, n) ||
		    (mp[n] && mp[n] != '/'))
			continue;
		/* mountinfo escapes blanks as \040: such a mount point is not remounted, so none
		 * may stay writable: refuse */
		if (strchr(mp, '\\'))
			rc = -EINVAL;
		else if (mount("none", mp, "none",
			       MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV, NULL) < 0)
			rc = -errno;
	}
	fclose(f);
	if (rc == 0)
		*stage = ST_OK;
	return rc;
}

/* The instance tree at root, read-only, nosuid, nodev, attached at STAGE_ROOT on a fresh
 * tmpfs at STAGE (in C's private mount namespace). Id-mapped through userns_fd where the
 * filesystem allows it (ext4, xfs, btrfs: every real disk), so that root's files are U's;
 * where it does not (overlayfs, NFS) *copied says /etc/ssh must be copied for U. */
int target_stage_instance(const char *root, int root_fd, int userns_fd, int *stage, bool *copied)
{
	*stage = ST_MOUNT;
	*copied = false;
	if (unshare(CLONE_NEWNS) < 0 || mount("none", "/", "none", MS_REC | MS_PRIVATE, NULL) < 0)
		return -errno;
	/* held before anything is mounted over its path (the stage is on /tmp) */
	int rfd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (rfd < 0)
		return -errno;
	/* the path must still name the directory the caller works on */
	struct stat sa, sb;
	if (root_fd > 0 && (fstat(rfd, &sa) < 0 || fstat(root_fd, &sb) < 0 ||
			    sa.st_dev != sb.st_dev || sa.st_ino != sb.st_ino)) {
		errno = EXDEV;
		return -errno;
	}
	if (leave_rootfs() < 0)
		return -errno;
	*stage = ST_IDMAP;
	int t = (int)syscall(SYS_open_tree, rfd, "",
			     AT_EMPTY_PATH | OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_RECURSIVE);
	if (t < 0 && errno == ENOSYS)
		return stage_instance_legacy(rfd, stage, copied);
	if (t < 0)
		return -errno;
	struct mount_attr a = {
		.attr_set =
			MOUNT_ATTR_IDMAP | MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV,
		.userns_fd = (uint64_t)userns_fd,
	};
	if (syscall(SYS_mount_setattr, t, "", AT_EMPTY_PATH | AT_RECURSIVE, &a, sizeof(a)) < 0) {
		if (errno == ENOSYS) {
			close(t);
			return stage_instance_legacy(rfd, stage, copied);
		}
		a.attr_set &= ~(uint64_t)MOUNT_ATTR_IDMAP;
		a.userns_fd = 0;
		if (syscall(SYS_mount_setattr, t, "", AT_EMPTY_PATH | AT_RECURSIVE, &a, sizeof(a)) <
		    0) {
			int rc = -errno;
			close(t);
			return rc;
		}
		*copied = true;
	}
	*stage = ST_MOUNT;
	if (stage_dirs() < 0 ||
	    syscall(SYS_move_mount, t, "", AT_FDCWD, STAGE_ROOT, MOVE_MOUNT_F_EMPTY_PATH) < 0) {
		int rc = -errno;
		close(t);
		return rc;
	}
	close(t);
	*stage = ST_OK;
	return 0;
}

int target_stage_tmpfs(const char *path, const char *name, const char *opts)
{
	return mount(name, path, "tmpfs", MS_NOSUID | MS_NODEV, opts) < 0 ? -errno : 0;
}
