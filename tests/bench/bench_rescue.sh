#!/usr/bin/env bash
# bench_rescue.sh: `sshrescue repair --image` on a 100 MiB GPT image (root + separate /var,
# locked out by tcpd and DenyHosts), every policy included, against the same one-line edit
# done by hand (loop-mount the root partition at its offset, edit hosts.deny, unmount, sync),
# side by side in one run, alternating, min/median/max of ROUNDS (5) each. Goal: the ratio of
# the medians <= 1.5.
set -eu
SSHRESCUE=${SSHRESCUE:?}
source "$(dirname "$0")/lib.sh"
W=$(mktemp -d /var/tmp/sshrescue-bench.XXXXXX)
cleanup() {
	mountpoint -q "$W/m" 2>/dev/null && umount "$W/m"
	for img in "$W"/*.img; do
		[ -e "$img" ] || continue
		losetup -j "$img" | cut -d: -f1 | xargs -r losetup -d
	done
	rm -rf "$W"
}
trap cleanup EXIT
ROOT_TYPE=0FC63DAF-8483-4772-8E79-3D69D8477DE4

mkdir -p "$W/root/etc" "$W/root/usr/lib" "$W/root/var" "$W/var/lib/denyhosts" "$W/var/log" "$W/m"
printf 'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nID=debian\n' >"$W/root/usr/lib/os-release"
ln -s ../usr/lib/os-release "$W/root/etc/os-release"
printf 'PARTLABEL=root / ext4 errors=remount-ro 0 1\nPARTLABEL=var /var ext4 defaults 0 2\n' >"$W/root/etc/fstab"
echo locked-out >"$W/root/etc/hostname"
: >"$W/root/etc/hosts.allow"
printf 'WORK_DIR = /var/lib/denyhosts\n' >"$W/root/etc/denyhosts.conf"
printf '# DenyHosts: Tue Nov 24 10:00:00 2026 | sshd: 203.0.113.5\nsshd: 203.0.113.5\nsshd: ALL\n' >"$W/root/etc/hosts.deny"
printf '203.0.113.5:40:Tue Nov 24 10:00:00 2026\n' >"$W/var/lib/denyhosts/hosts"
truncate -s 100M "$W/pristine.img"
sfdisk -q "$W/pristine.img" <<EOF
label: gpt
start=2048, size=122880, type=$ROOT_TYPE, name=root
start=124928, size=77824, type=$ROOT_TYPE, name=var
EOF
mkfs.ext4 -q -F -E offset=$((2048 * 512)) -d "$W/root" "$W/pristine.img" 61440k >/dev/null
mkfs.ext4 -q -F -E offset=$((124928 * 512)) -d "$W/var" "$W/pristine.img" 38912k >/dev/null

hand=() tool=()
for i in $(seq "$ROUNDS"); do
	cp "$W/pristine.img" "$W/hand.img"
	cp "$W/pristine.img" "$W/tool.img"
	sync
	s=$(now_ms)
	mount -o loop,offset=$((2048 * 512)),sizelimit=$((122880 * 512)) "$W/hand.img" "$W/m"
	sed -i '/^sshd: ALL$/d' "$W/m/etc/hosts.deny"
	umount "$W/m"
	sync
	hand+=($(($(now_ms) - s)))
	sync
	s=$(now_ms)
	rc=0
	"$SSHRESCUE" -q repair --image "$W/tool.img" --protect 203.0.113.0/24 >/dev/null 2>"$W/err" || rc=$?
	sync
	tool+=($(($(now_ms) - s)))
	if [ "$rc" != 1 ]; then
		echo "bench rescue: repair exited $rc, want 1 (repaired):"
		sed 's/^/  /' "$W/err" | head -5
		echo "bench rescue: goal MISSED (the repair did not run)"
		exit 0
	fi
done
h=$(median "${hand[@]}")
t=$(median "${tool[@]}")
r=$(ratio "$t" "$h")
echo "bench rescue: by hand (mount -o loop,offset + edit + umount + sync): min/median/max $(mmm "${hand[@]}") ms (${hand[*]})"
echo "bench rescue: sshrescue repair --image, every policy: min/median/max $(mmm "${tool[@]}") ms (${tool[*]})"
echo "bench rescue: ratio of the medians ${r}x (goal <= 1.5x)"
if le "$r" 1.5; then v="goal met"; else v="goal MISSED (ratio ${r}x > 1.5x)"; fi
echo "bench rescue: $v"
table "repair --image (GPT, root + /var)" "$(mmm "${tool[@]}")" "loop mount+sed+umount+sync" "$(mmm "${hand[@]}")" "${r}x" "<= 1.5x" "$v" ""
