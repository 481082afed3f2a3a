#!/usr/bin/env bash
# firewall_ipset.sh: iptables rules that match on ipsets (-m set --match-set), judged by the
# persisted sets (/etc/iptables/ipsets, as Debian's ipset-persistent loads it before rules.v4).
# The judges are the real programs: the sets go into a private network namespace with `ipset
# restore -exist` (netfilter-persistent's plugin 10-ipset), the rules with iptables-restore, and
# TCP connections from a protected and an unprotected address must reach (or not) sshd's port.
source "$(dirname "$0")/../lib.sh"

command -v ipset >/dev/null || { t_precondition "ipset is installed (tests/deps)"; t_fail "no ipset"; t_done; exit; }

SRV4=$T_SRV4 PROT4=$T_PROT4 UNPROT4=$T_UNPROT4
POLICY=$T/policy.ini
t_fw_policy "$POLICY"
PROTECT=(--protect 203.0.113.0/24)

t_fw_netns fi 22

reach() { # SRC: 0 when a connection from SRC to port 22 completes the handshake
	ip netns exec "$C" socat -u OPEN:/dev/null "TCP4:$SRV4:22,bind=$1,connect-timeout=0.4" 2>/dev/null
}

# load ROOT: the namespace gets exactly the root's sets and rules, as the boot loads them.
printf '*filter\n:INPUT ACCEPT [0:0]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\nCOMMIT\n' >"$T/empty.v4"
load() {
	ip netns exec "$S" iptables-legacy-restore <"$T/empty.v4"
	ip netns exec "$S" ipset flush 2>/dev/null
	ip netns exec "$S" ipset destroy 2>/dev/null
	if [ -f "$1/etc/iptables/ipsets" ]; then
		ip netns exec "$S" ipset restore -exist <"$1/etc/iptables/ipsets" 2>"$T/load.err" ||
			{ sed 's/^/       ipset: /' "$T/load.err"; return 1; }
	fi
	ip netns exec "$S" iptables-legacy-restore <"$1/etc/iptables/rules.v4" 2>"$T/load.err" ||
		{ sed 's/^/       iptables-restore: /' "$T/load.err"; return 1; }
}

HEAD='*filter
:INPUT ACCEPT [0:0]
:FORWARD ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]'

# mk NAME SETS RULES: a root with the two files
mk() {
	NAME=$1 R=$T/$1
	t_mkroot "$R"
	mkdir -p "$R/etc/iptables"
	printf '%s\n' "$2" >"$R/etc/iptables/ipsets"
	printf '%s\n%s\nCOMMIT\n' "$HEAD" "$3" >"$R/etc/iptables/rules.v4"
	cp "$R/etc/iptables/ipsets" "$T/$1.ipsets.orig"
	cp "$R/etc/iptables/rules.v4" "$T/$1.rules.orig"
}

# repaired TITLE: the usual judgement of a repaired root R: locked out before, check exits 4,
# repair exits 1, then the protected client gets in and the unprotected one stays out.
repaired() {
	local title=$1
	t_precondition "$title: the judge finds the protected client locked out and the other too"
	load "$R" || t_fail "the loader refuses the test's own files"
	! reach $PROT4 || t_fail "the protected client gets in before the repair"
	! reach $UNPROT4 || t_fail "the unprotected client gets in before the repair"
	t_case "$title: check calls it a lockout (exit 4)"
	t_expect_exit 4 "$SSHRESCUE" check --root "$R" --policy "$POLICY" "${PROTECT[@]}"
	t_grep 'lockout: /etc/iptables/rules.v4' "$T/err"
	t_case "$title: after repair the protected client gets in, the unprotected one stays out"
	t_expect_exit 1 "$SSHRESCUE" repair --root "$R" --policy "$POLICY" "${PROTECT[@]}"
	cp "$T/err" "$T/repair.err"
	load "$R" || t_fail "the loaders refuse the repaired files"
	reach $PROT4 || t_fail "the protected client is still locked out"
	! reach $UNPROT4 || t_fail "the unprotected client got in: the repair opened too much"
	t_case "$title: a second check finds nothing"
	! { cmp -s "$T/$NAME.ipsets.orig" "$R/etc/iptables/ipsets" &&
		cmp -s "$T/$NAME.rules.orig" "$R/etc/iptables/rules.v4"; } ||
		t_fail "the repair changed nothing: no repaired file to check"
	t_expect_exit 0 "$SSHRESCUE" check --root "$R" --policy "$POLICY" "${PROTECT[@]}"
}

mk byset 'create blk hash:net family inet hashsize 1024 maxelem 65536
add blk 203.0.113.10
add blk 198.51.100.20' '-A INPUT -m set --match-set blk src -j DROP'
repaired "a set of blocked addresses holding a protected one"
t_case "a set of blocked addresses: the protected element is commented out, the rules stay"
t_same "$T/byset.rules.orig" "$R/etc/iptables/rules.v4"
t_grep '^# sshrescue .*add blk 203.0.113.10$' "$R/etc/iptables/ipsets"
t_grep '^add blk 198.51.100.20$' "$R/etc/iptables/ipsets"

