#!/usr/bin/env bash
# hostile.sh: instance files made by an attacker. In place of each file a policy reads
# (hosts.deny, hosts.allow, sshd_config and the file its Include reaches, a host key,
# denyhosts.conf and its counting files, fail2ban.conf, jail.local, fail2ban's database, saved
# iptables rules) the instance holds: a symlink out of the root (absolute, and ../.. relative),
# a hard link to a file outside the root (a --root directory can have them), a FIFO, a
# character device that never ends (/dev/zero's numbers), a socket, a directory, a 1 GiB file,
# a single line of 12 MiB, the real content with NUL bytes in it, and for the database a file
# that is not SQLite; configuration values with .. that point out of the root. For each
# `sshrescue repair` must not write outside the root (checksums, modes and owners of every
# file there), must not hang (timeout) nor crash (signal, sanitizer report), must exit with a
# status of the documented bitmask and write its report; for every kind the policies cannot
# read as a plain file, the exit status says problems remain and a finding names the file and
# says what it is (a FIFO, a directory, too large...). Everything lives in $T (lib.sh removes
# it); no mount, process or namespace outlives a run.
# Then the trust boundary (issue 14), one case per class, each failing before it was closed: a
# hard-linked database or -wal with a planted WAL; check of a WAL database writes nothing; a
# planted undo manifest; a run while another holds the instance, two repairs at once then
# undo; an Include glob through looping directories, 100,000 nested braces, multiplying
# fail2ban references, --image of a FIFO/device/socket; escape sequences of the instance on
# the terminal; /var a symlink inside the root, a backup directory that cannot be made, where
# the report is said to be, which file a missing ignoreip is blamed on.
# Ends with "hostile cases tried: N".
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/locked-root.bash"

for p in python3 sqlite3 mknod timeout; do
	command -v "$p" >/dev/null || { echo "FAIL hostile.sh: $p is missing"; exit 1; }
done
PROTECT=(--protect 203.0.113.0/24)
printf '[report]\nconsole = no\n' >"$T/policy.ini"
BASE=$T/base
mk_locked_root "$BASE"
OUT=$T/outside
tried=0
named=0 # files that a finding named, where one was needed
: >"$T/why"
# A run takes well under a second (a few under sanitizers): 20 s is a hang; valgrind is slower.
RUN_TIMEOUT=20
[ -z "${VG_LOGS:-}" ] || RUN_TIMEOUT=180
# what a bounded walk may take (seconds); an unbounded one takes minutes
BOUNDED=10
[ -z "${VG_LOGS:-}" ] || BOUNDED=90

# What lies outside the root: a copy of every file, so that a write through a link shows.
mkout() {
	rm -rf "$OUT"
	mkdir -p "$OUT/dh"
	cp -a "$BASE/etc/hosts.deny" "$OUT/victim"
	chmod 0644 "$OUT/victim"
	cp -a "$BASE/var/lib/fail2ban/fail2ban.sqlite3" "$OUT/victim.sqlite3"
	cp -a "$BASE/var/lib/denyhosts/." "$OUT/dh/"
	cp -a "$BASE/etc/hosts.deny" "$OUT/hosts.deny"
	printf 'MaxStartups 1\n' >"$OUT/inc.conf"
}

# hostile ROOT PATH KIND: put a KIND where PATH should be.
hostile() {
	local r=$1 p=$2 kind=$3 f=$1$2 up
	up=$(echo "$p" | sed 's|/[^/]*|../|g; s|^\.\./||')
	case $kind in
	abs-symlink) rm -rf "$f"; ln -s "$OUT/victim$(ext "$p")" "$f" ;;
	rel-symlink) rm -rf "$f"; ln -s "$up../../../../../../../..$OUT/victim$(ext "$p")" "$f" ;;
	hardlink) rm -rf "$f"; ln "$OUT/victim$(ext "$p")" "$f" ;;
	fifo) rm -rf "$f"; mkfifo "$f" ;;
	chardev) rm -rf "$f"; mknod "$f" c 1 5 ;;
	socket)
		rm -rf "$f"
		python3 -c 'import socket, sys; socket.socket(socket.AF_UNIX).bind(sys.argv[1])' "$f" ;;
	dir) rm -rf "$f"; mkdir "$f"; echo x >"$f/x" ;;
	huge) rm -rf "$f"; truncate -s 1G "$f" ;;
	longline) rm -rf "$f"; { cat "$BASE$p"; head -c $((12 << 20)) /dev/zero | tr '\0' 'a'; } >"$f" ;;
	nul)
		rm -rf "$f"
		python3 -c 'import sys; d = open(sys.argv[1], "rb").read()
