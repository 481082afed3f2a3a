/* compat.h: what glibc has and musl (the static build: make static) has not. Included first
 * in every file of a STATIC=1 build (-include). */
#ifndef SSHRESCUE_COMPAT_H
#define SSHRESCUE_COMPAT_H

#include <string.h>

#if !defined(__GLIBC__)
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
#endif

#endif
