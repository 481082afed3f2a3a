/* loopdev.c: loop devices through the kernel's ioctls; see loopdev.h. */
#include "loopdev.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/loop.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "util.h"

int loopdev_open_free(char *path, size_t size)
{
	_cleanup_close_ int ctl = open("/dev/loop-control", O_RDWR | O_CLOEXEC);
	if (ctl < 0)
		return -errno;
	int n = ioctl(ctl, LOOP_CTL_GET_FREE);
	if (n < 0)
		return -errno;
	snprintf(path, size, "/dev/loop%d", n);
	/* devtmpfs makes the node when the device is added; without udev it may lag a moment. */
	for (int tries = 0; tries < 50; tries++) {
		int fd = open(path, O_RDWR | O_CLOEXEC);
		if (fd >= 0)
			return fd;
		if (errno != ENOENT)
			return -errno;
		usleep(10000);
	}
	return -ENOENT;
}

static void loopdev_fill_info(struct loop_info64 *info, uint64_t offset, uint64_t size,
			      const char *name)
{
	memset(info, 0, sizeof(*info));
	info->lo_offset = offset;
	info->lo_sizelimit = size;
	if (name)
		snprintf((char *)info->lo_file_name, sizeof(info->lo_file_name), "%s", name);
}

int loopdev_configure(int loop_fd, int backing_fd, uint64_t offset, uint64_t size, bool readonly,
		      const char *name)
{
	struct loop_config cfg = {.fd = (uint32_t)backing_fd};
	loopdev_fill_info(&cfg.info, offset, size, name);
	cfg.info.lo_flags = LO_FLAGS_AUTOCLEAR | (readonly ? LO_FLAGS_READ_ONLY : 0);
	if (ioctl(loop_fd, LOOP_CONFIGURE, &cfg) == 0)
		return 0;
	if (errno != EINVAL && errno != ENOTTY)
		return -errno;
	/* Before Linux 5.8: two steps. Read-only then comes from the backing fd's mode. */
	if (ioctl(loop_fd, LOOP_SET_FD, backing_fd) < 0)
		return -errno;
	struct loop_info64 info;
	loopdev_fill_info(&info, offset, size, name);
	info.lo_flags = LO_FLAGS_AUTOCLEAR;
	if (ioctl(loop_fd, LOOP_SET_STATUS64, &info) < 0) {
		int rc = -errno;
		ioctl(loop_fd, LOOP_CLR_FD, 0);
		return rc;
	}
	return 0;
}

int loopdev_clear(int loop_fd)
{
	if (ioctl(loop_fd, LOOP_CLR_FD, 0) < 0 && errno != ENXIO)
		return -errno;
	return 0;
}
