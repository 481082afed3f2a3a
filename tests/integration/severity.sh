#!/usr/bin/env bash
# severity.sh: lockout or risk, per finding. DenyHosts' counting files: a protected host whose
# count in hosts, hosts-valid, hosts-root or hosts-restricted is over its DENY_THRESHOLD_* is
# denied again at DenyHosts' next pass (DenyHosts/loginattempt.py get_deny_hosts(): count >
# threshold), a lockout; under it, a risk whose message says how many more failures deny it.
# check exits 0 on risks alone, 4 with a lockout or with [agent] strict = yes.
source "$(dirname "$0")/../lib.sh"

command -v jq >/dev/null || { echo "FAIL severity.sh: jq is missing"; exit 1; }
PROTECT=(--protect 203.0.113.0/24)
DATE='Tue Nov 24 10:00:00 2026'

mk_dh_root() { # root hosts-line [conf-extra]
	local r=$1
	t_mkroot "$r"
	mkdir -p "$r/var/lib/denyhosts"
	printf 'WORK_DIR = /var/lib/denyhosts\nHOSTS_DENY = /etc/hosts.deny\nBLOCK_SERVICE = sshd\n%s' \
		"${3:-}" >"$r/etc/denyhosts.conf"
	printf '%s\n198.51.100.7:40:%s\n' "$2" "$DATE" >"$r/var/lib/denyhosts/hosts"
	printf '203.0.113.0/24\n203.0.113.*\n' >"$r/var/lib/denyhosts/allowed-hosts"
}

severities() { jq -c '[.policies[] | select(.name == "denyhosts") | .findings[] | .severity]' "$T/out"; }

t_case "a protected host with 2 invalid-user failures (threshold 5): a risk, check exits 0"
R=$T/under
mk_dh_root "$R" "203.0.113.5:2:$DATE"
t_expect_exit 0 "$SSHRESCUE" check --root "$R" "${PROTECT[@]}" --json
[ "$(severities)" = '["risk"]' ] || t_fail "severities: $(severities)"
grep -q 'when 4 more failed logins from it are seen, over DENY_THRESHOLD_INVALID = 5' "$T/out" ||
	t_fail "the message does not say when it locks out: $(jq -r '.policies[].findings[].problem' "$T/out")"

t_case "the same with [agent] strict = yes: check exits 4"
printf '[agent]\nstrict = yes\n' >"$T/strict.ini"
t_expect_exit 4 "$SSHRESCUE" check --root "$R" --policy "$T/strict.ini" "${PROTECT[@]}"

t_case "6 invalid-user failures, over DENY_THRESHOLD_INVALID = 5: a lockout, check exits 4"
R=$T/over
mk_dh_root "$R" "203.0.113.5:6:$DATE"
t_expect_exit 4 "$SSHRESCUE" check --root "$R" "${PROTECT[@]}" --json
[ "$(severities)" = '["lockout"]' ] || t_fail "severities: $(severities)"

t_case "the instance's own threshold counts: DENY_THRESHOLD_INVALID = 10 makes 6 a risk"
R=$T/own
mk_dh_root "$R" "203.0.113.5:6:$DATE" 'DENY_THRESHOLD_INVALID = 10
'
t_expect_exit 0 "$SSHRESCUE" check --root "$R" "${PROTECT[@]}" --json
[ "$(severities)" = '["risk"]' ] || t_fail "severities: $(severities)"

t_case "allowed-hosts without the protected network is a risk; repair fixes risks too"
R=$T/allowed
mk_dh_root "$R" "198.51.100.8:1:$DATE"
rm "$R/var/lib/denyhosts/allowed-hosts"
t_expect_exit 0 "$SSHRESCUE" check --root "$R" "${PROTECT[@]}" --json
[ "$(severities)" = '["risk"]' ] || t_fail "severities: $(severities)"
t_expect_exit 1 "$SSHRESCUE" repair --root "$R" "${PROTECT[@]}"
t_grep '^203\.0\.113\.\*$' "$R/var/lib/denyhosts/allowed-hosts"
t_done
