/* util.h: small helpers shared by every module: cleanup attributes, checked allocation,
 * growable buffers and string lists. Nothing here touches the instance. */
#ifndef SSHRESCUE_UTIL_H
#define SSHRESCUE_UTIL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

static inline void freep(void *p)
{
	free(*(void **)p);
}
static inline void closep(int *fd)
{
	if (*fd >= 0)
		close(*fd);
}
static inline void fclosep(FILE **f)
{
	if (*f)
		fclose(*f);
}
#define _cleanup_free_ __attribute__((cleanup(freep)))
#define _cleanup_close_ __attribute__((cleanup(closep)))
#define _cleanup_fclose_ __attribute__((cleanup(fclosep)))

/* Allocation failure ends the program: there is nothing sensible to do without memory, and
 * every write to the instance is atomic, so dying leaves no half-written file. */
void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *p, size_t n);
/* Room for element n (0-based) of an array p of elements of size bytes whose allocation only
 * ever came from xgrow() (or NULL): grows to 8, 16, 32... elements, so appending one at a time
 * costs O(n) copies in all, even where realloc() always moves (sanitizers, valgrind). */
void *xgrow(void *p, size_t n, size_t size);
/* Why a file of the instance could not be read, in words, for the errors of root_read_file()
 * and root_map_file() (max: the size limit they were given): a FIFO, socket or device is
 * -EINVAL, a directory -EISDIR, a file over max -EFBIG, a symlink loop -ELOOP. buf holds the
 * words when they need the limit. *instance (may be NULL): the file's own fault (it is not a
 * file sshrescue can read), not an operational error such as EIO. */
const char *file_error_why(int rc, size_t max, char buf[64], bool *instance);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
char *xvasprintf(const char *fmt, va_list ap) __attribute__((format(printf, 1, 0)));
/* *dst (freed first) becomes the formatted string; nothing when dst is NULL (a parser's
 * optional error message). */
void str_setf(char **dst, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* A growable byte buffer; always NUL-terminated after any append. A buffer that must stop at a
 * size (a program's output, a server's answer, a file read from a descriptor) has it in max:
 * an append keeps what fits and says that it left the rest out. */
struct buf {
	char *data;
	size_t len, cap;
	size_t max; /* 0: no limit; else len never passes it (buf_free keeps it) */
};
/* 0, or -EFBIG when max left part of p out (what fits is appended). */
int buf_append(struct buf *b, const void *p, size_t n);
int buf_puts(struct buf *b, const char *s);
void buf_printf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void buf_free(struct buf *b);

/* Text of the instance for a person (terminal, console, kmsg): control characters (C0 but
 * tab, DEL), C1 controls, bidi overrides and bytes that are not valid UTF-8 made visible as
 * \r, \n, \xHH or \uHHHH, so that no escape sequence, carriage return or newline of the
 * instance can clear a screen or forge a line. Valid UTF-8 and backslashes are kept as they
 * are (so escaping twice changes nothing). The JSON report keeps the exact bytes instead. */
void buf_put_visible(struct buf *b, const char *s, size_t n);
char *text_visible(const char *s); /* caller frees; NULL is "" */
void fputs_visible(const char *s, FILE *out);

/* A growable list of owned strings. */
struct strv {
	char **v; /* NULL-terminated once anything was pushed */
	size_t n;
};
void strv_push(struct strv *l, const char *s);
void strv_push_owned(struct strv *l, char *s);
/* Frees the last string; the list stays NULL-terminated. */
void strv_pop(struct strv *l);
void strv_free(struct strv *l);
bool strv_contains(const struct strv *l, const char *s);

/* A line for the person running sshrescue, on stderr: "sshrescue: " and the message, written
 * at once (the policies' summary and the console lines go their own ways: report.c,
 * deliver_console()). */
void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Whole-string unsigned parse with range check; 0 or -EINVAL/-ERANGE. */
int parse_uint(const char *s, unsigned long min, unsigned long max, unsigned long *out);

/* Trim ASCII white space in place; returns s moved past leading space. */
char *strstrip(char *s);

#endif
