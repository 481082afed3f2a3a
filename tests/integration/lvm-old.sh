#!/usr/bin/env bash
# lvm-old.sh: a rescue system whose lvm2 is older than 2.03.12 (Debian 11's 2.03.11, from the
# bullseyeroot fixture, run on this machine with its own ld.so and libraries through
# SSHRESCUE_LVM) has no --devices: sshrescue reads the release from `lvm version` and shows lvm
# only the instance's PVs with a devices/filter in --config instead. Judged by that lvm itself
# (it refuses --devices) and by this machine's lvm reading the VG back. This kernel has no
# device-mapper: VGs without LVs are activated, LVs themselves are tested in QEMU (rescue.sh).
source "$(dirname "$0")/../lib.sh"

command -v lvm >/dev/null || { echo "FAIL lvm-old.sh: lvm2 is missing"; exit 1; }
BR=$("$TOP/tests/fixtures/bullseyeroot") || { echo "FAIL lvm-old.sh: bullseyeroot fixture"; exit 1; }
LIBS=$BR/lib/x86_64-linux-gnu:$BR/usr/lib/x86_64-linux-gnu
LDSO=$(ls "$BR"/lib/x86_64-linux-gnu/ld-2.*.so | head -n 1)
# Debian 11's lvm, each call's arguments logged one per line (a blank line after each call)
cat >"$T/lvm-11" <<X
#!/bin/sh
printf '%s\n' "\$@" '' >>"$T/lvm-argv"
exec "$LDSO" --library-path "$LIBS" "$BR/sbin/lvm" "\$@"
X
chmod +x "$T/lvm-11"
export SSHRESCUE_LVM=$T/lvm-11 LVM_SUPPRESS_FD_WARNINGS=1

nothing_left() { # image
	for _ in $(seq 50); do [ -z "$(losetup -j "$1")" ] && break; sleep 0.1; done
	[ -z "$(losetup -j "$1")" ] || t_fail "loop devices left on $1: $(losetup -j "$1")"
}

t_precondition "the fixture's lvm is 2.03.11 and refuses --devices (what the old code gave it)"
"$T/lvm-11" version >"$T/ver" 2>&1
t_grep 'LVM version: *2\.03\.11' "$T/ver"
"$T/lvm-11" pvs --devices /dev/null >"$T/out" 2>&1 && t_fail "lvm 2.03.11 took --devices"
t_grep "unrecognized option '--devices'" "$T/out"

VG=vgold$$
t_case "lvm 2.03.11: the instance's VG is found and activated through a devices filter"
truncate -s 64M "$T/pv.img"
L=$(losetup -f --show "$T/pv.img")
t_defer "losetup -d $L 2>/dev/null"
lvm pvcreate -q --devices "$L" "$L" >/dev/null && lvm vgcreate -q --devices "$L" "$VG" "$L" >/dev/null ||
	t_fail "vgcreate"
uuid=$(lvm vgs --devices "$L" --noheadings -o vg_uuid | tr -d ' ')
losetup -d "$L"
: >"$T/lvm-argv"
t_expect_exit 8 "$SSHRESCUE" repair --image "$T/pv.img"
t_no_grep 'lvm pvs failed' "$T/err"
t_no_grep 'unrecognized option' "$T/err"
t_grep "volume group $VG: no logical volumes" "$T/err"
t_no_grep '^--devices$' "$T/lvm-argv"
for cmd in pvs vgchange; do
	awk -v c="$cmd" 'BEGIN { RS = "" } $0 ~ "(^|\n)" c "\n" && /devices \{ filter = \[ "a\|\^\/dev\/loop[0-9]+p?[0-9]*\$\|", "r\|\.\*\|" \] \}/ { n++ }
		END { exit !n }' "$T/lvm-argv" || t_fail "no lvm $cmd with the instance's filter: $(cat "$T/lvm-argv")"
done
nothing_left "$T/pv.img"

t_case "lvm 2.03.11: check activates read-only, in the same --config as the filter"
: >"$T/lvm-argv"
t_expect_exit 8 "$SSHRESCUE" check --image "$T/pv.img"
t_grep "volume group $VG: no logical volumes" "$T/err"
grep -q '^devices { filter = \[ .* \] } activation { read_only_volume_list = \[ "'"$VG"'" \] }$' "$T/lvm-argv" ||
	t_fail "no read-only activation with the filter: $(cat "$T/lvm-argv")"
nothing_left "$T/pv.img"

t_case "lvm 2.03.11: a VG whose name the running system uses is renamed for the run, then back"
truncate -s 64M "$T/pv-sys.img"
LS=$(losetup -f --show "$T/pv-sys.img")
t_defer "losetup -d $LS 2>/dev/null"
lvm pvcreate -q --devices "$LS" "$LS" >/dev/null && lvm vgcreate -q --devices "$LS" "$VG" "$LS" >/dev/null ||
	t_fail "vgcreate of the system's VG"
: >"$T/lvm-argv"
t_expect_exit 8 "$SSHRESCUE" repair --image "$T/pv.img"
t_grep "volume group $VG: activated as ${VG}_sshrescue[0-9]* for the run" "$T/err"
t_no_grep '^--devices$' "$T/lvm-argv"
grep -q '^vgrename$' "$T/lvm-argv" || t_fail "no vgrename: $(cat "$T/lvm-argv")"
nothing_left "$T/pv.img"
L=$(losetup -f --show -r "$T/pv.img")
t_defer "losetup -d $L 2>/dev/null"
[ "$(lvm vgs --devices "$L" --noheadings -o vg_name,vg_uuid | tr -s ' ' | sed 's/^ //')" = "$VG $uuid" ] ||
	t_fail "the instance's VG is now: $(lvm vgs --devices "$L" --noheadings -o vg_name,vg_uuid)"
[ "$(lvm vgs --devices "$LS" --noheadings -o vg_name | tr -d ' ')" = "$VG" ] ||
	t_fail "the system's VG was touched"
losetup -d "$L"
losetup -d "$LS"

t_case "lvm 2.03.16 (this machine's): still --devices"
cat >"$T/lvm-12" <<X
#!/bin/sh
printf '%s\n' "\$@" '' >>"$T/lvm-argv"
exec $(command -v lvm) "\$@"
X
chmod +x "$T/lvm-12"
: >"$T/lvm-argv"
SSHRESCUE_LVM=$T/lvm-12 t_expect_exit 8 "$SSHRESCUE" repair --image "$T/pv.img"
t_grep "volume group $VG: no logical volumes" "$T/err"
t_grep '^--devices$' "$T/lvm-argv"
t_no_grep 'filter' "$T/lvm-argv"
nothing_left "$T/pv.img"
t_done
