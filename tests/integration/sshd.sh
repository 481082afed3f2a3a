#!/usr/bin/env bash
# tests/integration/sshd.sh: the sshd policy judged by Debian 12's own sshd. Each case breaks
# a copy (an overlay) of the cached Debian root the way instances break, runs `sshrescue
# repair`, and asks the real sshd, chrooted into the root: `sshd -T` shows a MaxStartups start
# of at least min_max_startups, every other line of `sshd -T` (and of `sshd -T -C ...` for a
# user a Match block names) is what it was before the break, and `sshd -t` passes.
source "$(dirname "$0")/../lib.sh"

MIN=10
t_precondition "the Debian 12 root fixture (debootstrap) is made"
t_fixture DEBROOT debroot || exit 1
{
	printf '[sshd]\nmin_max_startups = %s\nmax_startups = 10:30:100\n' "$MIN"
	t_disabled hosts_access denyhosts fail2ban firewall
} >"$T/policy.ini"

n=0
# A fresh instance: an overlay over the fixture, with /dev emptied as on a disk (devtmpfs is
# mounted at boot) and the fixture's drop-in directory empty.
new_root() {
	n=$((n + 1))
	local d=$T/c$n
	mkdir -p "$d/upper" "$d/work" "$d/root"
	mount -t overlay overlay -o "lowerdir=$DEBROOT,upperdir=$d/upper,workdir=$d/work" \
		"$d/root" || return 1
	t_defer "umount -l '$d/root'"
	find "$d/root/dev" -mindepth 1 -maxdepth 1 -exec rm -rf {} +
	rm -f "$d/root/etc/ssh/sshd_config.d/"*
	# Settings of the owner that the repair must keep.
	printf 'PasswordAuthentication no\nClientAliveInterval 120\n' \
		>"$d/root/etc/ssh/sshd_config.d/00-owner.conf"
	printf 'Port 2222\nPort 22\n' >>"$d/root/etc/ssh/sshd_config"
	R=$d/root
}

sshd_run() { t_in_root "$1" /usr/sbin/sshd "${@:2}"; }

# sshd -T, global and for user bob from 192.0.2.7, without the lines named in $1 (regex).
effective() { # root exclude-regex out
	{
		sshd_run "$1" -T || echo "sshd -T failed"
		echo "--- -C user=bob"
		sshd_run "$1" -T -C user=bob,host=h.example,addr=192.0.2.7 || echo "sshd -T -C failed"
	} 2>&1 | grep -Ev "$2" >"$3"
}

baseline() { effective "$R" '^(maxstartups|persourcemaxstartups) ' "$T/base.T"; }

# What the real sshd does with connections: started in the root on 127.0.0.1:2022 of a private
# network namespace; a first client gets the banner and waits unauthenticated, a second one
# is dropped ("Exceeded MaxStartups"), and once the first is gone a lone client gets in.
# With "alone-refused" even the first client gets no banner.
sshd_banner_judge() { # root [alone-refused]
	JUDGE_MODE=${2:-} t_root_ns -n "$1" '
		chroot "$1" /usr/sbin/sshd -D -e -p 2022 -o ListenAddress=127.0.0.1 2>/dev/null &
		pid=$!
		python3 - <<"PY"
import os, socket, sys, time
def conn():
    for _ in range(100):
        try:
            return socket.create_connection(("127.0.0.1", 2022), timeout=5)
        except OSError:
            time.sleep(0.1)
    sys.exit("sshd is not listening")
def first(s):
    try:
        return s.recv(64)
    except OSError:
        return b""
a = conn()
ba = first(a)
b = conn()
bb = first(b)
b.close()
a.close()
time.sleep(1)
c = conn()
bc = first(c)
c.close()
print("first:", ba[:7], "second:", bb[:20], "alone:", bc[:7])
if os.environ.get("JUDGE_MODE") == "alone-refused":
    ok = not ba.startswith(b"SSH-2.0") and not bc.startswith(b"SSH-2.0")
else:
    ok = ba.startswith(b"SSH-2.0") and not bb.startswith(b"SSH-2.0") and bc.startswith(b"SSH-2.0")
sys.exit(0 if ok else 1)
PY
		rc=$?
		kill $pid
		exit $rc' >"$T/judge.out" 2>&1 ||
		{ t_fail "sshd did not behave as the finding says: $(cat "$T/judge.out")"; return 1; }
}

