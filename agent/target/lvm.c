/* lvm.c: LVM: the instance's volume groups found, renamed on a clash, activated (read-only in
 * check) through the rescue system's lvm, restricted to the instance's PVs. */
#include "target.h"
#include "target/internal.h"

/* External programs (lvm). */

/* Run the host's lvm (argv[0] a full path) with stdout and stderr captured (each up to 1 MiB),
 * within the run's deadline. Returns the exit status (>= 0; 128+signal when killed), or
 * -errno when it could not run (-ETIME: the deadline passed). */
static int target_run(char *const argv[], char **out, char **errout)
{
	static char *const envp[] = {"PATH=/usr/sbin:/usr/bin:/sbin:/bin", "LC_ALL=C",
				     "LVM_SUPPRESS_FD_WARNINGS=1", NULL};
	struct spawn_opts o = {.envp = envp};
	struct spawn_result sr;
	int rc = spawn_run(argv, &o, &sr);
	if (rc == 0)
		rc = sr.how == SPAWN_EXITED	 ? sr.code
		     : sr.how == SPAWN_SIGNALED	 ? 128 + sr.code
		     : sr.how == SPAWN_TIMED_OUT ? -ETIME
						 : -sr.error;
	if (out) {
		*out = sr.out;
		sr.out = NULL;
	}
	if (errout) {
		*errout = sr.err;
		sr.err = NULL;
	}
	spawn_result_free(&sr);
	return rc;
}

/* The last non-empty line of a program's stderr, for messages. */
static char *target_last_line(const char *s)
{
	const char *best = "", *p = s;
	size_t best_len = 0;
	while (*p) {
		const char *eol = strchrnul(p, '\n');
		const char *q = p;
		while (q < eol && isspace((unsigned char)*q))
			q++;
		if (q < eol) {
			best = q;
			best_len = (size_t)(eol - q);
		}
		p = *eol ? eol + 1 : eol;
	}
	return xstrndup(best, best_len);
}

/* The rescue system's lvm (SSHRESCUE_LVM: another one, a full path), and whether it knows
 * --devices: its release from `lvm version`. One that does not say is given a devices/filter,
 * which every lvm2 release reads. */
static bool target_find_lvm(void)
{
	static const char *const paths[] = {"/usr/sbin/lvm", "/sbin/lvm", "/usr/bin/lvm",
					    "/bin/lvm"};
	const char *env = getenv("SSHRESCUE_LVM");
	reg.lvm[0] = '\0';
	if (env && *env == '/') {
		if (access(env, X_OK) == 0)
			snprintf(reg.lvm, sizeof(reg.lvm), "%s", env);
	} else {
		for (size_t i = 0; i < ARRAY_SIZE(paths) && !reg.lvm[0]; i++)
			if (access(paths[i], X_OK) == 0)
				snprintf(reg.lvm, sizeof(reg.lvm), "%s", paths[i]);
	}
	if (!reg.lvm[0])
		return false;
	char *argv[] = {reg.lvm, "version", NULL};
	_cleanup_free_ char *out = NULL;
	struct lvm_version v;
	reg.lvm_devices = target_run(argv, &out, NULL) == 0 && lvm_version_parse(out, &v) == 0 &&
			  lvm_version_has_devices(&v);
	return true;
}

/* Run an lvm report command (its argv ends with "--reportformat", "json", "-o", FIELDS) and
 * take its rows: n_fields strings each (parse/lvm.c). 0, or -EIO with *errs its stderr. */
static int target_lvm_report(char **argv, const char *kind, const char *const *fields,
			     size_t n_fields, struct strv *rows, char **errs)
{
	_cleanup_free_ char *out = NULL;
	if (target_run(argv, &out, errs) != 0)
		return -EIO;
	if (lvm_report_rows(out ? out : "", out ? strlen(out) : 0, kind, fields, n_fields, rows) <
	    0) {
		if (errs && !*errs)
			*errs = xstrdup("lvm printed no report");
		return -EIO;
	}
	return 0;
}

