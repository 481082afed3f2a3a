#!/usr/bin/env bash
# tests/integration/debian13.sh: what makes a Debian 13 (trixie) sshd refuse its owner, judged by
# the root's own programs: its OpenSSH 10.0 sshd (PerSourcePenalties on by default, sshd-session
# linking libwrap), run chrooted in a private network namespace and asked for its banner from a
# protected and an unprotected address; its tcpd's tcpdmatch; its sshguard 2.4.3 started on the
# repaired blocklist and whitelist. Debian 12 (OpenSSH 9.2) must not get a keyword it refuses.
source "$(dirname "$0")/../lib.sh"
source "$TOP/tests/f2b.sh"

for p in unshare ip python3 chroot; do
	command -v "$p" >/dev/null || { echo "SKIP debian13.sh: $p missing"; exit 0; }
done
DEBROOT13=$("$TOP/tests/fixtures/debroot13") || { echo "FAIL debian13.sh: no Debian 13 root fixture"; exit 1; }

OWNER=203.0.113.5     # inside the protected network
STRANGER=198.51.100.9 # outside it
PROTECT=203.0.113.0/24
PORT=2222

cat >"$T/policy.ini" <<EOF
[agent]
protect = $PROTECT
EOF
# Only the sshd policy, for a run inside the test's namespaces.
{
	printf '[agent]\nprotect = %s\n' "$PROTECT"
	t_disabled hosts_access denyhosts fail2ban firewall sshguard csf
} >"$T/live.ini"
# Only the tcp_wrappers policies (a Debian 13 root has other findings: fail2ban's ignoreip...).
{
	printf '[agent]\nprotect = %s\n' "$PROTECT"
	t_disabled fail2ban sshd firewall sshguard
} >"$T/wrap.ini"

n=0
# A fresh instance: an overlay over a fixture root, /dev emptied as on a disk.
new_root() { # fixture
	n=$((n + 1))
	local d=$T/c$n
	mkdir -p "$d/upper" "$d/work" "$d/root"
	mount -t overlay overlay -o "lowerdir=$1,upperdir=$d/upper,workdir=$d/work" "$d/root" || return 1
	t_defer "umount -l '$d/root'"
	find "$d/root/dev" -mindepth 1 -maxdepth 1 -exec rm -rf {} +
	R=$d/root
}

# A Python client: N connections from SRC that read the banner and close without
# authenticating (each one a "noauth" penalty), then one more; prints BANNER or NOBANNER.
cat >"$T/probe.py" <<'EOF'
import socket, sys, time
src, dst, port, n = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
def one():
    s = socket.socket()
    s.settimeout(5)
    s.bind((src, 0))
    try:
        s.connect((dst, port))
        data = s.recv(256)
    except OSError:
        data = b""
    s.close()
    return data
for _ in range(n):
    one()
    time.sleep(0.05)
time.sleep(0.5)
b = one()
print("BANNER" if b.startswith(b"SSH-") else "NOBANNER", repr(b[:40]))
EOF

# The instance's sshd, chrooted, in new network and mount namespaces whose loopback carries
# the owner's and a stranger's address; provoked by N no-auth connections from SRC, then asked
# for its banner from SRC. Prints BANNER or NOBANNER (and sshd's log to $T/sshd.log).
sshd_banner() { # root src n
	t_root_ns -t 120 -n -a "$OWNER/32" -a "$STRANGER/32" "$1" '
		R=$1 src=$2 n=$3 port=$4 probe=$5 log=$6
		chroot "$R" /usr/sbin/sshd -D -e -p "$port" -o ListenAddress=127.0.0.1 >"$log" 2>&1 &
		pid=$!
		for _ in $(seq 50); do
			python3 -c "import socket; socket.create_connection((\"127.0.0.1\", $port), 1)" \
				2>/dev/null && break
			sleep 0.1
		done
		python3 "$probe" "$src" 127.0.0.1 "$port" "$n"
		kill "$pid"; wait "$pid" 2>/dev/null
		exit 0' "$2" "$3" "$PORT" "$T/probe.py" "$T/sshd.log"
}

