/* spawn.c: the only code that starts a process, in the manner of OpenSSH's subprocess() and
 * systemd's safe_fork_full(): flags decide stdio, environment, deadline and confinement; no
 * call site forks or waits on its own.
 *
 * Every program gets its own process group, so the deadline kills its whole tree (SIGKILL to
 * the group), and the group is swept once the program itself has ended.
 *
 * Instance programs (SPAWN_SANDBOX: the instance's sshd -t, ssh-keygen) run in bubblewrap.
 * Why bubblewrap and not our own namespaces + libseccomp: it is the maintained, audited
 * sandbox that Flatpak ships (Debian's `bubblewrap`, 60 KB, no dependencies), it already does
 * the delicate parts right (pivot_root into a tmpfs, a reaper as pid 1 whose death takes the
 * whole pid namespace, mount points made without following the guest's symlinks outside it,
 * capabilities dropped, nested user namespaces refused) and runs unprivileged; what it lacks we
 * add around it in a few lines: the id-mapped read-only view of the instance, the host uid,
 * resource limits and the seccomp filter. The layout:
 *
 *   sshrescue ── C (root, own process group, private mount namespace)
 *                 │ a user namespace mapping uid/gid 0 to the sandbox id U; the instance tree
 *                 │ cloned (open_tree) and id-mapped through it, read-only, nosuid, nodev, so
 *                 │ the instance's root-owned files are U's: its 0600 host keys and sshd_config
 *                 │ stay readable without any capability; attached on a private tmpfs
 *                 └─ G: rlimits, uid/gid U (no capabilities, no supplementary groups), exec
 *                    bwrap: new user (U is its root, and only U), pid, mount, network, ipc,
 *                    uts (and cgroup) namespaces; / the id-mapped instance, /run /tmp and
 *                    /dev fresh, /proc of the new pid namespace, no network but a loopback
 *                    that is down, seccomp filter, die with parent, new session
 *
 * Killing the group kills C and bwrap; bwrap's pid 1 dies with its parent (--die-with-parent)
 * and with it every process of the pid namespace. Nothing of the host is writable in the
 * sandbox: U owns nothing outside it, the instance is read-only, and what a program must
 * write (ssh-keygen's key) goes to a size-limited tmpfs that C copies out; root.c installs
 * it. Where any step cannot be made (no bwrap, user namespaces disabled, a filesystem that
 * cannot be id-mapped) nothing runs: SPAWN_NO_SANDBOX. */
#include "spawn.h"
#include "target/stage.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/audit.h>
#include <linux/close_range.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stddef.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>

#define DEFAULT_MAX_OUTPUT (1u << 20)
#define SEARCH_DIRS "/usr/sbin:/usr/bin:/sbin:/bin"
/* Once the program has ended, its output is read this much longer (a child that left the
 * group may still hold the pipe). */
#define DRAIN_MS 500

static char *const default_env[] = {"PATH=" SEARCH_DIRS, "LC_ALL=C", NULL};
static int64_t run_deadline;
/* The process group running now (0: none), for spawn_kill_running() in a signal handler. */
static volatile sig_atomic_t running_group;

void spawn_kill_running(void)
{
	pid_t g = (pid_t)running_group;
	if (g > 0)
		kill(-g, SIGKILL);
}

int64_t spawn_mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void spawn_set_deadline(int64_t mono_ms)
{
	run_deadline = mono_ms;
}

bool spawn_deadline_passed(void)
{
	return run_deadline && spawn_mono_ms() >= run_deadline;
}

static int pidfd_of(pid_t pid)
{
#ifdef SYS_pidfd_open
	return (int)syscall(SYS_pidfd_open, pid, 0);
#else
	(void)pid;
	errno = ENOSYS;
	return -1;
#endif
}

/* ---- async-signal-safe: release --------------------------------------------------------- */

/* In a child just forked: the signal mask and the dispositions sshrescue changed back to the
 * defaults, and a process group of its own (the whole tree is killed through it).
 * Async-signal-safe (spawn_quiet() runs in a signal handler). */
static void child_start(void)
{
	sigset_t none;
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	signal(SIGINT, SIG_DFL);
	signal(SIGTERM, SIG_DFL);
	signal(SIGPIPE, SIG_DFL);
	signal(SIGALRM, SIG_DFL);
	setpgid(0, 0);
}

int spawn_quiet(char *const argv[], unsigned timeout_ms)
{
	pid_t pid = _Fork();
	if (pid < 0)
		return -errno;
	if (pid == 0) {
		child_start();
		int fd = open("/dev/null", O_RDWR);
		if (fd >= 0) {
			dup2(fd, 0);
			dup2(fd, 1);
			dup2(fd, 2);
		}
		execve(argv[0], argv, default_env);
		_exit(127);
	}
	setpgid(pid, pid);
	int pfd = pidfd_of(pid);
	int status = 0;
	bool timed_out = false;
	if (pfd >= 0) {
		struct pollfd p = {.fd = pfd, .events = POLLIN};
		int r;
		while ((r = poll(&p, 1, (int)timeout_ms)) < 0 && errno == EINTR)
			; /* a signal restarts the wait in full: bounded by the signals there are */
		if (r == 0)
			timed_out = true;
	} else {
		for (unsigned waited = 0; waitpid(pid, &status, WNOHANG) == 0; waited += 20) {
			if (waited >= timeout_ms) {
				timed_out = true;
				break;
			}
			struct timespec ts = {0, 20 * 1000000};
			nanosleep(&ts, NULL);
		}
	}
	if (timed_out) {
		kill(-pid, SIGKILL);
		kill(pid, SIGKILL);
	}
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	kill(-pid, SIGKILL);
	if (pfd >= 0)
		close(pfd);
	if (timed_out)
		return -ETIME;
	return status >= 0 && WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -EIO;
}

