/* root.h: every access to the instance's files. Paths are instance paths ("/etc/hosts.deny"),
 * resolved inside the instance root with openat2(RESOLVE_IN_ROOT), so a symlink or ".." in the
 * instance never reaches a file of the system sshrescue runs on. Changed files are replaced
 * atomically, keep mode, owner and extended attributes, and are backed up first under the
 * run's backup directory, from where `undo` restores them. */
#ifndef SSHRESCUE_ROOT_H
#define SSHRESCUE_ROOT_H

#include <stdbool.h>
#include <dirent.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "util.h"

struct root {
	int fd;           /* O_PATH directory fd of the instance root */
	char *path;       /* where it is mounted, for messages */
	char *run_id;     /* this run's id; names the backup directory */
	char *backup_dir; /* instance path of the backup base, "/var/lib/sshrescue/backups" */
	bool readonly;    /* check: every write is refused with -EROFS */
	size_t n_changed; /* files replaced, created or removed by this run */
	int manifest_fd;  /* this run's backup manifest, opened at the first change */
	struct strv backed_up; /* instance paths already backed up in this run */
	/* The mounts that are the instance's (statx mount ids of the root's own mount and of
	 * every filesystem mounted under it): a write to a file on any other one is refused.
	 * any_mount: the root is "/" (the running system), every mount is the instance's. */
	uint64_t *mnt_ids;
	size_t n_mnt_ids;
	bool any_mount;
	/* The first path of sshrescue's own bookkeeping (backup directory, manifest) that could
	 * not be made, and why: every change that needed it was refused, and the policies name
	 * the file they meant to change; this names the one that failed. */
	char *failed_path;
	int failed_rc;
	struct root_batch *batch; /* writes not yet durable and renames not yet done (root.c) */
};

/* The link rule: every write path (replace, backup, chmod/chown, undo, removal, the private
 * copy of a database) refuses a regular file with more than one hard link (-EMLINK: another
 * name, maybe outside the instance, would change too) and a file on a mount that is not the
 * instance's (-EXDEV). root_strerror() says so in words, for those and any other -errno. */
const char *root_strerror(int rc);

/* Largest file policies read, unless they ask for another bound. */
#define ROOT_MAX_CONFIG (16u << 20)

int root_open(struct root *r, const char *path, const char *backup_dir, const char *run_id,
	      bool readonly);
void root_close(struct root *r);

/* All of an open file, at most max (> 0) bytes (-EFBIG past them), NUL-terminated: how every
 * file of the instance is read, by root_read_file() and by the target modules' look at a
 * candidate root before it is one. */
int root_read_fd(int fd, size_t max, char **data, size_t *len);

/* Read a whole regular file. -ENOENT (absent), -EISDIR, -EINVAL (not a regular file: FIFO,
 * socket, device), -EFBIG (larger than max), -ELOOP, other -errno. *data is NUL-terminated
 * (the file may hold NUL bytes too: use *len). Never blocks on a FIFO. */
int root_read_file(struct root *r, const char *path, size_t max, char **data, size_t *len);
/* A large instance file read whole into private memory (huge pages when available: on
 * virtual machines with shadow page tables a 4 KiB page fault costs microseconds), read-only.
 * data is NOT NUL-terminated; use len. It is a snapshot: st says which file and version it
 * is, so root_replace_map() can copy the unchanged ranges from the file itself. */
struct root_map {
	const char *data;
	size_t len;
	void *addr; /* the anonymous mapping data lies in, cap bytes */
	size_t cap;
	struct stat st;
};
int root_map_file(struct root *r, const char *path, size_t max, struct root_map *m);
void root_unmap(struct root_map *m);
/* stat (following symlinks inside the root). */
int root_stat(struct root *r, const char *path, struct stat *st);
/* Open a directory of the instance for listing (caller closedir()s); -errno. */
int root_opendir(struct root *r, const char *path, DIR **out);

/* One replacement in a file: bytes [off, off+len) of the original become text[0..text_len). */
struct edit {
	size_t off, len;
	char *text; /* owned; NULL for a pure deletion */
	size_t text_len;
};
struct edits {
	struct edit *v; /* grown by xgrow() */
	size_t n;
};
/* Append an edit (edits must come in file order and not overlap). Adjacent deletions are
 * merged, so deleting a million consecutive lines costs one entry. text is copied. */
void edits_add(struct edits *e, size_t off, size_t len, const char *text, size_t text_len);
void edits_free(struct edits *e);
/* Apply edits to orig and hand the result, piece by piece, to out(). Pure. */
int edits_apply(const char *orig, size_t orig_len, const struct edits *e,
		int (*out)(void *arg, const void *p, size_t n), void *arg);

/* Replace the file at path with orig+edits (orig is the file's current content as read).
 * Backs up the original first; *backup (may be NULL) receives the backup's instance path.
 * The file keeps its mode, owner, group and xattrs. A symlink is replaced at its target. */
