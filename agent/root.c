/* root.c: the only module that opens, replaces, backs up and restores files of the instance.
 * Every path is resolved with openat2(RESOLVE_IN_ROOT) against the root's directory fd, so
 * absolute symlinks and ".." stay inside the instance. Files are replaced by rename of a fully
 * written temporary file, on disk before the rename (root_commit(): one syncfs per filesystem
 * for a whole batch), never written in place: a crash leaves either the original or the new
 * version, and a hard link to a file outside the root is never written through. */
#include "root.h"
#include "resolve.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/xattr.h>
#include <time.h>

#define RESOLVE_FLAGS (RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS)
#define MANIFEST "manifest"
#define UNDONE "undone"
#define COPY_CHUNK (1u << 16)

/* The memory of the last big file read, kept for the next one: policies read the same
 * million-line hosts.deny one after the other. */
static struct {
	void *addr;
	size_t cap;
} spare;

static int xopenat2(int dirfd, const char *path, int flags, mode_t mode, uint64_t resolve)
{
	struct open_how how = {
		.flags = (uint64_t)flags | O_CLOEXEC,
		.mode = (flags & (O_CREAT | O_TMPFILE)) ? mode : 0,
		.resolve = resolve,
	};
	int fd;
	do
		fd = resolve_openat2(dirfd, path, &how);
	while (fd == -EAGAIN || fd == -EINTR);
	return fd;
}

/* "/etc/x" -> "etc/x"; "" or "/" -> "." */
static const char *rel(const char *path)
{
	while (*path == '/')
		path++;
	return *path ? path : ".";
}

struct batch_op;
static int commit(struct root *r, bool last_sync);
static const struct batch_op *batch_find(struct root *r, const char *path, int fd);
static int batch_open_new(const struct batch_op *op, int flags, mode_t mode);
static int host_path_of(struct root *r, const char *path, char **out);
static bool batch_in_dir(struct root *r, int fd);
static void batch_free(struct root *r);

/* Open an instance path, so that the caller sees the changes of this run when the batch
 * (root_commit()) changes the file: a reader (for_read) gets the new content where it waits
 * to be renamed; anyone else gets the batch committed first (a writer needs the file under
 * its real name). */
static int openat_as(struct root *r, const char *path, int flags, mode_t mode, bool for_read)
{
	int fd = xopenat2(r->fd, rel(path), flags, mode, RESOLVE_FLAGS);
	const struct batch_op *op = r->batch ? batch_find(r, path, fd) : NULL;
	if (!op)
		return fd;
	int nfd = for_read ? batch_open_new(op, flags, mode) : -ENOENT;
	if (nfd != -ENOENT) {
		if (fd >= 0)
			close(fd);
		return nfd;
	}
	if (fd >= 0)
		close(fd);
	int rc = commit(r, false);
	if (rc < 0)
		return rc;
	return xopenat2(r->fd, rel(path), flags, mode, RESOLVE_FLAGS);
}

static int root_openat(struct root *r, const char *path, int flags, mode_t mode)
{
	return openat_as(r, path, flags, mode, false);
}

static int root_openat_read(struct root *r, const char *path, int flags)
{
	return openat_as(r, path, flags, 0, true);
}

int root_open_file(struct root *r, const char *path, int flags, mode_t mode)
{
	bool writes = flags & (O_WRONLY | O_RDWR | O_CREAT | O_TRUNC);
	if (r->readonly && writes)
		return -EROFS;
	return writes ? root_openat(r, path, flags | O_NOFOLLOW, mode)
		      : root_openat_read(r, path, flags | O_NOFOLLOW);
}

static int fd_path(int fd, char *out, size_t size)
{
	char proc[64];
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
	ssize_t n = readlink(proc, out, size - 1);
	if (n < 0)
		return -errno;
	if ((size_t)n >= size - 1)
		return -ENAMETOOLONG;
	out[n] = '\0';
	return 0;
}

/* Reopen an O_PATH fd for reading, through its /proc link (the file was already checked). */
static int reopen(int fd, int flags)
{
	char proc[64];
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
	int nfd = open(proc, flags | O_CLOEXEC | O_NOCTTY);
	return nfd < 0 ? -errno : nfd;
}

static int root_prefix(struct root *r, char *out, size_t size);

const char *root_strerror(int rc)
{
	switch (-rc) {
	case EMLINK:
		return "it has more than one hard link (another name, maybe outside the instance, "
		       "would change too); left alone";
	case EXDEV:
		return "it lies on a filesystem that is not the instance's; left alone";
	default:
		return strerror(-rc);
	}
}

/* Filesystems that are never an instance's files, even when mounted under its root. */
static bool pseudo_fs(const char *type)
{
	static const char *const pseudo[] = {
		"proc",	      "sysfs",	  "devtmpfs", "devpts",	     "cgroup",	  "cgroup2",
		"securityfs", "debugfs",  "tracefs",  "bpf",	     "mqueue",	  "pstore",
		"efivarfs",   "configfs", "fusectl",  "binfmt_misc", "hugetlbfs", "autofs"};
	for (size_t i = 0; i < ARRAY_SIZE(pseudo); i++)
		if (!strcmp(type, pseudo[i]))
			return true;
	return false;
}

/* /proc, /sys, /dev and /run of an instance that is not running are empty directories: a
 * mount there (or below) is the host's, bound in for chroot work ("mount --rbind /dev"), even
 * when it is a tmpfs (/dev/shm, /run). */
static bool api_dir(const char *rel_mp)
{
	static const char *const api[] = {"/proc", "/sys", "/dev", "/run"};
	for (size_t i = 0; i < ARRAY_SIZE(api); i++) {
		size_t n = strlen(api[i]);
		if (!strncmp(rel_mp, api[i], n) && (rel_mp[n] == '/' || rel_mp[n] == '\0'))
			return true;
	}
	return false;
}

/* mountinfo's octal escapes (\040 for a space) undone in place. */
static void unescape_octal(char *s)
{
	char *w = s;
	for (; *s; s++) {
		if (s[0] == '\\' && s[1] >= '0' && s[1] <= '3' && s[2] >= '0' && s[2] <= '7' &&
		    s[3] >= '0' && s[3] <= '7') {
			*w++ = (char)((s[1] - '0') * 64 + (s[2] - '0') * 8 + (s[3] - '0'));
			s += 3;
		} else {
			*w++ = *s;
		}
	}
	*w = '\0';
}

/* The instance's mounts: the one the root directory lies on and every real filesystem
 * mounted at or under the root (a separate /var, btrfs subvolumes mounted by agent/target/). Mount
 * ids rather than st_dev: a btrfs subvolume inside a mounted one has its own st_dev. Without
 * statx mount ids (kernels before 5.8) the device part of the link rule is not enforced. */
static void collect_mounts(struct root *r)
{
	char prefix[PATH_MAX];
	struct statx stx;
	if (root_prefix(r, prefix, sizeof(prefix)) < 0)
		return;
	if (!prefix[0]) {
		r->any_mount = true;
		return;
	}
	if (statx(r->fd, "", AT_EMPTY_PATH, STATX_MNT_ID, &stx) < 0 ||
	    !(stx.stx_mask & STATX_MNT_ID))
		return;
	r->mnt_ids = xgrow(r->mnt_ids, r->n_mnt_ids, sizeof(*r->mnt_ids));
	r->mnt_ids[r->n_mnt_ids++] = stx.stx_mnt_id;
	_cleanup_fclose_ FILE *f = fopen("/proc/self/mountinfo", "re");
	if (!f)
		return;
	_cleanup_free_ char *line = NULL;
	size_t cap = 0, pl = strlen(prefix);
	while (getline(&line, &cap, f) > 0) {
		/* ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTIONS... - TYPE SOURCE SUPER */
		char *dash = strstr(line, " - ");
		if (!dash)
			continue;
		*dash = '\0';
		char *type = dash + 3, *end = strchr(type, ' ');
		if (end)
			*end = '\0';
		char *save = NULL, *field[5];
		int n = 0;
		for (char *t = strtok_r(line, " ", &save); t && n < 5;
		     t = strtok_r(NULL, " ", &save))
			field[n++] = t;
		if (n < 5)
			continue;
		char *mp = field[4];
		unescape_octal(mp);
		unsigned long long id;
		if (pseudo_fs(type) || sscanf(field[0], "%llu", &id) != 1 ||
		    strncmp(mp, prefix, pl) || (mp[pl] != '/' && mp[pl] != '\0') ||
		    api_dir(mp + pl))
			continue;
		r->mnt_ids = xgrow(r->mnt_ids, r->n_mnt_ids, sizeof(*r->mnt_ids));
		r->mnt_ids[r->n_mnt_ids++] = id;
	}
}

/* The link rule (root.h) for name in dirfd ("": dirfd itself). */
static int link_rule(struct root *r, int dirfd, const char *name)
{
	struct statx stx;
	int flags = AT_SYMLINK_NOFOLLOW | (*name ? 0 : AT_EMPTY_PATH);
	if (statx(dirfd, name, flags, STATX_TYPE | STATX_NLINK | STATX_MNT_ID, &stx) < 0)
		return -errno;
	if (S_ISREG(stx.stx_mode) && stx.stx_nlink > 1)
		return -EMLINK;
	if (r->any_mount || !r->n_mnt_ids || !(stx.stx_mask & STATX_MNT_ID))
		return 0;
	for (size_t i = 0; i < r->n_mnt_ids; i++)
		if (r->mnt_ids[i] == stx.stx_mnt_id)
			return 0;
	return -EXDEV;
}