# The judges after a repair.
judge() {
	local start
	sshd_run "$R" -t >"$T/t.out" 2>&1 || { t_fail "sshd -t fails after repair"; sed 's/^/       | /' "$T/t.out"; return 1; }
	start=$(sshd_run "$R" -T 2>/dev/null | sed -n 's/^maxstartups \([0-9]*\):.*/\1/p')
	[ -n "$start" ] && [ "$start" -ge "$MIN" ] || { t_fail "maxstartups start '$start' < $MIN"; return 1; }
	effective "$R" '^(maxstartups|persourcemaxstartups) ' "$T/after.T"
	t_same "$T/base.T" "$T/after.T"
}

repair() { t_expect_exit "${1:-1}" "$SSHRESCUE" --root "$R" --policy "$T/policy.ini" repair; }

DROP=etc/ssh/sshd_config.d

t_case "a drop-in lowering MaxStartups is raised, nothing else changes"
new_root && baseline
echo 'MaxStartups 2:30:10' >"$R/$DROP/50-low.conf"
cp "$R/$DROP/50-low.conf" "$T/low.before"
repair && judge
t_grep '^MaxStartups 10:30:100$' "$R/$DROP/50-low.conf"

t_case "check reports the low MaxStartups as a risk (a lone client gets in) and writes nothing"
new_root && baseline
echo 'MaxStartups 3' >"$R/$DROP/50-low.conf"
t_tree_sum "$R" >"$T/sum.before"
t_expect_exit 0 "$SSHRESCUE" --root "$R" --policy "$T/policy.ini" check
t_tree_sum "$R" >"$T/sum.after"
t_same "$T/sum.before" "$T/sum.after"
t_grep 'risk: .*MaxStartups 3: when 3 other unauthenticated connections are open' "$T/err"

t_case "strict = yes: the same risk makes check exit 4"
{ cat "$T/policy.ini"; printf '[agent]\nstrict = yes\n'; } >"$T/strict.ini"
t_expect_exit 4 "$SSHRESCUE" --root "$R" --policy "$T/strict.ini" check --json &&
	jq -e '[.policies[] | select(.name == "sshd") | .findings[] | .severity] == ["risk"]' \
		"$T/out" >/dev/null || t_fail "severities: $(jq -c '[.policies[].findings[].severity]' "$T/out")"

t_case "MaxStartups 1: the real sshd lets a lone client in, refuses one while another waits"
new_root
echo 'MaxStartups 1' >"$R/$DROP/50-one.conf"
t_expect_exit 0 "$SSHRESCUE" --root "$R" --policy "$T/policy.ini" check
t_grep 'risk: .*MaxStartups 1: when 1 other unauthenticated connection is open' "$T/err"
sshd_banner_judge "$R"

t_case "PerSourceMaxStartups 0 refuses every connection: a lockout"
new_root
echo 'PerSourceMaxStartups 0' >"$R/$DROP/50-ps0.conf"
t_expect_exit 4 "$SSHRESCUE" --root "$R" --policy "$T/policy.ini" check --json
jq -e '[.policies[] | select(.name == "sshd") | .findings[] | .severity] == ["lockout"]' "$T/out" \
	>/dev/null || t_fail "severities: $(jq -c '[.policies[].findings[].severity]' "$T/out")"
sshd_banner_judge "$R" alone-refused

t_case "main file and drop-in both set it: both are made safe (first-wins and last-wins)"
new_root && baseline
echo 'MaxStartups 5' >"$R/$DROP/50-low.conf"
echo 'MaxStartups 3:30:20' >>"$R/etc/ssh/sshd_config"
cp "$R/etc/ssh/sshd_config" "$T/main.before"
repair && judge
t_grep '^MaxStartups 10:30:100$' "$R/$DROP/50-low.conf"
t_grep '^MaxStartups 10:30:100$' "$R/etc/ssh/sshd_config"
# Every other line of the main file is byte for byte what it was.
diff <(grep -v '^MaxStartups' "$T/main.before") <(grep -v '^MaxStartups' "$R/etc/ssh/sshd_config") >/dev/null ||
	t_fail "lines other than MaxStartups changed in sshd_config"