open(sys.argv[2], "wb").write(d.replace(b"\n", b"\0\n", 3) + b"\0" * 100)' "$BASE$p" "$f" ;;
	notsqlite) rm -rf "$f"; { echo "this is not a database"; head -c 8192 /dev/urandom; } >"$f" ;;
	esac
}
ext() { case $1 in *.sqlite3) echo .sqlite3 ;; esac; }

# check_report KIND NEED PATH...: the report was written and is JSON; with NEED=1 every PATH
# is named by a finding (its file, or its text) or by an error. Prints "none PATH" for a PATH
# nothing names, "why PATH: TEXT" for one whose findings do not say what the file is.
check_report() {
	python3 - "$T/report.json" "$@" <<'PY'
import json, re, sys
kind, need, paths = sys.argv[2], sys.argv[3] == "1", sys.argv[4:]
why = {"fifo": "FIFO|not a regular file", "chardev": "device|not a regular file",
       "socket": "socket|not a regular file", "dir": "directory|not a regular file",
       "huge": "large|bytes|[MG]iB|not an SQLite database",
       "notsqlite": "not an SQLite database|not a database"}
try:
    r = json.load(open(sys.argv[1]))
except (OSError, ValueError) as e:
    print("report no report: %s" % e)
    sys.exit()
texts = [(None, json.dumps(e)) for e in r["errors"]]
for pol in r["policies"]:
    for f in pol["findings"]:
        texts.append((f.get("file"), "%s; %s" % (f.get("problem"), f.get("action"))))
for p in paths if need else []:
    named = [t for fl, t in texts if fl == p or p in t]
    if not named:
        print("none %s" % p)
    elif kind in why and not any(re.search(why[kind], t) for t in named):
        print("why %s: %s" % (p, named[0]))
PY
}

# run_root ROOT WHAT: one `sshrescue repair` of ROOT; sets rc. Fails WHAT when the run hangs,
# dies, exits outside the documented bitmask (0-15) or writes no report, or when a file outside
# the root changes; returns 1 when there is no report to read.
run_root() {
	local before
	rm -f "$T/report.json"
	before=$(t_tree_sum "$OUT")
	timeout -k 5 "$RUN_TIMEOUT" "$SSHRESCUE" -c "$T/policy.ini" repair --root "$1" "${PROTECT[@]}" \
		--report-file "$T/report.json" >"$T/out" 2>"$T/err"
	rc=$?
	[ "$before" = "$(t_tree_sum "$OUT")" ] || t_fail "$2: a file outside the root changed"
	if [ $rc -ge 16 ] ||
		grep -q -e 'AddressSanitizer' -e 'runtime error:' -e 'LeakSanitizer' "$T/err"; then
		t_fail "$2: hung, crashed or misread (exit $rc)"
		grep -v '^SSHRESCUE-REPORT' "$T/err" | sed 's/^/       | /' | head -10
		return 1
	fi
	python3 -c 'import json, sys; json.load(open(sys.argv[1]))' "$T/report.json" 2>/dev/null ||
		{ t_fail "$2: no report (exit $rc)"; return 1; }
}

