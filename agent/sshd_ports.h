/* sshd_ports.h: the TCP ports the instance's sshd listens on, read from its sshd_config
 * (Include files inline) through struct root. What the policies that block by port (firewall,
 * fail2ban) compare their rules with. */
#ifndef SSHRESCUE_SSHD_PORTS_H
#define SSHRESCUE_SSHD_PORTS_H

#include <stddef.h>

struct root;

/* Sorted ports in *ports (caller frees), at least one: 22 when the configuration cannot be read
 * or names a port sshd would refuse. */
void sshd_ports_read(struct root *r, unsigned **ports, size_t *n);

#endif
