/* acquire.c: the target's interface (target.h): the chosen root and the instance's own /var
 * and /etc filesystems mounted (target_acquire), released again (target_release, also from a
 * signal handler), the candidates listed (target_discover), the report's target.
 *
 * The target modules (agent/target/) find and mount the instance root: a directory, a block
 * device, or a disk image through loop devices. They are the only code that mounts.
 * Rescue mode: every block device in /sys/class/block except the running system's own root,
 * the disks under it and what holds it, is probed with libblkid (blockdev.c). Partition tables
 * that the kernel did not split (images; kernels without partition support) are read with
 * libblkid's partitions API and each partition gets its own loop device. LVM2 members are
 * activated through the rescue system's lvm (lvm.c). A candidate is a Linux root when it has
 * etc/os-release (or usr/lib/os-release) and etc/fstab (choose.c, mount.c).
 *
 * Everything set up is recorded in one static registry of fixed-size arrays (registry.c), so
 * that target_release() needs only syscalls: main calls it from its SIGINT/SIGTERM handler.
 * Two further guards hold even on SIGKILL: all mounts live in a private mount namespace of
 * this process, and loop devices are attached with autoclear. */
#include "target.h"
#include "target/internal.h"

/* The chosen root and the instance's own /var and /etc filesystems. */

static void target_push_mount(struct target *t, const char *src, const char *dir, const char *ipath,
			      const char *fstype, const char *opts)
{
	t->mounts = xgrow(t->mounts, t->n_mounts, sizeof(*t->mounts));
	struct target_mount *m = &t->mounts[t->n_mounts++];
	m->source = xstrdup(src);
	m->mountpoint = xstrdup(dir);
	m->instance_path = xstrdup(ipath);
	m->fstype = xstrdup(fstype);
	m->options = xstrdup(opts);
}

/* The probe mount of the root made read-only; repair needs it writable. A remount, not a new
 * mount: the kernel checks what it checks for a read-write mount (ext4 refuses bad group
 * descriptors, an unsupported feature...) either way. */
static int target_remount_rw(const struct bdev *d, const char *dir, char **err)
{
	const char *what = d->origin;
	struct libmnt_context *cxt = mnt_new_context();
	if (!cxt) {
		*err = xstrdup("libmount: out of memory");
		return -ENOMEM;
	}
	mnt_context_disable_mtab(cxt, 1);
	mnt_context_disable_helpers(cxt, 1);
	/* the instance's mount alone: nothing from the rescue system's fstab */
	mnt_context_set_optsmode(cxt, MNT_OMODE_NOTAB);
	mnt_context_set_source(cxt, d->path);
	mnt_context_set_target(cxt, dir);
	mnt_context_set_fstype(cxt, d->fstype);
	mnt_context_set_options(cxt, "remount,rw,nosuid,nodev");
	int rc = mnt_context_mount(cxt);
	bool ok = rc == 0 && mnt_context_get_status(cxt) == 1;
	if (!ok) {
		char msg[1024] = "";
		int sys = mnt_context_syscall_called(cxt) ? mnt_context_get_syscall_errno(cxt) : 0;
		mnt_context_get_excode(cxt, rc, msg, sizeof(msg));
		_cleanup_free_ char *why = target_mount_reason(msg, sys);
		*err = xasprintf("%s: cannot mount read-write: %s", what, why);
		rc = sys ? -sys : -EIO;
	}
	mnt_free_context(cxt);
	return ok ? 0 : rc;
}