repair() { t_expect_exit "${1:-1}" "$SSHRESCUE" --root "$R" --policy "$T/policy.ini" repair; }

# ---- PerSourcePenalties (OpenSSH 9.8+) -----------------------------------------------------

t_case "Debian 13's default sshd penalises a protected address; after repair it still greets it"
new_root "$DEBROOT13"
out=$(sshd_banner "$R" "$OWNER" 30)
case $out in NOBANNER*) ;; *) t_fail "before the repair the owner got a banner after 30 no-auth connections: the case proves nothing ($out)" ;; esac
grep -q 'penalty' "$T/sshd.log" || t_fail "sshd logged no penalty"
repair
t_grep '^PerSourcePenaltyExemptList 203.0.113.0/24$' "$R/etc/ssh/sshd_config"
t_in_root "$R" /usr/sbin/sshd -t >"$T/t.out" 2>&1 || { t_fail "sshd -t fails after the repair"; cat "$T/t.out"; }
out=$(sshd_banner "$R" "$OWNER" 30)
case $out in BANNER*) ;; *) t_fail "after the repair the owner gets no banner: $out"; sed 's/^/       | /' "$T/sshd.log" | tail -5 ;; esac
out=$(sshd_banner "$R" "$STRANGER" 30)
case $out in NOBANNER*) ;; *) t_fail "after the repair a stranger is no longer penalised: $out" ;; esac

t_case "live: a running Debian 13 sshd that penalises the owner greets it right after the repair (reloaded)"
new_root "$DEBROOT13"
echo 'PidFile /var/lib/sshd-test.pid' >"$R/etc/ssh/sshd_config.d/05-pid.conf"
out=$(t_root_ns -t 180 -n -a "$OWNER/32" "$R" '
	R=$1 port=$2 probe=$3 log=$4 rescue=$5 policy=$6 out=$7
	chroot "$R" /usr/sbin/sshd -D -e -p "$port" -o ListenAddress=127.0.0.1 >"$log" 2>&1 &
	pid=$!
	up() {
		for _ in $(seq 50); do
			python3 -c "import socket; socket.create_connection((\"127.0.0.1\", $port), 1)" 2>/dev/null && return 0
			sleep 0.1
		done
	}
	up
	echo "before: $(python3 "$probe" '"$OWNER"' 127.0.0.1 "$port" 30)"
	"$rescue" --root "$R" --live --policy "$policy" repair >"$out" 2>&1
	echo "rc: $?"
	sleep 1
	up
	echo "after: $(python3 "$probe" '"$OWNER"' 127.0.0.1 "$port" 0)"
	kill "$pid"; wait "$pid" 2>/dev/null
	exit 0' "$PORT" "$T/probe.py" "$T/sshd.log" "$SSHRESCUE" "$T/live.ini" "$T/live.out")
case $out in *"before: NOBANNER"*) ;; *) t_fail "the running sshd did not refuse the owner before the repair: the case proves nothing ($out)" ;; esac
case $out in *"rc: 1"*) ;; *) t_fail "repair --live did not exit 1: $out"; sed 's/^/       | /' "$T/live.out" | grep -v SSHRESCUE-REPORT ;; esac
t_grep 'reloaded sshd (pid [0-9]*, SIGHUP)' "$T/live.out"
case $out in *"after: BANNER"*) ;; *) t_fail "the owner gets no banner right after the live repair: $out" ;; esac

t_case "the admin's exempt list (first wins) gets the protected network merged in; over-strict penalties reported"
new_root "$DEBROOT13"
printf 'PerSourcePenaltyExemptList 10.0.0.0/8,!203.0.113.5\nPerSourcePenalties authfail:1h noauth:5m\n' \
	>"$R/etc/ssh/sshd_config.d/40-admin.conf"
