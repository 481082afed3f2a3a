#!/usr/bin/env bash
# firewall_nd.sh: an ip6tables ruleset that accepts sshd's port for the protected network but
# drops IPv6 neighbour discovery (ICMPv6 133-136), without which no connection starts. The judge
# is a real IPv6 connection between two private network namespaces (neighbour caches flushed
# before each attempt): locked out before the repair, in after it, the unprotected client still
# out.
source "$(dirname "$0")/../lib.sh"

SRV6=$T_SRV6 PROT6=$T_PROT6 UNPROT6=$T_UNPROT6
POLICY=$T/policy.ini
t_fw_policy "$POLICY"

t_fw_netns nd 22

reach() { # SRC: 0 when a connection from SRC to port 22 completes, neighbours unknown first
	ip -n "$S" neigh flush all
	ip -n "$C" neigh flush all
	ip netns exec "$C" socat -u OPEN:/dev/null "TCP6:[$SRV6]:22,bind=[$1],connect-timeout=1" 2>/dev/null
}
load() {
	ip netns exec "$S" ip6tables-legacy-restore <"$1" 2>"$T/load.err" ||
		{ sed 's/^/       ip6tables-restore: /' "$T/load.err"; return 1; }
}

R=$T/root
t_mkroot "$R"
mkdir -p "$R/etc/iptables"
F=$R/etc/iptables/rules.v6
cat >"$F" <<'EOF'
*filter
:INPUT DROP [0:0]
:FORWARD DROP [0:0]
:OUTPUT ACCEPT [0:0]
-A INPUT -i lo -j ACCEPT
-A INPUT -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
-A INPUT -s 2001:db8:2::/64 -p tcp -m tcp --dport 22 -j ACCEPT
-A INPUT -j DROP
COMMIT
EOF
cp "$F" "$T/orig"

t_precondition "neighbour discovery dropped: the protected client cannot connect over IPv6"
load "$F" || t_fail "ip6tables-restore refuses the test's own file"
! reach $PROT6 || t_fail "the protected client gets in before the repair"

t_case "a scope without IPv6 leaves the IPv6 rules alone"
t_expect_exit 0 "$SSHRESCUE" repair --root "$R" --policy "$POLICY" --protect 203.0.113.0/24
t_grep 'firewall: ' "$T/err"
t_same "$T/orig" "$F"

t_case "check calls the dropped neighbour discovery a lockout (exit 4), not unknown"
t_expect_exit 4 "$SSHRESCUE" check --root "$R" --policy "$POLICY" --protect 2001:db8:2::/64
t_grep 'lockout: /etc/iptables/rules.v6:8: -j DROP blocks IPv6 neighbour solicitations' "$T/err"
t_no_grep 'unknown' "$T/err"

t_case "after repair the protected client connects over IPv6, the unprotected one does not"
t_expect_exit 1 "$SSHRESCUE" repair --root "$R" --policy "$POLICY" --protect 2001:db8:2::/64
t_grep '^-A INPUT -p ipv6-icmp -m icmp6 --icmpv6-type 135 -j ACCEPT$' "$F"
load "$F" || t_fail "ip6tables-restore refuses the repaired file"
reach $PROT6 || t_fail "the protected client is still locked out"
! reach $UNPROT6 || t_fail "the unprotected client got in"

t_case "a second check finds nothing"
! cmp -s "$T/orig" "$F" || t_fail "the repair changed nothing"
t_expect_exit 0 "$SSHRESCUE" check --root "$R" --policy "$POLICY" --protect 2001:db8:2::/64
t_done
