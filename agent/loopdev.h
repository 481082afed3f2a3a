/* loopdev.h: attaching a byte range of a file or block device to a loop device with the
 * kernel's own ioctls (LOOP_CONFIGURE, or LOOP_SET_FD + LOOP_SET_STATUS64 before Linux 5.8).
 * Partitions are attached one loop device each, with offset and size limit, so nothing relies
 * on the kernel's partition scanning (some kernels have none). Used by the target modules only (agent/target/). */
#ifndef SSHRESCUE_LOOPDEV_H
#define SSHRESCUE_LOOPDEV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Open a free loop device (LOOP_CTL_GET_FREE on /dev/loop-control); its node's path goes to
 * path[size]. Returns the open fd (O_CLOEXEC), or -errno. */
int loopdev_open_free(char *path, size_t size);
/* Bind backing_fd's bytes [offset, offset+size) (size 0: to the end) to the open loop device,
 * with autoclear (the kernel detaches it when the last user goes, even if we are killed) and
 * read-only if asked. name is shown by losetup. -EBUSY: somebody else took the device first
 * (open another one and retry). */
int loopdev_configure(int loop_fd, int backing_fd, uint64_t offset, uint64_t size, bool readonly,
		      const char *name);
/* Detach now (LOOP_CLR_FD). Only syscalls: safe in a signal handler. */
int loopdev_clear(int loop_fd);

#endif
