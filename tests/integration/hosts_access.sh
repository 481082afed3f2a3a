#!/usr/bin/env bash
# hosts_access.sh: the hosts_access policy on roots with hosts.allow / hosts.deny of every
# shape, judged by tcpd's own `tcpdmatch -d` in ROOT/etc: after `repair` sshd is granted to
# every protected address, and every other (daemon, client) decision is what it was before.
# Only this policy runs (the others are disabled), so exits and findings are its own.
source "$(dirname "$0")/../lib.sh"

command -v tcpdmatch >/dev/null || { t_case "tcpdmatch is installed (package tcpd)"; t_fail "missing"; exit 1; }
command -v setfattr >/dev/null || { t_case "setfattr is installed (package attr)"; t_fail "missing"; exit 1; }

POLICY=$T/policy.ini
cat >"$POLICY" <<'EOF'
[hosts_access]
enabled = yes
[denyhosts]
enabled = no
[fail2ban]
enabled = no
[firewall]
enabled = no
[sshd]
enabled = no
[report]
console = no
EOF

run() { # exit-want command root protect... (protect as separate --protect args)
	local want=$1 cmd=$2 root=$3
	shift 3
	local args=()
	for p in "$@"; do args+=(--protect "$p"); done
	t_expect_exit "$want" timeout 60 "$SSHRESCUE" "$cmd" --root "$root" --policy "$POLICY" "${args[@]}"
}

# The tree without sshrescue's own report and backups, which every repair run writes.
instance_sum() { t_tree_sum "$1" | grep -v -e ./var/log/sshrescue -e ./var/lib/sshrescue -e "^./var/log "; }

# tcpd's verdict with a timeout (a FIFO in place of a table would block it).
verdict() { # root daemon addr
	(cd "$1/etc" && timeout 10 tcpdmatch -d "$2" "$3" 2>/dev/null | sed -n 's/^access: *//p' | tail -n 1)
}

