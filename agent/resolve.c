/* resolve.c: openat2() and its userspace emulation for kernels (< 5.6) and valgrind without it.
 *
 * The emulation walks the path one component at a time from a stack of O_PATH directory fds:
 * each component is opened with O_PATH|O_NOFOLLOW in the directory below it and checked with
 * fstat; a symlink is read with readlinkat() and its target put in front of the rest of the
 * path; ".." pops the stack and never goes above its bottom under RESOLVE_IN_ROOT (the
 * emulation never opens ".." by name there, which could leave the root); absolute paths and
 * absolute targets restart from the bottom. The last component is opened with the caller's
 * flags | O_NOFOLLOW in its resolved parent, so nothing after the check follows a symlink.
 *
 * Known differences from the kernel:
 * - Races: the kernel resolves under its own locks and detects a concurrent rename that moves a
 *   directory out of the root. Here a directory renamed while it is on the stack is still used
 *   (the fd follows it), and a last component swapped between its check and its open is only
 *   caught when it became a symlink (-EAGAIN, as the kernel does on a detected race). The
 *   instances we open are offline disks that nothing else writes, and the worst outcome is a
 *   file of the instance reached by another path, never one of the host.
 * - Magic links (/proc/PID/fd/N, /proc/PID/exe...) are read as text with readlinkat() like any
 *   symlink and that text is resolved inside the root, so they are never traversed magically
 *   (RESOLVE_NO_MAGICLINKS is always in effect). Where the kernel returns -ELOOP for one, the
 *   emulation resolves its text: the result is the file of that name in the root, if any.
 * - Unknown open flag bits are refused with -EINVAL like the kernel, by glibc's list of flags;
 *   on 64-bit targets where glibc's O_LARGEFILE is 0, the kernel's O_LARGEFILE bit is refused
 *   (the kernel accepts it and sets it anyway).
 * - RESOLVE_NO_XDEV is refused (-EINVAL): st_dev cannot see bind mounts, and an unenforced
 *   restriction is worse than an error. RESOLVE_CACHED always gives -EAGAIN (the caller then
 *   retries without it, as it must on any cache miss).
 * - Paths deeper than RESOLVE_MAX_DEPTH directories fail with -ENAMETOOLONG. */
#include "resolve.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "util.h"

#ifndef SYS_openat2
#define SYS_openat2 437
#endif

/* valgrind 3.19 answers openat2 with ENOSYS and a warning in its log, which the test runner
 * counts as a report: under valgrind the emulation is used without asking. */
#if defined(__has_include) && !defined(__CPPCHECK__)
#if __has_include(<valgrind/valgrind.h>)
#include <valgrind/valgrind.h>
#define RESOLVE_UNDER_VALGRIND() (RUNNING_ON_VALGRIND != 0)
#endif
#endif
#ifndef RESOLVE_UNDER_VALGRIND
#define RESOLVE_UNDER_VALGRIND() false
#endif

/* The kernel's MAXSYMLINKS: the 41st symlink followed in one resolution is -ELOOP. */
#define RESOLVE_MAX_SYMLINKS 40
#define RESOLVE_KNOWN                                                                              \
	((uint64_t)(RESOLVE_NO_XDEV | RESOLVE_NO_MAGICLINKS | RESOLVE_NO_SYMLINKS |                \
		    RESOLVE_BENEATH | RESOLVE_IN_ROOT | RESOLVE_CACHED))
#define OPEN_KNOWN                                                                                 \
	((uint64_t)(O_ACCMODE | O_CREAT | O_EXCL | O_NOCTTY | O_TRUNC | O_APPEND | O_NONBLOCK |    \
		    O_DSYNC | FASYNC | O_DIRECT | O_LARGEFILE | O_DIRECTORY | O_NOFOLLOW |         \
		    O_NOATIME | O_CLOEXEC | O_SYNC | O_PATH | O_TMPFILE))
#define OPEN_PATH_ALLOWED ((uint64_t)(O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC))
/* O_TMPFILE is __O_TMPFILE | O_DIRECTORY: this is the bit of its own */
#define OPEN_TMPFILE_BIT ((uint64_t)(O_TMPFILE & ~O_DIRECTORY))

/* 0: not known yet; 1: the kernel has openat2; -1: it does not, emulate. */
static int openat2_state;

/* The checks openat2 makes on struct open_how before resolving anything (fs/open.c
 * build_open_flags), so that the emulation fails the same calls. */
