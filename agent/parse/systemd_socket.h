/* systemd_socket.h: the TCP ports of a systemd socket unit's ListenStream= lines, applied
 * file by file in the order systemd reads a unit and its drop-ins (systemd.socket(5),
 * systemd.unit(5)): an empty ListenStream= drops what earlier lines and files gave. Pure. */
#ifndef SSHRESCUE_PARSE_SYSTEMD_SOCKET_H
#define SSHRESCUE_PARSE_SYSTEMD_SOCKET_H

#include <stddef.h>

/* Apply the [Socket] section of one file to the port list *ports (n entries, xgrow'n):
 * "22", "0.0.0.0:2222", "[::]:22" add their port; an empty value clears the list; paths
 * (AF_UNIX), "vsock:" and "@abstract" add nothing. Lines continued with a backslash are
 * joined. */
void systemd_socket_apply(const char *buf, size_t len, unsigned **ports, size_t *n);

#endif