int root_open(struct root *r, const char *path, const char *backup_dir, const char *run_id,
	      bool readonly)
{
	memset(r, 0, sizeof(*r));
	r->manifest_fd = -1;
	r->fd = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (r->fd < 0)
		return -errno;
	r->path = xstrdup(path);
	r->backup_dir = xstrdup(backup_dir);
	r->run_id = xstrdup(run_id);
	r->readonly = readonly;
	collect_mounts(r);
	return 0;
}

void root_close(struct root *r)
{
	batch_free(r);
	if (r->fd >= 0)
		close(r->fd);
	if (r->manifest_fd >= 0)
		close(r->manifest_fd);
	free(r->path);
	free(r->backup_dir);
	free(r->run_id);
	strv_free(&r->backed_up);
	free(r->mnt_ids);
	free(r->failed_path);
	if (spare.addr)
		munmap(spare.addr, spare.cap);
	spare.addr = NULL;
	memset(r, 0, sizeof(*r));
	r->fd = r->manifest_fd = -1;
}

int root_stat(struct root *r, const char *path, struct stat *st)
{
	_cleanup_close_ int fd = root_openat_read(r, path, O_PATH);
	if (fd < 0)
		return fd;
	return fstat(fd, st) < 0 ? -errno : 0;
}

int root_opendir(struct root *r, const char *path, DIR **out)
{
	int fd = root_openat(r, path, O_RDONLY | O_DIRECTORY, 0);
	if (fd >= 0 && batch_in_dir(r, fd)) {
		/* the listing shows the run's changes */
		close(fd);
		int rc = commit(r, false);
		fd = rc < 0 ? rc : root_openat(r, path, O_RDONLY | O_DIRECTORY, 0);
	}
	if (fd < 0)
		return fd;
	DIR *d = fdopendir(fd);
	if (!d) {
		int rc = -errno;
		close(fd);
		return rc;
	}
	*out = d;
	return 0;
}

int root_read_fd(int fd, size_t max, char **data, size_t *len)
{
	struct buf b = {.max = max};
	char chunk[COPY_CHUNK];
	buf_append(&b, "", 0);
	for (;;) {
		ssize_t n = read(fd, chunk, sizeof(chunk));
		if (n < 0 && errno == EINTR)
			continue;
		int rc = n < 0 ? -errno : buf_append(&b, chunk, (size_t)n);
		if (rc < 0) {
			buf_free(&b);
			return rc;
		}
		if (n == 0)
			break;
	}
	*data = b.data;
	*len = b.len;
	return 0;
}

/* A regular file of the instance, at most max bytes, open for reading; its stat in *st.
 * -EISDIR, -EINVAL (FIFO, socket, device: never opened, so never blocks), -EFBIG. */
static int open_regular(struct root *r, const char *path, size_t max, struct stat *st)
{
	_cleanup_close_ int pfd = root_openat_read(r, path, O_PATH);
	if (pfd < 0)
		return pfd;
	if (fstat(pfd, st) < 0)
		return -errno;
	if (S_ISDIR(st->st_mode))
		return -EISDIR;
	if (!S_ISREG(st->st_mode))
		return -EINVAL;
	if ((uint64_t)st->st_size > max)
		return -EFBIG;
	return reopen(pfd, O_RDONLY | O_NONBLOCK);
}