static int resolve_check_how(const struct open_how *how)
{
	uint64_t f = how->flags;
	bool tmpfile = f & OPEN_TMPFILE_BIT;
	if (f & ~OPEN_KNOWN)
		return -EINVAL;
	if ((f & O_CREAT) || tmpfile) {
		if (how->mode & ~(uint64_t)07777)
			return -EINVAL;
	} else if (how->mode) {
		return -EINVAL;
	}
	if (how->resolve & ~RESOLVE_KNOWN)
		return -EINVAL;
	if ((how->resolve & RESOLVE_BENEATH) && (how->resolve & RESOLVE_IN_ROOT))
		return -EINVAL;
	if ((f & O_PATH) && (f & ~OPEN_PATH_ALLOWED))
		return -EINVAL;
	if (tmpfile &&
	    ((f & (O_TMPFILE | O_CREAT)) != (uint64_t)O_TMPFILE || (f & O_ACCMODE) == O_RDONLY))
		return -EINVAL;
	if ((f & (O_CREAT | O_DIRECTORY)) == (uint64_t)(O_CREAT | O_DIRECTORY))
		return -EINVAL;
	if ((how->resolve & RESOLVE_CACHED) && ((f & (O_TRUNC | O_CREAT)) || tmpfile))
		return -EAGAIN;
	return 0;
}

/* The fd, which the caller's _cleanup_close_ variable no longer closes. */
static int fd_take(int *fd)
{
	int r = *fd;
	*fd = -1;
	return r;
}

struct walk {
	/* fd[0]: the root (where resolution started); fd[n - 1]: the current directory */
	int fd[RESOLVE_MAX_DEPTH];
	size_t n;
	uint64_t resolve;
	const char *path; /* what remains to resolve: the caller's path or owned */
	char *owned;	  /* a symlink's target followed by the rest of the path */
	unsigned links;	  /* symlinks followed so far */
};

static void walk_free(struct walk *w)
{
	while (w->n > 0)
		close(w->fd[--w->n]);
	free(w->owned);
	w->owned = NULL;
}

/* An absolute path or symlink target: back to the root, or to "/" when not confined. */
static int walk_absolute(struct walk *w)
{
	if (w->resolve & RESOLVE_BENEATH)
		return -EXDEV;
	if ((w->resolve & RESOLVE_IN_ROOT) && w->n > 0) {
		while (w->n > 1)
			close(w->fd[--w->n]);
		return 0;
	}
	int fd = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	while (w->n > 0)
		close(w->fd[--w->n]);
	w->fd[w->n++] = fd;
	return 0;
}

