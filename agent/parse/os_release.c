/* os_release.c: os-release(5) files. */
#include "parse/os_release.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

static bool is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r';
}

/* The value after '=' up to the line's end: quotes removed, escapes applied inside "". */
static char *os_release_value(const char *p, const char *eol)
{
	struct buf v = {0};
	char q = 0;
	for (; p < eol && *p; p++) {
		if (!q && (*p == '"' || *p == '\'')) {
			q = *p;
		} else if (q && *p == q) {
			q = 0;
		} else if (q != '\'' && *p == '\\' && p + 1 < eol && p[1]) {
			buf_append(&v, ++p, 1);
		} else if (!q && (is_blank(*p) || *p == '#')) {
			break;
		} else {
			buf_append(&v, p, 1);
		}
	}
	return v.data ? v.data : xstrdup("");
}

void os_release_parse(const char *buf, size_t len, struct os_release *out)
{
	static const struct {
		const char *key;
		size_t off;
	} keys[] = {
		{ "PRETTY_NAME", offsetof(struct os_release, pretty_name) },
		{ "NAME", offsetof(struct os_release, name) },
		{ "ID", offsetof(struct os_release, id) },
		{ "VERSION_ID", offsetof(struct os_release, version_id) },
	};
	memset(out, 0, sizeof(*out));
	const char *p = buf, *end = buf + len;
	while (p < end) {
		const char *eol = memchr(p, '\n', (size_t)(end - p));
		if (!eol)
			eol = end;
		while (p < eol && is_blank(*p))
			p++;
		const char *eq = memchr(p, '=', (size_t)(eol - p));
		for (size_t i = 0; eq && i < ARRAY_SIZE(keys); i++) {
			size_t klen = strlen(keys[i].key);
			if ((size_t)(eq - p) != klen || memcmp(p, keys[i].key, klen) != 0)
				continue;
			char **slot = (char **)((char *)out + keys[i].off);
			free(*slot);
			*slot = os_release_value(eq + 1, eol);
			break;
		}
		p = eol + 1;
	}
}

const char *os_release_display_name(const struct os_release *o)
{
	if (o->pretty_name && *o->pretty_name)
		return o->pretty_name;
	if (o->name && *o->name)
		return o->name;
	return NULL;
}

void os_release_free(struct os_release *o)
{
	free(o->pretty_name);
	free(o->name);
	free(o->id);
	free(o->version_id);
	memset(o, 0, sizeof(*o));
}