# run_case KIND NEED-FINDING PATH...: a KIND in place of every PATH of one root, one run. The
# user sees: an exit status of the documented bitmask (0-15; with NEED=1 bit 4 or 8: problems
# remain), the report, a finding naming each PATH (NEED=1), no file outside the root changed.
run_case() {
	local kind=$1 need=$2 r=$T/r p line
	shift 2
	tried=$((tried + $#))
	rm -rf "$r" "$T/report.json"
	mkout
	cp -a "$BASE" "$r"
	for p in "$@"; do hostile "$r" "$p" "$kind"; done
	run_root "$r" "$kind at $*" || return 0
	if [ "$need" = 1 ] && [ $((rc & 12)) = 0 ]; then
		t_fail "$kind at $*: exit $rc says every problem was repaired"
	fi
	check_report "$kind" "$need" "$@" >"$T/missing"
	[ "$need" = 1 ] && named=$((named + $# - $(grep -c '^none ' "$T/missing")))
	while read -r line; do
		case $line in
		none\ *) t_fail "$kind at ${line#none }: no finding names it (exit $rc)" ;;
		report\ *) t_fail "$kind at $*: ${line#report }" ;;
		why\ *) echo "$kind at ${line#why }" >>"$T/why" ;;
		esac
	done <"$T/missing"
}

# sshd_config goes alone: in its place nothing reaches the file its Include names.
PATHS="/etc/hosts.deny /etc/hosts.allow /etc/ssh/sshd_config.d/10-owner.conf
/etc/ssh/ssh_host_ed25519_key /etc/denyhosts.conf /var/lib/denyhosts/hosts
/etc/fail2ban/fail2ban.conf
/etc/fail2ban/jail.local /var/lib/fail2ban/fail2ban.sqlite3 /etc/iptables/rules.v4"

t_case "links out of the root: nothing outside is written"
for k in abs-symlink rel-symlink hardlink; do
	run_case "$k" 0 $PATHS
	run_case "$k" 0 /etc/ssh/sshd_config
done

t_case "FIFOs, devices, sockets, directories, 1 GiB files: a finding each, no hang"
for k in fifo chardev socket dir huge; do
	run_case "$k" 1 $PATHS
	run_case "$k" 1 /etc/ssh/sshd_config
done

t_case "a 12 MiB line and NUL bytes: no crash, no hang"
for k in longline nul; do
	run_case "$k" 0 $PATHS
	run_case "$k" 0 /etc/ssh/sshd_config
done

t_case "a fail2ban database that is not SQLite: a finding"
run_case notsqlite 1 /var/lib/fail2ban/fail2ban.sqlite3

t_case "configuration values with .. out of the root: read inside it, nothing outside written"
hostile_values() { # root
	printf 'WORK_DIR = /../../../../../..%s/dh\nHOSTS_DENY = ../../../../../../..%s/hosts.deny\n' \
		"$OUT" "$OUT" >>"$1/etc/denyhosts.conf"
	sed -i "1i Include ../../../../../../../..$OUT/inc.conf" "$1/etc/ssh/sshd_config"
	printf '[Definition]\ndbfile = /../../../../../..%s/victim.sqlite3\n' "$OUT" \
		>"$1/etc/fail2ban/fail2ban.local"
}
tried=$((tried + 1))
rm -rf "$T/r"
mkout
cp -a "$BASE" "$T/r"
hostile_values "$T/r"
if run_root "$T/r" "values with .."; then
	# MaxStartups 1 stands only in the file outside: read, it would be a finding
	python3 - "$T/report.json" >"$T/missing" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
sshd = [f for p in r["policies"] if p["name"] == "sshd" for f in p["findings"]]
if any("MaxStartups 1 " in (f.get("problem") or "") for f in sshd):
    print("the Include out of the root was read: MaxStartups 1 of the file outside is reported")
if not any(f.get("file") == "/etc/ssh/sshd_config" and f.get("fixed") for f in sshd):
    print("sshd_config inside the root was not repaired")
PY
	while read -r line; do t_fail "$line"; done <"$T/missing"
fi

t_case "Include lines that include their own file, three times each: no hang, one finding a line"
tried=$((tried + 1))
rm -rf "$T/r"
mkout
cp -a "$BASE" "$T/r"
for _ in 1 2 3; do echo 'Include /etc/ssh/sshd_config.d/*.conf'; done \
	>>"$T/r/etc/ssh/sshd_config.d/10-owner.conf"
start=$(date +%s)
if run_root "$T/r" "Include loop"; then
	[ $((rc & 4)) = 4 ] || t_fail "exit $rc: sshd refuses this configuration, yet no problem remains"
	python3 - "$T/report.json" >"$T/missing" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
loop = [f["line"] for p in r["policies"] if p["name"] == "sshd" for f in p["findings"]
        if f.get("file") == "/etc/ssh/sshd_config.d/10-owner.conf"
        and "recursive" in (f.get("problem") or "")]
if sorted(loop) != [4, 5, 6]:
    print("findings of recursive includes at lines %s of 10-owner.conf, want one at 4, 5, 6" % loop)
PY
	while read -r line; do t_fail "$line"; done <"$T/missing"
fi
[ $(($(date +%s) - start)) -le 20 ] || t_fail "took $(($(date +%s) - start)) s"

# ---- trust boundary: each case below failed before sshrescue treated the instance as hostile
DB=/var/lib/fail2ban/fail2ban.sqlite3
# make_wal FILE: FILE in WAL mode with one committed transaction only in FILE-wal (no
# checkpoint): every protected ban of jail sshd but 203.0.113.250's deleted
make_wal() {
	python3 - "$1" <<'PY'
import os, sqlite3, sys
c = sqlite3.connect(sys.argv[1], isolation_level=None)
c.execute("PRAGMA journal_mode=WAL")
c.execute("DELETE FROM bips WHERE ip LIKE '203.0.113.%' AND ip <> '203.0.113.250'")
os._exit(9)
PY
}
# report_has PATTERN FILE...: a finding of the report ($T/report.json) names FILE and matches
report_has() {
	python3 - "$T/report.json" "$@" <<'PY'
import json, re, sys
r = json.load(open(sys.argv[1]))
pat, files = sys.argv[2], sys.argv[3:]
fs = [f for p in r["policies"] for f in p["findings"]]
for fl in files:
    if not any(f.get("file") == fl and re.search(pat, "%s %s" % (f.get("problem"), f.get("action"))) for f in fs):
        print("no finding on %s matches '%s'" % (fl, pat))
PY
}

t_case "a hard-linked fail2ban database with a planted -wal: nothing outside changes, the report says why"
tried=$((tried + 1))
rm -rf "$T/r" "$T/w"
mkout
cp -a "$BASE" "$T/r"
mkdir "$T/w"
cp "$OUT/victim.sqlite3" "$T/w/db"
make_wal "$T/w/db"
rm -f "$T/r$DB"
ln "$OUT/victim.sqlite3" "$T/r$DB"
cp "$T/w/db-wal" "$T/r$DB-wal"
if run_root "$T/r" "hard-linked database"; then
	report_has 'hard link' "$DB" >"$T/missing"
	while read -r line; do t_fail "$line"; done <"$T/missing"
fi
for f in "$T/r$DB-wal" "$T/r$DB-shm"; do
	[ ! -e "$f" ] || [ "$f" = "$T/r$DB-wal" ] || t_fail "$f was made"
done

t_case "a hard-linked -wal beside a database: nothing outside changes, the report says why"
tried=$((tried + 1))
rm -rf "$T/r" "$T/w"
mkout
cp -a "$BASE" "$T/r"
mkdir "$T/w"
cp "$BASE$DB" "$T/w/db"
make_wal "$T/w/db"
cp "$T/w/db" "$T/r$DB"
cp "$T/w/db-wal" "$OUT/victim.sqlite3-wal"
ln "$OUT/victim.sqlite3-wal" "$T/r$DB-wal"
if run_root "$T/r" "hard-linked -wal"; then
	report_has 'hard link' "$DB-wal" >"$T/missing"
	while read -r line; do t_fail "$line"; done <"$T/missing"
fi

t_case "check of a database in WAL mode writes nothing: no -shm, no -wal, no byte changed"
tried=$((tried + 1))
rm -rf "$T/r"
cp -a "$BASE" "$T/r"
make_wal "$T/r$DB"
rm -f "$T/r$DB-shm"
sum=$(t_tree_sum "$T/r")
timeout -k 5 "$RUN_TIMEOUT" "$SSHRESCUE" -c "$T/policy.ini" check --root "$T/r" "${PROTECT[@]}" \
	--report-file "$T/report.json" >"$T/out" 2>"$T/err"
rc=$?
[ $((rc & 4)) = 4 ] || t_fail "check: exit $rc, want bit 4 (problems found)"
[ "$sum" = "$(t_tree_sum "$T/r")" ] ||
	t_fail "check changed the root: $(diff <(echo "$sum") <(t_tree_sum "$T/r") | grep '^[<>]' | head -3 | tr '\n' ' ')"
grep -q 203.0.113.250 "$T/report.json" && ! grep -q 203.0.113.249 "$T/report.json" ||
	t_fail "the report is not the database with its -wal"

t_case "undo with a planted manifest: no file outside changes, no setuid bit appears"
tried=$((tried + 1))
rm -rf "$T/r"
mkout
cp -a "$BASE" "$T/r"
ln "$OUT/victim" "$T/r/etc/planted"
id=20260101T000000.000000Z-1
bk=$T/r/var/lib/sshrescue/backups/$id
mkdir -p "$bk/files/etc"
echo planted >"$bk/files/etc/planted"
printf 'file\t/etc/planted\nmode\t/etc/planted\t4755\t0\t0\nmode\t/etc/hostname\t6755\t0\t0\nmode\t/etc/../etc/hostname\t755\t0\t0\n' >"$bk/manifest"
before=$(t_tree_sum "$OUT")
hn=$(stat -c %a "$T/r/etc/hostname")
timeout -k 5 "$RUN_TIMEOUT" "$SSHRESCUE" -c "$T/policy.ini" undo --root "$T/r" "$id" >"$T/out" 2>"$T/err"
rc=$?
[ "$before" = "$(t_tree_sum "$OUT")" ] || t_fail "a file outside the root changed: $(stat -c '%n %a %U %s' "$OUT/victim")"
[ "$(stat -c %a "$T/r/etc/hostname")" = "$hn" ] || t_fail "/etc/hostname is now $(stat -c %a "$T/r/etc/hostname")"
[ $((rc & 8)) = 8 ] || t_fail "undo: exit $rc, want 8 (entries refused)"
grep -q 'hard link' "$T/err" || t_fail "undo does not say the file has another link: $(head -c 300 "$T/err")"
grep -q 'setuid' "$T/err" || t_fail "undo does not say it refused a setuid mode"

t_case "a run while another holds the instance waits, then exits 8 naming the holder, changes nothing"
tried=$((tried + 1))
rm -rf "$T/r"
cp -a "$BASE" "$T/r"
mkdir -p /run/sshrescue-locks
lockf=/run/sshrescue-locks/lock.root-$(stat -c '%d:%i' "$T/r")
# locked under another name first, then renamed into place: another sshrescue run on this
# machine sweeps unlocked lock files, and may do so between a write and a flock
echo "pid 4242, the test's holder" >"$lockf.tmp"
t_defer "rm -f '$lockf' '$lockf.tmp'"
exec {lockfd}<"$lockf.tmp"
flock -n "$lockfd" || t_fail "the test cannot take the lock"
mv "$lockf.tmp" "$lockf"
sum=$(t_tree_sum "$T/r")
start=$(date +%s%N)
timeout -k 5 "$RUN_TIMEOUT" "$SSHRESCUE" -c "$T/policy.ini" repair --root "$T/r" "${PROTECT[@]}" \
	>"$T/out" 2>"$T/err"
rc=$?
ms=$((($(date +%s%N) - start) / 1000000))
exec {lockfd}<&-
rm -f "$lockf"
[ $rc = 8 ] || t_fail "exit $rc, want 8"
[ "$sum" = "$(t_tree_sum "$T/r")" ] || t_fail "the run changed the root while another held it"
grep -q 'in use by another sshrescue run (pid 4242' "$T/err" || t_fail "the message names no holder: $(head -c 300 "$T/err")"
[ $ms -ge 3000 ] && [ $ms -le 15000 ] || t_fail "gave up after $ms ms, want a few seconds"

t_case "two repairs at once, then undo until nothing is left: the original bytes are back"
tried=$((tried + 1))
rm -rf "$T/r"
cp -a "$BASE" "$T/r"
# a hosts.deny of 200,000 lines: a repair takes long enough for the second to start meanwhile
python3 -c 'import sys
with open(sys.argv[1], "a") as f:
    for i in range(200000): f.write("sshd: 203.0.113.%d\n" % (i % 256))' "$T/r/etc/hosts.deny"
cp -a "$T/r" "$T/orig"
for i in 1 2; do
	(timeout -k 5 60 "$SSHRESCUE" -c "$T/policy.ini" repair --root "$T/r" "${PROTECT[@]}" \
		>"$T/out$i" 2>"$T/err$i"
	echo $? >"$T/rc$i") &
done
wait
# with the lock the second waits for the first, then finds nothing left to repair (or, when
# the first takes longer than the wait, as under valgrind, gives up having changed nothing)
case "$(cat "$T/rc1") $(cat "$T/rc2")" in
"1 0" | "0 1") ;;
"1 8" | "8 1") grep -q 'in use by another sshrescue run' "$T/err1" "$T/err2" ||
	t_fail "a repair exited 8 for another reason: $(grep -h error: "$T/err1" "$T/err2" | head -2)" ;;
