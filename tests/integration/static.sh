#!/usr/bin/env bash
# static.sh: the static binaries of `make static` (build/static/sshrescue-x86_64, -aarch64):
# static (no interpreter, no dynamic section), at most 8 MiB, their .sha256 right, no build path
# inside, the same bytes when built again from another directory; the x86_64 one runs check,
# repair and an HTTPS delivery to a loopback server inside a Debian 11 root (glibc 2.31, no
# sshrescue libraries; the bullseyeroot fixture) with the certificate verified against the
# root's CA bundle or [report] ca_file, and refused otherwise; the aarch64 one, under
# qemu-aarch64, gives its version, repairs a directory root and delivers over HTTPS.
# Judges: readelf, sha256sum, tcpdmatch, http_recorder.py, qemu-aarch64-static.
# Skipped when the binaries are not built (make check does not build them: about N minutes);
# `make check-static` builds them first and runs this.
source "$(dirname "$0")/../lib.sh"

S=$TOP/build/static
REC=$TOP/tests/integration/http_recorder.py
unset http_proxy https_proxy HTTPS_PROXY all_proxy ALL_PROXY no_proxy NO_PROXY SSL_CERT_FILE
for a in x86_64 aarch64; do
	[ -x "$S/sshrescue-$a" ] || { echo "SKIP static.sh: $S/sshrescue-$a is not built (make check-static)"; exit 0; }
done
for p in readelf tcpdmatch openssl python3 qemu-aarch64-static; do
	command -v "$p" >/dev/null || { echo "FAIL static.sh: $p is missing (tests/deps)"; exit 1; }
done

for a in x86_64 aarch64; do
	B=$S/sshrescue-$a
	t_case "$a: fully static, at most 8 MiB, its .sha256 right, no build path inside"
	readelf -lW "$B" >"$T/l" 2>&1
	t_no_grep 'INTERP' "$T/l"
	readelf -dW "$B" >"$T/d" 2>&1
	t_grep 'no dynamic section' "$T/d"
	size=$(stat -c %s "$B")
	echo "       sshrescue-$a: $size bytes, sha256 $(cut -d ' ' -f 1 "$B.sha256")"
	[ "$size" -le $((8 << 20)) ] || t_fail "$size bytes"
	(cd "$S" && sha256sum -c --quiet "sshrescue-$a.sha256") >"$T/sum" 2>&1 || t_fail "$(cat "$T/sum")"
	! grep -q -a -F "$TOP" "$B" || t_fail "the build directory $TOP is inside"
	! grep -q -a -e 'dlopen' -e 'libcurl\.so' "$B" || t_fail "it still loads libraries"
done

t_case "reproducible: built again from another directory, the same bytes"
W=$T/other/sshrescue-tree
mkdir -p "$W"
# the source (and the third-party libraries already built, which it links)
(cd "$TOP" && git ls-files -co --exclude-standard 2>/dev/null | grep -v '^build/' |
	tar -cf - -T - 2>/dev/null) | tar -xf - -C "$W"
mkdir -p "$W/build/static"
for a in x86_64 aarch64; do
	mkdir -p "$W/build/static/$a"
	cp -a "$S/$a/sysroot" "$W/build/static/$a/" && touch "$W/build/static/$a/.libs-complete"
done
mkdir -p "$W/build/static/src" && touch "$W/build/static/src/.complete"
(cd "$W" && nice image/static x86_64 aarch64) >"$T/rebuild" 2>&1 || t_fail "rebuild: $(tail -n 5 "$T/rebuild")"
for a in x86_64 aarch64; do
	cmp -s "$S/sshrescue-$a" "$W/build/static/sshrescue-$a" || t_fail "$a differs when built in $W"
done

# ---- x86_64 in a Debian 11 root --------------------------------------------------------
BR=$("$TOP/tests/fixtures/bullseyeroot") || { t_fail "bullseyeroot fixture"; exit 1; }
CR=$T/bullseye
cp -a "$BR" "$CR"
mkdir -p "$CR/usr/local/sbin"
cp "$S/sshrescue-x86_64" "$CR/usr/local/sbin/sshrescue"
# in a mount namespace of its own with /proc: nothing to unmount after
IN=(unshare -m --propagation private sh -c 'mount -t proc proc "$0/proc" && exec chroot "$0" "$@"'
	"$CR" env -i PATH=/usr/local/sbin:/usr/sbin:/usr/bin:/sbin:/bin)
locked() { # root
	rm -rf "$1"
	t_mkroot "$1"
	printf 'ALL: 198.51.100.7\nsshd: ALL\n' >"$1/etc/hosts.deny"
}
judge() { # root
	[ "$(t_tcpd "$1" sshd 203.0.113.5)" = granted ] || t_fail "sshd still denied to 203.0.113.5 in $1"
	[ "$(t_tcpd "$1" sshd 198.51.100.7)" = denied ] || t_fail "198.51.100.7 no longer denied in $1"
}

t_case "x86_64 in Debian 11 (glibc $(ls "$CR"/lib/x86_64-linux-gnu/libc-*.so | sed 's/.*libc-\(.*\)\.so/\1/')): --version, check, repair"
"${IN[@]}" sshrescue --version >"$T/out" 2>&1 || t_fail "--version: $(cat "$T/out")"
t_grep '^sshrescue [0-9]' "$T/out"
locked "$CR/srv/r"
"${IN[@]}" sshrescue -q --protect 203.0.113.0/24 check --root /srv/r >"$T/out" 2>&1
rc=$?
[ "$rc" = 4 ] || t_fail "check: exit $rc, want 4: $(tail -n 3 "$T/out")"
"${IN[@]}" sshrescue -q --protect 203.0.113.0/24 repair --root /srv/r >"$T/out" 2>&1
rc=$?
[ "$rc" = 1 ] || t_fail "repair: exit $rc, want 1: $(tail -n 3 "$T/out")"
judge "$CR/srv/r"

