/* deliver.h: getting the report out: to the endpoint of [report] (libcurl), into the instance
 * (report file, history, spool of undelivered reports) and onto the console. The only module
 * that talks to the network. */
#ifndef SSHRESCUE_DELIVER_H
#define SSHRESCUE_DELIVER_H

#include <stdbool.h>

struct config;
struct root;
struct run;

/* Deliver the run's report: first any spooled reports of earlier runs, then this one.
 * Fills run->delivery_*; an undelivered report goes to the spool inside the instance.
 * Returns 0 when delivered or nothing to deliver, -errno (exit bit 2) when not. root may be
 * NULL (no instance mounted): then nothing is spooled. readonly: check, nothing written. */
int deliver_report(const struct config *cfg, struct root *root, struct run *run, bool readonly);
/* Write the report file (and history) inside the instance: [report] file. */
int deliver_write_file(const struct config *cfg, struct root *root, struct run *run);
/* The console summary (stderr, and /dev/console + /dev/kmsg in rescue boot), and with
 * console = yes the machine-readable chunked report lines. */
void deliver_console(const struct config *cfg, const struct run *run, bool rescue_boot);

#endif
