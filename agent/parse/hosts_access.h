/* hosts_access.h: tcp_wrappers' access control files, hosts_access(5) and hosts_options(5),
 * read the way Debian's tcpd 7.6.q reads them (hosts_access.c, misc.c, options.c with the
 * Debian patches): a streaming reader of logical lines, a tri-state matcher for one daemon and
 * a client address or network, and tcpd's decision over hosts.allow then hosts.deny. Pure: no
 * I/O (pattern files, `/file`, come through a callback), no globals, no allocation that grows
 * with the size of the file. */
#ifndef SSHRESCUE_HOSTS_ACCESS_H
#define SSHRESCUE_HOSTS_ACCESS_H

#include <stdbool.h>
#include <stddef.h>

#include "parse/cidr.h"

/* tcpd assembles each logical line in a 2048-byte buffer: at most 2047 bytes, newline included. */
#define HOSTS_ACCESS_BUFLEN 2048
/* A logical line of 2047 bytes holds at most 1024 tokens. */
#define HOSTS_ACCESS_MAX_TOKENS 1024

enum hosts_access_kind {
	HOSTS_ACCESS_RULE,     /* daemon_list : client_list [: option : ...] */
	HOSTS_ACCESS_COMMENT,  /* the logical line starts with '#' (column 1 only) */
	HOSTS_ACCESS_BLANK,    /* only blanks, tabs, CR */
	HOSTS_ACCESS_NO_COLON, /* no ':' outside brackets: tcpd warns and skips the line */
	/* No newline at the end of the file, or longer than 2047 bytes: tcpd stops reading the
	 * file there and returns an error, which hosts.deny turns into "deny". Always the last
	 * record of a file. */
	HOSTS_ACCESS_BROKEN,
};

/* One logical line. Pointers point into the cursor and stay valid until the next call. */
struct hosts_access_rule {
	enum hosts_access_kind kind;
	size_t start, end; /* bytes [start, end) of the buffer, newline(s) included */
	unsigned line;	   /* physical line number of start, 1-based */
	unsigned n_lines;  /* physical lines it spans (continuations) */
	bool has_nul;	   /* NUL bytes inside: tcpd cut the line there and glued the next on */
	bool too_long;	   /* BROKEN because longer than 2047 bytes (else: missing newline) */
	char **daemons;	   /* daemon list tokens (EXCEPT included as a token) */
	size_t n_daemons;
	char **clients; /* client list tokens */
	size_t n_clients;
	const char *options; /* everything after the second ':' (hosts_options); NULL: none */
};

/* The reader's state: fixed size (about 18 KiB), whatever the size of the file. */
struct hosts_access_cursor {
	const char *buf;
	size_t len, pos;
	unsigned line;
	bool done;
	bool has_nul; /* the buffer holds a NUL byte somewhere */
	char text[HOSTS_ACCESS_BUFLEN];
	char *daemons[HOSTS_ACCESS_MAX_TOKENS];
	char *clients[HOSTS_ACCESS_MAX_TOKENS];
};

void hosts_access_cursor_init(struct hosts_access_cursor *c, const char *buf, size_t len);
/* 1: *r is the next logical line; 0: end of file (nothing follows a BROKEN line). */
int hosts_access_next(struct hosts_access_cursor *c, struct hosts_access_rule *r);

/* Tri-state answers. For a single address: yes, no, or cannot be decided without DNS, ident,
 * NIS or the local endpoint. For a network: every address, none, or some (or undecidable).
 * MAYBE, when the query leaves names NULL (a real sshd, nothing resolved), comes from:
 *   - host name patterns: any token with more than digits, dots and slashes (".domain",
 *     "name", "name.", wildcards) may match the client's name; KNOWN, UNKNOWN, LOCAL and
 *     PARANOID depend on the name too ("[v6]" never matches a name);
 *   - "@netgroup" (NIS), "user@host" unless user is ALL (ident), "daemon@host" unless host is
 *     ALL, and port numbers in the daemon list (the local endpoint);
 *   - a `/file` list that cannot be read (other than absent), that includes itself, or nests
 *     deeper than 8;
 * and over a network from patterns that match only part of it. Masks, n.n.n.n/len, [v6]/len,
 * exact addresses are decided exactly over any network; IPv4 text patterns (prefixes
 * "n.n.", suffixes ".n", wildcards) exactly too, by running the glob over the product of the
 * octet ranges of the network; IPv6 text patterns (only in `/file` lists) by sound shortcuts.
 * The answers are sound: YES and NO are never wrong, whatever DNS says. */
enum hosts_access_match { HOSTS_ACCESS_NO, HOSTS_ACCESS_MAYBE, HOSTS_ACCESS_YES };

/* Returns a `/file` pattern list: 0 with *data, *len (owned by the caller of the matcher),
 * -ENOENT (tcpd: the pattern matches nothing), another -errno (the answer is MAYBE). */
typedef int (*hosts_access_read_fn)(void *arg, const char *path, const char **data, size_t *len);

/* Who asks. A NULL string is "not known here" (and gives MAYBE where it matters); give the
 * strings tcpdmatch uses ("unknown") to reproduce `tcpdmatch -d DAEMON ADDRESS` exactly. */
