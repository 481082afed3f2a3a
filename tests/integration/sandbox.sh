#!/usr/bin/env bash
# sandbox.sh: the instance's own programs run only in the sandbox (spawn.c). The instance's
# /usr/sbin/sshd is a busybox script made by an attacker: it tries to write on the host
# through /tmp, through /proc/1/root after mounting a proc of its own, and into the instance;
# it fork-bombs and leaves children that never exit; it never exits; it tells what it is (host
# uid, capabilities, seccomp, network). sshrescue check must confine it (nothing written
# outside the sandbox's own tmpfs, uid != 0 on the host, no capability, no network), end
# within [agent] deadline with no process of it left, and, with no bwrap
# (SSHRESCUE_BWRAP=/nonexistent), not run it at all and say so with a finding.
source "$(dirname "$0")/../lib.sh"

for p in bwrap busybox pgrep python3; do
	command -v "$p" >/dev/null || { echo "FAIL sandbox.sh: $p is missing (tests/deps)"; exit 1; }
done
BUSYBOX=$(command -v busybox)
file -L "$BUSYBOX" 2>/dev/null | grep -q 'statically linked' ||
	{ echo "FAIL sandbox.sh: $BUSYBOX is not static (busybox-static)"; exit 1; }

MARK=sshrescue-sandbox-$$
# a number no other process has on its command line: the marker of the fake sshd's children
SLEEP=$((7000000 + $$))
R=$T/root
t_mkroot "$R"
mkdir -p "$R/bin" "$R/usr/sbin" "$R/etc/ssh" "$R/proc" "$R/dev" "$R/run" "$R/tmp" "$R/sys"
cp "$BUSYBOX" "$R/bin/busybox"
printf 'Port 22\n' >"$R/etc/ssh/sshd_config"
printf '[report]\nconsole = no\n[agent]\ndeadline = %s\n' 80 >"$T/policy.ini"
printf '[report]\nconsole = no\n[agent]\ndeadline = %s\n' 4 >"$T/short.ini"
HOSTFILE=$T/host-target
echo original >"$HOSTFILE"

# fake_sshd BODY: the instance's sshd is a busybox script doing BODY.
fake_sshd() {
	{
		echo '#!/bin/busybox sh'
		echo 'bb=/bin/busybox'
		echo "$1"
	} >"$R/usr/sbin/sshd"
	chmod 0755 "$R/usr/sbin/sshd"
}

# run CONFIG ARGS...: sshrescue check on the root; report in $T/report.json, stderr in
# $T/err, exit status in $rc, seconds in $secs.
run() {
	local cfg=$1 t0
	shift
	rm -f "$T/report.json"
	t0=$(date +%s)
	timeout 60 env "$@" "$SSHRESCUE" check --root "$R" -c "$cfg" --report-file "$T/report.json" \
		>"$T/out" 2>"$T/err"
	rc=$?
	secs=$(($(date +%s) - t0))
}

# findings of the sshd policy, and the run's errors, one per line
sshd_findings() {
	python3 -c 'import json, sys
r = json.load(open(sys.argv[1]))
for p in r["policies"]:
    if p["name"] == "sshd":
        for f in p["findings"]:
            print(f["problem"])
for e in r["errors"]:
    print("error:", e)' "$T/report.json" >"$T/findings" 2>/dev/null
}

left() { pgrep -f "$SLEEP" || true; }

t_case "an escaping sshd writes nothing on the host nor in the instance"
fake_sshd "
echo escaped >/tmp/$MARK
\$bb mount -t proc proc /proc 2>/dev/null
echo escaped >/proc/1/root/tmp/$MARK
echo escaped >/proc/1/root$HOSTFILE
echo escaped >/proc/1/cwd/$MARK
echo escaped >/etc/$MARK
\$bb mkdir /x 2>/dev/null; \$bb chroot /x /bin/busybox true 2>/dev/null
for d in \$(\$bb seq 1 12); do cd ..; done
echo escaped >./$MARK
echo escaped >/dev/$MARK
exit 0"
before=$(t_tree_sum "$R")
run "$T/policy.ini"
[ "$rc" -lt 16 ] || t_fail "exit status $rc"
[ ! -e "/tmp/$MARK" ] || { t_fail "/tmp/$MARK written on the host"; rm -f "/tmp/$MARK"; }
[ ! -e "/$MARK" ] || { t_fail "/$MARK written on the host"; rm -f "/$MARK"; }
[ "$(cat "$HOSTFILE")" = original ] || t_fail "$HOSTFILE overwritten through /proc/1/root"
[ "$before" = "$(t_tree_sum "$R")" ] || t_fail "the instance changed"
[ -s "$T/report.json" ] || t_fail "no report"

