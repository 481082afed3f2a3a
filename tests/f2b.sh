# tests/f2b.sh: fail2ban as the tests and benchmarks use it (bash; source it after
# tests/lib.sh, or alone for f2b_policy and f2b_mkdb): policy files with only the fail2ban
# policy on, a large database, an instance root's fail2ban configuration, and the real
# fail2ban server started on an instance root and asked for its bans.
F2B_SCHEMA=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/fail2ban-v4.sql

# f2b_policy [SCOPE [IGNOREIP]]: prints a policy file with the other policies off; with SCOPE,
# its [fail2ban] section: jails = sshd, scope = SCOPE, ignoreip = IGNOREIP (default yes).
f2b_policy() {
	local p
	for p in hosts_access denyhosts firewall sshd; do printf '[%s]\nenabled = no\n' "$p"; done
	[ $# = 0 ] || printf '[fail2ban]\njails = sshd\nscope = %s\nignoreip = %s\n' "$1" "${2:-yes}"
}

# f2b_mkdb FILE ROWS OTHER: a database of fail2ban 1.0's schema (tests/fail2ban-v4.sql: jails
# sshd and recidive, one log position) holding ROWS bans of jail sshd (10.x.y.z, in bips and in
# bans) and OTHER permanent bans of recidive (172.16.x.y).
f2b_mkdb() {
	{ cat "$F2B_SCHEMA"; cat <<SQL; } | sqlite3 "$1"
BEGIN;
WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < $2 - 1)
INSERT INTO bips SELECT '10.' || (i >> 16) || '.' || ((i >> 8) & 255) || '.' || (i & 255),
	'sshd', strftime('%s', 'now') - (i % 3600), 86400, 1, '{"failures": 5}' FROM n;
INSERT INTO bans SELECT jail, ip, timeofban, bantime, bancount, data FROM bips;
WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < $3 - 1)
INSERT INTO bips SELECT '172.16.' || (i >> 8) || '.' || (i & 255), 'recidive',
	strftime('%s', 'now'), -1, 3, '{"failures": 5}' FROM n;
INSERT INTO bans SELECT jail, ip, timeofban, bantime, bancount, data FROM bips WHERE jail = 'recidive';
COMMIT;
SQL
}

# f2b_stock_conf ROOT: Debian's stock fail2ban configuration in ROOT/etc/fail2ban (the files of
# the package installed here, not the system's .local or .d overrides).
f2b_stock_conf() {
	mkdir -p "$1/etc/fail2ban/jail.d"
	cp -a /etc/fail2ban/fail2ban.conf /etc/fail2ban/jail.conf /etc/fail2ban/paths-*.conf \
		/etc/fail2ban/filter.d /etc/fail2ban/action.d "$1/etc/fail2ban/"
}