mk wider 'create blk hash:net family inet hashsize 1024 maxelem 65536
add blk 203.0.0.0/8
add blk 198.51.100.0/24
create keep hash:ip family inet' '-A INPUT -p tcp -m set --match-set blk src -m tcp --dport 22 -j REJECT --reject-with tcp-reset'
repaired "a hash:net element wider than the protected network"
t_case "a wider hash:net element gets a nomatch element for the protected network"
t_same "$T/wider.rules.orig" "$R/etc/iptables/rules.v4"
t_grep '^add blk 203.0.113.0/24 nomatch$' "$R/etc/iptables/ipsets"
t_grep '^add blk 203.0.0.0/8$' "$R/etc/iptables/ipsets"

mk shared 'create blk hash:net family inet hashsize 1024 maxelem 65536
add blk 203.0.113.0/24
add blk 198.51.100.0/24' '-A INPUT -p tcp -m set --match-set blk src -m tcp --dport 8080 -j ACCEPT
-A INPUT -m set --match-set blk src -j DROP'
repaired "a set that an ACCEPT rule uses too"
t_case "a set that an ACCEPT rule uses too stays; an accept goes in front of the drop"
t_same "$T/shared.ipsets.orig" "$R/etc/iptables/ipsets"
t_grep '^-A INPUT -s 203.0.113.0/24 -p tcp -m tcp --dport 22 -j ACCEPT$' "$R/etc/iptables/rules.v4"

mk swapped 'create a hash:net family inet
create b hash:net family inet
add b 203.0.113.10
add b 198.51.100.20
swap a b' '-A INPUT -m set --match-set a src -j DROP'
repaired "sets the model cannot follow (swap)"
t_case "sets the model cannot follow: the set is left, an accept goes in front, a risk names the file"
t_same "$T/swapped.ipsets.orig" "$R/etc/iptables/ipsets"
t_grep 'risk: /etc/iptables/ipsets:5: swap of sets is outside the model' "$T/err"

mk okset 'create blk hash:net family inet hashsize 1024 maxelem 65536
add blk 203.0.0.0/8
add blk 203.0.113.0/24 nomatch
create allow hash:ip family inet
add allow 203.0.113.10' '-A INPUT -m set --match-set blk src -j DROP
-A INPUT -p tcp -m tcp --dport 22 -m set ! --match-set allow src -j DROP'
t_precondition "sets that leave the protected network out: the judge lets the protected client in"
load "$R" || t_fail "the loader refuses the test's own files"
reach $PROT4 || t_fail "the protected client is locked out"
t_case "sets that leave the protected network out (nomatch, ! --match-set of an allow set): check says ok"
t_expect_exit 0 "$SSHRESCUE" check --root "$R" --policy "$POLICY" --protect 203.0.113.10/32
t_grep 'firewall: .*saved firewall rules let protected sources reach sshd' "$T/err"

mk iface 'create m hash:net,iface family inet hashsize 1024 maxelem 65536
add m 203.0.113.0/24,v0' '-A INPUT -m set --match-set m src,src -j DROP
-A INPUT -p tcp -m tcp --dport 22 -s 203.0.113.0/24 -j DROP'
t_precondition "a set of a type outside the model: the judge finds the protected client locked out"
load "$R" || t_fail "the loader refuses the test's own files"
! reach $PROT4 || t_fail "the protected client gets in"
t_case "a set of a type outside the model (hash:net,iface): check and repair say unknown (exit 4), nothing changes"
t_expect_exit 4 "$SSHRESCUE" check --root "$R" --policy "$POLICY" "${PROTECT[@]}"
t_grep 'hash:net,iface.*unknown' "$T/err"
t_expect_exit 4 "$SSHRESCUE" repair --root "$R" --policy "$POLICY" "${PROTECT[@]}"
t_same "$T/iface.rules.orig" "$R/etc/iptables/rules.v4"
t_same "$T/iface.ipsets.orig" "$R/etc/iptables/ipsets"

mk missing 'create other hash:net family inet' '-A INPUT -m set --match-set blk src -j DROP'
t_precondition "a set that is not persisted: iptables-restore refuses the rules"
ip netns exec "$S" iptables-legacy-restore <"$T/empty.v4"
ip netns exec "$S" ipset destroy 2>/dev/null
ip netns exec "$S" ipset restore -exist <"$R/etc/iptables/ipsets" || t_fail "ipset refuses the sets"
! ip netns exec "$S" iptables-legacy-restore <"$R/etc/iptables/rules.v4" 2>/dev/null ||
	t_fail "iptables-restore loads a rule naming a set that does not exist"
t_case "a set that is not persisted: the finding says so and the verdict is unknown"
t_expect_exit 4 "$SSHRESCUE" check --root "$R" --policy "$POLICY" "${PROTECT[@]}"
t_grep 'set blk is not among the persisted sets (/etc/iptables/ipsets).*unknown' "$T/err"
rm "$R/etc/iptables/ipsets"
t_expect_exit 4 "$SSHRESCUE" repair --root "$R" --policy "$POLICY" "${PROTECT[@]}"
t_grep 'set blk is not among the persisted sets (no file: /etc/iptables/ipsets' "$T/err"
t_same "$T/missing.rules.orig" "$R/etc/iptables/rules.v4"
t_done