static int walk_dotdot(struct walk *w)
{
	if (w->n > 1) {
		close(w->fd[--w->n]);
		return 0;
	}
	if (w->resolve & RESOLVE_IN_ROOT)
		return 0; /* "/.." is "/" */
	if (w->resolve & RESOLVE_BENEATH)
		return -EXDEV;
	/* not confined (RESOLVE_NO_SYMLINKS alone): above the start, as openat() goes */
	int fd = openat(w->fd[0], "..", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	close(w->fd[0]);
	w->fd[0] = fd;
	return 0;
}

/* The path becomes the target of the symlink linkfd followed by rest (which starts with the
 * slashes after the symlink's name, so a trailing slash still asks for a directory). */
static int walk_follow(struct walk *w, int linkfd, const char *rest)
{
	if (w->resolve & RESOLVE_NO_SYMLINKS)
		return -ELOOP;
	if (++w->links > RESOLVE_MAX_SYMLINKS)
		return -ELOOP;
	char target[PATH_MAX];
	ssize_t len = readlinkat(linkfd, "", target, sizeof(target));
	if (len < 0)
		return -errno;
	if ((size_t)len == sizeof(target))
		return -ENAMETOOLONG;
	if (len == 0)
		return -ENOENT; /* as the kernel does for an empty symlink */
	size_t rest_len = strlen(rest);
	char *path = xmalloc((size_t)len + rest_len + 1);
	memcpy(path, target, (size_t)len);
	memcpy(path + len, rest, rest_len + 1);
	free(w->owned); /* rest may point into it: copied above */
	w->owned = path;
	w->path = path;
	return target[0] == '/' ? walk_absolute(w) : 0;
}

/* The last component, with the caller's flags. follow: the caller wanted a symlink here
 * followed, and the check found none; one now is a concurrent change, -EAGAIN. */
static int walk_open_last(struct walk *w, const char *name, int flags, mode_t mode, bool follow)
{
	int fd = openat(w->fd[w->n - 1], name, flags | O_NOFOLLOW, mode);
	if (fd < 0)
		return follow && errno == ELOOP ? -EAGAIN : -errno;
	if (follow && (flags & O_PATH)) {
		struct stat st;
		if (fstat(fd, &st) < 0 || S_ISLNK(st.st_mode)) {
			close(fd);
			return -EAGAIN;
		}
	}
	return fd;
}

static int walk_run(struct walk *w, int flags, mode_t mode)
{
	const bool create = flags & O_CREAT;
	/* with O_CREAT|O_EXCL a final symlink is never followed (open(2)) */
	const bool follow = !(flags & O_NOFOLLOW) && !(create && (flags & O_EXCL));
	size_t pos = 0;
	int rc;
	for (;;) {
		const char *p = w->path;
		while (p[pos] == '/')
			pos++;
		/* ended on "/", ".", ".." or a directory with a trailing slash: open it */
		if (!p[pos])
			return walk_open_last(w, ".", flags, mode, false);
		size_t len = strcspn(p + pos, "/");
		if (len > NAME_MAX)
			return -ENAMETOOLONG;
		char name[NAME_MAX + 1];
		memcpy(name, p + pos, len);
		name[len] = '\0';
		size_t end = pos + len, next = end;
		while (p[next] == '/')
			next++;
		const bool last = !p[next], slash = next != end;
		pos = next;
		if (!strcmp(name, "."))
			continue;
		if (!strcmp(name, "..")) {
			if ((rc = walk_dotdot(w)) < 0)
				return rc;
			continue;
		}
		/* "name/" cannot be created (checked before the lookup, as the kernel does) */
		if (last && slash && create)
			return -EISDIR;
		_cleanup_close_ int fd =
			openat(w->fd[w->n - 1], name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0) {
			if (errno == ENOENT && last && create)
				return walk_open_last(w, name, flags, mode, follow);
			return -errno;
		}
		struct stat st;
		if (fstat(fd, &st) < 0)
			return -errno;
		if (S_ISLNK(st.st_mode) && (!last || slash || follow)) {
			if ((rc = walk_follow(w, fd, p + end)) < 0)
				return rc;
			pos = 0;
			continue;
		}
		if (last && !slash)
			return walk_open_last(w, name, flags, mode, follow);
		if (!S_ISDIR(st.st_mode))
			return -ENOTDIR;
		if (w->n == RESOLVE_MAX_DEPTH)
			return -ENAMETOOLONG;
		w->fd[w->n++] = fd_take(&fd);
	}
}

int resolve_openat2_emulated(int dirfd, const char *path, const struct open_how *how)
{
	int rc = resolve_check_how(how);
	if (rc < 0)
		return rc;
	if (!path)
		return -EFAULT;
	size_t path_len = strnlen(path, PATH_MAX);
	if (path_len == 0)
		return -ENOENT;
	if (path_len == PATH_MAX)
		return -ENAMETOOLONG;
	if (how->resolve & RESOLVE_NO_XDEV)
		return -EINVAL;
	if (how->resolve & RESOLVE_CACHED)
		return -EAGAIN;
	int flags = (int)how->flags | O_CLOEXEC;
	mode_t mode = (mode_t)how->mode;
	if (!how->resolve) {
		int fd = openat(dirfd, path, flags, mode);
		return fd < 0 ? -errno : fd;
	}

	struct walk w = {.resolve = how->resolve, .path = path};
	if (path[0] == '/' && !(how->resolve & (RESOLVE_IN_ROOT | RESOLVE_BENEATH))) {
		rc = walk_absolute(&w); /* dirfd is ignored, as by openat() */
	} else {
		int fd = openat(dirfd, ".", O_PATH | O_DIRECTORY | O_CLOEXEC);
		if (fd < 0)
			return -errno;
		w.fd[w.n++] = fd;
		rc = path[0] == '/' ? walk_absolute(&w) : 0;
	}
	if (rc >= 0)
		rc = walk_run(&w, flags, mode);
	walk_free(&w);
	return rc;
}

static int resolve_syscall(int dirfd, const char *path, const struct open_how *how)
{
	long fd = syscall(SYS_openat2, dirfd, path, how, sizeof(*how));
	return fd < 0 ? -errno : (int)fd;
}

/* Container runtimes with an older seccomp profile answer unknown system calls with EPERM:
 * opening "/" with O_PATH cannot be refused otherwise. */
static bool resolve_kernel_refuses_openat2(void)
{
	struct open_how how = {.flags = O_PATH | O_CLOEXEC};
	int fd = resolve_syscall(AT_FDCWD, "/", &how);
	if (fd >= 0)
		close(fd);
	return fd == -ENOSYS || fd == -EPERM;
}

int resolve_openat2(int dirfd, const char *path, const struct open_how *how)
{
	int state = __atomic_load_n(&openat2_state, __ATOMIC_RELAXED);
	if (state == 0 && RESOLVE_UNDER_VALGRIND()) {
		state = -1;
		__atomic_store_n(&openat2_state, state, __ATOMIC_RELAXED);
	}
	if (state < 0)
		return resolve_openat2_emulated(dirfd, path, how);
	struct open_how h = *how;
	h.flags |= O_CLOEXEC;
	int fd = resolve_syscall(dirfd, path, &h);
	/* ENOSYS is never an answer of openat itself; EPERM can be, so it is checked once */
	if (fd == -ENOSYS || (fd == -EPERM && state == 0 && resolve_kernel_refuses_openat2())) {
		__atomic_store_n(&openat2_state, -1, __ATOMIC_RELAXED);
		return resolve_openat2_emulated(dirfd, path, how);
	}
	if (state == 0)
		__atomic_store_n(&openat2_state, 1, __ATOMIC_RELAXED);
	return fd;
}
