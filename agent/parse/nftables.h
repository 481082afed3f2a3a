/* nftables.h: the nft language of /etc/nftables.conf, as far as it decides whether a TCP
 * connection reaches sshd: tables of the ip, ip6 and inet families, their chains (base chains
 * with hook and policy), named sets, defines, and rules with their line numbers and byte
 * offsets; and the analysis that finds what keeps protected sources out. Pure. */
#ifndef SSHRESCUE_NFTABLES_H
#define SSHRESCUE_NFTABLES_H

#include <stdbool.h>
#include <stddef.h>

#include "parse/fw.h"
#include "util.h"

struct nft_tok {
	char *s;
	size_t off; /* byte offset of the token in the file */
	unsigned line;
	bool quoted;
};

struct nft_rule {
	unsigned line;
	size_t off, end;      /* first byte of the rule, one past its last */
	struct nft_tok *toks; /* the rule's words */
	size_t n_toks;
	bool from_command; /* "add rule ..." (not inside a chain block) */
	bool insert;	   /* "insert rule": goes in front of the chain's rules */
	bool dead;	   /* removed by a later "flush chain" / "flush table" */
};

struct nft_chain {
	char *name;
	char *hook;	/* "input", ... or NULL for a regular chain */
	char *policy;	/* "accept" (default) or "drop" */
	char *type;	/* "filter", "nat", "route" (NULL: a regular chain) */
	bool lo_only;	/* an ingress/egress chain on the loopback device alone */
	bool before_ct; /* priority at or before conntrack's (-200), or not known */
	bool dead;	/* removed by a later "delete chain" (a chain of that name may follow) */
	bool flushed;	/* flushed after its last block: a rule added in it would not stay */
	unsigned line;
	size_t off;
	size_t close; /* offset of the chain block's closing brace; 0: declared by a command */
	struct nft_rule *rules;
	size_t n_rules;
};

struct nft_set {
	char *name;
	struct nft_tok *elems; /* the element words, commas dropped */
	size_t n_elems;
	bool dynamic; /* "flags dynamic" / "timeout": filled at run time */
};

struct nft_table {
	char *family; /* ip, ip6, inet, arp, bridge, netdev */
	char *name;
	unsigned line;
	struct nft_chain *chains;
	size_t n_chains;
	struct nft_set *sets;
	size_t n_sets;
	bool dead; /* removed by a later "delete table" or "flush ruleset" */
};

struct nft_define {
	char *name;
	struct nft_tok *toks;
	size_t n_toks;
};

struct nft_file {
	struct nft_table *tables;
	size_t n_tables;
	struct nft_define *defines;
	size_t n_defines;
	struct strv includes; /* "include" paths, not followed */
	char *unknown;	      /* the first construct outside the model, with its line */
};

/* Parse a file. -EINVAL with *err_line / *err on what nft would refuse (unbalanced braces,
 * an unterminated string, a rule outside a chain). "delete", "destroy" and "flush" of tables,
 * chains and the ruleset are applied in order. No count limit: the caller bounds the size. */
int nftables_parse(const char *buf, size_t len, struct nft_file *out, unsigned *err_line,
		   char **err);
void nftables_free(struct nft_file *f);

enum nft_fix_kind {
	NFT_FIX_COMMENT, /* comment out the rule's lines */
	NFT_FIX_INSERT,	 /* an accept rule in front of the rule (rule SIZE_MAX: at the chain end) */
};

struct nft_fix {
	enum nft_fix_kind kind;
	size_t table, chain, rule;
	int family; /* AF_INET, AF_INET6: the scope the accept rule is for */
	bool out;
	bool every; /* the scope has every source: one rule for both families */
	char *why;
};

struct nft_fixes {
	struct nft_fix *v;
	size_t n, cap;
	bool unsupported;
	char *note;
	/* IPv6 neighbour discovery can be dropped: the IPv6 verdict is unknown (the fixes for
	 * TCP still stand, IPv4 is not concerned) */
	char *nd_note;
};
void nft_fixes_free(struct nft_fixes *f);

/* The fixes that let every packet of the scopes through every ip/ip6/inet base chain on the
 * input and output paths. scopes: one per family (a family absent: nothing to protect). */
int nftables_analyze(const struct nft_file *f, const char *buf, size_t len,
		     const struct fw_scope *scopes, size_t n_scopes, struct nft_fixes *out);

/* The accept rule for one fix ("ip saddr { 203.0.113.0/24 } tcp dport 22 accept"); caller
 * frees. */
char *nftables_accept_rule(const struct fw_scope *s, const struct nft_file *f,
			   const struct nft_fix *x);

void nftables_edits(const char *buf, size_t len, const struct nft_file *f,
		    const struct nft_fixes *fx, const struct fw_scope *scopes, size_t n_scopes,
		    const char *marker, const struct fw_edit_sink *out);

#endif
