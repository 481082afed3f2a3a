#!/usr/bin/env bash
# faults.sh: an instance filesystem that refuses writes. On a small loop-mounted ext4 image
# filled up (no block, no inode left; -m 0, so root has no reserve either) and on a read-only
# mount, `sshrescue repair` of a root locked out every way must change nothing partially (every
# file its original or its repaired version, judge.py), say which file it could not write and
# why, still deliver its report (to http_recorder.py on 127.0.0.1), and exit 4 or 8 (or 12).
# Once space is freed, a repair completes the job. Ends with "faults tried: N".
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/locked-root.bash"

for p in mkfs.ext4 mount umount losetup python3 sqlite3; do
	command -v "$p" >/dev/null || { echo "FAIL faults.sh: $p is missing (tests/deps installs e2fsprogs, util-linux, python3, sqlite3)"; exit 1; }
done
unset http_proxy https_proxy HTTPS_PROXY all_proxy ALL_PROXY no_proxy NO_PROXY
PY=/usr/bin/python3
PROTECT=(--protect 203.0.113.0/24)
printf '[report]\nconsole = no\nattempts = 2\ntimeout = 5\ndeadline = 10\n' >"$T/policy.ini"
faults=0

# the recorder that receives the reports
$PY "$TOP/tests/integration/http_recorder.py" --dir "$T/rec" 2>"$T/rec.log" &
t_defer "kill $!"
for ((i = 0; i < 300; i++)); do [ -s "$T/rec/port" ] && break; sleep 0.05; done
PORT=$(cat "$T/rec/port") || { echo "FAIL faults.sh: http_recorder.py did not start"; exit 1; }
URL=http://127.0.0.1:$PORT/report

# The reference: the same root repaired on a filesystem that takes every write.
BASE=$T/base REF=$T/ref
mk_locked_root "$BASE"
cp -a "$BASE" "$REF"
"$SSHRESCUE" -c "$T/policy.ini" repair --root "$REF" "${PROTECT[@]}" >"$T/ref.out" 2>&1
[ $? = 1 ] || { echo "FAIL faults.sh: the reference repair failed"; sed 's/^/  | /' "$T/ref.out" | head; exit 1; }

# mkimage NAME SIZE-MiB: an ext4 image with the locked-out root, mounted at $T/NAME; sets MNT.
mkimage() {
	local img=$T/$1.img
	MNT=$T/$1
	truncate -s "$2M" "$img" && mkfs.ext4 -q -F -m 0 -N 512 "$img" || return 1
	mkdir -p "$MNT"
	mount -o loop "$img" "$MNT" || return 1
	t_defer "umount -l '$MNT'"
	mk_locked_root "$MNT"
}

# run_repair ROOT: RC, $T/out, $T/err; the requests the recorder got before and after in N0, N1.
run_repair() {
	N0=$(find "$T/rec" -name '[0-9]*.json' | wc -l)
	timeout 120 "$SSHRESCUE" -c "$T/policy.ini" repair --root "$1" "${PROTECT[@]}" \
		--report-url "$URL" >"$T/out" 2>"$T/err"
	RC=$?
	N1=$(find "$T/rec" -name '[0-9]*.json' | wc -l)
	faults=$((faults + 1))
}

# expect_refused WHY: exit 4/8/12, a message naming a file and WHY, a delivered report that
# says so, and no file changed partially.
expect_refused() {
	local why=$1 partial=${2:-}
	if [ -n "$partial" ]; then
		# some files may be repaired whole (bit 1): problems remain all the same
		[ $((RC & 12)) != 0 ] && [ $((RC & ~13)) = 0 ] ||
			{ t_fail "exit $RC, want 4 or 8 (and maybe 1)"; grep -v '^SSHRESCUE-REPORT' "$T/err" | grep -A12 -e Sanitizer -e 'runtime error' | sed 's/^/       stderr: /' | head -40; }
	else
		case $RC in
		4 | 8 | 12) ;;
		*) t_fail "exit $RC, want 4, 8 or 12"; sed 's/^/       stderr: /' "$T/err" | head -10 ;;
		esac
	fi
	grep -E "^sshrescue: .*(/etc/|/var/)[^ :]*(:[0-9]+)?:.*$why|/etc/[^ ]*: .*$why|/var/[^ ]*: .*$why" "$T/err" >"$T/named" ||
		{ t_fail "no message names a file and '$why'"; sed 's/^/       stderr: /' "$T/err" | head -10; }
	[ $((N1 - N0)) -ge 1 ] || t_fail "no report delivered"
	local last
	last=$(find "$T/rec" -name '[0-9]*.body' | sort | tail -n 1)
	[ -n "$last" ] && $PY - "$last" "$why" "$RC" <<'PYR' || t_fail "the delivered report does not say it: see above"
