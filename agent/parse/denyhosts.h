/* denyhosts.h: DenyHosts' files (denyhosts/denyhosts 3.x): denyhosts.conf as its prefs reader
 * takes it (prefs.py), the entries it appends to hosts.deny (deny_hosts.py), and the lines of
 * its counting files in WORK_DIR (counter.py: "key:count:asctime"). Pure: buffers in, values
 * and pointers into the buffer out. */
#ifndef SSHRESCUE_PARSE_DENYHOSTS_H
#define SSHRESCUE_PARSE_DENYHOSTS_H

#include <stdbool.h>
#include <stddef.h>

/* DenyHosts' thresholds (loginattempt.py get_deny_hosts(): a host whose count in one of the
 * four host files is over its threshold is denied at the next pass). */
enum denyhosts_threshold { DH_TH_INVALID, DH_TH_VALID, DH_TH_ROOT, DH_TH_RESTRICTED, DH_TH_NONE };
/* The key of each threshold in denyhosts.conf, and the default of the file DenyHosts ships. */
extern const char *const denyhosts_threshold_key[DH_TH_NONE];
extern const unsigned long denyhosts_threshold_default[DH_TH_NONE];

struct denyhosts_conf {
	char *work_dir;	     /* WORK_DIR (absolute), default: the caller's */
	char *hosts_deny;    /* HOSTS_DENY (absolute), default /etc/hosts.deny */
	char *block_service; /* BLOCK_SERVICE, default "sshd"; may be empty (bare hosts) */
	unsigned long threshold[DH_TH_NONE];
};

/* Defaults, then the "KEY = value" / "KEY: value" lines of buf (a '#' line is a comment;
 * relative WORK_DIR and HOSTS_DENY values and out-of-range thresholds are ignored). */
void denyhosts_conf_parse(const char *buf, size_t len, const char *default_work_dir,
			  struct denyhosts_conf *out);
void denyhosts_conf_free(struct denyhosts_conf *c);

/* isspace() of the C locale, without a library call per byte. */
static inline bool denyhosts_space(char c)
{
	return c == ' ' || (c >= '\t' && c <= '\r');
}

static inline bool denyhosts_case_eq(const char *a, const char *b, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char x = (unsigned char)a[i], y = (unsigned char)b[i];
		if (x != y && ((x | 0x20) != (y | 0x20) || (unsigned char)((x | 0x20) - 'a') > 25))
			return false;
	}
	return true;
}

/* One hosts.deny line as DenyHosts writes it: "SERVICE: HOST" (optionally " : deny", the BSD
 * form), or a bare HOST when BLOCK_SERVICE is empty (svc_len 0). On success *host points into
 * the line. Inline: it runs once per line of files of a million lines. */
static inline bool denyhosts_entry(const char *svc, size_t svc_len, const char *p, size_t n,
				   const char **host, size_t *host_len)
{
	while (n && denyhosts_space(p[n - 1]))
		n--;
	while (n && denyhosts_space(*p)) {
		p++;
		n--;
	}
	if (svc_len) {
		if (n <= svc_len || !denyhosts_case_eq(p, svc, svc_len))
			return false;
		p += svc_len;
		n -= svc_len;
		while (n && (*p == ' ' || *p == '\t')) {
			p++;
			n--;
		}
		if (!n || *p != ':')
			return false;
		p++;
		n--;
		while (n && (*p == ' ' || *p == '\t')) {
			p++;
			n--;
		}
		static const char bsd[] = " : deny";
		if (n > sizeof(bsd) - 1 && p[n - 1] == 'y' &&
		    __builtin_memcmp(p + n - (sizeof(bsd) - 1), bsd, sizeof(bsd) - 1) == 0)
			n -= sizeof(bsd) - 1;
	}
	if (!n)
		return false;
	*host = p;
	*host_len = n;
	return true;
}

/* One line of a counting file, "key:count:date" (the date asctime()'s 24 characters, colons
 * included): the host of the key ("user - host" when user_key) and the count. False when the
 * line has no host key. */
bool denyhosts_counting_line(const char *p, size_t n, bool user_key, const char **host,
			     size_t *host_len, unsigned long *count);

#endif