# f2b_test_conf ROOT [IGNOREIP]: the root's fail2ban.local puts the server's socket and pid
# file in /var/lib/fail2ban (where the host reaches the socket), its log in
# /var/log/fail2ban.log; its jail.local enables jail sshd on /var/log/sshd-test.log (polling,
# 2 failures in an hour ban for a day), after a [DEFAULT] ignoreip = IGNOREIP when given.
f2b_test_conf() {
	cat >"$1/etc/fail2ban/fail2ban.local" <<'EOF'
[DEFAULT]
socket = /var/lib/fail2ban/fail2ban.sock
pidfile = /var/lib/fail2ban/fail2ban.pid
logtarget = /var/log/fail2ban.log
loglevel = INFO
EOF
	{
		[ $# -lt 2 ] || printf '[DEFAULT]\nignoreip = %s\n\n' "$2"
		cat <<'EOF'
[sshd]
enabled = true
backend = polling
logpath = /var/log/sshd-test.log
maxretry = 2
findtime = 1h
bantime = 1d
EOF
	} >"$1/etc/fail2ban/jail.local"
}

# f2b_failures LOG ADDR COUNT: COUNT failed sshd logins from ADDR appended to LOG.
F2B_PID=100
f2b_failures() {
	local i
	for ((i = 0; i < $3; i++)); do
		F2B_PID=$((F2B_PID + 1))
		echo "$(date '+%b %e %H:%M:%S') locked-out sshd[$F2B_PID]: Failed password for root from $2 port $((40000 + F2B_PID)) ssh2" >>"$1"
	done
}

# f2b_bind [-n] SECONDS ROOT "DIR..." COMMAND...: COMMAND (killed after SECONDS) in a private
# mount namespace (-n: and network namespace) where ROOT's DIRs stand at their places in /.
f2b_bind() {
	local ns=(unshare -m --propagation private)
	[ "$1" = -n ] && ns+=(-n) && shift
	timeout "$1" "${ns[@]}" sh -c '
		for d in $2; do
			mount --bind "$1/$d" "/$d" || exit 99
		done
		shift 2
		exec "$@"' f2b_bind "${@:2}"
}

# The real fail2ban server on an instance root whose configuration puts its socket and pid
# file in ROOT/var/lib/fail2ban (f2b_test_conf): the host's fail2ban with the root's
# etc/fail2ban, var/lib/fail2ban and var/log at their places, or with F2B_CHROOT=1 the root's
# own fail2ban chrooted in it (t_root_ns, with /proc); either way in a private mount and network
# namespace (its ban actions' firewall is its own), which the server keeps alive.
f2b_client() { # root args...
	if [ "${F2B_CHROOT:-}" = 1 ]; then
		timeout 30 chroot "$1" /usr/bin/fail2ban-client -s /var/lib/fail2ban/fail2ban.sock "${@:2}"
	else
		timeout 20 fail2ban-client -s "$1/var/lib/fail2ban/fail2ban.sock" "${@:2}"
	fi
}

f2b_start() { # root: returns when the jails are up; stopped at exit
	local who=fail2ban
	t_defer "f2b_stop '$1'"
	if [ "${F2B_CHROOT:-}" = 1 ]; then
		who="the root's fail2ban"
		t_root_ns -t 90 -n -p "$1" \
			'mkdir -p "$1/run/fail2ban" && exec chroot "$1" /usr/bin/fail2ban-client -x start'
	else
		f2b_bind -n 60 "$1" "etc/fail2ban var/lib/fail2ban var/log" fail2ban-client -x start
	fi >"$T/f2b-start.out" 2>&1 || {
		t_fail "$who did not start"
		sed 's/^/       | /' "$T/f2b-start.out" "$1/var/log/fail2ban.log" | tail -20
		return 1
	}
}

f2b_stop() { # root
	local pid
	[ -S "$1/var/lib/fail2ban/fail2ban.sock" ] && f2b_client "$1" stop >/dev/null 2>&1
	pid=$(cat "$1/var/lib/fail2ban/fail2ban.pid" 2>/dev/null)
	if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
		kill -9 "$pid"
	fi
	rm -f "$1/var/lib/fail2ban/fail2ban.pid" "$1/var/lib/fail2ban/fail2ban.sock"
	return 0
}

f2b_banned() { # root [jail] -> the jail's (sshd's) banned list, one per line, sorted
	f2b_client "$1" status "${2:-sshd}" | sed -n 's/.*Banned IP list:[[:space:]]*//p' |
		tr ' ' '\n' | sed '/^$/d' | sort
}

# Wait until jail sshd's banned list holds every address given (20 s at most).
f2b_wait_banned() { # root addr...
	local i a ok b
	for ((i = 0; i < 100; i++)); do
		b=$(f2b_banned "$1")
		ok=1
		for a in "${@:2}"; do grep -qxF -e "$a" <<<"$b" || ok=0; done
		[ $ok = 1 ] && return 0
		sleep 0.2
	done
	return 1
}
