/* lock.h: one run per instance at a time. A lock file on the host (never inside the instance),
 * /run/sshrescue-locks/lock.KEY, held with flock() for the whole run: KEY names the target as the
 * kernel knows it (the root directory's, the image's or the block device's numbers), so two
 * spellings of one target take the same lock. */
#ifndef SSHRESCUE_LOCK_H
#define SSHRESCUE_LOCK_H

#include <stdbool.h>

/* A directory of its own (not the target modules' /run/sshrescue, whose entries are runs' pids), in
 * /run, which only root can write: a user of the host cannot plant it. */
#define LOCK_DIR "/run/sshrescue-locks"
/* How long a second run waits for the first before it gives up. */
#define LOCK_WAIT_MS 5000

struct run_lock {
	int fd;	   /* -1: not held */
	char *key; /* "root-DEV:INO", "image-DEV:INO", "blk-MAJ:MIN" */
};

/* The key of a target before it is acquired: --root DIR, --image FILE (takes precedence over
 * --device), --device /dev/PATH. NULL (caller frees otherwise) when the target is not known
 * yet (discovery, UUID=...): then lock_key_of_root() once it is mounted. */
char *lock_key_of_target(const char *root_dir, const char *image, const char *device);
/* The key of a mounted root: the block device its filesystem lies on. */
char *lock_key_of_root(const char *root_path);

/* Take the lock of key (owned by l afterwards), waiting up to LOCK_WAIT_MS. -EBUSY: another
 * run holds it, *holder (caller frees) says which ("pid 1234, repair, since 10:30:02 UTC").
 * Other -errno: no lock could be made (the caller goes on without, and says so). */
int lock_take(struct run_lock *l, char *key, const char *command, char **holder);
void lock_release(struct run_lock *l);

#endif