static int target_mount_root(struct scan *sc, struct bdev *d, struct target *t, char **err)
{
	char dir[PATH_MAX];
	int rc = target_dir_for(d, dir, sizeof(dir));
	if (rc < 0) {
		*err = xasprintf("%s: %s", dir, strerror(-rc));
		return rc;
	}
	_cleanup_free_ char *opts = target_mount_options(sc, d, false, d->subvol_opt);
	if (d->slot >= 0) {
		/* kept from the probe: read-only as check wants it, or made writable */
		if (!sc->readonly && !d->slot_rw && (rc = target_remount_rw(d, dir, err)) < 0)
			return rc;
	} else if ((rc = target_mount(d->path, d->origin, dir, d->fstype, opts, &d->slot, err)) <
		   0) {
		return rc;
	}
	_cleanup_close_ int fd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0 || !target_has_root_markers(fd, &d->pretty)) {
		*err = xasprintf("%s: not a Linux root (no etc/os-release or usr/lib/os-release, "
				 "or no etc/fstab)",
				 d->origin);
		return -ENOENT;
	}
	target_push_mount(t, d->path, dir, "/", d->fstype, opts);
	t->root_path = xstrdup(dir);
	return 0;
}

struct fstab_entry {
	struct libmnt_fs *fs;
	const char *target;
	size_t depth, order;
};

static int target_cmp_fstab(const void *a, const void *b)
{
	const struct fstab_entry *x = a, *y = b;
	if (x->depth != y->depth)
		return x->depth < y->depth ? -1 : 1;
	return x->order < y->order ? -1 : x->order > y->order;
}

/* (mnt_fs_match_options() reads "noauto" as "not auto": ask for the option itself.) */
static bool target_fs_has_option(struct libmnt_fs *fs, const char *name)
{
	return mnt_fs_get_option(fs, name, NULL, NULL) == 0;
}

static bool target_under(const char *path, const char *top)
{
	size_t l = strlen(top);
	return strncmp(path, top, l) == 0 && (path[l] == '\0' || path[l] == '/');
}

/* The instance's fstab entries for /var and /etc and below that are filesystems of their own:
 * mounted in place, so policies see the instance's whole /var. swap, network, pseudo and
 * noauto entries are not. A missing device fails the run (unless nofail): policies must not
 * write into the directory the real /var hides. */
static int target_mount_fstab(struct scan *sc, struct bdev *root, struct target *t, char **err)
{
	_cleanup_close_ int rootfd = open(t->root_path, O_PATH | O_DIRECTORY | O_CLOEXEC);
	struct libmnt_table *tb = NULL;
	int rc = rootfd < 0 ? -errno : target_fstab_load(rootfd, &tb);
	if (rc < 0) {
		*err = xasprintf("%s: etc/fstab: %s", root->origin, strerror(-rc));
		return rc;
	}
	struct fstab_entry *v = NULL;
	size_t n = 0;
	struct libmnt_iter *it = mnt_new_iter(MNT_ITER_FORWARD);
	struct libmnt_fs *fs;
	while (mnt_table_next_fs(tb, it, &fs) == 0) {
		const char *tgt = mnt_fs_get_target(fs);
		if (!tgt || !(target_under(tgt, "/var") || target_under(tgt, "/etc")))
			continue;
		if (mnt_fs_is_swaparea(fs) || mnt_fs_is_netfs(fs) || mnt_fs_is_pseudofs(fs) ||
		    target_fs_has_option(fs, "noauto") || target_fs_has_option(fs, "bind") ||
		    target_fs_has_option(fs, "rbind"))
			continue;
		v = xgrow(v, n, sizeof(*v));
		size_t depth = 0;
		for (const char *p = tgt; *p; p++)
			depth += *p == '/';
		v[n] = (struct fstab_entry){.fs = fs, .target = tgt, .depth = depth, .order = n};
		n++;
	}
	mnt_free_iter(it);
	if (n)
		qsort(v, n, sizeof(*v), target_cmp_fstab);
	for (size_t i = 0; i < n && rc == 0; i++) {
		struct libmnt_fs *e = v[i].fs;
		const char *src = mnt_fs_get_source(e);
		const char *tname, *tval;
		_cleanup_free_ char *spec = NULL;
		if (mnt_fs_get_tag(e, &tname, &tval) == 0)
			spec = xasprintf("%s=%s", tname, tval);
		else
			spec = xstrdup(src ? src : "");
		struct bdev *d;
		size_t matches = scan_match(sc, spec, &d);
		if (matches != 1) {
			if (matches == 0 && target_fs_has_option(e, "nofail"))
				continue;
			*err = xasprintf("%s: etc/fstab: %s for %s: %s", root->origin, spec,
					 v[i].target,
					 matches ? "more than one device has it"
						 : "no such device among the attached disks");
			rc = -ENODEV;
			break;
		}
		if (!d->fstype || !target_fstype_is_root(d->fstype)) {
			*err = xasprintf(
				"%s: etc/fstab: %s for %s holds %s, not a filesystem we mount",
				root->origin, spec, v[i].target,
				d->fstype ? d->fstype : "nothing recognisable");
			rc = -EMEDIUMTYPE;
			break;
		}
		/* the mount point, resolved inside the instance: a symlink in it stays inside */
		_cleanup_close_ int mfd = target_openat2(rootfd, v[i].target, O_PATH | O_DIRECTORY);
		if (mfd < 0) {
			*err = xasprintf("%s: %s: cannot mount %s there: %s", root->origin,
					 v[i].target, spec, strerror(-mfd));
			rc = mfd;
			break;
		}
		char proc[64], dir[PATH_MAX];
		snprintf(proc, sizeof(proc), "/proc/self/fd/%d", mfd);
		ssize_t dl = readlink(proc, dir, sizeof(dir) - 1);
		if (dl < 0 || (dir[dl] = '\0', !target_under(dir, t->root_path))) {
			*err = xasprintf("%s: %s: mount point outside the instance", root->origin,
					 v[i].target);
			rc = -EXDEV;
			break;
		}
		_cleanup_free_ char *opts =
			target_mount_options(sc, d, false, mnt_fs_get_fs_options(e));
		rc = target_mount(d->path, d->origin, dir, d->fstype, opts, NULL, err);
		if (rc < 0) {
			char *m = *err;
			*err = xasprintf("%s (the instance's %s)", m, v[i].target);
			free(m);
			break;
		}
		target_push_mount(t, d->path, dir, v[i].target, d->fstype, opts);
	}
	free(v);
	mnt_unref_table(tb);
	return rc;
}

