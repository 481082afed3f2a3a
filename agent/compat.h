/* compat.h: what glibc has and musl (the static build: make static) has not. Included first
 * in every file of a STATIC=1 build (-include). */
#ifndef SSHRESCUE_COMPAT_H
#define SSHRESCUE_COMPAT_H

#include <string.h>

#if !defined(__GLIBC__)
/* struct statx and its STATX_* (below): the kernel's header before musl's sys/stat.h, which
 * then defines the S_I* macros again, quietly, being a system header */
#include <linux/stat.h>
#include <sys/stat.h>

/* musl's strerror is a table lookup: as safe in a signal handler as glibc's strerrordesc_np */
static inline const char *strerrordesc_np(int e)
{
	return strerror(e);
}

/* musl's headers define some of the kernel's constants too, spaced otherwise, and GCC warns
 * when the kernel's header defines them again: musl's first, then the kernel's, once. */
#include <limits.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#undef NGROUPS_MAX
#undef _IO
#undef _IOC
#undef _IOR
#undef _IOW
#undef _IOWR
#undef BLKROSET
#undef BLKROGET
#undef BLKRRPART
#undef BLKGETSIZE
#undef BLKFLSBUF
#undef BLKRASET
#undef BLKRAGET
#undef MS_MGC_VAL
#undef MS_NOUSER
#undef MS_RMT_MASK
#include <linux/fs.h>
#include <linux/ioctl.h>
#include <linux/limits.h>

/* statx(2): musl has its wrapper from 1.2.5 on (Debian 12 ships 1.2.3); the kernel's call and
 * struct meanwhile. */
#include <fcntl.h>
#include <sys/syscall.h>
#include <unistd.h>
#ifndef STATX_MNT_ID
#define STATX_MNT_ID 0x00001000U
#endif
static inline int statx(int dirfd, const char *path, int flags, unsigned mask, struct statx *buf)
{
	return (int)syscall(SYS_statx, dirfd, path, flags, mask, buf);
}
#endif

#endif