# One scenario: files, protected networks, probes. A probe "P daemon addr" is a protected
# sshd client (must be granted after); "O daemon addr" any other pair (must not change).
# At least one O probe must be denied before, or the scenario could not catch over-granting.
scenario() { # name allow-file deny-file "protect..." probes...
	local name=$1 allow=$2 deny=$3 protect=$4
	shift 4
	local R=$T/s-$name
	rm -rf "$R"
	t_mkroot "$R"
	if [ "$allow" = - ]; then rm -f "$R/etc/hosts.allow"; else cp "$allow" "$R/etc/hosts.allow"; fi
	cp "$deny" "$R/etc/hosts.deny"
	[ -n "${SETUP:-}" ] && $SETUP "$R"
	chmod 0640 "$R/etc/hosts.allow" 2>/dev/null
	chown 1234:5678 "$R/etc/hosts.allow" 2>/dev/null
	[ -e "$R/etc/hosts.allow" ] && setfattr -n user.x -v keep-me "$R/etc/hosts.allow"
	local -a pro=()
	read -r -a pro <<<"$protect"
	local -A before=()
	local probe kind d a denied_other=0
	for probe in "$@"; do
		read -r kind d a <<<"$probe"
		before[$probe]=$(verdict "$R" "$d" "$a")
		[ "$kind" = O ] && [ "${before[$probe]}" = denied ] && denied_other=1
	done
	local orig=$T/orig-$name
	rm -rf "$orig"
	cp -a "$R" "$orig"

	t_case "$name: check exits 4 and writes nothing"
	local sum
	sum=$(t_tree_sum "$R")
	run 4 check "$R" "${pro[@]}" && t_grep 'would insert' "$T/err"
	[ "$sum" = "$(t_tree_sum "$R")" ] || t_fail "check changed the tree"
	[ "$denied_other" = 1 ] || t_fail "no other pair is denied before: the scenario proves nothing"

	t_case "$name: repair exits 1; tcpd grants sshd to the protected sources"
	run 1 repair "$R" "${pro[@]}"
	for probe in "$@"; do
		read -r kind d a <<<"$probe"
		[ "$kind" = P ] || continue
		[ "${before[$probe]}" = granted ] && t_fail "probe '$probe' was granted before: it proves nothing"
		local v
		v=$(verdict "$R" "$d" "$a")
		[ "$v" = granted ] || t_fail "tcpdmatch $d $a: $v after repair"
	done

	[ -n "${AFTER_REPAIR:-}" ] && $AFTER_REPAIR "$R"

	t_case "$name: every other decision is as it was"
	for probe in "$@"; do
		read -r kind d a <<<"$probe"
		[ "$kind" = O ] || continue
		local v
		v=$(verdict "$R" "$d" "$a")
		[ "$v" = "${before[$probe]}" ] || t_fail "tcpdmatch $d $a: ${before[$probe]} before, $v after"
	done
	cmp -s "$R/etc/hosts.deny" "$orig/etc/hosts.deny" || t_fail "hosts.deny changed"
	t_grep '^# sshrescue .*: grant sshd to the protected sources$' "$R/etc/hosts.allow"
	if [ "$allow" != - ]; then
		# Only the inserted lines differ.
		diff "$orig/etc/hosts.allow" "$R/etc/hosts.allow" | grep '^[<>]' | grep -v '^> # sshrescue \|^> sshd: ' >"$T/diff"
		[ -s "$T/diff" ] && t_fail "hosts.allow changed beyond the inserted lines: $(head -3 "$T/diff")"
		[ "$(stat -c '%a %u %g' "$R/etc/hosts.allow")" = "640 1234 5678" ] ||
			t_fail "hosts.allow metadata: $(stat -c '%a %u %g' "$R/etc/hosts.allow")"
		[ "$(getfattr --only-values -n user.x "$R/etc/hosts.allow" 2>/dev/null)" = keep-me ] ||
			t_fail "hosts.allow lost its xattr"
	fi

	t_case "$name: a second repair exits 0 and changes nothing"
	sum=$(instance_sum "$R")
	local runs
	runs=$(ls "$R/var/lib/sshrescue/backups" 2>/dev/null | wc -l)
	[ "$runs" = 1 ] || t_fail "the first repair made $runs backup runs, not 1"
	run 0 repair "$R" "${pro[@]}"
	[ "$sum" = "$(instance_sum "$R")" ] || t_fail "the second repair changed the tree"
	[ "$runs" = "$(ls "$R/var/lib/sshrescue/backups" | wc -l)" ] || t_fail "the second repair made backups"

	t_case "$name: undo restores bytes, mode, owner and xattrs"
	t_grep '^# sshrescue .*: grant sshd to the protected sources$' "$R/etc/hosts.allow" # something to undo
	t_expect_exit 0 timeout 60 "$SSHRESCUE" undo --root "$R"
	if [ "$allow" = - ]; then
		[ -e "$R/etc/hosts.allow" ] && t_fail "the hosts.allow we created is still there"
	else
		t_same "$orig/etc/hosts.allow" "$R/etc/hosts.allow"
		[ "$(stat -c '%a %u %g' "$R/etc/hosts.allow")" = "640 1234 5678" ] ||
			t_fail "metadata after undo: $(stat -c '%a %u %g' "$R/etc/hosts.allow")"
		[ "$(getfattr --only-values -n user.x "$R/etc/hosts.allow" 2>/dev/null)" = keep-me ] ||
			t_fail "xattr lost after undo"
	fi
	for probe in "$@"; do
		read -r kind d a <<<"$probe"
		local v
		v=$(verdict "$R" "$d" "$a")
		[ "$v" = "${before[$probe]}" ] || t_fail "after undo, tcpdmatch $d $a: $v, was ${before[$probe]}"
	done
}

F=$T/files
mkdir -p "$F"

