#!/usr/bin/env bash
# tests/integration/fail2ban.sh: the fail2ban policy judged by Debian's own fail2ban (1.0.x).
# The real fail2ban-server bans addresses from a log of failed sshd logins (its stock
# iptables-multiport action on port ssh, polling backend). It runs in a private mount and
# network namespace where the instance root's /etc/fail2ban, /var/lib/fail2ban and /var/log
# stand at their usual places, so the instance's configuration (what sshrescue reads) is
# exactly what the server reads, its iptables rules are its own namespace's, and nothing of
# the system's own fail2ban or firewall is touched. After the server stops, sshrescue repairs the root; the
# server is started again on the same database and logs and `fail2ban-client status sshd`
# says what it restored, and whether it read old log lines again.
source "$(dirname "$0")/../lib.sh"
source "$TOP/tests/f2b.sh"

for p in fail2ban-client fail2ban-server sqlite3 unshare python3 setfattr getfattr; do
	command -v "$p" >/dev/null || {
		echo "FAIL fail2ban.sh: $p is missing (tests/deps installs fail2ban, sqlite3, attr)"
		exit 1
	}
done

PROTECTED="203.0.113.5 2001:db8::5"
OTHERS="198.51.100.7 192.0.2.9"
PROTECT=(--protect 203.0.113.0/24 --protect 2001:db8::/32)
DB=var/lib/fail2ban/fail2ban.sqlite3

f2b_policy protected >"$T/protected.ini"
f2b_policy all >"$T/all.ini"
f2b_policy protected no >"$T/db-only.ini"

# An instance root with Debian's stock fail2ban configuration (the package's files, not the
# system's .local or .d overrides), an sshd jail on a test log, and the owner's ignoreip.
mkroot() {
	local r=$1
	t_mkroot "$r"
	mkdir -p "$r/etc/fail2ban/fail2ban.d" "$r/var/lib/fail2ban"
	f2b_stock_conf "$r"
	f2b_test_conf "$r" "127.0.0.1/8 ::1 10.9.9.9"
}

total_failed() { # root
	f2b_client "$1" status sshd | sed -n 's/.*Total failed:[[:space:]]*//p'
}

# The log of the running server after a restart: it must have read nothing again. The
# polling backend looks at the file every second: give it three looks.
expect_no_reread() { # root
	sleep 3
	local n
	n=$(total_failed "$1")
	[ "$n" = 0 ] || t_fail "fail2ban counted $n failures again from log lines it had read"
}

expect_banned() { # root addr...
	local a
	f2b_banned "$1" >"$T/banned"
	for a in "${@:2}"; do
		grep -qxF "$a" "$T/banned" || { t_fail "$a is not banned"; sed 's/^/       banned: /' "$T/banned"; }
	done
}
expect_not_banned() { # root addr...
	local a
	f2b_banned "$1" >"$T/banned"
	for a in "${@:2}"; do
		! grep -qxF "$a" "$T/banned" || t_fail "$a is banned"
	done
}

db_sum() { sha256sum <"$1/$DB"; }
db_rows() { sqlite3 "$1/$DB" "SELECT ip FROM $2 WHERE jail = 'sshd' ORDER BY ip" 2>&1; }

# ---- the banned instance every case starts from ----

t_precondition "the real fail2ban bans four addresses from the failed logins"
BASE=$T/base
mkroot "$BASE"
for a in $PROTECTED $OTHERS; do f2b_failures "$BASE/var/log/sshd-test.log" "$a" 3; done
if f2b_start "$BASE"; then
	f2b_wait_banned "$BASE" $PROTECTED $OTHERS || t_fail "not all four banned: $(f2b_banned "$BASE" | tr '\n' ' ')"
	f2b_stop "$BASE"
fi
[ -s "$BASE/$DB" ] || { t_fail "no database"; exit 1; }
[ "$(db_rows "$BASE" bips | wc -l)" = 4 ] || t_fail "bips holds $(db_rows "$BASE" bips)"
[ "$(sqlite3 "$BASE/$DB" 'SELECT count(*) FROM logs')" = 1 ] || t_fail "no log position"

new_root() { # name -> R, a copy of the banned instance
	R=$T/$1
	cp -a "$BASE" "$R"
}

# ---- check ----

