#!/usr/bin/env bash
# tests/integration/csf.sh: the csf policy on the file formats of ConfigServer Security &
# Firewall (csf.pl of Aetherinox/csf-firewall; CSF is not packaged in Debian, so no csf runs
# here: the expected files are what csf.pl's loaders read, see sshrescue(8), FORMATS): a protected
# address leaves csf.deny (commented out) and csf.tempban (line removed), the protected network
# enters csf.allow and csf.ignore, sshd's port enters TCP_IN; every other line stays.
source "$(dirname "$0")/../lib.sh"

R=$T/root
t_mkroot "$R"
mkdir -p "$R/etc/csf" "$R/var/lib/csf" "$R/etc/ssh"
printf 'Port 2222\n' >"$R/etc/ssh/sshd_config"
cat >"$R/etc/csf/csf.conf" <<'EOF2'
###############################################################################
# SECTION:Initial Settings
###############################################################################
TESTING = "0"
TCP_IN = "20,21,25,53,80,443"
TCP_OUT = "20,21,22,25,53,80,443"
IPV6 = "1"
TCP6_IN = "20,21,22,25,53,80,443,30000:35000"
EOF2
cat >"$R/etc/csf/csf.deny" <<'EOF2'
# csf.deny: one IP per line
203.0.113.5 # lfd: (sshd) Failed SSH login from 203.0.113.5 (XX/-/-): 5 in the last 3600 secs - Mon Dec  1 10:00:00 2026
198.51.100.9 # lfd: (sshd) Failed SSH login from 198.51.100.9 - Mon Dec  1 10:00:01 2026
tcp|in|d=2222|s=203.0.113.6 # manual
192.0.2.0/24 # do not delete
Include /etc/csf/more.deny
EOF2
printf '203.0.113.77 # lfd: in another file\n198.51.100.10\n' >"$R/etc/csf/more.deny"
printf '1796550221|203.0.113.8|22|in|3600|lfd - *Blocked*\n1796550222|198.51.100.11||inout|600|manual\n' \
	>"$R/var/lib/csf/csf.tempban"
printf '# csf.allow\nInclude /etc/csf/cpanel.allow\n10.0.0.0/8 # lan\n' >"$R/etc/csf/csf.allow"
printf '127.0.0.1\n' >"$R/etc/csf/csf.ignore"
cat >"$T/policy.ini" <<'EOF2'
[agent]
protect = 203.0.113.0/24
[firewall]
enabled = no
[sshd]
enabled = no
EOF2
for f in etc/csf/csf.conf etc/csf/csf.deny etc/csf/more.deny var/lib/csf/csf.tempban etc/csf/csf.allow etc/csf/csf.ignore; do
	cp "$R/$f" "$T/$(basename "$f").orig"
done

t_case "check reports the deny, tempban, allow, ignore and TCP_IN problems and writes nothing"
t_tree_sum "$R" >"$T/sum.before"
t_expect_exit 4 "$SSHRESCUE" --root "$R" --policy "$T/policy.ini" check
t_tree_sum "$R" >"$T/sum.after"
t_same "$T/sum.before" "$T/sum.after"
t_grep '203.0.113.5 is denied' "$T/err"
t_grep 'TCP_IN = "20,21,25,53,80,443" does not open' "$T/err"

t_case "repair: protected addresses leave csf.deny, its Include and csf.tempban; others stay"
t_expect_exit 1 "$SSHRESCUE" --root "$R" --policy "$T/policy.ini" repair
t_grep '^# sshrescue [^:]*: 203.0.113.5 # lfd' "$R/etc/csf/csf.deny"
t_grep '^# sshrescue [^:]*: tcp|in|d=2222|s=203.0.113.6 # manual$' "$R/etc/csf/csf.deny"
t_grep '^198.51.100.9 # lfd' "$R/etc/csf/csf.deny"
t_grep '^192.0.2.0/24 # do not delete$' "$R/etc/csf/csf.deny"
t_grep '^# sshrescue [^:]*: 203.0.113.77 # lfd' "$R/etc/csf/more.deny"
t_grep '^198.51.100.10$' "$R/etc/csf/more.deny"
t_no_grep '203.0.113.8' "$R/var/lib/csf/csf.tempban"
t_grep '^1796550222|198.51.100.11||inout|600|manual$' "$R/var/lib/csf/csf.tempban"
# Every line but the commented ones is byte for byte what it was.
sed 's/^# sshrescue [^:]*: //' "$R/etc/csf/csf.deny" >"$T/deny.unmarked"
t_same "$T/csf.deny.orig" "$T/deny.unmarked"

t_case "repair: the protected network is in csf.allow and csf.ignore, sshd's port in TCP_IN"
t_grep '^203.0.113.0/24 # sshrescue [^:]*: protected network of the owner$' "$R/etc/csf/csf.allow"
t_grep '^10.0.0.0/8 # lan$' "$R/etc/csf/csf.allow"
t_grep '^203.0.113.0/24 # ' "$R/etc/csf/csf.ignore"
t_grep '^TCP_IN = "20,21,25,53,80,443,2222"$' "$R/etc/csf/csf.conf"
t_grep '^TCP6_IN = "20,21,22,25,53,80,443,30000:35000,2222"$' "$R/etc/csf/csf.conf"
t_grep '^TCP_OUT = "20,21,22,25,53,80,443"$' "$R/etc/csf/csf.conf"

t_case "a second repair changes nothing; undo puts every file back"
! cmp -s "$T/csf.deny.orig" "$R/etc/csf/csf.deny" || t_fail "the first repair changed nothing"
t_tree_sum "$R/etc/csf" >"$T/sum1"
t_expect_exit 0 "$SSHRESCUE" --root "$R" --policy "$T/policy.ini" repair
t_tree_sum "$R/etc/csf" >"$T/sum2"
t_same "$T/sum1" "$T/sum2"
t_expect_exit 0 "$SSHRESCUE" --root "$R" --policy "$T/policy.ini" undo
for f in etc/csf/csf.conf etc/csf/csf.deny etc/csf/more.deny var/lib/csf/csf.tempban etc/csf/csf.allow etc/csf/csf.ignore; do
	t_same "$T/$(basename "$f").orig" "$R/$f"
done

t_case "no /etc/csf/csf.conf: the policy is skipped"
R2=$T/root2
t_mkroot "$R2"
t_expect_exit 0 "$SSHRESCUE" --root "$R2" --policy "$T/policy.ini" check
t_grep 'csf: skipped; no CSF' "$T/err"

t_done
