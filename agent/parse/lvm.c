/* lvm.c: lvm2's version, the arguments that show lvm only the instance's PVs, and its JSON
 * reports (json-c). Pure. */
#include "parse/lvm.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

int lvm_version_parse(const char *out, struct lvm_version *v)
{
	const char *p = out ? strstr(out, "LVM version:") : NULL;
	if (!p)
		return -EINVAL;
	p += strlen("LVM version:");
	unsigned n[3];
	for (int i = 0; i < 3; i++) {
		while (i == 0 && (*p == ' ' || *p == '\t'))
			p++;
		if (*p < '0' || *p > '9')
			return -EINVAL;
		char *end;
		unsigned long x = strtoul(p, &end, 10);
		if (x > 100000 || end == p)
			return -EINVAL;
		n[i] = (unsigned)x;
		p = end;
		if (i < 2 && *p++ != '.')
			return -EINVAL;
	}
	v->major = n[0];
	v->minor = n[1];
	v->patch = n[2];
	return 0;
}

bool lvm_version_has_devices(const struct lvm_version *v)
{
	if (v->major != 2)
		return v->major > 2;
	if (v->minor != 3)
		return v->minor > 3;
	return v->patch >= 12;
}

/* Appends s to buf at *len; false when it does not fit. */
static bool put(char *buf, size_t size, size_t *len, const char *s, size_t n)
{
	if (*len + n + 1 > size)
		return false;
	memcpy(buf + *len, s, n);
	*len += n;
	buf[*len] = '\0';
	return true;
}

int lvm_restrict_args(bool has_devices, const char *devices, const char *extra, char *buf,
		      size_t size, const char **opt, const char **arg)
{
	if (!devices || !*devices || !size)
		return -EINVAL;
	size_t len = 0;
	buf[0] = '\0';
	if (has_devices) {
		if (!put(buf, size, &len, devices, strlen(devices)))
			return -ENOSPC;
		*opt = "--devices";
		*arg = buf;
		return 0;
	}
	static const char head[] = "devices { filter = [ ";
	if (!put(buf, size, &len, head, sizeof(head) - 1))
		return -ENOSPC;
	for (const char *d = devices; *d;) {
		size_t n = strcspn(d, ",");
		if (n == 0)
			return -EINVAL;
		if (!put(buf, size, &len, "\"a|^", 4))
			return -ENOSPC;
		for (size_t i = 0; i < n; i++) {
			char c = d[i];
			bool plain = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
				     (c >= '0' && c <= '9') || c == '/' || c == '_' || c == '-';
			/* lvm's regex and its config strings have their own escapes: a character
			 * class says "this character" to both without any */
			if (strchr("\"|\\[]^", c) || (unsigned char)c < 0x20)
				return -EINVAL;
			char cls[3] = {'[', c, ']'};
			if (!(plain ? put(buf, size, &len, &c, 1) : put(buf, size, &len, cls, 3)))
				return -ENOSPC;
		}
		if (!put(buf, size, &len, "$|\", ", 5))
			return -ENOSPC;
		d += n;
		if (*d == ',' && !*++d)
			return -EINVAL;
	}
	static const char tail[] = "\"r|.*|\" ] }";
	if (!put(buf, size, &len, tail, sizeof(tail) - 1))
		return -ENOSPC;
	if (extra && *extra &&
	    (!put(buf, size, &len, " ", 1) || !put(buf, size, &len, extra, strlen(extra))))
		return -ENOSPC;
	*opt = "--config";
	*arg = buf;
	return 0;
}

int lvm_report_rows(const char *json, size_t len, const char *kind, const char *const *fields,
		    size_t n_fields, struct strv *rows)
{
	if (len > (64u << 20))
		return -EINVAL;
	struct json_tokener *tok = json_tokener_new();
	if (!tok)
		return -ENOMEM;
	struct json_object *root = json_tokener_parse_ex(tok, json, (int)len);
	bool done = json_tokener_get_error(tok) == json_tokener_success;
	json_tokener_free(tok);
	struct json_object *report, *first, *items;
	if (!done || !root || !json_object_object_get_ex(root, "report", &report) ||
	    !json_object_is_type(report, json_type_array) ||
	    json_object_array_length(report) < 1 ||
	    !(first = json_object_array_get_idx(report, 0)) ||
	    !json_object_object_get_ex(first, kind, &items) ||
	    !json_object_is_type(items, json_type_array)) {
		json_object_put(root);
		return -EINVAL;
	}
	size_t n = json_object_array_length(items);
	for (size_t i = 0; i < n; i++) {
		struct json_object *row = json_object_array_get_idx(items, i);
		for (size_t f = 0; f < n_fields; f++) {
			struct json_object *v = NULL;
			const char *s = "";
			if (json_object_is_type(row, json_type_object) &&
			    json_object_object_get_ex(row, fields[f], &v) &&
			    json_object_is_type(v, json_type_string))
				s = json_object_get_string(v);
			strv_push(rows, s);
		}
	}
	json_object_put(root);
	return 0;
}
