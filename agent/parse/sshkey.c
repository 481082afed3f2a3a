/* sshkey.c: the algorithm of a private key file; see sshkey.h. */
#include "parse/sshkey.h"

#include <errno.h>
#include <stdint.h>
#include <string.h>

#define MAX_DECODED 4096 /* the header and first public key lie in the first bytes */

static int b64_value(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

/* Decode base64 from s[0..n) skipping white space, up to cap bytes; stops at '=' or '-'. */
static size_t b64_decode(const char *s, size_t n, unsigned char *out, size_t cap)
{
	uint32_t acc = 0;
	int bits = 0;
	size_t o = 0;
	for (size_t i = 0; i < n && o < cap; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '=' || c == '-')
			break;
		int v = b64_value(c);
		if (v < 0)
			continue;
		acc = acc << 6 | (uint32_t)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out[o++] = (unsigned char)(acc >> bits);
			acc &= (1u << bits) - 1;
		}
	}
	return o;
}

/* A uint32-length-prefixed string at *p of the decoded buffer. */
static int get_string(const unsigned char *b, size_t n, size_t *p, size_t *off, size_t *len)
{
	if (*p > n || n - *p < 4)
		return -EINVAL;
	uint32_t l = (uint32_t)b[*p] << 24 | (uint32_t)b[*p + 1] << 16 | (uint32_t)b[*p + 2] << 8 |
		     b[*p + 3];
	*p += 4;
	if (l > n - *p)
		return -EINVAL;
	*off = *p;
	*len = l;
	*p += l;
	return 0;
}

static int copy_out(const char *s, size_t n, char *out, size_t out_len)
{
	if (n == 0 || n >= out_len)
		return -EINVAL;
	memcpy(out, s, n);
	out[n] = '\0';
	return 0;
}

int sshkey_private_type(const char *buf, size_t len, char *out, size_t out_len)
{
	static const struct {
		const char *pem, *type;
	} pems[] = {
		{ "-----BEGIN DSA PRIVATE KEY-----", "ssh-dss" },
		{ "-----BEGIN RSA PRIVATE KEY-----", "ssh-rsa" },
		{ "-----BEGIN EC PRIVATE KEY-----", "ecdsa" },
	};
	for (size_t i = 0; i < sizeof(pems) / sizeof(pems[0]); i++)
		if (memmem(buf, len, pems[i].pem, strlen(pems[i].pem)))
			return copy_out(pems[i].type, strlen(pems[i].type), out, out_len);
	static const char begin[] = "-----BEGIN OPENSSH PRIVATE KEY-----";
	const char *p = memmem(buf, len, begin, sizeof(begin) - 1);
	if (!p)
		return -EINVAL;
	p += sizeof(begin) - 1;
	unsigned char b[MAX_DECODED];
	size_t n = b64_decode(p, len - (size_t)(p - buf), b, sizeof(b));
	static const char magic[] = "openssh-key-v1"; /* with its NUL */
	if (n < sizeof(magic) || memcmp(b, magic, sizeof(magic)) != 0)
		return -EINVAL;
	size_t pos = sizeof(magic), off, l;
	for (int k = 0; k < 3; k++) /* ciphername, kdfname, kdfoptions */
		if (get_string(b, n, &pos, &off, &l) < 0)
			return -EINVAL;
	if (n - pos < 4 || pos > n)
		return -EINVAL;
	pos += 4; /* number of keys */
	/* The first public key: its length, then its type string. Only the type is read, so
	 * the blob may run past the bytes decoded. */
	if (n - pos < 4)
		return -EINVAL;
	uint32_t blob_len = (uint32_t)b[pos] << 24 | (uint32_t)b[pos + 1] << 16 |
			    (uint32_t)b[pos + 2] << 8 | b[pos + 3];
	pos += 4;
	if (get_string(b, n, &pos, &off, &l) < 0 || l + 4 > blob_len)
		return -EINVAL;
	for (size_t i = 0; i < l; i++)
		if (b[off + i] < 0x21 || b[off + i] > 0x7e)
			return -EINVAL;
	return copy_out((const char *)b + off, l, out, out_len);
}