t_case "check reports the protected bans and changes no byte of fail2ban's files"
new_root check
before=$(t_tree_sum "$R/etc/fail2ban"; t_tree_sum "$R/var/lib/fail2ban")
t_expect_exit 4 "$SSHRESCUE" check --root "$R" --policy "$T/protected.ini" "${PROTECT[@]}" --json
after=$(t_tree_sum "$R/etc/fail2ban"; t_tree_sum "$R/var/lib/fail2ban")
[ "$before" = "$after" ] || t_fail "check changed fail2ban's files"
t_grep 'address 203.0.113.5 ' "$T/out"
t_grep 'address 2001:db8::5 ' "$T/out"
t_no_grep 'address 198.51.100.7 ' "$T/out"
t_grep 'ignoreip of \[sshd\] lacks 203.0.113.0/24 2001:db8::/32' "$T/out"
[ "$(db_rows "$R" bips | wc -l)" = 4 ] || t_fail "rows went missing"

# ---- scope = protected ----

t_case "repair: restarted fail2ban bans no protected address, still the others, reads nothing again"
new_root prot
t_expect_exit 1 "$SSHRESCUE" repair --root "$R" --policy "$T/protected.ini" "${PROTECT[@]}"
[ "$(db_rows "$R" logs)" != "" ] || t_fail "the logs table lost its row"
t_grep '^ignoreip = 127.0.0.1/8 ::1 10.9.9.9 203.0.113.0/24 2001:db8::/32$' \
	"$R/etc/fail2ban/jail.d/zz-sshrescue.local"
if f2b_start "$R"; then
	f2b_wait_banned "$R" $OTHERS || t_fail "the other bans were not restored"
	expect_not_banned "$R" $PROTECTED
	expect_no_reread "$R"
	f2b_client "$R" get sshd ignoreip >"$T/ignoreip"
	for n in 203.0.113.0/24 2001:db8::/32 10.9.9.9 127.0.0.0/8; do
		t_grep "$n" "$T/ignoreip"
	done

	t_case "repair: new failures from a protected network are ignored, others are banned"
	f2b_failures "$R/var/log/sshd-test.log" 203.0.113.77 3
	f2b_failures "$R/var/log/sshd-test.log" 192.0.2.77 3
	f2b_wait_banned "$R" 192.0.2.77 || t_fail "192.0.2.77 was not banned: is fail2ban reading?"
	expect_not_banned "$R" 203.0.113.77
	f2b_stop "$R"
fi

t_case "a second repair changes nothing"
rm -f "$R/var/lib/fail2ban/dummy.txt"
runs=$(ls "$R/var/lib/sshrescue/backups" 2>/dev/null | wc -l)
[ "$runs" = 1 ] || t_fail "the first repair made $runs backup runs, not 1"
sum=$(db_sum "$R")
t_expect_exit 0 "$SSHRESCUE" repair --root "$R" --policy "$T/protected.ini" "${PROTECT[@]}"
[ "$(ls "$R/var/lib/sshrescue/backups" | wc -l)" = "$runs" ] || t_fail "a new backup run"
[ "$(db_sum "$R")" = "$sum" ] || t_fail "the database changed"

t_case "undo puts the database back and removes sshrescue's jail.d file"
new_root undo
t_expect_exit 1 "$SSHRESCUE" repair --root "$R" --policy "$T/protected.ini" "${PROTECT[@]}"
[ -e "$R/etc/fail2ban/jail.d/zz-sshrescue.local" ] || t_fail "no jail.d file"
t_expect_exit 0 "$SSHRESCUE" undo --root "$R"
[ ! -e "$R/etc/fail2ban/jail.d/zz-sshrescue.local" ] || t_fail "jail.d file still there"
sqlite3 "$BASE/$DB" .dump >"$T/dump.base"
sqlite3 "$R/$DB" .dump >"$T/dump.undo"
t_same "$T/dump.base" "$T/dump.undo"

t_case "offline repair replaces the database whole: mode, owner, xattrs kept, no journal, old temporaries gone"
new_root rewrite
chown 123:456 "$R/$DB"
chmod 0640 "$R/$DB"
setfattr -n user.sshrescue.test -v keepme "$R/$DB"
: >"$R/var/lib/fail2ban/.fail2ban.sqlite3.sshrescue-999999"
ino=$(stat -c %i "$R/$DB")
t_expect_exit 1 "$SSHRESCUE" repair --root "$R" --policy "$T/db-only.ini" "${PROTECT[@]}"
[ "$(stat -c '%u:%g %a' "$R/$DB")" = "123:456 640" ] || t_fail "owner and mode: $(stat -c '%u:%g %a' "$R/$DB")"
[ "$(getfattr --only-values -n user.sshrescue.test "$R/$DB" 2>/dev/null)" = keepme ] || t_fail "the xattr is gone"
[ "$(stat -c %i "$R/$DB")" != "$ino" ] || t_fail "the database was changed in place"
ls -a "$R/var/lib/fail2ban" >"$T/ls"
t_no_grep 'journal\|-wal\|sshrescue-' "$T/ls"
backup=$(find "$R/var/lib/sshrescue/backups" -name fail2ban.sqlite3)
[ "$(stat -c %i "$backup")" = "$ino" ] || t_fail "the backup is not the original file"
[ "$(db_rows "$R" bips)" = "$(printf '%s\n' $OTHERS | sort)" ] || t_fail "bips holds $(db_rows "$R" bips)"

