#!/usr/bin/env bash
# crash.sh: crash consistency. `sshrescue repair` on a root locked out every way the policies
# repair (hosts.deny, DenyHosts' files, fail2ban's database and jail.d, sshd_config and its
# Include, saved iptables rules) is killed with SIGKILL just before one of its writing system
# calls (write, pwrite64, fsync, fdatasync, syncfs, sync_file_range, rename, link, unlink,
# mkdir, chmod, chown, setxattr, ftruncate, open with O_CREAT): strace injects the signal at
# the Nth call of one kind, and the points are spread evenly over every such call of a whole
# run. After each kill, every file the
# run touches must be its original or its fully repaired version (same bytes, mode, owner and
# xattrs; fail2ban's database as SQLite reads it, hot journal and all), every backup on disk
# whole; a following `repair` must complete the job, and `undo` (until nothing is left to undo)
# must restore the originals. Ends with "kill points tried: N, files damaged: 0".
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/locked-root.bash"

# 200 points; 20 under valgrind (tests/run VALGRIND=1 sets SSHRESCUE_BIN), where each
# following repair and undo costs seconds: consistency is judged by the plain run
POINTS=${CRASH_POINTS:-$([ -n "${SSHRESCUE_BIN:-}" ] && echo 20 || echo 200)}
# strace counts the system calls of the program itself: under tests/run VALGRIND=1, the
# binary, not the valgrind wrapper; LeakSanitizer cannot run under ptrace (SANITIZE=1 builds).
SR=${SSHRESCUE_BIN:-$SSHRESCUE}
NOLEAK=(env "ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0")
for p in strace sqlite3 python3 ssh-keygen setfattr; do
	command -v "$p" >/dev/null || { echo "FAIL crash.sh: $p is missing (tests/deps installs strace, sqlite3, python3, openssh-client, attr)"; exit 1; }
done
PROTECT=(--protect 203.0.113.0/24)
printf '[report]\nconsole = no\n' >"$T/policy.ini"
# the system calls that change files; strace counts each kind separately
SYSCALLS=write,pwrite64,fsync,fdatasync,syncfs,sync_file_range,rename,renameat,renameat2,link,linkat,unlink,unlinkat,mkdir,mkdirat,fchmod,fchmodat,chmod,fchown,fchownat,chown,lchown,fsetxattr,setxattr,lsetxattr,ftruncate,truncate,openat,open,creat


# tmpfs: a SIGKILL loses nothing that was written (the page cache stays), so the outcome is
# the same as on a disk, without waiting for hundreds of fsyncs per run.
W=$(mktemp -d /dev/shm/sshrescue-crash.XXXXXX)
t_defer "rm -rf '$W'"
BASE=$W/base REF=$W/ref
mk_locked_root "$BASE"
repair() { "$SSHRESCUE" -c "$T/policy.ini" repair --root "$1" "${PROTECT[@]}" >"$1.out" 2>&1; }

t_case "an uninterrupted repair of the locked-out root repairs every policy's files"
REF_OK=1
cp -a "$BASE" "$REF"
"${NOLEAK[@]}" strace -f -qq -o "$T/trace" -e trace="$SYSCALLS" "$SR" -c "$T/policy.ini" repair \
	--root "$REF" "${PROTECT[@]}" >"$T/ref.out" 2>&1
rc=$?
[ $rc = 1 ] || { t_fail "repair exited $rc, want 1"; sed 's/^/       | /' "$T/ref.out" | head; }
for f in etc/hosts.deny etc/hosts.allow var/lib/denyhosts/hosts var/lib/denyhosts/users-hosts \
	var/lib/fail2ban/fail2ban.sqlite3 etc/ssh/sshd_config etc/ssh/sshd_config.d/10-owner.conf \
	etc/iptables/rules.v4; do
	cmp -s "$BASE/$f" "$REF/$f" && { t_fail "$f was not changed"; REF_OK=0; }
done
for f in var/lib/denyhosts/allowed-hosts etc/fail2ban/jail.d/zz-sshrescue.local; do
	[ -e "$REF/$f" ] || { t_fail "$f was not created"; REF_OK=0; }
done

