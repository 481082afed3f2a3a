#!/usr/bin/env bash
# core.sh: the pipeline on a mounted root: check/repair/undo and their exit status, the policy
# file's errors, backups that keep mode, owner and xattrs, DenyHosts entries judged by tcpd.
source "$(dirname "$0")/../lib.sh"

# A root locked out by DenyHosts: protected 203.0.113.5 and others denied in hosts.deny, with
# failure counts in WORK_DIR; a hand-written deny for another daemon.
mk_denyhosts_root() {
	local r=$1
	t_mkroot "$r"
	mkdir -p "$r/var/lib/denyhosts"
	printf 'WORK_DIR = /var/lib/denyhosts\nHOSTS_DENY = /etc/hosts.deny\nBLOCK_SERVICE = sshd\nPURGE_DENY = 4w\n' >"$r/etc/denyhosts.conf"
	{
		echo "# /etc/hosts.deny: list of hosts that are _not_ allowed to access the system."
		echo "vsftpd: 203.0.113.5"
		echo "# DenyHosts: Tue Nov 24 10:00:00 2026 | sshd: 203.0.113.5"
		echo "sshd: 203.0.113.5"
		echo "# DenyHosts: Tue Nov 24 10:00:01 2026 | sshd: 198.51.100.7"
		echo "sshd: 198.51.100.7"
		echo "sshd: 203.0.113.77"
	} >"$r/etc/hosts.deny"
	printf '203.0.113.5:40:Tue Nov 24 10:00:00 2026\n198.51.100.7:12:Tue Nov 24 10:00:01 2026\n203.0.113.77:6:Tue Nov 24 10:00:02 2026\n' >"$r/var/lib/denyhosts/hosts"
	printf '203.0.113.5:3:Tue Nov 24 10:00:00 2026\n' >"$r/var/lib/denyhosts/hosts-root"
	printf 'root - 203.0.113.5:3:Tue Nov 24 10:00:00 2026\nadmin - 198.51.100.7:2:Tue Nov 24 10:00:01 2026\n' >"$r/var/lib/denyhosts/users-hosts"
	chmod 0640 "$r/etc/hosts.deny"
	chown 0:4 "$r/etc/hosts.deny"
	setfattr -n user.sshrescue.test -v keepme "$r/etc/hosts.deny"
}

R=$T/root
mk_denyhosts_root "$R"
PROTECT=(--protect 203.0.113.0/24)

t_case "check on a locked-out root exits 4 and writes nothing"
before=$(t_tree_sum "$R")
t_expect_exit 4 "$SSHRESCUE" check --root "$R" "${PROTECT[@]}" &&
	t_grep '/etc/hosts.deny:4: 203.0.113.5 is denied sshd by DenyHosts' "$T/err"
[ "$before" = "$(t_tree_sum "$R")" ] || t_fail "check changed the tree"

t_precondition "tcpd denies the protected address before the repair"
[ "$(t_tcpd "$R" sshd 203.0.113.5)" = denied ] || t_fail "tcpd does not deny 203.0.113.5"

cp -a "$R" "$T/orig"
t_case "repair exits 1 and tcpd grants sshd to the protected addresses"
t_expect_exit 1 "$SSHRESCUE" repair --root "$R" "${PROTECT[@]}" --report-file "$T/report.json"
for a in 203.0.113.5 203.0.113.77; do
	[ "$(t_tcpd "$R" sshd $a)" = granted ] || t_fail "sshd not granted to $a"
done

t_case "every other decision stays: other clients and other daemons still denied"
[ "$(t_tcpd "$R" sshd 203.0.113.5)" = granted ] || t_fail "the repair granted nothing: no decision to compare"
[ "$(t_tcpd "$R" sshd 198.51.100.7)" = denied ] || t_fail "198.51.100.7 no longer denied sshd"
[ "$(t_tcpd "$R" vsftpd 203.0.113.5)" = denied ] || t_fail "vsftpd no longer denies 203.0.113.5"

t_case "DenyHosts' counting files forget the protected hosts and keep the others"
t_no_grep '^203\.0\.113\.' "$R/var/lib/denyhosts/hosts" && t_grep '^198.51.100.7:12:' "$R/var/lib/denyhosts/hosts"
t_no_grep '203\.0\.113\.5' "$R/var/lib/denyhosts/users-hosts" && t_grep 'admin - 198.51.100.7' "$R/var/lib/denyhosts/users-hosts"
t_no_grep '203\.0\.113\.5' "$R/var/lib/denyhosts/hosts-root"
t_no_grep 'sshd: 203.0.113.5' "$R/etc/hosts.deny" && t_no_grep 'DenyHosts: .* | sshd: 203.0.113.5' "$R/etc/hosts.deny"