static bool target_dm_name_in_use(const char *vg)
{
	_cleanup_free_ char *prefix = target_dm_name(vg, "");
	DIR *d = opendir("/sys/class/block");
	if (!d)
		return false;
	bool used = false;
	struct dirent *de;
	while (!used && (de = readdir(d))) {
		if (strncmp(de->d_name, "dm-", 3) != 0)
			continue;
		_cleanup_free_ char *p = xasprintf("/sys/class/block/%s/dm/name", de->d_name);
		_cleanup_free_ char *name = target_sysfs_read(p);
		used = name && strncmp(name, prefix, strlen(prefix)) == 0;
	}
	closedir(d);
	return used;
}

/* Add the LVs of an activated VG as devices to probe. */
static void scan_lvm_add_lvs(struct scan *sc, struct reg_vg *vg)
{
	char *argv[] = {reg.lvm,  "lvs", "--reportformat",     "json",	   vg->ropt,
			vg->rarg, "-o",	 "lv_name,lv_dm_path", vg->active, NULL};
	static const char *const fields[] = {"lv_name", "lv_dm_path"};
	struct strv rows = {0};
	_cleanup_free_ char *errs = NULL;
	if (target_lvm_report(argv, "lv", fields, 2, &rows, &errs) < 0) {
		_cleanup_free_ char *why = target_last_line(errs ? errs : "");
		strv_push_owned(&sc->notes, xasprintf("volume group %s: cannot list its logical "
						      "volumes: %s",
						      vg->name, why));
		return;
	}
	for (size_t r = 0; r + 1 < rows.n; r += 2) {
		const char *const f[2] = {rows.v[r], rows.v[r + 1]};
		if (!*f[0] || !*f[1])
			continue;
		struct stat st;
		if (stat(f[1], &st) < 0 || !S_ISBLK(st.st_mode)) {
			strv_push_owned(&sc->notes, xasprintf("%s/%s: %s: %s", vg->name, f[0], f[1],
							      strerror(errno ? errno : ENOTBLK)));
			continue;
		}
		int fd = open(f[1], O_RDONLY | O_CLOEXEC | O_NONBLOCK);
		if (fd < 0) {
			strv_push_owned(&sc->notes, xasprintf("%s: %s", f[1], strerror(errno)));
			continue;
		}
		struct bdev *d = scan_add(sc);
		d->path = xstrdup(f[1]);
		d->origin = xasprintf("%s/%s", vg->name, f[0]);
		d->name = xasprintf("dm-%u", minor(st.st_rdev));
		d->devno = st.st_rdev;
		d->lvm_vg = xstrdup(vg->name);
		d->lvm_lv = xstrdup(f[0]);
		uint64_t size = 0;
		if (ioctl(fd, BLKGETSIZE64, &size) == 0)
			d->size = size;
		if (bdev_probe(d, fd, 0, 0, NULL, NULL) < 0)
			strv_push_owned(&sc->notes, xasprintf("%s: cannot probe", d->origin));
		close(fd);
	}
	strv_free(&rows);
}

/* The VGs of the instance's PVs (`lvm pvs`, restricted to them), each registered once by UUID
 * with the PVs it spans. 0, or -EIO after a note. */
