#!/usr/bin/env bash
# bench_fail2ban.sh: flushing one jail (scope = all) from a fail2ban database of 2,000,000
# ban rows (1,000,000 in bips and in bans, about 227 MiB), against the sqlite3 command-line
# tool running the same DELETE statements on a copy, side by side in one run, min/median/max
# of ROUNDS (5) each. Goals: sshrescue (backup and durable replacement included) <= 1x the
# sqlite3 tool, and its peak RSS <= 64 MiB. The database (fail2ban 1.0's schema, version 4) is
# built once and cached.
set -eu
SSHRESCUE=${SSHRESCUE:?}
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/../f2b.sh"
ROWS=1000000
OTHER=1000 # rows of a second jail, which must stay
GEN="fail2ban 1.0 schema v4; bips+bans; sshd $ROWS; recidive $OTHER; gen 1"
CACHE=${SSHRESCUE_TEST_CACHE:-/var/cache/sshrescue-tests}/fail2ban-bench-$( (echo "$GEN"; cat "$F2B_SCHEMA") | sha256sum | cut -c1-16)
if [ ! -s "$CACHE/fail2ban.sqlite3" ]; then
	mkdir -p "$CACHE"
	rm -f "$CACHE/tmp.sqlite3"
	# fail2ban's own CREATE statements, then the rows
	f2b_mkdb "$CACHE/tmp.sqlite3" "$ROWS" "$OTHER"
	mv "$CACHE/tmp.sqlite3" "$CACHE/fail2ban.sqlite3"
fi
W=$(mktemp -d /var/tmp/sshrescue-bench.XXXXXX)
trap 'rm -rf "$W"' EXIT
{ f2b_policy all no; printf '[report]\nconsole = no\n'; } >"$W/policy.ini"
size=$(stat -c %s "$CACHE/fail2ban.sqlite3")
clis=() srs=() rsss=() clirss=()
for i in $(seq "$ROUNDS"); do
	rm -rf "$W/cli.sqlite3"* "$W/r"
	cp "$CACHE/fail2ban.sqlite3" "$W/cli.sqlite3"
	mkdir -p "$W/r/etc" "$W/r/var/lib/fail2ban"
	cp "$CACHE/fail2ban.sqlite3" "$W/r/var/lib/fail2ban/fail2ban.sqlite3"
	sync
	s=$(now_ms)
	/usr/bin/time -f '%M' -o "$W/rss.cli" sqlite3 "$W/cli.sqlite3" "DELETE FROM bips WHERE jail = 'sshd'; DELETE FROM bans WHERE jail = 'sshd';"
	e=$(now_ms)
	clis+=($((e - s)))
	clirss+=($(tail -n 1 "$W/rss.cli"))
	sync
	s=$(now_ms)
	rc=0
	/usr/bin/time -f '%M' -o "$W/rss" "$SSHRESCUE" -q repair --root "$W/r" --policy "$W/policy.ini" >/dev/null 2>&1 || rc=$?
	e=$(now_ms)
	[ $rc = 1 ] || { echo "bench fail2ban: sshrescue exited $rc (want 1)"; echo "bench fail2ban: goal MISSED (sshrescue failed)"; exit 0; }
	srs+=($((e - s)))
	rsss+=($(tail -n 1 "$W/rss"))
done
q="SELECT (SELECT count(*) FROM bips WHERE jail = 'sshd') + (SELECT count(*) FROM bans WHERE jail = 'sshd'), (SELECT count(*) FROM bips), (SELECT count(*) FROM logs)"
left_sr=$(sqlite3 "$W/r/var/lib/fail2ban/fail2ban.sqlite3" "$q")
left_cli=$(sqlite3 "$W/cli.sqlite3" "$q")
rss_mib=$(( $(printf '%s\n' "${rsss[@]}" | sort -n | tail -n 1) / 1024 ))
echo "bench fail2ban: database $((size / 1048576)) MiB, $ROWS ban rows of jail sshd in bips and $ROWS in bans, $OTHER of recidive"
echo "bench fail2ban: sqlite3 CLI DELETE min/median/max $(mmm "${clis[@]}") ms (${clis[*]}); peak RSS $(mmm "${clirss[@]}") KiB"
echo "bench fail2ban: sshrescue repair (backup, durable replacement) min/median/max $(mmm "${srs[@]}") ms (${srs[*]}); peak RSS $(mmm "${rsss[@]}") KiB"
r=$(ratio "$(median "${srs[@]}")" "$(median "${clis[@]}")")
echo "bench fail2ban: ratio of the medians ${r}x (goal <= 1x); peak RSS ${rss_mib} MiB (goal <= 64 MiB); rows left sshd|bips|logs: sshrescue $left_sr, sqlite3 $left_cli"
if [ "$left_sr" != "$left_cli" ] || [ "$left_sr" != "0|$OTHER|1" ]; then
	v="goal MISSED (the databases differ after the flush)"
elif le "$r" 1 && [ "$rss_mib" -le 64 ]; then
	v="goal met"
else
	v="goal MISSED (ratio ${r}x, goal <= 1x; peak RSS ${rss_mib} MiB, goal <= 64 MiB)"
fi
echo "bench fail2ban: $v"
table "fail2ban $((size / 1048576)) MiB, 2M rows" "$(mmm "${srs[@]}")" "sqlite3 CLI DELETE" "$(mmm "${clis[@]}")" "${r}x" "<= 1x, RSS <= 64 MiB" "$v" "peak RSS ${rss_mib} MiB (CLI $(( $(median "${clirss[@]}") / 1024 )) MiB)"
