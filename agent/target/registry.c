/* registry.c: the release registry: every mount, loop, directory, image file and VG the run sets
 * up, recorded before each step, and its release with syscalls only (callable from a signal
 * handler). */
#include "target.h"
#include "target/internal.h"

/* The release registry: fixed arrays, written before each step so a signal at any point finds
 * everything that may need undoing. */
struct registry reg;

void reg_barrier(void)
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
		if (rc == -EBUSY && umount2(reg.mounts[i].path, MNT_DETACH | UMOUNT_NOFOLLOW) == 0)
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
int reg_release(void)
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
int reg_mount_begin(const char *path)
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

void reg_mount_end(int i, bool mounted)
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
int reg_unmount(int i)
{
	int rc = reg_unmount_one(i);
	while (reg.n_mounts > 0 && reg.mounts[reg.n_mounts - 1].state == REG_FREE)
		reg.n_mounts--;
	return rc;
}

/* A directory under our base, removed on release. */
int reg_mkdir(const char *name, char *out, size_t size)
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
int reg_begin(char **err)
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