t_case "allowed-hosts lists the protected network in DenyHosts' syntax"
t_grep '^203\.0\.113\.\*$' "$R/var/lib/denyhosts/allowed-hosts"

t_case "the changed file keeps mode, owner, group and xattrs"
! cmp -s "$T/orig/etc/hosts.deny" "$R/etc/hosts.deny" || t_fail "hosts.deny was not changed"
[ "$(stat -c '%a %u %g' "$R/etc/hosts.deny")" = "640 0 4" ] || t_fail "metadata: $(stat -c '%a %u %g' "$R/etc/hosts.deny")"
[ "$(getfattr --only-values -n user.sshrescue.test "$R/etc/hosts.deny" 2>/dev/null)" = keepme ] || t_fail "xattr lost"

t_case "the report file has the schema and the findings with their backups"
python3 - "$T/report.json" <<'PY' || t_fail "report: see above"
import json, sys
r = json.load(open(sys.argv[1]))
assert r["schema"] == "sshrescue-report/1", r["schema"]
for k in ("run_id", "agent", "command", "started_at", "duration_ms", "instance", "target", "policies", "delivery", "exit_status", "errors"):
    assert k in r, k
assert r["exit_status"] == 1, r["exit_status"]
assert r["instance"]["hostname"] == "locked-out"
dh = [p for p in r["policies"] if p["name"] == "denyhosts"][0]
assert dh["status"] == "repaired", dh
f = [f for f in dh["findings"] if f["file"] == "/etc/hosts.deny"][0]
assert f["line"] == 4 and f["text"] == "sshd: 203.0.113.5" and f["fixed"], f
assert f["backup"].startswith("/var/lib/sshrescue/backups/"), f
PY
python3 -c 'import json,sys; assert json.load(open(sys.argv[1]))["run_id"]' "$R/var/log/sshrescue/report.json" || t_fail "no report inside the instance"

t_case "a second repair exits 0 and changes nothing"
sum1=$(t_tree_sum "$R" | grep -v -e ./var/log/sshrescue -e ./var/lib/sshrescue)
t_expect_exit 0 "$SSHRESCUE" repair --root "$R" "${PROTECT[@]}"
[ "$sum1" = "$(t_tree_sum "$R" | grep -v -e ./var/log/sshrescue -e ./var/lib/sshrescue)" ] || t_fail "second repair changed files"
[ "$(ls "$R/var/lib/sshrescue/backups" | wc -l)" = 1 ] || t_fail "second repair made a backup run"

t_case "undo restores original bytes, mode, owner and xattrs, and removes what repair created"
! cmp -s "$T/orig/etc/hosts.deny" "$R/etc/hosts.deny" || t_fail "nothing to undo: the repair changed nothing"
t_expect_exit 0 "$SSHRESCUE" undo --root "$R"
for f in etc/hosts.deny var/lib/denyhosts/hosts var/lib/denyhosts/users-hosts var/lib/denyhosts/hosts-root; do
	t_same "$T/orig/$f" "$R/$f"
done
[ ! -e "$R/var/lib/denyhosts/allowed-hosts" ] || t_fail "allowed-hosts left after undo"
[ "$(stat -c '%a %u %g' "$R/etc/hosts.deny")" = "640 0 4" ] || t_fail "metadata after undo"
[ "$(getfattr --only-values -n user.sshrescue.test "$R/etc/hosts.deny" 2>/dev/null)" = keepme ] || t_fail "xattr lost by undo"
[ "$(t_tcpd "$R" sshd 203.0.113.5)" = denied ] || t_fail "undo did not bring the deny back"

t_case "undo with nothing left to undo says so and exits 8"
t_expect_exit 8 "$SSHRESCUE" undo --root "$R" && t_grep 'nothing to undo' "$T/err"

t_case "scope = all clears every DenyHosts entry for sshd but keeps other daemons' rules"
R2=$T/all
mk_denyhosts_root "$R2"
printf '[denyhosts]\nscope = all\n' >"$T/all.ini"
t_expect_exit 1 "$SSHRESCUE" -c "$T/all.ini" repair --root "$R2" "${PROTECT[@]}"
for a in 203.0.113.5 198.51.100.7 203.0.113.77; do
	[ "$(t_tcpd "$R2" sshd $a)" = granted ] || t_fail "sshd not granted to $a"
done
[ "$(t_tcpd "$R2" vsftpd 203.0.113.5)" = denied ] || t_fail "vsftpd rule lost"