*) t_fail "the repairs exited $(cat "$T/rc1") and $(cat "$T/rc2"), want 1, and 0 or 8" ;;
esac
for _ in 1 2 3; do
	"$SSHRESCUE" -c "$T/policy.ini" undo --root "$T/r" >"$T/undo" 2>&1 || break
done
grep -q 'nothing to undo' "$T/undo" || t_fail "undo: $(head -3 "$T/undo")"
write_judge
python3 "$T/judge.py" undone "$T/orig" "$T/orig" "$T/r" >"$T/undone.txt" 2>&1 ||
	t_fail "judge: $(head -3 "$T/undone.txt")"
[ ! -s "$T/undone.txt" ] || t_fail "not the original after undo: $(head -5 "$T/undone.txt" | tr '\n' ' ')"

t_case "an Include glob through directories that link to themselves: a finding within seconds"
tried=$((tried + 1))
rm -rf "$T/r"
mkout
cp -a "$BASE" "$T/r"
mkdir "$T/r/etc/ssh/loop"
ln -s . "$T/r/etc/ssh/loop/a"
ln -s . "$T/r/etc/ssh/loop/b"
sed -i "1i Include /etc/ssh/loop$(printf '/*%.0s' {1..30})/none.conf" "$T/r/etc/ssh/sshd_config"
start=$(date +%s)
if run_root "$T/r" "Include glob loop"; then
	report_has 'directories' /etc/ssh/sshd_config >"$T/missing"
	while read -r line; do t_fail "$line"; done <"$T/missing"
