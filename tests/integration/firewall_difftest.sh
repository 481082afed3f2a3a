#!/usr/bin/env bash
# firewall_difftest.sh: a few hundred random rule files per format (iptables-restore for IPv4
# and IPv6, nft for both), each judged by sshrescue and by the real loader in private namespaces
# (tests/difftest/run); make difftest N=... runs more. Any disagreement fails the case and
# prints its seed.
source "$(dirname "$0")/../lib.sh"

N=${DIFFTEST_N:-150}
# under valgrind (make VALGRIND=1 check) a few files per format: each run costs seconds there,
# and the random files' value is in the count, which the other passes give
[ -n "${VG_LOGS:-}" ] && N=${DIFFTEST_N:-8}
for fmt in ipt ipt6 nft nft6; do
	t_case "$fmt: $N random files, sshrescue's verdicts agree with the loader and the connections"
	"$TOP/tests/difftest/run" "$N" 1 "$fmt" >"$T/dt.out" 2>&1 || t_fail "disagreements (or the judge failed)"
	sed 's/^/       /' "$T/dt.out"
done
t_done