static int scan_lvm_list_vgs(struct scan *sc, const char *pv_list)
{
	size_t rsize = strlen(pv_list) * 16 + 64;
	_cleanup_free_ char *rbuf = xmalloc(rsize);
	const char *ropt, *rarg;
	if (lvm_restrict_args(reg.lvm_devices, pv_list, NULL, rbuf, rsize, &ropt, &rarg) < 0) {
		strv_push_owned(&sc->notes, xasprintf("%s: LVM2 members whose names cannot be "
						      "given to lvm",
						      pv_list));
		return -EIO;
	}
	char *argv[] = {reg.lvm,      "pvs", "--reportformat",		"json", (char *)ropt,
			(char *)rarg, "-o",  "pv_name,vg_name,vg_uuid", NULL};
	static const char *const fields[] = {"pv_name", "vg_name", "vg_uuid"};
	struct strv rows = {0};
	_cleanup_free_ char *errs = NULL;
	if (target_lvm_report(argv, "pv", fields, 3, &rows, &errs) < 0) {
		_cleanup_free_ char *why = target_last_line(errs ? errs : "");
		strv_push_owned(&sc->notes, xasprintf("%s: lvm pvs failed: %s", pv_list, why));
		strv_free(&rows);
		return -EIO;
	}
	size_t first_vg = (size_t)reg.n_vgs;
	for (size_t r = 0; r + 2 < rows.n; r += 3) {
		const char *pv = rows.v[r], *name = rows.v[r + 1], *uuid = rows.v[r + 2];
		if (!*name || !*uuid)
			continue;
		struct reg_vg *vg = NULL;
		for (size_t i = first_vg; i < (size_t)reg.n_vgs; i++)
			if (strcmp(reg.vgs[i].uuid, uuid) == 0)
				vg = &reg.vgs[i];
		if (vg) {
			size_t l = strlen(vg->devices);
			snprintf(vg->devices + l, sizeof(vg->devices) - l, ",%s", pv);
			continue;
		}
		if (reg.n_vgs >= REG_VGS) {
			strv_push_owned(&sc->notes,
					xasprintf("volume group %s: too many volume groups", name));
			continue;
		}
		vg = &reg.vgs[reg.n_vgs];
		memset(vg, 0, sizeof(*vg));
		snprintf(vg->name, sizeof(vg->name), "%s", name);
		snprintf(vg->active, sizeof(vg->active), "%s", name);
		snprintf(vg->uuid, sizeof(vg->uuid), "%s", uuid);
		snprintf(vg->devices, sizeof(vg->devices), "%s", pv);
		reg_barrier();
		reg.n_vgs++;
	}
	strv_free(&rows);
	return 0;
}

/* Does the running system have a VG of this name (another UUID), or a device-mapper name
 * that activating it would take? sys_vgs: the running system's `vgs` rows (name, uuid). */
static bool scan_lvm_clashes(const struct reg_vg *vg, const struct strv *sys_vgs)
{
	if (target_dm_name_in_use(vg->name))
		return true;
	for (size_t r = 0; r + 1 < sys_vgs->n; r += 2)
		if (strcmp(sys_vgs->v[r], vg->name) == 0 &&
		    strcmp(sys_vgs->v[r + 1], vg->uuid) != 0)
			return true;
	return false;
}

/* Rename a clashing VG by UUID for the time of the run (undone on release). 0, or -EIO
 * after a note. */
static int scan_lvm_rename(struct scan *sc, struct reg_vg *vg)
{
	snprintf(vg->active, sizeof(vg->active), "%s_sshrescue%d", vg->name, (int)getpid());
	vg->renamed = 1;
	reg_barrier();
	char *argv[] = {reg.lvm, "vgrename", vg->ropt, vg->rarg, vg->uuid, vg->active, NULL};
	_cleanup_free_ char *e = NULL;
	if (target_run(argv, NULL, &e) != 0) {
		vg->renamed = 0;
		_cleanup_free_ char *why = target_last_line(e ? e : "");
		strv_push_owned(&sc->notes,
				xasprintf("volume group %s: cannot rename it for the run: %s",
					  vg->name, why));
		return -EIO;
	}
	return 0;
}

/* Activate the VG (read-only in check), restricted to its PVs. 0, or -EIO after a note. */
static int scan_lvm_activate(struct scan *sc, struct reg_vg *vg)
{
	vg->activated = 1;
	reg_barrier();
	_cleanup_free_ char *ro =
		xasprintf("activation { read_only_volume_list = [ \"%s\" ] }", vg->active);
	/* lvm takes one --config: without --devices, the filter and this go together */
	size_t fsize = sizeof(vg->rarg) + strlen(ro) + 2;
	_cleanup_free_ char *filter_ro = xmalloc(fsize);
	const char *fopt, *farg;
	if (lvm_restrict_args(false, vg->devices, ro, filter_ro, fsize, &fopt, &farg) < 0)
		filter_ro[0] = '\0';
	char *argv_rw[] = {reg.lvm, "vgchange", "-ay", vg->ropt, vg->rarg, vg->active, NULL};
	char *argv_ro_devices[] = {reg.lvm,    "vgchange", "-ay",      vg->ropt, vg->rarg,
				   "--config", ro,	   vg->active, NULL};
	char *argv_ro_filter[] = {reg.lvm,   "vgchange", "-ay", "--config",
				  filter_ro, vg->active, NULL};
	char **argv_ro = reg.lvm_devices ? argv_ro_devices : argv_ro_filter;
	_cleanup_free_ char *e = NULL;
	if (target_run(sc->readonly ? argv_ro : argv_rw, NULL, &e) != 0) {
		_cleanup_free_ char *why = target_last_line(e ? e : "");
		strv_push_owned(&sc->notes, xasprintf("volume group %s: cannot activate it: %s",
						      vg->name, why));
		return -EIO;
	}
	return 0;
}