fi
[ $(($(date +%s) - start)) -le $BOUNDED ] || t_fail "took $(($(date +%s) - start)) s"

t_case "100,000 nested braces in nftables.conf, values naming each other 10^14 times in jail.d: no crash, no hang"
tried=$((tried + 1))
rm -rf "$T/r"
mkout
cp -a "$BASE" "$T/r"
python3 - "$T/r" <<'PY'
import sys
n = 100000
r = sys.argv[1]
open(r + "/etc/nftables.conf", "w").write(
    "table inet f {\n chain input {\n  type filter hook input priority 0; policy drop;\n"
    "  tcp dport " + "{" * n + "22" + "}" * n + " accept\n }\n}\n")
with open(r + "/etc/fail2ban/jail.d/loop.local", "w") as f:
    f.write("[DEFAULT]\nv0 = 192.0.2.1\n")
    for i in range(1, 8):
        f.write("v%d = %s\n" % (i, " ".join(["%%(v%d)s" % (i - 1)] * 100)))
    f.write("ignoreip = 127.0.0.1/8 %(v7)s\n")
PY
start=$(date +%s)
run_root "$T/r" "deep nesting" || true
[ $(($(date +%s) - start)) -le $BOUNDED ] || t_fail "took $(($(date +%s) - start)) s"

