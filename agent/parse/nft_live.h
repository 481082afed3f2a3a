/* nft_live.h: the repair of the running nft ruleset, as text: from the listing of
 * "nft -a list ruleset" (each rule followed by "# handle N"), the tables iptables-nft owns and
 * the scopes, the transaction for "nft -f -" that deletes blocking rules by handle and inserts
 * or adds accept rules. Pure: the policy lists, reports and runs. */
#ifndef SSHRESCUE_NFT_LIVE_H
#define SSHRESCUE_NFT_LIVE_H

#include <stdbool.h>
#include <stddef.h>

#include "parse/fw.h"
#include "parse/nftables.h"
#include "util.h"

/* One change of the running rules: one per fix, in the fixes' order. */
struct nft_live_change {
	const struct nft_fix *fix;
	const struct nft_table *table;
	const struct nft_chain *chain;
	const struct nft_rule *rule; /* the blocking rule; NULL: the end of the chain */
	unsigned long handle;	     /* the rule's handle; 0 with a rule: nft printed none */
	char *accept;		     /* NFT_FIX_INSERT: the accept rule ("ip saddr ... accept") */
};

struct nft_live {
	struct nft_file view; /* the tables nft alone owns (borrowed from the listing's) */
	struct nft_fixes fixes;
	struct nft_live_change *changes;
	size_t n_changes;
	/* The text for "nft -f -": the inserts and adds first, then the deletes (a delete
	 * removes a handle an insert is placed by). NULL when there is nothing to change or
	 * a rule to change has no handle (then nothing is changed). */
	char *transaction;
};

/* Is the table one that iptables-nft made? ipt_nft_tables: "ip filter", "ip6 nat", ... as
 * iptables-nft-save and ip6tables-nft-save listed them. */
bool nft_live_owned_by_iptables(const struct nft_table *t, const struct strv *ipt_nft_tables);

/* The changes for the parsed listing f (of listing[0..len)): the tables iptables-nft owns are
 * left out (it repairs them), the others analysed as a file is, each fix turned into a
 * change. run_id marks the added rules (comment "sshrescue RUN-ID"). out->view.n_tables == 0:
 * nothing was analysed. Free with nft_live_free(), before f. */
void nft_live_build(const char *listing, size_t len, const struct nft_file *f,
		    const struct strv *ipt_nft_tables, const struct fw_scope *sc, size_t n_sc,
		    const char *run_id, struct nft_live *out);
void nft_live_free(struct nft_live *l);

#endif
