/* sshd_ports.h: the TCP ports the instance's sshd is reached on: its sshd_config (Port,
 * ListenAddress, Include read inline), or, when sshd is socket-activated (ssh.socket enabled),
 * the socket unit's ListenStream ports with its drop-ins. The firewall and CSF policies open
 * these. */
#ifndef SSHRESCUE_SSHD_PORTS_H
#define SSHRESCUE_SSHD_PORTS_H

#include <stddef.h>

struct root;

/* Sorted, at least one (22 when nothing can be read); *ports is malloc'ed. */
void sshd_listen_ports(struct root *r, unsigned **ports, size_t *n_ports);

#endif
