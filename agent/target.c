/* target.c: finding and mounting the instance root, and releasing it. The only module that
 * mounts. */
#include "target.h"

#include <errno.h>
#include <string.h>
#include <sys/stat.h>

static int target_use_directory(const char *dir, struct target *t, char **err)
{
	struct stat st;
	if (stat(dir, &st) < 0) {
		int rc = -errno;
		*err = xasprintf("%s: %s", dir, strerror(errno));
		return rc;
	}
	if (!S_ISDIR(st.st_mode)) {
		*err = xasprintf("%s: not a directory", dir);
		return -ENOTDIR;
	}
	t->kind = xstrdup("directory");
	t->root_path = xstrdup(dir);
	return 0;
}

int target_acquire(const struct target_opts *o, struct target *t, char **err)
{
	memset(t, 0, sizeof(*t));
	if (o->root_dir)
		return target_use_directory(o->root_dir, t, err);
	*err = xstrdup("finding the instance on attached disks is not available in this build; "
		       "give --root DIR");
	return -ENOTSUP;
}

int target_release(struct target *t)
{
	return 0;
}

struct json_object *target_to_json(const struct target *t)
{
	struct json_object *o = json_object_new_object();
	json_object_object_add(o, "kind", json_object_new_string(t->kind ? t->kind : "none"));
	json_object_object_add(o, "device", t->device ? json_object_new_string(t->device) : NULL);
	json_object_object_add(o, "uuid", t->uuid ? json_object_new_string(t->uuid) : NULL);
	json_object_object_add(o, "fstype", t->fstype ? json_object_new_string(t->fstype) : NULL);
	json_object_object_add(o, "root", t->root_path ? json_object_new_string(t->root_path) : NULL);
	struct json_object *mounts = json_object_new_array();
	for (size_t i = 0; i < t->n_mounts; i++) {
		const struct target_mount *m = &t->mounts[i];
		struct json_object *jm = json_object_new_object();
		json_object_object_add(jm, "source", json_object_new_string(m->source));
		json_object_object_add(jm, "mountpoint", json_object_new_string(m->mountpoint));
		json_object_object_add(jm, "instance_path", json_object_new_string(m->instance_path));
		json_object_object_add(jm, "fstype", json_object_new_string(m->fstype));
		json_object_object_add(jm, "options", json_object_new_string(m->options));
		json_object_array_add(mounts, jm);
	}
	json_object_object_add(o, "mounts", mounts);
	return o;
}

int target_discover(bool json, char **err)
{
	*err = xstrdup("discover is not available in this build");
	return -ENOTSUP;
}

void target_free(struct target *t)
{
	free(t->kind);
	free(t->device);
	free(t->uuid);
	free(t->fstype);
	free(t->root_path);
	for (size_t i = 0; i < t->n_mounts; i++) {
		free(t->mounts[i].source);
		free(t->mounts[i].mountpoint);
		free(t->mounts[i].instance_path);
		free(t->mounts[i].fstype);
		free(t->mounts[i].options);
	}
	free(t->mounts);
	strv_free(&t->loops);
	strv_free(&t->vgs);
	free(t->private_dir);
	memset(t, 0, sizeof(*t));
}
