/* fuzz_fail2ban_conf.c: libFuzzer harness of fail2ban's configuration parser. The input is
 * split at "\n--\n" into up to four files, parsed and merged in order as fail2ban reads
 * jail.conf, jail.d/(name).conf, jail.local; then every key of every section is interpolated
 * (%(known/x)s, %(section/x)s, recursion limits), split as a word list, and the [INCLUDES]
 * lists are read. Checks: a parse error has a line inside the file; every entry's line too.
 *   tests/fuzz/run builds it with agent/util.c and agent/parse/ (every .c). */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "parse/fail2ban_conf.h"

static unsigned count_lines(const char *buf, size_t len)
{
	unsigned n = 1;
	for (size_t i = 0; i < len; i++)
		if (buf[i] == '\n' || (buf[i] == '\r' && (i + 1 == len || buf[i + 1] != '\n')))
			n++;
	return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const names[] = { "jail.conf", "jail.d/a.conf", "jail.d/b.conf",
					     "jail.local" };
	const char *buf = (const char *)data;
	size_t left = size;
	struct f2b_conf conf = { 0 };
	for (size_t i = 0; i < 4 && (left || i == 0); i++) {
		const char *sep = i < 3 ? memmem(buf, left, "\n--\n", 4) : NULL;
		size_t len = sep ? (size_t)(sep - buf) + 1 : left;
		struct f2b_file f;
		unsigned err_line = 0;
		char *err = NULL;
		int rc = f2b_file_parse(buf, len, &f, &err_line, &err);
		unsigned lines = count_lines(buf, len);
		if (rc < 0) {
			if (rc != -EINVAL || !err || err_line == 0 || err_line > lines)
				__builtin_trap();
			free(err);
		}
		for (size_t s = 0; s < f.n; s++) {
			if (f.v[s].line == 0 || f.v[s].line > lines)
				__builtin_trap();
			for (size_t e = 0; e < f.v[s].n; e++)
				if (f.v[s].v[e].line == 0 || f.v[s].v[e].line > lines)
					__builtin_trap();
		}
		struct strv inc = { 0 };
		f2b_file_includes(&f, "before", &inc);
		f2b_file_includes(&f, "after", &inc);
		strv_free(&inc);
		f2b_conf_merge(&conf, &f, names[i]);
		f2b_file_free(&f);
		if (!sep)
			break;
		buf = sep + 4;
		left -= len + 3;
	}
	for (size_t k = 0; k < conf.n; k++) {
		const struct f2b_key *key = &conf.v[k];
		char *out = NULL;
		int rc = f2b_conf_get(&conf, key->section, key->key, &out);
		if (rc == 0) {
			struct strv words = { 0 };
			f2b_split_words(out, &words);
			strv_free(&words);
			free(out);
		} else if (rc != -ENOENT && rc != -EINVAL && rc != -ELOOP && rc != -E2BIG) {
			__builtin_trap();
		}
		/* The same key seen from every section (DEFAULT fallback). */
		for (size_t s = 0; s < conf.sections.n && s < 8; s++) {
			bool own;
			f2b_conf_lookup(&conf, conf.sections.v[s], key->key, &own);
			out = NULL;
			if (f2b_conf_get(&conf, conf.sections.v[s], key->key, &out) == 0)
				free(out);
		}
		if (key->n) {
			out = NULL;
			if (f2b_conf_interpolate(&conf, key->section, key->key, key->hist[0].value,
						 &out) == 0)
				free(out);
		}
	}
	f2b_conf_has_section(&conf, "sshd");
	f2b_conf_free(&conf);
	return 0;
}
