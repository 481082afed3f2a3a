#!/usr/bin/env bash
# packages.sh: `make deb` builds a Debian package that lintian passes without errors and that
# ships what `make install PREFIX=/usr` installs; apt installs it into a Debian 12 root (a copy
# of the debroot fixture; its dependencies' .debs from tests/fixtures/debpkgs; policy-rc.d forbids
# starting anything), where the installed sshrescue runs and repairs a directory root (judged by
# tcpdmatch); purge leaves none of its files. `make rpm` builds an RPM whose `rpm -qlp` list and
# file modes are those of `make install` for the RPM layout.
source "$(dirname "$0")/../lib.sh"

for p in dpkg-buildpackage dh lintian rpmbuild rpm tcpdmatch chroot; do
	command -v "$p" >/dev/null || { echo "FAIL packages.sh: $p is missing (tests/deps)"; exit 1; }
done
MK=(nice make -s -C "$TOP" --no-print-directory)

# ---- Debian --------------------------------------------------------------------------------
t_without_sshrescue "make deb: build/deb/sshrescue_*.deb, built out of a copy (the tree stays as it was)"
git -C "$TOP" status --porcelain --ignored=no >"$T/st1" 2>/dev/null
"${MK[@]}" deb >"$T/out" 2>&1 || t_fail "make deb: $(tail -n 20 "$T/out")"
git -C "$TOP" status --porcelain --ignored=no >"$T/st2" 2>/dev/null
t_same "$T/st1" "$T/st2"
DEB=$(ls "$TOP"/build/deb/sshrescue_*.deb 2>/dev/null | head -n 1)
[ -n "$DEB" ] || { t_fail "no build/deb/sshrescue_*.deb"; exit 1; }

t_without_sshrescue "lintian: no errors"
lintian "$DEB" >"$T/lintian" 2>&1
grep -v 'running with root privileges' "$T/lintian" | sed 's/^/       lintian: /'
t_no_grep '^E: ' "$T/lintian"

t_without_sshrescue "the .deb ships what make install PREFIX=/usr installs, with its modes"
LAYOUT_DEB=(PREFIX=/usr SYSTEMDUNITDIR=/lib/systemd/system)
"${MK[@]}" "${LAYOUT_DEB[@]}" install-list | sed 's|/man/\(man[58]/.*\)|/man/\1.gz|' | sort >"$T/want"
dpkg-deb -c "$DEB" | awk '$1 !~ /^d/ { sub(/^\./, "", $6); print $6 }' |
	grep -v -e '^/usr/share/doc/' | sort >"$T/got"
t_same "$T/want" "$T/got"
dpkg-deb -c "$DEB" | awk '$1 !~ /^d/ && $2 != "root/root" { print "not root/root:", $6 }' >"$T/own"
[ ! -s "$T/own" ] || t_fail "$(cat "$T/own")"
dpkg-deb -c "$DEB" | awk '{ sub(/^\./, "", $6) } $1 !~ /^d/ && $6 ~ /(sbin|bin)\/|hooks\/sshrescue$|premount\/sshrescue$|\.sh$/ &&
	$1 != "-rwxr-xr-x" { print "mode", $1, $6 }' >"$T/modes"
[ ! -s "$T/modes" ] || t_fail "$(cat "$T/modes")"

t_without_sshrescue "apt installs the .deb into a Debian 12 root; nothing is started; the unit is not enabled"
DEBROOT=$("$TOP/tests/fixtures/debroot") || { t_fail "debroot fixture"; exit 1; }
CR=$T/debroot
cp -a "$DEBROOT" "$CR"
# dpkg may start nothing in the root (invoke-rc.d asks policy-rc.d; 101 = forbidden)
printf '#!/bin/sh\nexit 101\n' >"$CR/usr/sbin/policy-rc.d"
chmod 755 "$CR/usr/sbin/policy-rc.d"
# a process left running inside the root would keep it busy: none may be
t_defer "for p in /proc/[0-9]*; do [ \"\$(readlink \$p/root)\" = '$CR' ] && kill -9 \${p#/proc/}; done"
deps=$(dpkg-deb -f "$DEB" Depends | tr ',' '\n' | sed 's/(.*//; s/[[:space:]]//g' |
	while read -r d; do
		chroot "$CR" dpkg-query -W -f='${db:Status-Abbrev}' "$d" 2>/dev/null | grep -q '^ii' || echo "$d"
	done)
mkdir -p "$CR/tmp/debs"
cp "$DEB" "$CR/tmp/debs/"
if [ -n "$deps" ]; then
	# shellcheck disable=SC2086
	PKGS=$("$TOP/tests/fixtures/debpkgs" $deps) || t_fail "debpkgs fixture: $deps"
	for d in $deps; do cp "$PKGS/${d}"_*.deb "$CR/tmp/debs/"; done
fi
# each command in its own mount namespace with /proc, as on an instance: nothing to unmount after
CHROOT=(unshare -m --propagation private sh -c 'mount -t proc proc "$0/proc" && exec chroot "$0" "$@"'
	"$CR" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin DEBIAN_FRONTEND=noninteractive)
