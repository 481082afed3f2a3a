#!/usr/bin/env bash
# hooks.sh: the boot-time and fleet hooks run against a locked-out root directory (their
# SSHRESCUE_ROOT), judged by tcpdmatch: the cloud-init boothook (every boot until one run
# succeeds, then nothing), sshrescue-boot as the systemd unit's ExecStart (the unit checked by
# systemd-analyze verify), the AWS SSM document's runCommand rendered with its parameters, the
# Azure run-command script, the GCE startup-script reading its metadata attributes from a
# loopback server, and the initramfs-tools local-premount script with and without `sshrescue`
# on the kernel command line. Reports go to http_recorder.py on 127.0.0.1.
source "$(dirname "$0")/../lib.sh"

H=$TOP/hooks
unset http_proxy https_proxy HTTPS_PROXY all_proxy ALL_PROXY no_proxy NO_PROXY
for p in tcpdmatch jq python3 systemd-analyze curl; do
	command -v "$p" >/dev/null || { echo "FAIL hooks.sh: $p is missing"; exit 1; }
done
export SSHRESCUE

# A root where tcpd refuses sshd to everyone but 198.51.100.0/24 is to stay refused too.
locked() { # dir
	rm -rf "$1"
	t_mkroot "$1"
	printf 'ALL: 198.51.100.7\nsshd: ALL\n' >"$1/etc/hosts.deny"
}
judge() { # root
	[ "$(t_tcpd "$1" sshd 203.0.113.5)" = granted ] ||
		{ t_fail "sshd still denied to 203.0.113.5 in $1"; return 1; }
	[ "$(t_tcpd "$1" sshd 198.51.100.7)" = denied ] ||
		{ t_fail "198.51.100.7 no longer denied in $1"; return 1; }
}
still_locked() { # root
	[ "$(t_tcpd "$1" sshd 203.0.113.5)" = denied ] || t_fail "$1 was changed"
}

"$TOP/tests/integration/http_recorder.py" --dir "$T/rec" 2>"$T/rec.log" &
t_defer "kill $!"
for ((i = 0; i < 300; i++)); do [ -s "$T/rec/port" ] && break; sleep 0.05; done
PORT=$(cat "$T/rec/port") || { echo "FAIL hooks.sh: http_recorder.py did not start"; exit 1; }
requests() { find "$T/rec" -name '[0-9]*.json' | wc -l; }

# ---- cloud-init boothook ---------------------------------------------------------------
R=$T/boothook
t_case "boothook: installs the policy and repairs at boot; records that it is done"
locked "$R"
SSHRESCUE_ROOT=$R sh "$H/cloud-boothook.sh" >"$T/out" 2>&1 || t_fail "exit $?: $(cat "$T/out")"
judge "$R"
t_grep '^protect = 203.0.113.0/24$' "$R/etc/sshrescue/policy.ini"
[ "$(stat -c %a "$R/etc/sshrescue/policy.ini")" = 600 ] || t_fail "policy.ini mode $(stat -c %a "$R/etc/sshrescue/policy.ini")"
t_grep 'exit 1$' "$R/var/lib/sshrescue/boot-done"

t_case "boothook: at the next boot it does nothing at all"
judge "$R" # the first boot's repair is what must not be done again
t_tree_sum "$R" >"$T/sum1"
SSHRESCUE_ROOT=$R sh "$H/cloud-boothook.sh" >"$T/out" 2>&1
t_tree_sum "$R" >"$T/sum2"
t_same "$T/sum1" "$T/sum2"

t_case "boothook: a run that fails is retried at the next boot, the boot itself goes on"
locked "$R"
printf '#!/bin/sh\necho "stub: problems remain" >&2\nexit 4\n' >"$T/fail-stub"
chmod +x "$T/fail-stub"
SSHRESCUE_ROOT=$R SSHRESCUE=$T/fail-stub sh "$H/cloud-boothook.sh" >"$T/out" 2>&1 || t_fail "boothook exit $?"
[ ! -e "$R/var/lib/sshrescue/boot-done" ] || t_fail "a failed run was recorded as done"
t_grep 'runs again at the next boot' "$T/out"
SSHRESCUE_ROOT=$R sh "$H/cloud-boothook.sh" >"$T/out" 2>&1
judge "$R" && t_grep 'exit 1$' "$R/var/lib/sshrescue/boot-done"

