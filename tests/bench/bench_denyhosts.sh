#!/usr/bin/env bash
# bench_denyhosts.sh: repairing a 1,000,000-line DenyHosts hosts.deny against the I/O floor
# (cp of the same file followed by sync), side by side in one run; and peak RSS against
# file size + 16 MiB.
set -eu
SSHRESCUE=${SSHRESCUE:?}
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
runs=3
best_cp=999999 best_sr=999999 rss=0
for i in $(seq $runs); do
	sync
	s=$(date +%s%N); cp "$W/r/etc/hosts.deny" "$W/copy.$i"; sync; e=$(date +%s%N)
	t=$(((e - s) / 1000000)); [ $t -lt $best_cp ] && best_cp=$t
	rm -rf "$W/rr"; cp -a "$W/r" "$W/rr"; sync
	s=$(date +%s%N)
	"$SSHRESCUE" -q repair --root "$W/rr" --protect 10.3.0.0/16 2>"$W/stderr" || [ $? = 1 ]
	e=$(date +%s%N)
	t=$(((e - s) / 1000000)); [ $t -lt $best_sr ] && best_sr=$t
	# peak memory from one more run under time(1), apart: its own fork and exec are not timed
	rm -rf "$W/rm"; cp -a "$W/r" "$W/rm"; sync
	/usr/bin/time -f '%M' -o "$W/rss" "$SSHRESCUE" -q repair --root "$W/rm" --protect 10.3.0.0/16 2>"$W/stderr" || [ $? = 1 ]
	m=$(tail -n 1 "$W/rss"); [ $m -gt $rss ] && rss=$m
done
left=$(grep -c '^sshd: ' "$W/rr/etc/hosts.deny")
echo "bench denyhosts: file $((size / 1024)) KiB, 1000000 lines, $((1000000 - left)) entries removed"
echo "bench denyhosts: cp+sync ${best_cp} ms, sshrescue repair ${best_sr} ms (best of $runs)"
ratio=$(awk -v a=$best_sr -v b=$best_cp 'BEGIN { printf "%.2f", a / (b ? b : 1) }')
limit_kib=$((size / 1024 + 16384))
echo "bench denyhosts: ratio ${ratio}x (goal <= 2x); peak RSS ${rss} KiB (goal < ${limit_kib} KiB)"
if awk -v r=$ratio 'BEGIN { exit !(r <= 2) }' && [ $rss -lt $limit_kib ]; then
	echo "bench denyhosts: goal met"
else
	echo "bench denyhosts: goal MISSED"
fi
