/* stage.h: the instance staged for the sandbox that runs its programs (spawn.c): its tree
 * attached read-only, nosuid, nodev (id-mapped where the filesystem allows) on a private tmpfs,
 * and the sandbox's other tmpfs mounts. The only mounts made outside the target's own, all of
 * them in the sandbox child's private mount namespace, which dies with it. */
#ifndef SSHRESCUE_TARGET_STAGE_H
#define SSHRESCUE_TARGET_STAGE_H

#include <stdbool.h>

#define STAGE "/tmp"		 /* the child's private tmpfs */
#define STAGE_ROOT STAGE "/root" /* the id-mapped instance */
#define STAGE_SCRATCH STAGE "/scratch"
#define STAGE_ETC_SSH STAGE "/etc-ssh"

/* The step of the sandbox's making that failed (spawn.c reports it in words). */
enum { ST_OK, ST_USERNS, ST_IDMAP, ST_MOUNT, ST_SECCOMP, ST_FORK };

/* In a new private mount namespace of the caller: the instance tree at root (still the
 * directory root_fd names) at STAGE_ROOT, read-only, nosuid, nodev, id-mapped through
 * userns_fd where it can be (else *copied: /etc/ssh must be copied for the sandbox's uid).
 * Leaves the initramfs's rootfs first (bwrap cannot pivot_root from it). 0, or -errno with
 * *stage the step that failed. */
int target_stage_instance(const char *root, int root_fd, int userns_fd, int *stage, bool *copied);

/* A tmpfs named name at path (nosuid, nodev) with the given options. 0 or -errno. */
int target_stage_tmpfs(const char *path, const char *name, const char *opts);

#endif