# TLS: the collector's certificate for localhost signed by a test CA (a name: mbed TLS 2.28
# matches DNS names only, not IP addresses in subjectAltName)
mkdir -p "$T/pki"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 \
	-keyout "$T/pki/ca.key" -out "$T/pki/ca.pem" -subj "/CN=sshrescue static test CA" 2>/dev/null
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
	-keyout "$T/pki/srv.key" -out "$T/pki/srv.csr" -subj "/CN=localhost" 2>/dev/null
printf 'subjectAltName=DNS:localhost\nbasicConstraints=CA:FALSE\n' >"$T/pki/srv.ext"
openssl x509 -req -in "$T/pki/srv.csr" -CA "$T/pki/ca.pem" -CAkey "$T/pki/ca.key" -CAcreateserial \
	-days 2 -extfile "$T/pki/srv.ext" -out "$T/pki/srv.pem" 2>/dev/null
python3 "$REC" --dir "$T/rec" --tls "$T/pki/srv.pem" "$T/pki/srv.key" 2>"$T/rec.log" &
t_defer "kill $!"
for ((i = 0; i < 300; i++)); do [ -s "$T/rec/port" ] && break; sleep 0.05; done
PORT=$(cat "$T/rec/port") || { t_fail "http_recorder.py did not start"; exit 1; }
reqs() { find "$T/rec" -name '[0-9]*.json' | wc -l; }
deliver() { # policy-lines... ; sets RC
	printf '[agent]\nprotect = 203.0.113.0/24\n[report]\nattempts = 1\ntimeout = 10\n' >"$CR/etc/p.ini"
	for l in "$@"; do printf '%s\n' "$l" >>"$CR/etc/p.ini"; done
	locked "$CR/srv/r"
	"${IN[@]}" sshrescue -c /etc/p.ini repair --root /srv/r >"$T/out" 2>&1
	RC=$?
}

t_case "x86_64 in Debian 11: HTTPS refused when no CA of the system signed the certificate"
n0=$(reqs)
deliver "url = https://localhost:$PORT/static"
((RC & 2)) || t_fail "exit $RC: delivered to a server nobody vouches for"
[ "$(reqs)" = "$n0" ] || t_fail "the request reached the server"
t_grep 'delivery: .*\(certificate\|SSL\|verif\)' "$T/out"

t_case "x86_64 in Debian 11: HTTPS verified against [report] ca_file"
cp "$T/pki/ca.pem" "$CR/etc/collector-ca.pem"
n0=$(reqs)
deliver "url = https://localhost:$PORT/static-cafile" "ca_file = /etc/collector-ca.pem"
((RC & 2)) && t_fail "exit $RC: not delivered: $(grep delivery "$T/out" | tail -n 2)"
[ "$(reqs)" = $((n0 + 1)) ] || t_fail "$(($(reqs) - n0)) requests"
judge "$CR/srv/r"
jq -e '.path == "/static-cafile" and .method == "POST"' "$T/rec/$(printf %04d $((n0 + 1))).json" >/dev/null ||
	t_fail "request: $(cat "$T/rec/$(printf %04d $((n0 + 1))).json")"

t_case "x86_64 in Debian 11: HTTPS verified against the root's own CA bundle"
cat "$T/pki/ca.pem" >>"$CR/etc/ssl/certs/ca-certificates.crt"
n0=$(reqs)
deliver "url = https://localhost:$PORT/static-bundle"
((RC & 2)) && t_fail "exit $RC: not delivered: $(grep delivery "$T/out" | tail -n 2)"
[ "$(reqs)" = $((n0 + 1)) ] || t_fail "$(($(reqs) - n0)) requests"

# ---- aarch64 under qemu ------------------------------------------------------------------
QA=(qemu-aarch64-static "$S/sshrescue-aarch64")
t_case "aarch64 under qemu-aarch64: --version and a repair of a directory root"
"${QA[@]}" --version >"$T/out" 2>&1 || t_fail "--version: $(cat "$T/out")"
t_grep '^sshrescue [0-9]' "$T/out"
R=$T/arm
locked "$R"
"${QA[@]}" -q --protect 203.0.113.0/24 repair --root "$R" >"$T/out" 2>&1
rc=$?
[ "$rc" = 1 ] || t_fail "repair: exit $rc, want 1: $(tail -n 3 "$T/out")"
judge "$R"

t_case "aarch64 under qemu-aarch64: HTTPS delivery verified against ca_file"
locked "$R"
printf '[agent]\nprotect = 203.0.113.0/24\n[report]\nattempts = 1\ntimeout = 20\nurl = https://localhost:%s/arm\nca_file = %s\n' \
	"$PORT" "$T/pki/ca.pem" >"$T/arm.ini"
n0=$(reqs)
"${QA[@]}" -c "$T/arm.ini" repair --root "$R" >"$T/out" 2>&1
rc=$?
((rc & 2)) && t_fail "exit $rc: not delivered: $(grep delivery "$T/out" | tail -n 2)"
[ "$(reqs)" = $((n0 + 1)) ] || t_fail "$(($(reqs) - n0)) requests"
t_done