/* ---------------------------------------------------------------------------------------- */

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

/* While target_acquire() or discover runs, main does not know the target yet: SIGINT and
 * SIGTERM release what is set up so far, then kill us as they would have. */
static struct sigaction target_saved_int, target_saved_term;

static void target_on_signal(int sig)
{
	spawn_kill_running(); /* an lvm of the scan */
	reg_release();
	signal(sig, SIG_DFL);
	raise(sig);
}

static void target_guard_signals(bool on)
{
	if (on) {
		struct sigaction sa = {.sa_handler = target_on_signal};
		sigemptyset(&sa.sa_mask);
		sigaddset(&sa.sa_mask, SIGINT);
		sigaddset(&sa.sa_mask, SIGTERM);
		sigaction(SIGINT, &sa, &target_saved_int);
		sigaction(SIGTERM, &sa, &target_saved_term);
	} else {
		sigaction(SIGINT, &target_saved_int, NULL);
		sigaction(SIGTERM, &target_saved_term, NULL);
	}
}

static int target_scan(const struct target_opts *o, struct scan *sc, char **err)
{
	int rc = reg_begin(err);
	if (rc < 0)
		return rc;
	rc = o->image ? scan_image(sc, o->image, err) : scan_system(sc, err);
	if (rc < 0)
		return rc;
	return scan_lvm(sc);
}

/* For messages: why no device qualified. */
static void target_explain(struct buf *b, const struct scan *sc, bool all)
{
	for (size_t i = 0; i < sc->n; i++) {
		const struct bdev *d = &sc->v[i];
		if (d->check_err)
			buf_printf(b, "\n  %s", d->check_err);
		else if (all && target_is_candidate(d) && d->checked && !d->is_root)
			buf_printf(b, "\n  %s: %s, not a Linux root (no os-release or fstab)",
				   d->origin, d->fstype);
	}
	for (size_t i = 0; i < sc->notes.n; i++)
		buf_printf(b, "\n  %s", sc->notes.v[i]);
}