debs=()
for f in "$CR"/tmp/debs/*.deb; do debs+=("/tmp/debs/${f##*/}"); done
"${CHROOT[@]}" apt-get install -y -q --no-install-recommends "${debs[@]}" >"$T/apt" 2>&1 ||
	t_fail "apt-get install: $(tail -n 20 "$T/apt")"
chroot "$CR" dpkg-query -W -f='${db:Status-Abbrev}\n' sshrescue | grep -q '^ii' ||
	t_fail "sshrescue is not installed in the root"
[ -z "$(find "$CR/etc/systemd/system" -name 'sshrescue*')" ] || t_fail "the unit was enabled"
for p in /proc/[0-9]*; do
	[ "$(readlink "$p/root" 2>/dev/null)" = "$CR" ] && t_fail "a process runs in the root: $(tr '\0' ' ' <"$p/cmdline")"
done

t_without_sshrescue "the installed sshrescue runs in the Debian 12 root: --version, check, repair"
"${CHROOT[@]}" sshrescue --version >"$T/ver" 2>&1 || t_fail "sshrescue --version: $(cat "$T/ver")"
t_grep '^sshrescue [0-9]' "$T/ver"
t_mkroot "$CR/srv/r"
printf 'ALL: 198.51.100.7\nsshd: ALL\n' >"$CR/srv/r/etc/hosts.deny"
"${CHROOT[@]}" sshrescue -q --protect 203.0.113.0/24 check --root /srv/r >"$T/out" 2>&1
rc=$?
[ "$rc" = 4 ] || t_fail "check: exit $rc, want 4: $(tail -n 5 "$T/out")"
"${CHROOT[@]}" sshrescue -q --protect 203.0.113.0/24 repair --root /srv/r >"$T/out" 2>&1
rc=$?
[ "$rc" = 1 ] || t_fail "repair: exit $rc, want 1: $(tail -n 5 "$T/out")"
[ "$(t_tcpd "$CR/srv/r" sshd 203.0.113.5)" = granted ] || t_fail "sshd still denied after the repair"
[ "$(t_tcpd "$CR/srv/r" sshd 198.51.100.7)" = denied ] || t_fail "198.51.100.7 no longer denied"
exec_start=$(sed -n 's/^ExecStart=//p' "$CR/lib/systemd/system/sshrescue-repair.service")
[ -x "$CR$exec_start" ] || t_fail "the unit's ExecStart $exec_start is not installed"

t_without_sshrescue "apt-get purge removes every file of the package"
"${CHROOT[@]}" apt-get purge -y -q sshrescue >"$T/apt" 2>&1 || t_fail "purge: $(tail -n 10 "$T/apt")"
chroot "$CR" dpkg-query -W -f='${db:Status-Abbrev}\n' sshrescue 2>/dev/null | grep -q '^ii' &&
	t_fail "still installed"
while read -r f; do [ -e "$CR$f" ] && t_fail "left behind: $f"; done <"$T/want"

# ---- RPM -----------------------------------------------------------------------------------
t_without_sshrescue "make rpm: build/rpm/sshrescue-*.rpm lists what make install does for the RPM layout"
"${MK[@]}" rpm >"$T/out" 2>&1 || t_fail "make rpm: $(tail -n 20 "$T/out")"
RPM=$(ls "$TOP"/build/rpm/sshrescue-*.rpm 2>/dev/null | head -n 1)
[ -n "$RPM" ] || { t_fail "no build/rpm/sshrescue-*.rpm"; exit 1; }
LAYOUT_RPM=(PREFIX=/usr SYSTEMDUNITDIR=/usr/lib/systemd/system INITRAMFSDIR=/usr/share/initramfs-tools)
"${MK[@]}" "${LAYOUT_RPM[@]}" install-list | sort >"$T/want"
rpm -qp --qf '[%{FILEMODES:perms} %{FILEUSERNAME}:%{FILEGROUPNAME} %{FILENAMES}\n]' "$RPM" \
	2>/dev/null >"$T/rpmfiles"
awk '$1 ~ /^-/ { print $3 }' "$T/rpmfiles" | grep -v -e '^/usr/share/licenses/' | sort >"$T/got"
t_same "$T/want" "$T/got"
rpm -qlp "$RPM" 2>/dev/null | grep -qx /usr/sbin/sshrescue || t_fail "rpm -qlp has no /usr/sbin/sshrescue"

t_without_sshrescue "the RPM's file modes and owners"
awk '$1 ~ /^-/ && $2 != "root:root" { print "owner", $0 }
	$1 ~ /^-/ && $3 ~ /(sbin|bin)\/|hooks\/sshrescue$|premount\/sshrescue$|\.sh$/ && $1 != "-rwxr-xr-x" { print "mode", $0 }
	$1 ~ /^-/ && $3 ~ /\.service$|\/man[58]\/|\.example$/ && $1 != "-rw-r--r--" { print "mode", $0 }' \
	"$T/rpmfiles" >"$T/bad"
[ ! -s "$T/bad" ] || t_fail "$(cat "$T/bad")"
rpm -qp --requires "$RPM" 2>/dev/null >"$T/req"
t_grep '^libinih.so.1' "$T/req"
t_done
