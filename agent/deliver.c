/* deliver.c: getting the report out. (First cut: the report file inside the instance only;
 * network delivery and the console are being written.) */
#include "deliver.h"

#include <errno.h>
#include <string.h>

#include "config.h"
#include "report.h"
#include "root.h"

int deliver_report(const struct config *cfg, struct root *root, struct run *run, bool readonly)
{
	if (!cfg->report_url || !*cfg->report_url) {
		run->delivery_status = xstrdup("not configured");
		return 0;
	}
	run->delivery_url = xstrdup(cfg->report_url);
	run->delivery_status = xstrdup("failed: delivery is not built yet");
	return -ENOTSUP;
}

int deliver_write_file(const struct config *cfg, struct root *root, struct run *run)
{
	_cleanup_free_ char *text = report_to_string(run, true);
	size_t n = strlen(text);
	text[n] = '\0';
	_cleanup_free_ char *line = xasprintf("%s\n", text);
	return root_write_own(root, cfg->report_file, line, strlen(line));
}

void deliver_console(const struct config *cfg, const struct run *run, bool rescue_boot)
{
}