t_case "a database in WAL mode, with transactions only in its -wal: repaired in place, undo restores"
new_root wal
python3 - "$R/$DB" <<'PY'
import os, sqlite3, sys
c = sqlite3.connect(sys.argv[1], isolation_level=None)
c.execute("PRAGMA journal_mode=WAL")
c.execute("INSERT INTO bips SELECT '203.0.113.99', jail, timeofban, bantime, bancount, data FROM bips LIMIT 1")
os._exit(9)  # no checkpoint: the row lives in the -wal only
PY
[ -s "$R/$DB-wal" ] || t_fail "the test made no -wal"
# the dump from a copy (sqlite3 would checkpoint the -wal of the root's file on closing it)
cp "$R/$DB" "$T/w.sqlite3" && cp "$R/$DB-wal" "$T/w.sqlite3-wal"
sqlite3 "$T/w.sqlite3" .dump >"$T/dump.wal"
grep -q 203.0.113.99 "$T/dump.wal" || t_fail "the -wal's row is not in the dump"
t_expect_exit 1 "$SSHRESCUE" repair --root "$R" --policy "$T/db-only.ini" "${PROTECT[@]}"
[ "$(db_rows "$R" bips)" = "$(printf '%s\n' $OTHERS | sort)" ] || t_fail "bips holds $(db_rows "$R" bips)"
t_expect_exit 0 "$SSHRESCUE" undo --root "$R"
sqlite3 "$R/$DB" .dump >"$T/dump.wal.undo"
t_same "$T/dump.wal" "$T/dump.wal.undo"

# ---- scope = all ----

t_case "scope = all: restarted fail2ban bans nobody and reads nothing again"
new_root all
t_expect_exit 1 "$SSHRESCUE" repair --root "$R" --policy "$T/all.ini" "${PROTECT[@]}"
[ -z "$(db_rows "$R" bips)$(db_rows "$R" bans)" ] || t_fail "rows left: $(db_rows "$R" bips)"
if f2b_start "$R"; then
	expect_no_reread "$R"
	[ -z "$(f2b_banned "$R")" ] || t_fail "still banned: $(f2b_banned "$R" | tr '\n' ' ')"
	# the server is alive and reading: a new offender is banned, alone
	f2b_failures "$R/var/log/sshd-test.log" 192.0.2.78 3
	f2b_wait_banned "$R" 192.0.2.78 || t_fail "192.0.2.78 was not banned: is fail2ban reading?"
	[ "$(f2b_banned "$R")" = 192.0.2.78 ] || t_fail "banned: $(f2b_banned "$R" | tr '\n' ' ')"
	f2b_stop "$R"
fi

# ---- the schema of fail2ban 0.9 and 0.10 (version 2) ----

# fail2ban 0.10.6's CREATE statements (fail2ban/server/database.py), filled with the rows the
# real server wrote in the base instance.
mkv2() { # src-db dst-db
	sqlite3 "$2" <<EOF
CREATE TABLE fail2banDb(version INTEGER);
INSERT INTO fail2banDb(version) VALUES (2);
CREATE TABLE jails(name TEXT NOT NULL UNIQUE, enabled INTEGER NOT NULL DEFAULT 1);
CREATE INDEX jails_name ON jails(name);
CREATE TABLE logs(jail TEXT NOT NULL, path TEXT, firstlinemd5 TEXT, lastfilepos INTEGER DEFAULT 0,
	FOREIGN KEY(jail) REFERENCES jails(name) ON DELETE CASCADE, UNIQUE(jail, path),
	UNIQUE(jail, path, firstlinemd5));
CREATE INDEX logs_path ON logs(path);
CREATE INDEX logs_jail_path ON logs(jail, path);
CREATE TABLE bans(jail TEXT NOT NULL, ip TEXT, timeofban INTEGER NOT NULL, data JSON,
	FOREIGN KEY(jail) REFERENCES jails(name));
CREATE INDEX bans_jail_timeofban_ip ON bans(jail, timeofban);
CREATE INDEX bans_jail_ip ON bans(jail, ip);
CREATE INDEX bans_ip ON bans(ip);
ATTACH '$1' AS v4;
INSERT INTO jails SELECT name, enabled FROM v4.jails;
INSERT INTO logs SELECT jail, path, firstlinemd5, lastfilepos FROM v4.logs;
INSERT INTO bans SELECT jail, ip, timeofban, data FROM v4.bans;
EOF
}