/* The devices the root's fstab names for its other mount points (its /var, /home...) belong
 * to that instance: they are not looked at as further roots. */
static void target_claim_fstab_devices(struct scan *sc, struct bdev *root)
{
	if (root->slot < 0)
		return;
	_cleanup_close_ int fd =
		open(reg.mounts[root->slot].path, O_PATH | O_DIRECTORY | O_CLOEXEC);
	struct libmnt_table *tb = NULL;
	if (fd < 0 || target_fstab_load(fd, &tb) < 0)
		return;
	struct libmnt_iter *it = mnt_new_iter(MNT_ITER_FORWARD);
	struct libmnt_fs *fs;
	while (mnt_table_next_fs(tb, it, &fs) == 0) {
		const char *tgt = mnt_fs_get_target(fs), *src = mnt_fs_get_source(fs);
		const char *tname, *tval;
		if (!tgt || strcmp(tgt, "/") == 0 || mnt_fs_is_swaparea(fs))
			continue;
		_cleanup_free_ char *spec = mnt_fs_get_tag(fs, &tname, &tval) == 0
						    ? xasprintf("%s=%s", tname, tval)
						    : xstrdup(src ? src : "");
		struct bdev *d;
		if (*spec && scan_match(sc, spec, &d) == 1 && d != root)
			d->claimed = true;
	}
	mnt_free_iter(it);
	mnt_unref_table(tb);
}

static struct bdev *target_choose(const struct target_opts *o, struct scan *sc, char **err)
{
	const char *spec = o->device;
	if (!spec && o->cfg_root && *o->cfg_root && strcmp(o->cfg_root, "auto") != 0)
		spec = o->cfg_root;
	size_t within = SIZE_MAX; /* a whole disk or image named by spec: search inside it */
	if (spec) {
		struct bdev *d;
		size_t n = scan_match(sc, spec, &d);
		struct stat st;
		if (n == 0 && spec[0] == '/' && stat(spec, &st) == 0 && S_ISBLK(st.st_mode) &&
		    scan_is_excluded(sc, st.st_rdev)) {
			*err = xasprintf("%s is the running system's own disk, not an instance",
					 spec);
			return NULL;
		}
		if (n > 1) {
			struct buf b = {0};
			buf_printf(&b, "%s matches more than one device:\n", spec);
			for (size_t i = 0; i < sc->n; i++)
				if (bdev_matches(&sc->v[i], spec))
					target_describe(&b, &sc->v[i]);
			*err = b.data;
			return NULL;
		}
		if (n == 0) {
			struct buf b = {0};
			buf_printf(&b, "%s: no such device among the attached disks%s", spec,
				   o->image ? " of the image" : "");
			target_explain(&b, sc, false);
			*err = b.data;
			return NULL;
		}
		if (d->whole_disk_expanded) {
			within = (size_t)(d - sc->v);
		} else if (!target_is_candidate(d)) {
			*err = xasprintf(
				"%s: %s holds %s, not a filesystem an instance root can be on",
				spec, d->origin, d->fstype ? d->fstype : "nothing recognisable");
			return NULL;
		} else {
			return d;
		}
	}
	struct bdev *found = NULL;
	size_t roots = 0;
	for (size_t i = 0; i < sc->n; i++) {
		struct bdev *d = &sc->v[i];
		if (!target_is_candidate(d) || d->claimed ||
		    (within != SIZE_MAX && d->parent != within))
			continue;
		if (d->mounted_at) {
			/* the rescue system uses it: never picked by itself */
			strv_push_owned(&sc->notes,
					xasprintf("%s is mounted at %s; not used unless "
						  "named with --device (or use --root %s)",
						  d->origin, d->mounted_at, d->mounted_at));
			continue;
		}
		target_check_root(sc, d, true);
		if (!d->is_root)
			continue;
		if (++roots == 1) {
			found = d;
			target_claim_fstab_devices(sc, d);
		}
	}
	if (roots == 1)
		return found;
	struct buf b = {0};
	if (roots == 0) {
		buf_puts(&b, "no Linux root found on the attached disks");
		if (o->image)
			buf_printf(&b, " (image %s)", o->image);
		target_explain(&b, sc, true);
	} else {
		buf_printf(&b, "%zu Linux roots found; pick one with --device or [target] root:\n",
			   roots);
		for (size_t i = 0; i < sc->n; i++)
			if (sc->v[i].is_root)
				target_describe(&b, &sc->v[i]);
		if (b.len && b.data[b.len - 1] == '\n')
			b.data[--b.len] = '\0';
	}
	*err = b.data;
	return NULL;
}

