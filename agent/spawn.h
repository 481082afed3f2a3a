/* spawn.h: the only code that starts a process. argv only (never a shell), an explicit
 * environment, stdin from /dev/null or a buffer, stdout and stderr captured up to a cap, a
 * deadline after which the whole process tree is killed, and one result struct. Instance
 * programs (anything under the instance root) run only through the sandbox (SPAWN_SANDBOX). */
#ifndef SSHRESCUE_SPAWN_H
#define SSHRESCUE_SPAWN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util.h"

enum spawn_how {
	SPAWN_EXITED,	   /* code: the exit status */
	SPAWN_SIGNALED,	   /* code: the signal */
	SPAWN_TIMED_OUT,   /* the deadline passed: the whole tree was killed */
	SPAWN_NOT_STARTED, /* error: errno (ENOENT: no such program, ETIME: no time left) */
	SPAWN_NO_SANDBOX,  /* SPAWN_SANDBOX and no sandbox could be made: nothing ran; why says */
};

/* flags: SPAWN_MERGE_STDERR: stderr goes where stdout goes (res->out). SPAWN_OWN_BUDGET:
 * timeout_ms alone bounds it, not the run's deadline (release, delivery, after: they run past
 * it). SPAWN_SANDBOX: an instance program (see spawn.c). */
#define SPAWN_MERGE_STDERR (1u << 0)
#define SPAWN_OWN_BUDGET (1u << 1)
#define SPAWN_SANDBOX (1u << 2)

struct spawn_opts {
	unsigned flags;
	char *const *envp; /* NULL: PATH=/usr/sbin:/usr/bin:/sbin:/bin LC_ALL=C */
	const char *input; /* stdin; NULL: /dev/null */
	size_t input_len;
	size_t max_output;   /* per stream; 0: 1 MiB. More is read and dropped (res->cut) */
	unsigned timeout_ms; /* 0: only the run's deadline */
	/* SPAWN_SANDBOX */
	const char *root;	 /* host path of the instance root: the sandbox's / (read-only) */
	int root_fd;		 /* > 0: the same directory, opened (checked against root) */
	const char *cwd;	 /* inside the sandbox; NULL: / */
	const char *scratch;	 /* a private writable tmpfs at this path inside the sandbox */
	const char *const *take; /* names in scratch copied out after the program ended */
	struct buf *taken;	 /* one per take entry: the file's bytes (empty when absent) */
};

struct spawn_result {
	enum spawn_how how;
	int code;
	int error;
	const char *why; /* SPAWN_NO_SANDBOX: in words (static or in out) */
	char *out, *err; /* NUL-terminated, never NULL after spawn_run() */
	size_t out_len, err_len;
	bool cut; /* output over max_output was dropped */
};

/* argv[0]: a full path, or a name looked up in /usr/sbin:/usr/bin:/sbin:/bin. Returns 0 with
 * *res filled (how says what happened), or -errno when the machinery itself failed (pipes,
 * fork). */
int spawn_run(char *const argv[], const struct spawn_opts *o, struct spawn_result *res);
/* Exited with status 0. */
bool spawn_ok(const struct spawn_result *res);
/* "exit status 3", "killed by signal 9", "timed out after the deadline", "not started: ..." */
const char *spawn_describe(const struct spawn_result *res, char *buf, size_t len);
void spawn_result_free(struct spawn_result *res);

/* Async-signal-safe (target_release runs in a signal handler): argv[0] a full path, stdio
 * /dev/null, the default environment, its own process group, killed after timeout_ms.
 * 0 when it exited with status 0, else -errno (-ETIME: timed out, -EIO: failed). */
int spawn_quiet(char *const argv[], unsigned timeout_ms);

/* Async-signal-safe: SIGKILL to the process group spawn_run() is waiting for, if any (a run
 * that dies of SIGINT/SIGTERM leaves nothing running). */
void spawn_kill_running(void);

/* The run's deadline (CLOCK_MONOTONIC ms; 0: none): no program runs past it. */
void spawn_set_deadline(int64_t mono_ms);
bool spawn_deadline_passed(void);
int64_t spawn_mono_ms(void);

#endif