t_case "a version 2 database: check reports its bans from table bans"
new_root v2
rm -f "$R/$DB"
mkv2 "$BASE/$DB" "$R/$DB" || t_fail "cannot build the version 2 database"
sum=$(db_sum "$R")
t_expect_exit 4 "$SSHRESCUE" check --root "$R" --policy "$T/protected.ini" "${PROTECT[@]}" --json
t_grep 'bans: jail sshd, ip 203.0.113.5' "$T/out"
[ "$(db_sum "$R")" = "$sum" ] || t_fail "check changed the database"

t_case "a version 2 database: fail2ban 1.x upgrades the repaired file and restores no protected ban"
t_expect_exit 1 "$SSHRESCUE" repair --root "$R" --policy "$T/protected.ini" "${PROTECT[@]}"
[ "$(sqlite3 "$R/$DB" 'SELECT version FROM fail2banDb')" = 2 ] || t_fail "not version 2 any more"
if f2b_start "$R"; then
	[ "$(sqlite3 "$R/$DB" 'SELECT version FROM fail2banDb')" = 4 ] ||
		t_fail "fail2ban did not upgrade the database"
	f2b_wait_banned "$R" $OTHERS || t_fail "the other bans were not restored"
	expect_not_banned "$R" $PROTECTED
	expect_no_reread "$R"
	f2b_stop "$R"
fi

# ---- the running server (live mode: --root / inside a namespace that shows the root's
# files at the system's places; other policies are off) ----

t_case "live: repair --root / unbans protected addresses in the running server and says so"
new_root live
mkdir -p "$R/var/lib/sshrescue"
if f2b_start "$R"; then
	f2b_wait_banned "$R" $PROTECTED $OTHERS || t_fail "restored bans missing"
	f2b_bind 60 "$R" "etc/fail2ban var/lib var/log" "$SSHRESCUE" repair --root / \
		--policy "$T/protected.ini" "${PROTECT[@]}" --json >"$T/out" 2>"$T/err"
	rc=$?
	[ $rc = 1 ] || { t_fail "exit $rc, want 1"; sed 's/^/       | /' "$T/err" | head; }
	t_grep 'told the running fail2ban-server' "$T/out"
	t_grep 'unbanned 2 through' "$T/out"
	expect_not_banned "$R" $PROTECTED
	expect_banned "$R" $OTHERS
	f2b_client "$R" get sshd ignoreip >"$T/ignoreip"
	t_grep 203.0.113.0/24 "$T/ignoreip"
	[ -z "$(db_rows "$R" bips | grep -F -e 203.0.113.5 -e 2001:db8::5)" ] || t_fail "rows left"
	f2b_stop "$R"
fi

# ---- databases fail2ban cannot use, or sshrescue must not touch ----

t_case "a hot journal: a finding, and neither the database nor the journal changes"
new_root hot
python3 - "$R/$DB" <<'PY'
import os, sqlite3, sys
c = sqlite3.connect(sys.argv[1], isolation_level=None)
c.execute("PRAGMA journal_mode=DELETE")
c.execute("PRAGMA cache_size=1")  # spill: the journal is synced and the file written
c.execute("BEGIN IMMEDIATE")
c.execute("DELETE FROM bips")
c.execute("DELETE FROM bans")
c.execute("DELETE FROM logs")
os._exit(9)
PY
[ "$(head -c 8 "$R/$DB-journal" | od -An -tx1 | tr -d ' \n')" != 0000000000000000 ] ||
	t_fail "the test made no hot journal"
sums=$(sha256sum "$R/$DB" "$R/$DB-journal")
t_expect_exit 4 "$SSHRESCUE" repair --root "$R" --policy "$T/db-only.ini" "${PROTECT[@]}" --json
t_grep 'hot journal' "$T/out"
[ "$sums" = "$(sha256sum "$R/$DB" "$R/$DB-journal")" ] || t_fail "the files changed"
mkdir -p "$T/hotjournal" # for the live case below
cp "$R/$DB" "$R/$DB-journal" "$T/hotjournal/"
# SQLite's own recovery (as fail2ban's next start does) finds every row again
[ "$(db_rows "$R" bips | wc -l)" = 4 ] || t_fail "rows lost after rollback: $(db_rows "$R" bips)"

