/* cidr.c: address and network arithmetic for the protect lists and the parsers. */
#include "cidr.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

static unsigned family_bits(int family)
{
	return family == AF_INET ? 32 : 128;
}

static void clear_host_bits(struct cidr *c)
{
	unsigned bits = family_bits(c->family);
	for (unsigned i = c->prefix; i < bits; i++)
		c->addr[i / 8] &= (uint8_t)~(0x80u >> (i % 8));
}

/* Dotted quad without copying: the common case, and the hot loop of large DenyHosts files. */
static bool parse_ipv4_fast(const char *s, size_t n, struct cidr *out)
{
	uint8_t a[4];
	size_t i = 0;
	for (int part = 0; part < 4; part++) {
		if (part) {
			if (i >= n || s[i] != '.')
				return false;
			i++;
		}
		unsigned v = 0, digits = 0;
		while (i < n && s[i] >= '0' && s[i] <= '9' && digits < 4) {
			v = v * 10 + (unsigned)(s[i] - '0');
			i++;
			digits++;
		}
		/* inet_pton takes no leading zeros; neither do we */
		if (!digits || digits > 3 || v > 255 || (digits > 1 && s[i - digits] == '0'))
			return false;
		a[part] = (uint8_t)v;
	}
	if (i != n)
		return false;
	memset(out, 0, sizeof(*out));
	out->family = AF_INET;
	memcpy(out->addr, a, 4);
	out->prefix = 32;
	return true;
}

int cidr_parse_n(const char *s, size_t n, struct cidr *out)
{
	char tmp[128];
	if (parse_ipv4_fast(s, n, out))
		return 0;
	if (n == 0 || n >= sizeof(tmp))
		return -EINVAL;
	memcpy(tmp, s, n);
	tmp[n] = '\0';

	char *slash = strchr(tmp, '/');
	char *prefix = NULL;
	if (slash) {
		*slash = '\0';
		prefix = slash + 1;
	}
	char *a = tmp;
	size_t alen = strlen(a);
	if (alen >= 2 && a[0] == '[' && a[alen - 1] == ']') {
		a[alen - 1] = '\0';
		a++;
	} else if (strchr(a, '[') || strchr(a, ']')) {
		return -EINVAL;
	}

	struct cidr c = { 0 };
	if (inet_pton(AF_INET, a, c.addr) == 1) {
		c.family = AF_INET;
	} else if (inet_pton(AF_INET6, a, c.addr) == 1) {
		static const uint8_t mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
		c.family = AF_INET6;
		if (memcmp(c.addr, mapped, 12) == 0 && !strchr(a, '/')) {
			memmove(c.addr, c.addr + 12, 4);
			memset(c.addr + 4, 0, 12);
			c.family = AF_INET;
			if (prefix) {
				/* ::ffff:a.b.c.d/len counts its prefix over 128 bits. */
				char *end;
				errno = 0;
				long p = strtol(prefix, &end, 10);
				if (errno || *end || end == prefix || p < 96 || p > 128 || !isdigit((unsigned char)*prefix))
					return -EINVAL;
				c.prefix = (unsigned)(p - 96);
				clear_host_bits(&c);
				*out = c;
				return 0;
			}
		}
	} else {
		return -EINVAL;
	}

	unsigned bits = family_bits(c.family);
	c.prefix = bits;
	if (prefix) {
		if (!isdigit((unsigned char)*prefix) || strlen(prefix) > 3)
			return -EINVAL;
		char *end;
		long p = strtol(prefix, &end, 10);
		if (*end || p < 0 || (unsigned long)p > bits)
			return -EINVAL;
		c.prefix = (unsigned)p;
	}
	clear_host_bits(&c);
	*out = c;
	return 0;
}

int cidr_parse(const char *s, struct cidr *out)
{
	return cidr_parse_n(s, strlen(s), out);
}

static bool prefix_equal(const uint8_t *a, const uint8_t *b, unsigned bits)
{
	unsigned full = bits / 8;
	if (memcmp(a, b, full) != 0)
		return false;
	if (bits % 8) {
		uint8_t mask = (uint8_t)(0xff00u >> (bits % 8));
		if ((a[full] & mask) != (b[full] & mask))
			return false;
	}
	return true;
}

bool cidr_contains(const struct cidr *outer, const struct cidr *inner)
{
	if (outer->family != inner->family || inner->prefix < outer->prefix)
		return false;
	struct cidr_v4 o;
	if (cidr_v4_of(outer, &o)) /* one word compare: this runs for every line of big files */
		return cidr_v4_has(&o, cidr_v4_word(inner->addr));
	return prefix_equal(outer->addr, inner->addr, outer->prefix);
}

bool cidr_overlaps(const struct cidr *a, const struct cidr *b)
{
	return cidr_contains(a, b) || cidr_contains(b, a);
}

void cidr_first(const struct cidr *net, struct cidr *out)
{
	*out = *net;
	out->prefix = family_bits(net->family);
}

void cidr_last(const struct cidr *net, struct cidr *out)
{
	*out = *net;
	unsigned bits = family_bits(net->family);
	for (unsigned i = net->prefix; i < bits; i++)
		out->addr[i / 8] |= (uint8_t)(0x80u >> (i % 8));
	out->prefix = bits;
}

void cidr_format_addr(const struct cidr *c, char out[CIDR_STRLEN])
{
	if (!inet_ntop(c->family, c->addr, out, INET6_ADDRSTRLEN))
		snprintf(out, CIDR_STRLEN, "?");
}

void cidr_format(const struct cidr *c, char out[CIDR_STRLEN])
{
	char a[CIDR_STRLEN];
	cidr_format_addr(c, a);
	if (c->prefix == family_bits(c->family))
		snprintf(out, CIDR_STRLEN, "%s", a);
	else
		snprintf(out, CIDR_STRLEN, "%.50s/%u", a, c->prefix);
}

void cidr_list_add(struct cidr_list *l, const struct cidr *c)
{
	for (size_t i = 0; i < l->n; i++)
		if (l->v[i].family == c->family && l->v[i].prefix == c->prefix &&
		    memcmp(l->v[i].addr, c->addr, 16) == 0)
			return;
	l->v = xgrow(l->v, l->n, sizeof(*l->v)); /* l->v only ever grows here */
	l->v[l->n++] = *c;
}

int cidr_list_parse(const char *s, struct cidr_list *out, size_t *bad)
{
	const char *p = s;
	while (*p) {
		while (*p == ',' || isspace((unsigned char)*p))
			p++;
		if (!*p)
			break;
		const char *start = p;
		while (*p && *p != ',' && !isspace((unsigned char)*p))
			p++;
		struct cidr c;
		if (cidr_parse_n(start, (size_t)(p - start), &c) < 0) {
			if (bad)
				*bad = (size_t)(start - s);
			return -EINVAL;
		}
		cidr_list_add(out, &c);
	}
	return 0;
}

void cidr_list_free(struct cidr_list *l)
{
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

bool cidr_list_protects(const struct cidr_list *l, const struct cidr *addr)
{
	if (l->n == 0)
		return true;
	for (size_t i = 0; i < l->n; i++)
		if (cidr_contains(&l->v[i], addr))
			return true;
	return false;
}