/* ---- the general case -------------------------------------------------------------------- */

bool spawn_ok(const struct spawn_result *res)
{
	return res->how == SPAWN_EXITED && res->code == 0;
}

const char *spawn_describe(const struct spawn_result *res, char *buf, size_t len)
{
	switch (res->how) {
	case SPAWN_EXITED:
		snprintf(buf, len, "exit status %d", res->code);
		break;
	case SPAWN_SIGNALED:
		snprintf(buf, len, "killed by signal %d (%s)", res->code, strsignal(res->code));
		break;
	case SPAWN_TIMED_OUT:
		snprintf(buf, len, "killed with its processes at the deadline");
		break;
	case SPAWN_NOT_STARTED:
		snprintf(buf, len, "could not start: %s",
			 res->error == ETIME ? "no time left before the deadline"
					     : strerror(res->error));
		break;
	case SPAWN_NO_SANDBOX:
		snprintf(buf, len, "skipped: no sandbox (%s)", res->why ? res->why : "?");
		break;
	}
	return buf;
}

void spawn_result_free(struct spawn_result *res)
{
	free(res->out);
	free(res->err);
	res->out = res->err = NULL;
}

/* A name without '/' is looked up in SEARCH_DIRS (never the caller's PATH). */
static int find_program(const char *name, char *path, size_t size)
{
	if (strchr(name, '/')) {
		snprintf(path, size, "%s", name);
		return 0;
	}
	const char *p = SEARCH_DIRS;
	while (*p) {
		size_t n = strcspn(p, ":");
		snprintf(path, size, "%.*s/%s", (int)n, p, name);
		if (access(path, X_OK) == 0)
			return 0;
		p += n + (p[n] == ':');
	}
	return -ENOENT;
}

/* How long this call may take from now, in ms; <= 0: none. */
static int64_t budget_ms(const struct spawn_opts *o)
{
	int64_t now = spawn_mono_ms(), until = INT64_MAX;
	if (o->timeout_ms)
		until = now + o->timeout_ms;
	if (!(o->flags & SPAWN_OWN_BUDGET) && run_deadline && run_deadline < until)
		until = run_deadline;
	return until == INT64_MAX ? INT64_MAX : until - now;
}

struct pipes {
	int in[2], out[2], err[2];
};

static void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

static void pipes_close(struct pipes *p)
{
	for (int i = 0; i < 2; i++) {
		close_fd(&p->in[i]);
		close_fd(&p->out[i]);
		close_fd(&p->err[i]);
	}
}

static int pipes_open(struct pipes *p, const struct spawn_opts *o)
{
	p->in[0] = p->in[1] = p->out[0] = p->out[1] = p->err[0] = p->err[1] = -1;
	if ((o->input && pipe2(p->in, O_CLOEXEC) < 0) || pipe2(p->out, O_CLOEXEC) < 0 ||
	    (!(o->flags & SPAWN_MERGE_STDERR) && pipe2(p->err, O_CLOEXEC) < 0)) {
		int rc = -errno;
		pipes_close(p);
		return rc;
	}
	return 0;
}

/* In a forked child: the pipes on 0, 1, 2. */
static void pipes_to_stdio(struct pipes *p)
{
	int null = -1;
	if (p->in[0] < 0)
		null = open("/dev/null", O_RDONLY | O_CLOEXEC);
	dup2(p->in[0] >= 0 ? p->in[0] : null, STDIN_FILENO);
	dup2(p->out[1], STDOUT_FILENO);
	dup2(p->err[1] >= 0 ? p->err[1] : p->out[1], STDERR_FILENO);
}

/* Feed stdin, read stdout/stderr (capped), until the program (pid) ended and its pipes are
 * closed, or the budget is spent: then SIGKILL to its group. Reaps pid; *status its wait
 * status; *timed_out when killed for time. */
