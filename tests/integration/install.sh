#!/usr/bin/env bash
# install.sh: `make install DESTDIR= PREFIX=` puts every file the packages ship where it
# belongs, with the right modes; the systemd unit's ExecStart and the initramfs/dracut hooks name
# the SBINDIR of that install; the installed sshrescue-boot finds the sshrescue beside it and
# repairs (judged by tcpdmatch); `make uninstall` removes it all; CPPFLAGS and LDFLAGS reach the
# compiler and the linker.
source "$(dirname "$0")/../lib.sh"

command -v tcpdmatch >/dev/null || { echo "FAIL install.sh: tcpdmatch is missing"; exit 1; }
MK=(make -s -C "$TOP" --no-print-directory)
[ "${BUILD:-build}" = build-san ] && MK+=(SANITIZE=1)

# mode and path of every file under a tree, sorted
tree() { (cd "$1" && find . -type f -printf '%m /%P\n' | sort -k2); }

# expected modes: the binary and every script 0755, the rest 0644
expected() { # prefix-args...
	"${MK[@]}" "$@" install-list | while read -r f; do
		case "$f" in
		*/sbin/* | */bin/* | */hooks/sshrescue | */local-premount/sshrescue | *.sh) m=755 ;;
		*) m=644 ;;
		esac
		echo "$m $f"
	done | sort -k2
}

for layout in "PREFIX=/usr" "PREFIX=/usr/local" "PREFIX=/opt/sr SBINDIR=/opt/sr/bin/admin"; do
	D=$T/dest
	rm -rf "$D"
	read -ra args <<<"$layout"
	t_without_sshrescue "make install $layout: every file the packages ship, with its mode"
	"${MK[@]}" "${args[@]}" DESTDIR="$D" install >"$T/out" 2>&1 || t_fail "make install: $(tail -5 "$T/out")"
	expected "${args[@]}" >"$T/want"
	tree "$D" >"$T/got"
	[ "$(wc -l <"$T/want")" -ge 11 ] || t_fail "install-list has $(wc -l <"$T/want") files"
	t_same "$T/want" "$T/got"

	sbindir=$("${MK[@]}" "${args[@]}" install-list | sed -n 's|/sshrescue-boot$||p')
	unit=$("${MK[@]}" "${args[@]}" install-list | grep 'sshrescue-repair.service$')
	t_without_sshrescue "make install $layout: the unit starts the installed sshrescue-boot ($sbindir)"
	exec_start=$(sed -n 's/^ExecStart=//p' "$D$unit")
	[ "$exec_start" = "$sbindir/sshrescue-boot" ] || t_fail "ExecStart=$exec_start, want $sbindir/sshrescue-boot"
	[ -x "$D$exec_start" ] || t_fail "$exec_start is not installed"
	t_no_grep '@SBINDIR@' "$D$unit"
	if command -v systemd-analyze >/dev/null; then
		sed "s|^ExecStart=.*|ExecStart=$D$exec_start|" "$D$unit" >"$T/sshrescue-repair.service"
		systemd-analyze verify --man=no "$T/sshrescue-repair.service" >"$T/verify" 2>&1 ||
			t_fail "systemd-analyze verify: $(cat "$T/verify")"
	fi

	t_without_sshrescue "make install $layout: the initramfs hook and the dracut module look in $sbindir first"
	for h in $("${MK[@]}" "${args[@]}" install-list | grep -e '/hooks/sshrescue$' -e 'module-setup.sh$'); do
		t_grep "^sshrescue_sbindir=$sbindir\$" "$D$h"
		sh -n "$D$h" 2>"$T/err" || t_fail "$h: $(cat "$T/err")"
	done

	t_without_sshrescue "make install $layout: the installed sshrescue-boot runs the sshrescue beside it"
	R=$T/root
	rm -rf "$R"
	t_mkroot "$R"
	printf 'sshd: ALL\n' >"$R/etc/hosts.deny"
	env -u SSHRESCUE PATH=/usr/bin:/bin SSHRESCUE_ROOT="$R" "$D$sbindir/sshrescue-boot" \
		>"$T/out" 2>&1 || t_fail "sshrescue-boot exit $?: $(tail -5 "$T/out")"
	[ "$(t_tcpd "$R" sshd 203.0.113.5)" = granted ] || t_fail "sshd still denied"
	t_grep 'exit 1$' "$R/var/lib/sshrescue/boot-done"

	t_without_sshrescue "make uninstall $layout: nothing of it is left"
	"${MK[@]}" "${args[@]}" DESTDIR="$D" uninstall >"$T/out" 2>&1 || t_fail "make uninstall: $(tail -5 "$T/out")"
	left=$(find "$D" -type f)
	[ -z "$left" ] || t_fail "left behind: $left"
done

t_without_sshrescue "CPPFLAGS reach every compile, LDFLAGS the link"
B=${BUILD:-build}
"${MK[@]}" -n -B V=1 CPPFLAGS=-DSSHRESCUE_CPPFLAGS_MARK LDFLAGS=-Wl,--build-id=sha1 "$B/sshrescue" >"$T/n" 2>&1
cc_lines=$(grep -c ' -c -o ' "$T/n")
marked=$(grep ' -c -o ' "$T/n" | grep -c -- '-DSSHRESCUE_CPPFLAGS_MARK')
[ "$cc_lines" -gt 10 ] && [ "$cc_lines" = "$marked" ] || t_fail "$marked of $cc_lines compiles have CPPFLAGS"
grep -e "-o $B/sshrescue.tmp" "$T/n" | grep -q -- '-Wl,--build-id=sha1' || t_fail "LDFLAGS not on the link line"
t_done