# ALL:ALL, a Debian-style commented hosts.allow.
cat >"$F/a.allow" <<'EOF'
# /etc/hosts.allow: list of hosts that are allowed to access the system.
#                   See the manual pages hosts_access(5) and hosts_options(5).
#
vsftpd: 198.51.100.0/255.255.255.0
EOF
printf 'ALL: ALL\n' >"$F/a.deny"
scenario all-all "$F/a.allow" "$F/a.deny" "203.0.113.0/24" \
	"P sshd 203.0.113.0" "P sshd 203.0.113.77" "P sshd 203.0.113.255" \
	"O sshd 198.51.100.7" "O sshd 203.0.114.1" "O vsftpd 203.0.113.77" "O vsftpd 198.51.100.7" \
	"O in.telnetd 203.0.113.5"

# DenyHosts-style entries, continuation lines, nested EXCEPT, masks, prefixes.
cat >"$F/b.deny" <<'EOF'
# hand-written
sshd: 203.0.113.7
sshd: 198.51.100.9
in.ftpd, vsftpd : ALL \
	EXCEPT 10.0.0.0/255.0.0.0 EXCEPT 10.1.
ALL EXCEPT sshd: 192.0.2.
sshd : 203.0.113.128/25 EXCEPT 203.0.113.200
EOF
scenario denyhosts-except - "$F/b.deny" "203.0.113.0/24 10.1.0.0/16" \
	"P sshd 203.0.113.7" "P sshd 203.0.113.129" \
	"O sshd 198.51.100.9" "O sshd 10.1.2.3" "O vsftpd 10.1.2.3" "O vsftpd 10.2.0.1" \
	"O vsftpd 203.0.113.7" "O in.telnetd 192.0.2.5" "O sshd 192.0.2.5" "O sshd 203.0.113.200"

# `: deny` in hosts.allow, `: allow` in hosts.deny, IPv6 networks.
cat >"$F/c.allow" <<'EOF'
sshd: [2001:db8::]/32 : deny
sshd: 203.0.113.0/255.255.255.0 EXCEPT 203.0.113.64/255.255.255.192 : spawn /bin/true : deny
vsftpd: [2001:db8:1::]/48
EOF
cat >"$F/c.deny" <<'EOF'
sshd: 203.0.113.64/26 : allow
ALL: [::]/0 EXCEPT [2001:db8:2::]/48
EOF
scenario options-ipv6 "$F/c.allow" "$F/c.deny" "2001:db8:1::/48 203.0.113.0/26" \
	"P sshd 2001:db8:1::1" "P sshd 2001:db8:1:ffff::5" "P sshd 203.0.113.5" \
	"O sshd 2001:db8:3::1" "O sshd 2001:db8:2::1" "O vsftpd 2001:db8:1::1" "O vsftpd 2001:db8:3::1" \
	"O sshd 203.0.113.70" "O sshd 203.0.113.130"

# Grants with options above the first refusing rule keep matching first; hosts.allow ends
# without a newline (tcpd ignores that last line), so the grant goes before it.
printf 'sshd: 203.0.113.0/255.255.255.128 : spawn /bin/true\nsshd: 203.0.113.250 : deny\nvsftpd: 192.0.2.1' >"$F/h.allow"
printf 'ALL: ALL\n' >"$F/h.deny"
grant_is_second() {
	t_case "allow-broken: the grant sits between the spawn rule and the deny option"
	sed -n 2p "$1/etc/hosts.allow" | grep -q '^# sshrescue ' || t_fail "$(cat "$1/etc/hosts.allow")"
}
AFTER_REPAIR=grant_is_second scenario allow-broken "$F/h.allow" "$F/h.deny" "203.0.113.0/24" \
	"P sshd 203.0.113.200" "P sshd 203.0.113.250" "O sshd 203.0.113.5" "O vsftpd 192.0.2.1" \
	"O sshd 198.51.100.1"

