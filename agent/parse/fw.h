/* fw.h: what the firewall parsers (iptables-save, nftables, ufw, firewalld) share: the traffic
 * that must get through (protected sources of one family to sshd's ports), the three-valued
 * class of a match against it, and where edits of a file go. Pure. */
#ifndef SSHRESCUE_FW_H
#define SSHRESCUE_FW_H

#include <stdbool.h>
#include <stddef.h>

#include "parse/cidr.h"

struct strv;

/* The traffic a repair must let through: new TCP connections from every peer to every port,
 * and the packets that follow in both directions. */
struct ipset_file;
struct fw_scope {
	int family;		  /* AF_INET or AF_INET6 */
	const struct cidr *peers; /* protected networks of this family; */
	size_t n_peers;		  /* 0: every source of the family is protected */
	const unsigned *ports;	  /* sshd's ports */
	size_t n_ports;
	/* iptables: the sets the instance's boot loads before the rules (parse/ipset.h), and the
	 * files they come from, for messages; NULL: not read (a set match is "some") */
	const struct ipset_file *sets;
	const char *sets_where;
};

/* How much of the scope's traffic a match (or a rule) can match. */
enum fw_class { FW_NONE = 0, FW_SOME = 1, FW_ALL = 2 };

/* The packets of one connection, as the rules see them. */
enum fw_kind {
	FW_IN_NEW,  /* client's SYN, conntrack NEW */
	FW_IN_EST,  /* client's later packets, ESTABLISHED */
	FW_OUT_EST, /* sshd's SYN-ACK and later packets, ESTABLISHED, reply direction */
	FW_N_KINDS,
};

/* Class of a source/destination network list against the peers (negated: "! -s"). */
enum fw_class fw_class_nets(const struct fw_scope *s, const struct cidr *nets, size_t n, bool neg);
/* Class of a port range list [lo,hi] against the scope's ports. */
enum fw_class fw_class_ports(const struct fw_scope *s, const unsigned (*ranges)[2], size_t n,
			     bool neg);
/* Are all the networks inside the protected ones (always so with every source protected)? */
bool fw_nets_within_peers(const struct fw_scope *s, const struct cidr *nets, size_t n);

/* Where the functions that change a file send each change: bytes [off, off+len) of the
 * original become text[0..n). Changes come in file order. (The policy adds them to root.h's
 * struct edits; the parsers stay free of root.c.) */
struct fw_edit_sink {
	void (*add)(void *arg, size_t off, size_t len, const char *text, size_t n);
	void *arg;
};

/* The class of a match, negated ("!"): all and none swap, some stays. */
enum fw_class fw_negate(enum fw_class c, bool neg);
/* The class of two matches that must both hold. */
enum fw_class fw_and(enum fw_class a, enum fw_class b);

/* Split a rules line into words as the loaders do: blanks separate, double quotes group (with
 * escapes: a backslash inside quotes takes the next character, as iptables-restore; without:
 * as ipset restore). -EINVAL on an open quote, -E2BIG past max words. */
int fw_split_words(const char *p, size_t n, size_t max, bool escapes, struct strv *out);

/* The port of a service name as both loaders resolve it (/etc/services: "ssh", "http", "www",
 * ...); -ENOENT for a name outside the table (the match is then not known). */
int fw_service_port(const char *name, unsigned *port);
/* Are the port ranges all single ports of sshd's? (A positive match on sshd's ports alone;
 * false for an empty list.) */
bool fw_ports_within(const struct fw_scope *s, const unsigned (*ranges)[2], size_t n);
/* Class of a match on the peer's port: the client's ephemeral ports, 1024-65535. */
enum fw_class fw_class_peer_ports(const unsigned (*ranges)[2], size_t n, bool neg);
/* Class of a match on the instance's own address, unknown here: only "any" and loopback are
 * sure. */
enum fw_class fw_class_local_nets(const struct cidr *nets, size_t n, bool neg);
/* Class of a TCP flags match against the packets of a kind: (flags & mask) == want, or with
 * any_bit, (flags & mask) != 0. */
enum fw_class fw_class_tcp_flags(enum fw_kind k, unsigned mask, unsigned want, bool any_bit);

#endif