printf 'PerSourcePenaltyExemptList 192.0.2.0/24\n' >"$R/etc/ssh/sshd_config.d/50-later.conf"
out=$(sshd_banner "$R" "$OWNER" 3)
case $out in NOBANNER*) ;; *) t_fail "noauth:5m did not refuse the owner before the repair: $out" ;; esac
t_expect_exit 4 "$SSHRESCUE" --root "$R" --policy "$T/policy.ini" check
t_grep 'noauth:300 is over-strict' "$T/err"
repair
t_grep '^PerSourcePenaltyExemptList 10.0.0.0/8,203.0.113.0/24$' "$R/etc/ssh/sshd_config.d/40-admin.conf"
t_grep '^PerSourcePenaltyExemptList 192.0.2.0/24$' "$R/etc/ssh/sshd_config.d/50-later.conf"
t_grep 'over-strict.*kept: the protected networks are exempt' "$T/err"
v=$(t_in_root "$R" /usr/sbin/sshd -T 2>/dev/null | sed -n 's/^persourcepenaltyexemptlist //p')
[ "$v" = "10.0.0.0/8,203.0.113.0/24" ] || t_fail "sshd -T shows persourcepenaltyexemptlist '$v'"
out=$(sshd_banner "$R" "$OWNER" 3)
case $out in BANNER*) ;; *) t_fail "after the repair the owner gets no banner: $out" ;; esac
t_expect_exit 0 "$SSHRESCUE" --root "$R" --policy "$T/policy.ini" repair

# ---- tcp_wrappers: the verdict follows the instance's own sshd binaries ----------------------

t_case "Debian 13: sshd-session links libwrap, hosts.deny refuses the owner; repaired, it greets"
new_root "$DEBROOT13"
readelf -d "$R/usr/lib/openssh/sshd-session" | grep -q 'libwrap' || t_fail "the fixture's sshd-session does not link libwrap"
printf 'sshd: %s\n' "$OWNER" >"$R/etc/hosts.deny"
out=$(sshd_banner "$R" "$OWNER" 0)
case $out in NOBANNER*) ;; *) t_fail "hosts.deny did not refuse the owner before the repair: the case proves nothing ($out)" ;; esac
repair
out=$(sshd_banner "$R" "$OWNER" 0)
case $out in BANNER*) ;; *) t_fail "after the repair the owner gets no banner: $out" ;; esac
[ "$(t_tcpd "$R" sshd "$OWNER")" = granted ] || t_fail "tcpdmatch still denies the owner"

t_case "no sshd binary links libwrap: hosts.deny is information, check exits 0, repair leaves it"
new_root "$DEBROOT13"
# The listener of Debian 13 links no libwrap; an instance whose helpers are such builds too.
cp "$R/usr/sbin/sshd" "$R/usr/lib/openssh/sshd-session"
cp "$R/usr/sbin/sshd" "$R/usr/lib/openssh/sshd-auth"
for b in usr/sbin/sshd usr/lib/openssh/sshd-session usr/lib/openssh/sshd-auth; do
	readelf -d "$R/$b" | grep -q libwrap && t_fail "$b links libwrap: the case proves nothing"
done
printf 'sshd: %s\nALL: ALL\n' "$OWNER" >"$R/etc/hosts.deny"
mkdir -p "$R/var/lib/denyhosts"
printf '%s:7:Mon Dec  1 10:00:00 2026\n' "$OWNER" >"$R/var/lib/denyhosts/hosts"
cp "$R/etc/hosts.deny" "$T/deny.before"
cp "$R/var/lib/denyhosts/hosts" "$T/dh.before"
t_expect_exit 0 "$SSHRESCUE" --root "$R" --policy "$T/wrap.ini" check
t_grep 'hosts_access: skipped; the instance.s sshd does not use tcp_wrappers' "$T/err"
t_grep 'denyhosts: skipped; the instance.s sshd does not use tcp_wrappers' "$T/err"
t_expect_exit 0 "$SSHRESCUE" --root "$R" --policy "$T/wrap.ini" repair
t_same "$T/deny.before" "$R/etc/hosts.deny"
t_same "$T/dh.before" "$R/var/lib/denyhosts/hosts"

