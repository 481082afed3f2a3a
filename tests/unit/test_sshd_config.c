/* test_sshd_config.c: the sshd_config parser against a table of configurations (a main file
 * and the files its Include lines reach) and the effective values sshd computes in each
 * OpenSSH release. The 9.2 column was checked against Debian 12's `sshd -T`. */
#include <errno.h>
#include <fnmatch.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "parse/cidr.h"
#include "parse/sshd_config.h"

struct vfile {
	const char *path, *text;
};

/* A tiny instance: the files Include may reach. */
struct vfs {
	const struct vfile *files;
};

static int vfs_glob(void *arg, const char *pattern, struct strv *paths)
{
	const struct vfs *fs = arg;
	for (const struct vfile *f = fs->files; f && f->path; f++)
		if (fnmatch(pattern, f->path, FNM_PATHNAME | FNM_PERIOD) == 0)
			strv_push(paths, f->path);
	return paths->n ? 0 : -ENOENT;
}

static int vfs_read(void *arg, const char *path, char **data, size_t *len)
{
	const struct vfs *fs = arg;
	for (const struct vfile *f = fs->files; f && f->path; f++)
		if (strcmp(f->path, path) == 0) {
			*len = strlen(f->text);
			*data = xstrndup(f->text, *len);
			return 0;
		}
	return -ENOENT;
}

static void parse(const char *main_text, const struct vfile *files, struct sshd_config *cfg)
{
	static struct vfs fs;
	static struct sshd_include_ops ops = { vfs_glob, vfs_read, &fs };
	fs.files = files;
	assert_int_equal(sshd_config_parse("/etc/ssh/sshd_config", main_text, strlen(main_text),
					   &ops, cfg),
			 0);
}

#define V(a, b) SSHD_VERSION(a, b)
#define BAD INT_MIN

/* MaxStartups as `sshd -T` prints it, per release; BAD: sshd refuses the config. */
struct ms_case {
	const char *name;
	const char *main_text;
	const struct vfile *files;
	unsigned version;
	int start, rate, full;
	const char *decider_file; /* NULL: the default decides */
	unsigned decider_line;
};

static const struct vfile debian_dropin_low[] = {
	{ "/etc/ssh/sshd_config.d/10-low.conf", "MaxStartups 2:30:10\n" },
	{ NULL, NULL },
};
static const struct vfile two_dropins[] = {
	{ "/etc/ssh/sshd_config.d/20-b.conf", "MaxStartups 3\n" },
	{ "/etc/ssh/sshd_config.d/10-a.conf", "maxstartups 40:50:200\n" },
	{ "/etc/ssh/sshd_config.d/.hidden.conf", "MaxStartups 1\n" },
	{ "/etc/ssh/sshd_config.d/README", "MaxStartups 1\n" },
	{ NULL, NULL },
};
static const struct vfile relative_include[] = {
	{ "/etc/ssh/extra.conf", "MaxStartups 7\n" },
	{ NULL, NULL },
};
static const struct vfile include_in_match[] = {
	{ "/etc/ssh/m.conf", "PasswordAuthentication no\nMatch all\nMaxStartups 4\n" },
	{ NULL, NULL },
};
static const struct vfile glob_order[] = {
	{ "/etc/ssh/sshd_config.d/B.conf", "MaxStartups 5\n" },
	{ "/etc/ssh/sshd_config.d/a.conf", "MaxStartups 6\n" },
	{ "/etc/ssh/sshd_config.d/10.conf", "MaxStartups 8\n" },
	{ NULL, NULL },
};

#define DEBIAN_HEAD "Include /etc/ssh/sshd_config.d/*.conf\n"

