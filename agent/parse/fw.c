/* fw.c: the classes of matches against the traffic a firewall repair must let through,
 * shared by the iptables-save and nftables analyses. */
#include "parse/fw.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>

#include "util.h"

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

/* The names of /etc/services (netbase) that rule files use; nft and iptables look them up
 * there when the rules load. */
static const struct {
	const char *name;
	unsigned port;
} fw_services[] = {
	{"ssh", 22},	     {"ftp", 21},	   {"telnet", 23}, {"smtp", 25},    {"domain", 53},
	{"http", 80},	     {"www", 80},	   {"pop3", 110},  {"ntp", 123},    {"imap", 143},
	{"https", 443},	     {"imaps", 993},	   {"pop3s", 995}, {"mysql", 3306}, {"smtps", 465},
	{"submission", 587}, {"postgresql", 5432},
};

int fw_service_port(const char *name, unsigned *port)
{
	for (size_t i = 0; i < ARRAY_SIZE(fw_services); i++)
		if (!strcmp(fw_services[i].name, name)) {
			*port = fw_services[i].port;
			return 0;
		}
	return -ENOENT;
}

bool fw_ports_within(const struct fw_scope *s, const unsigned (*ranges)[2], size_t n)
{
	bool w = n > 0;
	for (size_t i = 0; i < n && w; i++) {
		bool one = false;
		for (size_t p = 0; p < s->n_ports; p++)
			one |= ranges[i][0] == s->ports[p] && ranges[i][1] == s->ports[p];
		w = one;
	}
	return w;
}

enum fw_class fw_class_peer_ports(const unsigned (*ranges)[2], size_t n, bool neg)
{
	const unsigned eph[2] = {1024, 65535};
	bool all = false, any = false;
	for (size_t i = 0; i < n; i++) {
		all |= ranges[i][0] <= eph[0] && ranges[i][1] >= eph[1];
		any |= ranges[i][1] >= eph[0] && ranges[i][0] <= eph[1];
	}
	return fw_negate(all ? FW_ALL : any ? FW_SOME : FW_NONE, neg);
}

enum fw_class fw_class_local_nets(const struct cidr *nets, size_t n, bool neg)
{
	bool any = false, loop = n > 0;
	struct cidr lo4, lo6;
	cidr_parse("127.0.0.0/8", &lo4);
	cidr_parse("::1/128", &lo6);
	for (size_t i = 0; i < n; i++) {
		any |= cidr_is_any(&nets[i]);
		loop &= cidr_contains(nets[i].family == AF_INET ? &lo4 : &lo6, &nets[i]);
	}
	return fw_negate(any ? FW_ALL : loop ? FW_NONE : FW_SOME, neg);
}

/* The packets of each kind, as TCP flag sets (FIN 1 SYN 2 RST 4 PSH 8 ACK 16 URG 32). */
static const unsigned fw_kind_flags[FW_N_KINDS][3] = {
	[FW_IN_NEW] = {0x02},
	[FW_IN_EST] = {0x10, 0x18},
	[FW_OUT_EST] = {0x12, 0x10, 0x18},
};
static const size_t fw_kind_n_flags[FW_N_KINDS] = {1, 2, 3};

enum fw_class fw_class_tcp_flags(enum fw_kind k, unsigned mask, unsigned want, bool any_bit)
{
	size_t hit = 0;
	for (size_t i = 0; i < fw_kind_n_flags[k]; i++) {
		unsigned f = fw_kind_flags[k][i];
		hit += any_bit ? (f & mask) != 0 : (f & mask) == want;
	}
	return hit == fw_kind_n_flags[k] ? FW_ALL : hit ? FW_SOME : FW_NONE;
}

int fw_split_words(const char *p, size_t n, size_t max, bool escapes, struct strv *out)
{
	struct buf w = {0};
	bool in_word = false, quote = false, esc = false;
	for (size_t i = 0; i < n && out->n <= max; i++) {
		char c = p[i];
		if (quote && esc) {
			buf_append(&w, &c, 1);
			esc = false;
		} else if (quote && escapes && c == '\\') {
			esc = true;
		} else if (c == '"') {
			quote = !quote;
			in_word = true;
		} else if (!quote && (c == ' ' || c == '\t' || c == '\r' || c == '\n')) {
			if (in_word)
				strv_push(out, w.data ? w.data : "");
			w.len = 0;
			if (w.data)
				w.data[0] = '\0';
			in_word = false;
		} else {
			buf_append(&w, &c, 1);
			in_word = true;
		}
	}
	if (in_word && !quote)
		strv_push(out, w.data ? w.data : "");
	buf_free(&w);
	if (quote)
		return -EINVAL;
	if (out->n > max)
		return -E2BIG;
	return 0;
}