/* One VG of the instance's: restricted to its PVs, renamed when its name clashes (repair
 * only), activated, its LVs added as devices to probe. */
static void scan_lvm_vg(struct scan *sc, struct reg_vg *vg, const struct strv *sys_vgs)
{
	const char *opt, *arg;
	if (lvm_restrict_args(reg.lvm_devices, vg->devices, NULL, vg->rarg, sizeof(vg->rarg), &opt,
			      &arg) < 0) {
		vg->ropt[0] = '\0';
		strv_push_owned(&sc->notes,
				xasprintf("volume group %s: its PVs (%s) cannot be given to lvm",
					  vg->name, vg->devices));
		return;
	}
	snprintf(vg->ropt, sizeof(vg->ropt), "%s", opt);
	if (scan_lvm_clashes(vg, sys_vgs)) {
		if (sc->readonly) {
			strv_push_owned(&sc->notes,
					xasprintf("volume group %s: the running system has one of "
						  "the same name; activating it needs a temporary "
						  "rename, which check does not do (repair does)",
						  vg->name));
			return;
		}
		if (scan_lvm_rename(sc, vg) < 0)
			return;
	}
	if (scan_lvm_activate(sc, vg) < 0)
		return;
	size_t before = sc->n;
	scan_lvm_add_lvs(sc, vg);
	if (vg->renamed)
		strv_push_owned(
			&sc->notes,
			xasprintf("volume group %s: activated as %s for the run (the running "
				  "system has a volume group of that name)",
				  vg->name, vg->active));
	if (sc->n == before)
		strv_push_owned(&sc->notes,
				xasprintf("volume group %s: no logical volumes", vg->name));
}

/* LVM2 members among the devices: activate their VGs (only those) through the rescue
 * system's lvm, restricted to the instance's PVs (--devices, or a filter for lvm2 before
 * 2.03.12). A VG whose name the rescue system uses too (a rescue instance made from the same
 * image) is renamed for the time of the run, by UUID, and renamed back on release. Steps: the
 * members, their VGs, what the running system has, then each VG (scan_lvm_vg). */
int scan_lvm(struct scan *sc)
{
	struct strv pvs = {0};
	for (size_t i = 0; i < sc->n; i++)
		if (sc->v[i].path && sc->v[i].fstype && strcmp(sc->v[i].fstype, "LVM2_member") == 0)
			strv_push(&pvs, sc->v[i].path);
	if (!pvs.n)
		return 0;
	if (!target_find_lvm()) {
		for (size_t i = 0; i < pvs.n; i++)
			strv_push_owned(&sc->notes, xasprintf("%s: an LVM2 member, but the lvm "
							      "program is not installed",
							      pvs.v[i]));
		strv_free(&pvs);
		return 0;
	}
	setenv("LVM_SUPPRESS_FD_WARNINGS", "1", 1);
	struct buf all = {0};
	for (size_t i = 0; i < pvs.n; i++)
		buf_printf(&all, "%s%s", i ? "," : "", pvs.v[i]);
	strv_free(&pvs);
	size_t first_vg = (size_t)reg.n_vgs;
	int rc = scan_lvm_list_vgs(sc, all.data);
	buf_free(&all);
	if (rc < 0)
		return 0;
	/* what the rescue system itself sees: a VG of the same name and another UUID clashes */
	char *vgs_argv[] = {reg.lvm,	       "vgs", "--reportformat", "json", "-o",
			    "vg_name,vg_uuid", NULL};
	static const char *const fields[] = {"vg_name", "vg_uuid"};
	struct strv sys_vgs = {0};
	if (target_lvm_report(vgs_argv, "vg", fields, 2, &sys_vgs, NULL) < 0)
		strv_free(&sys_vgs);
	for (size_t i = first_vg; i < (size_t)reg.n_vgs; i++)
		scan_lvm_vg(sc, &reg.vgs[i], &sys_vgs);
	strv_free(&sys_vgs);
	return 0;
}