static const struct ms_case ms_cases[] = {
	{ "no MaxStartups: the default", "Port 22\n", NULL, V(9, 2), 10, 30, 100, NULL, 0 },
	{ "a drop-in lowers it", DEBIAN_HEAD "MaxStartups 10:30:100\n", debian_dropin_low, V(9, 2),
	  10, 30, 100, "/etc/ssh/sshd_config", 2 },
	{ "a drop-in lowers it, first wins from 10.1", DEBIAN_HEAD "MaxStartups 10:30:100\n",
	  debian_dropin_low, V(10, 1), 2, 30, 10, "/etc/ssh/sshd_config.d/10-low.conf", 1 },
	{ "drop-in only", DEBIAN_HEAD, debian_dropin_low, V(9, 2), 2, 30, 10,
	  "/etc/ssh/sshd_config.d/10-low.conf", 1 },
	{ "keyword=value", "MaxStartups=2\n", NULL, V(9, 2), 2, 30, 2, "/etc/ssh/sshd_config", 1 },
	{ "keyword = value", "  maxstartups =  3:10:20  # three\n", NULL, V(9, 2), 3, 10, 20,
	  "/etc/ssh/sshd_config", 1 },
	{ "quoted value", "MaxStartups \"4:20:30\"\n", NULL, V(9, 2), 4, 20, 30,
	  "/etc/ssh/sshd_config", 1 },
	{ "comment lines are not settings", "#MaxStartups 1\n# MaxStartups 1\n", NULL, V(9, 2), 10,
	  30, 100, NULL, 0 },
	{ "bare N keeps the earlier rate up to 10.0", "MaxStartups 20:50:100\nMaxStartups 15\n",
	  NULL, V(9, 2), 15, 50, 15, "/etc/ssh/sshd_config", 2 },
	{ "bare N is 10:30:N in 10.1", "MaxStartups 5\nMaxStartups 20:50:100\n", NULL, V(10, 1),
	  10, 30, 5, "/etc/ssh/sshd_config", 1 },
	{ "bare N is N:30:N from 10.3", "MaxStartups 5\nMaxStartups 20:50:100\n", NULL, V(10, 3),
	  5, 30, 5, "/etc/ssh/sshd_config", 1 },
	{ "last wins in 10.0", "MaxStartups 5\nMaxStartups 20:50:100\n", NULL, V(10, 0), 20, 50,
	  100, "/etc/ssh/sshd_config", 2 },
	{ "drop-ins in glob order, hidden and non-matching skipped",
	  DEBIAN_HEAD "MaxStartups 10:30:100\n", two_dropins, V(9, 2), 10, 30, 100,
	  "/etc/ssh/sshd_config", 2 },
	{ "drop-ins in glob order, first wins", DEBIAN_HEAD, two_dropins, V(10, 1), 40, 50, 200,
	  "/etc/ssh/sshd_config.d/10-a.conf", 1 },
	{ "drop-ins in glob order, last wins", DEBIAN_HEAD, two_dropins, V(9, 2), 3, 50, 3,
	  "/etc/ssh/sshd_config.d/20-b.conf", 1 },
	{ "glob order is byte order", DEBIAN_HEAD, glob_order, V(10, 3), 8, 30, 8,
	  "/etc/ssh/sshd_config.d/10.conf", 1 },
	{ "glob order is byte order, last", DEBIAN_HEAD, glob_order, V(9, 2), 6, 30, 6,
	  "/etc/ssh/sshd_config.d/a.conf", 1 },
	{ "relative Include is under /etc/ssh", "Include extra.conf\n", relative_include, V(9, 2),
	  7, 30, 7, "/etc/ssh/extra.conf", 1 },
	{ "malformed value", "MaxStartups 10:30\n", NULL, V(9, 2), BAD, 0, 0,
	  "/etc/ssh/sshd_config", 1 },
	{ "start above full", "MaxStartups 50:30:10\n", NULL, V(9, 2), BAD, 0, 0,
	  "/etc/ssh/sshd_config", 1 },
	{ "rate out of range", "MaxStartups 5:0:10\n", NULL, V(10, 1), BAD, 0, 0,
	  "/etc/ssh/sshd_config", 1 },
	{ "zero", "MaxStartups 0\n", NULL, V(9, 2), BAD, 0, 0, "/etc/ssh/sshd_config", 1 },
	{ "extra argument", "MaxStartups 10 20\n", NULL, V(9, 2), BAD, 0, 0,
	  "/etc/ssh/sshd_config", 1 },
	{ "trailing garbage after a number is ignored by sscanf", "MaxStartups 12x\n", NULL,
	  V(9, 2), 12, 30, 12, "/etc/ssh/sshd_config", 1 },
	{ "Match all is active at start-up", "MaxStartups 20\nMatch all\nMaxStartups 3\n", NULL,
	  V(9, 2), 3, 30, 3, "/etc/ssh/sshd_config", 3 },
	{ "Match user is not active at start-up", "MaxStartups 20\nMatch user bob\nX11Forwarding no\n",
	  NULL, V(9, 2), 20, 30, 20, "/etc/ssh/sshd_config", 1 },
	{ "Match version since 10.0", "MaxStartups 20\nMatch version OpenSSH_10.*\nMaxStartups 3\n",
	  NULL, V(10, 0), 3, 30, 3, "/etc/ssh/sshd_config", 3 },
	{ "an Include's Match ends with its file",
	  "Include m.conf\nMaxStartups 30\n", include_in_match, V(9, 2), 30, 30, 30,
	  "/etc/ssh/sshd_config", 2 },
	{ "an Include's Match ends with its file, first wins",
	  "Include m.conf\nMaxStartups 30\n", include_in_match, V(10, 3), 4, 30, 4,
	  "/etc/ssh/m.conf", 3 },
	{ "an Include inside an inactive Match never matches",
	  "Match user x\nInclude m.conf\nMatch all\nMaxStartups 30\n", include_in_match, V(10, 3),
	  30, 30, 30, "/etc/ssh/sshd_config", 4 },
	{ "no argument: not a setting", "MaxStartups\nMaxStartups 9\n", NULL, V(9, 2), 9, 30, 9,
	  "/etc/ssh/sshd_config", 2 },
	{ "CRLF line ends", "MaxStartups 6\r\n", NULL, V(9, 2), 6, 30, 6, "/etc/ssh/sshd_config",
	  1 },
};

