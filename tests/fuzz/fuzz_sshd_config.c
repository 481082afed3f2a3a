/* fuzz_sshd_config.c: libFuzzer harness of the sshd_config parser. The input is split at the
 * first "\n--\n" into the main file and one file that `Include x.conf` (or any glob under
 * /etc/ssh) reaches, so Include, Match inside includes and recursion are exercised too.
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -D_GNU_SOURCE -Iagent \
 *     tests/fuzz/fuzz_sshd_config.c agent/parse/sshd_config.c agent/util.c -o fuzz_sshd_config
 *   ./fuzz_sshd_config tests/fuzz/corpus/sshd_config */
#include <errno.h>
#include <fnmatch.h>
#include <stdint.h>
#include <string.h>

#include "parse/sshd_config.h"

struct input {
	const char *inc;
	size_t inc_len;
};

static int fz_glob(void *arg, const char *pattern, struct strv *paths)
{
	if (fnmatch(pattern, "/etc/ssh/x.conf", FNM_PATHNAME | FNM_PERIOD) == 0)
		strv_push(paths, "/etc/ssh/x.conf");
	return paths->n ? 0 : -ENOENT;
}

static int fz_read(void *arg, const char *path, char **data, size_t *len)
{
	const struct input *in = arg;
	*data = xmalloc(in->inc_len + 1);
	memcpy(*data, in->inc, in->inc_len);
	(*data)[in->inc_len] = '\0';
	*len = in->inc_len;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *buf = (const char *)data;
	const char *sep = memmem(buf, size, "\n--\n", 4);
	size_t main_len = sep ? (size_t)(sep - buf) : size;
	struct input in = { sep ? sep + 4 : "", sep ? size - main_len - 4 : 0 };
	struct sshd_include_ops ops = { fz_glob, fz_read, &in };
	struct sshd_config cfg;
	sshd_config_parse("/etc/ssh/sshd_config", buf, main_len, &ops, &cfg);
	static const unsigned versions[] = { 0, SSHD_VERSION(8, 4), SSHD_VERSION(9, 2),
					     SSHD_VERSION(9, 5), SSHD_VERSION(10, 0),
					     SSHD_VERSION(10, 1), SSHD_VERSION(10, 3) };
	for (size_t v = 0; v < sizeof(versions) / sizeof(versions[0]); v++) {
		struct sshd_max_startups m;
		long dec, bad;
		sshd_config_max_startups(&cfg, versions[v], &m, &dec);
		sshd_config_decider(&cfg, "persourcemaxstartups", versions[v]);
		unsigned *ports = NULL;
		size_t n;
		if (sshd_config_ports(&cfg, versions[v], &ports, &n, &bad) == 0)
			free(ports);
		struct strv keys = { 0 };
		bool defaults;
		sshd_config_host_keys(&cfg, versions[v], &keys, &defaults);
		strv_free(&keys);
	}
	/* Every reported span lies inside its file. */
	for (size_t i = 0; i < cfg.n_occ; i++) {
		const struct sshd_occurrence *o = &cfg.occ[i];
		size_t flen = cfg.files[o->file].len;
		if (o->line_off + o->line_len > flen || o->args_off + o->args_len > flen)
			__builtin_trap();
	}
	sshd_config_free(&cfg);
	unsigned ver;
	sshd_version_from_binary(buf, size, &ver);
	sshd_version_from_dpkg_status(buf, size, &ver);
	return 0;
}
