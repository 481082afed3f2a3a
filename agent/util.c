/* util.c: allocation, buffers and string lists. */
#include "util.h"

#include <ctype.h>
#include <errno.h>
#include <stdint.h>
#include <string.h>

static void oom(void)
{
	fputs("sshrescue: out of memory\n", stderr);
	abort();
}

void *xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);
	if (!p)
		oom();
	return p;
}

void *xcalloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size ? size : 1);
	if (!p)
		oom();
	return p;
}

void *xrealloc(void *p, size_t n)
{
	p = realloc(p, n ? n : 1);
	if (!p)
		oom();
	return p;
}

void *xgrow(void *p, size_t n, size_t size)
{
	if (n != 0 && (n < 8 || (n & (n - 1)) != 0))
		return p; /* the allocation holds the next power of two (at least 8) */
	size_t cap = n == 0 ? 8 : n * 2;
	if (cap > SIZE_MAX / size)
		oom();
	return xrealloc(p, cap * size);
}

const char *file_error_why(int rc, size_t max, char buf[64], bool *instance)
{
	bool own = true;
	const char *why;
	switch (-rc) {
	case EISDIR:
		why = "it is a directory";
		break;
	case EINVAL:
		why = "it is not a regular file (a FIFO, socket or device)";
		break;
	case EFBIG:
		if (max >= (1u << 20))
			snprintf(buf, 64, "it is larger than %zu MiB", max >> 20);
		else
			snprintf(buf, 64, "it is larger than %zu KiB", max >> 10);
		why = buf;
		break;
	case ELOOP:
		why = "a loop of symbolic links";
		break;
	default:
		own = false;
		why = strerror(-rc);
		break;
	}
	if (instance)
		*instance = own;
	return why;
}

void say(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	_cleanup_free_ char *m = xvasprintf(fmt, ap);
	va_end(ap);
	fprintf(stderr, "sshrescue: %s\n", m);
	fflush(stderr);
}

char *xstrdup(const char *s)
{
	return xstrndup(s, strlen(s));
}

