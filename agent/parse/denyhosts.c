/* denyhosts.c: DenyHosts' files. */
#include "parse/denyhosts.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

const char *const denyhosts_threshold_key[DH_TH_NONE] = {
	[DH_TH_INVALID] = "DENY_THRESHOLD_INVALID",
	[DH_TH_VALID] = "DENY_THRESHOLD_VALID",
	[DH_TH_ROOT] = "DENY_THRESHOLD_ROOT",
	[DH_TH_RESTRICTED] = "DENY_THRESHOLD_RESTRICTED",
};
const unsigned long denyhosts_threshold_default[DH_TH_NONE] = {
	[DH_TH_INVALID] = 5, [DH_TH_VALID] = 10, [DH_TH_ROOT] = 1, [DH_TH_RESTRICTED] = 1,
};

static void set_str(char **field, const char *v, size_t n)
{
	free(*field);
	*field = xstrndup(v, n);
}

void denyhosts_conf_parse(const char *buf, size_t len, const char *default_work_dir,
			  struct denyhosts_conf *out)
{
	out->work_dir = xstrdup(default_work_dir);
	out->hosts_deny = xstrdup("/etc/hosts.deny");
	out->block_service = xstrdup("sshd");
	for (size_t i = 0; i < DH_TH_NONE; i++)
		out->threshold[i] = denyhosts_threshold_default[i];
	const char *p = buf, *end = buf + len;
	while (p < end) {
		const char *eol = memchr(p, '\n', (size_t)(end - p));
		if (!eol)
			eol = end;
		const char *l = p, *le = eol;
		p = eol + 1;
		while (l < le && denyhosts_space(*l))
			l++;
		while (le > l && denyhosts_space(le[-1]))
			le--;
		if (l == le || *l == '#' || memchr(l, '\0', (size_t)(le - l)))
			continue;
		const char *sep = l;
		while (sep < le && *sep != ':' && *sep != '=')
			sep++;
		if (sep == le)
			continue;
		const char *ne = sep, *v = sep + 1;
		while (ne > l && denyhosts_space(ne[-1]))
			ne--;
		while (v < le && denyhosts_space(*v))
			v++;
		size_t nlen = (size_t)(ne - l), vlen = (size_t)(le - v);
#define KEY_IS(k) (nlen == sizeof(k) - 1 && memcmp(l, k, nlen) == 0)
		if (KEY_IS("WORK_DIR") && vlen && *v == '/') {
			set_str(&out->work_dir, v, vlen);
		} else if (KEY_IS("HOSTS_DENY") && vlen && *v == '/') {
			set_str(&out->hosts_deny, v, vlen);
		} else if (KEY_IS("BLOCK_SERVICE")) {
			set_str(&out->block_service, v, vlen);
		} else {
			for (size_t i = 0; i < DH_TH_NONE; i++) {
				const char *k = denyhosts_threshold_key[i];
				unsigned long t;
				if (nlen != strlen(k) || memcmp(l, k, nlen) != 0)
					continue;
				_cleanup_free_ char *num = xstrndup(v, vlen);
				if (parse_uint(num, 0, 1000000000UL, &t) == 0)
					out->threshold[i] = t;
			}
		}
#undef KEY_IS
	}
}

void denyhosts_conf_free(struct denyhosts_conf *c)
{
	free(c->work_dir);
	free(c->hosts_deny);
	free(c->block_service);
}

bool denyhosts_counting_line(const char *p, size_t n, bool user_key, const char **host,
			     size_t *host_len, unsigned long *count)
{
	const size_t date_len = 24;
	if (n < date_len + 3 || p[n - date_len - 1] != ':')
		return false;
	size_t i = n - date_len - 1;
	size_t digits_end = i;
	while (i > 0 && isdigit((unsigned char)p[i - 1]))
		i--;
	if (i == digits_end || i == 0 || p[i - 1] != ':')
		return false;
	*count = 0;
	for (size_t j = i; j < digits_end; j++)
		*count = *count > 100000000000UL ? *count : *count * 10 + (unsigned long)(p[j] - '0');
	size_t key_len = i - 1;
	const char *key = p;
	if (user_key) {
		/* "user - host": the host is after the last " - " */
		const char *sep = NULL;
		for (size_t j = 0; j + 3 <= key_len; j++)
			if (memcmp(key + j, " - ", 3) == 0)
				sep = key + j;
		if (!sep)
			return false;
		*host = sep + 3;
		*host_len = key_len - (size_t)(sep + 3 - key);
	} else {
		*host = key;
		*host_len = key_len;
	}
	return *host_len > 0;
}