# Every writing call of the run, in order, as "syscall ordinal" (strace counts each kind
# separately); an open counts only with O_CREAT, but every open takes an ordinal.
awk '
	/^[0-9]+ +\+\+\+/ || / resumed>/ { next }
	{
		name = $2; sub(/\(.*/, "", name)
		n[name]++
		if ((name == "openat" || name == "open") && $0 !~ /O_CREAT/) next
		print name, n[name]
	}' "$T/trace" >"$T/events"
total=$(wc -l <"$T/events")

t_case "$POINTS kill points spread over the run's $total writing calls"
KILLS_OK=1
[ "$total" -ge "$POINTS" ] || { t_fail "the run makes only $total writing calls"; KILLS_OK=0; }
# evenly spaced, first and last included
awk -v k="$POINTS" -v t="$total" 'BEGIN { for (i = 0; i < k; i++) want[int(i * (t - 1) / (k - 1)) + 1] = 1 }
	want[NR] { print NR, $1, $2 }' "$T/events" >"$T/points"
# kill_at INDEX SYSCALL ORDINAL: a copy of the base root, repaired until strace kills the
# program at its ORDINAL-th SYSCALL; the exit status in k$INDEX.rc. (A script of its own, so
# that xargs runs one per core; its output, the shell's "Killed" notice included, in k$INDEX.out.)
cat >"$T/kill_at" <<EOF
#!/bin/bash
d=$W/k\$1
cp -a "$BASE" "\$d"
(${NOLEAK[*]} strace -f -qq -o /dev/null -e trace="\$2" -e inject="\$2":signal=KILL:when="\$3" \\
	"$SR" -c "$T/policy.ini" repair --root "\$d" ${PROTECT[*]}
	echo \$? >"\$d.rc") >"\$d.out" 2>&1
EOF
chmod +x "$T/kill_at"
ls -d /run/sshrescue-db.* /tmp/sshrescue-db.* 2>/dev/null >"$T/private.before"
xargs -P "$(nproc)" -L 1 "$T/kill_at" <"$T/points"
tried=0 notkilled=""
while read -r i sc ord; do
	tried=$((tried + 1))
	[ "$(cat "$W/k$i.rc")" = 137 ] || notkilled="$notkilled k$i($sc#$ord:exit $(cat "$W/k$i.rc"))"
done <"$T/points"
[ -z "$notkilled" ] || { t_fail "not killed where expected:$notkilled"; KILLS_OK=0; }
dirs=$(sed "s|^\([0-9]*\) .*|$W/k\1|" "$T/points")

t_case "after each kill every touched file is its original or its repaired version, backups whole"
# judged only against a repair that did its job, at kill points that were all reached
[ "$REF_OK" = 1 ] && [ "$KILLS_OK" = 1 ] || t_fail "no repaired reference or no kill points to judge"
python3 "$T/judge.py" killed "$BASE" "$REF" $dirs >"$T/killed.txt"
damaged=$(wc -l <"$T/killed.txt")
[ "$damaged" = 0 ] || { t_fail "$damaged damaged"; sed 's/^/       /' "$T/killed.txt" | head -30; }

t_case "a following repair completes the job: every file as the uninterrupted run left it"
[ "$REF_OK" = 1 ] && [ "$KILLS_OK" = 1 ] || t_fail "no repaired reference or no kill points to judge"
for d in $dirs; do
	repair "$d"
	rc=$?
	[ $rc = 0 ] || [ $rc = 1 ] || t_fail "$(basename "$d"): repair after the kill exited $rc: $(grep -v '^SSHRESCUE' "$d.out" | grep -e unrepaired -e failed | head -3 | tr '\n' ' ')"
done
python3 "$T/judge.py" repaired "$BASE" "$REF" $dirs >"$T/repaired.txt"
n=$(wc -l <"$T/repaired.txt")
[ "$n" = 0 ] || { t_fail "$n files not repaired"; sed 's/^/       /' "$T/repaired.txt" | head -30; }
damaged=$((damaged + n))

t_case "no private copy of fail2ban's database that a killed run left behind remains"
[ "$REF_OK" = 1 ] && [ "$KILLS_OK" = 1 ] || t_fail "no repaired reference or no kill points to judge"
# the following repairs removed them (directories named after a process that is gone); one
# made since the kills began that names no live process is a leak
for d in /run/sshrescue-db.* /tmp/sshrescue-db.*; do
	[ -d "$d" ] && ! grep -qxF "$d" "$T/private.before" || continue
	p=${d##*/sshrescue-db.}
	p=${p%%.*}
	case $p in '' | *[!0-9]*) t_fail "$d left behind (named after no process)"; continue ;; esac
	kill -0 "$p" 2>/dev/null || t_fail "$d left by the killed run $p"
done

t_case "undo, until nothing is left to undo, restores every original"
[ "$REF_OK" = 1 ] && [ "$KILLS_OK" = 1 ] || t_fail "no repaired reference or no kill points to judge"
for d in $dirs; do
	for _ in 1 2 3 4; do
		"$SSHRESCUE" undo --root "$d" >"$d.undo" 2>&1
		rc=$?
		[ $rc = 0 ] || break
	done
	[ $rc = 8 ] && grep -q 'nothing to undo' "$d.undo" || t_fail "$(basename "$d"): undo exited $rc: $(head -3 "$d.undo")"
done
python3 "$T/judge.py" undone "$BASE" "$REF" $dirs >"$T/undone.txt"
n=$(wc -l <"$T/undone.txt")
[ "$n" = 0 ] || { t_fail "$n files not restored"; sed 's/^/       /' "$T/undone.txt" | head -30; }
damaged=$((damaged + n))
t_done
echo "kill points tried: $tried, files damaged: $damaged"
