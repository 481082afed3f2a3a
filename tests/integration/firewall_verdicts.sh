#!/usr/bin/env bash
# firewall_verdicts.sh: firewall rules that sshrescue once called "ok" or "repaired" while the
# owner stayed locked out (issue 15), and constructs outside its model, which must be called
# "unknown". Each case is judged the way firewall.sh judges: the file is loaded with
# iptables-nft-restore or nft -f into a private network namespace, and a TCP connection from a
# protected address (in a second namespace) must reach sshd's port after the repair; check on
# the original must not exit 0 while the judge finds the port closed.
source "$(dirname "$0")/../lib.sh"
type t_precondition >/dev/null 2>&1 || t_precondition() { t_case "$@"; }

SRV4=$T_SRV4 PROT4=$T_PROT4 UNPROT4=$T_UNPROT4
POLICY=$T/policy.ini
t_fw_policy "$POLICY"
PROTECT=(--protect 203.0.113.0/24)

t_fw_netns fv 22 8080

# reach SRC PORT [N]: 0 when N connections in a row (default 1) all complete the handshake.
reach() {
	local i
	for i in $(seq "${3:-1}"); do
		ip netns exec "$C" socat -u OPEN:/dev/null "TCP4:$SRV4:$2,bind=$1,connect-timeout=0.4" 2>/dev/null || return 1
	done
}

# load KIND FILE: the server namespace gets exactly the file's rules (nothing of an earlier
# case). iptables files go through iptables-legacy-restore: iptables-nft-restore 1.8.9 crashes
# on -R.
printf '*raw\n:PREROUTING ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\nCOMMIT\n*mangle\n:PREROUTING ACCEPT [0:0]\n:INPUT ACCEPT [0:0]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n:POSTROUTING ACCEPT [0:0]\nCOMMIT\n*nat\n:PREROUTING ACCEPT [0:0]\n:INPUT ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n:POSTROUTING ACCEPT [0:0]\nCOMMIT\n*filter\n:INPUT ACCEPT [0:0]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\nCOMMIT\n' >"$T/empty.v4"
load() {
	ip netns exec "$S" nft flush ruleset
	ip netns exec "$S" iptables-legacy-restore <"$T/empty.v4"
	if [ "$1" = nft ]; then
		ip netns exec "$S" nft -f "$2" 2>"$T/load.err"
	else
		ip netns exec "$S" iptables-legacy-restore <"$2" 2>"$T/load.err"
	fi || { sed 's/^/       load: /' "$T/load.err"; return 1; }
}

# vcase KIND WANT N TITLE <<<FILE: KIND ipt|nft; WANT repair (check finds it, repair lets the
# protected client in N times in a row, the unprotected client's reach of 8080 is kept) or
# unknown (check and repair say "unknown" and exit with bit 4).
NC=0
vcase() {
	local kind=$1 want=$2 times=$3 title=$4 file f orig
	NC=$((NC + 1))
	R=$T/root-$NC
	t_mkroot "$R"
	if [ "$kind" = nft ]; then f=$R/etc/nftables.conf; else mkdir -p "$R/etc/iptables"; f=$R/etc/iptables/rules.v4; fi
	cat >"$f"
	cp "$f" "$T/orig-$NC"
	t_precondition "$title: the judge finds the protected client locked out"
	load "$kind" "$f" || t_fail "the loader refuses the test's own file"
	! reach $PROT4 22 "$times" || t_fail "the protected client gets in before the repair"
	orig=0
	reach $UNPROT4 8080 && orig=1
	t_case "$title: check does not call it ok"
	t_expect_exit 4 "$SSHRESCUE" check --root "$R" --policy "$POLICY" "${PROTECT[@]}"
	if [ "$want" = unknown ]; then
		t_grep 'unknown' "$T/err"
		t_case "$title: repair leaves it unknown, never repaired"
		t_expect_exit 4 "$SSHRESCUE" repair --root "$R" --policy "$POLICY" "${PROTECT[@]}"
		return
	fi
	t_case "$title: after repair the loader takes the file and the protected client gets in"
	t_expect_exit 1 "$SSHRESCUE" repair --root "$R" --policy "$POLICY" "${PROTECT[@]}"
	load "$kind" "$f" || t_fail "the loader refuses the repaired file"
	reach $PROT4 22 "$times" || t_fail "the protected client is still locked out"
	local now=0
	reach $UNPROT4 8080 && now=1
	[ "$orig" = "$now" ] || t_fail "the unprotected client's reach of port 8080 changed ($orig -> $now)"
	t_case "$title: a second check finds nothing"
	! cmp -s "$T/orig-$NC" "$f" || t_fail "the repair changed nothing: no repaired file to check"
	t_expect_exit 0 "$SSHRESCUE" check --root "$R" --policy "$POLICY" "${PROTECT[@]}"
}

