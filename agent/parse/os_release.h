/* os_release.h: os-release(5), the instance's identity (/etc/os-release, else
 * /usr/lib/os-release). One parser for discovery (the name a candidate root is listed by) and
 * the report (instance.os). Pure: a buffer in, the values out. */
#ifndef SSHRESCUE_PARSE_OS_RELEASE_H
#define SSHRESCUE_PARSE_OS_RELEASE_H

#include <stddef.h>

/* The keys sshrescue uses; each NULL when the file does not set it. */
struct os_release {
	char *pretty_name; /* PRETTY_NAME */
	char *name;	   /* NAME */
	char *id;	   /* ID */
	char *version_id;  /* VERSION_ID */
};

/* Shell-style KEY=value lines as os-release(5) has them: a value bare, or in "" (with the
 * backslash escapes \" \\ \$ \`) or in ''; '#' starts a comment; the last assignment of a key
 * wins. Lines that are not assignments are skipped. Never fails; NUL bytes end a value. */
void os_release_parse(const char *buf, size_t len, struct os_release *out);

/* The name to show for the system: PRETTY_NAME, else NAME, else NULL (os-release(5) gives
 * "Linux" as NAME's default, which names nothing). */
const char *os_release_display_name(const struct os_release *o);

void os_release_free(struct os_release *o);

#endif
