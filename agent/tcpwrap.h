/* tcpwrap.h: whether the instance's sshd consults hosts.allow/hosts.deny at all. It does when
 * one of its binaries (sshd; sshd-session and sshd-auth of OpenSSH 9.8+) links libwrap, or when
 * inetd/xinetd (through tcpd or their own libwrap) starts it. Read from the ELF files, never by
 * running them. */
#ifndef SSHRESCUE_TCPWRAP_H
#define SSHRESCUE_TCPWRAP_H

#include "util.h"

struct root;

enum tcpwrap_use {
	TCPWRAP_UNKNOWN, /* no sshd binary found or one unreadable: assume the rules apply */
	TCPWRAP_YES,     /* a binary links libwrap, or (x)inetd starts sshd */
	TCPWRAP_NO,      /* every sshd binary found is ELF and none links libwrap */
};

/* *why (malloc'ed) says which binaries were read and what they link, for the report. */
enum tcpwrap_use tcpwrap_sshd_uses(struct root *r, char **why);

#endif