import json, sys
r = json.load(open(sys.argv[1]))
why, rc = sys.argv[2], int(sys.argv[3])
assert r["exit_status"] == rc, (r["exit_status"], rc)
text = json.dumps(r)
assert why in text, "%r not in the report" % why
PYR
	python3 "$T/judge.py" killed "$BASE" "$REF" "$MNT" >"$T/judge.txt" ||
		{ t_fail "files changed partially"; sed 's/^/       /' "$T/judge.txt" | head; }
}

# fill [KiB]: on $MNT: take every inode, then every block, then free KiB again.
fill() {
	local i
	[ -z "${1:-}" ] || head -c "$(($1 * 1024))" /dev/zero >"$MNT/fill.keep"
	: >"$MNT/fill"
	mkdir -p "$MNT/fill.d"
	for ((i = 0; i < 600; i++)); do { : >"$MNT/fill.d/$i"; } 2>/dev/null || break; done
	{ cat /dev/zero >>"$MNT/fill"; } 2>/dev/null
	# ext4 releases reserved blocks at writeback: fill again until one more block fails
	for ((i = 0; i < 10; i++)); do
		sync -f "$MNT/fill"
		{ head -c 4096 /dev/zero >>"$MNT/fill"; } 2>/dev/null || break
		{ cat /dev/zero >>"$MNT/fill"; } 2>/dev/null
	done
	[ "$(df --output=iavail "$MNT" | tail -n 1)" -eq 0 ] || t_fail "inodes are left: $(df -i "$MNT" | tail -n 1)"
	! { head -c 4096 /dev/zero >>"$MNT/fill"; } 2>/dev/null || t_fail "the image is not full: $(df "$MNT" | tail -n 1)"
	rm -f "$MNT/fill.keep"
	sync -f "$MNT/fill"
}

t_case "a full filesystem: nothing changed partially, the file and ENOSPC named, report delivered, exit 4/8"
if mkimage full 16; then
	fill
	run_repair "$MNT"
	JUDGE_SKIP="fill" expect_refused "No space left on device"
else
	t_fail "cannot make the ext4 image"
fi

t_case "once space is freed, a repair completes the job"
rm -rf "$MNT"/fill*
run_repair "$MNT"
[ $RC = 1 ] || { t_fail "exit $RC, want 1"; sed 's/^/       stderr: /' "$T/err" | head -10; }
python3 "$T/judge.py" repaired "$BASE" "$REF" "$MNT" >"$T/judge.txt" ||
	{ t_fail "not repaired"; sed 's/^/       /' "$T/judge.txt" | head; }

t_case "a filesystem that fills up during the run (64 KiB free): each file whole, ENOSPC named"
if mkimage midway 16; then
	# ten inodes for the backup directories and the temporary files
	fill 64
	rm -f "$MNT"/fill.d/1?
	run_repair "$MNT"
	JUDGE_SKIP="fill" expect_refused "No space left on device" partial
	# the space ran out midway: some files were repaired before
	[ $((RC & 1)) = 1 ] || t_fail "exit $RC: nothing was repaired before the space ran out"
	cp "$T/err" "$T/midway.err"
else
	t_fail "cannot make the ext4 image"
fi

t_case "a read-only mount: nothing changed, the file and EROFS named, report delivered, exit 4/8"
if mkimage ro 16; then
	mount -o remount,ro "$MNT" || t_fail "cannot remount read-only"
	before=$(t_tree_sum "$MNT")
	run_repair "$MNT"
	expect_refused "Read-only file system"
	[ "$before" = "$(t_tree_sum "$MNT")" ] || t_fail "the read-only tree changed"
else
	t_fail "cannot make the ext4 image"
fi
t_done
echo "faults tried: $faults"
