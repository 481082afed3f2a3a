/* choose.c: choosing the device: which candidate is the instance root (--device, [target] root,
 * discovery). */
#include "target.h"
#include "target/internal.h"

/* Choosing the device. */

static bool target_streq_ci(const char *a, const char *b)
{
	return a && b && strcasecmp(a, b) == 0;
}

/* Does device d match spec (UUID=, LABEL=, PARTUUID=, PARTLABEL=, /dev/disk/by-*,
 * /dev/mapper/VG-LV, /dev/VG/LV, a device path or what it is)? */
bool bdev_matches(const struct bdev *d, const char *spec)
{
	static const struct {
		const char *dir, *tag;
	} by[] = {{"/dev/disk/by-uuid/", "UUID"},
		  {"/dev/disk/by-label/", "LABEL"},
		  {"/dev/disk/by-partuuid/", "PARTUUID"},
		  {"/dev/disk/by-partlabel/", "PARTLABEL"}};
	if (!d->path)
		return false;
	_cleanup_free_ char *type = NULL, *value = NULL;
	for (size_t i = 0; i < ARRAY_SIZE(by) && !type; i++) {
		size_t l = strlen(by[i].dir);
		if (strncmp(spec, by[i].dir, l) == 0 && spec[l]) {
			type = xstrdup(by[i].tag);
			value = xstrdup(spec + l);
		}
	}
	if (!type && spec[0] != '/') {
		if (blkid_parse_tag_string(spec, &type, &value) < 0 || !type || !value)
			return false;
	}
	if (type) {
		bool m = false;
		if (strcmp(type, "UUID") == 0)
			m = target_streq_ci(d->uuid, value);
		else if (strcmp(type, "LABEL") == 0)
			m = d->label && strcmp(d->label, value) == 0;
		else if (strcmp(type, "PARTUUID") == 0)
			m = target_streq_ci(d->partuuid, value);
		else if (strcmp(type, "PARTLABEL") == 0)
			m = d->partlabel && strcmp(d->partlabel, value) == 0;
		/* a partition table's disk carries no filesystem of its own */
		return m && d->fstype;
	}
	struct stat st;
	bool same_dev = stat(spec, &st) == 0 && S_ISBLK(st.st_mode) && st.st_rdev == d->devno;
	if (d->lvm_vg) {
		_cleanup_free_ char *dm = target_dm_name(d->lvm_vg, d->lvm_lv);
		_cleanup_free_ char *mp = xasprintf("/dev/mapper/%s", dm);
		_cleanup_free_ char *vp = xasprintf("/dev/%s/%s", d->lvm_vg, d->lvm_lv);
		return strcmp(spec, mp) == 0 || strcmp(spec, vp) == 0 || same_dev;
	}
	return strcmp(spec, d->path) == 0 || strcmp(spec, d->origin) == 0 || same_dev;
}

/* How many devices match spec; *out gets the first. */
size_t scan_match(struct scan *sc, const char *spec, struct bdev **out)
{
	size_t n = 0;
	*out = NULL;
	for (size_t i = 0; i < sc->n; i++) {
		if (!bdev_matches(&sc->v[i], spec))
			continue;
		if (!*out)
			*out = &sc->v[i];
		n++;
	}
	return n;
}

void target_describe(struct buf *b, const struct bdev *d)
{
	buf_printf(b, "  %s: %s", d->origin, d->fstype ? d->fstype : "?");
	if (strcmp(d->origin, d->path) != 0)
		buf_printf(b, " on %s", d->path);
	if (d->uuid)
		buf_printf(b, " UUID=%s", d->uuid);
	if (d->label)
		buf_printf(b, " LABEL=%s", d->label);
	if (d->partuuid)
		buf_printf(b, " PARTUUID=%s", d->partuuid);
	if (d->pretty)
		buf_printf(b, " \"%s\"", d->pretty);
	if (d->mounted_at)
		buf_printf(b, " (mounted at %s)", d->mounted_at);
	buf_puts(b, "\n");
}

bool target_is_candidate(const struct bdev *d)
{
	return d->path && target_fstype_is_root(d->fstype);
}
