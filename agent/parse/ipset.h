/* ipset.h: the `ipset save` / `ipset restore` format of the persisted sets (Debian's
 * ipset-persistent /etc/iptables/ipsets, RHEL's /etc/sysconfig/ipset, /etc/ipset.conf), which
 * addresses of the protected networks a set holds, and the edits that take them out. Pure. */
#ifndef SSHRESCUE_IPSET_H
#define SSHRESCUE_IPSET_H

#include <stdbool.h>
#include <stddef.h>

#include "parse/cidr.h"
#include "parse/fw.h"

/* The set types the model knows; any other is IPSET_OTHER (its matches are outside it). */
enum ipset_kind {
	IPSET_HASH_IP,
	IPSET_HASH_NET,
	IPSET_HASH_IP_PORT,
	IPSET_HASH_NET_PORT,
	IPSET_BITMAP_IP,
	IPSET_LIST_SET,
	IPSET_OTHER,
};

/* One element. An "add" of a range or of a network to an address type stores several: each
 * is one entry with the same line. */
struct ipset_entry {
	struct cidr net; /* the address dimension (address types: what the elements cover) */
	bool nomatch;
	unsigned proto;		   /* port types: IP protocol (6 tcp, 17 udp, ...) */
	unsigned port_lo, port_hi; /* port types */
	char *member;		   /* list:set: the member set */
	unsigned line;
	size_t off, len; /* the "add" line, without its newline */
	bool again;	 /* an earlier line added it too: removing this line is not enough */
};

struct ipset_set {
	char *name, *type;
	enum ipset_kind kind;
	unsigned dim;	  /* dimensions a match needs (hash:ip,port: 2) */
	int family;	  /* AF_INET or AF_INET6; list:set: AF_UNSPEC */
	unsigned netmask; /* hash:ip, bitmap:ip "netmask": elements are networks of it */
	unsigned line;
	size_t off, len; /* the "create" line */
	size_t end;	 /* offset after the set's last line (create or add) */
	struct ipset_entry *v;
	size_t n;
};

struct ipset_file {
	struct ipset_set *sets;
	size_t n;
};

/* Parse a file as `ipset restore` reads it: create/add/del/flush/destroy (and -N -A -D -F -X,
 * n a d f x), "#" comments, -exist anywhere; an "add" of an element that is there replaces it
 * (Debian's loader passes -exist). -EINVAL with *err_line, *err (caller frees) on a line that
 * is outside the model or refused; -E2BIG on too many elements. */
int ipset_parse(const char *buf, size_t len, struct ipset_file *out, unsigned *err_line,
		char **err);
void ipset_free(struct ipset_file *f);
const struct ipset_set *ipset_find(const struct ipset_file *f, const char *name);

/* A "-m set --match-set NAME FLAGS" as the rule states it. */
struct ipset_match {
	const char *name;
	const char *flags; /* "src", "src,dst", ... */
	bool return_nomatch;
	bool out; /* the reply direction: the peer is dst */
};

/* The class of the match (not negated) against the scope's traffic: TCP from the peers to sshd's
 * ports. 0; -ENOENT the set does not exist; -EPROTONOSUPPORT the set's family is not the
 * scope's (iptables-restore refuses both); -EOPNOTSUPP a type outside the model. */
int ipset_match_class(const struct ipset_file *f, const struct ipset_match *m,
		      const struct fw_scope *s, enum fw_class *out);

/* Can the set be edited so that no protected peer is in it (hash:ip, hash:net, bitmap:ip:
 * elements inside the protected networks removed, a "nomatch" element for a protected
 * network inside a wider hash:net element)? */
bool ipset_can_clear(const struct ipset_file *f, const char *name, const struct fw_scope *s);
/* The edits of the file that take the protected peers out of the set (ipset_can_clear() true):
 * removed elements' lines get marker in front, added ones come after the set's last line,
 * announced by a marker line. *desc (caller frees) says what changes, in one line. */
void ipset_clear_edits(const char *buf, size_t len, const struct ipset_file *f, const char *name,
		       const struct fw_scope *s, const char *marker, const struct fw_edit_sink *out,
		       char **desc);

#endif
