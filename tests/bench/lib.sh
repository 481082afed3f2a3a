# tests/bench/lib.sh: what the benchmark scripts share. Each round's figures go into lists;
# a figure is printed as min/median/max over the rounds, and each script ends with one
# "bench-table:" line that tests/bench/run gathers into the side-by-side table.
ROUNDS=${BENCH_ROUNDS:-5}

now_ms() { echo $(($(date +%s%N) / 1000000)); }
# min/median/max of the numbers given: "12/15/30"
mmm() { printf '%s\n' "$@" | sort -n | awk '{ v[NR] = $1 } END { printf "%s/%s/%s", v[1], v[int((NR + 1) / 2)], v[NR] }'; }
median() { printf '%s\n' "$@" | sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / (b ? b : 1) }'; }
# is $1 <= $2 (decimals)?
le() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a <= b) }'; }
# table NAME SSHRESCUE FLOOR-NAME FLOOR RATIO GOAL VERDICT [EXTRA]
table() { printf 'bench-table: %s|%s|%s|%s|%s|%s|%s|%s\n' "$@"; }
