#!/usr/bin/env bash
# fail2ban_bulk.sh: a flush of most of a large fail2ban database (300,000 bans of jail sshd in
# bips and in bans, fail2ban 1.0's schema) is done in bounded memory: the private copy streamed
# back, not read whole, and the table's indexes rebuilt from their own CREATE statements after
# the DELETE rather than walked row by row. Judged by the sqlite3 program: the rows of other
# jails and the logs table kept, the schema as it was, integrity_check ok, peak RSS (GNU time)
# under 64 MiB; an index whose text is not one CREATE INDEX leaves the database alone.
source "$(dirname "$0")/../lib.sh"
source "$TOP/tests/f2b.sh"

for p in sqlite3 /usr/bin/time; do
	command -v "$p" >/dev/null || { echo "FAIL fail2ban_bulk.sh: $p is missing (tests/deps installs sqlite3, time)"; exit 1; }
done
ROWS=300000 OTHER=1000
DB=var/lib/fail2ban/fail2ban.sqlite3
{ f2b_policy all no; printf '[report]\nconsole = no\n'; } >"$T/policy.ini"
schema() { sqlite3 "$1" "SELECT type, name, tbl_name, sql FROM sqlite_master ORDER BY name"; }
counts() { sqlite3 "$1" "SELECT (SELECT count(*) FROM bips WHERE jail = 'sshd') || '|' || (SELECT count(*) FROM bans WHERE jail = 'sshd') || '|' || (SELECT count(*) FROM bips) || '|' || (SELECT count(*) FROM bans) || '|' || (SELECT group_concat(lastfilepos) FROM logs)"; }

BASE=$T/base
t_mkroot "$BASE"
mkdir -p "$BASE/var/lib/fail2ban"
f2b_mkdb "$BASE/$DB" "$ROWS" "$OTHER"

t_case "a flush of 300,000 of 301,000 bans: other jails, logs and schema kept, peak RSS under 64 MiB"
R=$T/r1
cp -a "$BASE" "$R"
/usr/bin/time -f '%M' -o "$T/rss" "$SSHRESCUE" -q repair --root "$R" --policy "$T/policy.ini" >"$T/out" 2>"$T/err"
rc=$?
[ $rc = 1 ] || { t_fail "repair exited $rc, want 1"; sed 's/^/       | /' "$T/err" | head -5; }
c=$(counts "$R/$DB")
[ "$c" = "0|0|$OTHER|$OTHER|123456" ] || t_fail "rows sshd bips|sshd bans|bips|bans|logs positions: $c, want 0|0|$OTHER|$OTHER|123456"
[ "$(sqlite3 "$R/$DB" 'PRAGMA integrity_check')" = ok ] || t_fail "integrity_check: $(sqlite3 "$R/$DB" 'PRAGMA integrity_check' | head -3)"
schema "$BASE/$DB" >"$T/schema.before"
schema "$R/$DB" >"$T/schema.after"
t_same "$T/schema.before" "$T/schema.after"
rss=$(tail -n 1 "$T/rss")
# the bound is the release build's: ASan's shadow memory, or valgrind (tests/run VALGRIND=1
# runs a wrapper, SSHRESCUE_BIN the binary), are not the program's own
if [ -n "${SSHRESCUE_BIN:-}" ] || ldd "$SSHRESCUE" 2>/dev/null | grep -q libasan; then
	echo "       peak RSS not judged (sanitizer or valgrind build): $((rss / 1024)) MiB"
	rss=0
fi
[ "$rss" -lt $((64 * 1024)) ] || t_fail "peak RSS $rss KiB, want under 65536 KiB (database $(($(stat -c %s "$BASE/$DB") / 1048576)) MiB)"
[ "$rss" = 0 ] || echo "       peak RSS $((rss / 1024)) MiB for a $(($(stat -c %s "$BASE/$DB") / 1048576)) MiB database"

t_case "undo puts the original database back, byte for byte"
! cmp -s "$BASE/$DB" "$R/$DB" || t_fail "the repair did not change the database: nothing to undo"
t_expect_exit 0 "$SSHRESCUE" undo --root "$R"
cmp -s "$BASE/$DB" "$R/$DB" || t_fail "the database differs from the original after undo"

t_case "an index whose text is more than one CREATE INDEX: the database is left alone, and said so"
R=$T/r2
cp -a "$BASE" "$R"
sqlite3 "$R/$DB" "PRAGMA writable_schema = ON; UPDATE sqlite_master SET sql = 'CREATE INDEX bips_ip ON bips(ip); DROP TABLE logs' WHERE name = 'bips_ip';"
cp "$R/$DB" "$T/planted"
"$SSHRESCUE" repair --root "$R" --policy "$T/policy.ini" --json >"$T/out" 2>"$T/err"
rc=$?
[ $((rc & 12)) != 0 ] || t_fail "exit $rc: problems remain, bit 4 or 8 wanted"
cmp -s "$T/planted" "$R/$DB" || t_fail "the database was changed"
[ "$(sqlite3 "$R/$DB" "SELECT count(*) FROM logs")" = 1 ] || t_fail "the logs table went"
t_done