t_without_sshrescue "cloud-config: valid YAML whose one bootcmd item is cloud-boothook.sh's script"
# cloud-init writes bootcmd to a shell script ("#!/bin/sh", then each string item as it is) and
# runs it with sh; cc_script is that script
cc_script() { # cloud-config.yaml -> stdout
	python3 - "$1" <<'PY'
import sys, yaml
text = open(sys.argv[1]).read()
assert text.startswith("#cloud-config\n"), "no #cloud-config header"
d = yaml.safe_load(text)
assert set(d) == {"bootcmd"} and len(d["bootcmd"]) == 1 and isinstance(d["bootcmd"][0], str), d
print("#!/bin/sh\n" + d["bootcmd"][0], end="")
PY
}
cc_script "$H/cloud-config.yaml" >"$T/cc.sh" 2>"$T/cc.err" || t_fail "$(cat "$T/cc.err")"
sed -n '/^PROTECT=/,$p' "$H/cloud-boothook.sh" >"$T/boothook.body"
sed -n '/^PROTECT=/,$p' "$T/cc.sh" >"$T/cc.body"
[ -s "$T/boothook.body" ] || t_fail "no PROTECT= line in cloud-boothook.sh"
t_same "$T/boothook.body" "$T/cc.body"

# ---- systemd unit ----------------------------------------------------------------------
t_without_sshrescue "systemd unit: systemd-analyze verify passes; ordered before ssh and fail2ban"
sed "s|^ExecStart=.*|ExecStart=$H/sshrescue-boot|" "$H/sshrescue-repair.service.in" >"$T/sshrescue-repair.service"
systemd-analyze verify --man=no "$T/sshrescue-repair.service" >"$T/verify" 2>&1 ||
	{ t_fail "systemd-analyze verify"; cat "$T/verify"; }
grep -v -e 'sshrescue-repair.service' -e '^$' "$T/verify" >"$T/verify.other" || true
b=$(sed -n 's/^Before=//p' "$H/sshrescue-repair.service.in")
for u in ssh.service fail2ban.service; do [[ " $b " == *" $u "* ]] || t_fail "not Before=$u: $b"; done
t_grep '^Type=oneshot$' "$H/sshrescue-repair.service.in"

t_case "systemd unit: its ExecStart repairs the root, delivers, and is done for later boots"
R=$T/unit
locked "$R"
mkdir -p "$R/etc/sshrescue"
printf '[agent]\nprotect = 203.0.113.0/24\n[report]\nurl = http://127.0.0.1:%s/unit\n' "$PORT" >"$R/etc/sshrescue/policy.ini"
exec_start=$(sed -n 's/^ExecStart=//p' "$T/sshrescue-repair.service")
SSHRESCUE_ROOT=$R $exec_start >"$T/out" 2>&1 || t_fail "ExecStart exit $?: $(tail -n 5 "$T/out")"
judge "$R"
[ -e "$T/rec/0001.json" ] && jq -e '.path == "/unit"' "$T/rec/0001.json" >/dev/null || t_fail "no report at /unit"
SSHRESCUE_ROOT=$R $exec_start >"$T/out" 2>&1
t_grep 'nothing to do' "$T/out"
[ "$(requests)" = 1 ] || t_fail "$(requests) reports; the second boot ran sshrescue again"

# ---- AWS SSM document --------------------------------------------------------------------
DOC=$H/aws-ssm-sshrescue.json
t_without_sshrescue "SSM document: schema 2.2, one aws:runShellScript step, parameters protect and reportUrl"
jq -e '.schemaVersion == "2.2" and (.mainSteps | length) == 1 and .mainSteps[0].action == "aws:runShellScript"
	and (.parameters | has("protect") and has("reportUrl"))' "$DOC" >/dev/null || t_fail "$DOC"