static void test_max_startups_table(void **state)
{
	for (size_t i = 0; i < sizeof(ms_cases) / sizeof(ms_cases[0]); i++) {
		const struct ms_case *c = &ms_cases[i];
		struct sshd_config cfg;
		parse(c->main_text, c->files, &cfg);
		struct sshd_max_startups m;
		long dec;
		int rc = sshd_config_max_startups(&cfg, c->version, &m, &dec);
		print_message("case: %s\n", c->name);
		if (c->start == BAD) {
			assert_int_equal(rc, -EINVAL);
		} else {
			assert_int_equal(rc, 0);
			assert_int_equal(m.start, c->start);
			assert_int_equal(m.rate, c->rate);
			assert_int_equal(m.full, c->full);
		}
		if (!c->decider_file) {
			assert_int_equal(dec, -1);
		} else {
			assert_true(dec >= 0);
			assert_string_equal(cfg.files[cfg.occ[dec].file].path, c->decider_file);
			assert_int_equal(cfg.occ[dec].line, c->decider_line);
		}
		sshd_config_free(&cfg);
	}
}

/* PerSourceMaxStartups: last wins before 9.5, first since. */
struct ps_case {
	const char *main_text;
	unsigned version;
	int value; /* -1: not set */
	unsigned line;
};
static const struct ps_case ps_cases[] = {
	{ "PerSourceMaxStartups 1\nPerSourceMaxStartups 20\n", V(9, 2), 20, 2 },
	{ "PerSourceMaxStartups 1\nPerSourceMaxStartups 20\n", V(9, 4), 20, 2 },
	{ "PerSourceMaxStartups 1\nPerSourceMaxStartups 20\n", V(9, 5), 1, 1 },
	{ "PerSourceMaxStartups none\nPerSourceMaxStartups 2\n", V(10, 0), INT_MAX, 1 },
	{ "PerSourceMaxStartups=3\n", V(9, 2), 3, 1 },
	{ "Port 22\n", V(9, 2), -1, 0 },
};

static void test_per_source_max_startups_flips_at_9_5(void **state)
{
	for (size_t i = 0; i < sizeof(ps_cases) / sizeof(ps_cases[0]); i++) {
		const struct ps_case *c = &ps_cases[i];
		struct sshd_config cfg;
		parse(c->main_text, NULL, &cfg);
		long d = sshd_config_decider(&cfg, "PerSourceMaxStartups", c->version);
		if (c->value < 0) {
			assert_int_equal(d, -1);
		} else {
			assert_true(d >= 0);
			int v;
			assert_int_equal(sshd_per_source_max_startups_parse(cfg.occ[d].args.v[0], &v),
					 0);
			assert_int_equal(v, c->value);
			assert_int_equal(cfg.occ[d].line, c->line);
		}
		sshd_config_free(&cfg);
	}
}