static void collect(pid_t pid, struct pipes *p, const struct spawn_opts *o, int64_t budget,
		    struct spawn_result *res, int *status, bool *timed_out)
{
	size_t cap = o->max_output ? o->max_output : DEFAULT_MAX_OUTPUT;
	struct buf b[2] = {{.max = cap}, {.max = cap}};
	int64_t start = spawn_mono_ms();
	int64_t until = budget == INT64_MAX ? INT64_MAX : start + budget;
	int pfd = pidfd_of(pid);
	bool ended = false;
	size_t woff = 0;
	*timed_out = false;
	*status = 0;
	close_fd(&p->in[0]);
	close_fd(&p->out[1]);
	close_fd(&p->err[1]);
	if (p->in[1] >= 0 && !o->input_len)
		close_fd(&p->in[1]);
	if (p->in[1] >= 0)
		fcntl(p->in[1], F_SETFL, O_NONBLOCK);
	struct sigaction ign = {.sa_handler = SIG_IGN}, old_pipe;
	sigaction(SIGPIPE, &ign, &old_pipe);
	while (p->out[0] >= 0 || p->err[0] >= 0 || !ended) {
		int64_t now = spawn_mono_ms();
		if (now >= until) {
			if (!ended)
				*timed_out = true;
			break;
		}
		struct pollfd pf[4] = {
			{p->out[0], POLLIN, 0},
			{p->err[0], POLLIN, 0},
			{p->in[1], POLLOUT, 0},
			{ended ? -1 : pfd, POLLIN, 0},
		};
		int64_t wait = until - now;
		if (pfd < 0 && !ended && wait > 100)
			wait = 100; /* no pidfd: look with waitpid() now and then */
		int n = poll(pf, 4, wait > INT32_MAX ? INT32_MAX : (int)wait);
		if (n < 0 && errno != EINTR)
			break;
		for (int k = 0; n > 0 && k < 2; k++) {
			int *fd = k ? &p->err[0] : &p->out[0];
			if (*fd < 0 || !pf[k].revents)
				continue;
			char chunk[65536];
			ssize_t r = read(*fd, chunk, sizeof(chunk));
			if (r < 0 && errno == EINTR)
				continue;
			if (r <= 0)
				close_fd(fd);
			else if (buf_append(&b[k], chunk, (size_t)r) < 0)
				res->cut = true;
		}
		if (n > 0 && p->in[1] >= 0 && pf[2].revents) {
			ssize_t w = write(p->in[1], o->input + woff, o->input_len - woff);
			if (w > 0)
				woff += (size_t)w;
			if ((w < 0 && errno != EAGAIN && errno != EINTR) || woff == o->input_len)
				close_fd(&p->in[1]);
		}
		if (!ended && (pfd < 0 || (n > 0 && pf[3].revents))) {
			pid_t w = waitpid(pid, status, WNOHANG);
			if (w == pid) {
				ended = true;
				/* the tree goes with it; what still holds a pipe gets DRAIN_MS */
				kill(-pid, SIGKILL);
				if (until > spawn_mono_ms() + DRAIN_MS)
					until = spawn_mono_ms() + DRAIN_MS;
			}
		}
	}
	sigaction(SIGPIPE, &old_pipe, NULL);
	kill(-pid, SIGKILL);
	if (!ended) {
		kill(pid, SIGKILL);
		while (waitpid(pid, status, 0) < 0 && errno == EINTR)
			;
	}
	if (pfd >= 0)
		close(pfd);
	for (int k = 0; k < 2; k++)
		if (!b[k].data)
			buf_append(&b[k], "", 0);
	res->out = b[0].data;
	res->out_len = b[0].len;
	res->err = b[1].data;
	res->err_len = b[1].len;
}

static void result_from_status(struct spawn_result *res, int status, bool timed_out)
{
	if (timed_out) {
		res->how = SPAWN_TIMED_OUT;
	} else if (WIFEXITED(status)) {
		res->how = SPAWN_EXITED;
		res->code = WEXITSTATUS(status);
	} else {
		res->how = SPAWN_SIGNALED;
		res->code = WIFSIGNALED(status) ? WTERMSIG(status) : 0;
	}
}

static int spawn_host(char *const argv[], const struct spawn_opts *o, int64_t budget,
		      struct spawn_result *res)
{
	char path[4096];
	if (find_program(argv[0], path, sizeof(path)) < 0) {
		res->how = SPAWN_NOT_STARTED;
		res->error = ENOENT;
		return 0;
	}
	struct pipes p;
	int rc = pipes_open(&p, o);
	if (rc < 0)
		return rc;
	/* exec's errno comes back on a close-on-exec pipe: EOF means it ran */
	int ep[2];
	if (pipe2(ep, O_CLOEXEC) < 0) {
		rc = -errno;
		pipes_close(&p);
		return rc;
	}
	pid_t pid = fork();
	if (pid == 0) {
		child_start();
		pipes_to_stdio(&p);
		execve(path, argv, o->envp ? o->envp : default_env);
		int e = errno;
		if (write(ep[1], &e, sizeof(e)) < 0) {
			/* nothing left to tell */
		}
		_exit(127);
	}
	close(ep[1]);
	if (pid < 0) {
		rc = -errno;
		close(ep[0]);
		pipes_close(&p);
		return rc;
	}
	setpgid(pid, pid);
	int e = 0;
	ssize_t got;
	while ((got = read(ep[0], &e, sizeof(e))) < 0 && errno == EINTR)
		;
	close(ep[0]);
	if (got == (ssize_t)sizeof(e)) {
		while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
			;
		pipes_close(&p);
		res->how = SPAWN_NOT_STARTED;
		res->error = e;
		return 0;
	}
	int status;
	bool timed_out;
	running_group = pid;
	collect(pid, &p, o, budget, res, &status, &timed_out);
	running_group = 0;
	pipes_close(&p);
	result_from_status(res, status, timed_out);
	return 0;
}

/* ---- the sandbox ------------------------------------------------------------------------- */

#define SANDBOX_UID_BASE 0x70000000u /* far above any account: U = base + pid % 65536 */
#define SCRATCH_SIZE "1m"
#define TAKE_MAX (1u << 20)
#define SANDBOX_NPROC 64
#define SANDBOX_NOFILE 256
#define SANDBOX_AS (1ul << 30)
#define SANDBOX_FSIZE (16ul << 20)