t_case "live: a hot journal is SQLite's to roll back (as fail2ban-server would), then the repair goes on"
new_root livehot
mkdir -p "$R/var/lib/sshrescue"
cp "$T/hotjournal/fail2ban.sqlite3" "$T/hotjournal/fail2ban.sqlite3-journal" "$R/${DB%/*}/" ||
	t_fail "no hot journal to copy"
f2b_bind 60 "$R" "etc/fail2ban var/lib var/log" "$SSHRESCUE" repair --root / \
	--policy "$T/db-only.ini" "${PROTECT[@]}" --json >"$T/out" 2>"$T/err"
rc=$?
[ $rc = 1 ] || { t_fail "exit $rc, want 1"; sed 's/^/       | /' "$T/err" | head; }
[ ! -e "$R/$DB-journal" ] || t_fail "the journal is still there"
[ "$(db_rows "$R" bips)" = "$(printf '%s\n' $OTHERS | sort)" ] || t_fail "bips holds $(db_rows "$R" bips)"

t_case "a locked database: a finding within seconds, nothing changed"
new_root locked
sum=$(db_sum "$R")
python3 - "$R/$DB" "$T/locked.ready" <<'PY' &
import sqlite3, sys, time
c = sqlite3.connect(sys.argv[1], isolation_level=None)
c.execute("BEGIN EXCLUSIVE")
c.execute("DELETE FROM logs WHERE 0")
open(sys.argv[2], "w").close()
time.sleep(60)
PY
locker=$!
t_defer "kill $locker"
for ((i = 0; i < 50; i++)); do [ -e "$T/locked.ready" ] && break; sleep 0.1; done
start=$(date +%s)
timeout 30 "$SSHRESCUE" repair --root "$R" --policy "$T/db-only.ini" "${PROTECT[@]}" --json \
	>"$T/out" 2>"$T/err"
rc=$?
[ $((rc & 8)) = 8 ] || t_fail "exit $rc, want bit 8 (operational error)"
[ $(($(date +%s) - start)) -le 5 ] || t_fail "took $(($(date +%s) - start)) s"
t_grep 'locked' "$T/out"
kill $locker 2>/dev/null
wait $locker 2>/dev/null
[ "$(db_sum "$R")" = "$sum" ] || t_fail "the database changed"

t_case "a file that is not SQLite: a finding, the file unchanged"
new_root garbage
printf 'this is not a database\n%.0s' {1..200} >"$R/$DB"
sum=$(db_sum "$R")
t_expect_exit 4 "$SSHRESCUE" repair --root "$R" --policy "$T/db-only.ini" "${PROTECT[@]}" --json
t_grep 'not an SQLite database' "$T/out"
[ "$(db_sum "$R")" = "$sum" ] || t_fail "the file changed"

t_case "a corrupt database: a finding, the file unchanged"
new_root corrupt
size=$(stat -c %s "$R/$DB")
# every page after the first (the schema) overwritten with 0xff: no valid b-tree page left
head -c $((size - 4096)) /dev/zero | tr '\0' '\377' |
	dd of="$R/$DB" bs=4096 seek=1 conv=notrunc status=none
sum=$(db_sum "$R")
"$SSHRESCUE" repair --root "$R" --policy "$T/db-only.ini" "${PROTECT[@]}" --json >"$T/out" 2>"$T/err"
rc=$?
[ $((rc & 4)) = 4 ] || t_fail "exit $rc, want bit 4 (problems remain)"
t_grep 'corrupt\|malformed\|not an SQLite' "$T/out"
[ "$(db_sum "$R")" = "$sum" ] || t_fail "the file changed"

t_case "a read-only mount: an error finding, nothing changed"
new_root ro
sum=$(db_sum "$R")
unshare -m --propagation private sh -c '
	mount --bind "$1" "$1" && mount -o remount,bind,ro "$1" || exit 99
	shift
	exec "$@"' ro "$R/var/lib/fail2ban" "$SSHRESCUE" repair --root "$R" --policy "$T/db-only.ini" \
	"${PROTECT[@]}" --json >"$T/out" 2>"$T/err"
rc=$?
[ $((rc & 8)) = 8 ] || { t_fail "exit $rc, want bit 8"; sed 's/^/       | /' "$T/err" | head -5; }
t_grep 'read-only' "$T/out"
[ "$(db_sum "$R")" = "$sum" ] || t_fail "the database changed"

# ---- which database ----

