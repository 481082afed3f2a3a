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

t_case "each finding of a FIFO, device, socket, directory or huge file says what the file is"
[ "$named" -gt 0 ] || t_fail "no finding named any of the files: nothing to judge"
while read -r line; do t_fail "$line"; done <"$T/why"
t_done
echo "hostile cases tried: $tried"
