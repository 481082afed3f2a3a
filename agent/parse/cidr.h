/* cidr.h: IPv4/IPv6 addresses and networks: parsing, containment, formatting. Pure. */
#ifndef SSHRESCUE_CIDR_H
#define SSHRESCUE_CIDR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

/* An address is a network with prefix 32 (IPv4) or 128 (IPv6). IPv4 is kept as AF_INET with
 * the four bytes in addr[0..3]; an IPv4-mapped IPv6 address (::ffff:a.b.c.d) is parsed as IPv4. */
struct cidr {
	int family; /* AF_INET or AF_INET6 */
	uint8_t addr[16];
	unsigned prefix;
};

/* "a.b.c.d", "a.b.c.d/len", "v6", "v6/len", optionally "[v6]" or "[v6]/len". Host bits set
 * below the prefix are cleared. 0 or -EINVAL. */
int cidr_parse(const char *s, struct cidr *out);
/* Same, on the first n bytes of s. */
int cidr_parse_n(const char *s, size_t n, struct cidr *out);

/* Is every address of inner inside outer? (Same family only.) */
bool cidr_contains(const struct cidr *outer, const struct cidr *inner);
/* Do the two networks share any address? */
bool cidr_overlaps(const struct cidr *a, const struct cidr *b);
/* First and last address of a network. */
void cidr_first(const struct cidr *net, struct cidr *out);
void cidr_last(const struct cidr *net, struct cidr *out);

/* An IPv4 network as two host-order words, for loops that test millions of addresses. */
struct cidr_v4 {
	uint32_t net, mask;
};

static inline uint32_t cidr_v4_word(const uint8_t *a)
{
	return (uint32_t)a[0] << 24 | (uint32_t)a[1] << 16 | (uint32_t)a[2] << 8 | a[3];
}

/* false (and *out untouched) for an IPv6 network */
static inline bool cidr_v4_of(const struct cidr *c, struct cidr_v4 *out)
{
	if (c->family != AF_INET)
		return false;
	out->mask = c->prefix ? ~0u << (32 - c->prefix) : 0;
	out->net = cidr_v4_word(c->addr) & out->mask;
	return true;
}

static inline bool cidr_v4_has(const struct cidr_v4 *n, uint32_t addr)
{
	return (addr & n->mask) == n->net;
}

/* A dotted quad as inet_pton() reads it (1 to 3 digits, no leading zero, at most 255), from s
 * (lim: the end of the buffer) into a host-order word: the hot loop of million-line DenyHosts
 * files, so no bounds check per byte (only one for the 15 bytes a quad can span, the careful
 * loop otherwise). Returns the first byte after the quad, or NULL. */
static inline const char *cidr_quad_scan(const char *s, const char *lim, uint32_t *out)
{
	uint32_t w = 0;
	if (lim - s >= 16) {
		for (int part = 0; part < 4; part++) {
			unsigned d0 = (unsigned)(s[0] - '0'), d1 = (unsigned)(s[1] - '0'), v;
			if (d0 > 9)
				return NULL;
			if (d1 > 9) {
				v = d0, s += 1;
			} else if (d0 == 0) {
				return NULL;
			} else {
				unsigned d2 = (unsigned)(s[2] - '0');
				if (d2 > 9) {
					v = d0 * 10 + d1, s += 2;
				} else {
					v = d0 * 100 + d1 * 10 + d2, s += 3;
					if (v > 255 || (unsigned)(s[0] - '0') <= 9)
						return NULL;
				}
			}
			w = w << 8 | v;
			if (part < 3 && *s++ != '.')
				return NULL;
		}
		*out = w;
		return s;
	}
	for (int part = 0; part < 4; part++) {
		if (part && (s >= lim || *s++ != '.'))
			return NULL;
		const char *start = s;
		unsigned v = 0;
		while (s < lim && s - start < 4 && (unsigned)(*s - '0') <= 9)
			v = v * 10 + (unsigned)(*s++ - '0');
		if (s == start || s - start > 3 || v > 255 || (s - start > 1 && *start == '0'))
			return NULL;
		w = w << 8 | v;
	}
	*out = w;
	return s;
}

#define CIDR_STRLEN 64
/* "a.b.c.d/len" (or without "/len" for a single address); v6 in RFC 5952 form. */
void cidr_format(const struct cidr *c, char out[CIDR_STRLEN]);
/* The address alone, no prefix. */
void cidr_format_addr(const struct cidr *c, char out[CIDR_STRLEN]);

/* A list of protected networks. n == 0 means every source is protected. */
struct cidr_list {
	struct cidr *v;
	size_t n;
};
/* Comma- and/or space-separated list; on error *bad gets the offending token's offset. */
int cidr_list_parse(const char *s, struct cidr_list *out, size_t *bad);
void cidr_list_add(struct cidr_list *l, const struct cidr *c);
void cidr_list_free(struct cidr_list *l);
/* True when addr lies in one of the networks, or when the list is empty. */
bool cidr_list_protects(const struct cidr_list *l, const struct cidr *addr);

#endif