char *xstrndup(const char *s, size_t n)
{
	char *p = xmalloc(n + 1);
	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

char *xvasprintf(const char *fmt, va_list ap)
{
	char *p;
	if (vasprintf(&p, fmt, ap) < 0)
		oom();
	return p;
}

void str_setf(char **dst, const char *fmt, ...)
{
	va_list ap;
	if (!dst)
		return;
	va_start(ap, fmt);
	free(*dst);
	*dst = xvasprintf(fmt, ap);
	va_end(ap);
}

char *xasprintf(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *p = xvasprintf(fmt, ap);
	va_end(ap);
	return p;
}

static void buf_reserve(struct buf *b, size_t extra)
{
	if (b->len + extra + 1 <= b->cap)
		return;
	size_t cap = b->cap ? b->cap : 64;
	while (cap < b->len + extra + 1)
		cap *= 2;
	b->data = xrealloc(b->data, cap);
	b->cap = cap;
}

int buf_append(struct buf *b, const void *p, size_t n)
{
	int rc = 0;
	size_t room = b->len < b->max ? b->max - b->len : 0;
	if (b->max && n > room) {
		n = room;
		rc = -EFBIG;
	}
	buf_reserve(b, n);
	if (n)
		memcpy(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = '\0';
	return rc;
}

int buf_puts(struct buf *b, const char *s)
{
	return buf_append(b, s, strlen(s));
}

void buf_printf(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	_cleanup_free_ char *s = xvasprintf(fmt, ap);
	va_end(ap);
	buf_puts(b, s);
}

void buf_free(struct buf *b)
{
	free(b->data);
	b->data = NULL;
	b->len = b->cap = 0;
}

void strv_push_owned(struct strv *l, char *s)
{
	l->v = xgrow(l->v, l->n, sizeof(*l->v));
	l->v = xgrow(l->v, l->n + 1, sizeof(*l->v)); /* and the NULL after it */
	l->v[l->n++] = s;
	l->v[l->n] = NULL;
}

void strv_pop(struct strv *l)
{
	if (!l->n)
		return;
	free(l->v[--l->n]);
	l->v[l->n] = NULL;
}

void strv_push(struct strv *l, const char *s)
{
	strv_push_owned(l, xstrdup(s));
}

void strv_free(struct strv *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

bool strv_contains(const struct strv *l, const char *s)
{
	for (size_t i = 0; i < l->n; i++)
		if (strcmp(l->v[i], s) == 0)
			return true;
	return false;
}

int parse_uint(const char *s, unsigned long min, unsigned long max, unsigned long *out)
{
	if (!s || !isdigit((unsigned char)*s))
		return -EINVAL;
	unsigned long v = 0;
	for (; *s; s++) {
		if (!isdigit((unsigned char)*s))
			return -EINVAL;
		unsigned d = (unsigned)(*s - '0');
		if (v > (max - d) / 10)
			return -ERANGE;
		v = v * 10 + d;
	}
	if (v < min)
		return -ERANGE;
	*out = v;
	return 0;
}

char *strstrip(char *s)
{
	while (isspace((unsigned char)*s))
		s++;
	size_t n = strlen(s);
	while (n && isspace((unsigned char)s[n - 1]))
		s[--n] = '\0';
	return s;
}

/* One UTF-8 sequence at p (n bytes left): its length and code point, 0 when invalid
 * (overlong, surrogate, beyond U+10FFFF, cut short, or a stray continuation byte). */
static size_t utf8_seq(const unsigned char *p, size_t n, uint32_t *cp)
{
	unsigned char c = p[0];
	size_t len;
	uint32_t v, min;
	if (c < 0x80) {
		*cp = c;
		return 1;
	} else if (c >= 0xc2 && c <= 0xdf) {
		len = 2, v = c & 0x1fu, min = 0x80;
	} else if (c >= 0xe0 && c <= 0xef) {
		len = 3, v = c & 0x0fu, min = 0x800;
	} else if (c >= 0xf0 && c <= 0xf4) {
		len = 4, v = c & 0x07u, min = 0x10000;
	} else {
		return 0;
	}
	if (n < len)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		v = v << 6 | (p[i] & 0x3fu);
	}
	if (v < min || v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff))
		return 0;
	*cp = v;
	return len;
}

/* Characters that change how a terminal shows what follows: C1 controls and the bidi
 * embeddings, overrides and isolates (text that reads other than it is). */
static bool cp_invisible(uint32_t cp)
{
	return (cp >= 0x80 && cp <= 0x9f) || cp == 0x200e || cp == 0x200f ||
	       (cp >= 0x202a && cp <= 0x202e) || (cp >= 0x2066 && cp <= 0x2069);
}

void buf_put_visible(struct buf *b, const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;
	buf_append(b, "", 0);
	while (n) {
		uint32_t cp = 0;
		size_t len = utf8_seq(p, n, &cp);
		if (!len) {
			buf_printf(b, "\\x%02x", p[0]);
			len = 1;
		} else if (cp == '\n') {
			buf_puts(b, "\\n");
		} else if (cp == '\r') {
			buf_puts(b, "\\r");
		} else if ((cp < 0x20 && cp != '\t') || cp == 0x7f) {
			buf_printf(b, "\\x%02x", (unsigned)cp);
		} else if (cp_invisible(cp)) {
			buf_printf(b, "\\u%04x", (unsigned)cp);
		} else {
			buf_append(b, p, len);
		}
		p += len;
		n -= len;
	}
}

char *text_visible(const char *s)
{
	struct buf b = {0};
	buf_put_visible(&b, s ? s : "", s ? strlen(s) : 0);
	return b.data;
}

void fputs_visible(const char *s, FILE *out)
{
	_cleanup_free_ char *v = text_visible(s);
	fputs(v, out);
}
