/* resolve.h: openat2() with a userspace fallback, for kernels older than 5.6 (RHEL 8 rescue
 * images run 4.18) and for valgrind, which does not know the system call. The fallback walks
 * the path one component at a time with the same RESOLVE_IN_ROOT rules, so a symlink or ".."
 * of the instance never leads out of its root on either path. */
#ifndef SSHRESCUE_RESOLVE_H
#define SSHRESCUE_RESOLVE_H

#include <linux/openat2.h>

/* Most directories open at once during one emulated resolution: a path deeper than this (after
 * symlinks and "..") fails with -ENAMETOOLONG, where the kernel has no limit. */
#define RESOLVE_MAX_DEPTH 256

/* openat2() with the given struct open_how; when the kernel (or valgrind) has no openat2
 * (ENOSYS, or EPERM from a seccomp filter that does not know it), the same resolution done in
 * userspace, one component at a time. That is remembered: later calls go straight to the
 * emulation. -errno or fd. */
int resolve_openat2(int dirfd, const char *path, const struct open_how *how);

/* The userspace resolution alone (for tests, and used by resolve_openat2 without openat2).
 * Supports RESOLVE_IN_ROOT, RESOLVE_BENEATH, RESOLVE_NO_SYMLINKS, RESOLVE_NO_MAGICLINKS and
 * RESOLVE_CACHED (always -EAGAIN: nothing is cached here, the caller retries without it);
 * RESOLVE_NO_XDEV is refused with -EINVAL rather than silently not enforced. The fd is always
 * O_CLOEXEC. -errno or fd. */
int resolve_openat2_emulated(int dirfd, const char *path, const struct open_how *how);

#endif