t_case "a malformed policy exits 16 naming file and line, and touches nothing"
R3=$T/bad
mk_denyhosts_root "$R3"
before=$(t_tree_sum "$R3")
for bad in '[agent]\nprotect = 300.1.2.3/40\n' '[agent]\nno_such_key = 1\n' '[fail2ban]\nscope = everything\n'; do
	printf "$bad" >"$T/bad.ini"
	t_expect_exit 16 "$SSHRESCUE" -c "$T/bad.ini" repair --root "$R3" && t_grep "$T/bad.ini:2:" "$T/err"
done
# an unknown section is named at its header, not at the first key under it
printf '# policy\n[agent]\nafter = none\n\n[nosuchsection]\nx = 1\n' >"$T/bad.ini"
t_expect_exit 16 "$SSHRESCUE" -c "$T/bad.ini" repair --root "$R3" &&
	t_grep "$T/bad.ini:5: unknown section \[nosuchsection\]" "$T/err"
t_expect_exit 16 "$SSHRESCUE" repair --root "$R3" --protect 10.0.0.0/99 && t_grep '[-]-protect 10.0.0.0/99' "$T/err"
t_expect_exit 16 "$SSHRESCUE" -c /nonexistent.ini repair --root "$R3"
t_expect_exit 16 "$SSHRESCUE" frobnicate --root "$R3"
t_expect_exit 16 "$SSHRESCUE" check --root "$R3" --image /x.img
[ "$before" = "$(t_tree_sum "$R3")" ] || t_fail "a usage error changed the tree"

# (the binary itself: valgrind needs /proc of its own; so does AddressSanitizer's runtime,
# which stops before main)
if ldd "${SSHRESCUE_BIN:-$SSHRESCUE}" 2>/dev/null | grep -q libasan; then
	echo "     without /proc: not tried under AddressSanitizer (its runtime needs /proc)"
else
	t_case "without /proc mounted: exit 8 and a message that says so, never a verdict of ok"
	R5=$T/noproc
	mk_denyhosts_root "$R5"
	unshare -m --propagation private sh -c 'umount -l /proc && exec "$@"' sh \
		"${SSHRESCUE_BIN:-$SSHRESCUE}" check --root "$R5" "${PROTECT[@]}" >"$T/out" 2>"$T/err"
	rc=$?
	[ "$rc" = 8 ] || t_fail "exit $rc, want 8"
	t_grep '/proc is not mounted' "$T/err"
	t_no_grep ': ok' "$T/err"
fi

t_case "a hosts.deny symlinked out of the root is read inside it and nothing outside changes"
R4=$T/link
mk_denyhosts_root "$R4"
echo "sshd: 203.0.113.5" >"$T/outside-deny"
cp "$T/outside-deny" "$T/outside-copy"
ln -sf "$T/outside-deny" "$R4/etc/hosts.deny"
# the repair runs (DenyHosts' counting files inside the root are repaired), the file outside
# is neither read as the instance's hosts.deny nor written
t_expect_exit 1 "$SSHRESCUE" repair --root "$R4" "${PROTECT[@]}"
t_no_grep '203.0.113.5 is denied sshd' "$T/err"
t_same "$T/outside-copy" "$T/outside-deny"
ln -sf "../../../../../../..$T/outside-deny" "$R4/etc/hosts.deny"
t_expect_exit 0 "$SSHRESCUE" repair --root "$R4" "${PROTECT[@]}"
t_no_grep '203.0.113.5 is denied sshd' "$T/err"
t_same "$T/outside-copy" "$T/outside-deny"

t_case "a FIFO, a directory, a 1 GiB file and junk in place of hosts.deny: a finding, no hang"
for kind in fifo dir huge junk; do
	R5=$T/hostile-$kind
	mk_denyhosts_root "$R5"
	rm -f "$R5/etc/hosts.deny"
	case $kind in
	fifo) mkfifo "$R5/etc/hosts.deny" ;;
	dir) mkdir "$R5/etc/hosts.deny" ;;
	huge) truncate -s 1G "$R5/etc/hosts.deny" ;;
	junk) head -c 65536 /dev/urandom >"$R5/etc/hosts.deny" ;;
	esac
	timeout 20 "$SSHRESCUE" repair --root "$R5" "${PROTECT[@]}" >"$T/out" 2>"$T/err"
	rc=$?
	[ $rc -lt 124 ] || { t_fail "$kind: timed out or crashed (exit $rc)"; continue; }
	if [ $kind != junk ]; then
		t_grep '/etc/hosts.deny' "$T/err" || t_fail "$kind: no finding names hosts.deny"
		# the instance's fault, not sshrescue's: a problem that remains, not an error
		[ $((rc & 4)) = 4 ] || t_fail "$kind: exit $rc lacks bit 4"
		case $kind in
		fifo) t_grep 'not a regular file' "$T/err" ;;
		dir) t_grep 'it is a directory' "$T/err" ;;
		huge) t_grep 'it is larger than' "$T/err" ;;
		esac
	fi