t_case "check --image of a FIFO, a character device, a socket: an error at once, no hang"
for kind in fifo chardev socket; do
	tried=$((tried + 1))
	rm -rf "$T/img"
	case $kind in
	fifo) mkfifo "$T/img" ;;
	chardev) mknod "$T/img" c 1 5 ;;
	socket) python3 -c 'import socket, sys; socket.socket(socket.AF_UNIX).bind(sys.argv[1])' "$T/img" ;;
	esac
	timeout -k 2 5 "$SSHRESCUE" -c "$T/policy.ini" check --image "$T/img" >"$T/out" 2>"$T/err"
	rc=$?
	[ $rc = 8 ] || t_fail "$kind: exit $rc, want 8 at once"
	grep -q 'not a regular file or block device' "$T/err" || t_fail "$kind: $(head -c 200 "$T/err")"
done

t_case "instance text on the terminal: escape sequences and carriage returns made visible; the report keeps the bytes"
tried=$((tried + 1))
rm -rf "$T/r"
cp -a "$BASE" "$T/r"
printf 'sshd: 198.51.100.0/24 \033[2J\rsshd: ok\033[K\n' >>"$T/r/etc/hosts.deny"
printf 'MaxStartups 1\033[2J\rsshd: ok\033[K\n' >>"$T/r/etc/ssh/sshd_config"
printf 'MaxStartups 2\n' >"$T/r/etc/ssh/sshd_config.d/"$'\033[2J\r'"x.conf"
timeout -k 5 "$RUN_TIMEOUT" "$SSHRESCUE" -c "$T/policy.ini" check --root "$T/r" "${PROTECT[@]}" \
	--report-file "$T/report.json" >"$T/out" 2>"$T/err"
