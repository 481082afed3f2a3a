/* test_elf.c: DT_NEEDED from ELF bytes: a real executable (this test's own), hand-made ELF32
 * and ELF64 files of both byte orders, and hostile ones (offsets and counts past the end,
 * unterminated strings, random corruption), which must give -EINVAL, never a crash. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "parse/elf.h"

/* ---- a minimal ELF: header, PT_LOAD (whole file at vaddr 0x10000), PT_DYNAMIC, strings --- */

struct img {
	unsigned char b[1024];
	size_t len;
	int is64, big;
};

static void put(struct img *m, size_t off, unsigned n, uint64_t v)
{
	for (unsigned i = 0; i < n; i++)
		m->b[off + i] = (unsigned char)(v >> (m->big ? 8 * (n - 1 - i) : 8 * i));
}

#define VBASE 0x10000u
/* Layout: ehdr | 2 phdrs | dynamic (NEEDED x2, STRTAB, STRSZ, NULL) | strtab */
static void build(struct img *m, int is64, int big)
{
	memset(m, 0, sizeof(*m));
	m->is64 = is64, m->big = big;
	unsigned w = is64 ? 8 : 4, ehsz = is64 ? 64 : 52, phsz = is64 ? 56 : 32;
	size_t ph = ehsz, dyn = ph + 2 * phsz, ent = 2 * w, str = dyn + 5 * ent;
	static const char strtab[] = "\0libwrap.so.0\0libc.so.6\0";
	memcpy(m->b, "\177ELF", 4);
	m->b[4] = is64 ? 2 : 1;
	m->b[5] = big ? 2 : 1;
	m->b[6] = 1;
	m->len = str + sizeof(strtab);
	memcpy(m->b + str, strtab, sizeof(strtab));
	if (is64) {
		put(m, 32, 8, ph);
		put(m, 54, 2, phsz);
		put(m, 56, 2, 2);
	} else {
		put(m, 28, 4, ph);
		put(m, 42, 2, phsz);
		put(m, 44, 2, 2);
	}
	for (int i = 0; i < 2; i++) {
		size_t o = ph + (size_t)i * phsz;
		uint64_t type = i == 0 ? 1 : 2, off = i == 0 ? 0 : dyn;
		uint64_t vaddr = VBASE + off, filesz = i == 0 ? m->len : 5 * ent;
		put(m, o, 4, type);
		if (is64) {
			put(m, o + 8, 8, off);
			put(m, o + 16, 8, vaddr);
			put(m, o + 32, 8, filesz);
		} else {
			put(m, o + 4, 4, off);
			put(m, o + 8, 4, vaddr);
			put(m, o + 16, 4, filesz);
		}
	}
	uint64_t tags[5][2] = { { 1, 1 }, { 1, 14 }, { 5, VBASE + str }, { 10, sizeof(strtab) },
				{ 0, 0 } };
	for (int i = 0; i < 5; i++) {
		put(m, dyn + (size_t)i * ent, w, tags[i][0]);
		put(m, dyn + (size_t)i * ent + w, w, tags[i][1]);
	}
}

static void test_handmade_elf_all_classes_and_orders(void **state)
{
	(void)state;
	for (int is64 = 0; is64 < 2; is64++)
		for (int big = 0; big < 2; big++) {
			struct img m;
			build(&m, is64, big);
			struct strv v = { 0 };
			assert_int_equal(elf_needed((char *)m.b, m.len, &v), 0);
			assert_int_equal(v.n, 2);
			assert_string_equal(v.v[0], "libwrap.so.0");
			assert_string_equal(v.v[1], "libc.so.6");
			strv_free(&v);
			bool yes;
			assert_int_equal(elf_needs((char *)m.b, m.len, "libwrap.so", &yes), 0);
			assert_true(yes);
			assert_int_equal(elf_needs((char *)m.b, m.len, "libpam.so", &yes), 0);
			assert_false(yes);
		}
}

static void test_own_executable_needs_libc(void **state)
{
	(void)state;
	FILE *f = fopen("/proc/self/exe", "rb");
	assert_non_null(f);
	static char buf[64 << 20];
	size_t len = fread(buf, 1, sizeof(buf), f);
	fclose(f);
	struct strv v = { 0 };
	assert_int_equal(elf_needed(buf, len, &v), 0);
	assert_true(strv_contains(&v, "libc.so.6"));
	strv_free(&v);
}

/* Each row breaks one thing of a valid ELF64 (little endian). */
static void test_hostile_headers_are_refused(void **state)
{
	(void)state;
	static const struct {
		const char *what;
		size_t off;
		unsigned n;
		uint64_t v;
		int want;
	} rows[] = {
		{ "not ELF", 0, 1, 0x7e, -EINVAL },
		{ "bad class", 4, 1, 3, -EINVAL },
		{ "bad byte order", 5, 1, 0, -EINVAL },
		{ "phoff past the end", 32, 8, 1u << 30, -EINVAL },
		{ "phoff wraps", 32, 8, UINT64_MAX - 8, -EINVAL },
		{ "phnum huge", 56, 2, 0xffff, -EINVAL },
		{ "phentsize small", 54, 2, 8, -EINVAL },
		{ "dynamic offset past the end", 64 + 56 + 8, 8, 1u << 30, -EINVAL },
		{ "dynamic size wraps", 64 + 56 + 32, 8, UINT64_MAX, -EINVAL },
		{ "strtab outside every load", 64 + 112 + 32 + 8, 8, 0x900000, -EINVAL },
		{ "needed offset past strsz", 64 + 112 + 8, 8, 1000, -EINVAL },
		{ "strsz cut before the NUL", 64 + 112 + 48 + 8, 8, 5, -EINVAL },
		{ "no dynamic segment", 64 + 56, 4, 7, -ENOENT },
	};
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct img m;
		build(&m, 1, 0);
		put(&m, rows[i].off, rows[i].n, rows[i].v);
		struct strv v = { 0 };
		int rc = elf_needed((char *)m.b, m.len, &v);
		if (rc != rows[i].want)
			fail_msg("%s: got %d, want %d", rows[i].what, rc, rows[i].want);
		strv_free(&v);
	}
	struct img m;
	build(&m, 1, 0);
	struct strv v = { 0 };
	for (size_t cut = 0; cut < m.len; cut++) {
		elf_needed((char *)m.b, cut, &v); /* truncated anywhere: no read past cut */
		strv_free(&v);
	}
}

static void test_random_corruption_never_crashes(void **state)
{
	(void)state;
	uint32_t seed = 12345;
	for (int round = 0; round < 20000; round++) {
		struct img m;
		build(&m, round & 1, (round >> 1) & 1);
		for (int k = 0; k < 1 + round % 8; k++) {
			seed = seed * 1103515245u + 12345u;
			m.b[(seed >> 8) % m.len] = (unsigned char)(seed >> 20);
		}
		struct strv v = { 0 };
		int rc = elf_needed((char *)m.b, m.len, &v);
		assert_true(rc == 0 || rc == -EINVAL || rc == -ENOENT);
		strv_free(&v);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_handmade_elf_all_classes_and_orders),
		cmocka_unit_test(test_own_executable_needs_libc),
		cmocka_unit_test(test_hostile_headers_are_refused),
		cmocka_unit_test(test_random_corruption_never_crashes),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
