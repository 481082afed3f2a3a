/* fuzz_policy_ini.c: libFuzzer harness of the policy file (config.c over inih). The input is
 * the file's text; after it loads (or fails), its lines are also fed to config_set() as
 * "section key value", the path the command-line overrides take. Checks: an error always
 * names the file and a line, a success leaves every string key set.
 *   tests/fuzz/run builds it with agent/config.c, agent/util.c, agent/parse/ (every .c) and inih. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = xmalloc(size + 1);
	memcpy(text, data, size);
	text[size] = '\0';

	struct config cfg;
	config_init(&cfg);
	char *err = NULL;
	int rc = config_load_string(&cfg, text, "fuzz.ini", &err);
	if (rc < 0) {
		/* "fuzz.ini:LINE: ..." */
		if (!err || strncmp(err, "fuzz.ini:", 9) != 0)
			__builtin_trap();
		free(err);
		err = NULL;
	} else if (err || !cfg.backup_dir || !cfg.report_file || !cfg.target_root ||
		   cfg.backup_dir[0] != '/' || cfg.report_file[0] != '/') {
		__builtin_trap();
	}

	/* Each line "section key value" as a command-line override. */
	char *save = NULL;
	for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *sp = strchr(line, ' ');
		if (!sp)
			continue;
		*sp = '\0';
		char *key = sp + 1;
		char *sp2 = strchr(key, ' ');
		if (!sp2)
			continue;
		*sp2 = '\0';
		if (config_set(&cfg, line, key, sp2 + 1, &err) < 0) {
			if (!err)
				__builtin_trap();
			free(err);
			err = NULL;
		}
	}
	config_free(&cfg);
	free(text);
	return 0;
}