static void test_rules_table_matches_servconf(void **state)
{
	assert_int_equal(sshd_keyword_rule("MaxStartups", V(10, 0)), SSHD_LAST);
	assert_int_equal(sshd_keyword_rule("MaxStartups", V(10, 1)), SSHD_FIRST);
	assert_int_equal(sshd_keyword_rule("persourcemaxstartups", V(9, 4)), SSHD_LAST);
	assert_int_equal(sshd_keyword_rule("persourcemaxstartups", V(9, 5)), SSHD_FIRST);
	assert_int_equal(sshd_keyword_rule("PerSourceNetBlockSize", V(10, 0)), SSHD_LAST);
	assert_int_equal(sshd_keyword_rule("PerSourceNetBlockSize", V(10, 1)), SSHD_FIRST);
	assert_int_equal(sshd_keyword_rule("Port", V(9, 2)), SSHD_ACCUMULATE);
	assert_int_equal(sshd_keyword_rule("HostKey", V(9, 2)), SSHD_ACCUMULATE);
	assert_int_equal(sshd_keyword_rule("PasswordAuthentication", V(9, 2)), SSHD_FIRST);
	assert_true(sshd_keyword_lookup("maxstartups")->global_only);
}

static void test_every_occurrence_is_reported_with_file_line_and_match(void **state)
{
	static const struct vfile files[] = {
		{ "/etc/ssh/sshd_config.d/a.conf", "MaxStartups 1\n" },
		{ NULL, NULL },
	};
	struct sshd_config cfg;
	parse("Include /etc/ssh/sshd_config.d/*.conf\nMaxStartups 5\nMatch User bob\n"
	      "  MaxStartups 2\n",
	      files, &cfg);
	long i = sshd_config_next(&cfg, "maxstartups", -1);
	assert_true(i >= 0);
	assert_string_equal(cfg.files[cfg.occ[i].file].path, "/etc/ssh/sshd_config.d/a.conf");
	assert_int_equal(cfg.occ[i].line, 1);
	assert_int_equal(cfg.occ[i].match, -1);
	assert_int_equal(cfg.files[cfg.occ[i].file].parent, 0);
	assert_int_equal(cfg.files[cfg.occ[i].file].parent_line, 1);
	i = sshd_config_next(&cfg, "maxstartups", i);
	assert_int_equal(cfg.occ[i].line, 2);
	i = sshd_config_next(&cfg, "maxstartups", i);
	assert_int_equal(cfg.occ[i].line, 4);
	assert_true(cfg.occ[i].match >= 0);
	assert_string_equal(cfg.matches[cfg.occ[i].match].criteria, "User bob");
	assert_false(sshd_occurrence_active(&cfg, &cfg.occ[i], V(9, 2)));
	/* The argument's bytes in the file: what a repair replaces. */
	const struct sshd_file *f = &cfg.files[cfg.occ[i].file];
	assert_memory_equal(f->data + cfg.occ[i].args_off, "2", 1);
	assert_int_equal(cfg.occ[i].args_len, 1);
	assert_memory_equal(f->data + cfg.occ[i].line_off, "  MaxStartups 2", 15);
	assert_int_equal(cfg.occ[i].line_len, 15);
	assert_int_equal(sshd_config_next(&cfg, "maxstartups", i), -1);
	sshd_config_free(&cfg);
}

static void test_argument_span_covers_quotes_and_extra_arguments(void **state)
{
	struct sshd_config cfg;
	parse("MaxStartups \"1:2:3\" 4   # note\nMaxStartups=7\n", NULL, &cfg);
	const struct sshd_occurrence *o = &cfg.occ[0];
	assert_int_equal(o->args.n, 2);
	assert_string_equal(o->args.v[0], "1:2:3");
	assert_memory_equal(cfg.files[0].data + o->args_off, "\"1:2:3\" 4", o->args_len);
	o = &cfg.occ[1];
	assert_memory_equal(cfg.files[0].data + o->args_off, "7", o->args_len);
	assert_int_equal(o->args_len, 1);
	sshd_config_free(&cfg);
}