# Every source protected (empty protect): sshd granted to all, other daemons still denied.
printf 'ALL: ALL\n' >"$F/d.deny"
printf 'in.ftpd: LOCAL\n' >"$F/d.allow"
scenario everyone "$F/d.allow" "$F/d.deny" "" \
	"P sshd 192.0.2.1" "P sshd 8.8.8.8" "P sshd 2001:db8::1" "P sshd ::1" \
	"O vsftpd 192.0.2.1" "O in.ftpd 2001:db8::1"

# No newline at the end of hosts.deny: tcpd denies every connection not matched before.
printf 'vsftpd: 192.0.2.1\nsshd: 198.51.100.1' >"$F/e.deny"
scenario missing-newline - "$F/e.deny" "203.0.113.5/32" \
	"P sshd 203.0.113.5" "O sshd 203.0.113.6" "O vsftpd 203.0.113.5" "O vsftpd 192.0.2.1"

# A /file pattern list. tcpdmatch reads the path on this system, sshrescue inside the root:
# both hold the same list.
mkdir -p "$T/lists"
printf '203.0.113.9\n198.51.100.0/255.255.255.0\n' >"$T/lists/blocked"
printf 'sshd: %s/lists/blocked\nvsftpd: %s/lists/blocked\n' "$T" "$T" >"$F/f.deny"
copy_lists() { mkdir -p "$1$T/lists" && cp "$T/lists/blocked" "$1$T/lists/blocked"; }
SETUP=copy_lists scenario pattern-file "$F/a.allow" "$F/f.deny" "203.0.113.0/24" \
	"P sshd 203.0.113.9" "O sshd 198.51.100.3" "O vsftpd 203.0.113.9" "O vsftpd 192.0.2.1"

# A DenyHosts hosts.deny of 100,000 lines with a protected address deep inside.
awk 'BEGIN { for (i = 0; i < 100000; i++) printf "sshd: 10.%d.%d.%d\n", int(i / 65536), int(i / 256) % 256, i % 256;
	print "sshd: 203.0.113.44" }' >"$F/g.deny"
scenario denyhosts-100k - "$F/g.deny" "203.0.113.0/24" \
	"P sshd 203.0.113.44" "O sshd 10.1.134.159" "O sshd 10.0.0.0" "O vsftpd 203.0.113.44"

t_case "a root that already grants sshd: check and repair exit 0 and change nothing"
R=$T/granted
t_mkroot "$R"
printf 'sshd: 203.0.113.0/255.255.255.0\n' >"$R/etc/hosts.allow"
printf 'sshd: 203.0.113.0/24 : allow\nALL: ALL\n' >"$R/etc/hosts.deny"
sum=$(instance_sum "$R")
run 0 check "$R" 203.0.113.0/26 && run 0 repair "$R" 203.0.113.0/24
[ "$sum" = "$(instance_sum "$R")" ] || t_fail "the tree changed"
# ... because the policy looked and found sshd granted, not because nothing ran
t_expect_exit 0 "$SSHRESCUE" check --root "$R" --policy "$POLICY" --protect 203.0.113.0/24 --json &&
	[ -s "$T/out" ] && jq -e '.policies[] | select(.name == "hosts_access") | .status == "ok"' "$T/out" >/dev/null ||
	t_fail "the report does not say hosts_access is ok: $(head -c 300 "$T/out")"
[ -e "$R/var/lib/sshrescue/backups" ] && t_fail "a backup was made"

t_case "a rule that may deny by host name (PARANOID) is repaired; tcpdmatch agrees"
R=$T/paranoid
t_mkroot "$R"
printf 'ALL: PARANOID\nsshd: UNKNOWN\n' >"$R/etc/hosts.deny"
run 4 check "$R" 203.0.113.0/24 && t_grep 'may refuse sshd to 203.0.113.0/24' "$T/err"
[ "$(verdict "$R" sshd 203.0.113.1)" = denied ] || t_fail "tcpdmatch should deny an unnamed client"
run 1 repair "$R" 203.0.113.0/24
[ "$(verdict "$R" sshd 203.0.113.1)" = granted ] || t_fail "not granted after repair"
[ "$(verdict "$R" sshd 198.51.100.1)" = denied ] || t_fail "unprotected client no longer denied"