/* What C tells the parent at its end. */
struct sandbox_status {
	int stage; /* 0: bwrap ran, status valid; else the step that failed */
	int err;
	int status;
};

static const char *stage_words(int stage)
{
	switch (stage) {
	case ST_USERNS:
		return "cannot make a user namespace";
	case ST_IDMAP:
		return "cannot make an id-mapped read-only view of the instance";
	case ST_MOUNT:
		return "cannot prepare the sandbox's mounts";
	case ST_SECCOMP:
		return "cannot prepare the seccomp filter";
	default:
		return "cannot start bwrap";
	}
}

#if defined(__x86_64__)
#define NATIVE_ARCH AUDIT_ARCH_X86_64
#elif defined(__aarch64__)
#define NATIVE_ARCH AUDIT_ARCH_AARCH64
#endif

/* The seccomp filter (classic BPF, for bwrap --seccomp): EPERM for what no configuration
 * check or key generation needs and what widens the kernel's attack surface: tracing, kernel
 * keyrings, BPF, perf, userfaultfd, io_uring, modules, mounts, namespaces (also through clone
 * flags; clone3 says ENOSYS so libc falls back to clone), handles, reboot, swap. Another
 * architecture's system calls are killed. */
static int seccomp_memfd(void)
{
#ifdef NATIVE_ARCH
	static const int denied[] = {
		__NR_ptrace,
		__NR_process_vm_readv,
		__NR_process_vm_writev,
		__NR_keyctl,
		__NR_add_key,
		__NR_request_key,
		__NR_bpf,
		__NR_perf_event_open,
		__NR_userfaultfd,
		__NR_kexec_load,
		__NR_init_module,
		__NR_finit_module,
		__NR_delete_module,
		__NR_mount,
		__NR_umount2,
		__NR_pivot_root,
		__NR_unshare,
		__NR_setns,
		__NR_open_by_handle_at,
		__NR_name_to_handle_at,
		__NR_swapon,
		__NR_swapoff,
		__NR_reboot,
		__NR_acct,
		__NR_quotactl,
		__NR_syslog,
		__NR_io_uring_setup,
		__NR_io_uring_enter,
		__NR_io_uring_register,
		__NR_fsopen,
		__NR_fsmount,
		__NR_fsconfig,
		__NR_fspick,
		__NR_move_mount,
		__NR_open_tree,
		__NR_mount_setattr,
		__NR_personality,
#ifdef __NR_kexec_file_load
		__NR_kexec_file_load,
#endif
	};
	const uint32_t newns = CLONE_NEWNS | CLONE_NEWUSER | CLONE_NEWPID | CLONE_NEWNET |
			       CLONE_NEWIPC | CLONE_NEWUTS | CLONE_NEWCGROUP;
	struct sock_filter f[8 + 2 * ARRAY_SIZE(denied) + 8];
	size_t n = 0;
#define EMIT(...) (f[n++] = (struct sock_filter)__VA_ARGS__)
	EMIT(BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)));
	EMIT(BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, NATIVE_ARCH, 1, 0));
	EMIT(BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS));
	EMIT(BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)));
#ifdef __x86_64__
	/* x32 system calls: the same numbers with bit 30 */
	EMIT(BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K, 0x40000000u, 0, 1));
	EMIT(BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EPERM));
#endif
	for (size_t i = 0; i < ARRAY_SIZE(denied); i++) {
		EMIT(BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (uint32_t)denied[i], 0, 1));
		EMIT(BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EPERM));
	}
	EMIT(BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_clone3, 0, 1));
	EMIT(BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | ENOSYS));
	EMIT(BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_clone, 0, 3));
	/* x86_64 and arm64 both pass the flags first; the low 32 bits hold the CLONE_NEW* */
	EMIT(BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, args[0])));
	EMIT(BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K, newns, 0, 1));
	EMIT(BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EPERM));
	EMIT(BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW));
#undef EMIT
	int fd = memfd_create("sshrescue-seccomp", MFD_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (write(fd, f, n * sizeof(f[0])) != (ssize_t)(n * sizeof(f[0])) ||
	    lseek(fd, 0, SEEK_SET) < 0) {
		int rc = errno ? -errno : -EIO;
		close(fd);
		return rc;
	}
	return fd;
#else
	return -ENOSYS; /* no filter for this architecture: the sandbox runs without one */
#endif
}

static int write_file(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	ssize_t n = write(fd, text, strlen(text));
	int rc = n == (ssize_t)strlen(text) ? 0 : n < 0 ? -errno : -EIO;
	close(fd);
	return rc;
}

