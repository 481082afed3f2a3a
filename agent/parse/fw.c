/* fw.c: the classes of matches against the traffic a firewall repair must let through,
 * shared by the iptables-save and nftables analyses. */
#include "parse/fw.h"

#include <sys/socket.h>

static bool cidr_is_any(const struct cidr *c)
{
	return c->prefix == 0;
}

bool fw_nets_within_peers(const struct fw_scope *s, const struct cidr *nets, size_t n)
{
	if (!s->n_peers)
		return true;
	for (size_t i = 0; i < n; i++) {
		bool in = false;
		for (size_t j = 0; j < s->n_peers && !in; j++)
			in = nets[i].family == s->peers[j].family &&
			     cidr_contains(&s->peers[j], &nets[i]);
		if (!in)
			return false;
	}
	return true;
}

enum fw_class fw_negate(enum fw_class c, bool neg)
{
	if (!neg)
		return c;
	return c == FW_ALL ? FW_NONE : c == FW_NONE ? FW_ALL : FW_SOME;
}

enum fw_class fw_and(enum fw_class a, enum fw_class b)
{
	return a < b ? a : b;
}

enum fw_class fw_class_nets(const struct fw_scope *s, const struct cidr *nets, size_t n, bool neg)
{
	size_t all = 0, none = 0;
	if (!s->n_peers) {
		/* Every source: only a match of every address matches all of them. */
		for (size_t i = 0; i < n; i++)
			if (nets[i].family == s->family && cidr_is_any(&nets[i]))
				return fw_negate(FW_ALL, neg);
		return FW_SOME;
	}
	for (size_t j = 0; j < s->n_peers; j++) {
		bool inside = false, overlap = false;
		for (size_t i = 0; i < n; i++) {
			if (nets[i].family != s->peers[j].family)
				continue;
			if (cidr_contains(&nets[i], &s->peers[j]))
				inside = true;
			if (cidr_overlaps(&nets[i], &s->peers[j]))
				overlap = true;
		}
		all += inside;
		none += !overlap;
	}
	if (all == s->n_peers)
		return fw_negate(FW_ALL, neg);
	if (none == s->n_peers)
		return fw_negate(FW_NONE, neg);
	return FW_SOME;
}

enum fw_class fw_class_ports(const struct fw_scope *s, const unsigned (*ranges)[2], size_t n,
			     bool neg)
{
	size_t in = 0;
	for (size_t p = 0; p < s->n_ports; p++)
		for (size_t i = 0; i < n; i++)
			if (s->ports[p] >= ranges[i][0] && s->ports[p] <= ranges[i][1]) {
				in++;
				break;
			}
	if (in == s->n_ports)
		return fw_negate(FW_ALL, neg);
	if (in == 0)
		return fw_negate(FW_NONE, neg);
	return FW_SOME;
}
