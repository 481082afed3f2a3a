/* context.h: what the policies share about the instance, read once before they run and only
 * read after: sshd's effective configuration (Include globbed by sshd's own rules, bounded),
 * its binary and version, the ports it is reached on (socket activation included), whether
 * tcp_wrappers can refuse it, the OS. A policy takes these from here and parses none of them
 * itself, so no two policies can disagree about the same file. */
#ifndef SSHRESCUE_CONTEXT_H
#define SSHRESCUE_CONTEXT_H

#include <stdbool.h>
#include <stddef.h>

#include "parse/os_release.h"
#include "parse/sshd_config.h"
#include "tcpwrap.h"

struct root;

#define CONTEXT_SSHD_CONFIG "/etc/ssh/sshd_config"
#define CONTEXT_SSHD_BINARY "/usr/sbin/sshd"

struct instance {
	/* sshd */
	int sshd_config_rc;	    /* 0, -ENOENT, or why sshd_config could not be read */
	struct sshd_config sshd_cfg; /* as sshd reads it; empty unless sshd_config_rc == 0 */
	bool have_sshd;		    /* CONTEXT_SSHD_BINARY is a file that could be read */
	char *sshd_bin;		    /* its bytes (version strings, privsep path, algorithms) */
	size_t sshd_bin_len;
	unsigned sshd_version;	    /* SSHD_VERSION(major, minor), or SSHD_VERSION_UNKNOWN */
	unsigned *ports;	    /* TCP ports sshd is reached on, sorted, at least one */
	size_t n_ports;
	enum tcpwrap_use tcpwrap;   /* whether hosts.allow/hosts.deny can refuse sshd */
	char *tcpwrap_why;	    /* what the binaries link, in words */
	/* the system */
	struct os_release os;
};

/* Read everything above from the instance. Never fails: what cannot be read is said in the
 * fields (rc, have_sshd, UNKNOWN); the policies turn that into findings. */
void instance_read(struct root *r, struct instance *in);
void instance_free(struct instance *in);

/* A copy of the ports, for a policy that keeps its own (caller frees). */
unsigned *instance_ports_copy(const struct instance *in, size_t *n);

#endif
