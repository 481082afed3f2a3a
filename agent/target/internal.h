/* internal.h: what the target modules share (agent/target/): the release registry, the
 * devices a scan found, and the helpers one module gives another. Not for the rest of agent/:
 * target.h is the interface. */
#ifndef SSHRESCUE_TARGET_INTERNAL_H
#define SSHRESCUE_TARGET_INTERNAL_H

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
static const char *const target_root_fstypes[] __attribute__((unused)) = {
	"ext4", "ext3", "ext2", "xfs", "btrfs", "f2fs", "jfs", "reiserfs", "nilfs2", "bcachefs",
};

#define TARGET_RUN_DIR "/run/sshrescue"
#define OS_RELEASE_MAX (64u << 10)
#define FSTAB_MAX (1u << 20)
#define BTRFS_SUBVOL_INO 256 /* BTRFS_FIRST_FREE_OBJECTID: the root directory of a subvolume */

/* ---- the release registry (registry.c) ---- */

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

struct registry {
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
};
extern struct registry reg;

/* ---- block devices (blockdev.c) ---- */

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
	size_t n;
	bool readonly;
	bool own; /* every device is the instance's (--image): probed read-write in repair */
	struct strv notes; /* devices skipped and why; shown when no root is found */
	dev_t *excluded;
	size_t n_excluded;
	dev_t root_devno;
	const char *exclude; /* --exclude SPEC */
};

typedef int (*partition_cb)(void *arg, blkid_partition par);

/* blockdev.c */
void bdev_free(struct bdev *d);
int bdev_probe(struct bdev *d, int fd, uint64_t off, uint64_t size, partition_cb cb, void *arg);
struct bdev *scan_add(struct scan *sc);
void scan_free(struct scan *sc);
int scan_image(struct scan *sc, const char *image, char **err);
bool scan_is_excluded(const struct scan *sc, dev_t d);
int scan_system(struct scan *sc, char **err);
int target_cmp_names(const void *a, const void *b);

/* choose.c */
bool bdev_matches(const struct bdev *d, const char *spec);
size_t scan_match(struct scan *sc, const char *spec, struct bdev **out);
void target_describe(struct buf *b, const struct bdev *d);
bool target_is_candidate(const struct bdev *d);

/* inroot.c */
char *target_dm_name(const char *vg, const char *lv);
bool target_fstype_is_root(const char *fstype);
bool target_is_regular_in_root(int rootfd, const char *path);
int target_openat2(int dirfd, const char *path, int flags);
char *target_os_release_name(const char *buf, size_t len);
int target_parse_devno(const char *s, dev_t *d);
int target_read_in_root(int rootfd, const char *path, size_t max, char **data, size_t *len);
char *target_sysfs_read(const char *path);

/* lvm.c */
int scan_lvm(struct scan *sc);

/* mount.c */
int target_check_root(struct scan *sc, struct bdev *d, bool keep);
int target_dir_for(struct bdev *d, char *dir, size_t size);
int target_fstab_load(int rootfd, struct libmnt_table **out);
bool target_has_root_markers(int rootfd, char **pretty);
int target_mount(const char *src, const char *what, const char *dir, const char *fstype,
		 const char *opts, int *slot, char **err);
char *target_mount_options(const struct scan *sc, const struct bdev *d, bool probe,
			   const char *extra);
char *target_mount_reason(const char *msg, int sys);

/* registry.c */
void reg_barrier(void);
int reg_begin(char **err);
int reg_mkdir(const char *name, char *out, size_t size);
int reg_mount_begin(const char *path);
void reg_mount_end(int i, bool mounted);
int reg_release(void);
int reg_unmount(int i);

#endif