static void test_errors_sshd_refuses_are_reported(void **state)
{
	struct sshd_config cfg;
	parse("Port\nBanner \"/etc/issue\nMaxStartups 10\n", NULL, &cfg);
	assert_int_equal(cfg.n_errors, 2);
	assert_int_equal(cfg.errors[0].line, 1);
	assert_int_equal(cfg.errors[1].line, 2);
	sshd_config_free(&cfg);
}

static void test_include_recursion_stops(void **state)
{
	static const struct vfile files[] = {
		{ "/etc/ssh/loop.conf", "Include loop.conf\n" },
		{ NULL, NULL },
	};
	struct sshd_config cfg;
	parse("Include loop.conf\n", files, &cfg);
	assert_true(cfg.n_errors >= 1);
	assert_non_null(strstr(cfg.errors[0].message, "recursive"));
	sshd_config_free(&cfg);
}

static void test_ports_from_port_and_listen_address(void **state)
{
	static const struct {
		const char *text;
		size_t n;
		unsigned ports[4];
	} cases[] = {
		{ "", 1, { 22 } },
		{ "Port 2222\nPort 22\n", 2, { 22, 2222 } },
		{ "Port 2222\nListenAddress 10.0.0.1:443\n", 1, { 443 } },
		{ "Port 2222\nListenAddress 10.0.0.1:443\nListenAddress [::1]\n", 2, { 443, 2222 } },
		{ "ListenAddress ::1\nMatch user x\nPort 80\n", 1, { 22 } },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct sshd_config cfg;
		parse(cases[i].text, NULL, &cfg);
		unsigned *p = NULL;
		size_t n = 0;
		long bad;
		assert_int_equal(sshd_config_ports(&cfg, V(9, 2), &p, &n, &bad), 0);
		assert_int_equal(n, cases[i].n);
		for (size_t j = 0; j < n; j++)
			assert_int_equal(p[j], cases[i].ports[j]);
		free(p);
		sshd_config_free(&cfg);
	}
	struct sshd_config cfg;
	parse("Port 0\n", NULL, &cfg);
	unsigned *p = NULL;
	size_t n;
	long bad;
	assert_int_equal(sshd_config_ports(&cfg, V(9, 2), &p, &n, &bad), -EINVAL);
	assert_int_equal(bad, 0);
	sshd_config_free(&cfg);
}

static void test_host_keys_default_or_configured(void **state)
{
	struct sshd_config cfg;
	struct strv keys = { 0 };
	bool defaults;
	parse("Port 22\n", NULL, &cfg);
	sshd_config_host_keys(&cfg, V(9, 2), &keys, &defaults);
	assert_true(defaults);
	assert_int_equal(keys.n, 3);
	assert_string_equal(keys.v[2], "/etc/ssh/ssh_host_ed25519_key");
	strv_free(&keys);
	sshd_config_free(&cfg);
	parse("HostKey /etc/ssh/k1\nHostKey k2\n", NULL, &cfg);
	sshd_config_host_keys(&cfg, V(9, 2), &keys, &defaults);
	assert_false(defaults);
	assert_int_equal(keys.n, 2);
	assert_string_equal(keys.v[1], "/k2");
	strv_free(&keys);
	sshd_config_free(&cfg);
}

