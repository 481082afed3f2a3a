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

t_without_sshrescue "cloud-config: valid YAML that writes the policy and runs sshrescue-boot from bootcmd"
python3 - "$H/cloud-config.yaml" >"$T/cc" 2>&1 <<'PY' || t_fail "$(cat "$T/cc")"
import sys, yaml
text = open(sys.argv[1]).read()
assert text.startswith("#cloud-config\n"), "no #cloud-config header"
d = yaml.safe_load(text)
w = [f for f in d["write_files"] if f["path"] == "/etc/sshrescue/policy.ini"]
assert w and "protect = 203.0.113.0/24" in w[0]["content"], w
assert any("sshrescue-boot" in " ".join(c if isinstance(c, list) else [c]) for c in d["bootcmd"]), d["bootcmd"]
PY

# ---- systemd unit ----------------------------------------------------------------------
t_without_sshrescue "systemd unit: systemd-analyze verify passes; ordered before ssh and fail2ban"
sed "s|^ExecStart=.*|ExecStart=$H/sshrescue-boot|" "$H/sshrescue-repair.service" >"$T/sshrescue-repair.service"
systemd-analyze verify --man=no "$T/sshrescue-repair.service" >"$T/verify" 2>&1 ||
	{ t_fail "systemd-analyze verify"; cat "$T/verify"; }
grep -v -e 'sshrescue-repair.service' -e '^$' "$T/verify" >"$T/verify.other" || true
b=$(sed -n 's/^Before=//p' "$H/sshrescue-repair.service")
for u in ssh.service fail2ban.service; do [[ " $b " == *" $u "* ]] || t_fail "not Before=$u: $b"; done
t_grep '^Type=oneshot$' "$H/sshrescue-repair.service"

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
ssm_render() { # protect url
	jq -e -r --arg p "$1" --arg u "$2" '
		.parameters.protect.allowedPattern as $pp | .parameters.reportUrl.allowedPattern as $up |
		if ($p | test($pp)) and ($u | test($up))
		then .mainSteps[0].inputs.runCommand[] |
			gsub("\\{\\{ *protect *\\}\\}"; $p) | gsub("\\{\\{ *reportUrl *\\}\\}"; $u)
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
