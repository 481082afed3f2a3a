/* elf.c: DT_NEEDED of an ELF file; see elf.h. Layouts from the System V gABI (elf(5)); the
 * loader's view (program headers) rather than section headers, which a stripped or hostile
 * file may lack or falsify without changing what is loaded. */
#include "parse/elf.h"

#include <errno.h>
#include <stdint.h>
#include <string.h>

#define PT_LOAD 1
#define PT_DYNAMIC 2
#define DT_NULL 0
#define DT_NEEDED 1
#define DT_STRTAB 5
#define DT_STRSZ 10
#define MAX_PHNUM 4096

struct elf {
	const unsigned char *b;
	size_t len;
	bool is64, big;
};

/* An unsigned field of n bytes (2, 4 or 8) at off; false when it is outside the file. */
static bool rd(const struct elf *e, uint64_t off, unsigned n, uint64_t *v)
{
	if (off > e->len || e->len - off < n)
		return false;
	uint64_t x = 0;
	for (unsigned i = 0; i < n; i++) {
		unsigned shift = e->big ? 8 * (n - 1 - i) : 8 * i;
		x |= (uint64_t)e->b[off + i] << shift;
	}
	*v = x;
	return true;
}

/* A word-sized field: 8 bytes in ELF64, 4 in ELF32. */
static bool rdw(const struct elf *e, uint64_t off, uint64_t *v)
{
	return rd(e, off, e->is64 ? 8 : 4, v);
}

struct phdr {
	uint64_t type, offset, vaddr, filesz;
};

static bool read_phdr(const struct elf *e, uint64_t off, struct phdr *p)
{
	uint64_t t;
	if (!rd(e, off, 4, &t))
		return false;
	p->type = t;
	if (e->is64) /* type, flags, offset, vaddr, paddr, filesz, memsz, align */
		return rd(e, off + 8, 8, &p->offset) && rd(e, off + 16, 8, &p->vaddr) &&
		       rd(e, off + 32, 8, &p->filesz);
	/* type, offset, vaddr, paddr, filesz, memsz, flags, align */
	return rd(e, off + 4, 4, &p->offset) && rd(e, off + 8, 4, &p->vaddr) &&
	       rd(e, off + 16, 4, &p->filesz);
}

int elf_needed(const char *buf, size_t len, struct strv *out)
{
	struct elf e = { (const unsigned char *)buf, len, false, false };
	if (len < 52 || memcmp(buf, "\177ELF", 4) != 0)
		return -EINVAL;
	if (e.b[4] != 1 && e.b[4] != 2)
		return -EINVAL;
	if (e.b[5] != 1 && e.b[5] != 2)
		return -EINVAL;
	e.is64 = e.b[4] == 2;
	e.big = e.b[5] == 2;
	uint64_t phoff, phentsize, phnum;
	if (e.is64) {
		if (len < 64 || !rd(&e, 32, 8, &phoff) || !rd(&e, 54, 2, &phentsize) ||
		    !rd(&e, 56, 2, &phnum))
			return -EINVAL;
	} else if (!rd(&e, 28, 4, &phoff) || !rd(&e, 42, 2, &phentsize) || !rd(&e, 44, 2, &phnum)) {
		return -EINVAL;
	}
	if (phentsize < (e.is64 ? 56u : 32u) || phnum > MAX_PHNUM || phoff > len ||
	    phnum * phentsize > len - phoff)
		return -EINVAL;

	/* The dynamic segment, and the loads that map addresses to file offsets. */
	struct phdr dyn = { 0 };
	bool have_dyn = false;
	for (uint64_t i = 0; i < phnum; i++) {
		struct phdr p;
		if (!read_phdr(&e, phoff + i * phentsize, &p))
			return -EINVAL;
		if (p.type == PT_DYNAMIC && !have_dyn) {
			dyn = p;
			have_dyn = true;
		}
	}
	if (!have_dyn)
		return -ENOENT;
	if (dyn.offset > len || dyn.filesz > len - dyn.offset)
		return -EINVAL;

	unsigned entsize = e.is64 ? 16 : 8;
	uint64_t n_dyn = dyn.filesz / entsize;
	if (n_dyn > ELF_MAX_DYN)
		n_dyn = ELF_MAX_DYN;
	uint64_t strtab = 0, strsz = 0;
	bool have_strtab = false;
	size_t n_needed = 0;
	uint64_t needed[64];
	for (uint64_t i = 0; i < n_dyn; i++) {
		uint64_t tag, val, off = dyn.offset + i * entsize;
		if (!rdw(&e, off, &tag) || !rdw(&e, off + entsize / 2, &val))
			return -EINVAL;
		if (tag == DT_NULL)
			break;
		if (tag == DT_STRTAB) {
			strtab = val;
			have_strtab = true;
		} else if (tag == DT_STRSZ) {
			strsz = val;
		} else if (tag == DT_NEEDED && n_needed < sizeof(needed) / sizeof(needed[0])) {
			needed[n_needed++] = val;
		}
	}
	if (n_needed == 0)
		return 0;
	if (!have_strtab || strsz == 0)
		return -EINVAL;

	/* DT_STRTAB is a virtual address: find the load segment that holds it. */
	uint64_t str_off = UINT64_MAX;
	for (uint64_t i = 0; i < phnum && str_off == UINT64_MAX; i++) {
		struct phdr p;
		if (!read_phdr(&e, phoff + i * phentsize, &p))
			return -EINVAL;
		if (p.type != PT_LOAD || strtab < p.vaddr || strtab - p.vaddr >= p.filesz)
			continue;
		uint64_t delta = strtab - p.vaddr;
		if (p.offset > len || delta > len - p.offset)
			return -EINVAL;
		str_off = p.offset + delta;
		/* The table may not reach past the segment's bytes in the file. */
		if (strsz > p.filesz - delta)
			strsz = p.filesz - delta;
	}
	if (str_off == UINT64_MAX || str_off > len)
		return -EINVAL;
	if (strsz > len - str_off)
		strsz = len - str_off;
	for (size_t i = 0; i < n_needed; i++) {
		if (needed[i] >= strsz)
			return -EINVAL;
		const char *s = buf + str_off + needed[i];
		size_t max = (size_t)(strsz - needed[i]);
		const char *nul = memchr(s, '\0', max);
		if (!nul)
			return -EINVAL;
		strv_push(out, s);
	}
	return 0;
}

int elf_needs(const char *buf, size_t len, const char *prefix, bool *yes)
{
	struct strv names = { 0 };
	*yes = false;
	int rc = elf_needed(buf, len, &names);
	for (size_t i = 0; rc == 0 && i < names.n; i++)
		if (strncmp(names.v[i], prefix, strlen(prefix)) == 0)
			*yes = true;
	strv_free(&names);
	return rc == -ENOENT ? 0 : rc;
}