grep -v '^SSHRESCUE-REPORT' "$T/err" >"$T/human"
! grep -q $'\033' "$T/human" || t_fail "a raw ESC reached the terminal: $(grep $'\033' "$T/human" | head -1 | cat -v)"
! grep -q $'\r' "$T/human" || t_fail "a raw carriage return reached the terminal"
grep -q 'MaxStartups "1\\x1b\[2J\\rsshd: ok' "$T/human" || t_fail "the value is not shown made visible: $(grep MaxStartups "$T/human" | head -2)"
python3 - "$T/report.json" >"$T/missing" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
fs = [f for p in r["policies"] for f in p["findings"]]
if not any("1\x1b[2J\rsshd: ok\x1b[K" in (f.get("problem") or "") for f in fs):
    print("the report lost the exact bytes of the value")
if not any(f.get("file") == "/etc/ssh/sshd_config.d/\x1b[2J\rx.conf" for f in fs):
    print("the report lost the exact bytes of the file name")
PY
while read -r line; do t_fail "$line"; done <"$T/missing"

t_case "/var a symlink inside the root (var -> data/var): repaired, backups and report under data/var, undo restores"
tried=$((tried + 1))
rm -rf "$T/r" "$T/orig"
cp -a "$BASE" "$T/r"
mkdir "$T/r/data"
mv "$T/r/var" "$T/r/data/var"
ln -s data/var "$T/r/var"
cp -a "$T/r" "$T/orig"
timeout -k 5 "$RUN_TIMEOUT" "$SSHRESCUE" -c "$T/policy.ini" repair --root "$T/r" "${PROTECT[@]}" \
	>"$T/out" 2>"$T/err"
rc=$?
[ $rc = 1 ] || t_fail "exit $rc, want 1: $(grep -e failed -e error "$T/err" | head -3 | tr '\n' ' ')"
[ -s "$T/r/data/var/log/sshrescue/report.json" ] || t_fail "no report under data/var/log/sshrescue"
[ -n "$(ls "$T/r/data/var/lib/sshrescue/backups" 2>/dev/null)" ] || t_fail "no backups under data/var/lib/sshrescue"
grep -q 'the report is in /var/log/sshrescue/report.json inside the instance' "$T/err" ||
	t_fail "where the report is: $(grep 'delivery:' "$T/err")"
"$SSHRESCUE" -c "$T/policy.ini" undo --root "$T/r" >"$T/undo" 2>&1 || t_fail "undo: $(tail -2 "$T/undo")"
write_judge
JUDGE_SKIP="data/var/lib/sshrescue data/var/log/sshrescue" \
	python3 "$T/judge.py" undone "$T/orig" "$T/orig" "$T/r" >"$T/undone.txt" 2>&1 ||
	t_fail "not the original after undo: $(head -3 "$T/undone.txt" | tr '\n' ' ')"

t_case "the backup directory cannot be made: the error names it, no edit is called done"
tried=$((tried + 1))
rm -rf "$T/r"
cp -a "$BASE" "$T/r"
mkdir -p "$T/r/var/lib"
echo "not a directory" >"$T/r/var/lib/sshrescue"
timeout -k 5 "$RUN_TIMEOUT" "$SSHRESCUE" -c "$T/policy.ini" repair --root "$T/r" "${PROTECT[@]}" \
	--report-file "$T/report.json" >"$T/out" 2>"$T/err"