done

t_case "100,000-line DenyHosts files are repaired and judged by tcpd"
R6=$T/big
mk_denyhosts_root "$R6"
python3 - "$R6" <<'PY'
import sys
r = sys.argv[1]
with open(r + "/etc/hosts.deny", "a") as f, open(r + "/var/lib/denyhosts/hosts", "a") as h:
    for i in range(100000):
        a = "10.%d.%d.%d" % (i >> 16, (i >> 8) & 255, i & 255)
        f.write("# DenyHosts: Tue Nov 24 10:00:00 2026 | sshd: %s\nsshd: %s\n" % (a, a))
        h.write("%s:7:Tue Nov 24 10:00:00 2026\n" % a)
PY
t_expect_exit 1 "$SSHRESCUE" repair --root "$R6" --protect 203.0.113.0/24 --protect 10.0.1.0/24
[ "$(t_tcpd "$R6" sshd 10.0.1.9)" = granted ] || t_fail "10.0.1.9 not granted"
[ "$(t_tcpd "$R6" sshd 10.0.2.9)" = denied ] || t_fail "10.0.2.9 no longer denied"
[ "$(grep -c '^sshd: 10\.' "$R6/etc/hosts.deny")" = 99744 ] || t_fail "entries left: $(grep -c '^sshd: 10\.' "$R6/etc/hosts.deny")"

# Large files are read by two threads (the second from a line past the middle): the protected
# networks lie before, across and after the middle, among lines of other shapes, and what is
# removed must be exactly the entries of protected sources, with their line numbers.
t_case "a 400,000-line hosts.deny with protected sources on both sides of its middle"
R7=$T/big2
mk_denyhosts_root "$R7"
read -r want first_line < <(python3 - "$R7" "$T/big2.expected" <<'PY'
import ipaddress, sys
r, expected = sys.argv[1], sys.argv[2]
nets = [ipaddress.ip_network(n) for n in ("10.1.0.0/28", "10.3.64.0/26", "10.5.16.0/20")]
head = open(r + "/etc/hosts.deny").read()
keep, lines, gone = [head], [], []
for i in range(400000):
    a = "10.%d.%d.%d" % (i >> 16, (i >> 8) & 255, i & 255)
    line = "sshd: %s\n" % a
    # other shapes of lines, in the first half and at the end (not where the reading
    # ahead from the middle goes, which stops at the first of them)
    if i % 50000 == 7 and not 150000 < i < 390000:
        line = "sshd: %s EXCEPT 10.99.0.1\n" % a  # a hand-written rule: stays
    elif i % 70001 == 3 and not 150000 < i < 390000:
        line = "ALL: %s\n" % a                     # not DenyHosts': stays
    goes = line == "sshd: %s\n" % a and any(ipaddress.ip_address(a) in n for n in nets)
    if goes:
        gone.append(head.count("\n") + i + 1)
    if not goes:
        keep.append(line)
    lines.append(line)
open(r + "/etc/hosts.deny", "w").write(head + "".join(lines))
open(expected, "w").write("".join(keep))
open(expected + ".lines", "w").write("".join("%d\n" % n for n in gone[:100]))
print(len(gone), gone[0])
PY
)
t_expect_exit 1 "$SSHRESCUE" repair --root "$R7" --report-file "$T/big2.json" \
	--protect 10.1.0.0/28 --protect 10.3.64.0/26 --protect 10.5.16.0/20
cmp -s "$R7/etc/hosts.deny" "$T/big2.expected" || t_fail "hosts.deny is not the expected one: $(diff "$R7/etc/hosts.deny" "$T/big2.expected" | head -3)"
note=$(jq -r '.policies[] | select(.name == "denyhosts") | .note' "$T/big2.json")
[ "$note" = "$want DenyHosts entries of protected sources removed" ] || t_fail "note: $note (want $want entries)"
# one finding per entry for the first 100, the rest summed up: same lines, same order
jq '.policies[] | select(.name == "denyhosts") | .findings[] | select(.line != null) | .line' \
	"$T/big2.json" >"$T/big2.lines"
cmp -s "$T/big2.lines" "$T/big2.expected.lines" ||
	t_fail "findings' lines differ: $(diff "$T/big2.lines" "$T/big2.expected.lines" | head -3)"
[ "$(t_tcpd "$R7" sshd 10.5.20.1)" = granted ] || t_fail "10.5.20.1 not granted"
[ "$(t_tcpd "$R7" sshd 10.5.40.1)" = denied ] || t_fail "10.5.40.1 no longer denied"
t_done