t_case "undo puts both files back; a second repair changes nothing"
! cmp -s "$T/main.before" "$R/etc/ssh/sshd_config" || t_fail "the first repair changed nothing"
cp "$R/etc/ssh/sshd_config" "$T/main.repaired"
t_expect_exit 0 "$SSHRESCUE" --root "$R" --policy "$T/policy.ini" repair
t_same "$T/main.repaired" "$R/etc/ssh/sshd_config"
t_expect_exit 0 "$SSHRESCUE" --root "$R" --policy "$T/policy.ini" undo
t_same "$T/main.before" "$R/etc/ssh/sshd_config"
t_grep '^MaxStartups 5$' "$R/$DROP/50-low.conf"

t_case "MaxStartups=2 is raised in place"
new_root && baseline
printf 'MaxStartups=2\n' >>"$R/etc/ssh/sshd_config"
repair && judge
t_grep '^MaxStartups=10:30:100$' "$R/etc/ssh/sshd_config"

t_case "a malformed MaxStartups (sshd refuses to start) is replaced"
new_root && baseline
printf 'MaxStartups 10:30\n' >"$R/$DROP/50-bad.conf"
sshd_run "$R" -t >/dev/null 2>&1 && t_fail "the broken config passes sshd -t: the case proves nothing"
repair && judge

t_case "MaxStartups inside Match blocks is commented out, global ones raised"
new_root
cp "$R/etc/ssh/sshd_config" "$T/m.main"
printf 'Match User bob\n\tX11Forwarding no\nMatch all\n' >>"$R/etc/ssh/sshd_config"
baseline
{
	echo 'MaxStartups 4'
	cat "$T/m.main"
	printf 'Match User bob\n\tMaxStartups 2\n\tX11Forwarding no\nMatch all\nMaxStartups 1\n'
} >"$R/etc/ssh/sshd_config"
sshd_run "$R" -t >/dev/null 2>&1 && t_fail "MaxStartups in a Match block passes sshd -t: the case proves nothing"
repair && judge
t_grep '^# sshrescue [^:]*: 	MaxStartups 2$' "$R/etc/ssh/sshd_config"

t_case "PerSourceMaxStartups 1 is raised"
new_root && baseline
printf 'PerSourceMaxStartups 1\n' >"$R/$DROP/50-ps.conf"
repair && judge
v=$(sshd_run "$R" -T 2>/dev/null | sed -n 's/^persourcemaxstartups //p')
[ "$v" = none ] || [ "$v" -ge "$MIN" ] 2>/dev/null || t_fail "persourcemaxstartups is $v"

t_case "every private host key 0644: modes set to 0600, keys kept"
new_root && baseline
chmod 0644 "$R"/etc/ssh/ssh_host_*_key
sha256sum "$R"/etc/ssh/ssh_host_*_key >"$T/keys.sum"
sshd_run "$R" -t >/dev/null 2>&1 && t_fail "0644 keys pass sshd -t: the case proves nothing"
repair && judge
for k in "$R"/etc/ssh/ssh_host_*_key; do
	[ "$(stat -c %a "$k")" = 600 ] || t_fail "$k has mode $(stat -c %a "$k")"
done
sha256sum -c --quiet "$T/keys.sum" || t_fail "host keys changed"

t_case "all host keys missing: the instance's ssh-keygen makes new ones"
new_root && baseline
rm -f "$R"/etc/ssh/ssh_host_*
sshd_run "$R" -t >/dev/null 2>&1 && t_fail "no host keys passes sshd -t: the case proves nothing"
repair && judge
for t in rsa ecdsa ed25519; do
	k=$R/etc/ssh/ssh_host_${t}_key
	[ -f "$k" ] && [ "$(stat -c '%a %u' "$k")" = "600 0" ] || { t_fail "$k: missing or wrong mode"; continue; }
	t_in_root "$R" /usr/bin/ssh-keygen -l -f "/etc/ssh/ssh_host_${t}_key" >/dev/null 2>&1 || t_fail "$k is not a key"
done

t_case "a config that fails sshd -t for another reason is reported with sshd's message"
new_root
printf 'NoSuchKeyword yes\n' >"$R/$DROP/50-typo.conf"
t_expect_exit 4 "$SSHRESCUE" --root "$R" --policy "$T/policy.ini" repair
t_grep 'NoSuchKeyword' "$T/err"
t_done