t_case "the database fail2ban.d names is the one cleared; the default path is left alone"
new_root dbfile
mkdir -p "$R/var/lib/f2b-custom"
cp "$R/$DB" "$R/var/lib/f2b-custom/bans.db"
printf '[Definition]\ndbfile = /var/lib/f2b-custom/bans.db\n' >"$R/etc/fail2ban/fail2ban.d/db.local"
sum=$(db_sum "$R")
t_expect_exit 1 "$SSHRESCUE" repair --root "$R" --policy "$T/protected.ini" "${PROTECT[@]}"
[ "$(db_sum "$R")" = "$sum" ] || t_fail "the default database changed"
[ "$(sqlite3 "$R/var/lib/f2b-custom/bans.db" "SELECT count(*) FROM bips")" = 2 ] ||
	t_fail "the named database still holds $(sqlite3 "$R/var/lib/f2b-custom/bans.db" "SELECT ip FROM bips")"

t_case "dbfile = :memory: keeps nothing: no database finding, the file on disk untouched"
new_root memory
printf '[DEFAULT]\ndbfile = :memory:\n' >>"$R/etc/fail2ban/fail2ban.d/db.conf"
sum=$(db_sum "$R")
t_expect_exit 0 "$SSHRESCUE" repair --root "$R" --policy "$T/db-only.ini" "${PROTECT[@]}" --json
t_grep 'keeps no bans' "$T/out"
[ "$(db_sum "$R")" = "$sum" ] || t_fail "the database changed"

# ---- ignoreip as fail2ban reads it (fail2ban-client -d: the configuration it would send to
# the server, without starting one) ----

dump_ignoreip() { # root jail -> the jail's ignoreip words, one per line
	timeout 30 fail2ban-client -c "$1/etc/fail2ban" -d 2>/dev/null |
		sed -n "s/^\['set', '$2', 'addignoreip', \(.*\)\]$/\1/p" | tr -d "'," | tr ' ' '\n' |
		sed '/^$/d'
}

t_case "jails = *: every jail's ignoreip, merged as fail2ban merges, gains the protected networks"
new_root star
printf '\n[recidive]\nenabled = true\nignoreip = 10.2.2.2\nlogpath = /var/log/sshd-test.log\naction = dummy[target=/var/lib/fail2ban/dummy2.txt]\n' \
	>>"$R/etc/fail2ban/jail.local"
printf '[sshd]\nignoreip = %%(known/ignoreip)s 10.1.1.1\n' >"$R/etc/fail2ban/jail.d/10-owner.local"
f2b_policy protected >"$T/star.ini"
sed -i 's/^jails = sshd/jails = */' "$T/star.ini"
t_expect_exit 1 "$SSHRESCUE" repair --root "$R" --policy "$T/star.ini" "${PROTECT[@]}"
dump_ignoreip "$R" sshd >"$T/sshd.ign"
dump_ignoreip "$R" recidive >"$T/recidive.ign"
for w in 127.0.0.1/8 ::1 10.9.9.9 10.1.1.1 203.0.113.0/24 2001:db8::/32; do
	grep -qxF "$w" "$T/sshd.ign" || t_fail "sshd's ignoreip lacks $w: $(tr '\n' ' ' <"$T/sshd.ign")"
done
for w in 10.2.2.2 203.0.113.0/24 2001:db8::/32; do
	grep -qxF "$w" "$T/recidive.ign" ||
		t_fail "recidive's ignoreip lacks $w: $(tr '\n' ' ' <"$T/recidive.ign")"
done
t_grep '^\[DEFAULT\]$' "$R/etc/fail2ban/jail.d/zz-sshrescue.local"

t_case "a file read after sshrescue's replaces ignoreip: reported as not repaired (a risk; strict counts it)"
new_root late
printf '[sshd]\nignoreip = 10.3.3.3\n' >"$R/etc/fail2ban/jail.d/zzz-late.local"
{ cat "$T/protected.ini"; printf '[agent]\nstrict = yes\n'; } >"$T/strict.ini"
"$SSHRESCUE" repair --root "$R" --policy "$T/strict.ini" "${PROTECT[@]}" --json >"$T/out" 2>&1
rc=$?
[ $((rc & 4)) = 4 ] || t_fail "exit $rc, want bit 4 (problems remain)"
t_grep 'zzz-late.local' "$T/out"
jq -e '[.policies[].findings[] | select(.problem | test("ignoreip")) | .severity] | unique == ["risk"]' \
	"$T/out" >/dev/null 2>&1 || grep -q '"severity": *"risk"' "$T/out" || t_fail "the ignoreip finding is not a risk"
dump_ignoreip "$R" sshd >"$T/sshd.ign"
grep -qxF 10.3.3.3 "$T/sshd.ign" || t_fail "the oracle shows no ignoreip"
! grep -qxF 203.0.113.0/24 "$T/sshd.ign" || t_fail "the oracle disagrees: 203.0.113.0/24 is in force"