# ---- socket-activated sshd: the firewall opens the socket's port ---------------------------

# A TCP listener on PORT and a connect from SRC to DST:PORT, in a network namespace with the
# instance's own nft ruleset loaded by its own nft (chrooted). Prints OPEN or CLOSED.
fw_connect() { # root src dst port
	timeout 60 unshare -n -m bash -c '
		R=$1 src=$2 dst=$3 port=$4
		ip link set lo up
		ip addr add '"$OWNER"'/32 dev lo && ip addr add '"$STRANGER"'/32 dev lo || exit 99
		chroot "$R" /usr/sbin/nft -f /etc/nftables.conf || { echo NFTFAIL; exit 0; }
		python3 -c "
import socket, sys
l = socket.socket(); l.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
l.bind((\"0.0.0.0\", $port)); l.listen(4)
c = socket.socket(); c.settimeout(1); c.bind((\"$src\", 0))
try:
    c.connect((\"$dst\", $port)); print(\"OPEN\")
except OSError:
    print(\"CLOSED\")
"' fw_connect "$@"
}

t_case "ssh.socket with ListenStream=2222 in a drop-in: the firewall repair opens 2222 to the owner"
new_root "$DEBROOT13"
rm -f "$R/etc/systemd/system/multi-user.target.wants/ssh.service"
mkdir -p "$R/etc/systemd/system/sockets.target.wants" "$R/etc/systemd/system/ssh.socket.d"
ln -sf /usr/lib/systemd/system/ssh.socket "$R/etc/systemd/system/sockets.target.wants/ssh.socket"
printf '[Socket]\nListenStream=\nListenStream=2222\n' >"$R/etc/systemd/system/ssh.socket.d/port.conf"
cat >"$R/etc/nftables.conf" <<'EOF'
#!/usr/sbin/nft -f
flush ruleset
table inet filter {
	chain input {
		type filter hook input priority filter; policy drop;
		ct state established,related accept
		tcp dport 22 accept
		tcp dport 80 accept
	}
}
EOF
[ "$(fw_connect "$R" "$OWNER" "$STRANGER" 2222)" = CLOSED ] || t_fail "port 2222 is open before the repair: the case proves nothing"
[ "$(fw_connect "$R" "$OWNER" "$STRANGER" 80)" = OPEN ] || t_fail "the test's ruleset does not load or does not open port 80"
repair
t_grep 'tcp dport 2222 accept' "$R/etc/nftables.conf"
[ "$(fw_connect "$R" "$OWNER" "$STRANGER" 2222)" = OPEN ] || t_fail "the owner cannot reach the socket's port 2222 after the repair"
[ "$(fw_connect "$R" "$STRANGER" "$OWNER" 2222)" = CLOSED ] || t_fail "a stranger reaches port 2222 after the repair"

# ---- sshguard: the root's own sshguard 2.4.3 started on the repaired files -----------------

# Start the instance's sshguard (its script, parser, blocker and nft back end), chrooted in a
# network namespace, reading R/var/log/auth.log; after start-up, append failed logins from the
# owner and a stranger (5 each; 3 reach the default threshold). Prints the addresses in the
# blocked set at start ("start: ...") and after the attacks ("after: ...").
sshguard_blocks() { # root
	t_root_ns -t 60 -n "$1" '
		R=$1
		: >"$R/var/log/auth.log"
		setsid chroot "$R" /usr/sbin/sshguard /var/log/auth.log >"$R/run/sg.log" 2>&1 &
		pid=$!
		blocked() {
			{ chroot "$R" nft list set ip sshguard attackers; chroot "$R" nft list set ip6 sshguard attackers; } 2>/dev/null |
				sed -n "s/.*elements = { \(.*\) }.*/\1/p" | tr -d "," | tr "\n" " "
		}
		for _ in $(seq 50); do chroot "$R" nft list table ip sshguard >/dev/null 2>&1 && break; sleep 0.1; done
		sleep 1
		echo "start: $(blocked)"
		for i in 1 2 3 4 5; do
			for a in '"$OWNER"' 198.51.100.7; do
				echo "Dec  6 11:00:0$i vm sshd[12$i]: Invalid user admin from $a port 4242" >>"$R/var/log/auth.log"
			done
		done
		sleep 2
		echo "after: $(blocked)"
		kill -- -"$pid" 2>/dev/null
		exit 0'
}

t_case "sshguard: the owner leaves the blocklist and enters the whitelist; the real sshguard then blocks strangers only"
new_root "$DEBROOT13"
echo 'BLACKLIST_FILE=120:/var/lib/sshguard/blacklist.db' >>"$R/etc/sshguard/sshguard.conf"
mkdir -p "$R/var/lib/sshguard"
printf '1796550221|100|4|%s\n1796550222|100|4|%s\n' "$OWNER" "$STRANGER" >"$R/var/lib/sshguard/blacklist.db"
out=$(sshguard_blocks "$R")
case $out in *"start: "*"$OWNER"*) ;; *) t_fail "before the repair sshguard does not block the owner at start: the case proves nothing ($out)" ;; esac
repair
t_grep "^# sshrescue [^:]*: 1796550221|100|4|$OWNER\$" "$R/var/lib/sshguard/blacklist.db"
t_grep "^$PROTECT\$" "$R/etc/sshguard/whitelist"
out=$(sshguard_blocks "$R")
case $out in *"$OWNER"*) t_fail "sshguard blocks the owner after the repair: $out" ;; esac
case $out in *"start: "*"$STRANGER"*"after: "*198.51.100.7*) ;; *) t_fail "sshguard no longer blocks strangers: $out" ;; esac
t_expect_exit 0 "$SSHRESCUE" --root "$R" --policy "$T/policy.ini" repair

t_case "sshguard without a whitelist file: one is made and named by WHITELIST_FILE"
new_root "$DEBROOT13"
sed -i '/^WHITELIST_FILE=/d' "$R/etc/sshguard/sshguard.conf"
rm -f "$R/etc/sshguard/whitelist"
repair
t_grep '^WHITELIST_FILE=/etc/sshguard/whitelist$' "$R/etc/sshguard/sshguard.conf"
t_grep "^$PROTECT\$" "$R/etc/sshguard/whitelist"
out=$(sshguard_blocks "$R")
case $out in *"$OWNER"*) t_fail "sshguard blocks the owner after the repair: $out" ;; esac
case $out in *"after: "*198.51.100.7*) ;; *) t_fail "sshguard did not start or blocks no stranger: $out" ;; esac

