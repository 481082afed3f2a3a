/* elf.h: the shared libraries an ELF executable names (DT_NEEDED), read from its bytes the way
 * the dynamic loader finds them (program headers: PT_DYNAMIC, DT_STRTAB mapped through the
 * PT_LOAD segments). Pure and bounded: the file is the instance's and may be hostile; every
 * offset and count is checked against the buffer, nothing is executed. */
#ifndef SSHRESCUE_PARSE_ELF_H
#define SSHRESCUE_PARSE_ELF_H

#include <stdbool.h>
#include <stddef.h>

#include "util.h"

/* Most dynamic entries read; real executables have a few dozen. */
#define ELF_MAX_DYN 4096

/* The DT_NEEDED names of the ELF file in buf (32 or 64 bit, either byte order), in order.
 * 0; -ENOENT when it has no dynamic section (static); -EINVAL when it is not ELF or its
 * headers point outside the file. */
int elf_needed(const char *buf, size_t len, struct strv *out);

/* Does one of the names start with prefix ("libwrap.so")? */
int elf_needs(const char *buf, size_t len, const char *prefix, bool *yes);

#endif