# ---- iptables-save files ----

vcase ipt repair 1 "nat PREROUTING REDIRECT of port 22" <<'EOF'
*nat
:PREROUTING ACCEPT [0:0]
:INPUT ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
:POSTROUTING ACCEPT [0:0]
-A PREROUTING -p tcp -m tcp --dport 22 -j REDIRECT --to-ports 2222
COMMIT
*filter
:INPUT ACCEPT [0:0]
:FORWARD ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
-A INPUT -p tcp -m tcp --dport 22 -j ACCEPT
-A INPUT -p tcp -m tcp --dport 8080 -j DROP
COMMIT
EOF

vcase ipt repair 1 "nat PREROUTING DNAT of port 22 elsewhere" <<'EOF'
*nat
:PREROUTING ACCEPT [0:0]
:INPUT ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
:POSTROUTING ACCEPT [0:0]
-A PREROUTING -s 203.0.113.0/24 -p tcp -m tcp --dport 22 -j DNAT --to-destination 10.99.0.1:22
COMMIT
EOF

vcase ipt repair 1 "-p TCP in capitals" <<'EOF'
*filter
:INPUT ACCEPT [0:0]
:FORWARD ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
-A INPUT -s 203.0.113.0/24 -p TCP -m tcp --dport 22 -j DROP
-A INPUT -p Tcp --dport 8080 -j DROP
COMMIT
EOF

vcase ipt repair 1 "-D INPUT 1 deletes the accept rule" <<'EOF'
*filter
:INPUT DROP [0:0]
:FORWARD ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
-A INPUT -p tcp -m tcp --dport 22 -j ACCEPT
-A INPUT -p tcp -m tcp --dport 8080 -j ACCEPT
-D INPUT 1
COMMIT
EOF

vcase ipt repair 1 "-D by rule, -I, -R, -F, -Z, -P applied in order" <<'EOF'
*filter
:INPUT ACCEPT [0:0]
:FORWARD ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
:old - [0:0]
-A old -p tcp --dport 22 -j ACCEPT
-A INPUT -j old
-F INPUT
-A INPUT -p tcp -m tcp --dport 22 -j ACCEPT
-I INPUT 1 -p tcp -m tcp --dport 8080 -j ACCEPT
-A INPUT -p tcp -m tcp --dport 80 -j ACCEPT
-R INPUT 3 -p tcp -m tcp --dport 81 -j ACCEPT
-D INPUT -p tcp -m tcp --dport 22 -j ACCEPT
-Z INPUT
-P INPUT DROP
COMMIT
EOF

vcase ipt repair 1 "NFQUEUE without --queue-bypass drops" <<'EOF'
*filter
:INPUT ACCEPT [0:0]
:FORWARD ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
-A INPUT -p tcp -m tcp --dport 22 -j NFQUEUE --queue-num 3
-A INPUT -p tcp -m tcp --dport 8080 -j ACCEPT
COMMIT
EOF

vcase ipt repair 6 "-m recent --update --hitcount 4 drops the fourth connection" <<'EOF'
*filter
:INPUT ACCEPT [0:0]
:FORWARD ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
-A INPUT -p tcp -m tcp --dport 22 -m conntrack --ctstate NEW -m recent --set --name SSH --mask 255.255.255.255 --rsource
-A INPUT -p tcp -m tcp --dport 22 -m conntrack --ctstate NEW -m recent --update --seconds 60 --hitcount 4 --name SSH --mask 255.255.255.255 --rsource -j DROP
COMMIT
EOF

vcase ipt repair 4 "-m hashlimit over 1/minute on port 22" <<'EOF'
*filter
:INPUT ACCEPT [0:0]
:FORWARD ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
-A INPUT -p tcp -m tcp --dport 22 --tcp-flags FIN,SYN,RST,ACK SYN -m hashlimit --hashlimit-above 1/min --hashlimit-burst 1 --hashlimit-mode srcip --hashlimit-name ssh -j DROP
COMMIT
EOF

vcase ipt repair 1 "-m connlimit on port 22" <<'EOF'
*filter
:INPUT ACCEPT [0:0]
:FORWARD ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
-A INPUT -p tcp -m tcp --dport 22 -m connlimit --connlimit-above 0 --connlimit-mask 32 --connlimit-saddr -j REJECT --reject-with tcp-reset
COMMIT
EOF

vcase ipt repair 1 "raw PREROUTING drops port 22" <<'EOF'
*raw
:PREROUTING ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
-A PREROUTING -p tcp -m tcp --dport 22 -j DROP
COMMIT
EOF

