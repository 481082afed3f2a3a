/* sshd_ports.h: the TCP ports the instance's sshd is reached on: its sshd_config (Port,
 * ListenAddress, Include read inline), or, when sshd is socket-activated (ssh.socket enabled),
 * the socket unit's ListenStream ports with its drop-ins. The firewall and CSF policies open
 * these. */
#ifndef SSHRESCUE_SSHD_PORTS_H
#define SSHRESCUE_SSHD_PORTS_H

#include <stddef.h>

struct root;
struct sshd_config;

/* Sorted, at least one (22 when nothing can be read); *ports is malloc'ed. cfg: the instance's
 * sshd configuration as context.c read it (NULL: none), version: its sshd's. */
void sshd_listen_ports(struct root *r, const struct sshd_config *cfg, unsigned version,
		       unsigned **ports, size_t *n_ports);

#endif