static void test_version_from_dpkg_and_binary(void **state)
{
	unsigned v;
	assert_int_equal(sshd_version_parse("1:9.2p1-2+deb12u3", &v), 0);
	assert_int_equal(v, V(9, 2));
	assert_int_equal(sshd_version_parse("OpenSSH_10.0p2", &v), 0);
	assert_int_equal(v, V(10, 0));
	assert_int_equal(sshd_version_parse("8.0p1-19.el8", &v), 0);
	assert_int_equal(v, V(8, 0));
	assert_int_equal(sshd_version_parse("banana", &v), -EINVAL);

	static const char status[] = "Package: openssh-client\nStatus: install ok installed\n"
				     "Version: 1:9.9p1-1\n\n"
				     "Package: openssh-server\nStatus: install ok installed\n"
				     "Priority: optional\nVersion: 1:9.2p1-2+deb12u5\n\n";
	assert_int_equal(sshd_version_from_dpkg_status(status, sizeof(status) - 1, &v), 0);
	assert_int_equal(v, V(9, 2));
	static const char removed[] = "Package: openssh-server\nStatus: deinstall ok config-files\n"
				      "Version: 1:9.2p1-2\n";
	assert_int_equal(sshd_version_from_dpkg_status(removed, sizeof(removed) - 1, &v), -ENOENT);

	static const char bin[] = "\x7f" "ELF\0OpenSSH_%s\0OpenSSH_2.3.0*\0OpenSSH_9.6p1\0x";
	assert_int_equal(sshd_version_from_binary(bin, sizeof(bin) - 1, &v), 0);
	assert_int_equal(v, V(9, 6));
	static const char bin2[] = "OpenSSH_9.2\0";
	assert_int_equal(sshd_version_from_binary(bin2, sizeof(bin2) - 1, &v), 0);
	assert_int_equal(v, V(9, 2));
}

static void test_max_startups_parse_like_sscanf(void **state)
{
	static const struct {
		const char *arg;
		int rc, start, rate, full;
	} cases[] = {
		{ "10:30:100", 0, 10, 30, 100 }, { "10", 0, 10, -1, 10 },
		{ "10:30", -EINVAL, 0, 0, 0 },  { "abc", -EINVAL, 0, 0, 0 },
		{ "-1", -EINVAL, 0, 0, 0 },     { "10:101:100", -EINVAL, 0, 0, 0 },
		{ "10: 30: 100", 0, 10, 30, 100 }, { "", -EINVAL, 0, 0, 0 },
		{ "5:30:5", 0, 5, 30, 5 },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct sshd_max_startups m;
		assert_int_equal(sshd_max_startups_parse(cases[i].arg, &m), cases[i].rc);
		if (cases[i].rc == 0) {
			assert_int_equal(m.start, cases[i].start);
			assert_int_equal(m.rate, cases[i].rate);
			assert_int_equal(m.full, cases[i].full);
		}
	}
}

static void test_penalty_keywords_known_from_9_8_only(void **state)
{
	(void)state;
	assert_false(sshd_keyword_known("PerSourcePenaltyExemptList", V(9, 2)));
	assert_false(sshd_keyword_known("persourcepenalties", V(9, 7)));
	assert_false(sshd_keyword_known("persourcepenaltyexemptlist", SSHD_VERSION_UNKNOWN));
	assert_true(sshd_keyword_known("persourcepenaltyexemptlist", V(9, 8)));
	assert_true(sshd_keyword_known("PerSourcePenalties", V(10, 0)));
	assert_true(sshd_keyword_known("MaxStartups", SSHD_VERSION_UNKNOWN));
	assert_int_equal(sshd_keyword_rule("persourcepenaltyexemptlist", V(10, 0)), SSHD_FIRST);
	assert_true(sshd_keyword_lookup("persourcepenaltyexemptlist")->global_only);
}