t_case "the sandbox: no capabilities, seccomp on, no network, instance read-only"
fake_sshd '
cap=$($bb awk "/^CapEff/ {print \$2}" /proc/self/status)
bnd=$($bb awk "/^CapBnd/ {print \$2}" /proc/self/status)
sec=$($bb awk "/^Seccomp:/ {print \$2}" /proc/self/status)
nif=$($bb tail -n +3 /proc/net/dev | $bb grep -vc "^ *lo:")
ro=no; $bb touch /etc/probe 2>/dev/null || ro=yes
echo "probe capeff=$cap capbnd=$bnd seccomp=$sec ifaces=$nif ro=$ro"
exit 1'
run "$T/policy.ini"
sshd_findings
line=$(grep -o 'probe .*' "$T/findings" | head -1)
[ -n "$line" ] || { t_fail "no probe line in the report"; sed 's/^/       | /' "$T/findings"; }
echo "$line" | grep -q 'capeff=0000000000000000 ' || t_fail "capabilities: $line"
echo "$line" | grep -q 'capbnd=0000000000000000 ' || t_fail "bounding set: $line"
echo "$line" | grep -q 'seccomp=2 ' || t_fail "no seccomp filter: $line"
echo "$line" | grep -q 'ifaces=0 ' || t_fail "network interfaces: $line"
echo "$line" | grep -q 'ro=yes' || t_fail "instance writable: $line"

t_case "seen from the host: the instance's sshd runs as a uid other than 0, no capabilities"
fake_sshd "exec \$bb sleep $SLEEP"
"$SSHRESCUE" check --root "$R" -c "$T/short.ini" >/dev/null 2>&1 &
bg=$!
pid=""
for i in $(seq 50); do
	pid=$(pgrep -f "$SLEEP" | head -1)
	[ -n "$pid" ] && break
	sleep 0.1
done
if [ -z "$pid" ]; then
	t_fail "the fake sshd never ran"
else
	uid=$(awk '/^Uid:/ {print $2, $3, $4, $5}' "/proc/$pid/status")
	caps=$(awk '/^Cap(Prm|Eff|Amb):/ {print $2}' "/proc/$pid/status" | sort -u)
	case " $uid " in *" 0 "*) t_fail "host uid: $uid" ;; esac
	[ "$caps" = 0000000000000000 ] || t_fail "capabilities: $caps"
fi
wait "$bg"

t_case "a fork bomb with children that never exit: the run ends at its deadline, nothing left"
fake_sshd "
\$bb sleep $SLEEP &
\$bb setsid \$bb sleep $SLEEP &
( \$bb sleep $SLEEP & ) &
b() { b & b & }
b 2>/dev/null &
exec \$bb sleep $SLEEP"
# the report is still delivered after the deadline (a recorder on loopback is the endpoint)
mkdir -p "$T/rec"
python3 "$TOP/tests/integration/http_recorder.py" --dir "$T/rec" 2>"$T/rec.log" &
t_defer "kill $!"
for i in $(seq 50); do [ -s "$T/rec/port" ] && break; sleep 0.1; done
run "$T/short.ini"
"$SSHRESCUE" check --root "$R" -c "$T/short.ini" --report-url "http://127.0.0.1:$(cat "$T/rec/port")/r" \
	--report-file "$T/report.json" >/dev/null 2>"$T/err"
rc=$?
sshd_findings
[ "$secs" -le 12 ] || t_fail "took $secs s with a deadline of 4 s"
[ $((rc & 8)) = 8 ] || t_fail "exit status $rc has no operational-error bit"
t_grep 'error: deadline of 4 s passed during the sshd policy' "$T/findings"
t_grep 'deadline of 4 s passed during the sshd policy' "$T/err"
python3 -c 'import json, sys
r = json.load(open(sys.argv[1]))
fw = [p for p in r["policies"] if p["name"] == "firewall"][0]
assert fw["status"] == "skipped" and "deadline" in fw["note"], fw
assert r["delivery"]["status"] == "delivered", r["delivery"]' "$T/report.json" ||
	t_fail "a policy after the deadline ran, or the report was not delivered"
grep -q '^request .* POST /r' "$T/rec/events" || t_fail "the endpoint got no report"
sleep 1
[ -z "$(left)" ] || { t_fail "processes left: $(left | tr '\n' ' ')"; pkill -9 -f "$SLEEP"; }

t_case "an sshd that never exits: the call is bounded, the report says so"
fake_sshd "exec \$bb sleep $SLEEP"
run "$T/short.ini"
sshd_findings
[ "$secs" -le 12 ] || t_fail "took $secs s with a deadline of 4 s"
t_grep 'sshd -t did not finish' "$T/findings"
t_grep 'error: deadline of 4 s passed' "$T/findings"
[ -z "$(left)" ] || { t_fail "processes left"; pkill -9 -f "$SLEEP"; }

t_case "no bwrap: the instance's sshd does not run, a finding says so, problems remain"
fake_sshd "echo ran >/tmp/$MARK; echo ran >/etc/$MARK; exit 0"
run "$T/policy.ini" SSHRESCUE_BWRAP=/nonexistent
sshd_findings
t_grep 'skipped: no sandbox' "$T/findings"
[ $((rc & 4)) = 4 ] || t_fail "exit status $rc does not say problems remain"
[ ! -e "$R/tmp/$MARK" ] && [ ! -e "$R/etc/$MARK" ] && [ ! -e "/tmp/$MARK" ] ||
	t_fail "the instance's sshd ran"

t_done