static void target_test_pause(const struct target *t)
{
	const char *s = getenv("SSHRESCUE_TEST_PAUSE_AFTER_MOUNT");
	unsigned long secs;
	if (!s || parse_uint(s, 1, 3600, &secs) < 0)
		return;
	say("test pause: %s mounted at %s; sleeping %lu s", t->device ? t->device : "?",
	    t->root_path, secs);
	struct timespec ts = {.tv_sec = (time_t)secs};
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

int target_acquire(const struct target_opts *o, struct target *t, char **err)
{
	memset(t, 0, sizeof(*t));
	*err = NULL;
	if (o->root_dir)
		return target_use_directory(o->root_dir, t, err);
	struct scan sc = {.readonly = o->readonly, .own = o->image != NULL, .exclude = o->exclude};
	target_guard_signals(true);
	int rc = target_scan(o, &sc, err);
	struct bdev *d = NULL;
	if (rc == 0) {
		d = target_choose(o, &sc, err);
		rc = d ? 0 : -ENOENT;
	}
	if (rc == 0) {
		/* a btrfs named with --device: find its root subvolume first */
		if (strcmp(d->fstype, "btrfs") == 0 && !d->checked)
			target_check_root(&sc, d, false);
		rc = target_mount_root(&sc, d, t, err);
	}
	if (rc == 0)
		rc = target_mount_fstab(&sc, d, t, err);
	if (rc == 0) {
		t->kind = xstrdup(o->image ? "image" : "device");
		t->device = xstrdup(o->image ? d->origin : d->path);
		t->uuid = d->uuid ? xstrdup(d->uuid) : NULL;
		t->fstype = xstrdup(d->fstype);
		t->private_dir = xstrdup(reg.base);
		for (int i = 0; i < reg.n_loops; i++) {
			char p[PATH_MAX], l[64];
			snprintf(p, sizeof(p), "/proc/self/fd/%d", reg.loops[i]);
			ssize_t n = reg.loops[i] >= 0 ? readlink(p, l, sizeof(l) - 1) : -1;
			if (n > 0) {
				l[n] = '\0';
				strv_push(&t->loops, l);
			}
		}
		for (int i = 0; i < reg.n_vgs; i++)
			if (reg.vgs[i].activated)
				strv_push(&t->vgs, reg.vgs[i].name);
	}
	scan_free(&sc);
	if (rc < 0) {
		/* nothing half-done: what was set up goes now, not at the caller's release, and t
		 * is left empty */
		reg_release();
		target_free(t);
		target_guard_signals(false);
		char *m = *err;
		*err = xasprintf("%s", m ? m : strerror(-rc));
		free(m);
		return rc;
	}
	target_test_pause(t);
	target_guard_signals(false);
	return 0;
}

int target_release(struct target *t)
{
	(void)t;
	return reg_release();
}

struct json_object *target_to_json(const struct target *t)
{
	struct json_object *o = json_object_new_object();
	json_object_object_add(o, "kind", json_object_new_string(t->kind ? t->kind : "none"));
	json_object_object_add(o, "device", t->device ? json_object_new_string(t->device) : NULL);
	json_object_object_add(o, "uuid", t->uuid ? json_object_new_string(t->uuid) : NULL);
	json_object_object_add(o, "fstype", t->fstype ? json_object_new_string(t->fstype) : NULL);
	json_object_object_add(o, "root",
			       t->root_path ? json_object_new_string(t->root_path) : NULL);
	struct json_object *mounts = json_object_new_array();
	for (size_t i = 0; i < t->n_mounts; i++) {
		const struct target_mount *m = &t->mounts[i];
		struct json_object *jm = json_object_new_object();
		json_object_object_add(jm, "source", json_object_new_string(m->source));
		json_object_object_add(jm, "mountpoint", json_object_new_string(m->mountpoint));
		json_object_object_add(jm, "instance_path",
				       json_object_new_string(m->instance_path));
		json_object_object_add(jm, "fstype", json_object_new_string(m->fstype));
		json_object_object_add(jm, "options", json_object_new_string(m->options));
		json_object_array_add(mounts, jm);
	}
	json_object_object_add(o, "mounts", mounts);
	if (t->loops.n) {
		struct json_object *a = json_object_new_array();
		for (size_t i = 0; i < t->loops.n; i++)
			json_object_array_add(a, json_object_new_string(t->loops.v[i]));
		json_object_object_add(o, "loop_devices", a);
	}
	if (t->vgs.n) {
		struct json_object *a = json_object_new_array();
		for (size_t i = 0; i < t->vgs.n; i++)
			json_object_array_add(a, json_object_new_string(t->vgs.v[i]));
		json_object_object_add(o, "volume_groups", a);
	}
	return o;
}

/* `discover` over the attached disks, or inside an image (o->image). */
static char *dup_or_null(const char *s)
{
	return s ? xstrdup(s) : NULL;
}

int target_discover(const struct target_opts *o, struct target_candidates *out, char **err)
{
	struct scan sc = {.readonly = true, .exclude = o->exclude};
	struct target_opts ro = *o;
	ro.readonly = true;
	*err = NULL;
	memset(out, 0, sizeof(*out));
	target_guard_signals(true);
	int rc = target_scan(&ro, &sc, err);
	if (rc < 0) {
		scan_free(&sc);
		reg_release();
		target_guard_signals(false);
		return rc;
	}
	for (size_t i = 0; i < sc.n; i++) {
		struct bdev *d = &sc.v[i];
		if (!target_is_candidate(d))
			continue;
		target_check_root(&sc, d, false);
		if (d->check_err)
			strv_push(&out->notes, d->check_err);
		if (!d->is_root)
			continue;
		out->v = xgrow(out->v, out->n, sizeof(*out->v));
		struct target_candidate *c = &out->v[out->n++];
		/* an image's partition is known by where it is, not by a loop device now gone */
		*c = (struct target_candidate){
			.device = dup_or_null(o->image ? d->origin : d->path),
			.origin = dup_or_null(d->origin),
			.fstype = dup_or_null(d->fstype),
			.uuid = dup_or_null(d->uuid),
			.label = dup_or_null(d->label),
			.partuuid = dup_or_null(d->partuuid),
			.pretty_name = dup_or_null(d->pretty),
			.subvol = dup_or_null(d->subvol_opt),
			.mounted_at = dup_or_null(d->mounted_at),
			.size = d->size,
		};
	}
	for (size_t i = 0; i < sc.notes.n; i++)
		strv_push(&out->notes, sc.notes.v[i]);
	scan_free(&sc);
	rc = reg_release();
	target_guard_signals(false);
	return rc;
}

void target_candidates_free(struct target_candidates *c)
{
	for (size_t i = 0; i < c->n; i++) {
		struct target_candidate *d = &c->v[i];
		free(d->device);
		free(d->origin);
		free(d->fstype);
		free(d->uuid);
		free(d->label);
		free(d->partuuid);
		free(d->pretty_name);
		free(d->subvol);
		free(d->mounted_at);
	}
	free(c->v);
	strv_free(&c->notes);
	memset(c, 0, sizeof(*c));
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