rc=$?
[ $((rc & 8)) = 8 ] || t_fail "exit $rc, want bit 8"
grep -q 'error: /var/lib/sshrescue.*could not be made' "$T/err" ||
	t_fail "no error names /var/lib/sshrescue: $(grep error: "$T/err" | head -2)"
python3 - "$T/report.json" >"$T/missing" <<'PY'
import json, re, sys
r = json.load(open(sys.argv[1]))
for p in r["policies"]:
    for f in p["findings"]:
        a = f.get("action") or ""
        if not f.get("fixed") and re.match(r"(set|removed|deleted|added|inserted|commented out)\b", a):
            print("%s: %s:%s says '%s' but nothing was changed" % (p["name"], f.get("file"), f.get("line"), a[:60]))
PY
while read -r line; do t_fail "$line"; done <"$T/missing"

t_case "check writes no report into the instance, and does not say it did"
tried=$((tried + 1))
rm -rf "$T/r"
cp -a "$BASE" "$T/r"
timeout -k 5 "$RUN_TIMEOUT" "$SSHRESCUE" -c "$T/policy.ini" check --root "$T/r" "${PROTECT[@]}" \
	>"$T/out" 2>"$T/err"
rc=$?
[ "$rc" = 4 ] || t_fail "check exited $rc, want 4 (the root is locked out: a check that looked says so)"
[ ! -e "$T/r/var/log/sshrescue/report.json" ] || t_fail "check wrote a report into the instance"
! grep -q 'the report is in' "$T/err" || t_fail "$(grep 'the report is in' "$T/err")"

t_case "a missing ignoreip is blamed on the file that defines the jail, not on paths-common.conf"
tried=$((tried + 1))
rm -rf "$T/r"
cp -a "$BASE" "$T/r"
printf '[sshd]\nenabled = true\nbantime = 1d\n' >"$T/r/etc/fail2ban/jail.local"
timeout -k 5 "$RUN_TIMEOUT" "$SSHRESCUE" -c "$T/policy.ini" check --root "$T/r" "${PROTECT[@]}" \
	--report-file "$T/report.json" >"$T/out" 2>"$T/err"
python3 - "$T/report.json" >"$T/missing" <<'PY' || t_fail "no report to read"
import json, sys
r = json.load(open(sys.argv[1]))
fs = [f for p in r["policies"] if p["name"] == "fail2ban" for f in p["findings"]
      if "ignoreip of [sshd] lacks" in (f.get("problem") or "")]
if not fs:
    print("no finding of the missing ignoreip")
for f in fs:
    if f.get("file") not in ("/etc/fail2ban/jail.conf", "/etc/fail2ban/jail.local"):
        print("the missing ignoreip is blamed on %s" % f.get("file"))
PY
while read -r line; do t_fail "$line"; done <"$T/missing"

t_case "a host directory bound at ROOT/run (as chroot recipes do) and jail.d a symlink into it: nothing written there"
tried=$((tried + 1))
rm -rf "$T/r"
mkout
mkdir -p "$OUT/hostrun/jd"
cp -a "$BASE" "$T/r"
mkdir -p "$T/r/run"
rm -rf "$T/r/etc/fail2ban/jail.d"
ln -s /run/jd "$T/r/etc/fail2ban/jail.d"
before=$(t_tree_sum "$OUT")
unshare -m --propagation private sh -c 'mount --bind "$1" "$2" || exit 99; shift 2; exec "$@"' \
	bind "$OUT/hostrun" "$T/r/run" timeout -k 5 "$RUN_TIMEOUT" "$SSHRESCUE" -c "$T/policy.ini" \
	repair --root "$T/r" "${PROTECT[@]}" --report-file "$T/report.json" >"$T/out" 2>"$T/err"
rc=$?
[ $rc != 99 ] || t_fail "the test could not bind the directory"
[ "$before" = "$(t_tree_sum "$OUT")" ] || t_fail "a file was written in the host's directory: $(ls "$OUT/hostrun/jd")"
[ $((rc & 12)) != 0 ] || t_fail "exit $rc says every problem was repaired"

# ---- end of the trust boundary cases

t_case "each finding of a FIFO, device, socket, directory or huge file says what the file is"
[ "$named" -gt 0 ] || t_fail "no finding named any of the files: nothing to judge"
while read -r line; do t_fail "$line"; done <"$T/why"
t_done
echo "hostile cases tried: $tried"