int root_replace(struct root *r, const char *path, const char *orig, size_t orig_len,
		 const struct edits *e, char **backup);
/* The same for a file read with root_map_file(): when the file is still the one read (inode,
 * size, mtime, ctime), its unchanged ranges are copied inside the kernel, as cp does. */
int root_replace_map(struct root *r, const char *path, const struct root_map *m,
		     const struct edits *e, char **backup);
/* Write a whole file (new or existing) with the given content. A file that did not exist is
 * created with mode (owner root) and recorded so that undo removes it; parent directories
 * that do not exist are created 0755. */
int root_write_file(struct root *r, const char *path, const void *data, size_t len,
		    mode_t mode, char **backup);
/* The same, with the content read from src (a file of the host, e.g. a database's private
 * copy) from offset 0 to its end, copied inside the kernel: never held in memory. */
int root_write_file_from(struct root *r, const char *path, int src, mode_t mode, char **backup);
/* Back up a file that the caller changes by other means (e.g. an SQLite database); returns
 * the backup's instance path, the backup on disk (root_commit()). The caller then writes
 * through root_open_file(). */
int root_backup_file(struct root *r, const char *path, char **backup);
/* Change mode (and owner: uid/gid (uid_t)-1 keeps) of an instance file or directory; the
 * old mode and owner are recorded so undo puts them back. */
int root_set_mode(struct root *r, const char *path, uid_t uid, gid_t gid, mode_t mode);
/* Create a directory (parents too) owned by root; recorded so undo removes it when empty. */
int root_mkdir(struct root *r, const char *path, mode_t mode);
/* A backup that the caller writes itself (e.g. with SQLite's backup API): prepare creates the
 * run's backup file of path, empty, with the original's mode, owner and xattrs, and gives its
 * instance path and host path; commit, once the caller has written it whole, syncs it and
 * records it in the manifest, so undo copies it back, and commits (root_commit()): the caller
 * changes the file in place next. -EALREADY: path has a backup already. */
int root_backup_prepare(struct root *r, const char *path, char **backup, char **host_path);
int root_backup_commit(struct root *r, const char *path);
/* 0 when a write to path would obey the link rule; -ENOENT (absent), -EMLINK, -EXDEV... */
int root_check_write(struct root *r, const char *path);
/* Remove an instance file (SQLite's stale -wal or -shm beside a database that was replaced):
 * backed up first (undo puts it back), refused under the link rule. Absent: 0. */
int root_remove_file(struct root *r, const char *path);
/* Copy a regular instance file to dst_dir/name on the host (a private directory), bounded by
 * max bytes, never blocking on a FIFO. With check_links the link rule applies (a database
 * that will be written back). *st (may be NULL) receives the file's stat. -ENOENT: absent. */
int root_copy_out(struct root *r, const char *path, int dst_dir, const char *name, size_t max,
		  bool check_links, struct stat *st);
/* Open an instance file (flags as open(2), O_NOFOLLOW on the last component added); -errno. */
int root_open_file(struct root *r, const char *path, int flags, mode_t mode);
/* The host path of an instance path (for libraries that want a path, e.g. sqlite3); the
 * path is resolved inside the root first, so it names a file that is inside it. */
int root_host_path(struct root *r, const char *path, char **host_path);

/* Durability is batched per filesystem: root_replace(), root_write_file(),
 * root_remove_file() and root_set_mode() write temporaries, backups and the manifest without
 * syncing each, and queue the rename (removal, mode change) that makes the change visible.
 * root_commit() then syncs each filesystem written to once (syncfs), performs the queued
 * changes in order, and syncs once more: a file's new name never reaches the disk before its
 * content, nor before the backup and manifest line that let undo put its original back.
 * A reader through root.c sees the batch's new content; a writer, a listing or a host path
 * makes the batch visible first (root_publish()). Call root_publish() before anything reads
 * the instance by other means (a program of the instance in the sandbox), and root_commit()
 * once at the end of the run. -errno: a sync, rename or mode change failed (the files not yet
 * renamed keep their original content). */
int root_commit(struct root *r);
/* root_commit() without its last sync, for the commit right before the instance's filesystems
 * are unmounted: the unmount writes them out (agent/target/ syncs a busy one before detaching it).
 * Every file is still its original or its repaired version if the machine stops before. */
int root_commit_unmounting(struct root *r);
/* Make the run's changes visible (in the same safe order) without waiting for the renames to
 * reach the disk: before a program of the instance reads it in the sandbox. */
int root_publish(struct root *r);

/* Write a file that is sshrescue's own (report, history), without backing it up. */
int root_write_own(struct root *r, const char *path, const void *data, size_t len);

/* undo: restore the files of run run_id (NULL: the latest run that changed any).
 * *restored counts files put back; the run id used goes to *used (caller frees). */
int root_undo(struct root *r, const char *run_id, size_t *restored, char **used,
	      struct strv *messages);

/* A run id: UTC time and pid, sortable: "20261125T030102.123456Z-1234". */
char *root_new_run_id(void);

#endif