# the document's script is cloud-runcommand.sh's, after the line that sets the parameters
jq -r '.mainSteps[0].inputs.runCommand[1:][]' "$DOC" >"$T/ssm.body"
grep -v '^#' "$H/cloud-runcommand.sh" >"$T/rc.body"
t_same "$T/ssm.body" "$T/rc.body"

# SSM checks each value against the parameter's allowedPattern (refusing the command when it
# does not match), then renders {{ name }} with it; so does this.
ssm_render() { # protect url [bin-url bin-sha256]
	jq -e -r --arg p "$1" --arg u "$2" --arg b "${3:-}" --arg s "${4:-}" '
		.parameters.protect.allowedPattern as $pp | .parameters.reportUrl.allowedPattern as $up |
		.parameters.binUrl.allowedPattern as $bp | .parameters.binSha256.allowedPattern as $sp |
		if ($p | test($pp)) and ($u | test($up)) and ($b | test($bp)) and ($s | test($sp))
		then .mainSteps[0].inputs.runCommand[] |
			gsub("\\{\\{ *protect *\\}\\}"; $p) | gsub("\\{\\{ *reportUrl *\\}\\}"; $u) |
			gsub("\\{\\{ *binUrl *\\}\\}"; $b) | gsub("\\{\\{ *binSha256 *\\}\\}"; $s)
		else false end' "$DOC"
}
t_case "SSM document: rendered and run, it installs the policy, repairs and reports"
R=$T/ssm
locked "$R"
ssm_render 203.0.113.0/24 "http://127.0.0.1:$PORT/ssm" >"$T/ssm.sh"
SSHRESCUE_ROOT=$R sh "$T/ssm.sh" >"$T/out" 2>&1 || t_fail "exit $?: $(tail -n 5 "$T/out")"
judge "$R"
t_grep "^url = http://127.0.0.1:$PORT/ssm$" "$R/etc/sshrescue/policy.ini"
ls "$T"/rec/*.json | xargs -n1 jq -r .path | grep -qx /ssm || t_fail "no report at /ssm"

t_without_sshrescue "SSM document: a parameter with shell metacharacters does not match allowedPattern"
for bad in "203.0.113.0/24'; touch $T/pwned; '" '$(touch /tmp/x)' '203.0.113.0/24
x'; do
	ssm_render "$bad" "" >"$T/ssm.sh" 2>&1 && t_fail "rendered with protect=$bad"
done
ssm_render 203.0.113.0/24 "http://x/';touch $T/pwned;'" >"$T/ssm.sh" 2>&1 && t_fail "rendered with a quote in reportUrl"

t_without_sshrescue "run-command script: values with shell or ini metacharacters are refused (exit 16)"
R=$T/rc-bad
locked "$R"
# a stand-in for sshrescue that records being run: the script must refuse before it
printf '#!/bin/sh\ntouch "%s"\n' "$T/ran" >"$T/record-stub"
chmod +x "$T/record-stub"
SSHRESCUE_ROOT=$R SSHRESCUE=$T/record-stub protect="203.0.113.0/24; touch $T/pwned" sh "$H/cloud-runcommand.sh" >"$T/out" 2>&1
rc=$?
[ "$rc" = 16 ] || t_fail "exit $rc: $(cat "$T/out")"
SSHRESCUE_ROOT=$R SSHRESCUE=$T/record-stub sh "$H/cloud-runcommand.sh" 203.0.113.0/24 "$(printf 'http://x/\n[agent]\nprotect =')" >"$T/out" 2>&1
rc=$?
[ "$rc" = 16 ] || t_fail "exit $rc with a newline in the URL: $(cat "$T/out")"
[ ! -e "$T/pwned" ] || t_fail "a parameter ran as a command"
[ ! -e "$T/ran" ] || t_fail "sshrescue was run with a refused value"
still_locked "$R"

# ---- Azure run-command -------------------------------------------------------------------
t_case "Azure run-command: positional parameters (az vm run-command invoke --parameters)"
R=$T/azure
locked "$R"
SSHRESCUE_ROOT=$R sh "$H/azure-runcommand.sh" 203.0.113.0/24 "" >"$T/out" 2>&1 || t_fail "exit $?: $(tail -n 5 "$T/out")"
judge "$R"

t_case "Azure run-command: parameters as environment (az vm run-command create)"
locked "$R"
SSHRESCUE_ROOT=$R protect=203.0.113.0/24 reportUrl="http://127.0.0.1:$PORT/azure" sh "$H/azure-runcommand.sh" \
	>"$T/out" 2>&1 || t_fail "exit $?: $(tail -n 5 "$T/out")"
judge "$R"
ls "$T"/rec/*.json | xargs -n1 jq -r .path | grep -qx /azure || t_fail "no report at /azure"

t_case "Azure run-command: the demo instance's output fits the 4,096 bytes Azure returns"
# the demo's locked-out instance (tests/demo: hosts.deny, DenyHosts, MaxStartups, iptables,
# fail2ban), its /var put back in place
DEMO_DIR=$T/demo SSHRESCUE=$SSHRESCUE "$TOP/tests/demo" >"$T/demo.log" 2>&1 || t_fail "tests/demo: $(tail -n 5 "$T/demo.log")"
R=$T/azure-demo
cp -a "$T/demo/root" "$R" && cp -a "$T/demo/var/." "$R/var/"
SSHRESCUE_ROOT=$R sh "$H/azure-runcommand.sh" 203.0.113.0/24 "http://127.0.0.1:$PORT/azure-demo?sig=s3cret" \
	>"$T/out" 2>&1 || t_fail "exit $?: $(tail -n 5 "$T/out")"
size=$(wc -c <"$T/out")
echo "       azure run-command output on the demo instance: $size bytes"
[ "$size" -le 4096 ] || t_fail "$size bytes of output"
t_no_grep '^SSHRESCUE-REPORT ' "$T/out"
t_no_grep 's3cret' "$T/out"
for p in denyhosts hosts_access fail2ban sshd firewall; do t_grep "^sshrescue: $p: repaired" "$T/out"; done
t_grep "^sshrescue: delivery: delivered to http://127.0.0.1:$PORT/azure-demo" "$T/out"
tail -n 1 "$T/out" | grep -q "^sshrescue: exit status 1; the full report is in $R/var/log/sshrescue/report.json" ||
	t_fail "last line: $(tail -n 1 "$T/out")"
jq -e '[.policies[].findings[]] | length >= 10' "$R/var/log/sshrescue/report.json" >/dev/null ||
	t_fail "the report file is not the full report"

t_without_sshrescue "Azure run-command: the most sshrescue prints still fits; policy lines kept, findings cut"
# sshrescue's own limit: 5 policies, 10 findings and a "... more" line each, lines of any length
# (text from the instance), the machine-readable lines, one delivery line per attempt
cat >"$T/loud-stub" <<'X'
#!/bin/sh
long=$(printf '%0600d' 0)
for p in denyhosts hosts_access fail2ban sshd firewall; do
	echo "sshrescue: $p: repaired (40 findings, 40 fixed); $long" >&2
	for i in 1 2 3 4 5 6 7 8 9 10; do echo "sshrescue:   /etc/x:$i: finding $long" >&2; done
	echo "sshrescue:   ... 30 more (see the report)" >&2
done
for i in 1 2 3; do echo "sshrescue: delivery: attempt $i/3 of report r to http://x/y failed: $long" >&2; done
echo "sshrescue: delivery: delivered to http://x/y after 3 attempts" >&2
for i in 1 2 3 4 5 6 7 8; do echo "SSHRESCUE-REPORT r $i/8 00000000 $long$long$long" >&2; done
exit 1
X
chmod +x "$T/loud-stub"
R=$T/azure-loud
locked "$R"
SSHRESCUE_ROOT=$R SSHRESCUE=$T/loud-stub sh "$H/azure-runcommand.sh" 203.0.113.0/24 "" >"$T/out" 2>&1 ||
	t_fail "exit $?: $(tail -n 5 "$T/out")"
size=$(wc -c <"$T/out")
echo "       azure run-command output at sshrescue's most: $size bytes"
[ "$size" -le 4096 ] || t_fail "$size bytes of output"
for p in denyhosts hosts_access fail2ban sshd firewall; do t_grep "^sshrescue: $p: repaired" "$T/out"; done
t_grep '^sshrescue: ([0-9]* more lines in the full report)$' "$T/out"
t_grep '^sshrescue: delivery: delivered to http://x/y after 3 attempts$' "$T/out"
t_no_grep 'SSHRESCUE-REPORT\|attempt 1/3' "$T/out"
tail -n 1 "$T/out" | grep -q "^sshrescue: exit status 1; the full report is in $R/var/log/sshrescue/report.json" ||
	t_fail "last line: $(tail -n 1 "$T/out")"

# ---- GCE startup-script ------------------------------------------------------------------
t_case "GCE startup-script: parameters from the metadata attributes, repair, report"
mkdir -p "$T/md/computeMetadata/v1/instance/attributes"
echo -n 203.0.113.0/24 >"$T/md/computeMetadata/v1/instance/attributes/sshrescue-protect"
echo -n "http://127.0.0.1:$PORT/gce" >"$T/md/computeMetadata/v1/instance/attributes/sshrescue-report-url"
MDPORT=$(python3 "$TOP/tests/integration/http_recorder.py" --free-port)
(cd "$T/md" && exec python3 -m http.server --bind 127.0.0.1 "$MDPORT") >"$T/md.log" 2>&1 &
t_defer "kill $!"
for ((i = 0; i < 100; i++)); do curl -fs "http://127.0.0.1:$MDPORT/" >/dev/null && break; sleep 0.05; done
R=$T/gce
locked "$R"
SSHRESCUE_ROOT=$R GCE_METADATA_HOST=127.0.0.1:$MDPORT sh "$H/gce-startup-script.sh" >"$T/out" 2>&1 ||
	t_fail "exit $?: $(tail -n 5 "$T/out")"
judge "$R"
ls "$T"/rec/*.json | xargs -n1 jq -r .path | grep -qx /gce || t_fail "no report at /gce"
sed -n '/^# ---- cloud-runcommand.sh ----$/,$p' "$H/gce-startup-script.sh" | tail -n +2 >"$T/gce.body"
t_same "$T/gce.body" "$T/rc.body"

# ---- fetch and verify: hooks on an instance without sshrescue ----------------------------
t_without_sshrescue "the fetch-and-verify block of cloud-boothook.sh is cloud-runcommand.sh's"
fetch_block() { sed -n '/^# ---- fetch and verify/,/^# ---- end of fetch and verify/p' "$1" | sed 1d; }
fetch_block "$H/cloud-runcommand.sh" >"$T/fb1"
fetch_block "$H/cloud-boothook.sh" >"$T/fb2"
[ -s "$T/fb1" ] || t_fail "no fetch block in cloud-runcommand.sh"
t_same "$T/fb1" "$T/fb2"

# The binary served on loopback (the static one when it is built: what an operator serves)
SRV=$T/srv
mkdir -p "$SRV"
BIN=$TOP/build/static/sshrescue-x86_64
# (under VALGRIND=1, $SSHRESCUE is a wrapper; the instance gets the program itself)
[ -x "$BIN" ] || BIN=${SSHRESCUE_BIN:-$SSHRESCUE}
cp "$BIN" "$SRV/sshrescue-x86_64"
SHA=$(sha256sum "$SRV/sshrescue-x86_64" | cut -d ' ' -f 1)
BAD=$(printf '%s' "$SHA" | tr 0-9a-f 1-9a-f0)
printf 'not sshrescue\n' >"$SRV/evil"
SPORT=$(python3 "$TOP/tests/integration/http_recorder.py" --free-port)
(cd "$SRV" && exec python3 -m http.server --bind 127.0.0.1 "$SPORT") >"$T/srv.log" 2>&1 &
t_defer "kill $!"
for ((i = 0; i < 100; i++)); do curl -fs "http://127.0.0.1:$SPORT/" >/dev/null && break; sleep 0.05; done
BURL=http://127.0.0.1:$SPORT/sshrescue-x86_64
served() { grep -c "GET /sshrescue-x86_64 " "$T/srv.log"; }

# an instance's PATH with the shell tools and one way to fetch (or none); never a sshrescue
instance_path() { # name fetcher...
	local d=$T/path-$1 t
	shift
	mkdir -p "$d"
	for t in mkdir rm chmod mv cut sha256sum mktemp awk tr cat date sed grep head ls env sh "$@"; do
		ln -sf "$(command -v "$t")" "$d/$t"
	done
	echo "$d"
}
P_CURL=$(instance_path curl curl)
P_PY=$(instance_path py python3)
P_NONE=$(instance_path none)
P_WGET=$(instance_path wget)
ln -sf /bin/busybox "$P_WGET/wget"

for how in curl wget py; do
	t_case "run-command on an instance without sshrescue: fetched with $how, sha256 right, repaired"
	R=$T/fetch-$how
	locked "$R"
	p=P_${how^^}
	n0=$(served)
	env -u SSHRESCUE PATH="${!p}" SSHRESCUE_ROOT="$R" sh "$H/azure-runcommand.sh" 203.0.113.0/24 "" "$BURL" "$SHA" \
		>"$T/out" 2>&1 || t_fail "exit $?: $(tail -n 5 "$T/out")"
	judge "$R"
	[ "$(served)" = $((n0 + 1)) ] || t_fail "$(($(served) - n0)) downloads"
	[ "$(stat -c %a "$R/var/lib/sshrescue/sshrescue")" = 700 ] || t_fail "mode $(stat -c %a "$R/var/lib/sshrescue/sshrescue")"
	cmp -s "$R/var/lib/sshrescue/sshrescue" "$BIN" || t_fail "the kept binary is not the served one"
done

t_without_sshrescue "run-command: a binary whose sha256 differs is not run; the message says so"
R=$T/fetch-bad
locked "$R"
env -u SSHRESCUE PATH="$P_CURL" SSHRESCUE_ROOT="$R" sh "$H/azure-runcommand.sh" 203.0.113.0/24 "" "$BURL" "$BAD" \
	>"$T/out" 2>&1
rc=$?
[ "$rc" = 8 ] || t_fail "exit $rc, want 8"
t_grep "^sshrescue: $BURL has sha256 $SHA, not $BAD: refusing to run it$" "$T/out"
still_locked "$R"
[ ! -e "$R/var/lib/sshrescue/sshrescue" ] && [ ! -e "$R/var/lib/sshrescue/sshrescue.part" ] ||
	t_fail "the unverified download was kept"
[ ! -e "$R/var/log/sshrescue/report.json" ] || t_fail "sshrescue ran"

t_case "run-command: a tampered kept binary is fetched again; something else at the URL is refused"
R=$T/fetch-ok
locked "$R"
env -u SSHRESCUE PATH="$P_CURL" SSHRESCUE_ROOT="$R" sh "$H/azure-runcommand.sh" 203.0.113.0/24 "" "$BURL" "$SHA" >"$T/out" 2>&1
printf '#!/bin/sh\ntouch %s/tampered-ran\n' "$T" >"$R/var/lib/sshrescue/sshrescue"
locked "$R"
n0=$(served)
env -u SSHRESCUE PATH="$P_CURL" SSHRESCUE_ROOT="$R" sh "$H/azure-runcommand.sh" 203.0.113.0/24 "" "$BURL" "$SHA" \
	>"$T/out" 2>&1 || t_fail "exit $?: $(tail -n 5 "$T/out")"
[ ! -e "$T/tampered-ran" ] || t_fail "the tampered binary ran"
[ "$(served)" = $((n0 + 1)) ] || t_fail "not fetched again"
judge "$R"
locked "$R"
rm -f "$R/var/lib/sshrescue/sshrescue"
env -u SSHRESCUE PATH="$P_CURL" SSHRESCUE_ROOT="$R" sh "$H/azure-runcommand.sh" 203.0.113.0/24 "" \
	"http://127.0.0.1:$SPORT/evil" "$SHA" >"$T/out" 2>&1 && t_fail "exit 0 with another file at the URL"
t_grep 'refusing to run it' "$T/out"
still_locked "$R"

t_without_sshrescue "run-command: a sha256 that is not 64 hex digits, a URL that fails, no way to fetch: clear refusals"
R=$T/fetch-err
locked "$R"
env -u SSHRESCUE PATH="$P_CURL" SSHRESCUE_ROOT="$R" sh "$H/azure-runcommand.sh" 203.0.113.0/24 "" "$BURL" "${SHA:0:40}" >"$T/out" 2>&1
[ $? = 8 ] && t_grep 'must be 64 hexadecimal digits' "$T/out"
env -u SSHRESCUE PATH="$P_CURL" SSHRESCUE_ROOT="$R" sh "$H/azure-runcommand.sh" 203.0.113.0/24 "" "http://127.0.0.1:$SPORT/nothing" "$SHA" >"$T/out" 2>&1
[ $? = 8 ] && t_grep "fetching http://127.0.0.1:$SPORT/nothing failed" "$T/out"
env -u SSHRESCUE PATH="$P_NONE" SSHRESCUE_ROOT="$R" sh "$H/azure-runcommand.sh" 203.0.113.0/24 "" "$BURL" "$SHA" >"$T/out" 2>&1
[ $? = 8 ] && t_grep 'no curl, wget or python3 on this instance' "$T/out"
still_locked "$R"

t_case "boothook on an instance without sshrescue: right sha256 repairs; a wrong one runs nothing, retried"
boothook() { # sha256 -> $T/boothook-bin.sh
	sed -e "s|^SSHRESCUE_BIN_URL=\"\"|SSHRESCUE_BIN_URL=\"$BURL\"|" \
		-e "s|^SSHRESCUE_BIN_SHA256=\"\"|SSHRESCUE_BIN_SHA256=\"$1\"|" "$H/cloud-boothook.sh" >"$T/boothook-bin.sh"
}
R=$T/boot-fetch
locked "$R"
boothook "$BAD"
env -u SSHRESCUE PATH="$P_CURL" SSHRESCUE_ROOT="$R" sh "$T/boothook-bin.sh" >"$T/out" 2>&1 || t_fail "boothook exit $?"
t_grep 'refusing to run it' "$T/out"
t_grep 'nothing run; it tries again at the next boot' "$T/out"
still_locked "$R"
[ ! -e "$R/var/lib/sshrescue/boot-done" ] || t_fail "recorded as done"
boothook "$SHA"
env -u SSHRESCUE PATH="$P_WGET" SSHRESCUE_ROOT="$R" sh "$T/boothook-bin.sh" >"$T/out" 2>&1 || t_fail "boothook exit $?"
judge "$R"
t_grep 'exit 1$' "$R/var/lib/sshrescue/boot-done"

t_case "cloud-config on an instance without sshrescue: right sha256 repairs; a wrong one runs nothing"
cloudconfig() { # sha256 -> $T/cc-bin.sh, the script cloud-init makes of the edited user data
	sed -e "s|^    SSHRESCUE_BIN_URL=\"\"|    SSHRESCUE_BIN_URL=\"$BURL\"|" \
		-e "s|^    SSHRESCUE_BIN_SHA256=\"\"|    SSHRESCUE_BIN_SHA256=\"$1\"|" "$H/cloud-config.yaml" >"$T/cc-bin.yaml"
	cc_script "$T/cc-bin.yaml" >"$T/cc-bin.sh"
}
R=$T/cc-fetch
locked "$R"
cloudconfig "$BAD"
env -u SSHRESCUE PATH="$P_PY" SSHRESCUE_ROOT="$R" sh "$T/cc-bin.sh" >"$T/out" 2>&1 || t_fail "bootcmd exit $?"
t_grep 'refusing to run it' "$T/out"
still_locked "$R"
[ ! -e "$R/var/lib/sshrescue/sshrescue" ] || t_fail "the refused binary was kept"
cloudconfig "$SHA"
env -u SSHRESCUE PATH="$P_CURL" SSHRESCUE_ROOT="$R" sh "$T/cc-bin.sh" >"$T/out" 2>&1 || t_fail "bootcmd exit $?"
judge "$R"
t_grep '^protect = 203.0.113.0/24$' "$R/etc/sshrescue/policy.ini"
t_grep 'exit 1$' "$R/var/lib/sshrescue/boot-done"

t_case "SSM document and GCE startup-script on an instance without sshrescue: fetched, verified, repaired"
R=$T/ssm-fetch
locked "$R"
ssm_render 203.0.113.0/24 "" "$BURL" "$BAD" >"$T/ssm.sh" || t_fail "render"
env -u SSHRESCUE PATH="$P_PY" SSHRESCUE_ROOT="$R" sh "$T/ssm.sh" >"$T/out" 2>&1 && t_fail "SSM ran with a wrong sha256"
t_grep 'refusing to run it' "$T/out"
still_locked "$R"
ssm_render 203.0.113.0/24 "" "$BURL" "$SHA" >"$T/ssm.sh" || t_fail "render"
env -u SSHRESCUE PATH="$P_PY" SSHRESCUE_ROOT="$R" sh "$T/ssm.sh" >"$T/out" 2>&1 || t_fail "exit $?: $(tail -n 5 "$T/out")"
judge "$R"
ssm_render 203.0.113.0/24 "" "$BURL" "${SHA}0" >/dev/null 2>&1 && t_fail "a 65-digit binSha256 matched allowedPattern"
R=$T/gce-fetch
locked "$R"
echo -n "$BURL" >"$T/md/computeMetadata/v1/instance/attributes/sshrescue-bin-url"
echo -n "$SHA" >"$T/md/computeMetadata/v1/instance/attributes/sshrescue-bin-sha256"
env -u SSHRESCUE PATH="$P_CURL" SSHRESCUE_ROOT="$R" GCE_METADATA_HOST=127.0.0.1:$MDPORT sh "$H/gce-startup-script.sh" \
	>"$T/out" 2>&1 || t_fail "exit $?: $(tail -n 5 "$T/out")"
judge "$R"
cmp -s "$R/var/lib/sshrescue/sshrescue" "$BIN" || t_fail "GCE: not the served binary"

# ---- initramfs-tools, dracut -------------------------------------------------------------
S=$H/initramfs-tools/scripts/local-premount/sshrescue
t_without_sshrescue "initramfs-tools: without 'sshrescue' on the kernel command line nothing runs"
R=$T/initramfs
locked "$R"
echo "BOOT_IMAGE=/vmlinuz root=/dev/mapper/vg0-root ro quiet" >"$T/cmdline"
rm -f "$T/ran"
SSHRESCUE_CMDLINE=$T/cmdline SSHRESCUE_TEST_ROOT=$R ROOT=/dev/mapper/vg0-root SSHRESCUE=$T/record-stub \
	sh "$S" >"$T/out" 2>&1
[ ! -e "$T/ran" ] || t_fail "sshrescue was run"
still_locked "$R"

t_case "initramfs-tools: with 'sshrescue sshrescue.protect=...' the root is repaired before it is mounted"
echo "BOOT_IMAGE=/vmlinuz root=/dev/mapper/vg0-root ro sshrescue sshrescue.protect=203.0.113.0/24" >"$T/cmdline"
SSHRESCUE_CMDLINE=$T/cmdline SSHRESCUE_TEST_ROOT=$R ROOT=/dev/mapper/vg0-root SSHRESCUE=$SSHRESCUE \
	sh "$S" >"$T/out" 2>&1 || t_fail "exit $?"
judge "$R"
t_grep 'exited 1' "$T/out"
sh "$S" prereqs >/dev/null || t_fail "prereqs"

t_without_sshrescue "initramfs-tools hook and dracut module are valid shell"
sh -n "$H/initramfs-tools/hooks/sshrescue" || t_fail "initramfs-tools hook"
bash -n "$H/dracut/90sshrescue/module-setup.sh" || t_fail "dracut module-setup.sh"
sh -n "$H/dracut/90sshrescue/sshrescue-pre-mount.sh" || t_fail "dracut pre-mount hook"
t_done