static void test_convtime_like_openssh(void **state)
{
	(void)state;
	static const struct {
		const char *s;
		long secs;
	} cases[] = {
		{ "90", 90 }, { "5s", 5 }, { "1h30m", 5400 }, { "2w", 1209600 }, { "1D", 86400 },
		{ "", -1 },   { "1x", -1 }, { "-5", -1 },     { "99999999999", -1 },
		{ "3000000w", -1 },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		assert_int_equal(sshd_convtime(cases[i].s), cases[i].secs);
}

/* Each field: the first active occurrence that sets it (servconf.c `*intptr == -1`). */
static void test_penalties_first_value_per_field(void **state)
{
	(void)state;
	struct sshd_config cfg;
	struct sshd_penalties p;
	long bad;
	parse("", NULL, &cfg);
	assert_int_equal(sshd_config_penalties(&cfg, V(10, 0), &p, &bad), 0);
	assert_true(p.enabled);
	assert_int_equal(p.authfail, 5);
	assert_int_equal(p.noauth, 1);
	assert_int_equal(p.max, 600);
	assert_int_equal(p.min, 15);
	sshd_config_free(&cfg);

	parse("PerSourcePenalties authfail:1h min:5\nPerSourcePenalties authfail:1 noauth:2m\n"
	      "Match user bob\nPerSourcePenalties max:1w\n",
	      NULL, &cfg);
	assert_int_equal(sshd_config_penalties(&cfg, V(10, 0), &p, &bad), 0);
	assert_int_equal(p.authfail, 3600);
	assert_int_equal(p.noauth, 120);
	assert_int_equal(p.min, 5);
	assert_int_equal(p.max, 600);
	assert_int_equal(p.decider[1], 0);
	assert_int_equal(p.decider[2], 1);
	sshd_config_free(&cfg);

	parse("PerSourcePenalties no\nPerSourcePenalties yes\n", NULL, &cfg);
	assert_int_equal(sshd_config_penalties(&cfg, V(10, 0), &p, &bad), 0);
	assert_false(p.enabled);
	sshd_config_free(&cfg);

	parse("PerSourcePenalties overflow:deny-all\nPerSourcePenalties no\n", NULL, &cfg);
	assert_int_equal(sshd_config_penalties(&cfg, V(10, 0), &p, &bad), 0);
	assert_true(p.enabled);
	assert_true(p.overflow_deny_all);
	sshd_config_free(&cfg);

	static const char *const refused[] = { "PerSourcePenalties no crash:5\n",
					       "PerSourcePenalties bogus:5\n",
					       "PerSourcePenalties authfail:5q\n" };
	for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
		parse(refused[i], NULL, &cfg);
		assert_int_equal(sshd_config_penalties(&cfg, V(10, 0), &p, &bad), -EINVAL);
		assert_int_equal(bad, 0);
		sshd_config_free(&cfg);
	}
}

static void test_exempt_list_merge_table(void **state)
{
	(void)state;
	static const struct {
		const char *list, *protect, *want; /* want NULL: no change */
	} cases[] = {
		{ NULL, "203.0.113.0/24", "203.0.113.0/24" },
		{ "none", "203.0.113.0/24", "203.0.113.0/24" },
		{ "10.0.0.0/8", "203.0.113.0/24,2001:db8::/32", "10.0.0.0/8,203.0.113.0/24,2001:db8::/32" },
		{ "203.0.0.0/16", "203.0.113.0/24", NULL },
		{ "203.0.113.7", "203.0.113.7", NULL },
		{ "203.0.113.*", "203.0.113.7", NULL },
		{ "203.0.113.*", "203.0.113.0/24", "203.0.113.*,203.0.113.0/24" },
		{ "!203.0.113.9,0.0.0.0/0", "203.0.113.0/24", "0.0.0.0/0" },
		{ "!198.51.100.1,0.0.0.0/0", "203.0.113.0/24", NULL },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct cidr_list pl = { 0 };
		size_t badoff;
		assert_int_equal(cidr_list_parse(cases[i].protect, &pl, &badoff), 0);
		char *got = sshd_exempt_list_merge(cases[i].list, &pl);
		if (cases[i].want)
			assert_string_equal(got ? got : "(null)", cases[i].want);
		else
			assert_null(got);
		free(got);
		cidr_list_free(&pl);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_max_startups_table),
		cmocka_unit_test(test_per_source_max_startups_flips_at_9_5),
		cmocka_unit_test(test_rules_table_matches_servconf),
		cmocka_unit_test(test_every_occurrence_is_reported_with_file_line_and_match),
		cmocka_unit_test(test_argument_span_covers_quotes_and_extra_arguments),
		cmocka_unit_test(test_errors_sshd_refuses_are_reported),
		cmocka_unit_test(test_include_recursion_stops),
		cmocka_unit_test(test_ports_from_port_and_listen_address),
		cmocka_unit_test(test_host_keys_default_or_configured),
		cmocka_unit_test(test_version_from_dpkg_and_binary),
		cmocka_unit_test(test_max_startups_parse_like_sscanf),
		cmocka_unit_test(test_penalty_keywords_known_from_9_8_only),
		cmocka_unit_test(test_convtime_like_openssh),
		cmocka_unit_test(test_penalties_first_value_per_field),
		cmocka_unit_test(test_exempt_list_merge_table),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