# ---- files that are not what they should be ----

# Each odd hosts.deny gives a finding in check, and repair grants sshd in hosts.allow, so
# tcpd never opens hosts.deny for a protected client.
odd_deny() { # name setup-command...
	local name=$1
	shift
	local R=$T/odd-$name
	t_mkroot "$R"
	rm -f "$R/etc/hosts.deny"
	"$@" "$R/etc/hosts.deny"
	t_defer "rm -rf '$R'"
	t_case "hosts.deny $name: check gives a finding, no hang"
	local start=$SECONDS
	run 4 check "$R" 203.0.113.0/24 && t_grep '/etc/hosts.deny' "$T/err"
	[ $((SECONDS - start)) -lt 30 ] || t_fail "check took $((SECONDS - start)) s"
	t_case "hosts.deny $name: repair grants sshd before hosts.deny is read"
	run 1 repair "$R" 203.0.113.0/24
	[ "$(verdict "$R" sshd 203.0.113.5)" = granted ] || t_fail "not granted"
	run 0 repair "$R" 203.0.113.0/24
}
mk_fifo() { mkfifo "$1"; }
mk_dir() { mkdir "$1"; }
mk_sparse() { truncate -s 1G "$1"; }
mk_junk() { head -c 65536 /dev/urandom >"$1"; printf '\0\0sshd: 203.0.113.5\n' >>"$1"; }
odd_deny fifo mk_fifo
odd_deny directory mk_dir
odd_deny sparse-1GiB mk_sparse
odd_deny binary-junk mk_junk

t_case "a FIFO hosts.allow is reported and left alone"
R=$T/fifo-allow
t_mkroot "$R"
rm -f "$R/etc/hosts.allow"
mkfifo "$R/etc/hosts.allow"
printf 'ALL: ALL\n' >"$R/etc/hosts.deny"
run 4 repair "$R" 203.0.113.0/24 && t_grep 'cannot insert' "$T/err"
[ -p "$R/etc/hosts.allow" ] || t_fail "hosts.allow is no longer the FIFO"

# ---- symbolic links never lead out of the root ----
OUT=$T/outside
mkdir -p "$OUT"
printf 'ALL: ALL\n' >"$OUT/hosts.deny"
printf '# outside, never to be touched\n' >"$OUT/hosts.allow"
outside_sum=$(t_tree_sum "$OUT")
depth=$(printf '../%.0s' $(seq 1 12))
for kind in absolute dotdot; do
	t_case "hosts.deny symlinked out of the root ($kind) is read inside the root"
	R=$T/link-$kind
	t_mkroot "$R"
	rm -f "$R/etc/hosts.deny" "$R/etc/hosts.allow"
	if [ $kind = absolute ]; then
		ln -s "$OUT/hosts.deny" "$R/etc/hosts.deny"
		ln -s "$OUT/hosts.allow" "$R/etc/hosts.allow"
	else
		ln -s "$depth${OUT#/}/hosts.deny" "$R/etc/hosts.deny"
		ln -s "$depth${OUT#/}/hosts.allow" "$R/etc/hosts.allow"
	fi
	# Inside the root, those paths hold nothing: the outside ALL:ALL must not count.
	run 0 check "$R" 203.0.113.0/24
	t_no_grep 'refuses' "$T/err"
	# With a deny inside the root at the same path, the grant is written inside the root.
	mkdir -p "$R$OUT"
	printf 'sshd: 203.0.113.5\n' >"$R$OUT/hosts.deny"
	printf '# inside\n' >"$R$OUT/hosts.allow"
	run 1 repair "$R" 203.0.113.0/24
	t_grep '^sshd: 203.0.113.0/255.255.255.0$' "$R$OUT/hosts.allow"
	[ "$outside_sum" = "$(t_tree_sum "$OUT")" ] || t_fail "a file outside the root changed"
done
t_done