vcase ipt repair 1 "mangle INPUT drops port 22 in a chain built with -I" <<'EOF'
*mangle
:PREROUTING ACCEPT [0:0]
:INPUT ACCEPT [0:0]
:FORWARD ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
:POSTROUTING ACCEPT [0:0]
-A INPUT -p tcp -m tcp --dport 8080 -j ACCEPT
-I INPUT 1 -p tcp -m tcp --dport 22 -j DROP
COMMIT
EOF

vcase ipt unknown 1 "raw NOTRACK ahead of a state match is unknown" <<'EOF'
*raw
:PREROUTING ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
-A PREROUTING -p tcp -m tcp --dport 22 -j CT --notrack
COMMIT
*filter
:INPUT DROP [0:0]
:FORWARD ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
-A INPUT -m conntrack --ctstate NEW,ESTABLISHED -j ACCEPT
COMMIT
EOF

t_case "a file of 1,000,001 commands is examined, not called refused, and repaired"
R=$T/root-big
t_mkroot "$R"
mkdir -p "$R/etc/iptables"
{
	printf '*filter\n:INPUT ACCEPT [0:0]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n'
	awk 'BEGIN { for (i = 0; i < 1000000; i++) printf "-A INPUT -s 10.%d.%d.%d/32 -j ACCEPT\n", int(i / 65536), int(i / 256) % 256, i % 256 }'
	printf -- '-A INPUT -p tcp -m tcp --dport 22 -j DROP\nCOMMIT\n'
} >"$R/etc/iptables/rules.v4"
t_expect_exit 1 "$SSHRESCUE" repair --root "$R" --policy "$POLICY" "${PROTECT[@]}"
t_no_grep 'refuses' "$T/err"
load ipt "$R/etc/iptables/rules.v4" || t_fail "the loader refuses the repaired file"
reach $PROT4 22 || t_fail "the protected client is still locked out"

# ---- nftables ----

vcase nft repair 1 "nft: delete table, then the table again with policy drop" <<'EOF'
table inet filter {
	chain input {
		type filter hook input priority filter; policy accept;
		tcp dport 22 accept
	}
}
delete table inet filter
table inet filter {
	chain input {
		type filter hook input priority filter; policy drop;
		tcp dport 8080 accept
	}
}
EOF

vcase nft repair 1 "nft: flush chain drops the accept rule" <<'EOF'
table ip filter {
	chain input {
		type filter hook input priority 0; policy drop;
		tcp dport 22 accept
		tcp dport 8080 accept
	}
}
flush chain ip filter input
table ip filter {
	chain input {
		tcp dport 8080 accept
	}
}
EOF

vcase nft repair 1 "nft: redirect to :2222 in a nat prerouting chain" <<'EOF'
table ip nat {
	chain prerouting {
		type nat hook prerouting priority dstnat; policy accept;
		tcp dport 22 redirect to :2222
	}
}
EOF

vcase nft repair 1 "nft: netdev ingress chain with devices = { v0 }" <<'EOF'
table netdev edge {
	chain ingress {
		type filter hook ingress devices = { v0 } priority 0; policy accept;
		ip saddr 203.0.113.0/24 tcp dport 22 drop
	}
}
EOF

vcase nft repair 1 "nft: a netdev chain on lo is valid; the input chain still blocks" <<'EOF'
table netdev lo-only {
	chain ingress {
		type filter hook ingress devices = { lo } priority 0; policy accept;
		tcp dport 8080 drop
	}
}
table inet filter {
	chain input {
		type filter hook input priority -150; policy accept;
		tcp dport 22 drop
	}
}
EOF

vcase nft repair 4 "nft: limit rate over on port 22" <<'EOF'
table inet filter {
	chain input {
		type filter hook input priority filter; policy accept;
		tcp dport 22 ct state new limit rate over 1/minute burst 1 packets drop
	}
}
EOF

vcase nft repair 1 "nft: ct count over on port 22" <<'EOF'
table inet filter {
	chain input {
		type filter hook input priority filter; policy accept;
		tcp dport 22 ct count over 0 reject with tcp reset
	}
}
EOF

vcase nft repair 4 "nft: a meter on port 22" <<'EOF'
table ip filter {
	chain input {
		type filter hook input priority 0; policy accept;
		tcp dport 22 ct state new meter sshm { ip saddr limit rate over 1/minute burst 1 packets } drop
	}
}
EOF

vcase nft repair 1 "nft: ct state new before conntrack (priority raw) matches nothing" <<'EOF'
table inet early {
	chain pre {
		type filter hook prerouting priority raw; policy drop;
		ct state new accept
		tcp dport 8080 accept
	}
}
EOF

vcase nft unknown 1 "nft: notrack ahead of a ct state match is unknown" <<'EOF'
table inet raw {
	chain pre {
		type filter hook prerouting priority raw; policy accept;
		tcp dport 22 notrack
	}
}
table inet filter {
	chain input {
		type filter hook input priority filter; policy drop;
		ct state new,established accept
	}
}
EOF

t_done
