/* systemd_socket.c: ListenStream= of socket units; see systemd_socket.h. */
#include "parse/systemd_socket.h"

#include <ctype.h>
#include <string.h>

#include "util.h"

static void port_add(unsigned **v, size_t *n, unsigned p)
{
	for (size_t i = 0; i < *n; i++)
		if ((*v)[i] == p)
			return;
	*v = xgrow(*v, *n, sizeof(**v));
	(*v)[(*n)++] = p;
}

/* socket_address_parse(): a port alone, or ADDRESS:PORT / [V6]:PORT; 0 when not TCP. */
static unsigned listen_port(const char *v)
{
	if (v[0] == '/' || v[0] == '@' || strncmp(v, "vsock:", 6) == 0)
		return 0;
	const char *p = v;
	if (v[0] == '[') {
		const char *rb = strchr(v, ']');
		if (!rb || rb[1] != ':')
			return 0;
		p = rb + 2;
	} else if (strchr(v, ':')) {
		p = strrchr(v, ':') + 1;
		if (strchr(v, ':') != p - 1)
			return 0; /* a bare IPv6 address without a port */
	}
	/* "%" interface suffixes and "ADDR%dev" are not ports; systemd allows none after it */
	unsigned long port;
	_cleanup_free_ char *num = xstrndup(p, strcspn(p, " \t"));
	if (parse_uint(num, 1, 65535, &port) < 0)
		return 0;
	return (unsigned)port;
}

void systemd_socket_apply(const char *buf, size_t len, unsigned **ports, size_t *n)
{
	struct buf line = { 0 };
	bool in_socket = false;
	for (size_t i = 0; i <= len;) {
		const char *nl = i < len ? memchr(buf + i, '\n', len - i) : NULL;
		size_t end = nl ? (size_t)(nl - buf) : len;
		buf_append(&line, buf + i, end - i);
		i = end + 1;
		/* A trailing backslash continues the line (the backslash becomes a space). */
		if (line.len && line.data[line.len - 1] == '\\' && nl) {
			line.data[line.len - 1] = ' ';
			continue;
		}
		char *s = line.data ? strstrip(line.data) : NULL;
		if (s && *s && *s != '#' && *s != ';') {
			if (*s == '[') {
				in_socket = strncmp(s, "[Socket]", 8) == 0;
			} else if (in_socket) {
				char *eq = strchr(s, '=');
				if (eq) {
					*eq = '\0';
					char *key = strstrip(s), *val = strstrip(eq + 1);
					if (strcmp(key, "ListenStream") == 0) {
						if (!*val) {
							*n = 0;
						} else {
							unsigned p = listen_port(val);
							if (p)
								port_add(ports, n, p);
						}
					}
				}
			}
		}
		line.len = 0;
		if (line.data)
			line.data[0] = '\0';
		if (!nl)
			break;
	}
	buf_free(&line);
}
