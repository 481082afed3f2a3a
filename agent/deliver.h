/* deliver.h: getting the report out: to the endpoint of [report] (libcurl), into the instance
 * (report file, history, spool of undelivered reports) and onto the console. The only module
 * that talks to the network. */
#ifndef SSHRESCUE_DELIVER_H
#define SSHRESCUE_DELIVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

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

#define DELIVER_CHUNK_MAX 1024
#define DELIVER_CONSOLE_PREFIX "SSHRESCUE-REPORT"
struct strv;
/* "SSHRESCUE-REPORT <run-id> <i>/<n> <crc32> <chunk>" lines of the compact report: chunks of at
 * most DELIVER_CHUNK_MAX bytes, never inside a UTF-8 character; crc32 (IEEE, 8 hex) of the
 * chunk. -EINVAL for CR/LF/NUL in json or a run_id outside [A-Za-z0-9._:-]. Pure. */
int deliver_console_chunks(const char *run_id, const char *json, size_t len, struct strv *lines);
/* Pause before attempt 2, 3, ...: 1 s doubling to 16 s, equal jitter from rnd. Pure. */
unsigned long deliver_backoff_ms(unsigned attempt, uint32_t rnd);
/* 408, 425, 429 and 5xx are worth another attempt. */
bool deliver_http_retryable(long status);
struct deliver_after_plan {
	int reboot_cmd;      /* RB_AUTOBOOT / RB_POWER_OFF for reboot(2); 0: run argv */
	const char *argv[3]; /* argv[0] NULL: nothing to do */
};
/* [agent] after: reboot(2) as init; else systemctl reboot|poweroff, else reboot|poweroff. Pure. */
int deliver_after_plan(int action, bool is_init, bool systemd, struct deliver_after_plan *plan);
/* sync, then act on the plan; returns 0 for AFTER_NONE, -errno on failure. */
int deliver_after(int action, bool is_init);

#endif
