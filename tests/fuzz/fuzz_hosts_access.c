/* fuzz_hosts_access.c: libFuzzer harness of the hosts_access reader, matcher and decision.
 * The input is split at "\n--\n" into hosts.allow, hosts.deny and the pattern list that any
 * `/f...` pattern reads. Besides crashes it checks two properties:
 *   - the reader's records tile the buffer: each starts where the previous ended;
 *   - a network's answer is sound: YES over the network means YES for its first, last and a
 *     middle address, NO means NO for them (rule by rule and for the whole decision);
 *   - the answer without DNS covers tcpdmatch's (whatever the name, it may refuse / grant).
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -D_GNU_SOURCE -Iagent \
 *     tests/fuzz/fuzz_hosts_access.c agent/parse/hosts_access.c agent/parse/cidr.c \
 *     agent/util.c -o fuzz_hosts_access
 *   ./fuzz_hosts_access tests/fuzz/corpus/hosts_access */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "parse/hosts_access.h"
#include "util.h"

struct part {
	const char *p;
	size_t n;
};

static int fz_read(void *arg, const char *path, const char **data, size_t *len)
{
	const struct part *list = arg;
	if (strncmp(path, "/f", 2) != 0)
		return -ENOENT;
	if (path[2] == 'x')
		return -EIO;
	*data = list->p;
	*len = list->n;
	return 0;
}

static struct part split(const char **p, size_t *n)
{
	struct part r = {*p, *n};
	const char *sep = memmem(*p, *n, "\n--\n", 4);
	if (sep) {
		r.n = (size_t)(sep - *p) + 1;
		*n -= r.n + 3;
		*p = sep + 4;
	} else {
		*p += *n;
		*n = 0;
	}
	return r;
}

static const char *const nets[] = {
	"192.0.2.0/24", "10.0.0.0/8", "0.0.0.0/0",	 "192.0.2.77/32",    "2001:db8::/32",
	"::/0",		"::/96",      "2001:db8::1/128", "203.0.113.128/25",
};

static void probes(const struct cidr *n, struct cidr out[3])
{
	cidr_first(n, &out[0]);
	cidr_last(n, &out[1]);
	out[2] = out[0];
	/* a middle address: set the first host bit and a few low ones */
	unsigned bits = n->family == AF_INET ? 32 : 128;
	if (n->prefix < bits) {
		unsigned i = n->prefix;
		out[2].addr[i / 8] |= (uint8_t)(0x80u >> (i % 8));
		out[2].addr[bits / 8 - 1] |= 0x05;
	}
}

static void check_sound(enum hosts_access_match whole, enum hosts_access_match one)
{
	if (whole == HOSTS_ACCESS_YES && one != HOSTS_ACCESS_YES)
		__builtin_trap();
	if (whole == HOSTS_ACCESS_NO && one != HOSTS_ACCESS_NO)
		__builtin_trap();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *p = (const char *)data;
	size_t n = size;
	struct part allow = split(&p, &n), deny = split(&p, &n), list = {p, n};

	/* The reader tiles each table. */
	struct hosts_access_cursor *c = xmalloc(sizeof(*c));
	struct hosts_access_rule r;
	const struct part *tabs[2] = {&allow, &deny};
	for (int t = 0; t < 2; t++) {
		size_t last = 0;
		unsigned line = 1;
		hosts_access_cursor_init(c, tabs[t]->p, tabs[t]->n);
		while (hosts_access_next(c, &r)) {
			if (r.start != last || r.end < r.start || r.end > tabs[t]->n ||
			    r.line < line)
				__builtin_trap();
			last = r.end;
			line = r.line;
			hosts_access_rule_effect(&r, 0, NULL);
		}
	}

	/* Rule by rule: network answers against single-address answers (names known, as in
	 * tcpdmatch, so single answers are exact). */
	for (size_t k = 0; k < ARRAY_SIZE(nets); k++) {
		struct cidr net, one[3];
		cidr_parse(nets[k], &net);
		probes(&net, one);
		struct hosts_access_query qn, q1[3];
		hosts_access_query_init_tcpdmatch(&qn, "sshd", &net);
		qn.read_file = fz_read;
		qn.read_arg = &list;
		for (int j = 0; j < 3; j++) {
			hosts_access_query_init_tcpdmatch(&q1[j], "sshd", &one[j]);
			q1[j].read_file = fz_read;
			q1[j].read_arg = &list;
		}
		hosts_access_cursor_init(c, deny.p, deny.n);
		while (hosts_access_next(c, &r)) {
			enum hosts_access_match whole = hosts_access_match_rule(&r, &qn);
			for (int j = 0; j < 3; j++)
				check_sound(whole, hosts_access_match_rule(&r, &q1[j]));
			for (size_t i = 0; i < r.n_clients; i++) {
				enum hosts_access_match w =
					hosts_access_match_client(r.clients[i], &qn);
				for (int j = 0; j < 3; j++)
					check_sound(
						w, hosts_access_match_client(r.clients[i], &q1[j]));
			}
		}

		/* The whole decision: a sure answer for the network holds for its addresses. */
		struct hosts_access_table t[2] = {
			{"a", allow.n ? HOSTS_ACCESS_FILE_OK : HOSTS_ACCESS_FILE_ABSENT, allow.p,
			 allow.n},
			{"d", HOSTS_ACCESS_FILE_OK, deny.p, deny.n},
		};
		unsigned out_net, out_one;
		hosts_access_decide(t, &qn, 1, HOSTS_ACCESS_DRY_RUN, &out_net, NULL, NULL);
		for (int j = 0; j < 3; j++) {
			hosts_access_decide(t, &q1[j], 1, HOSTS_ACCESS_DRY_RUN, &out_one, NULL,
					    NULL);
			if ((out_one & ~out_net) != 0)
				__builtin_trap();
		}
		/* Without DNS, and distrusting NUL bytes: must not crash, and must still be a
		 * superset of the tcpdmatch view. */
		struct hosts_access_query qd;
		hosts_access_query_init(&qd, "sshd", &net);
		qd.read_file = fz_read;
		qd.read_arg = &list;
		unsigned out_dns;
		hosts_access_decide(t, &qd, 1, HOSTS_ACCESS_DISTRUST_NUL, &out_dns, NULL, NULL);
		const unsigned refuse = HOSTS_ACCESS_DENY | HOSTS_ACCESS_TWIST;
		if (((out_net & refuse) && !(out_dns & refuse)) ||
		    ((out_net & HOSTS_ACCESS_GRANT) && !(out_dns & HOSTS_ACCESS_GRANT)))
			__builtin_trap();
	}
	free(c);
	return 0;
}