struct hosts_access_query {
	const char *daemon;	 /* "sshd" */
	struct cidr client;	 /* the client address, or a network of clients */
	const char *client_name; /* host name of the client: NULL, a name, "unknown", "paranoid" */
	const char *user;	 /* remote user (RFC 931): NULL or a name, "unknown" */
	const char *server_addr; /* local address sshd accepted on: NULL, an address, "unknown" */
	const char *server_name; /* its host name: NULL, a name, "unknown" */
	int server_port;	 /* local port: -1 not known, 0 no endpoint (tcpdmatch) */
	hosts_access_read_fn read_file;
	void *read_arg;
};

/* Fill q for tcpd's view from a real sshd, with nothing resolved: names, user, server
 * address and port not known. */
void hosts_access_query_init(struct hosts_access_query *q, const char *daemon,
			     const struct cidr *client);
/* Same, with the values tcpdmatch uses for a numeric client: every answer is then exact. */
void hosts_access_query_init_tcpdmatch(struct hosts_access_query *q, const char *daemon,
				       const struct cidr *client);

/* One client pattern (a token of a client list, or `user@host`) against the client. */
enum hosts_access_match hosts_access_match_client(const char *pattern,
						  const struct hosts_access_query *q);
/* A whole rule (daemon list AND client list, EXCEPT included); NO unless kind is RULE. */
enum hosts_access_match hosts_access_match_rule(const struct hosts_access_rule *r,
						const struct hosts_access_query *q);

/* What the options of a matched rule do (hosts_options(5); `allow`, `deny`, `twist` last). */
enum hosts_access_effect {
	HOSTS_ACCESS_EFFECT_NONE,  /* the table decides: hosts.allow grants, hosts.deny denies */
	HOSTS_ACCESS_EFFECT_ALLOW, /* `allow`: grant, even in hosts.deny */
	HOSTS_ACCESS_EFFECT_DENY,  /* `deny`, or a bad option (tcpd denies on option errors) */
	HOSTS_ACCESS_EFFECT_TWIST, /* `twist`: a shell command replaces the service */
	HOSTS_ACCESS_EFFECT_UNCERTAIN, /* aclexec, user, group: depends on the instance */
};
/* *why (may be NULL) gets a constant reason for DENY/TWIST/UNCERTAIN. flags: see below. */
enum hosts_access_effect hosts_access_rule_effect(const struct hosts_access_rule *r, unsigned flags,
						  const char **why);

/* tcpd's decision: hosts.allow, then hosts.deny, else grant. */
enum hosts_access_file_state {
	HOSTS_ACCESS_FILE_ABSENT,  /* tcpd: like an empty file */
	HOSTS_ACCESS_FILE_OK,	   /* data, len hold the content */
	HOSTS_ACCESS_FILE_ERROR,   /* tcpd cannot open it: an error (a deny in hosts.deny) */
	HOSTS_ACCESS_FILE_UNKNOWN, /* we could not read it (FIFO, directory, huge): any outcome */
};
struct hosts_access_table {
	const char *name; /* for the hit callback, e.g. "/etc/hosts.allow" */
	enum hosts_access_file_state state;
	const char *data;
	size_t len;
};

/* Outcome bits of a decision. */
#define HOSTS_ACCESS_GRANT 1u
#define HOSTS_ACCESS_DENY 2u
#define HOSTS_ACCESS_TWIST 4u /* tcpdmatch says "delegated"; for sshd it is a refusal */

/* Treat a line holding NUL bytes as a rule that may match and may deny (tcpd's reading of
 * binary junk is exact here, but the file is not what anyone wrote). */
#define HOSTS_ACCESS_DISTRUST_NUL 1u
/* tcpdmatch's dry run: aclexec runs no command and so never refuses. */
#define HOSTS_ACCESS_DRY_RUN 2u

/* A rule (or a table) that matches, or may match, for query `query`, in evaluation order. */
struct hosts_access_hit {
	size_t table; /* 0 hosts.allow, 1 hosts.deny */
	size_t query;
	const struct hosts_access_rule *rule; /* NULL: the table as a whole (ERROR/UNKNOWN) */
	enum hosts_access_match match;
	unsigned outcome; /* HOSTS_ACCESS_GRANT | DENY | TWIST bits it may give */
	const char *why;  /* constant reason for a refusal, or NULL */
};
typedef void (*hosts_access_hit_fn)(void *arg, const struct hosts_access_hit *h);

/* Decide for n queries in one pass over each table (tables[0] hosts.allow, tables[1]
 * hosts.deny). out[i] gets the outcome bits possible for query i: exactly GRANT means tcpd
 * grants for sure (every address of the network). hit (may be NULL) sees every rule that
 * matches or may match a query before that query is decided. */
void hosts_access_decide(const struct hosts_access_table tables[2],
			 const struct hosts_access_query *q, size_t n, unsigned flags,
			 unsigned *out, hosts_access_hit_fn hit, void *arg);

/* A network in the syntax every tcp_wrappers version reads: "a.b.c.d",
 * "a.b.c.d/m.m.m.m", "0.0.0.0/0.0.0.0", "[v6]/len". */
#define HOSTS_ACCESS_NET_STRLEN 96
void hosts_access_format_net(const struct cidr *c, char out[HOSTS_ACCESS_NET_STRLEN]);

#endif