# ---- OpenSSH 10: no DSA ---------------------------------------------------------------------

t_case "OpenSSH 10 with only a DSA HostKey: an Ed25519 key is made and named, sshd -t passes and greets"
new_root "$DEBROOT13"
rm -f "$R"/etc/ssh/ssh_host_*
ssh-keygen -q -t dsa -N '' -C test -f "$R/etc/ssh/ssh_host_dsa_key"
echo 'HostKey /etc/ssh/ssh_host_dsa_key' >"$R/etc/ssh/sshd_config.d/10-dsa.conf"
t_in_root "$R" /usr/sbin/sshd -t >/dev/null 2>&1 && t_fail "sshd -t passes with a DSA key only: the case proves nothing"
repair
t_grep '^HostKey /etc/ssh/ssh_host_ed25519_key$' "$R/etc/ssh/sshd_config"
t_in_root "$R" /usr/sbin/sshd -t >"$T/t.out" 2>&1 || { t_fail "sshd -t fails after the repair"; sed 's/^/       | /' "$T/t.out"; }
out=$(sshd_banner "$R" "$OWNER" 0)
case $out in BANNER*) ;; *) t_fail "no banner after the repair: $out" ;; esac
t_expect_exit 0 "$SSHRESCUE" --root "$R" --policy "$T/policy.ini" repair