/* A user namespace mapping uid and gid 0 to u, held by fd (in C). */
static int userns_for(unsigned u)
{
	int ready[2], hold[2];
	if (pipe2(ready, O_CLOEXEC) < 0)
		return -errno;
	if (pipe2(hold, O_CLOEXEC) < 0) {
		int rc = -errno;
		close(ready[0]);
		close(ready[1]);
		return rc;
	}
	pid_t h = fork();
	if (h == 0) {
		char c = unshare(CLONE_NEWUSER) == 0 ? 'y' : 'n';
		close(hold[1]);
		if (write(ready[1], &c, 1) == 1 && read(hold[0], &c, 1) < 0)
			_exit(1);
		_exit(0);
	}
	close(ready[1]);
	close(hold[0]);
	int rc = h < 0 ? -errno : 0;
	char c = 'n';
	if (rc == 0 && (read(ready[0], &c, 1) != 1 || c != 'y'))
		rc = -EPERM;
	int fd = -1;
	if (rc == 0) {
		char path[64], map[64];
		snprintf(map, sizeof(map), "0 %u 1\n", u);
		snprintf(path, sizeof(path), "/proc/%d/uid_map", (int)h);
		rc = write_file(path, map);
		snprintf(path, sizeof(path), "/proc/%d/gid_map", (int)h);
		if (rc == 0)
			rc = write_file(path, map);
		snprintf(path, sizeof(path), "/proc/%d/ns/user", (int)h);
		if (rc == 0 && (fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
			rc = -errno;
	}
	close(hold[1]);
	close(ready[0]);
	if (h > 0)
		while (waitpid(h, NULL, 0) < 0 && errno == EINTR)
			;
	return rc < 0 ? rc : fd;
}

/* All of from into to, in chunks: 0, or -ENOSPC when a write falls short. */
static int copy_fd(int from, int to)
{
	char chunk[65536];
	ssize_t r;
	while ((r = read(from, chunk, sizeof(chunk))) > 0)
		if (write(to, chunk, (size_t)r) != r)
			return -ENOSPC;
	return 0;
}

/* Copy what an unprivileged reader cannot see the way root does: /etc/ssh (sshd_config,
 * its drop-ins, the 0600 host keys) into a tmpfs, root's files given to U (root inside),
 * modes kept; symlinks copied as links (they resolve inside the sandbox). Bounded. */
#define COPY_MAX_FILE (4u << 20)
#define COPY_MAX_ENTRIES 1024
static int copy_tree(int from, int to, unsigned u, int depth, unsigned *entries)
{
	DIR *d = fdopendir(dup(from));
	if (!d)
		return -errno;
	int rc = 0;
	for (struct dirent *e; rc == 0 && (e = readdir(d));) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		if (++*entries > COPY_MAX_ENTRIES) {
			rc = -E2BIG;
			break;
		}
		struct stat st;
		if (fstatat(from, e->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
			continue;
		uid_t ou = st.st_uid == 0 ? u : st.st_uid;
		gid_t og = st.st_gid == 0 ? u : st.st_gid;
		if (S_ISDIR(st.st_mode) && depth < 4) {
			if (mkdirat(to, e->d_name, 0700) < 0) {
				rc = -errno;
				break;
			}
			int sf = openat(from, e->d_name,
					O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			int df = openat(to, e->d_name,
					O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			if (sf >= 0 && df >= 0)
				rc = copy_tree(sf, df, u, depth + 1, entries);
			if (df >= 0 &&
			    (fchown(df, ou, og) < 0 || fchmod(df, st.st_mode & 07777) < 0))
				rc = rc ? rc : -errno;
			if (sf >= 0)
				close(sf);
			if (df >= 0)
				close(df);
		} else if (S_ISLNK(st.st_mode)) {
			char target[4096];
			ssize_t n = readlinkat(from, e->d_name, target, sizeof(target) - 1);
			if (n > 0) {
				target[n] = '\0';
				if (symlinkat(target, to, e->d_name) < 0 ||
				    fchownat(to, e->d_name, ou, og, AT_SYMLINK_NOFOLLOW) < 0)
					rc = -errno;
			}
		} else if (S_ISREG(st.st_mode) && st.st_size <= COPY_MAX_FILE) {
			int sf = openat(from, e->d_name,
					O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
			int df = openat(to, e->d_name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC,
					0600);
			if (sf >= 0 && df >= 0)
				rc = copy_fd(sf, df);
			if (df >= 0) {
				if (fchown(df, ou, og) < 0 || fchmod(df, st.st_mode & 07777) < 0)
					rc = rc ? rc : -errno;
				close(df);
			}
			if (sf >= 0)
				close(sf);
		}
	}
	closedir(d);
	return rc;
}

/* *copied: the copy of /etc/ssh for U, on a tmpfs at STAGE_ETC_SSH. */
static int stage_etc_ssh(unsigned u)
{
	int rootfd = open(STAGE_ROOT, O_PATH | O_DIRECTORY | O_CLOEXEC);
	int etc = rootfd < 0 ? -1
			     : openat(rootfd, "etc", O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	int from =
		etc < 0 ? -1 : openat(etc, "ssh", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	int rc = 0;
	if (from < 0) {
		rc = -ENOENT;
	} else if ((rc = target_stage_tmpfs(STAGE_ETC_SSH, "sshrescue-etc-ssh",
					    "mode=0755,size=16m,nr_inodes=2048")) < 0) {
	} else {
		int to = open(STAGE_ETC_SSH, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		unsigned entries = 0;
		struct stat st;
		rc = to < 0 ? -errno : copy_tree(from, to, u, 0, &entries);
		if (to >= 0 && fstat(from, &st) == 0) {
			if (fchown(to, st.st_uid == 0 ? u : st.st_uid,
				   st.st_gid == 0 ? u : st.st_gid) < 0 ||
			    fchmod(to, st.st_mode & 07777) < 0)
				rc = rc ? rc : -errno;
		}
		if (to >= 0)
			close(to);
	}
	if (from >= 0)
		close(from);
	if (etc >= 0)
		close(etc);
	if (rootfd >= 0)
		close(rootfd);
	return rc;
}

/* A directory of the instance root (one component, never followed). */
static bool root_has_dir(const char *name)
{
	struct stat st;
	int fd = open(STAGE_ROOT, O_PATH | O_DIRECTORY | O_CLOEXEC);
	bool ok =
		fd >= 0 && fstatat(fd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR(st.st_mode);
	if (fd >= 0)
		close(fd);
	return ok;
}

struct argv_b {
	char *v[128];
	size_t n;
};

static void arg(struct argv_b *a, const char *s)
{
	if (a->n + 1 < ARRAY_SIZE(a->v))
		a->v[a->n++] = (char *)s;
	a->v[a->n] = NULL;
}

static void set_limit(int res, rlim_t v)
{
	struct rlimit r = {v, v};
	setrlimit(res, &r);
}

/* What the sandbox child C's steps share, on C's stack (C runs after fork: nothing here
 * allocates). */
struct sandbox {
	const char *bwrap;
	char *const *argv;
	const struct spawn_opts *o;
	int64_t budget;
	unsigned u;
	const int *take_fds;
	struct sandbox_status st;
	bool etc_ssh; /* the copy of /etc/ssh for u is staged */
	int sfd;      /* the seccomp filter, or -ENOSYS */
	char sfd_s[16];
	char envs[16][256];
	struct argv_b a;
};

/* Each step returns false when it failed (sb->st says how): the sandbox does not start. */

/* The instance staged read-only in C's mount namespace, owned by u's user namespace. */
static bool sandbox_stage(struct sandbox *sb)
{
	int userns = userns_for(sb->u);
	if (userns < 0) {
		sb->st = (struct sandbox_status){ST_USERNS, -userns, 0};
		return false;
	}
	bool copied;
	int rc = target_stage_instance(sb->o->root, sb->o->root_fd, userns, &sb->st.stage, &copied);
	close(userns);
	if (rc < 0) {
		sb->st.err = -rc;
		return false;
	}
	sb->etc_ssh = copied && root_has_dir("etc") && stage_etc_ssh(sb->u) == 0;
	return true;
}

static bool sandbox_seccomp(struct sandbox *sb)
{
	sb->sfd = seccomp_memfd();
	if (sb->sfd < 0 && sb->sfd != -ENOSYS) {
		sb->st = (struct sandbox_status){ST_SECCOMP, -sb->sfd, 0};
		return false;
	}
	snprintf(sb->sfd_s, sizeof(sb->sfd_s), "%d", sb->sfd);
	return true;
}

/* bwrap's namespaces, ids and environment. */
static void sandbox_args_ids(struct sandbox *sb)
{
	struct argv_b *a = &sb->a;
	static const char *const fixed[] = {"--unshare-user",
					    "--unshare-pid",
					    "--unshare-net",
					    "--unshare-ipc",
					    "--unshare-uts",
					    "--unshare-cgroup-try",
					    "--disable-userns",
					    "--uid",
					    "0",
					    "--gid",
					    "0",
					    "--hostname",
					    "sshrescue-sandbox",
					    "--die-with-parent",
					    "--new-session",
					    "--cap-drop",
					    "ALL",
					    "--clearenv"};
	arg(a, sb->bwrap);
	for (size_t i = 0; i < ARRAY_SIZE(fixed); i++)
		arg(a, fixed[i]);
	char *const *env = sb->o->envp ? sb->o->envp : default_env;
	for (size_t i = 0; i < ARRAY_SIZE(sb->envs) && env[i]; i++) {
		const char *eq = strchr(env[i], '=');
		if (!eq)
			continue;
		snprintf(sb->envs[i], sizeof(sb->envs[i]), "%.*s", (int)(eq - env[i]), env[i]);
		arg(a, "--setenv");
		arg(a, sb->envs[i]);
		arg(a, eq + 1);
	}
}

/* The staged root and what bwrap mounts over it (only where the instance has the
 * directory); the scratch tmpfs, mounted here, handed over. */
static bool sandbox_args_mounts(struct sandbox *sb)
{
	struct argv_b *a = &sb->a;
	arg(a, "--ro-bind");
	arg(a, STAGE_ROOT);
	arg(a, "/");
	if (sb->etc_ssh) {
		arg(a, "--ro-bind");
		arg(a, STAGE_ETC_SSH);
		arg(a, "/etc/ssh");
	}
	if (root_has_dir("dev")) {
		arg(a, "--dev");
		arg(a, "/dev");
	}
	if (root_has_dir("proc")) {
		arg(a, "--proc");
		arg(a, "/proc");
	}
	if (root_has_dir("tmp")) {
		arg(a, "--tmpfs");
		arg(a, "/tmp");
	}
	if (root_has_dir("run")) {
		/* sshd -t wants its privilege separation directory; /run is empty on disk */
		arg(a, "--tmpfs");
		arg(a, "/run");
		arg(a, "--dir");
		arg(a, "/run/sshd");
	}
	if (sb->o->scratch) {
		if (target_stage_tmpfs(STAGE_SCRATCH, "sshrescue-scratch",
				       "mode=0700,size=" SCRATCH_SIZE ",nr_inodes=64") < 0 ||
		    chown(STAGE_SCRATCH, sb->u, sb->u) < 0) {
			sb->st = (struct sandbox_status){ST_MOUNT, errno, 0};
			return false;
		}
		arg(a, "--bind");
		arg(a, STAGE_SCRATCH);
		arg(a, sb->o->scratch);
	}
	return true;
}

/* The working directory, the seccomp filter and the program's own argv. */
static void sandbox_args_program(struct sandbox *sb)
{
	struct argv_b *a = &sb->a;
	if (sb->o->cwd) {
		arg(a, "--chdir");
		arg(a, sb->o->cwd);
	}
	if (sb->sfd >= 0) {
		arg(a, "--seccomp");
		arg(a, sb->sfd_s);
	}
	arg(a, "--");
	for (size_t i = 0; sb->argv[i]; i++)
		arg(a, sb->argv[i]);
}

/* The bwrap command line in sb->a. */
static bool sandbox_args(struct sandbox *sb)
{
	sandbox_args_ids(sb);
	if (!sandbox_args_mounts(sb))
		return false;
	sandbox_args_program(sb);
	return true;
}

/* G: bwrap under u with the sandbox's limits, only the seccomp filter's fd open. C waits for
 * it (its status in sb->st). */
static bool sandbox_exec(struct sandbox *sb)
{
	unsigned u = sb->u;
	pid_t g = fork();
	if (g < 0) {
		sb->st = (struct sandbox_status){ST_FORK, errno, 0};
		return false;
	}
	if (g == 0) {
		int64_t secs = sb->budget == INT64_MAX ? 3600 : sb->budget / 1000 + 1;
		set_limit(RLIMIT_CPU, (rlim_t)secs);
		set_limit(RLIMIT_AS, SANDBOX_AS);
		set_limit(RLIMIT_NPROC, SANDBOX_NPROC);
		set_limit(RLIMIT_NOFILE, SANDBOX_NOFILE);
		set_limit(RLIMIT_FSIZE, SANDBOX_FSIZE);
		set_limit(RLIMIT_CORE, 0);
		/* nothing of ours reaches the sandbox but the seccomp filter */
		syscall(SYS_close_range, 3u, ~0u, CLOSE_RANGE_CLOEXEC);
		if (sb->sfd >= 0)
			fcntl(sb->sfd, F_SETFD, 0);
		if (setgroups(0, NULL) < 0 || setresgid(u, u, u) < 0 || setresuid(u, u, u) < 0)
			_exit(126);
		execve(sb->bwrap, sb->a.v, default_env);
		_exit(127);
	}
	if (sb->sfd >= 0)
		close(sb->sfd);
	while (waitpid(g, &sb->st.status, 0) < 0 && errno == EINTR)
		;
	return true;
}

/* What the program left in scratch for the caller; only regular files, bounded. */
static void sandbox_take(struct sandbox *sb)
{
	const struct spawn_opts *o = sb->o;
	int dfd = o->scratch ? open(STAGE_SCRATCH, O_DIRECTORY | O_RDONLY | O_CLOEXEC) : -1;
	for (size_t i = 0; dfd >= 0 && o->take && o->take[i]; i++) {
		int fd = openat(dfd, o->take[i], O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
		struct stat fs;
		if (fd < 0 || fstat(fd, &fs) < 0 || !S_ISREG(fs.st_mode) || fs.st_size > TAKE_MAX) {
			if (fd >= 0)
				close(fd);
			continue;
		}
		copy_fd(fd, sb->take_fds[i]);
		close(fd);
	}
	if (dfd >= 0)
		close(dfd);
}

/* C, after the staging: the bwrap command line and G. Never returns. */
static void sandbox_child(const char *bwrap, char *const argv[], const struct spawn_opts *o,
			  int64_t budget, unsigned u, int status_fd, const int *take_fds)
{
	struct sandbox sb = {.bwrap = bwrap,
			     .argv = argv,
			     .o = o,
			     .budget = budget,
			     .u = u,
			     .take_fds = take_fds};
	if (sandbox_stage(&sb) && sandbox_seccomp(&sb) && sandbox_args(&sb) && sandbox_exec(&sb))
		sandbox_take(&sb);
	if (write(status_fd, &sb.st, sizeof(sb.st)) != (ssize_t)sizeof(sb.st)) {
		/* the parent sees no status: not started */
	}
	_exit(0);
}

/* SSHRESCUE_BWRAP names bwrap (tests point it at a missing file); else the usual places. */
static const char *find_bwrap(void)
{
	const char *env = getenv("SSHRESCUE_BWRAP");
	if (env && *env)
		return access(env, X_OK) == 0 ? env : NULL;
	static const char *const paths[] = {"/usr/bin/bwrap", "/bin/bwrap", "/usr/local/bin/bwrap"};
	for (size_t i = 0; i < ARRAY_SIZE(paths); i++)
		if (access(paths[i], X_OK) == 0)
			return paths[i];
	return NULL;
}

static int spawn_sandbox(char *const argv[], const struct spawn_opts *o, int64_t budget,
			 struct spawn_result *res)
{
	const char *bwrap = find_bwrap();
	if (!bwrap) {
		res->how = SPAWN_NO_SANDBOX;
		res->why = "bubblewrap (bwrap) is not installed";
		res->out = xstrdup("");
		res->err = xstrdup("");
		return 0;
	}
	size_t n_take = 0;
	while (o->take && o->take[n_take])
		n_take++;
	int take_fds[8];
	if (n_take > ARRAY_SIZE(take_fds))
		return -E2BIG;
	for (size_t i = 0; i < n_take; i++)
		if ((take_fds[i] = memfd_create("sshrescue-take", MFD_CLOEXEC)) < 0) {
			int rc = -errno;
			while (i-- > 0)
				close(take_fds[i]);
			return rc;
		}
	int sp[2] = {-1, -1};
	struct pipes p;
	int rc = pipes_open(&p, o);
	if (rc == 0 && pipe2(sp, O_CLOEXEC) < 0) {
		rc = -errno;
		pipes_close(&p);
	}
	if (rc < 0) {
		for (size_t i = 0; i < n_take; i++)
			close(take_fds[i]);
		return rc;
	}
	unsigned u = SANDBOX_UID_BASE + ((unsigned)getpid() & 0xffffu);
	pid_t c = fork();
	if (c == 0) {
		child_start();
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		close(sp[0]);
		pipes_to_stdio(&p);
		sandbox_child(bwrap, argv, o, budget, u, sp[1], take_fds);
	}
	close(sp[1]);
	if (c < 0) {
		rc = -errno;
		close(sp[0]);
		pipes_close(&p);
		for (size_t i = 0; i < n_take; i++)
			close(take_fds[i]);
		return rc;
	}
	setpgid(c, c);
	int status;
	bool timed_out;
	running_group = c;
	collect(c, &p, o, budget, res, &status, &timed_out);
	running_group = 0;
	pipes_close(&p);
	struct sandbox_status st;
	fcntl(sp[0], F_SETFL, O_NONBLOCK);
	bool have = read(sp[0], &st, sizeof(st)) == (ssize_t)sizeof(st);
	close(sp[0]);
	if (timed_out) {
		res->how = SPAWN_TIMED_OUT;
	} else if (!have) {
		res->how = SPAWN_NOT_STARTED;
		res->error = EIO;
	} else if (st.stage != ST_OK) {
		res->how = SPAWN_NO_SANDBOX;
		res->why = stage_words(st.stage);
		res->error = st.err;
	} else if (WIFEXITED(st.status) && WEXITSTATUS(st.status) == 1 &&
		   (strncmp(res->err, "bwrap: execvp ", 14) == 0 ||
		    (o->flags & SPAWN_MERGE_STDERR &&
		     strncmp(res->out, "bwrap: execvp ", 14) == 0))) {
		res->how = SPAWN_NOT_STARTED; /* the sandbox was made; the program is no program */
		res->error = ENOEXEC;
	} else if (WIFEXITED(st.status) && WEXITSTATUS(st.status) == 1 &&
		   (strncmp(res->err, "bwrap: ", 7) == 0 ||
		    (o->flags & SPAWN_MERGE_STDERR && strncmp(res->out, "bwrap: ", 7) == 0))) {
		/* bwrap's own setup failed (its messages start so): nothing of the instance ran.
		 * A program printing this itself only skips its own step. */
		res->how = SPAWN_NO_SANDBOX;
		res->why = "bwrap cannot set up the sandbox";
	} else if (WIFEXITED(st.status) && WEXITSTATUS(st.status) >= 126 &&
		   WEXITSTATUS(st.status) <= 127 && !*res->out && !*res->err) {
		res->how = SPAWN_NO_SANDBOX;
		res->why = "cannot run bwrap as the sandbox user";
	} else {
		result_from_status(res, st.status, false);
		/* bwrap reports a program killed by a signal as 128 + the signal */
		if (res->how == SPAWN_EXITED && res->code > 128 && res->code < 128 + 65) {
			res->how = SPAWN_SIGNALED;
			res->code -= 128;
		}
	}
	for (size_t i = 0; i < n_take; i++) {
		if (res->how == SPAWN_EXITED && lseek(take_fds[i], 0, SEEK_SET) == 0) {
			struct buf *t = &o->taken[i];
			char chunk[65536];
			ssize_t r;
			t->max = TAKE_MAX;
			while ((r = read(take_fds[i], chunk, sizeof(chunk))) > 0 &&
			       buf_append(t, chunk, (size_t)r) == 0)
				;
		}
		close(take_fds[i]);
	}
	return 0;
}

int spawn_run(char *const argv[], const struct spawn_opts *o, struct spawn_result *res)
{
	memset(res, 0, sizeof(*res));
	int64_t budget = budget_ms(o);
	if (budget <= 0) {
		res->how = SPAWN_NOT_STARTED;
		res->error = ETIME;
		res->out = xstrdup("");
		res->err = xstrdup("");
		return 0;
	}
	int rc = o->flags & SPAWN_SANDBOX ? spawn_sandbox(argv, o, budget, res)
					  : spawn_host(argv, o, budget, res);
	if (!res->out)
		res->out = xstrdup("");
	if (!res->err)
		res->err = xstrdup("");
	return rc;
}
