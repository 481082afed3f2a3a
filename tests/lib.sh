# tests/lib.sh: shared helpers of the integration tests (bash). Source it, then write cases:
#   t_case "what the user sees"; ...; t_pass | t_fail "why"
# Cleanup registered with t_defer runs at exit, in reverse order, even when a case fails.
set -u
# Debian's python3 first: a pyenv shim on PATH may take a second to start.
PATH=/usr/bin:$PATH
TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
SSHRESCUE=${SSHRESCUE:-$TOP/build/sshrescue}
RESULTS=${RESULTS:-/dev/null}
T=$(mktemp -d /tmp/sshrescue-test.XXXXXX)
_deferred=()
_case=""
_case_failed=0
_case_pre=0

t_defer() { _deferred+=("$*"); }

_t_cleanup() {
	local i
	_t_end_case
	for ((i = ${#_deferred[@]} - 1; i >= 0; i--)); do
		eval "${_deferred[$i]}" >/dev/null 2>&1 || true
	done
	rm -rf "$T"
}
trap _t_cleanup EXIT
trap 'exit 130' INT TERM

_t_end_case() {
	[ -n "$_case" ] || return 0
	if [ "$_case_failed" = 0 ]; then
		if [ "$_case_pre" = 1 ]; then
			echo "PASS $(basename "$0"): (precondition) $_case"
			echo pass-precondition >>"$RESULTS"
		elif [ "$_case_pre" = 2 ]; then
			echo "PASS $(basename "$0"): (without sshrescue) $_case"
			echo pass-without-sshrescue >>"$RESULTS"
		else
			echo "PASS $(basename "$0"): $_case"
			echo pass >>"$RESULTS"
		fi
	fi
	_case=""
}

# Start a case; the previous one ends (and passes unless it failed).
t_case() {
	_t_end_case
	_case="$*"
	_case_failed=0
	_case_pre=0
}

# Start a case that checks a precondition of the cases after it (the fixture is locked out,
# a judge program works), not something sshrescue does: the only kind of case that may pass
# when sshrescue is replaced by a program that does nothing (make check-noop).
t_precondition() {
	t_case "$@"
	_case_pre=1
}

# Start a case that judges one of the project's other files (a hook script, a unit, a
# document) without running sshrescue at all: it may pass under make check-noop too.
t_without_sshrescue() {
	t_case "$@"
	_case_pre=2
}

t_fail() {
	if [ "$_case_failed" = 0 ]; then
		echo "FAIL $(basename "$0"): $_case: $*"
		echo fail >>"$RESULTS"
	else
		echo "     $*"
	fi
	_case_failed=1
}

t_done() { _t_end_case; }

# assert helpers: each fails the current case with a message and returns 1.
t_expect_exit() { # want cmd...
	local want=$1 got
	shift
	"$@" >"$T/out" 2>"$T/err"
	got=$?
	if [ "$got" != "$want" ]; then
		t_fail "exit $got, want $want: $*"
		sed 's/^/       stderr: /' "$T/err" | head -20
		return 1
	fi
}
t_grep() { # pattern file
	grep -q -e "$1" "$2" || { t_fail "'$1' not in $2"; sed 's/^/       | /' "$2" | head -20; return 1; }
}
t_no_grep() {
	! grep -q -e "$1" "$2" || { t_fail "'$1' unexpectedly in $2"; return 1; }
}
t_same() { # file1 file2
	cmp -s "$1" "$2" || { t_fail "$1 differs from $2"; diff "$1" "$2" | head -20; return 1; }
}

# Checksums, modes and owners of every file under a tree (to prove nothing was written).
t_tree_sum() {
	(cd "$1" && find . -path ./proc -prune -o -print0 | sort -z |
		xargs -0 stat -c '%n %f %u %g %s %Y' && find . -type f -print0 | sort -z |
		xargs -0 -r sha256sum) 2>/dev/null
}

# A minimal instance root: enough for sshrescue to call it a Linux root.
t_mkroot() {
	local r=$1
	mkdir -p "$r/etc" "$r/var/lib" "$r/var/log" "$r/usr/lib"
	printf 'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nNAME="Debian GNU/Linux"\nID=debian\nVERSION_ID="12"\n' >"$r/etc/os-release"
	printf 'UUID=0b7e7a0c-0000-4000-8000-000000000001 / ext4 defaults 0 1\n' >"$r/etc/fstab"
	echo locked-out >"$r/etc/hostname"
	echo 0123456789abcdef0123456789abcdef >"$r/etc/machine-id"
	: >"$r/etc/hosts.allow"
	: >"$r/etc/hosts.deny"
}

# t_fixture VAR NAME ARGS...: runs tests/fixtures/NAME and sets VAR to the one path it prints.
# A fixture that fails, prints nothing, or prints more than one line or a path that does not
# exist fails the current case with the fixture's own message (its log's tail).
t_fixture() { # var name args...
	local var=$1 name=$2 out
	shift 2
	if ! out=$("$TOP/tests/fixtures/$name" "$@" 2>"$T/fixture-$name.err"); then
		t_fail "tests/fixtures/$name failed"
		sed 's/^/       | /' "$T/fixture-$name.err"
		return 1
	fi
	if [ -z "$out" ] || [ "$(printf '%s\n' "$out" | wc -l)" != 1 ] || [ ! -e "$out" ]; then
		t_fail "tests/fixtures/$name printed '$out', not one existing path"
		sed 's/^/       | /' "$T/fixture-$name.err"
		return 1
	fi
	printf -v "$var" '%s' "$out"
}

# tcpd's verdict for daemon and client address, judged in the root's etc/.
t_tcpd() { # root daemon addr -> prints granted|denied
	(cd "$1/etc" && tcpdmatch -d "$2" "$3" 2>/dev/null | sed -n 's/^access: *//p' | tail -n 1)
}

# Policy sections that turn policies off, for a policy file: t_disabled hosts_access denyhosts...
t_disabled() {
	local p
	for p; do printf '[%s]\nenabled = no\n' "$p"; done
}

# An instance root's own programs run chrooted, with what a booted system has under the root:
# /run a tmpfs holding /run/sshd, /dev a tmpfs holding the host's /dev/null and, with -p, /proc;
# all in a private mount namespace, so nothing stays mounted after.
#   t_root_ns [-t SECONDS] [-n] [-a ADDR]... [-p] ROOT SCRIPT [ARG...]
# runs the bash SCRIPT there, its $1 ROOT and the ARGs after it (the script chroots); -n: in a
# network namespace of its own too, its loopback up, holding each ADDR (-a 203.0.113.5/32);
# -t: killed after SECONDS. Exit status 99 when the namespace cannot be set up.
t_root_ns() {
	local pre=() net=0 addrs="" proc=0
	while :; do
		case $1 in
		-t) pre=(timeout "$2") && shift 2 ;;
		-n) net=1 && shift ;;
		-a) addrs+=" $2" && shift 2 ;;
		-p) proc=1 && shift ;;
		*) break ;;
		esac
	done
	local ns=(unshare -m)
	[ "$net" = 1 ] && ns+=(-n)
	"${pre[@]}" "${ns[@]}" bash -c '
		net=$1 addrs=$2 proc=$3 script=$4
		shift 4
		root=$1
		if [ "$net" = 1 ]; then
			ip link set lo up || exit 99
			for a in $addrs; do ip addr add "$a" dev lo || exit 99; done
		fi
		mount --make-rprivate / &&
			mount -t tmpfs tmpfs "$root/run" && mkdir -m 0755 "$root/run/sshd" &&
			mount -t tmpfs tmpfs "$root/dev" && touch "$root/dev/null" &&
			mount --bind /dev/null "$root/dev/null" || exit 99
		if [ "$proc" = 1 ]; then mount -t proc proc "$root/proc" || exit 99; fi
		unset net addrs proc root
		eval "$script"' t_root_ns "$net" "$addrs" "$proc" "$2" "$1" "${@:3}"
}

