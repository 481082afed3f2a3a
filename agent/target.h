/* target.h: finding and mounting the instance root (a directory, a block device, or a disk
 * image through loop devices), and releasing everything again. The only module that mounts. */
#ifndef SSHRESCUE_TARGET_H
#define SSHRESCUE_TARGET_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stdint.h>

#include "util.h"

struct target_opts {
	const char *root_dir; /* --root DIR */
	const char *device;   /* --device SPEC */
	const char *image;    /* --image FILE */
	const char *exclude;  /* --exclude SPEC: a partition of a disk never to touch */
	const char *cfg_root; /* [target] root ("auto" or a SPEC) */
	bool readonly;        /* check: mount read-only */
};

struct target_mount {
	char *source;        /* device */
	char *mountpoint;    /* host path */
	char *instance_path; /* "/", "/var" */
	char *fstype;
	char *options;
};

struct target {
	char *kind; /* "directory" | "device" | "image" */
	char *device, *uuid, *fstype;
	char *root_path; /* host path of the instance root */
	struct target_mount *mounts;
	size_t n_mounts;
	/* what release undoes */
	struct strv loops;   /* loop devices attached by us */
	struct strv vgs;     /* volume groups activated by us */
	char *private_dir;   /* our mount base, removed on release */
};

/* Find and mount the target; *err gets a message on failure (-errno returned). */
int target_acquire(const struct target_opts *o, struct target *t, char **err);
/* Unmount in reverse order, detach loops, deactivate VGs; safe to call twice. */
int target_release(struct target *t);
/* The report's "target" object. */
struct json_object *target_to_json(const struct target *t);
/* One Linux root that `discover` found; every string may be NULL (and comes from the disk). */
struct target_candidate {
	char *device; /* its node, or for an image's partition where it is ("img partition 2") */
	char *origin, *fstype, *uuid, *label, *partuuid, *pretty_name, *subvol, *mounted_at;
	uint64_t size;
};
struct target_candidates {
	struct target_candidate *v;
	size_t n;
	struct strv notes; /* devices skipped or refused, and why */
};
/* `discover`: the candidate roots among the attached disks or inside o->image / o->device,
 * each mounted read-only to look and released again. Returns 0, or -errno with *err. The
 * caller prints them. */
int target_discover(const struct target_opts *o, struct target_candidates *out, char **err);
void target_candidates_free(struct target_candidates *c);
void target_free(struct target *t);

#endif