t_case "many bans: 100 findings one by one, the rest in one"
new_root many
sqlite3 "$R/$DB" "WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < 249)
	INSERT INTO bips SELECT '203.0.113.' || i, 'sshd', strftime('%s', 'now'), -1, 1, NULL
	FROM n WHERE i != 5" || t_fail "cannot add rows"
t_expect_exit 1 "$SSHRESCUE" repair --root "$R" --policy "$T/db-only.ini" "${PROTECT[@]}" --json
[ "$(grep -c '"text": *"bips: jail sshd' "$T/out")" = 100 ] ||
	t_fail "$(grep -c '"text": *"bips: jail sshd' "$T/out") findings one by one, want 100"
t_grep '151 more ban rows of protected addresses' "$T/out"
[ "$(sqlite3 "$R/$DB" "SELECT count(*) FROM bips")" = 2 ] || t_fail "rows left"

# ---- jails other than sshd whose bans block sshd's port (issue 15: a permanent recidive ban
# of the owner was left while the report said "repaired") ----

# More enabled jails on the banned instance: recidive (the stock banaction_allports,
# iptables-allports, permanent bans), a jail on port 1:65535 and one on ssh,2222 (nftables),
# one with nftables[type=allports], and a web jail on http,https, whose bans do not touch sshd.
# Each holds a ban of the protected 203.0.113.5 and the other 198.51.100.7, made by the real
# server (fail2ban-client set JAIL banip).
MORE_JAILS="recidive wide two allp"
t_precondition "the real fail2ban bans the owner in recidive, port-range, multi-port and allports jails"
MB=$T/more-base
cp -a "$BASE" "$MB"
: >"$MB/var/log/other.log"
cat >"$MB/etc/fail2ban/jail.d/20-more.local" <<'JAILS'
[recidive]
enabled = true
backend = polling
logpath = /var/log/fail2ban.log
bantime = -1

[wide]
enabled = true
filter = sshd
backend = polling
logpath = /var/log/other.log
port = 1:65535
bantime = 1d

[two]
enabled = true
filter = sshd
backend = polling
logpath = /var/log/other.log
port = ssh,2222
banaction = nftables-multiport
bantime = 1d

[allp]
enabled = true
filter = sshd
backend = polling
logpath = /var/log/other.log
banaction = nftables[type=allports]
bantime = 1d

[web]
enabled = true
filter = sshd
backend = polling
logpath = /var/log/other.log
port = http,https
bantime = 1d
JAILS
f2b_policy >"$T/auto.ini"
if f2b_start "$MB"; then
	f2b_wait_banned "$MB" $PROTECTED $OTHERS || t_fail "sshd's bans were not restored"
	for j in $MORE_JAILS web; do
		f2b_client "$MB" set "$j" banip 203.0.113.5 198.51.100.7 >/dev/null ||
			t_fail "fail2ban-client set $j banip failed"
		f2b_banned "$MB" "$j" | tr '\n' ' ' | grep -q '198.51.100.7 203.0.113.5' ||
			t_fail "$j bans $(f2b_banned "$MB" "$j" | tr '\n' ' ')"
	done
	f2b_stop "$MB"
fi
[ "$(sqlite3 "$MB/$DB" "SELECT bantime FROM bips WHERE jail = 'recidive' AND ip = '203.0.113.5'")" = -1 ] ||
	t_fail "recidive's ban is not permanent"

t_case "check (default jails = auto): the bans in those jails are lockouts, the web jail is left out"
R=$T/more-check
cp -a "$MB" "$R"
t_expect_exit 4 "$SSHRESCUE" check --root "$R" --policy "$T/auto.ini" "${PROTECT[@]}" --json
for j in $MORE_JAILS sshd; do
	jq -e --arg t "bips: jail $j, ip 203.0.113.5," '[.policies[].findings[] |
		select((.text // "") | startswith($t)) | .severity] == ["lockout"]' "$T/out" >/dev/null ||
		t_fail "no lockout finding for 203.0.113.5 in jail $j"
done
t_no_grep 'bips: jail web' "$T/out"
jq -e '[.policies[].findings[] | has("severity")] | all' "$T/out" >/dev/null ||
	t_fail "a finding without severity"

t_case "repair (jails = auto): restarted fail2ban bans the owner in none of them, still the others and the web jail's"
t_expect_exit 1 "$SSHRESCUE" repair --root "$R" --policy "$T/auto.ini" "${PROTECT[@]}"
if f2b_start "$R"; then
	f2b_wait_banned "$R" $OTHERS || t_fail "sshd's other bans were not restored"
	expect_not_banned "$R" $PROTECTED
	for j in $MORE_JAILS; do
		b=$(f2b_banned "$R" "$j" | tr '\n' ' ')
		[ "$b" = "198.51.100.7 " ] || t_fail "jail $j bans: $b"
	done
	b=$(f2b_banned "$R" web | tr '\n' ' ')
	[ "$b" = "198.51.100.7 203.0.113.5 " ] || t_fail "jail web bans: $b (its bans do not touch sshd)"
	f2b_client "$R" get recidive ignoreip >"$T/ignoreip"
	t_grep 203.0.113.0/24 "$T/ignoreip"
	f2b_stop "$R"
fi

t_case "jails = sshd: the recidive ban remains, reported as a lockout left in place, never repaired"
R=$T/more-named
cp -a "$MB" "$R"
"$SSHRESCUE" repair --root "$R" --policy "$T/protected.ini" "${PROTECT[@]}" --json >"$T/out" 2>"$T/err"
rc=$?
[ $((rc & 4)) = 4 ] || t_fail "exit $rc, want bit 4 (the recidive ban remains)"
jq -e '.policies[] | select(.name == "fail2ban") | .status == "unrepaired"' "$T/out" >/dev/null ||
	t_fail "fail2ban's status: $(jq -r '.policies[] | select(.name == "fail2ban") | .status' "$T/out")"
jq -e '[.policies[].findings[] | select((.text // "") | startswith("bips: jail recidive, ip 203.0.113.5,"))
	| select(.severity == "lockout" and .fixed == false and (.action | test("not among")))] | length == 1' \
	"$T/out" >/dev/null || t_fail "no open lockout finding for the recidive ban"
[ "$(sqlite3 "$R/$DB" "SELECT count(*) FROM bips WHERE jail = 'recidive' AND ip = '203.0.113.5'")" = 1 ] ||
	t_fail "the recidive row went, though jails = sshd"

# ---- a healthy instance (issue 15: a clean Debian 12 checked as "problems remain") ----

t_case "a clean Debian 12 with fail2ban, nobody banned: check exits 0, its risks listed with their severity"
DEBROOT=$("$TOP/tests/fixtures/debroot") || t_fail "no Debian root fixture"
C=$T/clean
mkdir -p "$C/upper" "$C/work" "$C/root"
if [ -n "$DEBROOT" ] && mount -t overlay overlay \
	-o "lowerdir=$DEBROOT,upperdir=$C/upper,workdir=$C/work" "$C/root"; then
	t_defer "umount -l '$C/root'"
	R=$C/root
	# Debian 12's fail2ban package files (the version bookworm ships is the one installed here)
	mkdir -p "$R/var/lib/fail2ban"
	f2b_stock_conf "$R"
	printf '[sshd]\nenabled = true\n' >"$R/etc/fail2ban/jail.d/defaults-debian.conf"
	# the database of a fail2ban that ran and banned nobody
	cp "$BASE/$DB" "$R/$DB"
	sqlite3 "$R/$DB" "DELETE FROM bips; DELETE FROM bans" || t_fail "cannot empty the database"
	t_expect_exit 0 "$SSHRESCUE" check --root "$R" "${PROTECT[@]}" --json
	jq -e '[.policies[].findings[]] | length > 0 and all(.severity == "risk")' "$T/out" >/dev/null ||
		t_fail "findings: $(jq -c '[.policies[].findings[] | {severity, problem}]' "$T/out")"
	jq -e '[.policies[].findings[] | has("severity")] | all' "$T/out" >/dev/null ||
		t_fail "a finding without severity"
	jq -e '.exit_status == 0 and ([.policies[] | select(.name == "fail2ban") | .status] == ["ok"])' \
		"$T/out" >/dev/null || t_fail "report: $(jq -c '{exit_status, s: [.policies[] | {name, status}]}' "$T/out")"
	t_expect_exit 0 "$SSHRESCUE" check --root "$R" "${PROTECT[@]}"
	t_grep '^sshrescue: fail2ban: ok (1 finding: 1 risk; 0 fixed)' "$T/err"
	t_grep 'risk: .*ignoreip of \[sshd\] lacks 203.0.113.0/24' "$T/err"

	t_case "the same instance with [agent] strict = yes: check exits 4"
	printf '[agent]\nstrict = yes\n' >"$T/strict-only.ini"
	t_expect_exit 4 "$SSHRESCUE" check --root "$R" --policy "$T/strict-only.ini" "${PROTECT[@]}" --json
	jq -e '.policies[] | select(.name == "fail2ban") | .status == "unrepaired"' "$T/out" >/dev/null ||
		t_fail "fail2ban's status is not unrepaired"
else
	t_fail "cannot mount an overlay over the Debian root"
fi

t_done
