#!/usr/bin/env bash
# bench_denyhosts.sh: repairing a 1,000,000-line DenyHosts hosts.deny against the I/O floor
# (cp of the same file followed by sync), side by side in one run; and peak RSS against
# file size + 16 MiB. min/median/max of ROUNDS (5) each; goal: the ratio of the medians <= 2.
set -eu
SSHRESCUE=${SSHRESCUE:?}
source "$(dirname "$0")/lib.sh"
W=$(mktemp -d /var/tmp/sshrescue-bench.XXXXXX)
trap 'rm -rf "$W"' EXIT
mk() {
	local r=$1
	mkdir -p "$r/etc" "$r/var/lib/denyhosts"
	echo "BLOCK_SERVICE = sshd" >"$r/etc/denyhosts.conf"
	python3 - "$r/etc/hosts.deny" <<'PY'
import sys
with open(sys.argv[1], "w") as f:
    for i in range(1000000):
        f.write("sshd: 10.%d.%d.%d\n" % (i >> 16, (i >> 8) & 255, i & 255))
PY
}
mk "$W/r"
size=$(stat -c %s "$W/r/etc/hosts.deny")
cps=() srs=() rss=0
for i in $(seq "$ROUNDS"); do
	sync
	s=$(now_ms); cp "$W/r/etc/hosts.deny" "$W/copy.$i"; sync; e=$(now_ms)
	cps+=($((e - s)))
	rm -f "$W/copy.$i"
	rm -rf "$W/rr"; cp -a "$W/r" "$W/rr"; sync
	s=$(now_ms)
	"$SSHRESCUE" -q repair --root "$W/rr" --protect 10.3.0.0/16 2>"$W/stderr" || [ $? = 1 ]
	sync
	e=$(now_ms)
	srs+=($((e - s)))
	# peak memory from one more run under time(1), apart: its own fork and exec are not timed
	rm -rf "$W/rm"; cp -a "$W/r" "$W/rm"; sync
	/usr/bin/time -f '%M' -o "$W/rss" "$SSHRESCUE" -q repair --root "$W/rm" --protect 10.3.0.0/16 2>"$W/stderr" || [ $? = 1 ]
	m=$(tail -n 1 "$W/rss"); [ $m -gt $rss ] && rss=$m
done
left=$(grep -c '^sshd: ' "$W/rr/etc/hosts.deny")
echo "bench denyhosts: file $((size / 1024)) KiB, 1000000 lines, $((1000000 - left)) entries removed"
echo "bench denyhosts: cp+sync min/median/max $(mmm "${cps[@]}") ms (${cps[*]})"
echo "bench denyhosts: sshrescue repair (+sync) min/median/max $(mmm "${srs[@]}") ms (${srs[*]})"
r=$(ratio "$(median "${srs[@]}")" "$(median "${cps[@]}")")
limit_kib=$((size / 1024 + 16384))
echo "bench denyhosts: ratio of the medians ${r}x (goal <= 2x); peak RSS ${rss} KiB (goal < ${limit_kib} KiB)"
if le "$r" 2 && [ $rss -lt $limit_kib ]; then
	v="goal met"
else
	v="goal MISSED"
fi
echo "bench denyhosts: $v"
table "1M-line hosts.deny (--root)" "$(mmm "${srs[@]}")" "cp+sync" "$(mmm "${cps[@]}")" "${r}x" "<= 2x" "$v" "peak RSS $((rss / 1024)) MiB"
