/* lvm.h: how lvm is told to see only the instance's PVs, by lvm2 release. Pure. */
#ifndef SSHRESCUE_LVM_H
#define SSHRESCUE_LVM_H

#include <stdbool.h>
#include <stddef.h>

#include "util.h"

/* lvm2 2.03.12 added --devices; older ones (Debian 11: 2.03.11) refuse it as an unknown
 * option, and take a devices/filter in --config instead. */
struct lvm_version {
	unsigned major, minor, patch;
};

/* The version in `lvm version` output ("  LVM version:     2.03.11(2) (2021-01-08)").
 * 0, or -EINVAL when there is none. */
int lvm_version_parse(const char *out, struct lvm_version *v);

/* Whether that lvm knows --devices. */
bool lvm_version_has_devices(const struct lvm_version *v);

/* The two arguments that restrict lvm to the comma-separated device paths `devices`:
 * "--devices" and the list itself, or (no --devices) "--config" and
 * `devices { filter = [ "a|^/dev/loop0$|", ..., "r|.*|" ] }`. `extra` (or NULL) is more
 * configuration to give in the same --config: lvm takes one. The text goes into buf.
 * 0; -EINVAL for a path that cannot be put in a filter (quotes, '|', '\', brackets), an empty
 * list or an empty path; -ENOSPC when buf is too small. */
int lvm_restrict_args(bool has_devices, const char *devices, const char *extra, char *buf,
		      size_t size, const char **opt, const char **arg);

/* The rows of a report lvm prints with --reportformat json ("pvs", "vgs", "lvs" with -o
 * FIELD,...): for each object of report[0].KIND ("pv", "vg", "lv"), the string values of
 * `fields` in order are pushed to rows (n_fields strings a row; "" for a field the row lacks).
 * JSON, not a separator: names and paths come back whole whatever characters they hold.
 * 0, or -EINVAL when the text is not such a report (nothing pushed). */
int lvm_report_rows(const char *json, size_t len, const char *kind, const char *const *fields,
		    size_t n_fields, struct strv *rows);

#endif
