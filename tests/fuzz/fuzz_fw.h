/* fuzz_fw.h: what the four firewall harnesses share: the edit sink that rebuilds the file
 * (aborting on edits out of order or past the end) and the protection scopes picked by the
 * input's first byte. Included by exactly one harness per program, so its functions are
 * static. */
#ifndef SSHRESCUE_FUZZ_FW_H
#define SSHRESCUE_FUZZ_FW_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "parse/iptables_save.h"

struct fz_out {
	const char *in;
	size_t len, pos;
	struct buf out;
};

static void fz_add(void *arg, size_t off, size_t len, const char *text, size_t n)
{
	struct fz_out *o = arg;
	if (off < o->pos || off + len > o->len || off + len < off)
		abort(); /* edits out of order, overlapping or past the end */
	buf_append(&o->out, o->in + o->pos, off - o->pos);
	buf_append(&o->out, text, n);
	o->pos = off + len;
}

static void fz_finish(struct fz_out *o)
{
	buf_append(&o->out, o->in + o->pos, o->len - o->pos);
}

/* Scope i: 0 every IPv4 source, 1 two IPv4 networks, 2 an IPv6 network, all on 22 and 2222 or
 * 22 alone. */
static const unsigned fz_ports[2] = {22, 2222};
static struct cidr fz_nets[3];

static struct fw_scope fz_scope(unsigned i)
{
	cidr_parse("203.0.113.0/24", &fz_nets[0]);
	cidr_parse("10.0.0.0/8", &fz_nets[1]);
	cidr_parse("2001:db8::/32", &fz_nets[2]);
	switch (i % 3) {
	case 0:
		return (struct fw_scope){.family = AF_INET,
					 .peers = NULL,
					 .n_peers = 0,
					 .ports = fz_ports,
					 .n_ports = 1 + (i & 4) / 4};
	case 1:
		return (struct fw_scope){.family = AF_INET,
					 .peers = fz_nets,
					 .n_peers = 2,
					 .ports = fz_ports,
					 .n_ports = 1 + (i & 4) / 4};
	default:
		return (struct fw_scope){.family = AF_INET6,
					 .peers = fz_nets + 2,
					 .n_peers = 1,
					 .ports = fz_ports,
					 .n_ports = 1 + (i & 4) / 4};
	}
}

#endif