# ---- fail2ban 1.1.0: the root's own server restarted on the repaired database ---------------

# The instance's own fail2ban (tests/f2b.sh, F2B_CHROOT), its stock ban action (Debian 13's
# nftables) in a network namespace of its own; its socket and pid file lie in the root's
# /var/lib/fail2ban, where the root's own fail2ban-client reaches them.
F2B_CHROOT=1

t_case "fail2ban 1.1.0: after the repair the root's own fail2ban restores no ban of the owner, keeps the stranger's, and does not ban the owner again"
new_root "$DEBROOT13"
f2b_test_conf "$R"
: >"$R/var/log/sshd-test.log"
f2b_failures "$R/var/log/sshd-test.log" "$OWNER" 3
f2b_failures "$R/var/log/sshd-test.log" "$STRANGER" 3
if f2b_start "$R"; then
	f2b_wait_banned "$R" "$OWNER" "$STRANGER" || t_fail "the root's fail2ban did not ban both: $(f2b_banned "$R" | tr '\n' ' ')"
	f2b_stop "$R"
fi
repair
if f2b_start "$R"; then
	f2b_wait_banned "$R" "$STRANGER" || t_fail "the stranger's ban was not restored: $(f2b_banned "$R" | tr '\n' ' ')"
	f2b_banned "$R" | grep -qxF "$OWNER" && t_fail "fail2ban restored the owner's ban"
	f2b_failures "$R/var/log/sshd-test.log" "$OWNER" 3
	sleep 3
	f2b_banned "$R" | grep -qxF "$OWNER" && t_fail "fail2ban banned the owner again (ignoreip)"
	f2b_stop "$R"
fi

DEBROOT12=$("$TOP/tests/fixtures/debroot") || { t_fail "no Debian 12 root fixture"; }
# the sshd policy looked and knew the release (not a run that did nothing)
examined_92() {
	[ -s "$T/out" ] && jq -e '.policies[] | select(.name == "sshd") | .note | test("OpenSSH 9\\.2")' \
		"$T/out" >/dev/null || t_fail "the sshd policy did not examine OpenSSH 9.2: $(head -c 200 "$T/out")"
}
t_case "Debian 12's sshd (OpenSSH 9.2) gets no PerSourcePenalty keyword: sshd -t passes"
new_root "$DEBROOT12"
t_expect_exit 0 "$SSHRESCUE" --root "$R" --policy "$T/policy.ini" --json repair && examined_92
t_no_grep 'PerSourcePenalt' "$R/etc/ssh/sshd_config"
t_in_root "$R" /usr/sbin/sshd -t >"$T/t.out" 2>&1 || { t_fail "sshd -t fails on Debian 12"; cat "$T/t.out"; }

t_case "Debian 12's sshd still loads DSA keys: a DSA-only HostKey set is left alone"
new_root "$DEBROOT12"
rm -f "$R"/etc/ssh/ssh_host_*
ssh-keygen -q -t dsa -N '' -C test -f "$R/etc/ssh/ssh_host_dsa_key"
echo 'HostKey /etc/ssh/ssh_host_dsa_key' >"$R/etc/ssh/sshd_config.d/10-dsa.conf"
cp "$R/etc/ssh/sshd_config" "$T/main12.before"
t_in_root "$R" /usr/sbin/sshd -t >/dev/null 2>&1 || t_fail "Debian 12's sshd -t refuses the DSA key: the case proves nothing"
t_expect_exit 0 "$SSHRESCUE" --root "$R" --policy "$T/policy.ini" --json repair && examined_92
t_same "$T/main12.before" "$R/etc/ssh/sshd_config"
[ -e "$R/etc/ssh/ssh_host_ed25519_key" ] && t_fail "a key was generated for an sshd that loads DSA"

t_done