# A program of the instance run chrooted by t_root_ns: t_in_root ROOT PROGRAM [ARG...]
t_in_root() { t_root_ns "$1" 'exec chroot "$@"' "${@:2}"; }

# ---- firewall judges: a server and a client network namespace ----------------------------
# The addresses every firewall script uses: the server (sshd's side) and, on the client, one
# protected and one unprotected address per family (documentation ranges).
T_SRV4=192.0.2.1 T_PROT4=203.0.113.10 T_UNPROT4=198.51.100.20
T_SRV6=2001:db8:1::1 T_PROT6=2001:db8:2::10 T_UNPROT6=2001:db8:3::20
# t_fw_policy FILE: a policy file with every policy but the firewall disabled, no console report.
t_fw_policy() {
	printf '[hosts_access]\nenabled = no\n[denyhosts]\nenabled = no\n[fail2ban]\nenabled = no\n[sshd]\nenabled = no\n[report]\nconsole = no\n' >"$1"
}
_t_fw_n=0
# t_fw_netns TAG PORT...: a server namespace $S and a client namespace $C joined by a veth pair
# (both removed at the end), the addresses above and their routes, and on the server a TCP
# listener (socat, both families, discarding) on each PORT, waited for. Sets S and C.
t_fw_netns() {
	local tag=$1 n p a
	shift
	_t_fw_n=$((_t_fw_n + 1))
	S=sshr-$tag-$$-$_t_fw_n-s C=sshr-$tag-$$-$_t_fw_n-c
	ip netns add "$S" && t_defer ip netns del "$S"
	ip netns add "$C" && t_defer ip netns del "$C"
	ip -n "$S" link add v0 type veth peer name v0 netns "$C"
	for n in "$S" "$C"; do
		ip -n "$n" link set lo up
		ip -n "$n" link set v0 up
	done
	ip -n "$S" addr add $T_SRV4/24 dev v0
	ip -n "$S" addr add $T_SRV6/64 dev v0 nodad
	for a in $T_PROT4 $T_UNPROT4; do ip -n "$C" addr add $a/24 dev v0; done
	for a in $T_PROT6 $T_UNPROT6; do ip -n "$C" addr add $a/64 dev v0 nodad; done
	for a in 203.0.113.0/24 198.51.100.0/24 2001:db8:2::/64 2001:db8:3::/64; do
		ip -n "$S" route add $a dev v0
	done
	ip -n "$C" route add 192.0.2.0/24 dev v0
	ip -n "$C" route add 2001:db8:1::/64 dev v0
	for p in "$@"; do
		ip netns exec "$S" socat TCP6-LISTEN:"$p",fork,reuseaddr,ipv6only=0 OPEN:/dev/null &
		t_defer kill "$!"
	done
	for p in "$@"; do
		for n in $(seq 50); do
			ip netns exec "$S" ss -Hltn "sport = :$p" | grep -q . && break
			sleep 0.1
		done
	done
}