/* Up to size bytes of fd into p, fewer at end of file; *got says how many. */
static int read_full(int fd, char *p, size_t size, size_t *got)
{
	*got = 0;
	while (*got < size) {
		ssize_t n = read(fd, p + *got, size - *got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			break; /* shrunk since fstat(): what is there */
		*got += (size_t)n;
	}
	return 0;
}

int root_read_file(struct root *r, const char *path, size_t max, char **data, size_t *len)
{
	struct stat st;
	_cleanup_close_ int fd = open_regular(r, path, max, &st);
	if (fd < 0)
		return fd;
	/* Read into one exact-size buffer: the file may be most of the memory we use. */
	size_t size = (size_t)st.st_size, got, more = 0;
	char *p = xmalloc(size + 1), extra;
	int rc = read_full(fd, p, size, &got);
	if (rc == 0 && got == size)
		rc = read_full(fd, &extra, 1, &more);
	if (rc < 0 || more) {
		free(p);
		if (rc < 0)
			return rc;
		/* grown since fstat: read it again in chunks, bounded */
		if (lseek(fd, 0, SEEK_SET) < 0)
			return -errno;
		return root_read_fd(fd, max, data, len);
	}
	p[got] = '\0';
	*data = p;
	*len = got;
	return 0;
}

int root_map_file(struct root *r, const char *path, size_t max, struct root_map *m)
{
	memset(m, 0, sizeof(*m));
	m->data = "";
	struct stat st;
	_cleanup_close_ int fd = open_regular(r, path, max, &st);
	if (fd < 0)
		return fd;
	if (st.st_size == 0)
		return 0;
	/* Read into anonymous memory, in huge pages when the file is big, rather than mmap()ing
	 * the file: on virtual machines that shadow page tables, the first touch of every 4 KiB
	 * page of a file mapping costs microseconds (20-30 ms for an 18 MiB hosts.deny), 2 MiB
	 * pages cost a few hundred. A copy is also a snapshot: a file changed under us cannot
	 * change what was parsed. */
	const size_t huge = (size_t)2 << 20;
	size_t size = (size_t)st.st_size, page = (size_t)sysconf(_SC_PAGESIZE);
	bool big = size >= huge / 2;
	size_t cap = big ? ((size + huge - 1) & ~(huge - 1)) + huge : (size + page - 1) & ~(page - 1);
	char *base;
	if (big && spare.addr && spare.cap >= cap) {
		/* the memory of the last big file, pages already in place: no fault, no zeroing */
		base = spare.addr;
		cap = spare.cap;
		spare.addr = NULL;
		mprotect(base, cap, PROT_READ | PROT_WRITE);
	} else {
		base = mmap(NULL, cap, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (base == MAP_FAILED)
			return -errno;
	}
	char *buf = base;
	if (big) {
		buf = (char *)(((uintptr_t)base + huge - 1) & ~(uintptr_t)(huge - 1));
		madvise(buf, (size + huge - 1) & ~(huge - 1), MADV_HUGEPAGE); /* a hint */
	}
	size_t got;
	int rc = read_full(fd, buf, size, &got);
	if (rc < 0) {
		munmap(base, cap);
		return rc;
	}
	mprotect(base, cap, PROT_READ);
	m->addr = base;
	m->cap = cap;
	m->st = st;
	m->data = buf;
	m->len = got;
	return 0;
}

void root_unmap(struct root_map *m)
{
	if (m->addr && m->cap >= ((size_t)4 << 20) && (!spare.addr || spare.cap < m->cap)) {
		if (spare.addr)
			munmap(spare.addr, spare.cap);
		spare.addr = m->addr;
		spare.cap = m->cap;
	} else if (m->addr) {
		munmap(m->addr, m->cap);
	}
	memset(m, 0, sizeof(*m));
	m->data = "";
}

/* ---- edits ---- */

void edits_add(struct edits *e, size_t off, size_t len, const char *text, size_t text_len)
{
	if (e->n && !text_len) {
		struct edit *last = &e->v[e->n - 1];
		if (!last->text_len && last->off + last->len == off) {
			last->len += len;
			return;
		}
	}
	e->v = xgrow(e->v, e->n, sizeof(*e->v));
	e->v[e->n++] = (struct edit){
		.off = off,
		.len = len,
		.text = text_len ? xstrndup(text, text_len) : NULL,
		.text_len = text_len,
	};
}

void edits_free(struct edits *e)
{
	for (size_t i = 0; i < e->n; i++)
		free(e->v[i].text);
	free(e->v);
	memset(e, 0, sizeof(*e));
}

int edits_apply(const char *orig, size_t orig_len, const struct edits *e,
		int (*out)(void *arg, const void *p, size_t n), void *arg)
{
	size_t pos = 0;
	int rc;
	for (size_t i = 0; e && i < e->n; i++) {
		const struct edit *ed = &e->v[i];
		if (ed->off < pos || ed->off + ed->len > orig_len || ed->off + ed->len < ed->off)
			return -EINVAL;
		if (ed->off > pos && (rc = out(arg, orig + pos, ed->off - pos)) < 0)
			return rc;
		if (ed->text_len && (rc = out(arg, ed->text, ed->text_len)) < 0)
			return rc;
		pos = ed->off + ed->len;
	}
	if (orig_len > pos && (rc = out(arg, orig + pos, orig_len - pos)) < 0)
		return rc;
	return 0;
}

/* ---- writing ---- */

struct writer {
	int fd;
	int src;	  /* the original file, known to hold orig; -1: write everything */
	const char *orig; /* pieces inside orig[0..orig_len) may be copied from src */
	size_t orig_len;
	char buf[COPY_CHUNK];
	size_t n;
};

static int write_all(int fd, const void *p, size_t n)
{
	const char *c = p;
	while (n) {
		ssize_t w = write(fd, c, n);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		c += w;
		n -= (size_t)w;
	}
	return 0;
}

static int writer_flush(struct writer *w)
{
	int rc = write_all(w->fd, w->buf, w->n);
	w->n = 0;
	return rc;
}

/* A large unchanged range of the original, copied inside the kernel (copy_file_range(), as
 * cp does): no trip through user memory, which on a million-line file is most of the cost of
 * writing it. false: not possible here (the caller writes from memory what is left). */
static bool copy_range(struct writer *w, const char **p, size_t *n, int *rc)
{
	if (w->src < 0 || *n < COPY_CHUNK || *p < w->orig || *p + *n > w->orig + w->orig_len)
		return false;
	if ((*rc = writer_flush(w)) < 0)
		return true;
	loff_t off = (loff_t)(*p - w->orig);
	while (*n) {
		/* in steps, each handed to writeback at once: the fsync() that follows then waits
		 * for the last step only */
		size_t step = *n < ((size_t)4 << 20) ? *n : (size_t)4 << 20;
		loff_t at = lseek(w->fd, 0, SEEK_CUR);
		ssize_t c = copy_file_range(w->src, &off, w->fd, NULL, step, 0);
		if (c > 0 && at >= 0)
			sync_file_range(w->fd, at, c, SYNC_FILE_RANGE_WRITE);
		if (c < 0 && errno == EINTR)
			continue;
		if (c < 0 && (errno == ENOSPC || errno == EDQUOT || errno == EIO)) {
			*rc = -errno;
			return true;
		}
		if (c <= 0) { /* not supported between these files, or the file shrank */
			w->src = -1;
			return false;
		}
		*p += c;
		*n -= (size_t)c;
	}
	return true;
}

static int writer_out(void *arg, const void *p, size_t n)
{
	struct writer *w = arg;
	int rc = 0;
	const char *c = p;
	if (copy_range(w, &c, &n, &rc))
		return rc;
	p = c;
	if (w->n + n > sizeof(w->buf)) {
		rc = writer_flush(w);
		if (rc < 0)
			return rc;
		if (n >= sizeof(w->buf))
			return write_all(w->fd, p, n);
	}
	memcpy(w->buf + w->n, p, n);
	w->n += n;
	return 0;
}

/* Give dst the mode, owner, group and extended attributes of src. */
static int copy_meta(int src, int dst, const struct stat *st)
{
	if (fchown(dst, st->st_uid, st->st_gid) < 0)
		return -errno;
	if (fchmod(dst, st->st_mode & 07777) < 0)
		return -errno;
	ssize_t n = flistxattr(src, NULL, 0);
	if (n < 0)
		return errno == ENOTSUP ? 0 : -errno;
	if (n == 0)
		return 0;
	_cleanup_free_ char *names = xmalloc((size_t)n);
	n = flistxattr(src, names, (size_t)n);
	if (n < 0)
		return -errno;
	for (char *name = names; name < names + n; name += strlen(name) + 1) {
		ssize_t vn = fgetxattr(src, name, NULL, 0);
		if (vn < 0)
			return -errno;
		_cleanup_free_ char *val = xmalloc((size_t)vn + 1);
		vn = fgetxattr(src, name, val, (size_t)vn);
		if (vn < 0)
			return -errno;
		if (fsetxattr(dst, name, val, (size_t)vn, 0) < 0 && errno != ENOTSUP)
			return -errno;
	}
	return 0;
}

/* Split the real location of an instance path: parent directory fd and base name. With
 * must_exist false the file may be absent (its parent must exist). */
struct location {
	int dirfd;          /* O_PATH fd of the parent directory */
	char base[NAME_MAX + 1];
	char path[PATH_MAX]; /* instance path of the file, symlinks resolved: "/etc/x" */
	bool exists;
};

static void location_close(struct location *l)
{
	if (l->dirfd >= 0)
		close(l->dirfd);
	l->dirfd = -1;
}

static int root_prefix(struct root *r, char *out, size_t size)
{
	int rc = fd_path(r->fd, out, size);
	if (rc < 0)
		return rc;
	if (strcmp(out, "/") == 0)
		out[0] = '\0';
	return 0;
}

/* Host path of fd -> instance path, checking it is inside the root. */
static int instance_path_of(struct root *r, int fd, char *out, size_t size)
{
	char prefix[PATH_MAX], host[PATH_MAX];
	int rc = root_prefix(r, prefix, sizeof(prefix));
	if (rc < 0)
		return rc;
	if ((rc = fd_path(fd, host, sizeof(host))) < 0)
		return rc;
	size_t pl = strlen(prefix);
	if (strncmp(host, prefix, pl) != 0 || (host[pl] != '/' && host[pl] != '\0'))
		return -EXDEV;
	snprintf(out, size, "%s", host[pl] ? host + pl : "/");
	return 0;
}

static int locate(struct root *r, const char *path, struct location *l)
{
	memset(l, 0, sizeof(*l));
	l->dirfd = -1;
	char want[PATH_MAX];
	if (snprintf(want, sizeof(want), "/%s", rel(path)) >= (int)sizeof(want))
		return -ENAMETOOLONG;

	_cleanup_close_ int fd = root_openat(r, want, O_PATH, 0);
	if (fd >= 0) {
		struct stat st;
		if (fstat(fd, &st) < 0)
			return -errno;
		if (S_ISDIR(st.st_mode))
			return -EISDIR;
		int rc = instance_path_of(r, fd, l->path, sizeof(l->path));
		if (rc < 0)
			return rc;
		l->exists = true;
	} else if (fd == -ENOENT) {
		snprintf(l->path, sizeof(l->path), "%s", want);
	} else {
		return fd;
	}
	char *slash = strrchr(l->path, '/');
	if (!slash || !slash[1] || strlen(slash + 1) > NAME_MAX)
		return -EINVAL;
	snprintf(l->base, sizeof(l->base), "%s", slash + 1);
	if (!strcmp(l->base, ".") || !strcmp(l->base, ".."))
		return -EINVAL;
	char dir[PATH_MAX];
	snprintf(dir, sizeof(dir), "%.*s", (int)(slash - l->path), l->path);
	l->dirfd = root_openat(r, dir[0] ? dir : "/", O_PATH | O_DIRECTORY, 0);
	if (l->dirfd < 0) {
		int rc = l->dirfd;
		l->dirfd = -1;
		return rc;
	}
	return 0;
}

static int manifest_append(struct root *r, const char *kind, const char *path, const char *extra);

/* The link rule for the existing file of l, where the links sshrescue's own backups hold do
 * not count: a run killed between backing a file up by a hard link and replacing it leaves
 * the file with a second name, in the instance's backup directory. The caller replaces the
 * file by rename (or removes it), which changes neither name's content. */
/* How many of the runs' backups of instance path ipath are the inode st (hard links). */
static nlink_t backup_links(struct root *r, const char *ipath, const struct stat *st)
{
	DIR *d;
	if (root_opendir(r, r->backup_dir, &d) < 0)
		return 0;
	nlink_t own = 0;
	struct dirent *de;
	while ((de = readdir(d)) && own < st->st_nlink) {
		if (de->d_name[0] == '.')
			continue;
		_cleanup_free_ char *b =
			xasprintf("%s/%s/files%s", r->backup_dir, de->d_name, ipath);
		/* the inode itself, as it is on disk now */
		_cleanup_close_ int fd = root_openat(r, b, O_PATH | O_NOFOLLOW, 0);
		struct stat bst;
		if (fd >= 0 && fstat(fd, &bst) == 0 && bst.st_dev == st->st_dev &&
		    bst.st_ino == st->st_ino)
			own++;
	}
	closedir(d);
	return own;
}

static int location_rule(struct root *r, struct location *l)
{
	int rc = link_rule(r, l->dirfd, l->base);
	if (rc != -EMLINK)
		return rc;
	struct stat st;
	if (fstatat(l->dirfd, l->base, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return -errno;
	return backup_links(r, l->path, &st) + 1 == st.st_nlink ? 0 : -EMLINK;
}

static void note_failure(struct root *r, const char *path, int rc)
{
	if (rc < 0 && !r->failed_path) {
		r->failed_path = xstrdup(path);
		r->failed_rc = rc;
	}
}

/* mkdir -p of an instance directory, every component resolved inside the root: a symlink
 * on the way (var -> data/var) is followed as openat2(RESOLVE_IN_ROOT) follows it, so it
 * never leads out of the instance, and a missing component is made in the directory its
 * parent resolved to. With record, each directory made is owned by root and written to the
 * manifest, so undo removes it again. */
static int mkdir_p(struct root *r, const char *path, mode_t mode, bool record, int *out_fd)
{
	char buf[PATH_MAX];
	if (snprintf(buf, sizeof(buf), "%s", rel(path)) >= (int)sizeof(buf))
		return -ENAMETOOLONG;
	int dfd = dup(r->fd);
	if (dfd < 0)
		return -errno;
	char *save = NULL;
	char sofar[PATH_MAX] = "";
	int rc = 0;
	for (char *comp = strtok_r(buf, "/", &save); comp; comp = strtok_r(NULL, "/", &save)) {
		if (!strcmp(comp, ".") || !strcmp(comp, ".."))
			continue;
		size_t sl = strlen(sofar);
		snprintf(sofar + sl, sizeof(sofar) - sl, "/%s", comp);
		int nfd = root_openat(r, sofar, O_PATH | O_DIRECTORY, 0);
		if (nfd == -ENOENT) {
			/* a directory made on a mount that is not the instance's is a write
			 * outside it */
			if ((rc = link_rule(r, dfd, "")) < 0)
				break;
			if (record && (rc = manifest_append(r, "dir", sofar, NULL)) < 0)
				break;
			if (mkdirat(dfd, comp, mode) < 0 && errno != EEXIST) {
				rc = -errno;
				break;
			}
			if (record) {
				r->n_changed++;
				int wfd = openat(dfd, comp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
				if (wfd >= 0) {
					if (fchown(wfd, 0, 0) < 0 || fchmod(wfd, mode) < 0)
						rc = -errno;
					close(wfd);
				}
			}
			nfd = xopenat2(dfd, comp, O_PATH | O_DIRECTORY | O_NOFOLLOW, 0,
				       RESOLVE_IN_ROOT | RESOLVE_NO_SYMLINKS);
		}
		close(dfd);
		dfd = -1;
		if (nfd < 0) {
			rc = nfd;
			break;
		}
		dfd = nfd;
	}
	if (rc < 0)
		note_failure(r, sofar, rc);
	if (rc < 0 || !out_fd) {
		if (dfd >= 0)
			close(dfd);
	} else {
		*out_fd = dfd;
	}
	return rc;
}

static int fsync_dir(int dirfd)
{
	int fd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	int rc = fsync(fd) < 0 ? -errno : 0;
	close(fd);
	return rc;
}

/* ---- durability, batched per filesystem (root.h: root_commit) ------------------------------
 * A repair writes the temporaries (each replaced file's new content), the backups and the
 * manifest without syncing them one by one, and queues the renames, removals and mode changes
 * that make the repair visible. root_commit() syncs each filesystem written to once, then
 * performs the queue in order, then syncs the filesystems it changed once more: the cost is
 * one flush per filesystem rather than two per file, as git's batch fsync mode and databases'
 * group commit have it. The order is what an fsync per file gave: no rename reaches the disk
 * before the content it names, nor before the backup and the manifest line that let undo
 * restore the original (they are on disk when the first syncfs returns). A crash before that
 * leaves every file its original (the temporaries beside them are removed by the next run);
 * after it, every file is its original or its repaired version.
 * syncfs() writes the filesystem's other dirty data too: on an attached instance disk there is
 * none, and on the running system ("--root /") it would be written anyway. */
enum batch_kind { BATCH_RENAME, BATCH_UNLINK, BATCH_MODE };
#define BATCH_MAX_OPS 256

struct batch_op {
	enum batch_kind kind;
	int fd;			 /* O_PATH: the file's directory; BATCH_MODE: the file itself */
	char tmp[NAME_MAX + 1];	 /* BATCH_RENAME: the temporary that becomes base */
	char base[NAME_MAX + 1]; /* the file's name in its directory */
	/* the inode the op replaces, removes or changes; ino 0: a new file */
	dev_t dev;
	ino_t ino;
	dev_t dir_dev; /* the directory whose listing the op changes */
	ino_t dir_ino;
	uid_t uid; /* BATCH_MODE: (uid_t)-1 and (gid_t)-1 keep */
	gid_t gid;
	mode_t mode;
};

struct batch_fs {
	dev_t dev;
	int fd; /* a file or directory on it, open for syncfs() */
	bool dirty;
};

struct root_batch {
	struct batch_op *ops;
	size_t n_ops;
	struct batch_fs *fs;
	size_t n_fs;
	int error; /* of a commit nobody could be told of (batch_add()): the next one returns it */
};

static struct root_batch *batch_of(struct root *r)
{
	if (!r->batch)
		r->batch = xcalloc(1, sizeof(*r->batch));
	return r->batch;
}

/* Note that the filesystem fd lies on holds data of this run that is not yet durable. */
static void batch_dirty(struct root *r, int fd)
{
	struct root_batch *b = batch_of(r);
	struct stat st;
	if (fstat(fd, &st) < 0)
		return;
	for (size_t i = 0; i < b->n_fs; i++)
		if (b->fs[i].dev == st.st_dev) {
			b->fs[i].dirty = true;
			return;
		}
	/* an fd of our own, readable (syncfs() refuses O_PATH) */
	int sfd = reopen(fd, O_RDONLY | O_NONBLOCK);
	if (sfd < 0)
		return;
	b->fs = xgrow(b->fs, b->n_fs, sizeof(*b->fs));
	b->fs[b->n_fs++] = (struct batch_fs){.dev = st.st_dev, .fd = sfd, .dirty = true};
}

/* One syncfs() per filesystem with data of this run not yet durable. */
static int batch_sync(struct root_batch *b)
{
	int rc = 0;
	for (size_t i = 0; i < b->n_fs; i++) {
		if (!b->fs[i].dirty)
			continue;
		if (syncfs(b->fs[i].fd) < 0 && rc == 0)
			rc = -errno;
		b->fs[i].dirty = false;
	}
	return rc;
}

static struct batch_op *batch_add(struct root *r, enum batch_kind kind, int fd, const char *base)
{
	struct root_batch *b = batch_of(r);
	int rc;
	/* each op holds a descriptor: a run never runs out of them */
	if (b->n_ops >= BATCH_MAX_OPS && (rc = commit(r, false)) < 0 && !b->error)
		b->error = rc;
	b->ops = xgrow(b->ops, b->n_ops, sizeof(*b->ops));
	struct batch_op *op = &b->ops[b->n_ops++];
	memset(op, 0, sizeof(*op));
	op->kind = kind;
	op->fd = fd;
	snprintf(op->base, sizeof(op->base), "%s", base);
	struct stat st;
	if (kind == BATCH_MODE ? fstat(fd, &st) == 0
			       : fstatat(fd, base, &st, AT_SYMLINK_NOFOLLOW) == 0) {
		op->dev = st.st_dev;
		op->ino = st.st_ino;
	}
	if (kind != BATCH_MODE && fstat(fd, &st) == 0) {
		op->dir_dev = st.st_dev;
		op->dir_ino = st.st_ino;
	}
	return op;
}

/* Queue the rename of tmp over base in dirfd (an fd of the batch's own from then on). */
static int batch_rename(struct root *r, int dirfd, const char *tmp, const char *base)
{
	int fd = fcntl(dirfd, F_DUPFD_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	struct batch_op *op = batch_add(r, BATCH_RENAME, fd, base);
	snprintf(op->tmp, sizeof(op->tmp), "%s", tmp);
	batch_dirty(r, dirfd);
	return 0;
}

/* The op that makes path (just opened as fd, or -errno) look otherwise once the batch is
 * committed: it replaces, removes or changes the mode of the file, or creates the absent
 * name. NULL: none (the last one asked for, when several). */
static const struct batch_op *batch_find(struct root *r, const char *path, int fd)
{
	struct root_batch *b = r->batch;
	const struct batch_op *hit = NULL;
	if (!b->n_ops || (fd < 0 && fd != -ENOENT))
		return NULL;
	struct stat st;
	if (fd >= 0) {
		if (fstat(fd, &st) < 0)
			return NULL;
		for (size_t i = 0; i < b->n_ops; i++)
			if (b->ops[i].ino && b->ops[i].dev == st.st_dev &&
			    b->ops[i].ino == st.st_ino &&
			    (!S_ISDIR(st.st_mode) || b->ops[i].kind == BATCH_MODE))
				hit = &b->ops[i];
		return hit;
	}
	bool creates = false;
	for (size_t i = 0; i < b->n_ops; i++)
		creates |= !b->ops[i].ino && b->ops[i].kind == BATCH_RENAME;
	if (!creates)
		return NULL;
	const char *p = rel(path), *slash = strrchr(p, '/');
	char dir[PATH_MAX];
	snprintf(dir, sizeof(dir), "%.*s", slash ? (int)(slash - p) : 1, slash ? p : ".");
	const char *base = slash ? slash + 1 : p;
	_cleanup_close_ int dfd = xopenat2(r->fd, dir, O_PATH | O_DIRECTORY, 0, RESOLVE_FLAGS);
	if (dfd < 0 || fstat(dfd, &st) < 0)
		return NULL;
	for (size_t i = 0; i < b->n_ops; i++)
		if (!b->ops[i].ino && b->ops[i].kind == BATCH_RENAME &&
		    b->ops[i].dir_dev == st.st_dev && b->ops[i].dir_ino == st.st_ino &&
		    !strcmp(b->ops[i].base, base))
			hit = &b->ops[i];
	return hit;
}

/* The new content of a file the batch replaces or creates, opened for a reader where it
 * waits (the temporary beside the file); -ENOENT when the op is not a rename. */
static int batch_open_new(const struct batch_op *op, int flags, mode_t mode)
{
	if (op->kind != BATCH_RENAME)
		return -ENOENT;
	int fd = xopenat2(op->fd, op->tmp, flags | O_NOFOLLOW, mode,
			  RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS);
	return fd == -ENOENT ? -EIO : fd;
}

/* Does the batch change the listing of directory fd? */
static bool batch_in_dir(struct root *r, int fd)
{
	struct root_batch *b = r->batch;
	struct stat st;
	if (!b || !b->n_ops || fstat(fd, &st) < 0)
		return false;
	for (size_t i = 0; i < b->n_ops; i++)
		if (b->ops[i].kind != BATCH_MODE && b->ops[i].dir_dev == st.st_dev &&
		    b->ops[i].dir_ino == st.st_ino)
			return true;
	return false;
}

static int batch_do(const struct batch_op *op)
{
	char proc[64];
	switch (op->kind) {
	case BATCH_RENAME:
		if (renameat(op->fd, op->tmp, op->fd, op->base) == 0)
			return 0;
		int rc = -errno;
		unlinkat(op->fd, op->tmp, 0);
		return rc;
	case BATCH_UNLINK:
		return unlinkat(op->fd, op->base, 0) < 0 && errno != ENOENT ? -errno : 0;
	case BATCH_MODE:
		snprintf(proc, sizeof(proc), "/proc/self/fd/%d", op->fd);
		if ((op->uid != (uid_t)-1 || op->gid != (gid_t)-1) &&
		    chown(proc, op->uid, op->gid) < 0)
			return -errno;
		return chmod(proc, op->mode & 07777) < 0 ? -errno : 0;
	}
	return -EINVAL;
}

static void batch_clear(struct root_batch *b, bool drop)
{
	for (size_t i = 0; i < b->n_ops; i++) {
		if (drop && b->ops[i].kind == BATCH_RENAME)
			unlinkat(b->ops[i].fd, b->ops[i].tmp, 0);
		close(b->ops[i].fd);
	}
	b->n_ops = 0;
}

int root_commit(struct root *r)
{
	return commit(r, true);
}

int root_commit_unmounting(struct root *r)
{
	return commit(r, false);
}

int root_publish(struct root *r)
{
	return commit(r, false);
}

/* Steps 1 and 2 always; step 3 (durability of the renames) with last_sync only: a commit
 * that makes changes visible to a reader needs the order, not the wait. The filesystems it
 * renamed on stay dirty for the next commit. */
static int commit(struct root *r, bool last_sync)
{
	struct root_batch *b = r->batch;
	if (!b)
		return 0;
	int early = b->error;
	b->error = 0;
	if (!b->n_ops && !last_sync)
		return early; /* nothing to order; the unmount or the next commit syncs */
	/* 1: every temporary, backup and manifest line on disk */
	int rc = batch_sync(b);
	if (rc < 0) {
		batch_clear(b, true);
		return early < 0 ? early : rc;
	}
	if (!b->n_ops)
		return early;
	/* 2: the renames (removals, mode changes), in the order they were asked for */
	for (size_t i = 0; i < b->n_ops; i++) {
		int orc = batch_do(&b->ops[i]);
		if (orc < 0 && rc == 0)
			rc = orc;
		batch_dirty(r, b->ops[i].fd);
	}
	batch_clear(b, false);
	/* 3: the directories (and inodes) they changed on disk (or by the unmount) */
	int src = last_sync ? batch_sync(b) : 0;
	return early < 0 ? early : rc < 0 ? rc : src;
}

static void batch_free(struct root *r)
{
	struct root_batch *b = r->batch;
	if (!b)
		return;
	if (b->n_ops)
		root_commit(r); /* a run that ended before its commit (an error on the way) */
	for (size_t i = 0; i < b->n_fs; i++)
		close(b->fs[i].fd);
	free(b->fs);
	free(b->ops);
	free(b);
	r->batch = NULL;
}

/* Percent-escape a path for one manifest field (tab, newline and % are escaped). */
static void escape_path(struct buf *b, const char *p)
{
	for (; *p; p++) {
		if (*p == '\t' || *p == '\n' || *p == '%' || *p == '\r')
			buf_printf(b, "%%%02X", (unsigned char)*p);
		else
			buf_append(b, p, 1);
	}
}

static void unescape_path(char *p)
{
	char *w = p;
	for (; *p; p++) {
		unsigned v;
		if (*p == '%' && sscanf(p + 1, "%2x", &v) == 1) {
			*w++ = (char)v;
			p += 2;
		} else {
			*w++ = *p;
		}
	}
	*w = '\0';
}

static char *run_dir(struct root *r, const char *run_id)
{
	return xasprintf("%s/%s", r->backup_dir, run_id);
}

static int manifest_append(struct root *r, const char *kind, const char *path, const char *extra)
{
	if (r->manifest_fd < 0) {
		_cleanup_free_ char *dir = run_dir(r, r->run_id);
		_cleanup_close_ int dfd = -1;
		int rc = mkdir_p(r, dir, 0700, false, &dfd);
		if (rc < 0)
			return rc;
		int fd = openat(dfd, MANIFEST, O_WRONLY | O_CREAT | O_APPEND | O_NOFOLLOW | O_CLOEXEC,
				0600);
		if (fd < 0) {
			int e = -errno;
			_cleanup_free_ char *m = xasprintf("%s/%s", dir, MANIFEST);
			note_failure(r, m, e);
			return e;
		}
		r->manifest_fd = fd;
	}
	struct buf line = { 0 };
	buf_printf(&line, "%s\t", kind);
	escape_path(&line, path);
	if (extra)
		buf_printf(&line, "\t%s", extra);
	buf_puts(&line, "\n");
	int rc = write_all(r->manifest_fd, line.data, line.len);
	buf_free(&line);
	/* on disk before any change it records is: root_commit() */
	batch_dirty(r, r->manifest_fd);
	return rc;
}

/* Copy the content and metadata of an open regular file to a new file name in dirfd,
 * atomically (temporary name, rename). With r, a backup: its sync is left to root_commit(),
 * which syncs it before any file it backs up is replaced (a backup's name may reach the disk
 * before its content only while the original is still in place; undo then finds its size
 * wrong in the manifest). Without r (undo), synced on its own: fsync, rename, fsync of the
 * directory. */
static int copy_to(struct root *r, int src, const struct stat *st, int dirfd, const char *name)
{
	char tmp[NAME_MAX + 1];
	snprintf(tmp, sizeof(tmp), ".%.200s.sshrescue-%d", name, (int)getpid());
	int dst = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (dst < 0)
		return -errno;
	int rc = 0;
	char chunk[COPY_CHUNK];
	off_t off = 0;
	for (;;) {
		ssize_t n = pread(src, chunk, sizeof(chunk), off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rc = -errno;
			break;
		}
		if (n == 0)
			break;
		if ((rc = write_all(dst, chunk, (size_t)n)) < 0)
			break;
		off += n;
	}
	if (rc == 0)
		rc = copy_meta(src, dst, st);
	if (rc == 0 && !r && fsync(dst) < 0)
		rc = -errno;
	if (close(dst) < 0 && rc == 0)
		rc = -errno;
	if (rc == 0 && renameat(dirfd, tmp, dirfd, name) < 0)
		rc = -errno;
	if (rc < 0)
		unlinkat(dirfd, tmp, 0);
	else if (r)
		batch_dirty(r, dirfd);
	else
		rc = fsync_dir(dirfd);
	return rc;
}

/* Save the original of l (which exists) under the run's backup directory. A hard link costs
 * no copy and keeps the original inode exactly; it is only right when the caller replaces the
 * file by rename (allow_link), and falls back to a copy across filesystems. */
static int backup_save(struct root *r, struct location *l, const char *bpath, bool allow_link)
{
	_cleanup_free_ char *bdir = xstrndup(bpath, (size_t)(strrchr(bpath, '/') - bpath));
	_cleanup_close_ int bfd = -1;
	int rc = mkdir_p(r, bdir, 0700, false, &bfd);
	if (rc < 0)
		return rc;
	_cleanup_close_ int src =
		openat(l->dirfd, l->base, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (src < 0)
		return -errno;
	struct stat st;
	if (fstat(src, &st) < 0)
		return -errno;
	if (!S_ISREG(st.st_mode))
		return -EINVAL;
	unlinkat(bfd, l->base, 0); /* a leftover of an interrupted run of the same id */
	if (allow_link && st.st_nlink == 1 && linkat(l->dirfd, l->base, bfd, l->base, 0) == 0)
		batch_dirty(r, bfd);
	else
		rc = copy_to(r, src, &st, bfd, l->base);
	if (rc < 0)
		return rc;
	char size[32];
	snprintf(size, sizeof(size), "%lld", (long long)st.st_size);
	return manifest_append(r, "file", l->path, size);
}

static int backup_original(struct root *r, struct location *l, bool allow_link, char **backup)
{
	char *bpath = xasprintf("%s/%s/files%s", r->backup_dir, r->run_id, l->path);
	int rc = 0;
	if (!strv_contains(&r->backed_up, l->path)) {
		rc = backup_save(r, l, bpath, allow_link);
		if (rc == 0) {
			strv_push(&r->backed_up, l->path);
			r->n_changed++;
		}
	}
	if (rc == 0 && backup)
		*backup = bpath;
	else
		free(bpath);
	return rc;
}

/* Remove temporaries that an interrupted run left beside name. */
static void remove_stale_temps(int dirfd, const char *name)
{
	_cleanup_free_ char *prefix = xasprintf(".%.200s.sshrescue-", name);
	int fd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return;
	DIR *d = fdopendir(fd);
	if (!d) {
		close(fd);
		return;
	}
	struct dirent *de;
	while ((de = readdir(d)))
		if (strncmp(de->d_name, prefix, strlen(prefix)) == 0)
			unlinkat(dirfd, de->d_name, 0);
	closedir(d);
}

/* The new content of a file, written to fd: orig+edits, parts copied from src when it holds
 * orig (-1: none), or (from >= 0) the whole of the file from. */
struct content {
	const char *orig;
	size_t orig_len;
	const struct edits *e;
	int src;
	int from;
};

static int write_edits(int fd, const struct content *c)
{
	struct writer *w = xmalloc(sizeof(*w));
	w->fd = fd;
	w->src = c->src;
	w->orig = c->orig;
	w->orig_len = c->orig_len;
	w->n = 0;
	int rc = edits_apply(c->orig, c->orig_len, c->e, writer_out, w);
	if (rc == 0)
		rc = writer_flush(w);
	free(w);
	return rc;
}

/* The whole of from, copied inside the kernel (copy_file_range(), else sendfile()), each
 * step handed to writeback at once, as copy_range() does; read and write where neither
 * works between these files. */
static int write_from(int fd, int from)
{
	loff_t off = 0;
	bool cfr = true;
	for (;;) {
		ssize_t c = cfr ? copy_file_range(from, &off, fd, NULL, (size_t)4 << 20, 0)
				: sendfile(fd, from, &off, (size_t)4 << 20);
		if (c < 0 && errno == EINTR)
			continue;
		if (c < 0 && cfr && off == 0 && errno != ENOSPC && errno != EDQUOT &&
		    errno != EIO) {
			cfr = false;
			continue;
		}
		if (c < 0 && !cfr && off == 0 && (errno == EINVAL || errno == ENOSYS))
			break;
		if (c < 0)
			return -errno;
		if (c == 0)
			return 0;
		sync_file_range(fd, off - c, c, SYNC_FILE_RANGE_WRITE);
	}
	char *buf = xmalloc(COPY_CHUNK);
	int rc = 0;
	for (;;) {
		ssize_t n = pread(from, buf, COPY_CHUNK, off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			rc = n < 0 ? -errno : 0;
			break;
		}
		if ((rc = write_all(fd, buf, (size_t)n)) < 0)
			break;
		off += n;
	}
	free(buf);
	return rc;
}

/* Write the new content to a temporary beside the file, give it the original's metadata (or
 * root:root mode for a new file), and queue its rename over the file: root_commit() syncs it
 * first, then renames, then syncs the directory. */
static int replace_at(struct root *r, struct location *l, const struct content *c,
		      mode_t new_mode)
{
	int rc;
	remove_stale_temps(l->dirfd, l->base);
	char tmp[NAME_MAX + 1];
	snprintf(tmp, sizeof(tmp), ".%.200s.sshrescue-%d", l->base, (int)getpid());
	int wfd = xopenat2(l->dirfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, 0600, 0);
	if (wfd < 0)
		return wfd;
	rc = c->from >= 0 ? write_from(wfd, c->from) : write_edits(wfd, c);
	if (rc == 0) {
		int old = l->exists ? openat(l->dirfd, l->base, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC) : -1;
		if (l->exists && old < 0) {
			rc = -errno;
		} else if (old >= 0) {
			struct stat st;
			rc = fstat(old, &st) < 0 ? -errno : copy_meta(old, wfd, &st);
			close(old);
		} else {
			if (fchown(wfd, 0, 0) < 0 || fchmod(wfd, new_mode & 07777) < 0)
				rc = -errno;
		}
	}
	if (close(wfd) < 0 && rc == 0)
		rc = -errno;
	if (rc == 0)
		rc = batch_rename(r, l->dirfd, tmp, l->base);
	if (rc < 0)
		unlinkat(l->dirfd, tmp, 0);
	return rc;
}

/* The file at l, opened for copying, when it is still the one m was read from: same inode,
 * size, modification and change times (checked before the backup link changes its ctime).
 * Else a negative errno (-ESTALE: it changed; -ENODATA: m was not read into memory), and
 * everything is written from m's copy. */
static int open_snapshot(struct location *l, const struct root_map *m)
{
	if (!m || !m->addr)
		return -ENODATA;
	int fd = openat(l->dirfd, l->base, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	struct stat st;
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0) {
		int rc = -errno;
		close(fd);
		return rc;
	}
	if (st.st_dev != m->st.st_dev || st.st_ino != m->st.st_ino || st.st_size != m->st.st_size ||
	    (size_t)st.st_size != m->len || st.st_mtim.tv_sec != m->st.st_mtim.tv_sec ||
	    st.st_mtim.tv_nsec != m->st.st_mtim.tv_nsec ||
	    st.st_ctim.tv_sec != m->st.st_ctim.tv_sec ||
	    st.st_ctim.tv_nsec != m->st.st_ctim.tv_nsec) {
		close(fd);
		return -ESTALE;
	}
	return fd;
}

static int replace(struct root *r, const char *path, const char *orig, size_t orig_len,
		   const struct root_map *m, const struct edits *e, char **backup)
{
	if (r->readonly)
		return -EROFS;
	struct location l;
	int rc = locate(r, path, &l);
	if (rc == 0 && !l.exists)
		rc = -ENOENT;
	if (rc == 0)
		rc = location_rule(r, &l);
	_cleanup_close_ int src = rc == 0 ? open_snapshot(&l, m) : -1;
	if (rc == 0)
		rc = backup_original(r, &l, true, backup);
	struct content c = { .orig = orig, .orig_len = orig_len, .e = e, .src = src, .from = -1 };
	if (rc == 0 && (rc = replace_at(r, &l, &c, 0644)) < 0 && backup) {
		/* nothing changed: no backup to name (and nothing for the caller to free) */
		free(*backup);
		*backup = NULL;
	}
	location_close(&l);
	return rc;
}

int root_replace(struct root *r, const char *path, const char *orig, size_t orig_len,
		 const struct edits *e, char **backup)
{
	return replace(r, path, orig, orig_len, NULL, e, backup);
}

int root_replace_map(struct root *r, const char *path, const struct root_map *m,
		     const struct edits *e, char **backup)
{
	return replace(r, path, m->data, m->len, m, e, backup);
}

static int write_file(struct root *r, const char *path, const struct content *c, mode_t mode,
		      char **backup)
{
	if (r->readonly)
		return -EROFS;
	struct location l;
	int rc = locate(r, path, &l);
	if (rc == -ENOENT) {
		/* the parent directory is missing: create it */
		char dir[PATH_MAX];
		snprintf(dir, sizeof(dir), "/%s", rel(path));
		*strrchr(dir, '/') = '\0';
		if ((rc = mkdir_p(r, dir[0] ? dir : "/", 0755, true, NULL)) == 0)
			rc = locate(r, path, &l);
	}
	if (rc == 0 && l.exists)
		rc = location_rule(r, &l);
	if (rc == 0) {
		if (l.exists)
			rc = backup_original(r, &l, true, backup);
		else if ((rc = manifest_append(r, "absent", l.path, NULL)) == 0)
			r->n_changed++;
	}
	if (rc == 0) {
		rc = link_rule(r, l.dirfd, ""); /* a new file: its directory's mount */
		if (rc == 0)
			rc = replace_at(r, &l, c, mode);
		if (rc < 0 && backup && l.exists) {
			free(*backup);
			*backup = NULL;
		}
	}
	location_close(&l);
	return rc;
}

int root_write_file(struct root *r, const char *path, const void *data, size_t len, mode_t mode,
		    char **backup)
{
	/* one edit that replaces nothing with the whole content */
	struct edit ed = { .off = 0, .len = 0, .text = (char *)data, .text_len = len };
	struct edits whole = { .v = &ed, .n = 1 };
	struct content c = { .orig = "", .e = &whole, .src = -1, .from = -1 };
	return write_file(r, path, &c, mode, backup);
}

int root_write_file_from(struct root *r, const char *path, int src, mode_t mode, char **backup)
{
	struct content c = { .orig = "", .src = -1, .from = src };
	return write_file(r, path, &c, mode, backup);
}

int root_backup_file(struct root *r, const char *path, char **backup)
{
	if (r->readonly)
		return -EROFS;
	struct location l;
	int rc = locate(r, path, &l);
	if (rc == 0 && !l.exists)
		rc = -ENOENT;
	if (rc == 0)
		rc = backup_original(r, &l, false, backup);
	location_close(&l);
	/* the caller changes the file by other means next: the backup on disk first */
	return rc < 0 ? rc : commit(r, true);
}

/* The temporary name of a backup being copied: ".NAME.sshrescue-PID" beside it. */
static char *backup_temp_path(const char *bpath)
{
	const char *slash = strrchr(bpath, '/');
	return xasprintf("%.*s/.%.200s.sshrescue-%d", (int)(slash - bpath), bpath, slash + 1,
			 (int)getpid());
}

int root_backup_prepare(struct root *r, const char *path, char **backup, char **host_path)
{
	if (r->readonly)
		return -EROFS;
	struct location l;
	int rc = locate(r, path, &l);
	if (rc == 0 && !l.exists)
		rc = -ENOENT;
	if (rc == 0 && strv_contains(&r->backed_up, l.path))
		rc = -EALREADY;
	char *bpath = rc == 0 ? xasprintf("%s/%s/files%s", r->backup_dir, r->run_id, l.path) : NULL;
	/* The copy is made under a temporary name, renamed by root_backup_commit() once whole:
	 * a run killed while copying leaves no partial file under the backup's name. */
	_cleanup_free_ char *tpath = rc == 0 ? backup_temp_path(bpath) : NULL;
	if (rc == 0) {
		_cleanup_free_ char *bdir = xstrndup(bpath, (size_t)(strrchr(bpath, '/') - bpath));
		_cleanup_close_ int bfd = -1;
		_cleanup_close_ int src = -1;
		_cleanup_close_ int dst = -1;
		struct stat st;
		if ((rc = mkdir_p(r, bdir, 0700, false, &bfd)) < 0)
			goto done;
		src = openat(l.dirfd, l.base, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
		if (src < 0 || fstat(src, &st) < 0) {
			rc = -errno;
			goto done;
		}
		/* The caller changes the file in place: with other names (a hard link that may
		 * lie outside the root, in a --root directory) they would change too. */
		if (!S_ISREG(st.st_mode)) {
			rc = -EINVAL;
			goto done;
		}
		if ((rc = link_rule(r, src, "")) < 0)
			goto done;
		dst = openat(bfd, strrchr(tpath, '/') + 1,
			     O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
		if (dst < 0) {
			rc = -errno;
			goto done;
		}
		rc = copy_meta(src, dst, &st);
	}
done:
	if (rc == 0)
		rc = host_path_of(r, tpath, host_path);
	if (rc == 0)
		*backup = bpath;
	else
		free(bpath);
	location_close(&l);
	return rc;
}

int root_backup_commit(struct root *r, const char *path)
{
	struct location l;
	int rc = locate(r, path, &l);
	_cleanup_free_ char *bpath = NULL, *tpath = NULL;
	if (rc == 0) {
		bpath = xasprintf("%s/%s/files%s", r->backup_dir, r->run_id, l.path);
		tpath = backup_temp_path(bpath);
	}
	_cleanup_close_ int fd = rc == 0 ? root_openat(r, tpath, O_RDONLY | O_NOFOLLOW, 0) : -1;
	if (rc == 0 && fd < 0)
		rc = fd;
	struct stat bst;
	if (rc == 0 && fstat(fd, &bst) < 0)
		rc = -errno;
	if (rc == 0) {
		/* whole and on disk: give it the backup's name */
		*strrchr(bpath, '/') = '\0';
		_cleanup_close_ int bfd = root_openat(r, bpath, O_PATH | O_DIRECTORY | O_NOFOLLOW, 0);
		if (bfd < 0)
			rc = bfd;
		else if (renameat(bfd, strrchr(tpath, '/') + 1, bfd, l.base) < 0)
			rc = -errno;
		else
			batch_dirty(r, bfd);
	}
	char size[32];
	if (rc == 0) {
		snprintf(size, sizeof(size), "%lld", (long long)bst.st_size);
		rc = manifest_append(r, "file", l.path, size);
	}
	if (rc == 0) {
		strv_push(&r->backed_up, l.path);
		r->n_changed++;
	}
	location_close(&l);
	/* the caller changes the file in place next: the backup on disk first */
	return rc < 0 ? rc : commit(r, true);
}

/* A file or directory whose mode and owner change (set, or put back by undo): an O_PATH
 * descriptor and its stat. -EINVAL for anything else; the link rule's error for a hard link
 * (its other names, maybe outside the root, would change mode too). */
static int open_for_mode(struct root *r, const char *path, struct stat *st)
{
	int fd = root_openat(r, path, O_PATH | O_NOFOLLOW, 0);
	if (fd < 0)
		return fd;
	int rc = fstat(fd, st) < 0 ? -errno : 0;
	if (rc == 0 && !S_ISREG(st->st_mode) && !S_ISDIR(st->st_mode))
		rc = -EINVAL;
	if (rc == 0)
		rc = link_rule(r, fd, "");
	if (rc < 0) {
		close(fd);
		return rc;
	}
	return fd;
}

int root_set_mode(struct root *r, const char *path, uid_t uid, gid_t gid, mode_t mode)
{
	if (r->readonly)
		return -EROFS;
	struct stat st;
	_cleanup_close_ int fd = open_for_mode(r, path, &st);
	if (fd < 0)
		return fd;
	char ipath[PATH_MAX];
	int rc = instance_path_of(r, fd, ipath, sizeof(ipath));
	if (rc < 0)
		return rc;
	/* old mode, owner, group, then the new ones: undo restores only a file still as this
	 * run left it */
	char extra[128];
	snprintf(extra, sizeof(extra), "%o\t%u\t%u\t%o\t%u\t%u", (unsigned)(st.st_mode & 07777),
		 (unsigned)st.st_uid, (unsigned)st.st_gid, (unsigned)(mode & 07777),
		 (unsigned)(uid == (uid_t)-1 ? st.st_uid : uid),
		 (unsigned)(gid == (gid_t)-1 ? st.st_gid : gid));
	if ((rc = manifest_append(r, "mode", ipath, extra)) < 0)
		return rc;
	r->n_changed++;
	/* changed by root_commit(), once the manifest line is on disk */
	struct batch_op *op = batch_add(r, BATCH_MODE, fd, "");
	fd = -1;
	op->uid = uid;
	op->gid = gid;
	op->mode = mode;
	return 0;
}

int root_mkdir(struct root *r, const char *path, mode_t mode)
{
	if (r->readonly)
		return -EROFS;
	struct stat st;
	if (root_stat(r, path, &st) == 0)
		return S_ISDIR(st.st_mode) ? 0 : -EEXIST;
	return mkdir_p(r, path, mode, true, NULL);
}


int root_host_path(struct root *r, const char *path, char **host_path)
{
	/* the caller reads or writes by path, not through root.c: the run's changes first */
	int rc = commit(r, false);
	return rc < 0 ? rc : host_path_of(r, path, host_path);
}

static int host_path_of(struct root *r, const char *path, char **out)
{
	char prefix[PATH_MAX];
	int rc = root_prefix(r, prefix, sizeof(prefix));
	if (rc < 0)
		return rc;
	struct location l;
	rc = locate(r, path, &l);
	if (rc == 0)
		*out = xasprintf("%s%s", prefix, l.path);
	location_close(&l);
	return rc;
}

int root_write_own(struct root *r, const char *path, const void *data, size_t len)
{
	if (r->readonly)
		return -EROFS;
	char dir[PATH_MAX];
	snprintf(dir, sizeof(dir), "/%s", rel(path));
	char *slash = strrchr(dir, '/');
	*slash = '\0';
	int rc = mkdir_p(r, dir[0] ? dir : "/", 0755, false, NULL);
	if (rc < 0)
		return rc;
	struct location l;
	if ((rc = locate(r, path, &l)) == 0 && (rc = link_rule(r, l.dirfd, "")) == 0) {
		struct edit ed = { .off = 0, .len = 0, .text = (char *)data, .text_len = len };
		struct edits whole = { .v = &ed, .n = 1 };
		struct content c = { .orig = "", .e = &whole, .src = -1, .from = -1 };
		rc = replace_at(r, &l, &c, 0644);
	}
	location_close(&l);
	return rc;
}

int root_check_write(struct root *r, const char *path)
{
	struct location l;
	int rc = locate(r, path, &l);
	if (rc == 0 && !l.exists)
		rc = -ENOENT;
	if (rc == 0)
		rc = location_rule(r, &l);
	location_close(&l);
	return rc;
}

int root_remove_file(struct root *r, const char *path)
{
	if (r->readonly)
		return -EROFS;
	struct location l;
	int rc = locate(r, path, &l);
	if (rc == 0 && l.exists && (rc = location_rule(r, &l)) == 0 &&
	    (rc = backup_original(r, &l, true, NULL)) == 0) {
		/* removed by root_commit(), once the backup is on disk */
		int fd = fcntl(l.dirfd, F_DUPFD_CLOEXEC, 0);
		if (fd < 0)
			rc = -errno;
		else
			batch_add(r, BATCH_UNLINK, fd, l.base);
	}
	location_close(&l);
	return rc == -ENOENT ? 0 : rc;
}

int root_copy_out(struct root *r, const char *path, int dst_dir, const char *name, size_t max,
		  bool check_links, struct stat *out_st)
{
	struct stat st;
	_cleanup_close_ int src = open_regular(r, path, max, &st);
	if (src < 0)
		return src;
	int rc = check_links ? root_check_write(r, path) : 0;
	if (rc < 0)
		return rc;
	_cleanup_close_ int dst =
		openat(dst_dir, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (dst < 0)
		return -errno;
	uint64_t total = 0;
	char chunk[COPY_CHUNK];
	for (;;) {
		ssize_t n = read(src, chunk, sizeof(chunk));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			break;
		if ((total += (uint64_t)n) > max)
			return -EFBIG; /* grown since fstat() */
		if ((rc = write_all(dst, chunk, (size_t)n)) < 0)
			return rc;
	}
	if (out_st)
		*out_st = st;
	return 0;
}

/* ---- undo ---- */

/* A manifest path: absolute, no "." or ".." component (the manifest lies in the instance and
 * is read as hostile input; every path is still resolved inside the root). */
static bool manifest_path_ok(const char *path)
{
	if (path[0] != '/' || !path[1])
		return false;
	for (const char *p = path; *p; p++)
		if (p[0] == '/' &&
		    (p[1] == '/' || (p[1] == '.' && (!p[2] || p[2] == '/' ||
						     (p[2] == '.' && (!p[3] || p[3] == '/'))))))
			return false;
	return true;
}

/* Put back a backup. It must be a regular file of the size the manifest recorded (entries
 * of older versions record none), with a single link (a hard link to a file of the host would
 * copy it into the instance) unless it still is the file itself (a replace that failed after
 * the backup link), and no setuid or setgid bit: sshrescue never changes such a file, so a
 * backup with one was planted. */
static int restore_file(struct root *r, const char *run_id, const char *path, const char *extra)
{
	_cleanup_free_ char *bpath = xasprintf("%s/%s/files%s", r->backup_dir, run_id, path);
	_cleanup_close_ int src = root_openat(r, bpath, O_RDONLY | O_NOFOLLOW | O_NONBLOCK, 0);
	if (src < 0)
		return src;
	struct stat st;
	if (fstat(src, &st) < 0)
		return -errno;
	if (!S_ISREG(st.st_mode))
		return -EINVAL;
	long long size;
	if (extra && (sscanf(extra, "%lld", &size) != 1 || size != (long long)st.st_size))
		return -EBADMSG;
	if (st.st_mode & (S_ISUID | S_ISGID))
		return -EPERM;
	struct location l;
	int rc = locate(r, path, &l);
	if (rc == 0 && l.exists) {
		struct stat cur;
		if (fstatat(l.dirfd, l.base, &cur, AT_SYMLINK_NOFOLLOW) == 0 &&
		    cur.st_dev == st.st_dev && cur.st_ino == st.st_ino) {
			location_close(&l);
			return 0; /* never replaced: the file is its own backup */
		}
		rc = location_rule(r, &l);
	}
	/* other names of the backup: only backups of the same file (a run killed after its
	 * backup link, whose next run linked the same original) */
	if ((rc == 0 || rc == -ENOENT) && st.st_nlink > 1 &&
	    backup_links(r, path, &st) != st.st_nlink)
		rc = -EMLINK;
	if (rc == -ENOENT) {
		char dir[PATH_MAX];
		snprintf(dir, sizeof(dir), "%s", path);
		*strrchr(dir, '/') = '\0';
		if ((rc = mkdir_p(r, dir[0] ? dir : "/", 0755, false, NULL)) == 0)
			rc = locate(r, path, &l);
	}
	if (rc == 0)
		rc = link_rule(r, l.dirfd, "");
	if (rc == 0)
		rc = copy_to(NULL, src, &st, l.dirfd, l.base);
	location_close(&l);
	return rc;
}

static int restore_absent(struct root *r, const char *path)
{
	struct location l;
	int rc = locate(r, path, &l);
	if (rc == 0 && l.exists)
		rc = link_rule(r, l.dirfd, l.base);
	if (rc == 0 && l.exists && unlinkat(l.dirfd, l.base, 0) < 0)
		rc = -errno;
	if (rc == 0)
		rc = fsync_dir(l.dirfd);
	location_close(&l);
	return rc == -ENOENT ? 0 : rc;
}

/* Put back a mode and owner. Never a setuid or setgid bit (-EPERM): sshrescue only changes
 * the modes of host keys and of sshd's privilege separation directory, which have neither, so
 * a manifest that asks for one was planted. Only a file still as the run left it (the new
 * mode, owner and group the entry records; -ESTALE otherwise), under the link rule. */
static int restore_mode(struct root *r, const char *path, const char *extra)
{
	unsigned mode, uid, gid, new_mode, new_uid, new_gid;
	int n = extra ? sscanf(extra, "%o\t%u\t%u\t%o\t%u\t%u", &mode, &uid, &gid, &new_mode,
			       &new_uid, &new_gid)
		      : 0;
	if (n != 3 && n != 6)
		return -EINVAL;
	if (mode & ~07777u)
		return -EINVAL;
	if (mode & (S_ISUID | S_ISGID))
		return -EPERM;
	struct stat st;
	_cleanup_close_ int fd = open_for_mode(r, path, &st);
	if (fd < 0)
		return fd;
	if (n == 6 &&
	    ((st.st_mode & 07777) != new_mode || st.st_uid != new_uid || st.st_gid != new_gid))
		return -ESTALE;
	char proc[64];
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
	if (chown(proc, uid, gid) < 0 || chmod(proc, mode) < 0)
		return -errno;
	return 0;
}

static int restore_dir(struct root *r, const char *path)
{
	char parent[PATH_MAX];
	snprintf(parent, sizeof(parent), "%s", path);
	char *slash = strrchr(parent, '/');
	if (!slash)
		return -EINVAL;
	*slash = '\0';
	_cleanup_close_ int dfd = root_openat(r, parent[0] ? parent : "/", O_PATH | O_DIRECTORY, 0);
	if (dfd < 0)
		return dfd == -ENOENT ? 0 : dfd;
	if (unlinkat(dfd, slash + 1, AT_REMOVEDIR) < 0 && errno != ENOENT && errno != ENOTEMPTY)
		return -errno;
	return 0;
}

static const char *undo_why(int rc)
{
	switch (-rc) {
	case EPERM:
		return "the manifest asks for a setuid or setgid mode, which no run sets; refused";
	case EBADMSG:
		return "the backup is not the size the manifest recorded (changed or planted); "
		       "left alone";
	case ESTALE:
		return "its mode or owner is no longer what that run set; left alone";
	case EINVAL:
		return "not an entry sshrescue writes (path, kind or file type); left alone";
	default:
		return root_strerror(rc);
	}
}

static int cmp_str_desc(const void *a, const void *b)
{
	return strcmp(*(char *const *)b, *(char *const *)a);
}

/* The newest run (by id) with a manifest that has not been undone. */
static int latest_run(struct root *r, char **out)
{
	DIR *d;
	int rc = root_opendir(r, r->backup_dir, &d);
	if (rc < 0)
		return rc == -ENOENT ? -ESRCH : rc;
	struct strv ids = { 0 };
	struct dirent *de;
	while ((de = readdir(d)))
		if (de->d_name[0] != '.')
			strv_push(&ids, de->d_name);
	closedir(d);
	if (ids.n)
		qsort(ids.v, ids.n, sizeof(*ids.v), cmp_str_desc);
	rc = -ESRCH;
	for (size_t i = 0; i < ids.n && rc == -ESRCH; i++) {
		_cleanup_free_ char *m = xasprintf("%s/%s/%s", r->backup_dir, ids.v[i], MANIFEST);
		_cleanup_free_ char *u = xasprintf("%s/%s/%s", r->backup_dir, ids.v[i], UNDONE);
		struct stat st;
		if (root_stat(r, m, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0 &&
		    root_stat(r, u, &st) == -ENOENT) {
			*out = xstrdup(ids.v[i]);
			rc = 0;
		}
	}
	strv_free(&ids);
	return rc;
}

int root_undo(struct root *r, const char *run_id, size_t *restored, char **used,
	      struct strv *messages)
{
	if (r->readonly)
		return -EROFS;
	_cleanup_free_ char *id = NULL;
	int rc;
	if (run_id) {
		if (!*run_id || strchr(run_id, '/') || run_id[0] == '.')
			return -EINVAL;
		id = xstrdup(run_id);
	} else if ((rc = latest_run(r, &id)) < 0) {
		return rc;
	}
	_cleanup_free_ char *mpath = xasprintf("%s/%s/%s", r->backup_dir, id, MANIFEST);
	_cleanup_free_ char *data = NULL;
	size_t len;
	if ((rc = root_read_file(r, mpath, ROOT_MAX_CONFIG, &data, &len)) < 0)
		return rc == -ENOENT ? -ESRCH : rc;

	/* Undo in reverse order: a file created after a directory was made goes first. */
	struct strv lines = { 0 };
	for (char *save = NULL, *line = strtok_r(data, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save))
		strv_push(&lines, line);
	*restored = 0;
	int first_err = 0;
	for (size_t i = lines.n; i-- > 0;) {
		char *kind = lines.v[i];
		char *path = strchr(kind, '\t');
		if (!path)
			continue;
		*path++ = '\0';
		char *extra = strchr(path, '\t');
		if (extra)
			*extra++ = '\0';
		unescape_path(path);
		if (!manifest_path_ok(path))
			rc = -EINVAL;
		else if (!strcmp(kind, "file"))
			rc = restore_file(r, id, path, extra);
		else if (!strcmp(kind, "absent"))
			rc = restore_absent(r, path);
		else if (!strcmp(kind, "mode"))
			rc = restore_mode(r, path, extra);
		else if (!strcmp(kind, "dir"))
			rc = restore_dir(r, path);
		else
			rc = -EINVAL;
		if (rc < 0) {
			strv_push_owned(messages, xasprintf("%s: %s", path, undo_why(rc)));
			if (!first_err)
				first_err = rc;
		} else {
			strv_push_owned(messages, xasprintf("%s: restored", path));
			(*restored)++;
		}
	}
	strv_free(&lines);
	if (!first_err) {
		_cleanup_free_ char *u = xasprintf("%s/%s/%s", r->backup_dir, id, UNDONE);
		int fd = root_openat(r, u, O_WRONLY | O_CREAT | O_NOFOLLOW, 0600);
		if (fd >= 0)
			close(fd);
	}
	*used = xstrdup(id);
	return first_err;
}

char *root_new_run_id(void)
{
	/* Microseconds, so that two runs in one second still sort in the order they ran. */
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	struct tm tm;
	gmtime_r(&ts.tv_sec, &tm);
	char stamp[32];
	strftime(stamp, sizeof(stamp), "%Y%m%dT%H%M%S", &tm);
	return xasprintf("%s.%06ldZ-%d", stamp, ts.tv_nsec / 1000, (int)getpid());
}
