/* lock.c: one run per instance at a time (lock.h). flock() on a file of the host: released
 * by the kernel when the process ends, however it ends, so a killed run never leaves a stale
 * lock behind; the file's text (pid, command, start) only names the holder for the message. */
#include "lock.h"
#include "util.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <time.h>

char *lock_key_of_target(const char *root_dir, const char *image, const char *device)
{
	struct stat st;
	if (root_dir)
		return stat(root_dir, &st) == 0
			       ? xasprintf("root-%llu:%llu", (unsigned long long)st.st_dev,
					   (unsigned long long)st.st_ino)
			       : NULL;
	if (image)
		return stat(image, &st) == 0 && S_ISREG(st.st_mode)
			       ? xasprintf("image-%llu:%llu", (unsigned long long)st.st_dev,
					   (unsigned long long)st.st_ino)
			       : NULL;
	if (device && device[0] == '/' && stat(device, &st) == 0 && S_ISBLK(st.st_mode))
		return xasprintf("blk-%u:%u", major(st.st_rdev), minor(st.st_rdev));
	return NULL;
}

char *lock_key_of_root(const char *root_path)
{
	struct stat st;
	if (stat(root_path, &st) < 0)
		return NULL;
	return xasprintf("blk-%u:%u", major(st.st_dev), minor(st.st_dev));
}

/* LOCK_DIR, made 0700 when absent; refused when it is not a directory of root's (a symlink
 * planted there would move the lock, and with it the file we write the holder into). */
static int lock_dir(void)
{
	if (mkdir("/run", 0755) < 0 && errno != EEXIST)
		return -errno;
	if (mkdir(LOCK_DIR, 0700) < 0 && errno != EEXIST)
		return -errno;
	int fd = open(LOCK_DIR, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	struct stat st;
	if (fstat(fd, &st) < 0 || st.st_uid != geteuid() || (st.st_mode & 022)) {
		close(fd);
		return -EPERM;
	}
	return fd;
}

static char *read_holder(int fd)
{
	char buf[256];
	ssize_t n = pread(fd, buf, sizeof(buf) - 1, 0);
	if (n <= 0)
		return xstrdup("another run");
	buf[n] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
	return xstrdup(buf);
}

/* Is fd still the file named name in dfd? A run that ends unlinks its lock file while it
 * holds the lock; a waiter that then gets the lock on the unlinked file starts again. */
static bool still_named(int dfd, const char *name, int fd)
{
	struct stat a, b;
	return fstat(fd, &a) == 0 && fstatat(dfd, name, &b, AT_SYMLINK_NOFOLLOW) == 0 &&
	       a.st_dev == b.st_dev && a.st_ino == b.st_ino;
}

/* Lock files of runs that were killed (SIGKILL cannot unlink): whichever is not locked is
 * removed, under its lock, as a run that ends removes its own. A few per run: they cost
 * nothing but a name. */
static void sweep(int dfd, const char *keep)
{
	int fd = openat(dfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
	if (!d) {
		if (fd >= 0)
			close(fd);
		return;
	}
	int n = 0;
	for (struct dirent *e; n < 16 && (e = readdir(d));) {
		if (strncmp(e->d_name, "lock.", 5) || !strcmp(e->d_name, keep))
			continue;
		int lfd = openat(dfd, e->d_name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
		if (lfd < 0)
			continue;
		if (flock(lfd, LOCK_EX | LOCK_NB) == 0 && still_named(dfd, e->d_name, lfd)) {
			unlinkat(dfd, e->d_name, 0);
			n++;
		}
		close(lfd);
	}
	closedir(d);
}

int lock_take(struct run_lock *l, char *key, const char *command, char **holder)
{
	l->fd = -1;
	l->key = key;
	*holder = NULL;
	_cleanup_close_ int dfd = lock_dir();
	if (dfd < 0)
		return dfd;
	_cleanup_free_ char *keep = xasprintf("lock.%s", key);
	sweep(dfd, keep);
	_cleanup_free_ char *name = xasprintf("lock.%s", key);
	int fd = -1;
	for (int waited = 0;;) {
		if (fd < 0) {
			fd = openat(dfd, name, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
			if (fd < 0)
				return -errno;
			struct stat st;
			if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_nlink != 1) {
				close(fd);
				return -EPERM;
			}
		}
		if (flock(fd, LOCK_EX | LOCK_NB) == 0) {
			if (still_named(dfd, name, fd))
				break;
			close(fd); /* the holder ended and unlinked it: the next file */
			fd = -1;
			continue;
		}
		if (errno != EWOULDBLOCK && errno != EINTR) {
			int rc = -errno;
			close(fd);
			return rc;
		}
		if (waited >= LOCK_WAIT_MS) {
			*holder = read_holder(fd);
			close(fd);
			return -EBUSY;
		}
		usleep(100 * 1000);
		waited += 100;
	}
	char when[32] = "";
	time_t now = time(NULL);
	struct tm tm;
	if (gmtime_r(&now, &tm))
		strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S UTC", &tm);
	_cleanup_free_ char *text =
		xasprintf("pid %d, %s, since %s\n", (int)getpid(), command, when);
	if (ftruncate(fd, 0) == 0 && pwrite(fd, text, strlen(text), 0) < 0) {
		/* the holder's words are only for the message of a second run */
	}
	l->fd = fd;
	return 0;
}

void lock_release(struct run_lock *l)
{
	if (l->fd >= 0) {
		/* unlinked while held, so that no lock file outlives the run; a waiter that
		 * locked this very file sees it unnamed and opens the next */
		int dfd = open(LOCK_DIR, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		_cleanup_free_ char *name = xasprintf("lock.%s", l->key);
		if (dfd >= 0 && still_named(dfd, name, l->fd))
			unlinkat(dfd, name, 0);
		if (dfd >= 0)
			close(dfd);
		close(l->fd);
	}
	l->fd = -1;
	free(l->key);
	l->key = NULL;
}
